/* The stage records (stage.h) and the list built from stages.def.
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
#include "stability.h"

/* No bound on either side (zero-initialised bounds would mean [0, 0]). */
#define UNBOUNDED .lo = NAN, .hi = NAN

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

#define KEEP_ENTRY(what)                                                                              \
  {.key = "keep", .type = MS_OPT_KEEP, UNBOUNDED, .default_text = "keep all",                        \
   .help = "keep rule: " what " (docs/campaign.md, \"Keep rules\")", .sub = ms_keep_spec,             \
   .example = "{top_fraction: 0.5}"}
#define POTENTIAL_ENTRY                                                                               \
  {.key = "potential", .type = MS_OPT_MODEL, UNBOUNDED, .default_text = "the campaign's",             \
   .help = "the stage's own model: a name, a file or {name: NAME, OPTION: VALUE} (docs/campaign.md, " \
           "\"Models of the stages\")",                                                               \
   .example = "bush1994"}

/* ---- prefilter ----------------------------------------------------------------------------- */

static const ms_opt_spec prefilter_rules[] = {
    {.key = "charge_neutral", .type = MS_OPT_MAP, UNBOUNDED, .help = "true: the formula is charge-neutral"},
    {.key = "electronegativity_order", .type = MS_OPT_MAP, UNBOUNDED,
     .help = "true: cations less electronegative than anions"},
    {.key = "tolerance_factor", .type = MS_OPT_MAP, UNBOUNDED,
     .help = "[min, max] of Goldschmidt's tolerance factor (ABX3 only)"},
    {.key = "bartel_tau", .type = MS_OPT_MAP, UNBOUNDED, .help = "max of Bartel et al.'s tau (ABX3 only)"},
    {.key = "radius_ratio", .type = MS_OPT_MAP, UNBOUNDED, .help = "{tolerance, upper, shell}: Pauling's radius ratios"},
    {.key = "min_distance", .type = MS_OPT_MAP, UNBOUNDED, .help = "{factor}: no two atoms closer than factor x radii"},
    {.key = "elements", .type = MS_OPT_MAP, UNBOUNDED, .help = "{allowed: [...], forbidden: [...]}"},
    {0},
};

static const ms_opt_spec prefilter_options[] = {
    {.key = "rules", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "required",
     .help = "map of rules; each is true (defaults), false (off) or its parameters (docs/generation.md)",
     .example = "{charge_neutral: true}", .sub = prefilter_rules},
    {0},
};

static const char *const none[] = {NULL};
static const char *const needs_relax[] = {"relax", NULL};

const ms_stage_info ms__stage_prefilter = {
    .name = "prefilter",
    .summary = "chemistry rules before any energy (charge neutrality, tolerance factor, distances...)",
    .shape = MS_STAGE_SHAPE_FILTER,
    .kind = MS_STAGE_PREFILTER,
    .after = none,
    .needs = none,
    .input = "each generated candidate (its structure and species)",
    .output = "pass or the first rule that failed (rejected_by_rule)",
    .options = prefilter_options,
};

/* ---- single_point -------------------------------------------------------------------------- */

static const ms_opt_spec volume_scan_keys[] = {
    {.key = "min", .type = MS_OPT_NUMBER, .lo = 0.2, .hi = 5, .lo_open = 1, .hi_open = 1, .default_text = "required",
     .help = "smallest volume factor (min <= max)", .example = "0.8"},
    {.key = "max", .type = MS_OPT_NUMBER, .lo = 0.2, .hi = 5, .lo_open = 1, .hi_open = 1, .default_text = "required",
     .help = "largest volume factor", .example = "1.2"},
    {.key = "points", .type = MS_OPT_INTEGER, .lo = 1, .hi = 200, .default_text = "required",
     .help = "number of volumes", .example = "9"},
    {0},
};

static const ms_opt_spec single_point_options[] = {
    {.key = "volume_scan", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "none",
     .help = "scale the volume isotropically from min to max (factors of the generated volume) in points "
             "steps and keep the lowest energy",
     .example = "{min: 0.8, max: 1.2, points: 5}", .sub = volume_scan_keys},
    POTENTIAL_ENTRY,
    KEEP_ENTRY("by energy per atom"),
    {0},
};

static const char *const after_single_point[] = {"prefilter", NULL};

