/* Finite distributions: merging equal outcomes, Bayesian conditioning against hand-computed
 * posteriors (a noisy test for a rare condition), likelihood updates, marginals, expectations,
 * sampling frequencies, and refusal of impossible evidence. */
#include "harness.h"

#include <string.h>

#include "plurigrid/opengame.h"

/* Outcomes (condition, test result). Prior 1% sick; the test detects 90%, false alarms 5%. */
static pg_dist *
disease(void)
{
    pg_dist *d = NULL;
    assert_int_equal(pg_dist_new(&d, 2, NULL), PG_OK);
    int o[2];
    o[0] = 1, o[1] = 1;
    assert_int_equal(pg_dist_add(d, o, 0.01 * 0.9, NULL), PG_OK);
    o[0] = 1, o[1] = 0;
    assert_int_equal(pg_dist_add(d, o, 0.01 * 0.1, NULL), PG_OK);
    o[0] = 0, o[1] = 1;
    assert_int_equal(pg_dist_add(d, o, 0.99 * 0.05, NULL), PG_OK);
    o[0] = 0, o[1] = 0;
    assert_int_equal(pg_dist_add(d, o, 0.99 * 0.95, NULL), PG_OK);
    return d;
}

static bool
is_sick(const int *o, void *ud)
{
    (void)ud;
    return o[0] == 1;
}

static double
test_value(const int *o, void *ud)
{
    (void)ud;
    return o[1];
}

static void
test_conditioning(void **state)
{
    (void)state;
    pg_dist *d = disease();
    assert_int_equal(pg_dist_size(d), 4);
    assert_near(pg_dist_total(d), 1.0, 1e-15);
    assert_near(pg_dist_prob_event(d, is_sick, NULL), 0.01, 1e-15);
    /* P(positive) = .009 + .0495 = .0585; P(sick | positive) = .009 / .0585 = 0.153846... */
    assert_near(pg_dist_expect(d, test_value, NULL), 0.0585, 1e-15);
    double evidence = 0;
    assert_int_equal(pg_dist_condition_eq(d, 1, 1, &evidence, NULL), PG_OK);
    assert_near(evidence, 0.0585, 1e-15);
    assert_int_equal(pg_dist_size(d), 2);
    assert_near(pg_dist_prob_event(d, is_sick, NULL), 0.009 / 0.0585, 1e-14);
    int sick_pos[2] = {1, 1};
    assert_near(pg_dist_prob_of(d, sick_pos), 0.009 / 0.0585, 1e-14);
    assert_near(pg_dist_total(d), 1.0, 1e-14);

    /* The marginal of the posterior keeps width 1; a missing likelihood is refused. */
    pg_dist *m = NULL;
    size_t c0 = 0;
    assert_int_equal(pg_dist_marginal(&m, d, &c0, 1, NULL), PG_OK);
    assert_int_equal(pg_dist_width(m), 1);
    double like_ev = 0;
    assert_int_equal(pg_dist_reweight(m, NULL, NULL, &like_ev, NULL), PG_EINVAL);
    pg_dist_free(m);
    pg_dist_free(d);
}

static double
second_test(const int *o, void *ud)
{
    (void)ud;
    return o[0] == 1 ? 0.9 : 0.05;
}

static void
test_likelihood_and_marginal(void **state)
{
    (void)state;
    pg_dist *d = disease();
    pg_dist *m = NULL;
    size_t c0 = 0;
    assert_int_equal(pg_dist_marginal(&m, d, &c0, 1, NULL), PG_OK);
    assert_int_equal(pg_dist_size(m), 2);
    int sick = 1;
    assert_near(pg_dist_prob_of(m, &sick), 0.01, 1e-15);
    /* Two positive tests: odds 1/99 x 18 x 18 = 324/99. */
    double ev;
    assert_int_equal(pg_dist_reweight(m, second_test, NULL, &ev, NULL), PG_OK);
    assert_near(ev, 0.0585, 1e-15);
    assert_int_equal(pg_dist_reweight(m, second_test, NULL, &ev, NULL), PG_OK);
    assert_near(pg_dist_prob_of(m, &sick), 324.0 / (324.0 + 99.0), 1e-13);

    /* Impossible evidence is refused and leaves the distribution as it was. */
    pg_error err = {0};
    assert_int_equal(pg_dist_condition_eq(d, 0, 7, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "probability 0"));
    assert_int_equal(pg_dist_size(d), 4);
    assert_int_equal(pg_dist_condition_eq(d, 5, 0, NULL, &err), PG_EINVAL);
    assert_int_equal(pg_dist_add(d, &sick, -1, &err), PG_EINVAL);
    assert_int_equal(pg_dist_add(d, &sick, NAN, &err), PG_EINVAL);
    pg_dist_free(m);
    pg_dist_free(d);
}

static void
test_merge_clone_sample(void **state)
{
    (void)state;
    pg_dist *d = NULL;
    assert_int_equal(pg_dist_new(&d, 3, NULL), PG_OK);
    /* Many outcomes force the index to grow; equal outcomes merge. */
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 200; k++) {
            int o[3] = {k, -k, k % 7};
            assert_int_equal(pg_dist_add(d, o, 1.0, NULL), PG_OK);
        }
    assert_int_equal(pg_dist_size(d), 200);
    assert_near(pg_dist_total(d), 600, 0);
    int o[3] = {5, -5, 5};
    assert_near(pg_dist_prob_of(d, o), 1.0 / 200, 1e-15);
    assert_int_equal(pg_dist_normalize(d, NULL), PG_OK);
    pg_dist *c = NULL;
    assert_int_equal(pg_dist_clone(&c, d, NULL), PG_OK);
    assert_int_equal(pg_dist_size(c), 200);
    assert_memory_equal(pg_dist_outcome(c, 17), pg_dist_outcome(d, 17), 3 * sizeof(int));
    pg_dist_free(c);
    pg_dist_free(d);

    /* Sampling frequencies follow the weights; the seed fixes the draws. */
    assert_int_equal(pg_dist_new(&d, 1, NULL), PG_OK);
    int a = 0, b = 1;
    pg_dist_add(d, &a, 1, NULL);
    pg_dist_add(d, &b, 3, NULL);
    pg_rng rng;
    pg_rng_seed(&rng, 4, 0);
    size_t hits = 0;
    for (int t = 0; t < 20000; t++)
        hits += pg_dist_sample(d, &rng) == 1;
    assert_near(hits / 20000.0, 0.75, 0.01);
    pg_dist_free(d);

    /* Width 0: the one empty outcome. */
    assert_int_equal(pg_dist_new(&d, 0, NULL), PG_OK);
    assert_int_equal(pg_dist_add(d, NULL, 0.5, NULL), PG_OK);
    assert_int_equal(pg_dist_add(d, NULL, 0.5, NULL), PG_OK);
    assert_int_equal(pg_dist_size(d), 1);
    assert_near(pg_dist_prob(d, 0), 1, 0);
    pg_dist_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditioning),
        cmocka_unit_test(test_likelihood_and_marginal),
        cmocka_unit_test(test_merge_clone_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
