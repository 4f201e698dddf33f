/* How the power flow keeps its memory, checked from outside: a solve from scratch (pg_pf_solve,
 * which builds only what one solve needs) and every solve of a kept solver (which keeps its blocks,
 * its analysis and its starting factors, reuses its region when the network changes and rebuilds
 * the admittances in place when only branch parameters change) give the same results to the last
 * bit; and every allocation of a solve may fail: the solve says PG_ENOMEM, writes nothing, leaks
 * nothing, and the solver works again afterwards. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"
#include "plurigrid/pf.h"

static pg_world *
load_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err))
        fail_msg("%s: %s", name, err.msg);
    return w;
}

/* The three ways the tests solve: AC, DC, AC holding units within their reactive limits. */
static pg_pf_options
mode_options(int mode)
{
    pg_pf_options o;
    pg_pf_options_init(&o);
    o.dc = mode == 1;
    o.enforce_q_lims = mode == 2;
    return o;
}

#define SAME_BITS(a, b, n, what)                                                                   \
    do {                                                                                           \
        if ((n) && memcmp((a), (b), (n) * sizeof *(a)) != 0)                                       \
            fail_msg("%s: %s differs", where, what);                                               \
    } while (0)

/* a and b are the same result, bit for bit (all but the timings). */
static void
assert_same_result(const pg_pf_result *a, const pg_pf_result *b, const char *where)
{
    assert_int_equal(a->dc, b->dc);
    assert_int_equal(a->converged, b->converged);
    assert_int_equal(a->all_solved, b->all_solved);
    assert_int_equal(a->iterations, b->iterations);
    assert_int_equal(a->q_lim_rounds, b->q_lim_rounds);
    assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->n_buses, b->n_buses);
    assert_int_equal(a->n_branches, b->n_branches);
    assert_int_equal(a->n_thermals, b->n_thermals);
    assert_int_equal(a->n_islands, b->n_islands);
    double ta[] = {a->max_mismatch, a->gen_p,   a->gen_q,   a->inj_p,      a->inj_q,  a->load_p,
                   a->load_q,       a->shunt_p, a->shunt_q, a->charging_q, a->loss_p, a->loss_q};
    double tb[] = {b->max_mismatch, b->gen_p,   b->gen_q,   b->inj_p,      b->inj_q,  b->load_p,
                   b->load_q,       b->shunt_p, b->shunt_q, b->charging_q, b->loss_p, b->loss_q};
    SAME_BITS(ta, tb, sizeof ta / sizeof *ta, "a total");
    SAME_BITS(a->vm, b->vm, a->n_buses, "vm");
    SAME_BITS(a->va, b->va, a->n_buses, "va");
    SAME_BITS(a->bus_type, b->bus_type, a->n_buses, "bus_type");
    SAME_BITS(a->island, b->island, a->n_buses, "island");
    SAME_BITS(a->pg, b->pg, a->n_thermals, "pg");
    SAME_BITS(a->qg, b->qg, a->n_thermals, "qg");
    SAME_BITS(a->q_limited, b->q_limited, a->n_thermals, "q_limited");
    SAME_BITS(a->pf, b->pf, a->n_branches, "pf");
    SAME_BITS(a->qf, b->qf, a->n_branches, "qf");
    SAME_BITS(a->pt, b->pt, a->n_branches, "pt");
    SAME_BITS(a->qt, b->qt, a->n_branches, "qt");
    for (size_t i = 0; i < a->n_islands; i++) {
        const pg_pf_island *x = &a->islands[i], *y = &b->islands[i];
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->n_buses, y->n_buses);
        assert_int_equal(x->first_bus, y->first_bus);
        assert_int_equal(x->ref_bus, y->ref_bus);
        SAME_BITS(&x->load_mw, &y->load_mw, 1, "an island's load");
        assert_string_equal(x->reason, y->reason);
    }
}

static pg_pf_result *
solve_once(const pg_world *w, const pg_pf_options *o)
{
    pg_pf_result *r = NULL;
    pg_error err = {0};
    if (pg_pf_solve(w, o, &r, &err))
        fail_msg("solve: %s", err.msg);
    return r;
}

static void
solve_same(pg_pf_solver *s, const pg_world *w, const pg_pf_result *ref, const char *where)
{
    pg_pf_result *r = NULL;
    pg_error err = {0};
    if (pg_pf_solver_solve(s, w, &r, &err))
        fail_msg("%s: %s", where, err.msg);
    assert_same_result(r, ref, where);
    pg_pf_result_free(r);
}

/* A solve from scratch and the first, second and third solves of a kept solver (the third starts
 * from the factors kept from the second) agree to the last bit, in every mode; case2383wp takes its
 * blocks from a huge-page region, the others from malloc. */
