/* The NATS backend of the bus (the transport "nats"), on the cnats client: the only file that
 * includes <nats/nats.h>. cnats delivers messages on its own threads; its callbacks here only
 * copy a message into the bus's bounded queue (a mutex and a condition variable), and
 * pg_bus_poll calls the handlers on the thread that owns the bus, as the in-process bus does in
 * pg_bus_flush. A request is a publish with a reply subject under the bus's own inbox (one
 * wildcard subscription made at open), followed by polling until the answer comes; messages that
 * arrive meanwhile go to their handlers. Handlers may publish, subscribe, unsubscribe, flush,
 * poll and request (nested, at most 64 deep).
 *
 * What cnats's threads touch (the queue and the counters they update) lives in a reference-
 * counted core: the bus, the connection's closed callback and each subscription (through its
 * completion callback, called once the subscription's handler can no longer run) hold one
 * reference each, and the last to let go frees it, so no callback can run on freed memory.
 *
 * The connection (docs/lattice.md): the servers of the URL list, retry when the first connect
 * fails (open waits up to connect_timeout seconds, 5 by default, for a server; 0 returns at once
 * and connects in the background), reconnect forever every 100 ms (+ up to 100 ms of jitter),
 * messages sent as soon as they are published, a 32 MiB buffer for what is published while
 * disconnected, a ping every 500 ms (a server silent for three pings is given up), echo on.
 *
 * cnats also has process-wide state: a timer thread, the thread that runs connection callbacks,
 * the message-delivery pool every bus's subscriptions share (so a thousand subscriptions do not
 * mean a thousand threads), and their memory. Closing a bus never tears that down (nats_Close):
 * other buses of the process, or other code, may be using cnats. It stays until the process exits,
 * reachable from cnats's globals, so leak checkers do not report it and need no suppressions. */
#include <nats/nats.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "lattice/bus_internal.h"
#include "lattice/nats.h"

#define MAX_DEPTH 64
#define MAX_SERVERS 64
#define DEFAULT_CONNECT_TIMEOUT_S 5.0
#define RECONNECT_WAIT_MS 100
#define RECONNECT_JITTER_MS 100
#define ATTEMPT_TIMEOUT_MS 2000
#define PING_INTERVAL_MS 500
#define MAX_PINGS_OUT 3
#define RECONNECT_BUF_BYTES (32 << 20)
#define CLOSE_WAIT_S 5.0

/* ---------------------------------------------------------------- the core cnats shares */

/* An arrived message: subject, reply subject (or none) and data in one block. */
typedef struct item {
    struct item *next;
    uint64_t sid;       /* the bus's subscription; 0: an answer to a request (the inbox) */
    bool no_responders; /* the server's answer to a request nobody subscribes to */
    size_t len, cost;
    char *subject, *reply, *data;
    char block[];
} item;

typedef struct core {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC: a message queued, connected, a reference let go */
    int refs;
    bool connected; /* a server has been reached at least once */
    item *head, *tail;
    size_t queued, n_queued, max_queued;
    uint64_t dropped, disconnects, reconnects;
} core;

/* The closure of one cnats subscription: freed by its completion callback. */
typedef struct tap {
    core *c;
    uint64_t sid;
} tap;

static void
free_items(item *it)
{
    while (it) {
        item *next = it->next;
        free(it);
        it = next;
    }
}

static void
core_release(core *c)
{
    pthread_mutex_lock(&c->mu);
    bool last = --c->refs == 0;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (!last)
        return;
    free_items(c->head);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static core *
core_new(void)
{
    core *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(c);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(c);
        return NULL;
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        pthread_cond_destroy(&c->cv);
        free(c);
        return NULL;
    }
    c->refs = 1;
    c->max_queued = PGI_NATS_MAX_QUEUED;
    return c;
}

/* Waits on c->cv until the monotonic time deadline (infinite: no limit); false at the deadline. */
static bool
core_wait(core *c, double deadline)
{
    if (isinf(deadline)) {
        pthread_cond_wait(&c->cv, &c->mu);
        return true;
    }
    double t = deadline;
    if (t <= pgi_now())
        return false;
    struct timespec ts = {(time_t)t, (long)((t - floor(t)) * 1e9)};
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    return pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT;
}

/* ---------------------------------------------------------------- cnats's callbacks (its threads)
 */

