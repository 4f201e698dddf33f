/* What a ledger holds, for people and for programs (docs/ledger.md, "The ledger command"): the
 * summary of pg_ledger_show (the community, counts by kind, heads, members, counters, registers,
 * the latest gates, results and settlements), the dump of pg_ledger_export (every op decoded in
 * delivery order with its signature and its encoding in hex, so that another program can check
 * each id and signature itself), and the text of a verify report. Each is text or JSON; the JSON
 * is a jansson tree dumped by pgi_json_dumps_lines (one member a line, one op a line). Names in a
 * ledger are checked on decode (letters, digits, '.', '_', '-'), so the text needs no escaping;
 * bytes the application chose (registers, record bodies, the genesis's app) are shown in hex. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "ledger/internal.h"

/* Latest records of a type shown by pg_ledger_show. */
#define LATEST 5
/* Heads listed one by one in the text of pg_ledger_show (the JSON lists them all). */
#define HEADS_SHOWN 8
/* Bytes of a register's value shown in the text of pg_ledger_show. */
#define VALUE_SHOWN 32

#define N_KINDS 7   /* pg_ledger_kind: 1..6 */
#define N_RECORDS 6 /* pg_ledger_record_type: 1..5 */

static const char *
kind_name(pg_ledger_kind k)
{
    switch (k) {
    case PG_LEDGER_GENESIS: return "genesis";
    case PG_LEDGER_MEMBER_ADD: return "member_add";
    case PG_LEDGER_MEMBER_REMOVE: return "member_remove";
    case PG_LEDGER_REGISTER: return "register";
    case PG_LEDGER_COUNTER: return "counter";
    case PG_LEDGER_RECORD: return "record";
    }
    return "unknown";
}

static const char *
record_name(pg_ledger_record_type t)
{
    switch (t) {
    case PG_LEDGER_BID: return "bid";
    case PG_LEDGER_GATE: return "gate";
    case PG_LEDGER_RESULT: return "result";
    case PG_LEDGER_SETTLE: return "settle";
    case PG_LEDGER_DR: return "dr";
    }
    return "unknown";
}

static const char *
admit_name(pg_ledger_admit a)
{
    return a == PG_LEDGER_ADMIT_MEMBERS ? "members" : "genesis";
}

/* ---------------------------------------------------------------- JSON helpers */

/* Sets key of o to v (taken, even on failure); *bad on failure. */
static void
set(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!o || !v) {
        json_decref(v);
        *bad = 1;
    } else if (json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

/* Appends v (taken) to a; *bad on failure. */
static void
add(json_t *a, json_t *v, int *bad)
{
    if (!a || !v) {
        json_decref(v);
        *bad = 1;
    } else if (json_array_append_new(a, v) != 0)
        *bad = 1;
}

/* A JSON string of n bytes in hex. */
static json_t *
hex_json(const void *bytes, size_t n)
{
    char small[129];
    char *s = n <= 64 ? small : malloc(2 * n + 1);
    if (!s)
        return NULL;
    pg_ledger_hex(bytes, n, s);
    json_t *v = json_stringn(s, 2 * n);
    if (s != small)
        free(s);
    return v;
}

static json_t *
ids_json(const pg_ledger_id *ids, size_t n, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n && !*bad; i++)
        add(a, hex_json(ids[i].b, sizeof ids[i].b), bad);
    if (!a)
        *bad = 1;
    return a;
}

static json_t *
u64_json(uint64_t x)
{
    /* counts and sequence numbers: far below 2^63 */
    return json_integer((json_int_t)(x > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : x));
}

/* The member name of key now, or null. */
static json_t *
member_json(pg_ledger *l, const pg_ledger_pubkey *key)
{
    const char *name = pgi_ledger_member_name(l, key);
    return name ? json_string(name) : json_null();
}

