/* The ledger object on SQLite: creating one with its genesis, appending ops of every kind,
 * reopening (the same heads, state and ops), ingesting another copy's ops in any order (held
 * until their predecessors arrive, then delivered in topological order), duplicates, the CRDT
 * state (members, registers, counters, records), the bounded pending set, and the queries. */
#include "fixture.h"

#include <sys/stat.h>

#include "ledger/graph.h"

static void
test_create_append_reopen(void **state)
{
    (void)state;
    pg_ledger *l = lf_open(pgt_tmp("a.db"));
    assert_string_equal(pg_ledger_community(l), "test");
    assert_int_equal(pg_ledger_count(l), 1);
    pg_ledger_id r1 = lf_register(l, 2, "meta", "hello");
    lf_register(l, 2, "meta", "world");
    lf_counter(l, 3, "energy", 5);
    lf_counter(l, 2, "energy", -2);
    assert_int_equal(pg_ledger_count(l), 5);
    assert_true(pg_ledger_has(l, &r1));
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 3);
    assert_int_equal(pg_ledger_counter_get(l, "none"), 0);
    pg_ledger_key a = lf_key(2);
    void *v = NULL;
    size_t vl = 0;
    assert_int_equal(pg_ledger_register_get(l, &a.pk, "meta", &v, &vl, NULL), PG_OK);
    assert_int_equal(vl, 5);
    assert_memory_equal(v, "world", 5);
    free(v);
    /* Appends are sequential: one head, the last op. */
    pg_ledger_id heads[4];
    assert_int_equal(lt_heads(l, heads, 4), 1);
    pg_ledger_member ms[4];
    assert_int_equal(pg_ledger_members(l, ms, 4), 2);
    assert_string_equal(pg_ledger_member_name(l, &a.pk), "a");

    /* A stranger may not write. */
    pg_ledger_key x = lf_key(9);
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "energy", .delta = 1};
    pg_error err = {0};
    assert_int_equal(pg_ledger_append(l, &x, &p, NULL, &err), PG_EAUTH);
    assert_non_null(strstr(err.msg, "not a member"));
    assert_int_equal(pg_ledger_count(l), 5);

    pg_ledger_id hd, sd;
    assert_int_equal(pg_ledger_heads_digest(l, &hd, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(l, &sd, NULL), PG_OK);
    pg_ledger_close(l);

    pg_ledger_options o;
    pg_ledger_options_init(&o);
    l = NULL;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), NULL, 0, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 5);
    pg_ledger_id hd2, sd2;
    assert_int_equal(pg_ledger_heads_digest(l, &hd2, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(l, &sd2, NULL), PG_OK);
    assert_memory_equal(hd.b, hd2.b, 32);
    assert_memory_equal(sd.b, sd2.b, 32);
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 3);
    pg_ledger_close(l);
}

static void
test_ingest_any_order(void **state)
{
    (void)state;
    pg_ledger *a = lf_open(pgt_tmp("a.db")), *b = lf_open(pgt_tmp("b.db"));
    for (int i = 0; i < 10; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        lf_register(a, (uint8_t)(2 + i % 2), "meta", v);
        lf_counter(a, 3, "c", i);
    }
    lf_ops o = lf_all(a);
    assert_int_equal(o.count, 21);
    for (size_t i = 0; i < o.count; i++) {
        pg_ledger_op *op = NULL;
        assert_int_equal(pg_ledger_op_decode(o.b[i], o.n[i], &op, NULL), PG_OK);
        assert_int_equal(i == 0, op->payload.kind == PG_LEDGER_GENESIS);
        pg_ledger_op_free(op);
    }
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
    lf_assert_same(a, b);
    /* The only head's ancestors are every op; the genesis' only itself. */
    uint8_t *mark = calloc(pg_ledger_count(b), 1);
    pg_ledger_id head;
    assert_int_equal(lt_heads(b, &head, 1), 1);
    uint32_t from = pgi_ledger_find(b, &head);
    assert_int_equal(pgi_ledger_mark_ancestors(b, &from, 1, mark), PG_OK);
    for (size_t i = 0; i < pg_ledger_count(b); i++)
        assert_int_equal(mark[i], 1);
    memset(mark, 0, pg_ledger_count(b));
    from = 0;
    assert_int_equal(pgi_ledger_mark_ancestors(b, &from, 1, mark), PG_OK);
    assert_int_equal(mark[0], 1);
    assert_int_equal(mark[1], 0);
    free(mark);
    assert_int_equal(pgi_ledger_missing(b, NULL, 0), 0);
    /* Everything again: duplicates. */
    assert_int_equal(pg_ledger_ingest(b, in, lens, k, &st, &err), PG_OK);
    assert_int_equal(st.duplicate, k);
    assert_int_equal(st.delivered, 0);
    pg_ledger_close(b);
    /* Reopened, the copy is the same. */
    b = NULL;
    assert_int_equal(pg_ledger_open(&b, pgt_tmp("b.db"), NULL, 0, NULL, &err), PG_OK);
    lf_assert_same(a, b);
    lf_free(&o);
    pg_ledger_close(a);
    pg_ledger_close(b);
}

