/* The in-process bus: delivery order, wildcards, copies, request and reply, handlers that
 * subscribe, unsubscribe, publish and flush while a message is delivered, the limits on queued
 * bytes and on deliveries, bad arguments, every allocation failing in turn, and random sequences
 * of calls against a plain reference model of the same rules. */
#include <limits.h>

#include "harness.h"

#include "lattice/bus_internal.h"
#include "plurigrid/lattice.h"

/* A log of deliveries: "name:subject:data[:reply]" joined by spaces. */
typedef struct logbuf {
    char text[65536];
} logbuf;

typedef struct rec {
    const char *name;
    logbuf *log;
} rec;

static void
on_rec(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    rec *r = ctx;
    size_t k = strlen(r->log->text);
    snprintf(r->log->text + k, sizeof r->log->text - k, "%s%s:%s:%.*s%s%s", k ? " " : "", r->name,
             subject, (int)len, (const char *)data, reply ? ":" : "", reply ? reply : "");
}

static pg_bus *
open_bus(void)
{
    pg_bus *b = NULL;
    pg_error err = {0};
    assert_int_equal(pg_bus_open(&b, "inproc", NULL, &err), PG_OK);
    assert_non_null(b);
    return b;
}

static void
pub(pg_bus *b, const char *subject, const char *text)
{
    pg_error err = {0};
    assert_int_equal(pg_bus_publish(b, subject, text, strlen(text), &err), PG_OK);
}

static uint64_t
subscribe(pg_bus *b, const char *pattern, rec *r)
{
    pg_error err = {0};
    uint64_t sid = 0;
    assert_int_equal(pg_bus_subscribe(b, pattern, on_rec, r, &sid, &err), PG_OK);
    assert_true(sid > 0);
    return sid;
}

static void
flush(pg_bus *b)
{
    pg_error err = {0};
    assert_int_equal(pg_bus_flush(b, 1.0, &err), PG_OK);
}

/* Messages go FIFO, each to the matching subscriptions in the order they were made, and only when
 * the bus is flushed; the data is copied at publish. */
static void
test_order_and_wildcards(void **state)
{
    (void)state;
    logbuf log = {""};
    rec a = {"A", &log}, b2 = {"B", &log}, c = {"C", &log};
    pg_bus *b = open_bus();
    subscribe(b, "pg.*.bid", &a);
    subscribe(b, "pg.>", &b2);
    subscribe(b, "pg.c1.bid", &c);
    char data[8] = "one";
    assert_int_equal(pg_bus_publish(b, "pg.c1.bid", data, 3, NULL), PG_OK);
    memcpy(data, "XXX", 3); /* the bus holds its own copy */
    pub(b, "pg.c2.clear", "two");
    pub(b, "other", "three");
    pub(b, "pg.c2.bid", "four");
    assert_string_equal(log.text, ""); /* nothing before the flush */
    flush(b);
    assert_string_equal(log.text, "A:pg.c1.bid:one B:pg.c1.bid:one C:pg.c1.bid:one "
                                  "B:pg.c2.clear:two A:pg.c2.bid:four B:pg.c2.bid:four");
    pg_bus_stats st;
    pg_bus_get_stats(b, &st);
    assert_int_equal(st.published, 4);
    assert_int_equal(st.delivered, 6);
    assert_int_equal(st.dropped, 0);
    /* an empty flush delivers nothing; an empty payload is a message */
    log.text[0] = '\0';
    flush(b);
    assert_int_equal(pg_bus_publish(b, "pg.c1.bid", NULL, 0, NULL), PG_OK);
    flush(b);
    assert_string_equal(log.text, "A:pg.c1.bid: B:pg.c1.bid: C:pg.c1.bid:");
    pg_bus_close(b);
    pg_bus_close(NULL);
}

/* A responder answers on the reply subject; pg_bus_request returns the first answer. */
typedef struct responder {
    pg_bus *b;
    int calls;
    int answers; /* how many answers it sends */
} responder;

static void
on_request(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    responder *r = ctx;
    r->calls++;
    assert_non_null(reply);
    assert_true(strncmp(reply, "_INBOX.", 7) == 0);
    for (int i = 0; i < r->answers; i++) {
        char out[64];
        int n = snprintf(out, sizeof out, "re[%d]:%.*s", i, (int)len, (const char *)data);
        assert_int_equal(pg_bus_publish(r->b, reply, out, (size_t)n, NULL), PG_OK);
    }
}

