/* Ewald summation of point charges in a periodic cell: parameters, real space, direct
 * reciprocal space, self and background terms. PME reciprocal space is in pme.c.
 *
 * Equations (Gaussian units, every energy multiplied by K = 14.399645478 eV Å; sums over
 * lattice vectors n, the prime dropping i = j at n = 0):
 *   E       = E_real + E_recip + E_self + E_bg
 *   E_real  = 1/2 sum'_{i,j,n} q_i q_j erfc(alpha r_ijn) / r_ijn
 *   E_recip = (2 pi / V) sum_{k != 0} exp(-k^2 / 4 alpha^2) / k^2 |S(k)|^2,
 *             S(k) = sum_j q_j exp(i k.r_j), k = 2 pi (h b1 + k b2 + l b3)
 *   E_self  = -(alpha / sqrt(pi)) sum_i q_i^2
 *   E_bg    = -pi Q^2 / (2 V alpha^2)  (uniform neutralising background for net charge Q)
 * Forces are the analytic gradients; the strain derivative W_ab = dE/d eps_ab is
 *   real:   sum_pairs (dphi/dr) d_a d_b / r
 *   recip:  (2 pi / V) sum_k f(k) |S|^2 [-delta_ab + 2 k_a k_b (1/k^2 + 1/(4 alpha^2))]
 *   bg:     -E_bg delta_ab;   self: 0.
 * References: P. P. Ewald, Ann. Phys. 369, 253 (1921); D. M. Heyes, J. Chem. Phys. 74, 1924
 * (1981) (stress); J. Kolafa & J. W. Perram, Mol. Simul. 9, 351 (1992) (error estimates);
 * the background term as in LAMMPS ewald.cpp and pymatgen EwaldSummation.
 *
 * Parameters. With p = 1 + ln(1/delta) for the requested relative accuracy delta:
 *   alpha rcut = sqrt(p)   (real-space terms beyond rcut are below ~ erfc(sqrt p) ~ delta)
 *   kcut = 2 alpha sqrt(p) (reciprocal terms beyond kcut carry exp(-kcut^2/4 alpha^2) < delta)
 * The extra 1 (a factor e) keeps the per-atom force error below delta F_scale as well as the
 * energy error below delta E_scale (ewald.h); the bare rule missed the force bound by 36 %.
 * When the caller fixes neither rcut nor alpha, alpha minimises the measured cost
 *   c_pair * N^2 (2 pi/3) rcut^3 / V  +  c_katom * N nk,   nk = kcut^3 V / (12 pi^2),
 * i.e. alpha = (c_pair / c_katom)^(1/6) sqrt(pi) (N / V^2)^(1/6) (Perram, Petersen & de Leeuw,
 * Mol. Phys. 65, 875 (1988)). The same cost model, with ms__pme_cost for PME, decides the
 * method under MS_EWALD_AUTO. The constants were measured on the development machine
 * (docs/models.md, "Electrostatics").
 *
 * Reciprocal vectors. Any k with |k| <= kcut has |m_d| = |k.a_d| / 2 pi <= kcut |a_d| / 2 pi
 * (Cauchy-Schwarz), so these bounds are safe for any skew; within them the loops solve the
 * quadratic |k|^2 <= kcut^2 for the exact range of m_2 given (m_0, m_1) and of m_1 given m_0,
 * so no work is spent on vectors outside the sphere. exp(i k.r_j) is built from per-direction
 * powers exp(2 pi i m f_jd) computed by recurrence (one complex product per power) instead of
 * sin/cos per k per atom.
 *
 * Real space uses erfc(x) = exp(-x^2) erfcx(x) with a piecewise Taylor table of erfcx
 * (interval 1/16, degree 11, relative error below 1e-15 on [0, 8); libm erfc beyond), so one
 * exp per pair serves both the energy and the force.
 *
 * Limits: point charges; tin-foil boundary conditions (no surface dipole term); an overall
 * charge is neutralised by a uniform background, whose energy depends on the cell volume and
 * is not a physical energy of the isolated charged crystal.
 */
#include "ewald_impl.h"

#include <fftw3.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SQRT_PI 1.7724538509055160273
#define TWO_PI 6.283185307179586477

/* Measured cost constants (ns) on the development machine (docs/models.md). They only steer
 * the choice of alpha and of the method; results do not depend on them beyond delta. A pair
 * includes its share of the neighbour search (ms_nlist), which for cells of 20-100 atoms
 * costs several times the kernel itself. */
#define COST_PAIR 40.0 /* one real-space pair with forces and W, neighbour search included */
#define COST_KATOM 2.5 /* one (k vector, atom) term with forces and W */
#define COST_K 15.0    /* per k vector overhead (exp, bookkeeping) */

const char *ms_ewald_method_name(ms_ewald_method m) {
  switch (m) {
  case MS_EWALD_AUTO: return "auto";
  case MS_EWALD_DIRECT: return "direct";
  case MS_EWALD_PME: return "pme";
  }
  return "unknown";
}

void ms_ewald_params_default(ms_ewald_params *p) {
  memset(p, 0, sizeof *p);
  p->method = MS_EWALD_AUTO;
  p->accuracy = 1e-8;
  p->overlap_dist = 0.1;
  p->fftw_flags = FFTW_ESTIMATE;
}

