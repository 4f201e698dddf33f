/* Properties of the three double auctions on 1200 random books (seeded): prices on a coarse grid
 * (ties everywhere) or continuous, integer or fractional quantities, arrival order shuffled, on
 * grid with several retail and feed-in terms or off grid. For every book:
 *   - no order trades at a loss (a buyer never pays above its limit as the grid clips it, a seller
 *     never gets below), fills within 0..qty, energy and money balance;
 *   - uniform: the price lies between the marginal bid and the marginal ask, and it supports the
 *     allocation (every order strictly in the money is filled, every order out of it is not: the
 *     optimality conditions of welfare maximisation), ties at the price are filled pro rata, the
 *     welfare equals the most any allocation gets (a unit-by-unit brute force on integer books),
 *     and the same orders in another order clear the same;
 *   - pay-as-bid: the same quantities, each at its own limit, the spread the operator's;
 *   - continuous: when the book is done no resting bid crosses a resting ask, and its welfare is
 *     no more than the uniform auction's;
 *   - settlement of random meter readings balances, on grid and off grid. */
#include "harness.h"

#include "plurigrid/market.h"

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double
unif(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

#define MAXN 48
#define NODES 8

typedef struct inst {
    pg_market_book book;
    pg_market_grid grid;
    bool integer;
} inst;

static double
limit(const pg_market_order *o, const pg_market_grid *g)
{
    double p = o->price;
    if (g->connected) {
        if (o->side == PG_MARKET_BUY && p > g->retail)
            p = g->retail;
        if (o->side == PG_MARKET_SELL && p < g->feed_in)
            p = g->feed_in;
    }
    return p;
}

static void
make(inst *in, size_t nmax)
{
    pg_error err = {0};
    pg_market_book_init(&in->book);
    size_t n = next() % (nmax + 1);
    bool grid_prices = next() % 2, integer = next() % 2;
    double sell_bias = unif() * 0.2;
    for (size_t i = 0; i < n; i++) {
        pg_market_side side = next() % 2 ? PG_MARKET_BUY : PG_MARKET_SELL;
        double p = grid_prices ? 0.05 * (double)(next() % 11) : unif() * 0.5;
        if (side == PG_MARKET_SELL)
            p += grid_prices ? 0.05 * (double)(next() % 3) : sell_bias;
        double q = integer ? (double)(1 + next() % 5) : 0.01 + 5 * unif();
        if (pg_market_book_add(&in->book, (uint32_t)(next() % NODES), side, q, p, &err))
            fail_msg("add: %s", err.msg);
    }
    if (next() % 3 == 0) /* arrival order not book order */
        for (size_t i = n; i > 1; i--) {
            size_t j = next() % i;
            uint64_t t = in->book.orders[i - 1].seq;
            in->book.orders[i - 1].seq = in->book.orders[j].seq;
            in->book.orders[j].seq = t;
        }
    static const double retail[] = {0.25, 0.35, INFINITY}, feed[] = {0.05, 0.10, NAN, -INFINITY};
    in->grid.connected = next() % 3 != 0;
    in->grid.retail = retail[next() % 3];
    in->grid.feed_in = feed[next() % 4];
    in->integer = integer;
}

/* The most welfare any allocation gets: unit by unit, the dearest bid unit against the cheapest
 * ask unit while the bid is at least the ask (integer quantities only). */
static int
cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static double
brute_welfare(const inst *in)
{
    double bu[MAXN * 5], au[MAXN * 5];
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < in->book.n; i++) {
        const pg_market_order *o = &in->book.orders[i];
        for (int u = 0; u < (int)o->qty; u++) {
            if (o->side == PG_MARKET_BUY)
                bu[nb++] = limit(o, &in->grid);
            else
                au[na++] = -limit(o, &in->grid);
        }
    }
    qsort(bu, nb, sizeof *bu, cmp_desc);
    qsort(au, na, sizeof *au, cmp_desc); /* -ask descending: asks ascending */
    double w = 0;
    for (size_t k = 0; k < nb && k < na && bu[k] >= -au[k]; k++)
        w += bu[k] + au[k];
    return w;
}

