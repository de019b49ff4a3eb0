/* `matscreen info [TOPIC [ARGS]] [--json]`: show the built-in data the program runs on.
 *
 * Users need to see what the program will assume (which radius it takes for an ion, which
 * oxidation states are "common") before they write a campaign, and scripts need the same in
 * JSON. Topics live in one table so that each later topic (models, potentials, prototypes,
 * generators) is one line here plus its run function. Every rank parses and evaluates the
 * same arguments on the same read-only tables, so all ranks reach the same result; errors are
 * still agreed on before the message is printed once by rank 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "matscreen/species.h"
#include "matscreen/yaml.h"

static int info_elements(int argc, char **argv, int json);
static int info_species(int argc, char **argv, int json);

static const ms_info_topic topics[] = {
    {"elements", "Z, symbol, name, mass (u), Pauling electronegativity, common oxidation states",
     info_elements, "[SYMBOL ...]"},
    {"species", "Shannon ionic and crystal radii (Å) of ions by coordination number",
     info_species, "[ION|SYMBOL ...]"},
    {"models", "energy-model families, their options and built-in models, or one in full",
     ms_info_models, "[FAMILY|MODEL]"},
    {"potentials", "built-in potential sets, or one set's parameters and citations",
     ms_info_potentials, "[NAME]"},
    {"prototypes", "the prototype library (structure types), or one prototype's sites",
     ms_info_prototypes, "[NAME]"},
    {"generators", "candidate generators and their parameters", ms_info_generators, "[NAME]"},
    {"stages", "the stages of a run in order, their shapes and options", ms_info_stages, "[NAME]"},
    {"output", "the datasets and root attributes of the HDF5 output", ms_info_output, NULL},
};

const ms_info_topic *ms_info_topics(int *count) {
  *count = (int)(sizeof topics / sizeof topics[0]);
  return topics;
}

const char ms_usage_info[] =
    "usage: matscreen info [TOPIC [ARGS]] [--json]\n"
    "\n"
    "Show the built-in data matscreen uses. 'matscreen info' alone lists the topics.\n"
    "\n"
    "examples:\n"
    "  matscreen info elements            all elements\n"
    "  matscreen info elements Ti O       selected elements\n"
    "  matscreen info species Ti4+ O2-    Shannon radii of these ions at every tabulated CN\n"
    "  matscreen info species Fe          radii of every tabulated iron ion\n"
    "\n"
    "options:\n"
    "  --json    print one JSON object on stdout (units in the key names)\n";

/* ---- output helpers -------------------------------------------------------------------- */

/* Shortest "%.*g" text that reads back as the same double, so JSON carries 0.605 and not
 * 0.60499999999999998. */
