/* Unit tests for the element table, Shannon radii lookup and species text.
 *
 * Reference values come from sources independent of our loader: physics.md §4.1/§4.2 (which
 * quote pymatgen's table and Shannon 1976), IUPAC standard atomic weights, and chemistry
 * conventions for the text forms. The data file is also damaged on purpose (through the
 * MATSCREEN_DATA_DIR override) to check that validation names the place. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "matscreen/data.h"
#include "matscreen/species.h"
#include "ms_test.h"

static const ms_element *sym(const char *s) { return ms_element_by_symbol(s); }

static void test_elements(void) {
  MS_TEST_OK(ms_elements_load());
  MS_TEST_OK(ms_elements_load()); /* idempotent */

  /* Pauling electronegativities, physics.md §4.1. */
  MS_TEST_NEAR(sym("O")->electronegativity, 3.44, 1e-12);
  MS_TEST_NEAR(sym("F")->electronegativity, 3.98, 1e-12);
  MS_TEST_NEAR(sym("Ti")->electronegativity, 1.54, 1e-12);
  MS_TEST_NEAR(sym("Sr")->electronegativity, 0.95, 1e-12);
  MS_TEST_NEAR(sym("Cs")->electronegativity, 0.79, 1e-12);
  /* The source has none for the light noble gases (physics.md §4.1): NaN, not 0. */
  MS_TEST_TRUE(isnan(sym("He")->electronegativity));
  MS_TEST_TRUE(isnan(sym("Ar")->electronegativity));
  int n_x = 0;
  for (int z = 1; z <= MS_MAX_Z; ++z) n_x += !isnan(ms_element_by_z(z)->electronegativity);
  MS_TEST_EQ_INT(n_x, 100); /* "present for 100 elements", physics.md §4.1 */

  /* IUPAC standard atomic weights: Ti 47.867(1), Fe 55.845(2), O [15.99903, 15.99977]. */
  MS_TEST_NEAR(sym("Ti")->mass, 47.867, 0.001);
  MS_TEST_NEAR(sym("Fe")->mass, 55.845, 0.002);
  MS_TEST_NEAR(sym("O")->mass, 15.9994, 0.0005);

  /* Common oxidation states, physics.md §4.1: Ti [4], O [-2]. */
  MS_TEST_EQ_INT(sym("Ti")->n_common_ox, 1);
  MS_TEST_EQ_INT(sym("Ti")->common_ox[0], 4);
  MS_TEST_EQ_INT(sym("O")->n_common_ox, 1);
  MS_TEST_EQ_INT(sym("O")->common_ox[0], -2);

  /* Z and symbols: periodic-table facts. */
  MS_TEST_EQ_INT(sym("H")->Z, 1);
  MS_TEST_EQ_INT(sym("Ti")->Z, 22);
  MS_TEST_EQ_INT(sym("TI")->Z, 22);
  MS_TEST_EQ_INT(sym("ti")->Z, 22);
  MS_TEST_EQ_INT(sym("Og")->Z, 118);
  MS_TEST_EQ_STR(ms_element_by_z(26)->symbol, "Fe");
  MS_TEST_EQ_STR(ms_element_by_z(26)->name, "Iron");
  MS_TEST_TRUE(sym("Xx") == NULL);
  MS_TEST_TRUE(sym("") == NULL);
  MS_TEST_TRUE(sym("Tii") == NULL);
  MS_TEST_TRUE(ms_element_by_z(0) == NULL);
  MS_TEST_TRUE(ms_element_by_z(119) == NULL);
  for (int z = 1; z <= MS_MAX_Z; ++z) {
    const ms_element *e = ms_element_by_z(z);
    if (!e || e->Z != z || sym(e->symbol) != e) MS_TEST_TRUE(!"Z <-> symbol round trip");
  }
  MS_TEST_TRUE(strstr(ms_elements_source(), "Shannon") != NULL);
}

