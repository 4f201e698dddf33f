/* The resilience report says what its numbers mean: "never" for groups in which no run recovered
 * (null in JSON), the median time to recover over the runs that recovered, runs that could not be
 * measured (a baseline that is not positive) explained rather than printed as "nan%"; the JSON is
 * built with jansson and every number reads back to exactly the double the report computed; the
 * limits on runs are refused with the limit named. */
#include "harness.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plurigrid/scenario.h"

/* A fall at turn 4 that lasts; the indicator is x + offset. Fixed strategies: deterministic. */
static const char *fall_text =
    "{\"format\": \"plurigrid-scenario/1\", \"name\": \"fall\", \"turns\": 10, \"runs\": 4,\n"
    " \"variables\": [{\"name\": \"x\", \"initial\": 0.8, \"min\": -10}],\n"
    " \"indicators\": [{\"name\": \"perf\", \"terms\": {\"x\": 1}, \"offset\": %s}],\n"
    " \"agents\": [{\"name\": \"A\", \"actions\": [\"hold\", \"mend\"],\n"
    "              \"strategy\": {\"kind\": \"fixed\", \"action\": \"hold\"}}],\n"
    " \"rules\": [{\"when\": {\"A\": \"mend\"}, \"if\": [{\"shock\": \"cut\"}],\n"
    "             \"effects\": [{\"var\": \"x\", \"add\": 0.3}]}],\n"
    " \"shocks\": [{\"name\": \"cut\", \"turn\": 4, \"duration\": 6,\n"
    "             \"onset\": [{\"var\": \"x\", \"add\": -0.4}]}],\n"
    " \"profiles\": [{\"name\": \"hold\", \"strategies\": {}},\n"
    "              {\"name\": \"mend\", \"strategies\": {\"A\": {\"kind\": \"fixed\", "
    "\"action\": \"mend\"}}}],\n"
    " \"resilience\": {\"indicator\": \"perf\"}}\n";

static pg_scenario *
parse_with(const char *offset)
{
    const char *at = strstr(fall_text, "%s");
    size_t n = strlen(fall_text) + strlen(offset) + 1;
    char *text = malloc(n);
    assert_non_null(text);
    memcpy(text, fall_text, (size_t)(at - fall_text));
    strcpy(text + (at - fall_text), offset);
    strcat(text, at + 2);
    pg_scenario *s = NULL;
    pg_error err = {0};
    if (pg_scenario_parse(text, strlen(text), "fall.json", &s, &err)) {
        char buf[1400];
        fail_msg("%s", pg_error_format(&err, buf, sizeof buf));
    }
    free(text);
    return s;
}

static pg_scenario_result *
run(const pg_scenario *s, size_t runs)
{
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    o.runs = runs;
    pg_scenario_result *r = NULL;
    pg_error err = {0};
    if (pg_scenario_run(s, &o, &r, &err))
        fail_msg("pg_scenario_run: %s", err.msg);
    return r;
}

/* The line of text that starts with prefix (after spaces), or NULL. */
static const char *
line_of(const char *text, const char *prefix)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *q = p;
        while (*q == ' ')
            q++;
        if (strncmp(q, prefix, strlen(prefix)) == 0)
            return q;
    }
    return NULL;
}

static void
test_never_recovered_says_never(void **state)
{
    (void)state;
    pg_scenario *s = parse_with("0");
    pg_scenario_result *r = run(s, 4);
    /* "hold" runs never recover; "mend" runs are back the turn after the shock */
    for (size_t k = 0; k < 4; k++) {
        const pg_resilience *m = pg_scenario_result_metrics(r, k);
        assert_true(m->disrupted);
        assert_int_equal(m->recovered, k % 2 == 1);
    }
    char *text = NULL, *json = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_report_text(r, &text, &err), PG_OK);
    assert_int_equal(pg_scenario_report_json(r, &json, &err), PG_OK);
    assert_null(strstr(text, "nan"));
    const char *hold = line_of(text, "2    hold");
    assert_non_null(hold);
    const char *eol = strchr(hold, '\n');
    const char *never = strstr(hold, "never");
    assert_true(never && never < eol);
    /* the median time to recover is over the runs that recovered, and says so */
    assert_non_null(
        strstr(text, "median time to recover 1.0 turns over the 2 runs that recovered"));
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    assert_non_null(v);
    json_t *profiles = json_object_get(v, "profiles");
    assert_int_equal(json_array_size(profiles), 2);
    json_t *ttr = json_object_get(
        json_object_get(json_object_get(json_array_get(profiles, 1), "metrics"), "time_to_recover"),
        "p50");
    assert_true(json_is_null(ttr));
    json_decref(v);
    free(text);
    free(json);
    pg_scenario_result_free(r);

    /* no run recovers at all */
    r = run(s, 1);
    assert_int_equal(pg_scenario_report_text(r, &text, &err), PG_OK);
    assert_null(strstr(text, "nan"));
    assert_non_null(strstr(text, "no run recovered"));
    free(text);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

