/* Grid-aware clearing: the community's book cleared against the feeder it sits on. A welfare-
 * maximising LP (through the COIN-OR adapter of src/dispatch/lp.h) chooses every order's cleared
 * quantity and the grid's import and export at the feeder's reference bus, subject to energy
 * balance and to every rated branch's DC flow (the power-flow module's PTDFs) staying within its
 * rating. Nodal prices come from the LP's duals: the balance row's dual is the price at the
 * reference bus, and each binding branch adds its dual times the bus's PTDF. Every order settles
 * at its bus's price, so what buyers pay beyond what sellers get is the grid's energy at the
 * reference bus's price plus the congestion rent (docs/market.md, "Grid-aware clearing").
 *
 * Also here: the AC check of a cleared schedule (the nodes' injections added to the feeder's
 * loads, an AC power flow, voltages, loadings and losses).
 *
 * Units: the market's energy is kWh over an interval of `hours`, so a node's power is kWh / hours
 * in kW; the world is in MW and MVA, hence the factors of 1000 below. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/lp.h"
#include "model/model_internal.h"
#include "plurigrid/market.h"
#include "plurigrid/pf.h"

/* Ranges the clearing takes (beyond them a number is refused, so the LP stays well scaled and the
 * solver never sees a number it cannot take). */
#define PRICE_MAX 1e6  /* $/kWh */
#define QTY_MAX 1e12   /* kWh */
#define HOURS_MIN 1e-3 /* h: 3.6 s */
#define HOURS_MAX 1e4  /* h */
#define POWER_MAX 1e12 /* kW: the substation limit (beyond it: +inf) */

/* PTDFs smaller than this are rounding noise of the factorization (an exact 0 in a radial feeder
 * comes out as 1e-16): left out of the LP, where they would wreck the solver's scaling. */
#define PTDF_EPS 1e-10

/* A node's price tells nothing finer than this, $/kWh (noise of the LP's duals). */
#define PRICE_EPS 1e-9

/* The feeder as the clearing sees it: its world (the caller's, or a copy with a unit that stands
 * for the grid at the reference bus when it has none), the reference bus, and the PTDFs. */
typedef struct feeder {
    const pg_world *w;
    pg_world *own; /* the copy, when one was needed */
    size_t ref;
    double *ptdf; /* n_branches x n_buses, when asked for */
} feeder;

static void
feeder_free(feeder *f)
{
    pg_world_free(f->own);
    free(f->ptdf);
    memset(f, 0, sizeof *f);
}

static const char *
bus_name(const pg_world *w, size_t b)
{
    return w->buses[b].name ? w->buses[b].name : "?";
}

static bool
thermal_named(const pg_world *w, const char *name)
{
    for (size_t g = 0; g < w->n_thermals; g++)
        if (w->thermals[g].name && strcmp(w->thermals[g].name, name) == 0)
            return true;
    return false;
}

/* Checks net, finds the reference bus, checks every node's bus is connected to it, and gives the
 * reference bus a unit in service (on a copy of the world) when it has none, as the power flow
 * needs one there to solve the feeder. With want_ptdf, also the PTDFs. */