/* ---------------------------------------------------------------- membership */

static pg_ledger_id
add_member(pg_ledger *l, uint8_t by, const char *name, uint8_t who, int want)
{
    pg_ledger_payload p = {.kind = PG_LEDGER_MEMBER_ADD, .name = name};
    p.member = lf_key(who).pk;
    return lf_append(l, by, &p, want);
}

static pg_ledger_id
remove_member(pg_ledger *l, uint8_t by, uint8_t who, const pg_ledger_id *tag, int want)
{
    pg_ledger_payload p = {.kind = PG_LEDGER_MEMBER_REMOVE, .tags = tag, .n_tags = 1};
    p.member = lf_key(who).pk;
    return lf_append(l, by, &p, want);
}

static bool
is_member(pg_ledger *l, uint8_t who)
{
    pg_ledger_key k = lf_key(who);
    return pg_ledger_member_name(l, &k.pk) != NULL;
}

static void
test_membership_rules(void **state)
{
    (void)state;
    pg_ledger *l = lf_open(pgt_tmp("m.db"));
    pg_ledger_payload w = {.kind = PG_LEDGER_COUNTER, .name = "n", .delta = 1};
    lf_append(l, 4, &w, PG_EAUTH);
    pg_ledger_id add_c = add_member(l, 1, "c", 4, PG_OK);
    assert_true(is_member(l, 4));
    lf_append(l, 4, &w, PG_OK);
    /* Only the genesis key admits here; a name is one member's. */
    add_member(l, 2, "d", 5, PG_EAUTH);
    add_member(l, 1, "a", 5, PG_EMODEL);
    /* Removal names admissions of that key among the op's ancestors. */
    pg_ledger_id reg = lf_register(l, 2, "x", "y");
    remove_member(l, 1, 4, &reg, PG_EMODEL);
    pg_ledger_id g;
    pg_ledger_genesis_id(l, &g);
    remove_member(l, 1, 4, &g, PG_EMODEL); /* c was not a genesis member */
    remove_member(l, 2, 4, &add_c, PG_EAUTH);
    remove_member(l, 1, 4, &add_c, PG_OK);
    assert_false(is_member(l, 4));
    lf_append(l, 4, &w, PG_EAUTH);
    /* A member may leave by itself; a genesis member's admission is the genesis. */
    remove_member(l, 3, 3, &g, PG_OK);
    assert_false(is_member(l, 3));
    pg_ledger_member ms[4];
    assert_int_equal(pg_ledger_members(l, ms, 4), 1);
    assert_string_equal(ms[0].name, "a");
    /* Admitted again: a new admission, not removed. */
    add_member(l, 1, "c2", 4, PG_OK);
    assert_string_equal(pg_ledger_member_name(l, &(pg_ledger_key){0}.pk) ? "?" : "none", "none");
    pg_ledger_key c = lf_key(4);
    assert_string_equal(pg_ledger_member_name(l, &c.pk), "c2");
    lf_append(l, 4, &w, PG_OK);
    pg_ledger_close(l);

    /* Members admit members when the genesis says so. */
    l = lf_open_with(pgt_tmp("m2.db"), PG_LEDGER_ADMIT_MEMBERS, false, NULL);
    add_member(l, 2, "d", 5, PG_OK);
    add_member(l, 5, "e", 6, PG_OK);
    add_member(l, 9, "f", 7, PG_EAUTH);
    assert_true(is_member(l, 6));
    pg_ledger_close(l);
}

/* Copies every op of from into to (one ingest). */
static void
sync_into(pg_ledger *to, pg_ledger *from)
{
    lf_ops o = lf_all(from);
    pg_ledger_ingest_stats st;
    pg_error err = {0};
    assert_int_equal(pg_ledger_ingest(to, (const void *const *)o.b, o.n, o.count, &st, &err),
                     PG_OK);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.pending, 0);
    lf_free(&o);
}

