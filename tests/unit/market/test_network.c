/* Grid-aware clearing (pg_market_clear_network) and the AC check of a cleared schedule
 * (pg_market_ac_check) on small feeders built here: a radial feeder with a binding line, where
 * the cleared quantities, the flows and the nodal prices have a closed form; random books on a
 * meshed feeder, where flows stay within their limits and equal an independent DC power flow of
 * the cleared injections, and the nodal prices are those the LP's optimality conditions demand
 * of every order; without limits and with the grid out of the money, the welfare of the plain
 * merit-order (uniform auction) volumes; the substation limit; an off-grid community; bad inputs;
 * every allocation failing in turn. */
#include <limits.h>

#include "harness.h"

#include "plurigrid/market.h"
#include "plurigrid/pf.h"

/* ---------------------------------------------------------------- feeders and books */

typedef struct line {
    int f, t;
    double rate_kva; /* 0: no limit */
} line;

/* A feeder of nb buses at 12.47 kV on a 1 MVA base, bus 0 the reference (with a unit standing
 * for the substation when unit is true), lines of r = 0.01, x = 0.02 p.u. */
static pg_world *
feeder(int nb, const line *lines, int nl, bool unit)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&w, "feeder", 1.0, &err), PG_OK);
    for (int i = 0; i < nb; i++) {
        pg_bus b;
        pg_bus_init(&b);
        char name[16];
        snprintf(name, sizeof name, "bus%d", i);
        b.name = name;
        b.number = i + 1;
        b.base_kv = 12.47;
        b.type = i == 0 ? PG_BUS_REF : PG_BUS_PQ;
        assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    }
    for (int i = 0; i < nl; i++) {
        pg_branch br;
        pg_branch_init(&br);
        char name[16];
        snprintf(name, sizeof name, "line%d-%d", lines[i].f, lines[i].t);
        br.name = name;
        br.from = (size_t)lines[i].f;
        br.to = (size_t)lines[i].t;
        br.r = 0.01;
        br.x = 0.02 * (1 + 0.5 * i); /* unequal, so meshes share flows unevenly */
        br.rate_a = lines[i].rate_kva / 1000.0;
        assert_int_equal(pg_world_add_branch(w, &br, NULL, &err), PG_OK);
    }
    if (unit) {
        pg_thermal t;
        pg_thermal_init(&t);
        t.name = "substation";
        t.bus = 0;
        t.pmax = 10;
        t.pmin = -10;
        assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    }
    return w;
}

typedef struct book {
    pg_market_book b;
    pg_market_order o[256];
} book;

static void
add(book *bk, uint32_t node, pg_market_side side, double qty, double price)
{
    assert_true(bk->b.n < 256);
    bk->b.orders = bk->o;
    bk->o[bk->b.n] = (pg_market_order){node, side, qty, price, bk->b.n};
    bk->b.n++;
    bk->b.cap = 256;
    bk->b.next_seq = bk->b.n;
}

static double
welfare(const pg_market_book *b, const pg_market_result *r, const pg_market_grid *g)
{
    double v = 0;
    for (size_t i = 0; i < b->n; i++)
        v += (b->orders[i].side == PG_MARKET_BUY ? 1 : -1) * b->orders[i].price * r->fills[i].qty;
    if (r->grid_import > 0)
        v -= g->retail * r->grid_import;
    if (r->grid_export > 0)
        v += g->feed_in * r->grid_export;
    return v;
}

/* Net injection per node, kWh (sold - bought). */
static void
node_injections(const pg_market_book *b, const pg_market_result *r, size_t n_nodes, double *inj)
{
    for (size_t k = 0; k < n_nodes; k++)
        inj[k] = 0;
    for (size_t i = 0; i < b->n; i++)
        inj[b->orders[i].node] += (b->orders[i].side == PG_MARKET_SELL ? 1 : -1) * r->fills[i].qty;
}

/* The flows of an independent DC power flow of the cleared injections (and the grid's at the
 * reference bus), kW, compared with the result's. */
