/* Which library prototype a structure is (prototype.h, ms_prototype_identify).
 *
 * The structure's distinct species are put on the prototype's labels in every way that keeps
 * the proportions of the prototype's formula (Sr:Ti:O = 1:1:3 on A:B:X of ABX3 gives A=Sr, B=Ti
 * and A=Ti, B=Sr), the prototype is built with those ions on its reference lattice (the matcher
 * scales volumes, so the lattice only has to have the right shape), and the two are compared
 * with the structure matcher. The structure is prepared once. With the matcher's space-group
 * guard, only prototypes of the structure's space group are built, and since that settles the
 * guard, the matcher runs without it: spglib is the slow part of preparing a structure (25 ms
 * for a 10-site Fm-3m cell), and the caller usually knows the space group already. The best
 * match is the one with
 * the smallest RMS displacement, so a slightly distorted structure that matches both a parent
 * and a distorted prototype gets the closer one (the space-group guard of the matcher keeps
 * apart prototypes of different space groups at its tolerance). */
#include <math.h>
#include <string.h>

#include "matscreen/prototype.h"
#include "matscreen/symmetry.h"

#define MAX_SPECIES MS_PROTO_MAX_LABELS

typedef struct {
  const ms_cell *c;
  const ms_match_options *o;
  const ms_match_prep *prep;
  const ms_prototype *p;
  int nsp, count[MAX_SPECIES], label_of[MAX_SPECIES], used[MAX_SPECIES];
  ms_species sp[MAX_SPECIES];
  double best_rms;
  int found;
} search;

/* Build the prototype with the current assignment and compare. */
static ms_err try_assignment(search *s) {
  ms_species ions[MS_PROTO_MAX_LABELS];
  for (int k = 0; k < s->nsp; ++k) ions[s->label_of[k]] = s->sp[k];
  ms_proto_build_options bo;
  ms_proto_build_options_default(&bo);
  bo.lattice = MS_PROTO_LATTICE_REFERENCE;
  bo.primitive = 1;
  ms_cell built;
  ms_cell_init(&built);
  ms_match_prep bp;
  ms_match_prep_init(&bp);
  ms_err e = ms_prototype_build(s->p, ions, &bo, &built);
  if (!e) e = ms_match_prepare(&built, s->o, &bp);
  ms_match_result r;
  if (!e) e = ms_match_prepared(s->prep, &bp, s->o, 0, &r);
  if (!e && r.match && isfinite(r.rms) && (!s->found || r.rms < s->best_rms)) {
    s->found = 1;
    s->best_rms = r.rms;
  }
  ms_match_prep_free(&bp);
  ms_cell_free(&built);
  return e;
}

/* Assign species k.. to free labels whose counts keep the proportions set by species 0. */
static ms_err assign(search *s, int k) {
  if (k == s->nsp) return try_assignment(s);
  for (int l = 0; l < s->nsp; ++l) {
    if (s->used[l]) continue;
    long long lc = ms_prototype_label_count(s->p, l), l0 = k ? ms_prototype_label_count(s->p, s->label_of[0]) : 0;
    if (k && (long long)s->count[k] * l0 != (long long)s->count[0] * lc) continue;
    s->used[l] = 1;
    s->label_of[k] = l;
    ms_err e = assign(s, k + 1);
    s->used[l] = 0;
    if (e) return e;
  }
  return MS_SUCCESS;
}

ms_err ms_prototype_identify(const ms_cell *c, int spacegroup, ms_prototype *const *lib, int n,
                             const ms_match_options *o, int *best, double *rms) {
  MS_CHECK(c && (lib || n == 0) && o && best && rms, MS_ERR_ARG, "ms_prototype_identify: NULL argument");
  *best = -1;
  *rms = NAN;
  if (o->check_spacegroup && spacegroup <= 0 &&
      ms_spacegroup(c, o->symprec, o->sg_angle_tol, &spacegroup, NULL) != MS_SUCCESS) {
    ms_err_clear();
    return MS_SUCCESS; /* no space group at this tolerance: it equals no prototype's */
  }
  ms_match_options unguarded = *o;
  unguarded.check_spacegroup = 0;
  search s;
  memset(&s, 0, sizeof s);
  s.c = c;
  s.o = &unguarded;
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *sp = &c->species[c->kind[i]];
    int k = 0;
    while (k < s.nsp && !ms_species_equal(&s.sp[k], sp)) ++k;
    if (k == s.nsp) {
      if (s.nsp == MAX_SPECIES) return MS_SUCCESS; /* more species than any prototype has labels */
      s.sp[s.nsp++] = *sp;
    }
    s.count[k]++;
  }
  ms_match_prep prep;
  ms_match_prep_init(&prep);
  ms_err e = MS_SUCCESS;
  int prepared = 0;
  for (int q = 0; q < n && !e; ++q) {
    if (!lib[q] || ms_prototype_nlabels(lib[q]) != s.nsp) continue;
    /* the guard: only a prototype of the structure's space group can match */
    if (o->check_spacegroup && ms_prototype_spacegroup(lib[q], NULL) != spacegroup) continue;
    if (!prepared) {
      e = ms_match_prepare(c, &unguarded, &prep);
      s.prep = &prep;
      prepared = 1;
      if (e) break;
    }
    s.p = lib[q];
    s.found = 0;
    e = assign(&s, 0);
    if (!e && s.found && (*best < 0 || s.best_rms < *rms)) {
      *best = q;
      *rms = s.best_rms;
    }
  }
  ms_match_prep_free(&prep);
  return e;
}
