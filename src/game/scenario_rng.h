/* The random number generator of the scenario simulator and the active-inference agent:
 * xoshiro256** seeded through splitmix64. Runs draw from their own stream, derived from the
 * scenario seed and the run index, so that results do not depend on which thread ran a run. */
#ifndef PG_GAME_SCENARIO_RNG_H
#define PG_GAME_SCENARIO_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pgi_rng {
    uint64_t s[4];
} pgi_rng;

static inline uint64_t
pgi_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds a stream from (seed, stream): distinct streams give unrelated sequences. */
static inline void
pgi_rng_seed(pgi_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed;
    uint64_t mix = pgi_splitmix64(&x) ^ (stream * 0xd1b54a32d192ed03ULL + 0x632be59bd9b4e019ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = pgi_splitmix64(&mix);
}

static inline uint64_t
pgi_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t
pgi_rng_next(pgi_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = pgi_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = pgi_rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double
pgi_rng_uniform(pgi_rng *r)
{
    return (double)(pgi_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller; one draw per call keeps streams simple to reason about). */
static inline double
pgi_rng_normal(pgi_rng *r)
{
    double u1 = 1.0 - pgi_rng_uniform(r); /* (0, 1] */
    double u2 = pgi_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Index drawn from weights p[0..n-1] (non-negative, positive sum). */
static inline size_t
pgi_rng_discrete(pgi_rng *r, const double *p, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += p[i];
    double u = pgi_rng_uniform(r) * total;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] > 0) {
            last = i;
            if (u < p[i])
                return i;
            u -= p[i];
        }
    }
    return last;
}

#endif
