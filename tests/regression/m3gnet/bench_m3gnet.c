/* Timing of ms_m3gnet_compute (energy + forces + stress) for scripts/bench/m3gnet_bench.sh.
 *
 * usage: bench_m3gnet [--model NAME|FILE] [--semantics consistent|matgl] [--reps R]
 *                     [--memory-limit MIB] FILE...
 *        bench_m3gnet --peak
 * For each structure of each file (extended XYZ, CIF, POSCAR): one untimed call (the workspace
 * grows to the structure), then R timed calls on the same workspace; prints one JSON line with
 * the minimum and median wall time, the bond and triplet counts, the flops and time of the
 * dense layers (GEMMs) in the fastest call, the workspace size and the process's peak resident
 * memory so far. --peak measures the BLAS's double-precision GEMM rate on one thread for
 * 2000 x 2000 matrices (best of 12), the reference for "fraction of peak", and names the BLAS
 * kernel. Not a test: nothing is asserted. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "matscreen/io.h"
#include "matscreen/m3gnet.h"
#include "matscreen/species.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double rss_mib(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_maxrss / 1024.0; /* KiB on Linux */
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int peak(void) {
  const int n = 2000;
  double *A = malloc(sizeof(double) * n * n), *B = malloc(sizeof(double) * n * n),
         *C = malloc(sizeof(double) * n * n);
  if (!A || !B || !C) return 1;
  for (long i = 0; i < (long)n * n; ++i) {
    A[i] = 1e-3 * (double)(i % 7);
    B[i] = 1e-3 * (double)(i % 5);
  }
  /* creating a workspace sets the BLAS to one thread, as in a real run */
  ms_m3gnet m = NULL;
  ms_m3gnet_ws w = NULL;
  if (ms_m3gnet_load("m3gnet-mp-2021.2.8", &m) || ms_m3gnet_ws_create(m, &w)) {
    fprintf(stderr, "%s\n", ms_err_message());
    return 1;
  }
  double best = INFINITY;
  for (int t = 0; t < 12; ++t) {
    const double t0 = now();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
    best = fmin(best, now() - t0);
  }
  printf("{\"dgemm_n\": %d, \"dgemm_peak_gflops\": %.3f, \"blas_kernel\": \"%s\"}\n", n,
         2.0 * n * n * n / best * 1e-9, ms_m3gnet_blas_kernel());
  ms_m3gnet_ws_free(&w);
  ms_m3gnet_free(&m);
  free(A);
  free(B);
  free(C);
  return 0;
}

int main(int argc, char **argv) {
  const char *model = "m3gnet-mp-2021.2.8";
  ms_m3gnet_semantics sem = MS_M3GNET_CONSISTENT;
  int reps = 5, first = 1;
  long limit_mib = -1;
  if (ms_elements_load()) return 1;
  for (; first < argc && strncmp(argv[first], "--", 2) == 0; ++first) {
    if (strcmp(argv[first], "--peak") == 0) return peak();
    if (first + 1 >= argc) break;
    if (strcmp(argv[first], "--model") == 0) {
      model = argv[++first];
    } else if (strcmp(argv[first], "--semantics") == 0) {
      sem = strcmp(argv[++first], "matgl") == 0 ? MS_M3GNET_MATGL : MS_M3GNET_CONSISTENT;
    } else if (strcmp(argv[first], "--memory-limit") == 0) {
      limit_mib = atol(argv[++first]);
    } else if (strcmp(argv[first], "--reps") == 0) {
      reps = atoi(argv[++first]);
      if (reps < 1) reps = 1;
    } else {
      fprintf(stderr, "unknown option %s\n", argv[first]);
      return 1;
    }
  }
  ms_m3gnet m = NULL;
  ms_m3gnet_ws w = NULL;
  if (ms_m3gnet_load(model, &m) || ms_m3gnet_ws_create(m, &w)) {
    fprintf(stderr, "%s\n", ms_err_message());
    return 1;
  }
  if (limit_mib >= 0) ms_m3gnet_ws_set_memory_limit(w, (size_t)limit_mib << 20);
  double *times = malloc((size_t)reps * sizeof *times);
  for (int a = first; a < argc; ++a) {
    ms_cell_list list;
    ms_cell_list_init(&list);
    if (ms_structure_read(argv[a], MS_FORMAT_AUTO, &list)) {
      fprintf(stderr, "%s\n", ms_err_message());
      return 1;
    }
    for (int s = 0; s < list.n; ++s) {
      const ms_cell *c = &list.cells[s];
      double E, W[3][3], (*F)[3] = malloc((size_t)c->natoms * sizeof *F);
      ms_m3gnet_stats st, best = {0};
      if (!F || ms_m3gnet_compute(w, c, sem, &E, F, W)) {
        fprintf(stderr, "%s: %s\n", argv[a], ms_err_message());
        return 1;
      }
      for (int r = 0; r < reps; ++r) {
        const double t0 = now();
        ms_m3gnet_compute(w, c, sem, &E, F, W);
        times[r] = now() - t0;
        ms_m3gnet_ws_stats(w, &st);
        if (r == 0 || times[r] < best.total_seconds) {
          best = st;
          best.total_seconds = times[r];
        }
      }
      qsort(times, (size_t)reps, sizeof *times, cmp_double);
      printf("{\"file\": \"%s\", \"index\": %d, \"natoms\": %d, \"n_edges\": %lld, "
             "\"n_triplets\": %lld, \"energy_eV\": %.12f, \"time_s_min\": %.6e, "
             "\"time_s_median\": %.6e, \"dense_flops\": %.6e, \"dense_s\": %.6e, "
             "\"workspace_MiB\": %.3f, \"rss_MiB\": %.3f, \"recomputed_blocks\": %d, "
             "\"blas_kernel\": \"%s\"}\n",
             argv[a], s, c->natoms, best.n_edges, best.n_triplets, E, times[0],
             times[reps / 2], best.dense_flops, best.dense_seconds,
             (double)best.workspace_bytes / 1048576.0, rss_mib(), best.recomputed_blocks,
             ms_m3gnet_blas_kernel());
      fflush(stdout);
      free(F);
    }
    ms_cell_list_free(&list);
  }
  free(times);
  ms_m3gnet_ws_free(&w);
  ms_m3gnet_free(&m);
  ms_elements_unload();
  return 0;
}
