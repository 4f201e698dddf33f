/* The scenario simulator: a deterministic scenario against the same dynamics written out here;
 * negotiated commitments; learning agents (Roth-Erev, Q-learning, active inference) finding the
 * better action; alliance reward sharing teaching an agent to help its ally; the same results
 * for a seed with 1, 2 and 4 threads (bitwise for the JSON report); a run's result independent
 * of how many runs are made; the resilience metrics of each run. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/scenario.h"

static pg_scenario *
parse(const char *text)
{
    pg_scenario *s = NULL;
    pg_error err = {0};
    if (pg_scenario_parse(text, strlen(text), "test.json", &s, &err)) {
        char buf[1400];
        fail_msg("%s", pg_error_format(&err, buf, sizeof buf));
    }
    return s;
}

static pg_scenario_result *
run(const pg_scenario *s, size_t runs, size_t threads, uint64_t seed)
{
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    o.runs = runs;
    o.threads = threads;
    o.set_seed = true;
    o.seed = seed;
    pg_scenario_result *r = NULL;
    pg_error err = {0};
    if (pg_scenario_run(s, &o, &r, &err))
        fail_msg("pg_scenario_run: %s", err.msg);
    return r;
}

/* ---------------------------------------------------------------- deterministic dynamics */

static const char *det_text =
    "{\"format\": \"plurigrid-scenario/1\", \"name\": \"det\", \"turns\": 12, \"runs\": 2,\n"
    " \"variables\": [\n"
    "   {\"name\": \"x\", \"initial\": 0.5, \"baseline\": 0.5, \"decay\": 0.5},\n"
    "   {\"name\": \"y\", \"initial\": 0.2}],\n"
    " \"indicators\": [{\"name\": \"perf\", \"terms\": {\"x\": 1, \"y\": 2}, \"offset\": 0.1}],\n"
    " \"agents\": [\n"
    "   {\"name\": \"A\", \"actions\": [\"push\", \"rest\"],\n"
    "    \"strategy\": {\"kind\": \"fixed\", \"action\": \"push\"}},\n"
    "   {\"name\": \"B\", \"actions\": [\"help\", \"none\"],\n"
    "    \"strategy\": {\"kind\": \"fixed\", \"action\": \"none\"}}],\n"
    " \"shocks\": [{\"name\": \"hit\", \"turn\": 5, \"duration\": 2,\n"
    "   \"onset\": [{\"var\": \"x\", \"add\": -0.3}],\n"
    "   \"during\": [{\"var\": \"y\", \"add\": -0.02, \"per\": {\"x\": 0.1}}]}],\n"
    " \"rules\": [\n"
    "   {\"when\": {\"A\": \"push\"}, \"effects\": [{\"var\": \"x\", \"add\": 0.1}]},\n"
    "   {\"when\": {\"A\": \"push\", \"B\": \"help\"}, \"effects\": [{\"var\": \"y\", \"add\": "
    "0.05}]},\n"
    "   {\"if\": [{\"quantity\": \"x\", \"above\": 0.6}], \"effects\": [{\"var\": \"y\", \"add\": "
    "0.01}]},\n"
    "   {\"if\": [{\"shock\": \"hit\"}], \"effects\": [{\"var\": \"x\", \"add\": 0.02}]}],\n"
    " %s,\n"
    " \"resilience\": {\"indicator\": \"perf\", \"recovery_threshold\": 0.99}}\n";

/* The same dynamics written out: rules and shocks read the state at the start of the turn. */
static void
expected_det(double *perf, int helps, size_t turns)
{
    double x = 0.5, y = 0.2;
    perf[0] = 0.1 + x + 2 * y;
    for (size_t t = 1; t <= turns; t++) {
        int active = (t == 5 || t == 6);
        double dx = 0.1, dy = 0;
        if (helps)
            dy += 0.05;
        if (x > 0.6)
            dy += 0.01;
        if (active)
            dx += 0.02;
        if (t == 5)
            dx += -0.3;
        if (active)
            dy += -0.02 + 0.1 * x;
        dx += 0.5 * (0.5 - x);
        x = fmin(1.0, fmax(0.0, x + dx));
        y = fmin(1.0, fmax(0.0, y + dy));
        perf[t] = 0.1 + x + 2 * y;
    }
}

