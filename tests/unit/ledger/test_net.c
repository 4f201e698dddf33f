/* The ledger on the in-process bus (pg_ledger_net): two and several copies that diverged
 * converge to the same heads and state with one exchange (algorithm 2, Bloom filters) or by
 * fetching back along the graph (algorithm 1); filters so small that they lie often still
 * converge; replies and pushes chunked under a small max_message; ops broadcast as made, and an
 * op whose predecessor never came starting a reconciliation with its sender; Byzantine peers
 * (garbage, huge replies, silence, heads never sent, ops that fail their checks, answers to
 * another run) fail that reconciliation only, leave the ledger as it was and never block;
 * malformed requests are counted and dropped; bad options refused. */
#include "harness.h"

#include "core/util.h"
#include "unit/ledger/net_helpers.h"

typedef struct pair {
    pg_bus *bus;
    pg_ledger *a, *b;
    pg_ledger_net *na, *nb;
} pair;

/* Two copies with common ops, then na ops by m1 on a and nb ops by m2 on b. */
static void
pair_open(pair *p, int common, int na, int nb, size_t value_len, bool bloom, size_t max_message)
{
    tn_setup_keys();
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&p->bus, "inproc", NULL, &err), PG_OK);
    p->a = tn_open("a");
    p->b = tn_open("b");
    tn_append(p->a, 3, common, 8);
    tn_copy(p->a, p->b);
    tn_append(p->a, 1, na, value_len);
    tn_append(p->b, 2, nb, value_len);
    p->na = tn_net(p->a, p->bus, "a", bloom, max_message, 0);
    p->nb = tn_net(p->b, p->bus, "b", bloom, max_message, 0);
}

static void
pair_close(pair *p)
{
    pg_ledger_net_free(p->na);
    pg_ledger_net_free(p->nb);
    pg_ledger_close(p->a);
    pg_ledger_close(p->b);
    pg_bus_close(p->bus);
    free(tn_genesis);
    tn_genesis = NULL;
    pgt_tmpdir_cleanup();
}

static void
test_two_copies_bloom(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 40, 25, 15, 32, true, 0);
    size_t before = pg_ledger_count(p.a);
    tn_sync_ok(p.na, "b");
    tn_assert_same(p.a, p.b);
    assert_int_equal(pg_ledger_count(p.a), before + 15);
    pg_ledger_net_stats sa, sb;
    pg_ledger_net_get_stats(p.na, &sa);
    pg_ledger_net_get_stats(p.nb, &sb);
    assert_int_equal(sa.reconciliations, 1);
    assert_int_equal(sa.completed, 1);
    assert_int_equal(sa.failed, 0);
    /* One exchange: SYNC answered with b's 15 ops, then a's 25 pushed. */
    assert_int_equal(sa.round_trips, 1);
    assert_int_equal(sa.requests, 2);
    assert_int_equal(sa.ops_received, 15);
    assert_int_equal(sa.ops_sent, 25);
    assert_int_equal(sb.served, 2);
    assert_int_equal(sb.ops_received, 25);
    assert_int_equal(sa.bad_messages + sb.bad_messages, 0);
    assert_true(pg_ledger_net_idle(p.na));
    /* Again: nothing to do, one exchange, nothing sent. */
    tn_sync_ok(p.na, "b");
    pg_ledger_net_get_stats(p.na, &sa);
    assert_int_equal(sa.round_trips, 2);
    assert_int_equal(sa.ops_received, 15);
    assert_int_equal(sa.ops_sent, 25);
    tn_assert_same(p.a, p.b);
    pair_close(&p);
}

static void
test_two_copies_algorithm1(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 30, 10, 12, 32, false, 0);
    tn_sync_ok(p.na, "b");
    tn_assert_same(p.a, p.b);
    pg_ledger_net_stats sa;
    pg_ledger_net_get_stats(p.na, &sa);
    /* b's 12 ops are a chain: its head, then one predecessor a request. */
    assert_int_equal(sa.round_trips, 1 + 12);
    assert_int_equal(sa.ops_received, 12);
    assert_int_equal(sa.ops_sent, 10);
    assert_int_equal(sa.completed, 1);
    pair_close(&p);
}

