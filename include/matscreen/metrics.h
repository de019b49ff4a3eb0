/**
 * @file metrics.h
 * @brief How good a surrogate is: stability classification (precision, recall, F1, accuracy,
 *        prevalence, discovery acceleration factor), regression errors (MAE, RMSE) and the
 *        calibration of its uncertainty (fraction of errors within 1 and 2 sigma).
 *
 * Conventions
 * -----------
 * - Units: energies, thresholds and sigmas in eV/atom (any unit works if all agree); the
 *   scores are dimensionless fractions except the errors, which carry the unit of the input.
 * - "Stable" means e_above_hull <= threshold, for the true and for the predicted value alike
 *   (Matbench Discovery's convention; its threshold is 0). A positive is a stable candidate.
 * - Discovery acceleration factor (DAF), as defined by Matbench Discovery (Riebesell et al.,
 *   arXiv:2308.14920): DAF = precision / prevalence, how many times more stable
 *   candidates a screen finds per candidate it selects than picking at random would.
 * - Rows where a value needed is not finite (NaN true or predicted energy, NaN sigma) are
 *   skipped and counted in `skipped`; the scores use the other rows.
 * - Undefined scores are NaN and documented per field: precision without predicted
 *   positives, recall without positives, F1 when precision or recall is NaN (F1 = 0 when both
 *   are 0), prevalence and accuracy without rows, DAF when precision is NaN or prevalence is 0
 *   or NaN, every regression and calibration score without rows.
 * - Plain functions over arrays: not collective, no allocation, deterministic (sums in index
 *   order). Errors: MS_ERR_ARG for NULL arrays with n > 0, n < 0, or a negative sigma (the
 *   message names the row).
 */
#ifndef MATSCREEN_METRICS_H
#define MATSCREEN_METRICS_H

#include <stdint.h>

#include "matscreen/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Confusion matrix of "stable" and the scores derived from it. */
typedef struct {
  int64_t n;          /**< rows counted */
  int64_t skipped;    /**< rows with a non-finite true or predicted value */
  int64_t tp, fp, tn, fn;
  double precision;   /**< tp / (tp + fp); NaN when tp + fp = 0 */
  double recall;      /**< tp / (tp + fn); NaN when tp + fn = 0 */
  double f1;          /**< 2 P R / (P + R); 0 when P = R = 0; NaN when P or R is NaN */
  double accuracy;    /**< (tp + tn) / n; NaN when n = 0 */
  double prevalence;  /**< (tp + fn) / n; NaN when n = 0 */
  double daf;         /**< precision / prevalence; NaN when either is NaN or prevalence = 0 */
} ms_stability_scores;

/** Errors of predicted vs true values (error = predicted - true). */
typedef struct {
  int64_t n, skipped;
  double mae;         /**< mean |error|; NaN when n = 0 */
  double rmse;        /**< sqrt(mean error^2); NaN when n = 0 */
  double mean_error;  /**< mean error (bias); NaN when n = 0 */
  double max_abs_error; /**< NaN when n = 0 */
} ms_regression_scores;

/** Calibration of an uncertainty: for a well calibrated Gaussian sigma, within_1sigma is
 *  about 0.683 and within_2sigma about 0.954. */
typedef struct {
  int64_t n, skipped;
  double within_1sigma; /**< fraction of rows with |error| <= sigma; NaN when n = 0 */
  double within_2sigma; /**< fraction with |error| <= 2 sigma; NaN when n = 0 */
  double mean_sigma;    /**< NaN when n = 0 */
} ms_calibration_scores;

/** Stability classification of @p e_pred against @p e_true (e_above_hull of @p n rows). */
ms_err ms_metrics_stability(int64_t n, const double *e_true, const double *e_pred, double threshold,
                            ms_stability_scores *out);
/** MAE, RMSE, bias and largest error of @p pred against @p truth. */
ms_err ms_metrics_regression(int64_t n, const double *truth, const double *pred,
                             ms_regression_scores *out);
/** Fractions of |pred - truth| within 1 and 2 @p sigma (>= 0; NaN rows are skipped). */
ms_err ms_metrics_calibration(int64_t n, const double *truth, const double *pred,
                              const double *sigma, ms_calibration_scores *out);

#ifdef __cplusplus
}
#endif
#endif
