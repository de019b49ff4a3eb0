/* Lower convex hull of (composition, energy per atom) for any number of components.
 *
 * Geometry. With C components a composition is a point of the (C-1)-simplex of atom
 * fractions; we use D = C-1 coordinates u = (x_1 ... x_D) (component 0 implicit) and the
 * formation energy f = E - sum_k x_k E_ref,k as height, so the references sit at the simplex
 * corners with f = 0. Energies above the hull do not change under this shift, because it adds
 * a function linear in the composition to every energy.
 *
 * The lower hull projects onto a triangulation of the simplex whose cells ("facets", D+1
 * vertices each) carry the affine function h(u) = c + g.u through their vertices' heights; the
 * hull energy is the largest of these planes (a convex function), and a facet's barycentric
 * coordinates at u give the decomposition into stable phases (the lever rule).
 *
 * Construction is the incremental scheme of Quickhull (Barber, Dobkin & Huhdanpaa, ACM TOMS 22,
 * 469 (1996)) restricted to the lower hull: start from the corner simplex; every point lying
 * more than MS_HULL_EPS below a facet's plane sits in that facet's conflict list; repeatedly
 * insert the deepest point (over all facets, see build_hull for why): the facets whose planes
 * pass above it form a connected region around it, which is replaced by the fan joining the
 * point to the region's boundary ridges, and the region's conflict points move to the new
 * facet containing them or are dropped when they are no longer below. Ridges on the simplex
 * boundary have no neighbour; when the new point lies on such a boundary face its fan facet
 * would be flat and is skipped. A fan facet that would come out flat or inverted across an
 * interior ridge can only come from rounding (convexity makes the neighbour visible in exact
 * arithmetic), so that neighbour joins the region and the boundary is recomputed.
 *
 * Only the minimum-energy entry of each composition (compositions equal to 1e-10 in every
 * fraction) and only points below the reference plane can be vertices, so only those enter the
 * construction; every composition is then located once by walking through the final
 * triangulation from the previous one's facet.
 *
 * Points within MS_HULL_EPS of the hull are never inserted: coplanar and duplicate points do
 * not become vertices (as with Qhull's default merging in pymatgen's PhaseDiagram) and report
 * e_above_hull within that tolerance of 0; entries of a vertex's composition are evaluated
 * against the vertex itself, so equal-energy duplicates get exactly 0. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/hull.h"

#define MAXC MS_HULL_MAX_COMPONENTS
#define MAXD (MS_HULL_MAX_COMPONENTS - 1)
#define NONE ((size_t)-1)
/* Barycentric coordinate below which a new fan facet counts as flat (relative measure). */
#define LAMBDA_FLAT 1e-11
/* Compositions are compared on a 1e-10 grid of atom fractions. */
#define COMP_GRID 1e10

struct ms_hull_s {
  /* entries: sparse element amounts per atom */
  size_t n, cap;
  double *energy;
  size_t *off; /* n + 1 offsets into ez/ex */
  int *ez;
  double *ex;
  size_t nel, elcap;
  /* oxidation states seen per element */
  int allow_mixed;
  size_t ox_first[MS_MAX_Z + 1];
  double ox_val[MS_MAX_Z + 1];
  int ox_conflict_Z;
  size_t ox_conflict_entry;
  double ox_conflict_val;
  /* end members */
  int nend;
  ms_composition end[MAXC];
  /* results */
  int computed;
  int ncomp;
  int compZ[MAXC];
  char names[MAXC][64];
  size_t ref[MAXC];
  double *x;      /* n x ncomp atom fractions */
  double *form;   /* formation energy per atom */
  double *eabove; /* energy above hull */
  double *ehull;  /* hull energy (formation-energy scale) */
  int *facet_of;  /* final facet containing the entry's composition (-1 for D = 0) */
  size_t *vertex_of; /* the vertex entry of the same composition, or NONE */
  unsigned char *stable;
  size_t *stable_list;
  size_t nstable;
  /* final triangulation */
  int D;
  size_t nfacets;
  size_t *fv;     /* nfacets x (D+1) entry indices */
  int *fnb;       /* nfacets x (D+1) neighbour opposite each vertex, -1 on the boundary */
  double *fminv;  /* nfacets x D x D inverse edge matrix */
  double *fu0;    /* nfacets x D first vertex */
};

ms_err ms_hull_create(ms_hull *out) {
  MS_CHECK(out, MS_ERR_ARG, "NULL argument");
  struct ms_hull_s *h = NULL;
  MS_CALL(MS_CALLOC(1, &h));
  for (int z = 0; z <= MS_MAX_Z; ++z) h->ox_first[z] = NONE;
  *out = h;
  return MS_SUCCESS;
}

static void free_results(struct ms_hull_s *h) {
  free(h->x);
  free(h->form);
  free(h->eabove);
  free(h->ehull);
  free(h->facet_of);
  free(h->vertex_of);
  free(h->stable);
  free(h->stable_list);
  free(h->fv);
  free(h->fnb);
  free(h->fminv);
  free(h->fu0);
  h->x = h->form = h->eabove = h->ehull = h->fminv = h->fu0 = NULL;
  h->facet_of = h->fnb = NULL;
  h->vertex_of = h->stable_list = h->fv = NULL;
  h->stable = NULL;
  h->nstable = h->nfacets = 0;
  h->computed = 0;
}

void ms_hull_destroy(ms_hull *hp) {
  if (!hp || !*hp) return;
  struct ms_hull_s *h = *hp;
  free_results(h);
  free(h->energy);
  free(h->off);
  free(h->ez);
  free(h->ex);
  free(h);
  *hp = NULL;
}

ms_err ms_hull_set_end_members(ms_hull h, int n, const ms_composition *members) {
  MS_CHECK(h && (n == 0 || members), MS_ERR_ARG, "NULL argument");
  MS_CHECK(n >= 0 && n <= MAXC, MS_ERR_ARG, "number of end members must be in 0..%d, got %d", MAXC, n);
  for (int k = 0; k < n; ++k)
    MS_CHECK(members[k].n > 0 && ms_composition_natoms(&members[k]) > 0, MS_ERR_ARG,
             "end member %d is empty", k);
  h->nend = n;
  for (int k = 0; k < n; ++k) h->end[k] = members[k];
  free_results(h);
  return MS_SUCCESS;
}

