/* Convergence of ledger copies: five copies, each in its own SQLite file, receive the same ops
 * (several authors; members added, removed by the genesis key, re-added concurrently, removing
 * themselves; registers written on concurrent branches at equal heights; counters; bids, a gate,
 * a result, a settlement and a demand-response record; then 150 random ops on a random graph) in
 * random orders (seeded), in random batches, with duplicates of ops already delivered, ops held
 * back and delivered late (so successors arrive before their predecessors), and a partition:
 * two copies see one side's ops and three the other's, then they heal by reading each other's
 * stored ops (pg_ledger_each, pg_ledger_get). Every ingest's counts are checked against a
 * simulation of causal delivery (delivered, duplicate, held), and at the end every copy has the
 * same heads (computed here from the graph), heads digest, state digest, members, register values
 * and counter sums (computed here by hand and by a reference model); reopened from disk, each
 * copy is in the same state; pg_ledger_verify_file finds nothing; ops appended concurrently on
 * four copies then exchanged converge too. */
#include "harness.h"
#include "unit/ledger/ledger_build.h"

#define N_COPIES 5
#define N_RANDOM 150

typedef struct copy {
    char path[4096];
    pg_ledger *l;
    bool got[LB_MAX_OPS];  /* delivered, by the simulation */
    bool sent[LB_MAX_OPS]; /* received at least once */
} copy;

static size_t n_rejects;
static size_t n_dups_sent, max_held; /* the test tested something */

static void
on_reject(void *ud, const pg_ledger_id *id, const char *why)
{
    (void)ud;
    n_rejects++;
    print_error("unexpected rejection of %s: %s\n", id ? lb_hex(id) : "(undecodable)",
                why ? why : "(no reason)");
}

static pg_ledger_options
options(void)
{
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.reject = on_reject;
    return o;
}

/* Causal delivery as the ledger must do it: every op received whose predecessors are all
 * delivered is delivered, until nothing changes. Returns how many were newly delivered. */
static size_t
simulate(copy *c, const lb_pool *pool)
{
    size_t n = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < pool->n; i++) {
            if (!c->sent[i] || c->got[i])
                continue;
            bool ready = true;
            for (size_t j = 0; j < pool->op[i].n_preds && ready; j++)
                ready = c->got[pool->op[i].preds[j]];
            if (ready) {
                c->got[i] = true;
                changed = true;
                n++;
            }
        }
    }
    return n;
}

static size_t
held(const copy *c, const lb_pool *pool)
{
    size_t n = 0;
    for (size_t i = 0; i < pool->n; i++)
        n += c->sent[i] && !c->got[i];
    return n;
}

/* Delivers the pool ops idx[0..n) to c: held-back ops (about one in five, and always the first)
 * moved to the end, the rest in the given order, in random batches of 1 to 6 with, now and then,
 * a duplicate of an op the copy already has; every call's counts checked. */
static void
deliver(copy *c, const lb_pool *pool, const size_t *idx_in, size_t n, uint64_t *rng)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    bool *late = calloc(n ? n : 1, sizeof *late);
    assert_true(idx && late);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        late[i] = i == 0 || lb_below(rng, 5) == 0;
        if (!late[i])
            idx[k++] = idx_in[i];
    }
    for (size_t i = 0; i < n; i++)
        if (late[i])
            idx[k++] = idx_in[i];
    free(late);
    for (size_t at = 0; at < n;) {
        size_t b = 1 + lb_below(rng, 6);
        if (b > n - at)
            b = n - at;
        size_t batch[8];
        size_t nb = 0, dups = 0;
        /* a duplicate of a delivered op, at a random place in the batch */
        size_t dup_at = lb_below(rng, 3) == 0 ? lb_below(rng, b + 1) : SIZE_MAX;
        for (size_t j = 0; j <= b; j++) {
            if (j == dup_at) {
                size_t pick = lb_below(rng, pool->n);
                for (size_t t = 0; t < pool->n && !c->got[pick]; t++)
                    pick = (pick + 1) % pool->n;
                batch[nb++] = pick;
                dups++;
            }
            if (j < b)
                batch[nb++] = idx[at + j];
        }
        for (size_t j = 0; j < nb; j++)
            c->sent[batch[j]] = true;
        size_t expect = simulate(c, pool);
        pg_ledger_ingest_stats st = lb_ingest_idx(c->l, pool, batch, nb);
        lb_expect_stats(st, expect, dups, 0, c->path);
        n_dups_sent += dups;
        if (held(c, pool) > max_held)
            max_held = held(c, pool);
        pg_ledger_stats ls;
        pg_ledger_get_stats(c->l, &ls);
        if (ls.pending != held(c, pool))
            fail_msg("%s holds %llu ops; %zu are waiting for a predecessor", c->path,
                     (unsigned long long)ls.pending, held(c, pool));
        at += b;
    }
    free(idx);
}

