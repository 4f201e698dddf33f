/* Day-ahead scheduling of a microworld: unit commitment (a mixed-integer program), economic
 * dispatch with the commitment fixed (a linear program) and the locational marginal prices that
 * come from its duals, over a horizon of equal steps; and a single-period DC optimal power flow
 * with convex quadratic costs solved exactly. docs/dispatch.md states the formulation in full.
 *
 * Units at this boundary: MW, MWh, $, $/MWh, hours, degrees. Results are plain structs owned by the
 * caller; arrays indexed by step and component are row-major, [t * n + i]. Components are referred
 * to by their index in the world the result was computed from: keep that world to name them. */
#ifndef PLURIGRID_DISPATCH_H
#define PLURIGRID_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"
#include "plurigrid/model.h"
#include "plurigrid/plot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PG_NETWORK_COPPER = 0, /* one balance per step: no network, one price */
    PG_NETWORK_DC = 1,     /* lossless DC network (B-theta) with branch rating limits */
} pg_network;

/* Where a long computation is; passed to the progress callback. */
typedef enum {
    PG_DISPATCH_BUILD = 0,      /* building the optimisation problem */
    PG_DISPATCH_COMMITMENT = 1, /* solving the unit commitment MILP (may take a while) */
    PG_DISPATCH_ECONOMIC = 2,   /* solving the dispatch LP with the commitment fixed */
    PG_DISPATCH_AC = 3,         /* AC power flow of one step (step and n_steps set) */
    PG_DISPATCH_DONE = 4,
} pg_dispatch_phase;

typedef void (*pg_dispatch_progress_fn)(void *user, pg_dispatch_phase phase, size_t step,
                                        size_t n_steps);

typedef struct pg_dispatch_options {
    size_t start_step;   /* first step of the world's series the horizon starts at; default 0 */
    size_t horizon;      /* number of steps; 0 (default) = as many as the series cover, 1 when the
                            world has no series */
    double step_h;       /* step length, hours; 0 (default) = the series' own step (1 h without
                            series). Other lengths average the series over each step. */
    pg_network network;  /* default PG_NETWORK_DC */
    bool commitment;     /* true (default): unit commitment MILP first; false: every available
                            thermal unit is on for the whole horizon and only the LP is solved */
    bool intertemporal;  /* true (default): ramps, minimum up/down times, initial status and
                            initial output apply; false: steps are independent (as in an OPF) */
    double voll;         /* value of lost load: penalty on unserved energy, $/MWh, at most 1e6;
                            default 10000 */
    double overgen_cost; /* penalty on spilled (over-)generation, $/MWh, 0 to 1e6; default 1000 */
    int pwl_segments;    /* segments of the piecewise-linear approximation of polynomial costs of
                            degree >= 2, equal widths between pmin and pmax; default 4 */
    double mip_gap;      /* relative optimality gap at which the MILP stops; default 1e-3 */
    double time_limit_s; /* wall-clock limit on the MILP, seconds; default 300, 0 = none. Cbc checks
                            it between steps: its root LP always completes. A commitment stopped
                            by it has uc_status PG_UC_TIME_LIMIT */
    int threads;         /* MILP threads, 1 to 64; default 1 */
    bool solver_log;     /* false (default): solvers are silent; true: Clp and Cbc print their own
                            logs on standard output (the only output this module ever makes) */
    pg_dispatch_progress_fn progress; /* called from the calling thread; may be NULL */
    void *progress_user;
} pg_dispatch_options;

/* Fills o with the defaults stated above. */
PG_API void pg_dispatch_options_init(pg_dispatch_options *o);

/* How the unit commitment ended. */
typedef enum {
    PG_UC_NONE = 0,       /* no commitment was solved (commitment = false) */
    PG_UC_OPTIMAL = 1,    /* within the requested gap */
    PG_UC_TIME_LIMIT = 2, /* stopped by the time limit with a feasible commitment (see gap) */
} pg_uc_status;