static ms_err check_params(const ms_ewald_params *p) {
  MS_CHECK(p->method == MS_EWALD_AUTO || p->method == MS_EWALD_DIRECT ||
               p->method == MS_EWALD_PME,
           MS_ERR_ARG, "ewald: unknown method %d", (int)p->method);
  MS_CHECK(p->accuracy >= 1e-15 && p->accuracy <= 1e-2, MS_ERR_ARG,
           "ewald: accuracy must be in [1e-15, 1e-2], got %g", p->accuracy);
  MS_CHECK(isfinite(p->rcut) && p->rcut >= 0, MS_ERR_ARG,
           "ewald: rcut must be >= 0 (0: automatic), got %g", p->rcut);
  MS_CHECK(p->rcut == 0 || p->rcut >= 0.5, MS_ERR_ARG,
           "ewald: rcut %g Å is too small (minimum 0.5 Å)", p->rcut);
  MS_CHECK(isfinite(p->alpha) && p->alpha >= 0 && p->alpha <= 20, MS_ERR_ARG,
           "ewald: alpha must be in [0, 20] Å^-1 (0: automatic), got %g", p->alpha);
  MS_CHECK(isfinite(p->kcut) && p->kcut >= 0, MS_ERR_ARG,
           "ewald: kcut must be >= 0 (0: automatic), got %g", p->kcut);
  MS_CHECK(p->pme_order == 0 || (p->pme_order >= 3 && p->pme_order <= 12), MS_ERR_ARG,
           "ewald: pme_order must be 0 (automatic) or in 3..12, got %d", p->pme_order);
  for (int d = 0; d < 3; ++d)
    MS_CHECK(p->pme_grid[d] >= 0 && p->pme_grid[d] <= 4096, MS_ERR_ARG,
             "ewald: pme_grid[%d] must be in 0..4096, got %d", d, p->pme_grid[d]);
  for (int d = 0; d < 3; ++d)
    MS_CHECK(p->pme_grid[d] == 0 || p->pme_order == 0 || p->pme_grid[d] >= p->pme_order,
             MS_ERR_ARG, "ewald: pme_grid[%d] = %d is smaller than pme_order %d", d,
             p->pme_grid[d], p->pme_order);
  MS_CHECK(isfinite(p->overlap_dist) && p->overlap_dist >= 0, MS_ERR_ARG,
           "ewald: overlap_dist must be >= 0, got %g", p->overlap_dist);
  return MS_SUCCESS;
}

/* Taylor coefficients of erfcx(x) = exp(x^2) erfc(x) about the interval centres. erfcx
 * solves y' = 2 x y - 2/sqrt(pi), so about x0 the coefficients obey
 *   a1 = 2 x0 a0 - 2/sqrt(pi),  (n+1) a_{n+1} = 2 x0 a_n + 2 a_{n-1}  (n >= 1).
 * The recurrence's growing solution exp(x^2) amplifies the rounding of a0 by at most
 * exp(2 x0 t + t^2) over the interval (|t| <= 1/32), so the table keeps full precision. */
static void build_erfc_table(double tab[MS__ERFC_TAB_N][MS__ERFC_TAB_DEG + 1]) {
  for (int t = 0; t < MS__ERFC_TAB_N; ++t) {
    double x0 = (t + 0.5) * MS__ERFC_TAB_H;
    double *a = tab[t];
    a[0] = erfc(x0) * exp(x0 * x0);
    a[1] = 2 * x0 * a[0] - 2 / SQRT_PI;
    for (int n = 1; n < MS__ERFC_TAB_DEG; ++n) a[n + 1] = (2 * x0 * a[n] + 2 * a[n - 1]) / (n + 1);
  }
}

/* erfc(x) given ex = exp(-x^2), for x >= 0. */
static inline double erfc_tab(const double tab[MS__ERFC_TAB_N][MS__ERFC_TAB_DEG + 1], double x,
                              double ex) {
  if (x < MS__ERFC_TAB_XMAX) {
    int it = (int)(x * (1.0 / MS__ERFC_TAB_H));
    double t = x - (it + 0.5) * MS__ERFC_TAB_H;
    const double *a = tab[it];
    /* Estrin-like split keeps the dependency chain short. */
    double t2 = t * t;
    double p0 = a[0] + t * a[1], p1 = a[2] + t * a[3], p2 = a[4] + t * a[5];
    double p3 = a[6] + t * a[7], p4 = a[8] + t * a[9], p5 = a[10] + t * a[11];
    double t4 = t2 * t2;
    double q0 = p0 + t2 * p1, q1 = p2 + t2 * p3, q2 = p4 + t2 * p5;
    double s = q0 + t4 * (q1 + t4 * q2);
    return s * ex;
  }
  return erfc(x);
}

ms_err ms_ewald_create(const ms_ewald_params *p, ms_ewald *out) {
  MS_CHECK(out, MS_ERR_ARG, "ewald: NULL output pointer");
  *out = NULL;
  ms_ewald_params def;
  if (!p) {
    ms_ewald_params_default(&def);
    p = &def;
  }
  MS_CALL(check_params(p));
  struct ms_ewald_s *ew = NULL;
  MS_CALL(MS_CALLOC(1, &ew));
  ew->par = *p;
  build_erfc_table(ew->erfc_tab);
  ms_nlist_init(&ew->nl);
  ew->rmin2 = INFINITY;
  ew->rmin_i = ew->rmin_j = -1;
  *out = ew;
  return MS_SUCCESS;
}

