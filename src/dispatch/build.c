/* The multi-period problem builder. pgi_dmodel_init turns a world and options into per-step data
 * (demand per bus, available renewable power, from the model's resampling of the series), cost
 * curves, and reference buses of the model's islands;
 * pgi_dmodel_build writes the unit commitment MILP or the dispatch LP from them. The formulation
 * (three-binary commitment, turn-on/turn-off minimum up/down inequalities, start-up ramps, B-theta
 * network, penalised slacks) is documented variable by variable in docs/dispatch.md. */
#include "dispatch/build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG (M_PI / 180.0)

/* ------------------------------------------------------------------ horizon and series */

int
pgi_dispatch_horizon(const pg_world *w, const pg_dispatch_options *o, pgi_horizon *h, pg_error *err)
{
    return pgi_horizon_make(h, w, o->start_step, o->step_h, o->horizon, err);
}

double
pgi_dmodel_series(const pgi_dmodel *m, size_t s, size_t t)
{
    return pgi_horizon_value(&m->hz, m->w, s, t);
}

/* ------------------------------------------------------------------ cost curves */

void
pgi_curve_free(pgi_curve *c)
{
    if (!c)
        return;
    free(c->width);
    free(c->slope);
    c->width = c->slope = NULL;
    c->nseg = 0;
}

int
pgi_curve_make(const pg_thermal *t, int segments, bool exact, pgi_curve *c, pg_error *err)
{
    memset(c, 0, sizeof *c);
    double lo = t->pmin, hi = t->pmax;
    const pg_cost *cost = &t->cost;
    size_t deg = 0;
    if (cost->model == PG_COST_POLYNOMIAL)
        for (size_t k = 0; k < cost->n; k++)
            if (cost->coef[k] != 0.0)
                deg = k;
    if (cost->model == PG_COST_POLYNOMIAL && exact && deg >= 2) {
        if (deg > 2)
            return pg_error_set(err, PG_EUNSUPPORTED,
                                "thermal unit '%s' has a cost polynomial of degree %zu; the exact "
                                "OPF takes linear, quadratic or piecewise-linear costs",
                                t->name, deg);
        if (cost->coef[2] < 0)
            return pg_error_set(err, PG_EMODEL,
                                "thermal unit '%s' has a concave cost curve (quadratic "
                                "coefficient %g < 0); only convex costs can be optimised",
                                t->name, cost->coef[2]);
        c->exact_quadratic = true;
        c->c0 = cost->coef[0];
        c->c1 = cost->n > 1 ? cost->coef[1] : 0.0;
        c->c2 = cost->coef[2];
        c->c_min = pg_cost_eval(cost, lo);
        return PG_OK;
    }
    /* Breakpoints over [pmin, pmax]. */
    size_t nb = 2;
    if (cost->model == PG_COST_POLYNOMIAL && deg >= 2)
        nb = (size_t)segments + 1;
    else if (cost->model == PG_COST_PIECEWISE)
        nb = cost->n + 2;
    double *x = malloc(nb * sizeof *x);
    if (!x)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    size_t n = 0;
    if (cost->model == PG_COST_POLYNOMIAL && deg >= 2) {
        for (size_t k = 0; k < nb; k++)
            x[n++] = lo + (hi - lo) * (double)k / (double)segments;
    } else {
        x[n++] = lo;
        if (cost->model == PG_COST_PIECEWISE)
            for (size_t k = 0; k < cost->n; k++)
                if (cost->px[k] > lo + 1e-9 && cost->px[k] < hi - 1e-9)
                    x[n++] = cost->px[k];
        x[n++] = hi;
    }
    if (hi - lo < 1e-9) /* a unit that runs at one output: one empty segment */
        n = 2;
    c->nseg = (int)(n - 1);
    c->width = malloc((size_t)c->nseg * sizeof *c->width);
    c->slope = malloc((size_t)c->nseg * sizeof *c->slope);
    if (!c->width || !c->slope) {
        free(x);
        pgi_curve_free(c);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    c->c_min = pg_cost_eval(cost, lo);
    for (int k = 0; k < c->nseg; k++) {
        double w = x[k + 1] - x[k];
        c->width[k] = w > 0 ? w : 0.0;
        if (w > 1e-9)
            c->slope[k] = (pg_cost_eval(cost, x[k + 1]) - pg_cost_eval(cost, x[k])) / w;
        else if (cost->model == PG_COST_POLYNOMIAL)
            c->slope[k] = pg_cost_marginal(cost, lo);
        else
            c->slope[k] = 0.0;
        if (k > 0 && c->slope[k] < c->slope[k - 1] - 1e-9 * (1 + fabs(c->slope[k - 1]))) {
            double at = x[k];
            free(x);
            pgi_curve_free(c);
            return pg_error_set(err, PG_EMODEL,
                                "thermal unit '%s' has a non-convex cost curve: the marginal cost "
                                "falls at %g MW; dispatch needs costs whose marginal cost does "
                                "not decrease",
                                t->name, at);
        }
    }
    free(x);
    return PG_OK;
}

/* ------------------------------------------------------------------ model data */

void
pgi_dmodel_free(pgi_dmodel *m)
{
    if (!m)
        return;
    if (m->curves)
        for (size_t g = 0; g < m->ng; g++)
            pgi_curve_free(&m->curves[g]);
    void *arrays[] = {
        m->demand,       m->avail,       m->bus_live,    m->thermal_live, m->renewable_live,
        m->storage_live, m->branch_live, m->island,      m->island_ref,   m->island_limited,
        m->p0,           m->curves,      m->c_u,         m->c_v,          m->c_w,
        m->c_p,          m->c_seg0,      m->c_r,         m->c_ch,         m->c_dis,
        m->c_soc,        m->c_z,         m->c_us,        m->c_og,         m->r_bal,
        m->tree_branch,  m->order,       m->cycle_start, m->cycle_branch, m->cycle_coef,
        m->c_flow,       m->branch_b};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(arrays[i]);
    memset(m, 0, sizeof *m);
}

/* Appends (branch, coef) to the cycle arrays, growing them. */
static int
cycle_push(pgi_dmodel *m, size_t *cap, size_t k, double coef)
{
    size_t n = m->cycle_start[m->n_cycles];
    if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        size_t *kb = realloc(m->cycle_branch, nc * sizeof *kb);
        if (!kb)
            return PG_ENOMEM;
        m->cycle_branch = kb;
        double *kc = realloc(m->cycle_coef, nc * sizeof *kc);
        if (!kc)
            return PG_ENOMEM;
        m->cycle_coef = kc;
        *cap = nc;
    }
    m->cycle_branch[n] = k;
    m->cycle_coef[n] = coef;
    m->cycle_start[m->n_cycles] = n + 1;
    return PG_OK;
}

