/* Time-series power flow: every step of a world's series solved in turn by one kept solver (its
 * symbolic analysis kept throughout), each step started from the previous step's solution. The
 * world is copied once and only its loads, renewables and thermal setpoints are set at each step
 * (as pg_world_at_step sets them). The first steps of each solve are chord steps with the factors
 * of the previous step's last Jacobian (hour to hour the Jacobian changes little), followed by
 * Newton steps once the chord slows down: the same solution to the tolerance, at a fraction of
 * the refactorizations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "powerflow/pf_internal.h"

void
pg_pf_series_options_init(pg_pf_series_options *o)
{
    memset(o, 0, sizeof *o);
    pg_pf_options_init(&o->pf);
    o->scale_thermals = true;
    o->rating = PG_PF_RATE_A;
}

/* The steps to solve: first .. first + *count - 1 of w's horizon, each reaching every series a
 * component uses. */
static int
check_steps(const pg_world *w, const pg_pf_series_options *opts, size_t *count, pg_error *err)
{
    size_t horizon = 0;
    double step_h = 1;
    int rc = pg_world_horizon(w, &horizon, &step_h, err);
    if (rc)
        return rc;
    if (horizon == 0)
        horizon = 1; /* a world without series is one step: itself */
    if (opts->rating != PG_PF_RATE_A && opts->rating != PG_PF_RATE_B &&
        opts->rating != PG_PF_RATE_C)
        return pg_error_set(err, PG_EINVAL, "time series: unknown rating %d", (int)opts->rating);
    if (opts->first >= horizon)
        return pg_error_set(err, PG_EINVAL,
                            "time series: the first step %zu is past the end of the world's "
                            "series (%zu step%s)",
                            opts->first, horizon, horizon == 1 ? "" : "s");
    size_t n = opts->count ? opts->count : horizon - opts->first;
    if (n > horizon - opts->first)
        return pg_error_set(err, PG_EINVAL,
                            "time series: %zu steps from step %zu go past the end of the "
                            "world's series (%zu steps)",
                            n, opts->first, horizon);
    /* Series do not repeat: a series too short for the last step is too short (the message is
     * pg_world_at_step's, naming the component and the series). */
    pg_world *last = NULL;
    if ((rc = pg_world_at_step(&last, w, opts->first + n - 1, err)))
        return rc;
    pg_world_free(last);
    *count = n;
    return PG_OK;
}

int
pg_pf_series(const pg_world *w, const pg_pf_series_options *opts, pg_pf_summary **steps, size_t *n,
             pg_error *err)
{
    if (!w || !opts || !steps || !n)
        return pg_error_set(err, PG_EINVAL, "pg_pf_series: NULL argument");
    size_t count = 0;
    int rc = check_steps(w, opts, &count, err);
    if (rc)
        return rc;
    double nominal = pg_world_load_mw(w, PG_NONE);
    pg_pf_solver *s = NULL;
    pg_world *c = NULL;
    pg_pf_summary *sum = calloc(count, sizeof *sum);
    double *value = malloc((w->n_series + 1) * sizeof *value);
    if (!sum || !value) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_pf_solver_new(&s, &opts->pf, err)) || (rc = pg_world_clone(&c, w, err)))
        goto out;
    pgi_pf_solver_set_chord(s, true);
    for (size_t k = 0; k < count; k++) {
        if (opts->stop && *opts->stop) {
            rc = pg_error_set(err, PG_ECANCELED, "time series: stopped after %zu of %zu steps", k,
                              count);
            goto out;
        }
        size_t step = opts->first + k;
        for (size_t i = 0; i < w->n_series; i++)
            value[i] = step < w->series[i].n ? w->series[i].values[step] : NAN;
        pgi_world_set_step(c, w, value);
        if (opts->scale_thermals && nominal > 0) {
            double f = pg_world_load_mw(w, step) / nominal;
            for (size_t g = 0; g < w->n_thermals; g++)
                c->thermals[g].p = w->thermals[g].p * f;
        }
        pg_pf_result *r = NULL;
        if ((rc = pg_pf_solver_solve(s, c, &r, err)))
            goto out;
        pg_pf_summarize(c, r, opts->rating, &sum[k]);
        /* the next step starts here, or from the world's own start after a failure */
        for (size_t b = 0; b < w->n_buses; b++) {
            bool solved = r->converged && r->island[b] != PG_NONE && r->vm[b] > 0;
            c->buses[b].vm = solved ? r->vm[b] : w->buses[b].vm;
            c->buses[b].va = solved ? r->va[b] : w->buses[b].va;
        }
        pg_pf_result_free(r);
        if (opts->progress)
            opts->progress(opts->progress_user, k + 1, count);
    }
    *steps = sum;
    *n = count;
    sum = NULL;
out:
    pg_pf_solver_free(s);
    pg_world_free(c);
    free(sum);
    free(value);
    return rc;
}
