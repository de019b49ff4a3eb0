/* Powder X-ray diffraction peaks (kinematic theory); the model is documented in xrd.h.
 *
 * Enumeration. With lattice rows L, the crystallographic reciprocal vectors are the rows of
 * (L^-1)^T, so |g|² = h^T G* h with G* = (L L^T)^-1. Since h_i = g · a_i, every point with
 * |g| <= g_max has |h_i| <= g_max |a_i|: that box is scanned and the points inside the shell
 * are kept. They are sorted by |g| (ties: by decreasing h, k, l, the order pymatgen uses) so
 * that merging takes the same first reflection of a peak as pymatgen does; it only matters
 * for which 2θ and d a peak reports within merge_tol_deg.
 *
 * Merging. A reflection joins the earliest peak whose 2θ (that of its first reflection) is
 * within the tolerance, otherwise it starts a new one. Reflections come in increasing 2θ, so
 * only the last few peaks can be within the tolerance; they are scanned back to the first
 * one that is not.
 *
 * Structure factors are summed with cos/sin of 2π (h·x mod 1): reducing the phase first keeps
 * the rounding of large h·x out of the sum, so systematic absences cancel to ~1e-15 of the
 * allowed reflections and min_intensity removes them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/xrd_scattering.h"
#include "matscreen/species.h"
#include "matscreen/xrd.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* 8 π² a0 in Å (Mott-Bethe), the constant of pymatgen's scattering-factor formula. */
#define MOTT_BETHE 41.78214
/* Box of candidate reflections above which we refuse (the direct sum would take hours). */
#define MAX_BOX 2.0e8

typedef struct {
  int h[3];
  double g; /* |g| = 1/d, 1/Å */
} refl;

typedef struct {
  double two_theta, d, intensity;
  int hkl[3];
  int mult;
} peak_acc;

void ms_xrd_options_default(ms_xrd_options *o) {
  if (!o) return;
  o->wavelength_A = MS_XRD_CU_KALPHA;
  o->two_theta_min_deg = 0.0;
  o->two_theta_max_deg = 90.0;
  o->merge_tol_deg = 1e-5;
  o->min_intensity = 1e-3;
}

static ms_err check_options(const ms_xrd_options *o) {
  MS_CHECK(isfinite(o->wavelength_A) && o->wavelength_A > 0, MS_ERR_ARG,
           "xrd: wavelength_A must be a positive number (got %g)", o->wavelength_A);
  MS_CHECK(isfinite(o->two_theta_min_deg) && isfinite(o->two_theta_max_deg) &&
               o->two_theta_min_deg >= 0 && o->two_theta_min_deg < o->two_theta_max_deg &&
               o->two_theta_max_deg < 180,
           MS_ERR_ARG,
           "xrd: need 0 <= two_theta_min_deg < two_theta_max_deg < 180 (got %g, %g)",
           o->two_theta_min_deg, o->two_theta_max_deg);
  MS_CHECK(isfinite(o->merge_tol_deg) && o->merge_tol_deg >= 0, MS_ERR_ARG,
           "xrd: merge_tol_deg must be >= 0 (got %g)", o->merge_tol_deg);
  MS_CHECK(isfinite(o->min_intensity) && o->min_intensity >= 0 && o->min_intensity < 100,
           MS_ERR_ARG, "xrd: min_intensity must be in [0, 100) (got %g)", o->min_intensity);
  return MS_SUCCESS;
}

