/* PETSc's error messages as ms_err messages (internal; not installed).
 *
 * MS_CALL_PETSC (error.h) reports a failed PETSc call through ms__err_petsc, which takes the
 * text that this handler recorded for the failing call. Kept in the core layer, outside
 * relax/, because every module that calls PETSc (relaxation, surrogate training) shares it. */
#ifndef MS_CORE_PETSC_ERROR_H
#define MS_CORE_PETSC_ERROR_H

#include "matscreen/error.h"

/* Make PETSc record its errors here instead of printing them. Call once after
 * PetscInitialize; ms__petsc_errors_release undoes it before PetscFinalize. Not collective. */
void ms__petsc_errors_capture(void);
void ms__petsc_errors_release(void);
/* Forget the recorded message (before a call whose failure is handled another way). */
void ms__petsc_error_clear(void);

#endif
