/* Round-robin item results gathered to rank 0 in input order; see ordered.h. */
#include "ordered.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ms_ordered_init(ms_ordered *o, long total) {
  memset(o, 0, sizeof *o);
  ms_jb_init(&o->text);
  o->total = total;
  o->fail_index = total;
}

void ms_ordered_free(ms_ordered *o) {
  ms_jb_free(&o->text);
  free(o->len);
  free(o->aux);
  free(o->auxlen);
  memset(o, 0, sizeof *o);
}

void ms_ordered_fail(ms_ordered *o, long k, ms_err code, const char *msg) {
  if (k >= o->fail_index) return;
  o->fail_index = k;
  o->fail_code = code;
  snprintf(o->fail_msg, sizeof o->fail_msg, "%s", msg ? msg : ms_err_message());
}

int ms_ordered_commit(ms_ordered *o, long k, size_t before, const double *aux, long naux) {
  if (o->n == o->cap) {
    long cap = o->cap ? 2 * o->cap : 64;
    long *l = realloc(o->len, (size_t)cap * sizeof *l), *a = realloc(o->auxlen, (size_t)cap * sizeof *a);
    if (l) o->len = l;
    if (a) o->auxlen = a;
    if (!l || !a) goto oom;
    o->cap = cap;
  }
  if (naux > 0) {
    if (o->naux + naux > o->auxcap) {
      long cap = o->auxcap ? o->auxcap : 1024;
      while (cap < o->naux + naux) cap *= 2;
      double *d = realloc(o->aux, (size_t)cap * sizeof *d);
      if (!d) goto oom;
      o->aux = d;
      o->auxcap = cap;
    }
    memcpy(o->aux + o->naux, aux, (size_t)naux * sizeof *aux);
    o->naux += naux;
  }
  if (o->text.oom) goto oom;
  o->len[o->n] = (long)(o->text.n - before);
  o->auxlen[o->n] = naux > 0 ? naux : 0;
  o->n++;
  return 0;
oom:
  ms_ordered_fail(o, k, MS_ERR_MEM, "out of memory collecting results");
  return 1;
}

/* Gather @p n values of @p type (counts per rank into *counts_out, displacements) to root. */
static void *gather(MPI_Comm comm, const void *mine, int n, MPI_Datatype type, size_t elem,
                    int **counts_out, int **displs_out) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int *counts = NULL, *displs = NULL;
  if (rank == 0) {
    counts = calloc((size_t)size, sizeof *counts);
    displs = calloc((size_t)size, sizeof *displs);
  }
  MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
  char *all = NULL;
  if (rank == 0 && counts && displs) {
    long tot = 0;
    for (int r = 0; r < size; ++r) {
      displs[r] = (int)tot;
      tot += counts[r];
    }
    all = malloc(((size_t)tot + 1) * elem);
  }
  static const char dummy[16] = {0};
  MPI_Gatherv(mine ? mine : dummy, n, type, all, counts, displs, type, 0, comm);
  *counts_out = counts;
  *displs_out = displs;
  return all;
}

ms_err ms_ordered_finish(ms_ordered *o, MPI_Comm comm, ms_ordered_fn fn,
                         ms_ordered_after_fn after, void *ctx) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (o->text.oom) ms_ordered_fail(o, 0, MS_ERR_MEM, "out of memory formatting results");
  long first_fail = o->total;
  MPI_Allreduce(&o->fail_index, &first_fail, 1, MPI_LONG, MPI_MIN, comm);
  int *tc, *td, *lc, *ld, *ac, *ad, *xc, *xd;
  char *text = gather(comm, o->text.s, (int)o->text.n, MPI_CHAR, 1, &tc, &td);
  long *len = gather(comm, o->len, (int)o->n, MPI_LONG, sizeof(long), &lc, &ld);
  double *aux = gather(comm, o->aux, (int)o->naux, MPI_DOUBLE, sizeof(double), &ac, &ad);
  long *auxlen = gather(comm, o->auxlen, (int)o->n, MPI_LONG, sizeof(long), &xc, &xd);
  ms_err local = MS_SUCCESS;
  if (rank == 0) {
    long *tpos = calloc((size_t)size, sizeof *tpos), *apos = calloc((size_t)size, sizeof *apos);
    int *next = calloc((size_t)size, sizeof *next);
    if (!text || !len || !aux || !auxlen || !tpos || !apos || !next) {
      local = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory gathering results");
    } else {
      for (int r = 0; r < size; ++r) {
        tpos[r] = td[r];
        apos[r] = ad[r];
      }
      /* item k lives on rank k % size as its (k / size)-th item */
      for (long k = 0; k < first_fail; ++k) {
        int r = (int)(k % size);
        long i = ld[r] + next[r]++;
        fn(k, text + tpos[r], (size_t)len[i], aux + apos[r], auxlen[i], ctx);
        tpos[r] += len[i];
        apos[r] += auxlen[i];
      }
      fflush(stdout);
      if (after) local = after(first_fail, ctx);
    }
    free(tpos);
    free(apos);
    free(next);
  }
  free(text);
  free(len);
  free(aux);
  free(auxlen);
  free(tc);
  free(td);
  free(lc);
  free(ld);
  free(ac);
  free(ad);
  free(xc);
  free(xd);
  /* The rank that owns the first failed item reports it; otherwise rank 0's final outcome. */
  if (first_fail < o->total && o->fail_index == first_fail) {
    local = o->fail_code;
    ms__err_set(o->fail_code, __FILE__, __LINE__, __func__, "%s", o->fail_msg);
  } else if (first_fail < o->total) {
    local = MS_SUCCESS;
  }
  return ms_err_agree(comm, local);
}