static void radius(const char *ion, int cn, ms_spin spin, double ionic, double crystal,
                   int cn_expected) {
  ms_species sp;
  ms_shannon_radius r;
  int used = -1;
  MS_TEST_OK(ms_species_parse(ion, &sp));
  ms_err e = ms_shannon_lookup(sp.Z, (int)sp.ox, cn, spin, &r, &used);
  MS_TEST_EQ_INT(e, MS_SUCCESS);
  if (e != MS_SUCCESS) {
    fprintf(stderr, "  %s CN %d: %s\n", ion, cn, ms_err_message());
    return;
  }
  MS_TEST_EQ_INT(used, cn_expected);
  MS_TEST_EQ_INT(r.cn, cn_expected);
  MS_TEST_NEAR(r.ionic, ionic, 1e-12);
  if (!isnan(crystal)) MS_TEST_NEAR(r.crystal, crystal, 1e-12);
}

/* Atomic volumes (WebElements molar volumes) against the volume per atom of the elemental
 * crystals from their room-temperature lattice constants (Wyckoff 1963; Kittel, Introduction to
 * Solid State Physics, 8th ed., table 1.3): fcc a^3/4, bcc a^3/2, diamond a^3/8, graphite
 * (sqrt(3)/2) a^2 c / 4. The two sources are independent; they agree to better than 1.5 %. Covalent radii: Cordero et al.
 * (2008) give C 0.76 (sp3) and half the Si-Si bond of silicon, 2.352/2 = 1.176 Å, is within
 * 6 % of their 1.11 (their radii are fitted to bonds in molecules and compounds). */
static void test_atomic_volumes(void) {
  static const struct {
    const char *el;
    double a, atoms;
  } xtal[] = {{"Cu", 3.6149, 4}, {"Al", 4.0495, 4}, {"Ni", 3.5238, 4}, {"Au", 4.0782, 4},
              {"W", 3.1652, 2},  {"Fe", 2.8665, 2}, {"Mo", 3.1470, 2}, {"Si", 5.4309, 8}};
  for (size_t k = 0; k < sizeof xtal / sizeof xtal[0]; ++k) {
    const ms_element *e = ms_element_by_symbol(xtal[k].el);
    MS_TEST_TRUE(e != NULL);
    if (!e) continue;
    double v = xtal[k].a * xtal[k].a * xtal[k].a / xtal[k].atoms;
    if (!(fabs(e->atomic_volume / v - 1) < 0.015))
      fprintf(stderr, "%s: atomic volume %.3f, crystal %.3f\n", xtal[k].el, e->atomic_volume, v);
    MS_TEST_TRUE(fabs(e->atomic_volume / v - 1) < 0.015);
  }
  /* carbon: WebElements' molar volume is graphite's (a = 2.464, c = 6.711 Å, 4 atoms) */
  double vg = sqrt(3.0) / 2 * 2.464 * 2.464 * 6.711 / 4;
  MS_TEST_TRUE(fabs(ms_element_by_symbol("C")->atomic_volume / vg - 1) < 0.015);
  MS_TEST_NEAR(ms_element_by_symbol("C")->covalent_radius, 0.76, 1e-12);
  MS_TEST_TRUE(fabs(ms_element_by_symbol("Si")->covalent_radius / (2.352 / 2) - 1) < 0.06);
  /* Both are known for every element M3GNet covers (H..Bi, Ac..Pu); superheavy elements have
   * neither. */
  int missing = 0;
  for (int z = 1; z <= 94; ++z) {
    if (z >= 84 && z <= 88) continue; /* Po..Ra: not M3GNet elements */
    const ms_element *e = ms_element_by_z(z);
    missing += isnan(e->atomic_volume) || isnan(e->covalent_radius);
  }
  MS_TEST_EQ_INT(missing, 0);
  MS_TEST_TRUE(isnan(ms_element_by_z(118)->atomic_volume));
}

