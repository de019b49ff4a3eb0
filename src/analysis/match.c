/* Structure matching with the semantics of pymatgen's StructureMatcher (Ong et al., Comput.
 * Mater. Sci. 68, 314 (2013), and pymatgen.analysis.structure_matcher), written for speed:
 * each structure is reduced once (ms_match_prepare), and a comparison works on integer basis
 * changes of the reduced cells.
 *
 * Reduction. As pymatgen: Niggli-reduce, look for a smaller cell, Niggli-reduce again. The
 * smaller cell is found with the algorithm of pymatgen's get_primitive_structure (see
 * find_primitive; tolerance 0.25 Å, pymatgen's default), so that noisy supercells are reduced
 * in the same cases.
 *
 * Comparison of struct1 (a) with struct2 (b), after checking the reduced compositions and site
 * counts and the optional space-group guard:
 * 1. Scale both lattices to the geometric-mean volume (a by r, b by 1/r, r = (Vb/Va)^(1/6)).
 * 2. Lattice mappings: every triple of lattice vectors of a, of lengths within a factor 1+ltol
 *    of b's reduced a, b, c (strictly, as pymatgen), with the three angles within angle_tol of
 *    b's, forming a basis (|det| = 1 of the integer matrix S, either handedness).
 * 3. For each mapping, a's fractional coordinates in the new basis are f S^-1 (exact, S is
 *    unimodular); both structures sit on the average lattice (mean lattice parameters).
 *    Tolerances: frac_tol_k = 2 stol / (norm d_k), with d_k the spacing of lattice planes k
 *    and norm = (N / V_avg)^(1/3).
 * 4. Translations: the anchor is the first site of b of the rarest species (fewest sites), and
 *    each site of a of that species is tried as its image. A translation is kept if every
 *    site of b has a site of a of its species within frac_tol along every axis.
 * 5. Distances on the average lattice: pairs further apart than frac_tol (computed with the
 *    Niggli-reduced average lattice) along some reduced axis are excluded, the others take the
 *    shortest of 27 images; the Hungarian method (Kuhn-Munkres, with potentials) finds the
 *    assignment of least total squared distance within each species; the mean displacement is
 *    removed; each displacement is multiplied by norm.
 * 6. Match: some mapping and translation with every displacement below stol. The reported RMS
 *    and maximum are those of the mapping with the least RMS (a search over every mapping
 *    that stops early only at RMS < 1e-5, as get_rms_dist).
 *
 * Grouping keys on (reduced composition, primitive site count) and compares within a key
 * bucket only; the successive minima of the lattices (exact) and a neighbour-distance
 * fingerprint (heuristic) cut the pairs that reach step 2, and the space-group guard is
 * applied to geometric matches only (see group_records). */
#include "matscreen/match.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matscreen/symmetry.h"

#define BIG 1e20
#define PI 3.14159265358979323846

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

static ms_err check_options(const ms_match_options *o) {
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

/* ---- 3x3 helpers (row vectors: r = f L) ---------------------------------------------- */

static int idet3(const int m[3][3]) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* Inverse of a unimodular integer matrix (adjugate times det = +-1). */
static void iinv3(const int m[3][3], int det, int inv[3][3]) {
  inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) * det;
  inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) * det;
  inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) * det;
  inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) * det;
  inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) * det;
  inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) * det;
  inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) * det;
  inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) * det;
  inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) * det;
}

