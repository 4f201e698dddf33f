/* The community runner: one run of one variant, interval by interval, with the nodes and the
 * market operator as actors on a message bus (lattice.h). The same code plays a run in one
 * process on the in-process bus and on the lattice (NATS), where each process hosts some of the
 * members (docs/lattice.md gives the protocol).
 *
 * Per interval the operator publishes the demand-response events that become known, holds a
 * rental round of the shared batteries when one is due, opens the interval (its price forecast
 * and every DR event known and not over); every node plans and answers with its bid (possibly
 * empty), which the operator acknowledges; the gate closes when every live member has bid; the
 * operator clears the book (the mechanism of the table, or the grid-aware clearing when the
 * scenario names a feeder) and publishes the result; each node runs its devices and publishes its
 * meter reading; the operator settles every node with the exact balance check and publishes the
 * settlement, which every process records into its copy of the run (the metrics).
 *
 * The operator's code is sequential: where it waits for answers it calls await(condition), which
 * polls the buses and keeps house (heartbeats, liveness, retransmissions, the stop flag) until the
 * condition holds. On the in-process bus there is no clock: the await is one flush, after which
 * the condition must hold, every member is always live, and the run is deterministic.
 *
 * The node side is one "host" per bus that subscribes once to each subject and hands a message to
 * the node actor it names; a node's state is touched only by the host's handlers, the operator's
 * only by the operator's, all on the thread that runs the loop. Messages are the binary encoding
 * of msg.c; a malformed one is counted and dropped. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "community/internal.h"
#include "community/ledger.h"
#include "community/msg.h"
#include "core/util.h"
#include "node/internal.h"
#include "plurigrid/lattice.h"

#define NONE UINT32_MAX
#define FLUSH_TIMEOUT_S 600
#define AWAIT_UNMET 1    /* in-process: the condition does not hold after the flush */
#define CATCHUP 8        /* settlements sent again to a member that missed them, per retry */
#define DISPUTE_LINES 10 /* disputes logged per interval; the rest are counted */
#define LINGER                                                                                     \
    4 /* after the run, timeouts a member missing settlements (and the operator                    \
         serving it) wait for them */

/* ---------------------------------------------------------------- subjects */

#define SUBJ (PG_BUS_MAX_SUBJECT + 1)

typedef struct subjects {
    char prefix[SUBJ]; /* pg.C or pg.C.S */
    char announce[SUBJ], heartbeat[SUBJ], open[SUBJ], bid[SUBJ], result[SUBJ], dispute[SUBJ];
    char settle[SUBJ], dr[SUBJ], telemetry_all[SUBJ], share_all[SUBJ], share_report[SUBJ];
    char synced[SUBJ]; /* with a ledger: a member's copy is reconciled at the end */
} subjects;

/* dst = a b c, cut at PG_BUS_MAX_SUBJECT bytes; false when cut. */
static bool
join(char *dst, const char *a, const char *b, const char *c)
{
    const char *part[3] = {a, b, c};
    size_t k = 0;
    for (int i = 0; i < 3; i++)
        for (const char *p = part[i]; *p; p++) {
            if (k == PG_BUS_MAX_SUBJECT) {
                dst[k] = '\0';
                return false;
            }
            dst[k++] = *p;
        }
    dst[k] = '\0';
    return true;
}

static int
make_subjects(subjects *s, const char *token, const char *session, pg_error *err)
{
    int k = session ? snprintf(s->prefix, sizeof s->prefix, "pg.%s.%s", token, session)
                    : snprintf(s->prefix, sizeof s->prefix, "pg.%s", token);
    /* the longest subject adds ".share.report" and a node's name (checked when it is made) */
    if (k < 0 || (size_t)k + 32 > PG_BUS_MAX_SUBJECT || !pg_bus_subject_valid(s->prefix, false))
        return pg_error_set(err, PG_EINVAL,
                            "the community's subjects (%s) are too long or not valid subject "
                            "tokens",
                            s->prefix);
#define MK(f, tail) join(s->f, s->prefix, "." tail, "")
    MK(announce, "member.announce");
    MK(heartbeat, "member.heartbeat");
    MK(open, "market.open");
    MK(bid, "market.bid");
    MK(result, "market.result");
    MK(dispute, "market.dispute");
    MK(settle, "settle");
    MK(dr, "dr.event");
    MK(telemetry_all, "telemetry.*");
    MK(share_all, "share.node.*");
    MK(share_report, "share.report");
    MK(synced, "member.synced");
#undef MK
    return PG_OK;
}

/* prefix.kind.name, or PG_EINVAL when it is too long. */
static int
node_subject(char *buf, const subjects *s, const char *kind, const char *name, pg_error *err)
{
    char mid[64];
    snprintf(mid, sizeof mid, ".%s.", kind);
    if (!join(buf, s->prefix, mid, name))
        return pg_error_set(err, PG_EINVAL, "the subject of node '%.63s' is too long", name);
    return PG_OK;
}

/* The last token of a subject. */
static const char *
last_token(const char *subject)
{
    const char *dot = strrchr(subject, '.');
    return dot ? dot + 1 : subject;
}

/* ---------------------------------------------------------------- state */

struct engine;
struct host;

typedef struct actor {
    uint32_t index; /* the node's index in the community */
    struct host *h;
    pg_node *node;
    const cm_node *cn;
    size_t n_inputs;
    const double **forecast; /* [n_inputs] */
    double *actual;          /* [n_inputs] */
    pg_dr_event *events;
    size_t n_events, cap_events;
    pg_node_env env;
    pg_node_plan plan;
    char ack[SUBJ]; /* the reply subject of its bids */
    /* its bid of interval bid_t, kept until a later interval opens */
    uint32_t bid_t;
    pgi_msg_bid bid;
    uint64_t digest;
    bool planned, acked, resulted;
    uint32_t ack_term;
    double next_retry;
    /* its reading of interval bid_t once it has operated */
    bool operated;
    bool battery; /* it has a battery (its own, or a pack docked at the start) */
    pgi_msg_telemetry tel;
} actor;

typedef struct host {
    struct engine *e;
    pg_bus *bus;
    actor **a; /* the actors on this bus, in node order */
    size_t n;
    pgi_msg_open open; /* the last open (its prices; events freed) */
    uint64_t disconnects, reconnects;
    char url[256]; /* the server it was last connected to */
} host;

typedef struct member {
    bool hosted, live, seen, warned;
    double last_seen, next_catchup, done_since;
    uint64_t incarnation;
    uint32_t done; /* intervals it has recorded from the first (its heartbeats) */
    uint32_t last; /* the last interval it has recorded + 1 */
    uint32_t term; /* the operator's term it follows (its heartbeats), at most one above the rest */
} member;

typedef enum { PH_IDLE, PH_GATE, PH_RESULT } phase;

typedef struct operator_ {
    bool active; /* a hosted member holds the role */
    uint32_t me;
    phase ph;
    uint32_t interval;
    pgi_msg_bid *bids;
    bool *has_bid;
    uint64_t *digest, *inc; /* the bid's digest, the bidder's incarnation when it bid */
    pg_node_step *tel;
    bool *has_tel;
    double *pack_soc; /* per pack: the state of charge last reported */
    bool *pack_reported;
    uint8_t *open_buf; /* for retransmission */
    size_t open_len;
    uint8_t **res_buf;
    size_t *res_len, n_res;
    double next_retry, deadline;
    /* the DR events known: the scenario's events in the order they become known */
    size_t *ev_order, ev_next;
    pgi_msg_dr *known;
    size_t n_known;
    /* sharing */
    uint32_t *holder; /* per pack: the node it is docked at */
    double *cost;
    size_t *cand;
    unsigned char *win;
    double *pay;
    uint32_t *order;
    /* with a ledger: the BID ops of the bids in the book */
    pg_ledger_id *bid_op;
    bool *has_bid_op;
    double ledger_until, ledger_retry;
} operator_;

/* A message in parts (result, settle) being put together: the records by position. */
typedef struct assembly {
    uint32_t t, term, op, total, have;
    bool *got;
    pgi_msg_settle hdr;
    pgi_msg_settle_node *settle; /* [n_nodes] */
    pgi_msg_award *award;        /* [n_nodes] */
    uint8_t **chunk;             /* settle: the parts as received, for catching others up */
    size_t *chunk_len, n_chunk;
} assembly;

typedef struct stored {
    uint8_t **chunk;
    size_t *len, n;
} stored;

typedef struct engine {
    const pg_community *c;
    const cm_run_spec *spec;
    const pg_lattice_options *lo; /* NULL: in process */
    bool timed;                   /* a clock runs: heartbeats, timeouts, retransmissions */
    double heartbeat_s, timeout_s, retry_s, form_s, interval_s;
    subjects sj;
    uint64_t run_id, incarnation;
    size_t n; /* nodes */
    host *hosts;
    size_t n_hosts;
    actor *actors;
    size_t n_actors;
    uint32_t *actor_of; /* [n]: index into actors, or NONE */
    member *m;
    uint32_t *by_name; /* nodes in the bytewise order of their names */
    uint32_t term, op; /* the operator known: its term and member (NONE: none yet) */
    uint32_t last_open;
    double t0, next_hb, next_open_at, linger_until;
    uint32_t dispute_at;    /* the interval open when disputes were last logged */
    unsigned dispute_lines; /* disputes logged in it (at most DISPUTE_LINES) */
    operator_ o;
    pg_market_book book;
    pg_market_settlement *s;
    double *metered, *inj_kw, *cleared, *paid, *vol;
    /* the record */
    cm_trace *tr;
    bool *recorded;    /* [T] */
    uint32_t done;     /* intervals recorded from the first */
    size_t last;       /* the last interval recorded + 1 */
    double *short_kwh; /* per node: unserved since the last rental round */
    assembly sa, ra;
    stored *store;           /* [T] settle messages kept (on the lattice) */
    pgi_msg_settle *pending; /* [T] settlements come before an earlier one (on the lattice) */
    /* what this process saw of the bids, for verifying results: two intervals' worth */
    pgi_msg_bid *vb[2];
    uint32_t *vb_t[2];
    uint32_t verified_t, verified_term;
    uint64_t dropped;
    /* the DR events (id, modification) told to the event hook, so each is told once */
    pg_dr_event *dr_told;
    size_t n_dr_told;
    /* the shared ledger (NULL: none) */
    cm_ledger *led;
    bool *peer;   /* [n] scratch: live members not hosted here */
    bool *synced; /* [n] members that said their copy is reconciled at the end */
    double ledger_until, next_synced;
    int rc;
    pg_error err;
} engine;

/* ---------------------------------------------------------------- logging and sending */

static void elog(const engine *e, pg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
elog(const engine *e, pg_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pgi_lattice_log(e->lo, level, fmt, ap);
    va_end(ap);
}

static const char *
name_of(const engine *e, uint32_t i)
{
    return i < e->n ? e->c->nodes[i].name : "(none)";
}

/* ---------------------------------------------------------------- events (the event hook) */

static bool
events_on(const engine *e)
{
    return e->lo && e->lo->event;
}

/* An event of kind about interval t (PG_COMMUNITY_NO_INTERVAL: none) and node i (NONE: the
 * community). */
static void
event_init(const engine *e, pg_community_event *ev, pg_community_event_kind kind, size_t t,
           uint32_t i)
{
    pg_community_event_init(ev, kind);
    ev->intervals = e->c->n;
    if (t != PG_COMMUNITY_NO_INTERVAL) {
        ev->interval = t;
        ev->time_h = (double)t * e->c->step_h;
    }
    ev->node = i < e->n ? e->c->nodes[i].name : NULL;
}

static void
event_member(const engine *e, uint32_t i, bool up)
{
    if (!events_on(e))
        return;
    pg_community_event ev;
    event_init(e, &ev, PG_COMMUNITY_EVENT_MEMBER, PG_COMMUNITY_NO_INTERVAL, i);
    ev.up = up;
    pgi_lattice_event(e->lo, &ev);
}

static void
event_operator(const engine *e)
{
    if (!events_on(e))
        return;
    pg_community_event ev;
    event_init(e, &ev, PG_COMMUNITY_EVENT_OPERATOR, PG_COMMUNITY_NO_INTERVAL, e->op);
    ev.term = e->term;
    pgi_lattice_event(e->lo, &ev);
}

/* A bid as the dashboard shows it: what it buys and sells at most, and its limit (a curve's
 * highest buying price, else its lowest selling price). */
static void
event_bid(const engine *e, const pgi_msg_bid *b)
{
    if (!events_on(e))
        return;
    pg_community_event ev;
    event_init(e, &ev, PG_COMMUNITY_EVENT_BID, b->interval, b->node);
    double buy = 0, sell = 0, pbuy = NAN, psell = NAN;
    for (size_t k = 0; k < b->n_points; k++) {
        const pg_market_point *pt = &b->curve[k];
        if (pt->qty > 0) {
            buy = fmax(buy, pt->qty);
            pbuy = isnan(pbuy) ? pt->price : fmax(pbuy, pt->price);
        } else if (pt->qty < 0) {
            sell = fmax(sell, -pt->qty);
            psell = isnan(psell) ? pt->price : fmin(psell, pt->price);
        }
    }
    ev.buy_kwh = buy;
    ev.sell_kwh = sell;
    ev.price = !isnan(pbuy) ? pbuy : psell;
    pgi_lattice_event(e->lo, &ev);
}

/* A DR event heard (on its subject or in an open), told once per id and modification. */
static void
event_dr(engine *e, const pgi_msg_dr *d)
{
    if (!events_on(e) || d->event.cancelled)
        return;
    for (size_t k = 0; k < e->n_dr_told; k++)
        if (strcmp(e->dr_told[k].id, d->event.id) == 0 &&
            e->dr_told[k].modification >= d->event.modification)
            return;
    /* bounded: a peer flooding events gets the first few told */
    size_t cap = e->c->n_events + 64;
    if (e->n_dr_told == cap)
        return;
    if (!e->dr_told && !(e->dr_told = calloc(cap, sizeof *e->dr_told)))
        return; /* the dashboard misses it; the run goes on */
    size_t k = 0;
    while (k < e->n_dr_told && strcmp(e->dr_told[k].id, d->event.id) != 0)
        k++;
    e->dr_told[k] = d->event;
    if (k == e->n_dr_told)
        e->n_dr_told++;
    const pg_dr_event *x = &d->event;
    pg_community_event ev;
    uint32_t target = d->n_targets == 1 ? d->targets[0] : NONE;
    event_init(e, &ev, PG_COMMUNITY_EVENT_DR, PG_COMMUNITY_NO_INTERVAL, target);
    ev.dr_start_h = x->start_h;
    ev.dr_end_h = x->start_h + x->duration_h;
    ev.dr_id = x->id;
    if (x->signal == PG_DR_LOAD_DISPATCH) {
        ev.dr_kw = 0;
        for (size_t j = 0; j < x->n_intervals && j < PG_DR_MAX_INTERVALS; j++)
            ev.dr_kw = fmax(ev.dr_kw, x->interval_value[j]);
    }
    pgi_lattice_event(e->lo, &ev);
}

static void
fail(engine *e, int rc, const pg_error *err)
{
    if (!e->rc) {
        e->rc = rc;
        if (err)
            e->err = *err;
    }
}

/* A message a decoder refused: counted and dropped, unless the decoder ran out of memory (the
 * run fails: the message may well have been valid). */
static void
reject(engine *e, int rc, const pg_error *err)
{
    if (rc == PG_ENOMEM)
        fail(e, rc, err);
    else
        e->dropped++;
}

/* Publishes (and frees) an encoded message. On the lattice a message that cannot be sent now is
 * logged and left to the protocol's retransmissions (the transport reconnects); only a message
 * that can never be sent (too long, out of memory) fails the run. */
static int
send_(engine *e, pg_bus *bus, const char *subject, const char *reply, uint8_t *data, size_t len,
      pg_error *err)
{
    pg_error e2 = {0};
    int rc = pg_bus_publish_reply(bus, subject, reply, data, len, &e2);
    free(data);
    if (rc && e->timed && rc != PG_ENOMEM && rc != PG_EINVAL) {
        elog(e, PG_LOG_DEBUG, "could not send on %s: %s", subject, e2.msg);
        return PG_OK;
    }
    if (rc && err)
        *err = e2;
    return rc;
}

/* The same, keeping the data (a copy is published). */
static int
send_copy(engine *e, pg_bus *bus, const char *subject, const uint8_t *data, size_t len,
          pg_error *err)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    memcpy(d, data, len);
    return send_(e, bus, subject, NULL, d, len, err);
}

