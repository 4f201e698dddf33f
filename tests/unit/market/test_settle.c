/* Settlement of an interval computed by hand, on grid and off grid: peer trades from the fills,
 * the metered difference with the grid at retail or feed-in (or, off grid, unserved and spilled
 * energy at no price), the bills; the balance check catching fills, totals and surpluses that do
 * not add up, and counting a grid-aware result's grid trades; bad input named; the allocation
 * failing. */
#include "harness.h"

#include <limits.h>

#include "plurigrid/market.h"

static const pg_market_grid grid = {0.30, 0.05, true};
static const pg_market_grid offgrid = {0.30, 0.05, false};

/* Node 0 bids 5 @ 0.40, node 1 asks 5 @ 0.10, node 2 does not trade. */
static void
book3(pg_market_book *b)
{
    pg_error err = {0};
    pg_market_book_init(b);
    assert_int_equal(pg_market_book_add(b, 0, PG_MARKET_BUY, 5, 0.40, &err), PG_OK);
    assert_int_equal(pg_market_book_add(b, 1, PG_MARKET_SELL, 5, 0.10, &err), PG_OK);
}

static const double metered[3] = {7, -4, -3};

static void
expect_node(const pg_market_settlement *s, double bought, double sold, double paid, double received,
            double gin, double gout, double gpaid, double ggot, double bill)
{
    assert_near(s->bought, bought, 1e-12);
    assert_near(s->sold, sold, 1e-12);
    assert_near(s->paid, paid, 1e-12);
    assert_near(s->received, received, 1e-12);
    assert_near(s->grid_import, gin, 1e-12);
    assert_near(s->grid_export, gout, 1e-12);
    assert_near(s->grid_paid, gpaid, 1e-12);
    assert_near(s->grid_received, ggot, 1e-12);
    assert_near(s->bill, bill, 1e-12);
}

/* On grid, uniform: the bid counts as retail 0.30, the price is (0.30 + 0.10) / 2 = 0.20. Node 0
 * buys 5 from node 1 ($1.00) and 2 more from the grid ($0.60); node 1 sold 5 but metered only 4
 * out, so it buys the missing 1 from the grid ($0.30); node 2 exports 3 at feed-in ($0.15). */
static void
test_on_grid(void **state)
{
    (void)state;
    pg_market_book b;
    book3(&b);
    pg_market_result r;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_uniform(&b, &grid, &r, &err), PG_OK);
    assert_near(r.price, 0.20, 1e-15);
    pg_market_settlement s[3];
    assert_int_equal(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), PG_OK);
    expect_node(&s[0], 5, 0, 1.0, 0, 2, 0, 0.6, 0, 1.6);
    expect_node(&s[1], 0, 5, 0, 1.0, 1, 0, 0.3, 0, -0.7);
    expect_node(&s[2], 0, 0, 0, 0, 0, 3, 0, 0.15, -0.15);
    pg_market_result_free(&r);

    /* Pay-as-bid: the buyer pays its clipped 0.30, the seller gets its 0.10; the $1.00 between
     * is the operator's, and the bills add up to it plus the grid's $0.75. */
    assert_int_equal(pg_market_clear_pay_as_bid(&b, &grid, &r, &err), PG_OK);
    assert_near(r.surplus, 1.0, 1e-12);
    assert_int_equal(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), PG_OK);
    expect_node(&s[0], 5, 0, 1.5, 0, 2, 0, 0.6, 0, 2.1);
    expect_node(&s[1], 0, 5, 0, 0.5, 1, 0, 0.3, 0, -0.2);
    assert_near(s[0].bill + s[1].bill + s[2].bill, 1.0 + 0.75, 1e-12);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* Off grid the limits are not clipped (price 0.25) and the differences are not traded: node 0's
 * missing 2 kWh and node 1's missing 1 kWh are unserved, node 2's 3 kWh spilled, all at no price.
 * A NULL grid is off grid too. */
