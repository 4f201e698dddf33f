/* The community runner on small scenarios with closed-form answers: a node with surplus and a
 * node short of energy, with the uniform-price market and without (the baseline); the balance of
 * energy and money; the DR metrics against their baselines; shared batteries rented through the
 * VCG auction; the same report for the same seed whatever the number of threads; and scenario
 * mistakes reported with their line and JSON path. */
#include "harness.h"

#include <limits.h>

#include "community/internal.h"
#include "community/msg.h"
#include "plurigrid/lattice.h"
#include "core/util.h"
#include "plurigrid/community.h"

/* Two homes: "seller" (1 kWh/h of load, 3 kWh/h of PV: 2 kWh/h to spare) and "buyer" (1 kWh/h of
 * load, no PV), retail 0.30 $/kWh, feed-in 0.10 $/kWh, DAYS days of hourly intervals. */
#define HOMES(EXTRA)                                                                               \
    "{\"format\": \"plurigrid-community/1\", \"name\": \"tiny\", \"seed\": 7,\n"                   \
    " \"step_h\": 1, \"intervals\": 480,\n"                                                        \
    " \"start\": {\"date\": \"2016-08-01T00:00\", \"weekday\": \"Monday\"},\n"                     \
    " \"prices\": {\"retail\": {\"constant\": 0.30}, \"feed_in\": {\"constant\": 0.10}},\n"        \
    " \"series\": {\"one\": {\"constant\": 1.0}},\n"                                               \
    " \"nodes\": [\n"                                                                              \
    "  {\"name\": \"seller\", \"config\": {\"name\": \"seller\", \"profile\": \"residential\",\n"  \
    "     \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"},\n"   \
    "                 {\"kind\": \"pv\", \"name\": \"roof\", \"kw_peak\": 3, \"input\": "          \
    "\"pv\"}],\n"                                                                                  \
    "     \"controller\": {\"kind\": \"rules\"}},\n"                                               \
    "   \"inputs\": {\"load\": \"one\", \"pv\": \"one\"}},\n"                                      \
    "  {\"name\": \"buyer\", \"config\": {\"name\": \"buyer\", \"profile\": \"residential\",\n"    \
    "     \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"house\", \"input\": \"load\"}],\n"  \
    "     \"controller\": {\"kind\": \"rules\"}},\n"                                               \
    "   \"inputs\": {\"load\": \"one\"}}\n"                                                        \
    " ],\n"                                                                                        \
    " \"market\": {\"mechanism\": \"uniform\"}" EXTRA "}\n"

static pg_community *
parse(const char *text, size_t days, pg_error *err)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = days;
    pg_community *c = NULL;
    int rc = pg_community_parse(&c, "tiny.json", text, strlen(text), NULL, &o, err);
    if (rc)
        return NULL;
    return c;
}

static pg_community_report *
run(const pg_community *c, const char *market, size_t threads)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.market = market;
    o.threads = threads;
    pg_error err = {0};
    pg_community_report *r = NULL;
    int rc = pg_community_run_all(c, &o, &r, &err);
    if (rc)
        fprintf(stderr, "run: %s\n", err.msg);
    assert_int_equal(rc, PG_OK);
    return r;
}

/* Energy and money balance among the nodes of a run (the settlement checks every interval; the
 * totals must agree too). */
static void
check_balance(const pg_community_run *r)
{
    double bought = 0, sold = 0, paid = 0, got = 0;
    for (size_t i = 0; i < r->n_nodes; i++) {
        const pg_community_metrics *m = &r->node[i];
        bought += m->peer_bought_kwh;
        sold += m->peer_sold_kwh;
        paid += m->peer_paid;
        got += m->peer_received;
        /* metered import - export = peers + grid */
        assert_near(m->import_kwh - m->export_kwh,
                    m->peer_bought_kwh - m->peer_sold_kwh + m->grid_import_kwh - m->grid_export_kwh,
                    1e-9);
        assert_near(m->bill, m->peer_paid + m->grid_paid - m->peer_received - m->grid_received,
                    1e-9);
    }
    assert_near(bought, sold, 1e-9);
    assert_near(paid, got + r->operator_surplus, 1e-9);
    if (strcmp(r->mechanism, "uniform") == 0 && !r->grid_aware)
        assert_near(r->operator_surplus, 0, 1e-9); /* congestion rent aside, one price */
    double vol = 0;
    for (size_t t = 0; t < 48; t++)
        vol += r->volume_kwh[t];
}

