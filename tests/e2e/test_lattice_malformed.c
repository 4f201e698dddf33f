/* Malformed, oversized and wrong-version messages on every subject of a community are rejected,
 * counted, and change nothing. The example community (four homes, two days) is played on a real
 * nats-server by pg_community_run_lattice, every member in this process (as `plurigrid community
 * --nats` plays it), twice:
 *
 *  1. clean, while a bus of the test's own (pg_bus_open("nats", ...), another connection) records
 *     the first message of every subject the community uses, and the subjects bids name for their
 *     acknowledgements;
 *  2. with that bus publishing, at five moments of the day (when the run logs the award of
 *     intervals 2, 4, 6, 8 and 10, so inside the run), on every one of those subjects and on the
 *     documented ones the clean run did not use: an empty message, text, random bytes, the
 *     recorded message cut to its header and by one byte, with a byte too many and 64 KiB too
 *     many, one of the bus's largest size (1 MiB, once), with another magic, with the versions
 *     before and after its own, with an unknown type, with its reserved bytes set.
 *
 * The second run's report is the first's and the in-process run's, field by field (message
 * counters aside), and its count of dropped messages grew by exactly the number of malformed
 * messages published: the community listens on every one of those subjects, on one connection, so
 * each arrived once and was counted once. */
#include "lattice_e2e.h"

#include "plurigrid/community.h"
#include "plurigrid/lattice.h"

#define MAX_SUBJECTS 64
#define ROUNDS 5

typedef struct capture {
    char subject[MAX_SUBJECTS][PG_BUS_MAX_SUBJECT + 1];
    unsigned char *data[MAX_SUBJECTS];
    size_t len[MAX_SUBJECTS];
    bool community[MAX_SUBJECTS]; /* a subject of the community (pg.C....), not a reply inbox */
    size_t n;
    bool overflow;
} capture;

static void
capture_add(capture *c, const char *subject, const void *data, size_t len, bool community)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->subject[i], subject) == 0)
            return;
    if (c->n == MAX_SUBJECTS) {
        c->overflow = true;
        return;
    }
    snprintf(c->subject[c->n], sizeof c->subject[0], "%s", subject);
    c->data[c->n] = malloc(len ? len : 1);
    if (len)
        memcpy(c->data[c->n], data, len);
    c->len[c->n] = len;
    c->community[c->n] = community;
    c->n++;
}

static const char *prefix = "pg.lattice-demo.";

static void
on_message(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    capture *c = ctx;
    bool ours = strncmp(subject, prefix, strlen(prefix)) == 0;
    if (ours)
        capture_add(c, subject, data, len, true);
    /* A reply subject of a community message (a bid's, for its acknowledgement). */
    if (ours && reply)
        capture_add(c, reply, data, len, strncmp(reply, prefix, strlen(prefix)) == 0);
}

static pg_community *
read_example(void)
{
    pg_community_options o;
    pg_community_options_init(&o);
    o.data_dir = pge_data;
    pg_community *c = NULL;
    pg_error err = {0};
    if (pg_community_read(&c, pge_scen, &o, &err) != PG_OK) {
        char buf[1400];
        fail_msg("reading %s: %s", pge_scen, pg_error_format(&err, buf, sizeof buf));
    }
    return c;
}

/* ---------------------------------------------------------------- the malformed messages */

typedef struct injector {
    pg_bus *bus;
    const capture *cap;
    bool done[16];
    size_t rounds;
    uint64_t published;
    uint64_t rng;
    char log_tail[8][512]; /* the run's last log lines, for a failure's message */
    size_t n_log;
} injector;

static void
put(injector *in, const char *subject, const void *data, size_t len)
{
    pg_error err = {0};
    int rc = pg_bus_publish(in->bus, subject, data, len, &err);
    if (rc != PG_OK) {
        char buf[1400];
        fail_msg("publishing %zu bytes on %s: %s", len, subject,
                 pg_error_format(&err, buf, sizeof buf));
    }
    in->published++;
}