/* A handler that makes a request while a message is delivered. */
typedef struct asker {
    pg_bus *b;
    char answer[64];
    int rc;
} asker;

static void
on_ask(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject, (void)reply;
    asker *a = ctx;
    void *ans = NULL;
    size_t n = 0;
    a->rc = pg_bus_request(a->b, "svc.echo", data, len, 1, &ans, &n, NULL);
    if (a->rc == PG_OK)
        snprintf(a->answer, sizeof a->answer, "%.*s", (int)n, (const char *)ans);
    free(ans);
}

static void
test_request_reply(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_bus *b = open_bus();
    logbuf log = {""};
    rec all = {"ALL", &log};
    responder r = {b, 0, 2};
    uint64_t sid;
    assert_int_equal(pg_bus_subscribe(b, "svc.echo", on_request, &r, &sid, &err), PG_OK);
    subscribe(b, "svc.*", &all);
    /* a message queued before the request is delivered first, one queued later stays queued */
    pub(b, "svc.before", "x");
    void *reply = NULL;
    size_t len = 0;
    assert_int_equal(pg_bus_request(b, "svc.echo", "hi", 2, 1.0, &reply, &len, &err), PG_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(reply, "re[0]:hi", 8);
    free(reply);
    assert_int_equal(r.calls, 1);
    assert_string_equal(log.text, "ALL:svc.before:x ALL:svc.echo:hi:_INBOX.1");
    /* the second answer stays queued and goes nowhere (the inbox is unsubscribed) */
    log.text[0] = '\0';
    flush(b);
    assert_string_equal(log.text, "");
    /* each request has its own inbox */
    assert_int_equal(pg_bus_request(b, "svc.echo", "yo", 2, 1.0, &reply, &len, &err), PG_OK);
    assert_memory_equal(reply, "re[0]:yo", 8);
    free(reply);
    assert_string_equal(log.text, "ALL:svc.echo:yo:_INBOX.2");
    /* nobody answers */
    r.answers = 0;
    reply = (void *)&r;
    assert_int_equal(pg_bus_request(b, "svc.echo", "hi", 2, 1.0, &reply, &len, &err), PG_ENET);
    assert_non_null(strstr(err.msg, "no answer to \"svc.echo\""));
    assert_ptr_equal(reply, &r); /* untouched */
    assert_int_equal(pg_bus_request(b, "nobody.home", "hi", 2, 1.0, &reply, &len, &err), PG_ENET);
    /* a request from inside a handler */
    r.answers = 1;
    asker ak = {b, "", -1};
    assert_int_equal(pg_bus_subscribe(b, "ask", on_ask, &ak, NULL, &err), PG_OK);
    pub(b, "ask", "q1");
    flush(b);
    assert_int_equal(ak.rc, PG_OK);
    assert_string_equal(ak.answer, "re[0]:q1");
    /* publish_reply delivers the reply subject */
    log.text[0] = '\0';
    assert_int_equal(pg_bus_publish_reply(b, "svc.x", "my.inbox", "d", 1, &err), PG_OK);
    flush(b);
    assert_string_equal(log.text, "ALL:svc.x:d:my.inbox");
    pg_bus_close(b);
}

/* Handlers that change subscriptions while a message is delivered. */
typedef struct churn {
    pg_bus *b;
    uint64_t victim; /* unsubscribed at the first message */
    rec *late;       /* subscribed at the first message */
    bool done;
    logbuf *log;
} churn;

static void
on_churn(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)data;
    (void)len;
    (void)reply;
    churn *c = ctx;
    size_t k = strlen(c->log->text);
    snprintf(c->log->text + k, sizeof c->log->text - k, "%sK:%s", k ? " " : "", subject);
    if (c->done)
        return;
    c->done = true;
    pg_error err = {0};
    assert_int_equal(pg_bus_unsubscribe(c->b, c->victim, &err), PG_OK);
    assert_int_equal(pg_bus_unsubscribe(c->b, c->victim, &err), PG_ENOTFOUND);
    /* many subscriptions, so the table grows (moves) during the delivery */
    for (int i = 0; i < 40; i++)
        subscribe(c->b, "never.matches", c->late);
    subscribe(c->b, "m.>", c->late);
}