static void
on_msg(natsConnection *nc, natsSubscription *ns, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)ns;
    tap *t = closure;
    core *c = t->c;
    /* The server's notice that a message published with a reply subject reached no subscriber:
     * the answer of a request (to the inbox), and nothing anybody published on any other
     * subject, so not delivered there (the in-process bus has no such message either). */
    bool no_responders = natsMsg_IsNoResponders(msg);
    if (no_responders && t->sid != 0) {
        natsMsg_Destroy(msg);
        return;
    }
    const char *subject = natsMsg_GetSubject(msg), *reply = natsMsg_GetReply(msg);
    const char *data = natsMsg_GetData(msg);
    int dl = natsMsg_GetDataLength(msg);
    size_t len = dl > 0 ? (size_t)dl : 0;
    size_t ls = strlen(subject), lr = reply ? strlen(reply) : 0;
    size_t cost = sizeof(item) + ls + 1 + (reply ? lr + 1 : 0) + len;
    item *it = malloc(cost);
    if (it) {
        it->next = NULL;
        it->sid = t->sid;
        it->no_responders = no_responders;
        it->len = len;
        it->cost = cost;
        it->subject = it->block;
        memcpy(it->subject, subject, ls + 1);
        it->reply = NULL;
        char *p = it->block + ls + 1;
        if (reply) {
            it->reply = p;
            memcpy(p, reply, lr + 1);
            p += lr + 1;
        }
        it->data = p;
        if (len)
            memcpy(p, data, len);
    }
    natsMsg_Destroy(msg);
    pthread_mutex_lock(&c->mu);
    if (!it || c->queued + cost > c->max_queued) {
        c->dropped++;
        pthread_mutex_unlock(&c->mu);
        free(it);
        return;
    }
    if (c->tail)
        c->tail->next = it;
    else
        c->head = it;
    c->tail = it;
    c->queued += cost;
    c->n_queued++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* A subscription's handler has run for the last time: its closure and reference go. */
static void
on_complete(void *closure)
{
    tap *t = closure;
    core *c = t->c;
    free(t);
    core_release(c);
}

static void
on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    core *c = closure;
    pthread_mutex_lock(&c->mu);
    c->connected = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    core *c = closure;
    pthread_mutex_lock(&c->mu);
    c->disconnects++;
    pthread_mutex_unlock(&c->mu);
}

static void
on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    core *c = closure;
    pthread_mutex_lock(&c->mu);
    c->reconnects++;
    c->connected = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* The connection's last callback: its reference goes. */
static void
on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    core_release(closure);
}

/* ---------------------------------------------------------------- the bus (its owner's thread) */

typedef struct sub {
    uint64_t sid;
    pg_bus_handler cb;
    void *ctx;
    natsSubscription *ns;
} sub;

/* An active request, innermost first. */
typedef struct frame {
    struct frame *up;
    uint64_t token;
    item *answer;
} frame;

typedef struct nbus {
    pg_bus base;
    core *c;
    natsConnection *nc;
    sub *subs; /* in increasing sid order */
    size_t n_subs, cap_subs;
    uint64_t next_sid, next_token;
    uint64_t gone_dropped; /* cnats's drops of subscriptions since ended */
    natsSubscription *inbox_ns;
    char inbox[64]; /* "_INBOX.<unique>." */
    frame *frames;
    int depth;
    /* Published before the bus first reached a server: kept here, not in the client's buffer
     * (which would send them unchecked against the server's payload limit, unknown until then:
     * one too large and the server closes every connection that carries it), and sent, checked,
     * by the first bus call after the connection came. */
    item *held, *held_tail;
    size_t held_bytes;
    char urls[512]; /* the servers, for messages */
} nbus;

static nbus *
as_nats(pg_bus *b)
{
    return (nbus *)b;
}

static int
nats_fail(pg_error *err, natsStatus s, const char *what, const nbus *n)
{
    switch (s) {
    case NATS_NO_MEMORY: return pg_error_set(err, PG_ENOMEM, "bus: %s: out of memory", what);
    case NATS_MAX_PAYLOAD:
        return pg_error_set(err, PG_EINVAL, "bus: %s: more data than the server accepts", what);
    case NATS_INSUFFICIENT_BUFFER:
        return pg_error_set(err, PG_ENET,
                            "bus: %s: not connected to a NATS server and the %d MiB buffer for "
                            "messages published meanwhile is full",
                            what, RECONNECT_BUF_BYTES >> 20);
    case NATS_TIMEOUT:
        return pg_error_set(err, PG_ENET, "bus: %s: the NATS server did not answer in time", what);
    case NATS_CONNECTION_CLOSED:
        return pg_error_set(err, PG_ENET, "bus: %s: the connection to NATS is closed", what);
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
        return pg_error_set(err, PG_ENET, "bus: %s: not connected to a NATS server (trying %s)",
                            what, n ? n->urls : "the servers");
    default: return pg_error_set(err, PG_ENET, "bus: %s: %s", what, natsStatus_GetText(s));
    }
}

static int
check_timeout(double t, const char *what, pg_error *err)
{
    if (isnan(t) || t < 0)
        return pg_error_set(err, PG_EINVAL, "bus: %s: the timeout must be >= 0 seconds (got %g)",
                            what, t);
    return PG_OK;
}

