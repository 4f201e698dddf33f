/* The dashboard's live state of one community run (http.h, docs/http.md "Live state and nodes"):
 * a community job of the server, or the run of the node the server lives in. The run's event
 * hook (pg_community_event, called on the run's thread) feeds pgh_live_event, which updates one
 * mutex-protected state: the members (up, the operator, the last telemetry and settlement of
 * each), the current interval (open or cleared, with its bids), the last clearing, the DR events
 * announced and the history of every interval (price, volume and totals), bounded to the last
 * LIVE_HISTORY intervals. GET /api/live returns the whole state; each event is also published
 * on /api/events as a "live" event. Telemetry and settlements come one per member and interval:
 * they are published as one event per interval (the members' figures together), so that the
 * stream grows with the intervals, not with the members. The state is the process's one: a run
 * begun replaces the last one. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "http/http.h"

#define LIVE_HISTORY 10000 /* intervals of history kept */
#define LIVE_DR_MAX 256    /* DR events kept (the latest) */
#define LIVE_OUT_MAX 4     /* events one call publishes at most */

typedef struct lmember {
    char *name;
    bool up;
    bool has_tel;
    size_t tel_t;
    double load, pv, soc, imp, exp;
    bool has_set;
    size_t set_t;
    double bought, sold, simp, sexp, amount, price;
} lmember;

typedef struct lbid {
    size_t member;
    double buy, sell, price;
} lbid;

typedef struct lhist {
    bool used, cleared;
    size_t t;
    double price, volume, load, pv, imp, exp;
} lhist;

typedef struct ldr {
    char id[64];
    char node[64]; /* "" for several or all */
    double start_h, end_h, kw;
} ldr;

typedef struct live {
    pthread_mutex_t mu;
    bool begun, active, done;
    pgh_server *server;
    char *source, *community;
    size_t intervals;
    double step_h;
    lmember *m;
    size_t n_m;
    char op[64];
    uint64_t term;
    bool has_cur;
    size_t cur_t;
    bool cur_cleared;
    lbid *bids;
    size_t n_bids;
    bool has_clear;
    size_t clear_t;
    double clear_price, clear_volume;
    ldr dr[LIVE_DR_MAX];
    size_t n_dr, dr_total;
    lhist *hist;
    bool any_hist;
    size_t newest;
    bool has_conn, connected;
    char server_url[256];
    bool tel_pending, set_pending;
    size_t tel_t, set_t;
} live;

static live L = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---------------------------------------------------------------- state */

static void
reset(void)
{
    for (size_t i = 0; i < L.n_m; i++)
        free(L.m[i].name);
    free(L.m);
    free(L.bids);
    free(L.hist);
    free(L.source);
    free(L.community);
    pthread_mutex_t mu = L.mu;
    memset(&L, 0, sizeof L);
    L.mu = mu;
}

static lmember *
member_of(const char *name, size_t *index)
{
    for (size_t i = 0; name && i < L.n_m; i++)
        if (strcmp(L.m[i].name, name) == 0) {
            if (index)
                *index = i;
            return &L.m[i];
        }
    return NULL;
}

/* The history entry of interval t, made when new; NULL when t is older than the window. */
static lhist *
hist_of(size_t t)
{
    if (!L.hist || t == PG_COMMUNITY_NO_INTERVAL)
        return NULL;
    if (L.any_hist && t + LIVE_HISTORY <= L.newest)
        return NULL;
    lhist *h = &L.hist[t % LIVE_HISTORY];
    if (!h->used || h->t != t) {
        *h = (lhist){.used = true, .t = t, .price = NAN, .volume = NAN};
        if (!L.any_hist || t > L.newest)
            L.newest = t;
        L.any_hist = true;
    }
    return h;
}

static double
time_of(size_t t)
{
    return t == PG_COMMUNITY_NO_INTERVAL ? NAN : (double)t * L.step_h;
}

/* ---------------------------------------------------------------- JSON */

static void
set(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static json_t *
str_or_null(const char *s)
{
    return s && s[0] ? pgi_json_str(s) : json_null();
}

static json_t *
tel_json(const lmember *x)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "interval", json_integer((json_int_t)x->tel_t));
    set(o, "load_kwh", pgi_json_num(x->load));
    set(o, "pv_kwh", pgi_json_num(x->pv));
    set(o, "soc_kwh", pgi_json_num(x->soc));
    set(o, "import_kwh", pgi_json_num(x->imp));
    set(o, "export_kwh", pgi_json_num(x->exp));
    return o;
}

