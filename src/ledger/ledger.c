/* The ledger object: opening (and creating, with the genesis op) its SQLite store and loading
 * the delivered ops into memory; delivering ops (the graph: ids, heights, predecessors, heads,
 * equivocations; then the rules of rules.c and the state of state.c); the bounded set of ops
 * held until their predecessors arrive, delivered in topological order when they do; append and
 * ingest, each one transaction; and the queries of ledger.h.
 *
 * Every received op costs one BLAKE2b (its id), one signature check and a few keyed hash-table
 * lookups before it is stored with prepared statements: nothing walks the graph. A storage
 * failure rolls the transaction back and reloads memory from the store, so memory never holds
 * what the disk does not. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/graph.h"

static int
oom(pg_error *err)
{
    return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
}

uint64_t
pgi_ledger_hash_bytes(const pg_ledger *l, const void *p, size_t n)
{
    uint8_t out[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(out, p, n, l->hkey);
    memcpy(&h, out, sizeof h);
    return h;
}

uint64_t
pgi_ledger_hash_id(const pg_ledger *l, const pg_ledger_id *id)
{
    return pgi_ledger_hash_bytes(l, id->b, sizeof id->b);
}

uint32_t
pgi_ledger_find(const pg_ledger *l, const pg_ledger_id *id)
{
    uint64_t h = pgi_ledger_hash_id(l, id);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_id, h, &pos, &v))
        if (memcmp(l->ops[v].id.b, id->b, 32) == 0)
            return v;
    return PGI_NONE;
}

uint32_t
pgi_ledger_author_find(const pg_ledger *l, const uint8_t key[32])
{
    uint64_t h = pgi_ledger_hash_bytes(l, key, 32);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_author, h, &pos, &v))
        if (memcmp(l->authors[v].b, key, 32) == 0)
            return v;
    return PGI_NONE;
}

static int
author_intern(pg_ledger *l, const uint8_t key[32], uint32_t *out, pg_error *err)
{
    uint32_t a = pgi_ledger_author_find(l, key);
    if (a == PGI_NONE) {
        if (pgi_grow(&l->authors, &l->cap_authors, l->n_authors + 1, sizeof *l->authors) ||
            pgi_htab_put(&l->by_author, pgi_ledger_hash_bytes(l, key, 32), (uint32_t)l->n_authors))
            return oom(err);
        memcpy(l->authors[l->n_authors].b, key, 32);
        a = (uint32_t)l->n_authors++;
    }
    *out = a;
    return PG_OK;
}

int
pgi_ledger_load_op(pg_ledger *l, uint32_t x, pg_ledger_op **out, pg_error *err)
{
    const void *bytes;
    size_t len;
    pgi_opv v;
    int rc = pgi_store_by_seq(&l->st, (uint64_t)x + 1, &bytes, &len, l->path, err);
    if (rc)
        return rc;
    if ((rc = pgi_ledger_parse(bytes, len, &v, err)) == PG_OK)
        rc = pgi_ledger_op_of_view(&v, &l->ops[x].id, l->ops[x].height, (uint64_t)x + 1, out, err);
    pgi_store_done(&l->st);
    return rc;
}

/* ---------------------------------------------------------------- the graph */

static void
head_remove(pg_ledger *l, uint32_t x)
{
    uint32_t pos = l->ops[x].head_pos, last = l->heads[--l->n_heads];
    l->heads[pos] = last;
    l->ops[last].head_pos = pos;
}

/* Equivocation: another op by the same author on the same predecessors. */
static int
equivocation(pg_ledger *l, uint32_t x, bool store, pg_error *err)
{
    const pgi_lop *o = &l->ops[x];
    if (o->n_preds == 0)
        return PG_OK;
    uint64_t h = pgi_ledger_hash_bytes(l, &l->preds[o->pred0], o->n_preds * sizeof(uint32_t)) ^
                 ((uint64_t)o->author * 0x9e3779b97f4a7c15u);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_preds, h, &pos, &v)) {
        const pgi_lop *e = &l->ops[v];
        if (e->author != o->author || e->n_preds != o->n_preds ||
            memcmp(&l->preds[e->pred0], &l->preds[o->pred0], o->n_preds * sizeof(uint32_t)))
            continue;
        l->equivocations++;
        if (!store)
            return PG_OK;
        sqlite3_stmt *st = l->st.ins_equiv;
        sqlite3_bind_blob(st, 1, o->id.b, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, e->id.b, 32, SQLITE_STATIC);
        int rc = sqlite3_step(st) == SQLITE_DONE
                     ? PG_OK
                     : pgi_store_fail(&l->st, l->path, "cannot write to the database", err);
        sqlite3_reset(st);
        return rc;
    }
    return pgi_htab_put(&l->by_preds, h, x) ? oom(err) : PG_OK;
}

static int
store_op(pg_ledger *l, uint32_t x, const pgi_opv *v, pg_error *err)
{
    const pgi_lop *o = &l->ops[x];
    sqlite3_stmt *st = l->st.ins_op;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)x + 1);
    sqlite3_bind_blob(st, 2, o->id.b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, v->author, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, v->kind);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)o->height);
    sqlite3_bind_blob(st, 6, v->bytes, (int)v->len, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? PG_OK
                 : pgi_store_fail(&l->st, l->path, "cannot write to the database", err);
    sqlite3_reset(st);
    return rc;
}

/* Adds an op to the graph and the state (and with store, to the open transaction). Its
 * predecessors are delivered: pidx, their indices; past: its past's membership context. */