typedef struct pg_dispatch_result {
    size_t n_steps;
    double step_h; /* hours */
    size_t start_step;
    pg_network network;
    size_t n_buses, n_branches, n_thermals, n_renewables, n_storages;

    pg_uc_status uc_status;
    double uc_objective; /* $, the MILP's best objective (0 when no commitment was solved) */
    double uc_bound;     /* $, the MILP's best lower bound */
    double uc_gap;       /* relative gap reached, (objective - bound) / |objective| */
    double uc_seconds;   /* wall time of the MILP */
    double ed_seconds;   /* wall time of the LP */
    size_t n_variables, n_integers, n_constraints; /* size of the MILP (or of the LP) */

    /* [t * n_thermals + g] */
    double *thermal_p;            /* MW */
    unsigned char *thermal_on;    /* 1 when committed */
    unsigned char *thermal_start; /* 1 when started up at the beginning of step t */
    unsigned char *thermal_stop;  /* 1 when shut down at the beginning of step t */
    /* [t * n_renewables + r] */
    double *renewable_p;     /* MW dispatched */
    double *renewable_avail; /* MW available; curtailment = avail - p */
    /* [t * n_storages + s] */
    double *storage_charge;    /* MW taken from the grid */
    double *storage_discharge; /* MW given to the grid */
    double *storage_soc;       /* MWh at the end of step t */
    /* [t * n_buses + b] */
    double *bus_demand;   /* MW: loads (series applied) plus shunt conductance at 1 p.u. */
    double *bus_unserved; /* MW of demand not served */
    double *bus_overgen;  /* MW of generation spilled */
    double *lmp;          /* locational marginal price, $/MWh */
    double *bus_angle;    /* degrees (DC network; 0 on a copper plate) */
    /* [t * n_branches + k] */
    double *branch_flow;  /* MW from -> to (DC network; 0 on a copper plate) */
    double *branch_price; /* $/MWh: the shadow price of the branch's rating limit, > 0 when the
                             flow is held at +rating, < 0 at -rating, 0 when not binding */
    /* [t]: cost of each step split into parts that add up to the objective, $ */
    double *energy_price;  /* $/MWh: LMP at the reference bus of the first island (system
                              energy component); congestion component = lmp - energy_price */
    double *cost_variable; /* cost curves (including their constant term while committed),
                              renewable and storage variable costs */
    double *cost_fixed;    /* fixed (no-load) cost while committed */
    double *cost_startup;  /* start-up and shut-down costs */
    double *cost_penalty;  /* unserved energy x VOLL + spilled energy x over-generation cost */
    double total_cost;     /* $, the sum of every part over the horizon */
    double total_unserved_mwh;
    double total_overgen_mwh;
    double total_curtailed_mwh;
} pg_dispatch_result;

/* Checks that the world and the options describe a problem this module can schedule: the world
 * validates (pg_world_validate), the start step is a step of its series, every series a component
 * uses covers the horizon, cost curves are convex over [pmin, pmax], storage targets are
 * reachable, options are in range, and every number the problem uses lies within the ranges the
 * solvers take reliably (docs/dispatch.md, "Numeric ranges"; PG_EMODEL naming the component, the
 * value and the range). Called by pg_dispatch_run before it builds anything; borrows both. */
PG_API int pg_dispatch_check(const pg_world *w, const pg_dispatch_options *opts, pg_error *err);

/* Runs the day-ahead schedule: unit commitment (when opts->commitment), then the economic
 * dispatch with the commitment fixed and its prices. opts may be NULL for the defaults. Borrows w
 * and opts; *out is a new result the caller frees with pg_dispatch_result_free, written only on
 * success. An infeasible balance is not a failure: unserved energy and spilled generation say what
 * was short. Fails with PG_EMODEL when the world or the options are invalid or when hard limits
 * (ramps, minimum up/down times, storage targets) leave no schedule, with PG_ESOLVER when a solver
 * fails, or with PG_ELIMIT when the time limit passed before any commitment was found. */
PG_API int pg_dispatch_run(const pg_world *w, const pg_dispatch_options *opts,
                           pg_dispatch_result **out, pg_error *err);

/* Frees a result and its arrays. Accepts NULL. */
PG_API void pg_dispatch_result_free(pg_dispatch_result *r);

/* ------------------------------------------------------------------ AC check of a schedule */

/* The AC power flow of one step's schedule. Violations are reported, never enforced. */
typedef struct pg_dispatch_ac_step {
    bool solved;           /* converged, every island solved */
    int iterations;        /* Newton iterations */
    double losses_mw;      /* series losses */
    double slack_mw;       /* output of the reference buses' units beyond their schedule: the
                              losses the DC schedule left out, plus any mismatch */
    double vm_min, vm_max; /* p.u., over buses of solved islands */
    size_t n_voltage;      /* buses outside [vmin, vmax] */
    size_t n_overload;     /* rated branches carrying more than rate_a (MVA at either end) */
    double max_loading;    /* largest |S| / rate_a over rated branches (1 = at the rating) */
    size_t n_q_limit;      /* committed thermal units outside [qmin, qmax] */
    bool ref_held;         /* the reference bus's unit was off in the schedule and was kept
                              connected at 0 MW to hold the voltage and take up the losses */
    char reason[400];      /* why the step did not solve; "" when it did */
} pg_dispatch_ac_step;

typedef struct pg_dispatch_ac {
    size_t n_steps;
    pg_dispatch_ac_step *steps;
    size_t n_unsolved;        /* steps whose power flow did not solve */
    size_t n_with_violations; /* steps with a voltage, flow or reactive-limit violation */
} pg_dispatch_ac;

/* Runs an AC power flow (plurigrid/pf.h, flat settings, reactive limits not enforced) of every
 * step of the schedule r: loads at the step's value less the unserved share, committed thermal
 * units at their scheduled output less any spilled share, renewables at their dispatched output
 * (reactive power from their power factor), storage at its net output; the reference bus's units
 * take up the losses. opts supplies only the progress callback (NULL for none). Borrows w (the
 * world r came from), r and opts; *out is new (pg_dispatch_ac_free), written only on success. A
 * step that does not converge is a result, not a failure. */
