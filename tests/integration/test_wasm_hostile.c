/* Hostile strategy modules under the wasm controller: each is contained and the community's day
 * completes. Modules that misbehave at run time (out-of-bounds load and store, an endless loop,
 * unbounded recursion, memory grown past the ceiling, malformed bids: NaN, too many points, a
 * curve that is not monotone, a plan outside the memory) run as one home of a small community
 * for a day: the run finishes, the home is reported with no bid in every interval and the
 * reason, its neighbour trades with the grid as ever. Modules refused at load (an import the ABI
 * does not offer, bytes that are not WebAssembly, a strategy file that is not a built object)
 * never start: the build or the node config says why. */
#include <math.h>
#include <sys/stat.h>

#include "harness.h"
#include "plurigrid/community.h"
#include "plurigrid/node.h"
#include "wasm_util.h"

#define DAY 24

/* One hostile module, nine behaviours: pg_on_interval reads the view and does what the home's
 * battery size says (capacity_kwh K, so soc_max_kwh is K; one build serves every case). The
 * plan it returns lives at 1024: n_points at 1072, the points from 1080 (price, qty). */
static const char hostile_wat[] =
    "(module\n"
    "  (import \"pg\" \"view\" (func $view (param i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 2)\n"
    "  (func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))\n"
    "  (func (export \"pg_init\") (result i32) i32.const 0)\n"
    "  (func (export \"pg_on_interval\") (result i32) (local $k i32)\n"
    "    (drop (call $view (i32.const 4096) (i32.const 216)))\n"
    "    (local.set $k (i32.trunc_f64_u (f64.load (i32.const 4184))))\n" /* soc_max_kwh */
    /* 1: a load far outside the memory */
    "    (if (i32.eq (local.get $k) (i32.const 1)) (then\n"
    "      (return (i32.load (i32.const 0x10000000)))))\n"
    /* 2: a store far outside the memory */
    "    (if (i32.eq (local.get $k) (i32.const 2)) (then\n"
    "      (i32.store (i32.const 0x7ffffff0) (i32.const 1)) (return (i32.const 0))))\n"
    /* 3: an endless loop */
    "    (if (i32.eq (local.get $k) (i32.const 3)) (then (loop $l (br $l))))\n"
    /* 4: unbounded recursion */
    "    (if (i32.eq (local.get $k) (i32.const 4)) (then (return (call $r (i32.const 0)))))\n"
    /* 5: memory grown until memory.grow says no; past the ceiling (memory_pages 32) it would
     * return a valid empty plan, so only a contained growth ends in the trap */
    "    (if (i32.eq (local.get $k) (i32.const 5)) (then\n"
    "      (block $done (loop $l\n"
    "        (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))\n"
    "        (br $l)))\n"
    "      (if (i32.le_u (memory.size) (i32.const 32)) (then unreachable))\n"
    "      (return (i32.const 0))))\n"
    /* 6: a NaN price */
    "    (if (i32.eq (local.get $k) (i32.const 6)) (then\n"
    "      (i32.store (i32.const 1072) (i32.const 1))\n"
    "      (f64.store (i32.const 1080) (f64.const nan))\n"
    "      (f64.store (i32.const 1088) (f64.const 1)) (return (i32.const 1024))))\n"
    /* 7: seventeen points, one more than a plan holds */
    "    (if (i32.eq (local.get $k) (i32.const 7)) (then\n"
    "      (i32.store (i32.const 1072) (i32.const 17)) (return (i32.const 1024))))\n"
    /* 8: buys more at the higher price */
    "    (if (i32.eq (local.get $k) (i32.const 8)) (then\n"
    "      (i32.store (i32.const 1072) (i32.const 2))\n"
    "      (f64.store (i32.const 1080) (f64.const 0.1)) (f64.store (i32.const 1088) (f64.const "
    "1))\n"
    "      (f64.store (i32.const 1096) (f64.const 0.2)) (f64.store (i32.const 1104) (f64.const "
    "2))\n"
    "      (return (i32.const 1024))))\n"
    /* 9: a plan outside the memory */
    "    (if (i32.eq (local.get $k) (i32.const 9)) (then (return (i32.const 0x7fffff00))))\n"
    "    i32.const 0))\n";