/* templ with its one "%s" replaced by extra (malloc'd). */
static char *
fill(const char *templ, const char *extra)
{
    const char *at = strstr(templ, "%s");
    size_t n = strlen(templ) + strlen(extra) + 1;
    char *t = malloc(n);
    assert_non_null(t);
    memcpy(t, templ, (size_t)(at - templ));
    strcpy(t + (at - templ), extra);
    strcat(t, at + 2);
    return t;
}

static char *
det_with(const char *extra)
{
    return fill(det_text, extra);
}

static void
test_deterministic_dynamics(void **state)
{
    (void)state;
    char *text = det_with("\"seed\": 3");
    pg_scenario *s = parse(text);
    pg_scenario_result *r = run(s, 2, 1, 3);
    double want[13];
    expected_det(want, 0, 12);
    for (size_t k = 0; k < 2; k++) {
        const double *p = pg_scenario_result_performance(r, k);
        for (size_t t = 0; t <= 12; t++)
            assert_near(p[t], want[t], 1e-12);
        assert_int_equal(pg_scenario_result_action_count(r, k, 0, 0), 12);
        assert_int_equal(pg_scenario_result_action_count(r, k, 1, 1), 12);
        /* the run's metrics are the metrics of its curve around the shock at turn 5 */
        assert_int_equal(pg_scenario_result_onset(r, k), 5);
        pg_resilience_options o;
        pg_resilience_options_init(&o);
        o.recovery_threshold = 0.99;
        pg_resilience m;
        assert_int_equal(pg_resilience_measure(want, 13, 5, &o, &m, NULL), PG_OK);
        const pg_resilience *got = pg_scenario_result_metrics(r, k);
        assert_near(got->loss_area, m.loss_area, 1e-12);
        assert_near(got->robustness, m.robustness, 1e-12);
        assert_true(m.loss_area > 0);
    }
    pg_scenario_result_free(r);
    pg_scenario_free(s);
    free(text);
}

static void
test_negotiation_commits_partners(void **state)
{
    (void)state;
    const char *deal = "\"negotiations\": [{\"name\": \"deal\", \"proposer\": \"A\", "
                       "\"trigger\": \"push\", \"partners\": [{\"agent\": \"B\", \"action\": "
                       "\"help\", \"accept\": %s}], \"transfers\": [{\"from\": \"A\", \"to\": "
                       "\"B\", \"amount\": 0.1}]}]";
    char *extra = fill(deal, "1");
    char *text = det_with(extra);
    free(extra);
    pg_scenario *s = parse(text);
    pg_scenario_result *r = run(s, 1, 1, 1);
    double want[13];
    expected_det(want, 1, 12);
    const double *p = pg_scenario_result_performance(r, 0);
    for (size_t t = 0; t <= 12; t++)
        assert_near(p[t], want[t], 1e-12);
    assert_int_equal(pg_scenario_result_action_count(r, 0, 1, 0), 12); /* B helped every turn */
    pg_scenario_result_free(r);
    pg_scenario_free(s);
    free(text);

    extra = fill(deal, "0");
    text = det_with(extra);
    free(extra);
    s = parse(text);
    r = run(s, 1, 1, 1);
    expected_det(want, 0, 12);
    p = pg_scenario_result_performance(r, 0);
    for (size_t t = 0; t <= 12; t++)
        assert_near(p[t], want[t], 1e-12);
    assert_int_equal(pg_scenario_result_action_count(r, 0, 1, 0), 0);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
    free(text);
}

/* ---------------------------------------------------------------- learning */

