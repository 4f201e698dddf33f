/* plurigrid worlds: kinds, show, generate, list and show --worlds through the built command. A
 * generated folder holds a world file per kept world and a manifest that is the same bytes with 1
 * or 2 threads; `show ID --worlds DIR` rebuilds exactly the world's file; mistakes exit 2 naming
 * what is wrong, and a recipe whose worlds all fail the checks exits 1 saying why. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/core.h"

static char *
slurp(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    pg_error err = {0};
    if (pg_input_read(path, PG_INPUT_MAX, &data, &len, &err))
        fail_msg("%s: %s", path, err.msg);
    return data;
}

static int
run(const char *const *args, char **out, char **err)
{
    int rc = pgt_run_cli(args, NULL, out, err);
    assert_true(rc >= 0); /* no crash */
    return rc;
}

static void
test_help_kinds_and_show(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run((const char *[]){"worlds", "--help", NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "plurigrid worlds generate"));
    free(out);
    free(err);
    assert_int_equal(run((const char *[]){"worlds", "kinds", NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "lv-feeder"));
    assert_non_null(strstr(out, "Kerber"));
    assert_non_null(strstr(out, "mv-grid"));
    assert_non_null(strstr(out, "village"));
    assert_non_null(strstr(out, "nexus"));
    free(out);
    free(err);
    assert_int_equal(run((const char *[]){"worlds", "kinds", "--json", "-", NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "\"plurigrid-worlds-kinds/1\""));
    assert_non_null(strstr(out, "\"segment_m\""));
    free(out);
    free(err);
    assert_int_equal(run((const char *[]){"worlds", "show", "mv-grid", NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "\"plurigrid-recipe/1\""));
    assert_non_null(strstr(out, "\"stations_per_ring\""));
    free(out);
    free(err);
    const char *recipe = pgt_source_path("examples/worlds/lv-rural.json");
    assert_int_equal(run((const char *[]){"worlds", "show", recipe, NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "\"name\": \"lv-rural\""));
    free(out);
    free(err);
}

static void
test_mistakes(void **state)
{
    (void)state;
    PGT_EXPECT_CLI(((const char *[]){"worlds", NULL}), 2, "needs a subcommand");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "make", NULL}), 2, "kinds, show, list");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "show", "hv-grid", NULL}), 2,
                   "neither a kind of world nor a recipe file", "lv-feeder");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "generate", "lv-feeder", NULL}), 2, "--out DIR");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "generate", "lv-feeder", "--out", pgt_tmp("x"),
                                     "--count", "0", NULL}),
                   2, "--count");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "generate", "lv-feeder", "--out", pgt_tmp("x"),
                                     "--seed", "-1", NULL}),
                   2, "--seed");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "list", "--count", "3", "dir", NULL}), 2,
                   "options of generate");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "list", pgt_tmp("nothing"), NULL}), 2,
                   "manifest.json");
    /* A recipe with a mistake: the file, the line and the path. */
    const char *bad = pgt_tmp("bad.json");
    const char *text = "{\"format\": \"plurigrid-recipe/1\", \"name\": \"bad\",\n"
                       " \"kind\": \"lv-feeder\",\n"
                       " \"parameters\": {\"feeders\": {\"int\": [3, 2]}}}\n";
    pg_error e = {0};
    assert_int_equal(pg_output_write(bad, text, strlen(text), &e), PG_OK);
    PGT_EXPECT_CLI(((const char *[]){"worlds", "generate", bad, "--out", pgt_tmp("y"), NULL}), 2,
                   "bad.json:3", "$.parameters.feeders.int", "above the upper end");
}

