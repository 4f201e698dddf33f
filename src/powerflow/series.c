/* Time-series power flow: every step of a world's series solved in turn by one solver (its
 * symbolic analysis and factors reused), each step started from the previous step's solution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/pf.h"

void
pg_pf_series_options_init(pg_pf_series_options *o)
{
    memset(o, 0, sizeof *o);
    pg_pf_options_init(&o->pf);
    o->scale_thermals = true;
    o->rating = PG_PF_RATE_A;
}

int
pg_pf_series(const pg_world *w, const pg_pf_series_options *opts, pg_pf_summary **steps, size_t *n,
             pg_error *err)
{
    if (!w || !opts || !steps || !n)
        return pg_error_set(err, PG_EINVAL, "pg_pf_series: NULL argument");
    size_t horizon = 0;
    double step_h = 1;
    int rc = pg_world_horizon(w, &horizon, &step_h, err);
    if (rc)
        return rc;
    if (horizon == 0)
        horizon = 1; /* a world without series is one step: itself */
    if (opts->first >= horizon)
        return pg_error_set(err, PG_EINVAL,
                            "time series: the first step %zu is past the end of the world's "
                            "series (%zu steps)",
                            opts->first, horizon);
    size_t count = opts->count ? opts->count : horizon - opts->first;
    if (count > horizon - opts->first)
        return pg_error_set(err, PG_EINVAL,
                            "time series: %zu steps from step %zu go past the end of the "
                            "world's series (%zu steps)",
                            count, opts->first, horizon);
    double nominal = pg_world_load_mw(w, PG_NONE);
    pg_pf_solver *s = NULL;
    pg_pf_summary *sum = calloc(count, sizeof *sum);
    double *vm = malloc(w->n_buses * sizeof *vm + 1), *va = malloc(w->n_buses * sizeof *va + 1);
    bool have_prev = false;
    if (!sum || !vm || !va) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_pf_solver_new(&s, &opts->pf, err)))
        goto out;
    for (size_t k = 0; k < count; k++) {
        if (opts->stop && *opts->stop) {
            rc = pg_error_set(err, PG_ECANCELED, "time series: stopped");
            goto out;
        }
        size_t step = opts->first + k;
        pg_world *ws = NULL;
        if ((rc = pg_world_at_step(&ws, w, step, err)))
            goto out;
        if (opts->scale_thermals && nominal > 0) {
            double f = pg_world_load_mw(w, step) / nominal;
            for (size_t g = 0; g < ws->n_thermals; g++)
                ws->thermals[g].p *= f;
        }
        if (have_prev)
            for (size_t b = 0; b < ws->n_buses; b++)
                if (vm[b] > 0) {
                    ws->buses[b].vm = vm[b];
                    ws->buses[b].va = va[b];
                }
        pg_pf_result *r = NULL;
        rc = pg_pf_solver_solve(s, ws, &r, err);
        if (rc) {
            pg_world_free(ws);
            goto out;
        }
        pg_pf_summarize(ws, r, opts->rating, &sum[k]);
        have_prev = r->converged;
        if (have_prev) {
            memcpy(vm, r->vm, w->n_buses * sizeof *vm);
            memcpy(va, r->va, w->n_buses * sizeof *va);
        }
        pg_pf_result_free(r);
        pg_world_free(ws);
        if (opts->progress)
            opts->progress(opts->progress_user, k + 1, count);
    }
    *steps = sum;
    *n = count;
    sum = NULL;
out:
    pg_pf_solver_free(s);
    free(sum);
    free(vm);
    free(va);
    return rc;
}
