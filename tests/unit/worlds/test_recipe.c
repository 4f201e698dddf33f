/* Recipes: every kind's default recipe reads back from its canonical JSON unchanged; the
 * catalog's recipes (examples/worlds/) read; draws keep to their distributions (bounds, the
 * frequencies of whole numbers and of weighted choices, cuts); mistakes are refused naming the
 * file, the line, the JSON path and what is wrong. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/worlds.h"
#include "worlds/internal.h"

static void
fail_err(const char *what, pg_error *err)
{
    char buf[1200];
    fail_msg("%s: %s", what, pg_error_format(err, buf, sizeof buf));
}

static pg_recipe *
parse(const char *text)
{
    pg_error err = {0};
    pg_recipe *r = NULL;
    if (pg_recipe_parse(&r, text, strlen(text), "r.json", &err))
        fail_err("recipe", &err);
    return r;
}

static char *
json_of(const pg_recipe *r)
{
    pg_error err = {0};
    char *t = NULL;
    if (pg_recipe_json(r, &t, &err))
        fail_err("json", &err);
    return t;
}

static void
test_defaults_round_trip(void **state)
{
    (void)state;
    size_t n = 0;
    const pg_worlds_kind *k = pg_worlds_kinds(&n);
    assert_int_equal(n, 4);
    assert_string_equal(k[0].name, "lv-feeder");
    assert_string_equal(k[1].name, "mv-grid");
    for (size_t i = 0; i < n; i++) {
        pg_error err = {0};
        pg_recipe *r = NULL;
        if (pg_recipe_default(&r, k[i].name, &err))
            fail_err(k[i].name, &err);
        assert_string_equal(pg_recipe_name(r), k[i].name);
        assert_string_equal(pg_recipe_kind(r), k[i].name);
        char *a = json_of(r);
        pg_recipe *back = parse(a);
        char *b = json_of(back);
        assert_string_equal(a, b);
        free(a);
        free(b);
        pg_recipe_free(back);
        pg_recipe_free(r);
    }
    pg_error err = {0};
    pg_recipe *r = NULL;
    assert_int_equal(pg_recipe_default(&r, "hv-grid", &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "lv-feeder"));
    char *kj = NULL;
    assert_int_equal(pg_worlds_kinds_json(&kj, &err), PG_OK);
    assert_non_null(strstr(kj, "\"household_peak_kw\""));
    assert_non_null(strstr(kj, "plurigrid-worlds-kinds/1"));
    free(kj);
}

/* A recipe gives some parameters; the rest keep their defaults, and the canonical JSON writes
 * them all. */
static void
test_overrides_and_canonical_form(void **state)
{
    (void)state;
    pg_recipe *r = parse("{\"format\": \"plurigrid-recipe/1\", \"name\": \"lv-x\", \"kind\": "
                         "\"lv-feeder\", \"parameters\": {\"feeders\": {\"int\": [2, 4]}, "
                         "\"pv_probability\": 0.75, \"segment_m\": {\"normal\": [50, 10], "
                         "\"min\": 30, \"max\": 60}}}");
    assert_string_equal(pg_recipe_name(r), "lv-x");
    char *t = json_of(r);
    assert_non_null(strstr(t, "\"pv_probability\": 0.75"));
    assert_non_null(strstr(t, "\"normal\""));
    assert_non_null(strstr(t, "\"transformer_kva\"")); /* a default, written out */
    free(t);
    pg_rng rng;
    pg_rng_seed(&rng, 3, 0);
    size_t hits[3] = {0, 0, 0};
    const size_t N = 30000;
    for (size_t i = 0; i < N; i++) {
        double f = pgi_recipe_draw(r, "feeders", &rng);
        assert_true(f == 2 || f == 3 || f == 4);
        hits[(int)f - 2]++;
        double s = pgi_recipe_draw(r, "segment_m", &rng);
        assert_true(s >= 30 && s <= 60);
        assert_true(pgi_recipe_draw(r, "pv_probability", &rng) == 0.75);
    }
    for (int i = 0; i < 3; i++) {
        double share = (double)hits[i] / (double)N, se = sqrt(2.0 / 9.0 / (double)N);
        assert_true(fabs(share - 1.0 / 3.0) < 4 * se);
    }
    /* Weighted choice: 250 kVA 30 %, 400 kVA 45 %, 630 kVA 25 % (the default). */
    size_t t250 = 0;
    for (size_t i = 0; i < N; i++)
        t250 += pgi_recipe_draw(r, "transformer_kva", &rng) == 250;
    assert_true(fabs((double)t250 / (double)N - 0.3) < 4 * sqrt(0.21 / (double)N));
    assert_true(isnan(pgi_recipe_draw(r, "no_such_parameter", &rng)));
    pg_recipe_free(r);
}

