/* The learned surrogate (src/learn/surrogate.c, ridge.c, surrogate_io.c) on one rank:
 * - a synthetic regression y = smooth(x) + Gaussian noise: the test MAE is close to the noise
 *   floor and far below that of the mean, and the uncertainty covers about the right fraction;
 * - the local noise term (noise 2) on errors whose size depends on x: within 1 sigma about
 *   68 % of the time in the quiet and in the noisy region alike, where the constant term is
 *   too wide in one and too narrow in the other; saved and loaded, bitwise the same sigma;
 * - the relaxation-energy target (target_delta) with a baseline column;
 * - determinism (same seed, bitwise the same predictions; another seed, other predictions);
 * - a model written with ms_h5 and read back predicts bitwise the same values, and a file
 *   whose descriptors, versions or group do not match is refused with a clear message;
 * - argument errors. */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/descriptors.h"
#include "matscreen/h5out.h"
#include "matscreen/metrics.h"
#include "matscreen/relax.h"
#include "matscreen/rng.h"
#include "matscreen/surrogate.h"
#include "ms_test.h"

static double smooth(const double *x) {
  return sin(1.5 * x[0]) + 0.5 * x[1] * x[1] - 0.3 * x[2];
}

/* n rows of d = 3 uniform in [-2, 2] and y = smooth + N(0, noise^2), from stream @p stream. */
static void synthetic(int64_t n, double noise, uint64_t stream, double *X, double *y) {
  ms_rng r;
  ms_rng_init(&r, 99, stream);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) X[i * 3 + j] = 4 * ms_rng_uniform(&r) - 2;
    y[i] = smooth(X + i * 3) + noise * ms_rng_normal(&r);
  }
}

static void path_in_build(char *buf, size_t len, const char *name) {
  const char *dir = getenv("MATSCREEN_BUILD_ROOT");
  snprintf(buf, len, "%s/%s", dir && dir[0] ? dir : ".", name);
}

static ms_surrogate train(const ms_surrogate_options *o, int64_t n, int d, const double *X,
                          const double *y) {
  ms_surrogate s = NULL;
  ms_err e = ms_surrogate_train(MPI_COMM_SELF, o, n, d, X, y, &s);
  if (e) {
    fprintf(stderr, "training failed: %s\n", ms_err_message());
    exit(1);
  }
  return s;
}

static void test_defaults(void) {
  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  MS_TEST_EQ_INT(o.members, 16);
  MS_TEST_EQ_INT(o.features, 256);
  MS_TEST_NEAR(o.lambda, 1e-3, 0);
  MS_TEST_NEAR(o.length_scale, 0, 0);
  MS_TEST_EQ_INT(o.target_delta, 1);
  MS_TEST_EQ_INT(o.baseline_column, -1);
  MS_TEST_EQ_INT(o.linear, 1);
  MS_TEST_EQ_INT(o.noise, 2);
}

