/**
 * @file model.h
 * @brief Energy models: a potential set (charges + short-range pair terms) with periodic
 *        electrostatics, evaluated for energy, forces and stress, with per-structure statuses.
 *
 * Conventions (see cell.h for units and lattice layout)
 * -----------
 * - A model is a sum of terms: the Coulomb energy of point charges (direct Ewald or smooth
 *   PME, ewald.h) plus the short-range pair terms of a potential set (pair.h, potential.h).
 *   Both share ONE neighbour pass per structure (the real-space Ewald kernel and the pair
 *   kernel run on the same blocks of pairs).
 * - Results: energy in eV; forces in eV/Å (caller-owned natoms x 3 array); W_ab = dE/d eps_ab
 *   in eV; stress in GPa, Voigt order xx yy zz yz xz xy, with the sign convention of ASE
 *   (stress = (1/V) dE/d strain: tensile positive, a compressed crystal has negative stress).
 * - Statuses are data, not errors: a structure with overlapping atoms, a pair inside the
 *   catastrophe guard, a degenerate cell or a non-finite result gets a status (status.h) and a
 *   one-line reason; ms_model_compute() still returns MS_SUCCESS. Errors are reserved for
 *   misuse and for species the potential does not cover (MS_ERR_INPUT naming the species and
 *   the potential), which callers running a campaign turn into MS_STATUS_UNSUPPORTED.
 * - A model object is a workspace: the neighbour buffers, Ewald k-vectors and FFTW plans are
 *   reused across structures, so evaluating many structures allocates nothing in the steady
 *   state. One object per thread. Not collective; no MPI inside.
 */
#ifndef MATSCREEN_MODEL_H
#define MATSCREEN_MODEL_H

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/ewald.h"
#include "matscreen/potential.h"
#include "matscreen/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 eV/Å^3 in GPa. */
#define MS_EV_PER_A3_IN_GPA 160.2176634

/** What to compute (bit flags; the energy is always computed). */
enum { MS_MODEL_FORCES = 1u << 0, MS_MODEL_STRESS = 1u << 1, MS_MODEL_ALL = 3u };

/** Settings of a model; start from ms_model_options_default(). */
typedef struct {
  ms_ewald_params ewald; /**< electrostatics; accuracy 0 = the potential's recommendation */
  int coulomb;           /**< 1 (default): include electrostatics; 0: short-range only */
} ms_model_options;

/** Result of one evaluation. */
typedef struct {
  double energy;          /**< eV */
  double e_coulomb;       /**< eV, the electrostatic part */
  double e_short;         /**< eV, the short-range part */
  double (*forces)[3];    /**< caller-owned natoms x 3, eV/Å (NULL unless MS_MODEL_FORCES) */
  double W[3][3];         /**< dE/d eps_ab, eV (with MS_MODEL_STRESS) */
  double stress_GPa[6];   /**< Voigt xx yy zz yz xz xy (with MS_MODEL_STRESS) */
  double volume;          /**< Å^3 */
  ms_status status;       /**< MS_STATUS_OK, OVERLAP, COLLAPSED, BAD_CELL or NAN */
  char detail[192];       /**< reason for a status other than OK ("" when OK) */
  int has_coulomb;        /**< electrostatics was evaluated (some charge is non-zero) */
  ms_ewald_info ewald;    /**< parameters used for the electrostatics */
  double charge_total;    /**< net charge of the cell, e */
} ms_model_result;

typedef struct ms_model_s *ms_model;

void ms_model_options_default(ms_model_options *o);

/**
 * Model for potential @p potential (a built-in name such as "bush1994" or a YAML file; see
 * potential.h). Errors: MS_ERR_INPUT for an unknown or malformed potential.
 */
ms_err ms_model_create(const char *potential, const ms_model_options *opt, ms_model *out);
/** Model on an already loaded potential (borrowed: it must outlive the model). */
ms_err ms_model_create_with(const ms_potential *pot, const ms_model_options *opt, ms_model *out);
/** Free; NULL-safe, sets *m = NULL. */
void ms_model_destroy(ms_model *m);
/** The potential the model uses. */
const ms_potential *ms_model_potential(const ms_model m);

/**
 * Energy (and forces / stress per @p flags) of @p c. @p res->forces must point to natoms x 3
 * doubles when MS_MODEL_FORCES is set. Overwrites everything else in *res.
 * Returns MS_SUCCESS also when res->status is not OK; an uncovered species is MS_ERR_INPUT.
 */
ms_err ms_model_compute(ms_model m, const ms_cell *c, unsigned flags, ms_model_result *res);

/** Voigt stress in GPa (ASE sign) from W (eV) and the volume (Å^3). */
void ms_model_stress_from_W(const double W[3][3], double volume, double stress_GPa[6]);

/** One-line summaries of the terms a model can contain, for `matscreen info models`. */
typedef struct {
  const char *name;     /**< "coulomb", "buckingham", ... */
  const char *kind;     /**< "long-range" or "short-range" */
  const char *formula;  /**< in words */
  const char *params;   /**< parameters with units */
  const char *citation;
} ms_model_term_info;
/** The table of term types (static), NULL-terminated by name. */
const ms_model_term_info *ms_model_terms(int *count);

#ifdef __cplusplus
}
#endif
#endif
