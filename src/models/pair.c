/* Short-range pair terms, the per-kind-pair table, the block kernel and the catastrophe guard.
 *
 * Forms (r in Å, energies in eV; each row of `forms` below carries its parameters with units
 * and the citation of the functional form):
 *   buckingham     E = A exp(-r/rho) - C/r^6          A eV, rho Å, C eV·Å^6
 *   born_mayer     E = A exp(-r/rho)                  A eV, rho Å
 *   lennard_jones  E = 4 eps ((sigma/r)^12 - (sigma/r)^6)   eps eV, sigma Å
 *   morse          E = D [(1 - exp(-a (r - r0)))^2 - 1]     D eV, a 1/Å, r0 Å
 *                    (minimum -D at r0, zero at infinity)
 *   pedone         E = morse + C/r^12                 C eV·Å^12 (Pedone et al. 2006)
 *   inverse_power  E = B / r^n                        B eV·Å^n, n dimensionless
 * Each term is truncated at its own cutoff rc (E = 0 beyond, as GULP and LAMMPS do by default),
 * optionally shifted by -E(rc) so the energy is continuous (the force still jumps by E'(rc)),
 * or shifted in energy and force, E(r) - E(rc) - (r - rc) E'(rc), so that both vanish at rc
 * (the "shifted force" truncation; M. P. Allen & D. J. Tildesley, Computer Simulation of
 * Liquids, 2nd ed., OUP 2017, section 1.6.3). The forces are always the exact derivative of
 * the energy that is summed.
 *
 * Kernel: for each neighbour pair (i, j, d = r_j - r_i incl. image, r = |d|) the pair energy
 * E(r) is added once, F_i -= E'(r) d/r, F_j += E'(r) d/r, and the strain derivative
 * W_ab += E'(r) d_a d_b / r (the derivative of the energy under r -> (1 + eps) r).
 *
 * Catastrophe guard (physics reference §2.5): A exp(-r/rho) stays finite as r -> 0 while
 * -C/r^6 and an attractive Coulomb term diverge, so a pair that passes the top of the barrier
 * of the bare pair energy A e^{-r/rho} - C/r^6 + K q_i q_j / r falls to r = 0 with an energy
 * that goes to minus infinity (the "Buckingham catastrophe"). The barrier top r_top is the
 * outermost local maximum of that bare energy for which some energy inside is lower than all
 * energies outside; it is found on a logarithmic grid from 1e-3 Å to the cutoff and refined by
 * bisection on dE/dr. The automatic guard radius is r_top plus a margin (default 0.1 Å: a
 * relaxation or line-search step moves ions by about that much, so a pair is caught while it
 * is still on the outer slope, before the energy has become meaningless). Pairs closer than
 * the overlap distance (default 0.3 Å, about a quarter of the smallest cation radius, far
 * inside any real bond: Li-H in LiH is 2.0 Å, O-H in hydroxides 0.96 Å) are reported as
 * "overlap" whatever their kinds. Typical values (Bush 1994, formal charges): Mg-O 0.0936 Å
 * (harmless; far inside the overlap distance), O-O 1.2368 Å (dangerous: real O-O distances
 * are 2.4-3 Å and the barrier is only ~12 eV above the 2 Å energy).
 * Optional repulsive core: E_core = E0 [(r_min/r)^12 - 1 + 12 (r/r_min - 1)] for r < r_min;
 * zero and flat at r_min, and it outgrows -C/r^6 and -1/r at short range, so a relaxation is
 * pushed back out instead of collapsing. It is a numerical safety net, not physics.
 *
 * Limits of validity: these are empirical forms fitted near equilibrium distances; energies
 * far inside the guard radius are meaningless, and truncation without shift makes the energy
 * jump at the cutoff by E(cutoff) (tiny for exponentials, ~C/rc^6 for dispersion: 32.32/12^6
 * = 1.1e-5 eV for Bush O-O).
 *
 * References: R. A. Buckingham, Proc. R. Soc. Lond. A 168, 264 (1938); M. Born & J. E. Mayer,
 * Z. Phys. 75, 1 (1932); J. E. Lennard-Jones, Proc. R. Soc. Lond. A 106, 463 (1924);
 * P. M. Morse, Phys. Rev. 34, 57 (1929); A. Pedone, G. Malavasi, M. C. Menziani,
 * A. N. Cormack & U. Segre, J. Phys. Chem. B 110, 11780 (2006); M. Born & A. Landé,
 * Verh. Dtsch. Phys. Ges. 20, 210 (1918) (inverse-power repulsion). */
