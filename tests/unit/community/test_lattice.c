/* The lattice run on the in-process bus (src/community/lattice.c, run.c): a scenario played
 * through pg_community_options.lattice gives the same report as the in-process runner, byte for
 * byte (scenario 0 and the off-grid village with its shared batteries); pg_community_run_lattice
 * gives the runner's market run; malformed, oversized and wrong-version messages published on
 * every subject of the community are counted and dropped and change nothing; the stop flag ends
 * a run with the part played; and the options are checked. */
#include "harness.h"

#include <limits.h>

#include "community/internal.h"
#include "community/msg.h"
#include "plurigrid/community.h"
#include "plurigrid/lattice.h"

static pg_community *
read_scenario(const char *rel, const char *dataset, size_t days)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = days;
    char data[PATH_MAX];
    if (dataset) {
        snprintf(data, sizeof data, "%s", pgt_data_path(dataset));
        o.data_dir = data;
    }
    pg_community *c = NULL;
    pg_error err = {0};
    int rc = pg_community_read(&c, pgt_source_path(rel), &o, &err);
    if (rc)
        fail_msg("%s: %s", rel, err.msg);
    return c;
}

static char *
report_json(const pg_community *c, const pg_lattice_options *lo)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.lattice = lo;
    pg_community_report *r = NULL;
    pg_error err = {0};
    int rc = pg_community_run_all(c, &o, &r, &err);
    if (rc)
        fail_msg("run: %s", err.msg);
    char *json = NULL;
    assert_int_equal(pg_community_report_json(r, &json, &err), PG_OK);
    pg_community_report_free(r);
    return json;
}

static void
inproc_options(pg_lattice_options *lo)
{
    pg_lattice_options_init(lo);
    lo->transport = "inproc";
    lo->servers = NULL;
}

/* The whole report through the lattice equals the runner's, for the market scenario and for the
 * off-grid village (shared batteries are played in process). */
static void
test_report_equal(void **state)
{
    (void)state;
    pg_lattice_options lo;
    inproc_options(&lo);
    const struct {
        const char *rel, *dataset;
    } cases[] = {{"examples/scenario0/scenario.json", "citylearn-2022-fontana"},
                 {"examples/offgrid-village/scenario.json", NULL}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        pg_community *c = read_scenario(cases[k].rel, cases[k].dataset, 3);
        char *a = report_json(c, NULL);
        char *b = report_json(c, &lo);
        assert_string_equal(a, b);
        assert_true(strlen(a) > 1000);
        free(a);
        free(b);
        pg_community_free(c);
    }
}

static void
assert_same_metrics(const pg_community_metrics *a, const pg_community_metrics *b, bool cf)
{
    pg_community_metrics x = *a, y = *b;
    if (!cf)
        x.dr_delivered_cf_kwh = y.dr_delivered_cf_kwh = 0; /* a single run has no counterfactual */
    assert_memory_equal(&x, &y, sizeof x);
}

/* One run on the lattice equals the runner's market run of the variant. */
static void
test_one_run_equal(void **state)
{
    (void)state;
    pg_community *c =
        read_scenario("examples/scenario0/scenario.json", "citylearn-2022-fontana", 2);
    pg_community_options o;
    pg_community_options_init(&o);
    pg_community_report *all = NULL, *one = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_all(c, &o, &all, &err), PG_OK);
    pg_lattice_options lo;
    inproc_options(&lo);
    lo.variant = 1;
    int rc = pg_community_run_lattice(c, NULL, 0, NULL, &lo, &one, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(one->n_variants, 1);
    assert_true(one->variants[0].has_market);
    assert_null(one->variants[0].baseline.node); /* not played */
    assert_string_equal(one->variants[0].name, all->variants[1].name);
    const pg_community_run *a = &all->variants[1].market, *b = &one->variants[0].market;
    assert_string_equal(b->mechanism, "uniform");
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (size_t i = 0; i < a->n_nodes; i++)
        assert_same_metrics(&a->node[i], &b->node[i], false);
    assert_same_metrics(&a->total, &b->total, false);
    size_t T = all->n_intervals;
    assert_memory_equal(a->price, b->price, T * sizeof(double));
    assert_memory_equal(a->volume_kwh, b->volume_kwh, T * sizeof(double));
    assert_memory_equal(a->grid_import_kwh, b->grid_import_kwh, T * sizeof(double));
    /* the printers show the market's run alone: no baseline, no claims */
    char *text = NULL;
    assert_int_equal(pg_community_report_text(one, &text, &err), PG_OK);
    char head[128];
    snprintf(head, sizeof head, "  %-34s %-6s %14s\n", "community", "unit", "uniform");
    assert_non_null(strstr(text, head));
    assert_null(strstr(text, "base $"));
    assert_null(strstr(text, "Does the market pay"));
    free(text);
    assert_int_equal(pg_community_report_json(one, &text, &err), PG_OK);
    assert_non_null(strstr(text, "\"market\":{\"mechanism\":\"uniform\""));
    assert_null(strstr(text, "\"baseline\""));
    assert_null(strstr(text, "\"claims\""));
    free(text);
    assert_int_equal(pg_community_report_csv(one, &text, &err), PG_OK);
    assert_null(strstr(text, ",baseline,"));
    assert_non_null(strstr(text, ",market,uniform,"));
    free(text);
    assert_int_equal(pg_community_write_plots(one, pgt_tmpdir(), &err), PG_OK);
    /* the market off: the run is the baseline */
    pg_community_report_free(one);
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "none", &lo, &one, &err), PG_OK);
    assert_false(one->variants[0].has_market);
    for (size_t i = 0; i < a->n_nodes; i++)
        assert_same_metrics(&all->variants[1].baseline.node[i], &one->variants[0].baseline.node[i],
                            false);
    pg_community_report_free(all);
    pg_community_report_free(one);
    pg_community_free(c);
}