void ms_hull_allow_mixed_oxidation(ms_hull h, int allow) {
  if (h) h->allow_mixed = allow != 0;
}

size_t ms_hull_size(const ms_hull h) { return h ? h->n : 0; }

ms_err ms_hull_add(ms_hull h, const ms_composition *comp, double energy_per_atom, size_t *index) {
  MS_CHECK(h && comp, MS_ERR_ARG, "NULL argument");
  MS_CHECK(isfinite(energy_per_atom), MS_ERR_INPUT, "entry %zu: energy per atom is not finite", h->n);
  double tot = ms_composition_natoms(comp);
  MS_CHECK(comp->n > 0 && tot > 0 && isfinite(tot), MS_ERR_INPUT, "entry %zu: empty composition", h->n);
  for (int k = 0; k < comp->n; ++k)
    MS_CHECK(comp->amount[k] > 0 && comp->sp[k].Z >= 1 && comp->sp[k].Z <= MS_MAX_Z, MS_ERR_INPUT,
             "entry %zu: species %d has amount %g and Z %d", h->n, k, comp->amount[k], comp->sp[k].Z);
  if (h->n + 1 > h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 1024;
    MS_CALL(MS_REALLOC(cap, &h->energy));
    MS_CALL(MS_REALLOC(cap + 1, &h->off));
    h->cap = cap;
  }
  if (h->nel + (size_t)comp->n > h->elcap) {
    size_t cap = h->elcap ? 2 * h->elcap : 4096;
    while (cap < h->nel + (size_t)comp->n) cap *= 2;
    MS_CALL(MS_REALLOC(cap, &h->ez));
    MS_CALL(MS_REALLOC(cap, &h->ex));
    h->elcap = cap;
  }
  if (h->n == 0) h->off[0] = 0;
  /* Element amounts per atom; species of one element (Fe2+ and Fe3+) add up. */
  size_t start = h->nel;
  for (int k = 0; k < comp->n; ++k) {
    int Z = comp->sp[k].Z;
    size_t j = start;
    while (j < h->nel && h->ez[j] != Z) ++j;
    if (j == h->nel) {
      h->ez[j] = Z;
      h->ex[j] = 0;
      h->nel++;
    }
    /* One division per element so equal compositions give bit-identical fractions. */
    h->ex[j] += comp->amount[k];
    if (comp->sp[k].has_ox) {
      if (h->ox_first[Z] == NONE) {
        h->ox_first[Z] = h->n;
        h->ox_val[Z] = comp->sp[k].ox;
      } else if (fabs(h->ox_val[Z] - comp->sp[k].ox) > 1e-6 && !h->ox_conflict_Z) {
        h->ox_conflict_Z = Z;
        h->ox_conflict_entry = h->n;
        h->ox_conflict_val = comp->sp[k].ox;
      }
    }
  }
  for (size_t j = start; j < h->nel; ++j) h->ex[j] /= tot;
  h->energy[h->n] = energy_per_atom;
  h->off[h->n + 1] = h->nel;
  if (index) *index = h->n;
  h->n++;
  h->computed = 0;
  return MS_SUCCESS;
}

/* ---- small dense linear algebra ------------------------------------------------------ */

/* Invert the n x n matrix a (row-major) into inv with partial pivoting; returns the
 * determinant (0 when singular to working precision). */