/* ------------------------------------------------------------------------- the URL list */

/* Copies server URL u (n bytes) into out (cap bytes, cap > 0) as it may be shown: with its user
 * and password (or token), everything between "://" and the last '@', replaced by "***", so that
 * no secret of a URL appears in a message, a log line or pg_bus_server. */
static void
url_shown(const char *u, size_t n, char *out, size_t cap)
{
    const char *end = u + n, *from = u;
    for (const char *q = u; q + 3 <= end; q++)
        if (memcmp(q, "://", 3) == 0) {
            from = q + 3;
            break;
        }
    const char *at = NULL;
    for (const char *q = from; q < end; q++)
        if (*q == '@')
            at = q;
    if (at)
        snprintf(out, cap, "%.*s***%.*s", (int)(from - u), u, (int)(end - at), at);
    else
        snprintf(out, cap, "%.*s", (int)n, u);
}

/* Checks one server URL: nats://[USER[:PASS]@]HOST[:PORT] (HOST a name, an IPv4 address or an
 * [IPv6] address; PORT 1..65535). NULL when it is good, or what is wrong. */
static const char *
url_problem(const char *u, size_t n)
{
    if (n == 0)
        return "it is empty";
    if (n < 7 || strncmp(u, "nats://", 7) != 0)
        return "it must start with nats:// (no other scheme is supported)";
    const char *p = u + 7, *end = u + n;
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    const char *host = p;
    if (p < end && *p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb || rb == p + 1)
            return "an IPv6 address must be written [ADDRESS]";
        for (const char *q = p + 1; q < rb; q++)
            if (!(*q == ':' || *q == '.' || (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
                  (*q >= 'A' && *q <= 'F')))
                return "the IPv6 address has a character that is not a hexadecimal digit, ':' "
                       "or '.'";
        p = rb + 1;
    } else {
        while (p < end && *p != ':' && *p != '/')
            p++;
        if (p == host)
            return "it has no host";
        for (const char *q = host; q < p; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                  (*q >= '0' && *q <= '9') || *q == '-' || *q == '.' || *q == '_'))
                return "the host has a character other than letters, digits, '-', '.' and '_'";
    }
    if (p < end && *p == ':') {
        p++;
        long port = 0;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9' && port <= 65535)
            port = port * 10 + (*p++ - '0');
        if (p == digits || port < 1 || port > 65535 || (p < end && *p >= '0' && *p <= '9'))
            return "the port must be a number from 1 to 65535";
    }
    if (p < end && *p == '/')
        p++;
    if (p != end)
        return "it has something after the host and port";
    return NULL;
}

typedef struct conn_opts {
    char *list; /* the servers, split in place */
    const char *servers[MAX_SERVERS];
    int n;
    double connect_timeout;
    char name[128];
} conn_opts;

