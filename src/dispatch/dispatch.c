/* The day-ahead run and the DC OPF: check the input, build the commitment MILP and solve it with
 * Cbc, fix the commitment, build and solve the dispatch LP (or the OPF's QP) with Clp, and read
 * the schedule, the prices (duals of the balance rows) and the cost split out of the answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dispatch/build.h"
#include "dispatch/limits.h"

#define DEG (M_PI / 180.0)

static void
progress(const pg_dispatch_options *o, pg_dispatch_phase ph, size_t step, size_t n)
{
    if (o->progress)
        o->progress(o->progress_user, ph, step, n);
}

void
pg_dispatch_result_free(pg_dispatch_result *r)
{
    if (!r)
        return;
    void *arrays[] = {r->thermal_p,    r->thermal_on,      r->thermal_start,  r->thermal_stop,
                      r->renewable_p,  r->renewable_avail, r->storage_charge, r->storage_discharge,
                      r->storage_soc,  r->bus_demand,      r->bus_unserved,   r->bus_overgen,
                      r->lmp,          r->bus_angle,       r->branch_flow,    r->branch_price,
                      r->energy_price, r->cost_variable,   r->cost_fixed,     r->cost_startup,
                      r->cost_penalty};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(arrays[i]);
    free(r);
}

static void
commitment_free(pgi_commitment *c)
{
    free(c->on);
    free(c->start);
    free(c->stop);
    free(c->storage_dir);
    memset(c, 0, sizeof *c);
}

static int
commitment_alloc(pgi_commitment *c, size_t T, size_t ng, size_t ns, pg_error *err)
{
    memset(c, 0, sizeof *c);
    size_t n = T * ng > 0 ? T * ng : 1, k = T * ns > 0 ? T * ns : 1;
    c->on = calloc(n, 1);
    c->start = calloc(n, 1);
    c->stop = calloc(n, 1);
    c->storage_dir = calloc(k, 1);
    if (!c->on || !c->start || !c->stop || !c->storage_dir) {
        commitment_free(c);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    return PG_OK;
}

/* The storage direction each step used, so the LP keeps it (idle steps stay free). */
static void
storage_dirs(const pgi_dmodel *m, const double *x, pgi_commitment *fix)
{
    for (size_t i = 0; i < m->T * m->ns; i++) {
        if (m->c_ch[i] < 0)
            continue;
        if (x[m->c_ch[i]] > 1e-7)
            fix->storage_dir[i] = 1;
        else if (x[m->c_dis[i]] > 1e-7)
            fix->storage_dir[i] = -1;
    }
}

static int
solve_commitment(pgi_dmodel *m, pgi_commitment *fix, pg_dispatch_result *res, pg_error *err)
{
    pgi_lp lp = {0};
    pgi_solution sol = {0};
    const pg_dispatch_options *o = &m->o;
    int rc = pgi_dmodel_build(m, NULL, &lp, err);
    if (rc)
        goto out;
    res->n_variables = (size_t)lp.ncols;
    res->n_constraints = (size_t)lp.nrows;
    res->n_integers = m->n_int;
    if (m->n_int == 0) { /* nothing to commit */
        res->uc_status = PG_UC_NONE;
        goto out;
    }
    progress(o, PG_DISPATCH_COMMITMENT, 0, m->T);
    pgi_solve_options so = {o->mip_gap, o->time_limit_s, o->threads, o->solver_log, 0};
    if ((rc = pgi_solve_mip(&lp, &so, &sol, err)))
        goto out;
    switch (sol.status) {
    case PGI_OPTIMAL:
    case PGI_LIMIT_FEASIBLE: break;
    case PGI_INFEASIBLE:
        rc = pg_error_set(err, PG_EMODEL,
                          "no commitment satisfies the units' hard limits (initial status and "
                          "output, minimum up/down times, ramp limits, storage targets); "
                          "shortages of energy are allowed, so one of those limits conflicts "
                          "with another");
        goto out;
    case PGI_LIMIT_NOSOLUTION:
        rc = pg_error_set(err, PG_ELIMIT,
                          "the unit commitment found no feasible schedule within the time limit "
                          "of %g s; allow more time",
                          o->time_limit_s);
        goto out;
    default:
        rc = pg_error_set(err, PG_ESOLVER,
                          "the unit commitment MILP is unbounded (a cost is "
                          "negative without limit)");
        goto out;
    }
    res->uc_status = sol.status == PGI_OPTIMAL ? PG_UC_OPTIMAL : PG_UC_TIME_LIMIT;
    res->uc_objective = sol.obj;
    res->uc_bound = sol.bound;
    res->uc_gap = fabs(sol.obj) > 0 ? (sol.obj - sol.bound) / fabs(sol.obj) : 0.0;
    res->uc_seconds = sol.seconds;
    for (size_t i = 0; i < m->T * m->ng; i++) {
        if (m->c_u[i] < 0)
            continue;
        fix->on[i] = sol.x[m->c_u[i]] > 0.5;
        fix->start[i] = sol.x[m->c_v[i]] > 0.5;
        fix->stop[i] = sol.x[m->c_w[i]] > 0.5;
    }
    storage_dirs(m, sol.x, fix);
out:
    pgi_solution_free(&sol);
    pgi_lp_free(&lp);
    return rc;
}

