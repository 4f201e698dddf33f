/* The same strategy as a sandboxed module and as native C bids the same on scenario 0, bit for
 * bit; and a node runs a strategy module through whole community days.
 *
 * Scenario 0 (examples/scenario0/, the 17 Sierra Crest homes, data from ../shared/data) is read
 * with Building_1's "with-devices" home under the wasm controller running an example strategy
 * built by make. It is played twice, two days in August with demand-response events: once with
 * that controller, once with the strategy's native build (examples/strategies/native.c) in its
 * place; both record every plan Building_1's controller returns, in every run of the variant
 * (market, baseline and the runs without events). Every plan, every point of every bid curve,
 * must be the same double, and the two reports the same to the last byte. */
#include <math.h>

#include <jansson.h>

#include "community/internal.h"
#include "core/util.h"
#include "harness.h"
#include "native.h"
#include "node/controllers.h"
#include "node/internal.h"
#include "plurigrid/community.h"
#include "wasm_util.h"

#define START_DAY 15 /* 2016-08-15, the first day with a demand-response event */
#define DAYS 2
#define MAX_RUNS 8
#define MAX_T (DAYS * 24)

/* What one controller instance (one node of one run) planned, interval by interval. */
typedef struct record {
    size_t n_runs;
    size_t n[MAX_RUNS];
    pg_node_plan plan[MAX_RUNS][MAX_T];
} record;

static record *rec; /* the record being written (runs play one at a time: threads 1) */
static const pgx_strategy *native;

typedef struct inst {
    size_t run;
    void *inner;     /* the wasm controller's state */
    size_t n_inputs; /* native */
    size_t n_told;   /* native: events told (by id, in the order they came) */
    char told[16][64];
} inst;

static int
rec_create(inst **out, const pg_node_config *cfg, pg_error *err)
{
    inst *s = calloc(1, sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (rec->n_runs >= MAX_RUNS) {
        free(s);
        return pg_error_set(err, PG_ELIMIT, "more runs than the test records");
    }
    s->run = rec->n_runs++;
    s->n_inputs = pg_node_config_n_inputs(cfg);
    *out = s;
    return PG_OK;
}

static void
rec_plan(inst *s, const pg_node_plan *p)
{
    size_t *n = &rec->n[s->run];
    if (*n < MAX_T)
        rec->plan[s->run][(*n)++] = *p;
}

static int
wasm_rec_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    inst *s = NULL;
    int rc = rec_create(&s, cfg, err);
    if (rc)
        return rc;
    if ((rc = pgi_ctl_wasm.create(&s->inner, cfg, seed, err))) {
        free(s);
        return rc;
    }
    *state = s;
    return PG_OK;
}

static int
wasm_rec_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    inst *s = state;
    int rc = pgi_ctl_wasm.plan(s->inner, v, out, err);
    if (!rc)
        rec_plan(s, out);
    return rc;
}

static void
wasm_rec_destroy(void *state)
{
    inst *s = state;
    pgi_ctl_wasm.destroy(s->inner);
    free(s);
}

static int
native_create(void **state, const pg_node_config *cfg, uint64_t seed, pg_error *err)
{
    (void)seed;
    inst *s = NULL;
    int rc = rec_create(&s, cfg, err);
    if (rc)
        return rc;
    if (native->init() != 0) {
        free(s);
        return pg_error_set(err, PG_EMODEL, "the native strategy refused to start");
    }
    *state = s;
    return PG_OK;
}

/* As the wasm controller: new events first (pg_on_dr_event), then the bid. */
static int
native_plan(void *state, const pg_node_view *v, pg_node_plan *out, pg_error *err)
{
    (void)err;
    inst *s = state;
    for (size_t i = 0; i < v->env->n_events; i++) {
        const pg_dr_event *e = &v->env->events[i];
        bool seen = false;
        for (size_t k = 0; k < s->n_told && !seen; k++)
            seen = strncmp(s->told[k], e->id, 64) == 0;
        if (seen)
            continue;
        if (s->n_told < 16)
            snprintf(s->told[s->n_told++], 64, "%.63s", e->id);
        assert_int_equal(pgx_native_dr_event(native, v, s->n_inputs, e), 0);
    }
    assert_int_equal(pgx_native_bid(native, v, s->n_inputs, out), 0);
    rec_plan(s, out);
    return PG_OK;
}

static void
native_destroy(void *state)
{
    free(state);
}

static const char *const no_params[] = {NULL};
static const pg_node_controller wasm_rec = {.name = "wasm",
                                            .summary = "the wasm controller, recorded",
                                            .params = no_params,
                                            .create = wasm_rec_create,
                                            .plan = wasm_rec_plan,
                                            .destroy = wasm_rec_destroy};
