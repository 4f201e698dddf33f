/* Classic games against known answers, through the library calls and the example files:
 * the prisoner's dilemma has (D, D) as its only pure equilibrium; matching pennies has none in
 * pure strategies and regret matching's average play ends within 0.02 of (1/2, 1/2) after 20000
 * rounds; the coordination game has two pure equilibria and one mixed (3/5, 2/5); truthful
 * bidding is an equilibrium of the second-price auction and not of the first-price one (two and
 * three bidders); Cournot learning reaches the closed-form quantities; grim trigger is subgame
 * perfect in the repeated prisoner's dilemma exactly when the discount is at least 1/2, and
 * tit-for-tat is not. Also: the example files' own expectations hold, reports are reproducible
 * for a seed, and bad files get errors that name the place. */
#include "harness.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/game.h"

static pg_game_report *
analyze(const char *example)
{
    char rel[256];
    snprintf(rel, sizeof rel, "examples/games/%s", example);
    pg_game_report *r = NULL;
    pg_error err = {0};
    int rc = pg_game_file_analyze(pgt_source_path(rel), NULL, &r, &err);
    if (rc) {
        char buf[1400];
        fail_msg("%s", pg_error_format(&err, buf, sizeof buf));
    }
    return r;
}

static const pg_game_profile_report *
find_profile(const pg_game_report *r, const char *prefix)
{
    for (size_t i = 0; i < r->n_profiles; i++)
        if (strncmp(r->profiles[i].name, prefix, strlen(prefix)) == 0)
            return &r->profiles[i];
    fail_msg("report has no profile starting '%s'", prefix);
    return NULL;
}

static size_t
count_source(const pg_game_report *r, const char *source)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_profiles; i++)
        n += strcmp(r->profiles[i].source, source) == 0;
    return n;
}

static void
test_prisoners_dilemma(void **state)
{
    (void)state;
    pg_game_report *r = analyze("prisoners-dilemma.json");
    assert_string_equal(r->kind, "normal-form");
    assert_int_equal(r->n_pure, 1);
    assert_int_equal(r->n_extreme, 1); /* no mixed equilibrium either */
    const pg_game_profile_report *p = find_profile(r, "pure equilibrium 1");
    assert_int_equal(p->n_probs, 4);
    double dd[4] = {0, 1, 0, 1};
    assert_memory_equal(p->probs, dd, sizeof dd);
    assert_true(p->check.equilibrium);
    assert_string_equal(p->description, "row: D; col: D");
    const pg_game_profile_report *cc = find_profile(r, "mutual cooperation");
    assert_false(cc->check.equilibrium);
    assert_near(cc->check.decisions[0].payoff, 3, 1e-12);
    assert_near(cc->check.decisions[0].best_payoff, 5, 1e-12);
    assert_string_equal(cc->check.decisions[0].obs[0].best_label, "D");
    assert_int_equal(r->n_failed, 0);
    pg_game_report_free(r);
}

static void
test_matching_pennies(void **state)
{
    (void)state;
    pg_game_report *r = analyze("matching-pennies.json");
    assert_int_equal(r->n_pure, 0);
    assert_int_equal(r->n_extreme, 1);
    const pg_game_profile_report *m = find_profile(r, "mixed equilibrium 1");
    for (int k = 0; k < 4; k++)
        assert_near(m->probs[k], 0.5, 1e-12);
    /* Known answer: after 20000 rounds (seed 1) regret matching's average is within 0.02 of
     * one half for both players. */
    const pg_game_profile_report *rm = find_profile(r, "regret-matching (average policy after "
                                                       "20000 rounds)");
    assert_near(rm->probs[0], 0.5, 0.02);
    assert_near(rm->probs[2], 0.5, 0.02);
    assert_near(rm->probs[0] + rm->probs[1], 1, 1e-9);
    assert_true(rm->check.equilibrium); /* within the file's tolerance 0.04 */
    assert_int_equal(r->n_failed, 0);
    pg_game_report_free(r);
}

