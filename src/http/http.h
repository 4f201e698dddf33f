/* The HTTP server of `plurigrid serve` and `plurigrid node --http` (docs/http.md, docs/openapi.json):
 * a libmicrohttpd daemon that serves the grid designer and dashboard (web/, embedded in the module)
 * and a JSON API. Everything here lives in the command's module lib/plurigrid/http.so, the only
 * code that links libmicrohttpd; it reaches the library through pg_ functions only.
 *
 * Shape: a server holds one table of routes (method + pattern such as "/api/worlds/{name}"),
 * assembled from the route sets of each part of the API (worlds, jobs, live, node); a handler
 * gets a parsed request and fills a reply, always JSON for /api/. Long work (power flow, day-ahead
 * scheduling, community runs) never runs on a request thread: a handler submits a job to the
 * server's job threads and answers 202 with the job's id; the job's progress and end are events
 * on the server-sent-events stream (/api/events) and its result is fetched when done. */
#ifndef PG_HTTP_H
#define PG_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/community.h"
#include "plurigrid/core.h"

/* ---------------------------------------------------------------- server */

typedef struct pgh_server pgh_server;
typedef struct pgh_request pgh_request;

/* A reply. body is malloc'd and taken by the server (NULL: empty). */
typedef struct pgh_reply {
    int status;               /* HTTP status */
    char *body;
    size_t len;
    const char *content_type; /* static string; NULL: "application/json" */
    char location[256];       /* a Location header when not empty (201, 202) */
} pgh_reply;

/* A handler: fills rp (status and body) and returns PG_OK; any other return is an internal
 * failure that the server answers 500 with the message of err. Runs on a request thread, with
 * other handlers running at once: shared state is the handler's to lock. */
typedef int (*pgh_handler)(pgh_server *s, const pgh_request *rq, pgh_reply *rp, pg_error *err);

typedef struct pgh_route {
    const char *method;  /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern; /* "/api/worlds/{name}": {x} matches one non-empty path segment */
    pgh_handler fn;
    const char *summary; /* one line, as in docs/openapi.json */
} pgh_route;

typedef struct pgh_route_set {
    const pgh_route *routes;
    size_t n;
} pgh_route_set;

/* The route sets every server has (each defined in its own file). */
extern const pgh_route_set pgh_routes_core;   /* server.c: /api/health, /api/openapi.json */
extern const pgh_route_set pgh_routes_worlds; /* worlds.c: worlds, validate, import, layout */
extern const pgh_route_set pgh_routes_jobs;   /* jobs.c: list, status, result, cancel */
extern const pgh_route_set pgh_routes_run;    /* run.c: submit pf, day-ahead, community jobs */
extern const pgh_route_set pgh_routes_live;   /* live.c: the live state of a community run */
/* Only inside `plurigrid node --http`: */
extern const pgh_route_set pgh_routes_node; /* node.c: /api/node */

#define PGH_DEFAULT_LISTEN "127.0.0.1:8080"
#define PGH_MAX_BODY_DEFAULT ((size_t)16 << 20)

typedef struct pgh_options {
    const char *listen;        /* "HOST:PORT" (IPv4 dotted, "[v6]", or "localhost"); port 0:
                                  a free port (pgh_server_port tells which) */
    const char *token;         /* the bearer token every /api/ request must carry; NULL: none,
                                  allowed only on a loopback address */
    const char *worlds_dir;    /* microworlds listed, loaded and saved; NULL: none */
    const char *scenarios_dir; /* community scenarios that jobs may run; NULL: none */
    const char *data_dir;      /* the data folder for scenarios (NULL: each scenario's own) */
    size_t max_body;           /* request body limit, bytes (413 beyond) */
    size_t max_connections;    /* connections at once (new ones refused beyond) */
    size_t max_per_ip;         /* connections at once from one address */
    double rate_per_s;         /* requests per second per client address, on average ... */
    double rate_burst;         /* ... with bursts of this many (429 beyond) */
    unsigned timeout_s;        /* an idle or slow connection is closed after this */
    size_t job_threads;        /* jobs run at once */
    size_t max_jobs;           /* jobs queued or running at once (429 beyond) */
    size_t keep_jobs;          /* finished jobs kept for their results (oldest dropped) */
    const pgh_route_set *extra; /* more routes (node mode); NULL */
    size_t n_extra;
    void *app;                  /* the embedding program's state (node mode), for its routes */
    /* Log lines (one per request at debug, errors at warn); NULL: none. Any thread. */
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *log_ud;
    pg_log_level log_level;
} pgh_options;

void pgh_options_init(pgh_options *o);
/* Starts the daemon and its job threads. PG_EINVAL for a bad listen address or a missing token
 * on a non-loopback address (naming the option); PG_EIO when the address cannot be bound. */
int pgh_server_start(pgh_server **out, const pgh_options *o, pg_error *err);
/* The port listened on. */
int pgh_server_port(const pgh_server *s);
/* The base URL, "http://127.0.0.1:PORT". */
const char *pgh_server_url(const pgh_server *s);
/* Stops taking requests, cancels running jobs, waits for them and frees everything. NULL ok. */
void pgh_server_stop(pgh_server *s);
const pgh_options *pgh_server_options(const pgh_server *s);

/* A place for a part's own state on the server (the live state of live.c, ...): returns the
 * state of slot k, made by make(s) at the first call (under a lock, so once) and freed by
 * free_fn(state) in pgh_server_stop after the connections and jobs have ended. NULL when make
 * fails or the server is stopping. */
