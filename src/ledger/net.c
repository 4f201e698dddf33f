/* The ledger on the lattice (pg_ledger_net): ops broadcast as they are made, and reconciliation
 * of two copies over the bus by request and reply, in the "PGLS" v1 messages of docs/ledger.md
 * ("Reconciliation"). A client (the copy that starts a run) sends SYNC: its heads and, with
 * algorithm 2 (Kleppmann & Howard), a Bloom filter of its ops keyed by a fresh random key; the
 * server answers with its heads, its own filter and the ops the client lacks. The client ingests
 * them at once, fetches what is still missing back along the graph with NEED (algorithm 1,
 * Kleppmann's PaPoC 2022 paper: a filter's false positive, or, without filters, everything), and,
 * holding all the server's ops, pushes the ops the server lacks (computed exactly from the
 * server's heads) with PUSH. Nothing blocks: requests are published with a reply subject of this
 * copy's, answers are handled in the bus's handlers, timeouts in pg_ledger_net_step. Every message
 * received is checked whole before anything is used; a peer that answers garbage, too much, or
 * not at all fails that run only.
 *
 * To answer quickly, the net keeps a mirror of the ledger's graph (ids, heights, predecessors, in
 * delivery order), caught up from pgi_ledger_each whenever the ledger has grown. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/util.h"
#include "ledger/bloom.h"
#include "ledger/graph.h"
#include "ledger/internal.h"

/* ---------------------------------------------------------------- limits and message types */

#define NET_VERSION 1
#define HDR 8
#define MAX_TOKEN 64   /* a copy's name */
#define MAX_HEADS 1024 /* heads sent in a message (beyond: flagged truncated) */
#define MAX_RUNS 64    /* reconciliations running at once */
/* Of which started by ops missing predecessors (their senders are not authenticated: a flood of
 * such ops could name made-up peers). */
#define MAX_AUTO_RUNS 4
#define MAX_ROUNDS 65536     /* requests one run may make */
#define MAX_ASKED (1u << 18) /* ids one run may ask for */
#define MIN_MESSAGE (16u << 10)
#define MAX_MESSAGE (900u << 10)

enum { T_OP = 1, T_SYNC = 2, T_REPLY = 3, T_NEED = 4, T_OPS = 5, T_PUSH = 6, T_OK = 7, T_ERR = 8 };
enum { F_FILTER = 1, F_TRUNCATED = 2, F_MORE = 4 };
enum { R_SYNC, R_NEED, R_PUSH, R_DONE, R_FAILED };

/* ---------------------------------------------------------------- the mirror of the graph */

typedef struct mirror {
    size_t n, cap;
    pg_ledger_id *ids;
    uint64_t *height;
    uint32_t *pred_off; /* n + 1 offsets into preds */
    uint32_t *preds;    /* indexes into ids */
    size_t npreds, preds_cap;
    uint32_t *table; /* open addressing: index + 1, 0 empty */
    size_t tcap;     /* a power of two, > 2 n */
    uint64_t last_seq;
} mirror;

static uint64_t
id_hash(const pg_ledger_id *id)
{
    uint64_t v;
    memcpy(&v, id->b, sizeof v); /* ids are hashes: any 8 bytes are uniform */
    return v;
}

static long
mirror_find(const mirror *m, const pg_ledger_id *id)
{
    if (!m->tcap)
        return -1;
    size_t mask = m->tcap - 1;
    for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t e = m->table[i];
        if (!e)
            return -1;
        if (!memcmp(m->ids[e - 1].b, id->b, 32))
            return (long)(e - 1);
    }
}

static int
mirror_grow_table(mirror *m)
{
    size_t cap = m->tcap ? m->tcap * 2 : 1024;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t j = 0; j < m->n; j++) {
        size_t i = id_hash(&m->ids[j]) & (cap - 1);
        while (t[i])
            i = (i + 1) & (cap - 1);
        t[i] = (uint32_t)(j + 1);
    }
    free(m->table);
    m->table = t;
    m->tcap = cap;
    return 0;
}

static int
mirror_add(mirror *m, const pg_ledger_op *op)
{
    if (m->n + 1 >= UINT32_MAX)
        return -1;
    if (m->n + 1 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        pg_ledger_id *ids = realloc(m->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        m->ids = ids;
        uint64_t *h = realloc(m->height, cap * sizeof *h);
        if (!h)
            return -1;
        m->height = h;
        uint32_t *po = realloc(m->pred_off, (cap + 1) * sizeof *po);
        if (!po)
            return -1;
        m->pred_off = po;
        m->cap = cap;
    }
    if (m->npreds + op->n_preds > m->preds_cap) {
        size_t cap = m->preds_cap ? m->preds_cap : 2048;
        while (cap < m->npreds + op->n_preds)
            cap *= 2;
        uint32_t *p = realloc(m->preds, cap * sizeof *p);
        if (!p)
            return -1;
        m->preds = p;
        m->preds_cap = cap;
    }
    if (2 * (m->n + 1) >= m->tcap && mirror_grow_table(m))
        return -1;
    if (m->n == 0)
        m->pred_off[0] = 0;
    for (size_t i = 0; i < op->n_preds; i++) {
        long p = mirror_find(m, &op->preds[i]);
        if (p >= 0) /* always: a delivered op's predecessors were delivered before it */
            m->preds[m->npreds++] = (uint32_t)p;
    }
    size_t j = m->n++;
    m->ids[j] = op->id;
    m->height[j] = op->height;
    m->pred_off[j + 1] = (uint32_t)m->npreds;
    size_t mask = m->tcap - 1, i = id_hash(&op->id) & mask;
    while (m->table[i])
        i = (i + 1) & mask;
    m->table[i] = (uint32_t)(j + 1);
    if (op->seq > m->last_seq)
        m->last_seq = op->seq;
    return 0;
}

static void
mirror_free(mirror *m)
{
    free(m->ids);
    free(m->height);
    free(m->pred_off);
    free(m->preds);
    free(m->table);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- a set of ids */

typedef struct idset {
    pg_ledger_id *slot;
    uint8_t *used;
    size_t n, cap;
} idset;

static bool
idset_has(const idset *s, const pg_ledger_id *id)
{
    if (!s->cap)
        return false;
    size_t mask = s->cap - 1;
    for (size_t i = id_hash(id) & mask; s->used[i]; i = (i + 1) & mask)
        if (!memcmp(s->slot[i].b, id->b, 32))
            return true;
    return false;
}

/* Adds id: 1 added, 0 there already, -1 out of memory. */
static int
idset_add(idset *s, const pg_ledger_id *id)
{
    if (idset_has(s, id))
        return 0;
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        idset t = {calloc(cap, sizeof *t.slot), calloc(cap, 1), 0, cap};
        if (!t.slot || !t.used) {
            free(t.slot);
            free(t.used);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i]) {
                size_t j = id_hash(&s->slot[i]) & (cap - 1);
                while (t.used[j])
                    j = (j + 1) & (cap - 1);
                t.slot[j] = s->slot[i];
                t.used[j] = 1;
            }
        t.n = s->n;
        free(s->slot);
        free(s->used);
        *s = t;
    }
    size_t mask = s->cap - 1, i = id_hash(id) & mask;
    while (s->used[i])
        i = (i + 1) & mask;
    s->slot[i] = *id;
    s->used[i] = 1;
    s->n++;
    return 1;
}

