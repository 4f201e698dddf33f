/* The in-process bus ("inproc"), the embedded default: every node and the market operator of a
 * community in one process, deterministic. Publishing copies the message into a FIFO queue;
 * flushing delivers the queue in order, each message to the subscriptions whose pattern matches
 * it in the order they were made, including what handlers publish while the flush runs, until the
 * queue is empty. Nothing is delivered outside pg_bus_flush and pg_bus_request, so the order of
 * everything is a function of the calls alone (no threads, no clocks; timeouts are ignored).
 *
 * Handlers may publish, subscribe and unsubscribe while a message is being delivered: a message
 * goes to the subscriptions that existed when its delivery began and are still subscribed when
 * their turn comes. A handler may also flush or request (nested, at most PGI_INPROC_MAX_DEPTH
 * deep): that delivers the messages queued after the current one before the current one reaches
 * its remaining subscriptions.
 *
 * Memory is bounded: publishing fails with PG_ELIMIT when the queued messages would take more
 * than PGI_INPROC_MAX_QUEUED bytes, and one flush or request stops with PG_ELIMIT after
 * PGI_INPROC_MAX_DELIVERIES handler calls (handlers that republish forever), dropping what is
 * left in the queue. One thread owns an inproc bus: it is not safe to use from several threads.
 *
 * Queue groups: of the subscriptions of one group that match a message when its delivery begins,
 * one gets it, in turn: the group keeps a counter of the messages it has had, and message number
 * m goes to the (m mod n)-th of the n members matching it, in subscription order. So the choice is
 * a function of the calls alone, like everything else here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lattice/bus_internal.h"

typedef struct msg {
    struct msg *next;
    size_t bytes; /* what it counts against the queue limit */
    const char *subject, *reply;
    const unsigned char *data;
    size_t len;
    /* subject, reply and data follow */
} msg;

typedef struct sub {
    uint64_t sid;
    bool active;
    int group; /* index in groups, or -1 */
    pg_bus_handler cb;
    void *ctx;
    char pattern[PG_BUS_MAX_SUBJECT + 1];
} sub;

/* A queue group: its name and how many messages it has had (its round robin). */
typedef struct group {
    char *name;
    uint64_t next;
} group;

typedef struct inproc {
    pg_bus base;
    group *groups;
    size_t n_groups;
    msg *head, *tail;
    size_t n_queued, queued_bytes;
    sub *subs; /* in subscription order, so by increasing sid */
    size_t n_subs, cap_subs;
    pgi_bus_index index; /* the active subscriptions' patterns */
    uint64_t next_sid;
    uint64_t next_inbox;
    int depth;           /* flushes and requests running (nested in handlers) */
    bool stale_subs;     /* unsubscribed while delivering: compact when depth is back to 0 */
    uint64_t deliveries; /* handler calls in the outermost flush or request running */
    bool over;           /* that flush or request reached the delivery limit */
    size_t max_queued;
    uint64_t max_deliveries;
} inproc;

static inproc *
as_inproc(pg_bus *b)
{
    return (inproc *)b;
}

int
pgi_inproc_open(pg_bus **out, const char *url, pg_error *err)
{
    if (url && *url)
        return pg_error_set(err, PG_EINVAL,
                            "bus: the inproc transport takes no url (got \"%.100s\")", url);
    inproc *q = calloc(1, sizeof *q);
    if (!q)
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    q->next_sid = 1;
    q->next_inbox = 1;
    q->max_queued = PGI_INPROC_MAX_QUEUED;
    q->max_deliveries = PGI_INPROC_MAX_DELIVERIES;
    *out = &q->base;
    return PG_OK;
}

int
pgi_bus_inproc_set_limits(pg_bus *b, size_t max_queued_bytes, uint64_t max_deliveries,
                          pg_error *err)
{
    if (!b || b->transport->open != pgi_inproc_open)
        return pg_error_set(err, PG_EINVAL, "bus: not an inproc bus");
    inproc *q = as_inproc(b);
    if (max_queued_bytes)
        q->max_queued = max_queued_bytes;
    if (max_deliveries)
        q->max_deliveries = max_deliveries;
    return PG_OK;
}

static void
drop_queue(inproc *q)
{
    while (q->head) {
        msg *m = q->head;
        q->head = m->next;
        free(m);
        q->base.stats.dropped++;
    }
    q->tail = NULL;
    q->n_queued = q->queued_bytes = 0;
}

void
pgi_inproc_close(pg_bus *b)
{
    inproc *q = as_inproc(b);
    drop_queue(q);
    free(q->subs);
    for (size_t i = 0; i < q->n_groups; i++)
        free(q->groups[i].name);
    free(q->groups);
    pgi_bus_index_free(&q->index);
    free(q);
}

