/* The plurigrid-world/1 JSON format: worlds round-trip exactly (every MATPOWER reference case, and
 * a world where every field differs from its default); files we write are a fixed point of
 * read + write; absent keys take their documented defaults; bad input gives an error with the
 * file, the JSON path and the line (also for a byte order mark, NUL bytes and huge numbers). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plurigrid/io.h"

static const char *case_names[] = {"case9",   "case14",  "case30",    "case57",
                                   "case118", "case300", "case2383wp"};

static void
check_round_trip(const pg_world *w, const char *what)
{
    char *text = NULL, *text2 = NULL;
    size_t len = 0;
    pg_error err = {0};
    int rc = pg_world_json_write_buffer(w, &text, &len, &err);
    if (rc)
        print_error("%s: write: %s\n", what, err.msg);
    assert_int_equal(rc, PG_OK);
    pg_world *r = NULL;
    rc = pg_world_json_read_buffer(text, len, "rt.json", &r, NULL, &err);
    if (rc)
        print_error("%s: read back: %s (line %d, %s)\n", what, err.msg, err.line, err.path);
    assert_int_equal(rc, PG_OK);
    char diff[512];
    bool eq = pg_world_equal(w, r, diff, sizeof diff);
    if (!eq)
        print_error("%s: %s\n", what, diff);
    assert_true(eq);
    assert_int_equal(pg_world_json_write_buffer(r, &text2, NULL, &err), PG_OK);
    assert_string_equal(text, text2);
    free(text);
    free(text2);
    pg_world_free(r);
}

static void
test_matpower_cases_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof case_names / sizeof *case_names; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "matpower/cases/%s.m", case_names[i]);
        pg_world *w = NULL;
        pg_error err = {0};
        assert_int_equal(pg_matpower_read_file(pgt_data_path(rel), &w, NULL, &err), PG_OK);
        check_round_trip(w, case_names[i]);
        pg_world_free(w);
    }
}

/* A world in which every field has a value other than its default. */
static pg_world *
full_world(void)
{
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&w, "full world", 50.5, &err), PG_OK);
    w->description = strdup("line one\nline \"two\" \\ with unicode: \xc3\xa9\xe2\x82\xac");
    double v1[] = {0.1, 0.2, 1.0 / 3.0, 1e-300, 12345.678901234567};
    double v2[] = {0.0, 0.5, 1.0};
    assert_int_equal(pg_world_add_series(w, "s1", 0.25, v1, 5, NULL, &err), PG_OK);
    assert_int_equal(pg_world_add_series(w, "avail", 0.25, v2, 3, NULL, &err), PG_OK);
    pg_bus b;
    pg_bus_init(&b);
    b.name = "bus A";
    b.number = 17;
    b.type = PG_BUS_REF;
    b.base_kv = 20.5;
    b.vm = 1.02;
    b.va = -3.5;
    b.vmin = 0.95;
    b.vmax = 1.05;
    b.gs = 0.3;
    b.bs = -1.7;
    b.area = 4;
    b.zone = 9;
    b.x = -1234.5678901234567; /* placed on a drawing */
    b.y = 1.0 / 3.0;
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    b.name = "b2";
    b.number = 1;
    b.type = PG_BUS_PV;
    b.x = 0; /* at the origin: still placed */
    b.y = -PG_POSITION_MAX;
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    b.name = "b3";
    b.number = 3;
    b.type = PG_BUS_ISOLATED;
    b.x = b.y = NAN; /* not placed */
    assert_int_equal(pg_world_add_bus(w, &b, NULL, &err), PG_OK);
    pg_branch br;
    pg_branch_init(&br);
    br.name = "t1";
    br.kind = PG_BRANCH_TRANSFORMER;
    br.from = 0;
    br.to = 1;
    br.r = 0.01;
    br.x = 0.1;
    br.b = 0.02;
    br.rate_a = 10;
    br.rate_b = 11;
    br.rate_c = 12;
    br.tap = 0.975;
    br.shift = -2.5;
    br.angmin = -30;
    br.angmax = 30;
    br.in_service = false;
    assert_int_equal(pg_world_add_branch(w, &br, NULL, &err), PG_OK);
    pg_load l;
    pg_load_init(&l);
    l.name = "ld";
    l.bus = 1;
    l.p = 3.25;
    l.q = -1.5;
    l.p_series = 0;
    l.q_series = 0;
    l.in_service = false;
    assert_int_equal(pg_world_add_load(w, &l, NULL, &err), PG_OK);
    pg_thermal t;
    pg_thermal_init(&t);
    t.name = "poly";
    t.bus = 0;
    t.in_service = false;
    t.p = 1;
    t.q = 2;
    t.pmin = 0.5;
    t.pmax = 10;
    t.qmin = -4;
    t.qmax = 4;
    t.vg = 1.01;
    t.mbase = 20;
    t.ramp_up = 5;
    t.ramp_down = 6;
    t.min_up_h = 2;
    t.min_down_h = 3;
    t.initial_on = false;
    t.initial_h = 7;
    t.fixed_cost = 50;
    t.startup_cost = 100;
    t.shutdown_cost = 10;
    double c[] = {1, 2.5, 0.125, 1e-9};
    assert_int_equal(pg_cost_set_polynomial(&t.cost, c, 4, &err), PG_OK);
    assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    t.name = "pwl";
    t.qmin = INFINITY; /* odd but representable */
    t.qmax = -INFINITY;
    double px[] = {0, 5, 10}, py[] = {0, 100, 250.5};
    assert_int_equal(pg_cost_set_piecewise(&t.cost, px, py, 3, &err), PG_OK);
    assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    t.name = "empty poly";
    assert_int_equal(pg_cost_set_polynomial(&t.cost, NULL, 0, &err), PG_OK);
    assert_int_equal(pg_world_add_thermal(w, &t, NULL, &err), PG_OK);
    pg_cost_clear(&t.cost);
    pg_renewable u;
    pg_renewable_init(&u);
    u.name = "pv";
    u.bus = 2;
    u.in_service = false;
    u.technology = PG_TECH_SOLAR;
    u.rating = 7;
    u.power_factor = 0.9;
    u.availability = 1;
    u.cost = 0.5;
    u.p = 1;
    u.q = 0.2;
    assert_int_equal(pg_world_add_renewable(w, &u, NULL, &err), PG_OK);
    pg_storage s;
    pg_storage_init(&s);
    s.name = "bat";
    s.bus = 1;
    s.in_service = false;
    s.energy_mwh = 10;
    s.soc_min_mwh = 1;
    s.soc_initial_mwh = 5;
    s.soc_target_mwh = 6;
    s.charge_mw = 2;
    s.discharge_mw = 3;
    s.eff_charge = 0.95;
    s.eff_discharge = 0.9;
    s.cost = 1.5;
    s.p = -1;
    s.q = 0.1;
    assert_int_equal(pg_world_add_storage(w, &s, NULL, &err), PG_OK);
    return w;
}

