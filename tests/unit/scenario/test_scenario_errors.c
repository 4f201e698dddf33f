/* Scenario file errors: each mistake in an otherwise valid file is reported with the file name,
 * the JSON path of the offending value and words that say what is wrong; nothing crashes. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/scenario.h"

static const char *valid =
    "{\"format\": \"plurigrid-scenario/1\", \"name\": \"t\", \"turns\": 5, \"runs\": 2,\n"
    " \"variables\": [{\"name\": \"x\", \"initial\": 0.5, \"decay\": 0.1, \"noise\": 0.01},\n"
    "               {\"name\": \"y\", \"initial\": [0.1, 0.2], \"min\": 0, \"max\": 2}],\n"
    " \"indicators\": [{\"name\": \"perf\", \"terms\": {\"x\": 1, \"y\": 0.5}}],\n"
    " \"agents\": [{\"name\": \"A\", \"actions\": [\"go\", {\"name\": \"stop\", \"cost\": 0.1}],\n"
    "              \"observes\": [\"perf\"],\n"
    "              \"reward\": {\"terms\": [{\"quantity\": \"perf\", \"weight\": 1}]},\n"
    "              \"strategy\": {\"kind\": \"roth-erev\"}},\n"
    "             {\"name\": \"B\", \"actions\": [\"help\", \"idle\"]}],\n"
    " \"rules\": [{\"when\": {\"A\": \"go\", \"B\": [\"help\"]},\n"
    "            \"if\": [{\"quantity\": \"y\", \"above\": 0.1}],\n"
    "            \"probability\": 0.5,\n"
    "            \"effects\": [{\"var\": \"x\", \"add\": 0.1, \"per\": {\"perf\": 0.1}, \"noise\": "
    "0.01}]}],\n"
    " \"shocks\": [{\"name\": \"cut\", \"turn\": [2, 3], \"duration\": 1,\n"
    "             \"onset\": [{\"var\": \"x\", \"add\": -0.2}]}],\n"
    " \"negotiations\": [{\"name\": \"deal\", \"proposer\": \"A\", \"trigger\": \"go\",\n"
    "                   \"partners\": [{\"agent\": \"B\", \"action\": \"help\", \"accept\": "
    "0.5}]}],\n"
    " \"alliances\": [{\"name\": \"pact\", \"members\": [\"A\", \"B\"], \"share\": 0.2}],\n"
    " \"initial_conditions\": [{\"name\": \"low\", \"set\": {\"x\": 0.2}}],\n"
    " \"profiles\": [{\"name\": \"p\", \"strategies\": {\"B\": {\"kind\": \"fixed\", \"mix\": "
    "{\"help\": 0.25, \"idle\": 0.75}}}}],\n"
    " \"resilience\": {\"indicator\": \"perf\"}}\n";

typedef struct mutation {
    const char *find, *replace; /* first occurrence */
    const char *path;           /* expected JSON path ("" for syntax errors) */
    const char *words;          /* expected in the message */
} mutation;

