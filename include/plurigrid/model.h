/* The microworld data model: a power system as plain C structs (buses, branches, loads, thermal
 * units, renewable units, storage and the time series that drive loads and renewables).
 *
 * Units at this boundary: MW, MVAr, MVA, MWh, kV, $, hours, degrees. Two quantities are in per
 * unit because every power-system tool states them that way: voltage magnitudes (p.u. of the bus
 * base kV) and branch impedances (p.u. on the system base MVA and the bus base kV). Everything
 * else that is per unit lives inside the power-flow code only.
 *
 * A pg_world owns every string and array reachable from it. Components refer to buses and series
 * by index into the world's arrays. Build worlds with pg_world_new() and the pg_world_add_*()
 * functions, or read them with the readers in io.h; check them with pg_world_validate(). */
#ifndef PLURIGRID_MODEL_H
#define PLURIGRID_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "No index": a component without a time series, an unknown bus, ... */
#define PG_NONE ((size_t)-1)

/* The range of a world's base_mva, MVA: 1 kVA to 1 TVA. The base only scales powers into per
 * unit inside the solvers; real systems use 1 to 1000 MVA (MATPOWER's cases use 100). A base far
 * outside this range turns ordinary powers into per-unit values whose squares leave the range of
 * double precision numbers, so it is refused rather than solved into inf or NaN. */
#define PG_BASE_MVA_MIN 1e-3
#define PG_BASE_MVA_MAX 1e6

/* The most steps a horizon over a world's time series may have: the steps of a schedule, or the
 * steps resampling the series to another step length makes (100000 hours is over 11 years).
 * Longer horizons are refused (PG_EINVAL) before anything their size is allocated. */
#define PG_MAX_STEPS 100000

typedef enum {
    PG_BUS_PQ = 1,       /* load bus: P and Q given */
    PG_BUS_PV = 2,       /* generator bus: P and |V| given */
    PG_BUS_REF = 3,      /* reference (slack) bus: |V| and angle given */
    PG_BUS_ISOLATED = 4, /* out of service */
} pg_bus_type;

typedef struct pg_bus {
    char *name; /* unique within the world */
    int number; /* external bus number (MATPOWER BUS_I), unique, > 0 */
    pg_bus_type type;
    double base_kv; /* kV */
    double vm;      /* voltage magnitude, p.u.: initial value for power flow */
    double va;      /* voltage angle, degrees: initial value (the reference bus keeps it) */
    double vmin;    /* p.u. */
    double vmax;    /* p.u. */
    double gs;      /* shunt conductance: MW consumed at 1.0 p.u. voltage */
    double bs;      /* shunt susceptance: MVAr injected at 1.0 p.u. voltage */
    int area;       /* area number (informational) */
    int zone;       /* loss zone (informational) */
    /* Where the bus is drawn (the grid designer's one-line diagram), in drawing units (the
     * designer's pixels at zoom 1, y down); NaN (pg_bus_init) when not placed. Only drawings use
     * them: no solver reads them. A placed bus has both, each within +-PG_POSITION_MAX. */
    double x, y;
} pg_bus;

/* The largest drawing coordinate (either sign) pg_world_validate and the readers accept. */
#define PG_POSITION_MAX 1e9

typedef enum {
    PG_BRANCH_LINE = 0,        /* transmission or distribution line: pi model */
    PG_BRANCH_TRANSFORMER = 1, /* two-winding transformer: pi model behind an ideal tap changer */
} pg_branch_kind;

/* Lines and transformers share one array so that their order (which MATPOWER's branch matrix
 * fixes and reference solutions follow) is kept. */
