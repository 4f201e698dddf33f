/* The NATS transport of the static library: built in. */
#include "lattice/nats.h"

const pg_bus_transport *
pgi_nats_get(pg_error *err)
{
    (void)err;
    return &pgi_nats_transport;
}
