/* Nexus nodes: the devices of an edge node on a fixed step, the node configuration format
 * (plurigrid-node/1, docs/node-format.md), the four profiles of the protocol (0 off-grid battery
 * sharing, 1 residential, 2 commercial building, 3 data center), the controllers that turn a
 * node's state and forecast into a plan and a bid curve, and demand-response events in the
 * OpenADR 2.0b vocabulary. The device equations are in docs/devices.md.
 *
 * Units: power kW, energy kWh (per interval), time h, temperature degrees C, prices $/kWh.
 * Sign convention at the meter and in bids: > 0 imports (buys), < 0 exports (sells).
 *
 * One interval of a node:
 *   1. pg_node_bid: the controller sees the node (pg_node_view: state, the forecast of the
 *      coming intervals, prices, active demand-response events) and returns a plan for its
 *      flexible devices and a bid curve (pg_market_point, market.h).
 *   2. The market clears; the node is told what it bought or sold.
 *   3. pg_node_operate: the devices run the interval on the actual inputs, following the plan
 *      as far as their physics allow, and the smart meter records import and export.
 * A node is transport-free: it is called, it never calls out. The community runner (and the
 * lattice daemons) deliver its inputs and carry its bids. */
#ifndef PLURIGRID_NODE_H
#define PLURIGRID_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/market.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- demand response */

/* An OpenADR 2.0b event, reduced to what a node acts on: an eiEvent with one eiEventSignal.
 * SIMPLE signals carry levels 0 (normal) to 3 (high); ELECTRICITY_PRICE signals a price in
 * $/kWh; LOAD_DISPATCH a target reduction in kW. Times are hours from the start of the run. */
typedef enum {
    PG_DR_SIMPLE = 0,
    PG_DR_PRICE = 1,
    PG_DR_LOAD_DISPATCH = 2,
} pg_dr_signal;

#define PG_DR_MAX_INTERVALS 96

typedef struct pg_dr_event {
    char id[64];           /* eventID */
    uint32_t modification; /* modificationNumber: a higher one replaces the event */
    double start_h;        /* dtstart, h from the start of the run */
    double duration_h;     /* the event's duration, h (the sum of its intervals) */
    double notice_h;       /* x-eiNotification: how long before start it is announced */
    pg_dr_signal signal;   /* signalType */
    size_t n_intervals;    /* 1..PG_DR_MAX_INTERVALS */
    double interval_h[PG_DR_MAX_INTERVALS];     /* each interval's duration, h */
    double interval_value[PG_DR_MAX_INTERVALS]; /* level, $/kWh or kW, per signal */
    bool cancelled;                             /* eventStatus cancelled */
} pg_dr_event;

/* The signal's value at time h, or NaN when the event is not active then. */
PG_API double pg_dr_event_value(const pg_dr_event *e, double h);

/* ---------------------------------------------------------------- configuration */

typedef enum {
    PG_NODE_OFFGRID = 0,     /* Configuration 0: off-grid, solar home system, battery sharing */
    PG_NODE_RESIDENTIAL = 1, /* Configuration 1 */
    PG_NODE_COMMERCIAL = 2,  /* Configuration 2: commercial building */
    PG_NODE_DATACENTER = 3,  /* Configuration 3 */
} pg_node_profile;

PG_API const char *pg_node_profile_name(pg_node_profile p);

/* A node's configuration (devices with their parameters, profile, controller), read from a
 * plurigrid-node/1 document. Opaque; read-only once made. */
typedef struct pg_node_config pg_node_config;

/* Reads a configuration from path (pg_input_read rules). Errors name the file, line and JSON path
 * (PG_EPARSE, PG_EMODEL). *out is written only on success; pg_node_config_free frees it. */
PG_API int pg_node_config_read(pg_node_config **out, const char *path, pg_error *err);
/* The same from text (len bytes; file is the name errors give). Borrows text. */
PG_API int pg_node_config_parse(pg_node_config **out, const char *file, const char *text,
                                size_t len, pg_error *err);
PG_API void pg_node_config_free(pg_node_config *c);

