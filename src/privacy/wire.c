/* The framing of the engine's messages (wire.h): the header every message starts with. */
#include <string.h>

#include "privacy/internal.h"
#include "privacy/wire.h"

int
pgi_sa_header_read(const void *msg, size_t len, pgi_sa_header *h, pg_error *err)
{
    const uint8_t *p = msg;
    if (!msg || len < PGI_SA_HEADER + PGI_SA_SIG)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: a message of %zu bytes is too "
                            "short for a header and a signature",
                            len);
    if (len > PGI_SECAGG_MAX_MSG)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: a message of %zu bytes is over the limit of %zu",
                            len, PGI_SECAGG_MAX_MSG);
    if (memcmp(p, PGI_SA_MAGIC, 4) != 0)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: not a secure-aggregation message "
                            "(bad magic)");
    if (p[4] != PGI_SA_VERSION)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: message version %u is not supported (expected %u)",
                            p[4], PGI_SA_VERSION);
    if (p[5] < PGI_SA_ADVERTISE || p[5] > PGI_SA_UNMASK)
        return pg_error_set(err, PG_EPARSE, "secure aggregation: unknown message type %u", p[5]);
    h->type = p[5];
    h->sender = (uint16_t)pgi_sa_get16(p + 6);
    h->to = (uint16_t)pgi_sa_get16(p + 8);
    memcpy(h->round_id, p + 10, 32);
    h->body_len = pgi_sa_get32(p + 42);
    if ((size_t)h->body_len != len - PGI_SA_HEADER - PGI_SA_SIG)
        return pg_error_set(err, PG_EPARSE,
                            "secure aggregation: the header announces a body of %u bytes, the "
                            "message has %zu",
                            h->body_len, len - PGI_SA_HEADER - PGI_SA_SIG);
    h->body = p + PGI_SA_HEADER;
    h->sig = p + PGI_SA_HEADER + h->body_len;
    return PG_OK;
}
