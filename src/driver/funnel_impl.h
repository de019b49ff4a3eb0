/* Internal to src/driver: what one run of the funnel (funnel.c) shares with the built-in stages
 * (stage_*.c, surrogate_stage.c, shortlist_stage.c; stage.h declares their operations): the
 * candidate records, the survivor set, the relaxed-structure store, the models, the checkpoint,
 * and the helpers the stages call. Each stage's own settings and results are in its state, not
 * here. Not installed; names are ms__ prefixed. docs/stages.md describes the shape.
 *
 * Conventions: energies in eV/atom unless named otherwise; arrays indexed by survivor are in
 * candidate-id order and identical on every rank; functions marked collective are called by
 * every rank of x->comm in the same order and return the same error code on every rank. */
#ifndef MS_DRIVER_FUNNEL_IMPL_H
#define MS_DRIVER_FUNNEL_IMPL_H

#include <mpi.h>
#include <stdint.h>

#include "keep.h"
#include "labfeed.h"
#include "spool.h"
#include "stability.h"
#include "comm.h"
#include "matscreen/campaign.h"
#include "matscreen/funnel.h"
#include "matscreen/generator.h"
#include "matscreen/h5out.h"
#include "matscreen/match.h"
#include "matscreen/model.h"
#include "matscreen/prefilter.h"
#include "matscreen/relax.h"
#include "matscreen/shortlist.h"
#include "matscreen/stage.h"
#include "matscreen/surrogate.h"
#include "record.h"

/* Relaxation outcome of one survivor, kept where it was computed until the final merge. */
typedef struct {
  int64_t id;
  double e_relaxed;   /* eV/atom */
  double time_s;      /* the relaxation itself */
  double busy_s;      /* everything done for this survivor: rebuild, relax, symmetry, commit share */
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
  char prototype[MS_REC_PROTO];
  char structure_type[MS_REC_PROTO]; /* dedup: the library prototype the relaxed structure matches */
  char decomposition[MS_DECOMP_LEN];
  char reason[MS_REC_REASON]; /* why it did not go on: relaxation status, keep rule, duplicate, hull */
} relax_out;

/* A shortlist pick with the outcome of its candidate. */
typedef struct {
  ms_shortlist_pick pick;
  relax_out o;
} sl_row;