static double invert(int n, const double *a, double *inv) {
  double m[MAXC * MAXC], det = 1.0;
  memcpy(m, a, sizeof(double) * (size_t)(n * n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) inv[i * n + j] = i == j;
  for (int col = 0; col < n; ++col) {
    int piv = col;
    for (int r = col + 1; r < n; ++r)
      if (fabs(m[r * n + col]) > fabs(m[piv * n + col])) piv = r;
    double p = m[piv * n + col];
    if (p == 0.0) return 0.0;
    if (piv != col) {
      for (int j = 0; j < n; ++j) {
        double t = m[col * n + j];
        m[col * n + j] = m[piv * n + j];
        m[piv * n + j] = t;
        t = inv[col * n + j];
        inv[col * n + j] = inv[piv * n + j];
        inv[piv * n + j] = t;
      }
      det = -det;
    }
    det *= p;
    for (int j = 0; j < n; ++j) {
      m[col * n + j] /= p;
      inv[col * n + j] /= p;
    }
    for (int r = 0; r < n; ++r) {
      if (r == col) continue;
      double f = m[r * n + col];
      if (f == 0.0) continue;
      for (int j = 0; j < n; ++j) {
        m[r * n + j] -= f * m[col * n + j];
        inv[r * n + j] -= f * inv[col * n + j];
      }
    }
  }
  return det;
}

/* ---- components and coordinates ------------------------------------------------------ */

static const char *entry_formula(const struct ms_hull_s *h, size_t i, char *buf, size_t len) {
  ms_composition c;
  memset(&c, 0, sizeof c);
  for (size_t j = h->off[i]; j < h->off[i + 1] && c.n < MS_COMPOSITION_MAX; ++j) {
    c.sp[c.n].Z = h->ez[j];
    c.amount[c.n++] = h->ex[j];
  }
  if (ms_composition_formula(&c, buf, len)) {
    ms_err_clear();
    snprintf(buf, len, "?");
  }
  return buf;
}

static ms_err setup_components(struct ms_hull_s *h) {
  if (h->nend == 0) {
    unsigned char seen[MS_MAX_Z + 1] = {0};
    for (size_t j = 0; j < h->nel; ++j) seen[h->ez[j]] = 1;
    h->ncomp = 0;
    for (int z = 1; z <= MS_MAX_Z; ++z)
      if (seen[z]) {
        MS_CHECK(h->ncomp < MAXC, MS_ERR_INPUT, "the entries contain more than %d elements", MAXC);
        h->compZ[h->ncomp] = z;
        const ms_element *e = ms_element_by_z(z);
        snprintf(h->names[h->ncomp], sizeof h->names[0], "%s", e ? e->symbol : "?");
        h->ncomp++;
      }
  } else {
    h->ncomp = h->nend;
    for (int k = 0; k < h->nend; ++k) {
      MS_CALL(ms_composition_formula(&h->end[k], h->names[k], sizeof h->names[k]));
      h->compZ[k] = 0;
    }
  }
  return MS_SUCCESS;
}

static ms_err fill_fractions(struct ms_hull_s *h) {
  int C = h->ncomp;
  if (h->nend == 0) {
    int col[MS_MAX_Z + 1];
    for (int k = 0; k < C; ++k) col[h->compZ[k]] = k;
    for (size_t i = 0; i < h->n; ++i)
      for (size_t j = h->off[i]; j < h->off[i + 1]; ++j) h->x[i * (size_t)C + (size_t)col[h->ez[j]]] = h->ex[j];
    return MS_SUCCESS;
  }
  /* End members: element fractions per atom of each member form the columns of Y; an entry's
   * atom fractions w solve Y w = x in the least-squares sense, w = (Y^T Y)^-1 Y^T x, and must
   * reproduce x and be non-negative. */
  int nels = 0, row[MS_MAX_Z + 1];
  for (int z = 0; z <= MS_MAX_Z; ++z) row[z] = -1;
  for (int k = 0; k < C; ++k)
    for (int s = 0; s < h->end[k].n; ++s) {
      int z = h->end[k].sp[s].Z;
      if (row[z] < 0) {
        row[z] = nels++;
      }
    }
  double *Y = NULL;
  MS_CALL(MS_CALLOC((size_t)nels * (size_t)C, &Y));
  for (int k = 0; k < C; ++k) {
    double tot = ms_composition_natoms(&h->end[k]);
    for (int s = 0; s < h->end[k].n; ++s) Y[row[h->end[k].sp[s].Z] * C + k] += h->end[k].amount[s] / tot;
  }
  double YtY[MAXC * MAXC], G[MAXC * MAXC];
  for (int a = 0; a < C; ++a)
    for (int b = 0; b < C; ++b) {
      double s = 0;
      for (int r = 0; r < nels; ++r) s += Y[r * C + a] * Y[r * C + b];
      YtY[a * C + b] = s;
    }
  double det = invert(C, YtY, G);
  /* Relative to the scale of the Gram matrix (entries <= 1): a vanishing determinant means
   * one end member is a combination of the others. */
  if (!(fabs(det) > 1e-12)) {
    free(Y);
    MS_FAIL(MS_ERR_INPUT, "the %d end members are linearly dependent (Gram determinant %g)", C, det);
  }
  ms_err e = MS_SUCCESS;
  double xe[MS_MAX_Z + 1];
  for (size_t i = 0; i < h->n && !e; ++i) {
    for (int r = 0; r < nels; ++r) xe[r] = 0;
    int outside = 0;
    for (size_t j = h->off[i]; j < h->off[i + 1]; ++j) {
      if (row[h->ez[j]] < 0) outside = h->ez[j];
      else xe[row[h->ez[j]]] = h->ex[j];
    }
    char f[128];
    if (outside) {
      const ms_element *el = ms_element_by_z(outside);
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "entry %zu (%s) contains %s, which no end member contains", i,
                      entry_formula(h, i, f, sizeof f), el ? el->symbol : "?");
      break;
    }
    double yx[MAXC], w[MAXC], sum = 0;
    for (int k = 0; k < C; ++k) {
      double s = 0;
      for (int r = 0; r < nels; ++r) s += Y[r * C + k] * xe[r];
      yx[k] = s;
    }
    for (int k = 0; k < C; ++k) {
      double s = 0;
      for (int m = 0; m < C; ++m) s += G[k * C + m] * yx[m];
      w[k] = s;
    }
    double resid = 0;
    for (int r = 0; r < nels; ++r) {
      double s = 0;
      for (int k = 0; k < C; ++k) s += Y[r * C + k] * w[k];
      resid = fmax(resid, fabs(s - xe[r]));
    }
    double wmin = 0;
    for (int k = 0; k < C; ++k) wmin = fmin(wmin, w[k]);
    if (resid > 1e-8 || wmin < -1e-8) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "entry %zu (%s) is not a mixture of the end members (%s)", i,
                      entry_formula(h, i, f, sizeof f),
                      resid > 1e-8 ? "its composition is outside their span"
                                   : "it needs a negative amount of one of them");
      break;
    }
    for (int k = 0; k < C; ++k) {
      if (w[k] < 0) w[k] = 0;
      /* Snap round-off at the corners so that a member's own entries are exact references. */
      if (w[k] < 1e-13) w[k] = 0;
      sum += w[k];
    }
    for (int k = 0; k < C; ++k) h->x[i * (size_t)C + (size_t)k] = w[k] / sum;
  }
  free(Y);
  return e;
}

/* ---- composition groups -------------------------------------------------------------- */

static void comp_key(const double *x, int C, long long *key) {
  for (int k = 0; k < C; ++k) key[k] = llround(x[k] * COMP_GRID);
}

static uint64_t key_hash(const long long *key, int C) {
  uint64_t hsh = 1469598103934665603ULL;
  for (int k = 0; k < C; ++k) {
    uint64_t v = (uint64_t)key[k];
    for (int b = 0; b < 8; ++b) {
      hsh ^= (v >> (8 * b)) & 0xffu;
      hsh *= 1099511628211ULL;
    }
  }
  return hsh;
}

typedef struct {
  size_t ngroups;
  size_t *group_of; /* per entry */
  size_t *rep;      /* per group: lowest-energy entry (first among equals) */
} groups;

static ms_err make_groups(const struct ms_hull_s *h, groups *g) {
  int C = h->ncomp;
  size_t tcap = 16;
  while (tcap < 2 * h->n) tcap *= 2;
  size_t *table = NULL;
  MS_CALL(MS_CALLOC(tcap, &table));
  ms_err e = MS_CALLOC(h->n, &g->group_of);
  if (!e) e = MS_CALLOC(h->n, &g->rep);
  if (e) {
    free(table);
    return e;
  }
  for (size_t t = 0; t < tcap; ++t) table[t] = NONE;
  g->ngroups = 0;
  long long key[MAXC], k2[MAXC];
  for (size_t i = 0; i < h->n; ++i) {
    comp_key(&h->x[i * (size_t)C], C, key);
    size_t t = (size_t)(key_hash(key, C) & (tcap - 1));
    for (;;) {
      if (table[t] == NONE) {
        table[t] = g->ngroups;
        g->rep[g->ngroups] = i;
        g->group_of[i] = g->ngroups++;
        break;
      }
      size_t gr = table[t];
      comp_key(&h->x[g->rep[gr] * (size_t)C], C, k2);
      if (memcmp(key, k2, sizeof(long long) * (size_t)C) == 0) {
        g->group_of[i] = gr;
        if (h->energy[i] < h->energy[g->rep[gr]]) g->rep[gr] = i;
        break;
      }
      t = (t + 1) & (tcap - 1);
    }
  }
  free(table);
  return MS_SUCCESS;
}

