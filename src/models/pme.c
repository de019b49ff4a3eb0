/* Smooth particle-mesh Ewald (SPME) for the reciprocal-space part of the Ewald sum.
 *
 * Method (U. Essmann, L. Perera, M. L. Berkowitz, T. Darden, H. Lee, L. G. Pedersen,
 * J. Chem. Phys. 103, 8577 (1995)). With scaled fractional coordinates u_id = K_d f_id on a
 * K_0 x K_1 x K_2 grid and cardinal B-splines M_n of order n:
 *   Q(k)   = sum_i q_i prod_d M_n(u_id - k_d)            (periodic in k_d modulo K_d)
 *   E_rec  = 1/2 sum_{m != 0} G(m) |F(Q)(m)|^2,
 *   G(m)   = exp(-pi^2 |m|^2 / alpha^2) / (pi V |m|^2) * prod_d |b_d(m_d)|^2,
 *   |b_d(m)|^2 = 1 / |sum_{k=0}^{n-2} M_n(k+1) exp(2 pi i m k / K_d)|^2   (Euler exponential
 *   spline factor), m = m_0 b_0 + m_1 b_1 + m_2 b_2 with b_d the reciprocal rows (no 2 pi) and
 *   m_d folded into (-K_d/2, K_d/2]. The energy is in units with K q^2 absorbed in q.
 * Derivatives: dE/dQ(k) = (G * F(Q)) transformed back (an unnormalised inverse FFT), so
 *   dE/du_id = q_i sum_k (dM_n(u_id - k_d)/du) prod_{e != d} M_n(u_ie - k_e) dE/dQ(k),
 * with the exact spline derivative dM_n(x)/dx = M_{n-1}(x) - M_{n-1}(x - 1); forces are then
 * F_i = -sum_d K_d b_d dE/du_id, the exact gradient of the PME energy. Q depends on fractional
 * coordinates only, so under strain only V and m change and
 *   W_ab = sum_m E(m) [-delta_ab + 2 (1 + pi^2 |m|^2 / alpha^2) m_a m_b / |m|^2]
 * is the exact strain derivative of the PME energy (Essmann et al. eq. 2.8 with the opposite
 * sign convention).
 * Odd orders: for odd n and even K_d the sum in |b_d| vanishes at m_d = K_d/2 (the spline
 * interpolant of that Nyquist mode is identically zero), so G is set to 0 on those planes;
 * with a grid chosen for the accuracy the Gaussian factor there is below delta anyway.
 *
 * Transforms: FFTW real-to-complex / complex-to-real 3-D, out of place, planned once per grid
 * shape (FFTW_ESTIMATE by default) and cached (MAX_PLANS shapes, least recently used evicted),
 * executed with the new-array interface on fftw_malloc'ed buffers. The influence function G is
 * cached and recomputed only when the lattice, alpha, grid or order change.
 *
 * Parameters (ms__pme_choose): grid spacing h_d = |a_d| / K_d (|a_d|, not the perpendicular
 * width, bounds the reciprocal index range for skewed cells as in direct Ewald) with
 *   alpha h <= c_n delta^(1/n),
 * c_n measured for n = 3..12 (docs/models.md); K_d rounded up to a 2,3,5,7-smooth number and
 * at least n; the order minimises the cost model ms__pme_cost.
 *
 * Limits: serial FFTs (no MPI-distributed grid); accuracy below ~1e-12 needs high orders and
 * is better served by direct Ewald.
 */
#include "ewald_impl.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PLANS = 8, MAX_ORDER = 12 };

/* c_n: alpha h <= c_n delta^(1/n) keeps the PME energy error below delta E_scale and the RMS
 * force error below delta F_scale (ewald.h). Measured on rattled MgO and SrTiO3 supercells and
 * a triclinic oxide for delta = 1e-3..1e-12 and several alphas (smallest c over the deltas,
 * times 0.85 for safety); docs/models.md has the table. */
