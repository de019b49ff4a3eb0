/* The M3GNet model family: the universal graph-network potential of Chen & Ong (2022) as matgl
 * releases it, evaluated by src/models/m3gnet*.c (include/matscreen/m3gnet.h), behind the model
 * interface (model.h).
 *
 * Models of the family: the built-in converted checkpoints (inputs/models/NAME.h5, embedded in
 * the program) and any file converted by scripts/m3gnet_convert.py (.h5). Species are elements:
 * oxidation states in a cell are ignored, and the model covers the 89 elements of its
 * checkpoint. One option: semantics (consistent, the default, or matgl: docs/models.md).
 *
 * Statuses (model.h): a covered structure M3GNet cannot evaluate becomes a status, not an error:
 * atoms closer than MIN_BOND_A (the shortest bonds of the training data are about 0.6 Å, H2;
 * below that the network's energies mean nothing) or at the same place -> overlap; a cell too
 * thin for the bond search or without atoms -> bad_cell; a non-finite result -> nan.
 * Stresses use matgl's unit factor (m3gnet.h), so they compare with matgl's and the reference
 * values to the last digit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/m3gnet.h"
#include "matscreen/model.h"
#include "matscreen/species.h"
#include "model_impl.h"

/* Shortest bond the family evaluates, Å (see the comment above). */
#define MIN_BOND_A 0.5

static const char *const semantics_names[] = {"consistent", "matgl", NULL};