static int
graph_add(pg_ledger *l, const pg_ledger_id *id, const pgi_opv *v, const uint32_t *pidx,
          uint64_t height, uint32_t past, bool store, pg_error *err)
{
    int rc;
    uint32_t author = 0;
    if (l->n_ops >= PGI_NONE - 1)
        return pg_error_set(err, PG_ELIMIT, "ledger: too many ops");
    if (pgi_grow(&l->ops, &l->cap_ops, l->n_ops + 1, sizeof *l->ops) ||
        pgi_grow(&l->preds, &l->cap_preds, l->n_preds + v->n_preds, sizeof *l->preds) ||
        pgi_grow(&l->heads, &l->cap_heads, l->n_heads + 1, sizeof *l->heads))
        return oom(err);
    if ((rc = author_intern(l, v->author, &author, err)))
        return rc;
    uint32_t x = (uint32_t)l->n_ops;
    if (pgi_htab_put(&l->by_id, pgi_ledger_hash_id(l, id), x))
        return oom(err);
    pgi_lop *o = &l->ops[x];
    memset(o, 0, sizeof *o);
    o->id = *id;
    o->height = height;
    o->author = author;
    o->pred0 = (uint32_t)l->n_preds;
    o->n_preds = (uint16_t)v->n_preds;
    o->kind = v->kind;
    o->ctx = past;
    if (v->n_preds)
        memcpy(&l->preds[l->n_preds], pidx, v->n_preds * sizeof *pidx);
    l->n_preds += v->n_preds;
    l->n_ops++;
    for (size_t i = 0; i < v->n_preds; i++) {
        pgi_lop *p = &l->ops[pidx[i]];
        if (p->is_pred)
            continue;
        p->is_pred = 1;
        head_remove(l, pidx[i]);
        if (store && pidx[i] < l->txn_first) {
            if (pgi_grow(&l->old_heads_gone, &l->cap_old_heads_gone, l->n_old_heads_gone + 1,
                         sizeof *l->old_heads_gone))
                return oom(err);
            l->old_heads_gone[l->n_old_heads_gone++] = pidx[i];
        }
    }
    o = &l->ops[x];
    o->head_pos = (uint32_t)l->n_heads;
    l->heads[l->n_heads++] = x;
    if (store && (rc = store_op(l, x, v, err)))
        return rc;
    if ((rc = equivocation(l, x, store, err)) || (rc = pgi_ledger_apply(l, x, v, store, err)))
        return rc;
    return pgi_ledger_own_ctx(l, past, x, &l->ops[x].ctx, err);
}

/* Delivers a parsed op whose signature was checked: its predecessors must be delivered (the
 * caller knows). PG_OK: delivered; *fatal set: a failure of this copy (memory, storage), not of
 * the op; any other code: the op is invalid (err says why). */