static void
deliver_shuffled(copy *c, const lb_pool *pool, const size_t *idx_in, size_t n, uint64_t *rng)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    assert_non_null(idx);
    memcpy(idx, idx_in, n * sizeof *idx);
    lb_shuffle(rng, idx, n);
    deliver(c, pool, idx, n, rng);
    free(idx);
}

typedef struct collect {
    pg_ledger_id *ids;
    size_t n, cap;
    uint64_t last_seq;
    bool seq_ok;
} collect;

static int
collect_fn(void *ud, const pg_ledger_op *op)
{
    collect *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->ids = realloc(c->ids, c->cap * sizeof *c->ids);
        assert_non_null(c->ids);
    }
    c->ids[c->n++] = op->id;
    if (op->seq <= c->last_seq)
        c->seq_ok = false;
    c->last_seq = op->seq;
    return 0;
}

/* Every op stored in l, in delivery order; checks that the order is topological and that each
 * op's stored bytes are those of the pool (adding to the pool ops it lacks). Returns their pool
 * indices (malloc'd) and their number in *n. */
static size_t *
stored_ops(pg_ledger *l, lb_pool *pool, size_t *n)
{
    collect c = {.seq_ok = true};
    pg_error err = {0};
    assert_int_equal(pg_ledger_each(l, 0, collect_fn, &c, &err), PG_OK);
    assert_true(c.seq_ok);
    assert_int_equal(c.n, pg_ledger_count(l));
    size_t *idx = malloc((c.n ? c.n : 1) * sizeof *idx);
    bool *seen = calloc(LB_MAX_OPS, sizeof *seen);
    assert_true(idx && seen);
    for (size_t i = 0; i < c.n; i++) {
        uint8_t *b = NULL;
        size_t len = 0;
        if (pg_ledger_get(l, &c.ids[i], &b, &len, &err) != PG_OK)
            fail_msg("pg_ledger_get of a stored op %s: %s", lb_hex(&c.ids[i]), err.msg);
        pg_ledger_id h = lb_hash(b, len);
        if (!lb_id_eq(&h, &c.ids[i]))
            fail_msg("the bytes stored for %s hash to %s", lb_hex(&c.ids[i]), lb_hex(&h));
        long at = lb_pool_find(pool, &c.ids[i]);
        if (at < 0)
            at = (long)lb_pool_put_bytes(pool, b, len); /* its preds came before it */
        else if (pool->op[at].len != len || memcmp(pool->op[at].bytes, b, len) != 0)
            fail_msg("the bytes stored for %s differ from those received", lb_hex(&c.ids[i]));
        for (size_t j = 0; j < pool->op[at].n_preds; j++)
            if (!seen[pool->op[at].preds[j]])
                fail_msg("%s is delivered before its predecessor", lb_hex(&c.ids[i]));
        seen[at] = true;
        idx[i] = (size_t)at;
        free(b);
    }
    free(seen);
    free(c.ids);
    *n = c.n;
    return idx;
}

