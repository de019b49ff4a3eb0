/* libFuzzer target: the prototype file parser (ms_prototype_parse) on arbitrary bytes.
 *
 * An accepted prototype is then used the way the substitution generator and `matscreen info
 * prototypes` use one: every accessor and the description are called, and the prototype is
 * built for its reference compound's ions, conventional and primitive, with the reference
 * lattice and with the lattice guessed from Shannon radii.
 *
 * Checked besides "no crash, leak, hang or undefined behaviour on any input":
 * - a failure always comes with a message and returns no prototype;
 * - a built cell is valid (ms_cell_validate), has the atom count the prototype announces, and
 *   the conventional cell holds each label as often as ms_prototype_label_count says.
 * Not collective; needs no MPI. Build and run with scripts/fuzz.sh prototype SECONDS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/prototype.h"
#include "matscreen/species.h"

#include "fuzz_base.h"


static void accessors(const ms_prototype *p) {
  if (!ms_prototype_name(p) || !ms_prototype_description(p) || !ms_prototype_reference(p) ||
      !ms_prototype_compound(p) || !ms_prototype_formula(p))
    fail("accepted prototype without name, description, reference, compound or formula");
  int hall = 0;
  int number = ms_prototype_spacegroup(p, &hall);
  if (number < 1 || number > 230 || hall < 1 || hall > 530) fail("space group out of range");
  int nl = ms_prototype_nlabels(p);
  if (nl < 1 || nl > MS_PROTO_MAX_LABELS) fail("label count out of range");
  for (int k = 0; k < nl; ++k) {
    const char *l = ms_prototype_label(p, k);
    if (!l || ms_prototype_label_index(p, l) != k) fail("label index does not round-trip");
    if (!ms_prototype_reference_ion(p, k)) fail("label without a reference ion");
  }
  for (int g = 0; g < ms_prototype_nequiv(p); ++g) {
    const int *labels = NULL;
    int n = ms_prototype_equiv(p, g, &labels);
    for (int k = 0; k < n; ++k)
      if (labels[k] < 0 || labels[k] >= nl) fail("equivalent label out of range");
  }
  for (int s = 0; s < ms_prototype_nsites(p); ++s) {
    ms_prototype_site site;
    check_ok(ms_prototype_site_info(p, s, &site), "ms_prototype_site_info");
    if (site.label < 0 || site.label >= nl) fail("site label out of range");
  }
  for (int prim = 0; prim < 2; ++prim)
    for (int a = 0; a < ms_prototype_natoms(p, prim); ++a) {
      int s = ms_prototype_site_of_atom(p, prim, a);
      if (s < 0 || s >= ms_prototype_nsites(p)) fail("site of atom out of range");
    }
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  if (fp) {
    check_ok(ms_prototype_describe(p, fp), "ms_prototype_describe");
    fclose(fp);
  }
  free(buf);
}

static void build(const ms_prototype *p) {
  int nl = ms_prototype_nlabels(p);
  ms_species ions[MS_PROTO_MAX_LABELS];
  for (int k = 0; k < nl; ++k) ions[k] = *ms_prototype_reference_ion(p, k);
  for (int lat = 0; lat < 2; ++lat)
    for (int prim = 0; prim < 2; ++prim) {
      ms_proto_build_options o;
      ms_proto_build_options_default(&o);
      o.lattice = lat ? MS_PROTO_LATTICE_RADII : MS_PROTO_LATTICE_REFERENCE;
      o.primitive = prim;
      ms_cell c;
      ms_cell_init(&c);
      ms_err e = ms_prototype_build(p, ions, &o, &c);
      if (e != MS_SUCCESS) {
        /* Radii may be missing for the reference ions; the reference lattice always works. */
        if (!lat || e != MS_ERR_INPUT) check_ok(e, "ms_prototype_build");
        if (!ms_err_message()[0]) fail("ms_prototype_build failed without a message");
        ms_err_clear();
        ms_cell_free(&c);
        continue;
      }
      check_ok(ms_cell_validate(&c), "ms_cell_validate of a built prototype");
      if (c.natoms != ms_prototype_natoms(p, prim)) fail("built cell has the wrong atom count");
      if (!prim) {
        int count[MS_PROTO_MAX_LABELS] = {0};
        for (int a = 0; a < c.natoms; ++a) {
          int s = ms_prototype_site_of_atom(p, 0, a);
          ms_prototype_site site;
          check_ok(ms_prototype_site_info(p, s, &site), "ms_prototype_site_info");
          count[site.label]++;
        }
        for (int k = 0; k < nl; ++k)
          if (count[k] != ms_prototype_label_count(p, k)) fail("label count differs from the cell");
      }
      ms_cell_free(&c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ms_prototype *p = NULL;
  ms_err e = ms_prototype_parse((const char *)data, size, "fuzz.yaml", &p);
  if (e != MS_SUCCESS) {
    if (p) fail("ms_prototype_parse failed but returned a prototype");
    if (!ms_err_message()[0]) fail("ms_prototype_parse failed without a message");
  } else {
    accessors(p);
    build(p);
  }
  ms_prototype_free(&p);
  ms_err_clear();
  return 0;
}