static pg_bus *
op_bus(const engine *e)
{
    return e->hosts[0].bus;
}

/* ---------------------------------------------------------------- membership */

static uint32_t
first_live(const engine *e)
{
    for (size_t k = 0; k < e->n; k++)
        if (e->m[e->by_name[k]].live)
            return e->by_name[k];
    return NONE;
}

/* The highest term a message may name: one above the highest this process follows or a live
 * member follows (its heartbeats). An operator's term grows by one at each takeover, so a member
 * never sees a jump of more; a message naming a higher term is no operator's (a broken or
 * hostile peer: the lattice does not authenticate), and following it would depose the operator.
 * A member that missed takeovers catches up through the others' heartbeats. */
static uint32_t
term_limit(const engine *e, const member *except)
{
    uint32_t hi = e->term;
    for (size_t i = 0; i < e->n; i++)
        if (&e->m[i] != except && e->m[i].live && !e->m[i].hosted && e->m[i].term > hi)
            hi = e->m[i].term;
    return hi == UINT32_MAX ? hi : hi + 1;
}

/* The intervals a message may name: those recorded, the one open and the next, and those the
 * live members have recorded (their heartbeats). An open or a settlement of an interval further
 * on is no operator's: it would make the nodes plan the wrong interval or fill the record with
 * what did not happen. */
static size_t
interval_limit(const engine *e)
{
    size_t hi = e->last;
    if (e->last_open != NONE && (size_t)e->last_open + 1 > hi)
        hi = (size_t)e->last_open + 1;
    for (size_t i = 0; i < e->n; i++)
        if (e->m[i].live && !e->m[i].hosted && e->m[i].last > hi)
            hi = e->m[i].last;
    return hi;
}

/* A higher term wins; equal terms, the lower index. A term beyond term_limit is refused. */
static void
adopt(engine *e, uint32_t term, uint32_t op)
{
    if (op >= e->n || term == 0)
        return;
    if (term > term_limit(e, NULL)) {
        elog(e, PG_LOG_DEBUG,
             "a message names operator %s with term %u, above any followed: "
             "ignored",
             name_of(e, op), term);
        return;
    }
    if (!(term > e->term || (term == e->term && (e->op == NONE || op < e->op))))
        return;
    bool changed = op != e->op || term != e->term;
    e->term = term;
    e->op = op;
    if (changed) {
        elog(e, PG_LOG_INFO, "operator is now %s (term %u)", name_of(e, op), term);
        event_operator(e);
    }
    if (e->o.active && e->o.me != op) {
        e->o.active = false;
        e->o.ph = PH_IDLE;
        elog(e, PG_LOG_INFO, "%s gives up the operator role", name_of(e, e->o.me));
    }
}

/* Decodes a member message (announce, heartbeat, synced) of a member of the scenario into *mm;
 * false (counted as dropped) when it is malformed or names a member the scenario does not have. */
static bool
member_msg(engine *e, pgi_msg_type type, const void *data, size_t len, pgi_msg_member *mm)
{
    pg_error err = {0};
    if (pgi_msg_decode_member(type, data, len, mm, &err) || mm->node >= e->n ||
        strcmp(mm->name, e->c->nodes[mm->node].name) != 0) {
        e->dropped++;
        return false;
    }
    return true;
}

static void
on_member(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    engine *e = ctx;
    pgi_msg_member mm;
    pgi_msg_type type =
        strcmp(last_token(subject), "announce") == 0 ? PGI_MSG_ANNOUNCE : PGI_MSG_HEARTBEAT;
    if (e->rc || !member_msg(e, type, data, len, &mm))
        return;
    member *x = &e->m[mm.node];
    if (mm.run_id != e->run_id) {
        if (!x->warned)
            elog(e, PG_LOG_WARN,
                 "member %s plays another run (another scenario, variant, market or days): "
                 "ignored",
                 mm.name);
        x->warned = true;
        return;
    }
    if (x->hosted) {
        if (mm.incarnation != e->incarnation && !x->warned) {
            elog(e, PG_LOG_WARN, "member %s is hosted by another process too", mm.name);
            x->warned = true;
        }
        return;
    }
    /* an earlier incarnation's message (sent before the member restarted, still arriving, or
     * replayed) says nothing of the member now */
    if (x->seen && mm.incarnation < x->incarnation)
        return;
    double now = e->timed ? pgi_now() : 0;
    if (x->seen && mm.incarnation != x->incarnation)
        elog(e, PG_LOG_INFO, "member %s restarted", mm.name);
    if (!x->live) {
        elog(e, PG_LOG_INFO, x->seen ? "member %s rejoined" : "member %s joined", mm.name);
        event_member(e, mm.node, true);
    }
    /* a member that comes (back) gets what the ledger copies here hold, and gives what it has */
    if (e->led && (!x->live || (x->seen && mm.incarnation != x->incarnation)))
        pgi_cl_peer_up(e->led, mm.node);
    x->live = x->seen = true;
    x->last_seen = now;
    x->incarnation = mm.incarnation;
    if (mm.done != x->done)
        x->done_since = now;
    x->done = mm.done;
    x->last = mm.last;
    /* its term counts for the others' limit only as far as theirs allow it */
    uint32_t lim = term_limit(e, x);
    x->term = mm.term < lim ? mm.term : lim;
    adopt(e, mm.term, mm.operator_);
}

static int
send_member(engine *e, const actor *a, pgi_msg_type type, pg_error *err)
{
    pgi_msg_member mm = {.node = a->index,
                         .incarnation = e->incarnation,
                         .run_id = e->run_id,
                         .term = e->term,
                         .operator_ = e->op,
                         .done = e->done,
                         .last = (uint32_t)e->last};
    snprintf(mm.name, sizeof mm.name, "%s", a->cn->name);
    uint8_t *buf;
    size_t len;
    int rc = pgi_msg_encode_member(type, &mm, &buf, &len, err);
    if (rc)
        return rc;
    return send_(e, a->h->bus, type == PGI_MSG_ANNOUNCE ? e->sj.announce : e->sj.heartbeat, NULL,
                 buf, len, err);
}

/* ---------------------------------------------------------------- the node side */

/* Drops the events that are over at time_h. */
static void
expire_events(actor *a, double time_h)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n_events; i++)
        if (a->events[i].start_h + a->events[i].duration_h > time_h + 1e-9)
            a->events[k++] = a->events[i];
    a->n_events = k;
}

static bool
targets_ok(const engine *e, const pgi_msg_dr *d)
{
    if (d->n_targets != PGI_MSG_ALL)
        for (uint32_t k = 0; k < d->n_targets; k++)
            if (d->targets[k] >= e->n)
                return false;
    return true;
}

/* Merges a DR event into the lists of the hosted nodes it targets: a higher modification replaces
 * the event, an older one is stale, a cancelled one stops at once. The same event twice changes
 * nothing. */
static int
merge_event(host *h, const pgi_msg_dr *d, pg_error *err)
{
    for (size_t i = 0; i < h->n; i++) {
        actor *a = h->a[i];
        bool target = d->n_targets == PGI_MSG_ALL;
        for (uint32_t k = 0; !target && k < d->n_targets; k++)
            target = d->targets[k] == a->index;
        if (!target)
            continue;
        int rc = pgi_cl_dr_received(h->e->led, a->index, d, err);
        if (rc)
            return rc;
        size_t k = 0;
        while (k < a->n_events && strcmp(a->events[k].id, d->event.id) != 0)
            k++;
        if (k < a->n_events) {
            if (d->event.modification > a->events[k].modification)
                a->events[k] = d->event;
        } else {
            if (a->n_events == a->cap_events) {
                size_t cap = a->cap_events ? 2 * a->cap_events : 4;
                pg_dr_event *ev = realloc(a->events, cap * sizeof *ev);
                if (!ev)
                    return pg_error_set(err, PG_ENOMEM, "out of memory");
                a->events = ev;
                a->cap_events = cap;
            }
            a->events[a->n_events++] = d->event;
        }
        size_t j = 0;
        for (size_t q = 0; q < a->n_events; q++)
            if (!a->events[q].cancelled)
                a->events[j++] = a->events[q];
        a->n_events = j;
    }
    return PG_OK;
}

static int
send_bid(engine *e, actor *a, pg_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc = pgi_msg_encode_bid(&a->bid, &buf, &len, err);
    if (rc)
        return rc;
    a->next_retry = e->timed ? pgi_now() + e->retry_s : 0;
    return send_(e, a->h->bus, e->sj.bid, a->ack, buf, len, err);
}

/* A node plans interval o->interval and bids (an empty bid when the market is off or its curve
 * is empty: it takes part). */
static int
plan_and_bid(engine *e, actor *a, const pgi_msg_open *o, pg_error *err)
{
    const pg_community *c = e->c;
    size_t t = o->interval, horizon = o->horizon;
    if (horizon > c->n - t)
        horizon = c->n - t;
    expire_events(a, o->time_h);
    for (size_t k = 0; k < a->n_inputs; k++) {
        a->forecast[k] = a->cn->inputs[e->spec->variant][k] + t;
        a->actual[k] = a->cn->inputs[e->spec->variant][k][t];
    }
    a->env = (pg_node_env){
        .t = t,
        .hours = o->hours,
        .time_h = o->time_h,
        .hour_of_day = o->hour_of_day,
        .horizon = horizon,
        .retail = a->h->open.retail,
        .feed_in = a->h->open.feed_in,
        .grid_connected = c->connected,
        .forecast = a->forecast,
        .actual = a->actual,
        .n_events = a->n_events,
        .events = a->events,
    };
    a->planned = a->acked = a->resulted = a->operated = false;
    a->bid_t = (uint32_t)t;
    int rc = pg_node_bid(a->node, &a->env, &a->plan, err);
    if (rc)
        return rc;
    if (a->plan.no_bid[0]) {
        /* the controller could not decide (a sandboxed strategy that failed): the node bids
         * nothing this interval and keeps running; the run counts it and says why */
        pg_community_metrics *m = &e->tr->run.node[a->index];
        if (!m->no_bids)
            elog(e, PG_LOG_WARN, "%s gave no bid in interval %zu: %s (later ones are counted)",
                 name_of(e, a->index), t, a->plan.no_bid);
        m->no_bids++;
        snprintf(m->no_bid_why, sizeof m->no_bid_why, "%s", a->plan.no_bid);
    }
    a->planned = true;
    memset(&a->bid, 0, sizeof a->bid);
    a->bid.interval = (uint32_t)t;
    a->bid.node = a->index;
    if (o->market && a->plan.n_points > 0) {
        a->bid.n_points = (uint8_t)a->plan.n_points;
        memcpy(a->bid.curve, a->plan.curve, a->plan.n_points * sizeof *a->bid.curve);
    }
    a->digest = pgi_msg_bid_digest(&a->bid);
    /* on the ledger first: the operator's gate names the op */
    if (e->led && (rc = pgi_cl_bid(e->led, &a->bid, err)))
        return rc;
    return send_bid(e, a, err);
}