static json_t *
payload_json(const pg_ledger_op *op, int *bad)
{
    const pg_ledger_payload *p = &op->payload;
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return NULL;
    }
    switch (p->kind) {
    case PG_LEDGER_GENESIS: {
        const pg_ledger_genesis *g = &p->genesis;
        set(o, "community", json_string(g->community ? g->community : ""), bad);
        set(o, "admit", json_string(admit_name(g->admit)), bad);
        json_t *m = json_array();
        set(o, "members", m, bad);
        for (size_t i = 0; m && i < g->n_members && !*bad; i++) {
            json_t *e = json_object();
            add(m, e, bad);
            if (*bad)
                break;
            set(e, "name", json_string(g->members[i].name), bad);
            set(e, "key", hex_json(g->members[i].key.b, PG_LEDGER_KEY_BYTES), bad);
        }
        json_t *ops = json_array();
        set(o, "operators", ops, bad);
        for (size_t i = 0; ops && i < g->n_operators && !*bad; i++)
            add(ops, hex_json(g->operators[i].b, PG_LEDGER_KEY_BYTES), bad);
        set(o, "app", hex_json(g->app, g->app_len), bad);
        break;
    }
    case PG_LEDGER_MEMBER_ADD:
        set(o, "name", json_string(p->name ? p->name : ""), bad);
        set(o, "member", hex_json(p->member.b, PG_LEDGER_KEY_BYTES), bad);
        break;
    case PG_LEDGER_MEMBER_REMOVE:
        set(o, "member", hex_json(p->member.b, PG_LEDGER_KEY_BYTES), bad);
        set(o, "tags", ids_json(p->tags, p->n_tags, bad), bad);
        break;
    case PG_LEDGER_REGISTER:
        set(o, "name", json_string(p->name ? p->name : ""), bad);
        set(o, "value", hex_json(p->value, p->value_len), bad);
        break;
    case PG_LEDGER_COUNTER:
        set(o, "name", json_string(p->name ? p->name : ""), bad);
        set(o, "delta", json_integer((json_int_t)p->delta), bad);
        break;
    case PG_LEDGER_RECORD: {
        const pg_ledger_record *r = &p->record;
        set(o, "type", json_string(record_name(r->type)), bad);
        set(o, "interval", json_integer(r->interval), bad);
        set(o, "term", json_integer(r->term), bad);
        set(o, "node", json_string(r->node ? r->node : ""), bad);
        set(o, "refs", ids_json(r->refs, r->n_refs, bad), bad);
        set(o, "body", hex_json(r->body, r->body_len), bad);
        break;
    }
    }
    return o;
}

/* ---------------------------------------------------------------- text helpers */

static void
put_hex(pgi_buf *b, const void *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = bytes;
    char chunk[256];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = digits[p[i] >> 4];
        chunk[k++] = digits[p[i] & 15];
        if (k == sizeof chunk) {
            pgi_buf_append(b, chunk, k);
            k = 0;
        }
    }
    pgi_buf_append(b, chunk, k);
}

static void
put_id(pgi_buf *b, const pg_ledger_id *id)
{
    put_hex(b, id->b, sizeof id->b);
}

static void
put_key(pgi_buf *b, const pg_ledger_pubkey *k)
{
    put_hex(b, k->b, sizeof k->b);
}

/* " (NAME)" for a current member, " (the genesis key)", or nothing. */
static void
put_who(pgi_buf *b, pg_ledger *l, const pg_ledger_pubkey *k, const pg_ledger_pubkey *genesis)
{
    const char *name = pgi_ledger_member_name(l, k);
    if (name)
        pgi_buf_printf(b, " (%s)", name);
    else if (genesis && memcmp(k->b, genesis->b, sizeof k->b) == 0)
        pgi_buf_puts(b, " (the genesis key)");
}

/* A list of ids, each on a line of its own after the first, aligned under a label of width 13. */
static void
put_ids(pgi_buf *b, const pg_ledger_id *ids, size_t n)
{
    if (!n)
        pgi_buf_puts(b, "none");
    for (size_t i = 0; i < n; i++) {
        if (i)
            pgi_buf_puts(b, "\n               ");
        put_id(b, &ids[i]);
    }
    pgi_buf_puts(b, "\n");
}

/* Bytes the application chose: printable ASCII shown as text in quotes, anything else in hex;
 * at most max bytes (0: all), with the length. */
static void
put_bytes(pgi_buf *b, const void *bytes, size_t n, size_t max)
{
    const unsigned char *p = bytes;
    size_t shown = max && n > max ? max : n;
    bool text = n > 0;
    for (size_t i = 0; i < n && text; i++)
        text = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\';
    if (!n)
        pgi_buf_puts(b, "(empty)");
    else if (text) {
        pgi_buf_puts(b, "\"");
        pgi_buf_append(b, bytes, shown);
        pgi_buf_puts(b, shown < n ? "...\"" : "\"");
    } else {
        put_hex(b, bytes, shown);
        if (shown < n)
            pgi_buf_puts(b, "...");
    }
    pgi_buf_printf(b, " (%zu byte%s)", n, n == 1 ? "" : "s");
}

