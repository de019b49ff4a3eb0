/* The learned surrogate (surrogate.h; the model and its choices are in docs/surrogate.md).
 *
 * Model. Descriptors are standardised, z = (x - mu) / scale, with the mean and population
 * standard deviation of the training rows. Member m maps z to features
 *   phi_k(z) = sqrt(2/p) cos(w_mk . z + b_mk),  k < p,    w_mk ~ N(0, I / l^2), b_mk ~ U[0, 2 pi)
 * (random Fourier features of the Gaussian kernel exp(-|z - z'|^2 / (2 l^2)): Rahimi & Recht,
 * "Random features for large-scale kernel machines", NIPS 2007), optionally followed by the
 * linear features z_j / sqrt(d). It is a ridge regression on a bootstrap sample of the rows
 * (counts c_i), with an unpenalised intercept, i.e. with centred features u_i = phi_i - mean:
 *   (sum_i c_i u_i u_i^T + lambda_abs I) w = sum_i c_i u_i (t_i - mean t),
 *   lambda_abs = lambda tr(sum_i c_i u_i u_i^T) / n,
 * so lambda is the penalty relative to the mean squared norm of the centred feature vectors.
 * The prediction is the ensemble mean; sigma^2 is the sample variance over the members plus a
 * noise variance chosen so that 68.27 % of the out-of-bag errors of the training rows lie
 * within 1 sigma (rows not in a member's bootstrap sample are that member's test set).
 *
 * Determinism. Member m's bootstrap sample and features come from Philox keyed by the seed on
 * stream 2^63 + 256 m + purpose (the high bit keeps them apart from the candidate streams,
 * which are candidate ids). Sums run over rows and columns in index order. Member m is fitted
 * on rank m % size and broadcast; the out-of-bag statistics are computed per row by the rank
 * owning a block of rows, gathered in row order and summed in row order on every rank. No
 * result depends on the number of ranks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/surrogate_impl.h"
#include "matscreen/descriptors.h"
#include "matscreen/rng.h"

#define TWO_PI 6.283185307179586477
/* Rows used by the median heuristic (evenly spaced when there are more). */
#define MEDIAN_ROWS 512
/* A column whose standard deviation is below this (relative to 1 + |mean|) is constant. */
#define CONST_REL 1e-12

enum { PURPOSE_BOOTSTRAP = 0, PURPOSE_FEATURES = 1 };

static uint64_t stream_id(int m, int purpose) {
  return (UINT64_C(1) << 63) | ((uint64_t)m << 8) | (uint64_t)purpose;
}

void ms_surrogate_options_default(ms_surrogate_options *o) {
  memset(o, 0, sizeof *o);
  o->members = 16;
  o->features = 256;
  o->lambda = 1e-3;
  o->length_scale = 0.0;
  o->seed = 0;
  o->target_delta = 1;
  o->baseline_column = -1;
  o->linear = 1;
  o->noise = 2;
}

void ms_surrogate_free(ms_surrogate *sp) {
  if (!sp || !*sp) return;
  ms_surrogate s = *sp;
  free(s->names);
  free(s->mu);
  free(s->scale);
  free(s->freq);
  free(s->phase);
  free(s->weight);
  free(s->intercept);
  free(s->lambda_abs);
  free(s->noise_w);
  free(s->noise_b);
  free(s);
  *sp = NULL;
}

ms_err ms__surrogate_alloc(ms_surrogate s) {
  size_t M = (size_t)s->opt.members, d = (size_t)s->d, p = (size_t)s->p;
  MS_CALL(MS_CALLOC(d, &s->names));
  MS_CALL(MS_CALLOC(d, &s->mu));
  MS_CALL(MS_CALLOC(d, &s->scale));
  MS_CALL(MS_CALLOC(M * p * d, &s->freq));
  MS_CALL(MS_CALLOC(M * p, &s->phase));
  MS_CALL(MS_CALLOC(M * (size_t)s->nw, &s->weight));
  MS_CALL(MS_CALLOC(M, &s->intercept));
  MS_CALL(MS_CALLOC(M, &s->lambda_abs));
  return MS_SUCCESS;
}

int ms__surrogate_standardize(const ms_surrogate s, const double *x, double *z) {
  int ok = 1;
  for (int j = 0; j < s->d; ++j) {
    ok &= isfinite(x[j]) != 0;
    z[j] = (x[j] - s->mu[j]) / s->scale[j];
  }
  return ok;
}

