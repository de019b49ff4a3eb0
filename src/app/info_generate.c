/* `matscreen info prototypes [NAME]` and `matscreen info generators [NAME]`: the prototype
 * library and the generator registry, printed from the same files and records the code runs
 * on (ms_prototype_load, ms_generator_list), so the listing cannot drift. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/generator.h"
#include "matscreen/prototype.h"

static void proto_json(ms_jbuf *b, const ms_prototype *p, int full) {
  int hall = 0;
  int sg = ms_prototype_spacegroup(p, &hall);
  ms_jb_raw(b, "{");
  ms_jb_key(b, "name", 1);
  ms_jb_str(b, ms_prototype_name(p));
  ms_jb_key(b, "formula", 0);
  ms_jb_str(b, ms_prototype_formula(p));
  ms_jb_key(b, "spacegroup", 0);
  ms_jb_printf(b, "%d", sg);
  ms_jb_key(b, "hall_number", 0);
  ms_jb_printf(b, "%d", hall);
  ms_jb_key(b, "reference_compound", 0);
  ms_jb_str(b, ms_prototype_compound(p));
  ms_jb_key(b, "description", 0);
  ms_jb_str(b, ms_prototype_description(p));
  ms_jb_key(b, "reference", 0);
  ms_jb_str(b, ms_prototype_reference(p));
  ms_jb_key(b, "labels", 0);
  ms_jb_raw(b, "[");
  for (int l = 0; l < ms_prototype_nlabels(p); ++l) {
    char ion[24];
    ms_jb_raw(b, l ? ", {" : "{");
    ms_jb_key(b, "label", 1);
    ms_jb_str(b, ms_prototype_label(p, l));
    ms_jb_key(b, "count_conventional", 0);
    ms_jb_printf(b, "%d", ms_prototype_label_count(p, l));
    ms_jb_key(b, "reference_ion", 0);
    ms_jb_str(b, ms_species_format(ms_prototype_reference_ion(p, l), ion, sizeof ion));
    ms_jb_raw(b, "}");
  }
  ms_jb_raw(b, "]");
  if (full) {
    double L[3][3];
    ms_prototype_reference_lattice(p, L);
    ms_jb_key(b, "reference_lattice_A", 0);
    ms_jb_rows3(b, (const double(*)[3])L, 3);
    ms_jb_key(b, "sites", 0);
    ms_jb_raw(b, "[");
    for (int k = 0; k < ms_prototype_nsites(p); ++k) {
      ms_prototype_site si;
      ms_prototype_site_info(p, k, &si);
      ms_jb_raw(b, k ? ", {" : "{");
      ms_jb_key(b, "label", 1);
      ms_jb_str(b, ms_prototype_label(p, si.label));
      ms_jb_key(b, "wyckoff", 0);
      ms_jb_str(b, si.wyckoff);
      ms_jb_key(b, "position", 0);
      ms_jb_str(b, si.position);
      ms_jb_key(b, "params", 0);
      ms_jb_str(b, si.params);
      ms_jb_key(b, "frac", 0);
      ms_jb_nums(b, si.frac, 3);
      ms_jb_key(b, "cn", 0);
      ms_jb_printf(b, "%d", si.cn);
      ms_jb_raw(b, "}");
    }
    ms_jb_raw(b, "]");
  }
  ms_jb_raw(b, "}");
}

int ms_info_prototypes(int argc, char **argv, int json) {
  if (argc > 2) return ms_app_usage_error("info", "'info prototypes' takes at most one NAME");
  if (argc == 2) {
    ms_prototype *p = NULL;
    ms_err e = ms_err_agree(MPI_COMM_WORLD, ms_prototype_load(argv[1], &p));
    if (e) return ms_app_report(e);
    if (ms_app_rank() == 0) {
      if (json) {
        ms_jbuf b;
        ms_jb_init(&b);
        proto_json(&b, p, 1);
        ms_jb_raw(&b, "\n");
        fputs(b.s ? b.s : "", stdout);
        ms_jb_free(&b);
      } else {
        ms_prototype_describe(p, stdout);
      }
      fflush(stdout);
    }
    ms_prototype_free(&p);
    return 0;
  }
  /* Copy the names: loading may reuse the thread-local listing. */
  int count = 0;
  const char *const *names = ms_prototype_builtin_names(&count);
  enum { MAXP = 128 };
  char list[MAXP][64];
  int np = count < MAXP ? count : MAXP;
  for (int k = 0; k < np; ++k) snprintf(list[k], sizeof list[k], "%s", names[k]);
  ms_jbuf b;
  ms_jb_init(&b);
  if (json)
    ms_jb_raw(&b, "{\"prototypes\": [");
  else
    ms_jb_printf(&b, "%-22s %-9s %-11s %4s  %-10s %s\n", "name", "formula", "space group", "Hall",
                 "compound", "description");
  ms_err e = MS_SUCCESS;
  for (int k = 0; k < np && !e; ++k) {
    ms_prototype *p = NULL;
    e = ms_prototype_load(list[k], &p);
    if (e) break;
    if (json) {
      if (k)
        ms_jb_raw(&b, ",\n  ");
      else
        ms_jb_raw(&b, "\n  ");
      proto_json(&b, p, 0);
    } else {
      int hall = 0, sg = ms_prototype_spacegroup(p, &hall);
      char sgtext[24];
      snprintf(sgtext, sizeof sgtext, "%d", sg);
      ms_jb_printf(&b, "%-22s %-9s %-11s %4d  %-10s %s\n", ms_prototype_name(p),
                   ms_prototype_formula(p), sgtext, hall, ms_prototype_compound(p),
                   ms_prototype_description(p));
    }
    ms_prototype_free(&p);
  }
  if (json)
    ms_jb_raw(&b, "\n]}\n");
  else
    ms_jb_printf(&b, "\n%d prototypes; 'matscreen info prototypes NAME' shows the sites.\n", np);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  if (!e && ms_app_rank() == 0) {
    fputs(b.s ? b.s : "", stdout);
    fflush(stdout);
  }
  ms_jb_free(&b);
  return ms_app_report(e);
}

