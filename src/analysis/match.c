/* Structure matching with the semantics of pymatgen's StructureMatcher (Ong et al., Comput.
 * Mater. Sci. 68, 314 (2013), and pymatgen.analysis.structure_matcher), written for speed:
 * each structure is reduced once (ms_match_prepare), and a comparison works on integer basis
 * changes of the reduced cells (match_compare.c); grouping compares within buckets of equal
 * keys only (match_group.c).
 *
 * This file: the options and the preparation of one structure.
 *
 * Reduction. As pymatgen: Niggli-reduce, look for a smaller cell, Niggli-reduce again. The
 * smaller cell is found with the algorithm of pymatgen's get_primitive_structure
 * (match_primitive.c; tolerance 0.25 Å, pymatgen's default), so that noisy supercells are
 * reduced in the same cases. The prepared structure also carries its grouping keys (reduced
 * composition, site count), its successive minima and a neighbour-distance fingerprint. */
#include "matscreen/match.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/match_impl.h"
#include "matscreen/symmetry.h"

void ms_match_options_default(ms_match_options *o) {
  o->ltol = 0.2;
  o->stol = 0.3;
  o->angle_tol = 5.0;
  o->primitive_cell = 1;
  o->scale = 1;
  o->compare_elements = 0;
  o->check_spacegroup = 1;
  o->symprec = MS_SYMPREC_DEFAULT;
  o->sg_angle_tol = MS_ANGLE_TOL_DEFAULT;
  o->primitive_tol = 0.25;
  o->fingerprint_tol = 0.1;
}

