/* What `plurigrid node --http` (src/cli/cmd_node.c, in the command) reaches of the HTTP server
 * (lib/plurigrid/http.so): one table of functions, exported by the module as pg_http_node_api,
 * which the node fetches with dlsym when it is given --http and never otherwise. The node starts
 * the server before its run, feeds it the run's events (the pg_lattice_options.event hook) and
 * stops it at the end; the server shows the live state (/api/live) and the node's own
 * (/api/node). Nothing of libmicrohttpd or of http.h shows here. */
#ifndef PG_HTTP_NODE_API_H
#define PG_HTTP_NODE_API_H

#include <stddef.h>

#include "plurigrid/community.h"

#define PG_HTTP_NODE_API_VERSION 1

/* The node as /api/node shows it. Strings are copied by start. */
typedef struct pg_http_node_info {
    const char *listen;         /* "HOST:PORT" (port 0: a free one) */
    const char *token;          /* the bearer token; NULL: none (loopback only) */
    const char *member;         /* this node's member name */
    const char *community;      /* the community's name */
    const char *scenario;       /* the scenario file */
    const char *variant;        /* the variant played */
    const char *market;         /* the market mechanism ("none": the baseline) */
    const char *servers;        /* the NATS servers given (--nats) */
    const char *ledger;         /* the ledger folder, or NULL */
    const char *const *members; /* every member of the community */
    size_t n_members;
    size_t intervals;
    double step_h;
    /* log lines of the server (errors, at warn); NULL: none */
    void (*log)(void *ud, pg_log_level level, const char *msg);
    void *log_ud;
} pg_http_node_info;

typedef struct pg_http_node_table {
    int version; /* PG_HTTP_NODE_API_VERSION */
    /* Starts the server of info; *out is the node's server, url its base URL
     * ("http://127.0.0.1:PORT"). PG_EINVAL for a bad address or a missing token on a
     * non-loopback address, PG_EIO when the address cannot be bound. */
    int (*start)(void **out, const pg_http_node_info *info, char *url, size_t url_len,
                 pg_error *err);
    /* The run's event hook: ud is the server start made. Any thread; returns quickly. */
    void (*event)(void *ud, const pg_community_event *ev);
    /* The run is over (stopped: by a signal); the server still answers until stop. */
    void (*end)(void *server, bool stopped);
    /* Stops the server and frees it. NULL ok. */
    void (*stop)(void *server);
} pg_http_node_table;

/* The table, exported by lib/plurigrid/http.so under this name. */
extern const pg_http_node_table pg_http_node_api;

#endif
