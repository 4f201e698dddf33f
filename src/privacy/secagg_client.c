/* A member's side of secure aggregation (Bonawitz et al., CCS 2017): skeleton. */
#include <stdlib.h>

#include "privacy/common.h"

struct pgi_secagg_client {
    pgi_secagg_client_state state;
};

int
pgi_secagg_client_new(pgi_secagg_client **out, const pgi_secagg_params *p,
                      const uint8_t (*roster)[32], uint32_t self, const uint8_t sign_sk[64],
                      const uint8_t server_pk[32], const pgi_secagg_rng *rng, pg_error *err)
{
    (void)out, (void)p, (void)roster, (void)self, (void)sign_sk, (void)server_pk, (void)rng;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

void
pgi_secagg_client_free(pgi_secagg_client *c)
{
    free(c);
}

int
pgi_secagg_client_start(pgi_secagg_client *c, const uint64_t *input, uint8_t **msg, size_t *len,
                        pg_error *err)
{
    (void)c, (void)input, (void)msg, (void)len;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

int
pgi_secagg_client_handle(pgi_secagg_client *c, const void *msg, size_t len, uint8_t **reply,
                         size_t *reply_len, pg_error *err)
{
    (void)c, (void)msg, (void)len, (void)reply, (void)reply_len;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}

pgi_secagg_client_state
pgi_secagg_client_state_get(const pgi_secagg_client *c)
{
    return c->state;
}

void
pgi_secagg_client_view(const pgi_secagg_client *c, pgi_secagg_view *v)
{
    (void)c;
    *v = (pgi_secagg_view){0};
}

int
pgi_secagg_client_reveal(const pgi_secagg_client *c, uint8_t b_seed[32], uint8_t s_sk[32],
                         pg_error *err)
{
    (void)c, (void)b_seed, (void)s_sk;
    return pg_error_set(err, PG_EUNSUPPORTED, "secure aggregation: not yet");
}