#include "matscreen/pair.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Forms                                                                                      */

static double eval_buckingham(const double *p, double r, double *dEdr) {
  const double rep = p[0] * exp(-r / p[1]);
  const double ir2 = 1.0 / (r * r);
  const double disp = p[2] * ir2 * ir2 * ir2;
  *dEdr = -rep / p[1] + 6.0 * disp / r;
  return rep - disp;
}

static double eval_born_mayer(const double *p, double r, double *dEdr) {
  const double rep = p[0] * exp(-r / p[1]);
  *dEdr = -rep / p[1];
  return rep;
}

static double eval_lennard_jones(const double *p, double r, double *dEdr) {
  const double s2 = (p[1] * p[1]) / (r * r);
  const double s6 = s2 * s2 * s2;
  const double e4 = 4.0 * p[0];
  *dEdr = e4 * (6.0 * s6 - 12.0 * s6 * s6) / r;
  return e4 * (s6 * s6 - s6);
}

/* D [(1 - x)^2 - 1] = D (x^2 - 2x) with x = exp(-a (r - r0)); dE/dr = 2 a D x (1 - x). */
static double eval_morse(const double *p, double r, double *dEdr) {
  const double x = exp(-p[1] * (r - p[2]));
  *dEdr = 2.0 * p[1] * p[0] * x * (1.0 - x);
  return p[0] * x * (x - 2.0);
}

static double eval_pedone(const double *p, double r, double *dEdr) {
  double dm;
  const double em = eval_morse(p, r, &dm);
  const double ir2 = 1.0 / (r * r);
  const double ir6 = ir2 * ir2 * ir2;
  const double core = p[3] * ir6 * ir6;
  *dEdr = dm - 12.0 * core / r;
  return em + core;
}

static double eval_inverse_power(const double *p, double r, double *dEdr) {
  const double e = p[0] * pow(r, -p[1]);
  *dEdr = -p[1] * e / r;
  return e;
}

/* The one table of forms; adding a form means adding a row here and an enum value. */
static const ms_pair_form_info forms[MS_PAIR_NFORMS_] = {
    [MS_PAIR_BUCKINGHAM] = {"buckingham", "A exp(-r/rho) - C/r^6",
                            "R. A. Buckingham, Proc. R. Soc. Lond. A 168, 264 (1938)", 3,
                            {{"A", "A_eV", "eV", 0.0, 0},
                             {"rho", "rho_A", "Å", 0.0, 1},
                             {"C", "C_eV_A6", "eV·Å^6", 0.0, 0}},
                            eval_buckingham},
    [MS_PAIR_BORN_MAYER] = {"born_mayer", "A exp(-r/rho)",
                            "M. Born & J. E. Mayer, Z. Phys. 75, 1 (1932)", 2,
                            {{"A", "A_eV", "eV", 0.0, 0}, {"rho", "rho_A", "Å", 0.0, 1}},
                            eval_born_mayer},
    [MS_PAIR_LENNARD_JONES] = {"lennard_jones", "4 eps ((sigma/r)^12 - (sigma/r)^6)",
                               "J. E. Lennard-Jones, Proc. R. Soc. Lond. A 106, 463 (1924)", 2,
                               {{"eps", "epsilon_eV", "eV", 0.0, 0},
                                {"sigma", "sigma_A", "Å", 0.0, 1}},
                               eval_lennard_jones},
    [MS_PAIR_MORSE] = {"morse", "D [(1 - exp(-a (r - r0)))^2 - 1]",
                       "P. M. Morse, Phys. Rev. 34, 57 (1929)", 3,
                       {{"D", "D_eV", "eV", 0.0, 0},
                        {"a", "a_per_A", "1/Å", 0.0, 1},
                        {"r0", "r0_A", "Å", 0.0, 1}},
                       eval_morse},
    [MS_PAIR_PEDONE] = {"pedone", "D [(1 - exp(-a (r - r0)))^2 - 1] + C/r^12",
                        "A. Pedone et al., J. Phys. Chem. B 110, 11780 (2006)", 4,
                        {{"D", "D_eV", "eV", 0.0, 0},
                         {"a", "a_per_A", "1/Å", 0.0, 1},
                         {"r0", "r0_A", "Å", 0.0, 1},
                         {"C", "C_eV_A12", "eV·Å^12", 0.0, 0}},
                        eval_pedone},
    [MS_PAIR_INVERSE_POWER] = {"inverse_power", "B / r^n",
                               "M. Born & A. Landé, Verh. Dtsch. Phys. Ges. 20, 210 (1918)", 2,
                               {{"B", "B_eV_An", "eV·Å^n", 0.0, 0},
                                {"n", "n", "1", 0.0, 1}},
                               eval_inverse_power},
};

