/* PETSc start-up and shut-down for the relaxation code.
 *
 * Why PETSC_COMM_WORLD = MPI_COMM_SELF: every rank relaxes its own structures with a serial
 * TAO, so nothing in PETSc needs to talk across ranks. With PETSc's "world" being one rank,
 * PetscInitialize is not collective and can be called lazily by whichever rank first creates a
 * relaxer, without the other ranks having to join at the same moment.
 *
 * Errors: PETSc's messages are recorded by the core layer's handler (core/petsc_error.c) and
 * become the text of MS_CALL_PETSC's errors. PETSc's signal handler is switched off: a crash
 * should reach the sanitizers and debuggers as the signal it is. */
#include <petscsys.h>

#include "core/petsc_error.h"
#include "matscreen/relax.h"

static int petsc_owned = 0;

ms_err ms_petsc_init(void) {
  PetscBool done = PETSC_FALSE;
  PetscInitialized(&done);
  if (done) return MS_SUCCESS;
  int mpi_up = 0;
  MPI_Initialized(&mpi_up);
  MS_CHECK(mpi_up, MS_ERR_STATE, "ms_petsc_init needs MPI to be initialised first");
  PETSC_COMM_WORLD = MPI_COMM_SELF;
  /* PetscInitialize keeps pointers to the argument vector, so it must outlive PETSc. */
  static char arg0[] = "matscreen", arg1[] = "-no_signal_handler";
  static char *args[] = {arg0, arg1, NULL};
  static char **argv = args;
  static int argc = 2;
  PetscErrorCode pe = PetscInitialize(&argc, &argv, NULL, NULL);
  MS_CHECK(pe == 0, MS_ERR_PETSC, "PetscInitialize failed (PETSc error code %d)", (int)pe);
  ms__petsc_errors_capture();
  petsc_owned = 1;
  return MS_SUCCESS;
}

void ms_petsc_finalize(void) {
  if (!petsc_owned) return;
  ms__petsc_errors_release();
  PetscFinalize();
  petsc_owned = 0;
}
