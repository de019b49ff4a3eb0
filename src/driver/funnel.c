/* The campaign funnel (see funnel.h): runs the stages of the campaign by their shape (stage.h,
 * docs/stages.md, "How a run flows"); nothing here knows what a particular stage does.
 *
 * Data flow. Phase A streams candidate ids through the dynamic scheduler; each rank builds its
 * chunks and runs the filter stages on each candidate in campaign order, keeping a compact
 * record per candidate, committed to the checkpoint block by block. The keep rule of the filter
 * stage that evaluates energies is then applied collectively, streamed from the checkpoint
 * (keep.c): what passes is the survivor set (all-gathered, sorted by id). The transform and
 * collective stages then run in campaign order, each one pass (its run operation): the
 * surrogate, the relax stage (the relaxed-structure store: outcomes and structures stay where
 * they were read back), dedup, hull, and the shortlist. For the output, records, relax results
 * and relaxed structures are sent to "owner" ranks by id range and merged there, so rank r
 * writes ids in [r N/P, (r+1) N/P) and the files' rows are sorted by candidate id for any
 * number of ranks.
 *
 * The run's shared state (ms_run) and types are in funnel_impl.h; each stage is its own file
 * (stage_*.c, surrogate_stage.c, shortlist_stage.c) listed in stages.def; the relaxations
 * relaxed_store.c, the HDF5 output funnel_output.c, the keep rules keep.c, the checkpoint
 * spool.c. */
#include "matscreen/funnel.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "keep.h"
#include "labfeed.h"
#include "spool.h"
#include "stability.h"
#include "stop.h"
#include "matscreen/generator.h"
#include "matscreen/h5out.h"
#include "matscreen/log.h"
#include "matscreen/model.h"
#include "matscreen/prototype.h"
#include "matscreen/schedule.h"
#include "matscreen/status.h"
#include "matscreen/symmetry.h"
#include "ms_config.h"
#include "record.h"
#include "funnel_impl.h"
#include "matscreen/stage.h"

/* ---- small helpers ------------------------------------------------------------------------ */

void ms_funnel_options_default(ms_funnel_options *o) {
  memset(o, 0, sizeof *o);
  o->progress_interval = 10.0;
}

ms_err ms__fn_bytes_put(bytes *v, const void *p, size_t len) {
  if (v->n + len > v->cap) {
    size_t cap = v->cap ? v->cap : 4096;
    while (cap < v->n + len) cap *= 2;
    char *q = realloc(v->b, cap);
    MS_CHECK(q, MS_ERR_MEM, "out of memory (%zu bytes of structures)", cap);
    v->b = q;
    v->cap = cap;
  }
  memcpy(v->b + v->n, p, len);
  v->n += len;
  return MS_SUCCESS;
}

/* ---- progress ------------------------------------------------------------------------------ */

typedef struct {
  const char *stage;
  double t0, last;
  int64_t total;
  int64_t offset, scale; /* items done before this run; items per handed-out unit (block) */
  int tty;
  double interval;
} progress;

static void progress_start(progress *p, const char *stage, int64_t total, double interval) {
  p->stage = stage;
  p->t0 = p->last = MPI_Wtime();
  p->total = total;
  p->offset = 0;
  p->scale = 1;
  p->tty = isatty(2);
  p->interval = p->tty ? 0.5 : interval;
}

static void progress_update(progress *p, ms_sched s, int force) {
  if (!ms_log_is_root() || ms_log_get_level() < MS_LOG_INFO) return;
  double now = MPI_Wtime();
  if (!force && now - p->last < p->interval) return;
  p->last = now;
  int64_t handed = s ? ms_sched_progress(s) : p->total;
  if (handed < 0) handed = 0;
  int64_t done = p->offset + handed * p->scale;
  if (done > p->total) done = p->total;
  double rate = (now - p->t0) > 0 ? (double)(done - p->offset) / (now - p->t0) : 0;
  double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
  if (p->tty)
    fprintf(stderr, "\r[%s] %lld/%lld (%.1f%%)  %.0f/s  ETA %.0f s   ", p->stage, (long long)done,
            (long long)p->total, p->total ? 100.0 * (double)done / (double)p->total : 100.0, rate, eta);
  else
    fprintf(stderr, "[%s] %lld/%lld handed out (%.1f%%), %.0f/s, ETA %.0f s\n", p->stage,
            (long long)done, (long long)p->total,
            p->total ? 100.0 * (double)done / (double)p->total : 100.0, rate, eta);
  fflush(stderr);
}

static void progress_end(progress *p) {
  if (!ms_log_is_root() || ms_log_get_level() < MS_LOG_INFO) return;
  if (p->tty) fprintf(stderr, "\r%80s\r", "");
}


/* A verdict's reason and rule are copied into the candidate record whole (and filled with
 * ms__fn_set_reason, which writes MS_REC_REASON bytes). */
_Static_assert(sizeof(((ms_stage_verdict *)0)->reason) == MS_REC_REASON, "verdict reason width");
_Static_assert(sizeof(((ms_stage_verdict *)0)->rule) == sizeof(((ms_arec *)0)->rejected_by), "verdict rule width");

/* ---- the stages of the run ------------------------------------------------------------------ */

void *ms__fn_state(const run_ctx *x, ms_stage_kind kind) {
  if (kind >= MS_STAGE_COUNT_ || !x->st[kind].present) return NULL;
  return x->item_state[x->st[kind].index];
}

ms_model ms__fn_kind_model(const run_ctx *x, ms_stage_kind kind) {
  if (kind >= MS_STAGE_COUNT_ || !x->st[kind].present) return NULL;
  return x->item_model[x->st[kind].index];
}

