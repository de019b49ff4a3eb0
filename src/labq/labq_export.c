/* Lab queue: exports in the formats labs already read.
 *
 * - csv, json: every ticket with every column (the JSON objects are those of claim and list).
 * - nimo: the files of NIMO (NIMS-OS, github.com/NIMS-DA/nimo), whose candidates file is all
 *   numbers, descriptors first and the objective columns last, empty where nothing has been
 *   measured; its proposals file starts with an "actions" column holding the 0-based row of
 *   the candidates file, followed by that row's descriptors. NIMO reads the candidates file with
 *   numpy.genfromtxt, so no text may appear in it: the ticket behind each row is in tickets.csv.
 * - alabos: one JSON document whose experiments have the shape AlabOS's ExperimentBuilder
 *   produces (github.com/CederGroupHub/alabos: name, tags, metadata, samples, and tasks with
 *   type, parameters, prev_tasks as indices into the task list, samples by name).
 *
 * Every file is written under a temporary name in its directory and renamed, so a reader never
 * sees half a file; like the database, exports are created owner-only (they say what a lab will
 * make next). docs/labqueue.md shows each format with an example. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "labq_impl.h"
#include "matscreen/hull.h"
#include "matscreen/paths.h"
#include "matscreen/species.h"

/* Placeholder furnace program for the AlabOS Heating task (its parameters: heating_temperature
 * in degrees C, heating_time in minutes). Real values depend on the chemistry; the lab sets them. */

ms_err ms_labq_export_format_parse(const char *name, ms_labq_export_format *out) {
  static const char *const names[] = {"csv", "json", "nimo", "alabos"};
  for (int k = 0; k < 4; ++k)
    if (name && strcmp(name, names[k]) == 0) {
      *out = (ms_labq_export_format)k;
      return MS_SUCCESS;
    }
  MS_FAIL(MS_ERR_INPUT, "unknown export format '%s' (nimo, alabos, csv, json)", name ? name : "");
}

typedef ms_err (*writer_fn)(FILE *fp, void *ctx);

/* Write @p path through @p fn into a temporary file of the same directory, then rename it. */
static ms_err write_atomic(const char *path, writer_fn fn, void *ctx) {
  MS_CALL(ms_make_parent_dirs(path));
  size_t len = strlen(path);
  char *tmp = malloc(len + 16);
  MS_CHECK(tmp, MS_ERR_MEM, "out of memory");
  snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    ms_err e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: cannot create: %s", path, strerror(errno));
    free(tmp);
    return e;
  }
  FILE *fp = fdopen(fd, "w");
  ms_err e = fp ? fn(fp, ctx) : ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: %s", path, strerror(errno));
  if (!fp) close(fd);
  if (fp) {
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad)
      if (!e) e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: write error (disk full?)", path);
  }
  if (!e && rename(tmp, path) != 0)
    e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "cannot rename %s to %s: %s", tmp, path,
                    strerror(errno));
  if (e) unlink(tmp);
  free(tmp);
  return e;
}

/* ------------------------------------------------------------------------------------------ */
/* csv and json: every column */

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_str(FILE *fp, const char *s) {
  if (!s) return;
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, fp);
    return;
  }
  fputc('"', fp);
  for (; *s; ++s) {
    if (*s == '"') fputc('"', fp);
    fputc(*s, fp);
  }
  fputc('"', fp);
}

/* Shortest round-tripping number; empty for NaN (unknown). */
static void csv_num(FILE *fp, double v) {
  char buf[40];
  if (isfinite(v)) fputs(ms_num_text(v, buf, sizeof buf), fp);
}

typedef struct {
  const ms_labq_ticket *t;
  size_t n;
  const ms_labq_export_options *opt; /* NULL: the defaults */
} ticket_set;