static void
test_every_field_round_trips(void **state)
{
    (void)state;
    pg_world *w = full_world();
    check_round_trip(w, "full world");
    /* and with every field at its default (what the writer leaves out) */
    pg_world *d = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_new(&d, "defaults", 100, &err), PG_OK);
    pg_bus b;
    pg_bus_init(&b);
    b.name = "x";
    b.number = 1;
    assert_int_equal(pg_world_add_bus(d, &b, NULL, &err), PG_OK);
    check_round_trip(d, "defaults");
    pg_world_free(d);
    pg_world_free(w);
}

/* Bus positions: written only for placed buses, read back exactly, both or neither. */
static void
test_positions(void **state)
{
    (void)state;
    pg_world *w = full_world();
    char *text = NULL;
    size_t len = 0;
    pg_error err = {0};
    assert_int_equal(pg_world_json_write_buffer(w, &text, &len, &err), PG_OK);
    assert_non_null(strstr(text, "\"x\": -1234.5678901234567, \"y\": 0.33333333333333331}"));
    assert_non_null(strstr(text, "\"x\": 0, \"y\": -1000000000}"));
    assert_non_null(strstr(text, "{\"name\": \"b3\", \"type\": \"isolated\", "));
    const char *b3 = strstr(text, "\"b3\""), *x3 = strstr(b3, "\"x\"");
    assert_true(!x3 || x3 > strchr(b3, '\n')); /* not on b3's line */
    free(text);
    pg_world *r = NULL;
    const char *t = "{\"format\": \"plurigrid-world/1\", \"buses\": [{\"name\": \"a\", "
                    "\"x\": 1e-300, \"y\": -0.0}, {\"name\": \"b\"}]}";
    assert_int_equal(pg_world_json_read_buffer(t, strlen(t), "p.json", &r, NULL, &err), PG_OK);
    assert_true(r->buses[0].x == 1e-300 && r->buses[0].y == 0 && signbit(r->buses[0].y));
    assert_true(isnan(r->buses[1].x) && isnan(r->buses[1].y));
    check_round_trip(r, "positions");
    pg_world_free(r);
    /* a placed bus with one coordinate cannot be written */
    w->buses[1].y = NAN;
    assert_int_equal(pg_world_json_write_buffer(w, &text, &len, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "bus 'b2' has only one drawing coordinate"));
    pg_world_free(w);
}

