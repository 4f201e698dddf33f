/* The AC check of a schedule: for each step, the world as the schedule runs it (loads less what
 * was not served, units at their scheduled output, renewables at their dispatch, storage at its
 * net output) goes through the AC Newton-Raphson power flow, and what the DC schedule could not
 * see is reported: losses, the slack they put on the reference units, voltages outside limits,
 * overloaded branches, units outside their reactive limits. Each step starts from the model's
 * world at that step (src/model/steps.c), resampled to the schedule's steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/build.h"
#include "plurigrid/pf.h"

void
pg_dispatch_ac_free(pg_dispatch_ac *ac)
{
    if (!ac)
        return;
    free(ac->steps);
    free(ac);
}

/* What setting a step needs besides the world: allocated once for the whole check, so that
 * setting a step cannot fail. */
typedef struct ac_work {
    double *value; /* per series: its value over the step */
    double *load;  /* per bus: in-service load, MW */
    double *gen;   /* per bus: scheduled thermal output, MW */
} ac_work;

/* Sets the copy c to step t of schedule r of world w: the world at the step (the model's), then
 * loads less what was not served and units at their schedule. */
static void
set_step(pg_world *c, const pg_world *w, const pg_dispatch_result *r, const pgi_horizon *hz,
         size_t t, ac_work *ws, pg_dispatch_ac_step *st)
{
    size_t nb = r->n_buses;
    for (size_t s = 0; s < w->n_series; s++)
        ws->value[s] = pgi_horizon_value(hz, w, s, t);
    pgi_world_set_step(c, w, ws->value);
    double *load = ws->load, *gen = ws->gen;
    for (size_t b = 0; b < nb; b++)
        load[b] = gen[b] = 0.0;
    /* served share of each bus's loads */
    for (size_t i = 0; i < w->n_loads; i++)
        if (w->loads[i].in_service)
            load[w->loads[i].bus] += c->loads[i].p;
    for (size_t g = 0; g < w->n_thermals; g++)
        gen[w->thermals[g].bus] += r->thermal_p[t * r->n_thermals + g];
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        double served = 1.0;
        if (load[l->bus] > 0)
            served = fmax(0.0, 1.0 - r->bus_unserved[t * nb + l->bus] / load[l->bus]);
        c->loads[i].p *= served;
        c->loads[i].q *= served;
    }
    for (size_t g = 0; g < w->n_thermals; g++) {
        const pg_thermal *th = &w->thermals[g];
        pg_thermal *ct = &c->thermals[g];
        double p = r->thermal_p[t * r->n_thermals + g];
        double spill = r->bus_overgen[t * nb + th->bus];
        if (spill > 0 && gen[th->bus] > 0)
            p -= spill * p / gen[th->bus];
        ct->in_service = th->in_service && r->thermal_on[t * r->n_thermals + g];
        ct->p = ct->in_service ? p : 0.0;
    }
    /* A reference bus whose units are all off would leave its island without a slack: keep its
     * first available unit connected at 0 MW. */
    for (size_t b = 0; b < nb; b++) {
        if (w->buses[b].type != PG_BUS_REF)
            continue;
        size_t first = PG_NONE;
        bool any_on = false;
        for (size_t g = 0; g < w->n_thermals; g++)
            if (w->thermals[g].bus == b && w->thermals[g].in_service) {
                if (first == PG_NONE)
                    first = g;
                any_on = any_on || c->thermals[g].in_service;
            }
        if (!any_on && first != PG_NONE) {
            c->thermals[first].in_service = true;
            c->thermals[first].p = 0.0;
            st->ref_held = true;
        }
    }
    /* renewables at their dispatch, reactive power from their power factor */
    for (size_t k = 0; k < w->n_renewables; k++) {
        pg_renewable *cr = &c->renewables[k];
        cr->p = r->renewable_p[t * r->n_renewables + k];
        cr->q = pgi_renewable_q(&w->renewables[k], cr->p);
    }
    for (size_t s = 0; s < w->n_storages; s++) {
        size_t i = t * r->n_storages + s;
        c->storages[s].p = r->storage_discharge[i] - r->storage_charge[i];
        c->storages[s].q = 0.0;
    }
}

