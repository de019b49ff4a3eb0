/* Unit tests of the symmetry module (spglib wrappers).
 *
 * Reference values are textbook crystallography (International Tables for Crystallography
 * Vol. A): rock salt NaCl Fm-3m (225, 48 point operations, F centring: 192 operations in the
 * conventional cell), cubic perovskite SrTiO3 Pm-3m (221, 48), rutile TiO2 P4_2/mnm (136, 16),
 * wurtzite ZnO P6_3mc (186, 12), zinc blende F-43m (216). Invariances: rotating, translating,
 * permuting, changing the basis of, or making supercells of a structure leaves its space group
 * unchanged. */
#include <math.h>
#include <spglib.h>
#include <string.h>

#include "matscreen/cell.h"
#include "matscreen/rng.h"
#include "matscreen/species.h"
#include "matscreen/symmetry.h"
#include "ms_test.h"

static void add(ms_cell *c, const char *sp, double x, double y, double z) {
  ms_species s;
  ms_species_parse(sp, &s);
  double f[3] = {x, y, z};
  ms_cell_add_atom(c, &s, f);
}

static void cubic(ms_cell *c, double a) {
  double L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  ms_cell_set_lattice(c, L);
}

static void nacl_conventional(ms_cell *c) {
  ms_cell_init(c);
  cubic(c, 5.64);
  const double fcc[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
  for (int k = 0; k < 4; ++k) {
    add(c, "Na+", fcc[k][0], fcc[k][1], fcc[k][2]);
    add(c, "Cl-", fcc[k][0] + .5, fcc[k][1], fcc[k][2]);
  }
}

static void perovskite(ms_cell *c) {
  ms_cell_init(c);
  cubic(c, 3.905);
  add(c, "Sr2+", 0, 0, 0);
  add(c, "Ti4+", .5, .5, .5);
  add(c, "O2-", .5, .5, 0);
  add(c, "O2-", .5, 0, .5);
  add(c, "O2-", 0, .5, .5);
}

static void rutile(ms_cell *c) {
  ms_cell_init(c);
  double a = 4.594, cc = 2.959, u = 0.3048;
  double L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, cc}};
  ms_cell_set_lattice(c, L);
  add(c, "Ti4+", 0, 0, 0);
  add(c, "Ti4+", .5, .5, .5);
  add(c, "O2-", u, u, 0);
  add(c, "O2-", 1 - u, 1 - u, 0);
  add(c, "O2-", .5 + u, .5 - u, .5);
  add(c, "O2-", .5 - u, .5 + u, .5);
}

static void wurtzite(ms_cell *c) {
  ms_cell_init(c);
  double a = 3.25, cc = 5.21, u = 0.382;
  double L[3][3] = {{a, 0, 0}, {-a / 2, a * sqrt(3) / 2, 0}, {0, 0, cc}};
  ms_cell_set_lattice(c, L);
  add(c, "Zn2+", 1. / 3, 2. / 3, 0);
  add(c, "Zn2+", 2. / 3, 1. / 3, .5);
  add(c, "O2-", 1. / 3, 2. / 3, u);
  add(c, "O2-", 2. / 3, 1. / 3, .5 + u);
}

