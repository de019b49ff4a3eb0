/* Tests of the TAO relaxation (src/relax/relax.c) with the bush1994 rigid-ion model.
 *
 * Independent references used here:
 * - central finite differences of the objective H = E + P V in the relaxer's own variables,
 *   for every cell mode, at a strained and rattled point away from the start cell;
 * - LAMMPS relaxed lattice constants quoted in shared/reference/physics.md §2.1/§5 (rigid-ion
 *   Bush MgO a = 4.20605 Å, rutile a = 4.350 Å, cubic SrTiO3 a = 3.834 Å); the full LAMMPS
 *   comparison (all lengths, energies, internal coordinates) is tests/regression/relax;
 * - spglib's symmetry operations of the relaxed structures (symmetry kept from a symmetric
 *   start), the Hellmann-Feynman relation dH_min/dP = V for the enthalpy minimum, and
 *   consistency between cell modes, TAO types and repeated runs.
 * Structures: tests/regression/relax/ideal.extxyz (pymatgen, exactly symmetric up to rounding)
 * and start.extxyz (the same with a 1% strain). */
#include <math.h>
#include <mpi.h>
#include <petscsys.h>
#include <spglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/io.h"
#include "matscreen/model.h"
#include "matscreen/relax.h"
#include "matscreen/rng.h"
#include "matscreen/species.h"
#include "ms_test.h"
#include "relax/relax_impl.h"

static ms_cell_list ideal, start;

static const ms_cell *frame(const ms_cell_list *l, const char *label) {
  for (int k = 0; k < l->n; ++k)
    if (strcmp(l->cells[k].label, label) == 0) return &l->cells[k];
  fprintf(stderr, "no frame '%s'\n", label);
  exit(1);
}

static ms_model bush(double accuracy) {
  ms_model_options o;
  ms_model_options_default(&o);
  if (accuracy > 0) o.ewald.accuracy = accuracy;
  ms_model m = NULL;
  ms_err e = ms_model_create("bush1994", &o, &m);
  if (e) {
    fprintf(stderr, "model: %s\n", ms_err_message());
    exit(1);
  }
  return m;
}

/* Random symmetric strain with entries in [-strain, strain] and a displacement of exactly
 * @p rattle Å in a random direction for every atom. */
static void perturb(ms_cell *c, double strain, double rattle, uint64_t seed) {
  ms_rng g;
  ms_rng_init(&g, seed, 7);
  double e[3][3];
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b) e[a][b] = e[b][a] = strain * (2 * ms_rng_uniform(&g) - 1);
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      L[i][j] = c->lattice[i][j];
      for (int k = 0; k < 3; ++k) L[i][j] += c->lattice[i][k] * e[k][j];
    }
  ms_cell_set_lattice(c, L);
  for (int i = 0; i < c->natoms; ++i) {
    double d[3] = {ms_rng_normal(&g), ms_rng_normal(&g), ms_rng_normal(&g)};
    double n = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    double r[3];
    ms_cell_site_cart(c, i, r);
    for (int a = 0; a < 3; ++a) r[a] += rattle * d[a] / n;
    ms_cell_cart_to_frac(c, r, c->frac[i]);
  }
}

static void lengths(const ms_cell *c, double l[3]) {
  double ang[3];
  ms_cell_parameters(c, l, ang);
}

static ms_relax make_relax(ms_model m, ms_relax_cell mode, double fmax, double smax) {
  ms_relax_options o;
  ms_relax_options_default(&o);
  o.cell = mode;
  o.fmax = fmax;
  o.smax = smax;
  ms_relax r = NULL;
  ms_err e = ms_relax_create(m, &o, &r);
  if (e) {
    fprintf(stderr, "relax: %s\n", ms_err_message());
    exit(1);
  }
  return r;
}

static int spglib_nops(const ms_cell *c, double symprec) {
  int n = c->natoms;
  int (*rot)[3][3] = malloc(sizeof(*rot) * 48 * (size_t)n);
  double (*tr)[3] = malloc(sizeof(*tr) * 48 * (size_t)n);
  int *types = malloc(sizeof(int) * (size_t)n);
  double lat[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) lat[j][i] = c->lattice[i][j];
  for (int i = 0; i < n; ++i) types[i] = c->kind[i];
  int k = spg_get_symmetry(rot, tr, 48 * n, lat, c->frac, types, n, symprec);
  free(rot);
  free(tr);
  free(types);
  return k;
}