static const double c_order[MAX_ORDER + 1] = {0,   0,   0,   1.2, 1.0, 1.25, 1.3,
                                              1.3, 1.2, 1.05, 0.95, 0.9, 0.9};

/* Cost constants (ns), measured like those in ewald.c (MgO supercells of 512 and 4096
 * sites, grids 24^3..96^3, orders 4..12): spreading plus gathering costs ~1.4 ns per atom per
 * spline point, transforms plus grid loops ~1 ns per G log2 G. */
#define COST_SPLINE 1.4 /* per atom per spline point (n^3): spread + gather */
#define COST_FFT 1.0    /* per grid point per log2(points): forward + backward + grid loops */
#define COST_GRID 1.0   /* per grid point: zeroing, influence function, energy, convolution */

typedef struct {
  int K[3];
  fftw_plan fwd, bwd;
  unsigned long last_use;
} plan_entry;

struct ms__pme {
  int order, K[3];
  size_t ngrid, nhalf; /* K0 K1 K2 and K0 K1 (K2/2+1) */
  double *grid;        /* real grid (fftw_malloc) */
  fftw_complex *cgrid; /* half-complex grid */
  size_t grid_cap, cgrid_cap;
  plan_entry plans[MAX_PLANS];
  int nplans;
  unsigned long clock;
  fftw_plan fwd, bwd; /* current */
  /* |b_d(m)|^2 for m = 0..K_d-1 (0 where undefined) */
  double *bmod[3];
  int bmod_cap[3];
  /* influence function on the half grid and what it was made for */
  double *infl;
  size_t infl_cap;
  int infl_valid, infl_K[3], infl_order;
  double infl_L[3][3], infl_alpha;
  /* per atom: spline values, derivatives, grid indices (atom-major: [i][d][j]) */
  double *th, *dth;
  int *gidx;
  size_t atom_cap;
};

/* Smallest 2,3,5,7-smooth integer >= k. */
static int next_smooth(int k) {
  if (k < 1) k = 1;
  for (int m = k;; ++m) {
    int r = m;
    while (r % 2 == 0) r /= 2;
    while (r % 3 == 0) r /= 3;
    while (r % 5 == 0) r /= 5;
    while (r % 7 == 0) r /= 7;
    if (r == 1) return m;
  }
}

void ms__pme_choose(const ms_ewald_params *par, int natoms, double delta, double alpha,
                    const double L[3][3], int *order_out, int grid[3]) {
  int best_order = 0, best_grid[3] = {0, 0, 0};
  double best = INFINITY;
  int lo = par->pme_order ? par->pme_order : 4, hi = par->pme_order ? par->pme_order : 12;
  if (!par->pme_order && par->pme_grid[0] > 0 && par->pme_grid[1] > 0 && par->pme_grid[2] > 0)
    lo = hi = 5; /* a fixed grid without an order: the common default */
  for (int n = lo; n <= hi; ++n) {
    double h = c_order[n] * pow(delta, 1.0 / n) / alpha;
    int K[3];
    for (int d = 0; d < 3; ++d) {
      if (par->pme_grid[d] > 0) {
        K[d] = par->pme_grid[d];
      } else {
        double len = sqrt(L[d][0] * L[d][0] + L[d][1] * L[d][1] + L[d][2] * L[d][2]);
        double kd = ceil(len / h);
        K[d] = next_smooth(kd > 4096 ? 4096 : (int)kd);
        if (K[d] < n) K[d] = next_smooth(n);
      }
    }
    double cost = ms__pme_cost(natoms, n, K);
    if (cost < best) {
      best = cost;
      best_order = n;
      memcpy(best_grid, K, sizeof K);
    }
  }
  *order_out = best_order;
  memcpy(grid, best_grid, sizeof best_grid);
}

double ms__pme_alpha_for_grid(const ms_ewald_params *par, const double L[3][3]) {
  int n = par->pme_order ? par->pme_order : 5;
  double alpha = INFINITY;
  for (int d = 0; d < 3; ++d) {
    double len = sqrt(L[d][0] * L[d][0] + L[d][1] * L[d][1] + L[d][2] * L[d][2]);
    double a = c_order[n] * pow(par->accuracy, 1.0 / n) * par->pme_grid[d] / len;
    if (a < alpha) alpha = a;
  }
  return alpha;
}

