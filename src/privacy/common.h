/* What the client (secagg_client.c) and the server (secagg_server.c) of secure aggregation
 * share, inside privacy.so. */
#ifndef PG_PRIVACY_COMMON_H
#define PG_PRIVACY_COMMON_H

#include "privacy/internal.h"
#include "privacy/wire.h"

#endif