static int
deliver(pg_ledger *l, const pg_ledger_id *id, const pgi_opv *v, bool *fatal, pg_error *err)
{
    uint32_t pidx[PG_LEDGER_MAX_PREDS];
    uint64_t height = 0;
    uint32_t past;
    int rc;
    *fatal = false;
    for (size_t i = 0; i < v->n_preds; i++) {
        pidx[i] = pgi_ledger_find(l, (const pg_ledger_id *)(v->preds + 32 * i));
        if (l->ops[pidx[i]].height >= height)
            height = l->ops[pidx[i]].height + 1;
    }
    if ((rc = pgi_ledger_past_ctx(l, pidx, v->n_preds, &past, err))) {
        *fatal = true;
        return rc;
    }
    if ((rc = pgi_ledger_check(l, v, id, height, pidx, past, err))) {
        *fatal = rc == PG_ENOMEM || rc == PG_EIO;
        return rc;
    }
    if ((rc = pgi_store_begin(&l->st, l->path, err)) ||
        (rc = graph_add(l, id, v, pidx, height, past, true, err))) {
        *fatal = true;
        return rc;
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- loading */

static void
free_graph(pg_ledger *l)
{
    pgi_ledger_free_state(l);
    for (size_t i = 0; i < l->n_ctxs; i++) {
        free(l->ctxs[i].ops);
        free(l->ctxs[i].members);
    }
    free(l->ctxs);
    free(l->ops);
    free(l->preds);
    free(l->authors);
    free(l->heads);
    free(l->old_heads_gone);
    pgi_ledger_op_free(l->genesis);
    free(l->community);
    pgi_htab_free(&l->by_id);
    pgi_htab_free(&l->by_author);
    pgi_htab_free(&l->by_ctx);
    pgi_htab_free(&l->by_preds);
    l->ctxs = NULL;
    l->ops = NULL;
    l->preds = NULL;
    l->authors = NULL;
    l->heads = NULL;
    l->old_heads_gone = NULL;
    l->genesis = NULL;
    l->community = NULL;
    l->n_ctxs = l->cap_ctxs = l->n_ops = l->cap_ops = l->n_preds = l->cap_preds = l->n_authors =
        l->cap_authors = l->n_heads = l->cap_heads = l->n_old_heads_gone = l->cap_old_heads_gone =
            0;
    l->equivocations = 0;
}

static void
free_pending(pg_ledger *l)
{
    for (size_t i = 0; i < l->n_pend_slots; i++)
        free(l->pend[i].bytes);
    free(l->pend);
    free(l->pend_free);
    free(l->waits);
    free(l->waits_free);
    free(l->fifo);
    pgi_htab_free(&l->pend_by_id);
    pgi_htab_free(&l->waits_by_id);
    l->pend = NULL;
    l->pend_free = NULL;
    l->waits = NULL;
    l->waits_free = NULL;
    l->fifo = NULL;
    l->n_pend_slots = l->cap_pend = l->n_pending = l->pending_bytes = l->n_pend_free =
        l->cap_pend_free = l->n_waits = l->cap_waits = l->n_waits_free = l->cap_waits_free =
            l->fifo_head = l->n_fifo = l->cap_fifo = 0;
}

/* The genesis op, delivered first: the community, its rule and its first members. */
static int
add_genesis(pg_ledger *l, const pg_ledger_id *id, const pgi_opv *v, bool store, pg_error *err)
{
    int rc;
    uint32_t empty;
    if ((rc = pgi_ledger_op_of_view(v, id, 0, 1, &l->genesis, err)))
        return rc;
    if (!(l->community = malloc(v->community_len + 1)))
        return oom(err);
    memcpy(l->community, v->community, v->community_len);
    l->community[v->community_len] = '\0';
    /* Context 0 is the empty one: the genesis and every op before the first membership op. */
    if ((rc = pgi_ledger_past_ctx(l, NULL, 0, &empty, err)))
        return rc;
    if (l->n_ctxs == 0) {
        if (pgi_grow(&l->ctxs, &l->cap_ctxs, 1, sizeof *l->ctxs) ||
            pgi_htab_put(&l->by_ctx, pgi_ledger_hash_bytes(l, "", 0), 0))
            return oom(err);
        memset(&l->ctxs[0], 0, sizeof l->ctxs[0]);
        l->ctxs[0].hash = pgi_ledger_hash_bytes(l, "", 0);
        l->n_ctxs = 1;
    }
    if ((rc = graph_add(l, id, v, NULL, 0, 0, store, err)))
        return rc;
    if ((rc = pgi_ledger_eval_members(l, NULL, 0, &l->members, &l->n_members, err)))
        return rc;
    l->members_dirty = store;
    return PG_OK;
}

static int
damaged(const pg_ledger *l, uint64_t seq, const char *what, pg_error *err)
{
    pg_error_set(err, PG_EPARSE,
                 "ledger: the database is damaged at op %llu (%s); `plurigrid ledger verify` "
                 "names every problem",
                 (unsigned long long)seq, what);
    pg_error_at(err, l->path, 0, 0, NULL);
    return PG_EPARSE;
}

/* Loads every stored op into memory, in delivery order, trusting the store's checks of the past
 * (pg_ledger_verify_file checks everything again). */
static int
load(pg_ledger *l, pg_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PG_OK, r;
    uint64_t seq = 0;
    if (sqlite3_prepare_v2(l->st.db, "SELECT seq, id, bytes FROM ops ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK)
        return pgi_store_fail(&l->st, l->path, "the database is not a ledger of this version", err);
    l->txn_first = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        pgi_opv v;
        pg_ledger_id id;
        pg_error perr = {0};
        const void *bytes = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        seq++;
        if ((uint64_t)sqlite3_column_int64(st, 0) != seq) {
            rc = damaged(l, seq, "the positions of the ops are not 1, 2, 3, ...", err);
            goto out;
        }
        if (pgi_ledger_parse(bytes, len, &v, &perr)) {
            rc = damaged(l, seq, perr.msg, err);
            goto out;
        }
        pgi_ledger_hash(bytes, len, &id);
        if (sqlite3_column_bytes(st, 1) != 32 ||
            memcmp(sqlite3_column_blob(st, 1), id.b, 32) != 0) {
            rc = damaged(l, seq, "its id is not the hash of its encoding", err);
            goto out;
        }
        if ((seq == 1) != (v.kind == PG_LEDGER_GENESIS)) {
            rc = damaged(l, seq, seq == 1 ? "the first op is not a genesis" : "a second genesis",
                         err);
            goto out;
        }
        if (seq == 1) {
            if ((rc = add_genesis(l, &id, &v, false, err)))
                goto out;
            continue;
        }
        uint32_t pidx[PG_LEDGER_MAX_PREDS];
        uint64_t height = 0;
        uint32_t past;
        for (size_t i = 0; i < v.n_preds; i++) {
            pidx[i] = pgi_ledger_find(l, (const pg_ledger_id *)(v.preds + 32 * i));
            if (pidx[i] == PGI_NONE) {
                rc = damaged(l, seq, "a predecessor is not an earlier op", err);
                goto out;
            }
            if (l->ops[pidx[i]].height >= height)
                height = l->ops[pidx[i]].height + 1;
        }
        if ((rc = pgi_ledger_past_ctx(l, pidx, v.n_preds, &past, err)) ||
            (rc = graph_add(l, &id, &v, pidx, height, past, false, err)))
            goto out;
    }
    if (r != SQLITE_DONE)
        rc = pgi_store_fail(&l->st, l->path, "cannot read the database", err);
    else if (seq == 0)
        rc = damaged(l, 1, "it holds no op, not even the genesis", err);
out:
    sqlite3_finalize(st);
    l->txn_first = l->n_ops;
    return rc;
}

/* After a failed transaction: the store as it was, and memory as the store is. */
static void
recover(pg_ledger *l)
{
    pg_error e = {0};
    pgi_store_rollback(&l->st);
    free_graph(l);
    free_pending(l);
    if (load(l, &e) != PG_OK)
        l->broken = true;
}

/* The transaction's end: the state and the heads written, then the commit. */
static int
finish(pg_ledger *l, pg_error *err)
{
    pgi_store *s = &l->st;
    int rc = PG_OK;
    if (!s->in_txn)
        return PG_OK;
    if ((rc = pgi_ledger_flush_state(l, err)))
        goto fail;
    for (size_t i = 0; i < l->n_old_heads_gone; i++) {
        sqlite3_bind_blob(s->del_head, 1, l->ops[l->old_heads_gone[i]].id.b, 32, SQLITE_STATIC);
        int r = sqlite3_step(s->del_head);
        sqlite3_reset(s->del_head);
        if (r != SQLITE_DONE) {
            rc = pgi_store_fail(s, l->path, "cannot write to the database", err);
            goto fail;
        }
    }
    for (size_t x = l->txn_first; x < l->n_ops; x++) {
        if (l->ops[x].is_pred)
            continue;
        sqlite3_bind_blob(s->ins_head, 1, l->ops[x].id.b, 32, SQLITE_STATIC);
        int r = sqlite3_step(s->ins_head);
        sqlite3_reset(s->ins_head);
        if (r != SQLITE_DONE) {
            rc = pgi_store_fail(s, l->path, "cannot write to the database", err);
            goto fail;
        }
    }
    if ((rc = pgi_store_commit(s, l->path, err)))
        goto fail;
    l->n_old_heads_gone = 0;
    l->txn_first = l->n_ops;
    return PG_OK;
fail:
    recover(l);
    return rc;
}

/* ---------------------------------------------------------------- open and close */

int
pgi_ledger_open(pg_ledger **out, const char *path, const void *genesis, size_t genesis_len,
                const pg_ledger_options *o, pg_error *err)
{
    pg_ledger_options defaults;
    pg_ledger *l = NULL;
    pgi_opv gv;
    pg_ledger_id gid;
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!out || !path || !path[0])
        return pg_error_set(err, PG_EINVAL, "ledger: no database path");
    if (!o) {
        pg_ledger_options_init(&defaults);
        o = &defaults;
    }
    if (genesis) {
        pg_error perr = {0};
        if (pgi_ledger_parse(genesis, genesis_len, &gv, &perr) || gv.kind != PG_LEDGER_GENESIS)
            return pg_error_set(err, PG_EINVAL, "ledger: the genesis op given is not one: %s",
                                perr.msg[0] ? perr.msg : "it is another kind of op");
        if (!pgi_ledger_sig_ok(&gv))
            return pg_error_set(err, PG_EAUTH,
                                "ledger: the genesis op given is not signed by its author");
        pgi_ledger_hash(genesis, genesis_len, &gid);
    }
    if (!(l = calloc(1, sizeof *l)) || !(l->path = malloc(strlen(path) + 1))) {
        free(l);
        return oom(err);
    }
    strcpy(l->path, path);
    l->o = *o;
    if (!l->o.max_pending)
        l->o.max_pending = 100000;
    if (!l->o.max_pending_bytes)
        l->o.max_pending_bytes = (size_t)64 << 20;
    randombytes_buf(l->hkey, sizeof l->hkey);
    if ((rc = pgi_store_open(&l->st, path, o->create, o->read_only, err)))
        goto fail;
    if (l->st.in_txn) {
        /* A new database: the genesis is its first op. */
        if (!genesis) {
            rc = pg_error_set(err, PG_EINVAL, "ledger: a new ledger needs its genesis op");
            pg_error_at(err, path, 0, 0, NULL);
            goto fail;
        }
        if ((rc = add_genesis(l, &gid, &gv, true, err)) ||
            (rc = pgi_store_meta_put(&l->st, &gid, l->community, path, err)) ||
            (rc = finish(l, err)))
            goto fail;
        if (l->broken) {
            rc = pg_error_set(err, PG_EIO, "ledger: the new ledger could not be written");
            goto fail;
        }
    } else {
        pg_ledger_id stored;
        if ((rc = pgi_store_meta_get(&l->st, &stored, path, err)))
            goto fail;
        if (genesis && memcmp(stored.b, gid.b, 32) != 0) {
            char a[65], b[65];
            pg_ledger_hex(stored.b, 32, a);
            pg_ledger_hex(gid.b, 32, b);
            rc = pg_error_set(err, PG_ESTATE,
                              "ledger: the database holds the ledger of genesis %s, not of the "
                              "genesis %s given",
                              a, b);
            pg_error_at(err, path, 0, 0, NULL);
            goto fail;
        }
        if ((rc = load(l, err)))
            goto fail;
        if (memcmp(l->ops[0].id.b, stored.b, 32) != 0) {
            rc = damaged(l, 1, "its genesis is not the one its meta table names", err);
            goto fail;
        }
    }
    *out = l;
    return PG_OK;
fail:
    pgi_ledger_close(l);
    return rc;
}

void
pgi_ledger_close(pg_ledger *l)
{
    if (!l)
        return;
    pgi_store_close(&l->st);
    free_graph(l);
    free_pending(l);
    free(l->path);
    free(l);
}

int
pgi_ledger_open_memory(pg_ledger **out, const void *genesis, size_t len,
                       const pg_ledger_checker *checker, pg_error *err)
{
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    o.checker = checker;
    return pgi_ledger_open(out, ":memory:", genesis, len, &o, err);
}

int
pgi_ledger_offer(pg_ledger *l, const pg_ledger_id *id, const pgi_opv *v, bool *fatal, pg_error *why)
{
    char h[65];
    *fatal = false;
    if (pgi_ledger_find(l, id) != PGI_NONE)
        return pg_error_set(why, PG_ESTATE, "a second copy of an earlier op");
    for (size_t i = 0; i < v->n_preds; i++)
        if (pgi_ledger_find(l, (const pg_ledger_id *)(v->preds + 32 * i)) == PGI_NONE) {
            pg_ledger_hex(v->preds + 32 * i, 32, h);
            return pg_error_set(why, PG_ENOTFOUND, "its predecessor %s is not an earlier valid op",
                                h);
        }
    return deliver(l, id, v, fatal, why);
}

int
pgi_ledger_commit(pg_ledger *l, pg_error *err)
{
    return finish(l, err);
}

/* ---------------------------------------------------------------- the pending set */

static void
reject(pg_ledger *l, const pg_ledger_id *id, const char *why)
{
    l->stats.rejected++;
    if (l->o.reject)
        l->o.reject(l->o.reject_ud, id, why);
}

static uint32_t
pend_find(const pg_ledger *l, const pg_ledger_id *id, size_t *pos_out)
{
    uint64_t h = pgi_ledger_hash_id(l, id);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->pend_by_id, h, &pos, &v))
        if (memcmp(l->pend[v].id.b, id->b, 32) == 0) {
            if (pos_out)
                *pos_out = pos;
            return v;
        }
    return PGI_NONE;
}

