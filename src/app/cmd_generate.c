/* `matscreen generate CAMPAIGN.yaml [--ids FIRST:LAST] -d DIR [--format cif] [--count]`:
 * build candidates of a campaign's search space and write them to files.
 *
 * Only `campaign.seed`, the models (`potential` and the stages' own `potential`, for
 * random_search's catastrophe guard, as `run` uses them) and `search:` are read; every other
 * key is ignored here (`matscreen check` / `run` validate the
 * whole campaign). Rank 0 reads the file and broadcasts the text; every rank parses it and
 * creates the same generators. Candidate ids are dealt round-robin over the ranks (id % size),
 * each rank writes its own files, and rank 0 writes DIR/index.csv from the rows of all ranks,
 * sorted by id. Since candidate i depends only on (seed, i, configuration), the files are the
 * same for any number of ranks. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "matscreen/data.h"
#include "matscreen/generator.h"
#include "matscreen/io.h"
#include "matscreen/log.h"
#include "matscreen/model.h"
#include "matscreen/paths.h"
#include "matscreen/yaml.h"

const char ms_usage_generate[] =
    "usage: matscreen generate CAMPAIGN.yaml -d DIR [--ids FIRST:LAST] [--format FMT]\n"
    "       matscreen generate CAMPAIGN.yaml --count\n"
    "\n"
    "Build candidates of the campaign's search space and write one file per candidate,\n"
    "DIR/ID.cif (ID zero-padded to six digits: 000015.cif; more digits for a million\n"
    "candidates and up), plus DIR/index.csv with one row per candidate:\n"
    "id,item,generator,prototype,formula,natoms,spacegroup,status,file,label.\n"
    "\n"
    "Reads campaign.seed, potential and the funnel stages' potential (optional: random_search\n"
    "keeps pairs outside their catastrophe guards) and search (the generators; 'matscreen info\n"
    "generators').\n"
    "Other keys of the campaign file are ignored by this command.\n"
    "\n"
    "options:\n"
    "  -d, --dir DIR        output directory (created with its missing parents)\n"
    "  --ids FIRST:LAST     candidate ids to write, inclusive; either end may be left out\n"
    "                       (default: all)\n"
    "  -f, --format FMT     cif (default), poscar or extxyz\n"
    "  --count              print the size of the search space per generator and exit\n"
    "  -h, --help           show this help\n"
    "\n"
    "Candidate i is the same for any number of ranks and any --ids range. A random draw\n"
    "that found no structure is listed in index.csv with status 'failed' and no file.\n"
    "\n"
    "example:\n"
    "  matscreen generate campaign.yaml --count\n"
    "  mpirun -n 4 matscreen generate campaign.yaml --ids 0:99 -d candidates\n";

static ms_err bcast_file(const char *path, char **text, size_t *len) {
  int rank = ms_app_rank();
  ms_err e = MS_SUCCESS;
  long long n = 0;
  *text = NULL;
  if (rank == 0) {
    e = ms_read_file(path, text, len);
    n = e ? -1 : (long long)*len;
  }
  MS_CALL(ms_err_agree(MPI_COMM_WORLD, e));
  MS_CALL_MPI(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD));
  if (rank != 0) {
    *text = malloc((size_t)n + 1);
    e = *text ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  MS_CALL(ms_err_agree(MPI_COMM_WORLD, e));
  MS_CALL_MPI(MPI_Bcast(*text, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD));
  (*text)[n] = '\0';
  *len = (size_t)n;
  return MS_SUCCESS;
}

enum { MAX_MODELS = 17 };

/* The parts of the campaign this command reads: the seed, the search space, and the models
 * (the campaign's and the stages' own, each distinct spec once). */