/* Lexicographic order of Miller indices. */
static int hkl_cmp(const int a[3], const int b[3]) {
  for (int i = 0; i < 3; ++i)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/* By |g|, then by decreasing h, k, l (pymatgen's order). */
static int refl_cmp(const void *pa, const void *pb) {
  const refl *a = pa, *b = pb;
  if (a->g != b->g) return a->g < b->g ? -1 : 1;
  return -hkl_cmp(a->h, b->h);
}

/* All reflections with g_min <= |g| <= g_max, g != 0, sorted. */
static ms_err enumerate(const ms_cell *cell, double gmin, double gmax, refl **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  double inv[3][3], gs[3][3];
  double det = ms_mat3_inv(cell->lattice, inv);
  MS_CHECK(det != 0, MS_ERR_INPUT, "xrd: singular lattice");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      gs[i][j] = 0;
      for (int k = 0; k < 3; ++k) gs[i][j] += inv[k][i] * inv[k][j];
    }
  int nmax[3];
  double box = 1;
  for (int i = 0; i < 3; ++i) {
    const double *a = cell->lattice[i];
    double len = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    /* The small margin keeps a reflection exactly on the sphere from being lost to rounding
     * of g_max |a_i| (it is then tested against g_max itself). */
    double hm = floor(gmax * len * (1 + 1e-12) + 1e-9);
    box *= 2 * hm + 1;
    MS_CHECK(box <= MAX_BOX, MS_ERR_INPUT,
             "xrd: the cell is too large for a direct sum (more than %.0e candidate "
             "reflections; volume %.4g Å^3)", MAX_BOX, ms_cell_volume(cell));
    nmax[i] = (int)hm;
  }
  /* The sphere holds about 4/3 π g_max³ V points: start with that and grow if needed. */
  double expect = 4.0 / 3 * M_PI * gmax * gmax * gmax * fabs(det) * 1.1 + 64;
  size_t cap = (size_t)fmin(expect, box), n = 0;
  refl *r = NULL;
  MS_CALL(MS_CALLOC(cap, &r));
  double gmax2 = gmax * gmax, gmin2 = gmin * gmin;
  for (int h = -nmax[0]; h <= nmax[0]; ++h)
    for (int k = -nmax[1]; k <= nmax[1]; ++k)
      for (int l = -nmax[2]; l <= nmax[2]; ++l) {
        if (h == 0 && k == 0 && l == 0) continue;
        double v[3] = {h, k, l};
        double g2 = 0;
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) g2 += v[i] * gs[i][j] * v[j];
        if (g2 > gmax2 || g2 < gmin2) continue;
        if (n == cap) {
          ms_err e = MS_REALLOC(2 * cap, &r);
          if (e != MS_SUCCESS) {
            free(r);
            MS_CALL(e);
          }
          cap *= 2;
        }
        r[n].h[0] = h;
        r[n].h[1] = k;
        r[n].h[2] = l;
        r[n].g = sqrt(g2);
        ++n;
      }
  qsort(r, n, sizeof *r, refl_cmp);
  *out = r;
  *nout = n;
  return MS_SUCCESS;
}

/* |F|² of reflection h: f[kind] are the scattering factors at this |g|. */
static double structure_factor2(const ms_cell *cell, const int h[3], const double *f) {
  double re = 0, im = 0;
  for (int j = 0; j < cell->natoms; ++j) {
    const double *x = cell->frac[j];
    double p = h[0] * x[0] + h[1] * x[1] + h[2] * x[2];
    p -= floor(p);
    double ph = 2 * M_PI * p;
    re += f[cell->kind[j]] * cos(ph);
    im += f[cell->kind[j]] * sin(ph);
  }
  return re * re + im * im;
}

/* Intensities of the sorted reflections @p r, merged into peaks acc[0 .. *nacc). */
static void merge_peaks(const ms_cell *cell, const ms_xrd_options *o, const refl *r, size_t n,
                        peak_acc *acc, size_t *nacc) {
  double f[MS_CELL_MAX_KINDS];
  double lambda = o->wavelength_A;
  size_t np = 0;
  for (size_t m = 0; m < n; ++m) {
    double s = r[m].g / 2, s2 = s * s;
    for (int t = 0; t < cell->nkinds; ++t) {
      const ms_xrd_sf_coeffs *c = &ms_xrd_sf[cell->species[t].Z];
      double sum = 0;
      for (int i = 0; i < 4; ++i) sum += c->a[i] * exp(-c->b[i] * s2);
      f[t] = cell->species[t].Z - MOTT_BETHE * s2 * sum;
    }
    double sin_t = lambda * s;
    if (sin_t > 1) sin_t = 1; /* rounding at g = 2/λ */
    double theta = asin(sin_t);
    double c2t = cos(2 * theta);
    double lp = (1 + c2t * c2t) / (sin_t * sin_t * cos(theta));
    double inten = structure_factor2(cell, r[m].h, f) * lp;
    double tt = 2 * theta * 180 / M_PI;
    /* Earliest peak within the tolerance (peaks are in increasing 2θ). */
    size_t hit = np;
    for (size_t q = np; q-- > 0;) {
      if (fabs(tt - acc[q].two_theta) < o->merge_tol_deg)
        hit = q;
      else if (tt - acc[q].two_theta >= o->merge_tol_deg)
        break;
    }
    if (hit == np) {
      acc[np].two_theta = tt;
      acc[np].d = 1 / r[m].g;
      acc[np].intensity = inten;
      memcpy(acc[np].hkl, r[m].h, sizeof acc[np].hkl);
      acc[np].mult = 1;
      ++np;
    } else {
      acc[hit].intensity += inten;
      acc[hit].mult += 1;
      if (hkl_cmp(r[m].h, acc[hit].hkl) > 0) memcpy(acc[hit].hkl, r[m].h, sizeof acc[hit].hkl);
    }
  }
  *nacc = np;
}