static void generator_text(const ms_generator_info *g, int full) {
  printf("%-24s %s\n", g->name, g->summary);
  if (!full) return;
  printf("\nparameters (YAML keys of a search item with generator: %s):\n", g->name);
  for (const ms_param_spec *p = g->params; p && p->name; ++p) {
    printf("  %-18s %s; %s%s\n", p->name, p->type, p->default_value[0] ? "default " : "required",
           p->default_value);
    printf("  %-18s %s\n", "", p->help);
  }
  if (g->refs && g->refs[0]) {
    printf("\nreferences:\n");
    for (const char *const *r = g->refs; *r; ++r) printf("  %s\n", *r);
  }
}

static void generator_json(ms_jbuf *b, const ms_generator_info *g) {
  ms_jb_raw(b, "{");
  ms_jb_key(b, "name", 1);
  ms_jb_str(b, g->name);
  ms_jb_key(b, "summary", 0);
  ms_jb_str(b, g->summary);
  ms_jb_key(b, "parameters", 0);
  ms_jb_raw(b, "[");
  int first = 1;
  for (const ms_param_spec *p = g->params; p && p->name; ++p) {
    ms_jb_raw(b, first ? "{" : ", {");
    first = 0;
    ms_jb_key(b, "name", 1);
    ms_jb_str(b, p->name);
    ms_jb_key(b, "type", 0);
    ms_jb_str(b, p->type);
    ms_jb_key(b, "default", 0);
    ms_jb_str(b, p->default_value);
    ms_jb_key(b, "help", 0);
    ms_jb_str(b, p->help);
    ms_jb_raw(b, "}");
  }
  ms_jb_raw(b, "]");
  ms_jb_key(b, "references", 0);
  ms_jb_raw(b, "[");
  for (const char *const *r = g->refs; r && *r; ++r) {
    if (r != g->refs) ms_jb_raw(b, ", ");
    ms_jb_str(b, *r);
  }
  ms_jb_raw(b, "]}");
}

int ms_info_generators(int argc, char **argv, int json) {
  if (argc > 2) return ms_app_usage_error("info", "'info generators' takes at most one NAME");
  int n = 0;
  const ms_generator_info *const *all = ms_generator_list(&n);
  const ms_generator_info *one = NULL;
  if (argc == 2) {
    one = ms_generator_find(argv[1]);
    if (!one) {
      const char *names[64];
      int m = 0;
      for (; m < n && m < 63; ++m) names[m] = all[m]->name;
      names[m] = NULL;
      const char *hint = ms_suggest(argv[1], names);
      return ms_app_usage_error("info", "unknown generator '%s'%s%s%s", argv[1],
                                hint ? " (did you mean '" : "", hint ? hint : "",
                                hint ? "'?)" : "");
    }
  }
  if (ms_app_rank() != 0) return 0;
  if (json) {
    ms_jbuf b;
    ms_jb_init(&b);
    if (one) {
      generator_json(&b, one);
    } else {
      ms_jb_raw(&b, "{\"generators\": [");
      for (int k = 0; k < n; ++k) {
        if (k) ms_jb_raw(&b, ", ");
        generator_json(&b, all[k]);
      }
      ms_jb_raw(&b, "]}");
    }
    ms_jb_raw(&b, "\n");
    fputs(b.s ? b.s : "", stdout);
    ms_jb_free(&b);
  } else if (one) {
    generator_text(one, 1);
  } else {
    for (int k = 0; k < n; ++k) generator_text(all[k], 0);
    printf("\n'matscreen info generators NAME' lists the parameters of one generator.\n");
  }
  fflush(stdout);
  return 0;
}
