/* Internal to src/driver: the state of one run of the funnel (funnel.c), shared with the stages
 * that live in their own files (surrogate_stage.c). Not installed; names are ms__ prefixed.
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
#include "hull_refs.h"
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


/* /hull per chemical system: the systems of the hull entries and their stable phases. */
typedef struct {
  char name[64];           /* elements sorted alphabetically, joined by '-': "O-Sr-Ti" */
  int64_t entries, stable; /* candidates of the system at the hull stage, and on the hull */
} hull_system;
typedef struct {
  char system[64];
  char formula[32];
  char source[48];         /* "candidate", or the reference's prototype / file / "csv entry" */
  int64_t id;              /* candidate id, -1 for a reference phase */
  double energy;           /* eV/atom */
} hull_row;

/* A survivor of phase A: what phase B needs to rebuild and relax it. */
typedef struct {
  int64_t id;
  double volume_scale;
  double pred, sigma;     /* surrogate stage: predicted relaxed energy and uncertainty, eV/atom */
  int32_t relaxed;        /* surrogate stage: 0 skipped, 1 relaxed in a learning round, 2 relaxed
                             because the filter kept it */
  int32_t pad_;
} survivor;

/* The surrogate stage (docs/surrogate.md): active-learning rounds, then a filter. */
typedef struct {
  int rounds;             /* learning rounds (3) */
  int64_t batch;          /* relaxations per round (100) */
  double kappa;           /* optimism: mean - kappa sigma is compared with the keep rule (2) */
  double margin;          /* keep.max_energy_above_best_eV_per_atom (0.1; NaN: not used) */
  double hull_margin;     /* keep.max_e_above_hull_eV_per_atom (NaN: not used) */
  ms_hull_ref *refs;      /* hull_margin: the reference phases the predictions are compared with */
  int nrefs, nends;
  int ground_truth;       /* relax everything anyway and score the filter */
  char *load;             /* use this saved model (path to an output file) instead of learning */
  ms_surrogate_options mo;
  /* results */
  ms_surrogate model;
  int64_t relaxed_rounds, relaxed_filter, skipped;
  double mae, rmse, within1, within2;      /* of the filter's predictions (held out) */
  double precision, recall, f1, daf, prevalence, threshold;
  int64_t n_scored;
} sur_state;


typedef struct {
  int present;
  int index;               /* position in the campaign's funnel list */
} stage_ref;

typedef struct {
  MPI_Comm comm;
  int rank, size;
  ms_campaign *camp;
  ms_search search;
  ms_model model;          /* the campaign's model (`potential:`) */
  ms_model own[MS_MAX_STAGES]; /* models of stages that name a model of their own, one per
                                  distinct spec */
  int nown;
  ms_model stage_model[MS_STAGE_COUNT_]; /* what each energy stage evaluates with (borrowed
                                            from the two above; NULL for other stages) */
  ms_relax relax;
  ms_prefilter *pf;
  ms_match_options mopt;
  double dedup_etol;        /* dedup: energies within this of a group's lowest are equal (eV/atom) */
  ms_hull_ref *refs;
  int nrefs, nends;        /* reference phases; the first nends are the end members */
  char **ref_paths;        /* hull.references.structures (resolved paths) */
  int nref_paths;
  char *ref_csv;           /* hull.references.entries */
  int refs_elements;       /* the hull's components are the elements (the relax model needs no
                              charges; hull_plan.c), else the binary end members */
  ms_refs_options refs_opt; /* hull.references: which binaries (elements mode) */
  ms_ref_job *plan;        /* elements mode: every reference the search space may need */
  int nplan;
  unsigned char *ref_stable; /* per reference: on the hull */
  hull_system *hsys;       /* chemical systems of the hull entries, sorted by name */
  int64_t nhsys;
  hull_row *hrows;         /* stable phases per system */
  int64_t nhrows;
  int64_t *stable_ids, nstable;
  stage_ref st[MS_STAGE_COUNT_];
  /* single point */
  int scan_points;
  double scan_min, scan_max;
  /* stats (local busy time; summed at the end) */
  ms_funnel_summary *sum;
  /* work blocks and the checkpoint (spool.h) */
  ms_spool spool;
  int64_t total;          /* candidates */
  int64_t ba, nba;        /* phase A: ids per block, blocks */
  int64_t bb, nbb;        /* phase B: survivors per block, blocks */
  survivor *sv;           /* survivors of phase A (every rank), sorted by id */
  int64_t nsv;
  /* shortlist */
  int has_shortlist;
  char *reason_report;     /* rank 0: the most frequent reasons per stage, for the log (funnel_output.c) */
  ms_shortlist_options slopt;
  ms_known_set *known;
  sl_row *sl;             /* the picks (every rank), priority order */
  int64_t nsl;
  int64_t round;          /* lab round (1 without lab feedback) */
  ms_labfeed lab;         /* lab_queue / lab_feedback (labfeed.h) */
  const ms_funnel_options *opt;
  sur_state sur;
} run_ctx;


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
 * before; *stopped when a clean stop was agreed. */
ms_err ms__fn_relax_blocks(run_ctx *x, const char *label, const int64_t *todo, int64_t ntodo, int64_t per_block,
                           int64_t items, int64_t done, int *stopped);