static void
test_two_homes_closed_form(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_community *c = parse(HOMES(""), 2, &err);
    assert_non_null(c);
    assert_int_equal(pg_community_n_intervals(c), 48);
    pg_community_report *r = run(c, NULL, 2);
    assert_int_equal(r->n_variants, 1);
    const pg_community_variant *v = &r->variants[0];
    assert_true(v->has_market);
    /* Baseline: the seller sells 2 kWh/h to the grid at feed-in, the buyer buys 1 kWh/h. */
    const pg_community_run *b = &v->baseline;
    assert_string_equal(b->mechanism, "none");
    assert_near(b->node[0].revenue, 48 * 2 * 0.10, 1e-9);
    assert_near(b->node[0].bill, -48 * 2 * 0.10, 1e-9);
    assert_near(b->node[1].bill, 48 * 0.30, 1e-9);
    assert_near(b->node[1].peak_import_kw, 1, 1e-12);
    assert_near(b->total.local_pv_use, 1.0 / 3, 1e-12); /* 48 of 144 kWh used at home */
    assert_near(b->total.self_sufficiency, 0.5, 1e-12);
    assert_near(b->total.peer_bought_kwh, 0, 0);
    check_balance(b);
    /* Market: the buyer's 1 kWh/h comes from the seller at one uniform price p between feed-in
     * and retail; the seller's other 1 kWh/h goes to the grid. */
    const pg_community_run *m = &v->market;
    assert_string_equal(m->mechanism, "uniform");
    double p = m->price[0];
    assert_true(p >= 0.10 - 1e-12 && p <= 0.30 + 1e-12);
    for (size_t t = 0; t < 48; t++) {
        assert_near(m->volume_kwh[t], 1, 1e-9);
        assert_near(m->price[t], p, 1e-12);
    }
    assert_near(m->node[1].peer_bought_kwh, 48, 1e-9);
    assert_near(m->node[0].peer_sold_kwh, 48, 1e-9);
    assert_near(m->node[1].bill, 48 * p, 1e-9);
    assert_near(m->node[0].revenue, 48 * p + 48 * 0.10, 1e-9);
    assert_near(m->node[1].grid_import_kwh, 0, 1e-9);
    assert_near(m->total.self_sufficiency, 1, 1e-12);
    assert_near(m->total.local_pv_use, 2.0 / 3, 1e-12);
    assert_near(m->total.peak_import_kw, 0, 1e-12);
    check_balance(m);
    assert_int_equal(m->dropped, 0);
    assert_true(m->published >= 48 * (1 + 2 + 2 + 2));
    pg_community_report_free(r);

    /* The other mechanisms keep the balance and trade the same energy. */
    const char *mechs[] = {"pay-as-bid", "continuous"};
    for (size_t k = 0; k < 2; k++) {
        r = run(c, mechs[k], 1);
        check_balance(&r->variants[0].market);
        assert_near(r->variants[0].market.total.peer_bought_kwh, 48, 1e-9);
        pg_community_report_free(r);
    }
    /* --market none: the baseline only */
    r = run(c, "none", 1);
    assert_false(r->variants[0].has_market);
    assert_near(r->variants[0].baseline.node[1].bill, 48 * 0.30, 1e-9);
    pg_community_report_free(r);
    pg_community_free(c);
}

#define EVENTS                                                                                     \
    ",\n \"variants\": [\"a\", \"b\"],\n"                                                          \
    " \"dr_events\": [\n"                                                                          \
    "  {\"eventID\": \"e1\", \"dtstart\": \"2016-08-12T17:00\", \"duration\": \"PT3H\",\n"         \
    "   \"signalName\": \"SIMPLE\", \"value\": 2, \"targets\": [\"buyer\"],\n"                     \
    "   \"notification\": \"PT24H\"},\n"                                                           \
    "  {\"eventID\": \"e0\", \"dtstart\": \"2016-08-01T17:00\", \"duration\": \"PT1H\",\n"         \
    "   \"signalName\": \"ELECTRICITY_PRICE\", \"value\": 1.5, \"targets\": [\"all\"]}\n"          \
    " ]"

/* Constant loads do not answer events: the delivered reduction is 0 against both baselines, and
 * an event with no earlier day has no 10-of-10 baseline. */