/* ------------------------------------------------------------------------------------------ */
/* 1. The gradient handed to TAO is the derivative of the objective, in every cell mode.      */
/* bush1994's terms shifted to zero at their cutoffs: with plain truncation the energy jumps by
 * ~1e-5 eV when an O-O pair crosses 12 Å, which would spoil a finite difference that happens
 * to straddle a crossing; the relaxer's algebra does not depend on the form of the terms. */
static const char shifted_potential[] =
    "name: bush1994_shifted\n"
    "description: bush1994 terms shifted to zero at the cutoff (finite-difference tests)\n"
    "citations: {bush1994: 'Bush, Gale, Catlow and Battle, J. Mater. Chem. 4, 831 (1994)'}\n"
    "charges: formal\n"
    "species: [Sr2+, Ti4+, Al3+, O2-]\n"
    "pairs:\n"
    "  - {species: [Sr2+, O2-], form: buckingham, A_eV: 1956.702, rho_A: 0.3252, C_eV_A6: 0.0, cutoff_A: 10.0, shift: true, citation: bush1994}\n"
    "  - {species: [Ti4+, O2-], form: buckingham, A_eV: 2088.107, rho_A: 0.2888, C_eV_A6: 0.0, cutoff_A: 10.0, shift: true, citation: bush1994}\n"
    "  - {species: [Al3+, O2-], form: buckingham, A_eV: 2409.505, rho_A: 0.2649, C_eV_A6: 0.0, cutoff_A: 10.0, shift: true, citation: bush1994}\n"
    "  - {species: [O2-, O2-], form: buckingham, A_eV: 25.410, rho_A: 0.6937, C_eV_A6: 32.32, cutoff_A: 12.0, shift: true, citation: bush1994, guard: auto}\n";

