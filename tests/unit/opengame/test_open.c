/* Open games against known answers: the prisoner's dilemma's only pure equilibrium, matching
 * pennies' mixed one, a Bayesian guessing game whose check must use the posterior given the
 * observation, the entry game (a sequential game where an off-path threat passes a Nash check),
 * payoff accumulation with discounting, forward and backward functions, strategies as functions,
 * play distributions, sampling, learning, and the errors that wrong information flow gets. */
#include "harness.h"

#include <string.h>

#include "plurigrid/game.h"
#include "plurigrid/opengame.h"

/* ---------------------------------------------------------------- helpers */

static pg_nf *
bimatrix(const char *name, const char *a0, const char *a1, const double *pay)
{
    const char *players[2] = {"row", "col"};
    size_t na[2] = {2, 2};
    pg_nf *g = NULL;
    assert_int_equal(pg_nf_new(&g, name, 2, players, na, NULL), PG_OK);
    for (size_t p = 0; p < 2; p++) {
        pg_nf_set_action_label(g, p, 0, a0, NULL);
        pg_nf_set_action_label(g, p, 1, a1, NULL);
    }
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++) {
            size_t prof[2] = {i, j};
            assert_int_equal(pg_nf_set_payoffs(g, prof, pay + 2 * (i * 2 + j), NULL), PG_OK);
        }
    return g;
}

/* Prisoner's dilemma: C/C 3,3; C/D 0,5; D/C 5,0; D/D 1,1. */
static const double pd_payoffs[8] = {3, 3, 0, 5, 5, 0, 1, 1};

static void
test_prisoners_dilemma(void **state)
{
    (void)state;
    pg_nf *nf = bimatrix("pd", "C", "D", pd_payoffs);
    pg_og *g = NULL;
    assert_int_equal(pg_nf_to_og(nf, &g, NULL), PG_OK);
    assert_int_equal(pg_og_n_decisions(g), 2);
    pg_og_node row = pg_og_find(g, "row"), col = pg_og_find(g, "col");
    assert_int_equal(pg_og_node_kind(g, row), PG_OG_DECISION);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);

    /* Every pure profile through the open-game check: only (D, D) passes. */
    int passed = 0;
    for (size_t a = 0; a < 2; a++)
        for (size_t b = 0; b < 2; b++) {
            assert_int_equal(pg_og_profile_set_pure(p, row, PG_OG_ALL, a, NULL), PG_OK);
            assert_int_equal(pg_og_profile_set_pure(p, col, PG_OG_ALL, b, NULL), PG_OK);
            pg_og_check c;
            assert_int_equal(pg_og_check_equilibrium(p, 1e-9, &c, NULL), PG_OK);
            if (c.equilibrium) {
                passed++;
                assert_int_equal(a, 1);
                assert_int_equal(b, 1);
            }
            pg_og_check_clear(&c);
        }
    assert_int_equal(passed, 1);

    /* (C, C): each player earns 3 and would earn 5 by defecting. */
    pg_og_profile_set_pure(p, row, PG_OG_ALL, 0, NULL);
    pg_og_profile_set_pure(p, col, PG_OG_ALL, 0, NULL);
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, 1e-9, &c, NULL), PG_OK);
    assert_false(c.equilibrium);
    assert_int_equal(c.n_decisions, 2);
    for (size_t d = 0; d < 2; d++) {
        assert_false(c.decisions[d].ok);
        assert_int_equal(c.decisions[d].n_obs, 1);
        assert_near(c.decisions[d].obs[0].probability, 1, 0);
        assert_near(c.decisions[d].payoff, 3, 1e-12);
        assert_near(c.decisions[d].best_payoff, 5, 1e-12);
        assert_string_equal(c.decisions[d].obs[0].best_label, "D");
        assert_near(c.decisions[d].gain, 2, 1e-12);
    }
    assert_string_equal(c.decisions[0].decision, "row");
    assert_string_equal(c.decisions[1].player, "col");
    assert_near(c.max_gain, 2, 1e-12);
    pg_og_check_clear(&c);
    double pay[2];
    assert_int_equal(pg_og_evaluate(p, pay, NULL), PG_OK);
    assert_near(pay[0], 3, 1e-12);

    /* The normal-form enumeration agrees. */
    size_t *eq = NULL, n = 0;
    assert_int_equal(pg_nf_pure_equilibria(nf, 1e-9, &eq, &n, NULL), PG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(eq[0], 1);
    assert_int_equal(eq[1], 1);
    free(eq);
    pg_og_profile_free(p);
    pg_og_free(g);
    pg_nf_free(nf);
}

