/**
 * @file stage.h
 * @brief The stage list of the funnel: one record per stage, with its shape, its ordering
 *        constraints and the declarative spec of its options.
 *
 * Conventions
 * -----------
 * - A stage is a record (ms_stage_info: name, shape, order constraints, the declarative spec of
 *   its options) with its operations (ms_stage_ops). The built-in stages are listed once, in
 *   src/driver/stages.def (one MS_STAGE(name) line per stage, in run order); each one's record
 *   and operations are in its own file (src/driver/stage_NAME.c, surrogate_stage.c,
 *   shortlist_stage.c). A program of one's own adds a stage with ms_stage_register() before
 *   the campaign is loaded (tests/stage/stage_max_sites.c; docs/stages.md, "How to add a
 *   stage"). Everything that needs a stage's name, its place in the order or its option keys
 *   (campaign parsing, did-you-mean, `matscreen info stages`, docs/stages.md) reads the records,
 *   never a table of its own; the funnel runs a stage only through its operations.
 * - Shapes (docs/stages.md, "How a run flows"):
 *   - MS_STAGE_SHAPE_FILTER: per-candidate streaming filter. Each generated candidate is
 *     decided on its own as it streams past (the `filter` operation, on whichever rank builds
 *     the candidate: prefilter, single_point); the keep rule of the filter that evaluates
 *     energies (`evaluates`) then makes one collective selection over what passed. Its input is
 *     the candidate records; its output the survivor set.
 *   - MS_STAGE_SHAPE_TRANSFORM: transforms the survivor set one survivor at a time (relax:
 *     relaxed energies and structures into the relaxed-structure store), work handed out in
 *     chunks, committed to the checkpoint as it goes (the `run` operation).
 *   - MS_STAGE_SHAPE_COLLECTIVE: a pass over the whole set that every rank takes part in
 *     (surrogate, dedup, hull, shortlist; the `run` operation): decisions depend on many
 *     candidates at once.
 * - Collectiveness: `create`, `check`, `filter`, `row`, `describe` are not collective; `run`,
 *   `finish` and `write` are called by every rank in the same order and must reach every
 *   collective call whatever fails (agree on failure with ms_err_agree before the next one).
 * - Ownership: a stage's state is made by its `create` and freed by its `destroy`; the run
 *   (ms_run) and its shared data are borrowed for the duration of each call.
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

#include <stdio.h>

#include "matscreen/campaign.h"
#include "matscreen/cell.h"
#include "matscreen/h5out.h"
#include "matscreen/options.h"

typedef enum {
  MS_STAGE_SHAPE_FILTER = 0, /**< per-candidate streaming filter */
  MS_STAGE_SHAPE_TRANSFORM,  /**< transform of the survivor set */
  MS_STAGE_SHAPE_COLLECTIVE  /**< collective pass */
} ms_stage_shape;

/** The run as a stage sees it (src/driver; opaque here): the campaign, the communicator, the
 *  models, the shared data below and every stage's state. */
typedef struct ms_run ms_run;
/** One row of /candidates while it is finished (internal to src/driver). */
typedef struct ms_run_row ms_run_row;

/** What a filter stage decides about one candidate. */
typedef struct {
  int pass;            /**< 1: the candidate goes on (the caller sets 1 before the call) */
  int status;          /**< ms_status when it does not pass: MS_STATUS_REJECTED, or a failure */
  double energy;       /**< eV/atom, for a stage that evaluates energies (NaN: none); it becomes
                            the candidate's e_single_point and what the stage's keep rule ranks */
  double volume_scale; /**< volume factor the candidate goes on with (1: unchanged) */
  char rule[32];       /**< the rule that rejected it (rejected_by_rule), "" if none */
  char reason[128];    /**< why it does not go on, for people ("" when it passes) */
} ms_stage_verdict;

/**
 * What a stage does, as callbacks; a NULL callback is skipped. Every callback gets the state
 * its `create` made. The shared data every stage sees (funnel_impl.h, docs/stages.md):
 * - candidate records: one per generated candidate, built by the filter stages (phase A) and
 *   committed to the checkpoint block by block;
 * - the survivor set: the candidates that passed every filter and the keep rule of the filter
 *   stage that evaluates energies, identical on every rank, sorted by id;
 * - the relaxed-structure store: relaxation outcomes and relaxed structures, each held by the
 *   rank that reads its block back, with a `kept` flag the collective stages narrow.
 */
