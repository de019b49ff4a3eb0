/* Private parts of the Ewald workspace shared by ewald.c (direct sums, parameters, real
 * space) and pme.c (smooth particle-mesh Ewald). Never installed, never included from
 * include/. */
#ifndef MATSCREEN_EWALD_IMPL_H
#define MATSCREEN_EWALD_IMPL_H

#include "matscreen/ewald.h"

#define MS__PI 3.14159265358979323846

/* Piecewise Taylor table of erfcx(x) = exp(x^2) erfc(x) on [0, ERFC_TAB_XMAX). */
enum { MS__ERFC_TAB_DEG = 11, MS__ERFC_TAB_N = 128 };
#define MS__ERFC_TAB_H 0.0625
#define MS__ERFC_TAB_XMAX (MS__ERFC_TAB_N * MS__ERFC_TAB_H)

typedef struct ms__pme ms__pme;

struct ms_ewald_s {
  ms_ewald_params par;
  int have_setup;

  /* structure of the last setup */
  int n, cap;
  double *qs;        /* q_i sqrt(K): then K q_i q_j = qs_i qs_j */
  double (*frac)[3]; /* fractional coordinates wrapped to [0, 1) */
  double L[3][3];    /* lattice rows (Å) */
  double B[3][3];    /* reciprocal rows without 2 pi: B L^T = 1 (Å^-1) */
  double vol;        /* |det L| */
  double qs_sum, qs2_sum;
  ms_ewald_info info;

  /* real space */
  double rmin2;
  int rmin_i, rmin_j;
  double erfc_tab[MS__ERFC_TAB_N][MS__ERFC_TAB_DEG + 1];

  /* direct reciprocal space: e^{2 pi i m f_d} for m = 0..kmax_d, SoA per direction */
  double *eik;
  size_t eik_cap;
  double *abuf; /* per-atom scratch, 8 n doubles */
  int abuf_cap;

  ms__pme *pme;
  ms_nlist nl;
};

/* PME (pme.c). Not collective. */
ms_err ms__pme_create(ms__pme **out);
void ms__pme_destroy(ms__pme **pme);
/* Grid and order for accuracy delta at splitting alpha; honours fixed order/grid in par. */
void ms__pme_choose(const ms_ewald_params *par, int natoms, double delta, double alpha,
                    const double L[3][3], int *order, int grid[3]);
/* Largest alpha for which the caller's fixed grid (and order, default 5) meets the accuracy. */
double ms__pme_alpha_for_grid(const ms_ewald_params *par, const double L[3][3]);
/* Relative cost estimate (same units as ms__ewald_cost_direct) of PME reciprocal space. */
double ms__pme_cost(int natoms, int order, const int grid[3]);
/* Prepare buffers and plans for the grid/order in ew->info (cached per grid shape). */
ms_err ms__pme_setup(ms__pme *pme, ms_ewald ew);
/* Reciprocal energy (eV), added forces and W according to flags. */
ms_err ms__pme_compute(ms__pme *pme, ms_ewald ew, unsigned flags, double *energy,
                       double (*f)[3], double W[3][3]);

#endif
