/**
 * @file h5out.h
 * @brief Collective writing of matscreen's HDF5 output with parallel HDF5 (MPI-IO).
 *
 * Conventions
 * -----------
 * - Every function here is collective over the communicator the file was created with, and
 *   every rank must make the same calls in the same order with the same names. Row data are
 *   distributed: each rank passes its own rows, they are stored one after another in rank
 *   order (rank 0's rows first), and every dataset has its global row count as first dimension.
 * - The file is written as PATH.partial and renamed to PATH by ms_h5_close() on success, so a
 *   file under the final name is always complete; ms_h5_abort() removes the partial file.
 * - Datasets are chunked and deflate-compressed (level 4) when they have rows; writes use
 *   collective MPI-IO transfers, which parallel HDF5 requires for filtered datasets.
 * - Names are paths ("/candidates/energy_eV"); groups on the way are created as needed.
 *   Units belong in the names (design.md) or in a "units" attribute (ms_h5_attr_*).
 * - Errors: MS_ERR_HDF5 / MS_ERR_FILE with the dataset or file name; the caller agrees on them
 *   with ms_err_agree() (HDF5 calls are collective, so one rank failing inside a collective
 *   HDF5 call usually makes all fail).
 */
#ifndef MATSCREEN_H5OUT_H
#define MATSCREEN_H5OUT_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/error.h"

typedef struct ms_h5_s *ms_h5;

/** Create PATH.partial for writing (truncating an old partial file). */
ms_err ms_h5_create(MPI_Comm comm, const char *path, ms_h5 *out);
/** Flush, close and rename PATH.partial to PATH. Sets *f = NULL. */
ms_err ms_h5_close(ms_h5 *f);
/** Close and delete the partial file (after an agreed failure). NULL-safe. */
void ms_h5_abort(ms_h5 *f);

/** Attributes on object @p obj ("/" or a group or dataset path). Same value on every rank. */
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
/**
 * Datasets written in pieces, for tables too large to hold at once (the per-candidate table of
 * a large campaign): create with the global row count, then write slabs of rows in collective
 * rounds (every rank calls ms_h5_dset_write the same number of times; a rank with nothing to
 * write in a round passes nrows = 0). Same storage as the whole-dataset writers above.
 */
typedef struct ms_h5_dset_s *ms_h5_dset;
typedef enum { MS_H5_F64, MS_H5_I64, MS_H5_I32, MS_H5_STR } ms_h5_type;
/** Collective. @p cols: values per row (F64/I64/I32; 9 with @p dims3 gives [n,3,3]) or the
 *  string width (STR). */
ms_err ms_h5_dset_create(ms_h5 f, const char *name, ms_h5_type type, int cols, int dims3,
                         int64_t total_rows, ms_h5_dset *out);
/** Collective. Rows [row0, row0 + nrows) from @p data (nrows may be 0). */
ms_err ms_h5_dset_write(ms_h5_dset d, int64_t row0, int64_t nrows, const void *data);
/** NULL-safe; sets *d = NULL. */
void ms_h5_dset_close(ms_h5_dset *d);

/** A scalar string dataset written by rank 0's value (e.g. the campaign YAML text). */
ms_err ms_h5_write_text(ms_h5 f, const char *name, const char *text);

#endif
