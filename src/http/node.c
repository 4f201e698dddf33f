/* The server inside `plurigrid node --http` (docs/http.md, "Live state and nodes"): the table
 * pg_http_node_api the node command fetches from this module (node_api.h) to start the server
 * before its run, feed it the run's events and stop it, and GET /api/node, the node's own state:
 * its member, community, variant and market, the server of the bus it is connected to, the
 * operator, the interval, its ledger and its uptime. The node's state is kept here from the
 * run's events (under a mutex: the run's thread writes, request threads read); the live state
 * of the run is live.c's, fed by the same events. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "http/http.h"
#include "http/node_api.h"

typedef struct node_app {
    pthread_mutex_t mu;
    pgh_server *s;
    char *member, *community, *scenario, *variant, *market, *servers, *ledger;
    char **members;
    size_t n_members, intervals;
    double step_h, t0;
    bool has_conn, connected;
    char server[256];
    char op[64];
    uint64_t term;
    bool has_interval;
    size_t interval;
    bool cleared, ended, stopped;
} node_app;

static void
app_free(node_app *a)
{
    if (!a)
        return;
    free(a->member);
    free(a->community);
    free(a->scenario);
    free(a->variant);
    free(a->market);
    free(a->servers);
    free(a->ledger);
    for (size_t i = 0; a->members && i < a->n_members; i++)
        free(a->members[i]);
    free(a->members);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static json_t *
str_or_null(const char *s)
{
    return s && s[0] ? pgi_json_str(s) : json_null();
}

/* The node's state (the lock held). */
static json_t *
node_json(const node_app *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "member", str_or_null(a->member));
    json_object_set_new(o, "community", str_or_null(a->community));
    json_object_set_new(o, "scenario", str_or_null(a->scenario));
    json_object_set_new(o, "variant", str_or_null(a->variant));
    json_object_set_new(o, "market", str_or_null(a->market));
    json_object_set_new(o, "servers", str_or_null(a->servers));
    json_object_set_new(o, "server", a->connected ? str_or_null(a->server) : json_null());
    json_object_set_new(o, "connected", json_boolean(a->connected));
    if (a->op[0]) {
        json_t *op = json_object();
        if (op) {
            json_object_set_new(op, "name", pgi_json_str(a->op));
            json_object_set_new(op, "term", json_integer((json_int_t)a->term));
            json_object_set_new(op, "self", json_boolean(strcmp(a->op, a->member) == 0));
        }
        json_object_set_new(o, "operator", op);
    } else {
        json_object_set_new(o, "operator", json_null());
    }
    if (a->has_interval) {
        json_t *iv = json_object();
        if (iv) {
            json_object_set_new(iv, "index", json_integer((json_int_t)a->interval));
            json_object_set_new(iv, "time_h", pgi_json_num((double)a->interval * a->step_h));
            json_object_set_new(iv, "state", json_string(a->cleared ? "cleared" : "open"));
        }
        json_object_set_new(o, "interval", iv);
    } else {
        json_object_set_new(o, "interval", json_null());
    }
    json_object_set_new(o, "intervals", json_integer((json_int_t)a->intervals));
    json_object_set_new(o, "step_h", pgi_json_num(a->step_h));
    json_object_set_new(o, "ledger", str_or_null(a->ledger));
    json_object_set_new(o, "state",
                        json_string(!a->ended    ? "running"
                                    : a->stopped ? "stopped"
                                                 : "done"));
    json_object_set_new(o, "uptime_s", pgi_json_num(pgi_now() - a->t0));
    return o;
}

static int
get_node(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)rq;
    node_app *a = pgh_server_options(s)->app;
    if (!a)
        return pgh_reply_error(rp, 404, "not_found", "this server is not inside a node");
    pthread_mutex_lock(&a->mu);
    json_t *v = node_json(a);
    pthread_mutex_unlock(&a->mu);
    if (!v)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    return pgh_reply_json(rp, 200, v, err);
}

static const pgh_route node_routes[] = {
    {"GET", "/api/node", get_node,
     "the node: its member, community, variant, market, connection, operator, interval, ledger"},
};

const pgh_route_set pgh_routes_node = {node_routes, sizeof node_routes / sizeof *node_routes};

/* ---------------------------------------------------------------- the table */

static char *
dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = pgi_strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* The servers' URLs with their user and password replaced by three stars, as the bus shows
 * them. */
