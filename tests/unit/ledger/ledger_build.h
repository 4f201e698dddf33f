/* Building ledger ops for tests without a ledger: keys from fixed seeds, payloads, ops encoded and
 * signed by pg_ledger_op_encode on predecessors the test chooses (so concurrent branches,
 * equivocations and forged ops are made exactly), ops edited byte by byte and signed again with
 * libsodium (so a payload that breaks a rule can be made even where the encoder refuses it), a
 * pool that keeps every op's bytes, id and height (computed here, 1 + the greatest of its
 * predecessors', independently of the ledger) and a reference model of the CRDT state (registers:
 * the write of greatest (height, id); counters: sums) computed from the pool. Header-only: each
 * test file is one executable. */
#ifndef PG_TEST_LEDGER_BUILD_H
#define PG_TEST_LEDGER_BUILD_H

#include "harness.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/ledger.h"

#ifndef PG_TEST_LT_HEADS
#define PG_TEST_LT_HEADS
/* pg_ledger_heads that fails the test on an error: the first max heads into out, how many. */
static inline size_t
lt_heads(const pg_ledger *l, pg_ledger_id *out, size_t max)
{
    size_t n = 0;
    assert_int_equal(pg_ledger_heads(l, out, max, &n, NULL), PG_OK);
    return n;
}
#endif

/* Offsets in an encoded op (docs/ledger.md, "Ops"): "PGL", version, kind, author, npreds. */
#define LB_OFF_KIND 4
#define LB_OFF_AUTHOR 5
#define LB_OFF_NPREDS (LB_OFF_AUTHOR + PG_LEDGER_KEY_BYTES)
#define LB_OFF_PREDS (LB_OFF_NPREDS + 2)
/* The most predecessors an op of these tests has. */
#define LB_MAX_PREDS 128

/* A small deterministic random generator (splitmix64): the tests' orders are seeded. */
static inline uint64_t
lb_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline size_t
lb_below(uint64_t *s, size_t n)
{
    return n ? (size_t)(lb_rand(s) % n) : 0;
}

static inline void
lb_shuffle(uint64_t *s, size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = lb_below(s, i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* The key of seed byte b (seed = 32 bytes of b). */
static inline pg_ledger_key
lb_key(uint8_t b)
{
    uint8_t seed[32];
    memset(seed, b, sizeof seed);
    pg_ledger_key k;
    pg_error err = {0};
    if (pg_ledger_key_from_seed(&k, seed, &err) != PG_OK)
        fail_msg("pg_ledger_key_from_seed: %s", err.msg);
    return k;
}

static inline pg_ledger_id
lb_hash(const void *bytes, size_t len)
{
    if (sodium_init() < 0)
        abort();
    pg_ledger_id id;
    crypto_generichash(id.b, sizeof id.b, bytes, len, NULL, 0);
    return id;
}

static inline bool
lb_id_eq(const pg_ledger_id *a, const pg_ledger_id *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

static inline const char *
lb_hex(const pg_ledger_id *id)
{
    static char slots[4][65];
    static int slot;
    char *s = slots[slot++ % 4];
    pg_ledger_hex(id->b, sizeof id->b, s);
    return s;
}

/* ---------------------------------------------------------------- payloads */

static inline pg_ledger_payload
lb_register(const char *name, const char *value)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_REGISTER;
    p.name = name;
    p.value = value;
    p.value_len = strlen(value);
    return p;
}

static inline pg_ledger_payload
lb_counter(const char *name, int64_t delta)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_COUNTER;
    p.name = name;
    p.delta = delta;
    return p;
}

static inline pg_ledger_payload
lb_member_add(const char *name, const pg_ledger_key *k)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_MEMBER_ADD;
    p.name = name;
    p.member = k->pk;
    return p;
}

static inline pg_ledger_payload
lb_member_remove(const pg_ledger_key *k, const pg_ledger_id *tags, size_t n_tags)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_MEMBER_REMOVE;
    p.member = k->pk;
    p.tags = tags;
    p.n_tags = n_tags;
    return p;
}

