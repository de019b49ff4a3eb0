/* `matscreen info models` and `matscreen info potentials [NAME]`: what the energy models are
 * made of and which potential sets are built in, printed from the same tables the code runs
 * on (ms_model_terms, the pair-form table, the potential files) so the listing cannot drift. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/model.h"
#include "matscreen/potential.h"

int ms_info_models(int argc, char **argv, int json) {
  (void)argv;
  if (argc > 1) return ms_app_usage_error("info", "'info models' takes no arguments");
  int n = 0;
  const ms_model_term_info *t = ms_model_terms(&n);
  if (ms_app_rank() != 0) return 0;
  if (json) {
    ms_jbuf b;
    ms_jb_init(&b);
    ms_jb_raw(&b, "{\"terms\": [");
    for (int k = 0; k < n; ++k) {
      ms_jb_raw(&b, k ? ", {" : "{");
      ms_jb_key(&b, "name", 1);
      ms_jb_str(&b, t[k].name);
      ms_jb_key(&b, "kind", 0);
      ms_jb_str(&b, t[k].kind);
      ms_jb_key(&b, "formula", 0);
      ms_jb_str(&b, t[k].formula);
      ms_jb_key(&b, "parameters", 0);
      ms_jb_str(&b, t[k].params);
      ms_jb_key(&b, "citation", 0);
      ms_jb_str(&b, t[k].citation);
      ms_jb_raw(&b, "}");
    }
    ms_jb_raw(&b, "]}\n");
    fputs(b.s ? b.s : "", stdout);
    ms_jb_free(&b);
    return 0;
  }
  printf("An energy model is the Coulomb energy of the ions' charges plus the short-range pair\n"
         "terms of a potential set (see 'matscreen info potentials'). Terms:\n\n");
  for (int k = 0; k < n; ++k)
    printf("  %-14s %s\n  %-14s %s\n  %-14s parameters: %s\n  %-14s %s\n\n", t[k].name,
           t[k].formula, "", t[k].kind, "", t[k].params, "", t[k].citation);
  return 0;
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