/* ---- incremental lower hull ---------------------------------------------------------- */

typedef struct {
  int D;            /* dimension of the composition simplex */
  size_t np;        /* points */
  const double *u;  /* np x D coordinates */
  const double *f;  /* np heights */
  /* facets (structure of arrays, grown together) */
  size_t nf, fcap;
  int *v;           /* nf x (D+1) point ids */
  int *nb;          /* nf x (D+1) */
  double *minv;     /* nf x D x D */
  double *u0;       /* nf x D */
  double *g;        /* nf x D: plane gradient */
  double *c;        /* nf: plane offset */
  unsigned char *alive;
  int *head;        /* first conflict point */
  int *far;         /* deepest conflict point */
  double *fardepth;
  unsigned *mark;   /* visit stamps */
  unsigned stamp;
  /* conflict lists */
  int *next;        /* per point */
} builder;

static ms_err grow_facets(builder *b) {
  if (b->nf < b->fcap) return MS_SUCCESS;
  size_t cap = b->fcap ? 2 * b->fcap : 256;
  size_t D = (size_t)b->D, V = D + 1;
  MS_CALL(MS_REALLOC(cap * V, &b->v));
  MS_CALL(MS_REALLOC(cap * V, &b->nb));
  MS_CALL(MS_REALLOC(cap * D * D, &b->minv));
  MS_CALL(MS_REALLOC(cap * D, &b->u0));
  MS_CALL(MS_REALLOC(cap * D, &b->g));
  MS_CALL(MS_REALLOC(cap, &b->c));
  MS_CALL(MS_REALLOC(cap, &b->alive));
  MS_CALL(MS_REALLOC(cap, &b->head));
  MS_CALL(MS_REALLOC(cap, &b->far));
  MS_CALL(MS_REALLOC(cap, &b->fardepth));
  MS_CALL(MS_REALLOC(cap, &b->mark));
  b->fcap = cap;
  return MS_SUCCESS;
}

/* Plane and barycentric map of facet fi from its vertices; returns the determinant of the
 * edge matrix (its sign is the orientation). */
static double facet_setup(builder *b, size_t fi) {
  int D = b->D;
  const int *v = &b->v[fi * (size_t)(D + 1)];
  double M[MAXD * MAXD] = {0}, inv[MAXD * MAXD];
  const double *p0 = &b->u[(size_t)v[0] * (size_t)D];
  for (int r = 0; r < D; ++r)
    for (int k = 0; k < D; ++k) M[r * D + k] = b->u[(size_t)v[k + 1] * (size_t)D + (size_t)r] - p0[r];
  double det = invert(D, M, inv);
  double *mi = &b->minv[fi * (size_t)(D * D)];
  memcpy(mi, inv, sizeof(double) * (size_t)(D * D));
  memcpy(&b->u0[fi * (size_t)D], p0, sizeof(double) * (size_t)D);
  /* h(u) = f0 + sum_k lambda_k (f_k - f0) with lambda = Minv (u - u0): gradient Minv^T df. */
  double df[MAXD];
  for (int k = 0; k < D; ++k) df[k] = b->f[v[k + 1]] - b->f[v[0]];
  double *g = &b->g[fi * (size_t)D], c = b->f[v[0]];
  for (int j = 0; j < D; ++j) {
    double s = 0;
    for (int k = 0; k < D; ++k) s += mi[k * D + j] * df[k];
    g[j] = s;
    c -= s * p0[j];
  }
  b->c[fi] = c;
  b->alive[fi] = 1;
  b->head[fi] = -1;
  b->far[fi] = -1;
  b->fardepth[fi] = 0;
  b->mark[fi] = 0;
  return det;
}

static double plane_at(const builder *b, size_t fi, const double *u) {
  const double *g = &b->g[fi * (size_t)b->D];
  double h = b->c[fi];
  for (int j = 0; j < b->D; ++j) h += g[j] * u[j];
  return h;
}

/* Barycentric coordinates lam[0..D] of u in facet fi; returns the smallest. */
static double bary(const double *minv, const double *u0, int D, const double *u, double *lam) {
  double d[MAXD], s = 0, mn;
  for (int j = 0; j < D; ++j) d[j] = u[j] - u0[j];
  for (int k = 0; k < D; ++k) {
    double t = 0;
    for (int j = 0; j < D; ++j) t += minv[k * D + j] * d[j];
    lam[k + 1] = t;
    s += t;
  }
  lam[0] = 1.0 - s;
  mn = lam[0];
  for (int k = 1; k <= D; ++k) mn = fmin(mn, lam[k]);
  return mn;
}

static void add_conflict(builder *b, size_t fi, int q, double depth) {
  b->next[q] = b->head[fi];
  b->head[fi] = q;
  if (b->far[fi] < 0 || depth > b->fardepth[fi] || (depth == b->fardepth[fi] && q < b->far[fi])) {
    b->far[fi] = q;
    b->fardepth[fi] = depth;
  }
}

typedef struct {
  int key[MAXD]; /* sorted vertex ids of a ridge without the new point, padded with -1 */
  size_t facet;
  int slot;
} ridge_rec;

static int ridge_cmp(const void *pa, const void *pb) {
  const ridge_rec *a = pa, *b = pb;
  for (int k = 0; k < MAXD; ++k)
    if (a->key[k] != b->key[k]) return a->key[k] < b->key[k] ? -1 : 1;
  return 0;
}

static int int_cmp(const void *pa, const void *pb) {
  int a = *(const int *)pa, b = *(const int *)pb;
  return (a > b) - (a < b);
}

typedef struct {
  size_t *vis;
  size_t nvis, viscap;
  size_t *hf; /* horizon: facet and slot */
  int *hk;
  size_t nh, hcap;
  size_t *newf;
  size_t nnew, newcap;
  ridge_rec *rr;
  size_t rrcap;
} work;

