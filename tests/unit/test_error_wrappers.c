/* The wrappers of outside libraries' failures (error.h): MS_CALL_PETSC keeps PETSc's own
 * message for the failing call, MS_CALL_H5 turns HDF5's negative results into MS_ERR_HDF5 with
 * the caller's message, and both add a traceback frame where they return. The failures are
 * real ones of the libraries (a negative vector size, a file that does not exist), not
 * simulated codes. */
#include <hdf5.h>
#include <petscvec.h>

#include "matscreen/error.h"
#include "matscreen/relax.h"
#include "ms_test.h"

/* The vector is the caller's to destroy, also when setting its type fails. */
static ms_err make_vector(const char *type, Vec *v) {
  MS_CALL_PETSC(VecCreate(PETSC_COMM_SELF, v));
  MS_CALL_PETSC(VecSetSizes(*v, 3, 3));
  MS_CALL_PETSC(VecSetType(*v, type));
  return MS_SUCCESS;
}

static ms_err open_file(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  MS_CALL_H5(f, "%s: cannot open as HDF5", path);
  MS_CALL_H5(H5Fclose(f), "%s: cannot close", path);
  return MS_SUCCESS;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MS_TEST_OK(ms_petsc_init());

  Vec v = NULL;
  MS_TEST_OK(make_vector(VECSEQ, &v));
  VecDestroy(&v);
  /* PETSc rejects an unknown vector type; its own message (which names the type and the PETSc
   * function that checked it) must reach the ms_err message, after the failing call's text. */
  MS_TEST_EQ_INT(make_vector("no_such_vector_type", &v), MS_ERR_PETSC);
  VecDestroy(&v);
  fprintf(stderr, "message: %s\n", ms_err_message());
  MS_TEST_TRUE(strstr(ms_err_message(), "PETSc call VecSetType(*v, type) failed") != NULL);
  MS_TEST_TRUE(strstr(ms_err_message(), "no_such_vector_type") != NULL);
  MS_TEST_TRUE(strstr(ms_err_message(), "no message") == NULL);
  MS_TEST_TRUE(strstr(ms_err_traceback(), "(make_vector)") != NULL);
  ms_err_clear();
  /* The recorded PETSc message is consumed: a success in between leaves nothing behind, and
   * a later failure does not carry the earlier one's text. */
  MS_TEST_OK(make_vector(VECSEQ, &v));
  VecDestroy(&v);
  MS_TEST_EQ_INT(make_vector("another_bad_type", &v), MS_ERR_PETSC);
  VecDestroy(&v);
  MS_TEST_TRUE(strstr(ms_err_message(), "no_such_vector_type") == NULL);
  MS_TEST_TRUE(strstr(ms_err_message(), "another_bad_type") != NULL);
  ms_err_clear();

  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* keep HDF5's own stack off stderr */
  MS_TEST_EQ_INT(open_file("tests/data/no-such-file.h5"), MS_ERR_HDF5);
  MS_TEST_EQ_STR(ms_err_message(), "tests/data/no-such-file.h5: cannot open as HDF5");
  MS_TEST_TRUE(strstr(ms_err_traceback(), "(open_file)") != NULL);
  ms_err_clear();

  ms_petsc_finalize();
  MPI_Finalize();
  return MS_TEST_RESULT();
}
