/* The HTTP server (http.h) on libmicrohttpd: one thread per connection, started and stopped by
 * pgh_server_start/stop. Every request goes through the same gate before any handler sees it:
 * the raw path is checked and percent-decoded (no "..", NUL, backslash or encoded slash), the
 * client address's token bucket is charged (429), /api/ requests must carry the bearer token when
 * there is one (401), the declared body size is checked (413) and the body is read only up to
 * the limit. Then /api/ paths are routed through the table assembled from the route sets (404,
 * 405), /api/events becomes a server-sent-events stream, and every other path is an exact lookup
 * in the files embedded from web/ (no file system). Every reply carries the security headers. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#include <microhttpd.h>

#include "core/json_write.h"
#include "core/util.h"
#include "http/internal.h"

#define MAX_PARAMS 8
#define RATE_SLOTS 4096
/* Beyond the body limit, a body without a declared length is read and dropped up to this many
 * more bytes so that the client can be told 413; a client that keeps sending is cut off. */
#define DISCARD_MAX ((size_t)1 << 20)
#define SSE_KEEPALIVE_S 15.0
/* Requests with a body larger than this are handled HEAVY_AT_ONCE at a time: parsing JSON takes
 * up to 40 times the text's size (a 16 MiB array of zeros is 600 MB of tree), so bodies handled
 * all at once by every connection would take the memory of the machine. */
#define HEAVY_BODY ((size_t)256 << 10)
#define HEAVY_AT_ONCE 2

typedef struct rate_slot {
    unsigned char addr[16];
    int used;
    double tokens, last;
} rate_slot;

typedef struct event {
    uint64_t id;
    char *text; /* "id: N\nevent: TYPE\ndata: JSON\n\n" */
    size_t len;
} event;

typedef struct slot {
    void *state;
    void (*free_fn)(void *);
} slot;

struct pgh_server {
    pgh_options o;
    char *listen, *token, *worlds, *scenarios, *data;
    size_t token_len;
    struct MHD_Daemon *d;
    int port;
    char url[96];
    bool loopback;
    const pgh_route **routes;
    size_t n_routes;

    pthread_mutex_t rl_mu;
    rate_slot *rl;

    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv;
    event ring[PGH_EVENTS_KEEP];
    uint64_t ev_last; /* id of the newest event (0: none yet) */
    bool stopping;

    pghi_jobs *jobs;

    pthread_mutex_t heavy_mu; /* requests with a heavy body being handled */
    pthread_cond_t heavy_cv;
    unsigned heavy;

    pthread_mutex_t slot_mu;
    slot slots[PGH_SLOTS];
};

struct pgh_request {
    pgh_server *s;
    struct MHD_Connection *c;
    char *raw;  /* the URI as received */
    char *path; /* percent-decoded, checked; NULL when refused */
    char method[16];
    bool started, head, api, too_large;
    int status; /* of the reply, for the log */
    const pgh_route *route;
    char *params[MAX_PARAMS];
    size_t n_params;
    char *body;
    size_t len, cap, discarded;
};

/* ---------------------------------------------------------------- small helpers */

void
pghi_utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
pghi_log(const pgh_server *s, pg_log_level level, const char *fmt, ...)
{
    if (!s || !s->o.log || level > s->o.log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->o.log(s->o.log_ud, level, msg);
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    pgh_server *s = cls;
    if (!s->o.log || s->o.log_level < PG_LOG_WARN)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    s->o.log(s->o.log_ud, PG_LOG_WARN, msg);
}

const pghi_file *
pghi_file_find(const pghi_file *table, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].path, path) == 0)
            return &table[i];
    return NULL;
}

bool
pgh_name_valid(const char *name)
{
    if (!name || !name[0] || name[0] == '.')
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- options */

void
pgh_options_init(pgh_options *o)
{
    memset(o, 0, sizeof *o);
    o->listen = PGH_DEFAULT_LISTEN;
    o->max_body = PGH_MAX_BODY_DEFAULT;
    o->max_connections = 64;
    o->max_per_ip = 32;
    o->rate_per_s = 20;
    o->rate_burst = 100;
    o->timeout_s = 30;
    o->job_threads = 2;
    o->max_jobs = 16;
    o->keep_jobs = 64;
    o->log_level = PG_LOG_WARN;
}

const pgh_options *
pgh_server_options(const pgh_server *s)
{
    return &s->o;
}

int
pgh_server_port(const pgh_server *s)
{
    return s->port;
}

const char *
pgh_server_url(const pgh_server *s)
{
    return s->url;
}

pghi_jobs *
pghi_server_jobs(const pgh_server *s)
{
    return s->jobs;
}

void *
pgh_server_slot(pgh_server *s, pgh_slot k, void *(*make)(pgh_server *), void (*free_fn)(void *))
{
    if (!s || (int)k < 0 || k >= PGH_SLOTS)
        return NULL;
    bool stopping = pghi_server_stopping(s);
    pthread_mutex_lock(&s->slot_mu);
    if (!s->slots[k].state && make && !stopping) {
        s->slots[k].state = make(s);
        s->slots[k].free_fn = free_fn;
    }
    void *v = s->slots[k].state;
    pthread_mutex_unlock(&s->slot_mu);
    return v;
}

/* ---------------------------------------------------------------- the listen address */

/* Parses "HOST:PORT" ("[v6]:PORT", "localhost:PORT") into ss. */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sl, bool *loopback,
             pg_error *err)
{
    char host[128];
    const char *port_s;
    memset(ss, 0, sizeof *ss);
    if (!listen || !*listen)
        return pg_error_set(err, PG_EINVAL, "--listen needs HOST:PORT, such as 127.0.0.1:8080");
    if (listen[0] == '[') {
        const char *e = strchr(listen, ']');
        if (!e || e[1] != ':' || (size_t)(e - listen - 1) >= sizeof host)
            goto bad;
        memcpy(host, listen + 1, (size_t)(e - listen - 1));
        host[e - listen - 1] = 0;
        port_s = e + 2;
    } else {
        const char *e = strrchr(listen, ':');
        if (!e || (size_t)(e - listen) >= sizeof host || strchr(listen, ':') != e)
            goto bad;
        memcpy(host, listen, (size_t)(e - listen));
        host[e - listen] = 0;
        port_s = e + 1;
    }
    if (!*port_s || strlen(port_s) > 5)
        goto bad;
    unsigned long port = 0;
    for (const char *p = port_s; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port > 65535)
        goto bad;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (listen[0] != '[' && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sl = sizeof *a4;
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return PG_OK;
    }
    if (listen[0] == '[' && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *a6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return PG_OK;
    }
bad:
    return pg_error_set(err, PG_EINVAL,
                        "--listen '%s' is not an address to listen on: give HOST:PORT with an IPv4 "
                        "address (127.0.0.1:8080), [IPv6]:PORT or localhost:PORT, PORT 0 to 65535",
                        listen);
}

