/* The power-flow solver object and the one-shot pg_pf_solve: turns a world into injections, runs
 * the AC Newton-Raphson (with MATPOWER's PV-to-PQ switching when Q limits are enforced) or the DC
 * solve, and writes the result as MATPOWER's pfsoln does: generator Q at voltage-controlled buses
 * from the solved injection (split among the units of a bus in proportion to their Q ranges), the
 * reference unit's P from the slack, branch flows at both ends, totals and losses.
 *
 * The solver keeps the network view (pattern, islands, values), the Newton and DC engines (their
 * KLU symbolic analyses and factors) and the workspaces between calls, so a world with the same
 * topology costs only numeric work. pg_pf_solve makes a solver that solves once: it builds only
 * what that solve reads (nothing to recognise the next world by, no kept start, no table of
 * branch admittances: the results compute them from the world, as the matrix does). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "powerflow/pf_internal.h"

struct pg_pf_solver {
    pg_pf_options opt;
    bool once;            /* solves one world and is freed (pg_pf_solve) */
    pgi_pf_region region; /* where the blocks below come from */
    pgi_pf_net net;
    pgi_pf_newton nr;
    pgi_pf_dc dc;
    /* Workspaces, sized for nb buses and ng units, in one block. */
    void *ws;
    size_t ws_size;
    int nb, ng;
    double *injp, *injq;    /* nb: loads, renewables and storage, MW / MVAr */
    double *sbr, *sbi;      /* nb: Sbus, p.u. */
    double *vm, *va;        /* nb: p.u., radians */
    int *cls;               /* nb: working bus classes */
    int *ref0;              /* islands: the reference bus before Q-limit switching */
    double *pgw, *qgw;      /* ng: working unit outputs, MW / MVAr */
    double *isl_load;       /* islands: load, MW */
    unsigned char *limited; /* ng */
};

void
pg_pf_options_init(pg_pf_options *o)
{
    memset(o, 0, sizeof *o);
    o->tol = 1e-8;
    o->max_iter = 10;
    o->q_lim_tol = 5e-6;
}

static int
check_options(const pg_pf_options *o, pg_error *err)
{
    if (!(o->tol > 0) || !isfinite(o->tol))
        return pg_error_set(err, PG_EINVAL,
                            "power flow: the tolerance must be a positive "
                            "number, got %g",
                            o->tol);
    if (o->max_iter < 0)
        return pg_error_set(err, PG_EINVAL,
                            "power flow: the iteration limit must be 0 or more, "
                            "got %d",
                            o->max_iter);
    if (!(o->q_lim_tol >= 0) || !isfinite(o->q_lim_tol))
        return pg_error_set(err, PG_EINVAL,
                            "power flow: the Q-limit tolerance must be 0 or more,"
                            " got %g",
                            o->q_lim_tol);
    return PG_OK;
}