static void
test_coordination(void **state)
{
    (void)state;
    pg_game_report *r = analyze("battle-of-the-sexes.json");
    assert_int_equal(r->n_pure, 2);
    assert_int_equal(r->n_extreme, 3);
    double oo[4] = {1, 0, 1, 0}, ff[4] = {0, 1, 0, 1};
    assert_memory_equal(find_profile(r, "pure equilibrium 1")->probs, oo, sizeof oo);
    assert_memory_equal(find_profile(r, "pure equilibrium 2")->probs, ff, sizeof ff);
    const pg_game_profile_report *m = find_profile(r, "mixed equilibrium 1");
    assert_near(m->probs[0], 0.6, 1e-12);
    assert_near(m->probs[2], 0.4, 1e-12);
    assert_int_equal(count_source(r, "vertex-enumeration"), 1);
    assert_int_equal(r->n_failed, 0);
    pg_game_report_free(r);
}

/* Truthful bidding (bid = value at every value) in an auction built by the library. */
static void
auction_truthful(pg_game_auction_rule rule, size_t bidders, size_t n_values, bool *eq, double *gain)
{
    double values[16], prior[16];
    for (size_t k = 0; k < n_values; k++) {
        values[k] = (double)k;
        prior[k] = 1.0 / (double)n_values;
    }
    pg_og *g = NULL;
    assert_int_equal(
        pg_game_auction(&g, rule, bidders, values, n_values, prior, values, n_values, NULL), PG_OK);
    assert_int_equal(pg_og_n_decisions(g), bidders);
    pg_og_profile *p = NULL;
    assert_int_equal(pg_og_profile_new(&p, g, NULL), PG_OK);
    for (size_t i = 0; i < bidders; i++) {
        pg_og_node d = pg_og_decision_at(g, i);
        assert_int_equal(pg_og_n_observations(g, d), n_values);
        for (size_t v = 0; v < n_values; v++)
            assert_int_equal(pg_og_profile_set_pure(p, d, v, v, NULL), PG_OK);
    }
    pg_og_check c;
    assert_int_equal(pg_og_check_equilibrium(p, 1e-9, &c, NULL), PG_OK);
    *eq = c.equilibrium;
    *gain = c.max_gain;
    pg_og_check_clear(&c);
    pg_og_profile_free(p);
    pg_og_free(g);
}

static void
test_auctions(void **state)
{
    (void)state;
    pg_game_report *r = analyze("auction-second-price.json");
    assert_true(find_profile(r, "truthful bidding")->check.equilibrium);
    assert_int_equal(r->n_failed, 0);
    pg_game_report_free(r);
    r = analyze("auction-first-price.json");
    const pg_game_profile_report *t = find_profile(r, "truthful bidding");
    assert_false(t->check.equilibrium);
    /* With value 4 against a truthful rival, bidding 2 wins against values 0 and 1 and ties at
     * 2: (0.4 + 0.1) x (4 - 2) = 1. */
    assert_near(t->check.max_gain, 1.0, 1e-12);
    /* Shading (bid 0 with value 0 or 1, else 1) is an equilibrium, and regret matching's average
     * after 20000 rounds is within 0.02 of one. */
    assert_true(find_profile(r, "shading")->check.equilibrium);
    const pg_game_profile_report *rm = find_profile(r, "regret-matching");
    assert_true(rm->check.equilibrium);
    assert_true(rm->check.max_gain > 0 && rm->check.max_gain < 0.02);
    assert_int_equal(r->n_failed, 0);
    pg_game_report_free(r);

    bool eq;
    double gain;
    auction_truthful(PG_GAME_AUCTION_SECOND_PRICE, 2, 7, &eq, &gain);
    assert_true(eq);
    auction_truthful(PG_GAME_AUCTION_SECOND_PRICE, 3, 6, &eq, &gain);
    assert_true(eq);
    auction_truthful(PG_GAME_AUCTION_FIRST_PRICE, 3, 6, &eq, &gain);
    assert_false(eq);
    assert_true(gain > 0.1);
}

