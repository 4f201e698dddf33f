/* `plurigrid community` end to end on scenario 0 (the 17 Fontana homes, for a few days of the
 * reference data): the report with both variants side by side, the same JSON for the same seed,
 * plots, outputs that cannot be written (exit 2), and bad input (a negative capacity, NaN where
 * a number belongs, an unknown device kind, a data file with a missing hour, a missing data
 * folder), each exit 2 with a message naming the file, the line and the field. The bad copies are
 * made in the test's temporary folder. */
#include "harness.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char scen[4096], data[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(scen, sizeof scen, "%s", pgt_source_path("examples/scenario0/scenario.json"));
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana/Building_1.csv"));
    *strrchr(data, '/') = '\0';
    return 0;
}

/* A copy of scenario 0 (its folder) and, when with_data, of its data folder, in dir. */
static void
copy_scenario(const char *dir, bool with_data)
{
    char cmd[13000], src[4096];
    snprintf(src, sizeof src, "%s", scen);
    *strrchr(src, '/') = '\0';
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp '%s'/*.json '%s'/", dir, dir, src,
             dir);
    assert_int_equal(system(cmd), 0);
    if (with_data) {
        snprintf(cmd, sizeof cmd, "cp -r '%s' '%s/data'", data, dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* Replaces the first `from` in the file at path with `to`. */
static void
edit(const char *path, const char *from, const char *to)
{
    size_t len;
    char *text = pgt_slurp(path, &len);
    char *p = strstr(text, from);
    if (!p)
        fail_msg("'%s' is not in %s", from, path);
    size_t fl = strlen(from), tl = strlen(to);
    char *out = malloc(len - fl + tl + 1);
    memcpy(out, text, (size_t)(p - text));
    memcpy(out + (p - text), to, tl);
    memcpy(out + (p - text) + tl, p + fl, len - (size_t)(p - text) - fl + 1);
    pgt_write(path, out);
    free(out);
    free(text);
}

static void
test_report(void **state)
{
    (void)state;
    const char *args[] = {"community", scen, "--data", data, "--days", "3", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Community scenario0: 17 nodes, 3 days"));
    assert_non_null(strstr(out, "Variant as-measured"));
    assert_non_null(strstr(out, "Variant with-devices"));
    assert_non_null(strstr(out, "sellers' revenue"));
    assert_non_null(strstr(out, "buyers' bills"));
    assert_non_null(strstr(out, "local solar use"));
    assert_non_null(strstr(out, "Building_17"));
    assert_string_equal(err, ""); /* no progress off a terminal */
    free(out);
    free(err);
}

static void
test_json_deterministic_and_csv(void **state)
{
    (void)state;
    char a[4200], b[4200], csv[4200];
    snprintf(a, sizeof a, "%s/a.json", pgt_tmpdir());
    snprintf(b, sizeof b, "%s/b.json", pgt_tmpdir());
    snprintf(csv, sizeof csv, "%s/r.csv", pgt_tmpdir());
    const char *args1[] = {"community",   scen,  "--data", data, "--days",    "2",
                           "--start-day", "200", "--seed", "5",  "--threads", "1",
                           "--json",      a,     "--csv",  csv,  NULL};
    const char *args2[] = {"community", scen,          "--data", data,     "--days",
                           "2",         "--start-day", "200",    "--seed", "5",
                           "--threads", "4",           "--json", b,        NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args1, NULL, &out, &err), 0);
    free(out);
    free(err);
    assert_int_equal(pgt_run_cli(args2, NULL, &out, &err), 0);
    free(out);
    free(err);
    size_t la, lb;
    char *ja = pgt_slurp(a, &la), *jb = pgt_slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ja, jb, la);
    assert_non_null(strstr(ja, "\"format\":\"plurigrid-community-report/1\""));
    assert_non_null(strstr(ja, "\"start_day\":200"));
    free(ja);
    free(jb);
    size_t lc;
    char *c = pgt_slurp(csv, &lc);
    assert_int_equal(strncmp(c, "variant,run,mechanism,node,load_kwh", 35), 0);
    assert_non_null(strstr(c, "\nwith-devices,market,uniform,(community),"));
    free(c);
}