static int
solver_new(pg_pf_solver **out, const pg_pf_options *opts, bool once, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_pf_solver_new: out is NULL");
    pg_pf_options o;
    if (opts)
        o = *opts;
    else
        pg_pf_options_init(&o);
    int rc = check_options(&o, err);
    if (rc)
        return rc;
    pg_pf_solver *s = calloc(1, sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    s->opt = o;
    s->once = once;
    s->nb = s->ng = -1;
    s->net.rg = &s->region;
    pgi_pf_newton_init(&s->nr, !once, &s->region);
    pgi_pf_dc_init(&s->dc, &s->region);
    *out = s;
    return PG_OK;
}

int
pg_pf_solver_new(pg_pf_solver **out, const pg_pf_options *opts, pg_error *err)
{
    return solver_new(out, opts, false, err);
}

static void
workspace_free(pg_pf_solver *s)
{
    pgi_pf_block_free(&s->region, s->ws, s->ws_size);
    s->ws = NULL;
    s->ws_size = 0;
    s->injp = s->injq = s->sbr = s->sbi = s->vm = s->va = s->pgw = s->qgw = s->isl_load = NULL;
    s->cls = s->ref0 = NULL;
    s->limited = NULL;
    s->nb = s->ng = -1;
}

void
pg_pf_solver_free(pg_pf_solver *s)
{
    if (!s)
        return;
    pgi_pf_newton_clear(&s->nr);
    pgi_pf_dc_clear(&s->dc);
    workspace_free(s);
    pgi_pf_net_free(&s->net);
    pgi_pf_region_free(&s->region);
    free(s);
}

void
pg_pf_solver_get_info(const pg_pf_solver *s, pg_pf_solver_info *info)
{
    memset(info, 0, sizeof *info);
    if (!s)
        return;
    if (s->opt.dc) {
        const pgi_pf_dc *dc = &s->dc;
        info->jacobian_n = dc->n;
        info->jacobian_nnz = dc->bnnz;
        if (dc->num)
            info->lu_nnz = dc->num->lnz + dc->num->unz;
        info->analyses = dc->analyses;
        info->factorizations = dc->factorizations;
    } else {
        const pgi_pf_newton *nr = &s->nr;
        info->jacobian_n = nr->n;
        info->jacobian_nnz = nr->jnnz;
        if (nr->num)
            info->lu_nnz = nr->num->lnz + nr->num->unz;
        info->analyses = nr->analyses;
        info->factorizations = nr->factorizations;
        info->refactorizations = nr->refactorizations;
    }
}

static void
workspace_layout(pg_pf_solver *s, pgi_pf_layout *l, size_t nb, size_t ng)
{
    PGI_TAKE(l, s->injp, nb);
    PGI_TAKE(l, s->injq, nb);
    PGI_TAKE(l, s->sbr, nb);
    PGI_TAKE(l, s->sbi, nb);
    PGI_TAKE(l, s->vm, nb);
    PGI_TAKE(l, s->va, nb);
    PGI_TAKE(l, s->pgw, ng);
    PGI_TAKE(l, s->qgw, ng);
    PGI_TAKE(l, s->isl_load, nb); /* islands <= buses */
    PGI_TAKE(l, s->cls, nb);
    PGI_TAKE(l, s->ref0, nb); /* islands <= buses */
    PGI_TAKE(l, s->limited, ng);
}

/* What the solver's blocks take at most for w's network (what: its PGI_VAL_* mask). */
static size_t
region_bound(pg_pf_solver *s, const pg_world *w, unsigned what)
{
    size_t nb = w->n_buses, ycap = nb + 2 * w->n_branches;
    pg_pf_solver shape;
    pgi_pf_layout ws = {0}, all = {0};
    workspace_layout(&shape, &ws, nb, w->n_thermals);
    pgi_pf_take(&all, pgi_pf_net_bound(w, !s->once, what), 1);
    pgi_pf_take(&all, pgi_pf_block_size(ws.size), 1);
    pgi_pf_take(&all, s->opt.dc ? pgi_pf_dc_bound(nb, ycap) : pgi_pf_newton_bound(&s->nr, nb, ycap),
                1);
    return all.size;
}

static int
workspace_fit(pg_pf_solver *s, int nb, int ng, pg_error *err)
{
    if (s->ws && s->nb == nb && s->ng == ng)
        return PG_OK;
    workspace_free(s);
    pgi_pf_layout lay = {0};
    workspace_layout(s, &lay, (size_t)nb, (size_t)ng);
    s->ws = pgi_pf_block_alloc(&s->region, lay.size);
    if (!s->ws)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    s->ws_size = lay.size;
    lay = (pgi_pf_layout){.base = s->ws};
    workspace_layout(s, &lay, (size_t)nb, (size_t)ng);
    s->nb = nb;
    s->ng = ng;
    return PG_OK;
}

/* ---------------------------------------------------------------- results */

void
pg_pf_result_free(pg_pf_result *r)
{
    free(r); /* its arrays are in the same block */
}

/* The result and its arrays, in one block; fill_results writes every element. */
static void
result_layout(pg_pf_result *r, pgi_pf_layout *l)
{
    size_t b = r->n_buses, g = r->n_thermals, n = r->n_branches;
    PGI_TAKE(l, r->vm, b);
    PGI_TAKE(l, r->va, b);
    PGI_TAKE(l, r->island, b);
    PGI_TAKE(l, r->pg, g);
    PGI_TAKE(l, r->qg, g);
    PGI_TAKE(l, r->pf, n);
    PGI_TAKE(l, r->qf, n);
    PGI_TAKE(l, r->pt, n);
    PGI_TAKE(l, r->qt, n);
    PGI_TAKE(l, r->islands, r->n_islands);
    PGI_TAKE(l, r->bus_type, b);
    PGI_TAKE(l, r->q_limited, g);
}

/* A result with head's numbers and counts, and room for its arrays. */
static pg_pf_result *
result_new(const pg_pf_result *head)
{
    pg_pf_result shape = *head;
    pgi_pf_layout lay = {.size = sizeof shape};
    result_layout(&shape, &lay);
    pg_pf_result *r = lay.size == SIZE_MAX ? NULL : malloc(lay.size);
    if (!r)
        return NULL;
    *r = shape;
    lay = (pgi_pf_layout){.base = (char *)r, .size = sizeof *r};
    result_layout(r, &lay);
    return r;
}

static void
append_reason(pg_pf_result *r, const char *text)
{
    size_t len = strlen(r->reason);
    if (len > 0 && len + 2 < sizeof r->reason) {
        pgi_pf_say(r->reason + len, sizeof r->reason - len, "; ");
        len += 2;
    }
    pgi_pf_say(r->reason + len, sizeof r->reason - len, "%s", text);
}

static bool
bus_solved(const pg_pf_solver *s, int b)
{
    return s->cls[b] != PGI_DEAD;
}

/* Fixed injections per bus (MW, MVAr): in-service loads (drawn), renewables and storage
 * (injected). Their totals are summed as they are read: the load of each island (in isl_load),
 * and the served load and injections at the buses that take part in the solve (in r). */
static void
fixed_injections(pg_pf_solver *s, const pg_world *w, pg_pf_result *r)
{
    const pgi_pf_net *net = &s->net;
    bool ac = !s->opt.dc;
    for (int b = 0; b < net->nb; b++)
        s->injp[b] = s->injq[b] = 0;
    for (int i = 0; i < net->n_islands; i++)
        s->isl_load[i] = net->islands[i].load_mw;
    double load_p = 0, load_q = 0, inj_p = 0, inj_q = 0;
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (!l->in_service)
            continue;
        s->injp[l->bus] -= l->p;
        s->injq[l->bus] -= l->q;
        int isl = net->island[l->bus];
        if (isl >= 0)
            s->isl_load[isl] += l->p;
        if (bus_solved(s, (int)l->bus)) {
            load_p += l->p;
            load_q += ac ? l->q : 0;
        }
    }
    for (size_t i = 0; i < w->n_renewables; i++) {
        const pg_renewable *u = &w->renewables[i];
        if (!u->in_service)
            continue;
        s->injp[u->bus] += u->p;
        s->injq[u->bus] += u->q;
        if (bus_solved(s, (int)u->bus)) {
            inj_p += u->p;
            inj_q += ac ? u->q : 0;
        }
    }
    for (size_t i = 0; i < w->n_storages; i++) {
        const pg_storage *u = &w->storages[i];
        if (!u->in_service)
            continue;
        s->injp[u->bus] += u->p;
        s->injq[u->bus] += u->q;
        if (bus_solved(s, (int)u->bus)) {
            inj_p += u->p;
            inj_q += ac ? u->q : 0;
        }
    }
    r->load_p = load_p;
    r->load_q = load_q;
    r->inj_p = inj_p;
    r->inj_q = inj_q;
}