static void
idset_free(idset *s)
{
    free(s->slot);
    free(s->used);
    memset(s, 0, sizeof *s);
}

/* A list of ids to ask for, without repeats. */
typedef struct idlist {
    pg_ledger_id *v;
    size_t n, cap;
    idset seen;
} idlist;

/* Adds id unless listed already: 0, or -1 when out of memory or beyond MAX_ASKED. */
static int
idlist_add(idlist *w, const pg_ledger_id *id)
{
    int rc = idset_add(&w->seen, id);
    if (rc <= 0)
        return rc;
    if (w->n >= MAX_ASKED)
        return -1;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        pg_ledger_id *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return -1;
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = *id;
    return 0;
}

/* Adds id even when it was listed before (an id asked again). */
static int
idlist_again(idlist *w, const pg_ledger_id *id)
{
    if (idset_add(&w->seen, id) < 0)
        return -1;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        pg_ledger_id *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return -1;
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = *id;
    return 0;
}

static void
idlist_free(idlist *w)
{
    free(w->v);
    idset_free(&w->seen);
    memset(w, 0, sizeof *w);
}

/* ---------------------------------------------------------------- writing and reading messages */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} wbuf;

static void
w_bytes(wbuf *w, const void *d, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *p = realloc(w->p, cap);
        if (!p) {
            w->failed = true;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    if (n)
        memcpy(w->p + w->len, d, n);
    w->len += n;
}

static void
w_uint(wbuf *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, (size_t)bytes);
}

static void
w_header(wbuf *w, int type)
{
    const uint8_t h[HDR] = {'P', 'G', 'L', 'S', NET_VERSION, (uint8_t)type, 0, 0};
    w_bytes(w, h, HDR);
}

/* Overwrites bytes at pos (a count written before its items were known). */
static void
w_patch(wbuf *w, size_t pos, uint64_t v, int bytes)
{
    if (w->failed)
        return;
    for (int i = 0; i < bytes; i++)
        w->p[pos + (size_t)i] = (uint8_t)(v >> (8 * i));
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} rbuf;

