/* The campaign funnel (see funnel.h): generate -> [prefilter] -> single point (+ volume scan)
 * -> keep -> relax -> keep -> output.
 *
 * Data flow. Phase A streams candidate ids through the dynamic scheduler; each rank builds,
 * filters and evaluates its chunks and keeps a compact record per evaluated candidate. The keep
 * rule is then applied collectively (keep.c). Phase B hands out the survivors again (their ids
 * and chosen volume scales are all-gathered, sorted by id) and relaxes them; relaxed energies
 * and structures stay where they were computed until the end. For the output, records, relax
 * results and relaxed structures are sent to "owner" ranks by id range and merged there, so
 * rank r writes ids in [r N/P, (r+1) N/P) and the files' rows are sorted by candidate id for any
 * number of ranks.
 *
 * The run's state (run_ctx) and the types shared with the stages kept in their own files are in
 * funnel_impl.h; the surrogate stage is surrogate_stage.c, the shortlist shortlist_stage.c,
 * the HDF5 output funnel_output.c, dedup and hull helpers stability.c, the keep rules keep.c,
 * the checkpoint spool.c. */
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
#include "matscreen/prefilter.h"
#include "matscreen/prototype.h"
#include "matscreen/relax.h"
#include "matscreen/schedule.h"
#include "matscreen/shortlist.h"
#include "matscreen/status.h"
#include "matscreen/surrogate.h"
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

/* ---- configuration of the stages ------------------------------------------------------------- */

/* hull.references: "auto", or {auto: true, structures: [FILE, ...], entries: FILE.csv}. */
static ms_err read_references(run_ctx *x, ms_ynode *v, const char *path) {
  char p3[160];
  if (v->type != MS_YMAP) {
    const char *ref;
    MS_CALL(ms_ynode_string(v, path, &ref));
    if (strcmp(ref, "auto") != 0)
      return ms_ynode_error(v, path, "must be 'auto' or a mapping {auto: true, structures: [FILES], entries: FILE.csv}, got '%s'", ref);
    return MS_SUCCESS;
  }
  ms_ynode *q;
  if ((q = ms_ynode_get(v, "auto"))) {
    int a = 1;
    snprintf(p3, sizeof p3, "%s.auto", path);
    MS_CALL(ms_ynode_bool(q, p3, &a));
    if (!a)
      return ms_ynode_error(q, p3, "the automatic references (the elements, or the binary end members for a "
                                   "rigid-ion model) are always built and relaxed by the campaign; user "
                                   "references add competing phases");
  }
  if ((q = ms_ynode_get(v, "structures"))) {
    snprintf(p3, sizeof p3, "%s.structures", path);
    MS_CALL(ms_ynode_expect(q, MS_YSEQ, p3));
    x->ref_paths = calloc((size_t)q->n + 1, sizeof *x->ref_paths);
    MS_CHECK(x->ref_paths, MS_ERR_MEM, "out of memory");
    for (int k = 0; k < q->n; ++k) {
      const char *f;
      char p4[200];
      snprintf(p4, sizeof p4, "%s[%d]", p3, k);
      MS_CALL(ms_ynode_string(q->items[k], p4, &f));
      x->ref_paths[k] = ms_campaign_path(x->camp, f);
      MS_CHECK(x->ref_paths[k], MS_ERR_MEM, "out of memory");
      x->nref_paths = k + 1;
      FILE *t = fopen(x->ref_paths[k], "r");
      if (!t) return ms_ynode_error(q->items[k], p4, "cannot read '%s'", x->ref_paths[k]);
      fclose(t);
    }
  }
  if ((q = ms_ynode_get(v, "entries"))) {
    const char *f;
    snprintf(p3, sizeof p3, "%s.entries", path);
    MS_CALL(ms_ynode_string(q, p3, &f));
    x->ref_csv = ms_campaign_path(x->camp, f);
    MS_CHECK(x->ref_csv, MS_ERR_MEM, "out of memory");
    FILE *t = fopen(x->ref_csv, "r");
    if (!t) return ms_ynode_error(q, p3, "cannot read '%s'", x->ref_csv);
    fclose(t);
  }
  if ((q = ms_ynode_get(v, "binaries"))) {
    snprintf(p3, sizeof p3, "%s.binaries", path);
    if (q->type == MS_YSEQ) {
      int cap = (int)(sizeof x->refs_opt.only / sizeof x->refs_opt.only[0]);
      if (q->n < 1 || q->n > cap) return ms_ynode_error(q, p3, "must list 1 to %d prototypes, got %d", cap, q->n);
      for (int k = 0; k < q->n; ++k) {
        const char *f;
        char p4[200];
        snprintf(p4, sizeof p4, "%s[%d]", p3, k);
        MS_CALL(ms_ynode_string(q->items[k], p4, &f));
        snprintf(x->refs_opt.only[k], sizeof x->refs_opt.only[k], "%s", f);
        /* validated here, where the node is at hand for the message */
        if (ms__refs_check_binary(f)) {
          char msg[512];
          snprintf(msg, sizeof msg, "%s", ms_err_message());
          ms_err_clear();
          return ms_ynode_error(q->items[k], p4, "%s", msg);
        }
      }
      x->refs_opt.nonly = q->n;
    } else {
      MS_CALL(ms_ynode_bool(q, p3, &x->refs_opt.binaries));
    }
  }
  static const char *const keys[] = {"auto", "structures", "entries", "binaries", NULL};
  return ms_ynode_check_unused(v, path, keys);
}

