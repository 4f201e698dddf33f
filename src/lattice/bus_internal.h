/* Internal interface of the lattice bus: the header every backend's bus begins with, the checks
 * every backend applies to subjects and payloads, subject matching without re-validation, and the
 * in-process backend's limits. Only src/lattice/ and the tests include this. */
#ifndef PG_LATTICE_BUS_INTERNAL_H
#define PG_LATTICE_BUS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/lattice.h"

#define PGI_BUS_STR_(x) #x
#define PGI_BUS_STR(x) PGI_BUS_STR_(x)

/* Every backend's bus struct begins with this, so the wrappers can find the transport and the
 * counters of any bus. */
struct pg_bus {
    const pg_bus_transport *transport;
    pg_bus_stats stats;
    /* NULL, or adds to *s what the backend counts elsewhere (a network backend's client threads
     * count drops, disconnects and reconnects under its own lock). */
    void (*sync_stats)(const pg_bus *b, pg_bus_stats *s);
};

/* Why subject is not a valid subject (pattern: may hold wildcards), or NULL when it is valid. */
const char *pgi_bus_subject_problem(const char *subject, bool pattern);
/* PG_EINVAL naming the subject and what is wrong with it (what: "subject", "reply subject",
 * "pattern"). */
int pgi_bus_check_subject(const char *subject, bool pattern, const char *what, pg_error *err);
/* The checks of a message every backend applies before it publishes: a valid subject, a valid
 * reply subject or NULL, data non-NULL when len > 0, len at most PG_BUS_MAX_PAYLOAD. */
int pgi_bus_check_message(const char *subject, const char *reply, const void *data, size_t len,
                          pg_error *err);
/* PG_EINVAL unless group is a valid queue group name: 1 to PG_BUS_MAX_SUBJECT printable ASCII
 * characters, no spaces, no '*' or '>'. */
int pgi_bus_check_group(const char *group, pg_error *err);
/* pg_bus_subject_match for a pattern and a subject already known to be valid. */
bool pgi_bus_match(const char *pattern, const char *subject);

/* ---------------------------------------------------------------- subscription index
 * Which subscriptions match a subject, without trying every one: every subscription's pattern is
 * a key of a hash table (the subscriptions of one pattern share its entry), and the table also
 * counts the patterns' shapes (per token: a literal, '*', or a last '>'). A subject of k tokens
 * can only be matched by patterns of the shapes present, and each shape gives one candidate
 * pattern (the subject's tokens with '*' and '>' where the shape has them): a lookup per shape
 * instead of a match per subscription. Subscriptions are named by their sid, which grows with
 * every subscription, so sorting sids gives subscription order. */
typedef struct pgi_bus_entry pgi_bus_entry;
typedef struct pgi_bus_shape pgi_bus_shape;
typedef struct pgi_bus_index {
    pgi_bus_entry **slot; /* open addressing, linear probing; NULL is empty */
    size_t cap, n;        /* slots (a power of 2, or 0) and entries */
    pgi_bus_shape *shapes;
    size_t n_shapes, cap_shapes;
} pgi_bus_index;

/* Adds subscription sid with a valid pattern. PG_ENOMEM leaves the index as it was. */
int pgi_bus_index_add(pgi_bus_index *x, const char *pattern, uint64_t sid, pg_error *err);
/* Removes subscription sid of pattern (nothing when it is not there). Allocates nothing. */
void pgi_bus_index_remove(pgi_bus_index *x, const char *pattern, uint64_t sid);
/* The sids of the subscriptions whose pattern matches a valid subject, in increasing order: in
 * buf when they fit in cap, otherwise in a malloc'd array (*out != buf: the caller frees it).
 * PG_ENOMEM when that cannot be allocated. */
int pgi_bus_index_match(const pgi_bus_index *x, const char *subject, uint64_t *buf, size_t cap,
                        uint64_t **out, size_t *n);
void pgi_bus_index_free(pgi_bus_index *x);

/* The in-process backend's functions (its row of the transport table in bus.c). */
int pgi_inproc_open(pg_bus **out, const char *url, pg_error *err);
int pgi_inproc_publish(pg_bus *b, const char *subject, const char *reply, const void *data,
                       size_t len, pg_error *err);
int pgi_inproc_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx,
                         uint64_t *sid, pg_error *err);
int pgi_inproc_subscribe_queue(pg_bus *b, const char *pattern, const char *group, pg_bus_handler cb,
                               void *ctx, uint64_t *sid, pg_error *err);
size_t pgi_inproc_max_payload(const pg_bus *b);
int pgi_inproc_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err);
int pgi_inproc_request(pg_bus *b, const char *subject, const void *data, size_t len,
                       double timeout_s, void **reply, size_t *reply_len, pg_error *err);
int pgi_inproc_flush(pg_bus *b, double timeout_s, pg_error *err);
int pgi_inproc_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err);
size_t pgi_inproc_server(const pg_bus *b, char *buf, size_t n);
void pgi_inproc_close(pg_bus *b);

/* Its default limits: bytes queued and not yet delivered (messages with their subjects and a
 * small overhead each), handler calls in one flush or request, and flushes nested in handlers. */
#define PGI_INPROC_MAX_QUEUED ((size_t)256 << 20)
#define PGI_INPROC_MAX_DELIVERIES ((uint64_t)100000000)
#define PGI_INPROC_MAX_DEPTH 64

/* Sets an inproc bus's limits (0 keeps a limit as it is); for tests that reach them quickly.
 * PG_EINVAL when b is not an inproc bus. */
int pgi_bus_inproc_set_limits(pg_bus *b, size_t max_queued_bytes, uint64_t max_deliveries,
                              pg_error *err);

#endif
