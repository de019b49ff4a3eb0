/* Crystal structure container and its geometry.
 *
 * Periodic distances are done exactly for any triclinic cell: fractional differences are
 * wrapped to [-1/2, 1/2] and then the neighbouring images are searched within bounds derived
 * from the perpendicular widths of the cell (ms_cell_image_bounds). Rounding the fractional
 * difference alone (the "minimum image convention") is wrong for skewed cells, where the
 * nearest image can be one or more cells away along a skewed axis. */
#include "matscreen/cell.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ms_cell_init(ms_cell *c) { memset(c, 0, sizeof *c); }

void ms_cell_free(ms_cell *c) {
  if (!c) return;
  free(c->frac);
  free(c->kind);
  ms_cell_init(c);
}

ms_err ms_cell_reserve(ms_cell *c, int n) {
  MS_CHECK(n >= 0, MS_ERR_ARG, "negative number of sites (%d)", n);
  if (n <= c->capacity) return MS_SUCCESS;
  int cap = c->capacity ? c->capacity : 8;
  while (cap < n) cap = cap > (1 << 29) ? n : 2 * cap;
  MS_CALL(MS_REALLOC((size_t)cap, &c->frac));
  MS_CALL(MS_REALLOC((size_t)cap, &c->kind));
  c->capacity = cap;
  return MS_SUCCESS;
}

ms_err ms_cell_copy(ms_cell *dst, const ms_cell *src) {
  if (dst == src) return MS_SUCCESS;
  ms_cell_free(dst);
  memcpy(dst->lattice, src->lattice, sizeof dst->lattice);
  dst->nkinds = src->nkinds;
  memcpy(dst->species, src->species, sizeof dst->species);
  memcpy(dst->label, src->label, sizeof dst->label);
  MS_CALL(ms_cell_reserve(dst, src->natoms));
  if (src->natoms) {
    memcpy(dst->frac, src->frac, sizeof(double[3]) * (size_t)src->natoms);
    memcpy(dst->kind, src->kind, sizeof(int) * (size_t)src->natoms);
  }
  dst->natoms = src->natoms;
  return MS_SUCCESS;
}

void ms_cell_set_lattice(ms_cell *c, const double lattice[3][3]) {
  memcpy(c->lattice, lattice, sizeof c->lattice);
}

ms_err ms_cell_add_species(ms_cell *c, const ms_species *sp, int *kind) {
  for (int k = 0; k < c->nkinds; ++k) {
    if (ms_species_equal(&c->species[k], sp)) {
      *kind = k;
      return MS_SUCCESS;
    }
  }
  MS_CHECK(c->nkinds < MS_CELL_MAX_KINDS, MS_ERR_INPUT,
           "structure has more than %d distinct species", MS_CELL_MAX_KINDS);
  c->species[c->nkinds] = *sp;
  *kind = c->nkinds++;
  return MS_SUCCESS;
}

ms_err ms_cell_add_site(ms_cell *c, int kind, const double frac[3]) {
  MS_CHECK(kind >= 0 && kind < c->nkinds, MS_ERR_ARG, "species index %d out of range [0, %d)",
           kind, c->nkinds);
  MS_CHECK(c->natoms < (1 << 30), MS_ERR_INPUT, "too many sites");
  MS_CALL(ms_cell_reserve(c, c->natoms + 1));
  memcpy(c->frac[c->natoms], frac, sizeof(double[3]));
  c->kind[c->natoms] = kind;
  c->natoms++;
  return MS_SUCCESS;
}

ms_err ms_cell_add_atom(ms_cell *c, const ms_species *sp, const double frac[3]) {
  int kind = 0;
  MS_CALL(ms_cell_add_species(c, sp, &kind));
  MS_CALL(ms_cell_add_site(c, kind, frac));
  return MS_SUCCESS;
}

ms_err ms_cell_remove_site(ms_cell *c, int i) {
  MS_CHECK(i >= 0 && i < c->natoms, MS_ERR_ARG, "site %d out of range [0, %d)", i, c->natoms);
  memmove(c->frac + i, c->frac + i + 1, sizeof(double[3]) * (size_t)(c->natoms - i - 1));
  memmove(c->kind + i, c->kind + i + 1, sizeof(int) * (size_t)(c->natoms - i - 1));
  c->natoms--;
  return MS_SUCCESS;
}

double ms_mat3_det(const double m[3][3]) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

