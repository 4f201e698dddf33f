/* A community's shared ledger (docs/ledger.md, "A community's ledger"): the folder of keys and
 * the genesis op (pg_community_ledger_init), the checker that recomputes every clearing result
 * from its gate's bids with the runner's own clearing (pg_community_ledger_checker), and, for a
 * run (run.c), every hosted member's copy of the ledger on the run's bus: its bids, meter
 * readings and DR events recorded as it acts, the operator's gates, results and settlements, and
 * the reconciliations that keep the copies equal (at start and on a peer's return, every
 * ledger_sync_s, and with every live peer at the end).
 *
 * Record bodies are the lattice's own message encodings (msg.c): a BID's body is the bid, a
 * RESULT's every award of the interval in one result message, a SETTLE's a part of the
 * settlement (at most SETTLE_PART nodes), a DR record's the event; the telemetry register holds
 * the telemetry message. The ledger records what happened; nothing in a run's outcome depends on
 * it, so a run with a ledger gives the same results as one without. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "community/internal.h"
#include "community/ledger.h"
#include "community/msg.h"
#include "core/util.h"
#include "plurigrid/lattice.h"
#include "plurigrid/ledger.h"

#define NONE UINT32_MAX
#define SETTLE_PART 256 /* nodes per SETTLE record: 256 x 197 bytes stay under 64 KiB */
#define APP_MAGIC "PGCL"
#define APP_VERSION 1
#define APP_LEN 17

/* ---------------------------------------------------------------- the genesis' app bytes */

