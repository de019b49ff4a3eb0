/* Grouping of structures that are the same crystal, serial (ms_match_group) and over MPI
 * ranks (ms_match_group_mpi).
 *
 * Grouping keys on (reduced composition, primitive site count) and compares within a key
 * bucket only; the successive minima of the lattices (exact) and a neighbour-distance
 * fingerprint (heuristic) cut the pairs that reach the lattice mappings (match_compare.c),
 * and the space-group guard is applied to geometric matches only (see group_records). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/match_impl.h"

/* ---- grouping ------------------------------------------------------------------------ */

/* Wall clock for the statistics; the serial grouping must not need MPI (MPI_Wtime before
 * MPI_Init is not allowed). */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  ms_match_prep prep;
  double energy; /* NaN sorts last */
  long gidx;     /* global input index */
  long dup;      /* result: -1 or the survivor's gidx */
} grec;

static int grec_cmp(const void *pa, const void *pb) {
  const grec *a = *(const grec *const *)pa, *b = *(const grec *const *)pb;
  if (a->prep.key != b->prep.key) return a->prep.key < b->prep.key ? -1 : 1;
  int na = isnan(a->energy), nb = isnan(b->energy);
  if (na != nb) return na - nb;
  if (!na && a->energy != b->energy) return a->energy < b->energy ? -1 : 1;
  return (a->gidx > b->gidx) - (a->gidx < b->gidx);
}

/* Spatial hash of survivors by (min, mean, max) of their fingerprints in cells of the
 * fingerprint tolerance: two fingerprints within tol at every rank are within tol in these
 * three numbers too, so only the 27 neighbouring cells can hold candidates. */
typedef struct {
  long long *cellkey; /* table: packed cell, or LLONG_MIN for empty */
  int *head;          /* table: first survivor in the cell */
  size_t cap, used;
  int *next;          /* per survivor */
  size_t ncap;
} fp_grid;

static long long pack_cell(const long long c[3]) {
  return ((c[0] & 0x1fffff) << 42) | ((c[1] & 0x1fffff) << 21) | (c[2] & 0x1fffff);
}

/* Grid cell of a structure: three fingerprint entries in units of the tolerance (the
 * smallest nearest-neighbour distance, the median 2nd-neighbour distance, the largest
 * 4th-neighbour distance: entries that vary much between different structures). Two
 * fingerprints within tol at every entry lie in the same or adjacent cells. */
static void fp_cell(const ms_match_prep *p, double tol, long long c[3]) {
  size_t N = (size_t)p->cell.natoms;
  c[0] = (long long)floor(p->nn[0] / tol);
  c[1] = (long long)floor(p->nn[N + N / 2] / tol);
  c[2] = (long long)floor(p->nn[(size_t)(MS_MATCH_FP_RANKS - 1) * N + N - 1] / tol);
}

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static void grid_free(fp_grid *g) {
  free(g->cellkey);
  free(g->head);
  free(g->next);
  memset(g, 0, sizeof *g);
}

static ms_err grid_rehash(fp_grid *g, size_t cap) {
  long long *ok = g->cellkey;
  int *oh = g->head;
  size_t ocap = g->cap;
  g->cellkey = NULL;
  g->head = NULL;
  ms_err e = MS_CALLOC(cap, &g->cellkey);
  if (!e) e = MS_CALLOC(cap, &g->head);
  if (e) {
    free(g->cellkey);
    free(g->head);
    g->cellkey = ok;
    g->head = oh;
    return e;
  }
  for (size_t t = 0; t < cap; ++t) g->cellkey[t] = LLONG_MIN;
  g->cap = cap;
  for (size_t t = 0; t < ocap; ++t) {
    if (ok[t] == LLONG_MIN) continue;
    size_t s = (size_t)(mix64((uint64_t)ok[t]) & (cap - 1));
    while (g->cellkey[s] != LLONG_MIN) s = (s + 1) & (cap - 1);
    g->cellkey[s] = ok[t];
    g->head[s] = oh[t];
  }
  free(ok);
  free(oh);
  return MS_SUCCESS;
}

static int grid_find(const fp_grid *g, long long key) {
  if (!g->cap) return -1;
  size_t s = (size_t)(mix64((uint64_t)key) & (g->cap - 1));
  while (g->cellkey[s] != LLONG_MIN) {
    if (g->cellkey[s] == key) return g->head[s];
    s = (s + 1) & (g->cap - 1);
  }
  return -1;
}