/* Largest exponent accepted for inverse_power: beyond it B/r^n overflows at small r. */
static const double max_inverse_power = 32.0;
/* Largest accepted cutoff (Å): longer short-range cutoffs are a units mistake. */
static const double max_cutoff = 100.0;

const ms_pair_form_info *ms_pair_form_get(ms_pair_form form) {
  if ((int)form < 0 || form >= MS_PAIR_NFORMS_) return NULL;
  return &forms[form];
}

ms_err ms_pair_form_lookup(const char *name, ms_pair_form *form) {
  MS_CHECK(name && form, MS_ERR_ARG, "ms_pair_form_lookup: NULL argument");
  for (int f = 0; f < MS_PAIR_NFORMS_; ++f)
    if (strcmp(forms[f].name, name) == 0) {
      *form = (ms_pair_form)f;
      return MS_SUCCESS;
    }
  MS_FAIL(MS_ERR_UNKNOWN_TYPE,
          "unknown pair form '%s' (known: buckingham, born_mayer, lennard_jones, morse, pedone, "
          "inverse_power)",
          name);
}

ms_err ms_pair_param_check(ms_pair_form form, int k, double v) {
  const ms_pair_form_info *fi = ms_pair_form_get(form);
  MS_CHECK(fi && k >= 0 && k < fi->nparams, MS_ERR_ARG, "invalid form %d or parameter %d",
           (int)form, k);
  const ms_pair_param_info *pi = &fi->param[k];
  MS_CHECK(isfinite(v), MS_ERR_INPUT, "must be a finite number, got %g", v);
  MS_CHECK(pi->min_open ? v > pi->min : v >= pi->min, MS_ERR_INPUT, "must be %s %g %s, got %g",
           pi->min_open ? ">" : ">=", pi->min, pi->unit, v);
  if (form == MS_PAIR_INVERSE_POWER && k == 1)
    MS_CHECK(v <= max_inverse_power, MS_ERR_INPUT, "must be <= %g, got %g", max_inverse_power, v);
  return MS_SUCCESS;
}

ms_err ms_pair_term_set(ms_pair_term *t, ms_pair_form form, const double *params, double cutoff,
                        int shift) {
  const ms_pair_form_info *fi = ms_pair_form_get(form);
  MS_CHECK(t && params, MS_ERR_ARG, "ms_pair_term_set: NULL argument");
  MS_CHECK(fi, MS_ERR_ARG, "ms_pair_term_set: invalid form %d", (int)form);
  for (int k = 0; k < fi->nparams; ++k) {
    if (ms_pair_param_check(form, k, params[k]) != MS_SUCCESS) {
      char msg[256];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      MS_FAIL(MS_ERR_INPUT, "%s: %s %s", fi->name, fi->param[k].key, msg);
    }
  }
  MS_CHECK(isfinite(cutoff) && cutoff > 0.0 && cutoff <= max_cutoff, MS_ERR_INPUT,
           "%s: cutoff_A must be in (0, %g] Å, got %g", fi->name, max_cutoff, cutoff);
  MS_CHECK(shift == MS_PAIR_SHIFT_NONE || shift == MS_PAIR_SHIFT_ENERGY || shift == MS_PAIR_SHIFT_FORCE,
           MS_ERR_INPUT, "%s: unknown cutoff shift %d", fi->name, shift);
  memset(t, 0, sizeof *t);
  t->form = form;
  t->eval = fi->eval;
  for (int k = 0; k < fi->nparams; ++k) t->p[k] = params[k];
  t->cutoff = cutoff;
  t->rc2 = cutoff * cutoff;
  t->shift = shift;
  if (shift != MS_PAIR_SHIFT_NONE) {
    double d;
    t->eshift = t->eval(t->p, cutoff, &d);
    if (shift == MS_PAIR_SHIFT_FORCE) t->fshift = d;
  }
  return MS_SUCCESS;
}

