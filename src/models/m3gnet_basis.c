/* Radial and angular functions of M3GNet with their derivatives (specification §4).
 *
 * Plain spherical Bessel basis (use_smooth = 0, the MP checkpoint), column l*3 + n:
 *   R_ln(r) = sqrt(2 / rc^3) j_l(z_ln r' / rc) / |j_{l+1}(z_ln)|,  r' = min(r, rc),
 * z_ln the (n+1)-th positive root of j_l, with j_l in the closed forms matgl evaluates (they
 * lose about l*log10(1/x) digits to cancellation at small x = z r / rc, harmless in double for
 * bonds longer than a few tenths of an Å). The same nine functions are the pair basis and the
 * radial part of the three-body basis.
 *
 * Smooth basis (use_smooth = 1, MatPES), k = 0..K-1 (K = 3 for the pair basis, 9 for the
 * three-body basis): f_k = P_k [sinc((k+1) pi r / rc) + sinc((k+2) pi r / rc)] orthogonalised
 * by the recursion g_0 = f_0, g_k = (f_k + sqrt(e_k / d_{k-1}) g_{k-1}) / sqrt(d_k). No clamp:
 * every g_k vanishes with its first two derivatives at rc.
 *
 * Envelope of the three-body weights: f3(r) = 1 - 10 x^3 + 15 x^4 - 6 x^5, x = r / r3.
 * Angular part (use_phi = 0): Y_l(c) = sqrt((2l + 1) / (4 pi)) P_l(c), l = 0, 1, 2. */
#include <math.h>

#include "models/m3gnet_impl.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Positive roots z_ln of j_l (l, n = 0..2), from the specification's table (§4.2). */
static const double bessel_roots[3][3] = {
    {3.141592653589793, 6.283185307179586, 9.424777960769379},
    {4.493409457909064, 7.725251836937707, 10.9041216594289},
    {5.76345919689455, 9.095011330476355, 12.32294097056658},
};

/* j_0 .. j_3 at x > 0 in closed form. */
static void sph_bessel(double x, double j[4]) {
  const double s = sin(x), c = cos(x), ix = 1.0 / x, ix2 = ix * ix;
  j[0] = s * ix;
  j[1] = s * ix2 - c * ix;
  j[2] = (3 * ix2 * ix - ix) * s - 3 * c * ix2;
  j[3] = (15 * ix2 * ix2 - 6 * ix2) * s + (ix - 15 * ix2 * ix) * c;
}

void ms__m3g_basis_init(struct ms_m3gnet_s *m) {
  const double rc = m->cutoff;
  for (int l = 0; l < 3; ++l)
    for (int n = 0; n < 3; ++n) {
      double j[4];
      sph_bessel(bessel_roots[l][n], j);
      m->bessel_z[l * 3 + n] = bessel_roots[l][n];
      m->bessel_norm[l * 3 + n] = sqrt(2.0 / (rc * rc * rc)) / fabs(j[l + 1]);
    }
  double dprev = 1.0;
  for (int k = 0; k < MS__M3G_F; ++k) {
    const double k1 = k + 1.0, k2 = k + 2.0;
    const double e = (double)k * k * k2 * k2 / (4 * k1 * k1 * k1 * k1 + 1);
    const double d = k == 0 ? 1.0 : 1.0 - e / dprev;
    m->smooth_e[k] = e;
    m->smooth_d[k] = d;
    m->smooth_p[k] = (k % 2 ? -1.0 : 1.0) * sqrt(2.0) * M_PI / pow(rc, 1.5) * k1 * k2 /
                     sqrt(k1 * k1 + k2 * k2);
    dprev = d;
  }
}

/* Plain Bessel basis: all nine columns and d/dr. */
static void bessel9(const struct ms_m3gnet_s *m, double r, double *f, double *df) {
  const double rc = m->cutoff;
  const int clamped = r >= rc;
  const double rr = clamped ? rc : r;
  for (int l = 0; l < 3; ++l)
    for (int n = 0; n < 3; ++n) {
      const int col = l * 3 + n;
      const double k = m->bessel_z[col] / rc, x = k * rr;
      double j[4];
      sph_bessel(x, j);
      f[col] = m->bessel_norm[col] * j[l];
      /* j_0' = -j_1, j_l' = j_{l-1} - (l + 1) j_l / x */
      const double dj = l == 0 ? -j[1] : j[l - 1] - (l + 1) * j[l] / x;
      df[col] = clamped ? 0.0 : m->bessel_norm[col] * k * dj;
    }
}

/* Smooth basis: the first K functions g_k and d/dr. */
static void smooth(const struct ms_m3gnet_s *m, double r, int K, double *g, double *dg) {
  const double rc = m->cutoff;
  double sc[MS__M3G_F + 2], dsc[MS__M3G_F + 2]; /* sinc(j pi r / rc) and d/dr, j = 1..K+1 */
  for (int j = 1; j <= K + 1; ++j) {
    const double y = j * M_PI * r / rc, s = sin(y), c = cos(y);
    sc[j] = s / y;
    dsc[j] = (c - sc[j]) / r;
  }
  double gp = 0, dgp = 0;
  for (int k = 0; k < K; ++k) {
    const double fk = m->smooth_p[k] * (sc[k + 1] + sc[k + 2]);
    const double dfk = m->smooth_p[k] * (dsc[k + 1] + dsc[k + 2]);
    if (k == 0) {
      g[0] = fk;
      dg[0] = dfk;
    } else {
      const double a = sqrt(m->smooth_e[k] / m->smooth_d[k - 1]), s = 1.0 / sqrt(m->smooth_d[k]);
      g[k] = (fk + a * gp) * s;
      dg[k] = (dfk + a * dgp) * s;
    }
    gp = g[k];
    dgp = dg[k];
  }
}

void ms__m3g_pair_basis(const struct ms_m3gnet_s *m, double r, double *f, double *df) {
  if (m->use_smooth)
    smooth(m, r, m->R, f, df);
  else
    bessel9(m, r, f, df);
}

void ms__m3g_threebody_radial(const struct ms_m3gnet_s *m, double r, double *f, double *df) {
  if (m->use_smooth)
    smooth(m, r, MS__M3G_F, f, df);
  else
    bessel9(m, r, f, df);
}

void ms__m3g_envelope(double r, double r3, double *f, double *df) {
  if (r > r3) {
    *f = 0;
    *df = 0;
    return;
  }
  const double x = r / r3, x2 = x * x, x3 = x2 * x;
  *f = 1 - 10 * x3 + 15 * x3 * x - 6 * x3 * x2;
  *df = -30 * x2 * (1 - x) * (1 - x) / r3;
}

void ms__m3g_angular(double c, double y[3], double dy[3]) {
  const double lo = -1 + 1e-7, hi = 1 - 1e-7;
  const int clamped = c < lo || c > hi;
  if (c < lo) c = lo;
  if (c > hi) c = hi;
  const double a0 = 0.28209479177387814, a1 = 0.4886025119029199, a2 = 0.31539156525252005;
  y[0] = a0;
  y[1] = a1 * c;
  y[2] = a2 * (3 * c * c - 1);
  dy[0] = 0;
  dy[1] = clamped ? 0 : a1;
  dy[2] = clamped ? 0 : 6 * a2 * c;
}