static ms_err write_csv(FILE *fp, void *vctx) {
  const ticket_set *s = vctx;
  fputs("id,campaign,round,candidate_id,formula,prototype,spacegroup,novelty,known_match,priority,score,"
        "e_above_hull_eV_per_atom,uncertainty_eV_per_atom,precursors,xrd,status,worker,claims,lease_expires,"
        "created,claimed_at,reported_at,outcome,phase_fraction,notes,cif\n",
        fp);
  for (size_t k = 0; k < s->n; ++k) {
    const ms_labq_ticket *t = &s->t[k];
    fprintf(fp, "%lld,", (long long)t->id);
    csv_str(fp, t->campaign);
    fprintf(fp, ",%lld,%lld,", (long long)t->round, (long long)t->candidate_id);
    csv_str(fp, t->formula);
    fputc(',', fp);
    csv_str(fp, t->prototype);
    fprintf(fp, ",%d,", t->spacegroup);
    csv_str(fp, t->novelty);
    fputc(',', fp);
    csv_str(fp, t->known_match);
    fprintf(fp, ",%d,", t->priority);
    csv_num(fp, t->score);
    fputc(',', fp);
    csv_num(fp, t->e_above_hull_eV_per_atom);
    fputc(',', fp);
    csv_num(fp, t->uncertainty_eV_per_atom);
    fputc(',', fp);
    csv_str(fp, t->precursors);
    fputc(',', fp);
    csv_str(fp, t->xrd);
    fputc(',', fp);
    csv_str(fp, ms_labq_status_name(t->status));
    fputc(',', fp);
    csv_str(fp, t->worker);
    fprintf(fp, ",%d,", t->claims);
    const double times[] = {t->lease_expires, t->created, t->claimed_at, t->reported_at};
    for (int j = 0; j < 4; ++j) {
      csv_num(fp, times[j]);
      fputc(',', fp);
    }
    csv_str(fp, ms_labq_outcome_name(t->outcome));
    fputc(',', fp);
    csv_num(fp, t->phase_fraction);
    fputc(',', fp);
    csv_str(fp, t->notes);
    fputc(',', fp);
    csv_str(fp, t->cif);
    fputc('\n', fp);
  }
  return MS_SUCCESS;
}

