/* The NATS backend's place in the library: nats.c (the only file that includes <nats/nats.h>)
 * defines the transport row pgi_nats_transport; the shared library loads it from the module
 * nats.so at the first NATS bus (nats_module.c), the static library has it built in
 * (nats_builtin.c); nats_row.c is the row of the transport table (bus.c) that forwards to it.
 * Only src/lattice/ and the tests include this. */
#ifndef PG_LATTICE_NATS_H
#define PG_LATTICE_NATS_H

#include <stddef.h>

#include "plurigrid/lattice.h"

/* The symbol the module exports: visible even in a build with hidden visibility. */
#if defined(__GNUC__)
#define PGI_NATS_EXPORT __attribute__((visibility("default")))
#else
#define PGI_NATS_EXPORT
#endif
extern PGI_NATS_EXPORT const pg_bus_transport pgi_nats_transport;

/* The NATS transport, built in or loaded once from nats.so; NULL with err filled
 * (PG_EUNSUPPORTED) when the module cannot be loaded. Thread-safe. */
const pg_bus_transport *pgi_nats_get(pg_error *err);

/* The row "nats" of the transport table (nats_row.c): each forwards to pgi_nats_get's. */
int pgi_natsrow_open(pg_bus **out, const char *url, pg_error *err);
int pgi_natsrow_publish(pg_bus *b, const char *subject, const char *reply, const void *data,
                        size_t len, pg_error *err);
int pgi_natsrow_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx,
                          uint64_t *sid, pg_error *err);
int pgi_natsrow_subscribe_queue(pg_bus *b, const char *pattern, const char *group,
                                pg_bus_handler cb, void *ctx, uint64_t *sid, pg_error *err);
size_t pgi_natsrow_max_payload(const pg_bus *b);
int pgi_natsrow_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err);
int pgi_natsrow_request(pg_bus *b, const char *subject, const void *data, size_t len,
                        double timeout_s, void **reply, size_t *reply_len, pg_error *err);
int pgi_natsrow_flush(pg_bus *b, double timeout_s, pg_error *err);
int pgi_natsrow_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err);
size_t pgi_natsrow_server(const pg_bus *b, char *buf, size_t n);
void pgi_natsrow_close(pg_bus *b);

/* The default bound of a NATS bus's queue of arrived, undelivered messages (bytes, counting each
 * message's data, subject, reply subject and a small overhead): beyond it a message is dropped
 * and counted in the bus's `dropped`. */
#define PGI_NATS_MAX_QUEUED ((size_t)256 << 20)

/* Sets a NATS bus's queue bound (for tests that reach it quickly). PG_EINVAL when b is not a NATS
 * bus or max_queued_bytes is 0. Static library only (the tests'). */
int pgi_bus_nats_set_limits(pg_bus *b, size_t max_queued_bytes, pg_error *err);

#endif