static uint64_t
r_uint(rbuf *r, int bytes)
{
    if (r->bad || r->len - r->pos < (size_t)bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | r->p[r->pos + (size_t)i];
    r->pos += (size_t)bytes;
    return v;
}

static const uint8_t *
r_bytes(rbuf *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static size_t
r_left(const rbuf *r)
{
    return r->bad ? 0 : r->len - r->pos;
}

/* Reads the header; the type, or -1 when it is not a PGLS v1 header. */
static int
r_header(rbuf *r)
{
    const uint8_t *h = r_bytes(r, HDR);
    if (!h || memcmp(h, "PGLS", 4) || h[4] != NET_VERSION || h[6] || h[7] || h[5] < T_OP ||
        h[5] > T_ERR)
        return -1;
    return h[5];
}

/* The parts of a message that carry things: heads, a filter, ops, ids. Pointers borrow the
 * message. */
typedef struct parsed {
    uint64_t nonce;
    unsigned flags;
    size_t n_heads;
    const uint8_t *heads;
    bool has_filter;
    pgi_bloom filter; /* a view */
    size_t n_ops;
    const void **ops;
    size_t *lens;
    size_t n_ids;
    const uint8_t *ids;
    char text[200];
} parsed;

static void
parsed_free(parsed *m)
{
    free(m->ops);
    free(m->lens);
}

static bool
r_heads(rbuf *r, parsed *m)
{
    m->n_heads = (size_t)r_uint(r, 2);
    if (r->bad || m->n_heads > MAX_HEADS || m->n_heads * 32 > r_left(r))
        return false;
    m->heads = r_bytes(r, m->n_heads * 32);
    return !r->bad;
}

static bool
r_filter(rbuf *r, parsed *m)
{
    if (!(m->flags & F_FILTER))
        return true;
    const uint8_t *key = r_bytes(r, PGI_BLOOM_KEY_BYTES);
    unsigned k = (unsigned)r_uint(r, 1);
    uint32_t nbits = (uint32_t)r_uint(r, 4);
    if (r->bad || nbits % 8 || nbits / 8 > r_left(r))
        return false;
    const uint8_t *bits = r_bytes(r, nbits / 8);
    if (r->bad || !pgi_bloom_view(&m->filter, key, nbits, k, bits))
        return false;
    m->has_filter = true;
    return true;
}

static bool
r_ops(rbuf *r, parsed *m)
{
    uint64_t n = r_uint(r, 4);
    if (r->bad || n > r_left(r) / 5) /* each op: a length and at least one byte */
        return false;
    m->n_ops = (size_t)n;
    if (!n)
        return true;
    m->ops = malloc(n * sizeof *m->ops);
    m->lens = malloc(n * sizeof *m->lens);
    if (!m->ops || !m->lens)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = r_uint(r, 4);
        if (r->bad || len == 0 || len > PG_LEDGER_MAX_OP || len > r_left(r))
            return false;
        m->lens[i] = (size_t)len;
        m->ops[i] = r_bytes(r, (size_t)len);
    }
    return !r->bad;
}

static bool
r_ids(rbuf *r, parsed *m)
{
    uint64_t n = r_uint(r, 4);
    if (r->bad || n > r_left(r) / 32)
        return false;
    m->n_ids = (size_t)n;
    m->ids = r_bytes(r, m->n_ids * 32);
    return !r->bad;
}

/* Parses a whole message of type t after its header: every count against the bytes left before
 * anything is allocated, no byte left over. */
static bool
parse_body(rbuf *r, int t, parsed *m)
{
    memset(m, 0, sizeof *m);
    m->nonce = r_uint(r, 8);
    switch (t) {
    case T_SYNC:
        m->flags = (unsigned)r_uint(r, 1);
        if (m->flags & ~(unsigned)(F_FILTER | F_TRUNCATED) || !r_heads(r, m) || !r_filter(r, m))
            return false;
        break;
    case T_REPLY:
        m->flags = (unsigned)r_uint(r, 1);
        if (m->flags & ~(unsigned)(F_FILTER | F_TRUNCATED | F_MORE) || !r_heads(r, m) ||
            !r_filter(r, m) || !r_ops(r, m))
            return false;
        break;
    case T_OPS:
    case T_PUSH:
        m->flags = (unsigned)r_uint(r, 1);
        if (m->flags & ~(unsigned)F_MORE || !r_ops(r, m))
            return false;
        break;
    case T_NEED:
        if (!r_ids(r, m))
            return false;
        break;
    case T_OK: break;
    case T_ERR: {
        size_t n = (size_t)r_uint(r, 1);
        const uint8_t *s = r_bytes(r, n);
        if (!s)
            return false;
        for (size_t i = 0; i < n && i + 1 < sizeof m->text; i++)
            m->text[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
        break;
    }
    default: return false;
    }
    return !r->bad && r->pos == r->len;
}

/* ---------------------------------------------------------------- the net */

typedef struct run {
    struct run *next;
    char peer[MAX_TOKEN + 1];
    int state;
    uint64_t nonce, req; /* the request waiting: its number in the reply subject */
    double deadline;
    pg_ledger_id *peer_heads;
    size_t n_peer_heads;
    bool peer_truncated, more;
    pgi_bloom peer_filter; /* a copy */
    bool has_filter;
    idset asked;             /* ids asked for with NEED */
    idset pushed;            /* ids pushed */
    idlist want;             /* ids to ask for */
    pg_ledger_id *last_need; /* the ids of the NEED waiting for its answer */
    size_t n_last_need;
    uint32_t *push; /* mirror indexes to push, in delivery order */
    size_t n_push, push_pos;
    bool pushed_once;
    uint64_t requests;
    bool waited;
    bool automatic; /* started by an op that misses predecessors */
    int result;
    char why[256];
} run;

struct pg_ledger_net {
    pg_ledger *l;
    pg_bus *b;
    pg_ledger_net_options o;
    char *prefix, *self;
    char subj_op[PG_BUS_MAX_SUBJECT + 1];
    uint64_t sid_op, sid_sync, sid_reply;
    uint64_t req_counter;
    mirror m;
    run *runs;
    size_t n_runs;
    pg_ledger_net_stats st;
};

static void net_log(pg_ledger_net *n, pg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
net_log(pg_ledger_net *n, pg_log_level level, const char *fmt, ...)
{
    if (!n->o.log || level > n->o.log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    n->o.log(n->o.log_ud, level, msg);
}

void
pgi_ledger_net_options_init(pg_ledger_net_options *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = 2;
    o->max_message = MAX_MESSAGE;
    o->bloom = true;
    o->bloom_bits = 24;
    o->log_level = PG_LOG_WARN;
}

/* A copy's name: one subject token of at most MAX_TOKEN bytes. */
static bool
token_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > MAX_TOKEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '.' || s[i] == '*' || s[i] == '>')
            return false;
    return true;
}

static int
mirror_catch_up_cb(void *ud, const pg_ledger_op *op)
{
    return mirror_add(ud, op) ? 1 : 0;
}

/* Brings the mirror up to the ledger's delivered ops. */
static int
catch_up(pg_ledger_net *n, pg_error *err)
{
    if (pgi_ledger_count(n->l) == n->m.n)
        return PG_OK;
    pg_error e = {0};
    int rc = pgi_ledger_each(n->l, n->m.last_seq, mirror_catch_up_cb, &n->m, &e);
    if (rc < 0)
        return pg_error_set(err, rc, "ledger net: reading the ledger: %s", e.msg);
    if (rc > 0)
        return pg_error_set(err, PG_ENOMEM, "ledger net: out of memory for the graph");
    return PG_OK;
}

static int
publish(pg_ledger_net *n, const char *subject, const char *reply, const wbuf *w, pg_error *err)
{
    if (w->failed)
        return pg_error_set(err, PG_ENOMEM, "ledger net: out of memory for a message");
    int rc = pg_bus_publish_reply(n->b, subject, reply, w->p, w->len, err);
    if (rc == PG_OK)
        n->st.bytes_sent += w->len;
    return rc;
}

/* ---------------------------------------------------------------- what the other copy lacks */

/* My ops that a copy with heads (those I hold) lacks, in delivery order: the ops not ancestors
 * of those heads, among those at or above the lowest height of the ops the copy's filter does not
 * hold (and of my own heads: every op is below one of them, so an op the copy lacks that hides
 * in its filter is found back along the graph from a descendant it is sent). exact: the heads
 * are all the copy's heads, so every op not below them is lacking (the filter only bounds the
 * search); otherwise only those the filter does not hold are sent. *out malloc'd. */
static int
missing_for(pg_ledger_net *n, const pg_ledger_id *heads, size_t n_heads, const pgi_bloom *filter,
            bool exact, uint32_t **out, size_t *n_out, pg_error *err)
{
    int rc = PG_OK;
    mirror *m = &n->m;
    uint8_t *infilter = NULL, *mark = NULL;
    uint32_t *stack = NULL, *res = NULL;
    pg_ledger_id *mine = NULL;
    *out = NULL;
    *n_out = 0;
    if (!m->n)
        return PG_OK;
    infilter = calloc(m->n, 1);
    mark = calloc(m->n, 1);
    stack = malloc(m->n * sizeof *stack);
    if (!infilter || !mark || !stack)
        goto nomem;
    uint64_t floor = UINT64_MAX;
    for (size_t i = 0; i < m->n; i++) {
        infilter[i] = filter && pgi_bloom_has(filter, m->ids[i].b);
        if (!infilter[i] && m->height[i] < floor)
            floor = m->height[i];
    }
    size_t nh = 0;
    pgi_ledger_heads(n->l, NULL, 0, &nh, NULL);
    mine = malloc((nh ? nh : 1) * sizeof *mine);
    if (!mine || pgi_ledger_heads(n->l, mine, nh, NULL, NULL) != PG_OK)
        goto nomem;
    for (size_t i = 0; i < nh; i++) {
        long j = mirror_find(m, &mine[i]);
        if (j >= 0 && m->height[j] < floor)
            floor = m->height[j];
    }
    /* Mark what lies below the copy's heads, down to the floor. */
    size_t sp = 0;
    for (size_t i = 0; i < n_heads; i++) {
        long j = mirror_find(m, &heads[i]);
        if (j < 0)
            exact = false;
        else if (!mark[j] && m->height[j] >= floor) {
            mark[j] = 1;
            stack[sp++] = (uint32_t)j;
        }
    }
    while (sp) {
        uint32_t j = stack[--sp];
        for (uint32_t p = m->pred_off[j]; p < m->pred_off[j + 1]; p++) {
            uint32_t q = m->preds[p];
            if (!mark[q] && m->height[q] >= floor) {
                mark[q] = 1;
                stack[sp++] = q;
            }
        }
    }
    size_t cnt = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->height[i] >= floor && !mark[i] && (exact || !infilter[i]))
            stack[cnt++] = (uint32_t)i;
    if (cnt) {
        res = malloc(cnt * sizeof *res);
        if (!res)
            goto nomem;
        memcpy(res, stack, cnt * sizeof *res);
    }
    *out = res;
    *n_out = cnt;
    goto out;
nomem:
    rc = pg_error_set(err, PG_ENOMEM, "ledger net: out of memory");
out:
    free(infilter);
    free(mark);
    free(stack);
    free(mine);
    return rc;
}

/* Writes my heads (at most MAX_HEADS) with the flags byte before them at flags_pos. */
static unsigned
write_heads(pg_ledger_net *n, wbuf *w)
{
    pg_ledger_id heads[MAX_HEADS];
    size_t nh = 0;
    if (pgi_ledger_heads(n->l, heads, MAX_HEADS, &nh, NULL) != PG_OK) {
        w->failed = true; /* sent as out of memory */
        return 0;
    }
    unsigned flags = nh > MAX_HEADS ? F_TRUNCATED : 0;
    if (nh > MAX_HEADS)
        nh = MAX_HEADS;
    w_uint(w, nh, 2);
    w_bytes(w, heads, nh * 32);
    return flags;
}

/* Writes a filter of my most recent ops in at most budget bytes (nothing when it does not fit
 * one op). Returns F_FILTER when written. */
static unsigned
write_filter(pg_ledger_net *n, wbuf *w, size_t budget)
{
    mirror *m = &n->m;
    size_t overhead = PGI_BLOOM_KEY_BYTES + 1 + 4;
    if (budget < overhead + 8)
        return 0;
    size_t fit = (budget - overhead) * 8 / n->o.bloom_bits;
    size_t cover = m->n < fit ? m->n : fit;
    pgi_bloom f;
    if (pgi_bloom_init(&f, pgi_bloom_size(cover, n->o.bloom_bits), pgi_bloom_k(n->o.bloom_bits))) {
        w->failed = true;
        return 0;
    }
    if (overhead + f.nbits / 8 > budget) { /* the 64-bit minimum on a tiny budget */
        pgi_bloom_free(&f);
        return 0;
    }
    for (size_t i = m->n - cover; i < m->n; i++)
        pgi_bloom_add(&f, m->ids[i].b);
    w_bytes(w, f.key, sizeof f.key);
    w_uint(w, f.k, 1);
    w_uint(w, f.nbits, 4);
    w_bytes(w, f.bits, f.nbits / 8);
    pgi_bloom_free(&f);
    return F_FILTER;
}

/* Appends ops (mirror indexes list[*pos..]) after a count at the end of w until the message
 * would pass max_message (at least one op when none was written); *pos moves on. Returns the
 * number written, or -1 on a storage error. */
static long
write_ops(pg_ledger_net *n, wbuf *w, const uint32_t *list, size_t cnt, size_t *pos, pg_error *err)
{
    size_t count_pos = w->len, written = 0;
    w_uint(w, 0, 4);
    while (*pos < cnt) {
        uint8_t *op = NULL;
        size_t len = 0;
        int rc = pgi_ledger_get(n->l, &n->m.ids[list[*pos]], &op, &len, err);
        if (rc != PG_OK)
            return -1;
        if (written && w->len + 4 + len > n->o.max_message) {
            free(op);
            break;
        }
        w_uint(w, len, 4);
        w_bytes(w, op, len);
        free(op);
        written++;
        (*pos)++;
    }
    w_patch(w, count_pos, written, 4);
    n->st.ops_sent += written;
    return (long)written;
}

/* ---------------------------------------------------------------- serving a peer */

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void
serve_error(pg_ledger_net *n, const char *reply, uint64_t nonce, const char *what)
{
    wbuf w = {0};
    w_header(&w, T_ERR);
    w_uint(&w, nonce, 8);
    size_t len = strlen(what) > 199 ? 199 : strlen(what);
    w_uint(&w, len, 1);
    w_bytes(&w, what, len);
    publish(n, reply, NULL, &w, NULL);
    free(w.p);
}

/* The predecessors that ops (just ingested, some maybe held) lack and that are not in skip nor
 * held already (an op held is here: what it waits for is asked for from it), added to *want. Only
 * ops that decode and verify are looked into: a forged op cannot make this copy chase ids. */
static int
missing_preds(pg_ledger_net *n, const void *const *ops, const size_t *lens, size_t cnt,
              const idset *skip, idlist *want)
{
    /* The ops of the batch itself: one held for a missing predecessor is not to be asked for. */
    idset batch = {0};
    int rc = 0;
    pg_ledger_id *ids = malloc((cnt ? cnt : 1) * sizeof *ids);
    if (!ids)
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        crypto_generichash(ids[i].b, sizeof ids[i].b, ops[i], lens[i], NULL, 0);
        if (!pgi_ledger_has(n->l, &ids[i]) && idset_add(&batch, &ids[i]) < 0) {
            rc = -1;
            goto out;
        }
    }
    for (size_t i = 0; i < cnt; i++) {
        if (!idset_has(&batch, &ids[i]))
            continue;
        pg_ledger_op *op = NULL;
        if (pgi_ledger_op_decode(ops[i], lens[i], &op, NULL) != PG_OK)
            continue;
        for (size_t j = 0; j < op->n_preds && !rc; j++) {
            const pg_ledger_id *p = &op->preds[j];
            if (pgi_ledger_has(n->l, p) || idset_has(&batch, p) ||
                pgi_ledger_pending_has(n->l, p) || (skip && idset_has(skip, p)))
                continue;
            rc = idlist_add(want, p);
        }
        pgi_ledger_op_free(op);
        if (rc)
            goto out;
    }
out:
    idset_free(&batch);
    free(ids);
    return rc;
}

