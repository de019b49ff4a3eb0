/* Internals shared by the generators and the prefilters (not installed). */
#ifndef MS_GEN_IMPL_H
#define MS_GEN_IMPL_H

#include <stdint.h>

#include "matscreen/generator.h"
#include "matscreen/species.h"
#include "matscreen/yaml.h"

#define MS__GEN_MAX_SPECIES 8

/* The built-in generator records (generators.def). */
#define MS_GENERATOR(name) extern const ms_generator_info ms__generator_##name;
#include "generators.def"
#undef MS_GENERATOR

/* A composition: species with oxidation states and counts per formula unit. */
typedef struct {
  int n;
  ms_species sp[MS__GEN_MAX_SPECIES];
  int count[MS__GEN_MAX_SPECIES];
  char formula[64]; /* as written */
} ms__composition;

/* Parse "SrTiO3", "Ba2MgWO6" (element symbols and integer counts, no parentheses) at @p node.
 * Oxidation states: @p ox_by_Z[Z] when has_ox_by_Z[Z], otherwise guessed from the elements'
 * common oxidation states (a unique neutral assignment with anions more electronegative than
 * cations), else an error asking for `oxidation_states`. With @p plain the species stay plain
 * elements (no oxidation states, no neutrality) and the two tables are ignored. */
ms_err ms__composition_parse(const ms_ynode *node, const char *path, const int *ox_by_Z,
                             const unsigned char *has_ox_by_Z, int plain, ms__composition *c);

/* Element counts of formula @p text ("Ni3Al") into count[Z] (zeroed first); returns the number
 * of distinct elements, or -1 with *why set when the text is not a formula (same syntax as
 * ms__composition_parse). */
int ms__formula_counts(const char *text, int count[MS_MAX_Z + 1], char *why, size_t len);

/* Shannon ionic radius of an ion at coordination @p cn (nearest tabulated CN); MS_ERR_INPUT
 * naming the ion when it has no oxidation state or no radius. */
ms_err ms__ion_radius(const ms_species *sp, int cn, double *r);

/* Default minimum separation (Å) of two ions from radii (docs/generation.md):
 *   opposite signs or two anions: factor * (r_a + r_b);
 *   two cations: factor * (r_a + r_b + 2 r_x) / sqrt(2), r_x = @p anion_radius (the pair's
 *   typical distance across a shared anion), or factor * (r_a + r_b) when anion_radius <= 0.
 * Radii: Shannon ionic radii at CN 6. */
double ms__pair_min_separation(const ms_species *a, double ra, const ms_species *b, double rb,
                               double anion_radius, double factor);

/* Parse an ion ("Ti4+") at @p node; it must have an oxidation state. */
ms_err ms__y_ion(const ms_ynode *node, const char *path, ms_species *out);
/* Parse an ion ("Ti4+", integer oxidation state) or a plain element ("Ni") at @p node. */
ms_err ms__y_species(const ms_ynode *node, const char *path, ms_species *out);
/* The error for a species of the other kind than the item's first one: ions and plain elements
 * do not mix within one search item. @p node / @p path locate the offending species, @p first
 * names the first one ("'Ni' (search[0].sites.A[0])"). Returns MS_ERR_INPUT. */
ms_err ms__mixed_species_error(const ms_ynode *node, const char *path, const ms_species *sp,
                               const char *first);

/* Radius of a species for minimum separations: Shannon ionic radius at @p cn for an ion,
 * covalent radius (Cordero et al. 2008) for a plain element; MS_ERR_INPUT naming it when the
 * table has none. */
ms_err ms__species_radius(const ms_species *sp, int cn, double *r);

/* Add @p sp to the distinct species out[0..*n) (written while *n < max; *n counts them all):
 * the generators' species() ops. */
void ms__species_collect(ms_species *out, int *n, int max, const ms_species *sp);

/* splitmix64: the finaliser used to derive item seeds. */
uint64_t ms__splitmix64(uint64_t x);

#endif