static void
test_fresh_equals_warm(void **state)
{
    (void)state;
    const char *names[] = {"case9", "case30", "case118", "case300", "case2383wp"};
    for (size_t c = 0; c < sizeof names / sizeof *names; c++) {
        pg_world *w = load_case(names[c]);
        for (int mode = 0; mode < 3; mode++) {
            pg_pf_options o = mode_options(mode);
            pg_pf_result *ref = solve_once(w, &o);
            assert_true(ref->all_solved);
            pg_pf_solver *s = NULL;
            pg_error err = {0};
            assert_int_equal(pg_pf_solver_new(&s, &o, &err), PG_OK);
            for (int k = 0; k < 3; k++) {
                char where[80];
                snprintf(where, sizeof where, "%s mode %d solve %d", names[c], mode, k);
                solve_same(s, w, ref, where);
            }
            pg_pf_solver_info info;
            pg_pf_solver_get_info(s, &info);
            if (mode != 2) /* Q-limit rounds analyse each set of bus classes */
                assert_int_equal(info.analyses, 1);
            pg_pf_solver_free(s);
            pg_pf_result_free(ref);
        }
        pg_world_free(w);
    }
}

/* One kept solver given other networks in turn (its region grows, shrinks back into the one it
 * has, and is reused) and the same network with other branch and shunt parameters (its admittances
 * rebuilt in place): every result is the one a solve from scratch gives. */
static void
test_solver_moves_between_networks(void **state)
{
    (void)state;
    const char *names[] = {"case118", "case2383wp", "case9", "case300", "case2383wp", "case118"};
    pg_world *w[6];
    for (size_t c = 0; c < 6; c++)
        w[c] = load_case(names[c]);
    for (int mode = 0; mode < 3; mode++) {
        pg_pf_options o = mode_options(mode);
        pg_pf_solver *s = NULL;
        pg_error err = {0};
        assert_int_equal(pg_pf_solver_new(&s, &o, &err), PG_OK);
        for (size_t c = 0; c < 6; c++) {
            pg_pf_result *ref = solve_once(w[c], &o);
            char where[80];
            snprintf(where, sizeof where, "%s after %s, mode %d", names[c],
                     c ? names[c - 1] : "nothing", mode);
            solve_same(s, w[c], ref, where);
            pg_pf_result_free(ref);
        }
        /* The same topology with other parameters, and back. */
        pg_world *v = NULL;
        assert_int_equal(pg_world_clone(&v, w[5], &err), PG_OK);
        v->branches[3].x *= 1.5;
        v->branches[7].r *= 0.5;
        v->buses[5].bs += 10;
        pg_pf_result *ref_v = solve_once(v, &o), *ref_w = solve_once(w[5], &o);
        assert_true(ref_v->pf[3] != ref_w->pf[3]); /* the change matters */
        solve_same(s, v, ref_v, "other parameters");
        solve_same(s, w[5], ref_w, "the parameters back");
        solve_same(s, v, ref_v, "other parameters again");
        pg_pf_result_free(ref_v);
        pg_pf_result_free(ref_w);
        pg_world_free(v);
        pg_pf_solver_free(s);
    }
    for (size_t c = 0; c < 6; c++)
        pg_world_free(w[c]);
}

/* Fails every allocation of fn(ctx) in turn, for fn returning a status: each run returns
 * PG_ENOMEM (never a crash, and leaks are the sanitizer build's to find), then one run without
 * failures succeeds. Returns how many allocations a run makes. */
static long
fail_each_allocation(int (*fn)(void *ctx, bool expect_ok), void *ctx)
{
    pgt_alloc_fail_after(LONG_MAX);
    int rc = fn(ctx, true);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    assert_int_equal(rc, PG_OK);
    assert_true(n >= 1);
    for (long k = 0; k < n; k++) {
        pgt_alloc_fail_after(k);
        rc = fn(ctx, false);
        pgt_alloc_fail_after(-1);
        if (rc != PG_ENOMEM)
            fail_msg("allocation %ld of %ld failed: status %d, not PG_ENOMEM", k, n, rc);
        assert_int_equal(fn(ctx, true), PG_OK);
    }
    return n;
}

typedef struct once_ctx {
    const pg_world *w;
    pg_pf_options o;
    const pg_pf_result *ref;
} once_ctx;

static int
solve_once_checked(void *p, bool expect_ok)
{
    once_ctx *c = p;
    static pg_pf_result untouched; /* where *out points until a solve succeeds */
    pg_pf_result *r = &untouched;
    pg_error err = {0};
    int rc = pg_pf_solve(c->w, &c->o, &r, &err);
    if (rc == PG_OK) {
        assert_same_result(r, c->ref, "solve once");
        pg_pf_result_free(r);
    } else {
        assert_ptr_equal(r, &untouched);
        assert_true(err.msg[0] != '\0');
        assert_false(expect_ok);
    }
    return rc;
}