static void
test_causal_past(void **state)
{
    (void)state;
    pg_ledger *x = lf_open(pgt_tmp("x.db")), *y = lf_open(pgt_tmp("y.db"));
    pg_ledger_id add_c = add_member(x, 1, "c", 4, PG_OK);
    sync_into(y, x);
    /* Concurrently: x removes c; on y, c writes and is admitted again under another name. */
    remove_member(x, 1, 4, &add_c, PG_OK);
    lf_counter(y, 4, "n", 10);
    add_member(y, 1, "c-again", 4, PG_OK);
    pg_ledger_payload w = {.kind = PG_LEDGER_COUNTER, .name = "n", .delta = 1};
    lf_append(x, 4, &w, PG_EAUTH);
    sync_into(x, y);
    sync_into(y, x);
    lf_assert_same(x, y);
    /* c's write was valid at its past, so both copies hold it; the later admission was not
       removed (OR-set): c is a member, under the name of its live admission. */
    assert_int_equal(pg_ledger_counter_get(x, "n"), 10);
    pg_ledger_key c = lf_key(4);
    assert_string_equal(pg_ledger_member_name(x, &c.pk), "c-again");
    assert_string_equal(pg_ledger_member_name(y, &c.pk), "c-again");
    lf_append(x, 4, &w, PG_OK);
    pg_ledger_close(x);
    pg_ledger_close(y);
}

static void
test_registers_and_equivocation(void **state)
{
    (void)state;
    pg_ledger *x = lf_open(pgt_tmp("x.db")), *y = lf_open(pgt_tmp("y.db"));
    lf_register(x, 2, "meta", "one");
    sync_into(y, x);
    /* a writes on the same heads in both copies: two ops on one set of predecessors. */
    pg_ledger_id ix = lf_register(x, 2, "meta", "from-x");
    pg_ledger_id iy = lf_register(y, 2, "meta", "from-y");
    sync_into(x, y);
    sync_into(y, x);
    lf_assert_same(x, y);
    pg_ledger_stats s;
    pg_ledger_get_stats(x, &s);
    assert_int_equal(s.equivocations, 1);
    pg_ledger_get_stats(y, &s);
    assert_int_equal(s.equivocations, 1);
    /* Same height: the greater id wins on both. */
    const char *want = pg_ledger_id_cmp(&ix, &iy) > 0 ? "from-x" : "from-y";
    pg_ledger_key a = lf_key(2);
    for (int i = 0; i < 2; i++) {
        void *v;
        size_t n;
        assert_int_equal(pg_ledger_register_get(i ? y : x, &a.pk, "meta", &v, &n, NULL), PG_OK);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(v, want, n);
        free(v);
    }
    assert_int_equal(lt_heads(x, NULL, 0), 2);
    /* A later write on both heads wins everywhere. */
    lf_register(x, 2, "meta", "last");
    sync_into(y, x);
    void *v;
    size_t n;
    assert_int_equal(pg_ledger_register_get(y, &a.pk, "meta", &v, &n, NULL), PG_OK);
    assert_memory_equal(v, "last", 4);
    free(v);
    assert_int_equal(pg_ledger_register_get(y, &a.pk, "none", &v, &n, NULL), PG_ENOTFOUND);
    pg_ledger_close(x);
    pg_ledger_close(y);
    /* Reopened: the equivocation is still counted. */
    pg_ledger *z = NULL;
    assert_int_equal(pg_ledger_open(&z, pgt_tmp("y.db"), NULL, 0, NULL, NULL), PG_OK);
    pg_ledger_get_stats(z, &s);
    assert_int_equal(s.equivocations, 1);
    pg_ledger_close(z);
    pg_ledger_verify_report r;
    assert_int_equal(pg_ledger_verify_file(pgt_tmp("y.db"), NULL, &r, NULL), PG_OK);
    assert_int_equal(r.n_problems, 0);
    assert_int_equal(r.equivocations, 1);
    pg_ledger_verify_report_free(&r);
}

/* n counter ops by a, each on the previous, as encodings (to ingest at once). */
static void
counter_chain(pg_ledger *l, size_t n, int64_t delta, uint8_t **ops, size_t *lens)
{
    pg_ledger_key a = lf_key(2);
    pg_ledger_id prev;
    assert_int_equal(lt_heads(l, &prev, 1), 1);
    for (size_t i = 0; i < n; i++) {
        pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "big", .delta = delta};
        assert_int_equal(pg_ledger_op_encode(&a, &prev, 1, &p, &ops[i], &lens[i], NULL), PG_OK);
        pg_ledger_op *o = NULL;
        assert_int_equal(pg_ledger_op_decode(ops[i], lens[i], &o, NULL), PG_OK);
        prev = o->id;
        pg_ledger_op_free(o);
    }
}

static void
reverse(uint8_t **ops, size_t *lens, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        uint8_t *t = ops[i];
        size_t tl = lens[i];
        ops[i] = ops[n - 1 - i];
        lens[i] = lens[n - 1 - i];
        ops[n - 1 - i] = t;
        lens[n - 1 - i] = tl;
    }
}

