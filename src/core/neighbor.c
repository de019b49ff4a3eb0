/* Neighbour pairs by linked cells in fractional coordinates, valid for any cell shape.
 *
 * Sites are wrapped into the cell and binned on an n0 x n1 x n2 grid in fractional
 * coordinates, with n_k = floor(3 w_k / cutoff) (w_k the perpendicular width; at least 1).
 * Two sites whose bins differ by more than m_k = ceil(cutoff n_k / w_k) along k are
 * separated by more than m_k w_k / n_k >= cutoff perpendicular to the faces of k, so searching
 * bin offsets -m_k..m_k is complete for any skew. Offsets that wrap around the grid carry the
 * lattice translation s they crossed, so the same loop also produces an atom's own periodic
 * images and every image of thin cells (m_k > 1 when the cell is thinner than the cutoff):
 * small cells reduce to a plain image loop and large cells to O(N) linked cells.
 *
 * The half list keeps (i, j, s) for i < j and, for i == j, the translations s that are
 * positive in lexicographic order; every unordered pair is then produced exactly once. */
#include "matscreen/neighbor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ms_nlist_init(ms_nlist *nl) {
  memset(nl, 0, sizeof *nl);
  nl->rmin = INFINITY;
  nl->rmin_i = nl->rmin_j = -1;
}

void ms_nlist_free(ms_nlist *nl) {
  if (!nl) return;
  free(nl->i);
  free(nl->j);
  free(nl->dx);
  free(nl->dy);
  free(nl->dz);
  free(nl->r2);
  free(nl->cart);
  free(nl->bin_head);
  free(nl->bin_next);
  free(nl->tx);
  free(nl->ty);
  free(nl->tz);
  free(nl->tpos);
  ms_nlist_init(nl);
}

typedef struct {
  ms_nlist *nl;
  int nblk;
  int store;          /* 1: append to the stored list; 0: hand blocks to fn */
  ms_nblock_fn fn;
  void *ctx;
  int cb_rc;
} sink;

static ms_err flush(sink *s) {
  ms_nlist *nl = s->nl;
  if (s->nblk == 0) return MS_SUCCESS;
  if (s->store) {
    if (nl->npairs + s->nblk > nl->cap) {
      int cap = nl->cap ? nl->cap : 1024;
      while (cap < nl->npairs + s->nblk) {
        MS_CHECK(cap < (1 << 29), MS_ERR_MEM, "neighbour list too large (%d pairs)", nl->npairs);
        cap *= 2;
      }
      MS_CALL(MS_REALLOC((size_t)cap, &nl->i));
      MS_CALL(MS_REALLOC((size_t)cap, &nl->j));
      MS_CALL(MS_REALLOC((size_t)cap, &nl->dx));
      MS_CALL(MS_REALLOC((size_t)cap, &nl->dy));
      MS_CALL(MS_REALLOC((size_t)cap, &nl->dz));
      MS_CALL(MS_REALLOC((size_t)cap, &nl->r2));
      nl->cap = cap;
    }
    size_t n = (size_t)s->nblk, o = (size_t)nl->npairs;
    memcpy(nl->i + o, nl->blk_i, n * sizeof(int));
    memcpy(nl->j + o, nl->blk_j, n * sizeof(int));
    memcpy(nl->dx + o, nl->blk_dx, n * sizeof(double));
    memcpy(nl->dy + o, nl->blk_dy, n * sizeof(double));
    memcpy(nl->dz + o, nl->blk_dz, n * sizeof(double));
    memcpy(nl->r2 + o, nl->blk_r2, n * sizeof(double));
    nl->npairs += s->nblk;
  } else {
    ms_nblock b = {s->nblk, nl->blk_i, nl->blk_j, nl->blk_dx, nl->blk_dy, nl->blk_dz, nl->blk_r2};
    int rc = s->fn(&b, s->ctx);
    if (rc) {
      s->cb_rc = rc;
      s->nblk = 0;
      return MS_ERR_INTERRUPTED; /* not an error record: the caller reports cb_rc */
    }
  }
  s->nblk = 0;
  return MS_SUCCESS;
}