/* Welfare of an allocation: what buyers were willing to pay minus what sellers asked. */
static double
welfare(const inst *in, const pg_market_result *r)
{
    double w = 0;
    for (size_t i = 0; i < in->book.n; i++) {
        const pg_market_order *o = &in->book.orders[i];
        double l = limit(o, &in->grid);
        w += (o->side == PG_MARKET_BUY ? l : -l) * r->fills[i].qty;
    }
    return w;
}

/* What every mechanism must satisfy. */
static void
check_common(const inst *in, const pg_market_result *r, const char *mech, int book)
{
    double bq = 0, sq = 0, paid = 0, got = 0;
    bool any_buy = false, any_sell = false;
    for (size_t i = 0; i < in->book.n; i++) {
        const pg_market_order *o = &in->book.orders[i];
        const pg_market_fill *f = &r->fills[i];
        double l = limit(o, &in->grid);
        if (!(f->qty >= 0 && f->qty <= o->qty * (1 + 1e-12)))
            fail_msg("%s book %d order %zu: fill %g of %g", mech, book, i, f->qty, o->qty);
        if (f->qty == 0) {
            assert_near(f->price, 0, 0);
            continue;
        }
        if (o->side == PG_MARKET_BUY) {
            any_buy = true;
            if (f->price > l + 1e-12)
                fail_msg("%s book %d: buyer %zu pays %.17g above its limit %.17g", mech, book, i,
                         f->price, l);
            bq += f->qty;
            paid += f->qty * f->price;
        } else {
            any_sell = true;
            if (f->price < l - 1e-12)
                fail_msg("%s book %d: seller %zu gets %.17g below its limit %.17g", mech, book, i,
                         f->price, l);
            sq += f->qty;
            got += f->qty * f->price;
        }
    }
    if (fabs(bq - sq) > 1e-9 * (bq + sq))
        fail_msg("%s book %d: bought %.17g, sold %.17g", mech, book, bq, sq);
    assert_near(r->volume, sq, 1e-9 * (1 + sq));
    assert_near(r->buyer_paid, paid, 1e-9 * (1 + paid));
    assert_near(r->seller_got, got, 1e-9 * (1 + got));
    assert_near(r->surplus, r->buyer_paid - r->seller_got, 1e-9 * (1 + paid));
    assert_true(r->surplus >= -1e-9 * (1 + paid));
    assert_int_equal(any_buy, any_sell);
    assert_int_equal(r->outcome == PG_MARKET_CLEARED, any_buy);
}

static void
check_uniform(const inst *in, const pg_market_result *r, int book)
{
    double hb = -INFINITY, la = INFINITY; /* best bid, best ask */
    double mb = INFINITY, ma = -INFINITY; /* marginal (worst accepted) bid and ask */
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < in->book.n; i++) {
        const pg_market_order *o = &in->book.orders[i];
        double l = limit(o, &in->grid), f = r->fills[i].qty;
        if (o->side == PG_MARKET_BUY) {
            nb++;
            hb = fmax(hb, l);
            if (f > 0)
                mb = fmin(mb, l);
        } else {
            na++;
            la = fmin(la, l);
            if (f > 0)
                ma = fmax(ma, l);
        }
    }
    if (nb == 0 || na == 0) {
        assert_int_equal(r->outcome, PG_MARKET_ONE_SIDED);
        return;
    }
    if (hb < la) {
        assert_int_equal(r->outcome, PG_MARKET_NO_CROSS);
        return;
    }
    assert_int_equal(r->outcome, PG_MARKET_CLEARED);
    double p = r->price;
    if (!(ma <= p && p <= mb))
        fail_msg("book %d: price %.17g not between marginal ask %.17g and bid %.17g", book, p, ma,
                 mb);
    /* The price supports the allocation; ties at the price are rationed pro rata. */
    double ratio[2] = {-1, -1};
    for (size_t i = 0; i < in->book.n; i++) {
        const pg_market_order *o = &in->book.orders[i];
        double l = limit(o, &in->grid), f = r->fills[i].qty;
        bool buy = o->side == PG_MARKET_BUY;
        if (buy ? l > p : l < p) {
            if (fabs(f - o->qty) > 1e-9 * o->qty)
                fail_msg("book %d: order %zu in the money (limit %g, price %g) filled %g of %g",
                         book, i, l, p, f, o->qty);
        } else if (buy ? l < p : l > p) {
            if (f != 0)
                fail_msg("book %d: order %zu out of the money filled %g", book, i, f);
        } else {
            double q = f / o->qty;
            if (ratio[buy] < 0)
                ratio[buy] = q;
            else if (fabs(ratio[buy] - q) > 1e-9)
                fail_msg("book %d: ties at the price %g filled %g and %g of their quantities", book,
                         p, ratio[buy], q);
        }
        assert_near(r->fills[i].price, f > 0 ? p : 0, 0);
    }
    if (in->integer) {
        double w = welfare(in, r);
        double best = brute_welfare(in);
        if (fabs(w - best) > 1e-9 * (1 + fabs(best)))
            fail_msg("book %d: welfare %.17g, the best is %.17g", book, w, best);
    }
}