static int
ingest(pg_ledger_net *n, const parsed *m, pg_ledger_ingest_stats *st, pg_error *err)
{
    memset(st, 0, sizeof *st);
    if (!m->n_ops)
        return PG_OK;
    n->st.ops_received += m->n_ops;
    return pgi_ledger_ingest(n->l, m->ops, m->lens, m->n_ops, st, err);
}

static void
serve(pg_ledger_net *n, int t, const parsed *m, const char *reply)
{
    pg_error e = {0};
    wbuf w = {0};
    uint32_t *list = NULL;
    size_t cnt = 0, pos = 0;
    pg_ledger_id *ids = NULL;
    if (catch_up(n, &e) != PG_OK)
        goto fail;
    if (t == T_SYNC) {
        /* My heads, my filter (when the client sent one: algorithm 2), the ops it lacks. */
        w_header(&w, T_REPLY);
        w_uint(&w, m->nonce, 8);
        size_t flags_pos = w.len;
        w_uint(&w, 0, 1);
        unsigned flags = write_heads(n, &w);
        if (m->has_filter) {
            flags |= write_filter(n, &w, n->o.max_message / 2);
            ids = malloc((m->n_heads ? m->n_heads : 1) * sizeof *ids);
            if (!ids) {
                e.code = PG_ENOMEM;
                goto fail;
            }
            memcpy(ids, m->heads, m->n_heads * 32);
            if (missing_for(n, ids, m->n_heads, &m->filter, !(m->flags & F_TRUNCATED), &list, &cnt,
                            &e) != PG_OK)
                goto fail;
        }
        if (write_ops(n, &w, list, cnt, &pos, &e) < 0)
            goto fail;
        if (pos < cnt)
            flags |= F_MORE;
        w_patch(&w, flags_pos, flags, 1);
    } else if (t == T_NEED) {
        /* The ops asked for that I hold, as many as fit. */
        w_header(&w, T_OPS);
        w_uint(&w, m->nonce, 8);
        size_t flags_pos = w.len;
        w_uint(&w, 0, 1);
        list = malloc((m->n_ids ? m->n_ids : 1) * sizeof *list);
        if (!list) {
            e.code = PG_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < m->n_ids; i++) {
            pg_ledger_id id;
            memcpy(id.b, m->ids + 32 * i, 32);
            long j = mirror_find(&n->m, &id);
            if (j >= 0)
                list[cnt++] = (uint32_t)j;
        }
        qsort(list, cnt, sizeof *list, cmp_u32); /* delivery order: predecessors first */
        if (write_ops(n, &w, list, cnt, &pos, &e) < 0)
            goto fail;
        w_patch(&w, flags_pos, pos < cnt ? F_MORE : 0, 1);
    } else { /* T_PUSH: ingest, then ask for what is still missing */
        pg_ledger_ingest_stats st;
        if (ingest(n, m, &st, &e) != PG_OK)
            goto fail;
        idlist want = {0};
        if (st.pending && missing_preds(n, m->ops, m->lens, m->n_ops, NULL, &want)) {
            idlist_free(&want);
            e.code = PG_ENOMEM;
            goto fail;
        }
        size_t max_ids = (n->o.max_message - HDR - 12) / 32;
        if (want.n > max_ids)
            want.n = max_ids;
        if (want.n) {
            w_header(&w, T_NEED);
            w_uint(&w, m->nonce, 8);
            w_uint(&w, want.n, 4);
            w_bytes(&w, want.v, want.n * 32);
            idlist_free(&want);
        } else {
            w_header(&w, T_OK);
            w_uint(&w, m->nonce, 8);
        }
    }
    if (publish(n, reply, NULL, &w, &e) == PG_OK)
        n->st.served++;
    else
        net_log(n, PG_LOG_WARN, "ledger: cannot answer %s: %s", reply, e.msg);
    goto out;
fail:
    net_log(n, PG_LOG_WARN, "ledger: cannot answer %s: %s", reply,
            e.msg[0] ? e.msg : pg_strerror(e.code));
    serve_error(n, reply, m->nonce, e.msg[0] ? e.msg : pg_strerror(e.code));
out:
    free(w.p);
    free(list);
    free(ids);
}