/* Sbus in p.u.: fixed injections plus every unit in service at the bus (regulating units' Q only
 * matters once their bus becomes PQ). */
static void
make_sbus(pg_pf_solver *s, double base)
{
    const pgi_pf_net *net = &s->net;
    for (int b = 0; b < net->nb; b++) {
        double p = s->injp[b], q = s->injq[b];
        for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
            p += s->pgw[net->gi[k]];
            q += s->qgw[net->gi[k]];
        }
        s->sbr[b] = bus_solved(s, b) ? p / base : 0;
        s->sbi[b] = bus_solved(s, b) ? q / base : 0;
    }
}

static bool
regulating(const pg_pf_solver *s, int g, int b)
{
    return !s->limited[g] && (s->cls[b] == PGI_REF || s->cls[b] == PGI_PV);
}

/* MATPOWER's pfsoln for the units: Q of regulating units from the solved injection at their bus
 * (split among several units in proportion to their Q ranges), P of the first unit at each
 * reference bus from the slack. sr, si: solved injections V conj(Ybus V), p.u. */
static void
update_units(pg_pf_solver *s, const pg_world *w, const double *sr, const double *si)
{
    const pgi_pf_net *net = &s->net;
    double base = w->base_mva;
    const double eps = 2.220446049250313e-16;
    for (int b = 0; b < net->nb; b++) {
        if (s->cls[b] != PGI_REF && s->cls[b] != PGI_PV)
            continue;
        /* Fixed part at the bus: loads etc. and units that do not regulate (held at a limit). */
        double fixp = s->injp[b], fixq = s->injq[b];
        int nreg = 0, first = -1;
        for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
            int g = net->gi[k];
            if (regulating(s, g, b)) {
                nreg++;
                if (first < 0)
                    first = g;
            } else {
                fixp += s->pgw[g];
                fixq += s->qgw[g];
            }
        }
        if (nreg == 0)
            continue;
        double qtot = si[b] * base - fixq;
        if (nreg == 1) {
            s->qgw[first] = qtot;
        } else {
            /* Equal shares first, then in proportion to the Q ranges, infinite limits replaced
             * by a proxy M (sum over the bus of |Qg| and the finite limits). */
            double share = qtot / nreg, m = 0, qmin_sum = 0, qmax_sum = 0;
            for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
                int g = net->gi[k];
                if (!regulating(s, g, b))
                    continue;
                const pg_thermal *t = &w->thermals[g];
                m += fabs(share);
                if (!isinf(t->qmax))
                    m += fabs(t->qmax);
                if (!isinf(t->qmin))
                    m += fabs(t->qmin);
            }
            for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
                int g = net->gi[k];
                if (!regulating(s, g, b))
                    continue;
                const pg_thermal *t = &w->thermals[g];
                qmin_sum += isinf(t->qmin) ? (t->qmin > 0 ? m : -m) : t->qmin;
                qmax_sum += isinf(t->qmax) ? (t->qmax > 0 ? m : -m) : t->qmax;
            }
            double range = qmax_sum - qmin_sum;
            for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
                int g = net->gi[k];
                if (!regulating(s, g, b))
                    continue;
                const pg_thermal *t = &w->thermals[g];
                double qmin = isinf(t->qmin) ? (t->qmin > 0 ? m : -m) : t->qmin;
                double qmax = isinf(t->qmax) ? (t->qmax > 0 ? m : -m) : t->qmax;
                if (fabs(range) < 10 * eps)
                    s->qgw[g] = qmin + (qtot - qmin_sum) / nreg;
                else
                    s->qgw[g] = qmin + (qtot - qmin_sum) / (range + eps) * (qmax - qmin);
            }
        }
        if (s->cls[b] == PGI_REF) {
            double p = sr[b] * base - fixp;
            for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
                int g = net->gi[k];
                if (g != first && regulating(s, g, b))
                    p -= s->pgw[g];
            }
            s->pgw[first] = p;
        }
    }
}

