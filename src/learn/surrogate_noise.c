/* The local (heteroscedastic) noise term of the surrogate, `noise: local` (docs/surrogate.md).
 *
 * Why. A single noise variance says the model is as wrong everywhere as it is at its 68th
 * percentile. Where relaxations sometimes transform the structure (a small cation on the A
 * site of a perovskite, say), the out-of-bag errors of that region are ten times those of the
 * rest, while the members agree there as well as anywhere, so a single noise variance leaves
 * sigma far too small exactly where the filter must not trust the mean.
 *
 * Model. g(z) = b + w . phi_0(z), a ridge regression on member 0's features (random Fourier
 * plus linear) of u_i = log(max(r_i^2, floor)), r_i the out-of-bag error of training row i and
 * floor = FLOOR_SHARE x the median r^2 (a log of an exact 0 would dominate the fit). The
 * penalty is NOISE_LAMBDA (relative, as for the members), heavier than the mean's because
 * log squared errors are noisy: a chi^2_1 variable has a log with standard deviation 2.2.
 * The noise variance is c exp(g(z)), g clamped to its range over the training rows (no
 * extrapolation to variances the data never showed), and c is the smallest scale putting
 * 68.27 % of the out-of-bag errors within 1 sigma: the 68.27th percentile of
 * (r_i^2 - v_i) / exp(g(z_i)), as for the constant noise term with exp(g) = 1.
 *
 * Averaging over the members' feature draws, rather than one draw, keeps the term from
 * depending on which random features one member happened to get.
 *
 * Determinism: member m's term is fitted on rank m % size (rows in index order) and broadcast,
 * as the members of the mean are; g is summed over members in index order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/surrogate_impl.h"
#include "matscreen/error.h"

/* Relative ridge penalty of the log-error model. */
#define NOISE_LAMBDA 0.1
/* Floor of the squared errors, as a share of their median. */
#define FLOOR_SHARE 0.01
/* Share of a normal distribution within one standard deviation of its mean. */
#define ONE_SIGMA_SHARE 0.682689492137086

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Member m's term of g at its features phi. */
double ms__surrogate_log_noise_member(const ms_surrogate s, int m, const double *phi) {
  const double *w = s->noise_w + (size_t)m * s->nw;
  double g = s->noise_b[m];
  for (int k = 0; k < s->nw; ++k) g += w[k] * phi[k];
  return g;
}

double ms__surrogate_noise_from_log(const ms_surrogate s, double g) {
  if (s->opt.noise != 2 || !s->noise_w) return s->noise_var;
  g = g < s->noise_lo ? s->noise_lo : g > s->noise_hi ? s->noise_hi : g;
  return s->noise_var * exp(g);
}

/* g of every row of Xo (no rows) into g. */
static ms_err log_noise_rows(const ms_surrogate s, int64_t no, const double *Xo, double *g) {
  double *z = NULL, *phi = NULL;
  ms_err e = MS_CALLOC((size_t)s->d, &z);
  if (!e) e = MS_CALLOC((size_t)s->nw, &phi);
  for (int64_t i = 0; i < no && !e; ++i) {
    ms__surrogate_standardize(s, Xo + (size_t)i * s->d, z);
    double sum = 0;
    for (int m = 0; m < s->opt.members; ++m) {
      ms__surrogate_features(s, m, z, phi);
      sum += ms__surrogate_log_noise_member(s, m, phi);
    }
    g[i] = sum / s->opt.members;
  }
  free(z);
  free(phi);
  return e;
}

ms_err ms__surrogate_fit_local_noise(MPI_Comm comm, ms_surrogate s, int64_t n, const double *X,
                                     const double *oob) {
  int rank, size;
  MS_CALL_MPI(MPI_Comm_rank(comm, &rank));
  MS_CALL_MPI(MPI_Comm_size(comm, &size));
  const int d = s->d, M = s->opt.members, nw = s->nw;
  double *Xo = NULL, *u = NULL, *ratio = NULL;
  int64_t no = 0;
  ms_err e = MS_CALLOC((size_t)n * d + 1, &Xo);
  if (!e) e = MS_CALLOC((size_t)n + 1, &u);
  if (!e) e = MS_CALLOC((size_t)n + 1, &ratio);
  if (!e && !s->noise_w) e = MS_CALLOC((size_t)M * nw, &s->noise_w);
  if (!e && !s->noise_b) e = MS_CALLOC((size_t)M, &s->noise_b);
  e = ms_err_agree(comm, e);
  if (e) goto done;
  for (int64_t i = 0; i < n; ++i) {
    if (oob[3 * i + 2] == 0) continue;
    memcpy(Xo + (size_t)no * d, X + (size_t)i * d, (size_t)d * sizeof *Xo);
    ratio[no] = oob[3 * i]; /* r^2 for now: a sorted copy gives the median */
    no++;
  }
  s->noise_var = 0;
  s->noise_lo = s->noise_hi = 0;
  memset(s->noise_w, 0, (size_t)M * nw * sizeof *s->noise_w);
  memset(s->noise_b, 0, (size_t)M * sizeof *s->noise_b);
  if (no < 2) goto done; /* nothing to learn from: no noise term, as with noise 1 */
  memcpy(u, ratio, (size_t)no * sizeof *u);
  qsort(u, (size_t)no, sizeof *u, cmp_double);
  double med = no % 2 ? u[no / 2] : 0.5 * (u[no / 2 - 1] + u[no / 2]);
  double floor = FLOOR_SHARE * med;
  if (!(floor > 0)) floor = 1e-12; /* every error exactly 0: any positive floor */
  for (int64_t i = 0; i < no; ++i) u[i] = log(ratio[i] > floor ? ratio[i] : floor);
  /* member m's term on rank m % size, then broadcast (as the members of the mean) */
  for (int m = rank; m < M && !e; m += size)
    e = ms__surrogate_ridge_fit(s, m, no, Xo, u, NULL, NOISE_LAMBDA, s->noise_w + (size_t)m * nw,
                                &s->noise_b[m], NULL);
  e = ms_err_agree(comm, e);
  if (!e) e = ms__surrogate_share_members(comm, s, s->noise_w, s->noise_b, NULL);
  e = ms_err_agree(comm, e);
  if (e) goto done;
  /* clamp range: g over the training rows; then the scale c */
  e = ms_err_agree(comm, log_noise_rows(s, no, Xo, u)); /* (an allocation there is per rank) */
  if (e) goto done;
  s->noise_lo = HUGE_VAL;
  s->noise_hi = -HUGE_VAL;
  for (int64_t i = 0; i < no; ++i) {
    if (u[i] < s->noise_lo) s->noise_lo = u[i];
    if (u[i] > s->noise_hi) s->noise_hi = u[i];
  }
  int64_t q = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (oob[3 * i + 2] == 0) continue;
    ratio[q] = (oob[3 * i] - oob[3 * i + 1]) / exp(u[q]);
    q++;
  }
  qsort(ratio, (size_t)no, sizeof *ratio, cmp_double);
  int64_t j = (int64_t)ceil(ONE_SIGMA_SHARE * (double)no) - 1;
  double c = ratio[j < 0 ? 0 : j];
  s->noise_var = c > 0 ? c : 0.0;
done:
  free(Xo);
  free(u);
  free(ratio);
  return e;
}
