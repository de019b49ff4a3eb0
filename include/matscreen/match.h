/**
 * @file match.h
 * @brief Structure matching with the semantics of pymatgen's StructureMatcher, invariant keys,
 *        and grouping of duplicates (serial and distributed over MPI).
 *
 * Conventions (in addition to those of cell.h)
 * -----------
 * - Defaults are pymatgen's StructureMatcher defaults: ltol 0.2 (fractional length
 *   tolerance), stol 0.3 (site tolerance in units of the free length per atom (V/N)^(1/3)),
 *   angle_tol 5 degrees, primitive_cell on, scale on, attempt_supercell off, species compared
 *   with their oxidation states (SpeciesComparator); compare_elements selects element-only
 *   comparison (ElementComparator).
 * - Algorithm (docs/stability.md has the details and the differences from pymatgen): both
 *   structures are reduced to a primitive cell (pure translations found with a 0.25 Å
 *   tolerance, as pymatgen's get_primitive_structure does, positions of merged images
 *   averaged) and Niggli-reduced; a match needs equal reduced compositions and site counts;
 *   both are scaled to the same volume; every basis of the first lattice whose lengths are
 *   within ltol and angles within angle_tol of the second's reduced basis is tried; for each,
 *   the sites are put on the average lattice, a translation is tried per site of the first
 *   structure that can take the place of one site of the rarest species of the second, and if
 *   every site has a partner within a box tolerance the optimal assignment (Hungarian method on
 *   squared distances) gives the displacements after removing their mean. The structures
 *   match if some mapping has all displacements below stol (normalised as above).
 * - rms and max_dist are those of the mapping with the smallest RMS displacement (pymatgen's
 *   get_rms_dist), normalised by (V/N)^(1/3) of the average lattice; NAN when no mapping has an
 *   RMS below stol.
 * - Space-group guard: unless check_spacegroup is 0, structures whose space groups differ at
 *   symprec (spglib, on the reduced cells) never match. pymatgen has no such rule; it keeps
 *   dedup from merging a distorted polymorph (tilted, tetragonal) with its parent.
 * - Mirror images match (as in pymatgen: bases of either handedness are accepted).
 * - Not collective, except ms_match_group_mpi (collective over its communicator).
 */
#ifndef MATSCREEN_MATCH_H
#define MATSCREEN_MATCH_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

/** Neighbour ranks in the grouping fingerprint (1st to 4th nearest neighbour). */
#define MS_MATCH_FP_RANKS 4

typedef struct {
  double ltol;           /**< fractional length tolerance (0.2) */
  double stol;           /**< site tolerance, units of (V/N)^(1/3) (0.3) */
  double angle_tol;      /**< degrees (5) */
  int primitive_cell;    /**< reduce to primitive cells first (1) */
  int scale;             /**< scale both to the same volume (1) */
  int compare_elements;  /**< 1: compare elements only; 0: species with oxidation states (0) */
  int check_spacegroup;  /**< 1: different space groups never match (1) */
  double symprec;        /**< Å, tolerance of the space-group guard (MS_SYMPREC_DEFAULT) */
  double sg_angle_tol;   /**< degrees, angle tolerance of the guard (MS_ANGLE_TOL_DEFAULT) */
  double primitive_tol;  /**< Å, tolerance of the primitive-cell search (0.25, as pymatgen) */
  /** Grouping only: two structures are compared exactly only if their fingerprints (sorted
   *  distances to the 1st-4th neighbours over (V/N)^(1/3)) differ by at most this much at
   *  every entry (0.1); <= 0 compares every pair of a bucket. A heuristic that can miss
   *  matches pymatgen finds between structures whose sites differ by more than about
   *  0.1 (V/N)^(1/3): see docs/stability.md. */
  double fingerprint_tol;
} ms_match_options;

/** pymatgen's defaults plus the guard and fingerprint defaults above. */
void ms_match_options_default(ms_match_options *o);

/** Why two structures do or do not match. */
typedef enum {
  MS_MATCH_OK = 0,          /**< they match */
  MS_MATCH_COMPOSITION,     /**< reduced compositions differ */
  MS_MATCH_NSITES,          /**< primitive cells have different numbers of sites */
  MS_MATCH_SPACEGROUP,      /**< space groups differ (guard) */
  MS_MATCH_LATTICE,         /**< no lattice mapping within ltol / angle_tol */
  MS_MATCH_SITES,           /**< lattices map, but no site assignment within stol */
} ms_match_reason;

/** "match", "composition", "nsites", "spacegroup", "lattice", "sites". */
const char *ms_match_reason_name(ms_match_reason r);