static ms_err read_campaign(ms_ydoc *doc, uint64_t *seed, ms_model_spec *specs, int *nspecs,
                            ms_ynode **search) {
  ms_ynode *root = ms_ydoc_root(doc);
  MS_CALL(ms_ynode_expect(root, MS_YMAP, ""));
  *seed = 0;
  *nspecs = 0;
  ms_ynode *c = ms_ynode_get(root, "campaign");
  if (c) {
    MS_CALL(ms_ynode_expect(c, MS_YMAP, "campaign"));
    ms_ynode *s = ms_ynode_get(c, "seed");
    if (s) {
      long long v;
      MS_CALL(ms_ynode_int(s, "campaign.seed", &v));
      if (v < 0) return ms_ynode_error(s, "campaign.seed", "must be >= 0, got %lld", v);
      *seed = (uint64_t)v;
    }
  }
  ms_ynode *p = ms_ynode_get(root, "potential");
  if (p) MS_CALL(ms_model_spec_from_yaml(p, "potential", &specs[(*nspecs)++]));
  ms_ynode *f = ms_ynode_get(root, "funnel");
  for (int k = 0; f && f->type == MS_YSEQ && k < f->n && *nspecs < MAX_MODELS; ++k) {
    ms_ynode *sp = f->items[k]->type == MS_YMAP ? ms_ynode_get(f->items[k], "potential") : NULL;
    if (!sp) continue;
    char path[64];
    snprintf(path, sizeof path, "funnel[%d].potential", k);
    MS_CALL(ms_model_spec_from_yaml(sp, path, &specs[*nspecs]));
    int dup = 0;
    for (int q = 0; q < *nspecs && !dup; ++q) dup = ms_model_spec_equal(&specs[q], &specs[*nspecs]);
    if (!dup) ++*nspecs;
  }
  *search = ms_ynode_get(root, "search");
  if (!*search) return ms_ynode_error(root, "", "missing required key 'search' (the generators)");
  return MS_SUCCESS;
}

static int parse_ids(const char *text, int64_t *first, int64_t *last) {
  const char *colon = strchr(text, ':');
  char *end;
  if (!colon) {
    *first = *last = strtoll(text, &end, 10);
    return *end == '\0' && end != text && *first >= 0;
  }
  if (colon != text) {
    *first = strtoll(text, &end, 10);
    if (end != colon || *first < 0) return 0;
  }
  if (colon[1]) {
    *last = strtoll(colon + 1, &end, 10);
    if (*end != '\0' || *last < 0) return 0;
  }
  return 1;
}

typedef struct {
  char *s;
  size_t n, cap;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
sb_printf(sbuf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (w < 0) return -1;
    if (b->s && b->n + (size_t)w < b->cap) {
      b->n += (size_t)w;
      return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap <= b->n + (size_t)w) cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns) return -1;
    b->s = ns;
    b->cap = cap;
  }
}

/* CSV field: quoted when it contains a comma or quote. */
static void csv_field(sbuf *b, const char *s) {
  if (!strpbrk(s, ",\"\n")) {
    sb_printf(b, "%s", s);
    return;
  }
  sb_printf(b, "\"");
  for (; *s; ++s) sb_printf(b, *s == '"' ? "\"\"" : "%c", *s);
  sb_printf(b, "\"");
}

static int cmp_rows(const void *a, const void *b) {
  long long x = strtoll(*(char *const *)a, NULL, 10), y = strtoll(*(char *const *)b, NULL, 10);
  return (x > y) - (x < y);
}

