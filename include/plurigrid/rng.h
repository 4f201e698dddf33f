/* Random numbers for every simulation of plurigrid: a small seeded generator that is plain data, so
 * that a run is a deterministic function of its seed and its stream whatever thread runs it. The
 * learners (learn.h), open games (opengame.h), classic games (game.h), active-inference agents
 * (aif.h) and scenarios (scenario.h) all draw from it. */
#ifndef PLURIGRID_RNG_H
#define PLURIGRID_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* xoshiro256** seeded through splitmix64: fast, good statistical quality, not cryptographic.
 * The struct is plain data: copy it to fork a generator, keep one per thread or per run. */
typedef struct pg_rng {
    uint64_t s[4];
} pg_rng;

/* Seeds rng from (seed, stream). Different streams of one seed give independent sequences, so a
 * simulation can give run i the stream i and get the same result whatever thread runs it. */
PG_API void pg_rng_seed(pg_rng *rng, uint64_t seed, uint64_t stream);
/* The next 64 random bits. */
PG_API uint64_t pg_rng_u64(pg_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
PG_API double pg_rng_uniform(pg_rng *rng);
/* Uniform integer in [0, n); n must be > 0 (returns 0 for n == 0). Unbiased. */
PG_API size_t pg_rng_below(pg_rng *rng, size_t n);
/* Standard normal draw (Box-Muller, one draw per call). */
PG_API double pg_rng_normal(pg_rng *rng);
/* Draws an index with probability proportional to weights[i] (non-negative, not all zero; a
 * weight that is negative or not finite counts as 0). Returns n when every weight is 0 or n == 0.
 * Borrows weights. */
PG_API size_t pg_rng_pick(pg_rng *rng, const double *weights, size_t n);

#ifdef __cplusplus
}
#endif
#endif
