/* The reverse VCG auction for procurement: hand-computed instances (ties to the lower index, the
 * reserve binding, fewer offers than items), then truthfulness on random instances: no seller
 * gains by offering anything but its cost, over a grid of misreports, and a truthful seller never
 * loses (individual rationality). Bad input is refused naming the offer; the allocation fails. */
#include "harness.h"

#include <limits.h>

#include "plurigrid/market.h"

static void
procure(const double *cost, size_t n, size_t k, double reserve, unsigned char *win, double *pay,
        size_t *won)
{
    pg_error err = {0};
    if (pg_market_vcg_procure(cost, n, k, reserve, win, pay, won, &err))
        fail_msg("procure: %s", err.msg);
}

static void
test_hand(void **state)
{
    (void)state;
    const double c[] = {5, 3, 8, 3};
    unsigned char w[4];
    double p[4];
    size_t won = 99;
    /* Two items: the two offers of 3 win and are paid the lowest losing cost, 5. */
    procure(c, 4, 2, 10, w, p, &won);
    assert_int_equal(won, 2);
    const unsigned char w2[] = {0, 1, 0, 1};
    assert_memory_equal(w, w2, 4);
    assert_near(p[0], 0, 0);
    assert_near(p[1], 5, 0);
    assert_near(p[2], 0, 0);
    assert_near(p[3], 5, 0);
    /* One item: the tie at 3 goes to the lower index; it is paid the other 3. */
    procure(c, 4, 1, 10, w, p, &won);
    assert_int_equal(won, 1);
    assert_int_equal(w[1], 1);
    assert_int_equal(w[3], 0);
    assert_near(p[1], 3, 0);
    /* Three items with a reserve of 6: the offers of 3, 3 and 5 win, the reserve is the price. */
    procure(c, 4, 3, 6, w, p, &won);
    assert_int_equal(won, 3);
    const unsigned char w3[] = {1, 1, 0, 1};
    assert_memory_equal(w, w3, 4);
    assert_near(p[0], 6, 0);
    assert_near(p[3], 6, 0);
    /* A reserve of 4 leaves two offers for three items: both win at 4. */
    procure(c, 4, 3, 4, w, p, &won);
    assert_int_equal(won, 2);
    assert_near(p[1], 4, 0);
    assert_near(p[0], 0, 0);
    /* A reserve below every cost: nothing is procured. No items: nothing either. */
    procure(c, 4, 2, 1, w, p, &won);
    assert_int_equal(won, 0);
    procure(c, 4, 0, 10, w, p, &won);
    assert_int_equal(won, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w[i], 0);
    procure(NULL, 0, 1, 10, NULL, NULL, &won);
    assert_int_equal(won, 0);
    /* No reserve and more offers than items: the (k+1)-th cost. */
    procure(c, 4, 1, INFINITY, w, p, &won);
    assert_near(p[1], 3, 0);
    procure(c, 4, 3, INFINITY, w, p, &won);
    assert_near(p[0], 8, 0);
}

static void
expect_error(int rc, const pg_error *err, int code, const char *needle)
{
    assert_int_equal(rc, code);
    if (!strstr(err->msg, needle))
        fail_msg("message \"%s\" does not contain \"%s\"", err->msg, needle);
}

static void
test_bad_input(void **state)
{
    (void)state;
    double c[] = {5, 3, NAN, 3};
    unsigned char w[4] = {9, 9, 9, 9};
    double p[4];
    size_t won = 99;
    pg_error err = {0};
    expect_error(pg_market_vcg_procure(c, 4, 1, 10, w, p, &won, &err), &err, PG_EINVAL,
                 "VCG offer 2: cost nan is not a finite number >= 0");
    c[2] = -1;
    expect_error(pg_market_vcg_procure(c, 4, 1, 10, w, p, &won, &err), &err, PG_EINVAL,
                 "VCG offer 2: cost -1");
    c[2] = INFINITY;
    expect_error(pg_market_vcg_procure(c, 4, 1, 10, w, p, &won, &err), &err, PG_EINVAL,
                 "VCG offer 2: cost inf");
    c[2] = 8;
    expect_error(pg_market_vcg_procure(c, 4, 1, NAN, w, p, &won, &err), &err, PG_EINVAL,
                 "VCG reserve price nan");
    expect_error(pg_market_vcg_procure(c, 4, 1, -2, w, p, &won, &err), &err, PG_EINVAL,
                 "VCG reserve price -2");
    expect_error(pg_market_vcg_procure(c, 4, 4, INFINITY, w, p, &won, &err), &err, PG_EINVAL,
                 "procurement of 4 item(s) from 4 offer(s) with no reserve price");
    expect_error(pg_market_vcg_procure(c, 4, 1, 10, w, p, NULL, &err), &err, PG_EINVAL, "NULL");
    /* Nothing written on failure. */
    assert_int_equal(won, 99);
    assert_int_equal(w[0], 9);

    pgt_alloc_fail_after(0);
    int rc = pg_market_vcg_procure(c, 4, 1, 10, w, p, &won, &err);
    pgt_alloc_fail_after(-1);
    expect_error(rc, &err, PG_ENOMEM, "out of memory");
    assert_int_equal(won, 99);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Utility of seller i when the offers are bids and its cost is cost: paid minus cost if it wins. */
static double
utility(const double *bids, size_t n, size_t k, double reserve, size_t i, double cost)
{
    unsigned char w[8];
    double p[8];
    size_t won;
    procure(bids, n, k, reserve, w, p, &won);
    return w[i] ? p[i] - cost : 0;
}

/* Random instances: costs on a grid of 0.5 (so ties happen), 1..7 sellers, 1..3 items, a reserve
 * or none; each seller's misreports over 0..11 in steps of 0.25 never beat the truth, and the
 * truth never loses money. */
static void
test_truthful(void **state)
{
    (void)state;
    int checked = 0;
    for (int inst = 0; inst < 400; inst++) {
        size_t n = 1 + next() % 7, k = 1 + next() % 3;
        double cost[8], bids[8];
        for (size_t i = 0; i < n; i++)
            cost[i] = 0.5 * (double)(next() % 21);
        double reserve = next() % 4 == 0 ? INFINITY : 0.5 * (double)(next() % 23);
        if (isinf(reserve) && n <= k)
            reserve = 11;
        for (size_t i = 0; i < n; i++) {
            memcpy(bids, cost, sizeof cost);
            double truth = utility(bids, n, k, reserve, i, cost[i]);
            assert_true(truth >= 0);
            for (int m = 0; m <= 44; m++) {
                bids[i] = 0.25 * m;
                if (isinf(reserve) && n <= k)
                    continue;
                double lie = utility(bids, n, k, reserve, i, cost[i]);
                if (lie > truth + 1e-12)
                    fail_msg("instance %d: seller %zu of %zu (cost %g, k %zu, reserve %g) gains "
                             "%g by offering %g instead of its cost",
                             inst, i, n, cost[i], k, reserve, lie - truth, bids[i]);
                checked++;
            }
        }
    }
    print_message("%d misreports checked\n", checked);
    assert_true(checked > 10000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_truthful),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
