/* The three double auctions against books computed by hand: a seller at the margin, a buyer at the
 * margin, crossings on a vertical segment (midpoint, and midpoint moved to keep a left-out order
 * out), no crossing, ties at the margin shared pro rata on either side, a single buyer, sellers
 * only, an empty book, and the grid's outside option clipping limits. Also bid curves becoming
 * orders, the mechanism table, bad input with its messages, and every allocation failing in turn.
 */
#include "harness.h"

#include <limits.h>

#include "plurigrid/market.h"

typedef struct o {
    uint32_t node;
    pg_market_side side;
    double qty, price;
} o;

#define B PG_MARKET_BUY
#define S PG_MARKET_SELL

static void
make(pg_market_book *b, const o *v, size_t n)
{
    pg_error err = {0};
    pg_market_book_free(b); /* b is zeroed or holds the previous book */
    for (size_t i = 0; i < n; i++)
        if (pg_market_book_add(b, v[i].node, v[i].side, v[i].qty, v[i].price, &err))
            fail_msg("add %zu: %s", i, err.msg);
}

typedef int (*clear_fn)(const pg_market_book *, const pg_market_grid *, pg_market_result *,
                        pg_error *);

static pg_market_result
clear(clear_fn f, const o *v, size_t n, const pg_market_grid *g, pg_market_book *b)
{
    pg_error err = {0};
    pg_market_result r;
    make(b, v, n);
    if (f(b, g, &r, &err))
        fail_msg("clear: %s", err.msg);
    assert_int_equal(r.n_fills, n);
    return r;
}

static const pg_market_grid offgrid = {INFINITY, -INFINITY, false};

#define N(v) (sizeof v / sizeof *v)

/* Checks fills[i] = (q[i], p[i]) for every order. */
static void
expect_fills(const pg_market_result *r, const double *q, const double *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_near(r->fills[i].qty, q[i], 1e-12);
        assert_near(r->fills[i].price, p[i], 1e-12);
    }
}

/* A seller at the margin: bid 5 @ 0.5; asks 3 @ 0.2 and 4 @ 0.4. Uniform: 5 kWh at the marginal
 * seller's 0.4 (the curves cross on its horizontal step). */
static void
test_seller_marginal(void **state)
{
    (void)state;
    const o v[] = {{0, B, 5, 0.5}, {1, S, 3, 0.2}, {2, S, 4, 0.4}};
    pg_market_book b = {0};
    pg_market_result r = clear(pg_market_clear_uniform, v, N(v), &offgrid, &b);
    assert_int_equal(r.outcome, PG_MARKET_CLEARED);
    assert_near(r.price, 0.4, 0);
    assert_near(r.volume, 5, 1e-12);
    expect_fills(&r, (double[]){5, 3, 2}, (double[]){0.4, 0.4, 0.4}, 3);
    assert_near(r.buyer_paid, 2.0, 1e-12);
    assert_near(r.seller_got, 2.0, 1e-12);
    assert_near(r.surplus, 0, 1e-12);
    pg_market_result_free(&r);

    r = clear(pg_market_clear_pay_as_bid, v, N(v), &offgrid, &b);
    assert_true(isnan(r.price));
    expect_fills(&r, (double[]){5, 3, 2}, (double[]){0.5, 0.2, 0.4}, 3);
    assert_near(r.buyer_paid, 2.5, 1e-12);
    assert_near(r.seller_got, 1.4, 1e-12);
    assert_near(r.surplus, 1.1, 1e-12);
    pg_market_result_free(&r);

    /* Continuous: the bid rests first; each ask trades with it at the bid's 0.5. */
    r = clear(pg_market_clear_continuous, v, N(v), &offgrid, &b);
    assert_int_equal(r.outcome, PG_MARKET_CLEARED);
    assert_true(isnan(r.price));
    expect_fills(&r, (double[]){5, 3, 2}, (double[]){0.5, 0.5, 0.5}, 3);
    assert_near(r.buyer_paid, 2.5, 1e-12);
    assert_near(r.seller_got, 2.5, 1e-12);
    assert_near(r.surplus, 0, 0);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* A buyer at the margin: bids 3 @ 0.5 and 4 @ 0.3; ask 5 @ 0.1: the second bid gets 2 of its 4,
 * and sets the price 0.3. */
static void
test_buyer_marginal(void **state)
{
    (void)state;
    const o v[] = {{0, B, 3, 0.5}, {1, B, 4, 0.3}, {2, S, 5, 0.1}};
    pg_market_book b = {0};
    pg_market_result r = clear(pg_market_clear_uniform, v, N(v), &offgrid, &b);
    assert_int_equal(r.outcome, PG_MARKET_CLEARED);
    assert_near(r.price, 0.3, 0);
    expect_fills(&r, (double[]){3, 2, 5}, (double[]){0.3, 0.3, 0.3}, 3);
    pg_market_result_free(&r);

    r = clear(pg_market_clear_pay_as_bid, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){3, 2, 5}, (double[]){0.5, 0.3, 0.1}, 3);
    assert_near(r.surplus, 1.5 + 0.6 - 0.5, 1e-12);
    pg_market_result_free(&r);

    /* Continuous: both bids rest; the ask takes the best (0.5) first, then 2 of the 0.3 bid. */
    r = clear(pg_market_clear_continuous, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){3, 2, 5}, (double[]){0.5, 0.3, (1.5 + 0.6) / 5}, 3);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* A vertical segment: bids 5 @ 0.5 and 2 @ 0.1; asks 5 @ 0.2 and 1 @ 0.4. 5 kWh trade, both
 * marginal orders whole; the price is the midpoint of 0.5 and 0.2, inside [0.2, 0.4]. Then with
 * the left-out orders at 0.45 (bid) and 0.6 (ask) the interval is [0.45, 0.5] and the midpoint
 * 0.35 moves up to 0.45, so the left-out bid does not want to buy at the price. */