/* Forgets a held op (slot s): its waits, its place in the table, its bytes. */
static void
pend_remove(pg_ledger *l, uint32_t s)
{
    pgi_pend *p = &l->pend[s];
    size_t pos = 0;
    /* Its predecessors are at a fixed place of the encoding. */
    size_t n = (size_t)p->bytes[37] | (size_t)p->bytes[38] << 8;
    for (size_t i = 0; i < n; i++) {
        const pg_ledger_id *pred = (const pg_ledger_id *)(p->bytes + PGI_LEDGER_HEADER + 32 * i);
        uint64_t h = pgi_ledger_hash_id(l, pred);
        size_t wp = SIZE_MAX;
        uint32_t w;
        while (pgi_htab_next(&l->waits_by_id, h, &wp, &w)) {
            pgi_wait *wt = &l->waits[w];
            if (wt->slot == s && wt->serial == p->serial &&
                memcmp(wt->missing.b, pred->b, 32) == 0) {
                pgi_htab_del(&l->waits_by_id, wp);
                l->waits_free[l->n_waits_free++] = w;
            }
        }
    }
    if (pend_find(l, &p->id, &pos) == s)
        pgi_htab_del(&l->pend_by_id, pos);
    l->pending_bytes -= p->len + 64 * (size_t)p->missing;
    l->n_pending--;
    free(p->bytes);
    p->bytes = NULL;
    p->serial++;
    l->pend_free[l->n_pend_free++] = s;
}