/* Both chains arrive last op first: each is held until its first op, then all delivered. */
static void
test_counters_saturate(void **state)
{
    (void)state;
    pg_ledger *l = lf_open(pgt_tmp("c.db"));
    enum { N = 1100 };
    uint8_t **ops = calloc(N, sizeof *ops);
    size_t *lens = calloc(N, sizeof *lens);
    counter_chain(l, N, (int64_t)1 << 53, ops, lens);
    reverse(ops, lens, N);
    pg_ledger_ingest_stats st;
    assert_int_equal(pg_ledger_ingest(l, (const void *const *)ops, lens, N, &st, NULL), PG_OK);
    assert_int_equal(st.delivered, N);
    assert_int_equal(pg_ledger_counter_get(l, "big"), INT64_MAX);
    for (size_t i = 0; i < N; i++)
        free(ops[i]);
    counter_chain(l, N, -((int64_t)1 << 53), ops, lens);
    reverse(ops, lens, N);
    assert_int_equal(pg_ledger_ingest(l, (const void *const *)ops, lens, N, &st, NULL), PG_OK);
    /* Both sums saturated: P - N is 0, not an overflow. */
    assert_int_equal(pg_ledger_counter_get(l, "big"), 0);
    for (size_t i = 0; i < N; i++)
        free(ops[i]);
    free(ops);
    free(lens);
    pg_ledger_close(l);
    pg_ledger_verify_report r;
    assert_int_equal(pg_ledger_verify_file(pgt_tmp("c.db"), NULL, &r, NULL), PG_OK);
    assert_int_equal(r.n_problems, 0);
    pg_ledger_verify_report_free(&r);
}

/* ---------------------------------------------------------------- records */

static int
count_op(void *ud, const pg_ledger_op *op)
{
    (void)op;
    (*(int *)ud)++;
    return 0;
}

