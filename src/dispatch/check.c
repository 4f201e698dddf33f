/* Everything the dispatch checks before it builds a problem, so that bad input gets a clear error
 * naming the component instead of an infeasible or meaningless optimisation: options in range,
 * the world valid, series that cover the horizon, convex cost curves, reachable storage targets,
 * and every number within the ranges the solvers take (limits.c). */
#include <math.h>
#include <string.h>

#include "dispatch/build.h"
#include "dispatch/limits.h"

void
pg_dispatch_options_init(pg_dispatch_options *o)
{
    memset(o, 0, sizeof *o);
    o->network = PG_NETWORK_DC;
    o->commitment = true;
    o->intertemporal = true;
    o->voll = 10000.0;
    o->overgen_cost = 1000.0;
    o->pwl_segments = 4;
    o->mip_gap = 1e-3;
    o->time_limit_s = PGI_DEFAULT_TIME_LIMIT_S;
    o->threads = 1;
}

static int
check_options(const pg_dispatch_options *o, pg_error *err)
{
    if (o->network != PG_NETWORK_COPPER && o->network != PG_NETWORK_DC)
        return pg_error_set(err, PG_EINVAL, "unknown network model %d", (int)o->network);
    if (!(o->step_h == 0 || (o->step_h >= PGI_MIN_STEP_H && o->step_h <= PGI_MAX_STEP_H)))
        return pg_error_set(err, PG_EINVAL,
                            "step length must be from %.3g h (one second) to %g h (a leap year), "
                            "got %g h",
                            PGI_MIN_STEP_H, PGI_MAX_STEP_H, o->step_h);
    if (!(o->voll > 0 && o->voll <= PGI_MAX_PRICE))
        return pg_error_set(err, PG_EINVAL,
                            "value of lost load must be a positive number of $/MWh up to %g "
                            "(larger numbers make the optimisation unreliable), got %g",
                            PGI_MAX_PRICE, o->voll);
    if (!(o->overgen_cost >= 0 && o->overgen_cost <= PGI_MAX_PRICE))
        return pg_error_set(err, PG_EINVAL,
                            "over-generation penalty must be from 0 to %g $/MWh (larger numbers "
                            "make the optimisation unreliable), got %g",
                            PGI_MAX_PRICE, o->overgen_cost);
    if (o->pwl_segments < 1 || o->pwl_segments > 1000)
        return pg_error_set(err, PG_EINVAL, "cost segments must be between 1 and 1000, got %d",
                            o->pwl_segments);
    if (!(o->mip_gap >= 0) || !(o->mip_gap < 1))
        return pg_error_set(err, PG_EINVAL, "MILP gap must be in [0, 1), got %g", o->mip_gap);
    if (!(o->time_limit_s >= 0) || !isfinite(o->time_limit_s))
        return pg_error_set(err, PG_EINVAL, "time limit must be >= 0 seconds, got %g",
                            o->time_limit_s);
    if (o->threads < 1 || o->threads > PGI_MAX_THREADS)
        return pg_error_set(err, PG_EINVAL, "threads must be between 1 and %d, got %d",
                            PGI_MAX_THREADS, o->threads);
    if (o->horizon > PG_MAX_STEPS)
        return pg_error_set(err, PG_EINVAL, "a horizon of %zu steps is too long (at most %d)",
                            o->horizon, PG_MAX_STEPS);
    return PG_OK;
}

static int
check_series(const pg_world *w, const pg_dispatch_options *o, const char *kind, const char *name,
             size_t s, const pgi_horizon *h, pg_error *err)
{
    if (s == PG_NONE)
        return PG_OK;
    size_t T = h->n_steps;
    double dt = h->step_h;
    double have = pgi_horizon_cover_h(h, w, s), need = (double)T * dt;
    if (have < need - 1e-9 * need)
        return pg_error_set(err, PG_EMODEL,
                            "%s '%s' uses time series '%s', which has %zu values of %g h; from "
                            "step %zu it covers %g h but the horizon (%zu steps of %g h) needs "
                            "%g h",
                            kind, name, w->series[s].name, w->series[s].n, w->series[s].step_h,
                            o->start_step, have > 0 ? have : 0.0, T, dt, need);
    return PG_OK;
}

int
pg_dispatch_check(const pg_world *w, const pg_dispatch_options *opts, pg_error *err)
{
    return pgi_dispatch_check(w, opts, false, err);
}

int
pgi_dispatch_check(const pg_world *w, const pg_dispatch_options *opts, bool opf, pg_error *err)
{
    pg_dispatch_options def;
    if (!opts) {
        pg_dispatch_options_init(&def);
        opts = &def;
    }
    if (!w)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_check: NULL world");
    int rc = check_options(opts, err);
    if (rc)
        return rc;
    if ((rc = pg_world_validate(w, err)))
        return rc;
    pgi_horizon hz;
    if ((rc = pgi_dispatch_horizon(w, opts, &hz, err)) ||
        (rc = pgi_dispatch_check_ranges(w, opts, &hz, opf, err)))
        return rc;
    size_t T = hz.n_steps;
    double dt = hz.step_h;
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (l->in_service && (rc = check_series(w, opts, "load", l->name, l->p_series, &hz, err)))
            return rc;
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *r = &w->renewables[i];
        if (r->in_service &&
            (rc = check_series(w, opts, "renewable unit", r->name, r->availability, &hz, err)))
            return rc;
        if (r->cost < 0)
            return pg_error_set(err, PG_EMODEL,
                                "renewable unit '%s' has negative variable cost %g $/MWh", r->name,
                                r->cost);
    }
    for (size_t i = 0; i < w->n_thermals; i++) {
        const pg_thermal *t = &w->thermals[i];
        if (!t->in_service)
            continue;
        if (t->fixed_cost < 0)
            return pg_error_set(err, PG_EMODEL, "thermal unit '%s' has negative fixed cost %g $/h",
                                t->name, t->fixed_cost);
        pgi_curve c;
        if ((rc = pgi_curve_make(t, opts->pwl_segments, false, &c, err)))
            return rc;
        pgi_curve_free(&c);
    }
    for (size_t i = 0; i < w->n_storages; i++) {
        const pg_storage *s = &w->storages[i];
        if (!s->in_service)
            continue;
        if (s->cost < 0)
            return pg_error_set(err, PG_EMODEL, "storage unit '%s' has negative cost %g $/MWh",
                                s->name, s->cost);
        double reach = s->soc_initial_mwh + s->charge_mw * s->eff_charge * dt * (double)T;
        if (s->soc_target_mwh >= 0 && s->soc_target_mwh > reach + 1e-9)
            return pg_error_set(err, PG_EMODEL,
                                "storage unit '%s' cannot reach its target state of charge: from "
                                "%g MWh, charging at %g MW with efficiency %g for %g h gives at "
                                "most %g MWh < target %g MWh",
                                s->name, s->soc_initial_mwh, s->charge_mw, s->eff_charge,
                                dt * (double)T, reach, s->soc_target_mwh);
    }
    return PG_OK;
}
