/* The node module's internals: a node config as read from a plurigrid-node/1 document (its
 * devices' parameters, inputs and controller section), shared by the reader (config.c), the
 * device models (devices.c) and the node (node.c). */
#ifndef PG_NODE_INTERNAL_H
#define PG_NODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/node.h"

/* Device kinds, in the order of the device table (devices.c). */
typedef enum {
    PGI_DEV_PV = 0,
    PGI_DEV_BATTERY,
    PGI_DEV_PORTABLE,
    PGI_DEV_EV,
    PGI_DEV_THERMOSTAT,
    PGI_DEV_FIXED,
    PGI_DEV_SHIFTABLE,
    PGI_DEV_HVAC,
    PGI_DEV_LIGHTING,
    PGI_DEV_IT,
    PGI_DEV_GENERATOR,
    PGI_DEV_N
} pgi_dev_kind;

#define PGI_NO_INPUT ((size_t)-1)

/* One device of a config: its kind, name, the inputs it reads (indices into the config's inputs,
 * PGI_NO_INPUT when it reads none) and its parameters (docs/devices.md, docs/node-format.md). */
typedef struct pgi_dev_cfg {
    pgi_dev_kind kind;
    char *name;
    size_t input;   /* pv: availability; fixed: load; it: IT kW; lighting: occupancy */
    size_t outdoor; /* thermostat, hvac: outdoor temperature */
    union {
        struct {
            double kw_peak;
        } pv;
        struct { /* battery and portable battery */
            double capacity_kwh, charge_kw, discharge_kw, eta_charge, eta_discharge;
            double soc_min, soc_max, soc_init; /* fractions of capacity */
            uint32_t pack;                     /* portable: the pack's id */
            bool docked;                       /* portable: docked at the start */
        } bat;
        struct {
            double arrive_h, depart_h, need_kwh, charger_kw, capacity_kwh, jitter_h;
        } ev;
        struct { /* thermostat and hvac */
            double r_c_per_kw, c_kwh_per_c, cop, max_kw, setpoint_c, deadband_c, initial_c;
            double outdoor_c;                       /* when no outdoor input */
            double occ_from_h, occ_to_h, setback_c; /* hvac: occupied hours, setback outside */
            bool heating;
        } th;
        struct {
            double scale, kw; /* input x scale, or kw constant without an input */
        } fixed;
        struct {
            double energy_kwh, power_kw, earliest_h, deadline_h;
        } shift;
        struct {
            double kw;
            double occupancy[24];
        } light;
        struct {
            double base_kw, scale, pue, jobs_per_day, job_kwh, job_kw, job_window_h;
        } it;
        struct {
            double max_kw, min_kw, cost, min_run_h;
        } gen;
    } p;
} pgi_dev_cfg;

struct pg_node_config {
    char *name;
    pg_node_profile profile;
    bool grid_connected;
    const pg_node_controller *controller;
    size_t n_params;
    char **param_key;
    double *param_val;
    size_t n_files; /* the controller's file parameters, paths resolved (pg_node_config_file) */
    char **file_key;
    char **file_val;
    size_t n_devices;
    pgi_dev_cfg *devices;
    size_t n_inputs;
    char **inputs;
};

#endif
