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
#include "relax/relax_impl.h"


#define PCALL(expr)                                                              \
  do {                                                                           \
    PetscErrorCode pe_ = (expr);                                                 \
    if (pe_) {                                                                   \
      e = ms__petsc_fail((int)pe_, #expr, __FILE__, __LINE__, __func__);                  \
      goto done;                                                                 \
    }                                                                            \
  } while (0)

ms_err ms__ridge_solve(int P, const double *G, double lambda, const double *b, double *w) {
  MS_CALL(ms_petsc_init());
  ms_err e = MS_SUCCESS;
  Mat A = NULL;
  KSP ksp = NULL;
  Vec rhs = NULL, sol = NULL;
  PC pc = NULL;
  PetscScalar *v = NULL;
  const PetscScalar *s = NULL;
  KSPConvergedReason reason;
  int finite = 1;
  PetscInt *nnz = malloc((size_t)P * sizeof *nnz), *cols = malloc((size_t)P * sizeof *cols);
  PetscScalar *row = malloc((size_t)P * sizeof *row);
  if (!nnz || !cols || !row) {
    e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory (%d features)", P);
    goto done;
  }
  for (int a = 0; a < P; ++a) {
    nnz[a] = P - a;
    cols[a] = a;
  }
  PCALL(MatCreateSeqSBAIJ(PETSC_COMM_SELF, 1, P, P, 0, nnz, &A));
  PCALL(MatSetOption(A, MAT_IGNORE_LOWER_TRIANGULAR, PETSC_TRUE));
  for (int a = 0; a < P; ++a) {
    PetscInt ra = a;
    for (int c = a; c < P; ++c) row[c] = G[(size_t)a * P + c] + (c == a ? lambda : 0.0);
    PCALL(MatSetValues(A, 1, &ra, P - a, cols + a, row + a, INSERT_VALUES));
  }
  PCALL(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PCALL(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PCALL(VecCreateSeq(PETSC_COMM_SELF, P, &rhs));
  PCALL(VecDuplicate(rhs, &sol));
  PCALL(VecGetArray(rhs, &v));
  for (int a = 0; a < P; ++a) v[a] = b[a];
  PCALL(VecRestoreArray(rhs, &v));
  PCALL(KSPCreate(PETSC_COMM_SELF, &ksp));
  PCALL(KSPSetOptionsPrefix(ksp, "surrogate_"));
  PCALL(KSPSetOperators(ksp, A, A));
  PCALL(KSPSetType(ksp, KSPPREONLY));
  PCALL(KSPGetPC(ksp, &pc));
  PCALL(PCSetType(pc, PCCHOLESKY));
  PCALL(PCFactorSetMatOrderingType(pc, MATORDERINGNATURAL));
  PCALL(PCFactorSetMatSolverType(pc, MATSOLVERPETSC));
  PCALL(KSPSetFromOptions(ksp));
  PCALL(KSPSolve(ksp, rhs, sol));
  PCALL(KSPGetConvergedReason(ksp, &reason));
  if (reason < 0) {
    e = ms__err_set(MS_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                    "ridge solve of %d features failed: %s (lambda %g)", P,
                    KSPConvergedReasons[reason], lambda);
    goto done;
  }
  PCALL(VecGetArrayRead(sol, &s));
  for (int a = 0; a < P; ++a) {
    w[a] = s[a];
    finite &= isfinite(w[a]) != 0;
  }
  PCALL(VecRestoreArrayRead(sol, &s));
  if (!finite)
    e = ms__err_set(MS_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                    "ridge solve of %d features gave non-finite weights (lambda %g)", P, lambda);
done:
  KSPDestroy(&ksp);
  VecDestroy(&rhs);
  VecDestroy(&sol);
  MatDestroy(&A);
  free(nnz);
  free(cols);
  free(row);
  return e;
}
