/* PETSc's error messages as ms_err messages.
 *
 * PETSc's default handler prints a traceback to stderr and returns; ours records the message
 * of the first failing frame instead, so that ms__err_petsc (MS_CALL_PETSC) can make it the
 * text of an ms_err and matscreen prints it once like any other error. The frames above the
 * first only propagate the code, so their messages are dropped. */
#include <petscsys.h>
#include <stdio.h>

#include "core/petsc_error.h"

static char petsc_msg[512];

static PetscErrorCode record_error(MPI_Comm comm, int line, const char *func, const char *file,
                                   PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx) {
  (void)comm;
  (void)ctx;
  if (p == PETSC_ERROR_INITIAL) {
    const char *text = NULL;
    PetscErrorMessage(n, &text, NULL);
    snprintf(petsc_msg, sizeof petsc_msg, "%s%s%s (%s, %s:%d)", text ? text : "PETSc error",
             mess && mess[0] ? ": " : "", mess ? mess : "", func ? func : "?", file ? file : "?",
             line);
  }
  return n;
}

void ms__petsc_errors_capture(void) { PetscPushErrorHandler(record_error, NULL); }

void ms__petsc_errors_release(void) { PetscPopErrorHandler(); }

void ms__petsc_error_clear(void) { petsc_msg[0] = '\0'; }

ms_err ms__err_petsc(int petsc_rc, const char *what, const char *file, int line, const char *func) {
  ms_err e = ms__err_set(MS_ERR_PETSC, file, line, func, "PETSc call %s failed (code %d): %s", what,
                         petsc_rc, petsc_msg[0] ? petsc_msg : "no message");
  ms__petsc_error_clear();
  return e;
}
