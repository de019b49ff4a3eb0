/**
 * @file data.h
 * @brief Data files the program reads (inputs/): embedded copies and overrides.
 *
 * Conventions
 * -----------
 * - Names are paths relative to inputs/, e.g. "elements.yaml", "potentials/bush1994.yaml".
 * - Every file under inputs/ that meson lists is embedded into the program at build time, so a
 *   batch job needs no data directory. Setting MATSCREEN_DATA_DIR to a directory laid out like
 *   inputs/ makes the program read files from there first (for edited or extra data).
 * - Returned buffers are borrowed (embedded) or owned by the caller as documented.
 *   Not collective.
 */
#ifndef MATSCREEN_DATA_H
#define MATSCREEN_DATA_H

#include <stddef.h>

#include "matscreen/error.h"

/**
 * Contents of data file @p name. On success *text is a malloc'd NUL-terminated copy (free it)
 * and *origin (if not NULL) a static string saying where it came from ("embedded" or the
 * override path, valid until the next call). MS_ERR_FILE if no such data file exists.
 */
ms_err ms_data_read(const char *name, char **text, size_t *len, const char **origin);
/** Names of the embedded data files under directory @p dir ("potentials"), NULL-terminated,
 *  in sorted order. The array is static. */
const char *const *ms_data_list(const char *dir, int *count);

/**
 * Names of the YAML data files under @p dir without directory and ".yaml" ("bush1994"),
 * sorted, written into the caller's @p names (at most @p max, each shorter than 64 bytes) and
 * listed in @p list (NULL-terminated, max + 1 entries). Returns the count.
 */
int ms_data_names(const char *dir, char (*names)[64], int max, const char **list);
/** 1 if a "NAME|FILE" argument is a file: it contains '/' or ends in ".yaml" / ".yml". */
int ms_data_is_path(const char *arg);

/** Read a whole file into a malloc'd NUL-terminated buffer (MS_ERR_FILE with strerror). */
ms_err ms_read_file(const char *path, char **text, size_t *len);

#endif