double ms_mat3_inv(const double m[3][3], double inv[3][3]) {
  double d = ms_mat3_det(m);
  if (d == 0.0) return 0.0;
  inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / d;
  inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / d;
  inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / d;
  inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / d;
  inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / d;
  inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / d;
  inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / d;
  inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / d;
  inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / d;
  return d;
}

double ms_cell_det(const ms_cell *c) { return ms_mat3_det(c->lattice); }
double ms_cell_volume(const ms_cell *c) { return fabs(ms_mat3_det(c->lattice)); }

void ms_cell_frac_to_cart(const ms_cell *c, const double f[3], double r[3]) {
  for (int j = 0; j < 3; ++j)
    r[j] = f[0] * c->lattice[0][j] + f[1] * c->lattice[1][j] + f[2] * c->lattice[2][j];
}

void ms_cell_cart_to_frac(const ms_cell *c, const double r[3], double f[3]) {
  double inv[3][3] = {{0}};
  ms_mat3_inv(c->lattice, inv);
  for (int i = 0; i < 3; ++i) f[i] = r[0] * inv[0][i] + r[1] * inv[1][i] + r[2] * inv[2][i];
}

void ms_cell_site_cart(const ms_cell *c, int i, double r[3]) { ms_cell_frac_to_cart(c, c->frac[i], r); }

static double norm3(const double v[3]) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }
static double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static void cross3(const double a[3], const double b[3], double out[3]) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

#define RAD2DEG (180.0 / 3.14159265358979323846)
#define DEG2RAD (3.14159265358979323846 / 180.0)

void ms_cell_parameters(const ms_cell *c, double abc[3], double angles[3]) {
  for (int k = 0; k < 3; ++k) abc[k] = norm3(c->lattice[k]);
  const int pairs[3][2] = {{1, 2}, {0, 2}, {0, 1}};
  for (int k = 0; k < 3; ++k) {
    int p = pairs[k][0], q = pairs[k][1];
    double cosang = dot3(c->lattice[p], c->lattice[q]) / (abc[p] * abc[q]);
    if (cosang > 1) cosang = 1;
    if (cosang < -1) cosang = -1;
    angles[k] = acos(cosang) * RAD2DEG;
  }
}

/* cos of an angle given in degrees, with the exact values at multiples of 90 degrees so that
 * a cubic cell built from parameters has exact zeros off the diagonal. */
static double cos_deg(double deg) {
  double r = fmod(deg, 360.0);
  if (r == 90.0 || r == 270.0) return 0.0;
  if (r == 0.0) return 1.0;
  if (r == 180.0) return -1.0;
  return cos(deg * DEG2RAD);
}

ms_err ms_lattice_from_parameters(const double abc[3], const double ang[3], double L[3][3]) {
  for (int k = 0; k < 3; ++k) {
    MS_CHECK(isfinite(abc[k]) && abc[k] > 0, MS_ERR_INPUT,
             "cell length %c must be a positive number, got %g", "abc"[k], abc[k]);
    MS_CHECK(isfinite(ang[k]) && ang[k] > 0 && ang[k] < 180, MS_ERR_INPUT,
             "cell angle %s must be in (0, 180) degrees, got %g",
             k == 0 ? "alpha" : (k == 1 ? "beta" : "gamma"), ang[k]);
  }
  double ca = cos_deg(ang[0]), cb = cos_deg(ang[1]), cg = cos_deg(ang[2]);
  double sg = sin(ang[2] * DEG2RAD);
  if (ang[2] == 90.0) sg = 1.0;
  double cx = cb;
  double cy = (ca - cb * cg) / sg;
  double cz2 = 1.0 - cx * cx - cy * cy;
  MS_CHECK(cz2 > 1e-12, MS_ERR_INPUT,
           "cell angles alpha=%g beta=%g gamma=%g do not form a valid cell", ang[0], ang[1],
           ang[2]);
  memset(L, 0, sizeof(double[3][3]));
  L[0][0] = abc[0];
  L[1][0] = abc[1] * cg;
  L[1][1] = abc[1] * sg;
  L[2][0] = abc[2] * cx;
  L[2][1] = abc[2] * cy;
  L[2][2] = abc[2] * sqrt(cz2);
  return MS_SUCCESS;
}

