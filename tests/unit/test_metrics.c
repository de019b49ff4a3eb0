/* Surrogate scores (src/learn/metrics.c) on confusion matrices and errors counted by hand,
 * with the edge cases of metrics.h: no positives, no predicted positives, no rows, skipped
 * NaN rows, boundaries (<= threshold, |error| <= k sigma). */
#include <math.h>

#include "matscreen/metrics.h"
#include "ms_test.h"

static void test_confusion(void) {
  /* Row by row with threshold 0: TP, FN (0 is stable), FP, FP, TN, FN, skipped, skipped. */
  const double t[8] = {-0.1, 0.0, 0.02, 0.1, 0.3, -0.05, NAN, 0.2};
  const double p[8] = {-0.05, 0.04, -0.01, 0.0, 0.5, 0.2, 0.0, NAN};
  ms_stability_scores s;
  MS_TEST_OK(ms_metrics_stability(8, t, p, 0.0, &s));
  MS_TEST_EQ_INT(s.tp, 1);
  MS_TEST_EQ_INT(s.fp, 2);
  MS_TEST_EQ_INT(s.tn, 1);
  MS_TEST_EQ_INT(s.fn, 2);
  MS_TEST_EQ_INT(s.n, 6);
  MS_TEST_EQ_INT(s.skipped, 2);
  MS_TEST_NEAR(s.precision, 1.0 / 3, 1e-15);
  MS_TEST_NEAR(s.recall, 1.0 / 3, 1e-15);
  MS_TEST_NEAR(s.f1, 1.0 / 3, 1e-15);
  MS_TEST_NEAR(s.accuracy, 2.0 / 6, 1e-15);
  MS_TEST_NEAR(s.prevalence, 0.5, 1e-15);
  MS_TEST_NEAR(s.daf, 2.0 / 3, 1e-15);

  /* A threshold of 0.05 eV/atom moves rows 2 (true 0.02) and 1 (pred 0.04) into "stable":
   * TP rows 0, 1, 2; FP row 3; TN row 4; FN row 5. */
  MS_TEST_OK(ms_metrics_stability(8, t, p, 0.05, &s));
  MS_TEST_EQ_INT(s.tp, 3);
  MS_TEST_EQ_INT(s.fp, 1);
  MS_TEST_EQ_INT(s.tn, 1);
  MS_TEST_EQ_INT(s.fn, 1);
  MS_TEST_NEAR(s.precision, 0.75, 1e-15);
  MS_TEST_NEAR(s.recall, 0.75, 1e-15);
  MS_TEST_NEAR(s.f1, 0.75, 1e-15);
  MS_TEST_NEAR(s.prevalence, 4.0 / 6, 1e-15);
  MS_TEST_NEAR(s.daf, 0.75 / (4.0 / 6), 1e-15);

  /* A perfect screen at prevalence 1/4 accelerates discovery 4 times. */
  const double t4[4] = {-1, 1, 2, 3}, p4[4] = {-2, 2, 1, 4};
  MS_TEST_OK(ms_metrics_stability(4, t4, p4, 0, &s));
  MS_TEST_NEAR(s.precision, 1, 0);
  MS_TEST_NEAR(s.recall, 1, 0);
  MS_TEST_NEAR(s.f1, 1, 0);
  MS_TEST_NEAR(s.daf, 4, 1e-15);
}

