/* The parts of the secure-aggregation engine that need no libsodium, in libplurigrid itself:
 * the fixed-point encoding of the values aggregated (arithmetic modulo 2^64 on two's-complement
 * integers, docs/privacy.md, "Fixed-point encoding") and the reading of a message header for
 * routing (docs/privacy.md, "Wire format"). */
#include <math.h>
#include <string.h>

#include "privacy/internal.h"
#include "privacy/wire.h"

int
pgi_secagg_encode(const double *x, size_t n, double scale, uint64_t *out, pg_error *err)
{
    if (!(isfinite(scale) && scale > 0))
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: the fixed-point scale must be finite and "
                            "positive");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return pg_error_set(err, PG_EINVAL,
                                "secure aggregation: value %zu is not a finite number", i);
        double v = nearbyint(x[i] * scale);
        if (!(fabs(v) <= PGI_SECAGG_VALUE_MAX))
            return pg_error_set(err, PG_EINVAL,
                                "secure aggregation: value %zu is too large for the fixed-point "
                                "encoding (at most 2^53 units of 1/%g)",
                                i, scale);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t v = (int64_t)nearbyint(x[i] * scale);
        out[i] = (uint64_t)v;
    }
    return PG_OK;
}

void
pgi_secagg_decode(const uint64_t *sum, size_t n, double scale, double *out)
{
    for (size_t i = 0; i < n; i++) {
        /* Two's complement read without implementation-defined conversion. */
        uint64_t u = sum[i];
        int64_t v = u >> 63 ? -(int64_t)(~u) - 1 : (int64_t)u;
        out[i] = (double)v / scale;
    }
}

int
pgi_secagg_peek(const void *msg, size_t len, pgi_secagg_msg_type *type, uint32_t *sender,
                uint32_t *to, pg_error *err)
{
    pgi_sa_header h;
    int rc = pgi_sa_header_read(msg, len, &h, err);
    if (rc)
        return rc;
    *type = (pgi_secagg_msg_type)h.type;
    *sender = h.sender;
    *to = h.to;
    return PG_OK;
}

uint32_t
pgi_secagg_threshold(uint32_t n, uint32_t c)
{
    uint32_t t = (n + c) / 2 + 1;
    return t < 2 ? 2 : t;
}