static ms_err grid_insert(fp_grid *g, long long key, int survivor) {
  if ((size_t)survivor >= g->ncap) {
    size_t cap = g->ncap ? 2 * g->ncap : 256;
    MS_CALL(MS_REALLOC(cap, &g->next));
    g->ncap = cap;
  }
  if (2 * (g->used + 1) > g->cap) MS_CALL(grid_rehash(g, g->cap ? 2 * g->cap : 256));
  size_t s = (size_t)(mix64((uint64_t)key) & (g->cap - 1));
  while (g->cellkey[s] != LLONG_MIN && g->cellkey[s] != key) s = (s + 1) & (g->cap - 1);
  if (g->cellkey[s] == LLONG_MIN) {
    g->cellkey[s] = key;
    g->head[s] = -1;
    g->used++;
  }
  g->next[survivor] = g->head[s];
  g->head[s] = survivor;
  return MS_SUCCESS;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Cheap necessary conditions before the exact comparison of survivor a (struct1) with item b.
 * The lattice test is exact: a mapping needs vectors of a no longer than (1+ltol) times b's
 * reduced vectors, so the k-th successive minimum of a is below (1+ltol) times b's (volumes
 * equalised). The fingerprint test is the heuristic one. */
static int prefilter(const ms_match_prep *a, const ms_match_prep *b, const ms_match_options *o) {
  if (o->scale) {
    double lim = log1p(o->ltol) + 1e-5;
    for (int k = 0; k < 3; ++k)
      if (a->log_minima[k] - b->log_minima[k] >= lim) return 0;
  }
  if (o->fingerprint_tol > 0) {
    for (int i = 0; i < a->cell.natoms * MS_MATCH_FP_RANKS; ++i)
      if (fabs(a->nn[i] - b->nn[i]) > o->fingerprint_tol) return 0;
  }
  return 1;
}

/* Group sorted records: buckets are runs of equal keys. */
static ms_err group_records(grec **recs, size_t n, const ms_match_options *o, size_t *ncompared,
                            size_t *nbuckets, size_t *largest) {
  ms__match_ws w;
  memset(&w, 0, sizeof w);
  fp_grid grid;
  memset(&grid, 0, sizeof grid);
  int *surv = NULL, *cand = NULL;
  size_t survcap = 0, candcap = 0;
  ms_err e = MS_SUCCESS;
  *ncompared = *nbuckets = *largest = 0;
  for (size_t start = 0; start < n && !e;) {
    size_t end = start + 1;
    while (end < n && recs[end]->prep.key == recs[start]->prep.key) ++end;
    (*nbuckets)++;
    if (end - start > *largest) *largest = end - start;
    /* Survivors of this bucket, as positions in recs. */
    size_t nsurv = 0;
    grid_free(&grid);
    for (size_t it = start; it < end && !e; ++it) {
      grec *b = recs[it];
      b->dup = -1;
      size_t ncand = 0;
      if (o->fingerprint_tol > 0) {
        long long c[3];
        fp_cell(&b->prep, o->fingerprint_tol, c);
        for (int dx = -1; dx <= 1; ++dx)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dz = -1; dz <= 1; ++dz) {
              long long cc[3] = {c[0] + dx, c[1] + dy, c[2] + dz};
              for (int s = grid_find(&grid, pack_cell(cc)); s >= 0; s = grid.next[s]) {
                if (ncand == candcap) {
                  size_t cap = candcap ? 2 * candcap : 256;
                  e = MS_REALLOC(cap, &cand);
                  if (e) break;
                  candcap = cap;
                }
                cand[ncand++] = s;
              }
            }
        /* Survivor numbers grow with energy order: compare the lowest first. */
        if (ncand > 1) qsort(cand, ncand, sizeof *cand, cmp_int);
      } else {
        if (candcap < nsurv + 1) {
          size_t cap = 2 * nsurv + 256;
          e = MS_REALLOC(cap, &cand);
          if (!e) candcap = cap;
        }
        for (size_t s = 0; s < nsurv && !e; ++s) cand[ncand++] = (int)s;
      }
      for (size_t k = 0; k < ncand && !e; ++k) {
        grec *a = recs[surv[cand[k]]];
        if (!prefilter(&a->prep, &b->prep, o)) continue;
        ms_match_result r;
        (*ncompared)++;
        e = ms__match_compare(&w, &a->prep, &b->prep, o, 0, &r);
        if (!e && r.match) {
          b->dup = a->gidx;
          break;
        }
      }
      if (e || b->dup >= 0) continue;
      if (nsurv == survcap) {
        size_t cap = survcap ? 2 * survcap : 256;
        e = MS_REALLOC(cap, &surv);
        if (e) break;
        survcap = cap;
      }
      surv[nsurv] = (int)it;
      if (o->fingerprint_tol > 0) {
        long long c[3];
        fp_cell(&b->prep, o->fingerprint_tol, c);
        e = grid_insert(&grid, pack_cell(c), (int)nsurv);
      }
      nsurv++;
    }
    start = end;
  }
  grid_free(&grid);
  free(surv);
  free(cand);
  ms__match_ws_free(&w);
  return e;
}