void ms_ewald_destroy(ms_ewald *pew) {
  if (!pew || !*pew) return;
  ms_ewald ew = *pew;
  free(ew->qs);
  free(ew->frac);
  free(ew->eik);
  free(ew->abuf);
  ms__pme_destroy(&ew->pme);
  ms_nlist_free(&ew->nl);
  free(ew);
  *pew = NULL;
}

ms_err ms_ewald_set_params(ms_ewald ew, const ms_ewald_params *p) {
  MS_CHECK(ew && p, MS_ERR_ARG, "ewald: NULL argument");
  MS_CALL(check_params(p));
  ew->par = *p;
  ew->have_setup = 0;
  return MS_SUCCESS;
}

void ms_ewald_get_params(const ms_ewald ew, ms_ewald_params *p) {
  if (ew && p) *p = ew->par;
}

ms_err ms_ewald_get_info(const ms_ewald ew, ms_ewald_info *info) {
  MS_CHECK(ew && info, MS_ERR_ARG, "ewald: NULL argument");
  MS_CHECK(ew->have_setup, MS_ERR_STATE, "ewald: ms_ewald_setup has not been called");
  *info = ew->info;
  info->accuracy = ew->par.accuracy;
  return MS_SUCCESS;
}

static double norm3(const double v[3]) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

/* Real-space pairs (each unordered pair once, images included) for cutoff rc. */
static double est_pairs(int n, double vol, double rc) {
  return 0.5 * (double)n * n * (4.0 / 3.0) * MS__PI * rc * rc * rc / vol;
}

/* Estimated cost (ns) of direct Ewald at splitting alpha with the given cutoffs. */
static double cost_direct(int n, double vol, double rc, double kc) {
  double nk = kc * kc * kc * vol / (12 * MS__PI * MS__PI);
  return COST_PAIR * est_pairs(n, vol, rc) + (COST_KATOM * n + COST_K) * nk;
}

enum { AUTO_PME_MIN_SITES = 100 };

/* Choose alpha, rcut, kcut (direct) or the PME grid for the structure in ew. */
static void choose_parameters(ms_ewald ew) {
  const ms_ewald_params *par = &ew->par;
  ms_ewald_info *in = &ew->info;
  const double p = 1.0 - log(par->accuracy), sp = sqrt(p);
  const int n = ew->n;
  const double vol = ew->vol;

  /* Candidate alphas: fixed by the caller, or scanned for the cheapest estimate. */
  double best_cost = INFINITY;
  ms_ewald_method best_m = MS_EWALD_DIRECT;
  double best_alpha = 0;
  int best_order = 0, best_grid[3] = {0, 0, 0};
  int fixed = par->rcut > 0 || par->alpha > 0;
  int grid_fixed = par->pme_grid[0] > 0 && par->pme_grid[1] > 0 && par->pme_grid[2] > 0;
  int nscan = fixed ? 1 : 81;
  for (int m = MS_EWALD_DIRECT; m <= MS_EWALD_PME; ++m) {
    if (par->method != MS_EWALD_AUTO && par->method != (ms_ewald_method)m) continue;
    /* Below AUTO_PME_MIN_SITES PME never wins (the measured crossover is ~200 sites at 1e-5
     * and 500-800 at 1e-8); skipping its grid search keeps small-cell setup cheap. */
    if (par->method == MS_EWALD_AUTO && m == MS_EWALD_PME && n < AUTO_PME_MIN_SITES) continue;
    for (int s = 0; s < nscan; ++s) {
      double alpha;
      if (par->alpha > 0) alpha = par->alpha;
      else if (par->rcut > 0) alpha = sp / par->rcut;
      else if (m == MS_EWALD_PME && grid_fixed) alpha = ms__pme_alpha_for_grid(par, ew->L);
      else alpha = 0.05 * pow(10.0, s / 40.0); /* 0.05 .. 5 Å^-1 */
      double rc = par->rcut > 0 ? par->rcut : sp / alpha;
      double cost;
      int order = 0, grid[3] = {0, 0, 0};
      if (m == MS_EWALD_DIRECT) {
        double kc = par->kcut > 0 ? par->kcut : 2 * alpha * sp;
        cost = cost_direct(n, vol, rc, kc);
      } else {
        ms__pme_choose(par, n, par->accuracy, alpha, ew->L, &order, grid);
        cost = COST_PAIR * est_pairs(n, vol, rc) + ms__pme_cost(n, order, grid);
      }
      if (cost < best_cost) {
        best_cost = cost;
        best_m = (ms_ewald_method)m;
        best_alpha = alpha;
        best_order = order;
        memcpy(best_grid, grid, sizeof grid);
      }
    }
  }
  in->method = best_m;
  in->alpha = best_alpha;
  in->rcut = par->rcut > 0 ? par->rcut : sp / best_alpha;
  in->kcut = 0;
  in->nk = 0;
  memset(in->kmax, 0, sizeof in->kmax);
  in->pme_order = 0;
  memset(in->pme_grid, 0, sizeof in->pme_grid);
  if (best_m == MS_EWALD_DIRECT) {
    in->kcut = par->kcut > 0 ? par->kcut : 2 * best_alpha * sp;
    for (int d = 0; d < 3; ++d) in->kmax[d] = (int)floor(in->kcut * norm3(ew->L[d]) / TWO_PI + 1e-9);
  } else {
    in->pme_order = best_order;
    memcpy(in->pme_grid, best_grid, sizeof best_grid);
  }
}

