/* The ledger on a real nats-server (tests/nats_fixture.h): each copy on a connection of its own,
 * the peers' connections polled by a thread as another process would. Two copies converge with
 * algorithm 2 (one exchange) and algorithm 1; several copies converge; an op broadcast reaches the
 * other copy; Byzantine peers (garbage, huge replies, silence, heads never sent, ops that fail
 * their checks) fail that reconciliation within its timeout, leave the ledger as it was, and the
 * honest peer is reconciled with next. */
#include <pthread.h>

#include "harness.h"
#include "nats_fixture.h"

#include "core/util.h"
#include "unit/ledger/net_helpers.h"

/* A thread polling the buses of the other copies (and stepping their nets) until stopped. */
typedef struct poller {
    pg_bus *bus[4];
    pg_ledger_net *net[4];
    int n;
    int stop;
    pthread_t th;
} poller;

static void *
poll_thread(void *arg)
{
    poller *p = arg;
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
        for (int i = 0; i < p->n; i++) {
            pg_bus_poll(p->bus[i], 0.002, NULL, NULL);
            if (p->net[i])
                pg_ledger_net_step(p->net[i], pgi_now(), NULL);
        }
    return NULL;
}

static void
poller_start(poller *p)
{
    p->stop = 0;
    assert_int_equal(pthread_create(&p->th, NULL, poll_thread, p), 0);
}

static void
poller_stop(poller *p)
{
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_join(p->th, NULL);
}

static pg_bus *
open_nats(const char *url)
{
    pg_bus *b = NULL;
    pg_error err = {0};
    if (pg_bus_open(&b, "nats", url, &err) != PG_OK)
        fail_msg("opening a NATS bus at %s: %s", url, err.msg);
    return b;
}

static void
flush(pg_bus *b)
{
    pg_error err = {0};
    assert_int_equal(pg_bus_flush(b, 5, &err), PG_OK);
}

static void
two_copies(bool bloom)
{
    tn_setup_keys();
    pgt_nats *s = pgt_nats_start();
    pg_bus *ba = open_nats(pgt_nats_url(s, 0)), *bb = open_nats(pgt_nats_url(s, 0));
    pg_ledger *a = tn_open("a"), *b = tn_open("b");
    tn_append(a, 3, 50, 8);
    tn_copy(a, b);
    tn_append(a, 1, 20, 64);
    tn_append(b, 2, 30, 64);
    pg_ledger_net *na = tn_net(a, ba, "a", bloom, 0, 5), *nb = tn_net(b, bb, "b", bloom, 0, 5);
    flush(ba);
    flush(bb);
    poller p = {.bus = {bb}, .net = {nb}, .n = 1};
    poller_start(&p);
    pg_error err = {0};
    int rc = pg_ledger_net_sync(na, "b", 30, &err);
    poller_stop(&p);
    if (rc != PG_OK)
        fail_msg("sync: %s", err.msg);
    tn_assert_same(a, b);
    pg_ledger_net_stats sa;
    pg_ledger_net_get_stats(na, &sa);
    assert_int_equal(sa.completed, 1);
    assert_int_equal(sa.ops_received, 30);
    assert_int_equal(sa.ops_sent, 20);
    if (bloom)
        assert_int_equal(sa.round_trips, 1);
    else
        assert_int_equal(sa.round_trips, 1 + 30); /* b's ops are one chain */
    /* An op broadcast by b reaches a. */
    pg_ledger_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = PG_LEDGER_COUNTER;
    pl.name = "c";
    pl.delta = -5;
    pg_ledger_id x;
    assert_int_equal(pg_ledger_append(b, &tn_keys[2], &pl, &x, &err), PG_OK);
    assert_int_equal(pg_ledger_net_publish(nb, &x, &err), PG_OK);
    flush(bb);
    double end = pgi_now() + 10;
    while (!pg_ledger_has(a, &x) && pgi_now() < end)
        assert_int_equal(pg_bus_poll(ba, 0.05, NULL, &err), PG_OK);
    assert_true(pg_ledger_has(a, &x));
    tn_assert_same(a, b);
    pg_ledger_net_free(na);
    pg_ledger_net_free(nb);
    pg_ledger_close(a);
    pg_ledger_close(b);
    pg_bus_close(ba);
    pg_bus_close(bb);
    pgt_nats_stop(s);
    pgt_tmpdir_cleanup();
}

