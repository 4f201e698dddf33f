/* Secure aggregation over the lattice's bus (pnet.h): routes the engine's messages between the
 * aggregator and the members on versioned subjects, closes the aggregator's rounds when every
 * member still expected has answered or at the round's deadline (the silent are dropped), and
 * checks every message before the engine sees it: its size, its header (type, sender, recipient)
 * against the subject it came on; the engine then checks the signature, the aggregation, the
 * round and the content. A message refused is counted and logged (its reason, never a value) and
 * changes nothing. */
#include "privacy/pnet.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct pn_ctx pn_ctx;

typedef struct pn_member {
    pn_ctx *x;
    uint32_t id;
    size_t slot;
    pgi_secagg_client *c;
    bool dead;
    char subj[PG_BUS_MAX_SUBJECT];
    uint64_t sid_all, sid_me;
    bool sub_all, sub_me;
} pn_member;

struct pn_ctx {
    const pgi_pnet_round *r;
    const pgi_privacy_engine *E;
    pgi_secagg_server *s;
    pn_member *m;
    char srv[PG_BUS_MAX_SUBJECT], all[PG_BUS_MAX_SUBJECT], base[PG_BUS_MAX_SUBJECT];
    uint64_t sid_srv;
    bool sub_srv;
    pgi_pnet_result *res;
    int rc; /* a bus failure inside a handler */
    pg_error err;
};