/* The term inside its cutoff, r < rc (fshift is 0 unless the force is shifted). */
static inline double term_inside(const ms_pair_term *t, double r, double *dEdr) {
  double d;
  double e = t->eval(t->p, r, &d) - t->eshift - t->fshift * (r - t->cutoff);
  *dEdr = d - t->fshift;
  return e;
}

double ms_pair_term_eval(const ms_pair_term *t, double r, double *dEdr) {
  double d = 0.0, e = 0.0;
  if (r * r < t->rc2) e = term_inside(t, r, &d);
  if (dEdr) *dEdr = d;
  return e;
}

/* ------------------------------------------------------------------------------------------ */
/* Table                                                                                      */

void ms_pair_table_init(ms_pair_table *t) {
  memset(t, 0, sizeof *t);
  t->overlap = MS_PAIR_OVERLAP_A;
}

void ms_pair_table_free(ms_pair_table *t) {
  if (!t) return;
  free(t->entry);
  ms_pair_table_init(t);
}

/* Derived fields of one entry: which pairs the kernel must look at, and why. */
static void entry_update(ms_pair_entry *e, double overlap) {
  double rc2 = 0.0;
  for (int k = 0; k < e->nterms; ++k)
    if (e->term[k].rc2 > rc2) rc2 = e->term[k].rc2;
  e->rc2 = rc2;
  const double g = e->guard_r > overlap ? e->guard_r : overlap;
  e->check_r2 = g * g;
  const double core2 = e->core_eV > 0.0 ? e->guard_r * e->guard_r : 0.0;
  e->eval_r2 = rc2 > core2 ? rc2 : core2;
}

static void table_update_all(ms_pair_table *t) {
  const int n2 = t->nkinds * t->nkinds;
  t->max_cutoff = 0.0;
  for (int k = 0; k < n2; ++k) {
    entry_update(&t->entry[k], t->overlap);
    const double rc = sqrt(t->entry[k].rc2);
    if (rc > t->max_cutoff) t->max_cutoff = rc;
  }
}

ms_err ms_pair_table_reset(ms_pair_table *t, int nkinds) {
  MS_CHECK(t, MS_ERR_ARG, "ms_pair_table_reset: NULL table");
  MS_CHECK(nkinds >= 1 && nkinds <= MS_CELL_MAX_KINDS, MS_ERR_ARG,
           "pair table: number of kinds must be in 1..%d, got %d", MS_CELL_MAX_KINDS, nkinds);
  const int n2 = nkinds * nkinds;
  if (n2 > t->cap) {
    MS_CALL(MS_REALLOC((size_t)n2, &t->entry));
    t->cap = n2;
  }
  memset(t->entry, 0, (size_t)n2 * sizeof *t->entry);
  t->nkinds = nkinds;
  table_update_all(t);
  return MS_SUCCESS;
}

static ms_err check_kinds(const ms_pair_table *t, int a, int b) {
  MS_CHECK(t && t->entry, MS_ERR_STATE, "pair table not sized (call ms_pair_table_reset)");
  MS_CHECK(a >= 0 && a < t->nkinds && b >= 0 && b < t->nkinds, MS_ERR_ARG,
           "pair table: kinds (%d, %d) out of range 0..%d", a, b, t->nkinds - 1);
  return MS_SUCCESS;
}

ms_err ms_pair_table_add_term(ms_pair_table *t, int a, int b, const ms_pair_term *term) {
  MS_CALL(check_kinds(t, a, b));
  MS_CHECK(term && term->eval, MS_ERR_ARG, "ms_pair_table_add_term: term not set");
  ms_pair_entry *ab = &t->entry[a * t->nkinds + b];
  MS_CHECK(ab->nterms < MS_PAIR_MAX_TERMS, MS_ERR_INPUT,
           "pair table: more than %d terms on one pair of kinds", MS_PAIR_MAX_TERMS);
  ab->term[ab->nterms++] = *term;
  entry_update(ab, t->overlap);
  if (a != b) t->entry[b * t->nkinds + a] = *ab;
  if (term->cutoff > t->max_cutoff) t->max_cutoff = term->cutoff;
  return MS_SUCCESS;
}

