/* The events of a community run (pg_lattice_options.event, run.c) on the in-process bus: one
 * CLEARED per interval whose price is the report's price of the interval exactly; the SETTLED
 * events of each member add up to its metrics in the report (energy bought and sold among peers,
 * money paid); its TELEMETRY load adds up to its load; OPEN, then the bids, then CLEARED, then
 * SETTLED in each interval; the members and the operator at the start; DR events as announced;
 * DONE once, last; the same report with the hook as without it; and the names of the kinds. */
#include "harness.h"

#include <limits.h>
#include <math.h>

#include "plurigrid/community.h"

typedef struct rec {
    pg_community_event ev;
    char node[64];
    char dr_id[64];
} rec;

typedef struct log_ {
    rec *r;
    size_t n, cap;
} log_;

static void
on_event(void *ud, const pg_community_event *ev)
{
    log_ *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->r = realloc(l->r, l->cap * sizeof *l->r);
        assert_non_null(l->r);
    }
    rec *x = &l->r[l->n++];
    memset(x, 0, sizeof *x);
    x->ev = *ev;
    if (ev->node)
        snprintf(x->node, sizeof x->node, "%s", ev->node);
    if (ev->dr_id)
        snprintf(x->dr_id, sizeof x->dr_id, "%s", ev->dr_id);
    x->ev.node = NULL; /* borrowed for the call only */
    x->ev.dr_id = NULL;
    x->ev.server = NULL;
}

static pg_community *
read_scenario(const char *rel, size_t start_day, size_t days)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.start_day = start_day;
    o.days = days;
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana"));
    o.data_dir = data;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path(rel), &o, &err))
        fail_msg("%s: %s", rel, err.msg);
    return c;
}

static pg_community_report *
run(const pg_community *c, size_t variant, log_ *l)
{
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.variant = variant;
    lo.transport = "inproc";
    lo.servers = NULL;
    if (l) {
        lo.event = on_event;
        lo.event_ud = l;
    }
    pg_community_report *r = NULL;
    pg_error err = {0};
    int rc = pg_community_run_lattice(c, NULL, 0, NULL, &lo, &r, &err);
    if (rc)
        fail_msg("run: %s", err.msg);
    return r;
}

static size_t
node_index(const pg_community_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_nodes; i++)
        if (strcmp(r->node_names[i], name) == 0)
            return i;
    fail_msg("no node '%s'", name);
    return 0;
}

