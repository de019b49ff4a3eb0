/* Collective error agreement at any number of ranks: a failure raised on one rank only (or on
 * several) is returned on every rank with the same code and the message of the lowest failing
 * rank, success stays success, and nothing deadlocks (meson's timeout catches a hang). */
#include <mpi.h>

#include "matscreen/error.h"
#include "ms_test.h"

static ms_err fail_on(int rank, int bad_rank, ms_err code) {
  if (rank == bad_rank)
    MS_FAIL(code, "structure 1834 (gen=random_sym, seed=7): atoms 3 and 9 closer than 0.5 Å on rank %d", rank);
  return MS_SUCCESS;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  /* all succeed */
  MS_TEST_EQ_INT(ms_err_agree(MPI_COMM_WORLD, MS_SUCCESS), MS_SUCCESS);

  /* the last rank fails alone */
  int bad = size - 1;
  ms_err e = ms_err_agree(MPI_COMM_WORLD, fail_on(rank, bad, MS_ERR_INPUT));
  MS_TEST_EQ_INT(e, MS_ERR_INPUT);
  char expect[256];
  snprintf(expect, sizeof expect, "atoms 3 and 9 closer than 0.5 Å on rank %d", bad);
  MS_TEST_TRUE(strstr(ms_err_message(), expect) != NULL);
  if (bad != 0) {
    char tag[32];
    snprintf(tag, sizeof tag, "[rank %d] ", bad);
    MS_TEST_TRUE(strncmp(ms_err_message(), tag, strlen(tag)) == 0);
  }
  ms_err_clear();

  /* every odd rank fails with a different code: the lowest failing rank's code wins */
  ms_err local = (rank % 2 == 1) ? (rank == 1 ? MS_ERR_FILE : MS_ERR_NUMERIC) : MS_SUCCESS;
  if (local) ms__err_set(local, __FILE__, __LINE__, __func__, "failure on rank %d", rank);
  e = ms_err_agree(MPI_COMM_WORLD, local);
  MS_TEST_EQ_INT(e, size > 1 ? MS_ERR_FILE : MS_SUCCESS);
  if (size > 1) MS_TEST_EQ_STR(ms_err_message(), "[rank 1] failure on rank 1");

  /* agreement works repeatedly and the communicator stays usable */
  for (int k = 0; k < 100; ++k) {
    e = ms_err_agree(MPI_COMM_WORLD, rank == k % size ? MS_ERR_INTERNAL : MS_SUCCESS);
    MS_TEST_EQ_INT(e, MS_ERR_INTERNAL);
  }
  int one = 1, sum = 0;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MS_TEST_EQ_INT(sum, size);

  /* every rank must agree that every rank passed */
  int mine = ms_test_failures, worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return worst ? 1 : rc;
}