ms_err ms_cell_validate(const ms_cell *c) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      MS_CHECK(isfinite(c->lattice[i][j]), MS_ERR_INPUT, "lattice vector %c is not finite",
               "abc"[i]);
  double v = ms_cell_volume(c);
  double vmin = 1e-3;
  if (c->natoms * 1e-6 > vmin) vmin = c->natoms * 1e-6;
  MS_CHECK(v > vmin, MS_ERR_INPUT, "cell volume %.6g Å^3 is zero or too small (lattice is degenerate)", v);
  MS_CHECK(c->natoms >= 0, MS_ERR_INPUT, "negative number of sites");
  for (int k = 0; k < c->nkinds; ++k)
    MS_CHECK(c->species[k].Z >= 1 && c->species[k].Z <= MS_MAX_Z, MS_ERR_INPUT,
             "species %d has atomic number %d outside 1..%d", k, c->species[k].Z, MS_MAX_Z);
  for (int i = 0; i < c->natoms; ++i) {
    MS_CHECK(isfinite(c->frac[i][0]) && isfinite(c->frac[i][1]) && isfinite(c->frac[i][2]),
             MS_ERR_INPUT, "site %d has a non-finite coordinate", i + 1);
    MS_CHECK(fabs(c->frac[i][0]) < 1e6 && fabs(c->frac[i][1]) < 1e6 && fabs(c->frac[i][2]) < 1e6,
             MS_ERR_INPUT, "site %d lies absurdly far outside the cell", i + 1);
    MS_CHECK(c->kind[i] >= 0 && c->kind[i] < c->nkinds, MS_ERR_INPUT,
             "site %d has species index %d out of range", i + 1, c->kind[i]);
  }
  return MS_SUCCESS;
}

static double wrap01(double x) {
  double y = x - floor(x);
  /* floor can leave exactly 1.0 for tiny negative x; keep the documented half-open range. */
  return y >= 1.0 ? 0.0 : y;
}

void ms_cell_wrap(ms_cell *c) {
  for (int i = 0; i < c->natoms; ++i)
    for (int k = 0; k < 3; ++k) c->frac[i][k] = wrap01(c->frac[i][k]);
}

void ms_cell_widths(const ms_cell *c, double w[3]) {
  double v = ms_cell_volume(c);
  for (int k = 0; k < 3; ++k) {
    double x[3];
    cross3(c->lattice[(k + 1) % 3], c->lattice[(k + 2) % 3], x);
    double a = norm3(x);
    w[k] = a > 0 ? v / a : 0.0;
  }
}

void ms_cell_image_bounds(const ms_cell *c, double cutoff, int nmax[3]) {
  /* For v = (df + n)·L, the k-th fractional component is v·b*_k with |b*_k| = 1/w_k, so
   * |df_k + n_k| <= cutoff / w_k and hence |n_k| <= cutoff / w_k + 1/2. */
  double w[3];
  ms_cell_widths(c, w);
  for (int k = 0; k < 3; ++k) {
    double b = w[k] > 0 ? cutoff / w[k] + 0.5 : 0.0;
    nmax[k] = b > 1e6 ? 1000000 : (int)floor(b + 1e-9);
  }
}

static double wrap_half(double x) { return x - floor(x + 0.5); }

double ms_cell_distance(const ms_cell *c, int i, int j, double vec[3]) {
  double df[3];
  for (int k = 0; k < 3; ++k) df[k] = wrap_half(c->frac[j][k] - c->frac[i][k]);
  double d0[3];
  ms_cell_frac_to_cart(c, df, d0);
  double best = norm3(d0);
  double bestv[3] = {d0[0], d0[1], d0[2]};
  double search = best;
  if (i == j) {
    /* A site's nearest image is at most the shortest lattice vector away. */
    search = fmin(norm3(c->lattice[0]), fmin(norm3(c->lattice[1]), norm3(c->lattice[2])));
    best = INFINITY;
  }
  int nmax[3];
  ms_cell_image_bounds(c, search, nmax);
  for (int a = -nmax[0]; a <= nmax[0]; ++a)
    for (int b = -nmax[1]; b <= nmax[1]; ++b)
      for (int g = -nmax[2]; g <= nmax[2]; ++g) {
        if (i == j && a == 0 && b == 0 && g == 0) continue;
        double f[3] = {df[0] + a, df[1] + b, df[2] + g}, d[3];
        ms_cell_frac_to_cart(c, f, d);
        double r = norm3(d);
        if (r < best) {
          best = r;
          memcpy(bestv, d, sizeof bestv);
        }
      }
  if (vec) memcpy(vec, bestv, sizeof bestv);
  return best;
}

