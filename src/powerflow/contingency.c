/* N-1 contingency analysis: every outage of a list of branches in turn, each solved by AC
 * Newton-Raphson from the base-case solution with the base case's analysis and factors (see
 * pgi_pf_newton_outage), and summarised. Outages that split an island are found from the graph
 * alone, once (the bridges of each island, by a depth-first search from its reference bus), and
 * reported with the load they cut off. Each outage starts from the base case and leaves the
 * solver as it found it, so its numbers depend only on the world, the options and its branch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "powerflow/pf_internal.h"

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

/* Whether branch l carries power in the base case: in service, between buses of an island that
 * was solved. */
static bool
branch_live(const pg_world *w, const pg_pf_result *base, size_t l)
{
    const pg_branch *br = &w->branches[l];
    size_t i = base->island[br->from];
    return br->in_service && i != PG_NONE && base->island[br->to] == i &&
           base->islands[i].status == PG_PF_ISLAND_SOLVED;
}

/* The bridges of the live network: cut[l] is the in-service load (MW) that taking branch l out
 * separates from its island's reference bus, or NaN when l is not a bridge. */
static int
find_bridges(const pg_world *w, const pg_pf_result *base, double *cut, pg_error *err)
{
    size_t nb = w->n_buses, nl = w->n_branches;
    int rc = PG_OK;
    size_t *adjp = calloc(nb + 1, sizeof *adjp);
    size_t *adjb = malloc((2 * nl + 1) * sizeof *adjb), *adje = malloc((2 * nl + 1) * sizeof *adje);
    size_t *disc = malloc((nb + 1) * sizeof *disc), *low = malloc((nb + 1) * sizeof *low);
    size_t *it = malloc((nb + 1) * sizeof *it), *pare = malloc((nb + 1) * sizeof *pare);
    size_t *stack = malloc((nb + 1) * sizeof *stack);
    double *sub = calloc(nb + 1, sizeof *sub);
    if (!adjp || !adjb || !adje || !disc || !low || !it || !pare || !stack || !sub) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t l = 0; l < nl; l++) {
        cut[l] = NAN;
        const pg_branch *br = &w->branches[l];
        if (branch_live(w, base, l) && br->from != br->to) {
            adjp[br->from + 1]++;
            adjp[br->to + 1]++;
        }
    }
    for (size_t b = 0; b < nb; b++)
        adjp[b + 1] += adjp[b];
    for (size_t b = 0; b < nb; b++)
        it[b] = adjp[b];
    for (size_t l = 0; l < nl; l++) {
        const pg_branch *br = &w->branches[l];
        if (!branch_live(w, base, l) || br->from == br->to)
            continue;
        adjb[it[br->from]] = br->to;
        adje[it[br->from]++] = l;
        adjb[it[br->to]] = br->from;
        adje[it[br->to]++] = l;
    }
    for (size_t i = 0; i < w->n_loads; i++)
        if (w->loads[i].in_service)
            sub[w->loads[i].bus] += w->loads[i].p;
    for (size_t b = 0; b < nb; b++) {
        disc[b] = PG_NONE;
        it[b] = adjp[b];
    }
    size_t timer = 0;
    for (size_t i = 0; i < base->n_islands; i++) {
        size_t root = base->islands[i].ref_bus;
        if (base->islands[i].status != PG_PF_ISLAND_SOLVED || root == PG_NONE ||
            disc[root] != PG_NONE)
            continue;
        size_t top = 0;
        stack[top++] = root;
        disc[root] = low[root] = timer++;
        pare[root] = PG_NONE;
        while (top > 0) {
            size_t v = stack[top - 1];
            if (it[v] < adjp[v + 1]) {
                size_t u = adjb[it[v]], e = adje[it[v]];
                it[v]++;
                if (e == pare[v])
                    continue;
                if (disc[u] == PG_NONE) {
                    disc[u] = low[u] = timer++;
                    pare[u] = e;
                    stack[top++] = u;
                } else if (disc[u] < low[v]) {
                    low[v] = disc[u];
                }
                continue;
            }
            top--;
            if (top == 0)
                break;
            size_t p = stack[top - 1];
            if (low[v] < low[p])
                low[p] = low[v];
            sub[p] += sub[v];
            if (low[v] > disc[p])
                cut[pare[v]] = sub[v];
        }
    }
out:
    free(adjp);
    free(adjb);
    free(adje);
    free(disc);
    free(low);
    free(it);
    free(pare);
    free(stack);
    free(sub);
    return rc;
}