#define PUSH(arr, n, cap, val)                                  \
  do {                                                          \
    if ((n) == (cap)) {                                         \
      size_t c2_ = (cap) ? 2 * (cap) : 64;                      \
      MS_CALL(MS_REALLOC(c2_, &(arr)));                         \
      (cap) = c2_;                                              \
    }                                                           \
    (arr)[(n)++] = (val);                                       \
  } while (0)

static ms_err push_horizon(work *w, size_t f, int k) {
  if (w->nh == w->hcap) {
    size_t c2 = w->hcap ? 2 * w->hcap : 64;
    MS_CALL(MS_REALLOC(c2, &w->hf));
    MS_CALL(MS_REALLOC(c2, &w->hk));
    w->hcap = c2;
  }
  w->hf[w->nh] = f;
  w->hk[w->nh++] = k;
  return MS_SUCCESS;
}

/* Insert point p (deepest conflict of facet f0). */
static ms_err insert_point(builder *b, work *w, size_t f0, int p) {
  int D = b->D, V = D + 1;
  const double *up = &b->u[(size_t)p * (size_t)D];
  double fp = b->f[p];
  unsigned vis_stamp = ++b->stamp;
  unsigned not_stamp = ++b->stamp;
  w->nvis = 0;
  b->mark[f0] = vis_stamp;
  PUSH(w->vis, w->nvis, w->viscap, f0);
  size_t scanned = 0;
  for (;;) {
    /* Grow the visible region across neighbours whose planes pass above p. */
    for (; scanned < w->nvis; ++scanned) {
      size_t fi = w->vis[scanned];
      for (int k = 0; k < V; ++k) {
        int nbk = b->nb[fi * (size_t)V + (size_t)k];
        if (nbk < 0) continue;
        size_t n = (size_t)nbk;
        if (b->mark[n] == vis_stamp || b->mark[n] == not_stamp) continue;
        if (plane_at(b, n, up) - fp > 0) {
          b->mark[n] = vis_stamp;
          PUSH(w->vis, w->nvis, w->viscap, n);
        } else {
          b->mark[n] = not_stamp;
        }
      }
    }
    /* Horizon ridges, and the check that every fan facet has p strictly on the facet's side
     * of the ridge. */
    w->nh = 0;
    int grown = 0;
    for (size_t a = 0; a < w->nvis && !grown; ++a) {
      size_t fi = w->vis[a];
      double lam[MAXC];
      bary(&b->minv[fi * (size_t)(D * D)], &b->u0[fi * (size_t)D], D, up, lam);
      for (int k = 0; k < V; ++k) {
        int nbk = b->nb[fi * (size_t)V + (size_t)k];
        if (nbk >= 0 && b->mark[nbk] == vis_stamp) continue;
        if (lam[k] > LAMBDA_FLAT) {
          MS_CALL(push_horizon(w, fi, k));
        } else if (nbk >= 0) {
          b->mark[nbk] = vis_stamp;
          PUSH(w->vis, w->nvis, w->viscap, (size_t)nbk);
          grown = 1;
          break;
        }
        /* else: p lies on this boundary face of the simplex; the fan facet would be flat. */
      }
    }
    if (!grown) break;
  }
  /* The fan. */
  w->nnew = 0;
  for (size_t a = 0; a < w->nh; ++a) {
    size_t fi = w->hf[a];
    int k = w->hk[a];
    MS_CALL(grow_facets(b));
    size_t nf = b->nf++;
    memcpy(&b->v[nf * (size_t)V], &b->v[fi * (size_t)V], sizeof(int) * (size_t)V);
    b->v[nf * (size_t)V + (size_t)k] = p;
    for (int j = 0; j < V; ++j) b->nb[nf * (size_t)V + (size_t)j] = -1;
    double det = facet_setup(b, nf);
    MS_CHECK(det != 0.0 && isfinite(det), MS_ERR_NUMERIC,
             "convex hull: degenerate facet while inserting point %d", p);
    int nbk = b->nb[fi * (size_t)V + (size_t)k];
    b->nb[nf * (size_t)V + (size_t)k] = nbk;
    if (nbk >= 0)
      for (int j = 0; j < V; ++j)
        if (b->nb[(size_t)nbk * (size_t)V + (size_t)j] == (int)fi) b->nb[(size_t)nbk * (size_t)V + (size_t)j] = (int)nf;
    PUSH(w->newf, w->nnew, w->newcap, nf);
  }
  /* Link fan facets through the ridges that contain p: pair equal vertex sets. */
  size_t nr = 0;
  if (w->rrcap < w->nnew * (size_t)D) {
    MS_CALL(MS_REALLOC(w->nnew * (size_t)D + 64, &w->rr));
    w->rrcap = w->nnew * (size_t)D + 64;
  }
  for (size_t a = 0; a < w->nnew; ++a) {
    size_t nf = w->newf[a];
    const int *v = &b->v[nf * (size_t)V];
    for (int j = 0; j < V; ++j) {
      if (v[j] == p) continue;
      ridge_rec *r = &w->rr[nr++];
      int m = 0;
      for (int t = 0; t < V; ++t)
        if (t != j && v[t] != p) r->key[m++] = v[t];
      qsort(r->key, (size_t)m, sizeof(int), int_cmp);
      for (; m < MAXD; ++m) r->key[m] = -1;
      r->facet = nf;
      r->slot = j;
    }
  }
  if (nr > 1) qsort(w->rr, nr, sizeof *w->rr, ridge_cmp);
  for (size_t a = 0; a < nr;) {
    size_t e = a + 1;
    while (e < nr && ridge_cmp(&w->rr[a], &w->rr[e]) == 0) ++e;
    MS_CHECK(e - a <= 2, MS_ERR_NUMERIC,
             "convex hull: a ridge is shared by %zu facets while inserting point %d", e - a, p);
    if (e - a == 2) {
      b->nb[w->rr[a].facet * (size_t)V + (size_t)w->rr[a].slot] = (int)w->rr[a + 1].facet;
      b->nb[w->rr[a + 1].facet * (size_t)V + (size_t)w->rr[a + 1].slot] = (int)w->rr[a].facet;
    }
    a = e;
  }
  /* Move the conflict points of the removed facets. */
  for (size_t a = 0; a < w->nvis; ++a) {
    size_t fi = w->vis[a];
    b->alive[fi] = 0;
    for (int q = b->head[fi]; q >= 0;) {
      int qn = b->next[q];
      if (q != p) {
        const double *uq = &b->u[(size_t)q * (size_t)D];
        size_t best = NONE;
        double bestmin = -INFINITY, lam[MAXC];
        for (size_t t = 0; t < w->nnew; ++t) {
          size_t nf = w->newf[t];
          double mn = bary(&b->minv[nf * (size_t)(D * D)], &b->u0[nf * (size_t)D], D, uq, lam);
          if (mn > bestmin) {
            bestmin = mn;
            best = nf;
            if (mn >= 0) break;
          }
        }
        if (best != NONE) {
          double depth = plane_at(b, best, uq) - b->f[q];
          if (depth > MS_HULL_EPS) add_conflict(b, best, q, depth);
        }
      }
      q = qn;
    }
    b->head[fi] = -1;
  }
  return MS_SUCCESS;
}