static void
test_matching_pennies_mixed(void **state)
{
    (void)state;
    double pay[8] = {1, -1, -1, 1, -1, 1, 1, -1};
    pg_nf *nf = bimatrix("pennies", "H", "T", pay);
    pg_og *g = NULL;
    assert_int_equal(pg_nf_to_og(nf, &g, NULL), PG_OK);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    /* New profiles play uniformly: the mixed equilibrium. */
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_true(c.equilibrium);
    assert_near(c.max_gain, 0, 1e-15);
    assert_near(c.decisions[0].payoff, 0, 1e-15);
    pg_og_check_clear(&c);
    /* 60/40 for the row player: the column player gains 0.2 by always playing T. */
    double skew[2] = {0.6, 0.4};
    assert_int_equal(pg_og_profile_set_mixed(p, pg_og_find(g, "row"), 0, skew, NULL), PG_OK);
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_false(c.equilibrium);
    assert_true(c.decisions[0].ok); /* the row player is indifferent against 50/50 */
    assert_false(c.decisions[1].ok);
    assert_near(c.decisions[1].payoff, 0, 1e-15);
    assert_near(c.decisions[1].best_payoff, 0.2, 1e-15);
    assert_string_equal(c.decisions[1].obs[0].best_label, "T");
    pg_og_check_clear(&c);
    size_t *eq = NULL, n = 7;
    assert_int_equal(pg_nf_pure_equilibria(nf, 1e-9, &eq, &n, NULL), PG_OK);
    assert_int_equal(n, 0);
    assert_null(eq);
    pg_og_profile_free(p);
    pg_og_free(g);
    pg_nf_free(nf);
}

/* Nature picks a state (30% "high"); a noisy signal matches it 80% of the time; a guesser sees
 * only the signal and earns 1 for naming the state. */
static pg_og *
guessing_game(pg_og_node *guess)
{
    const char *players[1] = {"guesser"};
    const char *lv[2] = {"low", "high"};
    pg_og *g = NULL;
    assert_int_equal(pg_og_new(&g, "guess", 1, players, NULL), PG_OK);
    size_t st, sig, gs;
    assert_int_equal(pg_og_add_variable(g, "state", 2, lv, &st, NULL), PG_OK);
    assert_int_equal(pg_og_add_variable(g, "signal", 2, lv, &sig, NULL), PG_OK);
    assert_int_equal(pg_og_add_variable(g, "guess", 2, lv, &gs, NULL), PG_OK);
    double prior[2] = {0.7, 0.3};
    double noise[4] = {0.8, 0.2, 0.2, 0.8};
    double reward[4] = {1, 0, 0, 1}; /* rows (state, guess) */
    pg_og_node n[4], root;
    assert_int_equal(pg_og_nature(g, "state", NULL, 0, st, prior, &n[0], NULL), PG_OK);
    assert_int_equal(pg_og_nature(g, "signal", &st, 1, sig, noise, &n[1], NULL), PG_OK);
    assert_int_equal(pg_og_decision(g, "guess", 0, &sig, 1, gs, &n[2], NULL), PG_OK);
    size_t in[2] = {st, gs};
    assert_int_equal(pg_og_payoff(g, "reward", in, 2, reward, &n[3], NULL), PG_OK);
    assert_int_equal(pg_og_seq(g, "game", n, 4, &root, NULL), PG_OK);
    assert_int_equal(pg_og_set_root(g, root, NULL), PG_OK);
    *guess = n[2];
    return g;
}