static ms_err prepare(ms_nlist *nl, const ms_cell *c, double cutoff, int nb[3], int m[3]) {
  MS_CHECK(isfinite(cutoff) && cutoff > 0, MS_ERR_ARG, "neighbour cutoff must be positive, got %g", cutoff);
  double v = ms_cell_volume(c);
  MS_CHECK(isfinite(v) && v > 1e-9, MS_ERR_INPUT, "cell volume %g Å^3 is degenerate", v);
  double w[3];
  ms_cell_widths(c, w);
  /* Guard against absurd image counts (a needle-thin cell with a large cutoff). */
  double images = 1;
  for (int k = 0; k < 3; ++k) images *= 2 * ceil(cutoff / w[k]) + 1;
  MS_CHECK(images < 1e7, MS_ERR_INPUT,
           "cell too thin for cutoff %.3g Å (widths %.3g, %.3g, %.3g Å): %.3g images", cutoff,
           w[0], w[1], w[2], images);

  int n = c->natoms;
  if (n > nl->ws_atoms) {
    MS_CALL(MS_REALLOC((size_t)n, &nl->cart));
    MS_CALL(MS_REALLOC((size_t)n, &nl->bin_next));
    nl->ws_atoms = n;
  }
  long long total = 1, maxbins = 8LL * n + 27;
  /* Bins of about a third of the cutoff: the searched volume is then (2m+1)^3 bins of
   * (cutoff/3)^3, about 13 cutoff^3, against 27 cutoff^3 for bins as wide as the cutoff, so
   * about three times fewer distance checks per pair found. */
  for (int k = 0; k < 3; ++k) {
    nb[k] = (int)floor(3.0 * w[k] / cutoff);
    if (nb[k] < 1) nb[k] = 1;
    if (nb[k] > 1024) nb[k] = 1024;
  }
  /* Too many bins for few atoms wastes time on empty bins: shrink the largest dimension. */
  for (;;) {
    total = (long long)nb[0] * nb[1] * nb[2];
    if (total <= maxbins) break;
    int k = nb[0] >= nb[1] ? (nb[0] >= nb[2] ? 0 : 2) : (nb[1] >= nb[2] ? 1 : 2);
    nb[k] = (nb[k] + 1) / 2;
  }
  for (int k = 0; k < 3; ++k) m[k] = (int)ceil(cutoff * nb[k] / w[k] - 1e-12);
  if (total > nl->nbins_alloc) {
    MS_CALL(MS_REALLOC((size_t)total, &nl->bin_head));
    nl->nbins_alloc = (int)total;
  }
  for (long long b = 0; b < total; ++b) nl->bin_head[b] = -1;
  /* Insert in reverse so each bin's chain lists sites in increasing index order. */
  for (int i = n - 1; i >= 0; --i) {
    double f[3];
    int bi[3];
    for (int k = 0; k < 3; ++k) {
      double x = c->frac[i][k] - floor(c->frac[i][k]);
      if (x >= 1.0) x = 0.0;
      f[k] = x;
      bi[k] = (int)(x * nb[k]);
      if (bi[k] >= nb[k]) bi[k] = nb[k] - 1;
    }
    ms_cell_frac_to_cart(c, f, nl->cart[i]);
    int b = (bi[0] * nb[1] + bi[1]) * nb[2] + bi[2];
    nl->bin_next[i] = nl->bin_head[b];
    nl->bin_head[b] = i;
  }
  return MS_SUCCESS;
}