static int
feeder_open(feeder *f, const pg_market_network *net, bool want_ptdf, const char *who, pg_error *err)
{
    memset(f, 0, sizeof *f);
    size_t *island = NULL;
    int rc = PG_OK;
    if (!net || !net->world)
        return pg_error_set(err, PG_EINVAL, "%s: no feeder (network or world is NULL)", who);
    const pg_world *w = net->world;
    if (net->n_nodes > 0 && !net->node_bus)
        return pg_error_set(err, PG_EINVAL, "%s: node_bus is NULL for %zu nodes", who,
                            net->n_nodes);
    if (!(net->hours >= HOURS_MIN && net->hours <= HOURS_MAX))
        return pg_error_set(err, PG_EINVAL, "%s: hours is %g; the interval must be %g to %g h", who,
                            net->hours, HOURS_MIN, HOURS_MAX);
    if (!(net->substation_kw >= 0) ||
        (isfinite(net->substation_kw) && net->substation_kw > POWER_MAX))
        return pg_error_set(err, PG_EINVAL,
                            "%s: substation_kw is %g; it must be 0 to %g kW, or "
                            "+inf for no limit",
                            who, net->substation_kw, POWER_MAX);
    size_t nb = w->n_buses, n_ref = 0;
    for (size_t b = 0; b < nb; b++)
        if (w->buses[b].type == PG_BUS_REF) {
            if (n_ref++ == 0)
                f->ref = b;
        }
    if (n_ref != 1)
        return pg_error_set(err, PG_EMODEL,
                            "%s: the feeder '%s' has %zu reference buses; it needs "
                            "exactly one (the substation, where the grid connects)",
                            who, w->name ? w->name : "?", n_ref);
    for (size_t n = 0; n < net->n_nodes; n++)
        if (net->node_bus[n] >= nb)
            return pg_error_set(err, PG_EINVAL,
                                "%s: node %zu is at bus %zu, but the feeder has "
                                "%zu buses (0 to %zu)",
                                who, n, net->node_bus[n], nb, nb - 1);
    /* Connected to the reference bus: in its island (the model's islands). */
    for (size_t l = 0; l < w->n_branches; l++)
        if (w->branches[l].from >= nb || w->branches[l].to >= nb)
            return pg_error_set(err, PG_EMODEL, "%s: branch '%s' joins a bus that does not exist",
                                who, w->branches[l].name ? w->branches[l].name : "?");
    island = malloc(sizeof *island * nb);
    if (!island)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    pgi_world_islands(w, island);
    for (size_t n = 0; n < net->n_nodes; n++) {
        size_t b = net->node_bus[n];
        if (island[b] == PG_NONE || island[b] != island[f->ref]) {
            rc = pg_error_set(err, PG_EMODEL, "%s: node %zu is at bus '%s', which is %s", who, n,
                              bus_name(w, b),
                              island[b] == PG_NONE ? "isolated (out of service)"
                                                   : "not connected to the feeder's reference bus");
            goto out;
        }
    }
    f->w = w;
    bool has_unit = false;
    for (size_t g = 0; g < w->n_thermals; g++)
        has_unit |= w->thermals[g].bus == f->ref && w->thermals[g].in_service;
    if (!has_unit) {
        if ((rc = pg_world_clone(&f->own, w, err)))
            goto out;
        pg_thermal t;
        pg_thermal_init(&t);
        char name[64] = "grid supply";
        for (int k = 2; k < 1000 && thermal_named(w, name); k++)
            snprintf(name, sizeof name, "grid supply %d", k);
        t.name = name;
        t.bus = f->ref;
        t.vg = w->buses[f->ref].vm;
        t.pmin = -1e9;
        t.pmax = 1e9;
        t.qmin = -1e9;
        t.qmax = 1e9;
        if ((rc = pg_world_add_thermal(f->own, &t, NULL, err)))
            goto out;
        f->w = f->own;
    }
    if (want_ptdf && (rc = pg_pf_ptdf(f->w, &f->ptdf, err)))
        goto out;
out:
    free(island);
    if (rc)
        feeder_free(f);
    return rc;
}

static int
check_order(const pg_market_order *o, size_t i, size_t n_nodes, pg_error *err)
{
    if (o->node >= n_nodes)
        return pg_error_set(err, PG_EINVAL,
                            "grid-aware clearing: order %zu is of node %u, but the feeder places "
                            "%zu nodes",
                            i, o->node, n_nodes);
    if (o->side != PG_MARKET_BUY && o->side != PG_MARKET_SELL)
        return pg_error_set(err, PG_EINVAL, "grid-aware clearing: order %zu has side %d", i,
                            (int)o->side);
    if (!(o->qty > 0 && o->qty <= QTY_MAX))
        return pg_error_set(err, PG_EINVAL,
                            "grid-aware clearing: order %zu (node %u) has quantity %g kWh; it "
                            "must be > 0 and at most %g",
                            i, o->node, o->qty, QTY_MAX);
    if (!(fabs(o->price) <= PRICE_MAX))
        return pg_error_set(err, PG_EINVAL,
                            "grid-aware clearing: order %zu (node %u) has price %g $/kWh; it must "
                            "be a number from %g to %g",
                            i, o->node, o->price, -PRICE_MAX, PRICE_MAX);
    return PG_OK;
}

