/* Comparison of two prepared structures, as pymatgen's StructureMatcher.fit and get_rms_dist
 * (Ong et al., Comput. Mater. Sci. 68, 314 (2013)).
 *
 * Comparison of struct1 (a) with struct2 (b), after checking the reduced compositions and site
 * counts and the optional space-group guard:
 * 1. Scale both lattices to the geometric-mean volume (a by r, b by 1/r, r = (Vb/Va)^(1/6)).
 * 2. Lattice mappings: every triple of lattice vectors of a, of lengths within a factor 1+ltol
 *    of b's reduced a, b, c (strictly, as pymatgen), with the three angles within angle_tol of
 *    b's, forming a basis (|det| = 1 of the integer matrix S, either handedness).
 * 3. For each mapping, a's fractional coordinates in the new basis are f S^-1 (exact, S is
 *    unimodular); both structures sit on the average lattice (mean lattice parameters).
 *    Tolerances: frac_tol_k = 2 stol / (norm d_k), with d_k the spacing of lattice planes k
 *    and norm = (N / V_avg)^(1/3).
 * 4. Translations: the anchor is the first site of b of the rarest species (fewest sites), and
 *    each site of a of that species is tried as its image. A translation is kept if every
 *    site of b has a site of a of its species within frac_tol along every axis.
 * 5. Distances on the average lattice: pairs further apart than frac_tol (computed with the
 *    Niggli-reduced average lattice) along some reduced axis are excluded, the others take the
 *    shortest of 27 images; the Hungarian method (Kuhn-Munkres, with potentials) finds the
 *    assignment of least total squared distance within each species; the mean displacement is
 *    removed; each displacement is multiplied by norm.
 * 6. Match: some mapping and translation with every displacement below stol. The reported RMS
 *    and maximum are those of the mapping with the least RMS (a search over every mapping
 *    that stops early only at RMS < 1e-5, as get_rms_dist). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/match_impl.h"

#define BIG 1e20
#define PI 3.14159265358979323846

/* ---- 3x3 helpers (row vectors: r = f L) ---------------------------------------------- */

static int idet3(const int m[3][3]) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* Inverse of a unimodular integer matrix (adjugate times det = +-1). */
static void iinv3(const int m[3][3], int det, int inv[3][3]) {
  inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) * det;
  inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) * det;
  inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) * det;
  inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) * det;
  inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) * det;
  inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) * det;
  inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) * det;
  inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) * det;
  inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) * det;
}


