/**
 * @file prefilter.h
 * @brief Chemistry prefilters: named rules with parameters that accept or reject a candidate
 *        before any energy is computed, recording why a candidate fails.
 *
 * Conventions (units as in cell.h)
 * -----------
 * - Rules (YAML key, parameters, default):
 *     charge_neutral: true             sum of oxidation states is zero (|q| < 1e-6 e)
 *     electronegativity_order: true    every anion's element more electronegative (Pauling)
 *                                      than every cation's element
 *     tolerance_factor: [0.825, 1.059] Goldschmidt t window (Bartel et al.'s classification)
 *     bartel_tau: 4.18                 tau < max (Bartel et al., Sci. Adv. 5, eaav0693 (2019))
 *     radius_ratio: {tolerance: 0.2, upper: false, shell: 1.25}
 *                                      Pauling: r_cation / r_anion >= limit(CN) (1 - tolerance)
 *                                      for every cation; with upper, also below the next CN's
 *                                      limit x (1 + tolerance)
 *     min_distance: {factor: 0.7}      every pair at least factor x radius sum apart (the rule
 *                                      random_search uses; docs/generation.md); plain elements
 *                                      take covalent radii
 *     elements: {allowed: [..], forbidden: [..]}
 *   `true` takes the defaults; `false` (or leaving the key out) disables a rule.
 * - Radii are Shannon ionic radii (ms_shannon_lookup, nearest-CN rule). Tolerance factor and
 *   tau follow the conventions of Bartel's code (physics.md §4.2): A at CN 12, B and X at CN 6,
 *   i.e. the tabulated CN nearest to those. They apply to ABX3 compositions (two cations, one
 *   anion, ratio 1:1:3); A is the cation with the larger radius at CN 12. Other compositions
 *   skip these rules (outcome SKIP, which does not reject).
 * - Coordination numbers for radius_ratio come from the geometry: anions within shell x the
 *   distance of the nearest anion.
 * - A rule that cannot be evaluated for lack of data (an ion without a Shannon radius, an
 *   element without electronegativity) FAILS with a reason saying so, except where noted.
 * - Objects are immutable after creation; ms_prefilter_check is thread-safe. Not collective.
 */
#ifndef MATSCREEN_PREFILTER_H
#define MATSCREEN_PREFILTER_H

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/species.h"
#include "matscreen/yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_PREFILTER_MAX_RULES 16

typedef struct ms_prefilter ms_prefilter;

typedef enum { MS_RULE_PASS = 0, MS_RULE_FAIL = 1, MS_RULE_SKIP = 2 } ms_rule_outcome;

/** Outcome of one rule for one candidate. */
typedef struct {
  const char *rule; /**< rule name (the YAML key) */
  ms_rule_outcome outcome;
  double value;     /**< the rule's number (t, tau, worst ratio, worst distance /
                         minimum, net charge) or NaN */
  char reason[192]; /**< why it failed or was skipped; "" when it passed */
} ms_rule_result;

typedef struct {
  int pass;         /**< 1 when no rule failed */
  int first_failed; /**< index of the first failed rule, -1 if none */
  int nrules;
  ms_rule_result rules[MS_PREFILTER_MAX_RULES];
} ms_prefilter_result;

/**
 * Prefilter from the mapping of rules (the `rules:` of a prefilter stage). @p path names it
 * in messages ("funnel[0].rules"). Unknown rules are errors with a suggestion.
 */
ms_err ms_prefilter_create(ms_ynode *rules, const char *path, ms_prefilter **out);
void ms_prefilter_free(ms_prefilter **f);
/** Number of active rules and the name of rule @p k (in the order given). */
int ms_prefilter_nrules(const ms_prefilter *f);
const char *ms_prefilter_rule_name(const ms_prefilter *f, int k);
/**
 * 1 when rule @p k needs oxidation states (charges, ionic radii, the cation/anion split):
 * charge_neutral, electronegativity_order, tolerance_factor, bartel_tau, radius_ratio. 0 for
 * min_distance and elements, which also judge plain elements (min_distance with covalent
 * radii, Cordero et al. 2008). A campaign whose search space has plain elements refuses the
 * former (docs/generation.md).
 */
int ms_prefilter_rule_needs_ions(const ms_prefilter *f, int k);

/**
 * Apply every rule to @p c. Returns MS_SUCCESS whatever the verdict (see res->pass); errors
 * only for misuse.
 */
ms_err ms_prefilter_check(const ms_prefilter *f, const ms_cell *c, ms_prefilter_result *res);

/** Goldschmidt tolerance factor t = (rA + rX) / (sqrt(2) (rB + rX)), radii as above. */
ms_err ms_tolerance_factor(const ms_species *A, const ms_species *B, const ms_species *X,
                           double *t);
/** Bartel's tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB)); MS_ERR_INPUT unless rA > rB. */
ms_err ms_bartel_tau(const ms_species *A, const ms_species *B, const ms_species *X, double *tau);
/**
 * A, B and X of an ABX3 composition (see above); returns 0 when @p c is not ABX3 (or a radius
 * is missing), 1 otherwise.
 */
int ms_abx3_roles(const ms_cell *c, ms_species *A, ms_species *B, ms_species *X);
/** Pauling's lower radius-ratio limit for coordination @p cn (0 for cn <= 2; for CNs between
 *  the tabulated 3, 4, 6, 8, 12 the limit of the next lower one). */
double ms_radius_ratio_limit(int cn);

#ifdef __cplusplus
}
#endif
#endif