typedef struct pg_branch {
    char *name;
    pg_branch_kind kind;
    size_t from;   /* bus index; for transformers the tap side */
    size_t to;     /* bus index */
    double r;      /* series resistance, p.u. */
    double x;      /* series reactance, p.u. */
    double b;      /* total line-charging susceptance, p.u. */
    double rate_a; /* long-term rating, MVA; 0 = unlimited */
    double rate_b; /* short-term rating, MVA; 0 = unlimited */
    double rate_c; /* emergency rating, MVA; 0 = unlimited */
    double tap;    /* off-nominal turns ratio, p.u. (> 0); lines have 1 */
    double shift;  /* phase shift, degrees (to-bus voltage lags by it); lines have 0 */
    double angmin; /* minimum angle difference from - to, degrees (-360 = none) */
    double angmax; /* maximum angle difference, degrees (360 = none) */
    bool in_service;
} pg_branch;

/* A time series: values at a fixed step. Loads use series as multipliers of their nominal P or Q;
 * renewables use them as available power as a fraction of their rating (0..1). */
typedef struct pg_series {
    char *name;    /* unique within the world */
    double step_h; /* step length, hours (> 0) */
    size_t n;      /* number of values (> 0) */
    double *values;
} pg_series;

typedef struct pg_load {
    char *name;
    size_t bus;
    double p;        /* nominal active power, MW */
    double q;        /* nominal reactive power, MVAr */
    size_t p_series; /* series index scaling p per step, or PG_NONE (constant) */
    size_t q_series; /* series index scaling q per step, or PG_NONE (constant) */
    bool in_service;
} pg_load;

typedef enum {
    PG_COST_NONE = 0,       /* no variable cost */
    PG_COST_PIECEWISE = 1,  /* piecewise linear through points (MATPOWER model 1) */
    PG_COST_POLYNOMIAL = 2, /* polynomial in P (MATPOWER model 2) */
} pg_cost_model;

/* A variable cost curve C(P) in $/h for output P in MW. */
typedef struct pg_cost {
    pg_cost_model model;
    size_t n;     /* polynomial: number of coefficients; piecewise: number of points */
    double *coef; /* polynomial: coef[k] multiplies P^k (coef[0] $/h, coef[1] $/MWh, coef[2]
                     $/MW^2h, ...); NULL otherwise */
    double *px;   /* piecewise: breakpoints, MW, increasing; NULL otherwise */
    double *py;   /* piecewise: cost at each breakpoint, $/h */
} pg_cost;

/* A dispatchable thermal unit (or any MATPOWER generator). */
typedef struct pg_thermal {
    char *name;
    size_t bus;
    bool in_service;     /* available to run */
    double p;            /* active power setpoint, MW (power flow input, dispatch initial output) */
    double q;            /* reactive power, MVAr (power flow initial value at PV buses) */
    double pmin;         /* MW, when committed */
    double pmax;         /* MW */
    double qmin;         /* MVAr */
    double qmax;         /* MVAr */
    double vg;           /* voltage setpoint, p.u. */
    double mbase;        /* machine base, MVA */
    double ramp_up;      /* MW/h; 0 = unlimited */
    double ramp_down;    /* MW/h; 0 = unlimited */
    double min_up_h;     /* minimum up time, hours */
    double min_down_h;   /* minimum down time, hours */
    bool initial_on;     /* committed at the start of a horizon */
    double initial_h;    /* hours it has been in that state at the start */
    pg_cost cost;        /* variable cost curve */
    double fixed_cost;   /* $/h while committed (no-load cost) */
    double startup_cost; /* $ per start */
    double shutdown_cost; /* $ per stop */
} pg_thermal;

typedef enum {
    PG_TECH_SOLAR = 0,
    PG_TECH_WIND = 1,
    PG_TECH_HYDRO = 2,
    PG_TECH_OTHER = 3,
} pg_technology;

/* A renewable unit: output up to its availability, the rest is curtailed. */
typedef struct pg_renewable {
    char *name;
    size_t bus;
    bool in_service;
    pg_technology technology;
    double rating;       /* MW */
    double power_factor; /* cos(phi) in (0, 1]; Q = P tan(acos(pf)) */
    size_t availability; /* series index (fraction of rating per step), or PG_NONE (always 1) */
    double cost;         /* variable cost, $/MWh (usually 0) */
    double p;            /* active power setpoint, MW (power flow input) */
    double q;            /* reactive power setpoint, MVAr (power flow input) */
} pg_renewable;

