/* The triplet sums of M3GNet's three-body update and their reverse (specification §5, §6.2).
 *
 * For a triplet (a, c) of short bonds of one atom (a != c), with Y_l the angular functions of
 * the angle between bonds a and c, rb3_c the radial functions at the length of bond c, sig the
 * atom gate of block k (N x F) and wt the cutoff weights:
 *     S[tgt_a][m] += wt_a * wt_c * rb3_c[m] * Y_{m/3} * sig[end_c][m].
 * The factor q_c = wt_c rb3_c sig[end_c] depends on c only, so it is formed once per short bond
 * and the inner loop over c costs one dot product (the cosine), two polynomials and nine
 * multiply-adds; no per-triplet array is stored (a dense metal has ~1700 triplets per atom).
 * The index arrays tgt, end, wt of the chosen semantics come from m3gnet_graph.c.
 *
 * Reverse, from gS = dE/dS (E x F): gradients of q_c (hence of wt_c, rb3_c and sig), of wt_a
 * and of the cosine. A cosine's gradient is kept per short bond as gu_a = sum gcos u_c and
 * gcc_a = sum gcos cos, so that dE/dR_a = (gu_a - gcc_a u_a) / d_a is formed once at the end
 * (d cos / d R_a = (u_c - cos u_a) / d_a). */
#include <string.h>

#include "models/m3gnet_impl.h"

enum { F = MS__M3G_F };

static void form_q(ms_m3gnet_ws w, const double *sig) {
  for (long long p = 0; p < w->nshort; ++p) {
    const double *rb = w->sb_rb3 + p * F, *sg = sig + (size_t)w->sb_end[p] * F;
    double *q = w->sb_q + p * F;
    for (int m = 0; m < F; ++m) q[m] = w->sb_wt[p] * rb[m] * sg[m];
  }
}

void ms__m3g_threebody_forward(ms_m3gnet_ws w, const double *sig, double *S) {
  form_q(w, sig);
  memset(S, 0, (size_t)w->nedges * F * sizeof *S);
  for (int i = 0; i < w->natoms; ++i) {
    const int s0 = w->sb_start[i], s1 = w->sb_start[i + 1];
    for (int a = s0; a < s1; ++a) {
      const double *ua = w->sb_u[a];
      double acc[F] = {0};
      for (int c = s0; c < s1; ++c) {
        if (c == a) continue;
        const double *uc = w->sb_u[c];
        double y[3], dy[3];
        ms__m3g_angular(ua[0] * uc[0] + ua[1] * uc[1] + ua[2] * uc[2], y, dy);
        const double *q = w->sb_q + (size_t)c * F;
        for (int m = 0; m < F; ++m) acc[m] += q[m] * y[m / 3];
      }
      double *row = S + (size_t)w->sb_tgt[a] * F;
      for (int m = 0; m < F; ++m) row[m] += w->sb_wt[a] * acc[m];
    }
  }
}

void ms__m3g_threebody_backward(ms_m3gnet_ws w, const double *sig, const double *gS) {
  form_q(w, sig);
  memset(w->sb_gq, 0, (size_t)w->nshort * F * sizeof *w->sb_gq);
  for (int i = 0; i < w->natoms; ++i) {
    const int s0 = w->sb_start[i], s1 = w->sb_start[i + 1];
    for (int a = s0; a < s1; ++a) {
      const double *ua = w->sb_u[a], *gs = gS + (size_t)w->sb_tgt[a] * F;
      const double wa = w->sb_wt[a];
      double gsw[F];
      for (int m = 0; m < F; ++m) gsw[m] = wa * gs[m];
      double gwa = 0, gu[3] = {0, 0, 0}, gcc = 0;
      for (int c = s0; c < s1; ++c) {
        if (c == a) continue;
        const double *uc = w->sb_u[c];
        const double cosv = ua[0] * uc[0] + ua[1] * uc[1] + ua[2] * uc[2];
        double y[3], dy[3];
        ms__m3g_angular(cosv, y, dy);
        const double *q = w->sb_q + (size_t)c * F;
        double *gq = w->sb_gq + (size_t)c * F;
        double t[3] = {0, 0, 0}; /* sum over n of gS * q, per l */
        for (int m = 0; m < F; ++m) {
          gq[m] += gsw[m] * y[m / 3];
          t[m / 3] += gs[m] * q[m];
        }
        gwa += t[0] * y[0] + t[1] * y[1] + t[2] * y[2];
        const double gcos = wa * (t[1] * dy[1] + t[2] * dy[2]);
        for (int k = 0; k < 3; ++k) {
          gu[k] += gcos * uc[k];
          w->sb_gu[c][k] += gcos * ua[k];
        }
        gcc += gcos * cosv;
        w->sb_gcc[c] += gcos * cosv;
      }
      w->sb_gwt[a] += gwa;
      for (int k = 0; k < 3; ++k) w->sb_gu[a][k] += gu[k];
      w->sb_gcc[a] += gcc;
    }
  }
  /* q_c = wt_c rb3_c sig[end_c] */
  for (long long p = 0; p < w->nshort; ++p) {
    const double *rb = w->sb_rb3 + p * F, *gq = w->sb_gq + p * F;
    const int end = w->sb_end[p];
    const double *sg = sig + (size_t)end * F;
    double *gsig = w->gsig + (size_t)end * F, *grb = w->sb_grb3 + p * F;
    double gw = 0;
    for (int m = 0; m < F; ++m) {
      gw += gq[m] * rb[m] * sg[m];
      grb[m] += gq[m] * w->sb_wt[p] * sg[m];
      gsig[m] += gq[m] * w->sb_wt[p] * rb[m];
    }
    w->sb_gwt[p] += gw;
  }
}
