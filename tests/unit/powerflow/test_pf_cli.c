/* The plurigrid pf command end to end: reports and JSON for a MATPOWER case, DC and Q-limit
 * options, the hello microworld at its peak step, --out, and the exit codes: 1 for a case that
 * does not converge (loads far past the nose point) and for an island without a reference bus,
 * 2 for bad usage and bad input. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"
#include "plurigrid/model.h"

static int
run(const char *const *args, char **out, char **err)
{
    int code = pgt_run_cli(args, NULL, out, err);
    assert_true(code >= 0); /* not killed by a signal */
    return code;
}

static const char *
case_path(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "matpower/cases/%s.m", name);
    return pgt_data_path(rel);
}

static void
test_report_case9(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"pf", case_path("case9"), NULL};
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "Converged in 4 iterations"));
    assert_non_null(strstr(out, "Bus Data"));
    assert_non_null(strstr(out, "Branch Data"));
    /* The slack unit's output and the total losses as MATPOWER prints them. */
    assert_non_null(strstr(out, "71.64     27.05"));
    assert_non_null(strstr(out, "4.641     48.38"));
    free(out);
    free(err);
}

static void
test_json_and_out(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"pf", case_path("case14"), "--json", "-", NULL};
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "\"format\": \"plurigrid-pf/1\""));
    assert_non_null(strstr(out, "\"converged\": true"));
    assert_non_null(strstr(out, "\"iterations\": 2"));
    assert_null(strstr(out, "nan"));
    /* Balanced brackets: a cheap check that the object is complete. */
    int depth = 0;
    for (const char *p = out; *p; p++)
        depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
    assert_int_equal(depth, 0);
    free(out);
    free(err);

    /* --json FILE: the report still goes to standard output; --out FILE moves it to a file. */
    char path[512], report[512];
    snprintf(path, sizeof path, "%s/pf.json", pgt_tmpdir());
    snprintf(report, sizeof report, "%s/pf.txt", pgt_tmpdir());
    const char *args1[] = {"pf", case_path("case14"), "--json", path, NULL};
    assert_int_equal(run(args1, &out, &err), 0);
    assert_non_null(strstr(out, "Converged in 2 iterations"));
    free(out);
    free(err);
    const char *args2[] = {"pf", case_path("case14"), "--json", path, "--out", report, "--dc",
                           NULL};
    assert_int_equal(run(args2, &out, &err), 0);
    assert_string_equal(out, "");
    char *text = pgt_slurp(path, NULL);
    assert_non_null(strstr(text, "\"model\": \"dc\""));
    free(text);
    text = pgt_slurp(report, NULL);
    assert_non_null(strstr(text, "Power Flow: case14 (DC)"));
    free(text);
    free(out);
    free(err);
    pgt_tmpdir_cleanup();
}

static void
test_options(void **state)
{
    (void)state;
    char *out, *err;
    const char *dc[] = {"pf", case_path("case30"), "--dc", NULL};
    assert_int_equal(run(dc, &out, &err), 0);
    assert_non_null(strstr(out, "(DC)"));
    free(out);
    free(err);
    const char *ql[] = {"pf", case_path("case14"), "--enforce-q-lims", NULL};
    assert_int_equal(run(ql, &out, &err), 0);
    assert_non_null(strstr(out, "rounds of Q-limit enforcement"));
    free(out);
    free(err);
    const char *tol[] = {"pf", case_path("case9"), "--tol", "1e-3", "--max-iter", "20", NULL};
    assert_int_equal(run(tol, &out, &err), 0);
    assert_non_null(strstr(out, "Converged in 3 iterations")); /* MATPOWER needs 4 at 1e-8 */
    free(out);
    free(err);
    const char *help[] = {"pf", "--help", NULL};
    assert_int_equal(run(help, &out, &err), 0);
    assert_non_null(strstr(out, "--enforce-q-lims"));
    free(out);
    free(err);
}

static void
test_hello_microworld_peak(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"pf", pgt_source_path("examples/hello-microworld.json"), "--step", "peak",
                          NULL};
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "(peak load)"));
    assert_non_null(strstr(out, "Converged"));
    free(out);
    free(err);
    const char *late[] = {"pf", pgt_source_path("examples/hello-microworld.json"), "--step", "99",
                          NULL};
    assert_int_equal(run(late, &out, &err), 2);
    assert_non_null(strstr(err, "24 steps"));
    free(out);
    free(err);
    const char *none[] = {"pf", case_path("case9"), "--step", "peak", NULL};
    assert_int_equal(run(none, &out, &err), 2);
    assert_non_null(strstr(err, "no time series"));
    free(out);
    free(err);
}

