/* Space-group operations from spglib's database, and Wyckoff positions derived from them.
 *
 * spglib's C API gives the operations of every Hall setting but not the Wyckoff positions, so
 * they are derived here from the operations alone:
 *
 *  1. Every special position of the standard settings contains points whose fractional
 *     coordinates are multiples of 1/24 (translations are multiples of 1/12 and 1/8; fixed
 *     points of such operations have denominators dividing 24). On that grid, the stabiliser
 *     of each point is computed exactly in integer arithmetic: op g fixes x when
 *     R x + t - x is an integer vector n.
 *  2. Grid points are joined (union-find) when they lie in the same Wyckoff position, i.e.
 *     their site-symmetry groups are conjugate: (a) x and g(x) for every operation g (one
 *     orbit); (b) x and x + d/24 for each direction d of the fixed subspace of x's stabiliser
 *     H when x + d/24 has a stabiliser of the same order (then it is H itself); (c) points
 *     whose stabilisers are identical as sets of affine maps (same operations, same n).
 *  3. Each class is one Wyckoff position: multiplicity = |G| / |H|, a representative point,
 *     and an integer basis of the lattice vectors in its fixed subspace (shortest vectors
 *     whose cross product is primitive, so p + sum u_k d_k, u in [0,1), covers it once).
 *
 * The derivation is checked in tests/unit/test_generator.c: 1731 positions over the 230
 * groups (the count of the International Tables, vol. A), and for every group spglib assigns
 * our positions distinct Wyckoff letters with the general position last. */
#include "matscreen/wyckoff.h"

#include <math.h>
#include <spglib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/cell.h"

enum { GRID = 24 };

static const double deg_per_rad = 57.295779513082320876798;

/* ---- operations ------------------------------------------------------------------------ */

static int is_identity(const int R[3][3]) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (R[i][j] != (i == j)) return 0;
  return 1;
}

static int same_vec(const double a[3], const double b[3]) {
  for (int k = 0; k < 3; ++k) {
    double d = a[k] - b[k];
    d -= floor(d + 0.5);
    if (fabs(d) > 1e-6) return 0;
  }
  return 1;
}

/* The textbook primitive bases (International Tables vol. A, table 5.1.3.1) for the usual
 * centrings; a search over short lattice vectors for anything else. */
static ms_err primitive_basis(ms_spacegroup *g) {
  static const struct {
    int n;
    double c[3][3];
    double P[3][3];
  } known[] = {
      {2, {{0.5, 0.5, 0.5}}, {{-0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0.5, 0.5, -0.5}}}, /* I */
      {2, {{0.5, 0.5, 0}}, {{0.5, 0.5, 0}, {-0.5, 0.5, 0}, {0, 0, 1}}},               /* C */
      {2, {{0, 0.5, 0.5}}, {{1, 0, 0}, {0, 0.5, 0.5}, {0, -0.5, 0.5}}},               /* A */
      {2, {{0.5, 0, 0.5}}, {{0.5, 0, 0.5}, {0, 1, 0}, {-0.5, 0, 0.5}}},               /* B */
      {3,
       {{2. / 3, 1. / 3, 1. / 3}, {1. / 3, 2. / 3, 2. / 3}}, /* R */
       {{2. / 3, 1. / 3, 1. / 3}, {-1. / 3, 1. / 3, 1. / 3}, {-1. / 3, -2. / 3, 1. / 3}}},
      {4,
       {{0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}}, /* F */
       {{0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}}},
  };
  memset(g->to_primitive, 0, sizeof g->to_primitive);
  if (g->ncentring == 1) {
    for (int k = 0; k < 3; ++k) g->to_primitive[k][k] = 1;
    return MS_SUCCESS;
  }
  for (size_t t = 0; t < sizeof known / sizeof known[0]; ++t) {
    if (known[t].n != g->ncentring) continue;
    int all = 1;
    for (int a = 0; a < known[t].n - 1 && all; ++a) {
      int found = 0;
      for (int b = 1; b < g->ncentring; ++b) found |= same_vec(known[t].c[a], g->centring[b]);
      all = found;
    }
    if (all) {
      memcpy(g->to_primitive, known[t].P, sizeof g->to_primitive);
      return MS_SUCCESS;
    }
  }
  /* Other centrings (none in spglib's table, kept for safety): three short lattice vectors
   * whose determinant is 1/ncentring generate the centred lattice. */
  double cand[MS_SG_MAX_CENTRING * 27][3];
  int nc = 0;
  for (int c = 0; c < g->ncentring; ++c)
    for (int m = 0; m < 27; ++m) {
      double v[3] = {g->centring[c][0] + m % 3 - 1, g->centring[c][1] + (m / 3) % 3 - 1,
                     g->centring[c][2] + m / 9 - 1};
      if (v[0] * v[0] + v[1] * v[1] + v[2] * v[2] < 1e-12) continue;
      memcpy(cand[nc++], v, sizeof v);
    }
  for (int i = 0; i < nc; ++i)
    for (int j = i + 1; j < nc; ++j)
      for (int k = j + 1; k < nc; ++k) {
        double m[3][3];
        memcpy(m[0], cand[i], sizeof m[0]);
        memcpy(m[1], cand[j], sizeof m[1]);
        memcpy(m[2], cand[k], sizeof m[2]);
        double d = ms_mat3_det(m);
        if (fabs(fabs(d) - 1.0 / g->ncentring) < 1e-9) {
          if (d < 0)
            for (int q = 0; q < 3; ++q) m[2][q] = -m[2][q];
          memcpy(g->to_primitive, m, sizeof m);
          return MS_SUCCESS;
        }
      }
  MS_FAIL(MS_ERR_INTERNAL, "no primitive basis found for Hall setting %d", g->hall);
}

