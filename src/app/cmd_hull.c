/* `matscreen hull ENTRIES.csv`: energies above the convex hull, formation energies and
 * decompositions of a set of entries (formula, energy per atom).
 *
 * The CSV needs a header naming the columns; `formula` and `energy_per_atom_eV` are required,
 * `id` is optional (default: the entry's line number), other columns are ignored. Fields may
 * be double-quoted ("" inside quotes is a quote); blank lines and lines starting with '#' are
 * skipped. Any problem is reported as FILE:LINE: what is wrong, with exit code 1.
 *
 * The hull is small work next to reading the file, so rank 0 does everything and the other
 * ranks only take part in the error agreement. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/hull.h"
#include "matscreen/log.h"

const char ms_usage_hull[] =
    "usage: matscreen hull ENTRIES.csv [options]\n"
    "\n"
    "Thermodynamic stability of a set of phases: the lower convex hull of energy per atom over\n"
    "composition, for any number of elements. For every entry: energy above the hull, formation\n"
    "energy per atom relative to the elemental (or end-member) references, and the decomposition\n"
    "into stable phases (hull vertices) with atom fractions; and the set of stable entries.\n"
    "\n"
    "ENTRIES.csv has a header line with at least the columns\n"
    "  formula             e.g. SrTiO3, Sr2TiO4, O2, Ca(OH)2, Li0.5CoO2\n"
    "  energy_per_atom_eV  energy per atom in eV\n"
    "and optionally `id` (default: the line number). Other columns are ignored. Every element\n"
    "(or end member) needs an entry of its own composition, its reference.\n"
    "\n"
    "options:\n"
    "  --end-members A,B,...  use these compositions as components instead of the elements\n"
    "                         (e.g. SrO,TiO2 when elemental energies are not available, as in\n"
    "                         ionic-model screens); entries must be mixtures of them\n"
    "  --json                 one JSON object: components, references, stable (ids), and\n"
    "                         entries with id, line, formula, energy_per_atom_eV,\n"
    "                         formation_energy_eV_per_atom, e_above_hull_eV_per_atom,\n"
    "                         hull_energy_eV_per_atom, stable, decomposition [{id, formula,\n"
    "                         fraction}], then time_s (reading and hull) and hull_time_s\n"
    "\n"
    "Method, tolerances and the physics of ionic-model hulls: docs/stability.md.\n"
    "\n"
    "example:\n"
    "  matscreen hull entries.csv --json > hull.json\n";

typedef struct {
  char *text; /* file contents (fields point into it after splitting) */
  size_t n, cap;
  char **id, **formula;
  double *energy;
  int *line;
  int own_ids; /* ids made from line numbers are allocated */
} table;

static void table_free(table *t) {
  if (t->own_ids)
    for (size_t i = 0; i < t->n; ++i) free(t->id[i]);
  free(t->id);
  free(t->formula);
  free(t->energy);
  free(t->line);
  free(t->text);
  memset(t, 0, sizeof *t);
}