static void
test_record_rules(void **state)
{
    (void)state;
    pg_ledger *l = lf_open(pgt_tmp("r.db"));
    pg_ledger_payload p = lf_record(PG_LEDGER_BID, 1, "b", NULL, 0, "x");
    lf_append(l, 2, &p, PG_EMODEL); /* a bids as b */
    lf_append(l, 9, &p, PG_EAUTH);
    p = lf_record(PG_LEDGER_BID, 1, "a", NULL, 0, "x");
    pg_ledger_id bid_a = lf_append(l, 2, &p, PG_OK);
    pg_ledger_id bid_a2 = lf_append(l, 2, &p, PG_OK);
    p = lf_record(PG_LEDGER_BID, 2, "b", NULL, 0, "x");
    pg_ledger_id bid_b2 = lf_append(l, 3, &p, PG_OK);
    pg_ledger_id reg = lf_register(l, 2, "r", "v");

    /* Gates: the operator only, bids of the interval, one per node. */
    p = lf_record(PG_LEDGER_GATE, 1, NULL, &bid_a, 1, NULL);
    lf_append(l, 2, &p, PG_EAUTH);
    pg_ledger_id two[2] = {bid_a, bid_a2};
    p = lf_record(PG_LEDGER_GATE, 1, NULL, two, 2, NULL);
    lf_append(l, 1, &p, PG_EMODEL);
    p = lf_record(PG_LEDGER_GATE, 1, NULL, &bid_b2, 1, NULL);
    lf_append(l, 1, &p, PG_EMODEL);
    p = lf_record(PG_LEDGER_GATE, 1, NULL, &reg, 1, NULL);
    lf_append(l, 1, &p, PG_EMODEL);
    p = lf_record(PG_LEDGER_GATE, 1, NULL, &bid_a, 1, NULL);
    pg_ledger_id gate = lf_append(l, 1, &p, PG_OK);
    /* Results refer to a gate of their interval; settlements to a result. */
    p = lf_record(PG_LEDGER_RESULT, 2, NULL, &gate, 1, NULL);
    lf_append(l, 1, &p, PG_EMODEL);
    p = lf_record(PG_LEDGER_SETTLE, 1, NULL, &gate, 1, NULL);
    lf_append(l, 1, &p, PG_EMODEL);
    p = lf_record(PG_LEDGER_RESULT, 1, NULL, &gate, 1, NULL);
    pg_ledger_id result = lf_append(l, 1, &p, PG_OK);
    p = lf_record(PG_LEDGER_SETTLE, 1, NULL, &result, 1, NULL);
    lf_append(l, 1, &p, PG_OK);
    /* A failover: another gate of interval 1 (a later term) is a record too. */
    p = lf_record(PG_LEDGER_GATE, 1, NULL, two, 1, NULL);
    p.record.term = 2;
    lf_append(l, 1, &p, PG_OK);
    /* Demand response: members and operators. */
    p = lf_record(PG_LEDGER_DR, 1, NULL, NULL, 0, "event");
    lf_append(l, 1, &p, PG_OK);
    lf_append(l, 3, &p, PG_OK);
    lf_append(l, 9, &p, PG_EAUTH);
    /* A reference the ledger does not hold. */
    pg_ledger_id nowhere;
    memset(nowhere.b, 0x42, 32);
    p = lf_record(PG_LEDGER_DR, 1, NULL, &nowhere, 1, NULL);
    lf_append(l, 1, &p, PG_EMODEL);

    int n = 0;
    assert_int_equal(pg_ledger_each_record(l, PG_LEDGER_BID, 1, count_op, &n, NULL), PG_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(pg_ledger_each_record(l, PG_LEDGER_GATE, 1, count_op, &n, NULL), PG_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(pg_ledger_each_record(l, PG_LEDGER_DR, 1, count_op, &n, NULL), PG_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(pg_ledger_each(l, 10, count_op, &n, NULL), PG_OK);
    assert_int_equal((size_t)n, pg_ledger_count(l) - 10);
    pg_ledger_close(l);

    /* Without operators, any member closes gates, and a result is its gate's author's. */
    l = lf_open_with(pgt_tmp("r2.db"), PG_LEDGER_ADMIT_GENESIS, false, NULL);
    p = lf_record(PG_LEDGER_GATE, 3, NULL, NULL, 0, NULL);
    gate = lf_append(l, 2, &p, PG_OK);
    lf_append(l, 1, &p, PG_EAUTH); /* the genesis key is no member here */
    p = lf_record(PG_LEDGER_RESULT, 3, NULL, &gate, 1, NULL);
    lf_append(l, 3, &p, PG_EMODEL);
    lf_append(l, 2, &p, PG_OK);
    pg_ledger_close(l);
}

static int
refuse_results(void *ctx, const pg_ledger_op *rec, const pg_ledger_op *const *refs, size_t n,
               pg_error *err)
{
    (void)ctx, (void)refs, (void)n;
    if (rec->payload.record.type == PG_LEDGER_RESULT)
        return pg_error_set(err, PG_EMODEL, "wrong price");
    return PG_OK;
}

/* A copy whose checker refuses a clearing result rejects it on ingest, and holds what follows
 * it (never delivered: its predecessor never will be). */
static void
test_checker_on_ingest(void **state)
{
    (void)state;
    static const pg_ledger_checker refusing = {"the test market", NULL, refuse_results};
    pg_ledger *x = lf_open(pgt_tmp("x.db"));
    pg_ledger *y = lf_open_with(pgt_tmp("y.db"), PG_LEDGER_ADMIT_GENESIS, true, &refusing);
    pg_ledger_payload p = lf_record(PG_LEDGER_BID, 1, "a", NULL, 0, "bid");
    pg_ledger_id bid = lf_append(x, 2, &p, PG_OK);
    p = lf_record(PG_LEDGER_GATE, 1, NULL, &bid, 1, NULL);
    pg_ledger_id gate = lf_append(x, 1, &p, PG_OK);
    p = lf_record(PG_LEDGER_RESULT, 1, NULL, &gate, 1, "price");
    pg_ledger_id result = lf_append(x, 1, &p, PG_OK);
    p = lf_record(PG_LEDGER_SETTLE, 1, NULL, &result, 1, "paid");
    lf_append(x, 1, &p, PG_OK);
    lf_ops o = lf_all(x);
    pg_ledger_ingest_stats st;
    assert_int_equal(pg_ledger_ingest(y, (const void *const *)o.b, o.n, o.count, &st, NULL), PG_OK);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.duplicate, 1); /* the genesis */
    assert_false(pg_ledger_has(y, &result));
    assert_int_equal(pg_ledger_count(y), 3);
    /* Appending the result there is refused with the checker's words. */
    pg_ledger_key op = lf_key(1);
    p = lf_record(PG_LEDGER_RESULT, 1, NULL, &gate, 1, "price");
    pg_error err = {0};
    assert_int_equal(pg_ledger_append(y, &op, &p, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "wrong price"));
    lf_free(&o);
    pg_ledger_close(x);
    pg_ledger_close(y);
}

/* An op held for a predecessor that this copy then makes itself (the same op: signatures are
 * deterministic) is delivered by that append. */
static void
test_append_completes_held(void **state)
{
    (void)state;
    pg_ledger *x = lf_open(pgt_tmp("x.db")), *y = lf_open(pgt_tmp("y.db"));
    pg_ledger_id a = lf_register(y, 2, "k", "v");
    pg_ledger_id b = lf_register(y, 2, "k", "w");
    uint8_t *bb;
    size_t bl;
    assert_int_equal(pg_ledger_get(y, &b, &bb, &bl, NULL), PG_OK);
    pg_ledger_ingest_stats st;
    const void *in[1] = {bb};
    assert_int_equal(pg_ledger_ingest(x, in, &bl, 1, &st, NULL), PG_OK);
    assert_int_equal(st.pending, 1);
    pg_ledger_id a2 = lf_register(x, 2, "k", "v");
    assert_memory_equal(a.b, a2.b, 32);
    assert_true(pg_ledger_has(x, &b));
    lf_assert_same(x, y);
    free(bb);
    pg_ledger_close(x);
    pg_ledger_close(y);
}

/* ---------------------------------------------------------------- the pending set, bad input */

static int rejects, drops;

static void
on_reject(void *ud, const pg_ledger_id *id, const char *why)
{
    (void)ud, (void)id;
    if (why && strstr(why, "dropped"))
        drops++;
    else
        rejects++;
}

static void
test_pending_bounded(void **state)
{
    (void)state;
    size_t glen;
    uint8_t *g = lf_genesis(PG_LEDGER_ADMIT_GENESIS, true, &glen);
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    o.max_pending = 5;
    o.reject = on_reject;
    pg_ledger *l = NULL;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("p.db"), g, glen, &o, NULL), PG_OK);
    free(g);
    /* Ops whose predecessors never come. */
    pg_ledger_key a = lf_key(2);
    uint8_t *ops[12];
    size_t lens[12];
    for (int i = 0; i < 10; i++) {
        pg_ledger_id nowhere;
        memset(nowhere.b, i + 1, 32);
        pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "n", .delta = 1};
        assert_int_equal(pg_ledger_op_encode(&a, &nowhere, 1, &p, &ops[i], &lens[i], NULL), PG_OK);
    }
    /* Garbage, and a forged signature. */
    ops[10] = (uint8_t *)strdup("garbage bytes, not an op");
    lens[10] = strlen((char *)ops[10]);
    ops[11] = malloc(lens[0]);
    memcpy(ops[11], ops[0], lens[0]);
    lens[11] = lens[0];
    ops[11][lens[11] - 3] ^= 1;
    rejects = drops = 0;
    pg_ledger_ingest_stats st;
    assert_int_equal(pg_ledger_ingest(l, (const void *const *)ops, lens, 12, &st, NULL), PG_OK);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(rejects, 2);
    assert_int_equal(drops, 5);
    pg_ledger_stats s;
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.pending, 5);
    assert_int_equal(s.dropped, 5);
    assert_int_equal(s.rejected, 2);
    assert_int_equal(pg_ledger_count(l), 1);
    /* What to ask a peer for: the five predecessors the held ops wait for. */
    pg_ledger_id miss[8];
    assert_int_equal(pgi_ledger_missing(l, miss, 8), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(miss[i].b[0], 6 + i);
    pg_ledger_op *held = NULL;
    assert_int_equal(pg_ledger_op_decode(ops[9], lens[9], &held, NULL), PG_OK);
    assert_true(pgi_ledger_pending_has(l, &held->id));
    pg_ledger_op_free(held);
    assert_int_equal(pg_ledger_op_decode(ops[0], lens[0], &held, NULL), PG_OK);
    assert_false(pgi_ledger_pending_has(l, &held->id));
    pg_ledger_op_free(held);
    /* The latest five are held: sent again, they are still held (not duplicates: those are
       delivered ops), and nothing is dropped. */
    assert_int_equal(pg_ledger_ingest(l, (const void *const *)ops + 5, lens + 5, 5, &st, NULL),
                     PG_OK);
    assert_int_equal(st.duplicate, 0);
    assert_int_equal(st.pending, 5);
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.pending, 5);
    assert_int_equal(s.dropped, 5);
    for (int i = 0; i < 12; i++)
        free(ops[i]);
    pg_ledger_close(l);
}

