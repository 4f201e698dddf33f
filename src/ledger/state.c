/* The CRDT state a ledger's ops make (docs/ledger.md "CRDTs"): the current members (the OR-set
 * of every membership op), the registers (per author and name, the write with the greatest
 * height, then id), the counters (saturating sums of positive and negative deltas) and the
 * records; kept in memory as ops are delivered and written to the derived tables once per
 * transaction; and the state's digest, which two copies with the same ops share. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/graph.h"

static uint64_t
reg_hash(const pg_ledger *l, uint32_t author, const char *name, size_t n)
{
    uint8_t buf[4 + 256];
    memcpy(buf, &author, 4);
    memcpy(buf + 4, name, n);
    return pgi_ledger_hash_bytes(l, buf, 4 + n);
}

const pgi_reg *
pgi_ledger_reg_find(const pg_ledger *l, uint32_t author, const char *name, size_t n)
{
    if (n > 255)
        return NULL;
    uint64_t h = reg_hash(l, author, name, n);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_reg, h, &pos, &v)) {
        const pgi_reg *r = &l->regs[v];
        if (r->author == author && strlen(r->name) == n && memcmp(r->name, name, n) == 0)
            return r;
    }
    return NULL;
}

const pgi_ctr *
pgi_ledger_ctr_find(const pg_ledger *l, const char *name, size_t n)
{
    uint64_t h = pgi_ledger_hash_bytes(l, name, n);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_ctr, h, &pos, &v)) {
        const pgi_ctr *c = &l->ctrs[v];
        if (strlen(c->name) == n && memcmp(c->name, name, n) == 0)
            return c;
    }
    return NULL;
}

static char *
strndup_(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int
oom(pg_error *err)
{
    return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
}

/* The interned name of a bid's node. */
static int
intern_name(pg_ledger *l, const char *s, size_t n, uint32_t *out, pg_error *err)
{
    uint64_t h = pgi_ledger_hash_bytes(l, s, n);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_name, h, &pos, &v))
        if (strlen(l->names[v]) == n && memcmp(l->names[v], s, n) == 0) {
            *out = v;
            return PG_OK;
        }
    if (pgi_grow(&l->names, &l->cap_names, l->n_names + 1, sizeof *l->names))
        return oom(err);
    char *d = strndup_(s, n);
    if (!d)
        return oom(err);
    if (pgi_htab_put(&l->by_name, h, (uint32_t)l->n_names)) {
        free(d);
        return oom(err);
    }
    l->names[l->n_names] = d;
    *out = (uint32_t)l->n_names++;
    return PG_OK;
}

static int
apply_member(pg_ledger *l, uint32_t x, const pgi_opv *v, bool store, pg_error *err)
{
    pgi_mop m = {.op = x};
    memcpy(m.key.b, v->member, 32);
    if (pgi_grow(&l->mops, &l->cap_mops, l->n_mops + 1, sizeof *l->mops) ||
        pgi_grow(&l->all_mops, &l->cap_all_mops, l->n_mops + 1, sizeof *l->all_mops))
        return oom(err);
    if (v->kind == PG_LEDGER_MEMBER_ADD && !(m.name = strndup_(v->name, v->name_len)))
        return oom(err);
    if (v->n_tags) {
        m.tags = malloc(v->n_tags * sizeof *m.tags);
        if (!m.tags) {
            free(m.name);
            return oom(err);
        }
        for (size_t i = 0; i < v->n_tags; i++)
            m.tags[i] = pgi_ledger_find(l, (const pg_ledger_id *)(v->tags + 32 * i));
        m.n_tags = v->n_tags;
    }
    l->ops[x].aux = (uint32_t)l->n_mops;
    l->mops[l->n_mops] = m;
    l->all_mops[l->n_mops++] = x;
    pgi_member *ms = NULL;
    size_t n = 0;
    int rc = pgi_ledger_eval_members(l, l->all_mops, l->n_mops, &ms, &n, err);
    if (rc)
        return rc;
    free(l->members);
    l->members = ms;
    l->n_members = n;
    l->members_dirty |= store;
    return PG_OK;
}