double ms__pme_cost(int natoms, int order, const int grid[3]) {
  double pts = (double)grid[0] * grid[1] * grid[2];
  return COST_SPLINE * natoms * (double)order * order * order + COST_FFT * pts * log2(pts + 1) +
         COST_GRID * pts;
}

ms_err ms__pme_create(ms__pme **out) {
  struct ms__pme *p = NULL;
  MS_CALL(MS_CALLOC(1, &p));
  *out = p;
  return MS_SUCCESS;
}

void ms__pme_destroy(ms__pme **pp) {
  if (!pp || !*pp) return;
  ms__pme *p = *pp;
  for (int k = 0; k < p->nplans; ++k) {
    fftw_destroy_plan(p->plans[k].fwd);
    fftw_destroy_plan(p->plans[k].bwd);
  }
  fftw_free(p->grid);
  fftw_free(p->cgrid);
  for (int d = 0; d < 3; ++d) free(p->bmod[d]);
  free(p->infl);
  free(p->th);
  free(p->dth);
  free(p->gidx);
  free(p);
  *pp = NULL;
}

/* Values c[j] = M_n(w + j) and derivatives dc[j] = M_n'(w + j), j = 0..n-1, w in [0, 1),
 * from M_n(x) = [x M_{n-1}(x) + (n - x) M_{n-1}(x - 1)] / (n - 1), M_1 = 1 on [0, 1). */
static void bspline(int n, double w, double *c, double *dc) {
  c[0] = 1.0;
  for (int k = 2; k <= n; ++k) {
    if (k == n && dc) {
      dc[0] = c[0];
      for (int j = 1; j < n - 1; ++j) dc[j] = c[j] - c[j - 1];
      dc[n - 1] = -c[n - 2];
    }
    /* order k from order k-1 (c[0..k-2] valid), in place from the top */
    double inv = 1.0 / (k - 1);
    c[k - 1] = inv * (k - (w + k - 1)) * c[k - 2];
    for (int j = k - 2; j >= 1; --j) c[j] = inv * ((w + j) * c[j] + (k - w - j) * c[j - 1]);
    c[0] = inv * w * c[0];
  }
  if (n == 1 && dc) dc[0] = 0;
}

static ms_err ensure_bmod(ms__pme *p, int d, int K, int n) {
  if (K > p->bmod_cap[d]) {
    free(p->bmod[d]);
    p->bmod[d] = NULL;
    p->bmod_cap[d] = 0;
    MS_CALL(MS_CALLOC((size_t)K, &p->bmod[d]));
    p->bmod_cap[d] = K;
  }
  double mk[MAX_ORDER + 1];
  bspline(n, 0.0, mk, NULL); /* mk[j] = M_n(j), j = 0..n-1; M_n(0) = 0 */
  for (int m = 0; m < K; ++m) {
    double re = 0, im = 0;
    for (int k = 0; k <= n - 2; ++k) {
      double a = 2 * MS__PI * (double)m * k / K;
      re += mk[k + 1] * cos(a);
      im += mk[k + 1] * sin(a);
    }
    double den = re * re + im * im;
    p->bmod[d][m] = den > 1e-10 ? 1.0 / den : 0.0;
  }
  return MS_SUCCESS;
}

static fftw_plan find_plan(ms__pme *p, int which) {
  for (int k = 0; k < p->nplans; ++k)
    if (!memcmp(p->plans[k].K, p->K, sizeof p->K)) {
      p->plans[k].last_use = ++p->clock;
      return which ? p->plans[k].bwd : p->plans[k].fwd;
    }
  return NULL;
}