static void plog(const pn_ctx *x, pg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
plog(const pn_ctx *x, pg_log_level level, const char *fmt, ...)
{
    if (!x->r->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    x->r->log(x->r->log_ud, level, line);
}

int
pgi_pnet_prefix(char *buf, size_t size, const char *community, const char *session, pg_error *err)
{
    int n = session ? snprintf(buf, size, "pg.%s.%s.privacy.v1", community, session)
                    : snprintf(buf, size, "pg.%s.privacy.v1", community);
    if (n < 0 || (size_t)n >= size || !pg_bus_subject_valid(buf, false))
        return pg_error_set(err, PG_EINVAL, "the privacy subjects of community '%s' are not valid",
                            community);
    return PG_OK;
}

static bool
label_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void
publish(pn_ctx *x, pgi_pnet_traffic *tr, const char *subject, const void *data, size_t len)
{
    if (x->rc)
        return;
    int rc = pg_bus_publish(x->r->bus, subject, data, len, &x->err);
    if (rc) {
        x->rc = rc;
        return;
    }
    tr->sent++;
    tr->sent_bytes += len;
}

static void
refuse(pn_ctx *x, pgi_pnet_traffic *tr, const char *who, const char *subject, const char *why)
{
    tr->refused++;
    plog(x, PG_LOG_WARN, "privacy: %s refused a message on %s: %s", who, subject, why);
}

static bool
client_type(pgi_secagg_msg_type t)
{
    return t == PGI_SA_ADVERTISE || t == PGI_SA_SHARES || t == PGI_SA_MASKED ||
           t == PGI_SA_CONSIST_SIG || t == PGI_SA_UNMASK;
}

/* The aggregator hears a member. */
static void
on_srv(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    pn_ctx *x = ctx;
    pgi_pnet_traffic *tr = &x->res->server;
    tr->heard++;
    tr->heard_bytes += len;
    pg_error e = {0};
    pgi_secagg_msg_type type;
    uint32_t sender, to;
    if (len > PGI_SECAGG_MAX_MSG) {
        refuse(x, tr, "the aggregator", subject, "too large");
        return;
    }
    if (pgi_secagg_peek(data, len, &type, &sender, &to, &e)) {
        refuse(x, tr, "the aggregator", subject, e.msg);
        return;
    }
    if (!client_type(type) || to != PGI_SECAGG_SERVER || sender >= x->r->params->n) {
        refuse(x, tr, "the aggregator", subject, "not a member's message to the aggregator");
        return;
    }
    if (x->E->server_receive(x->s, data, len, &e))
        refuse(x, tr, "the aggregator", subject, e.msg);
}

/* A hosted member hears the aggregator. */
static void
on_member(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    pn_member *m = ctx;
    pn_ctx *x = m->x;
    pgi_pnet_traffic *tr = &x->res->members;
    if (m->dead)
        return;
    tr->heard++;
    tr->heard_bytes += len;
    pg_error e = {0};
    pgi_secagg_msg_type type;
    uint32_t sender, to;
    char who[32];
    snprintf(who, sizeof who, "member %u", m->id);
    if (len > PGI_SECAGG_MAX_MSG) {
        refuse(x, tr, who, subject, "too large");
        return;
    }
    if (pgi_secagg_peek(data, len, &type, &sender, &to, &e)) {
        refuse(x, tr, who, subject, e.msg);
        return;
    }
    if (client_type(type) || sender != PGI_SECAGG_SERVER || (to != m->id && to != PGI_SECAGG_ALL)) {
        refuse(x, tr, who, subject, "not the aggregator's message to this member");
        return;
    }
    if (x->r->die && x->r->die(x->r->die_ud, m->id, type)) {
        m->dead = true;
        return;
    }
    pgi_secagg_client_state st = x->E->client_state(m->c);
    if (st == PGI_SAC_DONE || st == PGI_SAC_ABORTED)
        return; /* its part is over: later broadcasts are not for it */
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = x->E->client_handle(m->c, data, len, &out, &out_len, &e);
    if (rc) {
        if (x->E->client_state(m->c) == PGI_SAC_ABORTED)
            plog(x, PG_LOG_WARN, "privacy: member %u stops: %s", m->id, e.msg);
        else
            refuse(x, tr, who, subject, e.msg);
    }
    if (out) {
        publish(x, tr, x->srv, out, out_len);
        free(out);
    }
}

static int
send_outbox(pn_ctx *x, pgi_secagg_outbox *box)
{
    for (size_t k = 0; k < box->n && !x->rc; k++) {
        const pgi_secagg_msg *mg = &box->msgs[k];
        char subj[PG_BUS_MAX_SUBJECT];
        if (mg->to == PGI_SECAGG_ALL)
            snprintf(subj, sizeof subj, "%s", x->all);
        else
            snprintf(subj, sizeof subj, "%.200s.m.%u", x->base, mg->to);
        publish(x, &x->res->server, subj, mg->data, mg->len);
    }
    x->E->outbox_free(box);
    return x->rc;
}

static bool
members_over(const pn_ctx *x)
{
    for (size_t k = 0; k < x->r->n_hosted; k++) {
        if (x->m[k].dead)
            continue;
        pgi_secagg_client_state st = x->E->client_state(x->m[k].c);
        if (st != PGI_SAC_DONE && st != PGI_SAC_ABORTED)
            return false;
    }
    return true;
}

static bool
server_over(const pn_ctx *x)
{
    if (!x->s)
        return true;
    pgi_secagg_server_state st = x->E->server_state(x->s);
    return st == PGI_SAS_DONE || st == PGI_SAS_FAILED;
}

static int
setup(pn_ctx *x, pg_error *err)
{
    const pgi_pnet_round *r = x->r;
    int rc;
    if (!(x->E = pgi_privacy_engine_get(err)))
        return PG_EUNSUPPORTED;
    int n = snprintf(x->base, sizeof x->base, "%s.%s", r->prefix, r->label);
    if (n < 0 || n > 200 || !pg_bus_subject_valid(x->base, false))
        return pg_error_set(err, PG_EINVAL, "privacy subject '%s.%s' is not valid", r->prefix,
                            r->label);
    snprintf(x->srv, sizeof x->srv, "%.200s.srv", x->base);
    snprintf(x->all, sizeof x->all, "%.200s.all", x->base);
    if (r->server_sk) {
        if ((rc = x->E->server_new(&x->s, r->params, r->roster, r->server_sk, err)))
            return rc;
        if ((rc = pg_bus_subscribe(r->bus, x->srv, on_srv, x, &x->sid_srv, err)))
            return rc;
        x->sub_srv = true;
    }
    if (r->n_hosted && !(x->m = calloc(r->n_hosted, sizeof *x->m)))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < r->n_hosted; k++) {
        pn_member *m = &x->m[k];
        m->x = x;
        m->id = r->hosted[k];
        m->slot = k;
        if (m->id >= r->params->n)
            return pg_error_set(err, PG_EINVAL, "member id %u is not in a roster of %u", m->id,
                                r->params->n);
        if ((rc = x->E->client_new(&m->c, r->params, r->roster, m->id, r->member_sk[k],
                                   r->server_pk, NULL, err)))
            return rc;
        snprintf(m->subj, sizeof m->subj, "%.200s.m.%u", x->base, m->id);
        if ((rc = pg_bus_subscribe(r->bus, x->all, on_member, m, &m->sid_all, err)))
            return rc;
        m->sub_all = true;
        if ((rc = pg_bus_subscribe(r->bus, m->subj, on_member, m, &m->sid_me, err)))
            return rc;
        m->sub_me = true;
    }
    return PG_OK;
}

static void
teardown(pn_ctx *x)
{
    const pgi_pnet_round *r = x->r;
    if (x->sub_srv)
        pg_bus_unsubscribe(r->bus, x->sid_srv, NULL);
    for (size_t k = 0; x->m && k < r->n_hosted; k++) {
        pn_member *m = &x->m[k];
        if (m->sub_all)
            pg_bus_unsubscribe(r->bus, m->sid_all, NULL);
        if (m->sub_me)
            pg_bus_unsubscribe(r->bus, m->sid_me, NULL);
        if (m->c)
            x->E->client_free(m->c);
    }
    free(x->m);
    if (x->s)
        x->E->server_free(x->s);
}

int
pgi_pnet_run(const pgi_pnet_round *r, pgi_pnet_result *res, pg_error *err)
{
    if (!r || !res || !r->bus || !r->prefix || !label_ok(r->label) || !r->params || !r->roster ||
        !r->server_pk || (r->n_hosted && (!r->hosted || !r->member_sk || !r->inputs)))
        return pg_error_set(err, PG_EINVAL, "pgi_pnet_run: bad arguments");
    pn_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.res = res;
    res->released = false;
    res->n_included = 0;
    res->failure[0] = 0;
    res->dropped = 0;
    memset(&res->server, 0, sizeof res->server);
    memset(&res->members, 0, sizeof res->members);
    memset(&res->server_view, 0, sizeof res->server_view);
    const bool timed = r->round_s > 0;
    double t0 = pgi_now();
    int rc = setup(&x, err);
    if (rc)
        goto out;
    if (timed && (rc = pg_bus_flush(r->bus, 5, err))) /* subscriptions in place first */
        goto out;
    if (r->ready)
        r->ready(r->ready_ud);
    /* Round 0: every hosted member advertises its keys. */
    for (size_t k = 0; k < r->n_hosted; k++) {
        pn_member *m = &x.m[k];
        uint8_t *msg = NULL;
        size_t len = 0;
        if ((rc = x.E->client_start(m->c, r->inputs[k], &msg, &len, err)))
            goto out;
        publish(&x, &res->members, x.srv, msg, len);
        free(msg);
    }
    double deadline = pgi_now() + r->round_s;
    double over_at = -1;
    for (;;) {
        if ((rc = x.rc)) {
            *err = x.err;
            goto out;
        }
        if (r->stop && *r->stop) {
            rc = pg_error_set(err, PG_ECANCELED, "stopped");
            goto out;
        }
        size_t got = 0;
        if ((rc = pg_bus_poll(r->bus, timed ? 0.01 : 5, &got, err)))
            goto out;
        if ((rc = x.rc)) {
            *err = x.err;
            goto out;
        }
        if (x.s && !server_over(&x)) {
            /* in process: a round closes once a delivery finds nothing more queued (one flush
             * may stop at its time limit with members' answers still waiting) */
            bool close = x.E->server_complete(x.s) || (!timed && got == 0) ||
                         (timed && pgi_now() >= deadline);
            if (close) {
                pgi_secagg_outbox box = {0};
                pg_error e = {0};
                int arc = x.E->server_advance(x.s, &box, &e);
                if (arc) {
                    snprintf(res->failure, sizeof res->failure, "%.199s",
                             x.E->server_failure(x.s)[0] ? x.E->server_failure(x.s) : e.msg);
                    plog(&x, PG_LOG_WARN, "privacy: aggregation %s releases nothing: %s", r->label,
                         res->failure);
                    x.E->outbox_free(&box);
                } else if ((rc = send_outbox(&x, &box))) {
                    *err = x.err;
                    goto out;
                }
                deadline = pgi_now() + r->round_s;
            }
        }
        if (server_over(&x) && members_over(&x))
            break;
        if (x.s && server_over(&x)) {
            /* members the aggregator left out wait for nothing more */
            if (!timed && got == 0)
                break;
            if (over_at < 0)
                over_at = pgi_now();
            if (timed && pgi_now() - over_at > r->round_s)
                break;
        }
        if (!x.s && !timed && got == 0)
            break; /* in process without the aggregator: nothing more will come */
        if (timed && r->overall_s > 0 && pgi_now() - t0 > r->overall_s) {
            rc = pg_error_set(err, PG_ESTATE, "aggregation %s did not end within %g s", r->label,
                              r->overall_s);
            goto out;
        }
    }
    if (x.s) {
        x.E->server_view(x.s, &res->server_view);
        /* the members dropped: the roster less the last set the aggregator reached */
        const pgi_secagg_view *v = &res->server_view;
        uint32_t sets[5] = {v->u1, v->u2, v->u3, v->u4, v->u5}, last = 0;
        for (int k = 0; k < 5; k++)
            if (sets[k])
                last = sets[k];
        res->dropped = r->params->n - (last < r->params->n ? last : r->params->n);
        if (x.E->server_state(x.s) == PGI_SAS_DONE) {
            pg_error e = {0};
            if (res->sum && !x.E->server_result(x.s, res->sum, res->included, &res->n_included, &e))
                res->released = true;
            else if (!res->failure[0])
                snprintf(res->failure, sizeof res->failure, "%.199s", e.msg);
        }
    }
    for (size_t k = 0; k < r->n_hosted; k++) {
        if (res->member_view)
            x.E->client_view(x.m[k].c, &res->member_view[k]);
        if (res->member_state)
            res->member_state[k] = x.m[k].dead ? PGI_SAC_ABORTED : x.E->client_state(x.m[k].c);
    }
    rc = PG_OK;
out:
    res->seconds = pgi_now() - t0;
    teardown(&x);
    return rc;
}
