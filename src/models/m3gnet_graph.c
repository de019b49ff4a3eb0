/* The bond list and the three-body indexing of M3GNet (specification §3 and §5).
 *
 * Bonds: every directed pair (i -> j, image n) with |r_j + n L - r_i|^2 < rc^2 + 1e-8, except
 * an atom with itself at zero distance. The list is produced in exactly the order pymatgen's
 * find_points_in_spheres gives it (which matgl uses), re-implemented from the specification's
 * description: periodic images of the wrapped atoms inside the atoms' bounding box grown by
 * rc, binned into cubes of edge rc, each cube walked from its last point to its first, the 27
 * cubes around each centre atom in a fixed order. That order matters only for the "matgl"
 * semantics; for "consistent" this is simply a complete search (pymatgen's image range is
 * generous: it covers every image within rc for any cell shape), grouped by source atom as the
 * triplet code needs. The floating-point steps that decide membership and order (fractional
 * coordinates through the cofactor inverse, Python's modulo, the box test, the cube index) follow
 * the specification operation by operation, so ties fall the same way. The work is O(N) for
 * large cells: about 125 N candidate images are tested against the box, then each atom walks
 * 27 cubes of rc^3.
 *
 * Short bonds and triplets: P = bonds with d <= r3 in list order (grouped by source atom);
 * triplets are the ordered pairs (a, c), a != c, of short bonds of the same atom. For each
 * short bond p the arrays below say which bond gives its geometry (always P[p]), whose atom gate
 * enters when p is the second bond, whose length gives its cutoff weight, and which bond row
 * receives the sum when p is the first bond: P[p] for all three in the consistent semantics;
 * dst(p), d_p and the segment id D(p) in matgl's (§5.3), where the positions in P are used as
 * indices into the full bond list. D(p) = p minus the number of short bonds 1 <= j < p whose
 * atom has exactly one short bond (their zero triplet counts merge segments in matgl's
 * cumulative-sum construction); D(0) = 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/m3gnet_impl.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Python's x % 1.0: the result has the sign of the divisor, so it is in [0, 1], and a tiny
 * negative x gives exactly 1.0 after rounding (as in pymatgen). */
static double pymod1(double x) {
  double r = fmod(x, 1.0);
  if (r != 0.0) {
    if (r < 0) r += 1.0;
  } else {
    r = 0.0;
  }
  return r;
}

static ms_err grow_points(ms_m3gnet_ws w, size_t n) {
  if (n <= w->cap_points) return MS_SUCCESS;
  size_t cap = w->cap_points ? w->cap_points : 1024;
  while (cap < n) cap += cap / 2;
  MS_CALL(MS_REALLOC(cap, &w->pt));
  MS_CALL(MS_REALLOC(cap, &w->pt_atom));
  MS_CALL(MS_REALLOC(cap, &w->pt_img));
  MS_CALL(MS_REALLOC(cap, &w->pt_next));
  w->cap_points = cap;
  return MS_SUCCESS;
}

