/* Relaxation of positions and cell with PETSc TAO (see relax.h for the contract and
 * docs/models.md, "Relaxation", for the choices and the measurements behind them).
 *
 * Objective and variables. The objective is the enthalpy H = E + P V. The variables are
 *   x_i = c u_i              u_i = f_i L0: the position of atom i in the START cell (Å),
 *   y_k = c s e_k            e_k: cell deformation coordinates relative to L0,
 * with c = sqrt(stiffness) ((eV/Å^2)^(1/2)) and s = V0^(1/3) (Å) by default. Why these:
 * - Positions expressed in the start cell do not move when the cell changes, so the position
 *   and cell blocks of the Hessian are nearly decoupled (the usual "fractional coordinates
 *   times L0" choice); their gradient is dH/du_i = -F_i M^T with M = L0^-1 L.
 * - s puts a unit of cell strain on the scale of a displacement across the cell. Several
 *   choices N^p (V0/N)^(1/3) were measured on the benchmark set (docs/models.md): p = 1/4 and
 *   1/3 are best and equal, p = 1/2 needs 25 % more energy evaluations, p = 1 (s = N Å, the
 *   cell factor of ASE's filters) 2.5 times more. p = 1/3 is s = V0^(1/3).
 * - c turns eV/Å gradients into steps of about 1/stiffness Å per eV/Å, so that the very
 *   first quasi-Newton step (before any curvature is known) is of a sensible size.
 * - The cell coordinates are orthonormal combinations of strain components (Frobenius inner
 *   product: diagonal entries, off-diagonal pairs divided by sqrt 2, the volume mode I/sqrt 3),
 *   so the point group of the start acts on (x, y) by orthogonal matrices. L-BFGS with a scalar
 *   initial Hessian is then equivariant and a symmetric start stays symmetric to rounding.
 *
 * Objective seen by TAO. Near a minimum the energy changes between trial points become
 * smaller than the noise of the energy itself (pair terms truncated at their cutoffs jump by
 * ~1e-5 eV when a pair crosses; the Ewald k-vector set changes with the cell), while forces
 * and stress stay accurate, and a line search on the energy then fails. TAO is therefore given
 * f(x) = F(b) + dH, with b the last accepted iterate and dH either the true change
 * H(x) - H(b) or, when it agrees with it to within the noise level
 * 1e-6 |H| + 1e-5 N eV, the trapezoid estimate (g(b) + g(x)) . (x - b) / 2, which is exact for
 * a quadratic and consistent with the gradients. Far from the minimum the two differ and the
 * true energy is used, so a step over a barrier is still seen. Energies reported are always
 * the true ones.
 *
 * Statuses of trial points. A trial structure that is degenerate, collapsed, overlapping,
 * non-finite or outside the cell bounds is not evaluated further: the objective returns a
 * large value (1e3 (1 + |H0|) above the base) and a zero gradient so that the line search
 * backs off. If the line search then fails, or BAD_STREAK_MAX successive line searches ran
 * into rejected points (the minimum lies beyond a bound), the relaxation ends with the status
 * of the rejected point.
 *
 * Symmetrisation (optional): spglib's operations (W, t) of the start structure, W acting on
 * fractional columns. In the current Cartesian frame (rows) an operation is R = L^-1 W^T L; a
 * symmetric structure has F_perm(i) = F_i R^-T and W = R^T W R, and the symmetrised force and
 * strain derivative are the group averages of those images. */
#include "matscreen/relax.h"

#include <math.h>
#include <mpi.h>
#include <petsctao.h>
#include <spglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/petsc_error.h"
#include "relax/relax_impl.h"

#define SQRT2 1.4142135623730951
#define SQRT3 1.7320508075688772
/* Consecutive line searches with rejected trial points after which the relaxation stops. */
#define BAD_STREAK_MAX 5
/* Fresh TaoSolve calls after a failed line search (see ms_relax_run). */
#define MAX_RESTARTS 50
/* A solve "made progress" when it lowered the enthalpy by more than this, eV/atom. */
#define PROGRESS_TOL 1e-10
/* A minimum at a kink of the energy is reported converged only when its residual force and
 * stress are within this factor of the tolerances (see probe_descent). */
#define KINK_FACTOR 10.0
/* An iteration whose line search needed this many evaluations for less than PROGRESS_TOL is
 * crawling along a kink: probe (probe_descent) instead of going on. */
#define CRAWL_EVALS 15

struct sort_key {
  double x;
  int i;
};

struct ms_relax_s {
  ms_model model;              /* borrowed */
  ms_relax_options opt;
  /* TAO and its vector, for nvar_tao variables */
  Tao tao;
  Vec xv;
  int nvar_tao;
  char tao_type[64];
  /* the structure being relaxed */
  int natoms, ncell, nvar;
  ms_cell work;                /* trial structure handed to the model */
  double L0[3][3], L0inv[3][3], V0, len0[3], sign0;
  double c, s, P;              /* scales; external pressure in eV/Å^3 */
  double H_bad;
  /* the latest evaluation (a cache: TAO asks again for points it already has) */
  double *xc, *gc;             /* variables and gradient */
  double cF;                   /* the objective value TAO was given there */
  double *xb, *gb, Hb, Fb;     /* base point of the current line search (last accepted) */
  int xcap;
  int have_cache, have_grad;
  double (*F)[3];              /* forces of the latest evaluation (symmetrised) */
  double (*Fraw)[3];
  int fcap;
  double cH, cE, cV, cW[3][3], cfmax, csmax;
  ms_status cst;
  char cdetail[256];
  int evals;
  /* rejected trial points since the last accepted iterate */
  int bad_count, bad_last_ls, bad_streak;
  ms_status bad_status;
  char bad_detail[256];
  double prev_H;
  int etol_hit;
  int kink;                    /* stopped at a minimum where the energy is not smooth */
  int crawl;                   /* conv_test ended a solve that crawled (see CRAWL_EVALS) */
  int evals_at_test;           /* evaluations when conv_test last ran */
  ms_err cb_err;               /* error raised inside a TAO callback */
  /* symmetry operations of the start */
  int nsym, symcap, permcap;
  int (*rot)[3][3];
  double (*trans)[3];
  int *perm;                   /* nsym x natoms */
  int *types;
  struct sort_key *sorted;     /* sites by wrapped fractional x, for matching images */
};