static json_t *
set_json(const lmember *x)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "interval", json_integer((json_int_t)x->set_t));
    set(o, "bought_kwh", pgi_json_num(x->bought));
    set(o, "sold_kwh", pgi_json_num(x->sold));
    set(o, "import_kwh", pgi_json_num(x->simp));
    set(o, "export_kwh", pgi_json_num(x->sexp));
    set(o, "amount", pgi_json_num(x->amount));
    set(o, "price", pgi_json_num(x->price));
    return o;
}

static json_t *
bid_json(const lbid *b)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "node", pgi_json_str(L.m[b->member].name));
    set(o, "buy_kwh", pgi_json_num(b->buy));
    set(o, "sell_kwh", pgi_json_num(b->sell));
    set(o, "price", pgi_json_num(b->price));
    return o;
}

static json_t *
dr_json(const ldr *d)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "id", pgi_json_str(d->id));
    set(o, "node", str_or_null(d->node));
    set(o, "start_h", pgi_json_num(d->start_h));
    set(o, "end_h", pgi_json_num(d->end_h));
    set(o, "kw", pgi_json_num(d->kw));
    return o;
}

/* The history of the last max_n intervals (all kept when max_n is 0). */
static json_t *
history_json(size_t max_n)
{
    json_t *o = json_object();
    const char *keys[] = {"interval", "time_h", "price",      "volume_kwh",
                          "load_kwh", "pv_kwh", "import_kwh", "export_kwh"};
    json_t *a[8];
    if (!o)
        return NULL;
    for (int k = 0; k < 8; k++) {
        a[k] = json_array();
        set(o, keys[k], a[k]);
    }
    if (!L.any_hist)
        return o;
    size_t n = max_n && max_n < LIVE_HISTORY ? max_n : LIVE_HISTORY;
    size_t first = L.newest + 1 > n ? L.newest + 1 - n : 0;
    for (size_t t = first; t <= L.newest; t++) {
        const lhist *h = &L.hist[t % LIVE_HISTORY];
        if (!h->used || h->t != t)
            continue;
        json_array_append_new(a[0], json_integer((json_int_t)t));
        json_array_append_new(a[1], pgi_json_num(time_of(t)));
        json_array_append_new(a[2], h->cleared ? pgi_json_num(h->price) : json_null());
        json_array_append_new(a[3], h->cleared ? pgi_json_num(h->volume) : json_null());
        json_array_append_new(a[4], pgi_json_num(h->load));
        json_array_append_new(a[5], pgi_json_num(h->pv));
        json_array_append_new(a[6], pgi_json_num(h->imp));
        json_array_append_new(a[7], pgi_json_num(h->exp));
    }
    return o;
}

/* The whole state (the lock held). */
static json_t *
state_json(size_t max_history)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "active", json_boolean(L.active));
    if (!L.begun)
        return o;
    set(o, "source", str_or_null(L.source));
    set(o, "community", str_or_null(L.community));
    set(o, "intervals", json_integer((json_int_t)L.intervals));
    set(o, "step_h", pgi_json_num(L.step_h));
    set(o, "done", json_boolean(L.done));
    json_t *ms = json_array();
    for (size_t i = 0; ms && i < L.n_m; i++) {
        const lmember *x = &L.m[i];
        json_t *m = json_object();
        if (!m)
            break;
        set(m, "name", pgi_json_str(x->name));
        set(m, "up", json_boolean(x->up));
        set(m, "operator", json_boolean(L.op[0] && strcmp(L.op, x->name) == 0));
        set(m, "telemetry", x->has_tel ? tel_json(x) : json_null());
        set(m, "settlement", x->has_set ? set_json(x) : json_null());
        json_array_append_new(ms, m);
    }
    set(o, "members", ms);
    if (L.op[0]) {
        json_t *op = json_object();
        if (op) {
            set(op, "name", pgi_json_str(L.op));
            set(op, "term", json_integer((json_int_t)L.term));
        }
        set(o, "operator", op);
    } else {
        set(o, "operator", json_null());
    }
    if (L.has_cur) {
        json_t *cur = json_object(), *bids = json_array();
        if (cur) {
            set(cur, "index", json_integer((json_int_t)L.cur_t));
            set(cur, "time_h", pgi_json_num(time_of(L.cur_t)));
            set(cur, "state", json_string(L.cur_cleared ? "cleared" : "open"));
            for (size_t k = 0; bids && k < L.n_bids; k++)
                json_array_append_new(bids, bid_json(&L.bids[k]));
            set(cur, "bids", bids);
        } else {
            json_decref(bids);
        }
        set(o, "interval", cur);
    } else {
        set(o, "interval", json_null());
    }
    if (L.has_clear) {
        json_t *cl = json_object();
        if (cl) {
            set(cl, "interval", json_integer((json_int_t)L.clear_t));
            set(cl, "price", pgi_json_num(L.clear_price));
            set(cl, "volume_kwh", pgi_json_num(L.clear_volume));
        }
        set(o, "clearing", cl);
    } else {
        set(o, "clearing", json_null());
    }
    json_t *drs = json_array();
    size_t first = L.dr_total > LIVE_DR_MAX ? L.dr_total - LIVE_DR_MAX : 0;
    for (size_t k = first; drs && k < L.dr_total; k++)
        json_array_append_new(drs, dr_json(&L.dr[k % LIVE_DR_MAX]));
    set(o, "dr_events", drs);
    if (L.has_conn) {
        json_t *c = json_object();
        if (c) {
            set(c, "server", str_or_null(L.server_url));
            set(c, "up", json_boolean(L.connected));
        }
        set(o, "connection", c);
    } else {
        set(o, "connection", json_null());
    }
    set(o, "history", history_json(max_history));
    return o;
}

