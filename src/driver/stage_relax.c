/* The relax stage: relax every survivor (unless an earlier stage did, the surrogate), read the
 * outcomes back into the relaxed-structure store (funnel_impl.h) and apply the keep rule. A
 * transform of the survivor set (stage.h); the relaxations themselves are relaxed_store.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel_impl.h"
#include "matscreen/log.h"
#include "stage_spec.h"

typedef struct {
  int item;
  ms_relax relax; /* lent to the run (x->relax): the hull's references are relaxed with it */
} relax_state;

static void rl_destroy(void *state) {
  relax_state *s = state;
  if (!s) return;
  ms_relax_destroy(&s->relax);
  free(s);
}

/* The scalar options from the stage's spec; the relaxer's own defaults stand for the absent ones
 * (the spec's defaults are the same, test_stages checks). */
static ms_err rl_create(ms_run *x, const ms_stage *st, const char *path, void **state) {
  relax_state *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->item = (int)(st - x->camp->stage);
  *state = s;
  const ms_opt_spec *spec = st->info->options;
  ms_opt_value val[16];
  MS_CALL(ms_opts_read(st->node, path, spec, val));
  const ms_opt_value *o;
  ms_relax_options ro;
  ms_relax_options_default(&ro);
  if ((o = ms_opts_get(spec, val, "cell"))->set) MS_CALL(ms_relax_cell_from_name(o->s, &ro.cell));
  if ((o = ms_opts_get(spec, val, "fmax"))->set) ro.fmax = o->num;
  if ((o = ms_opts_get(spec, val, "smax"))->set) ro.smax = o->num;
  if ((o = ms_opts_get(spec, val, "pressure"))->set) ro.pressure = o->num;
  if ((o = ms_opts_get(spec, val, "max_steps"))->set) ro.max_steps = (int)o->i;
  if ((o = ms_opts_get(spec, val, "tao_options"))->set) ro.petsc_options = o->s;
  MS_CALL(ms_relax_create(x->item_model[s->item], &ro, &s->relax));
  x->relax = s->relax;
  return MS_SUCCESS;
}

/* Relaxations cost milliseconds to seconds each: one per block up to 262144 survivors, so that
 * even 10^6 relaxations on thousands of ranks end together. */
static int64_t block_size_b(int64_t n) {
  int64_t b = (n + 262143) / 262144;
  return b < 1 ? 1 : b;
}

static ms_err phase_b(run_ctx *x, int *stopped) {
  x->bb = block_size_b(x->nsv);
  x->nbb = (x->nsv + x->bb - 1) / x->bb;
  int64_t *todo = NULL, ntodo = 0;
  MS_CALL(ms__fn_todo_blocks(x, MS_SPOOL_B, x->nbb, &todo, &ntodo));
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
      if (x->sv_relaxed) continue; /* an earlier stage (the surrogate filter) skipped it */
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


/* Relax keep rule on the outcomes read back (wherever they are), with the relax stage's counts. */
static ms_err relax_keep(run_ctx *x, int item, relax_out *rout, int64_t nrout, ms_funnel_stage_stats *rs) {
  for (int64_t k = 0; k < nrout; ++k) {
    if (rout[k].status != MS_STATUS_CONVERGED) ms__fn_count_status(rs, rout[k].status);
    rs->cpu_s += rout[k].busy_s;
  }
  const ms_stage *st = &x->camp->stage[item];
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
  int relax_no = item + 1;
  for (int64_t k = 0; k < nrout && !e; ++k) {
    rout[k].kept = kp[k];
    rout[k].duplicate_of = -1;
    rout[k].e_above_hull = NAN;
    rout[k].stage_reached = kp[k] ? relax_no : relax_no - 1;
    rout[k].reject_stage = kp[k] ? -1 : relax_no;
    if (kp[k]) rs->out++;
    else if (rout[k].status == MS_STATUS_CONVERGED) {
      ms__fn_count_status(rs, MS_STATUS_REJECTED);
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
  ms__fn_reduce_stats(x->comm, rs, 0);
  rs->in = in;
  rs->out = gout;
  return MS_SUCCESS;
}


static ms_err rl_run(void *state, ms_run *x, int *stopped) {
  relax_state *s = state;
  ms_funnel_stage_stats *rs = ms__fn_stats(x, s->item);
  double wb = MPI_Wtime();
  ms_err e = x->sv_relaxed ? MS_SUCCESS : phase_b(x, stopped);
  rs->wall_s = MPI_Wtime() - wb;
  if (e || *stopped) return e;
  e = ms_err_agree(x->comm, read_phase_b(x, &x->rout, &x->nrout, &x->structs));
  if (e) return e;
  x->relaxed = 1;
  x->store_item = s->item;
  /* in: the relaxations done (every survivor, or those an earlier stage chose) */
  long long mine = x->nrout, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
  rs->in = all;
  return relax_keep(x, s->item, x->rout, x->nrout, rs);
}

static ms_model rl_model(void *state, const ms_run *x) { return x->item_model[((relax_state *)state)->item]; }

static const ms_stage_ops relax_ops = {
    .create = rl_create,
    .destroy = rl_destroy,
    .run = rl_run,
    .model = rl_model,
};

/* ---- relax --------------------------------------------------------------------------------- */

static const char *const cell_names[] = {"fixed", "iso", "aniso", "full", NULL};

static const ms_opt_spec relax_options[] = {
    {.key = "cell", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = cell_names, .def = 3, .default_text = "full",
     .help = "which cell degrees of freedom relax", .example = "iso"},
    {.key = "fmax", .type = MS_OPT_NUMBER, .unit = "eV/Å", .lo = 1e-6, .hi = 10, .def = 0.01, .default_text = "0.01",
     .help = "force convergence", .example = "0.05"},
    {.key = "smax", .type = MS_OPT_NUMBER, .unit = "GPa", .lo = 1e-6, .hi = 100, .def = 0.05, .default_text = "0.05",
     .help = "stress convergence", .example = "0.1"},
    {.key = "pressure", .type = MS_OPT_NUMBER, .unit = "GPa", .lo = -1e3, .hi = 1e4, .def = 0, .default_text = "0",
     .help = "external pressure (the enthalpy E + PV is minimised); negative: a tension, allowed with a warning",
     .example = "1.0"},
    {.key = "max_steps", .type = MS_OPT_INTEGER, .lo = 1, .hi = 1000000, .def = 1000, .default_text = "1000",
     .help = "iteration limit", .example = "500"},
    {.key = "tao_options", .type = MS_OPT_STRING, UNBOUNDED, .default_text = "none",
     .help = "PETSc options, e.g. \"-relax_tao_type bncg\"", .example = "\"-relax_tao_type bncg\""},
    POTENTIAL_ENTRY,
    KEEP_ENTRY("by relaxed energy per atom, converged only"),
    {0},
};

static const char *const after_relax[] = {"prefilter", "single_point", "surrogate", NULL};

const ms_stage_info ms__stage_relax = {
    .name = "relax",
    .summary = "relax positions and cell with PETSc TAO",
    .shape = MS_STAGE_SHAPE_TRANSFORM,
    .kind = MS_STAGE_RELAX,
    .after = after_relax,
    .needs = ms__stage_none,
    .input = "the survivor set (or the surrogate's choice of it)",
    .output = "relaxed energies and statuses; converged structures go to the relaxed-structure store",
    .options = relax_options,
    .ops = &relax_ops,
};

