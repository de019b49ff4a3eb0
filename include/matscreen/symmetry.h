/**
 * @file symmetry.h
 * @brief Space groups, symmetry operations and standardised cells (through spglib 2.0).
 *
 * Conventions (in addition to those of cell.h)
 * -----------
 * - Tolerances: @p symprec is a Cartesian distance in Å; @p angle_tol is in degrees and
 *   bounds the deviation of lattice angles from their ideal values (a negative value selects
 *   spglib's own default scheme). The defaults, MS_SYMPREC_DEFAULT = 0.01 Å and
 *   MS_ANGLE_TOL_DEFAULT = 5 degrees, are those of pymatgen's SpacegroupAnalyzer: structures
 *   relaxed to a force tolerance of 0.01 eV/Å keep residual displacements of order 1e-3 Å
 *   from their ideal positions, so spglib's own 1e-5 would report lower symmetry than the
 *   structure has, while 0.01 Å still separates genuine distortions (octahedral tilts,
 *   off-centring) of more than a few hundredths of an Å.
 * - A symmetry operation (R, t) acts on fractional coordinates as column vectors,
 *   f' = R f + t, with R an integer matrix in the basis of the input cell's lattice (the same
 *   convention as spglib). Its Cartesian rotation is W = L^T R L^-T (L = lattice, rows), so
 *   r' = W r + t L.
 * - The site map of an operation, map[i] = j, means that the operation takes site i onto
 *   site j (same species) up to a lattice translation.
 * - Cells returned by standardisation keep each site's species (including the oxidation
 *   state); species absent from the result are dropped from its table.
 * - Results own their arrays: free them with ms_symmetry_free(). Not collective; spglib
 *   keeps its last error in a global, so calls are not thread-safe.
 */
#ifndef MATSCREEN_SYMMETRY_H
#define MATSCREEN_SYMMETRY_H

#include "matscreen/cell.h"
#include "matscreen/error.h"

#define MS_SYMPREC_DEFAULT 0.01
#define MS_ANGLE_TOL_DEFAULT 5.0

/** Symmetry of a cell at a tolerance. */
typedef struct {
  int number;               /**< space-group number 1..230 */
  char international[16];   /**< short Hermann-Mauguin symbol, "Pm-3m" */
  char hall_symbol[20];     /**< "-P 4 2 3" */
  int hall_number;          /**< 1..530 */
  char pointgroup[8];       /**< "m-3m" */
  double symprec;           /**< tolerances used, Å */
  double angle_tol;         /**< degrees */
  int nops;                 /**< number of operations (with the pure translations of a
                                 supercell; only those integral in the input basis) */
  int (*rotations)[3][3];   /**< nops integer matrices R in the input cell's basis */
  double (*translations)[3];/**< nops fractional translations t */
  int natoms;               /**< sites of the input cell */
  int *equivalent_atoms;    /**< natoms: smallest index of the site's orbit */
  char *wyckoffs;           /**< natoms: Wyckoff letter of each site ('a'...) */
  int n_primitive;          /**< sites in the primitive cell */
} ms_symmetry;

/** Zero-initialise (safe to free afterwards). */
void ms_symmetry_init(ms_symmetry *s);
/** Release the arrays. NULL-safe; the struct can be reused afterwards. */
void ms_symmetry_free(ms_symmetry *s);

/**
 * Space group, operations and site orbits of @p c. Not collective.
 * Fails with MS_ERR_INPUT for an invalid cell and with MS_ERR_NUMERIC when spglib finds no
 * space group at this tolerance (e.g. atoms closer than @p symprec); the message names the
 * cell's label and spglib's reason.
 */
ms_err ms_symmetry_get(const ms_cell *c, double symprec, double angle_tol, ms_symmetry *out);

/**
 * Only the space-group number and short symbol (buffer of at least 16 bytes; may be NULL).
 * Cheaper to call than ms_symmetry_get for screening. Not collective.
 */
ms_err ms_spacegroup(const ms_cell *c, double symprec, double angle_tol, int *number,
                     char *symbol);

/**
 * Order of the point group of space group @p number (1..230): the number of operations of its
 * crystal class (International Tables for Crystallography A, Table 3.2.3.2), from 1 (P1) to
 * 48 (m-3m); 0 for a number outside 1..230. A measure of symmetry that does not depend on the
 * cell (unlike the operations of a supercell). Not collective.
 */
int ms_point_group_order(int number);

/** Standardisation targets of ms_cell_standardize(). */
typedef enum {
  MS_STD_CONVENTIONAL = 0, /**< conventional (Bravais) cell of the standard setting */
  MS_STD_PRIMITIVE = 1,    /**< primitive cell of the standard setting */
} ms_std_kind;

/**
 * Standardised conventional or primitive cell of @p c (spglib's standardisation, in the
 * orientation of the input when @p idealize is 0, or rotated to spglib's ideal orientation
 * with positions and lattice symmetrised exactly when @p idealize is 1). @p out must be
 * initialised and is overwritten; it keeps the species and copies the label. Not collective.
 */
ms_err ms_cell_standardize(const ms_cell *c, ms_std_kind kind, int idealize, double symprec,
                           double angle_tol, ms_cell *out);

/**
 * Cartesian rotation matrix W = L^T R L^-T of operation @p k (for symmetrising forces and
 * stresses: F_sym = (1/n) sum_k W_k^T F_{map_k(i)} ...). Not collective.
 */
void ms_symmetry_cart_rotation(const ms_symmetry *s, const ms_cell *c, int k, double W[3][3]);

/**
 * Site map of every operation: map[k * natoms + i] = j when operation k takes site i onto
 * site j (nearest image within @p tol Å). @p map must hold nops * natoms ints.
 * MS_ERR_NUMERIC if some image has no site within @p tol (the tolerance is too tight for the
 * operations found). Not collective.
 */
ms_err ms_symmetry_site_map(const ms_symmetry *s, const ms_cell *c, double tol, int *map);

/**
 * Symmetrise per-site Cartesian vectors (forces, displacements) in place: each vector becomes
 * the average over the operations of the rotated vectors of its images, so the result is
 * invariant under every operation. @p map from ms_symmetry_site_map(). Not collective.
 */
ms_err ms_symmetry_symmetrize_vectors(const ms_symmetry *s, const ms_cell *c, const int *map,
                                      double (*v)[3]);

#endif
