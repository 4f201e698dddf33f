/* Bloom filters of op ids for reconciliation (Kleppmann & Howard, "Byzantine Eventual Consistency
 * and the Fundamental Limits of Peer-to-Peer Databases", section on Bloom filters): a set of ids
 * in a few bits per id, whose hash functions are keyed by a fresh random 16-byte key each time a
 * filter is made, so that a peer cannot search for ids that collide with ours (false positives it
 * could use to hide ops) before it sees the key. The k bit positions of an id come from one
 * SipHash-2-4 (libsodium's crypto_shorthash) of the id under the key, by double hashing. */
#ifndef PG_LEDGER_BLOOM_H
#define PG_LEDGER_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGI_BLOOM_KEY_BYTES 16
#define PGI_BLOOM_MAX_K 32

typedef struct pgi_bloom {
    uint8_t key[PGI_BLOOM_KEY_BYTES];
    uint32_t nbits; /* a multiple of 8, >= 64 */
    unsigned k;     /* 1..PGI_BLOOM_MAX_K */
    uint8_t *bits;  /* nbits / 8 bytes: owned, or borrowed from a message (owned false) */
    bool owned;
} pgi_bloom;

/* The number of bits for n ids at bits_per_id (rounded up to whole bytes, at least 64), and the
 * number of hash functions that minimises false positives at that size. */
uint32_t pgi_bloom_size(size_t n, unsigned bits_per_id);
unsigned pgi_bloom_k(unsigned bits_per_id);

/* A zeroed filter of nbits bits and k hash functions under a fresh random key. PG_ENOMEM. */
int pgi_bloom_init(pgi_bloom *f, uint32_t nbits, unsigned k);
/* A filter over bytes received (borrowed: valid while they are): nbits a multiple of 8 >= 64,
 * k in 1..PGI_BLOOM_MAX_K. Returns false when the parameters are out of range. */
bool pgi_bloom_view(pgi_bloom *f, const uint8_t key[PGI_BLOOM_KEY_BYTES], uint32_t nbits,
                    unsigned k, const uint8_t *bits);
void pgi_bloom_free(pgi_bloom *f);

void pgi_bloom_add(pgi_bloom *f, const uint8_t id[32]);
bool pgi_bloom_has(const pgi_bloom *f, const uint8_t id[32]);

#endif