static const char *bandit_text =
    "{\"format\": \"plurigrid-scenario/1\", \"name\": \"bandit\", \"turns\": 150, \"runs\": 60,\n"
    " \"variables\": [{\"name\": \"x\", \"initial\": 0.5, \"decay\": 0.3, \"noise\": 0.005}],\n"
    " \"agents\": [{\"name\": \"L\", \"actions\": [\"bad\", \"good\"], \"observes\": [\"x\"],\n"
    "   \"reward\": {\"terms\": [{\"quantity\": \"x\", \"weight\": 10, \"change\": true}],\n"
    "              \"offset\": 1}}],\n"
    " \"rules\": [{\"when\": {\"L\": \"good\"}, \"effects\": [{\"var\": \"x\", \"add\": 0.05}]},\n"
    "           {\"when\": {\"L\": \"bad\"}, \"effects\": [{\"var\": \"x\", \"add\": -0.05}]}],\n"
    " \"profiles\": [\n"
    "   {\"name\": \"random\", \"strategies\": {\"L\": {\"kind\": \"random\"}}},\n"
    "   {\"name\": \"roth-erev\", \"strategies\": {\"L\": {\"kind\": \"roth-erev\"}}},\n"
    "   {\"name\": \"q\", \"strategies\": {\"L\": {\"kind\": \"q-learning\", \"bins\": 1,\n"
    "                        \"alpha\": 0.2, \"gamma\": 0, \"initial\": 2}}},\n"
    "   {\"name\": \"aif\", \"strategies\": {\"L\": {\"kind\": \"active-inference\",\n"
    "                                                \"bins\": 5, \"depth\": 2}}},\n"
    "   {\"name\": \"aif-change\", \"strategies\": {\"L\": {\"kind\": \"active-inference\",\n"
    "                                  \"observe\": \"change\", \"depth\": 1}}}],\n"
    " \"resilience\": {\"indicator\": \"x\"}}\n";

