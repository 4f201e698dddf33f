/* The device models of a node (docs/devices.md): one row of the device table per kind, with the
 * functions that read its parameters from a node config, bring its state to the start of an
 * interval, add it to the controller's view and run it for an interval. Batteries have no step
 * function: the node runs them last, when it balances the interval (node.c). */
#ifndef PG_NODE_DEVICES_H
#define PG_NODE_DEVICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/json_read.h"
#include "node/internal.h"
#include "plurigrid/rng.h"

/* The biggest power (kW) or energy (kWh) a device parameter may have. */
#define PGI_DEV_MAX 1e9
/* The smallest a parameter that must be more than 0 may be. */
#define PGI_DEV_MIN 1e-6

/* A deferrable data-center job: energy still to run and its deadline (h from the start). */
typedef struct pgi_job {
    double kwh, deadline_h;
} pgi_job;

/* A device's state. Batteries (config ones and docked portable packs) carry their own capacity
 * and power so that a pack docked from elsewhere keeps its size. */
typedef struct pgi_dev {
    const pgi_dev_cfg *cfg;
    uint32_t pack; /* portable packs: the pack id */
    double capacity_kwh, charge_kw, discharge_kw, soc_kwh;
    /* EV */
    bool plugged;
    double need_kwh, depart_at_h, arrive_jitter_h, short_kwh;
    /* thermostat, HVAC */
    double temp_c;
    /* shiftable load */
    double shift_need_kwh, shift_deadline_h;
    /* data-center jobs, earliest deadline first */
    pgi_job *jobs;
    size_t n_jobs, cap_jobs;
    /* generator: committed on until this time (h), at least at this power (kW) */
    double gen_until_h, gen_min_kw;
} pgi_dev;

/* What a config reader gives a kind's read function: the config being built, so that a device can
 * name the inputs it reads. */
int pgi_config_add_input(pgi_jr *r, pg_node_config *c, const char *name, size_t *idx);

/* The interval a step runs in and the plan shares still to hand out, consumed in device order by
 * the devices of each kind, and the energies the steps add up (kWh). */
typedef struct pgi_step_ctx {
    const pg_node_env *env;
    double dt;
    double ev_kw, shift_kw, gen_kw; /* plan remainders */
    double hvac_kw;                 /* NaN: thermostats run themselves */
    double setpoint_offset_c;
    double load, pv, ev, gen, gen_min; /* gen_min: committed generator energy */
    double temp_c, comfort_dev_c;
    double deferred;
    double ev_short;
} pgi_step_ctx;

/* The controller's view being built (node.c owns the arrays, [horizon] each). */
typedef struct pgi_view_ctx {
    const pg_node_env *env;
    pg_node_view *v;
    double *fixed, *pv; /* [horizon], summed into */
    double *outdoor;    /* [horizon] for a thermal device without an outdoor input */
    bool have_thermal;
    double shift_deadline_h; /* earliest deadline so far (+inf none) */
} pgi_view_ctx;

typedef struct pgi_dev_type {
    const char *name;
    const char *summary;
    const char *const *keys; /* the kind's parameter keys, NULL-terminated (besides kind, name) */
    int (*read)(pgi_jr *r, const json_t *obj, pg_node_config *c, pgi_dev_cfg *d);
    void (*start)(pgi_dev *d, const pg_node_env *env, pg_rng *rng); /* first interval */
    int (*advance)(pgi_dev *d, const pg_node_env *env, pg_rng *rng, pg_error *err);
    void (*view)(const pgi_dev *d, pgi_view_ctx *vc);
    void (*step)(pgi_dev *d, pgi_step_ctx *cx);
} pgi_dev_type;

extern const pgi_dev_type pgi_dev_types[PGI_DEV_N];

/* The kind called name, or NULL. */
const pgi_dev_type *pgi_dev_type_find(const char *name, pgi_dev_kind *kind);

/* Sets up d for cfg (state at rest; start runs at the first interval). */
void pgi_dev_init(pgi_dev *d, const pgi_dev_cfg *cfg);
void pgi_dev_release(pgi_dev *d);

/* Batteries: the most energy (kWh at the terminals) the battery can take in or give out over dt
 * hours, and applying a terminal flow (> 0 charge, < 0 discharge) within those. */
double pgi_bat_in_max(const pgi_dev *d, double dt);
double pgi_bat_out_max(const pgi_dev *d, double dt);
void pgi_bat_apply(pgi_dev *d, double kwh);
bool pgi_dev_is_battery(const pgi_dev *d);

/* (x mod 24) in [0, 24). */
double pgi_hour_mod(double x);

#endif
