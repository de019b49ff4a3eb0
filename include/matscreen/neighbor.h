/**
 * @file neighbor.h
 * @brief Half neighbour lists for periodic cells of any shape and size.
 *
 * Conventions
 * -----------
 * - A list holds every unordered pair (i, j, image n) with 0 < |r_j + n·L - r_i| <= cutoff
 *   exactly once: for i < j all images, for i == j (an atom and its own images, which appear
 *   when the cutoff exceeds the cell) only one of n and -n. d = r_j + n·L - r_i in Å.
 * - Correct for skewed triclinic cells and cutoffs larger than the cell widths (images are
 *   bounded with ms_cell_image_bounds). Small cells use image loops; large cells use binning
 *   (linked cells) so building is O(N).
 * - The list object is a reusable workspace: ms_nlist_build() reuses its arrays (grows only),
 *   so building for many structures allocates nothing in the steady state.
 * - Not collective.
 */
#ifndef MATSCREEN_NEIGHBOR_H
#define MATSCREEN_NEIGHBOR_H

#include "matscreen/cell.h"
#include "matscreen/error.h"

typedef struct {
  int npairs;       /**< number of pairs */
  int cap;          /**< allocated pairs */
  int *i, *j;       /**< site indices, i <= j */
  double (*d)[3];   /**< r_j + n·L - r_i, Å */
  double *r;        /**< |d|, Å */
  double cutoff;    /**< cutoff used for the last build */
  double rmin;      /**< shortest pair distance in the list (+inf if empty) */
  int rmin_i, rmin_j;
} ms_nlist;

void ms_nlist_init(ms_nlist *nl);
void ms_nlist_free(ms_nlist *nl);
/** Build the list for @p c at @p cutoff (Å). Cartesian positions are computed internally. */
ms_err ms_nlist_build(ms_nlist *nl, const ms_cell *c, double cutoff);

#endif