static void
test_cournot(void **state)
{
    (void)state;
    double costs[2] = {10, 22}, q[2];
    pg_nf_cournot_equilibrium(100, 1, costs, 2, q);
    assert_near(q[0], 34, 1e-12);
    assert_near(q[1], 22, 1e-12);
    pg_nf *g = NULL;
    assert_int_equal(pg_nf_cournot(&g, 100, 1, costs, 2, 60, 60, NULL), PG_OK);
    /* The grid game's pure equilibria: the closed form and its two tie neighbours. */
    size_t *eq = NULL, n = 0;
    assert_int_equal(pg_nf_pure_equilibria(g, 1e-9, &eq, &n, NULL), PG_OK);
    assert_int_equal(n, 3);
    size_t want[6] = {33, 23, 34, 22, 35, 21};
    assert_memory_equal(eq, want, sizeof want);
    free(eq);
    /* Fictitious play and best-response dynamics end on the closed form, within one grid step,
     * at an equilibrium of the grid game. */
    pg_learn_rule rules[2] = {PG_LEARN_FICTITIOUS_PLAY, PG_LEARN_BEST_RESPONSE};
    for (int k = 0; k < 2; k++) {
        pg_learn_options o;
        pg_learn_options_init(&o, rules[k], 1, 1);
        pg_rng rng;
        pg_rng_seed(&rng, 5, (uint64_t)k);
        pg_nf_learning l;
        assert_int_equal(pg_nf_learn(g, &o, 3000, &rng, &l, NULL), PG_OK);
        double qa = (double)l.last_play[0], qb = (double)l.last_play[1];
        assert_true(fabs(qa - 34) <= 1 && fabs(qb - 22) <= 1);
        double gains[2];
        assert_int_equal(pg_nf_gains(g, l.last, gains, NULL), PG_OK);
        assert_near(gains[0], 0, 1e-9);
        assert_near(gains[1], 0, 1e-9);
        pg_nf_learning_clear(&l);
    }
    pg_nf_free(g);

    /* The example file: its expectations hold; its best-response run lands on (34, 22). */
    pg_game_report *r = analyze("cournot-duopoly.json");
    assert_int_equal(r->n_pure, 3);
    assert_int_equal(r->n_failed, 0);
    const pg_game_profile_report *br = find_profile(r, "best-response");
    assert_near(br->probs[34], 1, 0);
    assert_near(br->probs[61 + 22], 1, 0);
    pg_game_report_free(r);
}

/* The memory-one repeated prisoner's dilemma: states start, CC, CD, DC, DD. */
static pg_mg *
repeated_pd(double discount)
{
    const char *players[2] = {"row", "col"}, *states[5] = {"start", "CC", "CD", "DC", "DD"};
    size_t na[2] = {2, 2};
    pg_mg *g = NULL;
    assert_int_equal(pg_mg_new(&g, "rpd", 2, players, na, 5, states, discount, NULL), PG_OK);
    const double pay[4][2] = {{3, 3}, {0, 5}, {5, 0}, {1, 1}};
    for (size_t s = 0; s < 5; s++)
        for (size_t a = 0; a < 2; a++)
            for (size_t b = 0; b < 2; b++) {
                size_t prof[2] = {a, b};
                double next[5] = {0};
                next[1 + a * 2 + b] = 1;
                assert_int_equal(pg_mg_set(g, s, prof, pay[a * 2 + b], next, NULL), PG_OK);
            }
    return g;
}

/* A pure memory-one policy for both players: coop[s] = 1 when the player cooperates in s. */
static void
policy(const pg_mg *g, const int *row, const int *col, double *pol)
{
    for (size_t s = 0; s < 5; s++) {
        pol[pg_mg_policy_offset(g, 0) + 2 * s] = row[s];
        pol[pg_mg_policy_offset(g, 0) + 2 * s + 1] = 1 - row[s];
        pol[pg_mg_policy_offset(g, 1) + 2 * s] = col[s];
        pol[pg_mg_policy_offset(g, 1) + 2 * s + 1] = 1 - col[s];
    }
}

static bool
spe(double discount, const int *row, const int *col, double *gain)
{
    pg_mg *g = repeated_pd(discount);
    double pol[20];
    assert_int_equal(pg_mg_policy_size(g), 20);
    policy(g, row, col, pol);
    pg_og_check c;
    assert_int_equal(pg_mg_check(g, pol, 1e-9, &c, NULL), PG_OK);
    bool ok = c.equilibrium;
    if (gain)
        *gain = c.max_gain;
    assert_int_equal(c.n_decisions, 2);
    assert_int_equal(c.decisions[0].n_obs, 5); /* every state is checked */
    pg_og_check_clear(&c);
    pg_mg_free(g);
    return ok;
}

