/**
 * @file hull.h
 * @brief Compositions, and thermodynamic stability from the lower convex hull of
 *        (composition, energy per atom) for any number of components.
 *
 * Conventions (in addition to those of cell.h)
 * -----------
 * - An entry is a species composition (amounts of species such as "Sr2+" or bare elements,
 *   any positive scale) and an energy per atom in eV/atom. The hull works on ELEMENT
 *   compositions: oxidation states are dropped after ms_hull_add() has recorded them for the
 *   one-oxidation-state-per-element check (see docs/stability.md for why that check exists).
 * - Components are either the elements (default: every element that occurs in some entry) or
 *   end members set with ms_hull_set_end_members() (e.g. SrO and TiO2 for an ionic-model
 *   Sr-Ti-O screen whose elemental references cannot be computed). A composition is a point in
 *   the simplex of atom fractions of the components; energies are per atom throughout, so
 *   mixtures follow the lever rule in atom fractions.
 * - The reference of a component is its lowest-energy entry (ties: the first added). A
 *   missing reference is an error (MS_ERR_INPUT) naming the component.
 * - Formation energy per atom: E - sum_k x_k E_ref,k. Energy above hull: E - E_hull(x), where
 *   E_hull is the lower convex hull of all entries; it is >= 0, and exactly 0 for the hull's
 *   vertices and for entries of the same composition and energy as a vertex; entries within
 *   MS_HULL_EPS (1e-10 eV/atom) of the hull are not made vertices and report at most that.
 * - Decomposition: the vertices of the hull facet under the entry with their barycentric
 *   weights (atom fractions summing to 1), i.e. the stable phases whose mixture has the
 *   entry's composition and energy E_hull; weights below 1e-12 are dropped.
 * - Entries are numbered 0..n-1 in the order they were added. Not collective: an ms_hull
 *   belongs to one rank (gather the entries first; 10^6 entries fit easily).
 */
#ifndef MATSCREEN_HULL_H
#define MATSCREEN_HULL_H

#include <stddef.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/species.h"

/** Distinct species in one composition. */
#define MS_COMPOSITION_MAX 16
/** Components (elements or end members) of one hull. */
#define MS_HULL_MAX_COMPONENTS 16
/** Points closer than this to the hull (eV/atom) are treated as lying on it. */
#define MS_HULL_EPS 1e-10

/** A species composition: amounts (atoms per formula unit, any positive scale). */
typedef struct {
  int n;
  ms_species sp[MS_COMPOSITION_MAX];
  double amount[MS_COMPOSITION_MAX];
} ms_composition;

/**
 * Parse a formula: element symbols with optional counts, nested parentheses and decimals
 * ("SrTiO3", "Sr2TiO4", "O2", "Ca(OH)2", "Li0.5CoO2"); the species have no oxidation state
 * (compositions with charges come from structures, ms_composition_from_cell). Repeated
 * elements are summed. On failure returns MS_ERR_INPUT with a message naming the text and the
 * position. Not collective.
 */
ms_err ms_composition_parse(const char *formula, ms_composition *out);
/** The species composition of a cell (site counts). */
ms_err ms_composition_from_cell(const ms_cell *c, ms_composition *out);
/** Reduced element formula as ms_cell_formula writes it ("SrTiO3"). */
ms_err ms_composition_formula(const ms_composition *c, char *buf, size_t len);
/** Total number of atoms (sum of amounts). */
double ms_composition_natoms(const ms_composition *c);

/**
 * One-oxidation-state-per-element check over @p n compositions: MS_ERR_INPUT naming the
 * element, both oxidation states and the two entry indices if some element occurs with two
 * different oxidation states; species without an oxidation state are not checked.
 */
ms_err ms_composition_check_oxidation(const ms_composition *comps, size_t n);

typedef struct ms_hull_s *ms_hull;

/** New empty hull. */
ms_err ms_hull_create(ms_hull *out);
/** Free the hull; NULL-safe; sets *h = NULL. */
void ms_hull_destroy(ms_hull *h);

/**
 * Use end members instead of elements as components (before the first ms_hull_compute).
 * They must be linearly independent element compositions; every entry must then be a
 * non-negative combination of them (MS_ERR_INPUT at compute time otherwise, naming the
 * entry). Each end member needs an entry of its composition (its reference).
 */
ms_err ms_hull_set_end_members(ms_hull h, int n, const ms_composition *members);

/**
 * Allow one element in several oxidation states. By default ms_hull_compute() refuses such
 * a set, because ionic-model energies of Fe2+ and Fe3+ phases are not comparable without
 * correction energies; set this when the energies include such corrections.
 */
void ms_hull_allow_mixed_oxidation(ms_hull h, int allow);

/** Add an entry; *index (may be NULL) receives its number. Energies must be finite. */
ms_err ms_hull_add(ms_hull h, const ms_composition *comp, double energy_per_atom, size_t *index);
/** Number of entries. */
size_t ms_hull_size(const ms_hull h);

/**
 * Build the lower hull and evaluate every entry. Cost: O(n) to find per-composition minima,
 * a quickhull-style incremental construction on those minima that lie below the reference
 * plane, and a walk through the facets per entry. Idempotent; entries added later need
 * another call.
 */
ms_err ms_hull_compute(ms_hull h);

/** Number of components and their names ("Sr", or end-member formulas "SrO"). */
int ms_hull_ncomponents(const ms_hull h);
const char *ms_hull_component_name(const ms_hull h, int k);
/** Entry index of the reference of component k. */
size_t ms_hull_reference(const ms_hull h, int k);

/** Results for one entry (after ms_hull_compute). */
typedef struct {
  double e_above_hull;      /**< eV/atom, >= 0 */
  double formation_energy;  /**< eV/atom relative to the component references */
  double hull_energy;       /**< E_hull at the entry's composition, eV/atom */
  int stable;               /**< 1 if the entry is a vertex of the hull */
  int ndecomp;              /**< number of products */
  size_t decomp[MS_HULL_MAX_COMPONENTS];     /**< entry indices of the products */
  double fraction[MS_HULL_MAX_COMPONENTS];   /**< atom fractions of the products, sum 1 */
} ms_hull_result;

ms_err ms_hull_result_get(const ms_hull h, size_t i, ms_hull_result *r);
/** e_above_hull of entry i (eV/atom) without the decomposition; NAN before compute. */
double ms_hull_e_above(const ms_hull h, size_t i);
/** Stable entries (hull vertices), sorted by index; the array is owned by the hull. */
const size_t *ms_hull_stable(const ms_hull h, size_t *count);
/** Atom fractions of the components for entry i (ncomponents values). */
ms_err ms_hull_entry_fractions(const ms_hull h, size_t i, double *x);
/** Number of hull facets (for diagnostics and tests). */
size_t ms_hull_nfacets(const ms_hull h);

#endif
