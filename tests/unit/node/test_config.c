/* The plurigrid-node/1 reader: what it reads (profiles, inputs, controller parameters) and every
 * kind of mistake it refuses, each error naming the file, the line and the JSON path. */
#include "harness.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/json_read.h"
#include "node/node_json.h"
#include "plurigrid/node.h"

static const char *const good =
    "{\n"
    "  \"format\": \"plurigrid-node/1\",\n"
    "  \"name\": \"home\",\n"
    "  \"profile\": \"residential\",\n"
    "  \"devices\": [\n"
    "    {\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"},\n"
    "    {\"kind\": \"battery\", \"name\": \"bat\", \"capacity_kwh\": 10, \"power_kw\": 5},\n"
    "    {\"kind\": \"pv\", \"name\": \"roof\", \"kw_peak\": 4},\n"
    "    {\"kind\": \"thermostat\", \"name\": \"ac\", \"outdoor\": \"outdoor_temp\"},\n"
    "    {\"kind\": \"fixed_load\", \"name\": \"fridge\", \"input\": \"load\", \"scale\": 0.1}\n"
    "  ],\n"
    "  \"controller\": {\"kind\": \"rules\", \"dr_offset_c\": 3}\n"
    "}\n";

static void
test_reads_a_config(void **state)
{
    (void)state;
    pg_node_config *c = NULL;
    pg_error err = {0};
    assert_int_equal(pg_node_config_parse(&c, "home.json", good, strlen(good), &err), PG_OK);
    assert_string_equal(pg_node_config_name(c), "home");
    assert_int_equal(pg_node_config_profile(c), PG_NODE_RESIDENTIAL);
    assert_int_equal(pg_node_config_n_inputs(c), 3); /* in the order the devices name them */
    assert_string_equal(pg_node_config_input(c, 0), "load");
    assert_string_equal(pg_node_config_input(c, 1), "pv");
    assert_string_equal(pg_node_config_input(c, 2), "outdoor_temp");
    assert_null(pg_node_config_input(c, 3));
    assert_near(pg_node_config_param(c, "dr_offset_c", 0), 3, 0);
    assert_near(pg_node_config_param(c, "reserve", 0.7), 0.7, 0);
    pg_node_config_free(c);
}

static void
test_controllers_table(void **state)
{
    (void)state;
    size_t n = 0;
    const pg_node_controller *t = pg_node_controllers(&n);
    assert_int_equal(n, 4);
    assert_string_equal(t[0].name, "rules");
    assert_string_equal(t[1].name, "lp");
    assert_string_equal(t[2].name, "aif");
    assert_string_equal(t[3].name, "wasm");
    assert_string_equal(t[3].file_params[0], "strategy");
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].params);
        assert_ptr_equal(pg_node_controller_find(t[i].name, NULL)->create, t[i].create);
    }
    pg_error err = {0};
    assert_null(pg_node_controller_find("magic", &err));
    assert_int_equal(err.code, PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "rules, lp, aif, wasm"));
}

/* good with `from` replaced by `to` must fail with code, at line, with path and words in the
 * message. */
static void
expect_error(const char *from, const char *to, int code, int line, const char *path,
             const char *words)
{
    const char *at = strstr(good, from);
    assert_non_null(at);
    char text[4096];
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    pg_node_config *c = NULL;
    pg_error err = {0};
    int rc = pg_node_config_parse(&c, "home.json", text, strlen(text), &err);
    char buf[1400];
    pg_error_format(&err, buf, sizeof buf);
    print_message("%s\n", buf);
    assert_int_equal(rc, code);
    assert_null(c);
    assert_string_equal(err.file, "home.json");
    assert_int_equal(err.line, line);
    if (path)
        assert_string_equal(err.path, path);
    assert_non_null(strstr(err.msg, words));
}