static void
test_defaults(void **state)
{
    (void)state;
    const char *text =
        "{\"format\": \"plurigrid-world/1\",\n"
        " \"buses\": [{\"name\": \"a\"}, {\"name\": \"b\", \"number\": 7}],\n"
        " \"branches\": [{\"name\": \"l\", \"from\": \"a\", \"to\": \"b\", \"x\": 0.1}],\n"
        " \"loads\": [{\"name\": \"d\", \"bus\": \"b\", \"p\": 5}],\n"
        " \"thermals\": [{\"name\": \"g\", \"bus\": \"a\", \"pmax\": 9}],\n"
        " \"renewables\": [{\"name\": \"r\", \"bus\": \"a\", \"rating\": 2}],\n"
        " \"storages\": [{\"name\": \"s\", \"bus\": \"a\", \"energy_mwh\": 4,\n"
        "    \"charge_mw\": 1, \"discharge_mw\": 1}],\n"
        " \"series\": [{\"name\": \"z\", \"values\": [1]}]}\n";
    pg_world *w = NULL;
    pg_error err = {0};
    assert_int_equal(
        pg_world_json_read_buffer(text, strlen(text), "dir/my-world.json", &w, NULL, &err), PG_OK);
    assert_string_equal(w->name, "my-world");
    assert_null(w->description);
    assert_near(w->base_mva, 100, 0);
    assert_int_equal(w->buses[0].number, 1);
    assert_int_equal(w->buses[1].number, 7);
    assert_int_equal(w->buses[0].type, PG_BUS_PQ);
    assert_near(w->buses[0].vm, 1, 0);
    assert_near(w->buses[0].vmin, 0.9, 0);
    assert_near(w->buses[0].vmax, 1.1, 0);
    assert_int_equal(w->buses[0].area, 1);
    assert_int_equal(w->branches[0].kind, PG_BRANCH_LINE);
    assert_near(w->branches[0].tap, 1, 0);
    assert_near(w->branches[0].angmin, -360, 0);
    assert_true(w->branches[0].in_service);
    assert_near(w->loads[0].q, 0, 0);
    assert_true(w->loads[0].p_series == PG_NONE);
    assert_true(isinf(w->thermals[0].qmax) && w->thermals[0].qmax > 0);
    assert_true(isinf(w->thermals[0].qmin) && w->thermals[0].qmin < 0);
    assert_near(w->thermals[0].mbase, 100, 0);
    assert_true(w->thermals[0].initial_on);
    assert_int_equal(w->thermals[0].cost.model, PG_COST_NONE);
    assert_int_equal(w->renewables[0].technology, PG_TECH_OTHER);
    assert_near(w->renewables[0].power_factor, 1, 0);
    assert_true(w->renewables[0].availability == PG_NONE);
    assert_near(w->storages[0].eff_charge, 1, 0);
    assert_near(w->storages[0].soc_target_mwh, -1, 0);
    assert_near(w->series[0].step_h, 1, 0);
    assert_int_equal(pg_world_validate(w, &err), PG_OK);
    pg_world_free(w);
}