static ms_err write_index(const char *dir, sbuf *mine) {
  int rank = ms_app_rank(), size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int n = (int)mine->n;
  int *counts = NULL, *displs = NULL;
  char *all = NULL;
  if (rank == 0) {
    counts = calloc((size_t)size, sizeof *counts);
    displs = calloc((size_t)size, sizeof *displs);
  }
  MS_CALL_MPI(MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD));
  size_t total = 0;
  if (rank == 0) {
    for (int r = 0; r < size; ++r) {
      displs[r] = (int)total;
      total += (size_t)counts[r];
    }
    all = malloc(total + 1);
  }
  MS_CALL_MPI(MPI_Gatherv(mine->s ? mine->s : "", n, MPI_CHAR, all, counts, displs, MPI_CHAR, 0,
                          MPI_COMM_WORLD));
  ms_err e = MS_SUCCESS;
  if (rank == 0) {
    all[total] = '\0';
    size_t nrows = 0;
    for (size_t k = 0; k < total; ++k) nrows += all[k] == '\n';
    char **rows = calloc(nrows + 1, sizeof *rows);
    size_t r = 0;
    for (char *line = all; rows && *line && r < nrows; ++r) {
      char *nl = strchr(line, '\n');
      *nl = '\0';
      rows[r] = line;
      line = nl + 1;
    }
    if (rows) qsort(rows, nrows, sizeof *rows, cmp_rows);
    char path[4096];
    snprintf(path, sizeof path, "%s/index.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!fp || !rows) {
      e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: cannot write: %s", path,
                      strerror(errno));
    } else {
      fprintf(fp, "id,item,generator,prototype,formula,natoms,spacegroup,status,file,label\n");
      for (size_t k = 0; k < nrows; ++k) fprintf(fp, "%s\n", rows[k]);
      if (fclose(fp) != 0)
        e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: write error", path);
    }
    free(rows);
  }
  free(all);
  free(counts);
  free(displs);
  return e;
}

static ms_err generate(ms_search s, int64_t first, int64_t last, const char *dir, ms_format fmt,
                       long long *written, long long *failed) {
  int rank = ms_app_rank(), size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char *ext = fmt == MS_FORMAT_POSCAR ? "vasp" : fmt == MS_FORMAT_EXTXYZ ? "xyz" : "cif";
  /* six digits as `matscreen export` writes them (000015), more for search spaces of a million
   * candidates and up, so that names sort in id order */
  int width = 1;
  for (int64_t m = ms_search_count(s) - 1; m >= 10; m /= 10) ++width;
  if (width < 6) width = 6;
  sbuf rows = {0};
  ms_cell c;
  ms_cell_init(&c);
  ms_err e = MS_SUCCESS;
  *written = *failed = 0;
  int64_t start = first + ((rank - first % size) % size + size) % size;
  for (int64_t id = start; id <= last && !e; id += size) {
    ms_candidate_info info;
    int64_t local = 0;
    int item = ms_search_locate(s, id, &local);
    e = ms_search_build(s, id, &c, &info);
    if (e) break;
    char file[4352] = "", formula[64] = "";
    if (info.status == MS_STATUS_OK) {
      snprintf(file, sizeof file, "%s/%0*lld.%s", dir, width, (long long)id, ext);
      e = ms_structure_write(file, fmt, &c, 1);
      if (e) break;
      ms_cell_formula(&c, 1, formula, sizeof formula);
      ++*written;
    } else {
      ++*failed;
    }
    const char *base = strrchr(file, '/');
    sb_printf(&rows, "%lld,%d,%s,%s,%s,%d,%d,%s,%s,", (long long)id, item, info.generator,
              info.prototype, formula, info.status == MS_STATUS_OK ? c.natoms : 0, info.spacegroup,
              ms_status_name(info.status), base ? base + 1 : "");
    csv_field(&rows, info.status == MS_STATUS_OK ? c.label : info.detail);
    sb_printf(&rows, "\n");
  }
  ms_cell_free(&c);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  if (!e) e = ms_err_agree(MPI_COMM_WORLD, write_index(dir, &rows));
  free(rows.s);
  return e;
}