static void
test_lying_filters_still_converge(void **state)
{
    (void)state;
    pg_error err = {0};
    tn_setup_keys();
    pg_bus *bus = NULL;
    assert_int_equal(pg_bus_open(&bus, "inproc", NULL, &err), PG_OK);
    pg_ledger *a = tn_open("a"), *b = tn_open("b");
    tn_append(a, 3, 60, 8);
    tn_copy(a, b);
    tn_append(a, 1, 80, 8);
    tn_append(b, 2, 80, 8);
    pg_ledger_net_options o;
    pg_ledger_net_options_init(&o);
    o.prefix = "pg.test.ledger";
    o.bloom_bits = 4; /* k = 3: about one false positive in seven */
    pg_ledger_net *na = NULL, *nb = NULL;
    o.self = "a";
    assert_int_equal(pg_ledger_net_new(&na, a, bus, &o, &err), PG_OK);
    o.self = "b";
    assert_int_equal(pg_ledger_net_new(&nb, b, bus, &o, &err), PG_OK);
    tn_sync_ok(na, "b");
    tn_assert_same(a, b);
    pg_ledger_net_stats sa;
    pg_ledger_net_get_stats(na, &sa);
    assert_true(sa.round_trips > 1); /* the false positives were fetched back along the graph */
    pg_ledger_net_free(na);
    pg_ledger_net_free(nb);
    pg_ledger_close(a);
    pg_ledger_close(b);
    pg_bus_close(bus);
    pgt_tmpdir_cleanup();
}

static void
test_several_copies(void **state)
{
    (void)state;
    pg_error err = {0};
    tn_setup_keys();
    pg_bus *bus = NULL;
    assert_int_equal(pg_bus_open(&bus, "inproc", NULL, &err), PG_OK);
    const char *names[4] = {"c0", "c1", "c2", "c3"};
    pg_ledger *l[4];
    pg_ledger_net *n[4];
    l[0] = tn_open(names[0]);
    tn_append(l[0], 1, 10, 8);
    for (int i = 1; i < 4; i++) {
        l[i] = tn_open(names[i]);
        tn_copy(l[0], l[i]);
    }
    for (int i = 0; i < 4; i++) {
        tn_append(l[i], 1 + i % 3, 5 + 3 * i, 16);
        n[i] = tn_net(l[i], bus, names[i], i % 2 == 0, 0, 0);
    }
    /* A tree of reconciliations, then back down: everyone holds everything. */
    tn_sync_ok(n[0], "c1");
    tn_sync_ok(n[2], "c3");
    tn_sync_ok(n[1], "c2");
    tn_sync_ok(n[3], "c0");
    for (int i = 1; i < 4; i++)
        tn_assert_same(l[0], l[i]);
    /* c3's first 5 ops are c0's 5 (same author m1, heads and payloads: the same bytes, the same
     * ids), held once. */
    assert_int_equal(pg_ledger_count(l[0]), 1 + 10 + 5 + 8 + 11 + 14 - 5);
    for (int i = 0; i < 4; i++) {
        pg_ledger_net_free(n[i]);
        pg_ledger_close(l[i]);
    }
    pg_bus_close(bus);
    pgt_tmpdir_cleanup();
}

static void
test_chunked(void **state)
{
    (void)state;
    pair p;
    /* 60 ops of 1000 bytes on each side, 16 KiB messages: several replies and pushes. */
    pair_open(&p, 10, 60, 60, 1000, true, 16 << 10);
    tn_sync_ok(p.na, "b");
    tn_assert_same(p.a, p.b);
    pg_ledger_net_stats sa;
    pg_ledger_net_get_stats(p.na, &sa);
    assert_true(sa.round_trips >= 3);
    assert_int_equal(sa.ops_received, 60);
    assert_int_equal(sa.ops_sent, 60);
    pair_close(&p);
}

/* Small messages and filters that lie often: ops asked for one by one (NEED) between the parts
 * of a reply that came in several messages; the parts after them still come. */
