/**
 * @file generator.h
 * @brief Candidate generators (registry) and the search space of a campaign (`search:`).
 *
 * Conventions (units and lattice layout as in cell.h)
 * -----------
 * - A generator turns one item of the campaign's `search:` list (a YAML mapping with a
 *   `generator: NAME` key) into a numbered set of candidates 0..count-1. count() is exact and
 *   cheap (nothing is built); build(i) depends only on (seed, i, configuration): never on the
 *   rank, the thread or the order of calls, so any rank can build any candidate and the output
 *   is bitwise identical for any number of ranks (design.md §4).
 * - Randomness: build(i) draws from ms_rng keyed by (seed, i) (rng.h). The seed a generator
 *   receives is the campaign seed mixed with the item's position in `search:`
 *   (ms_search_item_seed), so two random items of one campaign draw different structures.
 * - Registry (style.md B5): each built-in generator is one constant ms_generator_info record
 *   (name, summary, parameters, references, ops) listed in src/generate/generators.def; more
 *   can be added with ms_generator_register() before use. Lookup of an unknown name fails
 *   with MS_ERR_UNKNOWN_TYPE, listing the known names with a did-you-mean.
 * - Configuration errors are MS_ERR_INPUT positioned at the YAML node
 *   ("campaign.yaml:14:9: search[1].formula_units: ..."); unknown keys of an item are errors
 *   with a suggestion.
 * - A candidate that cannot be built (a random draw that found no placement) is not an error:
 *   build() returns MS_SUCCESS with info->status = MS_STATUS_FAILED and a reason.
 * - Generators are immutable after creation and build() keeps no shared scratch; the one
 *   caveat for threads is random_search, whose build() calls spglib's Niggli reduction, and
 *   spglib keeps its last error code in a process global. Not collective: every rank creates
 *   the same generators from the same YAML.
 */
#ifndef MATSCREEN_GENERATOR_H
#define MATSCREEN_GENERATOR_H

#include <stdint.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/model.h"
#include "matscreen/potential.h"
#include "matscreen/status.h"
#include "matscreen/yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a generator is created with besides its YAML item. */
typedef struct {
  uint64_t seed;           /**< item seed (ms_search_item_seed of the campaign seed) */
  const ms_model *models;  /**< optional: the models candidates will be evaluated with (read
                                during create() only); random_search keeps every pair at least
                                at the largest ms_model_min_distance() of them */
  int nmodels;
} ms_generator_context;

/** What build() reports about a candidate. */
typedef struct {
  ms_status status;   /**< MS_STATUS_OK, or MS_STATUS_FAILED (see detail) */
  char generator[32]; /**< registry name */
  char prototype[48]; /**< prototype name ("" for random_search) */
  int spacegroup;     /**< declared (prototype) or drawn (random) space-group number */
  int hall;           /**< its Hall setting */
  int formula_units;  /**< formula units in the cell (0 if not defined) */
  /** random_search: rows are the output lattice vectors in fractional coordinates of the
   *  drawn setting's conventional cell (L_out = basis · L_conv), so the drawn operations can
   *  be checked on the output; identity otherwise. */
  double basis[3][3];
  char detail[192]; /**< reason when status != OK; "" otherwise */
  char formula[32];  /**< reduced formula of a candidate that could not be built, when the
                          generator knows it ("" otherwise; take it from the cell when built) */
} ms_candidate_info;

/** One parameter of a generator, for `matscreen info generators`. */
typedef struct {
  const char *name;          /**< YAML key */
  const char *type;          /**< "list of ions", "[min, max]", "integer", ... */
  const char *default_value; /**< "" when required */
  const char *help;
} ms_param_spec;