/* The bus whose price is the system energy price: the reference of the first reference bus's
 * island (the first live bus's when there is no reference bus). */
static size_t
energy_bus(const pgi_dmodel *m)
{
    size_t first = PG_NONE;
    for (size_t b = 0; b < m->nb; b++) {
        if (!m->bus_live[b])
            continue;
        if (first == PG_NONE)
            first = b;
        if (m->w->buses[b].type == PG_BUS_REF)
            return m->island_ref[m->island[b]];
    }
    return first == PG_NONE ? PG_NONE : m->island_ref[m->island[first]];
}

static int
fill_result(const pgi_dmodel *m, const pgi_commitment *fix, const pgi_solution *sol,
            pg_dispatch_result *r, pg_error *err)
{
    int rc = PG_OK;
    size_t T = m->T, nb = m->nb, ng = m->ng, nr = m->nr, ns = m->ns, nbr = m->nbr;
    const double *x = sol->x, *y = sol->dual;
    const pg_world *w = m->w;
    double dt = m->dt;
    bool dc = m->o.network == PG_NETWORK_DC;
    ALLOC(r->thermal_p, T * ng);
    ALLOC(r->thermal_on, T * ng);
    ALLOC(r->thermal_start, T * ng);
    ALLOC(r->thermal_stop, T * ng);
    ALLOC(r->renewable_p, T * nr);
    ALLOC(r->renewable_avail, T * nr);
    ALLOC(r->storage_charge, T * ns);
    ALLOC(r->storage_discharge, T * ns);
    ALLOC(r->storage_soc, T * ns);
    ALLOC(r->bus_demand, T * nb);
    ALLOC(r->bus_unserved, T * nb);
    ALLOC(r->bus_overgen, T * nb);
    ALLOC(r->lmp, T * nb);
    ALLOC(r->bus_angle, T * nb);
    ALLOC(r->branch_flow, T * nbr);
    ALLOC(r->branch_price, T * nbr);
    ALLOC(r->energy_price, T);
    ALLOC(r->cost_variable, T);
    ALLOC(r->cost_fixed, T);
    ALLOC(r->cost_startup, T);
    ALLOC(r->cost_penalty, T);
    size_t eb = energy_bus(m);
    for (size_t t = 0; t < T; t++) {
        double var = 0, fixed = 0, start = 0, pen = 0;
        for (size_t g = 0; g < ng; g++) {
            size_t i = t * ng + g;
            if (m->c_u[i] < 0)
                continue;
            const pg_thermal *th = &w->thermals[g];
            r->thermal_p[i] = pgi_dmodel_output(m, x, t, g);
            r->thermal_on[i] = fix->on[i];
            r->thermal_start[i] = fix->start[i];
            r->thermal_stop[i] = fix->stop[i];
            var += pgi_dmodel_curve_cost(m, x, t, g) * dt;
            fixed += th->fixed_cost * fix->on[i] * dt;
            start += th->startup_cost * fix->start[i] + th->shutdown_cost * fix->stop[i];
        }
        for (size_t k = 0; k < nr; k++) {
            size_t i = t * nr + k;
            r->renewable_avail[i] = m->avail[i];
            if (m->c_r[i] < 0)
                continue;
            r->renewable_p[i] = x[m->c_r[i]];
            var += w->renewables[k].cost * x[m->c_r[i]] * dt;
            r->total_curtailed_mwh += (m->avail[i] - x[m->c_r[i]]) * dt;
        }
        for (size_t s = 0; s < ns; s++) {
            size_t i = t * ns + s;
            if (m->c_ch[i] < 0)
                continue;
            r->storage_charge[i] = x[m->c_ch[i]];
            r->storage_discharge[i] = x[m->c_dis[i]];
            r->storage_soc[i] = x[m->c_soc[i]];
            var += w->storages[s].cost * x[m->c_dis[i]] * dt;
        }
        double shed = 0, spill = 0, cap_total = 0;
        if (!dc) {
            shed = m->c_us[t] >= 0 ? x[m->c_us[t]] : 0.0;
            spill = m->c_og[t] >= 0 ? x[m->c_og[t]] : 0.0;
            for (size_t b = 0; b < nb; b++)
                if (m->bus_live[b])
                    for (size_t g = 0; g < ng; g++)
                        if (m->thermal_live[g] && w->thermals[g].bus == b)
                            cap_total += fmax(0.0, w->thermals[g].pmax);
        }
        for (size_t b = 0; b < nb; b++)
            cap_total += fmax(0.0, -m->demand[t * nb + b]);
        for (size_t b = 0; b < nb; b++) {
            size_t i = t * nb + b;
            double d = m->demand[i];
            r->bus_demand[i] = d;
            if (!m->bus_live[b]) {
                r->lmp[i] = NAN;
                continue;
            }
            if (dc) {
                r->bus_unserved[i] = m->c_us[i] >= 0 ? x[m->c_us[i]] : 0.0;
                r->bus_overgen[i] = m->c_og[i] >= 0 ? x[m->c_og[i]] : 0.0;
                r->lmp[i] = y[m->r_bal[i]] / dt;
            } else {
                r->bus_unserved[i] = shed * fmax(0.0, d);
                if (cap_total > 0) {
                    double cap = fmax(0.0, -d);
                    for (size_t g = 0; g < ng; g++)
                        if (m->thermal_live[g] && w->thermals[g].bus == b)
                            cap += fmax(0.0, w->thermals[g].pmax);
                    r->bus_overgen[i] = spill * cap / cap_total;
                }
                r->lmp[i] = y[m->r_bal[t]] / dt;
            }
            pen += (m->o.voll * r->bus_unserved[i] + m->o.overgen_cost * r->bus_overgen[i]) * dt;
            r->total_unserved_mwh += r->bus_unserved[i] * dt;
            r->total_overgen_mwh += r->bus_overgen[i] * dt;
        }
        for (size_t k = 0; k < nbr; k++) {
            size_t i = t * nbr + k;
            if (!m->branch_live[k])
                continue;
            double pr = -sol->rc[m->c_flow[i]] / dt;
            r->branch_flow[i] = x[m->c_flow[i]];
            r->branch_price[i] = fabs(pr) < 1e-9 ? 0.0 : pr;
        }
        if (dc)
            pgi_dmodel_angles(m, &r->branch_flow[t * nbr], &r->bus_angle[t * nb]);
        r->energy_price[t] = eb == PG_NONE ? NAN : r->lmp[t * nb + eb];
        r->cost_variable[t] = var;
        r->cost_fixed[t] = fixed;
        r->cost_startup[t] = start;
        r->cost_penalty[t] = pen;
        r->total_cost += var + fixed + start + pen;
    }
out:
    return rc;
}