static void
test_bayesian_observation(void **state)
{
    (void)state;
    pg_og_node guess;
    pg_og *g = guessing_game(&guess);
    assert_int_equal(pg_og_n_observations(g, guess), 2);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    /* Always guess "low". P(signal high) = .3 x .8 + .7 x .2 = .38;
     * P(high | signal high) = .24 / .38; P(low | signal low) = .56 / .62. */
    assert_int_equal(pg_og_profile_set_pure(p, guess, PG_OG_ALL, 0, NULL), PG_OK);
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_false(c.equilibrium);
    const pg_og_decision_check *d = &c.decisions[0];
    assert_int_equal(d->n_obs, 2);
    assert_string_equal(d->obs[0].label, "low");
    assert_near(d->obs[0].probability, 0.62, 1e-14);
    assert_near(d->obs[0].payoff, 0.56 / 0.62, 1e-14);
    assert_near(d->obs[0].gain, 0, 0);
    assert_string_equal(d->obs[1].label, "high");
    assert_near(d->obs[1].probability, 0.38, 1e-14);
    assert_near(d->obs[1].payoff, 0.14 / 0.38, 1e-14);
    assert_near(d->obs[1].best_payoff, 0.24 / 0.38, 1e-14);
    assert_string_equal(d->obs[1].best_label, "high");
    assert_near(d->payoff, 0.7, 1e-14);
    assert_near(d->best_payoff, 0.56 + 0.24, 1e-14);
    pg_og_check_clear(&c);
    /* Following the signal is the equilibrium (a single-player best response) worth 0.8. */
    assert_int_equal(pg_og_profile_set_pure(p, guess, 1, 1, NULL), PG_OK);
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_true(c.equilibrium);
    pg_og_check_clear(&c);
    double v;
    assert_int_equal(pg_og_evaluate(p, &v, NULL), PG_OK);
    assert_near(v, 0.8, 1e-14);

    /* The play distribution: P(state high, signal high, guess high) = .24. */
    pg_dist *h = NULL;
    assert_int_equal(pg_og_play(p, &h, NULL), PG_OK);
    assert_int_equal(pg_dist_width(h), 3);
    assert_int_equal(pg_dist_size(h), 4);
    int hhh[3] = {1, 1, 1};
    assert_near(pg_dist_prob_of(h, hhh), 0.24, 1e-14);
    /* Conditioning the history on the signal gives the posterior the check used. */
    assert_int_equal(pg_dist_condition_eq(h, 1, 1, NULL, NULL), PG_OK);
    assert_near(pg_dist_prob_of(h, hhh), 0.24 / 0.38, 1e-14);
    pg_dist_free(h);

    /* Sampled plays: frequencies of the outcome and reproducibility for a seed. */
    pg_rng r1, r2;
    pg_rng_seed(&r1, 77, 3);
    pg_rng_seed(&r2, 77, 3);
    double total = 0;
    for (int t = 0; t < 20000; t++) {
        int vals[3], vals2[3];
        double u, u2;
        assert_int_equal(pg_og_sample(p, &r1, vals, &u, NULL), PG_OK);
        assert_int_equal(pg_og_sample(p, &r2, vals2, &u2, NULL), PG_OK);
        assert_memory_equal(vals, vals2, sizeof vals);
        assert_int_equal(vals[2], vals[1]); /* the profile follows the signal */
        total += u;
    }
    assert_near(total / 20000, 0.8, 0.01);
    pg_og_profile_free(p);
    pg_og_free(g);
}

/* Entry game: the entrant stays out (0 for it, 2 for the incumbent) or enters; the incumbent sees
 * that and fights (-1, -1) or accommodates (1, 1). */