/* The bus at the other end of live branch k from bus b. */
static size_t
other_end(const pg_world *w, size_t k, size_t b)
{
    return w->branches[k].from == b ? w->branches[k].to : w->branches[k].from;
}

/* Spanning trees (breadth first from each island's reference, so that fundamental cycles are
 * short) and the fundamental cycle of every branch outside them. Going round a cycle the angle
 * differences add up to zero; along branch k, theta_from - theta_to = flow_k / b_k + shift_k. */
static int
cycle_basis(pgi_dmodel *m, pg_error *err)
{
    const pg_world *w = m->w;
    size_t nb = m->nb, nbr = m->nbr;
    int rc = PG_OK;
    size_t *adj_start = calloc(nb + 1, sizeof *adj_start);
    size_t *adj = malloc((2 * nbr + 1) * sizeof *adj);
    size_t *depth = malloc((nb + 1) * sizeof *depth);
    bool *in_tree = calloc(nbr + 1, sizeof *in_tree);
    m->tree_branch = malloc((nb + 1) * sizeof *m->tree_branch);
    m->order = malloc((nb + 1) * sizeof *m->order);
    m->cycle_start = malloc((nbr + 2) * sizeof *m->cycle_start);
    size_t cap = 0;
    if (!adj_start || !adj || !depth || !in_tree || !m->tree_branch || !m->order ||
        !m->cycle_start) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nbr; k++)
        if (m->branch_live[k]) {
            adj_start[w->branches[k].from + 1]++;
            adj_start[w->branches[k].to + 1]++;
        }
    for (size_t b = 0; b < nb; b++)
        adj_start[b + 1] += adj_start[b];
    {
        size_t *fill = depth; /* borrowed as a cursor before it holds depths */
        for (size_t b = 0; b < nb; b++)
            fill[b] = adj_start[b];
        for (size_t k = 0; k < nbr; k++)
            if (m->branch_live[k]) {
                adj[fill[w->branches[k].from]++] = k;
                adj[fill[w->branches[k].to]++] = k;
            }
    }
    for (size_t b = 0; b < nb; b++) {
        m->tree_branch[b] = PG_NONE;
        depth[b] = PG_NONE;
    }
    m->n_order = 0;
    for (size_t i = 0; i < m->n_islands; i++) {
        size_t root = m->island_ref[i];
        if (!m->bus_live[root])
            continue;
        size_t head = m->n_order;
        m->order[m->n_order++] = root;
        depth[root] = 0;
        while (head < m->n_order) {
            size_t b = m->order[head++];
            for (size_t p = adj_start[b]; p < adj_start[b + 1]; p++) {
                size_t k = adj[p], c = other_end(w, k, b);
                if (depth[c] != PG_NONE)
                    continue;
                depth[c] = depth[b] + 1;
                m->tree_branch[c] = k;
                in_tree[k] = true;
                m->order[m->n_order++] = c;
            }
        }
    }
    m->n_cycles = 0;
    m->cycle_start[0] = 0;
    for (size_t k = 0; k < nbr && !rc; k++) {
        if (!m->branch_live[k] || in_tree[k])
            continue;
        /* chord f -> t, then the tree path from t back to f through their common ancestor */
        size_t a = w->branches[k].to, z = w->branches[k].from;
        m->cycle_start[m->n_cycles + 1] = m->cycle_start[m->n_cycles];
        m->n_cycles++;
        rc = cycle_push(m, &cap, k, 1.0 / m->branch_b[k]);
        while (!rc && a != z) {
            /* climb from the deeper end; a's steps go child -> parent (with the walk),
             * z's go parent -> child (against it) */
            bool up_a = depth[a] >= depth[z];
            size_t c = up_a ? a : z, e = m->tree_branch[c];
            double sign = w->branches[e].from == c ? 1.0 : -1.0;
            rc = cycle_push(m, &cap, e, (up_a ? sign : -sign) / m->branch_b[e]);
            if (up_a)
                a = other_end(w, e, c);
            else
                z = other_end(w, e, c);
        }
    }
    if (rc)
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
out:
    free(adj_start);
    free(adj);
    free(depth);
    free(in_tree);
    return rc;
}