static void test_regression(void) {
  enum { NTR = 400, NTE = 300 };
  const double noise = 0.05;
  double *X = malloc(sizeof(double) * NTR * 3), *y = malloc(sizeof(double) * NTR);
  double *Xt = malloc(sizeof(double) * NTE * 3), *yt = malloc(sizeof(double) * NTE);
  double *mean = malloc(sizeof(double) * NTE), *sig = malloc(sizeof(double) * NTE);
  double *mean2 = malloc(sizeof(double) * NTE), *sig2 = malloc(sizeof(double) * NTE);
  synthetic(NTR, noise, 1, X, y);
  synthetic(NTE, noise, 2, Xt, yt);
  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  o.members = 8;
  o.features = 128;
  o.target_delta = 0;
  o.seed = 7;
  ms_surrogate s = train(&o, NTR, 3, X, y);
  MS_TEST_OK(ms_surrogate_predict(s, NTE, Xt, mean, sig));
  ms_regression_scores r;
  ms_calibration_scores c;
  MS_TEST_OK(ms_metrics_regression(NTE, yt, mean, &r));
  MS_TEST_OK(ms_metrics_calibration(NTE, yt, mean, sig, &c));
  /* The mean as a predictor, for scale. */
  double ym = 0, base = 0;
  for (int i = 0; i < NTR; ++i) ym += y[i] / NTR;
  for (int i = 0; i < NTE; ++i) base += fabs(yt[i] - ym) / NTE;
  ms_surrogate_info info;
  ms_surrogate_get_info(s, &info);
  fprintf(stderr, "synthetic: MAE %.4f (mean predictor %.4f, noise MAE %.4f), RMSE %.4f, "
                  "within 1/2 sigma %.3f/%.3f, mean sigma %.4f, length %.3f, noise sigma %.4f, "
                  "OOB RMSE %.4f over %lld rows\n",
          r.mae, base, noise * sqrt(2 / 3.14159265358979), r.rmse, c.within_1sigma,
          c.within_2sigma, c.mean_sigma, info.length_scale, info.noise_sigma, info.oob_rmse,
          (long long)info.oob_rows);
  MS_TEST_TRUE(r.mae < 0.10);
  MS_TEST_TRUE(r.mae < 0.15 * base);
  /* the noise term puts 68 % of the out-of-bag errors within 1 sigma */
  MS_TEST_TRUE(c.within_1sigma > 0.6 && c.within_1sigma < 0.76);
  MS_TEST_TRUE(c.within_2sigma > 0.85 && c.within_2sigma <= 1.0);
  MS_TEST_TRUE(info.noise_sigma > 0 && info.oob_rows > NTR / 2);
  MS_TEST_EQ_INT(info.d, 3);
  MS_TEST_EQ_INT(info.ntrain, NTR);
  MS_TEST_EQ_INT(info.descriptor_names, 0);

  /* Same seed: bitwise the same; another seed: different but as good. */
  ms_surrogate s2 = train(&o, NTR, 3, X, y);
  MS_TEST_OK(ms_surrogate_predict(s2, NTE, Xt, mean2, sig2));
  MS_TEST_TRUE(memcmp(mean, mean2, sizeof(double) * NTE) == 0);
  MS_TEST_TRUE(memcmp(sig, sig2, sizeof(double) * NTE) == 0);
  ms_surrogate_free(&s2);
  o.seed = 8;
  s2 = train(&o, NTR, 3, X, y);
  MS_TEST_OK(ms_surrogate_predict(s2, NTE, Xt, mean2, NULL));
  MS_TEST_TRUE(memcmp(mean, mean2, sizeof(double) * NTE) != 0);
  MS_TEST_OK(ms_metrics_regression(NTE, yt, mean2, &r));
  MS_TEST_TRUE(r.mae < 0.10);
  ms_surrogate_free(&s2);
  MS_TEST_TRUE(s2 == NULL);
  ms_surrogate_free(&s2); /* NULL-safe */

  /* Without the noise term the uncertainty is the ensemble spread alone (smaller). */
  o.seed = 7;
  o.noise = 0;
  s2 = train(&o, NTR, 3, X, y);
  MS_TEST_OK(ms_surrogate_predict(s2, NTE, Xt, mean2, sig2));
  MS_TEST_TRUE(memcmp(mean, mean2, sizeof(double) * NTE) == 0);
  int smaller = 0;
  for (int i = 0; i < NTE; ++i) smaller += sig2[i] < sig[i];
  MS_TEST_EQ_INT(smaller, NTE);
  ms_surrogate_free(&s2);

  /* A given length scale is used as is; a single member has no spread. */
  o.noise = 1;
  o.length_scale = 2.0;
  o.members = 1;
  s2 = train(&o, NTR, 3, X, y);
  ms_surrogate_get_info(s2, &info);
  MS_TEST_NEAR(info.length_scale, 2.0, 0);
  MS_TEST_TRUE(isnan(info.oob_rmse));
  MS_TEST_OK(ms_surrogate_predict(s2, 3, Xt, mean2, sig2));
  MS_TEST_NEAR(sig2[0], 0, 0);

  /* A row with a NaN predicts NaN; the others are unaffected. */
  double bad[6] = {0.1, NAN, 0.2, 0.3, 0.4, 0.5}, m2[2], sg[2];
  MS_TEST_OK(ms_surrogate_predict(s, 2, bad, m2, sg));
  MS_TEST_TRUE(isnan(m2[0]) && isnan(sg[0]) && isfinite(m2[1]) && isfinite(sg[1]));
  ms_surrogate_free(&s2);
  ms_surrogate_free(&s);
  free(X);
  free(y);
  free(Xt);
  free(yt);
  free(mean);
  free(sig);
  free(mean2);
  free(sig2);
}