static void test_shannon(void) {
  /* physics.md §4.1 (Shannon 1976 via pymatgen), and §4.1's crystal radii from
   * pymatgen/analysis/ionic_radii.json (Ba2+ CN 12 crystal 1.75). */
  radius("O2-", 6, MS_SPIN_NONE, 1.40, 1.26, 6);
  radius("Sr2+", 12, MS_SPIN_NONE, 1.44, 1.58, 12);
  radius("Ti4+", 6, MS_SPIN_NONE, 0.605, 0.745, 6);
  radius("Ba2+", 12, MS_SPIN_NONE, 1.61, 1.75, 12);
  radius("Fe2+", 6, MS_SPIN_HIGH, 0.78, NAN, 6);
  radius("Fe2+", 6, MS_SPIN_LOW, 0.61, NAN, 6);
  /* No spin requested: high spin is preferred (header contract). */
  radius("Fe2+", 6, MS_SPIN_NONE, 0.78, NAN, 6);
  /* Spin requested for an ion without spin entries: the undesignated entry serves. */
  radius("Ti4+", 6, MS_SPIN_LOW, 0.605, 0.745, 6);
  /* Nearest CN: Mg2+ has no XII entry, VIII (0.89) is used (physics.md §4.2, MgTiO3). */
  radius("Mg2+", 12, MS_SPIN_NONE, 0.89, NAN, 8);
  /* Low-spin Fe2+ is tabulated only at VI, so a CN 4 request lands there. */
  radius("Fe2+", 4, MS_SPIN_LOW, 0.61, NAN, 6);

  /* Ties go to the larger CN: Ti4+ is tabulated at IV, V, VI, VIII; CN 7 is equidistant from
   * VI and VIII. Compare with the direct CN 8 entry rather than a second copy of the number. */
  ms_shannon_radius r7, r8;
  int used = 0;
  MS_TEST_OK(ms_shannon_lookup(22, 4, 7, MS_SPIN_NONE, &r7, &used));
  MS_TEST_EQ_INT(used, 8);
  MS_TEST_OK(ms_shannon_lookup(22, 4, 8, MS_SPIN_NONE, &r8, NULL));
  MS_TEST_NEAR(r7.ionic, r8.ionic, 0.0);
  /* Below the smallest CN the smallest is used: O2- is tabulated from II. */
  MS_TEST_OK(ms_shannon_lookup(8, -2, 1, MS_SPIN_NONE, &r7, &used));
  MS_TEST_EQ_INT(used, 2);

  /* Geometry: Ni2+ has IV (0.55) and IVSQ (0.49) in Shannon (1976); regular geometry wins. */
  ms_shannon_radius r;
  MS_TEST_OK(ms_shannon_lookup(28, 2, 4, MS_SPIN_NONE, &r, NULL));
  MS_TEST_EQ_INT(r.square_planar, 0);
  MS_TEST_NEAR(r.ionic, 0.55, 1e-12);
  /* Br5+ is tabulated only as IIIPY (pyramidal). */
  MS_TEST_OK(ms_shannon_lookup(35, 5, 3, MS_SPIN_NONE, &r, &used));
  MS_TEST_EQ_INT(r.pyramidal, 1);
  MS_TEST_EQ_INT(used, 3);

  /* Failures name the ion. */
  MS_TEST_ERR(ms_shannon_lookup(22, 5, 6, MS_SPIN_NONE, &r, NULL), MS_ERR_INPUT, "Ti5+");
  MS_TEST_ERR(ms_shannon_lookup(2, 1, 6, MS_SPIN_NONE, &r, NULL), MS_ERR_INPUT, "He+");
  MS_TEST_ERR(ms_shannon_lookup(22, 4, 0, MS_SPIN_NONE, &r, NULL), MS_ERR_ARG, NULL);
  MS_TEST_ERR(ms_shannon_lookup(0, 1, 6, MS_SPIN_NONE, &r, NULL), MS_ERR_ARG, NULL);
  /* Mn3+ (Shannon 1976): V without a spin designation, VI high spin 0.645 and low spin 0.58.
   * A low-spin request at CN 5 may use the undesignated V entry; at CN 6 it must pick the
   * low-spin entry, and with no preference the high-spin one. */
  MS_TEST_OK(ms_shannon_lookup(25, 3, 5, MS_SPIN_LOW, &r, &used));
  MS_TEST_EQ_INT(used, 5);
  MS_TEST_EQ_INT(r.spin, MS_SPIN_NONE);
  radius("Mn3+", 6, MS_SPIN_LOW, 0.58, NAN, 6);
  radius("Mn3+", 6, MS_SPIN_NONE, 0.645, NAN, 6);

  /* The table: 492 entries for 94 elements (physics.md §4.1), sorted by Z. */
  size_t n = 0;
  const ms_shannon_radius *t = ms_shannon_table(&n);
  MS_TEST_EQ_INT(n, 492);
  int with = 0, last = 0, sorted = 1;
  for (size_t k = 0; t && k < n; ++k) {
    if (t[k].Z != last) ++with;
    if (t[k].Z < last) sorted = 0;
    last = t[k].Z;
  }
  MS_TEST_EQ_INT(with, 94);
  MS_TEST_TRUE(sorted);
}