static void
test_markov_prisoners_dilemma(void **state)
{
    (void)state;
    const int grim[5] = {1, 1, 0, 0, 0}, defect[5] = {0, 0, 0, 0, 0};
    const int tft_row[5] = {1, 1, 0, 1, 0}, tft_col[5] = {1, 1, 1, 0, 0};
    /* Grim trigger is subgame perfect iff delta >= (T - R) / (T - P) = 1/2. */
    assert_true(spe(0.9, grim, grim, NULL));
    assert_true(spe(0.5, grim, grim, NULL));
    double gain;
    assert_false(spe(0.4, grim, grim, &gain));
    /* At delta 0.4, defecting from CC earns 5 + .4/.6 instead of 3/.6: a gain of 2/3. */
    assert_near(gain, 5 + 0.4 / 0.6 - 3 / 0.6, 1e-9);
    assert_true(spe(0.9, defect, defect, NULL));
    assert_true(spe(0.1, defect, defect, NULL));
    assert_false(spe(0.9, tft_row, tft_col, NULL));

    /* Values: always defect is worth 1/(1 - delta) everywhere; grim 3/(1 - delta) from CC. */
    pg_mg *g = repeated_pd(0.9);
    double pol[20], V[10];
    policy(g, defect, defect, pol);
    assert_int_equal(pg_mg_values(g, pol, V, NULL), PG_OK);
    for (int k = 0; k < 10; k++)
        assert_near(V[k], 10, 1e-9);
    policy(g, grim, grim, pol);
    assert_int_equal(pg_mg_values(g, pol, V, NULL), PG_OK);
    assert_near(V[1 * 2 + 0], 30, 1e-9);
    assert_near(V[2 * 2 + 1], 10, 1e-9);
    /* Q-learning runs and returns a pure policy, the same for the same seed. */
    pg_learn_options o;
    pg_learn_options_init(&o, PG_LEARN_Q_LEARNING, 1, 1);
    double a[20], b[20];
    pg_rng r1, r2;
    pg_rng_seed(&r1, 3, 0);
    pg_rng_seed(&r2, 3, 0);
    assert_int_equal(pg_mg_learn(g, &o, 20000, 0, &r1, a, NULL), PG_OK);
    assert_int_equal(pg_mg_learn(g, &o, 20000, 0, &r2, b, NULL), PG_OK);
    assert_memory_equal(a, b, sizeof a);
    for (int k = 0; k < 20; k += 2)
        assert_near(a[k] + a[k + 1], 1, 0);
    pg_mg_free(g);

    /* The example: three pure stationary subgame-perfect profiles with memory one. */
    pg_game_report *r = analyze("markov-prisoners-dilemma.json");
    assert_int_equal(r->n_pure, 3);
    assert_int_equal(r->n_failed, 0);
    pg_game_report_free(r);
}

static void
test_examples_hold_and_reproduce(void **state)
{
    (void)state;
    /* Every classic example's own expectations hold (other files in the folder are scenarios). */
    const char *dir = pgt_source_path("examples/games");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t tlen = 0;
        char *ftext = pgt_slurp(path, &tlen);
        bool classic = pg_game_text_is_classic(ftext, tlen);
        free(ftext);
        if (!classic)
            continue;
        pg_game_report *r = NULL;
        pg_error err = {0};
        assert_int_equal(pg_game_file_analyze(path, NULL, &r, &err), PG_OK);
        if (r->n_failed)
            fail_msg("%s: %zu expectations do not hold", e->d_name, r->n_failed);
        char *text = NULL, *json = NULL;
        assert_int_equal(pg_game_report_text(r, &text, NULL), PG_OK);
        assert_int_equal(pg_game_report_json(r, &json, NULL), PG_OK);
        assert_non_null(strstr(json, "\"format\": \"plurigrid-game-report/1\""));
        assert_non_null(strstr(text, r->name));
        free(text);
        free(json);
        pg_game_report_free(r);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 8);

    /* Same seed: the same report, byte for byte; another seed: other learning results. */
    pg_game_options o;
    pg_game_options_init(&o);
    char *j1, *j2, *j3;
    pg_game_report *r1, *r2, *r3;
    const char *mp = pgt_source_path("examples/games/matching-pennies.json");
    assert_int_equal(pg_game_file_analyze(mp, &o, &r1, NULL), PG_OK);
    assert_int_equal(pg_game_file_analyze(mp, &o, &r2, NULL), PG_OK);
    o.seed = 2;
    assert_int_equal(pg_game_file_analyze(mp, &o, &r3, NULL), PG_OK);
    pg_game_report_json(r1, &j1, NULL);
    pg_game_report_json(r2, &j2, NULL);
    pg_game_report_json(r3, &j3, NULL);
    assert_string_equal(j1, j2);
    assert_true(strcmp(j1, j3) != 0);
    free(j1);
    free(j2);
    free(j3);
    pg_game_report_free(r1);
    pg_game_report_free(r2);
    pg_game_report_free(r3);

    /* Learning off: only the file's profiles and the enumeration. */
    o.learning = false;
    assert_int_equal(pg_game_file_analyze(mp, &o, &r1, NULL), PG_OK);
    assert_int_equal(count_source(r1, "learning"), 0);
    pg_game_report_free(r1);
}