static void test_gradient(void) {
  ms_potential *pot = NULL;
  MS_TEST_OK(ms_potential_parse(shifted_potential, strlen(shifted_potential), "shifted", &pot));
  ms_model_options mo;
  ms_model_options_default(&mo);
  mo.ewald.accuracy = 1e-12;
  ms_model m = NULL;
  MS_TEST_OK(ms_model_create_with(pot, &mo, &m));
  const char *names[] = {"srtio3", "al2o3_corundum"};
  for (int s = 0; s < 2; ++s) {
    ms_cell c = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, names[s])));
    perturb(&c, 0.03, 0.05, 11 + s);
    for (int mode = MS_RELAX_FIXED; mode <= MS_RELAX_FULL; ++mode) {
      ms_relax_options o;
      ms_relax_options_default(&o);
      o.cell = (ms_relax_cell)mode;
      o.pressure = 5.0; /* GPa: the P V term must be in both */
      ms_relax r = NULL;
      MS_TEST_OK(ms_relax_create(m, &o, &r));
      int nvar = 0;
      MS_TEST_OK(ms__relax_prepare(r, &c, &nvar));
      static const int ncell[] = {0, 1, 3, 6};
      MS_TEST_EQ_INT(nvar, 3 * c.natoms + ncell[mode]);
      double *x = calloc((size_t)nvar, sizeof *x), *g = calloc((size_t)nvar, sizeof *g);
      double *gd = calloc((size_t)nvar, sizeof *gd);
      ms__relax_start(r, x);
      /* move the cell away from the start so that the chain rule through L(y) is exercised */
      for (int k = 3 * c.natoms; k < nvar; ++k) x[k] = 0.4 * (k % 2 ? 1 : -1);
      double H = 0, Hp, Hm, gmax = 0;
      ms_status st;
      MS_TEST_OK(ms__relax_eval(r, x, &H, g, &st));
      MS_TEST_EQ_INT(st, MS_STATUS_OK);
      memcpy(gd, g, sizeof(double) * (size_t)nvar);
      double worst = 0;
      const double h = 1e-4;
      for (int k = 0; k < nvar; ++k) {
        double x0 = x[k];
        x[k] = x0 + h;
        ms__relax_eval(r, x, &Hp, NULL, &st);
        x[k] = x0 - h;
        ms__relax_eval(r, x, &Hm, NULL, &st);
        x[k] = x0;
        double fd = (Hp - Hm) / (2 * h);
        if (fabs(fd - gd[k]) > worst) worst = fabs(fd - gd[k]);
        if (fabs(gd[k]) > gmax) gmax = fabs(gd[k]);
      }
      if (worst > 5e-6 * gmax + 1e-7)
        fprintf(stderr, "gradient %s mode %s: max |FD - analytic| %.3g (max |g| %.3g)\n", names[s],
                ms_relax_cell_name((ms_relax_cell)mode), worst, gmax);
      MS_TEST_TRUE(worst <= 5e-6 * gmax + 1e-7);
      MS_TEST_TRUE(gmax > 0.1); /* the point is far from a minimum: the check is not empty */
      free(x);
      free(g);
      free(gd);
      ms_relax_destroy(&r);
    }
    ms_cell_free(&c);
  }
  ms_model_destroy(&m);
  ms_potential_free(&pot);
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Lattice constants against the LAMMPS values quoted in physics.md.                        */
static void test_physics_values(void) {
  ms_model m = bush(0);
  ms_relax r = make_relax(m, MS_RELAX_FULL, 1e-5, 1e-4);
  struct {
    const char *name;
    double a, tol;
  } ref[] = {{"mgo", 4.20605, 1e-5}, {"tio2_rutile", 4.350, 1e-3}, {"srtio3", 3.834, 1e-3}};
  for (int k = 0; k < 3; ++k) {
    ms_cell c = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&c, frame(&start, ref[k].name)));
    ms_relax_result res;
    res.forces = NULL;
    MS_TEST_OK(ms_relax_run(r, &c, &res));
    MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
    double l[3];
    lengths(&c, l);
    MS_TEST_NEAR(l[0], ref[k].a, ref[k].tol);
    MS_TEST_TRUE(res.fmax <= 1e-5 && res.smax <= 1e-4);
    MS_TEST_TRUE(res.energy < res.energy_initial);
    ms_cell_free(&c);
  }
  ms_relax_destroy(&r);
  ms_model_destroy(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* 3. A symmetric start stays symmetric (no symmetrisation needed); --symmetrize agrees.      */
static void test_symmetry(void) {
  ms_model m = bush(0);
  const char *names[] = {"srtio3", "tio2_rutile", "al2o3_corundum", "mgal2o4_spinel"};
  const int nops[] = {48, 16, 12, 48};
  for (int k = 0; k < 4; ++k) {
    const ms_cell *c0 = frame(&ideal, names[k]);
    MS_TEST_EQ_INT(spglib_nops(c0, 1e-8), nops[k]);
    double E[2], len[2][3];
    for (int sym = 0; sym < 2; ++sym) {
      ms_relax_options o;
      ms_relax_options_default(&o);
      o.fmax = 1e-6;
      o.smax = 1e-5;
      o.symmetrize = sym;
      ms_relax r = NULL;
      MS_TEST_OK(ms_relax_create(m, &o, &r));
      ms_cell c = MS_CELL_INIT;
      MS_TEST_OK(ms_cell_copy(&c, c0));
      ms_relax_result res;
      res.forces = NULL;
      MS_TEST_OK(ms_relax_run(r, &c, &res));
      MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
      MS_TEST_EQ_INT(res.nsym, sym ? nops[k] : 1);
      MS_TEST_TRUE(res.iterations > 1); /* the structure did move */
      /* every operation of the start is still there with a tolerance 100x tighter than the
       * displacements of the relaxation (> 1e-3 Å here) */
      int kept = spglib_nops(&c, 1e-8);
      if (kept != nops[k]) fprintf(stderr, "%s (symmetrize %d): %d operations after relaxation\n", names[k], sym, kept);
      MS_TEST_EQ_INT(kept, nops[k]);
      double ang[3];
      ms_cell_parameters(&c, len[sym], ang);
      E[sym] = res.energy / c.natoms;
      ms_cell_free(&c);
      ms_relax_destroy(&r);
    }
    MS_TEST_NEAR(E[0], E[1], 1e-9);
    for (int a = 0; a < 3; ++a) MS_TEST_NEAR(len[0][a], len[1][a], 1e-6);
  }
  ms_model_destroy(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* 4. Starts rattled by 0.05 Å and strained by 3 % return to the same minimum.                */
static void test_rattled_starts(void) {
  ms_model m = bush(0);
  ms_relax r = make_relax(m, MS_RELAX_FULL, 1e-4, 1e-3);
  const char *names[] = {"mgo", "srtio3", "tio2_rutile", "al2o3_corundum", "mgal2o4_spinel"};
  for (int k = 0; k < 5; ++k) {
    ms_cell ref = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&ref, frame(&ideal, names[k])));
    ms_relax_result res;
    res.forces = NULL;
    MS_TEST_OK(ms_relax_run(r, &ref, &res));
    MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
    double e_ref = res.energy / ref.natoms, l_ref[3];
    lengths(&ref, l_ref);
    for (int seed = 0; seed < 3; ++seed) {
      ms_cell c = MS_CELL_INIT;
      MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, names[k])));
      perturb(&c, 0.03, 0.05, 100 * (uint64_t)k + (uint64_t)seed);
      MS_TEST_OK(ms_relax_run(r, &c, &res));
      MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
      MS_TEST_TRUE(res.energy_initial - res.energy > 1e-3); /* it was not at the minimum */
      MS_TEST_NEAR(res.energy / c.natoms, e_ref, 1e-6);
      double l[3];
      lengths(&c, l);
      for (int a = 0; a < 3; ++a) MS_TEST_NEAR(l[a], l_ref[a], 1e-3);
      ms_cell_free(&c);
    }
    ms_cell_free(&ref);
  }
  ms_relax_destroy(&r);
  ms_model_destroy(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* 5. Pathological starts end with the right status, in bounded work.                        */
static void run_status(ms_relax r, ms_cell *c, ms_status want, const char *what) {
  ms_relax_result res;
  res.forces = NULL;
  MS_TEST_OK(ms_relax_run(r, c, &res));
  if (res.status != want)
    fprintf(stderr, "%s: status %s (%s), expected %s\n", what, ms_status_name(res.status), res.detail,
            ms_status_name(want));
  MS_TEST_EQ_INT(res.status, want);
  MS_TEST_TRUE(res.detail[0] != '\0');
  ms_relax_options o;
  ms_relax_get_options(r, &o);
  MS_TEST_TRUE(res.evaluations <= 10 * o.max_steps + 100 + 64);
}

static void test_pathological(void) {
  ms_model m = bush(0);
  ms_relax r = make_relax(m, MS_RELAX_FULL, 1e-3, 1e-2);
  ms_cell c = MS_CELL_INIT;

  /* two oxide ions 0.5 Å apart: inside the O-O catastrophe guard */
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "mgo")));
  int o1 = -1, o2 = -1;
  for (int i = 0; i < c.natoms; ++i)
    if (c.species[c.kind[i]].Z == 8) {
      if (o1 < 0)
        o1 = i;
      else if (o2 < 0)
        o2 = i;
    }
  double p[3];
  ms_cell_site_cart(&c, o1, p);
  p[0] += 0.5;
  ms_cell_cart_to_frac(&c, p, c.frac[o2]);
  run_status(r, &c, MS_STATUS_COLLAPSED, "O-O 0.5 Å");

  /* a cell ten times too large */
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "srtio3")));
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = 10 * c.lattice[i][j];
  ms_cell_set_lattice(&c, L);
  run_status(r, &c, MS_STATUS_EXPLODED, "10x cell");

  /* NaN coordinates (the readers reject them, so built here) */
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "srtio3")));
  c.frac[2][1] = NAN;
  run_status(r, &c, MS_STATUS_NAN, "NaN coordinate");

  /* a zero-volume cell */
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "srtio3")));
  memcpy(L, c.lattice, sizeof L);
  for (int j = 0; j < 3; ++j) L[2][j] = L[0][j] + L[1][j];
  ms_cell_set_lattice(&c, L);
  run_status(r, &c, MS_STATUS_BAD_CELL, "zero volume");

  /* the step limit */
  ms_relax_options o;
  ms_relax_get_options(r, &o);
  o.max_steps = 2;
  MS_TEST_OK(ms_relax_set_options(r, &o));
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "tio2_rutile")));
  perturb(&c, 0.03, 0.05, 5);
  ms_relax_result res;
  res.forces = NULL;
  MS_TEST_OK(ms_relax_run(r, &c, &res));
  MS_TEST_EQ_INT(res.status, MS_STATUS_MAX_STEPS);
  MS_TEST_EQ_INT(res.iterations, 2);
  ms_relax_destroy(&r);
  ms_model_destroy(&m);

  /* Collapse during the relaxation: pure Coulomb rocksalt (no repulsion) shrinks until the
   * volume bound stops it; short-range terms alone (no attraction) blow the cell up. Both are
   * found by the line search running into rejected trial points. */
  ms_model_options mo;
  ms_model_options_default(&mo);
  ms_model mc = NULL;
  MS_TEST_OK(ms_model_create("coulomb", &mo, &mc));
  r = make_relax(mc, MS_RELAX_FULL, 1e-3, 1e-2);
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "mgo")));
  perturb(&c, 0.0, 0.02, 9);
  run_status(r, &c, MS_STATUS_EXPLODED, "pure Coulomb MgO");
  ms_relax_destroy(&r);
  ms_model_destroy(&mc);

  mo.coulomb = 0;
  MS_TEST_OK(ms_model_create("bush1994", &mo, &mc));
  r = make_relax(mc, MS_RELAX_FULL, 1e-3, 1e-2);
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "mgo")));
  run_status(r, &c, MS_STATUS_EXPLODED, "short-range only MgO");
  ms_relax_destroy(&r);
  ms_model_destroy(&mc);
  ms_cell_free(&c);
}

