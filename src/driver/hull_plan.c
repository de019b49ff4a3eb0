/* What the hull stage will build, decided and checked before any work (funnel_impl.h,
 * "the hull's references"), and the elements-mode references at the hull stage.
 *
 * The kind of hull follows the relax stage's model: a rigid-ion model's lattice energies cannot
 * be referred to the elements, so its hull's components are binary end members (stability.c);
 * a model fitted to DFT total energies (M3GNet, ms_model_has_elemental_energies) gives every
 * structure an energy referable to the elements, so its hull is over the elements, with the elements and
 * binaries of hull_refs.c as references. Everything here depends on the campaign alone (or, at
 * the hull stage, on compositions every rank has), so every rank reaches the same verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hull_stage.h"
#include "matscreen/log.h"

static ms_model relax_model(const run_ctx *x) {
  ms_model m = ms__fn_kind_model(x, MS_STAGE_RELAX);
  return m ? m : x->model;
}

/* The species of every search item that lists them: sets k = sp[off[k] .. off[k+1]), with the
 * item of each set. */
typedef struct {
  ms_species *sp;
  int *off, *item;
  int n, unlisted;
} item_sets;

static void sets_free(item_sets *s) {
  free(s->sp);
  free(s->off);
  free(s->item);
  memset(s, 0, sizeof *s);
}

static ms_err sets_of_search(const run_ctx *x, item_sets *s) {
  enum { MAXSP = 256 };
  int ni = ms_search_nitems(x->search);
  memset(s, 0, sizeof *s);
  s->sp = malloc(((size_t)ni * MAXSP + 1) * sizeof *s->sp);
  s->off = calloc((size_t)ni + 1, sizeof *s->off);
  s->item = calloc((size_t)ni + 1, sizeof *s->item);
  MS_CHECK(s->sp && s->off && s->item, MS_ERR_MEM, "out of memory");
  int used = 0;
  for (int k = 0; k < ni; ++k) {
    int m = ms_generator_species(ms_search_generator(x->search, k), s->sp + used, MAXSP);
    if (m < 0) {
      s->unlisted++;
      continue;
    }
    if (m > MAXSP) m = MAXSP;
    s->item[s->n] = k;
    s->off[s->n] = used;
    used += m;
    s->n++;
    s->off[s->n] = used;
  }
  return MS_SUCCESS;
}

void ms__fn_system_name(const ms_species *sp, int n, char *buf, size_t len) {
  enum { MAXEL = 128 };
  const char *sym[MAXEL];
  int m = 0;
  for (int s = 0; s < n && m < MAXEL; ++s) {
    const ms_element *el = ms_element_by_z(sp[s].Z);
    const char *y = el ? el->symbol : "?";
    int dup = 0;
    for (int q = 0; q < m; ++q) dup |= strcmp(sym[q], y) == 0;
    if (!dup) sym[m++] = y;
  }
  for (int a = 1; a < m; ++a)
    for (int b = a; b > 0 && strcmp(sym[b], sym[b - 1]) < 0; --b) {
      const char *t = sym[b];
      sym[b] = sym[b - 1];
      sym[b - 1] = t;
    }
  buf[0] = 0;
  for (int q = 0; q < m; ++q) {
    strncat(buf, sym[q], len - strlen(buf) - 1);
    if (q + 1 < m) strncat(buf, "-", len - strlen(buf) - 1);
  }
}

static const char *system_of(const ms_species *sp, int n, char *buf, size_t len) {
  ms__fn_system_name(sp, n, buf, len);
  return buf;
}

static ms_err stage_error(const run_ctx *x, const char *fmt, const char *msg) {
  int k = x->st[MS_STAGE_HULL].index;
  const ms_stage *st = &x->camp->stage[k];
  char path[64];
  snprintf(path, sizeof path, "funnel[%d]", k);
  ms_ynode *n = ms_ynode_get(st->node, "references");
  if (n) snprintf(path, sizeof path, "funnel[%d].references", k);
  return ms_ynode_error(n ? n : st->node, path, fmt, msg);
}

/* End-member hull: one anion, at most MS_HULL_MAX_COMPONENTS cations, a library prototype
 * for every cation's binary. */
