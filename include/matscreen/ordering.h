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
 * - Coupled substitutions (ms_ordering_create_groups): the set is split into groups (say the
 *   A sites and the B sites of a perovskite, receiving different ions) and kg[g] sites of each
 *   group g are chosen. Only operations mapping every group onto itself act; Burnside's count
 *   uses one variable per group. Arrangements are listed group 0 first: by the chosen sites
 *   of group 0 in lexicographic order, then those of group 1, ...
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
#define MS_ORDERING_MAX_GROUPS 4

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
/**
 * Orderings choosing @p kg[g] sites of each group g (0 <= g < ngroups <= MS_ORDERING_MAX_GROUPS)
 * at once; @p group[a] is the group of @p sites[a]. The enumeration bound applies to the
 * product of the C(n_g, kg[g]). ms_ordering_create is the case of one group.
 */
ms_err ms_ordering_create_groups(const ms_cell *parent, const int *sites, const int *group,
                                 int nsites, const int *kg, int ngroups,
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
/** As ms_ordering_get, and the group of each chosen site into @p chosen_group (may be NULL). */
ms_err ms_ordering_get_groups(const ms_ordering *o, int64_t i, int *chosen, int *chosen_group);

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