/* Rotate, translate, permute and re-base a copy of c. */
static void scramble(const ms_cell *c, ms_rng *r, ms_cell *out) {
  ms_cell_init(out);
  /* Rotation from a random unit quaternion. */
  double q[4], n = 0;
  for (int k = 0; k < 4; ++k) {
    q[k] = ms_rng_uniform(r) - 0.5;
    n += q[k] * q[k];
  }
  n = sqrt(n);
  double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  double R[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
                    {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
                    {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
  /* Unimodular basis change M = [[1,1,0],[0,1,0],[0,1,1]], inverse [[1,-1,0],[0,1,0],[0,-1,1]]. */
  const double M[3][3] = {{1, 1, 0}, {0, 1, 0}, {0, 1, 1}}, Mi[3][3] = {{1, -1, 0}, {0, 1, 0}, {0, -1, 1}};
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += M[i][k] * c->lattice[k][j];
      L[i][j] = s;
    }
  double LR[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) LR[i][j] = L[i][0] * R[j][0] + L[i][1] * R[j][1] + L[i][2] * R[j][2];
  ms_cell_set_lattice(out, LR);
  double t[3] = {ms_rng_uniform(r), ms_rng_uniform(r), ms_rng_uniform(r)};
  for (int ii = c->natoms - 1; ii >= 0; --ii) { /* reversed order */
    double f[3];
    for (int j = 0; j < 3; ++j) f[j] = c->frac[ii][0] * Mi[0][j] + c->frac[ii][1] * Mi[1][j] + c->frac[ii][2] * Mi[2][j] + t[j];
    ms_cell_add_atom(out, &c->species[c->kind[ii]], f);
  }
}

static int count_pure(const ms_symmetry *s) {
  int n = 0;
  for (int k = 0; k < s->nops; ++k) {
    const int(*R)[3] = s->rotations[k];
    n += R[0][0] == 1 && R[1][1] == 1 && R[2][2] == 1 && !R[0][1] && !R[0][2] && !R[1][0] && !R[1][2] &&
         !R[2][0] && !R[2][1];
  }
  return n;
}

static void check_known(const char *name, ms_cell *c, int number, const char *symbol, int nops) {
  ms_symmetry s;
  ms_symmetry_init(&s);
  MS_TEST_OK(ms_symmetry_get(c, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &s));
  fprintf(stderr, "%s: %d %s, %d operations\n", name, s.number, s.international, s.nops);
  MS_TEST_EQ_INT(s.number, number);
  MS_TEST_EQ_STR(s.international, symbol);
  MS_TEST_EQ_INT(s.nops, nops);
  int n = 0;
  char sym[16];
  MS_TEST_OK(ms_spacegroup(c, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &n, sym));
  MS_TEST_EQ_INT(n, number);
  MS_TEST_EQ_STR(sym, symbol);
  /* Invariance under rotation, translation, permutation and basis change. */
  ms_rng r;
  ms_rng_init(&r, 7, (uint64_t)number);
  for (int k = 0; k < 3; ++k) {
    ms_cell d;
    scramble(c, &r, &d);
    n = 0;
    MS_TEST_OK(ms_spacegroup(&d, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &n, NULL));
    MS_TEST_EQ_INT(n, number);
    ms_cell_free(&d);
  }
  /* A 2x1x1 supercell has the same space group and twice the pure translations (spglib lists
   * only the operations whose rotations are integral in the supercell's basis, so the total
   * is not simply doubled). */
  ms_cell sc;
  ms_cell_init(&sc);
  MS_TEST_OK(ms_cell_supercell_diag(c, 2, 1, 1, &sc));
  ms_symmetry s2;
  ms_symmetry_init(&s2);
  MS_TEST_OK(ms_symmetry_get(&sc, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &s2));
  MS_TEST_EQ_INT(s2.number, number);
  MS_TEST_EQ_INT(s2.n_primitive, s.n_primitive);
  MS_TEST_EQ_INT(count_pure(&s2), 2 * count_pure(&s));
  ms_symmetry_free(&s2);
  ms_cell_free(&sc);
  ms_symmetry_free(&s);
}

/* ms_point_group_order against spglib's own database: the distinct rotations of the operations
 * of every Hall setting are the point group, and their number its order. Also the textbook
 * values used above (m-3m 48, 4/mmm 16, 6mm 12) and out-of-range numbers. */
static void test_point_group_order(void) {
  static int rot[192][3][3];
  static double tra[192][3];
  int seen[231] = {0};
  for (int hall = 1; hall <= 530; ++hall) {
    SpglibSpacegroupType t = spg_get_spacegroup_type(hall);
    int n = spg_get_symmetry_from_database(rot, tra, hall);
    int distinct = 0;
    for (int i = 0; i < n; ++i) {
      int dup = 0;
      for (int j = 0; j < i && !dup; ++j) dup = memcmp(rot[i], rot[j], sizeof rot[i]) == 0;
      distinct += !dup;
    }
    if (ms_point_group_order(t.number) != distinct)
      fprintf(stderr, "space group %d (Hall %d): %d rotations, table %d\n", t.number, hall, distinct,
              ms_point_group_order(t.number));
    MS_TEST_EQ_INT(ms_point_group_order(t.number), distinct);
    seen[t.number] = 1;
  }
  int all = 1;
  for (int k = 1; k <= 230; ++k) all &= seen[k];
  MS_TEST_TRUE(all);
  MS_TEST_EQ_INT(ms_point_group_order(221), 48);
  MS_TEST_EQ_INT(ms_point_group_order(136), 16);
  MS_TEST_EQ_INT(ms_point_group_order(186), 12);
  MS_TEST_EQ_INT(ms_point_group_order(0), 0);
  MS_TEST_EQ_INT(ms_point_group_order(231), 0);
}

int main(void) {
  if (ms_elements_load()) MS_TEST_SKIP("element table not available");
  test_point_group_order();
  ms_cell nacl, sto, tio2, zno;
  nacl_conventional(&nacl);
  perovskite(&sto);
  rutile(&tio2);
  wurtzite(&zno);
  check_known("NaCl", &nacl, 225, "Fm-3m", 192);
  check_known("SrTiO3", &sto, 221, "Pm-3m", 48);
  check_known("TiO2 rutile", &tio2, 136, "P4_2/mnm", 16);
  check_known("ZnO wurtzite", &zno, 186, "P6_3mc", 12);

  /* Orbits and Wyckoff positions: in rock salt all Na are one orbit (4a), all Cl another (4b);
   * the conventional NaCl cell has 2 sites in its primitive cell. */
  ms_symmetry s;
  ms_symmetry_init(&s);
  MS_TEST_OK(ms_symmetry_get(&nacl, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &s));
  MS_TEST_EQ_INT(s.n_primitive, 2);
  for (int i = 0; i < nacl.natoms; ++i) {
    MS_TEST_EQ_INT(s.equivalent_atoms[i], nacl.kind[i] == nacl.kind[0] ? 0 : 1);
    MS_TEST_TRUE(s.wyckoffs[i] == 'a' || s.wyckoffs[i] == 'b');
  }
  MS_TEST_TRUE(s.wyckoffs[0] != s.wyckoffs[1]);

  /* Standardisation keeps species: the primitive rock-salt cell has 2 sites and a quarter of
   * the volume, and its conventional cell is the 5.64 Å cube again. */
  ms_cell prim, conv;
  ms_cell_init(&prim);
  ms_cell_init(&conv);
  MS_TEST_OK(ms_cell_standardize(&nacl, MS_STD_PRIMITIVE, 0, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &prim));
  MS_TEST_EQ_INT(prim.natoms, 2);
  MS_TEST_NEAR(ms_cell_volume(&prim), ms_cell_volume(&nacl) / 4, 1e-9);
  int nna = 0;
  for (int i = 0; i < prim.natoms; ++i) {
    const ms_species *sp = &prim.species[prim.kind[i]];
    MS_TEST_TRUE(sp->has_ox);
    nna += sp->Z == 11 && sp->ox == 1;
  }
  MS_TEST_EQ_INT(nna, 1);
  MS_TEST_OK(ms_cell_standardize(&prim, MS_STD_CONVENTIONAL, 1, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &conv));
  MS_TEST_EQ_INT(conv.natoms, 8);
  double abc[3], ang[3];
  ms_cell_parameters(&conv, abc, ang);
  for (int k = 0; k < 3; ++k) {
    MS_TEST_NEAR(abc[k], 5.64, 1e-9);
    MS_TEST_NEAR(ang[k], 90.0, 1e-9);
  }

  /* Tolerance: a 0.004 Å displacement of one O keeps Pm-3m at symprec 0.01 Å and breaks it at
   * 1e-4 Å (to P4mm: the displacement is along a 4-fold axis through that O). */
  ms_cell d;
  ms_cell_init(&d);
  MS_TEST_OK(ms_cell_copy(&d, &sto));
  d.frac[2][2] += 0.004 / 3.905;
  int n = 0;
  MS_TEST_OK(ms_spacegroup(&d, 0.01, MS_ANGLE_TOL_DEFAULT, &n, NULL));
  MS_TEST_EQ_INT(n, 221);
  MS_TEST_OK(ms_spacegroup(&d, 1e-4, MS_ANGLE_TOL_DEFAULT, &n, NULL));
  MS_TEST_EQ_INT(n, 99);

  /* Symmetrised vectors: every perovskite site has point symmetry m-3m or 4/mmm, which leaves
   * no invariant vector, so symmetrised random forces vanish; in wurtzite (site symmetry 3m)
   * only the component along c survives, and symmetrising twice changes nothing. */
  ms_symmetry_free(&s);
  MS_TEST_OK(ms_symmetry_get(&sto, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &s));
  int *map = calloc((size_t)s.nops * (size_t)sto.natoms, sizeof *map);
  MS_TEST_OK(ms_symmetry_site_map(&s, &sto, 1e-6, map));
  double F[5][3];
  ms_rng r;
  ms_rng_init(&r, 3, 3);
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < 3; ++k) F[i][k] = ms_rng_uniform(&r) - 0.5;
  MS_TEST_OK(ms_symmetry_symmetrize_vectors(&s, &sto, map, F));
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < 3; ++k) MS_TEST_NEAR(F[i][k], 0.0, 1e-12);
  free(map);
  ms_symmetry_free(&s);
  MS_TEST_OK(ms_symmetry_get(&zno, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &s));
  map = calloc((size_t)s.nops * (size_t)zno.natoms, sizeof *map);
  MS_TEST_OK(ms_symmetry_site_map(&s, &zno, 1e-6, map));
  double G[4][3], H[4][3];
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 3; ++k) G[i][k] = ms_rng_uniform(&r) - 0.5;
  MS_TEST_OK(ms_symmetry_symmetrize_vectors(&s, &zno, map, G));
  memcpy(H, G, sizeof H);
  MS_TEST_OK(ms_symmetry_symmetrize_vectors(&s, &zno, map, H));
  for (int i = 0; i < 4; ++i) {
    MS_TEST_NEAR(G[i][0], 0.0, 1e-12);
    MS_TEST_NEAR(G[i][1], 0.0, 1e-12);
    MS_TEST_TRUE(fabs(G[i][2]) > 1e-6);
    for (int k = 0; k < 3; ++k) MS_TEST_NEAR(H[i][k], G[i][k], 1e-12);
  }
  /* Rotations are orthogonal in Cartesian coordinates. */
  for (int k = 0; k < s.nops; ++k) {
    double W[3][3];
    ms_symmetry_cart_rotation(&s, &zno, k, W);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        double dot = W[0][a] * W[0][b] + W[1][a] * W[1][b] + W[2][a] * W[2][b];
        MS_TEST_NEAR(dot, a == b, 1e-9);
      }
  }
  free(map);
  ms_symmetry_free(&s);

  /* Bad input. */
  MS_TEST_ERR(ms_spacegroup(&sto, 0.0, 5, &n, NULL), MS_ERR_ARG, "symprec");
  ms_cell empty;
  ms_cell_init(&empty);
  MS_TEST_ERR(ms_symmetry_get(&empty, 0.01, 5, &s), MS_ERR_INPUT, NULL);

  ms_cell_free(&d);
  ms_cell_free(&prim);
  ms_cell_free(&conv);
  ms_cell_free(&nacl);
  ms_cell_free(&sto);
  ms_cell_free(&tio2);
  ms_cell_free(&zno);
  ms_elements_unload();
  return MS_TEST_RESULT();
}