static void
test_plots(void **state)
{
    (void)state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/plots/", pgt_tmpdir());
    const char *args[] = {"community", scen, "--data", data, "--days", "2", "--plot", dir, NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Charts written to"));
    free(out);
    free(err);
    const char *kinds[] = {"flows", "prices", "bills"};
    const char *vars[] = {"as-measured", "with-devices"};
    for (int k = 0; k < 3; k++)
        for (int v = 0; v < 2; v++) {
            char p[4400];
            snprintf(p, sizeof p, "%s%s-%s.svg", dir, kinds[k], vars[v]);
            size_t len;
            char *svg = pgt_slurp(p, &len);
            assert_int_equal(strncmp(svg, "<?xml", 5), 0);
            assert_non_null(strstr(svg, "</svg>"));
            free(svg);
        }
}

/* The first DR event of scenario 0 comes before any day the 10-of-10 baseline could use: the
 * report says it has none, not "nan". */
static void
test_dr_without_baseline(void **state)
{
    (void)state;
    const char *args[] = {"community", scen,          "--data", data, "--days",
                          "2",         "--start-day", "14",     NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    const char *line = strstr(out, "DR delivered (10-of-10 baseline)");
    assert_non_null(line);
    assert_non_null(strstr(line, "none"));
    assert_null(strstr(out, "nan"));
    free(out);
    free(err);
}

static void
test_outputs_that_fail(void **state)
{
    (void)state;
    const char *args[] = {"community", scen,     "--data",    data, "--days",
                          "1",         "--json", "/dev/full", NULL};
    PGT_EXPECT_CLI(args, 2, "/dev/full");
    const char *args2[] = {"community", scen, "--data", data, "--days", "1", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli_io(args2, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_non_null(strstr(err, "standard output"));
    free(out);
    free(err);
    /* One output that fails leaves the others' existing files as they were: a --json file is
     * not replaced when --csv cannot be written, nor when the --plot folder cannot be made (a
     * bad folder is told before the run). */
    char js[4200], pf[4200];
    snprintf(js, sizeof js, "%s/old.json", pgt_tmpdir());
    snprintf(pf, sizeof pf, "%s/plot-file", pgt_tmpdir());
    pgt_write(js, "{\"old\": 1}\n");
    pgt_write(pf, "a file\n");
    const char *args3[] = {"community", scen, "--data", data,        "--days", "1",
                           "--json",    js,   "--csv",  "/dev/full", NULL};
    PGT_EXPECT_CLI(args3, 2, "/dev/full");
    char *kept = pgt_slurp(js, NULL);
    assert_string_equal(kept, "{\"old\": 1}\n");
    free(kept);
    const char *args4[] = {"community", scen, "--data", data, "--days", "1",
                           "--json",    js,   "--plot", pf,   NULL};
    PGT_EXPECT_CLI(args4, 2, "plot-file");
    kept = pgt_slurp(js, NULL);
    assert_string_equal(kept, "{\"old\": 1}\n");
    free(kept);
    pgt_tmpdir_cleanup();
}

static void
test_bad_options(void **state)
{
    (void)state;
    const char *help[] = {"community", "--help", NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(help, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Usage: plurigrid community SCENARIO.json"));
    free(out);
    free(err);
    const char *a1[] = {"community", scen, "--days", "0", NULL};
    PGT_EXPECT_CLI(a1, 2, "--days must be a whole number from 1");
    const char *a2[] = {"community", scen, "--market", "barter", "--data", data, NULL};
    PGT_EXPECT_CLI(a2, 2, "barter");
    const char *a3[] = {"community", scen, "--frobnicate", NULL};
    PGT_EXPECT_CLI(a3, 2, "unknown option");
    const char *a4[] = {"community", NULL};
    PGT_EXPECT_CLI(a4, 2, "no scenario file");
    const char *a5[] = {"community", scen, "--data", data, "--days", "400", NULL};
    PGT_EXPECT_CLI(a5, 2, "--days must be at most 365");
    char nope[4200];
    snprintf(nope, sizeof nope, "%s/no-such-folder", pgt_tmpdir());
    const char *a6[] = {"community", scen, "--data", nope, NULL};
    PGT_EXPECT_CLI(a6, 2, "citylearn-2022-fontana", "--data", "no-such-folder");
}

static void
test_bad_node_configs(void **state)
{
    (void)state;
    char dir[4200], s[4300], cfg[4300], cfg2[4300];
    snprintf(dir, sizeof dir, "%s/s0", pgt_tmpdir());
    snprintf(s, sizeof s, "%s/scenario.json", dir);
    snprintf(cfg, sizeof cfg, "%s/home-4kw-battery.json", dir);
    snprintf(cfg2, sizeof cfg2, "%s/home-4kw.json", dir);
    const char *args[] = {"community", s, "--data", data, "--days", "1", NULL};
    /* a negative capacity */
    copy_scenario(dir, false);
    edit(cfg, "\"capacity_kwh\": 6.4", "\"capacity_kwh\": -6.4");
    PGT_EXPECT_CLI(args, 2, "home-4kw-battery.json:9", "capacity_kwh");
    /* an unknown device kind */
    copy_scenario(dir, false);
    edit(cfg2, "\"kind\": \"pv\"", "\"kind\": \"flux-capacitor\"");
    PGT_EXPECT_CLI(args, 2, "home-4kw.json:", "flux-capacitor", "kind");
    /* NaN where a number belongs: in a node's config and in the scenario's feed-in price */
    copy_scenario(dir, false);
    edit(cfg2, "\"kw_peak\": 4", "\"kw_peak\": NaN");
    PGT_EXPECT_CLI(args, 2, "home-4kw.json:", "not valid JSON");
    copy_scenario(dir, false);
    edit(s, "\"feed_in\": {\"constant\": 0.05}", "\"feed_in\": {\"constant\": NaN}");
    PGT_EXPECT_CLI(args, 2, "scenario.json:", "not valid JSON");
    /* a node input that no series feeds */
    copy_scenario(dir, false);
    edit(s, "\"pv\": \"pv_2\"", "\"pv\": \"pv_99\"");
    PGT_EXPECT_CLI(args, 2, "scenario.json:", "$.nodes[1].inputs.pv", "no series 'pv_99'");
}

static void
test_bad_data(void **state)
{
    (void)state;
    char dir[4200], s[4300], b3[4300], pr[4300], dd[4300];
    snprintf(dir, sizeof dir, "%s/s0", pgt_tmpdir());
    snprintf(s, sizeof s, "%s/scenario.json", dir);
    snprintf(dd, sizeof dd, "%s/data", dir);
    snprintf(b3, sizeof b3, "%s/data/Building_3.csv", dir);
    snprintf(pr, sizeof pr, "%s/data/pricing.csv", dir);
    const char *args[] = {"community", s, "--data", dd, "--days", "1", NULL};
    /* a missing value in hour 3 (line 5 of the file) */
    copy_scenario(dir, true);
    edit(b3, "\n8,3,1,0,,,,1.0070801e-07,", "\n8,3,1,0,,,,,");
    PGT_EXPECT_CLI(args, 2, "Building_3.csv:5", "non_shiftable_load");
    /* a missing hour: the row of hour 3 is not there */
    copy_scenario(dir, true);
    edit(b3, "\n8,3,1,0,,,,1.0070801e-07,0.0,0.0,0.0,0.0", "");
    PGT_EXPECT_CLI(args, 2, "Building_3.csv");
    /* NaN as a price */
    copy_scenario(dir, true);
    edit(pr, "\n0.22,0.22,0.22,0.22", "\nnan,0.22,0.22,0.22");
    PGT_EXPECT_CLI(args, 2, "pricing.csv:2", "electricity_pricing");
}

/* Scenario 0 on its low-voltage feeder: the market clears against the branch limits and every
 * interval's AC power flow converges with voltages near nominal. These days once stopped the run:
 * the LP met its balance row only to the solver's tolerance, and settlement, which checks to
 * 1e-9, refused it. */
static void
test_feeder_scenario(void **state)
{
    (void)state;
    char feeder[4096];
    snprintf(feeder, sizeof feeder, "%s",
             pgt_source_path("examples/scenario0/scenario-feeder.json"));
    const char *args[] = {"community", feeder, "--data", data, "--start-day", "94",
                          "--days",    "5",    "--json", "-",  NULL};
    char *out, *err;
    int rc = pgt_run_cli(args, NULL, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    assert_non_null(root);
    json_t *variants = json_object_get(root, "variants");
    assert_int_equal(json_array_size(variants), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_object_get(json_array_get(variants, i), "market");
        assert_true(json_is_true(json_object_get(m, "grid_aware")));
        assert_int_equal(json_integer_value(json_object_get(m, "ac_failed")), 0);
        double vmin = json_real_value(json_object_get(m, "vm_min"));
        double vmax = json_real_value(json_object_get(m, "vm_max"));
        assert_true(vmin > 0.95 && vmin < 1.0 && vmax > 1.0 && vmax < 1.05);
        assert_true(json_real_value(json_object_get(m, "loading_max")) > 0.1);
    }
    json_decref(root);
    free(out);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_json_deterministic_and_csv),
        cmocka_unit_test(test_plots),
        cmocka_unit_test(test_outputs_that_fail),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bad_node_configs),
        cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_feeder_scenario),
        cmocka_unit_test(test_dr_without_baseline),
    };
    return cmocka_run_group_tests(tests, setup, pgt_teardown_tmpdir);
}