static void
drop_oldest(pg_ledger *l)
{
    while ((l->n_pending > l->o.max_pending || l->pending_bytes > l->o.max_pending_bytes) &&
           l->fifo_head < l->n_fifo) {
        uint64_t f = l->fifo[l->fifo_head++];
        uint32_t s = (uint32_t)(f >> 32);
        if (l->pend[s].bytes && l->pend[s].serial == (uint32_t)f) {
            pg_ledger_id id = l->pend[s].id;
            pend_remove(l, s);
            l->stats.dropped++;
            if (l->o.reject)
                l->o.reject(l->o.reject_ud, &id,
                            "dropped from the pending set: its predecessors did not arrive in "
                            "time");
        }
    }
    /* Entries of ops delivered or dropped since are stale: keep the queue at most twice the
       held ops (and a little). */
    if (l->n_fifo - l->fifo_head > 2 * l->n_pending + 1024) {
        size_t k = 0;
        for (size_t i = l->fifo_head; i < l->n_fifo; i++) {
            uint32_t s = (uint32_t)(l->fifo[i] >> 32);
            if (l->pend[s].bytes && l->pend[s].serial == (uint32_t)l->fifo[i])
                l->fifo[k++] = l->fifo[i];
        }
        l->n_fifo = k;
        l->fifo_head = 0;
    } else if (l->fifo_head > 1024 && l->fifo_head * 2 > l->n_fifo) {
        memmove(l->fifo, l->fifo + l->fifo_head, (l->n_fifo - l->fifo_head) * sizeof *l->fifo);
        l->n_fifo -= l->fifo_head;
        l->fifo_head = 0;
    }
}

/* Holds a checked op whose predecessors are not all delivered. */
static int
hold(pg_ledger *l, const pg_ledger_id *id, const pgi_opv *v, uint32_t missing, pg_error *err)
{
    uint32_t s;
    if (pgi_grow(&l->pend_free, &l->cap_pend_free, l->n_pend_slots + 1, sizeof *l->pend_free) ||
        pgi_grow(&l->waits_free, &l->cap_waits_free, l->n_waits + missing, sizeof *l->waits_free) ||
        pgi_grow(&l->fifo, &l->cap_fifo, l->n_fifo + 1, sizeof *l->fifo))
        return oom(err);
    uint8_t *copy = malloc(v->len);
    if (!copy)
        return oom(err);
    memcpy(copy, v->bytes, v->len);
    if (l->n_pend_free)
        s = l->pend_free[--l->n_pend_free];
    else {
        if (pgi_grow(&l->pend, &l->cap_pend, l->n_pend_slots + 1, sizeof *l->pend)) {
            free(copy);
            return oom(err);
        }
        s = (uint32_t)l->n_pend_slots++;
        memset(&l->pend[s], 0, sizeof l->pend[s]);
    }
    pgi_pend *p = &l->pend[s];
    p->id = *id;
    p->bytes = copy;
    p->len = v->len;
    p->missing = missing;
    p->call = l->calls;
    if (pgi_htab_put(&l->pend_by_id, pgi_ledger_hash_id(l, id), s))
        goto nomem;
    l->n_pending++;
    l->pending_bytes += v->len + 64 * (size_t)missing;
    for (size_t i = 0; i < v->n_preds; i++) {
        const pg_ledger_id *pred = (const pg_ledger_id *)(v->preds + 32 * i);
        if (pgi_ledger_find(l, pred) != PGI_NONE)
            continue;
        uint32_t w;
        if (l->n_waits_free)
            w = l->waits_free[--l->n_waits_free];
        else {
            if (pgi_grow(&l->waits, &l->cap_waits, l->n_waits + 1, sizeof *l->waits))
                goto nomem;
            w = (uint32_t)l->n_waits++;
        }
        l->waits[w] = (pgi_wait){*pred, s, p->serial};
        if (pgi_htab_put(&l->waits_by_id, pgi_ledger_hash_id(l, pred), w)) {
            l->waits_free[l->n_waits_free++] = w;
            goto nomem;
        }
    }
    l->fifo[l->n_fifo++] = (uint64_t)s << 32 | p->serial;
    drop_oldest(l);
    return PG_OK;
nomem:
    /* Not held after all (it may come again). */
    if (pend_find(l, id, NULL) == s)
        pend_remove(l, s);
    else {
        free(p->bytes);
        p->bytes = NULL;
        p->serial++;
        l->pend_free[l->n_pend_free++] = s;
    }
    return oom(err);
}

/* ---------------------------------------------------------------- ingest and append */

typedef struct call {
    pg_ledger_ingest_stats st;
    uint32_t *ready; /* pending slots whose predecessors all arrived */
    size_t n_ready, cap_ready;
} call;

/* Counts down the held ops waiting for id, which was just delivered. */
static int
wake(pg_ledger *l, call *c, const pg_ledger_id *id, pg_error *err)
{
    uint64_t h = pgi_ledger_hash_id(l, id);
    size_t pos = SIZE_MAX;
    uint32_t w;
    while (pgi_htab_next(&l->waits_by_id, h, &pos, &w)) {
        pgi_wait wt = l->waits[w];
        if (memcmp(wt.missing.b, id->b, 32) != 0)
            continue;
        pgi_htab_del(&l->waits_by_id, pos);
        l->waits_free[l->n_waits_free++] = w;
        pgi_pend *p = &l->pend[wt.slot];
        if (!p->bytes || p->serial != wt.serial)
            continue;
        p->missing--;
        l->pending_bytes -= 64;
        if (p->missing == 0) {
            if (pgi_grow(&c->ready, &c->cap_ready, c->n_ready + 1, sizeof *c->ready))
                return oom(err);
            c->ready[c->n_ready++] = wt.slot;
        }
    }
    return PG_OK;
}