/* After a converged round with Q limits enforced: finds units beyond their limits and switches
 * their buses to PQ, choosing a new reference bus in an island that lost its own. Returns 1 when
 * something was switched (run again), 0 when all units are within limits, -1 when it cannot go
 * on (reason written). */
static int
switch_q_limits(pg_pf_solver *s, const pg_world *w, char *reason, size_t rsize)
{
    const pgi_pf_net *net = &s->net;
    double tol = s->opt.q_lim_tol;
    int n_mx = 0, n_mn = 0, n_viol = 0, n_remaining = 0, n_viol_remaining = 0;
    for (int b = 0; b < net->nb; b++) {
        if (!bus_solved(s, b))
            continue;
        for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
            int g = net->gi[k];
            if (s->limited[g])
                continue;
            const pg_thermal *t = &w->thermals[g];
            bool mx = s->qgw[g] > t->qmax + tol, mn = s->qgw[g] < t->qmin - tol;
            bool reg = regulating(s, g, b);
            n_mx += mx;
            n_mn += mn;
            n_viol += mx || mn;
            n_remaining += reg;
            n_viol_remaining += reg && (mx || mn);
        }
    }
    if (n_viol == 0)
        return 0;
    /* MATPOWER: when every remaining voltage-controlling unit violates the same kind of limit,
     * no switching can help. */
    if (n_viol == n_remaining && n_viol_remaining == n_remaining && (n_mx == 0 || n_mn == 0)) {
        pgi_pf_say(reason, rsize,
                   "all %d remaining voltage-controlling units exceed their %s reactive limits: "
                   "the reactive demand cannot be met",
                   n_remaining, n_mx ? "upper" : "lower");
        return -1;
    }
    for (int b = 0; b < net->nb; b++) {
        if (!bus_solved(s, b))
            continue;
        for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
            int g = net->gi[k];
            if (s->limited[g])
                continue;
            const pg_thermal *t = &w->thermals[g];
            if (s->qgw[g] > t->qmax + tol)
                s->qgw[g] = t->qmax;
            else if (s->qgw[g] < t->qmin - tol)
                s->qgw[g] = t->qmin;
            else
                continue;
            s->limited[g] = 1;
            s->cls[b] = PGI_PQ;
        }
    }
    /* Islands that lost their reference bus take their first PV bus, as MATPOWER's bustypes. */
    for (int i = 0; i < net->n_islands; i++) {
        if (net->islands[i].status != PG_PF_ISLAND_SOLVED)
            continue;
        bool has_ref = false;
        int first_pv = -1;
        for (int b = (int)net->islands[i].first_bus; b < net->nb; b++) {
            if (net->island[b] != i)
                continue;
            if (s->cls[b] == PGI_REF)
                has_ref = true;
            if (s->cls[b] == PGI_PV && first_pv < 0)
                first_pv = b;
        }
        if (has_ref)
            continue;
        if (first_pv < 0) {
            pgi_pf_say(reason, rsize,
                       "no unit is left to hold the voltage within its reactive limits in the "
                       "island of %zu buses with bus %d",
                       net->islands[i].n_buses, w->buses[net->islands[i].first_bus].number);
            return -1;
        }
        s->cls[first_pv] = PGI_REF;
    }
    return 1;
}

