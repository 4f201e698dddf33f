/* Ops: the canonical encoding of docs/ledger.md "Ops" (little-endian; magic, version, kind,
 * author, predecessors, payload, Ed25519 signature over everything before it), its parser, which
 * accepts exactly one encoding of each op (sets strictly ascending, no trailing bytes, every limit
 * checked), and the decoded form of the public API. The encoder runs the parser on what it made,
 * so a structurally invalid op is never signed. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"

/* ---------------------------------------------------------------- reading */

typedef struct rd {
    const uint8_t *p, *end;
    pg_error *err;
    const char *what; /* what is being read, for messages */
} rd;

static int
need(rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return pg_error_set(r->err, PG_EPARSE, "op: %s: the encoding ends too soon", r->what);
    return PG_OK;
}

static int
u8(rd *r, uint8_t *v)
{
    if (need(r, 1))
        return PG_EPARSE;
    *v = *r->p++;
    return PG_OK;
}

static int
u16(rd *r, size_t *v)
{
    if (need(r, 2))
        return PG_EPARSE;
    *v = (size_t)r->p[0] | (size_t)r->p[1] << 8;
    r->p += 2;
    return PG_OK;
}

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int
u32(rd *r, uint32_t *v)
{
    if (need(r, 4))
        return PG_EPARSE;
    *v = le32(r->p);
    r->p += 4;
    return PG_OK;
}

static int
bytes(rd *r, size_t n, const uint8_t **v)
{
    if (need(r, n))
        return PG_EPARSE;
    *v = r->p;
    r->p += n;
    return PG_OK;
}