/* The copy's heads, count, registers and counters equal the model's over the ops marked in. */
static void
check_model(copy *c, const lb_pool *pool, const bool *in, const pg_ledger_key *authors,
            size_t n_authors)
{
    pg_ledger_id want[256], got[256];
    size_t nw = lb_model_heads(pool, in, want, 256);
    size_t ng = lt_heads(c->l, got, 256);
    if (nw != ng)
        fail_msg("%s has %zu heads, %zu expected", c->path, ng, nw);
    for (size_t i = 0; i < nw; i++)
        if (!lb_id_eq(&want[i], &got[i]))
            fail_msg("%s: head %zu is %s, %s expected", c->path, i, lb_hex(&got[i]),
                     lb_hex(&want[i]));
    size_t n_in = 0;
    for (size_t i = 0; i < pool->n; i++)
        n_in += in[i];
    assert_int_equal(pg_ledger_count(c->l), n_in);
    for (size_t i = 0; i < pool->n; i++)
        if (pg_ledger_has(c->l, &pool->op[i].id) != in[i])
            fail_msg("%s %s op %zu", c->path, in[i] ? "lacks" : "has", i);
    const char *names[] = {"meta", "r0", "r1", "r2", "r3"};
    pg_error err = {0};
    for (size_t a = 0; a < n_authors; a++)
        for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
            const char *w = lb_model_register(pool, in, &authors[a].pk, names[k]);
            void *v = NULL;
            size_t len = 0;
            int rc = pg_ledger_register_get(c->l, &authors[a].pk, names[k], &v, &len, &err);
            if (!w) {
                assert_int_equal(rc, PG_ENOTFOUND);
                continue;
            }
            if (rc != PG_OK)
                fail_msg("%s: register %s of author %zu: %s", c->path, names[k], a, err.msg);
            if (len != strlen(w) || memcmp(v, w, len) != 0)
                fail_msg("%s: register %s of author %zu is \"%.*s\", \"%s\" expected", c->path,
                         names[k], a, (int)len, (const char *)v, w);
            free(v);
        }
    assert_int_equal(pg_ledger_counter_get(c->l, "energy"), lb_model_counter(pool, in, "energy"));
    assert_int_equal(pg_ledger_counter_get(c->l, "energy2"), lb_model_counter(pool, in, "energy2"));
    assert_int_equal(pg_ledger_counter_get(c->l, "never-added"), 0);
}

/* Copies a and b agree: heads, digests, counts, members. */
static void
check_same(pg_ledger *a, pg_ledger *b)
{
    pg_ledger_id da, db;
    assert_int_equal(pg_ledger_heads_digest(a, &da, NULL), PG_OK);
    assert_int_equal(pg_ledger_heads_digest(b, &db, NULL), PG_OK);
    assert_true(lb_id_eq(&da, &db));
    assert_int_equal(pg_ledger_state_digest(a, &da, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(b, &db, NULL), PG_OK);
    assert_true(lb_id_eq(&da, &db));
    assert_int_equal(pg_ledger_count(a), pg_ledger_count(b));
    pg_ledger_member ma[16], mb[16];
    size_t na = pg_ledger_members(a, ma, 16), nb = pg_ledger_members(b, mb, 16);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na && i < 16; i++) {
        assert_memory_equal(ma[i].key.b, mb[i].key.b, PG_LEDGER_KEY_BYTES);
        assert_string_equal(ma[i].name, mb[i].name);
    }
}

static size_t
count_records(pg_ledger *l, pg_ledger_record_type type, uint32_t interval)
{
    collect c = {.seq_ok = true};
    pg_error err = {0};
    assert_int_equal(pg_ledger_each_record(l, type, interval, collect_fn, &c, &err), PG_OK);
    for (size_t i = 0; i < c.n; i++) { /* each is a record of that type and interval */
        uint8_t *b = NULL;
        size_t len = 0;
        pg_ledger_op *op = NULL;
        assert_int_equal(pg_ledger_get(l, &c.ids[i], &b, &len, &err), PG_OK);
        assert_int_equal(pg_ledger_op_decode(b, len, &op, &err), PG_OK);
        assert_int_equal(op->payload.kind, PG_LEDGER_RECORD);
        assert_int_equal(op->payload.record.type, type);
        assert_int_equal(op->payload.record.interval, interval);
        pg_ledger_op_free(op);
        free(b);
    }
    free(c.ids);
    assert_true(c.seq_ok);
    return c.n;
}

/* Members now, as the test expects them: keys with their names, compared ascending by key. */
static void
check_members(pg_ledger *l, const pg_ledger_key *keys, const char *const *names, size_t n)
{
    size_t order[16];
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && memcmp(keys[order[j - 1]].pk.b, keys[order[j]].pk.b, 32) > 0;
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    pg_ledger_member m[16];
    size_t got = pg_ledger_members(l, m, 16);
    if (got != n)
        fail_msg("%zu members, %zu expected", got, n);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(m[i].key.b, keys[order[i]].pk.b, 32);
        assert_string_equal(m[i].name, names[order[i]]);
        assert_non_null(pg_ledger_member_name(l, &keys[order[i]].pk));
        assert_string_equal(pg_ledger_member_name(l, &keys[order[i]].pk), names[order[i]]);
    }
}

