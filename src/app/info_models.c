/* `matscreen info models [FAMILY|MODEL]` and `matscreen info potentials [NAME]`: the model
 * families of the registry with their options and built-in models, one family or model in
 * full, and the rigid-ion family's library of potential sets; printed from the records and
 * files the code runs on (model.h registry, the pair-form table, the potential files) so the
 * listing cannot drift. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/model.h"
#include "matscreen/potential.h"

/* One family: name, summary, files, citations, options and built-in models (each loaded for its
 * description and citation), as text or as a JSON object. */
static ms_err list_family(ms_jbuf *b, const ms_model_family *f, int json, int first) {
  int n = 0;
  const char *const *list = f->builtin_names(&n);
  enum { MAXM = 64 };
  char names[MAXM][64]; /* copied: loading a model may reuse the thread-local listing */
  int nm = n < MAXM ? n : MAXM;
  for (int k = 0; k < nm; ++k) snprintf(names[k], sizeof names[k], "%s", list[k]);
  if (json) {
    ms_jb_raw(b, first ? "{" : ", {");
    ms_jb_key(b, "name", 1);
    ms_jb_str(b, f->name);
    ms_jb_key(b, "summary", 0);
    ms_jb_str(b, f->summary);
    ms_jb_key(b, "files", 0);
    ms_jb_str(b, f->files ? f->files : "");
    ms_jb_key(b, "citations", 0);
    ms_jb_raw(b, "[");
    for (int k = 0; f->refs && f->refs[k]; ++k) {
      if (k) ms_jb_raw(b, ", ");
      ms_jb_str(b, f->refs[k]);
    }
    ms_jb_raw(b, "]");
    ms_jb_key(b, "options", 0);
    ms_jb_raw(b, "[");
    for (const ms_model_option_info *o = f->options; o && o->key; ++o) {
      ms_jb_raw(b, o == f->options ? "{" : ", {");
      ms_jb_key(b, "key", 1);
      ms_jb_str(b, o->key);
      ms_jb_key(b, "values", 0);
      ms_jb_str(b, o->values);
      ms_jb_key(b, "default", 0);
      ms_jb_str(b, o->default_value);
      ms_jb_key(b, "help", 0);
      ms_jb_str(b, o->help);
      ms_jb_key(b, "flag", 0);
      if (o->flag) ms_jb_str(b, o->flag);
      else ms_jb_raw(b, "null");
      ms_jb_raw(b, "}");
    }
    ms_jb_raw(b, "]");
    ms_jb_key(b, "models", 0);
    ms_jb_raw(b, "[");
  } else {
    ms_jb_printf(b, "%s: %s\n", f->name, f->summary);
    if (f->files && f->files[0]) ms_jb_printf(b, "  files: %s\n", f->files);
    for (int k = 0; f->refs && f->refs[k]; ++k) ms_jb_printf(b, "  %-9s %s\n", k ? "" : "method:", f->refs[k]);
    if (f->options && f->options->key) ms_jb_printf(b, "  options (campaign: potential: {name: NAME, OPTION: VALUE}; "
                                                       "command line: --model-option OPTION=VALUE):\n");
    for (const ms_model_option_info *o = f->options; o && o->key; ++o) {
      ms_jb_printf(b, "    %-10s %s (default %s): %s", o->key, o->values, o->default_value, o->help);
      if (o->flag) ms_jb_printf(b, "; on the command line also %s%s", o->flag, o->flag_value ? "" : " VALUE");
      ms_jb_printf(b, "\n");
    }
    ms_jb_printf(b, "  built-in models:\n");
  }
  for (int k = 0; k < nm; ++k) {
    ms_model m = NULL;
    ms_err e = ms_model_create(names[k], NULL, &m);
    if (e) return e;
    if (json) {
      ms_jb_raw(b, k ? ", {" : "{");
      ms_jb_key(b, "name", 1);
      ms_jb_str(b, names[k]);
      ms_jb_key(b, "description", 0);
      ms_jb_str(b, ms_model_description(m));
      ms_jb_key(b, "citation", 0);
      ms_jb_str(b, ms_model_citation(m));
      ms_jb_raw(b, "}");
    } else {
      ms_jb_printf(b, "    %-18s %s\n", names[k], ms_model_description(m));
      if (ms_model_citation(m)[0]) ms_jb_printf(b, "    %-18s %s\n", "", ms_model_citation(m));
    }
    ms_model_destroy(&m);
  }
  ms_jb_raw(b, json ? "]}" : "\n");
  return MS_SUCCESS;
}

