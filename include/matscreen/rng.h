/**
 * @file rng.h
 * @brief Counter-based random numbers (Philox4x32-10) keyed by (seed, stream id).
 *
 * Conventions
 * -----------
 * - Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 *   SC'11) maps a 128-bit counter and a 64-bit key to 128 random bits with no state.
 * - matscreen keys every stream by (campaign seed, candidate id): the key is the 64-bit seed,
 *   counter words 2-3 hold the 64-bit stream id and words 0-1 count blocks within the stream.
 *   So the numbers used for candidate i are the same on any rank, in any order, after any
 *   restart: results cannot depend on the number of ranks.
 * - Not collective; no global state; a ms_rng is a small value type (copy it freely).
 */
#ifndef MATSCREEN_RNG_H
#define MATSCREEN_RNG_H

#include <stdint.h>

/** One Philox4x32-10 block: out = philox(ctr, key). Pure function. */
void ms_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/** A stream of random numbers for one (seed, stream) pair. */
typedef struct {
  uint32_t key[2];
  uint32_t ctr[4];
  uint32_t buf[4];
  int used; /* how many words of buf were consumed (4 = refill) */
} ms_rng;

/** Start stream @p stream of generator @p seed at block 0. */
void ms_rng_init(ms_rng *r, uint64_t seed, uint64_t stream);
/** Next 32 random bits. */
uint32_t ms_rng_u32(ms_rng *r);
/** Next 64 random bits. */
uint64_t ms_rng_u64(ms_rng *r);
/** Uniform double in [0, 1) with 53 random bits. */
double ms_rng_uniform(ms_rng *r);
/** Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t ms_rng_below(ms_rng *r, uint64_t n);
/** Standard normal deviate (Box-Muller; uses two uniforms per call, no hidden cache). */
double ms_rng_normal(ms_rng *r);

#endif
