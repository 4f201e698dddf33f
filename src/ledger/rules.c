/* The validity rules of ops (docs/ledger.md "CRDTs"), judged only from an op's causal past so
 * that every honest copy accepts or rejects it alike: who may admit and remove members, sign
 * registers, counters and records, and what a gate closure, a clearing result and a settlement
 * must refer to; then the application's checker.
 *
 * Membership at an op's past is the OR-set of the membership ops among its ancestors. Each op
 * keeps a pointer to an interned "membership context", the sorted membership ops of its past and
 * itself; an op whose predecessors share one context (nearly every op) shares it too, so judging
 * membership costs no walk of the graph. A context's members are evaluated once, when first
 * needed. */
#include <stdlib.h>
#include <string.h>

#include "ledger/graph.h"

bool
pgi_in_sorted(const uint32_t *a, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else if (a[mid] > x)
            hi = mid;
        else
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- contexts */

typedef struct ctx_key {
    const pg_ledger *l;
    const uint32_t *ops;
    size_t n;
} ctx_key;

/* The context holding exactly ops[0..n), made when new. Takes nothing (ops is copied). */
static int
intern(pg_ledger *l, const uint32_t *ops, size_t n, uint32_t *out, pg_error *err)
{
    uint64_t h = pgi_ledger_hash_bytes(l, ops, n * sizeof *ops);
    size_t pos = SIZE_MAX;
    uint32_t v;
    while (pgi_htab_next(&l->by_ctx, h, &pos, &v)) {
        const pgi_ctx *c = &l->ctxs[v];
        if (c->n == n && (n == 0 || memcmp(c->ops, ops, n * sizeof *ops) == 0)) {
            *out = v;
            return PG_OK;
        }
    }
    if (pgi_grow(&l->ctxs, &l->cap_ctxs, l->n_ctxs + 1, sizeof *l->ctxs))
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
    pgi_ctx *c = &l->ctxs[l->n_ctxs];
    memset(c, 0, sizeof *c);
    if (n && !(c->ops = malloc(n * sizeof *ops)))
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
    if (n)
        memcpy(c->ops, ops, n * sizeof *ops);
    c->n = n;
    c->hash = h;
    if (pgi_htab_put(&l->by_ctx, h, (uint32_t)l->n_ctxs)) {
        free(c->ops);
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
    }
    *out = (uint32_t)l->n_ctxs++;
    return PG_OK;
}

int
pgi_ledger_past_ctx(pg_ledger *l, const uint32_t *preds, size_t n, uint32_t *ctx, pg_error *err)
{
    if (n == 0) {
        *ctx = 0;
        return PG_OK;
    }
    uint32_t first = l->ops[preds[0]].ctx;
    size_t i = 1;
    while (i < n && l->ops[preds[i]].ctx == first)
        i++;
    if (i == n) {
        *ctx = first;
        return PG_OK;
    }
    /* Predecessors with different pasts: the union of their contexts, merged two at a time. */
    uint32_t *acc = NULL, *tmp = NULL;
    size_t na = 0;
    int rc = PG_OK;
    for (i = 0; i < n; i++) {
        uint32_t ci = l->ops[preds[i]].ctx;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = l->ops[preds[j]].ctx == ci;
        if (seen)
            continue;
        const pgi_ctx *c = &l->ctxs[ci];
        tmp = malloc((na + c->n + 1) * sizeof *tmp);
        if (!tmp) {
            rc = pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
            goto out;
        }
        size_t a = 0, b = 0, k = 0;
        while (a < na || b < c->n) {
            if (b == c->n || (a < na && acc[a] < c->ops[b]))
                tmp[k++] = acc[a++];
            else if (a == na || c->ops[b] < acc[a])
                tmp[k++] = c->ops[b++];
            else {
                tmp[k++] = acc[a++];
                b++;
            }
        }
        free(acc);
        acc = tmp;
        tmp = NULL;
        na = k;
    }
    rc = intern(l, acc, na, ctx, err);
out:
    free(acc);
    return rc;
}

int
pgi_ledger_own_ctx(pg_ledger *l, uint32_t ctx, uint32_t op, uint32_t *out, pg_error *err)
{
    uint8_t kind = l->ops[op].kind;
    if (kind != PG_LEDGER_MEMBER_ADD && kind != PG_LEDGER_MEMBER_REMOVE) {
        *out = ctx;
        return PG_OK;
    }
    const pgi_ctx *c = &l->ctxs[ctx];
    uint32_t *ops = malloc((c->n + 1) * sizeof *ops);
    if (!ops)
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
    if (c->n)
        memcpy(ops, c->ops, c->n * sizeof *ops);
    ops[c->n] = op; /* delivered after every op of its past: the greatest index */
    int rc = intern(l, ops, c->n + 1, out, err);
    free(ops);
    return rc;
}

/* ---------------------------------------------------------------- members */

typedef struct cand {
    pgi_member m;
    uint64_t height;
    const uint8_t *id;
} cand;

typedef struct gone {
    const uint8_t *key;
    uint32_t admission;
} gone;

static int
cmp_gone(const void *a, const void *b)
{
    const gone *x = a, *y = b;
    int c = memcmp(x->key, y->key, 32);
    return c ? c : (x->admission > y->admission) - (x->admission < y->admission);
}

/* By key, then the latest admission first: greatest height, then greatest id. */
static int
cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    int c = memcmp(x->m.key.b, y->m.key.b, 32);
    if (c)
        return c;
    if (x->height != y->height)
        return x->height > y->height ? -1 : 1;
    return -memcmp(x->id, y->id, 32);
}