/* Exact range of integers m with |u + m v|^2 <= kc^2 (empty if *lo > *hi). */
static void quad_range(const double u[3], const double v[3], double kc2, int bound, int *lo,
                       int *hi) {
  double a = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
  double b = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
  double c = u[0] * u[0] + u[1] * u[1] + u[2] * u[2] - kc2;
  double disc = b * b - a * c;
  if (disc < 0 || a <= 0) {
    *lo = 1;
    *hi = 0;
    return;
  }
  double sq = sqrt(disc);
  /* A relative margin of 1e-9 can only add vectors just outside the sphere (harmless). */
  double m0 = (-b - sq) / a, m1 = (-b + sq) / a, eps = 1e-9 * (1 + fabs(m0) + fabs(m1));
  double flo = ceil(m0 - eps), fhi = floor(m1 + eps);
  *lo = flo < -bound ? -bound : (int)flo;
  *hi = fhi > bound ? bound : (int)fhi;
}

/* Component of v perpendicular to w. */
static void perp(const double v[3], const double w[3], double out[3]) {
  double ww = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
  double s = (v[0] * w[0] + v[1] * w[1] + v[2] * w[2]) / ww;
  for (int d = 0; d < 3; ++d) out[d] = v[d] - s * w[d];
}

/* Visit the half space of k vectors (m0 > 0, or m0 = 0 and m1 > 0, or m0 = m1 = 0 and
 * m2 > 0) inside kcut as (m0, m1) rows with their m2 range. Used for counting and for the
 * sum; fn returns nothing. */
typedef struct {
  double v[3][3];          /* 2 pi b_d */
  double v1p[3], v2n[3];   /* helpers */
  double kc2;
  int kmax[3];
} kgeom;

static void kgeom_init(kgeom *g, const double B[3][3], double kcut, const int kmax[3]) {
  for (int d = 0; d < 3; ++d)
    for (int e = 0; e < 3; ++e) g->v[d][e] = TWO_PI * B[d][e];
  perp(g->v[1], g->v[2], g->v1p);
  g->kc2 = kcut * kcut;
  memcpy(g->kmax, kmax, sizeof g->kmax);
}

/* Range of m1 for given m0 (vectors u0 = m0 v0). */
static void kgeom_m1_range(const kgeom *g, int m0, int *lo, int *hi) {
  double u[3], up[3];
  for (int e = 0; e < 3; ++e) u[e] = m0 * g->v[0][e];
  perp(u, g->v[2], up);
  quad_range(up, g->v1p, g->kc2, g->kmax[1], lo, hi);
  if (m0 == 0 && *lo < 0) *lo = 0;
}

static void kgeom_m2_range(const kgeom *g, int m0, int m1, int *lo, int *hi) {
  double w[3];
  for (int e = 0; e < 3; ++e) w[e] = m0 * g->v[0][e] + m1 * g->v[1][e];
  quad_range(w, g->v[2], g->kc2, g->kmax[2], lo, hi);
  if (m0 == 0 && m1 == 0 && *lo < 1) *lo = 1;
}

static long count_k(const kgeom *g) {
  long nk = 0;
  for (int m0 = 0; m0 <= g->kmax[0]; ++m0) {
    int lo1, hi1;
    kgeom_m1_range(g, m0, &lo1, &hi1);
    for (int m1 = lo1; m1 <= hi1; ++m1) {
      int lo2, hi2;
      kgeom_m2_range(g, m0, m1, &lo2, &hi2);
      if (hi2 >= lo2) nk += hi2 - lo2 + 1;
    }
  }
  return nk;
}

static ms_err ensure_atoms(ms_ewald ew, int n) {
  if (n <= ew->cap) return MS_SUCCESS;
  int cap = n + n / 4 + 8;
  MS_CALL(MS_REALLOC((size_t)cap, &ew->qs));
  MS_CALL(MS_REALLOC((size_t)cap, &ew->frac));
  ew->cap = cap;
  return MS_SUCCESS;
}

