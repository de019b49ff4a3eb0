/* The run's HDF5 output (docs/output.md): root attributes and versions, /config, the
 * /candidates table streamed from the checkpoint's phase-A frames and the merged relaxation
 * results, /structures, /funnel, /hull, and the stages' own groups (/surrogate, /shortlist,
 * /lab). Every call is collective through h5out; rank 0 (or each writer) contributes rows. */
#include <fftw3.h>
#include <hdf5.h>
#include <math.h>
#include <petscversion.h>
#include <spglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "funnel_impl.h"
#include "matscreen/generator.h"
#include "matscreen/h5out.h"
#include "matscreen/output_schema.h"
#include "matscreen/potential.h"
#include "matscreen/prototype.h"
#include "matscreen/status.h"
#include "ms_config.h"

/* ---- the /candidates table, streamed from the checkpoint ------------------------------------- */

enum { C_ID, C_ITEM, C_GEN, C_PROTO, C_FORMULA, C_NATOMS, C_SG_GEN, C_SG, C_STATUS, C_STAGE, C_REJ,
       C_ESP, C_VSCALE, C_ERELAX, C_RSTATUS, C_RITER, C_RTIME, C_SPTIME, C_RULE, C_DECOMP, C_EHULL,
       C_DUP, C_PRED, C_PSIG, C_SDEC, C_REASON, C_STYPE, C_NCOLS };

/* Column c of the table is schema line column_id[c] (output_schema.def has the names, types and
 * widths); the order here is the order the datasets are created in. */
static const ms_output_id column_id[C_NCOLS] = {
    [C_ID] = MS_OUT_CAND_ID,
    [C_ITEM] = MS_OUT_CAND_SEARCH_ITEM,
    [C_GEN] = MS_OUT_CAND_GENERATOR,
    [C_PROTO] = MS_OUT_CAND_PROTOTYPE,
    [C_FORMULA] = MS_OUT_CAND_FORMULA,
    [C_NATOMS] = MS_OUT_CAND_NATOMS,
    [C_SG_GEN] = MS_OUT_CAND_SPACEGROUP_GENERATED,
    [C_SG] = MS_OUT_CAND_SPACEGROUP,
    [C_STATUS] = MS_OUT_CAND_STATUS,
    [C_STAGE] = MS_OUT_CAND_STAGE_REACHED,
    [C_REJ] = MS_OUT_CAND_REJECTED_AT_STAGE,
    [C_ESP] = MS_OUT_CAND_E_SINGLE_POINT,
    [C_VSCALE] = MS_OUT_CAND_VOLUME_SCALE,
    [C_ERELAX] = MS_OUT_CAND_E_RELAXED,
    [C_RSTATUS] = MS_OUT_CAND_RELAX_STATUS,
    [C_RITER] = MS_OUT_CAND_RELAX_ITERATIONS,
    [C_RTIME] = MS_OUT_CAND_RELAX_TIME,
    [C_SPTIME] = MS_OUT_CAND_SINGLE_POINT_TIME,
    [C_RULE] = MS_OUT_CAND_REJECTED_BY_RULE,
    [C_DECOMP] = MS_OUT_CAND_DECOMPOSITION,
    [C_EHULL] = MS_OUT_CAND_E_ABOVE_HULL,
    [C_DUP] = MS_OUT_CAND_DUPLICATE_OF,
    [C_PRED] = MS_OUT_CAND_E_PREDICTED,
    [C_PSIG] = MS_OUT_CAND_E_PREDICTED_SIGMA,
    [C_SDEC] = MS_OUT_CAND_SURROGATE_DECISION,
    [C_REASON] = MS_OUT_CAND_REASON,
    [C_STYPE] = MS_OUT_CAND_STRUCTURE_TYPE,
};
/* The records hold what the schema's widths promise. */
_Static_assert(MS_DECOMP_LEN == MS_OUTW_CAND_DECOMPOSITION, "decomposition width");
_Static_assert(MS_DECOMP_LEN == MS_OUTW_SL_DECOMPOSITION, "shortlist decomposition width");
_Static_assert(MS_REC_REASON == MS_OUTW_CAND_REASON, "reason width");