static bool
same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Checks the events of a run against its report. */
static void
check(const pg_community_report *r, const log_ *l, size_t *n_dr)
{
    const pg_community_run *run = &r->variants[0].market;
    size_t T = r->n_intervals, N = r->n_nodes;
    assert_true(T > 0 && N > 0);
    double *bought = calloc(N, sizeof *bought), *sold = calloc(N, sizeof *sold);
    double *amount = calloc(N, sizeof *amount), *load = calloc(N, sizeof *load);
    double *import = calloc(N, sizeof *import);
    size_t *cleared = calloc(T, sizeof *cleared), *opened = calloc(T, sizeof *opened);
    size_t *settled = calloc(T, sizeof *settled), *bids = calloc(T, sizeof *bids);
    size_t *tel = calloc(T, sizeof *tel);
    bool *up = calloc(N, sizeof *up);
    assert_true(bought && sold && amount && load && import && cleared && opened && settled &&
                bids && tel && up);
    size_t done = 0, operators = 0;
    *n_dr = 0;
    /* the phase of each interval: 0 none, 1 open, 2 bids, 3 cleared, 4 settled */
    int *phase = calloc(T, sizeof *phase);
    assert_non_null(phase);
    for (size_t k = 0; k < l->n; k++) {
        const pg_community_event *ev = &l->r[k].ev;
        const char *node = l->r[k].node;
        assert_int_equal(done, 0); /* nothing after DONE */
        assert_int_equal(ev->intervals, T);
        size_t t = ev->interval;
        switch (ev->kind) {
        case PG_COMMUNITY_EVENT_MEMBER:
            assert_true(ev->up);
            up[node_index(r, node)] = true;
            break;
        case PG_COMMUNITY_EVENT_OPERATOR:
            operators++;
            assert_int_equal(ev->term, 1);
            assert_true(node[0]);
            break;
        case PG_COMMUNITY_EVENT_OPEN:
            assert_true(t < T);
            assert_int_equal(phase[t], 0);
            assert_true(t == 0 || phase[t - 1] == 4); /* the last interval is settled first */
            assert_true(same(ev->time_h, (double)t * r->step_h));
            phase[t] = 1;
            opened[t]++;
            break;
        case PG_COMMUNITY_EVENT_BID:
            assert_true(t < T);
            assert_true(phase[t] == 1 || phase[t] == 2);
            phase[t] = 2;
            bids[t]++;
            assert_true(ev->buy_kwh >= 0 && ev->sell_kwh >= 0);
            (void)node_index(r, node);
            break;
        case PG_COMMUNITY_EVENT_TELEMETRY: {
            assert_true(t < T);
            assert_int_equal(phase[t], 2); /* after the bids, before the settlement */
            size_t i = node_index(r, node);
            load[i] += ev->load_kwh;
            import[i] += ev->import_kwh;
            assert_true(ev->pv_kwh >= 0);
            tel[t]++;
            break;
        }
        case PG_COMMUNITY_EVENT_CLEARED:
            assert_true(t < T);
            assert_int_equal(phase[t], 2);
            phase[t] = 3;
            cleared[t]++;
            assert_true(same(ev->price, run->price[t]));
            assert_true(same(ev->volume_kwh, run->volume_kwh[t]));
            assert_int_equal(l->r[k].node[0], 0);
            break;
        case PG_COMMUNITY_EVENT_SETTLED: {
            assert_true(t < T);
            assert_true(phase[t] == 3 || phase[t] == 4);
            phase[t] = 4;
            settled[t]++;
            size_t i = node_index(r, node);
            bought[i] += ev->buy_kwh;
            sold[i] += ev->sell_kwh;
            amount[i] += ev->amount;
            break;
        }
        case PG_COMMUNITY_EVENT_DR:
            (*n_dr)++;
            assert_true(l->r[k].dr_id[0]);
            assert_true(ev->dr_end_h > ev->dr_start_h);
            break;
        case PG_COMMUNITY_EVENT_DONE:
            done++;
            assert_int_equal(k, l->n - 1);
            break;
        default: fail_msg("event of kind %d in process", (int)ev->kind);
        }
    }
    assert_int_equal(done, 1);
    assert_int_equal(operators, 1);
    for (size_t i = 0; i < N; i++)
        assert_true(up[i]);
    for (size_t t = 0; t < T; t++) {
        assert_int_equal(opened[t], 1);
        assert_int_equal(cleared[t], 1);
        assert_int_equal(bids[t], N);
        assert_int_equal(settled[t], N);
        assert_int_equal(tel[t], N);
        assert_int_equal(phase[t], 4);
    }
    size_t traded = 0;
    for (size_t i = 0; i < N; i++) {
        const pg_community_metrics *m = &run->node[i];
        /* added in the same order as the record adds them: equal to the last bit */
        assert_true(bought[i] == m->peer_bought_kwh);
        assert_true(sold[i] == m->peer_sold_kwh);
        assert_true(load[i] == m->load_kwh);
        assert_true(import[i] == m->import_kwh);
        assert_near(amount[i], m->peer_paid - m->peer_received, 1e-9);
        traded += m->peer_bought_kwh > 0;
    }
    assert_true(traded > 0); /* the run traded: the sums are not all zero */
    free(bought);
    free(sold);
    free(amount);
    free(load);
    free(import);
    free(cleared);
    free(opened);
    free(settled);
    free(bids);
    free(tel);
    free(up);
    free(phase);
}