ms_err ms_ewald_setup(ms_ewald ew, const ms_cell *c, const double *q) {
  MS_CHECK(ew && c, MS_ERR_ARG, "ewald: NULL argument");
  MS_CHECK(c->natoms >= 1, MS_ERR_INPUT, "ewald: the cell has no sites");
  MS_CHECK(c->frac && c->kind, MS_ERR_ARG, "ewald: cell arrays are NULL");
  const int n = c->natoms;
  ew->have_setup = 0;

  /* Lattice: finite, with a volume that is not negligible against the edge lengths (a flat
   * cell would give huge k vectors and a meaningless energy). */
  double len[3];
  for (int d = 0; d < 3; ++d) {
    for (int e = 0; e < 3; ++e)
      MS_CHECK(isfinite(c->lattice[d][e]), MS_ERR_INPUT,
               "ewald: lattice[%d][%d] is not finite", d, e);
    len[d] = norm3(c->lattice[d]);
  }
  const double(*L)[3] = c->lattice;
  double x0[3], x1[3], x2[3];
  for (int e = 0; e < 3; ++e) {
    x0[e] = L[1][(e + 1) % 3] * L[2][(e + 2) % 3] - L[1][(e + 2) % 3] * L[2][(e + 1) % 3];
    x1[e] = L[2][(e + 1) % 3] * L[0][(e + 2) % 3] - L[2][(e + 2) % 3] * L[0][(e + 1) % 3];
    x2[e] = L[0][(e + 1) % 3] * L[1][(e + 2) % 3] - L[0][(e + 2) % 3] * L[1][(e + 1) % 3];
  }
  double det = L[0][0] * x0[0] + L[0][1] * x0[1] + L[0][2] * x0[2];
  double vol = fabs(det);
  MS_CHECK(vol > 1e-3 && vol > 1e-9 * len[0] * len[1] * len[2], MS_ERR_INPUT,
           "ewald: degenerate cell (volume %.3g Å^3 for edge lengths %.3g, %.3g, %.3g Å)", vol,
           len[0], len[1], len[2]);
  memcpy(ew->L, c->lattice, sizeof ew->L);
  for (int e = 0; e < 3; ++e) {
    ew->B[0][e] = x0[e] / det;
    ew->B[1][e] = x1[e] / det;
    ew->B[2][e] = x2[e] / det;
  }
  ew->vol = vol;

  MS_CALL(ensure_atoms(ew, n));
  const double sk = sqrt(MS_COULOMB_K);
  double qsum = 0, q2sum = 0;
  for (int i = 0; i < n; ++i) {
    double qi;
    if (q) {
      qi = q[i];
    } else {
      int k = c->kind[i];
      MS_CHECK(k >= 0 && k < c->nkinds, MS_ERR_INPUT, "ewald: site %d has kind %d out of range",
               i, k);
      MS_CHECK(c->species[k].has_ox, MS_ERR_INPUT,
               "ewald: site %d (Z=%d) has no oxidation state and no charge was given", i,
               c->species[k].Z);
      qi = c->species[k].ox;
    }
    MS_CHECK(isfinite(qi) && fabs(qi) < 1e3, MS_ERR_INPUT, "ewald: charge of site %d is %g",
             i, qi);
    for (int d = 0; d < 3; ++d) {
      double f = c->frac[i][d];
      MS_CHECK(isfinite(f) && fabs(f) < 1e6, MS_ERR_INPUT,
               "ewald: fractional coordinate %d of site %d is %g", d, i, f);
      f -= floor(f);
      ew->frac[i][d] = f < 1.0 ? f : 0.0;
    }
    ew->qs[i] = qi * sk;
    qsum += qi;
    q2sum += qi * qi;
  }
  ew->n = n;
  ew->qs_sum = qsum * sk;
  ew->qs2_sum = q2sum * MS_COULOMB_K;

  ms_ewald_info *in = &ew->info;
  in->natoms = n;
  in->volume = vol;
  in->qsum = qsum;
  in->q2sum = q2sum;
  choose_parameters(ew);

  if (in->method == MS_EWALD_DIRECT) {
    kgeom g;
    kgeom_init(&g, ew->B, in->kcut, in->kmax);
    in->nk = count_k(&g);
    size_t need = 0;
    for (int d = 0; d < 3; ++d) need += (size_t)(in->kmax[d] + 1) * 2 * (size_t)n;
    if (need > ew->eik_cap) {
      free(ew->eik);
      ew->eik = NULL;
      ew->eik_cap = 0;
      MS_CALL(MS_CALLOC(need, &ew->eik));
      ew->eik_cap = need;
    }
    if (n > ew->abuf_cap) {
      free(ew->abuf);
      ew->abuf = NULL;
      ew->abuf_cap = 0;
      MS_CALL(MS_CALLOC((size_t)10 * (size_t)n, &ew->abuf));
      ew->abuf_cap = n;
    }
  } else {
    if (!ew->pme) MS_CALL(ms__pme_create(&ew->pme));
    MS_CALL(ms__pme_setup(ew->pme, ew));
  }
  ms_ewald_real_reset(ew);
  ew->have_setup = 1;
  return MS_SUCCESS;
}

/* ---------------------------------------------------------------- real space */

void ms_ewald_real_reset(ms_ewald ew) {
  if (!ew) return;
  ew->rmin2 = INFINITY;
  ew->rmin_i = ew->rmin_j = -1;
}

void ms_ewald_real_status(const ms_ewald ew, ms_ewald_result *res) {
  if (!ew || !res) return;
  res->rmin = sqrt(ew->rmin2);
  res->rmin_i = ew->rmin_i;
  res->rmin_j = ew->rmin_j;
  res->status = ew->rmin2 < ew->par.overlap_dist * ew->par.overlap_dist ? MS_STATUS_OVERLAP
                                                                        : MS_STATUS_OK;
}

