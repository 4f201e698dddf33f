/* Byzantine ops against a ledger: forged signatures (a bit flipped in the signature or the
 * payload, another author's key), ops whose predecessor never arrives (held, never applied, and
 * bounded: beyond max_pending or max_pending_bytes the oldest are dropped and counted), replays,
 * payloads that break each CRDT rule while validly signed (a non-member writing, a member
 * admitting under ADMIT_GENESIS, a removal naming an admission that is not its ancestor or is of
 * another key, gates naming bids that are not predecessors, two bids of one node or a bid of
 * another interval, a result by a non-operator, a settlement of a gate, a counter delta beyond
 * 2^53, a bid under another member's name, second genesis ops), a checker refusing a result, an
 * author who equivocates, garbage bytes and truncated or non-canonical encodings, and ops judged
 * by their causal past rather than by the receiving copy's state (a removed member's concurrent
 * op accepted, its op on its removal refused even after a later re-admission).
 *
 * For each bad op: it is rejected (counted exactly, reported to the reject callback), never
 * stored or applied (count, heads and state digests unchanged, pg_ledger_has false), a valid op
 * naming it stays held, appending the same thing is refused, and the file still verifies. Then
 * copies receiving the honest ops and every bad op, in different random orders, end in the same
 * state as a copy that received only the honest ops. */
#include "harness.h"
#include "unit/ledger/ledger_build.h"

/* ---------------------------------------------------------------- the fixture */

static pg_ledger_key G, A, B, C, D, O, N;

typedef struct fixture {
    lb_pool *pool;
    size_t g, a1, addc, bid_b, bid_c, bid_a2, cnt, gate; /* pool indices of the honest ops */
    size_t n_base;                                       /* ops g .. cnt: the base */
} fixture;

static size_t n_rejects, n_rejects_null;
static pg_ledger_id last_reject;
static bool last_reject_has_id;
static char last_why[256];

static void
on_reject(void *ud, const pg_ledger_id *id, const char *why)
{
    (void)ud;
    n_rejects++;
    last_reject_has_id = id != NULL;
    if (id)
        last_reject = *id;
    else
        n_rejects_null++;
    snprintf(last_why, sizeof last_why, "%s", why ? why : "");
}

static pg_ledger_options
options(void)
{
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.reject = on_reject;
    return o;
}

static void
reset_rejects(void)
{
    n_rejects = n_rejects_null = 0;
    last_reject_has_id = false;
    last_why[0] = '\0';
}

/* The community "byz": the genesis key G admits (ADMIT_GENESIS); members a, b and the operator
 * o from the start; G admits c; bids of b and c for interval 1 and of a for interval 2; a
 * counter; and (not in the base) a valid gate of interval 1 by o. */
static fixture
make_fixture(void)
{
    G = lb_key(1), A = lb_key(2), B = lb_key(3), C = lb_key(4), D = lb_key(5), O = lb_key(7),
    N = lb_key(9);
    fixture f;
    memset(&f, 0, sizeof f);
    f.pool = lb_pool_new();
    pg_ledger_member founders[] = {{"a", A.pk}, {"b", B.pk}, {"o", O.pk}};
    f.g = lb_pool_put(f.pool, lb_genesis(&G, "byz", PG_LEDGER_ADMIT_GENESIS, founders, 3, &O.pk, 1),
                      NULL, 0);
    pg_ledger_payload p = lb_register("meta", "a-1");
    f.a1 = lb_pool_add(f.pool, &A, LB_PREDS(f.g), &p);
    p = lb_member_add("c", &C);
    f.addc = lb_pool_add(f.pool, &G, LB_PREDS(f.a1), &p);
    p = lb_record(PG_LEDGER_BID, 1, 0, "b", NULL, 0, "bid-b");
    f.bid_b = lb_pool_add(f.pool, &B, LB_PREDS(f.addc), &p);
    p = lb_record(PG_LEDGER_BID, 1, 0, "c", NULL, 0, "bid-c");
    f.bid_c = lb_pool_add(f.pool, &C, LB_PREDS(f.bid_b), &p);
    p = lb_record(PG_LEDGER_BID, 2, 0, "a", NULL, 0, "bid-a2");
    f.bid_a2 = lb_pool_add(f.pool, &A, LB_PREDS(f.bid_c), &p);
    p = lb_counter("energy", 5);
    f.cnt = lb_pool_add(f.pool, &B, LB_PREDS(f.bid_a2), &p);
    f.n_base = f.pool->n;
    pg_ledger_id bids[2] = {f.pool->op[f.bid_b].id, f.pool->op[f.bid_c].id};
    p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, bids, 2, "gate-1");
    f.gate = lb_pool_add(f.pool, &O, LB_PREDS(f.bid_b, f.bid_c, f.cnt), &p);
    return f;
}