static void
test_subscribe_unsubscribe_during_delivery(void **state)
{
    (void)state;
    logbuf log = {""};
    rec before = {"P", &log}, victim = {"V", &log}, late = {"L", &log};
    pg_bus *b = open_bus();
    churn c = {b, 0, &late, false, &log};
    subscribe(b, "m.*", &before);
    uint64_t sid;
    assert_int_equal(pg_bus_subscribe(b, "m.*", on_churn, &c, &sid, NULL), PG_OK);
    c.victim = subscribe(b, "m.*", &victim);
    pub(b, "m.1", "a");
    pub(b, "m.2", "b");
    flush(b);
    /* V is gone before its turn at m.1; L, made during m.1, sees from m.2 on */
    assert_string_equal(log.text, "P:m.1:a K:m.1 P:m.2:b K:m.2 L:m.2:b");
    /* a handler unsubscribing itself */
    assert_int_equal(pg_bus_unsubscribe(b, sid, NULL), PG_OK);
    log.text[0] = '\0';
    pub(b, "m.3", "c");
    flush(b);
    assert_string_equal(log.text, "P:m.3:c L:m.3:c");
    pg_bus_close(b);
}

/* A handler that publishes: its messages go to the back of the queue and are delivered in the same
 * flush; one that flushes delivers what is queued after the current message first. */
typedef struct chain {
    pg_bus *b;
    int n, max;
    bool nested_flush;
    logbuf *log;
} chain;

static void
on_chain(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    chain *c = ctx;
    size_t k = strlen(c->log->text);
    snprintf(c->log->text + k, sizeof c->log->text - k, "%s%s=%.*s", k ? " " : "", subject,
             (int)len, (const char *)data);
    if (c->n < c->max) {
        char s[32];
        snprintf(s, sizeof s, "next.%d", ++c->n);
        pub(c->b, s, "r");
        if (c->nested_flush)
            flush(c->b);
    }
}

static void
test_reentrant_publish(void **state)
{
    (void)state;
    logbuf log = {""};
    pg_bus *b = open_bus();
    chain c = {b, 0, 3, false, &log};
    rec tail = {"T", &log};
    assert_int_equal(pg_bus_subscribe(b, ">", on_chain, &c, NULL, NULL), PG_OK);
    subscribe(b, "x", &tail);
    pub(b, "x", "1");
    pub(b, "y", "2");
    flush(b);
    assert_string_equal(log.text, "x=1 T:x:1 y=2 next.1=r next.2=r next.3=r");
    /* nested flush: next.1 is delivered inside x's delivery, before T gets x */
    log.text[0] = '\0';
    c.n = 0;
    c.nested_flush = true;
    pub(b, "x", "1");
    flush(b);
    assert_string_equal(log.text, "x=1 next.1=r next.2=r next.3=r T:x:1");
    pg_bus_close(b);
}

static void
on_loop(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    pg_error err = {0};
    pg_bus_publish(ctx, subject, data, len, &err);
}

static void
on_double(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    pg_error err = {0};
    pg_bus_publish(ctx, subject, data, len, &err);
    pg_bus_publish(ctx, subject, data, len, &err);
}

static void
on_deep(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)reply;
    pg_error err = {0};
    if (pg_bus_publish(ctx, subject, data, len, &err) == PG_OK)
        pg_bus_flush(ctx, 0, &err);
}

/* A handler publishing forever ends the flush with PG_ELIMIT; one that doubles the queue every time
 * reaches the byte limit; nested flushes stop at the depth limit. The bus stays usable. */
