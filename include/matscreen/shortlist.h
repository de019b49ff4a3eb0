/**
 * @file shortlist.h
 * @brief The shortlist: which hull survivors the lab should try next. Acquisition scores
 *        (greedy, UCB, expected improvement, Thompson sampling), a diversity-penalised greedy
 *        batch, a cap per chemical system, an element filter, candidates already tried, and a
 *        novelty check against a set of known structures.
 *
 * Conventions (in addition to those of cell.h)
 * -----------
 * - Units: e_above_hull, sigma, xi, the EI target, every score and the diversity weight are in
 *   eV/atom. Novelty tolerances are those of match.h: ltol fractional, stol in units of
 *   (V/N)^(1/3), angle_tol in degrees.
 * - Scores are "higher is better" (a low energy above the hull is good); the formulas, the
 *   similarity used by the diversity penalty and the novelty levels are in docs/shortlist.md.
 * - Ownership: ms_shortlist_parse() makes the options own novelty_set and allowed_elements
 *   (heap copies); ms_shortlist_options_free() releases them. Set by hand, they must be heap
 *   strings too (or be cleared before the free). @c known is borrowed. Entries (their strings
 *   and cells) are borrowed for the duration of a call. ms_shortlist_select() allocates
 *   *picks; release it with free(). An ms_known_set is owned by its creator: ms_known_set_free().
 * - Determinism: the selection depends only on the set of entries, not on their order (they
 *   are sorted by id first), and Thompson draws come from Philox keyed by (seed, candidate id),
 *   so every rank that calls it with the same input gets bitwise the same picks.
 * - Collectivity: nothing here is collective or touches MPI. The caller gathers the entries on
 *   every rank (or on one and broadcasts the picks).
 * - Errors: YAML errors are MS_ERR_INPUT positioned at the node, e.g.
 *   "campaign.yaml:31:12: shortlist.acquisition.kappa: must be >= 0, got -1"; unknown keys get a
 *   did-you-mean suggestion. Bad arguments (duplicate ids, unsorted exclude_ids, negative sigma)
 *   are MS_ERR_ARG; an unreadable known-structure set is MS_ERR_FILE, bad content in it
 *   MS_ERR_INPUT naming the file.
 */
#ifndef MATSCREEN_SHORTLIST_H
#define MATSCREEN_SHORTLIST_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/options.h"
#include "matscreen/yaml.h"

/** How candidates are scored (docs/shortlist.md has the formulas). */
typedef enum {
  MS_ACQ_GREEDY,   /**< score = -e_above_hull (uncertainty ignored) */
  MS_ACQ_UCB,      /**< score = -(e_above_hull - kappa sigma) */
  MS_ACQ_EI,       /**< expected improvement below target - xi under N(e_above_hull, sigma^2) */
  MS_ACQ_THOMPSON, /**< score = -(one draw from N(e_above_hull, sigma^2)) */
} ms_acquisition;

/** "greedy", "ucb", "ei", "thompson"; NULL when out of range. */
const char *ms_acquisition_name(ms_acquisition kind);

/** A loaded set of known structures (opaque). */
typedef struct ms_known_set ms_known_set;

typedef struct {
  int64_t size;              /**< shortlist length (24) */
  ms_acquisition kind;       /**< MS_ACQ_UCB */
  double kappa;              /**< UCB weight of sigma (1.0) */
  double xi;                 /**< EI margin below the target, eV/atom (0.0) */
  double ei_target;          /**< EI threshold on e_above_hull, eV/atom (0.05) */
  double diversity;          /**< penalty weight, eV/atom per unit similarity (0.3) */
  int64_t max_per_system;    /**< at most this many picks per chemical system (0: no limit) */
  char **allowed_elements;   /**< element symbols; NULL: any element */
  int nallowed;
  int exclude_tried;         /**< YAML exclude_tried (1); the caller passes exclude_ids or not */
  const char *novelty_set;   /**< folder of *.cif or a structure file (extxyz frames); NULL: none.
                                  Owned (heap): to resolve a relative path, free() it and store
                                  a heap copy of the resolved one */
  const ms_known_set *known; /**< borrowed, preloaded set; when NULL and novelty_set is set,
                                  ms_shortlist_select loads novelty_set for the call */
  double strict_ltol, strict_stol, strict_angle_tol; /**< "known" level (0.2, 0.3, 5) */
  double loose_ltol, loose_stol, loose_angle_tol;    /**< "ordered_variant" level (0.3, 0.5, 10) */
  uint64_t seed;             /**< Thompson draws (0); not a YAML key: the caller sets the
                                  campaign seed after ms_shortlist_parse */
} ms_shortlist_options;

/** Fill @p o with the defaults above (nothing allocated). */
void ms_shortlist_options_default(ms_shortlist_options *o);

