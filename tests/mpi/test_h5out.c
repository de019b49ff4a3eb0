/* Parallel HDF5 output: distributed rows land in rank order with the right global shape, the
 * file appears under its final name only on a successful close, an aborted file leaves nothing,
 * and an unwritable location is an agreed MS_ERR_IO. Read back serially on rank 0. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

#include "matscreen/h5out.h"
#include "ms_test.h"

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