static void
test_open_errors(void **state)
{
    (void)state;
    pg_ledger *l = NULL;
    pg_error err = {0};
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("none.db"), NULL, 0, &o, &err), PG_ENOTFOUND);
    assert_string_equal(err.file, pgt_tmp("none.db"));
    o.create = true;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("none.db"), NULL, 0, &o, &err), PG_EINVAL);
    assert_int_equal(pg_ledger_open(&l, pgt_tmpdir(), NULL, 0, &o, &err), PG_EIO);
    assert_int_equal(pg_ledger_open(&l, "/dev/zero", NULL, 0, &o, &err), PG_EIO);
    /* A genesis that is not one; one badly signed. */
    size_t glen;
    uint8_t *g = lf_genesis(PG_LEDGER_ADMIT_GENESIS, true, &glen);
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), g, glen - 1, &o, &err), PG_EINVAL);
    g[glen - 1] ^= 1;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), g, glen, &o, &err), PG_EAUTH);
    g[glen - 1] ^= 1;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), g, glen, &o, &err), PG_OK);
    lf_register(l, 2, "k", "v");
    pg_ledger_close(l);
    /* Another genesis: refused, naming both. */
    uint8_t *g2 = lf_genesis(PG_LEDGER_ADMIT_MEMBERS, true, &glen);
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), g2, glen, &o, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "not of the genesis"));
    free(g2);
    /* Read-only: no writing. */
    o.create = false;
    o.read_only = true;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("a.db"), g, glen, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 2);
    pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "n", .delta = 1};
    pg_ledger_key a = lf_key(2);
    assert_int_equal(pg_ledger_append(l, &a, &p, NULL, &err), PG_ESTATE);
    pg_ledger_close(l);
    free(g);
    /* Not a ledger. */
    FILE *f = fopen(pgt_tmp("text.db"), "w");
    fputs("hello, this is not a database at all, though it is a file of some length.\n", f);
    fclose(f);
    o.read_only = false;
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("text.db"), NULL, 0, &o, &err), PG_EPARSE);
    /* An empty file (a creation that crashed) is created. */
    f = fopen(pgt_tmp("empty.db"), "w");
    fclose(f);
    o.create = true;
    g = lf_genesis(PG_LEDGER_ADMIT_GENESIS, true, &glen);
    assert_int_equal(pg_ledger_open(&l, pgt_tmp("empty.db"), g, glen, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 1);
    pg_ledger_close(l);
    free(g);
}

