/**
 * @file h5out.h
 * @brief Writing matscreen's HDF5 output from many ranks, safely when storage fails, with
 *        checksums that let any reader prove the file intact (h5verify.h).
 *
 * Conventions
 * -----------
 * - Every function here except ms_h5_table_append() is collective over the communicator the
 *   file was created with: every rank makes the same calls in the same order with the same
 *   names, and every call returns the SAME result on every rank (errors are agreed inside, with
 *   the message of the rank that failed). So `if (!e) e = ms_h5_...(...)` chains stay in step on
 *   all ranks whatever fails, and after a failure every later call returns it without work.
 * - Row data are distributed: each rank passes its own rows; they are stored one after another
 *   in rank order (rank 0's rows first), and every dataset has its global row count as first
 *   dimension.
 * - Who writes: rank 0 alone holds the file (HDF5's default POSIX driver); the other ranks send
 *   their rows to it. Why not collective MPI-IO: when storage fails inside a collective HDF5 call
 *   (a full disk during a metadata flush or at close), the ranks leave the library in different
 *   collective operations and the job hangs, which no caller can repair. Through rank 0 every
 *   HDF5 failure is local, and the only communication is a fixed pattern of messages decided
 *   before any write, followed by one agreement. The output is a few hundred bytes per
 *   candidate, written once at the end, so one writer costs little (docs/performance.md).
 * - The file is written as PATH.partial, flushed to stable storage and renamed to PATH by
 *   ms_h5_close() on success, so a file under the final name is always complete; a failed
 *   close or ms_h5_abort() removes the partial file. Nothing else is touched (the run's
 *   checkpoint stays for --resume).
 * - Integrity: rank 0 computes the SHA-256 of every dataset's bytes as it writes them (row
 *   order, little-endian numbers, NUL-padded fixed-width strings) and at close writes the
 *   manifest /checksums/dataset + /checksums/sha256 (sorted by path), the root attribute
 *   `checksums_sha256` (digest of the manifest's two datasets' bytes, names then digests) and
 *   last `root_attributes_sha256` (digest of every other root attribute, see h5verify.h).
 * - Datasets are chunked (at most 1 MiB a chunk) and deflate-compressed (level 4) when they
 *   have rows.
 * - Names are paths ("/candidates/energy_eV"); groups on the way are created as needed.
 *   Units belong in the names (design.md) or in a "units" attribute (ms_h5_attr_*).
 * - Errors: MS_ERR_IO for the storage (with the system's reason, e.g. "No space left on
 *   device"), MS_ERR_HDF5 for other library failures, both naming the file and the dataset.
 * - Fault injection for tests: MATSCREEN_FAULT_OUTPUT=N makes the N-th write operation of rank 0
 *   (dataset creation, each write, each attribute, the close) fail as a full disk would;
 *   MATSCREEN_FAULT_OUTPUT=close makes the close fail.
 */
#ifndef MATSCREEN_H5OUT_H
#define MATSCREEN_H5OUT_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/error.h"

typedef struct ms_h5_s *ms_h5;

/** Create PATH.partial for writing (truncating an old partial file). */
ms_err ms_h5_create(MPI_Comm comm, const char *path, ms_h5 *out);
/** Write the checksums, flush, close and rename PATH.partial to PATH. Sets *f = NULL. After a
 *  failure the partial file is removed. NULL-safe. */
ms_err ms_h5_close(ms_h5 *f);
/** Close and delete the partial file (after an agreed failure, or to give up). NULL-safe. */
void ms_h5_abort(ms_h5 *f);
/** Write operations rank 0 performed so far (what MATSCREEN_FAULT_OUTPUT counts); 0 elsewhere. */
long ms_h5_operations(const ms_h5 f);

/** Attributes on object @p obj ("/" or a group or dataset path). Same value on every rank
 *  (rank 0's is written). */
ms_err ms_h5_attr_str(ms_h5 f, const char *obj, const char *name, const char *value);
ms_err ms_h5_attr_int(ms_h5 f, const char *obj, const char *name, int64_t value);
ms_err ms_h5_attr_double(ms_h5 f, const char *obj, const char *name, double value);

/**
 * Distributed rows of @p cols doubles (cols = 1: a 1-D dataset; 9: a [n,3,3] dataset when
 * @p dims3 is set). @p local_rows may be 0 on some ranks.
 */
ms_err ms_h5_write_double(ms_h5 f, const char *name, int64_t local_rows, int cols,
                          const double *data, int dims3);
ms_err ms_h5_write_int64(ms_h5 f, const char *name, int64_t local_rows, int cols,
                         const int64_t *data);
ms_err ms_h5_write_int32(ms_h5 f, const char *name, int64_t local_rows, int cols,
                         const int32_t *data);
/** Distributed fixed-width strings (width bytes each, NUL-padded). */
ms_err ms_h5_write_strings(ms_h5 f, const char *name, int64_t local_rows, int width,
                           const char *data);
/** A one-row string dataset holding rank 0's @p text (e.g. the campaign YAML). */
ms_err ms_h5_write_text(ms_h5 f, const char *name, const char *text);

/**
 * Tables streamed in pieces, for row sets too large to hold at once (the per-candidate table of
 * a large campaign): several columns of one global row count, each its own dataset. Create
 * (collective), append this rank's rows as they are produced (NOT collective; rank r's rows
 * follow those of ranks < r and every append adds the next rows of this rank), finish
 * (collective). Between create and finish a rank must not wait for another rank in any other
 * way: ranks other than 0 block in append until rank 0 has taken their rows, which rank 0 does
 * in finish, in rank order.
 */
typedef enum { MS_H5_F64, MS_H5_I64, MS_H5_I32, MS_H5_STR } ms_h5_type;
typedef struct {
  const char *name; /**< dataset name relative to the table's group */
  ms_h5_type type;
  int cols;         /**< values per row (F64/I64/I32) or the string width in bytes (STR) */
} ms_h5_column;
typedef struct ms_h5_table_s *ms_h5_table;
ms_err ms_h5_table_create(ms_h5 f, const char *group, int ncols, const ms_h5_column *cols,
                          int64_t total_rows, ms_h5_table *out);
/** @p data[c]: nrows rows of column c. Returns a local error (rank 0's write failure, an MPI
 *  failure elsewhere); keep calling finish in any case. */
ms_err ms_h5_table_append(ms_h5_table t, int64_t nrows, const void *const *data);
/** Collective: takes the other ranks' rows, checks that exactly total_rows arrived, closes the
 *  datasets and agrees on @p local (this rank's own failure while producing rows, or 0).
 *  Sets *t = NULL. */
ms_err ms_h5_table_finish(ms_h5_table *t, ms_err local);

#endif