typedef struct {
  const char *text;
  int Z, has_ox;
  double ox;
  const char *formatted;
} parse_case;

static void test_parse(void) {
  static const parse_case ok[] = {
      {"Ti4+", 22, 1, 4, "Ti4+"},   {"O2-", 8, 1, -2, "O2-"},      {"Na+", 11, 1, 1, "Na+"},
      {"Cl-", 17, 1, -1, "Cl-"},    {"Fe2.5+", 26, 1, 2.5, "Fe2.5+"}, {"Ti", 22, 0, 0, "Ti"},
      {"Ti+4", 22, 1, 4, "Ti4+"},   {"O-2", 8, 1, -2, "O2-"},      {"Na1+", 11, 1, 1, "Na+"},
      {"Cl-1", 17, 1, -1, "Cl-"},   {"Os8+", 76, 1, 8, "Os8+"},    {"TI4+", 22, 1, 4, "Ti4+"},
      {"Fe0.5-", 26, 1, -0.5, "Fe0.5-"}, {"U", 92, 0, 0, "U"},
  };
  char buf[32];
  for (size_t k = 0; k < sizeof ok / sizeof ok[0]; ++k) {
    ms_species sp = {0, 0, 0};
    ms_err e = ms_species_parse(ok[k].text, &sp);
    MS_TEST_EQ_INT(e, MS_SUCCESS);
    if (e) {
      fprintf(stderr, "  \"%s\": %s\n", ok[k].text, ms_err_message());
      continue;
    }
    MS_TEST_EQ_INT(sp.Z, ok[k].Z);
    MS_TEST_EQ_INT(sp.has_ox, ok[k].has_ox);
    MS_TEST_NEAR(sp.ox, ok[k].ox, 0.0);
    MS_TEST_EQ_STR(ms_species_format(&sp, buf, sizeof buf), ok[k].formatted);
  }

  static const char *const bad[] = {"Xx2+", "Ti4", "O--", "", "4+", "Ti4+x", "Ti 4+", "Ti2.+",
                                    "Ti44+", "Tiiii", "+", "Ti++", "Ti+-", " Ti", "Ti4+ "};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k) {
    ms_species sp;
    char want[32];
    snprintf(want, sizeof want, "\"%s\"", bad[k]); /* the message quotes the text */
    MS_TEST_ERR(ms_species_parse(bad[k], &sp), MS_ERR_INPUT, want);
  }
  ms_species sp;
  MS_TEST_ERR(ms_species_parse("Xx2+", &sp), MS_ERR_INPUT, "unknown element symbol 'Xx'");
  MS_TEST_ERR(ms_species_parse("Ti4", &sp), MS_ERR_INPUT, "needs a sign");

  /* Round trips over every element and each of its listed oxidation states. */
  int failures = 0;
  for (int z = 1; z <= MS_MAX_Z; ++z) {
    const ms_element *el = ms_element_by_z(z);
    for (int k = -1; k < el->n_ox; ++k) {
      ms_species a = {z, k >= 0, k >= 0 ? el->ox[k] : 0.0}, b;
      ms_species_format(&a, buf, sizeof buf);
      if (ms_species_parse(buf, &b) != MS_SUCCESS || !ms_species_equal(&a, &b)) {
        if (++failures < 5) fprintf(stderr, "  round trip failed for %s\n", buf);
      }
    }
  }
  MS_TEST_EQ_INT(failures, 0);

  ms_species a, b;
  MS_TEST_OK(ms_species_parse("Ti4+", &a));
  MS_TEST_OK(ms_species_parse("Ti+4", &b));
  MS_TEST_TRUE(ms_species_equal(&a, &b));
  MS_TEST_OK(ms_species_parse("Ti", &b));
  MS_TEST_TRUE(!ms_species_equal(&a, &b));
  MS_TEST_OK(ms_species_parse("Zr4+", &b));
  MS_TEST_TRUE(!ms_species_equal(&a, &b));
  MS_TEST_OK(ms_species_parse("Ti3+", &b));
  MS_TEST_TRUE(!ms_species_equal(&a, &b));
  MS_TEST_OK(ms_species_parse("Ti", &a));
  MS_TEST_TRUE(ms_species_equal(&a, &b) == 0);
  MS_TEST_OK(ms_species_parse("Ti", &b));
  MS_TEST_TRUE(ms_species_equal(&a, &b));
}