static void
check_continuous(const inst *in, const pg_market_result *r, int book)
{
    double hb = -INFINITY, la = INFINITY;
    for (size_t i = 0; i < in->book.n; i++) {
        const pg_market_order *o = &in->book.orders[i];
        if (o->qty - r->fills[i].qty <= 1e-12 * o->qty)
            continue;
        double l = limit(o, &in->grid);
        if (o->side == PG_MARKET_BUY)
            hb = fmax(hb, l);
        else
            la = fmin(la, l);
    }
    if (hb >= la)
        fail_msg("book %d: a resting bid %g crosses a resting ask %g", book, hb, la);
    assert_true(isnan(r->price));
}

static void
check_settle(const inst *in, const pg_market_result *r, const char *mech, int book)
{
    double m[NODES];
    for (int k = 0; k < NODES; k++)
        m[k] = next() % 4 == 0 ? 0 : 10 * unif() - 5;
    pg_market_settlement s[NODES];
    pg_error err = {0};
    if (pg_market_settle(&in->book, r, &in->grid, m, NODES, s, &err))
        fail_msg("%s book %d: settle: %s", mech, book, err.msg);
    double bills = 0, grid = 0;
    for (int k = 0; k < NODES; k++) {
        assert_near(s[k].bought - s[k].sold + s[k].grid_import - s[k].grid_export, m[k], 1e-9);
        assert_true(s[k].grid_import >= 0 && s[k].grid_export >= 0);
        bills += s[k].bill;
        grid += s[k].grid_paid - s[k].grid_received;
        if (!in->grid.connected)
            assert_true(s[k].grid_paid == 0 && s[k].grid_received == 0);
    }
    assert_near(bills, r->surplus + grid, 1e-9 * (1 + fabs(bills)));
}

/* The uniform auction does not depend on arrival: the same orders in another order of the book and
 * of arrival clear at the same price with the same fills (ties are pro rata, not first come). */
static void
check_permuted(const inst *in, const pg_market_result *u, int book)
{
    size_t n = in->book.n;
    inst p = *in;
    pg_market_book_init(&p.book);
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    assert_non_null(perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = next() % i, x = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = x;
    }
    pg_error err = {0};
    for (size_t i = 0; i < n; i++) {
        const pg_market_order *o = &in->book.orders[perm[i]];
        assert_int_equal(pg_market_book_add(&p.book, o->node, o->side, o->qty, o->price, &err),
                         PG_OK);
    }
    pg_market_result r;
    assert_int_equal(pg_market_clear_uniform(&p.book, &p.grid, &r, &err), PG_OK);
    assert_int_equal(r.outcome, u->outcome);
    if (u->outcome == PG_MARKET_CLEARED && r.price != u->price)
        fail_msg("book %d: permuted, the price is %.17g instead of %.17g", book, r.price, u->price);
    for (size_t i = 0; i < n; i++)
        if (fabs(r.fills[i].qty - u->fills[perm[i]].qty) > 1e-9 * in->book.orders[perm[i]].qty)
            fail_msg("book %d: permuted, order %zu fills %.17g instead of %.17g", book, perm[i],
                     r.fills[i].qty, u->fills[perm[i]].qty);
    pg_market_result_free(&r);
    pg_market_book_free(&p.book);
    free(perm);
}

