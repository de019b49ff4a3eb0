/* Unit tests of the structure matcher and the grouping.
 *
 * Independent values: a copy of a structure that differs by a rigid motion, a permutation, a
 * change of basis or a supercell is the same structure (match, RMS 0). One of N sites
 * displaced by d: after the optimal translation (the mean displacement, d/N) is removed, the
 * displacements are d (N-1)/N for that site and d/N for the others, so max = d (N-1)/N and
 * RMS = d sqrt(N-1)/N: for N = 5, 0.8 d and 0.4 d, in units of (V/N)^(1/3). Agreement with
 * pymatgen on thousands of pairs is the regression test tests/regression/match. */
#include <math.h>
#include <string.h>

#include "matscreen/cell.h"
#include "matscreen/match.h"
#include "matscreen/species.h"
#include "ms_test.h"

static void add(ms_cell *c, const char *sp, double x, double y, double z) {
  ms_species s;
  ms_species_parse(sp, &s);
  double f[3] = {x, y, z};
  ms_cell_add_atom(c, &s, f);
}

static void perovskite(ms_cell *c, const char *A, double a) {
  ms_cell_init(c);
  double L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  ms_cell_set_lattice(c, L);
  add(c, A, 0, 0, 0);
  add(c, "Ti4+", .5, .5, .5);
  add(c, "O2-", .5, .5, 0);
  add(c, "O2-", .5, 0, .5);
  add(c, "O2-", 0, .5, .5);
}

/* A low-symmetry (P1) structure: Fe2+ Fe3+2 O2-4 at fixed random-looking positions. */
static void lowsym(ms_cell *c) {
  ms_cell_init(c);
  double L[3][3] = {{5.1, 0, 0}, {0.8, 4.7, 0}, {-0.6, 0.9, 6.2}};
  ms_cell_set_lattice(c, L);
  add(c, "Fe2+", 0.05, 0.11, 0.02);
  add(c, "Fe3+", 0.52, 0.47, 0.13);
  add(c, "Fe3+", 0.21, 0.63, 0.58);
  add(c, "O2-", 0.77, 0.08, 0.41);
  add(c, "O2-", 0.36, 0.27, 0.83);
  add(c, "O2-", 0.91, 0.71, 0.66);
  add(c, "O2-", 0.62, 0.88, 0.97);
}

/* Rigid rotation, translation, permutation (reversal) and basis change M of c into out. */
static void transform(const ms_cell *c, const double M[3][3], const double Mi[3][3], double angle, ms_cell *out) {
  ms_cell_init(out);
  double cs = cos(angle), sn = sin(angle);
  double R[3][3] = {{cs, -sn, 0}, {sn * 0.6, cs * 0.6, 0.8}, {-sn * 0.8, -cs * 0.8, 0.6}};
  double L[3][3], LR[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = M[i][0] * c->lattice[0][j] + M[i][1] * c->lattice[1][j] + M[i][2] * c->lattice[2][j];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) LR[i][j] = L[i][0] * R[j][0] + L[i][1] * R[j][1] + L[i][2] * R[j][2];
  ms_cell_set_lattice(out, LR);
  for (int i = c->natoms - 1; i >= 0; --i) {
    double f[3];
    for (int j = 0; j < 3; ++j) f[j] = c->frac[i][0] * Mi[0][j] + c->frac[i][1] * Mi[1][j] + c->frac[i][2] * Mi[2][j] + 0.37 * (j + 1);
    ms_cell_add_atom(out, &c->species[c->kind[i]], f);
  }
}

static ms_match_result cmp(const ms_cell *a, const ms_cell *b, const ms_match_options *o) {
  ms_match_result r;
  memset(&r, 0, sizeof r);
  MS_TEST_OK(ms_match(a, b, o, &r));
  return r;
}