static void cross3(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* Spacings of the lattice planes (V / |a_j x a_k|). */
static void plane_spacings(const double L[3][3], double d[3]) {
  double v = fabs(ms_mat3_det(L));
  for (int k = 0; k < 3; ++k) {
    double c[3];
    cross3(L[(k + 1) % 3], L[(k + 2) % 3], c);
    d[k] = v / ms__match_norm3(c);
  }
}

static double angle_deg(const double a[3], const double b[3]) {
  double c = ms__match_dot3(a, b) / (ms__match_norm3(a) * ms__match_norm3(b));
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  return acos(c) * 180.0 / PI;
}

static double wrap01(double x) {
  double y = x - floor(x);
  return y >= 1.0 ? 0.0 : y;
}

/* ---- Hungarian method ---------------------------------------------------------------- */

/* Minimum-cost perfect assignment of an n x n cost matrix (row-major): row i gets column
 * col[i]. The classical O(n^3) shortest-augmenting-path form with row and column potentials
 * (Kuhn 1955, Munkres 1957; Jonker-Volgenant style bookkeeping). Work arrays: 4(n+1) doubles
 * and 3(n+1) ints. */
static void hungarian(int n, const double *cost, int *col, double *u, double *v, double *minv,
                      int *p, int *way, int *used) {
  for (int j = 0; j <= n; ++j) {
    u[j] = v[j] = 0;
    p[j] = way[j] = 0;
  }
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    for (int j = 0; j <= n; ++j) {
      minv[j] = INFINITY;
      used[j] = 0;
    }
    do {
      used[j0] = 1;
      int i0 = p[j0], j1 = 0;
      double delta = INFINITY;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        double cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  for (int j = 1; j <= n; ++j)
    if (p[j]) col[p[j] - 1] = j - 1;
}


/* ---- comparison ---------------------------------------------------------------------- */

void ms__match_ws_free(ms__match_ws *w) {
  free(w->f1);
  free(w->f2t);
  free(w->cost);
  free(w->vec);
  free(w->hu);
  free(w->hv);
  free(w->hmin);
  free(w->hp);
  free(w->hway);
  free(w->hused);
  free(w->hcol);
  free(w->rows);
  free(w->cols);
  free(w->done);
  free(w->pts);
  for (int k = 0; k < 3; ++k) free(w->cand[k]);
  memset(w, 0, sizeof *w);
}

static ms_err ws_reserve(ms__match_ws *w, int N) {
  if (N <= w->N) return MS_SUCCESS;
  size_t n = (size_t)N, n1 = n + 1;
  MS_CALL(MS_REALLOC(n, &w->f1));
  MS_CALL(MS_REALLOC(n, &w->f2t));
  MS_CALL(MS_REALLOC(n * n, &w->cost));
  MS_CALL(MS_REALLOC(n, &w->vec));
  MS_CALL(MS_REALLOC(n1, &w->hu));
  MS_CALL(MS_REALLOC(n1, &w->hv));
  MS_CALL(MS_REALLOC(n1, &w->hmin));
  MS_CALL(MS_REALLOC(n1, &w->hp));
  MS_CALL(MS_REALLOC(n1, &w->hway));
  MS_CALL(MS_REALLOC(n1, &w->hused));
  MS_CALL(MS_REALLOC(n1, &w->hcol));
  MS_CALL(MS_REALLOC(n, &w->rows));
  MS_CALL(MS_REALLOC(n, &w->cols));
  MS_CALL(MS_REALLOC(n, &w->done));
  w->N = N;
  return MS_SUCCESS;
}

/* Lattice points n L (n != 0) with |n L| < rmax. */
static ms_err lattice_points(ms__match_ws *w, const double L[3][3], double rmax) {
  double d[3];
  plane_spacings(L, d);
  int nmax[3];
  for (int k = 0; k < 3; ++k) nmax[k] = (int)ceil(rmax / d[k]);
  w->npts = 0;
  for (int a = -nmax[0]; a <= nmax[0]; ++a)
    for (int b = -nmax[1]; b <= nmax[1]; ++b)
      for (int c = -nmax[2]; c <= nmax[2]; ++c) {
        if (!a && !b && !c) continue;
        double v[3];
        for (int k = 0; k < 3; ++k) v[k] = a * L[0][k] + b * L[1][k] + c * L[2][k];
        double len = ms__match_norm3(v);
        if (len >= rmax) continue;
        if (w->npts == w->ptcap) {
          int cap = w->ptcap ? 2 * w->ptcap : 64;
          MS_CALL(MS_REALLOC((size_t)cap, &w->pts));
          for (int k = 0; k < 3; ++k) MS_CALL(MS_REALLOC((size_t)cap, &w->cand[k]));
          w->ptcap = cap;
        }
        latpt *p = &w->pts[w->npts++];
        p->n[0] = a;
        p->n[1] = b;
        p->n[2] = c;
        memcpy(p->v, v, sizeof v);
        p->len = len;
      }
  return MS_SUCCESS;
}

/* The average lattice of one mapping, reduced for distance evaluation (pymatgen uses an LLL
 * basis; any reduced basis in which the 27 neighbouring images hold the nearest one does). */
typedef struct {
  double L[3][3];   /* average lattice */
  double Lr[3][3];  /* reduced basis, Lr = T L */
  int Tinv[3][3];
  double lfrac[3]; /* exclusion box in the reduced basis */
  int ready;
} avg_lattice;

static void reduce_average(avg_lattice *al, double norm, double stol) {
  ms_cell red;
  ms_cell_init(&red);
  ms_cell_set_lattice(&red, (const double (*)[3])al->L);
  int T[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  ms_species h = {1, 0, 0.0};
  double origin[3] = {0, 0, 0};
  if (ms_cell_add_atom(&red, &h, origin) != MS_SUCCESS || ms_cell_niggli_reduce(&red, 1e-5, T) != MS_SUCCESS) {
    ms_err_clear();
    ms_cell_set_lattice(&red, (const double (*)[3])al->L);
    memset(T, 0, sizeof T);
    T[0][0] = T[1][1] = T[2][2] = 1;
  }
  memcpy(al->Lr, red.lattice, sizeof al->Lr);
  ms_cell_free(&red);
  iinv3(T, idet3(T), al->Tinv);
  double dr[3];
  plane_spacings(al->Lr, dr);
  for (int k = 0; k < 3; ++k) al->lfrac[k] = 2.0 * stol / (norm * dr[k]);
  al->ready = 1;
}

/* Shortest image of the fractional difference df (average-lattice basis): squared length,
 * and the Cartesian vector in @p out when not NULL. BIG when outside the exclusion box. */
static double shortest(const avg_lattice *al, const double df[3], double out[3]) {
  double fr[3];
  for (int k = 0; k < 3; ++k) {
    fr[k] = df[0] * al->Tinv[0][k] + df[1] * al->Tinv[1][k] + df[2] * al->Tinv[2][k];
    fr[k] -= nearbyint(fr[k]);
    if (fabs(fr[k]) > al->lfrac[k]) return BIG;
  }
  double best = INFINITY;
  for (int x = -1; x <= 1; ++x)
    for (int y = -1; y <= 1; ++y)
      for (int z = -1; z <= 1; ++z) {
        double g[3] = {fr[0] + x, fr[1] + y, fr[2] + z}, c[3];
        for (int k = 0; k < 3; ++k) c[k] = g[0] * al->Lr[0][k] + g[1] * al->Lr[1][k] + g[2] * al->Lr[2][k];
        double d2 = ms__match_dot3(c, c);
        if (d2 < best) {
          best = d2;
          if (out) memcpy(out, c, sizeof c);
        }
      }
  return best;
}

/* Displacements of one translation of one mapping after the optimal assignment: returns 1
 * and the normalised RMS and maximum, or 0 if some site has no partner within the box. */
static int score(ms__match_ws *w, const ms_match_prep *a, const ms_match_prep *b, const avg_lattice *al,
                 double norm, double *rms, double *maxd) {
  int N = a->cell.natoms;
  for (int i = 0; i < N; ++i) w->done[i] = 0;
  double sum[3] = {0, 0, 0};
  for (int i0 = 0; i0 < N; ++i0) {
    if (w->done[i0]) continue;
    long long cls = b->site_class[i0];
    int nr = 0, nc = 0;
    for (int i = 0; i < N; ++i)
      if (b->site_class[i] == cls) w->rows[nr++] = i;
    for (int j = 0; j < N; ++j)
      if (a->site_class[j] == cls) w->cols[nc++] = j;
    if (nr != nc) return 0;
    for (int r = 0; r < nr; ++r) {
      int i = w->rows[r];
      w->done[i] = 1;
      for (int s = 0; s < nc; ++s) {
        int j = w->cols[s];
        double df[3] = {w->f1[j][0] - w->f2t[i][0], w->f1[j][1] - w->f2t[i][1], w->f1[j][2] - w->f2t[i][2]};
        w->cost[r * nc + s] = shortest(al, df, NULL);
      }
    }
    hungarian(nr, w->cost, w->hcol, w->hu, w->hv, w->hmin, w->hp, w->hway, w->hused);
    for (int r = 0; r < nr; ++r) {
      int s = w->hcol[r];
      if (w->cost[r * nc + s] >= BIG) return 0;
      int i = w->rows[r], j = w->cols[s];
      double df[3] = {w->f1[j][0] - w->f2t[i][0], w->f1[j][1] - w->f2t[i][1], w->f1[j][2] - w->f2t[i][2]};
      shortest(al, df, w->vec[i]);
      for (int k = 0; k < 3; ++k) sum[k] += w->vec[i][k];
    }
  }
  double mean[3] = {sum[0] / N, sum[1] / N, sum[2] / N}, ss = 0, mx = 0;
  for (int i = 0; i < N; ++i) {
    double d[3] = {w->vec[i][0] - mean[0], w->vec[i][1] - mean[1], w->vec[i][2] - mean[2]};
    double dd = ms__match_norm3(d) * norm;
    ss += dd * dd;
    if (dd > mx) mx = dd;
  }
  *rms = sqrt(ss / N);
  *maxd = mx;
  return 1;
}

static int angle_ok(const latpt *u, const latpt *v, double clo, double chi) {
  double cs = ms__match_dot3(u->v, v->v) / (u->len * v->len);
  return cs > clo && cs < chi;
}

typedef struct {
  int found;       /* some mapping had every displacement below stol */
  double fit_rms, fit_max;
  int have_best;   /* the least-RMS mapping, if its RMS is below stol */
  double best_rms, best_max;
  int nmappings;
} search_state;

/* Steps 1-6 of the header comment for prepared a and b with equal compositions and sizes. */
static ms_err search(ms__match_ws *w, const ms_match_prep *a, const ms_match_prep *b, const ms_match_options *o,
                     int want_rms, search_state *st) {
  int N = a->cell.natoms;
  MS_CALL(ws_reserve(w, N));
  memset(st, 0, sizeof *st);
  double ratio = o->scale ? pow(b->volume / a->volume, 1.0 / 6.0) : 1.0;
  double L1[3][3], L2[3][3];
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) {
      L1[i][k] = a->cell.lattice[i][k] * ratio;
      L2[i][k] = b->cell.lattice[i][k] / ratio;
    }
  double len2[3], ang2[3];
  for (int k = 0; k < 3; ++k) len2[k] = ms__match_norm3(L2[k]);
  ang2[0] = angle_deg(L2[1], L2[2]); /* alpha */
  ang2[1] = angle_deg(L2[0], L2[2]); /* beta */
  ang2[2] = angle_deg(L2[0], L2[1]); /* gamma */
  double lmax = fmax(len2[0], fmax(len2[1], len2[2]));
  MS_CALL(lattice_points(w, (const double (*)[3])L1, lmax * (1 + o->ltol)));
  /* Candidates per target length. */
  int nc[3] = {0, 0, 0};
  int **cand = w->cand;
  for (int p = 0; p < w->npts; ++p)
    for (int k = 0; k < 3; ++k) {
      double q = w->pts[p].len / len2[k];
      if (q < 1 + o->ltol && q > 1 / (1 + o->ltol)) cand[k][nc[k]++] = p;
    }
  /* |angle - target| < angle_tol as an open interval of cosines (acos is monotonic), so the
   * triple loop needs no acos. */
  double clo[3], chi[3];
  for (int k = 0; k < 3; ++k) {
    double lo = ang2[k] - o->angle_tol, hi = ang2[k] + o->angle_tol;
    chi[k] = lo <= 0 ? 2.0 : cos(lo * PI / 180.0);
    clo[k] = hi >= 180 ? -2.0 : cos(hi * PI / 180.0);
  }
  /* Anchor: the first site of b of its rarest class. */
  int anchor = -1, anchor_count = N + 1;
  for (int i = 0; i < N; ++i) {
    int cnt = 0;
    for (int j = 0; j < N; ++j) cnt += b->site_class[j] == b->site_class[i];
    if (cnt < anchor_count) {
      anchor_count = cnt;
      anchor = i;
    }
  }
  const double (*f2)[3] = (const double (*)[3])b->cell.frac;
  int stop = 0;
  for (int ia = 0; ia < nc[0] && !stop; ++ia)
    for (int ib = 0; ib < nc[1] && !stop; ++ib) {
      const latpt *pa = &w->pts[cand[0][ia]], *pb = &w->pts[cand[1][ib]];
      if (!angle_ok(pa, pb, clo[2], chi[2])) continue;
      for (int ic = 0; ic < nc[2] && !stop; ++ic) {
        const latpt *pc = &w->pts[cand[2][ic]];
        if (!angle_ok(pb, pc, clo[0], chi[0])) continue;
        if (!angle_ok(pa, pc, clo[1], chi[1])) continue;
        int S[3][3];
        for (int k = 0; k < 3; ++k) {
          S[0][k] = pa->n[k];
          S[1][k] = pb->n[k];
          S[2][k] = pc->n[k];
        }
        int det = idet3(S);
        if (det != 1 && det != -1) continue;
        st->nmappings++;
        int Sinv[3][3];
        iinv3(S, det, Sinv);
        for (int j = 0; j < N; ++j)
          for (int k = 0; k < 3; ++k)
            w->f1[j][k] = wrap01(a->cell.frac[j][0] * Sinv[0][k] + a->cell.frac[j][1] * Sinv[1][k] +
                                 a->cell.frac[j][2] * Sinv[2][k]);
        /* Average lattice from the mean lattice parameters (either handedness of the mapped
         * basis gives the same parameters, which is how mirror images come to match). */
        double abc[3] = {(pa->len + len2[0]) / 2, (pb->len + len2[1]) / 2, (pc->len + len2[2]) / 2};
        double angs[3] = {(angle_deg(pb->v, pc->v) + ang2[0]) / 2, (angle_deg(pa->v, pc->v) + ang2[1]) / 2,
                          (angle_deg(pa->v, pb->v) + ang2[2]) / 2};
        avg_lattice al;
        al.ready = 0;
        if (ms_lattice_from_parameters(abc, angs, al.L) != MS_SUCCESS) {
          ms_err_clear();
          continue;
        }
        double vavg = fabs(ms_mat3_det(al.L)), norm = cbrt(N / vavg), d[3], ftol[3];
        plane_spacings(al.L, d);
        for (int k = 0; k < 3; ++k) ftol[k] = 2.0 * o->stol / (norm * d[k]);
        for (int j1 = 0; j1 < N && !stop; ++j1) {
          if (a->site_class[j1] != b->site_class[anchor]) continue;
          double t[3];
          for (int k = 0; k < 3; ++k) t[k] = w->f1[j1][k] - f2[anchor][k];
          for (int i = 0; i < N; ++i)
            for (int k = 0; k < 3; ++k) w->f2t[i][k] = f2[i][k] + t[k];
          /* Every site of b needs a partner of its class inside the box. */
          int ok = 1;
          for (int i = 0; i < N && ok; ++i) {
            int found = 0;
            for (int j = 0; j < N && !found; ++j) {
              if (a->site_class[j] != b->site_class[i]) continue;
              double dd[3] = {w->f1[j][0] - w->f2t[i][0], w->f1[j][1] - w->f2t[i][1], w->f1[j][2] - w->f2t[i][2]};
              found = ms__match_box_close(dd, ftol);
            }
            ok = found;
          }
          if (!ok) continue;
          if (!al.ready) reduce_average(&al, norm, o->stol);
          double rms, mx;
          if (!score(w, a, b, &al, norm, &rms, &mx)) continue;
          if (mx < o->stol && !st->found) {
            st->found = 1;
            st->fit_rms = rms;
            st->fit_max = mx;
            if (!want_rms) stop = 1;
          }
          if (rms < o->stol && (!st->have_best || rms < st->best_rms)) {
            st->have_best = 1;
            st->best_rms = rms;
            st->best_max = mx;
            if (rms < 1e-5) stop = 1;
          }
        }
      }
    }
  return MS_SUCCESS;
}

/* Equal reduced compositions: the same classes with proportional counts (equal counts, as
 * the site counts are compared first). */
static int same_composition(const ms_match_prep *a, const ms_match_prep *b) {
  int Na = a->cell.natoms, Nb = b->cell.natoms;
  /* Compare class fractions: count_a(c) * Nb == count_b(c) * Na for every class. */
  for (int i = 0; i < Na; ++i) {
    long long c = a->site_class[i], ca = 0, cb = 0;
    for (int j = 0; j < Na; ++j) ca += a->site_class[j] == c;
    for (int j = 0; j < Nb; ++j) cb += b->site_class[j] == c;
    if (ca * Nb != cb * Na) return 0;
  }
  for (int j = 0; j < Nb; ++j) {
    long long c = b->site_class[j], ca = 0;
    for (int i = 0; i < Na; ++i) ca += a->site_class[i] == c;
    if (!ca) return 0;
  }
  return 1;
}

ms_err ms__match_compare(ms__match_ws *w, ms_match_prep *a, ms_match_prep *b, const ms_match_options *o,
                      int want_rms, ms_match_result *r) {
  memset(r, 0, sizeof *r);
  r->rms = r->max_dist = NAN;
  r->nsites[0] = a->cell.natoms;
  r->nsites[1] = b->cell.natoms;
  MS_CHECK(a->compare_elements == o->compare_elements && b->compare_elements == o->compare_elements,
           MS_ERR_ARG, "structures were prepared with a different compare_elements option");
  if (!same_composition(a, b)) {
    r->reason = MS_MATCH_COMPOSITION;
    return MS_SUCCESS;
  }
  if (a->cell.natoms != b->cell.natoms) {
    r->reason = MS_MATCH_NSITES;
    return MS_SUCCESS;
  }
  /* The guard needs spglib (0.3 to 25 ms a call against ~0.05 ms for the geometric search),
   * so space groups are only computed for pairs that match geometrically, unless both are
   * known already. */
  if (o->check_spacegroup && a->spacegroup >= 0 && b->spacegroup >= 0 && a->spacegroup != b->spacegroup) {
    r->spacegroup[0] = a->spacegroup;
    r->spacegroup[1] = b->spacegroup;
    r->reason = MS_MATCH_SPACEGROUP;
    return MS_SUCCESS;
  }
  search_state st;
  MS_CALL(search(w, a, b, o, want_rms, &st));
  r->nmappings = st.nmappings;
  r->match = st.found;
  r->reason = st.found ? MS_MATCH_OK : st.nmappings ? MS_MATCH_SITES : MS_MATCH_LATTICE;
  if (o->check_spacegroup && st.found) {
    ms__match_ensure_spacegroup(a, o);
    ms__match_ensure_spacegroup(b, o);
    r->spacegroup[0] = a->spacegroup;
    r->spacegroup[1] = b->spacegroup;
    if (a->spacegroup != b->spacegroup) {
      r->match = 0;
      r->reason = MS_MATCH_SPACEGROUP;
    }
  }
  if (want_rms) {
    if (st.have_best) {
      r->rms = st.best_rms;
      r->max_dist = st.best_max;
    }
  } else if (st.found) {
    r->rms = st.fit_rms;
    r->max_dist = st.fit_max;
  }
  return MS_SUCCESS;
}

ms_err ms_match_prepared(const ms_match_prep *a, const ms_match_prep *b, const ms_match_options *o,
                         int want_rms, ms_match_result *r) {
  MS_CHECK(a && b && r, MS_ERR_ARG, "NULL argument");
  MS_CALL(ms__match_check_options(o));
  /* Work on shallow copies so that a space group computed here does not need a mutable
   * argument (the copies share the arrays and are not freed). */
  ms_match_prep ca = *a, cb = *b;
  ms__match_ws w;
  memset(&w, 0, sizeof w);
  ms_err e = ms__match_compare(&w, &ca, &cb, o, want_rms, r);
  ms__match_ws_free(&w);
  return e;
}

ms_err ms_match(const ms_cell *a, const ms_cell *b, const ms_match_options *o, ms_match_result *r) {
  MS_CHECK(a && b && r, MS_ERR_ARG, "NULL argument");
  ms_match_prep pa, pb;
  ms_match_prep_init(&pa);
  ms_match_prep_init(&pb);
  ms_err e = ms_match_prepare(a, o, &pa);
  if (!e) e = ms_match_prepare(b, o, &pb);
  if (!e) e = ms_match_prepared(&pa, &pb, o, 1, r);
  ms_match_prep_free(&pa);
  ms_match_prep_free(&pb);
  return e;
}

