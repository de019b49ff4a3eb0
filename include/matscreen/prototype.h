/**
 * @file prototype.h
 * @brief Structure prototypes (inputs/prototypes/NAME.yaml): Wyckoff sites with labels, built
 *        into cells for chosen ions with a lattice guessed from Shannon radii (the volume scan that
 *        refines it is in model.h).
 *
 * Conventions (units and lattice layout as in cell.h)
 * -----------
 * - A prototype is a space-group setting (spglib Hall number), a reference lattice (the
 *   parameters of a reference compound, which fix the axial ratios and angles), and Wyckoff
 *   sites. Each site has a label ("A", "B", "X"), a position written with free parameters
 *   ("[x, x, 0]" with x = 0.3048), the coordination number of the site (for radii) and the
 *   Wyckoff symbol ("4f", checked against the orbit size). Several sites may share a label
 *   (O1 and O2 of a perovskite are both "X"); a label is what a substitution chooses an ion
 *   for. docs/generation.md documents the file format; the library files are examples.
 * - Labels are indexed 0..nlabels-1 in order of first appearance in the file; sites
 *   0..nsites-1 in file order. Counts are atoms per conventional cell.
 * - Species: a prototype is built either for ions (one per label, with oxidation states) or
 *   for plain elements (no oxidation states, e.g. for intermetallics and for models that need
 *   no charges), never a mix. The reference compound of a file is likewise all ions or all
 *   plain elements (ms_prototype_reference_plain).
 * - Lattice guess (MS_PROTO_LATTICE_RADII), ions: the geometry of the reference compound is
 *   scaled isotropically by the factor s that best matches every cation-anion bond of the
 *   first coordination shell to the sum of Shannon ionic radii of the chosen ions (cation at
 *   its site's CN, anion at its site's CN): s = sum(d t) / sum(d^2) over the bonds, with d the
 *   reference bond length and t the radius sum. Plain elements: the cell volume is the sum of
 *   the atoms' volumes in their elemental solids (Zen's law, element table's atomic_volume),
 *   times V_ref / sum of the reference compound's atomic volumes when the reference compound
 *   is itself given as plain elements (so it is reproduced exactly). Axial ratios, angles and
 *   free parameters stay those of the reference compound. docs/generation.md tabulates guessed
 *   against measured lattice constants.
 * - Ownership: an ms_prototype is immutable after loading and may be shared read-only by
 *   threads; free it with ms_prototype_free(). Building is pure: the same prototype, ions and
 *   options always give the bitwise same cell. Not collective.
 */
#ifndef MATSCREEN_PROTOTYPE_H
#define MATSCREEN_PROTOTYPE_H

#include <stddef.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/match.h"
#include "matscreen/model.h"
#include "matscreen/species.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_PROTO_MAX_LABELS 8
#define MS_PROTO_MAX_SITES 16

typedef struct ms_prototype ms_prototype;

/**
 * Load a prototype by built-in NAME (inputs/prototypes/NAME.yaml, embedded, or from
 * MATSCREEN_DATA_DIR) or by FILE path (contains '/' or ends in .yaml/.yml). Unknown names fail
 * with MS_ERR_INPUT listing the library (with a did-you-mean); errors in a file are positioned
 * "FILE:LINE:COL: PATH: message".
 */
ms_err ms_prototype_load(const char *name_or_file, ms_prototype **out);
/** Parse a prototype from YAML text; @p source names it in messages. */
ms_err ms_prototype_parse(const char *text, size_t len, const char *source, ms_prototype **out);
/** Free and set *p = NULL; NULL-safe. */
void ms_prototype_free(ms_prototype **p);
/** Names of the built-in prototypes, sorted, NULL-terminated (static; thread-local). */
const char *const *ms_prototype_builtin_names(int *count);
/** Load the whole built-in library, in the order of ms_prototype_builtin_names(): *lib
 *  (malloc'd, *n entries) for ms_prototype_identify() and the hull's references; free it with
 *  ms_prototype_library_free(). On failure nothing is left allocated. */
ms_err ms_prototype_library_load(ms_prototype ***lib, int *n);
/** Free a library from ms_prototype_library_load(); NULL-safe, sets *lib = NULL. */
void ms_prototype_library_free(ms_prototype ***lib, int n);

const char *ms_prototype_name(const ms_prototype *p);
const char *ms_prototype_description(const ms_prototype *p);
/** Literature reference for the structure type and the parameters. */
const char *ms_prototype_reference(const ms_prototype *p);
/** Reference compound ("SrTiO3"). */
const char *ms_prototype_compound(const ms_prototype *p);
/** Space-group number; *hall (if not NULL) receives the Hall number of the setting. */
int ms_prototype_spacegroup(const ms_prototype *p, int *hall);
/** Label formula per conventional cell reduced by the gcd, e.g. "ABX3", "A2B2X7". */
const char *ms_prototype_formula(const ms_prototype *p);
/** Reference lattice (rows, Å) as given in the file. */
void ms_prototype_reference_lattice(const ms_prototype *p, double lattice[3][3]);

