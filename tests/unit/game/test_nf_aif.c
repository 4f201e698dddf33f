/* The active-inference player in a repeated prisoner's dilemma built with game.h: it learns how
 * its opponent responds and plays accordingly: it defects against unconditional players, and
 * against tit-for-tat it cooperates when it plans two rounds ahead but defects when it looks only
 * one round ahead (it cannot see the retaliation). */
#include "harness.h"

#include <string.h>

#include "plurigrid/aif.h"
#include "plurigrid/game.h"

enum { C = 0, D = 1, ROUNDS = 200 };
enum { ALWAYS_C, ALWAYS_D, TIT_FOR_TAT };

static pg_nf *
prisoners_dilemma(void)
{
    const char *players[2] = {"row", "col"};
    const size_t n[2] = {2, 2};
    pg_nf *g = NULL;
    pg_error err = {0};
    assert_int_equal(pg_nf_new(&g, "pd", 2, players, n, &err), PG_OK);
    const double pay[4][2] = {{3, 3}, {0, 5}, {5, 0}, {1, 1}}; /* CC CD DC DD */
    for (size_t a = 0; a < 2; a++)
        for (size_t b = 0; b < 2; b++) {
            size_t prof[2] = {a, b};
            assert_int_equal(pg_nf_set_payoffs(g, prof, pay[a * 2 + b], &err), PG_OK);
        }
    return g;
}

/* Share of cooperation by the agent over the second half of the rounds. */
static double
play(int opponent, size_t depth, size_t player)
{
    pg_nf *g = prisoners_dilemma();
    pg_aif_options o;
    pg_aif_options_init(&o);
    o.policy_depth = depth;
    o.gamma = 8;
    o.action_selection = PG_AIF_SAMPLE; /* exploring keeps every context learned */
    o.seed = 3;
    o.learn_B_rate = 1;
    pg_aif *ag = NULL;
    pg_error err = {0};
    assert_int_equal(pg_nf_aif_new(&ag, g, player, 1.0, &o, &err), PG_OK);
    pg_aif_game_spec sp;
    pg_aif_game_spec_init(&sp);
    sp.n_actions = 2;
    sp.n_opponent = 2;
    size_t obs[1] = {PG_AIF_MISSING}, mine_before = C;
    int coop = 0, counted = 0;
    for (int t = 0; t < ROUNDS; t++) {
        size_t mine = 0;
        assert_int_equal(pg_aif_step(ag, obs, &mine, &err), PG_OK);
        size_t theirs = opponent == ALWAYS_C ? C : opponent == ALWAYS_D ? D : mine_before;
        if (t >= ROUNDS / 2) {
            counted++;
            coop += mine == C;
        }
        obs[0] = pg_aif_game_outcome(&sp, mine, theirs);
        mine_before = mine;
    }
    pg_aif_free(ag);
    pg_nf_free(g);
    return (double)coop / counted;
}

static void
test_defects_against_unconditional_players(void **state)
{
    (void)state;
    assert_near(play(ALWAYS_C, 2, 0), 0.0, 0.1);
    assert_near(play(ALWAYS_D, 2, 0), 0.0, 0.1);
    assert_near(play(ALWAYS_D, 2, 1), 0.0, 0.1); /* as the column player too */
}

static void
test_cooperates_with_tit_for_tat_when_planning_ahead(void **state)
{
    (void)state;
    double ahead = play(TIT_FOR_TAT, 2, 0), myopic = play(TIT_FOR_TAT, 1, 0);
    print_message("cooperation against tit-for-tat: depth 2 %.2f, depth 1 %.2f\n", ahead, myopic);
    assert_true(ahead > 0.9);
    assert_true(myopic < 0.15);
}

static void
test_refusals(void **state)
{
    (void)state;
    const char *players[3] = {"a", "b", "c"};
    const size_t n[3] = {2, 2, 2};
    pg_nf *g = NULL;
    pg_error err = {0};
    assert_int_equal(pg_nf_new(&g, "three", 3, players, n, &err), PG_OK);
    pg_aif *ag = NULL;
    assert_int_equal(pg_nf_aif_new(&ag, g, 0, 1.0, NULL, &err), PG_EUNSUPPORTED);
    assert_null(ag);
    pg_nf_free(g);
    pg_aif_game_spec sp;
    pg_aif_game_spec_init(&sp);
    double pay[2] = {1, NAN};
    sp.n_actions = 1;
    sp.n_opponent = 2;
    sp.payoff = pay;
    assert_int_equal(pg_aif_game_new(&ag, &sp, NULL, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "payoff 1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defects_against_unconditional_players),
        cmocka_unit_test(test_cooperates_with_tit_for_tat_when_planning_ahead),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