void ms__surrogate_features(const ms_surrogate s, int m, const double *z, double *phi) {
  const int p = s->p, d = s->d;
  const double *W = s->freq + (size_t)m * p * d, *b = s->phase + (size_t)m * p;
  const double amp = sqrt(2.0 / p);
  for (int k = 0; k < p; ++k) {
    const double *wk = W + (size_t)k * d;
    double a = b[k];
    for (int j = 0; j < d; ++j) a += wk[j] * z[j];
    phi[k] = amp * cos(a);
  }
  const double lin = 1.0 / sqrt((double)d);
  for (int j = 0; j < s->nlin; ++j) phi[p + j] = z[j] * lin;
}

double ms__surrogate_member(const ms_surrogate s, int m, const double *z, double *phi) {
  ms__surrogate_features(s, m, z, phi);
  const double *w = s->weight + (size_t)m * s->nw;
  double f = s->intercept[m];
  for (int k = 0; k < s->nw; ++k) f += w[k] * phi[k];
  return f;
}

/* ---- prediction -------------------------------------------------------------------------- */

ms_err ms_surrogate_predict(const ms_surrogate s, int64_t n, const double *X, double *mean,
                            double *sigma) {
  MS_CHECK(s && n >= 0 && (n == 0 || (X && mean)), MS_ERR_ARG,
           "ms_surrogate_predict: NULL model, data or output, or n < 0");
  const int M = s->opt.members;
  double *z = NULL, *phi = NULL, *f = NULL;
  MS_CALL(MS_CALLOC((size_t)s->d, &z));
  ms_err e = MS_CALLOC((size_t)s->nw, &phi);
  if (!e) e = MS_CALLOC((size_t)M, &f);
  for (int64_t i = 0; i < n && !e; ++i) {
    const double *x = X + (size_t)i * s->d;
    if (!ms__surrogate_standardize(s, x, z)) {
      mean[i] = NAN;
      if (sigma) sigma[i] = NAN;
      continue;
    }
    double sum = 0, g = 0;
    for (int m = 0; m < M; ++m) {
      f[m] = ms__surrogate_member(s, m, z, phi); /* leaves member m's features in phi */
      if (s->noise_w) g += ms__surrogate_log_noise_member(s, m, phi);
      sum += f[m];
    }
    const double noise = ms__surrogate_noise_from_log(s, g / M);
    double mu = sum / M, var = 0;
    for (int m = 0; m < M; ++m) var += (f[m] - mu) * (f[m] - mu);
    var = M > 1 ? var / (M - 1) : 0.0;
    double base = s->baseline >= 0 ? x[s->baseline] : 0.0;
    mean[i] = base + mu;
    if (sigma) sigma[i] = sqrt(var + noise);
  }
  free(z);
  free(phi);
  free(f);
  return e;
}

void ms_surrogate_get_info(const ms_surrogate s, ms_surrogate_info *info) {
  memset(info, 0, sizeof *info);
  if (!s) return;
  info->options = s->opt;
  info->d = s->d;
  info->ntrain = s->ntrain;
  info->length_scale = s->length_scale;
  double lam = 0;
  for (int m = 0; m < s->opt.members; ++m) lam += s->lambda_abs[m];
  info->lambda_abs = lam / s->opt.members;
  /* local noise: the geometric middle of its range over the training rows */
  info->noise_sigma = s->opt.noise == 2 && s->noise_w
                          ? sqrt(s->noise_var * exp(0.5 * (s->noise_lo + s->noise_hi)))
                          : sqrt(s->noise_var);
  info->oob_rmse = s->oob_rmse;
  info->oob_rows = s->oob_rows;
  info->descriptor_names = s->descriptor_names;
}

/* ---- training: set-up ------------------------------------------------------------------- */

