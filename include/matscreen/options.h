/**
 * @file options.h
 * @brief Declarative option specs for YAML mappings, and the generic reader they drive.
 *
 * Conventions
 * -----------
 * - A spec is a static array of ms_opt_spec, one entry per key, terminated by an entry with
 *   key == NULL. It says everything a user needs: key, type, unit, range, default, help text,
 *   and a valid example value (YAML flow syntax) that tests feed to the real parser.
 * - Units are those of docs/campaign.md (Å, eV, eV/atom, eV/Å, GPa, degrees). Ranges are
 *   inclusive unless lo_open / hi_open is set; a NaN bound is no bound.
 * - ms_opts_read() converts and validates the scalar entries (NUMBER, INTEGER, BOOL, STRING,
 *   CHOICE) of one mapping, in spec order, with positioned errors
 *   "FILE:LINE:COL: PATH.KEY: must be in [lo, hi] UNIT, got V". Entries of the other types
 *   (MAP, KEEP, MODEL) are declared for documentation and did-you-mean only: their owners
 *   parse them by hand. Unknown keys are not reported here: the campaign reports every key
 *   nobody read at the end (ms_campaign_check_unused), with a suggestion from the spec's keys.
 * - Not collective, no allocation; values point into the YAML document (borrowed).
 */
#ifndef MATSCREEN_OPTIONS_H
#define MATSCREEN_OPTIONS_H

#include "matscreen/error.h"
#include <stdio.h>

#include "matscreen/yaml.h"

typedef enum {
  MS_OPT_NUMBER = 0, /**< a finite real number, with unit and range */
  MS_OPT_INTEGER,    /**< an integer in a range */
  MS_OPT_BOOL,       /**< true / false */
  MS_OPT_STRING,     /**< free text (paths, PETSc options) */
  MS_OPT_CHOICE,     /**< one word of a fixed list */
  MS_OPT_MAP,        /**< a nested mapping or list: parsed by its owner */
  MS_OPT_KEEP,       /**< a keep rule (campaign.h, ms_keep_spec) */
  MS_OPT_MODEL       /**< a model: name, file or {name, options} (model.h) */
} ms_opt_type;

typedef struct ms_opt_spec ms_opt_spec;
struct ms_opt_spec {
  const char *key;                /**< YAML key */
  ms_opt_type type;
  const char *unit;               /**< "eV/Å", "GPa", ...; NULL when none */
  double lo, hi;                  /**< NUMBER/INTEGER range (NaN: unbounded) */
  int lo_open, hi_open;           /**< exclusive bounds */
  const char *const *choices;     /**< CHOICE: NULL-terminated words */
  double def;                     /**< NUMBER/INTEGER/BOOL/CHOICE (index) default when absent */
  const char *default_text;       /**< the default in words ("0.01", "none", "the campaign's") */
  const char *note;               /**< appended to range messages: " (0: median heuristic)" */
  const char *help;               /**< one or two sentences */
  const char *example;            /**< a valid value, YAML flow syntax (tests, docs) */
  const ms_opt_spec *sub;         /**< MAP: the nested keys (documentation), or NULL */
};

/** The value of one spec entry after ms_opts_read(): the given value or the default. */
typedef struct {
  int set;              /**< the key was given */
  const ms_ynode *node; /**< its value node (NULL when absent) */
  double num;           /**< NUMBER, and INTEGER as a double */
  long long i;          /**< INTEGER */
  int b;                /**< BOOL */
  int choice;           /**< CHOICE: index into choices */
  const char *s;        /**< STRING and CHOICE text (NULL when absent) */
} ms_opt_value;

/** Number of entries of a spec. */
int ms_opts_count(const ms_opt_spec *spec);
/** The entry for @p key, or NULL. */
const ms_opt_spec *ms_opts_find(const ms_opt_spec *spec, const char *key);

/**
 * Read the scalar entries of @p spec from mapping @p map (which may be NULL: every value is its
 * default). @p out has ms_opts_count(spec) entries, in spec order. Marks the keys it reads as
 * used. Errors are MS_ERR_INPUT with "FILE:LINE:COL: PATH.KEY: ..." (@p path: "funnel[2]").
 */
ms_err ms_opts_read(ms_ynode *map, const char *path, const ms_opt_spec *spec, ms_opt_value *out);

/** The value of @p key among @p vals (read with @p spec); NULL when the spec has no such key
 *  (a programming error: callers name keys of their own spec). */
const ms_opt_value *ms_opts_get(const ms_opt_spec *spec, const ms_opt_value *vals, const char *key);

/** The spec's keys as a NULL-terminated list for ms_suggest(); returns how many were written
 *  (at most max - 1). */
int ms_opts_keys(const ms_opt_spec *spec, const char **keys, int max);

/** The type in words, with unit and range: "number in [1e-06, 10] eV/Å", "fixed|iso|aniso|full". */
void ms_opts_describe_type(const ms_opt_spec *o, char *buf, size_t len);

/** Every entry of @p spec for the YAML mapping @p item at @p path, one per line: the given
 *  value, or the spec's default marked "(default)" (`matscreen check`). Marks the keys looked
 *  up as used. Not collective. */
void ms_opts_print(const ms_opt_spec *spec, ms_ynode *item, const char *path, FILE *fp);

#endif
