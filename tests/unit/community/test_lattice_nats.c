/* The lattice run over a real nats-server (tests/nats_fixture.h): a day of scenario 0 played over
 * NATS, with one shared connection and with one connection per node, gives the same report as
 * the in-process runner byte for byte; and two hosts' worth of members (two lattice runs on two
 * threads, each hosting half of the members) trade with each other, each recording every
 * settlement, and both report the in-process run, the non-operator side having recomputed every
 * result from the bids it saw. */
#include "harness.h"
#include "nats_fixture.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "community/internal.h"
#include "community/msg.h"
#include "core/util.h"
#include "plurigrid/community.h"
#include "plurigrid/lattice.h"

static pg_community *
scenario0(size_t days)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.days = days;
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s", pgt_data_path("citylearn-2022-fontana"));
    o.data_dir = data;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pgt_source_path("examples/scenario0/scenario.json"), &o, &err))
        fail_msg("scenario0: %s", err.msg);
    return c;
}

static char *
report_json(const pg_community *c, const pg_lattice_options *lo, double *seconds)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.lattice = lo;
    pg_community_report *r = NULL;
    pg_error err = {0};
    double t0 = pgi_now();
    int rc = pg_community_run_all(c, &o, &r, &err);
    *seconds = pgi_now() - t0;
    if (rc)
        fail_msg("run: %s", err.msg);
    char *json = NULL;
    assert_int_equal(pg_community_report_json(r, &json, &err), PG_OK);
    pg_community_report_free(r);
    return json;
}

typedef struct lines {
    size_t connected, awards, errors;
} lines;

/* Called by one run at a time (pg_community_run_all serialises its runs' lines). */
static void
count_lines(void *ud, pg_log_level level, const char *msg)
{
    lines *l = ud;
    l->connected += strncmp(msg, "connected to nats://127.0.0.1:", 30) == 0;
    l->awards += strstr(msg, ": interval ") != NULL && level == PG_LOG_INFO;
    l->errors += level == PG_LOG_ERROR;
}

static void
test_day_equal(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.servers = pgt_nats_url(s, 0);
    double t_in, t_shared, t_per;
    char *a = report_json(c, NULL, &t_in);
    lines l = {0};
    lo.log = count_lines;
    lo.log_ud = &l;
    char *b = report_json(c, &lo, &t_shared);
    assert_string_equal(a, b);
    /* 4 runs: each connected, and logged each award of its 17 members in 24 intervals */
    assert_int_equal(l.connected, 4);
    assert_int_equal(l.awards, 4 * 17 * 24);
    assert_int_equal(l.errors, 0);
    lo.log = NULL;
    lo.per_node_connections = true;
    char *d = report_json(c, &lo, &t_per);
    assert_string_equal(a, d);
    fprintf(stderr,
            "scenario 0, one day (4 runs of 17 nodes x 24 intervals): in process %.3f s, over "
            "NATS with one connection %.3f s, with a connection per node %.3f s\n",
            t_in, t_shared, t_per);
    free(a);
    free(b);
    free(d);
    pg_community_free(c);
    pgt_nats_stop(s);
}

/* ---------------------------------------------------------------- two hosts */

typedef struct side {
    const pg_community *c;
    const char *url;
    double heartbeat_s, timeout_s, retry_s;
    const char *stop_at; /* stops when a log line holds this */
    volatile int stop;
    const char *flag_at; /* sets *flag when a log line holds this */
    atomic_int *flag;
    atomic_int *wait_for; /* starts when *wait_for is set */
    double form_s, interval_s;
    double stopped_at, took_over_at;
    const char **members;
    size_t n_members;
    pg_community_report *r;
    int rc;
    pg_error err;
    size_t recomputed, errors, restarted;
    atomic_int finished;
    /* the run's events (pg_lattice_options.event), on the side's own thread */
    size_t ev_cleared, ev_done, ev_up, ev_connected, ev_after_done;
    double ev_price[64];
} side;

static void
side_event(void *ud, const pg_community_event *ev)
{
    side *s = ud;
    s->ev_after_done += s->ev_done > 0;
    if (ev->kind == PG_COMMUNITY_EVENT_CLEARED) {
        s->ev_cleared++;
        if (ev->interval < 64)
            s->ev_price[ev->interval] = ev->price;
    }
    s->ev_done += ev->kind == PG_COMMUNITY_EVENT_DONE;
    s->ev_up += ev->kind == PG_COMMUNITY_EVENT_MEMBER && ev->up;
    s->ev_connected += ev->kind == PG_COMMUNITY_EVENT_CONNECTION && ev->up && ev->server &&
                       strncmp(ev->server, "nats://", 7) == 0;
}