ms_err ms_spacegroup_load(int hall, ms_spacegroup *g) {
  MS_CHECK(hall >= 1 && hall <= 530, MS_ERR_INPUT, "Hall number must be in 1..530, got %d", hall);
  memset(g, 0, sizeof *g);
  int n = spg_get_symmetry_from_database(g->rot, g->trans, hall);
  MS_CHECK(n > 0 && n <= MS_SG_MAX_OPS, MS_ERR_INTERNAL,
           "spglib has no operations for Hall number %d", hall);
  SpglibSpacegroupType t = spg_get_spacegroup_type(hall);
  MS_CHECK(t.number >= 1 && t.number <= 230, MS_ERR_INTERNAL,
           "spglib has no space-group type for Hall number %d", hall);
  g->hall = hall;
  g->number = t.number;
  g->nops = n;
  size_t w = 0;
  for (const char *s = t.international_short; *s && w + 1 < sizeof g->symbol; ++s)
    if (*s != ' ') g->symbol[w++] = *s;
  g->symbol[w] = '\0';
  snprintf(g->choice, sizeof g->choice, "%s", t.choice);
  for (int k = 0; k < n; ++k)
    for (int q = 0; q < 3; ++q) {
      g->trans[k][q] -= floor(g->trans[k][q]);
      if (g->trans[k][q] > 1 - 1e-12) g->trans[k][q] = 0;
    }
  g->ncentring = 1; /* centring[0] is the zero vector */
  for (int k = 0; k < n; ++k) {
    if (!is_identity(g->rot[k])) continue;
    double *tv = g->trans[k];
    if (fabs(tv[0]) + fabs(tv[1]) + fabs(tv[2]) < 1e-12) continue;
    MS_CHECK(g->ncentring < MS_SG_MAX_CENTRING, MS_ERR_INTERNAL,
             "Hall setting %d has more than %d centring vectors", hall, MS_SG_MAX_CENTRING);
    memcpy(g->centring[g->ncentring++], tv, sizeof g->centring[0]);
  }
  return primitive_basis(g);
}

int ms_spacegroup_default_hall(int number) {
  /* spglib's table is ordered by space-group number; the first setting of each number is
   * found by a binary search on the (monotone) number of the Hall settings. */
  if (number < 1 || number > 230) return 0;
  int lo = 1, hi = 530;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (spg_get_spacegroup_type(mid).number < number)
      lo = mid + 1;
    else
      hi = mid;
  }
  return spg_get_spacegroup_type(lo).number == number ? lo : 0;
}

