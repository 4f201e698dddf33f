/* The NATS transport of the shared library: the module nats.so in the folder plurigrid/ beside
 * libplurigrid.so (src/core/loader.h), loaded when the first NATS bus is opened, once per
 * process, so that a program that never opens one never loads libnats (and its TLS and protobuf
 * libraries). */
#include <pthread.h>

#include "core/loader.h"
#include "lattice/nats.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pg_bus_transport *transport;
static char why[4300];

static void
load(void)
{
    transport = pgi_module_symbol("nats.so", "pgi_nats_transport", why, sizeof why);
}

const pg_bus_transport *
pgi_nats_get(pg_error *err)
{
    pthread_once(&once, load);
    if (!transport)
        pg_error_set(err, PG_EUNSUPPORTED,
                     "bus: the NATS module could not be loaded: %s; reinstall plurigrid (it needs "
                     "libnats, Debian's libnats3.4)",
                     why);
    return transport;
}