/* ------------------------------------------------------------------------ small algebra */
static void mul3(const double a[3][3], const double b[3][3], double out[3][3]) {
  double t[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) t[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
  memcpy(out, t, sizeof t);
}

static double norm3(const double v[3]) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

/* ------------------------------------------------------------------------ options */
void ms_relax_options_default(ms_relax_options *o) {
  memset(o, 0, sizeof *o);
  o->cell = MS_RELAX_FULL;
  o->fmax = 0.01;
  o->smax = 0.05;
  o->etol = 0;
  o->pressure = 0;
  o->max_steps = 1000;
  o->max_evals = 0;
  o->symmetrize = 0;
  o->symprec = 1e-5;
  o->vmin = 0.2;
  o->vmax = 5.0;
  o->lmax = 5.0;
  o->min_width = 0.5;
  o->max_volume_per_atom = 500.0;
  o->min_energy_per_atom = -500.0;
  o->cell_scale = 0;
  o->stiffness = 20.0;
  o->petsc_options = NULL;
}

static const char *const cell_names[] = {"fixed", "iso", "aniso", "full"};

const char *ms_relax_cell_name(ms_relax_cell mode) {
  return (mode >= MS_RELAX_FIXED && mode <= MS_RELAX_FULL) ? cell_names[mode] : "unknown";
}

ms_err ms_relax_cell_from_name(const char *name, ms_relax_cell *mode) {
  for (int k = 0; k < 4; ++k)
    if (name && strcmp(name, cell_names[k]) == 0) {
      *mode = (ms_relax_cell)k;
      return MS_SUCCESS;
    }
  MS_FAIL(MS_ERR_USAGE, "unknown cell relaxation '%s' (valid: fixed, iso, aniso, full)",
          name ? name : "(null)");
}

static ms_err check_options(const ms_relax_options *o) {
  MS_CHECK(o->cell >= MS_RELAX_FIXED && o->cell <= MS_RELAX_FULL, MS_ERR_ARG,
           "relax: cell mode %d is not one of fixed, iso, aniso, full", (int)o->cell);
  MS_CHECK(o->fmax > 0 && isfinite(o->fmax), MS_ERR_ARG, "relax: fmax must be > 0 eV/Å, got %g", o->fmax);
  MS_CHECK(o->smax > 0 && isfinite(o->smax), MS_ERR_ARG, "relax: smax must be > 0 GPa, got %g", o->smax);
  MS_CHECK(o->etol >= 0 && isfinite(o->etol), MS_ERR_ARG, "relax: etol must be >= 0 eV/atom, got %g", o->etol);
  MS_CHECK(isfinite(o->pressure) && fabs(o->pressure) <= 1e4, MS_ERR_ARG,
           "relax: pressure must be a finite number of GPa below 1e4 in size, got %g", o->pressure);
  MS_CHECK(o->max_steps >= 0 && o->max_steps <= 100000000, MS_ERR_ARG,
           "relax: max_steps must be in [0, 1e8], got %d", o->max_steps);
  MS_CHECK(o->max_evals >= 0, MS_ERR_ARG, "relax: max_evals must be >= 0, got %d", o->max_evals);
  MS_CHECK(o->symprec > 0 && o->symprec < 1, MS_ERR_ARG, "relax: symprec must be in (0, 1) Å, got %g", o->symprec);
  MS_CHECK(o->vmin > 0 && o->vmin < 1 && o->vmax > 1 && isfinite(o->vmax), MS_ERR_ARG,
           "relax: volume bounds must satisfy 0 < vmin < 1 < vmax, got %g and %g", o->vmin, o->vmax);
  MS_CHECK(o->lmax > 1 && isfinite(o->lmax), MS_ERR_ARG, "relax: lmax must be > 1, got %g", o->lmax);
  MS_CHECK(o->min_width >= 0 && isfinite(o->min_width), MS_ERR_ARG,
           "relax: min_width must be >= 0 Å, got %g", o->min_width);
  MS_CHECK(o->max_volume_per_atom > 0, MS_ERR_ARG, "relax: max_volume_per_atom must be > 0, got %g",
           o->max_volume_per_atom);
  MS_CHECK(o->min_energy_per_atom < 0 && isfinite(o->min_energy_per_atom), MS_ERR_ARG,
           "relax: min_energy_per_atom must be a negative number of eV, got %g", o->min_energy_per_atom);
  MS_CHECK(o->cell_scale >= 0 && isfinite(o->cell_scale), MS_ERR_ARG,
           "relax: cell_scale must be >= 0 Å (0: automatic), got %g", o->cell_scale);
  MS_CHECK(o->stiffness > 0 && isfinite(o->stiffness), MS_ERR_ARG,
           "relax: stiffness must be > 0 eV/Å^2, got %g", o->stiffness);
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------ variables */
static int ncell_of(ms_relax_cell mode) {
  static const int n[] = {0, 1, 3, 6};
  return n[mode];
}

/* Lattice at the cell coordinates y (see the file comment). */
static void lattice_of(const ms_relax r, const double *y, double L[3][3]) {
  double k = 1.0 / (r->c * r->s);
  switch (r->opt.cell) {
    case MS_RELAX_FIXED:
      memcpy(L, r->L0, sizeof r->L0);
      break;
    case MS_RELAX_ISO: {
      double t = 1.0 + y[0] * k / SQRT3;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) L[i][j] = t * r->L0[i][j];
      break;
    }
    case MS_RELAX_ANISO:
      for (int i = 0; i < 3; ++i) {
        double t = 1.0 + y[i] * k;
        for (int j = 0; j < 3; ++j) L[i][j] = t * r->L0[i][j];
      }
      break;
    case MS_RELAX_FULL: {
      double D[3][3];
      D[0][0] = 1.0 + y[0] * k;
      D[1][1] = 1.0 + y[1] * k;
      D[2][2] = 1.0 + y[2] * k;
      D[1][2] = D[2][1] = y[3] * k / SQRT2;
      D[0][2] = D[2][0] = y[4] * k / SQRT2;
      D[0][1] = D[1][0] = y[5] * k / SQRT2;
      mul3(r->L0, D, L);
      break;
    }
  }
}

void ms__relax_structure(const ms_relax r, const double *x, ms_cell *out) {
  double L[3][3];
  lattice_of(r, x + 3 * r->natoms, L);
  memcpy(out->lattice, L, sizeof L);
  double ic = 1.0 / r->c;
  for (int i = 0; i < r->natoms; ++i) {
    double u[3] = {x[3 * i] * ic, x[3 * i + 1] * ic, x[3 * i + 2] * ic};
    for (int b = 0; b < 3; ++b)
      out->frac[i][b] = u[0] * r->L0inv[0][b] + u[1] * r->L0inv[1][b] + u[2] * r->L0inv[2][b];
  }
}

void ms__relax_start(const ms_relax r, double *x) {
  for (int i = 0; i < r->natoms; ++i)
    for (int b = 0; b < 3; ++b) {
      const double *f = r->work.frac[i];
      /* the prepared work cell holds the start; u = f L0 */
      x[3 * i + b] = r->c * (f[0] * r->L0[0][b] + f[1] * r->L0[1][b] + f[2] * r->L0[2][b]);
    }
  for (int k = 0; k < r->ncell; ++k) x[3 * r->natoms + k] = 0.0;
}

/* ------------------------------------------------------------------------ symmetry */
static int cmp_key(const void *a, const void *b) {
  double x = ((const struct sort_key *)a)->x, y = ((const struct sort_key *)b)->x;
  return (x > y) - (x < y);
}

static ms_err symmetry_setup(ms_relax r, const ms_cell *c) {
  r->nsym = 1;
  if (!r->opt.symmetrize || c->natoms == 0) return MS_SUCCESS;
  int n = c->natoms;
  int maxops = 48 * n;
  if (maxops > r->symcap) {
    MS_CALL(MS_REALLOC((size_t)maxops, &r->rot));
    MS_CALL(MS_REALLOC((size_t)maxops, &r->trans));
    r->symcap = maxops;
  }
  MS_CALL(MS_REALLOC((size_t)n, &r->types));
  double lat[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) lat[j][i] = c->lattice[i][j]; /* spglib: columns */
  for (int i = 0; i < n; ++i) r->types[i] = c->kind[i];
  int nops = spg_get_symmetry(r->rot, r->trans, maxops, lat, (double (*)[3])c->frac, r->types, n,
                              r->opt.symprec);
  if (nops <= 1) return MS_SUCCESS;
  if ((long)nops * n > r->permcap) {
    MS_CALL(MS_REALLOC((size_t)nops * (size_t)n, &r->perm));
    r->permcap = nops * n;
  }
  /* Map every site through every operation; an operation that does not map the structure
   * onto itself within the tolerance is dropped (it cannot be, spglib found it, but the
   * matching below is done independently and must not be trusted blindly). Supercells have
   * 48 x (number of primitive cells) operations, so the sites are sorted by their wrapped
   * fractional x and each image is compared with the sites in a window around its x only. */
  MS_CALL(MS_REALLOC((size_t)n, &r->sorted));
  for (int i = 0; i < n; ++i) {
    r->sorted[i].x = c->frac[i][0] - floor(c->frac[i][0]);
    r->sorted[i].i = i;
  }
  qsort(r->sorted, (size_t)n, sizeof *r->sorted, cmp_key);
  double tol = 4 * r->opt.symprec, w[3];
  ms_cell_widths(c, w);
  double tolx = tol / w[0] + 1e-12; /* a Cartesian distance tol moves x by at most tol / width */
  int kept = 0;
  for (int o = 0; o < nops; ++o) {
    int ok = 1;
    int *p = r->perm + (size_t)kept * n;
    for (int i = 0; i < n && ok; ++i) {
      double fi[3];
      for (int a = 0; a < 3; ++a)
        fi[a] = r->rot[o][a][0] * c->frac[i][0] + r->rot[o][a][1] * c->frac[i][1] +
                r->rot[o][a][2] * c->frac[i][2] + r->trans[o][a];
      double x = fi[0] - floor(fi[0]);
      p[i] = -1;
      /* the window [x - tolx, x + tolx] on the circle [0, 1): up to two intervals */
      double lo[2] = {x - tolx, 0}, hi[2] = {x + tolx, -1};
      if (lo[0] < 0) {
        lo[1] = lo[0] + 1;
        hi[1] = 1;
        lo[0] = 0;
      } else if (hi[0] >= 1) {
        lo[1] = 0;
        hi[1] = hi[0] - 1;
        hi[0] = 1;
      }
      for (int part = 0; part < 2 && p[i] < 0; ++part) {
        int a0 = 0, a1 = n; /* first sorted entry with x >= lo */
        while (a0 < a1) {
          int mid = (a0 + a1) / 2;
          if (r->sorted[mid].x < lo[part])
            a0 = mid + 1;
          else
            a1 = mid;
        }
        for (int k = a0; k < n && r->sorted[k].x <= hi[part]; ++k) {
          int j = r->sorted[k].i;
          if (c->kind[j] != c->kind[i]) continue;
          double d[3], dc[3];
          for (int a = 0; a < 3; ++a) {
            d[a] = fi[a] - c->frac[j][a];
            d[a] -= nearbyint(d[a]);
          }
          for (int b = 0; b < 3; ++b)
            dc[b] = d[0] * c->lattice[0][b] + d[1] * c->lattice[1][b] + d[2] * c->lattice[2][b];
          if (norm3(dc) < tol) {
            p[i] = j;
            break;
          }
        }
      }
      if (p[i] < 0) ok = 0;
    }
    if (!ok) continue;
    if (kept != o) {
      memcpy(r->rot[kept], r->rot[o], sizeof r->rot[0]);
      memcpy(r->trans[kept], r->trans[o], sizeof r->trans[0]);
    }
    ++kept;
  }
  r->nsym = kept > 0 ? kept : 1;
  return MS_SUCCESS;
}

/* Group averages of the forces and the strain derivative at lattice L (see file comment). */
static void symmetrize(ms_relax r, const double L[3][3], double (*F)[3], double W[3][3]) {
  int n = r->natoms, ns = r->nsym;
  double Linv[3][3];
  ms_mat3_inv(L, Linv);
  double Wsum[3][3] = {{0}};
  memset(r->Fraw, 0, sizeof(double[3]) * (size_t)n);
  for (int o = 0; o < ns; ++o) {
    double Wt[3][3], R[3][3], Ri[3][3], tmp[3][3];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) Wt[a][b] = r->rot[o][b][a];
    mul3(Linv, Wt, tmp);
    mul3(tmp, L, R);
    ms_mat3_inv(R, Ri);
    /* forces: F_perm(i) += F_i R^-T, i.e. component b = sum_a F_a Ri[b][a] */
    const int *p = r->perm + (size_t)o * n;
    for (int i = 0; i < n; ++i)
      for (int b = 0; b < 3; ++b)
        r->Fraw[p[i]][b] += F[i][0] * Ri[b][0] + F[i][1] * Ri[b][1] + F[i][2] * Ri[b][2];
    /* strain derivative: R^T W R */
    double RT[3][3];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) RT[a][b] = R[b][a];
    mul3(RT, W, tmp);
    mul3(tmp, R, tmp);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) Wsum[a][b] += tmp[a][b];
  }
  for (int i = 0; i < n; ++i)
    for (int b = 0; b < 3; ++b) F[i][b] = r->Fraw[i][b] / ns;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) W[a][b] = 0.5 * (Wsum[a][b] + Wsum[b][a]) / ns;
}