static void
payload_text(pgi_buf *b, pg_ledger *l, const pg_ledger_op *op)
{
    const pg_ledger_payload *p = &op->payload;
    switch (p->kind) {
    case PG_LEDGER_GENESIS: {
        const pg_ledger_genesis *g = &p->genesis;
        pgi_buf_printf(b, "  community    %s\n", g->community ? g->community : "");
        pgi_buf_printf(b, "  admission    %s\n",
                       g->admit == PG_LEDGER_ADMIT_MEMBERS ? "by the genesis key or any member"
                                                           : "by the genesis key only");
        for (size_t i = 0; i < g->n_members; i++) {
            pgi_buf_printf(b, "  member       %s ", g->members[i].name);
            put_key(b, &g->members[i].key);
            pgi_buf_puts(b, "\n");
        }
        if (!g->n_operators)
            pgi_buf_puts(b, "  operators    none named: any member\n");
        for (size_t i = 0; i < g->n_operators; i++) {
            pgi_buf_puts(b, "  operator     ");
            put_key(b, &g->operators[i]);
            put_who(b, l, &g->operators[i], NULL);
            pgi_buf_puts(b, "\n");
        }
        pgi_buf_puts(b, "  app          ");
        put_bytes(b, g->app, g->app_len, 0);
        pgi_buf_puts(b, "\n");
        break;
    }
    case PG_LEDGER_MEMBER_ADD:
        pgi_buf_printf(b, "  member       %s ", p->name ? p->name : "");
        put_key(b, &p->member);
        pgi_buf_puts(b, "\n");
        break;
    case PG_LEDGER_MEMBER_REMOVE:
        pgi_buf_puts(b, "  member       ");
        put_key(b, &p->member);
        put_who(b, l, &p->member, NULL);
        pgi_buf_puts(b, "\n  admissions   ");
        put_ids(b, p->tags, p->n_tags);
        break;
    case PG_LEDGER_REGISTER:
        pgi_buf_printf(b, "  register     %s = ", p->name ? p->name : "");
        put_bytes(b, p->value, p->value_len, 0);
        pgi_buf_puts(b, "\n");
        break;
    case PG_LEDGER_COUNTER:
        pgi_buf_printf(b, "  counter      %s %+" PRId64 "\n", p->name ? p->name : "", p->delta);
        break;
    case PG_LEDGER_RECORD: {
        const pg_ledger_record *r = &p->record;
        pgi_buf_printf(b, "  record       %s, interval %" PRIu32, record_name(r->type),
                       r->interval);
        if (r->type == PG_LEDGER_GATE || r->type == PG_LEDGER_RESULT || r->type == PG_LEDGER_SETTLE)
            pgi_buf_printf(b, ", term %" PRIu32, r->term);
        if (r->node && r->node[0])
            pgi_buf_printf(b, ", node %s", r->node);
        pgi_buf_puts(b, "\n  refs         ");
        put_ids(b, r->refs, r->n_refs);
        pgi_buf_puts(b, "  body         ");
        put_bytes(b, r->body, r->body_len, 0);
        pgi_buf_puts(b, "\n");
        break;
    }
    }
}

/* ---------------------------------------------------------------- export */

typedef struct export_ctx {
    pg_ledger *l;
    bool json;
    json_t *ops; /* json */
    pgi_buf b;   /* text */
    pg_ledger_pubkey genesis;
    int bad; /* out of memory */
    int rc;  /* a failed read of an op's encoding */
    pg_error *err;
} export_ctx;

static int
export_op(void *ud, const pg_ledger_op *op)
{
    export_ctx *x = ud;
    uint8_t *enc = NULL;
    size_t len = 0;
    if ((x->rc = pgi_ledger_get(x->l, &op->id, &enc, &len, x->err)) != PG_OK)
        return 1;
    if (op->payload.kind == PG_LEDGER_GENESIS)
        x->genesis = op->author;
    if (x->json) {
        json_t *o = json_object();
        add(x->ops, o, &x->bad);
        if (!x->bad) {
            set(o, "seq", u64_json(op->seq), &x->bad);
            set(o, "id", hex_json(op->id.b, sizeof op->id.b), &x->bad);
            set(o, "height", u64_json(op->height), &x->bad);
            set(o, "kind", json_string(kind_name(op->payload.kind)), &x->bad);
            set(o, "author", hex_json(op->author.b, sizeof op->author.b), &x->bad);
            set(o, "member", member_json(x->l, &op->author), &x->bad);
            set(o, "preds", ids_json(op->preds, op->n_preds, &x->bad), &x->bad);
            set(o, "payload", payload_json(op, &x->bad), &x->bad);
            set(o, "signature", hex_json(op->sig, sizeof op->sig), &x->bad);
            set(o, "encoding", hex_json(enc, len), &x->bad);
        }
    } else {
        pgi_buf *b = &x->b;
        pgi_buf_printf(b, "\nop %" PRIu64 ": %s, height %" PRIu64 "\n", op->seq,
                       kind_name(op->payload.kind), op->height);
        pgi_buf_puts(b, "  id           ");
        put_id(b, &op->id);
        pgi_buf_puts(b, "\n  author       ");
        put_key(b, &op->author);
        put_who(b, x->l, &op->author, &x->genesis);
        pgi_buf_puts(b, "\n  preds        ");
        put_ids(b, op->preds, op->n_preds);
        payload_text(b, x->l, op);
        pgi_buf_puts(b, "  signature    ");
        put_hex(b, op->sig, sizeof op->sig);
        pgi_buf_printf(b, "\n  encoding     %zu bytes: ", len);
        put_hex(b, enc, len);
        pgi_buf_puts(b, "\n");
        x->bad |= b->failed;
    }
    free(enc);
    return x->bad ? 1 : 0;
}

