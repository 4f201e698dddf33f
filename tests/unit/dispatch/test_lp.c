/* The LP layer under the dispatch: triplets with repeated entries add up, and the block warm
 * start (blocks solved one by one, then the whole problem from their combined basis) gives the
 * same optimum as a solve from scratch, including when the coupling rows bind, and reports an
 * infeasible block as an infeasible problem. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "dispatch/lp.h"

static unsigned long long rng_state = 42;

static double
uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* B blocks of n units that meet a demand in each block (45% +- 25% of their capacity, following a
 * sine), limits on pairs of units, and ramp rows |x[b][j] - x[b-1][j]| <= ramp cap[j] coupling
 * consecutive blocks. */
static void
make_problem(pgi_lp *lp, int B, int n, double ramp, double demand_scale)
{
    memset(lp, 0, sizeof *lp);
    int *col = malloc((size_t)(B * n) * sizeof *col);
    assert_non_null(col);
    double *cost = malloc((size_t)n * sizeof *cost), *cap = malloc((size_t)n * sizeof *cap);
    assert_non_null(cost);
    assert_non_null(cap);
    double total = 0;
    for (int j = 0; j < n; j++) {
        cost[j] = 10 + 40 * uniform();
        cap[j] = 20 + 80 * uniform();
        total += cap[j];
    }
    for (int b = 0; b < B; b++) {
        pgi_lp_block(lp, b);
        for (int j = 0; j < n; j++)
            col[b * n + j] = pgi_lp_col(lp, 0, cap[j], cost[j] * (1 + 0.1 * uniform()), false);
        double d = demand_scale * total * (0.45 + 0.25 * sin(b));
        int r = pgi_lp_row(lp, d, d);
        for (int j = 0; j < n; j++)
            pgi_lp_add(lp, r, col[b * n + j], 1);
        /* pairs of units sharing a limit, written in two halves that must add up */
        for (int j = 0; j + 1 < n; j += 2) {
            int rr = pgi_lp_row(lp, -PGI_INF, 0.9 * (cap[j] + cap[j + 1]));
            pgi_lp_add(lp, rr, col[b * n + j], 0.5);
            pgi_lp_add(lp, rr, col[b * n + j], 0.5);
            pgi_lp_add(lp, rr, col[b * n + j + 1], 1);
        }
    }
    for (int b = 1; b < B; b++)
        for (int j = 0; j < n; j++) {
            int r = pgi_lp_row(lp, -ramp * cap[j], ramp * cap[j]);
            pgi_lp_add(lp, r, col[b * n + j], 1);
            pgi_lp_add(lp, r, col[(b - 1) * n + j], -1);
        }
    free(col);
    free(cost);
    free(cap);
}

static void
check_feasible(const pgi_lp *lp, const pgi_solution *s)
{
    double *act = calloc((size_t)lp->nrows, sizeof *act);
    assert_non_null(act);
    for (size_t k = 0; k < lp->nnz; k++)
        act[lp->ti[k]] += lp->tv[k] * s->x[lp->tj[k]];
    for (int i = 0; i < lp->nrows; i++) {
        assert_true(act[i] >= lp->row_lo[i] - 1e-6 && act[i] <= lp->row_hi[i] + 1e-6);
        assert_near(act[i], s->act[i], 1e-6);
    }
    for (int j = 0; j < lp->ncols; j++)
        assert_true(s->x[j] >= lp->col_lo[j] - 1e-7 && s->x[j] <= lp->col_hi[j] + 1e-7);
    free(act);
}

static void
compare(double ramp, bool expect_binding)
{
    pgi_lp lp;
    make_problem(&lp, 12, 30, ramp, 1.0);
    pgi_solve_options cold = {0, 0, 1, false, -1}, warm = {0, 0, 1, false, 1};
    pgi_solution a = {0}, b = {0};
    pg_error err = {0};
    assert_int_equal(pgi_solve_lp(&lp, &cold, &a, &err), PG_OK);
    assert_int_equal(pgi_solve_lp(&lp, &warm, &b, &err), PG_OK);
    assert_int_equal(a.status, PGI_OPTIMAL);
    assert_int_equal(b.status, PGI_OPTIMAL);
    assert_false(a.warm_started);
    assert_true(b.warm_started);
    assert_near(a.obj, b.obj, 1e-7 * fabs(a.obj));
    check_feasible(&lp, &a);
    check_feasible(&lp, &b);
    /* without the ramps the optimum is lower exactly when they bind */
    pgi_lp free_lp;
    rng_state = 42;
    make_problem(&free_lp, 12, 30, 1e6, 1.0);
    pgi_solution c = {0};
    assert_int_equal(pgi_solve_lp(&free_lp, &cold, &c, &err), PG_OK);
    if (expect_binding)
        assert_true(c.obj < a.obj - 1e-6 * fabs(a.obj));
    else
        assert_near(c.obj, a.obj, 1e-7 * fabs(a.obj));
    pgi_solution_free(&a);
    pgi_solution_free(&b);
    pgi_solution_free(&c);
    pgi_lp_free(&lp);
    pgi_lp_free(&free_lp);
}

static void
test_warm_start_matches_cold_binding(void **state)
{
    (void)state;
    rng_state = 42;
    compare(0.3, true);
}

static void
test_warm_start_matches_cold_slack(void **state)
{
    (void)state;
    rng_state = 42;
    compare(5.0, false);
}

static void
test_infeasible_block(void **state)
{
    (void)state;
    rng_state = 7;
    pgi_lp lp;
    make_problem(&lp, 4, 10, 1.0, 2.5); /* demand above the units' capacity */
    pgi_solve_options warm = {0, 0, 1, false, 1};
    pgi_solution s = {0};
    pg_error err = {0};
    assert_int_equal(pgi_solve_lp(&lp, &warm, &s, &err), PG_OK);
    assert_int_equal(s.status, PGI_INFEASIBLE);
    pgi_solution_free(&s);
    pgi_lp_free(&lp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warm_start_matches_cold_binding),
        cmocka_unit_test(test_warm_start_matches_cold_slack),
        cmocka_unit_test(test_infeasible_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
