/* The relaxed-structure store seen as cells (internal to src/driver; relaxed_store.c). */
#ifndef MS_DRIVER_RELAXED_STORE_H
#define MS_DRIVER_RELAXED_STORE_H

#include "funnel_impl.h"

/* The kept, converged entries of this rank's share of the store (x->rout[k].kept), unpacked:
 * entry q is x->rout[which[q]], with its id, relaxed energy (eV/atom) and cell. A stage that
 * narrows the set compacts these arrays in place (n shrinks; ncells stays for freeing). */
typedef struct {
  ms_cell *cells;
  int64_t *ids, *which;
  double *en;
  int64_t n, ncells;
} kept_set;

/* Collective (agrees on allocation failures). */
ms_err ms__fn_kept_cells(run_ctx *x, kept_set *k);
void ms__fn_kept_free(kept_set *k);

#endif