static ms_err check_args(const ms_surrogate_options *o, int64_t n, int d, const double *X,
                         const double *y) {
  MS_CHECK(o, MS_ERR_ARG, "surrogate: NULL options");
  MS_CHECK(o->members >= 1 && o->members <= 4096, MS_ERR_ARG,
           "surrogate: members must be in 1..4096, got %d", o->members);
  MS_CHECK(o->features >= 1 && o->features <= 65536, MS_ERR_ARG,
           "surrogate: features must be in 1..65536, got %d", o->features);
  MS_CHECK(isfinite(o->lambda) && o->lambda > 0, MS_ERR_ARG,
           "surrogate: lambda must be > 0, got %g", o->lambda);
  MS_CHECK(isfinite(o->length_scale) && o->length_scale >= 0, MS_ERR_ARG,
           "surrogate: length_scale must be >= 0 (0: median heuristic), got %g", o->length_scale);
  MS_CHECK(o->noise >= 0 && o->noise <= 2, MS_ERR_ARG,
           "surrogate: noise must be 0 (none), 1 (constant) or 2 (local), got %d", o->noise);
  MS_CHECK(d >= 1 && d <= 100000, MS_ERR_ARG, "surrogate: d must be in 1..100000, got %d", d);
  MS_CHECK(n >= 2, MS_ERR_ARG, "surrogate: training needs at least 2 rows, got %lld",
           (long long)n);
  MS_CHECK(X && y, MS_ERR_ARG, "surrogate: NULL training data");
  if (o->target_delta) {
    int b = o->baseline_column;
    if (b < 0) {
      MS_CHECK(d == ms_descriptor_count(), MS_ERR_ARG,
               "surrogate: target_delta with the default baseline needs the %d descriptors as "
               "columns, got d = %d (set baseline_column)", ms_descriptor_count(), d);
    } else {
      MS_CHECK(b < d, MS_ERR_ARG, "surrogate: baseline_column %d out of range (d = %d)", b, d);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    MS_CHECK(isfinite(y[i]), MS_ERR_INPUT, "surrogate: training target of row %lld is %g",
             (long long)i, y[i]);
    for (int j = 0; j < d; ++j)
      MS_CHECK(isfinite(X[(size_t)i * d + j]), MS_ERR_INPUT,
               "surrogate: training row %lld, column %d is %g", (long long)i, j,
               X[(size_t)i * d + j]);
  }
  return MS_SUCCESS;
}

static void standardisation(ms_surrogate s, int64_t n, const double *X) {
  const int d = s->d;
  for (int j = 0; j < d; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += X[(size_t)i * d + j];
    double mu = sum / n, var = 0;
    for (int64_t i = 0; i < n; ++i) {
      double t = X[(size_t)i * d + j] - mu;
      var += t * t;
    }
    double sd = sqrt(var / n);
    s->mu[j] = mu;
    s->scale[j] = sd > CONST_REL * (1.0 + fabs(mu)) ? sd : 1.0;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Median distance between standardised rows (evenly spaced subset of at most MEDIAN_ROWS);
 * 1 when every distance is 0. */
static ms_err median_distance(const ms_surrogate s, int64_t n, const double *X, double *out) {
  int64_t m = n < MEDIAN_ROWS ? n : MEDIAN_ROWS;
  const int d = s->d;
  double *Z = NULL, *dist = NULL;
  MS_CALL(MS_CALLOC((size_t)m * d, &Z));
  size_t npairs = (size_t)m * (size_t)(m - 1) / 2, q = 0;
  ms_err e = MS_CALLOC(npairs, &dist);
  if (e) {
    free(Z);
    return e;
  }
  for (int64_t k = 0; k < m; ++k) {
    int64_t i = (int64_t)((double)k * (double)n / (double)m);
    ms__surrogate_standardize(s, X + (size_t)i * d, Z + (size_t)k * d);
  }
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a + 1; b < m; ++b) {
      double r2 = 0;
      for (int j = 0; j < d; ++j) {
        double t = Z[(size_t)a * d + j] - Z[(size_t)b * d + j];
        r2 += t * t;
      }
      dist[q++] = sqrt(r2);
    }
  qsort(dist, npairs, sizeof *dist, cmp_double);
  double med = npairs % 2 ? dist[npairs / 2] : 0.5 * (dist[npairs / 2 - 1] + dist[npairs / 2]);
  *out = med > 0 ? med : 1.0;
  free(Z);
  free(dist);
  return MS_SUCCESS;
}

static void feature_map(ms_surrogate s, int m) {
  ms_rng r;
  ms_rng_init(&r, s->opt.seed, stream_id(m, PURPOSE_FEATURES));
  const size_t pd = (size_t)s->p * s->d;
  double *W = s->freq + (size_t)m * pd, *b = s->phase + (size_t)m * s->p;
  for (size_t k = 0; k < pd; ++k) W[k] = ms_rng_normal(&r) / s->length_scale;
  for (int k = 0; k < s->p; ++k) b[k] = TWO_PI * ms_rng_uniform(&r);
}

/* Bootstrap multiplicities of member m: n draws with replacement. */
static void bootstrap(const ms_surrogate s, int m, int64_t n, int32_t *count) {
  ms_rng r;
  ms_rng_init(&r, s->opt.seed, stream_id(m, PURPOSE_BOOTSTRAP));
  memset(count, 0, (size_t)n * sizeof *count);
  for (int64_t k = 0; k < n; ++k) count[ms_rng_below(&r, (uint64_t)n)]++;
}

/* ---- training: one member ---------------------------------------------------------------- */

typedef struct {
  int64_t n;
  const double *X, *t; /* rows and targets (baseline removed) */
} train_data;

ms_err ms__surrogate_ridge_fit(const ms_surrogate s, int m, int64_t n, const double *X,
                               const double *t, const int32_t *count, double lambda, double *w,
                               double *intercept, double *lambda_abs) {
  const int nw = s->nw, d = s->d;
  double *z = NULL, *phi = NULL, *mean = NULL, *G = NULL, *rhs = NULL;
  ms_err e = MS_CALLOC((size_t)d, &z);
  if (!e) e = MS_CALLOC((size_t)nw, &phi);
  if (!e) e = MS_CALLOC((size_t)nw, &mean);
  if (!e) e = MS_CALLOC((size_t)nw * nw, &G);
  if (!e) e = MS_CALLOC((size_t)nw, &rhs);
  if (e) goto done;
  /* First pass: weighted means of the features and of the target. */
  double tmean = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double c = count ? count[i] : 1.0;
    if (c == 0) continue;
    ms__surrogate_standardize(s, X + (size_t)i * d, z);
    ms__surrogate_features(s, m, z, phi);
    for (int k = 0; k < nw; ++k) mean[k] += c * phi[k];
    tmean += c * t[i];
  }
  for (int k = 0; k < nw; ++k) mean[k] /= n;
  tmean /= n;
  /* Second pass: centred Gram matrix (upper triangle) and right-hand side. */
  for (int64_t i = 0; i < n; ++i) {
    const double c = count ? count[i] : 1.0;
    if (c == 0) continue;
    ms__surrogate_standardize(s, X + (size_t)i * d, z);
    ms__surrogate_features(s, m, z, phi);
    for (int k = 0; k < nw; ++k) phi[k] -= mean[k];
    const double r = c * (t[i] - tmean);
    for (int a = 0; a < nw; ++a) {
      const double ua = c * phi[a];
      double *Ga = G + (size_t)a * nw;
      for (int b = a; b < nw; ++b) Ga[b] += ua * phi[b];
      rhs[a] += r * phi[a];
    }
  }
  double tr = 0;
  for (int a = 0; a < nw; ++a) tr += G[(size_t)a * nw + a];
  /* With constant features (tr = 0) the solution is w = 0 for any positive penalty. */
  double lam = tr > 0 ? lambda * tr / n : lambda;
  e = ms__ridge_solve(nw, G, lam, rhs, w);
  if (e) {
    e = ms__err_push(e, __FILE__, __LINE__, __func__);
    goto done;
  }
  double dot = 0;
  for (int k = 0; k < nw; ++k) dot += mean[k] * w[k];
  *intercept = tmean - dot;
  if (lambda_abs) *lambda_abs = lam;
done:
  free(z);
  free(phi);
  free(mean);
  free(G);
  free(rhs);
  return e;
}

static ms_err fit_member(ms_surrogate s, int m, const train_data *td) {
  int32_t *count = NULL;
  MS_CALL(MS_CALLOC((size_t)td->n, &count));
  bootstrap(s, m, td->n, count);
  ms_err e = ms__surrogate_ridge_fit(s, m, td->n, td->X, td->t, count, s->opt.lambda,
                                     s->weight + (size_t)m * s->nw, &s->intercept[m],
                                     &s->lambda_abs[m]);
  free(count);
  return e;
}

/* ---- training: out-of-bag noise --------------------------------------------------------- */

/* Per-row out-of-bag statistics of rows [lo, hi): squared error of the mean of the members
 * that did not see the row, their sample variance, and 1 if at least two members did not. */
static ms_err oob_rows(const ms_surrogate s, const train_data *td, const unsigned char *inbag,
                       int64_t lo, int64_t hi, double *out) {
  const int M = s->opt.members, d = s->d;
  double *z = NULL, *phi = NULL, *f = NULL;
  ms_err e = MS_CALLOC((size_t)d, &z);
  if (!e) e = MS_CALLOC((size_t)s->nw, &phi);
  if (!e) e = MS_CALLOC((size_t)M, &f);
  for (int64_t i = lo; i < hi && !e; ++i) {
    double *o = out + 3 * (size_t)(i - lo);
    ms__surrogate_standardize(s, td->X + (size_t)i * d, z);
    int k = 0;
    double sum = 0;
    for (int m = 0; m < M; ++m) {
      if (inbag[(size_t)m * td->n + i]) continue;
      f[k] = ms__surrogate_member(s, m, z, phi);
      sum += f[k++];
    }
    if (k < 2) {
      o[0] = o[1] = o[2] = 0.0;
      continue;
    }
    double mu = sum / k, var = 0;
    for (int q = 0; q < k; ++q) var += (f[q] - mu) * (f[q] - mu);
    double r = td->t[i] - mu;
    o[0] = r * r;
    o[1] = var / (k - 1);
    o[2] = 1.0;
  }
  free(z);
  free(phi);
  free(f);
  return e;
}

/* Share of a normal distribution within one standard deviation of its mean. */
#define ONE_SIGMA_SHARE 0.682689492137086

static ms_err oob_noise(MPI_Comm comm, ms_surrogate s, const train_data *td) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int M = s->opt.members;
  const int64_t n = td->n;
  int64_t lo = n * rank / size, hi = n * (rank + 1) / size;
  unsigned char *inbag = NULL;
  int32_t *count = NULL;
  double *mine = NULL, *all = NULL;
  int *counts = NULL, *displs = NULL;
  ms_err e = MS_CALLOC((size_t)M * n, &inbag);
  if (!e) e = MS_CALLOC((size_t)n, &count);
  if (!e) e = MS_CALLOC(3 * (size_t)(hi - lo) + 1, &mine);
  if (!e) e = MS_CALLOC(3 * (size_t)n, &all);
  if (!e) e = MS_CALLOC((size_t)size, &counts);
  if (!e) e = MS_CALLOC((size_t)size, &displs);
  if (!e && 3 * n > INT32_MAX)
    e = ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__,
                    "surrogate: %lld training rows are too many for one gather", (long long)n);
  for (int m = 0; m < M && !e; ++m) {
    bootstrap(s, m, n, count);
    for (int64_t i = 0; i < n; ++i) inbag[(size_t)m * n + i] = count[i] > 0;
  }
  if (!e) e = oob_rows(s, td, inbag, lo, hi, mine);
  e = ms_err_agree(comm, e);
  if (!e) {
    for (int r = 0; r < size; ++r) {
      int64_t a = n * r / size, b = n * (r + 1) / size;
      counts[r] = (int)(3 * (b - a));
      displs[r] = (int)(3 * a);
    }
    int rc = MPI_Allgatherv(mine, counts[rank], MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, comm);
    if (rc != MPI_SUCCESS) e = ms__err_mpi(rc, "MPI_Allgatherv", __FILE__, __LINE__, __func__);
  }
  if (!e) {
    /* excess[j] = r^2 - v of out-of-bag row j: a row's error is within 1 sigma exactly when
     * the noise variance is at least its excess, so the excess's 68.27th percentile is the
     * smallest noise variance putting 68.27 % of the out-of-bag errors within 1 sigma (a
     * normal's share). A quantile, unlike matching the mean squared error, is not set by
     * the few rows where the members disagree most, so the easy rows get an honest floor. */
    double sr = 0, *excess = malloc(((size_t)n + 1) * sizeof *excess);
    int64_t nv = 0;
    for (int64_t i = 0; i < n && excess; ++i) {
      if (all[3 * i + 2] == 0) continue;
      sr += all[3 * i];
      excess[nv++] = all[3 * i] - all[3 * i + 1];
    }
    if (!excess) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    s->oob_rows = nv;
    s->oob_rmse = nv ? sqrt(sr / nv) : NAN;
    double q = 0.0;
    if (!e && nv) {
      qsort(excess, (size_t)nv, sizeof *excess, cmp_double);
      int64_t j = (int64_t)ceil(ONE_SIGMA_SHARE * (double)nv) - 1;
      q = excess[j < 0 ? 0 : j];
    }
    s->noise_var = s->opt.noise && q > 0 ? q : 0.0;
    free(excess);
    if (!e && s->opt.noise == 2) e = ms__surrogate_fit_local_noise(comm, s, n, td->X, all);
  }
  free(inbag);
  free(count);
  free(mine);
  free(all);
  free(counts);
  free(displs);
  return e;
}