static const pg_node_controller native_ctl = {.name = "native",
                                              .summary = "the strategy's native build, recorded",
                                              .params = no_params,
                                              .create = native_create,
                                              .plan = native_plan,
                                              .destroy = native_destroy};

/* Scenario 0 with Building_1's "with-devices" home running strategy NAME in the sandbox; the
 * other configs from examples/scenario0/. Written to the temporary folder; returns its path. */
static const char *
scenario_with(const char *name)
{
    static char path[1024];
    char cfg[1024], text[2048];
    snprintf(cfg, sizeof cfg, "%s/home-wasm.json", pgt_tmpdir());
    snprintf(
        text, sizeof text,
        "{\"format\": \"plurigrid-node/1\", \"name\": \"home-wasm\",\n"
        " \"profile\": \"residential\",\n"
        " \"devices\": [\n"
        "  {\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"},\n"
        "  {\"kind\": \"pv\", \"name\": \"roof\", \"kw_peak\": 4, \"input\": \"pv\"},\n"
        "  {\"kind\": \"battery\", \"name\": \"battery\", \"capacity_kwh\": 6.4, \"power_kw\": "
        "5,\n"
        "   \"eta_charge\": 0.95, \"eta_discharge\": 0.95, \"soc_min\": 0.1, \"soc_max\": 1,\n"
        "   \"soc_initial\": 0.5}],\n"
        " \"controller\": {\"kind\": \"wasm\", \"strategy\": \"%s\"}}\n",
        pgt_strategy(name, ".so"));
    pgt_write(cfg, text);
    char *src = pgt_slurp(pgt_source_path("examples/scenario0/scenario.json"), NULL);
    assert_non_null(src);
    /* every config from the examples' folder, Building_1's with-devices one from here */
    char dir[1024];
    snprintf(dir, sizeof dir, "\": \"%s/", pgt_source_path("examples/scenario0"));
    pgi_buf b = {0};
    const char *from = "{\"as-measured\": \"home-4kw.json\", \"with-devices\": "
                       "\"home-4kw-battery.json\"}, \"inputs\": {\"load\": \"load_1\"";
    char *at = strstr(src, from);
    assert_non_null(at);
    for (const char *p = src; *p;) {
        if (p == at) {
            pgi_buf_printf(&b,
                           "{\"as-measured\": \"%s/home-4kw.json\", \"with-devices\": \"%s\"}, "
                           "\"inputs\": {\"load\": \"load_1\"",
                           pgt_source_path("examples/scenario0"), cfg);
            p += strlen(from);
        } else if (strncmp(p, "\": \"home-", 9) == 0) {
            pgi_buf_puts(&b, dir);
            p += 4;
        } else {
            pgi_buf_append(&b, p++, 1);
        }
    }
    assert_false(b.failed);
    snprintf(path, sizeof path, "%s/scenario0-wasm.json", pgt_tmpdir());
    pgt_write(path, b.data);
    pgi_buf_free(&b);
    free(src);
    return path;
}

static pg_community *
read_scenario(const char *path)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pgt_data_path("citylearn-2022-fontana");
    o.start_day = START_DAY;
    o.days = DAYS;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, path, &o, &err) != PG_OK)
        fail_msg("%s:%d: %s", err.file, err.line, err.msg);
    return c;
}

/* Plays c with Building_1's with-devices controller replaced by ctl, recording into r; returns
 * the report as JSON. */
static char *
play(pg_community *c, const pg_node_controller *ctl, record *r)
{
    assert_string_equal(c->nodes[0].name, "Building_1");
    assert_string_equal(pg_community_variant_name(c, 1), "with-devices");
    pg_node_config *cfg = c->nodes[0].cfg[1];
    assert_string_equal(pg_node_config_name(cfg), "home-wasm");
    assert_ptr_equal(cfg->controller, &pgi_ctl_wasm);
    cfg->controller = ctl;
    rec = r;
    pg_community_options o;
    pg_community_options_init(&o);
    o.threads = 1; /* one run at a time: the record is in run order */
    pg_community_report *rep = NULL;
    pg_error err = {0};
    int rc = pg_community_run_all(c, &o, &rep, &err);
    cfg->controller = &pgi_ctl_wasm;
    if (rc)
        fail_msg("the run: %s", err.msg);
    for (size_t k = 0; k < 2; k++) {
        const pg_community_run *run = k ? &rep->variants[1].baseline : &rep->variants[1].market;
        assert_int_equal(run->node[0].no_bids, 0);
    }
    char *json = NULL;
    assert_int_equal(pg_community_report_json(rep, &json, &err), PG_OK);
    pg_community_report_free(rep);
    return json;
}