static void
test_learning_agents_find_the_better_action(void **state)
{
    (void)state;
    pg_scenario *s = parse(bandit_text);
    pg_scenario_result *r = run(s, 60, 2, 11);
    double share[5] = {0};
    for (size_t k = 0; k < 60; k++)
        share[k % 5] += (double)pg_scenario_result_action_count(r, k, 0, 1) / 150.0 / 12.0;
    print_message("share of the good action: random %.3f, roth-erev %.3f, q %.3f, aif %.3f, "
                  "aif observing changes %.3f\n",
                  share[0], share[1], share[2], share[3], share[4]);
    assert_near(share[0], 0.5, 0.06);
    assert_true(share[1] > 0.7);
    assert_true(share[2] > 0.8);
    assert_true(share[3] > 0.8);
    assert_true(share[4] > 0.8);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

static const char *alliance_text =
    "{\"format\": \"plurigrid-scenario/1\", \"name\": \"ally\", \"turns\": 150, \"runs\": 40,\n"
    " \"variables\": [{\"name\": \"x\", \"initial\": 0.5, \"decay\": 0.3}],\n"
    " \"agents\": [\n"
    "   {\"name\": \"A\", \"actions\": [\"idle\", \"help\"], \"reward\": {\"terms\": [],\n"
    "    \"offset\": 1}, \"strategy\": {\"kind\": \"roth-erev\"}},\n"
    "   {\"name\": \"B\", \"actions\": [\"wait\"], \"reward\": {\"terms\": [{\"quantity\": \"x\",\n"
    "    \"weight\": 40, \"change\": true}], \"offset\": 1}}],\n"
    " \"rules\": [{\"when\": {\"A\": \"help\"}, \"effects\": [{\"var\": \"x\", \"add\": 0.05}]}],\n"
    " %s\n"
    " \"resilience\": {\"indicator\": \"x\"}}\n";

static double
help_share(const char *alliance)
{
    char *text = fill(alliance_text, alliance);
    pg_scenario *s = parse(text);
    free(text);
    pg_scenario_result *r = run(s, 40, 1, 5);
    double share = 0;
    for (size_t k = 0; k < 40; k++)
        share += (double)pg_scenario_result_action_count(r, k, 0, 1) / 150.0 / 40.0;
    pg_scenario_result_free(r);
    pg_scenario_free(s);
    return share;
}

static void
test_alliance_shares_rewards(void **state)
{
    (void)state;
    double alone = help_share("");
    double allied = help_share("\"alliances\": [{\"name\": \"pact\", \"members\": [\"A\", "
                               "\"B\"], \"share\": 1}],");
    print_message("share of help: alone %.3f, allied %.3f\n", alone, allied);
    assert_near(alone, 0.5, 0.06);
    assert_true(allied > 0.75);
}

/* ---------------------------------------------------------------- reproducibility */

static const char *
georgia_path(void)
{
    return pgt_source_path("examples/games/georgia.json");
}

static void
test_same_seed_any_thread_count(void **state)
{
    (void)state;
    pg_scenario *s = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_read(georgia_path(), &s, &err), PG_OK);
    char *json[3] = {0};
    pg_scenario_result *res[3] = {0};
    const size_t threads[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        pg_scenario_options o;
        pg_scenario_options_init(&o);
        o.runs = 70; /* not a multiple of the block size */
        o.turns = 40;
        o.threads = threads[i];
        assert_int_equal(pg_scenario_run(s, &o, &res[i], &err), PG_OK);
        assert_int_equal(pg_scenario_report_json(res[i], &json[i], &err), PG_OK);
    }
    for (int i = 1; i < 3; i++) {
        assert_string_equal(json[0], json[i]);
        for (size_t k = 0; k < 70; k++)
            assert_memory_equal(pg_scenario_result_performance(res[0], k),
                                pg_scenario_result_performance(res[i], k), 41 * sizeof(double));
    }
    /* another seed gives other results */
    pg_scenario_result *other = run(s, 70, 2, 12345);
    char *json_other = NULL;
    assert_int_equal(pg_scenario_report_json(other, &json_other, &err), PG_OK);
    assert_true(strcmp(json[0], json_other) != 0);
    free(json_other);
    pg_scenario_result_free(other);
    for (int i = 0; i < 3; i++) {
        free(json[i]);
        pg_scenario_result_free(res[i]);
    }
    pg_scenario_free(s);
}

static void
test_a_run_does_not_depend_on_the_number_of_runs(void **state)
{
    (void)state;
    pg_scenario *s = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_read(georgia_path(), &s, &err), PG_OK);
    pg_scenario_result *a = run(s, 9, 1, 77), *b = run(s, 40, 3, 77);
    size_t T = pg_scenario_result_turns(a);
    for (size_t k = 0; k < 9; k++)
        assert_memory_equal(pg_scenario_result_performance(a, k),
                            pg_scenario_result_performance(b, k), (T + 1) * sizeof(double));
    pg_scenario_result_free(a);
    pg_scenario_result_free(b);
    pg_scenario_free(s);
}

/* ---------------------------------------------------------------- the command */

