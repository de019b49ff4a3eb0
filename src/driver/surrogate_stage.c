/* The surrogate stage of the funnel (docs/surrogate.md): descriptors of every survivor of the
 * single point, active-learning rounds (choose a batch, relax it, retrain), then the filter,
 * which relaxes in batches the survivors whose optimistic prediction passes the keep rules and
 * re-checks the rest after each batch; with ground_truth, the skipped ones are relaxed too and
 * the filter is scored against the hull stage. Every choice depends only on relaxations
 * committed in earlier rounds or batches, so outputs are the same for any rank count and a
 * resumed run makes the same choices. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hull_stage.h"
#include "stage_spec.h"
#include "matscreen/descriptors.h"
#include "matscreen/log.h"
#include "matscreen/metrics.h"
#include "matscreen/output_schema.h"
#include "matscreen/stage.h"
#include "matscreen/yaml.h"

/* The surrogate stage (docs/surrogate.md): active-learning rounds, then a filter. */
typedef struct {
  int item;               /* its funnel item */
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



static const char *const target_names[] = {"relaxation_energy", "relaxed_energy", NULL};
static const char *const noise_names[] = {"none", "constant", "local", NULL};

static const ms_opt_spec surrogate_model_keys[] = {
    {.key = "members", .type = MS_OPT_INTEGER, .lo = 2, .hi = 256, .def = 16, .default_text = "16",
     .help = "ensemble members", .example = "8"},
    {.key = "features", .type = MS_OPT_INTEGER, .lo = 8, .hi = 4096, .def = 256, .default_text = "256",
     .help = "random features per member", .example = "64"},
    {.key = "lambda", .type = MS_OPT_NUMBER, .lo = 0, .hi = 1e6, .lo_open = 1, .hi_open = 1, .def = 1e-3,
     .default_text = "1e-3", .help = "ridge regularisation", .example = "0.01"},
    {.key = "length_scale", .type = MS_OPT_NUMBER, .lo = 0, .hi = NAN, .default_text = "0",
     .note = " (0: median heuristic)", .help = "kernel length scale (0: median heuristic)", .example = "0"},
    {.key = "target", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = target_names, .default_text = "relaxation_energy",
     .help = "learn e_relaxed - e_single, or e_relaxed itself", .example = "relaxed_energy"},
    {.key = "noise", .type = MS_OPT_CHOICE, UNBOUNDED, .choices = noise_names, .def = 2, .default_text = "local",
     .help = "noise term: varying with the descriptors, one variance, or none", .example = "constant"},
    {0},
};

/* funnel[k] = {stage: surrogate, rounds, batch_per_round, kappa, ground_truth, load, model: {...},
 * keep: {max_energy_above_best_eV_per_atom: X}} */
static ms_err sur_create(ms_run *x, const ms_stage *st, const char *path, void **state) {
  sur_state *u = calloc(1, sizeof *u);
  MS_CHECK(u, MS_ERR_MEM, "out of memory");
  u->item = (int)(st - x->camp->stage);
  *state = u;
  u->rounds = 3;
  u->batch = 100;
  u->kappa = 2.0;
  u->margin = 0.1;
  ms_surrogate_options_default(&u->mo);
  u->mo.seed = x->camp->seed;
  ms_ynode *n = st->node, *v;
  char p2[128];
  /* The scalar options from the stage's spec (the record below); load and model by hand. */
  const ms_opt_spec *spec = st->info->options;
  ms_opt_value val[16];
  MS_CALL(ms_opts_read(n, path, spec, val));
  const ms_opt_value *o;
  if ((o = ms_opts_get(spec, val, "rounds"))->set) u->rounds = (int)o->i;
  if ((o = ms_opts_get(spec, val, "batch_per_round"))->set) u->batch = o->i;
  if ((o = ms_opts_get(spec, val, "kappa"))->set) u->kappa = o->num;
  if ((o = ms_opts_get(spec, val, "ground_truth"))->set) u->ground_truth = o->b;
  if ((v = ms_ynode_get(n, "load"))) {
    const char *f;
    snprintf(p2, sizeof p2, "%s.load", path);
    MS_CALL(ms_ynode_string(v, p2, &f));
    u->load = ms_campaign_path(x->camp, f);
    MS_CHECK(u->load, MS_ERR_MEM, "out of memory");
    ms_surrogate m = NULL;
    if (ms_surrogate_read(u->load, MS_OUT_GROUP(SUR_ATTR_FORMAT), &m)) {
      char msg[900];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      return ms_ynode_error(v, p2, "%s", msg);
    }
    u->model = m;
  }
  if ((v = ms_ynode_get(n, "model"))) {
    snprintf(p2, sizeof p2, "%s.model", path);
    MS_CALL(ms_ynode_expect(v, MS_YMAP, p2));
    /* from the declared spec (the record below); the library's defaults stand for absent keys
     * (the spec's defaults are the same, test_stages checks) */
    ms_opt_value mv[6];
    MS_CALL(ms_opts_read(v, p2, surrogate_model_keys, mv));
    const ms_opt_value *o2;
    if ((o2 = ms_opts_get(surrogate_model_keys, mv, "members"))->set) u->mo.members = (int)o2->i;
    if ((o2 = ms_opts_get(surrogate_model_keys, mv, "features"))->set) u->mo.features = (int)o2->i;
    if ((o2 = ms_opts_get(surrogate_model_keys, mv, "lambda"))->set) u->mo.lambda = o2->num;
    if ((o2 = ms_opts_get(surrogate_model_keys, mv, "length_scale"))->set) u->mo.length_scale = o2->num;
    /* target: relaxation_energy (learn e_relaxed - e_single) or relaxed_energy */
    if ((o2 = ms_opts_get(surrogate_model_keys, mv, "target"))->set) u->mo.target_delta = o2->choice == 0;
    /* noise: none, constant, local (the order of noise_names is the library's numbering) */
    if ((o2 = ms_opts_get(surrogate_model_keys, mv, "noise"))->set) u->mo.noise = o2->choice;
    const char *mkeys[8];
    ms_opts_keys(surrogate_model_keys, mkeys, 8);
    MS_CALL(ms_ynode_check_unused(v, p2, mkeys));
  }
  const ms_keep_rule *k = &st->keep;
  u->hull_margin = NAN;
  if (st->has_keep) {
    if (k->top_k || k->top_fraction > 0 || !isnan(k->max_energy_per_atom))
      return ms_ynode_error(ms_ynode_get(n, "keep"), path,
                            "the surrogate stage keeps by max_energy_above_best_eV_per_atom (the predicted relaxed "
                            "energy against the best relaxed one of the same composition) and/or "
                            "max_e_above_hull_eV_per_atom (against the hull of the reference phases and what is "
                            "relaxed so far)");
    u->margin = k->max_above_best;
    u->hull_margin = k->max_e_above_hull;
    if (!isnan(u->hull_margin) && !x->st[MS_STAGE_HULL].present) {
      int has_hull = 0;
      for (int q = 0; q < x->camp->nstages; ++q) has_hull |= x->camp->stage[q].kind == MS_STAGE_HULL;
      if (!has_hull)
        return ms_ynode_error(ms_ynode_get(n, "keep"), path,
                              "max_e_above_hull_eV_per_atom compares with the hull: the funnel needs a hull stage "
                              "(its references are used)");
    }
  }
  int has_relax = 0;
  for (int q = 0; q < x->camp->nstages; ++q) has_relax |= x->camp->stage[q].kind == MS_STAGE_RELAX;
  if (!has_relax)
    return ms_ynode_error(ms_ynode_get(n, "stage"), path, "the surrogate stage chooses what to relax: put a relax stage after it");
  return MS_SUCCESS;
}


static ms_err relax_subset(run_ctx *x, const int64_t *idx, int64_t n, const char *label, int *stopped) {
  int64_t *todo = malloc(((size_t)n + 1) * sizeof *todo), ntodo = 0;
  MS_CHECK(todo, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < n; ++k)
    if (!ms__spool_find(x->spool, MS_SPOOL_B, idx[k])) todo[ntodo++] = idx[k];
  ms_err err = ms__fn_relax_blocks(x, label, todo, ntodo, 1, n, n - ntodo, stopped);
  free(todo);
  return err;
}

/* e_rel[k] (every rank): relaxed energy per atom of survivor k, NaN when it has no committed
 * relaxation or did not converge. Each rank reads its share of the frames not read yet (on
 * entry e_rel holds the previous call's result, or NaN everywhere). */
static ms_err gather_relaxed(run_ctx *x, double *e_rel) {
  int64_t b0 = ms__comm_own_lo(x->nsv, x->size, x->rank), b1 = ms__comm_own_lo(x->nsv, x->size, x->rank + 1);
  int64_t nl = b1 - b0;
  double *loc = malloc(((size_t)nl + 1) * sizeof *loc);
  ms_err e0 = ms_err_agree(x->comm, loc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (e0) {
    free(loc);
    return e0;
  }
  ms_err err = MS_SUCCESS;
  for (int64_t b = b0; b < b1 && !err; ++b) {
    loc[b - b0] = e_rel[b];
    if (isfinite(e_rel[b])) continue; /* read in an earlier round: frames never change */
    const ms_spool_entry *en = ms__spool_find(x->spool, MS_SPOOL_B, b);
    if (!en) continue;
    char *buf = NULL;
    err = ms__spool_read(x->spool, en, (void **)&buf);
    if (!err && en->len >= sizeof(relax_out)) {
      relax_out o;
      memcpy(&o, buf, sizeof o);
      loc[b - b0] = o.e_relaxed;
    }
    free(buf);
  }
  err = ms_err_agree(x->comm, err);
  /* rank r owns the survivors [own_lo(r), own_lo(r + 1)), so the concatenation is in order */
  char *allb = NULL;
  size_t tot = 0;
  if (!err) err = ms__comm_allgather_bytes(x->comm, loc, (size_t)nl * sizeof *loc, &allb, &tot);
  if (!err) memcpy(e_rel, allb, tot);
  free(allb);
  free(loc);
  return err;
}

/* Descriptors (docs/surrogate.md) and reduced formulas of every survivor, on every rank: rank r
 * computes rows r, r + P, ... (a row depends on its candidate only) and they are all-gathered. */
static ms_err survivor_descriptors(run_ctx *x, int d, double *X, char (*fo)[32], ms_composition *comp) {
  int64_t n = x->nsv, nl = 0;
  size_t rowb = sizeof(int64_t) + (size_t)d * sizeof(double) + 32 + sizeof(ms_composition);
  char *loc = malloc(((size_t)(n / x->size) + 2) * rowb);
  MS_CHECK(loc, MS_ERR_MEM, "out of memory");
  ms_cell cell;
  ms_cell_init(&cell);
  ms_err err = MS_SUCCESS;
  double (*forces)[3] = NULL;
  int nforce = 0;
  for (int64_t k = x->rank; k < n && !err; k += x->size) {
    ms_candidate_info info;
    err = ms_search_build(x->search, x->sv[k].id, &cell, &info);
    if (err) break;
    ms__fn_scale_volume(&cell, x->sv[k].volume_scale);
    ms_model_result res;
    memset(&res, 0, sizeof res);
    if (nforce < cell.natoms) {
      free(forces);
      forces = malloc((size_t)cell.natoms * sizeof *forces);
      nforce = forces ? cell.natoms : 0;
      if (!forces) {
        err = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
        break;
      }
    }
    res.forces = forces;
    ms_descriptor_input in = {NAN, NAN, NAN, info.prototype, 0, NAN, {0}};
    err = ms_model_compute(ms__fn_kind_model(x, MS_STAGE_SURROGATE), &cell, MS_MODEL_FORCES | MS_MODEL_STRESS, &res);
    if (err == MS_ERR_INPUT) {
      ms_err_clear();
      err = MS_SUCCESS;
    } else if (!err && res.status == MS_STATUS_OK) {
      in.e_single = res.energy / cell.natoms;
      in.e_coulomb = res.e_coulomb / cell.natoms;
      in.e_short = res.e_short / cell.natoms;
      double f2 = 0;
      for (int i = 0; i < cell.natoms; ++i)
        f2 += forces[i][0] * forces[i][0] + forces[i][1] * forces[i][1] + forces[i][2] * forces[i][2];
      in.has_forces = 1;
      in.force_sq = f2 / cell.natoms;
      memcpy(in.stress_GPa, res.stress_GPa, sizeof in.stress_GPa);
    }
    char *row = loc + (size_t)nl * rowb;
    memcpy(row, &k, sizeof k);
    if (!err) err = ms_descriptors(&cell, &in, (double *)(row + sizeof(int64_t)));
    char *f = row + sizeof(int64_t) + (size_t)d * sizeof(double);
    memset(f, 0, 32);
    if (ms_cell_formula(&cell, 1, f, 32)) ms_err_clear();
    ms_composition cc;
    memset(&cc, 0, sizeof cc);
    if (!err) err = ms_composition_from_cell(&cell, &cc);
    memcpy(f + 32, &cc, sizeof cc);
    nl++;
  }
  ms_cell_free(&cell);
  free(forces);
  err = ms_err_agree(x->comm, err);
  char *all = NULL;
  size_t tot = 0;
  if (!err) err = ms__comm_allgather_bytes(x->comm, loc, (size_t)nl * rowb, &all, &tot);
  for (size_t q = 0; !err && q < tot / rowb; ++q) {
    const char *row = all + q * rowb;
    int64_t k;
    memcpy(&k, row, sizeof k);
    memcpy(X + (size_t)k * (size_t)d, row + sizeof(int64_t), (size_t)d * sizeof(double));
    memcpy(fo[k], row + sizeof(int64_t) + (size_t)d * sizeof(double), 32);
    if (comp) memcpy(&comp[k], row + sizeof(int64_t) + (size_t)d * sizeof(double) + 32, sizeof comp[k]);
  }
  free(loc);
  free(all);
  return err;
}

typedef struct {
  char f[32];
  int64_t k;
} formula_row;

static int cmp_formula_row(const void *a, const void *b) {
  const formula_row *x = a, *y = b;
  int c = strcmp(x->f, y->f);
  return c ? c : (x->k > y->k) - (x->k < y->k);
}

/* Number the distinct reduced formulas: grp[k] in 0..*ngrp-1, the same for equal formulas. */
static ms_err formula_groups(const char (*fo)[32], int64_t n, int64_t *grp, int64_t *ngrp) {
  formula_row *r = malloc(((size_t)n + 1) * sizeof *r);
  MS_CHECK(r, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < n; ++k) {
    memcpy(r[k].f, fo[k], sizeof r[k].f);
    r[k].k = k;
  }
  qsort(r, (size_t)n, sizeof *r, cmp_formula_row);
  int64_t g = -1;
  for (int64_t j = 0; j < n; ++j) {
    if (j == 0 || strcmp(r[j].f, r[j - 1].f) != 0) ++g;
    grp[r[j].k] = g;
  }
  *ngrp = g + 1;
  free(r);
  return MS_SUCCESS;
}

/* Lowest relaxed energy of each formula group among the rows with @p use[k] (NaN: none), in
 * one pass over the survivors. */
static void best_per_formula(const int64_t *grp, int64_t ngrp, const double *e_rel, const signed char *use,
                             int64_t n, double *best) {
  for (int64_t g = 0; g < ngrp; ++g) best[g] = NAN;
  for (int64_t k = 0; k < n; ++k)
    if (use[k] && isfinite(e_rel[k]) && !(e_rel[k] >= best[grp[k]])) best[grp[k]] = e_rel[k];
}

typedef struct {
  double score;
  int64_t k;
} scored;

/* How far survivor k's optimistic prediction @p opt lies beyond the stage's keep rules: the
 * filter relaxes it when this is <= 0. @p best: lowest relaxed energy of its composition (NaN:
 * none, and then the rule on the best cannot reject it); @p hull: the hull's energy at its
 * composition from the references and what is relaxed so far. A candidate with no prediction
 * is always relaxed. */
/* The stage's keep rule on an optimistic prediction (keep.c decides, as for every stage). */
static double filter_excess(const sur_state *u, double opt, double best, double hull) {
  ms_keep_rule rule;
  memset(&rule, 0, sizeof rule);
  rule.max_energy_per_atom = NAN;
  rule.max_above_best = u->margin;
  rule.max_e_above_hull = u->hull_margin;
  return ms__keep_excess(&rule, opt, best, hull);
}

/* With keep.max_e_above_hull: the hull's energy at every survivor's composition, from the
 * reference phases and the survivors relaxed so far (use[k] and a finite e_rel[k]); NaN
 * everywhere otherwise. Same on every rank (same inputs). */
static ms_err hull_under_survivors(run_ctx *x, const ms_composition *comp, const double *e_rel,
                                   const signed char *use, double *scratch, double *hull) {
  const sur_state *u = ms__fn_state(x, MS_STAGE_SURROGATE);
  int64_t n = x->nsv;
  if (isnan(u->hull_margin)) {
    for (int64_t k = 0; k < n; ++k) hull[k] = NAN;
    return MS_SUCCESS;
  }
  for (int64_t k = 0; k < n; ++k) scratch[k] = use[k] ? e_rel[k] : NAN;
  return ms__hull_energy_at(u->refs, u->nrefs, u->nends, n, comp, scratch, n, comp, hull, ms__fn_hull_over_elements(x));
}

static int cmp_scored(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->score != y->score) return x->score < y->score ? -1 : 1;
  return (x->k > y->k) - (x->k < y->k);
}

/* The surrogate stage: rounds of (choose a batch, relax it, retrain), then relax only the
 * survivors whose optimistic prediction (mean - kappa sigma) is within the margin of the best
 * relaxed energy of their composition, or whose composition has none relaxed yet. Every choice
 * depends only on committed results of earlier rounds, so a resumed run makes the same ones. */
static ms_err sur_phase(run_ctx *x, sur_state *u, int *stopped) {
  ms_funnel_stage_stats *ss = ms__fn_stats(x, u->item);
  int64_t n = x->nsv;
  int d = ms_descriptor_count();
  x->bb = 1;
  x->nbb = n;
  double t0 = MPI_Wtime(), busy = 0;
  double *X = malloc(((size_t)n * (size_t)d + 1) * sizeof *X), *e_rel = malloc(((size_t)n + 1) * sizeof *e_rel);
  double *Xt = malloc(((size_t)n * (size_t)d + 1) * sizeof *Xt), *yt = malloc(((size_t)n + 1) * sizeof *yt);
  char (*fo)[32] = calloc((size_t)n + 1, sizeof *fo);
  signed char *round_of = malloc((size_t)n + 1); /* round that chose it, -1 none */
  scored *sc = malloc(((size_t)n + 1) * sizeof *sc);
  int64_t *idx = malloc(((size_t)n + 1) * sizeof *idx);
  signed char *use = malloc((size_t)n + 1);
  ms_composition *comp = calloc((size_t)n + 1, sizeof *comp);
  double *hull = malloc(((size_t)n + 1) * sizeof *hull), *scratch = malloc(((size_t)n + 1) * sizeof *scratch);
  int64_t *grp = malloc(((size_t)n + 1) * sizeof *grp), ngrp = 0;
  double *gbest = malloc(((size_t)n + 1) * sizeof *gbest);
  ms_err e = X && e_rel && Xt && yt && fo && round_of && sc && idx && use && comp && hull && scratch && grp && gbest
                 ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  if (!e) e = survivor_descriptors(x, d, X, fo, comp);
  if (!e) e = ms_err_agree(x->comm, formula_groups((const char (*)[32])fo, n, grp, &ngrp));
  if (!e && !isnan(u->hull_margin)) {
    /* the phases the hull stage will compare with: end members of every survivor's cations, and
     * the user's references */
    e = ms__fn_hull_references(x, comp, n, &u->refs, &u->nrefs, &u->nends);
  }
  for (int64_t k = 0; k < n && !e; ++k) {
    e_rel[k] = NAN;
    round_of[k] = -1;
    x->sv[k].pred = x->sv[k].sigma = NAN;
    x->sv[k].relaxed = 0;
  }
  busy += MPI_Wtime() - t0;
  int rounds = u->model ? 0 : u->rounds;
  for (int r = 0; r < rounds && !e && !*stopped; ++r) {
    double t1 = MPI_Wtime();
    int64_t m = 0;
    if (r == 0 || !u->model) {
      /* no model yet: spread the batch evenly over the survivors (in id order) */
      for (int64_t j = 0; j < u->batch && j < n; ++j) {
        int64_t k = (int64_t)(((__int128)(2 * j + 1) * n) / (2 * (u->batch < n ? u->batch : n)));
        if (round_of[k] < 0) {
          round_of[k] = (signed char)r;
          idx[m++] = k;
        }
      }
    } else {
      double *mean = Xt, *sig = yt; /* scratch */
      e = ms_surrogate_predict(u->model, n, X, mean, sig);
      for (int64_t k = 0; k < n; ++k) use[k] = round_of[k] >= 0;
      if (!e) e = hull_under_survivors(x, comp, e_rel, use, scratch, hull);
      best_per_formula(grp, ngrp, e_rel, use, n, gbest);
      int64_t ns = 0;
      for (int64_t k = 0; k < n && !e; ++k) {
        if (round_of[k] >= 0) continue;
        double best = isnan(u->margin) ? NAN : gbest[grp[k]];
        double opt = mean[k] - u->kappa * (isfinite(sig[k]) ? sig[k] : 0);
        /* most promising first: compositions with nothing relaxed (under the rule on the best),
         * then by how far the optimistic prediction is inside the keep rules */
        sc[ns++] = (scored){filter_excess(u, opt, best, hull[k]), k};
      }
      if (ns > 0) qsort(sc, (size_t)ns, sizeof *sc, cmp_scored);
      for (int64_t j = 0; j < ns && m < u->batch; ++j) {
        round_of[sc[j].k] = (signed char)r;
        idx[m++] = sc[j].k;
      }
    }
    busy += MPI_Wtime() - t1;
    if (m > 1) qsort(idx, (size_t)m, sizeof *idx, ms__fn_cmp_i64);
    char label[32];
    snprintf(label, sizeof label, "surrogate round %d", r + 1);
    if (!e) e = relax_subset(x, idx, m, label, stopped);
    if (!e && !*stopped) e = gather_relaxed(x, e_rel);
    double t2 = MPI_Wtime();
    int64_t nt = 0;
    for (int64_t k = 0; k < n && !e; ++k)
      if (round_of[k] >= 0 && round_of[k] <= r && isfinite(e_rel[k])) {
        int ok = 1;
        for (int q = 0; q < d; ++q) ok &= isfinite(X[(size_t)k * d + q]) != 0;
        if (!ok) continue;
        memcpy(Xt + (size_t)nt * d, X + (size_t)k * d, (size_t)d * sizeof(double));
        yt[nt++] = e_rel[k];
      }
    if (!e && !*stopped && nt >= 2) {
      ms_surrogate_free(&u->model);
      e = ms_surrogate_train(x->comm, &u->mo, nt, d, Xt, yt, &u->model);
    }
    busy += MPI_Wtime() - t2;
  }
  /* The filter, in batches: relax the survivors whose optimistic prediction passes the keep
   * rules, most promising first, at most batch_per_round at a time; after each batch the best
   * energies and the hull are lower and the model is retrained (a loaded model is kept), so
   * the rest are checked again. It ends when no undecided survivor passes. */
  int64_t m = 0;
  double *mean = malloc(((size_t)n + 1) * sizeof *mean), *sig = malloc(((size_t)n + 1) * sizeof *sig);
  if (!e && !(mean && sig)) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  for (int64_t k = 0; k < n && !e; ++k) x->sv[k].relaxed = round_of[k] >= 0 ? 1 : 0;
  for (int batch = 1; !e && !*stopped; ++batch) {
    double t3 = MPI_Wtime();
    if (u->model) e = ms_surrogate_predict(u->model, n, X, mean, sig);
    for (int64_t k = 0; k < n; ++k) use[k] = x->sv[k].relaxed != 0;
    if (!e) e = hull_under_survivors(x, comp, e_rel, use, scratch, hull);
    best_per_formula(grp, ngrp, e_rel, use, n, gbest);
    int64_t ns = 0;
    for (int64_t k = 0; k < n && !e; ++k) {
      if (x->sv[k].relaxed > 1) continue; /* keeps the prediction it was chosen with */
      x->sv[k].pred = u->model ? mean[k] : NAN;
      x->sv[k].sigma = u->model ? sig[k] : NAN;
      if (x->sv[k].relaxed) continue;
      double best = isnan(u->margin) ? NAN : gbest[grp[k]];
      double opt = mean[k] - u->kappa * (isfinite(sig[k]) ? sig[k] : 0);
      double excess = u->model ? filter_excess(u, opt, best, hull[k]) : -HUGE_VAL;
      if (excess <= 0) sc[ns++] = (scored){excess, k};
    }
    if (ns == 0) {
      busy += MPI_Wtime() - t3;
      break;
    }
    qsort(sc, (size_t)ns, sizeof *sc, cmp_scored);
    m = 0;
    for (int64_t j = 0; j < ns && m < u->batch; ++j) {
      x->sv[sc[j].k].relaxed = 2;
      idx[m++] = sc[j].k;
    }
    qsort(idx, (size_t)m, sizeof *idx, ms__fn_cmp_i64);
    busy += MPI_Wtime() - t3;
    char label[48];
    snprintf(label, sizeof label, "relax (surrogate filter, batch %d)", batch);
    if (!e) e = relax_subset(x, idx, m, label, stopped);
    if (!e && !*stopped) e = gather_relaxed(x, e_rel);
    if (!e && !*stopped && !u->load) {
      double t4 = MPI_Wtime();
      int64_t nt = 0;
      for (int64_t k = 0; k < n; ++k)
        if (x->sv[k].relaxed && isfinite(e_rel[k])) {
          int ok = 1;
          for (int q = 0; q < d; ++q) ok &= isfinite(X[(size_t)k * d + q]) != 0;
          if (!ok) continue;
          memcpy(Xt + (size_t)nt * d, X + (size_t)k * d, (size_t)d * sizeof(double));
          yt[nt++] = e_rel[k];
        }
      if (nt >= 2) {
        ms_surrogate_free(&u->model);
        e = ms_surrogate_train(x->comm, &u->mo, nt, d, Xt, yt, &u->model);
      }
      busy += MPI_Wtime() - t4;
    }
  }
  /* what no batch took is skipped (with ground_truth: relaxed anyway, to score the filter) */
  m = 0;
  for (int64_t k = 0; k < n && !e && !*stopped; ++k)
    if (!x->sv[k].relaxed && u->ground_truth) {
      x->sv[k].relaxed = 3;
      idx[m++] = k;
    }
  if (!e && !*stopped && m) e = relax_subset(x, idx, m, "relax (ground truth)", stopped);
  free(mean);
  free(sig);
  if (!e && !*stopped) {
    e = gather_relaxed(x, e_rel);
    /* held-out accuracy: the filter's predictions for what it then relaxed */
    int64_t q = 0;
    for (int64_t k = 0; k < n && !e; ++k)
      if (x->sv[k].relaxed >= 2) {
        Xt[q] = x->sv[k].pred;
        yt[q] = x->sv[k].sigma;
        sc[q].score = e_rel[k];
        q++;
      }
    double *truth = malloc(((size_t)q + 1) * sizeof *truth);
    if (truth) {
      for (int64_t k = 0; k < q; ++k) truth[k] = sc[k].score;
      ms_regression_scores rs;
      ms_calibration_scores cs;
      u->mae = u->rmse = u->within1 = u->within2 = NAN;
      if (!ms_metrics_regression(q, truth, Xt, &rs)) {
        u->mae = rs.mae;
        u->rmse = rs.rmse;
      }
      if (!ms_metrics_calibration(q, truth, Xt, yt, &cs)) {
        u->within1 = cs.within_1sigma;
        u->within2 = cs.within_2sigma;
      }
      ms_err_clear();
      free(truth);
    }
    u->relaxed_rounds = u->relaxed_filter = u->skipped = 0;
    for (int64_t k = 0; k < n; ++k) {
      u->relaxed_rounds += x->sv[k].relaxed == 1;
      u->relaxed_filter += x->sv[k].relaxed == 2;
      u->skipped += x->sv[k].relaxed == 0 || x->sv[k].relaxed == 3;
    }
    ss->in = n;
    ss->out = u->relaxed_rounds + u->relaxed_filter;
    ss->by_status[MS_STATUS_REJECTED] = u->skipped;
    ss->cpu_s = busy;
    ss->wall_s = MPI_Wtime() - t0;
  }
  free(X);
  free(e_rel);
  free(Xt);
  free(yt);
  free(fo);
  free(grp);
  free(gbest);
  free(round_of);
  free(sc);
  free(idx);
  free(use);
  free(comp);
  free(hull);
  free(scratch);
  return e;
}

/* With ground_truth: how well the filter's decisions find the candidates that end up within the
 * hull stage's threshold (Matbench Discovery's precision, recall, F1, DAF). Collective. */
static ms_err sur_scores(run_ctx *x, sur_state *u, const relax_out *rout, int64_t nrout) {
  u->precision = u->recall = u->f1 = u->daf = u->prevalence = NAN;
  u->n_scored = 0;
  if (!u->ground_truth || !x->st[MS_STAGE_HULL].present) return MS_SUCCESS;
  const ms_stage *hs = &x->camp->stage[x->st[MS_STAGE_HULL].index];
  u->threshold = isnan(hs->keep.max_e_above_hull) ? 0.0 : hs->keep.max_e_above_hull;
  int64_t n = x->nsv;
  double *eh = malloc(((size_t)n + 1) * sizeof *eh), *all = malloc(((size_t)n + 1) * sizeof *all);
  double *pred = malloc(((size_t)n + 1) * sizeof *pred);
  ms_err e = eh && all && pred ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  if (!e) {
    /* a candidate that did not reach the hull (not converged, removed by the relax keep rule or
     * as a duplicate) is not stable: +1e9 */
    for (int64_t k = 0; k < n; ++k) eh[k] = 1e9;
    for (int64_t k = 0; k < nrout; ++k) {
      int64_t lo = ms__fn_lower_bound_sv(x->sv, n, rout[k].id);
      if (lo < n && x->sv[lo].id == rout[k].id && isfinite(rout[k].e_above_hull) && rout[k].duplicate_of < 0)
        eh[lo] = rout[k].e_above_hull;
    }
    MPI_Allreduce(eh, all, (int)n, MPI_DOUBLE, MPI_MIN, x->comm);
    for (int64_t k = 0; k < n; ++k) pred[k] = x->sv[k].relaxed == 3 ? 1e9 : -1e9;
    ms_stability_scores st;
    if (!ms_metrics_stability(n, all, pred, u->threshold + 1e-12, &st)) {
      u->precision = st.precision;
      u->recall = st.recall;
      u->f1 = st.f1;
      u->daf = st.daf;
      u->prevalence = st.prevalence;
      u->n_scored = st.n;
    }
    ms_err_clear();
  }
  free(eh);
  free(all);
  free(pred);
  return e;
}

static void sur_print(const run_ctx *x, const sur_state *u) {
  if (!ms_log_is_root() || ms_log_get_level() < MS_LOG_INFO) return;
  int64_t relaxed = u->relaxed_rounds + u->relaxed_filter;
  fprintf(stderr,
          "surrogate: %lld survivors, %lld relaxed to learn (%d round%s), %lld by the filter, %lld skipped "
          "(%.2fx fewer relaxations); held-out MAE %.4f eV/atom, RMSE %.4f, within 1/2 sigma %.0f%%/%.0f%%\n",
          (long long)x->nsv, (long long)u->relaxed_rounds, u->rounds, u->rounds == 1 ? "" : "s",
          (long long)u->relaxed_filter, (long long)u->skipped, relaxed > 0 ? (double)x->nsv / (double)relaxed : NAN,
          u->mae, u->rmse, 100 * u->within1, 100 * u->within2);
  if (u->ground_truth)
    fprintf(stderr,
            "surrogate filter vs ground truth (e_above_hull <= %g eV/atom, %lld candidates): precision %.3f, "
            "recall %.3f, F1 %.3f, prevalence %.3f, DAF %.2f\n",
            u->threshold, (long long)u->n_scored, u->precision, u->recall, u->f1, u->prevalence, u->daf);
}

static ms_err sur_write(void *state, ms_run *x, ms_h5 f) {
  sur_state *u = state;
  ms_err e = MS_SUCCESS;
  if (u->model) e = ms_surrogate_write(u->model, x->comm, f, MS_OUT_GROUP(SUR_ATTR_FORMAT));
  struct {
    ms_output_id id;
    double v;
  } attrs[] = {{MS_OUT_SURROGATE_ATTR_KAPPA, u->kappa},
               {MS_OUT_SURROGATE_ATTR_MARGIN, u->margin},
               {MS_OUT_SURROGATE_ATTR_HULL_MARGIN, u->hull_margin},
               {MS_OUT_SURROGATE_ATTR_SURVIVORS, (double)x->nsv},
               {MS_OUT_SURROGATE_ATTR_RELAXED_IN_ROUNDS, (double)u->relaxed_rounds},
               {MS_OUT_SURROGATE_ATTR_RELAXED_BY_FILTER, (double)u->relaxed_filter},
               {MS_OUT_SURROGATE_ATTR_SKIPPED, (double)u->skipped},
               {MS_OUT_SURROGATE_ATTR_RELAXATION_REDUCTION_FACTOR,
                (u->relaxed_rounds + u->relaxed_filter) > 0 ? (double)x->nsv / (double)(u->relaxed_rounds + u->relaxed_filter) : NAN},
               {MS_OUT_SURROGATE_ATTR_MAE, u->mae},
               {MS_OUT_SURROGATE_ATTR_RMSE, u->rmse},
               {MS_OUT_SURROGATE_ATTR_WITHIN_1SIGMA, u->within1},
               {MS_OUT_SURROGATE_ATTR_WITHIN_2SIGMA, u->within2},
               {MS_OUT_SURROGATE_ATTR_PRECISION, u->precision},
               {MS_OUT_SURROGATE_ATTR_RECALL, u->recall},
               {MS_OUT_SURROGATE_ATTR_F1, u->f1},
               {MS_OUT_SURROGATE_ATTR_PREVALENCE, u->prevalence},
               {MS_OUT_SURROGATE_ATTR_DAF, u->daf},
               {MS_OUT_SURROGATE_ATTR_STABILITY_THRESHOLD, u->threshold}};
  for (size_t k = 0; k < sizeof attrs / sizeof attrs[0] && !e; ++k)
    e = ms_h5_attr_double(f, ms_output_group(attrs[k].id), ms_output_name(attrs[k].id), attrs[k].v);
  if (!e)
    e = ms_h5_attr_int(f, MS_OUT_GROUP(SURROGATE_ATTR_ROUNDS), MS_OUT_NAME(SURROGATE_ATTR_ROUNDS),
                       u->model && !u->load ? u->rounds : 0);
  if (!e) e = ms_h5_attr_int(f, MS_OUT_GROUP(SURROGATE_ATTR_BATCH_PER_ROUND), MS_OUT_NAME(SURROGATE_ATTR_BATCH_PER_ROUND), u->batch);
  if (!e) e = ms_h5_attr_int(f, MS_OUT_GROUP(SURROGATE_ATTR_GROUND_TRUTH), MS_OUT_NAME(SURROGATE_ATTR_GROUND_TRUTH), u->ground_truth);
  if (!e)
    e = ms_h5_attr_str(f, MS_OUT_GROUP(SURROGATE_ATTR_LOADED_FROM), MS_OUT_NAME(SURROGATE_ATTR_LOADED_FROM), u->load ? u->load : "");
  if (!e)
    e = ms_h5_attr_str(f, MS_OUT_GROUP(SURROGATE_ATTR_DESCRIPTION), MS_OUT_NAME(SURROGATE_ATTR_DESCRIPTION),
                       "surrogate stage (docs/surrogate.md): the model, what it relaxed and skipped, its "
                       "held-out accuracy and, with ground_truth, the filter's precision/recall/F1/DAF for "
                       "candidates within the hull stage's threshold");
  return e;
}


static void sur_destroy(void *state) {
  sur_state *u = state;
  if (!u) return;
  ms_surrogate_free(&u->model);
  free(u->load);
  free(u->refs);
  free(u);
}

/* The learning rounds and the filter do the relaxations: the relax stage only reads them back. */
static ms_err sur_run(void *state, ms_run *x, int *stopped) {
  MS_CALL(sur_phase(x, state, stopped));
  x->sv_relaxed = 1;
  return MS_SUCCESS;
}

static ms_err sur_finish(void *state, ms_run *x) {
  MS_CALL(sur_scores(x, state, x->rout, x->nrout));
  sur_print(x, state);
  return MS_SUCCESS;
}

/* A survivor's prediction and decision; one the filter skipped is rejected here. */
static void sur_row(void *state, const ms_run *x, ms_run_row *row) {
  (void)x;
  const sur_state *u = state;
  const survivor *sv = row->sv;
  ms_record *r = row->r;
  if (!sv) return;
  r->e_pred = sv->pred;
  r->e_pred_sigma = sv->sigma;
  r->surrogate = sv->relaxed;
  if (sv->relaxed == 0) { /* the filter skipped it */
    r->reject_stage = 1 + u->item;
    r->status = MS_STATUS_REJECTED;
    ms__fn_set_reason(r->reason, "skipped by the surrogate filter (predicted %.3f +- %.3f eV/atom)", sv->pred,
                      sv->sigma);
  }
}

static ms_model sur_model(void *state, const ms_run *x) { return x->item_model[((sur_state *)state)->item]; }

static const ms_stage_ops surrogate_ops = {
    .create = sur_create,
    .destroy = sur_destroy,
    .run = sur_run,
    .finish = sur_finish,
    .row = sur_row,
    .write = sur_write,
    .model = sur_model,
};

/* ---- the record ---------------------------------------------------------------------------- */

static const ms_opt_spec surrogate_options[] = {
    {.key = "rounds", .type = MS_OPT_INTEGER, .lo = 1, .hi = 100, .def = 3, .default_text = "3",
     .help = "active-learning rounds: relax a batch, retrain", .example = "2"},
    {.key = "batch_per_round", .type = MS_OPT_INTEGER, .lo = 2, .hi = NAN, .def = 100, .default_text = "100",
     .note = " (a model needs two relaxed candidates)",
     .help = "relaxations per round and per batch of the filter", .example = "10"},
    {.key = "kappa", .type = MS_OPT_NUMBER, .lo = 0, .hi = 100, .def = 2.0, .default_text = "2.0",
     .help = "optimism: the filter compares mean - kappa x sigma with the keep rule", .example = "1.5"},
    {.key = "ground_truth", .type = MS_OPT_BOOL, UNBOUNDED, .default_text = "false",
     .help = "relax everything anyway and score the filter (precision, recall, F1, DAF)", .example = "true"},
    {.key = "load", .type = MS_OPT_STRING, UNBOUNDED, .default_text = "none",
     .help = "use the model saved in an earlier run's output (/surrogate/model) instead of learning; "
             "relative to the campaign file"},
    {.key = "model", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "{members: 16, features: 256, ...}",
     .help = "the ensemble (docs/surrogate.md)", .example = "{members: 8, noise: constant}",
     .sub = surrogate_model_keys},
    {.key = "keep", .type = MS_OPT_KEEP, UNBOUNDED, .default_text = "{max_energy_above_best_eV_per_atom: 0.1}",
     .help = "max_energy_above_best_eV_per_atom and/or max_e_above_hull_eV_per_atom of the optimistic "
             "prediction",
     .example = "{max_energy_above_best_eV_per_atom: 0.2}", .sub = ms_keep_spec},
    POTENTIAL_ENTRY,
    {0},
};

static const char *const after_surrogate[] = {"prefilter", "single_point", NULL};

const ms_stage_info ms__stage_surrogate = {
    .name = "surrogate",
    .summary = "a learned model chooses which survivors are worth relaxing (active learning, then a filter)",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_SURROGATE,
    .after = after_surrogate,
    .needs = ms__stage_needs_relax,
    .input = "the survivor set, and relaxations it asks the relax stage for",
    .output = "predictions per survivor; the skipped survivors are rejected here; /surrogate",
    .options = surrogate_options,
    .ops = &surrogate_ops,
};

