/**
 * @file potential.h
 * @brief Interatomic potential sets (inputs/potentials/NAME.yaml): charges, short-range pair
 *        terms with citations, catastrophe guards; binding a set to a structure's species.
 *
 * Conventions
 * -----------
 * - Units as everywhere (Å, eV, e). Parameters in the files carry their unit in the key name
 *   ("A_eV", "rho_A", "cutoff_A"); the file format is documented in docs/models.md
 *   ("Short-range terms and potential library") and by the library files themselves.
 * - A potential covers a list of species ("Sr2+", "O2-"), or any species with an oxidation
 *   state (`species: any`, the pure Coulomb model). Charges follow the file's charge model:
 *   "formal" (each ion carries its oxidation state, which for a covered species is the one in
 *   its label) or a per-species table (partial charges, e.g. Pedone's 0.6 x formal).
 * - Matching a structure's species: a species with an oxidation state must match a covered
 *   species exactly (element and oxidation state). A species without one (bare "Sr") matches
 *   when the potential covers exactly one ion of that element, and takes its charge. Anything
 *   else is an MS_ERR_INPUT naming the species and the potential.
 * - Short-range terms are given per species pair; several terms on one pair add up. Each has
 *   its own cutoff (truncated; optionally shifted) and a citation. Pairs without terms
 *   interact by Coulomb only.
 * - Guards: every species pair gets a catastrophe guard radius at load time, from the file
 *   (`guard: {r_min_A: X}`) or automatically (barrier top of the bare pair energy with the
 *   potential's charges plus a margin, see pair.h), or none (`guard: none`).
 * - Ownership: an ms_potential is immutable after loading and may be shared read-only by
 *   threads; free it with ms_potential_free(). Borrowed strings live as long as it does.
 * - Not collective: load on every rank (the embedded files are identical everywhere), or load
 *   on rank 0 and agree on the error with ms_err_agree() before going on.
 */
#ifndef MATSCREEN_POTENTIAL_H
#define MATSCREEN_POTENTIAL_H

#include <stddef.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/pair.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_potential ms_potential;

/** How charges are assigned. */
typedef enum {
  MS_CHARGES_FORMAL = 0, /**< the oxidation states of the ions */
  MS_CHARGES_TABLE = 1   /**< a per-species charge table in the file */
} ms_charge_model;

/**
 * Load a potential by built-in NAME ("bush1994": the embedded inputs/potentials/NAME.yaml,
 * or the file under MATSCREEN_DATA_DIR) or by FILE path. The argument is taken as a path
 * when it contains '/' or ends in ".yaml"/".yml"; an unknown name fails with MS_ERR_INPUT
 * listing the built-in names (with a did-you-mean). Errors in the file are positioned
 * ("bush1994.yaml:41:5: pairs[3].rho_A must be > 0 Å, got -0.3").
 */
ms_err ms_potential_load(const char *name_or_file, ms_potential **out);
/** Parse a potential from YAML text; @p source names it in messages. */
ms_err ms_potential_parse(const char *text, size_t len, const char *source, ms_potential **out);
/** Free and set *p = NULL; NULL-safe. */
void ms_potential_free(ms_potential **p);

/**
 * Names of the built-in potentials ("bush1994", "coulomb", ...), sorted, NULL-terminated.
 * The array is static (thread-local), valid until the next call on this thread.
 */
const char *const *ms_potential_builtin_names(int *count);

const char *ms_potential_name(const ms_potential *p);
/** The `description` text of the file. */
const char *ms_potential_description(const ms_potential *p);
/** Where it was read from: "embedded potentials/bush1994.yaml" or a path. */
const char *ms_potential_source(const ms_potential *p);
ms_charge_model ms_potential_charge_model(const ms_potential *p);
/** Recommended relative accuracy for the Coulomb sum (the `coulomb.accuracy` key). */
double ms_potential_coulomb_accuracy(const ms_potential *p);
/** Largest short-range cutoff (Å); 0 when there are no short-range terms. */
double ms_potential_max_cutoff(const ms_potential *p);
/** 1 when the potential accepts any species with an oxidation state (`species: any`). */
int ms_potential_any_species(const ms_potential *p);

/** Number of covered species (0 with `species: any`). */
int ms_potential_nspecies(const ms_potential *p);
/** Covered species @p k: label as written ("Sr2+"); *sp and *charge (e) when not NULL. */
const char *ms_potential_species(const ms_potential *p, int k, ms_species *sp, double *charge);
/** "Li+, Na+, ..., O2-" (or "any species with an oxidation state"). Returns @p buf. */
char *ms_potential_covers(const ms_potential *p, char *buf, size_t len);

/** Citations of the file: number, and key/text of entry @p k. */
int ms_potential_ncitations(const ms_potential *p);
const char *ms_potential_citation(const ms_potential *p, int k, const char **key);

/** One short-range term as loaded. */
typedef struct {
  const char *species[2];   /**< labels, e.g. {"Ti4+", "O2-"} */
  const ms_pair_term *term; /**< form, parameters, cutoff, shift */
  const char *citation;     /**< full citation text (the file's `citations` entry) */
  const char *citation_key; /**< its key */
  int line;                 /**< line of the entry in the source file */
  double guard_r;           /**< guard radius of this species pair, Å (0: none) */
  double barrier_r;         /**< barrier top of the bare pair energy, Å (0: none) */
  double barrier_e;         /**< bare pair energy at the barrier top, eV */
  double core_eV;           /**< repulsive core strength (0: none) */
} ms_potential_term_info;

int ms_potential_nterms(const ms_potential *p);
ms_err ms_potential_term(const ms_potential *p, int k, ms_potential_term_info *info);

/**
 * Guard of the species pair (a, b) given by labels ("O2-", "O2-"): radius (Å), barrier top (Å)
 * and core strength (eV); zeros when there is none. MS_ERR_INPUT if a label is not covered.
 */
ms_err ms_potential_guard(const ms_potential *p, const char *a, const char *b, double *r_min,
                          double *barrier_r, double *core_eV);

/**
 * Whether @p sp is covered (the matching rules above): MS_SUCCESS, or MS_ERR_INPUT with the
 * message ms_potential_bind() would give for a structure containing it.
 */
ms_err ms_potential_match(const ms_potential *p, const ms_species *sp);

/**
 * Bind to cell @p c: charges per kind (charge[k] in e for k < c->nkinds) and the short-range
 * pair table indexed by the cell's kinds, with guards and the overlap distance. @p table must
 * be initialised (ms_pair_table_init) and is reused (arrays grow only), so binding many
 * structures allocates nothing in the steady state. An uncovered species fails with
 * MS_ERR_INPUT: "potential 'bush1994' has no parameters for Zn2+ (covers: ...)".
 */
ms_err ms_potential_bind(const ms_potential *p, const ms_cell *c,
                         double charge[MS_CELL_MAX_KINDS], ms_pair_table *table);

/**
 * Human-readable description for `matscreen info potentials NAME`: name, source, description,
 * caveats, charge model and charges, every term with parameters, units, cutoff, guard and
 * citation. Not collective (call on rank 0).
 */
ms_err ms_potential_describe(const ms_potential *p, FILE *fp);

#ifdef __cplusplus
}
#endif
#endif /* MATSCREEN_POTENTIAL_H */
