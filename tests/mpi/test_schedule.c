/* Dynamic work hand-out: every item of [start, total) goes to exactly one rank, chunks respect
 * their bounds, the chunk boundaries are the same in every run whatever the timing, and the
 * counter is safe under contention (tiny chunks, all ranks hammering it). */
#include <mpi.h>
#include <stdint.h>

#include "matscreen/schedule.h"
#include "ms_test.h"

static void run_case(int64_t start, int64_t total, int64_t minc, int64_t maxc, int rank) {
  ms_sched s = NULL;
  MS_TEST_OK(ms_sched_create(MPI_COMM_WORLD, start, total, minc, maxc, &s));
  int *mine = calloc((size_t)total + 1, sizeof *mine);
  int *all = calloc((size_t)total + 1, sizeof *all);
  /* chunk starts, to compare boundaries across runs */
  unsigned char *is_start = calloc((size_t)total + 1, 1);
  int64_t first, count;
  int r, bad_bounds = 0;
  while ((r = ms_sched_next(s, &first, &count)) == 1) {
    if (count < 1 || (maxc > 0 && count > maxc) || (count < minc && first + count != total)) bad_bounds = 1;
    is_start[first] = 1;
    for (int64_t k = first; k < first + count; ++k) mine[k]++;
  }
  MS_TEST_EQ_INT(r, 0);
  MS_TEST_EQ_INT(bad_bounds, 0);
  MPI_Allreduce(mine, all, (int)total, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int wrong = 0;
  for (int64_t k = 0; k < total; ++k) wrong += all[k] != (k < start ? 0 : 1);
  MS_TEST_EQ_INT(wrong, 0);
  unsigned char *starts = calloc((size_t)total + 1, 1);
  MPI_Allreduce(is_start, starts, (int)total, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD);
  ms_sched_destroy(&s);
  MS_TEST_TRUE(s == NULL);
  int nstarts = 0;
  for (int64_t k = 0; k < total; ++k) nstarts += starts[k];
  int agree_n = 0;
  MPI_Allreduce(&nstarts, &agree_n, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MS_TEST_EQ_INT(nstarts, agree_n);
  if (rank == 0 && total > start) MS_TEST_TRUE(starts[start]);
  free(mine);
  free(all);
  free(is_start);
  free(starts);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  run_case(0, 100003, 7, 0, rank);     /* guided chunks */
  run_case(0, 5000, 1, 1, rank);       /* maximal contention: one item per claim */
  run_case(1234, 20000, 16, 512, rank); /* resumed run with bounded chunks */
  run_case(0, 0, 1, 0, rank);          /* nothing to do */
  run_case(3, 3, 1, 0, rank);          /* everything already done */
  int mine = ms_test_failures, worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return worst ? 1 : rc;
}