/* Delivers the held ops whose predecessors all arrived (c->ready), and those they complete. PG_OK
 * unless this copy failed (memory, storage). */
static int
drain(pg_ledger *l, call *c, pg_error *err)
{
    while (c->n_ready) {
        uint32_t s = c->ready[--c->n_ready];
        pgi_pend *p = &l->pend[s];
        pg_ledger_id pid = p->id;
        size_t len = p->len;
        bool mine = p->call == l->calls, fatal;
        pgi_opv pv;
        pg_error why = {0};
        /* Out of the pending set, its bytes kept for the delivery. */
        uint8_t *bytes = malloc(len);
        if (!bytes)
            return oom(err);
        memcpy(bytes, p->bytes, len);
        pend_remove(l, s);
        if (mine && c->st.pending)
            c->st.pending--;
        int rc = pgi_ledger_parse(bytes, len, &pv, &why); /* it parsed when it was held */
        if (!rc)
            rc = deliver(l, &pid, &pv, &fatal, &why);
        if (rc && fatal) {
            free(bytes);
            if (err)
                *err = why;
            return rc;
        }
        if (rc) {
            c->st.rejected++;
            reject(l, &pid, why.msg);
            free(bytes);
            continue;
        }
        c->st.delivered++;
        l->stats.delivered++;
        rc = wake(l, c, &pid, err);
        free(bytes);
        if (rc)
            return rc;
    }
    return PG_OK;
}

/* Delivers a checked op and every held op it completes, in topological order. PG_OK unless this
 * copy failed (memory, storage). */
static int
deliver_all(pg_ledger *l, call *c, const pg_ledger_id *id, const pgi_opv *v, pg_error *err)
{
    bool fatal;
    pg_error why = {0};
    int rc = deliver(l, id, v, &fatal, &why);
    if (rc && fatal) {
        if (err)
            *err = why;
        return rc;
    }
    if (rc) {
        c->st.rejected++;
        reject(l, id, why.msg);
        return PG_OK;
    }
    c->st.delivered++;
    l->stats.delivered++;
    if ((rc = wake(l, c, id, err)))
        return rc;
    return drain(l, c, err);
}

static int
writable(pg_ledger *l, pg_error *err)
{
    if (l->broken && !l->o.read_only) {
        /* Reloading failed after a storage failure: try again now. */
        l->broken = false;
        recover(l);
    }
    if (l->broken)
        return pg_error_set(err, PG_ESTATE,
                            "ledger: a storage failure left this ledger unusable; reopen it");
    if (l->o.read_only)
        return pg_error_set(err, PG_ESTATE, "ledger: opened read-only");
    return PG_OK;
}

int
pgi_ledger_ingest(pg_ledger *l, const void *const *ops, const size_t *lens, size_t n,
                  pg_ledger_ingest_stats *st, pg_error *err)
{
    call c = {0};
    int rc;
    if (!l || (n && (!ops || !lens)))
        return pg_error_set(err, PG_EINVAL, "ledger: nothing to ingest");
    if ((rc = writable(l, err)))
        return rc;
    l->txn_first = l->n_ops;
    l->n_old_heads_gone = 0;
    l->calls++;
    for (size_t i = 0; i < n; i++) {
        pg_ledger_id id;
        pgi_opv v;
        pg_error why = {0};
        if (!ops[i] || lens[i] > PG_LEDGER_MAX_OP) {
            c.st.rejected++;
            reject(l, NULL, !ops[i] ? "no bytes" : "longer than an op may be");
            continue;
        }
        pgi_ledger_hash(ops[i], lens[i], &id);
        if (pgi_ledger_find(l, &id) != PGI_NONE) {
            c.st.duplicate++;
            l->stats.duplicate++;
            continue;
        }
        if (pend_find(l, &id, NULL) != PGI_NONE) {
            c.st.pending++; /* held already: still held, not delivered */
            continue;
        }
        if (pgi_ledger_parse(ops[i], lens[i], &v, &why)) {
            c.st.rejected++;
            reject(l, NULL, why.msg);
            continue;
        }
        if (!pgi_ledger_sig_ok(&v)) {
            c.st.rejected++;
            reject(l, &id, "the signature is not its author's");
            continue;
        }
        uint32_t missing = 0;
        for (size_t k = 0; k < v.n_preds; k++)
            missing += pgi_ledger_find(l, (const pg_ledger_id *)(v.preds + 32 * k)) == PGI_NONE;
        if (missing) {
            if ((rc = hold(l, &id, &v, missing, err)))
                goto fail;
            c.st.pending++;
            continue;
        }
        if ((rc = deliver_all(l, &c, &id, &v, err)))
            goto fail;
    }
    free(c.ready);
    c.ready = NULL;
    if ((rc = finish(l, err)))
        return rc;
    if (st)
        *st = c.st;
    return PG_OK;
fail:
    free(c.ready);
    recover(l);
    return rc;
}

/* The ids of the current heads, ascending, malloc'd. */
static int
cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