static void
expect_error(const char *text, int code, const char *path, const char *words)
{
    pg_game_report *r = NULL;
    pg_error err = {0};
    int rc = pg_game_text_analyze(text, strlen(text), "bad.json", NULL, &r, &err);
    if (rc != code)
        fail_msg("expected status %d, got %d (%s) for %s", code, rc, err.msg, text);
    assert_null(r);
    assert_string_equal(err.file, "bad.json");
    if (path && strcmp(err.path, path) != 0)
        fail_msg("error path '%s', expected '%s' (%s)", err.path, path, err.msg);
    if (words && !strstr(err.msg, words))
        fail_msg("error message '%s' lacks '%s'", err.msg, words);
}

#define NF_HEAD                                                                                    \
    "{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"normal-form\", "              \
    "\"players\": [{\"name\": \"a\", \"actions\": [\"x\", \"y\"]}, {\"name\": \"b\", "             \
    "\"actions\": [\"x\", \"y\"]}], "

static void
test_bad_files(void **state)
{
    (void)state;
    expect_error("{\"format\": \"plurigrid-game/1\",\n \"name\": }", PG_EPARSE, NULL,
                 "not valid JSON");
    pg_game_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_game_text_analyze("{\n\n  \"name\": ]", 14, "bad.json", NULL, &r, &err),
                     PG_EPARSE);
    assert_int_equal(err.line, 3);
    expect_error("{\"format\": \"plurigrid-world/1\", \"name\": \"g\", \"kind\": \"open\"}",
                 PG_EPARSE, "$.format", "plurigrid-game/1");
    expect_error("{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"poker\"}",
                 PG_EPARSE, "$.kind", "unknown kind");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0],[1,1]]], \"colour\": 1}", PG_EPARSE,
                 "$.colour", "unknown key 'colour'");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0]]]}", PG_EPARSE, "$.payoffs[1]",
                 "needs 2 entries");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0],[1,\"x\"]]]}", PG_EPARSE,
                 "$.payoffs[1][1][1]", "must be a number");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0],[1,1]]], \"profiles\": [{\"name\": "
                         "\"p\", \"play\": {\"a\": \"z\", \"b\": \"x\"}}]}",
                 PG_EPARSE, "$.profiles[0].play.a", "has no action 'z'");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0],[1,1]]], \"profiles\": [{\"name\": "
                         "\"p\", \"play\": {\"a\": \"x\"}}]}",
                 PG_EPARSE, "$.profiles[0].play", "no strategy for decision 'b'");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0],[1,1]]], \"profiles\": [{\"name\": "
                         "\"p\", \"play\": {\"a\": {\"mix\": {\"x\": 0.5, \"y\": 0.6}}, \"b\": "
                         "\"x\"}}]}",
                 PG_EPARSE, "$.profiles[0].play.a.mix", "sum to");
    expect_error(NF_HEAD "\"payoffs\": [[[1,1],[0,0]],[[0,0],[1,1]]], \"learning\": [{\"rule\": "
                         "\"telepathy\"}]}",
                 PG_EPARSE, "$.learning[0].rule", "unknown rule");
    expect_error("{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"open\", "
                 "\"players\": [\"p\"], \"variables\": [{\"name\": \"v\", \"values\": [\"a\"]}], "
                 "\"game\": {\"seq\": [{\"decision\": \"d\", \"player\": \"p\", \"observes\": "
                 "[\"v\"], \"output\": \"v\"}]}}",
                 PG_EMODEL, NULL, "before any node writes it");
    expect_error("{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"open\", "
                 "\"players\": [\"p\"], \"variables\": [{\"name\": \"v\", \"values\": [\"a\"]}], "
                 "\"game\": {\"seq\": [{\"decision\": \"d\", \"player\": \"q\", \"output\": "
                 "\"v\"}]}}",
                 PG_EPARSE, "$.game.seq[0].player", "no player 'q'");
    expect_error("{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"auction\", "
                 "\"rule\": \"first-price\", \"bidders\": 2, \"values\": [0, 1], \"prior\": "
                 "[0.5, 0.6], \"bids\": [0, 1]}",
                 PG_EMODEL, "$.prior", "sum to");
    expect_error("{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"markov\", "
                 "\"players\": [{\"name\": \"a\", \"actions\": [\"x\"]}], \"states\": [\"s\"], "
                 "\"discount\": 0.5, \"payoffs\": [[1]], \"next\": [\"t\"]}",
                 PG_EPARSE, "$.next[0]", "no state 't'");

    /* Files: unreadable, and the classic/scenario test. */
    assert_int_equal(pg_game_file_analyze("/nonexistent/game.json", NULL, &r, &err), PG_EIO);
    assert_string_equal(err.file, "/nonexistent/game.json");
    size_t len = 0;
    char *entry = pgt_slurp(pgt_source_path("examples/games/entry-game.json"), &len);
    assert_true(pg_game_text_is_classic(entry, len));
    free(entry);
}