static void
test_dr_baselines(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_community *c = parse(HOMES(EVENTS), 14, &err);
    if (!c)
        fprintf(stderr, "%s:%d: %s: %s\n", err.file, err.line, err.path, err.msg);
    assert_non_null(c);
    pg_community_report *r = run(c, NULL, 2);
    assert_int_equal(r->n_variants, 2);
    for (size_t v = 0; v < 2; v++) {
        const pg_community_run *runs[2] = {&r->variants[v].market, &r->variants[v].baseline};
        for (int k = 0; k < 2; k++) {
            const pg_community_metrics *buyer = &runs[k]->node[1], *seller = &runs[k]->node[0];
            /* buyer: e1 (3 h) with a baseline of 10 earlier non-event weekdays, e0 (1 h) none */
            assert_near(buyer->dr_delivered_kwh, 0, 1e-9);
            assert_near(buyer->dr_delivered_cf_kwh, 0, 1e-9);
            assert_near(buyer->dr_event_kwh, 4, 1e-9); /* metered net import: 1 kWh/h */
            /* seller: only e0 on the first day: no baseline day, counterfactual 0 */
            assert_true(isnan(seller->dr_delivered_kwh));
            assert_near(seller->dr_delivered_cf_kwh, 0, 1e-9);
        }
    }
    pg_community_report_free(r);
    pg_community_free(c);
}

/* The same seed gives the same report, byte for byte, on 1 thread or 4, run after run. */
static void
test_determinism(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_community *c = parse(HOMES(EVENTS), 12, &err);
    assert_non_null(c);
    char *j[3] = {NULL, NULL, NULL};
    size_t threads[3] = {1, 4, 3};
    for (int k = 0; k < 3; k++) {
        pg_community_report *r = run(c, NULL, threads[k]);
        assert_int_equal(pg_community_report_json(r, &j[k], &err), PG_OK);
        pg_community_report_free(r);
    }
    assert_string_equal(j[0], j[1]);
    assert_string_equal(j[0], j[2]);
    assert_non_null(strstr(j[0], "\"format\":\"plurigrid-community-report/1\""));
    for (int k = 0; k < 3; k++)
        free(j[k]);
    pg_community_free(c);
}

/* Off grid: the owner lends its pack to the node that went short; one offer, so the VCG price
 * is the reserve. */
static const char village[] =
    "{\"format\": \"plurigrid-community/1\", \"name\": \"village\", \"step_h\": 1,\n"
    " \"intervals\": 72, \"start\": {\"date\": \"2016-08-01T00:00\"},\n"
    " \"grid\": {\"connected\": false}, \"market\": {\"mechanism\": \"none\"},\n"
    " \"series\": {\"load\": {\"constant\": 0.05}, \"sun\": {\"model\": \"daily-profile\",\n"
    "   \"values\": [0,0,0,0,0,0,0.1,0.3,0.5,0.7,0.9,1,1,0.9,0.7,0.5,0.3,0.1,0,0,0,0,0,0]}},\n"
    " \"nodes\": [\n"
    "  {\"name\": \"owner\", \"config\": {\"name\": \"owner\", \"profile\": \"offgrid\",\n"
    "     \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"l\", \"input\": \"load\"},\n"
    "       {\"kind\": \"pv\", \"name\": \"p\", \"kw_peak\": 0.5, \"input\": \"pv\"},\n"
    "       {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": 0.5, \"power_kw\": 0.2}],\n"
    "     \"controller\": {\"kind\": \"rules\"}}, \"inputs\": {\"load\": \"load\", \"pv\": "
    "\"sun\"}},\n"
    "  {\"name\": \"renter\", \"config\": {\"name\": \"renter\", \"profile\": \"offgrid\",\n"
    "     \"devices\": [{\"kind\": \"fixed_load\", \"name\": \"l\", \"input\": \"load\", "
    "\"scale\": 4},\n"
    "       {\"kind\": \"pv\", \"name\": \"p\", \"kw_peak\": 0.1, \"input\": \"pv\"},\n"
    "       {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": 0.2, \"power_kw\": 0.2}],\n"
    "     \"controller\": {\"kind\": \"rules\"}}, \"inputs\": {\"load\": \"load\", \"pv\": "
    "\"sun\"}}\n"
    " ],\n"
    " \"sharing\": {\"packs\": [{\"owner\": \"owner\", \"capacity_kwh\": 1, \"power_kw\": 0.5,\n"
    "   \"cost\": 0.1}], \"reserve\": 0.5, \"round_hour\": 18}}\n";