int ms_prototype_nlabels(const ms_prototype *p);
const char *ms_prototype_label(const ms_prototype *p, int k);
/** Index of label @p name, or -1. */
int ms_prototype_label_index(const ms_prototype *p, const char *name);
/** Atoms carrying label @p k per conventional cell. */
int ms_prototype_label_count(const ms_prototype *p, int k);
/** The reference compound's ion (or plain element) on label @p k. */
const ms_species *ms_prototype_reference_ion(const ms_prototype *p, int k);
/** 1 when the reference compound is given as plain elements (no oxidation states). */
int ms_prototype_reference_plain(const ms_prototype *p);
/** Groups of labels that a symmetry of the structure type permutes (e.g. B and Bp of the
 *  ordered double perovskite): ngroups, and the label indices of group @p k. */
int ms_prototype_nequiv(const ms_prototype *p);
int ms_prototype_equiv(const ms_prototype *p, int k, const int **labels);

/** One Wyckoff site of a prototype. */
typedef struct {
  int label;            /**< label index */
  const char *wyckoff;  /**< "4f" */
  int multiplicity;     /**< atoms per conventional cell */
  int cn;               /**< coordination number (for radii) */
  double frac[3];       /**< representative position with the default parameters */
  const char *position; /**< the position as written, "[x, x, 0]" */
  const char *params;   /**< the free parameters as written, "x=0.3048" ("" if none) */
} ms_prototype_site;

int ms_prototype_nsites(const ms_prototype *p);
/** Prototype site of atom @p atom of a built cell (conventional or primitive, as built), or
 *  -1 when out of range. */
int ms_prototype_site_of_atom(const ms_prototype *p, int primitive, int atom);
/** Atoms of the built cell (conventional or primitive). */
int ms_prototype_natoms(const ms_prototype *p, int primitive);
ms_err ms_prototype_site_info(const ms_prototype *p, int k, ms_prototype_site *out);

typedef enum {
  MS_PROTO_LATTICE_RADII = 0,    /**< scale from Shannon radii of the chosen ions (default) */
  MS_PROTO_LATTICE_REFERENCE = 1 /**< the reference compound's lattice as given */
} ms_proto_lattice;

typedef struct {
  ms_proto_lattice lattice; /**< how the lattice is chosen */
  int primitive;            /**< 1: the primitive cell (standard centring transformation);
                                 0: the conventional cell */
  double volume_scale;      /**< multiply the volume by this (1.0) */
} ms_proto_build_options;

void ms_proto_build_options_default(ms_proto_build_options *o);

/**
 * Isotropic scale factor of the reference lattice for @p ions (one per label: all ions with
 * oxidation states, or all plain elements), by the rules above. Fails with MS_ERR_INPUT naming
 * the species when ions and plain elements are mixed, an ion has no Shannon radius, an element
 * has no atomic volume, or (ions) no site is a cation bonded to an anion (all signs equal).
 */
ms_err ms_prototype_lattice_scale(const ms_prototype *p, const ms_species *ions, double *scale);

/**
 * Build the prototype for @p ions (one per label, index = label index). @p out must be
 * initialised; it is overwritten. Sites are ordered by prototype site, then by orbit image.
 * The cell label is "NAME:A=Sr2+,B=Ti4+,X=O2-".
 */
ms_err ms_prototype_build(const ms_prototype *p, const ms_species *ions,
                          const ms_proto_build_options *o, ms_cell *out);

/**
 * Which of the @p n prototypes of @p lib the structure @p c is. Every prototype with as many
 * labels as @p c has distinct species (and, with the matcher's space-group guard, the space
 * group of @p c: @p spacegroup at o->symprec, or <= 0 to have it computed here) is built
 * (reference lattice, primitive cell) with those species on its labels, in every assignment
 * that keeps the proportions of its formula, and compared with @p c by the structure matcher
 * with options @p o (match.h: volumes scaled). *best is the index of the first prototype that
 * matches with the smallest RMS displacement of its first mapping found (ties: the earlier
 * one) and *rms that RMS, or -1 and NaN when none matches. Errors only for invalid cells or
 * prototypes that cannot be built. Not collective; prototypes are only read.
 */
ms_err ms_prototype_identify(const ms_cell *c, int spacegroup, ms_prototype *const *lib, int n,
                             const ms_match_options *o, int *best, double *rms);

/**
 * Print a description for `matscreen info prototypes NAME`: space group, lattice, sites with
 * labels, Wyckoff symbols, positions, CN, the reference compound and the reference.
 */
ms_err ms_prototype_describe(const ms_prototype *p, FILE *fp);

#ifdef __cplusplus
}
#endif
#endif