static const struct hostile {
    int k;
    const char *name;
    const char *why; /* words of the reason the report gives */
} hostile[] = {
    {1, "out-of-bounds load", "trap: out-of-bounds"},
    {2, "out-of-bounds store", "trap: out-of-bounds"},
    {3, "endless loop", "killed"},
    {4, "unbounded recursion", "call stack exhausted"},
    {5, "memory past the ceiling", "unreachable"},
    {6, "NaN price", "bad bid"},
    {7, "too many points", "bad bid: 17 points"},
    {8, "curve not monotone", "bad bid"},
    {9, "plan outside the memory", "bad bid"},
};

/* Two homes for a day: "hostile" (a battery, the wasm controller running so_path) and
 * "neighbour" (PV to spare, the rules). */
static char *
scenario(const char *so_path, int k)
{
    static const char fmt[] =
        "{\"format\": \"plurigrid-community/1\", \"name\": \"hostile\", \"seed\": 3,\n"
        " \"step_h\": 1, \"intervals\": 24,\n"
        " \"start\": {\"date\": \"2016-08-01T00:00\", \"weekday\": \"Monday\"},\n"
        " \"prices\": {\"retail\": {\"constant\": 0.30}, \"feed_in\": {\"constant\": 0.10}},\n"
        " \"series\": {\"one\": {\"constant\": 1.0}},\n"
        " \"nodes\": [\n"
        "  {\"name\": \"hostile\", \"config\": {\"name\": \"hostile\", \"profile\": "
        "\"residential\",\n"
        "     \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"},\n"
        "                 {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": %d, "
        "\"power_kw\": 2, \"soc_max\": 1}],\n"
        "     \"controller\": {\"kind\": \"wasm\", \"strategy\": \"%s\", \"call_ms\": %d,\n"
        "                    \"memory_pages\": 32, \"stack_depth\": 500}},\n"
        "   \"inputs\": {\"load\": \"one\"}},\n"
        "  {\"name\": \"neighbour\", \"config\": {\"name\": \"neighbour\", \"profile\": "
        "\"residential\",\n"
        "     \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"},\n"
        "                 {\"kind\": \"pv\", \"name\": \"roof\", \"kw_peak\": 3, \"input\": "
        "\"pv\"}],\n"
        "     \"controller\": {\"kind\": \"rules\"}},\n"
        "   \"inputs\": {\"load\": \"one\", \"pv\": \"one\"}}\n"
        " ],\n"
        " \"market\": {\"mechanism\": \"uniform\"}}\n";
    size_t n = sizeof fmt + strlen(so_path) + 16;
    char *s = malloc(n);
    assert_non_null(s);
    /* a short deadline for the endless loop (it is waited for in every interval), a generous
     * one for the others, which must end by their own fault, not by the clock, even in a
     * sanitized build on a busy machine */
    snprintf(s, n, fmt, k, so_path, k == 3 ? 50 : 5000);
    return s;
}

static pg_community_report *
run_day(const char *so_path, int k)
{
    char *text = scenario(so_path, k);
    pg_community_options o;
    pg_community_options_init(&o);
    o.threads = 1;
    pg_community *c = NULL;
    pg_error err = {0};
    int rc = pg_community_parse(&c, "hostile.json", text, strlen(text), NULL, &o, &err);
    free(text);
    if (rc)
        fail_msg("the scenario: %s", err.msg);
    pg_community_report *r = NULL;
    rc = pg_community_run_all(c, &o, &r, &err);
    pg_community_free(c);
    if (rc)
        fail_msg("the run did not complete: %s", err.msg);
    return r;
}

/* Both runs (market and baseline) completed the day with the hostile home bidding nothing in
 * every interval for the reason why, and the neighbour bidding as ever. */
