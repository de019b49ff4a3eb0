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
 * number of ranks. */
#include "matscreen/funnel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fftw3.h>
#include <hdf5.h>
#include <petscversion.h>
#include <spglib.h>
#include <yaml.h>

#include "keep.h"
#include "stability.h"
#include "matscreen/generator.h"
#include "matscreen/h5out.h"
#include "matscreen/log.h"
#include "matscreen/model.h"
#include "matscreen/prefilter.h"
#include "matscreen/prototype.h"
#include "matscreen/relax.h"
#include "matscreen/schedule.h"
#include "matscreen/status.h"
#include "matscreen/symmetry.h"
#include "ms_config.h"
#include "record.h"

/* ---- small helpers ------------------------------------------------------------------------ */

ms_err ms_record_push(ms_record_vec *v, const ms_record *r) {
  if (v->n == v->cap) {
    int64_t cap = v->cap ? 2 * v->cap : 1024;
    MS_CALL(MS_REALLOC((size_t)cap, &v->r));
    v->cap = cap;
  }
  v->r[v->n++] = *r;
  return MS_SUCCESS;
}

void ms_record_vec_free(ms_record_vec *v) {
  free(v->r);
  memset(v, 0, sizeof *v);
}

void ms_funnel_options_default(ms_funnel_options *o) {
  memset(o, 0, sizeof *o);
  o->progress_interval = 10.0;
}

/* Relaxation outcome of one survivor, kept where it was computed until the final merge. */
typedef struct {
  int64_t id;
  double e_relaxed;   /* eV/atom */
  double time_s;
  int32_t status;
  int32_t iterations;
  int32_t kept;       /* survived every stage so far (relax keep, dedup, hull) */
  int32_t natoms;
  int32_t stage_reached, reject_stage;
  int32_t spacegroup;  /* of the relaxed structure (spglib, default tolerance), 0 if none */
  int32_t pad_;
  int64_t duplicate_of;
  double e_above_hull;
  char formula[MS_KEEP_FORMULA];
  char decomposition[MS_DECOMP_LEN];
} relax_out;

/* Serialised relaxed structure: header followed by natoms sites. */
typedef struct {
  int64_t id;
  int32_t natoms, pad;
  double lattice[9];
} sheader;
typedef struct {
  double f[3];
  double ox;
  int32_t Z, has_ox;
} ssite;

typedef struct {
  char *b;
  size_t n, cap;
} bytes;

static ms_err bytes_put(bytes *v, const void *p, size_t len) {
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
  int tty;
  double interval;
} progress;

static void progress_start(progress *p, const char *stage, int64_t total, double interval) {
  p->stage = stage;
  p->t0 = p->last = MPI_Wtime();
  p->total = total;
  p->tty = isatty(2);
  p->interval = p->tty ? 0.5 : interval;
}

static void progress_update(progress *p, ms_sched s, int force) {
  if (!ms_log_is_root() || ms_log_get_level() < MS_LOG_INFO) return;
  double now = MPI_Wtime();
  if (!force && now - p->last < p->interval) return;
  p->last = now;
  int64_t done = s ? ms_sched_progress(s) : p->total;
  if (done < 0) done = 0;
  double rate = (now - p->t0) > 0 ? (double)done / (now - p->t0) : 0;
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

typedef struct {
  int present;
  int index;               /* position in the campaign's funnel list */
} stage_ref;

typedef struct {
  MPI_Comm comm;
  int rank, size;
  ms_campaign *camp;
  ms_search search;
  ms_potential *pot;
  ms_model model;
  ms_relax relax;
  ms_prefilter *pf;
  ms_match_options mopt;
  ms_hull_ref *refs;
  int nrefs;
  int64_t *stable_ids, nstable;
  stage_ref st[MS_STAGE_COUNT_];
  /* single point */
  int scan_points;
  double scan_min, scan_max;
  /* stats (local busy time; summed at the end) */
  ms_funnel_summary *sum;
} run_ctx;

static ms_err read_stage_options(run_ctx *x) {
  ms_campaign *c = x->camp;
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
    } else if (st->kind == MS_STAGE_RELAX) {
      ms_relax_options ro;
      ms_relax_options_default(&ro);
      char p2[96];
      if ((v = ms_ynode_get(n, "cell"))) {
        const char *mode;
        snprintf(p2, sizeof p2, "%s.cell", path);
        MS_CALL(ms_ynode_string(v, p2, &mode));
        if (ms_relax_cell_from_name(mode, &ro.cell)) {
          ms_err_clear();
          return ms_ynode_error(v, p2, "must be fixed, iso, aniso or full, got '%s'", mode);
        }
      }
      struct {
        const char *key;
        double *dst;
        double lo, hi;
      } dbl[] = {{"fmax", &ro.fmax, 1e-6, 10}, {"smax", &ro.smax, 1e-6, 100}, {"pressure", &ro.pressure, -1e3, 1e4}};
      for (size_t q = 0; q < sizeof dbl / sizeof dbl[0]; ++q)
        if ((v = ms_ynode_get(n, dbl[q].key))) {
          snprintf(p2, sizeof p2, "%s.%s", path, dbl[q].key);
          MS_CALL(ms_ynode_double(v, p2, dbl[q].dst));
          if (!(*dbl[q].dst >= dbl[q].lo && *dbl[q].dst <= dbl[q].hi))
            return ms_ynode_error(v, p2, "must be in [%g, %g], got %g", dbl[q].lo, dbl[q].hi, *dbl[q].dst);
        }
      if ((v = ms_ynode_get(n, "max_steps"))) {
        long long ms;
        snprintf(p2, sizeof p2, "%s.max_steps", path);
        MS_CALL(ms_ynode_int(v, p2, &ms));
        if (ms < 1 || ms > 1000000) return ms_ynode_error(v, p2, "must be in 1..1000000, got %lld", ms);
        ro.max_steps = (int)ms;
      }
      if ((v = ms_ynode_get(n, "tao_options"))) {
        snprintf(p2, sizeof p2, "%s.tao_options", path);
        MS_CALL(ms_ynode_string(v, p2, &ro.petsc_options));
      }
      MS_CALL(ms_relax_create(x->model, &ro, &x->relax));
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
        ms_match_options_default(&x->mopt);
        struct {
          const char *key;
          double *dst;
          double lo, hi;
        } dbl[] = {{"ltol", &x->mopt.ltol, 1e-4, 1}, {"stol", &x->mopt.stol, 1e-4, 2}, {"angle_tol", &x->mopt.angle_tol, 1e-3, 45}};
        for (size_t q = 0; q < sizeof dbl / sizeof dbl[0]; ++q)
          if ((v = ms_ynode_get(n, dbl[q].key))) {
            snprintf(p2, sizeof p2, "%s.%s", path, dbl[q].key);
            MS_CALL(ms_ynode_double(v, p2, dbl[q].dst));
            if (!(*dbl[q].dst >= dbl[q].lo && *dbl[q].dst <= dbl[q].hi))
              return ms_ynode_error(v, p2, "must be in [%g, %g], got %g", dbl[q].lo, dbl[q].hi, *dbl[q].dst);
          }
        if ((v = ms_ynode_get(n, "compare"))) {
          const char *cmp;
          snprintf(p2, sizeof p2, "%s.compare", path);
          MS_CALL(ms_ynode_string(v, p2, &cmp));
          if (strcmp(cmp, "species") == 0) x->mopt.compare_elements = 0;
          else if (strcmp(cmp, "elements") == 0) x->mopt.compare_elements = 1;
          else return ms_ynode_error(v, p2, "must be species or elements, got '%s'", cmp);
        }
      } else if ((v = ms_ynode_get(n, "references"))) {
        const char *ref;
        snprintf(p2, sizeof p2, "%s.references", path);
        MS_CALL(ms_ynode_string(v, p2, &ref));
        if (strcmp(ref, "auto") != 0)
          return ms_ynode_error(v, p2, "only 'auto' (binary compounds of the ions, relaxed with the same model) is available, got '%s'", ref);
      }
    }
    ms_ynode_get(n, "stage");
    ms_ynode_get(n, "keep");
  }
  return MS_SUCCESS;
}

