/**
 * @file species.h
 * @brief Elements and ions ("species"): element table, oxidation states, Shannon radii.
 *
 * Conventions
 * -----------
 * - A species is an element with an optional oxidation state in elementary charges,
 *   written "Ti4+", "O2-", "Na+", "Cl-", or a bare symbol "Ti" (no oxidation state).
 *   Fractional oxidation states ("Fe2.5+") are accepted for reading files.
 * - Element data (mass in u, Pauling electronegativity, oxidation states, Shannon radii in Å,
 *   atomic volume of the elemental solid in Å^3, covalent radius in Å) come from
 *   inputs/elements.yaml, which names its sources; the file is embedded in the
 *   program at build time and can be overridden with the MATSCREEN_DATA_DIR environment
 *   variable (a directory laid out like inputs/).
 * - ms_elements_load() must be called once before any lookup (ms_initialize does it); after
 *   that the table is read-only and lookups are thread-safe. Not collective.
 * - Coordination numbers are integers (Shannon's roman numerals: VI -> 6, IVSQ -> 4 with the
 *   square-planar flag). Spin is MS_SPIN_NONE, MS_SPIN_HIGH or MS_SPIN_LOW.
 */
#ifndef MATSCREEN_SPECIES_H
#define MATSCREEN_SPECIES_H

#include <stddef.h>

#include "matscreen/error.h"

#define MS_MAX_Z 118

typedef struct {
  int Z;            /**< atomic number, 1..118 */
  int has_ox;       /**< 1 when an oxidation state is given */
  double ox;        /**< oxidation state in e (integer in practice; may be fractional) */
} ms_species;

typedef struct {
  int Z;
  char symbol[4];
  char name[24];
  double mass;               /**< atomic mass in u */
  double electronegativity;  /**< Pauling; NaN when the source has none (noble gases) */
  int n_common_ox;
  int common_ox[8];
  int n_ox;
  int ox[16];
  double atomic_volume;      /**< Å^3 per atom of the elemental solid (WebElements molar
                                  volume); NaN when the table has none */
  double covalent_radius;    /**< Å (Cordero et al., Dalton Trans. 2008, 2832); NaN when none */
  char structure[16];        /**< crystal structure of the standard state ("fcc", "bcc", "hcp",
                                  "diamond", "diatom", ...; ASE's reference states); "" when none */
} ms_element;

typedef enum { MS_SPIN_NONE = 0, MS_SPIN_HIGH = 1, MS_SPIN_LOW = 2 } ms_spin;

typedef struct {
  int Z;
  int ox;
  int cn;            /**< coordination number */
  int square_planar; /**< Shannon's "IVSQ" */
  ms_spin spin;
  double ionic;      /**< Shannon ionic radius, Å */
  double crystal;    /**< Shannon crystal radius, Å */
  int pyramidal;     /**< Shannon's "IIIPY"/"IVPY" (lone-pair pyramidal, e.g. Pb2+, Sb3+) */
} ms_shannon_radius;

/** Load the element table (embedded data or MATSCREEN_DATA_DIR). Idempotent. */
ms_err ms_elements_load(void);
/** Free the table (at finalize). */
void ms_elements_unload(void);

/** Element by atomic number, NULL if out of range or the table is not loaded. */
const ms_element *ms_element_by_z(int Z);
/** Element by symbol (case-sensitive "Ti"; also accepts "TI"/"ti"); NULL if unknown. */
const ms_element *ms_element_by_symbol(const char *symbol);

/**
 * Shannon radius of (Z, ox) at coordination @p cn.
 * If @p cn is not tabulated, the nearest tabulated CN is used (ties go to the larger CN) and
 * *cn_used says which; spin MS_SPIN_NONE accepts any spin entry, preferring high spin.
 * Returns MS_ERR_INPUT (with a message naming the ion) if the ion has no Shannon entry.
 * Details: with MS_SPIN_HIGH or MS_SPIN_LOW only entries of that spin or without a spin
 * designation count, so the nearest CN is searched among those (low-spin Fe2+ at CN 4 gives
 * the CN 6 low-spin radius, *cn_used = 6). At one CN a regular-geometry entry is preferred
 * over a square-planar or pyramidal one. @p cn_used may be NULL. Not collective.
 */
ms_err ms_shannon_lookup(int Z, int ox, int cn, ms_spin spin, ms_shannon_radius *out,
                         int *cn_used);
/** All tabulated radii (for `matscreen info species`), sorted by Z, ox, CN, geometry, spin. */
const ms_shannon_radius *ms_shannon_table(size_t *count);
/** One line naming the data source (package, Shannon 1976, Pauling) for output headers;
 *  "" when the table is not loaded. */
const char *ms_elements_source(void);

/**
 * Parse "Ti4+", "O2-", "Na+", "Cl-", "Fe2.5+", "Ti" (also "Ti+4" as VESTA writes it).
 * On failure returns MS_ERR_INPUT with a message naming the text. Element symbols are matched
 * as ms_element_by_symbol() does; the element table is loaded on first use if needed.
 * A number without a sign ("Ti4") is rejected (it is usually a site label); |ox| <= 12.
 */
ms_err ms_species_parse(const char *text, ms_species *out);
/** Format as "Ti4+" / "O2-" / "Na+" / "Ti" ("Fe2.5+": up to 6 significant digits).
 *  Returns @p buf. */
char *ms_species_format(const ms_species *sp, char *buf, size_t len);
/** 1 if the two species are equal (same element and oxidation state, or both without one);
 *  oxidation states are compared to within 1e-6. */
int ms_species_equal(const ms_species *a, const ms_species *b);

#endif