int ms_cell_foreach_pair(const ms_cell *c, double cutoff, ms_pair_fn fn, void *ctx) {
  int nmax[3];
  ms_cell_image_bounds(c, cutoff, nmax);
  double rc2 = cutoff * cutoff;
  for (int i = 0; i < c->natoms; ++i)
    for (int j = i; j < c->natoms; ++j) {
      double df[3];
      for (int k = 0; k < 3; ++k) df[k] = wrap_half(c->frac[j][k] - c->frac[i][k]);
      for (int a = -nmax[0]; a <= nmax[0]; ++a)
        for (int b = -nmax[1]; b <= nmax[1]; ++b)
          for (int g = -nmax[2]; g <= nmax[2]; ++g) {
            if (i == j) {
              /* Count each self-image pair once: keep n > 0 lexicographically. */
              if (a < 0 || (a == 0 && (b < 0 || (b == 0 && g <= 0)))) continue;
            }
            double f[3] = {df[0] + a, df[1] + b, df[2] + g}, d[3];
            ms_cell_frac_to_cart(c, f, d);
            double r2 = dot3(d, d);
            if (r2 > rc2 || r2 == 0.0) continue;
            int rc = fn(i, j, d, sqrt(r2), ctx);
            if (rc) return rc;
          }
    }
  return 0;
}

double ms_cell_min_distance(const ms_cell *c, int *i_out, int *j_out) {
  double best = INFINITY;
  int bi = -1, bj = -1;
  for (int i = 0; i < c->natoms; ++i)
    for (int j = i; j < c->natoms; ++j) {
      double r = ms_cell_distance(c, i, j, NULL);
      if (r < best) {
        best = r;
        bi = i;
        bj = j;
      }
    }
  if (i_out) *i_out = bi;
  if (j_out) *j_out = bj;
  return best;
}