int main(void) {
  if (ms_elements_load()) MS_TEST_SKIP("element table not available");
  ms_match_options o;
  ms_match_options_default(&o);
  MS_TEST_NEAR(o.ltol, 0.2, 0);
  MS_TEST_NEAR(o.stol, 0.3, 0);
  MS_TEST_NEAR(o.angle_tol, 5, 0);

  ms_cell sto, lo, t, sc;
  perovskite(&sto, "Sr2+", 3.905);
  lowsym(&lo);
  const double I[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  const double M[3][3] = {{1, 1, 0}, {0, 1, 0}, {-1, 0, 1}}, Mi[3][3] = {{1, -1, 0}, {0, 1, 0}, {1, -1, 1}};

  /* Exact copies match with zero displacement, either way round. */
  const ms_cell *bases[2] = {&sto, &lo};
  for (int k = 0; k < 2; ++k) {
    transform(bases[k], M, Mi, 0.7, &t);
    ms_match_result r = cmp(bases[k], &t, &o);
    MS_TEST_TRUE(r.match);
    MS_TEST_EQ_INT(r.reason, MS_MATCH_OK);
    MS_TEST_NEAR(r.rms, 0, 1e-10);
    MS_TEST_NEAR(r.max_dist, 0, 1e-10);
    r = cmp(&t, bases[k], &o);
    MS_TEST_TRUE(r.match);
    ms_cell_free(&t);
    /* Supercells reduce to the same primitive cell. */
    ms_cell_init(&sc);
    MS_TEST_OK(ms_cell_supercell_diag(bases[k], 2, 1, 3, &sc));
    r = cmp(bases[k], &sc, &o);
    MS_TEST_TRUE(r.match);
    MS_TEST_EQ_INT(r.nsites[1], bases[k]->natoms);
    MS_TEST_NEAR(r.rms, 0, 1e-10);
    /* ... unless primitive reduction is off. */
    ms_match_options np = o;
    np.primitive_cell = 0;
    r = cmp(bases[k], &sc, &np);
    MS_TEST_TRUE(!r.match);
    MS_TEST_EQ_INT(r.reason, MS_MATCH_NSITES);
    ms_cell_free(&sc);
  }

  /* Mirror image of the chiral P1 structure (f -> -f): matches, as in pymatgen. */
  ms_cell_init(&t);
  MS_TEST_OK(ms_cell_copy(&t, &lo));
  for (int i = 0; i < t.natoms; ++i)
    for (int k = 0; k < 3; ++k) t.frac[i][k] = -t.frac[i][k];
  MS_TEST_TRUE(cmp(&lo, &t, &o).match);
  ms_cell_free(&t);

  /* One O displaced by d = 0.1 Å: RMS 0.4 d / l and max 0.8 d / l, l = (V/5)^(1/3). The guard
   * is off: the displacement lowers the symmetry. */
  ms_match_options og = o;
  og.check_spacegroup = 0;
  ms_cell_init(&t);
  MS_TEST_OK(ms_cell_copy(&t, &sto));
  t.frac[2][0] += 0.1 / 3.905;
  double ell = cbrt(3.905 * 3.905 * 3.905 / 5);
  ms_match_result r = cmp(&sto, &t, &og);
  MS_TEST_TRUE(r.match);
  MS_TEST_NEAR(r.rms, 0.4 * 0.1 / ell, 1e-9);
  MS_TEST_NEAR(r.max_dist, 0.8 * 0.1 / ell, 1e-9);
  /* With the guard: Pm-3m against P4mm-like lower symmetry never matches. */
  r = cmp(&sto, &t, &o);
  MS_TEST_TRUE(!r.match);
  MS_TEST_EQ_INT(r.reason, MS_MATCH_SPACEGROUP);
  MS_TEST_EQ_INT(r.spacegroup[0], 221);
  MS_TEST_TRUE(r.spacegroup[1] != 221);
  ms_cell_free(&t);

  /* A 2 % tetragonal strain is within ltol: pymatgen's semantics match; the guard (221 vs
   * 123) refuses. Volume scaling: a uniformly scaled copy matches with RMS 0. */
  ms_cell_init(&t);
  MS_TEST_OK(ms_cell_copy(&t, &sto));
  t.lattice[2][2] *= 1.02;
  r = cmp(&sto, &t, &og);
  MS_TEST_TRUE(r.match);
  r = cmp(&sto, &t, &o);
  MS_TEST_TRUE(!r.match);
  MS_TEST_EQ_INT(r.spacegroup[1], 123);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) t.lattice[i][k] = sto.lattice[i][k] * 1.07;
  r = cmp(&sto, &t, &o);
  MS_TEST_TRUE(r.match);
  MS_TEST_NEAR(r.rms, 0, 1e-10);
  /* Strain beyond ltol (40 % along c): no lattice mapping. */
  memcpy(t.lattice, sto.lattice, sizeof t.lattice);
  t.lattice[2][2] *= 1.4;
  r = cmp(&sto, &t, &og);
  MS_TEST_TRUE(!r.match);
  MS_TEST_EQ_INT(r.reason, MS_MATCH_LATTICE);
  ms_cell_free(&t);

  /* Species: Ba instead of Sr is another composition; Fe2+ <-> Fe3+ relabelled is another
   * composition for species comparison but the same structure for elements only. */
  ms_cell bto;
  perovskite(&bto, "Ba2+", 3.905);
  r = cmp(&sto, &bto, &o);
  MS_TEST_TRUE(!r.match);
  MS_TEST_EQ_INT(r.reason, MS_MATCH_COMPOSITION);
  ms_cell_init(&t);
  MS_TEST_OK(ms_cell_copy(&t, &lo));
  ms_species fe3;
  ms_species_parse("Fe3+", &fe3);
  int k3 = 0;
  MS_TEST_OK(ms_cell_add_species(&t, &fe3, &k3));
  t.kind[0] = k3; /* the Fe2+ site becomes Fe3+ */
  r = cmp(&lo, &t, &o);
  MS_TEST_EQ_INT(r.reason, MS_MATCH_COMPOSITION);
  ms_match_options oe = o;
  oe.compare_elements = 1;
  r = cmp(&lo, &t, &oe);
  MS_TEST_TRUE(r.match);
  ms_cell_free(&t);

  /* Site displacements around stol: 0.25 l on one site of the P1 structure after removing the
   * mean gives a max of 0.25 (6/7) l < stol: match; 0.45 l: max 0.386 > 0.3: no match. */
  double ell7 = cbrt(ms_cell_volume(&lo) / 7);
  for (int pass = 0; pass < 2; ++pass) {
    double d = (pass ? 0.45 : 0.25) * ell7;
    ms_cell_init(&t);
    MS_TEST_OK(ms_cell_copy(&t, &lo));
    double dr[3] = {d, 0, 0}, df[3];
    ms_cell_cart_to_frac(&t, dr, df);
    for (int k = 0; k < 3; ++k) t.frac[3][k] += df[k];
    r = cmp(&lo, &t, &og);
    MS_TEST_EQ_INT(r.match, pass == 0);
    if (pass == 0) MS_TEST_NEAR(r.max_dist, 0.25 * 6.0 / 7.0, 1e-9);
    ms_cell_free(&t);
  }

  /* Prepared comparison gives the same as ms_match. */
  ms_match_prep pa, pb;
  ms_match_prep_init(&pa);
  ms_match_prep_init(&pb);
  transform(&lo, I, I, 1.3, &t);
  MS_TEST_OK(ms_match_prepare(&lo, &o, &pa));
  MS_TEST_OK(ms_match_prepare(&t, &o, &pb));
  MS_TEST_EQ_INT(pa.key, pb.key);
  MS_TEST_EQ_INT(pa.spacegroup, 1);
  MS_TEST_OK(ms_match_prepared(&pa, &pb, &o, 0, &r));
  MS_TEST_TRUE(r.match);
  ms_match_prep_free(&pa);
  ms_match_prep_free(&pb);
  ms_cell_free(&t);

  /* Grouping: 0 sto, 1 lo, 2 sto copy (lower energy), 3 bto, 4 lo supercell, 5 lo copy,
   * 6 sto 2x2x2. Expected groups {0, 2, 6} with survivor 2, {1, 4, 5} with survivor 1, {3}. */
  ms_cell cells[7];
  MS_TEST_OK((ms_cell_init(&cells[0]), ms_cell_copy(&cells[0], &sto)));
  MS_TEST_OK((ms_cell_init(&cells[1]), ms_cell_copy(&cells[1], &lo)));
  transform(&sto, M, Mi, 0.3, &cells[2]);
  MS_TEST_OK((ms_cell_init(&cells[3]), ms_cell_copy(&cells[3], &bto)));
  ms_cell_init(&cells[4]);
  MS_TEST_OK(ms_cell_supercell_diag(&lo, 1, 2, 1, &cells[4]));
  transform(&lo, M, Mi, 2.1, &cells[5]);
  ms_cell_init(&cells[6]);
  MS_TEST_OK(ms_cell_supercell_diag(&sto, 2, 2, 2, &cells[6]));
  double energies[7] = {-5.0, -4.0, -5.1, -6.0, -3.9, -3.95, -4.9};
  long dup[7], dup2[7], want[7] = {2, -1, -1, -1, 1, 1, 2};
  ms_match_group_stats st;
  MS_TEST_OK(ms_match_group(cells, 7, energies, &o, dup, &st));
  for (int i = 0; i < 7; ++i) MS_TEST_EQ_INT(dup[i], want[i]);
  MS_TEST_EQ_INT(st.ngroups, 3);
  MS_TEST_EQ_INT(st.nstructures, 7);
  /* The same on MPI_COMM_SELF through the distributed entry point. */
  int mpi_up = 0;
  MPI_Initialized(&mpi_up);
  if (!mpi_up) MPI_Init(NULL, NULL);
  MS_TEST_OK(ms_match_group_mpi(MPI_COMM_SELF, cells, 7, energies, &o, dup2, NULL));
  for (int i = 0; i < 7; ++i) MS_TEST_EQ_INT(dup2[i], want[i]);
  /* Without energies the input order decides: 0 survives its group. */
  MS_TEST_OK(ms_match_group(cells, 7, NULL, &o, dup, NULL));
  MS_TEST_EQ_INT(dup[0], -1);
  MS_TEST_EQ_INT(dup[2], 0);
  MS_TEST_EQ_INT(dup[6], 0);
  /* Exhaustive (no fingerprint pre-filter) gives the same groups. */
  ms_match_options ox = o;
  ox.fingerprint_tol = 0;
  MS_TEST_OK(ms_match_group(cells, 7, energies, &ox, dup, NULL));
  for (int i = 0; i < 7; ++i) MS_TEST_EQ_INT(dup[i], want[i]);

  /* Bad input. */
  ms_match_options bad = o;
  bad.stol = 0;
  MS_TEST_ERR(ms_match(&sto, &lo, &bad, &r), MS_ERR_ARG, "stol");
  ms_cell empty;
  ms_cell_init(&empty);
  MS_TEST_ERR(ms_match(&sto, &empty, &o, &r), MS_ERR_INPUT, NULL);
  MS_TEST_TRUE(strcmp(ms_match_reason_name(MS_MATCH_SITES), "sites") == 0);

  for (int i = 0; i < 7; ++i) ms_cell_free(&cells[i]);
  ms_cell_free(&sto);
  ms_cell_free(&lo);
  ms_cell_free(&bto);
  ms_elements_unload();
  if (!mpi_up) MPI_Finalize();
  return MS_TEST_RESULT();
}