static void
test_vertical(void **state)
{
    (void)state;
    const o v[] = {{0, B, 5, 0.5}, {1, B, 2, 0.1}, {2, S, 5, 0.2}, {3, S, 1, 0.4}};
    pg_market_book b = {0};
    pg_market_result r = clear(pg_market_clear_uniform, v, N(v), &offgrid, &b);
    assert_near(r.price, 0.35, 1e-15);
    expect_fills(&r, (double[]){5, 0, 5, 0}, (double[]){0.35, 0, 0.35, 0}, 4);
    pg_market_result_free(&r);

    const o w[] = {{0, B, 5, 0.5}, {1, B, 2, 0.45}, {2, S, 5, 0.2}, {3, S, 1, 0.6}};
    r = clear(pg_market_clear_uniform, w, N(w), &offgrid, &b);
    assert_near(r.price, 0.45, 0);
    expect_fills(&r, (double[]){5, 0, 5, 0}, (double[]){0.45, 0, 0.45, 0}, 4);
    pg_market_result_free(&r);
    /* The same moved down: the left-out ask at 0.25 caps the price. */
    const o x[] = {{0, B, 5, 0.5}, {1, B, 2, 0.1}, {2, S, 5, 0.2}, {3, S, 1, 0.25}};
    r = clear(pg_market_clear_uniform, x, N(x), &offgrid, &b);
    assert_near(r.price, 0.25, 0);
    pg_market_result_free(&r);
    /* Sums that are equal only up to rounding (0.1 + 0.2 against 0.3) still meet exactly. */
    const o y[] = {{0, B, 0.1, 0.5}, {1, B, 0.2, 0.5}, {2, S, 0.3, 0.2}, {3, S, 1, 0.45}};
    r = clear(pg_market_clear_uniform, y, N(y), &offgrid, &b);
    assert_near(r.price, 0.35, 1e-15);
    assert_near(r.fills[3].qty, 0, 0);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* No crossing: the best bid 0.1 is below the best ask 0.2. One-sided: sellers only, buyers only,
 * an empty book. */
static void
test_no_trade(void **state)
{
    (void)state;
    clear_fn fs[] = {pg_market_clear_uniform, pg_market_clear_pay_as_bid,
                     pg_market_clear_continuous};
    const o nc[] = {{0, B, 1, 0.1}, {1, S, 1, 0.2}, {2, B, 3, 0.05}};
    const o sellers[] = {{0, S, 1, 0.1}, {1, S, 1, 0.2}};
    const o buyers[] = {{0, B, 1, 0.1}};
    for (size_t m = 0; m < 3; m++) {
        pg_market_book b = {0};
        pg_market_result r = clear(fs[m], nc, N(nc), &offgrid, &b);
        assert_int_equal(r.outcome, PG_MARKET_NO_CROSS);
        assert_true(isnan(r.price));
        assert_near(r.volume, 0, 0);
        for (size_t i = 0; i < N(nc); i++)
            assert_near(r.fills[i].qty, 0, 0);
        pg_market_result_free(&r);
        r = clear(fs[m], sellers, N(sellers), &offgrid, &b);
        assert_int_equal(r.outcome, PG_MARKET_ONE_SIDED);
        assert_near(r.volume, 0, 0);
        pg_market_result_free(&r);
        r = clear(fs[m], buyers, N(buyers), &offgrid, &b);
        assert_int_equal(r.outcome, PG_MARKET_ONE_SIDED);
        pg_market_result_free(&r);
        r = clear(fs[m], NULL, 0, NULL, &b);
        assert_int_equal(r.outcome, PG_MARKET_ONE_SIDED);
        assert_null(r.fills);
        pg_market_result_free(&r);
        pg_market_book_free(&b);
    }
}

/* Ties at the margin share pro rata, whatever their arrival: bids 2 @ 0.3 and 6 @ 0.3 against 4
 * @ 0.1 get 1 and 3; two bids of 5 @ 0.3 against 5 @ 0.2 (and a dear ask) get 2.5 each (the
 * crossing is where the tied bids' step meets the ask's vertical); asks 3 @ 0.3 and 3 @ 0.3
 * against a bid of 5 @ 0.5 sell 2.5 each. */
static void
test_ties(void **state)
{
    (void)state;
    pg_market_book b = {0};
    const o v[] = {{0, B, 2, 0.3}, {1, B, 6, 0.3}, {2, S, 4, 0.1}};
    pg_market_result r = clear(pg_market_clear_uniform, v, N(v), &offgrid, &b);
    assert_near(r.price, 0.3, 0);
    expect_fills(&r, (double[]){1, 3, 4}, (double[]){0.3, 0.3, 0.3}, 3);
    pg_market_result_free(&r);
    r = clear(pg_market_clear_pay_as_bid, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){1, 3, 4}, (double[]){0.3, 0.3, 0.1}, 3);
    pg_market_result_free(&r);
    /* The continuous auction has time priority instead: the ask meets the first bid first. */
    r = clear(pg_market_clear_continuous, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){2, 2, 4}, (double[]){0.3, 0.3, 0.3}, 3);
    pg_market_result_free(&r);

    const o w[] = {{0, B, 5, 0.3}, {1, B, 5, 0.3}, {2, S, 5, 0.2}, {3, S, 10, 0.5}};
    r = clear(pg_market_clear_uniform, w, N(w), &offgrid, &b);
    assert_near(r.price, 0.3, 0);
    expect_fills(&r, (double[]){2.5, 2.5, 5, 0}, (double[]){0.3, 0.3, 0.3, 0}, 4);
    pg_market_result_free(&r);

    const o x[] = {{0, S, 3, 0.3}, {1, S, 3, 0.3}, {2, B, 5, 0.5}};
    r = clear(pg_market_clear_uniform, x, N(x), &offgrid, &b);
    assert_near(r.price, 0.3, 0);
    expect_fills(&r, (double[]){2.5, 2.5, 5}, (double[]){0.3, 0.3, 0.3}, 3);
    pg_market_result_free(&r);
    /* A bid and an ask at the same price, the bid larger: the ask sells all, the price is theirs.
     */
    const o y[] = {{0, S, 3, 0.3}, {1, B, 5, 0.3}};
    r = clear(pg_market_clear_uniform, y, N(y), &offgrid, &b);
    assert_near(r.price, 0.3, 0);
    expect_fills(&r, (double[]){3, 3}, (double[]){0.3, 0.3}, 2);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* A single buyer of 10 @ 0.4 against asks 3 @ 0.1, 0.2, 0.3: it buys all 9 at its own limit (at
 * any lower price demand would exceed supply). Pay-as-bid: it pays 0.4, sellers get their asks. */
