/* The row "nats" of the transport table: every function forwards to the NATS transport, which the
 * shared library loads from the module nats.so when the first NATS bus is opened (so a program
 * that never opens one never loads libnats), and the static library has built in. Once a bus is
 * open the transport is loaded, so only open can fail to find it. */
#include "lattice/bus_internal.h"
#include "lattice/nats.h"

int
pgi_natsrow_open(pg_bus **out, const char *url, pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->open(out, url, err) : PG_EUNSUPPORTED;
}

int
pgi_natsrow_publish(pg_bus *b, const char *subject, const char *reply, const void *data, size_t len,
                    pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->publish(b, subject, reply, data, len, err) : PG_EUNSUPPORTED;
}

int
pgi_natsrow_subscribe(pg_bus *b, const char *pattern, pg_bus_handler cb, void *ctx, uint64_t *sid,
                      pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->subscribe(b, pattern, cb, ctx, sid, err) : PG_EUNSUPPORTED;
}

int
pgi_natsrow_subscribe_queue(pg_bus *b, const char *pattern, const char *group, pg_bus_handler cb,
                            void *ctx, uint64_t *sid, pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->subscribe_queue(b, pattern, group, cb, ctx, sid, err) : PG_EUNSUPPORTED;
}

size_t
pgi_natsrow_max_payload(const pg_bus *b)
{
    const pg_bus_transport *t = pgi_nats_get(NULL);
    return t ? t->max_payload(b) : 0;
}

int
pgi_natsrow_unsubscribe(pg_bus *b, uint64_t sid, pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->unsubscribe(b, sid, err) : PG_EUNSUPPORTED;
}

int
pgi_natsrow_request(pg_bus *b, const char *subject, const void *data, size_t len, double timeout_s,
                    void **reply, size_t *reply_len, pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->request(b, subject, data, len, timeout_s, reply, reply_len, err)
             : PG_EUNSUPPORTED;
}

int
pgi_natsrow_flush(pg_bus *b, double timeout_s, pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->flush(b, timeout_s, err) : PG_EUNSUPPORTED;
}

int
pgi_natsrow_poll(pg_bus *b, double timeout_s, size_t *delivered, pg_error *err)
{
    const pg_bus_transport *t = pgi_nats_get(err);
    return t ? t->poll(b, timeout_s, delivered, err) : PG_EUNSUPPORTED;
}

size_t
pgi_natsrow_server(const pg_bus *b, char *buf, size_t n)
{
    const pg_bus_transport *t = pgi_nats_get(NULL);
    return t ? t->server(b, buf, n) : 0;
}

void
pgi_natsrow_close(pg_bus *b)
{
    const pg_bus_transport *t = pgi_nats_get(NULL);
    if (t)
        t->close(b);
}
