/* The seeded random number generator every game and learner draws from: xoshiro256** (Blackman
 * and Vigna) seeded by splitmix64 from a (seed, stream) pair, so parallel runs can each take their
 * own stream and stay reproducible whatever thread executes them. */
#include "plurigrid/rng.h"

#include <math.h>

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
pg_rng_seed(pg_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Mixing the stream through its own splitmix64 step before combining keeps nearby
     * (seed, stream) pairs from starting on overlapping splitmix64 sequences. */
    uint64_t a = seed, b = stream ^ 0x6A09E667F3BCC909ULL;
    uint64_t x = splitmix64(&a) ^ rotl(splitmix64(&b), 17);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1; /* the all-zero state is the one xoshiro cannot leave */
}

uint64_t
pg_rng_u64(pg_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double
pg_rng_uniform(pg_rng *rng)
{
    return (double)(pg_rng_u64(rng) >> 11) * 0x1.0p-53;
}

size_t
pg_rng_below(pg_rng *rng, size_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection on the top of the range keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % (uint64_t)n;
    uint64_t r;
    do {
        r = pg_rng_u64(rng);
    } while (r >= limit);
    return (size_t)(r % (uint64_t)n);
}

double
pg_rng_normal(pg_rng *rng)
{
    double u1 = 1.0 - pg_rng_uniform(rng); /* (0, 1]: log stays finite */
    double u2 = pg_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

size_t
pg_rng_pick(pg_rng *rng, const double *weights, size_t n)
{
    double total = 0;
    size_t last = n;
    for (size_t i = 0; i < n; i++) {
        double w = weights[i];
        if (w > 0 && isfinite(w)) {
            total += w;
            last = i;
        }
    }
    if (last == n)
        return n;
    double u = pg_rng_uniform(rng) * total;
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weights[i];
        if (!(w > 0 && isfinite(w)))
            continue;
        acc += w;
        if (u < acc)
            return i;
    }
    return last; /* rounding left u just above the running sum */
}