static const mutation cases[] = {
    {"\"turns\": 5", "\"turn\": 5", "$.turn", "unknown key 'turn'"},
    {"\"turns\": 5", "\"turns\": 0", "$.turns", "from 1"},
    {"\"turns\": 5", "\"turns\": 2.5", "$.turns", "whole number"},
    {"plurigrid-scenario/1", "plurigrid-scenario/9", "$.format", "unknown format"},
    {"\"initial\": 0.5,", "\"initial\": \"high\",", "$.variables[0].initial", "must be a number"},
    {"\"initial\": 0.5,", "\"initial\": 1.5,", "$.variables[0].initial", "between 0 and 1"},
    {"\"decay\": 0.1", "\"decay\": 2", "$.variables[0].decay", "between 0 and 1"},
    {"\"noise\": 0.01}", "\"noise\": -0.01}", "$.variables[0].noise", "at least 0"},
    {"\"min\": 0, \"max\": 2", "\"min\": 3, \"max\": 2", "$.variables[1].max", "greater than min"},
    {"[0.1, 0.2]", "[0.3, 0.2]", "$.variables[1].initial[1]", "between 0.3 and 2"},
    {"{\"name\": \"y\"", "{\"name\": \"x\"", "$.variables[1].name", "used twice"},
    {"\"terms\": {\"x\": 1", "\"terms\": {\"z\": 1", "$.indicators[0].terms.z",
     "unknown variable 'z'"},
    {"\"observes\": [\"perf\"]", "\"observes\": [\"perff\"]", "$.agents[0].observes[0]",
     "unknown variable or indicator 'perff'"},
    {"\"when\": {\"A\": \"go\"", "\"when\": {\"C\": \"go\"", "$.rules[0].when.C",
     "unknown agent 'C'"},
    {"\"when\": {\"A\": \"go\"", "\"when\": {\"A\": \"run\"", "$.rules[0].when.A",
     "agent 'A' has no action 'run'"},
    {"[\"help\"]}", "[\"help\", \"fly\"]}", "$.rules[0].when.B[1]", "no action 'fly'"},
    {"{\"var\": \"x\", \"add\": 0.1", "{\"var\": \"w\", \"add\": 0.1", "$.rules[0].effects[0].var",
     "unknown variable 'w'"},
    {"{\"var\": \"x\", \"add\": 0.1", "{\"var\": \"perf\", \"add\": 0.1",
     "$.rules[0].effects[0].var", "is an indicator"},
    {"\"per\": {\"perf\": 0.1}", "\"per\": {\"q\": 0.1}", "$.rules[0].effects[0].per.q",
     "unknown variable or indicator 'q'"},
    {"\"per\": {\"perf\": 0.1}", "\"per\": {\"perf\": \"a lot\"}", "$.rules[0].effects[0].per.perf",
     "must be a number"},
    {"\"probability\": 0.5", "\"probability\": 1.5", "$.rules[0].probability", "between 0 and 1"},
    {"\"above\": 0.1}", "\"above\": 0.1, \"below\": 0.05}", "$.rules[0].if[0]",
     "nothing would satisfy"},
    {"\"quantity\": \"y\", \"above\": 0.1", "\"shock\": \"quake\"", "$.rules[0].if[0].shock",
     "unknown shock 'quake'"},
    {"\"effects\": [{\"var\": \"x\", \"add\": 0.1", "\"effect\": [{\"var\": \"x\", \"add\": 0.1",
     "$.rules[0].effect", "unknown key 'effect'"},
    {"\"turn\": [2, 3]", "\"turn\": [3, 2]", "$.shocks[0].turn", "first <= last"},
    {"\"kind\": \"roth-erev\"", "\"kind\": \"genius\"", "$.agents[0].strategy.kind",
     "unknown strategy kind 'genius'"},
    {"\"kind\": \"roth-erev\"", "\"kind\": \"regret-matching\"", "$.agents[0].strategy.kind",
     "payoffs of actions not taken"},
    {"\"kind\": \"roth-erev\"", "\"kind\": \"q-learning\", \"observe\": \"trend\"",
     "$.agents[0].strategy.observe", "unknown observation 'trend'"},
    {"\"kind\": \"roth-erev\"",
     "\"kind\": \"active-inference\", \"observe\": \"change\", \"bins\": 4",
     "$.agents[0].strategy.bins", "goes with \"observe\": \"level\""},
    {"\"kind\": \"roth-erev\"", "\"kind\": \"active-inference\", \"preferences\": {\"x\": 1}",
     "$.agents[0].strategy.preferences.x", "does not observe 'x'"},
    {"\"help\": 0.25", "\"help\": 0.5", "$.profiles[0].strategies.B.mix", "add up to 1.25"},
    {"\"strategies\": {\"B\"", "\"strategies\": {\"D\"", "$.profiles[0].strategies.D",
     "unknown agent 'D'"},
    {"\"accept\": 0.5", "\"accept\": \"maybe\"", "$.negotiations[0].partners[0].accept",
     "probability or \"learn\""},
    {"\"proposer\": \"A\"", "\"proposer\": \"B\"", "$.negotiations[0].trigger",
     "agent 'B' has no action 'go'"},
    {"\"members\": [\"A\", \"B\"]", "\"members\": [\"A\"]", "$.alliances[0].members",
     "at least two agents"},
    {"\"set\": {\"x\": 0.2}", "\"set\": {\"x\": 2}", "$.initial_conditions[0].set.x",
     "between 0 and 1"},
    {"\"indicator\": \"perf\"", "\"indicator\": \"nope\"", "$.resilience.indicator",
     "unknown variable or indicator 'nope'"},
    {",\n \"resilience\": {\"indicator\": \"perf\"}", "", "$", "'resilience' is missing"},
    {"\"actions\": [\"help\", \"idle\"]", "\"actions\": []", "$.agents[1].actions",
     "from 1 to 64 actions"},
    {"\"agents\": [", "\"agents\": 5, \"x\": [", "$.x", "unknown key 'x'"},
    {"\"observes\": [\"perf\"]", "\"observes\": \"perf\"", "$.agents[0].observes",
     "must be an array, not a string"},
    {"\"runs\": 2,", "\"runs\": 2, \"seed\": -1,", "$.seed",
     "must be a whole number from 0 to 9223372036854775807 (it is -1)"},
    {"\"runs\": 2,", "\"runs\": 2, \"seed\": 0.5,", "$.seed", "(it is 0.5)"},
    {"\"runs\": 2,", "\"runs\": 100000000,", "$.runs", "from 1 to 1000000"},
};

