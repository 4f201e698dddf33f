/* The community runner: one run of one variant, interval by interval, with the nodes and the
 * market operator as actors on an in-process bus (lattice.h). They never call each other: per
 * interval the operator publishes the demand-response events that become known, holds a rental
 * round of the shared batteries when one is due, publishes "open" (the interval and its price
 * forecast); the nodes plan and answer with their bids; the operator clears the book (the
 * mechanism of the table, or the grid-aware clearing when the scenario names a feeder), publishes
 * each node's award; each node runs its devices and publishes its meter reading; the operator
 * settles every node with the exact balance check and adds the interval to the metrics.
 *
 * The node side is one "host" that subscribes once to each subject and hands a message to the
 * node actor it names, as a process hosting many nodes does; a node's state is touched only by
 * the host's handlers, the operator's only by the operator's. Messages are the binary encoding of
 * msg.c; a malformed one is counted and dropped. See docs/community.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community/internal.h"
#include "community/msg.h"
#include "core/util.h"
#include "plurigrid/lattice.h"

#define FLUSH_TIMEOUT_S 600

/* ---------------------------------------------------------------- subjects */

typedef struct subjects {
    char open[PG_BUS_MAX_SUBJECT + 1], bid[PG_BUS_MAX_SUBJECT + 1], dr[PG_BUS_MAX_SUBJECT + 1];
    char award_all[PG_BUS_MAX_SUBJECT + 1], telemetry_all[PG_BUS_MAX_SUBJECT + 1];
    char share_all[PG_BUS_MAX_SUBJECT + 1], share_report[PG_BUS_MAX_SUBJECT + 1];
    const char *token;
} subjects;

static void
make_subjects(subjects *s, const char *token)
{
    s->token = token;
    snprintf(s->open, sizeof s->open, "pg.%s.market.open", token);
    snprintf(s->bid, sizeof s->bid, "pg.%s.market.bid", token);
    snprintf(s->dr, sizeof s->dr, "pg.%s.dr.event", token);
    snprintf(s->award_all, sizeof s->award_all, "pg.%s.market.award.*", token);
    snprintf(s->telemetry_all, sizeof s->telemetry_all, "pg.%s.telemetry.*", token);
    snprintf(s->share_all, sizeof s->share_all, "pg.%s.share.node.*", token);
    snprintf(s->share_report, sizeof s->share_report, "pg.%s.share.report", token);
}

/* The last token of a subject. */
static const char *
last_token(const char *subject)
{
    const char *dot = strrchr(subject, '.');
    return dot ? dot + 1 : subject;
}

/* ---------------------------------------------------------------- the node side */

typedef struct actor {
    pg_node *node;
    const cm_node *cn;
    size_t n_inputs;
    const double **forecast; /* [n_inputs] */
    double *actual;          /* [n_inputs] */
    pg_dr_event *events;
    size_t n_events, cap_events;
    pg_node_env env;
    pg_node_plan plan;
    bool planned;
} actor;

typedef struct host {
    const pg_community *c;
    size_t variant;
    pg_bus *bus;
    const subjects *sj;
    actor *a;
    size_t n;
    pgi_msg_open open;
    uint64_t dropped;
    int rc;
    pg_error err;
} host;

static void
host_fail(host *h, int rc, const pg_error *e)
{
    if (!h->rc) {
        h->rc = rc;
        if (e)
            h->err = *e;
    }
}

static int
publish(pg_bus *bus, const char *subject, uint8_t *data, size_t len, pg_error *err)
{
    int rc = pg_bus_publish(bus, subject, data, len, err);
    free(data);
    return rc;
}

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

