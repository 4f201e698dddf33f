/* The lattice bus: the table of transports and the pg_bus_* functions, which check their
 * arguments and dispatch through the bus's transport. Node and market code see only these. */
#include <stdio.h>
#include <string.h>

#include "lattice/bus_internal.h"
#include "lattice/nats.h"

/* The transports: a new backend is one file and one row. */
static const pg_bus_transport transports[] = {
    {"inproc", "in-process, deterministic: messages delivered in order when the bus is flushed",
     pgi_inproc_open, pgi_inproc_publish, pgi_inproc_subscribe, pgi_inproc_unsubscribe,
     pgi_inproc_request, pgi_inproc_flush, pgi_inproc_poll, pgi_inproc_server, pgi_inproc_close,
     pgi_inproc_subscribe_queue, pgi_inproc_max_payload},
    /* Loaded from the module nats.so at the first open (nats_row.c forwards to it). */
    {"nats", "NATS (cnats): messages from nats-servers, delivered when the bus is polled",
     pgi_natsrow_open, pgi_natsrow_publish, pgi_natsrow_subscribe, pgi_natsrow_unsubscribe,
     pgi_natsrow_request, pgi_natsrow_flush, pgi_natsrow_poll, pgi_natsrow_server,
     pgi_natsrow_close, pgi_natsrow_subscribe_queue, pgi_natsrow_max_payload},
};
#define N_TRANSPORTS (sizeof transports / sizeof transports[0])

const pg_bus_transport *
pg_bus_transports(size_t *n)
{
    if (n)
        *n = N_TRANSPORTS;
    return transports;
}

const pg_bus_transport *
pg_bus_transport_find(const char *name, pg_error *err)
{
    for (size_t i = 0; name && i < N_TRANSPORTS; i++)
        if (strcmp(transports[i].name, name) == 0)
            return &transports[i];
    char known[200] = "";
    for (size_t i = 0; i < N_TRANSPORTS; i++) {
        size_t k = strlen(known);
        snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", transports[i].name);
    }
    pg_error_set(err, PG_ENOTFOUND, "unknown bus transport \"%.100s\" (known: %s)",
                 name ? name : "(none)", known);
    return NULL;
}

int
pg_bus_open(pg_bus **out, const char *transport, const char *url, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "bus: pg_bus_open needs somewhere to put the bus");
    const pg_bus_transport *t = pg_bus_transport_find(transport, err);
    if (!t)
        return PG_ENOTFOUND;
    pg_bus *b = NULL;
    int rc = t->open(&b, url, err);
    if (rc)
        return rc;
    b->transport = t;
    *out = b;
    return PG_OK;
}

#define NEED_BUS(b)                                                                                \
    do {                                                                                           \
        if (!(b))                                                                                  \
            return pg_error_set(err, PG_EINVAL, "bus: no bus (NULL)");                             \
    } while (0)

int
pg_bus_publish(pg_bus *b, const char *subject, const void *data, size_t len, pg_error *err)
{
    NEED_BUS(b);
    return b->transport->publish(b, subject, NULL, data, len, err);
}

int
pg_bus_publish_reply(pg_bus *b, const char *subject, const char *reply, const void *data,
                     size_t len, pg_error *err)
{
    NEED_BUS(b);
    return b->transport->publish(b, subject, reply, data, len, err);
}

int
pg_bus_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx, uint64_t *sid,
                 pg_error *err)
{
    NEED_BUS(b);
    return b->transport->subscribe(b, pattern, cb, ctx, sid, err);
}

int
pg_bus_subscribe_queue(pg_bus *b, const char *pattern, const char *group, pg_bus_handler cb,
                       void *ctx, uint64_t *sid, pg_error *err)
{
    NEED_BUS(b);
    int rc = pgi_bus_check_group(group, err);
    if (rc)
        return rc;
    return b->transport->subscribe_queue(b, pattern, group, cb, ctx, sid, err);
}

int
pg_bus_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err)
{
    NEED_BUS(b);
    return b->transport->unsubscribe(b, sid, err);
}

int
pg_bus_request(pg_bus *b, const char *subject, const void *data, size_t len, double timeout_s,
               void **reply, size_t *reply_len, pg_error *err)
{
    NEED_BUS(b);
    return b->transport->request(b, subject, data, len, timeout_s, reply, reply_len, err);
}

int
pg_bus_flush(pg_bus *b, double timeout_s, pg_error *err)
{
    NEED_BUS(b);
    return b->transport->flush(b, timeout_s, err);
}

int
pg_bus_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err)
{
    if (delivered)
        *delivered = 0;
    NEED_BUS(b);
    return b->transport->poll(b, timeout_s, delivered, err);
}

size_t
pg_bus_server(const pg_bus *b, char *buf, size_t n)
{
    if (!buf || n == 0)
        return 0;
    buf[0] = 0;
    return b ? b->transport->server(b, buf, n) : 0;
}

size_t
pg_bus_max_payload(const pg_bus *b)
{
    return b ? b->transport->max_payload(b) : 0;
}

void
pg_bus_close(pg_bus *b)
{
    if (b)
        b->transport->close(b);
}

void
pg_bus_get_stats(const pg_bus *b, pg_bus_stats *s)
{
    if (!s)
        return;
    if (b) {
        *s = b->stats;
        if (b->sync_stats)
            b->sync_stats(b, s);
    } else {
        memset(s, 0, sizeof *s);
    }
}