PG_API int pg_dispatch_ac_check(const pg_world *w, const pg_dispatch_result *r,
                                const pg_dispatch_options *opts, pg_dispatch_ac **out,
                                pg_error *err);

/* Frees an AC check. Accepts NULL. */
PG_API void pg_dispatch_ac_free(pg_dispatch_ac *ac);

/* ------------------------------------------------------------------ printers */

/* The printers return text (a new NUL-terminated string *text the caller frees, written only on
 * success), so that every front end shows the same reports. Each borrows w (for the names), r,
 * which must come from that world, and ac, the AC check of r (NULL when there is none).
 *
 * pg_dispatch_result_text: the readable report: a header (the world, the horizon, the solvers'
 * sizes and times), then hourly tables of the schedule, the prices and the costs, and the AC check.
 * Worlds with more than 8 units or buses get totals and price ranges instead of one column each.
 * pg_dispatch_result_json: JSON, format "plurigrid-dispatch/1" (docs/dispatch.md), every number
 * at round-trip precision, null where a number does not exist.
 * pg_dispatch_result_csv: CSV, one row per step, component and quantity
 * (step,hour,component,name,quantity,value), numbers at round-trip precision. */
PG_API int pg_dispatch_result_text(const pg_world *w, const pg_dispatch_result *r,
                                   const pg_dispatch_ac *ac, char **text, pg_error *err);
PG_API int pg_dispatch_result_json(const pg_world *w, const pg_dispatch_result *r,
                                   const pg_dispatch_ac *ac, char **text, pg_error *err);
PG_API int pg_dispatch_result_csv(const pg_world *w, const pg_dispatch_result *r,
                                  const pg_dispatch_ac *ac, char **text, pg_error *err);

/* The charts of a schedule. */
typedef enum {
    PG_DISPATCH_CHART_SCHEDULE = 0, /* output by unit, stacked, with the load as a line on top */
    PG_DISPATCH_CHART_PRICES = 1,   /* the LMP of each bus over time (the first 12 buses) */
} pg_dispatch_chart;

/* Builds one chart of the schedule r of world w, to render (pg_plot_render) or write
 * (pg_plot_write). Borrows w and r; *out is new (pg_plot_free), written only on success. */
PG_API int pg_dispatch_plot(pg_plot **out, const pg_world *w, const pg_dispatch_result *r,
                            pg_dispatch_chart chart, pg_error *err);

/* Writes both charts into the existing folder dir, as dispatch.svg and prices.svg, each replaced
 * whole (a failed write leaves the old file). Borrows everything. */
PG_API int pg_dispatch_write_plots(const pg_world *w, const pg_dispatch_result *r, const char *dir,
                                   pg_error *err);

/* ------------------------------------------------------------------ DC optimal power flow */

/* A single-period DC OPF as MATPOWER's rundcopf states it: B-theta network with taps, phase
 * shifters and shunt conductance, branch rateA limits, branch angle-difference limits, quadratic
 * costs solved exactly (a convex QP), piecewise-linear costs exactly. */
typedef struct pg_dcopf_result {
    size_t n_buses, n_branches, n_thermals;
    double objective;     /* $/h: every in-service unit's cost curve (constant terms included) and
                             fixed cost, renewable and storage costs; penalties left out */
    double *pg;           /* MW per thermal unit (0 when out of service) */
    double *va;           /* degrees per bus */
    double *lmp;          /* $/MWh per bus */
    double *flow;         /* MW per branch, from -> to */
    double *branch_price; /* $/MWh per branch, as in pg_dispatch_result */
    double unserved_mw;   /* > 0 only when the case cannot be balanced */
    double overgen_mw;
    double seconds; /* wall time of the solve */
} pg_dcopf_result;

/* Solves the DC OPF of the world at opts->start_step of its series (loads scaled, renewables up
 * to their availability; PG_EMODEL when the series have no such step, or the step is not 0 in a
 * world without series); every in-service thermal unit is committed; ramps and commitment are
 * ignored. The world is checked as pg_dispatch_check does. opts may be NULL for the defaults
 * (its network must be PG_NETWORK_DC or is taken as such). Borrows w and opts; *out is new (free
 * with pg_dcopf_result_free), written only on success. */
PG_API int pg_dcopf_solve(const pg_world *w, const pg_dispatch_options *opts, pg_dcopf_result **out,
                          pg_error *err);

/* Frees an OPF result. Accepts NULL. */
PG_API void pg_dcopf_result_free(pg_dcopf_result *r);

/* The OPF result as text, as the printers above: pg_dcopf_result_text in the layout of MATPOWER's
 * printpf (objective, generators, buses with angles and LMPs, binding branch limits with their
 * shadow prices), pg_dcopf_result_json as JSON (format "plurigrid-dcopf/1", docs/dispatch.md).
 * Borrow w (for the names) and r, which must come from that world. */
PG_API int pg_dcopf_result_text(const pg_world *w, const pg_dcopf_result *r, char **text,
                                pg_error *err);
PG_API int pg_dcopf_result_json(const pg_world *w, const pg_dcopf_result *r, char **text,
                                pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
