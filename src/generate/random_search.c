/* Generator random_search: AIRSS-like random symmetric structures (Pickard & Needs, J. Phys.:
 * Condens. Matter 23, 053201 (2011)).
 *
 * Draw i of composition i mod ncompositions is a pure function of (seed, i): every random
 * number comes from ms_rng keyed by (seed, i), and a draw that fails is retried with the next
 * numbers of the same stream. One attempt:
 *   1. Formula units Z uniformly among those for which some allowed space group can hold the
 *      composition, then a space group uniformly among those (precomputed at creation).
 *   2. Wyckoff positions for every species: a random depth-first search over the positions of
 *      the group (spacegroup.c) whose multiplicities add up to the species' count in the
 *      conventional cell; a position without free parameters holds at most one orbit. The
 *      search prunes counts that no remaining choice can complete (coin table of the
 *      positions with free parameters plus subset sums of the unused fixed ones).
 *   3. A lattice with the group's symmetry: a random metric (lengths 1..2, angles 60..120
 *      degrees) averaged over the point group (ms_spacegroup_lattice), scaled to the target
 *      volume Z * V_fu * (1 +- spread), V_fu = sum of ion volumes (Shannon radii at CN 6) /
 *      packing fraction.
 *   4. Free parameters uniform in [0, 1); atoms of the primitive cell (one image per point of
 *      the orbit modulo the centring), expressed in the Niggli-reduced primitive basis.
 *   5. Soft push: every pair closer than its minimum separation is pushed apart by its overlap
 *      (half to each atom), and the displacements of each orbit are projected onto its free
 *      parameters by least squares, so atoms move only along their Wyckoff subspace and the
 *      drawn symmetry is kept exactly. Up to 60 iterations; an attempt whose pairs cannot be
 *      separated (fixed positions, a short lattice vector) or whose overlap stagnates is
 *      abandoned.
 * Plain elements (oxidation_states: none): no neutrality, V_fu = the sum of the atoms' volumes in
 * their elemental solids (Zen's law), and covalent radii in the separation rule.
 * Minimum separations: the radii rule of gen_impl.h (factor 0.7 by default), per-pair values
 * from the configuration, and every pair at least at the catastrophe guard radius of the
 * campaign's models when they have one (physics.md §2.5: Bush O-O collapses below 1.24 Å). */
#include <math.h>
#include <spglib.h>
#include <stdlib.h>
#include <string.h>

#include "gen_impl.h"
#include "matscreen/rng.h"
#include "matscreen/wyckoff.h"

#define MAX_COMP 16
#define MAX_Z 16
#define MAX_ATOMS 256 /* per primitive cell */
#define MAX_ORBITS 128
#define MAX_PUSH 60    /* push iterations per attempt */
#define MAX_IMAGES 343 /* lattice translations searched for close pairs */
#define MAX_COUNT 1024 /* atoms of one species per conventional cell */
#define SUMWORDS (MAX_COUNT / 64 + 1)

static const double pi = 3.14159265358979323846;

typedef struct {
  ms_spacegroup sg;
  ms_wyckoff_set wy;
  int point_order;
  unsigned char coin[MAX_COUNT + 1]; /* counts reachable with free positions alone */
  int nfixed;                        /* positions without free parameters */
  int fixed[64];                     /* their indices in wy */
} sg_entry;

typedef struct {
  ms__composition comp;
  double radius[MS__GEN_MAX_SPECIES];
  double dmin[MS__GEN_MAX_SPECIES][MS__GEN_MAX_SPECIES];
  double vfu; /* target volume per formula unit, Å^3 */
  int nz;     /* Z values with at least one feasible group */
  int z[MAX_Z];
  int nfeas[MAX_Z];
  int *feas[MAX_Z]; /* group indices */
} comp_entry;

typedef struct {
  uint64_t seed;
  int64_t draws;
  int ncomp;
  comp_entry comp[MAX_COMP];
  int ngroups;
  sg_entry *groups;
  int zmin, zmax;
  double spread;
  int max_attempts;
  int sym_lo, sym_hi;
  int nlist;
  int list[230];
  int plain; /* oxidation_states: none: the compositions are plain elements */
} rs_data;

static void rs_destroy(void *d) {
  rs_data *s = d;
  if (!s) return;
  for (int g = 0; g < s->ngroups; ++g) ms_wyckoff_set_free(&s->groups[g].wy);
  free(s->groups);
  for (int c = 0; c < s->ncomp; ++c)
    for (int z = 0; z < MAX_Z; ++z) free(s->comp[c].feas[z]);
  free(s);
}

/* ---- Wyckoff assignment ------------------------------------------------------------------ */

typedef struct {
  int species;
  int wy;
} orbit_choice;

typedef struct {
  const sg_entry *g;
  const int *count;
  int nsp;
  ms_rng *rng; /* NULL: deterministic order (feasibility check) */
  orbit_choice *out;
  int norb;
  uint64_t used; /* fixed positions in use (bit = index into g->fixed) */
  long nodes, max_nodes;
} assign_state;

