/**
 * @file descriptors.h
 * @brief Fixed-length numeric descriptors of a candidate (composition statistics, geometry,
 *        single-point energies, tolerance factor, prototype code, coordination), the input of
 *        the learned surrogate (surrogate.h).
 *
 * Conventions (units as in cell.h)
 * -----------
 * - The vector has ms_descriptor_count() entries in a fixed order; ms_descriptor_name(k) names
 *   entry k with its unit ("volume_per_atom_A3", "e_single_eV_per_atom"). docs/surrogate.md
 *   lists every entry with its definition. A saved surrogate records these names and
 *   MS_DESCRIPTORS_VERSION, and refuses to load into a build whose descriptors differ.
 * - Element data come from the element table (species.h; ms_elements_load() first): Pauling
 *   electronegativity, Shannon ionic radius of the site's ion at CN 6 (nearest tabulated CN),
 *   oxidation state, Z and mass. Composition statistics are weighted by atom fraction.
 * - Every value is finite: a missing datum is replaced by a documented fill constant
 *   (MS_DESCRIPTOR_FILL_*; a missing energy by 0 with a 0/1 "known" flag beside it), so the
 *   vector is NaN-free for any valid cell.
 * - Invariance: the descriptors depend only on the crystal, not on its description: they are
 *   the same (to rounding) for any supercell, rotation, origin shift or site order of the same
 *   structure (the atom count per cell is deliberately not a descriptor; atoms per formula unit
 *   is). The energies are per atom, so the caller passes per-atom values.
 * - Deterministic and thread-safe (no global state besides the read-only element table).
 *   Not collective.
 * - Errors: MS_ERR_ARG for NULL arguments; MS_ERR_INPUT for a cell that fails
 *   ms_cell_validate() (the message is that of the validation).
 */
#ifndef MATSCREEN_DESCRIPTORS_H
#define MATSCREEN_DESCRIPTORS_H

#include "matscreen/cell.h"
#include "matscreen/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the descriptor definitions: bumped whenever a definition changes, even when the
 *  names stay the same, so that old saved models are refused rather than silently misused. */
#define MS_DESCRIPTORS_VERSION 2

/** Fill values for missing element data (documented in docs/surrogate.md). */
#define MS_DESCRIPTOR_FILL_EN 0.0      /**< element without a Pauling electronegativity */
#define MS_DESCRIPTOR_FILL_RADIUS 1.0  /**< Å: ion without a Shannon radius (or no ox. state) */
#define MS_DESCRIPTOR_FILL_TOLERANCE 1.0 /**< tolerance factor of a non-perovskite composition */
/** Length of the prototype code (entries proto_code_0 .. proto_code_{N-1}). */
#define MS_DESCRIPTOR_PROTO_DIMS 8

/** Per-candidate inputs that are not in the cell. */
typedef struct {
  double e_single;       /**< single-point energy, eV/atom; NaN if unknown */
  double e_coulomb;      /**< its electrostatic part, eV/atom; NaN if unknown */
  double e_short;        /**< its short-range part, eV/atom; NaN if unknown */
  const char *prototype; /**< prototype name; "" or NULL for random search */
  int has_forces;        /**< 1 if force_sq and stress_GPa are given (0: unknown) */
  double force_sq;       /**< sum over atoms of |F_i|^2 / N at the single point, eV^2/Å^2 */
  double stress_GPa[6];  /**< stress at the single point, GPa, Voigt xx yy zz yz xz xy */
} ms_descriptor_input;

/** Number of descriptors D (constant). */
int ms_descriptor_count(void);
/** Name of descriptor @p k (with its unit), NULL when out of range. */
const char *ms_descriptor_name(int k);
/** Index of the descriptor named @p name, -1 if there is none. */
int ms_descriptor_index(const char *name);

/**
 * Descriptors of candidate @p cell with energies @p in (NULL: all unknown, no prototype) into
 * @p out (ms_descriptor_count() doubles, all finite). Not collective.
 */
ms_err ms_descriptors(const ms_cell *cell, const ms_descriptor_input *in, double *out);

/**
 * The prototype code alone: MS_DESCRIPTOR_PROTO_DIMS values in {-1, +1} from a hash of
 * @p name, or all 0 for "" / NULL (random search). Distinct names get distinct codes with
 * probability 1 - 2^-8 per pair.
 */
void ms_descriptor_prototype_code(const char *name, double code[MS_DESCRIPTOR_PROTO_DIMS]);

#ifdef __cplusplus
}
#endif
#endif