bool
pgi_ledger_name_ok(const char *s, size_t n)
{
    if (n < 1 || n > PG_LEDGER_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* A string: u8 length and bytes; a name (1..63 bytes of the name alphabet) unless empty_ok and it
 * is empty. */
static int
name(rd *r, const char **s, size_t *n, bool empty_ok)
{
    uint8_t len;
    const uint8_t *p;
    if (u8(r, &len) || bytes(r, len, &p))
        return PG_EPARSE;
    if (!(empty_ok && len == 0) && !pgi_ledger_name_ok((const char *)p, len))
        return pg_error_set(r->err, PG_EPARSE,
                            "op: %s is not a name (1 to %d letters, digits, '-', '_' or '.')",
                            r->what, PG_LEDGER_MAX_NAME);
    *s = (const char *)p;
    *n = len;
    return PG_OK;
}

static int
blob(rd *r, size_t max, const uint8_t **p, size_t *n)
{
    uint32_t len;
    if (u32(r, &len))
        return PG_EPARSE;
    if (len > max)
        return pg_error_set(r->err, PG_EPARSE, "op: %s of %u bytes is longer than %zu", r->what,
                            len, max);
    *n = len;
    return bytes(r, len, p);
}

/* n ids or keys of 32 bytes, strictly ascending (a set in its one canonical order). */
static int
idset(rd *r, size_t n, const uint8_t **p)
{
    if (n > (size_t)(r->end - r->p) / 32)
        return pg_error_set(r->err, PG_EPARSE, "op: %s: the encoding ends too soon", r->what);
    *p = r->p;
    for (size_t i = 1; i < n; i++)
        if (memcmp(r->p + 32 * (i - 1), r->p + 32 * i, 32) >= 0)
            return pg_error_set(r->err, PG_EPARSE,
                                "op: %s are not in strictly ascending order (entry %zu)", r->what,
                                i + 1);
    r->p += 32 * n;
    return PG_OK;
}

static int
parse_genesis(rd *r, pgi_opv *v)
{
    size_t n;
    r->what = "the community";
    if (name(r, &v->community, &v->community_len, false))
        return PG_EPARSE;
    r->what = "the admission rule";
    if (u8(r, &v->admit))
        return PG_EPARSE;
    if (v->admit > PG_LEDGER_ADMIT_MEMBERS)
        return pg_error_set(r->err, PG_EPARSE, "op: the admission rule %u is not 0 or 1", v->admit);
    r->what = "the genesis members";
    if (u16(r, &n))
        return PG_EPARSE;
    v->members = r->p;
    v->n_members = n;
    const uint8_t *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t sl;
        const uint8_t *key;
        r->what = "a genesis member's name";
        if (name(r, &s, &sl, false))
            return PG_EPARSE;
        r->what = "a genesis member's key";
        if (bytes(r, 32, &key))
            return PG_EPARSE;
        if (prev && memcmp(prev, key, 32) >= 0)
            return pg_error_set(r->err, PG_EPARSE,
                                "op: the genesis members are not in strictly ascending order of "
                                "their keys (member %zu)",
                                i + 1);
        prev = key;
        /* Names are unique: compare with the earlier ones (the genesis is read once). */
        const uint8_t *q = v->members;
        for (size_t j = 0; j < i; j++) {
            size_t ql = *q;
            if (ql == sl && memcmp(q + 1, s, sl) == 0)
                return pg_error_set(r->err, PG_EPARSE, "op: the genesis names two members '%.*s'",
                                    (int)sl, s);
            q += 1 + ql + 32;
        }
    }
    r->what = "the operators";
    if (u16(r, &n) || idset(r, n, &v->operators))
        return PG_EPARSE;
    v->n_operators = n;
    r->what = "the application's bytes";
    return blob(r, PGI_LEDGER_MAX_APP, &v->app, &v->app_len);
}

static int
parse_record(rd *r, pgi_opv *v)
{
    uint8_t t;
    size_t n;
    r->what = "the record type";
    if (u8(r, &t))
        return PG_EPARSE;
    if (t < PG_LEDGER_BID || t > PG_LEDGER_DR)
        return pg_error_set(r->err, PG_EPARSE, "op: record type %u is not 1 to 5", t);
    v->rtype = t;
    r->what = "the interval";
    if (u32(r, &v->interval))
        return PG_EPARSE;
    r->what = "the term";
    if (u32(r, &v->term))
        return PG_EPARSE;
    r->what = "the bidding node";
    if (name(r, &v->node, &v->node_len, t != PG_LEDGER_BID))
        return PG_EPARSE;
    if (t != PG_LEDGER_BID && v->node_len)
        return pg_error_set(r->err, PG_EPARSE, "op: a record other than a bid names a node");
    r->what = "the record's references";
    if (u16(r, &n) || idset(r, n, &v->refs))
        return PG_EPARSE;
    v->n_refs = n;
    if (t == PG_LEDGER_BID && n != 0)
        return pg_error_set(r->err, PG_EPARSE, "op: a bid has references");
    if ((t == PG_LEDGER_RESULT || t == PG_LEDGER_SETTLE) && n != 1)
        return pg_error_set(r->err, PG_EPARSE, "op: a %s has %zu references, not 1",
                            t == PG_LEDGER_RESULT ? "result" : "settlement", n);
    r->what = "the record's body";
    return blob(r, PG_LEDGER_MAX_PAYLOAD, &v->body, &v->body_len);
}

static int
parse_payload(rd *r, pgi_opv *v)
{
    size_t n;
    switch (v->kind) {
    case PG_LEDGER_GENESIS: return parse_genesis(r, v);
    case PG_LEDGER_MEMBER_ADD:
        r->what = "the member's name";
        if (name(r, &v->name, &v->name_len, false))
            return PG_EPARSE;
        r->what = "the member's key";
        return bytes(r, 32, &v->member);
    case PG_LEDGER_MEMBER_REMOVE:
        r->what = "the member's key";
        if (bytes(r, 32, &v->member))
            return PG_EPARSE;
        r->what = "the admissions removed";
        if (u16(r, &n) || idset(r, n, &v->tags))
            return PG_EPARSE;
        v->n_tags = n;
        if (n == 0)
            return pg_error_set(r->err, PG_EPARSE, "op: a removal names no admission");
        return PG_OK;
    case PG_LEDGER_REGISTER:
        r->what = "the register's name";
        if (name(r, &v->name, &v->name_len, false))
            return PG_EPARSE;
        r->what = "the register's value";
        return blob(r, PGI_LEDGER_MAX_VALUE, &v->value, &v->value_len);
    case PG_LEDGER_COUNTER: {
        const uint8_t *p;
        r->what = "the counter's name";
        if (name(r, &v->name, &v->name_len, false))
            return PG_EPARSE;
        r->what = "the counter's delta";
        if (bytes(r, 8, &p))
            return PG_EPARSE;
        uint64_t u = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
        int64_t d;
        memcpy(&d, &u, sizeof d);
        if (d > PGI_LEDGER_MAX_DELTA || d < -PGI_LEDGER_MAX_DELTA)
            return pg_error_set(r->err, PG_EPARSE, "op: the counter's delta is beyond 2^53");
        v->delta = d;
        return PG_OK;
    }
    case PG_LEDGER_RECORD: return parse_record(r, v);
    default: return pg_error_set(r->err, PG_EPARSE, "op: kind %u is not 1 to 6", v->kind);
    }
}

int
pgi_ledger_parse(const void *op, size_t len, pgi_opv *v, pg_error *err)
{
    const uint8_t *b = op;
    rd r = {b, b + len, err, "the header"};
    uint32_t plen;
    memset(v, 0, sizeof *v);
    v->bytes = b;
    v->len = len;
    if (len > PG_LEDGER_MAX_OP)
        return pg_error_set(err, PG_EPARSE, "op: %zu bytes is longer than the %u an op may have",
                            len, (unsigned)PG_LEDGER_MAX_OP);
    if (len < PGI_LEDGER_HEADER + 4 + PG_LEDGER_SIG_BYTES)
        return pg_error_set(err, PG_EPARSE, "op: %zu bytes is too short for an op", len);
    if (memcmp(b, PGI_LEDGER_MAGIC, 3) != 0)
        return pg_error_set(err, PG_EPARSE, "op: not a plurigrid ledger op (no \"PGL\" magic)");
    if (b[3] != PGI_LEDGER_VERSION)
        return pg_error_set(err, PG_EPARSE, "op: encoding version %u is not %d", b[3],
                            PGI_LEDGER_VERSION);
    v->kind = b[4];
    if (v->kind < PG_LEDGER_GENESIS || v->kind > PG_LEDGER_RECORD)
        return pg_error_set(err, PG_EPARSE, "op: kind %u is not 1 to 6", v->kind);
    v->author = b + 5;
    r.p = b + 37;
    r.end = b + len - PG_LEDGER_SIG_BYTES;
    v->sig = r.end;
    r.what = "the predecessors";
    if (u16(&r, &v->n_preds))
        return PG_EPARSE;
    if (v->n_preds > PG_LEDGER_MAX_PREDS)
        return pg_error_set(err, PG_EPARSE, "op: %zu predecessors is more than %d", v->n_preds,
                            PG_LEDGER_MAX_PREDS);
    if (idset(&r, v->n_preds, &v->preds))
        return PG_EPARSE;
    if (v->kind == PG_LEDGER_GENESIS && v->n_preds != 0)
        return pg_error_set(err, PG_EPARSE, "op: a genesis op has predecessors");
    if (v->kind != PG_LEDGER_GENESIS && v->n_preds == 0)
        return pg_error_set(err, PG_EPARSE, "op: an op other than the genesis has no predecessor");
    r.what = "the payload length";
    if (u32(&r, &plen))
        return PG_EPARSE;
    if (plen > PG_LEDGER_MAX_PAYLOAD)
        return pg_error_set(err, PG_EPARSE, "op: a payload of %u bytes is longer than %u", plen,
                            (unsigned)PG_LEDGER_MAX_PAYLOAD);
    if ((size_t)(r.end - r.p) != plen)
        return pg_error_set(err, PG_EPARSE,
                            "op: the payload length says %u bytes but %zu are there before the "
                            "signature",
                            plen, (size_t)(r.end - r.p));
    if (parse_payload(&r, v))
        return PG_EPARSE;
    if (r.p != r.end)
        return pg_error_set(err, PG_EPARSE, "op: %zu bytes after the payload's last field",
                            (size_t)(r.end - r.p));
    return PG_OK;
}

bool
pgi_ledger_sig_ok(const pgi_opv *v)
{
    return crypto_sign_verify_detached(v->sig, v->bytes, v->len - PG_LEDGER_SIG_BYTES, v->author) ==
           0;
}

void
pgi_ledger_hash(const void *op, size_t len, pg_ledger_id *id)
{
    crypto_generichash(id->b, sizeof id->b, op, len, NULL, 0);
}

/* ---------------------------------------------------------------- the decoded form */

/* Copies a string into the strings area *s (NUL-terminated) and returns it. */
static const char *
str(char **s, const char *p, size_t n)
{
    char *out = *s;
    memcpy(out, p, n);
    out[n] = '\0';
    *s += n + 1;
    return out;
}

int
pgi_ledger_op_of_view(const pgi_opv *v, const pg_ledger_id *id, uint64_t height, uint64_t seq,
                      pg_ledger_op **out, pg_error *err)
{
    /* One block: the op, the members array, a copy of the encoding (ids, keys and blobs point into
       it), then the NUL-terminated strings. */
    size_t nm = v->n_members;
    size_t strings = v->community_len + 1 + v->name_len + 1 + v->node_len + 1;
    const uint8_t *q = v->members;
    for (size_t i = 0; i < nm; i++) {
        strings += (size_t)*q + 1;
        q += 1 + *q + 32;
    }
    size_t size = sizeof(pg_ledger_op) + nm * sizeof(pg_ledger_member) + v->len + strings;
    uint8_t *block = calloc(1, size);
    if (!block)
        return pg_error_set(err, PG_ENOMEM, "op: out of memory");
    pg_ledger_op *op = (pg_ledger_op *)block;
    pg_ledger_member *members = (pg_ledger_member *)(block + sizeof *op);
    uint8_t *copy = (uint8_t *)(members + nm);
    char *s = (char *)copy + v->len;
    memcpy(copy, v->bytes, v->len);
#define AT(p) (copy + ((p)-v->bytes))
    op->id = *id;
    memcpy(op->author.b, v->author, 32);
    op->preds = (pg_ledger_id *)AT(v->preds);
    op->n_preds = v->n_preds;
    memcpy(op->sig, v->sig, sizeof op->sig);
    op->height = height;
    op->seq = seq;
    pg_ledger_payload *p = &op->payload;
    p->kind = v->kind;
    switch (v->kind) {
    case PG_LEDGER_GENESIS:
        p->genesis.community = str(&s, v->community, v->community_len);
        p->genesis.admit = v->admit;
        q = v->members;
        for (size_t i = 0; i < nm; i++) {
            members[i].name = str(&s, (const char *)q + 1, *q);
            memcpy(members[i].key.b, q + 1 + *q, 32);
            q += 1 + *q + 32;
        }
        p->genesis.members = members;
        p->genesis.n_members = nm;
        p->genesis.operators = (const pg_ledger_pubkey *)AT(v->operators);
        p->genesis.n_operators = v->n_operators;
        p->genesis.app = AT(v->app);
        p->genesis.app_len = v->app_len;
        break;
    case PG_LEDGER_MEMBER_ADD:
        p->name = str(&s, v->name, v->name_len);
        memcpy(p->member.b, v->member, 32);
        break;
    case PG_LEDGER_MEMBER_REMOVE:
        memcpy(p->member.b, v->member, 32);
        p->tags = (const pg_ledger_id *)AT(v->tags);
        p->n_tags = v->n_tags;
        break;
    case PG_LEDGER_REGISTER:
        p->name = str(&s, v->name, v->name_len);
        p->value = AT(v->value);
        p->value_len = v->value_len;
        break;
    case PG_LEDGER_COUNTER:
        p->name = str(&s, v->name, v->name_len);
        p->delta = v->delta;
        break;
    case PG_LEDGER_RECORD:
        p->record.type = v->rtype;
        p->record.interval = v->interval;
        p->record.term = v->term;
        p->record.node = str(&s, v->node ? v->node : "", v->node_len);
        p->record.refs = (const pg_ledger_id *)AT(v->refs);
        p->record.n_refs = v->n_refs;
        p->record.body = AT(v->body);
        p->record.body_len = v->body_len;
        break;
    default: break;
    }
#undef AT
    *out = op;
    return PG_OK;
}

int
pgi_ledger_op_decode(const void *op, size_t len, pg_ledger_op **out, pg_error *err)
{
    pgi_opv v;
    pg_ledger_id id;
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!op && len)
        return pg_error_set(err, PG_EINVAL, "op: no bytes");
    if (pgi_ledger_parse(op, len, &v, err))
        return PG_EPARSE;
    if (!pgi_ledger_sig_ok(&v))
        return pg_error_set(err, PG_EAUTH, "op: the signature is not its author's");
    pgi_ledger_hash(op, len, &id);
    return pgi_ledger_op_of_view(&v, &id, 0, 0, out, err);
}