/* True when every price of the solution lies within [-over-generation cost, VOLL]: exactly the
 * condition for the unserved-energy and spill columns left out of it to have reduced costs >= 0,
 * so that the solution is optimal with them as well. */
static bool
prices_in_band(const pgi_dmodel *m, const pgi_solution *sol)
{
    double hi = m->o.voll * (1 + 1e-9) + 1e-9, lo = -m->o.overgen_cost * (1 + 1e-9) - 1e-9;
    bool dc = m->o.network == PG_NETWORK_DC;
    for (size_t t = 0; t < m->T; t++)
        for (size_t b = 0; b < (dc ? m->nb : 1); b++) {
            int r = m->r_bal[dc ? t * m->nb + b : t];
            if (r < 0)
                continue;
            double lmp = sol->dual[r] / m->dt;
            if (lmp > hi || lmp < lo)
                return false;
        }
    return true;
}

/* Solves the dispatch LP (or the OPF's QP) with the commitment fixed. It is solved first without
 * the penalised slack columns, which makes it much smaller (one unserved-energy column per bus
 * and step); when that answer is infeasible or its prices leave the band of prices_in_band, it
 * is solved again with them. */
static int
solve_dispatch(pgi_dmodel *m, const pgi_commitment *fix, pgi_solution *sol, pg_dispatch_result *res,
               pg_error *err)
{
    const pg_dispatch_options *o = &m->o;
    pgi_solve_options so = {o->mip_gap, o->time_limit_s, o->threads, o->solver_log, 0};
    int rc = PG_OK;
    for (int pass = 0; pass < 2; pass++) {
        pgi_lp lp = {0};
        m->slacks = pass == 1;
        rc = pgi_dmodel_build(m, fix, &lp, err);
        if (!rc)
            rc = pgi_solve_lp(&lp, &so, sol, err);
        if (res && (!o->commitment || res->n_integers == 0)) {
            res->n_variables = (size_t)lp.ncols;
            res->n_constraints = (size_t)lp.nrows;
        }
        pgi_lp_free(&lp);
        if (rc)
            return rc;
        if (pass == 1 || sol->status == PGI_UNBOUNDED ||
            (sol->status == PGI_OPTIMAL && prices_in_band(m, sol)))
            return PG_OK;
        pgi_solution_free(sol);
    }
    return rc;
}