static void
on_open(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    host *h = ctx;
    pg_error e = {0};
    pgi_msg_open o;
    if (h->rc)
        return;
    if (pgi_msg_decode_open(data, len, &o, &e) || o.interval >= h->c->n) {
        h->dropped++;
        return;
    }
    h->open = o;
    const pg_community *c = h->c;
    size_t t = o.interval;
    size_t horizon = o.horizon;
    if (horizon > c->n - t)
        horizon = c->n - t;
    for (size_t i = 0; i < h->n; i++) {
        actor *a = &h->a[i];
        expire_events(a, o.time_h);
        for (size_t k = 0; k < a->n_inputs; k++) {
            a->forecast[k] = a->cn->inputs[h->variant][k] + t;
            a->actual[k] = a->cn->inputs[h->variant][k][t];
        }
        a->env = (pg_node_env){
            .t = t,
            .hours = o.hours,
            .time_h = o.time_h,
            .hour_of_day = o.hour_of_day,
            .horizon = horizon,
            .retail = h->open.retail,
            .feed_in = h->open.feed_in,
            .grid_connected = c->connected,
            .forecast = a->forecast,
            .actual = a->actual,
            .n_events = a->n_events,
            .events = a->events,
        };
        a->planned = false;
        int rc = pg_node_bid(a->node, &a->env, &a->plan, &e);
        if (rc) {
            host_fail(h, rc, &e);
            return;
        }
        a->planned = true;
        if (!o.market || a->plan.n_points == 0)
            continue;
        pgi_msg_bid b = {
            .interval = (uint32_t)t, .node = (uint32_t)i, .n_points = (uint8_t)a->plan.n_points};
        memcpy(b.curve, a->plan.curve, a->plan.n_points * sizeof *b.curve);
        uint8_t *buf;
        size_t blen;
        if ((rc = pgi_msg_encode_bid(&b, &buf, &blen, &e)) ||
            (rc = publish(h->bus, h->sj->bid, buf, blen, &e))) {
            host_fail(h, rc, &e);
            return;
        }
    }
}

static void
on_award(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    host *h = ctx;
    pg_error e = {0};
    pgi_msg_award aw;
    if (h->rc)
        return;
    if (pgi_msg_decode_award(data, len, &aw, &e) || aw.node >= h->n ||
        aw.interval != h->open.interval ||
        strcmp(last_token(subject), h->a[aw.node].cn->name) != 0 || !h->a[aw.node].planned) {
        h->dropped++;
        return;
    }
    actor *a = &h->a[aw.node];
    a->planned = false;        /* one award per interval */
    a->env.events = a->events; /* an event message may have come since the bid */
    a->env.n_events = a->n_events;
    pgi_msg_telemetry tm = {.interval = aw.interval, .node = aw.node};
    int rc = pg_node_operate(a->node, &a->env, aw.cleared_kwh, aw.price, &tm.step, &e);
    if (rc) {
        host_fail(h, rc, &e);
        return;
    }
    char subj[PG_BUS_MAX_SUBJECT + 1];
    snprintf(subj, sizeof subj, "pg.%s.telemetry.%s", h->sj->token, a->cn->name);
    uint8_t *buf;
    size_t blen;
    if ((rc = pgi_msg_encode_telemetry(&tm, &buf, &blen, &e)) ||
        (rc = publish(h->bus, subj, buf, blen, &e)))
        host_fail(h, rc, &e);
}

static void
on_dr(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    host *h = ctx;
    pg_error e = {0};
    pgi_msg_dr d;
    if (h->rc)
        return;
    if (pgi_msg_decode_dr(data, len, &d, &e)) {
        h->dropped++;
        return;
    }
    if (d.n_targets != PGI_MSG_ALL)
        for (uint32_t k = 0; k < d.n_targets; k++)
            if (d.targets[k] >= h->n) {
                h->dropped++;
                free(d.targets);
                return;
            }
    for (size_t i = 0; i < h->n; i++) {
        bool target = d.n_targets == PGI_MSG_ALL;
        for (uint32_t k = 0; !target && k < d.n_targets; k++)
            target = d.targets[k] == i;
        if (!target)
            continue;
        actor *a = &h->a[i];
        size_t k = 0;
        while (k < a->n_events && strcmp(a->events[k].id, d.event.id) != 0)
            k++;
        if (k < a->n_events) {
            /* A higher modification replaces the event; an older one is stale. */
            if (d.event.modification > a->events[k].modification)
                a->events[k] = d.event;
        } else {
            if (a->n_events == a->cap_events) {
                size_t cap = a->cap_events ? 2 * a->cap_events : 4;
                pg_dr_event *ev = realloc(a->events, cap * sizeof *ev);
                if (!ev) {
                    pg_error_set(&e, PG_ENOMEM, "out of memory");
                    host_fail(h, PG_ENOMEM, &e);
                    break;
                }
                a->events = ev;
                a->cap_events = cap;
            }
            a->events[a->n_events++] = d.event;
        }
    }
    /* Cancelled events stop at once. */
    for (size_t i = 0; i < h->n; i++) {
        actor *a = &h->a[i];
        size_t k = 0;
        for (size_t j = 0; j < a->n_events; j++)
            if (!a->events[j].cancelled)
                a->events[k++] = a->events[j];
        a->n_events = k;
    }
    free(d.targets);
}