PG_API const char *pg_node_config_name(const pg_node_config *c);
PG_API pg_node_profile pg_node_config_profile(const pg_node_config *c);
/* The config's inputs: the named series its devices read ("load", "pv", "outdoor_temp", ...),
 * which whoever runs the node supplies, in this order, in pg_node_env.inputs. */
PG_API size_t pg_node_config_n_inputs(const pg_node_config *c);
PG_API const char *pg_node_config_input(const pg_node_config *c, size_t i);
/* The numeric member key of the config's "controller" object, or dflt when it is absent. */
PG_API double pg_node_config_param(const pg_node_config *c, const char *key, double dflt);
/* The file member key of the config's "controller" object (one of its controller's
 * file_params), as a path relative to the current folder: a relative name in the document is
 * taken from the folder of the file that holds it. NULL when absent. Borrowed from c. */
PG_API const char *pg_node_config_file(const pg_node_config *c, const char *key);

/* ---------------------------------------------------------------- running a node */

/* What the node is told at the start of an interval. */
typedef struct pg_node_env {
    size_t t;                      /* interval index from the start of the run */
    double hours;                  /* interval length, h (1/3600 to 24) */
    double time_h;                 /* start of the interval, h from the start of the run */
    double hour_of_day;            /* start of the interval, 0 <= h < 24 */
    size_t horizon;                /* intervals of forecast below (>= 1; [0] is this interval) */
    const double *retail;          /* [horizon] grid import price, $/kWh */
    const double *feed_in;         /* [horizon] grid export price, $/kWh */
    bool grid_connected;           /* false: off-grid, no import or export */
    const double *const *forecast; /* per config input: [horizon] forecast values */
    const double *actual;          /* per config input: the actual value this interval */
    size_t n_events;               /* demand-response events delivered and not yet over */
    const pg_dr_event *events;
} pg_node_env;

/* What a controller sees: the node's flexible resources summed by kind, the inflexible demand
 * forecast, and the environment. Devices of one kind are aggregated (docs/devices.md says how a
 * plan is shared among them). */
typedef struct pg_node_view {
    const pg_node_env *env;
    pg_node_profile profile;
    const double *fixed_kwh; /* [horizon] inflexible load forecast (fixed loads, lighting, IT
                                base, cooling of the base), kWh per interval */
    const double *pv_kwh;    /* [horizon] PV forecast, kWh per interval */

    /* storage: every battery of the node, including docked portable ones */
    double soc_kwh, soc_min_kwh, soc_max_kwh;
    double charge_max_kw, discharge_max_kw;
    double eta_charge, eta_discharge;

    /* EV: energy still needed before departure, intervals until departure (0: not plugged) */
    double ev_need_kwh, ev_max_kw;
    size_t ev_departs_in;

    /* thermostatic load / building HVAC */
    bool thermal;
    double temp_c, setpoint_c, deadband_c; /* indoor temperature, setpoint, half-width */
    double hvac_max_kw;                    /* electric power at full output */
    const double *outdoor_c;               /* [horizon] or NULL */

    /* shiftable loads and deferrable data-center jobs: energy to run before the deadline */
    double shift_need_kwh, shift_max_kw;
    size_t shift_deadline_in;

    /* backup generator */
    double gen_max_kw, gen_cost; /* $/kWh */

    /* the energy the thermostats and HVAC would use this interval running on their own around
       their setpoints (kWh, 0 without thermal load): what they take when the plan leaves
       hvac_kw NaN */
    double hvac_self_kwh;
} pg_node_view;

#define PG_NODE_MAX_POINTS 16 /* the wire format of bids (docs/lattice.md) says the same */
/* Longest reason a plan gives for "no bid", with its terminating NUL. */
#define PG_NODE_NO_BID_MAX 160

/* A controller's decision for one interval. Device setpoints are clamped by the devices'
 * physics when the interval runs. */