/* A fresh ledger at path holding the base ops. */
static pg_ledger *
open_base(const char *path, const fixture *f, const pg_ledger_options *o)
{
    remove(path);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    remove(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    remove(wal);
    pg_ledger *l = lb_open(path, &f->pool->op[f->g], o);
    size_t idx[64];
    for (size_t i = 1; i < f->n_base; i++)
        idx[i - 1] = i;
    pg_ledger_ingest_stats st = lb_ingest_idx(l, f->pool, idx, f->n_base - 1);
    lb_expect_stats(st, f->n_base - 1, 0, 0, "the base");
    assert_int_equal(pg_ledger_count(l), f->n_base);
    return l;
}

typedef struct snap {
    size_t count;
    pg_ledger_id heads, state;
    pg_ledger_stats st;
} snap;

static snap
take(const pg_ledger *l)
{
    snap s;
    s.count = pg_ledger_count(l);
    assert_int_equal(pg_ledger_heads_digest(l, &s.heads, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(l, &s.state, NULL), PG_OK);
    pg_ledger_get_stats(l, &s.st);
    return s;
}

static void
same_state(const pg_ledger *l, const snap *s, const char *what)
{
    snap now = take(l);
    if (now.count != s->count)
        fail_msg("%s: %zu ops delivered, %zu before", what, now.count, s->count);
    if (!lb_id_eq(&now.heads, &s->heads))
        fail_msg("%s: the heads changed", what);
    if (!lb_id_eq(&now.state, &s->state))
        fail_msg("%s: the state changed", what);
}

/* ---------------------------------------------------------------- bad ops */

#define DECODE_ANY 1       /* structurally bad or invalid: either is fine */
#define DECODE_BAD_LIMIT 2 /* PG_EPARSE or PG_ELIMIT */
#define APPEND_REFUSED 1   /* PG_EAUTH or PG_EMODEL */

typedef struct bad_case {
    char what[96];
    size_t prep[4]; /* honest pool ops delivered first */
    size_t n_prep;
    uint8_t *bytes;
    size_t len;
    int decode_rc; /* PG_OK: well formed and signed, invalid by its ancestors */
    /* the same made by pg_ledger_append: refused with append_rc (0: not tried) */
    const pg_ledger_key *append_key;
    pg_ledger_payload append_p;
    int append_rc;
} bad_case;

#define MAX_CASES 64
static bad_case cases[MAX_CASES];
static size_t n_cases;

static bad_case *
add_case(const char *what, lb_op o, int decode_rc)
{
    assert_true(n_cases < MAX_CASES);
    bad_case *c = &cases[n_cases++];
    memset(c, 0, sizeof *c);
    snprintf(c->what, sizeof c->what, "%s", what);
    c->bytes = o.bytes;
    c->len = o.len;
    c->decode_rc = decode_rc;
    return c;
}

static void
free_cases(void)
{
    for (size_t i = 0; i < n_cases; i++)
        free(cases[i].bytes);
    n_cases = 0;
}

/* An op of p by k on the pool ops preds (not added to the pool). */
static lb_op
make(const fixture *f, const pg_ledger_key *k, const size_t *preds, size_t n,
     const pg_ledger_payload *p)
{
    pg_ledger_id ids[8];
    for (size_t i = 0; i < n; i++)
        ids[i] = f->pool->op[preds[i]].id;
    return lb_encode(k, ids, n, p);
}

/* The counter delta d in the op's bytes, written as 8 little-endian bytes, replaced by nd and the
 * op signed again by k. */
static void
patch_delta(uint8_t *bytes, size_t len, int64_t d, int64_t nd, const pg_ledger_key *k)
{
    uint8_t le[8], nle[8];
    for (int i = 0; i < 8; i++) {
        le[i] = (uint8_t)((uint64_t)d >> (8 * i));
        nle[i] = (uint8_t)((uint64_t)nd >> (8 * i));
    }
    long at = lb_find(bytes, len - PG_LEDGER_SIG_BYTES, le, 8);
    if (at < 0)
        fail_msg("a counter op does not hold its delta as 8 little-endian bytes: update this test "
                 "to docs/ledger.md's encoding");
    memcpy(bytes + at, nle, 8);
    lb_resign(k, bytes, len);
}

static void
build_cases(fixture *f)
{
    n_cases = 0;
    pg_ledger_payload p;
    lb_op o;
    bad_case *c;

    /* forged signatures */
    p = lb_register("meta", "a-forged");
    o = make(f, &A, LB_PREDS(f->cnt), &p);
    o.bytes[o.len - 1] ^= 0x01;
    add_case("a bit flipped in the signature", o, PG_EAUTH);

    o = make(f, &A, LB_PREDS(f->cnt), &p);
    long at = lb_find(o.bytes, o.len, "a-forged", 8);
    assert_true(at > 0);
    o.bytes[at + 2] ^= 0x20; /* "a-Forged": the signature no longer covers it */
    add_case("a bit flipped in the payload", o, PG_EAUTH);

    o = make(f, &N, LB_PREDS(f->cnt), &p);
    memcpy(o.bytes + LB_OFF_AUTHOR, A.pk.b, 32); /* claims to be a's, signed by n */
    add_case("signed by another key than its author's", o, PG_EAUTH);

    o = make(f, &A, LB_PREDS(f->cnt), &p);
    memcpy(o.bytes + LB_OFF_AUTHOR, B.pk.b, 32); /* a's signature, b named as the author */
    add_case("another member named as the author", o, PG_EAUTH);

    /* membership */
    p = lb_register("meta", "n-1");
    c = add_case("a register written by a non-member", make(f, &N, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &N, c->append_p = p, c->append_rc = PG_EAUTH;

    p = lb_counter("energy", 1);
    c = add_case("a counter added to by a non-member", make(f, &N, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &N, c->append_p = p, c->append_rc = PG_EAUTH;

    p = lb_record(PG_LEDGER_DR, 1, 0, NULL, NULL, 0, "dr-n");
    c = add_case("a record by a non-member", make(f, &N, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &N, c->append_p = p, c->append_rc = PG_EAUTH;

    p = lb_member_add("d", &D);
    c = add_case("a member admitting a member under ADMIT_GENESIS",
                 make(f, &A, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &A, c->append_p = p, c->append_rc = PG_EAUTH;

    p = lb_member_add("n", &N);
    c = add_case("a non-member admitting itself", make(f, &N, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &N, c->append_p = p, c->append_rc = PG_EAUTH;

    /* a removal's tags must be admissions of that key among its ancestors */
    {
        p = lb_member_add("d", &D); /* delivered, but concurrent with the removal */
        size_t add_d = lb_pool_add(f->pool, &G, LB_PREDS(f->bid_a2), &p);
        p = lb_member_remove(&D, &f->pool->op[add_d].id, 1);
        c = add_case("a removal naming an admission that is not its ancestor",
                     make(f, &G, LB_PREDS(f->cnt), &p), PG_OK);
        c->prep[0] = add_d, c->n_prep = 1;
    }
    p = lb_member_remove(&B, &f->pool->op[f->addc].id, 1); /* c's admission, not b's */
    c = add_case("a removal naming an admission of another key", make(f, &G, LB_PREDS(f->cnt), &p),
                 PG_OK);
    c->append_key = &G, c->append_p = p, c->append_rc = APPEND_REFUSED;
    {
        pg_ledger_id nowhere;
        memset(nowhere.b, 0x5a, sizeof nowhere.b);
        p = lb_member_remove(&C, &nowhere, 1);
        c = add_case("a removal naming an unknown admission", make(f, &G, LB_PREDS(f->cnt), &p),
                     PG_OK);
        c->append_key = &G, c->append_p = p, c->append_rc = APPEND_REFUSED;
    }
    p = lb_member_remove(&C, &f->pool->op[f->addc].id, 1);
    c = add_case("a member removing another under ADMIT_GENESIS", make(f, &A, LB_PREDS(f->cnt), &p),
                 PG_OK);
    c->append_key = &A, c->append_p = p, c->append_rc = PG_EAUTH;

    /* gates */
    pg_ledger_id bc[2] = {f->pool->op[f->bid_b].id, f->pool->op[f->bid_c].id};
    p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, bc, 2, "gate-1");
    add_case("a gate naming bids that are ancestors but not predecessors",
             make(f, &O, LB_PREDS(f->cnt), &p), PG_OK);
    add_case("a gate naming a bid that is not even an ancestor",
             make(f, &O, LB_PREDS(f->bid_b, f->g), &p), PG_OK);
    {
        pg_ledger_payload b2 = lb_record(PG_LEDGER_BID, 1, 0, "b", NULL, 0, "bid-b-again");
        size_t again = lb_pool_add(f->pool, &B, LB_PREDS(f->cnt), &b2); /* valid: b bids twice */
        pg_ledger_id two[2] = {f->pool->op[f->bid_b].id, f->pool->op[again].id};
        p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, two, 2, "gate-1");
        c = add_case("a gate naming two bids of one node",
                     make(f, &O, LB_PREDS(f->bid_b, again), &p), PG_OK);
        c->prep[0] = again, c->n_prep = 1;
        c->append_key = &O, c->append_p = p, c->append_rc = PG_EMODEL;
    }
    {
        pg_ledger_id mixed[2] = {f->pool->op[f->bid_b].id, f->pool->op[f->bid_a2].id};
        p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, mixed, 2, "gate-1");
        c = add_case("a gate naming a bid of another interval",
                     make(f, &O, LB_PREDS(f->bid_b, f->bid_a2), &p), PG_OK);
        c->append_key = &O, c->append_p = p, c->append_rc = PG_EMODEL;
    }
    p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, &f->pool->op[f->cnt].id, 1, "gate-1");
    c = add_case("a gate naming a counter op as a bid", make(f, &O, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &O, c->append_p = p, c->append_rc = PG_EMODEL;
    p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, bc, 2, "gate-1");
    c = add_case("a gate by a member who is not the operator",
                 make(f, &A, LB_PREDS(f->bid_b, f->bid_c, f->cnt), &p), PG_OK);
    c->append_key = &A, c->append_p = p, c->append_rc = PG_EAUTH;

    /* results and settlements */
    p = lb_record(PG_LEDGER_RESULT, 1, 1, NULL, &f->pool->op[f->gate].id, 1, "result-1");
    c = add_case("a result by a member who is not the operator", make(f, &A, LB_PREDS(f->gate), &p),
                 PG_OK);
    c->prep[0] = f->gate, c->n_prep = 1;
    c->append_key = &A, c->append_p = p, c->append_rc = PG_EAUTH;
    p = lb_record(PG_LEDGER_RESULT, 2, 1, NULL, &f->pool->op[f->gate].id, 1, "result-2");
    c = add_case("a result naming the gate of another interval", make(f, &O, LB_PREDS(f->gate), &p),
                 PG_OK);
    c->prep[0] = f->gate, c->n_prep = 1;
    c->append_key = &O, c->append_p = p, c->append_rc = PG_EMODEL;
    p = lb_record(PG_LEDGER_RESULT, 1, 1, NULL, &f->pool->op[f->bid_b].id, 1, "result-1");
    c = add_case("a result naming a bid as its gate", make(f, &O, LB_PREDS(f->bid_b, f->cnt), &p),
                 PG_OK);
    c->append_key = &O, c->append_p = p, c->append_rc = PG_EMODEL;
    p = lb_record(PG_LEDGER_SETTLE, 1, 1, NULL, &f->pool->op[f->gate].id, 1, "settle-1");
    c = add_case("a settlement naming a gate as its result", make(f, &O, LB_PREDS(f->gate), &p),
                 PG_OK);
    c->prep[0] = f->gate, c->n_prep = 1;
    c->append_key = &O, c->append_p = p, c->append_rc = PG_EMODEL;

    /* bids */
    p = lb_record(PG_LEDGER_BID, 3, 0, "b", NULL, 0, "bid-as-b");
    c = add_case("a bid under another member's name", make(f, &A, LB_PREDS(f->cnt), &p), PG_OK);
    c->append_key = &A, c->append_p = p, c->append_rc = APPEND_REFUSED;
    p = lb_record(PG_LEDGER_BID, 3, 0, "x", NULL, 0, "bid-as-x");
    c = add_case("a bid under a name that is no member's", make(f, &A, LB_PREDS(f->cnt), &p),
                 PG_OK);
    c->append_key = &A, c->append_p = p, c->append_rc = APPEND_REFUSED;

    /* counters: |delta| <= 2^53 */
    const int64_t lim = (int64_t)1 << 53;
    p = lb_counter("energy", lim);
    o = make(f, &A, LB_PREDS(f->cnt), &p);
    patch_delta(o.bytes, o.len, lim, lim + 1, &A);
    add_case("a counter delta of 2^53 + 1", o, DECODE_BAD_LIMIT);
    p = lb_counter("energy", -lim);
    o = make(f, &A, LB_PREDS(f->cnt), &p);
    patch_delta(o.bytes, o.len, -lim, INT64_MIN, &A);
    add_case("a counter delta of -2^63", o, DECODE_BAD_LIMIT);

    /* a second genesis */
    {
        pg_ledger_member m[] = {{"n", N.pk}};
        o = lb_genesis(&N, "byz", PG_LEDGER_ADMIT_MEMBERS, m, 1, NULL, 0);
        add_case("another genesis (another key)", o, PG_OK);
        o = lb_genesis(&G, "byz-2", PG_LEDGER_ADMIT_GENESIS, m, 1, NULL, 0);
        add_case("another genesis by the genesis key", o, PG_OK);
        /* a genesis with a predecessor: made by the encoder if it allows it, else edited in */
        pg_ledger_payload gp;
        memset(&gp, 0, sizeof gp);
        gp.kind = PG_LEDGER_GENESIS;
        gp.genesis.community = "byz";
        gp.genesis.admit = PG_LEDGER_ADMIT_GENESIS;
        gp.genesis.members = m;
        gp.genesis.n_members = 1;
        uint8_t *bytes = NULL;
        size_t len = 0;
        pg_error err = {0};
        if (pg_ledger_op_encode(&G, &f->pool->op[f->cnt].id, 1, &gp, &bytes, &len, &err) != PG_OK) {
            lb_op g0 = lb_encode(&G, NULL, 0, &gp);
            len = g0.len + 32;
            bytes = malloc(len);
            assert_non_null(bytes);
            memcpy(bytes, g0.bytes, LB_OFF_NPREDS);
            bytes[LB_OFF_NPREDS] = 1, bytes[LB_OFF_NPREDS + 1] = 0;
            memcpy(bytes + LB_OFF_PREDS, f->pool->op[f->cnt].id.b, 32);
            memcpy(bytes + LB_OFF_PREDS + 32, g0.bytes + LB_OFF_PREDS, g0.len - LB_OFF_PREDS);
            lb_resign(&G, bytes, len);
            free(g0.bytes);
        }
        o.bytes = bytes, o.len = len;
        add_case("a genesis op with a predecessor", o, DECODE_ANY);
    }
    /* an op other than the genesis without predecessors */
    {
        p = lb_register("meta", "rootless");
        uint8_t *bytes = NULL;
        size_t len = 0;
        pg_error err = {0};
        if (pg_ledger_op_encode(&A, NULL, 0, &p, &bytes, &len, &err) == PG_OK) {
            o.bytes = bytes, o.len = len;
            add_case("a register with no predecessor", o, DECODE_ANY);
        } else { /* the encoder refuses it: remove the predecessor from a valid one */
            lb_op one = make(f, &A, LB_PREDS(f->cnt), &p);
            len = one.len - 32;
            bytes = malloc(len);
            assert_non_null(bytes);
            memcpy(bytes, one.bytes, LB_OFF_NPREDS);
            bytes[LB_OFF_NPREDS] = 0, bytes[LB_OFF_NPREDS + 1] = 0;
            memcpy(bytes + LB_OFF_PREDS, one.bytes + LB_OFF_PREDS + 32,
                   one.len - LB_OFF_PREDS - 32);
            lb_resign(&A, bytes, len);
            free(one.bytes);
            o.bytes = bytes, o.len = len;
            add_case("a register with no predecessor", o, DECODE_ANY);
        }
    }
}

/* Ingests case c into l: rejected, counted, never applied; an op naming it is held; a replay of
 * it is rejected again; the same change through pg_ledger_append is refused. */
static void
run_case(pg_ledger *l, const fixture *f, const bad_case *c, const char *path)
{
    pg_error err = {0};
    /* what pg_ledger_op_decode says */
    pg_ledger_op *d = NULL;
    int rc = pg_ledger_op_decode(c->bytes, c->len, &d, &err);
    if (c->decode_rc == DECODE_BAD_LIMIT) {
        if (rc != PG_EPARSE && rc != PG_ELIMIT)
            fail_msg("%s: decode returned %d, PG_EPARSE or PG_ELIMIT expected", c->what, rc);
    } else if (c->decode_rc != DECODE_ANY && rc != c->decode_rc) {
        fail_msg("%s: decode returned %d (%s), %d expected", c->what, rc, err.msg, c->decode_rc);
    }
    if (rc != PG_OK) {
        assert_null(d);
        if (!err.msg[0])
            fail_msg("%s: decode refused it without saying why", c->what);
    }
    pg_ledger_op_free(d);

    for (size_t i = 0; i < c->n_prep; i++) {
        pg_ledger_ingest_stats st = lb_ingest_idx(l, f->pool, &c->prep[i], 1);
        lb_expect_stats(st, 1, 0, 0, c->what);
    }
    snap before = take(l);
    pg_ledger_id bad_id = lb_hash(c->bytes, c->len);
    reset_rejects();
    pg_ledger_ingest_stats st = lb_ingest1(l, c->bytes, c->len);
    if (st.delivered || st.duplicate || st.rejected != 1 || st.pending)
        fail_msg("%s: delivered %zu, duplicate %zu, pending %zu, rejected %zu: it should be "
                 "rejected",
                 c->what, st.delivered, st.duplicate, st.pending, st.rejected);
    if (n_rejects != 1)
        fail_msg("%s: the reject callback was called %zu times", c->what, n_rejects);
    if (rc == PG_OK && (!last_reject_has_id || !lb_id_eq(&last_reject, &bad_id)))
        fail_msg("%s: the reject callback did not name the op", c->what);
    if (!last_why[0])
        fail_msg("%s: the reject callback did not say why", c->what);
    print_message("  rejected: %s\n", last_why);
    assert_false(pg_ledger_has(l, &bad_id));
    same_state(l, &before, c->what);
    pg_ledger_stats s;
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.rejected, before.st.rejected + 1);
    assert_int_equal(s.delivered, before.st.delivered);
    assert_int_equal(s.pending, 0);
    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(pg_ledger_get(l, &bad_id, &got, &got_len, &err), PG_ENOTFOUND);

    /* an honest op naming it waits for it forever */
    pg_ledger_id preds[9];
    size_t np = lt_heads(l, preds, 8);
    assert_true(np >= 1 && np <= 8);
    preds[np++] = bad_id;
    pg_ledger_payload p = lb_register("meta", "after-a-bad-op");
    lb_op child = lb_encode(&B, preds, np, &p);
    st = lb_ingest1(l, child.bytes, child.len);
    if (st.delivered || st.rejected || st.pending != 1)
        fail_msg("%s: an op naming it: delivered %zu, rejected %zu, pending %zu; it should be held",
                 c->what, st.delivered, st.rejected, st.pending);
    /* the bad op again: rejected again, and the op naming it still held */
    st = lb_ingest1(l, c->bytes, c->len);
    if (st.delivered || st.rejected != 1)
        fail_msg("%s, again: delivered %zu, rejected %zu", c->what, st.delivered, st.rejected);
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.pending, 1);
    assert_false(pg_ledger_has(l, &child.id));
    assert_false(pg_ledger_has(l, &bad_id));
    same_state(l, &before, c->what);
    free(child.bytes);

    /* the same through pg_ledger_append: refused, nothing stored */
    if (c->append_key) {
        pg_ledger_id id;
        memset(&id, 0, sizeof id);
        rc = pg_ledger_append(l, c->append_key, &c->append_p, &id, &err);
        bool ok = c->append_rc == APPEND_REFUSED ? (rc == PG_EAUTH || rc == PG_EMODEL)
                                                 : rc == c->append_rc;
        if (!ok)
            fail_msg("%s: pg_ledger_append returned %d (%s), %d expected", c->what, rc, err.msg,
                     c->append_rc);
        if (!err.msg[0])
            fail_msg("%s: pg_ledger_append refused without saying why", c->what);
        same_state(l, &before, c->what);
    }

    /* the file still verifies: nothing of it was stored */
    pg_ledger_verify_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(pg_ledger_verify_file(path, NULL, &rep, &err), PG_OK);
    if (rep.n_problems)
        fail_msg("%s: verify found %zu problems (first: %s)", c->what, rep.n_problems,
                 rep.problems[0].what);
    assert_int_equal(rep.ops, before.count);
    pg_ledger_verify_report_free(&rep);
}

static void
test_each_bad_op(void **state)
{
    (void)state;
    fixture f = make_fixture();
    build_cases(&f);
    pg_ledger_options o = options();
    char path[4096];
    snprintf(path, sizeof path, "%s/byz.db", pgt_tmpdir());
    for (size_t i = 0; i < n_cases; i++) {
        print_message("case: %s\n", cases[i].what);
        pg_ledger *l = open_base(path, &f, &o);
        run_case(l, &f, &cases[i], path);
        /* ...and the honest ops still go on: an op on the current heads is delivered */
        pg_ledger_id h[8];
        size_t nh = lt_heads(l, h, 8);
        pg_ledger_payload p = lb_counter("energy", 1);
        lb_op ok = lb_encode(&A, h, nh, &p);
        lb_expect_stats(lb_ingest1(l, ok.bytes, ok.len), 1, 0, 0, cases[i].what);
        free(ok.bytes);
        pg_ledger_close(l);
    }
    free_cases();
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* Valid limits, for contrast: a delta of exactly 2^53 and -2^53 is accepted, and a counter
 * saturates instead of overflowing. */
static void
test_counter_limits(void **state)
{
    (void)state;
    fixture f = make_fixture();
    pg_ledger_options o = options();
    char path[4096];
    snprintf(path, sizeof path, "%s/limits.db", pgt_tmpdir());
    pg_ledger *l = open_base(path, &f, &o);
    const int64_t lim = (int64_t)1 << 53;
    pg_error err = {0};
    pg_ledger_payload p = lb_counter("big", lim + 1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = pg_ledger_op_encode(&A, &f.pool->op[f.cnt].id, 1, &p, &bytes, &len, &err);
    assert_true(rc == PG_EINVAL || rc == PG_ELIMIT);
    assert_null(bytes);
    rc = pg_ledger_append(l, &A, &p, NULL, &err);
    assert_true(rc == PG_EINVAL || rc == PG_ELIMIT);
    /* 1025 * 2^53 > 2^63 - 1, on a chain of ops ingested at once */
    const char *names[2] = {"big", "small"};
    size_t prev = f.cnt;
    for (int side = 0; side < 2; side++) {
        p = lb_counter(names[side], side ? -lim : lim);
        size_t *chain = malloc(1025 * sizeof *chain);
        assert_non_null(chain);
        for (int i = 0; i < 1025; i++)
            chain[i] = prev = lb_pool_add(f.pool, i % 2 ? &A : &B, &prev, 1, &p);
        lb_expect_stats(lb_ingest_idx(l, f.pool, chain, 1025), 1025, 0, 0, "a long chain");
        free(chain);
    }
    assert_int_equal(pg_ledger_counter_get(l, "big"), INT64_MAX);
    /* the negative sum saturates too: P - N with N at its limit */
    assert_true(pg_ledger_counter_get(l, "small") <= INT64_MIN + 1);
    /* a plain mix adds up exactly */
    p = lb_counter("mix", lim);
    assert_int_equal(pg_ledger_append(l, &A, &p, NULL, &err), PG_OK);
    p = lb_counter("mix", -(lim - 7));
    assert_int_equal(pg_ledger_append(l, &B, &p, NULL, &err), PG_OK);
    assert_int_equal(pg_ledger_counter_get(l, "mix"), 7);
    pg_ledger_close(l);
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* A checker refusing a result: the result is rejected, and the checker saw its gate then the
 * gate's bids. */
typedef struct seen_refs {
    size_t calls;
    pg_ledger_id refs[8];
    size_t n_refs;
    uint32_t type;
} seen_refs;

static int
check_result(void *ctx, const pg_ledger_op *rec, const pg_ledger_op *const *refs, size_t n_refs,
             pg_error *err)
{
    seen_refs *s = ctx;
    s->calls++;
    s->type = rec->payload.record.type;
    if (rec->payload.record.type != PG_LEDGER_RESULT)
        return PG_OK;
    s->n_refs = n_refs;
    for (size_t i = 0; i < n_refs && i < 8; i++)
        s->refs[i] = refs[i]->id;
    if (rec->payload.record.body_len == 2 && memcmp(rec->payload.record.body, "ok", 2) == 0)
        return PG_OK;
    return pg_error_set(err, PG_EMODEL, "the result is not what the gate's bids clear to");
}

static void
test_checker(void **state)
{
    (void)state;
    fixture f = make_fixture();
    seen_refs s;
    memset(&s, 0, sizeof s);
    pg_ledger_checker chk = {"a test's market", &s, check_result};
    pg_ledger_options o = options();
    o.checker = &chk;
    char path[4096];
    snprintf(path, sizeof path, "%s/checker.db", pgt_tmpdir());
    pg_ledger *l = open_base(path, &f, &o);
    lb_expect_stats(lb_ingest_idx(l, f.pool, &f.gate, 1), 1, 0, 0, "the gate");
    snap before = take(l);
    pg_ledger_payload p =
        lb_record(PG_LEDGER_RESULT, 1, 1, NULL, &f.pool->op[f.gate].id, 1, "wrong");
    lb_op bad = make(&f, &O, LB_PREDS(f.gate), &p);
    s.calls = 0;
    reset_rejects();
    lb_expect_stats(lb_ingest1(l, bad.bytes, bad.len), 0, 0, 1, "a result the checker refuses");
    assert_true(s.calls >= 1);
    assert_int_equal(s.type, PG_LEDGER_RESULT);
    assert_int_equal(s.n_refs, 3); /* the gate, then its two bids */
    assert_true(lb_id_eq(&s.refs[0], &f.pool->op[f.gate].id));
    assert_true(lb_id_eq(&s.refs[1], &f.pool->op[f.bid_b].id) ||
                lb_id_eq(&s.refs[1], &f.pool->op[f.bid_c].id));
    assert_true(lb_id_eq(&s.refs[2], &f.pool->op[f.bid_b].id) ||
                lb_id_eq(&s.refs[2], &f.pool->op[f.bid_c].id));
    assert_false(lb_id_eq(&s.refs[1], &s.refs[2]));
    assert_int_equal(n_rejects, 1);
    assert_non_null(strstr(last_why, "clear to"));
    assert_false(pg_ledger_has(l, &bad.id));
    same_state(l, &before, "a refused result");
    pg_error err = {0};
    assert_int_equal(pg_ledger_append(l, &O, &p, NULL, &err), PG_EMODEL);
    same_state(l, &before, "a refused result appended");
    /* the right one is accepted */
    p = lb_record(PG_LEDGER_RESULT, 1, 1, NULL, &f.pool->op[f.gate].id, 1, "ok");
    lb_op good = make(&f, &O, LB_PREDS(f.gate), &p);
    lb_expect_stats(lb_ingest1(l, good.bytes, good.len), 1, 0, 0, "a result the checker accepts");
    pg_ledger_close(l);
    /* verify with the checker: recomputed, no problem */
    pg_ledger_verify_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(pg_ledger_verify_file(path, &chk, &rep, &err), PG_OK);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.results_recomputed, 1);
    assert_int_equal(rep.results_unchecked, 0);
    pg_ledger_verify_report_free(&rep);
    free(bad.bytes);
    free(good.bytes);
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* A predecessor that never arrives: the op is held, never applied; the pending set is bounded by
 * max_pending (the oldest dropped and counted, reported); a dropped op received again later is
 * delivered normally. */
static void
test_missing_predecessor(void **state)
{
    (void)state;
    fixture f = make_fixture();
    pg_ledger_options o = options();
    o.max_pending = 4;
    char path[4096];
    snprintf(path, sizeof path, "%s/pending.db", pgt_tmpdir());
    pg_ledger *l = open_base(path, &f, &o);
    snap before = take(l);

    /* a chain m, o1 .. o10 by a; m never sent at first */
    pg_ledger_payload p = lb_register("meta", "m");
    size_t m = lb_pool_add(f.pool, &A, LB_PREDS(f.cnt), &p);
    size_t chain[10];
    size_t prev = m;
    for (int i = 0; i < 10; i++) {
        char v[32];
        snprintf(v, sizeof v, "o%d", i + 1);
        p = lb_register("meta", v);
        chain[i] = prev = lb_pool_add(f.pool, i % 2 ? &A : &B, &prev, 1, &p);
    }
    reset_rejects();
    for (int i = 0; i < 10; i++) {
        pg_ledger_ingest_stats st = lb_ingest_idx(l, f.pool, &chain[i], 1);
        lb_expect_stats(st, 0, 0, 0, "an op whose predecessor is missing");
        assert_int_equal(st.pending, 1);
        pg_ledger_stats s;
        pg_ledger_get_stats(l, &s);
        assert_int_equal(s.pending, i < 4 ? i + 1 : 4);
        assert_int_equal(s.dropped, i < 4 ? 0 : i - 3);
        assert_false(pg_ledger_has(l, &f.pool->op[chain[i]].id));
    }
    same_state(l, &before, "held ops");
    assert_int_equal(n_rejects, 6); /* each dropped op reported */
    assert_true(last_reject_has_id);
    assert_true(lb_id_eq(&last_reject, &f.pool->op[chain[5]].id));
    /* the same held op again: still one held, nothing dropped; it is not a duplicate (that is
     * an op already delivered), which is checked last, after everything is closed */
    pg_ledger_ingest_stats held_again[3];
    for (int k = 0; k < 3; k++)
        held_again[k] = lb_ingest_idx(l, f.pool, &chain[9], 1);
    pg_ledger_stats s;
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.pending, 4);
    assert_int_equal(s.dropped, 6);

    /* m arrives: only m is delivered (o1 .. o6 were dropped; o7 waits for o6) */
    lb_expect_stats(lb_ingest_idx(l, f.pool, &m, 1), 1, 0, 0, "the missing predecessor");
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.pending, 4);
    /* o1 .. o6 again: all ten delivered, in order */
    pg_ledger_ingest_stats st = lb_ingest_idx(l, f.pool, chain, 6);
    lb_expect_stats(st, 10, 0, 0, "the dropped ops again");
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.pending, 0);
    assert_int_equal(pg_ledger_count(l), before.count + 11);
    pg_ledger_id h[4];
    assert_int_equal(lt_heads(l, h, 4), 1);
    assert_true(lb_id_eq(&h[0], &f.pool->op[chain[9]].id));
    void *v = NULL;
    size_t len = 0;
    pg_error err = {0};
    assert_int_equal(pg_ledger_register_get(l, &B.pk, "meta", &v, &len, &err), PG_OK);
    assert_int_equal(len, 2); /* b wrote o1, o3, ... o9: the highest is o9 */
    assert_memory_equal(v, "o9", 2);
    free(v);
    pg_ledger_close(l);

    /* the byte bound: ops held beyond max_pending_bytes are dropped too */
    o.max_pending = 1000;
    o.max_pending_bytes = 3 * f.pool->op[chain[0]].len + 10;
    l = open_base(path, &f, &o);
    reset_rejects();
    for (int i = 0; i < 10; i++)
        lb_ingest_idx(l, f.pool, &chain[i], 1);
    pg_ledger_get_stats(l, &s);
    assert_true(s.pending >= 1 && s.pending <= 3);
    assert_int_equal(s.dropped, 10 - s.pending);
    assert_int_equal(n_rejects, s.dropped);
    pg_ledger_close(l);

    /* an op never completed never shows, after a reopen either */
    o = options();
    l = lb_open(path, NULL, &o);
    assert_int_equal(pg_ledger_count(l), f.n_base);
    for (int i = 0; i < 10; i++)
        assert_false(pg_ledger_has(l, &f.pool->op[chain[i]].id));
    pg_ledger_close(l);
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
    for (int k = 0; k < 3; k++)
        lb_expect_stats(held_again[k], 0, 0, 0, "an op held, received again");
}

/* Replays: every op of the base again, alone, in one batch and twice in one batch, and the
 * genesis: counted as duplicates, the state unchanged. */
static void
test_replay(void **state)
{
    (void)state;
    fixture f = make_fixture();
    pg_ledger_options o = options();
    char path[4096];
    snprintf(path, sizeof path, "%s/replay.db", pgt_tmpdir());
    pg_ledger *l = open_base(path, &f, &o);
    snap before = take(l);
    reset_rejects();
    lb_expect_stats(lb_ingest_idx(l, f.pool, &f.a1, 1), 0, 1, 0, "a replayed op");
    lb_expect_stats(lb_ingest_idx(l, f.pool, &f.g, 1), 0, 1, 0, "the genesis replayed");
    size_t all[32], n = 0;
    for (size_t i = 0; i < f.n_base; i++)
        all[n++] = i;
    for (size_t i = 0; i < f.n_base; i++)
        all[n++] = f.n_base - 1 - i;
    lb_expect_stats(lb_ingest_idx(l, f.pool, all, n), 0, n, 0, "every op twice");
    same_state(l, &before, "replays");
    pg_ledger_stats s;
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.duplicate, before.st.duplicate + 2 + n);
    assert_int_equal(s.rejected, 0);
    assert_int_equal(n_rejects, 0);
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 5);
    /* a new op delivered together with its own replay */
    pg_ledger_payload p = lb_counter("energy", 3);
    size_t k = lb_pool_add(f.pool, &A, LB_PREDS(f.cnt), &p);
    size_t twice[2] = {k, k};
    lb_expect_stats(lb_ingest_idx(l, f.pool, twice, 2), 1, 1, 0, "an op twice in one batch");
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 8);
    lb_expect_stats(lb_ingest_idx(l, f.pool, &k, 1), 0, 1, 0, "it again");
    assert_int_equal(pg_ledger_counter_get(l, "energy"), 8);
    pg_ledger_close(l);
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* An author who equivocates: a signs two (then three) different ops on the same heads. All are
 * delivered on every copy, in any order; each copy counts one equivocation per op after the
 * first; the copies converge (the register is the write with the greater id at the same
 * height); verify shows them. */
static void
test_equivocation(void **state)
{
    (void)state;
    fixture f = make_fixture();
    pg_ledger_options o = options();
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s/eq1.db", pgt_tmpdir());
    snprintf(p2, sizeof p2, "%s/eq2.db", pgt_tmpdir());
    pg_ledger *l1 = open_base(p1, &f, &o), *l2 = open_base(p2, &f, &o);
    pg_ledger_payload p = lb_register("meta", "x");
    size_t x = lb_pool_add(f.pool, &A, LB_PREDS(f.cnt), &p);
    p = lb_register("meta", "y");
    size_t y = lb_pool_add(f.pool, &A, LB_PREDS(f.cnt), &p);
    lb_expect_stats(lb_ingest_idx(l1, f.pool, &x, 1), 1, 0, 0, "x");
    lb_expect_stats(lb_ingest_idx(l1, f.pool, &y, 1), 1, 0, 0, "y after x");
    size_t yx[2] = {y, x};
    lb_expect_stats(lb_ingest_idx(l2, f.pool, yx, 2), 2, 0, 0, "y and x");
    pg_ledger *ls[2] = {l1, l2};
    const char *want = memcmp(f.pool->op[x].id.b, f.pool->op[y].id.b, 32) > 0 ? "x" : "y";
    pg_ledger_id h1[4], h2[4];
    for (int i = 0; i < 2; i++) {
        pg_ledger_stats s;
        pg_ledger_get_stats(ls[i], &s);
        assert_int_equal(s.equivocations, 1);
        assert_int_equal(s.rejected, 0);
        void *v = NULL;
        size_t len = 0;
        pg_error err = {0};
        assert_int_equal(pg_ledger_register_get(ls[i], &A.pk, "meta", &v, &len, &err), PG_OK);
        assert_int_equal(len, 1);
        assert_memory_equal(v, want, 1);
        free(v);
    }
    assert_int_equal(lt_heads(l1, h1, 4), 2);
    assert_int_equal(lt_heads(l2, h2, 4), 2);
    assert_memory_equal(h1, h2, 2 * sizeof *h1);
    snap s1 = take(l1), s2 = take(l2);
    assert_true(lb_id_eq(&s1.heads, &s2.heads));
    assert_true(lb_id_eq(&s1.state, &s2.state));
    /* a third op on the same heads: a second equivocation, on both */
    pg_ledger_payload c = lb_counter("energy", 100);
    size_t z = lb_pool_add(f.pool, &A, LB_PREDS(f.cnt), &c);
    lb_expect_stats(lb_ingest_idx(l1, f.pool, &z, 1), 1, 0, 0, "z");
    lb_expect_stats(lb_ingest_idx(l2, f.pool, &z, 1), 1, 0, 0, "z");
    for (int i = 0; i < 2; i++) {
        pg_ledger_stats s;
        pg_ledger_get_stats(ls[i], &s);
        assert_int_equal(s.equivocations, 2);
        assert_int_equal(lt_heads(ls[i], h1, 4), 3);
        assert_int_equal(pg_ledger_counter_get(ls[i], "energy"), 105);
    }
    s1 = take(l1), s2 = take(l2);
    assert_true(lb_id_eq(&s1.state, &s2.state));
    /* an honest op on all three merges them */
    c = lb_counter("energy", 2);
    size_t merge = lb_pool_add(f.pool, &B, LB_PREDS(x, y, z), &c);
    lb_expect_stats(lb_ingest_idx(l1, f.pool, &merge, 1), 1, 0, 0, "the merge");
    lb_expect_stats(lb_ingest_idx(l2, f.pool, &merge, 1), 1, 0, 0, "the merge");
    s1 = take(l1), s2 = take(l2);
    assert_true(lb_id_eq(&s1.state, &s2.state));
    assert_int_equal(pg_ledger_counter_get(l1, "energy"), 107);
    assert_int_equal(lt_heads(l1, h1, 4), 1);
    pg_ledger_close(l1);
    pg_ledger_close(l2);
    for (int i = 0; i < 2; i++) {
        pg_ledger_verify_report rep;
        memset(&rep, 0, sizeof rep);
        pg_error err = {0};
        assert_int_equal(pg_ledger_verify_file(i ? p2 : p1, NULL, &rep, &err), PG_OK);
        assert_int_equal(rep.n_problems, 0);
        assert_int_equal(rep.equivocations, 2);
        assert_true(lb_id_eq(&rep.state_digest, &s1.state));
        pg_ledger_verify_report_free(&rep);
    }
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* Garbage: nothing, short and random bytes, every truncation of a valid op, a trailing byte,
 * another version or kind, unsorted, repeated or miscounted predecessors, a bad name, a payload
 * length that lies (each signed again, so only the structure is wrong). All rejected, each
 * counted once and reported without an id, nothing applied. */
static void
test_garbage(void **state)
{
    (void)state;
    fixture f = make_fixture();
    pg_ledger_options o = options();
    char path[4096];
    snprintf(path, sizeof path, "%s/garbage.db", pgt_tmpdir());
    pg_ledger *l = open_base(path, &f, &o);
    snap before = take(l);
    reset_rejects();
    size_t sent = 0;
    uint64_t rng = 77;
    uint8_t buf[600];
    lb_expect_stats(lb_ingest1(l, "", 0), 0, 0, 1, "nothing"), sent++;
    lb_expect_stats(lb_ingest1(l, "P", 1), 0, 0, 1, "one byte"), sent++;
    lb_expect_stats(lb_ingest1(l, "PGL", 3), 0, 0, 1, "the magic"), sent++;
    for (int i = 0; i < 50; i++) {
        size_t len = 1 + lb_below(&rng, sizeof buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)lb_rand(&rng);
        if (i % 2) /* with the right magic and version */
            memcpy(buf, "PGL\x01", len < 4 ? len : 4);
        lb_expect_stats(lb_ingest1(l, buf, len), 0, 0, 1, "random bytes"), sent++;
    }
    const lb_op *v = &f.pool->op[f.cnt];
    for (size_t len = 0; len < v->len; len++)
        lb_expect_stats(lb_ingest1(l, v->bytes, len), 0, 0, 1, "a truncated op"), sent++;
    size_t n_undecodable = sent;

    uint8_t *e = malloc(v->len + 64);
    assert_non_null(e);
    memcpy(e, v->bytes, v->len);
    e[v->len] = 0;
    lb_expect_stats(lb_ingest1(l, e, v->len + 1), 0, 0, 1, "a trailing byte"), sent++;

    /* structural edits, signed again by the op's author (b) */
    struct {
        const char *what;
        size_t at;
        uint8_t value;
    } edits[] = {{"version 2", 3, 2},
                 {"version 0", 3, 0},
                 {"kind 0", LB_OFF_KIND, 0},
                 {"kind 7", LB_OFF_KIND, 7},
                 {"kind 255", LB_OFF_KIND, 255},
                 {"two preds counted, one there", LB_OFF_NPREDS, 2},
                 {"no pred counted, one there", LB_OFF_NPREDS, 0}};
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        memcpy(e, v->bytes, v->len);
        e[edits[i].at] = edits[i].value;
        lb_resign(&B, e, v->len);
        lb_expect_stats(lb_ingest1(l, e, v->len), 0, 0, 1, edits[i].what), sent++;
    }
    /* the payload length one more and one less than the payload */
    {
        size_t pl = LB_OFF_PREDS + 32; /* one pred */
        uint32_t plen = (uint32_t)e[pl] | (uint32_t)e[pl + 1] << 8 | (uint32_t)e[pl + 2] << 16 |
                        (uint32_t)e[pl + 3] << 24;
        memcpy(e, v->bytes, v->len);
        assert_int_equal(plen + pl + 4 + 64, v->len);
        for (int d = -1; d <= 1; d += 2) {
            memcpy(e, v->bytes, v->len);
            uint32_t nl = plen + (uint32_t)d;
            for (int k = 0; k < 4; k++)
                e[pl + k] = (uint8_t)(nl >> (8 * k));
            lb_resign(&B, e, v->len);
            lb_expect_stats(lb_ingest1(l, e, v->len), 0, 0, 1, "a payload length that lies"),
                sent++;
        }
    }
    /* a counter name that is not a name (a space in it) */
    {
        memcpy(e, v->bytes, v->len);
        long at = lb_find(e, v->len, "energy", 6);
        assert_true(at > 0);
        e[at + 2] = ' ';
        lb_resign(&B, e, v->len);
        lb_expect_stats(lb_ingest1(l, e, v->len), 0, 0, 1, "a bad counter name"), sent++;
    }
    /* unsorted and repeated predecessors */
    {
        pg_ledger_payload p = lb_counter("energy", 1);
        pg_ledger_id two[2] = {f.pool->op[f.a1].id, f.pool->op[f.cnt].id};
        lb_op t = lb_encode(&B, two, 2, &p);
        uint8_t *x = t.bytes;
        uint8_t tmp[32];
        memcpy(tmp, x + LB_OFF_PREDS, 32);
        memcpy(x + LB_OFF_PREDS, x + LB_OFF_PREDS + 32, 32);
        memcpy(x + LB_OFF_PREDS + 32, tmp, 32);
        lb_resign(&B, x, t.len);
        lb_expect_stats(lb_ingest1(l, x, t.len), 0, 0, 1, "unsorted predecessors"), sent++;
        memcpy(x + LB_OFF_PREDS, x + LB_OFF_PREDS + 32, 32);
        lb_resign(&B, x, t.len);
        lb_expect_stats(lb_ingest1(l, x, t.len), 0, 0, 1, "a repeated predecessor"), sent++;
        free(t.bytes);
    }
    free(e);
    /* all of them in one batch: each counted once */
    size_t n_batch = 0;
    const void *ops[8];
    size_t lens[8];
    ops[n_batch] = "garbage", lens[n_batch++] = 7;
    ops[n_batch] = v->bytes, lens[n_batch++] = v->len - 1;
    ops[n_batch] = v->bytes, lens[n_batch++] = v->len; /* a duplicate among them */
    ops[n_batch] = "PGL\x01", lens[n_batch++] = 4;
    pg_ledger_ingest_stats st;
    pg_error err = {0};
    assert_int_equal(pg_ledger_ingest(l, ops, lens, n_batch, &st, &err), PG_OK);
    lb_expect_stats(st, 0, 1, 3, "a batch of garbage and a duplicate");
    sent += 3;

    same_state(l, &before, "garbage");
    pg_ledger_stats s;
    pg_ledger_get_stats(l, &s);
    assert_int_equal(s.rejected, sent);
    assert_int_equal(s.pending, 0);
    assert_int_equal(n_rejects, sent);
    assert_true(n_rejects_null >= n_undecodable);
    pg_ledger_close(l);
    pg_ledger_verify_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(pg_ledger_verify_file(path, NULL, &rep, &err), PG_OK);
    assert_int_equal(rep.n_problems, 0);
    assert_int_equal(rep.ops, f.n_base);
    pg_ledger_verify_report_free(&rep);
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* Honest copies converge on what is valid: three copies receive the honest ops (the base, the
 * gate, a valid result, honest ops on top) and every bad op and ops naming them, in different
 * random orders and batches; a fourth receives only the honest ops. All four end in the same
 * state; each of the three rejected exactly the bad ops and holds exactly the ops naming them. */
static void
test_mixed_stream(void **state)
{
    (void)state;
    fixture f = make_fixture();
    build_cases(&f);
    pg_ledger_payload p =
        lb_record(PG_LEDGER_RESULT, 1, 1, NULL, &f.pool->op[f.gate].id, 1, "result-1");
    size_t res = lb_pool_add(f.pool, &O, LB_PREDS(f.gate), &p);
    p = lb_register("meta", "b-1");
    size_t top1 = lb_pool_add(f.pool, &B, LB_PREDS(res), &p);
    p = lb_counter("energy", 11);
    size_t top2 = lb_pool_add(f.pool, &C, LB_PREDS(res), &p);
    (void)top1, (void)top2;
    size_t n_honest = f.pool->n;

    /* bad ops and, for each, an honest-looking op naming it */
    size_t n_bad = n_cases;
    const void **ops = calloc(n_honest + 2 * n_bad, sizeof *ops);
    size_t *lens = calloc(n_honest + 2 * n_bad, sizeof *lens);
    lb_op *children = calloc(n_bad, sizeof *children);
    assert_true(ops && lens && children);
    for (size_t i = 0; i < n_bad; i++) {
        pg_ledger_id preds[2] = {f.pool->op[f.cnt].id, lb_hash(cases[i].bytes, cases[i].len)};
        p = lb_counter("energy", 1000);
        children[i] = lb_encode(&B, preds, 2, &p);
    }
    pg_ledger_options o = options();
    char path[4][4096];
    snap s[4];
    for (int c = 0; c < 4; c++) {
        snprintf(path[c], sizeof path[c], "%s/mixed-%d.db", pgt_tmpdir(), c);
        pg_ledger *l = lb_open(path[c], &f.pool->op[f.g], &o);
        size_t n = 0;
        for (size_t i = 1; i < n_honest; i++)
            ops[n] = f.pool->op[i].bytes, lens[n++] = f.pool->op[i].len;
        if (c < 3)
            for (size_t i = 0; i < n_bad; i++) {
                ops[n] = cases[i].bytes, lens[n++] = cases[i].len;
                ops[n] = children[i].bytes, lens[n++] = children[i].len;
            }
        uint64_t rng = 500 + (uint64_t)c;
        for (size_t i = n; i > 1; i--) {
            size_t j = lb_below(&rng, i);
            const void *t = ops[i - 1];
            ops[i - 1] = ops[j], ops[j] = t;
            size_t tl = lens[i - 1];
            lens[i - 1] = lens[j], lens[j] = tl;
        }
        reset_rejects();
        size_t delivered = 0, rejected = 0;
        for (size_t at = 0; at < n;) {
            size_t b = 1 + lb_below(&rng, 7);
            if (b > n - at)
                b = n - at;
            pg_ledger_ingest_stats st;
            pg_error err = {0};
            assert_int_equal(pg_ledger_ingest(l, ops + at, lens + at, b, &st, &err), PG_OK);
            delivered += st.delivered;
            rejected += st.rejected;
            assert_int_equal(st.duplicate, 0);
            at += b;
        }
        assert_int_equal(delivered, n_honest - 1);
        assert_int_equal(rejected, c < 3 ? n_bad : 0);
        assert_int_equal(n_rejects, c < 3 ? n_bad : 0);
        pg_ledger_stats ls;
        pg_ledger_get_stats(l, &ls);
        assert_int_equal(ls.pending, c < 3 ? n_bad : 0);
        assert_int_equal(ls.rejected, c < 3 ? n_bad : 0);
        assert_int_equal(ls.equivocations, 0);
        assert_int_equal(pg_ledger_count(l), n_honest);
        for (size_t i = 0; i < n_bad; i++) {
            pg_ledger_id bid = lb_hash(cases[i].bytes, cases[i].len);
            assert_false(pg_ledger_has(l, &bid));
            assert_false(pg_ledger_has(l, &children[i].id));
        }
        assert_int_equal(pg_ledger_counter_get(l, "energy"), 5 + 11);
        s[c] = take(l);
        pg_ledger_close(l);
    }
    for (int c = 1; c < 4; c++) {
        assert_true(lb_id_eq(&s[c].heads, &s[0].heads));
        assert_true(lb_id_eq(&s[c].state, &s[0].state));
    }
    for (size_t i = 0; i < n_bad; i++)
        free(children[i].bytes);
    free(children);
    free(ops);
    free(lens);
    free_cases();
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

/* Validity is judged from an op's causal past only, never from the receiving copy's state now:
 * the genesis key admits d, then removes it; an op d made concurrently with the removal (its past
 * has the admission, not the removal) is valid on a copy where d is no longer a member; an op of
 * d on the removal is invalid, also on a copy where a later re-admission (not in that op's past)
 * made d a member again; an op of d on the re-admission is valid. Two copies receiving these in
 * opposite orders agree. */
static void
test_causal_past(void **state)
{
    (void)state;
    fixture f = make_fixture();
    pg_ledger_payload p = lb_member_add("d", &D);
    size_t add = lb_pool_add(f.pool, &G, LB_PREDS(f.cnt), &p);
    p = lb_member_remove(&D, &f.pool->op[add].id, 1);
    size_t rm = lb_pool_add(f.pool, &G, LB_PREDS(add), &p);
    p = lb_register("meta", "d-concurrent");
    size_t d1 = lb_pool_add(f.pool, &D, LB_PREDS(add), &p); /* valid: its past admits d */
    p = lb_member_add("d", &D);
    size_t again = lb_pool_add(f.pool, &G, LB_PREDS(rm, d1), &p);
    p = lb_register("meta", "d-removed");
    lb_op d2 = make(&f, &D, LB_PREDS(rm, d1), &p); /* invalid: its past removes d */
    p = lb_register("meta", "d-back");
    size_t d3 = lb_pool_add(f.pool, &D, LB_PREDS(again), &p); /* valid */
    pg_ledger_options o = options();
    char path[2][4096];
    snap s[2];
    for (int c = 0; c < 2; c++) {
        snprintf(path[c], sizeof path[c], "%s/causal-%d.db", pgt_tmpdir(), c);
        pg_ledger *l = open_base(path[c], &f, &o);
        reset_rejects();
        if (c == 0) {
            /* d removed here before its concurrent op arrives */
            lb_expect_stats(lb_ingest_idx(l, f.pool, LB_PREDS(add, rm)), 2, 0, 0, "add, remove");
            assert_null(pg_ledger_member_name(l, &D.pk));
            lb_expect_stats(lb_ingest_idx(l, f.pool, &d1, 1), 1, 0, 0,
                            "an op of d concurrent with its removal");
            /* d a member again here, but not in d2's past */
            lb_expect_stats(lb_ingest_idx(l, f.pool, &again, 1), 1, 0, 0, "the re-admission");
            assert_non_null(pg_ledger_member_name(l, &D.pk));
            lb_expect_stats(lb_ingest1(l, d2.bytes, d2.len), 0, 0, 1, "an op of d on its removal");
            lb_expect_stats(lb_ingest_idx(l, f.pool, &d3, 1), 1, 0, 0,
                            "an op of d on its re-admission");
        } else {
            /* everything at once, the invalid op first, successors before predecessors */
            const void *ops[6] = {d2.bytes,
                                  f.pool->op[d3].bytes,
                                  f.pool->op[again].bytes,
                                  f.pool->op[d1].bytes,
                                  f.pool->op[rm].bytes,
                                  f.pool->op[add].bytes};
            size_t lens[6] = {d2.len,
                              f.pool->op[d3].len,
                              f.pool->op[again].len,
                              f.pool->op[d1].len,
                              f.pool->op[rm].len,
                              f.pool->op[add].len};
            pg_ledger_ingest_stats st;
            pg_error err = {0};
            assert_int_equal(pg_ledger_ingest(l, ops, lens, 6, &st, &err), PG_OK);
            lb_expect_stats(st, 5, 0, 1, "all at once");
        }
        assert_int_equal(n_rejects, 1);
        assert_true(lb_id_eq(&last_reject, &d2.id));
        assert_false(pg_ledger_has(l, &d2.id));
        void *v = NULL;
        size_t len = 0;
        pg_error err = {0};
        assert_int_equal(pg_ledger_register_get(l, &D.pk, "meta", &v, &len, &err), PG_OK);
        assert_int_equal(len, 6);
        assert_memory_equal(v, "d-back", 6);
        free(v);
        assert_string_equal(pg_ledger_member_name(l, &D.pk), "d");
        s[c] = take(l);
        pg_ledger_close(l);
    }
    assert_true(lb_id_eq(&s[0].heads, &s[1].heads));
    assert_true(lb_id_eq(&s[0].state, &s[1].state));
    free(d2.bytes);
    lb_pool_free(f.pool);
    pgt_tmpdir_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_bad_op), cmocka_unit_test(test_counter_limits),
        cmocka_unit_test(test_checker),     cmocka_unit_test(test_missing_predecessor),
        cmocka_unit_test(test_replay),      cmocka_unit_test(test_equivocation),
        cmocka_unit_test(test_garbage),     cmocka_unit_test(test_mixed_stream),
        cmocka_unit_test(test_causal_past),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