/* Can @p rem atoms be placed with free positions plus some unused fixed ones? */
static int completable(const sg_entry *g, int rem, uint64_t used) {
  if (rem == 0) return 1;
  uint64_t sums[SUMWORDS] = {1};
  int maxw = rem / 64;
  for (int f = 0; f < g->nfixed; ++f) {
    if (used >> f & 1) continue;
    int m = g->wy.pos[g->fixed[f]].multiplicity;
    if (m > rem) continue;
    int ws = m / 64, bs = m % 64;
    for (int w = maxw; w >= 0; --w) {
      uint64_t v = 0;
      if (w - ws >= 0) v |= sums[w - ws] << bs;
      if (bs && w - ws - 1 >= 0) v |= sums[w - ws - 1] >> (64 - bs);
      sums[w] |= v;
    }
  }
  for (int s = 0; s <= rem; ++s)
    if ((sums[s / 64] >> (s % 64) & 1) && g->coin[rem - s]) return 1;
  return 0;
}

static int fixed_bit(const sg_entry *g, int wy) {
  for (int f = 0; f < g->nfixed; ++f)
    if (g->fixed[f] == wy) return f;
  return -1;
}

static int assign_rec(assign_state *st, int sp, int rem) {
  if (++st->nodes > st->max_nodes) return 0;
  while (rem == 0) {
    if (++sp == st->nsp) return 1;
    rem = st->count[sp];
  }
  const sg_entry *g = st->g;
  int cand[256], nc = 0;
  for (int w = 0; w < g->wy.n && nc < 256; ++w) {
    const ms_wyckoff *p = &g->wy.pos[w];
    if (p->multiplicity > rem) continue;
    uint64_t used = st->used;
    if (p->dof == 0) {
      int b = fixed_bit(g, w);
      if (used >> b & 1) continue;
      used |= (uint64_t)1 << b;
    }
    if (!completable(g, rem - p->multiplicity, used)) continue;
    cand[nc++] = w;
  }
  if (st->rng)
    for (int k = nc - 1; k > 0; --k) {
      int j = (int)ms_rng_below(st->rng, (uint64_t)k + 1);
      int t = cand[k];
      cand[k] = cand[j];
      cand[j] = t;
    }
  for (int k = 0; k < nc; ++k) {
    int w = cand[k];
    if (st->norb == MAX_ORBITS) return 0;
    uint64_t saved = st->used;
    if (g->wy.pos[w].dof == 0) st->used |= (uint64_t)1 << fixed_bit(g, w);
    st->out[st->norb++] = (orbit_choice){sp, w};
    if (assign_rec(st, sp, rem - g->wy.pos[w].multiplicity)) return 1;
    st->norb--;
    st->used = saved;
    if (st->nodes > st->max_nodes) return 0;
  }
  return 0;
}

static int assign(const sg_entry *g, const int *count, int nsp, ms_rng *rng, long max_nodes,
                  orbit_choice *out, int *norb) {
  assign_state st = {g, count, nsp, rng, out, 0, 0, 0, max_nodes};
  int ok = assign_rec(&st, 0, count[0]);
  *norb = st.norb;
  return ok;
}

/* ---- geometry ---------------------------------------------------------------------------- */