static int
apply_register(pg_ledger *l, uint32_t x, const pgi_opv *v, bool store, pg_error *err)
{
    const pgi_lop *o = &l->ops[x];
    pgi_reg *r = (pgi_reg *)pgi_ledger_reg_find(l, o->author, v->name, v->name_len);
    if (!r) {
        if (pgi_grow(&l->regs, &l->cap_regs, l->n_regs + 1, sizeof *l->regs))
            return oom(err);
        r = &l->regs[l->n_regs];
        memset(r, 0, sizeof *r);
        r->author = o->author;
        r->op = PGI_NONE;
        if (!(r->name = strndup_(v->name, v->name_len)))
            return oom(err);
        if (pgi_htab_put(&l->by_reg, reg_hash(l, o->author, v->name, v->name_len),
                         (uint32_t)l->n_regs)) {
            free(r->name);
            return oom(err);
        }
        l->n_regs++;
    }
    if (r->op != PGI_NONE) {
        const pgi_lop *w = &l->ops[r->op];
        if (w->height > o->height || (w->height == o->height && memcmp(w->id.b, o->id.b, 32) > 0))
            return PG_OK; /* the current value wins */
    }
    r->op = x;
    if (!store)
        return PG_OK;
    uint8_t *copy = malloc(v->value_len + 1);
    if (!copy)
        return oom(err);
    if (v->value_len)
        memcpy(copy, v->value, v->value_len);
    free(r->value);
    r->value = copy;
    r->value_len = v->value_len;
    if (!r->dirty) {
        if (pgi_grow(&l->dirty_regs, &l->cap_dirty_regs, l->n_dirty_regs + 1, sizeof(uint32_t)))
            return oom(err);
        l->dirty_regs[l->n_dirty_regs++] = (uint32_t)(r - l->regs);
        r->dirty = true;
    }
    return PG_OK;
}

static int64_t
sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b; /* a, b >= 0 */
}

static int
apply_counter(pg_ledger *l, const pgi_opv *v, bool store, pg_error *err)
{
    pgi_ctr *c = (pgi_ctr *)pgi_ledger_ctr_find(l, v->name, v->name_len);
    if (!c) {
        if (pgi_grow(&l->ctrs, &l->cap_ctrs, l->n_ctrs + 1, sizeof *l->ctrs))
            return oom(err);
        c = &l->ctrs[l->n_ctrs];
        memset(c, 0, sizeof *c);
        if (!(c->name = strndup_(v->name, v->name_len)))
            return oom(err);
        if (pgi_htab_put(&l->by_ctr, pgi_ledger_hash_bytes(l, v->name, v->name_len),
                         (uint32_t)l->n_ctrs)) {
            free(c->name);
            return oom(err);
        }
        l->n_ctrs++;
    }
    if (v->delta >= 0)
        c->p = sat_add(c->p, v->delta);
    else
        c->n = sat_add(c->n, -v->delta);
    if (store && !c->dirty) {
        if (pgi_grow(&l->dirty_ctrs, &l->cap_dirty_ctrs, l->n_dirty_ctrs + 1, sizeof(uint32_t)))
            return oom(err);
        l->dirty_ctrs[l->n_dirty_ctrs++] = (uint32_t)(c - l->ctrs);
        c->dirty = true;
    }
    return PG_OK;
}

static int
apply_record(pg_ledger *l, uint32_t x, const pgi_opv *v, bool store, pg_error *err)
{
    pgi_lop *o = &l->ops[x];
    int rc;
    o->rtype = v->rtype;
    o->interval = v->interval;
    if (v->rtype == PG_LEDGER_BID && (rc = intern_name(l, v->node, v->node_len, &o->aux, err)))
        return rc;
    if (!store)
        return PG_OK;
    sqlite3_stmt *st = l->st.ins_rec;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)x + 1);
    sqlite3_bind_blob(st, 2, o->id.b, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, v->rtype);
    sqlite3_bind_int64(st, 4, v->interval);
    sqlite3_bind_int64(st, 5, v->term);
    sqlite3_bind_text(st, 6, v->node ? v->node : "", (int)v->node_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, v->author, 32, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE
             ? PG_OK
             : pgi_store_fail(&l->st, l->path, "cannot write to the database", err);
    sqlite3_reset(st);
    return rc;
}