ms_funnel_stage_stats *ms__fn_stats(run_ctx *x, int item) { return &x->sum->stats[1 + item]; }

void ms__fn_count_status(ms_funnel_stage_stats *s, int status) {
  if (status >= 0 && status < 16) s->by_status[status]++;
}

MPI_Comm ms_run_comm(const ms_run *run) { return run->comm; }
const ms_campaign *ms_run_campaign(const ms_run *run) { return run->camp; }
ms_model ms_run_model(const ms_run *run, int item) {
  return item >= 0 && item < run->camp->nstages ? run->item_model[item] : NULL;
}

/* Not collective: every funnel item's create (its options), in campaign order. The built-in
 * stages are indexed by kind first, so that a stage can ask whether another is present. */
static ms_err create_items(run_ctx *x) {
  ms_campaign *c = x->camp;
  x->keep_item = -1;
  for (int k = 0; k < c->nstages; ++k)
    if (c->stage[k].kind < MS_STAGE_COUNT_) {
      x->st[c->stage[k].kind].present = 1;
      x->st[c->stage[k].kind].index = k;
    }
  for (int k = 0; k < c->nstages; ++k) {
    ms_stage *st = &c->stage[k];
    const ms_stage_info *info = st->info;
    char path[64];
    snprintf(path, sizeof path, "funnel[%d]", k);
    x->item_info[k] = info;
    x->nitems = k;
    if (info->ops->create) MS_CALL(info->ops->create(x, st, path, &x->item_state[k]));
    x->nitems = k + 1;
    /* the built-in stages say why they need another in their create; this covers the rest */
    for (int q = 0; info->needs && info->needs[q]; ++q) {
      int found = 0;
      for (int j = 0; j < c->nstages; ++j) found |= strcmp(c->stage[j].name, info->needs[q]) == 0;
      if (!found)
        return ms_ynode_error(ms_ynode_get(st->node, "stage"), path, "the %s stage needs a %s stage in the funnel",
                              info->name, info->needs[q]);
    }
    if (info->shape == MS_STAGE_SHAPE_FILTER) x->filter_item[x->nfilter++] = k;
    if (info->shape == MS_STAGE_SHAPE_FILTER && info->evaluates) x->keep_item = k;
    /* read by the campaign (keep) or by the stage's create */
    ms_ynode_get(st->node, "stage");
    ms_ynode_get(st->node, "keep");
  }
  return MS_SUCCESS;
}

/* Not collective: the stages configured by a top-level section the campaign has (the
 * shortlist), after the funnel items. */
static ms_err create_sections(run_ctx *x) {
  int n = 0;
  const ms_stage_info *const *list = ms_stage_list(&n);
  ms_ynode *root = ms_ydoc_root(x->camp->doc);
  for (int q = 0; q < n; ++q) {
    const ms_stage_info *info = list[q];
    ms_ynode *section = info->section ? ms_ynode_get(root, info->section) : NULL;
    if (!section || section->type == MS_YNULL) continue; /* `shortlist: ~` is no shortlist */
    int k = x->nitems;
    x->item_info[k] = info;
    if (info->ops && info->ops->create) MS_CALL(info->ops->create(x, NULL, info->section, &x->item_state[k]));
    x->nitems = k + 1;
  }
  return MS_SUCCESS;
}

/* ---- phase A: generate and the filter stages ------------------------------------------------ */

void ms__fn_scale_volume(ms_cell *c, double factor) {
  double s = cbrt(factor);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c->lattice[i][j] *= s;
}

void ms__fn_set_reason(char *dst, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, MS_REC_REASON, fmt, ap);
  va_end(ap);
}

/* "species Zn2+ not covered by bush1994": the first species of @p c that @p m lacks. */
void ms__fn_uncovered_reason(const ms_model m, const ms_cell *c, char *buf, size_t n) {
  snprintf(buf, n, "a species not covered by %s", ms_model_name(m));
  for (int k = 0; k < c->nkinds; ++k)
    if (!ms_model_covers(m, &c->species[k], NULL, 0)) {
      char lab[24];
      ms_species_format(&c->species[k], lab, sizeof lab);
      snprintf(buf, n, "species not covered by %s: %s", ms_model_name(m), lab);
      return;
    }
}

/* Blocks of work have boundaries fixed by the campaign alone (never by the number of ranks), so
 * a resumed run on any number of ranks knows which blocks the checkpoint holds. About 65536
 * blocks of 1 to 1024 ids in phase A: frames of at most a few hundred kB, and enough blocks
 * for thousands of ranks to finish together (the scheduler hands out up to 64 at once; see
 * docs/performance.md for the simulated efficiency). The checkpoint index costs 48 bytes per
 * block on every rank. */
static int64_t block_size_a(int64_t total) {
  int64_t b = (total + 65535) / 65536;
  return b < 1 ? 1 : (b > 1024 ? 1024 : b);
}

/* Rank r owns blocks [lo(r), lo(r+1)) of nb for reading back and writing output. */
static int owner_of_block(int64_t b, int64_t nb, int size) {
  int r = nb > 0 ? (int)((__int128)(b + 1) * size / nb) : 0;
  if (r >= size) r = size - 1;
  while (r > 0 && ms__comm_own_lo(nb, size, r) > b) r--;
  while (r + 1 < size && ms__comm_own_lo(nb, size, r + 1) <= b) r++;
  return r;
}