static void matmul3(const double a[3][3], const double b[3][3], double c[3][3]) {
  double t[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) t[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
  memcpy(c, t, sizeof t);
}

typedef struct {
  int natoms, norb;
  int species[MAX_ATOMS];
  int orbit[MAX_ATOMS];
  int op[MAX_ATOMS];
  double r[MAX_ATOMS][3];    /* Cartesian */
  double J[MAX_ATOMS][3][3]; /* J[a][k] = d r_a / d u_k */
  int odof[MAX_ORBITS];
  int owy[MAX_ORBITS];
  double u[MAX_ORBITS][3];
} layout;

/* Cartesian positions from the free parameters. */
static void place(const ms_spacegroup *g, const ms_wyckoff_set *wy, const double Lc[3][3],
                  layout *ly) {
  for (int a = 0; a < ly->natoms; ++a) {
    int o = ly->orbit[a];
    double x[3], y[3];
    ms_wyckoff_point(&wy->pos[ly->owy[o]], ly->u[o], x);
    ms_spacegroup_apply(g, ly->op[a], x, y);
    for (int j = 0; j < 3; ++j) ly->r[a][j] = y[0] * Lc[0][j] + y[1] * Lc[1][j] + y[2] * Lc[2][j];
  }
}

/* Nearest integer without a libm call (|x| is small here: fractional differences). */
static inline double round_half(double x) { return (double)(long)(x >= 0 ? x + 0.5 : x - 0.5); }

/* One push step; returns the number of violating pairs, their summed overlap in *overlap, and
 * sets *stuck when a violation cannot be removed (an atom too close to its own image, or two
 * atoms on positions without free parameters). */
static int push_step(const layout *ly, const double Lo[3][3], const double Loinv[3][3], int nimg,
                     const double (*img)[3], const double (*dmin)[MS__GEN_MAX_SPECIES],
                     double (*disp)[3], double *overlap, int *stuck) {
  int nviol = 0;
  *overlap = 0;
  memset(disp, 0, (size_t)ly->natoms * sizeof *disp);
  for (int a = 0; a < ly->natoms; ++a)
    for (int b = a; b < ly->natoms; ++b) {
      double dm = dmin[ly->species[a]][ly->species[b]];
      double v0[3], f[3], base[3];
      for (int j = 0; j < 3; ++j) v0[j] = ly->r[b][j] - ly->r[a][j];
      for (int q = 0; q < 3; ++q) {
        f[q] = v0[0] * Loinv[0][q] + v0[1] * Loinv[1][q] + v0[2] * Loinv[2][q];
        f[q] -= round_half(f[q]);
      }
      for (int j = 0; j < 3; ++j) base[j] = f[0] * Lo[0][j] + f[1] * Lo[1][j] + f[2] * Lo[2][j];
      /* img[] holds every translation in range, the zero vector first and each +-pair
       * adjacent (+n at odd, -n at even indices), so a == b visits one of n and -n. */
      for (int m = a == b ? 1 : 0; m < nimg; m += a == b ? 2 : 1) {
        double v[3] = {base[0] + img[m][0], base[1] + img[m][1], base[2] + img[m][2]};
        double d2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
        if (d2 >= dm * dm) continue;
        ++nviol;
        double d = sqrt(d2), e[3] = {1, 0, 0};
        *overlap += dm - d;
        if (a == b || (ly->odof[ly->orbit[a]] == 0 && ly->odof[ly->orbit[b]] == 0)) {
          *stuck = 1;
          continue;
        }
        if (d > 1e-12)
          for (int j = 0; j < 3; ++j) e[j] = v[j] / d;
        /* Push a little beyond the minimum so the iteration ends. */
        double h = 0.5 * (1.02 * dm - d);
        for (int j = 0; j < 3; ++j) {
          disp[b][j] += h * e[j];
          disp[a][j] -= h * e[j];
        }
      }
    }
  return nviol;
}

/* Least-squares projection of the displacements onto each orbit's free parameters. */
static void project(layout *ly, const double (*disp)[3]) {
  double A[MAX_ORBITS][3][3], rhs[MAX_ORBITS][3];
  memset(A, 0, (size_t)ly->norb * sizeof A[0]);
  memset(rhs, 0, (size_t)ly->norb * sizeof rhs[0]);
  for (int a = 0; a < ly->natoms; ++a) {
    int o = ly->orbit[a], m = ly->odof[o];
    for (int k = 0; k < m; ++k) {
      for (int l = 0; l < m; ++l)
        A[o][k][l] += ly->J[a][k][0] * ly->J[a][l][0] + ly->J[a][k][1] * ly->J[a][l][1] +
                      ly->J[a][k][2] * ly->J[a][l][2];
      rhs[o][k] +=
          ly->J[a][k][0] * disp[a][0] + ly->J[a][k][1] * disp[a][1] + ly->J[a][k][2] * disp[a][2];
    }
  }
  for (int o = 0; o < ly->norb; ++o) {
    int m = ly->odof[o];
    if (m == 0) continue;
    double du[3] = {0, 0, 0};
    if (m == 1) {
      du[0] = rhs[o][0] / A[o][0][0];
    } else if (m == 2) {
      double d = A[o][0][0] * A[o][1][1] - A[o][0][1] * A[o][1][0];
      du[0] = (rhs[o][0] * A[o][1][1] - rhs[o][1] * A[o][0][1]) / d;
      du[1] = (A[o][0][0] * rhs[o][1] - A[o][1][0] * rhs[o][0]) / d;
    } else {
      double inv[3][3];
      ms_mat3_inv(A[o], inv);
      for (int k = 0; k < 3; ++k)
        du[k] = inv[k][0] * rhs[o][0] + inv[k][1] * rhs[o][1] + inv[k][2] * rhs[o][2];
    }
    for (int k = 0; k < m; ++k) {
      if (!isfinite(du[k])) continue;
      ly->u[o][k] += du[k];
      ly->u[o][k] -= floor(ly->u[o][k]);
    }
  }
}

/* ---- one draw ---------------------------------------------------------------------------- */

static ms_err rs_build(const void *d, int64_t i, ms_cell *out, ms_candidate_info *info) {
  const rs_data *s = d;
  const comp_entry *ce = &s->comp[i % s->ncomp];
  const ms__composition *comp = &ce->comp;
  ms_rng rng;
  ms_rng_init(&rng, s->seed, (uint64_t)i);
  layout ly;
  double disp[MAX_ATOMS][3];
  orbit_choice orb[MAX_ORBITS];
  char last_reason[160] = "no attempt";
  ms_cell_free(out);
  for (int attempt = 0; attempt < s->max_attempts; ++attempt) {
    int zi = (int)ms_rng_below(&rng, (uint64_t)ce->nz);
    int Z = ce->z[zi];
    const sg_entry *g = &s->groups[ce->feas[zi][ms_rng_below(&rng, (uint64_t)ce->nfeas[zi])]];
    int nc = g->sg.ncentring;
    int count[MS__GEN_MAX_SPECIES];
    for (int k = 0; k < comp->n; ++k) count[k] = comp->count[k] * Z * nc;
    int norb = 0;
    if (!assign(g, count, comp->n, &rng, 4000, orb, &norb)) {
      snprintf(last_reason, sizeof last_reason, "no Wyckoff assignment found in %s", g->sg.symbol);
      continue;
    }
    /* Lattice. */
    double g0[3][3], len[3], ang[3], Lc[3][3];
    for (int k = 0; k < 3; ++k) len[k] = 1 + ms_rng_uniform(&rng);
    for (int k = 0; k < 3; ++k) ang[k] = (60 + 60 * ms_rng_uniform(&rng)) * (pi / 180);
    g0[0][0] = len[0] * len[0];
    g0[1][1] = len[1] * len[1];
    g0[2][2] = len[2] * len[2];
    g0[1][2] = g0[2][1] = len[1] * len[2] * cos(ang[0]);
    g0[0][2] = g0[2][0] = len[0] * len[2] * cos(ang[1]);
    g0[0][1] = g0[1][0] = len[0] * len[1] * cos(ang[2]);
    double vol = ce->vfu * Z * nc * (1 + s->spread * (2 * ms_rng_uniform(&rng) - 1));
    if (ms_spacegroup_lattice(&g->sg, g0, vol, Lc) != MS_SUCCESS) {
      ms_err_clear();
      snprintf(last_reason, sizeof last_reason, "degenerate random metric");
      continue;
    }
    /* Output basis: Niggli-reduced primitive cell, L_out = M L_conv with M = T P. */
    double Lp[3][3], Lo[3][3], M[3][3], Loinv[3][3];
    matmul3(g->sg.to_primitive, Lc, Lp);
    double col[3][3];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) col[a][b] = Lp[b][a];
    double eps = 1e-5 * cbrt(fabs(ms_mat3_det(Lp)));
    if (spg_niggli_reduce(col, eps)) {
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) Lo[a][b] = col[b][a];
    } else {
      memcpy(Lo, Lp, sizeof Lo);
    }
    if (ms_mat3_det(Lo) < 0)
      for (int b = 0; b < 3; ++b) Lo[2][b] = -Lo[2][b];
    double Lcinv[3][3];
    ms_mat3_inv(Lc, Lcinv);
    matmul3(Lo, Lcinv, M); /* rows of L_out in conventional fractional coordinates */
    ms_mat3_inv(Lo, Loinv);
    /* Atoms of the primitive cell and their Jacobians. */
    ly.natoms = 0;
    ly.norb = norb;
    int too_many = 0;
    for (int o = 0; o < norb && !too_many; ++o) {
      const ms_wyckoff *w = &g->wy.pos[orb[o].wy];
      ly.owy[o] = orb[o].wy;
      ly.odof[o] = w->dof;
      for (int k = 0; k < 3; ++k) ly.u[o][k] = k < w->dof ? ms_rng_uniform(&rng) : 0;
      int nprim = w->multiplicity / nc;
      for (int q = 0; q < nprim; ++q) {
        if (ly.natoms == MAX_ATOMS) {
          too_many = 1;
          break;
        }
        int a = ly.natoms++;
        ly.species[a] = orb[o].species;
        ly.orbit[a] = o;
        ly.op[a] = w->ops[q];
        const int(*R)[3] = g->sg.rot[w->ops[q]];
        for (int k = 0; k < w->dof; ++k) {
          double rd[3];
          for (int r = 0; r < 3; ++r)
            rd[r] = R[r][0] * w->dir[k][0] + R[r][1] * w->dir[k][1] + R[r][2] * w->dir[k][2];
          for (int j = 0; j < 3; ++j)
            ly.J[a][k][j] = rd[0] * Lc[0][j] + rd[1] * Lc[1][j] + rd[2] * Lc[2][j];
        }
      }
    }
    if (too_many) {
      snprintf(last_reason, sizeof last_reason, "more than %d atoms", MAX_ATOMS);
      continue;
    }
    /* Image range for the largest minimum separation. */
    double dmax = 0;
    for (int a = 0; a < comp->n; ++a)
      for (int b = 0; b < comp->n; ++b) dmax = fmax(dmax, ce->dmin[a][b]);
    int nmax[3];
    double V = fabs(ms_mat3_det(Lo));
    for (int k = 0; k < 3; ++k) {
      const double *u = Lo[(k + 1) % 3], *v = Lo[(k + 2) % 3];
      double c[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                     u[0] * v[1] - u[1] * v[0]};
      double width = V / sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
      nmax[k] = (int)floor(dmax / width + 0.5);
    }
    /* Translations n L_out in range: zero first, then +n, -n pairs. */
    if ((2 * nmax[0] + 1) * (2 * nmax[1] + 1) * (2 * nmax[2] + 1) > MAX_IMAGES) {
      snprintf(last_reason, sizeof last_reason, "cell too thin for the minimum separations");
      continue;
    }
    double img[MAX_IMAGES][3];
    int nimg = 1;
    memset(img[0], 0, sizeof img[0]);
    for (int n0 = 0; n0 <= nmax[0]; ++n0)
      for (int n1 = -nmax[1]; n1 <= nmax[1]; ++n1)
        for (int n2 = -nmax[2]; n2 <= nmax[2]; ++n2) {
          if (n0 == 0 && (n1 < 0 || (n1 == 0 && n2 <= 0))) continue;
          for (int j = 0; j < 3; ++j) {
            img[nimg][j] = n0 * Lo[0][j] + n1 * Lo[1][j] + n2 * Lo[2][j];
            img[nimg + 1][j] = -img[nimg][j];
          }
          nimg += 2;
        }

    /* Push; give up when stuck, or when the summed overlap has not dropped by a fifth over
     * the last 10 iterations (a jammed arrangement: a new draw is cheaper). */
    int ok = 0, stuck = 0;
    double hist[MAX_PUSH];
    for (int it = 0; it < MAX_PUSH && !stuck; ++it) {
      place(&g->sg, &g->wy, Lc, &ly);
      int nv = push_step(&ly, Lo, Loinv, nimg, (const double(*)[3])img, ce->dmin, disp, &hist[it],
                         &stuck);
      if (nv == 0) {
        ok = 1;
        break;
      }
      if (it >= 4 && hist[it] > 0.8 * hist[it - 4]) break;
      project(&ly, (const double(*)[3])disp);
    }
    if (!ok) {
      snprintf(last_reason, sizeof last_reason, "%s in %s: minimum separations not reached",
               stuck ? "an atom too close to its own image" : "push did not converge",
               g->sg.symbol);
      continue;
    }
    /* The cell. */
    ms_cell_set_lattice(out, Lo);
    MS_CALL(ms_cell_reserve(out, ly.natoms));
    int kind[MS__GEN_MAX_SPECIES];
    for (int k = 0; k < comp->n; ++k) MS_CALL(ms_cell_add_species(out, &comp->sp[k], &kind[k]));
    for (int sp = 0; sp < comp->n; ++sp)
      for (int a = 0; a < ly.natoms; ++a) {
        if (ly.species[a] != sp) continue;
        double f[3];
        for (int q = 0; q < 3; ++q) {
          f[q] = ly.r[a][0] * Loinv[0][q] + ly.r[a][1] * Loinv[1][q] + ly.r[a][2] * Loinv[2][q];
          f[q] -= floor(f[q]);
          if (f[q] >= 1.0) f[q] = 0.0;
        }
        MS_CALL(ms_cell_add_site(out, kind[sp], f));
      }
    snprintf(out->label, sizeof out->label, "random_search:%s:Z=%d:%s#%lld", comp->formula, Z,
             g->sg.symbol, (long long)i);
    info->spacegroup = g->sg.number;
    info->hall = g->sg.hall;
    info->formula_units = Z;
    memcpy(info->basis, M, sizeof M);
    return MS_SUCCESS;
  }
  info->status = MS_STATUS_FAILED;
  snprintf(info->detail, sizeof info->detail, "no structure after %d attempts (last: %.140s)",
           s->max_attempts, last_reason);
  snprintf(info->formula, sizeof info->formula, "%.31s", comp->formula);
  snprintf(out->label, sizeof out->label, "random_search:%s#%lld", comp->formula, (long long)i);
  return MS_SUCCESS;
}