static void
test_off_grid(void **state)
{
    (void)state;
    pg_market_book b;
    book3(&b);
    pg_market_result r;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_uniform(&b, &offgrid, &r, &err), PG_OK);
    assert_near(r.price, 0.25, 1e-15);
    pg_market_settlement s[3];
    const pg_market_grid *gs[] = {&offgrid, NULL};
    for (int g = 0; g < 2; g++) {
        assert_int_equal(pg_market_settle(&b, &r, gs[g], metered, 3, s, &err), PG_OK);
        expect_node(&s[0], 5, 0, 1.25, 0, 2, 0, 0, 0, 1.25);
        expect_node(&s[1], 0, 5, 0, 1.25, 1, 0, 0, 0, -1.25);
        expect_node(&s[2], 0, 0, 0, 0, 0, 3, 0, 0, 0);
    }
    pg_market_result_free(&r);
    /* Connected with no export price: a long node's surplus is not paid for. */
    const pg_market_grid noexp = {0.30, -INFINITY, true};
    assert_int_equal(pg_market_clear_uniform(&b, &noexp, &r, &err), PG_OK);
    assert_int_equal(pg_market_settle(&b, &r, &noexp, metered, 3, s, &err), PG_OK);
    expect_node(&s[2], 0, 0, 0, 0, 0, 3, 0, 0, 0);
    assert_near(s[0].grid_paid, 0.6, 1e-12);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

static void
expect_error(int rc, const pg_error *err, int code, const char *needle)
{
    assert_int_equal(rc, code);
    if (!strstr(err->msg, needle))
        fail_msg("message \"%s\" does not contain \"%s\"", err->msg, needle);
}

/* The balance check: a result whose fills, totals or surplus do not add up is PG_ESTATE naming
 * what fails, and the caller's settlements are not written. */
static void
test_imbalance(void **state)
{
    (void)state;
    pg_market_book b;
    book3(&b);
    pg_market_result r;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_uniform(&b, &grid, &r, &err), PG_OK);
    pg_market_settlement s[3], keep[3];
    memset(s, 0x77, sizeof s);
    memcpy(keep, s, sizeof s);

    r.fills[0].qty = 4;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_ESTATE,
                 "peers bought 4 kWh and sold 5 kWh");
    r.fills[0].qty = 5;
    r.buyer_paid += 0.01;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_ESTATE,
                 "the fills add up to $1 paid and $1 received, the market result says $1.01");
    r.buyer_paid -= 0.01;
    r.surplus = 0.5;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_ESTATE,
                 "buyers paid $1, sellers received $1 and the operator's surplus is $0.5");
    r.surplus = 0;
    /* A fill price that differs by 1e-7 relative is caught; by 1e-12 it is rounding. */
    r.fills[0].price *= 1 + 1e-7;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_ESTATE,
                 "the fills add up to");
    r.fills[0].price = 0.2 * (1 + 1e-12);
    assert_int_equal(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), PG_OK);
    memcpy(s, keep, sizeof s);
    /* A peer-only result that claims grid trades does not balance. */
    r.fills[0].price = 0.2;
    r.grid_import = 1;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_ESTATE,
                 "peers bought 5 kWh and sold 5 kWh (the market's grid trades: 1 kWh)");
    assert_memory_equal(s, keep, sizeof s);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* A grid-aware result (node prices, the grid a participant): buyers bought 5, peers sold 4, the
 * grid supplied 1 in the market; it balances with the grid counted. */
