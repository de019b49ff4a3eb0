/* Internals of structure matching shared by its files (not installed).
 *
 * match.c: options, and the preparation of one structure (reduction, keys, fingerprints);
 * match_primitive.c: the primitive cell search of the reduction;
 * match_compare.c: the comparison of two prepared structures;
 * match_group.c: grouping many structures, serial and over MPI ranks.
 * The algorithms and their sources are described at the top of each file. */
#ifndef MS_ANALYSIS_MATCH_IMPL_H
#define MS_ANALYSIS_MATCH_IMPL_H

#include <math.h>

#include "matscreen/match.h"

static inline double ms__match_norm3(const double v[3]) {
  return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}
static inline double ms__match_dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
static inline long long ms__match_gcd(long long a, long long b) {
  while (b) {
    long long t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}
/* Per-axis box distance test of a fractional difference (primitive search and comparison). */
static inline int ms__match_box_close(const double d[3], const double tol[3]) {
  for (int k = 0; k < 3; ++k) {
    double x = d[k] - nearbyint(d[k]);
    if (fabs(x) >= tol[k]) return 0;
  }
  return 1;
}

/* MS_ERR_ARG with a message unless the options are usable. */
ms_err ms__match_check_options(const ms_match_options *o);

/* The smallest cell of @p c whose translations map every site onto one of its species within
 * @p tol (Å), Niggli-reduced, into @p out (pymatgen's get_primitive_structure; depth: the
 * recursion level, 0 for callers). */
ms_err ms__match_find_primitive(const ms_cell *c, double tol, ms_cell *out, int depth);

/* ms_match_prepare, with the space group computed now (@p eager_sg) or only when a comparison
 * needs it (grouping, where most pairs are told apart before). */
ms_err ms__match_prepare(const ms_cell *c, const ms_match_options *o, int eager_sg, ms_match_prep *p);
/* Compute the space group of a prepared structure if it is not known yet. */
void ms__match_ensure_spacegroup(ms_match_prep *p, const ms_match_options *o);

/* Work space of comparisons, reused across the comparisons of one caller; zero it before the
 * first use and free it with ms__match_ws_free. */
typedef struct {
  int n[3];
  double v[3];
  double len;
} latpt;

typedef struct {
  /* per-comparison work space, sized for N sites */
  int N;
  double (*f1)[3];     /* a's sites in the mapped basis */
  double (*f2t)[3];    /* b's sites translated */
  double *cost;        /* class block cost matrix */
  double (*vec)[3];    /* chosen displacement per b site */
  double *hu, *hv, *hmin;
  int *hp, *hway, *hused, *hcol;
  int *rows, *cols, *done;
  latpt *pts;
  int npts, ptcap;
  int *cand[3];        /* lattice points matching each target length */
} ms__match_ws;
void ms__match_ws_free(ms__match_ws *w);

/* Compare two prepared structures (their space groups may be computed on the way, hence not
 * const); @p want_rms: search every mapping for the least RMS instead of stopping at the
 * first match. */
ms_err ms__match_compare(ms__match_ws *w, ms_match_prep *a, ms_match_prep *b,
                         const ms_match_options *o, int want_rms, ms_match_result *r);

#endif