static ms_err write_json(FILE *fp, void *vctx) {
  const ticket_set *s = vctx;
  fputs("[", fp);
  for (size_t k = 0; k < s->n; ++k) {
    fputs(k ? ",\n" : "\n", fp);
    MS_CALL(ms_labq_ticket_json(fp, &s->t[k]));
  }
  fputs("\n]\n", fp);
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* nimo */

typedef struct {
  const ms_labq_ticket *t;
  size_t n;
  double (*x)[MS_MAX_Z + 1]; /* atom fraction of each element, per ticket */
  int z[MS_MAX_Z + 1], nz;   /* elements present anywhere, by atomic number */
  size_t *proposals, nprop;  /* queued tickets in claim order */
} nimo_ctx;

static void nimo_header(FILE *fp, const nimo_ctx *c) {
  for (int k = 0; k < c->nz; ++k) fprintf(fp, "%sx_%s", k ? "," : "", ms_element_by_z(c->z[k])->symbol);
  fputs(",e_above_hull_eV_per_atom,uncertainty_eV_per_atom,spacegroup", fp);
}

/* Descriptors must be numbers everywhere (NIMO: no empty cell); unknown values become 0. */
static void nimo_descriptors(FILE *fp, const nimo_ctx *c, size_t i) {
  const ms_labq_ticket *t = &c->t[i];
  for (int k = 0; k < c->nz; ++k) {
    if (k) fputc(',', fp);
    csv_num(fp, c->x[i][c->z[k]]);
  }
  fputc(',', fp);
  csv_num(fp, isfinite(t->e_above_hull_eV_per_atom) ? t->e_above_hull_eV_per_atom : 0.0);
  fputc(',', fp);
  csv_num(fp, isfinite(t->uncertainty_eV_per_atom) ? t->uncertainty_eV_per_atom : 0.0);
  fprintf(fp, ",%d", t->spacegroup);
}

/* The objective: the measured phase fraction, or what the outcome alone says (failure: none of
 * the target; success: the target), empty while nothing (or only "partial") is known. */
static double nimo_objective(const ms_labq_ticket *t) {
  if (isfinite(t->phase_fraction)) return t->phase_fraction;
  if (t->outcome == MS_LABQ_FAILURE) return 0.0;
  if (t->outcome == MS_LABQ_SUCCESS) return 1.0;
  return NAN;
}

static ms_err write_nimo_candidates(FILE *fp, void *vctx) {
  const nimo_ctx *c = vctx;
  nimo_header(fp, c);
  fputs(",objective_phase_fraction\n", fp);
  for (size_t i = 0; i < c->n; ++i) {
    nimo_descriptors(fp, c, i);
    fputc(',', fp);
    csv_num(fp, nimo_objective(&c->t[i]));
    fputc('\n', fp);
  }
  return MS_SUCCESS;
}

static ms_err write_nimo_proposals(FILE *fp, void *vctx) {
  const nimo_ctx *c = vctx;
  fputs("actions,", fp);
  nimo_header(fp, c);
  fputc('\n', fp);
  for (size_t p = 0; p < c->nprop; ++p) {
    fprintf(fp, "%zu,", c->proposals[p]);
    nimo_descriptors(fp, c, c->proposals[p]);
    fputc('\n', fp);
  }
  return MS_SUCCESS;
}

static ms_err write_nimo_tickets(FILE *fp, void *vctx) {
  const nimo_ctx *c = vctx;
  fputs("action,ticket_id,campaign,round,candidate_id,formula,status,priority\n", fp);
  for (size_t i = 0; i < c->n; ++i) {
    const ms_labq_ticket *t = &c->t[i];
    fprintf(fp, "%zu,%lld,", i, (long long)t->id);
    csv_str(fp, t->campaign);
    fprintf(fp, ",%lld,%lld,", (long long)t->round, (long long)t->candidate_id);
    csv_str(fp, t->formula);
    fprintf(fp, ",%s,%d\n", ms_labq_status_name(t->status), t->priority);
  }
  return MS_SUCCESS;
}

/* Claim order: priority, then ticket id. */
static int claim_order(int pa, int64_t ia, int pb, int64_t ib) {
  if (pa != pb) return pa < pb ? -1 : 1;
  return (ia > ib) - (ia < ib);
}

typedef struct {
  int priority;
  int64_t id;
  size_t row;
} proposal;

static int cmp_proposals(const void *a, const void *b) {
  const proposal *x = a, *y = b;
  return claim_order(x->priority, x->id, y->priority, y->id);
}

static ms_err nimo_prepare(nimo_ctx *c) {
  c->x = calloc(c->n ? c->n : 1, sizeof *c->x);
  c->proposals = calloc(c->n ? c->n : 1, sizeof *c->proposals);
  MS_CHECK(c->x && c->proposals, MS_ERR_MEM, "out of memory");
  int present[MS_MAX_Z + 1] = {0};
  for (size_t i = 0; i < c->n; ++i) {
    ms_composition comp;
    ms_err e = ms_composition_parse(c->t[i].formula, &comp);
    if (e) MS_FAIL(MS_ERR_INPUT, "ticket %lld: %s", (long long)c->t[i].id, ms_err_message());
    double total = ms_composition_natoms(&comp);
    for (int k = 0; k < comp.n; ++k) {
      c->x[i][comp.sp[k].Z] += comp.amount[k] / total;
      present[comp.sp[k].Z] = 1;
    }
    if (c->t[i].status == MS_LABQ_QUEUED) c->proposals[c->nprop++] = i;
  }
  for (int z = 1; z <= MS_MAX_Z; ++z)
    if (present[z]) c->z[c->nz++] = z;
  proposal *p = malloc((c->nprop ? c->nprop : 1) * sizeof *p);
  MS_CHECK(p, MS_ERR_MEM, "out of memory");
  for (size_t k = 0; k < c->nprop; ++k) {
    const ms_labq_ticket *t = &c->t[c->proposals[k]];
    p[k] = (proposal){t->priority, t->id, c->proposals[k]};
  }
  qsort(p, c->nprop, sizeof *p, cmp_proposals);
  for (size_t k = 0; k < c->nprop; ++k) c->proposals[k] = p[k].row;
  free(p);
  return MS_SUCCESS;
}

static ms_err export_nimo(const ms_labq_ticket *t, size_t n, const char *dir) {
  MS_CALL(ms_make_dirs(dir));
  struct stat sb;
  MS_CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode), MS_ERR_FILE,
           "%s: not a directory (the nimo export writes candidates.csv, proposals.csv and tickets.csv into one)", dir);
  nimo_ctx c;
  memset(&c, 0, sizeof c);
  c.t = t;
  c.n = n;
  ms_err e = nimo_prepare(&c);
  const char *names[] = {"candidates.csv", "proposals.csv", "tickets.csv"};
  writer_fn fns[] = {write_nimo_candidates, write_nimo_proposals, write_nimo_tickets};
  for (int k = 0; k < 3 && !e; ++k) {
    size_t len = strlen(dir) + strlen(names[k]) + 2;
    char *path = malloc(len);
    if (!path) {
      e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
      break;
    }
    snprintf(path, len, "%s/%s", dir, names[k]);
    e = write_atomic(path, fns[k], &c);
    free(path);
  }
  free(c.x);
  free(c.proposals);
  return e;
}

