/* Dedup and hull stages of the funnel (internal to src/driver); see stability.c. */
#ifndef MS_DRIVER_STABILITY_H
#define MS_DRIVER_STABILITY_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/hull.h"
#include "matscreen/match.h"
#include "matscreen/model.h"
#include "matscreen/relax.h"

/* Reference phase of one end member (built and relaxed by ms__hull_references_auto). */
typedef struct {
  char formula[32];
  char prototype[48];
  double energy;            /* eV/atom, relaxed */
  ms_composition comp;
} ms_hull_ref;

/**
 * Collective. Group duplicates among the survivors (local arrays, any distribution): on return
 * dup_id[k] is the candidate id of the member that survives in k's group, or -1 if k survives.
 */
ms_err ms__dedup(MPI_Comm comm, const ms_match_options *o, int64_t n, const int64_t *ids,
                 const ms_cell *cells, const double *energy, int64_t *dup_id, long long *ngroups);

/** Energies within this of the lowest of a duplicate group count as equal when the group's
 *  representative is chosen (eV/atom; the dedup stage's energy_tol default). */
#define MS_DEDUP_ENERGY_TOL 1e-3

/** What the choice of a duplicate group's representative looks at, per member. */
typedef struct {
  int32_t natoms;     /* atoms of the relaxed cell as stored */
  int32_t spacegroup; /* of the relaxed structure, 0 if unknown */
  char prototype[48]; /* the prototype the candidate was built from ("" for random search) */
  char type[48];      /* the library prototype its relaxed structure matches ("" if none) */
} ms_dedup_info;

/**
 * Collective. Choose the representative of every duplicate group found by ms__dedup (@p dup_id
 * as it returned it; updated in place): among the members within @p etol eV/atom of the group's
 * lowest energy, the one with the fewest atoms in its cell (the primitive cell when one member
 * has it), then the highest point-group order, then the one built from the prototype that the
 * group's structure matches (info.type), then the lowest energy, then the lowest id. The
 * structure type of a group is that of its first survivor (the lowest-energy member, for which
 * ms__dedup_types ran); a member that becomes the representative gets it in info[k].type. The
 * result does not depend on the number of ranks. *nchanged (every rank): groups whose
 * representative is not the lowest-energy member.
 */
ms_err ms__dedup_representatives(MPI_Comm comm, double etol, int64_t n, const int64_t *ids, const double *energy,
                                 ms_dedup_info *info, int64_t *dup_id, long long *nchanged);

/**
 * Not collective. info[k].type of every local entry with dup_id[k] < 0: the name of the library
 * prototype its structure matches best (ms_prototype_identify with the dedup's options), or "".
 */
ms_err ms__dedup_types(const ms_match_options *o, int64_t n, const ms_cell *cells, const int64_t *dup_id,
                       ms_dedup_info *info);

/**
 * Collective. The end members of an ionic hull: for every cation of the survivors and their
 * one anion, the binary compound of the two ions relaxed (with the relaxer's model) in the library's
 * prototypes of its stoichiometry (AX: rocksalt, CsCl, zincblende, wurtzite; AX2: rutile,
 * anatase, fluorite, CdI2; A2X: antifluorite; A2X3: corundum); the lowest relaxed energy is
 * the reference. Computed on rank 0, broadcast. *refs is malloc'd.
 */
/** The prototypes ms__hull_references_auto relaxes for the binary of @p cat and @p an
 *  (NULL-terminated, static), or NULL when the library has none for their stoichiometry
 *  A(*a)X(*x). Not collective. */
const char *const *ms__hull_end_member_prototypes(const ms_species *cat, const ms_species *an, int *a, int *x);

ms_err ms__hull_references_auto(MPI_Comm comm, ms_relax relax, const ms_composition *comps,
                                int64_t n, ms_hull_ref **refs, int *nrefs);

/**
 * Collective. User-supplied competing phases for the hull: @p paths structure files (each
 * structure relaxed with @p relax on rank 0; a relaxation that does not converge is an error
 * naming the file) and a CSV of entries (formula,energy_per_atom_eV[,name]; energies from the
 * same model, e.g. a previous campaign's e_relaxed_eV_per_atom). Species of CSV formulas get
 * the oxidation states that the end members @p ends give their elements (an element the
 * campaign does not have is an error). Appended to *refs / *nrefs (realloc'd).
 */
ms_err ms__hull_references_user(MPI_Comm comm, ms_relax relax, const char *const *paths, int npaths,
                                const char *csv, const ms_hull_ref *ends, int nends,
                                ms_hull_ref **refs, int *nrefs);

/**
 * Not collective. The CSV entries (formula,energy_per_atom_eV[,name], a header line first;
 * blank lines and lines starting with # are skipped) read from @p f, named @p csv in messages
 * ("FILE:LINE: ..."), charged like the end members @p ends, appended to *refs / *nrefs
 * (realloc'd; the caller frees them also on failure). MS_ERR_INPUT for a bad header, formula
 * or number, an element without an end member, or a line over 1022 characters.
 */
ms_err ms__hull_read_entries(FILE *f, const char *csv, const ms_hull_ref *ends, int nends, ms_hull_ref **refs,
                             int *nrefs);

#define MS_DECOMP_LEN 96

/**
 * Collective. e_above_hull (eV/atom) and decomposition text of the local entries against the
 * reference phases @p refs (the first @p nends are the end members, the rest competing phases)
 * and all entries of all ranks. *stable_ids (malloc'd, every rank) lists the candidate ids on
 * the hull. @p mixed_ox: an element may occur in several oxidation states (energies of a model
 * that needs no charges; ms_hull_allow_mixed_oxidation).
 */
ms_err ms__hull_stage(MPI_Comm comm, const ms_hull_ref *refs, int nrefs, int nends, int64_t n,
                      const int64_t *ids, const ms_composition *comps, const double *energy,
                      double *e_above, char (*decomp)[MS_DECOMP_LEN], int64_t **stable_ids,
                      int64_t *nstable, unsigned char *ref_stable, int mixed_ox);

/**
 * Not collective. The lower hull's energy (eV/atom) at each of @p nq compositions @p qcomp,
 * from the reference phases @p refs (the first @p nends are the end members) and the entries
 * (comps[k], energy[k]) (non-finite energies are left out): e_hull[q] is the energy of the
 * most stable mixture of known phases with that composition, so an entry of composition
 * qcomp[q] and energy E would lie E - e_hull[q] above the hull. Adding phases can only lower
 * it. Every rank passing the same arrays gets the same numbers.
 */
ms_err ms__hull_energy_at(const ms_hull_ref *refs, int nrefs, int nends, int64_t n,
                          const ms_composition *comps, const double *energy, int64_t nq,
                          const ms_composition *qcomp, double *e_hull, int mixed_ox);

#endif