static bool
same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void
identical(const char *name)
{
    pgt_need_strategies();
    native = pgx_strategy_find(name);
    assert_non_null(native);
    pg_community *c = read_scenario(scenario_with(name));
    static record sandboxed, natively;
    memset(&sandboxed, 0, sizeof sandboxed);
    memset(&natively, 0, sizeof natively);
    char *ja = play(c, &wasm_rec, &sandboxed);
    char *jb = play(c, &native_ctl, &natively);
    pg_community_free(c);

    /* market, baseline, and both again without the events */
    assert_int_equal(sandboxed.n_runs, 4);
    assert_int_equal(natively.n_runs, sandboxed.n_runs);
    size_t bids = 0, sells = 0, buys = 0, points = 0;
    for (size_t r = 0; r < sandboxed.n_runs; r++) {
        assert_int_equal(sandboxed.n[r], MAX_T);
        assert_int_equal(natively.n[r], MAX_T);
        for (size_t t = 0; t < MAX_T; t++) {
            const pg_node_plan *a = &sandboxed.plan[r][t], *b = &natively.plan[r][t];
            if (a->no_bid[0] || b->no_bid[0])
                fail_msg("run %zu, interval %zu: no bid: '%s' / '%s'", r, t, a->no_bid, b->no_bid);
            const double fa[] = {a->battery_kw,        a->ev_kw,    a->hvac_kw,
                                 a->setpoint_offset_c, a->shift_kw, a->generator_kw};
            const double fb[] = {b->battery_kw,        b->ev_kw,    b->hvac_kw,
                                 b->setpoint_offset_c, b->shift_kw, b->generator_kw};
            for (size_t k = 0; k < 6; k++)
                if (!same_double(fa[k], fb[k]))
                    fail_msg("run %zu, interval %zu: setpoint %zu: %.17g sandboxed, %.17g native",
                             r, t, k, fa[k], fb[k]);
            assert_int_equal(a->n_points, b->n_points);
            for (size_t i = 0; i < a->n_points; i++)
                if (memcmp(&a->curve[i], &b->curve[i], sizeof a->curve[i]) != 0)
                    fail_msg("run %zu, interval %zu, point %zu: (%.17g, %.17g) sandboxed, "
                             "(%.17g, %.17g) native",
                             r, t, i, a->curve[i].price, a->curve[i].qty, b->curve[i].price,
                             b->curve[i].qty);
            bids += a->n_points > 0;
            points += a->n_points;
            for (size_t i = 0; i < a->n_points; i++) {
                sells += a->curve[i].qty < 0;
                buys += a->curve[i].qty > 0;
            }
        }
    }
    print_message("%s: %zu runs x %d intervals, %zu bids, %zu points (%zu buying, %zu selling): "
                  "the same bit for bit\n",
                  name, sandboxed.n_runs, MAX_T, bids, points, buys, sells);
    /* the strategy did bid, both ways (a test that compares empty plans proves nothing) */
    assert_true(bids >= sandboxed.n_runs * MAX_T / 2);
    assert_true(buys > 0 && sells > 0);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
}

static void
test_threshold_identical_bids(void **state)
{
    (void)state;
    identical("threshold");
}

static void
test_forecast_identical_bids(void **state)
{
    (void)state;
    identical("forecast");
}

/* The command runs scenario 0 with the module for days: every interval bid, the home trades. */
static void
test_community_days_with_a_module(void **state)
{
    (void)state;
    pgt_need_strategies();
    const char *path = scenario_with("threshold");
    char *out = NULL, *err = NULL;
    const char *args[] = {"community",   path, "--data", pgt_data_path("citylearn-2022-fontana"),
                          "--start-day", "15", "--days", "2",
                          "--json",      "-",  NULL};
    int rc = pgt_run_cli(args, NULL, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    assert_null(strstr(out, "no_bids")); /* every interval bid */
    /* Building_1 with devices traded with its neighbours in the market run */
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    assert_non_null(root);
    json_t *var = json_array_get(json_object_get(root, "variants"), 1);
    assert_string_equal(json_string_value(json_object_get(var, "name")), "with-devices");
    json_t *b1 = json_array_get(json_object_get(json_object_get(var, "market"), "nodes"), 0);
    assert_string_equal(json_string_value(json_object_get(b1, "name")), "Building_1");
    double traded = json_number_value(json_object_get(b1, "peer_sold_kwh")) +
                    json_number_value(json_object_get(b1, "peer_bought_kwh"));
    print_message("Building_1 traded %.3f kWh with its neighbours\n", traded);
    assert_true(traded > 0);
    json_decref(root);
    free(out);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_threshold_identical_bids, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_forecast_identical_bids, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_community_days_with_a_module, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