int
pgi_ledger_eval_members(const pg_ledger *l, const uint32_t *ops, size_t n, pgi_member **out,
                        size_t *n_out, pg_error *err)
{
    const pg_ledger_genesis *g = &l->genesis->payload.genesis;
    size_t nc = g->n_members, ng = 0;
    for (size_t i = 0; i < n; i++) {
        const pgi_mop *m = &l->mops[l->ops[ops[i]].aux];
        nc += l->ops[ops[i]].kind == PG_LEDGER_MEMBER_ADD;
        ng += m->n_tags;
    }
    cand *c = malloc((nc + 1) * sizeof *c);
    gone *gs = malloc((ng + 1) * sizeof *gs);
    pgi_member *res = malloc((nc + 1) * sizeof *res);
    if (!c || !gs || !res) {
        free(c);
        free(gs);
        free(res);
        return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
    }
    size_t k = 0, kg = 0;
    for (size_t i = 0; i < g->n_members; i++)
        c[k++] = (cand){{g->members[i].key, g->members[i].name, 0}, 0, l->ops[0].id.b};
    for (size_t i = 0; i < n; i++) {
        const pgi_lop *o = &l->ops[ops[i]];
        const pgi_mop *m = &l->mops[o->aux];
        if (o->kind == PG_LEDGER_MEMBER_ADD)
            c[k++] = (cand){{m->key, m->name, ops[i]}, o->height, o->id.b};
        for (size_t t = 0; t < m->n_tags; t++)
            gs[kg++] = (gone){m->key.b, m->tags[t]};
    }
    qsort(gs, kg, sizeof *gs, cmp_gone);
    qsort(c, k, sizeof *c, cmp_cand);
    size_t nr = 0;
    for (size_t i = 0; i < k; i++) {
        if (nr && memcmp(res[nr - 1].key.b, c[i].m.key.b, 32) == 0)
            continue; /* an earlier admission of a key already a member */
        gone q = {c[i].m.key.b, c[i].m.admission};
        if (kg && bsearch(&q, gs, kg, sizeof *gs, cmp_gone))
            continue;
        res[nr++] = c[i].m;
    }
    free(c);
    free(gs);
    *out = res;
    *n_out = nr;
    return PG_OK;
}