int ms_info_models(int argc, char **argv, int json) {
  if (argc > 2) return ms_app_usage_error("info", "'info models' takes at most one FAMILY or MODEL");
  ms_jbuf b;
  ms_jb_init(&b);
  ms_err e = MS_SUCCESS;
  const ms_model_family *f = argc == 2 ? ms_model_family_find(argv[1]) : NULL;
  if (argc == 2 && !f) {
    /* One model in full: load it on every rank so errors agree, print on rank 0. */
    ms_model m = NULL;
    ms_model_spec spec;
    ms_model_spec_init(&spec, argv[1], "info models");
    e = ms_err_agree(MPI_COMM_WORLD, ms_model_create_spec(&spec, &m));
    if (e) return ms_app_report(e);
    if (ms_app_rank() == 0) e = ms_model_describe(m, stdout);
    fflush(stdout);
    ms_model_destroy(&m);
    return ms_app_report(ms_err_agree(MPI_COMM_WORLD, e));
  }
  if (f) {
    e = list_family(&b, f, json, 1);
    if (!e && !json && f->describe_family && ms_app_rank() == 0) {
      fputs(b.s ? b.s : "", stdout);
      ms_jb_clear(&b);
      e = f->describe_family(stdout);
    }
    if (json) ms_jb_raw(&b, "\n");
  } else {
    int nf = 0;
    const ms_model_family *const *fam = ms_model_family_list(&nf);
    if (json) ms_jb_raw(&b, "{\"families\": [");
    else ms_jb_printf(&b, "Energy-model families and their built-in models ('matscreen info models FAMILY|MODEL'\n"
                          "for one in full; a campaign's potential: or --potential names a model):\n\n");
    for (int k = 0; k < nf && !e; ++k) e = list_family(&b, fam[k], json, k == 0);
    if (json) ms_jb_raw(&b, "]}\n");
  }
  e = ms_err_agree(MPI_COMM_WORLD, e);
  if (!e && ms_app_rank() == 0) {
    fputs(b.s ? b.s : "", stdout);
    fflush(stdout);
  }
  ms_jb_free(&b);
  return ms_app_report(e);
}

int ms_info_potentials(int argc, char **argv, int json) {
  int count = 0;
  const char *const *names = ms_potential_builtin_names(&count);
  if (argc > 2) return ms_app_usage_error("info", "'info potentials' takes at most one NAME");
  if (argc == 2) {
    /* One potential in full: load it on every rank so errors agree, print on rank 0. */
    ms_potential *p = NULL;
    ms_err e = ms_err_agree(MPI_COMM_WORLD, ms_potential_load(argv[1], &p));
    if (e) return ms_app_report(e);
    if (ms_app_rank() == 0) e = ms_potential_describe(p, stdout);
    fflush(stdout);
    ms_potential_free(&p);
    return ms_app_report(ms_err_agree(MPI_COMM_WORLD, e));
  }
  /* Copy the names: loading a potential may reuse the thread-local listing. */
  enum { MAXP = 64 };
  char list[MAXP][64];
  int np = count < MAXP ? count : MAXP;
  for (int k = 0; k < np; ++k) snprintf(list[k], sizeof list[k], "%s", names[k]);
  ms_jbuf b;
  ms_jb_init(&b);
  if (json) ms_jb_raw(&b, "{\"potentials\": [");
  ms_err e = MS_SUCCESS;
  for (int k = 0; k < np && !e; ++k) {
    ms_potential *p = NULL;
    e = ms_potential_load(list[k], &p);
    if (e) break;
    char covers[512];
    ms_potential_covers(p, covers, sizeof covers);
    if (json) {
      ms_jb_raw(&b, k ? ", {" : "{");
      ms_jb_key(&b, "name", 1);
      ms_jb_str(&b, list[k]);
      ms_jb_key(&b, "description", 0);
      ms_jb_str(&b, ms_potential_description(p));
      ms_jb_key(&b, "covers", 0);
      ms_jb_str(&b, covers);
      ms_jb_key(&b, "max_cutoff_A", 0);
      ms_jb_num(&b, ms_potential_max_cutoff(p));
      ms_jb_key(&b, "coulomb_accuracy", 0);
      ms_jb_num(&b, ms_potential_coulomb_accuracy(p));
      ms_jb_raw(&b, "}");
    } else {
      ms_jb_printf(&b, "%-18s %s\n%-18s covers: %s\n\n", list[k], ms_potential_description(p), "",
                   covers);
    }
    ms_potential_free(&p);
  }
  if (json) ms_jb_raw(&b, "]}\n");
  e = ms_err_agree(MPI_COMM_WORLD, e);
  if (!e && ms_app_rank() == 0) {
    if (!json) printf("Built-in potential sets ('matscreen info potentials NAME' for the parameters):\n\n");
    fputs(b.s ? b.s : "", stdout);
    fflush(stdout);
  }
  ms_jb_free(&b);
  return ms_app_report(e);
}
