/* HDF5 output from many ranks: distributed rows land in rank order with the right global shape,
 * streamed tables too, the file appears under its final name only on a successful close, its
 * checksums verify, an aborted file leaves nothing, an unwritable location is an agreed
 * MS_ERR_IO, and a write failure on rank 0 at any operation gives every rank the same error at
 * the same call (no rank is left waiting). Read back serially on rank 0. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "matscreen/h5out.h"
#include "matscreen/h5verify.h"
#include "ms_test.h"

/* A table of two columns: rank r appends 3 r + 1 rows in pieces of 2. Returns the agreed result. */
static ms_err write_table(ms_h5 f, int rank) {
  ms_h5_column cols[2] = {{"id", MS_H5_I64, 1}, {"label", MS_H5_STR, 8}};
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t total = 0;
  for (int r = 0; r < size; ++r) total += 3 * r + 1;
  ms_h5_table t = NULL;
  ms_err e = ms_h5_table_create(f, "/table", 2, cols, total, &t);
  if (e) return e;
  int n = 3 * rank + 1;
  int64_t id[64];
  char lab[64 * 8];
  for (int k = 0; k < n; ++k) {
    id[k] = 1000 * rank + k;
    snprintf(lab + 8 * k, 8, "r%dk%d", rank % 100, k % 100);
  }
  ms_err local = MS_SUCCESS;
  for (int k = 0; k < n && !local; k += 2) {
    const void *data[2] = {id + k, lab + 8 * k};
    local = ms_h5_table_append(t, n - k < 2 ? n - k : 2, data);
  }
  return ms_h5_table_finish(&t, local);
}