typedef struct kept_ctx {
    pg_pf_solver *s;
    const pg_world *w;
    const pg_pf_result *ref;
} kept_ctx;

static int
solve_kept_checked(void *p, bool expect_ok)
{
    kept_ctx *c = p;
    pg_pf_result *r = NULL;
    pg_error err = {0};
    int rc = pg_pf_solver_solve(c->s, c->w, &r, &err);
    if (rc == PG_OK) {
        assert_same_result(r, c->ref, "kept solver");
        pg_pf_result_free(r);
    } else {
        assert_null(r);
        assert_false(expect_ok);
    }
    return rc;
}

/* Every allocation of a solve from scratch of case9 (and of the huge-page region's case2383wp),
 * in each mode, may fail. */
static void
test_every_allocation_of_a_cold_solve_may_fail(void **state)
{
    (void)state;
    const char *names[] = {"case9", "case2383wp"};
    for (size_t c = 0; c < 2; c++) {
        pg_world *w = load_case(names[c]);
        for (int mode = 0; mode < 3; mode++) {
            once_ctx ctx = {.w = w, .o = mode_options(mode)};
            pg_pf_result *ref = solve_once(w, &ctx.o);
            ctx.ref = ref;
            long n = fail_each_allocation(solve_once_checked, &ctx);
            assert_true(n >= 4); /* solver, topology, islands, result at least */
            pg_pf_result_free(ref);
        }
        pg_world_free(w);
    }
}

/* A kept solver: its first solve, a warm solve, and a solve of another network may each fail at
 * any allocation; the solver then solves correctly (the solver's state survives a failed solve). */
static void
test_every_allocation_of_a_kept_solver_may_fail(void **state)
{
    (void)state;
    pg_world *w = load_case("case9"), *w2 = load_case("case14");
    for (int mode = 0; mode < 3; mode++) {
        pg_pf_options o = mode_options(mode);
        pg_pf_result *ref = solve_once(w, &o), *ref2 = solve_once(w2, &o);
        pg_error err = {0};
        /* the first solve: a new solver each time */
        long n = 0;
        for (long k = 0;; k++) {
            pg_pf_solver *s = NULL;
            assert_int_equal(pg_pf_solver_new(&s, &o, &err), PG_OK);
            kept_ctx c = {.s = s, .w = w, .ref = ref};
            pgt_alloc_fail_after(k);
            int rc = solve_kept_checked(&c, false);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK) {
                n = k;
                pg_pf_solver_free(s);
                break;
            }
            assert_int_equal(rc, PG_ENOMEM);
            assert_int_equal(solve_kept_checked(&c, true), PG_OK); /* and then it works */
            pg_pf_solver_free(s);
        }
        assert_true(n >= 4);
        /* warm solves and a change of network, on one solver */
        pg_pf_solver *s = NULL;
        assert_int_equal(pg_pf_solver_new(&s, &o, &err), PG_OK);
        kept_ctx warm = {.s = s, .w = w, .ref = ref}, other = {.s = s, .w = w2, .ref = ref2};
        assert_int_equal(solve_kept_checked(&warm, true), PG_OK);
        fail_each_allocation(solve_kept_checked, &warm);
        for (long k = 0;; k++) {
            assert_int_equal(solve_kept_checked(&warm, true), PG_OK);
            pgt_alloc_fail_after(k);
            int rc = solve_kept_checked(&other, false);
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK)
                break;
            assert_int_equal(rc, PG_ENOMEM);
            assert_int_equal(solve_kept_checked(&other, true), PG_OK);
        }
        pg_pf_solver_free(s);
        pg_pf_result_free(ref);
        pg_pf_result_free(ref2);
    }
    pg_world_free(w);
    pg_world_free(w2);
}

/* The public admittance matrices under allocation failure. */
static int
build_admittance(void *p, bool expect_ok)
{
    static pg_pf_admittance untouched;
    pg_pf_admittance *y = &untouched;
    pg_error err = {0};
    int rc = pg_pf_admittance_build(&y, p, &err);
    if (rc == PG_OK) {
        assert_int_equal(y->ybus.n_rows, 9);
        pg_pf_admittance_free(y);
    } else {
        assert_ptr_equal(y, &untouched);
        assert_false(expect_ok);
    }
    return rc;
}

static void
test_admittance_allocation_failures(void **state)
{
    (void)state;
    pg_world *w = load_case("case9");
    fail_each_allocation(build_admittance, w);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_equals_warm),
        cmocka_unit_test(test_solver_moves_between_networks),
        cmocka_unit_test(test_every_allocation_of_a_cold_solve_may_fail),
        cmocka_unit_test(test_every_allocation_of_a_kept_solver_may_fail),
        cmocka_unit_test(test_admittance_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
