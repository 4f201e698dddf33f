/* Resilience metrics on curves whose answers are known in closed form: a V-shaped dip (the
 * resilience triangle), a shallow dip that never crosses the threshold, a drop that never
 * recovers, the baseline window, and the refusals. */
#include "harness.h"

#include <string.h>

#include "plurigrid/resilience.h"

enum { N = 41 };

/* 1 until turn 10, straight down to 0.5 at turn 15, straight up to 1 at turn 25, then 1. */
static void
v_curve(double *p)
{
    for (int t = 0; t < N; t++) {
        if (t <= 10)
            p[t] = 1.0;
        else if (t <= 15)
            p[t] = 1.0 - (t - 10) / 10.0;
        else if (t <= 25)
            p[t] = 0.5 + (t - 15) / 20.0;
        else
            p[t] = 1.0;
    }
}

static void
test_v_shaped_dip(void **state)
{
    (void)state;
    double p[N];
    v_curve(p);
    pg_resilience_options o;
    pg_resilience_options_init(&o);
    o.recovery_threshold = 0.93;
    o.baseline_window = 3;
    pg_resilience r;
    pg_error err = {0};
    assert_int_equal(pg_resilience_measure(p, N, 11, &o, &r, &err), PG_OK);
    assert_near(r.baseline, 1.0, 0);
    assert_near(r.min_level, 0.5, 0);
    assert_int_equal(r.min_turn, 15);
    assert_near(r.robustness, 0.5, 0);
    assert_true(r.disrupted);
    assert_true(r.recovered);
    /* back at 0.93 first at turn 24 (0.95; turn 23 is 0.90): 13 turns after the shock turn 11 */
    assert_near(r.time_to_recover, 13.0, 0);
    /* the triangle from (10, 1) down to (15, 0.5) and up to (25, 1): 1/2 x 15 x 0.5 */
    assert_near(r.loss_area, 3.75, 1e-12);
    /* 0.45 regained over the 9 turns from the minimum to the recovery */
    assert_near(r.recovery_rate, 0.05, 1e-12);
    assert_near(r.final_level, 1.0, 0);

    /* full recovery required: turn 25 exactly reaches 1 */
    o.recovery_threshold = 1.0;
    assert_int_equal(pg_resilience_measure(p, N, 11, &o, &r, &err), PG_OK);
    assert_near(r.time_to_recover, 14.0, 0);
    assert_near(r.recovery_rate, 0.05, 1e-12);
    assert_near(r.loss_area, 3.75, 1e-12);
}

static void
test_scaled_curve_gives_the_same_ratios(void **state)
{
    (void)state;
    double p[N];
    v_curve(p);
    for (int t = 0; t < N; t++)
        p[t] *= 80.0; /* e.g. a percentage scale: ratios to the baseline are unchanged */
    pg_resilience r;
    pg_resilience_options o;
    pg_resilience_options_init(&o);
    o.recovery_threshold = 0.93;
    assert_int_equal(pg_resilience_measure(p, N, 11, &o, &r, NULL), PG_OK);
    assert_near(r.baseline, 80.0, 0);
    assert_near(r.robustness, 0.5, 1e-15);
    assert_near(r.loss_area, 3.75, 1e-12);
    assert_near(r.time_to_recover, 13.0, 0);
}

static void
test_shallow_dip_is_not_a_disruption(void **state)
{
    (void)state;
    double p[N];
    for (int t = 0; t < N; t++)
        p[t] = 1.0;
    /* down 0.03 over two turns and back over two */
    p[21] = 0.985;
    p[22] = 0.97;
    p[23] = 0.985;
    pg_resilience r;
    assert_int_equal(pg_resilience_measure(p, N, 21, NULL, &r, NULL), PG_OK);
    assert_false(r.disrupted);
    assert_true(r.recovered);
    assert_near(r.time_to_recover, 0, 0);
    assert_near(r.recovery_rate, 0, 0);
    assert_near(r.robustness, 0.97, 1e-15);
    assert_near(r.loss_area, 0.5 * 4 * 0.03, 1e-12);
}

static void
test_drop_without_recovery(void **state)
{
    (void)state;
    double p[N];
    for (int t = 0; t < N; t++)
        p[t] = t < 20 ? 2.0 : 1.2;
    pg_resilience r;
    pg_error err = {0};
    assert_int_equal(pg_resilience_measure(p, N, 20, NULL, &r, &err), PG_OK);
    assert_true(r.disrupted);
    assert_false(r.recovered);
    assert_true(isnan(r.time_to_recover));
    assert_near(r.robustness, 0.6, 1e-15);
    assert_int_equal(r.min_turn, 20);
    assert_near(r.recovery_rate, 0.0, 0); /* flat at the bottom */
    /* half an interval of the step, then 20 full intervals of 0.4 of the baseline */
    assert_near(r.loss_area, 0.5 * 0.4 + 20 * 0.4, 1e-12);
    assert_near(r.final_level, 0.6, 1e-15);

    /* a partial recovery measures its rate up to the last turn */
    for (int t = 30; t < N; t++)
        p[t] = 1.2 + 0.04 * (t - 29);
    /* p[40] = 1.64 < 0.95 x 2 */
    assert_int_equal(pg_resilience_measure(p, N, 20, NULL, &r, &err), PG_OK);
    assert_false(r.recovered);
    assert_near(r.recovery_rate, (p[40] - 1.2) / 2.0 / 20.0, 1e-12);
}

static void
test_baseline_window(void **state)
{
    (void)state;
    double p[N];
    for (int t = 0; t < N; t++)
        p[t] = 1.0;
    p[7] = 1.3;
    p[8] = 1.1;
    p[9] = 0.9;
    pg_resilience_options o;
    pg_resilience_options_init(&o);
    o.baseline_window = 3;
    pg_resilience r;
    assert_int_equal(pg_resilience_measure(p, N, 10, &o, &r, NULL), PG_OK);
    assert_near(r.baseline, 1.1, 1e-15);
    o.baseline_window = 1;
    assert_int_equal(pg_resilience_measure(p, N, 10, &o, &r, NULL), PG_OK);
    assert_near(r.baseline, 0.9, 0);
    /* a window longer than the history uses what there is */
    o.baseline_window = 50;
    assert_int_equal(pg_resilience_measure(p, N, 2, &o, &r, NULL), PG_OK);
    assert_near(r.baseline, 1.0, 0);
}

static void
test_refusals(void **state)
{
    (void)state;
    double p[N];
    for (int t = 0; t < N; t++)
        p[t] = t < 5 ? 0.0 : 1.0;
    pg_resilience r;
    pg_error err = {0};
    assert_int_equal(pg_resilience_measure(p, N, 5, NULL, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "positive"));
    assert_int_equal(pg_resilience_measure(p, N, 0, NULL, &r, &err), PG_EINVAL);
    assert_int_equal(pg_resilience_measure(p, N, N, NULL, &r, &err), PG_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v_shaped_dip),
        cmocka_unit_test(test_scaled_curve_gives_the_same_ratios),
        cmocka_unit_test(test_shallow_dip_is_not_a_disruption),
        cmocka_unit_test(test_drop_without_recovery),
        cmocka_unit_test(test_baseline_window),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