static void
on_open(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    host *h = ctx;
    engine *e = h->e;
    pg_error err = {0};
    pgi_msg_open o;
    if (e->rc)
        return;
    int drc = pgi_msg_decode_open(data, len, &o, &err);
    if (drc) {
        reject(e, drc, &err);
        return;
    }
    bool ok = o.interval < e->c->n && o.operator_ < e->n && o.interval <= interval_limit(e);
    for (size_t k = 0; ok && k < o.n_events; k++)
        ok = targets_ok(e, &o.events[k]);
    if (!ok) {
        pgi_msg_open_free(&o);
        e->dropped++;
        return;
    }
    adopt(e, o.term, o.operator_);
    if (o.term == e->term && o.operator_ == e->op &&
        (e->last_open == NONE || o.interval > e->last_open)) {
        e->last_open = o.interval;
        if (e->timed)
            e->next_open_at = pgi_now() + e->interval_s;
        if (events_on(e)) {
            pg_community_event ev;
            event_init(e, &ev, PG_COMMUNITY_EVENT_OPEN, o.interval, NONE);
            pgi_lattice_event(e->lo, &ev);
        }
    }
    /* only the operator known may open (a stale or lower operator's open is ignored) */
    if (o.term != e->term || o.operator_ != e->op) {
        pgi_msg_open_free(&o);
        return;
    }
    int rc = PG_OK;
    bool fresh = false;
    for (size_t i = 0; i < h->n; i++)
        fresh |= h->a[i]->bid_t == NONE || o.interval > h->a[i]->bid_t;
    if (fresh) {
        pgi_msg_open keep = o;
        keep.n_events = 0;
        keep.events = NULL;
        h->open = keep;
        for (size_t k = 0; !rc && k < o.n_events; k++) {
            event_dr(e, &o.events[k]);
            rc = merge_event(h, &o.events[k], &err);
        }
    }
    for (size_t i = 0; !rc && i < h->n; i++) {
        actor *a = h->a[i];
        if (a->bid_t == NONE || o.interval > a->bid_t) {
            if ((rc = plan_and_bid(e, a, &o, &err)))
                fail(e, rc, &err);
        } else if (o.interval == a->bid_t && a->planned && (!a->acked || a->ack_term < o.term)) {
            /* the operator asks again (a retransmission, or a new operator re-opens it) */
            if ((rc = send_bid(e, a, &err)))
                fail(e, rc, &err);
        }
    }
    if (rc)
        fail(e, rc, &err);
    pgi_msg_open_free(&o);
}

static void
on_ack(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    actor *a = ctx;
    engine *e = a->h->e;
    pg_error err = {0};
    pgi_msg_ack k;
    if (e->rc)
        return;
    if (pgi_msg_decode_ack(data, len, &k, &err) || k.node != a->index) {
        e->dropped++;
        return;
    }
    if (k.interval != a->bid_t || !a->planned)
        return; /* an answer to an earlier bid */
    if (k.digest != a->digest) {
        e->dropped++;
        return;
    }
    if (!a->acked || k.term > a->ack_term) {
        a->acked = true;
        a->ack_term = k.term;
    }
}

static int
send_telemetry(engine *e, actor *a, pg_error *err)
{
    char subj[SUBJ];
    uint8_t *buf;
    size_t len;
    int rc;
    if ((rc = node_subject(subj, &e->sj, "telemetry", a->cn->name, err)) ||
        (rc = pgi_msg_encode_telemetry(&a->tel, &buf, &len, err)))
        return rc;
    return send_(e, a->h->bus, subj, NULL, buf, len, err);
}

/* A node's award: it runs its devices (once) and reports its meter. */
static int
operate(engine *e, actor *a, const pgi_msg_award *aw, uint32_t t, pg_error *err)
{
    if (a->operated)
        return send_telemetry(e, a, err); /* the result again: the same reading again */
    a->env.events = a->events;            /* an event message may have come since the bid */
    a->env.n_events = a->n_events;
    a->tel = (pgi_msg_telemetry){.interval = t, .node = a->index};
    int rc = pg_node_operate(a->node, &a->env, aw->cleared_kwh, aw->price, &a->tel.step, err);
    if (rc)
        return rc;
    a->operated = true;
    if (e->led && (rc = pgi_cl_telemetry(e->led, &a->tel, err)))
        return rc;
    if (events_on(e)) {
        const pg_node_step *sp = &a->tel.step;
        pg_community_event ev;
        event_init(e, &ev, PG_COMMUNITY_EVENT_TELEMETRY, t, a->index);
        ev.load_kwh = sp->load_kwh;
        ev.pv_kwh = sp->pv_kwh + sp->pv_spilled_kwh; /* generated, as the report counts it */
        ev.soc_kwh = a->battery ? sp->soc_kwh : NAN;
        ev.import_kwh = sp->import_kwh;
        ev.export_kwh = sp->export_kwh;
        pgi_lattice_event(e->lo, &ev);
    }
    if (aw->cleared_kwh > 0)
        elog(e, PG_LOG_INFO, "%s: interval %u: bought %.4g kWh from peers at %.4g $/kWh",
             a->cn->name, t, aw->cleared_kwh, aw->price);
    else if (aw->cleared_kwh < 0)
        elog(e, PG_LOG_INFO, "%s: interval %u: sold %.4g kWh to peers at %.4g $/kWh", a->cn->name,
             t, -aw->cleared_kwh, aw->price);
    else
        elog(e, PG_LOG_INFO, "%s: interval %u: no peer trade", a->cn->name, t);
    return send_telemetry(e, a, err);
}

static void
on_dr(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    host *h = ctx;
    engine *e = h->e;
    pg_error err = {0};
    pgi_msg_dr d;
    if (e->rc)
        return;
    int drc = pgi_msg_decode_dr(data, len, &d, &err);
    if (drc) {
        reject(e, drc, &err);
        return;
    }
    if (!targets_ok(e, &d))
        e->dropped++;
    else if ((event_dr(e, &d), merge_event(h, &d, &err)))
        fail(e, PG_ENOMEM, &err);
    free(d.targets);
}

static void
on_share(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    host *h = ctx;
    engine *e = h->e;
    pg_error err = {0};
    pgi_msg_type type;
    pgi_msg_pack p;
    if (e->rc)
        return;
    if (pgi_msg_type_of(data, len, &type, &err) ||
        (type != PGI_MSG_DOCK && type != PGI_MSG_UNDOCK) ||
        pgi_msg_decode_pack(type, data, len, &p, &err) || p.node >= e->n ||
        strcmp(last_token(subject), e->c->nodes[p.node].name) != 0) {
        e->dropped++;
        return;
    }
    if (e->actor_of[p.node] == NONE || e->actors[e->actor_of[p.node]].h != h)
        return;
    actor *a = &e->actors[e->actor_of[p.node]];
    int rc;
    if (type == PGI_MSG_DOCK) {
        if ((rc = pg_node_dock(a->node, p.pack, p.capacity_kwh, p.power_kw, p.soc_kwh, &err)))
            fail(e, rc, &err);
        return;
    }
    double soc = 0;
    if ((rc = pg_node_undock(a->node, p.pack, &soc, &err))) {
        fail(e, rc, &err);
        return;
    }
    pgi_msg_pack rep = {.node = p.node, .pack = p.pack, .soc_kwh = soc};
    uint8_t *buf;
    size_t blen;
    if ((rc = pgi_msg_encode_pack(PGI_MSG_PACK, &rep, &buf, &blen, &err)) ||
        (rc = send_(e, h->bus, e->sj.share_report, NULL, buf, blen, &err)))
        fail(e, rc, &err);
}

/* ---------------------------------------------------------------- clearing */

/* Clears the book of interval t and the awards (clear.c: the one clearing the operator, the
 * verification and the ledger's checker share). */
static int
clear_book(engine *e, size_t t, pg_market_book *book, pg_market_result *res, pg_error *err)
{
    return pgi_community_clear(e->c, e->spec->mech, t, book, res, e->cleared, e->paid, e->vol, err);
}

static double
award_price(const engine *e, size_t i)
{
    return pgi_community_award_price(e->paid, e->vol, i);
}

/* Names a node in an error from its code. */
static int
node_error(const pg_community *c, size_t i, int rc, pg_error *err)
{
    if (err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "node '%.63s': %.690s", c->nodes[i].name, msg);
    }
    return rc;
}

/* Fills book from the bids (nodes in order; empty bids add nothing). */
static int
fill_book(engine *e, pg_market_book *book, const pgi_msg_bid *const *bids, pg_error *err)
{
    return pgi_community_fill_book(e->c, book, bids, err);
}

/* ---------------------------------------------------------------- verification */

static void
assembly_reset(assembly *a, uint32_t t, uint32_t term, uint32_t op, uint32_t total)
{
    for (size_t k = 0; k < a->n_chunk; k++)
        free(a->chunk[k]);
    a->n_chunk = 0;
    a->t = t;
    a->term = term;
    a->op = op;
    a->total = total;
    a->have = 0;
    if (a->got)
        memset(a->got, 0, (total ? total : 1) * sizeof *a->got);
}

/* Recomputes the clearing of a complete result from the bids this process saw. */
static void
verify(engine *e)
{
    assembly *ra = &e->ra;
    uint32_t t = ra->t, slot = t & 1;
    pg_error err = {0};
    const pgi_msg_bid **bids = calloc(e->n, sizeof *bids);
    if (!bids) {
        e->tr->unverifiable++;
        return;
    }
    for (size_t k = 0; k < ra->total; k++) {
        const pgi_msg_award *aw = &ra->award[k];
        if (e->vb_t[slot][aw->node] != t ||
            pgi_msg_bid_digest(&e->vb[slot][aw->node]) != aw->digest) {
            elog(e, PG_LOG_DEBUG,
                 "interval %u: cannot check the result: the bid of %s was not seen", t,
                 name_of(e, aw->node));
            e->tr->unverifiable++;
            free(bids);
            return;
        }
        bids[aw->node] = &e->vb[slot][aw->node];
    }
    pg_market_book book;
    pg_market_book_init(&book);
    pg_market_result res;
    memset(&res, 0, sizeof res);
    int rc = fill_book(e, &book, bids, &err);
    if (!rc)
        rc = clear_book(e, t, &book, &res, &err);
    if (rc) {
        elog(e, PG_LOG_WARN, "interval %u: cannot recompute the result: %s", t, err.msg);
        e->tr->unverifiable++;
    } else {
        e->tr->verified++;
        elog(e, PG_LOG_DEBUG, "interval %u: result of %s (term %u) recomputed from %u bids", t,
             name_of(e, ra->op), ra->term, ra->total);
        for (size_t k = 0; k < ra->total; k++) {
            const pgi_msg_award *aw = &ra->award[k];
            double q = e->cleared[aw->node], p = award_price(e, aw->node);
            if (q == aw->cleared_kwh && p == aw->price)
                continue;
            e->tr->mismatches++;
            elog(e, PG_LOG_ERROR,
                 "interval %u: the result of %s (term %u) gives %s %.17g kWh at %.17g $/kWh; "
                 "recomputed from the bids: %.17g kWh at %.17g $/kWh",
                 t, name_of(e, ra->op), ra->term, name_of(e, aw->node), aw->cleared_kwh, aw->price,
                 q, p);
            pgi_msg_dispute d = {.term = ra->term,
                                 .operator_ = ra->op,
                                 .interval = t,
                                 .reporter = e->actors[0].index,
                                 .node = aw->node,
                                 .published_kwh = aw->cleared_kwh,
                                 .computed_kwh = q};
            uint8_t *buf;
            size_t len;
            if (!pgi_msg_encode_dispute(&d, &buf, &len, &err))
                (void)send_(e, op_bus(e), e->sj.dispute, NULL, buf, len, &err);
            break;
        }
    }
    pg_market_result_free(&res);
    pg_market_book_free(&book);
    free(bids);
}

/* Every bid this process hears, kept (the first per node and interval) for verification; and the
 * operator's book. */
static void
on_bid(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    engine *e = ctx;
    operator_ *op = &e->o;
    pg_error err = {0};
    pgi_msg_bid b;
    if (e->rc)
        return;
    if (pgi_msg_decode_bid(data, len, &b, &err) || b.node >= e->n || b.interval >= e->c->n) {
        e->dropped++;
        return;
    }
    uint32_t slot = b.interval & 1;
    if (e->vb_t[slot][b.node] != b.interval) {
        e->vb[slot][b.node] = b;
        e->vb_t[slot][b.node] = b.interval;
        event_bid(e, &b);
    }
    if (!op->active || op->ph == PH_IDLE || b.interval != op->interval)
        return;
    uint64_t dg = pgi_msg_bid_digest(&b);
    if (op->has_bid[b.node]) {
        if (dg != op->digest[b.node]) {
            e->dropped++; /* another bid for the same interval */
            return;
        }
    } else {
        if (op->ph != PH_GATE)
            return; /* too late: the gate is closed */
        op->bids[b.node] = b;
        op->digest[b.node] = dg;
        op->inc[b.node] = e->m[b.node].incarnation;
        op->has_bid[b.node] = true;
    }
    if (reply) {
        pgi_msg_ack k = {.term = e->term,
                         .operator_ = op->me,
                         .interval = b.interval,
                         .node = b.node,
                         .digest = dg};
        uint8_t *buf;
        size_t blen;
        int rc;
        if ((rc = pgi_msg_encode_ack(&k, &buf, &blen, &err)) ||
            (rc = send_(e, op_bus(e), reply, NULL, buf, blen, &err)))
            fail(e, rc, &err);
    }
}

static void
on_result(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    host *h = ctx;
    engine *e = h->e;
    pg_error err = {0};
    pgi_msg_result r;
    if (e->rc)
        return;
    int drc = pgi_msg_decode_result(data, len, &r, &err);
    if (drc) {
        reject(e, drc, &err);
        return;
    }
    bool ok = r.interval < e->c->n && r.operator_ < e->n && r.n_total <= e->n;
    for (size_t k = 0; ok && k < r.count; k++)
        ok = r.awards[k].node < e->n;
    if (!ok) {
        free(r.awards);
        e->dropped++;
        return;
    }
    bool first_host = h == &e->hosts[0];
    adopt(e, r.term, r.operator_);
    if (r.term != e->term || r.operator_ != e->op) {
        free(r.awards);
        return;
    }
    int rc = PG_OK;
    for (size_t k = 0; !rc && k < r.count; k++) {
        const pgi_msg_award *aw = &r.awards[k];
        uint32_t ai = e->actor_of[aw->node];
        if (ai == NONE || e->actors[ai].h != h)
            continue;
        actor *a = &e->actors[ai];
        if (a->bid_t != r.interval || !a->planned)
            continue;
        a->resulted = true;
        rc = operate(e, a, aw, r.interval, &err);
    }
    if (rc)
        fail(e, rc, &err);
    /* the whole result, once per process, checked when the operator is elsewhere */
    if (first_host && !rc && !e->m[r.operator_].hosted &&
        !(e->verified_t == r.interval && e->verified_term == r.term)) {
        assembly *ra = &e->ra;
        if (ra->t != r.interval || ra->term != r.term || ra->op != r.operator_ ||
            ra->total != r.n_total)
            assembly_reset(ra, r.interval, r.term, r.operator_, r.n_total);
        for (size_t k = 0; k < r.count; k++)
            if (!ra->got[r.first + k]) {
                ra->got[r.first + k] = true;
                ra->award[r.first + k] = r.awards[k];
                ra->have++;
            }
        if (ra->have == ra->total) {
            e->verified_t = r.interval;
            e->verified_term = r.term;
            verify(e);
        }
    }
    free(r.awards);
}