static void
test_limits(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_bus *b = open_bus();
    assert_int_equal(pgi_bus_inproc_set_limits(b, 4096, 1000, &err), PG_OK);
    assert_int_equal(pgi_bus_inproc_set_limits(NULL, 1, 1, &err), PG_EINVAL);
    /* queue limit at publish */
    char payload[1000] = {0};
    int ok = 0, rc;
    while ((rc = pg_bus_publish(b, "big", payload, sizeof payload, &err)) == PG_OK)
        ok++;
    assert_int_equal(rc, PG_ELIMIT);
    assert_int_equal(ok, 3);
    assert_non_null(strstr(err.msg, "limit of 4096 bytes"));
    flush(b); /* nobody listens: the queue empties */
    assert_int_equal(pg_bus_publish(b, "big", payload, sizeof payload, &err), PG_OK);
    flush(b);

    /* a loop of republishing */
    uint64_t sid;
    assert_int_equal(pg_bus_subscribe(b, "loop", on_loop, b, &sid, &err), PG_OK);
    pub(b, "loop", "x");
    pub(b, "loop", "y");
    assert_int_equal(pg_bus_flush(b, 0, &err), PG_ELIMIT);
    assert_non_null(strstr(err.msg, "after 1000 deliveries"));
    assert_non_null(strstr(err.msg, "2 queued messages were dropped"));
    pg_bus_stats st;
    pg_bus_get_stats(b, &st);
    assert_int_equal(st.dropped, 2);
    flush(b); /* empty now */
    assert_int_equal(pg_bus_unsubscribe(b, sid, &err), PG_OK);

    /* doubling: publish fails at the byte limit, deliveries end it */
    assert_int_equal(pg_bus_subscribe(b, "dbl", on_double, b, &sid, &err), PG_OK);
    pub(b, "dbl", "x");
    assert_int_equal(pg_bus_flush(b, 0, &err), PG_ELIMIT);
    assert_int_equal(pg_bus_unsubscribe(b, sid, &err), PG_OK);

    /* nesting depth */
    assert_int_equal(pg_bus_subscribe(b, "deep", on_deep, b, &sid, &err), PG_OK);
    pub(b, "deep", "x");
    /* each level fails at the depth limit and the chain unwinds; the outer flush then finds the
     * queue empty or hits the delivery limit: either way it returns and the bus works */
    pg_bus_flush(b, 0, &err);
    assert_int_equal(pg_bus_unsubscribe(b, sid, &err), PG_OK);
    pg_bus_flush(b, 0, &err);
    logbuf log = {""};
    rec r = {"R", &log};
    subscribe(b, "ok", &r);
    pub(b, "ok", "1");
    flush(b);
    assert_string_equal(log.text, "R:ok:1");
    pg_bus_close(b);

    /* the default limits are the documented ones */
    assert_int_equal(PGI_INPROC_MAX_QUEUED, 256u << 20);
    assert_true(PGI_INPROC_MAX_DELIVERIES == 100000000u);
}

static void
on_nothing(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)ctx, (void)subject, (void)data, (void)len, (void)reply;
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    pg_error err = {0};
    pg_bus *b = NULL;
    assert_int_equal(pg_bus_open(&b, "carrier-pigeon", NULL, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "unknown bus transport \"carrier-pigeon\" (known: inproc, nats)"));
    assert_null(pg_bus_transport_find(NULL, &err));
    assert_int_equal(pg_bus_open(&b, "inproc", "nats://x", &err), PG_EINVAL);
    assert_null(b);
    assert_int_equal(pg_bus_open(NULL, "inproc", NULL, &err), PG_EINVAL);
    size_t n = 0;
    const pg_bus_transport *t = pg_bus_transports(&n);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].name, "inproc");
    assert_string_equal(t[1].name, "nats");
    assert_ptr_equal(pg_bus_transport_find("inproc", &err), &t[0]);

    b = open_bus();
    assert_int_equal(pg_bus_publish(b, "a..b", "x", 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "subject \"a..b\" is not valid: it has an empty token"));
    assert_int_equal(pg_bus_publish(b, "a.*", "x", 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "wildcard"));
    assert_int_equal(pg_bus_publish(b, "a\nb", "x", 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "\"a?b\""));
    assert_int_equal(pg_bus_publish(b, NULL, "x", 1, &err), PG_EINVAL);
    assert_int_equal(pg_bus_publish(b, "a", NULL, 3, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "no data"));
    assert_int_equal(pg_bus_publish_reply(b, "a", "r.>", "x", 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "reply subject \"r.>\""));
    char *big = calloc(PG_BUS_MAX_PAYLOAD + 1, 1);
    assert_non_null(big);
    assert_int_equal(pg_bus_publish(b, "a", big, PG_BUS_MAX_PAYLOAD + 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "more than the limit of 1048576"));
    assert_int_equal(pg_bus_publish(b, "a", big, PG_BUS_MAX_PAYLOAD, &err), PG_OK);
    free(big);
    char longs[PG_BUS_MAX_SUBJECT + 10];
    memset(longs, 'q', sizeof longs);
    longs[sizeof longs - 1] = '\0';
    assert_int_equal(pg_bus_publish(b, longs, "x", 1, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "longer than 256 bytes"));
    assert_int_equal(pg_bus_subscribe(b, "a.>.b", on_nothing, NULL, NULL, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "pattern \"a.>.b\""));
    assert_int_equal(pg_bus_subscribe(b, "a", NULL, NULL, NULL, &err), PG_EINVAL);
    assert_int_equal(pg_bus_unsubscribe(b, 999, &err), PG_ENOTFOUND);
    assert_int_equal(pg_bus_flush(b, NAN, &err), PG_EINVAL);
    assert_int_equal(pg_bus_flush(b, -1, &err), PG_EINVAL);
    assert_int_equal(pg_bus_flush(b, INFINITY, &err), PG_OK);
    void *reply;
    size_t len;
    assert_int_equal(pg_bus_request(b, "a.*", "x", 1, 1, &reply, &len, &err), PG_EINVAL);
    assert_int_equal(pg_bus_request(b, "a", "x", 1, 1, NULL, &len, &err), PG_EINVAL);
    assert_int_equal(pg_bus_request(b, "a", "x", 1, NAN, &reply, &len, &err), PG_EINVAL);
    /* NULL bus */
    assert_int_equal(pg_bus_publish(NULL, "a", "x", 1, &err), PG_EINVAL);
    assert_int_equal(pg_bus_flush(NULL, 0, &err), PG_EINVAL);
    pg_bus_stats st = {1, 1, 1, 1, 1};
    pg_bus_get_stats(NULL, &st);
    assert_int_equal(st.published, 0);
    /* unflushed messages are dropped at close (ASan checks nothing leaks) */
    pub(b, "left", "behind");
    pg_bus_close(b);
}