static void
check_flows_dc(const pg_market_network *net, const pg_market_book *b, const pg_market_result *r)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_clone(&w, net->world, &err), PG_OK);
    bool unit = false;
    for (size_t g = 0; g < w->n_thermals; g++)
        unit |= w->thermals[g].bus == 0;
    if (!unit) {
        pg_thermal t;
        pg_thermal_init(&t);
        t.name = "slack";
        t.bus = 0;
        assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    }
    double inj[64];
    node_injections(b, r, net->n_nodes, inj);
    for (size_t k = 0; k < net->n_nodes; k++) {
        pg_load l;
        pg_load_init(&l);
        char name[32];
        snprintf(name, sizeof name, "node%zu", k);
        l.name = name;
        l.bus = net->node_bus[k];
        l.p = -inj[k] / net->hours / 1000.0;
        assert_int_equal(pg_world_add_load(w, &l, NULL, &err), PG_OK);
    }
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = true;
    pg_pf_result *pf = NULL;
    assert_int_equal(pg_pf_solve(w, &o, &pf, &err), PG_OK);
    assert_true(pf->all_solved);
    /* the slack unit carried the grid's exchange */
    double slack = 0;
    for (size_t g = 0; g < w->n_thermals; g++)
        slack += pf->pg[g];
    assert_near(slack * 1000 * net->hours, r->grid_import - r->grid_export, 1e-6);
    assert_int_equal(r->n_branches, w->n_branches);
    for (size_t l = 0; l < w->n_branches; l++) {
        assert_near(r->flow_kw[l], pf->pf[l] * 1000, 1e-6);
        /* within the limit */
        assert_true(fabs(r->flow_kw[l]) <= r->flow_limit_kw[l] * (1 + 1e-9) + 1e-6);
        if (w->branches[l].rate_a > 0 && w->branches[l].in_service)
            assert_near(r->flow_limit_kw[l], w->branches[l].rate_a * 1000, 1e-9);
        else
            assert_true(isinf(r->flow_limit_kw[l]));
    }
    pg_pf_result_free(pf);
    pg_world_free(w);
}

/* Every order against its node's price, as the LP's optimality conditions demand: a buyer is
 * filled wholly when its limit is above the price, not at all below it, partly only at it; a
 * seller the other way round. Every order settles at its node's price. */
static void
check_prices(const pg_market_book *b, const pg_market_result *r)
{
    for (size_t i = 0; i < b->n; i++) {
        const pg_market_order *o = &b->orders[i];
        double p = r->node_price[o->node], q = r->fills[i].qty;
        assert_near(r->fills[i].price, p, 0);
        double tol = 1e-7;
        bool full = q >= o->qty * (1 - 1e-9), none = q <= o->qty * 1e-9;
        double gain = o->side == PG_MARKET_BUY ? o->price - p : p - o->price;
        if (gain > tol && !full)
            fail_msg("order %zu (%s %g at %g, node price %g) is filled %g only", i,
                     o->side == PG_MARKET_BUY ? "buy" : "sell", o->qty, o->price, p, q);
        if (gain < -tol && !none)
            fail_msg("order %zu (%s %g at %g, node price %g) is filled %g at a loss", i,
                     o->side == PG_MARKET_BUY ? "buy" : "sell", o->qty, o->price, p, q);
    }
}

/* Money: buyers pay what sellers get plus the grid's energy at the reference bus's price plus a
 * congestion rent that is never negative (zero without binding lines). */
static double
congestion_rent(const pg_market_book *b, const pg_market_result *r, double ref_price)
{
    double paid = 0, got = 0;
    for (size_t i = 0; i < b->n; i++) {
        double m = r->fills[i].qty * r->fills[i].price;
        if (b->orders[i].side == PG_MARKET_BUY)
            paid += m;
        else
            got += m;
    }
    assert_near(paid, r->buyer_paid, 1e-9);
    assert_near(got, r->seller_got, 1e-9);
    assert_near(r->surplus, paid - got, 1e-9);
    double rent = r->surplus - ref_price * (r->grid_import - r->grid_export);
    assert_true(rent >= -1e-9);
    return rent;
}

/* Settlement of the cleared result with every node metering exactly its cleared energy: the
 * balance check of pg_market_settle holds (energy and money with the grid counted), and no node
 * trades with the grid outside the clearing. */
static void
check_settles(const pg_market_book *b, const pg_market_result *r, const pg_market_grid *g,
              size_t n_nodes)
{
    double metered[64];
    pg_market_settlement s[64];
    node_injections(b, r, n_nodes, metered);
    for (size_t k = 0; k < n_nodes; k++)
        metered[k] = -metered[k]; /* net import */
    pg_error err = {0};
    if (pg_market_settle(b, r, g, metered, n_nodes, s, &err))
        fail_msg("settlement: %s", err.msg);
    double bills = 0;
    for (size_t k = 0; k < n_nodes; k++) {
        assert_near(s[k].grid_import + s[k].grid_export, 0, 1e-9);
        bills += s[k].bill;
    }
    assert_near(bills, r->surplus, 1e-9);
}

/* Merit order: bids by price down, asks by price up, matched while the bid is above the ask: the
 * volumes of the uniform call auction, and their welfare. */
