/**
 * @file pair.h
 * @brief Short-range pair terms (Buckingham, Born-Mayer, Lennard-Jones, Morse, Pedone,
 *        inverse power), the per-kind-pair parameter table, the block kernel and the
 *        Buckingham-catastrophe guard.
 *
 * Conventions
 * -----------
 * - Units: r in Å, energies in eV, dE/dr in eV/Å, forces in eV/Å, the strain derivative
 *   W_ab = dE/d(eps_ab) in eV (stress = W / V, the sign convention of ASE: tensile positive).
 *   Every parameter carries its unit in its YAML key ("A_eV", "rho_A", "C_eV_A6").
 * - A pair *term* is one analytic form with its parameters and its own cutoff. A pair of
 *   kinds may carry several terms (up to MS_PAIR_MAX_TERMS); their energies add.
 * - Cutoffs (ms_pair_shift): plain truncation by default (E = 0 for r >= cutoff, as GULP and
 *   LAMMPS do); or the energy shifted, E(r) - E(rc), continuous at the cutoff with the force
 *   unchanged; or shifted force, E(r) - E(rc) - (r - rc) E'(rc), whose energy and force both
 *   go to zero at the cutoff. Forces are always the exact derivative of the energy summed.
 * - The table is indexed kind_i * nkinds + kind_j with the kinds of an ms_cell, and is
 *   symmetric. It is a reusable workspace: its arrays only grow, so re-binding it for many
 *   structures allocates nothing in the steady state. The kernel never allocates.
 * - Neighbour pairs come from neighbor.h (unordered, each once): the kernel adds the full
 *   pair energy once, F_i += dE/dr d/r, F_j -= dE/dr d/r (d = r_j - r_i, so a repulsive
 *   pair, dE/dr < 0, pushes i away from j) and W_ab += dE/dr d_a d_b / r.
 * - The kernel knows nothing about Coulomb; charges enter only the automatic guard radius.
 * - Guard: each kind pair may have a minimum distance r_min (the "catastrophe guard"). A pair
 *   closer than r_min makes the accumulator report MS_STATUS_COLLAPSED, a pair closer than the
 *   table's overlap distance (default MS_PAIR_OVERLAP_A, any kinds) MS_STATUS_OVERLAP. The
 *   energy is still accumulated (it is finite), but the caller must treat it as meaningless
 *   and set the structure's status instead. A kind pair with a repulsive core (core_eV > 0)
 *   gets a steep wall inside r_min instead of a "collapsed" report.
 * - Not collective; no function here touches MPI. Tables are read-only during a kernel pass
 *   and may be shared by threads; accumulators are per thread.
 */
#ifndef MATSCREEN_PAIR_H
#define MATSCREEN_PAIR_H

#include <stddef.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/neighbor.h"
#include "matscreen/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MS_COULOMB_K
/** Coulomb constant e^2 / (4 pi eps0) in eV·Å (CODATA 2018, as pymatgen; same as ewald.h). */
#define MS_COULOMB_K 14.399645478
#endif
/** Most parameters of one form. */
#define MS_PAIR_MAX_PARAMS 4
/** Most terms on one pair of kinds. */
#define MS_PAIR_MAX_TERMS 4
/** Default overlap distance (Å): closer than this, two atoms are "on top of each other". */
#define MS_PAIR_OVERLAP_A 0.3
/** Default margin (Å) added to the barrier top to get the automatic guard radius. */
#define MS_PAIR_GUARD_MARGIN_A 0.1

/** The analytic forms. Append only (stored in tables by index). */
typedef enum {
  MS_PAIR_BUCKINGHAM = 0, /**< A exp(-r/rho) - C/r^6 */
  MS_PAIR_BORN_MAYER,     /**< A exp(-r/rho) */
  MS_PAIR_LENNARD_JONES,  /**< 4 eps ((sigma/r)^12 - (sigma/r)^6) */
  MS_PAIR_MORSE,          /**< D [(1 - exp(-a (r - r0)))^2 - 1] */
  MS_PAIR_PEDONE,         /**< Morse + C/r^12 */
  MS_PAIR_INVERSE_POWER,  /**< B / r^n */
  MS_PAIR_NFORMS_
} ms_pair_form;

/** Energy (eV) of a form with parameters @p p at r (Å); *dEdr receives dE/dr (eV/Å). */
typedef double (*ms_pair_eval_fn)(const double *p, double r, double *dEdr);

/** One parameter of a form. */
typedef struct {
  const char *name;  /**< symbol in the formula: "rho" */
  const char *key;   /**< key in potential files, unit included: "rho_A" */
  const char *unit;  /**< "Å" */
  double min;        /**< smallest allowed value */
  int min_open;      /**< 1: the value must be strictly greater than min */
} ms_pair_param_info;