static void
test_lattice_demo(void **state)
{
    (void)state;
    pg_community *c = read_scenario("examples/lattice/scenario.json", 0, 0);
    log_ l = {0};
    pg_community_report *r = run(c, 0, &l);
    size_t n_dr = 0;
    check(r, &l, &n_dr);
    assert_int_equal(n_dr, 0);
    /* the report with the hook is the report without it */
    pg_community_report *r0 = run(c, 0, NULL);
    char *a = NULL, *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_report_json(r, &a, &err), PG_OK);
    assert_int_equal(pg_community_report_json(r0, &b, &err), PG_OK);
    assert_string_equal(a, b);
    free(a);
    free(b);
    pg_community_report_free(r0);
    pg_community_report_free(r);
    free(l.r);
    pg_community_free(c);
}

/* Scenario 0 on the days of a heat event, its variant with batteries: 17 homes, DR announced. */
static void
test_scenario0_dr(void **state)
{
    (void)state;
    pg_community *c = read_scenario("examples/scenario0/scenario.json", 14, 2);
    log_ l = {0};
    pg_community_report *r = run(c, 1, &l);
    size_t n_dr = 0;
    check(r, &l, &n_dr);
    assert_int_equal(n_dr, 2); /* the events of 2016-08-15 and -16, each told once */
    size_t soc = 0;
    for (size_t k = 0; k < l.n; k++)
        if (l.r[k].ev.kind == PG_COMMUNITY_EVENT_TELEMETRY)
            soc += !isnan(l.r[k].ev.soc_kwh);
    assert_true(soc > 0); /* homes with a battery say their charge */
    pg_community_report_free(r);
    free(l.r);
    pg_community_free(c);
}

/* Through pg_community_run_all, only one run (the first variant's market run) is heard. */
static void
test_run_all_one_run(void **state)
{
    (void)state;
    pg_community *c = read_scenario("examples/lattice/scenario.json", 0, 1);
    log_ l = {0};
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    lo.servers = NULL;
    lo.event = on_event;
    lo.event_ud = &l;
    pg_community_options o;
    pg_community_options_init(&o);
    o.lattice = &lo;
    o.threads = 1;
    pg_community_report *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_all(c, &o, &r, &err), PG_OK);
    size_t done = 0;
    for (size_t k = 0; k < l.n; k++)
        done += l.r[k].ev.kind == PG_COMMUNITY_EVENT_DONE;
    assert_int_equal(done, 1);
    for (size_t k = 0; k < l.n; k++)
        if (l.r[k].ev.kind == PG_COMMUNITY_EVENT_CLEARED)
            assert_true(same(l.r[k].ev.price, r->variants[0].market.price[l.r[k].ev.interval]));
    pg_community_report_free(r);
    free(l.r);
    pg_community_free(c);
}

static void
test_names(void **state)
{
    (void)state;
    const char *names[] = {"member",  "operator",  "open", "bid",  "cleared",
                           "settled", "telemetry", "dr",   "done", "connection"};
    for (int k = 0; k < 10; k++)
        assert_string_equal(pg_community_event_name((pg_community_event_kind)(k + 1)), names[k]);
    assert_string_equal(pg_community_event_name((pg_community_event_kind)0), "unknown");
    assert_string_equal(pg_community_event_name((pg_community_event_kind)99), "unknown");
    pg_community_event ev;
    memset(&ev, 0x5a, sizeof ev);
    pg_community_event_init(&ev, PG_COMMUNITY_EVENT_BID);
    assert_int_equal(ev.kind, PG_COMMUNITY_EVENT_BID);
    assert_true(ev.interval == PG_COMMUNITY_NO_INTERVAL);
    assert_null(ev.node);
    assert_null(ev.server);
    assert_false(ev.up);
    const double *x[] = {&ev.time_h,     &ev.price,      &ev.volume_kwh, &ev.buy_kwh,  &ev.sell_kwh,
                         &ev.import_kwh, &ev.export_kwh, &ev.amount,     &ev.load_kwh, &ev.pv_kwh,
                         &ev.soc_kwh,    &ev.dr_start_h, &ev.dr_end_h,   &ev.dr_kw};
    for (size_t k = 0; k < sizeof x / sizeof *x; k++)
        assert_true(isnan(*x[k]));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_lattice_demo),
        cmocka_unit_test(test_scenario0_dr),
        cmocka_unit_test(test_run_all_one_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