int
pgi_ledger_export(pg_ledger *l, bool json, char **text, pg_error *err)
{
    if (!l || !text)
        return pg_error_set(err, PG_EINVAL, "pg_ledger_export: NULL argument");
    export_ctx x;
    memset(&x, 0, sizeof x);
    x.l = l;
    x.json = json;
    x.err = err;
    json_t *root = NULL;
    char *out = NULL;
    int rc = PG_OK;
    pg_ledger_id gid;
    pgi_ledger_genesis_id(l, &gid);
    if (json) {
        root = json_object();
        x.ops = json_array();
        set(root, "format", json_string("plurigrid-ledger-export/1"), &x.bad);
        set(root, "community", json_string(pgi_ledger_community(l)), &x.bad);
        set(root, "genesis", hex_json(gid.b, sizeof gid.b), &x.bad);
        set(root, "ops_count", u64_json(pgi_ledger_count(l)), &x.bad);
        set(root, "ops", x.ops, &x.bad);
    } else {
        size_t n = pgi_ledger_count(l);
        pgi_buf_printf(&x.b, "Ledger of community %s: %zu op%s in delivery order\n",
                       pgi_ledger_community(l), n, n == 1 ? "" : "s");
        pgi_buf_puts(&x.b, "genesis ");
        put_id(&x.b, &gid);
        pgi_buf_puts(&x.b, "\n");
    }
    if (!x.bad) {
        int stop = pgi_ledger_each(l, 0, export_op, &x, err);
        if (x.rc) {
            rc = x.rc;
            goto out;
        }
        if (stop < 0) {
            rc = stop;
            goto out;
        }
    }
    if (json && !x.bad && !(out = pgi_json_dumps_lines(root)))
        x.bad = 1;
    if (!json && !x.bad && !x.b.failed) {
        out = x.b.data;
        x.b.data = NULL;
    }
    if (x.bad || x.b.failed || !out) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory while exporting the ledger");
        goto out;
    }
    *text = out;
    out = NULL;
out:
    free(out);
    pgi_buf_free(&x.b);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- show */

/* A gate, result or settlement among the latest of its type. */
typedef struct latest_rec {
    uint64_t seq;
    pg_ledger_id id;
    pg_ledger_pubkey author;
    uint32_t interval, term;
    size_t n_refs;
    pg_ledger_id ref0; /* result: its gate; settle: its result */
} latest_rec;

typedef struct latest_ring {
    latest_rec r[LATEST];
    size_t n; /* seen in all */
} latest_ring;

/* A register: its author and name (the value is the ledger's, pgi_ledger_register_get). */
typedef struct reg_key {
    pg_ledger_pubkey author;
    char name[PG_LEDGER_MAX_NAME + 1];
} reg_key;

typedef struct show_ctx {
    size_t kinds[N_KINDS], records[N_RECORDS];
    latest_ring gates, results, settles;
    reg_key *regs;
    size_t n_regs, cap_regs;
    char (*counters)[PG_LEDGER_MAX_NAME + 1];
    size_t n_counters, cap_counters;
    pg_ledger_pubkey genesis;
    int bad;
} show_ctx;

static int
reg_cmp(const void *a, const void *b)
{
    const reg_key *x = a, *y = b;
    int c = memcmp(x->author.b, y->author.b, sizeof x->author.b);
    return c ? c : strcmp(x->name, y->name);
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Grows *p (elements of size sz) to hold n + 1; false when memory runs out. */
static bool
grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, c * sz);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static void
remember(latest_ring *ring, const pg_ledger_op *op)
{
    const pg_ledger_record *r = &op->payload.record;
    latest_rec *e = &ring->r[ring->n++ % LATEST];
    memset(e, 0, sizeof *e);
    e->seq = op->seq;
    e->id = op->id;
    e->author = op->author;
    e->interval = r->interval;
    e->term = r->term;
    e->n_refs = r->n_refs;
    if (r->n_refs)
        e->ref0 = r->refs[0];
}