static void builder_free(builder *b, work *w) {
  free(b->v);
  free(b->nb);
  free(b->minv);
  free(b->u0);
  free(b->g);
  free(b->c);
  free(b->alive);
  free(b->head);
  free(b->far);
  free(b->fardepth);
  free(b->mark);
  free(b->next);
  free(w->vis);
  free(w->hf);
  free(w->hk);
  free(w->newf);
  free(w->rr);
}

/* Max-heap of facets by the depth of their deepest conflict point (ties: lower point id). */
typedef struct {
  double depth;
  int point;
  size_t facet;
} heap_item;

static int heap_before(const heap_item *a, const heap_item *b) {
  return a->depth > b->depth || (a->depth == b->depth && a->point < b->point);
}

static ms_err heap_push(heap_item **h, size_t *n, size_t *cap, heap_item it) {
  if (*n == *cap) {
    size_t c2 = *cap ? 2 * *cap : 256;
    MS_CALL(MS_REALLOC(c2, h));
    *cap = c2;
  }
  size_t i = (*n)++;
  while (i > 0) {
    size_t par = (i - 1) / 2;
    if (!heap_before(&it, &(*h)[par])) break;
    (*h)[i] = (*h)[par];
    i = par;
  }
  (*h)[i] = it;
  return MS_SUCCESS;
}

static heap_item heap_pop(heap_item *h, size_t *n) {
  heap_item top = h[0], last = h[--*n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const heap_item *best = &last;
    if (l < *n && heap_before(&h[l], best)) m = l, best = &h[l];
    if (r < *n && heap_before(&h[r], best)) m = r;
    if (m == i) break;
    h[i] = h[m];
    i = m;
  }
  if (*n) h[i] = last;
  return top;
}

/* Build the triangulation over the candidate points (ids 0..D are the corners).
 *
 * The point inserted next is the deepest below the current hull over ALL facets, not just the
 * deepest of some facet as in plain Quickhull. This keeps points that lie on the final hull
 * without being vertices (mixtures of stable phases, like the points built on facets in the
 * tests) from ever being inserted: if p = sum_i l_i q_i is such a mixture of final vertices
 * q_i, then, as the current hull H is convex, depth(p) = H(x_p) - f_p <= sum_i l_i depth(q_i),
 * so some vertex still to be inserted is at least as deep as p (strictly, unless all are
 * equally deep), and once the q_i are in, p is not below the hull any more. */
static ms_err build_hull(builder *b, work *w) {
  int D = b->D, V = D + 1;
  MS_CALL(MS_CALLOC(b->np ? b->np : 1, &b->next));
  MS_CALL(grow_facets(b));
  size_t f0 = b->nf++;
  for (int k = 0; k < V; ++k) {
    b->v[f0 * (size_t)V + (size_t)k] = k;
    b->nb[f0 * (size_t)V + (size_t)k] = -1;
  }
  double det = facet_setup(b, f0);
  MS_CHECK(det > 0.5, MS_ERR_INTERNAL, "convex hull: corner simplex has determinant %g", det);
  for (size_t q = (size_t)V; q < b->np; ++q) {
    double depth = plane_at(b, f0, &b->u[q * (size_t)D]) - b->f[q];
    if (depth > MS_HULL_EPS) add_conflict(b, f0, (int)q, depth);
  }
  heap_item *heap = NULL;
  size_t nh = 0, cap = 0;
  ms_err e = MS_SUCCESS;
  if (b->far[f0] >= 0) e = heap_push(&heap, &nh, &cap, (heap_item){b->fardepth[f0], b->far[f0], f0});
  while (nh > 0 && !e) {
    heap_item it = heap_pop(heap, &nh);
    /* A facet's conflicts are fixed when it is made, so an entry is stale only if the facet
     * has been removed since. */
    if (!b->alive[it.facet]) continue;
    size_t before = b->nf;
    e = insert_point(b, w, it.facet, it.point);
    for (size_t nf = before; nf < b->nf && !e; ++nf)
      if (b->alive[nf] && b->far[nf] >= 0)
        e = heap_push(&heap, &nh, &cap, (heap_item){b->fardepth[nf], b->far[nf], nf});
  }
  free(heap);
  return e;
}

/* ---- compute ------------------------------------------------------------------------- */

static ms_err check_oxidation(const struct ms_hull_s *h) {
  if (!h->ox_conflict_Z || h->allow_mixed) return MS_SUCCESS;
  int Z = h->ox_conflict_Z;
  ms_species a = {Z, 1, h->ox_val[Z]}, b = {Z, 1, h->ox_conflict_val};
  char ta[16], tb[16];
  const ms_element *el = ms_element_by_z(Z);
  MS_FAIL(MS_ERR_INPUT,
          "%s occurs as %s (entry %zu) and as %s (entry %zu): energies of phases with different "
          "oxidation states of one element are not comparable in an ionic model unless they "
          "include correction energies (allow mixed oxidation states to proceed; see "
          "docs/stability.md)",
          el ? el->symbol : "?", ms_species_format(&a, ta, sizeof ta), h->ox_first[Z],
          ms_species_format(&b, tb, sizeof tb), h->ox_conflict_entry);
}