void
pgi_dmodel_angles(const pgi_dmodel *m, const double *flow, double *angle_deg)
{
    const pg_world *w = m->w;
    for (size_t b = 0; b < m->nb; b++)
        angle_deg[b] = 0.0;
    for (size_t i = 0; i < m->n_order; i++) {
        size_t b = m->order[i], k = m->tree_branch[b];
        if (k == PG_NONE) {
            angle_deg[b] = w->buses[b].type == PG_BUS_REF ? w->buses[b].va : 0.0;
            continue;
        }
        const pg_branch *br = &w->branches[k];
        double drop = (flow[k] / m->branch_b[k] + br->shift * DEG) / DEG;
        angle_deg[b] = br->from == b ? angle_deg[br->to] + drop : angle_deg[br->from] - drop;
    }
}

int
pgi_dmodel_init(pgi_dmodel *m, const pg_world *w, const pg_dispatch_options *o, bool exact,
                pg_error *err)
{
    int rc = PG_OK;
    memset(m, 0, sizeof *m);
    m->w = w;
    m->o = *o;
    m->exact = exact;
    m->slacks = true;
    if ((rc = pgi_dispatch_horizon(w, o, &m->hz, err)))
        return rc;
    m->T = m->hz.n_steps;
    m->dt = m->hz.step_h;
    size_t T = m->T;
    m->nb = w->n_buses;
    m->nbr = w->n_branches;
    m->ng = w->n_thermals;
    m->nr = w->n_renewables;
    m->ns = w->n_storages;
    ALLOC(m->demand, T * m->nb);
    ALLOC(m->avail, T * m->nr);
    ALLOC(m->bus_live, m->nb);
    ALLOC(m->thermal_live, m->ng);
    ALLOC(m->renewable_live, m->nr);
    ALLOC(m->storage_live, m->ns);
    ALLOC(m->branch_live, m->nbr);
    ALLOC(m->island, m->nb);
    ALLOC(m->island_ref, m->nb);
    ALLOC(m->island_limited, m->nb);
    ALLOC(m->p0, m->ng);
    ALLOC(m->curves, m->ng);
    ALLOC(m->branch_b, m->nbr);

    for (size_t b = 0; b < m->nb; b++)
        m->bus_live[b] = w->buses[b].type != PG_BUS_ISOLATED;
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < m->nb; b++)
            if (m->bus_live[b])
                m->demand[t * m->nb + b] = w->buses[b].gs;
    for (size_t i = 0; i < w->n_loads; i++) {
        const pg_load *l = &w->loads[i];
        if (!l->in_service || !m->bus_live[l->bus])
            continue;
        for (size_t t = 0; t < T; t++)
            m->demand[t * m->nb + l->bus] += l->p * pgi_dmodel_series(m, l->p_series, t);
    }
    for (size_t g = 0; g < m->ng; g++) {
        const pg_thermal *th = &w->thermals[g];
        m->thermal_live[g] = th->in_service && m->bus_live[th->bus];
        bool on0 = th->initial_on || !o->commitment;
        m->p0[g] = on0 ? fmin(fmax(th->p, th->pmin), th->pmax) : 0.0;
        if ((rc = pgi_curve_make(th, o->pwl_segments, exact, &m->curves[g], err)))
            goto out;
    }
    for (size_t r = 0; r < m->nr; r++) {
        const pg_renewable *re = &w->renewables[r];
        m->renewable_live[r] = re->in_service && m->bus_live[re->bus];
        if (m->renewable_live[r])
            for (size_t t = 0; t < T; t++)
                m->avail[t * m->nr + r] = re->rating * pgi_dmodel_series(m, re->availability, t);
    }
    for (size_t s = 0; s < m->ns; s++)
        m->storage_live[s] = w->storages[s].in_service && m->bus_live[w->storages[s].bus];

    for (size_t k = 0; k < m->nbr; k++) {
        const pg_branch *br = &w->branches[k];
        m->branch_live[k] = o->network == PG_NETWORK_DC && br->in_service &&
                            m->bus_live[br->from] && m->bus_live[br->to];
        if (m->branch_live[k])
            m->branch_b[k] = w->base_mva / (br->x * br->tap);
    }
    /* Islands of the DC network (the model's); on a copper plate every live bus is in one. Each
     * island's reference is its first reference bus, else its lowest bus. */
    if (o->network == PG_NETWORK_DC) {
        m->n_islands = pgi_world_islands(w, m->island);
    } else {
        m->n_islands = 0;
        for (size_t b = 0; b < m->nb; b++) {
            m->island[b] = m->bus_live[b] ? 0 : PG_NONE;
            if (m->bus_live[b])
                m->n_islands = 1;
        }
    }
    for (size_t i = 0; i < m->n_islands; i++)
        m->island_ref[i] = PG_NONE;
    for (size_t b = 0; b < m->nb; b++) {
        size_t i = m->island[b];
        if (i == PG_NONE)
            continue;
        if (m->island_ref[i] == PG_NONE ||
            (w->buses[b].type == PG_BUS_REF && w->buses[m->island_ref[i]].type != PG_BUS_REF))
            m->island_ref[i] = b;
    }
    for (size_t k = 0; k < m->nbr; k++) {
        const pg_branch *br = &w->branches[k];
        if (m->branch_live[k] && (br->rate_a > 0 || (br->angmin != 0 && br->angmin > -360) ||
                                  (br->angmax != 0 && br->angmax < 360)))
            m->island_limited[m->island[br->from]] = true;
    }
    if (o->network == PG_NETWORK_DC)
        rc = cycle_basis(m, err);