static void
test_catalog_recipes_read(void **state)
{
    (void)state;
    const char *names[] = {"lv-rural",  "lv-suburban",   "lv-urban",      "mv-ring",
                           "mv-meshed", "village-small", "village-large", "nexus-mixed"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "examples/worlds/%s.json", names[i]);
        pg_error err = {0};
        pg_recipe *r = NULL;
        if (pg_recipe_read(&r, pgt_source_path(rel), &err))
            fail_err(rel, &err);
        assert_string_equal(pg_recipe_name(r), names[i]);
        pg_world *w = NULL;
        if (pg_worlds_make(&w, r, 1, 0, NULL, &err))
            fail_err(names[i], &err);
        pg_world_free(w);
        pg_recipe_free(r);
    }
}

/* text must be refused with code, the message holding want and the path path (line when > 0). */
static void
refused(const char *text, int code, const char *path, int line, const char *want)
{
    pg_error err = {0};
    pg_recipe *r = NULL;
    int rc = pg_recipe_parse(&r, text, strlen(text), "r.json", &err);
    char buf[1200];
    pg_error_format(&err, buf, sizeof buf);
    if (rc != code || !strstr(err.msg, want) || (path && strcmp(err.path, path) != 0) ||
        (line > 0 && err.line != line) || strcmp(err.file, "r.json") != 0)
        fail_msg("expected %d at %s line %d with '%s', got %d: %s", code, path ? path : "-", line,
                 want, rc, buf);
    assert_null(r);
}

#define HEAD "{\"format\": \"plurigrid-recipe/1\", \"name\": \"x\", \"kind\": \"lv-feeder\", "