static void
on_dispute(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    engine *e = ctx;
    pg_error err = {0};
    pgi_msg_dispute d;
    if (e->rc)
        return;
    if (pgi_msg_decode_dispute(data, len, &d, &err) || d.reporter >= e->n || d.operator_ >= e->n ||
        d.node >= e->n) {
        e->dropped++;
        return;
    }
    e->tr->disputes++;
    /* a flood of disputes (any peer can publish them) is counted, not logged line by line */
    if (e->dispute_at != e->last_open) {
        e->dispute_at = e->last_open;
        e->dispute_lines = 0;
    }
    if (e->dispute_lines == DISPUTE_LINES) {
        e->dispute_lines++;
        elog(e, PG_LOG_ERROR, "more disputes in this interval are counted, not logged");
    }
    if (e->dispute_lines >= DISPUTE_LINES)
        return;
    e->dispute_lines++;
    elog(e, PG_LOG_ERROR, "%s disputes the result of interval %u (operator %s, term %u): %s",
         name_of(e, d.reporter), d.interval, name_of(e, d.operator_), d.term, name_of(e, d.node));
}

/* ---------------------------------------------------------------- the record */

void
pgi_community_add_step(pg_community_metrics *m, const pg_node_step *sp,
                       const pg_market_settlement *s, bool connected, double hours)
{
    m->load_kwh += sp->load_kwh;
    m->pv_kwh += sp->pv_kwh + sp->pv_spilled_kwh;
    m->pv_spilled_kwh += sp->pv_spilled_kwh + (connected ? 0 : s->grid_export);
    m->import_kwh += sp->import_kwh;
    m->export_kwh += sp->export_kwh;
    m->peer_bought_kwh += s->bought;
    m->peer_sold_kwh += s->sold;
    m->peer_paid += s->paid;
    m->peer_received += s->received;
    m->battery_in_kwh += sp->battery_in_kwh;
    m->battery_out_kwh += sp->battery_out_kwh;
    m->unserved_kwh += sp->unserved_kwh + (connected ? 0 : s->grid_import);
    m->ev_short_kwh += sp->ev_short_kwh;
    m->comfort_dev_ch += sp->comfort_dev_c * hours;
    if (connected) {
        m->grid_import_kwh += s->grid_import;
        m->grid_export_kwh += s->grid_export;
        m->grid_paid += s->grid_paid;
        m->grid_received += s->grid_received;
        m->bill += s->bill;
        if (s->grid_import / hours > m->peak_import_kw)
            m->peak_import_kw = s->grid_import / hours;
    } else {
        m->bill += s->paid - s->received;
    }
}

/* Adds a settlement (hdr, records x[0..count) in node order) to the run's metrics. */
static void
apply(engine *e, const pgi_msg_settle *hdr, const pgi_msg_settle_node *x, size_t count)
{
    const pg_community *c = e->c;
    cm_trace *tr = e->tr;
    pg_community_run *run = &tr->run;
    size_t t = hdr->interval;
    double hours = c->step_h;
    run->price[t] = hdr->price;
    run->volume_kwh[t] = hdr->volume_kwh;
    for (size_t k = 0; k < count; k++)
        run->operator_surplus += x[k].s.paid - x[k].s.received;
    double gi = 0;
    for (size_t k = 0; k < count; k++) {
        const pg_node_step *sp = &x[k].step;
        const pg_market_settlement *s = &x[k].s;
        size_t i = x[k].node;
        pgi_community_add_step(&run->node[i], sp, s, c->connected, hours);
        tr->net[i * tr->n + t] = sp->import_kwh - sp->export_kwh;
        run->load_kwh[t] += sp->load_kwh;
        run->pv_kwh[t] += sp->pv_kwh + sp->pv_spilled_kwh;
        run->grid_import_kwh[t] += c->connected ? s->grid_import : 0;
        run->grid_export_kwh[t] += c->connected ? s->grid_export : 0;
        run->unserved_kwh[t] += sp->unserved_kwh + (c->connected ? 0 : s->grid_import);
        e->short_kwh[i] += sp->unserved_kwh + (c->connected ? 0 : s->grid_import);
        gi += c->connected ? s->grid_import : 0;
    }
    if (gi / hours > run->total.peak_import_kw)
        run->total.peak_import_kw = gi / hours;
    if (events_on(e)) {
        pg_community_event ev;
        event_init(e, &ev, PG_COMMUNITY_EVENT_CLEARED, t, NONE);
        ev.price = hdr->price;
        ev.volume_kwh = hdr->volume_kwh;
        pgi_lattice_event(e->lo, &ev);
        for (size_t k = 0; k < count; k++) {
            event_init(e, &ev, PG_COMMUNITY_EVENT_SETTLED, t, x[k].node);
            ev.buy_kwh = x[k].s.bought;
            ev.sell_kwh = x[k].s.sold;
            ev.import_kwh = x[k].step.import_kwh;
            ev.export_kwh = x[k].step.export_kwh;
            ev.amount = x[k].s.paid - x[k].s.received;
            ev.price = hdr->price;
            pgi_lattice_event(e->lo, &ev);
        }
    }
    if (hdr->ac == 2) {
        run->ac_failed++;
    } else if (hdr->ac == 1) {
        if (!(run->vm_min <= hdr->vm_min))
            run->vm_min = hdr->vm_min;
        if (!(run->vm_max >= hdr->vm_max))
            run->vm_max = hdr->vm_max;
        if (!(run->loading_max >= hdr->loading_max))
            run->loading_max = hdr->loading_max;
    }
}

/* Records a complete settlement: applied at once when it is the next interval, otherwise kept
 * until the ones before it have come (a process that missed some gets them again later), so the
 * metrics add up in interval order whatever the order of arrival: the same sums, to the last
 * bit, as the in-process run. */
static int
record(engine *e, const pgi_msg_settle *hdr, const pgi_msg_settle_node *x, size_t count,
       pg_error *err)
{
    const pg_community *c = e->c;
    size_t t = hdr->interval;
    if (e->recorded[t])
        return PG_OK;
    if (t != e->done) {
        if (!e->pending)
            return pg_error_set(err, PG_ESTATE, "interval %zu settled before interval %u", t,
                                e->done);
        pgi_msg_settle *p = &e->pending[t];
        *p = *hdr;
        p->count = (uint32_t)count;
        p->nodes = malloc((count ? count : 1) * sizeof *p->nodes);
        if (!p->nodes)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        memcpy(p->nodes, x, count * sizeof *x);
    }
    e->recorded[t] = true;
    e->tr->settled++;
    if (t + 1 > e->last)
        e->last = t + 1;
    if (t != e->done)
        return PG_OK;
    apply(e, hdr, x, count);
    e->done++;
    for (; e->done < c->n && e->recorded[e->done]; e->done++) {
        pgi_msg_settle *p = &e->pending[e->done];
        apply(e, p, p->nodes, p->count);
        free(p->nodes);
        p->nodes = NULL;
    }
    return PG_OK;
}

/* At the end: the settlements still kept (an earlier one never came) go in, in interval order. */
static void
apply_pending(engine *e)
{
    for (size_t t = e->done; e->pending && t < e->c->n; t++)
        if (e->pending[t].nodes) {
            apply(e, &e->pending[t], e->pending[t].nodes, e->pending[t].count);
            free(e->pending[t].nodes);
            e->pending[t].nodes = NULL;
        }
}

static void
on_settle(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    engine *e = ctx;
    pg_error err = {0};
    pgi_msg_settle s;
    if (e->rc)
        return;
    int drc = pgi_msg_decode_settle(data, len, &s, &err);
    if (drc) {
        reject(e, drc, &err);
        return;
    }
    bool ok = s.interval < e->c->n && s.operator_ < e->n && s.n_total <= e->n &&
              s.interval < interval_limit(e);
    for (size_t k = 0; ok && k < s.count; k++)
        ok = s.nodes[k].node < e->n;
    if (!ok) {
        free(s.nodes);
        e->dropped++;
        return;
    }
    adopt(e, s.term, s.operator_);
    /* the operator here records its own settlements as it makes them: one naming it in its
     * term is not its own (a forgery); a term above the one followed was refused */
    bool mine = e->o.active && s.operator_ == e->o.me && s.term == e->term;
    if (e->recorded[s.interval] || s.term != e->term || s.operator_ != e->op || mine) {
        if (!e->recorded[s.interval] && (mine || s.term > e->term))
            e->dropped++;
        free(s.nodes);
        return;
    }
    assembly *sa = &e->sa;
    if (sa->t != s.interval || sa->term != s.term || sa->op != s.operator_ ||
        sa->total != s.n_total)
        assembly_reset(sa, s.interval, s.term, s.operator_, s.n_total);
    bool any = false;
    for (size_t k = 0; k < s.count; k++)
        if (!sa->got[s.first + k]) {
            sa->got[s.first + k] = true;
            sa->settle[s.first + k] = s.nodes[k];
            sa->have++;
            any = true;
        }
    free(s.nodes);
    s.nodes = NULL;
    if (any && e->store) {
        /* kept to catch up members that missed it */
        uint8_t *copy = malloc(len);
        uint8_t **ch = realloc(sa->chunk, (sa->n_chunk + 1) * sizeof *ch);
        if (ch)
            sa->chunk = ch;
        size_t *cl = realloc(sa->chunk_len, (sa->n_chunk + 1) * sizeof *cl);
        if (cl)
            sa->chunk_len = cl;
        if (!copy || !ch || !cl) {
            free(copy);
            pg_error_set(&err, PG_ENOMEM, "out of memory");
            fail(e, PG_ENOMEM, &err);
            return;
        }
        memcpy(copy, data, len);
        sa->chunk[sa->n_chunk] = copy;
        sa->chunk_len[sa->n_chunk++] = len;
    }
    if (sa->have < sa->total)
        return;
    sa->hdr = s;
    int rc = record(e, &sa->hdr, sa->settle, sa->total, &err);
    if (rc) {
        fail(e, rc, &err);
        return;
    }
    if (e->store) {
        stored *st = &e->store[s.interval];
        st->chunk = sa->chunk;
        st->len = sa->chunk_len;
        st->n = sa->n_chunk;
        sa->chunk = NULL;
        sa->chunk_len = NULL;
        sa->n_chunk = 0;
    }
    sa->t = NONE;
}

/* ---------------------------------------------------------------- the operator */

static void
on_telemetry(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    engine *e = ctx;
    operator_ *op = &e->o;
    pg_error err = {0};
    pgi_msg_telemetry m;
    if (e->rc)
        return;
    if (pgi_msg_decode_telemetry(data, len, &m, &err) || m.node >= e->n ||
        strcmp(last_token(subject), e->c->nodes[m.node].name) != 0) {
        e->dropped++;
        return;
    }
    if (!op->active || op->ph != PH_RESULT || m.interval != op->interval)
        return; /* not asked for now (a repeated reading, or another operator's) */
    if (!op->has_bid[m.node] || op->has_tel[m.node]) {
        if (!op->has_bid[m.node])
            e->dropped++;
        return;
    }
    op->tel[m.node] = m.step;
    op->has_tel[m.node] = true;
}

static void
on_pack_report(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    engine *e = ctx;
    operator_ *op = &e->o;
    pg_error err = {0};
    pgi_msg_pack p;
    if (e->rc)
        return;
    if (pgi_msg_decode_pack(PGI_MSG_PACK, data, len, &p, &err) || p.pack >= e->c->n_packs) {
        e->dropped++;
        return;
    }
    if (!op->active)
        return;
    op->pack_soc[p.pack] = p.soc_kwh;
    op->pack_reported[p.pack] = true;
}

/* What an await waits for. */
typedef bool (*cond_fn)(engine *e, void *ud);

static int housekeeping(engine *e, pg_error *err);

/* Polls every bus and keeps house until cond holds. In process (no clock): one flush, then cond
 * holds or AWAIT_UNMET. PG_ECANCELED when the stop flag is set. */
static int
await_(engine *e, cond_fn cond, void *ud, pg_error *err)
{
    for (;;) {
        int rc;
        size_t delivered = 0;
        for (size_t k = 0; k < e->n_hosts; k++) {
            size_t d = 0;
            double wait = 0;
            if (!e->timed)
                wait = FLUSH_TIMEOUT_S;
            else if (e->n_hosts == 1)
                wait = 0.01;
            if ((rc = pg_bus_poll(e->hosts[k].bus, wait, &d, err)))
                return rc;
            delivered += d;
        }
        if (e->rc) {
            if (err)
                *err = e->err;
            return e->rc;
        }
        if (e->lo && e->lo->stop && *e->lo->stop)
            return pg_error_set(err, PG_ECANCELED, "stopped");
        if (!e->timed)
            return cond(e, ud) ? PG_OK : AWAIT_UNMET;
        if ((rc = housekeeping(e, err)))
            return rc;
        if (cond(e, ud))
            return PG_OK;
        if (e->n_hosts > 1 && delivered == 0) {
            /* nothing came on any connection: wait a little on the first */
            if ((rc = pg_bus_poll(e->hosts[0].bus, 0.005, NULL, err)))
                return rc;
        }
    }
}

static bool
still_operator(const engine *e)
{
    return e->o.active;
}

static bool
all_live(engine *e, void *ud)
{
    (void)ud;
    if (!still_operator(e) || e->op != NONE)
        return true;
    if (e->timed && pgi_now() - e->t0 >= e->form_s)
        return true;
    for (size_t i = 0; i < e->n; i++)
        if (!e->m[i].live)
            return false;
    return true;
}

/* A member has recorded the interval the operator is playing, or a later one: this operator came
 * late (a restart) and must catch up instead. */
