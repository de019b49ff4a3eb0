/* Keep rules between funnel stages (internal to src/driver); see keep.c.
 *
 * Conventions
 * - Energies in eV/atom. An entry is (energy, id, formula); ids break ties in energy, -0
 *   ranks just before +0, and an entry with a non-finite energy never survives.
 * - The rules live once, in the streaming form (ms__ks_*); ms__keep_apply() runs it over
 *   arrays, and ms__keep_hull_passes() is the hull stage's rule. Order: max_energy_per_atom,
 *   then max_above_best (against the best of the same formula among the entries passing
 *   max_energy_per_atom), then top_k / top_fraction (rounded up) of the entries left.
 * - The decisions depend only on the multiset of entries, never on how they are spread over
 *   the ranks nor on the number of ranks.
 * - Collective calls say so; every rank calls them in the same order, and a failure on one
 *   rank is returned on every rank (ms_err_agree). Not thread-safe. */
#ifndef MS_DRIVER_KEEP_H
#define MS_DRIVER_KEEP_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/campaign.h"
#include "matscreen/error.h"

#define MS_KEEP_FORMULA 32

/** The rule in words for reasons and logs ("top_k 80, max_energy_above_best 0.5 eV/atom"). */
void ms__keep_describe(const ms_keep_rule *r, char *buf, size_t n);

/**
 * Collective. On entry keep[k] = 1 marks the entries eligible for this stage (others stay 0);
 * on return keep[k] = 1 for the survivors. Entries with a non-finite energy never survive.
 * It runs the streaming form below over the arrays. @p formula may be NULL when the rule has
 * no max_above_best.
 */
ms_err ms__keep_apply(MPI_Comm comm, const ms_keep_rule *rule, int64_t n, const double *e,
                      const int64_t *id, const char (*formula)[MS_KEEP_FORMULA],
                      unsigned char *keep);

/**
 * The same decisions for entries that are read in passes instead of held in memory (the
 * records of phase A live in the checkpoint log): pass 1 ms__ks_observe() every eligible entry,
 * ms__ks_reduce(); pass 2 ms__ks_offer() every eligible entry again; ms__ks_select(). Memory is
 * bounded by the number of survivors the rule can keep (top_k, or top_fraction of the
 * eligible count), not by the number of entries. Collective: reduce and select.
 */
typedef struct {
  double e;
  int64_t id;
  double aux; /* carried through to the survivors (the volume scale) */
} ms_keep_item;

typedef struct {
  const ms_keep_rule *rule;
  void *best;                 /* best energy per formula (local, then global) */
  int64_t nbest, capbest, nbest_compact;
  long long eligible;         /* global count after ms__ks_reduce */
  long long bound;            /* most survivors the rule can keep */
  long long passing;          /* local entries offered that passed the absolute rules */
  ms_keep_item *v;
  int64_t n, cap;
} ms_keep_stream;

ms_err ms__ks_init(ms_keep_stream *s, const ms_keep_rule *rule);
ms_err ms__ks_observe(ms_keep_stream *s, double e, const char *formula);
ms_err ms__ks_reduce(ms_keep_stream *s, MPI_Comm comm);
ms_err ms__ks_offer(ms_keep_stream *s, double e, int64_t id, const char *formula, double aux);
/** Collective. On return s->v[0..s->n) are this rank's survivors, sorted by id. */
ms_err ms__ks_select(ms_keep_stream *s, MPI_Comm comm);
void ms__ks_free(ms_keep_stream *s);

/**
 * The hull stage's rule on one entry: 1 when @p rule has no max_e_above_hull or
 * @p e_above_hull (eV/atom) is at most it; a NaN distance never passes a set rule. Not
 * collective.
 */
int ms__keep_hull_passes(const ms_keep_rule *rule, double e_above_hull);

/**
 * By how much @p e misses the relative bounds of @p rule: the largest of e - (best +
 * max_above_best) and e - (hull + max_e_above_hull), over the bounds that are set and whose
 * reference (@p best: the best energy of the same formula; @p hull: the hull's energy at the
 * composition) is finite; -HUGE_VAL when none applies or @p e is not finite. A value <= 0
 * passes. The surrogate stage ranks and keeps its predictions by it. Not collective.
 */
double ms__keep_excess(const ms_keep_rule *rule, double e, double best, double hull);

#endif