const ms_stage_info ms__stage_single_point = {
    .name = "single_point",
    .summary = "energy of each candidate at its generated geometry (or the lowest of a volume scan)",
    .shape = MS_STAGE_SHAPE_FILTER,
    .kind = MS_STAGE_SINGLE_POINT,
    .after = after_single_point,
    .needs = none,
    .input = "each candidate that passed the prefilter",
    .output = "e_single_point and volume_scale per candidate; the keep rule's survivors form the survivor set",
    .options = single_point_options,
};

/* ---- surrogate ----------------------------------------------------------------------------- */

static const char *const target_names[] = {"relaxation_energy", "relaxed_energy", NULL};
static const char *const noise_names[] = {"none", "constant", "local", NULL};

static const ms_opt_spec surrogate_model_keys[] = {
    {.key = "members", .type = MS_OPT_INTEGER, .lo = 2, .hi = 256, .def = 16, .default_text = "16",
     .help = "ensemble members", .example = "8"},
    {.key = "features", .type = MS_OPT_INTEGER, .lo = 8, .hi = 4096, .def = 256, .default_text = "256",
     .help = "random features per member", .example = "64"},
    {.key = "lambda", .type = MS_OPT_NUMBER, .lo = 0, .hi = 1e6, .lo_open = 1, .hi_open = 1, .def = 1e-3,
     .default_text = "1e-3", .help = "ridge regularisation", .example = "0.01"},
    {.key = "length_scale", .type = MS_OPT_NUMBER, .lo = 0, .hi = NAN, .default_text = "0",
     .note = " (0: median heuristic)", .help = "kernel length scale (0: median heuristic)", .example = "0"},
    {.key = "target", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = target_names, .default_text = "relaxation_energy",
     .help = "learn e_relaxed - e_single, or e_relaxed itself", .example = "relaxed_energy"},
    {.key = "noise", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = noise_names, .def = 2, .default_text = "local",
     .help = "noise term: varying with the descriptors, one variance, or none", .example = "constant"},
    {0},
};

static const ms_opt_spec surrogate_options[] = {
    {.key = "rounds", .type = MS_OPT_INTEGER, .lo = 1, .hi = 100, .def = 3, .default_text = "3",
     .help = "active-learning rounds: relax a batch, retrain", .example = "2"},
    {.key = "batch_per_round", .type = MS_OPT_INTEGER, .lo = 2, .hi = NAN, .def = 100, .default_text = "100",
     .note = " (a model needs two relaxed candidates)",
     .help = "relaxations per round and per batch of the filter", .example = "10"},
    {.key = "kappa", .type = MS_OPT_NUMBER, .lo = 0, .hi = 100, .def = 2.0, .default_text = "2.0",
     .help = "optimism: the filter compares mean - kappa x sigma with the keep rule", .example = "1.5"},
    {.key = "ground_truth", .type = MS_OPT_BOOL, UNBOUNDED, .default_text = "false",
     .help = "relax everything anyway and score the filter (precision, recall, F1, DAF)", .example = "true"},
    {.key = "load", .type = MS_OPT_STRING, UNBOUNDED, .default_text = "none",
     .help = "use the model saved in an earlier run's output (/surrogate/model) instead of learning; "
             "relative to the campaign file"},
    {.key = "model", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "{members: 16, features: 256, ...}",
     .help = "the ensemble (docs/surrogate.md)", .example = "{members: 8, noise: constant}",
     .sub = surrogate_model_keys},
    {.key = "keep", .type = MS_OPT_KEEP, UNBOUNDED, .default_text = "{max_energy_above_best_eV_per_atom: 0.1}",
     .help = "max_energy_above_best_eV_per_atom and/or max_e_above_hull_eV_per_atom of the optimistic "
             "prediction",
     .example = "{max_energy_above_best_eV_per_atom: 0.2}", .sub = ms_keep_spec},
    POTENTIAL_ENTRY,
    {0},
};

static const char *const after_surrogate[] = {"prefilter", "single_point", NULL};

const ms_stage_info ms__stage_surrogate = {
    .name = "surrogate",
    .summary = "a learned model chooses which survivors are worth relaxing (active learning, then a filter)",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_SURROGATE,
    .after = after_surrogate,
    .needs = needs_relax,
    .input = "the survivor set, and relaxations it asks the relax stage for",
    .output = "predictions per survivor; the skipped survivors are rejected here; /surrogate",
    .options = surrogate_options,
};

/* ---- relax --------------------------------------------------------------------------------- */