static void
expect_contained(const pg_community_report *r, const char *name, const char *why)
{
    assert_int_equal(r->n_intervals, DAY);
    const pg_community_variant *v = &r->variants[0];
    const pg_community_run *runs[] = {&v->market, &v->baseline};
    for (size_t k = 0; k < 2; k++) {
        const pg_community_metrics *h = &runs[k]->node[0], *nb = &runs[k]->node[1];
        print_message("%s (%s run): %zu intervals without a bid: %s\n", name,
                      k ? "baseline" : "market", h->no_bids, h->no_bid_why);
        assert_int_equal(h->no_bids, DAY);
        assert_non_null(strstr(h->no_bid_why, why));
        assert_int_equal(runs[k]->total.no_bids, DAY);
        assert_int_equal(nb->no_bids, 0);
        assert_string_equal(nb->no_bid_why, "");
        /* the hostile home still ran its devices: its load was served from the grid */
        assert_near(h->load_kwh, DAY * 1.0, 1e-9);
        assert_near(h->grid_import_kwh, DAY * 1.0, 1e-9);
        assert_near(h->peer_bought_kwh + h->peer_sold_kwh, 0, 0);
    }
}

static void
test_hostile_modules_are_contained(void **state)
{
    (void)state;
    char *wasm = pgt_wat("hostile", hostile_wat);
    char *so = pgt_build_so("hostile", wasm);
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        pg_community_report *r = run_day(so, hostile[i].k);
        expect_contained(r, hostile[i].name, hostile[i].why);
        pg_community_report_free(r);
    }
    free(wasm);
    free(so);
}

/* The same through the command: exit 0, the report says which home bid nothing and why, and the
 * JSON counts it. */
static void
test_command_reports_no_bid(void **state)
{
    (void)state;
    char *wasm = pgt_wat("hostile", hostile_wat);
    char *so = pgt_build_so("hostile", wasm);
    char *text = scenario(so, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/hostile.json", pgt_tmpdir());
    pgt_write(path, text);
    char *out = NULL, *err = NULL;
    const char *args[] = {"community", path, NULL};
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "hostile gave no bid in 24 of 24 intervals"));
    assert_non_null(strstr(out, "out-of-bounds"));
    free(out);
    free(err);
    const char *jargs[] = {"community", path, "--json", "-", NULL};
    assert_int_equal(pgt_run_cli(jargs, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"no_bids\":24"));
    assert_non_null(strstr(out, "\"no_bid_why\":\"trap: out-of-bounds"));
    free(out);
    free(err);
    free(text);
    free(wasm);
    free(so);
}

/* An import the ABI does not offer, and bytes that are not WebAssembly: refused before anything
 * runs, naming the import or the file. */
static void
test_refused_at_load(void **state)
{
    (void)state;
    char *wasm =
        pgt_wat("socket", "(module\n"
                          "  (import \"env\" \"socket\" (func $s (param i32) (result i32)))\n"
                          "  (memory (export \"memory\") 1)\n"
                          "  (func (export \"pg_init\") (result i32) (call $s (i32.const "
                          "0)))\n"
                          "  (func (export \"pg_on_interval\") (result i32) i32.const 0))\n");
    char so[1024];
    snprintf(so, sizeof so, "%s/socket.so", pgt_tmpdir());
    pg_error err = {0};
    assert_int_equal(pg_wasm_build(wasm, so, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "socket"));
    assert_int_not_equal(access(so, F_OK), 0); /* nothing written */
    free(wasm);

    char bad[1024];
    snprintf(bad, sizeof bad, "%s/garbage.wasm", pgt_tmpdir());
    pgt_write(bad, "\1\2\3 this is not WebAssembly");
    memset(&err, 0, sizeof err);
    int rc = pg_wasm_build(bad, so, NULL, &err);
    char buf[1400];
    print_message("%s\n", pg_error_format(&err, buf, sizeof buf));
    assert_true(rc == PG_EPARSE || rc == PG_EMODEL);
    assert_non_null(strstr(buf, "garbage.wasm"));
    assert_int_not_equal(access(so, F_OK), 0);
    /* a truncated module: the magic and version, then a section cut short */
    pgt_write(bad, "\0asm\1\0\0\0\1\x7f");
    memset(&err, 0, sizeof err);
    rc = pg_wasm_build(bad, so, NULL, &err);
    assert_true(rc == PG_EPARSE || rc == PG_EMODEL);
    assert_int_not_equal(access(so, F_OK), 0);
}

