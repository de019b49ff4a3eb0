/* The dedup stage: group the relaxed structures that are the same crystal (match.h) and keep one
 * representative per group. A collective pass over the relaxed-structure store (stage.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel_impl.h"
#include "matscreen/log.h"
#include "relaxed_store.h"
#include "stage_spec.h"

typedef struct {
  int item;
  ms_match_options mopt;
  double etol; /* energies within this of a group's lowest are equal (eV/atom) */
} dedup_state;

static void dd_destroy(void *state) { free(state); }

static ms_err dd_create(ms_run *x, const ms_stage *st, const char *path, void **state) {
  if (!x->st[MS_STAGE_RELAX].present)
    return ms_ynode_error(ms_ynode_get(st->node, "stage"), path,
                          "the %s stage works on relaxed structures: put a relax stage before it", st->name);
  dedup_state *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->item = (int)(st - x->camp->stage);
  *state = s;
  const ms_opt_spec *spec = st->info->options;
  ms_opt_value val[16];
  MS_CALL(ms_opts_read(st->node, path, spec, val));
  const ms_opt_value *o;
  ms_match_options_default(&s->mopt);
  if ((o = ms_opts_get(spec, val, "ltol"))->set) s->mopt.ltol = o->num;
  if ((o = ms_opts_get(spec, val, "stol"))->set) s->mopt.stol = o->num;
  if ((o = ms_opts_get(spec, val, "angle_tol"))->set) s->mopt.angle_tol = o->num;
  s->etol = MS_DEDUP_ENERGY_TOL;
  if ((o = ms_opts_get(spec, val, "energy_tol"))->set) s->etol = o->num;
  if ((o = ms_opts_get(spec, val, "compare"))->set) s->mopt.compare_elements = o->choice == 1;
  return MS_SUCCESS;
}

/* Dedup on the relaxation survivors (x->rout[k].kept), where they were computed. */
static ms_err dd_run(void *state, ms_run *x, int *stopped) {
  dedup_state *s = state;
  *stopped = 0;
  kept_set ks;
  ms_err e = ms__fn_kept_cells(x, &ks);
  int64_t m = ks.n, *ids = ks.ids, *which = ks.which;
  double *en = ks.en;
  ms_cell *cells = ks.cells;
  int row = 1 + s->item;
  ms_funnel_stage_stats *ds = ms__fn_stats(x, s->item);
  double t0 = MPI_Wtime();
  if (!e) {
    int64_t *dup = malloc(((size_t)m + 1) * sizeof *dup);
    long long groups = 0, lm = m, gin = 0;
    MPI_Allreduce(&lm, &gin, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
    /* every rank must reach the collective dedup or none */
    e = ms_err_agree(x->comm, dup ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
    if (!e) e = ms_err_agree(x->comm, ms__dedup(x->comm, &s->mopt, m, ids, cells, en, dup, &groups));
    /* the representative of each group: the smallest, most symmetric cell among the members of
     * (about) the lowest energy, labelled with the library prototype it matches */
    ms_dedup_info *info = calloc((size_t)m + 1, sizeof *info);
    if (!e) e = ms_err_agree(x->comm, info ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
    for (int64_t k = 0; k < m && !e; ++k) {
      info[k].natoms = cells[k].natoms;
      info[k].spacegroup = x->rout[which[k]].spacegroup;
      snprintf(info[k].prototype, sizeof info[k].prototype, "%s", x->rout[which[k]].prototype);
    }
    if (!e) e = ms_err_agree(x->comm, ms__dedup_types(&s->mopt, m, cells, dup, info));
    long long changed = 0;
    if (!e) e = ms__dedup_representatives(x->comm, s->etol, m, ids, en, info, dup, &changed);
    if (!e && changed && ms_log_is_root())
      ms_log_verbose("dedup: %lld group%s represented by a smaller or more symmetric member than the lowest in energy",
                     changed, changed == 1 ? "" : "s");
    int64_t kept = 0;
    for (int64_t k = 0; k < m && !e; ++k) {
      relax_out *o = &x->rout[which[k]];
      if (dup[k] >= 0) {
        o->kept = 0;
        o->duplicate_of = dup[k];
        o->reject_stage = row;
        ms__fn_set_reason(o->reason, "duplicate of candidate %lld", (long long)dup[k]);
        ms__fn_count_status(ds, MS_STATUS_REJECTED);
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
    ds->in = gin;
    ds->out = groups;
    ds->cpu_s = MPI_Wtime() - t0;
    ds->wall_s = ds->cpu_s;
    ms__fn_reduce_stats(x->comm, ds, 0);
  }
  ms__fn_kept_free(&ks);
  return e;
}

static const ms_stage_ops dedup_ops = {
    .create = dd_create,
    .destroy = dd_destroy,
    .run = dd_run,
};

/* ---- the record -------------------------------------------------------------------------------- */

static const char *const compare_names[] = {"species", "elements", NULL};

static const ms_opt_spec dedup_options[] = {
    {.key = "ltol", .type = MS_OPT_NUMBER, .lo = 1e-4, .hi = 1, .def = 0.2, .default_text = "0.2",
     .help = "lattice length tolerance (a fraction)", .example = "0.25"},
    {.key = "stol", .type = MS_OPT_NUMBER, .lo = 1e-4, .hi = 2, .def = 0.3,
     .default_text = "0.3", .help = "site tolerance, in units of (V/N)^(1/3)", .example = "0.35"},
    {.key = "angle_tol", .type = MS_OPT_NUMBER, .unit = "degrees", .lo = 1e-3, .hi = 45, .def = 5,
     .default_text = "5", .help = "angle tolerance", .example = "6"},
    {.key = "energy_tol", .type = MS_OPT_NUMBER, .unit = "eV/atom", .lo = 0, .hi = 1, .def = MS_DEDUP_ENERGY_TOL,
     .default_text = "0.001",
     .help = "members within this of a group's lowest energy count as equally low when its representative "
             "is chosen",
     .example = "0.002"},
    {.key = "compare", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = compare_names, .default_text = "species",
     .help = "compare ions with their charges, or elements only", .example = "elements"},
    {0},
};

static const char *const after_dedup[] = {"prefilter", "single_point", "surrogate", "relax", NULL};

const ms_stage_info ms__stage_dedup = {
    .name = "dedup",
    .summary = "group the relaxed survivors that are the same crystal; one of each group survives",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_DEDUP,
    .after = after_dedup,
    .needs = ms__stage_needs_relax,
    .input = "the relaxed-structure store",
    .output = "duplicate_of and structure_type per relaxed survivor",
    .options = dedup_options,
    .ops = &dedup_ops,
};

