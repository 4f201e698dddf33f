/* The lattice's message bus: what nodes and the market operator use to talk, and nothing else
 * they know of the transport. A bus is a table of functions (pg_bus_transport); the first backend
 * is in-process ("inproc", the embedded default), deterministic: messages are queued and
 * delivered in the order they were published, to subscriptions in the order they were made, when
 * pg_bus_flush runs, so a community in one process gives the same result for the same seed.
 * The second is NATS ("nats", on the cnats client, in the module nats.so loaded when a NATS bus
 * is first opened): its client threads only copy what arrives into the bus's queue, and
 * pg_bus_poll delivers it to the handlers on the thread that owns the bus.
 * Subjects are dot-separated tokens as in NATS: in a subscription, '*' matches one token and '>'
 * (last) one or more. See docs/lattice.md for the subjects and messages of a community. */
#ifndef PLURIGRID_LATTICE_H
#define PLURIGRID_LATTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pg_bus pg_bus;

/* A delivered message. subject, data and reply are borrowed for the call only. reply is NULL
 * unless the sender expects an answer (pg_bus_request). */
typedef void (*pg_bus_handler)(void *ctx, const char *subject, const void *data, size_t len,
                               const char *reply);

/* Subject limits every backend enforces (PG_EINVAL beyond them). */
#define PG_BUS_MAX_SUBJECT 256
#define PG_BUS_MAX_PAYLOAD (1u << 20)

typedef struct pg_bus_transport {
    const char *name; /* "inproc", ... */
    const char *summary;
    /* url: where to connect (NULL for inproc; for nats one or more servers, comma-separated:
     * "nats://127.0.0.1:4222,nats://127.0.0.1:4223"). */
    int (*open)(pg_bus **out, const char *url, pg_error *err);
    /* Queues data (copied) on subject; reply may be NULL. */
    int (*publish)(pg_bus *b, const char *subject, const char *reply, const void *data, size_t len,
                   pg_error *err);
    /* Calls cb for every message whose subject matches pattern; *sid names the subscription. */
    int (*subscribe)(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx, uint64_t *sid,
                     pg_error *err);
    int (*unsubscribe)(pg_bus *b, uint64_t sid, pg_error *err);
    /* Publishes with a fresh reply subject and waits up to timeout_s for the first answer;
     * *reply is malloc'd (caller frees). PG_ENET "no answer" on timeout. */
    int (*request)(pg_bus *b, const char *subject, const void *data, size_t len, double timeout_s,
                   void **reply, size_t *reply_len, pg_error *err);
    /* Delivers (inproc) or sends (network) everything published so far, including what handlers
     * publish while it runs, until nothing is pending or timeout_s passes. */
    int (*flush)(pg_bus *b, double timeout_s, pg_error *err);
    /* Calls the handlers of the messages that have arrived, on the calling thread, waiting up to
     * timeout_s for the first one when none is waiting; *delivered (may be NULL) counts the
     * handler calls. inproc: the same as flush (nothing arrives from elsewhere). */
    int (*poll)(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err);
    /* The URL of the server the bus is connected to now, "" when it is not connected (or for
     * inproc). Returns the length written (at most n - 1). */
    size_t (*server)(const pg_bus *b, char *buf, size_t n);
    void (*close)(pg_bus *b);
    /* As subscribe, in the queue group `group`: each message whose subject matches goes to one
     * member of the group (among the group's subscriptions that match it, on every connection),
     * not to all of them. Subscriptions outside any group still get every message. inproc picks
     * the members in turn (round robin within the group, deterministic); NATS as its server does
     * (at random). */
    int (*subscribe_queue)(pg_bus *b, const char *pattern, const char *group, pg_bus_handler cb,
                           void *ctx, uint64_t *sid, pg_error *err);
    /* The largest message the bus carries now: PG_BUS_MAX_PAYLOAD, or less when the server says
     * so (NATS's max_payload; the last server's while disconnected). */
    size_t (*max_payload)(const pg_bus *b);
} pg_bus_transport;

/* The transport called name ("inproc"), or NULL with PG_ENOTFOUND naming the known ones. */
PG_API const pg_bus_transport *pg_bus_transport_find(const char *name, pg_error *err);
PG_API const pg_bus_transport *pg_bus_transports(size_t *n);

/* Opens a bus of transport name at url (NULL for inproc). */
PG_API int pg_bus_open(pg_bus **out, const char *transport, const char *url, pg_error *err);
PG_API int pg_bus_publish(pg_bus *b, const char *subject, const void *data, size_t len,
                          pg_error *err);
PG_API int pg_bus_publish_reply(pg_bus *b, const char *subject, const char *reply, const void *data,
                                size_t len, pg_error *err);
PG_API int pg_bus_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx,
                            uint64_t *sid, pg_error *err);
/* Subscribes in queue group `group` (1 to PG_BUS_MAX_SUBJECT printable characters, no spaces or
 * wildcards): a matching message reaches one member of the group. Copies pattern and group. */
PG_API int pg_bus_subscribe_queue(pg_bus *b, const char *pattern, const char *group,
                                  pg_bus_handler cb, void *ctx, uint64_t *sid, pg_error *err);
PG_API int pg_bus_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err);
PG_API int pg_bus_request(pg_bus *b, const char *subject, const void *data, size_t len,
                          double timeout_s, void **reply, size_t *reply_len, pg_error *err);
PG_API int pg_bus_flush(pg_bus *b, double timeout_s, pg_error *err);
PG_API int pg_bus_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err);
PG_API size_t pg_bus_server(const pg_bus *b, char *buf, size_t n);
/* The largest message (bytes of data) that can be published on b now (0 for a NULL bus). */
PG_API size_t pg_bus_max_payload(const pg_bus *b);
PG_API void pg_bus_close(pg_bus *b); /* accepts NULL */

/* Messages counted and dropped (malformed, or a handler's error) and delivered so far. */
typedef struct pg_bus_stats {
    uint64_t published, delivered, dropped;
    uint64_t disconnects, reconnects; /* network backends: times the connection was lost and
                                         restored (to the same or another server) */
} pg_bus_stats;
PG_API void pg_bus_get_stats(const pg_bus *b, pg_bus_stats *s);

/* Whether subject matches pattern ('*' one token, '>' the rest). Both must be valid subjects:
 * non-empty tokens of printable ASCII without spaces, at most PG_BUS_MAX_SUBJECT bytes. */
PG_API bool pg_bus_subject_match(const char *pattern, const char *subject);
PG_API bool pg_bus_subject_valid(const char *subject, bool pattern);

#ifdef __cplusplus
}
#endif
#endif
