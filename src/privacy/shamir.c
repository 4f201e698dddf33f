/* Shamir t-of-n secret sharing of 32-byte secrets over GF(2^16), for the dropout recovery of
 * secure aggregation (libsodium has none). GF(2^16) rather than GF(2^8) so that a coalition may
 * have more than 255 members: x-coordinates are member id + 1.
 *
 * Constant time: the secret-dependent arithmetic (multiplication, evaluation, interpolation)
 * uses no table indexed by a secret and no branch on one. Multiplication is shift-and-xor with
 * masks; inversion, needed only of public x-coordinates, is still a fixed chain of
 * multiplications (a^(2^16 - 2)). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "privacy/internal.h"

/* x^16 + x^12 + x^3 + x + 1, irreducible over GF(2) (the tests check that every nonzero element
 * has an inverse). */
#define GF16_POLY 0x1100Bu

uint16_t
pgi_gf16_mul(uint16_t a, uint16_t b)
{
    uint32_t x = a, r = 0;
    for (int i = 0; i < 16; i++) {
        r ^= x & (uint32_t)(-(int32_t)((b >> i) & 1u));
        x <<= 1;
        x ^= GF16_POLY & (uint32_t)(-(int32_t)((x >> 16) & 1u));
    }
    return (uint16_t)r;
}

/* y[k] *= c for the 16 elements of a secret at once (c public, y secret): the same
 * shift-and-xor with masks, written over the elements so that the compiler vectorizes it. */
static void
mul_elements(uint16_t y[PGI_SHAMIR_SECRET / 2], uint16_t c)
{
    uint16_t a[PGI_SHAMIR_SECRET / 2], r[PGI_SHAMIR_SECRET / 2] = {0};
    memcpy(a, y, sizeof a);
    for (int i = 0; i < 16; i++) {
        uint16_t m = (uint16_t) - (uint16_t)((c >> i) & 1u);
        for (int k = 0; k < PGI_SHAMIR_SECRET / 2; k++) {
            r[k] ^= a[k] & m;
            uint16_t top = (uint16_t) - (uint16_t)(a[k] >> 15);
            a[k] = (uint16_t)((uint16_t)(a[k] << 1) ^ (top & (GF16_POLY & 0xFFFFu)));
        }
    }
    memcpy(y, r, sizeof r);
    sodium_memzero(a, sizeof a);
    sodium_memzero(r, sizeof r);
}

uint16_t
pgi_gf16_inv(uint16_t a)
{
    /* a^(2^16 - 2) = a^(0xFFFE): square-and-multiply over a public exponent. */
    uint16_t r = 1, p = a;
    for (int i = 1; i < 16; i++) {
        p = pgi_gf16_mul(p, p); /* p = a^(2^i) */
        r = pgi_gf16_mul(r, p);
    }
    return r;
}

void
pgi_shamir_share_pack(const pgi_shamir_share *s, uint8_t out[PGI_SHAMIR_SHARE_BYTES])
{
    out[0] = (uint8_t)(s->x >> 8);
    out[1] = (uint8_t)s->x;
    for (int k = 0; k < PGI_SHAMIR_SECRET / 2; k++) {
        out[2 + 2 * k] = (uint8_t)(s->y[k] >> 8);
        out[3 + 2 * k] = (uint8_t)s->y[k];
    }
}

void
pgi_shamir_share_unpack(const uint8_t in[PGI_SHAMIR_SHARE_BYTES], pgi_shamir_share *s)
{
    s->x = (uint16_t)(in[0] << 8 | in[1]);
    for (int k = 0; k < PGI_SHAMIR_SECRET / 2; k++)
        s->y[k] = (uint16_t)(in[2 + 2 * k] << 8 | in[3 + 2 * k]);
}

