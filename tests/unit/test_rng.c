/* Philox4x32-10 known-answer tests and stream properties.
 * The three vectors are the published known answers distributed with the Random123 library
 * (Salmon et al., SC'11), file kat_vectors: "philox4x32 10 CTR[4] KEY[2] -> OUT[4]". */
#include "matscreen/rng.h"
#include "ms_test.h"

int main(void) {
  static const struct {
    uint32_t ctr[4], key[2], out[4];
  } kat[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (size_t k = 0; k < sizeof kat / sizeof kat[0]; ++k) {
    uint32_t out[4];
    ms_philox4x32_10(kat[k].ctr, kat[k].key, out);
    for (int w = 0; w < 4; ++w) MS_TEST_EQ_INT(out[w], kat[k].out[w]);
  }

  /* A stream is a pure function of (seed, stream): two generators agree word for word, and
   * the first block equals the raw block at counter (0, 0, stream lo, stream hi). */
  ms_rng a, b;
  ms_rng_init(&a, 20261129ULL, 123456789012ULL);
  ms_rng_init(&b, 20261129ULL, 123456789012ULL);
  uint32_t ctr[4] = {0, 0, (uint32_t)123456789012ULL, (uint32_t)(123456789012ULL >> 32)};
  uint32_t key[2] = {20261129u, 0};
  uint32_t blk[4];
  ms_philox4x32_10(ctr, key, blk);
  for (int w = 0; w < 4; ++w) MS_TEST_EQ_INT(ms_rng_u32(&a), blk[w]);
  for (int w = 0; w < 4; ++w) (void)ms_rng_u32(&b);
  for (int k = 0; k < 1000; ++k) MS_TEST_EQ_INT(ms_rng_u32(&a), ms_rng_u32(&b));

  /* Different streams differ. */
  ms_rng c;
  ms_rng_init(&c, 20261129ULL, 123456789013ULL);
  int same = 0;
  ms_rng_init(&a, 20261129ULL, 123456789012ULL);
  for (int k = 0; k < 64; ++k) same += ms_rng_u32(&a) == ms_rng_u32(&c);
  MS_TEST_TRUE(same < 2);

  /* Uniforms in [0,1) with the right mean and variance; normals with mean 0, variance 1;
   * ms_rng_below is in range and roughly uniform. 10^6 draws: 5-sigma bounds. */
  ms_rng r;
  ms_rng_init(&r, 1, 2);
  const int n = 1000000;
  double s = 0, s2 = 0, g = 0, g2 = 0;
  int bins[10] = {0}, inrange = 1;
  for (int k = 0; k < n; ++k) {
    double u = ms_rng_uniform(&r);
    if (!(u >= 0 && u < 1)) inrange = 0;
    s += u;
    s2 += u * u;
    double z = ms_rng_normal(&r);
    g += z;
    g2 += z * z;
    uint64_t q = ms_rng_below(&r, 10);
    if (q >= 10) inrange = 0; else bins[q]++;
  }
  MS_TEST_TRUE(inrange);
  MS_TEST_NEAR(s / n, 0.5, 5 * sqrt(1.0 / 12 / n));
  MS_TEST_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 5e-3 / 12 * 10);
  MS_TEST_NEAR(g / n, 0.0, 5 / sqrt((double)n));
  MS_TEST_NEAR(g2 / n, 1.0, 5 * sqrt(2.0 / n));
  for (int k = 0; k < 10; ++k) MS_TEST_NEAR(bins[k], n / 10, 5 * sqrt(n * 0.09));
  return MS_TEST_RESULT();
}