int
pgi_inproc_publish(pg_bus *b, const char *subject, const char *reply, const void *data, size_t len,
                   pg_error *err)
{
    inproc *q = as_inproc(b);
    int rc = pgi_bus_check_message(subject, reply, data, len, err);
    if (rc)
        return rc;
    size_t ls = strlen(subject) + 1, lr = reply ? strlen(reply) + 1 : 0;
    size_t bytes = sizeof(msg) + ls + lr + len;
    if (bytes > q->max_queued - q->queued_bytes || q->queued_bytes > q->max_queued)
        return pg_error_set(err, PG_ELIMIT,
                            "bus: publishing on \"%s\" would queue more than the inproc bus's "
                            "limit of %zu bytes (%zu messages are waiting: flush the bus)",
                            subject, q->max_queued, q->n_queued);
    msg *m = malloc(bytes);
    if (!m)
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    char *p = (char *)(m + 1);
    m->next = NULL;
    m->bytes = bytes;
    memcpy(p, subject, ls);
    m->subject = p;
    p += ls;
    m->reply = NULL;
    if (reply) {
        memcpy(p, reply, lr);
        m->reply = p;
        p += lr;
    }
    if (len)
        memcpy(p, data, len);
    m->data = (const unsigned char *)p;
    m->len = len;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->n_queued++;
    q->queued_bytes += bytes;
    q->base.stats.published++;
    return PG_OK;
}

/* The index of group name in q->groups, added when new; -1 when it cannot be (PG_ENOMEM). */
static int
group_find(inproc *q, const char *name, pg_error *err)
{
    for (size_t i = 0; i < q->n_groups; i++)
        if (strcmp(q->groups[i].name, name) == 0)
            return (int)i;
    if (q->n_groups >= 1u << 20) {
        pg_error_set(err, PG_ELIMIT, "bus: more than %u queue groups on one inproc bus", 1u << 20);
        return -1;
    }
    group *g = realloc(q->groups, (q->n_groups + 1) * sizeof *g);
    if (!g) {
        pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        return -1;
    }
    q->groups = g;
    char *copy = malloc(strlen(name) + 1);
    if (!copy) {
        pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        return -1;
    }
    strcpy(copy, name);
    q->groups[q->n_groups] = (group){copy, 0};
    return (int)q->n_groups++;
}

static int subscribe_in(inproc *q, const char *pattern, int g, pg_bus_handler cb, void *ctx,
                        uint64_t *sid, pg_error *err);

int
pgi_inproc_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx, uint64_t *sid,
                     pg_error *err)
{
    return subscribe_in(as_inproc(b), pattern, -1, cb, ctx, sid, err);
}

int
pgi_inproc_subscribe_queue(pg_bus *b, const char *pattern, const char *group_name,
                           pg_bus_handler cb, void *ctx, uint64_t *sid, pg_error *err)
{
    inproc *q = as_inproc(b);
    int rc = pgi_bus_check_group(group_name, err);
    if (rc)
        return rc;
    if ((rc = pgi_bus_check_subject(pattern, true, "pattern", err)))
        return rc;
    int g = group_find(q, group_name, err);
    if (g < 0)
        return err ? err->code : PG_ENOMEM;
    return subscribe_in(q, pattern, g, cb, ctx, sid, err);
}

size_t
pgi_inproc_max_payload(const pg_bus *b)
{
    (void)b;
    return PG_BUS_MAX_PAYLOAD;
}

static int
subscribe_in(inproc *q, const char *pattern, int g, pg_bus_handler cb, void *ctx, uint64_t *sid,
             pg_error *err)
{
    int rc = pgi_bus_check_subject(pattern, true, "pattern", err);
    if (rc)
        return rc;
    if (!cb)
        return pg_error_set(err, PG_EINVAL, "bus: subscription to \"%s\" has no handler", pattern);
    if (q->n_subs == q->cap_subs) {
        size_t cap = q->cap_subs ? 2 * q->cap_subs : 8;
        sub *s = realloc(q->subs, cap * sizeof *s);
        if (!s)
            return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        q->subs = s;
        q->cap_subs = cap;
    }
    if ((rc = pgi_bus_index_add(&q->index, pattern, q->next_sid, err)))
        return rc;
    sub *s = &q->subs[q->n_subs++];
    s->sid = q->next_sid++;
    s->active = true;
    s->group = g;
    s->cb = cb;
    s->ctx = ctx;
    strcpy(s->pattern, pattern);
    if (sid)
        *sid = s->sid;
    return PG_OK;
}

static void
compact(inproc *q)
{
    size_t k = 0;
    for (size_t i = 0; i < q->n_subs; i++)
        if (q->subs[i].active)
            q->subs[k++] = q->subs[i];
    q->n_subs = k;
    q->stale_subs = false;
}

