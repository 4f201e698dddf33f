/* Private clearing against the open uniform auction on the same bids: many random books on
 * random public grids (ties at the marginal price on either side, curves that end together,
 * one-sided and uncrossed books, bids off the grid rounded to it), each member's fills, award and
 * settlement derived locally from the summed vector and the public result, compared with
 * pg_market_clear_uniform and pg_market_settle of the book of everybody's orders: the same price
 * and the same quantities, to the last bit. Also the grid of the rules controller's prices. */
#include "harness.h"

#include <math.h>
#include <string.h>

#include "plurigrid/market.h"
#include "privacy/pclear.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double
unif(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

#define MAXM 40

typedef struct member {
    pg_market_point curve[PGI_PCLEAR_MAX_ORDERS];
    size_t n;
    pgi_pclear_orders o;
    double vec[2 * PGI_PCLEAR_MAX_LEVELS];
} member;

/* A valid curve: buys at levels below a split, sells above it, some prices off the grid when
 * offgrid, quantities coarse (so sums meet exactly) or fine. */
static void
random_curve(const pgi_pclear_grid *g, member *m, bool offgrid, bool coarse)
{
    size_t L = g->n, split = (size_t)(next() % (L + 1));
    double qb[PGI_PCLEAR_MAX_LEVELS] = {0}, qs[PGI_PCLEAR_MAX_LEVELS] = {0};
    double pr[PGI_PCLEAR_MAX_LEVELS];
    for (size_t k = 0; k < L; k++) {
        pr[k] = g->p[k];
        if (offgrid && k + 1 < L && next() % 3 == 0)
            pr[k] = g->p[k] + (g->p[k + 1] - g->p[k]) * 0.37;
    }
    m->n = 0;
    size_t want = 1 + next() % 4;
    for (size_t t = 0; t < want; t++) {
        size_t k = (size_t)(next() % L);
        double q = coarse ? 0.25 * (double)(1 + next() % 8) : 5 * unif() + 1e-3;
        if (k < split)
            qb[k] += q;
        else
            qs[k] += q;
    }
    double cum = 0;
    for (size_t k = split; k-- > 0;)
        if (qb[k] > 0 && m->n < 8) {
            cum += qb[k];
            m->curve[m->n++] = (pg_market_point){pr[k], cum};
        }
    cum = 0;
    for (size_t k = split; k < L; k++)
        if (qs[k] > 0 && m->n < PGI_PCLEAR_MAX_ORDERS) {
            cum += qs[k];
            m->curve[m->n++] = (pg_market_point){pr[k], -cum};
        }
}

static void
one_book(bool offgrid, bool coarse)
{
    pg_error err = {0};
    double retail[24], feed_in[24];
    double r = 0.1 + 0.4 * unif(), f = r * unif();
    for (int k = 0; k < 24; k++) {
        retail[k] = k == 0 ? r : 0.1 + 0.4 * unif();
        feed_in[k] = f;
    }
    pgi_pclear_grid g;
    assert_int_equal(pgi_pclear_grid_make(retail, feed_in, 1 + next() % 24, 1, true, &g, &err),
                     PG_OK);
    size_t n = 2 + next() % (MAXM - 1);
    static member m[MAXM];
    double sum[2 * PGI_PCLEAR_MAX_LEVELS] = {0};
    pg_market_book book;
    pg_market_book_init(&book);
    for (size_t i = 0; i < n; i++) {
        random_curve(&g, &m[i], offgrid, coarse);
        if (pgi_pclear_member(&g, m[i].curve, m[i].n, &m[i].o, m[i].vec, &err))
            fail_msg("member %zu: %s", i, err.msg);
        if (!offgrid)
            assert_int_equal(m[i].o.off_grid, 0);
        for (size_t k = 0; k < 2 * g.n; k++)
            sum[k] += m[i].vec[k];
        /* the open book holds the same orders, with their limits as rounded to the grid */
        for (size_t k = 0; k < m[i].o.n; k++) {
            const pg_market_order *od = &m[i].o.o[k];
            int lv = m[i].o.level[k];
            double price = lv >= 0 ? g.p[lv] : od->price;
            assert_int_equal(pg_market_book_add(&book, (uint32_t)i, od->side, od->qty, price, &err),
                             PG_OK);
        }
    }
    pg_market_result open;
    assert_int_equal(pg_market_clear_uniform(&book, &g.terms, &open, &err), PG_OK);
    pgi_pclear_result priv;
    assert_int_equal(pgi_pclear_clear(&g, sum, &priv, &err), PG_OK);
    assert_int_equal(priv.outcome, open.outcome);
    if (open.outcome == PG_MARKET_CLEARED)
        assert_true(priv.price == open.price);
    else
        assert_true(isnan(priv.price));
    assert_near(priv.volume, open.volume, 1e-9 * (1 + open.volume));
    double metered[MAXM];
    pg_market_settlement s[MAXM];
    for (size_t i = 0; i < n; i++)
        metered[i] = 3 * unif() - 1.5;
    assert_int_equal(pg_market_settle(&book, &open, &g.terms, metered, n, s, &err), PG_OK);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double fill[PGI_PCLEAR_MAX_ORDERS], c, paid, vol;
        pgi_pclear_fills(&g, &priv, &m[i].o, fill, &c, &paid, &vol);
        /* the award as the community computes it (src/community/clear.c) */
        double oc = 0, op = 0, ov = 0;
        for (size_t k = 0; k < m[i].o.n; k++, at++) {
            double q = open.fills[at].qty;
            if (fill[k] != q)
                fail_msg("member %zu order %zu: private fill %.17g, open %.17g", i, k, fill[k], q);
            ov += q;
            if (q <= 0)
                continue;
            oc += (book.orders[at].side == PG_MARKET_BUY ? 1 : -1) * q;
            op += q * open.fills[at].price;
        }
        assert_true(c == oc && paid == op && vol == ov);
        pg_market_settlement ps;
        pgi_pclear_settle(&g, &priv, &m[i].o, fill, metered[i], &ps);
        assert_memory_equal(&ps, &s[i], sizeof ps);
    }
    pg_market_result_free(&open);
    pg_market_book_free(&book);
}