/* ---- phase A: generate + single point ------------------------------------------------------- */

static void scale_volume(ms_cell *c, double factor) {
  double s = cbrt(factor);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c->lattice[i][j] *= s;
}

/* Evaluate the single point of @p cell (with the volume scan of prototype.h when configured);
 * fills e_single, volume_scale, status of @p r. Per-candidate problems become statuses. */
static ms_err single_point(run_ctx *x, ms_cell *cell, ms_cell *work, ms_record *r) {
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
    e = ms_volume_scan(x->model, work, &vo, &vr);
    status = vr.status;
    energy = vr.energy;
    factor = vr.best_factor;
  } else {
    ms_model_result res;
    res.forces = NULL;
    e = ms_model_compute(x->model, work, 0, &res);
    status = res.status;
    energy = res.energy;
  }
  if (e == MS_ERR_INPUT) { /* a species the potential does not cover */
    ms_err_clear();
    r->status = MS_STATUS_UNSUPPORTED;
    return MS_SUCCESS;
  }
  MS_CALL(e);
  r->status = status;
  r->e_single = status == MS_STATUS_OK ? energy / cell->natoms : NAN;
  r->volume_scale = status == MS_STATUS_OK ? factor : 1.0;
  return MS_SUCCESS;
}

static void count_status(ms_funnel_stage_stats *s, int status) {
  if (status >= 0 && status < 16) s->by_status[status]++;
}

static ms_err phase_a(run_ctx *x, ms_record_vec *recs, const ms_funnel_options *opt) {
  ms_funnel_summary *sum = x->sum;
  int64_t total = ms_search_count(x->search);
  ms_funnel_stage_stats *gen = &sum->stats[0];
  ms_funnel_stage_stats *sp =
      x->st[MS_STAGE_SINGLE_POINT].present ? &sum->stats[1 + x->st[MS_STAGE_SINGLE_POINT].index] : NULL;
  ms_funnel_stage_stats *pfs =
      x->st[MS_STAGE_PREFILTER].present ? &sum->stats[1 + x->st[MS_STAGE_PREFILTER].index] : NULL;
  double busy_pf = 0;
  ms_sched s = NULL;
  MS_CALL(ms_sched_create(x->comm, 0, total, 1, 4096, &s));
  ms_cell cell, work;
  ms_cell_init(&cell);
  ms_cell_init(&work);
  progress pg;
  progress_start(&pg, sp ? "generate + single_point" : "generate", total, opt->progress_interval);
  double t_wall = MPI_Wtime(), busy_gen = 0, busy_sp = 0;
  ms_err err = MS_SUCCESS;
  int64_t first, count;
  int got;
  while (!err && (got = ms_sched_next(s, &first, &count)) == 1) {
    for (int64_t id = first; id < first + count && !err; ++id) {
      double t0 = MPI_Wtime();
      ms_candidate_info info;
      memset(&info, 0, sizeof info);
      ms_record r;
      memset(&r, 0, sizeof r);
      r.id = id;
      r.duplicate_of = -1;
      r.e_single = r.e_relaxed = r.e_above_hull = NAN;
      r.volume_scale = 1.0;
      r.relax_status = -1;
      r.reject_stage = -1;
      int64_t local = 0;
      r.item = ms_search_locate(x->search, id, &local);
      err = ms_search_build(x->search, id, &cell, &info);
      if (err) break;
      gen->in++;
      snprintf(r.prototype, sizeof r.prototype, "%s", info.prototype);
      r.spacegroup = info.spacegroup;
      r.natoms = cell.natoms;
      if (info.status != MS_STATUS_OK) {
        r.status = info.status;
        r.reject_stage = 0;
        count_status(gen, info.status);
        busy_gen += MPI_Wtime() - t0;
        if (x->camp->keep_rejected_rows) err = ms_record_push(recs, &r);
        continue;
      }
      gen->out++;
      if (ms_cell_formula(&cell, 1, r.formula, sizeof r.formula)) ms_err_clear();
      double t1 = MPI_Wtime();
      busy_gen += t1 - t0;
      if (pfs) {
        pfs->in++;
        ms_prefilter_result pr;
        err = ms_prefilter_check(x->pf, &cell, &pr);
        if (err) break;
        double t2 = MPI_Wtime();
        busy_pf += t2 - t1;
        t1 = t2;
        if (!pr.pass) {
          r.status = MS_STATUS_REJECTED;
          r.reject_stage = x->st[MS_STAGE_PREFILTER].index + 1;
          snprintf(r.rejected_by, sizeof r.rejected_by, "%s", pr.rules[pr.first_failed].rule);
          count_status(pfs, MS_STATUS_REJECTED);
          if (x->camp->keep_rejected_rows) err = ms_record_push(recs, &r);
          continue;
        }
        pfs->out++;
      }
      if (sp) {
        sp->in++;
        err = single_point(x, &cell, &work, &r);
        if (err) break;
        if (r.status != MS_STATUS_OK) {
          count_status(sp, r.status);
          r.reject_stage = x->st[MS_STAGE_SINGLE_POINT].index + 1;
        }
        busy_sp += MPI_Wtime() - t1;
        r.sp_time_s = MPI_Wtime() - t0;
        if (r.status != MS_STATUS_OK && !x->camp->keep_rejected_rows) continue;
      }
      r.stage_reached = 0;
      err = ms_record_push(recs, &r);
    }
    progress_update(&pg, s, 0);
  }
  if (!err && got < 0) err = MS_ERR_MPI;
  progress_update(&pg, s, 1);
  progress_end(&pg);
  ms_cell_free(&cell);
  ms_cell_free(&work);
  ms_sched_destroy(&s);
  double wall = MPI_Wtime() - t_wall;
  gen->cpu_s = busy_gen;
  gen->wall_s = wall;
  if (pfs) {
    pfs->cpu_s = busy_pf;
    pfs->wall_s = wall;
  }
  if (sp) {
    sp->cpu_s = busy_sp;
    sp->wall_s = wall;
  }
  return err;
}