static void
expect(const char *text, int code, int line, const char *path, const char *msg_part)
{
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_world_json_read_buffer(text, strlen(text), "bad.json", &w, NULL, &err);
    if (rc != code || err.line != line || (path && strcmp(err.path, path) != 0) ||
        !strstr(err.msg, msg_part))
        print_error("rc %d line %d path '%s' msg '%s'\n", rc, err.line, err.path, err.msg);
    assert_int_equal(rc, code);
    assert_null(w);
    assert_string_equal(err.file, "bad.json");
    assert_int_equal(err.line, line);
    if (path)
        assert_string_equal(err.path, path);
    assert_non_null(strstr(err.msg, msg_part));
}

#define HEAD "{\n  \"format\": \"plurigrid-world/1\",\n  \"buses\": [\n    {\"name\": \"a\"}"

static void
test_errors(void **state)
{
    (void)state;
    expect("", PG_EPARSE, 0, "", "empty");
    expect("{\"format\": \"plurigrid-world/1\",\n  \"buses\": [\n", PG_EPARSE, 3, "",
           "JSON syntax error");
    expect("{\"format\": \"plurigrid-world/1\", \"a\": 1, \"a\": 2}", PG_EPARSE, 1, "",
           "duplicate");
    expect("[1, 2]", PG_EPARSE, 1, "$", "JSON object");
    expect("{\"name\": \"x\"}", PG_EPARSE, 1, "$.format", "'format' is missing");
    expect("{\n\"format\": \"plurigrid-world/9\"}", PG_EUNSUPPORTED, 2, "$.format",
           "plurigrid-world/1");
    /* unknown keys, at the top and inside components */
    expect(HEAD ",\n    {\"name\": \"b\"}\n  ],\n  \"colour\": \"red\"\n}", PG_EPARSE, 7,
           "$.colour", "unknown key 'colour'");
    expect(HEAD ",\n    {\"name\": \"b\",\n     \"vmaxx\": 1.1}\n  ]\n}", PG_EPARSE, 6,
           "$.buses[1].vmaxx", "unknown key 'vmaxx' in a bus");
    /* wrong types */
    expect(HEAD ",\n    {\"name\": \"b\", \"vm\": \"1.0\"}\n  ]\n}", PG_EPARSE, 5, "$.buses[1].vm",
           "must be a number, got a string");
    expect(HEAD ",\n    {\"name\": 3}\n  ]\n}", PG_EPARSE, 5, "$.buses[1].name",
           "must be a string, got a number");
    expect(HEAD ",\n    {\"name\": \"b\", \"area\": 1.5}\n  ]\n}", PG_EPARSE, 5, "$.buses[1].area",
           "whole number");
    expect(HEAD ",\n    {\"name\": \"b\", \"type\": \"slack\"}\n  ]\n}", PG_EPARSE, 5,
           "$.buses[1].type", "\"ref\"");
    expect(HEAD ",\n    7\n  ]\n}", PG_EPARSE, 5, "$.buses[1]", "must be an object");
    expect("{\"format\": \"plurigrid-world/1\", \"buses\": {}}", PG_EPARSE, 1, "$.buses",
           "must be an array");
    expect(HEAD "\n  ],\n  \"thermals\": [\n    {\"name\": \"g\", \"bus\": \"a\", \"pmax\": 5,\n"
                "     \"in_service\": 1}\n  ]\n}",
           PG_EPARSE, 8, "$.thermals[0].in_service", "true or false");
    /* missing required keys */
    expect(HEAD "\n  ],\n  \"thermals\": [\n    {\"name\": \"g\", \"bus\": \"a\"}\n  ]\n}",
           PG_EPARSE, 7, "$.thermals[0].pmax", "needs 'pmax'");
    /* references */
    expect(HEAD "\n  ],\n  \"loads\": [\n    {\"name\": \"d\", \"bus\": \"zz\", \"p\": 1}\n  ]\n}",
           PG_EMODEL, 7, "$.loads[0].bus", "no bus named \"zz\"");
    expect(HEAD "\n  ],\n  \"loads\": [\n    {\"name\": \"d\", \"bus\": \"a\", \"p\": 1,\n"
                "     \"p_series\": \"nope\"}\n  ]\n}",
           PG_EMODEL, 8, "$.loads[0].p_series", "no time series named \"nope\"");
    /* duplicates */
    expect(HEAD ",\n    {\"name\": \"a\"}\n  ]\n}", PG_EMODEL, 5, "$.buses[1]",
           "bus name \"a\" is used twice");
    expect(HEAD ",\n    {\"name\": \"b\", \"number\": 1}\n  ]\n}", PG_EMODEL, 5,
           "$.buses[1].number", "bus number 1 is used twice");
    expect(
        "{\"format\": \"plurigrid-world/1\",\n \"series\": [{\"name\": \"s\", \"values\": [1]},\n"
        "  {\"name\": \"s\", \"values\": [2]}]}",
        PG_EMODEL, 3, "$.series[1]", "used twice");
    /* bus positions */
    expect(HEAD ",\n    {\"name\": \"b\", \"x\": 3}\n  ]\n}", PG_EMODEL, 5, "$.buses[1]",
           "needs both 'x' and 'y'; this one has no 'y'");
    expect(HEAD ",\n    {\"name\": \"b\",\n     \"y\": 3}\n  ]\n}", PG_EMODEL, 5, "$.buses[1]",
           "has no 'x'");
    expect(HEAD ",\n    {\"name\": \"b\",\n     \"x\": \"3\", \"y\": 3}\n  ]\n}", PG_EPARSE, 6,
           "$.buses[1].x", "'x' must be a number, got a string");
    expect(HEAD ",\n    {\"name\": \"b\",\n     \"x\": 1, \"y\": 1e10}\n  ]\n}", PG_EMODEL, 6,
           "$.buses[1].y", "a drawing coordinate must be from -1e+09 to 1e+09");
    expect(HEAD ",\n    {\"name\": \"b\",\n     \"x\": 1, \"y\": null}\n  ]\n}", PG_EPARSE, 6,
           "$.buses[1].y", "must be a number, got null");
    /* costs */
    expect(HEAD "\n  ],\n  \"thermals\": [\n    {\"name\": \"g\", \"bus\": \"a\", \"pmax\": 5,\n"
                "     \"cost\": {\"model\": \"polynomial\", \"coef\": [1, \"x\"]}}\n  ]\n}",
           PG_EPARSE, 8, "$.thermals[0].cost.coef[1]", "must be numbers");
    expect(HEAD "\n  ],\n  \"thermals\": [\n    {\"name\": \"g\", \"bus\": \"a\", \"pmax\": 5,\n"
                "     \"cost\": {\"model\": \"piecewise\", \"points\": [[0, 1]]}}\n  ]\n}",
           PG_EMODEL, 8, "$.thermals[0].cost.points", "at least 2 points");
    expect(HEAD "\n  ],\n  \"thermals\": [\n    {\"name\": \"g\", \"bus\": \"a\", \"pmax\": 5,\n"
                "     \"qmax\": \"lots\"}\n  ]\n}",
           PG_EPARSE, 8, "$.thermals[0].qmax", "\"inf\"");
    expect("{\"format\": \"plurigrid-world/1\", \"base_mva\": 0}", PG_EMODEL, 1, "$.base_mva",
           "positive");
    expect("{\"format\": \"plurigrid-world/1\", \"base_mva\": -5}", PG_EMODEL, 1, "$.base_mva",
           "positive");
    expect("{\"format\": \"plurigrid-world/1\", \"series\": [{\"name\": \"s\", \"values\": []}]}",
           PG_EMODEL, 1, "$.series[0].values", "at least one value");
    /* numbers JSON cannot hold are syntax errors */
    expect("{\"format\": \"plurigrid-world/1\", \"base_mva\": NaN}", PG_EPARSE, 1, "",
           "JSON syntax error");
    expect("{\"format\": \"plurigrid-world/1\", \"base_mva\": 1e999}", PG_EPARSE, 1, "",
           "JSON syntax error");
}