static inline pg_ledger_payload
lb_record(pg_ledger_record_type type, uint32_t interval, uint32_t term, const char *node,
          const pg_ledger_id *refs, size_t n_refs, const char *body)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_RECORD;
    p.record.type = type;
    p.record.interval = interval;
    p.record.term = term;
    p.record.node = node ? node : "";
    p.record.refs = refs;
    p.record.n_refs = n_refs;
    p.record.body = body;
    p.record.body_len = body ? strlen(body) : 0;
    return p;
}

/* ---------------------------------------------------------------- ops */

typedef struct lb_op {
    uint8_t *bytes;
    size_t len;
    pg_ledger_id id;
    pg_ledger_pubkey author;
    uint64_t height;
    pg_ledger_kind kind;
    char name[PG_LEDGER_MAX_NAME + 1]; /* REGISTER, COUNTER */
    char value[64];                    /* REGISTER (text values only here) */
    int64_t delta;                     /* COUNTER */
    size_t preds[LB_MAX_PREDS];        /* indices in the pool */
    size_t n_preds;
} lb_op;

/* Encodes p by k on preds; fails the test when the encoder refuses. The id is checked against
 * the hash of the bytes. */
static inline lb_op
lb_encode(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
          const pg_ledger_payload *p)
{
    lb_op o;
    memset(&o, 0, sizeof o);
    pg_error err = {0};
    if (pg_ledger_op_encode(k, preds, n_preds, p, &o.bytes, &o.len, &err) != PG_OK)
        fail_msg("pg_ledger_op_encode (kind %d): %s", (int)p->kind, err.msg);
    o.id = lb_hash(o.bytes, o.len);
    o.author = k->pk;
    o.kind = p->kind;
    pg_ledger_op *d = NULL;
    if (pg_ledger_op_decode(o.bytes, o.len, &d, &err) != PG_OK)
        fail_msg("an op just encoded does not decode: %s", err.msg);
    if (!lb_id_eq(&d->id, &o.id))
        fail_msg("pg_ledger_op_decode's id is not BLAKE2b-256 of the bytes");
    pg_ledger_op_free(d);
    return o;
}

/* A genesis op by g. */
static inline lb_op
lb_genesis(const pg_ledger_key *g, const char *community, pg_ledger_admit admit,
           const pg_ledger_member *members, size_t n_members, const pg_ledger_pubkey *operators,
           size_t n_operators)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_GENESIS;
    p.genesis.community = community;
    p.genesis.admit = admit;
    p.genesis.members = members;
    p.genesis.n_members = n_members;
    p.genesis.operators = operators;
    p.genesis.n_operators = n_operators;
    return lb_encode(g, NULL, 0, &p);
}

/* Signs bytes[0 .. len-64) again with k into the last 64 bytes (after an edit) and returns the
 * new id. The author field is left as it is. */
static inline pg_ledger_id
lb_resign(const pg_ledger_key *k, uint8_t *bytes, size_t len)
{
    assert_true(len > PG_LEDGER_SIG_BYTES);
    if (sodium_init() < 0)
        abort();
    crypto_sign_detached(bytes + len - PG_LEDGER_SIG_BYTES, NULL, bytes, len - PG_LEDGER_SIG_BYTES,
                         k->sk);
    return lb_hash(bytes, len);
}

/* Finds needle in hay (first occurrence); -1 when absent. */
static inline long
lb_find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; m <= n && i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return (long)i;
    return -1;
}

/* ---------------------------------------------------------------- a pool of ops */

#define LB_MAX_OPS 4096

typedef struct lb_pool {
    lb_op op[LB_MAX_OPS];
    size_t n;
} lb_pool;

static inline lb_pool *
lb_pool_new(void)
{
    lb_pool *p = calloc(1, sizeof *p);
    assert_non_null(p);
    return p;
}

static inline void
lb_pool_free(lb_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->op[i].bytes);
    free(p);
}

/* Adds an op already made (the pool takes its bytes); its height is computed from preds. */
static inline size_t
lb_pool_put(lb_pool *pool, lb_op o, const size_t *preds, size_t n_preds)
{
    assert_true(pool->n < LB_MAX_OPS);
    assert_true(n_preds <= LB_MAX_PREDS);
    uint64_t h = 0;
    for (size_t i = 0; i < n_preds; i++) {
        assert_true(preds[i] < pool->n);
        if (pool->op[preds[i]].height + 1 > h)
            h = pool->op[preds[i]].height + 1;
        o.preds[i] = preds[i];
    }
    o.n_preds = n_preds;
    o.height = h;
    pool->op[pool->n] = o;
    return pool->n++;
}