/* ------------------------------------------------------------------------ evaluation */
static void reject(ms_relax r, ms_status st, const char *detail, double *H, double *g) {
  *H = r->Hb + r->H_bad;
  if (g) memset(g, 0, sizeof(double) * (size_t)r->nvar);
  r->cst = st;
  snprintf(r->cdetail, sizeof r->cdetail, "%s", detail);
  r->cH = *H;
  r->cE = NAN;
  r->cfmax = r->csmax = INFINITY;
  r->bad_status = st;
  snprintf(r->bad_detail, sizeof r->bad_detail, "%s", detail);
  r->bad_count++;
  memset(r->gc, 0, sizeof(double) * (size_t)r->nvar);
  r->have_grad = 1;
}

/* Bounds on the trial cell; fills @p why and returns 0 when the cell is out of bounds. */
static int cell_in_bounds(const ms_relax r, const double L[3][3], double *V, char *why, size_t len) {
  double d = ms_mat3_det(L);
  *V = fabs(d);
  if (!(d * r->sign0 > 0) || !isfinite(d)) {
    snprintf(why, len, "the cell turned inside out (volume %.4g Å^3)", d * r->sign0);
    return 0;
  }
  double ratio = *V / r->V0;
  if (ratio < r->opt.vmin || ratio > r->opt.vmax) {
    snprintf(why, len, "volume %.4g Å^3 is %.3g times the start (allowed %g to %g)", *V, ratio,
             r->opt.vmin, r->opt.vmax);
    return 0;
  }
  for (int k = 0; k < 3; ++k) {
    double l = norm3(L[k]);
    if (l > r->opt.lmax * r->len0[k]) {
      snprintf(why, len, "lattice vector %d grew to %.4g Å, %.3g times its start (allowed %g)",
               k + 1, l, l / r->len0[k], r->opt.lmax);
      return 0;
    }
  }
  ms_cell tmp;
  memcpy(tmp.lattice, L, sizeof tmp.lattice);
  double w[3];
  ms_cell_widths(&tmp, w);
  for (int k = 0; k < 3; ++k)
    if (w[k] < r->opt.min_width) {
      snprintf(why, len, "cell width %d is %.4g Å, below %g Å", k + 1, w[k], r->opt.min_width);
      return 0;
    }
  return 1;
}