ms_err ms_pair_table_set_guard(ms_pair_table *t, int a, int b, double r_min, double barrier_r,
                               double core_eV) {
  MS_CALL(check_kinds(t, a, b));
  MS_CHECK(isfinite(r_min) && r_min >= 0.0, MS_ERR_INPUT,
           "guard radius must be >= 0 Å, got %g", r_min);
  MS_CHECK(isfinite(core_eV) && core_eV >= 0.0, MS_ERR_INPUT,
           "guard core strength must be >= 0 eV, got %g", core_eV);
  MS_CHECK(core_eV == 0.0 || r_min > 0.0, MS_ERR_INPUT,
           "a repulsive core needs a guard radius > 0");
  ms_pair_entry *ab = &t->entry[a * t->nkinds + b];
  ab->guard_r = r_min;
  ab->barrier_r = barrier_r;
  ab->core_eV = core_eV;
  entry_update(ab, t->overlap);
  if (a != b) t->entry[b * t->nkinds + a] = *ab;
  return MS_SUCCESS;
}

ms_err ms_pair_table_set_overlap(ms_pair_table *t, double overlap) {
  MS_CHECK(t, MS_ERR_ARG, "ms_pair_table_set_overlap: NULL table");
  MS_CHECK(isfinite(overlap) && overlap >= 0.0, MS_ERR_INPUT,
           "overlap distance must be >= 0 Å, got %g", overlap);
  t->overlap = overlap;
  if (t->entry) table_update_all(t);
  return MS_SUCCESS;
}

double ms_pair_table_reach(const ms_pair_table *t) {
  double reach = t->overlap > t->max_cutoff ? t->overlap : t->max_cutoff;
  const int n2 = t->nkinds * t->nkinds;
  for (int k = 0; k < n2; ++k)
    if (t->entry[k].guard_r > reach) reach = t->entry[k].guard_r;
  return reach;
}

/* ------------------------------------------------------------------------------------------ */
/* Barrier of the bare pair energy                                                            */

enum { BARRIER_GRID = 4000 };
static const double barrier_r_lo = 1e-3;   /* Å; inside this nothing physical happens */
static const double barrier_tol = 1e-10;   /* Å */

static double bare_energy(const ms_pair_term *terms, int nterms, double kqq, double r,
                          double *dEdr) {
  double e = kqq / r, d = -kqq / (r * r);
  for (int k = 0; k < nterms; ++k) {
    double dk;
    e += terms[k].eval(terms[k].p, r, &dk);
    d += dk;
  }
  *dEdr = d;
  return e;
}

