/**
 * @file wyckoff.h
 * @brief Space-group operations (from spglib's database) and Wyckoff positions derived from
 *        them, for building prototypes and drawing random symmetric structures.
 *
 * Conventions (units and lattice layout as in cell.h)
 * -----------
 * - A setting is named by spglib's Hall number (1..530). Operations act on fractional
 *   COLUMN vectors of the conventional cell: x' = R x + t. They include the centring
 *   translations (Fm-3m has 192 operations), exactly as spg_get_symmetry_from_database()
 *   returns them.
 * - Point-group order = operations / centring vectors ("symmetry operations per primitive
 *   cell"); this is the number random_search's `symmetry_ops` range refers to.
 * - A Wyckoff position is given by a representative point p and 0..3 integer direction
 *   vectors d_k (fractional, conventional cell) that span its fixed subspace over the lattice:
 *   the points p + sum_k u_k d_k with u_k in [0, 1) cover the subspace once modulo the lattice.
 *   The multiplicity counts points per conventional cell. Positions are derived from the
 *   operations (see spacegroup.c), not from a table; they are ordered by multiplicity, then
 *   degrees of freedom, which is the order of the Wyckoff letters in the International Tables
 *   for most but not all groups, so no letters are assigned here.
 * - Objects are plain structs owned by the caller; ms_wyckoff_set_free() releases the arrays.
 *   Not collective; no global state (the functions are thread-safe).
 */
#ifndef MATSCREEN_WYCKOFF_H
#define MATSCREEN_WYCKOFF_H

#include "matscreen/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_SG_MAX_OPS 192
#define MS_SG_MAX_CENTRING 4

/** The operations of one space-group setting. */
typedef struct {
  int hall;                       /**< spglib Hall number, 1..530 */
  int number;                     /**< space-group number, 1..230 */
  char symbol[24];                /**< short Hermann-Mauguin symbol without spaces ("Pm-3m") */
  char choice[8];                 /**< setting choice ("", "1", "2", "H", "R", "cab", ...) */
  int nops;                       /**< operations in the conventional cell, incl. centring */
  int ncentring;                  /**< centring translations incl. the zero vector (1..4) */
  int rot[MS_SG_MAX_OPS][3][3];   /**< rotation parts (integers, fractional basis) */
  double trans[MS_SG_MAX_OPS][3]; /**< translation parts, in [0, 1) */
  double centring[MS_SG_MAX_CENTRING][3]; /**< centring vectors; centring[0] = 0 */
  /** Rows: a primitive basis in fractional coordinates of the conventional cell
   *  (L_prim = to_primitive · L_conv); the identity for P settings. */
  double to_primitive[3][3];
} ms_spacegroup;

/** Operations of Hall setting @p hall. MS_ERR_INPUT if hall is not in 1..530. */
ms_err ms_spacegroup_load(int hall, ms_spacegroup *out);
/** The Hall number spglib lists first for space group @p number (its default setting:
 *  unique axis b for monoclinic groups, origin choice 1, hexagonal axes for R groups);
 *  0 if @p number is not in 1..230. */
int ms_spacegroup_default_hall(int number);
/** Operations per primitive cell (nops / ncentring). */
int ms_spacegroup_point_order(const ms_spacegroup *g);
/** "triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal",
 *  "cubic" for a space-group number; "" when out of range. */
const char *ms_crystal_system(int number);

/**
 * A lattice (rows, Å) compatible with the setting: the metric @p g0 (a 3x3 positive-definite
 * Gram matrix, Å^2) averaged over the point group, G = (1/|P|) sum_R R^T g0 R, so that every
 * rotation of the setting preserves it, then scaled to volume @p volume (Å^3; <= 0 keeps the
 * scale). The result is in the orientation of ms_lattice_from_parameters(). Fails with
 * MS_ERR_NUMERIC if the metric is not positive definite.
 */
ms_err ms_spacegroup_lattice(const ms_spacegroup *g, const double g0[3][3], double volume,
                             double lattice[3][3]);

/** One Wyckoff position. */
typedef struct {
  int multiplicity; /**< points per conventional cell */
  int dof;          /**< number of free parameters, 0..3 */
  int site_order;   /**< order of the site-symmetry group (= nops / multiplicity) */
  double point[3];  /**< representative point p (fractional, conventional cell) */
  int dir[3][3];    /**< rows 0..dof-1: integer direction vectors d_k */
  /** Operation indices whose images of a generic point of the position are the distinct
   *  points of the orbit: ops[0..multiplicity-1]; the first multiplicity/ncentring of them
   *  are distinct modulo the centring translations (one per point of the primitive cell). */
  int *ops;
} ms_wyckoff;

/** The Wyckoff positions of one setting. */
typedef struct {
  int n;
  ms_wyckoff *pos; /**< n positions, by multiplicity, then dof, then point */
  int *ops_pool;   /**< storage of every pos[k].ops */
} ms_wyckoff_set;

/**
 * Derive the Wyckoff positions of @p g from its operations. Cost: a few ms for the largest
 * groups. Fails with MS_ERR_INTERNAL if the operations are not what the derivation expects
 * (translations on a 1/24 grid).
 */
ms_err ms_wyckoff_set_compute(const ms_spacegroup *g, ms_wyckoff_set *out);
void ms_wyckoff_set_free(ms_wyckoff_set *s);

/** Point p + sum_k u[k] d_k of position @p w (u has w->dof entries; may be NULL if dof = 0). */
void ms_wyckoff_point(const ms_wyckoff *w, const double *u, double x[3]);
/** Apply operation @p op of @p g to fractional x (no wrapping). */
void ms_spacegroup_apply(const ms_spacegroup *g, int op, const double x[3], double y[3]);

/**
 * The orbit of fractional point @p x under @p g: distinct images (periodic distance below
 * @p tol in fractional units counts as the same point), wrapped to [0, 1), in operation order.
 * @p out has room for @p cap points; *n receives the orbit size (MS_ERR_ARG if > cap).
 */
ms_err ms_spacegroup_orbit(const ms_spacegroup *g, const double x[3], double tol, double (*out)[3],
                           int cap, int *n);

#ifdef __cplusplus
}
#endif
#endif