ms_err ms_hull_compute(ms_hull h) {
  MS_CHECK(h, MS_ERR_ARG, "NULL hull");
  MS_CHECK(h->n > 0, MS_ERR_INPUT, "no entries");
  MS_CALL(check_oxidation(h));
  free_results(h);
  MS_CALL(setup_components(h));
  int C = h->ncomp, D = C - 1, V = C;
  h->D = D;
  size_t n = h->n;
  ms_err e = MS_CALLOC(n * (size_t)C, &h->x);
  if (!e) e = MS_CALLOC(n, &h->form);
  if (!e) e = MS_CALLOC(n, &h->eabove);
  if (!e) e = MS_CALLOC(n, &h->ehull);
  if (!e) e = MS_CALLOC(n, &h->facet_of);
  if (!e) e = MS_CALLOC(n, &h->vertex_of);
  if (!e) e = MS_CALLOC(n, &h->stable);
  if (!e) e = fill_fractions(h);
  if (e) {
    free_results(h);
    MS_CALL(e);
  }
  groups g = {0, NULL, NULL};
  e = make_groups(h, &g);
  if (e) {
    free_results(h);
    MS_CALL(e);
  }
  /* References: the group at each corner. */
  size_t corner_group[MAXC];
  for (int k = 0; k < C; ++k) corner_group[k] = NONE;
  for (size_t gi = 0; gi < g.ngroups; ++gi) {
    const double *x = &h->x[g.rep[gi] * (size_t)C];
    for (int k = 0; k < C; ++k)
      if (llround(x[k] * COMP_GRID) == (long long)COMP_GRID) corner_group[k] = gi;
  }
  char missing[512] = "";
  size_t used = 0;
  for (int k = 0; k < C; ++k)
    if (corner_group[k] == NONE) {
      int w = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", h->names[k]);
      if (w > 0 && (size_t)w < sizeof missing - used) used += (size_t)w;
    }
  if (used) {
    free(g.group_of);
    free(g.rep);
    free_results(h);
    MS_FAIL(MS_ERR_INPUT, "no entry for the %s reference%s %s: every %s needs an entry of its own composition",
            h->nend ? "end-member" : "elemental", strchr(missing, ',') ? "s" : "", missing,
            h->nend ? "end member" : "element");
  }
  for (int k = 0; k < C; ++k) h->ref[k] = g.rep[corner_group[k]];
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (int k = 0; k < C; ++k) s += h->x[i * (size_t)C + (size_t)k] * h->energy[h->ref[k]];
    h->form[i] = h->energy[i] - s;
  }
  for (size_t i = 0; i < n; ++i) h->vertex_of[i] = NONE;

  if (D == 0) {
    /* One component: the hull is its reference. */
    for (size_t i = 0; i < n; ++i) {
      h->facet_of[i] = -1;
      h->vertex_of[i] = h->ref[0];
      h->ehull[i] = 0;
      h->eabove[i] = i == h->ref[0] ? 0.0 : fmax(0.0, h->energy[i] - h->energy[h->ref[0]]);
    }
    h->stable[h->ref[0]] = 1;
    e = MS_CALLOC(1, &h->stable_list);
    if (!e) {
      h->stable_list[0] = h->ref[0];
      h->nstable = 1;
      h->computed = 1;
    }
    free(g.group_of);
    free(g.rep);
    return e;
  }

  /* Candidates: the corners first, then group minima below the reference plane. */
  builder b;
  work w;
  memset(&b, 0, sizeof b);
  memset(&w, 0, sizeof w);
  b.D = D;
  size_t *cand = NULL;
  double *cu = NULL, *cf = NULL;
  size_t nc = 0;
  e = MS_CALLOC(g.ngroups + 1, &cand);
  for (int k = 0; k < C && !e; ++k) cand[nc++] = h->ref[k];
  for (size_t gi = 0; gi < g.ngroups && !e; ++gi) {
    size_t r = g.rep[gi];
    int corner = 0;
    for (int k = 0; k < C; ++k) corner |= corner_group[k] == gi;
    if (!corner && h->form[r] < -MS_HULL_EPS) cand[nc++] = r;
  }
  if (!e) e = MS_CALLOC(nc * (size_t)D, &cu);
  if (!e) e = MS_CALLOC(nc, &cf);
  if (!e) {
    /* Corner k sits at u = e_k (k >= 1) and u = 0 (k = 0), exactly. */
    for (size_t q = 0; q < nc; ++q) {
      for (int j = 0; j < D; ++j) cu[q * (size_t)D + (size_t)j] = q < (size_t)C ? (double)(q == (size_t)j + 1) : h->x[cand[q] * (size_t)C + (size_t)j + 1];
      cf[q] = q < (size_t)C ? 0.0 : h->form[cand[q]];
    }
    b.np = nc;
    b.u = cu;
    b.f = cf;
    e = build_hull(&b, &w);
  }
  /* Final triangulation: compact the live facets. */
  int *newid = NULL;
  if (!e) e = MS_CALLOC(b.nf, &newid);
  size_t nalive = 0;
  if (!e) {
    for (size_t fi = 0; fi < b.nf; ++fi) newid[fi] = b.alive[fi] ? (int)nalive++ : -1;
    h->nfacets = nalive;
    e = MS_CALLOC(nalive * (size_t)V, &h->fv);
    if (!e) e = MS_CALLOC(nalive * (size_t)V, &h->fnb);
    if (!e) e = MS_CALLOC(nalive * (size_t)(D * D), &h->fminv);
    if (!e) e = MS_CALLOC(nalive * (size_t)D, &h->fu0);
  }
  if (!e) {
    for (size_t fi = 0; fi < b.nf; ++fi) {
      if (!b.alive[fi]) continue;
      size_t t = (size_t)newid[fi];
      for (int k = 0; k < V; ++k) {
        int pid = b.v[fi * (size_t)V + (size_t)k];
        size_t ent = cand[pid];
        h->fv[t * (size_t)V + (size_t)k] = ent;
        h->stable[ent] = 1;
        int nbk = b.nb[fi * (size_t)V + (size_t)k];
        h->fnb[t * (size_t)V + (size_t)k] = nbk >= 0 ? newid[nbk] : -1;
      }
      memcpy(&h->fminv[t * (size_t)(D * D)], &b.minv[fi * (size_t)(D * D)], sizeof(double) * (size_t)(D * D));
      memcpy(&h->fu0[t * (size_t)D], &b.u0[fi * (size_t)D], sizeof(double) * (size_t)D);
    }
    for (size_t i = 0; i < n; ++i)
      if (h->stable[i]) h->nstable++;
    e = MS_CALLOC(h->nstable ? h->nstable : 1, &h->stable_list);
  }
  if (!e) {
    size_t s = 0;
    for (size_t i = 0; i < n; ++i)
      if (h->stable[i]) h->stable_list[s++] = i;
  }
  /* Evaluate: each composition group is located once, walking from the last facet. */
  int *gfacet = NULL;
  if (!e) e = MS_CALLOC(g.ngroups, &gfacet);
  if (!e) {
    int cur = 0;
    double lam[MAXC], u[MAXD];
    for (size_t gi = 0; gi < g.ngroups; ++gi) {
      size_t r = g.rep[gi];
      for (int j = 0; j < D; ++j) u[j] = h->x[r * (size_t)C + (size_t)j + 1];
      size_t steps = 0, limit = nalive + 16;
      for (;; ++steps) {
        double mn = bary(&h->fminv[(size_t)cur * (size_t)(D * D)], &h->fu0[(size_t)cur * (size_t)D], D, u, lam);
        if (mn >= -1e-12 || steps > limit) break;
        int kmin = 0;
        for (int k = 1; k < V; ++k)
          if (lam[k] < lam[kmin]) kmin = k;
        int nb = h->fnb[(size_t)cur * (size_t)V + (size_t)kmin];
        if (nb < 0) break;
        cur = nb;
      }
      if (steps > limit) {
        /* A walk that cycles can only come from rounding; search every facet instead. */
        double best = -INFINITY;
        for (size_t t = 0; t < nalive; ++t) {
          double mn = bary(&h->fminv[t * (size_t)(D * D)], &h->fu0[t * (size_t)D], D, u, lam);
          if (mn > best) {
            best = mn;
            cur = (int)t;
          }
        }
      }
      gfacet[gi] = cur;
    }
    for (size_t i = 0; i < n; ++i) {
      size_t gi = g.group_of[i], r = g.rep[gi];
      h->facet_of[i] = gfacet[gi];
      if (h->stable[r]) {
        /* Same composition as a vertex: compare with the vertex itself, exactly. */
        h->vertex_of[i] = r;
        h->ehull[i] = h->form[r];
        h->eabove[i] = i == r ? 0.0 : fmax(0.0, h->energy[i] - h->energy[r]);
        continue;
      }
      int fi = gfacet[gi];
      for (int j = 0; j < D; ++j) u[j] = h->x[i * (size_t)C + (size_t)j + 1];
      bary(&h->fminv[(size_t)fi * (size_t)(D * D)], &h->fu0[(size_t)fi * (size_t)D], D, u, lam);
      double eh = 0;
      for (int k = 0; k < V; ++k) eh += lam[k] * h->form[h->fv[(size_t)fi * (size_t)V + (size_t)k]];
      h->ehull[i] = eh;
      h->eabove[i] = fmax(0.0, h->form[i] - eh);
    }
    h->computed = 1;
  }
  free(gfacet);
  free(newid);
  free(cand);
  free(cu);
  free(cf);
  builder_free(&b, &w);
  free(g.group_of);
  free(g.rep);
  if (e) {
    free_results(h);
    MS_CALL(e);
  }
  return MS_SUCCESS;
}

