/* Running out of memory anywhere in a solve is a clean PG_ENOMEM, never a crash, a double free or
 * a leak (this runs under AddressSanitizer's leak checks too): every allocation the library makes
 * while solving an LP, a MILP, the hello microworld's day and case9's DC OPF is failed in turn.
 * When a solve survives a failed allocation (the block warm start falls back to a cold solve),
 * its answer is the one it gives with all the memory it asks for. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/lp.h"
#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

/* A small problem with a repeated (row, column) pair, a block structure (so the LP tries the
 * block warm start) and, for the MILP, integer columns: n units over B steps meet a demand,
 * each unit within [0, cap u] with u binary when integer. */
static void
make_problem(pgi_lp *lp, bool integer)
{
    memset(lp, 0, sizeof *lp);
    const int B = 4, n = 3;
    const double cap[3] = {50, 40, 30}, cost[3] = {10, 20, 30}, fixed[3] = {100, 50, 10};
    int col[4][3];
    for (int b = 0; b < B; b++) {
        pgi_lp_block(lp, b);
        double d = 30 + 20 * b;
        int r = pgi_lp_row(lp, d, d);
        for (int j = 0; j < n; j++) {
            col[b][j] = pgi_lp_col(lp, 0, cap[j], cost[j], false);
            pgi_lp_add(lp, r, col[b][j], 0.5);
            pgi_lp_add(lp, r, col[b][j], 0.5); /* repeated pairs add up */
            if (integer) {
                int u = pgi_lp_col(lp, 0, 1, fixed[j], true);
                int rr = pgi_lp_row(lp, -PGI_INF, 0);
                pgi_lp_add(lp, rr, col[b][j], 1);
                pgi_lp_add(lp, rr, u, -cap[j]);
            }
        }
    }
    for (int b = 1; b < B; b++) { /* ramps couple the steps */
        int r = pgi_lp_row(lp, -25, 25);
        pgi_lp_add(lp, r, col[b][0], 1);
        pgi_lp_add(lp, r, col[b - 1][0], -1);
    }
    assert_int_equal(pgi_lp_ok(lp, NULL), PG_OK);
}

typedef int (*solve_fn)(const pgi_lp *, const pgi_solve_options *, pgi_solution *, pg_error *);

static void
fail_each_solver_allocation(solve_fn solve, bool integer)
{
    pgi_lp lp;
    make_problem(&lp, integer);
    /* block_min_cols 1: the warm start (and its allocations) is tried even on this small LP */
    pgi_solve_options o = {0, 0, 1, false, 1};
    pgi_solution ref = {0}, s = {0};
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(solve(&lp, &o, &ref, &err), PG_OK);
    long n = pgt_alloc_count();
    print_message("%ld allocations\n", n);
    pgt_alloc_fail_after(-1);
    assert_int_equal(ref.status, PGI_OPTIMAL);
    assert_true(n > 3);
    for (long k = 0; k < n; k++) {
        memset(&err, 0, sizeof err);
        pgt_alloc_fail_after(k);
        int rc = solve(&lp, &o, &s, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK) {
            assert_int_equal(s.status, PGI_OPTIMAL);
            assert_near(s.obj, ref.obj, 1e-7 * fabs(ref.obj));
            pgi_solution_free(&s);
        } else {
            if (rc != PG_ENOMEM)
                fail_msg("allocation %ld of %ld: status %d (%s)", k, n, rc, err.msg);
            assert_null(s.x);
        }
    }
    pgi_solution_free(&ref);
    pgi_lp_free(&lp);
}

static void
test_lp_allocation_failures(void **state)
{
    (void)state;
    fail_each_solver_allocation(pgi_solve_lp, false);
}

static void
test_mip_allocation_failures(void **state)
{
    (void)state;
    fail_each_solver_allocation(pgi_solve_mip, true);
}

static void
test_dispatch_allocation_failures(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(pgt_source_path("examples/hello-microworld.json"), NULL, &w, NULL, &err))
        fail_msg("%s", err.msg);
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.mip_gap = 0;
    pg_dispatch_result *ref = NULL, *r = NULL;
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_dispatch_run(w, &o, &ref, &err), PG_OK);
    long n = pgt_alloc_count();
    print_message("%ld allocations\n", n);
    pgt_alloc_fail_after(-1);
    assert_true(n > 10);
    for (long k = 0; k < n; k++) {
        memset(&err, 0, sizeof err);
        pgt_alloc_fail_after(k);
        int rc = pg_dispatch_run(w, &o, &r, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK) {
            assert_near(r->total_cost, ref->total_cost, 1e-6 * fabs(ref->total_cost));
            pg_dispatch_result_free(r);
            r = NULL;
        } else if (rc != PG_ENOMEM) {
            fail_msg("allocation %ld of %ld: status %d (%s)", k, n, rc, err.msg);
        } else {
            assert_null(r);
        }
    }
    pg_dispatch_result_free(ref);
    pg_world_free(w);
}

static void
test_dcopf_allocation_failures(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path("matpower/cases/case9.m"), &w, NULL, &err))
        fail_msg("%s", err.msg);
    pg_dcopf_result *ref = NULL, *r = NULL;
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_dcopf_solve(w, NULL, &ref, &err), PG_OK);
    long n = pgt_alloc_count();
    print_message("%ld allocations\n", n);
    pgt_alloc_fail_after(-1);
    assert_true(n > 10);
    for (long k = 0; k < n; k++) {
        memset(&err, 0, sizeof err);
        pgt_alloc_fail_after(k);
        int rc = pg_dcopf_solve(w, NULL, &r, &err);
        pgt_alloc_fail_after(-1);
        if (rc == PG_OK) {
            assert_near(r->objective, ref->objective, 1e-6 * fabs(ref->objective));
            pg_dcopf_result_free(r);
            r = NULL;
        } else if (rc != PG_ENOMEM) {
            fail_msg("allocation %ld of %ld: status %d (%s)", k, n, rc, err.msg);
        } else {
            assert_null(r);
        }
    }
    pg_dcopf_result_free(ref);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lp_allocation_failures),
        cmocka_unit_test(test_mip_allocation_failures),
        cmocka_unit_test(test_dispatch_allocation_failures),
        cmocka_unit_test(test_dcopf_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