static int
by_price_desc(const void *a, const void *b)
{
    double x = ((const pg_market_order *)a)->price, y = ((const pg_market_order *)b)->price;
    return (x < y) - (x > y);
}

static double
merit_order_welfare(const pg_market_book *b)
{
    pg_market_order bids[256], asks[256];
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->orders[i].side == PG_MARKET_BUY)
            bids[nb++] = b->orders[i];
        else
            asks[na++] = b->orders[i];
    }
    qsort(bids, nb, sizeof *bids, by_price_desc);
    qsort(asks, na, sizeof *asks, by_price_desc);
    double w = 0;
    size_t i = 0, j = na; /* asks ascending from the end */
    double qb = nb ? bids[0].qty : 0, qa = na ? asks[na - 1].qty : 0;
    while (i < nb && j > 0 && bids[i].price > asks[j - 1].price) {
        double q = fmin(qb, qa);
        w += q * (bids[i].price - asks[j - 1].price);
        qb -= q;
        qa -= q;
        if (qb <= 0 && ++i < nb)
            qb = bids[i].qty;
        if (qa <= 0 && --j > 0)
            qa = asks[j - 1].qty;
    }
    return w;
}

/* ---------------------------------------------------------------- tests */

/* Bus 0 (the grid) - bus 1 - bus 2, the line 1-2 rated 3 kVA. A cheap seller at bus 1, two
 * buyers at bus 2: only 3 kWh reach bus 2 in the hour, so the 0.30 buyer gets its 2 and the 0.20
 * buyer 1; bus 1's price is the seller's 0.05 (partly sold), bus 2's the 0.20 buyer's (partly
 * filled); the grid's 0.25 cannot reach bus 2 either, and its feed-in of 0.03 is below the seller.
 * The congestion rent is (0.20 - 0.05) * 3. */
static void
test_radial_binding_line(void **state)
{
    (void)state;
    for (int with_unit = 0; with_unit < 2; with_unit++) {
        line lines[] = {{0, 1, 0}, {1, 2, 3}};
        pg_world *w = feeder(3, lines, 2, with_unit);
        size_t node_bus[] = {1, 2, 2};
        pg_market_network net = {w, 3, node_bus, 1.0, INFINITY};
        book bk = {0};
        add(&bk, 0, PG_MARKET_SELL, 10, 0.05);
        add(&bk, 1, PG_MARKET_BUY, 2, 0.30);
        add(&bk, 2, PG_MARKET_BUY, 10, 0.20);
        pg_market_grid g = {0.25, 0.03, true};
        pg_market_result r;
        pg_error err = {0};
        assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
        assert_int_equal(r.outcome, PG_MARKET_CLEARED);
        assert_int_equal(r.n_fills, 3);
        assert_near(r.fills[0].qty, 3, 1e-9);
        assert_near(r.fills[1].qty, 2, 1e-9);
        assert_near(r.fills[2].qty, 1, 1e-9);
        assert_near(r.flow_kw[1], 3, 1e-9);
        assert_near(r.flow_kw[0], 0, 1e-9);
        assert_near(r.flow_limit_kw[1], 3, 1e-12);
        assert_true(isinf(r.flow_limit_kw[0]));
        assert_int_equal(r.n_nodes, 3);
        assert_near(r.node_price[0], 0.05, 1e-9);
        assert_near(r.node_price[1], 0.20, 1e-9);
        assert_near(r.node_price[2], 0.20, 1e-9);
        assert_true(isnan(r.price)); /* no uniform price across a congested line */
        assert_near(r.grid_import, 0, 1e-9);
        assert_near(r.grid_export, 0, 1e-9);
        assert_near(r.volume, 3, 1e-9);
        assert_near(r.buyer_paid, 3 * 0.20, 1e-9);
        assert_near(r.seller_got, 3 * 0.05, 1e-9);
        assert_near(r.surplus, 0.45, 1e-9);
        assert_near(congestion_rent(&bk.b, &r, 0.05), 0.45, 1e-9);
        check_flows_dc(&net, &bk.b, &r);
        check_prices(&bk.b, &r);
        check_settles(&bk.b, &r, &g, 3);
        /* the price difference across the line is its dual over the PTDF difference: radially,
         * an extra kWh at bus 2 (PTDF -1 on line 1-2) relieves the line by 1 kW for an hour, and
         * is worth the 0.20 buyer's value against the seller's cost */
        assert_near(r.node_price[1] - r.node_price[0], 0.15, 1e-9);
        pg_market_result_free(&r);

        /* Half-hour interval: 3 kW for half an hour is 1.5 kWh */
        net.hours = 0.5;
        assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
        assert_near(r.fills[0].qty, 1.5, 1e-9);
        assert_near(r.flow_kw[1], 3, 1e-9);
        check_flows_dc(&net, &bk.b, &r);
        pg_market_result_free(&r);

        /* Without the limit: one price, 0.20 (the buyer at 0.20 partly filled); welfare is the
         * merit order's, and so on with a richer book. */
        net.hours = 1;
        w->branches[1].rate_a = 0;
        assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
        assert_near(r.fills[0].qty, 10, 1e-9);
        assert_near(r.fills[2].qty, 8, 1e-9);
        assert_near(r.price, 0.20, 1e-9);
        assert_near(welfare(&bk.b, &r, &g), merit_order_welfare(&bk.b), 1e-9);
        assert_near(r.surplus, 0, 1e-9);
        assert_near(r.flow_kw[1], 10, 1e-9);
        check_flows_dc(&net, &bk.b, &r);
        pg_market_result_free(&r);
        pg_world_free(w);
    }
}