static void tamper_int_attr(const char *path, const char *obj, const char *name, int64_t v);
static ms_surrogate save_and_reload(ms_surrogate s, const char *name, char *path, size_t len);

/* Share of |y - mean| <= sigma over the rows with x0 < 0 (quiet, side 0) or >= 0 (side 1). */
static double within_1sigma_side(int n, const double *X, const double *y, const double *mean,
                                 const double *sig, int side) {
  int in = 0, all = 0;
  for (int i = 0; i < n; ++i) {
    if ((X[i * 3] >= 0) != side) continue;
    all++;
    in += fabs(y[i] - mean[i]) <= sig[i];
  }
  return all ? (double)in / all : NAN;
}

/* Standard deviation of the noise: 0.01 at x0 = -2 rising to 0.25 at x0 = 2. */
static double noise_at(const double *x) { return 0.01 + 0.06 * (x[0] + 2); }

static void test_local_noise(void) {
  enum { NTR = 800, NTE = 800 };
  double *X = malloc(sizeof(double) * NTR * 3), *y = malloc(sizeof(double) * NTR);
  double *Xt = malloc(sizeof(double) * NTE * 3), *yt = malloc(sizeof(double) * NTE);
  double *mean = malloc(sizeof(double) * NTE), *sig = malloc(sizeof(double) * NTE);
  double *mean2 = malloc(sizeof(double) * NTE), *sig2 = malloc(sizeof(double) * NTE);
  synthetic(NTR, 1.0, 11, X, y);
  synthetic(NTE, 1.0, 12, Xt, yt);
  for (int i = 0; i < NTR; ++i) y[i] = smooth(X + 3 * i) + (y[i] - smooth(X + 3 * i)) * noise_at(X + 3 * i);
  for (int i = 0; i < NTE; ++i) yt[i] = smooth(Xt + 3 * i) + (yt[i] - smooth(Xt + 3 * i)) * noise_at(Xt + 3 * i);
  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  o.members = 8;
  o.features = 128;
  o.target_delta = 0;
  o.seed = 5;
  o.noise = 1;
  ms_surrogate c = train(&o, NTR, 3, X, y);
  o.noise = 2;
  ms_surrogate l = train(&o, NTR, 3, X, y);
  MS_TEST_OK(ms_surrogate_predict(c, NTE, Xt, mean, sig));
  MS_TEST_OK(ms_surrogate_predict(l, NTE, Xt, mean2, sig2));
  /* the noise term leaves the mean alone */
  MS_TEST_TRUE(memcmp(mean, mean2, sizeof(double) * NTE) == 0);
  double c0 = within_1sigma_side(NTE, Xt, yt, mean, sig, 0), c1 = within_1sigma_side(NTE, Xt, yt, mean, sig, 1);
  double l0 = within_1sigma_side(NTE, Xt, yt, mean2, sig2, 0), l1 = within_1sigma_side(NTE, Xt, yt, mean2, sig2, 1);
  double s0 = 0, s1 = 0;
  int n0 = 0, n1 = 0;
  for (int i = 0; i < NTE; ++i) {
    if (Xt[3 * i] < 0) s0 += sig2[i], n0++;
    else s1 += sig2[i], n1++;
  }
  s0 /= n0;
  s1 /= n1;
  fprintf(stderr, "local noise: within 1 sigma quiet/noisy constant %.3f/%.3f, local %.3f/%.3f; "
                  "mean local sigma %.4f/%.4f\n", c0, c1, l0, l1, s0, s1);
  /* constant: too wide where quiet, too narrow where noisy */
  MS_TEST_TRUE(c0 > 0.8 && c1 < 0.55);
  /* local: close to a normal's 68 % on both sides, and sigma follows the noise (whose mean
   * is 0.07 on the quiet side and 0.19 on the noisy one) */
  MS_TEST_TRUE(l0 > 0.6 && l0 < 0.78 && l1 > 0.58 && l1 < 0.78);
  MS_TEST_TRUE(s1 > 1.7 * s0 && s0 > 0.03 && s1 < 0.3);
  /* saved and loaded: bitwise the same */
  char path[512];
  ms_surrogate r = save_and_reload(l, "test_surrogate_local_noise.h5", path, sizeof path);
  if (r) {
    MS_TEST_OK(ms_surrogate_predict(r, NTE, Xt, mean, sig));
    MS_TEST_TRUE(memcmp(mean, mean2, sizeof(double) * NTE) == 0);
    MS_TEST_TRUE(memcmp(sig, sig2, sizeof(double) * NTE) == 0);
    ms_surrogate_info ri;
    ms_surrogate_get_info(r, &ri);
    MS_TEST_EQ_INT(ri.options.noise, 2);
    ms_surrogate_free(&r);
  }
  tamper_int_attr(path, "/surrogate", "noise", 3);
  MS_TEST_ERR(ms_surrogate_read(path, "/surrogate", &r), MS_ERR_INPUT, "noise = 3");
  remove(path);
  o.noise = 3;
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, NTR, 3, X, y, &r), MS_ERR_ARG, "noise must be");
  ms_surrogate_free(&c);
  ms_surrogate_free(&l);
  free(X);
  free(y);
  free(Xt);
  free(yt);
  free(mean);
  free(sig);
  free(mean2);
  free(sig2);
}

