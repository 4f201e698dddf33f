/* The aggregator's side of secure aggregation (Bonawitz et al., CCS 2017): skeleton. */
#include <stdlib.h>

#include "privacy/common.h"

struct pgi_secagg_server {
    pgi_secagg_server_state state;
};

int
pgi_secagg_server_new(pgi_secagg_server **out, const pgi_secagg_params *p,
                      const uint8_t (*roster)[32], const uint8_t sign_sk[64], pg_error *err)
{
    (void)out, (void)p, (void)roster, (void)sign_sk;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

void
pgi_secagg_server_free(pgi_secagg_server *s)
{
    free(s);
}

int
pgi_secagg_server_receive(pgi_secagg_server *s, const void *msg, size_t len, pg_error *err)
{
    (void)s, (void)msg, (void)len;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

bool
pgi_secagg_server_complete(const pgi_secagg_server *s)
{
    (void)s;
    return false;
}

int
pgi_secagg_server_advance(pgi_secagg_server *s, pgi_secagg_outbox *box, pg_error *err)
{
    (void)s, (void)box;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

pgi_secagg_server_state
pgi_secagg_server_state_get(const pgi_secagg_server *s)
{
    return s->state;
}

int
pgi_secagg_server_result(const pgi_secagg_server *s, uint64_t *sum, bool *included,
                         uint32_t *n_included, pg_error *err)
{
    (void)s, (void)sum, (void)included, (void)n_included;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

const char *
pgi_secagg_server_failure(const pgi_secagg_server *s)
{
    (void)s;
    return "";
}

void
pgi_secagg_server_view(const pgi_secagg_server *s, pgi_secagg_view *v)
{
    (void)s;
    *v = (pgi_secagg_view){0};
}