static ms_err parse_semantics(const ms_model_spec *s, ms_m3gnet_semantics *out) {
  *out = MS_M3GNET_CONSISTENT;
  for (int k = 0; k < s->nopt; ++k) {
    const ms_model_option *o = &s->opt[k];
    if (strcmp(o->key, "semantics") != 0) return ms_model_option_error(o, "not an option of M3GNet models");
    if (strcmp(o->value, "consistent") == 0) {
      *out = MS_M3GNET_CONSISTENT;
    } else if (strcmp(o->value, "matgl") == 0) {
      *out = MS_M3GNET_MATGL;
    } else {
      const char *hint = ms_suggest(o->value, semantics_names);
      return ms_model_option_error(o, "must be consistent or matgl, got '%s'%s%s%s", o->value,
                                   hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    }
  }
  return MS_SUCCESS;
}

static ms_err check_m3gnet(const ms_model_spec *s) {
  ms_m3gnet_semantics sem;
  return parse_semantics(s, &sem);
}

static ms_err settings_m3gnet(const ms_model_spec *s, ms_model_settings *out) {
  ms_m3gnet_semantics sem;
  MS_CALL(parse_semantics(s, &sem));
  memset(out, 0, sizeof *out);
  snprintf(out->key[0], sizeof out->key[0], "semantics");
  snprintf(out->value[0], sizeof out->value[0], "%s", semantics_names[sem]);
  out->n = 1;
  return MS_SUCCESS;
}

/* ---- loaded data ----------------------------------------------------------------------------- */

typedef struct {
  ms_m3gnet m;
  ms_m3gnet_semantics sem;
  char description[512];
  char labels[128][4]; /* element symbols of the model's types, for ms_model_species */
  int nlabels;
} m3_data;

static void unload_m3gnet(void *vd) {
  m3_data *d = vd;
  if (!d) return;
  ms_m3gnet_free(&d->m);
  free(d);
}

static ms_err load_m3gnet(const ms_model_spec *s, void **data, ms_model_about *about) {
  m3_data *d = NULL;
  MS_CALL(MS_CALLOC(1, &d));
  ms_err e = parse_semantics(s, &d->sem);
  if (!e) e = ms_m3gnet_load(s->name, &d->m);
  if (e) {
    free(d);
    return e;
  }
  snprintf(d->description, sizeof d->description,
           "%s (%s semantics): a graph network with three-body interactions trained on DFT (PBE/PBE+U) "
           "energies, forces and stresses; elements, no charges; cutoff %.3g Å",
           ms_m3gnet_description(d->m), semantics_names[d->sem], ms_m3gnet_cutoff(d->m));
  int n = ms_m3gnet_n_elements(d->m);
  for (int k = 0; k < n && k < 128; ++k) {
    const ms_element *el = ms_element_by_z(ms_m3gnet_element_z(d->m, k));
    snprintf(d->labels[k], sizeof d->labels[k], "%s", el ? el->symbol : "?");
    d->nlabels++;
  }
  memset(about, 0, sizeof *about);
  about->name = ms_m3gnet_name(d->m);
  about->description = d->description;
  about->citation = ms_m3gnet_citation(d->m);
  about->source = ms_m3gnet_origin(d->m);
  about->needs_oxidation_states = 0;
  about->elemental_energies = 1; /* fitted to DFT total energies */
  about->cutoff = ms_m3gnet_cutoff(d->m);
  *data = d;
  return MS_SUCCESS;
}

/* ---- workspace and evaluation --------------------------------------------------------------- */

typedef struct {
  const m3_data *d;
  ms_m3gnet_ws w;
} m3_ws;

static void ws_free_m3gnet(void *vw) {
  m3_ws *w = vw;
  if (!w) return;
  ms_m3gnet_ws_free(&w->w);
  free(w);
}

static ms_err ws_create_m3gnet(const void *vd, void **out) {
  *out = NULL;
  m3_ws *w = NULL;
  MS_CALL(MS_CALLOC(1, &w));
  w->d = vd;
  ms_err e = ms_m3gnet_ws_create(w->d->m, &w->w);
  if (e) {
    free(w);
    return e;
  }
  *out = w;
  return MS_SUCCESS;
}

static void give_up(ms_model_result *res, ms_status st, const char *why) {
  res->status = st;
  snprintf(res->detail, sizeof res->detail, "%s", why);
  res->energy = NAN;
}

static ms_err compute_m3gnet(void *vw, const ms_cell *c, unsigned flags, ms_model_result *res) {
  m3_ws *w = vw;
  res->e_coulomb = res->e_short = res->charge_total = NAN;
  res->has_coulomb = 0;
  /* An uncovered element is an error (the campaign turns it into `unsupported`), before work. */
  MS_CALL(ms_m3gnet_check_species(w->d->m, c));
  if (c->natoms < 1) {
    give_up(res, MS_STATUS_BAD_CELL, "the cell has no atoms");
    return MS_SUCCESS;
  }
  double W[3][3];
  ms_err e = ms_m3gnet_compute(w->w, c, w->d->sem, &res->energy, (flags & MS_MODEL_FORCES) ? res->forces : NULL,
                               (flags & MS_MODEL_STRESS) ? W : NULL);
  if (e == MS_ERR_INPUT || e == MS_ERR_NUMERIC) {
    /* The species are covered, so what is left is about this structure: a status. */
    const char *msg = ms_err_message();
    give_up(res, e == MS_ERR_NUMERIC ? MS_STATUS_NAN : strstr(msg, "same place") ? MS_STATUS_OVERLAP : MS_STATUS_BAD_CELL,
            msg);
    ms_err_clear();
    return MS_SUCCESS;
  }
  MS_CALL(e);
  ms_m3gnet_stats st;
  ms_m3gnet_ws_stats(w->w, &st);
  if (st.min_bond_A < MIN_BOND_A) {
    char why[160];
    snprintf(why, sizeof why, "two atoms are %.3g Å apart, closer than the %.2g Å M3GNet is meaningful at",
             st.min_bond_A, MIN_BOND_A);
    give_up(res, MS_STATUS_OVERLAP, why);
    return MS_SUCCESS;
  }
  if (flags & MS_MODEL_STRESS) memcpy(res->W, W, sizeof W);
  ms_model_result_finish(res, c->natoms, flags);
  /* matgl's unit factor, so that stresses match matgl's to the last digit (m3gnet.h) */
  if ((flags & MS_MODEL_STRESS) && res->status == MS_STATUS_OK) ms_m3gnet_stress_GPa(res->W, res->volume, res->stress_GPa);
  return MS_SUCCESS;
}

/* ---- queries ---------------------------------------------------------------------------------- */

static int covers_m3gnet(const void *vd, const ms_species *sp, char *reason, size_t len) {
  const m3_data *d = vd;
  if (ms_m3gnet_covers(d->m, sp->Z)) return 1;
  const ms_element *el = ms_element_by_z(sp->Z);
  if (reason)
    snprintf(reason, len, "model '%s' does not cover %s (Z = %d): its %d elements are H to Bi and Ac to Pu, "
             "without Po, At, Rn, Fr and Ra", ms_m3gnet_name(d->m), el ? el->symbol : "?", sp->Z,
             ms_m3gnet_n_elements(d->m));
  return 0;
}

static double min_distance_m3gnet(const void *vd, const ms_species *a, const ms_species *b) {
  (void)vd;
  (void)a;
  (void)b;
  return MIN_BOND_A;
}

static int species_m3gnet(const void *vd, int k, ms_species *sp, const char **label, double *charge) {
  const m3_data *d = vd;
  if (k >= 0 && k < d->nlabels) {
    if (sp) *sp = (ms_species){ms_m3gnet_element_z(d->m, k), 0, 0};
    if (label) *label = d->labels[k];
    if (charge) *charge = NAN;
  }
  return d->nlabels;
}

static ms_err describe_m3gnet(const void *vd, FILE *fp) {
  const m3_data *d = vd;
  fprintf(fp, "model        %s\n", ms_m3gnet_name(d->m));
  fprintf(fp, "family       m3gnet (universal graph-network potential)\n");
  fprintf(fp, "about        %s\n", ms_m3gnet_description(d->m));
  fprintf(fp, "from         %s (checkpoint %s)\n", ms_m3gnet_origin(d->m), ms_m3gnet_source(d->m));
  fprintf(fp, "licence      %s\n", ms_m3gnet_licence(d->m));
  fprintf(fp, "citation     %s\n", ms_m3gnet_citation(d->m));
  fprintf(fp, "cutoffs      %.3g Å (bonds), %.3g Å (three-body)\n", ms_m3gnet_cutoff(d->m),
          ms_m3gnet_threebody_cutoff(d->m));
  fprintf(fp, "radial basis %s\n", ms_m3gnet_use_smooth(d->m) ? "smooth (zero value, slope and curvature at the cutoff)"
                                                              : "spherical Bessel (forces jump where a bond crosses the cutoff)");
  fprintf(fp, "semantics    %s\n", semantics_names[d->sem]);
  fprintf(fp, "elements     %d:", d->nlabels);
  for (int k = 0; k < d->nlabels; ++k) fprintf(fp, "%s %s", k % 20 == 0 ? "\n            " : "", d->labels[k]);
  fprintf(fp, "\nenergies     total energies in eV as the training DFT gives them (no Materials Project\n"
              "             corrections); see docs/models.md\n");
  return MS_SUCCESS;
}

static ms_err describe_family_m3gnet(FILE *fp) {
  fprintf(fp, "M3GNet is a graph neural network over the bonds within 5 Å of every atom, with three-body\n"
              "terms over bond pairs within 4 Å, trained on DFT relaxation trajectories. It needs no\n"
              "oxidation states and covers 89 elements. Forces and stress come from a hand-written\n"
              "reverse pass through the network, in double precision. Models are converted matgl\n"
              "checkpoints (scripts/m3gnet_convert.py); the built-in ones ship with the program.\n");
  return MS_SUCCESS;
}

/* ---- registry record ------------------------------------------------------------------------ */

static const char *const *builtin_names_m3gnet(int *count) {
  const char *const *names = ms_m3gnet_builtin_names();
  int n = 0;
  while (names[n]) n++;
  if (count) *count = n;
  return names;
}

/* Built-in names and .h5 files surely (a converted model is HDF5). */
static ms_model_claim claims_m3gnet(const char *name) {
  for (const char *const *n = ms_m3gnet_builtin_names(); *n; ++n)
    if (strcmp(*n, name) == 0) return MS_MODEL_CLAIM_SURE;
  size_t l = strlen(name);
  if (l > 3 && strcmp(name + l - 3, ".h5") == 0) return MS_MODEL_CLAIM_SURE;
  return MS_MODEL_CLAIM_NO;
}

static const ms_model_option_info options_m3gnet[] = {
    {"semantics", "consistent or matgl", "consistent",
     "consistent: the three-body sums as published (invariant under permutation and rotation); matgl: "
     "matgl's indexing and pymatgen's bond order, to reproduce matgl's numbers exactly",
     "--semantics", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL}};

static const char *const refs_m3gnet[] = {
    "C. Chen and S. P. Ong, Nat. Comput. Sci. 2, 718 (2022) (M3GNet)",
    "matgl, the Materials Graph Library (BSD-3-Clause), whose checkpoints the models are", NULL};

static const ms_model_ops ops_m3gnet = {
    check_m3gnet,        settings_m3gnet,     load_m3gnet,    unload_m3gnet,
    ws_create_m3gnet,    ws_free_m3gnet,      compute_m3gnet, covers_m3gnet,
    min_distance_m3gnet, species_m3gnet,      describe_m3gnet};

const ms_model_family ms__model_family_m3gnet = {
    "m3gnet",
    "the M3GNet universal graph-network potential (89 elements, no charges), from converted matgl checkpoints",
    "a converted M3GNet checkpoint in HDF5 (.h5, scripts/m3gnet_convert.py)",
    refs_m3gnet,
    options_m3gnet,
    builtin_names_m3gnet,
    claims_m3gnet,
    describe_family_m3gnet,
    &ops_m3gnet};