static void
test_grid_participant(void **state)
{
    (void)state;
    pg_market_book b;
    pg_market_book_init(&b);
    pg_error err = {0};
    assert_int_equal(pg_market_book_add(&b, 0, PG_MARKET_BUY, 5, 0.40, &err), PG_OK);
    assert_int_equal(pg_market_book_add(&b, 1, PG_MARKET_SELL, 4, 0.10, &err), PG_OK);
    pg_market_fill fills[2] = {{5, 0.30}, {4, 0.30}};
    double np[2] = {0.30, 0.30};
    pg_market_result r = {.outcome = PG_MARKET_CLEARED,
                          .price = NAN,
                          .volume = 4,
                          .buyer_paid = 1.5,
                          .seller_got = 1.2,
                          .surplus = 0,
                          .n_fills = 2,
                          .fills = fills,
                          .n_nodes = 2,
                          .node_price = np,
                          .grid_import = 1};
    const double m[2] = {5, -4};
    pg_market_settlement s[2];
    assert_int_equal(pg_market_settle(&b, &r, &grid, m, 2, s, &err), PG_OK);
    expect_node(&s[0], 5, 0, 1.5, 0, 0, 0, 0, 0, 1.5);
    expect_node(&s[1], 0, 4, 0, 1.2, 0, 0, 0, 0, -1.2);
    r.grid_import = 0.5;
    expect_error(pg_market_settle(&b, &r, &grid, m, 2, s, &err), &err, PG_ESTATE,
                 "(the market's grid trades: 0.5 kWh)");
    pg_market_book_free(&b);
}

static void
test_bad_input(void **state)
{
    (void)state;
    pg_market_book b;
    book3(&b);
    pg_market_result r;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_uniform(&b, &grid, &r, &err), PG_OK);
    pg_market_settlement s[3];
    const double bad[3] = {7, NAN, -3};
    expect_error(pg_market_settle(&b, &r, &grid, bad, 3, s, &err), &err, PG_EINVAL,
                 "node 1: metered net import nan is not a finite number of kWh");
    const double huge[3] = {7, -4, 1e13};
    expect_error(pg_market_settle(&b, &r, &grid, huge, 3, s, &err), &err, PG_EINVAL,
                 "node 2: metered net import 1e+13 is not a finite number of kWh (at most 1e+12 "
                 "in magnitude)");
    expect_error(pg_market_settle(&b, &r, &grid, metered, 1, s, &err), &err, PG_EINVAL,
                 "order 1 belongs to node 1, but only 1 nodes are settled");
    r.fills[1].qty = 6;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_EINVAL,
                 "order 1 (node 1) has a fill of 6 kWh, outside 0..5 kWh");
    r.fills[1].qty = 5;
    r.fills[1].price = INFINITY;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_EINVAL,
                 "fill price inf");
    r.fills[1].price = 0.2;
    r.n_fills = 1;
    expect_error(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), &err, PG_EINVAL,
                 "1 fills for a book of 2 orders");
    r.n_fills = 2;
    const pg_market_grid g = {0.01, 0.05, true};
    expect_error(pg_market_settle(&b, &r, &g, metered, 3, s, &err), &err, PG_EINVAL,
                 "below the feed-in price");
    expect_error(pg_market_settle(&b, NULL, &grid, metered, 3, s, &err), &err, PG_EINVAL, "NULL");
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

static void
test_alloc_failure(void **state)
{
    (void)state;
    pg_market_book b;
    book3(&b);
    pg_market_result r;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_uniform(&b, &grid, &r, &err), PG_OK);
    pg_market_settlement s[3], keep[3];
    memset(s, 0x33, sizeof s);
    memcpy(keep, s, sizeof s);
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_market_settle(&b, &r, &grid, metered, 3, s, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    assert_int_equal(n, 1);
    memcpy(s, keep, sizeof s);
    pgt_alloc_fail_after(0);
    int rc = pg_market_settle(&b, &r, &grid, metered, 3, s, &err);
    pgt_alloc_fail_after(-1);
    expect_error(rc, &err, PG_ENOMEM, "out of memory settling 3 nodes");
    assert_memory_equal(s, keep, sizeof s);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_on_grid),   cmocka_unit_test(test_off_grid),
        cmocka_unit_test(test_imbalance), cmocka_unit_test(test_grid_participant),
        cmocka_unit_test(test_bad_input), cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
