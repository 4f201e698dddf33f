/* The AC check of a schedule under allocation failure: every allocation it makes is failed in
 * turn, and each run either reports PG_ENOMEM (and gives nothing back) or gives exactly the
 * result of an undisturbed run -- never a result computed on memory it did not get. The schedule
 * leaves load unserved, so a step set up without its per-bus workspace would differ. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/dispatch.h"
#include "plurigrid/io.h"

static void
same_step(const pg_dispatch_ac_step *a, const pg_dispatch_ac_step *b, size_t t)
{
    if (a->solved != b->solved || a->iterations != b->iterations || a->losses_mw != b->losses_mw ||
        a->slack_mw != b->slack_mw || a->n_voltage != b->n_voltage ||
        a->n_overload != b->n_overload || a->max_loading != b->max_loading ||
        a->n_q_limit != b->n_q_limit || a->ref_held != b->ref_held ||
        strcmp(a->reason, b->reason) != 0 ||
        !(a->vm_min == b->vm_min || (isnan(a->vm_min) && isnan(b->vm_min))) ||
        !(a->vm_max == b->vm_max || (isnan(a->vm_max) && isnan(b->vm_max))))
        fail_msg("step %zu differs: losses %.17g vs %.17g, slack %.17g vs %.17g", t, a->losses_mw,
                 b->losses_mw, a->slack_mw, b->slack_mw);
}

static void
test_ac_check_allocation_failures(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error err = {0};
    if (pg_world_read(pgt_source_path("examples/hello-microworld.json"), NULL, &w, NULL, &err))
        fail_msg("%s", err.msg);
    w->thermals[0].pmax = 2; /* the diesel cannot cover the night: load goes unserved */
    pg_dispatch_options o;
    pg_dispatch_options_init(&o);
    o.horizon = 6;
    pg_dispatch_result *r = NULL;
    if (pg_dispatch_run(w, &o, &r, &err))
        fail_msg("%s", err.msg);
    double unserved = 0;
    for (size_t i = 0; i < r->n_steps * r->n_buses; i++)
        unserved += r->bus_unserved[i];
    assert_true(unserved > 1);

    pg_dispatch_ac *ref = NULL;
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_dispatch_ac_check(w, r, NULL, &ref, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    assert_true(n > 10);
    /* The unserved share makes the loads in the power flow smaller than the nominal ones. */
    pg_dispatch_ac *nominal = NULL;
    memset(r->bus_unserved, 0, r->n_steps * r->n_buses * sizeof *r->bus_unserved);
    assert_int_equal(pg_dispatch_ac_check(w, r, NULL, &nominal, &err), PG_OK);
    size_t differ = 0;
    for (size_t t = 0; t < r->n_steps; t++)
        differ += nominal->steps[t].slack_mw != ref->steps[t].slack_mw;
    assert_true(differ > 0);
    pg_dispatch_ac_free(nominal);
    pg_dispatch_result_free(r);
    r = NULL;
    if (pg_dispatch_run(w, &o, &r, &err))
        fail_msg("%s", err.msg);

    size_t failed = 0;
    for (long k = 0; k < n; k++) {
        pg_dispatch_ac *ac = NULL;
        pg_error e = {0};
        pgt_alloc_fail_after(k);
        int rc = pg_dispatch_ac_check(w, r, NULL, &ac, &e);
        pgt_alloc_fail_after(-1);
        if (rc != PG_OK) {
            if (rc != PG_ENOMEM)
                fail_msg("allocation %ld: status %d (%s), not PG_ENOMEM", k, rc, e.msg);
            assert_null(ac);
            failed++;
            continue;
        }
        assert_int_equal(ac->n_steps, ref->n_steps);
        assert_int_equal(ac->n_unsolved, ref->n_unsolved);
        assert_int_equal(ac->n_with_violations, ref->n_with_violations);
        for (size_t t = 0; t < ac->n_steps; t++)
            same_step(&ac->steps[t], &ref->steps[t], t);
        pg_dispatch_ac_free(ac);
    }
    assert_true(failed > 0);
    pg_dispatch_ac_free(ref);
    pg_dispatch_result_free(r);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ac_check_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
