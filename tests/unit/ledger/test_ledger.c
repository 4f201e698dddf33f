/* The ledger object on SQLite: creating one with its genesis, appending ops of every kind,
 * reopening (the same heads, state and ops), ingesting another copy's ops in any order (held
 * until their predecessors arrive, then delivered in topological order), duplicates, the CRDT
 * state (members, registers, counters, records), the bounded pending set, and the queries. */
#include "harness.h"

#include "ledger/graph.h"
#include "plurigrid/ledger.h"

static pg_ledger_key
key(uint8_t n)
{
    uint8_t seed[32];
    pg_ledger_key k;
    memset(seed, n, sizeof seed);
    assert_int_equal(pg_ledger_key_from_seed(&k, seed, NULL), PG_OK);
    return k;
}

/* The genesis of community "test" by key 1, with members a (key 2) and b (key 3). */
static uint8_t *
genesis(pg_ledger_admit admit, bool operators, size_t *len)
{
    pg_ledger_key g = key(1), a = key(2), b = key(3);
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

static pg_ledger *
open_new(const char *name, bool operators)
{
    size_t len;
    uint8_t *g = genesis(PG_LEDGER_ADMIT_GENESIS, operators, &len);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    int rc = pg_ledger_open(&l, pgt_tmp(name), g, len, &o, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    free(g);
    return l;
}

static pg_ledger_id
append_register(pg_ledger *l, uint8_t who, const char *name, const char *value)
{
    pg_ledger_key k = key(who);
    pg_ledger_payload p = {.kind = PG_LEDGER_REGISTER, .name = name};
    p.value = value;
    p.value_len = strlen(value);
    pg_ledger_id id;
    pg_error err = {0};
    int rc = pg_ledger_append(l, &k, &p, &id, &err);
    if (rc)
        fail_msg("append: %s", err.msg);
    return id;
}

static void
append_counter(pg_ledger *l, uint8_t who, const char *name, int64_t delta)
{
    pg_ledger_key k = key(who);
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = name, .delta = delta};
    pg_error err = {0};
    int rc = pg_ledger_append(l, &k, &p, NULL, &err);
    if (rc)
        fail_msg("append: %s", err.msg);
}

static void
assert_same(pg_ledger *x, pg_ledger *y)
{
    pg_ledger_id a, b;
    assert_int_equal(pg_ledger_count(x), pg_ledger_count(y));
    pg_ledger_heads_digest(x, &a);
    pg_ledger_heads_digest(y, &b);
    assert_memory_equal(a.b, b.b, 32);
    pg_ledger_state_digest(x, &a);
    pg_ledger_state_digest(y, &b);
    assert_memory_equal(a.b, b.b, 32);
}

static void
test_create_append_reopen(void **state)
{
    (void)state;
    pg_ledger *l = open_new("a.db", false);
    assert_string_equal(pg_ledger_community(l), "test");
    assert_int_equal(pg_ledger_count(l), 1);
    pg_ledger_id r1 = append_register(l, 2, "meta", "hello");
    append_register(l, 2, "meta", "world");
    append_counter(l, 3, "energy", 5);
    append_counter(l, 2, "energy", -2);
    assert_int_equal(pg_ledger_count(l), 5);
    assert_true(pg_ledger_has(l, &r1));
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 3);
    assert_int_equal(pg_ledger_counter_get(l, "none"), 0);
    pg_ledger_key a = key(2);
    void *v = NULL;
    size_t vl = 0;
    assert_int_equal(pg_ledger_register_get(l, &a.pk, "meta", &v, &vl, NULL), PG_OK);
    assert_int_equal(vl, 5);
    assert_memory_equal(v, "world", 5);
    free(v);
    /* Appends are sequential: one head, the last op. */
    pg_ledger_id heads[4];
    assert_int_equal(pg_ledger_heads(l, heads, 4), 1);
    pg_ledger_member ms[4];
    assert_int_equal(pg_ledger_members(l, ms, 4), 2);
    assert_string_equal(pg_ledger_member_name(l, &a.pk), "a");

    /* A stranger may not write. */
    pg_ledger_key x = key(9);
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "energy", .delta = 1};
    pg_error err = {0};
    assert_int_equal(pg_ledger_append(l, &x, &p, NULL, &err), PG_EAUTH);
    assert_non_null(strstr(err.msg, "not a member"));
    assert_int_equal(pg_ledger_count(l), 5);

    pg_ledger_id hd, sd;
    pg_ledger_heads_digest(l, &hd);
    pg_ledger_state_digest(l, &sd);
    pg_ledger_close(l);

    pg_ledger_options o;
    pg_ledger_options_init(&o);
    l = NULL;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), NULL, 0, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 5);
    pg_ledger_id hd2, sd2;
    pg_ledger_heads_digest(l, &hd2);
    pg_ledger_state_digest(l, &sd2);
    assert_memory_equal(hd.b, hd2.b, 32);
    assert_memory_equal(sd.b, sd2.b, 32);
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 3);
    pg_ledger_close(l);
}

typedef struct ops {
    uint8_t *b[64];
    size_t n[64];
    size_t count;
} ops;

static int
grab(void *ud, const pg_ledger_op *op)
{
    void **u = ud;
    pg_ledger *l = u[0];
    ops *o = u[1];
    assert_int_equal(op->seq, o->count + 1);
    assert_int_equal(pg_ledger_get(l, &op->id, &o->b[o->count], &o->n[o->count], NULL), PG_OK);
    o->count++;
    return 0;
}

static void
test_ingest_any_order(void **state)
{
    (void)state;
    pg_ledger *a = open_new("a.db", false), *b = open_new("b.db", false);
    for (int i = 0; i < 10; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        append_register(a, (uint8_t)(2 + i % 2), "meta", v);
        append_counter(a, 3, "c", i);
    }
    ops o = {0};
    void *u[2] = {a, &o};
    assert_int_equal(pg_ledger_each(a, 0, grab, u, NULL), PG_OK);
    assert_int_equal(o.count, 21);
    /* Reverse order, without the genesis (b has it): every op held until the first arrives. */
    const void *in[64];
    size_t lens[64];
    size_t k = 0;
    for (size_t i = o.count; i-- > 1;) {
        in[k] = o.b[i];
        lens[k++] = o.n[i];
    }
    pg_ledger_ingest_stats st;
    pg_error err = {0};
    assert_int_equal(pg_ledger_ingest(b, in, lens, k - 1, &st, &err), PG_OK);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.pending, k - 1);
    pg_ledger_stats ls;
    pg_ledger_get_stats(b, &ls);
    assert_int_equal(ls.pending, k - 1);
    assert_int_equal(pg_ledger_ingest(b, in + k - 1, lens + k - 1, 1, &st, &err), PG_OK);
    assert_int_equal(st.delivered, k);
    assert_int_equal(st.pending, 0);
    assert_same(a, b);
    /* Everything again: duplicates. */
    assert_int_equal(pg_ledger_ingest(b, in, lens, k, &st, &err), PG_OK);
    assert_int_equal(st.duplicate, k);
    assert_int_equal(st.delivered, 0);
    pg_ledger_close(b);
    /* Reopened, the copy is the same. */
    b = NULL;
    assert_int_equal(pg_ledger_open(&b, pgt_tmp("b.db"), NULL, 0, NULL, &err), PG_OK);
    assert_same(a, b);
    for (size_t i = 0; i < o.count; i++)
        free(o.b[i]);
    pg_ledger_close(a);
    pg_ledger_close(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_create_append_reopen, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_ingest_any_order, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