/* ---- training ----------------------------------------------------------------------------- */

/* Everything before the members: sizes, names, standardisation, length scale, feature maps.
 * Identical on every rank. The arguments are checked (check_args). */
static ms_err setup(const ms_surrogate_options *o, int64_t n, int d, const double *X,
                    ms_surrogate *out) {
  ms_surrogate s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  *out = s;
  s->opt = *o;
  s->d = d;
  s->p = o->features;
  s->nlin = o->linear ? d : 0;
  s->nw = s->p + s->nlin;
  s->ntrain = n;
  s->baseline = !o->target_delta ? -1
                : o->baseline_column >= 0 ? o->baseline_column
                                          : ms_descriptor_index("e_single_eV_per_atom");
  MS_CALL(ms__surrogate_alloc(s));
  s->descriptor_names = d == ms_descriptor_count();
  for (int j = 0; j < d; ++j) {
    if (s->descriptor_names)
      snprintf(s->names[j], MS__SURR_NAME_LEN, "%s", ms_descriptor_name(j));
    else
      snprintf(s->names[j], MS__SURR_NAME_LEN, "column_%d", j);
  }
  standardisation(s, n, X);
  if (o->length_scale > 0)
    s->length_scale = o->length_scale;
  else
    MS_CALL(median_distance(s, n, X, &s->length_scale));
  for (int m = 0; m < o->members; ++m) feature_map(s, m);
  return MS_SUCCESS;
}