static void
test_two_copies_bloom(void **state)
{
    (void)state;
    two_copies(true);
}

static void
test_two_copies_algorithm1(void **state)
{
    (void)state;
    two_copies(false);
}

static void
test_several_copies(void **state)
{
    (void)state;
    tn_setup_keys();
    pgt_nats *s = pgt_nats_start();
    enum { N = 4 };
    const char *names[N] = {"c0", "c1", "c2", "c3"};
    pg_bus *bus[N];
    pg_ledger *l[N];
    pg_ledger_net *n[N];
    l[0] = tn_open(names[0]);
    tn_append(l[0], 1, 10, 8);
    for (int i = 1; i < N; i++) {
        l[i] = tn_open(names[i]);
        tn_copy(l[0], l[i]);
    }
    for (int i = 0; i < N; i++) {
        tn_append(l[i], 1 + i % 3, 4 + 2 * i, 16);
        bus[i] = open_nats(pgt_nats_url(s, 0));
        n[i] = tn_net(l[i], bus[i], names[i], true, 0, 5);
        flush(bus[i]);
    }
    /* Each copy in turn reconciles with the next while the others' connections are polled. */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++) {
            poller p = {.n = 0};
            for (int j = 0; j < N; j++)
                if (j != i) {
                    p.bus[p.n] = bus[j];
                    p.net[p.n++] = n[j];
                }
            poller_start(&p);
            pg_error err = {0};
            int rc = pg_ledger_net_sync(n[i], names[(i + 1) % N], 30, &err);
            poller_stop(&p);
            if (rc != PG_OK)
                fail_msg("sync %s: %s", names[i], err.msg);
        }
    for (int i = 1; i < N; i++)
        tn_assert_same(l[0], l[i]);
    /* c3's first 4 ops are c0's 4 (same author, heads and payloads: the same ids), held once. */
    assert_int_equal(pg_ledger_count(l[0]), 1 + 10 + 4 + 6 + 8 + 10 - 4);
    for (int i = 0; i < N; i++) {
        pg_ledger_net_free(n[i]);
        pg_ledger_close(l[i]);
        pg_bus_close(bus[i]);
    }
    pgt_nats_stop(s);
    pgt_tmpdir_cleanup();
}

/* pg_ledger_net_sync while a reconciliation with the same peer is under way (started before, its
 * SYNC answered before the peer made an op): the sync still brings that op. */
static void
test_sync_during_a_run(void **state)
{
    (void)state;
    tn_setup_keys();
    pgt_nats *s = pgt_nats_start();
    pg_bus *ba = open_nats(pgt_nats_url(s, 0)), *bb = open_nats(pgt_nats_url(s, 0));
    pg_ledger *a = tn_open("a"), *b = tn_open("b");
    tn_append(a, 3, 5, 8);
    tn_copy(a, b);
    tn_append(b, 2, 3, 8);
    pg_ledger_net *na = tn_net(a, ba, "a", true, 0, 5), *nb = tn_net(b, bb, "b", true, 0, 5);
    flush(ba);
    flush(bb);
    pg_error err = {0};
    assert_int_equal(pg_ledger_net_reconcile(na, "b", &err), PG_OK);
    flush(ba);
    /* b answers the SYNC; a does not read the answer yet. */
    double end = pgi_now() + 10;
    pg_ledger_net_stats sb;
    do {
        assert_int_equal(pg_bus_poll(bb, 0.05, NULL, &err), PG_OK);
        pg_ledger_net_get_stats(nb, &sb);
    } while (sb.served < 1 && pgi_now() < end);
    assert_int_equal(sb.served, 1);
    flush(bb);
    /* Then b makes z, and a syncs. */
    pg_ledger_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = PG_LEDGER_COUNTER;
    pl.name = "c";
    pl.delta = 3;
    pg_ledger_id z;
    assert_int_equal(pg_ledger_append(b, &tn_keys[2], &pl, &z, &err), PG_OK);
    poller p = {.bus = {bb}, .net = {nb}, .n = 1};
    poller_start(&p);
    int rc = pg_ledger_net_sync(na, "b", 30, &err);
    poller_stop(&p);
    if (rc != PG_OK)
        fail_msg("sync: %s", err.msg);
    assert_true(pg_ledger_has(a, &z));
    tn_assert_same(a, b);
    pg_ledger_net_free(na);
    pg_ledger_net_free(nb);
    pg_ledger_close(a);
    pg_ledger_close(b);
    pg_bus_close(ba);
    pg_bus_close(bb);
    pgt_nats_stop(s);
    pgt_tmpdir_cleanup();
}