ms_err ms_match_group(const ms_cell *cells, size_t n, const double *energies,
                      const ms_match_options *o, long *duplicate_of, ms_match_group_stats *stats) {
  MS_CHECK((cells && duplicate_of) || n == 0, MS_ERR_ARG, "NULL argument");
  MS_CALL(ms__match_check_options(o));
  grec *recs = NULL;
  grec **order = NULL;
  ms_err e = MS_CALLOC(n ? n : 1, &recs);
  if (!e) e = MS_CALLOC(n ? n : 1, &order);
  double t0 = now();
  for (size_t i = 0; i < n && !e; ++i) {
    ms_match_prep_init(&recs[i].prep);
    recs[i].energy = energies ? energies[i] : 0.0;
    recs[i].gidx = (long)i;
    order[i] = &recs[i];
    e = ms__match_prepare(&cells[i], o, 0, &recs[i].prep);
    if (e) {
      char msg[600];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      e = ms__err_set(e, __FILE__, __LINE__, __func__, "structure %zu%s%s: %s", i,
                      cells[i].label[0] ? " " : "", cells[i].label, msg);
    }
  }
  double t1 = now();
  size_t ncmp = 0, nb = 0, big = 0;
  if (!e) {
    if (n > 1) qsort(order, n, sizeof *order, grec_cmp);
    e = group_records(order, n, o, &ncmp, &nb, &big);
  }
  double t2 = now();
  size_t ngroups = 0;
  if (!e)
    for (size_t i = 0; i < n; ++i) {
      duplicate_of[i] = recs[i].dup;
      ngroups += recs[i].dup < 0;
    }
  if (stats) {
    memset(stats, 0, sizeof *stats);
    stats->nstructures = n;
    stats->ngroups = ngroups;
    stats->nbuckets = nb;
    stats->largest_bucket = big;
    stats->ncompared = ncmp;
    stats->prepare_s = t1 - t0;
    stats->group_s = t2 - t1;
  }
  for (size_t i = 0; i < n && recs; ++i) ms_match_prep_free(&recs[i].prep);
  free(recs);
  free(order);
  return e;
}

/* ---- distributed grouping ------------------------------------------------------------ */

/* Serialised record: fixed header, then species, kinds, positions, classes, fingerprint. */
typedef struct {
  long gidx;
  double energy;
  uint64_t key;
  int spacegroup, natoms, nkinds, nclass, compare_elements;
  double volume;
  double lattice[3][3];
  double log_minima[3];
  char formula[64];
} rec_header;

/* Bytes per site in a record: kind, position, class, fingerprint. */
#define REC_PER_SITE (sizeof(int) + 3 * sizeof(double) + sizeof(long long) + MS_MATCH_FP_RANKS * sizeof(double))

static size_t rec_size(const ms_match_prep *p) {
  size_t N = (size_t)p->cell.natoms, K = (size_t)p->cell.nkinds;
  return sizeof(rec_header) + K * sizeof(ms_species) + N * REC_PER_SITE;
}

static char *put(char *dst, const void *src, size_t n) {
  memcpy(dst, src, n);
  return dst + n;
}