ms_err ms__surrogate_share_members(MPI_Comm comm, const ms_surrogate s, double *w, double *a,
                                   double *b) {
  int rank, size;
  MS_CALL_MPI(MPI_Comm_rank(comm, &rank));
  MS_CALL_MPI(MPI_Comm_size(comm, &size));
  const int nw = s->nw, len = nw + 1 + (b != NULL);
  double *buf = NULL;
  ms_err e = ms_err_agree(comm, MS_CALLOC((size_t)len, &buf));
  for (int m = 0; m < s->opt.members && !e; ++m) {
    const int root = m % size;
    if (rank == root) {
      memcpy(buf, w + (size_t)m * nw, (size_t)nw * sizeof *buf);
      buf[nw] = a[m];
      if (b) buf[nw + 1] = b[m];
    }
    int rc = MPI_Bcast(buf, len, MPI_DOUBLE, root, comm);
    if (rc != MPI_SUCCESS) {
      e = ms__err_mpi(rc, "MPI_Bcast", __FILE__, __LINE__, __func__);
      break;
    }
    memcpy(w + (size_t)m * nw, buf, (size_t)nw * sizeof *buf);
    a[m] = buf[nw];
    if (b) b[m] = buf[nw + 1];
  }
  free(buf);
  return e;
}