out:
    if (rc)
        pgi_dmodel_free(m);
    return rc;
}

/* ------------------------------------------------------------------ the problem */

/* Adds coef x (output of unit g at step t) to row i. */
static void
add_output(const pgi_dmodel *m, pgi_lp *lp, int row, size_t t, size_t g, double coef)
{
    size_t tg = t * m->ng + g;
    const pgi_curve *c = &m->curves[g];
    if (c->exact_quadratic) {
        pgi_lp_add(lp, row, m->c_p[tg], coef);
        return;
    }
    pgi_lp_add(lp, row, m->c_u[tg], coef * m->w->thermals[g].pmin);
    for (int k = 0; k < c->nseg; k++)
        pgi_lp_add(lp, row, m->c_seg0[tg] + k, coef);
}

double
pgi_dmodel_output(const pgi_dmodel *m, const double *x, size_t t, size_t g)
{
    size_t tg = t * m->ng + g;
    if (!m->thermal_live[g] || m->c_u[tg] < 0)
        return 0.0;
    const pgi_curve *c = &m->curves[g];
    if (c->exact_quadratic)
        return x[m->c_p[tg]];
    double p = m->w->thermals[g].pmin * x[m->c_u[tg]];
    for (int k = 0; k < c->nseg; k++)
        p += x[m->c_seg0[tg] + k];
    return p;
}

double
pgi_dmodel_curve_cost(const pgi_dmodel *m, const double *x, size_t t, size_t g)
{
    size_t tg = t * m->ng + g;
    if (!m->thermal_live[g] || m->c_u[tg] < 0)
        return 0.0;
    const pgi_curve *c = &m->curves[g];
    double u = x[m->c_u[tg]];
    if (c->exact_quadratic) {
        double p = x[m->c_p[tg]];
        return c->c0 * u + c->c1 * p + c->c2 * p * p;
    }
    double cost = c->c_min * u;
    for (int k = 0; k < c->nseg; k++)
        cost += c->slope[k] * x[m->c_seg0[tg] + k];
    return cost;
}

static size_t
ceil_steps(double hours, double dt)
{
    if (hours <= 0)
        return 0;
    return (size_t)ceil(hours / dt - 1e-9);
}