static void
test_single_buyer(void **state)
{
    (void)state;
    const o v[] = {{0, B, 10, 0.4}, {1, S, 3, 0.1}, {2, S, 3, 0.2}, {3, S, 3, 0.3}};
    pg_market_book b = {0};
    pg_market_result r = clear(pg_market_clear_uniform, v, N(v), &offgrid, &b);
    assert_near(r.price, 0.4, 0);
    expect_fills(&r, (double[]){9, 3, 3, 3}, (double[]){0.4, 0.4, 0.4, 0.4}, 4);
    pg_market_result_free(&r);
    r = clear(pg_market_clear_pay_as_bid, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){9, 3, 3, 3}, (double[]){0.4, 0.1, 0.2, 0.3}, 4);
    assert_near(r.surplus, 3.6 - 1.8, 1e-12);
    pg_market_result_free(&r);
    /* Continuous: the buyer arrives first and rests; each ask trades at 0.4 on arrival. */
    r = clear(pg_market_clear_continuous, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){9, 3, 3, 3}, (double[]){0.4, 0.4, 0.4, 0.4}, 4);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* The grid as outside option: retail 0.30, feed-in 0.05. A bid of 0.90 counts as 0.30 and an ask
 * of 0.01 as 0.05, so the vertical crossing's price is 0.175; off grid it would be 0.455. */