/* Blocks of @p kind (0..nb) without a committed frame. */
ms_err ms__fn_todo_blocks(run_ctx *x, int kind, int64_t nb, int64_t **todo, int64_t *ntodo) {
  *todo = malloc(((size_t)nb + 1) * sizeof **todo);
  MS_CHECK(*todo, MS_ERR_MEM, "out of memory");
  int64_t n = 0;
  for (int64_t b = 0; b < nb; ++b)
    if (!ms__spool_find(x->spool, kind, b)) (*todo)[n++] = b;
  *ntodo = n;
  return MS_SUCCESS;
}

/* See funnel_impl.h. */
ms_err ms__fn_run_blocks(run_ctx *x, const char *stage, const int64_t *todo, int64_t ntodo, int64_t max_chunk,
                         int64_t items_per_block, int64_t items_total, int64_t items_done_before, ms__block_fn fn,
                         void *ctx, int *stop) {
  ms_sched s = NULL;
  MS_CALL(ms_sched_create(x->comm, 0, ntodo, 1, max_chunk, &s));
  progress pg;
  progress_start(&pg, stage, items_total, x->opt->progress_interval);
  pg.offset = items_done_before;
  pg.scale = items_per_block;
  double max_block = 0, last_poll = MPI_Wtime();
  ms_err err = MS_SUCCESS;
  int64_t first, count;
  int got = 0;
  *stop = 0;
  while (!err && !*stop && (got = ms_sched_next(s, &first, &count)) == 1) {
    for (int64_t t = first; t < first + count && !err; ++t) {
      if ((*stop = ms__stop_requested(max_block))) break;
      double t0 = MPI_Wtime();
      if (t0 - last_poll > 0.5) {
        last_poll = t0;
        int c = ms_sched_cancelled(s);
        if (c != 0) {
          *stop = c < 0 ? 0 : -1;
          if (c < 0) err = ms__err_set(MS_ERR_MPI, __FILE__, __LINE__, __func__, "reading the work counter failed");
          break;
        }
      }
      err = fn(x, todo[t], ctx);
      double dt = MPI_Wtime() - t0;
      if (dt > max_block) max_block = dt;
    }
    progress_update(&pg, s, 0);
  }
  if (!err && got < 0) err = MS_ERR_MPI;
  if (err || *stop > 0) ms_sched_cancel(s);
  progress_update(&pg, s, 1);
  progress_end(&pg);
  ms_sched_destroy(&s);
  return err;
}

/* Agree on how a phase ended: failure (returned), a stop somewhere (*stopped = the largest
 * MS_STOP_* code of any rank), or done (*stopped = 0). */
ms_err ms__fn_agree_end(run_ctx *x, ms_err err, int stop, int *stopped) {
  MS_CALL(ms_err_agree(x->comm, err));
  int mine = stop > 0 ? stop : 0, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, x->comm);
  *stopped = any;
  return ms__spool_exchange(x->spool);
}



/* Row 0 of a block's counts is generation, row 1 + q filter q (x->filter_item, made once by
 * create_items). */
size_t ms__fn_astats_size(const run_ctx *x) { return (size_t)(1 + x->nfilter) * sizeof(ms_astats); }

/* Generate the ids of block @p b and run the filter stages on each, into @p recs (+ counts in
 * @p st, one row per generation and per filter). */
static ms_err run_block_a(run_ctx *x, int64_t b, ms_cell *cell, ms_astats *st, ms_arec *recs, uint32_t *nrec) {
  const int *items = x->filter_item;
  int nf = x->nfilter;
  memset(st, 0, (size_t)(1 + nf) * sizeof *st);
  *nrec = 0;
  int64_t first = b * x->ba, last = first + x->ba < x->total ? first + x->ba : x->total;
  for (int64_t id = first; id < last; ++id) {
    double t0 = MPI_Wtime();
    ms_candidate_info info;
    memset(&info, 0, sizeof info);
    ms_arec r;
    memset(&r, 0, sizeof r);
    r.id = id;
    r.e_single = NAN;
    r.volume_scale = 1.0;
    r.reject_stage = -1;
    int64_t local = 0;
    r.item = ms_search_locate(x->search, id, &local);
    MS_CALL(ms_search_build(x->search, id, cell, &info));
    st[0].in++;
    snprintf(r.prototype, sizeof r.prototype, "%s", info.prototype);
    r.spacegroup = info.spacegroup;
    r.natoms = cell->natoms;
    if (info.status != MS_STATUS_OK) {
      r.status = info.status;
      r.reject_stage = 0;
      ms__fn_set_reason(r.reason, "%s", info.detail[0] ? info.detail : "the candidate could not be built");
      if (info.formula[0]) snprintf(r.formula, sizeof r.formula, "%s", info.formula);
      st[0].by_status[info.status & 15]++;
      st[0].busy_s += MPI_Wtime() - t0;
      recs[(*nrec)++] = r;
      continue;
    }
    st[0].out++;
    if (ms_cell_formula(cell, 1, r.formula, sizeof r.formula)) ms_err_clear();
    double t1 = MPI_Wtime();
    st[0].busy_s += t1 - t0;
    for (int q = 0; q < nf; ++q) {
      const ms_stage_info *fi = x->item_info[items[q]];
      ms_astats *s = &st[1 + q];
      s->in++;
      ms_stage_verdict v;
      memset(&v, 0, sizeof v);
      v.pass = 1;
      v.energy = NAN;
      v.volume_scale = 1.0;
      MS_CALL(fi->ops->filter(x->item_state[items[q]], x, cell, &v));
      if (fi->evaluates) {
        r.e_single = v.energy;
        r.volume_scale = v.volume_scale;
      }
      double t2 = MPI_Wtime();
      s->busy_s += t2 - t1;
      t1 = t2;
      if (fi->evaluates) r.sp_time_s = t2 - t0;
      if (!v.pass) {
        r.status = v.status;
        r.reject_stage = items[q] + 1;
        snprintf(r.rejected_by, sizeof r.rejected_by, "%s", v.rule);
        memcpy(r.reason, v.reason, sizeof r.reason);
        s->by_status[v.status & 15]++;
        break;
      }
      s->out++;
    }
    recs[(*nrec)++] = r;
  }
  return MS_SUCCESS;
}

