/* libFuzzer target: the hull stage's CSV of user reference phases (ms__hull_read_entries, the
 * reader behind `references: {entries: FILE.csv}`) on arbitrary bytes.
 *
 * The end members are those of a Sr-La-Ti-Al-O campaign (SrO, La2O3, TiO2, Al2O3). Checked
 * besides "no crash, leak, hang or undefined behaviour on any input":
 * - a failure always comes with a message;
 * - every entry read has a finite energy, a formula, a composition of charged species whose
 *   elements are the end members' (with their oxidation states), and a name;
 * - the entries read are a hull's input: adding them with the end members to an ms_hull and
 *   computing it succeeds or fails with a message, and energies above the hull are >= 0.
 * Not collective; needs no MPI. Build and run with scripts/fuzz.sh hull_csv SECONDS. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/stability.h"
#include "matscreen/error.h"
#include "matscreen/hull.h"
#include "matscreen/species.h"

#include "fuzz_base.h"

static ms_hull_ref ends[4];
static int nends;

static void end_member(const char *cation, double nc, double nx, double energy) {
  ms_hull_ref *r = &ends[nends++];
  memset(r, 0, sizeof *r);
  r->comp.n = 2;
  check_ok(ms_species_parse(cation, &r->comp.sp[0]), "ms_species_parse");
  check_ok(ms_species_parse("O2-", &r->comp.sp[1]), "ms_species_parse");
  r->comp.amount[0] = nc;
  r->comp.amount[1] = nx;
  r->energy = energy;
  snprintf(r->formula, sizeof r->formula, "%s", cation);
}

static void setup(void) {
  if (nends) return;
  end_member("Sr2+", 1, 1, -5.0);
  end_member("La3+", 2, 3, -7.0);
  end_member("Ti4+", 1, 2, -8.0);
  end_member("Al3+", 2, 3, -7.5);
}

static void check_entries(const ms_hull_ref *refs, int n) {
  for (int k = 0; k < n; ++k) {
    const ms_hull_ref *r = &refs[k];
    if (!isfinite(r->energy)) fail("entry with a non-finite energy");
    if (!r->formula[0] || !r->prototype[0]) fail("entry without a formula or a name");
    if (r->comp.n < 1 || r->comp.n > MS_COMPOSITION_MAX) fail("entry with a bad species count");
    for (int s = 0; s < r->comp.n; ++s) {
      int found = 0;
      for (int q = 0; q < nends && !found; ++q)
        for (int t = 0; t < ends[q].comp.n && !found; ++t)
          found = ends[q].comp.sp[t].Z == r->comp.sp[s].Z && ends[q].comp.sp[t].ox == r->comp.sp[s].ox &&
                  r->comp.sp[s].has_ox;
      if (!found) fail("entry species not charged like an end member");
    }
  }
  /* As the hull stage uses them. */
  ms_hull h = NULL;
  check_ok(ms_hull_create(&h), "ms_hull_create");
  ms_composition members[4];
  for (int q = 0; q < nends; ++q) members[q] = ends[q].comp;
  ms_err e = ms_hull_set_end_members(h, nends, members);
  for (int q = 0; q < nends && !e; ++q) e = ms_hull_add(h, &ends[q].comp, ends[q].energy, NULL);
  for (int k = 0; k < n && !e; ++k) e = ms_hull_add(h, &refs[k].comp, refs[k].energy, NULL);
  if (!e) e = ms_hull_compute(h);
  if (e) {
    if (!ms_err_message()[0]) fail("hull failure without a message");
    ms_err_clear();
  } else {
    for (int k = 0; k < nends + n; ++k)
      if (!(ms_hull_e_above(h, (size_t)k) >= 0)) fail("negative or NaN energy above the hull");
  }
  ms_hull_destroy(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  FILE *f = fmemopen((void *)data, size ? size : 1, "r");
  if (!f) return 0;
  if (size == 0) {
    fclose(f);
    f = fopen("/dev/null", "r");
    if (!f) return 0;
  }
  ms_hull_ref *refs = NULL;
  int n = 0;
  ms_err e = ms__hull_read_entries(f, "fuzz.csv", ends, nends, &refs, &n);
  fclose(f);
  if (e) {
    if (!ms_err_message()[0]) fail("failure without a message");
    ms_err_clear();
  } else {
    check_entries(refs, n);
  }
  free(refs);
  return 0;
}