int
pgi_ledger_append(pg_ledger *l, const pg_ledger_key *k, const pg_ledger_payload *p,
                  pg_ledger_id *id_out, pg_error *err)
{
    pg_ledger_id *preds = NULL, id;
    uint8_t *bytes = NULL;
    size_t len = 0;
    pgi_opv v;
    int rc;
    if (!l || !k || !p)
        return pg_error_set(err, PG_EINVAL, "ledger: append needs a key and a payload");
    if ((rc = writable(l, err)))
        return rc;
    if (p->kind == PG_LEDGER_GENESIS)
        return pg_error_set(err, PG_EINVAL, "ledger: a ledger has one genesis op, its first");
    size_t nr = p->kind == PG_LEDGER_RECORD ? p->record.n_refs : 0;
    if (nr && !p->record.refs)
        return pg_error_set(err, PG_EINVAL, "ledger: the record's references are missing");
    preds = malloc((l->n_heads + nr + 1) * sizeof *preds);
    if (!preds)
        return oom(err);
    size_t np = 0;
    for (size_t i = 0; i < l->n_heads; i++)
        preds[np++] = l->ops[l->heads[i]].id;
    /* More heads than an op may name: the first by id (the others are merged by later ops). */
    if (np + nr > PG_LEDGER_MAX_PREDS) {
        qsort(preds, np, sizeof *preds, cmp_id);
        np = nr < PG_LEDGER_MAX_PREDS ? PG_LEDGER_MAX_PREDS - nr : 0;
    }
    for (size_t i = 0; i < nr; i++) {
        if (pgi_ledger_find(l, &p->record.refs[i]) == PGI_NONE) {
            char h[65];
            pg_ledger_hex(p->record.refs[i].b, 32, h);
            rc = pg_error_set(err, PG_EMODEL, "ledger: the record refers to %s, not in the ledger",
                              h);
            goto out;
        }
        preds[np++] = p->record.refs[i];
    }
    if ((rc = pgi_ledger_op_encode(k, preds, np, p, &bytes, &len, err)))
        goto out;
    pgi_ledger_hash(bytes, len, &id);
    if (pgi_ledger_find(l, &id) != PGI_NONE)
        goto done; /* the very same op (signatures are deterministic): already there */
    if ((rc = pgi_ledger_parse(bytes, len, &v, err)))
        goto out;
    l->txn_first = l->n_ops;
    l->n_old_heads_gone = 0;
    bool fatal;
    pg_error why = {0};
    if ((rc = deliver(l, &id, &v, &fatal, &why))) {
        if (fatal) {
            if (err)
                *err = why;
            recover(l);
        } else if (err) {
            pg_error_set(err, rc, "ledger: the op cannot be appended: %s", why.msg);
        }
        goto out;
    }
    l->stats.delivered++;
    /* A peer may have sent a successor of this op first: held, it is delivered now. */
    call c = {0};
    if ((rc = wake(l, &c, &id, err)) || (rc = drain(l, &c, err))) {
        free(c.ready);
        recover(l);
        goto out;
    }
    free(c.ready);
    if ((rc = finish(l, err)))
        goto out;
done:
    if (id_out)
        *id_out = id;
out:
    free(preds);
    free(bytes);
    return rc;
}

/* ---------------------------------------------------------------- for reconciliation */

int
pgi_ledger_mark_ancestors(const pg_ledger *l, const uint32_t *from, size_t n, uint8_t *mark)
{
    uint32_t *stack = NULL;
    size_t ns = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (from[i] >= l->n_ops || mark[from[i]])
            continue;
        if (pgi_grow(&stack, &cap, ns + 1, sizeof *stack)) {
            free(stack);
            return PG_ENOMEM;
        }
        mark[from[i]] = 1;
        stack[ns++] = from[i];
        while (ns) {
            const pgi_lop *o = &l->ops[stack[--ns]];
            for (size_t k = 0; k < o->n_preds; k++) {
                uint32_t p = l->preds[o->pred0 + k];
                if (mark[p])
                    continue;
                if (pgi_grow(&stack, &cap, ns + 1, sizeof *stack)) {
                    free(stack);
                    return PG_ENOMEM;
                }
                mark[p] = 1;
                stack[ns++] = p;
            }
        }
    }
    free(stack);
    return PG_OK;
}

bool
pgi_ledger_pending_has(const pg_ledger *l, const pg_ledger_id *id)
{
    return pend_find(l, id, NULL) != PGI_NONE;
}

size_t
pgi_ledger_missing(const pg_ledger *l, pg_ledger_id *out, size_t max)
{
    pg_ledger_id *all = malloc((l->n_waits + 1) * sizeof *all);
    size_t n = 0, k = 0;
    if (!all)
        return 0;
    for (size_t i = 0; i < l->waits_by_id.cap; i++) {
        if (l->waits_by_id.v[i] < 2)
            continue;
        const pgi_wait *w = &l->waits[l->waits_by_id.v[i] - 2];
        const pgi_pend *p = &l->pend[w->slot];
        if (!p->bytes || p->serial != w->serial || pgi_ledger_find(l, &w->missing) != PGI_NONE ||
            pend_find(l, &w->missing, NULL) != PGI_NONE)
            continue;
        all[n++] = w->missing;
    }
    qsort(all, n, sizeof *all, cmp_id);
    for (size_t i = 0; i < n; i++) {
        if (i && memcmp(all[i].b, all[i - 1].b, 32) == 0)
            continue;
        if (out && k < max)
            out[k] = all[i];
        k++;
    }
    free(all);
    return k;
}

/* ---------------------------------------------------------------- queries */

const char *
pgi_ledger_community(const pg_ledger *l)
{
    return l->community ? l->community : ""; /* none only after a failed reload */
}

void
pgi_ledger_genesis_id(const pg_ledger *l, pg_ledger_id *out)
{
    if (l->n_ops)
        *out = l->ops[0].id;
    else
        memset(out, 0, sizeof *out);
}

size_t
pgi_ledger_count(const pg_ledger *l)
{
    return l->n_ops;
}

static pg_ledger_id *
sorted_heads(const pg_ledger *l)
{
    pg_ledger_id *h = malloc((l->n_heads + 1) * sizeof *h);
    if (!h)
        return NULL;
    for (size_t i = 0; i < l->n_heads; i++)
        h[i] = l->ops[l->heads[i]].id;
    qsort(h, l->n_heads, sizeof *h, cmp_id);
    return h;
}

int
pgi_ledger_heads(const pg_ledger *l, pg_ledger_id *out, size_t max, size_t *n_heads, pg_error *err)
{
    if (max && out) {
        pg_ledger_id *h = sorted_heads(l);
        if (!h)
            return pg_error_set(err, PG_ENOMEM, "ledger: out of memory listing %zu heads",
                                l->n_heads);
        memcpy(out, h, (max < l->n_heads ? max : l->n_heads) * sizeof *h);
        free(h);
    }
    if (n_heads)
        *n_heads = l->n_heads;
    return PG_OK;
}

int
pgi_ledger_heads_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err)
{
    pg_ledger_id *h = sorted_heads(l);
    if (!h)
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory hashing %zu heads", l->n_heads);
    crypto_generichash(out->b, 32, (const uint8_t *)h, l->n_heads * sizeof *h, NULL, 0);
    free(h);
    return PG_OK;
}

