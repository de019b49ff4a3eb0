/* libFuzzer target: the potential file parser (ms_potential_parse) on arbitrary bytes.
 *
 * An accepted potential is then used the way the rest of the program uses one: every
 * accessor and the description of `matscreen info potentials` are called, every term is
 * evaluated at a few distances, and the potential is bound to a small cell of two covered
 * species (charges and the pair table with guards).
 *
 * Checked besides "no crash, leak, hang or undefined behaviour on any input":
 * - a failure always comes with a message and returns no potential;
 * - guards are symmetric (guard(a, b) == guard(b, a)) and binding gives each kind the charge
 *   of its covered species.
 * Not collective; needs no MPI. Build and run with scripts/fuzz.sh potential SECONDS. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/pair.h"
#include "matscreen/potential.h"
#include "matscreen/species.h"

#include "fuzz_base.h"


static void describe(const ms_potential *p) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  if (!fp) return;
  check_ok(ms_potential_describe(p, fp), "ms_potential_describe");
  fclose(fp);
  free(buf);
  /* Truncation of the species list: a buffer too short for it must still end in a NUL. */
  char small[6], big[4096];
  ms_potential_covers(p, small, sizeof small);
  if (memchr(small, '\0', sizeof small) == NULL) fail("ms_potential_covers: no NUL");
  ms_potential_covers(p, big, sizeof big);
}

static void terms(const ms_potential *p) {
  const double r[] = {0.05, 0.5, 1.0, 2.0, 5.0};
  for (int k = 0; k < ms_potential_nterms(p); ++k) {
    ms_potential_term_info info;
    check_ok(ms_potential_term(p, k, &info), "ms_potential_term");
    if (!info.species[0] || !info.species[1] || !info.citation || !info.citation_key)
      fail("ms_potential_term: missing strings");
    for (size_t q = 0; q < sizeof r / sizeof r[0]; ++q) {
      double dEdr = 0;
      (void)ms_pair_term_eval(info.term, r[q], &dEdr);
    }
    (void)ms_pair_term_eval(info.term, info.term->cutoff, NULL);
  }
  for (int k = 0; k < ms_potential_ncitations(p); ++k) {
    const char *key = NULL;
    if (!ms_potential_citation(p, k, &key) || !key) fail("ms_potential_citation: missing strings");
  }
}

static void guards(const ms_potential *p) {
  int n = ms_potential_nspecies(p);
  for (int a = 0; a < n; ++a)
    for (int b = a; b < n; ++b) {
      const char *la = ms_potential_species(p, a, NULL, NULL);
      const char *lb = ms_potential_species(p, b, NULL, NULL);
      double r1, br1, c1, r2, br2, c2;
      check_ok(ms_potential_guard(p, la, lb, &r1, &br1, &c1), "ms_potential_guard");
      check_ok(ms_potential_guard(p, lb, la, &r2, &br2, &c2), "ms_potential_guard");
      if (memcmp(&r1, &r2, sizeof r1) || memcmp(&br1, &br2, sizeof br1) ||
          memcmp(&c1, &c2, sizeof c1))
        fail("guard(a, b) != guard(b, a)");
    }
}

/* Bind to a rock-salt-like pair of sites: first and last covered species, or two ions when the
 * potential takes any species. */
static void bind(const ms_potential *p) {
  ms_species sp[2];
  double q[2] = {2, -2};
  int n = ms_potential_nspecies(p);
  if (ms_potential_any_species(p)) {
    sp[0] = (ms_species){38, 1, 2.0};
    sp[1] = (ms_species){8, 1, -2.0};
  } else {
    if (n < 1) fail("a potential without 'any' covers no species");
    ms_potential_species(p, 0, &sp[0], &q[0]);
    ms_potential_species(p, n - 1, &sp[1], &q[1]);
  }
  ms_cell c;
  ms_cell_init(&c);
  const double L[3][3] = {{4, 0, 0}, {0, 4, 0}, {0, 0, 4}};
  const double f[2][3] = {{0, 0, 0}, {0.5, 0.5, 0.5}};
  ms_cell_set_lattice(&c, L);
  if (ms_cell_add_atom(&c, &sp[0], f[0]) || ms_cell_add_atom(&c, &sp[1], f[1]))
    fail("cannot build the test cell");
  double charge[MS_CELL_MAX_KINDS];
  ms_pair_table table;
  ms_pair_table_init(&table);
  check_ok(ms_potential_bind(p, &c, charge, &table), "ms_potential_bind");
  for (int k = 0; k < c.nkinds; ++k) {
    int src = ms_species_equal(&c.species[k], &sp[0]) ? 0 : 1;
    if (charge[k] != q[src]) fail("bound charge differs from the covered species' charge");
  }
  (void)ms_pair_table_reach(&table);
  ms_pair_table_free(&table);
  ms_cell_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ms_potential *p = NULL;
  ms_err e = ms_potential_parse((const char *)data, size, "fuzz.yaml", &p);
  if (e != MS_SUCCESS) {
    if (p) fail("ms_potential_parse failed but returned a potential");
    if (!ms_err_message()[0]) fail("ms_potential_parse failed without a message");
  } else {
    if (!ms_potential_name(p) || !ms_potential_description(p) || !ms_potential_source(p))
      fail("accepted potential without name, description or source");
    if (!(ms_potential_coulomb_accuracy(p) > 0) || !isfinite(ms_potential_max_cutoff(p)))
      fail("accepted potential with a bad accuracy or cutoff");
    describe(p);
    terms(p);
    guards(p);
    bind(p);
  }
  ms_potential_free(&p);
  ms_err_clear();
  return 0;
}