/* The grid's prices as the clearing uses them: which of import and export exist. NULL is an
 * off-grid community. */
static int
check_grid(const pg_market_grid *g, bool *imp, bool *exp, pg_error *err)
{
    *imp = *exp = false;
    if (!g || !g->connected) /* NULL: an off-grid community, as for every mechanism */
        return PG_OK;
    if (isnan(g->retail) || g->retail == -INFINITY ||
        (isfinite(g->retail) && fabs(g->retail) > PRICE_MAX))
        return pg_error_set(err, PG_EINVAL,
                            "grid-aware clearing: the retail price is %g $/kWh; it must be a "
                            "number from %g to %g, or +inf for no import",
                            g->retail, -PRICE_MAX, PRICE_MAX);
    if (g->feed_in == INFINITY || (isfinite(g->feed_in) && fabs(g->feed_in) > PRICE_MAX))
        return pg_error_set(err, PG_EINVAL,
                            "grid-aware clearing: the feed-in price is %g $/kWh; it must be a "
                            "number from %g to %g, or -inf (or NaN) for no export",
                            g->feed_in, -PRICE_MAX, PRICE_MAX);
    *imp = isfinite(g->retail);
    *exp = isfinite(g->feed_in);
    if (*imp && *exp && g->feed_in > g->retail)
        return pg_error_set(err, PG_EINVAL,
                            "grid-aware clearing: the feed-in price %g $/kWh is above the retail "
                            "price %g $/kWh (energy bought from the grid would sell back at a "
                            "profit)",
                            g->feed_in, g->retail);
    return PG_OK;
}