static int
fill_int(int **p, size_t n, pg_error *err)
{
    *p = malloc((n > 0 ? n : 1) * sizeof **p);
    if (!*p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        (*p)[i] = -1;
    return PG_OK;
}

static int
alloc_maps(pgi_dmodel *m, pg_error *err)
{
    size_t T = m->T;
    int **maps[] = {&m->c_u, &m->c_v, &m->c_w, &m->c_p, &m->c_seg0};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        free(*maps[i]);
        if (fill_int(maps[i], T * m->ng, err))
            return PG_ENOMEM;
    }
    int **smaps[] = {&m->c_ch, &m->c_dis, &m->c_soc, &m->c_z};
    for (size_t i = 0; i < sizeof smaps / sizeof *smaps; i++) {
        free(*smaps[i]);
        if (fill_int(smaps[i], T * m->ns, err))
            return PG_ENOMEM;
    }
    int **bmaps[] = {&m->c_us, &m->c_og, &m->r_bal};
    for (size_t i = 0; i < sizeof bmaps / sizeof *bmaps; i++) {
        free(*bmaps[i]);
        if (fill_int(bmaps[i], T * m->nb, err))
            return PG_ENOMEM;
    }
    free(m->c_r);
    if (fill_int(&m->c_r, T * m->nr, err))
        return PG_ENOMEM;
    free(m->c_flow);
    if (fill_int(&m->c_flow, T * m->nbr, err))
        return PG_ENOMEM;
    return PG_OK;
}