static void
on_request_quiet(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)subject;
    if (reply)
        pg_bus_publish(ctx, reply, data, len, NULL);
}

/* Every allocation of a round of calls failing in turn: the failing call says out of memory, the
 * bus stays consistent, and nothing leaks. */
static void
test_alloc_failures(void **state)
{
    (void)state;
    long total = -1;
    for (long k = 0;; k++) {
        pg_error err = {0};
        pgt_alloc_fail_after(k == 0 ? LONG_MAX : k - 1);
        pg_bus *b = NULL;
        int rc = pg_bus_open(&b, "inproc", NULL, &err);
        void *reply = NULL;
        size_t len = 0;
        if (rc == PG_OK) {
            rc = pg_bus_subscribe(b, "svc", on_request_quiet, b, NULL, &err);
            if (rc == PG_OK)
                rc = pg_bus_publish(b, "other", "x", 1, &err);
            if (rc == PG_OK)
                rc = pg_bus_request(b, "svc", "y", 1, 1, &reply, &len, &err);
            if (rc == PG_OK)
                rc = pg_bus_flush(b, 1, &err);
        }
        if (k == 0) {
            total = pgt_alloc_count();
            assert_int_equal(rc, PG_OK);
        } else if (k <= total) {
            /* a responder's answer that cannot be published means no answer */
            if (rc != PG_ENOMEM && rc != PG_ENET)
                fail_msg("allocation %ld failing gave %d (%s)", k - 1, rc, err.msg);
        }
        pgt_alloc_fail_after(-1);
        free(reply);
        pg_bus_close(b);
        if (k > total)
            break;
    }
    assert_true(total >= 5);
}

/* Many subscriptions to one subject: the list of matches does not fit the bus's small buffer and
 * is allocated; when that allocation fails, every subscription is tried instead and the message
 * still reaches them all, in order. Shapes beyond the index's small buffer too. */
static void
test_many_subscriptions(void **state)
{
    (void)state;
    static logbuf log, want;
    static rec r[80];
    char name[80][16];
    for (int fail = 0; fail < 2; fail++) {
        pg_bus *b = open_bus();
        log.text[0] = want.text[0] = '\0';
        for (int i = 0; i < 80; i++) {
            snprintf(name[i], sizeof name[i], "s%d", i);
            r[i] = (rec){name[i], &log};
            /* 70 different shapes of 70 tokens or fewer, and ten plain ones */
            char pat[200] = "";
            if (i < 70) {
                for (int t = 0; t <= i && t < 70; t++)
                    strcat(pat, t ? (t == i ? ".*" : ".a") : "a");
                if (i == 0)
                    strcpy(pat, "*");
            } else {
                strcpy(pat, "a");
            }
            subscribe(b, pat, &r[i]);
        }
        pub(b, "a", "m");
        /* "a" matches "*" (s0) and the ten plain ones; a.a (s1 is "a.*") */
        pub(b, "a.a", "n");
        for (int i = 0; i < 80; i++)
            if (i == 0 || i >= 70) {
                size_t k = strlen(want.text);
                snprintf(want.text + k, sizeof want.text - k, "%ss%d:a:m", k ? " " : "", i);
            }
        strcat(want.text, " s1:a.a:n");
        if (fail)
            pgt_alloc_fail_after(0);
        flush(b);
        pgt_alloc_fail_after(-1);
        assert_string_equal(log.text, want.text);
        pg_bus_close(b);
    }
}

/* ---------------------------------------------------------------- random calls vs a model */