static void
test_errors(void **state)
{
    (void)state;
    expect_error("\"capacity_kwh\": 10", "\"capacity_kwh\": -10", PG_EPARSE, 7,
                 "$.devices[1].capacity_kwh", "must be more than 0 (it is -10)");
    expect_error("\"capacity_kwh\": 10", "\"capacity_kwh\": 0", PG_EPARSE, 7,
                 "$.devices[1].capacity_kwh", "more than 0");
    expect_error("\"capacity_kwh\": 10", "\"capacity_kwh\": NaN", PG_EPARSE, 7, NULL,
                 "not valid JSON");
    expect_error("\"kind\": \"pv\"", "\"kind\": \"wind_turbine\"", PG_EPARSE, 8,
                 "$.devices[2].kind", "unknown device kind 'wind_turbine' (the kinds are: pv,");
    expect_error("\"kw_peak\": 4", "\"kw_peak\": 4, \"tilt\": 30", PG_EPARSE, 8,
                 "$.devices[2].tilt", "unknown key 'tilt' in a pv device");
    expect_error("\"kw_peak\": 4", "\"input\": \"pv\"", PG_EPARSE, 8, "$.devices[2]",
                 "'kw_peak' is missing");
    expect_error("\"power_kw\": 5", "\"power_kw\": 5, \"soc_min\": 0.5, \"soc_max\": 0.4",
                 PG_EPARSE, 7, "$.devices[1].soc_max", "at least soc_min");
    expect_error("\"power_kw\": 5", "\"power_kw\": 5, \"eta_charge\": 1.2", PG_EPARSE, 7,
                 "$.devices[1].eta_charge", "at most 1");
    expect_error("\"profile\": \"residential\"", "\"profile\": \"castle\"", PG_EPARSE, 4,
                 "$.profile", "unknown profile 'castle'");
    expect_error("\"profile\": \"residential\"", "\"profile\": \"residential\", \"colour\": 1",
                 PG_EPARSE, 4, "$.colour", "unknown key 'colour' in a node config");
    expect_error("plurigrid-node/1", "plurigrid-node/9", PG_EPARSE, 2, "$.format",
                 "unsupported format");
    expect_error("\"profile\": \"residential\"",
                 "\"profile\": \"offgrid\", \"grid_connected\": "
                 "true",
                 PG_EPARSE, 4, "$.grid_connected", "no grid connection");
    expect_error("\"profile\": \"residential\"", "\"profile\": \"datacenter\"", PG_EPARSE, 5,
                 "$.devices", "needs an it_load");
    expect_error("\"name\": \"fridge\"", "\"name\": \"house\"", PG_EPARSE, 10, "$.devices[4].name",
                 "also called 'house'");
    expect_error("\"kind\": \"rules\"", "\"kind\": \"oracle\"", PG_EPARSE, 12, "$.controller.kind",
                 "unknown controller 'oracle'");
    expect_error("\"dr_offset_c\": 3", "\"dr_offset\": 3", PG_EPARSE, 12, "$.controller.dr_offset",
                 "unknown key 'dr_offset' in the rules controller");
    expect_error("\"dr_offset_c\": 3", "\"dr_offset_c\": 30", PG_EMODEL, 12, "$.controller",
                 "dr_offset_c from 0 to 10");
    expect_error("\"dr_offset_c\": 3", "\"dr_offset_c\": \"3\"", PG_EPARSE, 12,
                 "$.controller.dr_offset_c", "must be a number");
    expect_error("\"input\": \"load\", \"scale\"", "\"input\": \"\", \"scale\"", PG_EPARSE, 10,
                 "$.devices[4].input", "must name a series");
    expect_error("\"scale\": 0.1", "\"scale\": 1e300", PG_EPARSE, 10, "$.devices[4].scale",
                 "between 0 and 1e+09");
    expect_error("\"devices\": [", "\"devices\": 7, \"x\": [", PG_EPARSE, 5, "$.x",
                 "unknown key 'x'");
}

static void
test_error_names_file_and_line_from_a_file(void **state)
{
    (void)state;
    const char *path = pgt_tmp("bad.json");
    const char *bad = "{\"format\": \"plurigrid-node/1\", \"name\": \"n\",\n"
                      " \"profile\": \"residential\",\n"
                      " \"devices\": [\n"
                      "  {\"kind\": \"battery\", \"name\": \"b\",\n"
                      "   \"capacity_kwh\": -1, \"power_kw\": 1}]}\n";
    pg_error err = {0};
    assert_int_equal(pg_output_write(path, bad, strlen(bad), &err), PG_OK);
    pg_node_config *c = NULL;
    assert_int_equal(pg_node_config_read(&c, path, &err), PG_EPARSE);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 5);
    assert_string_equal(err.path, "$.devices[0].capacity_kwh");
    assert_int_equal(pg_node_config_read(&c, pgt_tmp("missing.json"), &err), PG_EIO);
    assert_null(c);
}

/* A document that holds a node config inline: the errors point into it. */
static void
test_inline_config(void **state)
{
    (void)state;
    const char *doc = "{\"nodes\": [\n"
                      "  {\"name\": \"a\", \"profile\": \"residential\", \"devices\": []},\n"
                      "  {\"name\": \"b\", \"profile\": \"residential\", \"devices\": [\n"
                      "     {\"kind\": \"ev\", \"name\": \"car\", \"charger_kw\": -7}]}]}\n";
    pgi_jr r;
    pg_error err = {0};
    assert_int_equal(pgi_jr_open(&r, "scenario.json", doc, strlen(doc), &err), PG_OK);
    json_t *nodes = json_object_get(r.root, "nodes");
    size_t m = pgi_jr_push_key(&r, "nodes");
    pg_node_config *c = NULL;
    size_t m0 = pgi_jr_push_index(&r, 0);
    assert_int_equal(pgi_node_config_from_json(&r, json_array_get(nodes, 0), &c), PG_OK);
    assert_string_equal(pg_node_config_name(c), "a");
    pg_node_config_free(c);
    c = NULL;
    pgi_jr_pop(&r, m0);
    pgi_jr_push_index(&r, 1);
    assert_int_equal(pgi_node_config_from_json(&r, json_array_get(nodes, 1), &c), PG_EPARSE);
    assert_null(c);
    pgi_jr_pop(&r, m);
    pgi_jr_close(&r);
    assert_string_equal(err.file, "scenario.json");
    assert_int_equal(err.line, 4);
    assert_string_equal(err.path, "$.nodes[1].devices[0].charger_kw");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_a_config),
        cmocka_unit_test(test_controllers_table),
        cmocka_unit_test(test_errors),
        cmocka_unit_test_teardown(test_error_names_file_and_line_from_a_file, pgt_teardown_tmpdir),
        cmocka_unit_test(test_inline_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
