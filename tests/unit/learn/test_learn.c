/* Learning dynamics against known answers: the generator is reproducible and unbiased, regret
 * matching's average play in matching pennies and rock-paper-scissors converges to the uniform
 * equilibrium, fictitious play's empirical frequencies do too, conditional regret matching's
 * joint play approaches the correlated-equilibrium set of Shapley's game (where fictitious play
 * cycles), Roth-Erev follows its update formula and
 * finds the better arm, Q-learning reaches the Bellman fixed point of a small MDP. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/learn.h"
#include "plurigrid/rng.h"

static void
test_rng_reproducible_and_unbiased(void **state)
{
    (void)state;
    pg_rng a, b, c;
    pg_rng_seed(&a, 42, 0);
    pg_rng_seed(&b, 42, 0);
    pg_rng_seed(&c, 42, 1);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = pg_rng_u64(&a), y = pg_rng_u64(&b), z = pg_rng_u64(&c);
        assert_true(x == y);
        same_c += (x == z);
    }
    assert_int_equal(same_c, 0);

    /* Mean and variance of 200000 uniforms: standard errors 6.5e-4 and 1.9e-4. */
    size_t n = 200000;
    double sum = 0, sq = 0;
    size_t bins[10] = {0};
    for (size_t i = 0; i < n; i++) {
        double u = pg_rng_uniform(&a);
        assert_true(u >= 0 && u < 1);
        sum += u;
        sq += u * u;
        size_t k = pg_rng_below(&a, 10);
        assert_true(k < 10);
        bins[k]++;
    }
    assert_near(sum / n, 0.5, 0.004);
    assert_near(sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.0015);
    /* Each bin: expected 20000, standard deviation 134. */
    for (int k = 0; k < 10; k++)
        assert_near((double)bins[k], 20000, 700);

    double w[4] = {1, 0, 3, -2};
    size_t hits[4] = {0};
    for (size_t i = 0; i < 40000; i++)
        hits[pg_rng_pick(&a, w, 4)]++;
    assert_int_equal(hits[1], 0);
    assert_int_equal(hits[3], 0);
    assert_near(hits[2] / 40000.0, 0.75, 0.01);
    double zero[3] = {0, 0, 0};
    assert_int_equal(pg_rng_pick(&a, zero, 3), 3);

    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++) {
        double z = pg_rng_normal(&a);
        m += z;
        v += z * z;
    }
    assert_near(m / n, 0, 0.01);
    assert_near(v / n, 1, 0.015);
}

/* Two learners play the bimatrix game (A for the row player, B for the column player) for
 * `rounds` rounds, sampling actions and feeding each the payoffs of all its actions against the
 * other's realised action. joint (na x nb) receives the empirical joint frequencies when given. */
static void
play(pg_learner *row, pg_learner *col, const double *A, const double *B, size_t na, size_t nb,
     size_t rounds, uint64_t seed, double *joint)
{
    pg_rng rng;
    pg_rng_seed(&rng, seed, 0);
    double ur[16], uc[16];
    if (joint)
        memset(joint, 0, na * nb * sizeof *joint);
    for (size_t t = 0; t < rounds; t++) {
        size_t i, j;
        assert_int_equal(pg_learner_draw(row, 0, &rng, &i), PG_OK);
        assert_int_equal(pg_learner_draw(col, 0, &rng, &j), PG_OK);
        for (size_t k = 0; k < na; k++)
            ur[k] = A[k * nb + j];
        for (size_t k = 0; k < nb; k++)
            uc[k] = B[i * nb + k];
        pg_learn_feedback f;
        pg_learn_feedback_init(&f);
        f.action = i;
        f.reward = ur[i];
        f.counterfactual = ur;
        assert_int_equal(pg_learner_update(row, &f, NULL), PG_OK);
        f.action = j;
        f.reward = uc[j];
        f.counterfactual = uc;
        assert_int_equal(pg_learner_update(col, &f, NULL), PG_OK);
        if (joint)
            joint[i * nb + j] += 1.0 / (double)rounds;
    }
}