/* Parses "URL[,URL...][?connect_timeout=S&name=NAME]". */
static int
parse_url(const char *url, conn_opts *o, pg_error *err)
{
    o->connect_timeout = DEFAULT_CONNECT_TIMEOUT_S;
    snprintf(o->name, sizeof o->name, "plurigrid");
    if (!url || !*url)
        return pg_error_set(err, PG_EINVAL,
                            "bus: a NATS bus needs one or more server URLs, comma-separated "
                            "(e.g. nats://127.0.0.1:4222)");
    o->list = malloc(strlen(url) + 1);
    if (!o->list)
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    strcpy(o->list, url);
    char *q = strchr(o->list, '?');
    if (q) {
        *q++ = 0;
        while (*q) {
            char *amp = strchr(q, '&');
            if (amp)
                *amp = 0;
            char *eq = strchr(q, '=');
            if (eq && strncmp(q, "connect_timeout", (size_t)(eq - q)) == 0 && eq - q == 15) {
                char *e;
                errno = 0;
                double v = strtod(eq + 1, &e);
                if (e == eq + 1 || *e || errno || isnan(v) || v < 0 || v > 86400)
                    return pg_error_set(err, PG_EINVAL,
                                        "bus: NATS option connect_timeout=\"%.40s\" must be a "
                                        "number of seconds from 0 to 86400",
                                        eq + 1);
                o->connect_timeout = v;
            } else if (eq && eq - q == 4 && strncmp(q, "name", 4) == 0) {
                /* It goes into the client's JSON greeting unescaped: a quote or a backslash
                 * would make the server refuse the connection. */
                bool ok = eq[1] && strlen(eq + 1) < sizeof o->name;
                for (const char *c = eq + 1; ok && *c; c++)
                    ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                         (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' ||
                         *c == ':';
                if (!ok)
                    return pg_error_set(err, PG_EINVAL,
                                        "bus: NATS option name must have 1 to %zu letters, "
                                        "digits, '-', '_', '.' or ':'",
                                        sizeof o->name - 1);
                snprintf(o->name, sizeof o->name, "%s", eq + 1);
            } else {
                return pg_error_set(err, PG_EINVAL,
                                    "bus: unknown NATS option \"%.60s\" (known: "
                                    "connect_timeout=SECONDS, name=NAME)",
                                    q);
            }
            if (!amp)
                break;
            q = amp + 1;
        }
    }
    char *p = o->list;
    for (int i = 0;; i++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        while (*p == ' ')
            p++;
        size_t k = strlen(p);
        while (k > 0 && p[k - 1] == ' ')
            p[--k] = 0;
        const char *why = url_problem(p, k);
        if (why) {
            char shown[256];
            url_shown(p, k, shown, sizeof shown);
            return pg_error_set(err, PG_EINVAL,
                                "bus: NATS server URL %d \"%.200s\" is not valid: %s (expected "
                                "nats://HOST:PORT, several separated by commas)",
                                i + 1, shown, why);
        }
        if (o->n == MAX_SERVERS)
            return pg_error_set(err, PG_EINVAL, "bus: more than %d NATS server URLs", MAX_SERVERS);
        o->servers[o->n++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return PG_OK;
}

/* ---------------------------------------------------------------- the queue, delivery */

/* Takes the first queued message, waiting until deadline for one; NULL when none came. */
static item *
take(core *c, double deadline)
{
    pthread_mutex_lock(&c->mu);
    while (!c->head && core_wait(c, deadline)) {
    }
    item *it = c->head;
    if (it) {
        c->head = it->next;
        if (!c->head)
            c->tail = NULL;
        c->queued -= it->cost;
        c->n_queued--;
    }
    pthread_mutex_unlock(&c->mu);
    return it;
}

static sub *
find_sub(nbus *n, uint64_t sid, size_t *at)
{
    size_t lo = 0, hi = n->n_subs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->subs[mid].sid < sid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n->n_subs && n->subs[lo].sid == sid) {
        if (at)
            *at = lo;
        return &n->subs[lo];
    }
    return NULL;
}

/* Hands it to its subscription's handler (or to the request it answers) and frees it. Returns
 * the number of handler calls (0 or 1). */
static size_t
dispatch(nbus *n, item *it)
{
    if (it->sid == 0) {
        const char *dot = strrchr(it->subject, '.');
        uint64_t token = dot ? strtoull(dot + 1, NULL, 10) : 0;
        for (frame *f = n->frames; f; f = f->up)
            if (f->token == token && !f->answer) {
                f->answer = it;
                return 0;
            }
        free(it); /* a late answer to a request that gave up */
        return 0;
    }
    sub *s = find_sub(n, it->sid, NULL);
    if (!s) { /* unsubscribed after it arrived */
        free(it);
        return 0;
    }
    pg_bus_handler cb = s->cb;
    void *ctx = s->ctx;
    n->base.stats.delivered++;
    cb(ctx, it->subject, it->data, it->len, it->reply);
    free(it);
    return 1;
}

/* Subscribes pattern with closure t, which then holds a reference to the core until the
 * subscription's completion callback frees it. On failure t is freed, or, when the subscription
 * was made but its completion callback could not be set, kept with its reference for good (its
 * handler could still run). */
static natsStatus
subscribe_tap(nbus *n, const char *pattern, const char *group, tap *t, natsSubscription **out)
{
    pthread_mutex_lock(&n->c->mu);
    n->c->refs++;
    pthread_mutex_unlock(&n->c->mu);
    natsSubscription *ns = NULL;
    natsStatus s = group ? natsConnection_QueueSubscribe(&ns, n->nc, pattern, group, on_msg, t)
                         : natsConnection_Subscribe(&ns, n->nc, pattern, on_msg, t);
    if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(ns, on_complete, t);
    if (s == NATS_OK) {
        /* cnats's own bound stays far away: the bus's queue is the bound (it counts drops). */
        natsSubscription_SetPendingLimits(ns, 1 << 24, 1 << 30);
        *out = ns;
        return NATS_OK;
    }
    if (ns) {
        natsSubscription_Unsubscribe(ns);
        natsSubscription_Destroy(ns);
    } else {
        free(t);
        pthread_mutex_lock(&n->c->mu);
        n->c->refs--; /* the bus still holds one: never the last */
        pthread_mutex_unlock(&n->c->mu);
    }
    return s;
}

/* ---------------------------------------------------------------- the transport's functions */

static void nats_close(pg_bus *b);

static void
sync_stats(const pg_bus *b, pg_bus_stats *s)
{
    const nbus *n = (const nbus *)b;
    uint64_t lost = n->gone_dropped;
    for (size_t i = 0; i < n->n_subs; i++) {
        int64_t d = 0;
        if (natsSubscription_GetDropped(n->subs[i].ns, &d) == NATS_OK && d > 0)
            lost += (uint64_t)d;
    }
    pthread_mutex_lock(&n->c->mu);
    s->dropped += n->c->dropped + lost;
    s->disconnects = n->c->disconnects;
    s->reconnects = n->c->reconnects;
    pthread_mutex_unlock(&n->c->mu);
}

static int
nats_open(pg_bus **out, const char *url, pg_error *err)
{
    conn_opts o = {0};
    natsOptions *opts = NULL;
    nbus *n = NULL;
    natsInbox *inbox = NULL;
    int rc = parse_url(url, &o, err);
    if (rc)
        goto out;
    n = calloc(1, sizeof *n);
    if (!n || !(n->c = core_new())) {
        rc = pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        goto out;
    }
    n->base.sync_stats = sync_stats;
    n->next_sid = 1;
    size_t k = 0;
    for (int i = 0; i < o.n && k + 1 < sizeof n->urls; i++) {
        char shown[256];
        url_shown(o.servers[i], strlen(o.servers[i]), shown, sizeof shown);
        k += (size_t)snprintf(n->urls + k, sizeof n->urls - k, "%s%s", i ? "," : "", shown);
    }
    if (k >= sizeof n->urls)
        snprintf(n->urls + sizeof n->urls - 4, 4, "...");

    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetServers(opts, o.servers, o.n);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, o.name);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, n->c);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectJitter(opts, RECONNECT_JITTER_MS, RECONNECT_JITTER_MS);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, ATTEMPT_TIMEOUT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetSendAsap(opts, true);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(opts, RECONNECT_BUF_BYTES);
    if (s == NATS_OK)
        s = natsOptions_SetPingInterval(opts, PING_INTERVAL_MS);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPingsOut(opts, MAX_PINGS_OUT);
    if (s == NATS_OK)
        s = natsOptions_SetNoEcho(opts, false);
    if (s == NATS_OK)
        s = natsOptions_UseGlobalMessageDelivery(opts, true);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, n->c);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_reconnected, n->c);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(opts, on_closed, n->c);
    if (s != NATS_OK) {
        rc = nats_fail(err, s, "setting up the NATS connection", n);
        goto out;
    }
    n->c->refs++; /* the closed callback's, once there is a connection */
    s = natsConnection_Connect(&n->nc, opts);
    if (s == NATS_OK) {
        pthread_mutex_lock(&n->c->mu);
        n->c->connected = true;
        pthread_mutex_unlock(&n->c->mu);
    } else if (s != NATS_NOT_YET_CONNECTED) {
        n->nc = NULL;
        n->c->refs--; /* no connection: no closed callback */
        rc = pg_error_set(err, PG_ENET, "bus: cannot connect to NATS server(s) %s: %s", n->urls,
                          natsStatus_GetText(s));
        goto out;
    }

    /* The inbox of this bus's requests: one wildcard subscription, each request a token. */
    s = natsInbox_Create(&inbox);
    if (s == NATS_OK && strlen(inbox) + 2 >= sizeof n->inbox)
        s = NATS_INSUFFICIENT_BUFFER;
    if (s != NATS_OK) {
        rc = nats_fail(err, s, "creating the request inbox", n);
        goto out;
    }
    char pattern[80];
    snprintf(n->inbox, sizeof n->inbox, "%s.", (const char *)inbox);
    snprintf(pattern, sizeof pattern, "%s*", n->inbox);
    tap *t = malloc(sizeof *t);
    if (!t) {
        rc = pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        goto out;
    }
    *t = (tap){n->c, 0};
    s = subscribe_tap(n, pattern, NULL, t, &n->inbox_ns);
    if (s != NATS_OK) {
        rc = nats_fail(err, s, "subscribing the request inbox", n);
        goto out;
    }

    /* Wait for a server, up to connect_timeout. */
    if (o.connect_timeout > 0) {
        double deadline = pgi_now() + o.connect_timeout;
        pthread_mutex_lock(&n->c->mu);
        while (!n->c->connected && core_wait(n->c, deadline)) {
        }
        bool up = n->c->connected;
        pthread_mutex_unlock(&n->c->mu);
        if (!up) {
            const char *last = NULL;
            natsConnection_GetLastError(n->nc, &last);
            rc = pg_error_set(err, PG_ENET,
                              "bus: cannot reach NATS server(s) %s within %g s (%s): is "
                              "nats-server running there?",
                              n->urls, o.connect_timeout,
                              last && *last ? last : "no server answered");
            goto out;
        }
    }
    *out = &n->base;
    n = NULL;