static void
test_chunked_lying_filters(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        pair p;
        pair_open(&p, 10, 60, 60, 1000, true, 16 << 10);
        pg_ledger_net_free(p.na);
        pg_ledger_net_free(p.nb);
        pg_ledger_net_options o;
        pg_ledger_net_options_init(&o);
        o.prefix = "pg.test.ledger";
        o.max_message = 16 << 10;
        o.bloom_bits = 4;
        pg_error err = {0};
        o.self = "a";
        assert_int_equal(pg_ledger_net_new(&p.na, p.a, p.bus, &o, &err), PG_OK);
        o.self = "b";
        assert_int_equal(pg_ledger_net_new(&p.nb, p.b, p.bus, &o, &err), PG_OK);
        tn_sync_ok(p.na, "b");
        tn_assert_same(p.a, p.b);
        assert_int_equal(pg_ledger_count(p.a), 1 + 10 + 60 + 60);
        pair_close(&p);
    }
}

static void
test_broadcast_and_held(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 5, 0, 0, 8, true, 0);
    pg_error err = {0};
    pg_ledger_id x, y;
    pg_ledger_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = PG_LEDGER_COUNTER;
    pl.name = "c";
    pl.delta = 7;
    assert_int_equal(pg_ledger_append(p.a, &tn_keys[1], &pl, &x, &err), PG_OK);
    assert_int_equal(pg_ledger_net_publish(p.na, &x, &err), PG_OK);
    assert_int_equal(pg_bus_flush(p.bus, 1, &err), PG_OK);
    assert_true(pg_ledger_has(p.b, &x));
    tn_assert_same(p.a, p.b);
    /* y on x2, which b never heard of: b holds y and reconciles with a. */
    pg_ledger_id x2;
    assert_int_equal(pg_ledger_append(p.a, &tn_keys[1], &pl, &x2, &err), PG_OK);
    assert_int_equal(pg_ledger_append(p.a, &tn_keys[1], &pl, &y, &err), PG_OK);
    assert_int_equal(pg_ledger_net_publish(p.na, &y, &err), PG_OK);
    assert_int_equal(pg_bus_flush(p.bus, 1, &err), PG_OK);
    assert_true(pg_ledger_has(p.b, &x2));
    assert_true(pg_ledger_has(p.b, &y));
    assert_true(pg_ledger_net_idle(p.nb));
    tn_assert_same(p.a, p.b);
    pg_ledger_net_stats sb;
    pg_ledger_net_get_stats(p.nb, &sb);
    assert_int_equal(sb.reconciliations, 1);
    assert_int_equal(sb.completed, 1);
    assert_int_equal(pg_ledger_counter_get(p.b, "c"), pg_ledger_counter_get(p.a, "c"));
    pair_close(&p);
}

/* Ops missing predecessors, each from another made-up sender: at most 4 reconciliations are
 * started by them at once (a sender is not authenticated), and those fail by their timeout. */
static void
test_held_ops_from_strangers(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 3, 0, 0, 8, true, 0);
    pg_ledger_net_free(p.nb);
    p.nb = tn_net(p.b, p.bus, "b", true, 0, 0.2);
    pg_error err = {0};
    pg_ledger_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = PG_LEDGER_COUNTER;
    pl.name = "c";
    pl.delta = 1;
    pg_ledger_id ids[11];
    for (int i = 0; i < 11; i++)
        assert_int_equal(pg_ledger_append(p.a, &tn_keys[1], &pl, &ids[i], &err), PG_OK);
    for (int i = 1; i < 11; i++) { /* ids[0] is never sent: every other op is held */
        uint8_t *op = NULL;
        size_t len = 0;
        assert_int_equal(pg_ledger_get(p.a, &ids[i], &op, &len, &err), PG_OK);
        uint8_t msg[2048];
        char sender[24];
        snprintf(sender, sizeof sender, "ghost%d", i);
        memcpy(msg, "PGLS\1\1\0\0", 8);
        msg[8] = (uint8_t)strlen(sender);
        memcpy(msg + 9, sender, strlen(sender));
        size_t at = 9 + strlen(sender);
        for (int k = 0; k < 4; k++)
            msg[at + (size_t)k] = (uint8_t)(len >> (8 * k));
        assert_true(at + 4 + len <= sizeof msg);
        memcpy(msg + at + 4, op, len);
        free(op);
        assert_int_equal(pg_bus_publish(p.bus, "pg.test.ledger.op", msg, at + 4 + len, &err),
                         PG_OK);
    }
    assert_int_equal(pg_bus_flush(p.bus, 1, &err), PG_OK);
    pg_ledger_net_stats sb;
    pg_ledger_net_get_stats(p.nb, &sb);
    assert_int_equal(sb.reconciliations, 4);
    assert_int_equal(sb.bad_messages, 0);
    assert_false(pg_ledger_net_idle(p.nb));
    assert_int_equal(pg_ledger_net_step(p.nb, pgi_now() + 1, &err), PG_OK);
    assert_true(pg_ledger_net_idle(p.nb));
    pg_ledger_net_get_stats(p.nb, &sb);
    assert_int_equal(sb.failed, 4);
    for (int i = 0; i < 11; i++)
        assert_false(pg_ledger_has(p.b, &ids[i]));
    /* The real author's copy brings them all. */
    tn_sync_ok(p.nb, "a");
    for (int i = 0; i < 11; i++)
        assert_true(pg_ledger_has(p.b, &ids[i]));
    tn_assert_same(p.a, p.b);
    pair_close(&p);
}