/* A node config whose strategy is not a built object (the module itself, a missing file): the
 * config is refused at read, naming the node and the file; the controller never starts. */
static void
test_config_refuses_what_is_not_a_strategy(void **state)
{
    (void)state;
    char *wasm = pgt_wat("plain", hostile_wat);
    const char *cases[] = {wasm, "/nonexistent/strategy.so"};
    for (size_t i = 0; i < 2; i++) {
        char *text = scenario(cases[i], 1);
        pg_community_options o;
        pg_community_options_init(&o);
        pg_community *c = NULL;
        pg_error err = {0};
        int rc = pg_community_parse(&c, "hostile.json", text, strlen(text), NULL, &o, &err);
        print_message("%s: %s\n", cases[i], err.msg);
        assert_int_not_equal(rc, PG_OK);
        assert_null(c);
        assert_non_null(strstr(err.msg, "hostile"));
        assert_non_null(strstr(err.msg, cases[i]));
        free(text);
    }
    free(wasm);
}

/* The strategy's file is taken from the folder of the config that names it. */
static void
test_strategy_relative_to_config(void **state)
{
    (void)state;
    pgt_need_strategies();
    char dir[1024], cfg[1200], so[1200];
    snprintf(dir, sizeof dir, "%s/nodes", pgt_tmpdir());
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(so, sizeof so, "%s/threshold.so", dir);
    char *bytes = NULL;
    size_t len = 0;
    pg_error err = {0};
    assert_int_equal(pg_input_read(pgt_strategy("threshold", ".so"), 0, &bytes, &len, &err), PG_OK);
    FILE *f = fopen(so, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(bytes);
    snprintf(cfg, sizeof cfg, "%s/home.json", dir);
    pgt_write(cfg,
              "{\"format\": \"plurigrid-node/1\", \"name\": \"home\", \"profile\": "
              "\"residential\",\n"
              " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"h\", \"input\": \"load\"}],\n"
              " \"controller\": {\"kind\": \"wasm\", \"strategy\": \"threshold.so\"}}\n");
    pg_node_config *c = NULL;
    int rc = pg_node_config_read(&c, cfg, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_string_equal(pg_node_config_file(c, "strategy"), so);
    pg_node_config_free(c);
    /* a limit out of range is the config's error, at its controller section */
    pgt_write(cfg,
              "{\"format\": \"plurigrid-node/1\", \"name\": \"home\", \"profile\": "
              "\"residential\",\n"
              " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"h\", \"input\": \"load\"}],\n"
              " \"controller\": {\"kind\": \"wasm\", \"strategy\": \"threshold.so\",\n"
              "   \"call_ms\": 0}}\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(pg_node_config_read(&c, cfg, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "call_ms"));
    assert_int_equal(err.line, 3);
    /* the memory ceiling's range is the sandbox's: 32768 pages (2 GiB) */
    pgt_write(cfg,
              "{\"format\": \"plurigrid-node/1\", \"name\": \"home\", \"profile\": "
              "\"residential\",\n"
              " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"h\", \"input\": \"load\"}],\n"
              " \"controller\": {\"kind\": \"wasm\", \"strategy\": \"threshold.so\",\n"
              "   \"memory_pages\": 40000}}\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(pg_node_config_read(&c, cfg, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "memory_pages must be a whole number from 1 to 32768"));
    /* and the strategy is needed */
    pgt_write(cfg,
              "{\"format\": \"plurigrid-node/1\", \"name\": \"home\", \"profile\": "
              "\"residential\",\n"
              " \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"h\", \"input\": \"load\"}],\n"
              " \"controller\": {\"kind\": \"wasm\"}}\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(pg_node_config_read(&c, cfg, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "\"strategy\""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hostile_modules_are_contained, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_command_reports_no_bid, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_refused_at_load, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_config_refuses_what_is_not_a_strategy, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_strategy_relative_to_config, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