/* ---------------------------------------------------------------- hostile messages */

typedef struct hostile {
    const char *prefix;
    const char *node; /* a member's name */
    size_t sent;
} hostile;

/* Publishes on subject: the message with its version byte wrong (1 and 3), with a byte too many,
 * cut short, random garbage, and a megabyte behind a valid header. */
static void
inject(pg_bus *bus, hostile *h, const char *tail, uint8_t *msg, size_t len)
{
    char subject[PG_BUS_MAX_SUBJECT + 1];
    snprintf(subject, sizeof subject, "%s.%s", h->prefix, tail);
    pg_error err = {0};
    uint8_t *b = malloc(len + 1);
    assert_non_null(b);
    for (int v = 1; v <= 3; v += 2) {
        memcpy(b, msg, len);
        b[4] = (uint8_t)v;
        assert_int_equal(pg_bus_publish(bus, subject, b, len, &err), PG_OK);
        h->sent++;
    }
    memcpy(b, msg, len);
    b[len] = 0;
    assert_int_equal(pg_bus_publish(bus, subject, b, len + 1, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, subject, b, len - 1, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, subject, "garbage", 7, &err), PG_OK);
    h->sent += 3;
    size_t big = PG_BUS_MAX_PAYLOAD;
    uint8_t *m = calloc(big, 1);
    assert_non_null(m);
    memcpy(m, msg, 8);
    assert_int_equal(pg_bus_publish(bus, subject, m, big, &err), PG_OK);
    h->sent++;
    free(m);
    free(b);
    free(msg);
}