/* One round: every kind of malformed message on every subject. */
static void
inject_round(injector *in)
{
    const capture *c = in->cap;
    size_t big = PG_BUS_MAX_PAYLOAD;
    unsigned char *buf = malloc(big);
    assert_non_null(buf);
    char extra[5][PG_BUS_MAX_SUBJECT + 1];
    snprintf(extra[0], sizeof extra[0], "%smarket.dispute", prefix);
    snprintf(extra[1], sizeof extra[1], "%sdr.event", prefix);
    snprintf(extra[2], sizeof extra[2], "%sshare.report", prefix);
    snprintf(extra[3], sizeof extra[3], "%sshare.node.home-1", prefix);
    snprintf(extra[4], sizeof extra[4], "%stelemetry.home-9", prefix);
    size_t total = c->n + 5;
    for (size_t s = 0; s < total; s++) {
        bool known = s < c->n;
        const char *subject = known ? c->subject[s] : extra[s - c->n];
        const unsigned char *v = known ? c->data[s] : (const unsigned char *)"PGCM\x02\x01\0\0";
        size_t vl = known ? c->len[s] : 8;
        assert_true(vl >= 8 && vl + 65536 <= big);

        put(in, subject, NULL, 0);
        put(in, subject, "hello, lattice", 14);
        for (size_t i = 0; i < vl; i++) {
            in->rng = in->rng * 6364136223846793005ull + 1442695040888963407ull;
            buf[i] = (unsigned char)(in->rng >> 56);
        }
        buf[0] = 'X'; /* random bytes that cannot start with the magic */
        put(in, subject, buf, vl);
        put(in, subject, v, 8);
        put(in, subject, v, vl - 1);
        memcpy(buf, v, vl);
        buf[vl] = 0;
        put(in, subject, buf, vl + 1);
        memset(buf + vl, 0x5a, 65536);
        put(in, subject, buf, vl + 65536);
        if (in->rounds == 0) {
            memset(buf + vl, 'A', big - vl);
            put(in, subject, buf, big);
        }
        /* The header's fields: magic, version (before and after), type, reserved bytes. */
        const size_t at[] = {0, 4, 4, 4, 5, 5, 6, 7};
        const int delta[] = {1, -1, 1, 0x80, -100, 100, 1, 1};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            memcpy(buf, v, vl);
            buf[at[k]] = (unsigned char)(buf[at[k]] + delta[k]);
            put(in, subject, buf, vl);
        }
    }
    free(buf);
    pg_error err = {0};
    assert_int_equal(pg_bus_flush(in->bus, 30, &err), PG_OK);
    in->rounds++;
}

/* The run's log: at the award of intervals 2, 4, ..., 10 (the first time each is logged), a round
 * of malformed messages. */
static void
on_log(void *ud, pg_log_level level, const char *msg)
{
    injector *in = ud;
    snprintf(in->log_tail[in->n_log++ % 8], sizeof in->log_tail[0], "%d: %s", (int)level, msg);
    long k;
    double q;
    if (!pge_award_line(msg, &k, &q))
        return;
    if (k >= 2 && k <= 2 * ROUNDS && k % 2 == 0 && !in->done[k]) {
        in->done[k] = true;
        inject_round(in);
    }
}

/* The run of a lattice report (in its market slot, or its baseline slot, which holds a lattice
 * run of any mechanism). */
static const pg_community_run *
the_run(const pg_community_report *r)
{
    assert_true(r->n_variants == 1);
    return r->variants[0].has_market ? &r->variants[0].market : &r->variants[0].baseline;
}

/* Plays the example on the server at url, every member here; returns the report. */
static pg_community_report *
play(const pg_community *c, const char *url, injector *in)
{
    pg_lattice_options o;
    pg_lattice_options_init(&o);
    o.transport = "nats";
    o.servers = url;
    o.form_s = 60;
    o.log_level = PG_LOG_INFO;
    if (in) {
        o.log = on_log;
        o.log_ud = in;
    }
    pg_community_report *r = NULL;
    pg_error err = {0};
    if (pg_community_run_lattice(c, NULL, 0, NULL, &o, &r, &err) != PG_OK) {
        char buf[1400];
        fail_msg("the lattice run failed: %s", pg_error_format(&err, buf, sizeof buf));
    }
    return r;
}

