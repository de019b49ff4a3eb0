/**
 * @file schedule.h
 * @brief Dynamic, chunked hand-out of work items [0, total) to the ranks of a communicator.
 *
 * Conventions
 * -----------
 * - Every rank works; there is no idle coordinator. A shared counter lives in an MPI-3 window
 *   on rank 0 and each rank takes the next chunk with one MPI_Fetch_and_op (atomic, passive
 *   target), so a rank that finishes early simply takes more: costs per candidate vary by
 *   orders of magnitude (a prefilter rejection vs a relaxation) and static splits idle ranks.
 * - Chunk sizes shrink as the work runs out (guided self-scheduling: about remaining /
 *   (factor x ranks), never below min_chunk), so the last chunks are small and the ranks finish
 *   together; the sequence of chunk boundaries does not depend on timing, only the assignment
 *   of chunks to ranks does. Results must therefore be keyed by item index, never by rank.
 * - ms_sched_create() and ms_sched_destroy() are collective; ms_sched_next() is not (it is
 *   called independently by each rank until it returns 0).
 * - start: items below @p start are considered done (resuming a run).
 */
#ifndef MATSCREEN_SCHEDULE_H
#define MATSCREEN_SCHEDULE_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/error.h"

typedef struct ms_sched_s *ms_sched;

/**
 * Collective. Hand out items [start, total) in chunks of at least @p min_chunk (>= 1) and at
 * most @p max_chunk (0: no limit).
 */
ms_err ms_sched_create(MPI_Comm comm, int64_t start, int64_t total, int64_t min_chunk,
                       int64_t max_chunk, ms_sched *out);
/**
 * Not collective. Next chunk for this rank: *first and *count; returns 1 while there is work,
 * 0 when everything has been handed out (then *count = 0). Errors (MPI) return -1 with the
 * error recorded; the caller must still agree on failure before its next collective call.
 */
int ms_sched_next(ms_sched s, int64_t *first, int64_t *count);
/**
 * Not collective. Items handed out so far to all ranks (for progress reports); reads the shared
 * counter once. Returns -1 on an MPI error.
 */
int64_t ms_sched_progress(ms_sched s);
/**
 * Not collective. Stop handing out work to every rank: their next ms_sched_next() returns 0
 * (chunks already handed out are finished by their ranks). Used when one rank fails or is told
 * to stop, so that the others reach the next collective call soon instead of working on.
 * Returns -1 on an MPI error.
 */
int ms_sched_cancel(ms_sched s);
/** Not collective. 1 if some rank called ms_sched_cancel(), 0 if not, -1 on an MPI error. */
int ms_sched_cancelled(ms_sched s);
/** Collective. NULL-safe; sets *s = NULL. */
void ms_sched_destroy(ms_sched *s);

#endif
