/* Niggli reduction of a cell, through spglib's implementation of the Krivy-Gruber algorithm
 * (Krivy & Gruber, Acta Cryst. A32, 297 (1976), with the tolerance handling of
 * Grosse-Kunstleve, Sauter & Adams, Acta Cryst. A60, 1 (2004)).
 *
 * spglib reduces the lattice only; the integer transformation T with L_new = T L_old is then
 * recovered by T = L_new L_old^-1 (rounded; it is unimodular) and the sites re-expressed:
 * r = f_old L_old = f_new T L_old, so f_new = f_old T^-1. */
#include <math.h>
#include <spglib.h>
#include <string.h>

#include "matscreen/cell.h"

ms_err ms_cell_niggli_reduce(ms_cell *c, double tol, int transform[3][3]) {
  MS_CALL(ms_cell_validate(c));
  MS_CHECK(tol > 0 && tol < 0.1, MS_ERR_ARG, "Niggli tolerance must be in (0, 0.1), got %g", tol);
  double v = ms_cell_volume(c);
  double eps = tol * cbrt(v);

  /* spglib wants column vectors. */
  double col[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) col[j][i] = c->lattice[i][j];
  MS_CHECK(spg_niggli_reduce(col, eps) != 0, MS_ERR_NUMERIC,
           "Niggli reduction failed (spglib) for a cell of volume %g Å^3", v);
  double Lnew[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Lnew[i][j] = col[j][i];

  double Linv[3][3], Td[3][3];
  ms_mat3_inv(c->lattice, Linv);
  int T[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += Lnew[i][k] * Linv[k][j];
      T[i][j] = (int)lround(s);
      MS_CHECK(fabs(s - T[i][j]) < 1e-4, MS_ERR_NUMERIC,
               "Niggli transformation is not integral (entry %g)", s);
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Td[i][j] = T[i][j];
  double d = ms_mat3_det(Td);
  MS_CHECK(fabs(fabs(d) - 1.0) < 1e-9, MS_ERR_NUMERIC,
           "Niggli transformation has determinant %g, expected +-1", d);
  /* Use the exact integer transform of the old lattice (not spglib's floating result) so that
   * the lattice and the sites stay consistent to rounding. */
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      L[i][j] = Td[i][0] * c->lattice[0][j] + Td[i][1] * c->lattice[1][j] + Td[i][2] * c->lattice[2][j];
  if (ms_mat3_det(L) < 0) {
    /* Make the basis right-handed: negating all three vectors keeps every Niggli condition
     * (the scalar products between vectors are unchanged). */
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        T[i][j] = -T[i][j];
        Td[i][j] = -Td[i][j];
        L[i][j] = -L[i][j];
      }
  }
  double Tinv[3][3];
  ms_mat3_inv(Td, Tinv);
  for (int s = 0; s < c->natoms; ++s) {
    double f[3];
    for (int k = 0; k < 3; ++k)
      f[k] = c->frac[s][0] * Tinv[0][k] + c->frac[s][1] * Tinv[1][k] + c->frac[s][2] * Tinv[2][k];
    memcpy(c->frac[s], f, sizeof f);
  }
  memcpy(c->lattice, L, sizeof L);
  ms_cell_wrap(c);
  if (transform) memcpy(transform, T, sizeof T);
  return MS_SUCCESS;
}