static bool
behind(const engine *e)
{
    for (size_t i = 0; e->timed && i < e->n; i++)
        if (e->m[i].live && !e->m[i].hosted && e->m[i].last > e->o.interval)
            return true;
    return false;
}

static bool
gate_closed(engine *e, void *ud)
{
    (void)ud;
    if (!still_operator(e) || behind(e))
        return true;
    if (e->lo && e->lo->wall_clock && pgi_now() >= e->o.deadline)
        return true;
    for (size_t i = 0; i < e->n; i++)
        if (e->m[i].live && !e->o.has_bid[i])
            return false;
    return true;
}

/* A participant that is gone (dropped, or restarted since it bid) cannot report. */
static bool
gone(const engine *e, size_t i)
{
    return !e->m[i].live || e->m[i].incarnation != e->o.inc[i];
}

static bool
readings_in(engine *e, void *ud)
{
    (void)ud;
    if (!still_operator(e) || behind(e))
        return true;
    for (size_t i = 0; i < e->n; i++)
        if (e->o.has_bid[i] && !e->o.has_tel[i] && !(e->timed && gone(e, i)))
            return false;
    return true;
}

static bool
packs_in(engine *e, void *ud)
{
    const bool *want = ud;
    for (size_t k = 0; k < e->c->n_packs; k++)
        if (want[k] && !e->o.pack_reported[k])
            return false;
    return true;
}

static bool
always(engine *e, void *ud)
{
    (void)e;
    (void)ud;
    return true;
}

static int
send_pack(engine *e, pgi_msg_type type, uint32_t node, uint32_t pack, double soc, pg_error *err)
{
    const cm_pack *p = &e->c->packs[pack];
    pgi_msg_pack m = {.node = node,
                      .pack = pack,
                      .capacity_kwh = p->capacity_kwh,
                      .power_kw = p->power_kw,
                      .soc_kwh = soc};
    char subj[SUBJ];
    uint8_t *buf;
    size_t len;
    int rc;
    if ((rc = node_subject(subj, &e->sj, "share.node", e->c->nodes[node].name, err)) ||
        (rc = pgi_msg_encode_pack(type, &m, &buf, &len, err)))
        return rc;
    return send_(e, op_bus(e), subj, NULL, buf, len, err);
}

/* Waits for the packs in want to be reported. */
static int
await_packs(engine *e, bool *want, pg_error *err)
{
    int rc = await_(e, packs_in, want, err);
    if (rc == AWAIT_UNMET)
        for (uint32_t k = 0; k < e->c->n_packs; k++)
            if (want[k] && !e->o.pack_reported[k])
                return pg_error_set(err, PG_ESTATE, "pack %u was not reported when it left", k);
    return rc;
}

/* A rental round (in process only): packs come home, then every short node (unserved energy since
 * the last round) procures one charged pack through the VCG reverse auction among the packs at
 * owners that were not short themselves; the winner's owner is paid the VCG price by the renter.
 * The rentals go straight into the run: the round's state does not survive the operator. */
static int
share_round(engine *e, pg_community_run *run, pg_error *err)
{
    const pg_community *c = e->c;
    operator_ *op = &e->o;
    int rc;
    size_t np = c->n_packs;
    bool *want = calloc(np + 1, sizeof *want);
    if (!want)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    /* 1. Rented packs come home. */
    memset(op->pack_reported, 0, np * sizeof *op->pack_reported);
    bool any = false;
    for (uint32_t k = 0; k < np; k++)
        if (op->holder[k] != c->packs[k].owner) {
            if ((rc = send_pack(e, PGI_MSG_UNDOCK, op->holder[k], k, 0, err)))
                goto out;
            want[k] = any = true;
        }
    if (any && (rc = await_packs(e, want, err)))
        goto out;
    for (uint32_t k = 0; k < np; k++)
        if (op->holder[k] != c->packs[k].owner) {
            op->holder[k] = c->packs[k].owner;
            if ((rc = send_pack(e, PGI_MSG_DOCK, op->holder[k], k, op->pack_soc[k], err)))
                goto out;
        }
    if (any && (rc = await_(e, always, NULL, err)))
        goto out;
    /* 2. Who is short. */
    size_t n_short = 0;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        if (e->short_kwh[i] > 1e-9)
            op->order[n_short++] = i;
    run->share_rounds++;
    rc = PG_OK;
    if (n_short == 0)
        goto out;
    /* Most short first, then by index (insertion sort: the order is the same everywhere). */
    for (size_t i = 1; i < n_short; i++) {
        uint32_t x = op->order[i];
        size_t j = i;
        while (j > 0 && e->short_kwh[op->order[j - 1]] < e->short_kwh[x]) {
            op->order[j] = op->order[j - 1];
            j--;
        }
        op->order[j] = x;
    }
    /* 3. The packs at owners with surplus show their charge. */
    memset(op->pack_reported, 0, np * sizeof *op->pack_reported);
    memset(want, 0, np * sizeof *want);
    any = false;
    for (uint32_t k = 0; k < np; k++)
        if (e->short_kwh[c->packs[k].owner] <= 1e-9) {
            if ((rc = send_pack(e, PGI_MSG_UNDOCK, c->packs[k].owner, k, 0, err)))
                goto out;
            want[k] = any = true;
        }
    if (!any)
        goto out;
    if ((rc = await_packs(e, want, err)))
        goto out;
    /* 4. One reverse auction per short node. */
    for (size_t s = 0; s < n_short; s++) {
        uint32_t renter = op->order[s];
        size_t nc = 0;
        for (uint32_t k = 0; k < np; k++)
            if (op->pack_reported[k] && op->holder[k] == c->packs[k].owner &&
                c->packs[k].owner != renter &&
                op->pack_soc[k] >= c->share_min_soc * c->packs[k].capacity_kwh - 1e-9) {
                op->cand[nc] = k;
                op->cost[nc] = c->packs[k].cost;
                nc++;
            }
        if (nc == 0)
            break;
        size_t won = 0;
        if ((rc = pg_market_vcg_procure(op->cost, nc, 1, c->share_reserve, op->win, op->pay, &won,
                                        err)))
            goto out;
        for (size_t j = 0; j < nc && won; j++)
            if (op->win[j]) {
                uint32_t k = (uint32_t)op->cand[j];
                op->holder[k] = renter;
                run->node[renter].rental_paid += op->pay[j];
                run->node[renter].rentals++;
                run->node[c->packs[k].owner].rental_received += op->pay[j];
                run->share_rented++;
            }
    }
    /* 5. Packs go where they are now held. */
    for (uint32_t k = 0; k < np; k++)
        if (op->pack_reported[k] &&
            (rc = send_pack(e, PGI_MSG_DOCK, op->holder[k], k, op->pack_soc[k], err)))
            goto out;
    if ((rc = await_(e, always, NULL, err)))
        goto out;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        e->short_kwh[i] = 0;
out:
    free(want);
    return rc;
}

/* In the grid-aware clearing the grid is a participant: a node's cleared trades are with peers
 * and with the grid at the reference bus. The peer part of an interval is what sellers sold to
 * buyers, min(bought, sold) over the community; each buyer's (seller's) trades are split in
 * proportion, the rest counted with the grid (at the same nodal prices). Returns the peer
 * volume. */
static double
split_grid_trades(pg_market_settlement *s, size_t n)
{
    double B = 0, S = 0;
    for (size_t i = 0; i < n; i++) {
        B += s[i].bought;
        S += s[i].sold;
    }
    double P = B < S ? B : S;
    for (size_t i = 0; i < n; i++) {
        pg_market_settlement *x = &s[i];
        if (x->bought > 0) {
            double f = P / B, pb = x->bought * f, pp = x->paid * f;
            x->grid_import += x->bought - pb;
            x->grid_paid += x->paid - pp;
            x->bought = pb;
            x->paid = pp;
        }
        if (x->sold > 0) {
            double f = P / S, ps = x->sold * f, pr = x->received * f;
            x->grid_export += x->sold - ps;
            x->grid_received += x->received - pr;
            x->sold = ps;
            x->received = pr;
        }
    }
    return P;
}

static double
hour_of_day(const pg_community *c, size_t t)
{
    double h = fmod(c->start_hour + (double)(c->first + t) * c->step_h, 24.0);
    return h < 0 ? h + 24 : h;
}

/* The DR events known at interval t and not over at time_h, in the order they became known, the
 * latest modification of each. */
static int
known_events(engine *e, size_t t, double time_h, pg_error *err)
{
    const pg_community *c = e->c;
    operator_ *op = &e->o;
    if (!e->spec->events)
        return PG_OK;
    for (; op->ev_next < c->n_events && c->events[op->ev_order[op->ev_next]].deliver_at <= t;
         op->ev_next++) {
        const cm_event *ev = &c->events[op->ev_order[op->ev_next]];
        size_t k = 0;
        while (k < op->n_known && strcmp(op->known[k].event.id, ev->e.id) != 0)
            k++;
        pgi_msg_dr d = {.event = ev->e, .n_targets = ev->n_targets, .targets = ev->targets};
        if (k == op->n_known)
            op->known[op->n_known++] = d;
        else if (ev->e.modification > op->known[k].event.modification)
            op->known[k] = d;
    }
    size_t j = 0;
    for (size_t k = 0; k < op->n_known; k++)
        if (op->known[k].event.start_h + op->known[k].event.duration_h > time_h + 1e-9)
            op->known[j++] = op->known[k];
    op->n_known = j;
    if (op->n_known > PGI_MSG_MAX_EVENTS)
        return pg_error_set(err, PG_ELIMIT, "more than %d DR events are active at once",
                            PGI_MSG_MAX_EVENTS);
    return PG_OK;
}

static void
free_results(operator_ *op)
{
    for (size_t k = 0; k < op->n_res; k++)
        free(op->res_buf[k]);
    free(op->res_buf);
    free(op->res_len);
    op->res_buf = NULL;
    op->res_len = NULL;
    op->n_res = 0;
}

/* Publishes the result of interval t: the participants' awards in parts. */
static int
publish_result(engine *e, uint32_t t, pg_error *err)
{
    operator_ *op = &e->o;
    size_t total = 0;
    for (size_t i = 0; i < e->n; i++)
        total += op->has_bid[i];
    size_t parts = total ? (total + PGI_MSG_MAX_RECORDS - 1) / PGI_MSG_MAX_RECORDS : 1;
    free_results(op);
    pgi_msg_award *aw = malloc((total ? total : 1) * sizeof *aw);
    if (!aw || !(op->res_buf = calloc(parts, sizeof *op->res_buf)) ||
        !(op->res_len = calloc(parts, sizeof *op->res_len))) {
        free(aw);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++)
        if (op->has_bid[i])
            aw[k++] = (pgi_msg_award){.node = (uint32_t)i,
                                      .digest = op->digest[i],
                                      .cleared_kwh = e->cleared[i],
                                      .price = award_price(e, i)};
    int rc = PG_OK;
    if (e->led) {
        pgi_msg_result all = {.term = e->term,
                              .operator_ = op->me,
                              .interval = t,
                              .n_total = (uint32_t)total,
                              .first = 0,
                              .count = (uint32_t)total,
                              .awards = aw};
        rc = pgi_cl_gate_result(e->led, op->me, t, e->term, op->has_bid, op->bid_op, &all, err);
    }
    for (size_t p = 0; p < parts && !rc; p++) {
        size_t first = p * PGI_MSG_MAX_RECORDS, count = total - first;
        if (count > PGI_MSG_MAX_RECORDS)
            count = PGI_MSG_MAX_RECORDS;
        pgi_msg_result r = {.term = e->term,
                            .operator_ = op->me,
                            .interval = t,
                            .n_total = (uint32_t)total,
                            .first = (uint32_t)first,
                            .count = (uint32_t)count,
                            .awards = aw + first};
        if (!(rc = pgi_msg_encode_result(&r, &op->res_buf[p], &op->res_len[p], err)))
            op->n_res++;
    }
    free(aw);
    for (size_t p = 0; p < op->n_res && !rc; p++)
        rc = send_copy(e, op_bus(e), e->sj.result, op->res_buf[p], op->res_len[p], err);
    return rc;
}

/* Publishes the settlement of interval t in parts and records it here. */
static int
publish_settle(engine *e, const pgi_msg_settle *hdr, pg_error *err)
{
    operator_ *op = &e->o;
    size_t total = 0;
    for (size_t i = 0; i < e->n; i++)
        total += op->has_bid[i];
    pgi_msg_settle_node *x = malloc((total ? total : 1) * sizeof *x);
    if (!x)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++)
        if (op->has_bid[i])
            x[k++] = (pgi_msg_settle_node){
                .node = (uint32_t)i, .metered = op->has_tel[i], .step = op->tel[i], .s = e->s[i]};
    /* the operator's own copy first: what it publishes is what it records */
    int rc = record(e, hdr, x, total, err);
    if (!rc && e->led)
        rc = pgi_cl_settle(e->led, op->me, hdr, x, total, err);
    if (rc) {
        free(x);
        return rc;
    }
    size_t parts = total ? (total + PGI_MSG_MAX_RECORDS - 1) / PGI_MSG_MAX_RECORDS : 1;
    stored *st = e->store ? &e->store[hdr->interval] : NULL;
    if (st && !st->n &&
        (!(st->chunk = calloc(parts, sizeof *st->chunk)) ||
         !(st->len = calloc(parts, sizeof *st->len))))
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t p = 0; p < parts && !rc; p++) {
        size_t first = p * PGI_MSG_MAX_RECORDS, count = total - first;
        if (count > PGI_MSG_MAX_RECORDS)
            count = PGI_MSG_MAX_RECORDS;
        pgi_msg_settle m = *hdr;
        m.n_total = (uint32_t)total;
        m.first = (uint32_t)first;
        m.count = (uint32_t)count;
        m.nodes = x + first;
        uint8_t *buf;
        size_t len;
        if ((rc = pgi_msg_encode_settle(&m, &buf, &len, err)))
            break;
        if (st && st->n == p) {
            uint8_t *copy = malloc(len);
            if (!copy) {
                free(buf);
                rc = pg_error_set(err, PG_ENOMEM, "out of memory");
                break;
            }
            memcpy(copy, buf, len);
            st->chunk[p] = copy;
            st->len[p] = len;
            st->n++;
        }
        rc = send_(e, op_bus(e), e->sj.settle, NULL, buf, len, err);
    }
    free(x);
    return rc;
}