const char *ms_match_reason_name(ms_match_reason r) {
  static const char *names[] = {"match", "composition", "nsites", "spacegroup", "lattice", "sites"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

ms_err ms__match_check_options(const ms_match_options *o) {
  MS_CHECK(o, MS_ERR_ARG, "match options are NULL");
  MS_CHECK(o->ltol > 0 && o->ltol < 10, MS_ERR_ARG, "ltol must be in (0, 10), got %g", o->ltol);
  MS_CHECK(o->stol > 0 && o->stol < 10, MS_ERR_ARG, "stol must be in (0, 10), got %g", o->stol);
  MS_CHECK(o->angle_tol > 0 && o->angle_tol < 90, MS_ERR_ARG, "angle_tol must be in (0, 90) degrees, got %g",
           o->angle_tol);
  MS_CHECK(!o->primitive_cell || (o->primitive_tol > 0 && o->primitive_tol < 2), MS_ERR_ARG,
           "primitive_tol must be in (0, 2) Å, got %g", o->primitive_tol);
  MS_CHECK(!o->check_spacegroup || (o->symprec > 0 && o->symprec < 5), MS_ERR_ARG,
           "symprec must be in (0, 5) Å, got %g", o->symprec);
  return MS_SUCCESS;
}

/* ---- site classes and keys ----------------------------------------------------------- */

static long long species_code(const ms_species *s, int elements_only) {
  long long code = (long long)s->Z * 1000000LL;
  if (!elements_only && s->has_ox) code += 500000LL + llround(s->ox * 1000.0);
  return code;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}


/* ---- preparation --------------------------------------------------------------------- */

void ms_match_prep_init(ms_match_prep *p) {
  memset(p, 0, sizeof *p);
  ms_cell_init(&p->cell);
}

void ms_match_prep_free(ms_match_prep *p) {
  if (!p) return;
  ms_cell_free(&p->cell);
  free(p->site_class);
  free(p->nn);
  ms_match_prep_init(p);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Fingerprint: for k = 1..MS_MATCH_FP_RANKS, the distance of every site to its k-th nearest
 * neighbour over (V/N)^(1/3), sorted over the sites: nn[k N + i]. All images within 2.5
 * (V/N)^(1/3) are searched (at that radius a site has some 65 neighbours on average), so
 * the values do not depend on the cell chosen for the structure. */
static ms_err nn_fingerprint(const ms_cell *c, double *nn) {
  enum { K = MS_MATCH_FP_RANKS };
  int N = c->natoms;
  double scale = cbrt(ms_cell_volume(c) / N), rc = 2.5 * scale;
  int nmax[3];
  ms_cell_image_bounds(c, rc, nmax);
  double *col = NULL;
  MS_CALL(MS_CALLOC((size_t)N, &col));
  double (*best)[K] = NULL;
  ms_err e = MS_CALLOC((size_t)N, &best);
  if (e) {
    free(col);
    return e;
  }
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < K; ++k) best[i][k] = rc * rc;
    for (int j = 0; j < N; ++j) {
      double d[3];
      for (int k = 0; k < 3; ++k) {
        d[k] = c->frac[j][k] - c->frac[i][k];
        d[k] -= nearbyint(d[k]);
      }
      for (int a = -nmax[0]; a <= nmax[0]; ++a)
        for (int b = -nmax[1]; b <= nmax[1]; ++b)
          for (int cc = -nmax[2]; cc <= nmax[2]; ++cc) {
            if (i == j && !a && !b && !cc) continue;
            double f[3] = {d[0] + a, d[1] + b, d[2] + cc}, r[3];
            for (int k = 0; k < 3; ++k) r[k] = f[0] * c->lattice[0][k] + f[1] * c->lattice[1][k] + f[2] * c->lattice[2][k];
            double dd = ms__match_dot3(r, r);
            if (dd >= best[i][K - 1]) continue;
            int k = K - 1;
            while (k > 0 && best[i][k - 1] > dd) {
              best[i][k] = best[i][k - 1];
              --k;
            }
            best[i][k] = dd;
          }
    }
  }
  for (int k = 0; k < K; ++k) {
    for (int i = 0; i < N; ++i) col[i] = sqrt(best[i][k]) / scale;
    qsort(col, (size_t)N, sizeof *col, cmp_double);
    memcpy(&nn[(size_t)k * (size_t)N], col, sizeof(double) * (size_t)N);
  }
  free(col);
  free(best);
  return MS_SUCCESS;
}

/* Space group of a prepared structure, computed on first use (-1: not yet). spglib takes from
 * 0.3 ms (P1) to 25 ms (Fm-3m) per call here, so grouping asks only for the structures that
 * reach an exact comparison. A cell spglib cannot analyse (atoms closer than symprec) gets
 * 0, which only equals 0. */
void ms__match_ensure_spacegroup(ms_match_prep *p, const ms_match_options *o) {
  if (p->spacegroup >= 0) return;
  if (ms_spacegroup(&p->cell, o->symprec, o->sg_angle_tol, &p->spacegroup, NULL)) {
    ms_err_clear();
    p->spacegroup = 0;
  }
}

ms_err ms__match_prepare(const ms_cell *c, const ms_match_options *o, int eager_sg, ms_match_prep *p) {
  MS_CHECK(c && p, MS_ERR_ARG, "NULL argument");
  MS_CALL(ms__match_check_options(o));
  ms_match_prep_free(p);
  MS_CALL(ms_cell_validate(c));
  ms_cell work;
  ms_cell_init(&work);
  ms_err e = ms_cell_copy(&work, c);
  if (!e) e = ms_cell_niggli_reduce(&work, 1e-5, NULL);
  if (!e && o->primitive_cell) {
    e = ms__match_find_primitive(&work, o->primitive_tol, &p->cell, 0);
  } else if (!e) {
    e = ms_cell_copy(&p->cell, &work);
  }
  ms_cell_free(&work);
  if (e) {
    ms_match_prep_free(p);
    MS_CALL(e);
  }
  ms_cell *r = &p->cell;
  int N = r->natoms;
  p->volume = ms_cell_volume(r);
  p->compare_elements = o->compare_elements;
  e = MS_CALLOC((size_t)N, &p->site_class);
  if (!e) e = MS_CALLOC((size_t)N * MS_MATCH_FP_RANKS, &p->nn);
  if (e) {
    ms_match_prep_free(p);
    MS_CALL(e);
  }
  for (int i = 0; i < N; ++i) p->site_class[i] = species_code(&r->species[r->kind[i]], o->compare_elements);
  p->spacegroup = -1;
  if (o->check_spacegroup && eager_sg) ms__match_ensure_spacegroup(p, o);
  /* Key: reduced composition over classes (sorted codes with counts / gcd) and site count.
   * The space group is left out so that the key costs no spglib call; the guard is applied
   * when two structures are compared. */
  long long codes[MS_CELL_MAX_KINDS], counts[MS_CELL_MAX_KINDS];
  int nc = 0;
  for (int i = 0; i < N; ++i) {
    int k = 0;
    while (k < nc && codes[k] != p->site_class[i]) ++k;
    if (k == nc) {
      codes[nc] = p->site_class[i];
      counts[nc++] = 0;
    }
    counts[k]++;
  }
  for (int a = 1; a < nc; ++a)
    for (int b = a; b > 0 && codes[b - 1] > codes[b]; --b) {
      long long t = codes[b];
      codes[b] = codes[b - 1];
      codes[b - 1] = t;
      t = counts[b];
      counts[b] = counts[b - 1];
      counts[b - 1] = t;
    }
  long long g = 0;
  for (int k = 0; k < nc; ++k) g = ms__match_gcd(g, counts[k]);
  uint64_t h = 1469598103934665603ULL;
  for (int k = 0; k < nc; ++k) {
    long long red = counts[k] / g;
    h = fnv(h, &codes[k], sizeof codes[k]);
    h = fnv(h, &red, sizeof red);
  }
  h = fnv(h, &N, sizeof N);
  p->key = h;
  p->nclass = nc;
  double lens[3], cv = cbrt(p->volume);
  for (int k = 0; k < 3; ++k) lens[k] = ms__match_norm3(r->lattice[k]);
  qsort(lens, 3, sizeof lens[0], cmp_double);
  for (int k = 0; k < 3; ++k) p->log_minima[k] = log(lens[k] / cv);
  e = nn_fingerprint(r, p->nn);
  if (e) {
    ms_match_prep_free(p);
    MS_CALL(e);
  }
  if (ms_cell_formula(r, 1, p->formula, sizeof p->formula)) {
    ms_err_clear();
    snprintf(p->formula, sizeof p->formula, "?");
  }
  return MS_SUCCESS;
}

ms_err ms_match_prepare(const ms_cell *c, const ms_match_options *o, ms_match_prep *p) {
  return ms__match_prepare(c, o, 1, p);
}

