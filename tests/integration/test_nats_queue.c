/* Queue groups on the NATS bus over a real nats-server (tests/nats_fixture.h): of the members of
 * a group on three connections, each message reaches exactly one, every member gets some, plain
 * subscriptions still get every message, two groups each get every message once, an unsubscribed
 * member gets nothing more, the subscription survives a server restart, and the bus reports the
 * server's max_payload. */
#include <math.h>
#include <time.h>

#include "harness.h"
#include "nats_fixture.h"

#include "lattice/bus_internal.h"
#include "plurigrid/lattice.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pg_bus *
open_nats(const char *url)
{
    pg_bus *b = NULL;
    pg_error err = {0};
    if (pg_bus_open(&b, "nats", url, &err))
        fail_msg("opening a NATS bus at %s: %s", url, err.msg);
    return b;
}

/* Counts messages per payload number (0..999). */
typedef struct counter {
    size_t n;
    unsigned char seen[1000];
} counter;

static void
on_count(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    counter *c = ctx;
    char buf[16];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 15 ? len : 15), (const char *)data);
    int k = atoi(buf);
    if (k >= 0 && k < 1000)
        c->seen[k]++;
    c->n++;
}

static uint64_t
qsub(pg_bus *b, const char *pattern, const char *group, counter *c)
{
    pg_error err = {0};
    uint64_t sid = 0;
    int rc = group ? pg_bus_subscribe_queue(b, pattern, group, on_count, c, &sid, &err)
                   : pg_bus_subscribe(b, pattern, on_count, c, &sid, &err);
    if (rc)
        fail_msg("subscribe %s: %s", pattern, err.msg);
    return sid;
}

static void
publish_n(pg_bus *b, const char *subject, int from, int to)
{
    pg_error err = {0};
    for (int i = from; i < to; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "%d", i);
        if (pg_bus_publish(b, subject, m, (size_t)n, &err))
            fail_msg("publish: %s", err.msg);
    }
    assert_int_equal(pg_bus_flush(b, 5, &err), PG_OK);
}

/* Polls every bus until total(counters) reaches want or timeout_s passes. */
static size_t
poll_all(pg_bus **b, size_t nb, counter **c, size_t nc, size_t want, double timeout_s)
{
    double end = now() + timeout_s;
    pg_error err = {0};
    size_t total = 0;
    for (;;) {
        total = 0;
        for (size_t i = 0; i < nc; i++)
            total += c[i]->n;
        if (total >= want || now() > end)
            break;
        for (size_t i = 0; i < nb; i++)
            assert_int_equal(pg_bus_poll(b[i], 0.01, NULL, &err), PG_OK);
    }
    /* a little more, so that a message delivered twice would show */
    for (int k = 0; k < 5; k++)
        for (size_t i = 0; i < nb; i++)
            assert_int_equal(pg_bus_poll(b[i], 0.01, NULL, &err), PG_OK);
    total = 0;
    for (size_t i = 0; i < nc; i++)
        total += c[i]->n;
    return total;
}