int
pgi_ledger_ctx_members(pg_ledger *l, uint32_t ctx, const pgi_member **m, size_t *n, pg_error *err)
{
    pgi_ctx *c = &l->ctxs[ctx];
    if (!c->evaluated) {
        int rc = pgi_ledger_eval_members(l, c->ops, c->n, &c->members, &c->n_members, err);
        if (rc)
            return rc;
        c->evaluated = true;
    }
    *m = c->members;
    *n = c->n_members;
    return PG_OK;
}

const pgi_member *
pgi_member_find(const pgi_member *m, size_t n, const uint8_t key[32])
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(m[mid].key.b, key, 32);
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else
            return &m[mid];
    }
    return NULL;
}

/* ---------------------------------------------------------------- the rules */

static bool
key_in(const pg_ledger_pubkey *keys, size_t n, const uint8_t key[32])
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(keys[mid].b, key, 32);
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else
            return true;
    }
    return false;
}

static bool
genesis_member(const pg_ledger_genesis *g, const uint8_t key[32])
{
    for (size_t i = 0; i < g->n_members; i++)
        if (memcmp(g->members[i].key.b, key, 32) == 0)
            return true;
    return false;
}

static const char *const type_names[] = {
    "", "bid", "gate closure", "clearing result", "settlement", "demand-response record"};

/* The short form of a key or id in messages: its first 16 hex digits. */
static void
short_hex(const uint8_t *b, char out[17])
{
    char full[65];
    pg_ledger_hex(b, 32, full);
    memcpy(out, full, 16);
    out[16] = '\0';
}

static int
load_refs(pg_ledger *l, const uint32_t *x, size_t n, pg_ledger_op **ops, size_t at, pg_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pgi_ledger_load_op(l, x[i], &ops[at + i], err);
        if (rc)
            return rc;
    }
    return PG_OK;
}

/* The application's checker on a record: its refs as ops (a result: its gate, then the gate's
 * bids). */