static void
put32(uint8_t *p, uint32_t v)
{
    for (int b = 0; b < 4; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

static void
put64(uint8_t *p, uint64_t v)
{
    for (int b = 0; b < 8; b++)
        p[b] = (uint8_t)(v >> (8 * b));
}

/* What identifies the community in its genesis op: "PGCL", version 1, u32 members, u64 FNV-1a of
 * the scenario's name, u64 of its members' names in order (each with its NUL). */
static void
app_bytes(const pg_community *c, uint8_t out[APP_LEN])
{
    memcpy(out, APP_MAGIC, 4);
    out[4] = APP_VERSION;
    put32(out + 5, (uint32_t)c->n_nodes);
    uint64_t h = pgi_msg_fnv(PGI_FNV_OFFSET, c->name, strlen(c->name) + 1);
    uint64_t m = PGI_FNV_OFFSET;
    for (size_t i = 0; i < c->n_nodes; i++)
        m = pgi_msg_fnv(m, c->nodes[i].name, strlen(c->nodes[i].name) + 1);
    put64(out + 9, h ^ m);
}

static int
node_of(const pg_community *c, const char *name)
{
    for (size_t i = 0; name && i < c->n_nodes; i++)
        if (strcmp(c->nodes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- the folder */

/* Makes dir and its parents (mode 0700: it holds secret keys). */
static int
make_dirs(const char *dir, pg_error *err)
{
    char *p = pgi_strdup(dir);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    int rc = PG_OK;
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            struct stat st;
            if (mkdir(p, 0700) != 0 && errno != EEXIST)
                rc = pg_error_set(err, PG_EIO, "cannot create the folder '%s': %s", p,
                                  strerror(errno));
            else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = pg_error_set(err, PG_EIO, "'%s' is not a folder", p);
            if (rc || end)
                break;
            *s = '/';
        }
    }
    free(p);
    return rc;
}

static char *
file_in(const char *dir, const char *name, const char *ext)
{
    size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, ext);
    return p;
}

int
pg_community_ledger_init(const pg_community *c, const char *dir, pg_error *err)
{
    size_t n = c->n_nodes;
    int rc = PG_OK;
    char **key_path = calloc(n + 1, sizeof *key_path);
    pg_ledger_key *keys = calloc(n + 1, sizeof *keys);
    pg_ledger_member *members = calloc(n ? n : 1, sizeof *members);
    pg_ledger_pubkey *ops = calloc(n ? n : 1, sizeof *ops);
    char *gen_path = NULL, *founder_path = NULL;
    uint8_t *op = NULL;
    size_t op_len = 0;
    if (!key_path || !keys || !members || !ops) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (n > PGI_CL_MAX_MEMBERS) {
        rc = pg_error_set(err, PG_EUNSUPPORTED,
                          "the community '%s' has %zu members: a ledger holds communities of at "
                          "most %d (a gate names every bid it cleared)",
                          c->name, n, PGI_CL_MAX_MEMBERS);
        goto out;
    }
    if (!(gen_path = file_in(dir, "genesis", ".op")) ||
        !(founder_path = file_in(dir, "genesis", ".key"))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!(key_path[i] = file_in(dir, c->nodes[i].name, ".key"))) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
    /* nothing is written when any file is there already */
    for (size_t i = 0; i <= n + 1; i++) {
        const char *p = i < n ? key_path[i] : i == n ? founder_path : gen_path;
        if (access(p, F_OK) == 0) {
            rc = pg_error_set(err, PG_ESTATE,
                              "%s exists already: a ledger folder is made once (its keys are "
                              "secrets and its genesis names them); choose another folder",
                              p);
            goto out;
        }
    }
    if ((rc = make_dirs(dir, err)))
        goto out;
    for (size_t i = 0; i <= n; i++)
        if ((rc = pg_ledger_key_generate(&keys[i], err)))
            goto out;
    for (size_t i = 0; i < n; i++) {
        members[i].name = c->nodes[i].name;
        members[i].key = keys[i].pk;
        ops[i] = keys[i].pk;
    }
    uint8_t app[APP_LEN];
    app_bytes(c, app);
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_GENESIS;
    p.genesis = (pg_ledger_genesis){.community = c->token,
                                    .admit = PG_LEDGER_ADMIT_GENESIS,
                                    .members = members,
                                    .n_members = n,
                                    .operators = ops,
                                    .n_operators = n,
                                    .app = app,
                                    .app_len = sizeof app};
    if ((rc = pg_ledger_op_encode(&keys[n], NULL, 0, &p, &op, &op_len, err)))
        goto out;
    if ((rc = pg_ledger_key_write(founder_path, &keys[n], err)))
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((rc = pg_ledger_key_write(key_path[i], &keys[i], err)))
            goto out;
    rc = pg_output_write(gen_path, op, op_len, err);
out:
    for (size_t i = 0; keys && i <= n; i++)
        pg_ledger_key_wipe(&keys[i]);
    for (size_t i = 0; key_path && i < n; i++)
        free(key_path[i]);
    free(key_path);
    free(keys);
    free(members);
    free(ops);
    free(gen_path);
    free(founder_path);
    free(op);
    return rc;
}

/* ---------------------------------------------------------------- the checker */

typedef struct checker {
    pg_ledger_checker ch; /* first: the public handle */
    const pg_community *c;
    const pg_market_mechanism *mech;
    char name[160];
} checker;

static int
check_bid(const checker *k, const pg_ledger_op *rec, pgi_msg_bid *b, pg_error *err)
{
    const pg_ledger_record *r = &rec->payload.record;
    int rc = pgi_msg_decode_bid(r->body, r->body_len, b, err);
    if (rc)
        return pg_error_set(err, PG_EMODEL, "the bid's body is not a bid (%s)",
                            err ? err->msg : "malformed");
    if (b->interval != r->interval || b->node >= k->c->n_nodes || !r->node ||
        strcmp(k->c->nodes[b->node].name, r->node) != 0)
        return pg_error_set(err, PG_EMODEL,
                            "the bid's body (interval %u, node %u) is not the record's (interval "
                            "%u, node '%.63s')",
                            b->interval, b->node, r->interval, r->node ? r->node : "");
    return PG_OK;
}

/* Recomputes a RESULT from its gate's bids: the awards must name exactly the gate's bids, in
 * node order, and give to the last bit what the clearing gives. */
static int
check_result(const checker *k, const pg_ledger_op *rec, const pg_ledger_op *const *refs,
             size_t n_refs, pg_error *err)
{
    const pg_community *c = k->c;
    const pg_ledger_record *r = &rec->payload.record;
    size_t n = c->n_nodes;
    pgi_msg_result res;
    memset(&res, 0, sizeof res);
    pgi_msg_bid *bids = calloc(n ? n : 1, sizeof *bids);
    const pgi_msg_bid **by_node = calloc(n ? n : 1, sizeof *by_node);
    double *cleared = calloc(3 * (n ? n : 1), sizeof *cleared);
    pg_market_book book;
    pg_market_book_init(&book);
    pg_market_result mr;
    memset(&mr, 0, sizeof mr);
    int rc = PG_OK;
    if (!bids || !by_node || !cleared) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if (r->interval >= c->n) {
        rc = pg_error_set(err, PG_EMODEL,
                          "interval %u is beyond the %zu intervals of the scenario's run",
                          r->interval, c->n);
        goto out;
    }
    if (n_refs < 1 || refs[0]->payload.record.type != PG_LEDGER_GATE) {
        rc = pg_error_set(err, PG_EMODEL, "a result must name its gate");
        goto out;
    }
    pg_error e2 = {0};
    if (pgi_msg_decode_result(r->body, r->body_len, &res, &e2)) {
        rc = pg_error_set(err, PG_EMODEL, "the result's body is not a result (%s)", e2.msg);
        goto out;
    }
    if (res.interval != r->interval || res.term != r->term || res.first != 0 ||
        res.count != res.n_total || res.count != n_refs - 1) {
        rc = pg_error_set(err, PG_EMODEL,
                          "the result's body (interval %u, term %u, %u awards) does not match the "
                          "record (interval %u, term %u) and its gate (%zu bids)",
                          res.interval, res.term, res.count, r->interval, r->term, n_refs - 1);
        goto out;
    }
    for (size_t j = 1; j < n_refs; j++) {
        pgi_msg_bid b;
        if ((rc = check_bid(k, refs[j], &b, err)))
            goto out;
        if (by_node[b.node]) {
            rc = pg_error_set(err, PG_EMODEL, "the gate names two bids of node '%s'",
                              c->nodes[b.node].name);
            goto out;
        }
        bids[b.node] = b;
        by_node[b.node] = &bids[b.node];
    }
    for (size_t a = 0; a < res.count; a++) {
        const pgi_msg_award *aw = &res.awards[a];
        if (aw->node >= n || !by_node[aw->node] || (a > 0 && aw->node <= res.awards[a - 1].node) ||
            aw->digest != pgi_msg_bid_digest(by_node[aw->node])) {
            rc = pg_error_set(err, PG_EMODEL,
                              "the result's award %zu (node %u) names no bid of its gate", a,
                              aw->node);
            goto out;
        }
    }
    double *paid = cleared + n, *vol = cleared + 2 * n;
    if ((rc = pgi_community_fill_book(c, &book, by_node, err)) ||
        (rc = pgi_community_clear(c, k->mech, r->interval, &book, &mr, cleared, paid, vol, err)))
        goto out;
    for (size_t a = 0; a < res.count; a++) {
        const pgi_msg_award *aw = &res.awards[a];
        double q = cleared[aw->node], pr = pgi_community_award_price(paid, vol, aw->node);
        if (q != aw->cleared_kwh || pr != aw->price) {
            rc = pg_error_set(err, PG_EMODEL,
                              "interval %u: the result gives %s %.17g kWh at %.17g $/kWh; "
                              "recomputed from its gate's bids (%s): %.17g kWh at %.17g $/kWh",
                              r->interval, c->nodes[aw->node].name, aw->cleared_kwh, aw->price,
                              k->mech ? k->mech->name : "market off", q, pr);
            goto out;
        }
    }
out:
    pg_market_result_free(&mr);
    pg_market_book_free(&book);
    free(res.awards);
    free(bids);
    free(by_node);
    free(cleared);
    return rc;
}

static int
check_record(void *ctx, const pg_ledger_op *rec, const pg_ledger_op *const *refs, size_t n_refs,
             pg_error *err)
{
    const checker *k = ctx;
    const pg_ledger_record *r = &rec->payload.record;
    pg_error e2 = {0};
    switch (r->type) {
    case PG_LEDGER_BID: {
        pgi_msg_bid b;
        return check_bid(k, rec, &b, err);
    }
    case PG_LEDGER_GATE:
        if (r->body_len != 0)
            return pg_error_set(err, PG_EMODEL, "a gate has no body");
        return PG_OK;
    case PG_LEDGER_RESULT: return check_result(k, rec, refs, n_refs, err);
    case PG_LEDGER_SETTLE: {
        pgi_msg_settle s;
        memset(&s, 0, sizeof s);
        if (pgi_msg_decode_settle(r->body, r->body_len, &s, &e2))
            return pg_error_set(err, PG_EMODEL, "the settlement's body is not a settlement (%s)",
                                e2.msg);
        bool ok = s.interval == r->interval && s.term == r->term && s.n_total <= k->c->n_nodes;
        for (size_t j = 0; ok && j < s.count; j++)
            ok = s.nodes[j].node < k->c->n_nodes;
        free(s.nodes);
        if (!ok)
            return pg_error_set(err, PG_EMODEL,
                                "the settlement's body does not match its record (interval %u, "
                                "term %u)",
                                r->interval, r->term);
        return PG_OK;
    }
    case PG_LEDGER_DR: {
        pgi_msg_dr d;
        memset(&d, 0, sizeof d);
        if (pgi_msg_decode_dr(r->body, r->body_len, &d, &e2))
            return pg_error_set(err, PG_EMODEL, "the DR record's body is not a DR event (%s)",
                                e2.msg);
        free(d.targets);
        return PG_OK;
    }
    }
    return pg_error_set(err, PG_EMODEL, "unknown record type %d", (int)r->type);
}

int
pg_community_ledger_checker(const pg_community *c, size_t variant, const char *market,
                            struct pg_ledger_checker **out, pg_error *err)
{
    if (variant >= c->n_variants)
        return pg_error_set(err, PG_EINVAL, "the scenario has %zu variants: no variant %zu",
                            c->n_variants, variant);
    const char *mname = market ? market : c->mechanism;
    const pg_market_mechanism *mech = NULL;
    if (strcmp(mname, "none") != 0 && !(mech = pg_market_mechanism_find(mname, err)))
        return PG_EINVAL;
    checker *k = calloc(1, sizeof *k);
    if (!k)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    k->c = c;
    k->mech = mech;
    snprintf(k->name, sizeof k->name, "the market of community '%.63s' (%s)", c->name, mname);
    k->ch.name = k->name;
    k->ch.ctx = k;
    k->ch.check = check_record;
    *out = &k->ch;
    return PG_OK;
}

void
pg_community_ledger_checker_free(struct pg_ledger_checker *ch)
{
    free(ch); /* the checker's first member */
}

/* ---------------------------------------------------------------- a run's ledgers */

typedef struct dr_seen {
    char id[64];
    uint32_t modification;
} dr_seen;

typedef struct cl_member {
    uint32_t node;
    const char *name;
    cm_ledger *L;
    pg_ledger_key key;
    pg_ledger *l;
    pg_ledger_net *net;
    pg_bus *bus;
    double next_sync;
    size_t rr; /* the next peer of the periodic reconciliation */
    uint64_t failed;
    dr_seen *dr;
    size_t n_dr;
} cl_member;

struct cm_ledger {
    const pg_community *c;
    const pg_lattice_options *lo;
    bool timed;
    double sync_s;
    pg_ledger_checker *checker;
    cl_member *m;
    size_t n;
    uint32_t *of; /* [c->n_nodes]: the hosted member's index in m, or NONE */
    /* the operator's last result: the refs of its settlement */
    uint32_t result_t, result_term;
    pg_ledger_id result_id;
};

static void cl_log(const cm_ledger *L, pg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cl_log(const cm_ledger *L, pg_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pgi_lattice_log(L->lo, level, fmt, ap);
    va_end(ap);
}

static void
on_reject(void *ud, const pg_ledger_id *id, const char *why)
{
    const cl_member *m = ud;
    char hex[2 * PG_LEDGER_HASH_BYTES + 1] = "(undecodable)";
    if (id)
        pg_ledger_hex(id->b, sizeof id->b, hex);
    cl_log(m->L, PG_LOG_WARN, "ledger of %s: op %.16s rejected: %s", m->name, hex,
           why ? why : "invalid");
}

static cl_member *
member_of(cm_ledger *L, uint32_t node)
{
    return L && node < L->c->n_nodes && L->of[node] != NONE ? &L->m[L->of[node]] : NULL;
}

void
pgi_cl_close(cm_ledger *L)
{
    if (!L)
        return;
    for (size_t k = 0; k < L->n; k++) {
        pg_ledger_net_free(L->m[k].net);
        pg_ledger_close(L->m[k].l);
        pg_ledger_key_wipe(&L->m[k].key);
        free(L->m[k].dr);
    }
    free(L->m);
    free(L->of);
    pg_community_ledger_checker_free(L->checker);
    free(L);
}

/* A file of the ledger folder that must be there. */
static int
need_file(const char *dir, const char *path, const char *what, pg_error *err)
{
    if (access(path, F_OK) == 0)
        return PG_OK;
    return pg_error_set(err, PG_ENOTFOUND,
                        "the ledger folder %s has no %s (%s): make the community's ledger folder "
                        "first with 'plurigrid ledger init --scenario SCENARIO.json --out %s' "
                        "(docs/ledger.md)",
                        dir, what, path, dir);
}

/* Whether g is the genesis of community c as pg_community_ledger_init makes it: the community's
 * name and its application bytes (the scenario's name and its members' names). */
static bool
genesis_of(const pg_community *c, const pg_ledger_genesis *g)
{
    uint8_t app[APP_LEN];
    app_bytes(c, app);
    return g->community && strcmp(g->community, c->token) == 0 && g->app_len == APP_LEN &&
           memcmp(g->app, app, APP_LEN) == 0;
}

int
pg_community_ledger_match(const pg_community *c, pg_ledger *l, pg_error *err)
{
    pg_ledger_id gid;
    uint8_t *data = NULL;
    size_t len = 0;
    pg_ledger_op *op = NULL;
    int rc;
    if (!c || !l)
        return pg_error_set(err, PG_EINVAL, "pg_community_ledger_match: NULL argument");
    pg_ledger_genesis_id(l, &gid);
    if ((rc = pg_ledger_get(l, &gid, &data, &len, err)) ||
        (rc = pg_ledger_op_decode(data, len, &op, err)))
        goto out;
    if (op->payload.kind != PG_LEDGER_GENESIS || !genesis_of(c, &op->payload.genesis))
        rc = pg_error_set(err, PG_EMODEL,
                          "this is a ledger of community '%.63s', not of this scenario's '%.63s' "
                          "(its name or members differ): give the scenario the community played",
                          pg_ledger_community(l), c->token);
out:
    pg_ledger_op_free(op);
    free(data);
    return rc;
}

/* Reads and checks the genesis op: the community's, made by pg_community_ledger_init. */
static int
read_genesis(const pg_community *c, const char *dir, uint8_t **out, size_t *out_len, pg_error *err)
{
    char *path = file_in(dir, "genesis", ".op"), *data = NULL;
    size_t len = 0;
    pg_ledger_op *op = NULL;
    int rc;
    if (!path)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if ((rc = need_file(dir, path, "genesis op", err)) ||
        (rc = pg_input_read(path, PG_LEDGER_MAX_OP, &data, &len, err)))
        goto out;
    if ((rc = pg_ledger_op_decode(data, len, &op, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        rc = pg_error_set(err, rc, "%s: not a genesis op: %.700s", path, msg);
        goto out;
    }
    if (op->payload.kind != PG_LEDGER_GENESIS)
        rc = pg_error_set(err, PG_EPARSE, "%s: not a genesis op", path);
    else if (!genesis_of(c, &op->payload.genesis))
        rc = pg_error_set(err, PG_EMODEL,
                          "%s is the genesis of community '%.63s', not of this scenario's "
                          "'%.63s' (its name or members differ): make a ledger folder for it "
                          "with 'plurigrid ledger init'",
                          path, op->payload.genesis.community ? op->payload.genesis.community : "",
                          c->token);
    if (!rc) {
        *out = (uint8_t *)data;
        *out_len = len;
        data = NULL;
    }
out:
    pg_ledger_op_free(op);
    free(data);
    free(path);
    return rc;
}

static int
open_member(cm_ledger *L, cl_member *m, const char *dir, const char *prefix, const uint8_t *gen,
            size_t gen_len, pg_error *err)
{
    char *key_path = file_in(dir, m->name, ".key"), *db = file_in(dir, m->name, ".db");
    int rc;
    if (!key_path || !db) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = need_file(dir, key_path, "key of this member", err)) ||
        (rc = pg_ledger_key_read(key_path, &m->key, err)))
        goto out;
    pg_ledger_options o;
    pg_ledger_options_init(&o);
    o.create = true;
    o.checker = L->checker;
    o.reject = on_reject;
    o.reject_ud = m;
    if ((rc = pg_ledger_open(&m->l, db, gen, gen_len, &o, err))) {
        /* a copy of another genesis (an earlier folder's) is the user's to move away */
        if (rc == PG_ESTATE && err)
            rc = err->code = PG_EMODEL;
        goto out;
    }
    const char *as = pg_ledger_member_name(m->l, &m->key.pk);
    if (!as || strcmp(as, m->name) != 0) {
        rc = pg_error_set(err, PG_EAUTH,
                          "%s is not the key of member '%s' in the ledger's genesis (%s): the "
                          "keys and genesis.op of one 'plurigrid ledger init' go together",
                          key_path, m->name, as ? as : "no member's");
        goto out;
    }
    pg_ledger_net_options no;
    pg_ledger_net_options_init(&no);
    no.prefix = prefix;
    no.self = m->name;
    if (L->lo) {
        no.log = L->lo->log;
        no.log_ud = L->lo->log_ud;
        no.log_level = L->lo->log_level;
        if (L->timed)
            no.timeout_s = L->lo->timeout_s < 2 ? L->lo->timeout_s : 2;
    }
    if ((rc = pg_ledger_net_new(&m->net, m->l, m->bus, &no, err)))
        goto out;
    cl_log(L, PG_LOG_DEBUG, "ledger of %s: %s, %zu ops", m->name, db, pg_ledger_count(m->l));
out:
    free(key_path);
    free(db);
    return rc;
}

int
pgi_cl_open(cm_ledger **out, const pg_community *c, const pg_market_mechanism *mech,
            const pg_lattice_options *lo, bool timed, const char *subject_prefix,
            const uint32_t *nodes, pg_bus *const *buses, size_t n, pg_error *err)
{
    const char *dir = lo->ledger_dir;
    uint8_t *gen = NULL;
    size_t gen_len = 0;
    char prefix[PG_BUS_MAX_SUBJECT + 1];
    int rc;
    if (c->n_nodes > PGI_CL_MAX_MEMBERS)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "the community '%s' has %zu members: a ledger holds communities of "
                            "at most %d",
                            c->name, c->n_nodes, PGI_CL_MAX_MEMBERS);
    int k = snprintf(prefix, sizeof prefix, "%s.ledger", subject_prefix);
    if (k < 0 || (size_t)k + 80 > PG_BUS_MAX_SUBJECT)
        return pg_error_set(err, PG_EINVAL, "the ledger's subjects (%s) are too long", prefix);
    cm_ledger *L = calloc(1, sizeof *L);
    if (!L)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    L->c = c;
    L->lo = lo;
    L->timed = timed;
    L->sync_s = lo->ledger_sync_s;
    L->result_t = NONE;
    if (!(L->m = calloc(n ? n : 1, sizeof *L->m)) ||
        !(L->of = malloc((c->n_nodes ? c->n_nodes : 1) * sizeof *L->of))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c->n_nodes; i++)
        L->of[i] = NONE;
    struct pg_ledger_checker *ch = NULL;
    if ((rc = pg_community_ledger_checker(c, 0, mech ? mech->name : "none", &ch, err)))
        goto out;
    L->checker = ch;
    if ((rc = read_genesis(c, dir, &gen, &gen_len, err)))
        goto out;
    for (size_t j = 0; j < n; j++) {
        cl_member *m = &L->m[j];
        m->node = nodes[j];
        m->name = c->nodes[nodes[j]].name;
        m->L = L;
        m->bus = buses[j];
        L->of[nodes[j]] = (uint32_t)j;
        L->n = j + 1;
        if ((rc = open_member(L, m, dir, prefix, gen, gen_len, err)))
            goto out;
    }
out:
    free(gen);
    if (rc) {
        pgi_cl_close(L);
        return rc;
    }
    *out = L;
    return PG_OK;
}

/* Appends p by m and publishes it; *id its id (may be NULL). */
static int
append(cl_member *m, const pg_ledger_payload *p, pg_ledger_id *id, pg_error *err)
{
    pg_ledger_id x;
    int rc = pg_ledger_append(m->l, &m->key, p, &x, err);
    if (rc) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        cl_log(m->L, PG_LOG_ERROR, "ledger of %s: cannot record: %s", m->name, msg);
        return pg_error_set(err, rc, "the ledger of %s: %.900s", m->name, msg);
    }
    if (id)
        *id = x;
    pg_error e2 = {0};
    if (pg_ledger_net_publish(m->net, &x, &e2)) /* the reconciliations bring it otherwise */
        cl_log(m->L, PG_LOG_DEBUG, "ledger of %s: could not publish an op: %s", m->name, e2.msg);
    return PG_OK;
}

static pg_ledger_payload
record_payload(pg_ledger_record_type type, uint32_t t, uint32_t term, const char *node,
               const pg_ledger_id *refs, size_t n_refs, const void *body, size_t len)
{
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_RECORD;
    p.record = (pg_ledger_record){.type = type,
                                  .interval = t,
                                  .term = term,
                                  .node = node ? node : "",
                                  .refs = refs,
                                  .n_refs = n_refs,
                                  .body = body,
                                  .body_len = len};
    return p;
}

int
pgi_cl_bid(cm_ledger *L, const pgi_msg_bid *b, pg_error *err)
{
    cl_member *m = member_of(L, b->node);
    if (!m)
        return PG_OK;
    uint8_t *buf;
    size_t len;
    int rc = pgi_msg_encode_bid(b, &buf, &len, err);
    if (rc)
        return rc;
    pg_ledger_payload p = record_payload(PG_LEDGER_BID, b->interval, 0, m->name, NULL, 0, buf, len);
    rc = append(m, &p, NULL, err);
    free(buf);
    return rc;
}

int
pgi_cl_telemetry(cm_ledger *L, const pgi_msg_telemetry *t, pg_error *err)
{
    cl_member *m = member_of(L, t->node);
    if (!m)
        return PG_OK;
    uint8_t *buf;
    size_t len;
    int rc = pgi_msg_encode_telemetry(t, &buf, &len, err);
    if (rc)
        return rc;
    pg_ledger_payload p;
    memset(&p, 0, sizeof p);
    p.kind = PG_LEDGER_REGISTER;
    p.name = "telemetry";
    p.value = buf;
    p.value_len = len;
    rc = append(m, &p, NULL, err);
    free(buf);
    return rc;
}

static int
dr_record(cl_member *m, const pgi_msg_dr *d, pg_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc = pgi_msg_encode_dr(d, &buf, &len, err);
    if (rc)
        return rc;
    pg_ledger_payload p = record_payload(PG_LEDGER_DR, 0, 0, NULL, NULL, 0, buf, len);
    rc = append(m, &p, NULL, err);
    free(buf);
    return rc;
}

int
pgi_cl_dr_received(cm_ledger *L, uint32_t node, const pgi_msg_dr *d, pg_error *err)
{
    cl_member *m = member_of(L, node);
    if (!m)
        return PG_OK;
    for (size_t k = 0; k < m->n_dr; k++)
        if (strcmp(m->dr[k].id, d->event.id) == 0 && m->dr[k].modification >= d->event.modification)
            return PG_OK;
    dr_seen *s = realloc(m->dr, (m->n_dr + 1) * sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    m->dr = s;
    snprintf(s[m->n_dr].id, sizeof s[m->n_dr].id, "%s", d->event.id);
    s[m->n_dr].modification = d->event.modification;
    m->n_dr++;
    return dr_record(m, d, err);
}

int
pgi_cl_dr_event(cm_ledger *L, uint32_t me, const pgi_msg_dr *d, pg_error *err)
{
    cl_member *m = member_of(L, me);
    return m ? dr_record(m, d, err) : PG_OK;
}

typedef struct find_ctx {
    const pg_community *c;
    const bool *want;
    bool *found;
    pg_ledger_id *ids;
    uint8_t **enc; /* [n]: the bids' encodings */
    size_t *enc_len;
} find_ctx;

static int
find_one(void *ud, const pg_ledger_op *op)
{
    find_ctx *f = ud;
    const pg_ledger_record *r = &op->payload.record;
    int i = node_of(f->c, r->node);
    if (i < 0 || !f->want[i] || !f->enc[i] || r->body_len != f->enc_len[i] ||
        memcmp(r->body, f->enc[i], r->body_len) != 0)
        return 0;
    /* the latest (delivery order) when the same bid is there twice: a copy that recorded an
     * earlier run of the same days */
    f->found[i] = true;
    f->ids[i] = op->id;
    return 0;
}

int
pgi_cl_find_bids(cm_ledger *L, uint32_t me, uint32_t t, const pgi_msg_bid *bids, const bool *want,
                 bool *found, pg_ledger_id *ids, pg_error *err)
{
    cl_member *m = member_of(L, me);
    size_t n = L->c->n_nodes;
    if (!m)
        return PG_OK;
    bool missing = false;
    for (size_t i = 0; i < n && !missing; i++)
        missing = want[i] && !found[i];
    if (!missing)
        return PG_OK;
    find_ctx f = {.c = L->c, .want = want, .found = found, .ids = ids};
    int rc = PG_OK;
    if (!(f.enc = calloc(n, sizeof *f.enc)) || !(f.enc_len = calloc(n, sizeof *f.enc_len))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++)
        if (want[i] && !found[i])
            rc = pgi_msg_encode_bid(&bids[i], &f.enc[i], &f.enc_len[i], err);
    if (!rc)
        rc = pg_ledger_each_record(m->l, PG_LEDGER_BID, t, find_one, &f, err);
out:
    for (size_t i = 0; f.enc && i < n; i++)
        free(f.enc[i]);
    free(f.enc);
    free(f.enc_len);
    return rc;
}

int
pgi_cl_gate_result(cm_ledger *L, uint32_t me, uint32_t t, uint32_t term, const bool *has,
                   const pg_ledger_id *ids, const pgi_msg_result *res, pg_error *err)
{
    cl_member *m = member_of(L, me);
    size_t n = L->c->n_nodes;
    if (!m)
        return PG_OK;
    pg_ledger_id *refs = malloc((n ? n : 1) * sizeof *refs), gate;
    uint8_t *buf = NULL;
    size_t len = 0, nr = 0;
    int rc;
    if (!refs)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (has[i])
            refs[nr++] = ids[i];
    pg_ledger_payload p = record_payload(PG_LEDGER_GATE, t, term, NULL, refs, nr, NULL, 0);
    if ((rc = append(m, &p, &gate, err)) || (rc = pgi_msg_encode_result(res, &buf, &len, err)))
        goto out;
    p = record_payload(PG_LEDGER_RESULT, t, term, NULL, &gate, 1, buf, len);
    if ((rc = append(m, &p, &L->result_id, err)))
        goto out;
    L->result_t = t;
    L->result_term = term;
    cl_log(L, PG_LOG_DEBUG, "ledger of %s: interval %u: gate of %zu bids and result recorded",
           m->name, t, nr);
out:
    free(buf);
    free(refs);
    return rc;
}

int
pgi_cl_settle(cm_ledger *L, uint32_t me, const pgi_msg_settle *hdr, const pgi_msg_settle_node *x,
              size_t count, pg_error *err)
{
    cl_member *m = member_of(L, me);
    if (!m)
        return PG_OK;
    if (L->result_t != hdr->interval || L->result_term != hdr->term)
        return pg_error_set(err, PG_ESTATE, "the ledger has no result of interval %u to settle",
                            hdr->interval);
    int rc = PG_OK;
    size_t parts = count ? (count + SETTLE_PART - 1) / SETTLE_PART : 1;
    for (size_t q = 0; q < parts && !rc; q++) {
        size_t first = q * SETTLE_PART, k = count - first;
        if (k > SETTLE_PART)
            k = SETTLE_PART;
        pgi_msg_settle s = *hdr;
        s.n_total = (uint32_t)count;
        s.first = (uint32_t)first;
        s.count = (uint32_t)k;
        s.nodes = (pgi_msg_settle_node *)(x + first);
        uint8_t *buf;
        size_t len;
        if ((rc = pgi_msg_encode_settle(&s, &buf, &len, err)))
            break;
        pg_ledger_payload p = record_payload(PG_LEDGER_SETTLE, hdr->interval, hdr->term, NULL,
                                             &L->result_id, 1, buf, len);
        rc = append(m, &p, NULL, err);
        free(buf);
    }
    return rc;
}

/* ---------------------------------------------------------------- reconciliation */

void
pgi_cl_reconcile(cm_ledger *L, uint32_t node, uint32_t peer)
{
    cl_member *m = member_of(L, node);
    if (!m || peer >= L->c->n_nodes || peer == node)
        return;
    pg_error e2 = {0};
    if (pg_ledger_net_reconcile(m->net, L->c->nodes[peer].name, &e2))
        cl_log(L, PG_LOG_DEBUG, "ledger of %s: cannot reconcile with %s: %s", m->name,
               L->c->nodes[peer].name, e2.msg);
    else
        cl_log(L, PG_LOG_DEBUG, "ledger of %s: reconciling with %s", m->name,
               L->c->nodes[peer].name);
}

void
pgi_cl_peer_up(cm_ledger *L, uint32_t peer)
{
    for (size_t k = 0; L && k < L->n; k++)
        pgi_cl_reconcile(L, L->m[k].node, peer);
}

void
pgi_cl_bus_back(cm_ledger *L, const pg_bus *bus)
{
    for (size_t k = 0; L && k < L->n; k++)
        if (L->m[k].bus == bus)
            L->m[k].next_sync = 0;
}

int
pgi_cl_tick(cm_ledger *L, double now, const bool *peer, pg_error *err)
{
    size_t n = L->c->n_nodes;
    for (size_t k = 0; k < L->n; k++) {
        cl_member *m = &L->m[k];
        int rc = pg_ledger_net_step(m->net, now, err);
        if (rc)
            return rc;
        pg_ledger_net_stats st;
        pg_ledger_net_get_stats(m->net, &st);
        if (st.failed > m->failed) {
            cl_log(L, PG_LOG_WARN, "ledger of %s: %llu reconciliation%s failed (%llu in all)",
                   m->name, (unsigned long long)(st.failed - m->failed),
                   st.failed - m->failed == 1 ? "" : "s", (unsigned long long)st.failed);
            m->failed = st.failed;
        }
        if (now < m->next_sync)
            continue;
        m->next_sync = now + L->sync_s;
        for (size_t j = 0; j < n; j++) {
            size_t i = (m->rr + j) % n;
            if (peer[i] && i != m->node) {
                m->rr = i + 1;
                pgi_cl_reconcile(L, m->node, (uint32_t)i);
                break;
            }
        }
    }
    return PG_OK;
}

void
pgi_cl_final_round(cm_ledger *L, int round, const bool *peer)
{
    size_t n = L->c->n_nodes;
    for (size_t k = 0; round == 0 && k < L->n; k++)
        for (size_t i = 0; i < n; i++)
            if (peer[i])
                pgi_cl_reconcile(L, L->m[k].node, (uint32_t)i);
    /* the hosted members share the process's buses: through the first, twice */
    for (size_t k = 1; k < L->n; k++) {
        if (round == 0)
            pgi_cl_reconcile(L, L->m[k].node, L->m[0].node);
        else
            pgi_cl_reconcile(L, L->m[0].node, L->m[k].node);
    }
}

bool
pgi_cl_idle(const cm_ledger *L)
{
    for (size_t k = 0; L && k < L->n; k++)
        if (!pg_ledger_net_idle(L->m[k].net))
            return false;
    return true;
}

uint64_t
pgi_cl_failed(const cm_ledger *L)
{
    uint64_t f = 0;
    for (size_t k = 0; L && k < L->n; k++) {
        pg_ledger_net_stats st;
        pg_ledger_net_get_stats(L->m[k].net, &st);
        f += st.failed;
    }
    return f;
}