/* Serialised relaxed structure: header followed by natoms sites. */
typedef struct {
  int64_t id;
  int32_t natoms;
  int32_t survived; /* in the output: 1 if it passed every stage, 0 if the hull removed it */
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

/* A structure of the merged relaxation results: its id and where its packed cell lies. */
typedef struct {
  int64_t id;
  const sheader *h;
  const ssite *s;
} sref;


/* A survivor of phase A: what phase B needs to rebuild and relax it. */
typedef struct {
  int64_t id;
  double volume_scale;
  double pred, sigma;     /* surrogate stage: predicted relaxed energy and uncertainty, eV/atom */
  int32_t relaxed;        /* surrogate stage: 0 skipped, 1 relaxed in a learning round, 2 relaxed
                             because the filter kept it */
  int32_t pad_;
} survivor;

typedef struct {
  int present;
  int index;               /* position in the campaign's funnel list */
} stage_ref;

/* The checkpoint's format version (funnel.c, fingerprint): 3 has one count row per filter
 * stage of the campaign in each phase-A frame and names the stages in its header. */
#define MS_CHECKPOINT_FORMAT 3

/* The run (stage.h's ms_run): what every stage shares. Stage-specific state lives in each
 * stage's own struct (item_state), made by its create operation. */
typedef struct ms_run run_ctx;
struct ms_run {
  MPI_Comm comm;
  int rank, size;
  ms_campaign *camp;
  ms_search search;
  ms_model model;          /* the campaign's model (`potential:`) */
  ms_model own[MS_MAX_STAGES]; /* models of stages that name a model of their own, one per
                                  distinct spec */
  int nown;
  ms_model item_model[MS_MAX_STAGES]; /* what each funnel item evaluates with (borrowed from the
                                         two above; NULL for stages that evaluate nothing) */
  /* the stages of this run: the funnel items in order, then the stages configured by a
   * top-level section (the shortlist); row 1 + i of /funnel is item i */
  int nitems;              /* while an item's create runs: that item's index */
  const ms_stage_info *item_info[MS_MAX_STAGES + 4];
  void *item_state[MS_MAX_STAGES + 4];
  stage_ref st[MS_STAGE_COUNT_]; /* the built-in funnel stages by kind: present, item index */
  int filter_item[MS_MAX_STAGES], nfilter; /* the filter items in campaign order (phase A) */
  int keep_item;           /* the filter item whose keep rule narrows phase A (it evaluates
                              energies), -1 if none */
  ms_relax relax;          /* the relax stage's relaxer (owned by it); the hull and the surrogate
                              relax their reference phases with it */
  /* stats (local busy time; summed at the end) */
  ms_funnel_summary *sum;
  /* work blocks and the checkpoint (spool.h) */
  ms_spool spool;
  int64_t total;          /* candidates */
  int64_t ba, nba;        /* phase A: ids per block, blocks */
  int64_t bb, nbb;        /* relaxations: survivors per block, blocks */
  /* the survivor set */
  survivor *sv;           /* survivors of phase A (every rank), sorted by id */
  int64_t nsv;
  int sv_relaxed;         /* an earlier stage (the surrogate) did the relaxations already */
  /* the relaxed-structure store: this rank's share of the relaxation outcomes (read back by
   * block range) and, for each converged one, its packed structure in `structs` */
  int relaxed;            /* 1 once the relax stage has read its outcomes back */
  int store_item;         /* the item that filled the store (the relax stage), -1 before */
  relax_out *rout;
  int64_t nrout;
  bytes structs;
  char *reason_report;     /* rank 0: the most frequent reasons per stage, for the log (funnel_output.c) */
  int64_t round;          /* lab round (1 without lab feedback) */
  ms_labfeed lab;         /* lab_queue / lab_feedback (labfeed.h) */
  const ms_funnel_options *opt;
};


/* One /candidates row while it is finished (stage.h's ms_run_row): the phase-A record, the
 * candidate's entry in the survivor set (NULL if it did not survive phase A), its relaxation
 * outcome (NULL if not relaxed) and the row being filled. */
struct ms_run_row {
  const ms_arec *a;
  const survivor *sv;
  const relax_out *rel;
  ms_record *r;
};

/* Chains of collective output calls (funnel_output.c and the stages' write operations): every
 * ms_h5 call returns the same result on every rank, so a chain of MS__W() stays in step; a
 * rank's own failure (memory) is agreed with MS__LOCAL() before the next call. Both use a local
 * `ms_err e` and `x->comm`. */
#define MS__W(call)     \
  do {                  \
    if (!e) e = (call); \
  } while (0)
#define MS__LOCAL(ok)                                                                                          \
  do {                                                                                                         \
    ms_err l_ = e || (ok) ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"); \
    ms_err a_ = ms_err_agree(x->comm, l_);                                                                    \
    if (!e) e = a_;                                                                                            \
  } while (0)

/* ---- the stages of the run ----------------------------------------------------------------- */

/* The state of the built-in stage @p kind when the campaign has it, else NULL. */
void *ms__fn_state(const run_ctx *x, ms_stage_kind kind);
/* The model the built-in stage @p kind evaluates with (NULL when absent or it evaluates none). */
ms_model ms__fn_kind_model(const run_ctx *x, ms_stage_kind kind);
/* The /funnel row of item @p item (row 1 + item; row 0 is generation). */
ms_funnel_stage_stats *ms__fn_stats(run_ctx *x, int item);
/* Sum the counts (when @p sum_counts; by_status always) and the busy times over the ranks; the
 * wall time is the maximum. Collective. */
void ms__fn_reduce_stats(MPI_Comm comm, ms_funnel_stage_stats *s, int sum_counts);
/* Count one candidate of status @p status in @p s. */
void ms__fn_count_status(ms_funnel_stage_stats *s, int status);

/* ---- helpers of funnel.c used by the stages in other files ------------------------------- */

/* Scale the cell's volume by @p factor (lattice and Cartesian positions). */
void ms__fn_scale_volume(ms_cell *c, double factor);
/* qsort comparison of int64_t. */
int ms__fn_cmp_i64(const void *a, const void *b);
/* Append @p len bytes to @p v (grows it). */
ms_err ms__fn_bytes_put(bytes *v, const void *p, size_t len);
/* The cell packed at @p h (a sheader followed by its sites) into @p c (emptied first). */
ms_err ms__fn_unpack_cell(const sheader *h, ms_cell *c);
/* Copy @p src into a fixed-width, NUL-padded string column entry of @p width bytes. */
void ms__fn_put_str(char *dst, int width, const char *src);
/* First survivor with id >= @p id (n if none). */
int64_t ms__fn_lower_bound_sv(const survivor *sv, int64_t n, int64_t id);
/* Collective: relax the survivor blocks todo[0..ntodo) (of per_block survivors each) over the
 * scheduler, committing each to the checkpoint; progress counts items in all, done of them
 * before; *stopped when a clean stop was agreed (relax_blocks.c). */
ms_err ms__fn_relax_blocks(run_ctx *x, const char *label, const int64_t *todo, int64_t ntodo, int64_t per_block,
                           int64_t items, int64_t done, int *stopped);
/* The loop shared by the phases: take blocks of @p todo from the scheduler, run @p fn on each
 * and commit its frame, until the work runs out, this rank is told to stop (*stop = reason), or
 * another rank cancels the hand-out (failure or stop there). */
typedef ms_err (*ms__block_fn)(run_ctx *x, int64_t b, void *ctx);
ms_err ms__fn_run_blocks(run_ctx *x, const char *stage, const int64_t *todo, int64_t ntodo, int64_t max_chunk,
                         int64_t items_per_block, int64_t items_total, int64_t items_done_before, ms__block_fn fn,
                         void *ctx, int *stop);
/* Agree on how a phase ended: failure (returned), a stop somewhere (*stopped = the largest
 * MS_STOP_* code of any rank), or done (*stopped = 0). Collective. */
ms_err ms__fn_agree_end(run_ctx *x, ms_err err, int stop, int *stopped);
/* Blocks of checkpoint @p kind (0..nb) without a committed frame (malloc'ed). */
ms_err ms__fn_todo_blocks(run_ctx *x, int kind, int64_t nb, int64_t **todo, int64_t *ntodo);

/* Read the phase-A frame of block @p b (payload malloc'ed: the block's stage counts, then its
 * records; ms__fn_astats_size gives the counts' size). */
ms_err ms__fn_read_block_a(run_ctx *x, int64_t b, char **buf, uint32_t *n);
size_t ms__fn_astats_size(const run_ctx *x);
/* 1 if a phase-A record passed every stage of phase A (goes on to the surrogate/relaxation). */
int ms__fn_eligible_a(const ms_arec *r);
/* The run's HDF5 output (funnel_output.c): root attributes, /config, /candidates streamed from
 * the checkpoint, /structures, /funnel, every stage's own part (its write operation), /lab,
 * and last the peak memory and wall time (measured there, so that they include the output; also
 * stored in x->sum). @p w0: MPI_Wtime() at the start of the run. Collective. */
ms_err ms__fn_write_output(run_ctx *x, const char *path, const relax_out *rel, int64_t nrel,
                           sref *st, int64_t nst, const ms_funnel_summary *sum, double t_start, double w0);
/* A safe point before @p next_stage (a stage's name, or "output") after the relaxations: agrees
 * on stop requests and returns MS_ERR_INTERRUPTED (with the resume hint) when there is one.
 * Collective. */
ms_err ms__fn_stop_point(run_ctx *x, const char *next_stage);
/* A candidate's reason (MS_REC_REASON bytes), cut to fit: reasons are for people, a long detail
 * loses its tail rather than fail. */
void ms__fn_set_reason(char *dst, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "species Zn2+ not covered by bush1994": the first species of @p c that @p m lacks. */
void ms__fn_uncovered_reason(const ms_model m, const ms_cell *c, char *buf, size_t n);
/* Peak resident memory of this process (VmHWM), MiB; 0 if unknown. */
double ms__fn_peak_rss_mib(void);

/* ---- check's cost estimate (calibrate.c) ---------------------------------------------------- */

typedef struct {
  double t_eval, t_relax; /* seconds: the energy-evaluating filter, the relaxations */
  int n_eval, n_relax, n_fail;
} ms__fn_cost;
/* Rank 0 of `check`: time the energy-evaluating filter stage on up to 24 candidates and the
 * relaxer on up to 3 of them. Not collective. */
ms_err ms__fn_calibrate(run_ctx *x, int64_t total, ms__fn_cost *c);
void ms__fn_cost_print(const run_ctx *x, int64_t total, const ms__fn_cost *c, FILE *fp);

/* ---- the stages' models (stage_models.c) ---------------------------------------------------- */

/* Collective in effect (every rank does the same): the campaign's model and each energy stage's
 * own (one object per distinct spec) into x->model, x->own and x->item_model. */
ms_err ms__fn_stage_models(run_ctx *x);
/* Every model of the campaign (the campaign's first, then the stages' own) into @p out
 * (MS_MAX_STAGES + 1 entries); returns their number. */
int ms__fn_models(const run_ctx *x, ms_model *out);
void ms__fn_models_free(run_ctx *x);
/* MS_ERR_INPUT, positioned at the model's spec, when a stage's model does not cover a species
 * the search space names: one message with the species, the models and the stages. */
ms_err ms__fn_check_coverage(run_ctx *x);
/* MS_ERR_INPUT, positioned at the node that asks for it, when the search space has plain
 * elements and a stage's model takes its charges from oxidation states (species_kinds.c).
 * @p what gets "search[1] gives plain elements (Ni, Al)" ("" when every species is an ion). */
ms_err ms__fn_check_species_kinds(run_ctx *x);
void ms__fn_plain_elements(run_ctx *x, char *what, size_t len);

#endif