int
pgi_ledger_state_digest(const pg_ledger *l, pg_ledger_id *out, pg_error *err)
{
    pg_ledger_id d;
    if (pgi_ledger_digest_state(l, &d) != PG_OK)
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory hashing the state");
    *out = d;
    return PG_OK;
}

bool
pgi_ledger_has(const pg_ledger *l, const pg_ledger_id *id)
{
    return l && id && pgi_ledger_find(l, id) != PGI_NONE;
}

int
pgi_ledger_get(pg_ledger *l, const pg_ledger_id *id, uint8_t **op, size_t *len, pg_error *err)
{
    const void *bytes;
    size_t n;
    if (!l || !id || !op || !len)
        return pg_error_set(err, PG_EINVAL, "ledger: get needs an id and outputs");
    uint32_t x = pgi_ledger_find(l, id);
    if (x == PGI_NONE) {
        char h[65];
        pg_ledger_hex(id->b, 32, h);
        return pg_error_set(err, PG_ENOTFOUND, "ledger: no op %s", h);
    }
    int rc = pgi_store_by_seq(&l->st, (uint64_t)x + 1, &bytes, &n, l->path, err);
    if (rc)
        return rc;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        rc = oom(err);
    else {
        memcpy(copy, bytes, n);
        *op = copy;
        *len = n;
    }
    pgi_store_done(&l->st);
    return rc;
}

int
pgi_ledger_each(pg_ledger *l, uint64_t after_seq, int (*fn)(void *ud, const pg_ledger_op *op),
                void *ud, pg_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PG_OK, r;
    if (!l || !fn)
        return pg_error_set(err, PG_EINVAL, "ledger: each needs a function");
    if (sqlite3_prepare_v2(l->st.db, "SELECT seq, bytes FROM ops WHERE seq > ? ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK)
        return pgi_store_fail(&l->st, l->path, "cannot read the database", err);
    sqlite3_bind_int64(st, 1, after_seq > INT64_MAX ? INT64_MAX : (sqlite3_int64)after_seq);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        pgi_opv v;
        pg_ledger_op *op = NULL;
        if (seq == 0 || seq > l->n_ops)
            break; /* rows another writer added since this ledger was loaded */
        const pgi_lop *o = &l->ops[seq - 1];
        if ((rc = pgi_ledger_parse(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                   &v, err)) ||
            (rc = pgi_ledger_op_of_view(&v, &o->id, o->height, seq, &op, err)))
            break;
        int stop = fn(ud, op);
        pgi_ledger_op_free(op);
        if (stop) {
            rc = stop;
            break;
        }
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE && !rc)
        rc = pgi_store_fail(&l->st, l->path, "cannot read the database", err);
    sqlite3_finalize(st);
    return rc;
}

int
pgi_ledger_each_record(pg_ledger *l, pg_ledger_record_type type, uint32_t interval,
                       int (*fn)(void *ud, const pg_ledger_op *op), void *ud, pg_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PG_OK, r;
    if (!l || !fn)
        return pg_error_set(err, PG_EINVAL, "ledger: each_record needs a function");
    if (sqlite3_prepare_v2(l->st.db,
                           "SELECT seq FROM records WHERE type = ? AND interval = ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return pgi_store_fail(&l->st, l->path, "cannot read the database", err);
    sqlite3_bind_int(st, 1, (int)type);
    sqlite3_bind_int64(st, 2, interval);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        pg_ledger_op *op = NULL;
        if (seq == 0 || seq > l->n_ops)
            break;
        if ((rc = pgi_ledger_load_op(l, (uint32_t)(seq - 1), &op, err)))
            break;
        int stop = fn(ud, op);
        pgi_ledger_op_free(op);
        if (stop) {
            rc = stop;
            break;
        }
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE && !rc)
        rc = pgi_store_fail(&l->st, l->path, "cannot read the database", err);
    sqlite3_finalize(st);
    return rc;
}

size_t
pgi_ledger_members(const pg_ledger *l, pg_ledger_member *out, size_t max)
{
    for (size_t i = 0; out && i < max && i < l->n_members; i++) {
        out[i].name = l->members[i].name;
        out[i].key = l->members[i].key;
    }
    return l->n_members;
}

const char *
pgi_ledger_member_name(const pg_ledger *l, const pg_ledger_pubkey *key)
{
    const pgi_member *m = key ? pgi_member_find(l->members, l->n_members, key->b) : NULL;
    return m ? m->name : NULL;
}

int
pgi_ledger_register_get(pg_ledger *l, const pg_ledger_pubkey *author, const char *name,
                        void **value, size_t *len, pg_error *err)
{
    pg_ledger_op *op = NULL;
    if (!l || !author || !name || !value || !len)
        return pg_error_set(err, PG_EINVAL, "ledger: register_get needs an author and a name");
    uint32_t a = pgi_ledger_author_find(l, author->b);
    const pgi_reg *r = a == PGI_NONE ? NULL : pgi_ledger_reg_find(l, a, name, strlen(name));
    if (!r)
        return pg_error_set(err, PG_ENOTFOUND, "ledger: no register '%s' of that author", name);
    int rc = pgi_ledger_load_op(l, r->op, &op, err);
    if (rc)
        return rc;
    void *copy = malloc(op->payload.value_len + 1);
    if (!copy)
        rc = oom(err);
    else {
        memcpy(copy, op->payload.value, op->payload.value_len);
        *value = copy;
        *len = op->payload.value_len;
    }
    pgi_ledger_op_free(op);
    return rc;
}

int64_t
pgi_ledger_counter_get(const pg_ledger *l, const char *name)
{
    const pgi_ctr *c = name ? pgi_ledger_ctr_find(l, name, strlen(name)) : NULL;
    return c ? c->p - c->n : 0;
}

void
pgi_ledger_get_stats(const pg_ledger *l, pg_ledger_stats *s)
{
    *s = l->stats;
    s->pending = l->n_pending;
    s->equivocations = l->equivocations;
}
