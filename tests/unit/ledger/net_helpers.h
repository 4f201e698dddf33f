/* What the tests of the ledger on the bus share (tests/unit/ledger/test_net.c over the in-process
 * bus, tests/integration/test_ledger_nats.c over nats-server): a community of three member keys
 * and a genesis key, copies of its ledger in the test's folder, ops made on one copy and copied to
 * another, checks that copies agree, and a peer that answers reconciliation requests as the test
 * says (garbage, too much, nothing, or heads it never sends). A header of static functions: each
 * test executable is one file. */
#ifndef PG_TEST_LEDGER_NET_HELPERS_H
#define PG_TEST_LEDGER_NET_HELPERS_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plurigrid/ledger.h"

#define TN_MEMBERS 3

static pg_ledger_key tn_keys[TN_MEMBERS + 1]; /* 0: the genesis key; 1..3: members m1..m3 */
static uint8_t *tn_genesis;
static size_t tn_genesis_len;

static void
tn_setup_keys(void)
{
    pg_error err = {0};
    for (int i = 0; i <= TN_MEMBERS; i++) {
        uint8_t seed[32];
        memset(seed, 0x40 + i, sizeof seed);
        assert_int_equal(pg_ledger_key_from_seed(&tn_keys[i], seed, &err), PG_OK);
    }
    static const char *names[TN_MEMBERS] = {"m1", "m2", "m3"};
    pg_ledger_member members[TN_MEMBERS];
    for (int i = 0; i < TN_MEMBERS; i++) {
        members[i].name = names[i];
        members[i].key = tn_keys[i + 1].pk;
    }
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_GENESIS;
    p.genesis.community = "net-test";
    p.genesis.admit = PG_LEDGER_ADMIT_GENESIS;
    p.genesis.members = members;
    p.genesis.n_members = TN_MEMBERS;
    free(tn_genesis);
    tn_genesis = NULL;
    int rc = pg_ledger_op_encode(&tn_keys[0], NULL, 0, &p, &tn_genesis, &tn_genesis_len, &err);
    if (rc != PG_OK)
        fail_msg("encoding the genesis: %s", err.msg);
}

/* A new copy, the database name.db in the test's folder. */
static pg_ledger *
tn_open(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.db", pgt_tmpdir(), name);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    int rc = pg_ledger_open(&l, path, tn_genesis, tn_genesis_len, &o, &err);
    if (rc != PG_OK)
        fail_msg("opening %s: %s", path, err.msg);
    return l;
}

/* count ops by member m (1..3) on l's heads: registers and counters in turn; value_len bytes of
 * value in the registers. */
static void
tn_append(pg_ledger *l, int m, int count, size_t value_len)
{
    static uint8_t value[16384];
    for (int i = 0; i < count; i++) {
        pg_ledger_payload p;
        memset(&p, 0, sizeof p);
        char name[16];
        snprintf(name, sizeof name, "r%d", i % 7);
        if (i % 2) {
            p.kind = PG_LEDGER_COUNTER;
            p.name = "c";
            p.delta = m * 1000 + i;
        } else {
            memset(value, 'a' + (i % 26), value_len);
            p.kind = PG_LEDGER_REGISTER;
            p.name = name;
            p.value = value;
            p.value_len = value_len;
        }
        pg_error err = {0};
        int rc = pg_ledger_append(l, &tn_keys[m], &p, NULL, &err);
        if (rc != PG_OK)
            fail_msg("appending: %s", err.msg);
    }
}

typedef struct tn_list {
    pg_ledger_id *ids;
    size_t n, cap;
} tn_list;

static int
tn_collect(void *ud, const pg_ledger_op *op)
{
    tn_list *t = ud;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->ids = realloc(t->ids, t->cap * sizeof *t->ids);
        assert_non_null(t->ids);
    }
    t->ids[t->n++] = op->id;
    return 0;
}

/* Ingests every op of from into to (the common past of two copies). */
static void
tn_copy(pg_ledger *from, pg_ledger *to)
{
    tn_list t = {0};
    pg_error err = {0};
    assert_int_equal(pg_ledger_each(from, 0, tn_collect, &t, &err), 0);
    for (size_t i = 0; i < t.n; i += 500) {
        size_t k = t.n - i < 500 ? t.n - i : 500;
        uint8_t *ops[500];
        size_t lens[500];
        for (size_t j = 0; j < k; j++)
            assert_int_equal(pg_ledger_get(from, &t.ids[i + j], &ops[j], &lens[j], &err), PG_OK);
        pg_ledger_ingest_stats st;
        assert_int_equal(pg_ledger_ingest(to, (const void *const *)ops, lens, k, &st, &err), PG_OK);
        assert_int_equal(st.rejected, 0);
        for (size_t j = 0; j < k; j++)
            free(ops[j]);
    }
    free(t.ids);
}

