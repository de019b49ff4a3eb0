/* The driver's collective byte exchanges (internal to src/driver; comm.c).
 *
 * Conventions
 * - Every function here is collective over @p comm: every rank calls it, in the same order,
 *   whatever happened before. Allocation failures are agreed on (ms_err_agree) before the next
 *   collective call, so a rank that cannot allocate never leaves the others waiting.
 * - Byte counts per rank must fit an int (MPI's counts); the callers' tables are far smaller.
 * - Results are malloc'd on every rank (one extra byte, so that an empty result is not NULL)
 *   and owned by the caller. */
#ifndef MS_DRIVER_COMM_H
#define MS_DRIVER_COMM_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"

/** Every rank's @p len bytes at @p mine, concatenated in rank order, into *all (*total bytes). */
ms_err ms__comm_allgather_bytes(MPI_Comm comm, const void *mine, size_t len, char **all, size_t *total);

/** Send variable-size items to their owners: item k is data[off[k] .. off[k+1]) and goes to
 *  rank dest[k]. *out receives the items sent to this rank, concatenated by source rank (in
 *  each source's item order), *nout their bytes. */
ms_err ms__comm_alltoall_bytes(MPI_Comm comm, int64_t nitems, const int *dest, const size_t *off, const char *data,
                               char **out, size_t *nout);

/** First of rank @p r's share when @p n items are split evenly over @p size ranks in order
 *  (rank r owns [own_lo(r), own_lo(r + 1))). Not collective. */
int64_t ms__comm_own_lo(int64_t n, int size, int r);

#endif