/* Write a damaged copy of the embedded data into a temporary MATSCREEN_DATA_DIR and check that
 * loading fails with a positioned message containing @p expect. */
static void damaged(const char *orig, const char *find, const char *repl, const char *expect) {
  char dir[] = "/tmp/ms_test_species_XXXXXX";
  if (!mkdtemp(dir)) {
    MS_TEST_TRUE(!"mkdtemp failed");
    return;
  }
  char path[256];
  snprintf(path, sizeof path, "%s/elements.yaml", dir);
  const char *at = strstr(orig, find);
  MS_TEST_TRUE(at != NULL);
  FILE *fp = fopen(path, "w");
  if (at && fp) {
    fwrite(orig, 1, (size_t)(at - orig), fp);
    fputs(repl, fp);
    fputs(at + strlen(find), fp);
  }
  if (fp) fclose(fp);

  ms_elements_unload();
  setenv("MATSCREEN_DATA_DIR", dir, 1);
  MS_TEST_ERR(ms_elements_load(), MS_ERR_INPUT, expect);
  MS_TEST_TRUE(ms_element_by_z(1) == NULL); /* a failed load leaves nothing half-filled */
  unsetenv("MATSCREEN_DATA_DIR");
  remove(path);
  rmdir(dir);
}

static void test_validation(void) {
  char *text = NULL;
  size_t len = 0;
  unsetenv("MATSCREEN_DATA_DIR");
  MS_TEST_OK(ms_data_read("elements.yaml", &text, &len, NULL));
  if (!text) return;
  damaged(text, "    Z: 22\n", "    Z: 23\n", "expected Z = 22, got 23");
  damaged(text, "electronegativity: 1.54", "electronegativty: 1.54",
          "missing key 'electronegativity' (is 'electronegativty' a misspelling?)");
  damaged(text, "symbol: Ti\n", "symbol: Ti\n    colour: silver\n", "elements[21].colour: unknown key");
  damaged(text, "ionic: 0.605", "ionic: big", "elements[21].shannon_radii");
  damaged(text, "spin: none", "spin: medium", "spin must be none, high or low");
  damaged(text, "radii: 492", "radii: 491", "counts");
  damaged(text, "units: {mass: u,", "units: {mass: kg,", "units.mass");
  damaged(text, "mass: 47.867", "mass: -1", "elements[21].mass");
  free(text);

  /* After the failures the real table loads again. */
  ms_elements_unload();
  MS_TEST_OK(ms_elements_load());
  MS_TEST_EQ_INT(sym("Ti")->Z, 22);
}

/* Not a timed test (timing is not asserted): prints how long start-up loading takes, since it
 * runs in every matscreen process. */
static void report_load_time(void) {
  const int reps = 20;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int k = 0; k < reps; ++k) {
    ms_elements_unload();
    if (ms_elements_load() != MS_SUCCESS) break;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6) /
              reps;
  fprintf(stderr, "ms_elements_load: %.3f ms per load (mean of %d)\n", ms, reps);
}

int main(void) {
  unsetenv("MATSCREEN_DATA_DIR");
  /* Before loading, lookups report the state instead of crashing. */
  ms_shannon_radius r;
  MS_TEST_TRUE(ms_element_by_z(1) == NULL);
  MS_TEST_ERR(ms_shannon_lookup(22, 4, 6, MS_SPIN_NONE, &r, NULL), MS_ERR_STATE, "not loaded");
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "FAIL: cannot load the element table: %s\n", ms_err_message());
    return 1; /* everything below would dereference missing elements */
  }
  test_elements();
  test_atomic_volumes();
  test_shannon();
  test_parse();
  test_validation();
  report_load_time();
  ms_elements_unload();
  return MS_TEST_RESULT();
}