/* The grid at the substation: a buyer alone imports at retail up to the substation's limit; at the
 * limit the reference bus's price rises to the buyer's value and the grid's margin over retail is
 * part of the surplus. A seller alone exports at feed-in. */
static void
test_substation(void **state)
{
    (void)state;
    line lines[] = {{0, 1, 0}};
    pg_world *w = feeder(2, lines, 1, true);
    size_t node_bus[] = {1, 1};
    pg_market_network net = {w, 2, node_bus, 1.0, INFINITY};
    pg_market_grid g = {0.25, 0.05, true};
    pg_error err = {0};
    pg_market_result r;
    book bk = {0};
    add(&bk, 0, PG_MARKET_BUY, 100, 0.40);
    assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
    assert_int_equal(r.outcome, PG_MARKET_CLEARED);
    assert_near(r.grid_import, 100, 1e-9);
    assert_near(r.price, 0.25, 1e-9);
    assert_near(r.volume, 0, 1e-9);
    assert_near(r.surplus, 25, 1e-9);
    assert_near(congestion_rent(&bk.b, &r, 0.25), 0, 1e-9);
    check_flows_dc(&net, &bk.b, &r);
    pg_market_result_free(&r);
    net.substation_kw = 30;
    assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
    assert_near(r.grid_import, 30, 1e-9);
    assert_near(r.fills[0].qty, 30, 1e-9);
    assert_near(r.price, 0.40, 1e-9);
    assert_near(r.surplus, 30 * 0.40, 1e-9); /* = retail bill 7.5 + grid margin 4.5 */
    check_settles(&bk.b, &r, &g, 2);
    pg_market_result_free(&r);
    /* a seller alone */
    book s = {0};
    add(&s, 1, PG_MARKET_SELL, 7, 0.01);
    net.substation_kw = INFINITY;
    assert_int_equal(pg_market_clear_network(&s.b, &g, &net, &r, &err), PG_OK);
    assert_near(r.grid_export, 7, 1e-9);
    assert_near(r.node_price[1], 0.05, 1e-9);
    assert_near(r.surplus, -7 * 0.05, 1e-9);
    check_flows_dc(&net, &s.b, &r);
    pg_market_result_free(&r);
    /* off grid: nothing to trade with */
    g.connected = false;
    assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
    assert_int_equal(r.outcome, PG_MARKET_ONE_SIDED);
    assert_near(r.fills[0].qty, 0, 0);
    assert_near(r.grid_import, 0, 0);
    pg_market_result_free(&r);
    /* off grid, no cross */
    add(&bk, 1, PG_MARKET_SELL, 5, 0.50);
    assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
    assert_int_equal(r.outcome, PG_MARKET_NO_CROSS);
    pg_market_result_free(&r);
    /* an empty book */
    book e = {0};
    assert_int_equal(pg_market_clear_network(&e.b, &g, &net, &r, &err), PG_OK);
    assert_int_equal(r.outcome, PG_MARKET_ONE_SIDED);
    assert_int_equal(r.n_fills, 0);
    pg_market_result_free(&r);
    pg_world_free(w);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double
uniform01(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void
random_book(book *bk, int n_orders, uint32_t n_nodes)
{
    memset(bk, 0, sizeof *bk);
    for (int i = 0; i < n_orders; i++) {
        uint32_t node = (uint32_t)(uniform01() * n_nodes);
        bool buy = uniform01() < 0.5;
        double qty = 0.5 + 9.5 * uniform01();
        /* prices on a 0.01 grid, so ties happen */
        double price =
            round((buy ? 0.08 + 0.25 * uniform01() : 0.02 + 0.25 * uniform01()) * 100) / 100;
        add(bk, node, buy ? PG_MARKET_BUY : PG_MARKET_SELL, qty, price);
    }
}

/* A meshed feeder (a loop 0-1-2-3-0 and a spur 2-4) with random books: flows within limits and
 * equal to a DC power flow of the cleared injections, prices as the optimality conditions say,
 * congestion rent never negative; with the grid out of the money and no limits, the merit order's
 * welfare and one price; a limit never raises welfare. */
static void
test_meshed_random(void **state)
{
    (void)state;
    line lines[] = {{0, 1, 0}, {1, 2, 8}, {2, 3, 0}, {3, 0, 6}, {2, 4, 4}};
    pg_world *w = feeder(5, lines, 5, false);
    /* node 8, at the reference bus, has no orders: its price is the reference bus's */
    size_t node_bus[] = {1, 2, 3, 4, 4, 2, 1, 3, 0};
    pg_market_network net = {w, 9, node_bus, 1.0, INFINITY};
    pg_error err = {0};
    int congested = 0;
    for (int round = 0; round < 60; round++) {
        book bk;
        random_book(&bk, 4 + round % 30, 8);
        pg_market_grid g = {0.22, 0.06, true};
        pg_market_result r, u;
        net.hours = round % 3 == 0 ? 0.25 : 1.0;
        assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
        check_flows_dc(&net, &bk.b, &r);
        check_prices(&bk.b, &r);
        check_settles(&bk.b, &r, &g, 9);
        double rent = congestion_rent(&bk.b, &r, r.node_price[8]);
        if (isnan(r.price))
            congested++;
        else
            assert_near(rent, 0, 1e-9);
        /* without limits */
        double rates[5];
        for (int l = 0; l < 5; l++) {
            rates[l] = w->branches[l].rate_a;
            w->branches[l].rate_a = 0;
        }
        assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &u, &err), PG_OK);
        for (int l = 0; l < 5; l++)
            w->branches[l].rate_a = rates[l];
        double wl = welfare(&bk.b, &r, &g), wu = welfare(&bk.b, &u, &g);
        assert_true(wl <= wu + 1e-9);
        if (!isnan(r.price))
            assert_near(wl, wu, 1e-9); /* no price differences: the limits did not bind */
        assert_false(isnan(u.price));
        check_prices(&bk.b, &u);
        pg_market_result_free(&u);
        pg_market_result_free(&r);
        /* the grid out of the money, no limits: the merit order's welfare */
        pg_market_grid far = {10.0, -10.0, true};
        for (int l = 0; l < 5; l++)
            w->branches[l].rate_a = 0;
        assert_int_equal(pg_market_clear_network(&bk.b, &far, &net, &u, &err), PG_OK);
        assert_near(u.grid_import + u.grid_export, 0, 1e-9);
        double wm = merit_order_welfare(&bk.b);
        assert_near(welfare(&bk.b, &u, &far), wm, 1e-9);
        check_settles(&bk.b, &u, &far, 9);
        pg_market_result_free(&u);
        /* the plain uniform auction's volumes have that welfare too */
        pg_market_result ua;
        assert_int_equal(pg_market_clear_uniform(&bk.b, &far, &ua, &err), PG_OK);
        assert_near(welfare(&bk.b, &ua, &far), wm, 1e-9);
        pg_market_result_free(&ua);
        pg_market_grid off = {0.22, 0.06, false};
        assert_int_equal(pg_market_clear_network(&bk.b, &off, &net, &u, &err), PG_OK);
        assert_near(welfare(&bk.b, &u, &off), merit_order_welfare(&bk.b), 1e-9);
        pg_market_result_free(&u);
        for (int l = 0; l < 5; l++)
            w->branches[l].rate_a = rates[l];
    }
    assert_true(congested >= 10); /* the limits did bind, often */
    pg_world_free(w);
}