static void
side_log(void *ud, pg_log_level level, const char *msg)
{
    side *s = ud;
    if (strstr(msg, "recomputed from"))
        s->recomputed++;
    if (strstr(msg, " restarted"))
        s->restarted++;
    if (s->flag_at && strstr(msg, s->flag_at))
        atomic_store(s->flag, 1);
    if (s->stop_at && !s->stop && strstr(msg, s->stop_at)) {
        s->stop = 1;
        s->stopped_at = pgi_now();
    }
    if (strstr(msg, "operator is now") && strstr(msg, "(term 2)") && s->took_over_at == 0)
        s->took_over_at = pgi_now();
    if (level == PG_LOG_ERROR) {
        s->errors++;
        fprintf(stderr, "error: %s\n", msg);
    }
}

static void *
side_main(void *arg)
{
    side *s = arg;
    while (s->wait_for && !atomic_load(s->wait_for))
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    if (s->form_s > 0)
        lo.form_s = s->form_s;
    if (s->interval_s > 0) {
        lo.wall_clock = true;
        lo.interval_s = s->interval_s;
    }
    lo.servers = s->url;
    lo.session = "two";
    lo.log = side_log;
    lo.log_ud = s;
    lo.log_level = PG_LOG_DEBUG;
    lo.stop = &s->stop;
    lo.event = side_event;
    lo.event_ud = s;
    if (s->heartbeat_s > 0) {
        lo.heartbeat_s = s->heartbeat_s;
        lo.timeout_s = s->timeout_s;
        lo.retry_s = s->retry_s;
    }
    s->rc =
        pg_community_run_lattice(s->c, s->members, s->n_members, "uniform", &lo, &s->r, &s->err);
    atomic_store(&s->finished, 1);
    return NULL;
}

static void
assert_same_run(const pg_community_run *a, const pg_community_run *b, size_t T)
{
    for (size_t i = 0; i < a->n_nodes; i++)
        if (memcmp(&a->node[i], &b->node[i], sizeof a->node[i]) != 0) {
            const double *x = (const double *)&a->node[i], *y = (const double *)&b->node[i];
            for (size_t k = 0; k < sizeof a->node[i] / sizeof(double); k++)
                if (memcmp(&x[k], &y[k], sizeof(double)) != 0)
                    fprintf(stderr, "node %zu, field %zu: %.17g != %.17g\n", i, k, x[k], y[k]);
            for (size_t t = 0; t < T; t++)
                fprintf(stderr, "t %zu: price %.17g %.17g volume %.17g %.17g load %.17g %.17g\n", t,
                        a->price[t], b->price[t], a->volume_kwh[t], b->volume_kwh[t],
                        a->load_kwh[t], b->load_kwh[t]);
            break;
        }
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_memory_equal(a->node, b->node, a->n_nodes * sizeof *a->node);
    assert_memory_equal(&a->total, &b->total, sizeof a->total);
    assert_memory_equal(a->price, b->price, T * sizeof(double));
    assert_memory_equal(a->volume_kwh, b->volume_kwh, T * sizeof(double));
    assert_memory_equal(a->grid_import_kwh, b->grid_import_kwh, T * sizeof(double));
    assert_memory_equal(a->grid_export_kwh, b->grid_export_kwh, T * sizeof(double));
}

