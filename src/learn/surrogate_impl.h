/* Internals of the surrogate shared by its training/prediction and its HDF5 files
 * (not installed). */
#ifndef MS_SURROGATE_IMPL_H
#define MS_SURROGATE_IMPL_H

#include <stdint.h>

#include "matscreen/surrogate.h"

/* Width of a stored column name (the HDF5 string width), NUL included. */
#define MS__SURR_NAME_LEN 48

struct ms_surrogate_s {
  ms_surrogate_options opt;
  int d;            /* columns of X */
  int p;            /* random features per member (= opt.features) */
  int nlin;         /* linear features per member (d with opt.linear, else 0) */
  int nw;           /* weights per member: p + nlin */
  int baseline;     /* resolved baseline column, -1 without target_delta */
  int64_t ntrain;
  double length_scale;
  double noise_var; /* (eV/atom)^2, added to the ensemble variance (noise 1); with noise 2
                       the scale c of the local noise c exp(g(z)) */
  double oob_rmse;
  int64_t oob_rows;
  int descriptor_names;
  char (*names)[MS__SURR_NAME_LEN]; /* d column names */
  double *mu, *scale;   /* d: standardisation z = (x - mu) / scale */
  double *freq;         /* members x p x d: frequencies (1/length scale included) */
  double *phase;        /* members x p */
  double *weight;       /* members x nw */
  double *intercept;    /* members */
  double *lambda_abs;   /* members: absolute ridge penalty used */
  /* noise 2 (local): g(z) = mean over members of noise_b[m] + noise_w[m] . phi_m(z), clamped
   * to [noise_lo, noise_hi], models the log of the out-of-bag squared error */
  double *noise_w;      /* members x nw (NULL unless noise 2) */
  double *noise_b;      /* members */
  double noise_lo, noise_hi;
};

/* Allocate the arrays of a model whose sizes (opt, d, p, nlin, nw) are set. */
ms_err ms__surrogate_alloc(ms_surrogate s);

/* Standardised row z (d values) of raw row x; returns 0 if some value is not finite. */
int ms__surrogate_standardize(const ms_surrogate s, const double *x, double *z);

/* Feature vector phi (nw values) of member m at standardised row z. */
void ms__surrogate_features(const ms_surrogate s, int m, const double *z, double *phi);

/* Prediction of member m (in target units, without the baseline) at standardised row z;
 * @p phi is scratch of nw values. */
double ms__surrogate_member(const ms_surrogate s, int m, const double *z, double *phi);

/* Ridge fit of weights w (nw) and intercept on member m's features of n rows of X with
 * targets t and multiplicities count (NULL: all 1); lambda is relative to the mean squared
 * norm of the centred features, the absolute penalty goes to *lambda_abs (may be NULL).
 * Not collective. */
ms_err ms__surrogate_ridge_fit(const ms_surrogate s, int m, int64_t n, const double *X,
                               const double *t, const int32_t *count, double lambda, double *w,
                               double *intercept, double *lambda_abs);

/* Member m's row of w (members x nw) and its entries of a and b (members each; b may be
 * NULL) from rank m % size, where it was fitted, to every rank. Collective; errors agreed. */
ms_err ms__surrogate_share_members(MPI_Comm comm, const ms_surrogate s, double *w, double *a,
                                   double *b);

/* Local noise (surrogate_noise.c): member m's term of g at its features phi, and the noise
 * variance for g = the mean of the members' terms (noise 0/1: the constant noise_var). */
double ms__surrogate_log_noise_member(const ms_surrogate s, int m, const double *phi);
double ms__surrogate_noise_from_log(const ms_surrogate s, double g);

/* Fit the local noise model (noise 2) to n rows of out-of-bag statistics: oob[3i] = r_i^2,
 * oob[3i+1] = v_i (member spread), oob[3i+2] = 1 if the row has them; sets noise_w, noise_b,
 * the clamp range and the scale noise_var. Collective over comm (every rank passes the same
 * rows and gets the same model). */
ms_err ms__surrogate_fit_local_noise(MPI_Comm comm, ms_surrogate s, int64_t n, const double *X,
                                     const double *oob);

/* Solve (G + lambda I) w = b for the P x P symmetric G (row-major; only the upper triangle is
 * read) with PETSc's Cholesky on PETSC_COMM_SELF (ridge.c). Not collective. */
ms_err ms__ridge_solve(int P, const double *G, double lambda, const double *b, double *w);

#endif
