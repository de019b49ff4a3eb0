/* See batch.h. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/oxidation.h"

ms_err ms_batch_read(ms_batch *b, const char *const *files, int nfiles, ms_format fmt) {
  memset(b, 0, sizeof *b);
  b->lists = calloc((size_t)nfiles + 1, sizeof *b->lists);
  MS_CHECK(b->lists, MS_ERR_MEM, "out of memory");
  b->nfiles = nfiles;
  long cap = 0;
  for (int f = 0; f < nfiles; ++f) {
    ms_cell_list_init(&b->lists[f]);
    ms_err e = ms_structure_read(files[f], fmt, &b->lists[f]);
    if (e == MS_ERR_MEM) return e;
    char msg[640] = "";
    if (e) {
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      ms_err_clear();
    } else if (b->lists[f].n == 0) {
      snprintf(msg, sizeof msg, "%s: no structure in the file", files[f]);
    }
    long need = b->n + (msg[0] ? 1 : b->lists[f].n);
    if (need > cap) {
      cap = need > 2 * cap ? need : 2 * cap;
      ms_batch_item *v = realloc(b->items, (size_t)cap * sizeof *v);
      MS_CHECK(v, MS_ERR_MEM, "out of memory");
      b->items = v;
    }
    if (msg[0]) {
      ms_batch_item *it = &b->items[b->n++];
      memset(it, 0, sizeof *it);
      *it = (ms_batch_item){files[f], -1, NULL, 1, "error", "", ""};
      snprintf(it->msg, sizeof it->msg, "%s", msg);
      continue;
    }
    for (int fr = 0; fr < b->lists[f].n; ++fr) {
      ms_batch_item *it = &b->items[b->n++];
      memset(it, 0, sizeof *it);
      it->file = files[f];
      it->frame = fr;
      it->cell = &b->lists[f].cells[fr];
    }
  }
  return MS_SUCCESS;
}

void ms_batch_free(ms_batch *b) {
  for (int f = 0; f < b->nfiles && b->lists; ++f) ms_cell_list_free(&b->lists[f]);
  free(b->lists);
  free(b->items);
  memset(b, 0, sizeof *b);
}

void ms_batch_guess_oxidation_states(ms_batch *b, const ms_model m) {
  if (!ms_model_needs_oxidation_states(m)) return;
  for (long k = 0; k < b->n; ++k) {
    ms_batch_item *it = &b->items[k];
    if (it->failed) continue;
    ms_err e = ms_cell_guess_oxidation_states(it->cell, it->guessed, sizeof it->guessed);
    if (e) {
      snprintf(it->msg, sizeof it->msg, "%s frame %d: %s", it->file, it->frame, ms_err_message());
      ms_err_clear();
      it->failed = 1;
      it->status = "error";
    }
  }
}

void ms_batch_fail(ms_batch_item *it, ms_err code) {
  it->failed = 1;
  it->status = code == MS_ERR_INPUT ? "unsupported" : "error";
  snprintf(it->msg, sizeof it->msg, "%s", ms_err_message());
  ms_err_clear();
}

void ms_batch_format_failure(ms_jbuf *b, int json, const ms_batch_item *it, const char *model) {
  if (json) {
    ms_jb_raw(b, "{");
    ms_jb_key(b, "file", 1);
    ms_jb_str(b, it->file);
    ms_jb_key(b, "frame", 0);
    ms_jb_printf(b, "%d", it->frame);
    ms_jb_key(b, "label", 0);
    ms_jb_str(b, it->cell ? it->cell->label : "");
    ms_jb_key(b, "potential", 0);
    ms_jb_str(b, model);
    ms_jb_key(b, "status", 0);
    ms_jb_str(b, it->status);
    ms_jb_key(b, "detail", 0);
    ms_jb_str(b, it->msg);
    ms_jb_raw(b, "}\n");
    return;
  }
  ms_jb_printf(b, "%s", it->file);
  if (it->frame >= 0) ms_jb_printf(b, " [frame %d]", it->frame);
  ms_jb_printf(b, "\n  status            %s: %s\n", it->status, it->msg);
}

ms_err ms_batch_outcome(MPI_Comm comm, const ms_batch *b, long failed_here) {
  long failed = 0, first_here = b->n, first = b->n;
  for (long k = 0; k < b->n && failed_here; ++k)
    if (b->items[k].failed && b->items[k].msg[0]) {
      first_here = k;
      break;
    }
  MPI_Allreduce(&failed_here, &failed, 1, MPI_LONG, MPI_SUM, comm);
  MPI_Allreduce(&first_here, &first, 1, MPI_LONG, MPI_MIN, comm);
  if (failed == 0) return MS_SUCCESS;
  /* the message of the first failed item, from a rank that handled it */
  int rank = 0, owner = 0, mine = first < b->n && first == first_here ? 1 : 0;
  MPI_Comm_rank(comm, &rank);
  int cand = mine ? rank : 1 << 30;
  MPI_Allreduce(&cand, &owner, 1, MPI_INT, MPI_MIN, comm);
  char msg[640] = "";
  if (owner < (1 << 30)) {
    if (rank == owner) snprintf(msg, sizeof msg, "%s", b->items[first].msg);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, owner, comm);
  }
  if (b->n == 1) return ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s", msg);
  return ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                     "%ld of %ld structures could not be evaluated (the others were); the first: %s", failed, b->n, msg);
}