static void
on_sync(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    pg_ledger_net *n = ctx;
    n->st.bytes_received += len;
    rbuf r = {data, len, 0, false};
    int t = r_header(&r);
    parsed m;
    memset(&m, 0, sizeof m);
    if (!reply || (t != T_SYNC && t != T_NEED && t != T_PUSH) || !parse_body(&r, t, &m)) {
        if (t == T_SYNC || t == T_NEED || t == T_PUSH)
            parsed_free(&m);
        n->st.bad_messages++;
        net_log(n, PG_LOG_DEBUG, "ledger: a malformed request (%zu bytes) dropped", len);
        return;
    }
    serve(n, t, &m, reply);
    parsed_free(&m);
}

/* ---------------------------------------------------------------- running a reconciliation */

static run *
find_run(pg_ledger_net *n, const char *peer)
{
    for (run *r = n->runs; r; r = r->next)
        if (r->state != R_DONE && r->state != R_FAILED && !strcmp(r->peer, peer))
            return r;
    return NULL;
}

static void
run_free(run *r)
{
    free(r->peer_heads);
    pgi_bloom_free(&r->peer_filter);
    idset_free(&r->asked);
    idset_free(&r->pushed);
    idlist_free(&r->want);
    free(r->last_need);
    free(r->push);
    free(r);
}

static void
run_unlink(pg_ledger_net *n, run *r)
{
    for (run **p = &n->runs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            n->n_runs--;
            return;
        }
}

/* Ends a run: counted, logged, freed unless pg_ledger_net_sync waits for it. */
static void finish(pg_ledger_net *n, run *r, int result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
finish(pg_ledger_net *n, run *r, int result, const char *fmt, ...)
{
    r->state = result == PG_OK ? R_DONE : R_FAILED;
    r->result = result;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, sizeof r->why, fmt, ap);
        va_end(ap);
    }
    if (result == PG_OK) {
        n->st.completed++;
        net_log(n, PG_LOG_DEBUG, "ledger: reconciled with %s (%llu requests)", r->peer,
                (unsigned long long)r->requests);
    } else {
        n->st.failed++;
        net_log(n, PG_LOG_WARN, "ledger: reconciliation with %s failed: %s", r->peer, r->why);
    }
    if (!r->waited) {
        run_unlink(n, r);
        run_free(r);
    }
}

/* Publishes w as the run's next request; on failure the run fails. */
static void
send_request(pg_ledger_net *n, run *r, wbuf *w, int state)
{
    char subject[PG_BUS_MAX_SUBJECT + 1], reply[PG_BUS_MAX_SUBJECT + 1];
    pg_error e = {0};
    r->req = ++n->req_counter;
    snprintf(subject, sizeof subject, "%s.sync.%s", n->prefix, r->peer);
    snprintf(reply, sizeof reply, "%s.reply.%s.%llu", n->prefix, n->self,
             (unsigned long long)r->req);
    r->state = state;
    r->deadline = pgi_now() + n->o.timeout_s;
    int rc = publish(n, subject, reply, w, &e);
    free(w->p);
    w->p = NULL;
    if (rc != PG_OK)
        finish(n, r, rc, "cannot send a request: %s", e.msg);
}

static void
send_sync(pg_ledger_net *n, run *r)
{
    pg_error e = {0};
    wbuf w = {0};
    if (catch_up(n, &e) != PG_OK) {
        finish(n, r, e.code, "%s", e.msg);
        return;
    }
    w_header(&w, T_SYNC);
    w_uint(&w, r->nonce, 8);
    size_t flags_pos = w.len;
    w_uint(&w, 0, 1);
    unsigned flags = write_heads(n, &w);
    if (n->o.bloom && w.len < n->o.max_message)
        flags |= write_filter(n, &w, n->o.max_message - w.len);
    w_patch(&w, flags_pos, flags, 1);
    send_request(n, r, &w, R_SYNC);
}

static void
send_push(pg_ledger_net *n, run *r)
{
    pg_error e = {0};
    wbuf w = {0};
    w_header(&w, T_PUSH);
    w_uint(&w, r->nonce, 8);
    size_t flags_pos = w.len;
    w_uint(&w, 0, 1);
    size_t first = r->push_pos;
    if (write_ops(n, &w, r->push, r->n_push, &r->push_pos, &e) < 0) {
        free(w.p);
        finish(n, r, e.code, "%s", e.msg);
        return;
    }
    for (size_t i = first; i < r->push_pos; i++)
        if (idset_add(&r->pushed, &n->m.ids[r->push[i]]) < 0) {
            free(w.p);
            finish(n, r, PG_ENOMEM, "out of memory");
            return;
        }
    w_patch(&w, flags_pos, r->push_pos < r->n_push ? F_MORE : 0, 1);
    send_request(n, r, &w, R_PUSH);
}