/* Errors in well-formed files name the line and column of the offending value too, whether the
 * reader found them (a state that does not exist) or the game builder did (a prior that does not
 * sum to 1, a decision that observes a variable nothing has written yet). */
static void
test_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code, line, column;
        const char *path, *words;
    } cases[] = {
        {"{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"markov\",\n"
         " \"players\": [{\"name\": \"a\", \"actions\": [\"x\", \"y\"]}],\n"
         " \"states\": [\"s\"], \"discount\": 0.5,\n"
         " \"payoffs\": [[1], [2]],\n"
         " \"next\": [\"s\",\n"
         "          \"t\"]}",
         PG_EPARSE, 6, 11, "$.next[1]", "no state 't'"},
        {"{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"auction\",\n"
         " \"rule\": \"first-price\", \"bidders\": 2, \"values\": [0, 1],\n"
         " \"prior\": [0.5, 0.6],\n"
         " \"bids\": [0, 1]}",
         PG_EMODEL, 3, 11, "$.prior", "sum to"},
        {"{\"format\": \"plurigrid-game/1\", \"name\": \"g\", \"kind\": \"open\",\n"
         " \"players\": [\"p\"], \"variables\": [{\"name\": \"v\", \"values\": [\"a\"]}],\n"
         " \"game\":\n"
         "   {\"seq\": [{\"decision\": \"d\", \"player\": \"p\", \"observes\": [\"v\"], "
         "\"output\": \"v\"}]}}",
         PG_EMODEL, 4, 4, "$.game", "before any node writes it"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pg_game_report *r = NULL;
        pg_error err = {0};
        int rc =
            pg_game_text_analyze(cases[i].text, strlen(cases[i].text), "bad.json", NULL, &r, &err);
        char buf[1400];
        if (rc != cases[i].code || err.line != cases[i].line || err.column != cases[i].column ||
            strcmp(err.path, cases[i].path) != 0 || !strstr(err.msg, cases[i].words))
            fail_msg("case %zu: got %d \"%s\"; want %d at line %d, column %d, %s: ...%s...", i, rc,
                     pg_error_format(&err, buf, sizeof buf), cases[i].code, cases[i].line,
                     cases[i].column, cases[i].path, cases[i].words);
        assert_null(r);
        assert_string_equal(err.file, "bad.json");
    }
}

/* ---------------------------------------------------------------- what the report says */

/* An n x n coordination game (1 when both pick the same action, else 0), as file text. */
static char *
coordination(size_t n)
{
    size_t cap = 256 + n * n * 16 + n * 24;
    char *t = malloc(cap), *p = t;
    assert_non_null(t);
    p += sprintf(p,
                 "{\"format\": \"plurigrid-game/1\", \"name\": \"coord%zu\", \"kind\": "
                 "\"normal-form\", \"players\": [",
                 n);
    for (int k = 0; k < 2; k++) {
        p += sprintf(p, "%s{\"name\": \"%s\", \"actions\": [", k ? ", " : "", k ? "col" : "row");
        for (size_t a = 0; a < n; a++)
            p += sprintf(p, "%s\"a%zu\"", a ? ", " : "", a);
        p += sprintf(p, "]}");
    }
    p += sprintf(p, "], \"payoffs\": [");
    for (size_t i = 0; i < n; i++) {
        p += sprintf(p, "%s[", i ? ", " : "");
        for (size_t j = 0; j < n; j++)
            p += sprintf(p, "%s[%d, %d]", j ? ", " : "", i == j, i == j);
        p += sprintf(p, "]");
    }
    sprintf(p, "]}");
    return t;
}