/* ---- configuration ----------------------------------------------------------------------- */

static const char *const rs_keys[] = {
    "generator",   "compositions", "oxidation_states", "formula_units", "draws", "symmetry_ops",
    "spacegroups", "volume",       "min_separation",   "max_attempts",  "seed",  NULL};
static const char *const volume_keys[] = {"packing_fraction", "spread", "per_formula_unit_A3",
                                          NULL};
static const char *const minsep_keys[] = {"factor", "pairs", NULL};

static ms_err setup_group(sg_entry *e, int number) {
  MS_CALL(ms_spacegroup_load(ms_spacegroup_default_hall(number), &e->sg));
  MS_CALL(ms_wyckoff_set_compute(&e->sg, &e->wy));
  e->point_order = ms_spacegroup_point_order(&e->sg);
  e->coin[0] = 1;
  for (int c = 1; c <= MAX_COUNT; ++c)
    for (int w = 0; w < e->wy.n && !e->coin[c]; ++w)
      if (e->wy.pos[w].dof > 0 && e->wy.pos[w].multiplicity <= c)
        e->coin[c] = e->coin[c - e->wy.pos[w].multiplicity];
  for (int w = 0; w < e->wy.n; ++w)
    if (e->wy.pos[w].dof == 0 && e->nfixed < 64) e->fixed[e->nfixed++] = w;
  return MS_SUCCESS;
}