static int
check_options(const pg_world *w, const pg_pf_contingency_options *o, pg_error *err)
{
    if (o->pf.dc || o->pf.enforce_q_lims)
        return pg_error_set(err, PG_EINVAL,
                            "contingency analysis: only the AC power flow without reactive "
                            "limits is supported (dc and enforce_q_lims must be off)");
    if (o->rating != PG_PF_RATE_A && o->rating != PG_PF_RATE_B && o->rating != PG_PF_RATE_C)
        return pg_error_set(err, PG_EINVAL, "contingency analysis: unknown rating %d",
                            (int)o->rating);
    if (o->branches)
        for (size_t k = 0; k < o->n_branches; k++)
            if (o->branches[k] >= w->n_branches)
                return pg_error_set(err, PG_EINVAL,
                                    "contingency analysis: branch index %zu is out of range "
                                    "(the world has %zu branches)",
                                    o->branches[k], w->n_branches);
    return PG_OK;
}

/* Studies outage o->branch with solver s, whose base is w's base case. */
static int
study_outage(pg_pf_solver *s, const pg_world *w, const pg_pf_contingency_options *opts,
             const pg_pf_result *base, const double *cut, pg_pf_outage *o, pg_error *err)
{
    size_t l = o->branch;
    if (!branch_live(w, base, l) || w->branches[l].from == w->branches[l].to) {
        /* a branch from a bus to itself carries nothing between buses; taking it out still
         * changes the bus's shunt admittance, so it is solved like any other */
        if (!branch_live(w, base, l)) {
            o->status = PG_PF_OUTAGE_OUT;
            return PG_OK;
        }
    } else if (!isnan(cut[l])) {
        o->status = PG_PF_OUTAGE_ISLANDING;
        o->islanded_load_mw = cut[l];
        return PG_OK;
    }
    pg_pf_result *r = NULL;
    int rc = pgi_pf_solver_outage(s, w, l, &r, err);
    if (rc)
        return rc;
    o->status = PG_PF_OUTAGE_SOLVED;
    pgi_pf_summarize_without(w, r, opts->rating, l, &o->summary);
    if (opts->keep_states) {
        size_t bytes = w->n_buses * sizeof *o->vm;
        o->vm = malloc(bytes ? bytes : 1);
        o->va = malloc(bytes ? bytes : 1);
        if (!o->vm || !o->va) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        } else {
            memcpy(o->vm, r->vm, bytes);
            memcpy(o->va, r->va, bytes);
        }
    }
    pg_pf_result_free(r);
    return rc;
}

int
pg_pf_contingency(const pg_world *w, const pg_pf_contingency_options *opts,
                  pg_pf_contingency_result **out, pg_error *err)
{
    if (!w || !opts || !out)
        return pg_error_set(err, PG_EINVAL, "pg_pf_contingency: NULL argument");
    int rc = check_options(w, opts, err);
    if (rc)
        return rc;
    pg_pf_solver *s = NULL;
    double *cut = NULL;
    pg_pf_contingency_result *res = calloc(1, sizeof *res);
    if (!res) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    double t0 = pgi_now();
    if ((rc = pg_pf_solver_new(&s, &opts->pf, err)) ||
        (rc = pg_pf_solver_solve(s, w, &res->base, err)))
        goto out;
    pg_pf_summarize(w, res->base, opts->rating, &res->base_summary);
    if (!res->base->converged) {
        res->time_base_s = pgi_now() - t0;
        goto done;
    }
    if ((rc = pgi_pf_solver_outage_begin(s, w, err)))
        goto out;
    cut = malloc((w->n_branches + 1) * sizeof *cut);
    if (!cut) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = find_bridges(w, res->base, cut, err)))
        goto out;
    double t1 = pgi_now();
    res->time_base_s = t1 - t0;
    size_t n = opts->branches ? opts->n_branches : 0;
    if (!opts->branches)
        for (size_t l = 0; l < w->n_branches; l++)
            n += w->branches[l].in_service;
    res->outages = calloc(n ? n : 1, sizeof *res->outages);
    if (!res->outages) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    size_t next = 0;
    for (size_t k = 0; k < n; k++) {
        if (opts->stop && *opts->stop) {
            rc = pg_error_set(err, PG_ECANCELED,
                              "contingency analysis: stopped after %zu of %zu "
                              "outages",
                              k, n);
            goto out;
        }
        size_t l;
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
        if ((rc = study_outage(s, w, opts, res->base, cut, o, err)))
            goto out;
        res->n_solved += o->status == PG_PF_OUTAGE_SOLVED;
        res->n_converged += o->status == PG_PF_OUTAGE_SOLVED && o->summary.converged;
        res->n_islanding += o->status == PG_PF_OUTAGE_ISLANDING;
        if (opts->progress)
            opts->progress(opts->progress_user, k + 1, n);
    }
    res->time_outages_s = pgi_now() - t1;
done:
    *out = res;
    res = NULL;
out:
    pg_pf_solver_free(s);
    free(cut);
    pg_pf_contingency_result_free(res);
    return rc;
}