typedef struct {
  /** Read and check the options of funnel item @p item (NULL for a stage configured by a
   *  top-level section) at YAML path @p path, and set up. Not collective; errors are positioned
   *  at the offending node. */
  ms_err (*create)(ms_run *run, const ms_stage *item, const char *path, void **state);
  void (*destroy)(void *state);
  /** After the search space exists (not collective): checks that need it, e.g. species. */
  ms_err (*check)(void *state, ms_run *run);
  /** FILTER: decide one candidate (not collective). Per-candidate problems are verdicts; an
   *  error stops the run. */
  ms_err (*filter)(void *state, ms_run *run, const ms_cell *cell, ms_stage_verdict *v);
  /** TRANSFORM and COLLECTIVE: the stage's pass over the survivor set or the relaxed store.
   *  Collective; *stopped is set when a clean stop was agreed (the run ends, resumable). */
  ms_err (*run)(void *state, ms_run *run, int *stopped);
  /** After every stage has run, before the output (collective): late figures, log lines. */
  ms_err (*finish)(void *state, ms_run *run);
  /** Its columns of one /candidates row (not collective). */
  void (*row)(void *state, const ms_run *run, ms_run_row *row);
  /** Its own part of the output (collective; every ms_h5 call on every rank). */
  ms_err (*write)(void *state, ms_run *run, ms_h5 f);
  /** The model its energies come from (the /funnel table's model column), or NULL. */
  ms_model (*model)(void *state, const ms_run *run);
  /** `matscreen check`: what it will do (rank 0 only). */
  void (*describe)(void *state, const ms_run *run, FILE *fp);
} ms_stage_ops;

typedef struct ms_stage_info_s {
  const char *name;             /**< the `stage:` value ("single_point") */
  const char *summary;          /**< one line */
  ms_stage_shape shape;
  ms_stage_kind kind;           /**< built-in funnel stages: their enum value; MS_STAGE_COUNT_ for
                                     the shortlist and registered stages */
  const char *const *after;     /**< NULL-terminated: must come before it when present */
  const char *const *needs;     /**< NULL-terminated: must be present */
  const char *section;          /**< top-level key that configures it instead (NULL: a funnel item) */
  const char *input;            /**< what it reads, in words */
  const char *output;           /**< what it hands on and writes, in words */
  const ms_opt_spec *options;   /**< terminated by key == NULL */
  const ms_stage_ops *ops;      /**< what it does */
  int evaluates;                /**< FILTER: it evaluates energies (its keep rule ranks them) */
} ms_stage_info;

/**
 * Add a stage from outside the library (a test, a user's program) before the campaign is
 * loaded: it is found by name like a built-in one, placed by its `after` list, and run by its
 * shape. The record must outlive every run. At most 16 registered stages; names must be new.
 * Not thread-safe; call it once at start-up on every rank.
 */
ms_err ms_stage_register(const ms_stage_info *stage);

/** Accessors for stages outside src/driver. */
MPI_Comm ms_run_comm(const ms_run *run);
const ms_campaign *ms_run_campaign(const ms_run *run);
/** The model funnel item @p item evaluates with (its own `potential:` or the campaign's). */
ms_model ms_run_model(const ms_run *run, int item);

/** The built-in stages in run order (stages.def), then the registered ones; *count gets their
 *  number. */
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
/** `matscreen check`: every option of @p s for the YAML item @p item at @p path ("funnel[2]"),
 *  the given value or the spec's default, one per line. Not collective. */
void ms_stage_print_options(const ms_stage_info *s, ms_ynode *item, const char *path, FILE *fp);
/** The shape in words ("per-candidate filter", ...). */
const char *ms_stage_shape_name(ms_stage_shape shape);

/** The keys of a keep rule (campaign.h, ms_keep_rule), in the order they are checked. */
extern const ms_opt_spec ms_keep_spec[];
/** The keys of the campaign's `campaign:` section (name, seed, output, keep_rejected). */
extern const ms_opt_spec ms_campaign_spec[];

#endif
