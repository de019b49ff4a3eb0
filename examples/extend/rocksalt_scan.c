/* A generator of one's own, registered with matscreen and used like a built-in one.
 *
 * "rocksalt_scan" builds the conventional cell (4 formula units) of a rock-salt crystal of one
 * cation and one anion at evenly spaced lattice parameters. The program registers it, creates
 * it from a campaign's `search:` list (the same YAML a campaign file holds), evaluates every
 * candidate with the built-in bush1994 rigid-ion potential, and reports the lattice parameter
 * of least energy (vertex of the parabola through the three lowest points) and that of zero
 * pressure (linear interpolation of the pressure between the two points around its sign
 * change). For MgO the two should agree with each other and with a relaxation of the same
 * potential.
 *
 * Build against an installed matscreen:
 *     cc rocksalt_scan.c $(pkg-config --cflags --libs matscreen) -o rocksalt_scan
 * Run: ./rocksalt_scan [CATION ANION A_MIN A_MAX STEPS]   (default: Mg2+ O2- 4.1 4.3 21) */
#include <matscreen/generator.h>
#include <matscreen/model.h>
#include <matscreen/species.h>
#include <matscreen/yaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the generator ------------------------------------------------------------------------ */

typedef struct {
  ms_species cation, anion;
  double a_min, a_max;
  long long steps;
} scan;

/* The value of required key @p key of @p item, with the messages of the built-in generators
 * ("campaign.yaml:3:5: search[0].cation: ...", "search[0]: missing key 'cation'"). */
static ms_err required(ms_ynode *item, const char *path, const char *key, ms_ynode **out,
                       char *where, size_t len) {
  snprintf(where, len, "%s.%s", path, key);
  *out = ms_ynode_get(item, key);
  if (!*out) return ms_ynode_error(item, path, "missing key '%s'", key);
  return MS_SUCCESS;
}

/* Reads {generator: rocksalt_scan, cation: ION, anion: ION, a: [MIN, MAX], steps: N}. */
static ms_err scan_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                          void **data) {
  (void)ctx;
  static const char *const keys[] = {"generator", "cation", "anion", "a", "steps", NULL};
  scan s = {.steps = 11};
  ms_ynode *node = NULL;
  const char *text = NULL;
  char where[160];
  MS_CALL(required(item, path, "cation", &node, where, sizeof where));
  MS_CALL(ms_ynode_string(node, where, &text));
  if (ms_species_parse(text, &s.cation)) return ms_ynode_error(node, where, "not an ion: %s", text);
  MS_CALL(required(item, path, "anion", &node, where, sizeof where));
  MS_CALL(ms_ynode_string(node, where, &text));
  if (ms_species_parse(text, &s.anion)) return ms_ynode_error(node, where, "not an ion: %s", text);
  double a[2] = {0, 0};
  MS_CALL(required(item, path, "a", &node, where, sizeof where));
  MS_CALL(ms_ynode_doubles(node, where, a, 2));
  if (!(a[0] > 0 && a[1] > a[0]))
    return ms_ynode_error(node, where, "must be [min, max] with 0 < min < max (Å)");
  s.a_min = a[0];
  s.a_max = a[1];
  MS_CALL(ms_ynode_key_int(item, "steps", path, 3, 100000, &s.steps, NULL));
  MS_CALL(ms_ynode_check_unused(item, path, keys)); /* after reading: flags unknown keys */
  scan *copy = malloc(sizeof *copy);
  MS_CHECK(copy, MS_ERR_MEM, "out of memory");
  *copy = s;
  *data = copy;
  return MS_SUCCESS;
}

static int64_t scan_count(const void *data) { return ((const scan *)data)->steps; }