ms_err ms__relax_eval(ms_relax r, const double *x, double *H, double *g, ms_status *st) {
  int n = r->natoms;
  r->evals++;
  memcpy(r->xc, x, sizeof(double) * (size_t)r->nvar);
  r->have_cache = 1;

  double L[3][3], V = 0;
  char why[256];
  lattice_of(r, x + 3 * n, L);
  if (!cell_in_bounds(r, L, &V, why, sizeof why)) {
    reject(r, MS_STATUS_EXPLODED, why, H, g);
    *st = r->cst;
    return MS_SUCCESS;
  }
  ms__relax_structure(r, x, &r->work);

  ms_model_result res;
  res.forces = r->F;
  MS_CALL(ms_model_compute(r->model, &r->work, MS_MODEL_ALL, &res));
  if (res.status != MS_STATUS_OK) {
    reject(r, res.status, res.detail, H, g);
    *st = r->cst;
    return MS_SUCCESS;
  }
  double W[3][3];
  memcpy(W, res.W, sizeof W);
  if (r->nsym > 1) symmetrize(r, L, r->F, W);
  double h = res.energy + r->P * V;
  if (!isfinite(h)) {
    reject(r, MS_STATUS_NAN, "energy not finite", H, g);
    *st = r->cst;
    return MS_SUCCESS;
  }
  if (n > 0 && h / n < r->opt.min_energy_per_atom) {
    snprintf(why, sizeof why, "enthalpy %.6g eV/atom is below the sanity bound %g eV/atom", h / n,
             r->opt.min_energy_per_atom);
    reject(r, MS_STATUS_COLLAPSED, why, H, g);
    *st = r->cst;
    return MS_SUCCESS;
  }

  /* Residuals of the convergence test. */
  double Wt[3][3];
  memcpy(Wt, W, sizeof Wt);
  for (int a = 0; a < 3; ++a) Wt[a][a] += r->P * V;
  double fmax = 0;
  for (int i = 0; i < n; ++i) {
    double f = norm3(r->F[i]);
    if (f > fmax || !isfinite(f)) fmax = f;
  }
  double Linv[3][3];
  ms_mat3_inv(L, Linv);
  double smax = 0, gp = MS_EV_PER_A3_IN_GPA / V;
  switch (r->opt.cell) {
    case MS_RELAX_FIXED:
      break;
    case MS_RELAX_ISO:
      smax = fabs(Wt[0][0] + Wt[1][1] + Wt[2][2]) / 3.0 * gp;
      break;
    case MS_RELAX_ANISO: {
      double t[3][3];
      mul3(L, Wt, t);
      mul3(t, Linv, t);
      for (int k = 0; k < 3; ++k)
        if (fabs(t[k][k]) * gp > smax) smax = fabs(t[k][k]) * gp;
      break;
    }
    case MS_RELAX_FULL:
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          if (fabs(Wt[a][b]) * gp > smax) smax = fabs(Wt[a][b]) * gp;
      break;
  }

  if (g) {
    /* positions: dH/dx_i = -F_i M^T / c with M = L0^-1 L */
    double M[3][3];
    mul3(r->L0inv, L, M);
    double ic = 1.0 / r->c;
    for (int i = 0; i < n; ++i)
      for (int a = 0; a < 3; ++a)
        g[3 * i + a] = -(r->F[i][0] * M[a][0] + r->F[i][1] * M[a][1] + r->F[i][2] * M[a][2]) * ic;
    /* cell: A = dH/dL = L^-T Wt, then the chain rule of lattice_of */
    if (r->ncell) {
      double A[3][3];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          A[a][b] = Linv[0][a] * Wt[0][b] + Linv[1][a] * Wt[1][b] + Linv[2][a] * Wt[2][b];
      double k = 1.0 / (r->c * r->s);
      double *gy = g + 3 * n;
      if (r->opt.cell == MS_RELAX_ISO) {
        double s = 0;
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) s += A[a][b] * r->L0[a][b];
        gy[0] = s * k / SQRT3;
      } else if (r->opt.cell == MS_RELAX_ANISO) {
        for (int a = 0; a < 3; ++a) gy[a] = (A[a][0] * r->L0[a][0] + A[a][1] * r->L0[a][1] + A[a][2] * r->L0[a][2]) * k;
      } else {
        double G[3][3]; /* dH/d(eps) = L0^T A */
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b)
            G[a][b] = r->L0[0][a] * A[0][b] + r->L0[1][a] * A[1][b] + r->L0[2][a] * A[2][b];
        gy[0] = G[0][0] * k;
        gy[1] = G[1][1] * k;
        gy[2] = G[2][2] * k;
        gy[3] = (G[1][2] + G[2][1]) * k / SQRT2;
        gy[4] = (G[0][2] + G[2][0]) * k / SQRT2;
        gy[5] = (G[0][1] + G[1][0]) * k / SQRT2;
      }
    }
  }
  if (g) {
    if (g != r->gc) memcpy(r->gc, g, sizeof(double) * (size_t)r->nvar);
    r->have_grad = 1;
  } else {
    r->have_grad = 0;
  }
  r->cst = MS_STATUS_OK;
  r->cdetail[0] = '\0';
  r->cH = h;
  r->cE = res.energy;
  r->cV = V;
  memcpy(r->cW, W, sizeof W);
  r->cfmax = fmax;
  r->csmax = smax;
  *H = h;
  *st = MS_STATUS_OK;
  return MS_SUCCESS;
}