/* ---------------------------------------------------------------- events */

typedef struct outbox {
    json_t *ev[LIVE_OUT_MAX];
    size_t n;
} outbox;

static json_t *
out_new(outbox *ob, const char *kind)
{
    if (ob->n == LIVE_OUT_MAX)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "kind", json_string(kind));
    ob->ev[ob->n++] = o;
    return o;
}

/* The telemetry of the members in interval L.tel_t as one event. */
static void
flush_tel(outbox *ob)
{
    if (!L.tel_pending)
        return;
    L.tel_pending = false;
    json_t *o = out_new(ob, "telemetry"), *ms = json_array();
    if (!o || !ms) {
        json_decref(ms);
        return;
    }
    set(o, "interval", json_integer((json_int_t)L.tel_t));
    set(o, "time_h", pgi_json_num(time_of(L.tel_t)));
    for (size_t i = 0; i < L.n_m; i++)
        if (L.m[i].has_tel && L.m[i].tel_t == L.tel_t) {
            json_t *m = tel_json(&L.m[i]);
            if (m)
                set(m, "node", pgi_json_str(L.m[i].name));
            json_array_append_new(ms, m);
        }
    set(o, "members", ms);
}

static void
flush_set(outbox *ob)
{
    if (!L.set_pending)
        return;
    L.set_pending = false;
    json_t *o = out_new(ob, "settled"), *ms = json_array();
    if (!o || !ms) {
        json_decref(ms);
        return;
    }
    set(o, "interval", json_integer((json_int_t)L.set_t));
    set(o, "time_h", pgi_json_num(time_of(L.set_t)));
    for (size_t i = 0; i < L.n_m; i++)
        if (L.m[i].has_set && L.m[i].set_t == L.set_t) {
            json_t *m = set_json(&L.m[i]);
            if (m)
                set(m, "node", pgi_json_str(L.m[i].name));
            json_array_append_new(ms, m);
        }
    set(o, "members", ms);
}

static void
publish_all(pgh_server *s, outbox *ob)
{
    for (size_t k = 0; k < ob->n; k++) {
        if (s)
            pgh_events_publish(s, "live", ob->ev[k]);
        else
            json_decref(ob->ev[k]);
    }
    ob->n = 0;
}