/* A full disk: appends fail with PG_EIO; what they returned PG_OK for is there after reopening,
 * and nothing else. */
static void
test_full_disk(void **state)
{
    (void)state;
    const char *dir = pgt_full_disk_begin(192 << 10);
    char path[512];
    snprintf(path, sizeof path, "%s/f.db", dir);
    pg_ledger *l = lf_open(path);
    static char value[8000];
    memset(value, 'v', sizeof value - 1);
    size_t ok = 1;
    int rc = PG_OK;
    pg_error err = {0};
    for (int i = 0; i < 200 && rc == PG_OK; i++) {
        pg_ledger_key a = lf_key(2);
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        pg_ledger_payload p = {.kind = PG_LEDGER_REGISTER,
                               .name = name,
                               .value = value,
                               .value_len = sizeof value - 1};
        rc = pg_ledger_append(l, &a, &p, NULL, &err);
        if (rc == PG_OK)
            ok++;
    }
    assert_int_equal(rc, PG_EIO);
    assert_string_equal(err.file, path);
    /* Memory matches the disk: the count is what was acknowledged. */
    assert_int_equal(pg_ledger_count(l), ok);
    pg_ledger_close(l);
    /* Read back (reading needs no space), before the full disk goes away. */
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.read_only = true;
    l = NULL;
    if (pg_ledger_open(&l, path, NULL, 0, &o, &err))
        fail_msg("reopen: %s", err.msg);
    assert_int_equal(pg_ledger_count(l), ok);
    pg_ledger_close(l);
    pg_ledger_verify_report r;
    assert_int_equal(pg_ledger_verify_file(path, NULL, &r, &err), PG_OK);
    assert_int_equal(r.n_problems, 0);
    pg_ledger_verify_report_free(&r);
    pgt_full_disk_end();
}

/* Every allocation of an append and an ingest failing in turn: an error or success, never a
 * crash or a leak, and the ledger stays usable and consistent. */
static void
test_alloc_failures(void **state)
{
    (void)state;
    pg_ledger *l = lf_open(pgt_tmp("al.db"));
    pg_ledger *src = lf_open(pgt_tmp("src.db"));
    add_member(src, 1, "c", 4, PG_OK);
    lf_register(src, 4, "meta", "x");
    lf_counter(src, 2, "n", 3);
    lf_ops o = lf_all(src);
    for (long n = 0;; n++) {
        pg_ledger_ingest_stats st;
        pgt_alloc_fail_after(n);
        int rc = pg_ledger_ingest(l, (const void *const *)o.b, o.n, o.count, &st, NULL);
        long used = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        assert_true(rc == PG_OK || rc == PG_ENOMEM || rc == PG_ESTATE);
        if (rc == PG_OK && used <= n)
            break;
        assert_true(n < 100000);
    }
    lf_assert_same(l, src);
    for (long n = 0;; n++) {
        pg_ledger_key a = lf_key(2);
        pg_ledger_payload p = {.kind = PG_LEDGER_COUNTER, .name = "n", .delta = 1};
        pgt_alloc_fail_after(n);
        int rc = pg_ledger_append(l, &a, &p, NULL, NULL);
        long used = pgt_alloc_count();
        pgt_alloc_fail_after(-1);
        assert_true(rc == PG_OK || rc == PG_ENOMEM);
        if (rc == PG_OK && used <= n)
            break;
    }
    lf_free(&o);
    pg_ledger_close(l);
    pg_ledger_close(src);
}

