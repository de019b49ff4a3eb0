/**
 * @file campaign.h
 * @brief The campaign configuration (YAML): what to search, how to narrow it, where to write.
 *
 * Conventions
 * -----------
 * - Schema (docs/campaign.md documents every key with type, default and unit):
 *
 *       campaign:  {name: STR, seed: INT, output: PATH, keep_rejected: all|counts}
 *       potential: NAME|FILE  or  {name: NAME|FILE, OPTION: VALUE, ...}  (the model, model.h)
 *       search:    [ {generator: NAME, ...generator options...}, ... ]
 *       funnel:    [ {stage: NAME, ...stage options..., keep: {RULE: VALUE}}, ... ]
 *       shortlist: {size: INT, acquisition: {kind: ucb|ei|thompson|greedy, ...}, ...}  (docs/shortlist.md)
 *       lab_queue: {database: PATH, export: [nimo, alabos, csv, json]}
 *       lab_feedback: {database: PATH}
 *
 *   The known stages, the order they must be given in and their options are the stage list
 *   (stage.h, src/driver/stages.def; `matscreen info stages`): prefilter, single_point,
 *   surrogate, relax, dedup, hull (surrogate, dedup and hull need a relax stage). The stages that evaluate
 *   energies (single_point, surrogate, relax) may name their own model with `potential:` (same
 *   syntax as the top-level key); the others use the campaign's, and the hull compares the
 *   relax stage's energies with reference phases computed with the relax stage's model. Keep rules: top_k (INT), top_fraction (0 < X <= 1), max_energy_per_atom_eV (X),
 *   max_energy_above_best_eV_per_atom (X, relative to the best of the same composition),
 *   max_e_above_hull_eV_per_atom (X, hull stage).
 * - Generator options and stage-specific options are kept as YAML nodes and validated by their
 *   owners (the generator registry, the relaxer) through the positioned accessors of yaml.h;
 *   this module checks the shape, the common keys and unknown keys, and fills defaults.
 * - Every error is MS_ERR_INPUT with "FILE:LINE:COL: PATH: message"; unknown keys get a
 *   did-you-mean. Parsing is deterministic, so ranks may parse the same text independently
 *   (rank 0 reads the file and broadcasts the text: ms_campaign_load).
 * - A campaign owns its YAML document; free it with ms_campaign_free().
 */
#ifndef MATSCREEN_CAMPAIGN_H
#define MATSCREEN_CAMPAIGN_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/model.h"
#include "matscreen/yaml.h"

#define MS_MAX_STAGES 16
#define MS_MAX_SEARCH 1024

/** The funnel's stages as the driver addresses them; each value has exactly one record in the
 *  stage list (stage.h), which holds its name: use ms_stage_name(), never a table of names. */
typedef enum {
  MS_STAGE_PREFILTER = 0,
  MS_STAGE_SINGLE_POINT,
  MS_STAGE_SURROGATE,
  MS_STAGE_RELAX,
  MS_STAGE_DEDUP,
  MS_STAGE_HULL,
  MS_STAGE_COUNT_
} ms_stage_kind;

/** Keep rule of a stage; a NaN / 0 field means "not set". */
typedef struct {
  int64_t top_k;                 /**< keep the k lowest (0: unset) */
  double top_fraction;           /**< keep the lowest fraction (0: unset) */
  double max_energy_per_atom;    /**< eV/atom (NaN: unset) */
  double max_above_best;         /**< eV/atom above the best of the same composition (NaN: unset) */
  double max_e_above_hull;       /**< eV/atom (NaN: unset) */
} ms_keep_rule;

struct ms_stage_info_s;

typedef struct {
  ms_stage_kind kind;  /**< MS_STAGE_COUNT_ for a registered stage */
  const struct ms_stage_info_s *info; /**< its record in the stage list (stage.h) */
  const char *name;    /**< "single_point" */
  ms_ynode *node;      /**< the whole stage mapping (for stage-specific options) */
  ms_keep_rule keep;
  int has_keep;
  ms_model_spec model; /**< the model it evaluates with: its own `potential:` or the campaign's */
  int has_model;       /**< 1 when the stage names its own model */
} ms_stage;

typedef struct {
  const char *generator; /**< registry name */
  ms_ynode *node;        /**< the whole search item (generator options) */
} ms_search_item;

typedef struct {
  char *text;            /**< the YAML as given */
  char *file;            /**< its file name (for messages) */
  ms_ydoc *doc;
  /* campaign: */
  const char *name;
  uint64_t seed;
  const char *output;    /**< HDF5 output path (default NAME.h5) */
  char output_default[320];
  int keep_rejected_rows; /**< 1: a row per candidate; 0: counts only for rejected ones */
  /* potential: the campaign's model (checked: name resolved, options valid) */
  const char *potential; /**< its name (model.name) */
  ms_model_spec model;
  /* search and funnel */
  int nsearch;
  ms_search_item search[MS_MAX_SEARCH];
  int nstages;
  ms_stage stage[MS_MAX_STAGES];
  /* shortlist and lab queue (validated shape only for now) */
  ms_ynode *shortlist;
  ms_ynode *lab_queue;
  ms_ynode *lab_feedback;
  int64_t shortlist_size;
} ms_campaign;

/** Parse and validate a campaign from YAML text; @p name is used in messages. The model
 *  specs are checked (ms_model_spec_check) but no model is loaded. Not collective. */
ms_err ms_campaign_parse(const char *text, size_t len, const char *name, ms_campaign **out);
/**
 * Collective: rank 0 reads @p path, the text is broadcast, every rank parses it; errors are
 * agreed on (every rank returns the same code and message).
 */
ms_err ms_campaign_load(MPI_Comm comm, const char *path, ms_campaign **out);
void ms_campaign_free(ms_campaign **c);
/** Stage name ("single_point"); NULL if out of range. */
const char *ms_stage_name(ms_stage_kind k);
/**
 * After every owner has read its options: report the first key that nobody read, with a
 * did-you-mean (PETSc's -options_left as an error).
 */
ms_err ms_campaign_check_unused(ms_campaign *c);
/** A path given in the campaign file, as seen from the current directory: relative paths are
 *  relative to the campaign file's directory. malloc'd (caller frees); NULL when out of memory. */
char *ms_campaign_path(const ms_campaign *c, const char *path);
/** The resolved configuration as YAML text (defaults filled in); malloc'd, caller frees. */
char *ms_campaign_resolved_yaml(const ms_campaign *c);

#endif