static void
test_sharing(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_community_options o;
    pg_community_options_init(&o);
    pg_community *c = NULL;
    int rc = pg_community_parse(&c, "village.json", village, strlen(village), NULL, &o, &err);
    if (rc)
        fprintf(stderr, "%s:%d: %s: %s\n", err.file, err.line, err.path, err.msg);
    assert_int_equal(rc, PG_OK);
    pg_community_report *r = run(c, NULL, 2);
    const pg_community_variant *v = &r->variants[0];
    assert_true(v->has_market);
    const pg_community_run *m = &v->market, *b = &v->baseline;
    assert_int_equal(m->share_rounds, 3);
    assert_true(m->share_rented >= 1);
    assert_int_equal(m->node[1].rentals, m->share_rented);
    assert_near(m->node[1].rental_paid, 0.5 * (double)m->share_rented, 1e-12);
    assert_near(m->node[0].rental_received, 0.5 * (double)m->share_rented, 1e-12);
    assert_near(m->total.bill, 0, 1e-12);
    assert_near(m->pack_utilisation, (double)m->share_rented / 3, 1e-12);
    /* the renter is served better with the pack, and nobody trades with a grid */
    assert_true(m->node[1].unserved_kwh < b->node[1].unserved_kwh);
    assert_near(m->total.grid_paid + b->total.grid_paid, 0, 0);
    assert_true(isnan(b->pack_utilisation));
    pg_community_report_free(r);
    pg_community_free(c);
}

/* On a feeder whose line from the seller to the buyer carries at most 0.5 kW, the peer trade
 * (b -> a) can be at most 0.5 kWh an hour; the AC check sees the seller's real export of 2 kW
 * (power factor 0.95) on that line: 2 / 0.95 / 0.5 = 421% loading. */
static const char feeder[] =
    "{\"format\": \"plurigrid-world/1\", \"name\": \"feeder\", \"base_mva\": 1,\n"
    " \"buses\": [{\"name\": \"sub\", \"type\": \"ref\", \"base_kv\": 0.4},\n"
    "  {\"name\": \"a\", \"base_kv\": 0.4}, {\"name\": \"b\", \"base_kv\": 0.4}],\n"
    " \"branches\": [{\"name\": \"sub-a\", \"from\": \"sub\", \"to\": \"a\", \"r\": 0.0001,\n"
    "   \"x\": 0.0002, \"rate_a\": 0.01},\n"
    "  {\"name\": \"a-b\", \"from\": \"a\", \"to\": \"b\", \"r\": 0.0001, \"x\": 0.0002,\n"
    "   \"rate_a\": 0.0005}]}\n";

static void
test_feeder(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/feeder.json", pgt_tmpdir());
    pgt_write(path, feeder);
    char *text =
        strdup(HOMES(", \"feeder\": {\"world\": \"feeder.json\", \"power_factor\": 0.95}"));
    /* each node on its bus */
    pgi_buf b = {0};
    const char *seller_in = "\"inputs\": {\"load\": \"one\", \"pv\": \"one\"}";
    const char *buyer_in = "\"inputs\": {\"load\": \"one\"}}";
    char *s1 = strstr(text, seller_in), *s2 = strstr(text, buyer_in);
    pgi_buf_append(&b, text, (size_t)(s1 - text));
    pgi_buf_puts(&b, "\"bus\": \"b\", ");
    pgi_buf_append(&b, s1, (size_t)(s2 - s1));
    pgi_buf_puts(&b, "\"bus\": \"a\", ");
    pgi_buf_puts(&b, s2);
    free(text);
    pg_error err = {0};
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = 1;
    pg_community *c = NULL;
    int rc = pg_community_parse(&c, "tiny.json", b.data, b.len, pgt_tmpdir(), &o, &err);
    if (rc)
        fprintf(stderr, "%s:%d: %s: %s\n", err.file, err.line, err.path, err.msg);
    assert_int_equal(rc, PG_OK);
    pgi_buf_free(&b);
    pg_community_report *r = run(c, NULL, 1);
    const pg_community_run *m = &r->variants[0].market;
    assert_true(m->grid_aware);
    for (size_t t = 0; t < 24; t++)
        assert_true(m->volume_kwh[t] <= 0.5 + 1e-9);
    check_balance(m);
    assert_near(m->loading_max, 2 / 0.95 / 0.5, 0.01);
    assert_true(m->vm_min > 0.99 && m->vm_max < 1.01);
    assert_int_equal(m->ac_failed, 0);
    /* every node's energy adds up: what it did not trade with peers it traded with the grid */
    assert_near(m->total.grid_import_kwh + m->total.peer_bought_kwh, 24, 1e-9);
    pg_community_report_free(r);
    pg_community_free(c);
}

