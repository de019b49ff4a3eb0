/* Energy model = periodic electrostatics (ewald.c / pme.c) + short-range pair terms of a
 * potential set (pair.c, potential.c), evaluated in ONE neighbour pass per structure.
 *
 * Why one pass: for the small cells of a screening campaign most of the time goes into the
 * real-space sums, and the Coulomb real-space term and the Buckingham terms need the same pairs
 * (cutoffs of 10-12 Å). The fused block callback fills per-pair energies e[p] and radial
 * derivatives g[p] = (1/r) dE/dr from both kernels and accumulates energy, forces and the
 * strain derivative once (ms_ewald_block_accumulate).
 *
 * Per-structure failures are statuses (model.h): a degenerate cell is "bad_cell", atoms on top
 * of each other "overlap", a pair inside a catastrophe guard "collapsed", a non-finite result
 * "nan". The energy is then not meaningful and callers must not rank on it. */
#include "matscreen/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/neighbor.h"
#include "matscreen/pair.h"

struct ms_model_s {
  ms_potential *owned;        /* loaded by ms_model_create, freed with the model */
  const ms_potential *pot;
  ms_model_options opt;
  ms_ewald ew;
  ms_nlist nl;
  ms_pair_table table;
  double charge[MS_CELL_MAX_KINDS];
  double *q;                  /* per-site charges */
  int qcap;
  double e[MS_NBLOCK], g[MS_NBLOCK];
};

void ms_model_options_default(ms_model_options *o) {
  memset(o, 0, sizeof *o);
  ms_ewald_params_default(&o->ewald);
  o->ewald.accuracy = 0; /* take the potential's recommendation */
  o->coulomb = 1;
}

