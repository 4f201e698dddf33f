/* plurigrid community --private on scenario 0: the same clearing as the open run (every
 * interval's price to the last bit, every quantity, bill and settlement to the fixed point's
 * resolution), the coalition's privately metered totals equal to what the members metered, the
 * report of what each party saw (no dropout, no refused message, every bid on the public grid),
 * --help naming --private, and bad combinations refused with exit status 2. */
#include "harness.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char scen[4096], data[4096];

static int
setup(void **state)
{
    (void)state;
    snprintf(scen, sizeof scen, "%s", pgt_source_path("examples/scenario0/scenario.json"));
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana"));
    return 0;
}

static double worst;
static char worst_at[256];

/* Every number of a equals b's to tol (absolute plus relative), prices exactly; the same keys. */
static void
same(const json_t *a, const json_t *b, const char *path, bool price)
{
    char p[256];
    if (json_is_object(a)) {
        assert_true(json_is_object(b));
        assert_int_equal(json_object_size(a), json_object_size(b));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            snprintf(p, sizeof p, "%.200s.%.40s", path, k);
            json_t *w = json_object_get(b, k);
            if (!w)
                fail_msg("%s missing in the private report", p);
            same(v, w, p, strcmp(k, "price") == 0);
        }
    } else if (json_is_array(a)) {
        assert_true(json_is_array(b));
        assert_int_equal(json_array_size(a), json_array_size(b));
        for (size_t i = 0; i < json_array_size(a); i++) {
            snprintf(p, sizeof p, "%.230s[%zu]", path, i);
            same(json_array_get(a, i), json_array_get(b, i), p, price);
        }
    } else if (json_is_number(a)) {
        assert_true(json_is_number(b));
        double x = json_number_value(a), y = json_number_value(b);
        if (price && x != y)
            fail_msg("%s: open price %.17g, private %.17g", path, x, y);
        double d = fabs(x - y);
        if (d > 1e-3 + 1e-6 * fabs(x))
            fail_msg("%s: open %.17g, private %.17g", path, x, y);
        if (d > worst) {
            worst = d;
            snprintf(worst_at, sizeof worst_at, "%s", path);
        }
    } else {
        assert_true(json_equal((json_t *)a, (json_t *)b));
    }
}

static json_t *
run_json(const char *const *args)
{
    char *out = NULL, *err = NULL;
    int code = pgt_run_cli(args, NULL, &out, &err);
    if (code != 0)
        fail_msg("exit %d: %s", code, err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        fail_msg("not JSON: %s", je.text);
    free(out);
    free(err);
    return j;
}

static void
same_clearing(void **state)
{
    (void)state;
    const char *open_args[] = {"community", scen,     "--data", data, "--days",
                               "1",         "--json", "-",      NULL};
    const char *priv_args[] = {"community", scen,     "--data", data,        "--days",
                               "1",         "--json", "-",      "--private", NULL};
    json_t *a = run_json(open_args), *b = run_json(priv_args);
    json_t *pv = json_incref(json_object_get(b, "privacy"));
    assert_non_null(pv);
    json_object_del(b, "privacy");
    same(a, b, "$", false);
    printf("largest difference %.3g at %s\n", worst, worst_at);
    /* what each party saw: every aggregation released, nobody dropped, nothing refused */
    json_int_t aggs = json_integer_value(json_object_get(pv, "aggregations"));
    json_int_t runs = json_integer_value(json_object_get(pv, "runs"));
    assert_true(runs >= 2);
    assert_int_equal(aggs, runs * 24 * 2);
    assert_int_equal(json_integer_value(json_object_get(pv, "released")), aggs);
    assert_int_equal(json_integer_value(json_object_get(pv, "dropouts")), 0);
    assert_int_equal(json_integer_value(json_object_get(pv, "refused")), 0);
    assert_int_equal(json_integer_value(json_object_get(pv, "off_grid_orders")), 0);
    assert_int_equal(json_integer_value(json_object_get(pv, "members")), 17);
    json_t *ag = json_object_get(pv, "aggregator");
    assert_int_equal(json_integer_value(json_object_get(ag, "masked_vectors")), aggs * 17);
    assert_int_equal(json_integer_value(json_object_get(ag, "keys_reconstructed")), 0);
    /* private metering: the coalition's totals are what its members metered (the first
     * variant's market run) */
    json_t *me = json_object_get(pv, "metering");
    json_t *imp = json_object_get(me, "import_kwh"), *exp = json_object_get(me, "export_kwh");
    assert_int_equal(json_array_size(imp), 24);
    double si = 0, se = 0;
    for (size_t t = 0; t < 24; t++) {
        si += json_number_value(json_array_get(imp, t));
        se += json_number_value(json_array_get(exp, t));
        assert_int_equal(json_integer_value(json_array_get(json_object_get(me, "members"), t)), 17);
    }
    json_t *com = json_object_get(
        json_object_get(json_array_get(json_object_get(a, "variants"), 0), "market"), "community");
    assert_near(si, json_number_value(json_object_get(com, "import_kwh")), 1e-3);
    assert_near(se, json_number_value(json_object_get(com, "export_kwh")), 1e-3);
    assert_true(si > 10);
    json_t *chk = json_object_get(pv, "settlement_check");
    assert_true(json_number_value(json_object_get(chk, "energy_kwh")) < 1e-4);
    json_decref(pv);
    json_decref(a);
    json_decref(b);
}

static void
text_and_usage(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *help[] = {"community", "--help", NULL};
    assert_int_equal(pgt_run_cli(help, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "--private"));
    assert_non_null(strstr(out, "secure aggregation"));
    free(out);
    free(err);
    const char *bad1[] = {"community", scen,       "--data",     data,
                          "--private", "--market", "pay-as-bid", NULL};
    PGT_EXPECT_CLI(bad1, 2, "--private plays the uniform market only", "pay-as-bid");
    const char *bad2[] = {"community", scen, "--data", data, "--private", "--ledger", "/tmp", NULL};
    PGT_EXPECT_CLI(bad2, 2, "--private", "ledger");
    const char *bad3[] = {"community", pgt_source_path("examples/scenario0/scenario-feeder.json"),
                          "--data",    data,
                          "--days",    "1",
                          "--private", NULL};
    PGT_EXPECT_CLI(bad3, 2, "feeder");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_and_usage),
        cmocka_unit_test(same_clearing),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