typedef struct {
  int match;                /**< 1 if the structures match */
  ms_match_reason reason;
  double rms;               /**< normalised RMS displacement of the best mapping, or NAN */
  double max_dist;          /**< normalised largest displacement of that mapping, or NAN */
  int spacegroup[2];        /**< at the guard's symprec; 0 if spglib found none or not computed */
  int nsites[2];            /**< sites of the reduced cells */
  int nmappings;            /**< lattice mappings tried */
} ms_match_result;

/**
 * A structure prepared for matching: its reduced cell and invariants. Preparing once and
 * comparing many times is what makes grouping fast.
 */
typedef struct {
  ms_cell cell;             /**< primitive (if requested) and Niggli-reduced, unscaled */
  double volume;            /**< Å^3 of cell */
  int spacegroup;           /**< at the options' symprec; 0: spglib found none; -1: not computed */
  int nclass;               /**< distinct site classes (species or elements) */
  long long *site_class;    /**< natoms codes: element and, unless compare_elements, charge */
  uint64_t key;             /**< hash of the reduced composition and the site count */
  double log_minima[3];     /**< log of the successive minima |a|<=|b|<=|c| over V^(1/3) */
  double *nn;               /**< fingerprint: MS_MATCH_FP_RANKS x natoms; row k holds every
                                 site's distance to its (k+1)-th nearest neighbour over
                                 (V/N)^(1/3), sorted */
  char formula[64];         /**< reduced formula, for messages */
  int compare_elements;     /**< the option the codes were made with */
} ms_match_prep;

void ms_match_prep_init(ms_match_prep *p);
void ms_match_prep_free(ms_match_prep *p);
/** Reduce and characterise @p c (the space group too when the guard is on). Fails
 *  (MS_ERR_INPUT) only for invalid cells. */
ms_err ms_match_prepare(const ms_cell *c, const ms_match_options *o, ms_match_prep *p);

/**
 * Compare two prepared structures (a plays pymatgen's struct1, b struct2). With @p want_rms 0
 * the search stops at the first mapping that matches (rms and max_dist are then those of that
 * mapping), which is all grouping needs; with 1 every mapping is scored.
 */
ms_err ms_match_prepared(const ms_match_prep *a, const ms_match_prep *b, const ms_match_options *o,
                         int want_rms, ms_match_result *r);
/** Prepare and compare two cells (rms of the best mapping included). */
ms_err ms_match(const ms_cell *a, const ms_cell *b, const ms_match_options *o, ms_match_result *r);

/** Counters from a grouping run. */
typedef struct {
  size_t nstructures;   /**< structures grouped (all ranks) */
  size_t ngroups;       /**< survivors */
  size_t nbuckets;      /**< distinct keys */
  size_t largest_bucket;
  size_t ncompared;     /**< exact comparisons made */
  double prepare_s;     /**< wall time of the reductions (max over ranks) */
  double group_s;       /**< wall time of bucket exchange and matching (max over ranks) */
} ms_match_group_stats;

/**
 * Group duplicates among @p n structures. Buckets hold the structures of one key (reduced
 * composition and primitive site count). Within a bucket the structures are taken in
 * order of increasing energy (ties and NULL @p energies: input order); each is compared with
 * the survivors before it in that order and becomes a duplicate of the first one it matches,
 * or a survivor. duplicate_of[i] is -1 for a survivor, else the index of its survivor. The
 * lowest-energy member of every group therefore survives. NaN energies sort last.
 * @p stats may be NULL. Not collective.
 */
ms_err ms_match_group(const ms_cell *cells, size_t n, const double *energies,
                      const ms_match_options *o, long *duplicate_of, ms_match_group_stats *stats);

/**
 * Distributed grouping. Collective over @p comm. Each rank passes its own @p nlocal structures;
 * the global index of a structure is its position in the concatenation of the ranks' inputs in
 * rank order. Every rank reduces its own structures, sends each to the owner of its key's
 * bucket (key modulo the number of ranks; MPI_Alltoallv of serialised reduced cells), owners
 * group their buckets as ms_match_group does, and every rank gets back duplicate_of (global
 * indices, -1 for survivors) for its own structures in its input order. The result does not
 * depend on the number of ranks. Errors are agreed on: every rank returns the same code.
 */
ms_err ms_match_group_mpi(MPI_Comm comm, const ms_cell *cells, size_t nlocal,
                          const double *energies, const ms_match_options *o, long *duplicate_of,
                          ms_match_group_stats *stats);

#endif