static char *rec_write(char *dst, const grec *g) {
  const ms_match_prep *p = &g->prep;
  rec_header h;
  memset(&h, 0, sizeof h);
  h.gidx = g->gidx;
  h.energy = g->energy;
  h.key = p->key;
  h.spacegroup = p->spacegroup;
  h.natoms = p->cell.natoms;
  h.nkinds = p->cell.nkinds;
  h.nclass = p->nclass;
  h.compare_elements = p->compare_elements;
  h.volume = p->volume;
  memcpy(h.lattice, p->cell.lattice, sizeof h.lattice);
  memcpy(h.log_minima, p->log_minima, sizeof h.log_minima);
  memcpy(h.formula, p->formula, sizeof h.formula);
  size_t N = (size_t)h.natoms;
  dst = put(dst, &h, sizeof h);
  dst = put(dst, p->cell.species, (size_t)h.nkinds * sizeof(ms_species));
  dst = put(dst, p->cell.kind, N * sizeof(int));
  dst = put(dst, p->cell.frac, N * 3 * sizeof(double));
  dst = put(dst, p->site_class, N * sizeof(long long));
  dst = put(dst, p->nn, N * MS_MATCH_FP_RANKS * sizeof(double));
  return dst;
}

static ms_err rec_read(const char **src, const char *end, grec *g) {
  rec_header h;
  MS_CHECK((size_t)(end - *src) >= sizeof h, MS_ERR_INTERNAL, "truncated record");
  memcpy(&h, *src, sizeof h);
  *src += sizeof h;
  size_t N = (size_t)h.natoms, K = (size_t)h.nkinds;
  size_t need = K * sizeof(ms_species) + N * REC_PER_SITE;
  MS_CHECK(h.natoms > 0 && h.nkinds > 0 && h.nkinds <= MS_CELL_MAX_KINDS && (size_t)(end - *src) >= need,
           MS_ERR_INTERNAL, "corrupt record");
  ms_match_prep *p = &g->prep;
  ms_match_prep_init(p);
  g->gidx = h.gidx;
  g->energy = h.energy;
  g->dup = -1;
  p->key = h.key;
  p->spacegroup = h.spacegroup;
  p->nclass = h.nclass;
  p->compare_elements = h.compare_elements;
  p->volume = h.volume;
  memcpy(p->log_minima, h.log_minima, sizeof h.log_minima);
  memcpy(p->formula, h.formula, sizeof h.formula);
  ms_cell_set_lattice(&p->cell, (const double (*)[3])h.lattice);
  MS_CALL(ms_cell_reserve(&p->cell, h.natoms));
  memcpy(p->cell.species, *src, K * sizeof(ms_species));
  *src += K * sizeof(ms_species);
  p->cell.nkinds = h.nkinds;
  memcpy(p->cell.kind, *src, N * sizeof(int));
  *src += N * sizeof(int);
  memcpy(p->cell.frac, *src, N * 3 * sizeof(double));
  *src += N * 3 * sizeof(double);
  p->cell.natoms = h.natoms;
  MS_CALL(MS_CALLOC(N, &p->site_class));
  MS_CALL(MS_CALLOC(N * MS_MATCH_FP_RANKS, &p->nn));
  memcpy(p->site_class, *src, N * sizeof(long long));
  *src += N * sizeof(long long);
  memcpy(p->nn, *src, N * MS_MATCH_FP_RANKS * sizeof(double));
  *src += N * MS_MATCH_FP_RANKS * sizeof(double);
  return MS_SUCCESS;
}

/* Displacements for Alltoallv from counts (ints; the exchange is limited to 2 GiB per rank). */
static ms_err displs_of(const long *counts, int size, int *icounts, int *displs, const char *what) {
  long tot = 0;
  for (int r = 0; r < size; ++r) {
    MS_CHECK(tot + counts[r] < 2147483647L, MS_ERR_UNSUPPORTED,
             "grouping: more than 2 GiB of %s for one rank; use more ranks", what);
    icounts[r] = (int)counts[r];
    displs[r] = (int)tot;
    tot += counts[r];
  }
  return MS_SUCCESS;
}

typedef struct {
  long gidx;
  long dup;
} dup_pair;