typedef struct {
  ms_cell cell;
  char *buf; /* the block's counts followed by up to ba records */
} a_ctx;

static ms_err block_a(run_ctx *x, int64_t b, void *vctx) {
  a_ctx *c = vctx;
  size_t hs = ms__fn_astats_size(x);
  ms_astats *st = (ms_astats *)c->buf;
  ms_arec *recs = (ms_arec *)(c->buf + hs);
  uint32_t n = 0;
  MS_CALL(run_block_a(x, b, &c->cell, st, recs, &n));
  return ms__spool_append(x->spool, MS_SPOOL_A, b, n, c->buf, hs + (size_t)n * sizeof(ms_arec));
}

static ms_err phase_a(run_ctx *x, int *stopped) {
  int64_t *todo = NULL, ntodo = 0;
  MS_CALL(ms__fn_todo_blocks(x, MS_SPOOL_A, x->nba, &todo, &ntodo));
  a_ctx c;
  ms_cell_init(&c.cell);
  c.buf = malloc(ms__fn_astats_size(x) + (size_t)x->ba * sizeof(ms_arec));
  ms_err err = c.buf ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  err = ms_err_agree(x->comm, err);
  int stop = 0;
  if (!err) {
    int64_t done = (x->nba - ntodo) * x->ba;
    if (done > 0 && ms_log_is_root())
      ms_log_info("%lld of %lld candidates were committed before; evaluating the rest", (long long)done,
                  (long long)x->total);
    char label[96] = "generate";
    if (x->keep_item >= 0) snprintf(label, sizeof label, "generate + %s", x->item_info[x->keep_item]->name);
    err = ms__fn_run_blocks(x, label, todo, ntodo, 64, x->ba, x->total, done, block_a, &c, &stop);
  }
  ms_cell_free(&c.cell);
  free(c.buf);
  free(todo);
  return ms__fn_agree_end(x, err, stop, stopped);
}

/* ---- after phase A: counts and the keep rule, streamed from the checkpoint ------------------ */

ms_err ms__fn_read_block_a(run_ctx *x, int64_t b, char **buf, uint32_t *n) {
  const ms_spool_entry *en = ms__spool_find(x->spool, MS_SPOOL_A, b);
  MS_CHECK(en, MS_ERR_INTERNAL, "block %lld of phase A has no committed frame", (long long)b);
  MS_CHECK(en->len == ms__fn_astats_size(x) + (uint64_t)en->nitems * sizeof(ms_arec), MS_ERR_FILE,
           "%s: the frame of block %lld has the wrong size (written by another version?)",
           ms__spool_dir(x->spool), (long long)b);
  *n = en->nitems;
  return ms__spool_read(x->spool, en, (void **)buf);
}

int ms__fn_eligible_a(const ms_arec *r) { return r->reject_stage < 0 && r->status == MS_STATUS_OK; }

static int cmp_survivor(const void *a, const void *b) {
  int64_t x = ((const survivor *)a)->id, y = ((const survivor *)b)->id;
  return (x > y) - (x < y);
}

/* The counts of phase A and its survivors (x->sv on every rank, sorted by id): what passed
 * every filter, narrowed by the keep rule of the filter that evaluates energies. */
