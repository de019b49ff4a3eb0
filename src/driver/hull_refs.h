/* Reference phases of the hull for any chemical system (internal to src/driver; see
 * hull_refs.c and docs/stability.md, "Reference phases").
 *
 * Conventions
 * - Two kinds of hull. With a rigid-ion model (lattice energies) the components are end
 *   members, the binary compound of each cation with the one anion (stability.c,
 *   ms__hull_references_auto). With a model fitted to DFT total energies (M3GNet,
 *   ms_model_has_elemental_energies) the components are the elements, and the references are planned here: every element in the
 *   library's elemental structures, and the binaries of every pair of elements that occur
 *   together, in the library's two-label prototypes (charge-balanced ionic types for a cation
 *   and an anion; every two-label type for plain elements).
 * - A job is one structure to relax. Job lists are sorted and free of duplicates, so the same
 *   species give the same list in the same order on every rank and at any rank count.
 * - Energies in eV/atom. Nothing here is collective except ms__refs_build. */
#ifndef MS_DRIVER_HULL_REFS_H
#define MS_DRIVER_HULL_REFS_H

#include <mpi.h>
#include <stdio.h>

#include "matscreen/relax.h"
#include "matscreen/species.h"
#include "stability.h"

/** One reference structure to relax: an element (nsp 1, a plain element) in a one-label
 *  prototype, or a binary (nsp 2, sp[0] before sp[1] by Z) in a two-label prototype, sp[0] on
 *  the prototype's label 0 unless swap. Ions keep their oxidation state. */
typedef struct {
  int nsp;
  ms_species sp[2];
  int swap;
  int molecule;  /* the prototype is a molecule in a box (every site has at most one neighbour) */
  char proto[32];
} ms_ref_job;

/** What hull.references asks for. */
typedef struct {
  int binaries;          /**< 1: build binaries (default), 0: elements only */
  int nonly;             /**< > 0: binaries only in these prototypes */
  char only[64][32];
} ms_refs_options;

/** Largest |E(lowest) - E(standard-state structure)| of an element's structures that is taken
 *  as the model's verdict (eV/atom); beyond it the standard-state structure is kept (see
 *  ms__refs_build). */
#define MS_REFS_ARTEFACT_GAP 0.2

/** MS_SUCCESS when @p name is a built-in prototype with two labels (a binary's), else
 *  MS_ERR_INPUT saying so. Not collective. */
ms_err ms__refs_check_binary(const char *name);

/**
 * The jobs for @p nsets sets of species (set k is sp[off[k] .. off[k+1])): the elements of
 * every set and the binaries of the pairs within each set, deduplicated and sorted. *jobs is
 * malloc'd (NULL when none). MS_ERR_INPUT when a prototype of @p o is not a two-label
 * prototype of the library. Not collective.
 */
ms_err ms__refs_jobs(const ms_refs_options *o, int nsets, const ms_species *sp, const int *off,
                     ms_ref_job **jobs, int *njobs);

/** Order of species: by Z, plain before ions, then by oxidation state (job and set order). */
int ms__refs_cmp_species(const ms_species *a, const ms_species *b);

/** "Ni in fcc", "Ni-Al in l1_2 (Al on A)" into @p buf. */
const char *ms__refs_job_name(const ms_ref_job *j, char *buf, size_t len);

/**
 * Collective. Relax the @p njobs jobs (shared out over the ranks, each a deterministic
 * relaxation) and make the references: for every element its lowest converged structure (an
 * end member; the first *nends of *refs, sorted by Z), then for every binary composition its
 * lowest converged structure (a competing phase). A structure that fails or does not converge
 * is left out (counted in the log); an element with no converged structure is an error naming
 * it. If an element's lowest structure lies more than MS_REFS_ARTEFACT_GAP below its
 * standard-state structure (the element table's `structure`, when the library has it), the
 * lowest is taken for an artefact of the model (a spurious minimum far from its training data,
 * docs/stability.md) and the standard-state structure is kept, with a warning. *refs is
 * malloc'd on every rank, the same everywhere.
 */
ms_err ms__refs_build(MPI_Comm comm, ms_relax relax, const ms_ref_job *jobs, int njobs, ms_hull_ref **refs,
                      int *nrefs, int *nends);

#endif
