/* Results of items dealt round-robin over the ranks, printed by rank 0 in item order.
 *
 * `energy` and `relax` evaluate structure k on rank k mod size. Each rank appends the text of
 * its items to o->text (and optional doubles, e.g. a relaxed geometry) and commits them in
 * increasing k; ms_ordered_finish() gathers everything to rank 0, which hands the items to a
 * callback in input order up to the first failed item, and agrees on the outcome: the error of
 * the first failed item (by index), or one returned by the final callback. */
#ifndef MS_APP_ORDERED_H
#define MS_APP_ORDERED_H

#include <mpi.h>

#include "core/json.h"
#include "matscreen/error.h"

typedef struct {
  ms_jbuf text;          /* this rank's item texts, concatenated */
  long *len, n, cap;     /* text length of each committed item */
  double *aux;           /* this rank's item doubles, concatenated */
  long *auxlen, naux, auxcap;
  long total;            /* number of items over all ranks */
  long fail_index;       /* first item this rank failed on (total if none) */
  ms_err fail_code;
  char fail_msg[1024];
} ms_ordered;

void ms_ordered_init(ms_ordered *o, long total);
void ms_ordered_free(ms_ordered *o);
/* Item @p k ends here: its text is o->text from @p before on; @p aux (may be NULL) its doubles.
 * On failure (out of memory) the item is recorded as failed and 1 is returned. */
int ms_ordered_commit(ms_ordered *o, long k, size_t before, const double *aux, long naux);
/* Record that item @p k failed with @p code and message @p msg (the current error if NULL). */
void ms_ordered_fail(ms_ordered *o, long k, ms_err code, const char *msg);

typedef void (*ms_ordered_fn)(long k, const char *text, size_t len, const double *aux,
                              long naux, void *ctx);
typedef ms_err (*ms_ordered_after_fn)(long first_fail, void *ctx);
/* Collective. Rank 0 calls @p fn for items 0 .. first_fail-1 in order, then @p after (may be
 * NULL). Returns the agreed outcome on every rank. */
ms_err ms_ordered_finish(ms_ordered *o, MPI_Comm comm, ms_ordered_fn fn,
                         ms_ordered_after_fn after, void *ctx);

#endif