static ms_err parse_minsep(rs_data *s, ms_ynode *item, const char *path,
                           const ms_generator_context *ctx) {
  double factor = 0.7;
  char sub[192];
  snprintf(sub, sizeof sub, "%s.min_separation", path);
  ms_ynode *ms = ms_ynode_get(item, "min_separation");
  ms_ynode *pairs = NULL;
  if (ms) {
    MS_CALL(ms_ynode_expect(ms, MS_YMAP, sub));
    MS_CALL(ms_ynode_key_double(ms, "factor", sub, 0.1, 2.0, &factor, NULL));
    pairs = ms_ynode_get(ms, "pairs");
    MS_CALL(ms_ynode_check_unused(ms, sub, minsep_keys));
  }
  for (int c = 0; c < s->ncomp; ++c) {
    comp_entry *ce = &s->comp[c];
    const ms__composition *cp = &ce->comp;
    double ranion = 0, xan = -1;
    for (int k = 0; k < cp->n; ++k) {
      if (cp->sp[k].ox >= 0) continue;
      const ms_element *el = ms_element_by_z(cp->sp[k].Z);
      double x = el && !isnan(el->electronegativity) ? el->electronegativity : 0;
      if (x > xan) {
        xan = x;
        ranion = ce->radius[k];
      }
    }
    for (int a = 0; a < cp->n; ++a)
      for (int b = 0; b < cp->n; ++b) {
        ce->dmin[a][b] = ms__pair_min_separation(&cp->sp[a], ce->radius[a], &cp->sp[b],
                                                 ce->radius[b], ranion, factor);
        /* 0 for a pair a model does not cover: the coverage check says so */
        for (int m = 0; m < ctx->nmodels; ++m)
          ce->dmin[a][b] = fmax(ce->dmin[a][b], ms_model_min_distance(ctx->models[m], &cp->sp[a], &cp->sp[b]));
      }
  }
  if (!pairs) return MS_SUCCESS;
  char pp[224];
  snprintf(pp, sizeof pp, "%s.pairs", sub);
  MS_CALL(ms_ynode_expect(pairs, MS_YSEQ, pp));
  for (int k = 0; k < pairs->n; ++k) {
    char ip[240];
    snprintf(ip, sizeof ip, "%s[%d]", pp, k);
    ms_ynode *e = pairs->items[k];
    MS_CALL(ms_ynode_expect(e, MS_YSEQ, ip));
    if (e->n != 3) return ms_ynode_error(e, ip, "must be [ION, ION, distance_A]");
    ms_species a, b;
    double dist;
    if (s->plain) {
      MS_CALL(ms__y_species(e->items[0], ip, &a));
      MS_CALL(ms__y_species(e->items[1], ip, &b));
      if (a.has_ox || b.has_ox)
        return ms_ynode_error(e, ip, "the compositions are plain elements (oxidation_states: "
                                     "none): give elements, e.g. [Ni, Al, 2.0]");
    } else {
      MS_CALL(ms__y_ion(e->items[0], ip, &a));
      MS_CALL(ms__y_ion(e->items[1], ip, &b));
    }
    MS_CALL(ms_ynode_double(e->items[2], ip, &dist));
    if (!(dist >= 0 && dist < 10)) return ms_ynode_error(e->items[2], ip, "must be in [0, 10) Å");
    int hit = 0;
    for (int c = 0; c < s->ncomp; ++c) {
      comp_entry *ce = &s->comp[c];
      for (int i = 0; i < ce->comp.n; ++i)
        for (int j = 0; j < ce->comp.n; ++j)
          if ((ms_species_equal(&ce->comp.sp[i], &a) && ms_species_equal(&ce->comp.sp[j], &b)) ||
              (ms_species_equal(&ce->comp.sp[i], &b) && ms_species_equal(&ce->comp.sp[j], &a))) {
            ce->dmin[i][j] = dist;
            hit = 1;
          }
    }
    if (!hit)
      return ms_ynode_error(e, ip, "no composition has this pair of %s", s->plain ? "elements" : "ions");
  }
  return MS_SUCCESS;
}