/* ------------------------------------------------------------------------------------------ */
/* alabos */

/* AlabOS sample names may not contain '$' or '.'; spaces would only confuse. */
static void sample_name(const ms_labq_ticket *t, char *buf, size_t len) {
  snprintf(buf, len, "%s_r%lld_c%lld", t->campaign, (long long)t->round, (long long)t->candidate_id);
  for (char *p = buf; *p; ++p)
    if (*p == '$' || *p == '.' || *p == ' ' || *p == '\t') *p = '_';
}

static void key(FILE *fp, const char *k, int first) {
  if (!first) fputs(", ", fp);
  ms_json_fput_str(fp, k);
  fputs(": ", fp);
}

static void alabos_experiment(FILE *fp, const ms_labq_ticket *t, const ms_labq_export_options *o) {
  char sample[256], name[256], round_tag[48];
  sample_name(t, sample, sizeof sample);
  snprintf(name, sizeof name, "%s_ticket_%lld", t->campaign, (long long)t->id);
  snprintf(round_tag, sizeof round_tag, "round_%lld", (long long)t->round);
  fputs("  {", fp);
  key(fp, "name", 1);
  ms_json_fput_str(fp, name);
  key(fp, "tags", 0);
  fputs("[\"matscreen\", ", fp);
  ms_json_fput_str(fp, t->campaign);
  fputs(", ", fp);
  ms_json_fput_str(fp, round_tag);
  fputs("]", fp);
  key(fp, "metadata", 0);
  fprintf(fp, "{\"ticket_id\": %lld, \"priority\": %d, \"heating\": ", (long long)t->id, t->priority);
  char heating[256];
  snprintf(heating, sizeof heating,
           "%g C for %g min, the same for every experiment: the campaign's lab_queue.heating or queue export "
           "--heating-temperature/--heating-time (default %g C, %g min); check it for this chemistry",
           o->heating_temperature_C, o->heating_time_min, MS_LABQ_HEATING_TEMPERATURE_C, MS_LABQ_HEATING_TIME_MIN);
  ms_json_fput_str(fp, heating);
  fputs("}", fp);
  key(fp, "samples", 0);
  fputs("[{", fp);
  key(fp, "name", 1);
  ms_json_fput_str(fp, sample);
  key(fp, "tags", 0);
  fputs("[]", fp);
  key(fp, "metadata", 0);
  fputs("{", fp);
  key(fp, "target_formula", 1);
  ms_json_fput_str(fp, t->formula);
  key(fp, "ticket_id", 0);
  fprintf(fp, "%lld", (long long)t->id);
  key(fp, "campaign", 0);
  ms_json_fput_str(fp, t->campaign);
  key(fp, "round", 0);
  fprintf(fp, "%lld", (long long)t->round);
  key(fp, "candidate_id", 0);
  fprintf(fp, "%lld", (long long)t->candidate_id);
  key(fp, "prototype", 0);
  ms_json_fput_str(fp, t->prototype);
  key(fp, "spacegroup", 0);
  fprintf(fp, "%d", t->spacegroup);
  key(fp, "e_above_hull_eV_per_atom", 0);
  ms_json_fput_num(fp, t->e_above_hull_eV_per_atom);
  key(fp, "uncertainty_eV_per_atom", 0);
  ms_json_fput_num(fp, t->uncertainty_eV_per_atom);
  key(fp, "cif", 0);
  ms_json_fput_str(fp, t->cif);
  fputs("}}]", fp);
  key(fp, "tasks", 0);
  fputs("[\n    {\"type\": \"PowderDosing\", \"parameters\": {\"precursors\": ", fp);
  fputs(t->precursors ? t->precursors : "[]", fp);
  fputs("}, \"prev_tasks\": [], \"samples\": [", fp);
  ms_json_fput_str(fp, sample);
  fputs("]},\n    {\"type\": \"Heating\", \"parameters\": {", fp);
  key(fp, "heating_temperature", 1);
  ms_json_fput_num(fp, o->heating_temperature_C);
  key(fp, "heating_time", 0);
  ms_json_fput_num(fp, o->heating_time_min);
  fputs("}, \"prev_tasks\": [0], \"samples\": [", fp);
  ms_json_fput_str(fp, sample);
  fputs("]},\n    {\"type\": \"Diffraction\", \"parameters\": {\"predicted_peaks\": ", fp);
  fputs(t->xrd ? t->xrd : "null", fp);
  fputs("}, \"prev_tasks\": [1], \"samples\": [", fp);
  ms_json_fput_str(fp, sample);
  fputs("]}\n  ]}", fp);
}

