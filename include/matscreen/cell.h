/**
 * @file cell.h
 * @brief Crystal structures: lattice, sites, species, and the geometry on them.
 *
 * Conventions (these hold for every matscreen header)
 * -----------
 * - Units: Å for lengths, eV for energies, eV/Å for forces, GPa for stresses, degrees for
 *   angles, elementary charges for charges.
 * - Lattice vectors are ROWS: lattice[0] = a, lattice[1] = b, lattice[2] = c, in Å Cartesian.
 *   A Cartesian position is r = f · L, i.e. r_j = sum_i f_i L[i][j].
 * - Positions are stored fractional (frac[i][0..2]); they are not required to lie in [0, 1)
 *   unless ms_cell_wrap() was called.
 * - Sites refer to species through a small per-cell table: kind[i] indexes species[].
 *   Two sites with equal species share a kind.
 * - Indices are 0-based. An ms_cell owns its arrays; ms_cell_free() releases them.
 *   ms_cell is a plain struct: initialise with ms_cell_init() (or = MS_CELL_INIT).
 * - Not collective; no function here touches MPI.
 */
#ifndef MATSCREEN_CELL_H
#define MATSCREEN_CELL_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/species.h"

#define MS_CELL_MAX_KINDS 32
#define MS_CELL_LABEL_MAX 128

typedef struct ms_cell {
  double lattice[3][3];            /**< rows a, b, c in Å */
  int natoms;                      /**< number of sites */
  int capacity;                    /**< allocated sites */
  double (*frac)[3];               /**< fractional coordinates, natoms x 3 */
  int *kind;                       /**< species index per site, natoms */
  int nkinds;                      /**< number of distinct species */
  ms_species species[MS_CELL_MAX_KINDS];
  char label[MS_CELL_LABEL_MAX];   /**< free-text name (file title, candidate name) */
} ms_cell;

#define MS_CELL_INIT {{{0}}, 0, 0, NULL, NULL, 0, {{0}}, {0}}

/** Empty cell with a zero lattice. */
void ms_cell_init(ms_cell *c);
/** Release the arrays and reset to empty. Safe on an initialised empty cell. */
void ms_cell_free(ms_cell *c);
/** Make room for at least @p n sites. */
ms_err ms_cell_reserve(ms_cell *c, int n);
/** Deep copy (dst is freed first, so it must be initialised). */
ms_err ms_cell_copy(ms_cell *dst, const ms_cell *src);
/** Set the lattice (rows in Å). */
void ms_cell_set_lattice(ms_cell *c, const double lattice[3][3]);
/** Index of species @p sp in the cell's table, adding it if new. */
ms_err ms_cell_add_species(ms_cell *c, const ms_species *sp, int *kind);
/** Append a site of kind @p kind at fractional position @p frac. */
ms_err ms_cell_add_site(ms_cell *c, int kind, const double frac[3]);
/** Append a site by species (adds the species if needed). */
ms_err ms_cell_add_atom(ms_cell *c, const ms_species *sp, const double frac[3]);
/** Remove site @p i, keeping the order of the others. */
ms_err ms_cell_remove_site(ms_cell *c, int i);

/** Determinant of a 3x3 matrix. */
double ms_mat3_det(const double m[3][3]);
/** Inverse of a 3x3 matrix by cofactors; returns the determinant (inv untouched when it is 0). */
double ms_mat3_inv(const double m[3][3], double inv[3][3]);

/** Signed determinant of the lattice (Å^3); positive for a right-handed basis. */
double ms_cell_det(const ms_cell *c);
/** Volume |det L| in Å^3. */
double ms_cell_volume(const ms_cell *c);
/** Cartesian position (Å) of fractional @p f. */
void ms_cell_frac_to_cart(const ms_cell *c, const double f[3], double r[3]);
/** Fractional position of Cartesian @p r (needs a non-singular lattice). */
void ms_cell_cart_to_frac(const ms_cell *c, const double r[3], double f[3]);
/** Cartesian position of site i. */
void ms_cell_site_cart(const ms_cell *c, int i, double r[3]);
/** Lattice parameters a, b, c (Å), alpha, beta, gamma (degrees). */
void ms_cell_parameters(const ms_cell *c, double abc[3], double angles[3]);
/**
 * Lattice rows from parameters, in the orientation used by ASE and LAMMPS:
 * a along x, b in the xy plane, c completing a right-handed basis (lower-triangular L).
 * Fails with MS_ERR_INPUT when the angles do not form a valid cell.
 */