/* Makes an op of payload p by k on the pool's ops preds (indices) and adds it. */
static inline size_t
lb_pool_add(lb_pool *pool, const pg_ledger_key *k, const size_t *preds, size_t n_preds,
            const pg_ledger_payload *p)
{
    pg_ledger_id ids[LB_MAX_PREDS];
    assert_true(n_preds <= LB_MAX_PREDS);
    for (size_t i = 0; i < n_preds; i++)
        ids[i] = pool->op[preds[i]].id;
    lb_op o = lb_encode(k, ids, n_preds, p);
    if (p->kind == PG_LEDGER_REGISTER || p->kind == PG_LEDGER_COUNTER)
        snprintf(o.name, sizeof o.name, "%s", p->name);
    if (p->kind == PG_LEDGER_REGISTER) {
        assert_true(p->value_len < sizeof o.value);
        memcpy(o.value, p->value, p->value_len);
        o.value[p->value_len] = '\0';
    }
    o.delta = p->delta;
    return lb_pool_put(pool, o, preds, n_preds);
}

/* The pool index of id; -1 when it is not in the pool. */
static inline long
lb_pool_find(const lb_pool *pool, const pg_ledger_id *id)
{
    for (size_t i = 0; i < pool->n; i++)
        if (lb_id_eq(&pool->op[i].id, id))
            return (long)i;
    return -1;
}

/* Adds an op received as bytes (e.g. made by pg_ledger_append and read back with pg_ledger_get):
 * decoded, its predecessors found in the pool (they must be there). Copies bytes. */
static inline size_t
lb_pool_put_bytes(lb_pool *pool, const uint8_t *bytes, size_t len)
{
    pg_ledger_op *d = NULL;
    pg_error err = {0};
    if (pg_ledger_op_decode(bytes, len, &d, &err) != PG_OK)
        fail_msg("an op read from a ledger does not decode: %s", err.msg);
    lb_op o;
    memset(&o, 0, sizeof o);
    o.bytes = malloc(len);
    assert_non_null(o.bytes);
    memcpy(o.bytes, bytes, len);
    o.len = len;
    o.id = d->id;
    o.author = d->author;
    o.kind = d->payload.kind;
    if (o.kind == PG_LEDGER_REGISTER || o.kind == PG_LEDGER_COUNTER)
        snprintf(o.name, sizeof o.name, "%s", d->payload.name);
    if (o.kind == PG_LEDGER_REGISTER) {
        assert_true(d->payload.value_len < sizeof o.value);
        memcpy(o.value, d->payload.value, d->payload.value_len);
    }
    o.delta = d->payload.delta;
    size_t preds[LB_MAX_PREDS];
    assert_true(d->n_preds <= LB_MAX_PREDS);
    for (size_t i = 0; i < d->n_preds; i++) {
        long at = lb_pool_find(pool, &d->preds[i]);
        if (at < 0)
            fail_msg("op %s names %s, which the pool lacks", lb_hex(&o.id), lb_hex(&d->preds[i]));
        preds[i] = (size_t)at;
    }
    size_t np = d->n_preds;
    pg_ledger_op_free(d);
    return lb_pool_put(pool, o, preds, np);
}

#define LB_PREDS(...)                                                                              \
    ((const size_t[]){__VA_ARGS__}), (sizeof((const size_t[]){__VA_ARGS__}) / sizeof(size_t))

/* The reference model over the ops of the pool marked in `in` (NULL: all). */

/* The value of register name of author: the write of greatest (height, id); NULL when none. */
static inline const char *
lb_model_register(const lb_pool *pool, const bool *in, const pg_ledger_pubkey *author,
                  const char *name)
{
    const lb_op *best = NULL;
    for (size_t i = 0; i < pool->n; i++) {
        const lb_op *o = &pool->op[i];
        if ((in && !in[i]) || o->kind != PG_LEDGER_REGISTER || strcmp(o->name, name) != 0 ||
            memcmp(o->author.b, author->b, sizeof author->b) != 0)
            continue;
        if (!best || o->height > best->height ||
            (o->height == best->height && memcmp(o->id.b, best->id.b, 32) > 0))
            best = o;
    }
    return best ? best->value : NULL;
}