/* With a ledger: the BID ops of the bids in the book are in the operator's copy (they were
 * published before the bids, and a missing one is fetched from its bidder), or the wait is over:
 * a timeout on the lattice (the bidder gone, its op lost), at once in process. */
static bool
bid_ops_in(engine *e, void *ud)
{
    (void)ud;
    operator_ *op = &e->o;
    if (!still_operator(e))
        return true;
    pg_error err = {0};
    int rc = pgi_cl_find_bids(e->led, op->me, op->interval, op->bids, op->has_bid, op->has_bid_op,
                              op->bid_op, &err);
    if (rc) {
        fail(e, rc, &err);
        return true;
    }
    bool all = true;
    for (size_t i = 0; i < e->n && all; i++)
        all = !op->has_bid[i] || op->has_bid_op[i];
    if (all || !e->timed)
        return true;
    double now = pgi_now();
    if (now >= op->ledger_until)
        return true;
    if (now >= op->ledger_retry) {
        op->ledger_retry = now + e->retry_s;
        for (size_t i = 0; i < e->n; i++)
            if (op->has_bid[i] && !op->has_bid_op[i])
                pgi_cl_reconcile(e->led, op->me, (uint32_t)i);
    }
    return false;
}

/* The gate names the exact bid ops it clears: a bid whose op the operator cannot get is left out
 * of the book, as a bid that came too late (logged). */
static int
ledger_gate(engine *e, uint32_t t, pg_error *err)
{
    operator_ *op = &e->o;
    memset(op->has_bid_op, 0, e->n * sizeof *op->has_bid_op);
    double now = e->timed ? pgi_now() : 0;
    op->ledger_until = now + e->timeout_s;
    op->ledger_retry = now + e->retry_s;
    int rc = await_(e, bid_ops_in, NULL, err);
    if (rc && rc != AWAIT_UNMET)
        return rc;
    if (!still_operator(e))
        return PG_OK;
    for (size_t i = 0; i < e->n; i++)
        if (op->has_bid[i] && !op->has_bid_op[i]) {
            elog(e, PG_LOG_WARN,
                 "interval %u: the bid of %s is not on the ledger here: left out of the book", t,
                 name_of(e, (uint32_t)i));
            op->has_bid[i] = false;
        }
    return PG_OK;
}

/* The operator plays interval t. Returns PG_OK also when it lost the role on the way (the caller
 * sees o.active false). */
static int
play_interval(engine *e, uint32_t t, pg_error *err)
{
    const pg_community *c = e->c;
    const cm_run_spec *spec = e->spec;
    operator_ *op = &e->o;
    pg_community_run *run = &e->tr->run;
    size_t n = e->n;
    double hours = c->step_h;
    int rc;
    /* Demand-response events that become known now. */
    if (spec->events)
        for (size_t k = 0; k < c->n_events; k++) {
            const cm_event *ev = &c->events[k];
            if (ev->deliver_at != t)
                continue;
            pgi_msg_dr d = {.event = ev->e, .n_targets = ev->n_targets, .targets = ev->targets};
            uint8_t *buf;
            size_t len;
            if ((rc = pgi_cl_dr_event(e->led, op->me, &d, err)) ||
                (rc = pgi_msg_encode_dr(&d, &buf, &len, err)) ||
                (rc = send_(e, op_bus(e), e->sj.dr, NULL, buf, len, err)))
                return rc;
        }
    double hod = hour_of_day(c, t);
    if (spec->sharing && hod <= c->share_hour + 1e-9 && c->share_hour < hod + hours - 1e-9 &&
        t > 0 && (rc = share_round(e, run, err)))
        return rc;
    /* Open the interval. */
    op->interval = t;
    memset(op->has_bid, 0, n * sizeof *op->has_bid);
    memset(op->has_tel, 0, n * sizeof *op->has_tel);
    pgi_msg_open o = {.term = e->term,
                      .operator_ = op->me,
                      .interval = t,
                      .hours = hours,
                      .time_h = (double)t * hours,
                      .hour_of_day = hod,
                      .market = spec->mech != NULL};
    size_t hz = c->horizon < c->n - t ? c->horizon : c->n - t;
    o.horizon = (uint16_t)hz;
    for (size_t k = 0; k < hz; k++) {
        o.retail[k] = c->retail[t + k];
        o.feed_in[k] = c->feed_in[t + k];
    }
    if ((rc = known_events(e, t, o.time_h, err)))
        return rc;
    o.n_events = (uint16_t)op->n_known;
    o.events = op->known;
    free(op->open_buf);
    op->open_buf = NULL;
    if ((rc = pgi_msg_encode_open(&o, &op->open_buf, &op->open_len, err)))
        return rc;
    double now = e->timed ? pgi_now() : 0;
    op->ph = PH_GATE;
    op->next_retry = now + e->retry_s;
    op->deadline = now + 0.5 * e->interval_s;
    e->next_open_at = now + e->interval_s;
    if ((rc = send_copy(e, op_bus(e), e->sj.open, op->open_buf, op->open_len, err)))
        return rc;
    rc = await_(e, gate_closed, NULL, err);
    if (rc == AWAIT_UNMET) {
        for (size_t i = 0; i < n; i++)
            if (!op->has_bid[i])
                return pg_error_set(err, PG_ESTATE, "node '%s' sent no bid in interval %u",
                                    c->nodes[i].name, t);
        return pg_error_set(err, PG_ESTATE, "the gate of interval %u did not close", t);
    }
    if (rc || !still_operator(e))
        return rc;
    if (behind(e)) {
        op->ph = PH_IDLE;
        elog(e, PG_LOG_INFO, "interval %u was settled already: going on from the others' record",
             t);
        return PG_OK;
    }
    size_t late = 0;
    for (size_t i = 0; i < n; i++)
        late += e->m[i].live && !op->has_bid[i];
    if (late)
        elog(e, PG_LOG_WARN,
             "interval %u: the gate closed at its deadline without the bids of %zu live members", t,
             late);
    if (e->led && (rc = ledger_gate(e, t, err)))
        return rc;
    if (!still_operator(e))
        return PG_OK;
    /* Clear. */
    const pgi_msg_bid **bids = calloc(n ? n : 1, sizeof *bids);
    if (!bids)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        bids[i] = op->has_bid[i] ? &op->bids[i] : NULL;
    rc = fill_book(e, &e->book, bids, err);
    free(bids);
    if (rc)
        return rc;
    pg_market_result res;
    if ((rc = clear_book(e, t, &e->book, &res, err)))
        return rc;
    op->ph = PH_RESULT;
    op->next_retry = (e->timed ? pgi_now() : 0) + e->retry_s;
    if ((rc = publish_result(e, t, err)))
        goto out;
    rc = await_(e, readings_in, NULL, err);
    if (rc == AWAIT_UNMET) {
        for (size_t i = 0; i < n; i++)
            if (op->has_bid[i] && !op->has_tel[i]) {
                rc = pg_error_set(err, PG_ESTATE, "node '%s' sent no meter reading in interval %u",
                                  c->nodes[i].name, t);
                goto out;
            }
    }
    if (rc || !still_operator(e))
        goto out;
    op->ph = PH_IDLE;
    if (behind(e)) {
        elog(e, PG_LOG_INFO, "interval %u was settled already: going on from the others' record",
             t);
        goto out;
    }
    /* A participant gone before it reported: its award is taken as its meter reading. */
    for (size_t i = 0; i < n; i++) {
        if (op->has_bid[i] && !op->has_tel[i]) {
            memset(&op->tel[i], 0, sizeof op->tel[i]);
            op->tel[i].import_kwh = e->cleared[i] > 0 ? e->cleared[i] : 0;
            op->tel[i].export_kwh = e->cleared[i] < 0 ? -e->cleared[i] : 0;
            op->tel[i].temp_c = NAN;
            elog(e, PG_LOG_WARN, "interval %u: %s is gone: its award is taken as its reading", t,
                 c->nodes[i].name);
        }
        e->metered[i] = op->has_bid[i] ? op->tel[i].import_kwh - op->tel[i].export_kwh : 0;
    }
    /* Settle, with the balance check. */
    pg_market_grid grid = {.retail = c->connected ? c->retail[t] : INFINITY,
                           .feed_in = c->connected ? c->feed_in[t] : -INFINITY,
                           .connected = c->connected};
    if ((rc = pg_market_settle(&e->book, &res, &grid, e->metered, n, e->s, err)))
        goto out;
    pgi_msg_settle hdr = {.term = e->term,
                          .operator_ = op->me,
                          .interval = t,
                          .price = res.volume > 0 ? res.price : NAN,
                          .volume_kwh = res.volume,
                          .vm_min = NAN,
                          .vm_max = NAN,
                          .loading_max = NAN};
    if (spec->mech && c->feeder)
        hdr.volume_kwh = split_grid_trades(e->s, n);
    if (spec->mech && res.volume > 0 && !isfinite(res.price)) {
        /* Nodal prices, pay-as-bid or continuous trades: the mean price of the trades, buyers'
         * and sellers' fills weighted by their quantities. */
        double q = 0, m = 0;
        for (size_t k = 0; k < res.n_fills; k++) {
            q += res.fills[k].qty;
            m += res.fills[k].qty * res.fills[k].price;
        }
        hdr.price = q > 0 ? m / q : NAN;
    }
    /* The AC picture of the interval on the feeder. */
    if (c->feeder && spec->mech) {
        pg_market_network net = {.world = c->feeder,
                                 .n_nodes = n,
                                 .node_bus = c->node_bus,
                                 .hours = hours,
                                 .substation_kw = c->substation_kw};
        for (size_t i = 0; i < n; i++)
            e->inj_kw[i] = -e->metered[i] / hours;
        pg_market_ac ac;
        memset(&ac, 0, sizeof ac);
        if ((rc = pg_market_ac_check(&net, e->inj_kw, c->power_factor, &ac, err)))
            goto out;
        hdr.ac = ac.converged ? 1 : 2;
        if (ac.converged) {
            hdr.vm_min = ac.vm_min;
            hdr.vm_max = ac.vm_max;
            hdr.loading_max = ac.loading_max;
        }
        pg_market_ac_free(&ac);
    }
    rc = publish_settle(e, &hdr, err);
out:
    if (op->ph == PH_RESULT && rc)
        op->ph = PH_IDLE;
    pg_market_result_free(&res);
    return rc;
}

/* ---------------------------------------------------------------- housekeeping */

/* The operator role: kept while the operator known is live; taken (term + 1) by the live member
 * whose name sorts first when it is not. Before any interval is opened the first-sorting live
 * member is the operator (on the lattice once it has listened for a heartbeat period). */
static void
elect(engine *e)
{
    operator_ *op = &e->o;
    uint32_t first = first_live(e);
    if (e->op == NONE) {
        /* on the lattice it first listens for a heartbeat period for an operator already at
         * work, unless every member is its own */
        bool mine = first != NONE && e->m[first].hosted &&
                    (!e->timed || e->n_actors == e->n || pgi_now() - e->t0 >= 1.5 * e->heartbeat_s);
        if (mine && !op->active) {
            op->active = true;
            op->me = first;
        } else if (op->active && op->me != first) {
            op->active = false;
        }
        return;
    }
    if (op->active)
        return;
    bool take = !e->m[e->op].live || e->m[e->op].hosted; /* gone, or ours from before a restart */
    bool listened = !e->timed || pgi_now() - e->t0 >= 1.5 * e->heartbeat_s;
    if (take && listened && first != NONE && e->m[first].hosted) {
        e->term++;
        e->op = first;
        op->active = true;
        op->me = first;
        op->ph = PH_IDLE;
        elog(e, PG_LOG_INFO, "operator is now %s (term %u)", name_of(e, first), e->term);
        event_operator(e);
    }
}

/* A settlement kept (as its operator sent it, perhaps under an earlier term) sent again by the
 * operator now, under its own term and name: a member follows the operator of the highest term
 * and takes settlements from it only, so the record of an earlier term reaches a member that
 * missed it (a restart after a takeover) only so. */
static int
send_again(engine *e, const uint8_t *chunk, size_t len, pg_error *err)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    memcpy(d, chunk, len);
    if (len >= 16) { /* the header, then u32 term and u32 operator, little-endian */
        uint32_t v[2] = {e->term, e->o.me};
        for (int k = 0; k < 2; k++)
            for (int b = 0; b < 4; b++)
                d[8 + 4 * k + b] = (uint8_t)(v[k] >> (8 * b));
    }
    return send_(e, op_bus(e), e->sj.settle, NULL, d, len, err);
}

/* A connection of host h came (up) or went: node is its one member with a connection per
 * member, the community with one shared. */
static void
event_connection(const engine *e, const host *h, bool up, const char *url)
{
    if (!events_on(e))
        return;
    pg_community_event ev;
    event_init(e, &ev, PG_COMMUNITY_EVENT_CONNECTION, PG_COMMUNITY_NO_INTERVAL,
               e->n_hosts > 1 && h->n == 1 ? h->a[0]->index : NONE);
    ev.up = up;
    ev.server = url;
    pgi_lattice_event(e->lo, &ev);
}

