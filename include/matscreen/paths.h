/**
 * @file paths.h
 * @brief Output locations: every command that writes a file or a directory creates the missing
 *        parent directories first (as `mkdir -p` does), so `-o results/run1/out.h5` and
 *        `-d lab/round2` behave alike everywhere.
 *
 * Conventions
 * -----------
 * - Directories are created with mode 0777 minus the umask, as mkdir(1) does.
 * - Errors: MS_ERR_FILE naming the directory that could not be made and why (strerror), or
 *   that a path component exists and is not a directory; MS_ERR_ARG for an empty or overlong
 *   path (4095 bytes or more).
 * - Not collective, not thread-safe with respect to the file system (two processes creating the
 *   same directories at once both succeed: EEXIST is not an error). Call it on the rank that
 *   writes and agree on the error.
 */
#ifndef MATSCREEN_PATHS_H
#define MATSCREEN_PATHS_H

#include "matscreen/error.h"

/** Create directory @p dir and its missing parents; success if it exists already. */
ms_err ms_make_dirs(const char *dir);

/** Create the missing parent directories of file @p path ("a/b/out.h5" -> a/b); nothing for a
 *  bare file name. */
ms_err ms_make_parent_dirs(const char *path);

#endif