static void
run(size_t nmax, int books)
{
    for (int t = 0; t < books; t++) {
        inst in;
        make(&in, nmax);
        pg_market_result u, pab, cda;
        pg_error err = {0};
        if (pg_market_clear_uniform(&in.book, &in.grid, &u, &err) ||
            pg_market_clear_pay_as_bid(&in.book, &in.grid, &pab, &err) ||
            pg_market_clear_continuous(&in.book, &in.grid, &cda, &err))
            fail_msg("book %d: %s", t, err.msg);
        check_common(&in, &u, "uniform", t);
        check_common(&in, &pab, "pay-as-bid", t);
        check_common(&in, &cda, "continuous", t);
        check_uniform(&in, &u, t);
        check_continuous(&in, &cda, t);
        for (size_t i = 0; i < in.book.n; i++) {
            assert_true(pab.fills[i].qty == u.fills[i].qty);
            if (pab.fills[i].qty > 0)
                assert_true(pab.fills[i].price == limit(&in.book.orders[i], &in.grid));
        }
        assert_true(isnan(pab.price));
        /* The call auction's welfare is the most there is: the continuous auction's is no more. */
        double wu = welfare(&in, &u), wc = welfare(&in, &cda);
        if (wc > wu + 1e-9 * (1 + fabs(wu)))
            fail_msg("book %d: continuous welfare %.17g above the uniform auction's %.17g", t, wc,
                     wu);
        assert_near(welfare(&in, &pab), wu, 1e-12 * (1 + fabs(wu)));
        check_permuted(&in, &u, t);
        check_settle(&in, &u, "uniform", t);
        check_settle(&in, &pab, "pay-as-bid", t);
        check_settle(&in, &cda, "continuous", t);
        pg_market_result_free(&u);
        pg_market_result_free(&pab);
        pg_market_result_free(&cda);
        pg_market_book_free(&in.book);
    }
}

static void
test_small_books(void **state)
{
    (void)state;
    run(MAXN, 1200);
}

/* Bigger books (welfare by the optimality conditions only). */
static void
test_large_books(void **state)
{
    (void)state;
    for (int t = 0; t < 20; t++) {
        inst in;
        pg_error err = {0};
        make(&in, 0);
        in.integer = false;
        size_t n = 5000;
        for (size_t i = 0; i < n; i++) {
            pg_market_side side = next() % 2 ? PG_MARKET_BUY : PG_MARKET_SELL;
            double p = t % 2 ? 0.01 * (double)(next() % 40) : unif() * 0.4;
            if (pg_market_book_add(&in.book, (uint32_t)(next() % NODES), side, 0.01 + 5 * unif(), p,
                                   &err))
                fail_msg("add: %s", err.msg);
        }
        pg_market_result u, cda;
        assert_int_equal(pg_market_clear_uniform(&in.book, &in.grid, &u, &err), PG_OK);
        assert_int_equal(pg_market_clear_continuous(&in.book, &in.grid, &cda, &err), PG_OK);
        check_common(&in, &u, "uniform", t);
        check_uniform(&in, &u, t);
        check_common(&in, &cda, "continuous", t);
        check_continuous(&in, &cda, t);
        check_permuted(&in, &u, t);
        check_settle(&in, &u, "uniform", t);
        check_settle(&in, &cda, "continuous", t);
        pg_market_result_free(&u);
        pg_market_result_free(&cda);
        pg_market_book_free(&in.book);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_books),
        cmocka_unit_test(test_large_books),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