void
pgi_ledger_op_free(pg_ledger_op *op)
{
    free(op);
}

/* ---------------------------------------------------------------- writing */

typedef struct wr {
    uint8_t *p;
} wr;

static void
w8(wr *w, uint8_t v)
{
    *w->p++ = v;
}

static void
w16(wr *w, size_t v)
{
    *w->p++ = (uint8_t)v;
    *w->p++ = (uint8_t)(v >> 8);
}

static void
w32(wr *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *w->p++ = (uint8_t)(v >> 8 * i);
}

static void
wbytes(wr *w, const void *p, size_t n)
{
    if (n)
        memcpy(w->p, p, n);
    w->p += n;
}

static void
wstr(wr *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    w8(w, (uint8_t)n);
    wbytes(w, s, n);
}

static int
cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int
cmp_member(const void *a, const void *b)
{
    return memcmp(((const pg_ledger_member *)a)->key.b, ((const pg_ledger_member *)b)->key.b, 32);
}

/* n ids sorted and without repeats, malloc'd (NULL for none); *m their number. */
static int
sorted_set(const void *ids, size_t n, uint8_t **out, size_t *m, pg_error *err)
{
    *out = NULL;
    *m = 0;
    if (n == 0)
        return PG_OK;
    uint8_t *s = malloc(32 * n);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "op: out of memory");
    memcpy(s, ids, 32 * n);
    qsort(s, n, 32, cmp32);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (memcmp(s + 32 * (k - 1), s + 32 * i, 32) != 0)
            memmove(s + 32 * k++, s + 32 * i, 32);
    *out = s;
    *m = k;
    return PG_OK;
}