static void
converge(uint64_t seed)
{
    n_rejects = 0;
    n_dups_sent = max_held = 0;
    pg_ledger_key G = lb_key(1), A = lb_key(2), B = lb_key(3), C = lb_key(4), D = lb_key(5),
                  E = lb_key(6);
    pg_ledger_member founders[] = {{"a", A.pk}, {"b", B.pk}};
    lb_pool *pool = lb_pool_new();

    /* The graph. Heights in comments. */
    size_t g = lb_pool_put(
        pool, lb_genesis(&G, "convergence", PG_LEDGER_ADMIT_MEMBERS, founders, 2, &A.pk, 1), NULL,
        0);
    pg_ledger_payload p;
    /* phase 1: everyone sees these */
    size_t first_p = pool->n;
    p = lb_register("meta", "a-1");
    size_t p1 = lb_pool_add(pool, &A, LB_PREDS(g), &p); /* 1 */
    p = lb_counter("energy", 5);
    size_t p2 = lb_pool_add(pool, &B, LB_PREDS(g), &p); /* 1 */
    p = lb_member_add("c", &C);
    size_t p3 = lb_pool_add(pool, &A, LB_PREDS(p1, p2), &p); /* 2 */
    p = lb_member_add("d", &D);
    size_t p4 = lb_pool_add(pool, &B, LB_PREDS(p2), &p); /* 2 */
    p = lb_register("meta", "c-1");
    size_t p5 = lb_pool_add(pool, &C, LB_PREDS(p3), &p); /* 3 */
    p = lb_counter("energy", -2);
    size_t p6 = lb_pool_add(pool, &D, LB_PREDS(p4), &p); /* 3 */
    p = lb_record(PG_LEDGER_BID, 1, 0, "b", NULL, 0, "bid-b");
    size_t p7 = lb_pool_add(pool, &B, LB_PREDS(p3, p4), &p); /* 3 */
    p = lb_record(PG_LEDGER_BID, 1, 0, "c", NULL, 0, "bid-c");
    size_t p8 = lb_pool_add(pool, &C, LB_PREDS(p5), &p); /* 4 */
    size_t end_p = pool->n;

    /* side X (copies 0, 1): A and B; the gate, the result, the genesis key removes D */
    size_t first_x = pool->n;
    p = lb_register("meta", "a-2");
    size_t x1 = lb_pool_add(pool, &A, LB_PREDS(p6, p7, p8), &p); /* 5 */
    pg_ledger_id bids[2] = {pool->op[p7].id, pool->op[p8].id};
    p = lb_record(PG_LEDGER_GATE, 1, 1, NULL, bids, 2, "gate-1");
    size_t x2 = lb_pool_add(pool, &A, LB_PREDS(p7, p8, x1), &p); /* 6 */
    p = lb_record(PG_LEDGER_RESULT, 1, 1, NULL, &pool->op[x2].id, 1, "result-1");
    size_t x3 = lb_pool_add(pool, &A, LB_PREDS(x2), &p); /* 7 */
    p = lb_counter("energy", 1000);
    size_t x4 = lb_pool_add(pool, &B, LB_PREDS(x3), &p); /* 8 */
    p = lb_member_remove(&D, &pool->op[p4].id, 1);
    size_t x5 = lb_pool_add(pool, &G, LB_PREDS(x4), &p); /* 9 */
    p = lb_member_add("e", &E);
    size_t x6 = lb_pool_add(pool, &A, LB_PREDS(x1), &p); /* 6 */
    size_t end_x = pool->n;

    /* side Y (copies 2, 3, 4): C and D; C re-admits D (a new tag the removal has not seen) */
    size_t first_y = pool->n;
    p = lb_register("meta", "c-2");
    size_t y1 = lb_pool_add(pool, &C, LB_PREDS(p6, p7, p8), &p); /* 5 */
    p = lb_counter("energy", -7);
    size_t y2 = lb_pool_add(pool, &D, LB_PREDS(y1), &p); /* 6 */
    p = lb_member_add("d", &D);
    size_t y3 = lb_pool_add(pool, &C, LB_PREDS(y2), &p); /* 7 */
    p = lb_register("meta", "d-1");
    size_t y4 = lb_pool_add(pool, &D, LB_PREDS(y3), &p); /* 8 */
    p = lb_record(PG_LEDGER_DR, 1, 0, NULL, NULL, 0, "dr-c");
    size_t y5 = lb_pool_add(pool, &C, LB_PREDS(y4), &p); /* 9 */
    p = lb_register("meta", "c-3");
    size_t y6 = lb_pool_add(pool, &C, LB_PREDS(y5), &p); /* 10 */
    size_t end_y = pool->n;

    /* after the partition heals */
    size_t first_m = pool->n;
    p = lb_register("meta", "b-left");
    size_t m1 = lb_pool_add(pool, &B, LB_PREDS(x5), &p); /* 10 */
    p = lb_register("meta", "b-right");
    size_t m2 = lb_pool_add(pool, &B, LB_PREDS(y5), &p); /* 10: the same height as m1 */
    p = lb_record(PG_LEDGER_SETTLE, 1, 1, NULL, &pool->op[x3].id, 1, "settle-1");
    size_t m3 = lb_pool_add(pool, &A, LB_PREDS(x3, x6, y6, m1, m2), &p); /* 11 */
    p = lb_register("meta", "e-1");
    size_t m4 = lb_pool_add(pool, &E, LB_PREDS(m3), &p); /* 12 */
    p = lb_member_remove(&E, &pool->op[x6].id, 1);
    size_t m5 = lb_pool_add(pool, &E, LB_PREDS(m4), &p); /* 13: E leaves */
    p = lb_counter("energy", 3);
    size_t m6 = lb_pool_add(pool, &D, LB_PREDS(m2), &p); /* 11 */
    p = lb_register("meta", "d-2"); /* D: removed (tag p4) but re-admitted (tag y3) */
    size_t m7 = lb_pool_add(pool, &D, LB_PREDS(m5, m6), &p); /* 14 */
    p = lb_counter("energy", 1);
    size_t m8 = lb_pool_add(pool, &C, LB_PREDS(m6), &p); /* 12 */
    assert_int_equal(pool->op[m1].height, pool->op[m2].height);
    assert_int_equal(pool->op[m7].height, 14);
    assert_int_equal(pool->op[m8].height, 12);
    (void)y3;
    (void)x6;

    /* random ops on a random graph below m7 and m8: registers r0..r3, counter energy2, no
     * author twice on one set of predecessors */
    uint64_t rng = 0x5eed0011 + seed;
    const pg_ledger_key *writers[] = {&A, &B, &C, &D};
    size_t window[8] = {m7, m8};
    size_t nwin = 2;
    for (int r = 0; r < N_RANDOM; r++) {
        size_t preds[3], np;
        const pg_ledger_key *k;
        for (;;) {
            np = 1 + lb_below(&rng, nwin < 3 ? nwin : 3);
            for (size_t i = 0; i < np; i++) {
                preds[i] = window[lb_below(&rng, nwin)];
                for (size_t j = 0; j < i; j++)
                    if (preds[j] == preds[i])
                        np = i; /* drop the repeat */
            }
            k = writers[lb_below(&rng, 4)];
            bool seen = false; /* the same author on the same preds would equivocate */
            for (size_t o = first_m; o < pool->n && !seen; o++) {
                if (memcmp(pool->op[o].author.b, k->pk.b, 32) || pool->op[o].n_preds != np)
                    continue;
                bool same = true;
                for (size_t i = 0; i < np && same; i++) {
                    bool found = false;
                    for (size_t j = 0; j < np; j++)
                        found |= pool->op[o].preds[j] == preds[i];
                    same = found;
                }
                seen = same;
            }
            if (!seen)
                break;
        }
        char name[32], value[32];
        if (lb_below(&rng, 2)) {
            snprintf(name, sizeof name, "r%d", (int)lb_below(&rng, 4));
            snprintf(value, sizeof value, "v%d", r);
            p = lb_register(name, value);
        } else {
            p = lb_counter("energy2", (int64_t)lb_below(&rng, 201) - 100);
        }
        size_t at = lb_pool_add(pool, k, preds, np, &p);
        if (nwin < 8)
            window[nwin++] = at;
        else
            window[lb_below(&rng, 8)] = at;
    }
    size_t end_m = pool->n;

    /* Five copies */
    copy *cp = calloc(N_COPIES, sizeof *cp);
    assert_non_null(cp);
    pg_ledger_options opt = options();
    for (int i = 0; i < N_COPIES; i++) {
        snprintf(cp[i].path, sizeof cp[i].path, "%s/copy-%d.db", pgt_tmpdir(), i);
        cp[i].l = lb_open(cp[i].path, &pool->op[g], &opt);
        cp[i].got[g] = cp[i].sent[g] = true;
        assert_int_equal(pg_ledger_count(cp[i].l), 1);
        assert_string_equal(pg_ledger_community(cp[i].l), "convergence");
    }

    /* The partition: copies 0, 1 see phase 1 and side X; copies 2..4 phase 1 and side Y. */
    size_t idx[LB_MAX_OPS], n;
    bool in_x[LB_MAX_OPS] = {0}, in_y[LB_MAX_OPS] = {0};
    for (int i = 0; i < N_COPIES; i++) {
        bool x = i < 2;
        n = 0;
        for (size_t o = first_p; o < end_p; o++)
            idx[n++] = o;
        for (size_t o = x ? first_x : first_y; o < (x ? end_x : end_y); o++)
            idx[n++] = o;
        uint64_t r = 1000 + (uint64_t)i + 100 * seed;
        deliver_shuffled(&cp[i], pool, idx, n, &r);
    }
    in_x[g] = in_y[g] = true;
    for (size_t o = first_p; o < end_p; o++)
        in_x[o] = in_y[o] = true;
    for (size_t o = first_x; o < end_x; o++)
        in_x[o] = true;
    for (size_t o = first_y; o < end_y; o++)
        in_y[o] = true;
    const pg_ledger_key authors[] = {G, A, B, C, D, E};
    for (int i = 0; i < N_COPIES; i++)
        check_model(&cp[i], pool, i < 2 ? in_x : in_y, authors, 6);
    check_same(cp[0].l, cp[1].l);
    check_same(cp[2].l, cp[3].l);
    check_same(cp[2].l, cp[4].l);
    {
        pg_ledger_id hx, hy;
        assert_int_equal(pg_ledger_heads_digest(cp[0].l, &hx, NULL), PG_OK);
        assert_int_equal(pg_ledger_heads_digest(cp[2].l, &hy, NULL), PG_OK);
        assert_false(lb_id_eq(&hx, &hy));
        assert_int_equal(pg_ledger_state_digest(cp[0].l, &hx, NULL), PG_OK);
        assert_int_equal(pg_ledger_state_digest(cp[2].l, &hy, NULL), PG_OK);
        assert_false(lb_id_eq(&hx, &hy));
    }
    /* X's view: D removed; Y's: D admitted twice. */
    {
        const pg_ledger_key kx[] = {A, B, C, E}, ky[] = {A, B, C, D};
        const char *const nx[] = {"a", "b", "c", "e"}, *const ny[] = {"a", "b", "c", "d"};
        check_members(cp[0].l, kx, nx, 4);
        check_members(cp[3].l, ky, ny, 4);
        assert_null(pg_ledger_member_name(cp[0].l, &D.pk));
        assert_int_equal(pg_ledger_counter_get(cp[0].l, "energy"), 5 - 2 + 1000);
        assert_int_equal(pg_ledger_counter_get(cp[2].l, "energy"), 5 - 2 - 7);
    }

    /* The partition heals: each copy reads the other side's stored ops from one of its copies,
     * in a random order, in batches. */
    for (int i = 0; i < N_COPIES; i++) {
        int from = i < 2 ? 2 + i : (i - 2) % 2; /* X from 2, 3; Y from 0, 1, 0 */
        size_t ns = 0;
        size_t *st = stored_ops(cp[from].l, pool, &ns);
        uint64_t r = 2000 + (uint64_t)i + 100 * seed;
        lb_shuffle(&r, st, ns);
        /* delivered as received: no op held back, duplicates are the shared past */
        for (size_t at = 0; at < ns;) {
            size_t b = 1 + lb_below(&r, 16);
            if (b > ns - at)
                b = ns - at;
            size_t dups = 0;
            for (size_t j = 0; j < b; j++) {
                dups += cp[i].got[st[at + j]];
                cp[i].sent[st[at + j]] = true;
            }
            size_t expect = simulate(&cp[i], pool);
            pg_ledger_ingest_stats s = lb_ingest_idx(cp[i].l, pool, st + at, b);
            lb_expect_stats(s, expect, dups, 0, "healing");
            at += b;
        }
        free(st);
    }
    bool in_all[LB_MAX_OPS] = {0};
    for (size_t o = 0; o < end_y; o++)
        in_all[o] = true;
    for (int i = 0; i < N_COPIES; i++) {
        assert_int_equal(held(&cp[i], pool), 0);
        check_model(&cp[i], pool, in_all, authors, 6);
        if (i)
            check_same(cp[0].l, cp[i].l);
    }

    /* After the heal: the merge and the random ops, to everyone, in random orders. */
    for (int i = 0; i < N_COPIES; i++) {
        n = 0;
        for (size_t o = first_m; o < end_m; o++)
            idx[n++] = o;
        uint64_t r = 3000 + (uint64_t)i + 100 * seed;
        deliver_shuffled(&cp[i], pool, idx, n, &r);
    }
    for (size_t o = 0; o < end_m; o++)
        in_all[o] = true;

    /* By hand: the final state of the hand-made graph. */
    const pg_ledger_key final_keys[] = {A, B, C, D};
    const char *const final_names[] = {"a", "b", "c", "d"};
    const char *b_meta =
        memcmp(pool->op[m1].id.b, pool->op[m2].id.b, 32) > 0 ? "b-left" : "b-right";
    for (int i = 0; i < N_COPIES; i++) {
        pg_ledger *l = cp[i].l;
        check_model(&cp[i], pool, in_all, authors, 6);
        check_members(l, final_keys, final_names, 4);
        assert_null(pg_ledger_member_name(l, &E.pk));
        assert_null(pg_ledger_member_name(l, &G.pk));
        assert_int_equal(pg_ledger_counter_get(l, "energy"), 5 - 2 + 1000 - 7 + 3 + 1);
        const struct {
            const pg_ledger_key *k;
            const char *v;
        } regs[] = {{&A, "a-2"}, {&B, b_meta}, {&C, "c-3"}, {&D, "d-2"}, {&E, "e-1"}};
        for (size_t k = 0; k < 5; k++) {
            void *v = NULL;
            size_t len = 0;
            pg_error err = {0};
            assert_int_equal(pg_ledger_register_get(l, &regs[k].k->pk, "meta", &v, &len, &err),
                             PG_OK);
            assert_int_equal(len, strlen(regs[k].v));
            assert_memory_equal(v, regs[k].v, len);
            free(v);
        }
        assert_int_equal(count_records(l, PG_LEDGER_BID, 1), 2);
        assert_int_equal(count_records(l, PG_LEDGER_GATE, 1), 1);
        assert_int_equal(count_records(l, PG_LEDGER_RESULT, 1), 1);
        assert_int_equal(count_records(l, PG_LEDGER_SETTLE, 1), 1);
        assert_int_equal(count_records(l, PG_LEDGER_DR, 1), 1);
        assert_int_equal(count_records(l, PG_LEDGER_BID, 2), 0);
        pg_ledger_stats s;
        pg_ledger_get_stats(l, &s);
        assert_int_equal(s.pending, 0);
        assert_int_equal(s.rejected, 0);
        assert_int_equal(s.dropped, 0);
        assert_int_equal(s.equivocations, 0);
        if (i)
            check_same(cp[0].l, l);
    }
    assert_int_equal(n_rejects, 0);
    print_message("%zu duplicates sent, up to %zu ops held at once\n", n_dups_sent, max_held);
    assert_true(n_dups_sent >= 20);
    assert_true(max_held >= 10);

    /* Reopened from disk: the same state. */
    pg_ledger_id heads_d, state_d;
    assert_int_equal(pg_ledger_heads_digest(cp[0].l, &heads_d, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(cp[0].l, &state_d, NULL), PG_OK);
    for (int i = 0; i < N_COPIES; i++) {
        pg_ledger_close(cp[i].l);
        cp[i].l = lb_open(cp[i].path, i % 2 ? &pool->op[g] : NULL, &opt);
        check_model(&cp[i], pool, in_all, authors, 6);
        check_members(cp[i].l, final_keys, final_names, 4);
        pg_ledger_id h, s;
        assert_int_equal(pg_ledger_heads_digest(cp[i].l, &h, NULL), PG_OK);
        assert_int_equal(pg_ledger_state_digest(cp[i].l, &s, NULL), PG_OK);
        assert_true(lb_id_eq(&h, &heads_d));
        assert_true(lb_id_eq(&s, &state_d));
    }

    /* Four copies append concurrently (each member on its own copy, two ops each), then every
     * copy reads every other's stored ops. */
    size_t before = pool->n;
    for (int i = 0; i < 4; i++) {
        pg_error err = {0};
        pg_ledger_id id1, id2;
        p = lb_counter("energy", 10 * (i + 1));
        assert_int_equal(pg_ledger_append(cp[i].l, writers[i], &p, &id1, &err), PG_OK);
        char v[32];
        snprintf(v, sizeof v, "final-%d", i);
        p = lb_register("meta", v);
        assert_int_equal(pg_ledger_append(cp[i].l, writers[i], &p, &id2, &err), PG_OK);
        pg_ledger_id heads[4];
        assert_int_equal(lt_heads(cp[i].l, heads, 4), 1);
        assert_true(lb_id_eq(&heads[0], &id2));
    }
    for (int i = 0; i < 4; i++) { /* the new ops into the pool (decoded from the store) */
        size_t ns = 0;
        free(stored_ops(cp[i].l, pool, &ns));
    }
    assert_int_equal(pool->n, before + 8);
    for (int i = 0; i < N_COPIES; i++) /* each copy has its own */
        for (size_t o = before; o < pool->n; o++)
            if (pg_ledger_has(cp[i].l, &pool->op[o].id))
                cp[i].got[o] = cp[i].sent[o] = true;
    for (int i = 0; i < N_COPIES; i++)
        for (int j = 0; j < 4; j++) {
            if (i == j)
                continue;
            size_t ns = 0;
            size_t *st = stored_ops(cp[j].l, pool, &ns);
            for (size_t k = 0; k < ns; k++)
                cp[i].sent[st[k]] = true;
            size_t expect = simulate(&cp[i], pool);
            pg_ledger_ingest_stats s = lb_ingest_idx(cp[i].l, pool, st, ns);
            lb_expect_stats(s, expect, ns - expect, 0, "exchange");
            free(st);
        }
    bool in_end[LB_MAX_OPS];
    for (size_t o = 0; o < pool->n; o++)
        in_end[o] = true;
    pg_ledger_id h4[8];
    for (int i = 0; i < N_COPIES; i++) {
        check_model(&cp[i], pool, in_end, authors, 6);
        assert_int_equal(lt_heads(cp[i].l, h4, 8), 4);
        assert_int_equal(pg_ledger_counter_get(cp[i].l, "energy"), 1000 + 10 + 20 + 30 + 40);
        if (i)
            check_same(cp[0].l, cp[i].l);
    }
    assert_int_equal(pg_ledger_heads_digest(cp[0].l, &heads_d, NULL), PG_OK);
    assert_int_equal(pg_ledger_state_digest(cp[0].l, &state_d, NULL), PG_OK);

    /* Each file verifies from scratch, with the same digests. */
    for (int i = 0; i < N_COPIES; i++) {
        pg_ledger_close(cp[i].l);
        cp[i].l = NULL;
        pg_ledger_verify_report rep;
        memset(&rep, 0, sizeof rep);
        pg_error err = {0};
        assert_int_equal(pg_ledger_verify_file(cp[i].path, NULL, &rep, &err), PG_OK);
        for (size_t k = 0; k < rep.n_problems && k < PG_LEDGER_MAX_PROBLEMS; k++)
            print_error("%s: seq %llu %s: %s\n", cp[i].path,
                        (unsigned long long)rep.problems[k].seq, rep.problems[k].id,
                        rep.problems[k].what);
        assert_int_equal(rep.n_problems, 0);
        assert_int_equal(rep.ops, pool->n);
        assert_int_equal(rep.equivocations, 0);
        assert_int_equal(rep.results_unchecked, 1);
        assert_true(lb_id_eq(&rep.heads_digest, &heads_d));
        assert_true(lb_id_eq(&rep.state_digest, &state_d));
        pg_ledger_verify_report_free(&rep);
    }
    free(cp);
    lb_pool_free(pool);
    pgt_tmpdir_cleanup();
}

/* Three seeds: three random graphs and three sets of orders. */
static void
test_convergence(void **state)
{
    (void)state;
    for (uint64_t seed = 0; seed < 3; seed++) {
        print_message("seed %llu\n", (unsigned long long)seed);
        converge(seed);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convergence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