static double
wrap_deg(double rad)
{
    if (rad > -M_PI && rad <= M_PI)
        return rad * (180.0 / M_PI);
    double a = remainder(rad, 2 * M_PI);
    if (a <= -M_PI)
        a += 2 * M_PI;
    return a * (180.0 / M_PI);
}

/* Bus, branch and total results once vm/va (and the units) are final (the totals of loads and
 * other fixed injections are summed by fixed_injections); writes every element of r's arrays. A
 * kept solver reads the branch admittances and shunts it keeps; one that solves once computes
 * them from the world here, as it did for the matrix (the same bits). The totals are summed in
 * local variables: summed in r, each addition would wait for the store of the previous one, since
 * the compiler cannot tell r's totals from its arrays. */
static void
fill_results(pg_pf_solver *s, const pg_world *w, pg_pf_result *r, bool dc)
{
    const pgi_pf_net *net = &s->net;
    double base = w->base_mva;
    for (int i = 0; i < net->n_islands; i++) {
        r->islands[i] = net->islands[i];
        r->islands[i].load_mw = s->isl_load[i];
    }
    double shunt_p = 0, shunt_q = 0;
    for (int b = 0; b < net->nb; b++) {
        r->island[b] = net->island[b] < 0 ? PG_NONE : (size_t)net->island[b];
        if (!bus_solved(s, b)) {
            r->vm[b] = r->va[b] = 0;
            r->bus_type[b] = PG_BUS_ISOLATED;
            continue;
        }
        r->vm[b] = dc ? 1.0 : s->vm[b];
        r->va[b] = dc ? s->va[b] * (180.0 / M_PI) : wrap_deg(s->va[b]);
        r->bus_type[b] = s->cls[b] == PGI_REF  ? PG_BUS_REF
                         : s->cls[b] == PGI_PV ? PG_BUS_PV
                                               : PG_BUS_PQ;
        double v2 = r->vm[b] * r->vm[b];
        double gs = net->shunt ? net->shunt[2 * b] : w->buses[b].gs;
        double bs = net->shunt ? net->shunt[2 * b + 1] : w->buses[b].bs;
        shunt_p += gs * v2;
        shunt_q += dc ? 0 : bs * v2;
    }
    r->shunt_p = shunt_p;
    r->shunt_q = shunt_q;
    for (int g = 0; g < net->ng; g++) { /* units out of service or not solved */
        r->pg[g] = r->qg[g] = 0;
        r->q_limited[g] = false;
    }
    double gen_p = 0, gen_q = 0;
    for (int b = 0; b < net->nb; b++) {
        if (!bus_solved(s, b))
            continue;
        for (int k = net->gp[b]; k < net->gp[b + 1]; k++) {
            int g = net->gi[k];
            r->pg[g] = s->pgw[g];
            r->qg[g] = dc ? 0 : s->qgw[g];
            r->q_limited[g] = s->limited[g] != 0;
            gen_p += r->pg[g];
            gen_q += r->qg[g];
        }
    }
    r->gen_p = gen_p;
    r->gen_q = gen_q;
    double loss_p = 0, loss_q = 0, charging_q = 0;
    for (int l = 0; l < net->nl; l++) {
        int f = net->bf[l], t = net->bt[l];
        if (!net->br_on[l] || !bus_solved(s, f)) {
            r->pf[l] = r->qf[l] = r->pt[l] = r->qt[l] = 0;
            continue;
        }
        if (dc) { /* lossless */
            r->pf[l] = (net->bdc[l] * (s->va[f] - s->va[t]) + net->pfinj[l]) * base;
            r->pt[l] = -r->pf[l];
            r->qf[l] = r->qt[l] = 0;
            continue;
        }
        double ybuf[8], cbuf[2];
        const double *y = ybuf, *chg = cbuf;
        if (net->ybr) {
            y = &net->ybr[8 * l];
            chg = &net->chg[2 * l];
        } else {
            pgi_pf_branch_y(&w->branches[l], ybuf, cbuf);
        }
        double vfr = s->nr.vr[f], vfi = s->nr.vi[f], vtr = s->nr.vr[t], vti = s->nr.vi[t];
        /* I_f = yff V_f + yft V_t; S_f = V_f conj(I_f); the same at the to end. */
        double ifr = y[0] * vfr - y[1] * vfi + y[2] * vtr - y[3] * vti;
        double ifi = y[0] * vfi + y[1] * vfr + y[2] * vti + y[3] * vtr;
        double itr = y[4] * vfr - y[5] * vfi + y[6] * vtr - y[7] * vti;
        double iti = y[4] * vfi + y[5] * vfr + y[6] * vti + y[7] * vtr;
        double pf = (vfr * ifr + vfi * ifi) * base, qf = (vfi * ifr - vfr * ifi) * base;
        double pt = (vtr * itr + vti * iti) * base, qt = (vti * itr - vtr * iti) * base;
        r->pf[l] = pf;
        r->qf[l] = qf;
        r->pt[l] = pt;
        r->qt[l] = qt;
        loss_p += pf + pt;
        loss_q += qf + qt;
        double vf2 = s->vm[f] * s->vm[f], vt2 = s->vm[t] * s->vm[t];
        charging_q += (vf2 * chg[0] + vt2 * chg[1]) * base;
    }
    r->loss_p = loss_p;
    r->charging_q = charging_q;
    r->loss_q = loss_q + charging_q; /* series reactive loss I^2 X */
}