static ms_err after_phase_a(run_ctx *x) {
  ms_funnel_summary *sum = x->sum;
  const int *items = x->filter_item;
  int nf = x->nfilter;
  int rows[MS_MAX_STAGES + 1];
  rows[0] = 0;
  for (int q = 0; q < nf; ++q) rows[1 + q] = 1 + items[q];
  int keep_row = x->keep_item >= 0 ? 1 + x->keep_item : -1;
  ms_keep_rule none;
  memset(&none, 0, sizeof none);
  none.max_energy_per_atom = none.max_above_best = none.max_e_above_hull = NAN;
  const ms_keep_rule *rule = keep_row > 0 ? &x->camp->stage[x->keep_item].keep : &none;
  ms_keep_stream ks;
  ms__ks_init(&ks, rule);
  size_t hs = ms__fn_astats_size(x);
  int64_t b0 = ms__comm_own_lo(x->nba, x->size, x->rank), b1 = ms__comm_own_lo(x->nba, x->size, x->rank + 1);
  ms_err err = MS_SUCCESS;
  for (int pass = 1; pass <= 2 && !err; ++pass) {
    for (int64_t b = b0; b < b1 && !err; ++b) {
      char *buf = NULL;
      uint32_t n = 0;
      err = ms__fn_read_block_a(x, b, &buf, &n);
      if (err) break;
      const ms_astats *st = (const ms_astats *)buf;
      const ms_arec *r = (const ms_arec *)(buf + hs);
      if (pass == 1)
        for (int q = 0; q <= nf; ++q) {
          ms_funnel_stage_stats *o = &sum->stats[rows[q]];
          o->in += st[q].in;
          o->out += st[q].out;
          o->cpu_s += st[q].busy_s;
          for (int z = 0; z < 16; ++z) o->by_status[z] += st[q].by_status[z];
        }
      for (uint32_t k = 0; k < n && !err; ++k) {
        if (!ms__fn_eligible_a(&r[k])) continue;
        /* without a stage that evaluates energies there is no keep rule: all go on */
        double e = keep_row > 0 ? r[k].e_single : 0.0;
        err = pass == 1 ? ms__ks_observe(&ks, e, r[k].formula)
                        : ms__ks_offer(&ks, e, r[k].id, r[k].formula, r[k].volume_scale);
      }
      free(buf);
    }
    err = ms_err_agree(x->comm, err);
    if (!err && pass == 1) err = ms__ks_reduce(&ks, x->comm);
  }
  if (!err) err = ms__ks_select(&ks, x->comm);
  /* gather the survivors everywhere, sorted by id */
  if (!err) {
    int64_t m = ks.n;
    survivor *loc = malloc(((size_t)m + 1) * sizeof *loc);
    err = ms_err_agree(x->comm, loc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
    char *all = NULL;
    size_t tot = 0;
    if (!err) {
      for (int64_t k = 0; k < m; ++k) loc[k] = (survivor){ks.v[k].id, ks.v[k].aux, NAN, NAN, 0, 0};
      err = ms__comm_allgather_bytes(x->comm, loc, (size_t)m * sizeof *loc, &all, &tot);
    }
    if (!err) {
      x->sv = (survivor *)all;
      x->nsv = (int64_t)(tot / sizeof(survivor));
      if (x->nsv > 0) qsort(x->sv, (size_t)x->nsv, sizeof *x->sv, cmp_survivor);
    }
    free(loc);
  }
  long long eligible = ks.eligible;
  ms__ks_free(&ks);
  if (err) return err;
  for (int q = 0; q <= nf; ++q) ms__fn_reduce_stats(x->comm, &sum->stats[rows[q]], 1);
  if (keep_row > 0) {
    sum->stats[keep_row].out = x->nsv;
    sum->stats[keep_row].by_status[MS_STATUS_REJECTED] += eligible - x->nsv;
  }
  return MS_SUCCESS;
}

int ms__fn_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* ---- redistribution to owners by id range ----------------------------------------------------- */

static int cmp_relax(const void *a, const void *b) {
  int64_t x = ((const relax_out *)a)->id, y = ((const relax_out *)b)->id;
  return (x > y) - (x < y);
}

static int cmp_sref(const void *a, const void *b) {
  int64_t x = ((const sref *)a)->id, y = ((const sref *)b)->id;
  return (x > y) - (x < y);
}


void ms__fn_reduce_stats(MPI_Comm comm, ms_funnel_stage_stats *s, int sum_counts) {
  long long v[2 + 16];
  v[0] = s->in;
  v[1] = s->out;
  for (int q = 0; q < 16; ++q) v[2 + q] = s->by_status[q];
  long long g[2 + 16];
  MPI_Allreduce(v, g, 18, MPI_LONG_LONG, MPI_SUM, comm);
  if (sum_counts) {
    s->in = g[0];
    s->out = g[1];
  }
  for (int q = 0; q < 16; ++q) s->by_status[q] = g[2 + q];
  double c = s->cpu_s, w = s->wall_s, gc = 0, gw = 0;
  MPI_Allreduce(&c, &gc, 1, MPI_DOUBLE, MPI_SUM, comm);
  MPI_Allreduce(&w, &gw, 1, MPI_DOUBLE, MPI_MAX, comm);
  s->cpu_s = gc;
  s->wall_s = gw;
}

static void print_summary(const ms_funnel_summary *sum, int size) {
  if (!ms_log_is_root() || ms_log_get_level() < MS_LOG_INFO) return;
  fprintf(stderr, "\nfunnel summary (%d rank%s, %.2f s):\n", size, size == 1 ? "" : "s", sum->wall_s);
  fprintf(stderr, "  %-14s %12s %12s %10s %10s  %s\n", "stage", "in", "out", "cpu_s", "wall_s", "failures / rejections");
  fprintf(stderr, "  %-14s %12s %12s %10s %10.2f  %s\n", "setup", "", "", "", sum->setup_s,
          "potential, model, generators");
  for (int k = 0; k < sum->nstages; ++k) {
    const ms_funnel_stage_stats *s = &sum->stats[k];
    char fails[256] = "";
    for (int q = 0; q < MS_STATUS_COUNT_; ++q)
      if (s->by_status[q]) {
        char one[64];
        snprintf(one, sizeof one, "%s%s %lld", fails[0] ? ", " : "", ms_status_name((ms_status)q), s->by_status[q]);
        strncat(fails, one, sizeof fails - strlen(fails) - 1);
      }
    fprintf(stderr, "  %-14s %12lld %12lld %10.2f %10.2f  %s\n", s->name, s->in, s->out, s->cpu_s, s->wall_s, fails);
  }
  fprintf(stderr, "output: %s\n", sum->output);
}

static void run_init(run_ctx *x, MPI_Comm comm, ms_campaign *c, ms_funnel_summary *sum) {
  memset(x, 0, sizeof *x);
  x->comm = comm;
  x->camp = c;
  x->sum = sum;
  x->store_item = -1;
  x->keep_item = -1;
  MPI_Comm_rank(comm, &x->rank);
  MPI_Comm_size(comm, &x->size);
}

/* ---- the run ------------------------------------------------------------------------------------ */

/* Everything every rank needs before the first candidate; agreed on before returning. */
static ms_err setup(run_ctx *x, ms_campaign *c) {
  ms_err e = ms__fn_stage_models(x);
  /* Stage options first: they are cheap to check, while setting up a generator can take a
   * noticeable time (random search tabulates Wyckoff positions of all space groups). */
  if (!e) e = create_items(x);
  ms_ynode *search = ms_ynode_get(ms_ydoc_root(c->doc), "search");
  /* random_search keeps pairs outside the catastrophe guards of every model of the campaign */
  ms_model guard[MS_MAX_STAGES + 1];
  int nguard = e ? 0 : ms__fn_models(x, guard);
  if (!e) e = ms_search_create_with_models(search, c->seed, guard, nguard, &x->search);
  if (!e && ms_search_count(x->search) == 0)
    e = ms_ynode_error(search, "search", "empty search space: no generator produces a candidate "
                       "(for substitutions: no charge-neutral assignment of the ions)");
  if (!e) e = ms__fn_check_species_kinds(x);
  if (!e) e = ms__fn_check_coverage(x);
  for (int k = 0; k < x->nitems && !e; ++k)
    if (x->item_info[k]->ops->check) e = x->item_info[k]->ops->check(x->item_state[k], x);
  if (!e) e = create_sections(x);
  e = ms_err_agree(x->comm, e);
  if (!e) e = ms__labfeed_setup(x->comm, c, &x->lab);
  x->round = x->lab.round > 0 ? x->lab.round : 1;
  if (!e) e = ms_campaign_check_unused(c);
  return ms_err_agree(x->comm, e);
}

static void teardown(run_ctx *x) {
  for (int k = 0; k < x->nitems + 1 && k < MS_MAX_STAGES + 4; ++k)
    if (x->item_state[k] && x->item_info[k] && x->item_info[k]->ops->destroy) {
      x->item_info[k]->ops->destroy(x->item_state[k]);
      x->item_state[k] = NULL;
    }
  ms__labfeed_free(&x->lab);
  ms_search_destroy(&x->search);
  ms__fn_models_free(x);
  free(x->rout);
  free(x->structs.b);
  x->rout = NULL;
  x->structs.b = NULL;
}

/* The checkpoint's header: what must not change between a run and its --resume. The frames'
 * layout follows the stage list (one count row per filter stage, the records' sizes), so the
 * header names the stages and the sizes; a header of another format version is refused with
 * the reason (spool.c). */
static char *fingerprint(run_ctx *x) {
  char *resolved = ms_campaign_resolved_yaml(x->camp);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = resolved ? resolved : ""; *p; ++p) {
    h ^= (unsigned char)*p;
    h *= 0x100000001b3ULL;
  }
  free(resolved);
  char stages[512] = "generate";
  size_t used = strlen(stages);
  for (int k = 0; k < x->nitems; ++k) {
    int w = snprintf(stages + used, sizeof stages - used, ",%s:%s", x->item_info[k]->name,
                     x->item_info[k]->shape == MS_STAGE_SHAPE_FILTER      ? "filter"
                     : x->item_info[k]->shape == MS_STAGE_SHAPE_TRANSFORM ? "transform"
                                                                          : "collective");
    if (w > 0 && (size_t)w < sizeof stages - used) used += (size_t)w;
  }
  char *fp = malloc(1024);
  if (fp)
    snprintf(fp, 1024,
             "matscreen checkpoint %d\nprogram matscreen %s\ncampaign_hash %016llx\ncandidates %lld\n"
             "block_a %lld\nstages %s\nframe_a %zu count bytes + %zu per record\nframe_b %zu per outcome\n",
             MS_CHECKPOINT_FORMAT, MS_VERSION, (unsigned long long)h, (long long)x->total, (long long)x->ba, stages,
             ms__fn_astats_size(x), sizeof(ms_arec), sizeof(relax_out));
  return fp;
}