/* Storage (battery, pumped hydro): state of charge in MWh. */
typedef struct pg_storage {
    char *name;
    size_t bus;
    bool in_service;
    double energy_mwh;  /* usable capacity, MWh */
    double soc_min_mwh; /* lowest allowed state of charge, MWh */
    double soc_initial_mwh;
    double soc_target_mwh; /* at the end of a horizon; < 0 = no target */
    double charge_mw;      /* maximum charging power, MW */
    double discharge_mw;   /* maximum discharging power, MW */
    double eff_charge;     /* (0, 1] */
    double eff_discharge;  /* (0, 1] */
    double cost;           /* throughput cost, $/MWh discharged (wear) */
    double p;              /* setpoint, MW, > 0 discharging into the grid (power flow input) */
    double q;              /* MVAr (power flow input) */
} pg_storage;

typedef struct pg_world {
    char *name;
    char *description; /* free text, may be NULL */
    double base_mva;   /* system base, MVA (> 0) */

    pg_bus *buses;
    size_t n_buses;
    size_t cap_buses;
    pg_branch *branches;
    size_t n_branches;
    size_t cap_branches;
    pg_series *series;
    size_t n_series;
    size_t cap_series;
    pg_load *loads;
    size_t n_loads;
    size_t cap_loads;
    pg_thermal *thermals;
    size_t n_thermals;
    size_t cap_thermals;
    pg_renewable *renewables;
    size_t n_renewables;
    size_t cap_renewables;
    pg_storage *storages;
    size_t n_storages;
    size_t cap_storages;
} pg_world;

/* Creates an empty world; base_mva must be in [PG_BASE_MVA_MIN, PG_BASE_MVA_MAX]. Copies name.
 * *out is written only on success. */
PG_API int pg_world_new(pg_world **out, const char *name, double base_mva, pg_error *err);

/* Frees the world and everything it owns. Accepts NULL. */
PG_API void pg_world_free(pg_world *w);

/* Deep copy. *out is written only on success. */
PG_API int pg_world_clone(pg_world **out, const pg_world *w, pg_error *err);

/* Initialise a component with the documented defaults (name NULL, in service, vm 1, vmax 1.1,
 * vmin 0.9, tap 1, efficiencies 1, series PG_NONE, ...). */
PG_API void pg_bus_init(pg_bus *b);
PG_API void pg_branch_init(pg_branch *br);
PG_API void pg_load_init(pg_load *l);
PG_API void pg_thermal_init(pg_thermal *t);
PG_API void pg_renewable_init(pg_renewable *r);
PG_API void pg_storage_init(pg_storage *s);

/* Adders copy the component into the world, deep-copying its strings and arrays (the caller keeps
 * its own); they check only what can be checked locally (a name is present and unique, indices in
 * range). The index of the new component is written to *index when index is not NULL. */
PG_API int pg_world_add_bus(pg_world *w, const pg_bus *b, size_t *index, pg_error *err);
PG_API int pg_world_add_branch(pg_world *w, const pg_branch *br, size_t *index, pg_error *err);
PG_API int pg_world_add_series(pg_world *w, const char *name, double step_h, const double *values,
                               size_t n, size_t *index, pg_error *err);
PG_API int pg_world_add_load(pg_world *w, const pg_load *l, size_t *index, pg_error *err);
PG_API int pg_world_add_thermal(pg_world *w, const pg_thermal *t, size_t *index, pg_error *err);
PG_API int pg_world_add_renewable(pg_world *w, const pg_renewable *r, size_t *index, pg_error *err);
PG_API int pg_world_add_storage(pg_world *w, const pg_storage *s, size_t *index, pg_error *err);