typedef struct pg_node_plan {
    double battery_kw;        /* > 0 charge, < 0 discharge */
    double ev_kw;             /* >= 0 */
    double hvac_kw;           /* >= 0, or NaN: let the thermostat run on its own */
    double setpoint_offset_c; /* demand response: how far the setpoint moves (0 none) */
    double shift_kw;          /* >= 0: shiftable load and deferred jobs run now */
    double generator_kw;      /* >= 0 */
    size_t n_points;          /* the bid curve, 0..PG_NODE_MAX_POINTS points */
    pg_market_point curve[PG_NODE_MAX_POINTS];
    /* Empty when the controller decided. Otherwise why it could not this interval (a sandboxed
       strategy that trapped, ran past its time or memory, or returned a malformed bid): the
       plan is then "no bid", no points and idle devices, and the node keeps running. */
    char no_bid[PG_NODE_NO_BID_MAX];
} pg_node_plan;

/* A controller: one row of the table. params is its section of the node config (may be empty);
 * state is the controller's own. A controller that runs code it does not trust (wasm) turns
 * every failure of that code into a plan with no_bid set and returns PG_OK; an error return
 * stops whoever runs the node. */
typedef struct pg_node_controller {
    const char *name; /* "rules", "lp", "aif" */
    const char *summary;
    const char *const *params; /* NULL-terminated names of the numeric parameters its section of
                                  the node config takes */
    int (*create)(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err);
    int (*plan)(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err);
    void (*destroy)(void *state);
    const char *const *file_params; /* NULL-terminated names of the file-name parameters its
                                       section takes (pg_node_config_file); NULL: none */
} pg_node_controller;

PG_API const pg_node_controller *pg_node_controller_find(const char *name, pg_error *err);
PG_API const pg_node_controller *pg_node_controllers(size_t *n);

/* What an interval did, from the node's meter and devices (kWh over the interval unless said). */
typedef struct pg_node_step {
    double import_kwh, export_kwh; /* smart meter */
    double load_kwh;               /* energy used by every load, battery charging excluded */
    double pv_kwh;                 /* PV generated and used or exported */
    double pv_spilled_kwh;         /* PV curtailed because nothing could take it */
    double battery_in_kwh, battery_out_kwh; /* at the battery terminals */
    double soc_kwh;                         /* stored at the end of the interval */
    double generator_kwh;
    double unserved_kwh;  /* demand not met (off-grid; an EV short at departure: ev_short_kwh) */
    double ev_kwh;        /* EV charging */
    double ev_short_kwh;  /* energy an EV lacked at departure this interval */
    double temp_c;        /* indoor temperature at the end (NaN without thermal load) */
    double comfort_dev_c; /* how far outside the (event-adjusted) deadband it ended, >= 0 */
    double deferred_kwh;  /* shiftable and deferrable work still waiting */
} pg_node_step;

typedef struct pg_node pg_node;

/* Makes a node from cfg (borrowed: it must outlive the node), as node index of its community,
 * with its controller and its own random stream from seed. */
PG_API int pg_node_new(pg_node **out, const pg_node_config *cfg, uint32_t index, uint64_t seed,
                       pg_error *err);
PG_API void pg_node_free(pg_node *n);
PG_API uint32_t pg_node_index(const pg_node *n);

/* Step 1: plan the interval and bid. The plan is kept for pg_node_operate; the bid curve is in
 * plan->curve. */
PG_API int pg_node_bid(pg_node *n, const pg_node_env *env, pg_node_plan *plan, pg_error *err);

/* Step 3: runs the devices for the interval on env->actual, following the plan of pg_node_bid as
 * adjusted by what the market cleared (cleared_kwh, > 0 bought, < 0 sold, at price $/kWh): the
 * node honours its sales from storage where it can. Fills *out. */
PG_API int pg_node_operate(pg_node *n, const pg_node_env *env, double cleared_kwh, double price,
                           pg_node_step *out, pg_error *err);

/* Portable batteries (off-grid sharing): the node's docked portable packs. dock adds a pack
 * (energy and power as the config's portable battery kind, state of charge soc_kwh); undock
 * removes pack id and returns its state of charge. */
PG_API int pg_node_dock(pg_node *n, uint32_t pack, double capacity_kwh, double power_kw,
                        double soc_kwh, pg_error *err);
PG_API int pg_node_undock(pg_node *n, uint32_t pack, double *soc_kwh, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