static int floordiv(int a, int b) {
  int q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Small cells: one list of candidate lattice translations T per structure, then every pair
 * (i, j) tests d0 + T for all of them. With d0 = df·L and df wrapped into [-1/2, 1/2]^3,
 * |d0| <= D = the longest half-diagonal of the cell, so every image within the cutoff has
 * |T| <= cutoff + D: the list holds exactly the lattice vectors in that sphere. They are
 * enumerated row by row in the frame where the lattice is lower triangular (Cholesky factor of
 * the metric G = L L^T: the z component of n·L depends on n2 only, y on n1 and n2), so only
 * vectors inside the sphere are visited. Each pair then costs a handful of flops per candidate,
 * instead of a row search per pair. */
enum { EXACT_MAX_ATOMS = 160 };

static int push_pair(ms_nlist *nl, sink *s, int i, int j, double dx, double dy, double dz,
                     double r2, ms_err *err) {
  if (r2 < nl->rmin) {
    nl->rmin = r2;
    nl->rmin_i = i;
    nl->rmin_j = j;
  }
  int k = s->nblk++;
  nl->blk_i[k] = i;
  nl->blk_j[k] = j;
  nl->blk_dx[k] = dx;
  nl->blk_dy[k] = dy;
  nl->blk_dz[k] = dz;
  nl->blk_r2[k] = r2;
  if (s->nblk == MS_NBLOCK) {
    *err = flush(s);
    return *err != MS_SUCCESS;
  }
  return 0;
}

static ms_err translations(ms_nlist *nl, const ms_cell *c, double radius) {
  const double (*L)[3] = (const double (*)[3])c->lattice;
  double G[3][3];
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) G[a][b] = L[a][0] * L[b][0] + L[a][1] * L[b][1] + L[a][2] * L[b][2];
  double l00 = sqrt(G[0][0]);
  double l10 = G[1][0] / l00, l11 = sqrt(G[1][1] - l10 * l10);
  double l20 = G[2][0] / l00, l21 = (G[2][1] - l20 * l10) / l11;
  double l22 = sqrt(G[2][2] - l20 * l20 - l21 * l21);
  MS_CHECK(isfinite(l11) && isfinite(l22) && l11 > 0 && l22 > 0, MS_ERR_INPUT,
           "cell is degenerate (lattice vectors nearly coplanar)");
  const double eps = 1e-9 * (1.0 + radius), r2max = radius * radius;
  nl->ntrans = 0;
  int n2max = (int)floor((radius + eps) / l22);
  for (int n2 = -n2max; n2 <= n2max; ++n2) {
    double z = n2 * l22, rem = r2max - z * z;
    if (rem < -eps) continue;
    double ry = sqrt(rem > 0 ? rem : 0) + eps, y0 = n2 * l21;
    int n1lo = (int)ceil((-ry - y0) / l11), n1hi = (int)floor((ry - y0) / l11);
    for (int n1 = n1lo; n1 <= n1hi; ++n1) {
      double y = n1 * l11 + y0, rem2 = rem - y * y;
      if (rem2 < -eps) continue;
      double rx = sqrt(rem2 > 0 ? rem2 : 0) + eps, x0 = n1 * l10 + n2 * l20;
      int n0lo = (int)ceil((-rx - x0) / l00), n0hi = (int)floor((rx - x0) / l00);
      for (int n0 = n0lo; n0 <= n0hi; ++n0) {
        if (nl->ntrans == nl->trans_cap) {
          int cap = nl->trans_cap ? 2 * nl->trans_cap : 256;
          MS_CHECK(cap < (1 << 26), MS_ERR_INPUT,
                   "cell too small for cutoff %.3g Å: more than %d lattice images", radius, 1 << 25);
          MS_CALL(MS_REALLOC((size_t)cap, &nl->tx));
          MS_CALL(MS_REALLOC((size_t)cap, &nl->ty));
          MS_CALL(MS_REALLOC((size_t)cap, &nl->tz));
          MS_CALL(MS_REALLOC((size_t)cap, &nl->tpos));
          nl->trans_cap = cap;
        }
        int t = nl->ntrans++;
        nl->tx[t] = n0 * L[0][0] + n1 * L[1][0] + n2 * L[2][0];
        nl->ty[t] = n0 * L[0][1] + n1 * L[1][1] + n2 * L[2][1];
        nl->tz[t] = n0 * L[0][2] + n1 * L[1][2] + n2 * L[2][2];
        nl->tpos[t] = n0 > 0 || (n0 == 0 && (n1 > 0 || (n1 == 0 && n2 > 0)));
      }
    }
  }
  return MS_SUCCESS;
}

static ms_err run_exact(ms_nlist *nl, const ms_cell *c, double cutoff, sink *s) {
  const double (*L)[3] = (const double (*)[3])c->lattice;
  /* D: the longest of the eight half-diagonals (+-1/2, +-1/2, +-1/2)·L */
  double D = 0;
  for (int corner = 0; corner < 4; ++corner) {
    double f[3] = {0.5, corner & 1 ? 0.5 : -0.5, corner & 2 ? 0.5 : -0.5}, v[3];
    for (int k = 0; k < 3; ++k) v[k] = f[0] * L[0][k] + f[1] * L[1][k] + f[2] * L[2][k];
    double len = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (len > D) D = len;
  }
  MS_CALL(translations(nl, c, cutoff + D));
  const double rc2 = cutoff * cutoff;
  const int nt = nl->ntrans;
  const double *tx = nl->tx, *ty = nl->ty, *tz = nl->tz;
  const unsigned char *tpos = nl->tpos;
  ms_err err = MS_SUCCESS;
  for (int i = 0; i < c->natoms; ++i)
    for (int j = i; j < c->natoms; ++j) {
      double df[3];
      for (int k = 0; k < 3; ++k) {
        double x = c->frac[j][k] - c->frac[i][k];
        df[k] = x - floor(x + 0.5);
      }
      const double bx = df[0] * L[0][0] + df[1] * L[1][0] + df[2] * L[2][0];
      const double by = df[0] * L[0][1] + df[1] * L[1][1] + df[2] * L[2][1];
      const double bz = df[0] * L[0][2] + df[1] * L[1][2] + df[2] * L[2][2];
      const int self = i == j;
      for (int t = 0; t < nt; ++t) {
        double dx = bx + tx[t], dy = by + ty[t], dz = bz + tz[t];
        double r2 = dx * dx + dy * dy + dz * dz;
        if (r2 > rc2 || r2 == 0.0) continue;
        if (self && !tpos[t]) continue;
        if (push_pair(nl, s, i, j, dx, dy, dz, r2, &err)) return err;
      }
    }
  err = flush(s);
  nl->rmin = sqrt(nl->rmin);
  return err;
}

