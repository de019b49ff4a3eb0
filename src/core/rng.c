/* Philox4x32-10, written from the algorithm's description in Salmon et al. (SC'11):
 * ten rounds of two 32x32->64 multiplications with the round keys bumped by the Weyl
 * constants. Multipliers and Weyl constants are the published ones. */
#include "matscreen/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

void ms_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(PHILOX_M0, c0, &hi0, &lo0);
    mulhilo(PHILOX_M1, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n1 = lo1;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    uint32_t n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void ms_rng_init(ms_rng *r, uint64_t seed, uint64_t stream) {
  r->key[0] = (uint32_t)seed;
  r->key[1] = (uint32_t)(seed >> 32);
  r->ctr[0] = 0;
  r->ctr[1] = 0;
  r->ctr[2] = (uint32_t)stream;
  r->ctr[3] = (uint32_t)(stream >> 32);
  r->used = 4;
}

static void refill(ms_rng *r) {
  ms_philox4x32_10(r->ctr, r->key, r->buf);
  if (++r->ctr[0] == 0) ++r->ctr[1];
  r->used = 0;
}

uint32_t ms_rng_u32(ms_rng *r) {
  if (r->used >= 4) refill(r);
  return r->buf[r->used++];
}

uint64_t ms_rng_u64(ms_rng *r) {
  uint64_t hi = ms_rng_u32(r);
  return (hi << 32) | ms_rng_u32(r);
}

double ms_rng_uniform(ms_rng *r) { return (double)(ms_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t ms_rng_below(ms_rng *r, uint64_t n) {
  /* Rejection sampling on the largest multiple of n below 2^64. */
  uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
  uint64_t x;
  do {
    x = ms_rng_u64(r);
  } while (x > limit);
  return x % n;
}

double ms_rng_normal(ms_rng *r) {
  double u1 = 1.0 - ms_rng_uniform(r); /* (0, 1] so log is finite */
  double u2 = ms_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
