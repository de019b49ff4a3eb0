/* The surrogate does not depend on the number of ranks: the model trained on MPI_COMM_WORLD
 * (members spread over the ranks, unevenly when the size does not divide them) predicts
 * bitwise what the model trained on MPI_COMM_SELF (the one-rank reference, computed in the
 * same run) predicts, on every rank; the model written collectively and read back serially
 * predicts the same; and data that fail on one rank only give the same error everywhere. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/descriptors.h"
#include "matscreen/h5out.h"
#include "matscreen/relax.h"
#include "matscreen/rng.h"
#include "matscreen/surrogate.h"
#include "ms_test.h"

enum { N = 300, NP = 200 };

/* Descriptor-shaped rows: the e_single column is the baseline of the relaxation energy. */
static void rows(int64_t n, uint64_t stream, double *X, double *y) {
  const int D = ms_descriptor_count(), es = ms_descriptor_index("e_single_eV_per_atom");
  ms_rng r;
  ms_rng_init(&r, 2024, stream);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < D; ++j) X[i * D + j] = ms_rng_normal(&r);
    X[i * D + es] = -35 + ms_rng_uniform(&r);
    y[i] = X[i * D + es] - 0.2 + 0.1 * tanh(X[i * D]) * X[i * D + 1] + 0.01 * ms_rng_normal(&r);
  }
}

static uint64_t checksum(const double *a, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const unsigned char *p = (const unsigned char *)a;
  for (size_t k = 0; k < n * sizeof *a; ++k) {
    h ^= p[k];
    h *= 0x100000001b3ull;
  }
  return h;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int D = ms_descriptor_count();
  double *X = malloc(sizeof(double) * N * D), *y = malloc(sizeof(double) * N);
  double *Xp = malloc(sizeof(double) * NP * D), *yp = malloc(sizeof(double) * NP);
  double *mw = malloc(sizeof(double) * NP * 2), *ms = malloc(sizeof(double) * NP * 2);
  double *mr = malloc(sizeof(double) * NP * 2);
  rows(N, 1, X, y);
  rows(NP, 2, Xp, yp);

  ms_surrogate_options o;
  ms_surrogate_options_default(&o);
  o.members = 6;
  o.features = 64;
  o.seed = 20261129;
  ms_surrogate world = NULL, self = NULL, back = NULL;
  MS_TEST_OK(ms_surrogate_train(MPI_COMM_WORLD, &o, N, D, X, y, &world));
  MS_TEST_OK(ms_surrogate_train(MPI_COMM_SELF, &o, N, D, X, y, &self));
  if (world && self) {
    MS_TEST_OK(ms_surrogate_predict(world, NP, Xp, mw, mw + NP));
    MS_TEST_OK(ms_surrogate_predict(self, NP, Xp, ms, ms + NP));
    MS_TEST_TRUE(memcmp(mw, ms, sizeof(double) * NP * 2) == 0);
    ms_surrogate_info a, b;
    ms_surrogate_get_info(world, &a);
    ms_surrogate_get_info(self, &b);
    MS_TEST_TRUE(memcmp(&a.noise_sigma, &b.noise_sigma, sizeof(double)) == 0);
    MS_TEST_TRUE(memcmp(&a.oob_rmse, &b.oob_rmse, sizeof(double)) == 0);
    MS_TEST_TRUE(a.oob_rows == b.oob_rows);
  }
  /* The constant noise term too (the default, noise 2, is the local one: its log-error model
   * is fitted member by member across the ranks). */
  {
    ms_surrogate_options ol = o;
    ol.noise = 1;
    ms_surrogate lw = NULL, ls = NULL;
    double *pw = malloc(sizeof(double) * NP * 2), *ps = malloc(sizeof(double) * NP * 2);
    MS_TEST_OK(ms_surrogate_train(MPI_COMM_WORLD, &ol, N, D, X, y, &lw));
    MS_TEST_OK(ms_surrogate_train(MPI_COMM_SELF, &ol, N, D, X, y, &ls));
    if (lw && ls) {
      MS_TEST_OK(ms_surrogate_predict(lw, NP, Xp, pw, pw + NP));
      MS_TEST_OK(ms_surrogate_predict(ls, NP, Xp, ps, ps + NP));
      MS_TEST_TRUE(memcmp(pw, ps, sizeof(double) * NP * 2) == 0);
      /* same mean as with the local term, another sigma */
      MS_TEST_TRUE(memcmp(pw, mw, sizeof(double) * NP) == 0);
      MS_TEST_TRUE(memcmp(pw + NP, mw + NP, sizeof(double) * NP) != 0);
    }
    ms_surrogate_free(&lw);
    ms_surrogate_free(&ls);
    free(pw);
    free(ps);
  }
  /* The same bits on every rank. */
  uint64_t h = checksum(mw, NP * 2), lo = 0, hi = 0;
  MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  MS_TEST_TRUE(lo == hi);
  if (rank == 0)
    fprintf(stderr, "np %d: prediction checksum %016llx (mean[0] %.17g, sigma[0] %.17g)\n", size,
            (unsigned long long)h, mw[0], mw[NP]);

  /* Written collectively, read back serially by every rank. */
  char path[512];
  const char *dir = getenv("MATSCREEN_BUILD_ROOT");
  snprintf(path, sizeof path, "%s/test_surrogate_mpi_np%d.h5", dir && dir[0] ? dir : ".", size);
  ms_h5 f = NULL;
  ms_err e = ms_err_agree(MPI_COMM_WORLD, ms_h5_create(MPI_COMM_WORLD, path, &f));
  MS_TEST_OK(e);
  if (!e) {
    MS_TEST_OK(ms_surrogate_write(world, MPI_COMM_WORLD, f, "/surrogate"));
    MS_TEST_OK(ms_err_agree(MPI_COMM_WORLD, ms_h5_close(&f)));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  MS_TEST_OK(ms_surrogate_read(path, "/surrogate", &back));
  if (back) {
    MS_TEST_OK(ms_surrogate_predict(back, NP, Xp, mr, mr + NP));
    MS_TEST_TRUE(memcmp(mw, mr, sizeof(double) * NP * 2) == 0);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) remove(path);

  /* Bad data on the last rank only: every rank gets that rank's error, nobody hangs. */
  ms_surrogate bad = NULL;
  if (rank == size - 1) X[5 * D + 2] = NAN;
  e = ms_surrogate_train(MPI_COMM_WORLD, &o, N, D, X, y, &bad);
  MS_TEST_EQ_INT(e, MS_ERR_INPUT);
  MS_TEST_TRUE(strstr(ms_err_message(), "row 5, column 2") != NULL);
  MS_TEST_TRUE(bad == NULL);
  ms_err_clear();

  ms_surrogate_free(&world);
  ms_surrogate_free(&self);
  ms_surrogate_free(&back);
  free(X);
  free(y);
  free(Xp);
  free(yp);
  free(mw);
  free(ms);
  free(mr);
  ms_petsc_finalize();
  int mine = ms_test_failures, worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return worst ? 1 : rc;
}