/* The AC picture of the radial feeder's cleared schedule: it converges, voltages fall along the
 * feeder from the substation, the loaded line's loading is its apparent power over its rating,
 * and the losses are small and positive. */
static void
test_ac_check(void **state)
{
    (void)state;
    line lines[] = {{0, 1, 0}, {1, 2, 3}};
    pg_world *w = feeder(3, lines, 2, false);
    /* heavier: 300 kW at bus 2 from the grid, 3 kVA rating is then far exceeded */
    size_t node_bus[] = {1, 2};
    pg_market_network net = {w, 2, node_bus, 1.0, INFINITY};
    double inj[] = {100, -400}; /* kW */
    pg_market_ac a;
    pg_error err = {0};
    assert_int_equal(pg_market_ac_check(&net, inj, 0.95, &a, &err), PG_OK);
    assert_true(a.converged);
    assert_int_equal(a.n_buses, 3);
    assert_int_equal(a.n_branches, 2);
    assert_near(a.vm[0], 1.0, 1e-12);
    assert_true(a.vm[2] < a.vm[1] && a.vm[1] < a.vm[0]);
    assert_true(a.vm_min > 0.95 && a.vm_min < 1);
    assert_int_equal(a.vm_min_bus, 2);
    assert_int_equal(a.vm_max_bus, 0);
    assert_near(a.vm_min, a.vm[2], 0);
    /* line 1-2 carries the 400 kW and its 131 kVAr to bus 2: |S| about 421 kVA on a 3 kVA rating */
    assert_true(isnan(a.loading[0]));
    assert_near(a.loading[1], 400 / 0.95 / 3, 2.0);
    assert_int_equal(a.loading_max_branch, 1);
    assert_near(a.loading_max, a.loading[1], 0);
    /* losses: I^2 R on both lines, about r (S/V)^2 per line in p.u. */
    double expect = 0.01 * (pow(0.3 / 0.95, 2) + pow(0.4 / 0.95, 2)) * 1000;
    assert_true(a.loss_kw > 0.9 * expect && a.loss_kw < 1.2 * expect);
    pg_market_ac_free(&a);
    pg_market_ac_free(NULL);
    /* unity power factor: no reactive power, less loss */
    pg_market_ac b;
    assert_int_equal(pg_market_ac_check(&net, inj, 1.0, &b, &err), PG_OK);
    assert_true(b.loss_kw < expect);
    pg_market_ac_free(&b);
    pg_world_free(w);
}

