/* N-1 contingency analysis: every outage of a list of branches in turn, each solved by AC
 * Newton-Raphson from the base-case solution. Outages that split an island are found by the
 * graph alone and reported with the load they cut off. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plurigrid/pf.h"

void
pg_pf_contingency_options_init(pg_pf_contingency_options *o)
{
    memset(o, 0, sizeof *o);
    pg_pf_options_init(&o->pf);
    o->rating = PG_PF_RATE_A;
}

void
pg_pf_contingency_result_free(pg_pf_contingency_result *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->n_outages; k++) {
        free(r->outages[k].vm);
        free(r->outages[k].va);
    }
    free(r->outages);
    pg_pf_result_free(r->base);
    free(r);
}

/* Whether taking branch skip out of base's network separates its two ends; when it does,
 * *cut_mw is the in-service load on the side without the island's reference bus. mark: nb
 * bytes, queue: nb sizes of scratch. */
static bool
splits(const pg_world *w, const pg_pf_result *base, size_t skip, unsigned char *mark, size_t *queue,
       double *cut_mw)
{
    size_t nb = w->n_buses, f = w->branches[skip].from, t = w->branches[skip].to;
    memset(mark, 0, nb);
    size_t head = 0, tail = 0;
    queue[tail++] = f;
    mark[f] = 1;
    /* Breadth-first over in-service branches between live buses (quadratic in the worst case
     * for now; fine for a skeleton). */
    while (head < tail) {
        size_t b = queue[head++];
        for (size_t l = 0; l < w->n_branches; l++) {
            const pg_branch *br = &w->branches[l];
            if (l == skip || !br->in_service)
                continue;
            size_t o;
            if (br->from == b)
                o = br->to;
            else if (br->to == b)
                o = br->from;
            else
                continue;
            if (mark[o] || w->buses[o].type == PG_BUS_ISOLATED)
                continue;
            mark[o] = 1;
            queue[tail++] = o;
        }
    }
    if (mark[t])
        return false;
    size_t isl = base->island[f];
    size_t ref = isl != PG_NONE ? base->islands[isl].ref_bus : PG_NONE;
    bool ref_on_f = ref != PG_NONE && mark[ref];
    double cut = 0;
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *ld = &w->loads[i];
        if (!ld->in_service || base->island[ld->bus] != isl)
            continue;
        if ((mark[ld->bus] != 0) != ref_on_f)
            cut += ld->p;
    }
    *cut_mw = cut;
    return true;
}

int
pg_pf_contingency(const pg_world *w, const pg_pf_contingency_options *opts,
                  pg_pf_contingency_result **out, pg_error *err)
{
    if (!w || !opts || !out)
        return pg_error_set(err, PG_EINVAL, "pg_pf_contingency: NULL argument");
    if (opts->pf.dc || opts->pf.enforce_q_lims)
        return pg_error_set(err, PG_EINVAL,
                            "contingency analysis: only the AC power flow without reactive "
                            "limits is supported");
    if (opts->branches)
        for (size_t k = 0; k < opts->n_branches; k++)
            if (opts->branches[k] >= w->n_branches)
                return pg_error_set(err, PG_EINVAL,
                                    "contingency analysis: branch index %zu is out of range "
                                    "(the world has %zu branches)",
                                    opts->branches[k], w->n_branches);
    int rc = PG_OK;
    pg_pf_contingency_result *res = calloc(1, sizeof *res);
    unsigned char *mark = malloc(w->n_buses + 1);
    size_t *queue = malloc((w->n_buses + 1) * sizeof *queue);
    pg_world *c = NULL;
    if (!res || !mark || !queue) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    double t0 = pgi_now();
    if ((rc = pg_pf_solve(w, &opts->pf, &res->base, err)))
        goto out;
    pg_pf_summarize(w, res->base, opts->rating, &res->base_summary);
    double t1 = pgi_now();
    res->time_base_s = t1 - t0;
    if (!res->base->converged)
        goto done;
    size_t n = opts->branches ? opts->n_branches : 0;
    if (!opts->branches)
        for (size_t l = 0; l < w->n_branches; l++)
            n += w->branches[l].in_service;
    res->outages = calloc(n ? n : 1, sizeof *res->outages);
    if (!res->outages) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pg_world_clone(&c, w, err)))
        goto out;
    for (size_t b = 0; b < w->n_buses; b++)
        if (res->base->vm[b] > 0) {
            c->buses[b].vm = res->base->vm[b];
            c->buses[b].va = res->base->va[b];
        }
    size_t next = 0;
    for (size_t k = 0; k < n; k++) {
        if (opts->stop && *opts->stop) {
            rc = pg_error_set(err, PG_ECANCELED, "contingency analysis: stopped");
            goto out;
        }
        size_t l = next;
        if (opts->branches) {
            l = opts->branches[k];
        } else {
            while (!w->branches[next].in_service)
                next++;
            l = next++;
        }
        pg_pf_outage *o = &res->outages[k];
        res->n_outages = k + 1;
        o->branch = l;
        const pg_branch *br = &w->branches[l];
        if (!br->in_service || res->base->island[br->from] == PG_NONE ||
            res->base->island[br->to] == PG_NONE) {
            o->status = PG_PF_OUTAGE_OUT;
        } else if (splits(w, res->base, l, mark, queue, &o->islanded_load_mw)) {
            o->status = PG_PF_OUTAGE_ISLANDING;
            res->n_islanding++;
        } else {
            pg_pf_result *r = NULL;
            c->branches[l].in_service = false;
            rc = pg_pf_solve(c, &opts->pf, &r, err);
            c->branches[l].in_service = true;
            if (rc)
                goto out;
            o->status = PG_PF_OUTAGE_SOLVED;
            pg_pf_summarize(c, r, opts->rating, &o->summary);
            res->n_solved++;
            res->n_converged += r->converged;
            if (opts->keep_states) {
                o->vm = malloc(w->n_buses * sizeof *o->vm + 1);
                o->va = malloc(w->n_buses * sizeof *o->va + 1);
                if (!o->vm || !o->va) {
                    pg_pf_result_free(r);
                    rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                    goto out;
                }
                memcpy(o->vm, r->vm, w->n_buses * sizeof *o->vm);
                memcpy(o->va, r->va, w->n_buses * sizeof *o->va);
            }
            pg_pf_result_free(r);
        }
        if (opts->progress)
            opts->progress(opts->progress_user, k + 1, n);
    }
    res->time_outages_s = pgi_now() - t1;
done:
    *out = res;
    res = NULL;
out:
    pg_world_free(c);
    free(mark);
    free(queue);
    pg_pf_contingency_result_free(res);
    return rc;
}