ms_err ms_lattice_from_parameters(const double abc[3], const double angles_deg[3],
                                  double lattice[3][3]);

/**
 * Check that the cell is usable: finite lattice with volume above 1e-6 Å^3 per site (and
 * above 1e-3 Å^3), finite coordinates, every kind in range, every Z in 1..118.
 * The message names the problem and, for a site, its index.
 */
ms_err ms_cell_validate(const ms_cell *c);
/** Map every fractional coordinate into [0, 1). */
void ms_cell_wrap(ms_cell *c);

/**
 * Perpendicular widths of the cell (Å): distance between opposite faces, V / |b x c| etc.
 * A sphere of radius r fits in the cell without touching its periodic images iff
 * 2 r <= min(width).
 */
void ms_cell_widths(const ms_cell *c, double w[3]);
/**
 * Bounds on lattice translations: every vector (df + n) · L with |df_k| <= 1/2 and
 * length <= @p cutoff has |n_k| <= nmax[k]. Valid for any (skewed) cell and any cutoff,
 * including cutoffs larger than the cell.
 */
void ms_cell_image_bounds(const ms_cell *c, double cutoff, int nmax[3]);
/**
 * Minimum-image distance (Å) between sites i and j, exact for any triclinic cell
 * (searches the neighbouring images instead of rounding fractional differences).
 * If @p vec is not NULL it receives r_j - r_i of the nearest image.
 */
double ms_cell_distance(const ms_cell *c, int i, int j, double vec[3]);
/**
 * Call @p fn for every pair (i, j, image) with 0 < |r_j + n·L - r_i| <= cutoff, i <= j
 * counting each unordered pair once (for i == j, only one of n and -n). Stops and returns
 * the callback's code if it returns non-zero.
 */
typedef int (*ms_pair_fn)(int i, int j, const double d[3], double r, void *ctx);
int ms_cell_foreach_pair(const ms_cell *c, double cutoff, ms_pair_fn fn, void *ctx);
/** Smallest interatomic distance over all pairs and images (Å); +inf for one atom in a huge cell. */
double ms_cell_min_distance(const ms_cell *c, int *i_out, int *j_out);

/**
 * Niggli-reduce the lattice (Krivy & Gruber 1976, with the epsilon of Grosse-Kunstleve,
 * Sauter & Adams 2004) and re-express the sites in the new basis, wrapped to [0, 1).
 * @p tol is relative to the cell volume^(1/3) (1e-5 is a good default).
 * The result is right-handed. If @p transform is not NULL it receives the integer matrix T
 * with L_new = T L_old.
 */
ms_err ms_cell_niggli_reduce(ms_cell *c, double tol, int transform[3][3]);
/**
 * Supercell with lattice M L (M integer, det M > 0). Sites are ordered by original site,
 * then by image. @p dst must be initialised and is overwritten.
 */
ms_err ms_cell_supercell(const ms_cell *src, const int M[3][3], ms_cell *dst);
/** Diagonal supercell n0 x n1 x n2. */
ms_err ms_cell_supercell_diag(const ms_cell *src, int n0, int n1, int n2, ms_cell *dst);

/**
 * Chemical formula: elements ordered by electronegativity (as pymatgen does), counts
 * reduced by their gcd when @p reduced, e.g. "SrTiO3". Needs the element table.
 */
ms_err ms_cell_formula(const ms_cell *c, int reduced, char *buf, size_t len);
/** Net charge sum of oxidation states (e); sets *all_known = 0 if some site has none. */
double ms_cell_net_charge(const ms_cell *c, int *all_known);

/** A growable list of cells (multi-frame files). */
typedef struct {
  ms_cell *cells;
  int n, cap;
} ms_cell_list;

void ms_cell_list_init(ms_cell_list *l);
void ms_cell_list_free(ms_cell_list *l);
/** Append a new initialised empty cell and return it through @p out. */
ms_err ms_cell_list_push(ms_cell_list *l, ms_cell **out);

#endif