static void
tn_assert_same(pg_ledger *a, pg_ledger *b)
{
    pg_ledger_id da, db;
    assert_int_equal(pg_ledger_count(a), pg_ledger_count(b));
    assert_int_equal(pg_ledger_heads_digest(a, &da, NULL), PG_OK);
    assert_int_equal(pg_ledger_heads_digest(b, &db, NULL), PG_OK);
    assert_memory_equal(da.b, db.b, 32);
    assert_int_equal(pg_ledger_state_digest(a, &da, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(b, &db, NULL), PG_OK);
    assert_memory_equal(da.b, db.b, 32);
}

static pg_ledger_net *
tn_net(pg_ledger *l, pg_bus *b, const char *self, bool bloom, size_t max_message, double timeout_s)
{
    pg_ledger_net_options o;
    pg_ledger_net_options_init(&o);
    o.prefix = "pg.test.ledger";
    o.self = self;
    o.bloom = bloom;
    if (max_message)
        o.max_message = max_message;
    if (timeout_s > 0)
        o.timeout_s = timeout_s;
    pg_ledger_net *n = NULL;
    pg_error err = {0};
    int rc = pg_ledger_net_new(&n, l, b, &o, &err);
    if (rc != PG_OK)
        fail_msg("pg_ledger_net_new: %s", err.msg);
    return n;
}

/* Reconciles n with peer (pg_ledger_net_sync), failing the test with the message otherwise. */
static inline void
tn_sync_ok(pg_ledger_net *n, const char *peer)
{
    pg_error err = {0};
    int rc = pg_ledger_net_sync(n, peer, 30, &err);
    if (rc != PG_OK)
        fail_msg("reconciling with %s: %s", peer, err.msg);
}

/* ---------------------------------------------------------------- a Byzantine peer */

typedef enum tn_evil_mode {
    TN_GARBAGE, /* answers random bytes */
    TN_HUGE,    /* answers a REPLY claiming a million ops in a message of ~1 MiB */
    TN_SILENT,  /* never answers */
    TN_LIAR,    /* answers with heads it never sends (and no ops, ever) */
    TN_BADOPS,  /* answers with ops that fail their checks (bad signatures) */
    TN_WRONG,   /* answers another run (a wrong nonce) */
    TN_ENDLESS, /* answers every SYNC "more to come" with no ops */
} tn_evil_mode;

typedef struct tn_evil {
    pg_bus *b;
    tn_evil_mode mode;
    unsigned answered;
} tn_evil;

static void
tn_put(uint8_t **p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void
tn_evil_on(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    tn_evil *e = ctx;
    if (!reply || len < 16)
        return;
    e->answered++;
    uint64_t nonce = 0;
    for (int i = 7; i >= 0; i--)
        nonce = nonce << 8 | ((const uint8_t *)data)[8 + i];
    size_t cap = 1000000;
    uint8_t *buf = calloc(1, cap), *p = buf;
    assert_non_null(buf);
    const uint8_t *in = data;
    memcpy(p, "PGLS\1", 5);
    p += 5;
    switch (e->mode) {
    case TN_SILENT: free(buf); return;
    case TN_GARBAGE:
        randombytes_buf(buf, 3000);
        p = buf + 3000;
        break;
    case TN_HUGE:
        *p++ = 3, *p++ = 0, *p++ = 0;
        tn_put(&p, nonce, 8);
        *p++ = 0;
        tn_put(&p, 0, 2);
        tn_put(&p, 1000000, 4); /* a million ops claimed */
        for (int i = 0; i < 1000; i++) {
            tn_put(&p, 900, 4);
            randombytes_buf(p, 900);
            p += 900;
        }
        break;
    case TN_ENDLESS:
        *p++ = 3, *p++ = 0, *p++ = 0;
        tn_put(&p, nonce, 8);
        *p++ = 4;         /* F_MORE */
        tn_put(&p, 0, 2); /* no heads */
        tn_put(&p, 0, 4); /* no ops */
        break;
    case TN_LIAR:
    case TN_BADOPS:
    case TN_WRONG:
        if (in[5] == 2) { /* SYNC: a REPLY */
            *p++ = 3, *p++ = 0, *p++ = 0;
            tn_put(&p, e->mode == TN_WRONG ? nonce + 1 : nonce, 8);
            *p++ = 0;
            tn_put(&p, 2, 2);
            randombytes_buf(p, 64); /* two heads nobody has */
            p += 64;
            if (e->mode == TN_BADOPS) {
                tn_put(&p, 3, 4);
                for (int i = 0; i < 3; i++) {
                    tn_put(&p, 300, 4);
                    memcpy(p, "PGL\1\4", 5);
                    randombytes_buf(p + 5, 295);
                    p += 300;
                }
            } else
                tn_put(&p, 0, 4);
        } else { /* NEED: OPS with nothing */
            *p++ = 5, *p++ = 0, *p++ = 0;
            tn_put(&p, nonce, 8);
            *p++ = 0;
            tn_put(&p, 0, 4);
        }
        break;
    }
    pg_error err = {0};
    pg_bus_publish(e->b, reply, buf, (size_t)(p - buf), &err);
    free(buf);
}

static uint64_t
tn_evil_start(tn_evil *e, pg_bus *b, tn_evil_mode mode)
{
    e->b = b;
    e->mode = mode;
    e->answered = 0;
    uint64_t sid = 0;
    pg_error err = {0};
    assert_int_equal(pg_bus_subscribe(b, "pg.test.ledger.sync.evil", tn_evil_on, e, &sid, &err),
                     PG_OK);
    return sid;
}

#endif