static void
initial_state(pg_pf_solver *s, const pg_world *w)
{
    const pgi_pf_net *net = &s->net;
    memcpy(s->cls, net->cls0, sizeof *s->cls * (size_t)net->nb);
    for (int g = 0; g < net->ng; g++) {
        s->pgw[g] = w->thermals[g].p;
        s->qgw[g] = w->thermals[g].q;
        s->limited[g] = 0;
    }
    for (int b = 0; b < net->nb; b++) {
        s->vm[b] = w->buses[b].vm;
        s->va[b] = w->buses[b].va * (M_PI / 180.0);
        /* Voltage-controlled buses start at their units' setpoint (the last unit's, like
         * MATPOWER's indexed assignment). */
        if (s->cls[b] == PGI_REF || s->cls[b] == PGI_PV)
            for (int k = net->gp[b]; k < net->gp[b + 1]; k++)
                s->vm[b] = w->thermals[net->gi[k]].vg;
    }
    for (int i = 0; i < net->n_islands; i++)
        s->ref0[i] = net->islands[i].ref_bus == PG_NONE ? -1 : (int)net->islands[i].ref_bus;
}

static int
solve_ac(pg_pf_solver *s, const pg_world *w, pg_pf_result *r, pg_error *err)
{
    const pgi_pf_net *net = &s->net;
    double base = w->base_mva;
    int rc = PG_OK;
    bool converged = false;
    char why[400] = "";
    for (;;) {
        r->q_lim_rounds++;
        make_sbus(s, base);
        if ((rc = pgi_pf_newton_prepare(&s->nr, net, s->cls, err)))
            return rc;
        pgi_pf_newton_out o;
        rc = pgi_pf_newton_solve(&s->nr, net, s->sbr, s->sbi, s->vm, s->va, s->opt.tol,
                                 s->opt.max_iter, &o, err);
        if (rc)
            return rc;
        r->iterations += o.iterations;
        r->max_mismatch = o.max_mismatch;
        if (!o.converged) {
            pgi_pf_say(why, sizeof why, "%s", o.reason);
            break;
        }
        update_units(s, w, s->nr.sr, s->nr.si);
        if (!s->opt.enforce_q_lims) {
            converged = true;
            break;
        }
        int sw = switch_q_limits(s, w, why, sizeof why);
        if (sw == 0) {
            converged = true;
            break;
        }
        if (sw < 0)
            break;
    }
    /* Keep each island's original reference angle when Q limits moved its reference. */
    bool shifted = false;
    for (int i = 0; i < net->n_islands; i++) {
        int r0 = s->ref0[i];
        if (r0 < 0 || net->islands[i].status != PG_PF_ISLAND_SOLVED || s->cls[r0] == PGI_REF)
            continue;
        double shift = s->va[r0] - w->buses[r0].va * (M_PI / 180.0);
        for (int b = (int)net->islands[i].first_bus; b < net->nb; b++)
            if (net->island[b] == i)
                s->va[b] -= shift;
        shifted = true;
    }
    if (shifted)
        pgi_pf_newton_set_voltage(&s->nr, s->vm, s->va);
    r->converged = converged;
    if (!converged)
        append_reason(r, why);
    return PG_OK;
}

