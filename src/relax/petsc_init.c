/* PETSc start-up and shut-down for the relaxation code.
 *
 * Why PETSC_COMM_WORLD = MPI_COMM_SELF: every rank relaxes its own structures with a serial
 * TAO, so nothing in PETSc needs to talk across ranks. With PETSc's "world" being one rank,
 * PetscInitialize is not collective and can be called lazily by whichever rank first creates a
 * relaxer, without the other ranks having to join at the same moment.
 *
 * Errors: PETSc's default handler prints a traceback to stderr and returns; ours records the
 * first message instead (ms__petsc_error) so that it can become the text of an ms_err, and
 * matscreen prints it once like any other error. PETSc's signal handler is switched off: a
 * crash should reach the sanitizers and debuggers as the signal it is. */
#include <petscsys.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/relax.h"
#include "relax/relax_impl.h"

static int petsc_owned = 0;
static char petsc_msg[512];

static PetscErrorCode record_error(MPI_Comm comm, int line, const char *func, const char *file,
                                   PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx) {
  (void)comm;
  (void)ctx;
  /* Keep the message of the call that failed first; the frames above it only propagate. */
  if (p == PETSC_ERROR_INITIAL) {
    const char *text = NULL;
    PetscErrorMessage(n, &text, NULL);
    snprintf(petsc_msg, sizeof petsc_msg, "%s%s%s (%s, %s:%d)", text ? text : "PETSc error",
             mess && mess[0] ? ": " : "", mess ? mess : "", func ? func : "?", file ? file : "?",
             line);
  }
  return n;
}

const char *ms__petsc_error(void) { return petsc_msg; }

void ms__petsc_error_clear(void) { petsc_msg[0] = '\0'; }

ms_err ms__petsc_fail(int code, const char *what, const char *file, int line, const char *func) {
  const char *m = ms__petsc_error();
  ms_err e = ms__err_set(MS_ERR_PETSC, file, line, func, "PETSc call %s failed (code %d): %s", what, code,
                         m[0] ? m : "no message");
  ms__petsc_error_clear();
  return e;
}

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
  PetscPushErrorHandler(record_error, NULL);
  petsc_owned = 1;
  return MS_SUCCESS;
}

void ms_petsc_finalize(void) {
  if (!petsc_owned) return;
  PetscPopErrorHandler();
  PetscFinalize();
  petsc_owned = 0;
}