static ms_err interrupted(run_ctx *x, const char *output, int why) {
  return ms__err_set(MS_ERR_INTERRUPTED, __FILE__, __LINE__, __func__,
                     "stopped by %s before the end; the finished work is committed in %s. Continue "
                     "with: mpirun -n N matscreen run %s -o %s --resume  (any N)",
                     ms__stop_reason(why), ms__spool_dir(x->spool), x->camp->file, output);
}

/* A safe point between the stages after the relaxations (collective): every rank's stop request
 * is agreed on, and a stop ends the run here. Everything these stages compute comes from the
 * committed relaxations, so --resume recomputes it (seconds to minutes) and loses nothing. */
ms_err ms__fn_stop_point(run_ctx *x, const char *next_stage) {
  int mine = ms__stop_requested(0), why = 0;
  MPI_Allreduce(&mine, &why, 1, MPI_INT, MPI_MAX, x->comm);
  if (!why) {
    ms__stop_test_hook(next_stage, x->rank, x->size); /* a signal during next_stage, for tests */
    return MS_SUCCESS;
  }
  ms_err e = MS_ERR_INTERRUPTED;
  if (x->rank == 0)
    e = ms__err_set(MS_ERR_INTERRUPTED, __FILE__, __LINE__, __func__,
                    "stopped by %s before %s%s; the relaxations are committed in %s. Continue "
                    "with: mpirun -n N matscreen run %s -o %s --resume  (any N; the stages after the "
                    "relaxations and the output are recomputed from the committed work)",
                    ms__stop_reason(why), strcmp(next_stage, "output") == 0 ? "writing the output" : "the stage ",
                    strcmp(next_stage, "output") == 0 ? "" : next_stage, ms__spool_dir(x->spool), x->camp->file,
                    x->sum->output);
  return ms_err_agree(x->comm, e);
}


/* Send the relaxation outcomes and the kept structures to the ranks that write their rows
 * (the owners of their phase-A blocks); both come back sorted by id. */
