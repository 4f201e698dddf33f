/* Small helpers the ledger's tests share: keys from a one-byte seed, a genesis, opening a new
 * ledger, appending ops of each kind and comparing two copies. Header-only (static inline). */
#ifndef PG_TEST_LEDGER_FIXTURE_H
#define PG_TEST_LEDGER_FIXTURE_H

#include "harness.h"

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

/* The key whose seed is 32 bytes of n. Keys used: 1 the genesis (and operator), 2 member "a",
 * 3 member "b", 9 a stranger. */
static inline pg_ledger_key
lf_key(uint8_t n)
{
    uint8_t seed[32];
    pg_ledger_key k;
    memset(seed, n, sizeof seed);
    assert_int_equal(pg_ledger_key_from_seed(&k, seed, NULL), PG_OK);
    return k;
}

/* The genesis of community "test" by key 1 with members a (key 2) and b (key 3); operators: key
 * 1 alone, or none (any member). *len its length; malloc'd. */
static inline uint8_t *
lf_genesis(pg_ledger_admit admit, bool operators, size_t *len)
{
    pg_ledger_key g = lf_key(1), a = lf_key(2), b = lf_key(3);
    pg_ledger_member ms[] = {{"a", a.pk}, {"b", b.pk}};
    pg_ledger_pubkey ops[] = {g.pk};
    pg_ledger_payload p = {.kind = PG_LEDGER_GENESIS};
    p.genesis.community = "test";
    p.genesis.admit = admit;
    p.genesis.members = ms;
    p.genesis.n_members = 2;
    p.genesis.operators = operators ? ops : NULL;
    p.genesis.n_operators = operators ? 1 : 0;
    p.genesis.app = "run-1";
    p.genesis.app_len = 5;
    uint8_t *op = NULL;
    pg_error err = {0};
    assert_int_equal(pg_ledger_op_encode(&g, NULL, 0, &p, &op, len, &err), PG_OK);
    return op;
}

static inline pg_ledger *
lf_open_with(const char *path, pg_ledger_admit admit, bool operators,
             const pg_ledger_checker *checker)
{
    size_t len;
    uint8_t *g = lf_genesis(admit, operators, &len);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    o.checker = checker;
    pg_ledger *l = NULL;
    pg_error err = {0};
    int rc = pg_ledger_open(&l, path, g, len, &o, &err);
    free(g);
    if (rc)
        fail_msg("open %s: %s", path, err.msg);
    return l;
}

static inline pg_ledger *
lf_open(const char *path)
{
    return lf_open_with(path, PG_LEDGER_ADMIT_GENESIS, true, NULL);
}

/* Appends p by key who; fails the test unless it returns want. */
static inline pg_ledger_id
lf_append(pg_ledger *l, uint8_t who, const pg_ledger_payload *p, int want)
{
    pg_ledger_key k = lf_key(who);
    pg_ledger_id id;
    memset(&id, 0, sizeof id);
    pg_error err = {0};
    int rc = pg_ledger_append(l, &k, p, &id, &err);
    if (rc != want)
        fail_msg("append: %d (%s), expected %d", rc, err.msg, want);
    return id;
}

static inline pg_ledger_id
lf_register(pg_ledger *l, uint8_t who, const char *name, const char *value)
{
    pg_ledger_payload p = {.kind = PG_LEDGER_REGISTER, .name = name};
    p.value = value;
    p.value_len = strlen(value);
    return lf_append(l, who, &p, PG_OK);
}

static inline pg_ledger_id
lf_counter(pg_ledger *l, uint8_t who, const char *name, int64_t delta)
{
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = name, .delta = delta};
    return lf_append(l, who, &p, PG_OK);
}

static inline pg_ledger_payload
lf_record(pg_ledger_record_type t, uint32_t interval, const char *node, const pg_ledger_id *refs,
          size_t n_refs, const char *body)
{
    pg_ledger_payload p = {.kind = PG_LEDGER_RECORD};
    p.record.type = t;
    p.record.interval = interval;
    p.record.node = node;
    p.record.refs = refs;
    p.record.n_refs = n_refs;
    p.record.body = body;
    p.record.body_len = body ? strlen(body) : 0;
    return p;
}

/* Fails the test unless the two copies have the same ops, heads and state. */
static inline void
lf_assert_same(pg_ledger *x, pg_ledger *y)
{
    pg_ledger_id a, b;
    assert_int_equal(pg_ledger_count(x), pg_ledger_count(y));
    assert_int_equal(pg_ledger_heads_digest(x, &a, NULL), PG_OK);
    assert_int_equal(pg_ledger_heads_digest(y, &b, NULL), PG_OK);
    assert_memory_equal(a.b, b.b, 32);
    assert_int_equal(pg_ledger_state_digest(x, &a, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(y, &b, NULL), PG_OK);
    assert_memory_equal(a.b, b.b, 32);
}

/* Every op of l in delivery order (encodings malloc'd), up to max. */
typedef struct lf_ops {
    uint8_t **b;
    size_t *n;
    size_t count, max;
    pg_ledger *l;
} lf_ops;

static inline int
lf_grab(void *ud, const pg_ledger_op *op)
{
    lf_ops *o = ud;
    assert_true(o->count < o->max);
    assert_int_equal(pg_ledger_get(o->l, &op->id, &o->b[o->count], &o->n[o->count], NULL), PG_OK);
    o->count++;
    return 0;
}

static inline lf_ops
lf_all(pg_ledger *l)
{
    lf_ops o = {0};
    o.max = pg_ledger_count(l);
    o.b = calloc(o.max, sizeof *o.b);
    o.n = calloc(o.max, sizeof *o.n);
    o.l = l;
    assert_int_equal(pg_ledger_each(l, 0, lf_grab, &o, NULL), PG_OK);
    assert_int_equal(o.count, o.max);
    return o;
}

static inline void
lf_free(lf_ops *o)
{
    for (size_t i = 0; i < o->count; i++)
        free(o->b[i]);
    free(o->b);
    free(o->n);
    memset(o, 0, sizeof *o);
}

#endif