int ms_spacegroup_point_order(const ms_spacegroup *g) { return g->nops / g->ncentring; }

const char *ms_crystal_system(int n) {
  if (n < 1 || n > 230) return "";
  if (n <= 2) return "triclinic";
  if (n <= 15) return "monoclinic";
  if (n <= 74) return "orthorhombic";
  if (n <= 142) return "tetragonal";
  if (n <= 167) return "trigonal";
  if (n <= 194) return "hexagonal";
  return "cubic";
}

void ms_spacegroup_apply(const ms_spacegroup *g, int op, const double x[3], double y[3]) {
  for (int i = 0; i < 3; ++i)
    y[i] = g->rot[op][i][0] * x[0] + g->rot[op][i][1] * x[1] + g->rot[op][i][2] * x[2] +
           g->trans[op][i];
}

ms_err ms_spacegroup_orbit(const ms_spacegroup *g, const double x[3], double tol, double (*out)[3],
                           int cap, int *n) {
  *n = 0;
  for (int k = 0; k < g->nops; ++k) {
    double y[3];
    ms_spacegroup_apply(g, k, x, y);
    for (int q = 0; q < 3; ++q) {
      y[q] -= floor(y[q]);
      if (y[q] >= 1.0) y[q] = 0.0;
    }
    int dup = 0;
    for (int m = 0; m < *n && !dup; ++m) {
      double d2 = 0;
      for (int q = 0; q < 3; ++q) {
        double d = y[q] - out[m][q];
        d -= floor(d + 0.5);
        d2 += d * d;
      }
      dup = d2 <= tol * tol;
    }
    if (dup) continue;
    MS_CHECK(*n < cap, MS_ERR_ARG, "orbit larger than the %d points the caller allowed", cap);
    memcpy(out[(*n)++], y, sizeof y);
  }
  return MS_SUCCESS;
}

ms_err ms_spacegroup_lattice(const ms_spacegroup *g, const double g0[3][3], double volume,
                             double L[3][3]) {
  double G[3][3] = {{0}};
  for (int k = 0; k < g->nops; ++k) {
    const int(*R)[3] = g->rot[k];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        double s = 0;
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) s += R[a][i] * g0[a][b] * R[b][j];
        G[i][j] += s / g->nops;
      }
  }
  double abc[3], ang[3];
  for (int k = 0; k < 3; ++k) {
    MS_CHECK(G[k][k] > 0, MS_ERR_NUMERIC, "lattice metric is not positive definite");
    abc[k] = sqrt(G[k][k]);
  }
  ang[0] = acos(fmax(-1, fmin(1, G[1][2] / (abc[1] * abc[2])))) * deg_per_rad;
  ang[1] = acos(fmax(-1, fmin(1, G[0][2] / (abc[0] * abc[2])))) * deg_per_rad;
  ang[2] = acos(fmax(-1, fmin(1, G[0][1] / (abc[0] * abc[1])))) * deg_per_rad;
  ms_err e = ms_lattice_from_parameters(abc, ang, L);
  if (e != MS_SUCCESS) {
    ms_err_clear();
    MS_FAIL(MS_ERR_NUMERIC, "lattice metric is not positive definite");
  }
  if (volume > 0) {
    double s = cbrt(volume / fabs(ms_mat3_det(L)));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) L[i][j] *= s;
  }
  return MS_SUCCESS;
}

void ms_wyckoff_point(const ms_wyckoff *w, const double *u, double x[3]) {
  for (int q = 0; q < 3; ++q) {
    x[q] = w->point[q];
    for (int k = 0; k < w->dof; ++k) x[q] += u[k] * w->dir[k][q];
  }
}

void ms_wyckoff_set_free(ms_wyckoff_set *s) {
  if (!s) return;
  free(s->pos);
  free(s->ops_pool);
  memset(s, 0, sizeof *s);
}

/* ---- derivation of the Wyckoff positions ------------------------------------------------- */