static void
expect_error(const pg_market_book *b, const pg_market_grid *g, const pg_market_network *net,
             int code, const char *needle)
{
    pg_market_result r;
    memset(&r, 0x5a, sizeof r);
    pg_market_result before = r;
    pg_error err = {0};
    int rc = pg_market_clear_network(b, g, net, &r, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("expected %d with \"%s\", got %d: %s", code, needle, rc, err.msg);
    assert_memory_equal(&r, &before, sizeof r); /* untouched */
}

static void
test_bad_input(void **state)
{
    (void)state;
    line lines[] = {{0, 1, 5}, {1, 2, 0}};
    pg_world *w = feeder(4, lines, 2, true);
    size_t node_bus[] = {1, 2};
    pg_market_network net = {w, 2, node_bus, 1.0, INFINITY};
    pg_market_grid g = {0.25, 0.05, true};
    book bk = {0};
    add(&bk, 0, PG_MARKET_SELL, 10, 0.05);
    add(&bk, 1, PG_MARKET_BUY, 2, 0.30);
    pg_error err = {0};
    pg_market_result r;
    assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
    pg_market_result_free(&r);

    size_t far[] = {1, 9};
    net.node_bus = far;
    expect_error(&bk.b, &g, &net, PG_EINVAL,
                 "grid-aware clearing: node 1 is at bus 9, but the feeder has 4 buses");
    size_t lonely[] = {1, 3}; /* bus 3 has no branch */
    net.node_bus = lonely;
    expect_error(&bk.b, &g, &net, PG_EMODEL,
                 "node 1 is at bus 'bus3', which is not connected to the feeder's reference bus");
    w->buses[3].type = PG_BUS_ISOLATED;
    expect_error(&bk.b, &g, &net, PG_EMODEL, "node 1 is at bus 'bus3', which is isolated");
    w->buses[3].type = PG_BUS_PQ;
    net.node_bus = node_bus;
    net.n_nodes = 1;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "order 1 is of node 1, but the feeder places 1 nodes");
    net.n_nodes = 2;
    bk.o[1].price = NAN;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "order 1 (node 1) has price nan $/kWh");
    bk.o[1].price = 1e300;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "order 1 (node 1) has price 1e+300 $/kWh");
    bk.o[1].price = 0.3;
    bk.o[0].qty = -1;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "order 0 (node 0) has quantity -1 kWh");
    bk.o[0].qty = INFINITY;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "order 0 (node 0) has quantity inf kWh");
    bk.o[0].qty = 10;
    net.hours = NAN;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "hours is nan");
    net.hours = 0;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "hours is 0");
    net.hours = 1;
    net.substation_kw = NAN;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "substation_kw is nan");
    net.substation_kw = -1;
    expect_error(&bk.b, &g, &net, PG_EINVAL, "substation_kw is -1");
    net.substation_kw = INFINITY;
    pg_market_grid bad = {NAN, 0.05, true};
    expect_error(&bk.b, &bad, &net, PG_EINVAL, "the retail price is nan");
    bad = (pg_market_grid){0.1, 0.2, true};
    expect_error(&bk.b, &bad, &net, PG_EINVAL, "the feed-in price 0.2 $/kWh is above the retail");
    bad = (pg_market_grid){0.1, INFINITY, true};
    expect_error(&bk.b, &bad, &net, PG_EINVAL, "the feed-in price is inf");
    /* no retail and no feed-in is fine: the grid is not there to trade with */
    bad = (pg_market_grid){INFINITY, NAN, true};
    assert_int_equal(pg_market_clear_network(&bk.b, &bad, &net, &r, &err), PG_OK);
    assert_near(r.grid_import + r.grid_export, 0, 0);
    pg_market_result_free(&r);
    /* no grid terms: off grid */
    assert_int_equal(pg_market_clear_network(&bk.b, NULL, &net, &r, &err), PG_OK);
    assert_near(r.grid_import + r.grid_export, 0, 0);
    pg_market_result_free(&r);
    expect_error(NULL, &g, &net, PG_EINVAL, "no book");
    expect_error(&bk.b, &g, NULL, PG_EINVAL, "no feeder");
    /* two reference buses */
    w->buses[2].type = PG_BUS_REF;
    expect_error(&bk.b, &g, &net, PG_EMODEL, "has 2 reference buses; it needs exactly one");
    w->buses[2].type = PG_BUS_PQ;
    /* the feeder's own errors, named */
    w->branches[0].x = 0;
    w->branches[0].r = 0;
    expect_error(&bk.b, &g, &net, PG_EMODEL, "line0-1");
    w->branches[0].x = 0.02;
    w->branches[0].r = 0.01;

    /* the AC check */
    double inj[] = {1, NAN};
    pg_market_ac a;
    assert_int_equal(pg_market_ac_check(&net, inj, 0.95, &a, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "node 1's injection is nan kW"));
    inj[1] = -1;
    assert_int_equal(pg_market_ac_check(&net, inj, 0, &a, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "power factor is 0"));
    assert_int_equal(pg_market_ac_check(&net, inj, NAN, &a, &err), PG_EINVAL);
    assert_int_equal(pg_market_ac_check(&net, NULL, 1, &a, &err), PG_EINVAL);
    net.node_bus = far;
    assert_int_equal(pg_market_ac_check(&net, inj, 1, &a, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "AC check: node 1 is at bus 9"));
    pg_world_free(w);
}