ms_err ms_cell_supercell(const ms_cell *src, const int M[3][3], ms_cell *dst) {
  double Md[3][3], Minv[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Md[i][j] = M[i][j];
  double det = ms_mat3_inv(Md, Minv);
  MS_CHECK(det > 0.5, MS_ERR_ARG, "supercell matrix must have a positive determinant, got %g", det);
  long long nimg = llround(det);
  MS_CHECK((long long)src->natoms * nimg < (1LL << 30), MS_ERR_ARG,
           "supercell of %lld x %d sites is too large", nimg, src->natoms);

  /* Lattice points t (old fractional, integer) inside the supercell: t M^-1 in [0, 1)^3.
   * They lie in the bounding box of the supercell's corners expressed in the old basis. */
  int lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  for (int corner = 0; corner < 8; ++corner) {
    int v[3] = {0, 0, 0};
    for (int r = 0; r < 3; ++r)
      if (corner & (1 << r))
        for (int k = 0; k < 3; ++k) v[k] += M[r][k];
    for (int k = 0; k < 3; ++k) {
      if (v[k] < lo[k]) lo[k] = v[k];
      if (v[k] > hi[k]) hi[k] = v[k];
    }
  }
  double (*shift)[3] = NULL;
  MS_CALL(MS_CALLOC((size_t)nimg, &shift));
  long long found = 0;
  const double eps = 1e-9;
  for (int a = lo[0]; a <= hi[0]; ++a)
    for (int b = lo[1]; b <= hi[1]; ++b)
      for (int g = lo[2]; g <= hi[2]; ++g) {
        double f[3];
        for (int k = 0; k < 3; ++k) f[k] = a * Minv[0][k] + b * Minv[1][k] + g * Minv[2][k];
        if (f[0] < -eps || f[1] < -eps || f[2] < -eps || f[0] >= 1 - eps || f[1] >= 1 - eps ||
            f[2] >= 1 - eps)
          continue;
        if (found < nimg) {
          for (int k = 0; k < 3; ++k) shift[found][k] = f[k] < 0 ? 0.0 : f[k];
        }
        found++;
      }
  if (found != nimg) {
    free(shift);
    MS_FAIL(MS_ERR_INTERNAL, "supercell enumeration found %lld lattice points, expected %lld",
            found, nimg);
  }

  ms_cell_free(dst);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      dst->lattice[i][j] = M[i][0] * src->lattice[0][j] + M[i][1] * src->lattice[1][j] +
                           M[i][2] * src->lattice[2][j];
  dst->nkinds = src->nkinds;
  memcpy(dst->species, src->species, sizeof dst->species);
  memcpy(dst->label, src->label, sizeof dst->label);
  ms_err e = ms_cell_reserve(dst, (int)(src->natoms * nimg));
  if (e) {
    free(shift);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  for (int s = 0; s < src->natoms; ++s) {
    double f0[3];
    for (int k = 0; k < 3; ++k)
      f0[k] = src->frac[s][0] * Minv[0][k] + src->frac[s][1] * Minv[1][k] +
              src->frac[s][2] * Minv[2][k];
    for (long long t = 0; t < nimg; ++t) {
      double *f = dst->frac[dst->natoms];
      for (int k = 0; k < 3; ++k) f[k] = wrap01(f0[k] + shift[t][k]);
      dst->kind[dst->natoms] = src->kind[s];
      dst->natoms++;
    }
  }
  free(shift);
  return MS_SUCCESS;
}

ms_err ms_cell_supercell_diag(const ms_cell *src, int n0, int n1, int n2, ms_cell *dst) {
  const int M[3][3] = {{n0, 0, 0}, {0, n1, 0}, {0, 0, n2}};
  MS_CALL(ms_cell_supercell(src, M, dst));
  return MS_SUCCESS;
}

static long long gcdll(long long a, long long b) {
  while (b) {
    long long t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

ms_err ms_cell_formula(const ms_cell *c, int reduced, char *buf, size_t len) {
  long long count[MS_MAX_Z + 1] = {0};
  for (int i = 0; i < c->natoms; ++i) {
    int Z = c->species[c->kind[i]].Z;
    MS_CHECK(Z >= 1 && Z <= MS_MAX_Z, MS_ERR_INPUT, "site %d has invalid atomic number %d", i + 1, Z);
    count[Z]++;
  }
  long long g = 0;
  int zs[MS_MAX_Z], nz = 0;
  for (int Z = 1; Z <= MS_MAX_Z; ++Z)
    if (count[Z]) {
      g = gcdll(g, count[Z]);
      zs[nz++] = Z;
    }
  if (!reduced || g == 0) g = 1;
  /* Order by electronegativity (elements without one last), ties by atomic number, as
   * pymatgen's Composition.formula does; insertion sort over at most a few elements. */
  for (int a = 1; a < nz; ++a) {
    int z = zs[a], b = a - 1;
    const ms_element *ez = ms_element_by_z(z);
    double xz = ez && !isnan(ez->electronegativity) ? ez->electronegativity : 1e9;
    while (b >= 0) {
      const ms_element *eb = ms_element_by_z(zs[b]);
      double xb = eb && !isnan(eb->electronegativity) ? eb->electronegativity : 1e9;
      if (xb < xz || (xb == xz && zs[b] < z)) break;
      zs[b + 1] = zs[b];
      --b;
    }
    zs[b + 1] = z;
  }
  size_t used = 0;
  if (len) buf[0] = '\0';
  for (int a = 0; a < nz; ++a) {
    const ms_element *e = ms_element_by_z(zs[a]);
    char sym[8];
    if (e)
      snprintf(sym, sizeof sym, "%s", e->symbol);
    else
      snprintf(sym, sizeof sym, "Z%d", zs[a]);
    long long n = count[zs[a]] / g;
    int w = n == 1 ? snprintf(buf + used, len - used, "%s", sym)
                   : snprintf(buf + used, len - used, "%s%lld", sym, n);
    MS_CHECK(w >= 0 && (size_t)w < len - used, MS_ERR_ARG, "formula buffer too small");
    used += (size_t)w;
  }
  return MS_SUCCESS;
}

double ms_cell_net_charge(const ms_cell *c, int *all_known) {
  double q = 0.0;
  int known = 1;
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *s = &c->species[c->kind[i]];
    if (s->has_ox)
      q += s->ox;
    else
      known = 0;
  }
  if (all_known) *all_known = known;
  return q;
}

void ms_cell_list_init(ms_cell_list *l) { memset(l, 0, sizeof *l); }

void ms_cell_list_free(ms_cell_list *l) {
  for (int k = 0; k < l->n; ++k) ms_cell_free(&l->cells[k]);
  free(l->cells);
  ms_cell_list_init(l);
}

ms_err ms_cell_list_push(ms_cell_list *l, ms_cell **out) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 4;
    MS_CALL(MS_REALLOC((size_t)cap, &l->cells));
    l->cap = cap;
  }
  ms_cell_init(&l->cells[l->n]);
  *out = &l->cells[l->n++];
  return MS_SUCCESS;
}