static bool
has_note(const pg_game_report *r, const char *words)
{
    for (size_t i = 0; i < r->n_notes; i++)
        if (strstr(r->notes[i], words))
            return true;
    return false;
}

static void
print_notes(const pg_game_report *r)
{
    for (size_t i = 0; i < r->n_notes; i++)
        print_message("note: %s\n", r->notes[i]);
}

/* A 5 x 5 coordination game has 31 equilibria: uniform play on both sides over any non-empty
 * set of actions. 26 are mixed; the report lists 20 and says how many it left out. */
static void
test_listing_says_what_it_left_out(void **state)
{
    (void)state;
    char *text = coordination(5);
    pg_game_options o;
    pg_game_options_init(&o);
    o.learning = false;
    pg_game_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_game_text_analyze(text, strlen(text), "coord.json", &o, &r, &err), PG_OK);
    assert_int_equal(r->n_pure, 5);
    assert_int_equal(r->n_extreme, 31);
    assert_int_equal(count_source(r, "vertex-enumeration"), 20);
    print_notes(r);
    assert_true(has_note(r, "26 mixed equilibria; the first 20 are listed, 6 are left out"));
    pg_game_report_free(r);
    free(text);
}

/* A game too large for the vertex method says how many bases it has in words, never "inf". */
static void
test_huge_game_counts_said_clearly(void **state)
{
    (void)state;
    char *text = coordination(600);
    pg_game_options o;
    pg_game_options_init(&o);
    o.learning = false;
    pg_game_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_game_text_analyze(text, strlen(text), "big.json", &o, &r, &err), PG_OK);
    print_notes(r);
    /* C(1200, 600) = 3.96 x 10^359 */
    assert_true(has_note(r, "a 600 x 600 game has about 4.0 x 10^359 bases"));
    for (size_t i = 0; i < r->n_notes; i++)
        assert_null(strstr(r->notes[i], "inf"));
    pg_game_report_free(r);
    free(text);
}

/* Every probability and gain in the JSON report reads back to the double in the report. */
static void
test_json_round_trips(void **state)
{
    (void)state;
    pg_game_options o;
    pg_game_options_init(&o);
    o.rounds = 777; /* learned averages: doubles of every digit */
    pg_game_report *r = NULL;
    pg_error err = {0};
    const char *mp = pgt_source_path("examples/games/battle-of-the-sexes.json");
    assert_int_equal(pg_game_file_analyze(mp, &o, &r, &err), PG_OK);
    char *json = NULL;
    assert_int_equal(pg_game_report_json(r, &json, &err), PG_OK);
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    assert_non_null(v);
    json_t *profiles = json_object_get(v, "profiles");
    assert_int_equal(json_array_size(profiles), r->n_profiles);
    size_t compared = 0, differ = 0;
    for (size_t i = 0; i < r->n_profiles; i++) {
        json_t *p = json_array_get(profiles, i);
        json_t *probs = json_object_get(p, "probabilities");
        assert_int_equal(json_array_size(probs), r->profiles[i].n_probs);
        for (size_t k = 0; k < r->profiles[i].n_probs; k++, compared++)
            differ += json_number_value(json_array_get(probs, k)) != r->profiles[i].probs[k];
        differ +=
            json_number_value(json_object_get(p, "max_gain")) != r->profiles[i].check.max_gain;
    }
    assert_true(compared > 10);
    assert_int_equal(differ, 0);
    json_decref(v);
    free(json);
    pg_game_report_free(r);
}

typedef struct seen {
    size_t calls, last_done, last_total, regret;
    char last_what[160];
    bool backwards;
} seen;

static void
on_progress(const char *what, size_t done, size_t total, void *ud)
{
    seen *s = ud;
    if (s->calls && strcmp(what, s->last_what) == 0 && done <= s->last_done)
        s->backwards = true;
    snprintf(s->last_what, sizeof s->last_what, "%s", what);
    s->calls++;
    s->last_done = done;
    s->last_total = total;
    s->regret += strstr(what, "regret-matching") != NULL;
}