/* A hostile peer on the bus: garbage, a bid for another interval, a bid for a node that is not
 * there, a meter reading under another node's name. Each is counted and dropped; the market
 * clears as without them. */
static void
hostile(pg_bus *bus, void *ud)
{
    (void)ud;
    pg_error err = {0};
    assert_int_equal(pg_bus_publish(bus, "pg.tiny.market.bid", "garbage", 7, &err), PG_OK);
    uint8_t *buf;
    size_t len;
    pgi_msg_bid b = {.interval = 999, .node = 1, .n_points = 1, .curve = {{0.3, 50}}};
    assert_int_equal(pgi_msg_encode_bid(&b, &buf, &len, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, "pg.tiny.market.bid", buf, len, &err), PG_OK);
    free(buf);
    b.interval = 0;
    b.node = 7;
    assert_int_equal(pgi_msg_encode_bid(&b, &buf, &len, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, "pg.tiny.market.bid", buf, len, &err), PG_OK);
    free(buf);
    pgi_msg_telemetry tm = {.interval = 0, .node = 1};
    assert_int_equal(pgi_msg_encode_telemetry(&tm, &buf, &len, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, "pg.tiny.telemetry.seller", buf, len, &err), PG_OK);
    free(buf);
    /* well-formed, naming a node the community does not have */
    pgi_msg_award aw = {.node = 7, .digest = 1, .cleared_kwh = 5, .price = 0.2};
    pgi_msg_result res = {.term = 1,
                          .operator_ = 0,
                          .interval = 0,
                          .n_total = 1,
                          .first = 0,
                          .count = 1,
                          .awards = &aw};
    assert_int_equal(pgi_msg_encode_result(&res, &buf, &len, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, "pg.tiny.market.result", buf, len, &err), PG_OK);
    free(buf);
}

static void
test_malformed_messages_dropped(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_community *c = parse(HOMES(""), 1, &err);
    assert_non_null(c);
    cm_run_spec spec = {.variant = 0,
                        .mech = pg_market_mechanism_find("uniform", NULL),
                        .events = true,
                        .seed = 1,
                        .hook = hostile};
    cm_trace tr;
    int rc = pgi_community_play(c, &spec, &tr, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, PG_OK);
    assert_int_equal(tr.run.dropped, 5);
    for (size_t t = 0; t < 24; t++)
        assert_near(tr.run.volume_kwh[t], 1, 1e-9);
    pgi_community_trace_free(&tr);
    pg_community_free(c);
}

/* Every allocation of reading and playing a scenario fails in turn: each failure is an error
 * (out of memory), never a crash or a leak (the sanitizer build checks). */