static double norm3(const double v[3]) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }
static double dot3(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static void cross3(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

/* Spacings of the lattice planes (V / |a_j x a_k|). */
static void plane_spacings(const double L[3][3], double d[3]) {
  double v = fabs(ms_mat3_det(L));
  for (int k = 0; k < 3; ++k) {
    double c[3];
    cross3(L[(k + 1) % 3], L[(k + 2) % 3], c);
    d[k] = v / norm3(c);
  }
}

static double angle_deg(const double a[3], const double b[3]) {
  double c = dot3(a, b) / (norm3(a) * norm3(b));
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  return acos(c) * 180.0 / PI;
}

static double wrap01(double x) {
  double y = x - floor(x);
  return y >= 1.0 ? 0.0 : y;
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

static long long gcdll(long long a, long long b) {
  while (b) {
    long long t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

/* ---- primitive cell ------------------------------------------------------------------ */

/* Per-axis box distance test of a fractional difference. */
static int box_close(const double d[3], const double tol[3]) {
  for (int k = 0; k < 3; ++k) {
    double x = d[k] - nearbyint(d[k]);
    if (fabs(x) >= tol[k]) return 0;
  }
  return 1;
}

/* Supercell matrices of pymatgen's get_primitive_structure: for det = a e g, the upper
 * triangular Hermite forms [[a, b, c], [0, e, f], [0, 0, g]] with 0 <= b, c < a and
 * 0 <= f < e, in the order a (divisors of det, ascending), e (divisors of det / a), b, c, f.
 * Writes the one with index @p k into M; returns 0 when k is past the last. */
static int hnf_matrix(int det, int k, int M[3][3]) {
  for (int a = 1; a <= det; ++a) {
    if (det % a) continue;
    for (int e = 1; e <= det / a; ++e) {
      if ((det / a) % e) continue;
      int g = det / a / e, n = a * a * e;
      if (k >= n) {
        k -= n;
        continue;
      }
      int b = k / (a * e), c = (k / e) % a, f = k % e;
      int m[3][3] = {{a, b, c}, {0, e, f}, {0, 0, g}};
      memcpy(M, m, sizeof m);
      return 1;
    }
  }
  return 0;
}

/* Try the supercell matrix M (det = size) on c: the images of each species' sites in the
 * candidate primitive cell (coordinates f M) must fall into cliques of exactly @p size sites
 * that are close in the new cell (box tol / |a'_k|) and apart in the old one (some axis beyond
 * the doubled tolerance sft2); each clique becomes one site at the running average of the
 * minimum-image offsets. Species are taken in the order of their labels and sites in input
 * order, as pymatgen builds its result. *ok = 0 when M does not work. */
static ms_err try_supercell(const ms_cell *c, const int *korder, const int M[3][3], int size, double tol,
                            const double sft2[3], ms_cell *out, int *ok) {
  int N = c->natoms;
  *ok = 0;
  double Md[3][3], Minv[3][3], L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) Md[i][k] = M[i][k];
  ms_mat3_inv(Md, Minv);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) L[i][k] = Minv[i][0] * c->lattice[0][k] + Minv[i][1] * c->lattice[1][k] + Minv[i][2] * c->lattice[2][k];
  double ftol[3];
  for (int k = 0; k < 3; ++k) ftol[k] = tol / norm3(L[k]);
  double (*nf)[3] = NULL;
  int *added = NULL, *members = NULL;
  unsigned char *grp = NULL;
  ms_err e = MS_CALLOC((size_t)N, &nf);
  if (!e) e = MS_CALLOC((size_t)N, &added);
  if (!e) e = MS_CALLOC((size_t)N, &members);
  if (!e) e = MS_CALLOC((size_t)N * (size_t)N, &grp);
  ms_cell tmp;
  ms_cell_init(&tmp);
  int valid = !e;
  if (valid) {
    for (int i = 0; i < N; ++i)
      for (int k = 0; k < 3; ++k) nf[i][k] = c->frac[i][0] * Md[0][k] + c->frac[i][1] * Md[1][k] + c->frac[i][2] * Md[2][k];
    ms_cell_set_lattice(&tmp, (const double (*)[3])L);
    snprintf(tmp.label, sizeof tmp.label, "%s", c->label);
  }
  /* grp[i][j]: same species, close in the new cell, and not neighbours in the old one. */
  for (int i = 0; i < N && valid; ++i)
    for (int j = 0; j < N; ++j) {
      unsigned char v = 0;
      if (c->kind[i] == c->kind[j]) {
        if (i == j) {
          v = 1;
        } else {
          double dn[3], dold[3];
          int close = 1, apart = 0;
          for (int k = 0; k < 3; ++k) {
            dn[k] = fabs(nf[j][k] - nf[i][k]);
            dn[k] = fabs(dn[k] - nearbyint(dn[k]));
            if (!(dn[k] < ftol[k])) close = 0;
            dold[k] = c->frac[j][k] - c->frac[i][k];
            dold[k] = fabs(dold[k] - nearbyint(dold[k]));
            if (dold[k] > sft2[k]) apart = 1;
          }
          v = (unsigned char)(close && apart);
        }
      }
      grp[(size_t)i * (size_t)N + (size_t)j] = v;
    }
  /* Every site in exactly `size` groups' rows, and every group a clique. */
  for (int j = 0; j < N && valid; ++j) {
    int cnt = 0;
    for (int i = 0; i < N; ++i) cnt += grp[(size_t)i * (size_t)N + (size_t)j];
    if (cnt != size) valid = 0;
  }
  for (int i = 0; i < N && valid; ++i) {
    int nm = 0;
    for (int j = 0; j < N; ++j)
      if (grp[(size_t)i * (size_t)N + (size_t)j]) members[nm++] = j;
    for (int x = 0; x < nm && valid; ++x)
      for (int y = 0; y < nm && valid; ++y)
        if (!grp[(size_t)members[x] * (size_t)N + (size_t)members[y]]) valid = 0;
  }
  for (int q = 0; q < c->nkinds && valid && !e; ++q) {
    int kind = korder[q];
    for (int i = 0; i < N && !e; ++i) {
      if (c->kind[i] != kind || added[i]) continue;
      int nm = 0;
      for (int j = 0; j < N; ++j)
        if (grp[(size_t)i * (size_t)N + (size_t)j]) {
          members[nm++] = j;
          added[j] = 1;
        }
      double w[3];
      for (int k = 0; k < 3; ++k) w[k] = nf[members[0]][k] - floor(nf[members[0]][k]);
      for (int m = 1; m < nm; ++m)
        for (int k = 0; k < 3; ++k) {
          double x = nf[members[m]][k] - floor(nf[members[m]][k]) - w[k];
          w[k] += (x - nearbyint(x)) / (m + 1);
        }
      e = ms_cell_add_atom(&tmp, &c->species[kind], w);
    }
  }
  if (!e && valid && tmp.natoms * size == N) {
    ms_cell_wrap(&tmp);
    e = ms_cell_copy(out, &tmp);
    if (!e) *ok = 1;
  }
  ms_cell_free(&tmp);
  free(nf);
  free(added);
  free(members);
  free(grp);
  return e;
}

static int kind_label_cmp(const ms_cell *c, int a, int b) {
  char ta[16], tb[16];
  ms_species_format(&c->species[a], ta, sizeof ta);
  ms_species_format(&c->species[b], tb, sizeof tb);
  int r = strcmp(ta, tb);
  return r ? r : a - b;
}

/* The primitive cell of @p c into @p out, following the algorithm of
 * pymatgen's Structure.get_primitive_structure (tolerance @p tol in Å; the supercell
 * matrices are tried from the smallest determinant up, and the first that works is applied
 * and the search repeated on the Niggli-reduced result), so that noisy supercells are
 * reduced, or not, in the same cases:
 * - candidate translations: differences of the sites of the rarest species (labels in
 *   alphabetical order break ties) from its first site, kept if every site of every species
 *   moves onto a site of its species within twice the box tolerance tol / |a_k|;
 * - a supercell matrix M (Hermite form, det dividing the gcd of the species counts) is tried
 *   if every row of M^-1 is one of those translations within the box tolerance;
 * - try_supercell then checks and merges the images.
 * A copy of c is returned when nothing works. (The recursion searches the new cell in the
 * basis M^-1 L, unreduced, as pymatgen does, since the box tolerances depend on the basis.) */
static ms_err find_primitive(const ms_cell *c, double tol, ms_cell *out, int depth) {
  int N = c->natoms, nk = c->nkinds;
  int count[MS_CELL_MAX_KINDS] = {0}, korder[MS_CELL_MAX_KINDS];
  for (int i = 0; i < N; ++i) count[c->kind[i]]++;
  for (int k = 0; k < nk; ++k) korder[k] = k;
  for (int a = 1; a < nk; ++a)
    for (int b = a; b > 0 && kind_label_cmp(c, korder[b - 1], korder[b]) > 0; --b) {
      int t = korder[b];
      korder[b] = korder[b - 1];
      korder[b - 1] = t;
    }
  long long g = 0;
  int rare = -1;
  for (int q = 0; q < nk; ++q) {
    int k = korder[q];
    if (!count[k]) continue;
    g = gcdll(g, count[k]);
    if (rare < 0 || count[k] < count[rare]) rare = k;
  }
  if (g <= 1 || depth > 16) return ms_cell_copy(out, c);
  double sft[3], sft2[3];
  for (int k = 0; k < 3; ++k) {
    sft[k] = tol / norm3(c->lattice[k]);
    sft2[k] = 2.0 * sft[k];
  }
  int s0 = -1;
  for (int i = 0; i < N && s0 < 0; ++i)
    if (c->kind[i] == rare) s0 = i;
  double (*T)[3] = NULL;
  MS_CALL(MS_CALLOC((size_t)count[rare], &T));
  int nt = 0;
  for (int j = 0; j < N; ++j) {
    if (c->kind[j] != rare) continue;
    double t[3];
    for (int k = 0; k < 3; ++k) t[k] = c->frac[j][k] - c->frac[s0][k];
    int ok = 1;
    for (int i = 0; i < N && ok; ++i) {
      int found = 0;
      for (int m = 0; m < N && !found; ++m) {
        if (c->kind[m] != c->kind[i]) continue;
        double d[3] = {c->frac[m][0] - c->frac[i][0] - t[0], c->frac[m][1] - c->frac[i][1] - t[1],
                       c->frac[m][2] - c->frac[i][2] - t[2]};
        found = box_close(d, sft2);
      }
      ok = found;
    }
    if (ok) memcpy(T[nt++], t, sizeof t);
  }
  ms_cell red;
  ms_cell_init(&red);
  int reduced = 0;
  ms_err e = MS_SUCCESS;
  for (int det = 2; det <= g && !reduced && !e; ++det) {
    if (g % det) continue;
    int M[3][3];
    for (int idx = 0; hnf_matrix(det, idx, M) && !reduced && !e; ++idx) {
      double Md[3][3], Minv[3][3];
      for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 3; ++k) Md[i][k] = M[i][k];
      ms_mat3_inv(Md, Minv);
      int rows_ok = 1;
      for (int r = 0; r < 3 && rows_ok; ++r) {
        int found = 0;
        for (int q = 0; q < nt && !found; ++q) {
          double d[3] = {Minv[r][0] - T[q][0], Minv[r][1] - T[q][1], Minv[r][2] - T[q][2]};
          found = box_close(d, sft);
        }
        rows_ok = found;
      }
      if (rows_ok) e = try_supercell(c, korder, (const int(*)[3])M, det, tol, sft2, &red, &reduced);
    }
  }
  free(T);
  if (!e && reduced) {
    /* As pymatgen: search the new cell as it is, Niggli-reduce what comes back. */
    e = find_primitive(&red, tol, out, depth + 1);
    if (!e) e = ms_cell_niggli_reduce(out, 1e-5, NULL);
  } else if (!e) {
    e = ms_cell_copy(out, c);
  }
  ms_cell_free(&red);
  return e;
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
            double dd = dot3(r, r);
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
static void ensure_spacegroup(ms_match_prep *p, const ms_match_options *o) {
  if (p->spacegroup >= 0) return;
  if (ms_spacegroup(&p->cell, o->symprec, o->sg_angle_tol, &p->spacegroup, NULL)) {
    ms_err_clear();
    p->spacegroup = 0;
  }
}

static ms_err prepare(const ms_cell *c, const ms_match_options *o, int eager_sg, ms_match_prep *p) {
  MS_CHECK(c && p, MS_ERR_ARG, "NULL argument");
  MS_CALL(check_options(o));
  ms_match_prep_free(p);
  MS_CALL(ms_cell_validate(c));
  ms_cell work;
  ms_cell_init(&work);
  ms_err e = ms_cell_copy(&work, c);
  if (!e) e = ms_cell_niggli_reduce(&work, 1e-5, NULL);
  if (!e && o->primitive_cell) {
    e = find_primitive(&work, o->primitive_tol, &p->cell, 0);
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
  if (o->check_spacegroup && eager_sg) ensure_spacegroup(p, o);
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
  for (int k = 0; k < nc; ++k) g = gcdll(g, counts[k]);
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
  for (int k = 0; k < 3; ++k) lens[k] = norm3(r->lattice[k]);
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
  return prepare(c, o, 1, p);
}

/* ---- Hungarian method ---------------------------------------------------------------- */

/* Minimum-cost perfect assignment of an n x n cost matrix (row-major): row i gets column
 * col[i]. The classical O(n^3) shortest-augmenting-path form with row and column potentials
 * (Kuhn 1955, Munkres 1957; Jonker-Volgenant style bookkeeping). Work arrays: 4(n+1) doubles
 * and 3(n+1) ints. */
static void hungarian(int n, const double *cost, int *col, double *u, double *v, double *minv,
                      int *p, int *way, int *used) {
  for (int j = 0; j <= n; ++j) {
    u[j] = v[j] = 0;
    p[j] = way[j] = 0;
  }
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    for (int j = 0; j <= n; ++j) {
      minv[j] = INFINITY;
      used[j] = 0;
    }
    do {
      used[j0] = 1;
      int i0 = p[j0], j1 = 0;
      double delta = INFINITY;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        double cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  for (int j = 1; j <= n; ++j)
    if (p[j]) col[p[j] - 1] = j - 1;
}

/* ---- comparison ---------------------------------------------------------------------- */

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
} workspace;

static void ws_free(workspace *w) {
  free(w->f1);
  free(w->f2t);
  free(w->cost);
  free(w->vec);
  free(w->hu);
  free(w->hv);
  free(w->hmin);
  free(w->hp);
  free(w->hway);
  free(w->hused);
  free(w->hcol);
  free(w->rows);
  free(w->cols);
  free(w->done);
  free(w->pts);
  for (int k = 0; k < 3; ++k) free(w->cand[k]);
  memset(w, 0, sizeof *w);
}

static ms_err ws_reserve(workspace *w, int N) {
  if (N <= w->N) return MS_SUCCESS;
  size_t n = (size_t)N, n1 = n + 1;
  MS_CALL(MS_REALLOC(n, &w->f1));
  MS_CALL(MS_REALLOC(n, &w->f2t));
  MS_CALL(MS_REALLOC(n * n, &w->cost));
  MS_CALL(MS_REALLOC(n, &w->vec));
  MS_CALL(MS_REALLOC(n1, &w->hu));
  MS_CALL(MS_REALLOC(n1, &w->hv));
  MS_CALL(MS_REALLOC(n1, &w->hmin));
  MS_CALL(MS_REALLOC(n1, &w->hp));
  MS_CALL(MS_REALLOC(n1, &w->hway));
  MS_CALL(MS_REALLOC(n1, &w->hused));
  MS_CALL(MS_REALLOC(n1, &w->hcol));
  MS_CALL(MS_REALLOC(n, &w->rows));
  MS_CALL(MS_REALLOC(n, &w->cols));
  MS_CALL(MS_REALLOC(n, &w->done));
  w->N = N;
  return MS_SUCCESS;
}

/* Lattice points n L (n != 0) with |n L| < rmax. */
static ms_err lattice_points(workspace *w, const double L[3][3], double rmax) {
  double d[3];
  plane_spacings(L, d);
  int nmax[3];
  for (int k = 0; k < 3; ++k) nmax[k] = (int)ceil(rmax / d[k]);
  w->npts = 0;
  for (int a = -nmax[0]; a <= nmax[0]; ++a)
    for (int b = -nmax[1]; b <= nmax[1]; ++b)
      for (int c = -nmax[2]; c <= nmax[2]; ++c) {
        if (!a && !b && !c) continue;
        double v[3];
        for (int k = 0; k < 3; ++k) v[k] = a * L[0][k] + b * L[1][k] + c * L[2][k];
        double len = norm3(v);
        if (len >= rmax) continue;
        if (w->npts == w->ptcap) {
          int cap = w->ptcap ? 2 * w->ptcap : 64;
          MS_CALL(MS_REALLOC((size_t)cap, &w->pts));
          for (int k = 0; k < 3; ++k) MS_CALL(MS_REALLOC((size_t)cap, &w->cand[k]));
          w->ptcap = cap;
        }
        latpt *p = &w->pts[w->npts++];
        p->n[0] = a;
        p->n[1] = b;
        p->n[2] = c;
        memcpy(p->v, v, sizeof v);
        p->len = len;
      }
  return MS_SUCCESS;
}

/* The average lattice of one mapping, reduced for distance evaluation (pymatgen uses an LLL
 * basis; any reduced basis in which the 27 neighbouring images hold the nearest one does). */
typedef struct {
  double L[3][3];   /* average lattice */
  double Lr[3][3];  /* reduced basis, Lr = T L */
  int Tinv[3][3];
  double lfrac[3]; /* exclusion box in the reduced basis */
  int ready;
} avg_lattice;

static void reduce_average(avg_lattice *al, double norm, double stol) {
  ms_cell red;
  ms_cell_init(&red);
  ms_cell_set_lattice(&red, (const double (*)[3])al->L);
  int T[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  ms_species h = {1, 0, 0.0};
  double origin[3] = {0, 0, 0};
  if (ms_cell_add_atom(&red, &h, origin) != MS_SUCCESS || ms_cell_niggli_reduce(&red, 1e-5, T) != MS_SUCCESS) {
    ms_err_clear();
    ms_cell_set_lattice(&red, (const double (*)[3])al->L);
    memset(T, 0, sizeof T);
    T[0][0] = T[1][1] = T[2][2] = 1;
  }
  memcpy(al->Lr, red.lattice, sizeof al->Lr);
  ms_cell_free(&red);
  iinv3(T, idet3(T), al->Tinv);
  double dr[3];
  plane_spacings(al->Lr, dr);
  for (int k = 0; k < 3; ++k) al->lfrac[k] = 2.0 * stol / (norm * dr[k]);
  al->ready = 1;
}

/* Shortest image of the fractional difference df (average-lattice basis): squared length,
 * and the Cartesian vector in @p out when not NULL. BIG when outside the exclusion box. */
static double shortest(const avg_lattice *al, const double df[3], double out[3]) {
  double fr[3];
  for (int k = 0; k < 3; ++k) {
    fr[k] = df[0] * al->Tinv[0][k] + df[1] * al->Tinv[1][k] + df[2] * al->Tinv[2][k];
    fr[k] -= nearbyint(fr[k]);
    if (fabs(fr[k]) > al->lfrac[k]) return BIG;
  }
  double best = INFINITY;
  for (int x = -1; x <= 1; ++x)
    for (int y = -1; y <= 1; ++y)
      for (int z = -1; z <= 1; ++z) {
        double g[3] = {fr[0] + x, fr[1] + y, fr[2] + z}, c[3];
        for (int k = 0; k < 3; ++k) c[k] = g[0] * al->Lr[0][k] + g[1] * al->Lr[1][k] + g[2] * al->Lr[2][k];
        double d2 = dot3(c, c);
        if (d2 < best) {
          best = d2;
          if (out) memcpy(out, c, sizeof c);
        }
      }
  return best;
}

/* Displacements of one translation of one mapping after the optimal assignment: returns 1
 * and the normalised RMS and maximum, or 0 if some site has no partner within the box. */
static int score(workspace *w, const ms_match_prep *a, const ms_match_prep *b, const avg_lattice *al,
                 double norm, double *rms, double *maxd) {
  int N = a->cell.natoms;
  for (int i = 0; i < N; ++i) w->done[i] = 0;
  double sum[3] = {0, 0, 0};
  for (int i0 = 0; i0 < N; ++i0) {
    if (w->done[i0]) continue;
    long long cls = b->site_class[i0];
    int nr = 0, nc = 0;
    for (int i = 0; i < N; ++i)
      if (b->site_class[i] == cls) w->rows[nr++] = i;
    for (int j = 0; j < N; ++j)
      if (a->site_class[j] == cls) w->cols[nc++] = j;
    if (nr != nc) return 0;
    for (int r = 0; r < nr; ++r) {
      int i = w->rows[r];
      w->done[i] = 1;
      for (int s = 0; s < nc; ++s) {
        int j = w->cols[s];
        double df[3] = {w->f1[j][0] - w->f2t[i][0], w->f1[j][1] - w->f2t[i][1], w->f1[j][2] - w->f2t[i][2]};
        w->cost[r * nc + s] = shortest(al, df, NULL);
      }
    }
    hungarian(nr, w->cost, w->hcol, w->hu, w->hv, w->hmin, w->hp, w->hway, w->hused);
    for (int r = 0; r < nr; ++r) {
      int s = w->hcol[r];
      if (w->cost[r * nc + s] >= BIG) return 0;
      int i = w->rows[r], j = w->cols[s];
      double df[3] = {w->f1[j][0] - w->f2t[i][0], w->f1[j][1] - w->f2t[i][1], w->f1[j][2] - w->f2t[i][2]};
      shortest(al, df, w->vec[i]);
      for (int k = 0; k < 3; ++k) sum[k] += w->vec[i][k];
    }
  }
  double mean[3] = {sum[0] / N, sum[1] / N, sum[2] / N}, ss = 0, mx = 0;
  for (int i = 0; i < N; ++i) {
    double d[3] = {w->vec[i][0] - mean[0], w->vec[i][1] - mean[1], w->vec[i][2] - mean[2]};
    double dd = norm3(d) * norm;
    ss += dd * dd;
    if (dd > mx) mx = dd;
  }
  *rms = sqrt(ss / N);
  *maxd = mx;
  return 1;
}

static int angle_ok(const latpt *u, const latpt *v, double clo, double chi) {
  double cs = dot3(u->v, v->v) / (u->len * v->len);
  return cs > clo && cs < chi;
}

typedef struct {
  int found;       /* some mapping had every displacement below stol */
  double fit_rms, fit_max;
  int have_best;   /* the least-RMS mapping, if its RMS is below stol */
  double best_rms, best_max;
  int nmappings;
} search_state;

/* Steps 1-6 of the header comment for prepared a and b with equal compositions and sizes. */
static ms_err search(workspace *w, const ms_match_prep *a, const ms_match_prep *b, const ms_match_options *o,
                     int want_rms, search_state *st) {
  int N = a->cell.natoms;
  MS_CALL(ws_reserve(w, N));
  memset(st, 0, sizeof *st);
  double ratio = o->scale ? pow(b->volume / a->volume, 1.0 / 6.0) : 1.0;
  double L1[3][3], L2[3][3];
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) {
      L1[i][k] = a->cell.lattice[i][k] * ratio;
      L2[i][k] = b->cell.lattice[i][k] / ratio;
    }
  double len2[3], ang2[3];
  for (int k = 0; k < 3; ++k) len2[k] = norm3(L2[k]);
  ang2[0] = angle_deg(L2[1], L2[2]); /* alpha */
  ang2[1] = angle_deg(L2[0], L2[2]); /* beta */
  ang2[2] = angle_deg(L2[0], L2[1]); /* gamma */
  double lmax = fmax(len2[0], fmax(len2[1], len2[2]));
  MS_CALL(lattice_points(w, (const double (*)[3])L1, lmax * (1 + o->ltol)));
  /* Candidates per target length. */
  int nc[3] = {0, 0, 0};
  int **cand = w->cand;
  for (int p = 0; p < w->npts; ++p)
    for (int k = 0; k < 3; ++k) {
      double q = w->pts[p].len / len2[k];
      if (q < 1 + o->ltol && q > 1 / (1 + o->ltol)) cand[k][nc[k]++] = p;
    }
  /* |angle - target| < angle_tol as an open interval of cosines (acos is monotonic), so the
   * triple loop needs no acos. */
  double clo[3], chi[3];
  for (int k = 0; k < 3; ++k) {
    double lo = ang2[k] - o->angle_tol, hi = ang2[k] + o->angle_tol;
    chi[k] = lo <= 0 ? 2.0 : cos(lo * PI / 180.0);
    clo[k] = hi >= 180 ? -2.0 : cos(hi * PI / 180.0);
  }
  /* Anchor: the first site of b of its rarest class. */
  int anchor = -1, anchor_count = N + 1;
  for (int i = 0; i < N; ++i) {
    int cnt = 0;
    for (int j = 0; j < N; ++j) cnt += b->site_class[j] == b->site_class[i];
    if (cnt < anchor_count) {
      anchor_count = cnt;
      anchor = i;
    }
  }
  const double (*f2)[3] = (const double (*)[3])b->cell.frac;
  int stop = 0;
  for (int ia = 0; ia < nc[0] && !stop; ++ia)
    for (int ib = 0; ib < nc[1] && !stop; ++ib) {
      const latpt *pa = &w->pts[cand[0][ia]], *pb = &w->pts[cand[1][ib]];
      if (!angle_ok(pa, pb, clo[2], chi[2])) continue;
      for (int ic = 0; ic < nc[2] && !stop; ++ic) {
        const latpt *pc = &w->pts[cand[2][ic]];
        if (!angle_ok(pb, pc, clo[0], chi[0])) continue;
        if (!angle_ok(pa, pc, clo[1], chi[1])) continue;
        int S[3][3];
        for (int k = 0; k < 3; ++k) {
          S[0][k] = pa->n[k];
          S[1][k] = pb->n[k];
          S[2][k] = pc->n[k];
        }
        int det = idet3(S);
        if (det != 1 && det != -1) continue;
        st->nmappings++;
        int Sinv[3][3];
        iinv3(S, det, Sinv);
        for (int j = 0; j < N; ++j)
          for (int k = 0; k < 3; ++k)
            w->f1[j][k] = wrap01(a->cell.frac[j][0] * Sinv[0][k] + a->cell.frac[j][1] * Sinv[1][k] +
                                 a->cell.frac[j][2] * Sinv[2][k]);
        /* Average lattice from the mean lattice parameters (either handedness of the mapped
         * basis gives the same parameters, which is how mirror images come to match). */
        double abc[3] = {(pa->len + len2[0]) / 2, (pb->len + len2[1]) / 2, (pc->len + len2[2]) / 2};
        double angs[3] = {(angle_deg(pb->v, pc->v) + ang2[0]) / 2, (angle_deg(pa->v, pc->v) + ang2[1]) / 2,
                          (angle_deg(pa->v, pb->v) + ang2[2]) / 2};
        avg_lattice al;
        al.ready = 0;
        if (ms_lattice_from_parameters(abc, angs, al.L) != MS_SUCCESS) {
          ms_err_clear();
          continue;
        }
        double vavg = fabs(ms_mat3_det(al.L)), norm = cbrt(N / vavg), d[3], ftol[3];
        plane_spacings(al.L, d);
        for (int k = 0; k < 3; ++k) ftol[k] = 2.0 * o->stol / (norm * d[k]);
        for (int j1 = 0; j1 < N && !stop; ++j1) {
          if (a->site_class[j1] != b->site_class[anchor]) continue;
          double t[3];
          for (int k = 0; k < 3; ++k) t[k] = w->f1[j1][k] - f2[anchor][k];
          for (int i = 0; i < N; ++i)
            for (int k = 0; k < 3; ++k) w->f2t[i][k] = f2[i][k] + t[k];
          /* Every site of b needs a partner of its class inside the box. */
          int ok = 1;
          for (int i = 0; i < N && ok; ++i) {
            int found = 0;
            for (int j = 0; j < N && !found; ++j) {
              if (a->site_class[j] != b->site_class[i]) continue;
              double dd[3] = {w->f1[j][0] - w->f2t[i][0], w->f1[j][1] - w->f2t[i][1], w->f1[j][2] - w->f2t[i][2]};
              found = box_close(dd, ftol);
            }
            ok = found;
          }
          if (!ok) continue;
          if (!al.ready) reduce_average(&al, norm, o->stol);
          double rms, mx;
          if (!score(w, a, b, &al, norm, &rms, &mx)) continue;
          if (mx < o->stol && !st->found) {
            st->found = 1;
            st->fit_rms = rms;
            st->fit_max = mx;
            if (!want_rms) stop = 1;
          }
          if (rms < o->stol && (!st->have_best || rms < st->best_rms)) {
            st->have_best = 1;
            st->best_rms = rms;
            st->best_max = mx;
            if (rms < 1e-5) stop = 1;
          }
        }
      }
    }
  return MS_SUCCESS;
}

/* Equal reduced compositions: the same classes with proportional counts (equal counts, as
 * the site counts are compared first). */
static int same_composition(const ms_match_prep *a, const ms_match_prep *b) {
  int Na = a->cell.natoms, Nb = b->cell.natoms;
  /* Compare class fractions: count_a(c) * Nb == count_b(c) * Na for every class. */
  for (int i = 0; i < Na; ++i) {
    long long c = a->site_class[i], ca = 0, cb = 0;
    for (int j = 0; j < Na; ++j) ca += a->site_class[j] == c;
    for (int j = 0; j < Nb; ++j) cb += b->site_class[j] == c;
    if (ca * Nb != cb * Na) return 0;
  }
  for (int j = 0; j < Nb; ++j) {
    long long c = b->site_class[j], ca = 0;
    for (int i = 0; i < Na; ++i) ca += a->site_class[i] == c;
    if (!ca) return 0;
  }
  return 1;
}

static ms_err compare(workspace *w, ms_match_prep *a, ms_match_prep *b, const ms_match_options *o,
                      int want_rms, ms_match_result *r) {
  memset(r, 0, sizeof *r);
  r->rms = r->max_dist = NAN;
  r->nsites[0] = a->cell.natoms;
  r->nsites[1] = b->cell.natoms;
  MS_CHECK(a->compare_elements == o->compare_elements && b->compare_elements == o->compare_elements,
           MS_ERR_ARG, "structures were prepared with a different compare_elements option");
  if (!same_composition(a, b)) {
    r->reason = MS_MATCH_COMPOSITION;
    return MS_SUCCESS;
  }
  if (a->cell.natoms != b->cell.natoms) {
    r->reason = MS_MATCH_NSITES;
    return MS_SUCCESS;
  }
  /* The guard needs spglib (0.3 to 25 ms a call against ~0.05 ms for the geometric search),
   * so space groups are only computed for pairs that match geometrically, unless both are
   * known already. */
  if (o->check_spacegroup && a->spacegroup >= 0 && b->spacegroup >= 0 && a->spacegroup != b->spacegroup) {
    r->spacegroup[0] = a->spacegroup;
    r->spacegroup[1] = b->spacegroup;
    r->reason = MS_MATCH_SPACEGROUP;
    return MS_SUCCESS;
  }
  search_state st;
  MS_CALL(search(w, a, b, o, want_rms, &st));
  r->nmappings = st.nmappings;
  r->match = st.found;
  r->reason = st.found ? MS_MATCH_OK : st.nmappings ? MS_MATCH_SITES : MS_MATCH_LATTICE;
  if (o->check_spacegroup && st.found) {
    ensure_spacegroup(a, o);
    ensure_spacegroup(b, o);
    r->spacegroup[0] = a->spacegroup;
    r->spacegroup[1] = b->spacegroup;
    if (a->spacegroup != b->spacegroup) {
      r->match = 0;
      r->reason = MS_MATCH_SPACEGROUP;
    }
  }
  if (want_rms) {
    if (st.have_best) {
      r->rms = st.best_rms;
      r->max_dist = st.best_max;
    }
  } else if (st.found) {
    r->rms = st.fit_rms;
    r->max_dist = st.fit_max;
  }
  return MS_SUCCESS;
}

ms_err ms_match_prepared(const ms_match_prep *a, const ms_match_prep *b, const ms_match_options *o,
                         int want_rms, ms_match_result *r) {
  MS_CHECK(a && b && r, MS_ERR_ARG, "NULL argument");
  MS_CALL(check_options(o));
  /* Work on shallow copies so that a space group computed here does not need a mutable
   * argument (the copies share the arrays and are not freed). */
  ms_match_prep ca = *a, cb = *b;
  workspace w;
  memset(&w, 0, sizeof w);
  ms_err e = compare(&w, &ca, &cb, o, want_rms, r);
  ws_free(&w);
  return e;
}

ms_err ms_match(const ms_cell *a, const ms_cell *b, const ms_match_options *o, ms_match_result *r) {
  MS_CHECK(a && b && r, MS_ERR_ARG, "NULL argument");
  ms_match_prep pa, pb;
  ms_match_prep_init(&pa);
  ms_match_prep_init(&pb);
  ms_err e = ms_match_prepare(a, o, &pa);
  if (!e) e = ms_match_prepare(b, o, &pb);
  if (!e) e = ms_match_prepared(&pa, &pb, o, 1, r);
  ms_match_prep_free(&pa);
  ms_match_prep_free(&pb);
  return e;
}

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
  workspace w;
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
        e = compare(&w, &a->prep, &b->prep, o, 0, &r);
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
  ws_free(&w);
  return e;
}

ms_err ms_match_group(const ms_cell *cells, size_t n, const double *energies,
                      const ms_match_options *o, long *duplicate_of, ms_match_group_stats *stats) {
  MS_CHECK((cells && duplicate_of) || n == 0, MS_ERR_ARG, "NULL argument");
  MS_CALL(check_options(o));
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
    e = prepare(&cells[i], o, 0, &recs[i].prep);
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
  if (!o || check_options(o)) e = o ? ms_err_last() : ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__, "match options are NULL");
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
    e = prepare(&cells[i], o, 0, &mine[i].prep);
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