static void
hostile_hook(pg_bus *bus, void *ud)
{
    hostile *h = ud;
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    char tail[PG_BUS_MAX_SUBJECT + 1];

    pgi_msg_member mm = {.node = 0, .incarnation = 9, .run_id = 1, .operator_ = PGI_MSG_NONE};
    snprintf(mm.name, sizeof mm.name, "%s", h->node);
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_ANNOUNCE, &mm, &buf, &len, &err), PG_OK);
    inject(bus, h, "member.announce", buf, len);
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_HEARTBEAT, &mm, &buf, &len, &err), PG_OK);
    inject(bus, h, "member.heartbeat", buf, len);

    pgi_msg_open o = {.term = 1, .operator_ = 0, .hours = 1, .horizon = 1, .retail = {0.3}};
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    inject(bus, h, "market.open", buf, len);

    pgi_msg_bid b = {.interval = 0, .node = 0, .n_points = 1, .curve = {{0.2, 1}}};
    assert_int_equal(pgi_msg_encode_bid(&b, &buf, &len, &err), PG_OK);
    inject(bus, h, "market.bid", buf, len);

    pgi_msg_award aw = {.node = 0, .cleared_kwh = 1, .price = 0.2};
    pgi_msg_result r = {.term = 1, .operator_ = 0, .n_total = 1, .count = 1, .awards = &aw};
    assert_int_equal(pgi_msg_encode_result(&r, &buf, &len, &err), PG_OK);
    inject(bus, h, "market.result", buf, len);

    pgi_msg_dispute d = {.term = 1, .operator_ = 0, .reporter = 1, .node = 0};
    assert_int_equal(pgi_msg_encode_dispute(&d, &buf, &len, &err), PG_OK);
    inject(bus, h, "market.dispute", buf, len);

    pgi_msg_settle_node sn = {.node = 0, .metered = true};
    pgi_msg_settle s = {.term = 1,
                        .operator_ = 0,
                        .price = 0.2,
                        .vm_min = NAN,
                        .vm_max = NAN,
                        .loading_max = NAN,
                        .n_total = 1,
                        .count = 1,
                        .nodes = &sn};
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    inject(bus, h, "settle", buf, len);

    pgi_msg_dr dr = {.n_targets = PGI_MSG_ALL};
    snprintf(dr.event.id, sizeof dr.event.id, "e1");
    dr.event.duration_h = 1;
    dr.event.n_intervals = 1;
    dr.event.interval_h[0] = 1;
    assert_int_equal(pgi_msg_encode_dr(&dr, &buf, &len, &err), PG_OK);
    inject(bus, h, "dr.event", buf, len);

    pgi_msg_telemetry tm = {.interval = 0, .node = 0};
    assert_int_equal(pgi_msg_encode_telemetry(&tm, &buf, &len, &err), PG_OK);
    snprintf(tail, sizeof tail, "telemetry.%s", h->node);
    inject(bus, h, tail, buf, len);

    pgi_msg_ack k = {.term = 1, .operator_ = 0, .interval = 0, .node = 0, .digest = 5};
    assert_int_equal(pgi_msg_encode_ack(&k, &buf, &len, &err), PG_OK);
    snprintf(tail, sizeof tail, "ack.%s", h->node);
    inject(bus, h, tail, buf, len);

    pgi_msg_pack p = {.node = 0, .pack = 0, .capacity_kwh = 1, .power_kw = 1, .soc_kwh = 0.5};
    assert_int_equal(pgi_msg_encode_pack(PGI_MSG_DOCK, &p, &buf, &len, &err), PG_OK);
    snprintf(tail, sizeof tail, "share.node.%s", h->node);
    inject(bus, h, tail, buf, len);
    assert_int_equal(pgi_msg_encode_pack(PGI_MSG_PACK, &p, &buf, &len, &err), PG_OK);
    inject(bus, h, "share.report", buf, len);
}