static void
test_generate_list_show(void **state)
{
    (void)state;
    const char *dir = pgt_tmp("gen1"), *dir2 = pgt_tmp("gen2");
    char *out = NULL, *err = NULL;
    assert_int_equal(run((const char *[]){"worlds", "generate", "lv-feeder", "--count", "6",
                                          "--seed", "3", "--out", dir, "--threads", "2", NULL},
                         &out, &err),
                     0);
    assert_non_null(strstr(out, "6 worlds of the recipe lv-feeder"));
    free(out);
    free(err);
    assert_int_equal(
        run((const char *[]){"worlds", "generate", "lv-feeder", "--count", "6", "--seed", "3",
                             "--out", dir2, "--threads", "1", "--progress", NULL},
            &out, &err),
        0);
    assert_non_null(strstr(err, "6 of 6 worlds"));
    free(out);
    free(err);
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/manifest.json", dir);
    snprintf(p2, sizeof p2, "%s/manifest.json", dir2);
    char *m1 = slurp(p1), *m2 = slurp(p2);
    assert_string_equal(m1, m2);
    assert_non_null(strstr(m1, "\"plurigrid-worlds/1\""));
    free(m1);
    free(m2);
    assert_int_equal(run((const char *[]){"worlds", "list", dir, NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "lv-feeder-3-0"));
    assert_non_null(strstr(out, "6 kept"));
    free(out);
    free(err);
    assert_int_equal(run((const char *[]){"worlds", "list", dir, "--json", "-", NULL}, &out, &err),
                     0);
    assert_non_null(strstr(out, "\"lv-feeder-3-5\""));
    free(out);
    free(err);
    /* The world rebuilt from its id is its file, byte for byte. */
    assert_int_equal(
        run((const char *[]){"worlds", "show", "lv-feeder-3-4", "--worlds", dir, NULL}, &out, &err),
        0);
    snprintf(p1, sizeof p1, "%s/lv-feeder-3-4.json", dir);
    char *file = slurp(p1);
    assert_string_equal(out, file);
    free(file);
    free(out);
    free(err);
    PGT_EXPECT_CLI(((const char *[]){"worlds", "show", "lv-feeder-4-1", "--worlds", dir, NULL}), 2,
                   "not the id of a world");
    /* The worlds run as any world does. */
    assert_int_equal(run((const char *[]){"run", p1, NULL}, &out, &err), 0);
    free(out);
    free(err);
}

/* The command line: --kind KIND and --recipe FILE name the recipe as the positional form
 * does, and give the same files. */
static void
test_kind_and_recipe_options(void **state)
{
    (void)state;
    const char *d1 = pgt_tmp("k1"), *d2 = pgt_tmp("k2"), *d3 = pgt_tmp("k3");
    char *out = NULL, *err = NULL;
    assert_int_equal(run((const char *[]){"worlds", "generate", "--kind", "lv-feeder", "--count",
                                          "2", "--seed", "5", "--out", d1, NULL},
                         &out, &err),
                     0);
    assert_non_null(strstr(out, "2 worlds of the recipe lv-feeder"));
    free(out);
    free(err);
    assert_int_equal(run((const char *[]){"worlds", "generate", "lv-feeder", "--count", "2",
                                          "--seed", "5", "--out", d2, NULL},
                         &out, &err),
                     0);
    free(out);
    free(err);
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/manifest.json", d1);
    snprintf(p2, sizeof p2, "%s/manifest.json", d2);
    char *m1 = slurp(p1), *m2 = slurp(p2);
    assert_string_equal(m1, m2);
    free(m1);
    free(m2);
    const char *recipe = pgt_source_path("examples/worlds/lv-rural.json");
    assert_int_equal(run((const char *[]){"worlds", "generate", "--recipe", recipe, "--count", "1",
                                          "--out", d3, NULL},
                         &out, &err),
                     0);
    assert_non_null(strstr(out, "1 world of the recipe lv-rural"));
    free(out);
    free(err);
    assert_int_equal(run((const char *[]){"worlds", "show", "--kind", "nexus", NULL}, &out, &err),
                     0);
    assert_non_null(strstr(out, "\"kind\": \"nexus\""));
    free(out);
    free(err);
    /* --kind takes only a kind, --recipe only a file; the recipe is named once. */
    PGT_EXPECT_CLI(((const char *[]){"worlds", "generate", "--kind", recipe, "--out", d3, NULL}), 2,
                   "not a kind of world", "lv-feeder");
    PGT_EXPECT_CLI(
        ((const char *[]){"worlds", "generate", "--recipe", "lv-feeder", "--out", d3, NULL}), 2,
        "lv-feeder");
    PGT_EXPECT_CLI(
        ((const char *[]){"worlds", "generate", "--kind", "nexus", "lv-feeder", "--out", d3, NULL}),
        2, "give the recipe once");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "generate", "--kind", NULL}), 2, "--kind");
    PGT_EXPECT_CLI(((const char *[]){"worlds", "list", "--kind", "nexus", NULL}), 2,
                   "show and generate");
}

static void
test_all_dropped_exits_1(void **state)
{
    (void)state;
    const char *rec = pgt_tmp("overload.json");
    const char *text =
        "{\"format\": \"plurigrid-recipe/1\", \"name\": \"overload\", \"kind\": \"lv-feeder\", "
        "\"parameters\": {\"feeders\": 1, \"households_per_feeder\": 60, \"household_peak_kw\": "
        "15, "
        "\"cable_mm2\": 150, \"segment_m\": 200, \"branch_probability\": 0, \"transformer_kva\": "
        "630}}";
    pg_error e = {0};
    assert_int_equal(pg_output_write(rec, text, strlen(text), &e), PG_OK);
    PGT_EXPECT_CLI(
        ((const char *[]){"worlds", "generate", rec, "--count", "1", "--out", pgt_tmp("ov"), NULL}),
        1, "only 0 of 1 worlds passed the checks");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_kinds_and_show), cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_generate_list_show),  cmocka_unit_test(test_kind_and_recipe_options),
        cmocka_unit_test(test_all_dropped_exits_1),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pgt_tmpdir_cleanup();
    return rc;
}