/* ---------------------------------------------------------------- rate limit */

/* Charges one request to the client's token bucket; 0 when allowed, otherwise the seconds to
 * wait. */
static unsigned
rate_charge(pgh_server *s, const struct sockaddr *sa)
{
    if (!(s->o.rate_per_s > 0) || !sa)
        return 0;
    unsigned char key[16] = {0};
    if (sa->sa_family == AF_INET)
        memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else if (sa->sa_family == AF_INET6)
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    double t = pgi_now(), burst = s->o.rate_burst >= 1 ? s->o.rate_burst : 1;
    unsigned wait = 0;
    pthread_mutex_lock(&s->rl_mu);
    rate_slot *hit = NULL, *oldest = NULL;
    for (size_t i = 0; i < RATE_SLOTS; i++) {
        rate_slot *r = &s->rl[i];
        if (r->used && memcmp(r->addr, key, 16) == 0) {
            hit = r;
            break;
        }
        if (!oldest || !r->used || (oldest->used && r->last < oldest->last))
            oldest = r;
    }
    if (!hit) {
        /* A new address takes a free slot or the one seen longest ago (which, with as many
         * addresses as slots, has long refilled). */
        hit = oldest;
        memcpy(hit->addr, key, 16);
        hit->used = 1;
        hit->tokens = burst;
        hit->last = t;
    }
    hit->tokens = fmin(burst, hit->tokens + (t - hit->last) * s->o.rate_per_s);
    hit->last = t;
    if (hit->tokens >= 1)
        hit->tokens -= 1;
    else
        wait = (unsigned)ceil((1 - hit->tokens) / s->o.rate_per_s);
    pthread_mutex_unlock(&s->rl_mu);
    return wait;
}

/* ---------------------------------------------------------------- paths */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The decoded path of a raw URI (up to '?'), or NULL when it is refused: not starting with '/',
 * a bad or encoded slash, backslash or NUL, a control character, an empty, "." or ".." segment. */
static char *
decode_path(const char *raw)
{
    size_t n = strcspn(raw, "?#");
    if (n == 0 || raw[0] != '/')
        return NULL;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            if (i + 2 >= n)
                goto bad;
            int a = hexval(raw[i + 1]), b = hexval(raw[i + 2]);
            if (a < 0 || b < 0)
                goto bad;
            c = (unsigned char)(a * 16 + b);
            if (c == '/' || c == '\\' || c == 0)
                goto bad;
            i += 2;
        } else if (c == '\\') {
            goto bad;
        }
        if (c < 0x20 || c == 0x7f)
            goto bad;
        out[k++] = (char)c;
    }
    out[k] = 0;
    /* Segments: none empty (but the root "/"), none "." or "..". */
    if (strcmp(out, "/") != 0) {
        const char *p = out + 1;
        for (;;) {
            const char *e = strchr(p, '/');
            size_t sl = e ? (size_t)(e - p) : strlen(p);
            if (sl == 0 || (sl == 1 && p[0] == '.') || (sl == 2 && p[0] == '.' && p[1] == '.'))
                goto bad;
            if (!e)
                break;
            p = e + 1;
        }
    }
    return out;
bad:
    free(out);
    return NULL;
}

/* Whether path matches pattern; fills rq's params when rq is given. */
static bool
match(const char *pattern, const char *path, pgh_request *rq)
{
    const char *p = pattern, *q = path;
    size_t np = 0;
    while (*p && *q) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *qe = strchr(q, '/');
            size_t ql = qe ? (size_t)(qe - q) : strlen(q);
            if (!pe || ql == 0 || np >= MAX_PARAMS)
                return false;
            if (rq) {
                char *v = malloc(ql + 1);
                if (!v)
                    return false;
                memcpy(v, q, ql);
                v[ql] = 0;
                free(rq->params[np]);
                rq->params[np] = v;
            }
            np++;
            p = pe + 1;
            q += ql;
            continue;
        }
        if (*p != *q)
            return false;
        p++;
        q++;
    }
    if (*p || *q)
        return false;
    if (rq)
        rq->n_params = np;
    return true;
}

/* ---------------------------------------------------------------- requests */

