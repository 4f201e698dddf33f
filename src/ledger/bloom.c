/* Bloom filters of op ids with per-filter keyed hashes (bloom.h says why the key is fresh). */
#include "ledger/bloom.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

uint32_t
pgi_bloom_size(size_t n, unsigned bits_per_id)
{
    uint64_t bits = (uint64_t)n * bits_per_id;
    if (bits < 64)
        bits = 64;
    if (bits > UINT32_MAX - 7)
        bits = UINT32_MAX - 7;
    return (uint32_t)((bits + 7) & ~(uint64_t)7);
}

unsigned
pgi_bloom_k(unsigned bits_per_id)
{
    /* k = bits per id x ln 2, rounded. */
    unsigned k = (unsigned)(bits_per_id * 0.6931471805599453 + 0.5);
    if (k < 1)
        k = 1;
    if (k > PGI_BLOOM_MAX_K)
        k = PGI_BLOOM_MAX_K;
    return k;
}

int
pgi_bloom_init(pgi_bloom *f, uint32_t nbits, unsigned k)
{
    memset(f, 0, sizeof *f);
    f->bits = calloc(nbits / 8, 1);
    if (!f->bits)
        return -1;
    randombytes_buf(f->key, sizeof f->key);
    f->nbits = nbits;
    f->k = k;
    f->owned = true;
    return 0;
}

bool
pgi_bloom_view(pgi_bloom *f, const uint8_t key[PGI_BLOOM_KEY_BYTES], uint32_t nbits, unsigned k,
               const uint8_t *bits)
{
    if (nbits < 64 || nbits % 8 || k < 1 || k > PGI_BLOOM_MAX_K)
        return false;
    memset(f, 0, sizeof *f);
    memcpy(f->key, key, sizeof f->key);
    f->nbits = nbits;
    f->k = k;
    f->bits = (uint8_t *)bits;
    f->owned = false;
    return true;
}

void
pgi_bloom_free(pgi_bloom *f)
{
    if (f && f->owned)
        free(f->bits);
    if (f)
        memset(f, 0, sizeof *f);
}

/* The two halves of the id's keyed hash: position i is h1 + i h2 (mod nbits), with h2 odd. */
static void
positions(const pgi_bloom *f, const uint8_t id[32], uint64_t *h1, uint64_t *h2)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, 32, f->key);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | h[i];
    *h1 = (v & 0xffffffffu) % f->nbits;
    *h2 = ((v >> 32) | 1) % f->nbits;
}

void
pgi_bloom_add(pgi_bloom *f, const uint8_t id[32])
{
    uint64_t p, d;
    positions(f, id, &p, &d);
    for (unsigned i = 0; i < f->k; i++) {
        f->bits[p >> 3] |= (uint8_t)(1u << (p & 7));
        p += d;
        if (p >= f->nbits)
            p -= f->nbits;
    }
}

bool
pgi_bloom_has(const pgi_bloom *f, const uint8_t id[32])
{
    uint64_t p, d;
    positions(f, id, &p, &d);
    for (unsigned i = 0; i < f->k; i++) {
        if (!(f->bits[p >> 3] & (1u << (p & 7))))
            return false;
        p += d;
        if (p >= f->nbits)
            p -= f->nbits;
    }
    return true;
}