/* ------------------------------------------------------------------------------------------ */
/* 6. One relaxer for many structures of different sizes gives what fresh relaxers give.     */
static void test_reuse(void) {
  ms_model m = bush(0);
  const char *names[] = {"srtio3", "mgo", "srtio3", "al2o3_corundum", "mgo"};
  ms_relax shared = make_relax(m, MS_RELAX_FULL, 1e-4, 1e-3);
  for (int k = 0; k < 5; ++k) {
    ms_cell a = MS_CELL_INIT, b = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&a, frame(&ideal, names[k])));
    perturb(&a, 0.02, 0.05, 40 + (uint64_t)(k % 3));
    MS_TEST_OK(ms_cell_copy(&b, &a));
    double fa[16][3], fb[16][3];
    ms_relax_result ra, rb;
    ra.forces = fa;
    rb.forces = fb;
    MS_TEST_OK(ms_relax_run(shared, &a, &ra));
    ms_relax fresh = make_relax(m, MS_RELAX_FULL, 1e-4, 1e-3);
    MS_TEST_OK(ms_relax_run(fresh, &b, &rb));
    ms_relax_destroy(&fresh);
    MS_TEST_EQ_INT(ra.status, MS_STATUS_CONVERGED);
    MS_TEST_EQ_INT(ra.iterations, rb.iterations);
    MS_TEST_EQ_INT(ra.evaluations, rb.evaluations);
    MS_TEST_TRUE(ra.energy == rb.energy);
    MS_TEST_TRUE(memcmp(a.lattice, b.lattice, sizeof a.lattice) == 0);
    MS_TEST_TRUE(memcmp(fa, fb, sizeof(double[3]) * (size_t)a.natoms) == 0);
    /* the returned forces are those of the returned structure */
    ms_model_result mr;
    double fm[16][3];
    mr.forces = fm;
    MS_TEST_OK(ms_model_compute(m, &a, MS_MODEL_ALL, &mr));
    MS_TEST_NEAR(mr.energy, ra.energy, 1e-9 * fabs(ra.energy));
    for (int i = 0; i < a.natoms; ++i)
      for (int d = 0; d < 3; ++d) MS_TEST_NEAR(fm[i][d], fa[i][d], 1e-8);
    for (int v = 0; v < 6; ++v) MS_TEST_NEAR(mr.stress_GPa[v], ra.stress_GPa[v], 1e-7);
    ms_cell_free(&a);
    ms_cell_free(&b);
  }
  ms_relax_destroy(&shared);
  ms_model_destroy(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* 7. External pressure: P is reached, and dH_min/dP = V (Hellmann-Feynman for the enthalpy).  */
static void test_pressure(void) {
  ms_model m = bush(1e-10);
  const double P = 10.0, dP = 0.5;
  double H[3], V = 0;
  for (int k = 0; k < 3; ++k) {
    ms_relax_options o;
    ms_relax_options_default(&o);
    o.fmax = 1e-6;
    o.smax = 1e-5;
    o.pressure = P + (k - 1) * dP;
    ms_relax r = NULL;
    MS_TEST_OK(ms_relax_create(m, &o, &r));
    ms_cell c = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&c, frame(&start, "srtio3")));
    ms_relax_result res;
    res.forces = NULL;
    MS_TEST_OK(ms_relax_run(r, &c, &res));
    MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
    MS_TEST_NEAR(res.enthalpy, res.energy + o.pressure * res.volume / MS_EV_PER_A3_IN_GPA, 1e-9);
    /* the stress balances the applied pressure: sigma = -P I */
    for (int a = 0; a < 3; ++a) MS_TEST_NEAR(res.stress_GPa[a], -o.pressure, 1e-5);
    for (int a = 3; a < 6; ++a) MS_TEST_NEAR(res.stress_GPa[a], 0.0, 1e-5);
    H[k] = res.enthalpy;
    if (k == 1) V = res.volume;
    ms_cell_free(&c);
    ms_relax_destroy(&r);
  }
  double dHdP = (H[2] - H[0]) / (2 * dP) * MS_EV_PER_A3_IN_GPA; /* Å^3 */
  MS_TEST_REL(dHdP, V, 1e-4);
  MS_TEST_TRUE(H[0] < H[1] && H[1] < H[2]);
  ms_model_destroy(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* 8. Cell modes agree where they must; fixed keeps the cell bit for bit.                    */
static void test_modes(void) {
  ms_model m = bush(0);
  /* cubic perovskite scaled by 3 %: iso and full reach the same a */
  double a_mode[4] = {0};
  for (int mode = MS_RELAX_ISO; mode <= MS_RELAX_FULL; ++mode) {
    ms_relax r = make_relax(m, (ms_relax_cell)mode, 1e-6, 1e-5);
    ms_cell c = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "srtio3")));
    double L[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) L[i][j] = 1.03 * c.lattice[i][j];
    ms_cell_set_lattice(&c, L);
    ms_relax_result res;
    res.forces = NULL;
    MS_TEST_OK(ms_relax_run(r, &c, &res));
    MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
    double l[3];
    lengths(&c, l);
    a_mode[mode] = l[0];
    ms_cell_free(&c);
    ms_relax_destroy(&r);
  }
  MS_TEST_NEAR(a_mode[MS_RELAX_ISO], a_mode[MS_RELAX_FULL], 1e-6);
  MS_TEST_NEAR(a_mode[MS_RELAX_ANISO], a_mode[MS_RELAX_FULL], 1e-6);

  /* rutile: aniso (three lengths) and full agree on a and c */
  double lr[2][3];
  for (int k = 0; k < 2; ++k) {
    ms_relax r = make_relax(m, k ? MS_RELAX_FULL : MS_RELAX_ANISO, 1e-6, 1e-5);
    ms_cell c = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "tio2_rutile")));
    ms_relax_result res;
    res.forces = NULL;
    MS_TEST_OK(ms_relax_run(r, &c, &res));
    MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
    lengths(&c, lr[k]);
    ms_cell_free(&c);
    ms_relax_destroy(&r);
  }
  for (int a = 0; a < 3; ++a) MS_TEST_NEAR(lr[0][a], lr[1][a], 1e-6);

  /* etol: an energy-change criterion stops earlier than the force criterion, and says so */
  {
    ms_relax_options o;
    ms_relax_options_default(&o);
    o.fmax = 1e-6;
    o.smax = 1e-5;
    int its[2];
    double e[2];
    for (int k = 0; k < 2; ++k) {
      o.etol = k ? 1e-4 : 0;
      ms_relax r = NULL;
      MS_TEST_OK(ms_relax_create(m, &o, &r));
      ms_cell c = MS_CELL_INIT;
      MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "al2o3_corundum")));
      perturb(&c, 0.03, 0.05, 21);
      ms_relax_result res;
      res.forces = NULL;
      MS_TEST_OK(ms_relax_run(r, &c, &res));
      MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
      its[k] = res.iterations;
      e[k] = res.energy / c.natoms;
      if (k) MS_TEST_TRUE(strstr(res.detail, "enthalpy change") != NULL && res.fmax > 1e-6);
      ms_cell_free(&c);
      ms_relax_destroy(&r);
    }
    MS_TEST_TRUE(its[1] < its[0]);
    MS_TEST_NEAR(e[1], e[0], 1e-3);
  }

  /* fixed cell: positions relax, the lattice does not change at all */
  ms_relax r = make_relax(m, MS_RELAX_FIXED, 1e-5, 1e-5);
  ms_cell c = MS_CELL_INIT;
  MS_TEST_OK(ms_cell_copy(&c, frame(&ideal, "al2o3_corundum")));
  perturb(&c, 0.0, 0.05, 3);
  double L0[3][3];
  memcpy(L0, c.lattice, sizeof L0);
  ms_relax_result res;
  res.forces = NULL;
  MS_TEST_OK(ms_relax_run(r, &c, &res));
  MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
  MS_TEST_TRUE(memcmp(L0, c.lattice, sizeof L0) == 0);
  MS_TEST_TRUE(res.fmax <= 1e-5 && res.energy < res.energy_initial - 0.01);
  ms_cell_free(&c);
  ms_relax_destroy(&r);
  ms_model_destroy(&m);
}