static void
test_writer_refuses_non_finite(void **state)
{
    (void)state;
    pg_world *w = full_world();
    w->buses[0].vm = NAN;
    char *text = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_json_write_buffer(w, &text, NULL, &err), PG_EMODEL);
    assert_null(text);
    assert_non_null(strstr(err.msg, "bus 'bus A': vm"));
    pg_world_free(w);
}

static void
test_any_format(void **state)
{
    (void)state;
    assert_string_equal(pg_world_format_from_path("a/b.JSON"), "json");
    assert_string_equal(pg_world_format_from_path("case9.m"), "matpower");
    assert_null(pg_world_format_from_path("x.txt"));
    assert_null(pg_world_format_from_path("dir.m/noext"));
    pg_world *w = full_world();
    const char *dir = pgt_tmpdir();
    char pj[4200], pm[4200], px[4200];
    snprintf(pj, sizeof pj, "%s/w.json", dir);
    snprintf(pm, sizeof pm, "%s/w.m", dir);
    snprintf(px, sizeof px, "%s/w.txt", dir);
    pg_error err = {0};
    pg_notes notes = {0};
    assert_int_equal(pg_world_write(w, pj, NULL, &notes, &err), PG_OK);
    assert_int_equal(notes.n, 0);
    pg_world *r = NULL;
    assert_int_equal(pg_world_read(pj, NULL, &r, NULL, &err), PG_OK);
    assert_true(pg_world_equal(w, r, NULL, 0));
    pg_world_free(r);
    /* explicit format overrides the extension */
    assert_int_equal(pg_world_write(w, px, "json", NULL, &err), PG_OK);
    assert_int_equal(pg_world_read(px, "json", &r, NULL, &err), PG_OK);
    pg_world_free(r);
    assert_int_equal(pg_world_read(px, NULL, &r, NULL, &err), PG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "cannot tell the format"));
    assert_int_equal(pg_world_read(px, "csv", &r, NULL, &err), PG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "unknown format 'csv'"));
    /* a world with storage, renewables and series as MATPOWER: written with notes, readable */
    assert_int_equal(pg_world_write(w, pm, NULL, &notes, &err), PG_OK);
    assert_true(notes.n >= 4);
    pg_notes_clear(&notes);
    int rc = pg_world_read(pm, NULL, &r, &notes, &err);
    if (rc)
        print_error("%s:%d: %s: %s\n", err.file, err.line, err.path, err.msg);
    assert_int_equal(rc, PG_OK);
    assert_int_equal(r->n_thermals, 5); /* 3 thermals + renewable + storage */
    assert_string_equal(r->buses[0].name, "bus A");
    assert_near(r->thermals[4].pmin, -2, 0);
    pg_notes_clear(&notes);
    pg_world_free(r);
    pg_world_free(w);
    pgt_tmpdir_cleanup();
}