static void test_edge_cases(void) {
  ms_stability_scores s;
  /* No positives at all: recall, F1 and DAF undefined; precision 0 (one false positive). */
  const double t1[3] = {0.1, 0.2, 0.3}, p1[3] = {-0.1, 0.2, 0.3};
  MS_TEST_OK(ms_metrics_stability(3, t1, p1, 0, &s));
  MS_TEST_NEAR(s.precision, 0, 0);
  MS_TEST_TRUE(isnan(s.recall));
  MS_TEST_TRUE(isnan(s.f1));
  MS_TEST_NEAR(s.prevalence, 0, 0);
  MS_TEST_TRUE(isnan(s.daf));
  /* Zero predicted positives: precision, F1 and DAF undefined; recall 0. */
  const double t2[3] = {-0.1, 0.2, 0.3}, p2[3] = {0.1, 0.2, 0.3};
  MS_TEST_OK(ms_metrics_stability(3, t2, p2, 0, &s));
  MS_TEST_TRUE(isnan(s.precision));
  MS_TEST_NEAR(s.recall, 0, 0);
  MS_TEST_TRUE(isnan(s.f1));
  MS_TEST_TRUE(isnan(s.daf));
  MS_TEST_NEAR(s.prevalence, 1.0 / 3, 1e-15);
  /* Everything wrong: precision = recall = 0, so F1 = 0 and DAF = 0. */
  const double t3[2] = {-1, 1}, p3[2] = {1, -1};
  MS_TEST_OK(ms_metrics_stability(2, t3, p3, 0, &s));
  MS_TEST_NEAR(s.precision, 0, 0);
  MS_TEST_NEAR(s.recall, 0, 0);
  MS_TEST_NEAR(s.f1, 0, 0);
  MS_TEST_NEAR(s.daf, 0, 0);
  /* No rows (or only NaN rows). */
  MS_TEST_OK(ms_metrics_stability(0, NULL, NULL, 0, &s));
  MS_TEST_EQ_INT(s.n, 0);
  MS_TEST_TRUE(isnan(s.precision) && isnan(s.recall) && isnan(s.f1) && isnan(s.accuracy) &&
               isnan(s.prevalence) && isnan(s.daf));
  const double nan2[2] = {NAN, NAN};
  MS_TEST_OK(ms_metrics_stability(2, nan2, t3, 0, &s));
  MS_TEST_EQ_INT(s.skipped, 2);
  MS_TEST_TRUE(isnan(s.prevalence));
  /* Misuse. */
  MS_TEST_ERR(ms_metrics_stability(2, NULL, p3, 0, &s), MS_ERR_ARG, "NULL");
  MS_TEST_ERR(ms_metrics_stability(-1, t3, p3, 0, &s), MS_ERR_ARG, "n must be");
  MS_TEST_ERR(ms_metrics_stability(2, t3, p3, NAN, &s), MS_ERR_ARG, "threshold");
}

static void test_regression(void) {
  const double truth[4] = {1, 2, 3, NAN}, pred[4] = {1.5, 1.0, 3.0, 4};
  ms_regression_scores r;
  MS_TEST_OK(ms_metrics_regression(4, truth, pred, &r));
  MS_TEST_EQ_INT(r.n, 3);
  MS_TEST_EQ_INT(r.skipped, 1);
  MS_TEST_NEAR(r.mae, 0.5, 1e-15);
  MS_TEST_NEAR(r.rmse, sqrt(1.25 / 3), 1e-15);
  MS_TEST_NEAR(r.mean_error, -0.5 / 3, 1e-15);
  MS_TEST_NEAR(r.max_abs_error, 1, 0);
  MS_TEST_OK(ms_metrics_regression(0, NULL, NULL, &r));
  MS_TEST_TRUE(isnan(r.mae) && isnan(r.rmse) && isnan(r.mean_error) && isnan(r.max_abs_error));
}

static void test_calibration(void) {
  /* |errors| 0.5, 1.5, 3, 0.1, 2 with sigmas 1, 1, 1, 0, 1 (the last exactly on 2 sigma);
   * a NaN sigma is skipped. */
  const double truth[6] = {0, 0, 0, 0, 0, 0}, pred[6] = {0.5, -1.5, 3, 0.1, 2, 1};
  const double sigma[6] = {1, 1, 1, 0, 1, NAN};
  ms_calibration_scores c;
  MS_TEST_OK(ms_metrics_calibration(6, truth, pred, sigma, &c));
  MS_TEST_EQ_INT(c.n, 5);
  MS_TEST_EQ_INT(c.skipped, 1);
  MS_TEST_NEAR(c.within_1sigma, 1.0 / 5, 1e-15);
  MS_TEST_NEAR(c.within_2sigma, 3.0 / 5, 1e-15);
  MS_TEST_NEAR(c.mean_sigma, 4.0 / 5, 1e-15);
  const double neg[2] = {1, -0.1};
  MS_TEST_ERR(ms_metrics_calibration(2, truth, pred, neg, &c), MS_ERR_ARG, "row 1");
  MS_TEST_OK(ms_metrics_calibration(0, NULL, NULL, NULL, &c));
  MS_TEST_TRUE(isnan(c.within_1sigma) && isnan(c.within_2sigma) && isnan(c.mean_sigma));
}

int main(void) {
  test_confusion();
  test_edge_cases();
  test_regression();
  test_calibration();
  return MS_TEST_RESULT();
}
