/* The stage list (stage.h): the built-in stages of stages.def, whose records live in their own
 * files (stage_NAME.c, surrogate_stage.c, shortlist_stage.c), then the stages registered at
 * run time (ms_stage_register).
 *
 * Each record says what the stage does, its shape, what must come before it and every option
 * it takes. The option specs are what campaign parsing suggests from, what `matscreen info
 * stages` prints and, for the scalar options, what the funnel's option reader validates with
 * (ms_opts_read); nested options (volume_scan, references, the surrogate's model, prefilter
 * rules, keep rules, models) are declared here and parsed by their owners. The help texts
 * follow docs/campaign.md, which remains the reference; the defaults are checked against the
 * libraries' own defaults by tests/unit/test_stages.c. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "matscreen/stage.h"
#include "stage_spec.h"

/* ---- shared entries ------------------------------------------------------------------------ */

const ms_opt_spec ms_keep_spec[] = {
    {.key = "top_k", .type = MS_OPT_INTEGER, .lo = 1, .hi = NAN, .default_text = "unset",
     .help = "keep the k lowest energies per atom", .example = "10"},
    {.key = "top_fraction", .type = MS_OPT_NUMBER, .lo = 0, .hi = 1, .lo_open = 1, .default_text = "unset",
     .help = "keep this fraction (rounded up) of the lowest energies per atom", .example = "0.5"},
    {.key = "max_energy_per_atom_eV", .type = MS_OPT_NUMBER, .unit = "eV/atom", UNBOUNDED, .default_text = "unset",
     .help = "absolute threshold on the energy per atom", .example = "0.0"},
    {.key = "max_energy_above_best_eV_per_atom", .type = MS_OPT_NUMBER, .unit = "eV/atom", .lo = 0, .hi = NAN,
     .default_text = "unset", .help = "within this of the best candidate of the same reduced formula",
     .example = "0.3"},
    {.key = "max_e_above_hull_eV_per_atom", .type = MS_OPT_NUMBER, .unit = "eV/atom", .lo = 0, .hi = NAN,
     .default_text = "unset",
     .help = "within this of the convex hull (hull stage; surrogate stage: its predictions)", .example = "0.1"},
    {0},
};

const char *const ms__stage_none[] = {NULL};
const char *const ms__stage_needs_relax[] = {"relax", NULL};

/* ---- the list ------------------------------------------------------------------------------ */

#define MS_STAGE(name) extern const ms_stage_info ms__stage_##name;
#include "stages.def"
#undef MS_STAGE

#define MAX_REGISTERED 16

/* The built-in records first (stages.def order), then the registered ones; NULL after the
 * last. */
static const ms_stage_info *all[32 + MAX_REGISTERED + 1] = {
#define MS_STAGE(name) &ms__stage_##name,
#include "stages.def"
#undef MS_STAGE
};
static int nbuiltin = -1;
static int nall = -1; /* built-in + registered, counted on first use */

static int count_all(void) {
  if (nall < 0) {
    nall = 0;
    while (all[nall]) nall++;
    nbuiltin = nall;
  }
  return nall;
}

const ms_stage_info *const *ms_stage_list(int *count) {
  *count = count_all();
  return all;
}

const ms_stage_info *ms_stage_find(const char *name) {
  int n = count_all();
  for (int k = 0; name && k < n; ++k)
    if (strcmp(all[k]->name, name) == 0) return all[k];
  return NULL;
}

const ms_stage_info *ms_stage_of_kind(ms_stage_kind kind) {
  int n = count_all();
  for (int k = 0; k < n && kind != MS_STAGE_COUNT_; ++k)
    if (!all[k]->section && all[k]->kind == kind) return all[k];
  return NULL;
}

int ms_stage_funnel_names(const char **names, int max) {
  int n = 0, na = count_all();
  for (int k = 0; k < na && n < max - 1; ++k)
    if (!all[k]->section) names[n++] = all[k]->name;
  if (max > 0) names[n] = NULL;
  return n;
}

ms_err ms_stage_register(const ms_stage_info *s) {
  int n = count_all();
  MS_CHECK(s && s->name && s->ops, MS_ERR_ARG, "a stage needs a name and its operations");
  MS_CHECK(!ms_stage_find(s->name), MS_ERR_ARG, "a stage named '%s' exists already", s->name);
  MS_CHECK(n - nbuiltin < MAX_REGISTERED, MS_ERR_ARG, "at most %d registered stages", MAX_REGISTERED);
  MS_CHECK(!s->section, MS_ERR_ARG, "stage '%s': a registered stage is a funnel item (no section)", s->name);
  MS_CHECK((s->shape == MS_STAGE_SHAPE_FILTER) == (s->ops->filter != NULL), MS_ERR_ARG,
           "stage '%s': a filter stage has a filter operation, and only a filter stage", s->name);
  MS_CHECK(s->shape == MS_STAGE_SHAPE_FILTER || s->ops->run, MS_ERR_ARG,
           "stage '%s': a transform or collective stage needs a run operation", s->name);
  MS_CHECK(s->kind == MS_STAGE_COUNT_, MS_ERR_ARG, "stage '%s': kind must be MS_STAGE_COUNT_", s->name);
  all[n] = s;
  nall = n + 1;
  return MS_SUCCESS;
}

int ms_stage_has_option(const ms_stage_info *s, const char *key) {
  return s && ms_opts_find(s->options, key) != NULL;
}

int ms_stage_comes_after(const ms_stage_info *s, const char *other) {
  for (int k = 0; s && s->after && s->after[k]; ++k)
    if (strcmp(s->after[k], other) == 0) return 1;
  return 0;
}

const char *ms_stage_shape_name(ms_stage_shape shape) {
  switch (shape) {
  case MS_STAGE_SHAPE_FILTER: return "per-candidate streaming filter";
  case MS_STAGE_SHAPE_TRANSFORM: return "transform of the survivor set";
  case MS_STAGE_SHAPE_COLLECTIVE: return "collective pass";
  }
  return "?";
}

void ms_stage_print_options(const ms_stage_info *s, ms_ynode *item, const char *path, FILE *fp) {
  ms_opts_print(s ? s->options : NULL, item, path, fp);
}