static ms_err check_end_members(const run_ctx *x, const item_sets *s) {
  ms_species cat[256], an[256];
  int nc = 0, na = 0;
  char msg[1024];
  for (int k = 0; k < s->off[s->n]; ++k) {
    const ms_species *sp = &s->sp[k];
    if (!sp->has_ox) continue; /* refused elsewhere: the model needs oxidation states */
    ms_species *set = sp->ox > 0 ? cat : an;
    int *cnt = sp->ox > 0 ? &nc : &na, seen = 0;
    for (int q = 0; q < *cnt; ++q) seen |= ms_species_equal(&set[q], sp);
    if (!seen && *cnt < 256) set[(*cnt)++] = *sp;
  }
  char list[512] = "";
  size_t u = 0;
  for (int q = 0; q < na; ++q) {
    char lab[24];
    int w = snprintf(list + u, sizeof list - u, "%s%s", q ? ", " : "", ms_species_format(&an[q], lab, sizeof lab));
    if (w > 0 && (size_t)w < sizeof list - u) u += (size_t)w;
  }
  if (na != 1) {
    snprintf(msg, sizeof msg, "%d (%s)", na, list);
    return stage_error(x, "the hull of a rigid-ion model has the binary compounds of each cation with one anion as "
                          "its components, but the search space has %s anions; screen one anion per campaign, or "
                          "relax with a model fitted to DFT energies (M3GNet: its hull is over the elements)", msg);
  }
  if (nc > MS_HULL_MAX_COMPONENTS) {
    snprintf(msg, sizeof msg, "%d distinct cations, more than the limit of %d", nc, MS_HULL_MAX_COMPONENTS);
    return stage_error(x, "the hull's components are the end members, one per cation, and the search space has %s; "
                          "split the search into campaigns with fewer cations", msg);
  }
  for (int q = 0; q < nc; ++q) {
    int a = 0, b = 0;
    if (ms__hull_end_member_prototypes(&cat[q], &an[0], &a, &b)) continue;
    char cs[24], as[24];
    snprintf(msg, sizeof msg, "%s and %s (A%dX%d)", ms_species_format(&cat[q], cs, sizeof cs),
             ms_species_format(&an[0], as, sizeof as), a, b);
    return stage_error(x, "the hull's end member, the binary compound of %s, cannot be built: the library has no "
                          "prototype for that stoichiometry among those the end members use (AX, AX2, A2X, A2X3; "
                          "docs/stability.md); drop the ion or relax with a model fitted to DFT energies (M3GNet)", msg);
  }
  return MS_SUCCESS;
}

ms_err ms__fn_hull_plan(run_ctx *x, hull_state *h) {
  ms_model m = relax_model(x);
  h->refs_elements = m && ms_model_has_elemental_energies(m);
  item_sets s;
  ms_err e = sets_of_search(x, &s);
  if (!e && !h->refs_elements && (!h->refs_opt.binaries || h->refs_opt.nonly))
    e = stage_error(x, "%s", "'binaries' chooses the binaries of a hull over the elements (a model fitted to DFT "
                             "energies, e.g. M3GNet); this campaign's relax model is rigid-ion, whose hull has binary "
                             "end members (docs/stability.md)");
  if (!e && !h->refs_elements) e = check_end_members(x, &s);
  if (!e && h->refs_elements) {
    /* the hull's components: every element of the search space */
    char sys[1024];
    int zs[MS_MAX_Z + 1] = {0}, nz = 0;
    for (int k = 0; k < s.off[s.n]; ++k)
      if (s.sp[k].Z > 0 && s.sp[k].Z <= MS_MAX_Z && !zs[s.sp[k].Z]++) nz++;
    if (nz > MS_HULL_MAX_COMPONENTS) {
      char msg[1200];
      snprintf(msg, sizeof msg, "%d elements (%s), more than the limit of %d", nz,
               system_of(s.sp, s.off[s.n], sys, sizeof sys), MS_HULL_MAX_COMPONENTS);
      e = stage_error(x, "the hull's components are the elements of the search space: %s; split the search into "
                         "campaigns of fewer elements", msg);
    }
    if (!e) e = ms__refs_jobs(&h->refs_opt, s.n, s.sp, s.off, &h->plan, &h->nplan);
  }
  sets_free(&s);
  return e;
}

