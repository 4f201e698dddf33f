/* The range check of every number a world puts into the dispatch problem (limits.h): the start
 * step and the horizon against the world's series, then each in-service component's values. A
 * value outside its range is refused with PG_EMODEL and a message that names the component, the
 * value and the range, before anything is built. */
#include "dispatch/limits.h"

#include <math.h>
#include <stdio.h>

#include "dispatch/build.h"

#define BIG(v, max) (!(fabs(v) <= (max)))

/* "KIND 'NAME' has WHAT V UNIT, outside the range the dispatch takes (LO to HI UNIT)". */
static int
out_of_range(pg_error *err, const char *kind, const char *name, const char *what, double v,
             double lo, double hi, const char *unit)
{
    return pg_error_set(
        err, PG_EMODEL,
        "%s '%s' has %s %g%s%s, outside the range the dispatch takes (%g to %g%s%s; "
        "beyond it the solvers are unreliable)",
        kind, name, what, v, *unit ? " " : "", unit, lo, hi, *unit ? " " : "", unit);
}

#define THERMAL(what, v, max, unit)                                                                \
    out_of_range(err, "thermal unit", t->name, what, v, -(max), max, unit)

/* Largest |value| series s takes over the steps of hz (the model's resampling: the values the
 * problem is built from) and the step where it does; 1 for PG_NONE. */
static double
series_peak(const pg_world *w, const pgi_horizon *hz, size_t s, size_t *at)
{
    *at = 0;
    if (s == PG_NONE)
        return 1.0;
    double peak = 0;
    for (size_t t = 0; t < hz->n_steps; t++) {
        double v = fabs(pgi_horizon_value(hz, w, s, t));
        if (!(v <= peak)) { /* NaN counts as the largest */
            peak = v;
            *at = t;
        }
    }
    return peak;
}

/* The cost curve of thermal unit t over [pmin, pmax]: marginal costs within PGI_MAX_PRICE and the
 * cost at pmin (and at 0, the constant term of the exact quadratic form) within PGI_MAX_COST. */
static int
check_curve(const pg_thermal *t, int segments, pg_error *err)
{
    const pg_cost *c = &t->cost;
    if (c->model == PG_COST_NONE)
        return PG_OK;
    double at_min = pg_cost_eval(c, t->pmin);
    if (BIG(at_min, PGI_MAX_COST))
        return THERMAL("a cost at pmin of", at_min, PGI_MAX_COST, "$/h");
    if (c->model == PG_COST_POLYNOMIAL) {
        double c0 = c->n > 0 ? c->coef[0] : 0.0, c2 = c->n > 2 ? c->coef[2] : 0.0;
        if (BIG(c0, PGI_MAX_COST))
            return THERMAL("a constant cost of", c0, PGI_MAX_COST, "$/h");
        if (BIG(c2, PGI_MAX_PRICE))
            return THERMAL("a quadratic cost coefficient of", c2, PGI_MAX_PRICE, "$/MW^2h");
        double ends[2] = {t->pmin, t->pmax};
        for (int e = 0; e < 2; e++) {
            double m = pg_cost_marginal(c, ends[e]);
            if (BIG(m, PGI_MAX_PRICE)) {
                char what[64];
                snprintf(what, sizeof what, "a marginal cost at %g MW of", ends[e]);
                return THERMAL(what, m, PGI_MAX_PRICE, "$/MWh");
            }
        }
        return PG_OK;
    }
    pgi_curve cv;
    int rc = pgi_curve_make(t, segments, false, &cv, err);
    if (rc)
        return rc;
    for (int k = 0; k < cv.nseg && !rc; k++)
        if (BIG(cv.slope[k], PGI_MAX_PRICE)) {
            char what[64];
            snprintf(what, sizeof what, "a marginal cost on cost segment %d of", k + 1);
            rc = THERMAL(what, cv.slope[k], PGI_MAX_PRICE, "$/MWh");
        }
    pgi_curve_free(&cv);
    return rc;
}

static int
check_thermal(const pg_thermal *t, int segments, pg_error *err)
{
    const struct {
        const char *what;
        double v, lo, hi;
        const char *unit;
    } vals[] = {
        {"pmin", t->pmin, -PGI_MAX_MW, PGI_MAX_MW, "MW"},
        {"pmax", t->pmax, -PGI_MAX_MW, PGI_MAX_MW, "MW"},
        {"fixed cost", t->fixed_cost, -PGI_MAX_COST, PGI_MAX_COST, "$/h"},
        {"start-up cost", t->startup_cost, 0, PGI_MAX_COST, "$"},
        {"shut-down cost", t->shutdown_cost, 0, PGI_MAX_COST, "$"},
        {"minimum up time", t->min_up_h, 0, PGI_MAX_HOURS, "h"},
        {"minimum down time", t->min_down_h, 0, PGI_MAX_HOURS, "h"},
        {"initial time", t->initial_h, 0, PGI_MAX_HOURS, "h"},
    };
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        if (!(vals[i].v >= vals[i].lo && vals[i].v <= vals[i].hi))
            return out_of_range(err, "thermal unit", t->name, vals[i].what, vals[i].v, vals[i].lo,
                                vals[i].hi, vals[i].unit);
    return check_curve(t, segments, err);
}