static ms_err merge_to_writers(run_ctx *x, const relax_out *rout, int64_t nrout, const bytes *structs,
                               relax_out **mrel, int64_t *nmrel, char **mst, size_t *nmst, sref **refs,
                               int64_t *nrefs) {
  int *dest = calloc((size_t)nrout + 1, sizeof *dest);
  size_t *off = calloc((size_t)nrout + 2, sizeof *off);
  ms_err e = dest && off ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  char *rb = NULL;
  size_t nb = 0;
  if (!e) {
    for (int64_t k = 0; k < nrout; ++k) {
      dest[k] = owner_of_block(rout[k].id / x->ba, x->nba, x->size);
      off[k] = (size_t)k * sizeof(relax_out);
    }
    off[nrout] = (size_t)nrout * sizeof(relax_out);
    e = ms_err_agree(x->comm, ms__comm_alltoall_bytes(x->comm, nrout, dest, off, (const char *)rout, &rb, &nb));
  }
  *mrel = (relax_out *)rb;
  *nmrel = (int64_t)(nb / sizeof(relax_out));
  if (!e) {
    /* structures of kept relaxations: packed in the order of rout, one per converged one */
    bytes kept = {0};
    int64_t m = 0;
    size_t p = 0;
    off[0] = 0;
    for (int64_t q = 0; q < nrout && !e; ++q) {
      if (rout[q].status != MS_STATUS_CONVERGED) continue;
      const sheader *h = (const sheader *)(structs->b + p);
      size_t len = sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
      /* the structures of the dedup survivors (passed the relax keep rule, not a duplicate),
       * also those the hull stage removed, so /structures holds every crystal dedup compared */
      int relax_no = x->store_item + 1;
      if (rout[q].kept || (rout[q].stage_reached >= relax_no && rout[q].duplicate_of < 0)) {
        size_t at = kept.n;
        e = ms__fn_bytes_put(&kept, structs->b + p, len);
        if (!e) ((sheader *)(kept.b + at))->survived = rout[q].kept != 0;
        dest[m] = owner_of_block(h->id / x->ba, x->nba, x->size);
        off[m + 1] = kept.n;
        m++;
      }
      p += len;
    }
    e = ms_err_agree(x->comm, e);
    if (!e) e = ms_err_agree(x->comm, ms__comm_alltoall_bytes(x->comm, m, dest, off, kept.b ? kept.b : "", mst, nmst));
    free(kept.b);
  }
  free(dest);
  free(off);
  if (e) return e;
  if (*nmrel > 0) qsort(*mrel, (size_t)*nmrel, sizeof **mrel, cmp_relax);
  int64_t n = 0;
  for (size_t p = 0; p < *nmst; ++n) {
    const sheader *h = (const sheader *)(*mst + p);
    p += sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
  }
  *refs = malloc(((size_t)n + 1) * sizeof **refs);
  e = ms_err_agree(x->comm, *refs ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (e) return e;
  int64_t k = 0;
  for (size_t p = 0; p < *nmst; ++k) {
    const sheader *h = (const sheader *)(*mst + p);
    (*refs)[k] = (sref){h->id, h, (const ssite *)(*mst + p + sizeof(sheader))};
    p += sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
  }
  *nrefs = n;
  if (n > 0) qsort(*refs, (size_t)n, sizeof **refs, cmp_sref);
  return MS_SUCCESS;
}

double ms__fn_peak_rss_mib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kb = 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = atof(line + 6);
  fclose(f);
  return kb / 1024.0;
}