/* A byte order mark is read past; a NUL, escaped in a string or as bytes after the world, is
 * named; a system base per-unit arithmetic cannot take is refused; a world with no buses reads
 * but does not validate. */
static void
test_hostile_text(void **state)
{
    (void)state;
    const char *world = "{\"format\": \"plurigrid-world/1\",\n \"name\": \"w\",\n"
                        " \"buses\": [{\"name\": \"a\", \"type\": \"ref\"}]}\n";
    size_t len = strlen(world);
    pg_world *plain = NULL, *w = NULL;
    pg_error err = {0};
    assert_int_equal(pg_world_json_read_buffer(world, len, "w.json", &plain, NULL, &err), PG_OK);
    char *buf = malloc(len + 64);
    assert_non_null(buf);
    memcpy(buf, "\xef\xbb\xbf", 3);
    memcpy(buf + 3, world, len);
    assert_int_equal(pg_world_json_read_buffer(buf, len + 3, "w.json", &w, NULL, &err), PG_OK);
    assert_true(pg_world_equal(plain, w, NULL, 0));
    pg_world_free(w);
    w = NULL;
    /* only a byte order mark: empty */
    assert_int_equal(pg_world_json_read_buffer(buf, 3, "w.json", &w, NULL, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "empty"));
    /* NUL bytes after the world */
    memcpy(buf, world, len);
    memset(buf + len, 0, 5);
    assert_int_equal(pg_world_json_read_buffer(buf, len + 5, "w.json", &w, NULL, &err), PG_EPARSE);
    assert_null(w);
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.msg, "5 NUL bytes"));
    free(buf);
    /* an escaped NUL in a string */
    expect("{\"format\": \"plurigrid-world/1\",\n \"name\": \"a\\u0000b\"}", PG_EPARSE, 2, "",
           "a string contains the NUL character \\u0000");
    /* the system base */
    expect("{\"format\": \"plurigrid-world/1\", \"base_mva\": 1e-300}", PG_EMODEL, 1, "$.base_mva",
           "from 0.001 to 1000000");
    expect("{\"format\": \"plurigrid-world/1\", \"base_mva\": 1e300}", PG_EMODEL, 1, "$.base_mva",
           "from 0.001 to 1000000");
    /* no buses */
    const char *no_buses = "{\"format\": \"plurigrid-world/1\", \"buses\": []}";
    int rc = pg_world_json_read_buffer(no_buses, strlen(no_buses), "e.json", &w, NULL, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, PG_OK);
    assert_int_equal(pg_world_validate(w, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "no buses"));
    pg_world_free(w);
    pg_world_free(plain);
}