int
pg_market_clear_network(const pg_market_book *book, const pg_market_grid *grid,
                        const pg_market_network *net, pg_market_result *out, pg_error *err)
{
    feeder f = {0};
    pgi_lp lp = {0};
    pgi_solution sol = {0};
    int *line_row = NULL;
    double *coef = NULL;
    pg_market_result r = {0};
    bool imp, exp;
    int rc = PG_OK;
    if (!book || !out || (book->n > 0 && !book->orders))
        return pg_error_set(err, PG_EINVAL, "grid-aware clearing: no book or no result (NULL)");
    if ((rc = check_grid(grid, &imp, &exp, err)))
        return rc;
    if ((rc = feeder_open(&f, net, true, "grid-aware clearing", err)))
        return rc;
    for (size_t i = 0; i < book->n; i++)
        if ((rc = check_order(&book->orders[i], i, net->n_nodes, err)))
            goto out;
    const pg_world *w = f.w;
    size_t nb = w->n_buses, nl = w->n_branches, n = book->n;
    double H = net->hours;
    if (n > (size_t)(INT32_MAX - 2)) {
        rc = pg_error_set(err, PG_ELIMIT, "grid-aware clearing: %zu orders are too many", n);
        goto out;
    }

    /* Columns: the orders' cleared quantities (minimising cost: a buyer's value counts as
     * -limit, a seller's cost as +limit), then the grid's import and export. */
    for (size_t i = 0; i < n; i++) {
        const pg_market_order *o = &book->orders[i];
        pgi_lp_col(&lp, 0, o->qty, o->side == PG_MARKET_BUY ? -o->price : o->price, false);
    }
    double cap = isfinite(net->substation_kw) ? net->substation_kw * H : PGI_INF;
    int c_imp = imp ? pgi_lp_col(&lp, 0, cap, grid->retail, false) : -1;
    int c_exp = exp ? pgi_lp_col(&lp, 0, cap, -grid->feed_in, false) : -1;
    /* Energy balance, kWh: sold + imported = bought + exported. */
    int r_bal = pgi_lp_row(&lp, 0, 0);
    for (size_t i = 0; i < n; i++)
        pgi_lp_add(&lp, r_bal, (int)i, book->orders[i].side == PG_MARKET_SELL ? 1 : -1);
    if (imp)
        pgi_lp_add(&lp, r_bal, c_imp, 1);
    if (exp)
        pgi_lp_add(&lp, r_bal, c_exp, -1);
    /* Branch flows, kW: -limit <= sum_i PTDF[l, bus(i)] * (+-x_i) / H <= limit. The grid's
     * columns are at the reference bus, whose PTDFs are 0. */
    line_row = malloc(sizeof *line_row * (nl ? nl : 1));
    coef = malloc(sizeof *coef * (n ? n : 1));
    if (!line_row || !coef) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t l = 0; l < nl; l++) {
        line_row[l] = -1;
        const pg_branch *br = &w->branches[l];
        double lim = br->rate_a * 1000.0;
        if (!br->in_service || !(br->rate_a > 0) || !(lim < PGI_INF))
            continue;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            const pg_market_order *o = &book->orders[i];
            double p = f.ptdf[l * nb + net->node_bus[o->node]];
            if (fabs(p) < PTDF_EPS)
                p = 0;
            coef[i] = (o->side == PG_MARKET_SELL ? p : -p) / H;
            any |= coef[i] != 0;
        }
        if (!any)
            continue;
        line_row[l] = pgi_lp_row(&lp, -lim, lim);
        for (size_t i = 0; i < n; i++)
            if (coef[i] != 0)
                pgi_lp_add(&lp, line_row[l], (int)i, coef[i]);
    }
    if ((rc = pgi_lp_ok(&lp, err)))
        goto out;
    pgi_solve_options so = {0};
    so.block_min_cols = -1;
    if ((rc = pgi_solve_lp(&lp, &so, &sol, err)))
        goto out;
    if (sol.status != PGI_OPTIMAL) {
        rc = pg_error_set(err, PG_ESOLVER,
                          "grid-aware clearing: the LP solver ended with status %d, not optimal",
                          (int)sol.status);
        goto out;
    }

    /* Results. */
    r.n_fills = n;
    r.n_nodes = net->n_nodes;
    r.n_branches = nl;
    r.fills = calloc(n ? n : 1, sizeof *r.fills);
    r.node_price = calloc(r.n_nodes ? r.n_nodes : 1, sizeof *r.node_price);
    r.flow_kw = calloc(nl ? nl : 1, sizeof *r.flow_kw);
    r.flow_limit_kw = calloc(nl ? nl : 1, sizeof *r.flow_limit_kw);
    double *inj = calloc(nb ? nb : 1, sizeof *inj); /* kWh per bus */
    double *bus_price = calloc(nb ? nb : 1, sizeof *bus_price);
    if (!r.fills || !r.node_price || !r.flow_kw || !r.flow_limit_kw || !inj || !bus_price) {
        free(inj);
        free(bus_price);
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    /* nodal prices: price_b = lambda + sum_l mu_l PTDF[l, b] / H (an extra kWh injected at b
     * relaxes the balance row by 1 and branch l's row by PTDF[l, b] / H) */
    for (size_t b = 0; b < nb; b++) {
        double p = sol.dual[r_bal];
        for (size_t l = 0; l < nl; l++)
            if (line_row[l] >= 0)
                p += sol.dual[line_row[l]] * f.ptdf[l * nb + b] / H;
        bus_price[b] = p;
    }
    double sold = 0, bought = 0;
    bool buyers = false, sellers = false, traded = false;
    for (size_t i = 0; i < n; i++) {
        const pg_market_order *o = &book->orders[i];
        double q = sol.x[i];
        q = q < 0 ? 0 : q > o->qty ? o->qty : q;
        r.fills[i].qty = q;
        if (o->side == PG_MARKET_BUY)
            bought += q;
        else
            sold += q;
    }
    /* The solver meets the balance row to its tolerance (about 1e-7), settlement checks it to
     * 1e-9: the grid at the reference bus takes the exact difference, or, off the grid, the
     * larger side gives up its excess in proportion. */
    double gi = imp ? fmax(sol.x[c_imp], 0) : 0, ge = exp ? fmax(sol.x[c_exp], 0) : 0;
    if (imp || exp) {
        double need = bought - sold; /* what the peers' cleared trades take from the grid */
        gi = imp && need > 0 ? need : 0;
        ge = exp && need < 0 ? -need : 0;
        if ((need > 0 && !imp) || (need < 0 && !exp))
            gi = ge = 0; /* the grid cannot take this side: scaled below */
    }
    if (gi == 0 && ge == 0 && bought != sold && bought > 0 && sold > 0) {
        bool cut_buyers = bought > sold;
        double k = cut_buyers ? sold / bought : bought / sold;
        for (size_t i = 0; i < n; i++)
            if ((book->orders[i].side == PG_MARKET_BUY) == cut_buyers)
                r.fills[i].qty *= k;
    }
    bought = sold = 0;
    for (size_t i = 0; i < n; i++) {
        const pg_market_order *o = &book->orders[i];
        double q = r.fills[i].qty;
        size_t b = net->node_bus[o->node];
        r.fills[i].price = bus_price[b];
        traded |= q > 0;
        if (o->side == PG_MARKET_BUY) {
            buyers = true;
            bought += q;
            r.buyer_paid += q * bus_price[b];
            inj[b] -= q;
        } else {
            sellers = true;
            sold += q;
            r.seller_got += q * bus_price[b];
            inj[b] += q;
        }
    }
    r.grid_import = gi;
    r.grid_export = ge;
    inj[f.ref] += r.grid_import - r.grid_export;
    r.surplus = r.buyer_paid - r.seller_got;
    /* energy that went from peer sellers to peer buyers: what buyers got beyond the import */
    r.volume = fmax(0, fmin(bought - r.grid_import, sold - r.grid_export));
    r.outcome =
        traded ? PG_MARKET_CLEARED : (buyers && sellers ? PG_MARKET_NO_CROSS : PG_MARKET_ONE_SIDED);
    r.price = bus_price[f.ref];
    for (size_t k = 0; k < net->n_nodes; k++) {
        r.node_price[k] = bus_price[net->node_bus[k]];
        if (fabs(r.node_price[k] - r.price) > PRICE_EPS)
            r.price = NAN; /* prices differ across the feeder: no uniform price */
    }
    for (size_t l = 0; l < nl; l++) {
        const pg_branch *br = &w->branches[l];
        double fl = 0;
        for (size_t b = 0; b < nb; b++)
            fl += f.ptdf[l * nb + b] * inj[b];
        r.flow_kw[l] = fl / H;
        r.flow_limit_kw[l] =
            line_row[l] >= 0 || (br->in_service && br->rate_a > 0) ? br->rate_a * 1000.0 : INFINITY;
    }
    free(inj);
    free(bus_price);
    *out = r;
    memset(&r, 0, sizeof r);
out:
    pg_market_result_free(&r);
    free(line_row);
    free(coef);
    pgi_solution_free(&sol);
    pgi_lp_free(&lp);
    feeder_free(&f);
    return rc;
}