/* Every allocation of a clearing and of an AC check failing in turn: PG_ENOMEM and nothing
 * leaks (the solver module is loaded first, by a clearing outside the count). */
static void
test_alloc_failures(void **state)
{
    (void)state;
    line lines[] = {{0, 1, 0}, {1, 2, 3}};
    pg_world *w = feeder(3, lines, 2, false);
    size_t node_bus[] = {1, 2, 2};
    pg_market_network net = {w, 3, node_bus, 1.0, INFINITY};
    book bk = {0};
    add(&bk, 0, PG_MARKET_SELL, 10, 0.05);
    add(&bk, 1, PG_MARKET_BUY, 2, 0.30);
    add(&bk, 2, PG_MARKET_BUY, 10, 0.20);
    pg_market_grid g = {0.25, 0.03, true};
    pg_market_result r;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_network(&bk.b, &g, &net, &r, &err), PG_OK);
    pg_market_result_free(&r);
    for (int which = 0; which < 2; which++) {
        double inj[] = {3, -1, -2};
        pg_market_ac a;
        pgt_alloc_fail_after(LONG_MAX);
        int rc = which ? pg_market_ac_check(&net, inj, 0.9, &a, &err)
                       : pg_market_clear_network(&bk.b, &g, &net, &r, &err);
        long total = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        assert_int_equal(rc, PG_OK);
        if (which)
            pg_market_ac_free(&a);
        else
            pg_market_result_free(&r);
        assert_true(total > 5);
        for (long k = 0; k < total; k++) {
            pgt_alloc_fail_after(k);
            rc = which ? pg_market_ac_check(&net, inj, 0.9, &a, &err)
                       : pg_market_clear_network(&bk.b, &g, &net, &r, &err);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK) { /* an allocation whose failure the code survives */
                if (which)
                    pg_market_ac_free(&a);
                else
                    pg_market_result_free(&r);
                continue;
            }
            if (rc != PG_ENOMEM)
                fail_msg("%s: allocation %ld failing gave %d (%s)", which ? "AC check" : "clear", k,
                         rc, err.msg);
        }
    }
    pg_world_free(w);
}