int
pgi_shamir_split(const uint8_t secret[PGI_SHAMIR_SECRET], unsigned t, const uint16_t *xs, size_t n,
                 pgi_shamir_share *out, pgi_secagg_rng *rng, pg_error *err)
{
    if (t < 1 || n < t || n > 65535)
        return pg_error_set(err, PG_EINVAL,
                            "Shamir: a threshold of %u of %zu shares is not possible (1 <= t <= "
                            "n <= 65535)",
                            t, n);
    for (size_t i = 0; i < n; i++) {
        if (xs[i] == 0)
            return pg_error_set(err, PG_EINVAL, "Shamir: share %zu has the x-coordinate 0", i);
        for (size_t j = 0; j < i; j++)
            if (xs[j] == xs[i])
                return pg_error_set(err, PG_EINVAL,
                                    "Shamir: shares %zu and %zu have the same x-coordinate", j, i);
    }
    enum { K = PGI_SHAMIR_SECRET / 2 };
    /* coef[d][k]: the coefficient of x^d of the polynomial of element k; coef[0] the secret. */
    size_t bytes = (size_t)t * K * sizeof(uint16_t);
    uint16_t *coef = malloc(bytes);
    if (!coef)
        return pg_error_set(err, PG_ENOMEM, "Shamir: out of memory");
    for (int k = 0; k < K; k++)
        coef[k] = (uint16_t)(secret[2 * k] << 8 | secret[2 * k + 1]);
    if (t > 1)
        pgi_secagg_rng_fill(rng, coef + K, (size_t)(t - 1) * K * sizeof *coef);
    for (size_t i = 0; i < n; i++) {
        /* Horner's rule from the highest degree, the 16 polynomials side by side. */
        uint16_t *y = out[i].y;
        out[i].x = xs[i];
        memcpy(y, coef + (size_t)(t - 1) * K, K * sizeof *y);
        for (unsigned d = t - 1; d-- > 0;) {
            mul_elements(y, xs[i]);
            for (int k = 0; k < K; k++)
                y[k] ^= coef[(size_t)d * K + k];
        }
    }
    sodium_memzero(coef, bytes);
    free(coef);
    return PG_OK;
}

int
pgi_shamir_combine(const pgi_shamir_share *shares, size_t n, unsigned t,
                   uint8_t secret[PGI_SHAMIR_SECRET], pg_error *err)
{
    if (t < 1)
        return pg_error_set(err, PG_EINVAL, "Shamir: the threshold must be at least 1");
    if (n < t)
        return pg_error_set(err, PG_EINVAL,
                            "Shamir: %zu shares cannot reconstruct a secret shared %u of n", n, t);
    for (size_t i = 0; i < t; i++) {
        if (shares[i].x == 0)
            return pg_error_set(err, PG_EINVAL, "Shamir: share %zu has the x-coordinate 0", i);
        for (size_t j = 0; j < i; j++)
            if (shares[j].x == shares[i].x)
                return pg_error_set(err, PG_EINVAL,
                                    "Shamir: shares %zu and %zu have the same x-coordinate", j, i);
    }
    enum { K = PGI_SHAMIR_SECRET / 2 };
    uint16_t acc[K] = {0};
    for (size_t i = 0; i < t; i++) {
        /* Lagrange basis at 0: prod_{j != i} x_j / (x_j - x_i); minus is xor in GF(2^m). */
        uint16_t num = 1, den = 1;
        for (size_t j = 0; j < t; j++) {
            if (j == i)
                continue;
            num = pgi_gf16_mul(num, shares[j].x);
            den = pgi_gf16_mul(den, (uint16_t)(shares[j].x ^ shares[i].x));
        }
        uint16_t l = pgi_gf16_mul(num, pgi_gf16_inv(den)), y[K];
        memcpy(y, shares[i].y, sizeof y);
        mul_elements(y, l);
        for (int k = 0; k < K; k++)
            acc[k] ^= y[k];
        sodium_memzero(y, sizeof y);
    }
    for (int k = 0; k < K; k++) {
        secret[2 * k] = (uint8_t)(acc[k] >> 8);
        secret[2 * k + 1] = (uint8_t)acc[k];
    }
    sodium_memzero(acc, sizeof acc);
    return PG_OK;
}