static ms_err rs_setup(rs_data *s, ms_ynode *item, const char *path,
                       const ms_generator_context *ctx) {
  char sub[192];
  s->seed = ctx->seed;
  long long v;
  int found = 0;
  MS_CALL(ms_ynode_key_int(item, "seed", path, 0, INT64_MAX, &v, &found));
  if (found) s->seed = (uint64_t)v;
  /* Oxidation states. */
  int ox_by_Z[MS_MAX_Z + 1] = {0};
  unsigned char has_ox[MS_MAX_Z + 1] = {0};
  ms_ynode *on = ms_ynode_get(item, "oxidation_states");
  if (on && on->type == MS_YSCALAR) {
    snprintf(sub, sizeof sub, "%s.oxidation_states", path);
    const char *t;
    MS_CALL(ms_ynode_string(on, sub, &t));
    if (strcmp(t, "none") != 0)
      return ms_ynode_error(on, sub, "must be a map {EL: N, ...} or none (plain elements), got '%s'", t);
    s->plain = 1;
  } else if (on) {
    snprintf(sub, sizeof sub, "%s.oxidation_states", path);
    MS_CALL(ms_ynode_expect(on, MS_YMAP, sub));
    for (int k = 0; k < on->n; ++k) {
      on->used[k] = 1;
      char ep[224];
      snprintf(ep, sizeof ep, "%s.%s", sub, on->keys[k]->value);
      const ms_element *el = ms_element_by_symbol(on->keys[k]->value);
      if (!el) return ms_ynode_error(on->keys[k], ep, "unknown element");
      long long q;
      MS_CALL(ms_ynode_int(on->items[k], ep, &q));
      if (q == 0 || q < -8 || q > 8)
        return ms_ynode_error(on->items[k], ep, "must be in -8..8, not 0");
      ox_by_Z[el->Z] = (int)q;
      has_ox[el->Z] = 1;
    }
  }
  snprintf(sub, sizeof sub, "%s.compositions", path);
  ms_ynode *cn = ms_ynode_get(item, "compositions");
  if (!cn) return ms_ynode_error(item, path, "missing required key 'compositions' (e.g. [SrTiO3])");
  int ncomp = cn->type == MS_YSEQ ? cn->n : 1;
  if (ncomp < 1 || ncomp > MAX_COMP)
    return ms_ynode_error(cn, sub, "give 1..%d compositions", MAX_COMP);
  for (int c = 0; c < ncomp; ++c) {
    char cp[224];
    snprintf(cp, sizeof cp, "%s[%d]", sub, c);
    ms_ynode *node = cn->type == MS_YSEQ ? cn->items[c] : cn;
    comp_entry *ce = &s->comp[c];
    MS_CALL(ms__composition_parse(node, cp, ox_by_Z, has_ox, s->plain, &ce->comp));
    double v = 0;
    for (int k = 0; k < ce->comp.n; ++k) {
      const ms_element *el = ms_element_by_z(ce->comp.sp[k].Z);
      if (ms__species_radius(&ce->comp.sp[k], 6, &ce->radius[k]) != MS_SUCCESS ||
          (s->plain && !(el->atomic_volume > 0))) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", ms_err_message());
        ms_err_clear();
        if (!msg[0])
          snprintf(msg, sizeof msg, "%s: the element table has no atomic volume for it", el->symbol);
        return ms_ynode_error(node, cp, "%s", msg);
      }
      /* ions: spheres of Shannon radii (divided by the packing fraction below); plain
       * elements: the atoms' volumes in their elemental solids (Zen's law) */
      if (s->plain)
        v += ce->comp.count[k] * el->atomic_volume;
      else
        v += ce->comp.count[k] * 4.0 / 3.0 * pi * pow(ce->radius[k], 3);
    }
    ce->vfu = v;
    s->ncomp = c + 1;
  }
  long long z[2] = {1, 4};
  MS_CALL(ms_ynode_key_int_range(item, "formula_units", path, 1, MAX_Z, z, NULL));
  s->zmin = (int)z[0];
  s->zmax = (int)z[1];
  long long draws = 0;
  MS_CALL(ms_ynode_key_int(item, "draws", path, 1, (long long)1 << 40, &draws, &found));
  if (!found) return ms_ynode_error(item, path, "missing required key 'draws' (per composition)");
  s->draws = draws;
  /* Volume. */
  double packing = 0.7, per_fu = 0;
  s->spread = 0.2;
  ms_ynode *vn = ms_ynode_get(item, "volume");
  if (vn) {
    snprintf(sub, sizeof sub, "%s.volume", path);
    MS_CALL(ms_ynode_expect(vn, MS_YMAP, sub));
    if (s->plain && ms_ynode_get(vn, "packing_fraction"))
      return ms_ynode_error(ms_ynode_get(vn, "packing_fraction"), sub,
                            "packing_fraction applies to ions (spheres of Shannon radii); for "
                            "plain elements the volume is the sum of the atoms' volumes in their "
                            "elemental solids: set per_formula_unit_A3 to change it");
    MS_CALL(ms_ynode_key_double(vn, "packing_fraction", sub, 0.05, 1.5, &packing, NULL));
    MS_CALL(ms_ynode_key_double(vn, "spread", sub, 0, 0.9, &s->spread, NULL));
    MS_CALL(ms_ynode_key_double(vn, "per_formula_unit_A3", sub, 1, 1e5, &per_fu, &found));
    if (found && s->ncomp > 1)
      return ms_ynode_error(vn, sub, "per_formula_unit_A3 needs exactly one composition");
    MS_CALL(ms_ynode_check_unused(vn, sub, volume_keys));
  }
  for (int c = 0; c < s->ncomp; ++c)
    s->comp[c].vfu = per_fu > 0 ? per_fu : s->comp[c].vfu / (s->plain ? 1.0 : packing);
  long long att = 50;
  MS_CALL(ms_ynode_key_int(item, "max_attempts", path, 1, 100000, &att, NULL));
  s->max_attempts = (int)att;
  /* Space groups. */
  ms_ynode *so = ms_ynode_get(item, "symmetry_ops"), *sl = ms_ynode_get(item, "spacegroups");
  if (so && sl)
    return ms_ynode_error(sl, path, "give either symmetry_ops or spacegroups, not both");
  long long ops[2] = {1, 48};
  MS_CALL(ms_ynode_key_int_range(item, "symmetry_ops", path, 1, 48, ops, NULL));
  s->sym_lo = (int)ops[0];
  s->sym_hi = (int)ops[1];
  int want[231] = {0};
  if (sl) {
    snprintf(sub, sizeof sub, "%s.spacegroups", path);
    int nl = sl->type == MS_YSEQ ? sl->n : 1;
    for (int k = 0; k < nl; ++k) {
      ms_ynode *node = sl->type == MS_YSEQ ? sl->items[k] : sl;
      long long n;
      MS_CALL(ms_ynode_int(node, sub, &n));
      if (n < 1 || n > 230)
        return ms_ynode_error(node, sub, "space-group numbers are 1..230, got %lld", n);
      if (want[n]) return ms_ynode_error(node, sub, "space group %lld listed twice", n);
      want[n] = 1;
      s->list[s->nlist++] = (int)n;
    }
  }
  MS_CHECK((s->groups = calloc(230, sizeof *s->groups)) != NULL, MS_ERR_MEM, "out of memory");
  for (int n = 1; n <= 230; ++n) {
    if (sl && !want[n]) continue;
    sg_entry *e = &s->groups[s->ngroups];
    MS_CALL(setup_group(e, n));
    if (!sl && (e->point_order < s->sym_lo || e->point_order > s->sym_hi)) {
      ms_wyckoff_set_free(&e->wy);
      memset(e, 0, sizeof *e);
      continue;
    }
    s->ngroups++;
  }
  MS_CALL(parse_minsep(s, item, path, ctx));
  /* Feasible (Z, group) pairs per composition. */
  for (int c = 0; c < s->ncomp; ++c) {
    comp_entry *ce = &s->comp[c];
    int natoms_fu = 0;
    for (int k = 0; k < ce->comp.n; ++k) natoms_fu += ce->comp.count[k];
    for (int Z = s->zmin; Z <= s->zmax; ++Z) {
      if (natoms_fu * Z > MAX_ATOMS)
        return ms_ynode_error(item, path, "%s with %d formula units has more than %d atoms",
                              ce->comp.formula, Z, MAX_ATOMS);
      int *list = malloc((size_t)s->ngroups * sizeof *list), n = 0;
      MS_CHECK(list, MS_ERR_MEM, "out of memory");
      for (int g = 0; g < s->ngroups; ++g) {
        int count[MS__GEN_MAX_SPECIES], fits = 1;
        for (int k = 0; k < ce->comp.n; ++k) {
          count[k] = ce->comp.count[k] * Z * s->groups[g].sg.ncentring;
          fits &= count[k] <= MAX_COUNT;
        }
        orbit_choice orb[MAX_ORBITS];
        int norb;
        if (fits && assign(&s->groups[g], count, ce->comp.n, NULL, 20000, orb, &norb))
          list[n++] = g;
      }
      if (n == 0) {
        free(list);
        continue;
      }
      ce->z[ce->nz] = Z;
      ce->nfeas[ce->nz] = n;
      ce->feas[ce->nz] = list;
      ce->nz++;
    }
    if (ce->nz == 0)
      return ms_ynode_error(item, path, "%s: no allowed space group holds %d..%d formula units",
                            ce->comp.formula, s->zmin, s->zmax);
  }
  return ms_ynode_check_unused(item, path, rs_keys);
}