static ms_err read_stage_options(run_ctx *x) {
  ms_campaign *c = x->camp;
  x->refs_opt.binaries = 1;
  for (int k = 0; k < c->nstages; ++k) {
    ms_stage *st = &c->stage[k];
    x->st[st->kind].present = 1;
    x->st[st->kind].index = k;
    char path[64];
    snprintf(path, sizeof path, "funnel[%d]", k);
    ms_ynode *n = st->node, *v;
    if (st->kind == MS_STAGE_SINGLE_POINT) {
      x->scan_points = 0;
      if ((v = ms_ynode_get(n, "volume_scan"))) {
        char p2[96];
        snprintf(p2, sizeof p2, "%s.volume_scan", path);
        MS_CALL(ms_ynode_expect(v, MS_YMAP, p2));
        ms_ynode *a = ms_ynode_get(v, "min"), *b = ms_ynode_get(v, "max"), *q = ms_ynode_get(v, "points");
        if (!a || !b || !q) return ms_ynode_error(v, p2, "needs min, max and points");
        char p3[128];
        snprintf(p3, sizeof p3, "%s.min", p2);
        MS_CALL(ms_ynode_double(a, p3, &x->scan_min));
        snprintf(p3, sizeof p3, "%s.max", p2);
        MS_CALL(ms_ynode_double(b, p3, &x->scan_max));
        long long pts;
        snprintf(p3, sizeof p3, "%s.points", p2);
        MS_CALL(ms_ynode_int(q, p3, &pts));
        if (!(x->scan_min > 0.2 && x->scan_min <= x->scan_max && x->scan_max < 5))
          return ms_ynode_error(v, p2, "need 0.2 < min <= max < 5 (volume factors), got %g and %g",
                                x->scan_min, x->scan_max);
        if (pts < 1 || pts > 200) return ms_ynode_error(q, p3, "must be in 1..200, got %lld", pts);
        x->scan_points = (int)pts;
        static const char *const keys[] = {"min", "max", "points", NULL};
        MS_CALL(ms_ynode_check_unused(v, p2, keys));
      }
    } else if (st->kind == MS_STAGE_SURROGATE) {
      MS_CALL(ms__sur_read_options(x, st, path));
    } else if (st->kind == MS_STAGE_RELAX) {
      /* The scalar options from the stage's spec (stage_list.c); the relaxer's own defaults
       * stand for the absent ones (the spec's defaults are the same, test_stages checks). */
      const ms_opt_spec *spec = ms_stage_of_kind(st->kind)->options;
      ms_opt_value val[16];
      MS_CALL(ms_opts_read(n, path, spec, val));
      const ms_opt_value *o;
      ms_relax_options ro;
      ms_relax_options_default(&ro);
      if ((o = ms_opts_get(spec, val, "cell"))->set) MS_CALL(ms_relax_cell_from_name(o->s, &ro.cell));
      if ((o = ms_opts_get(spec, val, "fmax"))->set) ro.fmax = o->num;
      if ((o = ms_opts_get(spec, val, "smax"))->set) ro.smax = o->num;
      if ((o = ms_opts_get(spec, val, "pressure"))->set) ro.pressure = o->num;
      if ((o = ms_opts_get(spec, val, "max_steps"))->set) ro.max_steps = (int)o->i;
      if ((o = ms_opts_get(spec, val, "tao_options"))->set) ro.petsc_options = o->s;
      MS_CALL(ms_relax_create(x->stage_model[MS_STAGE_RELAX], &ro, &x->relax));
    } else if (st->kind == MS_STAGE_PREFILTER) {
      char p2[96];
      snprintf(p2, sizeof p2, "%s.rules", path);
      ms_ynode *rules = ms_ynode_get(n, "rules");
      if (!rules) return ms_ynode_error(n, path, "missing required key 'rules' (e.g. {charge_neutral: true})");
      MS_CALL(ms_prefilter_create(rules, p2, &x->pf));
    } else if (st->kind == MS_STAGE_DEDUP || st->kind == MS_STAGE_HULL) {
      if (!x->st[MS_STAGE_RELAX].present)
        return ms_ynode_error(ms_ynode_get(n, "stage"), path,
                              "the %s stage works on relaxed structures: put a relax stage before it", st->name);
      char p2[96];
      if (st->kind == MS_STAGE_DEDUP) {
        const ms_opt_spec *spec = ms_stage_of_kind(st->kind)->options;
        ms_opt_value val[16];
        MS_CALL(ms_opts_read(n, path, spec, val));
        const ms_opt_value *o;
        ms_match_options_default(&x->mopt);
        if ((o = ms_opts_get(spec, val, "ltol"))->set) x->mopt.ltol = o->num;
        if ((o = ms_opts_get(spec, val, "stol"))->set) x->mopt.stol = o->num;
        if ((o = ms_opts_get(spec, val, "angle_tol"))->set) x->mopt.angle_tol = o->num;
        x->dedup_etol = MS_DEDUP_ENERGY_TOL;
        if ((o = ms_opts_get(spec, val, "energy_tol"))->set) x->dedup_etol = o->num;
        if ((o = ms_opts_get(spec, val, "compare"))->set) x->mopt.compare_elements = o->choice == 1;
      } else if ((v = ms_ynode_get(n, "references"))) {
        snprintf(p2, sizeof p2, "%s.references", path);
        MS_CALL(read_references(x, v, p2));
      }
    }
    ms_ynode_get(n, "stage");
    ms_ynode_get(n, "keep");
  }
  return MS_SUCCESS;
}

static void reduce_stats(MPI_Comm comm, ms_funnel_stage_stats *s, int sum_counts);
static int cmp_survivor(const void *a, const void *b) {
  int64_t x = ((const survivor *)a)->id, y = ((const survivor *)b)->id;
  return (x > y) - (x < y);
}

/* ---- phase A: generate + single point ------------------------------------------------------- */

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

/* Evaluate the single point of @p cell (with the volume scan of prototype.h when configured);
 * fills e_single, volume_scale, status of @p r. Per-candidate problems become statuses. */