static void
measure(const pg_world *c, const pg_pf_result *pf, pg_dispatch_ac_step *st)
{
    st->solved = pf->all_solved;
    st->iterations = pf->iterations;
    if (!pf->all_solved)
        snprintf(st->reason, sizeof st->reason, "%.399s",
                 pf->reason[0] ? pf->reason : "did not converge");
    st->losses_mw = pf->loss_p;
    st->vm_min = INFINITY;
    st->vm_max = -INFINITY;
    for (size_t b = 0; b < c->n_buses; b++) {
        if (pf->island[b] == PG_NONE || pf->islands[pf->island[b]].status != PG_PF_ISLAND_SOLVED)
            continue;
        double vm = pf->vm[b];
        st->vm_min = fmin(st->vm_min, vm);
        st->vm_max = fmax(st->vm_max, vm);
        if (vm < c->buses[b].vmin - 1e-6 || vm > c->buses[b].vmax + 1e-6)
            st->n_voltage++;
    }
    if (!isfinite(st->vm_min))
        st->vm_min = st->vm_max = NAN;
    for (size_t k = 0; k < c->n_branches; k++) {
        const pg_branch *br = &c->branches[k];
        if (!br->in_service || !(br->rate_a > 0))
            continue;
        double s = fmax(hypot(pf->pf[k], pf->qf[k]), hypot(pf->pt[k], pf->qt[k]));
        double loading = s / br->rate_a;
        st->max_loading = fmax(st->max_loading, loading);
        if (loading > 1 + 1e-6)
            st->n_overload++;
    }
    for (size_t g = 0; g < c->n_thermals; g++) {
        const pg_thermal *th = &c->thermals[g];
        if (!th->in_service)
            continue;
        if (pf->qg[g] < th->qmin - 1e-6 || pf->qg[g] > th->qmax + 1e-6)
            st->n_q_limit++;
        if (c->buses[th->bus].type == PG_BUS_REF)
            st->slack_mw += pf->pg[g] - th->p;
    }
}

int
pg_dispatch_ac_check(const pg_world *w, const pg_dispatch_result *r,
                     const pg_dispatch_options *opts, pg_dispatch_ac **out, pg_error *err)
{
    if (!w || !r || !out)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_ac_check: NULL argument");
    if (w->n_buses != r->n_buses || w->n_thermals != r->n_thermals ||
        w->n_renewables != r->n_renewables || w->n_storages != r->n_storages ||
        w->n_branches != r->n_branches)
        return pg_error_set(err, PG_EINVAL, "the dispatch result is not from this world");
    int rc = PG_OK;
    pg_world *c = NULL;
    pg_pf_solver *solver = NULL;
    pgi_horizon hz = {0};
    ac_work ws = {0};
    pg_dispatch_ac *ac = calloc(1, sizeof *ac);
    if (!ac || !(ac->steps = calloc(r->n_steps ? r->n_steps : 1, sizeof *ac->steps)) ||
        !(ws.value = calloc(w->n_series ? w->n_series : 1, sizeof *ws.value)) ||
        !(ws.load = calloc(r->n_buses ? r->n_buses : 1, sizeof *ws.load)) ||
        !(ws.gen = calloc(r->n_buses ? r->n_buses : 1, sizeof *ws.gen))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    ac->n_steps = r->n_steps;
    if (r->n_steps && (rc = pgi_horizon_make(&hz, w, r->start_step, r->step_h, r->n_steps, err)))
        goto out;
    if ((rc = pg_world_clone(&c, w, err)) || (rc = pg_pf_solver_new(&solver, NULL, err)))
        goto out;
    for (size_t t = 0; t < r->n_steps; t++) {
        if (opts && opts->progress)
            opts->progress(opts->progress_user, PG_DISPATCH_AC, t, r->n_steps);
        pg_dispatch_ac_step *st = &ac->steps[t];
        set_step(c, w, r, &hz, t, &ws, st);
        pg_pf_result *pf = NULL;
        if ((rc = pg_pf_solver_solve(solver, c, &pf, err)))
            goto out;
        measure(c, pf, st);
        pg_pf_result_free(pf);
        ac->n_unsolved += !st->solved;
        ac->n_with_violations += st->n_voltage || st->n_overload || st->n_q_limit;
    }
    *out = ac;
    ac = NULL;
out:
    free(ws.value);
    free(ws.load);
    free(ws.gen);
    pg_pf_solver_free(solver);
    pg_world_free(c);
    pg_dispatch_ac_free(ac);
    return rc;
}