static void
test_allocation_failures(void **state)
{
    (void)state;
    const char *text = HOMES(EVENTS);
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = 1;
    o.threads = 1;
    pgt_alloc_fail_after(LONG_MAX);
    pg_community *c = NULL;
    pg_community_report *r = NULL;
    assert_int_equal(pg_community_parse(&c, "tiny.json", text, strlen(text), NULL, &o, NULL),
                     PG_OK);
    assert_int_equal(pg_community_run_all(c, &o, &r, NULL), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    pg_community_report_free(r);
    pg_community_free(c);
    assert_true(n > 10);
    long step = n > 1500 ? n / 1500 : 1;
    for (long k = 0; k < n; k += step) {
        c = NULL;
        r = NULL;
        pg_error err = {0};
        pgt_alloc_fail_after(k);
        int rc = pg_community_parse(&c, "tiny.json", text, strlen(text), NULL, &o, &err);
        if (rc == PG_OK)
            rc = pg_community_run_all(c, &o, &r, &err);
        pgt_alloc_fail_after(-1);
        if (rc != PG_OK && !(rc == PG_ENOMEM || strstr(err.msg, "memory")))
            fail_msg("allocation %ld: %d %s", k, rc, err.msg);
        pg_community_report_free(r);
        pg_community_free(c);
    }
}

/* A scenario mistake: the code, and the message naming the line and path. */
static void
expect_error(const char *text, int code, int line, const char *path, const char *says)
{
    pg_error err = {0};
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = 2;
    pg_community *c = NULL;
    int rc = pg_community_parse(&c, "tiny.json", text, strlen(text), NULL, &o, &err);
    if (rc != code || (line && err.line != line) || (path && strcmp(err.path, path) != 0) ||
        !strstr(err.msg, says))
        fprintf(stderr, "got %d %s:%d: %s: %s\n", rc, err.file, err.line, err.path, err.msg);
    assert_int_equal(rc, code);
    assert_null(c);
    assert_string_equal(err.file, "tiny.json");
    if (line)
        assert_int_equal(err.line, line);
    if (path)
        assert_string_equal(err.path, path);
    assert_non_null(strstr(err.msg, says));
}

static void
test_errors(void **state)
{
    (void)state;
    expect_error(HOMES(", \"colour\": 1"), PG_EPARSE, 17, "$.colour", "unknown key");
    expect_error(HOMES(", \"data\": {\"dataset\": \"citylearn-2022-fontana\", \"dir\": \"nope\"}"),
                 PG_ENOTFOUND, 0, NULL, "--data");
    expect_error(HOMES(", \"dr_events\": [{\"eventID\": \"x\", \"dtstart\": \"2016-08-01T17:00\",\n"
                       "\"duration\": \"PT1H\", \"signalName\": \"LOUD\", \"value\": 1,"
                       " \"targets\": [\"all\"]}]"),
                 PG_EMODEL, 18, "$.dr_events[0].signalName", "unknown signal");
    expect_error(HOMES(", \"dr_events\": [{\"eventID\": \"x\", \"dtstart\": \"2016-08-01T17:00\",\n"
                       "\"duration\": \"1 hour\", \"signalName\": \"SIMPLE\", \"value\": 1,"
                       " \"targets\": [\"all\"]}]"),
                 PG_EPARSE, 18, "$.dr_events[0].duration", "ISO 8601");
    expect_error(HOMES(", \"dr_events\": [{\"eventID\": \"x\", \"dtstart\": \"2016-08-01T17:00\",\n"
                       "\"duration\": \"PT1H\", \"signalName\": \"SIMPLE\", \"value\": 1,"
                       " \"targets\": [\"nobody\"]}]"),
                 PG_EMODEL, 18, "$.dr_events[0].targets[0]", "no node 'nobody'");
    expect_error(HOMES(", \"market\": {\"mechanism\": \"barter\"}"), PG_EPARSE, 0, NULL,
                 "duplicate");
    const char *bad_weekday = "{\"format\": \"plurigrid-community/1\", \"name\": \"x\",\n"
                              "\"intervals\": 48, \"start\": {\"date\": \"2016-08-01T00:00\",\n"
                              "\"weekday\": \"Sunday\"}, \"nodes\": []}";
    expect_error(bad_weekday, PG_EMODEL, 3, "$.start.weekday", "is a Monday");
    const char *short_data = "{\"format\": \"plurigrid-community/1\", \"name\": \"x\",\n"
                             "\"step_h\": 0.25,\n\"intervals\": 48, \"nodes\": []}";
    expect_error(short_data, PG_EMODEL, 3, "$.intervals",
                 "48 intervals of 0.25 h are less than a day");
    const char *bad_name = HOMES("");
    char *t = strdup(bad_name);
    char *p = strstr(t, "\"name\": \"seller\"");
    memcpy(p, "\"name\": \"sel.er\"", 16);
    expect_error(t, PG_EMODEL, 7, "$.nodes[0].name", "letters, digits");
    free(t);
    t = strdup(bad_name);
    p = strstr(t, "\"pv\": \"one\"");
    memcpy(p, "\"pv\": \"two\"", 11);
    expect_error(t, PG_EMODEL, 11, "$.nodes[0].inputs.pv", "no series 'two'");
    free(t);
    t = strdup(bad_name);
    p = strstr(t, "\"kw_peak\": 3");
    memcpy(p, "\"kw_peak\":-3", 12);
    expect_error(t, PG_EPARSE, 9, "$.nodes[0].config.devices[1].kw_peak", "(it is -3)");
    free(t);
    /* too large a run: refused before memory is spent on it */
    {
        pgi_buf b = {0};
        pgi_buf_puts(
            &b, "{\"format\": \"plurigrid-community/1\", \"name\": \"big\",\n"
                "\"intervals\": 1000000, \"prices\": {\"retail\": {\"constant\": 0.3},\n"
                "\"feed_in\": {\"constant\": 0.1}}, \"series\": {\"one\": {\"constant\": 1}},\n"
                "\"nodes\": [");
        for (int i = 0; i < 60; i++)
            pgi_buf_printf(&b,
                           "%s{\"name\": \"n%d\", \"config\": {\"name\": \"n\", \"profile\": "
                           "\"residential\", \"devices\": [{\"kind\": \"fixed_load\", \"name\": "
                           "\"l\", \"input\": \"load\"}]}, \"inputs\": {\"load\": \"one\"}}\n",
                           i ? "," : "", i);
        pgi_buf_puts(&b, "]}");
        pg_community_options bo;
        pg_community_options_init(&bo);
        pg_community *bc = NULL;
        pg_error be = {0};
        assert_int_equal(pg_community_parse(&bc, "big.json", b.data, b.len, NULL, &bo, &be),
                         PG_ELIMIT);
        assert_non_null(strstr(be.msg, "too large"));
        pgi_buf_free(&b);
    }
    /* too large a run is refused before the nodes are read (10^5 of them took minutes): the
     * last node's bad configuration is never reached */
    {
        pgi_buf b = {0};
        pgi_buf_puts(
            &b, "{\"format\": \"plurigrid-community/1\", \"name\": \"big\",\n"
                "\"intervals\": 1000000, \"prices\": {\"retail\": {\"constant\": 0.3},\n"
                "\"feed_in\": {\"constant\": 0.1}}, \"series\": {\"one\": {\"constant\": 1}},\n"
                "\"nodes\": [");
        for (int i = 0; i < 60; i++)
            pgi_buf_printf(&b, "%s{\"name\": \"n%d\", \"config\": \"%s\"}\n", i ? "," : "", i,
                           i < 59 ? "x.json" : "missing.json");
        pgi_buf_puts(&b, "]}");
        pg_community_options bo;
        pg_community_options_init(&bo);
        pg_community *bc = NULL;
        pg_error be = {0};
        assert_int_equal(pg_community_parse(&bc, "big.json", b.data, b.len, NULL, &bo, &be),
                         PG_ELIMIT);
        assert_non_null(strstr(be.msg, "60 nodes x 999984 intervals"));
        assert_string_equal(be.path, "$.nodes");
        pgi_buf_free(&b);
    }
    /* so are series too many for the run's length, before their values are allocated
     * (400 of them over 10^6 intervals took 3 GB) */
    {
        pgi_buf b = {0};
        pgi_buf_puts(&b, "{\"format\": \"plurigrid-community/1\", \"name\": \"big\",\n"
                         "\"intervals\": 1000000, \"prices\": {\"retail\": {\"constant\": "
                         "0.3},\n\"feed_in\": {\"constant\": 0.1}}, \"series\": {");
        for (int i = 0; i < 60; i++)
            pgi_buf_printf(&b, "%s\"s%d\": {\"constant\": 1}\n", i ? "," : "", i);
        pgi_buf_puts(&b, "}, \"nodes\": [{\"name\": \"n\", \"config\": {\"name\": \"n\", "
                         "\"profile\": \"residential\", \"devices\": [{\"kind\": "
                         "\"fixed_load\", \"name\": \"l\", \"input\": \"load\"}]}, "
                         "\"inputs\": {\"load\": \"s0\"}}]}");
        pg_community_options bo;
        pg_community_options_init(&bo);
        pg_community *bc = NULL;
        pg_error be = {0};
        assert_int_equal(pg_community_parse(&bc, "big.json", b.data, b.len, NULL, &bo, &be),
                         PG_ELIMIT);
        assert_non_null(strstr(be.msg, "60 series x 999984 intervals"));
        assert_string_equal(be.path, "$.series");
        pg_community_free(bc);
        pgi_buf_free(&b);
    }
    /* too many days for the data */
    pg_error err = {0};
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = 30;
    pg_community *c = NULL;
    const char *h = HOMES("");
    assert_int_equal(pg_community_parse(&c, "tiny.json", h, strlen(h), NULL, &o, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "--days must be at most 20"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_homes_closed_form),
        cmocka_unit_test(test_dr_baselines),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_sharing),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_feeder),
        cmocka_unit_test(test_malformed_messages_dropped),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, pgt_teardown_tmpdir);
}