/* Track the shortest pair of a block (a separate cheap pass keeps the kernels branch-free). */
static void track_rmin(ms_ewald ew, const ms_nblock *blk) {
  double m = ew->rmin2;
  int pm = -1;
  for (int p = 0; p < blk->n; ++p)
    if (blk->r2[p] < m) {
      m = blk->r2[p];
      pm = p;
    }
  if (pm >= 0) {
    ew->rmin2 = m;
    ew->rmin_i = blk->i[pm];
    ew->rmin_j = blk->j[pm];
  }
}

double ms_ewald_real_block(ms_ewald ew, const ms_nblock *blk, double *e, double *g) {
  track_rmin(ew, blk);
  const double alpha = ew->info.alpha, c2 = 2 * alpha / SQRT_PI;
  const double *qs = ew->qs;
  double esum = 0;
  for (int p = 0; p < blk->n; ++p) {
    double r2 = blk->r2[p];
    if (!(r2 > 0)) continue; /* coincident sites: flagged by the overlap status */
    double r = sqrt(r2), inv = 1.0 / r, x = alpha * r, ex = exp(-x * x);
    double qq = qs[blk->i[p]] * qs[blk->j[p]];
    double ep = qq * erfc_tab(ew->erfc_tab, x, ex) * inv;
    e[p] += ep;
    g[p] -= (ep + qq * c2 * ex) * inv * inv;
    esum += ep;
  }
  return esum;
}

void ms_ewald_block_accumulate(const ms_nblock *blk, const double *e, const double *g,
                               unsigned flags, double *energy, double (*f)[3], double W[3][3]) {
  double es = 0;
  for (int p = 0; p < blk->n; ++p) es += e[p];
  if (energy) *energy += es;
  if ((flags & MS_EWALD_FORCES) && f) {
    for (int p = 0; p < blk->n; ++p) {
      double gx = g[p] * blk->dx[p], gy = g[p] * blk->dy[p], gz = g[p] * blk->dz[p];
      int i = blk->i[p], j = blk->j[p];
      f[i][0] += gx;
      f[i][1] += gy;
      f[i][2] += gz;
      f[j][0] -= gx;
      f[j][1] -= gy;
      f[j][2] -= gz;
    }
  }
  if ((flags & MS_EWALD_STRESS) && W) {
    double wxx = 0, wyy = 0, wzz = 0, wyz = 0, wxz = 0, wxy = 0;
    for (int p = 0; p < blk->n; ++p) {
      double dx = blk->dx[p], dy = blk->dy[p], dz = blk->dz[p], gp = g[p];
      wxx += gp * dx * dx;
      wyy += gp * dy * dy;
      wzz += gp * dz * dz;
      wyz += gp * dy * dz;
      wxz += gp * dx * dz;
      wxy += gp * dx * dy;
    }
    W[0][0] += wxx;
    W[1][1] += wyy;
    W[2][2] += wzz;
    W[1][2] += wyz;
    W[2][1] += wyz;
    W[0][2] += wxz;
    W[2][0] += wxz;
    W[0][1] += wxy;
    W[1][0] += wxy;
  }
}

/* The convenience path fuses kernel and accumulation in one loop (no e/g arrays). */
typedef struct {
  ms_ewald ew;
  unsigned flags;
  double energy;
  double (*f)[3];
  double W[6];
} real_ctx;

static int real_fused_cb(const ms_nblock *blk, void *vctx) {
  real_ctx *rc = vctx;
  ms_ewald ew = rc->ew;
  track_rmin(ew, blk);
  const double alpha = ew->info.alpha, c2 = 2 * alpha / SQRT_PI;
  const double *qs = ew->qs;
  const int want_f = (rc->flags & MS_EWALD_FORCES) != 0;
  const int want_w = (rc->flags & MS_EWALD_STRESS) != 0;
  double es = 0, w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0;
  double(*f)[3] = rc->f;
  for (int p = 0; p < blk->n; ++p) {
    double r2 = blk->r2[p];
    if (!(r2 > 0)) continue;
    double r = sqrt(r2), inv = 1.0 / r, x = alpha * r, ex = exp(-x * x);
    int i = blk->i[p], j = blk->j[p];
    double qq = qs[i] * qs[j];
    double ep = qq * erfc_tab(ew->erfc_tab, x, ex) * inv;
    double gp = -(ep + qq * c2 * ex) * inv * inv;
    es += ep;
    double dx = blk->dx[p], dy = blk->dy[p], dz = blk->dz[p];
    if (want_f) {
      double gx = gp * dx, gy = gp * dy, gz = gp * dz;
      f[i][0] += gx;
      f[i][1] += gy;
      f[i][2] += gz;
      f[j][0] -= gx;
      f[j][1] -= gy;
      f[j][2] -= gz;
    }
    if (want_w) {
      w0 += gp * dx * dx;
      w1 += gp * dy * dy;
      w2 += gp * dz * dz;
      w3 += gp * dy * dz;
      w4 += gp * dx * dz;
      w5 += gp * dx * dy;
    }
  }
  rc->energy += es;
  rc->W[0] += w0;
  rc->W[1] += w1;
  rc->W[2] += w2;
  rc->W[3] += w3;
  rc->W[4] += w4;
  rc->W[5] += w5;
  return 0;
}