static void
random_books(void **state)
{
    (void)state;
    size_t cleared = 0;
    for (int k = 0; k < 3000; k++)
        one_book(k % 3 == 2, k % 2 == 0);
    (void)cleared;
}

/* The grid holds the prices the rules controller bids at, computed from public prices alone. */
static void
rules_prices(void **state)
{
    (void)state;
    pg_error err = {0};
    double retail[30], feed_in[30];
    for (int k = 0; k < 30; k++) {
        retail[k] = 0.2 + 0.01 * k;
        feed_in[k] = 0.05;
    }
    pgi_pclear_grid g;
    assert_int_equal(pgi_pclear_grid_make(retail, feed_in, 30, 1, true, &g, &err), PG_OK);
    double mean = 0;
    for (int k = 0; k < 24; k++)
        mean += retail[k];
    mean /= 24;
    double want[4] = {0.05, 0.2, fmin(fmax(mean, 0.05), 0.2),
                      0.5 * (fmin(fmax(mean, 0.05), 0.2) + 0.2)};
    for (int w = 0; w < 4; w++) {
        bool found = false;
        for (size_t k = 0; k < g.n; k++)
            found |= g.p[k] == want[w];
        assert_true(found);
    }
    for (size_t k = 1; k < g.n; k++)
        assert_true(g.p[k - 1] < g.p[k]);
    /* a bad grid */
    retail[0] = NAN;
    assert_int_equal(pgi_pclear_grid_make(retail, feed_in, 30, 1, true, &g, &err), PG_EINVAL);
    retail[0] = 0.01;
    assert_int_equal(pgi_pclear_grid_make(retail, feed_in, 30, 1, true, &g, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "below the feed-in"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_books),
        cmocka_unit_test(rules_prices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