/** Description of a form: one row of the built-in table. */
typedef struct {
  const char *name;      /**< "buckingham" (the `form:` value in potential files) */
  const char *formula;   /**< "A exp(-r/rho) - C/r^6" */
  const char *citation;  /**< where the form comes from */
  int nparams;
  ms_pair_param_info param[MS_PAIR_MAX_PARAMS];
  ms_pair_eval_fn eval;
} ms_pair_form_info;

/** Row of the form table, NULL for an out-of-range value. */
const ms_pair_form_info *ms_pair_form_get(ms_pair_form form);
/**
 * Form by name ("buckingham", "born_mayer", "lennard_jones", "morse", "pedone",
 * "inverse_power"). Unknown names fail with MS_ERR_UNKNOWN_TYPE, listing the valid names.
 */
ms_err ms_pair_form_lookup(const char *name, ms_pair_form *form);

/**
 * Check parameter @p k of @p form against its bounds. On failure returns MS_ERR_INPUT with a
 * message without prefix, e.g. "must be > 0 Å, got -0.3" (callers add the place).
 */
ms_err ms_pair_param_check(ms_pair_form form, int k, double value);

/** What happens at a term's cutoff rc (all three give E = 0 beyond it). */
typedef enum {
  MS_PAIR_SHIFT_NONE = 0,   /**< plain truncation: E jumps by E(rc) and the force by E'(rc) */
  MS_PAIR_SHIFT_ENERGY = 1, /**< E(r) - E(rc): continuous energy, the force still jumps */
  MS_PAIR_SHIFT_FORCE = 2   /**< E(r) - E(rc) - (r - rc) E'(rc): energy and force continuous */
} ms_pair_shift;

/** One term: a form, its parameters and its cutoff. Set up with ms_pair_term_set(). */
typedef struct {
  ms_pair_form form;
  ms_pair_eval_fn eval;            /**< cached from the form table */
  double p[MS_PAIR_MAX_PARAMS];    /**< parameters in the order of the form's table row */
  double cutoff;                   /**< Å */
  double rc2;                      /**< cutoff^2 */
  int shift;                       /**< an ms_pair_shift value */
  double eshift;                   /**< E(cutoff) subtracted when shifted, else 0 */
  double fshift;                   /**< E'(cutoff) (eV/Å) with MS_PAIR_SHIFT_FORCE, else 0 */
} ms_pair_term;

/**
 * Fill @p t after checking the parameters against the form's bounds (e.g. rho > 0) and
 * 0 < cutoff <= 100 Å; @p shift is an ms_pair_shift (MS_ERR_INPUT for another value). Fails
 * with MS_ERR_INPUT naming the parameter and its value.
 */
ms_err ms_pair_term_set(ms_pair_term *t, ms_pair_form form, const double *params, double cutoff,
                        int shift);
/** Energy of one term at r (truncated and shifted as configured); *dEdr may be NULL. */
double ms_pair_term_eval(const ms_pair_term *t, double r, double *dEdr);

/** Everything one pair of kinds carries. */
typedef struct {
  int nterms;
  ms_pair_term term[MS_PAIR_MAX_TERMS];
  double rc2;        /**< largest term cutoff squared (0: no terms) */
  double guard_r;    /**< catastrophe guard radius r_min, Å (0: none) */
  double barrier_r;  /**< barrier top of the bare pair energy, Å (0: none or not computed) */
  double core_eV;    /**< strength of the repulsive core inside guard_r (0: no core) */
  double check_r2;   /**< max(guard_r, overlap)^2: pairs closer than this are inspected */
  double eval_r2;    /**< pairs closer than this contribute energy (terms or core) */
} ms_pair_entry;

/** The per-kind-pair table used by the kernel. Initialise with ms_pair_table_init(). */
typedef struct {
  int nkinds;
  int cap;                 /**< allocated entries */
  ms_pair_entry *entry;    /**< nkinds x nkinds, symmetric */
  double overlap;          /**< overlap distance, Å */
  double max_cutoff;       /**< largest term cutoff, Å (0 when there are no terms) */
} ms_pair_table;

void ms_pair_table_init(ms_pair_table *t);
void ms_pair_table_free(ms_pair_table *t);
/** Clear and size the table for @p nkinds kinds (1..MS_CELL_MAX_KINDS); keeps the overlap. */
ms_err ms_pair_table_reset(ms_pair_table *t, int nkinds);
/** Add term @p term to kinds (a, b) and (b, a). At most MS_PAIR_MAX_TERMS per pair. */
ms_err ms_pair_table_add_term(ms_pair_table *t, int a, int b, const ms_pair_term *term);
/**
 * Set the guard of kinds (a, b): radius @p r_min (Å, 0 for none), the barrier top it came
 * from (@p barrier_r, informational, 0 if unknown) and an optional repulsive core
 * (@p core_eV > 0): E_core = core_eV [(r_min/r)^12 - 1 + 12 (r/r_min - 1)] for r < r_min,
 * which is zero with zero slope at r_min and grows faster than any -C/r^6 or -1/r pull.
 */
