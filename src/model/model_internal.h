/* Internal interfaces of the model that the solvers build on, so that each power-system concept
 * is computed in one place: the islands of a world's network, a world's loads and renewables at
 * one step of its time series, and the resampling of those series onto a horizon of steps of
 * another length. Power flow and dispatch call these; they do not compute them again. */
#ifndef PG_MODEL_INTERNAL_H
#define PG_MODEL_INTERNAL_H

#include <stddef.h>

#include "plurigrid/model.h"

/* ---------------------------------------------------------------- islands */

/* The islands of w's network: the groups of buses that are not isolated (type PG_BUS_ISOLATED)
 * joined by the branches in service between two such buses. island[b] (w->n_buses entries)
 * gets the island of bus b, numbered from 0 in the order of each island's lowest bus, or
 * PG_NONE for an isolated bus. Returns the number of islands. w's bus indices must be in range
 * (a validated world); allocates nothing. */
size_t pgi_world_islands(const pg_world *w, size_t *island);

/* ---------------------------------------------------------------- one step */

/* Reactive power of a renewable unit producing p_mw at its power factor: p tan(acos(pf)), 0 for
 * a power factor of 1 (or one outside (0, 1)). MVAr. */
double pgi_renewable_q(const pg_renewable *r, double p_mw);

/* Sets the loads and renewables of c, a copy of w (the same components in the same order), to w
 * at one step where series s has the value value[s]: load p and q times their series,
 * renewable p its availability times its rating (0 out of service) and q from its power factor.
 * Components without a series take 1. Borrows everything. */
void pgi_world_set_step(pg_world *c, const pg_world *w, const double *value);

/* ---------------------------------------------------------------- resampling */

/* A horizon over a world's time series: n_steps steps of step_h hours starting at step
 * start_step of the series. A horizon step's value of a series is the series' mean over that
 * step (series are piecewise constant), so steps may be shorter or longer than the series'. */
typedef struct pgi_horizon {
    size_t start_step; /* series step the horizon starts at */
    size_t n_steps;    /* steps in the horizon, at most PG_MAX_STEPS */
    double step_h;     /* hours per horizon step */
    double origin_h;   /* hours from the series' start to the horizon's start */
} pgi_horizon;

/* Sets h for w. step_h 0 takes the series' own step (1 h without series); n_steps 0 takes as many
 * whole steps as the series cover after start_step (1 without series). Fails with PG_EMODEL when
 * the series' steps differ or they end before one step, and with PG_EINVAL when the horizon
 * asked for would have more than PG_MAX_STEPS steps (checked before anything the size of the
 * horizon is allocated; PG_EINVAL as for the other options a horizon is asked for with, and not
 * PG_ELIMIT, which dispatch keeps for its time limit). *h is written only on success. Borrows w. */
int pgi_horizon_make(pgi_horizon *h, const pg_world *w, size_t start_step, double step_h,
                     size_t n_steps, pg_error *err);

/* The value of series s (an index into w's series, or PG_NONE: 1) over step t of h. */
double pgi_horizon_value(const pgi_horizon *h, const pg_world *w, size_t s, size_t t);

/* Hours of series s from the start of h to the series' end (negative when it ends before). */
double pgi_horizon_cover_h(const pgi_horizon *h, const pg_world *w, size_t s);

#endif