static void
test_entry_game_sequential(void **state)
{
    (void)state;
    const char *players[2] = {"entrant", "incumbent"};
    const char *e_lab[2] = {"out", "in"};
    const char *r_lab[2] = {"fight", "accommodate"};
    pg_og *g = NULL;
    assert_int_equal(pg_og_new(&g, "entry", 2, players, NULL), PG_OK);
    size_t e, r;
    assert_int_equal(pg_og_add_variable(g, "enter", 2, e_lab, &e, NULL), PG_OK);
    assert_int_equal(pg_og_add_variable(g, "respond", 2, r_lab, &r, NULL), PG_OK);
    double pay[8] = {0, 2, 0, 2, -1, -1, 1, 1};
    pg_og_node n[3], root;
    assert_int_equal(pg_og_decision(g, "entry", 0, NULL, 0, e, &n[0], NULL), PG_OK);
    assert_int_equal(pg_og_decision(g, "response", 1, &e, 1, r, &n[1], NULL), PG_OK);
    size_t in[2] = {e, r};
    assert_int_equal(pg_og_payoff(g, "outcome", in, 2, pay, &n[2], NULL), PG_OK);
    assert_int_equal(pg_og_seq(g, "game", n, 3, &root, NULL), PG_OK);
    assert_int_equal(pg_og_set_root(g, root, NULL), PG_OK);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    char label[64];
    pg_og_observation_label(g, n[1], 1, label, sizeof label);
    assert_string_equal(label, "in");
    int obs_in = 1;
    assert_int_equal(pg_og_observation_index(g, n[1], &obs_in), 1);

    /* (in, accommodate): subgame perfect, passes. */
    pg_og_profile_set_pure(p, n[0], 0, 1, NULL);
    pg_og_profile_set_pure(p, n[1], PG_OG_ALL, 1, NULL);
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_true(c.equilibrium);
    assert_int_equal(c.decisions[1].n_obs, 1); /* only "in" is on the path */
    assert_near(c.decisions[0].payoff, 1, 0);
    pg_og_check_clear(&c);
    /* (out, fight if in): a Nash equilibrium held up by an off-path threat; passes the Nash check
     * because the threat is never tested. The entrant's deviation is judged against it. */
    pg_og_profile_set_pure(p, n[0], 0, 0, NULL);
    pg_og_profile_set_pure(p, n[1], PG_OG_ALL, 0, NULL);
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_true(c.equilibrium);
    assert_near(c.decisions[0].payoff, 0, 0);
    assert_near(c.decisions[0].best_payoff, 0, 0);
    pg_og_check_clear(&c);
    /* (in, fight): the incumbent gains 2 by accommodating once the entrant is in. */
    pg_og_profile_set_pure(p, n[0], 0, 1, NULL);
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_false(c.equilibrium);
    assert_false(c.decisions[0].ok); /* and the entrant, facing a fight, gains 1 by staying out */
    assert_near(c.decisions[0].gain, 1, 0);
    assert_near(c.decisions[1].obs[0].payoff, -1, 0);
    assert_near(c.decisions[1].obs[0].best_payoff, 1, 0);
    assert_string_equal(c.decisions[1].obs[0].best_label, "accommodate");
    pg_og_check_clear(&c);
    pg_og_profile_free(p);
    pg_og_free(g);
}

/* Payoffs: stage 1 pays (a1 ? 1 : 0), then a discount of 0.5, then stage 2 pays a forward
 * function of both actions (their sum) doubled by a backward function for player 0. */
static int
sum_fn(const int *in, int *out, void *ud)
{
    (void)ud;
    *out = in[0] + in[1];
    return PG_OK;
}

static int
stage2_pay(const int *in, double *pay, void *ud)
{
    (void)ud;
    pay[0] = in[0];
    return PG_OK;
}

static int
double_it(const int *in, double *u, void *ud)
{
    (void)in;
    (void)ud;
    u[0] *= 2;
    return PG_OK;
}

static int
copy_first(const int *obs, double *probs, void *ud)
{
    (void)ud;
    probs[0] = obs[0] == 0;
    probs[1] = obs[0] == 1;
    return PG_OK;
}