static ms_err single_point(run_ctx *x, ms_cell *cell, ms_cell *work, ms_arec *r) {
  MS_CALL(ms_cell_copy(work, cell));
  double energy = NAN, factor = 1.0;
  ms_status status;
  ms_err e;
  if (x->scan_points > 0) {
    ms_volume_scan_options vo;
    ms_volume_scan_options_default(&vo);
    vo.vmin = x->scan_min;
    vo.vmax = x->scan_max;
    vo.points = x->scan_points;
    ms_volume_scan_result vr;
    e = ms_volume_scan(x->stage_model[MS_STAGE_SINGLE_POINT], work, &vo, &vr);
    status = vr.status;
    energy = vr.energy;
    factor = vr.best_factor;
    if (!e && status != MS_STATUS_OK) ms__fn_set_reason(r->reason, "single point %s: %s", ms_status_name(status), vr.detail);
  } else {
    ms_model_result res;
    res.forces = NULL;
    e = ms_model_compute(x->stage_model[MS_STAGE_SINGLE_POINT], work, 0, &res);
    status = res.status;
    energy = res.energy;
    if (!e && status != MS_STATUS_OK) ms__fn_set_reason(r->reason, "single point %s: %s", ms_status_name(status), res.detail);
  }
  if (e == MS_ERR_INPUT) { /* a species the model does not cover */
    ms_err_clear();
    r->status = MS_STATUS_UNSUPPORTED;
    ms__fn_uncovered_reason(x->stage_model[MS_STAGE_SINGLE_POINT], cell, r->reason, sizeof r->reason);
    return MS_SUCCESS;
  }
  MS_CALL(e);
  r->status = status;
  r->e_single = status == MS_STATUS_OK ? energy / cell->natoms : NAN;
  r->volume_scale = status == MS_STATUS_OK ? factor : 1.0;
  return MS_SUCCESS;
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
/* Relaxations cost milliseconds to seconds each: one per block up to 262144 survivors, so that
 * even 10^6 relaxations on thousands of ranks end together. */
static int64_t block_size_b(int64_t n) {
  int64_t b = (n + 262143) / 262144;
  return b < 1 ? 1 : b;
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
static ms_err todo_blocks(run_ctx *x, int kind, int64_t nb, int64_t **todo, int64_t *ntodo) {
  *todo = malloc(((size_t)nb + 1) * sizeof **todo);
  MS_CHECK(*todo, MS_ERR_MEM, "out of memory");
  int64_t n = 0;
  for (int64_t b = 0; b < nb; ++b)
    if (!ms__spool_find(x->spool, kind, b)) (*todo)[n++] = b;
  *ntodo = n;
  return MS_SUCCESS;
}

/* Generate, prefilter and evaluate the ids of block @p b into @p recs (+ counts in @p st). */
static ms_err run_block_a(run_ctx *x, int64_t b, ms_cell *cell, ms_cell *work, ms_astats *st,
                          ms_arec *recs, uint32_t *nrec) {
  memset(st, 0, sizeof *st);
  *nrec = 0;
  int has_pf = x->st[MS_STAGE_PREFILTER].present, has_sp = x->st[MS_STAGE_SINGLE_POINT].present;
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
    st->in[0]++;
    snprintf(r.prototype, sizeof r.prototype, "%s", info.prototype);
    r.spacegroup = info.spacegroup;
    r.natoms = cell->natoms;
    if (info.status != MS_STATUS_OK) {
      r.status = info.status;
      r.reject_stage = 0;
      ms__fn_set_reason(r.reason, "%s", info.detail[0] ? info.detail : "the candidate could not be built");
      if (info.formula[0]) snprintf(r.formula, sizeof r.formula, "%s", info.formula);
      st->by_status[0][info.status & 15]++;
      st->busy_s[0] += MPI_Wtime() - t0;
      recs[(*nrec)++] = r;
      continue;
    }
    st->out[0]++;
    if (ms_cell_formula(cell, 1, r.formula, sizeof r.formula)) ms_err_clear();
    double t1 = MPI_Wtime();
    st->busy_s[0] += t1 - t0;
    if (has_pf) {
      st->in[1]++;
      ms_prefilter_result pr;
      MS_CALL(ms_prefilter_check(x->pf, cell, &pr));
      double t2 = MPI_Wtime();
      st->busy_s[1] += t2 - t1;
      t1 = t2;
      if (!pr.pass) {
        r.status = MS_STATUS_REJECTED;
        r.reject_stage = x->st[MS_STAGE_PREFILTER].index + 1;
        snprintf(r.rejected_by, sizeof r.rejected_by, "%s", pr.rules[pr.first_failed].rule);
        ms__fn_set_reason(r.reason, "prefilter %s: %s", pr.rules[pr.first_failed].rule,
                 pr.rules[pr.first_failed].reason);
        st->by_status[1][MS_STATUS_REJECTED]++;
        recs[(*nrec)++] = r;
        continue;
      }
      st->out[1]++;
    }
    if (has_sp) {
      st->in[2]++;
      MS_CALL(single_point(x, cell, work, &r));
      if (r.status != MS_STATUS_OK) {
        st->by_status[2][r.status & 15]++;
        r.reject_stage = x->st[MS_STAGE_SINGLE_POINT].index + 1;
      }
      st->busy_s[2] += MPI_Wtime() - t1;
      r.sp_time_s = MPI_Wtime() - t0;
    }
    recs[(*nrec)++] = r;
  }
  return MS_SUCCESS;
}

/* The loop shared by both phases: take blocks of @p todo from the scheduler, run @p fn on each
 * and commit its frame, until the work runs out, this rank is told to stop (*stop = reason), or
 * another rank cancels the hand-out (failure or stop there). */
typedef ms_err (*block_fn)(run_ctx *x, int64_t b, void *ctx);

static ms_err run_blocks(run_ctx *x, const char *stage, const int64_t *todo, int64_t ntodo,
                         int64_t max_chunk, int64_t items_per_block, int64_t items_total,
                         int64_t items_done_before, block_fn fn, void *ctx, int *stop) {
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

typedef struct {
  ms_cell cell, work;
  char *buf; /* ms_astats followed by up to ba records */
} a_ctx;

static ms_err block_a(run_ctx *x, int64_t b, void *vctx) {
  a_ctx *c = vctx;
  ms_astats *st = (ms_astats *)c->buf;
  ms_arec *recs = (ms_arec *)(c->buf + sizeof(ms_astats));
  uint32_t n = 0;
  MS_CALL(run_block_a(x, b, &c->cell, &c->work, st, recs, &n));
  return ms__spool_append(x->spool, MS_SPOOL_A, b, n, c->buf, sizeof(ms_astats) + (size_t)n * sizeof(ms_arec));
}

/* Agree on how a phase ended: failure (returned), a stop somewhere (*stopped = the largest
 * MS_STOP_* code of any rank), or done (*stopped = 0). */
static ms_err agree_end(run_ctx *x, ms_err err, int stop, int *stopped) {
  MS_CALL(ms_err_agree(x->comm, err));
  int mine = stop > 0 ? stop : 0, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, x->comm);
  *stopped = any;
  return ms__spool_exchange(x->spool);
}

static ms_err phase_a(run_ctx *x, int *stopped) {
  int64_t *todo = NULL, ntodo = 0;
  MS_CALL(todo_blocks(x, MS_SPOOL_A, x->nba, &todo, &ntodo));
  a_ctx c;
  ms_cell_init(&c.cell);
  ms_cell_init(&c.work);
  c.buf = malloc(sizeof(ms_astats) + (size_t)x->ba * sizeof(ms_arec));
  ms_err err = c.buf ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  err = ms_err_agree(x->comm, err);
  int stop = 0;
  if (!err) {
    int64_t done = (x->nba - ntodo) * x->ba;
    if (done > 0 && ms_log_is_root())
      ms_log_info("%lld of %lld candidates were committed before; evaluating the rest", (long long)done,
                  (long long)x->total);
    err = run_blocks(x, x->st[MS_STAGE_SINGLE_POINT].present ? "generate + single_point" : "generate", todo,
                     ntodo, 64, x->ba, x->total, done, block_a, &c, &stop);
  }
  ms_cell_free(&c.cell);
  ms_cell_free(&c.work);
  free(c.buf);
  free(todo);
  return agree_end(x, err, stop, stopped);
}

/* ---- after phase A: counts and the single-point keep, streamed from the checkpoint ---------- */

static void count_status(ms_funnel_stage_stats *s, int status) {
  if (status >= 0 && status < 16) s->by_status[status]++;
}

/* Read the phase-A frame of block @p b (payload malloc'ed: ms_astats then records). */
ms_err ms__fn_read_block_a(run_ctx *x, int64_t b, char **buf, uint32_t *n) {
  const ms_spool_entry *en = ms__spool_find(x->spool, MS_SPOOL_A, b);
  MS_CHECK(en, MS_ERR_INTERNAL, "block %lld of phase A has no committed frame", (long long)b);
  MS_CHECK(en->len == sizeof(ms_astats) + (uint64_t)en->nitems * sizeof(ms_arec), MS_ERR_FILE,
           "%s: the frame of block %lld has the wrong size (written by another version?)",
           ms__spool_dir(x->spool), (long long)b);
  *n = en->nitems;
  return ms__spool_read(x->spool, en, (void **)buf);
}

int ms__fn_eligible_a(const ms_arec *r) { return r->reject_stage < 0 && r->status == MS_STATUS_OK; }

/* The stage counts of phase A and its survivors (x->sv on every rank, sorted by id). */
static ms_err after_phase_a(run_ctx *x) {
  ms_funnel_summary *sum = x->sum;
  int sp_row = x->st[MS_STAGE_SINGLE_POINT].present ? 1 + x->st[MS_STAGE_SINGLE_POINT].index : -1;
  int pf_row = x->st[MS_STAGE_PREFILTER].present ? 1 + x->st[MS_STAGE_PREFILTER].index : -1;
  int rows[3] = {0, pf_row, sp_row};
  ms_keep_rule none;
  memset(&none, 0, sizeof none);
  none.max_energy_per_atom = none.max_above_best = none.max_e_above_hull = NAN;
  const ms_keep_rule *rule = sp_row > 0 ? &x->camp->stage[sp_row - 1].keep : &none;
  ms_keep_stream ks;
  ms__ks_init(&ks, rule);
  int64_t b0 = ms__comm_own_lo(x->nba, x->size, x->rank), b1 = ms__comm_own_lo(x->nba, x->size, x->rank + 1);
  ms_err err = MS_SUCCESS;
  for (int pass = 1; pass <= 2 && !err; ++pass) {
    for (int64_t b = b0; b < b1 && !err; ++b) {
      char *buf = NULL;
      uint32_t n = 0;
      err = ms__fn_read_block_a(x, b, &buf, &n);
      if (err) break;
      const ms_astats *st = (const ms_astats *)buf;
      const ms_arec *r = (const ms_arec *)(buf + sizeof(ms_astats));
      if (pass == 1)
        for (int q = 0; q < 3; ++q) {
          if (rows[q] < 0) continue;
          ms_funnel_stage_stats *o = &sum->stats[rows[q]];
          o->in += st->in[q];
          o->out += st->out[q];
          o->cpu_s += st->busy_s[q];
          for (int z = 0; z < 16; ++z) o->by_status[z] += st->by_status[q][z];
        }
      for (uint32_t k = 0; k < n && !err; ++k) {
        if (!ms__fn_eligible_a(&r[k])) continue;
        /* without a single-point stage there is no energy and no keep rule: all go on */
        double e = sp_row > 0 ? r[k].e_single : 0.0;
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
  for (int q = 0; q < 3; ++q)
    if (rows[q] >= 0) reduce_stats(x->comm, &sum->stats[rows[q]], 1);
  if (sp_row > 0) {
    sum->stats[sp_row].out = x->nsv;
    sum->stats[sp_row].by_status[MS_STATUS_REJECTED] += eligible - x->nsv;
  }
  return MS_SUCCESS;
}

/* ---- phase B: relax the survivors ------------------------------------------------------------ */

static ms_err pack_structure(bytes *b, int64_t id, const ms_cell *c) {
  sheader h;
  memset(&h, 0, sizeof h);
  h.id = id;
  h.natoms = c->natoms;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) h.lattice[3 * i + j] = c->lattice[i][j];
  MS_CALL(ms__fn_bytes_put(b, &h, sizeof h));
  for (int k = 0; k < c->natoms; ++k) {
    ssite s;
    memset(&s, 0, sizeof s);
    memcpy(s.f, c->frac[k], sizeof s.f);
    const ms_species *sp = &c->species[c->kind[k]];
    s.Z = sp->Z;
    s.has_ox = sp->has_ox;
    s.ox = sp->ox;
    MS_CALL(ms__fn_bytes_put(b, &s, sizeof s));
  }
  return MS_SUCCESS;
}

typedef struct {
  ms_cell cell;
  bytes frame; /* per survivor: relax_out, then the structure when converged */
} b_ctx;

static ms_err block_b(run_ctx *x, int64_t b, void *vctx) {
  b_ctx *c = vctx;
  c->frame.n = 0;
  int64_t first = b * x->bb, last = first + x->bb < x->nsv ? first + x->bb : x->nsv;
  for (int64_t k = first; k < last; ++k) {
    double t0 = MPI_Wtime();
    ms_candidate_info info;
    MS_CALL(ms_search_build(x->search, x->sv[k].id, &c->cell, &info));
    ms__fn_scale_volume(&c->cell, x->sv[k].volume_scale);
    ms_relax_result rr;
    memset(&rr, 0, sizeof rr);
    ms_err err = ms_relax_run(x->relax, &c->cell, &rr);
    relax_out o;
    memset(&o, 0, sizeof o);
    if (err == MS_ERR_INPUT) { /* uncovered species: a status, not a stop */
      ms_err_clear();
      err = MS_SUCCESS;
      rr.status = MS_STATUS_UNSUPPORTED;
      rr.energy = NAN;
      ms__fn_uncovered_reason(x->stage_model[MS_STAGE_RELAX], &c->cell, o.reason, sizeof o.reason);
    } else if (!err && rr.status != MS_STATUS_CONVERGED) {
      ms__fn_set_reason(o.reason, "relaxation %s%s%s", ms_status_name(rr.status), rr.detail[0] ? ": " : "",
               rr.detail);
    }
    MS_CALL(err);
    o.id = x->sv[k].id;
    o.e_relaxed = rr.status == MS_STATUS_CONVERGED ? rr.energy / c->cell.natoms : NAN;
    o.status = rr.status;
    o.iterations = rr.iterations;
    o.time_s = rr.time_s;
    o.natoms = c->cell.natoms;
    if (ms_cell_formula(&c->cell, 1, o.formula, sizeof o.formula)) ms_err_clear();
    snprintf(o.prototype, sizeof o.prototype, "%s", info.prototype);
    if (rr.status == MS_STATUS_CONVERGED) {
      int sg = 0;
      if (ms_spacegroup(&c->cell, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &sg, NULL)) ms_err_clear();
      o.spacegroup = sg;
    }
    o.busy_s = MPI_Wtime() - t0;
    MS_CALL(ms__fn_bytes_put(&c->frame, &o, sizeof o));
    if (rr.status == MS_STATUS_CONVERGED) MS_CALL(pack_structure(&c->frame, o.id, &c->cell));
  }
  return ms__spool_append(x->spool, MS_SPOOL_B, b, (uint32_t)(last - first), c->frame.b, c->frame.n);
}

/* Relax the survivor blocks @p todo (of @p per_block survivors each) over the scheduler. */
ms_err ms__fn_relax_blocks(run_ctx *x, const char *label, const int64_t *todo, int64_t ntodo, int64_t per_block,
                           int64_t items, int64_t done, int *stopped) {
  b_ctx c;
  memset(&c, 0, sizeof c);
  ms_cell_init(&c.cell);
  int stop = 0;
  ms_err err = run_blocks(x, label, todo, ntodo, 4, per_block, items, done, block_b, &c, &stop);
  ms_cell_free(&c.cell);
  free(c.frame.b);
  return agree_end(x, err, stop, stopped);
}

static ms_err phase_b(run_ctx *x, int *stopped) {
  x->bb = block_size_b(x->nsv);
  x->nbb = (x->nsv + x->bb - 1) / x->bb;
  int64_t *todo = NULL, ntodo = 0;
  MS_CALL(todo_blocks(x, MS_SPOOL_B, x->nbb, &todo, &ntodo));
  int64_t done = (x->nbb - ntodo) * x->bb;
  if (done > 0 && ms_log_is_root())
    ms_log_info("%lld of %lld relaxations were committed before", (long long)(done < x->nsv ? done : x->nsv),
                (long long)x->nsv);
  ms_err err = ms__fn_relax_blocks(x, "relax", todo, ntodo, x->bb, x->nsv, done, stopped);
  free(todo);
  return err;
}

/* Read back this rank's share of phase B (blocks by range, whoever computed them): outcomes in
 * survivor order and, for each converged one, its structure in @p structs. */
static ms_err read_phase_b(run_ctx *x, relax_out **outs, int64_t *nouts, bytes *structs) {
  int64_t b0 = ms__comm_own_lo(x->nbb, x->size, x->rank), b1 = ms__comm_own_lo(x->nbb, x->size, x->rank + 1);
  int64_t first = b0 * x->bb, last = b1 * x->bb < x->nsv ? b1 * x->bb : x->nsv;
  int64_t n = last > first ? last - first : 0, m = 0;
  relax_out *out = malloc(((size_t)n + 1) * sizeof *out);
  MS_CHECK(out, MS_ERR_MEM, "out of memory");
  ms_err err = MS_SUCCESS;
  for (int64_t b = b0; b < b1 && !err; ++b) {
    const ms_spool_entry *en = ms__spool_find(x->spool, MS_SPOOL_B, b);
    if (!en) {
      if (x->st[MS_STAGE_SURROGATE].present) continue; /* skipped by the surrogate filter */
      err = ms__err_set(MS_ERR_INTERNAL, __FILE__, __LINE__, __func__, "relaxation block %lld has no committed frame", (long long)b);
      break;
    }
    char *buf = NULL;
    err = ms__spool_read(x->spool, en, (void **)&buf);
    size_t p = 0;
    for (uint32_t q = 0; q < en->nitems && !err; ++q) {
      if (p + sizeof(relax_out) > en->len || m >= n) {
        err = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: damaged relaxation frame (block %lld)",
                          ms__spool_dir(x->spool), (long long)b);
        break;
      }
      memcpy(&out[m], buf + p, sizeof(relax_out));
      p += sizeof(relax_out);
      if (out[m].id != x->sv[b * x->bb + q].id) {
        err = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__,
                          "%s: relaxation block %lld holds candidate %lld where %lld was expected",
                          ms__spool_dir(x->spool), (long long)b, (long long)out[m].id, (long long)x->sv[b * x->bb + q].id);
        break;
      }
      if (out[m].status == MS_STATUS_CONVERGED) {
        sheader h;
        memcpy(&h, buf + p, sizeof h);
        size_t len = sizeof(sheader) + (size_t)h.natoms * sizeof(ssite);
        if (p + len > en->len) {
          err = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: damaged relaxation frame (block %lld)",
                            ms__spool_dir(x->spool), (long long)b);
          break;
        }
        err = ms__fn_bytes_put(structs, buf + p, len);
        p += len;
      }
      m++;
    }
    free(buf);
  }
  if (err) {
    free(out);
    return err;
  }
  *outs = out;
  *nouts = m;
  return MS_SUCCESS;
}