ms_err ms_match_group_mpi(MPI_Comm comm, const ms_cell *cells, size_t nlocal,
                          const double *energies, const ms_match_options *o, long *duplicate_of,
                          ms_match_group_stats *stats) {
  int rank = 0, size = 1;
  MS_CALL_MPI(MPI_Comm_rank(comm, &rank));
  MS_CALL_MPI(MPI_Comm_size(comm, &size));
  ms_err e = MS_SUCCESS;
  if (!o || ms__match_check_options(o)) e = o ? ms_err_last() : ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__, "match options are NULL");
  if (!e && nlocal && !(cells && duplicate_of))
    e = ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__, "NULL cells or duplicate_of");
  MS_CALL(ms_err_agree(comm, e));

  long nl = (long)nlocal, offset = 0, ntotal = 0;
  MS_CALL_MPI(MPI_Exscan(&nl, &offset, 1, MPI_LONG, MPI_SUM, comm));
  if (rank == 0) offset = 0;
  MS_CALL_MPI(MPI_Allreduce(&nl, &ntotal, 1, MPI_LONG, MPI_SUM, comm));
  long *offsets = NULL;
  grec *mine = NULL;
  long *scount = NULL, *rcount = NULL;
  int *isc = NULL, *isd = NULL, *irc = NULL, *ird = NULL;
  char *sbuf = NULL, *rbuf = NULL;
  grec *recv = NULL, **order = NULL;
  dup_pair *pout = NULL, *pin = NULL;
  size_t nrecv = 0;
  e = MS_CALLOC((size_t)size + 1, &offsets);
  if (!e) e = MS_CALLOC(nlocal ? nlocal : 1, &mine);
  if (!e) e = MS_CALLOC((size_t)size, &scount);
  if (!e) e = MS_CALLOC((size_t)size, &rcount);
  if (!e) e = MS_CALLOC((size_t)size, &isc);
  if (!e) e = MS_CALLOC((size_t)size, &isd);
  if (!e) e = MS_CALLOC((size_t)size, &irc);
  if (!e) e = MS_CALLOC((size_t)size, &ird);
  e = ms_err_agree(comm, e);
  if (e) goto done;
  MS_CALL_MPI(MPI_Allgather(&offset, 1, MPI_LONG, offsets, 1, MPI_LONG, comm));
  offsets[size] = ntotal;

  /* 1. Reduce my structures. */
  double t0 = MPI_Wtime();
  for (size_t i = 0; i < nlocal && !e; ++i) {
    ms_match_prep_init(&mine[i].prep);
    mine[i].energy = energies ? energies[i] : 0.0;
    mine[i].gidx = offset + (long)i;
    e = ms__match_prepare(&cells[i], o, 0, &mine[i].prep);
    if (e) {
      char msg[600];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      e = ms__err_set(e, __FILE__, __LINE__, __func__, "structure %ld%s%s: %s", offset + (long)i,
                      cells[i].label[0] ? " " : "", cells[i].label, msg);
    }
  }
  e = ms_err_agree(comm, e);
  if (e) goto done;
  double t1 = MPI_Wtime();

  /* 2. Send each record to the owner of its bucket. */
  for (size_t i = 0; i < nlocal; ++i) scount[mine[i].prep.key % (uint64_t)size] += (long)rec_size(&mine[i].prep);
  MS_CALL_MPI(MPI_Alltoall(scount, 1, MPI_LONG, rcount, 1, MPI_LONG, comm));
  e = displs_of(scount, size, isc, isd, "structures to send");
  if (!e) e = displs_of(rcount, size, irc, ird, "structures to receive");
  long stot = 0, rtot = 0;
  for (int r = 0; r < size; ++r) {
    stot += scount[r];
    rtot += rcount[r];
  }
  if (!e) e = MS_CALLOC((size_t)stot + 1, &sbuf);
  if (!e) e = MS_CALLOC((size_t)rtot + 1, &rbuf);
  e = ms_err_agree(comm, e);
  if (e) goto done;
  {
    long *cur = NULL; /* write cursors, starting at the send displacements */
    e = MS_CALLOC((size_t)size, &cur);
    if (!e) {
      for (int r = 0; r < size; ++r) cur[r] = isd[r];
      for (size_t i = 0; i < nlocal; ++i) {
        int dst = (int)(mine[i].prep.key % (uint64_t)size);
        char *end = rec_write(sbuf + cur[dst], &mine[i]);
        cur[dst] = end - sbuf;
      }
      free(cur);
    }
  }
  e = ms_err_agree(comm, e);
  if (e) goto done;
  MS_CALL_MPI(MPI_Alltoallv(sbuf, isc, isd, MPI_BYTE, rbuf, irc, ird, MPI_BYTE, comm));
  free(sbuf);
  sbuf = NULL;
  /* Unpack: count records first. */
  {
    const char *p = rbuf, *end = rbuf + rtot;
    while (p < end) {
      rec_header h;
      memcpy(&h, p, sizeof h);
      size_t N = (size_t)h.natoms, K = (size_t)h.nkinds;
      p += sizeof h + K * sizeof(ms_species) + N * REC_PER_SITE;
      nrecv++;
    }
    e = MS_CALLOC(nrecv ? nrecv : 1, &recv);
    if (!e) e = MS_CALLOC(nrecv ? nrecv : 1, &order);
    p = rbuf;
    for (size_t k = 0; k < nrecv && !e; ++k) {
      e = rec_read(&p, end, &recv[k]);
      order[k] = &recv[k];
    }
  }
  free(rbuf);
  rbuf = NULL;
  size_t ncmp = 0, nb = 0, big = 0;
  if (!e) {
    if (nrecv > 1) qsort(order, nrecv, sizeof *order, grec_cmp);
    e = group_records(order, nrecv, o, &ncmp, &nb, &big);
  }
  e = ms_err_agree(comm, e);
  if (e) goto done;

  /* 3. Results back to the ranks the structures came from. */
  for (int r = 0; r < size; ++r) scount[r] = 0;
  for (size_t k = 0; k < nrecv; ++k) {
    int src = 0;
    while (src + 1 < size && offsets[src + 1] <= recv[k].gidx) ++src;
    scount[src] += (long)sizeof(dup_pair);
  }
  MS_CALL_MPI(MPI_Alltoall(scount, 1, MPI_LONG, rcount, 1, MPI_LONG, comm));
  e = displs_of(scount, size, isc, isd, "results");
  if (!e) e = displs_of(rcount, size, irc, ird, "results");
  if (!e) e = MS_CALLOC(nrecv + 1, &pout);
  if (!e) e = MS_CALLOC(nlocal + 1, &pin);
  e = ms_err_agree(comm, e);
  if (e) goto done;
  {
    long *cur = NULL;
    e = MS_CALLOC((size_t)size, &cur);
    if (!e) {
      for (int r = 0; r < size; ++r) cur[r] = isd[r] / (long)sizeof(dup_pair);
      for (size_t k = 0; k < nrecv; ++k) {
        int src = 0;
        while (src + 1 < size && offsets[src + 1] <= recv[k].gidx) ++src;
        pout[cur[src]].gidx = recv[k].gidx;
        pout[cur[src]++].dup = recv[k].dup;
      }
      free(cur);
    }
  }
  e = ms_err_agree(comm, e);
  if (e) goto done;
  MS_CALL_MPI(MPI_Alltoallv(pout, isc, isd, MPI_BYTE, pin, irc, ird, MPI_BYTE, comm));
  for (size_t i = 0; i < nlocal; ++i) duplicate_of[i] = -2;
  for (size_t k = 0; k < nlocal; ++k) {
    long li = pin[k].gidx - offset;
    if (li >= 0 && (size_t)li < nlocal) duplicate_of[li] = pin[k].dup;
  }
  for (size_t i = 0; i < nlocal && !e; ++i)
    if (duplicate_of[i] == -2) e = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "no result for structure %ld", offset + (long)i);
  double t2 = MPI_Wtime();
  e = ms_err_agree(comm, e);
  if (!e && stats) {
    unsigned long loc[4] = {(unsigned long)nlocal, 0, (unsigned long)nb, (unsigned long)ncmp}, glob[4];
    for (size_t i = 0; i < nlocal; ++i) loc[1] += duplicate_of[i] < 0;
    MS_CALL_MPI(MPI_Allreduce(loc, glob, 4, MPI_UNSIGNED_LONG, MPI_SUM, comm));
    unsigned long lbig = (unsigned long)big, gbig = 0;
    MS_CALL_MPI(MPI_Allreduce(&lbig, &gbig, 1, MPI_UNSIGNED_LONG, MPI_MAX, comm));
    double lt[2] = {t1 - t0, t2 - t1}, gt[2];
    MS_CALL_MPI(MPI_Allreduce(lt, gt, 2, MPI_DOUBLE, MPI_MAX, comm));
    stats->nstructures = glob[0];
    stats->ngroups = glob[1];
    stats->nbuckets = glob[2];
    stats->ncompared = glob[3];
    stats->largest_bucket = gbig;
    stats->prepare_s = gt[0];
    stats->group_s = gt[1];
  }
done:
  for (size_t i = 0; mine && i < nlocal; ++i) ms_match_prep_free(&mine[i].prep);
  for (size_t k = 0; recv && k < nrecv; ++k) ms_match_prep_free(&recv[k].prep);
  free(offsets);
  free(mine);
  free(scount);
  free(rcount);
  free(isc);
  free(isd);
  free(irc);
  free(ird);
  free(sbuf);
  free(rbuf);
  free(recv);
  free(order);
  free(pout);
  free(pin);
  return e;
}