out:
    if (inbox)
        natsInbox_Destroy(inbox);
    if (opts)
        natsOptions_Destroy(opts);
    if (n) {
        if (n->c)
            nats_close(&n->base);
        else
            free(n);
    }
    free(o.list);
    return rc;
}

static bool
ever_connected(nbus *n)
{
    pthread_mutex_lock(&n->c->mu);
    bool up = n->c->connected;
    pthread_mutex_unlock(&n->c->mu);
    return up;
}

static natsStatus
send_now(nbus *n, const char *subject, const char *reply, const void *data, size_t len)
{
    return reply ? natsConnection_PublishRequest(n->nc, subject, reply, data, (int)len)
                 : natsConnection_Publish(n->nc, subject, data, (int)len);
}

/* Sends what was held before the first connection, in order, once connected: a message larger
 * than the server accepts is dropped and counted in dropped. */
static int
send_held(nbus *n, pg_error *err)
{
    if (!n->held || !ever_connected(n))
        return PG_OK;
    int64_t max = natsConnection_GetMaxPayload(n->nc);
    while (n->held) {
        item *it = n->held;
        natsStatus s = NATS_OK;
        if (max > 0 && (int64_t)it->len > max) {
            pthread_mutex_lock(&n->c->mu);
            n->c->dropped++;
            pthread_mutex_unlock(&n->c->mu);
        } else if ((s = send_now(n, it->subject, it->reply, it->data, it->len)) != NATS_OK) {
            char what[PG_BUS_MAX_SUBJECT + 64];
            snprintf(what, sizeof what, "publishing on \"%s\" (held until connected)", it->subject);
            return nats_fail(err, s, what, n);
        }
        n->held = it->next;
        n->held_bytes -= it->cost;
        free(it);
    }
    n->held_tail = NULL;
    return PG_OK;
}