static void
pair(pg_learn_rule rule, size_t na, size_t nb, pg_learner **row, pg_learner **col)
{
    pg_learn_options o;
    pg_learn_options_init(&o, rule, 1, na);
    assert_int_equal(pg_learner_new(row, &o, NULL), PG_OK);
    pg_learn_options_init(&o, rule, 1, nb);
    assert_int_equal(pg_learner_new(col, &o, NULL), PG_OK);
}

static const double pennies_a[4] = {1, -1, -1, 1};
static const double pennies_b[4] = {-1, 1, 1, -1};

static void
test_regret_matching_matching_pennies(void **state)
{
    (void)state;
    /* Known answer: the unique equilibrium is (1/2, 1/2) for both; regret matching's average
     * policy is within 0.02 of it after 20000 sampled rounds (the seed fixes the run). */
    pg_learner *r, *c;
    pair(PG_LEARN_REGRET_MATCHING, 2, 2, &r, &c);
    play(r, c, pennies_a, pennies_b, 2, 2, 20000, 7, NULL);
    double p[2];
    assert_int_equal(pg_learner_average_policy(r, 0, p), PG_OK);
    assert_near(p[0], 0.5, 0.02);
    assert_near(p[0] + p[1], 1.0, 1e-12);
    assert_int_equal(pg_learner_average_policy(c, 0, p), PG_OK);
    assert_near(p[0], 0.5, 0.02);
    assert_int_equal(pg_learner_visits(r, 0), 20000);
    size_t counts[2];
    assert_int_equal(pg_learner_action_counts(r, 0, counts), PG_OK);
    assert_int_equal(counts[0] + counts[1], 20000);
    assert_near(counts[0] / 20000.0, 0.5, 0.03);

    /* Same seed, fresh learners: the very same averages. */
    pg_learner *r2, *c2;
    pair(PG_LEARN_REGRET_MATCHING, 2, 2, &r2, &c2);
    play(r2, c2, pennies_a, pennies_b, 2, 2, 20000, 7, NULL);
    double q[2];
    pg_learner_average_policy(r, 0, p);
    pg_learner_average_policy(r2, 0, q);
    assert_true(p[0] == q[0]);
    pg_learner_free(r);
    pg_learner_free(c);
    pg_learner_free(r2);
    pg_learner_free(c2);
}

static void
test_regret_matching_rock_paper_scissors(void **state)
{
    (void)state;
    double A[9] = {0, -1, 1, 1, 0, -1, -1, 1, 0};
    double B[9];
    for (int k = 0; k < 9; k++)
        B[k] = -A[k];
    pg_learner *r, *c;
    pair(PG_LEARN_REGRET_MATCHING, 3, 3, &r, &c);
    play(r, c, A, B, 3, 3, 30000, 11, NULL);
    double p[3];
    pg_learner_average_policy(r, 0, p);
    for (int k = 0; k < 3; k++)
        assert_near(p[k], 1.0 / 3, 0.02);
    pg_learner_average_policy(c, 0, p);
    for (int k = 0; k < 3; k++)
        assert_near(p[k], 1.0 / 3, 0.02);
    pg_learner_free(r);
    pg_learner_free(c);
}

static void
test_fictitious_play_matching_pennies(void **state)
{
    (void)state;
    /* Robinson (1951): fictitious play's empirical frequencies converge in zero-sum games. */
    pg_learner *r, *c;
    pair(PG_LEARN_FICTITIOUS_PLAY, 2, 2, &r, &c);
    play(r, c, pennies_a, pennies_b, 2, 2, 20000, 3, NULL);
    size_t counts[2];
    pg_learner_action_counts(r, 0, counts);
    assert_near(counts[0] / 20000.0, 0.5, 0.02);
    pg_learner_action_counts(c, 0, counts);
    assert_near(counts[0] / 20000.0, 0.5, 0.02);
    /* Its policy is a pure best response to the cumulative payoffs (ties split evenly). */
    double p[2];
    pg_learner_policy(r, 0, p);
    const double *v = pg_learner_values(r, 0);
    if (v[0] > v[1])
        assert_near(p[0], 1, 0);
    else if (v[1] > v[0])
        assert_near(p[1], 1, 0);
    else
        assert_near(p[0], 0.5, 0);
    pg_learner_free(r);
    pg_learner_free(c);
}