void
pgh_live_begin(pgh_server *s, const char *source, const char *community, const char *const *members,
               size_t n_members, size_t intervals, double step_h)
{
    outbox ob = {.n = 0};
    pthread_mutex_lock(&L.mu);
    reset();
    L.begun = L.active = true;
    L.server = s;
    L.source = pgi_strdup(source ? source : "");
    L.community = pgi_strdup(community ? community : "");
    L.intervals = intervals;
    L.step_h = step_h;
    L.hist = calloc(LIVE_HISTORY, sizeof *L.hist);
    L.m = calloc(n_members ? n_members : 1, sizeof *L.m);
    L.bids = calloc(n_members ? n_members : 1, sizeof *L.bids);
    if (L.m && L.bids)
        for (size_t i = 0; i < n_members; i++) {
            if (!(L.m[i].name = pgi_strdup(members[i] ? members[i] : "")))
                break;
            L.m[i].soc = NAN;
            L.n_m++;
        }
    json_t *o = out_new(&ob, "begin");
    if (o) {
        set(o, "source", str_or_null(L.source));
        set(o, "community", str_or_null(L.community));
        set(o, "intervals", json_integer((json_int_t)intervals));
        set(o, "step_h", pgi_json_num(step_h));
        json_t *ms = json_array();
        for (size_t i = 0; ms && i < L.n_m; i++)
            json_array_append_new(ms, pgi_json_str(L.m[i].name));
        set(o, "members", ms);
    }
    pthread_mutex_unlock(&L.mu);
    publish_all(s, &ob);
}

void
pgh_live_event(void *ud, const pg_community_event *ev)
{
    pgh_server *s = ud;
    outbox ob = {.n = 0};
    if (!ev)
        return;
    pthread_mutex_lock(&L.mu);
    if (!L.begun || L.server != s) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    size_t t = ev->interval, mi = 0;
    lmember *x = member_of(ev->node, &mi);
    const char *kind = pg_community_event_name(ev->kind);
    json_t *o = NULL;
    switch (ev->kind) {
    case PG_COMMUNITY_EVENT_MEMBER:
        if (x)
            x->up = ev->up;
        if ((o = out_new(&ob, kind))) {
            set(o, "node", str_or_null(ev->node));
            set(o, "up", json_boolean(ev->up));
        }
        break;
    case PG_COMMUNITY_EVENT_OPERATOR:
        snprintf(L.op, sizeof L.op, "%s", ev->node ? ev->node : "");
        L.term = ev->term;
        if ((o = out_new(&ob, kind))) {
            set(o, "node", str_or_null(ev->node));
            set(o, "term", json_integer((json_int_t)ev->term));
        }
        break;
    case PG_COMMUNITY_EVENT_OPEN:
        flush_tel(&ob);
        flush_set(&ob);
        L.has_cur = true;
        L.cur_t = t;
        L.cur_cleared = false;
        L.n_bids = 0;
        (void)hist_of(t);
        if ((o = out_new(&ob, kind))) {
            set(o, "interval", json_integer((json_int_t)t));
            set(o, "time_h", pgi_json_num(ev->time_h));
        }
        break;
    case PG_COMMUNITY_EVENT_BID:
        if (x && L.has_cur && t == L.cur_t) {
            size_t k = 0;
            while (k < L.n_bids && L.bids[k].member != mi)
                k++;
            if (k < L.n_m) {
                L.bids[k] = (lbid){mi, ev->buy_kwh, ev->sell_kwh, ev->price};
                if (k == L.n_bids)
                    L.n_bids++;
            }
        }
        if ((o = out_new(&ob, kind))) {
            set(o, "interval", json_integer((json_int_t)t));
            set(o, "node", str_or_null(ev->node));
            set(o, "buy_kwh", pgi_json_num(ev->buy_kwh));
            set(o, "sell_kwh", pgi_json_num(ev->sell_kwh));
            set(o, "price", pgi_json_num(ev->price));
        }
        break;
    case PG_COMMUNITY_EVENT_CLEARED: {
        flush_tel(&ob);
        flush_set(&ob);
        L.has_clear = true;
        L.clear_t = t;
        L.clear_price = ev->price;
        L.clear_volume = ev->volume_kwh;
        if (L.has_cur && L.cur_t == t)
            L.cur_cleared = true;
        lhist *h = hist_of(t);
        if (h) {
            h->cleared = true;
            h->price = ev->price;
            h->volume = ev->volume_kwh;
        }
        if ((o = out_new(&ob, kind))) {
            set(o, "interval", json_integer((json_int_t)t));
            set(o, "time_h", pgi_json_num(ev->time_h));
            set(o, "price", pgi_json_num(ev->price));
            set(o, "volume_kwh", pgi_json_num(ev->volume_kwh));
        }
        break;
    }
    case PG_COMMUNITY_EVENT_SETTLED: {
        if (L.set_pending && L.set_t != t)
            flush_set(&ob);
        if (x) {
            x->has_set = true;
            x->set_t = t;
            x->bought = ev->buy_kwh;
            x->sold = ev->sell_kwh;
            x->simp = ev->import_kwh;
            x->sexp = ev->export_kwh;
            x->amount = ev->amount;
            x->price = ev->price;
            L.set_pending = true;
            L.set_t = t;
        }
        lhist *h = hist_of(t);
        if (h) {
            h->imp += isfinite(ev->import_kwh) ? ev->import_kwh : 0;
            h->exp += isfinite(ev->export_kwh) ? ev->export_kwh : 0;
        }
        break;
    }
    case PG_COMMUNITY_EVENT_TELEMETRY: {
        if (L.tel_pending && L.tel_t != t)
            flush_tel(&ob);
        if (x) {
            x->has_tel = true;
            x->tel_t = t;
            x->load = ev->load_kwh;
            x->pv = ev->pv_kwh;
            x->soc = ev->soc_kwh;
            x->imp = ev->import_kwh;
            x->exp = ev->export_kwh;
            L.tel_pending = true;
            L.tel_t = t;
        }
        lhist *h = hist_of(t);
        if (h) {
            h->load += isfinite(ev->load_kwh) ? ev->load_kwh : 0;
            h->pv += isfinite(ev->pv_kwh) ? ev->pv_kwh : 0;
        }
        break;
    }
    case PG_COMMUNITY_EVENT_DR: {
        ldr *d = &L.dr[L.dr_total++ % LIVE_DR_MAX];
        snprintf(d->id, sizeof d->id, "%s", ev->dr_id ? ev->dr_id : "");
        snprintf(d->node, sizeof d->node, "%s", ev->node ? ev->node : "");
        d->start_h = ev->dr_start_h;
        d->end_h = ev->dr_end_h;
        d->kw = ev->dr_kw;
        if ((o = out_new(&ob, kind))) {
            json_t *dj = dr_json(d);
            if (dj)
                json_object_update(o, dj);
            json_decref(dj);
        }
        break;
    }
    case PG_COMMUNITY_EVENT_DONE:
        flush_tel(&ob);
        flush_set(&ob);
        L.done = true;
        out_new(&ob, kind);
        break;
    case PG_COMMUNITY_EVENT_CONNECTION:
        L.has_conn = true;
        L.connected = ev->up;
        snprintf(L.server_url, sizeof L.server_url, "%s", ev->server ? ev->server : "");
        if ((o = out_new(&ob, kind))) {
            set(o, "server", str_or_null(ev->server));
            set(o, "up", json_boolean(ev->up));
        }
        break;
    }
    pthread_mutex_unlock(&L.mu);
    publish_all(s, &ob);
}

