/**
 * @file yaml.h
 * @brief A small read-only YAML document tree (on libyaml) with source positions.
 *
 * Conventions
 * -----------
 * - Every node keeps the file name, line and column (1-based) where it starts, so that
 *   errors read "campaign.yaml:12:7: funnel[1].keep.top_fraction must be in (0, 1], got 1.5".
 * - Mappings keep key order; duplicate keys are an error. Anchors and aliases are supported
 *   by sharing nodes (no copies); the number of nodes reachable through aliases is bounded
 *   (MS_YAML_MAX_EXPANDED) so alias bombs are rejected instead of exhausting memory or time.
 * - A document is owned by its ms_ydoc; nodes are borrowed pointers valid until
 *   ms_ydoc_free(). Not collective: parse on one rank and broadcast the text, or parse the
 *   same text on every rank (it is deterministic).
 * - Accessors that convert scalars return MS_ERR_INPUT with a positioned message naming
 *   @p path (the dotted key path the caller passes, e.g. "funnel[1].keep.top_fraction").
 * - "Used" marks: each mapping entry looked up with ms_ynode_get() is marked used;
 *   ms_ynode_check_unused() reports keys nobody read, with a did-you-mean suggestion.
 */
#ifndef MATSCREEN_YAML_H
#define MATSCREEN_YAML_H

#include <stddef.h>

#include "matscreen/error.h"

#define MS_YAML_MAX_EXPANDED 1000000

typedef enum { MS_YNULL = 0, MS_YSCALAR, MS_YSEQ, MS_YMAP } ms_ytype;

typedef struct ms_ynode ms_ynode;
struct ms_ynode {
  ms_ytype type;
  int line, col;          /**< 1-based position in the source */
  const char *file;       /**< file name for messages (owned by the document) */
  char *value;            /**< scalar text (MS_YSCALAR) */
  int quoted;             /**< scalar was quoted: never a number or boolean */
  int n;                  /**< number of items (seq) or entries (map) */
  ms_ynode **items;       /**< seq items, or map values */
  ms_ynode **keys;        /**< map keys (scalars) */
  unsigned char *used;    /**< map: entry i was looked up */
  size_t expanded;        /**< nodes reachable from here counting aliases (bomb guard) */
};

typedef struct ms_ydoc ms_ydoc;

/** Parse a YAML text of @p len bytes; @p name is used in messages. One document only. */
ms_err ms_ydoc_parse(const char *text, size_t len, const char *name, ms_ydoc **doc);
/** Parse a file (read fully, then parsed). */
ms_err ms_ydoc_parse_file(const char *path, ms_ydoc **doc);
/** Root node of the document (an empty document has a MS_YNULL root). */
ms_ynode *ms_ydoc_root(ms_ydoc *doc);
void ms_ydoc_free(ms_ydoc **doc);

/** Value for @p key in mapping @p map (marks it used), or NULL when absent / not a map. */
ms_ynode *ms_ynode_get(ms_ynode *map, const char *key);
/** Human name of a node type ("mapping", "sequence", "scalar", "null"). */
const char *ms_ynode_type_name(ms_ytype t);

/** Require @p node to be of type @p t; message "file:line:col: PATH must be a T, got U". */
ms_err ms_ynode_expect(const ms_ynode *node, ms_ytype t, const char *path);
/** Scalar conversions. Strict: the whole scalar must parse; no trailing garbage. */
ms_err ms_ynode_double(const ms_ynode *node, const char *path, double *out);
ms_err ms_ynode_int(const ms_ynode *node, const char *path, long long *out);
ms_err ms_ynode_bool(const ms_ynode *node, const char *path, int *out);
/** Scalar text (borrowed). */
ms_err ms_ynode_string(const ms_ynode *node, const char *path, const char **out);
/** Fixed-length list of doubles (a sequence of exactly @p n numbers). */
ms_err ms_ynode_doubles(const ms_ynode *node, const char *path, double *out, int n);

/**
 * Optional keys of mapping @p map with range checks: when @p key is present, convert it
 * (positioned errors name "PATH.key") and require lo <= value <= hi ("must be in lo..hi, got
 * v"); *found (may be NULL) says whether it was present; *out is untouched when it is not.
 */
ms_err ms_ynode_key_int(ms_ynode *map, const char *key, const char *path, long long lo,
                        long long hi, long long *out, int *found);
ms_err ms_ynode_key_double(ms_ynode *map, const char *key, const char *path, double lo,
                           double hi, double *out, int *found);
/** A scalar n (read as [n, n]) or [min, max] of integers in lo..hi with min <= max. */
ms_err ms_ynode_key_int_range(ms_ynode *map, const char *key, const char *path, long long lo,
                              long long hi, long long out[2], int *found);

/**
 * Report the first key of @p map (and of nested maps when @p recursive) that was never looked
 * up: "file:line:col: PATH.key: unknown key (did you mean 'formula_units'?)". @p allowed is an
 * optional NULL-terminated list of valid keys used for the suggestion.
 */
ms_err ms_ynode_check_unused(const ms_ynode *map, const char *path, const char *const *allowed);

/** Like ms_ynode_check_unused() but through every nested mapping and sequence under @p node. */
ms_err ms_ynode_check_unused_all(const ms_ynode *node, const char *path);

/** Closest word to @p word in @p candidates (edit distance <= max(2, len/3)), or NULL. */
const char *ms_suggest(const char *word, const char *const *candidates);

/** Record an input error positioned at @p node: "file:line:col: PATH: message". */
ms_err ms_ynode_error(const ms_ynode *node, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

#endif