/* Keeps a message published before the first connection (up to the reconnection buffer's size). */
static int
hold(nbus *n, const char *subject, const char *reply, const void *data, size_t len, pg_error *err)
{
    size_t ls = strlen(subject), lr = reply ? strlen(reply) : 0;
    size_t cost = sizeof(item) + ls + 1 + (reply ? lr + 1 : 0) + len;
    if (n->held_bytes + cost > RECONNECT_BUF_BYTES)
        return nats_fail(err, NATS_INSUFFICIENT_BUFFER, "publishing", n);
    item *it = malloc(cost);
    if (!it)
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    *it = (item){.len = len, .cost = cost};
    it->subject = it->block;
    memcpy(it->subject, subject, ls + 1);
    char *p = it->block + ls + 1;
    if (reply) {
        it->reply = p;
        memcpy(p, reply, lr + 1);
        p += lr + 1;
    }
    it->data = p;
    if (len)
        memcpy(p, data, len);
    if (n->held_tail)
        n->held_tail->next = it;
    else
        n->held = it;
    n->held_tail = it;
    n->held_bytes += cost;
    return PG_OK;
}

/* take, for a bus that may hold messages: while it does, it looks every 20 ms whether the
 * connection has come, to send them (a failure leaves them held, for the next call to report). */
static item *
take_sending(nbus *n, double deadline)
{
    for (;;) {
        if (n->held)
            (void)send_held(n, NULL);
        if (!n->held)
            return take(n->c, deadline);
        double soon = pgi_now() + 0.02;
        item *it = take(n->c, soon < deadline ? soon : deadline);
        if (it || pgi_now() >= deadline)
            return it;
    }
}

static int
nats_publish(pg_bus *b, const char *subject, const char *reply, const void *data, size_t len,
             pg_error *err)
{
    nbus *n = as_nats(b);
    int rc = pgi_bus_check_message(subject, reply, data, len, err);
    if (rc)
        return rc;
    if ((rc = send_held(n, err)))
        return rc;
    if (!ever_connected(n)) {
        if ((rc = hold(n, subject, reply, data, len, err)))
            return rc;
        n->base.stats.published++;
        return PG_OK;
    }
    natsStatus s = send_now(n, subject, reply, data, len);
    if (s != NATS_OK) {
        char what[PG_BUS_MAX_SUBJECT + 32];
        snprintf(what, sizeof what, "publishing on \"%s\"", subject);
        return nats_fail(err, s, what, n);
    }
    n->base.stats.published++;
    return PG_OK;
}