ms_err ms_model_create_with(const ms_potential *pot, const ms_model_options *opt, ms_model *out) {
  *out = NULL;
  MS_CHECK(pot != NULL, MS_ERR_ARG, "no potential given");
  ms_model m = NULL;
  MS_CALL(MS_CALLOC(1, &m));
  m->pot = pot;
  if (opt)
    m->opt = *opt;
  else
    ms_model_options_default(&m->opt);
  ms_ewald_params ep = m->opt.ewald;
  if (ep.accuracy <= 0) ep.accuracy = ms_potential_coulomb_accuracy(pot);
  if (ep.accuracy <= 0) ep.accuracy = 1e-8;
  /* The neighbour pass must reach the short-range cutoff anyway, and the real-space Coulomb
   * kernel evaluates every pair it is given: share that cutoff with Ewald, so alpha is set by
   * it and the reciprocal sum shrinks instead of erfc being evaluated where it is negligible. */
  if (ep.rcut <= 0 && ep.alpha <= 0 && m->opt.coulomb) ep.rcut = ms_potential_max_cutoff(pot);
  m->opt.ewald = ep;
  ms_nlist_init(&m->nl);
  ms_pair_table_init(&m->table);
  ms_err e = ms_ewald_create(&ep, &m->ew);
  if (e) {
    ms_model_destroy(&m);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = m;
  return MS_SUCCESS;
}

ms_err ms_model_create(const char *potential, const ms_model_options *opt, ms_model *out) {
  *out = NULL;
  ms_potential *p = NULL;
  MS_CALL(ms_potential_load(potential, &p));
  ms_err e = ms_model_create_with(p, opt, out);
  if (e) {
    ms_potential_free(&p);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  (*out)->owned = p;
  return MS_SUCCESS;
}

void ms_model_destroy(ms_model *mp) {
  if (!mp || !*mp) return;
  ms_model m = *mp;
  ms_ewald_destroy(&m->ew);
  ms_nlist_free(&m->nl);
  ms_pair_table_free(&m->table);
  free(m->q);
  ms_potential_free(&m->owned);
  free(m);
  *mp = NULL;
}

const ms_potential *ms_model_potential(const ms_model m) { return m->pot; }

void ms_model_stress_from_W(const double W[3][3], double volume, double s[6]) {
  double f = MS_EV_PER_A3_IN_GPA / volume;
  s[0] = W[0][0] * f;
  s[1] = W[1][1] * f;
  s[2] = W[2][2] * f;
  s[3] = 0.5 * (W[1][2] + W[2][1]) * f;
  s[4] = 0.5 * (W[0][2] + W[2][0]) * f;
  s[5] = 0.5 * (W[0][1] + W[1][0]) * f;
}

typedef struct {
  ms_model m;
  const ms_cell *c;
  unsigned eflags;
  int coulomb;
  double energy, e_real;
  double (*f)[3];
  double W[3][3];
  ms_pair_acc acc;
} pass_ctx;

static int fused_block(const ms_nblock *blk, void *vctx) {
  pass_ctx *x = vctx;
  ms_model m = x->m;
  memset(m->e, 0, sizeof(double) * (size_t)blk->n);
  memset(m->g, 0, sizeof(double) * (size_t)blk->n);
  if (x->coulomb) x->e_real += ms_ewald_real_block(m->ew, blk, m->e, m->g);
  ms_pair_kernel_eg(&m->table, x->c->kind, blk, m->e, m->g, &x->acc);
  ms_ewald_block_accumulate(blk, m->e, m->g, x->eflags, &x->energy, x->f, x->W);
  return 0;
}

static void set_status(ms_model_result *r, ms_status s, const char *fmt, const char *what) {
  r->status = s;
  snprintf(r->detail, sizeof r->detail, fmt, what);
}

ms_err ms_model_compute(ms_model m, const ms_cell *c, unsigned flags, ms_model_result *res) {
  double (*forces)[3] = res->forces;
  memset(res, 0, sizeof *res);
  res->forces = (flags & MS_MODEL_FORCES) ? forces : NULL;
  MS_CHECK(!(flags & MS_MODEL_FORCES) || forces, MS_ERR_ARG, "forces requested without an array");
  res->volume = ms_cell_volume(c);
  if (res->forces) memset(res->forces, 0, sizeof(double[3]) * (size_t)c->natoms);

  /* A degenerate cell or non-finite coordinates are a property of this structure. */
  if (ms_cell_validate(c) != MS_SUCCESS) {
    set_status(res, MS_STATUS_BAD_CELL, "%s", ms_err_message());
    ms_err_clear();
    res->energy = res->e_coulomb = res->e_short = NAN;
    return MS_SUCCESS;
  }
  MS_CALL(ms_potential_bind(m->pot, c, m->charge, &m->table));

  if (c->natoms > m->qcap) {
    MS_CALL(MS_REALLOC((size_t)c->natoms, &m->q));
    m->qcap = c->natoms;
  }
  int coulomb = 0;
  double qtot = 0;
  for (int i = 0; i < c->natoms; ++i) {
    m->q[i] = m->charge[c->kind[i]];
    qtot += m->q[i];
    if (m->q[i] != 0) coulomb = 1;
  }
  coulomb = coulomb && m->opt.coulomb;
  res->charge_total = qtot;
  res->has_coulomb = coulomb;

  unsigned eflags = 0;
  if (flags & MS_MODEL_FORCES) eflags |= MS_EWALD_FORCES;
  if (flags & MS_MODEL_STRESS) eflags |= MS_EWALD_STRESS;

  double reach = ms_pair_table_reach(&m->table);
  if (coulomb) {
    ms_err e = ms_ewald_setup(m->ew, c, m->q);
    if (e == MS_ERR_INPUT) {
      /* The cell passed validation, so this is a physics problem of this structure
       * (e.g. a cell too thin for the cutoffs): record it, do not stop the caller. */
      set_status(res, MS_STATUS_BAD_CELL, "%s", ms_err_message());
      ms_err_clear();
      res->energy = res->e_coulomb = res->e_short = NAN;
      return MS_SUCCESS;
    }
    MS_CALL(e);
    MS_CALL(ms_ewald_get_info(m->ew, &res->ewald));
    if (res->ewald.rcut > reach) reach = res->ewald.rcut;
  }

  pass_ctx x;
  memset(&x, 0, sizeof x);
  x.m = m;
  x.c = c;
  x.eflags = eflags;
  x.coulomb = coulomb;
  x.f = res->forces;
  ms_pair_acc_reset(&x.acc, NULL, 0);
  if (reach > 0 && c->natoms > 0) {
    ms_err e = ms_nlist_foreach_block(&m->nl, c, reach, fused_block, &x, NULL);
    if (e == MS_ERR_INPUT) {
      set_status(res, MS_STATUS_BAD_CELL, "%s", ms_err_message());
      ms_err_clear();
      res->energy = res->e_coulomb = res->e_short = NAN;
      return MS_SUCCESS;
    }
    MS_CALL(e);
  }
  res->energy = x.energy;
  res->e_coulomb = x.e_real;
  res->e_short = x.energy - x.e_real;
  memcpy(res->W, x.W, sizeof res->W);

  if (coulomb) {
    ms_ewald_result er;
    memset(&er, 0, sizeof er);
    er.forces = res->forces;
    ms_ewald_real_status(m->ew, &er);
    MS_CALL(ms_ewald_kspace(m->ew, eflags, &er));
    res->energy += er.energy;
    res->e_coulomb += er.energy;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) res->W[a][b] += er.W[a][b];
    if (er.status == MS_STATUS_OVERLAP && x.acc.status == MS_STATUS_OK) {
      res->status = MS_STATUS_OVERLAP;
      snprintf(res->detail, sizeof res->detail, "sites %d and %d are %.4f Å apart (overlap)",
               er.rmin_i + 1, er.rmin_j + 1, er.rmin);
    }
  }
  if (x.acc.status != MS_STATUS_OK) {
    res->status = x.acc.status;
    ms_pair_acc_describe(&x.acc, c, res->detail, sizeof res->detail);
  }
  if (flags & MS_MODEL_STRESS) ms_model_stress_from_W(res->W, res->volume, res->stress_GPa);

  /* Last line of defence: nothing non-finite leaves this function as an "ok" result. */
  int finite = isfinite(res->energy);
  if (res->forces)
    for (int i = 0; i < c->natoms && finite; ++i)
      finite = isfinite(res->forces[i][0]) && isfinite(res->forces[i][1]) && isfinite(res->forces[i][2]);
  for (int a = 0; a < 3 && finite; ++a)
    for (int b = 0; b < 3; ++b) finite = finite && isfinite(res->W[a][b]);
  if (!finite && res->status == MS_STATUS_OK)
    set_status(res, MS_STATUS_NAN, "%s", "energy, forces or stress not finite");
  return MS_SUCCESS;
}

const ms_model_term_info *ms_model_terms(int *count) {
  /* Built once from the pair-form table so the two cannot drift apart. */
  enum { MAX_TERMS = 16 };
  static ms_model_term_info terms[MAX_TERMS + 1];
  static char params[MAX_TERMS][160];
  static int n = 0;
  if (n == 0) {
    terms[n++] = (ms_model_term_info){
        "coulomb", "long-range",
        "K q_i q_j / r summed periodically: direct Ewald or smooth PME, neutralising background "
        "for charged cells",
        "charges q (e) from the potential or the oxidation states; accuracy (relative)",
        "Ewald, Ann. Phys. 369, 253 (1921); Essmann et al., J. Chem. Phys. 103, 8577 (1995)"};
    for (int f = 0; f < MS_PAIR_NFORMS_ && n < MAX_TERMS; ++f) {
      const ms_pair_form_info *fi = ms_pair_form_get((ms_pair_form)f);
      if (!fi) continue;
      size_t used = 0;
      params[n][0] = '\0';
      for (int k = 0; k < fi->nparams; ++k)
        used += (size_t)snprintf(params[n] + used, sizeof params[n] - used, "%s%s (%s)",
                                 k ? ", " : "", fi->param[k].key, fi->param[k].unit);
      terms[n] = (ms_model_term_info){fi->name, "short-range", fi->formula, params[n], fi->citation};
      n++;
    }
    terms[n].name = NULL;
  }
  if (count) *count = n;
  return terms;
}
