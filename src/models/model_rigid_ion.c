/* The rigid-ion model family: periodic electrostatics (ewald.c / pme.c) + short-range pair terms
 * of a potential set (pair.c, potential.c), evaluated in ONE neighbour pass per structure.
 *
 * Why one pass: for the small cells of a screening campaign most of the time goes into the
 * real-space sums, and the Coulomb real-space term and the Buckingham terms need the same pairs
 * (cutoffs of 10-12 Å). The fused block callback fills per-pair energies e[p] and radial
 * derivatives g[p] = (1/r) dE/dr from both kernels and accumulates energy, forces and the
 * strain derivative once (ms_ewald_block_accumulate).
 *
 * Per-structure failures are statuses (model.h): a degenerate cell is "bad_cell", atoms on top
 * of each other "overlap", a pair inside a catastrophe guard "collapsed", a non-finite result
 * "nan". The energy is then not meaningful and callers must not rank on it.
 *
 * Models of the family: the built-in potential sets (inputs/potentials/NAME.yaml) and potential
 * files (YAML). Options (model_rigid_ion.h): accuracy, method, coulomb; this file holds their
 * only parser. The loaded data (the potential and the resolved settings) are read-only and
 * shared by workspaces; a workspace holds the Ewald object, neighbour list and pair table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/model.h"
#include "matscreen/neighbor.h"
#include "matscreen/pair.h"
#include "model_impl.h"

/* ---- settings: the one parser of the family's options ------------------------------------- */

static const char *const method_names[] = {"auto", "direct", "pme", NULL};
static const ms_ewald_method method_values[] = {MS_EWALD_AUTO, MS_EWALD_DIRECT, MS_EWALD_PME};

void ms_model_options_default(ms_model_options *o) {
  memset(o, 0, sizeof *o);
  ms_ewald_params_default(&o->ewald);
  o->ewald.accuracy = 0; /* take the potential's recommendation */
  o->coulomb = 1;
}