void
pgh_live_end(pgh_server *s)
{
    outbox ob = {.n = 0};
    pthread_mutex_lock(&L.mu);
    if (L.begun && L.server == s) {
        flush_tel(&ob);
        flush_set(&ob);
        L.active = false;
        json_t *o = out_new(&ob, "end");
        if (o)
            set(o, "done", json_boolean(L.done));
    }
    pthread_mutex_unlock(&L.mu);
    publish_all(s, &ob);
}

/* The server stops: the state it fed goes with it (nothing may publish to it any more). */
void
pgh_live_forget(pgh_server *s)
{
    pthread_mutex_lock(&L.mu);
    if (L.server == s)
        reset();
    pthread_mutex_unlock(&L.mu);
}

/* ---------------------------------------------------------------- GET /api/live */

static int
get_live(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)s;
    size_t max_history = 0;
    const char *q = pgh_request_query(rq, "history");
    if (q) {
        char *end = NULL;
        unsigned long long v = q[0] >= '0' && q[0] <= '9' ? strtoull(q, &end, 10) : 0;
        if (!end || *end || v > LIVE_HISTORY)
            return pgh_reply_error(rp, 400, "invalid",
                                   "history must be a whole number from 0 to %d (the intervals "
                                   "of history returned; 0: all kept)",
                                   LIVE_HISTORY);
        max_history = (size_t)v;
    }
    pthread_mutex_lock(&L.mu);
    json_t *v = state_json(max_history);
    pthread_mutex_unlock(&L.mu);
    if (!v)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    return pgh_reply_json(rp, 200, v, err);
}

static const pgh_route live_routes[] = {
    {"GET", "/api/live", get_live,
     "the live state of the current (or last) community run: members, telemetry, the interval's "
     "bids and clearing, DR events, history"},
};

const pgh_route_set pgh_routes_live = {live_routes, sizeof live_routes / sizeof *live_routes};
