/* Element-wise kernels of M3GNet's dense layers: bias, gather and activation steps between
 * the GEMMs, and their reverse. Measured before this file existed, these steps took more time
 * than the GEMMs themselves (one exp per activation, about 2700 per bond and structure), so
 * they are written to vectorise:
 * - exp is our own branch-free polynomial (below) instead of libm's, so loops calling it
 *   vectorise;
 * - this file is compiled at -O3 (its own static library, src/models/meson.build), where GCC
 *   vectorises plain loops;
 * - with GCC on x86-64 each kernel is cloned for AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and the
 *   baseline, chosen at load time by the processor (target_clones), so one portable binary
 *   uses the wide vectors. Multiply-adds are contracted into FMA instructions where the
 *   clone has them (-ffp-contract=fast for this file only), so the clones can differ in the
 *   last bit of an activation; that is far below the GEMMs' own dependence on the BLAS kernel.
 * Loops take restrict pointers: outputs never alias inputs unless a comment says so. */
#include <stdint.h>
#include <string.h>

#include "models/m3gnet_kernels.h"

#if defined(MS_HAVE_TARGET_CLONES)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* exp(x) for the activations, accurate to about 1 ulp over the range used: x is clamped to
 * [-708, 708] (sigmoid and swish saturate long before), n = round(x / ln 2) by the 1.5 * 2^52
 * shift, r = x - n ln 2 in two parts (Cody-Waite), exp(r) by a degree-11 polynomial fitted at
 * Chebyshev nodes on |r| <= ln(2)/2 (relative error 1.7e-17 with these double coefficients,
 * computed with mpmath's chebyfit at 50 digits), times 2^n built in the exponent bits. */
static inline double vexp(double x) {
  x = x < -708.0 ? -708.0 : x;
  x = x > 708.0 ? 708.0 : x;
  const double shift = 6755399441055744.0; /* 1.5 * 2^52 */
  const double t = x * 1.4426950408889634 + shift;
  const double n = t - shift;
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  double p = 2.5110037605963777e-08;
  p = p * r + 2.763263963904103e-07;
  p = p * r + 2.755724091857897e-06;
  p = p * r + 2.4801485482328494e-05;
  p = p * r + 0.00019841269890047113;
  p = p * r + 0.0013888888952314775;
  p = p * r + 0.008333333333319601;
  p = p * r + 0.0416666666664881;
  p = p * r + 0.1666666666666668;
  p = p * r + 0.5000000000000019;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t u;
  memcpy(&u, &t, sizeof u);
  u = (u << 52) + ((uint64_t)1023 << 52); /* the low bits of t hold n */
  double s;
  memcpy(&s, &u, sizeof s);
  return p * s;
}

static inline double sigm(double x) { return 1.0 / (1.0 + vexp(-x)); }

double ms__m3g_exp(double x) { return vexp(x); }

CLONES void ms__m3g_k_swish(double *restrict x, double *restrict d, long n) {
  for (long i = 0; i < n; ++i) {
    const double z = x[i], s = sigm(z);
    x[i] = z * s;
    d[i] = s * (1.0 + z * (1.0 - s));
  }
}

CLONES void ms__m3g_k_sigmoid(double *restrict x, long n) {
  for (long i = 0; i < n; ++i) x[i] = sigm(x[i]);
}

CLONES void ms__m3g_k_bias_swish(double *restrict z, double *restrict d, int rows, int cols,
                                 const double *restrict b) {
  for (int r = 0; r < rows; ++r) {
    double *restrict zr = z + (size_t)r * cols, *restrict dr = d + (size_t)r * cols;
    for (int j = 0; j < cols; ++j) {
      const double v = zr[j] + b[j], s = sigm(v);
      zr[j] = v * s;
      dr[j] = s * (1.0 + v * (1.0 - s));
    }
  }
}

CLONES void ms__m3g_k_first_layer(double *restrict z, double *restrict d, int rows, int cols,
                                  const double *restrict pa, const double *restrict pb,
                                  const int *restrict src, const int *restrict dst,
                                  const double *restrict b) {
  for (int r = 0; r < rows; ++r) {
    double *restrict zr = z + (size_t)r * cols, *restrict dr = d + (size_t)r * cols;
    const double *restrict a = pa + (size_t)src[r] * cols, *restrict c = pb + (size_t)dst[r] * cols;
    for (int j = 0; j < cols; ++j) {
      const double v = zr[j] + a[j] + c[j] + b[j], s = sigm(v);
      zr[j] = v * s;
      dr[j] = s * (1.0 + v * (1.0 - s));
    }
  }
}

CLONES void ms__m3g_k_mlp_out(int rows, int D, const double *restrict z3,
                              const double *restrict bh, const double *restrict bg,
                              const double *restrict wb, double *restrict phi,
                              double *restrict A, double *restrict B, double *restrict out) {
  for (int r = 0; r < rows; ++r) {
    const double *restrict zh = z3 + (size_t)r * 2 * D, *restrict zg = zh + D;
    const double *restrict wv = wb + (size_t)r * D;
    double *restrict ph = phi + (size_t)r * D, *restrict a = A + (size_t)r * D;
    double *restrict bb = B + (size_t)r * D, *restrict y = out + (size_t)r * D;
    for (int j = 0; j < D; ++j) {
      const double h = zh[j] + bh[j], g = zg[j] + bg[j];
      const double sh = sigm(h), h3 = h * sh, dh3 = sh * (1.0 + h * (1.0 - sh));
      const double g3 = sigm(g), dg3 = g3 * (1.0 - g3);
      ph[j] = h3 * g3;
      a[j] = wv[j] * g3 * dh3;
      bb[j] = wv[j] * h3 * dg3;
      y[j] = ph[j] * wv[j];
    }
  }
}

CLONES void ms__m3g_k_mlp_out_back(int rows, int D, const double *restrict go,
                                   const double *restrict A, const double *restrict B,
                                   const double *restrict phi, double *restrict gz3,
                                   double *restrict gw) {
  for (int r = 0; r < rows; ++r) {
    const double *restrict g = go + (size_t)r * D, *restrict a = A + (size_t)r * D;
    const double *restrict b = B + (size_t)r * D, *restrict ph = phi + (size_t)r * D;
    double *restrict zh = gz3 + (size_t)r * 2 * D, *restrict zg = zh + D;
    double *restrict ww = gw + (size_t)r * D;
    for (int j = 0; j < D; ++j) {
      zh[j] = g[j] * a[j];
      zg[j] = g[j] * b[j];
      ww[j] = g[j] * ph[j];
    }
  }
}

CLONES void ms__m3g_k_mul(double *restrict x, const double *restrict d, long n) {
  for (long i = 0; i < n; ++i) x[i] *= d[i];
}

CLONES void ms__m3g_k_mul_to(double *restrict y, const double *restrict x,
                             const double *restrict d, long n) {
  for (long i = 0; i < n; ++i) y[i] = x[i] * d[i];
}

CLONES void ms__m3g_k_scatter_rows(int rows, int cols, const double *restrict g,
                                   const int *restrict src, const int *restrict dst,
                                   double *restrict ga, double *restrict gb) {
  for (int r = 0; r < rows; ++r) {
    const double *restrict gr = g + (size_t)r * cols;
    double *restrict a = ga + (size_t)src[r] * cols, *restrict b = gb + (size_t)dst[r] * cols;
    for (int j = 0; j < cols; ++j) a[j] += gr[j];
    for (int j = 0; j < cols; ++j) b[j] += gr[j];
  }
}

CLONES void ms__m3g_k_add_rows_to(int rows, int cols, const double *restrict x,
                                  const int *restrict idx, double *restrict y) {
  for (int r = 0; r < rows; ++r) {
    const double *restrict xr = x + (size_t)r * cols;
    double *restrict yr = y + (size_t)idx[r] * cols;
    for (int j = 0; j < cols; ++j) yr[j] += xr[j];
  }
}

CLONES void ms__m3g_k_threebody_update(long n, const double *restrict u,
                                       const double *restrict q, double *restrict e,
                                       double *restrict A, double *restrict B) {
  for (long k = 0; k < n; ++k) {
    const double su = sigm(u[k]), sw = u[k] * su, dsw = su * (1.0 + u[k] * (1.0 - su));
    const double sq = sigm(q[k]);
    e[k] += sw * sq;
    A[k] = sq * dsw;
    B[k] = sw * sq * (1.0 - sq);
  }
}

CLONES void ms__m3g_k_threebody_back(long n, const double *restrict ge,
                                     const double *restrict A, const double *restrict B,
                                     double *restrict gu, double *restrict gq) {
  for (long k = 0; k < n; ++k) {
    gu[k] = ge[k] * A[k];
    gq[k] = ge[k] * B[k];
  }
}