static void
test_discount_functions(void **state)
{
    (void)state;
    const char *players[1] = {"p"};
    pg_og *g = NULL;
    assert_int_equal(pg_og_new(&g, "stages", 1, players, NULL), PG_OK);
    size_t a1, a2, s;
    pg_og_add_variable(g, "a1", 2, NULL, &a1, NULL);
    pg_og_add_variable(g, "a2", 2, NULL, &a2, NULL);
    pg_og_add_variable(g, "sum", 3, NULL, &s, NULL);
    double pay1[2] = {0, 1};
    pg_og_node n[7], root;
    assert_int_equal(pg_og_decision(g, "first", 0, NULL, 0, a1, &n[0], NULL), PG_OK);
    assert_int_equal(pg_og_payoff(g, "stage1", &a1, 1, pay1, &n[1], NULL), PG_OK);
    assert_int_equal(pg_og_discount(g, "wait", 0.5, PG_OG_ALL, &n[2], NULL), PG_OK);
    assert_int_equal(pg_og_decision(g, "second", 0, &a1, 1, a2, &n[3], NULL), PG_OK);
    size_t both[2] = {a1, a2};
    assert_int_equal(pg_og_forward_fn(g, "add", both, 2, s, sum_fn, NULL, &n[4], NULL), PG_OK);
    assert_int_equal(pg_og_backward_fn(g, "risk", NULL, 0, double_it, NULL, &n[5], NULL), PG_OK);
    assert_int_equal(pg_og_payoff_fn(g, "stage2", &s, 1, stage2_pay, NULL, &n[6], NULL), PG_OK);
    assert_int_equal(pg_og_seq(g, "game", n, 7, &root, NULL), PG_OK);
    assert_int_equal(pg_og_set_root(g, root, NULL), PG_OK);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    pg_og_profile_set_pure(p, n[0], 0, 1, NULL);
    assert_int_equal(pg_og_profile_set_fn(p, n[3], copy_first, NULL, NULL), PG_OK);
    /* a1 = 1, a2 = 1: 1 + 0.5 x 2 x (1 + 1) = 3. */
    double v;
    assert_int_equal(pg_og_evaluate(p, &v, NULL), PG_OK);
    assert_near(v, 3, 1e-15);
    double probs[2];
    assert_int_equal(pg_og_profile_get(p, n[3], 0, probs, NULL), PG_OK);
    assert_near(probs[0], 1, 0);
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_true(c.equilibrium);
    /* The second decision reports its own continuation, before the earlier discount: 2 x 2. */
    assert_near(c.decisions[1].obs[0].payoff, 4, 1e-15);
    assert_near(c.decisions[0].payoff, 3, 1e-15);
    pg_og_check_clear(&c);
    /* Playing a1 = 0 (so a2 = 0): 0. "first" would gain 3, "second" 2 (2 x (0 + 1)). */
    pg_og_profile_set_pure(p, n[0], 0, 0, NULL);
    assert_int_equal(pg_og_evaluate(p, &v, NULL), PG_OK);
    assert_near(v, 0, 1e-15);
    assert_int_equal(pg_og_check_equilibrium(p, 1e-12, &c, NULL), PG_OK);
    assert_false(c.equilibrium);
    assert_near(c.decisions[0].gain, 3, 1e-15);
    assert_near(c.decisions[1].obs[0].gain, 2, 1e-15);
    assert_string_equal(c.decisions[1].obs[0].label, "0");
    pg_og_check_clear(&c);
    pg_og_profile_free(p);
    pg_og_free(g);
}

static void
test_learning_proposes_equilibrium(void **state)
{
    (void)state;
    double pay[8] = {1, -1, -1, 1, -1, 1, 1, -1};
    pg_nf *nf = bimatrix("pennies", "H", "T", pay);
    pg_og *g = NULL;
    assert_int_equal(pg_nf_to_og(nf, &g, NULL), PG_OK);
    pg_og_profile *avg = NULL, *last = NULL;
    pg_og_profile_new(&avg, g, NULL);
    pg_og_profile_new(&last, g, NULL);
    /* Regret matching against exact expected payoffs: the average policy ends within 0.01 of
     * (1/2, 1/2) after 5000 rounds and the check verifies it as a 0.02-equilibrium. */
    pg_learn_options o;
    pg_learn_options_init(&o, PG_LEARN_REGRET_MATCHING, 1, 1);
    pg_rng rng;
    pg_rng_seed(&rng, 1, 0);
    assert_int_equal(pg_og_learn(g, &o, 5000, &rng, avg, last, NULL), PG_OK);
    double probs[2];
    pg_og_profile_get(avg, pg_og_find(g, "row"), 0, probs, NULL);
    assert_near(probs[0], 0.5, 0.01);
    pg_og_profile_get(avg, pg_og_find(g, "col"), 0, probs, NULL);
    assert_near(probs[0], 0.5, 0.01);
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(avg, 0.02, &c, NULL), PG_OK);
    assert_true(c.equilibrium);
    pg_og_check_clear(&c);

    /* In the guessing game a single learner finds "follow the signal". */
    pg_og_node guess;
    pg_og *gg = guessing_game(&guess);
    pg_og_profile *gp = NULL;
    pg_og_profile_new(&gp, gg, NULL);
    pg_learn_options_init(&o, PG_LEARN_ROTH_EREV, 1, 1);
    assert_int_equal(pg_og_learn(gg, &o, 4000, &rng, NULL, gp, NULL), PG_OK);
    pg_og_profile_get(gp, guess, 0, probs, NULL);
    assert_true(probs[0] > 0.9);
    pg_og_profile_get(gp, guess, 1, probs, NULL);
    assert_true(probs[1] > 0.6);
    pg_og_profile_free(gp);
    pg_og_free(gg);

    pg_og_profile_free(avg);
    pg_og_profile_free(last);
    pg_og_free(g);
    pg_nf_free(nf);
}