static void
test_two_hosts(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    size_t n = pg_community_n_nodes(c);
    /* the in-process run of the same market */
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    pg_community_report *ref = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &ref, &err), PG_OK);
    /* odd members on one side, even on the other */
    const char **names[2];
    side sd[2];
    memset(sd, 0, sizeof sd);
    for (int k = 0; k < 2; k++) {
        names[k] = calloc(n, sizeof *names[k]);
        assert_non_null(names[k]);
        sd[k].c = c;
        sd[k].url = pgt_nats_url(s, 0);
        sd[k].members = names[k];
    }
    for (size_t i = 0; i < n; i++) {
        side *x = &sd[i % 2];
        x->members[x->n_members++] = c->nodes[i].name;
    }
    pthread_t tid[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&tid[k], NULL, side_main, &sd[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(tid[k], NULL);
    for (int k = 0; k < 2; k++) {
        if (sd[k].rc)
            fail_msg("side %d: %s", k, sd[k].err.msg);
        assert_same_run(&ref->variants[0].market, &sd[k].r->variants[0].market, ref->n_intervals);
        assert_int_equal(sd[k].errors, 0);
        /* the events: every interval cleared at the report's price, every member up, the
         * connection, and the end once, last */
        assert_int_equal(sd[k].ev_cleared, ref->n_intervals);
        for (size_t t = 0; t < ref->n_intervals && t < 64; t++) {
            double a = sd[k].ev_price[t], b = ref->variants[0].market.price[t];
            assert_true((isnan(a) && isnan(b)) || a == b);
        }
        assert_true(sd[k].ev_up >= n);
        assert_true(sd[k].ev_connected >= 1);
        assert_int_equal(sd[k].ev_done, 1);
        assert_int_equal(sd[k].ev_after_done, 0);
    }
    /* the side without the operator checked every interval's result */
    assert_true(sd[0].recomputed + sd[1].recomputed >= pg_community_n_intervals(c));
    for (int k = 0; k < 2; k++) {
        pg_community_report_free(sd[k].r);
        free(names[k]);
    }
    pg_community_report_free(ref);
    pg_community_free(c);
    pgt_nats_stop(s);
}

/* The process holding the operator role stops mid-day: the other takes the role over within
 * timeout_s + retry_s of the operator's silence and finishes the day with its own members. */
static void
test_operator_takeover(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    size_t n = pg_community_n_nodes(c), T = pg_community_n_intervals(c);
    const char **names[2];
    side sd[2];
    memset(sd, 0, sizeof sd);
    for (int k = 0; k < 2; k++) {
        names[k] = calloc(n, sizeof *names[k]);
        assert_non_null(names[k]);
        sd[k].c = c;
        sd[k].url = pgt_nats_url(s, 0);
        sd[k].members = names[k];
        sd[k].heartbeat_s = 0.1;
        sd[k].timeout_s = 0.6;
        sd[k].retry_s = 0.05;
    }
    /* the first member by name (the operator) on side 0 */
    for (size_t i = 0; i < n; i++) {
        side *x = &sd[i % 2];
        x->members[x->n_members++] = c->nodes[i].name;
    }
    assert_string_equal(c->nodes[0].name, "Building_1");
    sd[0].stop_at = "interval 9:";
    pthread_t tid[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&tid[k], NULL, side_main, &sd[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(tid[k], NULL);
    assert_int_equal(sd[0].rc, PG_ECANCELED);
    if (sd[1].rc)
        fail_msg("side 1: %s", sd[1].err.msg);
    assert_true(sd[1].took_over_at > 0);
    double took = sd[1].took_over_at - sd[0].stopped_at;
    fprintf(stderr, "the operator stopped; the role was taken over %.3f s later (timeout %.2f s)\n",
            took, sd[1].timeout_s);
    /* the operator's last heartbeat is at most heartbeat_s before it stopped. The upper bound
     * checks that the role is taken over soon after the operator times out, not speed:
     * slack for a machine running two sanitized test programs at once (bench/lattice measures
     * the takeover) */
    assert_true(took <= sd[1].timeout_s + sd[1].retry_s + 1.5);
    assert_true(took >= sd[1].timeout_s - sd[1].heartbeat_s - 0.05);
    /* side 1 recorded every interval: all members until the stop, its own after */
    const pg_community_run *r = &sd[1].r->variants[0].market;
    for (size_t t = 0; t < T; t++)
        assert_true(r->load_kwh[t] > 0);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    pg_community_report *ref = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &ref, &err), PG_OK);
    const pg_community_run *f = &ref->variants[0].market;
    for (size_t i = 0; i < n; i++) {
        assert_true(r->node[i].load_kwh > 0);
        if (i % 2 == 0) /* gone after the stop */
            assert_true(r->node[i].load_kwh < f->node[i].load_kwh - 1e-6);
    }
    pg_community_report_free(ref);
    for (int k = 0; k < 2; k++) {
        pg_community_report_free(sd[k].r);
        free(names[k]);
    }
    pg_community_free(c);
    pgt_nats_stop(s);
}

/* A process joins late (its member comes in at interval 6 or so): it gets the settlements it
 * missed from the operator after the ones that came live, puts them in interval order, and its
 * report is the operator's process's to the last bit. */
static void
test_late_joiner(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    size_t n = pg_community_n_nodes(c), T = pg_community_n_intervals(c);
    const char **names = calloc(n, sizeof *names);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++)
        names[i] = c->nodes[i].name;
    atomic_int go = 0;
    side sd[2];
    memset(sd, 0, sizeof sd);
    for (int k = 0; k < 2; k++) {
        sd[k].c = c;
        sd[k].url = pgt_nats_url(s, 0);
        sd[k].heartbeat_s = 0.1;
        sd[k].timeout_s = 1;
        sd[k].retry_s = 0.05;
        sd[k].form_s = 0.3;
        sd[k].interval_s = 0.1;
    }
    sd[0].members = names;
    sd[0].n_members = n - 1;
    sd[0].flag_at = "interval 6:";
    sd[0].flag = &go;
    sd[1].members = names + n - 1;
    sd[1].n_members = 1;
    sd[1].wait_for = &go;
    pthread_t tid[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&tid[k], NULL, side_main, &sd[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(tid[k], NULL);
    for (int k = 0; k < 2; k++)
        if (sd[k].rc)
            fail_msg("side %d: %s", k, sd[k].err.msg);
    const pg_community_run *a = &sd[0].r->variants[0].market, *b = &sd[1].r->variants[0].market;
    assert_same_run(a, b, T);
    for (size_t t = 0; t < T; t++)
        assert_true(b->load_kwh[t] > 0);
    /* the late member was not there at first */
    assert_true(b->node[n - 1].load_kwh > 0);
    for (int k = 0; k < 2; k++)
        pg_community_report_free(sd[k].r);
    free(names);
    pg_community_free(c);
    pgt_nats_stop(s);
}

/* A member that starts after a takeover gets the settlements of the first operator's term too:
 * the operator (side 0, alone) stops at interval 4, side 1 takes the role with term 2, and then
 * side 2 starts. Before, the new operator sent the kept settlements again as the first operator
 * had signed them (term 1), which side 2, following term 2, refused: its record lacked the first
 * intervals for good. */
static void
test_joiner_after_takeover(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    size_t n = pg_community_n_nodes(c), T = pg_community_n_intervals(c);
    const char **names = calloc(n, sizeof *names);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++)
        names[i] = c->nodes[i].name;
    assert_string_equal(c->nodes[0].name, "Building_1");
    atomic_int go = 0;
    side sd[3];
    memset(sd, 0, sizeof sd);
    for (int k = 0; k < 3; k++) {
        sd[k].c = c;
        sd[k].url = pgt_nats_url(s, 0);
        sd[k].heartbeat_s = 0.1;
        sd[k].timeout_s = 0.6;
        sd[k].retry_s = 0.05;
        sd[k].form_s = 0.5;
        sd[k].interval_s = 0.1;
    }
    sd[0].members = names;
    sd[0].n_members = 1;
    sd[0].stop_at = "interval 4:";
    sd[1].members = names + 1;
    sd[1].n_members = n - 2;
    sd[1].flag_at = "(term 2)";
    sd[1].flag = &go;
    sd[2].members = names + n - 1;
    sd[2].n_members = 1;
    sd[2].wait_for = &go;
    pthread_t tid[3];
    for (int k = 0; k < 3; k++)
        assert_int_equal(pthread_create(&tid[k], NULL, side_main, &sd[k]), 0);
    for (int k = 0; k < 3; k++)
        pthread_join(tid[k], NULL);
    assert_int_equal(sd[0].rc, PG_ECANCELED);
    for (int k = 1; k < 3; k++)
        if (sd[k].rc)
            fail_msg("side %d: %s", k, sd[k].err.msg);
    const pg_community_run *a = &sd[1].r->variants[0].market, *b = &sd[2].r->variants[0].market;
    for (size_t t = 0; t < T; t++)
        assert_true(b->load_kwh[t] > 0);
    assert_same_run(a, b, T);
    for (int k = 0; k < 3; k++)
        pg_community_report_free(sd[k].r);
    free(names);
    pg_community_free(c);
    pgt_nats_stop(s);
}

/* A peer replays a member's heartbeats with an earlier incarnation (as a member's old
 * incarnation's last messages still arrive after it restarted). Before, every such heartbeat
 * counted as a restart (hundreds of "restarted" lines), and an operator seeing the incarnation
 * change since the member bid takes it for gone and settles it on its award instead of its
 * meter. An earlier incarnation is now ignored: no restart, the in-process run's settlement. */
typedef struct replayer {
    pg_bus *bus;
    uint32_t node;
    size_t sent;
    const char *subject;
} replayer;

static void
replay(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    replayer *r = ctx;
    pgi_msg_member mm;
    pg_error err = {0};
    if (pgi_msg_decode_member(PGI_MSG_HEARTBEAT, data, len, &mm, &err) || mm.node != r->node ||
        mm.incarnation < 2)
        return;
    mm.incarnation -= 1000; /* an earlier start */
    uint8_t *buf;
    size_t blen;
    assert_int_equal(pgi_msg_encode_member(PGI_MSG_HEARTBEAT, &mm, &buf, &blen, &err), PG_OK);
    if (pg_bus_publish(r->bus, subject, buf, blen, &err) == PG_OK)
        r->sent++;
    free(buf);
}

static void
test_old_incarnation(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    size_t n = pg_community_n_nodes(c);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    pg_community_report *ref = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &ref, &err), PG_OK);
    replayer rp = {.node = (uint32_t)(n - 1)};
    assert_int_equal(pg_bus_open(&rp.bus, "nats", pgt_nats_url(s, 0), &err), PG_OK);
    assert_int_equal(
        pg_bus_subscribe(rp.bus, "pg.scenario0.two.member.heartbeat", replay, &rp, NULL, &err),
        PG_OK);
    assert_int_equal(pg_bus_flush(rp.bus, 5, &err), PG_OK);
    const char **names = calloc(n, sizeof *names);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++)
        names[i] = c->nodes[i].name;
    side sd[2];
    memset(sd, 0, sizeof sd);
    for (int k = 0; k < 2; k++) {
        sd[k].c = c;
        sd[k].url = pgt_nats_url(s, 0);
        sd[k].heartbeat_s = 0.02;
        sd[k].timeout_s = 1;
        sd[k].retry_s = 0.05;
    }
    sd[0].members = names;
    sd[0].n_members = n - 1;
    sd[1].members = names + n - 1;
    sd[1].n_members = 1;
    pthread_t tid[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&tid[k], NULL, side_main, &sd[k]), 0);
    /* the replayer answers each of the member's heartbeats until both sides are done */
    for (;;) {
        assert_int_equal(pg_bus_poll(rp.bus, 0.005, NULL, &err), PG_OK);
        if (atomic_load(&sd[0].finished) && atomic_load(&sd[1].finished))
            break;
    }
    for (int k = 0; k < 2; k++)
        pthread_join(tid[k], NULL);
    pg_bus_close(rp.bus);
    for (int k = 0; k < 2; k++)
        if (sd[k].rc)
            fail_msg("side %d: %s", k, sd[k].err.msg);
    assert_true(rp.sent > 10);
    assert_int_equal(sd[0].restarted, 0);
    for (int k = 0; k < 2; k++)
        assert_same_run(&ref->variants[0].market, &sd[k].r->variants[0].market, ref->n_intervals);
    for (int k = 0; k < 2; k++)
        pg_community_report_free(sd[k].r);
    pg_community_report_free(ref);
    free(names);
    pg_community_free(c);
    pgt_nats_stop(s);
}