/* A subscription, in queue group `group` unless it is NULL. */
static int
subscribe_in(nbus *n, const char *pattern, const char *group, pg_bus_handler cb, void *ctx,
             uint64_t *sid, pg_error *err)
{
    int rc = pgi_bus_check_subject(pattern, true, "pattern", err);
    if (rc)
        return rc;
    if (group && (rc = pgi_bus_check_group(group, err)))
        return rc;
    if (!cb)
        return pg_error_set(err, PG_EINVAL, "bus: a subscription to \"%s\" needs a handler",
                            pattern);
    if (n->n_subs == n->cap_subs) {
        size_t cap = n->cap_subs ? 2 * n->cap_subs : 16;
        sub *grown = realloc(n->subs, cap * sizeof *grown);
        if (!grown)
            return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
        n->subs = grown;
        n->cap_subs = cap;
    }
    tap *t = malloc(sizeof *t);
    if (!t)
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    *t = (tap){n->c, n->next_sid};
    natsSubscription *ns = NULL;
    natsStatus s = subscribe_tap(n, pattern, group, t, &ns);
    if (s != NATS_OK) {
        char what[2 * PG_BUS_MAX_SUBJECT + 64];
        if (group)
            snprintf(what, sizeof what, "subscribing to \"%s\" in queue group \"%s\"", pattern,
                     group);
        else
            snprintf(what, sizeof what, "subscribing to \"%s\"", pattern);
        return nats_fail(err, s, what, n);
    }
    n->subs[n->n_subs++] = (sub){n->next_sid, cb, ctx, ns};
    if (sid)
        *sid = n->next_sid;
    n->next_sid++;
    return PG_OK;
}

static int
nats_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx, uint64_t *sid,
               pg_error *err)
{
    return subscribe_in(as_nats(b), pattern, NULL, cb, ctx, sid, err);
}

static int
nats_subscribe_queue(pg_bus *b, const char *pattern, const char *group, pg_bus_handler cb,
                     void *ctx, uint64_t *sid, pg_error *err)
{
    return subscribe_in(as_nats(b), pattern, group, cb, ctx, sid, err);
}

/* The server's max_payload (known from its greeting; the last server's while disconnected). */
static size_t
nats_max_payload(const pg_bus *b)
{
    const nbus *n = (const nbus *)b;
    int64_t m = n->nc ? natsConnection_GetMaxPayload(n->nc) : 0;
    return m > 0 && (uint64_t)m < PG_BUS_MAX_PAYLOAD ? (size_t)m : PG_BUS_MAX_PAYLOAD;
}

static int
nats_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err)
{
    nbus *n = as_nats(b);
    size_t at;
    sub *s = find_sub(n, sid, &at);
    if (!s)
        return pg_error_set(err, PG_ENOTFOUND, "bus: no subscription %llu",
                            (unsigned long long)sid);
    int64_t d = 0;
    if (natsSubscription_GetDropped(s->ns, &d) == NATS_OK && d > 0)
        n->gone_dropped += (uint64_t)d;
    /* Ends it locally even when the server cannot be told (disconnected): messages of it still
     * queued are skipped at delivery. */
    natsSubscription_Unsubscribe(s->ns);
    natsSubscription_Destroy(s->ns);
    memmove(&n->subs[at], &n->subs[at + 1], (n->n_subs - at - 1) * sizeof *n->subs);
    n->n_subs--;
    return PG_OK;
}

static int
nats_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err)
{
    nbus *n = as_nats(b);
    int rc = check_timeout(timeout_s, "poll", err);
    if (rc)
        return rc;
    if (n->depth >= MAX_DEPTH)
        return pg_error_set(err, PG_ELIMIT, "bus: polls and requests nested more than %d deep",
                            MAX_DEPTH);
    if ((rc = send_held(n, err)))
        return rc;
    double deadline = pgi_now() + timeout_s;
    /* Waits for the first message, then delivers those that have arrived by then (not those
     * arriving while it delivers, so a steady stream cannot keep it forever). */
    item *first = take_sending(n, deadline);
    size_t k = 0;
    if (first) {
        pthread_mutex_lock(&n->c->mu);
        size_t more = n->c->n_queued;
        pthread_mutex_unlock(&n->c->mu);
        n->depth++;
        k += dispatch(n, first);
        for (size_t i = 0; i < more; i++) {
            item *it = take(n->c, 0);
            if (!it)
                break;
            k += dispatch(n, it);
        }
        n->depth--;
    }
    if (delivered)
        *delivered = k;
    return PG_OK;
}