void ms__fn_put_str(char *dst, int width, const char *src) {
  memset(dst, 0, (size_t)width);
  memcpy(dst, src, strnlen(src, (size_t)width));
}

/* Fill column @p c of rows @p rec[0..n) into @p buf. */
static void fill_column(run_ctx *x, int c, const ms_record *rec, int64_t n, char *buf) {
  int64_t *i64 = (int64_t *)buf;
  int32_t *i32 = (int32_t *)buf;
  double *d = (double *)buf;
  int w = ms_output_width(column_id[c]);
  for (int64_t k = 0; k < n; ++k) {
    const ms_record *r = &rec[k];
    switch (c) {
      case C_ID: i64[k] = r->id; break;
      case C_ITEM: i32[k] = r->item; break;
      case C_GEN: ms__fn_put_str(buf + w * k, w, ms_generator_type(ms_search_generator(x->search, r->item))->name); break;
      case C_PROTO: ms__fn_put_str(buf + w * k, w, r->prototype); break;
      case C_FORMULA: ms__fn_put_str(buf + w * k, w, r->formula); break;
      case C_NATOMS: i32[k] = r->natoms; break;
      case C_SG_GEN: i32[k] = r->spacegroup; break;
      case C_SG: i32[k] = r->spacegroup_relaxed; break;
      case C_STATUS: ms__fn_put_str(buf + w * k, w, ms_status_name((ms_status)r->status)); break;
      case C_STAGE: i32[k] = r->stage_reached; break;
      case C_REJ: i32[k] = r->reject_stage; break;
      case C_ESP: d[k] = r->e_single; break;
      case C_VSCALE: d[k] = r->volume_scale; break;
      case C_ERELAX: d[k] = r->e_relaxed; break;
      case C_RSTATUS: ms__fn_put_str(buf + w * k, w, r->relax_status >= 0 ? ms_status_name((ms_status)r->relax_status) : ""); break;
      case C_RITER: i32[k] = r->relax_iterations; break;
      case C_RTIME: d[k] = r->relax_time_s; break;
      case C_SPTIME: d[k] = r->sp_time_s; break;
      case C_RULE: ms__fn_put_str(buf + w * k, w, r->rejected_by); break;
      case C_DECOMP: ms__fn_put_str(buf + w * k, w, r->decomposition); break;
      case C_EHULL: d[k] = r->e_above_hull; break;
      case C_DUP: i64[k] = r->duplicate_of; break;
      case C_PRED: d[k] = r->e_pred; break;
      case C_PSIG: d[k] = r->e_pred_sigma; break;
      case C_SDEC: i32[k] = r->surrogate; break;
      case C_REASON: ms__fn_put_str(buf + w * k, w, r->reason); break;
      case C_STYPE: ms__fn_put_str(buf + w * k, w, r->structure_type); break;
      default: break;
    }
  }
}