static void
test_byzantine_peers(void **state)
{
    (void)state;
    static const tn_evil_mode modes[] = {TN_GARBAGE, TN_HUGE,  TN_SILENT, TN_LIAR,
                                         TN_BADOPS,  TN_WRONG, TN_ENDLESS};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        pair p;
        pair_open(&p, 8, 3, 4, 8, true, 0);
        pg_ledger_net_free(p.na);
        p.na = tn_net(p.a, p.bus, "a", true, 0, 0.3);
        tn_evil evil;
        tn_evil_start(&evil, p.bus, modes[i]);
        pg_ledger_id heads0, state0, heads1, state1;
        assert_int_equal(pg_ledger_heads_digest(p.a, &heads0, NULL), PG_OK);
        assert_int_equal(pg_ledger_state_digest(p.a, &state0, NULL), PG_OK);
        size_t count0 = pg_ledger_count(p.a);
        pg_error err = {0};
        double t0 = pgi_now();
        assert_int_equal(pg_ledger_net_sync(p.na, "evil", 30, &err), PG_ENET);
        assert_true(pgi_now() - t0 < 5); /* the run's own timeout, not the sync's */
        assert_non_null(strstr(err.msg, "evil"));
        pg_ledger_net_stats sa;
        pg_ledger_net_get_stats(p.na, &sa);
        assert_int_equal(sa.failed, 1);
        assert_int_equal(sa.completed, 0);
        assert_true(pg_ledger_net_idle(p.na));
        assert_int_equal(pg_ledger_heads_digest(p.a, &heads1, NULL), PG_OK);
        assert_int_equal(pg_ledger_state_digest(p.a, &state1, NULL), PG_OK);
        assert_memory_equal(heads0.b, heads1.b, 32);
        assert_memory_equal(state0.b, state1.b, 32);
        assert_int_equal(pg_ledger_count(p.a), count0);
        if (modes[i] != TN_SILENT)
            assert_true(evil.answered >= 1);
        if (modes[i] == TN_ENDLESS) /* not asked again and again */
            assert_int_equal(evil.answered, 1);
        /* The honest peer still reconciles. */
        tn_sync_ok(p.na, "b");
        tn_assert_same(p.a, p.b);
        pair_close(&p);
    }
}

/* A peer that relays the honest copy b's answers with one random change (a byte flipped, the
 * message cut short or lengthened, a count or length field set to a large value): every
 * reconciliation ends (completed or failed), nothing invalid is applied, and a last honest
 * reconciliation makes the copies the same. */
typedef struct relay {
    pg_bus *bus;
    unsigned seed, answered;
} relay;