static int
solve_dc(pg_pf_solver *s, const pg_world *w, pg_pf_result *r, bool values_changed, pg_error *err)
{
    const pgi_pf_net *net = &s->net;
    double base = w->base_mva;
    for (int l = 0; l < net->nl; l++)
        if (net->br_on[l] && !isfinite(net->bdc[l]))
            return pg_error_set(err, PG_EMODEL,
                                "power flow: branch '%s' has zero reactance; the "
                                "DC power flow needs x != 0",
                                w->branches[l].name ? w->branches[l].name : "?");
    make_sbus(s, base);
    /* Pbus = P injection - phase-shifter injections - shunt conductance. */
    for (int l = 0; l < net->nl; l++) {
        if (!net->br_on[l])
            continue;
        s->sbr[net->bf[l]] -= net->pfinj[l];
        s->sbr[net->bt[l]] += net->pfinj[l];
    }
    for (int b = 0; b < net->nb; b++)
        if (bus_solved(s, b))
            s->sbr[b] -= w->buses[b].gs / base;
    bool ok;
    char why[200] = "";
    int rc = pgi_pf_dc_solve(&s->dc, net, s->cls, values_changed, s->sbr, s->va, &ok, why,
                             sizeof why, err);
    if (rc)
        return rc;
    r->iterations = 1;
    r->q_lim_rounds = 1;
    r->converged = ok;
    if (!ok) {
        append_reason(r, why);
    } else {
        /* The first unit at each reference bus takes the slack: Pg += (B va - Pbus) at the bus. */
        for (int b = 0; b < net->nb; b++) {
            if (s->cls[b] != PGI_REF || net->gp[b + 1] == net->gp[b])
                continue;
            int g = net->gi[net->gp[b]];
            s->pgw[g] += (pgi_pf_dc_row_times(net, b, s->va) - s->sbr[b]) * base;
        }
    }
    return PG_OK;
}

int
pg_pf_solver_solve(pg_pf_solver *s, const pg_world *w, pg_pf_result **out, pg_error *err)
{
    if (!s || !out)
        return pg_error_set(err, PG_EINVAL, "pg_pf_solver_solve: NULL argument");
    double t0 = pgi_now();
    /* The network the solver was built from was checked then: when w has the same one, only
     * what changes between solves needs checking. */
    pgi_pf_net_match match = pgi_pf_net_compare(&s->net, w);
    int rc = match == PGI_NET_SAME ? pgi_pf_check_inputs(w, err) : pgi_pf_check_world(w, err);
    if (rc)
        return rc;
    unsigned what =
        (s->opt.dc ? PGI_VAL_DC : PGI_VAL_AC) | (s->once ? 0 : PGI_VAL_BRANCH | PGI_VAL_PARAMS);
    if (match == PGI_NET_OTHER) {
        /* Everything follows the topology: drop it all, and make the region hold what this one
         * needs at most (blocks are taken in the order of a solve, and given back in reverse). */
        pgi_pf_newton_clear(&s->nr);
        pgi_pf_dc_clear(&s->dc);
        workspace_free(s);
        pgi_pf_net_free(&s->net);
        pgi_pf_region_reserve(&s->region, region_bound(s, w, what));
        if ((rc = pgi_pf_net_topology(&s->net, w, !s->once, err)))
            return rc;
    }
    bool values_changed = match != PGI_NET_SAME;
    if (values_changed && (rc = pgi_pf_net_values(&s->net, w, what, err)))
        return rc;
    const pgi_pf_net *net = &s->net;
    if ((rc = workspace_fit(s, net->nb, net->ng, err)))
        return rc;
    /* The result's numbers; its arrays are allocated once the solve is done (by then a solver
     * that solves once has given back the factors, whose memory they can take). */
    pg_pf_result head = {.dc = s->opt.dc,
                         .n_buses = w->n_buses,
                         .n_branches = w->n_branches,
                         .n_thermals = w->n_thermals,
                         .n_islands = (size_t)net->n_islands};
    initial_state(s, w);
    fixed_injections(s, w, &head);
    if (!s->opt.dc && (rc = pgi_pf_newton_prepare(&s->nr, net, s->cls, err)))
        return rc;
    double t1 = pgi_now();
    head.time_setup_s = t1 - t0;
    rc = s->opt.dc ? solve_dc(s, w, &head, values_changed, err) : solve_ac(s, w, &head, err);
    if (rc)
        return rc;
    int unsolved = 0;
    for (int i = 0; i < net->n_islands; i++)
        unsolved += net->islands[i].status != PG_PF_ISLAND_SOLVED;
    if (unsolved) {
        char msg[400];
        for (int i = 0; i < net->n_islands; i++)
            if (net->islands[i].status != PG_PF_ISLAND_SOLVED) {
                pgi_pf_say(msg, sizeof msg, "%d island%s not solved, e.g. %s", unsolved,
                           unsolved == 1 ? "" : "s", net->islands[i].reason);
                break;
            }
        append_reason(&head, msg);
    }
    head.all_solved = head.converged && unsolved == 0;
    if (s->once) {
        pgi_pf_newton_release(&s->nr);
        pgi_pf_dc_clear(&s->dc);
    }
    pg_pf_result *r = result_new(&head);
    if (!r)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    fill_results(s, w, r, s->opt.dc);
    r->time_solve_s = pgi_now() - t1;
    *out = r;
    return PG_OK;
}

