/* Work hand-out through an atomic counter in an MPI-3 window (see schedule.h).
 *
 * The window holds a ticket counter; each claim is one MPI_Fetch_and_op(MPI_SUM, +1). Ticket t
 * stands for the t-th chunk of a sequence whose boundaries are a pure function of the range
 * (guided self-scheduling on the remaining count: pos_{t+1} = pos_t + chunk(pos_t)), so the
 * boundaries do not depend on timing. Each rank walks that sequence forward from its previous
 * ticket to the new one (tickets only grow), which costs O(number of chunks) arithmetic over
 * the whole run.
 *
 * Why tickets and not a compare-and-swap on the item position: Open MPI 4.1's one-sided
 * component over shared memory crashes in MPI_Compare_and_swap (emulated atomics in the vader
 * transport), while fetch-and-add works; tickets need nothing else. */
#include "matscreen/schedule.h"

#include <stdlib.h>

struct ms_sched_s {
  MPI_Comm comm;
  MPI_Win win;
  int64_t *base; /* the ticket counter (on rank 0; a dummy elsewhere) */
  int64_t start, total, min_chunk, max_chunk;
  int nranks;
  int64_t cur_ticket, cur_pos; /* this rank's cursor in the chunk sequence */
};

ms_err ms_sched_create(MPI_Comm comm, int64_t start, int64_t total, int64_t min_chunk,
                       int64_t max_chunk, ms_sched *out) {
  *out = NULL;
  MS_CHECK(total >= 0 && start >= 0 && start <= total, MS_ERR_ARG,
           "bad work range [%lld, %lld)", (long long)start, (long long)total);
  MS_CHECK(min_chunk >= 1, MS_ERR_ARG, "min_chunk must be >= 1");
  ms_sched s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->comm = comm;
  s->start = start;
  s->total = total;
  s->cur_ticket = 0;
  s->cur_pos = start;
  s->min_chunk = min_chunk;
  s->max_chunk = max_chunk;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &s->nranks);
  MPI_Aint bytes = rank == 0 ? (MPI_Aint)sizeof(int64_t) : 0;
  int rc = MPI_Win_allocate(bytes, (int)sizeof(int64_t), MPI_INFO_NULL, comm, &s->base, &s->win);
  if (rc != MPI_SUCCESS) {
    free(s);
    MS_FAIL(MS_ERR_MPI, "MPI_Win_allocate failed for the work counter");
  }
  if (rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, s->win);
    *s->base = 0;
    MPI_Win_unlock(0, s->win);
  }
  MPI_Barrier(comm); /* the counter is initialised before anyone reads it */
  MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win);
  *out = s;
  return MS_SUCCESS;
}

/* Chunk that starts at position @p pos: guided self-scheduling. */
static int64_t chunk_at(const ms_sched s, int64_t pos) {
  int64_t remaining = s->total - pos;
  int64_t c = remaining / (2 * (int64_t)s->nranks);
  if (c < s->min_chunk) c = s->min_chunk;
  if (s->max_chunk > 0 && c > s->max_chunk) c = s->max_chunk;
  if (c > remaining) c = remaining;
  return c;
}

int ms_sched_next(ms_sched s, int64_t *first, int64_t *count) {
  *first = s->total;
  *count = 0;
  if (s->cur_pos >= s->total) return 0; /* this rank already saw the end of the sequence */
  int64_t one = 1, ticket = 0;
  if (MPI_Fetch_and_op(&one, &ticket, MPI_INT64_T, 0, 0, MPI_SUM, s->win) != MPI_SUCCESS ||
      MPI_Win_flush(0, s->win) != MPI_SUCCESS) {
    ms__err_set(MS_ERR_MPI, __FILE__, __LINE__, __func__, "claiming work from the counter failed");
    return -1;
  }
  while (s->cur_ticket < ticket && s->cur_pos < s->total) {
    s->cur_pos += chunk_at(s, s->cur_pos);
    s->cur_ticket++;
  }
  if (s->cur_pos >= s->total) return 0;
  *first = s->cur_pos;
  *count = chunk_at(s, s->cur_pos);
  return 1;
}

int64_t ms_sched_progress(ms_sched s) {
  int64_t dummy = 0, ticket = 0;
  if (MPI_Fetch_and_op(&dummy, &ticket, MPI_INT64_T, 0, 0, MPI_NO_OP, s->win) != MPI_SUCCESS ||
      MPI_Win_flush(0, s->win) != MPI_SUCCESS)
    return -1;
  /* Walking this rank's cursor up to the global ticket is harmless: its next claim can only
   * return a ticket at least as large. */
  while (s->cur_ticket < ticket && s->cur_pos < s->total) {
    s->cur_pos += chunk_at(s, s->cur_pos);
    s->cur_ticket++;
  }
  return s->cur_pos < s->total ? s->cur_pos : s->total;
}

/* Cancelling adds a huge number of tickets: every later claim lands beyond the end of the
 * chunk sequence, and the walk to it stops at the end (cur_pos reaches total). */
#define CANCEL_TICKETS ((int64_t)1 << 52)

int ms_sched_cancel(ms_sched s) {
  int64_t add = CANCEL_TICKETS, old = 0;
  if (MPI_Fetch_and_op(&add, &old, MPI_INT64_T, 0, 0, MPI_SUM, s->win) != MPI_SUCCESS ||
      MPI_Win_flush(0, s->win) != MPI_SUCCESS)
    return -1;
  return 0;
}

int ms_sched_cancelled(ms_sched s) {
  int64_t dummy = 0, ticket = 0;
  if (MPI_Fetch_and_op(&dummy, &ticket, MPI_INT64_T, 0, 0, MPI_NO_OP, s->win) != MPI_SUCCESS ||
      MPI_Win_flush(0, s->win) != MPI_SUCCESS)
    return -1;
  return ticket >= CANCEL_TICKETS;
}

void ms_sched_destroy(ms_sched *sp) {
  if (!sp || !*sp) return;
  ms_sched s = *sp;
  MPI_Win_unlock_all(s->win);
  MPI_Win_free(&s->win);
  free(s);
  *sp = NULL;
}