ms_err ms_pair_barrier(const ms_pair_term *terms, int nterms, double kqq, double *r_top,
                       double *e_top, int *found) {
  MS_CHECK(r_top && found && (terms || nterms == 0), MS_ERR_ARG, "ms_pair_barrier: NULL argument");
  MS_CHECK(isfinite(kqq), MS_ERR_ARG, "ms_pair_barrier: charge product not finite");
  *found = 0;
  *r_top = 0.0;
  if (e_top) *e_top = 0.0;
  if (nterms <= 0) return MS_SUCCESS;
  double r_hi = 0.0;
  for (int k = 0; k < nterms; ++k)
    if (terms[k].cutoff > r_hi) r_hi = terms[k].cutoff;
  if (r_hi <= barrier_r_lo) return MS_SUCCESS;

  /* The grid is small enough for the stack (3 x 32 kB) and this runs once per pair type at
   * load time, not per structure. */
  double rg[BARRIER_GRID], eg[BARRIER_GRID], dg[BARRIER_GRID];
  const double lr = log(r_hi / barrier_r_lo) / (BARRIER_GRID - 1);
  for (int k = 0; k < BARRIER_GRID; ++k) {
    rg[k] = barrier_r_lo * exp(lr * k);
    eg[k] = bare_energy(terms, nterms, kqq, rg[k], &dg[k]);
  }
  /* Outermost first: the barrier the pair meets on its way in. */
  double outer_min = eg[BARRIER_GRID - 1];
  for (int k = BARRIER_GRID - 2; k >= 0; --k) {
    if (eg[k + 1] < outer_min) outer_min = eg[k + 1];
    if (!(dg[k] > 0.0 && dg[k + 1] <= 0.0)) continue;
    double lo = rg[k], hi = rg[k + 1], d;
    while (hi - lo > barrier_tol) {
      const double mid = 0.5 * (lo + hi);
      bare_energy(terms, nterms, kqq, mid, &d);
      if (d > 0.0) lo = mid;
      else hi = mid;
    }
    const double rt = 0.5 * (lo + hi);
    const double et = bare_energy(terms, nterms, kqq, rt, &d);
    double inner_min = et;
    for (int m = 0; m <= k; ++m)
      if (eg[m] < inner_min) inner_min = eg[m];
    const double omin = et < outer_min ? et : outer_min;
    if (inner_min < omin) {
      *found = 1;
      *r_top = rt;
      if (e_top) *e_top = et;
      return MS_SUCCESS;
    }
  }
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Kernel                                                                                     */

void ms_pair_acc_reset(ms_pair_acc *acc, double (*force)[3], int natoms) {
  const int stop = acc->stop_on_guard;
  memset(acc, 0, sizeof *acc);
  acc->stop_on_guard = stop;
  acc->status = MS_STATUS_OK;
  acc->bad_i = acc->bad_j = -1;
  acc->force = force;
  if (force && natoms > 0) memset(force, 0, (size_t)natoms * sizeof *force);
}

/* Cold path: a pair inside the overlap distance or its guard radius. Overlap outranks
 * collapse; within one kind of violation the deepest (smallest r / r_min) is kept. */
static void guard_hit(const ms_pair_table *t, const ms_pair_entry *e, int i, int j, double r2,
                      ms_pair_acc *acc) {
  const double r = sqrt(r2);
  ms_status st;
  double rmin;
  if (r < t->overlap) {
    st = MS_STATUS_OVERLAP;
    rmin = t->overlap;
  } else if (e->guard_r > 0.0 && r < e->guard_r && e->core_eV == 0.0) {
    st = MS_STATUS_COLLAPSED;
    rmin = e->guard_r;
  } else {
    return;
  }
  ++acc->nguard;
  int take;
  if (acc->status == MS_STATUS_OK) take = 1;
  else if (acc->status != st) take = (st == MS_STATUS_OVERLAP);
  else take = r / rmin < acc->bad_r / acc->bad_rmin;
  if (take) {
    acc->status = st;
    acc->bad_i = i;
    acc->bad_j = j;
    acc->bad_r = r;
    acc->bad_rmin = rmin;
  }
}

/* Energy and dE/dr of one pair of kinds at r (terms within their cutoffs plus the core). */
static inline double entry_eval(const ms_pair_entry *pe, double r, double r2, double *dEdr) {
  double es = 0.0, de = 0.0;
  for (int k = 0; k < pe->nterms; ++k) {
    const ms_pair_term *tm = &pe->term[k];
    if (r2 < tm->rc2) {
      double dk;
      es += term_inside(tm, r, &dk);
      de += dk;
    }
  }
  if (pe->core_eV > 0.0 && r < pe->guard_r) {
    const double x = pe->guard_r / r;
    const double x2 = x * x, x4 = x2 * x2, x12 = x4 * x4 * x4;
    es += pe->core_eV * (x12 - 1.0 + 12.0 * (1.0 / x - 1.0));
    de += pe->core_eV * 12.0 * (1.0 / pe->guard_r - x12 / r);
  }
  *dEdr = de;
  return es;
}

void ms_pair_kernel(const ms_pair_table *t, const int *kind, const ms_nblock *blk,
                    ms_pair_acc *acc) {
  const int nk = t->nkinds, n = blk->n;
  const ms_pair_entry *restrict tab = t->entry;
  double (*restrict f)[3] = acc->force;
  double e = 0.0, w00 = 0.0, w11 = 0.0, w22 = 0.0, w12 = 0.0, w02 = 0.0, w01 = 0.0;
  for (int p = 0; p < n; ++p) {
    const int i = blk->i[p], j = blk->j[p];
    const double r2 = blk->r2[p];
    const ms_pair_entry *pe = &tab[kind[i] * nk + kind[j]];
    if (r2 < pe->check_r2) guard_hit(t, pe, i, j, r2, acc);
    /* Most pairs of a neighbour pass lie beyond the short-range cutoffs: reject them on r^2
     * before paying for sqrt and exp. */
    if (!(r2 < pe->eval_r2)) continue;
    const double r = sqrt(r2);
    double de;
    e += entry_eval(pe, r, r2, &de);
    const double dx = blk->dx[p], dy = blk->dy[p], dz = blk->dz[p];
    const double fr = de / r;
    if (f) {
      const double fx = fr * dx, fy = fr * dy, fz = fr * dz;
      f[i][0] += fx;
      f[i][1] += fy;
      f[i][2] += fz;
      f[j][0] -= fx;
      f[j][1] -= fy;
      f[j][2] -= fz;
    }
    w00 += fr * dx * dx;
    w11 += fr * dy * dy;
    w22 += fr * dz * dz;
    w12 += fr * dy * dz;
    w02 += fr * dx * dz;
    w01 += fr * dx * dy;
  }
  acc->energy += e;
  acc->W[0][0] += w00;
  acc->W[1][1] += w11;
  acc->W[2][2] += w22;
  acc->W[1][2] += w12;
  acc->W[2][1] += w12;
  acc->W[0][2] += w02;
  acc->W[2][0] += w02;
  acc->W[0][1] += w01;
  acc->W[1][0] += w01;
}

void ms_pair_kernel_eg(const ms_pair_table *t, const int *kind, const ms_nblock *blk, double *e,
                       double *g, ms_pair_acc *acc) {
  const int nk = t->nkinds, n = blk->n;
  const ms_pair_entry *restrict tab = t->entry;
  for (int p = 0; p < n; ++p) {
    const int i = blk->i[p], j = blk->j[p];
    const double r2 = blk->r2[p];
    const ms_pair_entry *pe = &tab[kind[i] * nk + kind[j]];
    if (r2 < pe->check_r2) guard_hit(t, pe, i, j, r2, acc);
    if (!(r2 < pe->eval_r2)) continue;
    const double r = sqrt(r2);
    double de;
    e[p] += entry_eval(pe, r, r2, &de);
    g[p] += de / r;
  }
}

int ms_pair_block_fn(const ms_nblock *blk, void *ctx) {
  ms_pair_ctx *c = ctx;
  ms_pair_kernel(c->table, c->kind, blk, c->acc);
  return (c->acc->stop_on_guard && c->acc->status != MS_STATUS_OK) ? 1 : 0;
}

ms_err ms_pair_compute(const ms_pair_table *t, const ms_cell *c, ms_nlist *nl,
                       ms_pair_acc *acc) {
  MS_CHECK(t && c && nl && acc, MS_ERR_ARG, "ms_pair_compute: NULL argument");
  MS_CHECK(t->entry && c->nkinds <= t->nkinds, MS_ERR_ARG,
           "pair table has %d kinds but the cell has %d (bind the potential to this cell)",
           t->nkinds, c->nkinds);
  const double reach = ms_pair_table_reach(t);
  if (reach <= 0.0 || c->natoms == 0) return MS_SUCCESS;
  ms_pair_ctx ctx = {t, c->kind, acc};
  int cb = 0;
  const ms_err e = ms_nlist_foreach_block(nl, c, reach, ms_pair_block_fn, &ctx, &cb);
  if (e == MS_ERR_INTERRUPTED && cb != 0) {
    /* The guard stopped the pass on purpose: the status says why; not an error. */
    ms_err_clear();
    return MS_SUCCESS;
  }
  MS_CALL(e);
  return MS_SUCCESS;
}

char *ms_pair_acc_describe(const ms_pair_acc *acc, const ms_cell *c, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  if (acc->status == MS_STATUS_OK) {
    snprintf(buf, len, "no pair inside a guard radius");
    return buf;
  }
  char si[24] = "", sj[24] = "";
  if (c && acc->bad_i >= 0 && acc->bad_i < c->natoms && acc->bad_j >= 0 &&
      acc->bad_j < c->natoms) {
    char a[16], b[16];
    snprintf(si, sizeof si, " (%s)",
             ms_species_format(&c->species[c->kind[acc->bad_i]], a, sizeof a));
    snprintf(sj, sizeof sj, " (%s)",
             ms_species_format(&c->species[c->kind[acc->bad_j]], b, sizeof b));
  }
  const char *what = acc->status == MS_STATUS_OVERLAP ? "the overlap distance"
                                                        : "the catastrophe guard";
  if (acc->bad_i == acc->bad_j)
    snprintf(buf, len, "site %d%s is %.4f Å from its own periodic image, inside %s %.4f Å",
             acc->bad_i, si, acc->bad_r, what, acc->bad_rmin);
  else
    snprintf(buf, len, "sites %d%s and %d%s are %.4f Å apart, inside %s %.4f Å", acc->bad_i,
             si, acc->bad_j, sj, acc->bad_r, what, acc->bad_rmin);
  return buf;
}