/* Apply a stage's keep rule to the records whose status is OK and that reached it. */
static ms_err keep_records(run_ctx *x, ms_record_vec *recs, const ms_stage *st, int stage_number,
                           int use_relaxed, ms_funnel_stage_stats *stats) {
  int64_t n = recs->n;
  double *e = malloc(((size_t)n + 1) * sizeof *e);
  int64_t *id = malloc(((size_t)n + 1) * sizeof *id);
  char (*formula)[MS_KEEP_FORMULA] = malloc(((size_t)n + 1) * sizeof *formula);
  unsigned char *keep = calloc((size_t)n + 1, 1);
  ms_err err = (e && id && formula && keep) ? MS_SUCCESS
                                            : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  if (!err) {
    for (int64_t k = 0; k < n; ++k) {
      ms_record *r = &recs->r[k];
      e[k] = use_relaxed ? r->e_relaxed : r->e_single;
      id[k] = r->id;
      memcpy(formula[k], r->formula, MS_KEEP_FORMULA);
      keep[k] = r->reject_stage < 0 && r->status == (use_relaxed ? MS_STATUS_CONVERGED : MS_STATUS_OK);
    }
    err = ms__keep_apply(x->comm, &st->keep, n, e, id, (const char (*)[MS_KEEP_FORMULA])formula, keep);
  }
  if (!err) {
    for (int64_t k = 0; k < n; ++k) {
      ms_record *r = &recs->r[k];
      if (r->reject_stage >= 0) continue;
      int eligible = r->status == (use_relaxed ? MS_STATUS_CONVERGED : MS_STATUS_OK);
      if (eligible && keep[k]) {
        r->stage_reached = stage_number;
        stats->out++;
      } else if (eligible) {
        r->reject_stage = stage_number;
        count_status(stats, MS_STATUS_REJECTED);
      }
    }
  }
  free(e);
  free(id);
  free(formula);
  free(keep);
  return err;
}

/* ---- phase B: relax the survivors ------------------------------------------------------------ */

typedef struct {
  int64_t id;
  double volume_scale;
} survivor;

static int cmp_survivor(const void *a, const void *b) {
  int64_t x = ((const survivor *)a)->id, y = ((const survivor *)b)->id;
  return (x > y) - (x < y);
}

static ms_err gather_survivors(run_ctx *x, const ms_record_vec *recs, survivor **out, int64_t *nout) {
  int64_t m = 0;
  for (int64_t k = 0; k < recs->n; ++k) m += recs->r[k].reject_stage < 0;
  survivor *loc = malloc(((size_t)m + 1) * sizeof *loc);
  MS_CHECK(loc, MS_ERR_MEM, "out of memory");
  m = 0;
  for (int64_t k = 0; k < recs->n; ++k)
    if (recs->r[k].reject_stage < 0) loc[m++] = (survivor){recs->r[k].id, recs->r[k].volume_scale};
  int *counts = calloc((size_t)x->size, sizeof *counts), *displs = calloc((size_t)x->size, sizeof *displs);
  int mine = (int)(m * (int64_t)sizeof(survivor));
  MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, x->comm);
  int64_t total = 0;
  for (int r = 0; r < x->size; ++r) {
    displs[r] = (int)total;
    total += counts[r];
  }
  survivor *all = malloc((size_t)total + sizeof(survivor));
  MPI_Allgatherv(loc, mine, MPI_BYTE, all, counts, displs, MPI_BYTE, x->comm);
  free(loc);
  free(counts);
  free(displs);
  int64_t n = total / (int64_t)sizeof(survivor);
  qsort(all, (size_t)n, sizeof *all, cmp_survivor);
  *out = all;
  *nout = n;
  return MS_SUCCESS;
}

static ms_err pack_structure(bytes *b, int64_t id, const ms_cell *c) {
  sheader h;
  memset(&h, 0, sizeof h);
  h.id = id;
  h.natoms = c->natoms;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) h.lattice[3 * i + j] = c->lattice[i][j];
  MS_CALL(bytes_put(b, &h, sizeof h));
  for (int k = 0; k < c->natoms; ++k) {
    ssite s;
    memset(&s, 0, sizeof s);
    memcpy(s.f, c->frac[k], sizeof s.f);
    const ms_species *sp = &c->species[c->kind[k]];
    s.Z = sp->Z;
    s.has_ox = sp->has_ox;
    s.ox = sp->ox;
    MS_CALL(bytes_put(b, &s, sizeof s));
  }
  return MS_SUCCESS;
}

static ms_err phase_b(run_ctx *x, const ms_record_vec *recs, relax_out **outs, int64_t *nouts,
                      bytes *structs, const ms_funnel_options *opt, ms_funnel_stage_stats *stats) {
  survivor *sv = NULL;
  int64_t ns = 0;
  MS_CALL(gather_survivors(x, recs, &sv, &ns));
  stats->in = ns; /* counted once (every rank knows the total) */
  ms_sched s = NULL;
  ms_err err = ms_sched_create(x->comm, 0, ns, 1, 64, &s);
  if (err) {
    free(sv);
    return err;
  }
  relax_out *out = NULL;
  int64_t nout = 0, cap = 0;
  ms_cell cell;
  ms_cell_init(&cell);
  progress pg;
  progress_start(&pg, "relax", ns, opt->progress_interval);
  double t_wall = MPI_Wtime(), busy = 0;
  int64_t first, count;
  int got;
  while (!err && (got = ms_sched_next(s, &first, &count)) == 1) {
    for (int64_t k = first; k < first + count && !err; ++k) {
      double t0 = MPI_Wtime();
      ms_candidate_info info;
      err = ms_search_build(x->search, sv[k].id, &cell, &info);
      if (err) break;
      scale_volume(&cell, sv[k].volume_scale);
      ms_relax_result rr;
      memset(&rr, 0, sizeof rr);
      err = ms_relax_run(x->relax, &cell, &rr);
      if (err == MS_ERR_INPUT) { /* uncovered species: a status, not a stop */
        ms_err_clear();
        err = MS_SUCCESS;
        rr.status = MS_STATUS_UNSUPPORTED;
        rr.energy = NAN;
      }
      if (err) break;
      if (nout == cap) {
        cap = cap ? 2 * cap : 256;
        relax_out *q = realloc(out, (size_t)cap * sizeof *q);
        if (!q) {
          err = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
          break;
        }
        out = q;
      }
      relax_out *o = &out[nout++];
      memset(o, 0, sizeof *o);
      o->id = sv[k].id;
      o->e_relaxed = rr.status == MS_STATUS_CONVERGED ? rr.energy / cell.natoms : NAN;
      o->status = rr.status;
      o->iterations = rr.iterations;
      o->time_s = rr.time_s;
      o->natoms = cell.natoms;
      if (ms_cell_formula(&cell, 1, o->formula, sizeof o->formula)) ms_err_clear();
      if (rr.status == MS_STATUS_CONVERGED) {
        int sg = 0;
        if (ms_spacegroup(&cell, MS_SYMPREC_DEFAULT, MS_ANGLE_TOL_DEFAULT, &sg, NULL)) ms_err_clear();
        o->spacegroup = sg;
      }
      if (rr.status == MS_STATUS_CONVERGED) err = pack_structure(structs, o->id, &cell);
      busy += MPI_Wtime() - t0;
    }
    progress_update(&pg, s, 0);
  }
  if (!err && got < 0) err = MS_ERR_MPI;
  progress_update(&pg, s, 1);
  progress_end(&pg);
  ms_cell_free(&cell);
  ms_sched_destroy(&s);
  free(sv);
  stats->cpu_s = busy;
  stats->wall_s = MPI_Wtime() - t_wall;
  *outs = out;
  *nouts = nout;
  return err;
}

