/* The rules controller's bid curve as the market reads it: a surplus with nowhere to go is offered
 * from the feed-in price up (docs/controllers.md, "Rules"), an inflexible need is bought up to the
 * retail price, and a battery with room bids its charging below the mean price. */
#include "node_sim.h"

#include "node/controllers.h"
#include "node/internal.h"

typedef struct world {
    double retail[24], feed[24], fixed[24], pv[24];
    pg_node_env env;
    pg_node_view v;
} world;

static void
world_init(world *w, double fixed, double pv)
{
    memset(w, 0, sizeof *w);
    for (int k = 0; k < 24; k++) {
        w->retail[k] = k < 12 ? 0.20 : 0.40;
        w->feed[k] = 0.05;
        w->fixed[k] = fixed;
        w->pv[k] = pv;
    }
    w->env.hours = 1;
    w->env.horizon = 24;
    w->env.retail = w->retail;
    w->env.feed_in = w->feed;
    w->env.grid_connected = true;
    w->v.env = &w->env;
    w->v.profile = PG_NODE_RESIDENTIAL;
    w->v.fixed_kwh = w->fixed;
    w->v.pv_kwh = w->pv;
    w->v.eta_charge = w->v.eta_discharge = 1;
}

/* The orders the market makes of the plan's curve. */
static void
orders_of(const pg_node_plan *p, pg_market_book *b)
{
    pg_error err = {0};
    pg_market_book_init(b);
    if (pg_market_book_add_curve(b, 0, p->curve, p->n_points, &err))
        fail_msg("the market refuses the curve: %s", err.msg);
}

static void
plan_of(world *w, pg_node_plan *p)
{
    void *st = NULL;
    pg_error err = {0};
    if (pgi_ctl_rules.create(&st, NULL, 1, &err))
        fail_msg("create: %s", err.msg);
    if (pgi_ctl_rules.plan(st, &w->v, p, &err))
        fail_msg("plan: %s", err.msg);
    pgi_ctl_rules.destroy(st);
}

static void
test_surplus_offered_from_feed_in(void **state)
{
    (void)state;
    world w;
    world_init(&w, 1, 4); /* 3 kWh of surplus, no storage */
    pg_node_plan p;
    plan_of(&w, &p);
    pg_market_book b;
    orders_of(&p, &b);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.orders[0].side, PG_MARKET_SELL);
    assert_near(b.orders[0].qty, 3, 1e-12);
    assert_near(b.orders[0].price, 0.05, 1e-12);
    pg_market_book_free(&b);
}

static void
test_need_bought_up_to_retail(void **state)
{
    (void)state;
    world w;
    world_init(&w, 2.5, 0.5); /* 2 kWh of inflexible need */
    pg_node_plan p;
    plan_of(&w, &p);
    pg_market_book b;
    orders_of(&p, &b);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.orders[0].side, PG_MARKET_BUY);
    assert_near(b.orders[0].qty, 2, 1e-12);
    assert_near(b.orders[0].price, 0.20, 1e-12);
    pg_market_book_free(&b);
}

static void
test_battery_room_bid_below_the_mean(void **state)
{
    (void)state;
    world w;
    world_init(&w, 1, 4); /* 3 kWh of surplus, a battery with 2 kWh of room */
    w.v.soc_max_kwh = 2;
    w.v.charge_max_kw = w.v.discharge_max_kw = 5;
    pg_node_plan p;
    plan_of(&w, &p);
    assert_near(p.battery_kw, 2, 1e-12); /* the plan stores what it can */
    pg_market_book b;
    orders_of(&p, &b);
    /* what is left after storing is sold; nothing is offered below the feed-in price */
    double sold = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (b.orders[i].side == PG_MARKET_SELL) {
            sold += b.orders[i].qty;
            assert_true(b.orders[i].price >= 0.05 - 1e-12);
        }
    }
    assert_near(sold, 3, 1e-12);
    pg_market_book_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_surplus_offered_from_feed_in),
        cmocka_unit_test(test_need_bought_up_to_retail),
        cmocka_unit_test(test_battery_room_bid_below_the_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