ms_err ms__pme_setup(ms__pme *p, ms_ewald ew) {
  const ms_ewald_info *in = &ew->info;
  const int n = in->pme_order;
  MS_CHECK(n >= 3 && n <= MAX_ORDER, MS_ERR_INTERNAL, "pme: order %d", n);
  int K[3] = {in->pme_grid[0], in->pme_grid[1], in->pme_grid[2]};
  for (int d = 0; d < 3; ++d)
    MS_CHECK(K[d] >= n, MS_ERR_ARG, "pme: grid %d along lattice vector %d is below order %d",
             K[d], d, n);
  size_t ngrid = (size_t)K[0] * K[1] * K[2], nhalf = (size_t)K[0] * K[1] * (K[2] / 2 + 1);
  int same_shape = !memcmp(p->K, K, sizeof K);
  if (ngrid > p->grid_cap) {
    fftw_free(p->grid);
    p->grid = fftw_alloc_real(ngrid);
    p->grid_cap = p->grid ? ngrid : 0;
    MS_CHECK(p->grid, MS_ERR_MEM, "pme: cannot allocate a %dx%dx%d grid", K[0], K[1], K[2]);
  }
  if (nhalf > p->cgrid_cap) {
    fftw_free(p->cgrid);
    p->cgrid = fftw_alloc_complex(nhalf);
    p->cgrid_cap = p->cgrid ? nhalf : 0;
    MS_CHECK(p->cgrid, MS_ERR_MEM, "pme: cannot allocate a %dx%dx%d grid", K[0], K[1], K[2]);
  }
  if (nhalf > p->infl_cap) {
    free(p->infl);
    p->infl = NULL;
    p->infl_cap = 0;
    MS_CALL(MS_CALLOC(nhalf, &p->infl));
    p->infl_cap = nhalf;
    p->infl_valid = 0;
  }
  memcpy(p->K, K, sizeof K);
  p->ngrid = ngrid;
  p->nhalf = nhalf;
  if (!same_shape || p->order != n) {
    for (int d = 0; d < 3; ++d) MS_CALL(ensure_bmod(p, d, K[d], n));
    p->infl_valid = 0;
  }
  p->order = n;

  p->fwd = find_plan(p, 0);
  p->bwd = find_plan(p, 1);
  if (!p->fwd) {
    if (p->nplans == MAX_PLANS) { /* evict the least recently used shape */
      int old = 0;
      for (int k = 1; k < p->nplans; ++k)
        if (p->plans[k].last_use < p->plans[old].last_use) old = k;
      fftw_destroy_plan(p->plans[old].fwd);
      fftw_destroy_plan(p->plans[old].bwd);
      p->plans[old] = p->plans[--p->nplans];
    }
    unsigned fl = ew->par.fftw_flags;
    fftw_plan f = fftw_plan_dft_r2c_3d(K[0], K[1], K[2], p->grid, p->cgrid, fl);
    fftw_plan b = fftw_plan_dft_c2r_3d(K[0], K[1], K[2], p->cgrid, p->grid, fl);
    if (!f || !b) {
      if (f) fftw_destroy_plan(f);
      if (b) fftw_destroy_plan(b);
      MS_FAIL(MS_ERR_FFTW, "pme: FFTW could not plan a %dx%dx%d transform", K[0], K[1], K[2]);
    }
    plan_entry *e = &p->plans[p->nplans++];
    memcpy(e->K, K, sizeof K);
    e->fwd = f;
    e->bwd = b;
    e->last_use = ++p->clock;
    p->fwd = f;
    p->bwd = b;
  }

  size_t need = (size_t)ew->n * 3 * n;
  if (need > p->atom_cap) {
    free(p->th);
    free(p->dth);
    free(p->gidx);
    p->th = p->dth = NULL;
    p->gidx = NULL;
    p->atom_cap = 0;
    MS_CALL(MS_CALLOC(need, &p->th));
    MS_CALL(MS_CALLOC(need, &p->dth));
    MS_CALL(MS_CALLOC(need, &p->gidx));
    p->atom_cap = need;
  }
  return MS_SUCCESS;
}