ms_err ms_xrd_pattern(const ms_cell *cell, const ms_xrd_options *o, ms_xrd_peak **peaks,
                      size_t *npeaks) {
  MS_CHECK(peaks && npeaks, MS_ERR_ARG, "xrd: NULL output pointer");
  *peaks = NULL;
  *npeaks = 0;
  MS_CHECK(cell, MS_ERR_ARG, "xrd: NULL cell");
  ms_xrd_options def;
  if (!o) {
    ms_xrd_options_default(&def);
    o = &def;
  }
  MS_CALL(check_options(o));
  MS_CALL(ms_cell_validate(cell));
  for (int t = 0; t < cell->nkinds; ++t) {
    int Z = cell->species[t].Z;
    if (Z > MS_XRD_MAX_Z) {
      const ms_element *el = ms_element_by_z(Z);
      MS_FAIL(MS_ERR_INPUT,
              "xrd: no X-ray scattering coefficients for %s (Z = %d); the table covers "
              "Z = 1..%d", el ? el->symbol : "element", Z, MS_XRD_MAX_Z);
    }
  }
  double deg = M_PI / 180;
  double gmin = 2 * sin(o->two_theta_min_deg * deg / 2) / o->wavelength_A;
  double gmax = 2 * sin(o->two_theta_max_deg * deg / 2) / o->wavelength_A;

  refl *r = NULL;
  size_t n = 0;
  MS_CALL(enumerate(cell, gmin, gmax, &r, &n));
  peak_acc *acc = NULL;
  ms_xrd_peak *out = NULL;
  size_t keep = 0;
  ms_err e = n ? MS_CALLOC(n, &acc) : MS_SUCCESS;
  if (e == MS_SUCCESS && n > 0) {
    size_t np = 0;
    merge_peaks(cell, o, r, n, acc, &np);
    double imax = 0;
    for (size_t q = 0; q < np; ++q)
      if (acc[q].intensity > imax) imax = acc[q].intensity;
    /* imax is 0 only if every structure factor cancels; there are no peaks then. */
    if (imax > 0)
      for (size_t q = 0; q < np; ++q)
        if (acc[q].intensity / imax * 100 > o->min_intensity) ++keep;
    if (keep > 0) e = MS_CALLOC(keep, &out);
    if (e == MS_SUCCESS && keep > 0) {
      size_t k = 0;
      for (size_t q = 0; q < np; ++q) {
        double rel = acc[q].intensity / imax * 100;
        if (!(rel > o->min_intensity)) continue;
        out[k].two_theta_deg = acc[q].two_theta;
        out[k].d_A = acc[q].d;
        out[k].intensity = rel;
        memcpy(out[k].hkl, acc[q].hkl, sizeof out[k].hkl);
        out[k].multiplicity = acc[q].mult;
        ++k;
      }
    }
  }
  free(r);
  free(acc);
  if (e != MS_SUCCESS) {
    keep = 0;
    MS_CALL(e);
  }
  *peaks = out;
  *npeaks = keep;
  return MS_SUCCESS;
}

/* Append formatted text to a growing buffer. */
typedef struct {
  char *s;
  size_t len, cap;
} strbuf;

static ms_err sb_printf(strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

static ms_err sb_printf(strbuf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    MS_CHECK(w >= 0, MS_ERR_INTERNAL, "xrd: formatting JSON failed");
    if ((size_t)w < b->cap - b->len) {
      b->len += (size_t)w;
      return MS_SUCCESS;
    }
    size_t ncap = 2 * b->cap + (size_t)w + 1;
    MS_CALL(MS_REALLOC(ncap, &b->s));
    b->cap = ncap;
  }
}

ms_err ms_xrd_json(const ms_xrd_peak *p, size_t n, char **json) {
  MS_CHECK(json, MS_ERR_ARG, "xrd: NULL output pointer");
  *json = NULL;
  MS_CHECK(p || n == 0, MS_ERR_ARG, "xrd: NULL peaks with n = %zu", n);
  strbuf b = {NULL, 0, 0};
  b.cap = 64 + 128 * n;
  MS_CALL(MS_CALLOC(b.cap, &b.s));
  ms_err e = sb_printf(&b, "[");
  for (size_t i = 0; i < n && e == MS_SUCCESS; ++i)
    e = sb_printf(&b,
                  "%s{\"two_theta_deg\":%.10g,\"d_A\":%.10g,\"intensity\":%.10g,"
                  "\"hkl\":[%d,%d,%d],\"multiplicity\":%d}",
                  i ? "," : "", p[i].two_theta_deg, p[i].d_A, p[i].intensity, p[i].hkl[0],
                  p[i].hkl[1], p[i].hkl[2], p[i].multiplicity);
  if (e == MS_SUCCESS) e = sb_printf(&b, "]");
  if (e != MS_SUCCESS) {
    free(b.s);
    MS_CALL(e);
  }
  *json = b.s;
  return MS_SUCCESS;
}
