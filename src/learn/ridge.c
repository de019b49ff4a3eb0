/* The linear solve of one ensemble member: (G + lambda I) w = b with G symmetric positive
 * semi-definite (the centred Gram matrix of the member's features), by PETSc on
 * PETSC_COMM_SELF.
 *
 * Why a symmetric sparse-format matrix for a dense problem: PETSc's own Cholesky of a
 * MATSEQSBAIJ matrix is plain C with a fixed operation order, whereas a MATSEQDENSE
 * factorisation goes to LAPACK, and a threaded BLAS may change its summation order with the
 * number of threads (which under mpirun can depend on the number of ranks per node). The
 * matrices are a few hundred rows, so the sparse bookkeeping costs nothing that matters. */
#include <math.h>
#include <petscksp.h>
#include <stdlib.h>

#include "learn/surrogate_impl.h"
#include "matscreen/relax.h"

/* The PETSc objects of one solve, created by ridge_solve_petsc and destroyed by its caller, so
 * that every PETSc call can return through MS_CALL_PETSC and nothing leaks on failure. */
typedef struct {
  Mat A;
  KSP ksp;
  Vec rhs, sol;
} ridge_objects;

static ms_err ridge_solve_petsc(int P, const double *G, double lambda, const double *b, double *w,
                                const PetscInt *nnz, const PetscInt *cols, PetscScalar *row,
                                ridge_objects *o) {
  PC pc = NULL;
  PetscScalar *v = NULL;
  const PetscScalar *s = NULL;
  KSPConvergedReason reason;
  int finite = 1;
  MS_CALL_PETSC(MatCreateSeqSBAIJ(PETSC_COMM_SELF, 1, P, P, 0, nnz, &o->A));
  MS_CALL_PETSC(MatSetOption(o->A, MAT_IGNORE_LOWER_TRIANGULAR, PETSC_TRUE));
  for (int a = 0; a < P; ++a) {
    PetscInt ra = a;
    for (int c = a; c < P; ++c) row[c] = G[(size_t)a * P + c] + (c == a ? lambda : 0.0);
    MS_CALL_PETSC(MatSetValues(o->A, 1, &ra, P - a, cols + a, row + a, INSERT_VALUES));
  }
  MS_CALL_PETSC(MatAssemblyBegin(o->A, MAT_FINAL_ASSEMBLY));
  MS_CALL_PETSC(MatAssemblyEnd(o->A, MAT_FINAL_ASSEMBLY));
  MS_CALL_PETSC(VecCreateSeq(PETSC_COMM_SELF, P, &o->rhs));
  MS_CALL_PETSC(VecDuplicate(o->rhs, &o->sol));
  MS_CALL_PETSC(VecGetArray(o->rhs, &v));
  for (int a = 0; a < P; ++a) v[a] = b[a];
  MS_CALL_PETSC(VecRestoreArray(o->rhs, &v));
  MS_CALL_PETSC(KSPCreate(PETSC_COMM_SELF, &o->ksp));
  MS_CALL_PETSC(KSPSetOptionsPrefix(o->ksp, "surrogate_"));
  MS_CALL_PETSC(KSPSetOperators(o->ksp, o->A, o->A));
  MS_CALL_PETSC(KSPSetType(o->ksp, KSPPREONLY));
  MS_CALL_PETSC(KSPGetPC(o->ksp, &pc));
  MS_CALL_PETSC(PCSetType(pc, PCCHOLESKY));
  MS_CALL_PETSC(PCFactorSetMatOrderingType(pc, MATORDERINGNATURAL));
  MS_CALL_PETSC(PCFactorSetMatSolverType(pc, MATSOLVERPETSC));
  MS_CALL_PETSC(KSPSetFromOptions(o->ksp));
  MS_CALL_PETSC(KSPSolve(o->ksp, o->rhs, o->sol));
  MS_CALL_PETSC(KSPGetConvergedReason(o->ksp, &reason));
  MS_CHECK(reason >= 0, MS_ERR_NUMERIC, "ridge solve of %d features failed: %s (lambda %g)", P,
           KSPConvergedReasons[reason], lambda);
  MS_CALL_PETSC(VecGetArrayRead(o->sol, &s));
  for (int a = 0; a < P; ++a) {
    w[a] = s[a];
    finite &= isfinite(w[a]) != 0;
  }
  MS_CALL_PETSC(VecRestoreArrayRead(o->sol, &s));
  MS_CHECK(finite, MS_ERR_NUMERIC, "ridge solve of %d features gave non-finite weights (lambda %g)",
           P, lambda);
  return MS_SUCCESS;
}

ms_err ms__ridge_solve(int P, const double *G, double lambda, const double *b, double *w) {
  MS_CALL(ms_petsc_init());
  ms_err e = MS_SUCCESS;
  ridge_objects o = {NULL, NULL, NULL, NULL};
  PetscInt *nnz = malloc((size_t)P * sizeof *nnz), *cols = malloc((size_t)P * sizeof *cols);
  PetscScalar *row = malloc((size_t)P * sizeof *row);
  if (!nnz || !cols || !row) {
    e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory (%d features)", P);
  } else {
    for (int a = 0; a < P; ++a) {
      nnz[a] = P - a;
      cols[a] = a;
    }
    e = ridge_solve_petsc(P, G, lambda, b, w, nnz, cols, row, &o);
    if (e) e = ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  KSPDestroy(&o.ksp);
  VecDestroy(&o.rhs);
  VecDestroy(&o.sol);
  MatDestroy(&o.A);
  free(nnz);
  free(cols);
  free(row);
  return e;
}