typedef enum pgh_slot { PGH_SLOT_LIVE, PGH_SLOT_NODE, PGH_SLOT_API, PGH_SLOTS } pgh_slot;
void *pgh_server_slot(pgh_server *s, pgh_slot k, void *(*make)(pgh_server *s),
                      void (*free_fn)(void *state));

/* ---------------------------------------------------------------- requests and replies */

const char *pgh_request_method(const pgh_request *rq);
const char *pgh_request_path(const pgh_request *rq);
/* The i-th {parameter} of the matched route's pattern, percent-decoded. */
const char *pgh_request_param(const pgh_request *rq, size_t i);
/* A query-string argument, or NULL. */
const char *pgh_request_query(const pgh_request *rq, const char *key);
/* A request header (case-insensitive name), or NULL. */
const char *pgh_request_header(const pgh_request *rq, const char *name);
/* The body (NUL-terminated; "" when none) and its length. */
const char *pgh_request_body(const pgh_request *rq, size_t *len);

/* Parses the body as a JSON object (or any value when any) into *out (caller decrefs). On
 * failure fills rp with 400 {"error": ...} naming the line, column and what is wrong, and
 * returns PG_EPARSE (the handler then returns PG_OK: the reply is made). */
int pgh_request_json(const pgh_request *rq, bool any, json_t **out, pgh_reply *rp);

/* rp = status with the JSON v (taken; dumped with pgi_json_dumps). */
int pgh_reply_json(pgh_reply *rp, int status, json_t *v, pg_error *err);
/* rp = status with text already JSON (copied). */
int pgh_reply_text(pgh_reply *rp, int status, const char *json, size_t len, pg_error *err);
/* rp = status with {"error": {"status": N, "code": CODE, "message": "..."}}; code is a short
 * machine word ("bad_json", "not_found", "invalid", "too_large", "busy", ...). Returns PG_OK. */
int pgh_reply_error(pgh_reply *rp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same from a library error: its message, and "file", "line", "column", "path" when set;
 * the status from its code (PG_EPARSE, PG_EMODEL, PG_EINVAL: 400 or 422 as docs/http.md says;
 * PG_ENOTFOUND 404; PG_ELIMIT 413; others 500). Returns PG_OK. */
int pgh_reply_pg_error(pgh_reply *rp, const pg_error *e);

/* The inner object of an error reply for a library error ({"status", "code", "message", "file",
 * "line", "column", "path"}), as pgh_reply_pg_error makes it (a job's "error"). New reference;
 * NULL when out of memory. */
json_t *pgh_error_json(const pg_error *e);

/* A name that may be a file in a served folder: 1 to 64 of [A-Za-z0-9._-], not starting with
 * '.', so no path ever leaves the folder. */
bool pgh_name_valid(const char *name);

/* ---------------------------------------------------------------- events (server-sent) */

/* Publishes an event to every client of /api/events: "event: TYPE", "data: JSON" (data taken).
 * Each event gets the next id; the last PGH_EVENTS_KEEP are kept so that a client reconnecting
 * with Last-Event-ID misses none. Any thread. */
#define PGH_EVENTS_KEEP 1024
void pgh_events_publish(pgh_server *s, const char *type, json_t *data);

/* ---------------------------------------------------------------- jobs */

typedef struct pgh_job pgh_job;
/* The work of a job, on a job thread: *result (taken) is its result document. PG_ECANCELED
 * when it saw pgh_job_cancelled. */
typedef int (*pgh_job_fn)(pgh_job *j, void *arg, json_t **result, pg_error *err);

#define PGH_JOB_ID_MAX 32
/* Queues a job of kind ("pf", "run", "community") with arg (taken: free_arg(arg) when it is
 * done or refused). id receives its id. PG_ELIMIT when max_jobs are queued or running. */
int pgh_job_submit(pgh_server *s, const char *kind, pgh_job_fn fn, void *arg,
                   void (*free_arg)(void *), char id[PGH_JOB_ID_MAX], pg_error *err);
/* Whether the job was asked to stop; and the flag itself, for library calls that take one. */
bool pgh_job_cancelled(const pgh_job *j);
const volatile int *pgh_job_stop_flag(const pgh_job *j);
/* Reports progress (done of total, in what units: "intervals", "steps"); publishes a "job"
 * event at most every 0.1 s. */
void pgh_job_progress(pgh_job *j, double done, double total, const char *units);
pgh_server *pgh_job_server(const pgh_job *j);
const char *pgh_job_id(const pgh_job *j);

/* ---------------------------------------------------------------- live state (dashboard) */

/* The dashboard's state of one community run (a community job, or the node's own run): members,
 * the latest telemetry of each, the current interval's bids and clearing, DR events and the
 * history of prices and volumes. Fed by the run's pg_community_event hook; served by
 * pgh_routes_live and published as "live" events. */
void pgh_live_begin(pgh_server *s, const char *source, const char *community,
                    const char *const *members, size_t n_members, size_t intervals, double step_h);
/* The pg_lattice_options.event hook: ud is the server. */
void pgh_live_event(void *ud, const pg_community_event *ev);
void pgh_live_end(pgh_server *s);
/* Drops the live state s fed (called once s is stopped, before it is freed, so that nothing
 * keeps its address). */
void pgh_live_forget(pgh_server *s);

#endif