static const char *const cell_names[] = {"fixed", "iso", "aniso", "full", NULL};

static const ms_opt_spec relax_options[] = {
    {.key = "cell", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = cell_names, .def = 3, .default_text = "full",
     .help = "which cell degrees of freedom relax", .example = "iso"},
    {.key = "fmax", .type = MS_OPT_NUMBER, .unit = "eV/Å", .lo = 1e-6, .hi = 10, .def = 0.01, .default_text = "0.01",
     .help = "force convergence", .example = "0.05"},
    {.key = "smax", .type = MS_OPT_NUMBER, .unit = "GPa", .lo = 1e-6, .hi = 100, .def = 0.05, .default_text = "0.05",
     .help = "stress convergence", .example = "0.1"},
    {.key = "pressure", .type = MS_OPT_NUMBER, .unit = "GPa", .lo = -1e3, .hi = 1e4, .def = 0, .default_text = "0",
     .help = "external pressure (the enthalpy E + PV is minimised); negative: a tension, allowed with a warning",
     .example = "1.0"},
    {.key = "max_steps", .type = MS_OPT_INTEGER, .lo = 1, .hi = 1000000, .def = 1000, .default_text = "1000",
     .help = "iteration limit", .example = "500"},
    {.key = "tao_options", .type = MS_OPT_STRING, UNBOUNDED, .default_text = "none",
     .help = "PETSc options, e.g. \"-relax_tao_type bncg\"", .example = "\"-relax_tao_type bncg\""},
    POTENTIAL_ENTRY,
    KEEP_ENTRY("by relaxed energy per atom, converged only"),
    {0},
};

static const char *const after_relax[] = {"prefilter", "single_point", "surrogate", NULL};

const ms_stage_info ms__stage_relax = {
    .name = "relax",
    .summary = "relax positions and cell with PETSc TAO",
    .shape = MS_STAGE_SHAPE_TRANSFORM,
    .kind = MS_STAGE_RELAX,
    .after = after_relax,
    .needs = none,
    .input = "the survivor set (or the surrogate's choice of it)",
    .output = "relaxed energies and statuses; converged structures go to the relaxed-structure store",
    .options = relax_options,
};

/* ---- dedup --------------------------------------------------------------------------------- */

static const char *const compare_names[] = {"species", "elements", NULL};

static const ms_opt_spec dedup_options[] = {
    {.key = "ltol", .type = MS_OPT_NUMBER, .lo = 1e-4, .hi = 1, .def = 0.2, .default_text = "0.2",
     .help = "lattice length tolerance (a fraction)", .example = "0.25"},
    {.key = "stol", .type = MS_OPT_NUMBER, .lo = 1e-4, .hi = 2, .def = 0.3,
     .default_text = "0.3", .help = "site tolerance, in units of (V/N)^(1/3)", .example = "0.35"},
    {.key = "angle_tol", .type = MS_OPT_NUMBER, .unit = "degrees", .lo = 1e-3, .hi = 45, .def = 5,
     .default_text = "5", .help = "angle tolerance", .example = "6"},
    {.key = "energy_tol", .type = MS_OPT_NUMBER, .unit = "eV/atom", .lo = 0, .hi = 1, .def = MS_DEDUP_ENERGY_TOL,
     .default_text = "0.001",
     .help = "members within this of a group's lowest energy count as equally low when its representative "
             "is chosen",
     .example = "0.002"},
    {.key = "compare", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = compare_names, .default_text = "species",
     .help = "compare ions with their charges, or elements only", .example = "elements"},
    {0},
};

static const char *const after_dedup[] = {"prefilter", "single_point", "surrogate", "relax", NULL};

const ms_stage_info ms__stage_dedup = {
    .name = "dedup",
    .summary = "group the relaxed survivors that are the same crystal; one of each group survives",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_DEDUP,
    .after = after_dedup,
    .needs = needs_relax,
    .input = "the relaxed-structure store",
    .output = "duplicate_of and structure_type per relaxed survivor",
    .options = dedup_options,
};

/* ---- hull ---------------------------------------------------------------------------------- */

static const ms_opt_spec references_keys[] = {
    {.key = "auto", .type = MS_OPT_BOOL, UNBOUNDED, .def = 1, .default_text = "true",
     .help = "build and relax the reference phases (elements and binaries, or binary end members)"},
    {.key = "binaries", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "true",
     .help = "hull over the elements: true, false, or a list of two-label prototypes"},
    {.key = "structures", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "none",
     .help = "structure files relaxed with the relax stage's model and added as competing phases"},
    {.key = "entries", .type = MS_OPT_STRING, UNBOUNDED, .default_text = "none",
     .help = "CSV formula,energy_per_atom_eV[,name] of competing phases computed with the same model"},
    {0},
};