/* y = baseline + small smooth correction: the delta target learns only the correction. */
static void test_delta_target(void) {
  enum { N = 300, D4 = 4 };
  double X[N * D4], y[N], mean[N], sig[N];
  ms_rng r;
  ms_rng_init(&r, 5, 0);
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < 3; ++j) X[i * D4 + j] = 4 * ms_rng_uniform(&r) - 2;
    X[i * D4 + 3] = -30 + 10 * ms_rng_uniform(&r); /* the "single-point energy" */
    y[i] = X[i * D4 + 3] - 0.1 - 0.05 * sin(X[i * D4]) * X[i * D4 + 1];
  }
  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  o.members = 4;
  o.features = 64;
  o.baseline_column = 3;
  ms_surrogate s = train(&o, N, D4, X, y);
  MS_TEST_OK(ms_surrogate_predict(s, N, X, mean, sig));
  ms_regression_scores sc;
  MS_TEST_OK(ms_metrics_regression(N, y, mean, &sc));
  fprintf(stderr, "delta target: training MAE %.5f\n", sc.mae);
  MS_TEST_TRUE(sc.mae < 0.01);
  ms_surrogate_info info;
  ms_surrogate_get_info(s, &info);
  MS_TEST_EQ_INT(info.options.target_delta, 1);
  MS_TEST_EQ_INT(info.options.baseline_column, 3);
  ms_surrogate_free(&s);
}

/* Descriptor-shaped rows: D columns, the e_single column as baseline (the funnel's case). */
static void descriptor_rows(int64_t n, double *X, double *y) {
  const int D = ms_descriptor_count(), es = ms_descriptor_index("e_single_eV_per_atom");
  ms_rng r;
  ms_rng_init(&r, 17, 0);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < D; ++j) X[i * D + j] = ms_rng_normal(&r);
    X[i * D + es] = -35 + ms_rng_uniform(&r);
    y[i] = X[i * D + es] - 0.2 + 0.05 * tanh(X[i * D]);
  }
}

static void tamper_string_dataset(const char *path, const char *dset, int row, const char *text) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  size_t w = H5Tget_size(t);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  char *buf = calloc(n, w);
  H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  memset(buf + row * w, 0, w);
  memcpy(buf + row * w, text, strlen(text));
  H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  free(buf);
  H5Sclose(sp);
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);
}