static void
test_information_flow_errors(void **state)
{
    (void)state;
    const char *players[2] = {"a", "b"};
    pg_og *g = NULL;
    pg_error err = {0};
    size_t x, y;
    pg_og_node d1, d2, par, pay, disc, root, extra;

    /* A parallel part may not see its sibling's move. */
    assert_int_equal(pg_og_new(&g, "bad", 2, players, NULL), PG_OK);
    pg_og_add_variable(g, "x", 2, NULL, &x, NULL);
    pg_og_add_variable(g, "y", 2, NULL, &y, NULL);
    pg_og_decision(g, "d1", 0, NULL, 0, x, &d1, NULL);
    pg_og_decision(g, "d2", 1, &x, 1, y, &d2, NULL);
    pg_og_node both[2] = {d1, d2};
    pg_og_par(g, "moves", both, 2, &par, NULL);
    assert_int_equal(pg_og_set_root(g, par, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "reads variable 'x'"));
    assert_non_null(strstr(err.msg, "use seq"));
    pg_og_free(g);

    /* Reading before writing, in play order. */
    assert_int_equal(pg_og_new(&g, "bad", 2, players, NULL), PG_OK);
    pg_og_add_variable(g, "x", 2, NULL, &x, NULL);
    pg_og_add_variable(g, "y", 2, NULL, &y, NULL);
    pg_og_decision(g, "d1", 0, NULL, 0, x, &d1, NULL);
    pg_og_decision(g, "d2", 1, &x, 1, y, &d2, NULL);
    pg_og_node backwards[2] = {d2, d1};
    pg_og_seq(g, "moves", backwards, 2, &root, NULL);
    assert_int_equal(pg_og_set_root(g, root, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "before any node writes it"));
    pg_og_free(g);

    /* Discounting inside a par; a node left out; a node used twice; duplicates. */
    assert_int_equal(pg_og_new(&g, "bad", 2, players, NULL), PG_OK);
    pg_og_add_variable(g, "x", 2, NULL, &x, NULL);
    assert_int_equal(pg_og_add_variable(g, "x", 3, NULL, &y, &err), PG_EMODEL);
    pg_og_decision(g, "d1", 0, NULL, 0, x, &d1, NULL);
    assert_int_equal(pg_og_decision(g, "d1", 1, NULL, 0, x, &d2, &err), PG_EMODEL);
    assert_int_equal(pg_og_decision(g, "d9", 5, NULL, 0, x, &d2, &err), PG_EMODEL);
    pg_og_discount(g, "later", 0.9, PG_OG_ALL, &disc, NULL);
    pg_og_node pd[2] = {d1, disc};
    pg_og_par(g, "p", pd, 2, &par, NULL);
    assert_int_equal(pg_og_set_root(g, par, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "inside par"));
    pg_og_free(g);

    assert_int_equal(pg_og_new(&g, "bad", 2, players, NULL), PG_OK);
    pg_og_add_variable(g, "x", 2, NULL, &x, NULL);
    pg_og_decision(g, "d1", 0, NULL, 0, x, &d1, NULL);
    double table[4] = {1, 0, 0, 1};
    pg_og_payoff(g, "pay", &x, 1, table, &pay, NULL);
    pg_og_discount(g, "unused", 0.9, PG_OG_ALL, &extra, NULL);
    pg_og_node s2[2] = {d1, pay};
    pg_og_seq(g, "game", s2, 2, &root, NULL);
    assert_int_equal(pg_og_set_root(g, root, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "'unused' is not part"));
    pg_og_free(g);

    assert_int_equal(pg_og_new(&g, "bad", 2, players, NULL), PG_OK);
    pg_og_add_variable(g, "x", 2, NULL, &x, NULL);
    pg_og_decision(g, "d1", 0, NULL, 0, x, &d1, NULL);
    pg_og_node s1[1] = {d1};
    pg_og_node inner, outer;
    pg_og_seq(g, "inner", s1, 1, &inner, NULL);
    pg_og_node s3[2] = {inner, d1};
    pg_og_seq(g, "outer", s3, 2, &outer, NULL);
    assert_int_equal(pg_og_set_root(g, outer, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "appears twice"));
    pg_og_free(g);

    /* Bad tables and bad profiles. */
    assert_int_equal(pg_og_new(&g, "bad", 1, players, NULL), PG_OK);
    pg_og_add_variable(g, "x", 2, NULL, &x, NULL);
    double bad_prior[2] = {0.5, 0.6};
    assert_int_equal(pg_og_nature(g, "n", NULL, 0, x, bad_prior, &d1, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "sum to"));
    int bad_fn[1] = {5};
    assert_int_equal(pg_og_forward(g, "f", NULL, 0, x, bad_fn, &d1, &err), PG_EMODEL);
    pg_og_decision(g, "d", 0, NULL, 0, x, &d1, NULL);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, &err), PG_ESTATE);
    assert_int_equal(pg_og_set_root(g, d1, NULL), PG_OK);
    assert_int_equal(pg_og_decision(g, "late", 0, NULL, 0, x, &d2, &err), PG_ESTATE);
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    double neg[2] = {-0.5, 1.5};
    assert_int_equal(pg_og_profile_set_mixed(p, d1, 0, neg, &err), PG_EMODEL);
    assert_int_equal(pg_og_profile_set_pure(p, d1, 0, 2, &err), PG_EINVAL);
    assert_int_equal(pg_og_profile_set_pure(p, d1, 3, 0, &err), PG_EINVAL);
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, -1, &c, &err), PG_EINVAL);
    pg_og_profile_free(p);
    pg_og_free(g);
}