static void
test_one_member_each(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    long base = pgt_nats_subscriptions(s, 0); /* the server's own */
    pg_bus *b[3];
    for (int i = 0; i < 3; i++)
        b[i] = open_nats(pgt_nats_url(s, 0));
    static counter m[3], plain, other;
    memset(m, 0, sizeof m);
    memset(&plain, 0, sizeof plain);
    memset(&other, 0, sizeof other);
    uint64_t sid[3];
    for (int i = 0; i < 3; i++)
        sid[i] = qsub(b[i], "work.*", "workers", &m[i]);
    qsub(b[0], "work.>", NULL, &plain);
    qsub(b[1], "work.x", "others", &other);
    pg_error err = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pg_bus_flush(b[i], 5, &err), PG_OK);
    assert_true(pgt_nats_wait_subscriptions(s, 0, base + 5 + 3, 5.0)); /* 3 inboxes too */

    publish_n(b[2], "work.x", 0, 300);
    counter *all[] = {&m[0], &m[1], &m[2], &plain, &other};
    assert_int_equal(poll_all(b, 3, all, 5, 900, 10.0), 900);
    for (int k = 0; k < 300; k++) {
        assert_int_equal(m[0].seen[k] + m[1].seen[k] + m[2].seen[k], 1);
        assert_int_equal(plain.seen[k], 1);
        assert_int_equal(other.seen[k], 1);
    }
    for (int i = 0; i < 3; i++)
        assert_true(m[i].n > 0); /* random, but 300 messages never all miss a member */

    /* An unsubscribed member gets nothing more; the others share everything. */
    size_t before = m[1].n;
    assert_int_equal(pg_bus_unsubscribe(b[1], sid[1], &err), PG_OK);
    assert_int_equal(pg_bus_flush(b[1], 5, &err), PG_OK);
    memset(plain.seen, 0, sizeof plain.seen);
    memset(other.seen, 0, sizeof other.seen);
    for (int i = 0; i < 3; i++)
        memset(m[i].seen, 0, sizeof m[i].seen);
    publish_n(b[2], "work.y", 300, 400);
    size_t want = m[0].n + m[1].n + m[2].n + plain.n + other.n + 200;
    assert_int_equal(poll_all(b, 3, all, 5, want, 10.0), want);
    assert_int_equal(m[1].n, before);
    for (int k = 300; k < 400; k++)
        assert_int_equal(m[0].seen[k] + m[2].seen[k], 1);
    for (int i = 0; i < 3; i++)
        pg_bus_close(b[i]);
    pgt_nats_stop(s);
}

/* The group's subscription comes back after the server restarts on its port. */
static void
test_restart(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start();
    long base = pgt_nats_subscriptions(s, 0); /* the server's own, the same after a restart */
    pg_bus *b[2] = {open_nats(pgt_nats_url(s, 0)), open_nats(pgt_nats_url(s, 0))};
    static counter m;
    memset(&m, 0, sizeof m);
    qsub(b[0], "r", "g", &m);
    pg_error err = {0};
    assert_int_equal(pg_bus_flush(b[0], 5, &err), PG_OK);
    pgt_nats_kill(s, 0);
    pgt_nats_restart(s, 0);
    /* both reconnect (within about 200 ms) and the subscription is made again */
    assert_true(pgt_nats_wait_connections(s, 0, 2, 10.0));
    assert_true(pgt_nats_wait_subscriptions(s, 0, base + 3, 10.0));
    double end = now() + 10;
    while (pg_bus_flush(b[1], 5, &err) != PG_OK && now() < end)
        pg_bus_poll(b[1], 0.05, NULL, &err);
    publish_n(b[1], "r", 0, 10);
    counter *c[] = {&m};
    assert_int_equal(poll_all(b, 2, c, 1, 10, 10.0), 10);
    pg_bus_close(b[0]);
    pg_bus_close(b[1]);
    pgt_nats_stop(s);
}

static void
test_max_payload(void **state)
{
    (void)state;
    pgt_nats *s = pgt_nats_start_config("max_payload: 4096\n");
    pg_bus *b = open_nats(pgt_nats_url(s, 0));
    assert_int_equal(pg_bus_max_payload(b), 4096);
    pg_bus_close(b);
    pgt_nats_stop(s);
    s = pgt_nats_start();
    b = open_nats(pgt_nats_url(s, 0));
    assert_int_equal(pg_bus_max_payload(b), PG_BUS_MAX_PAYLOAD); /* the server's 1 MiB */
    pg_error err = {0};
    counter c = {0};
    assert_int_equal(pg_bus_subscribe_queue(b, "x", "a b", on_count, &c, NULL, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "queue group"));
    pg_bus_close(b);
    pgt_nats_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_one_member_each, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_restart, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_max_payload, pgt_nats_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