/* After ops arrived (and were ingested): ask for what is missing, or continue, or push. */
static void
advance(pg_ledger_net *n, run *r, const parsed *m)
{
    bool more = r->more; /* the last SYNC's answer was partial: ask again once nothing is missing */
    pg_error e = {0};
    if (catch_up(n, &e) != PG_OK) {
        finish(n, r, e.code, "%s", e.msg);
        return;
    }
    if (missing_preds(n, m->ops, m->lens, m->n_ops, &r->asked, &r->want)) {
        finish(n, r, PG_ELIMIT, "%s made this copy ask for more than %u ops (or memory ran out)",
               r->peer, MAX_ASKED);
        return;
    }
    if (!more && r->state == R_SYNC) /* the peer's heads I lack (a filter's false positive) */
        for (size_t i = 0; i < r->n_peer_heads; i++) {
            const pg_ledger_id *h = &r->peer_heads[i];
            if (pgi_ledger_has(n->l, h) || idset_has(&r->asked, h))
                continue;
            if (idlist_add(&r->want, h)) {
                finish(n, r, PG_ENOMEM, "out of memory");
                return;
            }
        }
    if (r->requests >= MAX_ROUNDS) {
        finish(n, r, PG_ELIMIT, "%s needed more than %d requests", r->peer, MAX_ROUNDS);
        return;
    }
    if (r->want.n) {
        /* Algorithm 1: fetch back along the graph. */
        size_t max_ids = (n->o.max_message - HDR - 12) / 32, k = 0;
        wbuf w = {0};
        w_header(&w, T_NEED);
        w_uint(&w, r->nonce, 8);
        size_t count_pos = w.len;
        w_uint(&w, 0, 4);
        free(r->last_need);
        r->n_last_need = 0;
        r->last_need = malloc((r->want.n < max_ids ? r->want.n : max_ids) * sizeof *r->last_need);
        if (!r->last_need) {
            free(w.p);
            finish(n, r, PG_ENOMEM, "out of memory");
            return;
        }
        while (r->want.n && k < max_ids) {
            pg_ledger_id id = r->want.v[--r->want.n];
            if (pgi_ledger_has(n->l, &id))
                continue;
            if (idset_add(&r->asked, &id) < 0 || r->asked.n > MAX_ASKED) {
                free(w.p);
                finish(n, r, PG_ELIMIT, "%s made this copy ask for more than %u ops", r->peer,
                       MAX_ASKED);
                return;
            }
            r->last_need[r->n_last_need++] = id;
            w_bytes(&w, id.b, 32);
            k++;
        }
        if (!r->want.n) { /* all asked: start the next list afresh */
            idlist_free(&r->want);
        }
        if (k) {
            w_patch(&w, count_pos, k, 4);
            send_request(n, r, &w, R_NEED);
            return;
        }
        free(w.p);
    }
    if (more) { /* the peer had more than one message of ops: ask again */
        send_sync(n, r);
        return;
    }
    /* Everything the peer has is here: push what it lacks. */
    free(r->push);
    r->push = NULL;
    r->n_push = r->push_pos = 0;
    if (missing_for(n, r->peer_heads, r->n_peer_heads, r->has_filter ? &r->peer_filter : NULL,
                    !r->peer_truncated, &r->push, &r->n_push, &e) != PG_OK) {
        finish(n, r, e.code, "%s", e.msg);
        return;
    }
    if (!r->n_push) {
        finish(n, r, PG_OK, NULL);
        return;
    }
    send_push(n, r);
}

/* Checks an answer to NEED: it holds ops asked for (an honest peer has every op it named: its
 * heads and the predecessors of its ops), all of them unless more follows, when those left are
 * asked again. NULL when it does, else what is wrong. */
static const char *
check_need_answer(pg_ledger_net *n, run *r, const parsed *m)
{
    idset got = {0};
    size_t asked_got = 0;
    const char *why = NULL;
    for (size_t i = 0; i < m->n_ops; i++) {
        pg_ledger_id id;
        crypto_generichash(id.b, sizeof id.b, m->ops[i], m->lens[i], NULL, 0);
        if (idset_add(&got, &id) < 0) {
            why = "out of memory";
            goto out;
        }
    }
    for (size_t i = 0; i < r->n_last_need; i++) {
        if (idset_has(&got, &r->last_need[i]))
            asked_got++;
        else if (!(m->flags & F_MORE) && !pgi_ledger_has(n->l, &r->last_need[i])) {
            why = "did not send the ops it named";
            goto out;
        } else if (!pgi_ledger_has(n->l, &r->last_need[i]) &&
                   idlist_again(&r->want, &r->last_need[i]) < 0) {
            why = "out of memory";
            goto out;
        }
    }
    if (!asked_got && r->n_last_need)
        why = "did not send the ops it named";
out:
    idset_free(&got);
    return why;
}

static void
on_answer(pg_ledger_net *n, run *r, int t, const parsed *m)
{
    pg_error e = {0};
    r->requests++;
    n->st.requests++;
    n->st.round_trips += !(r->state == R_PUSH && !r->pushed_once && t == T_OK);
    if (t == T_ERR) {
        finish(n, r, PG_ENET, "%s answered: %s", r->peer, m->text);
        return;
    }
    if (m->nonce != r->nonce) {
        finish(n, r, PG_ENET, "%s answered another reconciliation", r->peer);
        return;
    }
    pg_ledger_ingest_stats st;
    switch (r->state) {
    case R_SYNC:
        if (t != T_REPLY)
            break;
        if ((m->flags & F_MORE) && !m->n_ops) {
            /* A partial answer carries at least one op (write_ops): without one, asking again
             * could go on for MAX_ROUNDS requests of up to max_message bytes each. */
            finish(n, r, PG_ENET, "%s said more ops were to come but sent none", r->peer);
            return;
        }
        free(r->peer_heads);
        r->peer_heads = malloc((m->n_heads ? m->n_heads : 1) * sizeof *r->peer_heads);
        if (!r->peer_heads) {
            finish(n, r, PG_ENOMEM, "out of memory");
            return;
        }
        memcpy(r->peer_heads, m->heads, m->n_heads * 32);
        r->n_peer_heads = m->n_heads;
        r->peer_truncated = m->flags & F_TRUNCATED;
        pgi_bloom_free(&r->peer_filter);
        r->has_filter = false;
        if (m->has_filter) {
            if (pgi_bloom_init(&r->peer_filter, m->filter.nbits, m->filter.k)) {
                finish(n, r, PG_ENOMEM, "out of memory");
                return;
            }
            memcpy(r->peer_filter.key, m->filter.key, sizeof r->peer_filter.key);
            memcpy(r->peer_filter.bits, m->filter.bits, m->filter.nbits / 8);
            r->has_filter = true;
        }
        if (ingest(n, m, &st, &e) != PG_OK) {
            finish(n, r, e.code, "%s", e.msg);
            return;
        }
        r->more = m->flags & F_MORE;
        advance(n, r, m);
        return;
    case R_NEED:
        if (t != T_OPS)
            break;
        const char *why = check_need_answer(n, r, m);
        if (why) {
            finish(n, r, PG_ENET, "%s %s", r->peer, why);
            return;
        }
        if (ingest(n, m, &st, &e) != PG_OK) {
            finish(n, r, e.code, "%s", e.msg);
            return;
        }
        advance(n, r, m);
        return;
    case R_PUSH:
        if (t == T_OK) {
            r->pushed_once = true;
            if (r->push_pos < r->n_push)
                send_push(n, r);
            else
                finish(n, r, PG_OK, NULL);
            return;
        }
        if (t != T_NEED)
            break;
        r->pushed_once = true;
        /* The peer lacks predecessors of what it got: push those (and go on after). */
        if (catch_up(n, &e) != PG_OK) {
            finish(n, r, e.code, "%s", e.msg);
            return;
        }
        size_t extra = 0;
        uint32_t *list = malloc((m->n_ids + r->n_push - r->push_pos + 1) * sizeof *list);
        if (!list) {
            finish(n, r, PG_ENOMEM, "out of memory");
            return;
        }
        for (size_t i = 0; i < m->n_ids; i++) {
            pg_ledger_id id;
            memcpy(id.b, m->ids + 32 * i, 32);
            if (idset_has(&r->pushed, &id)) { /* it has it, or rejected it: not again */
                free(list);
                finish(n, r, PG_ENET, "%s asked again for an op it was sent", r->peer);
                return;
            }
            long j = mirror_find(&n->m, &id);
            if (j >= 0)
                list[extra++] = (uint32_t)j;
        }
        if (!extra) {
            free(list);
            finish(n, r, PG_ENET, "%s asked for ops this copy never had", r->peer);
            return;
        }
        /* Earlier ones first (delivery order: the indexes), then the rest of the push. */
        qsort(list, extra, sizeof *list, cmp_u32);
        memcpy(list + extra, r->push + r->push_pos, (r->n_push - r->push_pos) * sizeof *list);
        free(r->push);
        r->push = list;
        r->n_push = extra + r->n_push - r->push_pos;
        r->push_pos = 0;
        send_push(n, r);
        return;
    }
    finish(n, r, PG_ENET, "%s answered with an unexpected message", r->peer);
}