/* Candidate i depends only on the configuration and i, as generator.h requires. */
static ms_err scan_build(const void *data, int64_t i, ms_cell *out, ms_candidate_info *info) {
  const scan *s = data;
  double a = s->a_min + (s->a_max - s->a_min) * (double)i / (double)(s->steps - 1);
  double L[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  static const double fcc[4][3] = {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
  ms_cell_free(out);
  ms_cell_set_lattice(out, L);
  for (int k = 0; k < 4; ++k) {
    double f[3] = {fcc[k][0] + 0.5, fcc[k][1], fcc[k][2]};
    MS_CALL(ms_cell_add_atom(out, &s->cation, fcc[k]));
    MS_CALL(ms_cell_add_atom(out, &s->anion, f));
  }
  if (info) {
    memset(info, 0, sizeof *info);
    info->status = MS_STATUS_OK;
    snprintf(info->generator, sizeof info->generator, "rocksalt_scan");
    snprintf(info->prototype, sizeof info->prototype, "rocksalt");
    info->spacegroup = 225;
    info->formula_units = 4;
    for (int k = 0; k < 3; ++k) info->basis[k][k] = 1;
  }
  return MS_SUCCESS;
}

static ms_err scan_describe(const void *data, FILE *fp) {
  const scan *s = data;
  fprintf(fp, "rock salt, a from %g to %g Å in %lld steps\n", s->a_min, s->a_max, s->steps);
  return MS_SUCCESS;
}

static void scan_destroy(void *data) { free(data); }

static const ms_generator_ops scan_ops = {scan_create, scan_count, scan_build, scan_describe,
                                          scan_destroy, NULL};
static const ms_param_spec scan_params[] = {
    {"cation", "ion", "", "the cation, e.g. Mg2+"},
    {"anion", "ion", "", "the anion, e.g. O2-"},
    {"a", "[min, max]", "", "range of the cubic lattice parameter, Å"},
    {"steps", "integer", "11", "number of lattice parameters, ends included"},
    {NULL, NULL, NULL, NULL}};
static const ms_generator_info scan_info = {
    "rocksalt_scan", "rock-salt cells over a range of lattice parameters", scan_params, NULL,
    &scan_ops};

/* ---- the program ---------------------------------------------------------------------------- */

static int fail(void) {
  fprintf(stderr, "rocksalt_scan: %s\n", ms_err_message());
  return 1;
}

int main(int argc, char **argv) {
  const char *cation = argc > 5 ? argv[1] : "Mg2+", *anion = argc > 5 ? argv[2] : "O2-";
  const char *a_min = argc > 5 ? argv[3] : "4.1", *a_max = argc > 5 ? argv[4] : "4.3";
  const char *steps = argc > 5 ? argv[5] : "21";
  if (ms_generator_register(&scan_info)) return fail();

  char yaml[512];
  snprintf(yaml, sizeof yaml,
           "search:\n  - {generator: rocksalt_scan, cation: %s, anion: %s, a: [%s, %s], steps: %s}\n",
           cation, anion, a_min, a_max, steps);
  ms_ydoc *doc = NULL;
  ms_search search = NULL;
  ms_model model = NULL;
  if (ms_ydoc_parse(yaml, strlen(yaml), "rocksalt_scan.yaml", &doc) ||
      ms_search_create(ms_ynode_get(ms_ydoc_root(doc), "search"), 1, NULL, &search) ||
      ms_model_create("bush1994", NULL, &model))
    return fail();

  int64_t n = ms_search_count(search);
  double *a = calloc((size_t)n, sizeof *a), *E = calloc((size_t)n, sizeof *E);
  double *P = calloc((size_t)n, sizeof *P);
  ms_cell c = MS_CELL_INIT;
  ms_candidate_info info;
  printf("# a_A energy_eV pressure_GPa (%s, %d atoms per cell)\n", ms_model_name(model), 8);
  for (int64_t i = 0; i < n; ++i) {
    ms_model_result r;
    memset(&r, 0, sizeof r);
    if (ms_search_build(search, i, &c, &info) || ms_model_compute(model, &c, MS_MODEL_STRESS, &r))
      return fail();
    if (r.status != MS_STATUS_OK) {
      fprintf(stderr, "rocksalt_scan: candidate %lld: %s\n", (long long)i, r.detail);
      return 1;
    }
    a[i] = c.lattice[0][0];
    E[i] = r.energy;
    /* pressure = -(mean of the diagonal stress), GPa */
    P[i] = -(r.stress_GPa[0] + r.stress_GPa[1] + r.stress_GPa[2]) / 3;
    printf("%.6f %.9f %.6f\n", a[i], E[i], P[i]);
  }
  int lo = 0;
  for (int i = 1; i < n; ++i)
    if (E[i] < E[lo]) lo = i;
  if (lo == 0 || lo == n - 1) {
    fprintf(stderr, "rocksalt_scan: the energy is least at an end of the range: widen it\n");
    return 1;
  }
  /* Vertex of the parabola through (a[lo-1], E[lo-1]), (a[lo], E[lo]), (a[lo+1], E[lo+1]) on an
   * even grid of spacing h. */
  double h = a[lo + 1] - a[lo], d1 = (E[lo + 1] - E[lo - 1]) / 2, d2 = E[lo + 1] - 2 * E[lo] + E[lo - 1];
  double a_e = a[lo] - h * d1 / d2, e_min = E[lo] - d1 * d1 / (2 * d2);
  double a_p = 0;
  int found = 0;
  for (int i = 0; i + 1 < n && !found; ++i)
    if ((P[i] > 0) != (P[i + 1] > 0)) {
      a_p = a[i] + (a[i + 1] - a[i]) * P[i] / (P[i] - P[i + 1]);
      found = 1;
    }
  printf("least energy: a = %.5f A, E = %.6f eV\n", a_e, e_min);
  if (found) printf("zero pressure: a = %.5f A\n", a_p);
  ms_cell_free(&c);
  free(a);
  free(E);
  free(P);
  ms_model_destroy(&model);
  ms_search_destroy(&search);
  ms_ydoc_free(&doc);
  return 0;
}