static int
show_op(void *ud, const pg_ledger_op *op)
{
    show_ctx *s = ud;
    const pg_ledger_payload *p = &op->payload;
    if ((unsigned)p->kind < N_KINDS)
        s->kinds[p->kind]++;
    switch (p->kind) {
    case PG_LEDGER_GENESIS: s->genesis = op->author; break;
    case PG_LEDGER_RECORD:
        if ((unsigned)p->record.type < N_RECORDS)
            s->records[p->record.type]++;
        if (p->record.type == PG_LEDGER_GATE)
            remember(&s->gates, op);
        else if (p->record.type == PG_LEDGER_RESULT)
            remember(&s->results, op);
        else if (p->record.type == PG_LEDGER_SETTLE)
            remember(&s->settles, op);
        break;
    case PG_LEDGER_REGISTER:
        if (!grow((void **)&s->regs, &s->cap_regs, s->n_regs, sizeof *s->regs)) {
            s->bad = 1;
            return 1;
        }
        s->regs[s->n_regs].author = op->author;
        snprintf(s->regs[s->n_regs].name, sizeof s->regs[s->n_regs].name, "%s",
                 p->name ? p->name : "");
        s->n_regs++;
        break;
    case PG_LEDGER_COUNTER:
        if (!grow((void **)&s->counters, &s->cap_counters, s->n_counters, sizeof *s->counters)) {
            s->bad = 1;
            return 1;
        }
        snprintf(s->counters[s->n_counters], sizeof *s->counters, "%s", p->name ? p->name : "");
        s->n_counters++;
        break;
    default: break;
    }
    return 0;
}

/* Sorts and removes duplicates: n becomes the number of distinct elements. */
static size_t
unique(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    if (n < 2)
        return n;
    qsort(base, n, sz, cmp);
    char *b = base;
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (cmp(b + (k - 1) * sz, b + i * sz) != 0)
            memmove(b + k++ * sz, b + i * sz, sz);
    return k;
}

/* The ring's records, oldest first: *first the index of the oldest, returns how many. */
static size_t
ring_span(const latest_ring *ring, size_t *first)
{
    size_t n = ring->n < LATEST ? ring->n : LATEST;
    *first = ring->n < LATEST ? 0 : ring->n % LATEST;
    return n;
}

static json_t *
latest_json(pg_ledger *l, const latest_ring *ring, int *bad)
{
    json_t *a = json_array();
    size_t first = 0, n = ring_span(ring, &first);
    for (size_t k = 0; a && k < n && !*bad; k++) {
        const latest_rec *e = &ring->r[(first + k) % LATEST];
        json_t *o = json_object();
        add(a, o, bad);
        if (*bad)
            break;
        set(o, "seq", u64_json(e->seq), bad);
        set(o, "id", hex_json(e->id.b, sizeof e->id.b), bad);
        set(o, "interval", json_integer(e->interval), bad);
        set(o, "term", json_integer(e->term), bad);
        set(o, "author", hex_json(e->author.b, sizeof e->author.b), bad);
        set(o, "member", member_json(l, &e->author), bad);
        set(o, "refs", u64_json(e->n_refs), bad);
        if (e->n_refs)
            set(o, "ref", hex_json(e->ref0.b, sizeof e->ref0.b), bad);
    }
    if (!a)
        *bad = 1;
    return a;
}

static void
latest_text(pgi_buf *b, pg_ledger *l, const latest_ring *ring, const char *title, const char *refs)
{
    size_t first = 0, n = ring_span(ring, &first);
    pgi_buf_printf(b, "\n%s (%zu", title, ring->n);
    if (ring->n > n)
        pgi_buf_printf(b, ", the latest %zu", n);
    pgi_buf_puts(b, ")\n");
    for (size_t k = 0; k < n; k++) {
        const latest_rec *e = &ring->r[(first + k) % LATEST];
        const char *who = pgi_ledger_member_name(l, &e->author);
        pgi_buf_printf(b, "  interval %-6" PRIu32 " term %-3" PRIu32 " by %-16s op %-7" PRIu64 " ",
                       e->interval, e->term, who ? who : "(not a member)", e->seq);
        put_id(b, &e->id);
        if (strcmp(refs, "bids") == 0)
            pgi_buf_printf(b, "  %zu bid%s", e->n_refs, e->n_refs == 1 ? "" : "s");
        else if (e->n_refs) {
            pgi_buf_printf(b, "  %s ", refs);
            put_hex(b, e->ref0.b, 8);
        }
        pgi_buf_puts(b, "\n");
    }
}

