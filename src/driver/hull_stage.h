/* The hull stage's state and the functions the hull's files share (internal to src/driver):
 * stage_hull.c (options, the stage's pass, /hull), hull_plan.c (what the references will be,
 * decided before any work), hull_refs.c (the elements-mode references). The surrogate stage
 * borrows ms__fn_hull_references for its rule against the hull. */
#ifndef MS_DRIVER_HULL_STAGE_H
#define MS_DRIVER_HULL_STAGE_H

#include <stdio.h>

#include "funnel_impl.h"
#include "hull_refs.h"

/* /hull per chemical system: the systems of the hull entries and their stable phases. */
typedef struct {
  char name[64];           /* elements sorted alphabetically, joined by '-': "O-Sr-Ti" */
  int64_t entries, stable; /* candidates of the system at the hull stage, and on the hull */
} hull_system;
typedef struct {
  char system[64];
  char formula[32];
  char source[48];         /* "candidate", or the reference's prototype / file / "csv entry" */
  int64_t id;              /* candidate id, -1 for a reference phase */
  double energy;           /* eV/atom */
} hull_row;

typedef struct {
  int item;                /* its funnel item */
  ms_hull_ref *refs;
  int nrefs, nends;        /* reference phases; the first nends are the end members */
  char **ref_paths;        /* hull.references.structures (resolved paths) */
  int nref_paths;
  char *ref_csv;           /* hull.references.entries */
  int refs_elements;       /* the hull's components are the elements (the relax model needs no
                              charges; hull_plan.c), else the binary end members */
  ms_refs_options refs_opt; /* hull.references: which binaries (elements mode) */
  ms_ref_job *plan;        /* elements mode: every reference the search space may need */
  int nplan;
  unsigned char *ref_stable; /* per reference: on the hull */
  hull_system *hsys;       /* chemical systems of the hull entries, sorted by name */
  int64_t nhsys;
  hull_row *hrows;         /* stable phases per system */
  int64_t nhrows;
  int64_t *stable_ids, nstable;
} hull_state;

/* Not collective (the campaign alone decides): the hull's kind and the references the search
 * space may need, checked before any work: the component limit, one anion and a library
 * prototype for every end member (end-member hulls), and the prototypes named by
 * hull.references.binaries. Errors point at the hull stage's YAML node. */
ms_err ms__fn_hull_plan(run_ctx *x, hull_state *h);
/* The chemical system of species sp[0..n): distinct element symbols in alphabetical order
 * joined by '-' ("Al-Ni-Ti"), as /hull/systems names them. Not collective. */
void ms__fn_system_name(const ms_species *sp, int n, char *buf, size_t len);
/* Rank 0 of `check`: per chemical system of the search space, the references and how many
 * relaxations they cost. */
void ms__fn_hull_plan_print(const run_ctx *x, const hull_state *h, FILE *fp);
/* Collective: the elements-mode references for entries of compositions comps[0..n) (the same
 * on every rank): the planned jobs whose species all occur together in some entry. */
ms_err ms__fn_hull_refs_elements(run_ctx *x, hull_state *h, const ms_composition *comps, int64_t n,
                                 ms_hull_ref **refs, int *nrefs, int *nends);
/* Collective: the hull's reference phases for entries of compositions comps[0..n) (the same on
 * every rank): the automatic ones (the elements and binaries, or the end members of the
 * cations; the first *nends) and the user's (hull.references). The campaign must have a hull. */
ms_err ms__fn_hull_references(run_ctx *x, const ms_composition *comps, int64_t n, ms_hull_ref **refs, int *nrefs,
                              int *nends);
/* Whether the hull's components are the elements (0 without a hull stage). */
int ms__fn_hull_over_elements(const run_ctx *x);

#endif
