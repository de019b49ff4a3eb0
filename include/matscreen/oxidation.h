/**
 * @file oxidation.h
 * @brief Guessing oxidation states of a structure that has none, for models that need charges.
 *
 * Conventions
 * -----------
 * - Only cells without any oxidation state are changed; every site of an element gets the same
 *   state (an average, possibly fractional, as in Fe3O4 -> Fe2.667+, the form pymatgen's
 *   add_oxidation_state_by_guess gives).
 * - The rule (deterministic; src/core/oxidation.c and docs/models.md "Oxidation states"):
 *   charge-neutral assignments of the elements' known oxidation states (element table,
 *   species.h), an element only on the side (sign) of one of its common states, one cation at a
 *   time possibly at the average of two of its states; only assignments in which every element
 *   with a negative state is more electronegative than every element with a positive one; the
 *   best has the fewest elements off their common states, then the fewest mixed-valence ones,
 *   then the least total charge. No such assignment (an intermetallic such as NiAl, an element,
 *   a superoxide): an error saying so.
 * - Needs the element table (ms_elements_load). Not collective; thread-safe.
 */
#ifndef MATSCREEN_OXIDATION_H
#define MATSCREEN_OXIDATION_H

#include <stddef.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

/**
 * Give every species of @p c an oxidation state by the rule above, when the cell has none.
 * @p summary (may be NULL) receives e.g. "Fe3+ O2-". Cells that already carry oxidation states
 * are left as they are (MS_SUCCESS, summary ""). MS_ERR_INPUT with the reason when no
 * assignment fits; the cell is then unchanged.
 */
ms_err ms_cell_guess_oxidation_states(ms_cell *c, char *summary, size_t len);

#endif