static int
housekeeping(engine *e, pg_error *err)
{
    double now = pgi_now();
    int rc;
    /* Silence this process could not hear is no evidence: while a connection of its own is down
     * it judges nobody silent, and when one comes back every peer gets a fresh timeout. */
    bool deaf = false, back = false;
    for (size_t k = 0; k < e->n_hosts; k++) {
        host *h = &e->hosts[k];
        pg_bus_stats st;
        pg_bus_get_stats(h->bus, &st);
        deaf = deaf || st.disconnects > st.reconnects;
        back = back || st.reconnects > h->reconnects;
        char url[sizeof h->url];
        if (st.disconnects > h->disconnects) {
            elog(e, PG_LOG_WARN, "connection lost to %s; reconnecting",
                 h->url[0] ? h->url : "the server");
            h->disconnects = st.disconnects;
            event_connection(e, h, false, h->url);
        }
        if (pg_bus_server(h->bus, url, sizeof url) > 0 && strcmp(url, h->url) != 0) {
            if (st.reconnects > h->reconnects || h->url[0])
                elog(e, PG_LOG_INFO, "connection restored to %s", url);
            else
                elog(e, PG_LOG_INFO, "connected to %s", url);
            snprintf(h->url, sizeof h->url, "%s", url);
            event_connection(e, h, true, h->url);
        } else if (st.reconnects > h->reconnects && h->url[0]) {
            elog(e, PG_LOG_INFO, "connection restored to %s", h->url);
            event_connection(e, h, true, h->url);
        }
        if (st.reconnects > h->reconnects)
            pgi_cl_bus_back(e->led, h->bus);
        h->reconnects = st.reconnects;
    }
    if (e->led) {
        for (size_t i = 0; i < e->n; i++)
            e->peer[i] = e->m[i].live && !e->m[i].hosted;
        if ((rc = pgi_cl_tick(e->led, now, e->peer, err)))
            return rc;
    }
    if (now >= e->next_hb) {
        e->next_hb = now + e->heartbeat_s;
        for (size_t k = 0; k < e->n_actors; k++)
            if ((rc = send_member(e, &e->actors[k], PGI_MSG_HEARTBEAT, err)))
                return rc;
    }
    for (size_t i = 0; back && i < e->n; i++)
        if (!e->m[i].hosted && e->m[i].live)
            e->m[i].last_seen = now;
    for (size_t i = 0; !deaf && i < e->n; i++) {
        member *x = &e->m[i];
        if (!x->hosted && x->live && now - x->last_seen > e->timeout_s) {
            x->live = false;
            elog(e, PG_LOG_WARN, "member %s dropped (silent for %.3g s)", name_of(e, (uint32_t)i),
                 now - x->last_seen);
            event_member(e, (uint32_t)i, false);
        }
    }
    for (size_t k = 0; k < e->n_actors; k++) {
        actor *a = &e->actors[k];
        bool later_open = e->last_open != NONE && e->last_open > a->bid_t;
        if (a->planned && !a->acked && !a->resulted && !later_open && now >= a->next_retry &&
            (rc = send_bid(e, a, err)))
            return rc;
    }
    elect(e);
    operator_ *op = &e->o;
    if (op->active && now >= op->next_retry && op->ph != PH_IDLE) {
        op->next_retry = now + e->retry_s;
        bool missing = false;
        for (size_t i = 0; i < e->n && !missing; i++)
            missing = op->ph == PH_GATE ? e->m[i].live && !op->has_bid[i]
                                        : op->has_bid[i] && !op->has_tel[i] && !gone(e, i);
        if (missing && op->ph == PH_GATE &&
            (rc = send_copy(e, op_bus(e), e->sj.open, op->open_buf, op->open_len, err)))
            return rc;
        for (size_t p = 0; missing && op->ph == PH_RESULT && p < op->n_res; p++)
            if ((rc = send_copy(e, op_bus(e), e->sj.result, op->res_buf[p], op->res_len[p], err)))
                return rc;
    }
    /* members that missed settlements get them again, one interval per retry period */
    if (op->active && e->store)
        for (size_t i = 0; i < e->n; i++) {
            member *x = &e->m[i];
            /* only a member stuck for two heartbeats: the others are merely a little behind */
            if (x->hosted || !x->live || x->done >= e->done || now < x->next_catchup ||
                now - x->done_since < 2 * e->heartbeat_s)
                continue;
            x->next_catchup = now + e->retry_s;
            for (size_t t = x->done; t < e->done && t < x->done + CATCHUP; t++) {
                const stored *st = &e->store[t];
                for (size_t p = 0; p < st->n; p++)
                    if ((rc = send_again(e, st->chunk[p], st->len[p], err)))
                        return rc;
            }
        }
    return PG_OK;
}

/* ---------------------------------------------------------------- one run */

static uint64_t
mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void
free_engine(engine *e)
{
    pgi_cl_close(e->led); /* before the buses its nets are on */
    free(e->dr_told);
    free(e->peer);
    free(e->synced);
    for (size_t k = 0; e->hosts && k < e->n_hosts; k++) {
        pg_bus_close(e->hosts[k].bus);
        free(e->hosts[k].a);
    }
    free(e->hosts);
    /* every actor allocated, including one whose node failed to start */
    for (size_t i = 0; e->actors && i < e->n_actors; i++) {
        pg_node_free(e->actors[i].node);
        free((void *)e->actors[i].forecast);
        free(e->actors[i].actual);
        free(e->actors[i].events);
    }
    free(e->actors);
    free(e->actor_of);
    free(e->m);
    free(e->by_name);
    operator_ *op = &e->o;
    free(op->bids);
    free(op->has_bid);
    free(op->digest);
    free(op->inc);
    free(op->tel);
    free(op->has_tel);
    free(op->pack_soc);
    free(op->pack_reported);
    free(op->open_buf);
    free_results(op);
    free(op->ev_order);
    free(op->known);
    free(op->holder);
    free(op->cost);
    free(op->cand);
    free(op->win);
    free(op->pay);
    free(op->order);
    free(op->bid_op);
    free(op->has_bid_op);
    pg_market_book_free(&e->book);
    free(e->s);
    free(e->metered);
    free(e->inj_kw);
    free(e->cleared);
    free(e->paid);
    free(e->vol);
    free(e->recorded);
    free(e->short_kwh);
    assembly_reset(&e->sa, NONE, 0, NONE, 0);
    assembly_reset(&e->ra, NONE, 0, NONE, 0);
    free(e->sa.got);
    free(e->sa.settle);
    free(e->sa.chunk);
    free(e->sa.chunk_len);
    free(e->ra.got);
    free(e->ra.award);
    free(e->ra.chunk);
    free(e->ra.chunk_len);
    for (size_t t = 0; e->store && t < e->c->n; t++) {
        for (size_t p = 0; p < e->store[t].n; p++)
            free(e->store[t].chunk[p]);
        free(e->store[t].chunk);
        free(e->store[t].len);
    }
    free(e->store);
    for (size_t t = 0; e->pending && t < e->c->n; t++)
        free(e->pending[t].nodes);
    free(e->pending);
    for (int s = 0; s < 2; s++) {
        free(e->vb[s]);
        free(e->vb_t[s]);
    }
}

void
pgi_community_run_free(pg_community_run *r)
{
    if (!r)
        return;
    free(r->mechanism);
    free(r->node);
    free(r->price);
    free(r->volume_kwh);
    free(r->load_kwh);
    free(r->pv_kwh);
    free(r->grid_import_kwh);
    free(r->grid_export_kwh);
    free(r->unserved_kwh);
    memset(r, 0, sizeof *r);
}

void
pgi_community_trace_free(cm_trace *t)
{
    if (!t)
        return;
    free(t->net);
    pgi_community_run_free(&t->run);
    memset(t, 0, sizeof *t);
}

/* The run's identity: members playing a different one ignore each other. */
static uint64_t
run_id(const pg_community *c, const cm_run_spec *spec)
{
    uint64_t h = pgi_msg_fnv(PGI_FNV_OFFSET, c->name, strlen(c->name) + 1);
    const char *mech = spec->mech ? spec->mech->name : "none";
    h = pgi_msg_fnv(h, mech, strlen(mech) + 1);
    uint64_t v[6] = {spec->variant, c->start_day, c->days, c->n_nodes, c->n, spec->events};
    return pgi_msg_fnv(h, v, sizeof v);
}

/* The node order by name (bytewise): a merge sort. */
static void
sort_by_name(const pg_community *c, uint32_t *idx, uint32_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_by_name(c, idx, tmp, h);
    sort_by_name(c, idx + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = strcmp(c->nodes[idx[i]].name, c->nodes[idx[j]].name) <= 0 ? idx[i++] : idx[j++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* The scenario's events in the order they become known (by interval, then as listed). */
static void
sort_events(const pg_community *c, size_t *idx)
{
    for (size_t i = 0; i < c->n_events; i++)
        idx[i] = i;
    for (size_t i = 1; i < c->n_events; i++) {
        size_t x = idx[i], j = i;
        while (j > 0 && c->events[idx[j - 1]].deliver_at > c->events[x].deliver_at) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
}

static int
subscribe_all(engine *e, pg_error *err)
{
    int rc;
    uint64_t sid;
    for (size_t k = 0; k < e->n_hosts; k++) {
        host *h = &e->hosts[k];
        if ((rc = pg_bus_subscribe(h->bus, e->sj.open, on_open, h, &sid, err)) ||
            (rc = pg_bus_subscribe(h->bus, e->sj.result, on_result, h, &sid, err)) ||
            (rc = pg_bus_subscribe(h->bus, e->sj.dr, on_dr, h, &sid, err)) ||
            (rc = pg_bus_subscribe(h->bus, e->sj.share_all, on_share, h, &sid, err)))
            return rc;
        for (size_t i = 0; i < h->n; i++)
            if ((rc = pg_bus_subscribe(h->bus, h->a[i]->ack, on_ack, h->a[i], &sid, err)))
                return rc;
    }
    pg_bus *b = op_bus(e);
    if ((rc = pg_bus_subscribe(b, e->sj.announce, on_member, e, &sid, err)) ||
        (rc = pg_bus_subscribe(b, e->sj.heartbeat, on_member, e, &sid, err)) ||
        (rc = pg_bus_subscribe(b, e->sj.bid, on_bid, e, &sid, err)) ||
        (rc = pg_bus_subscribe(b, e->sj.telemetry_all, on_telemetry, e, &sid, err)) ||
        (rc = pg_bus_subscribe(b, e->sj.settle, on_settle, e, &sid, err)) ||
        (rc = pg_bus_subscribe(b, e->sj.dispute, on_dispute, e, &sid, err)) ||
        (rc = pg_bus_subscribe(b, e->sj.share_report, on_pack_report, e, &sid, err)))
        return rc;
    return PG_OK;
}

#define ALLOC(p, count) (((p) = calloc((count) ? (count) : 1, sizeof *(p))) != NULL)

/* A member's copy of the ledger is reconciled with every live peer at the end (a heartbeat on
 * the subject "member.synced"): it may leave once every live member has said so. */
static void
on_synced(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    engine *e = ctx;
    pgi_msg_member mm;
    if (e->rc || !member_msg(e, PGI_MSG_HEARTBEAT, data, len, &mm))
        return;
    if (mm.run_id == e->run_id && !e->m[mm.node].hosted)
        e->synced[mm.node] = true;
}

/* Every hosted member's copy of the shared ledger, on its bus. */
static int
open_ledger(engine *e, pg_error *err)
{
    operator_ *op = &e->o;
    size_t n = e->n;
    uint32_t *nodes = malloc(e->n_actors * sizeof *nodes);
    pg_bus **buses = malloc(e->n_actors * sizeof *buses);
    int rc;
    uint64_t sid;
    if (!nodes || !buses || !ALLOC(op->bid_op, n) || !ALLOC(op->has_bid_op, n) ||
        !ALLOC(e->peer, n) || !ALLOC(e->synced, n)) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < e->n_actors; k++) {
        nodes[k] = e->actors[k].index;
        buses[k] = e->actors[k].h->bus;
    }
    if ((rc = pgi_cl_open(&e->led, e->c, e->spec->mech, e->lo, e->timed, e->sj.prefix, nodes, buses,
                          e->n_actors, err)))
        goto out;
    if (e->timed)
        rc = pg_bus_subscribe(op_bus(e), e->sj.synced, on_synced, e, &sid, err);
out:
    free(nodes);
    free(buses);
    return rc;
}

static int
setup(engine *e, const pg_community *c, const cm_run_spec *spec, cm_trace *tr, pg_error *err)
{
    size_t n = c->n_nodes, T = c->n, np = c->n_packs;
    const pg_lattice_options *lo = spec->lattice;
    int rc;
    e->c = c;
    e->spec = spec;
    e->lo = lo;
    e->n = n;
    e->tr = tr;
    e->op = e->last_open = NONE;
    e->sa.t = e->ra.t = e->verified_t = NONE;
    e->sa.op = e->ra.op = NONE;
    const char *transport = lo && lo->transport ? lo->transport : lo ? "nats" : "inproc";
    e->timed = strcmp(transport, "inproc") != 0;
    if (lo) {
        e->heartbeat_s = lo->heartbeat_s;
        e->timeout_s = lo->timeout_s;
        e->retry_s = lo->retry_s;
        e->form_s = lo->form_s;
        e->interval_s = lo->interval_s > 0 ? lo->interval_s : c->step_h * 3600;
    }
    if (!lo || !lo->wall_clock)
        e->interval_s = 0;
    pg_market_book_init(&e->book);
    pg_community_run *run = &tr->run;
    tr->n_nodes = n;
    tr->n = T;
    if (!(tr->net = calloc(n * T, sizeof *tr->net)) || !ALLOC(run->node, n) ||
        !(run->price = malloc(T * sizeof(double))) || !ALLOC(run->volume_kwh, T) ||
        !ALLOC(run->load_kwh, T) || !ALLOC(run->pv_kwh, T) || !ALLOC(run->grid_import_kwh, T) ||
        !ALLOC(run->grid_export_kwh, T) || !ALLOC(run->unserved_kwh, T) ||
        !(run->mechanism = pgi_strdup(spec->mech ? spec->mech->name : "none")) ||
        !ALLOC(e->actor_of, n) || !ALLOC(e->m, n) || !ALLOC(e->by_name, n) ||
        !ALLOC(e->o.bids, n) || !ALLOC(e->o.has_bid, n) || !ALLOC(e->o.digest, n) ||
        !ALLOC(e->o.inc, n) || !ALLOC(e->o.tel, n) || !ALLOC(e->o.has_tel, n) ||
        !ALLOC(e->o.pack_soc, np) || !ALLOC(e->o.pack_reported, np) ||
        !ALLOC(e->o.ev_order, c->n_events) || !ALLOC(e->o.known, c->n_events) ||
        !ALLOC(e->o.holder, np) || !ALLOC(e->o.cost, np) || !ALLOC(e->o.cand, np) ||
        !ALLOC(e->o.win, np) || !ALLOC(e->o.pay, np) || !ALLOC(e->o.order, n) || !ALLOC(e->s, n) ||
        !ALLOC(e->metered, n) || !ALLOC(e->inj_kw, n) || !ALLOC(e->cleared, n) ||
        !ALLOC(e->paid, n) || !ALLOC(e->vol, n) || !ALLOC(e->recorded, T) ||
        !ALLOC(e->short_kwh, n) || !ALLOC(e->sa.got, n) || !ALLOC(e->sa.settle, n) ||
        !ALLOC(e->ra.got, n) || !ALLOC(e->ra.award, n) || !ALLOC(e->vb[0], n) ||
        !ALLOC(e->vb[1], n) || !ALLOC(e->vb_t[0], n) || !ALLOC(e->vb_t[1], n) ||
        (e->timed && (!ALLOC(e->store, T) || !ALLOC(e->pending, T))))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t t = 0; t < T; t++)
        run->price[t] = NAN;
    run->n_nodes = n;
    run->grid_aware = spec->mech && c->feeder;
    run->vm_min = run->vm_max = run->loading_max = NAN;
    run->pack_utilisation = NAN;
    for (size_t i = 0; i < n; i++) {
        e->actor_of[i] = NONE;
        e->by_name[i] = (uint32_t)i;
        e->vb_t[0][i] = e->vb_t[1][i] = NONE;
        e->m[i].hosted = !spec->hosted || spec->hosted[i];
        e->n_actors += e->m[i].hosted;
    }
    if (e->n_actors == 0)
        return pg_error_set(err, PG_EINVAL, "no member of the community is hosted here");
    if (!e->timed && e->n_actors != n)
        return pg_error_set(err, PG_EINVAL,
                            "the in-process bus hosts every member of the community in one "
                            "process; play a subset on a network transport");
    if (e->timed && spec->sharing)
        return pg_error_set(err, PG_EUNSUPPORTED,
                            "shared batteries are played on the in-process bus only: a rental "
                            "round's state would not survive a change of operator; run the "
                            "scenario without --nats or with --market none");
    uint32_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    sort_by_name(c, e->by_name, tmp, n);
    free(tmp);
    sort_events(c, e->o.ev_order);
    e->run_id = run_id(c, spec);
    if (e->timed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        e->incarnation = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    } else {
        e->incarnation = 1;
    }
    const char *session = spec->session ? spec->session : lo ? lo->session : NULL;
    if ((rc = make_subjects(&e->sj, c->token, session, err)))
        return rc;
    /* buses: one shared, or one per hosted node on a network transport */
    bool per_node = e->timed && lo->per_node_connections;
    e->n_hosts = per_node ? e->n_actors : 1;
    if (!ALLOC(e->hosts, e->n_hosts) || !ALLOC(e->actors, e->n_actors))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < e->n_hosts; k++) {
        e->hosts[k].e = e;
        if (!ALLOC(e->hosts[k].a, per_node ? 1 : e->n_actors))
            return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < e->n_hosts; k++) {
        if ((rc = pg_bus_open(&e->hosts[k].bus, transport, e->timed ? lo->servers : NULL, err)))
            return rc;
        pg_bus_stats st;
        pg_bus_get_stats(e->hosts[k].bus, &st);
        e->hosts[k].disconnects = st.disconnects;
        e->hosts[k].reconnects = st.reconnects;
    }
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        if (!e->m[i].hosted)
            continue;
        actor *a = &e->actors[na];
        host *h = &e->hosts[per_node ? na : 0];
        e->actor_of[i] = (uint32_t)na;
        na++;
        a->index = (uint32_t)i;
        a->h = h;
        h->a[h->n++] = a;
        a->bid_t = NONE;
        a->cn = &c->nodes[i];
        if ((rc = node_subject(a->ack, &e->sj, "ack", a->cn->name, err)))
            return rc;
        const pg_node_config *cfg = a->cn->cfg[spec->variant];
        a->n_inputs = pg_node_config_n_inputs(cfg);
        if (!(a->forecast = calloc(a->n_inputs + 1, sizeof *a->forecast)) ||
            !(a->actual = calloc(a->n_inputs + 1, sizeof *a->actual)))
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        if ((rc = pg_node_new(&a->node, cfg, (uint32_t)i, mix64(spec->seed ^ mix64(i)), err)))
            return node_error(c, i, rc, err);
        for (size_t k = 0; k < cfg->n_devices; k++)
            a->battery |=
                cfg->devices[k].kind == PGI_DEV_BATTERY || cfg->devices[k].kind == PGI_DEV_PORTABLE;
        for (size_t k = 0; k < np; k++)
            a->battery |= c->packs[k].owner == i;
        e->m[i].live = e->m[i].seen = true;
        e->m[i].incarnation = e->incarnation;
    }
    if ((rc = subscribe_all(e, err)))
        return rc;
    if (lo && lo->ledger_dir && (rc = open_ledger(e, err)))
        return rc;
    if (spec->hook)
        spec->hook(op_bus(e), spec->hook_ud);
    e->t0 = e->timed ? pgi_now() : 0;
    for (size_t k = 0; k < e->n_actors; k++) {
        if ((rc = send_member(e, &e->actors[k], PGI_MSG_ANNOUNCE, err)))
            return rc;
        event_member(e, e->actors[k].index, true);
    }
    e->next_hb = e->t0 + e->heartbeat_s;
    /* Every pack starts at its owner (docked here when the owner is hosted here). */
    for (uint32_t k = 0; k < np; k++) {
        uint32_t owner = c->packs[k].owner;
        e->o.holder[k] = owner;
        if (e->actor_of[owner] != NONE &&
            (rc = pg_node_dock(e->actors[e->actor_of[owner]].node, k, c->packs[k].capacity_kwh,
                               c->packs[k].power_kw, c->packs[k].soc0_kwh, err)))
            return node_error(c, owner, rc, err);
    }
    return PG_OK;
}