static void
on_reply(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    pg_ledger_net *n = ctx;
    n->st.bytes_received += len;
    const char *dot = strrchr(subject, '.');
    char *end = NULL;
    unsigned long long req = dot ? strtoull(dot + 1, &end, 10) : 0;
    run *r = n->runs;
    if (end && !*end)
        for (; r &&
               !(r->req == req && (r->state == R_SYNC || r->state == R_NEED || r->state == R_PUSH));
             r = r->next)
            ;
    if (!end || *end || !r) {
        n->st.bad_messages++;
        net_log(n, PG_LOG_DEBUG, "ledger: an unexpected answer on %s dropped", subject);
        return;
    }
    rbuf rb = {data, len, 0, false};
    int t = r_header(&rb);
    parsed m;
    bool ok = t > 0 && parse_body(&rb, t, &m);
    if (!ok) {
        if (t > 0)
            parsed_free(&m);
        n->st.bad_messages++;
        finish(n, r, PG_ENET, "%s answered with a malformed message (%zu bytes)", r->peer, len);
        return;
    }
    on_answer(n, r, t, &m);
    parsed_free(&m);
}

/* ---------------------------------------------------------------- ops as they are made */

static int start_run(pg_ledger_net *n, const char *peer, run **out, pg_error *err);

static void
on_op(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject, (void)reply;
    pg_ledger_net *n = ctx;
    n->st.bytes_received += len;
    rbuf r = {data, len, 0, false};
    char sender[MAX_TOKEN + 1] = "";
    int t = r_header(&r);
    size_t slen = (size_t)r_uint(&r, 1);
    const uint8_t *s = slen <= MAX_TOKEN ? r_bytes(&r, slen) : NULL;
    size_t oplen = (size_t)r_uint(&r, 4);
    const uint8_t *op = oplen && oplen <= PG_LEDGER_MAX_OP ? r_bytes(&r, oplen) : NULL;
    if (s)
        memcpy(sender, s, slen);
    if (t != T_OP || !s || !op || r.bad || r.pos != r.len || !token_valid(sender)) {
        n->st.bad_messages++;
        net_log(n, PG_LOG_DEBUG, "ledger: a malformed op message (%zu bytes) dropped", len);
        return;
    }
    if (!strcmp(sender, n->self))
        return;
    pg_ledger_ingest_stats st;
    pg_error e = {0};
    const void *ops[1] = {op};
    n->st.ops_received++;
    if (pgi_ledger_ingest(n->l, ops, &oplen, 1, &st, &e) != PG_OK) {
        net_log(n, PG_LOG_ERROR, "ledger: cannot store an op from %s: %s", sender, e.msg);
        return;
    }
    if (st.pending && !find_run(n, sender)) {
        size_t automatic = 0;
        for (run *q = n->runs; q; q = q->next)
            automatic += q->automatic && q->state != R_DONE && q->state != R_FAILED;
        if (automatic >= MAX_AUTO_RUNS) {
            net_log(n, PG_LOG_DEBUG,
                    "ledger: an op from %s misses predecessors; %d such reconciliations run "
                    "already",
                    sender, MAX_AUTO_RUNS);
            return;
        }
        net_log(n, PG_LOG_DEBUG, "ledger: an op from %s misses predecessors: reconciling", sender);
        run *rr;
        if (start_run(n, sender, &rr, &e) != PG_OK)
            net_log(n, PG_LOG_DEBUG, "ledger: cannot reconcile with %s: %s", sender, e.msg);
        else
            rr->automatic = true;
    }
}

/* ---------------------------------------------------------------- the public functions */

int
pgi_ledger_net_new(pg_ledger_net **out, pg_ledger *l, pg_bus *b, const pg_ledger_net_options *o,
                   pg_error *err)
{
    int rc = PG_OK;
    pg_ledger_net *n = NULL;
    char pattern[PG_BUS_MAX_SUBJECT + 1];
    if (!out || !l || !b)
        return pg_error_set(err, PG_EINVAL, "ledger net: no ledger or bus given");
    pg_ledger_net_options def;
    if (!o) {
        pgi_ledger_net_options_init(&def);
        o = &def;
    }
    if (!o->prefix || !pg_bus_subject_valid(o->prefix, false) ||
        strlen(o->prefix) > PG_BUS_MAX_SUBJECT - 2 * MAX_TOKEN - 32)
        return pg_error_set(err, PG_EINVAL,
                            "ledger net: the prefix \"%s\" is not a valid subject of at most %d "
                            "bytes",
                            o->prefix ? o->prefix : "", PG_BUS_MAX_SUBJECT - 2 * MAX_TOKEN - 32);
    if (!token_valid(o->self))
        return pg_error_set(err, PG_EINVAL,
                            "ledger net: the name \"%s\" is not one subject token of 1 to %d "
                            "printable bytes without '.', '*' or '>'",
                            o->self ? o->self : "", MAX_TOKEN);
    if (!(o->timeout_s > 0) || o->timeout_s > 86400)
        return pg_error_set(err, PG_EINVAL, "ledger net: timeout_s must be in (0, 86400] s");
    if (o->max_message && (o->max_message < MIN_MESSAGE || o->max_message > MAX_MESSAGE))
        return pg_error_set(err, PG_EINVAL, "ledger net: max_message must be %u to %u bytes",
                            MIN_MESSAGE, MAX_MESSAGE);
    if (o->bloom_bits && (o->bloom_bits < 4 || o->bloom_bits > 64))
        return pg_error_set(err, PG_EINVAL, "ledger net: bloom_bits must be 4 to 64");
    n = calloc(1, sizeof *n);
    if (!n)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    n->l = l;
    n->b = b;
    n->o = *o;
    if (!n->o.max_message)
        n->o.max_message = MAX_MESSAGE;
    if (!n->o.bloom_bits)
        n->o.bloom_bits = 24;
    n->prefix = pgi_strdup(o->prefix);
    n->self = pgi_strdup(o->self);
    if (!n->prefix || !n->self) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    n->o.prefix = n->prefix;
    n->o.self = n->self;
    if ((rc = pgi_ledger_sodium(err)) != PG_OK || (rc = catch_up(n, err)) != PG_OK)
        goto out;
    snprintf(n->subj_op, sizeof n->subj_op, "%s.op", n->prefix);
    if ((rc = pg_bus_subscribe(b, n->subj_op, on_op, n, &n->sid_op, err)) != PG_OK)
        goto out;
    snprintf(pattern, sizeof pattern, "%s.sync.%s", n->prefix, n->self);
    if ((rc = pg_bus_subscribe(b, pattern, on_sync, n, &n->sid_sync, err)) != PG_OK) {
        pg_bus_unsubscribe(b, n->sid_op, NULL);
        goto out;
    }
    snprintf(pattern, sizeof pattern, "%s.reply.%s.*", n->prefix, n->self);
    if ((rc = pg_bus_subscribe(b, pattern, on_reply, n, &n->sid_reply, err)) != PG_OK) {
        pg_bus_unsubscribe(b, n->sid_op, NULL);
        pg_bus_unsubscribe(b, n->sid_sync, NULL);
        goto out;
    }
    *out = n;
    n = NULL;
out:
    if (n) {
        mirror_free(&n->m);
        free(n->prefix);
        free(n->self);
        free(n);
    }
    return rc;
}