static int cache_matches(const ms_relax r, const double *x) {
  return r->have_cache && memcmp(r->xc, x, sizeof(double) * (size_t)r->nvar) == 0;
}

/* ------------------------------------------------------------------------ TAO callbacks */
/* The value handed to TAO at x (see "Objective seen by TAO" in the file comment): the change
 * from the base point b (the last accepted iterate) is the true change H(x) - H(b) unless the
 * trapezoid estimate (g(b) + g(x)) . (x - b) / 2 agrees with it to within the noise level of
 * the energy, in which case the trapezoid is used. */
static double tao_value(const ms_relax r, const double *x, double H, const double *g, ms_status st) {
  if (st != MS_STATUS_OK) return r->Fb + r->H_bad;
  double dtrue = H - r->Hb, dtrap = 0;
  for (int k = 0; k < r->nvar; ++k) dtrap += (r->gb[k] + g[k]) * (x[k] - r->xb[k]);
  dtrap *= 0.5;
  double noise = 1e-6 * fabs(H) + 1e-5 * r->natoms;
  return r->Fb + (fabs(dtrue - dtrap) <= noise ? dtrap : dtrue);
}

/* Make the cached point the base of the next line search. */
static void set_base(ms_relax r) {
  memcpy(r->xb, r->xc, sizeof(double) * (size_t)r->nvar);
  memcpy(r->gb, r->gc, sizeof(double) * (size_t)r->nvar);
  r->Hb = r->cH;
  r->Fb = r->cF;
}

static PetscErrorCode objgrad(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx) {
  (void)tao;
  ms_relax r = ctx;
  if (r->cb_err) return PETSC_ERR_USER;
  const PetscScalar *x = NULL;
  PetscScalar *g = NULL;
  PetscErrorCode pe = VecGetArrayRead(X, &x);
  if (pe) return pe;
  pe = VecGetArray(G, &g);
  if (pe) return pe;
  if (cache_matches(r, x) && r->have_grad) {
    /* TAO asks again for a point it has (the start, a restored iterate): no new evaluation */
    memcpy(g, r->gc, sizeof(double) * (size_t)r->nvar);
  } else {
    ms_status st;
    double H = 0;
    r->cb_err = ms__relax_eval(r, x, &H, g, &st);
    if (!r->cb_err) r->cF = tao_value(r, x, H, g, st);
  }
  *f = r->cF;
  pe = VecRestoreArray(G, &g);
  if (!pe) pe = VecRestoreArrayRead(X, &x);
  if (r->cb_err) return PETSC_ERR_USER;
  return pe;
}

/*
 * After a line search failed without any progress from a fresh start (steepest descent): try
 * steps along the negative gradient from the last accepted point, the largest variable change
 * 1e-2 down to 1e-7. With a correct, continuous gradient and a gradient above tolerance, one of
 * these steps lowers the enthalpy by more than 1e-6 eV/atom; when none does, the point is (to
 * that precision) a minimum where the energy is not differentiable (for M3GNet's Bessel basis,
 * a bond at the 5 Å cutoff, where forces jump), and no gradient tolerance can be met there. *found = 1 when a lower point exists (with @p move, the solution
 * vector and the line-search base are moved there), 0 for such a kink. Without @p move the
 * cached evaluation is restored to the base point, so the iteration goes on as if nothing had
 * been tried (one more evaluation).
 */
static ms_err probe_descent(ms_relax r, int move, int *found) {
  *found = 0;
  double gmax = 0;
  for (int k = 0; k < r->nvar; ++k)
    if (fabs(r->gb[k]) > gmax) gmax = fabs(r->gb[k]);
  if (!(gmax > 0)) return MS_SUCCESS;
  double *x = malloc(sizeof(double) * (size_t)r->nvar), *g = malloc(sizeof(double) * (size_t)r->nvar);
  ms_err e = x && g ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  /* Lower by less than this is no progress worth a restart (1e-6 eV/atom: far below any energy
   * difference a screen ranks on, far above the round-off of the energies; a smooth minimum
   * with a force residual above the tolerance gives far more along the gradient). */
  const double Hb = r->Hb, tol = 1e-6 * r->natoms;
  for (int p = 2; p <= 7 && !e && !*found; ++p) {
    double a = pow(10.0, -p) / gmax;
    for (int k = 0; k < r->nvar; ++k) x[k] = r->xb[k] - a * r->gb[k];
    double H = 0;
    ms_status st = MS_STATUS_OK;
    e = ms__relax_eval(r, x, &H, g, &st);
    if (!e && st == MS_STATUS_OK && H < Hb - tol) {
      *found = 1;
      if (!move) break;
      r->cF = tao_value(r, x, H, g, st);
      set_base(r);
      PetscScalar *xv = NULL;
      if (VecGetArray(r->xv, &xv) == 0) {
        memcpy(xv, x, sizeof(double) * (size_t)r->nvar);
        VecRestoreArray(r->xv, &xv);
      }
    }
  }
  if (!e && !move) {
    /* restore the cache (TAO's next request, the result) to the base point */
    double H = 0;
    ms_status st = MS_STATUS_OK;
    memcpy(x, r->xb, sizeof(double) * (size_t)r->nvar);
    e = ms__relax_eval(r, x, &H, g, &st);
    if (!e) r->cF = r->Fb;
  }
  free(x);
  free(g);
  return e;
}