static ms_err rs_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                        void **out) {
  rs_data *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  ms_err e = rs_setup(s, item, path, ctx);
  if (e) {
    rs_destroy(s);
    return e;
  }
  *out = s;
  return MS_SUCCESS;
}

static int64_t rs_count(const void *d) {
  const rs_data *s = d;
  return s->draws * s->ncomp;
}

static ms_err rs_describe(const void *d, FILE *fp) {
  const rs_data *s = d;
  fprintf(fp, "random_search: %lld draws (%lld per composition), seed %llu\n",
          (long long)rs_count(d), (long long)s->draws, (unsigned long long)s->seed);
  for (int c = 0; c < s->ncomp; ++c) {
    const comp_entry *ce = &s->comp[c];
    fprintf(fp, "  %-12s V_fu %.1f Å^3 (+-%.0f%%); formula units:", ce->comp.formula, ce->vfu,
            100 * s->spread);
    for (int z = 0; z < ce->nz; ++z) fprintf(fp, " %d (%d groups)", ce->z[z], ce->nfeas[z]);
    fprintf(fp, "\n  minimum separations (Å):");
    for (int a = 0; a < ce->comp.n; ++a)
      for (int b = a; b < ce->comp.n; ++b) {
        char la[24], lb[24];
        fprintf(fp, " %s-%s %.2f", ms_species_format(&ce->comp.sp[a], la, sizeof la),
                ms_species_format(&ce->comp.sp[b], lb, sizeof lb), ce->dmin[a][b]);
      }
    fprintf(fp, "\n");
  }
  return MS_SUCCESS;
}

