/* Dynamic work hand-out (schedule.h): every item of [start, total) goes to exactly one rank,
 * chunks respect their bounds and shrink as the work runs out, the counter is safe under
 * contention (tiny chunks, all ranks hammering it), and the chunk boundaries are the same
 * whatever the timing.
 *
 * The last claim is tested by repeating each case under different artificial timings: no
 * delay, slow high ranks, slow low ranks with item-dependent costs, and a late-starting rank 0
 * (the rank that holds the counter). The chunks of every rank are gathered and sorted by their
 * first item; the sorted lists must be identical across the runs, while which rank got which
 * chunk may differ (that is reported, not asserted, since it depends on the machine's load). */
#include <mpi.h>
#include <stdint.h>
#include <time.h>

#include "matscreen/schedule.h"
#include "ms_test.h"

enum { EVEN, SLOW_HIGH_RANKS, SLOW_LOW_RANKS_UNEVEN_ITEMS, LATE_RANK0, NPROFILES };
static const char *const profile_names[NPROFILES] = {"even", "slow high ranks",
                                                     "slow low ranks, uneven items", "late rank 0"};

typedef struct {
  int64_t first, count, rank;
} chunk;

static void sleep_us(long us) {
  if (us <= 0) return;
  struct timespec t = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&t, NULL);
}

/* The artificial cost of working on chunk [first, first + count) on @p rank: a few to a few
 * tens of microseconds, so that a case stays well under a second even at one item per chunk. */
static long chunk_cost_us(int profile, int rank, int size, int64_t first) {
  switch (profile) {
    case SLOW_HIGH_RANKS: return 4L * rank;
    case SLOW_LOW_RANKS_UNEVEN_ITEMS: return 4L * (size - 1 - rank) + (first % 7 == 0 ? 25 : 0);
    default: return 0;
  }
}

static int cmp_chunk(const void *pa, const void *pb) {
  const chunk *a = pa, *b = pb;
  return (a->first > b->first) - (a->first < b->first);
}

/* One run of the schedule under @p profile: checks this run's own claims and returns every
 * rank's chunks, sorted by first item, on every rank (*n of them). */
static chunk *run_once(int64_t start, int64_t total, int64_t minc, int64_t maxc, int profile,
                       int rank, int size, int *n) {
  ms_sched s = NULL;
  MS_TEST_OK(ms_sched_create(MPI_COMM_WORLD, start, total, minc, maxc, &s));
  int *mine = calloc((size_t)total + 1, sizeof *mine);
  int *all = calloc((size_t)total + 1, sizeof *all);
  int cap = 16, nmine = 0;
  chunk *got = malloc((size_t)cap * sizeof *got);
  if (profile == LATE_RANK0 && rank == 0) sleep_us(20000);
  int64_t first, count;
  int r, bad_bounds = 0;
  while ((r = ms_sched_next(s, &first, &count)) == 1) {
    if (count < 1 || (maxc > 0 && count > maxc) || (count < minc && first + count != total)) bad_bounds = 1;
    if (nmine == cap) got = realloc(got, (size_t)(cap *= 2) * sizeof *got);
    got[nmine++] = (chunk){first, count, rank};
    for (int64_t k = first; k < first + count; ++k) mine[k]++;
    sleep_us(chunk_cost_us(profile, rank, size, first));
  }
  MS_TEST_EQ_INT(r, 0);
  MS_TEST_EQ_INT(bad_bounds, 0);
  /* every item exactly once over all ranks, none below start */
  MPI_Allreduce(mine, all, (int)total, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int wrong = 0;
  for (int64_t k = 0; k < total; ++k) wrong += all[k] != (k < start ? 0 : 1);
  MS_TEST_EQ_INT(wrong, 0);
  ms_sched_destroy(&s);
  MS_TEST_TRUE(s == NULL);

  /* gather the chunks of every rank */
  int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
  int words = 3 * nmine;
  MPI_Allgather(&words, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
  int total_words = 0;
  for (int i = 0; i < size; ++i) {
    displs[i] = total_words;
    total_words += counts[i];
  }
  chunk *every = malloc((size_t)(total_words / 3 + 1) * sizeof *every);
  MPI_Allgatherv(got, words, MPI_INT64_T, every, counts, displs, MPI_INT64_T, MPI_COMM_WORLD);
  *n = total_words / 3;
  qsort(every, (size_t)*n, sizeof *every, cmp_chunk);
  /* the chunks tile [start, total) in order, and their sizes never grow (guided scheduling) */
  int64_t pos = start;
  int tiled = 1, shrinking = 1;
  for (int i = 0; i < *n; ++i) {
    tiled &= every[i].first == pos;
    pos = every[i].first + every[i].count;
    if (i > 0) shrinking &= every[i].count <= every[i - 1].count;
  }
  MS_TEST_TRUE(tiled && pos == total);
  MS_TEST_TRUE(shrinking);
  free(mine);
  free(all);
  free(got);
  free(counts);
  free(displs);
  return every;
}

static void run_case(int64_t start, int64_t total, int64_t minc, int64_t maxc, int rank, int size) {
  int n0 = 0;
  chunk *ref = run_once(start, total, minc, maxc, EVEN, rank, size, &n0);
  if (total > start) MS_TEST_TRUE(n0 >= 1 && ref[0].first == start);
  for (int p = EVEN + 1; p < NPROFILES; ++p) {
    int n = 0;
    chunk *c = run_once(start, total, minc, maxc, p, rank, size, &n);
    MS_TEST_EQ_INT(n, n0);
    int differ = 0, moved = 0;
    for (int i = 0; i < n && i < n0; ++i) {
      differ += c[i].first != ref[i].first || c[i].count != ref[i].count;
      moved += c[i].rank != ref[i].rank;
    }
    if (differ) MS_TEST_FAILED_("[%lld, %lld): %d of %d chunk boundaries differ between the even "
                                "run and the run with %s", (long long)start, (long long)total,
                                differ, n0, profile_names[p]);
    if (rank == 0)
      printf("[%lld, %lld) min %lld max %lld, %s: %d chunks, same boundaries, %d on another rank\n",
             (long long)start, (long long)total, (long long)minc, (long long)maxc, profile_names[p],
             n, moved);
    free(c);
  }
  free(ref);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  run_case(0, 100003, 7, 0, rank, size);     /* guided chunks */
  run_case(0, 3000, 1, 1, rank, size);       /* maximal contention: one item per claim */
  run_case(1234, 20000, 16, 512, rank, size); /* resumed run with bounded chunks */
  run_case(0, 0, 1, 0, rank, size);          /* nothing to do */
  run_case(3, 3, 1, 0, rank, size);          /* everything already done */
  int mine = ms_test_failures, worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return worst ? 1 : rc;
}