/**
 * Parse the campaign's `shortlist:` mapping into @p o (defaults first, so a NULL or null
 * @p node gives the defaults). Keys: size, acquisition {kind, kappa, xi, target, diversity}
 * (or `acquisition: KIND`), max_per_system, allowed_elements [..], exclude_tried,
 * novelty {known: PATH, strict: {ltol, stol, angle_tol}, loose: {...}} (or `novelty: PATH`).
 * @p path is the key path for messages ("shortlist"). Relative PATHs are kept as given.
 * Loads the element table if needed. On failure @p o holds the defaults and owns nothing.
 */
ms_err ms_shortlist_parse(ms_ynode *node, const char *path, ms_shortlist_options *o);

/** Release what @p o owns and reset it to the defaults. NULL-safe. */
void ms_shortlist_options_free(ms_shortlist_options *o);

/** One hull survivor offered to the shortlist. */
typedef struct {
  int64_t id;               /**< candidate id (unique) */
  double e_above_hull;      /**< eV/atom (predicted); non-finite: skipped */
  double sigma;             /**< uncertainty, eV/atom, >= 0 (0 or non-finite: unknown) */
  const char *formula;      /**< reduced formula; NULL or "": taken from the cell */
  const char *prototype;    /**< prototype name; "" or NULL for random search */
  const ms_cell *cell;      /**< relaxed structure (fingerprint, novelty); may be NULL */
  int spacegroup;           /**< carried for the caller; the selection does not use it */
} ms_shortlist_entry;

/** One chosen candidate. */
typedef struct {
  int64_t id;
  int priority;              /**< 1 = first */
  double score;              /**< acquisition score (higher = better) */
  double penalised_score;    /**< score - diversity x similarity, when it was picked */
  char novelty[16];          /**< "new", "known", "ordered_variant", "unchecked" */
  char known_match[64];      /**< name of the matching known structure, "" when none */
} ms_shortlist_pick;

/**
 * Choose up to o->size candidates from @p n entries. Not collective; the result depends only
 * on the set of entries. Entries with a non-finite e_above_hull, an id in @p exclude_ids
 * (sorted ascending, may be NULL when @p nexclude is 0) or an element outside
 * allowed_elements are skipped. The batch is built greedily: each step takes the candidate
 * with the highest penalised score (ties: the lower id) among those whose chemical system is
 * below max_per_system; a candidate the novelty check calls "known" is dropped instead of
 * picked. *picks (free() it) gets the picks in priority order, *npicks their number.
 */
ms_err ms_shortlist_select(const ms_shortlist_options *o, const ms_shortlist_entry *e, size_t n,
                           const int64_t *exclude_ids, size_t nexclude,
                           ms_shortlist_pick **picks, size_t *npicks);

/** Acquisition score of one (e_above_hull, sigma) pair under @p o; Thompson needs @p id. */
double ms_shortlist_score(const ms_shortlist_options *o, int64_t id, double e_above_hull,
                          double sigma);

/**
 * Similarity in [0, 1] of two entries as the diversity penalty uses it:
 * C (1 + S) / 2, C the weighted-Jaccard overlap of the element fractions, S 1 for the same
 * non-empty prototype, else the weighted-Jaccard overlap of the radial fingerprints (0 when a
 * cell is missing). See docs/shortlist.md.
 */
ms_err ms_shortlist_similarity(const ms_shortlist_entry *a, const ms_shortlist_entry *b,
                               double *sim);

/**
 * Load known structures from @p path: a directory (every *.cif in it, in name order, each data
 * block one structure named after its file, "file.cif[k]" when the file holds several) or one
 * structure file (every frame; named by its label, else "file[k]", k from 0). Each structure is
 * reduced for matching once here.
 */
ms_err ms_known_set_load(const char *path, ms_known_set **out);
/** Number of structures in the set. */
size_t ms_known_set_size(const ms_known_set *ks);
/** NULL-safe; sets *ks = NULL. */
void ms_known_set_free(ms_known_set **ks);

/**
 * Novelty of @p cell against @p ks with the tolerances in @p o:
 * "known" when it matches a known structure at the strict tolerances (species with oxidation
 * states compared when both structures carry them on every site, elements otherwise);
 * "ordered_variant" when it matches one only at the loose tolerances with elements compared;
 * "new" otherwise; "unchecked" when @p ks or @p cell is NULL. @p known_match gets the name of
 * the first matching known structure in load order ("" when none).
 */
ms_err ms_known_set_check(const ms_known_set *ks, const ms_cell *cell,
                          const ms_shortlist_options *o, char novelty[16], char known_match[64]);

/** The keys of the campaign's `shortlist:` section (the shortlist stage's option spec). */
extern const ms_opt_spec ms_shortlist_spec[];

#endif
