/**
 * @file h5verify.h
 * @brief Checking a matscreen output file against the checksums written with it (h5out.h).
 *
 * Conventions
 * -----------
 * - What is checked (schema_version 2 and later):
 *   * each dataset: SHA-256 of its values in row-major order, numbers as little-endian bytes
 *     (float64, int64 or int32 as stored), fixed-width strings as their NUL-padded bytes, against
 *     the row of /checksums/sha256 whose /checksums/dataset is the dataset's path;
 *   * the manifest: SHA-256 of the bytes of /checksums/dataset (256 bytes a row) followed by
 *     those of /checksums/sha256 (64 a row), against the root attribute `checksums_sha256`;
 *   * the root attributes: SHA-256 over every root attribute except `root_attributes_sha256`,
 *     sorted by name (byte order), each as its name, a NUL, a type letter and the value: 's'
 *     then the string's bytes and a NUL, 'i' then the value as a little-endian int64, 'f' then
 *     a little-endian IEEE float64; against `root_attributes_sha256`.
 *   Python's hashlib reproduces each of these from what h5py reads (docs/output.md).
 * - A file written before checksums existed (no /checksums) is reported as unchecked, not as
 *   damaged: rep->has_checksums = 0 and the call succeeds; callers decide what to say.
 * - Damage is MS_ERR_FILE with a message naming the file and the first damaged dataset or
 *   attribute ("dataset /shortlist/score is damaged: its checksum does not match"); a dataset
 *   that cannot be decompressed or read at all is damaged too.
 * - Reads the file with serial HDF5; not collective, no MPI. Memory is bounded (datasets are read
 *   in slabs of a few MiB).
 */
#ifndef MATSCREEN_H5VERIFY_H
#define MATSCREEN_H5VERIFY_H

#include "matscreen/error.h"

typedef struct {
  int has_checksums;    /**< 0: no checksums in the file (older schema) */
  int root_ok;          /**< the root attributes and the manifest match */
  int checked;          /**< datasets whose digest was computed */
  int damaged;          /**< datasets that differ or cannot be read */
  int missing;          /**< requested or listed datasets that are not in the file */
  int unlisted;         /**< datasets in the file but not in the manifest (full check only) */
} ms_h5_verify_report;

/** Called for each dataset checked: @p verdict is "ok", "damaged: ...", "missing" or
 *  "not in the checksum manifest". */
typedef void (*ms_h5_verify_fn)(const char *dataset, const char *verdict, void *ctx);

/**
 * Check @p path: always the root attributes and the manifest; then the datasets named in
 * @p datasets[0..n) (e.g. the ones a reader is about to use), or, with @p datasets NULL, every
 * dataset in the manifest and that no other dataset exists. Returns MS_SUCCESS when all of it is
 * intact (or the file has no checksums), MS_ERR_FILE for damage or a file that cannot be opened.
 * A full check goes on after the first damage so that @p fn sees every dataset; the error names
 * the first. @p fn and @p rep may be NULL.
 */
ms_err ms_h5_verify(const char *path, const char *const *datasets, int n, ms_h5_verify_fn fn,
                    void *ctx, ms_h5_verify_report *rep);

#endif