static bool
finished(engine *e, void *ud)
{
    (void)ud;
    if (e->o.active)
        return true; /* the role came here: play */
    if (e->done == e->c->n)
        return true;
    /* the last interval is recorded but an earlier one is missing: wait a while for it */
    if (!e->timed || !e->recorded[e->c->n - 1])
        return false;
    if (e->linger_until == 0)
        e->linger_until = pgi_now() + LINGER * e->timeout_s;
    return pgi_now() >= e->linger_until;
}

static bool
others_done(engine *e, void *ud)
{
    (void)ud;
    if (pgi_now() >= e->linger_until)
        return true;
    for (size_t i = 0; i < e->n; i++)
        if (!e->m[i].hosted && e->m[i].live && e->m[i].done < e->c->n)
            return false;
    return true;
}

/* The interval the operator plays next: the one open and not settled, else the first after the
 * last settled. */
static uint32_t
next_interval(const engine *e)
{
    if (e->last_open != NONE && !e->recorded[e->last_open])
        return e->last_open;
    size_t t = e->last;
    for (size_t i = 0; i < e->n; i++)
        if (e->m[i].live && !e->m[i].hosted && e->m[i].last > t)
            t = e->m[i].last; /* the others have gone further (this process came late) */
    return (uint32_t)t;
}

static bool
time_to_open(engine *e, void *ud)
{
    (void)ud;
    return !e->o.active || pgi_now() >= e->next_open_at;
}

static bool
ledger_idle(engine *e, void *ud)
{
    (void)ud;
    return pgi_cl_idle(e->led) || (e->timed && pgi_now() >= e->ledger_until);
}

static bool
peers_synced(engine *e, void *ud)
{
    (void)ud;
    double now = pgi_now();
    if (now >= e->ledger_until)
        return true;
    if (now >= e->next_synced) {
        e->next_synced = now + e->heartbeat_s;
        pg_error err = {0};
        int rc = PG_OK;
        for (size_t k = 0; k < e->n_actors && !rc; k++) {
            pgi_msg_member mm = {.node = e->actors[k].index,
                                 .incarnation = e->incarnation,
                                 .run_id = e->run_id,
                                 .term = e->term,
                                 .operator_ = e->op,
                                 .done = e->done,
                                 .last = (uint32_t)e->last};
            snprintf(mm.name, sizeof mm.name, "%s", e->actors[k].cn->name);
            uint8_t *buf;
            size_t len;
            if (!(rc = pgi_msg_encode_member(PGI_MSG_HEARTBEAT, &mm, &buf, &len, &err)))
                rc = send_(e, e->actors[k].h->bus, e->sj.synced, NULL, buf, len, &err);
        }
        if (rc) {
            fail(e, rc, &err);
            return true;
        }
    }
    for (size_t i = 0; i < e->n; i++)
        if (!e->m[i].hosted && e->m[i].live && !e->synced[i])
            return false;
    return true;
}

/* At the end of the run every copy of the ledger here is reconciled with every live peer (and
 * the copies of this process with each other), so that all end with the same ops; on the lattice
 * the process then stays, answering the others' reconciliations, until every live peer has done
 * the same (or LINGER timeouts have passed). */
static int
ledger_finish(engine *e, pg_error *err)
{
    int rc;
    for (size_t i = 0; i < e->n; i++)
        e->peer[i] = e->timed && e->m[i].live && !e->m[i].hosted;
    for (int round = 0, tries = 0; round < 2; round++) {
        uint64_t failed = pgi_cl_failed(e->led);
        e->ledger_until = e->timed ? pgi_now() + LINGER * e->timeout_s : 0;
        pgi_cl_final_round(e->led, round, e->peer);
        rc = await_(e, ledger_idle, NULL, err);
        if (rc == AWAIT_UNMET)
            elog(e, PG_LOG_WARN, "the ledger's last reconciliations did not end in process");
        else if (rc)
            return rc;
        /* a peer that failed to answer is tried once more (it may have been busy) */
        if (round == 0 && pgi_cl_failed(e->led) > failed && tries++ == 0)
            round--;
    }
    if (!e->timed)
        return PG_OK;
    e->ledger_until = pgi_now() + LINGER * e->timeout_s;
    e->next_synced = 0;
    return await_(e, peers_synced, NULL, err);
}

static int
loop(engine *e, pg_error *err)
{
    const pg_community *c = e->c;
    operator_ *op = &e->o;
    int rc;
    for (;;) {
        elect(e);
        if (e->done == c->n || (!op->active && e->recorded[c->n - 1] && e->linger_until > 0 &&
                                pgi_now() > e->linger_until))
            break;
        if (!op->active) {
            if ((rc = await_(e, finished, NULL, err)) == AWAIT_UNMET)
                return pg_error_set(err, PG_ESTATE, "no member holds the operator role");
            if (rc)
                return rc;
            continue;
        }
        if (e->op == NONE) {
            /* before the first interval: wait for the members */
            if ((rc = await_(e, all_live, NULL, err)) == AWAIT_UNMET)
                rc = pg_error_set(err, PG_ESTATE, "a member did not announce itself");
            if (rc)
                return rc;
            if (!op->active || e->op != NONE)
                continue;
            e->term++;
            e->op = op->me;
            elog(e, PG_LOG_INFO, "operator is now %s (term %u)", name_of(e, op->me), e->term);
            event_operator(e);
        }
        uint32_t t = next_interval(e);
        if (t >= c->n)
            break;
        /* on the wall clock a new interval waits for its time; one left open by a previous
         * operator is opened again at once */
        bool fresh = e->last_open == NONE || t > e->last_open;
        if (e->lo && e->lo->wall_clock && e->timed && t > 0 && fresh &&
            (rc = await_(e, time_to_open, NULL, err)))
            return rc;
        if (!op->active)
            continue;
        if ((rc = play_interval(e, t, err)))
            return rc;
    }
    /* a last heartbeat: the others learn at once that this process has the whole run */
    for (size_t k = 0; e->timed && k < e->n_actors; k++)
        if ((rc = send_member(e, &e->actors[k], PGI_MSG_HEARTBEAT, err)))
            return rc;
    if (op->active && e->timed && e->done == c->n) {
        /* the others may have missed the last settlements: stay a while to catch them up */
        e->linger_until = pgi_now() + LINGER * e->timeout_s;
        if ((rc = await_(e, others_done, NULL, err)))
            return rc;
    }
    if (e->led && (rc = ledger_finish(e, err)))
        return rc;
    return PG_OK;
}

int
pgi_community_play(const pg_community *c, const cm_run_spec *spec, cm_trace *out, pg_error *err)
{
    engine e;
    memset(&e, 0, sizeof e);
    cm_trace tr;
    memset(&tr, 0, sizeof tr);
    int rc = setup(&e, c, spec, &tr, err);
    if (!rc)
        rc = loop(&e, err);
    if (!rc && e.done < c->n)
        elog(&e, PG_LOG_WARN, "the run ends with %zu of %zu intervals recorded here", tr.settled,
             c->n);
    if (e.timed && (!rc || rc == PG_ECANCELED))
        elog(&e, PG_LOG_INFO,
             "%zu of %zu intervals recorded; results recomputed: %llu, not checkable: %llu, "
             "differing: %llu; disputes heard: %llu; malformed messages dropped: %llu",
             tr.settled, c->n, (unsigned long long)tr.verified, (unsigned long long)tr.unverifiable,
             (unsigned long long)tr.mismatches, (unsigned long long)tr.disputes,
             (unsigned long long)e.dropped);
    if (!rc || rc == PG_ECANCELED) {
        pg_community_run *run = &tr.run;
        apply_pending(&e);
        if (spec->sharing && c->n_packs && run->share_rounds)
            run->pack_utilisation =
                (double)run->share_rented / ((double)c->n_packs * (double)run->share_rounds);
        for (size_t k = 0; k < e.n_hosts; k++) {
            pg_bus_stats bs;
            pg_bus_get_stats(e.hosts[k].bus, &bs);
            run->published += bs.published;
            run->delivered += bs.delivered;
            run->dropped += bs.dropped;
        }
        run->dropped += e.dropped;
        double peak = run->total.peak_import_kw;
        memset(&run->total, 0, sizeof run->total);
        run->total.peak_import_kw = peak;
    }
    /* the run ended however it ended (the last event of a run, once) */
    if (events_on(&e)) {
        pg_community_event ev;
        event_init(&e, &ev, PG_COMMUNITY_EVENT_DONE, PG_COMMUNITY_NO_INTERVAL, NONE);
        pgi_lattice_event(e.lo, &ev);
    }
    free_engine(&e);
    if (rc && rc != PG_ECANCELED) {
        pgi_community_trace_free(&tr);
        return rc;
    }
    *out = tr;
    return rc;
}