static void
test_unmeasured_runs_are_explained(void **state)
{
    (void)state;
    /* the indicator is negative before the shock: no run has a baseline to measure against */
    pg_scenario *s = parse_with("-2");
    pg_scenario_result *r = run(s, 4);
    char *text = NULL, *json = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_report_text(r, &text, &err), PG_OK);
    assert_int_equal(pg_scenario_report_json(r, &json, &err), PG_OK);
    assert_null(strstr(text, "nan"));
    assert_non_null(strstr(text, "not positive"));
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    assert_non_null(v);
    json_t *sum = json_object_get(v, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "runs_measured")), 0);
    assert_true(json_is_null(json_object_get(sum, "p_recover")));
    json_decref(v);
    free(text);
    free(json);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

/* Every number in the JSON report is the double the report computed: the mean performance per
 * turn over the runs, recomputed here in the same order, reads back exactly. */
static void
test_json_round_trips(void **state)
{
    (void)state;
    pg_scenario *s = NULL;
    pg_error err = {0};
    assert_int_equal(pg_scenario_read(pgt_source_path("examples/games/georgia.json"), &s, &err),
                     PG_OK);
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    o.runs = 21;
    o.turns = 30;
    pg_scenario_result *r = NULL;
    assert_int_equal(pg_scenario_run(s, &o, &r, &err), PG_OK);
    char *json = NULL;
    assert_int_equal(pg_scenario_report_json(r, &json, &err), PG_OK);
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    assert_non_null(v);
    json_t *mean = json_object_get(json_object_get(v, "performance"), "mean");
    assert_int_equal(json_array_size(mean), 31);
    size_t exact = 0;
    for (size_t t = 0; t <= 30; t++) {
        double sum = 0;
        for (size_t k = 0; k < 21; k++)
            sum += pg_scenario_result_performance(r, k)[t];
        double want = sum / 21.0, got = json_number_value(json_array_get(mean, t));
        exact += got == want;
    }
    assert_int_equal(exact, 31);
    assert_string_equal(json_string_value(json_object_get(v, "format")),
                        "plurigrid-resilience-report/1");
    assert_int_equal(json_integer_value(json_object_get(v, "runs")), 21);
    json_decref(v);
    free(json);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

static void
test_run_limits(void **state)
{
    (void)state;
    pg_scenario *s = parse_with("0");
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    pg_scenario_result *r = NULL;
    pg_error err = {0};
    o.runs = PG_SCENARIO_MAX_RUNS + 1;
    assert_int_equal(pg_scenario_run(s, &o, &r, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "1000000 runs"));
    assert_null(r);
    o.runs = PG_SCENARIO_MAX_RUNS;
    o.turns = 1000;
    assert_int_equal(pg_scenario_run(s, &o, &r, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "100000000"));
    pg_scenario_free(s);
}

/* Every allocation of reading, running and reporting may fail: the call says so and leaks
 * nothing. */
static void
test_allocation_failures(void **state)
{
    (void)state;
    const char *at = strstr(fall_text, "%s");
    char text[4096];
    snprintf(text, sizeof text, "%.*s0%s", (int)(at - fall_text), fall_text, at + 2);
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    o.runs = 4;
    o.threads = 1; /* the n-th allocation is the same one every time */
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    pg_scenario *s = NULL;
    pg_scenario_result *r = NULL;
    assert_int_equal(pg_scenario_parse(text, strlen(text), "fall.json", &s, &err), PG_OK);
    assert_int_equal(pg_scenario_run(s, &o, &r, &err), PG_OK);
    long m = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
    for (long k = 0; k < m; k++) {
        s = NULL;
        r = NULL;
        pgt_alloc_fail_after(k);
        int a = pg_scenario_parse(text, strlen(text), "fall.json", &s, &err);
        int b = a ? a : pg_scenario_run(s, &o, &r, &err);
        pgt_alloc_fail_after(-1);
        assert_true(a == PG_OK || a == PG_ENOMEM);
        assert_true(b == PG_OK || b == PG_ENOMEM);
        assert_true(a != PG_OK || b != PG_OK);
        assert_true(a == PG_OK || s == NULL);
        assert_true(b == PG_OK || r == NULL);
        pg_scenario_result_free(r);
        pg_scenario_free(s);
    }

    s = parse_with("0");
    r = run(s, 4);
    char *json = NULL, *words = NULL;
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_scenario_report_json(r, &json, &err), PG_OK);
    assert_int_equal(pg_scenario_report_text(r, &words, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    free(json);
    free(words);
    assert_true(n > 5);
    for (long k = 0; k < n; k++) {
        json = words = NULL;
        pgt_alloc_fail_after(k);
        int a = pg_scenario_report_json(r, &json, &err);
        int b = pg_scenario_report_text(r, &words, &err);
        pgt_alloc_fail_after(-1);
        assert_true(a == PG_OK || a == PG_ENOMEM);
        assert_true(b == PG_OK || b == PG_ENOMEM);
        assert_true(a != PG_OK || b != PG_OK);
        assert_true(a == PG_OK || json == NULL);
        assert_true(b == PG_OK || words == NULL);
        free(json);
        free(words);
    }
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

/* The charts in memory are the charts pg_scenario_write_plots writes, byte for byte, under the
 * same names and in the same order; every allocation of making them may fail without a leak. */
static void
test_plots_in_memory_equal_files(void **state)
{
    (void)state;
    pg_scenario *s = parse_with("0");
    pg_scenario_result *r = run(s, 4);
    pg_error err = {0};
    const char *dir = pgt_tmp("plots");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(pg_scenario_write_plots(r, dir, &err), PG_OK);
    char **names = NULL, **svgs = NULL;
    size_t n = 0;
    assert_int_equal(pg_scenario_plots_svg(r, &names, &svgs, &n, &err), PG_OK);
    /* performance, by profile, by group, variables, one per agent (A) */
    assert_int_equal(n, 5);
    assert_string_equal(names[0], "performance.svg");
    assert_string_equal(names[4], "actions_A.svg");
    for (size_t i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        char *file = pgt_slurp(path, &len);
        assert_non_null(file);
        assert_int_equal(len, strlen(svgs[i]));
        assert_memory_equal(file, svgs[i], len);
        assert_non_null(strstr(svgs[i], "<svg"));
        free(file);
    }
    pg_scenario_plots_free(names, svgs, n);
    pg_scenario_plots_free(NULL, NULL, 0);

    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_scenario_plots_svg(r, &names, &svgs, &n, &err), PG_OK);
    long m = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pg_scenario_plots_free(names, svgs, n);
    for (long k = 0; k < m; k++) {
        names = svgs = NULL;
        n = 0;
        pgt_alloc_fail_after(k);
        int rc = pg_scenario_plots_svg(r, &names, &svgs, &n, &err);
        pgt_alloc_fail_after(-1);
        assert_true(rc == PG_OK || rc == PG_ENOMEM);
        if (rc == PG_OK)
            pg_scenario_plots_free(names, svgs, n);
        else
            assert_true(names == NULL && svgs == NULL && n == 0);
    }
    assert_int_equal(pg_scenario_plots_svg(NULL, &names, &svgs, &n, &err), PG_EINVAL);
    pg_scenario_result_free(r);
    pg_scenario_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_recovered_says_never),
        cmocka_unit_test(test_unmeasured_runs_are_explained),
        cmocka_unit_test(test_json_round_trips),
        cmocka_unit_test(test_run_limits),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_plots_in_memory_equal_files),
    };
    return cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
}