static void
test_exponential_game_refused(void **state)
{
    (void)state;
    /* 24 independent coin flips into 24 variables: 2^24 histories, more than an evaluation may
     * hold. Play and evaluation stop with PG_ELIMIT and say why, instead of exhausting memory. */
    const char *players[1] = {"p"};
    pg_og *g = NULL;
    assert_int_equal(pg_og_new(&g, "coins", 1, players, NULL), PG_OK);
    pg_og_node n[25], root;
    double half[2] = {0.5, 0.5};
    for (int k = 0; k < 24; k++) {
        char name[16];
        size_t v;
        snprintf(name, sizeof name, "c%d", k);
        assert_int_equal(pg_og_add_variable(g, name, 2, NULL, &v, NULL), PG_OK);
        assert_int_equal(pg_og_nature(g, name, NULL, 0, v, half, &n[k], NULL), PG_OK);
    }
    double pay[2] = {0, 1};
    size_t last = 23;
    assert_int_equal(pg_og_payoff(g, "pay", &last, 1, pay, &n[24], NULL), PG_OK);
    assert_int_equal(pg_og_seq(g, "game", n, 25, &root, NULL), PG_OK);
    assert_int_equal(pg_og_set_root(g, root, NULL), PG_OK);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    pg_error err = {0};
    pg_dist *h = NULL;
    assert_int_equal(pg_og_play(p, &h, &err), PG_ELIMIT);
    assert_null(h);
    assert_non_null(strstr(err.msg, "distinct histories"));
    double v;
    assert_int_equal(pg_og_evaluate(p, &v, &err), PG_ELIMIT);
    /* Sampling needs no enumeration and still works. */
    pg_rng rng;
    pg_rng_seed(&rng, 1, 0);
    int vals[24];
    assert_int_equal(pg_og_sample(p, &rng, vals, &v, NULL), PG_OK);
    assert_near(v, vals[23], 0);
    pg_og_profile_free(p);
    pg_og_free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prisoners_dilemma),
        cmocka_unit_test(test_matching_pennies_mixed),
        cmocka_unit_test(test_bayesian_observation),
        cmocka_unit_test(test_entry_game_sequential),
        cmocka_unit_test(test_discount_functions),
        cmocka_unit_test(test_learning_proposes_equilibrium),
        cmocka_unit_test(test_information_flow_errors),
        cmocka_unit_test(test_exponential_game_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
