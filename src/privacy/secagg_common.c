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

uint8_t *
pgi_sa_msg_alloc(uint8_t type, uint32_t sender, uint32_t to, const uint8_t rid[32], size_t body_len,
                 size_t *len)
{
    size_t n = PGI_SA_HEADER + body_len + PGI_SA_SIG;
    uint8_t *m = calloc(1, n);
    if (!m)
        return NULL;
    memcpy(m, PGI_SA_MAGIC, 4);
    m[4] = PGI_SA_VERSION;
    m[5] = type;
    pgi_sa_put16(m + 6, sender);
    pgi_sa_put16(m + 8, to);
    memcpy(m + 10, rid, 32);
    pgi_sa_put32(m + 42, (uint32_t)body_len);
    *len = n;
    return m;
}

void
pgi_sa_msg_sign(uint8_t *m, size_t len, const uint8_t sk[64])
{
    crypto_sign_ed25519_detached(m + len - PGI_SA_SIG, NULL, m, len - PGI_SA_SIG, sk);
}

static const char *const type_names[] = {
    "?",      "ADVERTISE",   "KEYS",        "SHARES",     "SHARES_FWD",
    "MASKED", "CONSIST_REQ", "CONSIST_SIG", "UNMASK_REQ", "UNMASK",
};

int
pgi_sa_msg_open(const void *msg, size_t len, uint8_t type, const uint8_t rid[32], pgi_sa_header *h,
                pg_error *err)
{
    int rc = pgi_sa_header_read(msg, len, h, err);
    if (rc)
        return rc;
    if (sodium_memcmp(h->round_id, rid, 32) != 0)
        return pg_error_set(err, PG_ESTATE,
                            "secure aggregation: a %s message of another aggregation (round id) "
                            "is refused",
                            type_names[h->type]);
    if (h->type != type)
        return pg_error_set(err, PG_ESTATE,
                            "secure aggregation: a %s message is out of round (expected %s)",
                            type_names[h->type], type_names[type]);
    return PG_OK;
}

int
pgi_sa_msg_verify(const void *msg, size_t len, const pgi_sa_header *h, const uint8_t pk[32],
                  pg_error *err)
{
    if (crypto_sign_ed25519_verify_detached(h->sig, msg, len - PGI_SA_SIG, pk) != 0)
        return pg_error_set(err, PG_EAUTH,
                            "secure aggregation: the signature of a %s message from %s %u does "
                            "not verify",
                            type_names[h->type],
                            h->sender == PGI_SECAGG_SERVER ? "the aggregator" : "member",
                            h->sender == PGI_SECAGG_SERVER ? 0u : (unsigned)h->sender);
    return PG_OK;
}

int
pgi_sa_pair_key(uint8_t out[32], const char *label, const uint8_t rid[32], const uint8_t my_sk[32],
                uint32_t me, const uint8_t my_pk[32], uint32_t peer, const uint8_t peer_pk[32])
{
    uint8_t shared[32];
    if (crypto_scalarmult(shared, my_sk, peer_pk) != 0)
        return PG_EAUTH;
    uint8_t ids[4];
    const uint8_t *lo = me < peer ? my_pk : peer_pk, *hi = me < peer ? peer_pk : my_pk;
    pgi_sa_put16(ids, me < peer ? me : peer);
    pgi_sa_put16(ids + 2, me < peer ? peer : me);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label) + 1);
    crypto_generichash_update(&st, rid, 32);
    crypto_generichash_update(&st, ids, 4);
    crypto_generichash_update(&st, lo, 32);
    crypto_generichash_update(&st, hi, 32);
    crypto_generichash_update(&st, shared, 32);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(&st, sizeof st);
    return PG_OK;
}

void
pgi_sa_self_key(uint8_t out[32], const uint8_t rid[32], const uint8_t b[32])
{
    static const char label[] = "pgsa-self";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label);
    crypto_generichash_update(&st, rid, 32);
    crypto_generichash_update(&st, b, 32);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
}

void
pgi_sa_prg_add(uint64_t *acc, size_t n, const uint8_t key[32], int sign, uint8_t *scratch)
{
    static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    crypto_stream_chacha20(scratch, 8 * n, nonce, key);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = scratch + 8 * i;
        uint64_t v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                     (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                     (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
        acc[i] = sign > 0 ? acc[i] + v : acc[i] - v;
    }
    sodium_memzero(scratch, 8 * n);
}

bool
pgi_sa_pk_bad(const uint8_t pk[32])
{
    /* Clamped scalars are multiples of 8, so a point of small order gives zero for any: X25519
     * refuses it. */
    static const uint8_t probe[32] = {9};
    uint8_t q[32];
    bool bad = crypto_scalarmult(q, probe, pk) != 0;
    sodium_memzero(q, sizeof q);
    return bad;
}

uint8_t *
pgi_sa_statement(const uint8_t rid[32], const uint8_t *set, size_t set_len, size_t *len)
{
    static const char prefix[] = "pgsa-survivors";
    size_t n = sizeof prefix + 32 + set_len;
    uint8_t *s = malloc(n);
    if (!s)
        return NULL;
    memcpy(s, prefix, sizeof prefix);
    memcpy(s + sizeof prefix, rid, 32);
    memcpy(s + sizeof prefix + 32, set, set_len);
    *len = n;
    return s;
}

int
pgi_sa_check_params(const pgi_secagg_params *p, pg_error *err)
{
    if (p->n < 2 || p->n > PGI_SECAGG_MAX_MEMBERS)
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: a coalition of %u members is outside 2..%u", p->n,
                            PGI_SECAGG_MAX_MEMBERS);
    if (p->t < 2 || p->t > p->n)
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: the threshold %u is outside 2..%u (the members)",
                            p->t, p->n);
    /* With 2t <= n an active aggregator shows two disjoint halves of t members each its own
     * survivor set: each half signs its set and unmasks it, one half revealing b-shares and the
     * other s_sk-shares of the same members, t of each, and both seeds of a live member unmask
     * its input. */
    if (2 * (uint64_t)p->t <= p->n)
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: the threshold %u is not more than half of the %u "
                            "members (an aggregator could gather two disjoint quorums)",
                            p->t, p->n);
    if (p->min_coalition > p->n)
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: the minimum coalition %u is larger than the %u "
                            "members",
                            p->min_coalition, p->n);
    if (p->len < 1 || p->len > PGI_SECAGG_MAX_LEN)
        return pg_error_set(err, PG_EINVAL,
                            "secure aggregation: a vector of %u values is outside 1..%u", p->len,
                            PGI_SECAGG_MAX_LEN);
    return PG_OK;
}