const char *
pgh_request_method(const pgh_request *rq)
{
    return rq->method;
}

const char *
pgh_request_path(const pgh_request *rq)
{
    return rq->path ? rq->path : "";
}

const char *
pgh_request_param(const pgh_request *rq, size_t i)
{
    return i < rq->n_params ? rq->params[i] : NULL;
}

const char *
pgh_request_query(const pgh_request *rq, const char *key)
{
    if (!rq->c || !key)
        return NULL;
    return MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, key);
}

const char *
pgh_request_body(const pgh_request *rq, size_t *len)
{
    if (len)
        *len = rq->body ? rq->len : 0;
    return rq->body ? rq->body : "";
}

const char *
pgh_request_header(const pgh_request *rq, const char *name)
{
    if (!rq->c || !name)
        return NULL;
    return MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, name);
}

int
pgh_request_json(const pgh_request *rq, bool any, json_t **out, pgh_reply *rp)
{
    size_t len;
    const char *body = pgh_request_body(rq, &len);
    *out = NULL;
    if (len == 0) {
        pgh_reply_error(rp, 400, "bad_json", "the request has no body: it must be a JSON %s",
                        any ? "document" : "object");
        return PG_EPARSE;
    }
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | (any ? JSON_DECODE_ANY : 0), &je);
    if (!v) {
        json_t *e = json_pack("{s:i, s:s, s:s+, s:i, s:i}", "status", 400, "code", "bad_json",
                              "message", "the body is not valid JSON: ", je.text, "line", je.line,
                              "column", je.column);
        pgh_reply_json(rp, 400, json_pack("{s:o}", "error", e), NULL);
        return PG_EPARSE;
    }
    if (!any && !json_is_object(v)) {
        json_decref(v);
        pgh_reply_error(rp, 400, "bad_json", "the body must be a JSON object ({...})");
        return PG_EPARSE;
    }
    *out = v;
    return PG_OK;
}

/* ---------------------------------------------------------------- replies */

int
pgh_reply_json(pgh_reply *rp, int status, json_t *v, pg_error *err)
{
    if (!v)
        return pg_error_set(err, PG_ENOMEM, "out of memory building a reply");
    char *text = pgi_json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!text)
        return pg_error_set(err, PG_ENOMEM, "out of memory writing a reply");
    free(rp->body);
    rp->body = text;
    rp->len = strlen(text);
    rp->status = status;
    rp->content_type = NULL;
    return PG_OK;
}

int
pgh_reply_text(pgh_reply *rp, int status, const char *json, size_t len, pg_error *err)
{
    char *b = malloc(len + 1);
    if (!b)
        return pg_error_set(err, PG_ENOMEM, "out of memory writing a reply");
    memcpy(b, json, len);
    b[len] = 0;
    free(rp->body);
    rp->body = b;
    rp->len = len;
    rp->status = status;
    rp->content_type = NULL;
    return PG_OK;
}

/* Fallback body when memory runs out while building an error. */
static void
reply_static_error(pgh_reply *rp, int status)
{
    static const char text[] = "{\"error\": {\"status\": 500, \"code\": \"internal\", "
                               "\"message\": \"out of memory\"}}\n";
    free(rp->body);
    rp->body = NULL;
    rp->len = 0;
    rp->body = malloc(sizeof text);
    if (rp->body) {
        memcpy(rp->body, text, sizeof text);
        rp->len = sizeof text - 1;
    }
    rp->status = status;
    rp->content_type = NULL;
}

int
pgh_reply_error(pgh_reply *rp, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    if (e) {
        json_object_set_new(e, "status", json_integer(status));
        json_object_set_new(e, "code", json_string(code ? code : "error"));
        json_object_set_new(e, "message", pgi_json_str(msg));
    }
    if (pgh_reply_json(rp, status, e ? json_pack("{s:o}", "error", e) : NULL, NULL) != PG_OK)
        reply_static_error(rp, status);
    return PG_OK;
}

/* The HTTP status and code of a library error (docs/http.md, Conventions): malformed JSON is
 * answered 400 by pgh_request_json before any library reader runs, so a library's PG_EPARSE is
 * a document that reads as JSON but not as a valid world or scenario: 422, as the API's own
 * helper (api.h, pgh_api_status) says. The error's file is never told (it would name the
 * server's files). */
static int
pg_error_status(int code, const char **word)
{
    switch (code) {
    case PG_EPARSE: *word = "invalid"; return 422; /* the JSON read; the document is not valid */
    case PG_EINVAL: *word = "invalid_request"; return 400;
    case PG_EMODEL: *word = "invalid"; return 422;
    case PG_EUNSUPPORTED: *word = "unsupported"; return 422;
    case PG_ENOTFOUND: *word = "not_found"; return 404;
    case PG_ELIMIT: *word = "too_large"; return 413;
    case PG_ECANCELED: *word = "cancelled"; return 409;
    default: *word = "internal"; return 500;
    }
}

json_t *
pgh_error_json(const pg_error *e)
{
    const char *word;
    int code = e ? e->code : PG_EINVAL;
    int status = pg_error_status(code, &word);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "code", json_string(word));
    json_object_set_new(o, "message", pgi_json_str(e && e->msg[0] ? e->msg : pg_strerror(code)));
    if (e && e->line > 0)
        json_object_set_new(o, "line", json_integer(e->line));
    if (e && e->column > 0)
        json_object_set_new(o, "column", json_integer(e->column));
    if (e && e->path[0])
        json_object_set_new(o, "path", pgi_json_str(e->path));
    return o;
}