int
pg_dispatch_run(const pg_world *w, const pg_dispatch_options *opts, pg_dispatch_result **out,
                pg_error *err)
{
    pg_dispatch_options o;
    if (opts)
        o = *opts;
    else
        pg_dispatch_options_init(&o);
    if (!w || !out)
        return pg_error_set(err, PG_EINVAL, "pg_dispatch_run: NULL argument");
    int rc = pg_dispatch_check(w, &o, err);
    if (rc)
        return rc;
    progress(&o, PG_DISPATCH_BUILD, 0, 0);
    pgi_dmodel m;
    pgi_commitment fix = {0};
    pgi_solution sol = {0};
    pg_dispatch_result *res = NULL;
    if ((rc = pgi_dmodel_init(&m, w, &o, false, err)))
        return rc;
    ALLOC(res, 1);
    res->n_steps = m.T;
    res->step_h = m.dt;
    res->start_step = o.start_step;
    res->network = o.network;
    res->n_buses = m.nb;
    res->n_branches = m.nbr;
    res->n_thermals = m.ng;
    res->n_renewables = m.nr;
    res->n_storages = m.ns;
    if ((rc = commitment_alloc(&fix, m.T, m.ng, m.ns, err)))
        goto out;
    if (o.commitment) {
        if ((rc = solve_commitment(&m, &fix, res, err)))
            goto out;
    } else {
        for (size_t t = 0; t < m.T; t++)
            for (size_t g = 0; g < m.ng; g++)
                fix.on[t * m.ng + g] = m.thermal_live[g];
    }
    progress(&o, PG_DISPATCH_ECONOMIC, 0, m.T);
    if ((rc = solve_dispatch(&m, &fix, &sol, res, err)))
        goto out;
    if (sol.status != PGI_OPTIMAL) {
        rc = sol.status == PGI_INFEASIBLE
                 ? pg_error_set(err, PG_EMODEL,
                                "no dispatch satisfies the units' hard limits (initial output, "
                                "ramp limits, storage targets); shortages of energy are allowed, "
                                "so one of those limits conflicts with another")
                 : pg_error_set(err, PG_ESOLVER, "the dispatch LP is unbounded");
        goto out;
    }
    res->ed_seconds = sol.seconds;
    if ((rc = fill_result(&m, &fix, &sol, res, err)))
        goto out;
    progress(&o, PG_DISPATCH_DONE, m.T, m.T);
    *out = res;
    res = NULL;
out:
    pg_dispatch_result_free(res);
    pgi_solution_free(&sol);
    commitment_free(&fix);
    pgi_dmodel_free(&m);
    return rc;
}