static void
test_hostile_every_subject(void **state)
{
    (void)state;
    pg_community *c =
        read_scenario("examples/scenario0/scenario.json", "citylearn-2022-fontana", 1);
    pg_error err = {0};
    cm_run_spec spec = {
        .variant = 0, .mech = pg_market_mechanism_find("uniform", NULL), .events = true, .seed = 1};
    cm_trace clean, hit;
    assert_int_equal(pgi_community_play(c, &spec, &clean, &err), PG_OK);
    hostile h = {.prefix = "pg.scenario0", .node = c->nodes[0].name};
    spec.hook = hostile_hook;
    spec.hook_ud = &h;
    int rc = pgi_community_play(c, &spec, &hit, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(h.sent, 12 * 6); /* 12 subjects, 6 messages each */
    assert_int_equal(hit.run.dropped, h.sent);
    assert_int_equal(clean.run.dropped, 0);
    assert_int_equal(hit.settled, c->n);
    size_t n = c->n_nodes, T = c->n;
    assert_memory_equal(clean.net, hit.net, n * T * sizeof(double));
    assert_memory_equal(clean.run.node, hit.run.node, n * sizeof *clean.run.node);
    assert_memory_equal(clean.run.price, hit.run.price, T * sizeof(double));
    assert_memory_equal(clean.run.volume_kwh, hit.run.volume_kwh, T * sizeof(double));
    pgi_community_trace_free(&clean);
    pgi_community_trace_free(&hit);
    pg_community_free(c);
}

/* A flood of well-formed disputes (any peer can publish them) is counted, and only the first
 * few of an interval are logged: before, every one was a log line. */
typedef struct lines {
    size_t disputes, notes;
} lines;

static void
count_lines(void *ud, pg_log_level level, const char *msg)
{
    (void)level;
    lines *l = ud;
    if (strstr(msg, "disputes the result"))
        l->disputes++;
    if (strstr(msg, "counted, not logged"))
        l->notes++;
}

static void
dispute_flood(pg_bus *bus, void *ud)
{
    (void)ud;
    pg_error err = {0};
    for (uint32_t k = 0; k < 500; k++) {
        pgi_msg_dispute d = {
            .term = 1, .operator_ = 0, .reporter = 1, .node = k % 3, .interval = k};
        uint8_t *buf;
        size_t len;
        assert_int_equal(pgi_msg_encode_dispute(&d, &buf, &len, &err), PG_OK);
        assert_int_equal(pg_bus_publish(bus, "pg.scenario0.market.dispute", buf, len, &err), PG_OK);
        free(buf);
    }
}

static void
test_dispute_flood(void **state)
{
    (void)state;
    pg_community *c =
        read_scenario("examples/scenario0/scenario.json", "citylearn-2022-fontana", 1);
    pg_error err = {0};
    lines l = {0};
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    lo.log = count_lines;
    lo.log_ud = &l;
    lo.log_level = PG_LOG_ERROR;
    cm_run_spec spec = {.variant = 0,
                        .mech = pg_market_mechanism_find("uniform", NULL),
                        .events = true,
                        .seed = 1,
                        .lattice = &lo,
                        .hook = dispute_flood};
    cm_trace tr;
    int rc = pgi_community_play(c, &spec, &tr, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(tr.disputes, 500);
    assert_int_equal(l.disputes, 10);
    assert_int_equal(l.notes, 1);
    assert_int_equal(tr.settled, c->n);
    pgi_community_trace_free(&tr);
    pg_community_free(c);
}

/* Well-formed messages no operator sent: a settlement of an interval not yet opened, claimed
 * by the operator every process will follow (term 1, the first name); an open of the last
 * interval by the same; an open by a made-up term far above any; a settlement naming the
 * operator's own term for the interval it is playing. Before they were refused, the forged
 * settlement became every process's record of interval 5, and the forged opens made the nodes
 * plan the wrong interval or the operator give its role up. */
typedef struct forger {
    uint32_t first; /* the member whose name sorts first: the operator */
    size_t T;
} forger;

static void
forged_settle(pg_bus *bus, uint32_t term, uint32_t op, uint32_t t, uint32_t node)
{
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    pgi_msg_settle_node sn = {.node = node, .metered = true};
    sn.step.import_kwh = 1000;
    sn.s.grid_import = 1000;
    sn.s.bill = 300;
    pgi_msg_settle s = {.term = term,
                        .operator_ = op,
                        .interval = t,
                        .price = 0.2,
                        .volume_kwh = 1000,
                        .vm_min = NAN,
                        .vm_max = NAN,
                        .loading_max = NAN,
                        .n_total = 1,
                        .count = 1,
                        .nodes = &sn};
    assert_int_equal(pgi_msg_encode_settle(&s, &buf, &len, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, "pg.scenario0.settle", buf, len, &err), PG_OK);
    free(buf);
}

static void
forged_open(pg_bus *bus, uint32_t term, uint32_t op, uint32_t t)
{
    pg_error err = {0};
    uint8_t *buf;
    size_t len;
    pgi_msg_open o = {.term = term,
                      .operator_ = op,
                      .interval = t,
                      .hours = 1,
                      .time_h = t,
                      .market = 1,
                      .horizon = 1,
                      .retail = {5},
                      .feed_in = {4}};
    assert_int_equal(pgi_msg_encode_open(&o, &buf, &len, &err), PG_OK);
    assert_int_equal(pg_bus_publish(bus, "pg.scenario0.market.open", buf, len, &err), PG_OK);
    free(buf);
}

static void
forger_hook(pg_bus *bus, void *ud)
{
    const forger *f = ud;
    forged_settle(bus, 1, f->first, 5, 0);
    forged_settle(bus, 1, f->first, 0, 0);
    forged_open(bus, 1, f->first, (uint32_t)f->T - 1);
    forged_open(bus, 1000000, f->first == 0 ? 1 : 0, 0);
    forged_settle(bus, 1000000, f->first == 0 ? 1 : 0, 3, 0);
}

static void
test_forged_operator(void **state)
{
    (void)state;
    pg_community *c =
        read_scenario("examples/scenario0/scenario.json", "citylearn-2022-fontana", 1);
    pg_error err = {0};
    cm_run_spec spec = {
        .variant = 0, .mech = pg_market_mechanism_find("uniform", NULL), .events = true, .seed = 1};
    cm_trace clean, hit;
    assert_int_equal(pgi_community_play(c, &spec, &clean, &err), PG_OK);
    forger f = {.first = 0, .T = c->n};
    for (uint32_t i = 1; i < c->n_nodes; i++)
        if (strcmp(c->nodes[i].name, c->nodes[f.first].name) < 0)
            f.first = i;
    spec.hook = forger_hook;
    spec.hook_ud = &f;
    int rc = pgi_community_play(c, &spec, &hit, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(hit.settled, c->n);
    size_t n = c->n_nodes, T = c->n;
    assert_memory_equal(clean.net, hit.net, n * T * sizeof(double));
    assert_memory_equal(clean.run.node, hit.run.node, n * sizeof *clean.run.node);
    assert_memory_equal(clean.run.price, hit.run.price, T * sizeof(double));
    assert_memory_equal(clean.run.volume_kwh, hit.run.volume_kwh, T * sizeof(double));
    pgi_community_trace_free(&clean);
    pgi_community_trace_free(&hit);
    pg_community_free(c);
}

/* ---------------------------------------------------------------- stopping, options */

typedef struct stopper {
    volatile int stop;
    size_t lines;
} stopper;

static void
stop_at_interval_5(void *ud, pg_log_level level, const char *msg)
{
    stopper *s = ud;
    (void)level;
    s->lines++;
    if (strstr(msg, "interval 5:"))
        s->stop = 1;
}

static void
test_stop_flag(void **state)
{
    (void)state;
    pg_community *c =
        read_scenario("examples/scenario0/scenario.json", "citylearn-2022-fontana", 1);
    stopper s = {0};
    pg_lattice_options lo;
    inproc_options(&lo);
    lo.stop = &s.stop;
    lo.log = stop_at_interval_5;
    lo.log_ud = &s;
    pg_community_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &r, &err), PG_ECANCELED);
    assert_non_null(r);
    assert_true(s.lines > 17 * 5);
    /* intervals 0..4 are there; the stop came as interval 5 was operated, before it was settled */
    const pg_community_run *run = &r->variants[0].market;
    assert_true(run->load_kwh[0] > 0 && run->load_kwh[4] > 0);
    for (size_t t = 5; t < r->n_intervals; t++)
        assert_true(run->load_kwh[t] == 0);
    pg_community_report_free(r);
    pg_community_free(c);
}

static void
test_options(void **state)
{
    (void)state;
    pg_log_level lv;
    pg_error err = {0};
    assert_int_equal(pg_log_level_parse("debug", &lv, &err), PG_OK);
    assert_int_equal(lv, PG_LOG_DEBUG);
    assert_int_equal(pg_log_level_parse("warn", &lv, &err), PG_OK);
    assert_int_equal(lv, PG_LOG_WARN);
    assert_int_equal(pg_log_level_parse("loud", &lv, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "loud"));
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    assert_string_equal(lo.transport, "nats");
    assert_true(lo.heartbeat_s == 0.5 && lo.timeout_s == 3 && lo.retry_s == 0.25 &&
                lo.form_s == 10);

    pg_community *c =
        read_scenario("examples/scenario0/scenario.json", "citylearn-2022-fontana", 1);
    pg_community_report *r = NULL;
    inproc_options(&lo);
    lo.timeout_s = 0.4;
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "timeout_s"));
    inproc_options(&lo);
    lo.retry_s = NAN;
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "retry_s"));
    inproc_options(&lo);
    lo.session = "a.b";
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "session"));
    inproc_options(&lo);
    lo.variant = 7;
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_EINVAL);
    inproc_options(&lo);
    const char *who[] = {"nobody"};
    assert_int_equal(pg_community_run_lattice(c, who, 1, NULL, &lo, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "nobody"));
    /* the in-process bus hosts everyone */
    const char *one[] = {c->nodes[0].name};
    assert_int_equal(pg_community_run_lattice(c, one, 1, NULL, &lo, &r, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "every member"));
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "vickrey", &lo, &r, &err), PG_EINVAL);
    assert_null(r);
    pg_community_free(c);

    /* shared batteries are not played on a network transport */
    c = read_scenario("examples/offgrid-village/scenario.json", NULL, 1);
    pg_lattice_options_init(&lo);
    lo.servers = "nats://127.0.0.1:1";
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err), PG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "shared batteries"));
    assert_null(r);
    pg_community_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_equal),
        cmocka_unit_test(test_one_run_equal),
        cmocka_unit_test(test_hostile_every_subject),
        cmocka_unit_test(test_dispute_flood),
        cmocka_unit_test(test_forged_operator),
        cmocka_unit_test(test_stop_flag),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