/* Sets every number in v (recursively) in turn to x and calls check on the document. */
static size_t
each_number(json_t *root, json_t *v, double x, void (*check)(json_t *root, double x))
{
    size_t n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *m;
        json_object_foreach(v, key, m)
        {
            if (json_is_number(m)) {
                json_t *old = json_incref(m);
                json_object_set_new(v, key, json_real(x));
                check(root, x);
                json_object_set_new(v, key, old);
                n++;
            } else {
                n += each_number(root, m, x, check);
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *m = json_array_get(v, i);
            if (json_is_number(m)) {
                json_t *old = json_incref(m);
                json_array_set_new(v, i, json_real(x));
                check(root, x);
                json_array_set_new(v, i, old);
                n++;
            } else {
                n += each_number(root, m, x, check);
            }
        }
    }
    return n;
}

static size_t huge_read, huge_refused;

static void
check_huge(json_t *root, double x)
{
    char *text = json_dumps(root, JSON_REAL_PRECISION(17));
    assert_non_null(text);
    pg_world *w = NULL;
    pg_error err = {0};
    int rc = pg_world_json_read_buffer(text, strlen(text), "huge.json", &w, NULL, &err);
    if (rc == PG_OK)
        rc = pg_world_validate(w, &err);
    if (rc != PG_OK) {
        if (rc != PG_EPARSE && rc != PG_EMODEL)
            fail_msg("%g: status %d: %s", x, rc, err.msg);
        assert_true(err.msg[0] != '\0');
        assert_null(strstr(err.msg, "nan"));
        huge_refused++;
    } else {
        check_round_trip(w, "huge");
        huge_read++;
    }
    pg_world_free(w);
    free(text);
}

/* Huge finite numbers in every numeric field of a world where every field is set: each is read
 * (then validated or refused with a message, and written back exactly) or refused with a
 * message naming the place; never a crash, an undefined conversion or a NaN. */
static void
test_huge_numbers_everywhere(void **state)
{
    (void)state;
    pg_world *w = full_world();
    for (size_t g = 1; g < w->n_thermals; g++) { /* the full world's odd limits, made valid */
        w->thermals[g].qmin = -5;
        w->thermals[g].qmax = 5;
    }
    char *text = NULL;
    pg_error err = {0};
    if (pg_world_validate(w, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(pg_world_json_write_buffer(w, &text, NULL, &err), PG_OK);
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    const double huge[] = {1e300, -1e300, 1e308, -1e308, 1.7976931348623157e308};
    size_t fields = 0;
    for (size_t h = 0; h < sizeof huge / sizeof *huge; h++)
        fields = each_number(root, root, huge[h], check_huge);
    print_message("%zu fields, %zu worlds read, %zu refused\n", fields, huge_read, huge_refused);
    assert_true(fields > 50);
    assert_true(huge_read > 0 && huge_refused > 0);
    json_decref(root);
    free(text);
    pg_world_free(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matpower_cases_round_trip),
        cmocka_unit_test(test_every_field_round_trips),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_writer_refuses_non_finite),
        cmocka_unit_test(test_any_format),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_huge_numbers_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
