/* A world in time: the steps its series define, the world as it is at one of those steps (loads
 * scaled, renewables at their availability, reactive power from the power factor), and the
 * resampling of the series onto a horizon of other steps. Power flow of one step (pf --step,
 * convert --step), dispatch and its AC check all take their per-step values from here. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "model/model_internal.h"

/* ---------------------------------------------------------------- the series' own steps */

/* Value of series s at step k of the series: 1 for PG_NONE or the nominal step (k PG_NONE), NaN
 * past the series' end (series do not repeat). */
static double
series_at(const pg_world *w, size_t s, size_t k)
{
    if (s == PG_NONE || k == PG_NONE)
        return 1.0;
    const pg_series *ser = &w->series[s];
    return k < ser->n ? ser->values[k] : NAN;
}

double
pg_world_load_mw(const pg_world *w, size_t step)
{
    double sum = 0.0;
    for (size_t i = 0; w && i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (l->in_service)
            sum += l->p * series_at(w, l->p_series, step);
    }
    return sum;
}

int
pg_world_horizon(const pg_world *w, size_t *n_steps, double *step_h, pg_error *err)
{
    if (!w)
        return pg_error_set(err, PG_EINVAL, "pg_world_horizon: NULL world");
    size_t n = 0;
    double step = 0.0;
    const char *first = NULL;
    /* Only series that drive something count; unused series do not constrain the horizon. */
    for (size_t i = 0; i < w->n_series; i++) {
        bool used = false;
        for (size_t k = 0; k < w->n_loads && !used; k++)
            used = w->loads[k].p_series == i || w->loads[k].q_series == i;
        for (size_t k = 0; k < w->n_renewables && !used; k++)
            used = w->renewables[k].availability == i;
        if (!used)
            continue;
        const pg_series *s = &w->series[i];
        if (!first) {
            first = s->name;
            step = s->step_h;
        } else if (fabs(s->step_h - step) > 1e-9 * step) {
            return pg_error_set(err, PG_EMODEL,
                                "time series '%s' has a step of %g h but '%s' has %g h; series "
                                "in one world must share their step",
                                s->name, s->step_h, first, step);
        }
        if (s->n > n)
            n = s->n;
    }
    if (n_steps)
        *n_steps = n;
    if (step_h)
        *step_h = first ? step : 1.0;
    return PG_OK;
}

/* ---------------------------------------------------------------- one step */

double
pgi_renewable_q(const pg_renewable *r, double p_mw)
{
    double pf = r->power_factor;
    return (pf > 0 && pf < 1) ? p_mw * tan(acos(pf)) : 0.0;
}

static double
value_of(const double *value, size_t s)
{
    return s == PG_NONE ? 1.0 : value[s];
}

void
pgi_world_set_step(pg_world *c, const pg_world *w, const double *value)
{
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        c->loads[i].p = l->p * value_of(value, l->p_series);
        c->loads[i].q = l->q * value_of(value, l->q_series);
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *r = &w->renewables[i];
        pg_renewable *cr = &c->renewables[i];
        cr->p = r->in_service ? value_of(value, r->availability) * r->rating : 0.0;
        cr->q = pgi_renewable_q(r, cr->p);
    }
}

/* Checks that series s, which component `what` 'name' uses, exists and has a value at step k. */
static int
check_reaches(const pg_world *w, const char *what, const char *name, size_t s, size_t k,
              pg_error *err)
{
    if (s == PG_NONE)
        return PG_OK;
    if (s >= w->n_series)
        return pg_error_set(err, PG_EMODEL, "%s '%s' refers to a time series that does not exist",
                            what, name);
    const pg_series *ser = &w->series[s];
    if (k >= ser->n)
        return pg_error_set(err, PG_EMODEL,
                            "%s '%s' uses time series '%s', which has %zu value%s (steps 0 to "
                            "%zu): it has no step %zu, and series do not repeat",
                            what, name, ser->name, ser->n, ser->n == 1 ? "" : "s",
                            ser->n ? ser->n - 1 : 0, k);
    return PG_OK;
}

/* In the world at one step the loads hold their scaled values and no series; a renewable keeps
 * its availability as a one-value series holding the step's value, so that the copy can still
 * be dispatched, and taking its step 0 gives the copy again. Series nothing uses then go. */
static int
keep_step_series(pg_world *c, const double *value, pg_error *err)
{
    size_t *map = malloc((c->n_series ? c->n_series : 1) * sizeof *map);
    if (!map)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t s = 0; s < c->n_series; s++)
        map[s] = PG_NONE;
    for (size_t i = 0; i < c->n_renewables; i++)
        if (c->renewables[i].availability != PG_NONE)
            map[c->renewables[i].availability] = 0;
    size_t n = 0;
    for (size_t s = 0; s < c->n_series; s++) {
        pg_series *ser = &c->series[s];
        if (map[s] == PG_NONE) {
            free(ser->name);
            free(ser->values);
            continue;
        }
        ser->values[0] = value[s];
        ser->n = 1;
        map[s] = n;
        c->series[n++] = *ser;
    }
    c->n_series = n;
    for (size_t i = 0; i < c->n_loads; i++)
        c->loads[i].p_series = c->loads[i].q_series = PG_NONE;
    for (size_t i = 0; i < c->n_renewables; i++)
        if (c->renewables[i].availability != PG_NONE)
            c->renewables[i].availability = map[c->renewables[i].availability];
    free(map);
    return PG_OK;
}

