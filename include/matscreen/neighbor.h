/**
 * @file neighbor.h
 * @brief Neighbour pairs for periodic cells of any shape and size.
 *
 * Conventions
 * -----------
 * - Pairs are unordered (i, j, image n) with 0 < |r_j + n·L - r_i| <= cutoff, each exactly
 *   once: for i < j all images, for i == j (an atom and its own images, which appear when the
 *   cutoff exceeds the cell) only one of n and -n. d = r_j + n·L - r_i in Å, r = |d|.
 *   Energy kernels therefore add the full pair energy once, F_i += dE/dr d/r, F_j -= dE/dr d/r
 *   (F_i = -dE/dr_i and dr/dr_i = -d/r; a repulsive pair, dE/dr < 0, pushes i away from j),
 *   and the strain derivative W_ab += dE/dr d_a d_b / r (for i == j the force terms cancel).
 * - Correct for skewed triclinic cells and cutoffs larger than the cell widths (images are
 *   bounded with ms_cell_image_bounds). Small cells use image loops; large cells use linked
 *   cells so a pass is O(N).
 * - Two ways to get the pairs:
 *   ms_nlist_build() stores the whole list (convenient; memory grows with N x neighbours);
 *   ms_nlist_foreach_block() streams them in blocks of at most MS_NBLOCK pairs to a kernel
 *   callback, with bounded memory, for large cells and for fusing several pair terms
 *   (Ewald real space + Buckingham) into one pass.
 * - An ms_nlist is a reusable workspace: its arrays only grow, so evaluating many structures
 *   allocates nothing in the steady state. Not collective; not thread-safe per object.
 */
#ifndef MATSCREEN_NEIGHBOR_H
#define MATSCREEN_NEIGHBOR_H

#include "matscreen/cell.h"
#include "matscreen/error.h"

#define MS_NBLOCK 4096

/** A block of pairs (struct-of-arrays, so kernels vectorise). */
typedef struct {
  int n;            /**< pairs in this block */
  const int *i;     /**< first site */
  const int *j;     /**< second site (j >= i) */
  const double *dx, *dy, *dz; /**< d = r_j + n·L - r_i, Å */
  const double *r2; /**< |d|^2, Å^2 */
} ms_nblock;

/** Kernel called per block; a non-zero return stops the pass and is returned. */
typedef int (*ms_nblock_fn)(const ms_nblock *blk, void *ctx);

typedef struct {
  /* stored list (ms_nlist_build) */
  int npairs, cap;
  int *i, *j;
  double *dx, *dy, *dz, *r2;
  /* workspace: Cartesian positions, binning, block buffer */
  int ws_atoms;
  double (*cart)[3];
  int *bin_head, *bin_next, nbins_alloc;
  int ntrans, trans_cap;               /* small cells: candidate lattice translations */
  double *tx, *ty, *tz;
  unsigned char *tpos;                 /* translation is positive in lexicographic order */
  int blk_i[MS_NBLOCK], blk_j[MS_NBLOCK];
  double blk_dx[MS_NBLOCK], blk_dy[MS_NBLOCK], blk_dz[MS_NBLOCK], blk_r2[MS_NBLOCK];
  /* results of the last pass */
  double cutoff;    /**< cutoff of the last pass, Å */
  double rmin;      /**< shortest pair distance seen in the last pass (+inf if none) */
  int rmin_i, rmin_j;
} ms_nlist;

void ms_nlist_init(ms_nlist *nl);
void ms_nlist_free(ms_nlist *nl);
/** Build and store the full list for @p c at @p cutoff (Å). */
ms_err ms_nlist_build(ms_nlist *nl, const ms_cell *c, double cutoff);
/**
 * Stream all pairs within @p cutoff to @p fn in blocks. Returns MS_SUCCESS, an error for bad
 * arguments, or MS_ERR_INTERRUPTED if the callback returned non-zero (its value is kept in
 * *cb_rc when @p cb_rc is not NULL).
 */
ms_err ms_nlist_foreach_block(ms_nlist *nl, const ms_cell *c, double cutoff, ms_nblock_fn fn,
                              void *ctx, int *cb_rc);

#endif