static const ms_opt_spec hull_options[] = {
    {.key = "references", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "auto",
     .help = "the reference phases (docs/stability.md): auto or {auto, binaries, structures, entries}",
     .example = "auto", .sub = references_keys},
    {.key = "keep", .type = MS_OPT_KEEP, UNBOUNDED, .default_text = "keep all",
     .help = "{max_e_above_hull_eV_per_atom: X}: survivors within X of the hull", .sub = ms_keep_spec,
     .example = "{max_e_above_hull_eV_per_atom: 0.05}"},
    {0},
};

static const char *const after_hull[] = {"prefilter", "single_point", "surrogate", "relax", "dedup", NULL};

const ms_stage_info ms__stage_hull = {
    .name = "hull",
    .summary = "energy above the convex hull of the relaxed survivors and the reference phases",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_HULL,
    .after = after_hull,
    .needs = needs_relax,
    .input = "the relaxed-structure store (distinct survivors after dedup) and the reference phases",
    .output = "e_above_hull per survivor, /hull",
    .options = hull_options,
};

/* ---- shortlist (configured by the top-level `shortlist:` section; docs/shortlist.md) -------- */

static const ms_opt_spec shortlist_options[] = {
    {.key = "size", .type = MS_OPT_INTEGER, .lo = 1, .hi = NAN, .def = 24, .default_text = "24",
     .help = "how many candidates the lab gets", .example = "4"},
    {.key = "acquisition", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "{kind: ucb, kappa: 1.0, diversity: 0.3}",
     .help = "the score: {kind: greedy|ucb|ei|thompson, kappa, xi, target, diversity}",
     .example = "{kind: greedy}"},
    {.key = "max_per_system", .type = MS_OPT_INTEGER, .lo = 0, .hi = NAN, .default_text = "0",
     .help = "at most this many per chemical system (0: no limit)", .example = "2"},
    {.key = "allowed_elements", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "any",
     .help = "only candidates made of these elements", .example = "[Sr, Ti, O]"},
    {.key = "exclude_tried", .type = MS_OPT_BOOL, UNBOUNDED, .def = 1, .default_text = "true",
     .help = "with lab_feedback: never propose a candidate that has a ticket", .example = "false"},
    {.key = "novelty", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "none",
     .help = "{known: PATH, strict: {ltol, stol, angle_tol}, loose: {...}}: novelty against known structures"},
    {0},
};

static const char *const needs_hull[] = {"hull", NULL};

const ms_stage_info ms__stage_shortlist = {
    .name = "shortlist",
    .summary = "choose what the lab should try next among the hull's survivors",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_COUNT_,
    .after = after_hull,
    .needs = needs_hull,
    .section = "shortlist",
    .input = "the hull's survivors with their structures (and the lab queue's tried candidates)",
    .output = "/shortlist; the lab queue's tickets",
    .options = shortlist_options,
};

/* ---- the list ------------------------------------------------------------------------------ */

static const ms_stage_info *const builtin[] = {
#define MS_STAGE(name) &ms__stage_##name,
#include "stages.def"
#undef MS_STAGE
};

#define NBUILTIN ((int)(sizeof builtin / sizeof builtin[0]))

const ms_stage_info *const *ms_stage_list(int *count) {
  *count = NBUILTIN;
  return builtin;
}

const ms_stage_info *ms_stage_find(const char *name) {
  for (int k = 0; name && k < NBUILTIN; ++k)
    if (strcmp(builtin[k]->name, name) == 0) return builtin[k];
  return NULL;
}

const ms_stage_info *ms_stage_of_kind(ms_stage_kind kind) {
  for (int k = 0; k < NBUILTIN; ++k)
    if (!builtin[k]->section && builtin[k]->kind == kind) return builtin[k];
  return NULL;
}

int ms_stage_funnel_names(const char **names, int max) {
  int n = 0;
  for (int k = 0; k < NBUILTIN && n < max - 1; ++k)
    if (!builtin[k]->section) names[n++] = builtin[k]->name;
  if (max > 0) names[n] = NULL;
  return n;
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