int
pg_world_at_step(pg_world **out, const pg_world *w, size_t step, pg_error *err)
{
    if (!out || !w)
        return pg_error_set(err, PG_EINVAL, "pg_world_at_step: NULL argument");
    int rc = PG_OK;
    for (size_t i = 0; i < w->n_loads && !rc; i++) {
        const pg_load *l = &w->loads[i];
        if (!(rc = check_reaches(w, "load", l->name, l->p_series, step, err)))
            rc = check_reaches(w, "load", l->name, l->q_series, step, err);
    }
    for (size_t i = 0; i < w->n_renewables && !rc; i++)
        rc = check_reaches(w, "renewable unit", w->renewables[i].name,
                           w->renewables[i].availability, step, err);
    if (rc)
        return rc;
    pg_world *c = NULL;
    double *value = malloc((w->n_series ? w->n_series : 1) * sizeof *value);
    if (!value) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t s = 0; s < w->n_series; s++)
        value[s] = series_at(w, s, step);
    if ((rc = pg_world_clone(&c, w, err)))
        goto out;
    pgi_world_set_step(c, w, value);
    if ((rc = keep_step_series(c, value, err)))
        goto out;
    *out = c;
    c = NULL;
out:
    free(value);
    pg_world_free(c);
    return rc;
}

/* ---------------------------------------------------------------- resampling */

int
pgi_horizon_make(pgi_horizon *h, const pg_world *w, size_t start_step, double step_h,
                 size_t n_steps, pg_error *err)
{
    size_t n = 0;
    double S = 1.0;
    int rc = pg_world_horizon(w, &n, &S, err);
    if (rc)
        return rc;
    if (!(step_h >= 0) || !isfinite(step_h))
        return pg_error_set(err, PG_EINVAL,
                            "a step length must be a positive number of hours, "
                            "got %g",
                            step_h);
    double H = step_h > 0 ? step_h : S;
    size_t T = n_steps;
    if (T > PG_MAX_STEPS)
        return pg_error_set(err, PG_EINVAL, "a horizon of %zu steps is too long (at most %d)", T,
                            PG_MAX_STEPS);
    if (T == 0 && n == 0) {
        T = 1;
    } else if (T == 0) {
        double have = ((double)n - (double)start_step) * S;
        if (have <= 0)
            return pg_error_set(err, PG_EMODEL,
                                "the horizon starts at step %zu but the time series have only "
                                "%zu steps",
                                start_step, n);
        /* The count is checked as a number before it becomes a size, so that a tiny step length
         * is refused here, not by running out of memory for its steps. */
        double steps = floor(have / H + 1e-9);
        if (steps < 1)
            return pg_error_set(err, PG_EMODEL,
                                "the time series cover %g h after the start, less than one step "
                                "of %g h",
                                have, H);
        if (steps > PG_MAX_STEPS)
            return pg_error_set(err, PG_EINVAL,
                                "the time series cover %g h after the start: in steps of %g h "
                                "that is %.4g steps, more than the %d steps a horizon may have; "
                                "use longer steps or fewer of them",
                                have, H, steps, PG_MAX_STEPS);
        T = (size_t)steps;
    }
    h->start_step = start_step;
    h->n_steps = T;
    h->step_h = H;
    h->origin_h = (double)start_step * S;
    return PG_OK;
}

double
pgi_horizon_cover_h(const pgi_horizon *h, const pg_world *w, size_t s)
{
    const pg_series *ser = &w->series[s];
    return (double)ser->n * ser->step_h - h->origin_h;
}

/* Mean of a piecewise-constant series over [a, b) hours from its start. */
static double
series_mean(const pg_series *s, double a, double b)
{
    double S = s->step_h;
    double x0 = a / S, x1 = b / S;
    /* Snap to whole steps so that equal step lengths pick exactly one value. */
    if (fabs(x0 - round(x0)) < 1e-9)
        x0 = round(x0);
    if (fabs(x1 - round(x1)) < 1e-9)
        x1 = round(x1);
    if (x1 <= x0)
        return s->values[(size_t)fmin(floor(x0), (double)(s->n - 1))];
    double sum = 0.0;
    for (size_t i = (size_t)floor(x0); (double)i < x1 && i < s->n; i++) {
        double lo = fmax(x0, (double)i), hi = fmin(x1, (double)i + 1);
        if (hi > lo)
            sum += s->values[i] * (hi - lo);
    }
    return sum / (x1 - x0);
}

double
pgi_horizon_value(const pgi_horizon *h, const pg_world *w, size_t s, size_t t)
{
    if (s == PG_NONE)
        return 1.0;
    double a = h->origin_h + (double)t * h->step_h;
    return series_mean(&w->series[s], a, a + h->step_h);
}