/* The whole sequence of one output; returns the first (agreed) error and how far it got. */
static ms_err write_all(const char *path, int rank, int *steps) {
  ms_h5 f = NULL;
  *steps = 0;
  ms_err e = ms_h5_create(MPI_COMM_WORLD, path, &f);
  double v[4] = {rank, rank + 0.5, rank + 0.25, rank + 0.125};
#define STEP(call)        \
  do {                    \
    if (!e) {             \
      e = (call);         \
      if (!e) ++*steps;   \
    }                     \
  } while (0)
  STEP(ms_h5_attr_str(f, "/", "program", "matscreen"));
  STEP(ms_h5_write_double(f, "/a/values", 4, 1, v, 0));
  STEP(write_table(f, rank));
  STEP(ms_h5_attr_int(f, "/a", "n", 4));
  STEP(ms_h5_write_text(f, "/config/given", "x: 1\n"));
#undef STEP
  if (e) {
    ms_h5_abort(&f);
    return e;
  }
  e = ms_h5_close(&f);
  if (!e) ++*steps;
  return e;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char path[256];
  snprintf(path, sizeof path, "test_h5out_np%d.h5", size);
  if (rank == 0) remove(path);
  MPI_Barrier(MPI_COMM_WORLD);

  ms_h5 f = NULL;
  MS_TEST_OK(ms_err_agree(MPI_COMM_WORLD, ms_h5_create(MPI_COMM_WORLD, path, &f)));
  /* rank r contributes r + 1 rows (rank 0 also a zero-row case for one dataset) */
  int n = rank + 1;
  double *e = calloc((size_t)n, sizeof *e), *lat = calloc((size_t)n * 9, sizeof *lat);
  int64_t *id = calloc((size_t)n, sizeof *id);
  char *names = calloc((size_t)n * 16, 1);
  for (int k = 0; k < n; ++k) {
    e[k] = rank * 10 + k + 0.5;
    id[k] = rank * 100 + k;
    for (int q = 0; q < 9; ++q) lat[k * 9 + q] = rank + q * 0.1;
    snprintf(names + k * 16, 16, "r%dk%d", rank, k);
  }
  MS_TEST_OK(ms_h5_write_double(f, "/candidates/energy_eV", n, 1, e, 0));
  MS_TEST_OK(ms_h5_write_double(f, "/structures/lattice_A", n, 9, lat, 1));
  MS_TEST_OK(ms_h5_write_int64(f, "/candidates/id", n, 1, id));
  MS_TEST_OK(ms_h5_write_strings(f, "/candidates/name", n, 16, names));
  MS_TEST_OK(ms_h5_write_int32(f, "/empty/none", 0, 1, NULL));
  MS_TEST_OK(ms_h5_write_text(f, "/config/given", "campaign: {name: demo}\n"));
  MS_TEST_OK(ms_h5_attr_str(f, "/", "program", "matscreen"));
  MS_TEST_OK(ms_h5_attr_int(f, "/", "ranks", size));
  MS_TEST_OK(ms_h5_attr_double(f, "/candidates/energy_eV", "scale", 1.5));
  if (rank == 0) MS_TEST_TRUE(access(path, F_OK) != 0); /* not there before close */
  MS_TEST_OK(ms_h5_close(&f));
  MPI_Barrier(MPI_COMM_WORLD);

  if (rank == 0) {
    MS_TEST_TRUE(access(path, F_OK) == 0);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    MS_TEST_TRUE(file >= 0);
    int total = size * (size + 1) / 2;
    double *all = calloc((size_t)total, sizeof *all);
    hid_t d = H5Dopen2(file, "/candidates/energy_eV", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[3] = {0};
    MS_TEST_EQ_INT(H5Sget_simple_extent_ndims(sp), 1);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    MS_TEST_EQ_INT(dims[0], total);
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all);
    int row = 0, wrong = 0;
    for (int r = 0; r < size; ++r)
      for (int k = 0; k <= r; ++k) wrong += all[row++] != r * 10 + k + 0.5;
    MS_TEST_EQ_INT(wrong, 0);
    H5Sclose(sp);
    H5Dclose(d);
    d = H5Dopen2(file, "/structures/lattice_A", H5P_DEFAULT);
    sp = H5Dget_space(d);
    MS_TEST_EQ_INT(H5Sget_simple_extent_ndims(sp), 3);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    MS_TEST_TRUE(dims[0] == (hsize_t)total && dims[1] == 3 && dims[2] == 3);
    H5Sclose(sp);
    H5Dclose(d);
    double scale = 0;
    hid_t a = H5Aopen_by_name(file, "/candidates/energy_eV", "scale", H5P_DEFAULT, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_DOUBLE, &scale);
    H5Aclose(a);
    MS_TEST_NEAR(scale, 1.5, 0);
    H5Fclose(file);
    free(all);
    remove(path);
  }

  /* A streamed table: rows in rank order, checksums that verify. */
  {
    ms_h5 g = NULL;
    MS_TEST_OK(ms_h5_create(MPI_COMM_WORLD, path, &g));
    MS_TEST_OK(write_table(g, rank));
    MS_TEST_OK(ms_h5_close(&g));
    if (rank == 0) {
      ms_h5_verify_report rep;
      MS_TEST_OK(ms_h5_verify(path, NULL, 0, NULL, NULL, &rep));
      MS_TEST_TRUE(rep.has_checksums && rep.root_ok && rep.checked == 2 && rep.damaged == 0);
      hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
      hid_t d = H5Dopen2(file, "/table/id", H5P_DEFAULT);
      int64_t ids[512];
      H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids);
      H5Dclose(d);
      H5Fclose(file);
      int row = 0, wrong = 0;
      for (int r = 0; r < size; ++r)
        for (int k = 0; k < 3 * r + 1; ++k) wrong += ids[row++] != 1000 * r + k;
      MS_TEST_EQ_INT(wrong, 0);
      remove(path);
    }
  }

  /* A write failure on rank 0 at each operation in turn: every rank sees the same error at the
   * same call, nothing is left under either name, and once N is past the sequence's last operation
   * the file is written normally. */
  {
    int steps_ok = 0, clean = 0;
    MS_TEST_OK(write_all(path, rank, &steps_ok));
    if (rank == 0) remove(path);
    for (int n = 1; n <= 200 && !clean; ++n) {
      char val[16];
      snprintf(val, sizeof val, "%d", n);
      setenv("MATSCREEN_FAULT_OUTPUT", val, 1);
      int steps = 0;
      ms_err e = write_all(path, rank, &steps);
      int mine[2] = {(int)e, steps}, lo[2], hi[2];
      MPI_Allreduce(mine, lo, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      MPI_Allreduce(mine, hi, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
      MS_TEST_TRUE(lo[0] == hi[0] && lo[1] == hi[1]); /* same result, same place, on every rank */
      if (e) {
        MS_TEST_EQ_INT(e, MS_ERR_IO);
        MS_TEST_TRUE(strstr(ms_err_message(), "No space left on device") != NULL);
        if (rank == 0) {
          char partial[300];
          snprintf(partial, sizeof partial, "%s.partial", path);
          MS_TEST_TRUE(access(path, F_OK) != 0 && access(partial, F_OK) != 0);
        }
      } else {
        clean++;
        MS_TEST_EQ_INT(steps, steps_ok);
        if (rank == 0) remove(path);
      }
    }
    unsetenv("MATSCREEN_FAULT_OUTPUT");
    MS_TEST_TRUE(clean > 0); /* past the sequence's last operation the file is written */
  }

  /* An aborted file leaves neither the partial nor the final file. */
  MS_TEST_OK(ms_h5_create(MPI_COMM_WORLD, path, &f));
  ms_h5_abort(&f);
  char partial[300];
  snprintf(partial, sizeof partial, "%s.partial", path);
  if (rank == 0) MS_TEST_TRUE(access(partial, F_OK) != 0 && access(path, F_OK) != 0);

  /* An unwritable location: every rank gets the same error. */
  ms_err err = ms_err_agree(MPI_COMM_WORLD, ms_h5_create(MPI_COMM_WORLD, "/nonexistent-dir/x.h5", &f));
  MS_TEST_EQ_INT(err, MS_ERR_IO);
  MS_TEST_TRUE(strstr(ms_err_message(), "nonexistent-dir") != NULL);

  free(e);
  free(lat);
  free(id);
  free(names);
  int mine = ms_test_failures, worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rc = MS_TEST_RESULT();
  MPI_Finalize();
  return worst ? 1 : rc;
}