static void
on_share(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    host *h = ctx;
    pg_error e = {0};
    pgi_msg_type type;
    pgi_msg_pack p;
    if (h->rc)
        return;
    if (pgi_msg_type_of(data, len, &type, &e) || (type != PGI_MSG_DOCK && type != PGI_MSG_UNDOCK) ||
        pgi_msg_decode_pack(type, data, len, &p, &e) || p.node >= h->n ||
        strcmp(last_token(subject), h->a[p.node].cn->name) != 0) {
        h->dropped++;
        return;
    }
    actor *a = &h->a[p.node];
    int rc;
    if (type == PGI_MSG_DOCK) {
        if ((rc = pg_node_dock(a->node, p.pack, p.capacity_kwh, p.power_kw, p.soc_kwh, &e)))
            host_fail(h, rc, &e);
        return;
    }
    double soc = 0;
    if ((rc = pg_node_undock(a->node, p.pack, &soc, &e))) {
        host_fail(h, rc, &e);
        return;
    }
    pgi_msg_pack rep = {.node = p.node, .pack = p.pack, .soc_kwh = soc};
    uint8_t *buf;
    size_t blen;
    if ((rc = pgi_msg_encode_pack(PGI_MSG_PACK, &rep, &buf, &blen, &e)) ||
        (rc = publish(h->bus, h->sj->share_report, buf, blen, &e)))
        host_fail(h, rc, &e);
}

/* ---------------------------------------------------------------- the operator */

typedef struct operator_ {
    const pg_community *c;
    size_t n;
    uint32_t interval;
    pgi_msg_bid *bids;
    bool *has_bid;
    pg_node_step *tel;
    bool *has_tel;
    double *pack_soc; /* per pack: the state of charge last reported */
    bool *pack_reported;
    uint64_t dropped;
} operator_;

static void
on_bid(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    operator_ *op = ctx;
    pg_error e = {0};
    pgi_msg_bid b;
    if (pgi_msg_decode_bid(data, len, &b, &e) || b.node >= op->n || b.interval != op->interval ||
        op->has_bid[b.node]) {
        op->dropped++;
        return;
    }
    op->bids[b.node] = b;
    op->has_bid[b.node] = true;
}