int
pg_pf_solve(const pg_world *w, const pg_pf_options *opts, pg_pf_result **out, pg_error *err)
{
    pg_pf_solver *s = NULL;
    int rc = solver_new(&s, opts, true, err);
    if (rc)
        return rc;
    rc = pg_pf_solver_solve(s, w, out, err);
    pg_pf_solver_free(s);
    return rc;
}

double
pgi_pf_solver_time_refactor(pg_pf_solver *s, int reps)
{
    return s && !s->opt.dc ? pgi_pf_newton_time_refactor(&s->nr, reps) : 0;
}

void
pgi_pf_solver_set_chord(pg_pf_solver *s, bool on)
{
    if (s)
        s->nr.chord = on;
}

/* ---------------------------------------------------------------- outages */

int
pgi_pf_solver_outage_begin(pg_pf_solver *s, const pg_world *w, pg_error *err)
{
    if (!s || !w || s->once || s->opt.dc || s->opt.enforce_q_lims || !s->net.ybr ||
        pgi_pf_net_compare(&s->net, w) != PGI_NET_SAME)
        return pg_error_set(err, PG_EINVAL,
                            "power flow: outages need a kept AC solver without reactive limits "
                            "that has just solved the same world");
    /* After the solve: vm, va hold the solution, sbr, sbi the injections it balanced. */
    return pgi_pf_newton_outage_base(&s->nr, &s->net, s->sbr, s->sbi, s->vm, s->va, err);
}

int
pgi_pf_solver_outage(pg_pf_solver *s, const pg_world *w, size_t l, pg_pf_result **out,
                     pg_error *err)
{
    pgi_pf_net *net = &s->net;
    if (!s->nr.ob || l >= (size_t)net->nl || !net->br_on[l] || !net->ybr)
        return pg_error_set(err, PG_EINVAL, "power flow: branch %zu cannot be taken out here", l);
    double t0 = pgi_now();
    pg_pf_result head = {.n_buses = w->n_buses,
                         .n_branches = w->n_branches,
                         .n_thermals = w->n_thermals,
                         .n_islands = (size_t)net->n_islands,
                         .q_lim_rounds = 1};
    initial_state(s, w);
    fixed_injections(s, w, &head);
    make_sbus(s, w->base_mva);
    /* Ybus without the branch: its four entries taken off (and put back as they were). */
    int f = net->bf[l], t = net->bt[l];
    const int pos[4] = {net->ydiag[f], net->brpos[2 * l], net->brpos[2 * l + 1], net->ydiag[t]};
    const double *y = &net->ybr[8 * l];
    double save[8];
    for (int k = 0; k < 4; k++) {
        save[2 * k] = net->ytre[pos[k]];
        save[2 * k + 1] = net->ytim[pos[k]];
        net->ytre[pos[k]] -= y[2 * k];
        net->ytim[pos[k]] -= y[2 * k + 1];
    }
    pgi_pf_newton_out o;
    int rc = pgi_pf_newton_outage(&s->nr, net, f, t, s->sbr, s->sbi, s->vm, s->va, s->opt.tol,
                                  s->opt.max_iter, &o, err);
    for (int k = 3; k >= 0; k--) {
        net->ytre[pos[k]] = save[2 * k];
        net->ytim[pos[k]] = save[2 * k + 1];
    }
    if (rc)
        return rc;
    head.iterations = o.iterations;
    head.max_mismatch = o.max_mismatch;
    head.converged = o.converged;
    if (o.converged)
        update_units(s, w, s->nr.sr, s->nr.si);
    else
        append_reason(&head, o.reason);
    int unsolved = 0;
    for (int i = 0; i < net->n_islands; i++)
        unsolved += net->islands[i].status != PG_PF_ISLAND_SOLVED;
    head.all_solved = head.converged && unsolved == 0;
    pg_pf_result *r = result_new(&head);
    if (!r)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    net->br_on[l] = 0; /* no flow, no charging */
    fill_results(s, w, r, false);
    net->br_on[l] = 1;
    r->time_solve_s = pgi_now() - t0;
    *out = r;
    return PG_OK;
}