int
pgh_reply_pg_error(pgh_reply *rp, const pg_error *e)
{
    const char *word;
    int status = pg_error_status(e ? e->code : PG_EINVAL, &word);
    json_t *o = pgh_error_json(e);
    if (pgh_reply_json(rp, status, o ? json_pack("{s:o}", "error", o) : NULL, NULL) != PG_OK)
        reply_static_error(rp, status);
    return PG_OK;
}

/* ---------------------------------------------------------------- sending */

static void
add_common_headers(struct MHD_Response *r, bool api)
{
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    if (api)
        MHD_add_response_header(r, "Cache-Control", "no-store");
}

/* Queues rp on the connection (body taken). extra: more "Name", "value" pairs, NULL-ended. */
static enum MHD_Result
send_reply(pgh_request *rq, pgh_reply *rp, const char *const *extra)
{
    struct MHD_Response *r;
    if (rp->body)
        r = MHD_create_response_from_buffer(rp->len, rp->body, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(rp->body);
        rp->body = NULL;
        return MHD_NO;
    }
    rp->body = NULL;
    add_common_headers(r, true);
    MHD_add_response_header(r, "Content-Type",
                            rp->content_type ? rp->content_type : "application/json");
    if (rp->location[0])
        MHD_add_response_header(r, "Location", rp->location);
    for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
        MHD_add_response_header(r, extra[i], extra[i + 1]);
    rq->status = rp->status;
    enum MHD_Result ok = MHD_queue_response(rq->c, (unsigned)rp->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error(pgh_request *rq, int status, const char *code,
                                  const char *const *extra, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result
send_error(pgh_request *rq, int status, const char *code, const char *const *extra, const char *fmt,
           ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pgh_reply rp = {0};
    pgh_reply_error(&rp, status, code, "%s", msg);
    return send_reply(rq, &rp, extra);
}

/* ---------------------------------------------------------------- static files */

static bool
etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t el = strlen(etag);
    for (const char *p = inm; (p = strstr(p, etag)); p += el) {
        char after = p[el];
        if (after == 0 || after == ',' || after == ' ')
            return true;
    }
    return false;
}

static enum MHD_Result
serve_static(pgh_request *rq)
{
    const char *path = strcmp(rq->path, "/") == 0 ? "index.html" : rq->path + 1;
    const pghi_file *f = pghi_file_find(pghi_web_files, pghi_web_count, path);
    if (!f)
        return send_error(rq, 404, "not_found", NULL, "no such file: %s", rq->path);
    const char *inm = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "If-None-Match");
    bool fresh = etag_matches(inm, f->etag);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        fresh ? 0 : f->len, fresh ? (void *)"" : (void *)f->bytes, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    add_common_headers(r, false);
    MHD_add_response_header(r, "Content-Type", f->content_type);
    MHD_add_response_header(r, "ETag", f->etag);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    rq->status = fresh ? 304 : 200;
    enum MHD_Result ok = MHD_queue_response(rq->c, (unsigned)rq->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---------------------------------------------------------------- events */

static char *
format_event(uint64_t id, const char *type, json_t *data, size_t *len)
{
    char *text = data ? pgi_json_dumps(data, JSON_COMPACT) : NULL;
    if (text) {
        size_t n = strlen(text);
        while (n && text[n - 1] == '\n')
            text[--n] = 0;
    }
    pgi_buf b = {0};
    pgi_buf_printf(&b, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", id, type, text ? text : "null");
    free(text);
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

void
pgh_events_publish(pgh_server *s, const char *type, json_t *data)
{
    if (!s || !type) {
        json_decref(data);
        return;
    }
    /* The type is one word: no line breaks that would split the event. */
    char t[32];
    size_t k = 0;
    for (const char *p = type; *p && k < sizeof t - 1; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '-')
            t[k++] = *p;
    t[k] = 0;
    pthread_mutex_lock(&s->ev_mu);
    uint64_t id = s->ev_last + 1;
    size_t len = 0;
    char *text = format_event(id, t, data, &len);
    if (text) {
        event *e = &s->ring[id % PGH_EVENTS_KEEP];
        free(e->text);
        e->id = id;
        e->text = text;
        e->len = len;
        s->ev_last = id;
        pthread_cond_broadcast(&s->ev_cv);
    }
    pthread_mutex_unlock(&s->ev_mu);
    json_decref(data);
}

typedef struct sse_client {
    pgh_server *s;
    uint64_t last; /* id of the last event sent */
    char *pend;
    size_t pend_len, off;
    double keepalive_s;
} sse_client;

static void
sse_free(void *cls)
{
    sse_client *cl = cls;
    free(cl->pend);
    free(cl);
}

static void
sse_set(sse_client *cl, const char *text, size_t len)
{
    char *p = malloc(len);
    free(cl->pend);
    cl->pend = p;
    cl->pend_len = p ? len : 0;
    cl->off = 0;
    if (p)
        memcpy(p, text, len);
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_client *cl = cls;
    pgh_server *s = cl->s;
    for (;;) {
        if (cl->pend && cl->off < cl->pend_len) {
            size_t n = cl->pend_len - cl->off;
            if (n > max)
                n = max;
            memcpy(buf, cl->pend + cl->off, n);
            cl->off += n;
            return (ssize_t)n;
        }
        if (cl->pend && cl->off >= cl->pend_len) {
            free(cl->pend);
            cl->pend = NULL;
        }
        pthread_mutex_lock(&s->ev_mu);
        double deadline = pgi_now() + cl->keepalive_s;
        for (;;) {
            if (s->stopping) {
                pthread_mutex_unlock(&s->ev_mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            if (cl->last < s->ev_last) {
                uint64_t next = cl->last + 1;
                uint64_t oldest =
                    s->ev_last >= PGH_EVENTS_KEEP ? s->ev_last - PGH_EVENTS_KEEP + 1 : 1;
                if (next < oldest) {
                    /* This client fell more than the whole ring behind: it is dropped (it
                     * reconnects with Last-Event-ID and learns what it missed from the API). */
                    pthread_mutex_unlock(&s->ev_mu);
                    pghi_log(s, PG_LOG_WARN, "an events client too slow to read was dropped");
                    return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                const event *e = &s->ring[next % PGH_EVENTS_KEEP];
                sse_set(cl, e->text, e->len);
                cl->last = next;
                break;
            }
            double t = pgi_now();
            if (t >= deadline) {
                sse_set(cl, ": keep-alive\n\n", 14);
                break;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            double w = deadline - t;
            ts.tv_sec += (time_t)w;
            ts.tv_nsec += (long)((w - floor(w)) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->ev_cv, &s->ev_mu, &ts);
        }
        pthread_mutex_unlock(&s->ev_mu);
        if (!cl->pend)
            return MHD_CONTENT_READER_END_WITH_ERROR; /* out of memory */
    }
}

static enum MHD_Result
serve_events(pgh_request *rq)
{
    pgh_server *s = rq->s;
    sse_client *cl = calloc(1, sizeof *cl);
    if (!cl)
        return MHD_NO;
    cl->s = s;
    cl->keepalive_s = SSE_KEEPALIVE_S;
    if (s->o.timeout_s && cl->keepalive_s > s->o.timeout_s / 2.0)
        cl->keepalive_s = s->o.timeout_s / 2.0 > 0.5 ? s->o.timeout_s / 2.0 : 0.5;
    const char *lei = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Last-Event-ID");
    if (!lei)
        lei = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "last_event_id");
    pthread_mutex_lock(&s->ev_mu);
    cl->last = s->ev_last;
    if (lei && *lei && strlen(lei) < 20 && strspn(lei, "0123456789") == strlen(lei)) {
        uint64_t v = strtoull(lei, NULL, 10);
        uint64_t oldest = s->ev_last >= PGH_EVENTS_KEEP ? s->ev_last - PGH_EVENTS_KEEP + 1 : 1;
        if (v < s->ev_last)
            cl->last = v + 1 < oldest ? oldest - 1 : v;
    }
    pthread_mutex_unlock(&s->ev_mu);
    static const char hello[] = "retry: 2000\n: connected\n\n";
    sse_set(cl, hello, sizeof hello - 1);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, cl, sse_free);
    if (!r) {
        sse_free(cl);
        return MHD_NO;
    }
    add_common_headers(r, true);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    rq->status = 200;
    enum MHD_Result ok = MHD_queue_response(rq->c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---------------------------------------------------------------- core routes */

static int
h_health(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)rq;
    return pgh_reply_json(rp, 200,
                          json_pack("{s:s, s:s, s:s}", "status", "ok", "version", pg_version(),
                                    "mode", s->o.extra ? "node" : "serve"),
                          err);
}

static int
h_openapi(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)s;
    (void)rq;
    const pghi_file *f = pghi_file_find(pghi_doc_files, pghi_doc_count, "openapi.json");
    if (!f)
        return pgh_reply_error(rp, 404, "not_found",
                               "this build has no API description (docs/openapi.json)");
    return pgh_reply_text(rp, 200, (const char *)f->bytes, f->len, err);
}

/* Never called: GET /api/events is answered by serve_events (a stream, not a reply). */
static int
h_events(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err)
{
    (void)s;
    (void)rq;
    (void)err;
    return pgh_reply_error(rp, 500, "internal", "the events stream is not a plain reply");
}

static const pgh_route core_routes[] = {
    {"GET", "/api/health", h_health, "Whether the server is up, its version and mode"},
    {"GET", "/api/openapi.json", h_openapi, "This API's description (OpenAPI 3.0)"},
    {"GET", "/api/events", h_events, "Server-sent events: job, live, node"},
};
const pgh_route_set pgh_routes_core = {core_routes, sizeof core_routes / sizeof *core_routes};

/* ---------------------------------------------------------------- dispatch */

/* A connection's own state: the request on_uri made that no handler has seen yet. libmicrohttpd
 * tells of most requests' end (on_done, also of one whose headers timed out), but not of one it
 * refuses before on_request sees it (a query or headers too large for its memory, a bad
 * Content-Length): that one is freed here when its connection closes. on_done and on_request
 * take the request off, so it is freed once. */
typedef struct conn_state {
    pgh_request *unseen;
} conn_state;

static void request_free(pgh_request *rq);

static conn_state *
conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(conn_state));
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_state *cs = *socket_context;
        if (cs)
            request_free(cs->unseen);
        free(cs);
        *socket_context = NULL;
    }
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    pgh_request *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->s = cls;
    rq->c = c;
    rq->raw = pgi_strdup(uri ? uri : "");
    if (!rq->raw) {
        free(rq);
        return NULL;
    }
    conn_state *cs = conn_of(c);
    if (cs) {
        request_free(cs->unseen); /* one refused before, on a connection that went on */
        cs->unseen = rq;
    }
    return rq;
}

static void
request_free(pgh_request *rq)
{
    if (!rq)
        return;
    free(rq->raw);
    free(rq->path);
    for (size_t i = 0; i < MAX_PARAMS; i++)
        free(rq->params[i]);
    free(rq->body);
    free(rq);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    pgh_server *s = cls;
    pgh_request *rq = *con_cls;
    if (rq) {
        if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
            pghi_log(s, PG_LOG_DEBUG, "%s %s %d", rq->method, rq->path ? rq->path : rq->raw,
                     rq->status);
        else if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
            pghi_log(s, PG_LOG_INFO, "%s %s: the client was too slow (timeout)", rq->method,
                     rq->path ? rq->path : rq->raw);
    }
    conn_state *cs = conn_of(c);
    if (cs && cs->unseen == rq)
        cs->unseen = NULL; /* told of its end here (a timeout while its headers came) */
    request_free(rq);
    *con_cls = NULL;
}

static const struct sockaddr *
client_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci ? ci->client_addr : NULL;
}

static bool
auth_ok(const pgh_server *s, struct MHD_Connection *c)
{
    if (!s->token)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    size_t tl = strlen(t);
    while (tl && t[tl - 1] == ' ')
        tl--;
    /* Constant time in the token's length, whatever was sent. */
    volatile unsigned char d = (unsigned char)(tl != s->token_len);
    for (size_t i = 0; i < s->token_len; i++)
        d |= (unsigned char)((i < tl ? (unsigned char)t[i] : 0) ^ (unsigned char)s->token[i]);
    return d == 0;
}

/* The Content-Length headers of a request: the first, and whether another differs. */
typedef struct framing {
    const char *cl;
    bool conflict;
} framing;

static enum MHD_Result
framing_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (key && strcasecmp(key, "Content-Length") == 0) {
        const char *v = value ? value : "";
        if (!f->cl)
            f->cl = v;
        else if (strcmp(f->cl, v) != 0)
            f->conflict = true;
    }
    return MHD_YES;
}

/* The route of rq's method (HEAD as GET) and path, its parameters filled in rq; NULL when none.
 * allow receives the methods that routes of this path take ("" when no route has the path). */
static const pgh_route *
find_route(pgh_server *s, pgh_request *rq, const char *method, char *allow, size_t allow_sz)
{
    const pgh_route *hit = NULL;
    allow[0] = 0;
    for (size_t i = 0; i < s->n_routes; i++) {
        const pgh_route *r = s->routes[i];
        if (!match(r->pattern, rq->path, NULL))
            continue;
        if (!strstr(allow, r->method)) {
            size_t k = strlen(allow);
            snprintf(allow + k, allow_sz - k, "%s%s", k ? ", " : "", r->method);
            if (strcmp(r->method, "GET") == 0) {
                k = strlen(allow);
                snprintf(allow + k, allow_sz - k, ", HEAD");
            }
        }
        if (!hit && strcmp(r->method, method) == 0)
            hit = r;
    }
    if (hit && !match(hit->pattern, rq->path, rq))
        return NULL;
    return hit;
}

static enum MHD_Result
run_handler(pgh_request *rq)
{
    pgh_server *s = rq->s;
    pgh_reply rp = {0};
    pg_error err;
    pg_error_clear(&err);
    int rc = rq->route->fn(s, rq, &rp, &err);
    if (rc != PG_OK) {
        pghi_log(s, PG_LOG_ERROR, "%s %s: %s", rq->method, rq->path, err.msg);
        free(rp.body);
        memset(&rp, 0, sizeof rp);
        pgh_reply_error(&rp, 500, "internal", "%s", err.msg[0] ? err.msg : pg_strerror(rc));
    }
    if (rp.status < 100 || rp.status > 599) {
        free(rp.body);
        memset(&rp, 0, sizeof rp);
        pgh_reply_error(&rp, 500, "internal", "the handler of %s %s made no reply", rq->method,
                        rq->path);
    }
    const char *extra[4] = {NULL, NULL, NULL, NULL};
    char retry[16];
    if (rp.status == 429) {
        snprintf(retry, sizeof retry, "%d", 1);
        extra[0] = "Retry-After";
        extra[1] = retry;
    }
    return send_reply(rq, &rp, extra);
}

/* Takes one of the HEAVY_AT_ONCE places for a request with a large body, waiting up to the
 * connection timeout; false when none came free or the server is stopping. */
static bool
heavy_enter(pgh_server *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += s->o.timeout_s ? (time_t)s->o.timeout_s : 30;
    bool ok = false;
    pthread_mutex_lock(&s->heavy_mu);
    for (;;) {
        if (pghi_server_stopping(s))
            break;
        if (s->heavy < HEAVY_AT_ONCE) {
            s->heavy++;
            ok = true;
            break;
        }
        if (pthread_cond_timedwait(&s->heavy_cv, &s->heavy_mu, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->heavy_mu);
    return ok;
}

/* Gives the place back, and the memory the request's JSON took back to the system (freed
 * memory otherwise stays with the connection thread's malloc arena). */
static void
heavy_leave(pgh_server *s)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    pthread_mutex_lock(&s->heavy_mu);
    s->heavy--;
    pthread_cond_signal(&s->heavy_cv);
    pthread_mutex_unlock(&s->heavy_mu);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)version;
    pgh_server *s = cls;
    pgh_request *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* out of memory at the start of the request */
    if (!rq->started) {
        rq->started = true;
        conn_state *cs = conn_of(c);
        if (cs && cs->unseen == rq)
            cs->unseen = NULL; /* on_done frees it from now on */
        snprintf(rq->method, sizeof rq->method, "%s", method);
        rq->head = strcmp(method, "HEAD") == 0;
        const char *m = rq->head ? "GET" : method;
        rq->path = decode_path(rq->raw);
        if (!rq->path)
            return send_error(rq, 400, "bad_path", NULL,
                              "the path is not allowed (it must not hold '..', '.', empty "
                              "segments, a backslash, NUL, control characters or an encoded "
                              "slash)");
        unsigned wait = rate_charge(s, client_addr(c));
        if (wait) {
            char w[16];
            snprintf(w, sizeof w, "%u", wait);
            const char *extra[] = {"Retry-After", w, NULL};
            return send_error(rq, 429, "rate_limited", extra,
                              "too many requests from this address: try again in %u s", wait);
        }
        rq->api = strncmp(rq->path, "/api/", 5) == 0 || strcmp(rq->path, "/api") == 0;
        if (rq->api && !auth_ok(s, c)) {
            const char *extra[] = {"WWW-Authenticate", "Bearer", NULL};
            return send_error(rq, 401, "unauthorized", extra,
                              "this server needs its bearer token: send the header "
                              "'Authorization: Bearer TOKEN'");
        }
        /* A body's length must be told one way: two different Content-Lengths, or a
         * Content-Length with a Transfer-Encoding, are how requests are smuggled past a proxy
         * (400); a transfer coding other than chunked is not read (501, rather than waiting for
         * a body that cannot be delimited until the timeout). The connection is then closed. */
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        framing fr = {NULL, false};
        MHD_get_connection_values(c, MHD_HEADER_KIND, framing_iter, &fr);
        if (fr.conflict || (te && fr.cl)) {
            const char *extra[] = {"Connection", "close", NULL};
            return send_error(rq, 400, "bad_request", extra,
                              "the body's length is told more than one way (%s): send one "
                              "Content-Length, or Transfer-Encoding: chunked alone",
                              fr.conflict ? "two different Content-Length headers"
                                          : "Content-Length and Transfer-Encoding");
        }
        if (te && strcasecmp(te, "chunked") != 0) {
            const char *extra[] = {"Connection", "close", NULL};
            return send_error(rq, 501, "not_implemented", extra,
                              "the transfer coding is not supported: send the body with "
                              "Content-Length or Transfer-Encoding: chunked");
        }
        /* A declared body beyond the limit is refused before a byte of it is read. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || end == cl || v > s->o.max_body)
                return send_error(rq, 413, "too_large", NULL,
                                  "the body is larger than this server takes (%zu bytes)",
                                  s->o.max_body);
        }
        if (!rq->api) {
            if (strcmp(m, "GET") != 0) {
                const char *extra[] = {"Allow", "GET, HEAD", NULL};
                return send_error(rq, 405, "method_not_allowed", extra,
                                  "%s is not allowed on %s (only GET and HEAD)", method, rq->path);
            }
            return MHD_YES; /* served once the request is whole (keeps the connection) */
        }
        char allow[128];
        rq->route = find_route(s, rq, m, allow, sizeof allow);
        if (!rq->route) {
            if (allow[0]) {
                const char *extra[] = {"Allow", allow, NULL};
                return send_error(rq, 405, "method_not_allowed", extra,
                                  "%s is not allowed on %s (allowed: %s)", method, rq->path, allow);
            }
            return send_error(rq, 404, "not_found", NULL, "no such endpoint: %s", rq->path);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!rq->too_large && rq->len + n > s->o.max_body) {
            rq->too_large = true;
            free(rq->body);
            rq->body = NULL;
            rq->len = rq->cap = 0;
        }
        if (rq->too_large) {
            rq->discarded += n;
            return rq->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (rq->len + n + 1 > rq->cap) {
            size_t nc = rq->cap ? rq->cap : 4096;
            while (nc < rq->len + n + 1)
                nc *= 2;
            if (nc > s->o.max_body + 1)
                nc = s->o.max_body + 1;
            char *nb = realloc(rq->body, nc);
            if (!nb)
                return MHD_NO;
            rq->body = nb;
            rq->cap = nc;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        rq->body[rq->len] = 0;
        return MHD_YES;
    }
    if (rq->too_large)
        return send_error(rq, 413, "too_large", NULL,
                          "the body is larger than this server takes (%zu bytes)", s->o.max_body);
    if (!rq->api)
        return serve_static(rq);
    if (rq->route->fn == h_events)
        return serve_events(rq);
    if (rq->len <= HEAVY_BODY)
        return run_handler(rq);
    if (!heavy_enter(s)) {
        const char *extra[] = {"Retry-After", "1", NULL};
        return send_error(rq, 503, "busy", extra,
                          "the server is handling as many large requests as it takes at once: "
                          "try again in a moment");
    }
    enum MHD_Result ok = run_handler(rq);
    heavy_leave(s);
    return ok;
}

/* ---------------------------------------------------------------- start and stop */

static int
add_routes(pgh_server *s, const pgh_route_set *set, size_t *cap, pg_error *err)
{
    for (size_t i = 0; set && i < set->n; i++) {
        if (s->n_routes == *cap) {
            size_t nc = *cap ? *cap * 2 : 32;
            const pgh_route **nr = realloc(s->routes, nc * sizeof *nr);
            if (!nr)
                return pg_error_set(err, PG_ENOMEM, "out of memory");
            s->routes = nr;
            *cap = nc;
        }
        s->routes[s->n_routes++] = &set->routes[i];
    }
    return PG_OK;
}

int
pgh_server_start(pgh_server **out, const pgh_options *o, pg_error *err)
{
    int rc = PG_OK;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    bool loopback = false;
    pgh_server *s = NULL;
    if (!out || !o)
        return pg_error_set(err, PG_EINVAL, "no server options");
    if ((rc = parse_listen(o->listen, &ss, &sl, &loopback, err)))
        return rc;
    if (!loopback && (!o->token || !*o->token))
        return pg_error_set(err, PG_EINVAL,
                            "--listen %s is not a loopback address: a server other machines "
                            "can reach needs a bearer token; give --token-file FILE (a file only "
                            "you can read, with a token of 16 characters or more)",
                            o->listen);
    if (o->token && strlen(o->token) < 16)
        return pg_error_set(err, PG_EINVAL,
                            "the bearer token is too short (%zu characters): it needs 16 or more",
                            strlen(o->token));
    if (o->max_body == 0 || o->max_connections == 0 || o->job_threads == 0 || o->max_jobs == 0)
        return pg_error_set(err, PG_EINVAL,
                            "max_body, max_connections, job_threads and max_jobs must be > 0");
    s = calloc(1, sizeof *s);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    pthread_mutex_init(&s->rl_mu, NULL);
    pthread_mutex_init(&s->ev_mu, NULL);
    pthread_mutex_init(&s->slot_mu, NULL);
    pthread_mutex_init(&s->heavy_mu, NULL);
    pthread_cond_init(&s->heavy_cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&s->ev_cv, &ca);
    pthread_condattr_destroy(&ca);
    s->o = *o;
    s->loopback = loopback;
    s->listen = pgi_strdup(o->listen);
    s->token = pgi_strdup(o->token);
    s->worlds = pgi_strdup(o->worlds_dir);
    s->scenarios = pgi_strdup(o->scenarios_dir);
    s->data = pgi_strdup(o->data_dir);
    s->rl = calloc(RATE_SLOTS, sizeof *s->rl);
    if (!s->listen || (o->token && !s->token) || (o->worlds_dir && !s->worlds) ||
        (o->scenarios_dir && !s->scenarios) || (o->data_dir && !s->data) || !s->rl) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    s->o.listen = s->listen;
    s->o.token = s->token;
    s->o.worlds_dir = s->worlds;
    s->o.scenarios_dir = s->scenarios;
    s->o.data_dir = s->data;
    s->token_len = s->token ? strlen(s->token) : 0;
    if (s->o.max_per_ip > s->o.max_connections)
        s->o.max_per_ip = s->o.max_connections;
    size_t cap = 0;
    const pgh_route_set *sets[] = {&pgh_routes_core, &pgh_routes_worlds, &pgh_routes_jobs,
                                   &pgh_routes_run, &pgh_routes_live};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        if ((rc = add_routes(s, sets[i], &cap, err)))
            goto out;
    for (size_t i = 0; i < o->n_extra; i++)
        if ((rc = add_routes(s, &o->extra[i], &cap, err)))
            goto out;
    if ((rc = pghi_jobs_create(s, &s->jobs, err)))
        goto out;

    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_logger, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_CONNECTION,
                            on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->o.max_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_END);
    if (!s->d) {
        rc = pg_error_set(err, PG_EIO,
                          "cannot listen on %s (is another program using that port, or is the "
                          "address not one of this machine's?)",
                          o->listen);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? (int)di->port : 0;
    char host[INET6_ADDRSTRLEN] = "127.0.0.1";
    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://[%s]:%d", host, s->port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://%s:%d", host, s->port);
    }
    *out = s;
    return PG_OK;
out:
    pgh_server_stop(s);
    return rc;
}

void
pgh_server_stop(pgh_server *s)
{
    if (!s)
        return;
    /* Wake everything that waits (event streams, ?wait= requests) before the daemon joins its
     * connection threads, so none of them is left waiting. */
    pthread_mutex_lock(&s->ev_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->ev_cv);
    pthread_mutex_unlock(&s->ev_mu);
    pthread_mutex_lock(&s->heavy_mu);
    pthread_cond_broadcast(&s->heavy_cv);
    pthread_mutex_unlock(&s->heavy_mu);
    if (s->jobs)
        pghi_jobs_shutdown(s->jobs);
    if (s->d)
        MHD_stop_daemon(s->d);
    pghi_jobs_destroy(s->jobs);
    pgh_live_forget(s); /* the live state this server fed (live.c) */
    for (size_t i = 0; i < PGH_SLOTS; i++)
        if (s->slots[i].state && s->slots[i].free_fn)
            s->slots[i].free_fn(s->slots[i].state);
    for (size_t i = 0; i < PGH_EVENTS_KEEP; i++)
        free(s->ring[i].text);
    free(s->routes);
    free(s->rl);
    if (s->token) {
        volatile char *p = s->token;
        for (size_t i = 0; i < s->token_len; i++)
            p[i] = 0;
    }
    free(s->listen);
    free(s->token);
    free(s->worlds);
    free(s->scenarios);
    free(s->data);
    pthread_cond_destroy(&s->ev_cv);
    pthread_cond_destroy(&s->heavy_cv);
    pthread_mutex_destroy(&s->heavy_mu);
    pthread_mutex_destroy(&s->rl_mu);
    pthread_mutex_destroy(&s->ev_mu);
    pthread_mutex_destroy(&s->slot_mu);
    free(s);
}

bool
pghi_server_stopping(pgh_server *s)
{
    pthread_mutex_lock(&s->ev_mu);
    bool v = s->stopping;
    pthread_mutex_unlock(&s->ev_mu);
    return v;
}