/* Collective: the hull's reference phases for entries of compositions comps[0..n). */
ms_err ms__fn_hull_references(run_ctx *x, const ms_composition *comps, int64_t n, ms_hull_ref **refs, int *nrefs,
                              int *nends);

/* ---- the hull's references (hull_plan.c) --------------------------------------------------- */

/* Not collective (the campaign alone decides): the hull's kind and the references the search
 * space may need, checked before any work: the component limit, one anion and a library
 * prototype for every end member (end-member hulls), and the prototypes named by
 * hull.references.binaries. Errors point at the hull stage's YAML node. */
ms_err ms__fn_hull_plan(run_ctx *x);
/* The chemical system of species sp[0..n): distinct element symbols in alphabetical order
 * joined by '-' ("Al-Ni-Ti"), as /hull/systems names them. Not collective. */
void ms__fn_system_name(const ms_species *sp, int n, char *buf, size_t len);
/* Rank 0 of `check`: per chemical system of the search space, the references and how many
 * relaxations they cost. */
void ms__fn_hull_plan_print(const run_ctx *x, FILE *fp);
/* Collective: the elements-mode references for entries of compositions comps[0..n) (the same
 * on every rank): the planned jobs whose species all occur together in some entry. */
ms_err ms__fn_hull_refs_elements(run_ctx *x, const ms_composition *comps, int64_t n, ms_hull_ref **refs,
                                 int *nrefs, int *nends);

/* ---- the surrogate stage (surrogate_stage.c, docs/surrogate.md) ---------------------------- */

/* funnel[k] = {stage: surrogate, ...}: options into x->sur. */
/* A structure of the merged relaxation results: its id and where its packed cell lies. */
typedef struct {
  int64_t id;
  const sheader *h;
  const ssite *s;
} sref;

/* Read the phase-A frame of block @p b (payload malloc'ed: ms_astats then records). */
ms_err ms__fn_read_block_a(run_ctx *x, int64_t b, char **buf, uint32_t *n);
/* 1 if a phase-A record passed every stage of phase A (goes on to the surrogate/relaxation). */
int ms__fn_eligible_a(const ms_arec *r);
/* The run's HDF5 output (funnel_output.c): root attributes, /config, /candidates streamed from
 * the checkpoint, /structures, /funnel, /hull, /surrogate, /shortlist, /lab, and last the peak
 * memory and wall time (measured there, so that they include the output; also stored in
 * x->sum). @p w0: MPI_Wtime() at the start of the run. Collective. */
ms_err ms__fn_write_output(run_ctx *x, const char *path, const relax_out *rel, int64_t nrel,
                           sref *st, int64_t nst, const ms_funnel_summary *sum, double t_start, double w0);
/* A safe point before @p next_stage ("dedup", "hull", "shortlist", "output") after the
 * relaxations: agrees on stop requests and returns MS_ERR_INTERRUPTED (with the resume hint)
 * when there is one. Collective. */
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

/* ---- the stages' models (stage_models.c) ---------------------------------------------------- */

/* Collective in effect (every rank does the same): the campaign's model and each energy stage's
 * own (one object per distinct spec) into x->model, x->own and x->stage_model. */
ms_err ms__fn_stage_models(run_ctx *x);
/* Every model of the campaign (the campaign's first, then the stages' own) into @p out
 * (MS_MAX_STAGES + 1 entries); returns their number. */
int ms__fn_models(const run_ctx *x, ms_model *out);
void ms__fn_models_free(run_ctx *x);
/* MS_ERR_INPUT, positioned at the model's spec, when a stage's model does not cover a species
 * the search space names: one message with the species, the models and the stages. */
ms_err ms__fn_check_coverage(run_ctx *x);
/* MS_ERR_INPUT, positioned at the node that asks for it, when the search space has plain
 * elements and a stage needs oxidation states: a model that takes its charges from them, a
 * prefilter rule that needs charges or ionic radii, the hull stage (species_kinds.c). */
ms_err ms__fn_check_species_kinds(run_ctx *x);

/* Shortlist stage (shortlist_stage.c): read the campaign's shortlist section (after the stage
 * options), choose the picks among the hull survivors (collective), write /shortlist. */
ms_err ms__sl_setup(run_ctx *x);
ms_err ms__sl_stage(run_ctx *x, const relax_out *rout, int64_t nrout, const bytes *structs);
ms_err ms__sl_write(run_ctx *x, ms_h5 f);

ms_err ms__sur_read_options(run_ctx *x, ms_stage *st, const char *path);
/* Collective: the learning rounds and the filter; marks x->sv[k].relaxed, pred and sigma. */
ms_err ms__sur_phase(run_ctx *x, int *stopped);
/* Collective: with ground_truth, the filter's precision, recall, F1 and DAF. */
ms_err ms__sur_scores(run_ctx *x, const relax_out *rout, int64_t nrout);
/* Rank 0: the stage's figures on stderr. */
void ms__sur_print(const run_ctx *x);
/* Collective: /surrogate (the model and the stage's figures). */
ms_err ms__sur_write(run_ctx *x, ms_h5 f);

#endif