int
pgi_ledger_apply(pg_ledger *l, uint32_t x, const pgi_opv *v, bool store, pg_error *err)
{
    switch (v->kind) {
    case PG_LEDGER_MEMBER_ADD:
    case PG_LEDGER_MEMBER_REMOVE: return apply_member(l, x, v, store, err);
    case PG_LEDGER_REGISTER: return apply_register(l, x, v, store, err);
    case PG_LEDGER_COUNTER: return apply_counter(l, v, store, err);
    case PG_LEDGER_RECORD: return apply_record(l, x, v, store, err);
    default: return PG_OK;
    }
}

static int
step(pg_ledger *l, sqlite3_stmt *st, pg_error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? PG_OK
                 : pgi_store_fail(&l->st, l->path, "cannot write to the database", err);
    sqlite3_reset(st);
    return rc;
}

int
pgi_ledger_flush_state(pg_ledger *l, pg_error *err)
{
    pgi_store *s = &l->st;
    int rc = PG_OK;
    if (l->members_dirty) {
        if ((rc = step(l, s->del_members, err)))
            return rc;
        for (size_t i = 0; i < l->n_members; i++) {
            const pgi_member *m = &l->members[i];
            sqlite3_bind_blob(s->ins_member, 1, m->key.b, 32, SQLITE_STATIC);
            sqlite3_bind_text(s->ins_member, 2, m->name, -1, SQLITE_STATIC);
            sqlite3_bind_blob(s->ins_member, 3, l->ops[m->admission].id.b, 32, SQLITE_STATIC);
            if ((rc = step(l, s->ins_member, err)))
                return rc;
        }
        l->members_dirty = false;
    }
    for (size_t i = 0; i < l->n_dirty_regs; i++) {
        pgi_reg *r = &l->regs[l->dirty_regs[i]];
        const pgi_lop *w = &l->ops[r->op];
        sqlite3_bind_blob(s->put_reg, 1, l->authors[r->author].b, 32, SQLITE_STATIC);
        sqlite3_bind_text(s->put_reg, 2, r->name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s->put_reg, 3, r->value, (int)r->value_len, SQLITE_STATIC);
        sqlite3_bind_int64(s->put_reg, 4, (sqlite3_int64)w->height);
        sqlite3_bind_blob(s->put_reg, 5, w->id.b, 32, SQLITE_STATIC);
        if ((rc = step(l, s->put_reg, err)))
            return rc;
        free(r->value);
        r->value = NULL;
        r->dirty = false;
    }
    l->n_dirty_regs = 0;
    for (size_t i = 0; i < l->n_dirty_ctrs; i++) {
        pgi_ctr *c = &l->ctrs[l->dirty_ctrs[i]];
        sqlite3_bind_text(s->put_ctr, 1, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->put_ctr, 2, c->p);
        sqlite3_bind_int64(s->put_ctr, 3, c->n);
        if ((rc = step(l, s->put_ctr, err)))
            return rc;
        c->dirty = false;
    }
    l->n_dirty_ctrs = 0;
    return PG_OK;
}

void
pgi_ledger_free_state(pg_ledger *l)
{
    for (size_t i = 0; i < l->n_mops; i++) {
        free(l->mops[i].name);
        free(l->mops[i].tags);
    }
    free(l->mops);
    free(l->all_mops);
    free(l->members);
    for (size_t i = 0; i < l->n_regs; i++) {
        free(l->regs[i].name);
        free(l->regs[i].value);
    }
    free(l->regs);
    for (size_t i = 0; i < l->n_ctrs; i++)
        free(l->ctrs[i].name);
    free(l->ctrs);
    for (size_t i = 0; i < l->n_names; i++)
        free(l->names[i]);
    free(l->names);
    free(l->dirty_regs);
    free(l->dirty_ctrs);
    pgi_htab_free(&l->by_reg);
    pgi_htab_free(&l->by_ctr);
    pgi_htab_free(&l->by_name);
    l->mops = NULL;
    l->all_mops = NULL;
    l->members = NULL;
    l->regs = NULL;
    l->ctrs = NULL;
    l->names = NULL;
    l->dirty_regs = l->dirty_ctrs = NULL;
    l->n_mops = l->cap_mops = l->cap_all_mops = l->n_members = l->n_regs = l->cap_regs = l->n_ctrs =
        l->cap_ctrs = l->n_names = l->cap_names = l->n_dirty_regs = l->cap_dirty_regs =
            l->n_dirty_ctrs = l->cap_dirty_ctrs = 0;
    l->members_dirty = false;
}

