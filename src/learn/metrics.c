/* Scores of a surrogate (metrics.h): stability classification, regression errors and
 * calibration of the uncertainty. The definitions and their edge cases are in metrics.h and
 * docs/surrogate.md; the classification scores follow Matbench Discovery (DAF = precision /
 * prevalence). */
#include "matscreen/metrics.h"

#include <math.h>
#include <string.h>

static ms_err check_arrays(int64_t n, const void *a, const void *b, const void *c, void *out) {
  MS_CHECK(out, MS_ERR_ARG, "metrics: NULL output");
  MS_CHECK(n >= 0, MS_ERR_ARG, "metrics: n must be >= 0, got %lld", (long long)n);
  MS_CHECK(n == 0 || (a && b && c), MS_ERR_ARG, "metrics: NULL input array with n = %lld",
           (long long)n);
  return MS_SUCCESS;
}

static double ratio(int64_t num, int64_t den) { return den ? (double)num / (double)den : NAN; }

ms_err ms_metrics_stability(int64_t n, const double *e_true, const double *e_pred, double threshold,
                            ms_stability_scores *out) {
  MS_CALL(check_arrays(n, e_true, e_pred, e_pred, out));
  MS_CHECK(isfinite(threshold), MS_ERR_ARG, "metrics: stability threshold must be finite, got %g",
           threshold);
  memset(out, 0, sizeof *out);
  for (int64_t i = 0; i < n; ++i) {
    if (!isfinite(e_true[i]) || !isfinite(e_pred[i])) {
      out->skipped++;
      continue;
    }
    int t = e_true[i] <= threshold, p = e_pred[i] <= threshold;
    out->tp += t && p;
    out->fp += !t && p;
    out->tn += !t && !p;
    out->fn += t && !p;
  }
  out->n = out->tp + out->fp + out->tn + out->fn;
  out->precision = ratio(out->tp, out->tp + out->fp);
  out->recall = ratio(out->tp, out->tp + out->fn);
  double P = out->precision, R = out->recall;
  out->f1 = isnan(P) || isnan(R) ? NAN : P + R == 0 ? 0.0 : 2 * P * R / (P + R);
  out->accuracy = ratio(out->tp + out->tn, out->n);
  out->prevalence = ratio(out->tp + out->fn, out->n);
  out->daf = isnan(P) || !(out->prevalence > 0) ? NAN : P / out->prevalence;
  return MS_SUCCESS;
}

ms_err ms_metrics_regression(int64_t n, const double *truth, const double *pred,
                             ms_regression_scores *out) {
  MS_CALL(check_arrays(n, truth, pred, pred, out));
  memset(out, 0, sizeof *out);
  double sa = 0, s2 = 0, se = 0, mx = 0;
  for (int64_t i = 0; i < n; ++i) {
    double err = pred[i] - truth[i];
    if (!isfinite(err)) {
      out->skipped++;
      continue;
    }
    out->n++;
    sa += fabs(err);
    s2 += err * err;
    se += err;
    mx = fmax(mx, fabs(err));
  }
  double k = (double)out->n;
  out->mae = out->n ? sa / k : NAN;
  out->rmse = out->n ? sqrt(s2 / k) : NAN;
  out->mean_error = out->n ? se / k : NAN;
  out->max_abs_error = out->n ? mx : NAN;
  return MS_SUCCESS;
}

ms_err ms_metrics_calibration(int64_t n, const double *truth, const double *pred,
                              const double *sigma, ms_calibration_scores *out) {
  MS_CALL(check_arrays(n, truth, pred, sigma, out));
  for (int64_t i = 0; i < n; ++i)
    MS_CHECK(!(sigma[i] < 0), MS_ERR_ARG, "metrics: sigma of row %lld is negative (%g)",
             (long long)i, sigma[i]);
  memset(out, 0, sizeof *out);
  int64_t in1 = 0, in2 = 0;
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) {
    double err = fabs(pred[i] - truth[i]);
    if (!isfinite(err) || !isfinite(sigma[i])) {
      out->skipped++;
      continue;
    }
    out->n++;
    in1 += err <= sigma[i];
    in2 += err <= 2 * sigma[i];
    ss += sigma[i];
  }
  out->within_1sigma = ratio(in1, out->n);
  out->within_2sigma = ratio(in2, out->n);
  out->mean_sigma = out->n ? ss / (double)out->n : NAN;
  return MS_SUCCESS;
}