/* ---- the surrogate stage: active learning, then a filter before the relaxation -------------- */

int ms__fn_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Relax the survivors @p idx (blocks of one survivor; committed ones are skipped). */
/* Collective. The hull's reference phases for entries of compositions comps[0..n-1] (the same
 * on every rank): the end members of their cations (the first *nends) and the user's
 * references (hull.references). */
ms_err ms__fn_hull_references(run_ctx *x, const ms_composition *comps, int64_t n, ms_hull_ref **refs,
                              int *nrefs, int *nends) {
  ms_err e;
  if (x->refs_elements) {
    e = ms__fn_hull_refs_elements(x, comps, n, refs, nrefs, nends);
  } else {
    e = ms__hull_references_auto(x->comm, x->relax, comps, n, refs, nrefs);
    *nends = e ? 0 : *nrefs;
  }
  if (!e && (x->nref_paths || x->ref_csv)) {
    ms_hull_ref *ends = malloc(((size_t)*nends + 1) * sizeof *ends);
    e = ends ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    if (ends) memcpy(ends, *refs, (size_t)*nends * sizeof *ends);
    e = ms_err_agree(x->comm, e);
    if (!e)
      e = ms__hull_references_user(x->comm, x->relax, (const char *const *)x->ref_paths, x->nref_paths,
                                   x->ref_csv, ends, *nends, refs, nrefs);
    free(ends);
  }
  return ms_err_agree(x->comm, e);
}

