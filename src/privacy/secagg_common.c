/* What the client and the server of secure aggregation share: randomness (the system's, or a
 * seeded ChaCha20 stream), key derivation, the mask generator, signing and checking messages. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/common.h"

void
pgi_secagg_rng_seed(pgi_secagg_rng *r, const uint8_t seed[32])
{
    memset(r, 0, sizeof *r);
    r->seeded = true;
    memcpy(r->key, seed, 32);
}

void
pgi_secagg_rng_fill(pgi_secagg_rng *r, void *buf, size_t n)
{
    if (!r || !r->seeded) {
        randombytes_buf(buf, n);
        return;
    }
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    uint64_t c = r->counter++;
    for (int i = 0; i < 8; i++)
        nonce[i] = (uint8_t)(c >> (8 * i));
    crypto_stream_chacha20(buf, n, nonce, r->key);
}

int
pgi_secagg_sign_keypair_from_seed(uint8_t pk[32], uint8_t sk[64], const uint8_t seed[32])
{
    return crypto_sign_ed25519_seed_keypair(pk, sk, seed) == 0 ? PG_OK : PG_EINVAL;
}

void
pgi_secagg_round_id(uint8_t out[32], const void *label, size_t len)
{
    crypto_generichash(out, 32, label, len, NULL, 0);
}

void
pgi_secagg_outbox_free(pgi_secagg_outbox *box)
{
    if (!box)
        return;
    for (size_t i = 0; i < box->n; i++)
        free(box->msgs[i].data);
    free(box->msgs);
    box->msgs = NULL;
    box->n = 0;
}