/* Degenerate feeders: one bus and no branch; parallel lines; an out-of-service line; nodes on the
 * reference bus; the shortest interval. */
static void
test_degenerate_feeders(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_market_result r;
    pg_market_grid g = {0.25, 0.05, true};
    /* one bus, no branch: every node at the reference bus */
    pg_world *w = feeder(1, NULL, 0, false);
    size_t nb1[] = {0, 0};
    pg_market_network net = {w, 2, nb1, 1e-3, INFINITY};
    book bk = {0};
    add(&bk, 0, PG_MARKET_BUY, 5, 0.40);
    add(&bk, 1, PG_MARKET_SELL, 3, 0.10);
    if (pg_market_clear_network(&bk.b, &g, &net, &r, &err))
        fail_msg("one bus: %s", err.msg);
    assert_near(r.fills[0].qty, 5, 1e-9);
    assert_near(r.fills[1].qty, 3, 1e-9);
    assert_near(r.grid_import, 2, 1e-9);
    assert_near(r.price, 0.25, 1e-9);
    check_settles(&bk.b, &r, &g, 2);
    pg_market_result_free(&r);
    pg_market_ac ac;
    double inj[] = {-1, 1};
    if (pg_market_ac_check(&net, inj, 0.95, &ac, &err))
        fail_msg("one bus AC: %s", err.msg);
    assert_true(ac.converged);
    pg_market_ac_free(&ac);
    pg_world_free(w);
    /* parallel lines 0-1 rated 1 and 2 kVA (x 0.02 and 0.03: they share 3:2), one out of service */
    line par[] = {{0, 1, 1}, {0, 1, 2}, {0, 1, 1}};
    w = feeder(2, par, 3, true);
    w->branches[2].in_service = false;
    size_t nb2[] = {1};
    pg_market_network net2 = {w, 1, nb2, 1.0, INFINITY};
    book b2 = {0};
    add(&b2, 0, PG_MARKET_BUY, 100, 0.40);
    if (pg_market_clear_network(&b2.b, &g, &net2, &r, &err))
        fail_msg("parallel: %s", err.msg);
    /* the 1 kVA line carries 3/5 of the flow: 5/3 kW in all */
    assert_near(r.fills[0].qty, 5.0 / 3.0, 1e-6);
    assert_near(r.flow_kw[2], 0, 0);
    check_flows_dc(&net2, &b2.b, &r);
    check_settles(&b2.b, &r, &g, 1);
    pg_market_result_free(&r);
    pg_world_free(w);
}

/* A feeder with parts cut off (a line out of service, two buses with no reference bus): the
 * clearing uses the reference bus's island, and the AC check reports the energised buses, as the
 * dead parts carry nothing; they do not make it a power flow that did not converge. */
static void
test_dead_island(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_market_result r;
    pg_market_grid g = {0.25, 0.05, true};
    line ls[] = {{0, 1, 5}, {1, 2, 5}, {3, 4, 5}};
    pg_world *w = feeder(5, ls, 3, false);
    w->branches[1].in_service = false;
    size_t nb1[] = {1};
    pg_market_network net = {w, 1, nb1, 1, INFINITY};
    book bk = {0};
    add(&bk, 0, PG_MARKET_BUY, 50, 0.40);
    if (pg_market_clear_network(&bk.b, &g, &net, &r, &err))
        fail_msg("clear: %s", err.msg);
    assert_near(r.fills[0].qty, 5, 1e-9);
    assert_near(r.flow_kw[0], 5, 1e-9);
    pg_market_result_free(&r);
    pg_market_ac ac;
    double inj[] = {-4}; /* 4 kW drawn at bus 1 through the 5 kVA line 0-1 */
    if (pg_market_ac_check(&net, inj, 1.0, &ac, &err))
        fail_msg("AC check: %s", err.msg);
    assert_true(ac.converged);
    assert_int_equal(ac.vm_min_bus, 1);
    assert_int_equal(ac.vm_max_bus, 0);
    assert_true(ac.vm_min < 1 && ac.vm_min > 0.99);
    assert_int_equal(ac.loading_max_branch, 0);
    assert_near(ac.loading_max, 0.8, 0.01);
    assert_true(ac.loss_kw > 0 && ac.loss_kw < 0.01);
    pg_market_ac_free(&ac);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_radial_binding_line), cmocka_unit_test(test_substation),
        cmocka_unit_test(test_meshed_random),       cmocka_unit_test(test_ac_check),
        cmocka_unit_test(test_bad_input),           cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_degenerate_feeders),  cmocka_unit_test(test_dead_island),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