static const char *num_text(double v, char *buf, size_t len) {
  for (int prec = 6; prec <= 17; ++prec) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

static void put_num(double v) {
  char buf[32];
  fputs(num_text(v, buf, sizeof buf), stdout);
}

/* Strings here are element names, symbols and source notes: escape what JSON requires. */
static void put_str(const char *s) {
  putchar('"');
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void put_int_list(const int *v, int n) {
  putchar('[');
  for (int k = 0; k < n; ++k) printf("%s%d", k ? ", " : "", v[k]);
  putchar(']');
}

static const char *spin_name(ms_spin s) {
  return s == MS_SPIN_HIGH ? "high" : s == MS_SPIN_LOW ? "low" : "none";
}

/* Shannon's label for a CN: roman numeral plus "SQ"/"PY" (e.g. "IVSQ"). */
static const char *cn_label(const ms_shannon_radius *r, char *buf, size_t len) {
  static const char *const roman[] = {"",   "I",   "II",   "III", "IV",  "V",    "VI",  "VII",
                                      "VIII", "IX", "X",  "XI",  "XII", "XIII", "XIV"};
  const char *rn = (r->cn >= 1 && r->cn <= 14) ? roman[r->cn] : "?";
  snprintf(buf, len, "%s%s", rn, r->square_planar ? "SQ" : r->pyramidal ? "PY" : "");
  return buf;
}

/* Agree on a failure across ranks, print it once, and return the exit code. */
static int finish(ms_err e) {
  e = ms_err_agree(MPI_COMM_WORLD, e);
  fflush(stdout);
  return ms_app_report(e);
}

/* ---- elements ---------------------------------------------------------------------------- */

static ms_err element_arg(const char *text, const ms_element **out) {
  *out = ms_element_by_symbol(text);
  if (*out) return MS_SUCCESS;
  /* Accept an ion too ("Ti4+" -> Ti), since that is what users have at hand. */
  ms_species sp;
  if (ms_species_parse(text, &sp) == MS_SUCCESS) {
    *out = ms_element_by_z(sp.Z);
    return MS_SUCCESS;
  }
  ms_err_clear();
  MS_FAIL(MS_ERR_INPUT, "info elements: unknown element symbol '%s'", text);
}

static void print_element_text(const ms_element *el) {
  char x[16] = "-", ox[64] = "", mass[32];
  if (!isnan(el->electronegativity)) snprintf(x, sizeof x, "%.2f", el->electronegativity);
  size_t used = 0;
  for (int k = 0; k < el->n_common_ox && used < sizeof ox; ++k) {
    int w = snprintf(ox + used, sizeof ox - used, "%s%+d", k ? " " : "", el->common_ox[k]);
    if (w > 0) used += (size_t)w;
  }
  /* The mass in full: it is what the program uses (dynamics, densities). */
  printf("%3d  %-3s  %-13s  %10s  %5s  %s\n", el->Z, el->symbol, el->name,
         num_text(el->mass, mass, sizeof mass), x, used ? ox : "-");
}

static void print_element_json(const ms_element *el) {
  printf("{\"Z\": %d, \"symbol\": ", el->Z);
  put_str(el->symbol);
  fputs(", \"name\": ", stdout);
  put_str(el->name);
  fputs(", \"mass_u\": ", stdout);
  put_num(el->mass);
  fputs(", \"electronegativity_pauling\": ", stdout);
  if (isnan(el->electronegativity))
    fputs("null", stdout);
  else
    put_num(el->electronegativity);
  fputs(", \"common_oxidation_states\": ", stdout);
  put_int_list(el->common_ox, el->n_common_ox);
  fputs(", \"oxidation_states\": ", stdout);
  put_int_list(el->ox, el->n_ox);
  putchar('}');
}

static int info_elements(int argc, char **argv, int json) {
  /* Selected elements (argv[1..]) or all of them, in the order given. */
  const ms_element *sel[MS_MAX_Z];
  int n = 0;
  ms_err e = MS_SUCCESS;
  if (argc > 1) {
    for (int k = 1; k < argc && e == MS_SUCCESS; ++k) {
      const ms_element *el = NULL;
      e = element_arg(argv[k], &el);
      if (e == MS_SUCCESS && n < MS_MAX_Z) sel[n++] = el;
    }
  } else {
    for (int z = 1; z <= MS_MAX_Z; ++z)
      if (ms_element_by_z(z)) sel[n++] = ms_element_by_z(z);
  }
  if (e != MS_SUCCESS || ms_app_rank() != 0) return finish(e);

  if (json) {
    fputs("{\"source\": ", stdout);
    put_str(ms_elements_source());
    fputs(", \"elements\": [", stdout);
    for (int k = 0; k < n; ++k) {
      fputs(k ? ",\n  " : "\n  ", stdout);
      print_element_json(sel[k]);
    }
    fputs("\n]}\n", stdout);
  } else {
    printf("# mass in u; X = Pauling electronegativity ('-' where none is tabulated)\n"
           "# source: %s\n"
           "  Z  sym  name                 mass      X  common oxidation states\n",
           ms_elements_source());
    for (int k = 0; k < n; ++k) print_element_text(sel[k]);
  }
  return finish(MS_SUCCESS);
}

/* ---- species ----------------------------------------------------------------------------- */

typedef struct {
  int Z, ox;
} ion;

/* Ions named by one argument: "Ti4+" is one ion; a bare "Fe" is every tabulated Fe ion. */
static ms_err ions_of_arg(const char *text, ion *out, int cap, int *n) {
  ms_species sp;
  MS_CALL(ms_species_parse(text, &sp));
  size_t count = 0;
  const ms_shannon_radius *t = ms_shannon_table(&count);
  if (!sp.has_ox) {
    int last = 1000;
    for (size_t k = 0; k < count; ++k) {
      if (t[k].Z != sp.Z || t[k].ox == last) continue;
      MS_CHECK(*n < cap, MS_ERR_INPUT, "info species: too many ions (at most %d)", cap);
      out[(*n)++] = (ion){sp.Z, t[k].ox};
      last = t[k].ox;
    }
    MS_CHECK(last != 1000, MS_ERR_INPUT, "info species: no Shannon radii for any ion of %s",
             ms_element_by_z(sp.Z)->symbol);
    return MS_SUCCESS;
  }
  MS_CHECK(sp.ox == nearbyint(sp.ox), MS_ERR_INPUT,
           "info species: %s has a fractional oxidation state; Shannon radii exist only for "
           "integer states",
           text);
  /* The lookup gives the same "no Shannon radius for ... (tabulated ions: ...)" message as
   * everywhere else in the program when the ion is not tabulated. */
  ms_shannon_radius r;
  MS_CALL(ms_shannon_lookup(sp.Z, (int)sp.ox, 6, MS_SPIN_NONE, &r, NULL));
  MS_CHECK(*n < cap, MS_ERR_INPUT, "info species: too many ions (at most %d)", cap);
  out[(*n)++] = (ion){sp.Z, (int)sp.ox};
  return MS_SUCCESS;
}

static void print_ion(const ion *io, int json, int first) {
  size_t count = 0;
  const ms_shannon_radius *t = ms_shannon_table(&count);
  char name[32], label[16];
  ms_species sp = {io->Z, 1, io->ox};
  ms_species_format(&sp, name, sizeof name);
  if (json) {
    fputs(first ? "\n  " : ",\n  ", stdout);
    fputs("{\"species\": ", stdout);
    put_str(name);
    fputs(", \"element\": ", stdout);
    put_str(ms_element_by_z(io->Z)->symbol);
    printf(", \"Z\": %d, \"oxidation_state\": %d, \"radii\": [", io->Z, io->ox);
  }
  int nr = 0;
  for (size_t k = 0; k < count; ++k) {
    const ms_shannon_radius *r = &t[k];
    if (r->Z != io->Z || r->ox != io->ox) continue;
    cn_label(r, label, sizeof label);
    if (json) {
      printf("%s{\"cn\": %d, \"label\": ", nr ? ", " : "", r->cn);
      put_str(label);
      printf(", \"square_planar\": %s, \"pyramidal\": %s, \"spin\": \"%s\", ",
             r->square_planar ? "true" : "false", r->pyramidal ? "true" : "false",
             spin_name(r->spin));
      fputs("\"ionic_radius_A\": ", stdout);
      put_num(r->ionic);
      fputs(", \"crystal_radius_A\": ", stdout);
      put_num(r->crystal);
      putchar('}');
    } else {
      printf("%-7s %3d  %-6s %-5s %7.3f %8.3f\n", name, r->cn, label,
             r->spin == MS_SPIN_NONE ? "-" : spin_name(r->spin), r->ionic, r->crystal);
    }
    ++nr;
  }
  if (json) fputs("]}", stdout);
}

static int info_species(int argc, char **argv, int json) {
  enum { MAX_IONS = 1024 };
  ion *ions = calloc(MAX_IONS, sizeof *ions);
  int n = 0;
  ms_err e = MS_SUCCESS;
  if (!ions) {
    e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  } else if (argc > 1) {
    for (int k = 1; k < argc && e == MS_SUCCESS; ++k) e = ions_of_arg(argv[k], ions, MAX_IONS, &n);
  } else {
    /* Every tabulated ion, in table order (Z, then oxidation state). */
    size_t count = 0;
    const ms_shannon_radius *t = ms_shannon_table(&count);
    for (size_t k = 0; k < count && n < MAX_IONS; ++k)
      if (n == 0 || ions[n - 1].Z != t[k].Z || ions[n - 1].ox != t[k].ox)
        ions[n++] = (ion){t[k].Z, t[k].ox};
  }
  if (e == MS_SUCCESS && ms_app_rank() == 0) {
    if (json) {
      fputs("{\"source\": ", stdout);
      put_str(ms_elements_source());
      fputs(", \"species\": [", stdout);
    } else {
      printf("# Shannon radii in Å by coordination number CN (label: Shannon's, SQ = square "
             "planar,\n# PY = pyramidal); spin '-' = not spin-dependent\n# source: %s\n"
             "ion      CN  label  spin    ionic  crystal\n",
             ms_elements_source());
    }
    for (int k = 0; k < n; ++k) print_ion(&ions[k], json, k == 0);
    if (json) fputs("\n]}\n", stdout);
  }
  free(ions);
  return finish(e);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static void list_topics(FILE *fp) {
  fprintf(fp, "topics (matscreen info TOPIC [ARGS] [--json]):\n");
  for (size_t k = 0; k < sizeof topics / sizeof topics[0]; ++k) {
    char head[64];
    snprintf(head, sizeof head, "%s %s", topics[k].name, topics[k].args ? topics[k].args : "");
    fprintf(fp, "  %-28s %s\n", head, topics[k].summary);
  }
}

int ms_cmd_info(int argc, char **argv) {
  /* Take the options out wherever they are, so "info --json species Ti4+" and
   * "info species Ti4+ --json" both work; what is left is TOPIC ARGS. */
  int json = 0, n = 0;
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  if (!rest) return finish(ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  for (int k = 1; k < argc; ++k) {
    if (strcmp(argv[k], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
      if (ms_app_rank() == 0) {
        fputs(ms_usage_info, stdout);
        putchar('\n');
        list_topics(stdout);
      }
      free(rest);
      return 0;
    } else if (argv[k][0] == '-' && argv[k][1] == '-') {
      free(rest);
      return ms_app_usage_error("info", "unknown option '%s'", argv[k]);
    } else {
      rest[n++] = argv[k];
    }
  }

  int code;
  if (n == 0) {
    if (ms_app_rank() == 0) list_topics(stdout);
    code = 0;
  } else {
    const ms_info_topic *topic = NULL;
    for (size_t k = 0; k < sizeof topics / sizeof topics[0]; ++k)
      if (strcmp(topics[k].name, rest[0]) == 0) topic = &topics[k];
    if (topic) {
      code = topic->run(n, rest, json);
    } else {
      const char *names[sizeof topics / sizeof topics[0] + 1];
      for (size_t k = 0; k < sizeof topics / sizeof topics[0]; ++k) names[k] = topics[k].name;
      names[sizeof topics / sizeof topics[0]] = NULL;
      const char *hint = ms_suggest(rest[0], names);
      char list[256] = "";
      size_t used = 0;
      for (size_t k = 0; names[k] && used < sizeof list; ++k) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
        if (w > 0) used += (size_t)w;
      }
      if (hint)
        code = ms_app_usage_error("info", "unknown topic '%s' (did you mean '%s'?); topics: %s",
                                  rest[0], hint, list);
      else
        code = ms_app_usage_error("info", "unknown topic '%s'; topics: %s", rest[0], list);
    }
  }
  free(rest);
  return code;
}