static int
run_checker(pg_ledger *l, const pgi_opv *v, const pg_ledger_id *id, uint64_t height,
            const uint32_t *refs, pg_error *err)
{
    const pg_ledger_checker *ck = l->o.checker;
    pg_ledger_op *rec = NULL, **ops = NULL;
    uint32_t *bids = NULL;
    size_t n = v->n_refs, nb = 0;
    int rc = pgi_ledger_op_of_view(v, id, height, 0, &rec, err);
    if (rc)
        return rc;
    if (v->rtype == PG_LEDGER_RESULT) {
        /* The gate's bids, in the gate's order. */
        pg_ledger_op *gate = NULL;
        if ((rc = pgi_ledger_load_op(l, refs[0], &gate, err)))
            goto out;
        nb = gate->payload.record.n_refs;
        bids = malloc((nb + 1) * sizeof *bids);
        if (!bids) {
            pgi_ledger_op_free(gate);
            rc = pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
            goto out;
        }
        for (size_t i = 0; i < nb; i++)
            bids[i] = pgi_ledger_find(l, &gate->payload.record.refs[i]);
        pgi_ledger_op_free(gate);
    }
    ops = calloc(n + nb + 1, sizeof *ops);
    if (!ops) {
        rc = pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
        goto out;
    }
    if ((rc = load_refs(l, refs, n, ops, 0, err)) || (rc = load_refs(l, bids, nb, ops, n, err)))
        goto out;
    pg_error cerr = {0};
    int crc = ck->check(ck->ctx, rec, (const pg_ledger_op *const *)ops, n + nb, &cerr);
    if (crc != PG_OK)
        rc = pg_error_set(err, crc < 0 ? crc : PG_EMODEL, "%s refused the %s: %s",
                          ck->name ? ck->name : "the checker", type_names[v->rtype],
                          cerr.msg[0] ? cerr.msg : pg_strerror(crc < 0 ? crc : PG_EMODEL));
out:
    for (size_t i = 0; ops && i < n + nb; i++)
        pgi_ledger_op_free(ops[i]);
    free(ops);
    free(bids);
    pgi_ledger_op_free(rec);
    return rc;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int
check_record(pg_ledger *l, const pgi_opv *v, const pg_ledger_id *id, uint64_t height,
             const uint32_t *preds, const pgi_member *author, bool is_operator, pg_error *err)
{
    const char *what = type_names[v->rtype];
    uint32_t *refs = NULL;
    int rc = PG_OK;
    char a[17];
    short_hex(v->author, a);
    switch (v->rtype) {
    case PG_LEDGER_BID:
        if (!author)
            return pg_error_set(err, PG_EAUTH, "a bid by %s, who is not a member", a);
        if (v->node_len != strlen(author->name) || memcmp(v->node, author->name, v->node_len))
            return pg_error_set(err, PG_EMODEL,
                                "a bid for node '%.*s' by member '%s': a member bids for itself",
                                (int)v->node_len, v->node, author->name);
        break;
    case PG_LEDGER_DR:
        if (!author && !is_operator)
            return pg_error_set(err, PG_EAUTH,
                                "a demand-response record by %s, who is neither a member nor "
                                "an operator",
                                a);
        break;
    default:
        if (!is_operator)
            return pg_error_set(err, PG_EAUTH, "a %s by %s, who is not %s", what, a,
                                l->genesis->payload.genesis.n_operators ? "an operator"
                                                                        : "a member");
        break;
    }
    /* Every reference is one of the op's predecessors (both sets ascending). */
    if (v->n_refs) {
        refs = malloc(v->n_refs * sizeof *refs);
        if (!refs)
            return pg_error_set(err, PG_ENOMEM, "ledger: out of memory");
    }
    for (size_t i = 0, j = 0; i < v->n_refs; i++) {
        while (j < v->n_preds && memcmp(v->preds + 32 * j, v->refs + 32 * i, 32) < 0)
            j++;
        if (j == v->n_preds || memcmp(v->preds + 32 * j, v->refs + 32 * i, 32) != 0) {
            char r[17];
            short_hex(v->refs + 32 * i, r);
            rc = pg_error_set(err, PG_EMODEL,
                              "a %s refers to %s, which is not one of its predecessors", what, r);
            goto out;
        }
        refs[i] = preds[j];
    }
    if (v->rtype == PG_LEDGER_GATE) {
        for (size_t i = 0; i < v->n_refs; i++) {
            const pgi_lop *b = &l->ops[refs[i]];
            if (b->kind != PG_LEDGER_RECORD || b->rtype != PG_LEDGER_BID ||
                b->interval != v->interval) {
                char r[17];
                short_hex(b->id.b, r);
                rc = pg_error_set(err, PG_EMODEL,
                                  "a gate closure of interval %u names %s, which is not a bid of "
                                  "that interval",
                                  v->interval, r);
                goto out;
            }
            refs[i] = b->aux; /* its node, to find repeats */
        }
        if (v->n_refs > 1)
            qsort(refs, v->n_refs, sizeof *refs, cmp_u32);
        for (size_t i = 1; i < v->n_refs; i++)
            if (refs[i] == refs[i - 1]) {
                rc = pg_error_set(err, PG_EMODEL,
                                  "a gate closure of interval %u names two bids of node '%s'",
                                  v->interval, l->names[refs[i]]);
                goto out;
            }
        /* refs now holds nodes: the checker below resolves the ids again. */
        for (size_t i = 0, j = 0; i < v->n_refs; i++) {
            while (memcmp(v->preds + 32 * j, v->refs + 32 * i, 32) < 0)
                j++;
            refs[i] = preds[j];
        }
    } else if (v->rtype == PG_LEDGER_RESULT || v->rtype == PG_LEDGER_SETTLE) {
        const pgi_lop *r = &l->ops[refs[0]];
        uint8_t want = v->rtype == PG_LEDGER_RESULT ? PG_LEDGER_GATE : PG_LEDGER_RESULT;
        if (r->kind != PG_LEDGER_RECORD || r->rtype != want || r->interval != v->interval) {
            rc = pg_error_set(err, PG_EMODEL, "a %s of interval %u does not refer to a %s of it",
                              what, v->interval, type_names[want]);
            goto out;
        }
        if (v->rtype == PG_LEDGER_RESULT && memcmp(l->authors[r->author].b, v->author, 32) != 0) {
            rc = pg_error_set(err, PG_EMODEL,
                              "a clearing result of interval %u refers to a gate closure another "
                              "operator signed",
                              v->interval);
            goto out;
        }
    }
    if (l->o.checker && l->o.checker->check)
        rc = run_checker(l, v, id, height, refs, err);
out:
    free(refs);
    return rc;
}

int
pgi_ledger_check(pg_ledger *l, const pgi_opv *v, const pg_ledger_id *id, uint64_t height,
                 const uint32_t *preds, uint32_t ctx, pg_error *err)
{
    const pg_ledger_op *gop = l->genesis;
    const pg_ledger_genesis *g = &gop->payload.genesis;
    const pgi_member *ms;
    size_t nm;
    char a[17];
    int rc;
    if (v->kind == PG_LEDGER_GENESIS)
        return pg_error_set(err, PG_EMODEL, "a second genesis op");
    if ((rc = pgi_ledger_ctx_members(l, ctx, &ms, &nm, err)))
        return rc;
    const pgi_member *author = pgi_member_find(ms, nm, v->author);
    bool is_genesis = memcmp(v->author, gop->author.b, 32) == 0;
    bool may_admit = is_genesis || (g->admit == PG_LEDGER_ADMIT_MEMBERS && author);
    short_hex(v->author, a);
    switch (v->kind) {
    case PG_LEDGER_MEMBER_ADD: {
        if (!may_admit)
            return pg_error_set(err, PG_EAUTH, "%s may not admit members (%s)", a,
                                g->admit == PG_LEDGER_ADMIT_MEMBERS
                                    ? "only the genesis key and members may"
                                    : "only the genesis key may");
        for (size_t i = 0; i < nm; i++)
            if (strlen(ms[i].name) == v->name_len &&
                memcmp(ms[i].name, v->name, v->name_len) == 0 &&
                memcmp(ms[i].key.b, v->member, 32) != 0) {
                char k[17];
                short_hex(ms[i].key.b, k);
                return pg_error_set(err, PG_EMODEL,
                                    "admits a member as '%.*s', already the name of member %s",
                                    (int)v->name_len, v->name, k);
            }
        return PG_OK;
    }
    case PG_LEDGER_MEMBER_REMOVE: {
        if (!may_admit && memcmp(v->author, v->member, 32) != 0)
            return pg_error_set(err, PG_EAUTH, "%s may not remove members", a);
        const pgi_ctx *c = &l->ctxs[ctx];
        for (size_t i = 0; i < v->n_tags; i++) {
            uint32_t t = pgi_ledger_find(l, (const pg_ledger_id *)(v->tags + 32 * i));
            bool ok;
            if (t == 0)
                ok = genesis_member(g, v->member);
            else
                ok = t != PGI_NONE && pgi_in_sorted(c->ops, c->n, t) &&
                     l->ops[t].kind == PG_LEDGER_MEMBER_ADD &&
                     memcmp(l->mops[l->ops[t].aux].key.b, v->member, 32) == 0;
            if (!ok) {
                char tg[17];
                short_hex(v->tags + 32 * i, tg);
                return pg_error_set(err, PG_EMODEL,
                                    "removes admission %s, which is not an earlier admission of "
                                    "that key",
                                    tg);
            }
        }
        return PG_OK;
    }
    case PG_LEDGER_REGISTER:
    case PG_LEDGER_COUNTER:
        if (!author)
            return pg_error_set(err, PG_EAUTH, "a %s by %s, who is not a member",
                                v->kind == PG_LEDGER_REGISTER ? "register" : "counter", a);
        return PG_OK;
    case PG_LEDGER_RECORD: {
        bool is_operator =
            g->n_operators ? key_in(g->operators, g->n_operators, v->author) : author != NULL;
        return check_record(l, v, id, height, preds, author, is_operator, err);
    }
    default: return pg_error_set(err, PG_EMODEL, "kind %u", v->kind);
    }
}