static int run(const char *path, const char *dir, const char *ids, ms_format fmt, int count_only) {
  char *text = NULL;
  size_t len = 0;
  ms_err e = bcast_file(path, &text, &len);
  if (e) return ms_app_report(e);
  ms_ydoc *doc = NULL;
  uint64_t seed = 0;
  ms_model_spec specs[MAX_MODELS];
  ms_model models[MAX_MODELS] = {NULL};
  int nspecs = 0, nmodels = 0;
  ms_ynode *search = NULL;
  ms_search s = NULL;
  e = ms_ydoc_parse(text, len, path, &doc);
  if (!e) e = read_campaign(doc, &seed, specs, &nspecs, &search);
  for (int k = 0; k < nspecs && !e; ++k) {
    e = ms_model_create_spec(&specs[k], &models[k]);
    if (!e) nmodels = k + 1;
  }
  if (!e) e = ms_search_create_with_models(search, seed, models, nmodels, &s);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  int code = 0;
  if (e) {
    code = ms_app_report(e);
  } else if (count_only) {
    if (ms_app_rank() == 0) {
      printf("search space of %s (seed %llu): %lld candidates\n", path, (unsigned long long)seed,
             (long long)ms_search_count(s));
      for (int k = 0; k < ms_search_nitems(s); ++k) {
        printf("[%d] ids %lld..%lld  ", k, (long long)ms_search_offset(s, k),
               (long long)ms_search_offset(s, k + 1) - 1);
        ms_generator_describe(ms_search_generator(s, k), stdout);
      }
      fflush(stdout);
    }
  } else {
    int64_t total = ms_search_count(s), first = 0, last = total - 1;
    if (ids && !parse_ids(ids, &first, &last)) {
      code = ms_app_usage_error("generate",
                                "--ids expects FIRST:LAST (non-negative integers), "
                                "got '%s'",
                                ids);
    } else if (total == 0) {
      ms_log_info("the search space is empty: nothing to write");
    } else if (first > last || first >= total) {
      code = ms_app_usage_error("generate", "--ids %s selects nothing (ids are 0..%lld)", ids,
                                (long long)total - 1);
    } else {
      if (last >= total) last = total - 1;
      if (ms_app_rank() == 0) e = ms_make_dirs(dir);
      e = ms_err_agree(MPI_COMM_WORLD, e);
      long long written = 0, failed = 0;
      if (!e) e = generate(s, first, last, dir, fmt, &written, &failed);
      if (!e) {
        long long w[2] = {written, failed}, t[2] = {0, 0};
        MPI_Reduce(w, t, 2, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
        ms_log_info("wrote %lld candidate%s (ids %lld..%lld) to %s; %lld failed draw%s", t[0],
                    t[0] == 1 ? "" : "s", (long long)first, (long long)last, dir, t[1],
                    t[1] == 1 ? "" : "s");
      }
      code = ms_app_report(e);
    }
  }
  ms_search_destroy(&s);
  for (int k = 0; k < nmodels; ++k) ms_model_destroy(&models[k]);
  ms_ydoc_free(&doc);
  free(text);
  return code;
}

int ms_cmd_generate(int argc, char **argv) {
  const char *path = NULL, *dir = NULL, *ids = NULL, *fmt_name = NULL;
  int count_only = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (ms_app_opt_is(a, "-h", "--help")) {
      if (ms_app_rank() == 0) fputs(ms_usage_generate, stdout);
      return 0;
    } else if (ms_app_opt_is(a, "-d", "--dir")) {
      if (!(dir = ms_app_opt_value(argc, argv, &i, "generate"))) return 1;
    } else if (ms_app_opt_is(a, "--ids", NULL)) {
      if (!(ids = ms_app_opt_value(argc, argv, &i, "generate"))) return 1;
    } else if (ms_app_opt_is(a, "-f", "--format")) {
      if (!(fmt_name = ms_app_opt_value(argc, argv, &i, "generate"))) return 1;
    } else if (ms_app_opt_is(a, "--count", NULL)) {
      count_only = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      return ms_app_usage_error("generate", "unknown option '%s'", a);
    } else if (!path) {
      path = a;
    } else {
      return ms_app_usage_error("generate",
                                "too many arguments ('%s'); expected one campaign "
                                "file",
                                a);
    }
  }
  if (!path) return ms_app_usage_error("generate", "expected a campaign file");
  if (!dir && !count_only)
    return ms_app_usage_error("generate", "give an output directory with -d DIR (or --count)");
  ms_format fmt = MS_FORMAT_CIF;
  if (fmt_name && ms_format_from_name(fmt_name, &fmt) != MS_SUCCESS)
    return ms_app_usage_error("generate", "--format: %s", ms_err_message());
  return run(path, dir, ids, fmt, count_only);
}