static char *
masked(const char *urls, bool *ok)
{
    if (!urls)
        return NULL;
    pgi_buf b = {0};
    for (const char *p = urls; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *at = memchr(p, '@', n), *sl = strstr(p, "//");
        if (at && sl && sl < at) {
            pgi_buf_append(&b, p, (size_t)(sl + 2 - p));
            pgi_buf_puts(&b, "***");
            pgi_buf_append(&b, at, n - (size_t)(at - p));
        } else {
            pgi_buf_append(&b, p, n);
        }
        p += n;
        if (*p == ',') {
            pgi_buf_puts(&b, ",");
            p++;
        }
    }
    if (!b.data || b.failed) {
        pgi_buf_free(&b);
        *ok = false;
        return NULL;
    }
    return b.data;
}

static int
node_start(void **out, const pg_http_node_info *info, char *url, size_t url_len, pg_error *err)
{
    node_app *a = calloc(1, sizeof *a);
    if (!a)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    bool ok = true;
    a->member = dup_or_null(info->member, &ok);
    a->community = dup_or_null(info->community, &ok);
    a->scenario = dup_or_null(info->scenario, &ok);
    a->variant = dup_or_null(info->variant, &ok);
    a->market = dup_or_null(info->market, &ok);
    a->servers = masked(info->servers, &ok);
    a->ledger = dup_or_null(info->ledger, &ok);
    a->intervals = info->intervals;
    a->step_h = info->step_h;
    a->t0 = pgi_now();
    if (ok && info->n_members && !(a->members = calloc(info->n_members, sizeof *a->members)))
        ok = false;
    for (size_t i = 0; ok && i < info->n_members; i++) {
        if (!(a->members[i] = pgi_strdup(info->members[i] ? info->members[i] : "")))
            ok = false;
        else
            a->n_members++;
    }
    if (!ok) {
        app_free(a);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    pgh_options o;
    pgh_options_init(&o);
    o.listen = info->listen;
    o.token = info->token;
    o.extra = &pgh_routes_node;
    o.n_extra = 1;
    o.app = a;
    o.log = info->log;
    o.log_ud = info->log_ud;
    o.log_level = PG_LOG_WARN;
    int rc = pgh_server_start(&a->s, &o, err);
    if (rc) {
        app_free(a);
        return rc;
    }
    char source[128];
    snprintf(source, sizeof source, "node %.100s", a->member ? a->member : "");
    pgh_live_begin(a->s, source, a->community, (const char *const *)a->members, a->n_members,
                   a->intervals, a->step_h);
    snprintf(url, url_len, "%s", pgh_server_url(a->s));
    *out = a;
    return PG_OK;
}

/* A "node" event on /api/events: the node's state after a change. */
static void
publish_node(node_app *a)
{
    pthread_mutex_lock(&a->mu);
    json_t *v = node_json(a);
    pthread_mutex_unlock(&a->mu);
    if (v)
        pgh_events_publish(a->s, "node", v);
}

static void
node_event(void *ud, const pg_community_event *ev)
{
    node_app *a = ud;
    bool changed = false;
    pthread_mutex_lock(&a->mu);
    switch (ev->kind) {
    case PG_COMMUNITY_EVENT_OPERATOR:
        snprintf(a->op, sizeof a->op, "%s", ev->node ? ev->node : "");
        a->term = ev->term;
        changed = true;
        break;
    case PG_COMMUNITY_EVENT_OPEN:
        a->has_interval = true;
        a->interval = ev->interval;
        a->cleared = false;
        break;
    case PG_COMMUNITY_EVENT_CLEARED:
        if (a->has_interval && a->interval == ev->interval)
            a->cleared = true;
        break;
    case PG_COMMUNITY_EVENT_CONNECTION:
        a->has_conn = true;
        a->connected = ev->up;
        snprintf(a->server, sizeof a->server, "%s", ev->server ? ev->server : "");
        changed = true;
        break;
    default: break;
    }
    pthread_mutex_unlock(&a->mu);
    pgh_live_event(a->s, ev);
    if (changed)
        publish_node(a);
}

static void
node_end(void *server, bool stopped)
{
    node_app *a = server;
    pthread_mutex_lock(&a->mu);
    a->ended = true;
    a->stopped = stopped;
    pthread_mutex_unlock(&a->mu);
    pgh_live_end(a->s);
    publish_node(a);
}

static void
node_stop(void *server)
{
    node_app *a = server;
    if (!a)
        return;
    pgh_server_stop(a->s);
    pgh_live_forget(a->s);
    app_free(a);
}

__attribute__((visibility("default"))) const pg_http_node_table pg_http_node_api = {
    .version = PG_HTTP_NODE_API_VERSION,
    .start = node_start,
    .event = node_event,
    .end = node_end,
    .stop = node_stop,
};