int
pgi_inproc_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err)
{
    inproc *q = as_inproc(b);
    for (size_t i = 0; i < q->n_subs; i++) {
        if (q->subs[i].sid != sid || !q->subs[i].active)
            continue;
        q->subs[i].active = false;
        pgi_bus_index_remove(&q->index, q->subs[i].pattern, sid);
        /* While a message is being delivered its loop walks subs by index: keep the places. */
        if (q->depth > 0)
            q->stale_subs = true;
        else
            compact(q);
        return PG_OK;
    }
    return pg_error_set(err, PG_ENOTFOUND, "bus: no subscription %llu", (unsigned long long)sid);
}

/* Calls subscription i's handler with m unless it has been unsubscribed; false once the delivery
 * limit is reached. */
static bool
deliver_to(inproc *q, size_t i, const msg *m)
{
    sub *s = &q->subs[i];
    if (!s->active)
        return true;
    if (q->deliveries >= q->max_deliveries)
        return false;
    q->deliveries++;
    q->base.stats.delivered++;
    s->cb(s->ctx, m->subject, m->data, m->len, m->reply);
    return true;
}

/* The place of subscription sid in subs (sorted by sid), or n_subs. */
static size_t
find_sub(const inproc *q, uint64_t sid)
{
    size_t lo = 0, hi = q->n_subs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->subs[mid].sid < sid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < q->n_subs && q->subs[lo].sid == sid ? lo : q->n_subs;
}

/* Which of the n matching subscriptions sids (in order) get the message: every one outside a
 * group, and in each group the member whose turn it is (the group's counter advances). pick[k]
 * says it for sids[k]; count holds 3 * q->n_groups places, the first n_groups zeroed. */
static void
choose(inproc *q, const uint64_t *sids, size_t n, bool *pick, size_t *count)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = find_sub(q, sids[k]);
        int g = i < q->n_subs ? q->subs[i].group : -1;
        if (g >= 0)
            count[g]++;
    }
    size_t *seen = count + q->n_groups, *turn = seen + q->n_groups;
    for (size_t g = 0; g < q->n_groups; g++) {
        seen[g] = 0;
        if (count[g]) {
            turn[g] = (size_t)(q->groups[g].next % count[g]);
            q->groups[g].next++;
        }
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = find_sub(q, sids[k]);
        int g = i < q->n_subs ? q->subs[i].group : -1;
        pick[k] = g < 0 || seen[g]++ == turn[g];
    }
}

/* Delivers the head of the queue to its subscriptions: those matching when its delivery begins
 * (from the index; subscriptions made by handlers during the delivery do not see it), in
 * subscription order, each unless unsubscribed by the time its turn comes; of a queue group's
 * members, the one whose turn it is. */
static void
deliver_one(inproc *q)
{
    msg *m = q->head;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->n_queued--;
    q->queued_bytes -= m->bytes;
    uint64_t buf[32], *sids;
    bool pbuf[32], *pick = pbuf;
    size_t cbuf[3 * 16], *count = cbuf;
    size_t n;
    bool ok = true, listed = false;
    if (pgi_bus_index_match(&q->index, m->subject, buf, 32, &sids, &n) == PG_OK) {
        listed = true;
        if (q->n_groups) {
            if (n > 32)
                pick = malloc(n * sizeof *pick);
            if (q->n_groups > 16)
                count = malloc(3 * q->n_groups * sizeof *count);
            if (!pick || !count)
                listed = false;
            else {
                memset(count, 0, q->n_groups * sizeof *count);
                choose(q, sids, n, pick, count);
            }
        }
        for (size_t k = 0; listed && k < n && ok; k++) {
            size_t i = find_sub(q, sids[k]);
            ok = i == q->n_subs || (q->n_groups && !pick[k]) || deliver_to(q, i, m);
        }
        if (sids != buf)
            free(sids);
        if (pick && pick != pbuf)
            free(pick);
        if (count && count != cbuf)
            free(count);
    }
    if (!listed) {
        /* no memory for the lists: try every subscription there is now, which needs none (a
         * queue group's message goes to its first member that matches) */
        size_t n0 = q->n_subs;
        for (size_t i = 0; i < n0 && ok; i++) {
            if (!pgi_bus_match(q->subs[i].pattern, m->subject))
                continue;
            bool first = true;
            for (size_t j = 0; q->subs[i].group >= 0 && j < i && first; j++)
                first = !(q->subs[j].active && q->subs[j].group == q->subs[i].group &&
                          pgi_bus_match(q->subs[j].pattern, m->subject));
            ok = !first || deliver_to(q, i, m);
        }
    }
    if (!ok) {
        /* the delivery limit: back to the head of the queue, to be dropped with the rest */
        q->over = true;
        m->next = q->head;
        q->head = m;
        if (!q->tail)
            q->tail = m;
        q->n_queued++;
        q->queued_bytes += m->bytes;
        return;
    }
    free(m);
}