static void
on_telemetry(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    operator_ *op = ctx;
    pg_error e = {0};
    pgi_msg_telemetry m;
    if (pgi_msg_decode_telemetry(data, len, &m, &e) || m.node >= op->n ||
        m.interval != op->interval || op->has_tel[m.node] ||
        strcmp(last_token(subject), op->c->nodes[m.node].name) != 0) {
        op->dropped++;
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
    operator_ *op = ctx;
    pg_error e = {0};
    pgi_msg_pack p;
    if (pgi_msg_decode_pack(PGI_MSG_PACK, data, len, &p, &e) || p.pack >= op->c->n_packs) {
        op->dropped++;
        return;
    }
    op->pack_soc[p.pack] = p.soc_kwh;
    op->pack_reported[p.pack] = true;
}

/* ---------------------------------------------------------------- one run */

typedef struct run_state {
    const pg_community *c;
    const cm_run_spec *spec;
    pg_bus *bus;
    subjects sj;
    host h;
    operator_ op;
    pg_market_book book;
    pg_market_settlement *s;
    double *metered, *inj_kw, *cleared, *paid;
    /* sharing */
    uint32_t *holder;  /* per pack: the node it is docked at */
    double *short_kwh; /* per node: unserved since the last round */
    double *cost;
    size_t *cand;
    unsigned char *win;
    double *pay;
    uint32_t *order;
} run_state;

static uint64_t
mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double
hour_of_day(const pg_community *c, size_t t)
{
    double h = fmod(c->start_hour + (double)(c->first + t) * c->step_h, 24.0);
    return h < 0 ? h + 24 : h;
}

static int
flush(run_state *st, pg_error *err)
{
    int rc = pg_bus_flush(st->bus, FLUSH_TIMEOUT_S, err);
    if (rc)
        return rc;
    if (st->h.rc) {
        if (err)
            *err = st->h.err;
        return st->h.rc;
    }
    return PG_OK;
}

static int
send_pack(run_state *st, pgi_msg_type type, uint32_t node, uint32_t pack, double soc, pg_error *err)
{
    const cm_pack *p = &st->c->packs[pack];
    pgi_msg_pack m = {.node = node,
                      .pack = pack,
                      .capacity_kwh = p->capacity_kwh,
                      .power_kw = p->power_kw,
                      .soc_kwh = soc};
    char subj[PG_BUS_MAX_SUBJECT + 1];
    snprintf(subj, sizeof subj, "pg.%s.share.node.%s", st->c->token, st->c->nodes[node].name);
    uint8_t *buf;
    size_t len;
    int rc = pgi_msg_encode_pack(type, &m, &buf, &len, err);
    return rc ? rc : publish(st->bus, subj, buf, len, err);
}

/* A rental round: packs come home, then every short node (unserved energy since the last round)
 * procures one charged pack through the VCG reverse auction among the packs at owners that were
 * not short themselves; the winner's owner is paid the VCG price by the renter. */
static int
share_round(run_state *st, pg_community_run *run, pg_error *err)
{
    const pg_community *c = st->c;
    int rc;
    size_t np = c->n_packs;
    /* 1. Rented packs come home. */
    memset(st->op.pack_reported, 0, np * sizeof *st->op.pack_reported);
    bool any = false;
    for (uint32_t k = 0; k < np; k++)
        if (st->holder[k] != c->packs[k].owner) {
            if ((rc = send_pack(st, PGI_MSG_UNDOCK, st->holder[k], k, 0, err)))
                return rc;
            any = true;
        }
    if (any && (rc = flush(st, err)))
        return rc;
    for (uint32_t k = 0; k < np; k++)
        if (st->holder[k] != c->packs[k].owner) {
            if (!st->op.pack_reported[k])
                return pg_error_set(err, PG_ESTATE, "pack %u was not reported when it left", k);
            st->holder[k] = c->packs[k].owner;
            if ((rc = send_pack(st, PGI_MSG_DOCK, st->holder[k], k, st->op.pack_soc[k], err)))
                return rc;
        }
    if (any && (rc = flush(st, err)))
        return rc;
    /* 2. Who is short. */
    size_t n_short = 0;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        if (st->short_kwh[i] > 1e-9)
            st->order[n_short++] = i;
    run->share_rounds++;
    if (n_short == 0)
        return PG_OK;
    /* Most short first, then by index (insertion sort: the order is the same everywhere). */
    for (size_t i = 1; i < n_short; i++) {
        uint32_t x = st->order[i];
        size_t j = i;
        while (j > 0 && st->short_kwh[st->order[j - 1]] < st->short_kwh[x]) {
            st->order[j] = st->order[j - 1];
            j--;
        }
        st->order[j] = x;
    }
    /* 3. The packs at owners with surplus show their charge. */
    memset(st->op.pack_reported, 0, np * sizeof *st->op.pack_reported);
    any = false;
    for (uint32_t k = 0; k < np; k++)
        if (st->short_kwh[c->packs[k].owner] <= 1e-9) {
            if ((rc = send_pack(st, PGI_MSG_UNDOCK, c->packs[k].owner, k, 0, err)))
                return rc;
            any = true;
        }
    if (!any)
        return PG_OK;
    if ((rc = flush(st, err)))
        return rc;
    /* 4. One reverse auction per short node. */
    for (size_t s = 0; s < n_short; s++) {
        uint32_t renter = st->order[s];
        size_t nc = 0;
        for (uint32_t k = 0; k < np; k++)
            if (st->op.pack_reported[k] && st->holder[k] == c->packs[k].owner &&
                c->packs[k].owner != renter &&
                st->op.pack_soc[k] >= c->share_min_soc * c->packs[k].capacity_kwh - 1e-9) {
                st->cand[nc] = k;
                st->cost[nc] = c->packs[k].cost;
                nc++;
            }
        if (nc == 0)
            break;
        size_t won = 0;
        if ((rc = pg_market_vcg_procure(st->cost, nc, 1, c->share_reserve, st->win, st->pay, &won,
                                        err)))
            return rc;
        for (size_t j = 0; j < nc && won; j++)
            if (st->win[j]) {
                uint32_t k = (uint32_t)st->cand[j];
                st->holder[k] = renter;
                run->node[renter].rental_paid += st->pay[j];
                run->node[renter].rentals++;
                run->node[c->packs[k].owner].rental_received += st->pay[j];
                run->share_rented++;
            }
    }
    /* 5. Packs go where they are now held. */
    for (uint32_t k = 0; k < np; k++)
        if (st->op.pack_reported[k] &&
            (rc = send_pack(st, PGI_MSG_DOCK, st->holder[k], k, st->op.pack_soc[k], err)))
            return rc;
    if ((rc = flush(st, err)))
        return rc;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        st->short_kwh[i] = 0;
    return PG_OK;
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

static void
add_step(pg_community_metrics *m, const pg_node_step *sp, const pg_market_settlement *s,
         bool connected, double hours)
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

static void
free_state(run_state *st)
{
    pg_bus_close(st->bus);
    /* every actor allocated, including one whose node failed to start */
    for (size_t i = 0; st->h.a && i < st->c->n_nodes; i++) {
        pg_node_free(st->h.a[i].node);
        free((void *)st->h.a[i].forecast);
        free(st->h.a[i].actual);
        free(st->h.a[i].events);
    }
    free(st->h.a);
    free(st->op.bids);
    free(st->op.has_bid);
    free(st->op.tel);
    free(st->op.has_tel);
    free(st->op.pack_soc);
    free(st->op.pack_reported);
    pg_market_book_free(&st->book);
    free(st->s);
    free(st->metered);
    free(st->inj_kw);
    free(st->cleared);
    free(st->paid);
    free(st->holder);
    free(st->short_kwh);
    free(st->cost);
    free(st->cand);
    free(st->win);
    free(st->pay);
    free(st->order);
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

static int
setup(run_state *st, const pg_community *c, const cm_run_spec *spec, cm_trace *tr, pg_error *err)
{
    size_t n = c->n_nodes, T = c->n, np = c->n_packs;
    int rc;
    st->c = c;
    st->spec = spec;
    make_subjects(&st->sj, c->token);
    pg_market_book_init(&st->book);
    pg_community_run *run = &tr->run;
    tr->n_nodes = n;
    tr->n = T;
    if (!(tr->net = calloc(n * T, sizeof *tr->net)) ||
        !(run->node = calloc(n, sizeof *run->node)) || !(run->price = malloc(T * sizeof(double))) ||
        !(run->volume_kwh = calloc(T, sizeof(double))) ||
        !(run->load_kwh = calloc(T, sizeof(double))) ||
        !(run->pv_kwh = calloc(T, sizeof(double))) ||
        !(run->grid_import_kwh = calloc(T, sizeof(double))) ||
        !(run->grid_export_kwh = calloc(T, sizeof(double))) ||
        !(run->unserved_kwh = calloc(T, sizeof(double))) ||
        !(run->mechanism = pgi_strdup(spec->mech ? spec->mech->name : "none")) ||
        !(st->h.a = calloc(n, sizeof *st->h.a)) ||
        !(st->op.bids = calloc(n, sizeof *st->op.bids)) ||
        !(st->op.has_bid = calloc(n, sizeof *st->op.has_bid)) ||
        !(st->op.tel = calloc(n, sizeof *st->op.tel)) ||
        !(st->op.has_tel = calloc(n, sizeof *st->op.has_tel)) ||
        !(st->op.pack_soc = calloc(np + 1, sizeof(double))) ||
        !(st->op.pack_reported = calloc(np + 1, sizeof(bool))) ||
        !(st->s = calloc(n, sizeof *st->s)) || !(st->metered = calloc(n, sizeof(double))) ||
        !(st->inj_kw = calloc(n, sizeof(double))) || !(st->cleared = calloc(n, sizeof(double))) ||
        !(st->paid = calloc(n, sizeof(double))) ||
        !(st->holder = calloc(np + 1, sizeof *st->holder)) ||
        !(st->short_kwh = calloc(n, sizeof(double))) ||
        !(st->cost = calloc(np + 1, sizeof(double))) ||
        !(st->cand = calloc(np + 1, sizeof(size_t))) || !(st->win = calloc(np + 1, 1)) ||
        !(st->pay = calloc(np + 1, sizeof(double))) || !(st->order = calloc(n, sizeof *st->order)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    run->n_nodes = n;
    run->grid_aware = spec->mech && c->feeder;
    run->vm_min = run->vm_max = run->loading_max = NAN;
    run->pack_utilisation = NAN;
    if ((rc = pg_bus_open(&st->bus, "inproc", NULL, err)))
        return rc;
    st->h.c = c;
    st->h.variant = spec->variant;
    st->h.bus = st->bus;
    st->h.sj = &st->sj;
    st->op.c = c;
    st->op.n = n;
    for (size_t i = 0; i < n; i++) {
        actor *a = &st->h.a[i];
        a->cn = &c->nodes[i];
        const pg_node_config *cfg = a->cn->cfg[spec->variant];
        a->n_inputs = pg_node_config_n_inputs(cfg);
        if (!(a->forecast = calloc(a->n_inputs + 1, sizeof *a->forecast)) ||
            !(a->actual = calloc(a->n_inputs + 1, sizeof *a->actual)))
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        if ((rc = pg_node_new(&a->node, cfg, (uint32_t)i, mix64(spec->seed ^ mix64(i)), err))) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            if (err)
                snprintf(err->msg, sizeof err->msg, "node '%.63s': %.690s", a->cn->name, msg);
            return rc;
        }
        st->h.n++;
    }
    uint64_t sid;
    if ((rc = pg_bus_subscribe(st->bus, st->sj.open, on_open, &st->h, &sid, err)) ||
        (rc = pg_bus_subscribe(st->bus, st->sj.award_all, on_award, &st->h, &sid, err)) ||
        (rc = pg_bus_subscribe(st->bus, st->sj.dr, on_dr, &st->h, &sid, err)) ||
        (rc = pg_bus_subscribe(st->bus, st->sj.share_all, on_share, &st->h, &sid, err)) ||
        (rc = pg_bus_subscribe(st->bus, st->sj.bid, on_bid, &st->op, &sid, err)) ||
        (rc = pg_bus_subscribe(st->bus, st->sj.telemetry_all, on_telemetry, &st->op, &sid, err)) ||
        (rc = pg_bus_subscribe(st->bus, st->sj.share_report, on_pack_report, &st->op, &sid, err)))
        return rc;
    if (spec->hook)
        spec->hook(st->bus, spec->hook_ud);
    /* Every pack starts at its owner. */
    for (uint32_t k = 0; k < np; k++) {
        st->holder[k] = c->packs[k].owner;
        if ((rc = send_pack(st, PGI_MSG_DOCK, c->packs[k].owner, k, c->packs[k].soc0_kwh, err)))
            return rc;
    }
    return np ? flush(st, err) : PG_OK;
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

static int
play_interval(run_state *st, size_t t, cm_trace *tr, pg_error *err)
{
    const pg_community *c = st->c;
    const cm_run_spec *spec = st->spec;
    pg_community_run *run = &tr->run;
    size_t n = c->n_nodes;
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
            if ((rc = pgi_msg_encode_dr(&d, &buf, &len, err)) ||
                (rc = publish(st->bus, st->sj.dr, buf, len, err)))
                return rc;
        }
    double hod = hour_of_day(c, t);
    if (spec->sharing && hod <= c->share_hour + 1e-9 && c->share_hour < hod + hours - 1e-9 &&
        t > 0 && (rc = share_round(st, run, err)))
        return rc;
    /* Open the interval. */
    st->op.interval = (uint32_t)t;
    memset(st->op.has_bid, 0, n * sizeof *st->op.has_bid);
    memset(st->op.has_tel, 0, n * sizeof *st->op.has_tel);
    pgi_msg_open o = {.interval = (uint32_t)t,
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
    uint8_t *buf;
    size_t len;
    if ((rc = pgi_msg_encode_open(&o, &buf, &len, err)) ||
        (rc = publish(st->bus, st->sj.open, buf, len, err)) || (rc = flush(st, err)))
        return rc;
    /* Clear. */
    pg_market_grid grid = {.retail = c->connected ? c->retail[t] : INFINITY,
                           .feed_in = c->connected ? c->feed_in[t] : -INFINITY,
                           .connected = c->connected};
    pg_market_book_clear(&st->book);
    for (size_t i = 0; i < n; i++)
        if (st->op.has_bid[i] &&
            (rc = pg_market_book_add_curve(&st->book, (uint32_t)i, st->op.bids[i].curve,
                                           st->op.bids[i].n_points, err)))
            return node_error(c, i, rc, err);
    pg_market_result res;
    memset(&res, 0, sizeof res);
    pg_market_network net = {0};
    if (c->feeder) {
        net = (pg_market_network){.world = c->feeder,
                                  .n_nodes = n,
                                  .node_bus = c->node_bus,
                                  .hours = hours,
                                  .substation_kw = c->substation_kw};
    }
    if (spec->mech && c->feeder)
        rc = pg_market_clear_network(&st->book, &grid, &net, &res, err);
    else if (spec->mech)
        rc = spec->mech->clear(&st->book, &grid, &res, err);
    else
        rc = pg_market_clear_uniform(&st->book, &grid, &res, err); /* an empty book */
    if (rc)
        return rc;
    /* Awards: each node's cleared quantity and its average price. */
    for (size_t i = 0; i < n; i++)
        st->cleared[i] = st->paid[i] = 0;
    for (size_t k = 0; k < st->book.n && k < res.n_fills; k++) {
        const pg_market_order *od = &st->book.orders[k];
        double q = res.fills[k].qty;
        if (q <= 0)
            continue;
        double sg = od->side == PG_MARKET_BUY ? 1 : -1;
        st->cleared[od->node] += sg * q;
        st->paid[od->node] += q * res.fills[k].price;
    }
    for (size_t i = 0; i < n; i++) {
        double vol = 0;
        for (size_t k = 0; k < st->book.n && k < res.n_fills; k++)
            if (st->book.orders[k].node == i)
                vol += res.fills[k].qty;
        pgi_msg_award aw = {.interval = (uint32_t)t,
                            .node = (uint32_t)i,
                            .cleared_kwh = st->cleared[i],
                            .price = vol > 0 ? st->paid[i] / vol : 0};
        char subj[PG_BUS_MAX_SUBJECT + 1];
        snprintf(subj, sizeof subj, "pg.%s.market.award.%s", c->token, c->nodes[i].name);
        if ((rc = pgi_msg_encode_award(&aw, &buf, &len, err)) ||
            (rc = publish(st->bus, subj, buf, len, err))) {
            pg_market_result_free(&res);
            return rc;
        }
    }
    if ((rc = flush(st, err))) {
        pg_market_result_free(&res);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (!st->op.has_tel[i]) {
            pg_market_result_free(&res);
            return pg_error_set(err, PG_ESTATE, "node '%s' sent no meter reading in interval %zu",
                                c->nodes[i].name, t);
        }
        st->metered[i] = st->op.tel[i].import_kwh - st->op.tel[i].export_kwh;
    }
    /* Settle, with the balance check. */
    rc = pg_market_settle(&st->book, &res, &grid, st->metered, n, st->s, err);
    if (rc) {
        pg_market_result_free(&res);
        return rc;
    }
    run->price[t] = res.volume > 0 ? res.price : NAN;
    run->volume_kwh[t] = res.volume;
    if (spec->mech && c->feeder)
        run->volume_kwh[t] = split_grid_trades(st->s, n);
    for (size_t i = 0; i < n; i++)
        run->operator_surplus += st->s[i].paid - st->s[i].received;
    if (st->spec->mech && res.volume > 0 && !isfinite(res.price)) {
        /* Nodal prices, pay-as-bid or continuous trades: the mean price of the trades, buyers'
         * and sellers' fills weighted by their quantities. */
        double q = 0, m = 0;
        for (size_t k = 0; k < res.n_fills; k++) {
            q += res.fills[k].qty;
            m += res.fills[k].qty * res.fills[k].price;
        }
        run->price[t] = q > 0 ? m / q : NAN;
    }
    pg_market_result_free(&res);
    double gi = 0;
    for (size_t i = 0; i < n; i++) {
        const pg_node_step *sp = &st->op.tel[i];
        add_step(&run->node[i], sp, &st->s[i], c->connected, hours);
        tr->net[i * tr->n + t] = st->metered[i];
        run->load_kwh[t] += sp->load_kwh;
        run->pv_kwh[t] += sp->pv_kwh + sp->pv_spilled_kwh;
        run->grid_import_kwh[t] += c->connected ? st->s[i].grid_import : 0;
        run->grid_export_kwh[t] += c->connected ? st->s[i].grid_export : 0;
        run->unserved_kwh[t] += sp->unserved_kwh + (c->connected ? 0 : st->s[i].grid_import);
        st->short_kwh[i] += sp->unserved_kwh + (c->connected ? 0 : st->s[i].grid_import);
        gi += c->connected ? st->s[i].grid_import : 0;
    }
    if (gi / hours > run->total.peak_import_kw)
        run->total.peak_import_kw = gi / hours;
    /* The AC picture of the interval on the feeder. */
    if (c->feeder && spec->mech) {
        for (size_t i = 0; i < n; i++)
            st->inj_kw[i] = -st->metered[i] / hours;
        pg_market_ac ac;
        memset(&ac, 0, sizeof ac);
        if ((rc = pg_market_ac_check(&net, st->inj_kw, c->power_factor, &ac, err)))
            return rc;
        if (!ac.converged) {
            run->ac_failed++;
        } else {
            if (!(run->vm_min <= ac.vm_min))
                run->vm_min = ac.vm_min;
            if (!(run->vm_max >= ac.vm_max))
                run->vm_max = ac.vm_max;
            if (!(run->loading_max >= ac.loading_max))
                run->loading_max = ac.loading_max;
        }
        pg_market_ac_free(&ac);
    }
    return PG_OK;
}

int
pgi_community_play(const pg_community *c, const cm_run_spec *spec, cm_trace *out, pg_error *err)
{
    run_state st;
    memset(&st, 0, sizeof st);
    cm_trace tr;
    memset(&tr, 0, sizeof tr);
    int rc = setup(&st, c, spec, &tr, err);
    for (size_t t = 0; !rc && t < c->n; t++)
        rc = play_interval(&st, t, &tr, err);
    if (!rc) {
        pg_community_run *run = &tr.run;
        if (spec->sharing && c->n_packs && run->share_rounds)
            run->pack_utilisation =
                (double)run->share_rented / ((double)c->n_packs * (double)run->share_rounds);
        pg_bus_stats bs;
        pg_bus_get_stats(st.bus, &bs);
        run->published = bs.published;
        run->delivered = bs.delivered;
        run->dropped = bs.dropped + st.h.dropped + st.op.dropped;
        double peak = run->total.peak_import_kw;
        memset(&run->total, 0, sizeof run->total);
        run->total.peak_import_kw = peak;
    }
    free_state(&st);
    if (rc) {
        pgi_community_trace_free(&tr);
        return rc;
    }
    *out = tr;
    return PG_OK;
}