static void
test_mistakes_are_named(void **state)
{
    (void)state;
    refused("{\"format\": ", PG_EPARSE, NULL, 1, "not valid JSON");
    refused("{\"format\": \"plurigrid-world/1\"}", PG_EPARSE, "$.format", 1, "plurigrid-recipe/1");
    refused("{\"format\": \"plurigrid-recipe/1\", \"name\": \"x\", \"kind\": \"hv\"}", PG_EPARSE,
            "$.kind", 1, "no kind of world called 'hv'");
    refused("{\"format\": \"plurigrid-recipe/1\", \"name\": \"Big Name\", \"kind\": "
            "\"lv-feeder\"}",
            PG_EPARSE, "$.name", 1, "lower-case");
    refused(HEAD "\"colour\": 1}", PG_EPARSE, "$.colour", 1, "unknown key");
    refused(HEAD "\n\"parameters\": {\"nope\": 1}}", PG_EPARSE, "$.parameters.nope", 2,
            "no parameter 'nope' (its parameters are: transformer_kva");
    refused(HEAD "\"parameters\": {\"feeders\": 1000}}", PG_EPARSE, "$.parameters.feeders", 1,
            "outside the range");
    refused(HEAD "\"parameters\": {\"feeders\": {\"int\": [4, 2]}}}", PG_EPARSE,
            "$.parameters.feeders.int", 1, "above the upper end");
    refused(HEAD "\"parameters\": {\"feeders\": {\"int\": [1.5, 2]}}}", PG_EPARSE,
            "$.parameters.feeders.int", 1, "whole");
    refused(HEAD "\"parameters\": {\"feeders\": {\"uniform\": [1, 2], \"int\": [1, 2]}}}",
            PG_EPARSE, "$.parameters.feeders", 1, "one form");
    refused(HEAD "\"parameters\": {\"feeders\": {\"between\": [1, 2]}}}", PG_EPARSE,
            "$.parameters.feeders", 1, "needs one of the members");
    refused(HEAD "\"parameters\": {\"feeders\": \"3\"}}", PG_EPARSE, "$.parameters.feeders", 1,
            "must be a number or a distribution");
    refused(HEAD "\"parameters\": {\"cable_mm2\": {\"choice\": [150, 240], \"weights\": [1]}}}",
            PG_EPARSE, "$.parameters.cable_mm2.weights", 1, "one weight per value");
    refused(HEAD "\"parameters\": {\"cable_mm2\": {\"choice\": [150, 240], \"weights\": [0, "
                 "0]}}}",
            PG_EPARSE, "$.parameters.cable_mm2.weights", 1, "must not all be 0");
    refused(HEAD "\"parameters\": {\"cable_mm2\": {\"choice\": []}}}", PG_EPARSE,
            "$.parameters.cable_mm2.choice", 1, "1 to 64 values");
    refused(HEAD "\"parameters\": {\"segment_m\": {\"lognormal\": [3, 0.1], \"min\": 500, "
                 "\"max\": 900}}}",
            PG_EPARSE, "$.parameters.segment_m", 1, "leaves almost nothing");
    refused(HEAD "\"parameters\": {\"segment_m\": {\"normal\": [30, -1]}}}", PG_EPARSE,
            "$.parameters.segment_m.normal", 1, "standard deviation");
    refused(HEAD "\"parameters\": {\"segment_m\": {\"normal\": [30, 5], \"max\": 5000}}}",
            PG_EPARSE, "$.parameters.segment_m", 1, "beyond the range");
    refused(HEAD "\"parameters\": {\"segment_m\": {\"normal\": [30, 5], \"min\": 40, \"max\": "
                 "35}}}",
            PG_EPARSE, "$.parameters.segment_m", 1, "above max");
    refused(HEAD "\"parameters\": {\"segment_m\": {\"uniform\": [1e400, 2]}}}", PG_EPARSE, NULL, 1,
            "");
    refused(HEAD "\"parameters\": {\"segment_m\": {\"uniform\": [1, 2], \"min\": 1}}}", PG_EPARSE,
            "$.parameters.segment_m.min", 1, "unknown key");
    /* Every kind's parameters have ranges: absurd village and nexus values, and a time series
     * so long that one world would take gigabytes and minutes (at most a week of hours). */
#define VILLAGE "{\"format\": \"plurigrid-recipe/1\", \"name\": \"x\", \"kind\": \"village\", "
#define NEXUS "{\"format\": \"plurigrid-recipe/1\", \"name\": \"x\", \"kind\": \"nexus\", "
    refused(VILLAGE "\n\"parameters\": {\"households\": -5}}", PG_EPARSE, "$.parameters.households",
            2, "outside the range");
    refused(VILLAGE "\"parameters\": {\"households\": 1000000}}", PG_EPARSE,
            "$.parameters.households", 1, "outside the range");
    refused(VILLAGE "\"parameters\": {\"household_peak_kw\": 1e300}}", PG_EPARSE,
            "$.parameters.household_peak_kw", 1, "outside the range");
    refused(VILLAGE "\"parameters\": {\"gensets\": {\"int\": [0, 2]}}}", PG_EPARSE,
            "$.parameters.gensets.int[0]", 1, "(1 to 3)");
    refused(NEXUS "\"parameters\": {\"homes\": 1e6}}", PG_EPARSE, "$.parameters.homes", 1,
            "outside the range");
    refused(NEXUS "\n\n\"parameters\": {\"home_peak_kw\": -3}}", PG_EPARSE,
            "$.parameters.home_peak_kw", 3, "outside the range");
    refused(NEXUS "\"parameters\": {\"steps\": 8760}}", PG_EPARSE, "$.parameters.steps", 1,
            "outside the range");
    refused(HEAD "\"parameters\": {\"steps\": 8760}}", PG_EPARSE, "$.parameters.steps", 1,
            "outside the range");
    /* Files: a missing one and a folder are named. */
    pg_error err = {0};
    pg_recipe *r = NULL;
    assert_int_not_equal(pg_recipe_read(&r, "/nonexistent/recipe.json", &err), PG_OK);
    char buf[1200];
    assert_non_null(strstr(pg_error_format(&err, buf, sizeof buf), "/nonexistent/recipe.json"));
    assert_int_not_equal(pg_recipe_read(&r, "/tmp", &err), PG_OK);
    assert_null(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_round_trip),
        cmocka_unit_test(test_overrides_and_canonical_form),
        cmocka_unit_test(test_catalog_recipes_read),
        cmocka_unit_test(test_mistakes_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