/* ---------------------------------------------------------------- reciprocal space */

/* Per-direction powers e^{2 pi i m f_jd}, m = 0..kmax_d: re at eik_d(m), im at eik_d(m) + n. */
static double *eik_dir(ms_ewald ew, int d) {
  size_t off = 0;
  for (int e = 0; e < d; ++e) off += (size_t)(ew->info.kmax[e] + 1) * 2 * (size_t)ew->n;
  return ew->eik + off;
}

static void build_eik(ms_ewald ew) {
  const int n = ew->n;
  for (int d = 0; d < 3; ++d) {
    double *base = eik_dir(ew, d);
    int km = ew->info.kmax[d];
    double *re0 = base, *im0 = base + n;
    for (int j = 0; j < n; ++j) {
      re0[j] = 1.0;
      im0[j] = 0.0;
    }
    if (km < 1) continue;
    double *re1 = base + 2 * n, *im1 = re1 + n;
    for (int j = 0; j < n; ++j) {
      double a = TWO_PI * ew->frac[j][d];
      re1[j] = cos(a);
      im1[j] = sin(a);
    }
    for (int m = 2; m <= km; ++m) {
      double *rp = base + (size_t)(m - 1) * 2 * n, *ip = rp + n;
      double *rm = base + (size_t)m * 2 * n, *imm = rm + n;
      for (int j = 0; j < n; ++j) {
        rm[j] = rp[j] * re1[j] - ip[j] * im1[j];
        imm[j] = rp[j] * im1[j] + ip[j] * re1[j];
      }
    }
  }
}

static void kspace_direct(ms_ewald ew, unsigned flags, double *energy, double (*f)[3],
                          double W[3][3]) {
  const int n = ew->n;
  const ms_ewald_info *in = &ew->info;
  const double alpha = in->alpha, inv4a2 = 0.25 / (alpha * alpha);
  const double pref0 = 4 * MS__PI / ew->vol; /* half-space weight: (2 pi / V) x 2 */
  const int want_f = (flags & MS_EWALD_FORCES) && f;
  const int want_w = (flags & MS_EWALD_STRESS) && W;
  kgeom g;
  kgeom_init(&g, ew->B, in->kcut, in->kmax);
  build_eik(ew);

  double *restrict cre = ew->abuf, *restrict cim = cre + n;
  double *restrict ere = cim + n, *restrict eim = ere + n;
  double *restrict ta = eim + n, *restrict tb = ta + n;
  double *restrict fx = tb + n, *restrict fy = fx + n, *restrict fz = fy + n;
  const double *restrict qs = ew->qs;
  if (want_f)
    for (int j = 0; j < n; ++j) fx[j] = fy[j] = fz[j] = 0;
  const double *e0 = eik_dir(ew, 0), *e1 = eik_dir(ew, 1), *e2 = eik_dir(ew, 2);
  double esum = 0, w[6] = {0, 0, 0, 0, 0, 0};

  for (int m0 = 0; m0 <= in->kmax[0]; ++m0) {
    int lo1, hi1;
    kgeom_m1_range(&g, m0, &lo1, &hi1);
    const double *r0 = e0 + (size_t)m0 * 2 * n, *i0 = r0 + n;
    for (int m1 = lo1; m1 <= hi1; ++m1) {
      int lo2, hi2;
      kgeom_m2_range(&g, m0, m1, &lo2, &hi2);
      if (hi2 < lo2) continue;
      const double *r1 = e1 + (size_t)abs(m1) * 2 * n, *i1 = r1 + n;
      const double s1 = m1 < 0 ? -1.0 : 1.0;
      for (int j = 0; j < n; ++j) {
        double a = r0[j], b = i0[j], c = r1[j], d = s1 * i1[j];
        cre[j] = a * c - b * d;
        cim[j] = a * d + b * c;
      }
      if (want_f)
        for (int j = 0; j < n; ++j) ta[j] = tb[j] = 0;
      double kw[3];
      for (int e = 0; e < 3; ++e) kw[e] = m0 * g.v[0][e] + m1 * g.v[1][e];
      for (int m2 = lo2; m2 <= hi2; ++m2) {
        const double *r2 = e2 + (size_t)abs(m2) * 2 * n, *i2 = r2 + n;
        const double s2 = m2 < 0 ? -1.0 : 1.0;
        double sre = 0, sim = 0;
        for (int j = 0; j < n; ++j) {
          double a = cre[j], b = cim[j], c = r2[j], d = s2 * i2[j];
          double xr = a * c - b * d, xi = a * d + b * c;
          ere[j] = xr;
          eim[j] = xi;
          sre += qs[j] * xr;
          sim += qs[j] * xi;
        }
        double k[3] = {kw[0] + m2 * g.v[2][0], kw[1] + m2 * g.v[2][1], kw[2] + m2 * g.v[2][2]};
        double k2 = k[0] * k[0] + k[1] * k[1] + k[2] * k[2];
        double pf = pref0 * exp(-k2 * inv4a2) / k2;
        double s2abs = sre * sre + sim * sim;
        esum += pf * s2abs;
        if (want_w) {
          double t = pf * s2abs, c = 2 * (1.0 / k2 + inv4a2);
          w[0] += t * (c * k[0] * k[0] - 1);
          w[1] += t * (c * k[1] * k[1] - 1);
          w[2] += t * (c * k[2] * k[2] - 1);
          w[3] += t * c * k[1] * k[2];
          w[4] += t * c * k[0] * k[2];
          w[5] += t * c * k[0] * k[1];
        }
        if (want_f) {
          /* F_j = 2 pf q_j Im(conj(S) e_j) k; k = kw + m2 v2 is split so that the per-atom
           * work is two FMAs: ta += c t, tb += c m2 t. */
          double c = 2 * pf, cm = c * m2;
          for (int j = 0; j < n; ++j) {
            double t = qs[j] * (sre * eim[j] - sim * ere[j]);
            ta[j] += c * t;
            tb[j] += cm * t;
          }
        }
      }
      if (want_f) {
        const double *v2 = g.v[2];
        for (int j = 0; j < n; ++j) {
          fx[j] += ta[j] * kw[0] + tb[j] * v2[0];
          fy[j] += ta[j] * kw[1] + tb[j] * v2[1];
          fz[j] += ta[j] * kw[2] + tb[j] * v2[2];
        }
      }
    }
  }
  *energy += esum;
  if (want_f)
    for (int j = 0; j < n; ++j) {
      f[j][0] += fx[j];
      f[j][1] += fy[j];
      f[j][2] += fz[j];
    }
  if (want_w) {
    W[0][0] += w[0];
    W[1][1] += w[1];
    W[2][2] += w[2];
    W[1][2] += w[3];
    W[2][1] += w[3];
    W[0][2] += w[4];
    W[2][0] += w[4];
    W[0][1] += w[5];
    W[1][0] += w[5];
  }
}