void ms__fn_hull_plan_print(const run_ctx *x, const hull_state *h, FILE *fp) {
  item_sets s;
  if (sets_of_search(x, &s)) {
    ms_err_clear();
    return;
  }
  ms_model m = relax_model(x);
  char sys[512];
  if (h->refs_elements) {
    fprintf(fp, "hull references (components: the elements; relaxed with %s):\n", ms_model_name(m));
    for (int k = 0; k < s.n; ++k) {
      ms_ref_job *jb = NULL;
      int nj = 0;
      if (ms__refs_jobs(&h->refs_opt, 1, s.sp + s.off[k], (int[]){0, s.off[k + 1] - s.off[k]}, &jb, &nj)) {
        ms_err_clear();
        continue;
      }
      int nel = 0, nelj = 0, nbin = 0, npair = 0;
      for (int q = 0; q < nj; ++q) {
        if (jb[q].nsp == 1) {
          nelj++;
          nel += q == 0 || jb[q - 1].nsp != 1 || jb[q - 1].sp[0].Z != jb[q].sp[0].Z;
        } else {
          nbin++;
          npair += q == 0 || jb[q - 1].nsp != 2 || jb[q - 1].sp[0].Z != jb[q].sp[0].Z || jb[q - 1].sp[1].Z != jb[q].sp[1].Z;
        }
      }
      fprintf(fp, "  search[%d] %s: %d element%s in %d structures, %d pair%s in %d binary structures: %d relaxations\n",
              s.item[k], system_of(s.sp + s.off[k], s.off[k + 1] - s.off[k], sys, sizeof sys), nel, nel == 1 ? "" : "s",
              nelj, npair, npair == 1 ? "" : "s", nbin, nj);
      free(jb);
    }
    int nel = 0;
    for (int q = 0; q < h->nplan; ++q) nel += h->plan[q].nsp == 1;
    fprintf(fp, "  total: at most %d relaxations (%d of elements, %d of binaries%s), shared out over the ranks; only "
                "those of the elements and pairs that occur in the hull's entries are done\n",
            h->nplan, nel, h->nplan - nel, h->refs_opt.binaries ? (h->refs_opt.nonly ? ", in the prototypes of "
                                                                                     "hull.references.binaries" : "")
                                                                : "; binaries: false");
  } else {
    fprintf(fp, "hull references (components: binary end members, because the lattice energies of %s cannot be "
                "referred to the elements):\n", ms_model_name(m));
    int total = 0;
    for (int k = 0; k < s.n; ++k) {
      const ms_species *set = s.sp + s.off[k];
      int n = s.off[k + 1] - s.off[k], cnt = 0;
      const ms_species *an = NULL;
      for (int q = 0; q < n; ++q)
        if (set[q].has_ox && set[q].ox < 0) an = &set[q];
      fprintf(fp, "  search[%d] %s:", s.item[k], system_of(set, n, sys, sizeof sys));
      for (int q = 0; q < n && an; ++q) {
        if (!set[q].has_ox || set[q].ox <= 0) continue;
        int a = 0, b = 0;
        const char *const *pr = ms__hull_end_member_prototypes(&set[q], an, &a, &b);
        char cs[24];
        fprintf(fp, " %s%s", cnt ? "; " : "", ms_species_format(&set[q], cs, sizeof cs));
        for (int j = 0; pr && pr[j]; ++j, ++cnt) fprintf(fp, "%s%s", j ? ", " : " in ", pr[j]);
      }
      fprintf(fp, ": %d relaxations\n", cnt);
      total += cnt;
    }
    fprintf(fp, "  total: at most %d relaxations on rank 0 (a cation shared by several items counted once per item); "
                "only the cations of the hull's entries are done\n", total);
  }
  if (h->nref_paths || h->ref_csv)
    fprintf(fp, "  user references: %d structure file%s relaxed%s\n", h->nref_paths, h->nref_paths == 1 ? "" : "s",
            h->ref_csv ? ", entries from a CSV file" : "");
  if (s.unlisted) fprintf(fp, "  (%d search item%s do not list their species; their references are decided at the hull)\n",
                          s.unlisted, s.unlisted == 1 ? "" : "s");
  sets_free(&s);
}

/* ---- at the hull stage ----------------------------------------------------------------- */

typedef struct {
  int n;
  ms_species sp[MS_COMPOSITION_MAX];
} spset;

static int cmp_sp(const void *a, const void *b) { return ms__refs_cmp_species(a, b); }

static int cmp_set(const void *a, const void *b) {
  const spset *x = a, *y = b;
  if (x->n != y->n) return x->n - y->n;
  for (int k = 0; k < x->n; ++k) {
    int c = ms__refs_cmp_species(&x->sp[k], &y->sp[k]);
    if (c) return c;
  }
  return 0;
}

ms_err ms__fn_hull_refs_elements(run_ctx *x, hull_state *h, const ms_composition *comps, int64_t n, ms_hull_ref **refs,
                                 int *nrefs, int *nends) {
  /* the distinct species sets of the entries (the same on every rank: every rank has all) */
  spset *sets = calloc((size_t)n + 1, sizeof *sets);
  ms_err e = sets ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  int64_t ns = 0;
  for (int64_t k = 0; k < n && !e; ++k) {
    spset *t = &sets[ns++];
    t->n = comps[k].n;
    memcpy(t->sp, comps[k].sp, (size_t)t->n * sizeof *t->sp);
    qsort(t->sp, (size_t)t->n, sizeof *t->sp, cmp_sp);
  }
  if (ns > 1) qsort(sets, (size_t)ns, sizeof *sets, cmp_set);
  int64_t u = 0;
  for (int64_t k = 0; k < ns; ++k)
    if (u == 0 || cmp_set(&sets[u - 1], &sets[k]) != 0) sets[u++] = sets[k];
  ms_species *flat = malloc(((size_t)u * MS_COMPOSITION_MAX + 1) * sizeof *flat);
  int *off = malloc(((size_t)u + 1) * sizeof *off);
  if (!e && (!flat || !off)) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  int used = 0;
  for (int64_t k = 0; k < u && !e; ++k) {
    off[k] = used;
    memcpy(flat + used, sets[k].sp, (size_t)sets[k].n * sizeof *flat);
    used += sets[k].n;
  }
  if (off) off[u] = used;
  ms_ref_job *jobs = NULL;
  int njobs = 0;
  if (!e) e = ms__refs_jobs(&h->refs_opt, (int)u, flat, off, &jobs, &njobs);
  free(sets);
  free(flat);
  free(off);
  e = ms_err_agree(x->comm, e);
  if (!e) {
    if (ms_log_is_root())
      ms_log_info("hull references: relaxing %d structures (elements and binaries of the hull's entries) with %s",
                  njobs, ms_model_name(relax_model(x)));
    e = ms__refs_build(x->comm, x->relax, jobs, njobs, refs, nrefs, nends);
  }
  free(jobs);
  return e;
}