/* ------------------------------------------------------------------ DC OPF */

void
pg_dcopf_result_free(pg_dcopf_result *r)
{
    if (!r)
        return;
    free(r->pg);
    free(r->va);
    free(r->lmp);
    free(r->flow);
    free(r->branch_price);
    free(r);
}

int
pg_dcopf_solve(const pg_world *w, const pg_dispatch_options *opts, pg_dcopf_result **out,
               pg_error *err)
{
    pg_dispatch_options o;
    if (opts)
        o = *opts;
    else
        pg_dispatch_options_init(&o);
    if (!w || !out)
        return pg_error_set(err, PG_EINVAL, "pg_dcopf_solve: NULL argument");
    o.network = PG_NETWORK_DC;
    o.commitment = false;
    o.intertemporal = false;
    o.horizon = 1;
    int rc = pgi_dispatch_check(w, &o, true, err);
    if (rc)
        return rc;
    pgi_dmodel m;
    pgi_commitment fix = {0};
    pgi_solution sol = {0};
    pg_dispatch_result *full = NULL;
    pg_dcopf_result *res = NULL;
    if ((rc = pgi_dmodel_init(&m, w, &o, true, err)))
        return rc;
    if ((rc = commitment_alloc(&fix, 1, m.ng, m.ns, err)))
        goto out;
    for (size_t g = 0; g < m.ng; g++)
        fix.on[g] = m.thermal_live[g];
    if ((rc = solve_dispatch(&m, &fix, &sol, NULL, err)))
        goto out;
    if (sol.status != PGI_OPTIMAL) {
        rc = pg_error_set(err, sol.status == PGI_INFEASIBLE ? PG_EMODEL : PG_ESOLVER,
                          "the DC OPF has no solution (%s)",
                          sol.status == PGI_INFEASIBLE ? "infeasible limits" : "unbounded");
        goto out;
    }
    ALLOC(full, 1);
    if ((rc = fill_result(&m, &fix, &sol, full, err)))
        goto out;
    ALLOC(res, 1);
    res->n_buses = m.nb;
    res->n_branches = m.nbr;
    res->n_thermals = m.ng;
    ALLOC(res->pg, m.ng);
    ALLOC(res->va, m.nb);
    ALLOC(res->lmp, m.nb);
    ALLOC(res->flow, m.nbr);
    ALLOC(res->branch_price, m.nbr);
    memcpy(res->pg, full->thermal_p, m.ng * sizeof(double));
    memcpy(res->va, full->bus_angle, m.nb * sizeof(double));
    memcpy(res->lmp, full->lmp, m.nb * sizeof(double));
    memcpy(res->flow, full->branch_flow, m.nbr * sizeof(double));
    memcpy(res->branch_price, full->branch_price, m.nbr * sizeof(double));
    res->objective = full->cost_variable[0] + full->cost_fixed[0];
    for (size_t b = 0; b < m.nb; b++) {
        res->unserved_mw += full->bus_unserved[b];
        res->overgen_mw += full->bus_overgen[b];
    }
    res->seconds = sol.seconds;
    *out = res;
    res = NULL;
out:
    pg_dcopf_result_free(res);
    pg_dispatch_result_free(full);
    pgi_solution_free(&sol);
    commitment_free(&fix);
    pgi_dmodel_free(&m);
    return rc;
}
