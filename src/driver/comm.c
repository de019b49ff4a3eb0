/* The driver's collective byte exchanges (comm.h): the gathers and the redistribution by owner
 * that the stages share, written once with the failure agreement every collective needs. */
#include "comm.h"

#include <stdlib.h>
#include <string.h>

static ms_err oom(void) { return ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"); }

ms_err ms__comm_allgather_bytes(MPI_Comm comm, const void *mine, size_t len, char **all, size_t *total) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  *all = NULL;
  *total = 0;
  int *counts = calloc((size_t)size, sizeof *counts), *displs = calloc((size_t)size, sizeof *displs);
  ms_err e = ms_err_agree(comm, counts && displs ? MS_SUCCESS : oom());
  if (!e) {
    int n = (int)len;
    MPI_Allgather(&n, 1, MPI_INT, counts, 1, MPI_INT, comm);
    size_t tot = 0;
    for (int r = 0; r < size; ++r) {
      displs[r] = (int)tot;
      tot += (size_t)counts[r];
    }
    *all = malloc(tot + 1);
    e = ms_err_agree(comm, *all ? MS_SUCCESS : oom());
    if (!e) {
      MPI_Allgatherv(mine ? mine : "", n, MPI_BYTE, *all, counts, displs, MPI_BYTE, comm);
      *total = tot;
    } else {
      free(*all);
      *all = NULL;
    }
  }
  free(counts);
  free(displs);
  return e;
}

ms_err ms__comm_alltoall_bytes(MPI_Comm comm, int64_t nitems, const int *dest, const size_t *off, const char *data,
                               char **out, size_t *nout) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  *out = NULL;
  *nout = 0;
  int *scount = calloc((size_t)size, sizeof(int)), *rcount = calloc((size_t)size, sizeof(int));
  int *sdispl = calloc((size_t)size, sizeof(int)), *rdispl = calloc((size_t)size, sizeof(int));
  int *fill = calloc((size_t)size, sizeof(int));
  char *sbuf = NULL, *rbuf = NULL;
  ms_err e = scount && rcount && sdispl && rdispl && fill ? MS_SUCCESS : oom();
  size_t total = 0;
  if (!e) {
    for (int64_t k = 0; k < nitems; ++k) scount[dest[k]] += (int)(off[k + 1] - off[k]);
    for (int r = 0; r < size; ++r) {
      sdispl[r] = (int)total;
      total += (size_t)scount[r];
    }
    sbuf = malloc(total + 1);
    if (!sbuf) e = oom();
  }
  e = ms_err_agree(comm, e);
  if (!e) {
    for (int64_t k = 0; k < nitems; ++k) {
      size_t len = off[k + 1] - off[k];
      memcpy(sbuf + sdispl[dest[k]] + fill[dest[k]], data + off[k], len);
      fill[dest[k]] += (int)len;
    }
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm);
    size_t rtotal = 0;
    for (int r = 0; r < size; ++r) {
      rdispl[r] = (int)rtotal;
      rtotal += (size_t)rcount[r];
    }
    rbuf = malloc(rtotal + 1);
    e = ms_err_agree(comm, rbuf ? MS_SUCCESS : oom());
    if (!e) {
      MPI_Alltoallv(sbuf, scount, sdispl, MPI_BYTE, rbuf, rcount, rdispl, MPI_BYTE, comm);
      *out = rbuf;
      *nout = rtotal;
      rbuf = NULL;
    }
  }
  free(rbuf);
  free(sbuf);
  free(fill);
  free(scount);
  free(rcount);
  free(sdispl);
  free(rdispl);
  return e;
}

int64_t ms__comm_own_lo(int64_t n, int size, int r) { return (int64_t)((__int128)n * r / size); }