ms_err ms__m3g_bonds(ms_m3gnet_ws w, const ms_cell *c) {
  const double rc = w->m->cutoff, tol = 1e-8;
  const int N = c->natoms;
  const double(*L)[3] = (const double(*)[3])c->lattice;
  double(*r)[3] = w->cart;
  w->nedges = 0;

  /* 1. bounding box of the atoms grown by rc + tol */
  double vmin[3], vmax[3];
  for (int d = 0; d < 3; ++d) {
    double lo = r[0][d], hi = r[0][d];
    for (int i = 1; i < N; ++i) {
      if (r[i][d] < lo) lo = r[i][d];
      if (r[i][d] > hi) hi = r[i][d];
    }
    vmin[d] = lo - (rc + tol);
    vmax[d] = hi + (rc + tol);
  }
  /* 2. fractional coordinates through the cofactor inverse, wrapped with Python's modulo */
  const double det = L[0][0] * (L[1][1] * L[2][2] - L[1][2] * L[2][1]) -
                     L[0][1] * (L[1][0] * L[2][2] - L[1][2] * L[2][0]) +
                     L[0][2] * (L[1][0] * L[2][1] - L[1][1] * L[2][0]);
  double inv[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      inv[i][j] = (L[(j + 1) % 3][(i + 1) % 3] * L[(j + 2) % 3][(i + 2) % 3] -
                   L[(j + 2) % 3][(i + 1) % 3] * L[(j + 1) % 3][(i + 2) % 3]) /
                  det;
  double(*f)[3] = w->gs_f, (*wr)[3] = w->gs_wrapped, fmin[3], fmax[3];
  int(*corr)[3] = w->gs_corr;
  for (int i = 0; i < N; ++i) {
    double wf[3];
    for (int j = 0; j < 3; ++j) {
      f[i][j] = ((0.0 + r[i][0] * inv[0][j]) + r[i][1] * inv[1][j]) + r[i][2] * inv[2][j];
      wf[j] = pymod1(f[i][j]);
      corr[i][j] = (int)lround(f[i][j] - wf[j]); /* an integer up to rounding */
    }
    for (int d = 0; d < 3; ++d)
      wr[i][d] = ((0.0 + wf[0] * L[0][d]) + wf[1] * L[1][d]) + wf[2] * L[2][d];
    for (int j = 0; j < 3; ++j) {
      if (i == 0 || f[i][j] < fmin[j]) fmin[j] = f[i][j];
      if (i == 0 || f[i][j] > fmax[j]) fmax[j] = f[i][j];
    }
  }
  /* 3. image range from the reciprocal vector lengths */
  long lo[3], hi[3];
  double images = 1;
  for (int d = 0; d < 3; ++d) {
    const double *a1 = L[(d + 1) % 3], *a2 = L[(d + 2) % 3];
    const double x[3] = {a1[1] * a2[2] - a1[2] * a2[1], a1[2] * a2[0] - a1[0] * a2[2],
                         a1[0] * a2[1] - a1[1] * a2[0]};
    const double vol = L[d][0] * x[0] + L[d][1] * x[1] + L[d][2] * x[2];
    double b[3];
    for (int k = 0; k < 3; ++k) b[k] = 2 * M_PI * x[k] / vol;
    const double blen = sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
    const double maxr = ceil((rc + 0.15) * blen / (2 * M_PI));
    lo[d] = (long)floor(fmin[d] - maxr - 1e-8);
    hi[d] = (long)ceil(fmax[d] + maxr + 1e-8);
    images *= (double)(hi[d] - lo[d]);
  }
  if (!(images <= 1e7 && images * N <= 2e8))
    MS_FAIL(MS_ERR_INPUT, "cell too thin for the %.3g Å M3GNet cutoff: the bond search would "
            "test %.3g periodic images of %d atoms", rc, images, N);
  /* 4. images of the wrapped atoms inside the box, numbered in loop order */
  size_t np = 0;
  ms_err err = MS_SUCCESS;
  for (long n0 = lo[0]; n0 < hi[0] && !err; ++n0)
    for (long n1 = lo[1]; n1 < hi[1] && !err; ++n1)
      for (long n2 = lo[2]; n2 < hi[2] && !err; ++n2) {
        double t[3];
        for (int d = 0; d < 3; ++d)
          t[d] = ((double)n0 * L[0][d] + (double)n1 * L[1][d]) + (double)n2 * L[2][d];
        for (int l = 0; l < N; ++l) {
          double p[3];
          int inside = 1;
          for (int d = 0; d < 3; ++d) {
            p[d] = t[d] + wr[l][d];
            inside &= vmin[d] < p[d] && p[d] < vmax[d];
          }
          if (!inside) continue;
          if (np == w->cap_points && (err = grow_points(w, np + 1))) break;
          memcpy(w->pt[np], p, sizeof p);
          w->pt_atom[np] = l;
          w->pt_img[np][0] = (int)n0 - corr[l][0];
          w->pt_img[np][1] = (int)n1 - corr[l][1];
          w->pt_img[np][2] = (int)n2 - corr[l][2];
          ++np;
        }
      }
  MS_CALL(err);
  /* 5. cubes of edge rc; each cube's chain starts at its last point */
  long ncube[3];
  for (int d = 0; d < 3; ++d) {
    ncube[d] = (long)ceil((vmax[d] - vmin[d]) / rc);
    if (ncube[d] < 1) ncube[d] = 1;
  }
  const size_t ncubes = (size_t)ncube[0] * ncube[1] * ncube[2];
  if (ncubes > w->cap_cubes) {
    MS_CALL(MS_REALLOC(ncubes, &w->cube_head));
    w->cap_cubes = ncubes;
  }
  for (size_t k = 0; k < ncubes; ++k) w->cube_head[k] = -1;
  for (size_t q = 0; q < np; ++q) {
    long cidx[3];
    for (int d = 0; d < 3; ++d) {
      cidx[d] = (long)floor((w->pt[q][d] - vmin[d] + 1e-8) / rc);
      if (cidx[d] >= ncube[d]) cidx[d] = ncube[d] - 1; /* p < vmax keeps this from happening */
      if (cidx[d] < 0) cidx[d] = 0;
    }
    const size_t id = ((size_t)cidx[0] * ncube[1] + cidx[1]) * ncube[2] + cidx[2];
    w->pt_next[q] = w->cube_head[id];
    w->cube_head[id] = (int)q;
  }
  /* 6. for each centre atom, the 27 cubes around its own, points in decreasing number */
  const double r2max = rc * rc + 1e-8;
  for (int i = 0; i < N; ++i) {
    long ci[3];
    for (int d = 0; d < 3; ++d) ci[d] = (long)floor((r[i][d] - vmin[d] + 1e-8) / rc);
    for (int dx = -1; dx <= 1; ++dx)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dz = -1; dz <= 1; ++dz) {
          const long a = ci[0] + dx, b = ci[1] + dy, cc = ci[2] + dz;
          if (a < 0 || a >= ncube[0] || b < 0 || b >= ncube[1] || cc < 0 || cc >= ncube[2])
            continue;
          for (int q = w->cube_head[((size_t)a * ncube[1] + b) * ncube[2] + cc]; q >= 0;
               q = w->pt_next[q]) {
            const double *p = w->pt[q];
            const double e0 = p[0] - r[i][0], e1 = p[1] - r[i][1], e2 = p[2] - r[i][2];
            const double d2 = (e0 * e0 + e1 * e1) + e2 * e2;
            if (!(d2 < r2max)) continue;
            const int j = w->pt_atom[q];
            if (sqrt(d2) <= 1e-8) {
              if (j == i) continue; /* the atom itself */
              MS_FAIL(MS_ERR_INPUT, "atoms %d and %d (or a periodic image of %d) are at the "
                      "same place", i, j, j);
            }
            if ((size_t)w->nedges == w->cap_edges)
              MS_CALL(ms__m3g_reserve_edges(w, (size_t)w->nedges + 1));
            const long long k = w->nedges++;
            const int *n = w->pt_img[q];
            w->src[k] = i;
            w->dst[k] = j;
            memcpy(w->img[k], n, sizeof w->img[k]);
            double R[3];
            for (int d = 0; d < 3; ++d) {
              const double off = n[0] * L[0][d] + n[1] * L[1][d] + n[2] * L[2][d];
              R[d] = (r[j][d] + off) - r[i][d];
            }
            memcpy(w->R[k], R, sizeof R);
            w->d[k] = sqrt(R[0] * R[0] + R[1] * R[1] + R[2] * R[2]);
          }
        }
  }
  return MS_SUCCESS;
}