/* ---------------------------------------------------------------- the AC check */

void
pg_market_ac_free(pg_market_ac *a)
{
    if (!a)
        return;
    free(a->vm);
    free(a->loading);
    a->vm = a->loading = NULL;
}

int
pg_market_ac_check(const pg_market_network *net, const double *inj_kw, double pf, pg_market_ac *out,
                   pg_error *err)
{
    feeder f = {0};
    pg_world *w = NULL;
    pg_pf_result *res = NULL;
    pg_market_ac a = {0};
    int rc = PG_OK;
    if (!out)
        return pg_error_set(err, PG_EINVAL, "AC check: no result (NULL)");
    if (!(pf > 0 && pf <= 1))
        return pg_error_set(err, PG_EINVAL,
                            "AC check: the power factor is %g; it must be in (0, 1]", pf);
    if ((rc = feeder_open(&f, net, false, "AC check", err)))
        return rc;
    if (net->n_nodes > 0 && !inj_kw) {
        rc = pg_error_set(err, PG_EINVAL, "AC check: inj_kw is NULL for %zu nodes", net->n_nodes);
        goto out;
    }
    for (size_t n = 0; n < net->n_nodes; n++)
        if (!(fabs(inj_kw[n]) <= POWER_MAX)) {
            rc = pg_error_set(err, PG_EINVAL,
                              "AC check: node %zu's injection is %g kW; it must be a number from "
                              "%g to %g",
                              n, inj_kw[n], -POWER_MAX, POWER_MAX);
            goto out;
        }
    if ((rc = pg_world_clone(&w, f.w, err)))
        goto out;
    /* Each node is a load at its bus: P = -injection (MW), Q from the power factor as the
     * model computes it for a unit (P tan phi, cos phi = pf). */
    pg_renewable at_pf;
    pg_renewable_init(&at_pf);
    at_pf.power_factor = pf;
    for (size_t n = 0; n < net->n_nodes; n++) {
        pg_load l;
        pg_load_init(&l);
        char name[64];
        snprintf(name, sizeof name, "market node %zu", n);
        l.name = name;
        l.bus = net->node_bus[n];
        l.p = -inj_kw[n] / 1000.0;
        l.q = pgi_renewable_q(&at_pf, l.p);
        if ((rc = pg_world_add_load(w, &l, NULL, err)))
            goto out;
    }
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.max_iter = 30;
    if ((rc = pg_pf_solve(w, &o, &res, err)))
        goto out;
    size_t nb = w->n_buses, nl = w->n_branches;
    a.n_buses = nb;
    a.n_branches = nl;
    a.vm = malloc(sizeof *a.vm * (nb ? nb : 1));
    a.loading = malloc(sizeof *a.loading * (nl ? nl : 1));
    if (!a.vm || !a.loading) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    /* The nodes' island (the reference bus's) always has a unit; islands cut off from it with no
     * reference bus or unit are left de-energised by the power flow and carry nothing: whether
     * the energised part converged is what counts, not all_solved. */
    a.converged = res->converged;
    a.vm_min = INFINITY;
    a.vm_max = -INFINITY;
    a.vm_min_bus = a.vm_max_bus = PG_NONE;
    for (size_t b = 0; b < nb; b++) {
        a.vm[b] = res->vm[b];
        if (res->island[b] == PG_NONE || res->islands[res->island[b]].status)
            continue; /* not energised */
        if (res->vm[b] < a.vm_min) {
            a.vm_min = res->vm[b];
            a.vm_min_bus = b;
        }
        if (res->vm[b] > a.vm_max) {
            a.vm_max = res->vm[b];
            a.vm_max_bus = b;
        }
    }
    a.loading_max = 0;
    a.loading_max_branch = PG_NONE;
    for (size_t l = 0; l < nl; l++) {
        const pg_branch *br = &w->branches[l];
        if (!(br->rate_a > 0)) {
            a.loading[l] = NAN;
            continue;
        }
        double sf = hypot(res->pf[l], res->qf[l]), st = hypot(res->pt[l], res->qt[l]);
        a.loading[l] = fmax(sf, st) / br->rate_a;
        if (a.loading_max_branch == PG_NONE || a.loading[l] > a.loading_max) {
            a.loading_max = a.loading[l];
            a.loading_max_branch = l;
        }
    }
    a.loss_kw = res->loss_p * 1000.0;
    if (!a.converged) {
        a.vm_min = a.vm_max = a.loss_kw = a.loading_max = NAN;
        a.vm_min_bus = a.vm_max_bus = PG_NONE;
    }
    *out = a;
    memset(&a, 0, sizeof a);
out:
    pg_market_ac_free(&a);
    pg_pf_result_free(res);
    pg_world_free(w);
    feeder_free(&f);
    return rc;
}