void
pgi_ledger_net_free(pg_ledger_net *n)
{
    if (!n)
        return;
    pg_bus_unsubscribe(n->b, n->sid_op, NULL);
    pg_bus_unsubscribe(n->b, n->sid_sync, NULL);
    pg_bus_unsubscribe(n->b, n->sid_reply, NULL);
    while (n->runs) {
        run *r = n->runs;
        n->runs = r->next;
        run_free(r);
    }
    mirror_free(&n->m);
    free(n->prefix);
    free(n->self);
    free(n);
}

int
pgi_ledger_net_publish(pg_ledger_net *n, const pg_ledger_id *id, pg_error *err)
{
    uint8_t *op = NULL;
    size_t len = 0;
    int rc = pgi_ledger_get(n->l, id, &op, &len, err);
    if (rc != PG_OK)
        return rc;
    wbuf w = {0};
    w_header(&w, T_OP);
    w_uint(&w, strlen(n->self), 1);
    w_bytes(&w, n->self, strlen(n->self));
    w_uint(&w, len, 4);
    w_bytes(&w, op, len);
    free(op);
    rc = publish(n, n->subj_op, NULL, &w, err);
    if (rc == PG_OK)
        n->st.ops_sent++;
    free(w.p);
    return rc;
}

static int
start_run(pg_ledger_net *n, const char *peer, run **out, pg_error *err)
{
    if (!token_valid(peer))
        return pg_error_set(err, PG_EINVAL,
                            "ledger net: the peer \"%s\" is not one subject token of 1 to %d "
                            "printable bytes without '.', '*' or '>'",
                            peer ? peer : "", MAX_TOKEN);
    if (!strcmp(peer, n->self))
        return pg_error_set(err, PG_EINVAL, "ledger net: %s cannot reconcile with itself", peer);
    run *r = find_run(n, peer);
    if (r) {
        *out = r;
        return PG_OK;
    }
    if (n->n_runs >= MAX_RUNS)
        return pg_error_set(err, PG_ELIMIT,
                            "ledger net: %d reconciliations are running already; %s must wait",
                            MAX_RUNS, peer);
    r = calloc(1, sizeof *r);
    if (!r)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    strcpy(r->peer, peer);
    randombytes_buf(&r->nonce, sizeof r->nonce);
    r->next = n->runs;
    n->runs = r;
    n->n_runs++;
    n->st.reconciliations++;
    r->waited = true; /* kept while it starts: send_sync may finish it */
    send_sync(n, r);
    r->waited = false;
    if (r->state == R_FAILED) {
        int rc = pg_error_set(err, r->result, "ledger net: %s", r->why);
        run_unlink(n, r);
        run_free(r);
        return rc;
    }
    *out = r;
    return PG_OK;
}

int
pgi_ledger_net_reconcile(pg_ledger_net *n, const char *peer, pg_error *err)
{
    run *r;
    return start_run(n, peer, &r, err);
}

int
pgi_ledger_net_step(pg_ledger_net *n, double now, pg_error *err)
{
    (void)err;
    for (run *r = n->runs, *next; r; r = next) {
        next = r->next;
        if ((r->state == R_SYNC || r->state == R_NEED || r->state == R_PUSH) && now > r->deadline)
            finish(n, r, PG_ENET, "%s did not answer within %g s", r->peer, n->o.timeout_s);
    }
    return PG_OK;
}

bool
pgi_ledger_net_idle(const pg_ledger_net *n)
{
    for (const run *r = n->runs; r; r = r->next)
        if (r->state == R_SYNC || r->state == R_NEED || r->state == R_PUSH)
            return false;
    return true;
}

/* Polls the bus until run r ends or end passes (the run then fails); frees r unless another
 * caller waits for it. Its result. */
static int
wait_run(pg_ledger_net *n, run *r, double end, double timeout_s, char *why, size_t why_len)
{
    bool was_waited = r->waited;
    r->waited = true;
    while (r->state != R_DONE && r->state != R_FAILED) {
        pg_error e = {0};
        double now = pgi_now();
        if (now > end) {
            finish(n, r, PG_ENET, "no reconciliation with %s within %g s", r->peer, timeout_s);
            break;
        }
        double wait = end - now < 0.01 ? end - now : 0.01;
        if (pg_bus_poll(n->b, wait, NULL, &e) != PG_OK) {
            finish(n, r, e.code ? e.code : PG_ENET, "the bus failed: %s", e.msg);
            break;
        }
        pgi_ledger_net_step(n, pgi_now(), NULL);
    }
    int rc = r->result;
    snprintf(why, why_len, "%s", r->why);
    if (!was_waited) {
        run_unlink(n, r);
        run_free(r);
    } else
        r->waited = false;
    return rc;
}

int
pgi_ledger_net_sync(pg_ledger_net *n, const char *peer, double timeout_s, pg_error *err)
{
    if (!(timeout_s >= 0))
        return pg_error_set(err, PG_EINVAL, "ledger net: timeout_s must be >= 0");
    char why[256];
    double end = pgi_now() + timeout_s;
    /* A run with peer started before this call (by a held op, say) may have asked before the
     * ops this call must see were made: let it end, then run one of this call's own. */
    run *r = token_valid(peer) ? find_run(n, peer) : NULL;
    if (r && wait_run(n, r, end, timeout_s, why, sizeof why) != PG_OK && pgi_now() > end)
        return pg_error_set(err, PG_ENET, "ledger: reconciliation with %s failed: %s", peer, why);
    int rc = start_run(n, peer, &r, err);
    if (rc != PG_OK)
        return rc;
    rc = wait_run(n, r, end, timeout_s, why, sizeof why);
    if (rc != PG_OK)
        return pg_error_set(err, PG_ENET, "ledger: reconciliation with %s failed: %s", peer, why);
    return PG_OK;
}

void
pgi_ledger_net_get_stats(const pg_ledger_net *n, pg_ledger_net_stats *s)
{
    *s = n->st;
}