static int uf_find(int *parent, int x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

static void uf_union(int *parent, int a, int b) {
  a = uf_find(parent, a);
  b = uf_find(parent, b);
  if (a == b) return;
  if (a < b)
    parent[b] = a;
  else
    parent[a] = b;
}

static int gcd3(int a, int b, int c) {
  a = abs(a), b = abs(b), c = abs(c);
  while (b) {
    int t = a % b;
    a = b;
    b = t;
  }
  while (c) {
    int t = a % c;
    a = c;
    c = t;
  }
  return a;
}

/* Integer basis of {v in Z^3 : R v = v for every R of the stabiliser} (see the file comment).
 * Returns the dimension. */
static int fixed_directions(const ms_spacegroup *g, const int *stab, int nstab, int dir[3][3]) {
  int cand[342][3], nk = 0;
  for (int m = 0; m < 343; ++m) {
    int v[3] = {m % 7 - 3, (m / 7) % 7 - 3, m / 49 - 3};
    if (!v[0] && !v[1] && !v[2]) continue;
    int ok = 1;
    for (int s = 0; s < nstab && ok; ++s) {
      const int(*R)[3] = g->rot[stab[s]];
      for (int i = 0; i < 3 && ok; ++i)
        ok = R[i][0] * v[0] + R[i][1] * v[1] + R[i][2] * v[2] == v[i];
    }
    if (ok) memcpy(cand[nk++], v, sizeof v);
  }
  /* Shortest first; ties by a fixed order so the basis is deterministic. Positive leading
   * component preferred. */
  for (int a = 1; a < nk; ++a) {
    int v[3];
    memcpy(v, cand[a], sizeof v);
    int nv = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    int b = a - 1;
    while (b >= 0) {
      int nb = cand[b][0] * cand[b][0] + cand[b][1] * cand[b][1] + cand[b][2] * cand[b][2];
      if (nb < nv) break;
      if (nb == nv) {
        int lead_v = v[0] ? v[0] : v[1] ? v[1] : v[2];
        int lead_b = cand[b][0] ? cand[b][0] : cand[b][1] ? cand[b][1] : cand[b][2];
        if (!(lead_v > 0 && lead_b < 0)) break;
      }
      memcpy(cand[b + 1], cand[b], sizeof v);
      --b;
    }
    memcpy(cand[b + 1], v, sizeof v);
  }
  if (nk == 0) return 0;
  memcpy(dir[0], cand[0], sizeof dir[0]);
  int second = -1;
  for (int k = 1; k < nk; ++k) {
    int *v = cand[k];
    int c[3] = {dir[0][1] * v[2] - dir[0][2] * v[1], dir[0][2] * v[0] - dir[0][0] * v[2],
                dir[0][0] * v[1] - dir[0][1] * v[0]};
    if (c[0] || c[1] || c[2]) {
      second = k;
      break;
    }
  }
  if (second < 0) return 1;
  /* Rank 2 or 3: a third independent vector means the whole space. */
  for (int k = 0; k < nk; ++k) {
    int *v = cand[k], *a = dir[0], *b = cand[second];
    long d = (long)a[0] * (b[1] * v[2] - b[2] * v[1]) - (long)a[1] * (b[0] * v[2] - b[2] * v[0]) +
             (long)a[2] * (b[0] * v[1] - b[1] * v[0]);
    if (d != 0) {
      int id[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
      memcpy(dir, id, sizeof id);
      return 3;
    }
  }
  for (int k = 1; k < nk; ++k) {
    int *v = cand[k];
    int c[3] = {dir[0][1] * v[2] - dir[0][2] * v[1], dir[0][2] * v[0] - dir[0][0] * v[2],
                dir[0][0] * v[1] - dir[0][1] * v[0]};
    if ((c[0] || c[1] || c[2]) && gcd3(c[0], c[1], c[2]) == 1) {
      memcpy(dir[1], v, sizeof dir[1]);
      return 2;
    }
  }
  memcpy(dir[1], cand[second], sizeof dir[1]); /* not reached for the standard settings */
  return 2;
}

static inline int gmod(int v) {
  v %= GRID;
  return v < 0 ? v + GRID : v;
}

static inline int gindex(const int x[3]) { return (x[0] * GRID + x[1]) * GRID + x[2]; }

static uint64_t mix64(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

typedef struct {
  int npts;
  int *order;  /* stabiliser order per grid point */
  int *kstart; /* start of the point's key in keys[] */
  uint32_t *keys;
  int *parent;
} wgrid;

static void wgrid_free(wgrid *w) {
  free(w->order);
  free(w->kstart);
  free(w->keys);
  free(w->parent);
}

static int cmp_pos(const void *pa, const void *pb) {
  const ms_wyckoff *a = pa, *b = pb;
  if (a->multiplicity != b->multiplicity) return a->multiplicity < b->multiplicity ? -1 : 1;
  if (a->dof != b->dof) return a->dof < b->dof ? -1 : 1;
  for (int q = 0; q < 3; ++q)
    if (a->point[q] != b->point[q]) return a->point[q] < b->point[q] ? -1 : 1;
  return 0;
}

ms_err ms_wyckoff_set_compute(const ms_spacegroup *g, ms_wyckoff_set *out) {
  memset(out, 0, sizeof *out);
  int T[MS_SG_MAX_OPS][3];
  for (int k = 0; k < g->nops; ++k)
    for (int q = 0; q < 3; ++q) {
      double t = g->trans[k][q] * GRID;
      T[k][q] = (int)lround(t);
      MS_CHECK(fabs(t - T[k][q]) < 1e-6, MS_ERR_INTERNAL,
               "Hall setting %d: translation %g is not a multiple of 1/%d", g->hall, g->trans[k][q],
               GRID);
    }
  wgrid w = {0};
  w.npts = GRID * GRID * GRID;
  w.order = calloc((size_t)w.npts, sizeof *w.order);
  w.kstart = calloc((size_t)w.npts + 1, sizeof *w.kstart);
  w.parent = malloc((size_t)w.npts * sizeof *w.parent);
  size_t kcap = (size_t)w.npts * 4, klen = 0;
  w.keys = malloc(kcap * sizeof *w.keys);
  if (!w.order || !w.kstart || !w.parent || !w.keys) {
    wgrid_free(&w);
    MS_FAIL(MS_ERR_MEM, "out of memory deriving Wyckoff positions");
  }
  for (int i = 0; i < w.npts; ++i) w.parent[i] = i;

  /* Pass 1: stabilisers, keys, orbit unions. */
  for (int idx = 0; idx < w.npts; ++idx) {
    int x[3] = {idx / (GRID * GRID), (idx / GRID) % GRID, idx % GRID};
    w.kstart[idx] = (int)klen;
    for (int k = 0; k < g->nops; ++k) {
      const int(*R)[3] = g->rot[k];
      int y[3], img[3];
      for (int i = 0; i < 3; ++i) {
        y[i] = R[i][0] * x[0] + R[i][1] * x[1] + R[i][2] * x[2] + T[k][i];
        img[i] = gmod(y[i]);
      }
      if (img[0] == x[0] && img[1] == x[1] && img[2] == x[2]) {
        w.order[idx]++;
        if (klen == kcap) {
          kcap *= 2;
          uint32_t *nk = realloc(w.keys, kcap * sizeof *nk);
          if (!nk) {
            wgrid_free(&w);
            MS_FAIL(MS_ERR_MEM, "out of memory deriving Wyckoff positions");
          }
          w.keys = nk;
        }
        /* n = (y - x) / GRID is in -4..4 for these operations. */
        uint32_t key = (uint32_t)k << 12;
        for (int i = 0; i < 3; ++i) key |= (uint32_t)((y[i] - x[i]) / GRID + 8) << (8 - 4 * i);
        w.keys[klen++] = key;
      } else {
        uf_union(w.parent, idx, gindex(img));
      }
    }
  }
  w.kstart[w.npts] = (int)klen;

  /* Pass 2: identical stabilisers (as affine maps), via a hash table of keys. */
  size_t hcap = 1;
  while (hcap < (size_t)w.npts * 2) hcap <<= 1;
  int *htab = malloc(hcap * sizeof *htab);
  if (!htab) {
    wgrid_free(&w);
    MS_FAIL(MS_ERR_MEM, "out of memory deriving Wyckoff positions");
  }
  for (size_t i = 0; i < hcap; ++i) htab[i] = -1;
  for (int idx = 0; idx < w.npts; ++idx) {
    int a = w.kstart[idx], na = w.kstart[idx + 1] - a;
    uint64_t h = (uint64_t)na;
    for (int k = 0; k < na; ++k) h = mix64(h, w.keys[a + k]);
    size_t slot = (size_t)h & (hcap - 1);
    for (;;) {
      int other = htab[slot];
      if (other < 0) {
        htab[slot] = idx;
        break;
      }
      int b = w.kstart[other], nb = w.kstart[other + 1] - b;
      if (na == nb && memcmp(&w.keys[a], &w.keys[b], (size_t)na * sizeof *w.keys) == 0) {
        uf_union(w.parent, idx, other);
        break;
      }
      slot = (slot + 1) & (hcap - 1);
    }
  }
  free(htab);

  /* Pass 3: steps along the fixed subspace of each point's stabiliser. The directions depend
   * only on the set of operations, cached by a hash of that set. */
  enum { DCACHE = 4096 };
  struct dcache_entry {
    uint64_t h;
    int used, dim;
    int dir[3][3];
  } *dc = calloc(DCACHE, sizeof *dc);
  if (!dc) {
    wgrid_free(&w);
    MS_FAIL(MS_ERR_MEM, "out of memory deriving Wyckoff positions");
  }
  /* The fixed directions depend only on the rotation parts: index the distinct rotations so
   * the cache key is the set of rotations (at most 48 bits). */
  int rot_id[MS_SG_MAX_OPS], nrot = 0, rot_rep[MS_SG_MAX_OPS];
  for (int k = 0; k < g->nops; ++k) {
    rot_id[k] = -1;
    for (int r = 0; r < nrot && rot_id[k] < 0; ++r)
      if (memcmp(g->rot[rot_rep[r]], g->rot[k], sizeof g->rot[k]) == 0) rot_id[k] = r;
    if (rot_id[k] < 0) {
      rot_rep[nrot] = k;
      rot_id[k] = nrot++;
    }
  }
  int stab[MS_SG_MAX_OPS];
  for (int idx = 0; idx < w.npts; ++idx) {
    int a = w.kstart[idx], na = w.kstart[idx + 1] - a;
    if (na == 1) { /* the identity alone: the general position, steps along the axes */
      int x[3] = {idx / (GRID * GRID), (idx / GRID) % GRID, idx % GRID};
      for (int d = 0; d < 3; ++d) {
        int y[3] = {x[0], x[1], x[2]};
        y[d] = gmod(y[d] + 1);
        int j = gindex(y);
        if (w.order[j] == 1) uf_union(w.parent, idx, j);
      }
      continue;
    }
    uint64_t rmask = 0;
    for (int k = 0; k < na; ++k) {
      stab[k] = (int)(w.keys[a + k] >> 12);
      rmask |= (uint64_t)1 << rot_id[stab[k]];
    }
    uint64_t h = mix64(0x1234, rmask);
    size_t slot = (size_t)h & (DCACHE - 1);
    int dim, dir[3][3];
    if (dc[slot].used && dc[slot].h == rmask) {
      dim = dc[slot].dim;
      memcpy(dir, dc[slot].dir, sizeof dir);
    } else {
      dim = fixed_directions(g, stab, na, dir);
      dc[slot].used = 1;
      dc[slot].h = rmask;
      dc[slot].dim = dim;
      memcpy(dc[slot].dir, dir, sizeof dir);
    }
    int x[3] = {idx / (GRID * GRID), (idx / GRID) % GRID, idx % GRID};
    for (int d = 0; d < dim; ++d)
      for (int s = -1; s <= 1; s += 2) {
        int y[3];
        for (int q = 0; q < 3; ++q) y[q] = gmod(x[q] + s * dir[d][q]);
        int j = gindex(y);
        if (w.order[j] == w.order[idx]) uf_union(w.parent, idx, j);
      }
  }

  /* Classes -> positions. */
  int nclass = 0;
  int *class_of_root = malloc((size_t)w.npts * sizeof *class_of_root);
  int *rep = malloc((size_t)w.npts * sizeof *rep);
  if (!class_of_root || !rep) {
    free(dc);
    free(class_of_root);
    free(rep);
    wgrid_free(&w);
    MS_FAIL(MS_ERR_MEM, "out of memory deriving Wyckoff positions");
  }
  for (int i = 0; i < w.npts; ++i) class_of_root[i] = -1;
  ms_err err = MS_SUCCESS;
  for (int idx = 0; idx < w.npts && !err; ++idx) {
    int r = uf_find(w.parent, idx);
    if (class_of_root[r] < 0) {
      class_of_root[r] = nclass;
      rep[nclass++] = idx;
    } else if (w.order[rep[class_of_root[r]]] != w.order[idx]) {
      err = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                        "Hall setting %d: inconsistent Wyckoff classes", g->hall);
    }
  }
  if (!err) {
    out->pos = calloc((size_t)nclass, sizeof *out->pos);
    size_t total = 0;
    for (int c = 0; c < nclass; ++c) total += (size_t)(g->nops / w.order[rep[c]]);
    out->ops_pool = malloc(total * sizeof *out->ops_pool);
    if (!out->pos || !out->ops_pool)
      err = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  double Pinv[3][3];
  ms_mat3_inv(g->to_primitive, Pinv);
  size_t used = 0;
  for (int c = 0; c < nclass && !err; ++c) {
    ms_wyckoff *p = &out->pos[c];
    int idx = rep[c];
    int a = w.kstart[idx], na = w.kstart[idx + 1] - a;
    for (int k = 0; k < na; ++k) stab[k] = (int)(w.keys[a + k] >> 12);
    p->site_order = w.order[idx];
    p->multiplicity = g->nops / p->site_order;
    p->point[0] = (double)(idx / (GRID * GRID)) / GRID;
    p->point[1] = (double)((idx / GRID) % GRID) / GRID;
    p->point[2] = (double)(idx % GRID) / GRID;
    p->dof = fixed_directions(g, stab, na, p->dir);
    /* Orbit of a generic point: one operation per distinct image, those distinct modulo the
     * centring first. */
    static const double generic[3] = {0.1372, 0.2861, 0.4153};
    double x[3], img[MS_SG_MAX_OPS][3], prim[MS_SG_MAX_OPS][3];
    ms_wyckoff_point(p, generic, x);
    int nimg = 0, nprim = 0;
    int first[MS_SG_MAX_OPS], rest[MS_SG_MAX_OPS], nrest = 0;
    for (int k = 0; k < g->nops; ++k) {
      double y[3];
      ms_spacegroup_apply(g, k, x, y);
      int dup = 0;
      for (int m = 0; m < nimg && !dup; ++m) dup = same_vec(y, img[m]);
      if (dup) continue;
      memcpy(img[nimg++], y, sizeof y);
      double f[3];
      for (int q = 0; q < 3; ++q) f[q] = y[0] * Pinv[0][q] + y[1] * Pinv[1][q] + y[2] * Pinv[2][q];
      int pdup = 0;
      for (int m = 0; m < nprim && !pdup; ++m) pdup = same_vec(f, prim[m]);
      if (pdup) {
        rest[nrest++] = k;
      } else {
        memcpy(prim[nprim], f, sizeof f);
        first[nprim++] = k;
      }
    }
    if (nimg != p->multiplicity || nprim * g->ncentring != nimg) {
      err = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                        "Hall setting %d: orbit of %d points where %d were expected", g->hall, nimg,
                        p->multiplicity);
      break;
    }
    p->ops = out->ops_pool + used;
    memcpy(p->ops, first, (size_t)nprim * sizeof *first);
    memcpy(p->ops + nprim, rest, (size_t)nrest * sizeof *rest);
    used += (size_t)nimg;
  }
  free(dc);
  free(class_of_root);
  free(rep);
  wgrid_free(&w);
  if (err) {
    ms_wyckoff_set_free(out);
    return err;
  }
  out->n = nclass;
  /* Sort; the ops pointers move with their entries. */
  qsort(out->pos, (size_t)nclass, sizeof *out->pos, cmp_pos);
  return MS_SUCCESS;
}