/* ------------------------------------------------------------------------------------------ */
/* 9. Other TAO types through the options database reach the same minimum; bad ones fail.    */
static void test_tao_types(void) {
  ms_model m = bush(0);
  ms_cell c0 = MS_CELL_INIT;
  MS_TEST_OK(ms_cell_copy(&c0, frame(&ideal, "srtio3")));
  perturb(&c0, 0.03, 0.05, 77);
  const char *types[] = {"lmvm", "blmvm", "bncg"};
  double E[3];
  for (int k = 0; k < 3; ++k) {
    char opt[64];
    snprintf(opt, sizeof opt, "-relax_tao_type %s", types[k]);
    ms_relax_options o;
    ms_relax_options_default(&o);
    o.fmax = 1e-4;
    o.smax = 1e-3;
    o.petsc_options = opt;
    ms_relax r = NULL;
    MS_TEST_OK(ms_relax_create(m, &o, &r));
    MS_TEST_EQ_STR(ms_relax_tao_type(r), types[k]);
    ms_cell c = MS_CELL_INIT;
    MS_TEST_OK(ms_cell_copy(&c, &c0));
    ms_relax_result res;
    res.forces = NULL;
    MS_TEST_OK(ms_relax_run(r, &c, &res));
    MS_TEST_EQ_INT(res.status, MS_STATUS_CONVERGED);
    E[k] = res.energy / c.natoms;
    ms_cell_free(&c);
    ms_relax_destroy(&r);
  }
  MS_TEST_NEAR(E[1], E[0], 1e-6);
  MS_TEST_NEAR(E[2], E[0], 1e-6);
  ms_relax_options o;
  ms_relax_options_default(&o);
  o.petsc_options = "-relax_tao_type no_such_method";
  ms_relax r = NULL;
  MS_TEST_ERR(ms_relax_create(m, &o, &r), MS_ERR_PETSC, "no_such_method");
  MS_TEST_TRUE(r == NULL);
  PetscOptionsClearValue(NULL, "-relax_tao_type");
  /* invalid settings are errors with the field named */
  ms_relax_options_default(&o);
  o.fmax = -1;
  MS_TEST_ERR(ms_relax_create(m, &o, &r), MS_ERR_ARG, "fmax");
  ms_relax_cell mode;
  MS_TEST_ERR(ms_relax_cell_from_name("sideways", &mode), MS_ERR_USAGE, "sideways");
  MS_TEST_OK(ms_relax_cell_from_name("aniso", &mode));
  MS_TEST_EQ_INT(mode, MS_RELAX_ANISO);
  ms_cell_free(&c0);
  ms_model_destroy(&m);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (ms_elements_load()) {
    fprintf(stderr, "elements: %s\n", ms_err_message());
    return 1;
  }
  ms_cell_list_init(&ideal);
  ms_cell_list_init(&start);
  if (ms_structure_read("tests/regression/relax/ideal.extxyz", MS_FORMAT_AUTO, &ideal) ||
      ms_structure_read("tests/regression/relax/start.extxyz", MS_FORMAT_AUTO, &start)) {
    fprintf(stderr, "structures: %s\n", ms_err_message());
    return 1;
  }
  test_gradient();
  test_physics_values();
  test_symmetry();
  test_rattled_starts();
  test_pathological();
  test_reuse();
  test_pressure();
  test_modes();
  test_tao_types();
  ms_cell_list_free(&ideal);
  ms_cell_list_free(&start);
  ms_elements_unload();
  ms_petsc_finalize();
  MPI_Finalize();
  return MS_TEST_RESULT();
}