static int
member_cmp(const void *a, const void *b)
{
    const pg_ledger_member *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int
pgi_ledger_show(pg_ledger *l, bool json, char **text, pg_error *err)
{
    if (!l || !text)
        return pg_error_set(err, PG_EINVAL, "pg_ledger_show: NULL argument");
    show_ctx *s = calloc(1, sizeof *s);
    pg_ledger_id *heads = NULL;
    pg_ledger_member *members = NULL;
    json_t *root = NULL;
    pgi_buf b = {0};
    char *out = NULL;
    void *value = NULL;
    int rc = PG_OK, bad = 0;
    if (!s) {
        bad = 1;
        goto out;
    }
    int stop = pgi_ledger_each(l, 0, show_op, s, err);
    if (s->bad) {
        bad = 1;
        goto out;
    }
    if (stop < 0) {
        rc = stop;
        goto out;
    }
    s->n_regs = unique(s->regs, s->n_regs, sizeof *s->regs, reg_cmp);
    s->n_counters = unique(s->counters, s->n_counters, sizeof *s->counters, name_cmp);

    size_t n_heads = 0;
    pgi_ledger_heads(l, NULL, 0, &n_heads, NULL);
    heads = calloc(n_heads ? n_heads : 1, sizeof *heads);
    size_t n_members = pgi_ledger_members(l, NULL, 0);
    members = malloc((n_members ? n_members : 1) * sizeof *members);
    if (!heads || !members) {
        bad = 1;
        goto out;
    }
    n_members = pgi_ledger_members(l, members, n_members);
    pg_ledger_id gid, hd, sd;
    pgi_ledger_genesis_id(l, &gid);
    if (pgi_ledger_heads(l, heads, n_heads, NULL, NULL) != PG_OK ||
        pgi_ledger_heads_digest(l, &hd, NULL) != PG_OK ||
        pgi_ledger_state_digest(l, &sd, NULL) != PG_OK) {
        bad = 1;
        goto out;
    }
    pg_ledger_stats st;
    pgi_ledger_get_stats(l, &st);
    size_t count = pgi_ledger_count(l);

    if (json) {
        root = json_object();
        set(root, "format", json_string("plurigrid-ledger-show/1"), &bad);
        set(root, "community", json_string(pgi_ledger_community(l)), &bad);
        set(root, "genesis", hex_json(gid.b, sizeof gid.b), &bad);
        set(root, "ops", u64_json(count), &bad);
        json_t *k = json_object();
        set(root, "kinds", k, &bad);
        for (int i = 1; k && i < N_KINDS; i++)
            set(k, kind_name((pg_ledger_kind)i), u64_json(s->kinds[i]), &bad);
        json_t *r = json_object();
        set(root, "records", r, &bad);
        for (int i = 1; r && i < N_RECORDS; i++)
            set(r, record_name((pg_ledger_record_type)i), u64_json(s->records[i]), &bad);
        set(root, "heads", ids_json(heads, n_heads, &bad), &bad);
        set(root, "heads_digest", hex_json(hd.b, sizeof hd.b), &bad);
        set(root, "state_digest", hex_json(sd.b, sizeof sd.b), &bad);
        set(root, "equivocations", u64_json(st.equivocations), &bad);
        json_t *ma = json_array();
        set(root, "members", ma, &bad);
        for (size_t i = 0; ma && i < n_members && !bad; i++) {
            json_t *o = json_object();
            add(ma, o, &bad);
            if (bad)
                break;
            set(o, "name", json_string(members[i].name), &bad);
            set(o, "key", hex_json(members[i].key.b, PG_LEDGER_KEY_BYTES), &bad);
        }
        json_t *ca = json_array();
        set(root, "counters", ca, &bad);
        for (size_t i = 0; ca && i < s->n_counters && !bad; i++) {
            json_t *o = json_object();
            add(ca, o, &bad);
            if (bad)
                break;
            set(o, "name", json_string(s->counters[i]), &bad);
            set(o, "value", json_integer((json_int_t)pgi_ledger_counter_get(l, s->counters[i])),
                &bad);
        }
        json_t *ra = json_array();
        set(root, "registers", ra, &bad);
        for (size_t i = 0; ra && i < s->n_regs && !bad; i++) {
            size_t len = 0;
            if ((rc = pgi_ledger_register_get(l, &s->regs[i].author, s->regs[i].name, &value, &len,
                                              err)) != PG_OK)
                goto out;
            json_t *o = json_object();
            add(ra, o, &bad);
            if (!bad) {
                set(o, "author", hex_json(s->regs[i].author.b, PG_LEDGER_KEY_BYTES), &bad);
                set(o, "member", member_json(l, &s->regs[i].author), &bad);
                set(o, "name", json_string(s->regs[i].name), &bad);
                set(o, "value", hex_json(value, len), &bad);
            }
            free(value);
            value = NULL;
        }
        json_t *la = json_object();
        set(root, "latest", la, &bad);
        set(la, "gate", latest_json(l, &s->gates, &bad), &bad);
        set(la, "result", latest_json(l, &s->results, &bad), &bad);
        set(la, "settle", latest_json(l, &s->settles, &bad), &bad);
        if (!bad && !(out = pgi_json_dumps_lines(root)))
            bad = 1;
    } else {
        pgi_buf_printf(&b, "Ledger of community %s\n", pgi_ledger_community(l));
        pgi_buf_puts(&b, "  genesis       ");
        put_id(&b, &gid);
        pgi_buf_printf(&b, "\n  ops           %zu:", count);
        for (int i = 1; i < N_KINDS; i++)
            pgi_buf_printf(&b, "%s %zu %s", i > 1 ? "," : "", s->kinds[i],
                           kind_name((pg_ledger_kind)i));
        pgi_buf_puts(&b, "\n  records      ");
        for (int i = 1; i < N_RECORDS; i++)
            pgi_buf_printf(&b, "%s %zu %s", i > 1 ? "," : "", s->records[i],
                           record_name((pg_ledger_record_type)i));
        pgi_buf_printf(&b, "\n  heads         %zu", n_heads);
        for (size_t i = 0; i < n_heads && i < HEADS_SHOWN; i++) {
            pgi_buf_puts(&b, i ? "\n                " : ": ");
            put_id(&b, &heads[i]);
        }
        if (n_heads > HEADS_SHOWN)
            pgi_buf_printf(&b, "\n                and %zu more (--json lists them all)",
                           n_heads - HEADS_SHOWN);
        pgi_buf_puts(&b, "\n  heads digest  ");
        put_id(&b, &hd);
        pgi_buf_puts(&b, "\n  state digest  ");
        put_id(&b, &sd);
        pgi_buf_printf(&b, "\n  equivocations %" PRIu64 "%s\n", st.equivocations,
                       st.equivocations ? " (an author signed two ops on the same heads)" : "");
        /* by name for people (the JSON keeps the ledger's order, by key) */
        qsort(members, n_members, sizeof *members, member_cmp);
        pgi_buf_printf(&b, "\nMembers (%zu)\n", n_members);
        for (size_t i = 0; i < n_members; i++) {
            pgi_buf_printf(&b, "  %-20s ", members[i].name);
            put_key(&b, &members[i].key);
            pgi_buf_puts(&b, "\n");
        }
        pgi_buf_printf(&b, "\nCounters (%zu)\n", s->n_counters);
        for (size_t i = 0; i < s->n_counters; i++)
            pgi_buf_printf(&b, "  %-20s %" PRId64 "\n", s->counters[i],
                           pgi_ledger_counter_get(l, s->counters[i]));
        pgi_buf_printf(&b, "\nRegisters (%zu)\n", s->n_regs);
        for (size_t i = 0; i < s->n_regs; i++) {
            size_t len = 0;
            if ((rc = pgi_ledger_register_get(l, &s->regs[i].author, s->regs[i].name, &value, &len,
                                              err)) != PG_OK)
                goto out;
            const char *who = pgi_ledger_member_name(l, &s->regs[i].author);
            if (who)
                pgi_buf_printf(&b, "  %-20s ", who);
            else {
                pgi_buf_puts(&b, "  ");
                put_hex(&b, s->regs[i].author.b, 8);
                pgi_buf_puts(&b, "...     ");
            }
            pgi_buf_printf(&b, "%-16s ", s->regs[i].name);
            put_bytes(&b, value, len, VALUE_SHOWN);
            pgi_buf_puts(&b, "\n");
            free(value);
            value = NULL;
        }
        latest_text(&b, l, &s->gates, "Gate closures", "bids");
        latest_text(&b, l, &s->results, "Clearing results", "gate");
        latest_text(&b, l, &s->settles, "Settlements", "result");
        if (!b.failed) {
            out = b.data;
            b.data = NULL;
        }
    }
    if (bad || !out) {
        bad = 1;
        goto out;
    }
    *text = out;
    out = NULL;
out:
    if (bad && rc == PG_OK)
        rc = pg_error_set(err, PG_ENOMEM, "out of memory while describing the ledger");
    free(out);
    free(value);
    pgi_buf_free(&b);
    json_decref(root);
    free(heads);
    free(members);
    if (s) {
        free(s->regs);
        free(s->counters);
        free(s);
    }
    return rc;
}

/* ---------------------------------------------------------------- the verify report */

int
pgi_ledger_verify_report_text(const pg_ledger_verify_report *rep, bool json, char **text,
                              pg_error *err)
{
    if (!rep || !text)
        return pg_error_set(err, PG_EINVAL, "pg_ledger_verify_report_text: NULL argument");
    size_t listed =
        rep->n_problems < PG_LEDGER_MAX_PROBLEMS ? rep->n_problems : PG_LEDGER_MAX_PROBLEMS;
    if (listed && !rep->problems)
        listed = 0;
    int bad = 0;
    char *out = NULL;
    if (json) {
        json_t *root = json_object();
        set(root, "format", json_string("plurigrid-ledger-verify/1"), &bad);
        set(root, "verifies", json_boolean(rep->n_problems == 0), &bad);
        set(root, "ops", u64_json(rep->ops), &bad);
        set(root, "problems_found", u64_json(rep->n_problems), &bad);
        json_t *pa = json_array();
        set(root, "problems", pa, &bad);
        for (size_t i = 0; pa && i < listed && !bad; i++) {
            const pg_ledger_problem *p = &rep->problems[i];
            json_t *o = json_object();
            add(pa, o, &bad);
            if (bad)
                break;
            set(o, "seq", p->seq ? u64_json(p->seq) : json_null(), &bad);
            set(o, "id", p->id[0] ? pgi_json_str(p->id) : json_null(), &bad);
            set(o, "what", pgi_json_str(p->what), &bad);
        }
        set(root, "equivocations", u64_json(rep->equivocations), &bad);
        set(root, "results_recomputed", u64_json(rep->results_recomputed), &bad);
        set(root, "results_unchecked", u64_json(rep->results_unchecked), &bad);
        set(root, "heads_digest", hex_json(rep->heads_digest.b, PG_LEDGER_HASH_BYTES), &bad);
        set(root, "state_digest", hex_json(rep->state_digest.b, PG_LEDGER_HASH_BYTES), &bad);
        if (root && !bad)
            out = pgi_json_dumps_lines(root);
        json_decref(root);
    } else {
        pgi_buf b = {0};
        pgi_buf_printf(&b, "  ops checked         %zu\n", rep->ops);
        pgi_buf_printf(&b, "  problems            %zu\n", rep->n_problems);
        for (size_t i = 0; i < listed; i++) {
            const pg_ledger_problem *p = &rep->problems[i];
            if (p->seq)
                pgi_buf_printf(&b, "    op %" PRIu64, p->seq);
            else
                pgi_buf_puts(&b, "    the database");
            if (p->id[0])
                pgi_buf_printf(&b, " (id %s)", p->id);
            pgi_buf_printf(&b, ": %s\n", p->what);
        }
        if (rep->n_problems > listed)
            pgi_buf_printf(&b, "    and %zu more problems not listed\n", rep->n_problems - listed);
        pgi_buf_printf(&b, "  equivocations       %zu%s\n", rep->equivocations,
                       rep->equivocations ? " (valid, but an author signed two ops on the same "
                                            "heads)"
                                          : "");
        pgi_buf_printf(&b, "  results recomputed  %zu\n", rep->results_recomputed);
        if (rep->results_unchecked)
            pgi_buf_printf(&b,
                           "  results not recomputed %zu (checked structurally only: no "
                           "checker was given)\n",
                           rep->results_unchecked);
        pgi_buf_puts(&b, "  heads digest        ");
        put_id(&b, &rep->heads_digest);
        pgi_buf_puts(&b, "\n  state digest        ");
        put_id(&b, &rep->state_digest);
        if (rep->n_problems)
            pgi_buf_printf(&b, "\nThe ledger does not verify: %zu problem%s.\n", rep->n_problems,
                           rep->n_problems == 1 ? "" : "s");
        else
            pgi_buf_puts(&b, "\nThe ledger verifies.\n");
        if (!b.failed) {
            out = b.data;
            b.data = NULL;
        }
        pgi_buf_free(&b);
    }
    if (!out)
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing the verify report");
    *text = out;
    return PG_OK;
}