/* The reference: patterns and subjects as token arrays, matched recursively. */
static bool
ref_match(const char *pattern, const char *subject)
{
    char p[300], s[300];
    strcpy(p, pattern);
    strcpy(s, subject);
    const char *pt[64], *st[64];
    int np = 0, ns = 0;
    for (char *t = strtok(p, "."); t; t = strtok(NULL, "."))
        pt[np++] = t;
    for (char *t = strtok(s, "."); t; t = strtok(NULL, "."))
        st[ns++] = t;
    for (int i = 0; i < np; i++) {
        if (strcmp(pt[i], ">") == 0)
            return ns > i;
        if (i >= ns)
            return false;
        if (strcmp(pt[i], "*") != 0 && strcmp(pt[i], st[i]) != 0)
            return false;
    }
    return np == ns;
}

typedef struct fz_sub {
    uint64_t sid;
    char pattern[64];
    int id;
    bool live;
} fz_sub;

typedef struct fz_ctx {
    int id;
    char *log; /* 1 MiB */
} fz_ctx;

static void
on_fz(void *ctx, const char *subject, const void *data, size_t len, const char *reply)
{
    (void)data;
    (void)reply;
    fz_ctx *c = ctx;
    size_t k = strlen(c->log);
    assert_true(k + 64 < (1 << 20));
    snprintf(c->log + k, (1 << 20) - k, "%d<%s#%zu ", c->id, subject, len);
}

static void
test_random_against_reference(void **state)
{
    (void)state;
    static const char *tok[] = {"a", "b", "c", "dd", "e"};
    static const char *ptok[] = {"a", "b", "c", "dd", "e", "*", "*", ">"};
    uint64_t x = 88172645463325252ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    for (int round = 0; round < 200; round++) {
        pg_bus *b = open_bus();
        static fz_sub subs[200];
        static fz_ctx ctxs[200];
        static char queue[64][64];
        static struct {
            char text[1 << 20];
        } got, want;
        int n_subs = 0, n_q = 0;
        got.text[0] = want.text[0] = '\0';
        for (int op = 0; op < 400; op++) {
            int what = (int)(RND() % 10);
            if (what < 3 && n_subs < 200) {
                fz_sub *s = &subs[n_subs];
                int nt = 1 + (int)(RND() % 4);
                s->pattern[0] = '\0';
                for (int t = 0; t < nt; t++) {
                    const char *w = ptok[RND() % 8];
                    if (strcmp(w, ">") == 0 && t != nt - 1)
                        w = "*";
                    strcat(s->pattern, t ? "." : "");
                    strcat(s->pattern, w);
                }
                s->id = n_subs;
                ctxs[n_subs] = (fz_ctx){n_subs, got.text};
                assert_int_equal(
                    pg_bus_subscribe(b, s->pattern, on_fz, &ctxs[n_subs], &s->sid, NULL), PG_OK);
                s->live = true;
                n_subs++;
            } else if (what < 4 && n_subs > 0) {
                fz_sub *s = &subs[RND() % (uint64_t)n_subs];
                assert_int_equal(pg_bus_unsubscribe(b, s->sid, NULL),
                                 s->live ? PG_OK : PG_ENOTFOUND);
                s->live = false;
            } else if (what < 9 && n_q < 64) {
                int nt = 1 + (int)(RND() % 4);
                char *q = queue[n_q++];
                q[0] = '\0';
                for (int t = 0; t < nt; t++) {
                    strcat(q, t ? "." : "");
                    strcat(q, tok[RND() % 5]);
                }
                assert_int_equal(pg_bus_publish(b, q, q, strlen(q), NULL), PG_OK);
            } else {
                for (int m = 0; m < n_q; m++)
                    for (int i = 0; i < n_subs; i++) {
                        if (!subs[i].live || !ref_match(subs[i].pattern, queue[m]))
                            continue;
                        assert_true(pg_bus_subject_match(subs[i].pattern, queue[m]));
                        size_t k = strlen(want.text);
                        snprintf(want.text + k, sizeof want.text - k, "%d<%s#%zu ", i, queue[m],
                                 strlen(queue[m]));
                    }
                n_q = 0;
                flush(b);
                assert_string_equal(got.text, want.text);
            }
        }
        pg_bus_close(b);
    }
#undef RND
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_wildcards),
        cmocka_unit_test(test_request_reply),
        cmocka_unit_test(test_subscribe_unsubscribe_during_delivery),
        cmocka_unit_test(test_reentrant_publish),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_many_subscriptions),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
