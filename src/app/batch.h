/* The structures of `energy` and `relax`, read from many files and evaluated one by one, so
 * that one bad file or structure does not stop the batch (docs: `matscreen help energy`).
 *
 * Every rank reads every file (the result is the same everywhere, so no agreement is needed
 * for the reading); a file that cannot be read becomes one failed item, a structure the model
 * cannot take (a species it does not cover, oxidation states it cannot guess) a failed item of
 * its own. Items are numbered in input order; the commands deal them round-robin. */
#ifndef MS_APP_BATCH_H
#define MS_APP_BATCH_H

#include <mpi.h>

#include "core/json.h"
#include "matscreen/cell.h"
#include "matscreen/io.h"
#include "matscreen/model.h"

typedef struct {
  const char *file;
  int frame;        /* frame within the file; -1 when the file itself could not be read */
  ms_cell *cell;    /* NULL when the file could not be read */
  int failed;       /* 1: not evaluated; status and msg say why */
  const char *status; /* "error" (unreadable, no oxidation states) or "unsupported" (species) */
  char msg[640];
  char guessed[160]; /* oxidation states guessed for it ("" if none) */
} ms_batch_item;

typedef struct {
  ms_batch_item *items;
  long n;
  ms_cell_list *lists;
  int nfiles;
} ms_batch;

/* Read @p files; MS_ERR_MEM only (read errors become failed items). */
ms_err ms_batch_read(ms_batch *b, const char *const *files, int nfiles, ms_format fmt);
void ms_batch_free(ms_batch *b);
/* With --guess-oxidation-states: for a model that needs charges, give cells without oxidation
 * states guessed ones (oxidation.h); a structure where that fails becomes a failed item. */
void ms_batch_guess_oxidation_states(ms_batch *b, const ms_model m);
/* Mark item @p it failed with the current error message (status "unsupported" for
 * MS_ERR_INPUT from the model, else "error"). */
void ms_batch_fail(ms_batch_item *it, ms_err code);
/* The output of a failed item: one JSON line, or a text block. */
void ms_batch_format_failure(ms_jbuf *b, int json, const ms_batch_item *it, const char *model);
/* Collective: the failed items over all ranks (each rank counts those it handled); when there
 * are any, MS_ERR_INPUT "N of M structures could not be evaluated ...; the first: MESSAGE" (just
 * the message for a single structure). */
ms_err ms_batch_outcome(MPI_Comm comm, const ms_batch *b, long failed_here);

#endif