static int
nats_request(pg_bus *b, const char *subject, const void *data, size_t len, double timeout_s,
             void **reply, size_t *reply_len, pg_error *err)
{
    nbus *n = as_nats(b);
    int rc = pgi_bus_check_message(subject, NULL, data, len, err);
    if (rc)
        return rc;
    if ((rc = check_timeout(timeout_s, "request", err)))
        return rc;
    if (!reply || !reply_len)
        return pg_error_set(err, PG_EINVAL, "bus: a request needs somewhere to put the answer");
    if (n->depth >= MAX_DEPTH)
        return pg_error_set(err, PG_ELIMIT, "bus: polls and requests nested more than %d deep",
                            MAX_DEPTH);
    frame f = {n->frames, ++n->next_token, NULL};
    char inbox[96];
    snprintf(inbox, sizeof inbox, "%s%llu", n->inbox, (unsigned long long)f.token);
    if ((rc = nats_publish(b, subject, inbox, data, len, err)))
        return rc;
    double deadline = pgi_now() + timeout_s;
    n->frames = &f;
    n->depth++;
    while (!f.answer) {
        item *it = take_sending(n, deadline);
        if (!it)
            break;
        dispatch(n, it);
    }
    n->depth--;
    n->frames = f.up;
    if (!f.answer)
        return pg_error_set(err, PG_ENET, "bus: no answer to \"%s\" within %g s", subject,
                            timeout_s);
    if (f.answer->no_responders) {
        free(f.answer);
        return pg_error_set(err, PG_ENET, "bus: no answer to \"%s\": nothing subscribes to it",
                            subject);
    }
    void *copy = malloc(f.answer->len ? f.answer->len : 1);
    if (!copy) {
        free(f.answer);
        return pg_error_set(err, PG_ENOMEM, "bus: out of memory");
    }
    if (f.answer->len)
        memcpy(copy, f.answer->data, f.answer->len);
    *reply = copy;
    *reply_len = f.answer->len;
    free(f.answer);
    return PG_OK;
}

static int
nats_flush(pg_bus *b, double timeout_s, pg_error *err)
{
    nbus *n = as_nats(b);
    int rc = check_timeout(timeout_s, "flush", err);
    if (rc)
        return rc;
    double ms = ceil(timeout_s * 1000.0);
    int64_t t = ms < 1 ? 1 : ms > 1e12 ? (int64_t)1e12 : (int64_t)ms;
    if ((rc = send_held(n, err)))
        return rc;
    /* Not connected: say so at once (what is published meanwhile is buffered and sent when the
     * connection is back) rather than wait out the timeout. */
    natsStatus s = NATS_CONNECTION_DISCONNECTED;
    if (natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED)
        s = natsConnection_FlushTimeout(n->nc, t);
    if (s == NATS_TIMEOUT && natsConnection_Status(n->nc) != NATS_CONN_STATUS_CONNECTED)
        s = NATS_CONNECTION_DISCONNECTED;
    return s == NATS_OK ? PG_OK : nats_fail(err, s, "flush", n);
}

static size_t
nats_server(const pg_bus *b, char *buf, size_t n)
{
    const nbus *nb = (const nbus *)b;
    char url[1024];
    if (natsConnection_GetConnectedUrl(nb->nc, url, sizeof url) != NATS_OK)
        url[0] = 0;
    url_shown(url, strlen(url), buf, n);
    return strlen(buf);
}

/* Closes the connection (which ends every subscription), waits a little for cnats's threads to
 * let go of the core, and frees what is the bus's. Messages still queued are dropped. */
static void
nats_close(pg_bus *b)
{
    nbus *n = as_nats(b);
    if (n->nc)
        natsConnection_Close(n->nc);
    for (size_t i = 0; i < n->n_subs; i++)
        natsSubscription_Destroy(n->subs[i].ns);
    if (n->inbox_ns)
        natsSubscription_Destroy(n->inbox_ns);
    if (n->nc)
        natsConnection_Destroy(n->nc);
    core *c = n->c;
    pthread_mutex_lock(&c->mu);
    double deadline = pgi_now() + CLOSE_WAIT_S;
    while (c->refs > 1 && core_wait(c, deadline)) {
    }
    pthread_mutex_unlock(&c->mu);
    for (frame *f = n->frames; f; f = f->up) /* closed from a handler: not allowed, but tidy */
        free(f->answer);
    free_items(n->held);
    core_release(c);
    free(n->subs);
    free(n);
}

int
pgi_bus_nats_set_limits(pg_bus *b, size_t max_queued_bytes, pg_error *err)
{
    if (!b || strcmp(b->transport->name, "nats") != 0)
        return pg_error_set(err, PG_EINVAL, "bus: not a NATS bus");
    if (max_queued_bytes == 0)
        return pg_error_set(err, PG_EINVAL, "bus: a queue bound of 0 bytes");
    nbus *n = as_nats(b);
    pthread_mutex_lock(&n->c->mu);
    n->c->max_queued = max_queued_bytes;
    pthread_mutex_unlock(&n->c->mu);
    return PG_OK;
}

const pg_bus_transport pgi_nats_transport = {
    .name = "nats",
    .summary = "NATS (cnats): messages from nats-servers, delivered when the bus is polled",
    .open = nats_open,
    .publish = nats_publish,
    .subscribe = nats_subscribe,
    .unsubscribe = nats_unsubscribe,
    .request = nats_request,
    .flush = nats_flush,
    .poll = nats_poll,
    .server = nats_server,
    .close = nats_close,
    .subscribe_queue = nats_subscribe_queue,
    .max_payload = nats_max_payload,
};