static void
count_late(void *ud, pg_log_level level, const char *msg)
{
    size_t *late = ud;
    if (level == PG_LOG_WARN && strstr(msg, "the gate closed at its deadline"))
        (*late)++;
    if (getenv("PGT_LOG"))
        fprintf(stderr, "%.3f %d %s\n", pgi_now(), (int)level, msg);
}

/* On the wall clock each interval takes interval_s, and the report is the same unless a gate
 * closed at its deadline (half the interval) before every bid came, which the log says: on a
 * machine loaded enough to delay a bid by that much the run is not the in-process one, by the
 * rules. */
static void
test_wall_clock(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    pg_community *c = scenario0(1);
    pg_lattice_options lo;
    pg_lattice_options_init(&lo);
    lo.transport = "inproc";
    pg_community_report *ref = NULL, *r = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &ref, &err), PG_OK);
    pg_lattice_options_init(&lo);
    lo.servers = pgt_nats_url(s, 0);
    lo.wall_clock = true;
    lo.interval_s = 0.25;
    size_t late = 0;
    lo.log = count_late;
    lo.log_ud = &late;
    lo.log_level = PG_LOG_DEBUG;
    double t0 = pgi_now();
    int rc = pg_community_run_lattice(c, NULL, 0, "uniform", &lo, &r, &err);
    double took = pgi_now() - t0;
    if (rc)
        fail_msg("%s", err.msg);
    size_t T = pg_community_n_intervals(c);
    assert_true(took >= (double)(T - 1) * lo.interval_s);
    if (late == 0)
        assert_same_run(&ref->variants[0].market, &r->variants[0].market, T);
    else
        fprintf(stderr, "wall clock: %zu gates closed at their deadline: the run is not compared\n",
                late);
    pg_community_report_free(ref);
    pg_community_report_free(r);
    pg_community_free(c);
    pgt_nats_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_day_equal, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_two_hosts, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_operator_takeover, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_wall_clock, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_late_joiner, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_joiner_after_takeover, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_old_incarnation, pgt_nats_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