ms_err ms_ewald_kspace(ms_ewald ew, unsigned flags, ms_ewald_result *res) {
  MS_CHECK(ew && res, MS_ERR_ARG, "ewald: NULL argument");
  MS_CHECK(ew->have_setup, MS_ERR_STATE, "ewald: ms_ewald_setup has not been called");
  MS_CHECK(!(flags & MS_EWALD_FORCES) || res->forces, MS_ERR_ARG,
           "ewald: forces requested but res->forces is NULL");
  const double alpha = ew->info.alpha;
  double erec = 0;
  if (ew->info.method == MS_EWALD_DIRECT) {
    kspace_direct(ew, flags, &erec, res->forces, res->W);
  } else {
    MS_CALL(ms__pme_compute(ew->pme, ew, flags, &erec, res->forces, res->W));
  }
  double eself = -alpha / SQRT_PI * ew->qs2_sum;
  double ebg = -MS__PI * ew->qs_sum * ew->qs_sum / (2 * ew->vol * alpha * alpha);
  if (flags & MS_EWALD_STRESS)
    for (int d = 0; d < 3; ++d) res->W[d][d] -= ebg;
  res->e_recip += erec;
  res->e_self += eself;
  res->e_background += ebg;
  res->energy += erec + eself + ebg;
  return MS_SUCCESS;
}

ms_err ms_ewald_compute(ms_ewald ew, const ms_cell *c, const double *q, unsigned flags,
                        ms_ewald_result *res) {
  MS_CHECK(ew && c && res, MS_ERR_ARG, "ewald: NULL argument");
  MS_CHECK(!(flags & MS_EWALD_FORCES) || res->forces, MS_ERR_ARG,
           "ewald: forces requested but res->forces is NULL");
  double(*forces)[3] = res->forces;
  memset(res, 0, sizeof *res);
  res->forces = forces;
  res->rmin = INFINITY;
  res->rmin_i = res->rmin_j = -1;
  MS_CALL(ms_ewald_setup(ew, c, q));
  if (flags & MS_EWALD_FORCES) memset(forces, 0, sizeof(double[3]) * (size_t)ew->n);

  real_ctx rc = {.ew = ew, .flags = flags, .f = forces};
  MS_CALL(ms_nlist_foreach_block(&ew->nl, c, ew->info.rcut, real_fused_cb, &rc, NULL));
  /* The neighbour list drops exactly coincident sites (r = 0); it reports them through
   * its shortest distance, so take the smaller of the two. */
  if (ew->nl.rmin < sqrt(ew->rmin2)) {
    ew->rmin2 = ew->nl.rmin * ew->nl.rmin;
    ew->rmin_i = ew->nl.rmin_i;
    ew->rmin_j = ew->nl.rmin_j;
  }
  res->e_real = rc.energy;
  res->energy = rc.energy;
  if (flags & MS_EWALD_STRESS) {
    res->W[0][0] = rc.W[0];
    res->W[1][1] = rc.W[1];
    res->W[2][2] = rc.W[2];
    res->W[1][2] = res->W[2][1] = rc.W[3];
    res->W[0][2] = res->W[2][0] = rc.W[4];
    res->W[0][1] = res->W[1][0] = rc.W[5];
  }
  MS_CALL(ms_ewald_kspace(ew, flags, res));
  ms_ewald_real_status(ew, res);
  return MS_SUCCESS;
}