static void reduce_stats(MPI_Comm comm, ms_funnel_stage_stats *s, int sum_counts);

/* ---- dedup and hull ------------------------------------------------------------------------- */

static ms_err unpack_cell(const sheader *h, ms_cell *c) {
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
    e = unpack_cell(h, &cells[q]);
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
    e = dup ? ms__dedup(x->comm, &x->mopt, m, ids, cells, en, dup, &groups)
            : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    e = ms_err_agree(x->comm, e);
    int64_t kept = 0;
    for (int64_t k = 0; k < m && !e; ++k) {
      relax_out *o = &rout[which[k]];
      if (dup[k] >= 0) {
        o->kept = 0;
        o->duplicate_of = dup[k];
        o->reject_stage = row;
        count_status(ds, MS_STATUS_REJECTED);
      } else {
        o->stage_reached = row;
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
    m = kept;
    ds->in = gin;
    ds->out = groups;
    ds->cpu_s = MPI_Wtime() - t0;
    ds->wall_s = ds->cpu_s;
    reduce_stats(x->comm, ds, 0);
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
    if (!e) {
      int size = x->size, mine = (int)(m * (int64_t)sizeof(ms_composition));
      int *counts = calloc((size_t)size, sizeof *counts), *displs = calloc((size_t)size, sizeof *displs);
      MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, x->comm);
      long long tot = 0;
      for (int r = 0; r < size; ++r) {
        displs[r] = (int)tot;
        tot += counts[r];
      }
      ms_composition *allc = malloc((size_t)tot + sizeof(ms_composition));
      MPI_Allgatherv(comps, mine, MPI_BYTE, allc, counts, displs, MPI_BYTE, x->comm);
      e = ms__hull_references_auto(x->comm, x->relax, allc, tot / (long long)sizeof(ms_composition),
                                   &x->refs, &x->nrefs);
      free(allc);
      free(counts);
      free(displs);
    }
    if (!e) e = ms__hull_stage(x->comm, x->refs, x->nrefs, m, ids, comps, en, eh, dec, &x->stable_ids, &x->nstable);
    e = ms_err_agree(x->comm, e);
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

static int owner_of(int64_t id, int64_t total, int size) {
  if (total <= 0) return 0;
  int r = (int)((__int128)id * size / total);
  return r < 0 ? 0 : (r >= size ? size - 1 : r);
}

/* Send variable-size byte items to their owners. @p dest[k] is the owner of item k, whose bytes
 * are @p data + off[k] .. off[k+1]. Returns the received bytes (concatenated, by source rank). */
static ms_err alltoall_bytes(MPI_Comm comm, int size, int64_t nitems, const int *dest,
                             const size_t *off, const char *data, char **out, size_t *nout) {
  int *scount = calloc((size_t)size, sizeof(int)), *rcount = calloc((size_t)size, sizeof(int));
  int *sdispl = calloc((size_t)size, sizeof(int)), *rdispl = calloc((size_t)size, sizeof(int));
  MS_CHECK(scount && rcount && sdispl && rdispl, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < nitems; ++k) scount[dest[k]] += (int)(off[k + 1] - off[k]);
  size_t total = 0;
  for (int r = 0; r < size; ++r) {
    sdispl[r] = (int)total;
    total += (size_t)scount[r];
  }
  char *sbuf = malloc(total + 1);
  int *fill = calloc((size_t)size, sizeof(int));
  MS_CHECK(sbuf && fill, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < nitems; ++k) {
    size_t len = off[k + 1] - off[k];
    memcpy(sbuf + sdispl[dest[k]] + fill[dest[k]], data + off[k], len);
    fill[dest[k]] += (int)len;
  }
  MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm);
  size_t rtotal = 0;
  for (int r = 0; r < size; ++r) {
    rdispl[r] = (int)rtotal;
    rtotal += (size_t)rcount[r];
  }
  char *rbuf = malloc(rtotal + 1);
  MS_CHECK(rbuf, MS_ERR_MEM, "out of memory");
  MPI_Alltoallv(sbuf, scount, sdispl, MPI_BYTE, rbuf, rcount, rdispl, MPI_BYTE, comm);
  free(sbuf);
  free(fill);
  free(scount);
  free(rcount);
  free(sdispl);
  free(rdispl);
  *out = rbuf;
  *nout = rtotal;
  return MS_SUCCESS;
}

static int cmp_record(const void *a, const void *b) {
  int64_t x = ((const ms_record *)a)->id, y = ((const ms_record *)b)->id;
  return (x > y) - (x < y);
}
static int cmp_relax(const void *a, const void *b) {
  int64_t x = ((const relax_out *)a)->id, y = ((const relax_out *)b)->id;
  return (x > y) - (x < y);
}

typedef struct {
  int64_t id;
  const sheader *h;
  const ssite *s;
} sref;
static int cmp_sref(const void *a, const void *b) {
  int64_t x = ((const sref *)a)->id, y = ((const sref *)b)->id;
  return (x > y) - (x < y);
}

/* ---- output ----------------------------------------------------------------------------------- */

static ms_err write_output(run_ctx *x, const char *path, ms_record *rec, int64_t nrec,
                           sref *st, int64_t nst, const ms_funnel_summary *sum, double t_start) {
  ms_h5 f = NULL;
  MS_CALL(ms_err_agree(x->comm, ms_h5_create(x->comm, path, &f)));
  ms_err e = MS_SUCCESS;
#define W(call)                  \
  do {                           \
    if (!e) e = (call);          \
  } while (0)
  /* root attributes */
  int mv = 0, mn = 0;
  MPI_Get_version(&mv, &mn);
  char buf[256];
  time_t now = time(NULL);
  char tbuf[64], t0buf[64];
  strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  time_t t0 = (time_t)t_start;
  strftime(t0buf, sizeof t0buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
  W(ms_h5_attr_str(f, "/", "program", "matscreen"));
  W(ms_h5_attr_str(f, "/", "program_version", MS_VERSION));
  W(ms_h5_attr_str(f, "/", "git_revision", MS_GIT_REVISION));
  W(ms_h5_attr_int(f, "/", "schema_version", 1));
  snprintf(buf, sizeof buf, "MPI %d.%d", mv, mn);
  W(ms_h5_attr_str(f, "/", "mpi_version", buf));
  W(ms_h5_attr_int(f, "/", "ranks", x->size));
  W(ms_h5_attr_int(f, "/", "seed", (int64_t)x->camp->seed));
  W(ms_h5_attr_str(f, "/", "campaign", x->camp->name));
  W(ms_h5_attr_str(f, "/", "potential", ms_potential_name(x->pot)));
  snprintf(buf, sizeof buf, "%d.%d.%d", PETSC_VERSION_MAJOR, PETSC_VERSION_MINOR, PETSC_VERSION_SUBMINOR);
  W(ms_h5_attr_str(f, "/", "petsc_version", buf));
  snprintf(buf, sizeof buf, "%d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
  W(ms_h5_attr_str(f, "/", "hdf5_version", buf));
  W(ms_h5_attr_str(f, "/", "fftw_version", fftw_version));
  W(ms_h5_attr_str(f, "/", "libyaml_version", yaml_get_version_string()));
  snprintf(buf, sizeof buf, "%d.%d.%d", spg_get_major_version(), spg_get_minor_version(), spg_get_micro_version());
  W(ms_h5_attr_str(f, "/", "spglib_version", buf));
  W(ms_h5_attr_str(f, "/", "start_time", t0buf));
  W(ms_h5_attr_str(f, "/", "end_time", tbuf));
  /* config */
  W(ms_h5_write_text(f, "/config/given", x->camp->text));
  char *resolved = ms_campaign_resolved_yaml(x->camp);
  W(ms_h5_write_text(f, "/config/resolved", resolved ? resolved : ""));
  free(resolved);
  /* species of the potential and the prototype library, by name (rows from rank 0) */
  {
    int nsp = ms_potential_nspecies(x->pot), mine = x->rank == 0 ? nsp : 0;
    char *lab = calloc((size_t)nsp + 1, 16), *el = calloc((size_t)nsp + 1, 4);
    double *q = calloc((size_t)nsp + 1, sizeof *q);
    if (!lab || !el || !q) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int k = 0; k < nsp && !e; ++k) {
      ms_species sp;
      const char *l = ms_potential_species(x->pot, k, &sp, &q[k]);
      memcpy(lab + 16 * k, l, strnlen(l, 16));
      const ms_element *elem = ms_element_by_z(sp.Z);
      if (elem) memcpy(el + 4 * k, elem->symbol, strnlen(elem->symbol, 4));
    }
    W(ms_h5_write_strings(f, "/species/label", mine, 16, lab));
    W(ms_h5_write_strings(f, "/species/element", mine, 4, el));
    W(ms_h5_write_double(f, "/species/charge_e", mine, 1, q, 0));
    W(ms_h5_attr_str(f, "/species", "description", "ions covered by the potential and their charges in the model"));
    free(lab);
    free(el);
    free(q);
    int np = 0;
    const char *const *pn = ms_prototype_builtin_names(&np);
    char *names = calloc((size_t)np + 1, 48);
    for (int k = 0; k < np && names; ++k) memcpy(names + 48 * k, pn[k], strnlen(pn[k], 48));
    W(ms_h5_write_strings(f, "/prototypes/name", x->rank == 0 ? np : 0, 48, names));
    free(names);
  }
  /* candidates */
  int64_t n = nrec;
  int64_t *i64 = malloc(((size_t)n + 1) * sizeof *i64);
  int32_t *i32 = malloc(((size_t)n + 1) * sizeof *i32);
  double *d = malloc(((size_t)n + 1) * sizeof *d);
  char *str = malloc(((size_t)n + 1) * 32);
  char *dstr = malloc(((size_t)n + 1) * MS_DECOMP_LEN);
  if (!i64 || !i32 || !d || !str || !dstr) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
#define COL64(expr, name)                                   \
  do {                                                      \
    for (int64_t k = 0; k < n; ++k) i64[k] = (expr);        \
    W(ms_h5_write_int64(f, "/candidates/" name, n, 1, i64)); \
  } while (0)
#define COL32(expr, name)                                   \
  do {                                                      \
    for (int64_t k = 0; k < n; ++k) i32[k] = (expr);        \
    W(ms_h5_write_int32(f, "/candidates/" name, n, 1, i32)); \
  } while (0)
#define COLD(expr, name)                                    \
  do {                                                      \
    for (int64_t k = 0; k < n; ++k) d[k] = (expr);          \
    W(ms_h5_write_double(f, "/candidates/" name, n, 1, d, 0)); \
  } while (0)
#define COLS(src, name)                                                            \
  do {                                                                             \
    for (int64_t k = 0; k < n; ++k) {                                              \
      memset(str + 32 * k, 0, 32);                                                 \
      memcpy(str + 32 * k, (src), strnlen((src), 32));                             \
    }                                                                              \
    W(ms_h5_write_strings(f, "/candidates/" name, n, 32, str));                    \
  } while (0)
  if (!e) {
    COL64(rec[k].id, "id");
    COL32(rec[k].item, "search_item");
    COLS(ms_generator_type(ms_search_generator(x->search, rec[k].item))->name, "generator");
    COLS(rec[k].prototype, "prototype");
    COLS(rec[k].formula, "formula");
    COL32(rec[k].natoms, "natoms");
    COL32(rec[k].spacegroup, "spacegroup_generated");
    COL32(rec[k].spacegroup_relaxed, "spacegroup");
    COLS(ms_status_name((ms_status)rec[k].status), "status");
    COL32(rec[k].stage_reached, "stage_reached");
    COL32(rec[k].reject_stage, "rejected_at_stage");
    COLD(rec[k].e_single, "e_single_point_eV_per_atom");
    COLD(rec[k].volume_scale, "volume_scale");
    COLD(rec[k].e_relaxed, "e_relaxed_eV_per_atom");
    COLS(rec[k].relax_status >= 0 ? ms_status_name((ms_status)rec[k].relax_status) : "", "relax_status");
    COL32(rec[k].relax_iterations, "relax_iterations");
    COLD(rec[k].relax_time_s, "relax_time_s");
    COLD(rec[k].sp_time_s, "single_point_time_s");
    COLS(rec[k].rejected_by, "rejected_by_rule");
    for (int64_t k = 0; k < n; ++k) {
      memset(dstr + MS_DECOMP_LEN * k, 0, MS_DECOMP_LEN);
      memcpy(dstr + MS_DECOMP_LEN * k, rec[k].decomposition, strnlen(rec[k].decomposition, MS_DECOMP_LEN));
    }
    W(ms_h5_write_strings(f, "/candidates/decomposition", n, MS_DECOMP_LEN, dstr));
    COLD(rec[k].e_above_hull, "e_above_hull_eV_per_atom");
    COL64(rec[k].duplicate_of, "duplicate_of");
  }
  W(ms_h5_attr_str(f, "/candidates", "description",
                   "one row per candidate (rows of candidates rejected before the single point are "
                   "omitted when keep_rejected is 'counts'); sorted by id"));
  W(ms_h5_attr_str(f, "/candidates", "stage_names", "0 = generate, k = funnel[k-1]"));
  free(i64);
  free(i32);
  free(d);
  free(str);
  free(dstr);
  /* structures (relaxed survivors), compressed rows */
  int64_t tot_atoms = 0;
  for (int64_t k = 0; k < nst; ++k) tot_atoms += st[k].h->natoms;
  long long mine_atoms = tot_atoms, before = 0;
  MPI_Exscan(&mine_atoms, &before, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
  if (x->rank == 0) before = 0;
  int64_t *cid = malloc(((size_t)nst + 1) * sizeof *cid), *off = malloc(((size_t)nst + 1) * sizeof *off);
  int32_t *nat = malloc(((size_t)nst + 1) * sizeof *nat);
  double *lat = malloc(((size_t)nst * 9 + 1) * sizeof *lat);
  double *fr = malloc(((size_t)tot_atoms * 3 + 1) * sizeof *fr);
  char *spc = malloc(((size_t)tot_atoms + 1) * 8);
  if (!cid || !off || !nat || !lat || !fr || !spc)
    e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  if (!e) {
    int64_t a = 0;
    for (int64_t k = 0; k < nst; ++k) {
      cid[k] = st[k].id;
      nat[k] = st[k].h->natoms;
      off[k] = before + a;
      memcpy(lat + 9 * k, st[k].h->lattice, 9 * sizeof(double));
      for (int q = 0; q < st[k].h->natoms; ++q, ++a) {
        memcpy(fr + 3 * a, st[k].s[q].f, 3 * sizeof(double));
        ms_species sp = {st[k].s[q].Z, st[k].s[q].has_ox, st[k].s[q].ox};
        char lab[16];
        ms_species_format(&sp, lab, sizeof lab);
        memset(spc + 8 * a, 0, 8);
        memcpy(spc + 8 * a, lab, strnlen(lab, 8));
      }
    }
    W(ms_h5_write_int64(f, "/structures/candidate_id", nst, 1, cid));
    W(ms_h5_write_double(f, "/structures/lattice_A", nst, 9, lat, 1));
    W(ms_h5_write_int32(f, "/structures/natoms", nst, 1, nat));
    W(ms_h5_write_int64(f, "/structures/offset", nst, 1, off));
    W(ms_h5_write_strings(f, "/structures/species", tot_atoms, 8, spc));
    W(ms_h5_write_double(f, "/structures/frac_positions", tot_atoms, 3, fr, 0));
    W(ms_h5_attr_str(f, "/structures", "description",
                     "relaxed survivors; sites of structure k are rows offset[k] .. offset[k]+natoms[k]-1"));
  }
  free(cid);
  free(off);
  free(nat);
  free(lat);
  free(fr);
  free(spc);
  /* hull: the end-member references and the stable candidates (rows from rank 0) */
  if (!e && x->st[MS_STAGE_HULL].present) {
    int nr = x->rank == 0 ? x->nrefs : 0;
    char *rf = calloc((size_t)x->nrefs + 1, 32), *rp = calloc((size_t)x->nrefs + 1, 48);
    double *re = calloc((size_t)x->nrefs + 1, sizeof *re);
    if (!rf || !rp || !re) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int k = 0; k < x->nrefs && !e; ++k) {
      memcpy(rf + 32 * k, x->refs[k].formula, strnlen(x->refs[k].formula, 32));
      memcpy(rp + 48 * k, x->refs[k].prototype, strnlen(x->refs[k].prototype, 48));
      re[k] = x->refs[k].energy;
    }
    W(ms_h5_write_strings(f, "/hull/reference_formula", nr, 32, rf));
    W(ms_h5_write_strings(f, "/hull/reference_prototype", nr, 48, rp));
    W(ms_h5_write_double(f, "/hull/reference_energy_eV_per_atom", nr, 1, re, 0));
    W(ms_h5_write_int64(f, "/hull/stable_candidate_id", x->rank == 0 ? x->nstable : 0, 1, x->stable_ids));
    W(ms_h5_attr_str(f, "/hull", "description",
                     "components are the binary compounds of each cation with the anion, relaxed with the "
                     "campaign's model in the library prototypes of their stoichiometry (lowest kept)"));
    free(rf);
    free(rp);
    free(re);
  }
  /* funnel table: written by rank 0 (one row per stage) */
  int ns = sum->nstages, mine = x->rank == 0 ? ns : 0;
  char *names = calloc((size_t)ns + 1, 32);
  int64_t *cin = calloc((size_t)ns + 1, sizeof *cin), *cout = calloc((size_t)ns + 1, sizeof *cout);
  double *cpu = calloc((size_t)ns + 1, sizeof *cpu), *wall = calloc((size_t)ns + 1, sizeof *wall);
  int64_t *bys = calloc((size_t)ns * MS_STATUS_COUNT_ + 1, sizeof *bys);
  if (names && cin && cout && cpu && wall && bys) {
    for (int k = 0; k < ns; ++k) {
      strncpy(names + 32 * k, sum->stats[k].name, 32);
      cin[k] = sum->stats[k].in;
      cout[k] = sum->stats[k].out;
      cpu[k] = sum->stats[k].cpu_s;
      wall[k] = sum->stats[k].wall_s;
      for (int q = 0; q < MS_STATUS_COUNT_; ++q) bys[k * MS_STATUS_COUNT_ + q] = sum->stats[k].by_status[q];
    }
    W(ms_h5_write_strings(f, "/funnel/stage", mine, 32, names));
    W(ms_h5_write_int64(f, "/funnel/count_in", mine, 1, cin));
    W(ms_h5_write_int64(f, "/funnel/count_out", mine, 1, cout));
    W(ms_h5_write_double(f, "/funnel/cpu_s", mine, 1, cpu, 0));
    W(ms_h5_write_double(f, "/funnel/wall_s", mine, 1, wall, 0));
    W(ms_h5_write_int64(f, "/funnel/by_status", mine, MS_STATUS_COUNT_, bys));
    char statuses[512] = "";
    for (int q = 0; q < MS_STATUS_COUNT_; ++q) {
      strncat(statuses, ms_status_name((ms_status)q), sizeof statuses - strlen(statuses) - 2);
      if (q + 1 < MS_STATUS_COUNT_) strncat(statuses, ",", sizeof statuses - strlen(statuses) - 1);
    }
    W(ms_h5_attr_str(f, "/funnel/by_status", "columns", statuses));
  } else {
    e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  free(names);
  free(cin);
  free(cout);
  free(cpu);
  free(wall);
  free(bys);
#undef W
  e = ms_err_agree(x->comm, e);
  if (e) {
    ms_h5_abort(&f);
    return e;
  }
  MS_CALL(ms_err_agree(x->comm, ms_h5_close(&f)));
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
  ms_err e = ms_potential_load(c->potential, &x->pot);
  if (e == MS_ERR_INPUT || e == MS_ERR_FILE) {
    /* Point at the campaign key as well as at the potential's own problem. */
    ms_ynode *pn = ms_ynode_get(ms_ydoc_root(c->doc), "potential");
    if (pn && pn->type == MS_YMAP) pn = ms_ynode_get(pn, "name");
    char msg[900];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    e = ms_ynode_error(pn, "potential", "%s", msg);
  }
  if (!e) {
    ms_model_options mo;
    ms_model_options_default(&mo);
    if (c->accuracy > 0) mo.ewald.accuracy = c->accuracy;
    mo.ewald.method = strcmp(c->coulomb_method, "direct") == 0 ? MS_EWALD_DIRECT
                      : strcmp(c->coulomb_method, "pme") == 0  ? MS_EWALD_PME
                                                               : MS_EWALD_AUTO;
    e = ms_model_create_with(x->pot, &mo, &x->model);
  }
  /* Stage options first: they are cheap to check, while setting up a generator can take a
   * noticeable time (random search tabulates Wyckoff positions of all space groups). */
  if (!e) e = read_stage_options(x);
  ms_ynode *search = ms_ynode_get(ms_ydoc_root(c->doc), "search");
  if (!e) e = ms_search_create(search, c->seed, x->pot, &x->search);
  if (!e && ms_search_count(x->search) == 0)
    e = ms_ynode_error(search, "search", "empty search space: no generator produces a candidate "
                       "(for substitutions: no charge-neutral assignment of the ions)");
  if (!e) e = ms_campaign_check_unused(c);
  return ms_err_agree(x->comm, e);
}

static void teardown(run_ctx *x) {
  ms_relax_destroy(&x->relax);
  ms_prefilter_free(&x->pf);
  free(x->refs);
  free(x->stable_ids);
  ms_model_destroy(&x->model);
  ms_search_destroy(&x->search);
  ms_potential_free(&x->pot);
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
  MPI_Comm_rank(comm, &x.rank);
  MPI_Comm_size(comm, &x.size);
  double t_start = (double)time(NULL), w0 = MPI_Wtime();
  snprintf(sum->output, sizeof sum->output, "%s", opt.output ? opt.output : c->output);

  ms_err e = setup(&x, c);
  sum->candidates = e ? 0 : ms_search_count(x.search);

  ms_record_vec recs = {0};
  relax_out *rout = NULL;
  int64_t nrout = 0;
  bytes structs = {0};
  if (!e && !opt.dry_count) {
    /* stats rows: 0 generate, 1 single_point (if any), then relax */
    /* stats rows: 0 generate, then one per funnel stage in campaign order */
    snprintf(sum->stats[0].name, 32, "generate");
    for (int k = 0; k < c->nstages; ++k) snprintf(sum->stats[1 + k].name, 32, "%s", c->stage[k].name);
    sum->nstages = 1 + c->nstages;
    int sp_row = x.st[MS_STAGE_SINGLE_POINT].present ? 1 + x.st[MS_STAGE_SINGLE_POINT].index : -1;
    int pf_row = x.st[MS_STAGE_PREFILTER].present ? 1 + x.st[MS_STAGE_PREFILTER].index : -1;
    int relax_row = x.st[MS_STAGE_RELAX].present ? 1 + x.st[MS_STAGE_RELAX].index : -1;
    if (ms_log_is_root())
      ms_log_info("campaign %s: %lld candidates from %d generator%s, potential %s, %d rank%s", c->name,
                  sum->candidates, c->nsearch, c->nsearch == 1 ? "" : "s", ms_potential_name(x.pot),
                  x.size, x.size == 1 ? "" : "s");
    e = ms_err_agree(comm, phase_a(&x, &recs, &opt));
    if (!e && x.st[MS_STAGE_SINGLE_POINT].present) {
      const ms_stage *st = &c->stage[x.st[MS_STAGE_SINGLE_POINT].index];
      e = ms_err_agree(comm, keep_records(&x, &recs, st, sp_row, 0, &sum->stats[sp_row]));
      if (!st->has_keep && !e) {
        /* no keep rule: everything evaluated OK goes on */
      }
    }
    if (!e) {
      reduce_stats(comm, &sum->stats[0], 1);
      if (pf_row > 0) reduce_stats(comm, &sum->stats[pf_row], 1);
      if (sp_row > 0) reduce_stats(comm, &sum->stats[sp_row], 1);
    }
    if (!e && relax_row > 0) {
      ms_funnel_stage_stats *rs = &sum->stats[relax_row];
      e = ms_err_agree(comm, phase_b(&x, &recs, &rout, &nrout, &structs, &opt, rs));
      if (!e) {
        for (int64_t k = 0; k < nrout; ++k)
          if (rout[k].status != MS_STATUS_CONVERGED) count_status(rs, rout[k].status);
        /* keep rule on the relaxed energies, wherever they were computed */
        const ms_stage *st = &c->stage[x.st[MS_STAGE_RELAX].index];
        double *en = malloc(((size_t)nrout + 1) * sizeof *en);
        int64_t *ids = malloc(((size_t)nrout + 1) * sizeof *ids);
        char (*fo)[MS_KEEP_FORMULA] = calloc((size_t)nrout + 1, sizeof *fo);
        unsigned char *kp = calloc((size_t)nrout + 1, 1);
        if (!en || !ids || !fo || !kp) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
        for (int64_t k = 0; k < nrout && !e; ++k) {
          en[k] = rout[k].e_relaxed;
          ids[k] = rout[k].id;
          kp[k] = rout[k].status == MS_STATUS_CONVERGED;
          memcpy(fo[k], rout[k].formula, MS_KEEP_FORMULA);
        }
        e = ms_err_agree(comm, e);
        if (!e) e = ms_err_agree(comm, ms__keep_apply(comm, &st->keep, nrout, en, ids,
                                                      (const char (*)[MS_KEEP_FORMULA])fo, kp));
        int relax_no = x.st[MS_STAGE_RELAX].index + 1;
        for (int64_t k = 0; k < nrout && !e; ++k) {
          rout[k].kept = kp[k];
          rout[k].duplicate_of = -1;
          rout[k].e_above_hull = NAN;
          rout[k].stage_reached = kp[k] ? relax_no : relax_no - 1;
          rout[k].reject_stage = kp[k] ? -1 : relax_no;
          if (kp[k]) rs->out++;
          else if (rout[k].status == MS_STATUS_CONVERGED) count_status(rs, MS_STATUS_REJECTED);
        }
        free(en);
        free(ids);
        free(fo);
        free(kp);
        if (!e) {
          long long in = rs->in;
          reduce_stats(comm, rs, 0);
          rs->in = in;
          long long o = rs->out, go = 0;
          MPI_Allreduce(&o, &go, 1, MPI_LONG_LONG, MPI_SUM, comm);
          rs->out = go;
        }
      }
    }
    if (!e && relax_row > 0 && (x.st[MS_STAGE_DEDUP].present || x.st[MS_STAGE_HULL].present))
      e = ms_err_agree(comm, stability_stages(&x, rout, nrout, &structs));
    /* Merge everything on the owners (by id range) and write. */
    ms_record *mrec = NULL;
    int64_t nmrec = 0;
    relax_out *mrel = NULL;
    int64_t nmrel = 0;
    char *mst = NULL;
    size_t nmst = 0;
    sref *refs = NULL;
    int64_t nrefs = 0;
    if (!e) {
      int64_t total = sum->candidates;
      int *dest = malloc(((size_t)recs.n + 1) * sizeof *dest);
      size_t *off = malloc(((size_t)recs.n + 2) * sizeof *off);
      for (int64_t k = 0; k < recs.n; ++k) {
        dest[k] = owner_of(recs.r[k].id, total, x.size);
        off[k] = (size_t)k * sizeof(ms_record);
      }
      off[recs.n] = (size_t)recs.n * sizeof(ms_record);
      char *rb = NULL;
      size_t nb = 0;
      e = alltoall_bytes(comm, x.size, recs.n, dest, off, (const char *)recs.r, &rb, &nb);
      free(dest);
      free(off);
      mrec = (ms_record *)rb;
      nmrec = (int64_t)(nb / sizeof(ms_record));
      if (!e) {
        dest = malloc(((size_t)nrout + 1) * sizeof *dest);
        off = malloc(((size_t)nrout + 2) * sizeof *off);
        for (int64_t k = 0; k < nrout; ++k) {
          dest[k] = owner_of(rout[k].id, total, x.size);
          off[k] = (size_t)k * sizeof(relax_out);
        }
        off[nrout] = (size_t)nrout * sizeof(relax_out);
        e = alltoall_bytes(comm, x.size, nrout, dest, off, (const char *)rout, &rb, &nb);
        free(dest);
        free(off);
        mrel = (relax_out *)rb;
        nmrel = (int64_t)(nb / sizeof(relax_out));
      }
      if (!e) {
        /* structures: only those of kept relaxations travel. They were packed in the order
         * of rout, one per converged relaxation. */
        bytes kept = {0};
        int64_t m = 0, nconv = 0;
        for (int64_t q = 0; q < nrout; ++q) nconv += rout[q].status == MS_STATUS_CONVERGED;
        dest = malloc(((size_t)nconv + 1) * sizeof *dest);
        off = malloc(((size_t)nconv + 2) * sizeof *off);
        size_t p = 0;
        off[0] = 0;
        for (int64_t q = 0; q < nrout && !e; ++q) {
          if (rout[q].status != MS_STATUS_CONVERGED) continue;
          const sheader *h = (const sheader *)(structs.b + p);
          size_t len = sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
          if (rout[q].kept) {
            e = bytes_put(&kept, structs.b + p, len);
            dest[m] = owner_of(h->id, total, x.size);
            off[m + 1] = kept.n;
            m++;
          }
          p += len;
        }
        if (!e) e = alltoall_bytes(comm, x.size, m, dest, off, kept.b ? kept.b : "", &mst, &nmst);
        free(kept.b);
        free(dest);
        free(off);
      }
      e = ms_err_agree(comm, e);
    }
    if (!e) {
      qsort(mrec, (size_t)nmrec, sizeof *mrec, cmp_record);
      qsort(mrel, (size_t)nmrel, sizeof *mrel, cmp_relax);
      int64_t q = 0;
      int relax_stage_no = x.st[MS_STAGE_RELAX].present ? x.st[MS_STAGE_RELAX].index + 1 : 0;
      for (int64_t k = 0; k < nmrec; ++k) {
        ms_record *r = &mrec[k];
        while (q < nmrel && mrel[q].id < r->id) q++;
        if (q < nmrel && mrel[q].id == r->id) {
          const relax_out *o = &mrel[q];
          r->relax_status = o->status;
          r->relax_iterations = o->iterations;
          r->relax_time_s = o->time_s;
          r->e_relaxed = o->e_relaxed;
          r->status = o->status;
          r->stage_reached = o->stage_reached;
          r->reject_stage = o->reject_stage;
          r->duplicate_of = o->duplicate_of;
          r->spacegroup_relaxed = o->spacegroup;
          r->e_above_hull = o->e_above_hull;
          memcpy(r->decomposition, o->decomposition, sizeof r->decomposition);
          (void)relax_stage_no;
        }
      }
      /* structure index, sorted by id */
      for (size_t p = 0; p < nmst;) {
        const sheader *h = (const sheader *)(mst + p);
        p += sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
        nrefs++;
      }
      refs = malloc(((size_t)nrefs + 1) * sizeof *refs);
      int64_t k = 0;
      for (size_t p = 0; p < nmst; ++k) {
        const sheader *h = (const sheader *)(mst + p);
        refs[k] = (sref){h->id, h, (const ssite *)(mst + p + sizeof(sheader))};
        p += sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
      }
      qsort(refs, (size_t)nrefs, sizeof *refs, cmp_sref);
      sum->wall_s = MPI_Wtime() - w0;
      e = write_output(&x, sum->output, mrec, nmrec, refs, nrefs, sum, t_start);
    }
    free(mrec);
    free(mrel);
    free(mst);
    free(refs);
    sum->wall_s = MPI_Wtime() - w0;
    if (!e) print_summary(sum, x.size);
  }
  ms_record_vec_free(&recs);
  free(rout);
  free(structs.b);
  teardown(&x);
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
      ms_record r;
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
        scale_volume(&cell, r.volume_scale > 0 ? r.volume_scale : 1.0);
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
    fflush(fp);
  }
  teardown(&x);
  return e;
}