/* The heads and the digests say when they run out of memory (PG_ENOMEM) and leave their outputs
 * alone then; they give the right values once memory is back. */
static void
test_heads_digests_alloc_failures(void **state)
{
    (void)state;
    pg_ledger *l = lf_open(pgt_tmp("hd.db"));
    lf_register(l, 2, "meta", "x");
    lf_counter(l, 3, "n", 3);
    pg_ledger_id want_h[2], want_hd, want_sd;
    size_t want_n = lt_heads(l, want_h, 2);
    assert_int_equal(want_n, 1);
    assert_int_equal(pg_ledger_heads_digest(l, &want_hd, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(l, &want_sd, NULL), PG_OK);
    pg_ledger_id junk;
    memset(junk.b, 0x5a, sizeof junk.b);
    for (int what = 0; what < 3; what++) {
        for (long n = 0;; n++) {
            pg_ledger_id out = junk;
            size_t nh = 77;
            pg_error err = {0};
            pgt_alloc_fail_after(n);
            int rc = what == 0   ? pg_ledger_heads(l, &out, 1, &nh, &err)
                     : what == 1 ? pg_ledger_heads_digest(l, &out, &err)
                                 : pg_ledger_state_digest(l, &out, &err);
            long used = pgt_alloc_count();
            pgt_alloc_fail_after(-1);
            if (rc == PG_OK) {
                const pg_ledger_id *want = what == 0 ? &want_h[0] : what == 1 ? &want_hd : &want_sd;
                assert_memory_equal(out.b, want->b, 32);
                if (what == 0)
                    assert_int_equal(nh, want_n);
                if (used <= n)
                    break;
                continue;
            }
            assert_int_equal(rc, PG_ENOMEM);
            assert_int_equal(err.code, PG_ENOMEM);
            assert_memory_equal(out.b, junk.b, 32);
            assert_int_equal(nh, 77);
            assert_true(n < 1000);
        }
    }
    pg_ledger_close(l);
}

static bool
exists(const char *path, const char *suffix)
{
    char p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%.4200s%.16s", path, suffix);
    return stat(p, &st) == 0;
}

/* Show, export and verify open a ledger read-only: a database whose writer closed leaves the
 * folder as it was (no -wal or -shm files made beside it); one open for writing is read as it
 * is, log included, and its writer goes on. */
static void
test_read_only_leaves_folder(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s", pgt_tmp("ro.db"));
    pg_ledger *w = lf_open(path);
    lf_register(w, 2, "k", "v");
    pg_ledger_close(w);
    assert_false(exists(path, "-wal"));
    assert_false(exists(path, "-shm"));
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.read_only = true;
    pg_ledger *l = NULL;
    pg_error err = {0};
    assert_int_equal(pg_ledger_open(&l, path, NULL, 0, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 2);
    pg_ledger_close(l);
    pg_ledger_verify_report r;
    assert_int_equal(pg_ledger_verify_file(path, NULL, &r, &err), PG_OK);
    assert_int_equal(r.n_problems, 0);
    pg_ledger_verify_report_free(&r);
    assert_false(exists(path, "-wal"));
    assert_false(exists(path, "-shm"));

    /* A writer open meanwhile: the reader sees what it committed, and it writes on. */
    pg_ledger_options ow;
    pg_ledger_options_init(&ow);
    w = NULL;
    assert_int_equal(pg_ledger_open(&w, path, NULL, 0, &ow, &err), PG_OK);
    lf_counter(w, 3, "n", 4);
    assert_int_equal(pg_ledger_open(&l, path, NULL, 0, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 3);
    assert_int_equal(pg_ledger_counter_get(l, "n"), 4);
    lf_counter(w, 3, "n", 1);
    pg_ledger_close(l);
    lf_counter(w, 3, "n", 1);
    pg_ledger_close(w);
    assert_false(exists(path, "-wal"));
    assert_int_equal(pg_ledger_open(&l, path, NULL, 0, &o, &err), PG_OK);
    assert_int_equal(pg_ledger_count(l), 5);
    assert_int_equal(pg_ledger_counter_get(l, "n"), 6);
    pg_ledger_close(l);
    assert_false(exists(path, "-wal"));
    assert_false(exists(path, "-shm"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_create_append_reopen, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_ingest_any_order, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_membership_rules, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_causal_past, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_registers_and_equivocation, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_counters_saturate, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_record_rules, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_checker_on_ingest, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_append_completes_held, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_pending_bounded, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_open_errors, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_full_disk, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_alloc_failures, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_heads_digests_alloc_failures, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_read_only_leaves_folder, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