static PetscErrorCode conv_test(Tao tao, void *ctx) {
  ms_relax r = ctx;
  if (r->cb_err) return PETSC_ERR_USER;
  TaoConvergedReason reason;
  PetscErrorCode pe = TaoGetConvergedReason(tao, &reason);
  if (pe) return pe;
  Vec X;
  pe = TaoGetSolution(tao, &X);
  if (pe) return pe;
  const PetscScalar *x = NULL;
  pe = VecGetArrayRead(X, &x);
  if (pe) return pe;
  if (!cache_matches(r, x) || !r->have_grad) {
    double H;
    ms_status st;
    /* the rejected-point counter belongs to the line search; this is not one of its points */
    int keep = r->bad_count;
    r->cb_err = ms__relax_eval(r, x, &H, r->gc, &st);
    if (!r->cb_err) r->cF = tao_value(r, x, H, r->gc, st);
    r->bad_count = keep;
  }
  pe = VecRestoreArrayRead(X, &x);
  if (r->cb_err) return PETSC_ERR_USER;
  if (pe) return pe;
  if (r->cst == MS_STATUS_OK) set_base(r);
  r->bad_last_ls = r->bad_count;
  /* Line searches that keep running into rejected points mean the minimum lies beyond a bound
   * (the relaxation crawls along it): stop with the rejected points' status. */
  r->bad_streak = r->bad_count > 0 ? r->bad_streak + 1 : 0;
  r->bad_count = 0;
  if (r->bad_streak >= BAD_STREAK_MAX && r->bad_status != MS_STATUS_OK)
    return TaoSetConvergedReason(tao, TAO_DIVERGED_USER);
  PetscInt its = 0;
  TaoGetIterationNumber(tao, &its);
  int ok = r->cst == MS_STATUS_OK && r->cfmax <= r->opt.fmax && r->csmax <= r->opt.smax;
  if (ok) return TaoSetConvergedReason(tao, TAO_CONVERGED_USER);
  if (reason == TAO_CONTINUE_ITERATING && r->opt.etol > 0 && its > 0 && r->cst == MS_STATUS_OK &&
      fabs(r->cH - r->prev_H) <= r->opt.etol * r->natoms) {
    r->etol_hit = 1;
    return TaoSetConvergedReason(tao, TAO_CONVERGED_USER);
  }
  int used = r->evals - r->evals_at_test;
  r->evals_at_test = r->evals;
  if (reason == TAO_CONTINUE_ITERATING && its > 0 && used >= CRAWL_EVALS && r->cst == MS_STATUS_OK &&
      r->prev_H - r->cH < PROGRESS_TOL * r->natoms && r->cfmax <= KINK_FACTOR * r->opt.fmax &&
      r->csmax <= KINK_FACTOR * r->opt.smax) {
    /* End this solve; ms_relax_run probes from the last accepted point and starts afresh from a
     * lower point if there is one (the quasi-Newton line search may miss it), else stops at the
     * kink. */
    r->crawl = 1;
    return TaoSetConvergedReason(tao, TAO_DIVERGED_USER);
  }
  r->prev_H = r->cH;
  if (reason == TAO_CONTINUE_ITERATING && r->evals >= r->opt.max_evals)
    return TaoSetConvergedReason(tao, TAO_DIVERGED_MAXFCN);
  return TaoDefaultConvergenceTest(tao, NULL);
}

/* ------------------------------------------------------------------------ TAO objects */
/* Defaults for the L-BFGS matrix of TAOLMVM/TAOBLMVM, which reads its options under the fixed
 * prefixes tao_lmvm_ / tao_blmvm_ (not the TAO's prefix) in PETSc 3.18; they are put into the
 * options database unless the user has set them.
 * - A scalar initial Hessian keeps the iteration equivariant under the start's symmetry
 *   (PETSc's default, a diagonal one, does not).
 * - 20 stored updates instead of 5: 20 % fewer energy evaluations on the benchmark set
 *   (docs/models.md, "Relaxation"); the extra vector work is negligible next to a model
 *   evaluation. */
static ms_err lmvm_defaults(void) {
  static const char *const prefixes[] = {"-tao_lmvm_mat_lmvm_", "-tao_blmvm_mat_lmvm_"};
  static const char *const opts[][2] = {{"scale_type", "scalar"}, {"hist_size", "20"}};
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j) {
      char name[64];
      snprintf(name, sizeof name, "%s%s", prefixes[k], opts[j][0]);
      PetscBool set = PETSC_FALSE;
      MS_CALL_PETSC(PetscOptionsHasName(NULL, NULL, name, &set));
      if (!set) MS_CALL_PETSC(PetscOptionsSetValue(NULL, name, opts[j][1]));
    }
  return MS_SUCCESS;
}