/* Columns and rows of thermal unit g over the horizon. */
static void
build_thermal(pgi_dmodel *m, const pgi_commitment *fix, pgi_lp *lp, size_t g)
{
    const pg_thermal *th = &m->w->thermals[g];
    const pgi_curve *c = &m->curves[g];
    const pg_dispatch_options *o = &m->o;
    size_t T = m->T, ng = m->ng;
    double dt = m->dt;
    bool milp = fix == NULL;
    bool inter = o->intertemporal;
    bool on0 = th->initial_on || !o->commitment;

    /* Steps the initial state holds the unit in (minimum up/down time not yet served). */
    size_t forced_on = 0, forced_off = 0;
    if (inter && milp) {
        if (on0 && o->commitment && th->initial_h < th->min_up_h)
            forced_on = ceil_steps(th->min_up_h - th->initial_h, dt);
        if (!on0 && th->initial_h < th->min_down_h)
            forced_off = ceil_steps(th->min_down_h - th->initial_h, dt);
    }
    double fixed_u_cost = th->fixed_cost + (c->exact_quadratic ? c->c0 : c->c_min);
    for (size_t t = 0; t < T; t++) {
        size_t tg = t * ng + g;
        pgi_lp_block(lp, (int)t);
        double lo = 0, hi = 1;
        if (fix)
            lo = hi = fix->on[tg];
        else if (t < forced_on)
            lo = 1;
        else if (t < forced_off)
            hi = 0;
        m->c_u[tg] = pgi_lp_col(lp, lo, hi, fixed_u_cost * dt, milp);
        if (milp)
            m->n_int++;
        double vlo = 0, vhi = 1, wlo = 0, whi = 1;
        if (fix) {
            vlo = vhi = fix->start[tg];
            wlo = whi = fix->stop[tg];
        } else if (!inter && t == 0) {
            vhi = whi = 0;
        }
        m->c_v[tg] = pgi_lp_col(lp, vlo, vhi, th->startup_cost, milp);
        if (milp)
            m->n_int++;
        m->c_w[tg] = pgi_lp_col(lp, wlo, whi, th->shutdown_cost, false);
        double ufix = fix ? fix->on[tg] : 1.0;
        if (c->exact_quadratic) {
            double plo = fmin(0.0, th->pmin) * ufix, phi = fmax(0.0, th->pmax) * ufix;
            m->c_p[tg] = pgi_lp_col(lp, plo, phi, c->c1 * dt, false);
            pgi_lp_qcost(lp, m->c_p[tg], 2.0 * c->c2 * dt);
            int r1 = pgi_lp_row(lp, -PGI_INF, 0); /* p - pmax u <= 0 */
            pgi_lp_add(lp, r1, m->c_p[tg], 1);
            pgi_lp_add(lp, r1, m->c_u[tg], -th->pmax);
            int r2 = pgi_lp_row(lp, 0, PGI_INF); /* p - pmin u >= 0 */
            pgi_lp_add(lp, r2, m->c_p[tg], 1);
            pgi_lp_add(lp, r2, m->c_u[tg], -th->pmin);
        } else {
            for (int k = 0; k < c->nseg; k++) {
                int j = pgi_lp_col(lp, 0, c->width[k] * ufix, c->slope[k] * dt, false);
                if (k == 0)
                    m->c_seg0[tg] = j;
                if (milp) { /* segment k only while committed */
                    int r = pgi_lp_row(lp, -PGI_INF, 0);
                    pgi_lp_add(lp, r, j, 1);
                    pgi_lp_add(lp, r, m->c_u[tg], -c->width[k]);
                }
            }
        }
        /* Transition: u[t] - u[t-1] = v[t] - w[t]. */
        if (milp && (inter || t > 0)) {
            double rhs = t == 0 ? (on0 ? 1.0 : 0.0) : 0.0;
            int r = pgi_lp_row(lp, rhs, rhs);
            pgi_lp_add(lp, r, m->c_u[tg], 1);
            if (t > 0)
                pgi_lp_add(lp, r, m->c_u[tg - ng], -1);
            pgi_lp_add(lp, r, m->c_v[tg], -1);
            pgi_lp_add(lp, r, m->c_w[tg], 1);
        }
    }
    if (!inter)
        return;
    /* Minimum up and down times: turn-on / turn-off inequalities. */
    size_t up = ceil_steps(th->min_up_h, dt), down = ceil_steps(th->min_down_h, dt);
    if (milp && up > 1)
        for (size_t t = 0; t < T; t++) {
            int r = pgi_lp_row(lp, -PGI_INF, 0);
            for (size_t k = t + 1 > up ? t + 1 - up : 0; k <= t; k++)
                pgi_lp_add(lp, r, m->c_v[k * ng + g], 1);
            pgi_lp_add(lp, r, m->c_u[t * ng + g], -1);
        }
    if (milp && down > 1)
        for (size_t t = 0; t < T; t++) {
            int r = pgi_lp_row(lp, -PGI_INF, 1);
            for (size_t k = t + 1 > down ? t + 1 - down : 0; k <= t; k++)
                pgi_lp_add(lp, r, m->c_w[k * ng + g], 1);
            pgi_lp_add(lp, r, m->c_u[t * ng + g], 1);
        }
    /* Ramps, with a start-up (shut-down) allowance of max(pmin, ramp) in the step it happens. */
    double ru = th->ramp_up * dt, rd = th->ramp_down * dt;
    bool ramp_up = th->ramp_up > 0 && ru < th->pmax - fmin(0.0, th->pmin);
    bool ramp_dn = th->ramp_down > 0 && rd < th->pmax - fmin(0.0, th->pmin);
    double su = fmax(th->pmin, ru), sd = fmax(th->pmin, rd);
    double u0 = on0 ? 1.0 : 0.0;
    for (size_t t = 0; t < T && (ramp_up || ramp_dn); t++) {
        size_t tg = t * ng + g;
        if (ramp_up) { /* p[t] - p[t-1] - ru u[t-1] - su v[t] <= 0 */
            int r = pgi_lp_row(lp, -PGI_INF, t == 0 ? m->p0[g] + ru * u0 : 0.0);
            add_output(m, lp, r, t, g, 1);
            if (t > 0) {
                add_output(m, lp, r, t - 1, g, -1);
                pgi_lp_add(lp, r, m->c_u[tg - ng], -ru);
            }
            pgi_lp_add(lp, r, m->c_v[tg], -su);
        }
        if (ramp_dn) { /* p[t-1] - p[t] - rd u[t] - sd w[t] <= 0 */
            int r = pgi_lp_row(lp, -PGI_INF, t == 0 ? -m->p0[g] : 0.0);
            add_output(m, lp, r, t, g, -1);
            if (t > 0)
                add_output(m, lp, r, t - 1, g, 1);
            pgi_lp_add(lp, r, m->c_u[tg], -rd);
            pgi_lp_add(lp, r, m->c_w[tg], -sd);
        }
        if (milp) { /* no start and stop in one step (it would loosen the ramps) */
            int r = pgi_lp_row(lp, -PGI_INF, 1);
            pgi_lp_add(lp, r, m->c_v[tg], 1);
            pgi_lp_add(lp, r, m->c_w[tg], 1);
        }
    }
}