/* ---------------------------------------------------------------- the digest */

typedef struct regref {
    const uint8_t *author;
    const char *name;
    const uint8_t *op;
} regref;

static int
cmp_regref(const void *a, const void *b)
{
    const regref *x = a, *y = b;
    int c = memcmp(x->author, y->author, 32);
    return c ? c : strcmp(x->name, y->name);
}

static int
cmp_ctr(const void *a, const void *b)
{
    return strcmp((*(const pgi_ctr *const *)a)->name, (*(const pgi_ctr *const *)b)->name);
}

static int
cmp_id(const void *a, const void *b)
{
    return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 32);
}

static void
put_u64(crypto_generichash_state *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> 8 * i);
    crypto_generichash_update(h, b, 8);
}

static void
put_str(crypto_generichash_state *h, const char *s)
{
    uint8_t n = (uint8_t)strlen(s);
    crypto_generichash_update(h, &n, 1);
    crypto_generichash_update(h, (const uint8_t *)s, n);
}

int
pgi_ledger_digest_state(const pg_ledger *l, pg_ledger_id *out)
{
    size_t nrec = 0;
    for (size_t i = 0; i < l->n_ops; i++)
        nrec += l->ops[i].kind == PG_LEDGER_RECORD;
    regref *regs = malloc((l->n_regs + 1) * sizeof *regs);
    const pgi_ctr **ctrs = malloc((l->n_ctrs + 1) * sizeof *ctrs);
    const uint8_t **recs = malloc((nrec + 1) * sizeof *recs);
    if (!regs || !ctrs || !recs) {
        free(regs);
        free(ctrs);
        free(recs);
        return PG_ENOMEM;
    }
    for (size_t i = 0; i < l->n_regs; i++)
        regs[i] =
            (regref){l->authors[l->regs[i].author].b, l->regs[i].name, l->ops[l->regs[i].op].id.b};
    for (size_t i = 0; i < l->n_ctrs; i++)
        ctrs[i] = &l->ctrs[i];
    for (size_t i = 0, k = 0; i < l->n_ops; i++)
        if (l->ops[i].kind == PG_LEDGER_RECORD)
            recs[k++] = l->ops[i].id.b;
    qsort(regs, l->n_regs, sizeof *regs, cmp_regref);
    qsort(ctrs, l->n_ctrs, sizeof *ctrs, cmp_ctr);
    qsort(recs, nrec, sizeof *recs, cmp_id);

    crypto_generichash_state h;
    static const char tag[] = "plurigrid-ledger-state/1";
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const uint8_t *)tag, sizeof tag - 1);
    put_u64(&h, l->n_members);
    for (size_t i = 0; i < l->n_members; i++) {
        crypto_generichash_update(&h, l->members[i].key.b, 32);
        put_str(&h, l->members[i].name);
        crypto_generichash_update(&h, l->ops[l->members[i].admission].id.b, 32);
    }
    put_u64(&h, l->n_regs);
    for (size_t i = 0; i < l->n_regs; i++) {
        crypto_generichash_update(&h, regs[i].author, 32);
        put_str(&h, regs[i].name);
        crypto_generichash_update(&h, regs[i].op, 32);
    }
    put_u64(&h, l->n_ctrs);
    for (size_t i = 0; i < l->n_ctrs; i++) {
        put_str(&h, ctrs[i]->name);
        put_u64(&h, (uint64_t)ctrs[i]->p);
        put_u64(&h, (uint64_t)ctrs[i]->n);
    }
    put_u64(&h, nrec);
    for (size_t i = 0; i < nrec; i++)
        crypto_generichash_update(&h, recs[i], 32);
    crypto_generichash_final(&h, out->b, 32);
    free(regs);
    free(ctrs);
    free(recs);
    return PG_OK;
}