static void
test_learning_progress_and_rounds_cap(void **state)
{
    (void)state;
    pg_game_options o;
    pg_game_options_init(&o);
    seen s = {0};
    o.progress = on_progress;
    o.progress_ud = &s;
    o.rounds = 400000;
    pg_game_report *r = NULL;
    pg_error err = {0};
    const char *pd = pgt_source_path("examples/games/prisoners-dilemma.json");
    assert_int_equal(pg_game_file_analyze(pd, &o, &r, &err), PG_OK);
    pg_game_report_free(r);
    /* two runs, each reported along the way and at its end */
    assert_true(s.calls >= 4);
    assert_true(s.regret >= 2);
    assert_false(s.backwards);
    assert_int_equal(s.last_done, 400000);
    assert_int_equal(s.last_total, 400000);

    /* the one cap on rounds, for options as for files */
    o.progress = NULL;
    o.rounds = PG_GAME_MAX_ROUNDS + 1;
    assert_int_equal(pg_game_file_analyze(pd, &o, &r, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "must be a whole number from 1 to 100000000"));
}

static void
test_classic_told_from_text(void **state)
{
    (void)state;
    const char *c = "{\"format\": \"plurigrid-game/1\", \"name\": \"x\"}";
    const char *s = "{\"name\": \"x\", \"format\": \"plurigrid-scenario/1\"}";
    assert_true(pg_game_text_is_classic(c, strlen(c)));
    assert_false(pg_game_text_is_classic(s, strlen(s)));
    assert_false(pg_game_text_is_classic("{\"format\": ", 11));
    assert_false(pg_game_text_is_classic("", 0));
    assert_false(pg_game_text_is_classic(NULL, 0));
    /* only the first len bytes count */
    assert_false(pg_game_text_is_classic(c, 20));
}

/* Every allocation of an analysis (with short learning runs) and of its reports may fail: the
 * call says so and leaks nothing. A two-player game, an open game and an auction. */
static void
alloc_failures_of(const char *example)
{
    size_t len = 0;
    char rel[256];
    snprintf(rel, sizeof rel, "examples/games/%s", example);
    char *text = pgt_slurp(pgt_source_path(rel), &len);
    pg_game_options o;
    pg_game_options_init(&o);
    o.rounds = 8;
    pg_game_report *r = NULL;
    char *json = NULL, *words = NULL;
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_game_text_analyze(text, len, "bos.json", &o, &r, &err), PG_OK);
    assert_int_equal(pg_game_report_json(r, &json, &err), PG_OK);
    assert_int_equal(pg_game_report_text(r, &words, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pg_game_report_free(r);
    free(json);
    free(words);
    print_message("%s: %ld allocations\n", example, n);
    assert_true(n > 10);
    for (long k = 0; k < n; k++) {
        r = NULL;
        json = words = NULL;
        pgt_alloc_fail_after(k);
        int a = pg_game_text_analyze(text, len, "bos.json", &o, &r, &err);
        int b = a ? a : pg_game_report_json(r, &json, &err);
        int c = a ? a : pg_game_report_text(r, &words, &err);
        pgt_alloc_fail_after(-1);
        assert_true(a == PG_OK || a == PG_ENOMEM);
        assert_true(a == PG_OK || r == NULL);
        assert_true(b == PG_OK || b == PG_ENOMEM);
        assert_true(c == PG_OK || c == PG_ENOMEM);
        assert_true(a != PG_OK || b != PG_OK || c != PG_OK);
        pg_game_report_free(r);
        free(json);
        free(words);
    }
    free(text);
}

static void
test_allocation_failures(void **state)
{
    (void)state;
    alloc_failures_of("battle-of-the-sexes.json");
    alloc_failures_of("entry-game.json");
    alloc_failures_of("auction-second-price.json");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prisoners_dilemma),
        cmocka_unit_test(test_matching_pennies),
        cmocka_unit_test(test_coordination),
        cmocka_unit_test(test_auctions),
        cmocka_unit_test(test_cournot),
        cmocka_unit_test(test_markov_prisoners_dilemma),
        cmocka_unit_test(test_examples_hold_and_reproduce),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_listing_says_what_it_left_out),
        cmocka_unit_test(test_huge_game_counts_said_clearly),
        cmocka_unit_test(test_json_round_trips),
        cmocka_unit_test(test_learning_progress_and_rounds_cap),
        cmocka_unit_test(test_classic_told_from_text),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