/* case9 with ten times its load has no solution: exit 1 and a reason. */
static void
test_not_converging_exit_1(void **state)
{
    (void)state;
    pg_world *w = NULL;
    pg_error e = {0};
    assert_int_equal(pg_matpower_read_file(case_path("case9"), &w, NULL, &e), PG_OK);
    for (size_t i = 0; i < w->n_loads; i++) {
        w->loads[i].p *= 10;
        w->loads[i].q *= 10;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/heavy.m", pgt_tmpdir());
    assert_int_equal(pg_matpower_write_file(w, path, NULL, &e), PG_OK);
    char *out, *err;
    const char *args[] = {"pf", path, NULL};
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(out, "DID NOT CONVERGE"));
    assert_non_null(strstr(err, "did not converge"));
    free(out);
    free(err);
    const char *json[] = {"pf", path, "--json", "-", NULL};
    assert_int_equal(run(json, &out, &err), 1);
    assert_non_null(strstr(out, "\"converged\": false"));
    free(out);
    free(err);

    /* Two buses split off without a reference: exit 1, island reported. */
    for (size_t i = 0; i < w->n_loads; i++) {
        w->loads[i].p /= 10;
        w->loads[i].q /= 10;
    }
    for (size_t l = 0; l < w->n_branches; l++) /* cut bus 9 (a load bus) from the rest */
        if (w->buses[w->branches[l].from].number == 9 || w->buses[w->branches[l].to].number == 9)
            w->branches[l].in_service = false;
    snprintf(path, sizeof path, "%s/split.json", pgt_tmpdir());
    assert_int_equal(pg_world_write(w, path, NULL, NULL, &e), PG_OK);
    const char *split[] = {"pf", path, NULL};
    assert_int_equal(run(split, &out, &err), 1);
    assert_non_null(strstr(out, "Islands Not Solved"));
    assert_non_null(strstr(err, "no reference bus"));
    free(out);
    free(err);
    pg_world_free(w);
    pgt_tmpdir_cleanup();
}

static void
test_usage_and_bad_input(void **state)
{
    (void)state;
    struct {
        const char *args[8];
        const char *says;
    } cases[] = {
        {{"pf", NULL}, "which world"},
        {{"pf", "a.m", "b.m", NULL}, "one world file"},
        {{"pf", "a.m", "--bogus", NULL}, "unknown option"},
        {{"pf", "a.m", "--tol", NULL}, "needs a value"},
        {{"pf", "a.m", "--tol", "-1", NULL}, "positive number"},
        {{"pf", "a.m", "--tol", "abc", NULL}, "positive number"},
        {{"pf", "a.m", "--max-iter", "-2", NULL}, "whole number"},
        {{"pf", "a.m", "--max-iter", "3.5", NULL}, "whole number"},
        {{"pf", "a.m", "--dc", "--enforce-q-lims", NULL}, "reactive"},
        {{"pf", "/nonexistent/case.m", NULL}, "/nonexistent/case.m"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        assert_int_equal(run(cases[i].args, &out, &err), 2);
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu: stderr '%s' does not say '%s'", i, err, cases[i].says);
        free(out);
        free(err);
    }
    /* A file that is not a case: the error names the file. */
    char path[512];
    snprintf(path, sizeof path, "%s/junk.m", pgt_tmpdir());
    pgt_write(path, "function mpc = junk\nmpc.baseMVA = ;\n");
    char *out, *err;
    const char *args[] = {"pf", path, NULL};
    assert_int_equal(run(args, &out, &err), 2);
    assert_non_null(strstr(err, "junk.m"));
    free(out);
    free(err);
    const char *fmt[] = {"pf", path, "--format", "bogus", NULL};
    assert_int_equal(run(fmt, &out, &err), 2);
    free(out);
    free(err);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_case9),
        cmocka_unit_test(test_json_and_out),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_hello_microworld_peak),
        cmocka_unit_test(test_not_converging_exit_1),
        cmocka_unit_test(test_usage_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