static unsigned
rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void
on_relay(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    relay *r = ctx;
    if (!reply)
        return;
    void *ans = NULL;
    size_t n = 0;
    pg_error err = {0};
    if (pg_bus_request(r->bus, "pg.test.ledger.sync.b", data, len, 1, &ans, &n, &err) != PG_OK)
        return;
    r->answered++;
    uint8_t *b = realloc(ans, n + 64);
    assert_non_null(b);
    switch (rnd(&r->seed) % 4) {
    case 0:
        if (n)
            b[rnd(&r->seed) % n] ^= (uint8_t)(1u << (rnd(&r->seed) % 8));
        break;
    case 1: n = n ? rnd(&r->seed) % n : 0; break;
    case 2:
        for (int i = 0; i < 64; i++)
            b[n + (size_t)i] = (uint8_t)rnd(&r->seed);
        n += 1 + rnd(&r->seed) % 64;
        break;
    default:
        if (n >= 20) {
            size_t at = 8 + rnd(&r->seed) % (n - 12);
            memset(b + at, 0xff, 4);
        }
        break;
    }
    pg_bus_publish(r->bus, reply, b, n, &err);
    free(b);
}

static void
test_mutated_answers(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 20, 6, 9, 40, true, 0);
    pg_ledger_net_free(p.na);
    p.na = tn_net(p.a, p.bus, "a", true, 0, 0.2);
    relay r = {p.bus, 12345, 0};
    uint64_t sid = 0;
    pg_error err = {0};
    assert_int_equal(pg_bus_subscribe(p.bus, "pg.test.ledger.sync.evil", on_relay, &r, &sid, &err),
                     PG_OK);
    int ok = 0, failed = 0;
    for (int i = 0; i < 300; i++) {
        int rc = pg_ledger_net_sync(p.na, "evil", 10, &err);
        assert_true(rc == PG_OK || rc == PG_ENET);
        if (rc == PG_OK)
            ok++;
        else
            failed++;
        assert_true(pg_ledger_net_idle(p.na));
    }
    assert_true(failed > 0);
    assert_true(ok > 0);
    assert_true(r.answered >= 300);
    pg_ledger_net_stats sa;
    pg_ledger_net_get_stats(p.na, &sa);
    assert_int_equal(sa.completed, (uint64_t)ok);
    assert_int_equal(sa.failed, (uint64_t)failed);
    /* Nothing but b's ops came in; an honest reconciliation finishes the job. */
    assert_true(pg_ledger_count(p.a) <= 1 + 20 + 6 + 9);
    tn_sync_ok(p.na, "b");
    tn_assert_same(p.a, p.b);
    assert_int_equal(pg_ledger_count(p.a), 1 + 20 + 6 + 9);
    pair_close(&p);
}

static void
test_malformed_requests(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 5, 2, 2, 8, true, 0);
    pg_error err = {0};
    uint8_t junk[2048];
    randombytes_buf(junk, sizeof junk);
    /* Random bytes, a header with nothing after it, a SYNC claiming 60000 heads, a filter of
     * 2^31 bits, a NEED claiming 2^32-1 ids, with and without a reply subject, and ops messages
     * of every wrong shape. */
    uint8_t sync_heads[] = {'P', 'G', 'L', 'S', 1, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0x60, 0xea};
    uint8_t sync_filter[64] = {'P', 'G', 'L', 'S', 1, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0};
    sync_filter[19 + 16] = 17;
    sync_filter[19 + 17 + 3] = 0x80;
    uint8_t need[] = {'P', 'G', 'L', 'S', 1, 4, 0,    0,    1,    2,
                      3,   4,   5,   6,   7, 8, 0xff, 0xff, 0xff, 0xff};
    uint8_t op_long[] = {'P', 'G', 'L', 'S', 1, 1, 0, 0, 1, 'z', 0xff, 0xff, 0xff, 0x0f, 'P'};
    uint8_t wrong_version[] = {'P', 'G', 'L', 'S', 2, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0};
    struct {
        const char *subject;
        const void *data;
        size_t len;
    } bad[] = {
        {"pg.test.ledger.sync.b", junk, sizeof junk},
        {"pg.test.ledger.sync.b", sync_heads, 8},
        {"pg.test.ledger.sync.b", sync_heads, sizeof sync_heads},
        {"pg.test.ledger.sync.b", sync_filter, sizeof sync_filter},
        {"pg.test.ledger.sync.b", need, sizeof need},
        {"pg.test.ledger.sync.b", wrong_version, sizeof wrong_version},
        {"pg.test.ledger.op", junk, sizeof junk},
        {"pg.test.ledger.op", op_long, sizeof op_long},
        {"pg.test.ledger.reply.a.1", junk, sizeof junk},
        {"pg.test.ledger.reply.a.zz", junk, 10},
    };
    size_t nbad = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < nbad; i++) {
        assert_int_equal(
            pg_bus_publish_reply(p.bus, bad[i].subject, "_INBOX.x", bad[i].data, bad[i].len, &err),
            PG_OK);
        assert_int_equal(pg_bus_publish(p.bus, bad[i].subject, bad[i].data, bad[i].len, &err),
                         PG_OK);
    }
    assert_int_equal(pg_bus_flush(p.bus, 1, &err), PG_OK);
    pg_ledger_net_stats sa, sb;
    pg_ledger_net_get_stats(p.na, &sa);
    pg_ledger_net_get_stats(p.nb, &sb);
    assert_int_equal(sb.served, 0);
    assert_int_equal(sa.bad_messages + sb.bad_messages,
                     2 * (6 + 2 * 2 + 2) /* the ops messages are heard by both */);
    /* Both still work. */
    tn_sync_ok(p.nb, "a");
    tn_assert_same(p.a, p.b);
    pair_close(&p);
}

