/* Summaries of power-flow results: the few numbers a batch study keeps of each solve (totals,
 * voltage extremes and violations, the most loaded branch and the overloads against a chosen
 * rating) instead of the per-bus and per-branch arrays. */
#include <math.h>
#include <string.h>

#include "powerflow/pf_internal.h"

/* Tolerances of the violation counts: a bus or branch right at its limit is not in violation. */
#define VM_TOL 1e-6
#define LOADING_TOL 1e-6

static double
rating_of(const pg_branch *br, pg_pf_rating rating)
{
    switch (rating) {
    case PG_PF_RATE_B: return br->rate_b;
    case PG_PF_RATE_C: return br->rate_c;
    case PG_PF_RATE_A:
    default: return br->rate_a;
    }
}

/* Whether bus b was part of a solved island of r (it has a voltage). */
static bool
energized(const pg_pf_result *r, size_t b)
{
    size_t i = r->island[b];
    return i != PG_NONE && i < r->n_islands && r->islands[i].status == PG_PF_ISLAND_SOLVED &&
           r->bus_type[b] != PG_BUS_ISOLATED;
}

void
pg_pf_summarize(const pg_world *w, const pg_pf_result *r, pg_pf_rating rating, pg_pf_summary *s)
{
    pgi_pf_summarize_without(w, r, rating, PG_NONE, s);
}

void
pgi_pf_summarize_without(const pg_world *w, const pg_pf_result *r, pg_pf_rating rating, size_t skip,
                         pg_pf_summary *s)
{
    memset(s, 0, sizeof *s);
    s->converged = r->converged;
    s->iterations = r->iterations;
    s->max_mismatch = r->max_mismatch;
    s->load_p = r->load_p;
    s->gen_p = r->gen_p;
    s->loss_p = r->loss_p;
    s->vm_min = s->vm_max = NAN;
    s->vm_min_bus = s->vm_max_bus = PG_NONE;
    s->max_loading_branch = PG_NONE;
    size_t nb = r->n_buses < w->n_buses ? r->n_buses : w->n_buses;
    for (size_t b = 0; b < nb; b++) {
        if (!energized(r, b))
            continue;
        double vm = r->vm[b];
        if (s->vm_min_bus == PG_NONE || vm < s->vm_min) {
            s->vm_min = vm;
            s->vm_min_bus = b;
        }
        if (s->vm_max_bus == PG_NONE || vm > s->vm_max) {
            s->vm_max = vm;
            s->vm_max_bus = b;
        }
        const pg_bus *bus = &w->buses[b];
        if (vm < bus->vmin - VM_TOL || vm > bus->vmax + VM_TOL)
            s->n_voltage_violations++;
    }
    size_t nl = r->n_branches < w->n_branches ? r->n_branches : w->n_branches;
    for (size_t l = 0; l < nl; l++) {
        const pg_branch *br = &w->branches[l];
        double rate = rating_of(br, rating);
        if (l == skip || !br->in_service || !(rate > 0))
            continue;
        double sf = sqrt(r->pf[l] * r->pf[l] + r->qf[l] * r->qf[l]);
        double st = sqrt(r->pt[l] * r->pt[l] + r->qt[l] * r->qt[l]);
        double loading = (sf > st ? sf : st) / rate;
        if (s->max_loading_branch == PG_NONE || loading > s->max_loading) {
            s->max_loading = loading;
            s->max_loading_branch = l;
        }
        if (loading > 1 + LOADING_TOL)
            s->n_overloads++;
    }
}
