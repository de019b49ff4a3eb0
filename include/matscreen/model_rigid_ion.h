/**
 * @file model_rigid_ion.h
 * @brief The rigid-ion model family's own entry points: typed settings, a model on an already
 *        loaded potential set, and the table of the terms such a model sums.
 *
 * Conventions (the generic interface and its conventions are in model.h, which includes this)
 * -----------
 * - A rigid-ion model is the Coulomb energy of point charges (direct Ewald or smooth PME,
 *   ewald.h) plus the short-range pair terms of a potential set (pair.h, potential.h). Both
 *   share ONE neighbour pass per structure (the real-space Ewald kernel and the pair kernel
 *   run on the same blocks of pairs).
 * - Through the generic interface (ms_model_create_spec) the family takes the options
 *   `accuracy` (relative accuracy of the electrostatics, 1e-15..1e-2; default: the potential's
 *   recommendation), `method` (auto, direct or pme; default auto) and `coulomb` (true or
 *   false; default true). Those are parsed in one place, the family's source file.
 * - The typed settings below are the same choices as a C struct, with every Ewald parameter
 *   (ewald.h) reachable; they exist for C callers and tests and are used by no generic code.
 */
#ifndef MATSCREEN_MODEL_RIGID_ION_H
#define MATSCREEN_MODEL_RIGID_ION_H

#include "matscreen/ewald.h"
#include "matscreen/model.h"
#include "matscreen/potential.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Settings of a rigid-ion model; start from ms_model_options_default(). */
typedef struct {
  ms_ewald_params ewald; /**< electrostatics; accuracy 0 = the potential's recommendation */
  int coulomb;           /**< 1 (default): include electrostatics; 0: short-range only */
} ms_model_options;

void ms_model_options_default(ms_model_options *o);

/**
 * Model by name. With @p opt NULL this is ms_model_create_spec() for a spec with no options
 * (any family); with @p opt it is a rigid-ion model with those settings, and a name that
 * another family claims is MS_ERR_INPUT. Errors as ms_model_create_spec().
 */
ms_err ms_model_create(const char *name, const ms_model_options *opt, ms_model *out);
/** Rigid-ion model on an already loaded potential (borrowed: it must outlive the model). */
ms_err ms_model_create_with(const ms_potential *pot, const ms_model_options *opt, ms_model *out);
/** The potential of a rigid-ion model; NULL for a model of another family. */
const ms_potential *ms_model_potential(const ms_model m);

/** One-line summaries of the terms a rigid-ion model can contain (`matscreen info models`). */
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