/* Influence function G(m) on the half grid (see the top of the file), cached. */
static void influence(ms__pme *p, ms_ewald ew) {
  const double alpha = ew->info.alpha;
  if (p->infl_valid && p->infl_alpha == alpha && p->infl_order == p->order &&
      !memcmp(p->infl_K, p->K, sizeof p->K) && !memcmp(p->infl_L, ew->L, sizeof ew->L))
    return;
  const int K0 = p->K[0], K1 = p->K[1], K2 = p->K[2], H2 = K2 / 2 + 1;
  const double(*B)[3] = ew->B;
  const double fac = MS__PI * MS__PI / (alpha * alpha), pref = 1.0 / (MS__PI * ew->vol);
  for (int i0 = 0; i0 < K0; ++i0) {
    int m0 = i0 <= K0 / 2 ? i0 : i0 - K0;
    for (int i1 = 0; i1 < K1; ++i1) {
      int m1 = i1 <= K1 / 2 ? i1 : i1 - K1;
      double b01 = p->bmod[0][i0] * p->bmod[1][i1];
      double *row = p->infl + ((size_t)i0 * K1 + i1) * H2;
      for (int i2 = 0; i2 < H2; ++i2) {
        double mx = m0 * B[0][0] + m1 * B[1][0] + i2 * B[2][0];
        double my = m0 * B[0][1] + m1 * B[1][1] + i2 * B[2][1];
        double mz = m0 * B[0][2] + m1 * B[1][2] + i2 * B[2][2];
        double m2 = mx * mx + my * my + mz * mz;
        double bb = b01 * p->bmod[2][i2];
        row[i2] = (m2 > 0 && bb > 0) ? pref * bb * exp(-fac * m2) / m2 : 0.0;
      }
    }
  }
  p->infl_valid = 1;
  p->infl_alpha = alpha;
  p->infl_order = p->order;
  memcpy(p->infl_K, p->K, sizeof p->K);
  memcpy(p->infl_L, ew->L, sizeof ew->L);
}