static ms_err read_file(const char *path, char **out, size_t *len) {
  FILE *fp = fopen(path, "rb");
  MS_CHECK(fp, MS_ERR_FILE, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    fclose(fp);
    MS_FAIL(MS_ERR_MEM, "out of memory reading %s", path);
  }
  for (;;) {
    if (n + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        fclose(fp);
        MS_FAIL(MS_ERR_MEM, "out of memory reading %s", path);
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - 1 - n, fp);
    n += got;
    if (got == 0) break;
  }
  int bad = ferror(fp);
  fclose(fp);
  if (bad) {
    free(buf);
    MS_FAIL(MS_ERR_FILE, "%s: read error", path);
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return MS_SUCCESS;
}

/* Split one CSV record in place (the line is NUL-terminated); fields are trimmed. */
static ms_err split_fields(char *s, char **fields, int maxf, int *nf, const char *path, int line) {
  int n = 0;
  char *p = s;
  for (;;) {
    while (*p == ' ' || *p == '\t') ++p;
    char *start = p, *w = p;
    if (*p == '"') {
      ++p;
      start = w = p;
      for (;;) {
        MS_CHECK(*p, MS_ERR_INPUT, "%s:%d: unterminated quoted field", path, line);
        if (*p == '"') {
          if (p[1] == '"') {
            *w++ = '"';
            p += 2;
            continue;
          }
          ++p;
          break;
        }
        *w++ = *p++;
      }
      while (*p == ' ' || *p == '\t') ++p;
      MS_CHECK(*p == ',' || *p == '\0', MS_ERR_INPUT, "%s:%d: text after a closing quote", path, line);
    } else {
      while (*p && *p != ',') ++p;
      w = p;
      while (w > start && (w[-1] == ' ' || w[-1] == '\t')) --w;
    }
    char end = *p; /* ',' or the end of the line; saved before *w (maybe == p) is cleared */
    *w = '\0';
    MS_CHECK(n < maxf, MS_ERR_INPUT, "%s:%d: more than %d fields", path, line, maxf);
    fields[n++] = start;
    if (end != ',') break;
    ++p;
  }
  *nf = n;
  return MS_SUCCESS;
}

#define MAXF 256

static ms_err parse_csv(const char *path, table *t) {
  size_t len = 0;
  MS_CALL(read_file(path, &t->text, &len));
  MS_CHECK(strlen(t->text) == len, MS_ERR_INPUT, "%s: the file contains a NUL byte (not a text file)", path);
  char *p = t->text;
  int line = 0, header_line = 0;
  int col_formula = -1, col_energy = -1, col_id = -1, ncols = 0;
  char *fields[MAXF];
  while (*p) {
    char *eol = strchr(p, '\n');
    char *next = eol ? eol + 1 : p + strlen(p);
    if (eol) *eol = '\0';
    if (eol && eol > p && eol[-1] == '\r') eol[-1] = '\0';
    ++line;
    char *s = p;
    p = next;
    while (*s == ' ' || *s == '\t') ++s;
    if (*s == '\0' || *s == '#') continue;
    /* A UTF-8 byte-order mark in front of the header is common in spreadsheet exports. */
    if (!header_line && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF) s += 3;
    int nf = 0;
    MS_CALL(split_fields(s, fields, MAXF, &nf, path, line));
    if (!header_line) {
      header_line = line;
      ncols = nf;
      for (int k = 0; k < nf; ++k) {
        const char *name = fields[k];
        int *slot = strcmp(name, "formula") == 0 ? &col_formula
                    : strcmp(name, "energy_per_atom_eV") == 0 ? &col_energy
                    : strcmp(name, "id") == 0 ? &col_id
                    : NULL;
        if (!slot) continue;
        MS_CHECK(*slot < 0, MS_ERR_INPUT, "%s:%d: column '%s' appears twice", path, line, name);
        *slot = k;
      }
      MS_CHECK(col_formula >= 0, MS_ERR_INPUT,
               "%s:%d: missing column 'formula' (the header needs formula,energy_per_atom_eV[,id])", path, line);
      MS_CHECK(col_energy >= 0, MS_ERR_INPUT,
               "%s:%d: missing column 'energy_per_atom_eV' (the header needs formula,energy_per_atom_eV[,id])",
               path, line);
      continue;
    }
    MS_CHECK(nf == ncols, MS_ERR_INPUT, "%s:%d: %d field%s, but the header at line %d has %d", path, line,
             nf, nf == 1 ? "" : "s", header_line, ncols);
    if (t->n == t->cap) {
      size_t cap = t->cap ? 2 * t->cap : 1024;
      MS_CALL(MS_REALLOC(cap, &t->id));
      MS_CALL(MS_REALLOC(cap, &t->formula));
      MS_CALL(MS_REALLOC(cap, &t->energy));
      MS_CALL(MS_REALLOC(cap, &t->line));
      t->cap = cap;
    }
    const char *etext = fields[col_energy];
    char *end = NULL;
    errno = 0;
    double e = strtod(etext, &end);
    MS_CHECK(*etext && end && *end == '\0' && isfinite(e), MS_ERR_INPUT,
             "%s:%d: energy_per_atom_eV '%s' is not a finite number", path, line, etext);
    MS_CHECK(fields[col_formula][0], MS_ERR_INPUT, "%s:%d: empty formula", path, line);
    t->formula[t->n] = fields[col_formula];
    t->id[t->n] = col_id >= 0 ? fields[col_id] : NULL;
    t->energy[t->n] = e;
    t->line[t->n] = line;
    t->n++;
  }
  MS_CHECK(header_line, MS_ERR_INPUT, "%s:1: empty file (a header formula,energy_per_atom_eV[,id] is required)", path);
  MS_CHECK(t->n > 0, MS_ERR_INPUT, "%s:%d: no entries after the header", path, header_line);
  if (col_id < 0) {
    t->own_ids = 1;
    for (size_t i = 0; i < t->n; ++i) {
      char buf[32];
      snprintf(buf, sizeof buf, "%d", t->line[i]);
      t->id[i] = strdup(buf);
      MS_CHECK(t->id[i], MS_ERR_MEM, "out of memory");
    }
  }
  return MS_SUCCESS;
}

static ms_err parse_end_members(const char *list, ms_composition *out, int *n) {
  char buf[1024];
  MS_CHECK(strlen(list) < sizeof buf, MS_ERR_USAGE, "--end-members list is too long");
  snprintf(buf, sizeof buf, "%s", list);
  *n = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (isspace((unsigned char)*tok)) ++tok;
    char *e = tok + strlen(tok);
    while (e > tok && isspace((unsigned char)e[-1])) *--e = '\0';
    MS_CHECK(*n < MS_HULL_MAX_COMPONENTS, MS_ERR_USAGE, "--end-members: at most %d end members",
             MS_HULL_MAX_COMPONENTS);
    ms_err err = ms_composition_parse(tok, &out[*n]);
    if (err) MS_FAIL(MS_ERR_USAGE, "--end-members: %s", ms_err_message());
    ++*n;
  }
  MS_CHECK(*n > 0, MS_ERR_USAGE, "--end-members needs at least one composition");
  return MS_SUCCESS;
}