static void
test_grid_clipping(void **state)
{
    (void)state;
    const pg_market_grid g = {0.30, 0.05, true};
    const o v[] = {{0, B, 5, 0.90}, {1, S, 5, 0.01}};
    pg_market_book b = {0};
    pg_market_result r = clear(pg_market_clear_uniform, v, N(v), &g, &b);
    assert_near(r.price, 0.175, 1e-15);
    pg_market_result_free(&r);
    r = clear(pg_market_clear_uniform, v, N(v), &offgrid, &b);
    assert_near(r.price, 0.455, 1e-15);
    pg_market_result_free(&r);
    r = clear(pg_market_clear_pay_as_bid, v, N(v), &g, &b);
    expect_fills(&r, (double[]){5, 5}, (double[]){0.30, 0.05}, 2);
    pg_market_result_free(&r);
    r = clear(pg_market_clear_continuous, v, N(v), &g, &b);
    expect_fills(&r, (double[]){5, 5}, (double[]){0.30, 0.30}, 2);
    pg_market_result_free(&r);
    /* Connected with no export price (NaN): asks are not clipped. */
    const pg_market_grid h = {0.30, NAN, true};
    r = clear(pg_market_clear_uniform, v, N(v), &h, &b);
    assert_near(r.price, 0.155, 1e-15);
    pg_market_result_free(&r);
    /* Two bids above retail tie at retail and share pro rata. */
    const o w[] = {{0, B, 4, 0.90}, {1, B, 4, 0.50}, {2, S, 2, 0.10}};
    r = clear(pg_market_clear_uniform, w, N(w), &g, &b);
    assert_near(r.price, 0.30, 0);
    expect_fills(&r, (double[]){1, 1, 2}, (double[]){0.3, 0.3, 0.3}, 3);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* Price-time priority in the continuous auction: among equal asks the earlier trades first; a
 * better ask trades before an earlier worse one; arrival is by seq, not by place in the book. */
static void
test_continuous_priority(void **state)
{
    (void)state;
    pg_market_book b = {0};
    const o v[] = {{0, S, 2, 0.2}, {1, S, 2, 0.2}, {2, B, 3, 0.5}};
    pg_market_result r = clear(pg_market_clear_continuous, v, N(v), &offgrid, &b);
    expect_fills(&r, (double[]){2, 1, 3}, (double[]){0.2, 0.2, 0.2}, 3);
    pg_market_result_free(&r);
    const o w[] = {{0, S, 2, 0.3}, {1, S, 2, 0.2}, {2, B, 3, 0.5}};
    r = clear(pg_market_clear_continuous, w, N(w), &offgrid, &b);
    expect_fills(&r, (double[]){1, 2, 3}, (double[]){0.3, 0.2, 0.7 / 3}, 3);
    pg_market_result_free(&r);
    /* The bid first in the book but second in time: it meets the resting ask at the ask's price. */
    const o x[] = {{0, B, 1, 0.5}, {1, S, 1, 0.2}};
    r = clear(pg_market_clear_continuous, x, N(x), &offgrid, &b);
    expect_fills(&r, (double[]){1, 1}, (double[]){0.5, 0.5}, 2);
    pg_market_result_free(&r);
    b.orders[0].seq = 7;
    pg_error err = {0};
    assert_int_equal(pg_market_clear_continuous(&b, &offgrid, &r, &err), PG_OK);
    expect_fills(&r, (double[]){1, 1}, (double[]){0.2, 0.2}, 2);
    pg_market_result_free(&r);
    /* Arrival order also breaks the call auction's ties in the sort (not its fills: pro rata). */
    assert_int_equal(pg_market_clear_uniform(&b, &offgrid, &r, &err), PG_OK);
    assert_near(r.price, 0.35, 1e-15);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* A resting order that trades several times, each at its own limit, is filled at the mean of
 * those equal prices, which must be its limit exactly: rounded, (1 * 0.1 + 2 * 0.1) / 3 is
 * 0.10000000000000002, above the buyer's limit, and (0.3 + 0.6 + 1.2) / 7 is below the seller's. */
static void
test_continuous_no_loss(void **state)
{
    (void)state;
    pg_market_book b = {0};
    const o v[] = {{0, B, 3, 0.1}, {1, S, 1, 0.1}, {2, S, 2, 0.1}};
    pg_market_result r = clear(pg_market_clear_continuous, v, N(v), &offgrid, &b);
    assert_true(r.fills[0].qty == 3);
    assert_true(r.fills[0].price <= 0.1);
    pg_market_result_free(&r);
    const o w[] = {{0, S, 7, 0.3}, {1, B, 1, 0.3}, {2, B, 2, 0.3}, {3, B, 4, 0.3}};
    r = clear(pg_market_clear_continuous, w, N(w), &offgrid, &b);
    assert_true(r.fills[0].qty == 7);
    assert_true(r.fills[0].price >= 0.3);
    pg_market_result_free(&r);
    pg_market_book_free(&b);
}

/* Curves: the cumulative reading. A buy curve [(0.40, 3), (0.25, 5)] is 3 @ 0.40 and 2 more @
 * 0.25; a sell curve [(0.20, -2), (0.30, -5)] is 2 @ 0.20 and 3 more @ 0.30; a battery's curve
 * buys below and sells above, in any order of points; points with q = 0 add nothing. */
static void
test_curves(void **state)
{
    (void)state;
    pg_market_book b = {0};
    pg_market_book_init(&b);
    pg_error err = {0};
    const pg_market_point buy[] = {{0.40, 3}, {0.25, 5}};
    assert_int_equal(pg_market_book_add_curve(&b, 4, buy, 2, &err), PG_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.orders[0].node, 4);
    assert_int_equal(b.orders[0].side, B);
    assert_near(b.orders[0].qty, 3, 0);
    assert_near(b.orders[0].price, 0.40, 0);
    assert_near(b.orders[1].qty, 2, 0);
    assert_near(b.orders[1].price, 0.25, 0);
    assert_true(b.orders[0].seq < b.orders[1].seq);
    pg_market_book_clear(&b);
    const pg_market_point sell[] = {{0.30, -5}, {0.20, -2}};
    assert_int_equal(pg_market_book_add_curve(&b, 1, sell, 2, &err), PG_OK);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.orders[0].side, S);
    assert_near(b.orders[0].qty, 2, 0);
    assert_near(b.orders[0].price, 0.20, 0);
    assert_near(b.orders[1].qty, 3, 0);
    assert_near(b.orders[1].price, 0.30, 0);
    pg_market_book_clear(&b);
    const pg_market_point bat[] = {{0.30, -5}, {0.20, 0}, {0.05, 6}, {0.10, 5}, {0.35, -6}};
    assert_int_equal(pg_market_book_add_curve(&b, 2, bat, 5, &err), PG_OK);
    assert_int_equal(b.n, 4);
    const double q[] = {5, 1, 5, 1}, p[] = {0.10, 0.05, 0.30, 0.35};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(b.orders[i].side, i < 2 ? B : S);
        assert_near(b.orders[i].qty, q[i], 0);
        assert_near(b.orders[i].price, p[i], 0);
    }
    /* Repeated points are one point; an all-zero curve adds nothing. */
    pg_market_book_clear(&b);
    const pg_market_point rep[] = {{0.2, 1}, {0.2, 1}, {0.1, 0}};
    assert_int_equal(pg_market_book_add_curve(&b, 0, rep, 3, &err), PG_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(pg_market_book_add_curve(&b, 0, rep + 2, 1, &err), PG_OK);
    assert_int_equal(pg_market_book_add_curve(&b, 0, NULL, 0, &err), PG_OK);
    assert_int_equal(b.n, 1);
    pg_market_book_free(&b);
}

static void
expect_error(int rc, const pg_error *err, int code, const char *needle)
{
    assert_int_equal(rc, code);
    if (!strstr(err->msg, needle))
        fail_msg("message \"%s\" does not contain \"%s\"", err->msg, needle);
}

/* Bad input: each gets PG_EINVAL and a message naming the order, point or term; the book is left
 * as it was. */
static void
test_bad_input(void **state)
{
    (void)state;
    pg_market_book b = {0};
    pg_market_book_init(&b);
    pg_error err = {0};
    pg_market_book junk = {5, 2, NULL, 0};
    expect_error(pg_market_book_add(&junk, 3, B, 1, 0.1, &err), &err, PG_EINVAL,
                 "the order book is not initialised (5 orders, room for 2)");
    expect_error(pg_market_book_add(&b, 3, B, 1, NAN, &err), &err, PG_EINVAL,
                 "order of node 3: price nan is not a finite number");
    expect_error(pg_market_book_add(&b, 3, S, -2, 0.1, &err), &err, PG_EINVAL,
                 "qty -2 is not a finite quantity > 0");
    expect_error(pg_market_book_add(&b, 3, S, 0, 0.1, &err), &err, PG_EINVAL, "qty 0");
    expect_error(pg_market_book_add(&b, 3, S, INFINITY, 0.1, &err), &err, PG_EINVAL, "qty inf");
    expect_error(pg_market_book_add(&b, 3, (pg_market_side)7, 1, 0.1, &err), &err, PG_EINVAL,
                 "side 7");
    /* Huge numbers, which would overflow the money, are refused with the range. */
    expect_error(pg_market_book_add(&b, 3, B, 1e13, 0.1, &err), &err, PG_EINVAL,
                 "qty 1e+13 is not a finite quantity > 0 (kWh, at most 1e+12)");
    expect_error(pg_market_book_add(&b, 3, B, 1, -2e6, &err), &err, PG_EINVAL,
                 "price -2e+06 is not a finite number ($/kWh, at most 1e+06 in magnitude)");
    assert_int_equal(pg_market_book_add(&b, 3, B, 1e12, -1e6, &err), PG_OK);
    pg_market_book_clear(&b);
    const pg_market_point huge[] = {{0.25, 3}, {1e300, -5}};
    expect_error(pg_market_book_add_curve(&b, 2, huge, 2, &err), &err, PG_EINVAL,
                 "bid curve of node 2, point 2: price 1e+300 is not a finite number");
    const pg_market_point hugeq[] = {{0.25, -1e20}};
    expect_error(pg_market_book_add_curve(&b, 2, hugeq, 1, &err), &err, PG_EINVAL,
                 "point 1: qty -1e+20 is not a finite number (kWh, at most 1e+12 in magnitude)");
    assert_int_equal(b.n, 0);

    const pg_market_point up[] = {{0.25, 3}, {0.40, 5}};
    expect_error(pg_market_book_add_curve(&b, 2, up, 2, &err), &err, PG_EINVAL,
                 "bid curve of node 2, point 2 (price 0.4, qty 5): the curve must not increase "
                 "with price, but point 1 has the lower price 0.25 and the smaller qty 3");
    const pg_market_point sellup[] = {{0.20, -5}, {0.30, -2}};
    expect_error(pg_market_book_add_curve(&b, 2, sellup, 2, &err), &err, PG_EINVAL,
                 "point 2 (price 0.3, qty -2)");
    const pg_market_point nan[] = {{0.25, 3}, {NAN, 5}};
    expect_error(pg_market_book_add_curve(&b, 2, nan, 2, &err), &err, PG_EINVAL,
                 "bid curve of node 2, point 2: price nan is not a finite number");
    const pg_market_point nanq[] = {{0.25, NAN}};
    expect_error(pg_market_book_add_curve(&b, 2, nanq, 1, &err), &err, PG_EINVAL,
                 "point 1: qty nan");
    const pg_market_point same[] = {{0.25, 3}, {0.1, 4}, {0.25, 2}};
    expect_error(pg_market_book_add_curve(&b, 2, same, 3, &err), &err, PG_EINVAL,
                 "points 1 and 3 have the same price 0.25 but different quantities (3 and 2 kWh)");
    assert_int_equal(b.n, 0);

    /* A book filled by hand with garbage is refused by every mechanism, naming the order. */
    assert_int_equal(pg_market_book_add(&b, 0, B, 1, 0.3, &err), PG_OK);
    assert_int_equal(pg_market_book_add(&b, 5, S, 1, 0.1, &err), PG_OK);
    b.orders[1].price = NAN;
    pg_market_result r;
    clear_fn fs[] = {pg_market_clear_uniform, pg_market_clear_pay_as_bid,
                     pg_market_clear_continuous};
    for (size_t m = 0; m < 3; m++)
        expect_error(fs[m](&b, &offgrid, &r, &err), &err, PG_EINVAL,
                     "order 1 (node 5): price nan is not a finite number");
    b.orders[1].price = 0.1;
    b.orders[0].qty = -1;
    expect_error(pg_market_clear_uniform(&b, &offgrid, &r, &err), &err, PG_EINVAL,
                 "order 0 (node 0): qty -1");
    b.orders[0].qty = 1;
    const pg_market_grid bad = {0.05, 0.10, true}, nanretail = {NAN, 0.1, true};
    expect_error(pg_market_clear_uniform(&b, &bad, &r, &err), &err, PG_EINVAL,
                 "grid retail price 0.05 is below the feed-in price 0.1");
    expect_error(pg_market_clear_continuous(&b, &nanretail, &r, &err), &err, PG_EINVAL,
                 "grid retail price nan");
    const pg_market_grid dear = {1e7, 0.1, true};
    expect_error(pg_market_clear_pay_as_bid(&b, &dear, &r, &err), &err, PG_EINVAL,
                 "grid retail price 1e+07 or feed-in price 0.1 is beyond 1e+06 $/kWh");
    b.orders[1].price = 1e300;
    expect_error(pg_market_clear_uniform(&b, &offgrid, &r, &err), &err, PG_EINVAL,
                 "order 1 (node 5): price 1e+300 is not a finite number ($/kWh, at most 1e+06");
    b.orders[1].price = 0.1;
    expect_error(pg_market_clear_uniform(NULL, &offgrid, &r, &err), &err, PG_EINVAL, "NULL");
    expect_error(pg_market_clear_uniform(&b, &offgrid, NULL, &err), &err, PG_EINVAL, "NULL");
    /* Off grid, the same terms are not used and not checked. */
    const pg_market_grid off = {0.05, 0.10, false};
    assert_int_equal(pg_market_clear_uniform(&b, &off, &r, &err), PG_OK);
    assert_near(r.price, 0.2, 1e-15);
    pg_market_result_free(&r);
    pg_market_result_free(NULL);
    pg_market_book_free(&b);
    pg_market_book_free(NULL);
}

static void
test_mechanisms(void **state)
{
    (void)state;
    size_t n = 0;
    const pg_market_mechanism *t = pg_market_mechanisms(&n);
    assert_int_equal(n, 3);
    const char *names[] = {"uniform", "pay-as-bid", "continuous"};
    clear_fn fs[] = {pg_market_clear_uniform, pg_market_clear_pay_as_bid,
                     pg_market_clear_continuous};
    pg_error err = {0};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(t[i].name, names[i]);
        assert_true(t[i].clear == fs[i]);
        assert_true(strlen(t[i].summary) > 10);
        assert_ptr_equal(pg_market_mechanism_find(names[i], &err), &t[i]);
    }
    assert_null(pg_market_mechanism_find("vickrey", &err));
    assert_int_equal(err.code, PG_ENOTFOUND);
    assert_string_equal(err.msg, "unknown market mechanism 'vickrey' (known: uniform, pay-as-bid, "
                                 "continuous)");
    assert_null(pg_market_mechanism_find(NULL, &err));
}