ms_err ms_funnel_run(MPI_Comm comm, ms_campaign *c, const ms_funnel_options *optin,
                     ms_funnel_summary *sum) {
  ms_funnel_options opt;
  if (optin) opt = *optin; else ms_funnel_options_default(&opt);
  memset(sum, 0, sizeof *sum);
  run_ctx x;
  run_init(&x, comm, c, sum);
  x.opt = &opt;
  double t_start = (double)time(NULL), w0 = MPI_Wtime();
  snprintf(sum->output, sizeof sum->output, "%s", opt.output ? opt.output : c->output);

  /* The wall clock of --max-walltime starts here, before the set-up, which can take seconds
   * (random search) and counts against a batch job's limit like everything else. */
  ms__stop_install(opt.max_walltime_s);
  ms_err e = setup(&x, c);
  sum->setup_s = MPI_Wtime() - w0;
  sum->candidates = e ? 0 : ms_search_count(x.search);
  if (e || opt.dry_count) {
    teardown(&x);
    ms__stop_restore();
    return e;
  }
  snprintf(sum->stats[0].name, 32, "generate");
  for (int k = 0; k < x.nitems; ++k) snprintf(sum->stats[1 + k].name, 32, "%s", x.item_info[k]->name);
  sum->nstages = 1 + x.nitems;
  x.total = sum->candidates;
  x.ba = block_size_a(x.total);
  x.nba = (x.total + x.ba - 1) / x.ba;
  if (ms_log_is_root())
    ms_log_info("campaign %s: %lld candidates from %d generator%s, potential %s, %d rank%s (set-up %.2f s)",
                c->name, sum->candidates, c->nsearch, c->nsearch == 1 ? "" : "s", ms_model_name(x.model),
                x.size, x.size == 1 ? "" : "s", sum->setup_s);
  for (int k = 0; k < c->nstages && ms_log_is_root(); ++k)
    if (c->stage[k].has_model)
      ms_log_info("  %s evaluates with its own model %s", c->stage[k].name, ms_model_name(x.item_model[k]));
  char *fp = fingerprint(&x);
  e = ms_err_agree(comm, fp ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (!e) e = ms__spool_open(comm, sum->output, fp, opt.resume, &x.spool);
  free(fp);
  int stopped = 0;
  double wa = MPI_Wtime();
  if (!e) e = phase_a(&x, &stopped);
  wa = MPI_Wtime() - wa;
  if (!e && !stopped) e = after_phase_a(&x);
  if (!e && !stopped) {
    sum->stats[0].wall_s = wa;
    for (int q = 0; q < x.nfilter; ++q) sum->stats[1 + x.filter_item[q]].wall_s = wa;
  }
  /* The survivor-set stages in order, each one collective pass. Once the relaxations are read
   * back, every stage starts at a safe point: a stop there ends the run (resumable) and loses
   * nothing, since what these stages compute comes from the committed relaxations. */
  for (int k = 0; k < x.nitems && !e && !stopped; ++k) {
    const ms_stage_info *info = x.item_info[k];
    if (info->shape == MS_STAGE_SHAPE_FILTER || !info->ops->run) continue;
    if (x.relaxed) e = ms__fn_stop_point(&x, info->name);
    if (!e) e = ms_err_agree(comm, info->ops->run(x.item_state[k], &x, &stopped));
  }
  if (!e && stopped) e = ms_err_agree(comm, x.rank == 0 ? interrupted(&x, sum->output, stopped) : MS_ERR_INTERRUPTED);
  /* The signal handlers stay until the end: a stop during the later stages takes effect at the
   * next safe point, and one during the output lets the output finish (docs/reliability.md). */
  for (int k = 0; k < x.nitems && !e; ++k)
    if (x.item_info[k]->ops->finish) e = ms_err_agree(comm, x.item_info[k]->ops->finish(x.item_state[k], &x));
  /* rows are written by the owners of the phase-A blocks */
  relax_out *mrel = NULL;
  int64_t nmrel = 0, nrefs = 0;
  char *mst = NULL;
  size_t nmst = 0;
  sref *refs = NULL;
  if (!e) e = merge_to_writers(&x, x.rout, x.nrout, &x.structs, &mrel, &nmrel, &mst, &nmst, &refs, &nrefs);
  if (!e) e = ms__fn_stop_point(&x, "output");
  if (!e) {
    e = ms__fn_write_output(&x, sum->output, mrel, nmrel, refs, nrefs, sum, t_start, w0);
    int mine = ms__stop_requested(0), why = 0;
    MPI_Allreduce(&mine, &why, 1, MPI_INT, MPI_MAX, comm);
    if (why && !e && ms_log_is_root())
      ms_log_info("%s arrived while the output was written: it was finished instead (%s is complete)",
                  ms__stop_reason(why), sum->output);
  }
  free(mrel);
  free(mst);
  free(refs);
  sum->wall_s = MPI_Wtime() - w0;
  if (!e) e = ms__spool_finish(&x.spool, 1);
  if (!e) {
    print_summary(sum, x.size);
    if (x.rank == 0 && x.reason_report && ms_log_get_level() >= MS_LOG_INFO) fputs(x.reason_report, stderr);
    e = ms__labfeed_push(comm, &x.lab, sum->output);
  } else {
    ms__spool_close(&x.spool); /* committed work stays for --resume */
  }
  free(x.sv);
  free(x.reason_report);
  teardown(&x);
  ms__stop_restore();
  return e;
}

ms_err ms_funnel_check(MPI_Comm comm, ms_campaign *c, int calibrate, FILE *fp) {
  run_ctx x;
  ms_funnel_summary sum;
  memset(&sum, 0, sizeof sum);
  run_init(&x, comm, c, &sum);
  ms_err e = setup(&x, c);
  if (e) {
    teardown(&x);
    return e;
  }
  int64_t total = ms_search_count(x.search);
  /* Calibration on rank 0 only (calibrate.c): the same work on every rank would only repeat
   * the same numbers. */
  ms__fn_cost calib;
  memset(&calib, 0, sizeof calib);
  if (x.rank == 0 && calibrate && total > 0) e = ms__fn_calibrate(&x, total, &calib);
  e = ms_err_agree(comm, e);
  if (!e && x.rank == 0) {
    char *resolved = ms_campaign_resolved_yaml(c);
    fprintf(fp, "%s\n", resolved ? resolved : "");
    free(resolved);
    fprintf(fp, "options (as given, or the default from the declared specs):\n");
    ms_opts_print(ms_campaign_spec, ms_ynode_get(ms_ydoc_root(c->doc), "campaign"), "campaign", fp);
    for (int k = 0; k < x.nitems; ++k) {
      char path[64];
      if (k < c->nstages) snprintf(path, sizeof path, "funnel[%d]", k);
      else snprintf(path, sizeof path, "%s", x.item_info[k]->section);
      ms_ynode *node = k < c->nstages ? c->stage[k].node : ms_ynode_get(ms_ydoc_root(c->doc), x.item_info[k]->section);
      ms_stage_print_options(x.item_info[k], node, path, fp);
    }
    fprintf(fp, "search space: %lld candidates\n", (long long)total);
    for (int k = 0; k < ms_search_nitems(x.search); ++k) {
      ms_generator g = ms_search_generator(x.search, k);
      fprintf(fp, "  search[%d] %-24s %lld candidates (ids %lld..%lld)\n", k,
              ms_generator_type(g)->name, (long long)ms_generator_count(g),
              (long long)ms_search_offset(x.search, k),
              (long long)(ms_search_offset(x.search, k) + ms_generator_count(g) - 1));
      ms_generator_describe(g, fp);
    }
    if (calibrate) ms__fn_cost_print(&x, total, &calib, fp);
    for (int k = 0; k < x.nitems; ++k)
      if (x.item_info[k]->ops->describe) x.item_info[k]->ops->describe(x.item_state[k], &x, fp);
    fflush(fp);
  }
  teardown(&x);
  return e;
}