int64_t ms__fn_lower_bound_sv(const survivor *sv, int64_t n, int64_t id) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (sv[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* One finished row from a phase-A record, the single-point keep decision and, for a survivor,
 * its relaxation outcome (@p rel, or NULL). */
static void finish_row(run_ctx *x, const ms_arec *a, const survivor *sv, const relax_out *rel, ms_record *r) {
  int survived = sv != NULL;
  memset(r, 0, sizeof *r);
  r->id = a->id;
  r->duplicate_of = -1;
  r->e_single = a->e_single;
  r->volume_scale = a->volume_scale;
  r->e_relaxed = r->e_above_hull = NAN;
  r->sp_time_s = a->sp_time_s;
  r->item = a->item;
  r->status = a->status;
  r->natoms = a->natoms;
  r->spacegroup = a->spacegroup;
  r->relax_status = -1;
  r->reject_stage = a->reject_stage;
  memcpy(r->formula, a->formula, sizeof r->formula);
  memcpy(r->prototype, a->prototype, sizeof r->prototype);
  memcpy(r->rejected_by, a->rejected_by, sizeof r->rejected_by);
  memcpy(r->reason, a->reason, sizeof r->reason);
  r->e_pred = r->e_pred_sigma = NAN;
  r->surrogate = -1;
  if (ms__fn_eligible_a(a) && x->keep_item >= 0) {
    int row = 1 + x->keep_item;
    if (survived) {
      r->stage_reached = row;
    } else {
      r->reject_stage = row;
      char rule[80];
      ms__keep_describe(&x->camp->stage[row - 1].keep, rule, sizeof rule);
      ms__fn_set_reason(r->reason, "%s keep rule (%s)", x->item_info[x->keep_item]->name, rule);
    }
  }
  ms_run_row row = {a, sv, rel, r};
  for (int k = 0; k < x->nitems; ++k)
    if (x->item_info[k]->ops->row) x->item_info[k]->ops->row(x->item_state[k], x, &row);
  if (rel) {
    r->relax_status = rel->status;
    r->relax_iterations = rel->iterations;
    r->relax_time_s = rel->time_s;
    r->e_relaxed = rel->e_relaxed;
    r->status = rel->status;
    r->stage_reached = rel->stage_reached;
    r->reject_stage = rel->reject_stage;
    r->duplicate_of = rel->duplicate_of;
    r->spacegroup_relaxed = rel->spacegroup;
    r->e_above_hull = rel->e_above_hull;
    memcpy(r->decomposition, rel->decomposition, sizeof r->decomposition);
    if (rel->reason[0]) memcpy(r->reason, rel->reason, sizeof r->reason);
    memcpy(r->structure_type, rel->structure_type, sizeof r->structure_type);
  }
}

/* ---- reasons for the log: how many candidates each stage lost, and why ------------------------ */

/* Counts of one reason "head" (the reason up to its first ':', '(' or digit, so that reasons
 * differing only in numbers or names count together) at one stage row. */
typedef struct {
  int32_t stage;
  int32_t pad_;
  int64_t count;
  char head[64];
} reason_count;

typedef struct {
  reason_count *v;
  int64_t n, cap;
} reason_table;

static void reason_head(const char *r, char head[64]) {
  size_t k = 0;
  while (r[k] && r[k] != ':' && r[k] != '(' && !(r[k] >= '0' && r[k] <= '9') && k < 63) ++k;
  while (k > 0 && r[k - 1] == ' ') --k;
  if (k == 0) k = strnlen(r, 63);
  memcpy(head, r, k);
  head[k] = '\0';
}

static ms_err reason_add(reason_table *t, int stage, const char *head, int64_t count) {
  for (int64_t k = 0; k < t->n; ++k)
    if (t->v[k].stage == stage && strcmp(t->v[k].head, head) == 0) {
      t->v[k].count += count;
      return MS_SUCCESS;
    }
  if (t->n == t->cap) {
    int64_t cap = t->cap ? 2 * t->cap : 32;
    reason_count *v = realloc(t->v, (size_t)cap * sizeof *v);
    MS_CHECK(v, MS_ERR_MEM, "out of memory");
    t->v = v;
    t->cap = cap;
  }
  reason_count *c = &t->v[t->n++];
  memset(c, 0, sizeof *c);
  c->stage = stage;
  c->count = count;
  snprintf(c->head, sizeof c->head, "%s", head);
  return MS_SUCCESS;
}

static int cmp_reason(const void *a, const void *b) {
  const reason_count *x = a, *y = b;
  if (x->stage != y->stage) return x->stage < y->stage ? -1 : 1;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return strcmp(x->head, y->head);
}

/* Collective: merge every rank's table; rank 0 keeps the report text (3 reasons per stage). */
static ms_err reason_report(run_ctx *x, reason_table *t) {
  char *all = NULL;
  size_t tot = 0;
  MS_CALL(ms__comm_allgather_bytes(x->comm, t->v, (size_t)t->n * sizeof *t->v, &all, &tot));
  if (x->rank != 0) {
    free(all);
    return MS_SUCCESS;
  }
  reason_table m = {0};
  ms_err e = MS_SUCCESS;
  const reason_count *rc = (const reason_count *)all;
  for (size_t k = 0; k < tot / sizeof *rc && !e; ++k) e = reason_add(&m, rc[k].stage, rc[k].head, rc[k].count);
  free(all);
  if (!e && m.n > 0) {
    qsort(m.v, (size_t)m.n, sizeof *m.v, cmp_reason);
    size_t cap = 256 + (size_t)m.n * 128, used = 0;
    char *text = malloc(cap);
    if (text) {
      used += (size_t)snprintf(text + used, cap - used, "why candidates left the funnel (most frequent first; "
                                                        "every row's reason is in /candidates/reason):\n");
      for (int64_t k = 0, shown = 0; k < m.n; ++k) {
        shown = k > 0 && m.v[k - 1].stage == m.v[k].stage ? shown + 1 : 0;
        if (shown >= 3) continue;
        int st = m.v[k].stage;
        const char *name = st >= 0 && st < x->sum->nstages ? x->sum->stats[st].name : "?";
        used += (size_t)snprintf(text + used, cap - used, "  %-14s %10lld  %s\n", shown ? "" : name,
                                 (long long)m.v[k].count, m.v[k].head);
      }
      free(x->reason_report);
      x->reason_report = text;
    }
  }
  free(m.v);
  return e;
}

/* Rows per append: bounded memory (the columns of one round take about 4 MiB). */
#define ROUND_ROWS 4096

/* Rank r appends the rows of its own phase-A blocks (sorted by id: a row per candidate with
 * keep_rejected: all, a row per survivor of phase A with counts); the blocks are handed out in
 * rank order, so rank order is row order (what the table needs). Memory does not depend on the
 * size of the campaign. @p rel: this rank's relaxation outcomes (of survivors in its blocks),
 * sorted by id. Collective. */
static ms_err write_candidates(run_ctx *x, ms_h5 f, const relax_out *rel, int64_t nrel) {
  int all = x->camp->keep_rejected_rows;
  int64_t b0 = ms__comm_own_lo(x->nba, x->size, x->rank), b1 = ms__comm_own_lo(x->nba, x->size, x->rank + 1);
  int64_t id0 = b0 * x->ba, id1 = b1 * x->ba < x->total ? b1 * x->ba : x->total;
  int64_t total_rows = all ? x->total : x->nsv;
  int64_t row0 = all ? id0 : ms__fn_lower_bound_sv(x->sv, x->nsv, id0);
  int64_t myrows = all ? id1 - id0 : ms__fn_lower_bound_sv(x->sv, x->nsv, id1) - row0;
  ms_h5_column cols[C_NCOLS];
  size_t offset[C_NCOLS + 1] = {0};
  for (int c = 0; c < C_NCOLS; ++c) {
    ms_h5_type type = ms_output_type(column_id[c]);
    int width = ms_output_width(column_id[c]);
    cols[c] = (ms_h5_column){ms_output_name(column_id[c]), type, width};
    size_t rb = type == MS_H5_STR ? (size_t)width : type == MS_H5_I32 ? 4 : 8;
    offset[c + 1] = offset[c] + ROUND_ROWS * rb;
  }
  /* the table's group: the columns' path without their name */
  const char *p0 = ms_output_path(column_id[0]);
  char group[64];
  snprintf(group, sizeof group, "%.*s", (int)(ms_output_name(column_id[0]) - p0 - 1), p0);
  ms_h5_table t = NULL;
  reason_table reasons = {0};
  MS_CALL(ms_h5_table_create(f, group, C_NCOLS, cols, total_rows, &t));
  ms_record *rows = malloc(ROUND_ROWS * sizeof *rows);
  char *buf = malloc(offset[C_NCOLS]);
  const void *data[C_NCOLS];
  for (int c = 0; c < C_NCOLS; ++c) data[c] = buf ? buf + offset[c] : NULL;
  /* A failure here (memory, a checkpoint read, a write on rank 0) stops this rank's rows; the
   * table's finish still takes part and agrees on it. */
  ms_err local = rows && buf ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  int64_t written = 0, nrows = 0, q = 0;
  for (int64_t b = b0; b < b1 && !local; ++b) {
    char *fb = NULL;
    uint32_t n = 0;
    local = ms__fn_read_block_a(x, b, &fb, &n);
    const ms_arec *a = fb ? (const ms_arec *)(fb + ms__fn_astats_size(x)) : NULL;
    for (uint32_t k = 0; k < n && !local; ++k) {
      int64_t pos = ms__fn_lower_bound_sv(x->sv, x->nsv, a[k].id);
      int survived = pos < x->nsv && x->sv[pos].id == a[k].id;
      if (!all && !survived) continue;
      while (q < nrel && rel[q].id < a[k].id) q++;
      const relax_out *ro = q < nrel && rel[q].id == a[k].id ? &rel[q] : NULL;
      finish_row(x, &a[k], survived ? &x->sv[pos] : NULL, ro, &rows[nrows]);
      if (rows[nrows].reason[0] && !local) {
        char head[64];
        reason_head(rows[nrows].reason, head);
        local = reason_add(&reasons, rows[nrows].reject_stage, head, 1);
      }
      nrows++;
      if (nrows == ROUND_ROWS || (k + 1 == n && b + 1 == b1)) {
        for (int c = 0; c < C_NCOLS; ++c) fill_column(x, c, rows, nrows, buf + offset[c]);
        local = ms_h5_table_append(t, nrows, data);
        written += nrows;
        nrows = 0;
      }
    }
    free(fb);
  }
  if (!local && nrows > 0) {
    for (int c = 0; c < C_NCOLS; ++c) fill_column(x, c, rows, nrows, buf + offset[c]);
    local = ms_h5_table_append(t, nrows, data);
    written += nrows;
  }
  if (!local && written != myrows)
    local = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "candidate rows: wrote %lld, expected %lld",
                        (long long)written, (long long)myrows);
  free(rows);
  free(buf);
  ms_err e = ms_h5_table_finish(&t, local);
  /* the log's summary of reasons; a failure here costs only that summary */
  if (!e && reason_report(x, &reasons)) ms_err_clear();
  free(reasons.v);
  return e;
}

ms_err ms__fn_write_output(run_ctx *x, const char *path, const relax_out *rel, int64_t nrel,
                           sref *st, int64_t nst, const ms_funnel_summary *sum, double t_start, double w0) {
  ms_h5 f = NULL;
  MS_CALL(ms_h5_create(x->comm, path, &f));
  ms_err e = MS_SUCCESS;
  /* root attributes */
  int mv = 0, mn = 0;
  MPI_Get_version(&mv, &mn);
  char buf[256];
  time_t now = time(NULL);
  char tbuf[64], t0buf[64];
  strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  time_t t0 = (time_t)t_start;
  strftime(t0buf, sizeof t0buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_PROGRAM), MS_OUT_NAME(ATTR_PROGRAM), "matscreen"));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_PROGRAM_VERSION), MS_OUT_NAME(ATTR_PROGRAM_VERSION), MS_VERSION));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_GIT_REVISION), MS_OUT_NAME(ATTR_GIT_REVISION), MS_GIT_REVISION));
  MS__W(ms_h5_attr_int(f, MS_OUT_GROUP(ATTR_SCHEMA_VERSION), MS_OUT_NAME(ATTR_SCHEMA_VERSION), MS_OUTPUT_SCHEMA_VERSION));
  snprintf(buf, sizeof buf, "MPI %d.%d", mv, mn);
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_MPI_VERSION), MS_OUT_NAME(ATTR_MPI_VERSION), buf));
  MS__W(ms_h5_attr_int(f, MS_OUT_GROUP(ATTR_RANKS), MS_OUT_NAME(ATTR_RANKS), x->size));
  MS__W(ms_h5_attr_int(f, MS_OUT_GROUP(ATTR_SEED), MS_OUT_NAME(ATTR_SEED), (int64_t)x->camp->seed));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_CAMPAIGN), MS_OUT_NAME(ATTR_CAMPAIGN), x->camp->name));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_POTENTIAL), MS_OUT_NAME(ATTR_POTENTIAL), ms_model_name(x->model)));
  snprintf(buf, sizeof buf, "%d.%d.%d", PETSC_VERSION_MAJOR, PETSC_VERSION_MINOR, PETSC_VERSION_SUBMINOR);
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_PETSC_VERSION), MS_OUT_NAME(ATTR_PETSC_VERSION), buf));
  snprintf(buf, sizeof buf, "%d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_HDF5_VERSION), MS_OUT_NAME(ATTR_HDF5_VERSION), buf));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_FFTW_VERSION), MS_OUT_NAME(ATTR_FFTW_VERSION), fftw_version));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_LIBYAML_VERSION), MS_OUT_NAME(ATTR_LIBYAML_VERSION), yaml_get_version_string()));
  snprintf(buf, sizeof buf, "%d.%d.%d", spg_get_major_version(), spg_get_minor_version(), spg_get_micro_version());
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_SPGLIB_VERSION), MS_OUT_NAME(ATTR_SPGLIB_VERSION), buf));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_START_TIME), MS_OUT_NAME(ATTR_START_TIME), t0buf));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(ATTR_END_TIME), MS_OUT_NAME(ATTR_END_TIME), tbuf));
  /* config */
  MS__W(ms_h5_write_text(f, MS_OUT_PATH(CONFIG_GIVEN), x->camp->text));
  char *resolved = ms_campaign_resolved_yaml(x->camp);
  MS__W(ms_h5_write_text(f, MS_OUT_PATH(CONFIG_RESOLVED), resolved ? resolved : ""));
  free(resolved);
  /* species of the campaign's model and the prototype library, by name (rows from rank 0) */
  {
    int nsp = ms_model_species(x->model, 0, NULL, NULL, NULL), mine = x->rank == 0 ? nsp : 0;
    char *lab = calloc((size_t)nsp + 1, MS_OUTW_SPECIES_LABEL), *el = calloc((size_t)nsp + 1, MS_OUTW_SPECIES_ELEMENT);
    double *q = calloc((size_t)nsp + 1, sizeof *q);
    MS__LOCAL(lab && el && q);
    for (int k = 0; k < nsp && !e; ++k) {
      ms_species sp;
      const char *l = "";
      ms_model_species(x->model, k, &sp, &l, &q[k]);
      ms__fn_put_str(lab + MS_OUTW_SPECIES_LABEL * k, MS_OUTW_SPECIES_LABEL, l);
      const ms_element *elem = ms_element_by_z(sp.Z);
      if (elem) ms__fn_put_str(el + MS_OUTW_SPECIES_ELEMENT * k, MS_OUTW_SPECIES_ELEMENT, elem->symbol);
    }
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SPECIES_LABEL), mine, MS_OUTW_SPECIES_LABEL, lab));
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SPECIES_ELEMENT), mine, MS_OUTW_SPECIES_ELEMENT, el));
    MS__W(ms_h5_write_double(f, MS_OUT_PATH(SPECIES_CHARGE), mine, 1, q, 0));
    MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(SPECIES_ATTR_DESCRIPTION), MS_OUT_NAME(SPECIES_ATTR_DESCRIPTION), "ions covered by the potential and their charges in the model"));
    free(lab);
    free(el);
    free(q);
    int np = 0;
    const char *const *pn = ms_prototype_builtin_names(&np);
    char *names = calloc((size_t)np + 1, MS_OUTW_PROTOTYPES_NAME);
    MS__LOCAL(names);
    for (int k = 0; k < np && !e; ++k) ms__fn_put_str(names + MS_OUTW_PROTOTYPES_NAME * k, MS_OUTW_PROTOTYPES_NAME, pn[k]);
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(PROTOTYPES_NAME), x->rank == 0 ? np : 0, MS_OUTW_PROTOTYPES_NAME, names));
    free(names);
  }
  /* candidates */
  MS__W(write_candidates(x, f, rel, nrel));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(CAND_ATTR_DESCRIPTION), MS_OUT_NAME(CAND_ATTR_DESCRIPTION),
                   "one row per candidate (with keep_rejected: counts, one row per candidate that "
                   "survived the single-point stage); sorted by id"));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(CAND_ATTR_STAGE_NAMES), MS_OUT_NAME(CAND_ATTR_STAGE_NAMES), "0 = generate, k = funnel[k-1]"));
  /* structures (relaxed survivors), compressed rows */
  int64_t tot_atoms = 0;
  for (int64_t k = 0; k < nst; ++k) tot_atoms += st[k].h->natoms;
  long long mine_atoms = tot_atoms, before = 0;
  MPI_Exscan(&mine_atoms, &before, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
  if (x->rank == 0) before = 0;
  int64_t *cid = malloc(((size_t)nst + 1) * sizeof *cid), *off = malloc(((size_t)nst + 1) * sizeof *off);
  int32_t *nat = malloc(((size_t)nst + 1) * sizeof *nat), *surv = malloc(((size_t)nst + 1) * sizeof *surv);
  double *lat = malloc(((size_t)nst * 9 + 1) * sizeof *lat);
  double *fr = malloc(((size_t)tot_atoms * 3 + 1) * sizeof *fr);
  char *spc = malloc(((size_t)tot_atoms + 1) * MS_OUTW_STRUCT_SPECIES);
  MS__LOCAL(cid && off && nat && surv && lat && fr && spc);
  if (!e) {
    int64_t a = 0;
    for (int64_t k = 0; k < nst; ++k) {
      cid[k] = st[k].id;
      nat[k] = st[k].h->natoms;
      surv[k] = st[k].h->survived;
      off[k] = before + a;
      memcpy(lat + 9 * k, st[k].h->lattice, 9 * sizeof(double));
      for (int q = 0; q < st[k].h->natoms; ++q, ++a) {
        memcpy(fr + 3 * a, st[k].s[q].f, 3 * sizeof(double));
        ms_species sp = {st[k].s[q].Z, st[k].s[q].has_ox, st[k].s[q].ox};
        char lab[16];
        ms_species_format(&sp, lab, sizeof lab);
        ms__fn_put_str(spc + MS_OUTW_STRUCT_SPECIES * a, MS_OUTW_STRUCT_SPECIES, lab);
      }
    }
    MS__W(ms_h5_write_int64(f, MS_OUT_PATH(STRUCT_CANDIDATE_ID), nst, 1, cid));
    MS__W(ms_h5_write_double(f, MS_OUT_PATH(STRUCT_LATTICE), nst, MS_OUTW_STRUCT_LATTICE, lat, 1));
    MS__W(ms_h5_write_int32(f, MS_OUT_PATH(STRUCT_NATOMS), nst, 1, nat));
    MS__W(ms_h5_write_int32(f, MS_OUT_PATH(STRUCT_SURVIVED), nst, 1, surv));
    MS__W(ms_h5_write_int64(f, MS_OUT_PATH(STRUCT_OFFSET), nst, 1, off));
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(STRUCT_SPECIES), tot_atoms, MS_OUTW_STRUCT_SPECIES, spc));
    MS__W(ms_h5_write_double(f, MS_OUT_PATH(STRUCT_FRAC_POSITIONS), tot_atoms, MS_OUTW_STRUCT_FRAC_POSITIONS, fr, 0));
    MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(STRUCT_ATTR_DESCRIPTION), MS_OUT_NAME(STRUCT_ATTR_DESCRIPTION),
                     "relaxed structures of the candidates that passed the relax keep rule and are not duplicates "
                     "(survived = 1: also every later stage; 0: removed by the hull stage); sites of "
                     "structure k are rows offset[k] .. offset[k]+natoms[k]-1"));
  }
  free(cid);
  free(off);
  free(nat);
  free(surv);
  free(lat);
  free(fr);
  free(spc);
  /* every stage's own part, in stage order (/surrogate, /hull, /shortlist) */
  for (int k = 0; k < x->nitems; ++k)
    if (x->item_info[k]->ops->write) MS__W(ms_err_agree(x->comm, x->item_info[k]->ops->write(x->item_state[k], x, f)));
  MS__W(ms_err_agree(x->comm, ms__labfeed_write(&x->lab, f, x->rank)));
  /* funnel table: written by rank 0 (one row per stage) */
  int ns = sum->nstages, mine = x->rank == 0 ? ns : 0;
  char *names = calloc((size_t)ns + 1, MS_OUTW_FUNNEL_STAGE);
  int64_t *cin = calloc((size_t)ns + 1, sizeof *cin), *cout = calloc((size_t)ns + 1, sizeof *cout);
  double *cpu = calloc((size_t)ns + 1, sizeof *cpu), *wall = calloc((size_t)ns + 1, sizeof *wall);
  int64_t *bys = calloc((size_t)ns * MS_STATUS_COUNT_ + 1, sizeof *bys);
  char *models = calloc((size_t)ns + 1, MS_OUTW_FUNNEL_MODEL);
  MS__LOCAL(names && cin && cout && cpu && wall && bys && models);
  if (!e) {
    for (int k = 0; k < ns; ++k) {
      strncpy(names + MS_OUTW_FUNNEL_STAGE * k, sum->stats[k].name, MS_OUTW_FUNNEL_STAGE);
      /* the model a stage's energies come from; the hull's are the relax stage's */
      if (k >= 1 && k <= x->camp->nstages && x->item_info[k - 1]->ops->model) {
        ms_model m = x->item_info[k - 1]->ops->model(x->item_state[k - 1], x);
        if (m) strncpy(models + MS_OUTW_FUNNEL_MODEL * k, ms_model_name(m), MS_OUTW_FUNNEL_MODEL);
      }
      cin[k] = sum->stats[k].in;
      cout[k] = sum->stats[k].out;
      cpu[k] = sum->stats[k].cpu_s;
      wall[k] = sum->stats[k].wall_s;
      for (int q = 0; q < MS_STATUS_COUNT_; ++q) bys[k * MS_STATUS_COUNT_ + q] = sum->stats[k].by_status[q];
    }
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(FUNNEL_STAGE), mine, MS_OUTW_FUNNEL_STAGE, names));
    MS__W(ms_h5_write_int64(f, MS_OUT_PATH(FUNNEL_COUNT_IN), mine, 1, cin));
    MS__W(ms_h5_write_int64(f, MS_OUT_PATH(FUNNEL_COUNT_OUT), mine, 1, cout));
    MS__W(ms_h5_write_double(f, MS_OUT_PATH(FUNNEL_CPU), mine, 1, cpu, 0));
    MS__W(ms_h5_write_double(f, MS_OUT_PATH(FUNNEL_WALL), mine, 1, wall, 0));
    MS__W(ms_h5_write_int64(f, MS_OUT_PATH(FUNNEL_BY_STATUS), mine, MS_STATUS_COUNT_, bys));
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(FUNNEL_MODEL), mine, MS_OUTW_FUNNEL_MODEL, models));
    char statuses[512] = "";
    for (int q = 0; q < MS_STATUS_COUNT_; ++q) {
      strncat(statuses, ms_status_name((ms_status)q), sizeof statuses - strlen(statuses) - 2);
      if (q + 1 < MS_STATUS_COUNT_) strncat(statuses, ",", sizeof statuses - strlen(statuses) - 1);
    }
    MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(FUNNEL_BY_STATUS_ATTR_COLUMNS), MS_OUT_NAME(FUNNEL_BY_STATUS_ATTR_COLUMNS), statuses));
  }
  free(names);
  free(models);
  free(cin);
  free(cout);
  free(cpu);
  free(wall);
  free(bys);
  /* Last, so that they cover writing the output itself. */
  double rss = ms__fn_peak_rss_mib(), grss = 0;
  MPI_Allreduce(&rss, &grss, 1, MPI_DOUBLE, MPI_MAX, x->comm);
  x->sum->peak_rss_mib = grss;
  x->sum->wall_s = MPI_Wtime() - w0;
  MS__W(ms_h5_attr_double(f, MS_OUT_GROUP(ATTR_PEAK_RSS), MS_OUT_NAME(ATTR_PEAK_RSS), x->sum->peak_rss_mib));
  MS__W(ms_h5_attr_double(f, MS_OUT_GROUP(ATTR_WALL), MS_OUT_NAME(ATTR_WALL), x->sum->wall_s));
  MS__W(ms_h5_attr_double(f, MS_OUT_GROUP(ATTR_SETUP_WALL), MS_OUT_NAME(ATTR_SETUP_WALL), x->sum->setup_s));
  if (e) {
    ms_h5_abort(&f);
    return e;
  }
  return ms_h5_close(&f);
}