static char *
mutate(const mutation *m)
{
    const char *at = strstr(valid, m->find);
    if (!at)
        fail_msg("test setup: '%s' not in the valid text", m->find);
    size_t n = strlen(valid) - strlen(m->find) + strlen(m->replace) + 1;
    char *t = malloc(n);
    memcpy(t, valid, (size_t)(at - valid));
    strcpy(t + (at - valid), m->replace);
    strcat(t, at + strlen(m->find));
    return t;
}

static void
test_valid_file_parses(void **state)
{
    (void)state;
    pg_scenario *s = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_parse(valid, strlen(valid), "ok.json", &s, &err), PG_OK);
    assert_string_equal(pg_scenario_name(s), "t");
    assert_int_equal(pg_scenario_n_agents(s), 2);
    assert_int_equal(pg_scenario_n_variables(s), 2);
    assert_int_equal(pg_scenario_n_profiles(s), 1);
    assert_int_equal(pg_scenario_n_groups(s), 1);
    pg_scenario_result *r = NULL;
    assert_int_equal(pg_scenario_run(s, NULL, &r, &err), PG_OK);
    assert_int_equal(pg_scenario_result_runs(r), 2);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

static void
test_each_mistake_is_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = mutate(&cases[i]);
        pg_scenario *s = NULL;
        pg_error err = {0};
        int rc = pg_scenario_parse(text, strlen(text), "bad.json", &s, &err);
        if (rc != PG_EPARSE || s || strcmp(err.path, cases[i].path) != 0 ||
            strcmp(err.file, "bad.json") != 0 || !strstr(err.msg, cases[i].words) || err.line < 1) {
            char buf[1400];
            fail_msg("case %zu (%s -> %s): got rc %d, \"%s\"; want path %s and \"%s\"", i,
                     cases[i].find, cases[i].replace, rc, pg_error_format(&err, buf, sizeof buf),
                     cases[i].path, cases[i].words);
        }
        free(text);
    }
}

static void
test_syntax_errors_name_the_line(void **state)
{
    (void)state;
    const char *text = "{\"format\": \"plurigrid-scenario/1\",\n \"name\": \"t\",,\n}";
    pg_scenario *s = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_parse(text, strlen(text), "bad.json", &s, &err), PG_EPARSE);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.file, "bad.json");
    assert_non_null(strstr(err.msg, "not valid JSON"));
    /* empty input, a non-object, a truncated file */
    const char *others[] = {"", "[1, 2]", "{\"format\": \"plurigrid-scenario/1\", \"name\": "};
    for (size_t i = 0; i < 3; i++) {
        pg_error_clear(&err);
        assert_int_equal(pg_scenario_parse(others[i], strlen(others[i]), "x.json", &s, &err),
                         PG_EPARSE);
        assert_null(s);
    }
    pg_error_clear(&err);
    assert_int_equal(pg_scenario_read("does/not/exist.json", &s, &err), PG_EIO);
    assert_string_equal(err.file, "does/not/exist.json");
}

static void
test_cli_reports_the_place(void **state)
{
    (void)state;
    const mutation *m = &cases[13]; /* unknown agent in a rule */
    char *text = mutate(m);
    char path[4200];
    snprintf(path, sizeof path, "%s/bad.json", pgt_tmpdir());
    pgt_write(path, text);
    free(text);
    const char *args[] = {"game", path, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "bad.json"));
    assert_non_null(strstr(err, "$.rules[0].when.C"));
    assert_non_null(strstr(err, "bad.json:10:")); /* the line of the rule's "when" */
    assert_non_null(strstr(err, "unknown agent 'C'"));
    free(out);
    free(err);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file_parses),
        cmocka_unit_test(test_each_mistake_is_named),
        cmocka_unit_test(test_syntax_errors_name_the_line),
        cmocka_unit_test(test_cli_reports_the_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