static ms_err run(ms_nlist *nl, const ms_cell *c, double cutoff, sink *s) {
  int nb[3], m[3];
  MS_CALL(prepare(nl, c, cutoff, nb, m));
  nl->cutoff = cutoff;
  nl->rmin = INFINITY;
  nl->rmin_i = nl->rmin_j = -1;
  if (c->natoms <= EXACT_MAX_ATOMS) return run_exact(nl, c, cutoff, s);
  const double rc2 = cutoff * cutoff;
  const double (*L)[3] = (const double (*)[3])c->lattice;
  for (int b0 = 0; b0 < nb[0]; ++b0)
    for (int b1 = 0; b1 < nb[1]; ++b1)
      for (int b2 = 0; b2 < nb[2]; ++b2) {
        int home = (b0 * nb[1] + b1) * nb[2] + b2;
        if (nl->bin_head[home] < 0) continue;
        for (int o0 = -m[0]; o0 <= m[0]; ++o0)
          for (int o1 = -m[1]; o1 <= m[1]; ++o1)
            for (int o2 = -m[2]; o2 <= m[2]; ++o2) {
              int t0 = b0 + o0, t1 = b1 + o1, t2 = b2 + o2;
              int s0 = floordiv(t0, nb[0]), s1 = floordiv(t1, nb[1]), s2 = floordiv(t2, nb[2]);
              t0 -= s0 * nb[0];
              t1 -= s1 * nb[1];
              t2 -= s2 * nb[2];
              int other = (t0 * nb[1] + t1) * nb[2] + t2;
              if (nl->bin_head[other] < 0) continue;
              /* sign of the translation in lexicographic order: decides self-image pairs */
              int spos = s0 > 0 || (s0 == 0 && (s1 > 0 || (s1 == 0 && s2 > 0)));
              double T[3];
              for (int k = 0; k < 3; ++k) T[k] = s0 * L[0][k] + s1 * L[1][k] + s2 * L[2][k];
              for (int i = nl->bin_head[home]; i >= 0; i = nl->bin_next[i]) {
                const double xi = nl->cart[i][0] - T[0], yi = nl->cart[i][1] - T[1],
                             zi = nl->cart[i][2] - T[2];
                for (int j = nl->bin_head[other]; j >= 0; j = nl->bin_next[j]) {
                  if (j < i || (j == i && !spos)) continue;
                  double dx = nl->cart[j][0] - xi, dy = nl->cart[j][1] - yi,
                         dz = nl->cart[j][2] - zi;
                  double r2 = dx * dx + dy * dy + dz * dz;
                  if (r2 > rc2) continue;
                  ms_err e = MS_SUCCESS;
                  if (push_pair(nl, s, i, j, dx, dy, dz, r2, &e)) return e;
                }
              }
            }
      }
  ms_err e = flush(s);
  nl->rmin = sqrt(nl->rmin);
  return e;
}

ms_err ms_nlist_build(ms_nlist *nl, const ms_cell *c, double cutoff) {
  nl->npairs = 0;
  sink s = {nl, 0, 1, NULL, NULL, 0};
  MS_CALL(run(nl, c, cutoff, &s));
  return MS_SUCCESS;
}

ms_err ms_nlist_foreach_block(ms_nlist *nl, const ms_cell *c, double cutoff, ms_nblock_fn fn,
                              void *ctx, int *cb_rc) {
  MS_CHECK(fn != NULL, MS_ERR_ARG, "no kernel given");
  sink s = {nl, 0, 0, fn, ctx, 0};
  ms_err e = run(nl, c, cutoff, &s);
  if (cb_rc) *cb_rc = s.cb_rc;
  if (e == MS_ERR_INTERRUPTED && s.cb_rc) return MS_ERR_INTERRUPTED;
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}