static void
build_storage(pgi_dmodel *m, const pgi_commitment *fix, pgi_lp *lp, size_t s)
{
    const pg_storage *st = &m->w->storages[s];
    size_t T = m->T, ns = m->ns;
    double dt = m->dt;
    bool milp = fix == NULL;
    bool both = st->charge_mw > 0 && st->discharge_mw > 0;
    for (size_t t = 0; t < T; t++) {
        size_t ts = t * ns + s;
        pgi_lp_block(lp, (int)t);
        double chi = st->charge_mw, dhi = st->discharge_mw;
        if (fix && fix->storage_dir[ts] > 0)
            dhi = 0;
        if (fix && fix->storage_dir[ts] < 0)
            chi = 0;
        m->c_ch[ts] = pgi_lp_col(lp, 0, chi, 0, false);
        m->c_dis[ts] = pgi_lp_col(lp, 0, dhi, st->cost * dt, false);
        double slo = st->soc_min_mwh;
        if (t == T - 1 && st->soc_target_mwh >= 0)
            slo = fmax(slo, st->soc_target_mwh);
        m->c_soc[ts] = pgi_lp_col(lp, slo, st->energy_mwh, 0, false);
        /* soc[t] - soc[t-1] - eta_c dt ch + dt / eta_d dis = 0 */
        double rhs = t == 0 ? st->soc_initial_mwh : 0.0;
        int r = pgi_lp_row(lp, rhs, rhs);
        pgi_lp_add(lp, r, m->c_soc[ts], 1);
        if (t > 0)
            pgi_lp_add(lp, r, m->c_soc[ts - ns], -1);
        pgi_lp_add(lp, r, m->c_ch[ts], -st->eff_charge * dt);
        pgi_lp_add(lp, r, m->c_dis[ts], dt / st->eff_discharge);
        if (milp && both) { /* z = 1 charging allowed, z = 0 discharging allowed */
            m->c_z[ts] = pgi_lp_col(lp, 0, 1, 0, true);
            m->n_int++;
            int r1 = pgi_lp_row(lp, -PGI_INF, 0);
            pgi_lp_add(lp, r1, m->c_ch[ts], 1);
            pgi_lp_add(lp, r1, m->c_z[ts], -st->charge_mw);
            int r2 = pgi_lp_row(lp, -PGI_INF, st->discharge_mw);
            pgi_lp_add(lp, r2, m->c_dis[ts], 1);
            pgi_lp_add(lp, r2, m->c_z[ts], st->discharge_mw);
        }
    }
}

/* MW a bus could have to spill: its thermal capacity and any negative demand. */
static double
spill_capacity(const pgi_dmodel *m, size_t t, size_t b)
{
    double cap = fmax(0.0, -m->demand[t * m->nb + b]);
    for (size_t g = 0; g < m->ng; g++)
        if (m->thermal_live[g] && m->w->thermals[g].bus == b)
            cap += fmax(0.0, m->w->thermals[g].pmax);
    return cap;
}

