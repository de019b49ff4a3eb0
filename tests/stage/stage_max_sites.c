/* A funnel stage added from outside the library: docs/stages.md, "How to add a stage", walks
 * through this file. It is built only in the test suite (tests/stage/meson.build) as a
 * matscreen that knows one more stage, and tests/stage/check_stage.py runs it.
 *
 * max_sites is a per-candidate filter: it rejects a candidate whose cell has more than `max`
 * sites (relaxation cost grows with the cell, so a screen may leave large cells for later).
 * It uses only the installed headers; everything else a stage needs -- its place in the order,
 * its options in `check` and `info stages`, did-you-mean for misspelt keys, the /funnel row,
 * the rejected rows' stage, rule and reason in /candidates, the checkpoint -- comes from the
 * record below. */
#include <matscreen/app.h>
#include <matscreen/stage.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  long long max; /* most sites a candidate may have */
} max_sites;

/* The options, declared once: parsing, range checks with positioned errors, did-you-mean,
 * `matscreen info stages max_sites` and docs all come from this table. */
static const ms_opt_spec options[] = {
    {.key = "max", .type = MS_OPT_INTEGER, .lo = 1, .hi = 100000, .default_text = "required",
     .help = "most sites (atoms) a candidate's cell may have", .example = "10"},
    {0},
};

/* Not collective: read the item's options (positioned errors) and make the state. */
static ms_err ms_create(ms_run *run, const ms_stage *item, const char *path, void **state) {
  (void)run;
  ms_opt_value v[2];
  MS_CALL(ms_opts_read(item->node, path, options, v));
  if (!v[0].set) return ms_ynode_error(item->node, path, "missing required key 'max' (e.g. max: 10)");
  max_sites *s = malloc(sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->max = v[0].i;
  *state = s;
  return MS_SUCCESS;
}

static void ms_destroy(void *state) { free(state); }

/* One candidate, on whichever rank builds it: pass, or a rejection with its rule and reason. */
static ms_err ms_filter(void *state, ms_run *run, const ms_cell *cell, ms_stage_verdict *v) {
  (void)run;
  const max_sites *s = state;
  if (cell->natoms <= s->max) return MS_SUCCESS;
  v->pass = 0;
  v->status = MS_STATUS_REJECTED;
  snprintf(v->rule, sizeof v->rule, "max_sites");
  snprintf(v->reason, sizeof v->reason, "max_sites: %d sites, more than %lld", cell->natoms, s->max);
  return MS_SUCCESS;
}

/* Collective: its own part of the output, /max_sites/max (one row, from rank 0). */
static ms_err ms_write(void *state, ms_run *run, ms_h5 f) {
  const max_sites *s = state;
  int rank = 0;
  MPI_Comm_rank(ms_run_comm(run), &rank);
  int64_t max = s->max;
  MS_CALL(ms_h5_write_int64(f, "/max_sites/max", rank == 0 ? 1 : 0, 1, &max));
  return ms_h5_attr_str(f, "/max_sites", "description", "the max_sites test stage's limit (sites per cell)");
}

static const ms_stage_ops ops = {.create = ms_create, .destroy = ms_destroy, .filter = ms_filter, .write = ms_write};

static const char *const after[] = {"prefilter", NULL}; /* when both are given, prefilter first */
static const char *const needs[] = {NULL};

static const ms_stage_info max_sites_stage = {
    .name = "max_sites",
    .summary = "reject candidates whose cell has more than `max` sites (a test stage)",
    .shape = MS_STAGE_SHAPE_FILTER,
    .kind = MS_STAGE_COUNT_, /* not a built-in stage */
    .after = after,
    .needs = needs,
    .input = "each candidate that passed the stages before it",
    .output = "pass, or rejected_by_rule max_sites",
    .options = options,
    .ops = &ops,
};

/* The "list line": register the stage, then run the matscreen commands as usual. */
int main(int argc, char **argv) {
  if (ms_stage_register(&max_sites_stage)) {
    fprintf(stderr, "%s\n", ms_err_message());
    return 1;
  }
  return ms_app_main(argc, argv);
}