/* Every allocation of adding orders and curves and of each clearing fails in turn: PG_ENOMEM,
 * nothing written, nothing leaked, and the book as it was. */
static void
test_alloc_failures(void **state)
{
    (void)state;
    const o v[] = {{0, B, 5, 0.5}, {1, S, 3, 0.2}, {2, S, 4, 0.4}, {3, B, 1, 0.45}};
    pg_market_book b = {0};
    make(&b, v, N(v));
    clear_fn fs[] = {pg_market_clear_uniform, pg_market_clear_pay_as_bid,
                     pg_market_clear_continuous};
    pg_error err = {0};
    /* In book order, then with arrival (seq) not book order, which sorts by seq first. */
    for (size_t m = 0; m < 6; m++) {
        if (m == 3) {
            b.orders[0].seq = 10;
            b.orders[2].seq = 7;
        }
        pg_market_result ref, r;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(fs[m % 3](&b, &offgrid, &ref, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        assert_true(n >= 2);
        for (long k = 0; k < n; k++) {
            memset(&r, 0x5a, sizeof r);
            pgt_alloc_fail_after(k);
            int rc = fs[m % 3](&b, &offgrid, &r, &err);
            pgt_alloc_fail_after(-1);
            assert_int_equal(rc, PG_ENOMEM);
            assert_true(strstr(err.msg, "out of memory") != NULL);
            assert_int_equal(r.n_fills, 0x5a5a5a5a5a5a5a5a); /* untouched */
        }
        pg_market_result_free(&ref);
    }
    /* Growing a book: the failed add leaves it as it was. */
    pg_market_book c;
    pg_market_book_init(&c);
    int failed = 0;
    for (size_t i = 0; i < 40; i++) {
        pgt_alloc_fail_after(0);
        int rc = pg_market_book_add(&c, 0, B, 1, 0.1, &err);
        pgt_alloc_fail_after(-1);
        if (rc) { /* growing failed: nothing added; the next try grows */
            failed++;
            assert_int_equal(rc, PG_ENOMEM);
            assert_int_equal(c.n, i);
            assert_int_equal(pg_market_book_add(&c, 0, B, 1, 0.1, &err), PG_OK);
        }
        assert_int_equal(c.n, i + 1);
    }
    assert_int_equal(failed, 3); /* at 0, 16 and 32 orders */
    /* A short curve allocates only to grow the book; a long one (over 32 points) also to sort. */
    const pg_market_point pts[] = {{0.4, 3}, {0.2, 5}, {0.5, -1}};
    pg_market_point many[40];
    for (int i = 0; i < 40; i++)
        many[i] = (pg_market_point){0.01 * i, 40.0 - i};
    pg_market_book_free(&c);
    pg_market_book_init(&c);
    for (int len = 0; len < 2; len++) {
        const pg_market_point *p = len ? many : pts;
        size_t np = len ? 40 : 3;
        pgt_alloc_fail_after(LONG_MAX);
        assert_int_equal(pg_market_book_add_curve(&c, 0, p, np, &err), PG_OK);
        long n = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        assert_int_equal(n, len ? 2 : 1);
        assert_int_equal(c.n, np);
        pg_market_book_free(&c);
        for (long k = 0; k < n; k++) {
            pgt_alloc_fail_after(k);
            int rc = pg_market_book_add_curve(&c, 0, p, np, &err);
            pgt_alloc_fail_after(-1);
            assert_int_equal(rc, PG_ENOMEM);
            assert_int_equal(c.n, 0);
        }
    }
    pg_market_book_free(&c);
    pg_market_book_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seller_marginal),
        cmocka_unit_test(test_buyer_marginal),
        cmocka_unit_test(test_vertical),
        cmocka_unit_test(test_no_trade),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_single_buyer),
        cmocka_unit_test(test_grid_clipping),
        cmocka_unit_test(test_continuous_priority),
        cmocka_unit_test(test_continuous_no_loss),
        cmocka_unit_test(test_curves),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_mechanisms),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