/* ---- dedup and hull ------------------------------------------------------------------------- */

static ms_err hull_systems(run_ctx *x, const ms_composition *allc, int64_t n);
static ms_err hull_phase_rows(run_ctx *x, int64_t m, const int64_t *ids, const ms_composition *comps,
                              const double *en);

ms_err ms__fn_unpack_cell(const sheader *h, ms_cell *c) {
  ms_cell_free(c);
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = h->lattice[3 * i + j];
  ms_cell_set_lattice(c, L);
  const ssite *s = (const ssite *)(h + 1);
  for (int k = 0; k < h->natoms; ++k) {
    ms_species sp = {s[k].Z, s[k].has_ox, s[k].ox};
    MS_CALL(ms_cell_add_atom(c, &sp, s[k].f));
  }
  return MS_SUCCESS;
}

/* Dedup and hull on the relaxation survivors (rout[k].kept), where they were computed. */
static ms_err stability_stages(run_ctx *x, relax_out *rout, int64_t nrout, const bytes *structs) {
  ms_funnel_summary *sum = x->sum;
  int64_t m = 0;
  for (int64_t k = 0; k < nrout; ++k) m += rout[k].kept;
  ms_cell *cells = calloc((size_t)m + 1, sizeof *cells);
  int64_t *ids = malloc(((size_t)m + 1) * sizeof *ids), *which = malloc(((size_t)m + 1) * sizeof *which);
  double *en = malloc(((size_t)m + 1) * sizeof *en);
  ms_err e = (cells && ids && which && en) ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  size_t p = 0;
  int64_t q = 0;
  for (int64_t k = 0; k < nrout && !e; ++k) {
    if (rout[k].status != MS_STATUS_CONVERGED) continue;
    const sheader *h = (const sheader *)(structs->b + p);
    p += sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
    if (!rout[k].kept) continue;
    ms_cell_init(&cells[q]);
    e = ms__fn_unpack_cell(h, &cells[q]);
    ids[q] = rout[k].id;
    en[q] = rout[k].e_relaxed;
    which[q] = k;
    q++;
  }
  e = ms_err_agree(x->comm, e);
  if (!e && x->st[MS_STAGE_DEDUP].present) {
    int row = 1 + x->st[MS_STAGE_DEDUP].index;
    ms_funnel_stage_stats *ds = &sum->stats[row];
    double t0 = MPI_Wtime();
    int64_t *dup = malloc(((size_t)m + 1) * sizeof *dup);
    long long groups = 0, lm = m, gin = 0;
    MPI_Allreduce(&lm, &gin, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
    /* every rank must reach the collective dedup or none */
    e = ms_err_agree(x->comm, dup ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
    if (!e) e = ms_err_agree(x->comm, ms__dedup(x->comm, &x->mopt, m, ids, cells, en, dup, &groups));
    /* the representative of each group: the smallest, most symmetric cell among the members of
     * (about) the lowest energy, labelled with the library prototype it matches */
    ms_dedup_info *info = calloc((size_t)m + 1, sizeof *info);
    if (!e) e = ms_err_agree(x->comm, info ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
    for (int64_t k = 0; k < m && !e; ++k) {
      info[k].natoms = cells[k].natoms;
      info[k].spacegroup = rout[which[k]].spacegroup;
      snprintf(info[k].prototype, sizeof info[k].prototype, "%s", rout[which[k]].prototype);
    }
    if (!e) e = ms_err_agree(x->comm, ms__dedup_types(&x->mopt, m, cells, dup, info));
    long long changed = 0;
    if (!e) e = ms__dedup_representatives(x->comm, x->dedup_etol, m, ids, en, info, dup, &changed);
    if (!e && changed && ms_log_is_root())
      ms_log_verbose("dedup: %lld group%s represented by a smaller or more symmetric member than the lowest in energy",
                     changed, changed == 1 ? "" : "s");
    int64_t kept = 0;
    for (int64_t k = 0; k < m && !e; ++k) {
      relax_out *o = &rout[which[k]];
      if (dup[k] >= 0) {
        o->kept = 0;
        o->duplicate_of = dup[k];
        o->reject_stage = row;
        ms__fn_set_reason(o->reason, "duplicate of candidate %lld", (long long)dup[k]);
        count_status(ds, MS_STATUS_REJECTED);
      } else {
        o->stage_reached = row;
        memcpy(o->structure_type, info[k].type, sizeof o->structure_type);
        which[kept] = which[k];
        ids[kept] = ids[k];
        en[kept] = en[k];
        if (kept != k) {
          ms_cell tmp = cells[kept];
          cells[kept] = cells[k];
          cells[k] = tmp;
        }
        kept++;
      }
    }
    free(dup);
    free(info);
    m = kept;
    ds->in = gin;
    ds->out = groups;
    ds->cpu_s = MPI_Wtime() - t0;
    ds->wall_s = ds->cpu_s;
    reduce_stats(x->comm, ds, 0);
    if (!e && x->st[MS_STAGE_HULL].present) e = ms__fn_stop_point(x, "hull");
  }
  if (!e && x->st[MS_STAGE_HULL].present) {
    int row = 1 + x->st[MS_STAGE_HULL].index;
    ms_funnel_stage_stats *hs = &sum->stats[row];
    double t0 = MPI_Wtime();
    const ms_stage *st = &x->camp->stage[x->st[MS_STAGE_HULL].index];
    ms_composition *comps = calloc((size_t)m + 1, sizeof *comps);
    double *eh = malloc(((size_t)m + 1) * sizeof *eh);
    char (*dec)[MS_DECOMP_LEN] = calloc((size_t)m + 1, sizeof *dec);
    if (!comps || !eh || !dec) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t k = 0; k < m && !e; ++k) e = ms_composition_from_cell(&cells[k], &comps[k]);
    e = ms_err_agree(x->comm, e);
    /* the references need every rank's compositions */
    char *allb = NULL;
    size_t tot = 0;
    if (!e) e = ms__comm_allgather_bytes(x->comm, comps, (size_t)m * sizeof(ms_composition), &allb, &tot);
    if (!e) {
      ms_composition *allc = (ms_composition *)allb;
      e = ms__fn_hull_references(x, allc, (int64_t)(tot / sizeof(ms_composition)), &x->refs, &x->nrefs, &x->nends);
      if (!e) e = hull_systems(x, allc, (int64_t)(tot / sizeof(ms_composition)));
    }
    free(allb);
    if (!e) {
      x->ref_stable = calloc((size_t)x->nrefs + 1, 1);
      e = x->ref_stable ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    if (!e) e = ms__hull_stage(x->comm, x->refs, x->nrefs, x->nends, m, ids, comps, en, eh, dec, &x->stable_ids,
                               &x->nstable, x->ref_stable, x->refs_elements);
    e = ms_err_agree(x->comm, e);
    if (!e) e = ms_err_agree(x->comm, hull_phase_rows(x, m, ids, comps, en));
    long long lm = m, gin = 0;
    MPI_Allreduce(&lm, &gin, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
    hs->in = gin;
    for (int64_t k = 0; k < m && !e; ++k) {
      relax_out *o = &rout[which[k]];
      o->e_above_hull = eh[k];
      memcpy(o->decomposition, dec[k], MS_DECOMP_LEN);
      if (!isnan(st->keep.max_e_above_hull) && !(eh[k] <= st->keep.max_e_above_hull)) {
        o->kept = 0;
        o->reject_stage = row;
        ms__fn_set_reason(o->reason, "above the hull by %.3g eV/atom, more than the keep rule's %g", eh[k],
                 st->keep.max_e_above_hull);
        count_status(hs, MS_STATUS_REJECTED);
      } else {
        o->stage_reached = row;
        hs->out++;
      }
    }
    free(comps);
    free(eh);
    free(dec);
    hs->cpu_s = MPI_Wtime() - t0;
    hs->wall_s = hs->cpu_s;
    long long o = hs->out, go = 0;
    MPI_Allreduce(&o, &go, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
    reduce_stats(x->comm, hs, 0);
    hs->out = go;
  }
  for (int64_t k = 0; k < q; ++k) ms_cell_free(&cells[k]);
  free(cells);
  free(ids);
  free(which);
  free(en);
  return e;
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

/* ---- /hull per chemical system ---------------------------------------------------------------- */

static void system_name(const ms_composition *c, char *buf, size_t len) {
  ms__fn_system_name(c->sp, c->n, buf, len);
}

/* 1 if every element of @p c is in the system named @p sys. */
static int within(const ms_composition *c, const char *sys) {
  char one[64];
  system_name(c, one, sizeof one);
  for (char *tok = one; tok && *tok;) {
    char *dash = strchr(tok, '-');
    if (dash) *dash = 0;
    char pat[64];
    int found = 0;
    for (const char *p = sys; *p;) {
      const char *d = strchr(p, '-');
      size_t l = d ? (size_t)(d - p) : strlen(p);
      snprintf(pat, sizeof pat, "%.*s", (int)l, p);
      found |= strcmp(pat, tok) == 0;
      p = d ? d + 1 : p + l;
    }
    if (!found) return 0;
    tok = dash ? dash + 1 : NULL;
  }
  return 1;
}

static int cmp_hsys(const void *a, const void *b) {
  return strcmp(((const hull_system *)a)->name, ((const hull_system *)b)->name);
}

/* The distinct chemical systems of all hull entries (every rank has them all). */
static ms_err hull_systems(run_ctx *x, const ms_composition *allc, int64_t n) {
  x->hsys = calloc((size_t)n + 1, sizeof *x->hsys);
  MS_CHECK(x->hsys, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < n; ++k) system_name(&allc[k], x->hsys[k].name, sizeof x->hsys[k].name);
  if (n > 0) qsort(x->hsys, (size_t)n, sizeof *x->hsys, cmp_hsys);
  int64_t u = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (u > 0 && strcmp(x->hsys[u - 1].name, x->hsys[k].name) == 0) {
      x->hsys[u - 1].entries++;
    } else {
      x->hsys[u] = x->hsys[k];
      x->hsys[u].entries = 1;
      x->hsys[u].stable = 0;
      u++;
    }
  }
  x->nhsys = u;
  return MS_SUCCESS;
}

typedef struct {
  int64_t id;
  double e;
  ms_composition comp;
} stable_entry;

static int cmp_stable_entry(const void *a, const void *b) {
  int64_t x = ((const stable_entry *)a)->id, y = ((const stable_entry *)b)->id;
  return (x > y) - (x < y);
}

/* Rows of /hull/phases: for every system, its stable reference phases and candidates. */
static ms_err hull_phase_rows(run_ctx *x, int64_t m, const int64_t *ids, const ms_composition *comps,
                              const double *en) {
  stable_entry *loc = calloc((size_t)m + 1, sizeof *loc);
  ms_err e = ms_err_agree(x->comm, loc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  int64_t nl = 0;
  for (int64_t k = 0; k < m && !e; ++k)
    for (int64_t q = 0; q < x->nstable; ++q)
      if (x->stable_ids[q] == ids[k]) loc[nl++] = (stable_entry){ids[k], en[k], comps[k]};
  char *allb = NULL;
  size_t tot = 0;
  if (!e) e = ms__comm_allgather_bytes(x->comm, loc, (size_t)nl * sizeof *loc, &allb, &tot);
  free(loc);
  if (e) return e;
  stable_entry *all = (stable_entry *)allb;
  int64_t na = (int64_t)(tot / sizeof(stable_entry));
  if (na > 0) qsort(all, (size_t)na, sizeof *all, cmp_stable_entry);
  int64_t cap = (x->nhsys + 1) * (x->nrefs + na + 1);
  x->hrows = calloc((size_t)cap, sizeof *x->hrows);
  if (!x->hrows) {
    free(all);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  int64_t r = 0;
  for (int64_t s = 0; s < x->nhsys; ++s) {
    hull_system *sys = &x->hsys[s];
    for (int k = 0; k < x->nrefs; ++k)
      if (x->ref_stable[k] && within(&x->refs[k].comp, sys->name)) {
        hull_row *h = &x->hrows[r++];
        snprintf(h->system, sizeof h->system, "%s", sys->name);
        snprintf(h->formula, sizeof h->formula, "%s", x->refs[k].formula);
        snprintf(h->source, sizeof h->source, "%s", x->refs[k].prototype);
        h->id = -1;
        h->energy = x->refs[k].energy;
      }
    for (int64_t k = 0; k < na; ++k)
      if (within(&all[k].comp, sys->name)) {
        char one[64];
        system_name(&all[k].comp, one, sizeof one);
        if (strcmp(one, sys->name) == 0) sys->stable++;
        hull_row *h = &x->hrows[r++];
        snprintf(h->system, sizeof h->system, "%s", sys->name);
        if (ms_composition_formula(&all[k].comp, h->formula, sizeof h->formula)) ms_err_clear();
        snprintf(h->source, sizeof h->source, "candidate");
        h->id = all[k].id;
        h->energy = all[k].e;
      }
  }
  x->nhrows = r;
  free(all);
  return MS_SUCCESS;
}

/* ---- the run ------------------------------------------------------------------------------------ */

static void reduce_stats(MPI_Comm comm, ms_funnel_stage_stats *s, int sum_counts) {
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

/* Everything every rank needs before the first candidate; agreed on before returning. */
static ms_err setup(run_ctx *x, ms_campaign *c) {
  ms_err e = ms__fn_stage_models(x);
  /* Stage options first: they are cheap to check, while setting up a generator can take a
   * noticeable time (random search tabulates Wyckoff positions of all space groups). */
  if (!e) e = read_stage_options(x);
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
  if (!e) e = ms__fn_hull_plan(x);
  if (!e) e = ms__sl_setup(x);
  e = ms_err_agree(x->comm, e);
  if (!e) e = ms__labfeed_setup(x->comm, c, &x->lab);
  x->round = x->lab.round > 0 ? x->lab.round : 1;
  if (!e) e = ms_campaign_check_unused(c);
  if (!e && (x->lab.queue_db || x->lab.feedback_db) && !x->has_shortlist)
    e = ms_ynode_error(c->lab_queue ? c->lab_queue : c->lab_feedback, c->lab_queue ? "lab_queue" : "lab_feedback",
                       "the lab queue takes the shortlist: add a shortlist section");
  return ms_err_agree(x->comm, e);
}

static void teardown(run_ctx *x) {
  ms_surrogate_free(&x->sur.model);
  free(x->sur.load);
  free(x->sur.refs);
  ms__labfeed_free(&x->lab);
  free(x->ref_stable);
  free(x->hsys);
  free(x->hrows);
  for (int k = 0; k < x->nref_paths; ++k) free(x->ref_paths[k]);
  free(x->ref_paths);
  free(x->ref_csv);
  ms_shortlist_options_free(&x->slopt);
  ms_known_set_free(&x->known);
  free(x->sl);
  ms_relax_destroy(&x->relax);
  ms_prefilter_free(&x->pf);
  free(x->refs);
  free(x->plan);
  free(x->stable_ids);
  ms_search_destroy(&x->search);
  ms__fn_models_free(x);
}

/* The checkpoint's fingerprint: what must not change between a run and its --resume. */
static char *fingerprint(run_ctx *x) {
  char *resolved = ms_campaign_resolved_yaml(x->camp);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = resolved ? resolved : ""; *p; ++p) {
    h ^= (unsigned char)*p;
    h *= 0x100000001b3ULL;
  }
  free(resolved);
  char *fp = malloc(512);
  if (fp)
    snprintf(fp, 512,
             "matscreen checkpoint 2\nprogram matscreen %s\ncampaign_hash %016llx\ncandidates %lld\n"
             "block_a %lld\n",
             MS_VERSION, (unsigned long long)h, (long long)x->total, (long long)x->ba);
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

/* Relax keep rule on the outcomes read back (wherever they are), with the relax stage's counts. */
static ms_err relax_keep(run_ctx *x, relax_out *rout, int64_t nrout, ms_funnel_stage_stats *rs) {
  for (int64_t k = 0; k < nrout; ++k) {
    if (rout[k].status != MS_STATUS_CONVERGED) count_status(rs, rout[k].status);
    rs->cpu_s += rout[k].busy_s;
  }
  const ms_stage *st = &x->camp->stage[x->st[MS_STAGE_RELAX].index];
  double *en = malloc(((size_t)nrout + 1) * sizeof *en);
  int64_t *ids = malloc(((size_t)nrout + 1) * sizeof *ids);
  char (*fo)[MS_KEEP_FORMULA] = calloc((size_t)nrout + 1, sizeof *fo);
  unsigned char *kp = calloc((size_t)nrout + 1, 1);
  ms_err e = en && ids && fo && kp ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  for (int64_t k = 0; k < nrout && !e; ++k) {
    en[k] = rout[k].e_relaxed;
    ids[k] = rout[k].id;
    kp[k] = rout[k].status == MS_STATUS_CONVERGED;
    memcpy(fo[k], rout[k].formula, MS_KEEP_FORMULA);
  }
  if (!e) e = ms_err_agree(x->comm, ms__keep_apply(x->comm, &st->keep, nrout, en, ids,
                                                  (const char (*)[MS_KEEP_FORMULA])fo, kp));
  int relax_no = x->st[MS_STAGE_RELAX].index + 1;
  for (int64_t k = 0; k < nrout && !e; ++k) {
    rout[k].kept = kp[k];
    rout[k].duplicate_of = -1;
    rout[k].e_above_hull = NAN;
    rout[k].stage_reached = kp[k] ? relax_no : relax_no - 1;
    rout[k].reject_stage = kp[k] ? -1 : relax_no;
    if (kp[k]) rs->out++;
    else if (rout[k].status == MS_STATUS_CONVERGED) {
      count_status(rs, MS_STATUS_REJECTED);
      char rule[80];
      ms__keep_describe(&st->keep, rule, sizeof rule);
      ms__fn_set_reason(rout[k].reason, "relax keep rule (%s)", rule);
    }
  }
  free(en);
  free(ids);
  free(fo);
  free(kp);
  if (e) return e;
  long long out = rs->out, gout = 0;
  MPI_Allreduce(&out, &gout, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
  long long in = rs->in;
  reduce_stats(x->comm, rs, 0);
  rs->in = in;
  rs->out = gout;
  return MS_SUCCESS;
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
      int relax_no = x->st[MS_STAGE_RELAX].index + 1;
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
  memset(&x, 0, sizeof x);
  x.comm = comm;
  x.camp = c;
  x.sum = sum;
  x.opt = &opt;
  MPI_Comm_rank(comm, &x.rank);
  MPI_Comm_size(comm, &x.size);
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
  for (int k = 0; k < c->nstages; ++k) snprintf(sum->stats[1 + k].name, 32, "%s", c->stage[k].name);
  sum->nstages = 1 + c->nstages;
  if (x.has_shortlist) snprintf(sum->stats[sum->nstages++].name, 32, "shortlist");
  int relax_row = x.st[MS_STAGE_RELAX].present ? 1 + x.st[MS_STAGE_RELAX].index : -1;
  x.total = sum->candidates;
  x.ba = block_size_a(x.total);
  x.nba = (x.total + x.ba - 1) / x.ba;
  if (ms_log_is_root())
    ms_log_info("campaign %s: %lld candidates from %d generator%s, potential %s, %d rank%s (set-up %.2f s)",
                c->name, sum->candidates, c->nsearch, c->nsearch == 1 ? "" : "s", ms_model_name(x.model),
                x.size, x.size == 1 ? "" : "s", sum->setup_s);
  for (int k = 0; k < c->nstages && ms_log_is_root(); ++k)
    if (c->stage[k].has_model)
      ms_log_info("  %s evaluates with its own model %s", c->stage[k].name, ms_model_name(x.stage_model[c->stage[k].kind]));
  char *fp = fingerprint(&x);
  e = ms_err_agree(comm, fp ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (!e) e = ms__spool_open(comm, sum->output, fp, opt.resume, &x.spool);
  free(fp);
  int stopped = 0;
  double wa = MPI_Wtime();
  if (!e) e = phase_a(&x, &stopped);
  wa = MPI_Wtime() - wa;
  if (!e && !stopped) e = after_phase_a(&x);
  if (!e && !stopped)
    for (int k = 0; k < 3 && k < sum->nstages; ++k)
      if (k == 0 || c->stage[k - 1].kind == MS_STAGE_PREFILTER || c->stage[k - 1].kind == MS_STAGE_SINGLE_POINT)
        sum->stats[k].wall_s = wa;
  relax_out *rout = NULL;
  int64_t nrout = 0;
  bytes structs = {0};
  if (!e && !stopped && relax_row > 0) {
    ms_funnel_stage_stats *rs = &sum->stats[relax_row];
    double wb = MPI_Wtime();
    e = x.st[MS_STAGE_SURROGATE].present ? ms__sur_phase(&x, &stopped) : phase_b(&x, &stopped);
    rs->wall_s = MPI_Wtime() - wb;
    rs->in = x.st[MS_STAGE_SURROGATE].present ? x.sur.relaxed_rounds + x.sur.relaxed_filter : x.nsv;
    if (x.st[MS_STAGE_SURROGATE].present && x.sur.ground_truth) rs->in = x.nsv;
    if (!e && !stopped) e = ms_err_agree(comm, read_phase_b(&x, &rout, &nrout, &structs));
    if (!e && !stopped) e = relax_keep(&x, rout, nrout, rs);
  }
  if (!e && stopped) e = ms_err_agree(comm, x.rank == 0 ? interrupted(&x, sum->output, stopped) : MS_ERR_INTERRUPTED);
  /* The signal handlers stay until the end: a stop during the later stages takes effect at the
   * next safe point, and one during the output lets the output finish (docs/reliability.md). */
  if (!e && relax_row > 0 && (x.st[MS_STAGE_DEDUP].present || x.st[MS_STAGE_HULL].present)) {
    e = ms__fn_stop_point(&x, x.st[MS_STAGE_DEDUP].present ? "dedup" : "hull");
    if (!e) e = ms_err_agree(comm, stability_stages(&x, rout, nrout, &structs));
  }
  if (!e && x.has_shortlist) e = ms__fn_stop_point(&x, "shortlist");
  if (!e && x.has_shortlist) e = ms_err_agree(comm, ms__sl_stage(&x, rout, nrout, &structs));
  if (!e && x.st[MS_STAGE_SURROGATE].present) {
    e = ms__sur_scores(&x, rout, nrout);
    if (!e) ms__sur_print(&x);
  }
  /* rows are written by the owners of the phase-A blocks */
  relax_out *mrel = NULL;
  int64_t nmrel = 0, nrefs = 0;
  char *mst = NULL;
  size_t nmst = 0;
  sref *refs = NULL;
  if (!e) e = merge_to_writers(&x, rout, nrout, &structs, &mrel, &nmrel, &mst, &nmst, &refs, &nrefs);
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
  free(rout);
  free(structs.b);
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
  memset(&x, 0, sizeof x);
  ms_funnel_summary sum;
  memset(&sum, 0, sizeof sum);
  x.comm = comm;
  x.camp = c;
  x.sum = &sum;
  MPI_Comm_rank(comm, &x.rank);
  MPI_Comm_size(comm, &x.size);
  ms_err e = setup(&x, c);
  if (e) {
    teardown(&x);
    return e;
  }
  int64_t total = ms_search_count(x.search);
  /* Calibration on rank 0 only (a few candidates spread over the id range): the same work on
   * every rank would only repeat the same numbers. */
  double t_sp = 0, t_relax = 0;
  int n_sp = 0, n_relax = 0, n_fail = 0;
  if (x.rank == 0 && calibrate && total > 0) {
    ms_cell cell, work;
    ms_cell_init(&cell);
    ms_cell_init(&work);
    int samples = total < 24 ? (int)total : 24;
    for (int k = 0; k < samples && !e; ++k) {
      int64_t id = (int64_t)((double)k * (double)total / samples);
      ms_candidate_info info;
      e = ms_search_build(x.search, id, &cell, &info);
      if (e || info.status != MS_STATUS_OK) {
        n_fail += !e;
        continue;
      }
      ms_arec r;
      memset(&r, 0, sizeof r);
      double t0 = MPI_Wtime();
      if (x.st[MS_STAGE_SINGLE_POINT].present) {
        e = single_point(&x, &cell, &work, &r);
        t_sp += MPI_Wtime() - t0;
        n_sp++;
      }
      if (!e && x.relax && n_relax < 3 && r.status == MS_STATUS_OK) {
        ms_relax_result rr;
        memset(&rr, 0, sizeof rr);
        ms__fn_scale_volume(&cell, r.volume_scale > 0 ? r.volume_scale : 1.0);
        double t1 = MPI_Wtime();
        e = ms_relax_run(x.relax, &cell, &rr);
        if (e == MS_ERR_INPUT) {
          ms_err_clear();
          e = MS_SUCCESS;
        }
        t_relax += MPI_Wtime() - t1;
        n_relax++;
      }
    }
    ms_cell_free(&cell);
    ms_cell_free(&work);
  }
  e = ms_err_agree(comm, e);
  if (!e && x.rank == 0) {
    char *resolved = ms_campaign_resolved_yaml(c);
    fprintf(fp, "%s\n", resolved ? resolved : "");
    free(resolved);
    fprintf(fp, "search space: %lld candidates\n", (long long)total);
    for (int k = 0; k < ms_search_nitems(x.search); ++k) {
      ms_generator g = ms_search_generator(x.search, k);
      fprintf(fp, "  search[%d] %-24s %lld candidates (ids %lld..%lld)\n", k,
              ms_generator_type(g)->name, (long long)ms_generator_count(g),
              (long long)ms_search_offset(x.search, k),
              (long long)(ms_search_offset(x.search, k) + ms_generator_count(g) - 1));
      ms_generator_describe(g, fp);
    }
    if (calibrate) {
      fprintf(fp, "cost estimate (calibrated on %d candidates here, %d rank%s):\n", n_sp + n_fail,
              x.size, x.size == 1 ? "" : "s");
      if (n_sp) {
        double per = t_sp / n_sp;
        fprintf(fp, "  single_point  %.3g s per candidate -> %.3g core-hours for the whole space, "
                "%.3g h wall on %d ranks\n", per, per * (double)total / 3600,
                per * (double)total / 3600 / x.size, x.size);
      }
      if (n_relax) {
        double per = t_relax / n_relax;
        const ms_keep_rule *k = x.st[MS_STAGE_SINGLE_POINT].present
                                    ? &c->stage[x.st[MS_STAGE_SINGLE_POINT].index].keep : NULL;
        double nrel = (double)total;
        if (k && k->top_k > 0 && k->top_k < nrel) nrel = (double)k->top_k;
        if (k && k->top_fraction > 0 && k->top_fraction * total < nrel) nrel = k->top_fraction * (double)total;
        fprintf(fp, "  relax         %.3g s per relaxation; about %.0f relaxations (from the keep "
                "rule) -> %.3g core-hours\n", per, nrel, per * nrel / 3600);
      }
      if (n_fail) fprintf(fp, "  %d of the sampled candidates could not be built (status failed)\n", n_fail);
    }
    ms__fn_hull_plan_print(&x, fp);
    fflush(fp);
  }
  teardown(&x);
  return e;
}