int
pgi_dmodel_build(pgi_dmodel *m, const pgi_commitment *fix, pgi_lp *lp, pg_error *err)
{
    const pg_world *w = m->w;
    const pg_dispatch_options *o = &m->o;
    size_t T = m->T, nb = m->nb;
    double dt = m->dt;
    bool dc = o->network == PG_NETWORK_DC;
    m->n_int = 0;
    if (alloc_maps(m, err))
        return PG_ENOMEM;
    int *island_row = malloc((m->n_islands ? m->n_islands : 1) * sizeof *island_row);
    if (!island_row)
        return pg_error_set(err, PG_ENOMEM, "out of memory");

    for (size_t g = 0; g < m->ng; g++)
        if (m->thermal_live[g])
            build_thermal(m, fix, lp, g);
    for (size_t r = 0; r < m->nr; r++)
        if (m->renewable_live[r])
            for (size_t t = 0; t < T; t++) {
                pgi_lp_block(lp, (int)t);
                m->c_r[t * m->nr + r] =
                    pgi_lp_col(lp, 0, m->avail[t * m->nr + r], w->renewables[r].cost * dt, false);
            }
    for (size_t s = 0; s < m->ns; s++)
        if (m->storage_live[s])
            build_storage(m, fix, lp, s);

    for (size_t t = 0; t < T; t++) {
        const double *d = &m->demand[t * nb];
        pgi_lp_block(lp, (int)t);
        if (dc) {
            /* In the commitment MILP an island whose branches have no limits gets one balance
             * row: its network cannot constrain anything, and leaving its flows out keeps the
             * MILP small. The dispatch LP always has the full network. */
            for (size_t i = 0; i < m->n_islands; i++)
                island_row[i] = -1;
            for (size_t b = 0; b < nb; b++) {
                if (!m->bus_live[b])
                    continue;
                size_t tb = t * nb + b, i = m->island[b];
                if (fix || m->island_limited[i]) {
                    m->r_bal[tb] = pgi_lp_row(lp, d[b], d[b]);
                } else {
                    if (island_row[i] < 0)
                        island_row[i] = pgi_lp_row(lp, 0, 0);
                    m->r_bal[tb] = island_row[i];
                    lp->row_lo[island_row[i]] += d[b];
                    lp->row_hi[island_row[i]] += d[b];
                }
                if (d[b] > 0 && m->slacks) {
                    m->c_us[tb] = pgi_lp_col(lp, 0, d[b], o->voll * dt, false);
                    pgi_lp_add(lp, m->r_bal[tb], m->c_us[tb], 1);
                }
                double cap = spill_capacity(m, t, b);
                if (cap > 0 && m->slacks) {
                    m->c_og[tb] = pgi_lp_col(lp, 0, cap, o->overgen_cost * dt, false);
                    pgi_lp_add(lp, m->r_bal[tb], m->c_og[tb], -1);
                }
            }
        } else {
            double total = 0, pos = 0, cap = 0;
            for (size_t b = 0; b < nb; b++) {
                if (!m->bus_live[b])
                    continue;
                total += d[b];
                pos += fmax(0.0, d[b]);
                cap += spill_capacity(m, t, b);
            }
            m->r_bal[t] = pgi_lp_row(lp, total, total);
            if (pos > 0 && m->slacks) { /* shed the same fraction of every bus's demand */
                m->c_us[t] = pgi_lp_col(lp, 0, 1, o->voll * dt * pos, false);
                pgi_lp_add(lp, m->r_bal[t], m->c_us[t], pos);
            }
            if (cap > 0 && m->slacks) {
                m->c_og[t] = pgi_lp_col(lp, 0, cap, o->overgen_cost * dt, false);
                pgi_lp_add(lp, m->r_bal[t], m->c_og[t], -1);
            }
        }
        /* Injections into the balance of their bus (or the system). */
#define BAL(b) (dc ? m->r_bal[t * nb + (b)] : m->r_bal[t])
        for (size_t g = 0; g < m->ng; g++)
            if (m->thermal_live[g])
                add_output(m, lp, BAL(w->thermals[g].bus), t, g, 1);
        for (size_t r = 0; r < m->nr; r++)
            if (m->renewable_live[r])
                pgi_lp_add(lp, BAL(w->renewables[r].bus), m->c_r[t * m->nr + r], 1);
        for (size_t s = 0; s < m->ns; s++)
            if (m->storage_live[s]) {
                pgi_lp_add(lp, BAL(w->storages[s].bus), m->c_dis[t * m->ns + s], 1);
                pgi_lp_add(lp, BAL(w->storages[s].bus), m->c_ch[t * m->ns + s], -1);
            }
#undef BAL
        if (!dc)
            continue;
        /* Branches: a flow column leaves f and enters t, within its rating and the angle-
         * difference limits (theta_f - theta_t = flow / b + shift), which MATPOWER reads with 0
         * or +-360 meaning none. */
        for (size_t k = 0; k < m->nbr; k++) {
            if (!m->branch_live[k] || (!fix && !m->island_limited[m->island[w->branches[k].from]]))
                continue;
            const pg_branch *br = &w->branches[k];
            double bk = m->branch_b[k], sh = br->shift * DEG;
            double lo = br->rate_a > 0 ? -br->rate_a : -PGI_INF;
            double hi = br->rate_a > 0 ? br->rate_a : PGI_INF;
            if (br->angmin != 0 && br->angmin > -360)
                lo = fmax(lo, bk * (br->angmin * DEG - sh));
            if (br->angmax != 0 && br->angmax < 360)
                hi = fmin(hi, bk * (br->angmax * DEG - sh));
            int jk = pgi_lp_col(lp, lo, hi, 0, false);
            m->c_flow[t * m->nbr + k] = jk;
            pgi_lp_add(lp, m->r_bal[t * nb + br->from], jk, -1);
            pgi_lp_add(lp, m->r_bal[t * nb + br->to], jk, 1);
        }
        /* Kirchhoff's voltage law round each cycle, scaled so its largest coefficient is 1:
         * sum of coef_k flow_k = - sum of sign_k shift_k. */
        for (size_t c = 0; c < m->n_cycles; c++) {
            if (!fix &&
                !m->island_limited[m->island[w->branches[m->cycle_branch[m->cycle_start[c]]].from]])
                continue;
            double big = 0, rhs = 0;
            for (size_t p = m->cycle_start[c]; p < m->cycle_start[c + 1]; p++) {
                size_t k = m->cycle_branch[p];
                big = fmax(big, fabs(m->cycle_coef[p]));
                /* coef = sign / b_k, so sign x shift = coef x b_k x shift */
                rhs -= m->cycle_coef[p] * m->branch_b[k] * w->branches[k].shift * DEG;
            }
            int r = pgi_lp_row(lp, rhs / big, rhs / big);
            for (size_t p = m->cycle_start[c]; p < m->cycle_start[c + 1]; p++)
                pgi_lp_add(lp, r, m->c_flow[t * m->nbr + m->cycle_branch[p]],
                           m->cycle_coef[p] / big);
        }
    }
    free(island_row);
    return pgi_lp_ok(lp, err);
}