ms_err ms__pme_compute(ms__pme *p, ms_ewald ew, unsigned flags, double *energy,
                       double (*f)[3], double W[3][3]) {
  const int n = p->order, N = ew->n;
  const int K0 = p->K[0], K1 = p->K[1], K2 = p->K[2], H2 = K2 / 2 + 1;
  const int want_f = (flags & MS_EWALD_FORCES) && f;
  const int want_w = (flags & MS_EWALD_STRESS) && W;
  const int Kd[3] = {K0, K1, K2};

  /* Splines and wrapped grid indices: site i touches k_d = floor(u_id) - j, j = 0..n-1. */
  for (int i = 0; i < N; ++i) {
    for (int d = 0; d < 3; ++d) {
      double u = ew->frac[i][d] * Kd[d];
      double fl = floor(u);
      int base = (int)fl;
      double *c = p->th + ((size_t)i * 3 + d) * n, *dc = p->dth + ((size_t)i * 3 + d) * n;
      int *gi = p->gidx + ((size_t)i * 3 + d) * n;
      bspline(n, u - fl, c, dc);
      for (int j = 0; j < n; ++j) {
        int k = base - j;
        k %= Kd[d];
        if (k < 0) k += Kd[d];
        gi[j] = k;
      }
    }
  }

  /* Spread the charges. */
  double *restrict grid = p->grid;
  memset(grid, 0, p->ngrid * sizeof *grid);
  for (int i = 0; i < N; ++i) {
    const double q = ew->qs[i];
    const double *c0 = p->th + (size_t)i * 3 * n, *c1 = c0 + n, *c2 = c1 + n;
    const int *g0 = p->gidx + (size_t)i * 3 * n, *g1 = g0 + n, *g2 = g1 + n;
    for (int j0 = 0; j0 < n; ++j0) {
      double a0 = q * c0[j0];
      size_t o0 = (size_t)g0[j0] * K1;
      for (int j1 = 0; j1 < n; ++j1) {
        double a1 = a0 * c1[j1];
        double *row = grid + (o0 + g1[j1]) * K2;
        for (int j2 = 0; j2 < n; ++j2) row[g2[j2]] += a1 * c2[j2];
      }
    }
  }

  fftw_execute_dft_r2c(p->fwd, p->grid, p->cgrid);
  influence(p, ew);

  /* Energy, strain derivative, and the convolution G F in place. The half-complex array
   * holds m_2 = 0..K2/2; the others appear twice in the full sum (m and -m). */
  const double fac = MS__PI * MS__PI / (ew->info.alpha * ew->info.alpha);
  const double(*B)[3] = ew->B;
  double esum = 0, w[6] = {0, 0, 0, 0, 0, 0};
  for (int i0 = 0; i0 < K0; ++i0) {
    int m0 = i0 <= K0 / 2 ? i0 : i0 - K0;
    for (int i1 = 0; i1 < K1; ++i1) {
      int m1 = i1 <= K1 / 2 ? i1 : i1 - K1;
      size_t off = ((size_t)i0 * K1 + i1) * H2;
      fftw_complex *row = p->cgrid + off;
      const double *G = p->infl + off;
      for (int i2 = 0; i2 < H2; ++i2) {
        double wt = (i2 == 0 || 2 * i2 == K2) ? 0.5 : 1.0;
        double re = row[i2][0], im = row[i2][1], g = G[i2];
        double e = wt * g * (re * re + im * im);
        esum += e;
        if (want_w && e != 0) {
          double mx = m0 * B[0][0] + m1 * B[1][0] + i2 * B[2][0];
          double my = m0 * B[0][1] + m1 * B[1][1] + i2 * B[2][1];
          double mz = m0 * B[0][2] + m1 * B[1][2] + i2 * B[2][2];
          double m2 = mx * mx + my * my + mz * mz;
          double c = 2 * (1 + fac * m2) / m2;
          w[0] += e * (c * mx * mx - 1);
          w[1] += e * (c * my * my - 1);
          w[2] += e * (c * mz * mz - 1);
          w[3] += e * c * my * mz;
          w[4] += e * c * mx * mz;
          w[5] += e * c * mx * my;
        }
        row[i2][0] = g * re;
        row[i2][1] = g * im;
      }
    }
  }
  *energy += esum;
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
  if (!want_f) return MS_SUCCESS;

  /* dE/dQ on the grid, then forces from the spline derivatives. */
  fftw_execute_dft_c2r(p->bwd, p->cgrid, p->grid);
  for (int i = 0; i < N; ++i) {
    const double *c0 = p->th + (size_t)i * 3 * n, *c1 = c0 + n, *c2 = c1 + n;
    const double *d0 = p->dth + (size_t)i * 3 * n, *d1 = d0 + n, *d2 = d1 + n;
    const int *g0 = p->gidx + (size_t)i * 3 * n, *g1 = g0 + n, *g2 = g1 + n;
    double s0 = 0, s1 = 0, s2 = 0;
    for (int j0 = 0; j0 < n; ++j0) {
      size_t o0 = (size_t)g0[j0] * K1;
      double t0 = 0, t1 = 0, t2 = 0;
      for (int j1 = 0; j1 < n; ++j1) {
        const double *row = grid + (o0 + g1[j1]) * K2;
        double v = 0, vd = 0;
        for (int j2 = 0; j2 < n; ++j2) {
          double x = row[g2[j2]];
          v += c2[j2] * x;
          vd += d2[j2] * x;
        }
        t0 += c1[j1] * v;
        t1 += d1[j1] * v;
        t2 += c1[j1] * vd;
      }
      s0 += d0[j0] * t0;
      s1 += c0[j0] * t1;
      s2 += c0[j0] * t2;
    }
    double q = ew->qs[i];
    double du[3] = {q * s0 * K0, q * s1 * K1, q * s2 * K2}; /* dE/df_d */
    for (int e = 0; e < 3; ++e)
      f[i][e] -= du[0] * B[0][e] + du[1] * B[1][e] + du[2] * B[2][e];
  }
  return MS_SUCCESS;
}