static ms_err write_alabos(FILE *fp, void *vctx) {
  const ticket_set *s = vctx;
  ms_labq_export_options dflt;
  ms_labq_export_options_default(&dflt);
  const ms_labq_export_options *o = s->opt ? s->opt : &dflt;
  fputs("{\"format\": \"alabos-experiments\", \"generator\": \"matscreen\", \"experiments\": [\n", fp);
  for (size_t k = 0; k < s->n; ++k) {
    if (k) fputs(",\n", fp);
    alabos_experiment(fp, &s->t[k], o);
  }
  fputs("\n]}\n", fp);
  return MS_SUCCESS;
}

static int cmp_alabos(const void *a, const void *b) {
  const ms_labq_ticket *x = a, *y = b;
  return claim_order(x->priority, x->id, y->priority, y->id);
}

/* ------------------------------------------------------------------------------------------ */

void ms_labq_export_options_default(ms_labq_export_options *o) {
  o->heating_temperature_C = MS_LABQ_HEATING_TEMPERATURE_C;
  o->heating_time_min = MS_LABQ_HEATING_TIME_MIN;
}

ms_err ms_labq_export(ms_labq q, ms_labq_export_format fmt, const ms_labq_filter *f, const char *path,
                      size_t *n_exported) {
  return ms_labq_export_with(q, fmt, f, NULL, path, n_exported);
}

ms_err ms_labq_export_with(ms_labq q, ms_labq_export_format fmt, const ms_labq_filter *f,
                           const ms_labq_export_options *o, const char *path, size_t *n_exported) {
  MS_CHECK(q && path && *path, MS_ERR_ARG, "ms_labq_export: NULL argument");
  MS_CHECK(!o || (o->heating_temperature_C > 0 && o->heating_temperature_C <= 4000), MS_ERR_ARG,
           "heating temperature must be in (0, 4000] degrees C, got %g", o ? o->heating_temperature_C : 0.0);
  MS_CHECK(!o || (o->heating_time_min > 0 && o->heating_time_min <= 100000), MS_ERR_ARG,
           "heating time must be in (0, 100000] minutes, got %g", o ? o->heating_time_min : 0.0);
  ms_labq_filter flt = f ? *f : (ms_labq_filter){NULL, 0};
  /* An AlabOS document is a list of experiments to run: by default, what is still to do. */
  if (fmt == MS_LABQ_EXPORT_ALABOS && flt.status_mask == 0) flt.status_mask = 1u << MS_LABQ_QUEUED;
  ms_labq_ticket *t = NULL;
  size_t n = 0;
  MS_CALL(ms_labq_list(q, &flt, &t, &n)); /* one SELECT: a consistent snapshot */
  ticket_set s = {t, n, o};
  ms_err e = MS_SUCCESS;
  switch (fmt) {
    case MS_LABQ_EXPORT_CSV:
      e = write_atomic(path, write_csv, &s);
      break;
    case MS_LABQ_EXPORT_JSON:
      e = write_atomic(path, write_json, &s);
      break;
    case MS_LABQ_EXPORT_NIMO:
      e = export_nimo(t, n, path);
      break;
    case MS_LABQ_EXPORT_ALABOS:
      if (n) qsort(t, n, sizeof *t, cmp_alabos); /* experiments in claim order */
      e = write_atomic(path, write_alabos, &s);
      break;
    default:
      e = ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__, "unknown export format %d", (int)fmt);
  }
  if (!e && n_exported) *n_exported = n;
  ms_labq_tickets_free(&t, n);
  return e;
}