static void
test_cli_report_and_plots(void **state)
{
    (void)state;
    const char *dir = pgt_tmpdir();
    char plot[4200];
    snprintf(plot, sizeof plot, "%s/charts/deep", dir);
    char *out1 = NULL, *out2 = NULL, *err = NULL;
    const char *a1[] = {"game", georgia_path(), "--runs", "40", "--turns", "30", "--threads",
                        "1",    "--json",       "-",      NULL};
    assert_int_equal(pgt_run_cli(a1, NULL, &out1, &err), 0);
    free(err);
    const char *a2[] = {"game", georgia_path(), "--runs", "40",     "--turns", "30", "--threads",
                        "3",    "--json",       "-",      "--plot", plot,      NULL};
    assert_int_equal(pgt_run_cli(a2, NULL, &out2, &err), 0);
    free(err);
    assert_string_equal(out1, out2);
    assert_non_null(strstr(out1, "\"format\": \"plurigrid-resilience-report/1\""));
    assert_non_null(strstr(out1, "\"findings\""));
    assert_non_null(strstr(out1, "\"mean_indicator\""));
    const char *files[] = {"performance.svg",
                           "performance_by_profile.svg",
                           "performance_by_group.svg",
                           "variables.svg",
                           "report.json",
                           "report.txt",
                           "actions_GG.svg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", plot, files[i]);
        size_t len = 0;
        char *c = pgt_slurp(p, &len);
        assert_true(len > 100);
        if (strstr(files[i], ".svg"))
            assert_non_null(strstr(c, "<svg"));
        free(c);
    }
    char p[4400];
    snprintf(p, sizeof p, "%s/report.json", plot);
    char *saved = pgt_slurp(p, NULL);
    assert_string_equal(saved, out1);
    free(saved);
    free(out1);
    free(out2);

    /* usage errors */
    const char *a3[] = {"game", georgia_path(), "--runs", "zero", NULL};
    assert_int_equal(pgt_run_cli(a3, NULL, &out1, &err), 2);
    assert_non_null(strstr(err, "--runs"));
    free(out1);
    free(err);
    const char *a4[] = {"game", "no-such-file.json", NULL};
    assert_int_equal(pgt_run_cli(a4, NULL, &out1, &err), 2);
    assert_non_null(strstr(err, "no-such-file.json"));
    free(out1);
    free(err);
    /* classic-game files go to the game library */
    const char *pd = pgt_source_path("examples/games/prisoners-dilemma.json");
    const char *a6[] = {"game", pd, "--json", "-", "--no-learning", NULL};
    assert_int_equal(pgt_run_cli(a6, NULL, &out1, &err), 0);
    assert_non_null(strstr(out1, "plurigrid-game-report/1"));
    free(out1);
    free(err);
    const char *a7[] = {"game", pd, "--threads", "2", NULL};
    assert_int_equal(pgt_run_cli(a7, NULL, &out1, &err), 2);
    assert_non_null(strstr(err, "applies to scenario files"));
    free(out1);
    free(err);
    const char *a8[] = {"game", georgia_path(), "--rounds", "10", NULL};
    assert_int_equal(pgt_run_cli(a8, NULL, &out1, &err), 2);
    assert_non_null(strstr(err, "applies to classic-game files"));
    free(out1);
    free(err);
    /* a classic game whose expectation fails: exit 1 */
    char *text = pgt_slurp(pd, NULL);
    char *at = strstr(text, "\"expect\": \"not-equilibrium\"");
    assert_non_null(at);
    const char *now = "\"expect\": \"equilibrium\"    "; /* same length, padded */
    assert_int_equal(strlen(now), strlen("\"expect\": \"not-equilibrium\""));
    memcpy(at, now, strlen(now));
    char wrong[4200];
    snprintf(wrong, sizeof wrong, "%s/wrong.json", dir);
    pgt_write(wrong, text);
    free(text);
    const char *a9[] = {"game", wrong, "--no-learning", NULL};
    assert_int_equal(pgt_run_cli(a9, NULL, &out1, &err), 1);
    assert_non_null(strstr(err, "did not hold"));
    free(out1);
    free(err);
    const char *a5[] = {"game", "--help", NULL};
    assert_int_equal(pgt_run_cli(a5, NULL, &out1, &err), 0);
    assert_non_null(strstr(out1, "--threads"));
    free(out1);
    free(err);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_dynamics),
        cmocka_unit_test(test_negotiation_commits_partners),
        cmocka_unit_test(test_learning_agents_find_the_better_action),
        cmocka_unit_test(test_alliance_shares_rewards),
        cmocka_unit_test(test_same_seed_any_thread_count),
        cmocka_unit_test(test_a_run_does_not_depend_on_the_number_of_runs),
        cmocka_unit_test(test_cli_report_and_plots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
