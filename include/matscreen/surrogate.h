/**
 * @file surrogate.h
 * @brief The learned surrogate: an ensemble of ridge regressions on random Fourier features
 *        of standardised descriptors, predicting the relaxed energy per atom with an
 *        uncertainty, trained on a campaign's own relaxations; saved to and loaded from HDF5.
 *
 * Conventions (units as in cell.h; the model itself is in docs/surrogate.md)
 * -----------
 * - Data: X is n x d row-major (a row per candidate, usually the d = ms_descriptor_count()
 *   descriptors of descriptors.h), y is the relaxed energy in eV/atom. Predictions (mean) and
 *   uncertainties (sigma) are in eV/atom and always refer to the relaxed energy per atom, also
 *   when the model internally learns the relaxation energy (target_delta, the default): then it
 *   fits y - X[:, baseline_column] (e_relaxed - e_single) and adds the column back.
 * - Determinism: all randomness (bootstrap samples, random features) comes from Philox keyed by
 *   (seed, member); every floating-point sum runs in an order fixed by row and column indices.
 *   Member m is fitted on rank m % size and its weights are broadcast from there, so training
 *   gives bitwise the same model on any number of ranks; prediction is a pure function of the
 *   model and the row, so a saved and reloaded model predicts bitwise the same values.
 * - Collectivity: ms_surrogate_train and ms_surrogate_write are collective over their @p comm
 *   (for writing, the communicator of the file); ms_surrogate_predict, ms_surrogate_read and
 *   the accessors are not. Every rank must pass the same training data (the caller gathers the
 *   relaxed candidates, sorted by id, to every rank). Both collective functions agree on
 *   errors with ms_err_agree() internally: every rank returns the same code.
 * - PETSc: each member's normal equations are solved by a KSP on PETSC_COMM_SELF (PETSc is
 *   initialised lazily, ms_petsc_init in relax.h), options prefix "surrogate_"; the default is
 *   a Cholesky factorisation in PETSc's own code (no threaded BLAS, so the result does not
 *   depend on the BLAS thread count).
 * - Ownership: ms_surrogate_train/read allocate the model; ms_surrogate_free releases it.
 *   A model is immutable after creation; ms_surrogate_predict is thread-safe.
 * - Errors: MS_ERR_ARG for bad options or sizes (the message names the field), MS_ERR_INPUT
 *   for non-finite training data (naming row and column) and for a saved model that does not
 *   match this build (descriptor names, descriptor or format version), MS_ERR_FILE /
 *   MS_ERR_HDF5 for unreadable files, MS_ERR_PETSC, MS_ERR_MEM.
 */
#ifndef MATSCREEN_SURROGATE_H
#define MATSCREEN_SURROGATE_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/h5out.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the saved layout (attribute "format_version" of the model's group). */
#define MS_SURROGATE_FORMAT_VERSION 1

/** Settings; start from ms_surrogate_options_default(). */
typedef struct {
  int members;         /**< ensemble size M (16) */
  int features;        /**< random Fourier features per member (256) */
  double lambda;       /**< ridge penalty relative to the mean squared norm of the centred
                            feature vectors, i.e. a noise-to-signal variance ratio (1e-3) */
  double length_scale; /**< Gaussian kernel length in standardised units; 0 (default): the
                            median distance between training rows (median heuristic) */
  uint64_t seed;       /**< Philox key (0 is a valid seed; the funnel passes the campaign's) */
  int target_delta;    /**< 1 (default): learn y - X[:, baseline_column]; 0: learn y */
  int baseline_column; /**< column of X holding e_single for target_delta; -1 (default): the
                            descriptor "e_single_eV_per_atom" (then d must equal
                            ms_descriptor_count()) */
  int linear;          /**< 1 (default): add the standardised descriptors as linear features
                            beside the random ones (a linear kernel term), so that trends
                            extrapolate instead of decaying to the mean; 0: random only */
  int noise;           /**< 2 (default): sigma^2 = ensemble variance + a local noise
                            variance c exp(g(x)), g a ridge model of the log squared
                            out-of-bag error (errors differ by region); 1: + one noise
                            variance estimated out of bag; 0: ensemble variance only */
} ms_surrogate_options;

typedef struct ms_surrogate_s *ms_surrogate;

/** What a trained or loaded model is (for logs and the output). */
typedef struct {
  ms_surrogate_options options; /**< as trained */
  int d;                        /**< descriptors per row */
  int64_t ntrain;               /**< training rows */
  double length_scale;          /**< the one used (median heuristic or given) */
  double lambda_abs;            /**< mean over members of the absolute ridge penalty */
  double noise_sigma;           /**< eV/atom, the noise term (0 without noise); with noise 2
                                     the geometric middle of its range over the training
                                     rows, sqrt(c exp((g_min + g_max) / 2)) */
  double oob_rmse;              /**< eV/atom, out-of-bag RMSE of the ensemble (NaN if no row
                                     was out of bag for two members) */
  int64_t oob_rows;             /**< rows that entered the out-of-bag estimates */
  int descriptor_names;         /**< 1: the columns are this build's descriptors */
} ms_surrogate_info;

void ms_surrogate_options_default(ms_surrogate_options *o);

/**
 * Train on @p n rows of @p d columns. Collective over @p comm: every rank passes the same
 * X and y and gets bitwise the same model in *out (NULL on error on every rank).
 * Needs n >= 2; rows with non-finite values are an error (filter them first).
 */
ms_err ms_surrogate_train(MPI_Comm comm, const ms_surrogate_options *o, int64_t n, int d,
                          const double *X, const double *y, ms_surrogate *out);

/**
 * Predicted relaxed energy (eV/atom) @p mean and its uncertainty @p sigma (may be NULL) for
 * @p n rows of X (same d as trained). Not collective. A non-finite input value gives NaN for
 * that row.
 */
ms_err ms_surrogate_predict(const ms_surrogate s, int64_t n, const double *X, double *mean,
                            double *sigma);

/**
 * Write the model into group @p group (e.g. "/surrogate") of an output file: weights, feature
 * maps, standardisation, options, column names, versions (docs/surrogate.md). Collective over
 * @p comm, the communicator @p f was created with; every rank must hold the same model (as
 * after training): rank 0 writes the rows. Agrees on errors internally (every rank returns the
 * same code).
 */
ms_err ms_surrogate_write(const ms_surrogate s, MPI_Comm comm, ms_h5 f, const char *group);

/**
 * Load a model written by ms_surrogate_write from @p path, group @p group. Not collective
 * (serial HDF5 read; every rank may load its own copy). Refuses, with MS_ERR_INPUT and a
 * message saying what differs, a model of another format version or one trained on
 * descriptors that differ from this build's (names or MS_DESCRIPTORS_VERSION).
 */
ms_err ms_surrogate_read(const char *path, const char *group, ms_surrogate *out);

/** Summary of a model. */
void ms_surrogate_get_info(const ms_surrogate s, ms_surrogate_info *info);

/** Free; NULL-safe, sets *s = NULL. */
void ms_surrogate_free(ms_surrogate *s);

#ifdef __cplusplus
}
#endif
#endif