static void
test_byzantine_peers(void **state)
{
    (void)state;
    static const tn_evil_mode modes[] = {TN_GARBAGE, TN_HUGE, TN_SILENT, TN_LIAR, TN_BADOPS};
    tn_setup_keys();
    pgt_nats *s = pgt_nats_start();
    pg_bus *ba = open_nats(pgt_nats_url(s, 0)), *bb = open_nats(pgt_nats_url(s, 0)),
           *be = open_nats(pgt_nats_url(s, 0));
    pg_ledger *a = tn_open("a"), *b = tn_open("b");
    tn_append(a, 3, 10, 8);
    tn_copy(a, b);
    tn_append(b, 2, 5, 8);
    pg_ledger_net *na = tn_net(a, ba, "a", true, 0, 0.5), *nb = tn_net(b, bb, "b", true, 0, 5);
    flush(ba);
    flush(bb);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        tn_evil evil;
        uint64_t sid = tn_evil_start(&evil, be, modes[i]);
        flush(be);
        pg_ledger_id heads0, heads1;
        assert_int_equal(pg_ledger_heads_digest(a, &heads0, NULL), PG_OK);
        size_t count0 = pg_ledger_count(a);
        poller p = {.bus = {be}, .n = 1};
        poller_start(&p);
        pg_error err = {0};
        double t0 = pgi_now();
        int rc = pg_ledger_net_sync(na, "evil", 30, &err);
        double took = pgi_now() - t0;
        poller_stop(&p);
        assert_int_equal(rc, PG_ENET);
        assert_true(took < 5);
        assert_non_null(strstr(err.msg, "evil"));
        assert_int_equal(pg_ledger_heads_digest(a, &heads1, NULL), PG_OK);
        assert_memory_equal(heads0.b, heads1.b, 32);
        assert_int_equal(pg_ledger_count(a), count0);
        if (modes[i] != TN_SILENT)
            assert_true(evil.answered >= 1);
        assert_int_equal(pg_bus_unsubscribe(be, sid, &err), PG_OK);
        flush(be);
    }
    pg_ledger_net_stats sa;
    pg_ledger_net_get_stats(na, &sa);
    assert_int_equal(sa.failed, sizeof modes / sizeof modes[0]);
    /* The honest peer next. */
    poller p = {.bus = {bb}, .net = {nb}, .n = 1};
    poller_start(&p);
    pg_error err = {0};
    int rc = pg_ledger_net_sync(na, "b", 30, &err);
    poller_stop(&p);
    if (rc != PG_OK)
        fail_msg("sync: %s", err.msg);
    tn_assert_same(a, b);
    pg_ledger_net_free(na);
    pg_ledger_net_free(nb);
    pg_ledger_close(a);
    pg_ledger_close(b);
    pg_bus_close(ba);
    pg_bus_close(bb);
    pg_bus_close(be);
    pgt_nats_stop(s);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_two_copies_bloom, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_two_copies_algorithm1, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_several_copies, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_sync_during_a_run, pgt_nats_teardown),
        cmocka_unit_test_teardown(test_byzantine_peers, pgt_nats_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