static inline int64_t
lb_model_counter(const lb_pool *pool, const bool *in, const char *name)
{
    int64_t s = 0;
    for (size_t i = 0; i < pool->n; i++) {
        const lb_op *o = &pool->op[i];
        if ((in && !in[i]) || o->kind != PG_LEDGER_COUNTER || strcmp(o->name, name) != 0)
            continue;
        s += o->delta;
    }
    return s;
}

/* The heads of the ops marked in `in` (NULL: all): ops no marked op names, ascending by id;
 * returns how many (up to max into out). */
static inline size_t
lb_model_heads(const lb_pool *pool, const bool *in, pg_ledger_id *out, size_t max)
{
    bool *named = calloc(pool->n ? pool->n : 1, sizeof *named);
    assert_non_null(named);
    for (size_t i = 0; i < pool->n; i++)
        if (!in || in[i])
            for (size_t j = 0; j < pool->op[i].n_preds; j++)
                named[pool->op[i].preds[j]] = true;
    size_t n = 0;
    for (size_t i = 0; i < pool->n; i++)
        if ((!in || in[i]) && !named[i]) {
            if (n < max)
                out[n] = pool->op[i].id;
            n++;
        }
    free(named);
    size_t m = n < max ? n : max;
    for (size_t i = 1; i < m; i++) /* insertion sort: few heads */
        for (size_t j = i; j > 0 && memcmp(out[j - 1].b, out[j].b, 32) > 0; j--) {
            pg_ledger_id t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* ---------------------------------------------------------------- ledgers */

/* Opens (creating with genesis when it is not NULL) the ledger at path; fails the test on error. */
static inline pg_ledger *
lb_open(const char *path, const lb_op *genesis, const pg_ledger_options *o)
{
    pg_ledger_options def;
    pg_ledger_options_init(&def);
    if (!o)
        o = &def;
    pg_ledger_options opt = *o;
    if (genesis)
        opt.create = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    int rc = pg_ledger_open(&l, path, genesis ? genesis->bytes : NULL, genesis ? genesis->len : 0,
                            &opt, &err);
    if (rc != PG_OK)
        fail_msg("pg_ledger_open(%s): %s (%d)", path, err.msg, rc);
    return l;
}

/* Ingests the ops of the pool indices idx[0..n); fails the test on an error; returns the stats. */
static inline pg_ledger_ingest_stats
lb_ingest_idx(pg_ledger *l, const lb_pool *pool, const size_t *idx, size_t n)
{
    const void **ops = calloc(n ? n : 1, sizeof *ops);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    assert_true(ops && lens);
    for (size_t i = 0; i < n; i++) {
        ops[i] = pool->op[idx[i]].bytes;
        lens[i] = pool->op[idx[i]].len;
    }
    pg_ledger_ingest_stats st;
    memset(&st, 0xff, sizeof st);
    pg_error err = {0};
    int rc = pg_ledger_ingest(l, (const void *const *)ops, lens, n, &st, &err);
    free(ops);
    free(lens);
    if (rc != PG_OK)
        fail_msg("pg_ledger_ingest: %s (%d)", err.msg, rc);
    return st;
}

/* Ingests one op of len bytes. */
static inline pg_ledger_ingest_stats
lb_ingest1(pg_ledger *l, const void *bytes, size_t len)
{
    const void *ops[1] = {bytes};
    size_t lens[1] = {len};
    pg_ledger_ingest_stats st;
    memset(&st, 0xff, sizeof st);
    pg_error err = {0};
    int rc = pg_ledger_ingest(l, ops, lens, 1, &st, &err);
    if (rc != PG_OK)
        fail_msg("pg_ledger_ingest: %s (%d)", err.msg, rc);
    return st;
}

static inline void
lb_expect_stats(pg_ledger_ingest_stats st, size_t delivered, size_t duplicate, size_t rejected,
                const char *what)
{
    if (st.delivered != delivered || st.duplicate != duplicate || st.rejected != rejected)
        fail_msg("%s: delivered %zu, duplicate %zu, rejected %zu (pending %zu); expected "
                 "delivered %zu, duplicate %zu, rejected %zu",
                 what, st.delivered, st.duplicate, st.rejected, st.pending, delivered, duplicate,
                 rejected);
}

#endif