/* Delivers the queue until it is empty or *stop is set (stop may be NULL). The outermost call
 * counts the deliveries against the limit; on reaching it the queue is dropped. */
static int
run(inproc *q, const bool *stop, pg_error *err)
{
    if (q->depth >= PGI_INPROC_MAX_DEPTH)
        return pg_error_set(err, PG_ELIMIT,
                            "bus: flushes nested in handlers more than %d deep on the inproc bus",
                            PGI_INPROC_MAX_DEPTH);
    if (q->depth == 0) {
        q->deliveries = 0;
        q->over = false;
    }
    q->depth++;
    while (q->head && !q->over && !(stop && *stop))
        deliver_one(q);
    q->depth--;
    bool over = q->over;
    if (q->depth == 0) {
        if (q->stale_subs)
            compact(q);
        if (over) {
            size_t left = q->n_queued;
            drop_queue(q);
            q->over = false;
            return pg_error_set(err, PG_ELIMIT,
                                "bus: the inproc bus stopped after %llu deliveries in one flush "
                                "(a handler publishing in a loop?); %zu queued messages were "
                                "dropped",
                                (unsigned long long)q->max_deliveries, left);
        }
    }
    if (over)
        return pg_error_set(err, PG_ELIMIT,
                            "bus: the inproc bus reached its limit of %llu deliveries in one flush",
                            (unsigned long long)q->max_deliveries);
    return PG_OK;
}

static int
check_timeout(double timeout_s, pg_error *err)
{
    if (!(timeout_s >= 0))
        return pg_error_set(err, PG_EINVAL, "bus: timeout %g s is not a number >= 0", timeout_s);
    return PG_OK;
}

int
pgi_inproc_flush(pg_bus *b, double timeout_s, pg_error *err)
{
    int rc = check_timeout(timeout_s, err);
    if (rc)
        return rc;
    return run(as_inproc(b), NULL, err);
}

/* Nothing arrives from elsewhere: polling delivers what is queued, as a flush does. */
int
pgi_inproc_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err)
{
    uint64_t before = b->stats.delivered;
    int rc = pgi_inproc_flush(b, timeout_s, err);
    if (delivered)
        *delivered = (size_t)(b->stats.delivered - before);
    return rc;
}

size_t
pgi_inproc_server(const pg_bus *b, char *buf, size_t n)
{
    (void)b;
    (void)n;
    buf[0] = 0;
    return 0;
}

/* The answer of a request: the first message on its inbox. */
typedef struct answer {
    bool got;
    bool nomem;
    void *data;
    size_t len;
} answer;

static void
on_answer(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    (void)reply;
    answer *a = ctx;
    if (a->got)
        return;
    a->got = true;
    a->data = malloc(len ? len : 1);
    if (!a->data) {
        a->nomem = true;
        return;
    }
    if (len)
        memcpy(a->data, data, len);
    a->len = len;
}

int
pgi_inproc_request(pg_bus *b, const char *subject, const void *data, size_t len, double timeout_s,
                   void **reply, size_t *reply_len, pg_error *err)
{
    inproc *q = as_inproc(b);
    answer a = {0};
    uint64_t sid = 0;
    int rc = check_timeout(timeout_s, err);
    if (rc)
        return rc;
    if (!reply || !reply_len)
        return pg_error_set(err, PG_EINVAL,
                            "bus: request on \"%.100s\" has nowhere to put the "
                            "answer",
                            subject ? subject : "(none)");
    if ((rc = pgi_bus_check_message(subject, NULL, data, len, err)))
        return rc;
    char inbox[48];
    snprintf(inbox, sizeof inbox, "_INBOX.%llu", (unsigned long long)q->next_inbox++);
    if ((rc = pgi_inproc_subscribe(b, inbox, on_answer, &a, &sid, err)))
        return rc;
    if ((rc = pgi_inproc_publish(b, subject, inbox, data, len, err)))
        goto out;
    if ((rc = run(q, &a.got, err)))
        goto out;
    if (a.nomem) {
        rc = pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        goto out;
    }
    if (!a.got) {
        rc = pg_error_set(err, PG_ENET, "bus: no answer to \"%s\" (nothing subscribed answered)",
                          subject);
        goto out;
    }
    *reply = a.data;
    *reply_len = a.len;
    a.data = NULL;
out:
    free(a.data);
    pgi_inproc_unsubscribe(b, sid, NULL);
    return rc;
}