static int
check_storage(const pg_storage *s, pg_error *err)
{
    const char *k = "storage unit";
    if (BIG(s->charge_mw, PGI_MAX_MW))
        return out_of_range(err, k, s->name, "charge limit", s->charge_mw, 0, PGI_MAX_MW, "MW");
    if (BIG(s->discharge_mw, PGI_MAX_MW))
        return out_of_range(err, k, s->name, "discharge limit", s->discharge_mw, 0, PGI_MAX_MW,
                            "MW");
    if (BIG(s->energy_mwh, PGI_MAX_MWH))
        return out_of_range(err, k, s->name, "energy capacity", s->energy_mwh, 0, PGI_MAX_MWH,
                            "MWh");
    if (s->eff_charge < PGI_MIN_EFFICIENCY)
        return out_of_range(err, k, s->name, "charge efficiency", s->eff_charge, PGI_MIN_EFFICIENCY,
                            1, "");
    if (s->eff_discharge < PGI_MIN_EFFICIENCY)
        return out_of_range(err, k, s->name, "discharge efficiency", s->eff_discharge,
                            PGI_MIN_EFFICIENCY, 1, "");
    if (BIG(s->cost, PGI_MAX_PRICE))
        return out_of_range(err, k, s->name, "cost", s->cost, -PGI_MAX_PRICE, PGI_MAX_PRICE,
                            "$/MWh");
    return PG_OK;
}

static int
check_branch(const pg_branch *br, bool opf, pg_error *err)
{
    double xt = fabs(br->x * br->tap);
    if (br->x == 0)
        return pg_error_set(err, PG_EMODEL,
                            opf ? "branch '%s' has zero reactance; the DC OPF needs x != 0 on "
                                  "every in-service branch (give it a small reactance, or take "
                                  "it out of service)"
                                : "branch '%s' has zero reactance; the DC network model needs "
                                  "x != 0 (give it a small reactance, take it out of service, or "
                                  "use the copper-plate network model, which ignores branches)",
                            br->name);
    if (!(xt >= PGI_MIN_X && xt <= PGI_MAX_X))
        return pg_error_set(err, PG_EMODEL,
                            "branch '%s' has reactance %g p.u. (tap %g), outside the range the "
                            "DC network model takes (|x tap| from %g to %g p.u.; other values "
                            "make its optimisation unreliable)",
                            br->name, br->x, br->tap, PGI_MIN_X, PGI_MAX_X);
    if (BIG(br->rate_a, PGI_MAX_MW))
        return out_of_range(err, "branch", br->name, "rating (0 = no limit)", br->rate_a, 0,
                            PGI_MAX_MW, "MW");
    if (BIG(br->shift, PGI_MAX_SHIFT_DEG))
        return out_of_range(err, "branch", br->name, "phase shift", br->shift, -PGI_MAX_SHIFT_DEG,
                            PGI_MAX_SHIFT_DEG, "degrees");
    return PG_OK;
}

int
pgi_dispatch_check_ranges(const pg_world *w, const pg_dispatch_options *o, const pgi_horizon *hz,
                          bool opf, pg_error *err)
{
    size_t n = 0;
    double S = 1.0;
    int rc = pg_world_horizon(w, &n, &S, err);
    if (rc)
        return rc;
    if (n == 0 && o->start_step > 0)
        return pg_error_set(err, PG_EMODEL,
                            "the world has no time series, so it has one step (step 0); step %zu "
                            "does not exist",
                            o->start_step);
    if (n > 0 && o->start_step >= n)
        return pg_error_set(err, PG_EMODEL,
                            "step %zu does not exist: the world's time series have %zu steps "
                            "(0 to %zu)",
                            o->start_step, n, n - 1);
    size_t at = 0;
    for (size_t i = 0; i < w->n_buses; i++)
        if (w->buses[i].type != PG_BUS_ISOLATED && BIG(w->buses[i].gs, PGI_MAX_MW))
            return out_of_range(err, "bus", w->buses[i].name, "shunt conductance", w->buses[i].gs,
                                -PGI_MAX_MW, PGI_MAX_MW, "MW");
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (!l->in_service)
            continue;
        double f = series_peak(w, hz, l->p_series, &at);
        if (BIG(l->p, PGI_MAX_MW) || BIG(l->p * f, PGI_MAX_MW)) {
            if (l->p_series == PG_NONE || BIG(l->p, PGI_MAX_MW))
                return out_of_range(err, "load", l->name, "p", l->p, -PGI_MAX_MW, PGI_MAX_MW, "MW");
            char what[400];
            snprintf(what, sizeof what, "p %g MW times time series '%s' at step %zu (%g):", l->p,
                     w->series[l->p_series].name, at, f);
            return out_of_range(err, "load", l->name, what, l->p * f, -PGI_MAX_MW, PGI_MAX_MW,
                                "MW");
        }
    }
    for (size_t i = 0; i < w->n_thermals; i++)
        if (w->thermals[i].in_service &&
            (rc = check_thermal(&w->thermals[i], o->pwl_segments, err)))
            return rc;
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *r = &w->renewables[i];
        if (!r->in_service)
            continue;
        if (BIG(r->rating, PGI_MAX_MW))
            return out_of_range(err, "renewable unit", r->name, "rating", r->rating, 0, PGI_MAX_MW,
                                "MW");
        if (BIG(r->cost, PGI_MAX_PRICE))
            return out_of_range(err, "renewable unit", r->name, "cost", r->cost, -PGI_MAX_PRICE,
                                PGI_MAX_PRICE, "$/MWh");
    }
    for (size_t i = 0; i < w->n_storages; i++)
        if (w->storages[i].in_service && (rc = check_storage(&w->storages[i], err)))
            return rc;
    if (o->network == PG_NETWORK_DC)
        for (size_t k = 0; k < w->n_branches; k++) {
            const pg_branch *br = &w->branches[k];
            if (br->in_service && w->buses[br->from].type != PG_BUS_ISOLATED &&
                w->buses[br->to].type != PG_BUS_ISOLATED && (rc = check_branch(br, opf, err)))
                return rc;
        }
    return PG_OK;
}
