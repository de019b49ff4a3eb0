/**
 * @file ordering.h
 * @brief Symmetry-distinct orderings: choose k of the n sites of a set (one Wyckoff orbit of
 *        a parent cell or supercell) to substitute, one representative per class of
 *        arrangements equivalent under the parent's symmetry (SAPS-like enumeration).
 *
 * Conventions (units and layout as in cell.h)
 * -----------
 * - The group is every operation spglib finds for the parent cell (symprec in Å), including
 *   the pure translations of a supercell, restricted to the operations that map the site set
 *   onto itself; it acts on the set as permutations.
 * - Two k-subsets are equivalent when a permutation maps one onto the other. Representatives
 *   are the lexicographically smallest member of each class (as sorted lists of positions in
 *   the set), listed in lexicographic order, so arrangement i is the same on every rank and in
 *   every run.
 * - The exact number of classes is also computed without enumeration by Burnside's lemma,
 *   (1/|G|) sum_g [x^k] prod_cycles(g) (1 + x^len), which bounds nothing and checks the
 *   enumeration.
 * - Limits: at most 64 sites in the set; the enumeration visits C(n, k) subsets and is refused
 *   above a caller-given bound (the error message gives the exact class count).
 * - An ms_ordering is immutable after creation; free it with ms_ordering_free(). Not
 *   collective.
 */
#ifndef MATSCREEN_ORDERING_H
#define MATSCREEN_ORDERING_H

#include <stdint.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_ORDERING_MAX_SITES 64

typedef struct ms_ordering ms_ordering;

typedef struct {
  double symprec;          /**< spglib tolerance on the parent, Å (default 1e-3) */
  int64_t max_enumeration; /**< largest C(n, k) enumerated (default 1e6) */
} ms_ordering_options;

void ms_ordering_options_default(ms_ordering_options *o);

/**
 * Orderings of @p k substituted sites among @p sites[0..nsites-1] (indices into @p parent).
 * Errors: MS_ERR_INPUT for k outside 0..nsites, repeated or out-of-range sites, more than
 * MS_ORDERING_MAX_SITES sites, or C(n, k) above the bound; MS_ERR_NUMERIC if spglib fails.
 */
ms_err ms_ordering_create(const ms_cell *parent, const int *sites, int nsites, int k,
                          const ms_ordering_options *o, ms_ordering **out);
void ms_ordering_free(ms_ordering **o);

/** Number of symmetry-distinct arrangements (enumerated). */
int64_t ms_ordering_count(const ms_ordering *o);
/** The same number from Burnside's lemma. */
int64_t ms_ordering_count_burnside(const ms_ordering *o);
/** Distinct permutations of the set (the order of the group acting on it). */
int ms_ordering_group_order(const ms_ordering *o);
/** Operations spglib found for the parent (before restriction to the set). */
int ms_ordering_parent_ops(const ms_ordering *o);

/**
 * Arrangement @p i (0 <= i < count): the k chosen parent-site indices, in the order they
 * have in @p sites, into @p chosen (room for k ints). MS_ERR_ARG if i is out of range.
 */
ms_err ms_ordering_get(const ms_ordering *o, int64_t i, int *chosen);

/**
 * Number of symmetry-distinct arrangements by Burnside's lemma alone (no enumeration, no
 * bound), for the same inputs as ms_ordering_create.
 */
ms_err ms_ordering_burnside(const ms_cell *parent, const int *sites, int nsites, int k,
                            double symprec, int64_t *count);

#ifdef __cplusplus
}
#endif
#endif