static size_t
slen(const char *s)
{
    return s ? strlen(s) : 0;
}

int
pgi_ledger_op_encode(const pg_ledger_key *k, const pg_ledger_id *preds, size_t n_preds,
                     const pg_ledger_payload *p, uint8_t **op, size_t *len, pg_error *err)
{
    uint8_t *pr = NULL, *set = NULL, *buf = NULL;
    pg_ledger_member *members = NULL;
    size_t npr = 0, nset = 0;
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!k || !p || !op || !len || (n_preds && !preds))
        return pg_error_set(err, PG_EINVAL, "op: a key, a payload and an output are needed");
    if ((rc = sorted_set(preds, n_preds, &pr, &npr, err)))
        goto out;
    if (npr > PG_LEDGER_MAX_PREDS) {
        rc = pg_error_set(err, PG_ELIMIT, "op: %zu predecessors is more than %d", npr,
                          PG_LEDGER_MAX_PREDS);
        goto out;
    }
    /* The payload's size, and its sets sorted; limits that a size alone breaks are PG_ELIMIT,
       everything else is left to the parser's check of the result (PG_EINVAL). */
    size_t pl = 0;
    const pg_ledger_genesis *g = &p->genesis;
    const pg_ledger_record *rec = &p->record;
    switch (p->kind) {
    case PG_LEDGER_GENESIS:
        if (g->n_members > 65535 || g->n_operators > 65535 || g->app_len > PGI_LEDGER_MAX_APP ||
            (g->n_members && !g->members) || (g->n_operators && !g->operators) ||
            (g->app_len && !g->app)) {
            rc = pg_error_set(err, PG_ELIMIT,
                              "op: a genesis has at most 65535 members and operators and %u "
                              "bytes of the application's",
                              PGI_LEDGER_MAX_APP);
            goto out;
        }
        pl = 1 + slen(g->community) + 1 + 2 + 2 + 32 * g->n_operators + 4 + g->app_len;
        for (size_t i = 0; i < g->n_members; i++)
            pl += 1 + slen(g->members[i].name) + 32;
        if (g->n_members) {
            members = malloc(g->n_members * sizeof *members);
            if (!members) {
                rc = pg_error_set(err, PG_ENOMEM, "op: out of memory");
                goto out;
            }
            memcpy(members, g->members, g->n_members * sizeof *members);
            qsort(members, g->n_members, sizeof *members, cmp_member);
        }
        if ((rc = sorted_set(g->operators, g->n_operators, &set, &nset, err)))
            goto out;
        break;
    case PG_LEDGER_MEMBER_ADD: pl = 1 + slen(p->name) + 32; break;
    case PG_LEDGER_MEMBER_REMOVE:
        if (p->n_tags > 65535 || (p->n_tags && !p->tags)) {
            rc = pg_error_set(err, PG_ELIMIT, "op: a removal names at most 65535 admissions");
            goto out;
        }
        if ((rc = sorted_set(p->tags, p->n_tags, &set, &nset, err)))
            goto out;
        pl = 32 + 2 + 32 * nset;
        break;
    case PG_LEDGER_REGISTER:
        if (p->value_len > PGI_LEDGER_MAX_VALUE || (p->value_len && !p->value)) {
            rc = pg_error_set(err, PG_ELIMIT, "op: a register's value has at most %u bytes",
                              PGI_LEDGER_MAX_VALUE);
            goto out;
        }
        pl = 1 + slen(p->name) + 4 + p->value_len;
        break;
    case PG_LEDGER_COUNTER: pl = 1 + slen(p->name) + 8; break;
    case PG_LEDGER_RECORD:
        if (rec->n_refs > 65535 || rec->body_len > PG_LEDGER_MAX_PAYLOAD ||
            (rec->n_refs && !rec->refs) || (rec->body_len && !rec->body)) {
            rc = pg_error_set(err, PG_ELIMIT, "op: the record is larger than an op may be");
            goto out;
        }
        if ((rc = sorted_set(rec->refs, rec->n_refs, &set, &nset, err)))
            goto out;
        pl = 1 + 4 + 4 + 1 + slen(rec->node) + 2 + 32 * nset + 4 + rec->body_len;
        break;
    default: rc = pg_error_set(err, PG_EINVAL, "op: kind %d is not 1 to 6", (int)p->kind); goto out;
    }
    /* Each name is at most 255 bytes here (the parser then holds it to 63). */
    if (pl > PG_LEDGER_MAX_PAYLOAD) {
        rc = pg_error_set(err, PG_ELIMIT, "op: a payload of %zu bytes is longer than %u", pl,
                          (unsigned)PG_LEDGER_MAX_PAYLOAD);
        goto out;
    }
    if (slen(p->name) > 255 || slen(g->community) > 255 || slen(rec->node) > 255) {
        rc = pg_error_set(err, PG_EINVAL, "op: a name is longer than %d bytes", PG_LEDGER_MAX_NAME);
        goto out;
    }
    for (size_t i = 0; p->kind == PG_LEDGER_GENESIS && i < g->n_members; i++)
        if (slen(members[i].name) > 255) {
            rc = pg_error_set(err, PG_EINVAL, "op: a member's name is longer than %d bytes",
                              PG_LEDGER_MAX_NAME);
            goto out;
        }
    size_t n = PGI_LEDGER_HEADER + 32 * npr + 4 + pl + PG_LEDGER_SIG_BYTES;
    buf = malloc(n);
    if (!buf) {
        rc = pg_error_set(err, PG_ENOMEM, "op: out of memory");
        goto out;
    }
    wr w = {buf};
    wbytes(&w, PGI_LEDGER_MAGIC, 3);
    w8(&w, PGI_LEDGER_VERSION);
    w8(&w, (uint8_t)p->kind);
    wbytes(&w, k->pk.b, 32);
    w16(&w, npr);
    wbytes(&w, pr, 32 * npr);
    w32(&w, (uint32_t)pl);
    switch (p->kind) {
    case PG_LEDGER_GENESIS:
        wstr(&w, g->community);
        w8(&w, (uint8_t)g->admit);
        w16(&w, g->n_members);
        for (size_t i = 0; i < g->n_members; i++) {
            wstr(&w, members[i].name);
            wbytes(&w, members[i].key.b, 32);
        }
        w16(&w, nset);
        wbytes(&w, set, 32 * nset);
        w32(&w, (uint32_t)g->app_len);
        wbytes(&w, g->app, g->app_len);
        break;
    case PG_LEDGER_MEMBER_ADD:
        wstr(&w, p->name);
        wbytes(&w, p->member.b, 32);
        break;
    case PG_LEDGER_MEMBER_REMOVE:
        wbytes(&w, p->member.b, 32);
        w16(&w, nset);
        wbytes(&w, set, 32 * nset);
        break;
    case PG_LEDGER_REGISTER:
        wstr(&w, p->name);
        w32(&w, (uint32_t)p->value_len);
        wbytes(&w, p->value, p->value_len);
        break;
    case PG_LEDGER_COUNTER: {
        uint64_t u;
        wstr(&w, p->name);
        memcpy(&u, &p->delta, sizeof u);
        w32(&w, (uint32_t)u);
        w32(&w, (uint32_t)(u >> 32));
        break;
    }
    case PG_LEDGER_RECORD:
        w8(&w, (uint8_t)rec->type);
        w32(&w, rec->interval);
        w32(&w, rec->term);
        wstr(&w, rec->node);
        w16(&w, nset);
        wbytes(&w, set, 32 * nset);
        w32(&w, (uint32_t)rec->body_len);
        wbytes(&w, rec->body, rec->body_len);
        break;
    default: break;
    }
    crypto_sign_detached(w.p, NULL, buf, n - PG_LEDGER_SIG_BYTES, k->sk);
    pgi_opv v;
    pg_error perr = {0};
    if (pgi_ledger_parse(buf, n, &v, &perr)) {
        /* The parser's words, without its "op: " (this is about the payload given). */
        rc = pg_error_set(err, PG_EINVAL, "op: cannot be made: %s",
                          strncmp(perr.msg, "op: ", 4) ? perr.msg : perr.msg + 4);
        goto out;
    }
    if (!pgi_ledger_sig_ok(&v)) {
        rc = pg_error_set(err, PG_EINVAL,
                          "op: cannot be made: the key's secret and public parts do not match");
        goto out;
    }
    *op = buf;
    *len = n;
    buf = NULL;
out:
    free(pr);
    free(set);
    free(members);
    free(buf);
    return rc;
}
