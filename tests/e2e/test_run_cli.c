/* The scheduling commands end to end: `plurigrid run` on the hello microworld (table, JSON, CSV,
 * plots, AC check), worlds that are short of capacity (exit 1) or invalid (exit 2 with a clear
 * error before any solve), bad options; `plurigrid opf --dc` on case9 against MATPOWER. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char hello[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(hello, sizeof hello, "%s", pgt_source_path("examples/hello-microworld.json"));
    return 0;
}

static void
test_run_json(void **state)
{
    (void)state;
    const char *args[] = {"run", hello, "--json", "-", "--no-ac", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_int_equal(strncmp(out, "{\n  \"format\": \"plurigrid-dispatch/1\"", 36), 0);
    assert_non_null(strstr(out, "\"steps\": 24"));
    assert_non_null(strstr(out, "\"ac\": null"));
    assert_string_equal(err, ""); /* no progress off a terminal, no solver logs */
    free(out);
    free(err);
}

static void
test_run_table_plots_csv(void **state)
{
    (void)state;
    char dir[4200], csv[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/plots", pgt_tmpdir());
    snprintf(csv, sizeof csv, "%s/day.csv", pgt_tmpdir());
    const char *args[] = {"run", hello, "--plot", dir, "--csv", csv, NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Unit commitment: optimal"));
    assert_non_null(strstr(out, "diesel_gen"));
    assert_non_null(strstr(out, "AC check: 24 of 24 steps solved"));
    const char *names[] = {"dispatch.svg", "prices.svg"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *svg = pgt_slurp(path, NULL);
        assert_non_null(strstr(svg, "<svg"));
        assert_non_null(strstr(svg, i == 0 ? "diesel_gen" : "bus3"));
        free(svg);
    }
    char *text = pgt_slurp(csv, NULL);
    assert_int_equal(strncmp(text, "step,hour,component,name,quantity,value\n", 40), 0);
    assert_non_null(strstr(text, "\n23,23,ac,,solved,1\n"));
    free(text);
    free(out);
    free(err);
}

/* Loads of 80 MW at each bus (240 MW) against 100 MW of capacity: scheduled, exit 1. */
static void
test_run_short_of_capacity(void **state)
{
    (void)state;
    const char *path = pgt_variant(hello, "short.json", "\"p\": 8,", "\"p\": 80,");
    const char *args[] = {"run", path, "--no-ac", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 1);
    assert_non_null(strstr(out, "unserved energy"));
    assert_null(strstr(out, "unserved energy 0.000 MWh"));
    free(out);
    free(err);
}

static void
expect_bad(const char *name, const char *from, const char *to, const char *needle)
{
    const char *path = pgt_variant(hello, name, from, to);
    const char *args[] = {"run", path, NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 2);
    if (!strstr(err, needle))
        fail_msg("stderr '%s' does not mention '%s'", err, needle);
    assert_non_null(strstr(err, name)); /* names the file */
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void
test_run_bad_input(void **state)
{
    (void)state;
    expect_bad("pmin.json", "\"pmax\": 50,", "\"pmin\": 60, \"pmax\": 50,",
               "pmin 60 MW > pmax 50 MW");
    expect_bad(
        "eff.json", "\"renewables\": [",
        "\"storages\": [{\"name\": \"battery\", \"bus\": \"bus1\", \"energy_mwh\": 10, "
        "\"charge_mw\": 5, \"discharge_mw\": 5, \"eff_charge\": -0.9}],\n  \"renewables\": [",
        "efficiency");
    expect_bad("short_series.json", "0.36, 0.18, 0.04, 0, 0, 0, 0, 0]", "0.36, 0.18]", "solar_gen");
}

static void
test_run_bad_options(void **state)
{
    (void)state;
    const char *cases[][4] = {
        {"run", "--network", "ac", NULL},
        {"run", "--gap", "2", NULL},
        {"run", "--frobnicate", NULL, NULL},
        {"run", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args[6] = {0};
        size_t n = 0;
        for (size_t k = 0; k < 4 && cases[i][k]; k++)
            args[n++] = cases[i][k];
        if (i < 3)
            args[n++] = hello;
        char *out, *err;
        assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 2);
        assert_true(strlen(err) > 0);
        free(out);
        free(err);
    }
    const char *help[] = {"run", "--help", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(help, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Usage: plurigrid run WORLD"));
    free(out);
    free(err);
}

/* --progress reports the phases on standard error; --verbose lets the solvers print their logs. */
static void
test_run_progress_and_verbose(void **state)
{
    (void)state;
    const char *args[] = {"run", hello, "--progress", "--verbose", "--no-ac", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(err, "plurigrid run: unit commitment (MILP) ... done in"));
    assert_non_null(strstr(err, "plurigrid run: dispatch and prices (LP) ... done in"));
    assert_non_null(strstr(out, "Cbc")); /* Cbc's log */
    assert_non_null(strstr(out, "Clp")); /* Clp's log */
    assert_non_null(strstr(out, "Unit commitment: optimal"));
    free(out);
    free(err);
}

static void
test_opf_case9(void **state)
{
    (void)state;
    char case9[4096];
    snprintf(case9, sizeof case9, "%s", pgt_data_path("matpower/cases/case9.m"));
    const char *args[] = {"opf", case9, "--dc", "--json", "-", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    const char *at = strstr(out, "\"objective\": ");
    assert_non_null(at);
    assert_near(strtod(at + 13, NULL), 5216.02660775, 1e-5 * 5216);
    free(out);
    free(err);
    const char *text[] = {"opf", case9, "--dc", NULL};
    assert_int_equal(pgt_run_cli(text, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Objective function value: 5216.03 $/hr"));
    free(out);
    free(err);
    const char *nodc[] = {"opf", case9, NULL};
    assert_int_equal(pgt_run_cli(nodc, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "--dc"));
    free(out);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_json),
        cmocka_unit_test(test_run_table_plots_csv),
        cmocka_unit_test(test_run_short_of_capacity),
        cmocka_unit_test(test_run_bad_input),
        cmocka_unit_test(test_run_bad_options),
        cmocka_unit_test(test_run_progress_and_verbose),
        cmocka_unit_test(test_opf_case9),
    };
    return cmocka_run_group_tests(tests, setup, pgt_teardown_tmpdir);
}