ms_err ms_surrogate_train(MPI_Comm comm, const ms_surrogate_options *o, int64_t n, int d,
                          const double *X, const double *y, ms_surrogate *out) {
  MS_CHECK(out, MS_ERR_ARG, "ms_surrogate_train: NULL output");
  *out = NULL;
  int rank, size;
  MS_CALL_MPI(MPI_Comm_rank(comm, &rank));
  MS_CALL_MPI(MPI_Comm_size(comm, &size));
  ms_surrogate s = NULL;
  double *t = NULL;
  ms_err e = check_args(o, n, d, X, y);
  if (!e) e = setup(o, n, d, X, &s);
  if (!e) e = MS_CALLOC((size_t)n, &t);
  if (!e)
    for (int64_t i = 0; i < n; ++i)
      t[i] = y[i] - (s->baseline >= 0 ? X[(size_t)i * d + s->baseline] : 0.0);
  e = ms_err_agree(comm, e);
  train_data td = {n, X, t};
  for (int m = rank; m < (s && !e ? o->members : 0); m += size) {
    e = fit_member(s, m, &td);
    if (e) break;
  }
  e = ms_err_agree(comm, e);
  /* Every member's weights, intercept and penalty from the rank that fitted it. */
  if (!e) e = ms__surrogate_share_members(comm, s, s->weight, s->intercept, s->lambda_abs);
  e = ms_err_agree(comm, e);
  if (!e) e = oob_noise(comm, s, &td);
  free(t);
  if (e) {
    ms_surrogate_free(&s);
    return e;
  }
  *out = s;
  return MS_SUCCESS;
}