ms_err ms_pair_table_set_guard(ms_pair_table *t, int a, int b, double r_min, double barrier_r,
                               double core_eV);
/** Set the overlap distance (Å, >= 0) for all pairs. */
ms_err ms_pair_table_set_overlap(ms_pair_table *t, double overlap);
/** Entry of kinds (a, b); both must be valid kind indices (no range check: hot path). */
static inline const ms_pair_entry *ms_pair_table_get(const ms_pair_table *t, int a, int b) {
  return &t->entry[a * t->nkinds + b];
}
/**
 * Distance (Å) a neighbour pass must reach: the largest term cutoff, guard radius and
 * overlap distance.
 */
double ms_pair_table_reach(const ms_pair_table *t);

/**
 * Barrier of the bare pair energy E(r) = sum of @p terms (untruncated) + @p kqq / r, where
 * kqq = MS_COULOMB_K q_i q_j (eV·Å). Finds the outermost local maximum of E on
 * [1e-3 Å, r_hi] (r_hi = largest term cutoff) such that E somewhere inside it is lower than
 * everywhere outside it (the pair gains energy by falling through: the Buckingham
 * catastrophe), to 1e-10 Å. *found = 0 when there is none (repulsive core, or no terms).
 * @p e_top (may be NULL) receives E(r_top) in eV.
 */
ms_err ms_pair_barrier(const ms_pair_term *terms, int nterms, double kqq, double *r_top,
                       double *e_top, int *found);

/** Accumulator of one kernel pass. Reset with ms_pair_acc_reset() before each structure. */
typedef struct {
  double energy;         /**< eV */
  double (*force)[3];    /**< natoms x 3 (eV/Å), added to; NULL to skip forces */
  double W[3][3];        /**< strain derivative dE/d(eps_ab), eV, symmetric */
  /* guard report */
  ms_status status;      /**< MS_STATUS_OK, MS_STATUS_COLLAPSED or MS_STATUS_OVERLAP */
  long nguard;           /**< pairs inside their guard radius or the overlap distance */
  int bad_i, bad_j;      /**< the worst such pair (overlap first, then smallest r / r_min) */
  double bad_r;          /**< its distance, Å */
  double bad_rmin;       /**< the radius it violated (guard radius or overlap distance), Å */
  int stop_on_guard;     /**< ms_pair_block_fn returns non-zero after the first bad block */
} ms_pair_acc;

/**
 * Zero energy, W and the guard report and attach @p force (natoms x 3, zeroed when not NULL).
 * stop_on_guard is kept, so zero-initialise the accumulator once (ms_pair_acc acc = {0};).
 */
void ms_pair_acc_reset(ms_pair_acc *acc, double (*force)[3], int natoms);

/**
 * Add the short-range energy, forces and strain derivative of the pairs in @p blk.
 * @p kind maps site index to the table's kind index. Never allocates; never fails.
 */
void ms_pair_kernel(const ms_pair_table *t, const int *kind, const ms_nblock *blk,
                    ms_pair_acc *acc);

/**
 * Per-pair variant for fusing with other pair terms (Ewald real space) in one pass: for each
 * pair p of @p blk adds the short-range energy to e[p] (eV) and (1/r) dE/dr to g[p] (eV/Å^2),
 * the layout of ms_ewald_block_accumulate() in ewald.h. Only the guard report goes to @p acc
 * (its energy, forces and W are not touched). Never allocates; never fails.
 */
void ms_pair_kernel_eg(const ms_pair_table *t, const int *kind, const ms_nblock *blk, double *e,
                       double *g, ms_pair_acc *acc);

/** Context for ms_pair_block_fn. */
typedef struct {
  const ms_pair_table *table;
  const int *kind;
  ms_pair_acc *acc;
} ms_pair_ctx;
/**
 * ms_nblock_fn adapter: runs ms_pair_kernel; returns 1 when acc->stop_on_guard is set and a
 * pair violated a guard (the pass stops early), else 0.
 */
int ms_pair_block_fn(const ms_nblock *blk, void *ctx);

/**
 * Short-range energy, forces and strain derivative of cell @p c with the kinds of the cell,
 * using neighbour workspace @p nl up to ms_pair_table_reach(). @p acc must have been reset.
 * A guard violation is not an error: look at acc->status.
 */
ms_err ms_pair_compute(const ms_pair_table *t, const ms_cell *c, ms_nlist *nl,
                       ms_pair_acc *acc);

/**
 * One-line description of the accumulator's guard report for messages and logs, e.g.
 * "sites 3 (O2-) and 7 (O2-) are 1.0000 Å apart, inside the catastrophe guard 1.3368 Å".
 * @p c (may be NULL) supplies species names. Returns @p buf.
 */
char *ms_pair_acc_describe(const ms_pair_acc *acc, const ms_cell *c, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MATSCREEN_PAIR_H */