static void
test_bad_options(void **state)
{
    (void)state;
    tn_setup_keys();
    pg_error err = {0};
    pg_bus *bus = NULL;
    assert_int_equal(pg_bus_open(&bus, "inproc", NULL, &err), PG_OK);
    pg_ledger *l = tn_open("a");
    pg_ledger_net_options o;
    pg_ledger_net *n = NULL;
    const char *selves[] = {"", "a.b", "a*", "x y", NULL};
    for (size_t i = 0; i < 5; i++) {
        pg_ledger_net_options_init(&o);
        o.prefix = "pg.test.ledger";
        o.self = selves[i];
        assert_int_equal(pg_ledger_net_new(&n, l, bus, &o, &err), PG_EINVAL);
        assert_null(n);
    }
    pg_ledger_net_options_init(&o);
    o.self = "a";
    o.prefix = "pg..x";
    assert_int_equal(pg_ledger_net_new(&n, l, bus, &o, &err), PG_EINVAL);
    o.prefix = "pg.test.ledger";
    o.max_message = 100;
    assert_int_equal(pg_ledger_net_new(&n, l, bus, &o, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "max_message"));
    o.max_message = 2u << 20;
    assert_int_equal(pg_ledger_net_new(&n, l, bus, &o, &err), PG_EINVAL);
    o.max_message = 0;
    o.timeout_s = -1;
    assert_int_equal(pg_ledger_net_new(&n, l, bus, &o, &err), PG_EINVAL);
    o.timeout_s = 1;
    assert_int_equal(pg_ledger_net_new(&n, l, bus, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_net_reconcile(n, "a", &err), PG_EINVAL);
    assert_int_equal(pg_ledger_net_reconcile(n, "b.c", &err), PG_EINVAL);
    assert_int_equal(pg_ledger_net_sync(n, "", 1, &err), PG_EINVAL);
    pg_ledger_net_stats s;
    pg_ledger_net_get_stats(n, &s);
    assert_int_equal(s.reconciliations, 0);
    pg_ledger_net_free(n);
    pg_ledger_net_free(NULL);
    pg_ledger_close(l);
    pg_bus_close(bus);
    free(tn_genesis);
    tn_genesis = NULL;
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_copies_bloom),
        cmocka_unit_test(test_two_copies_algorithm1),
        cmocka_unit_test(test_lying_filters_still_converge),
        cmocka_unit_test(test_several_copies),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_lying_filters),
        cmocka_unit_test(test_broadcast_and_held),
        cmocka_unit_test(test_held_ops_from_strangers),
        cmocka_unit_test(test_byzantine_peers),
        cmocka_unit_test(test_mutated_answers),
        cmocka_unit_test(test_malformed_requests),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