static int rs_species(const void *d, ms_species *out, int max) {
  const rs_data *s = d;
  int n = 0;
  for (int c = 0; c < s->ncomp; ++c)
    for (int k = 0; k < s->comp[c].comp.n; ++k) ms__species_collect(out, &n, max, &s->comp[c].comp.sp[k]);
  return n;
}

static const ms_generator_ops rs_ops = {rs_create, rs_count, rs_build, rs_describe, rs_destroy, rs_species};

static const ms_param_spec rs_params[] = {
    {"compositions", "list of formulas", "",
     "e.g. [SrTiO3, BaTiO3]; draw i uses composition i mod n"},
    {"oxidation_states", "map element -> integer, or none", "guessed",
     "oxidation states; otherwise the unique neutral assignment of common states with anions "
     "more electronegative than cations; none: the compositions are plain elements (no "
     "neutrality; volume from the elements' atomic volumes, separations from covalent radii)"},
    {"formula_units", "N or [min, max]", "[1, 4]", "formula units per primitive cell (1..16)"},
    {"draws", "integer", "", "draws per composition"},
    {"symmetry_ops", "[min, max]", "[1, 48]",
     "allowed numbers of symmetry operations per primitive cell (point-group order)"},
    {"spacegroups", "list of numbers", "those allowed by symmetry_ops",
     "allowed space groups instead of symmetry_ops"},
    {"volume", "{packing_fraction, spread, per_formula_unit_A3}", "{0.7, 0.2}",
     "target volume = sum of ion volumes (Shannon radii, CN 6) / packing_fraction (plain "
     "elements: sum of the atoms' volumes in their elemental solids), drawn within +-spread"},
    {"min_separation", "{factor, pairs: [[ION, ION, Å], ...]}", "{factor: 0.7}",
     "minimum distances: factor x radius sums (cations: across a shared anion; plain elements: "
     "covalent radii), per-pair values, and at least the catastrophe guard of the campaign's "
     "models"},
    {"max_attempts", "integer", "50", "attempts per draw before it is reported as failed"},
    {"seed", "integer", "campaign seed", "override the item's seed"},
    {NULL, NULL, NULL, NULL},
};

static const char *const rs_refs[] = {
    "C. J. Pickard and R. J. Needs, Ab initio random structure searching, J. Phys.: Condens. "
    "Matter 23, 053201 (2011)",
    "A. Merchant et al., Nature 624, 80 (2023) (random structure search in GNoME)",
    NULL,
};

const ms_generator_info ms__generator_random_search = {
    "random_search",
    "AIRSS-like random structures on Wyckoff positions of drawn space groups, pushed apart to "
    "minimum separations",
    rs_params, rs_refs, &rs_ops};