/* ---- queries ------------------------------------------------------------------------- */

int ms_hull_ncomponents(const ms_hull h) { return h && h->computed ? h->ncomp : 0; }

const char *ms_hull_component_name(const ms_hull h, int k) {
  return h && h->computed && k >= 0 && k < h->ncomp ? h->names[k] : "";
}

size_t ms_hull_reference(const ms_hull h, int k) {
  return h && h->computed && k >= 0 && k < h->ncomp ? h->ref[k] : NONE;
}

size_t ms_hull_nfacets(const ms_hull h) { return h && h->computed ? h->nfacets : 0; }

double ms_hull_e_above(const ms_hull h, size_t i) {
  return h && h->computed && i < h->n ? h->eabove[i] : NAN;
}

const size_t *ms_hull_stable(const ms_hull h, size_t *count) {
  if (count) *count = h && h->computed ? h->nstable : 0;
  return h && h->computed ? h->stable_list : NULL;
}

ms_err ms_hull_entry_fractions(const ms_hull h, size_t i, double *x) {
  MS_CHECK(h && x, MS_ERR_ARG, "NULL argument");
  MS_CHECK(h->computed, MS_ERR_STATE, "call ms_hull_compute first");
  MS_CHECK(i < h->n, MS_ERR_ARG, "entry %zu out of range (%zu entries)", i, h->n);
  memcpy(x, &h->x[i * (size_t)h->ncomp], sizeof(double) * (size_t)h->ncomp);
  return MS_SUCCESS;
}

ms_err ms_hull_result_get(const ms_hull h, size_t i, ms_hull_result *r) {
  MS_CHECK(h && r, MS_ERR_ARG, "NULL argument");
  MS_CHECK(h->computed, MS_ERR_STATE, "call ms_hull_compute first");
  MS_CHECK(i < h->n, MS_ERR_ARG, "entry %zu out of range (%zu entries)", i, h->n);
  memset(r, 0, sizeof *r);
  int C = h->ncomp, D = h->D, V = C;
  r->e_above_hull = h->eabove[i];
  r->formation_energy = h->form[i];
  double eref = 0;
  for (int k = 0; k < C; ++k) eref += h->x[i * (size_t)C + (size_t)k] * h->energy[h->ref[k]];
  r->hull_energy = h->ehull[i] + eref;
  r->stable = h->stable[i];
  if (h->vertex_of[i] != NONE) {
    r->ndecomp = 1;
    r->decomp[0] = h->vertex_of[i];
    r->fraction[0] = 1.0;
    return MS_SUCCESS;
  }
  int fi = h->facet_of[i];
  double lam[MAXC], u[MAXD], sum = 0;
  for (int j = 0; j < D; ++j) u[j] = h->x[i * (size_t)C + (size_t)j + 1];
  bary(&h->fminv[(size_t)fi * (size_t)(D * D)], &h->fu0[(size_t)fi * (size_t)D], D, u, lam);
  for (int k = 0; k < V; ++k)
    if (lam[k] > 1e-12) sum += lam[k];
  for (int k = 0; k < V; ++k)
    if (lam[k] > 1e-12) {
      r->decomp[r->ndecomp] = h->fv[(size_t)fi * (size_t)V + (size_t)k];
      r->fraction[r->ndecomp++] = lam[k] / sum;
    }
  return MS_SUCCESS;
}