/** Operations of a generator implementation. data is the implementation's state. */
typedef struct {
  ms_err (*create)(ms_ynode *item, const char *path, const ms_generator_context *ctx, void **data);
  int64_t (*count)(const void *data);
  ms_err (*build)(const void *data, int64_t i, ms_cell *out, ms_candidate_info *info);
  ms_err (*describe)(const void *data, FILE *fp); /**< a few lines for `generate --count` */
  void (*destroy)(void *data);
  /** Optional: the distinct species the configuration names (what candidates are built
   *  from) into out[0..max); returns how many there are. */
  int (*species)(const void *data, ms_species *out, int max);
} ms_generator_ops;

typedef struct {
  const char *name;            /**< the `generator:` value */
  const char *summary;         /**< one line */
  const ms_param_spec *params; /**< terminated by an entry with name == NULL */
  const char *const *refs;     /**< NULL-terminated citations */
  const ms_generator_ops *ops;
} ms_generator_info;

/** Add a generator type (names must be unique; MS_ERR_INPUT otherwise). Not thread-safe:
 *  register at start-up. The record must outlive its use. */
ms_err ms_generator_register(const ms_generator_info *info);
/** Type by name, or NULL. */
const ms_generator_info *ms_generator_find(const char *name);
/** All types: built-ins in generators.def order, then registered ones; NULL-terminated. */
const ms_generator_info *const *ms_generator_list(int *count);

typedef struct ms_generator_s *ms_generator;

/**
 * Generator for one `search:` item (a mapping with `generator: NAME`); @p path names it in
 * messages ("search[1]"). The item's nodes are read during the call only.
 */
ms_err ms_generator_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                           ms_generator *out);
void ms_generator_destroy(ms_generator *g);
const ms_generator_info *ms_generator_type(const ms_generator g);
/** Exact number of candidates. */
int64_t ms_generator_count(const ms_generator g);
/** Candidate @p i into @p out (initialised; overwritten). MS_ERR_ARG if i is out of range. */
ms_err ms_generator_build(const ms_generator g, int64_t i, ms_cell *out, ms_candidate_info *info);
ms_err ms_generator_describe(const ms_generator g, FILE *fp);
/** The species of the generator's candidates (ops->species) into out[0..max); returns their
 *  number, or -1 when the generator does not list them. */
int ms_generator_species(const ms_generator g, ms_species *out, int max);

/** The seed of item @p item of a campaign with seed @p seed (splitmix64 mixing). */
uint64_t ms_search_item_seed(uint64_t seed, int item);

/**
 * The whole search space: the generators of a `search:` sequence with consecutive id ranges
 * (item 0 has ids 0..count0-1, item 1 the next ones, ...).
 */
typedef struct ms_search_s *ms_search;

/** The generators of @p search (a sequence), item seeds from @p seed; @p models as in
 *  ms_generator_context (the campaign's models, for random_search's catastrophe guard). */
ms_err ms_search_create_with_models(ms_ynode *search, uint64_t seed, const ms_model *models,
                                    int nmodels, ms_search *out);
/** The same with the catastrophe guard of one rigid-ion potential (NULL: none), for tools and
 *  tests that hold a potential rather than models. */
ms_err ms_search_create(ms_ynode *search, uint64_t seed, const ms_potential *potential,
                        ms_search *out);
void ms_search_destroy(ms_search *s);
int64_t ms_search_count(const ms_search s);
int ms_search_nitems(const ms_search s);
ms_generator ms_search_generator(const ms_search s, int item);
/** First global id of item @p item. */
int64_t ms_search_offset(const ms_search s, int item);
/** Item of global id @p id (and the local index into *local). -1 if out of range. */
int ms_search_locate(const ms_search s, int64_t id, int64_t *local);
/** Candidate with global id @p id. */
ms_err ms_search_build(const ms_search s, int64_t id, ms_cell *out, ms_candidate_info *info);
/**
 * The distinct species of the whole search space (ms_generator_species of every item, in item
 * order) into out[0..max), with the item that names each first in item[]; returns their number.
 * *unlisted (may be NULL) counts the items whose generator does not list its species.
 */
int ms_search_species(const ms_search s, ms_species *out, int *item, int max, int *unlisted);

#ifdef __cplusplus
}
#endif
#endif