/* The run of a lattice report r as JSON without the message counters. */
static json_t *
market_json(const pg_community_report *r)
{
    char *text = NULL;
    pg_error err = {0};
    assert_int_equal(pg_community_report_json(r, &text, &err), PG_OK);
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    free(text);
    assert_non_null(v);
    pge_json_strip_counters(v);
    json_t *m = json_incref(pge_variant_run(json_array_get(json_object_get(v, "variants"), 0)));
    json_decref(v);
    assert_non_null(m);
    return m;
}

static void
test_malformed_messages(void **state)
{
    (void)state;
    pge_paths();
    pgt_nats *s = pgt_nats_start();
    const char *url = pgt_nats_url(s, 0);
    json_t *ref = pge_reference();
    pg_community *c = read_example();

    /* 1. The clean run, recorded. */
    pg_bus *raw = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&raw, "nats", url, &err), PG_OK);
    capture *cap = calloc(1, sizeof *cap);
    assert_non_null(cap);
    uint64_t sid = 0;
    assert_int_equal(pg_bus_subscribe(raw, ">", on_message, cap, &sid, &err), PG_OK);
    assert_int_equal(pg_bus_flush(raw, 10, &err), PG_OK);
    pg_community_report *clean = play(c, url, NULL);
    assert_int_equal(pg_bus_flush(raw, 10, &err), PG_OK);
    size_t got;
    do { /* everything the clean run sent has reached the recording bus */
        got = 0;
        assert_int_equal(pg_bus_poll(raw, 0.5, &got, &err), PG_OK);
    } while (got);
    assert_int_equal(pg_bus_unsubscribe(raw, sid, &err), PG_OK);
    assert_false(cap->overflow);
    size_t ours = 0;
    for (size_t i = 0; i < cap->n; i++)
        ours += cap->community[i];
    print_message("[ INFO     ] %zu subjects recorded (%zu of the community):", cap->n, ours);
    for (size_t i = 0; i < cap->n; i++)
        print_message(" %s", cap->subject[i]);
    print_message("\n");
    assert_true(ours >= 6); /* announce, heartbeat, open, bid, result, telemetry, settle... */

    /* 2. The run with malformed messages. */
    injector in = {0};
    in.bus = raw;
    in.cap = cap;
    in.rng = 20261205;
    pg_community_report *dirty = play(c, url, &in);
    if (in.rounds != ROUNDS) {
        for (size_t i = 0; i < 8 && i < in.n_log; i++)
            print_error("log: %s\n", in.log_tail[(in.n_log - 1 - i) % 8]);
        fail_msg("%zu rounds of malformed messages were published instead of %d: the run's log "
                 "has no award lines for intervals 2 to %d",
                 in.rounds, ROUNDS, 2 * ROUNDS);
    }
    uint64_t d0 = the_run(clean)->dropped, d1 = the_run(dirty)->dropped;
    print_message("[ INFO     ] %llu malformed messages published; dropped: %llu in the clean "
                  "run, %llu with them\n",
                  (unsigned long long)in.published, (unsigned long long)d0, (unsigned long long)d1);
    /* Each reached the one connection once, and was counted once. */
    if (d1 - d0 != in.published)
        fail_msg("%llu more messages were counted as dropped, for %llu malformed ones",
                 (unsigned long long)(d1 - d0), (unsigned long long)in.published);

    /* Nothing changed: the same settlement as the clean run and the in-process run. */
    json_t *a = market_json(clean), *b = market_json(dirty);
    pge_assert_json_equal(a, b, "the clean run's and the run with malformed messages' reports");
    json_t *rv = json_object_get(json_array_get(json_object_get(ref, "variants"), 0), "market");
    pge_assert_json_equal(rv, b,
                          "the in-process run's and the run with malformed messages' "
                          "reports");
    json_decref(a);
    json_decref(b);
    json_decref(ref);
    pg_community_report_free(clean);
    pg_community_report_free(dirty);
    pg_community_free(c);
    pg_bus_close(raw);
    for (size_t i = 0; i < cap->n; i++)
        free(cap->data[i]);
    free(cap);
    pge_pass();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malformed_messages, pge_setup, pge_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