static void tamper_int_attr(const char *path, const char *obj, const char *name, int64_t v) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  /* Delete and re-create: HDF5 1.10 cannot rewrite an attribute in dense storage in place. */
  MS_TEST_TRUE(f >= 0 && H5Adelete_by_name(f, obj, name, H5P_DEFAULT) >= 0);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate_by_name(f, obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  MS_TEST_TRUE(a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
  H5Aclose(a);
  H5Sclose(sp);
  MS_TEST_TRUE(H5Fclose(f) >= 0);
}

static void write_model(ms_surrogate s, const char *path, const char *group) {
  ms_h5 f = NULL;
  MS_TEST_OK(ms_h5_create(MPI_COMM_SELF, path, &f));
  MS_TEST_OK(ms_h5_attr_str(f, "/", "program", "matscreen"));
  MS_TEST_OK(ms_surrogate_write(s, MPI_COMM_SELF, f, group));
  MS_TEST_OK(ms_h5_close(&f));
}

/* Write @p s to a fresh file @p name in the build directory (its path into @p path) under
 * /surrogate and read it back (NULL, with a test failure, if that fails). */
static ms_surrogate save_and_reload(ms_surrogate s, const char *name, char *path, size_t len) {
  path_in_build(path, len, name);
  remove(path);
  write_model(s, path, "/surrogate");
  ms_surrogate l = NULL;
  MS_TEST_OK(ms_surrogate_read(path, "/surrogate", &l));
  return l;
}

static void test_save_load(void) {
  const int D = ms_descriptor_count();
  enum { N = 240, NP = 100 };
  double *X = malloc(sizeof(double) * N * D), *y = malloc(sizeof(double) * N);
  double m1[NP], s1[NP], m2[NP], s2[NP];
  descriptor_rows(N, X, y);
  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  o.members = 6;
  o.features = 96;
  o.seed = UINT64_C(0xfedcba9876543210); /* above INT64_MAX: stored as its bit pattern */
  ms_surrogate s = train(&o, N, D, X, y);
  ms_surrogate_info info;
  ms_surrogate_get_info(s, &info);
  MS_TEST_EQ_INT(info.descriptor_names, 1);
  MS_TEST_OK(ms_surrogate_predict(s, NP, X, m1, s1));

  char path[512];
  ms_surrogate l = save_and_reload(s, "test_surrogate_model.h5", path, sizeof path);
  if (l) {
    MS_TEST_OK(ms_surrogate_predict(l, NP, X, m2, s2));
    MS_TEST_TRUE(memcmp(m1, m2, sizeof m1) == 0);
    MS_TEST_TRUE(memcmp(s1, s2, sizeof s1) == 0);
    ms_surrogate_info li;
    ms_surrogate_get_info(l, &li);
    MS_TEST_TRUE(li.options.seed == o.seed);
    MS_TEST_EQ_INT(li.options.members, 6);
    MS_TEST_EQ_INT(li.options.features, 96);
    MS_TEST_EQ_INT(li.options.baseline_column, -1);
    MS_TEST_EQ_INT(li.ntrain, N);
    MS_TEST_TRUE(li.length_scale == info.length_scale && li.noise_sigma == info.noise_sigma);
    MS_TEST_EQ_INT(li.descriptor_names, 1);
    ms_surrogate_free(&l);
  }
  /* Refusals, each with a message naming what differs. */
  MS_TEST_ERR(ms_surrogate_read(path, "/nope", &l), MS_ERR_INPUT, "no group '/nope'");
  MS_TEST_TRUE(l == NULL);
  MS_TEST_ERR(ms_surrogate_read("no-such-file.h5", "/surrogate", &l), MS_ERR_FILE, "no-such-file.h5");
  tamper_int_attr(path, "/surrogate", "descriptors_version", MS_DESCRIPTORS_VERSION + 1);
  MS_TEST_ERR(ms_surrogate_read(path, "/surrogate", &l), MS_ERR_INPUT, "descriptors version");
  tamper_int_attr(path, "/surrogate", "descriptors_version", MS_DESCRIPTORS_VERSION);
  tamper_string_dataset(path, "/surrogate/column_names", 3, "en_median");
  MS_TEST_ERR(ms_surrogate_read(path, "/surrogate", &l), MS_ERR_INPUT,
              "descriptor 3 of the surrogate is 'en_median', this build's is 'en_max'");
  tamper_string_dataset(path, "/surrogate/column_names", 3, "en_max");
  MS_TEST_OK(ms_surrogate_read(path, "/surrogate", &l));
  ms_surrogate_free(&l);
  tamper_int_attr(path, "/surrogate", "format_version", MS_SURROGATE_FORMAT_VERSION + 1);
  MS_TEST_ERR(ms_surrogate_read(path, "/surrogate", &l), MS_ERR_INPUT, "format version");
  remove(path);

  /* A generic model (not on descriptors) in a nested group loads without a names check; with
   * the constant noise term (the model above has the default, local one). */
  double Xg[60 * 3], yg[60], mg[5], mg2[5], sg1[5], sg2[5];
  synthetic(60, 0.01, 3, Xg, yg);
  o.target_delta = 0;
  o.linear = 0;
  o.noise = 1;
  ms_surrogate g = train(&o, 60, 3, Xg, yg);
  write_model(g, path, "/models/round1/");
  MS_TEST_OK(ms_surrogate_read(path, "/models/round1", &l));
  MS_TEST_OK(ms_surrogate_predict(g, 5, Xg, mg, sg1));
  if (l) MS_TEST_OK(ms_surrogate_predict(l, 5, Xg, mg2, sg2));
  MS_TEST_TRUE(l && memcmp(mg, mg2, sizeof mg) == 0 && memcmp(sg1, sg2, sizeof sg1) == 0);
  if (l) {
    ms_surrogate_info gi;
    ms_surrogate_get_info(l, &gi);
    MS_TEST_EQ_INT(gi.options.noise, 1);
  }
  ms_surrogate_free(&l);
  ms_surrogate_free(&g);
  remove(path);
  ms_surrogate_free(&s);
  free(X);
  free(y);
}

static void test_errors(void) {
  double X[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, y[4] = {1, 2, 3, 4};
  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  o.members = 2;
  o.features = 8;
  ms_surrogate s = NULL;
  /* target_delta with the default baseline needs the descriptor columns */
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, 4, 3, X, y, &s), MS_ERR_ARG,
              "baseline_column");
  o.target_delta = 0;
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, 1, 3, X, y, &s), MS_ERR_ARG, "at least 2");
  o.lambda = 0;
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, 4, 3, X, y, &s), MS_ERR_ARG, "lambda");
  o.lambda = 1e-3;
  o.members = 0;
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, 4, 3, X, y, &s), MS_ERR_ARG, "members");
  o.members = 2;
  X[7] = NAN;
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, 4, 3, X, y, &s), MS_ERR_INPUT,
              "row 2, column 1");
  X[7] = 7;
  y[3] = INFINITY;
  MS_TEST_ERR(ms_surrogate_train(MPI_COMM_SELF, &o, 4, 3, X, y, &s), MS_ERR_INPUT, "row 3");
  MS_TEST_TRUE(s == NULL);
  y[3] = 4;
  /* Constant columns and targets are fine (the model is the constant). */
  double Xc[8] = {1, 2, 1, 2, 1, 2, 1, 2}, yc[4] = {3, 3, 3, 3}, m[2];
  MS_TEST_OK(ms_surrogate_train(MPI_COMM_SELF, &o, 4, 2, Xc, yc, &s));
  if (s) {
    MS_TEST_OK(ms_surrogate_predict(s, 2, Xc, m, NULL));
    MS_TEST_NEAR(m[0], 3, 1e-12);
  }
  ms_surrogate_free(&s);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (ms_elements_load()) return 1;
  test_defaults();
  test_regression();
  test_local_noise();
  test_delta_target();
  test_save_load();
  test_errors();
  ms_petsc_finalize();
  ms_elements_unload();
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return rc;
}