/* Largest gain any player gets from replacing recommendation j by k under the joint distribution
 * (0 exactly when joint is a correlated equilibrium of the n x n game). */
static double
ce_violation(const double *A, const double *B, const double *joint, size_t n)
{
    double worst = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < n; k++) {
            double row_gain = 0, col_gain = 0;
            for (size_t o = 0; o < n; o++) {
                row_gain += joint[j * n + o] * (A[k * n + o] - A[j * n + o]);
                col_gain += joint[o * n + j] * (B[o * n + k] - B[o * n + j]);
            }
            worst = fmax(worst, fmax(row_gain, col_gain));
        }
    return worst;
}

static void
test_conditional_regret_correlated(void **state)
{
    (void)state;
    /* Shapley's game has no pure equilibrium and fictitious play cycles in it for ever. Known
     * answer (Hart and Mas-Colell 2000): conditional regret matching's empirical joint play
     * approaches the correlated-equilibrium set; after 100000 rounds no player gains more than
     * 0.03 by replacing a recommendation (measured 0.015), while fictitious play's joint play is
     * still 0.1 away (measured 0.10). */
    double A[9] = {0, 1, 0, 0, 0, 1, 1, 0, 0};
    double B[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
    pg_learner *r, *c;
    double joint[9];
    pair(PG_LEARN_CONDITIONAL_REGRET, 3, 3, &r, &c);
    play(r, c, A, B, 3, 3, 100000, 5, joint);
    assert_true(ce_violation(A, B, joint, 3) < 0.03);
    double total = 0;
    for (int k = 0; k < 9; k++)
        total += joint[k];
    assert_near(total, 1.0, 1e-9);
    /* The policy is a distribution that stays on the last action with positive probability. */
    double p[3];
    pg_learner_policy(r, 0, p);
    assert_near(p[0] + p[1] + p[2], 1.0, 1e-12);
    assert_true(p[0] >= 0 && p[1] >= 0 && p[2] >= 0);
    assert_true(p[0] > 0.5 || p[1] > 0.5 || p[2] > 0.5);
    pg_learner_free(r);
    pg_learner_free(c);

    pair(PG_LEARN_FICTITIOUS_PLAY, 3, 3, &r, &c);
    play(r, c, A, B, 3, 3, 100000, 5, joint);
    assert_true(ce_violation(A, B, joint, 3) > 0.05);
    pg_learner_free(r);
    pg_learner_free(c);
}

static void
test_roth_erev_update_and_bandit(void **state)
{
    (void)state;
    pg_learn_options o;
    pg_learn_options_init(&o, PG_LEARN_ROTH_EREV, 1, 3);
    o.initial_propensity = 2.0;
    o.recency = 0.1;
    o.experimentation = 0.3;
    pg_learner *l;
    assert_int_equal(pg_learner_new(&l, &o, NULL), PG_OK);
    pg_learn_feedback f;
    pg_learn_feedback_init(&f);
    f.action = 1;
    f.reward = 10;
    assert_int_equal(pg_learner_update(l, &f, NULL), PG_OK);
    /* Nicolaisen-Petrov-Tesfatsion: q_k = (1-phi) q_k + r (1-eps) for the action taken,
     * q_j = (1-phi) q_j + q_j eps/2 for the two others. */
    const double *q = pg_learner_values(l, 0);
    assert_near(q[1], 0.9 * 2 + 10 * 0.7, 1e-12);
    assert_near(q[0], 0.9 * 2 + 2 * 0.15, 1e-12);
    assert_near(q[2], q[0], 1e-12);
    double p[3];
    pg_learner_policy(l, 0, p);
    assert_near(p[1], q[1] / (q[0] + q[1] + q[2]), 1e-12);
    pg_learner_free(l);

    /* Arm 2 pays 1, the others 0.2: the learner ends up playing arm 2 most of the time. */
    pg_learn_options_init(&o, PG_LEARN_ROTH_EREV, 1, 3);
    o.experimentation = 0.05;
    assert_int_equal(pg_learner_new(&l, &o, NULL), PG_OK);
    pg_rng rng;
    pg_rng_seed(&rng, 9, 0);
    for (int t = 0; t < 3000; t++) {
        size_t a;
        pg_learner_draw(l, 0, &rng, &a);
        f.action = a;
        f.reward = a == 2 ? 1.0 : 0.2;
        assert_int_equal(pg_learner_update(l, &f, NULL), PG_OK);
    }
    pg_learner_policy(l, 0, p);
    assert_true(p[2] > 0.8);
    assert_int_equal(pg_learner_best(l, 0), 2);
    pg_learner_free(l);
}

static void
test_q_learning_bellman(void **state)
{
    (void)state;
    /* Two states; action a moves to state a. Rewards r(s, a): r(0,0)=0, r(0,1)=1, r(1,0)=2,
     * r(1,1)=0, gamma 0.5. Closed form: V(1) = max(2 + .5 V(0), .5 V(1)), V(0) = max(.5 V(0),
     * 1 + .5 V(1)); the cycle 0 -> 1 -> 0 gives V(0) = (1 + .5*2)/(1 - .25) = 8/3,
     * V(1) = (2 + .5*1)/(.75) = 10/3. */
    const double r[2][2] = {{0, 1}, {2, 0}};
    double V0 = 8.0 / 3, V1 = 10.0 / 3;
    double Q[2][2] = {{0.5 * V0, 1 + 0.5 * V1}, {2 + 0.5 * V0, 0.5 * V1}};
    pg_learn_options o;
    pg_learn_options_init(&o, PG_LEARN_Q_LEARNING, 2, 2);
    o.gamma = 0.5;
    o.alpha = 0;     /* 1/n: sample averages */
    o.epsilon = 1.0; /* uniform exploration: Q-learning is off-policy */
    pg_learner *l;
    assert_int_equal(pg_learner_new(&l, &o, NULL), PG_OK);
    pg_rng rng;
    pg_rng_seed(&rng, 1, 0);
    size_t s = 0;
    for (int t = 0; t < 100000; t++) {
        size_t a;
        pg_learner_draw(l, s, &rng, &a);
        pg_learn_feedback f;
        pg_learn_feedback_init(&f);
        f.state = s;
        f.action = a;
        f.reward = r[s][a];
        f.next_state = a;
        assert_int_equal(pg_learner_update(l, &f, NULL), PG_OK);
        s = a;
    }
    for (size_t i = 0; i < 2; i++) {
        const double *q = pg_learner_values(l, i);
        for (size_t a = 0; a < 2; a++)
            assert_near(q[a], Q[i][a], 0.02);
    }
    assert_int_equal(pg_learner_best(l, 0), 1);
    assert_int_equal(pg_learner_best(l, 1), 0);
    pg_learner_free(l);
}

static void
test_best_response_and_policies(void **state)
{
    (void)state;
    pg_learn_options o;
    pg_learn_options_init(&o, PG_LEARN_BEST_RESPONSE, 1, 3);
    pg_learner *l;
    assert_int_equal(pg_learner_new(&l, &o, NULL), PG_OK);
    double p[3];
    pg_learner_policy(l, 0, p);
    assert_near(p[0], 1.0 / 3, 1e-15);
    pg_learn_feedback f;
    pg_learn_feedback_init(&f);
    double u[3] = {1, 5, 5};
    f.counterfactual = u;
    f.reward = 1;
    assert_int_equal(pg_learner_update(l, &f, NULL), PG_OK);
    pg_learner_policy(l, 0, p);
    assert_near(p[0], 0, 0);
    assert_near(p[1], 0.5, 1e-15);
    double u2[3] = {9, 0, 0};
    f.counterfactual = u2;
    pg_learner_update(l, &f, NULL);
    pg_learner_policy(l, 0, p);
    assert_near(p[0], 1, 0);
    /* The average policy is the mean of the two policies in force: uniform, then (0, .5, .5). */
    pg_learner_average_policy(l, 0, p);
    assert_near(p[0], 1.0 / 6, 1e-15);
    assert_near(p[1], (1.0 / 3 + 0.5) / 2, 1e-15);
    pg_learner_reset(l);
    assert_int_equal(pg_learner_visits(l, 0), 0);
    pg_learner_free(l);

    /* Smooth fictitious play with a temperature: logit of the average payoffs; epsilon mixes. */
    pg_learn_options_init(&o, PG_LEARN_FICTITIOUS_PLAY, 1, 2);
    o.temperature = 1.0;
    o.epsilon = 0.2;
    assert_int_equal(pg_learner_new(&l, &o, NULL), PG_OK);
    double w[2] = {2, 0};
    f.counterfactual = w;
    pg_learner_update(l, &f, NULL);
    pg_learner_update(l, &f, NULL);
    pg_learner_policy(l, 0, p);
    double logit = exp(2.0) / (exp(2.0) + 1.0);
    assert_near(p[0], 0.8 * logit + 0.1, 1e-12);
    pg_learner_free(l);
}

static void
test_bad_input(void **state)
{
    (void)state;
    pg_learn_options o;
    pg_learner *l = NULL;
    pg_error err = {0};
    pg_learn_options_init(&o, PG_LEARN_Q_LEARNING, 0, 2);
    assert_int_equal(pg_learner_new(&l, &o, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "at least one state"));
    pg_learn_options_init(&o, PG_LEARN_Q_LEARNING, 1, 2);
    o.gamma = 1.0;
    assert_int_equal(pg_learner_new(&l, &o, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "gamma"));
    pg_learn_options_init(&o, PG_LEARN_ROTH_EREV, 1, 2);
    o.initial_propensity = 0;
    assert_int_equal(pg_learner_new(&l, &o, &err), PG_EINVAL);
    o.rule = (pg_learn_rule)99;
    assert_int_equal(pg_learner_new(&l, &o, &err), PG_EINVAL);
    assert_null(l);

    pg_learn_options_init(&o, PG_LEARN_REGRET_MATCHING, 2, 2);
    assert_int_equal(pg_learner_new(&l, &o, NULL), PG_OK);
    pg_learn_feedback f;
    pg_learn_feedback_init(&f);
    assert_int_equal(pg_learner_update(l, &f, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "counterfactual"));
    double u[2] = {0, NAN};
    f.counterfactual = u;
    assert_int_equal(pg_learner_update(l, &f, &err), PG_EINVAL);
    u[1] = 1;
    f.state = 2;
    assert_int_equal(pg_learner_update(l, &f, &err), PG_EINVAL);
    f.state = 0;
    f.action = 2;
    assert_int_equal(pg_learner_update(l, &f, &err), PG_EINVAL);
    double p[2];
    assert_int_equal(pg_learner_policy(l, 5, p), PG_EINVAL);
    assert_null(pg_learner_values(l, 5));
    pg_learn_rule rule;
    assert_int_equal(pg_learn_rule_parse("roth-erev", &rule), PG_OK);
    assert_int_equal(rule, PG_LEARN_ROTH_EREV);
    assert_int_equal(pg_learn_rule_parse("nope", &rule), PG_ENOTFOUND);
    assert_string_equal(pg_learn_rule_name(PG_LEARN_Q_LEARNING), "q-learning");
    pg_learner_free(l);
    pg_learner_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_reproducible_and_unbiased),
        cmocka_unit_test(test_regret_matching_matching_pennies),
        cmocka_unit_test(test_regret_matching_rock_paper_scissors),
        cmocka_unit_test(test_fictitious_play_matching_pennies),
        cmocka_unit_test(test_conditional_regret_correlated),
        cmocka_unit_test(test_roth_erev_update_and_bandit),
        cmocka_unit_test(test_q_learning_bellman),
        cmocka_unit_test(test_best_response_and_policies),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