/* The options of @p s into typed settings (defaults for what is not given). */
static ms_err parse_options(const ms_model_spec *s, ms_model_options *mo) {
  ms_model_options_default(mo);
  for (int k = 0; k < s->nopt; ++k) {
    const ms_model_option *o = &s->opt[k];
    if (strcmp(o->key, "accuracy") == 0) {
      double a = 0;
      MS_CALL(ms_model_option_double(o, &a));
      if (!(a >= 1e-15 && a <= 1e-2)) return ms_model_option_error(o, "must be in [1e-15, 1e-2], got %g", a);
      mo->ewald.accuracy = a;
    } else if (strcmp(o->key, "method") == 0) {
      int found = -1;
      for (int q = 0; method_names[q]; ++q)
        if (strcmp(o->value, method_names[q]) == 0) found = q;
      if (found < 0) {
        const char *hint = ms_suggest(o->value, method_names);
        return ms_model_option_error(o, "must be auto, direct or pme, got '%s'%s%s%s", o->value,
                                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
      }
      mo->ewald.method = method_values[found];
    } else if (strcmp(o->key, "coulomb") == 0) {
      MS_CALL(ms_model_option_bool(o, &mo->coulomb));
    } else {
      /* ms_model_spec_check() has checked the keys against the option table below. */
      return ms_model_option_error(o, "not an option of rigid-ion models");
    }
  }
  return MS_SUCCESS;
}

static ms_err check_rigid_ion(const ms_model_spec *s) {
  ms_model_options mo;
  return parse_options(s, &mo);
}

/* Shortest "%g" form that reads back as the same double. */
static void shortest(double v, char *buf, size_t len) {
  for (int prec = 15; prec <= 17; ++prec) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
}

/* What a campaign's resolved YAML has always shown: accuracy when given (else a note that the
 * potential's is used), the method, and coulomb only when switched off. */
static ms_err settings_rigid_ion(const ms_model_spec *s, ms_model_settings *out) {
  ms_model_options mo;
  MS_CALL(parse_options(s, &mo));
  memset(out, 0, sizeof *out);
  if (mo.ewald.accuracy > 0) {
    snprintf(out->key[out->n], sizeof out->key[0], "accuracy");
    shortest(mo.ewald.accuracy, out->value[out->n], sizeof out->value[0]);
    out->n++;
  } else {
    snprintf(out->note, sizeof out->note, "accuracy: the potential's");
  }
  snprintf(out->key[out->n], sizeof out->key[0], "method");
  snprintf(out->value[out->n], sizeof out->value[0], "%s", ms_ewald_method_name(mo.ewald.method));
  out->n++;
  if (!mo.coulomb) {
    snprintf(out->key[out->n], sizeof out->key[0], "coulomb");
    snprintf(out->value[out->n], sizeof out->value[0], "false");
    out->n++;
  }
  return MS_SUCCESS;
}

/* ---- loaded data --------------------------------------------------------------------------- */

typedef struct {
  ms_potential *owned;    /* loaded here, freed with the data */
  const ms_potential *pot;
  ms_model_options opt;   /* resolved: accuracy and real-space cutoff filled in */
  char *citation;         /* the potential's citations, joined */
} ri_data;

static void unload_rigid_ion(void *vd) {
  ri_data *d = vd;
  if (!d) return;
  ms_potential_free(&d->owned);
  free(d->citation);
  free(d);
}

/* Data on @p pot (owned when @p owned) with settings @p opt (NULL: defaults). */
static ms_err make_data(ms_potential *owned, const ms_potential *pot, const ms_model_options *opt, ri_data **out,
                        ms_model_about *about) {
  *out = NULL;
  ri_data *d = calloc(1, sizeof *d);
  if (!d) {
    ms_potential_free(&owned);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  d->owned = owned;
  d->pot = pot;
  if (opt)
    d->opt = *opt;
  else
    ms_model_options_default(&d->opt);
  ms_ewald_params ep = d->opt.ewald;
  if (ep.accuracy <= 0) ep.accuracy = ms_potential_coulomb_accuracy(pot);
  if (ep.accuracy <= 0) ep.accuracy = 1e-8;
  /* The neighbour pass must reach the short-range cutoff anyway, and the real-space Coulomb
   * kernel evaluates every pair it is given: share that cutoff with Ewald, so alpha is set by
   * it and the reciprocal sum shrinks instead of erfc being evaluated where it is negligible. */
  if (ep.rcut <= 0 && ep.alpha <= 0 && d->opt.coulomb) ep.rcut = ms_potential_max_cutoff(pot);
  d->opt.ewald = ep;
  size_t len = 1;
  for (int k = 0; k < ms_potential_ncitations(pot); ++k) len += strlen(ms_potential_citation(pot, k, NULL)) + 2;
  d->citation = malloc(len);
  if (!d->citation) {
    unload_rigid_ion(d);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  d->citation[0] = '\0';
  for (int k = 0; k < ms_potential_ncitations(pot); ++k) {
    if (k) strcat(d->citation, "; ");
    strcat(d->citation, ms_potential_citation(pot, k, NULL));
  }
  memset(about, 0, sizeof *about);
  about->name = ms_potential_name(pot);
  about->description = ms_potential_description(pot);
  about->citation = d->citation;
  about->source = ms_potential_source(pot);
  about->needs_oxidation_states = ms_potential_charge_model(pot) == MS_CHARGES_FORMAL;
  about->elemental_energies = 0; /* lattice energies relative to separated ions */
  about->cutoff = ms_potential_max_cutoff(pot);
  *out = d;
  return MS_SUCCESS;
}

static ms_err load_rigid_ion(const ms_model_spec *s, void **data, ms_model_about *about) {
  ms_model_options mo;
  MS_CALL(parse_options(s, &mo));
  ms_potential *p = NULL;
  MS_CALL(ms_potential_load(s->name, &p));
  ri_data *d = NULL;
  MS_CALL(make_data(p, p, &mo, &d, about));
  *data = d;
  return MS_SUCCESS;
}

/* ---- workspace and evaluation --------------------------------------------------------------- */

typedef struct {
  const ri_data *d;
  ms_ewald ew;
  ms_nlist nl;
  ms_pair_table table;
  double charge[MS_CELL_MAX_KINDS];
  double *q;                  /* per-site charges */
  int qcap;
  double e[MS_NBLOCK], g[MS_NBLOCK];
} ri_ws;

static void ws_free_rigid_ion(void *vw) {
  ri_ws *w = vw;
  if (!w) return;
  ms_ewald_destroy(&w->ew);
  ms_nlist_free(&w->nl);
  ms_pair_table_free(&w->table);
  free(w->q);
  free(w);
}

static ms_err ws_create_rigid_ion(const void *vd, void **out) {
  *out = NULL;
  ri_ws *w = NULL;
  MS_CALL(MS_CALLOC(1, &w));
  w->d = vd;
  ms_nlist_init(&w->nl);
  ms_pair_table_init(&w->table);
  ms_err e = ms_ewald_create(&w->d->opt.ewald, &w->ew);
  if (e) {
    ws_free_rigid_ion(w);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = w;
  return MS_SUCCESS;
}

typedef struct {
  ri_ws *w;
  const ms_cell *c;
  unsigned eflags;
  int coulomb;
  double energy, e_real;
  double (*f)[3];
  double W[3][3];
  ms_pair_acc acc;
} pass_ctx;

static int fused_block(const ms_nblock *blk, void *vctx) {
  pass_ctx *x = vctx;
  ri_ws *w = x->w;
  memset(w->e, 0, sizeof(double) * (size_t)blk->n);
  memset(w->g, 0, sizeof(double) * (size_t)blk->n);
  if (x->coulomb) x->e_real += ms_ewald_real_block(w->ew, blk, w->e, w->g);
  ms_pair_kernel_eg(&w->table, x->c->kind, blk, w->e, w->g, &x->acc);
  ms_ewald_block_accumulate(blk, w->e, w->g, x->eflags, &x->energy, x->f, x->W);
  return 0;
}

static void set_status(ms_model_result *r, ms_status s, const char *fmt, const char *what) {
  r->status = s;
  snprintf(r->detail, sizeof r->detail, fmt, what);
}

/* ms_model_compute() has reset *res, zeroed the forces, set the volume and validated the cell. */
static ms_err compute_rigid_ion(void *vw, const ms_cell *c, unsigned flags, ms_model_result *res) {
  ri_ws *w = vw;
  const ri_data *d = w->d;
  MS_CALL(ms_potential_bind(d->pot, c, w->charge, &w->table));

  if (c->natoms > w->qcap) {
    MS_CALL(MS_REALLOC((size_t)c->natoms, &w->q));
    w->qcap = c->natoms;
  }
  int coulomb = 0;
  double qtot = 0;
  for (int i = 0; i < c->natoms; ++i) {
    w->q[i] = w->charge[c->kind[i]];
    qtot += w->q[i];
    if (w->q[i] != 0) coulomb = 1;
  }
  coulomb = coulomb && d->opt.coulomb;
  res->charge_total = qtot;
  res->has_coulomb = coulomb;

  unsigned eflags = 0;
  if (flags & MS_MODEL_FORCES) eflags |= MS_EWALD_FORCES;
  if (flags & MS_MODEL_STRESS) eflags |= MS_EWALD_STRESS;

  double reach = ms_pair_table_reach(&w->table);
  if (coulomb) {
    ms_err e = ms_ewald_setup(w->ew, c, w->q);
    if (e == MS_ERR_INPUT) {
      /* The cell passed validation, so this is a physics problem of this structure
       * (e.g. a cell too thin for the cutoffs): record it, do not stop the caller. */
      set_status(res, MS_STATUS_BAD_CELL, "%s", ms_err_message());
      ms_err_clear();
      res->energy = res->e_coulomb = res->e_short = NAN;
      return MS_SUCCESS;
    }
    MS_CALL(e);
    MS_CALL(ms_ewald_get_info(w->ew, &res->ewald));
    if (res->ewald.rcut > reach) reach = res->ewald.rcut;
  }

  pass_ctx x;
  memset(&x, 0, sizeof x);
  x.w = w;
  x.c = c;
  x.eflags = eflags;
  x.coulomb = coulomb;
  x.f = res->forces;
  ms_pair_acc_reset(&x.acc, NULL, 0);
  if (reach > 0 && c->natoms > 0) {
    ms_err e = ms_nlist_foreach_block(&w->nl, c, reach, fused_block, &x, NULL);
    if (e == MS_ERR_INPUT) {
      set_status(res, MS_STATUS_BAD_CELL, "%s", ms_err_message());
      ms_err_clear();
      res->energy = res->e_coulomb = res->e_short = NAN;
      return MS_SUCCESS;
    }
    MS_CALL(e);
  }
  res->energy = x.energy;
  res->e_coulomb = x.e_real;
  res->e_short = x.energy - x.e_real;
  memcpy(res->W, x.W, sizeof res->W);

  if (coulomb) {
    ms_ewald_result er;
    memset(&er, 0, sizeof er);
    er.forces = res->forces;
    ms_ewald_real_status(w->ew, &er);
    MS_CALL(ms_ewald_kspace(w->ew, eflags, &er));
    res->energy += er.energy;
    res->e_coulomb += er.energy;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) res->W[a][b] += er.W[a][b];
    if (er.status == MS_STATUS_OVERLAP && x.acc.status == MS_STATUS_OK) {
      res->status = MS_STATUS_OVERLAP;
      snprintf(res->detail, sizeof res->detail, "sites %d and %d are %.4f Å apart (overlap)",
               er.rmin_i + 1, er.rmin_j + 1, er.rmin);
    }
  }
  if (x.acc.status != MS_STATUS_OK) {
    res->status = x.acc.status;
    ms_pair_acc_describe(&x.acc, c, res->detail, sizeof res->detail);
  }
  ms_model_result_finish(res, c->natoms, flags);
  return MS_SUCCESS;
}

/* ---- queries ---------------------------------------------------------------------------------- */

static int covers_rigid_ion(const void *vd, const ms_species *sp, char *reason, size_t len) {
  const ri_data *d = vd;
  if (ms_potential_match(d->pot, sp) == MS_SUCCESS) return 1;
  snprintf(reason, len, "%s", ms_err_message());
  ms_err_clear();
  return 0;
}

/* The catastrophe guard radius of the pair (docs/models.md); 0 when the pair is not covered. */
static double min_distance_rigid_ion(const void *vd, const ms_species *a, const ms_species *b) {
  const ri_data *d = vd;
  char la[24], lb[24];
  double rg = 0, br = 0, core = 0;
  ms_species_format(a, la, sizeof la);
  ms_species_format(b, lb, sizeof lb);
  if (ms_potential_guard(d->pot, la, lb, &rg, &br, &core) == MS_SUCCESS) return rg;
  ms_err_clear(); /* not covered: the coverage check or the energy stage says so */
  return 0;
}

static int species_rigid_ion(const void *vd, int k, ms_species *sp, const char **label, double *charge) {
  const ri_data *d = vd;
  int n = ms_potential_nspecies(d->pot);
  if (k >= 0 && k < n) {
    double q = 0;
    ms_species s;
    const char *l = ms_potential_species(d->pot, k, &s, &q);
    if (sp) *sp = s;
    if (label) *label = l;
    if (charge) *charge = q;
  }
  return n;
}

static ms_err describe_rigid_ion(const void *vd, FILE *fp) {
  const ri_data *d = vd;
  return ms_potential_describe(d->pot, fp);
}

const ms_model_term_info *ms_model_terms(int *count) {
  /* Built once from the pair-form table so the two cannot drift apart. */
  enum { MAX_TERMS = 16 };
  static ms_model_term_info terms[MAX_TERMS + 1];
  static char params[MAX_TERMS][160];
  static int n = 0;
  if (n == 0) {
    terms[n++] = (ms_model_term_info){
        "coulomb", "long-range",
        "K q_i q_j / r summed periodically: direct Ewald or smooth PME, neutralising background "
        "for charged cells",
        "charges q (e) from the potential or the oxidation states; accuracy (relative)",
        "Ewald, Ann. Phys. 369, 253 (1921); Essmann et al., J. Chem. Phys. 103, 8577 (1995)"};
    for (int f = 0; f < MS_PAIR_NFORMS_ && n < MAX_TERMS; ++f) {
      const ms_pair_form_info *fi = ms_pair_form_get((ms_pair_form)f);
      if (!fi) continue;
      size_t used = 0;
      params[n][0] = '\0';
      for (int k = 0; k < fi->nparams; ++k)
        used += (size_t)snprintf(params[n] + used, sizeof params[n] - used, "%s%s (%s)",
                                 k ? ", " : "", fi->param[k].key, fi->param[k].unit);
      terms[n] = (ms_model_term_info){fi->name, "short-range", fi->formula, params[n], fi->citation};
      n++;
    }
    terms[n].name = NULL;
  }
  if (count) *count = n;
  return terms;
}

/* `matscreen info models rigid_ion`: the terms such a model sums. */
static ms_err describe_family_rigid_ion(FILE *fp) {
  int n = 0;
  const ms_model_term_info *t = ms_model_terms(&n);
  fprintf(fp, "A rigid-ion model is the Coulomb energy of the ions' charges plus the short-range pair\n"
              "terms of a potential set (see 'matscreen info potentials'). Terms:\n\n");
  for (int k = 0; k < n; ++k)
    fprintf(fp, "  %-14s %s\n  %-14s %s\n  %-14s parameters: %s\n  %-14s %s\n\n", t[k].name, t[k].formula, "",
            t[k].kind, "", t[k].params, "", t[k].citation);
  return MS_SUCCESS;
}

/* ---- registry record ------------------------------------------------------------------------ */

static const char *const *builtin_names_rigid_ion(int *count) { return ms_potential_builtin_names(count); }

/* Built-in potential sets and YAML files surely; any other path possibly (it is read as a
 * potential file unless a family that recognises it claims it surely). */
static ms_model_claim claims_rigid_ion(const char *name) {
  int n = 0;
  const char *const *names = ms_potential_builtin_names(&n);
  for (int k = 0; k < n; ++k)
    if (strcmp(names[k], name) == 0) return MS_MODEL_CLAIM_SURE;
  size_t l = strlen(name);
  if ((l > 5 && strcmp(name + l - 5, ".yaml") == 0) || (l > 4 && strcmp(name + l - 4, ".yml") == 0))
    return MS_MODEL_CLAIM_SURE;
  return ms_data_is_path(name) ? MS_MODEL_CLAIM_MAYBE : MS_MODEL_CLAIM_NO;
}

/* The command-line shorthands are the names these options have always had there. */
static const ms_model_option_info options_rigid_ion[] = {
    {"accuracy", "a number in [1e-15, 1e-2]", "the potential's, usually 1e-8",
     "relative accuracy of the electrostatics (sets the Ewald splitting, cutoffs and PME grid)", "--accuracy",
     NULL},
    {"method", "auto, direct or pme", "auto", "Ewald summation method (auto: by system size)", "--method", NULL},
    {"coulomb", "true or false", "true", "false: the short-range terms only", "--no-coulomb", "false"},
    {NULL, NULL, NULL, NULL, NULL, NULL}};

static const char *const refs_rigid_ion[] = {
    "P. P. Ewald, Ann. Phys. 369, 253 (1921)",
    "U. Essmann et al., J. Chem. Phys. 103, 8577 (1995) (smooth PME)", NULL};

static const ms_model_ops ops_rigid_ion = {
    check_rigid_ion,         settings_rigid_ion, load_rigid_ion,    unload_rigid_ion,
    ws_create_rigid_ion,     ws_free_rigid_ion,  compute_rigid_ion, covers_rigid_ion,
    min_distance_rigid_ion,  species_rigid_ion,  describe_rigid_ion};

const ms_model_family ms__model_family_rigid_ion = {
    "rigid_ion",
    "point charges with periodic electrostatics (Ewald or PME) plus short-range pair terms of a "
    "potential set",
    "a potential set in YAML (.yaml, .yml)",
    refs_rigid_ion,
    options_rigid_ion,
    builtin_names_rigid_ion,
    claims_rigid_ion,
    describe_family_rigid_ion,
    &ops_rigid_ion};

/* ---- typed entry points (model_rigid_ion.h) -------------------------------------------------- */

ms_err ms_model_create_with(const ms_potential *pot, const ms_model_options *opt, ms_model *out) {
  *out = NULL;
  MS_CHECK(pot != NULL, MS_ERR_ARG, "no potential given");
  ri_data *d = NULL;
  ms_model_about about;
  MS_CALL(make_data(NULL, pot, opt, &d, &about));
  return ms__model_wrap(&ms__model_family_rigid_ion, d, &about, out);
}

ms_err ms_model_create(const char *name, const ms_model_options *opt, ms_model *out) {
  *out = NULL;
  MS_CHECK(name, MS_ERR_ARG, "ms_model_create: no model given");
  if (!opt) {
    ms_model_spec s;
    ms_model_spec_init(&s, name, "model");
    return ms_model_create_spec(&s, out);
  }
  const ms_model_family *f = NULL;
  MS_CALL(ms_model_family_resolve(name, &f));
  MS_CHECK(f == &ms__model_family_rigid_ion, MS_ERR_INPUT,
           "'%s' is a %s model: typed rigid-ion settings do not apply (give its options as a spec)", name,
           f->name);
  ms_potential *p = NULL;
  MS_CALL(ms_potential_load(name, &p));
  ri_data *d = NULL;
  ms_model_about about;
  MS_CALL(make_data(p, p, opt, &d, &about));
  return ms__model_wrap(&ms__model_family_rigid_ion, d, &about, out);
}

const ms_potential *ms_model_potential(const ms_model m) {
  if (ms__model_family(m) != &ms__model_family_rigid_ion) return NULL;
  return ((const ri_data *)ms__model_data(m))->pot;
}