/* Copy @p msg replacing every "entry N" by "line L" of entry N. */
static void translate_entries(const char *msg, const table *t, char *out, size_t len) {
  size_t o = 0;
  const char *p = msg;
  while (*p && o + 1 < len) {
    if (strncmp(p, "entry ", 6) == 0 && isdigit((unsigned char)p[6])) {
      char *end = NULL;
      unsigned long long k = strtoull(p + 6, &end, 10);
      if (k < t->n) {
        int w = snprintf(out + o, len - o, "line %d", t->line[k]);
        if (w < 0 || (size_t)w >= len - o) break;
        o += (size_t)w;
        p = end;
        continue;
      }
    }
    out[o++] = *p++;
  }
  out[o] = '\0';
}

static ms_err run_hull(const char *path, const char *end_members, int json) {
  table t;
  memset(&t, 0, sizeof t);
  ms_hull h = NULL;
  ms_jbuf b;
  ms_jb_init(&b);
  double t0 = MPI_Wtime();
  ms_err e = parse_csv(path, &t);
  if (!e) e = ms_hull_create(&h);
  if (!e && end_members) {
    ms_composition em[MS_HULL_MAX_COMPONENTS];
    int nem = 0;
    e = parse_end_members(end_members, em, &nem);
    if (!e) e = ms_hull_set_end_members(h, nem, em);
  }
  for (size_t i = 0; i < t.n && !e; ++i) {
    ms_composition c;
    e = ms_composition_parse(t.formula[i], &c);
    if (e) {
      char msg[512];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s:%d: %s", path, t.line[i], msg);
      break;
    }
    e = ms_hull_add(h, &c, t.energy[i], NULL);
  }
  double t1 = MPI_Wtime();
  if (!e) {
    e = ms_hull_compute(h);
    if (e) {
      /* Name the file; the library names entries by index ("entry 12"), which the user
       * knows as a line of the CSV. */
      char msg[1024];
      translate_entries(ms_err_message(), &t, msg, sizeof msg);
      e = ms__err_set(e, __FILE__, __LINE__, __func__, "%s: %s", path, msg);
    }
  }
  double t2 = MPI_Wtime(), seconds = t2 - t0, hull_seconds = t2 - t1;
  if (!e) {
    size_t nst = 0;
    const size_t *st = ms_hull_stable(h, &nst);
    int C = ms_hull_ncomponents(h);
    ms_hull_result r;
    if (json) {
      ms_jb_raw(&b, "{");
      ms_jb_key(&b, "file", 1);
      ms_jb_str(&b, path);
      ms_jb_key(&b, "n_entries", 0);
      ms_jb_printf(&b, "%zu", t.n);
      ms_jb_key(&b, "components", 0);
      ms_jb_raw(&b, "[");
      for (int k = 0; k < C; ++k) {
        if (k) ms_jb_raw(&b, ", ");
        ms_jb_str(&b, ms_hull_component_name(h, k));
      }
      ms_jb_raw(&b, "]");
      ms_jb_key(&b, "references", 0);
      ms_jb_raw(&b, "[");
      for (int k = 0; k < C; ++k) {
        size_t ref = ms_hull_reference(h, k);
        ms_jb_raw(&b, k ? ", {" : "{");
        ms_jb_key(&b, "component", 1);
        ms_jb_str(&b, ms_hull_component_name(h, k));
        ms_jb_key(&b, "id", 0);
        ms_jb_str(&b, t.id[ref]);
        ms_jb_key(&b, "energy_per_atom_eV", 0);
        ms_jb_num(&b, t.energy[ref]);
        ms_jb_raw(&b, "}");
      }
      ms_jb_raw(&b, "]");
      ms_jb_key(&b, "stable", 0);
      ms_jb_raw(&b, "[");
      for (size_t s = 0; s < nst; ++s) {
        if (s) ms_jb_raw(&b, ", ");
        ms_jb_str(&b, t.id[st[s]]);
      }
      ms_jb_raw(&b, "]");
      ms_jb_key(&b, "entries", 0);
      ms_jb_raw(&b, "[\n");
      for (size_t i = 0; i < t.n && !e; ++i) {
        e = ms_hull_result_get(h, i, &r);
        if (e) break;
        ms_jb_raw(&b, i ? ",\n{" : "{");
        ms_jb_key(&b, "id", 1);
        ms_jb_str(&b, t.id[i]);
        ms_jb_key(&b, "line", 0);
        ms_jb_printf(&b, "%d", t.line[i]);
        ms_jb_key(&b, "formula", 0);
        ms_jb_str(&b, t.formula[i]);
        ms_jb_key(&b, "energy_per_atom_eV", 0);
        ms_jb_num(&b, t.energy[i]);
        ms_jb_key(&b, "formation_energy_eV_per_atom", 0);
        ms_jb_num(&b, r.formation_energy);
        ms_jb_key(&b, "e_above_hull_eV_per_atom", 0);
        ms_jb_num(&b, r.e_above_hull);
        ms_jb_key(&b, "hull_energy_eV_per_atom", 0);
        ms_jb_num(&b, r.hull_energy);
        ms_jb_key(&b, "stable", 0);
        ms_jb_raw(&b, r.stable ? "true" : "false");
        ms_jb_key(&b, "decomposition", 0);
        ms_jb_raw(&b, "[");
        for (int k = 0; k < r.ndecomp; ++k) {
          ms_jb_raw(&b, k ? ", {" : "{");
          ms_jb_key(&b, "id", 1);
          ms_jb_str(&b, t.id[r.decomp[k]]);
          ms_jb_key(&b, "formula", 0);
          ms_jb_str(&b, t.formula[r.decomp[k]]);
          ms_jb_key(&b, "fraction", 0);
          ms_jb_num(&b, r.fraction[k]);
          ms_jb_raw(&b, "}");
        }
        ms_jb_raw(&b, "]}");
      }
      ms_jb_raw(&b, "\n]");
      ms_jb_key(&b, "time_s", 0);
      ms_jb_num(&b, seconds);
      ms_jb_key(&b, "hull_time_s", 0);
      ms_jb_num(&b, hull_seconds);
      ms_jb_raw(&b, "}\n");
    } else {
      ms_jb_printf(&b, "%s: %zu entries, components", path, t.n);
      for (int k = 0; k < C; ++k) ms_jb_printf(&b, " %s", ms_hull_component_name(h, k));
      ms_jb_printf(&b, "\nstable (%zu):", nst);
      for (size_t s = 0; s < nst; ++s) ms_jb_printf(&b, " %s (%s)", t.formula[st[s]], t.id[st[s]]);
      ms_jb_printf(&b, "\n\n%-12s %-16s %14s %14s %14s  %s\n", "id", "formula", "E (eV/atom)", "E_form",
                   "E_above_hull", "decomposition");
      for (size_t i = 0; i < t.n && !e; ++i) {
        e = ms_hull_result_get(h, i, &r);
        if (e) break;
        ms_jb_printf(&b, "%-12s %-16s %14.6f %14.6f %14.6f  ", t.id[i], t.formula[i], t.energy[i],
                     r.formation_energy, r.e_above_hull);
        if (r.stable) {
          ms_jb_raw(&b, "stable");
        } else {
          for (int k = 0; k < r.ndecomp; ++k)
            ms_jb_printf(&b, "%s%.4f %s", k ? " + " : "", r.fraction[k], t.formula[r.decomp[k]]);
        }
        ms_jb_raw(&b, "\n");
      }
      ms_jb_printf(&b, "\ntime %.3f s (hull %.3f s, the rest reading the file)\n", seconds, hull_seconds);
    }
    if (!e && b.oom) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory formatting the results");
    if (!e) {
      fwrite(b.s, 1, b.n, stdout);
      fflush(stdout);
    }
  }
  ms_jb_free(&b);
  ms_hull_destroy(&h);
  table_free(&t);
  return e;
}

int ms_cmd_hull(int argc, char **argv) {
  const char *path = NULL, *end_members = NULL;
  int json = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (ms_app_opt_is(a, "--end-members", NULL)) {
      const char *v = ms_app_opt_value(argc, argv, &i, "hull");
      if (!v) return 1;
      end_members = v;
    } else if (a[0] == '-' && a[1] != '\0') {
      return ms_app_usage_error("hull", "unknown option '%s'", a);
    } else if (path) {
      return ms_app_usage_error("hull", "takes one ENTRIES.csv file, got '%s' and '%s'", path, a);
    } else {
      path = a;
    }
  }
  if (!path) return ms_app_usage_error("hull", "no ENTRIES.csv file given");
  ms_err e = MS_SUCCESS;
  if (ms_app_rank() == 0) e = run_hull(path, end_members, json);
  return ms_app_report(ms_err_agree(MPI_COMM_WORLD, e));
}
