/* Internals of the relaxation module shared by its files and its unit test (not installed).
 *
 * The test hooks give access to the objective in the relaxer's own variables, so that its
 * gradient can be checked against finite differences for every cell mode. */
#ifndef MS_RELAX_IMPL_H
#define MS_RELAX_IMPL_H

#include "matscreen/relax.h"

/* Set the relaxer up for start structure @p cell (variables, scales, symmetry) without
 * running TAO; *nvar receives the number of variables. The start must be non-degenerate. */
ms_err ms__relax_prepare(ms_relax r, const ms_cell *cell, int *nvar);
/* The start point of the variables (nvar values). */
void ms__relax_start(const ms_relax r, double *x);
/* Objective H (eV) and its gradient in the variables (may be NULL) at @p x, with the status
 * of the point (MS_STATUS_OK, or the reason the point is rejected, in which case *H is the
 * huge value the line search sees). */
ms_err ms__relax_eval(ms_relax r, const double *x, double *H, double *g, ms_status *st);
/* Structure at @p x (lattice and fractional coordinates written into @p out, which must be a
 * copy of the prepared start). */
void ms__relax_structure(const ms_relax r, const double *x, ms_cell *out);

#endif
