/**
 * @file stage.h
 * @brief The stage list of the funnel: one record per stage, with its shape, its ordering
 *        constraints and the declarative spec of its options.
 *
 * Conventions
 * -----------
 * - The built-in stages are listed once, in src/driver/stages.def (one MS_STAGE(name) line per
 *   stage, in run order); the records are in src/driver/stage_list.c. Everything that needs a
 *   stage's name, its place in the order or its option keys (campaign parsing, did-you-mean,
 *   `matscreen info stages`, docs/stages.md) reads them from here, never from its own table.
 * - Shapes (docs/stages.md, "How a run flows"):
 *   - MS_STAGE_SHAPE_FILTER: per-candidate streaming filter. Each generated candidate is
 *     decided on its own as it streams past (prefilter, single_point); a keep rule then makes
 *     one collective selection over what passed. Its input is the candidate records of the
 *     generators; its output the survivor set.
 *   - MS_STAGE_SHAPE_TRANSFORM: transforms the survivor set one survivor at a time (relax:
 *     relaxed energies and structures into the relaxed-structure store), work handed out in
 *     chunks, committed to the checkpoint as it goes.
 *   - MS_STAGE_SHAPE_COLLECTIVE: a pass over the whole set that every rank takes part in
 *     (surrogate, dedup, hull, shortlist): decisions depend on many candidates at once.
 * - Ordering: `after` lists the stages that, when a campaign has both, must come before this
 *   one; `needs` lists stages that must be present at all (the funnel checks them, with a
 *   message saying why). The list order of stages.def satisfies every `after` constraint.
 * - The option spec (options.h) lists every key the stage's YAML item accepts besides `stage`,
 *   including the nested ones (`keep`, `potential`, `volume_scan`, ...) that their owners
 *   parse by hand; a key not in the spec is an error with a suggestion from the spec.
 * - A stage configured by a top-level section instead of a funnel item (the shortlist) has
 *   `section` set to that key and kind MS_STAGE_COUNT_.
 * - Records are read-only static data: thread-safe, not collective.
 */
#ifndef MATSCREEN_STAGE_H
#define MATSCREEN_STAGE_H

#include "matscreen/campaign.h"
#include "matscreen/options.h"

typedef enum {
  MS_STAGE_SHAPE_FILTER = 0, /**< per-candidate streaming filter */
  MS_STAGE_SHAPE_TRANSFORM,  /**< transform of the survivor set */
  MS_STAGE_SHAPE_COLLECTIVE  /**< collective pass */
} ms_stage_shape;

typedef struct {
  const char *name;             /**< the `stage:` value ("single_point") */
  const char *summary;          /**< one line */
  ms_stage_shape shape;
  ms_stage_kind kind;           /**< the funnel's enum value (MS_STAGE_COUNT_: not a funnel item) */
  const char *const *after;     /**< NULL-terminated: must come before it when present */
  const char *const *needs;     /**< NULL-terminated: must be present */
  const char *section;          /**< top-level key that configures it instead (NULL: a funnel item) */
  const char *input;            /**< what it reads, in words */
  const char *output;           /**< what it hands on and writes, in words */
  const ms_opt_spec *options;   /**< terminated by key == NULL */
} ms_stage_info;

/** The built-in stages in run order (stages.def); *count gets their number. */
const ms_stage_info *const *ms_stage_list(int *count);
/** The stage named @p name, or NULL. */
const ms_stage_info *ms_stage_find(const char *name);
/** The funnel stage of enum value @p kind, or NULL. */
const ms_stage_info *ms_stage_of_kind(ms_stage_kind kind);
/** Names of the funnel stages (section == NULL) in run order, NULL-terminated, into names[0..max). */
int ms_stage_funnel_names(const char **names, int max);
/** Whether stage @p s takes option @p key. */
int ms_stage_has_option(const ms_stage_info *s, const char *key);
/** Whether @p s lists @p other in its `after` constraints. */
int ms_stage_comes_after(const ms_stage_info *s, const char *other);
/** The shape in words ("per-candidate filter", ...). */
const char *ms_stage_shape_name(ms_stage_shape shape);

/** The keys of a keep rule (campaign.h, ms_keep_rule), in the order they are checked. */
extern const ms_opt_spec ms_keep_spec[];

#endif