static ms_err tao_build(ms_relax r, int nvar) {
  if (r->tao && r->nvar_tao == nvar) return MS_SUCCESS;
  if (r->tao) MS_CALL_PETSC(TaoDestroy(&r->tao));
  if (r->xv) MS_CALL_PETSC(VecDestroy(&r->xv));
  r->nvar_tao = 0;
  MS_CALL_PETSC(VecCreateSeq(PETSC_COMM_SELF, nvar, &r->xv));
  MS_CALL_PETSC(TaoCreate(PETSC_COMM_SELF, &r->tao));
  MS_CALL_PETSC(TaoSetOptionsPrefix(r->tao, "relax_"));
  MS_CALL_PETSC(TaoSetType(r->tao, TAOLMVM));
  /* TAO's own gradient-norm tests are off: convergence is ours (fmax, smax, etol), but a user
   * may still switch them on with -relax_tao_gatol and friends. */
  MS_CALL_PETSC(TaoSetTolerances(r->tao, 0, 0, 0));
  MS_CALL_PETSC(TaoSetSolution(r->tao, r->xv));
  MS_CALL_PETSC(TaoSetObjectiveAndGradient(r->tao, NULL, objgrad, r));
  MS_CALL_PETSC(TaoSetConvergenceTest(r->tao, conv_test, r));
  MS_CALL_PETSC(TaoSetFromOptions(r->tao));
  TaoType type = NULL;
  MS_CALL_PETSC(TaoGetType(r->tao, &type));
  snprintf(r->tao_type, sizeof r->tao_type, "%s", type ? type : "?");
  r->nvar_tao = nvar;
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------ public API */
ms_err ms_relax_create(ms_model model, const ms_relax_options *opt, ms_relax *out) {
  *out = NULL;
  MS_CHECK(model != NULL, MS_ERR_ARG, "relax: no model given");
  ms_relax_options o;
  if (opt)
    o = *opt;
  else
    ms_relax_options_default(&o);
  MS_CALL(check_options(&o));
  MS_CALL(ms_petsc_init());
  if (o.petsc_options && o.petsc_options[0]) MS_CALL_PETSC(PetscOptionsInsertString(NULL, o.petsc_options));
  MS_CALL(lmvm_defaults());
  o.petsc_options = NULL; /* not kept: the caller's string need not outlive the call */
  ms_relax r = NULL;
  MS_CALL(MS_CALLOC(1, &r));
  r->model = model;
  r->opt = o;
  ms_cell_init(&r->work);
  /* Build one TAO now so that a bad -relax_tao_type is reported at creation. */
  ms_err e = tao_build(r, 3);
  if (e) {
    ms_relax_destroy(&r);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = r;
  return MS_SUCCESS;
}

void ms_relax_destroy(ms_relax *rp) {
  if (!rp || !*rp) return;
  ms_relax r = *rp;
  if (r->tao) TaoDestroy(&r->tao);
  if (r->xv) VecDestroy(&r->xv);
  ms_cell_free(&r->work);
  free(r->xc);
  free(r->gc);
  free(r->xb);
  free(r->gb);
  free(r->F);
  free(r->Fraw);
  free(r->rot);
  free(r->trans);
  free(r->perm);
  free(r->types);
  free(r->sorted);
  free(r);
  *rp = NULL;
}

ms_err ms_relax_set_options(ms_relax r, const ms_relax_options *opt) {
  MS_CHECK(r && opt, MS_ERR_ARG, "relax: NULL argument");
  MS_CALL(check_options(opt));
  r->opt = *opt;
  r->opt.petsc_options = NULL;
  return MS_SUCCESS;
}

void ms_relax_get_options(const ms_relax r, ms_relax_options *opt) { *opt = r->opt; }

const char *ms_relax_tao_type(const ms_relax r) { return r->tao_type; }

/* Copy the sites of @p src into the work cell without freeing (buffers only grow). */
static ms_err load_work(ms_relax r, const ms_cell *src) {
  ms_cell *w = &r->work;
  MS_CALL(ms_cell_reserve(w, src->natoms));
  memcpy(w->lattice, src->lattice, sizeof w->lattice);
  w->natoms = src->natoms;
  if (src->natoms > 0) {
    memcpy(w->frac, src->frac, sizeof(double[3]) * (size_t)src->natoms);
    memcpy(w->kind, src->kind, sizeof(int) * (size_t)src->natoms);
  }
  w->nkinds = src->nkinds;
  memcpy(w->species, src->species, sizeof w->species);
  memcpy(w->label, src->label, sizeof w->label);
  return MS_SUCCESS;
}

ms_err ms__relax_prepare(ms_relax r, const ms_cell *cell, int *nvar) {
  MS_CHECK(cell->natoms > 0, MS_ERR_ARG, "relax: the structure has no sites");
  MS_CALL(load_work(r, cell));
  int n = cell->natoms;
  r->natoms = n;
  r->ncell = ncell_of(r->opt.cell);
  r->nvar = 3 * n + r->ncell;
  memcpy(r->L0, cell->lattice, sizeof r->L0);
  double d = ms_mat3_det(r->L0);
  MS_CHECK(isfinite(d) && fabs(d) > 0, MS_ERR_ARG, "relax: degenerate start cell (volume %g)", d);
  ms_mat3_inv(r->L0, r->L0inv);
  r->V0 = fabs(d);
  r->sign0 = d > 0 ? 1.0 : -1.0;
  for (int k = 0; k < 3; ++k) r->len0[k] = norm3(r->L0[k]);
  r->c = sqrt(r->opt.stiffness);
  r->s = r->opt.cell_scale > 0 ? r->opt.cell_scale : cbrt(r->V0);
  r->P = r->opt.pressure / MS_EV_PER_A3_IN_GPA;
  if (r->opt.max_evals <= 0) r->opt.max_evals = 10 * r->opt.max_steps + 100;
  if (n > r->fcap) {
    MS_CALL(MS_REALLOC((size_t)n, &r->F));
    MS_CALL(MS_REALLOC((size_t)n, &r->Fraw));
    r->fcap = n;
  }
  if (r->nvar > r->xcap) {
    MS_CALL(MS_REALLOC((size_t)r->nvar, &r->xc));
    MS_CALL(MS_REALLOC((size_t)r->nvar, &r->gc));
    MS_CALL(MS_REALLOC((size_t)r->nvar, &r->xb));
    MS_CALL(MS_REALLOC((size_t)r->nvar, &r->gb));
    r->xcap = r->nvar;
  }
  r->have_cache = r->have_grad = 0;
  r->evals = 0;
  r->bad_count = r->bad_last_ls = r->bad_streak = 0;
  r->bad_status = MS_STATUS_OK;
  r->bad_detail[0] = '\0';
  r->etol_hit = 0;
  r->kink = 0;
  r->crawl = 0;
  r->evals_at_test = 0;
  r->cb_err = MS_SUCCESS;
  r->H_bad = 1e300; /* replaced once the start energy is known */
  r->Hb = r->Fb = 0;
  MS_CALL(symmetry_setup(r, cell));
  *nvar = r->nvar;
  return MS_SUCCESS;
}

static int cell_finite(const ms_cell *c) {
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      if (!isfinite(c->lattice[a][b])) return 0;
  for (int i = 0; i < c->natoms; ++i)
    for (int b = 0; b < 3; ++b)
      if (!isfinite(c->frac[i][b])) return 0;
  return 1;
}

/* The result for a structure whose start cannot be relaxed: status from the model. */
static ms_err start_status(ms_relax r, const ms_cell *cell, ms_relax_result *res) {
  ms_model_result mr;
  if (cell->natoms > r->fcap) {
    MS_CALL(MS_REALLOC((size_t)cell->natoms, &r->F));
    MS_CALL(MS_REALLOC((size_t)cell->natoms, &r->Fraw));
    r->fcap = cell->natoms;
  }
  mr.forces = r->F;
  MS_CALL(ms_model_compute(r->model, cell, MS_MODEL_ALL, &mr));
  res->status = mr.status == MS_STATUS_OK ? MS_STATUS_BAD_CELL : mr.status;
  snprintf(res->detail, sizeof res->detail, "start structure: %s",
           mr.detail[0] ? mr.detail : "degenerate cell");
  res->energy_initial = res->energy = res->enthalpy = mr.energy;
  res->volume_initial = res->volume = mr.volume;
  return MS_SUCCESS;
}

static void fill_result(ms_relax r, ms_relax_result *res) {
  res->energy = r->cE;
  res->enthalpy = r->cH;
  res->volume = r->cV;
  res->fmax = r->cfmax;
  res->smax = r->csmax;
  ms_model_stress_from_W(r->cW, r->cV, res->stress_GPa);
  if (res->forces) memcpy(res->forces, r->F, sizeof(double[3]) * (size_t)r->natoms);
}

ms_err ms_relax_run(ms_relax r, ms_cell *cell, ms_relax_result *res) {
  double t0 = MPI_Wtime();
  double (*forces)[3] = res->forces;
  memset(res, 0, sizeof *res);
  res->forces = forces;
  res->tao_reason_name = "";
  res->nsym = 1;
  res->energy_initial = res->energy = res->enthalpy = NAN;
  res->fmax = res->smax = NAN;
  MS_CHECK(r && cell, MS_ERR_ARG, "relax: NULL argument");
  MS_CHECK(cell->natoms > 0, MS_ERR_ARG, "relax: the structure has no sites");
  if (forces) memset(forces, 0, sizeof(double[3]) * (size_t)cell->natoms);

  if (!cell_finite(cell)) {
    res->status = MS_STATUS_NAN;
    snprintf(res->detail, sizeof res->detail, "start structure: non-finite lattice or coordinates");
    res->time_s = MPI_Wtime() - t0;
    return MS_SUCCESS;
  }
  double d = ms_mat3_det(cell->lattice);
  if (!(fabs(d) > 1e-3 && fabs(d) > 1e-6 * cell->natoms)) {
    MS_CALL(start_status(r, cell, res));
    res->evaluations = 1;
    res->time_s = MPI_Wtime() - t0;
    return MS_SUCCESS;
  }
  res->volume_initial = fabs(d);
  if (fabs(d) / cell->natoms > r->opt.max_volume_per_atom) {
    res->status = MS_STATUS_EXPLODED;
    snprintf(res->detail, sizeof res->detail,
             "start structure: %.4g Å^3 per atom is above the bound %g Å^3 per atom",
             fabs(d) / cell->natoms, r->opt.max_volume_per_atom);
    res->volume = fabs(d);
    res->time_s = MPI_Wtime() - t0;
    return MS_SUCCESS;
  }

  int nvar = 0;
  MS_CALL(ms__relax_prepare(r, cell, &nvar));
  res->nsym = r->nsym;
  MS_CALL(tao_build(r, nvar));

  PetscScalar *xa = NULL;
  MS_CALL_PETSC(VecGetArray(r->xv, &xa));
  ms__relax_start(r, xa);
  double H0 = 0;
  ms_status st0 = MS_STATUS_OK;
  ms_err e = ms__relax_eval(r, xa, &H0, r->gc, &st0);
  MS_CALL_PETSC(VecRestoreArray(r->xv, &xa));
  MS_CALL(e);
  if (st0 != MS_STATUS_OK) {
    res->status = st0;
    snprintf(res->detail, sizeof res->detail, "start structure: %.230s", r->cdetail);
    res->evaluations = r->evals;
    res->volume = res->volume_initial;
    res->time_s = MPI_Wtime() - t0;
    return MS_SUCCESS;
  }
  res->energy_initial = r->cE;
  /* Far above anything the line search may accept, yet finite and well scaled. */
  r->H_bad = 1e3 * (1.0 + fabs(H0));
  r->cF = 0; /* TAO sees H - H(start): BLMVM scales its first step by |f| / |g|^2 */
  set_base(r);
  r->prev_H = H0;
  r->bad_count = 0;

  /* A failed line search that is not caused by rejected points gets a fresh start from the
   * current point (new quasi-Newton memory) as long as the previous solve made progress:
   * after a failed line search PETSc 3.18's TAOLMVM takes a gradient step with a corrupted
   * gradient vector (its MatSolve there is given the solution instead of the gradient), and
   * a failed search can also be a one-off (a cutoff crossed, a badly scaled memory). */
  int its_total = 0;
  TaoConvergedReason reason = TAO_CONTINUE_ITERATING;
  for (int restart = 0;; ++restart) {
    const double Hb_start = r->Hb;
    MS_CALL_PETSC(TaoSetMaximumIterations(r->tao, r->opt.max_steps - its_total));
    MS_CALL_PETSC(TaoSetMaximumFunctionEvaluations(r->tao, r->opt.max_evals));
    ms__petsc_error_clear();
    PetscErrorCode pe = TaoSolve(r->tao);
    if (pe) {
      if (r->cb_err) {
        ms_err ce = r->cb_err;
        r->cb_err = MS_SUCCESS;
        ms__petsc_error_clear();
        return ms__err_push(ce, __FILE__, __LINE__, __func__);
      }
      return ms__err_petsc((int)pe, "TaoSolve", __FILE__, __LINE__, __func__);
    }
    MS_CALL_PETSC(TaoGetConvergedReason(r->tao, &reason));
    PetscInt its = 0;
    MS_CALL_PETSC(TaoGetIterationNumber(r->tao, &its));
    its_total += (int)its;
    int rejected = r->bad_last_ls > 0 || r->bad_streak >= BAD_STREAK_MAX;
    int crawled = r->crawl && reason == TAO_DIVERGED_USER;
    r->crawl = 0;
    if ((reason != TAO_DIVERGED_LS_FAILURE && !crawled) || rejected || its_total >= r->opt.max_steps ||
        r->evals >= r->opt.max_evals)
      break;
    /* A restart without progress would fail the same way, and a crawl goes nowhere: find out
     * whether a lower point exists at all along the gradient (then go on from it) or this is a
     * kink of the energy. */
    if (crawled || r->Hb >= Hb_start - PROGRESS_TOL * r->natoms) {
      int found = 0;
      MS_CALL(probe_descent(r, 1, &found));
      if (!found) {
        r->kink = 1;
        break;
      }
    }
    if (restart >= MAX_RESTARTS) break;
  }
  res->iterations = its_total;
  res->tao_reason = (int)reason;
  res->tao_reason_name = TaoConvergedReasons[reason];

  /* Make sure the cached evaluation is that of the returned point. */
  const PetscScalar *xs = NULL;
  MS_CALL_PETSC(VecGetArrayRead(r->xv, &xs));
  ms_status st = r->cst;
  e = MS_SUCCESS;
  if (!cache_matches(r, xs)) {
    double H;
    e = ms__relax_eval(r, xs, &H, NULL, &st);
  }
  if (!e) ms__relax_structure(r, xs, cell);
  MS_CALL_PETSC(VecRestoreArrayRead(r->xv, &xs));
  MS_CALL(e);
  ms_cell_wrap(cell);
  fill_result(r, res);

  if (r->kink && st == MS_STATUS_OK && r->cfmax <= KINK_FACTOR * r->opt.fmax && r->csmax <= KINK_FACTOR * r->opt.smax) {
    res->status = MS_STATUS_CONVERGED;
    snprintf(res->detail, sizeof res->detail,
             "a minimum where the energy is not smooth (no point lower by 1e-6 eV/atom along the gradient; "
             "e.g. a bond at the model's cutoff): residual fmax %.3g eV/Å, smax %.3g GPa",
             r->cfmax, r->csmax);
  } else if (reason > 0) {
    res->status = MS_STATUS_CONVERGED;
    if (r->etol_hit)
      snprintf(res->detail, sizeof res->detail, "enthalpy change below %g eV/atom", r->opt.etol);
  } else if (reason == TAO_DIVERGED_MAXITS) {
    res->status = MS_STATUS_MAX_STEPS;
    snprintf(res->detail, sizeof res->detail, "step limit %d reached (fmax %.3g eV/Å, smax %.3g GPa)",
             r->opt.max_steps, r->cfmax, r->csmax);
  } else if (reason == TAO_DIVERGED_MAXFCN) {
    res->status = MS_STATUS_MAX_STEPS;
    snprintf(res->detail, sizeof res->detail,
             "evaluation limit %d reached (fmax %.3g eV/Å, smax %.3g GPa)", r->opt.max_evals,
             r->cfmax, r->csmax);
  } else if (reason == TAO_DIVERGED_NAN) {
    res->status = MS_STATUS_NAN;
    snprintf(res->detail, sizeof res->detail, "TAO reported a non-finite objective or gradient");
  } else if ((r->bad_last_ls > 0 || r->bad_streak >= BAD_STREAK_MAX) && r->bad_status != MS_STATUS_OK) {
    /* The line search could not find an acceptable point because the direction it was given
     * leads into rejected structures: report what they were. */
    res->status = r->bad_status;
    snprintf(res->detail, sizeof res->detail, "%s", r->bad_detail);
  } else {
    res->status = MS_STATUS_LINE_SEARCH;
    snprintf(res->detail, sizeof res->detail, "%s at fmax %.3g eV/Å, smax %.3g GPa",
             res->tao_reason_name, r->cfmax, r->csmax);
  }
  if (st != MS_STATUS_OK && res->status == MS_STATUS_CONVERGED) res->status = st;
  res->evaluations = r->evals;
  res->time_s = MPI_Wtime() - t0;
  return MS_SUCCESS;
}
