/* The numeric ranges the dispatch's solvers take reliably, and the check that every number a
 * world and the options put into a problem lies within them. COIN-OR's solvers read 1e30 as
 * infinity and abort on objective coefficients of 1e25 and more; well before that, coefficients
 * spread over many orders of magnitude make the problem ill-conditioned and its answer unreliable.
 * So numbers are bounded where they come in, with a message naming the component, the value and
 * the range, rather than by a solver's failure. docs/dispatch.md states the ranges. */
#ifndef PG_DISPATCH_LIMITS_H
#define PG_DISPATCH_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model_internal.h"
#include "plurigrid/dispatch.h"

#define PGI_MAX_MW 1e7    /* power: outputs, loads, ratings, charge and discharge limits */
#define PGI_MAX_MWH 1e9   /* energy: storage capacity */
#define PGI_MAX_PRICE 1e6 /* $/MWh: marginal costs, VOLL, over-generation cost */
#define PGI_MAX_COST 1e9  /* $/h or $: fixed costs, cost at pmin, start-up/shut-down costs */
#define PGI_MAX_HOURS 1e6 /* minimum up/down times, time in the initial state */
#define PGI_MIN_STEP_H (1.0 / 3600) /* step length: one second ... */
#define PGI_MAX_STEP_H 8784.0       /* ... to one (leap) year */
#define PGI_MIN_EFFICIENCY 0.01     /* storage efficiencies */
#define PGI_MIN_X 1e-6              /* |x tap|, p.u., of a branch in the DC network */
#define PGI_MAX_X 1e3
#define PGI_MAX_SHIFT_DEG 360.0        /* phase shift */
#define PGI_MAX_THREADS 64             /* MILP threads (Cbc reads 100 and more as a mode code) */
#define PGI_DEFAULT_TIME_LIMIT_S 300.0 /* default wall-clock limit on the MILP */

/* Checks the start step and the horizon hz against the world's series,
 * and every number of the world that the problem uses against the ranges above. Call after
 * pg_world_validate. opf: the message for a branch without reactance fits the DC OPF (which has
 * no copper-plate network to suggest). */
int pgi_dispatch_check_ranges(const pg_world *w, const pg_dispatch_options *o,
                              const pgi_horizon *hz, bool opf, pg_error *err);

/* pg_dispatch_check with the messages of the DC OPF (opf true) or of the schedule. */
int pgi_dispatch_check(const pg_world *w, const pg_dispatch_options *o, bool opf, pg_error *err);

#endif