/* Sets (copies) a polynomial or piecewise cost into c, freeing what c held. */
PG_API int pg_cost_set_polynomial(pg_cost *c, const double *coef, size_t n, pg_error *err);
PG_API int pg_cost_set_piecewise(pg_cost *c, const double *px, const double *py, size_t n,
                                 pg_error *err);
PG_API void pg_cost_clear(pg_cost *c);
/* C(p) in $/h; 0 for PG_COST_NONE. Piecewise curves extrapolate their end segments. */
PG_API double pg_cost_eval(const pg_cost *c, double p_mw);
/* dC/dp at p in $/MWh: the polynomial's derivative, or the slope of the piecewise segment that
 * pg_cost_eval uses at p; 0 for PG_COST_NONE. */
PG_API double pg_cost_marginal(const pg_cost *c, double p_mw);

/* Look-ups; return PG_NONE when absent. */
PG_API size_t pg_world_find_bus(const pg_world *w, const char *name);
PG_API size_t pg_world_find_bus_number(const pg_world *w, int number);
PG_API size_t pg_world_find_series(const pg_world *w, const char *name);

/* Full consistency check: at least one bus, base_mva in [PG_BASE_MVA_MIN, PG_BASE_MVA_MAX],
 * finite numbers, limits ordered (pmin <= pmax, vmin <= vmax, ...), efficiencies in (0, 1],
 * unique names and bus numbers, series non-empty. Reports the first problem with its component
 * ("thermal 'diesel': pmin 60 MW > pmax 50 MW"). */
PG_API int pg_world_validate(const pg_world *w, pg_error *err);

/* The number of steps the world's series define (the longest series), and their common step
 * length in hours; 0 steps and step 1 h when the world has no series. Fails with PG_EMODEL when
 * series attached to components have different step lengths. */
PG_API int pg_world_horizon(const pg_world *w, size_t *n_steps, double *step_h, pg_error *err);

/* A copy of the world as it is at step k of its series: loads scaled by their series and no
 * longer attached to them, renewables' setpoints p at availability x rating (q from their power
 * factor), each availability series cut to the one value of step k (so the copy can still be
 * dispatched, and its step 0 is the copy itself), series nothing uses any more left out. Fails
 * (PG_EMODEL) when a series a component uses has no step k: series do not repeat. *out is
 * written only on success. Borrows w. */
PG_API int pg_world_at_step(pg_world **out, const pg_world *w, size_t step, pg_error *err);

/* Compares two worlds field by field: numbers exactly (NaN equals NaN), strings by content,
 * indices, series values, cost curves. Returns true when they are equal; otherwise false and,
 * when diff is not NULL, a description of the first difference ("thermals[3].pmax: 250 vs 251")
 * in diff (at most size bytes). Borrows both worlds. */
PG_API bool pg_world_equal(const pg_world *a, const pg_world *b, char *diff, size_t size);

/* Places the buses of w on a drawing (pg_bus.x, .y) so that a one-line diagram of the network is
 * readable: buses joined by branches near each other, no two buses closer than
 * PG_LAYOUT_MIN_GAP, few crossing branches. Deterministic: the same world gives the same
 * positions on every machine. all: place every bus; otherwise only those without a position
 * (either coordinate NaN), the placed ones staying where they are. Buses of one island are kept
 * together and islands are drawn side by side. PG_ELIMIT for more than PG_LAYOUT_MAX_BUSES buses
 * (w unchanged). Writes w's positions only on success. */
#define PG_LAYOUT_MIN_GAP 40.0
#define PG_LAYOUT_MAX_BUSES 20000
PG_API int pg_world_layout(pg_world *w, bool all, pg_error *err);

/* Sum of in-service load P at step k (MW), series applied; k = PG_NONE for nominal values. NaN
 * when a series an in-service load uses has no step k. */
PG_API double pg_world_load_mw(const pg_world *w, size_t step);

#ifdef __cplusplus
}
#endif
#endif