ms_err ms__m3g_short_bonds(ms_m3gnet_ws w, ms_m3gnet_semantics s) {
  const struct ms_m3gnet_s *m = w->m;
  const int N = w->natoms;
  const long long E = w->nedges;
  for (int i = 0; i <= N; ++i) w->sb_start[i] = 0;
  long long P = 0;
  for (long long b = 0; b < E; ++b)
    if (w->d[b] <= m->cutoff3) {
      w->sb_bond[P++] = (int)b;
      ++w->sb_start[w->src[b] + 1];
    }
  w->nshort = P;
  long long T = 0;
  for (int i = 0; i < N; ++i) {
    const long long mi = w->sb_start[i + 1];
    T += mi * (mi - 1);
    w->sb_start[i + 1] += w->sb_start[i];
  }
  w->ntriplets = T;
  long long merged = 0; /* matgl: short bonds 1 <= j < p whose atom has one short bond */
  for (long long p = 0; p < P; ++p) {
    const int g = w->sb_bond[p];
    const double dg = w->d[g];
    for (int k = 0; k < 3; ++k) w->sb_u[p][k] = w->R[g][k] / dg;
    ms__m3g_threebody_radial(m, dg, w->sb_rb3 + p * MS__M3G_F, w->sb_drb3 + p * MS__M3G_F);
    if (s == MS_M3GNET_MATGL) {
      w->sb_end[p] = w->dst[p];
      w->sb_wbond[p] = (int)p;
      w->sb_tgt[p] = (int)(p - merged);
      const int a = w->src[g];
      if (p >= 1 && w->sb_start[a + 1] - w->sb_start[a] == 1) ++merged;
    } else {
      w->sb_end[p] = w->dst[g];
      w->sb_wbond[p] = g;
      w->sb_tgt[p] = g;
    }
    ms__m3g_envelope(w->d[w->sb_wbond[p]], m->cutoff3, &w->sb_wt[p], &w->sb_dwt[p]);
  }
  return MS_SUCCESS;
}
