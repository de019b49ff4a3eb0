/* The hull stage: energies above the convex hull of the relaxed candidates and the reference
 * phases (docs/stability.md), the keep rule on them, and /hull. A collective pass over the
 * relaxed-structure store (stage.h). What the references will be is decided before any work
 * (hull_plan.c); the reference phases themselves are relaxed at this stage (hull_refs.c,
 * stability.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hull_stage.h"
#include "matscreen/log.h"
#include "matscreen/output_schema.h"
#include "relaxed_store.h"
#include "stage_spec.h"

static void hl_destroy(void *state) {
  hull_state *h = state;
  if (!h) return;
  free(h->ref_stable);
  free(h->hsys);
  free(h->hrows);
  for (int k = 0; k < h->nref_paths; ++k) free(h->ref_paths[k]);
  free(h->ref_paths);
  free(h->ref_csv);
  free(h->refs);
  free(h->plan);
  free(h->stable_ids);
  free(h);
}

/* hull.references: "auto", or {auto: true, structures: [FILE, ...], entries: FILE.csv}. */
static ms_err read_references(run_ctx *x, hull_state *h, ms_ynode *v, const char *path) {
  char p3[160];
  if (v->type != MS_YMAP) {
    const char *ref;
    MS_CALL(ms_ynode_string(v, path, &ref));
    if (strcmp(ref, "auto") != 0)
      return ms_ynode_error(v, path, "must be 'auto' or a mapping {auto: true, structures: [FILES], entries: FILE.csv}, got '%s'", ref);
    return MS_SUCCESS;
  }
  ms_ynode *q;
  if ((q = ms_ynode_get(v, "auto"))) {
    int a = 1;
    snprintf(p3, sizeof p3, "%s.auto", path);
    MS_CALL(ms_ynode_bool(q, p3, &a));
    if (!a)
      return ms_ynode_error(q, p3, "the automatic references (the elements, or the binary end members for a "
                                   "rigid-ion model) are always built and relaxed by the campaign; user "
                                   "references add competing phases");
  }
  if ((q = ms_ynode_get(v, "structures"))) {
    snprintf(p3, sizeof p3, "%s.structures", path);
    MS_CALL(ms_ynode_expect(q, MS_YSEQ, p3));
    h->ref_paths = calloc((size_t)q->n + 1, sizeof *h->ref_paths);
    MS_CHECK(h->ref_paths, MS_ERR_MEM, "out of memory");
    for (int k = 0; k < q->n; ++k) {
      const char *f;
      char p4[200];
      snprintf(p4, sizeof p4, "%s[%d]", p3, k);
      MS_CALL(ms_ynode_string(q->items[k], p4, &f));
      h->ref_paths[k] = ms_campaign_path(x->camp, f);
      MS_CHECK(h->ref_paths[k], MS_ERR_MEM, "out of memory");
      h->nref_paths = k + 1;
      FILE *t = fopen(h->ref_paths[k], "r");
      if (!t) return ms_ynode_error(q->items[k], p4, "cannot read '%s'", h->ref_paths[k]);
      fclose(t);
    }
  }
  if ((q = ms_ynode_get(v, "entries"))) {
    const char *f;
    snprintf(p3, sizeof p3, "%s.entries", path);
    MS_CALL(ms_ynode_string(q, p3, &f));
    h->ref_csv = ms_campaign_path(x->camp, f);
    MS_CHECK(h->ref_csv, MS_ERR_MEM, "out of memory");
    FILE *t = fopen(h->ref_csv, "r");
    if (!t) return ms_ynode_error(q, p3, "cannot read '%s'", h->ref_csv);
    fclose(t);
  }
  if ((q = ms_ynode_get(v, "binaries"))) {
    snprintf(p3, sizeof p3, "%s.binaries", path);
    if (q->type == MS_YSEQ) {
      int cap = (int)(sizeof h->refs_opt.only / sizeof h->refs_opt.only[0]);
      if (q->n < 1 || q->n > cap) return ms_ynode_error(q, p3, "must list 1 to %d prototypes, got %d", cap, q->n);
      for (int k = 0; k < q->n; ++k) {
        const char *f;
        char p4[200];
        snprintf(p4, sizeof p4, "%s[%d]", p3, k);
        MS_CALL(ms_ynode_string(q->items[k], p4, &f));
        snprintf(h->refs_opt.only[k], sizeof h->refs_opt.only[k], "%s", f);
        /* validated here, where the node is at hand for the message */
        if (ms__refs_check_binary(f)) {
          char msg[512];
          snprintf(msg, sizeof msg, "%s", ms_err_message());
          ms_err_clear();
          return ms_ynode_error(q->items[k], p4, "%s", msg);
        }
      }
      h->refs_opt.nonly = q->n;
    } else {
      MS_CALL(ms_ynode_bool(q, p3, &h->refs_opt.binaries));
    }
  }
  static const char *const keys[] = {"auto", "structures", "entries", "binaries", NULL};
  return ms_ynode_check_unused(v, path, keys);
}


static ms_err hl_create(ms_run *x, const ms_stage *st, const char *path, void **state) {
  if (!x->st[MS_STAGE_RELAX].present)
    return ms_ynode_error(ms_ynode_get(st->node, "stage"), path,
                          "the %s stage works on relaxed structures: put a relax stage before it", st->name);
  hull_state *h = calloc(1, sizeof *h);
  MS_CHECK(h, MS_ERR_MEM, "out of memory");
  h->item = (int)(st - x->camp->stage);
  h->refs_opt.binaries = 1;
  *state = h;
  ms_ynode *v = ms_ynode_get(st->node, "references");
  if (!v) return MS_SUCCESS;
  char p2[96];
  snprintf(p2, sizeof p2, "%s.references", path);
  return read_references(x, h, v, p2);
}

static ms_err hl_check(void *state, ms_run *x) { return ms__fn_hull_plan(x, state); }

static void hl_describe(void *state, const ms_run *x, FILE *fp) { ms__fn_hull_plan_print(x, state, fp); }

static ms_model hl_model(void *state, const ms_run *x) {
  (void)state;
  return ms__fn_kind_model(x, MS_STAGE_RELAX); /* the hull compares the relax stage's energies */
}

int ms__fn_hull_over_elements(const run_ctx *x) {
  const hull_state *h = ms__fn_state(x, MS_STAGE_HULL);
  return h ? h->refs_elements : 0;
}

/* Collective. The hull's reference phases for entries of compositions comps[0..n-1] (the same
 * on every rank): the end members of their cations (the first *nends) and the user's
 * references (hull.references). */
ms_err ms__fn_hull_references(run_ctx *x, const ms_composition *comps, int64_t n, ms_hull_ref **refs,
                              int *nrefs, int *nends) {
  hull_state *h = ms__fn_state(x, MS_STAGE_HULL);
  ms_err e;
  if (h->refs_elements) {
    e = ms__fn_hull_refs_elements(x, h, comps, n, refs, nrefs, nends);
  } else {
    e = ms__hull_references_auto(x->comm, x->relax, comps, n, refs, nrefs);
    *nends = e ? 0 : *nrefs;
  }
  if (!e && (h->nref_paths || h->ref_csv)) {
    ms_hull_ref *ends = malloc(((size_t)*nends + 1) * sizeof *ends);
    e = ends ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    if (ends) memcpy(ends, *refs, (size_t)*nends * sizeof *ends);
    e = ms_err_agree(x->comm, e);
    if (!e)
      e = ms__hull_references_user(x->comm, x->relax, (const char *const *)h->ref_paths, h->nref_paths,
                                   h->ref_csv, ends, *nends, refs, nrefs);
    free(ends);
  }
  return ms_err_agree(x->comm, e);
}


static void system_name(const ms_composition *c, char *buf, size_t len) {
  ms__fn_system_name(c->sp, c->n, buf, len);
}

/* 1 if every element of @p c is in the system named @p sys. */
static int within(const ms_composition *c, const char *sys) {
  char one[64];
  system_name(c, one, sizeof one);
  for (char *tok = one; tok && *tok;) {
    char *dash = strchr(tok, '-');
    if (dash) *dash = 0;
    char pat[64];
    int found = 0;
    for (const char *p = sys; *p;) {
      const char *d = strchr(p, '-');
      size_t l = d ? (size_t)(d - p) : strlen(p);
      snprintf(pat, sizeof pat, "%.*s", (int)l, p);
      found |= strcmp(pat, tok) == 0;
      p = d ? d + 1 : p + l;
    }
    if (!found) return 0;
    tok = dash ? dash + 1 : NULL;
  }
  return 1;
}

static int cmp_hsys(const void *a, const void *b) {
  return strcmp(((const hull_system *)a)->name, ((const hull_system *)b)->name);
}

/* The distinct chemical systems of all hull entries (every rank has them all). */
static ms_err hull_systems(hull_state *h, const ms_composition *allc, int64_t n) {
  h->hsys = calloc((size_t)n + 1, sizeof *h->hsys);
  MS_CHECK(h->hsys, MS_ERR_MEM, "out of memory");
  for (int64_t k = 0; k < n; ++k) system_name(&allc[k], h->hsys[k].name, sizeof h->hsys[k].name);
  if (n > 0) qsort(h->hsys, (size_t)n, sizeof *h->hsys, cmp_hsys);
  int64_t u = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (u > 0 && strcmp(h->hsys[u - 1].name, h->hsys[k].name) == 0) {
      h->hsys[u - 1].entries++;
    } else {
      h->hsys[u] = h->hsys[k];
      h->hsys[u].entries = 1;
      h->hsys[u].stable = 0;
      u++;
    }
  }
  h->nhsys = u;
  return MS_SUCCESS;
}

typedef struct {
  int64_t id;
  double e;
  ms_composition comp;
} stable_entry;

static int cmp_stable_entry(const void *a, const void *b) {
  int64_t x = ((const stable_entry *)a)->id, y = ((const stable_entry *)b)->id;
  return (x > y) - (x < y);
}

/* Rows of /hull/phases: for every system, its stable reference phases and candidates. */
static ms_err hull_phase_rows(run_ctx *x, hull_state *hl, int64_t m, const int64_t *ids, const ms_composition *comps,
                              const double *en) {
  stable_entry *loc = calloc((size_t)m + 1, sizeof *loc);
  ms_err e = ms_err_agree(x->comm, loc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  int64_t nl = 0;
  for (int64_t k = 0; k < m && !e; ++k)
    for (int64_t q = 0; q < hl->nstable; ++q)
      if (hl->stable_ids[q] == ids[k]) loc[nl++] = (stable_entry){ids[k], en[k], comps[k]};
  char *allb = NULL;
  size_t tot = 0;
  if (!e) e = ms__comm_allgather_bytes(x->comm, loc, (size_t)nl * sizeof *loc, &allb, &tot);
  free(loc);
  if (e) return e;
  stable_entry *all = (stable_entry *)allb;
  int64_t na = (int64_t)(tot / sizeof(stable_entry));
  if (na > 0) qsort(all, (size_t)na, sizeof *all, cmp_stable_entry);
  int64_t cap = (hl->nhsys + 1) * (hl->nrefs + na + 1);
  hl->hrows = calloc((size_t)cap, sizeof *hl->hrows);
  if (!hl->hrows) {
    free(all);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  int64_t r = 0;
  for (int64_t s = 0; s < hl->nhsys; ++s) {
    hull_system *sys = &hl->hsys[s];
    for (int k = 0; k < hl->nrefs; ++k)
      if (hl->ref_stable[k] && within(&hl->refs[k].comp, sys->name)) {
        hull_row *h = &hl->hrows[r++];
        snprintf(h->system, sizeof h->system, "%s", sys->name);
        snprintf(h->formula, sizeof h->formula, "%s", hl->refs[k].formula);
        snprintf(h->source, sizeof h->source, "%s", hl->refs[k].prototype);
        h->id = -1;
        h->energy = hl->refs[k].energy;
      }
    for (int64_t k = 0; k < na; ++k)
      if (within(&all[k].comp, sys->name)) {
        char one[64];
        system_name(&all[k].comp, one, sizeof one);
        if (strcmp(one, sys->name) == 0) sys->stable++;
        hull_row *h = &hl->hrows[r++];
        snprintf(h->system, sizeof h->system, "%s", sys->name);
        if (ms_composition_formula(&all[k].comp, h->formula, sizeof h->formula)) ms_err_clear();
        snprintf(h->source, sizeof h->source, "candidate");
        h->id = all[k].id;
        h->energy = all[k].e;
      }
  }
  hl->nhrows = r;
  free(all);
  return MS_SUCCESS;
}


/* The hull on the relaxation survivors (x->rout[k].kept), where they were computed. */
static ms_err hl_run(void *state, ms_run *x, int *stopped) {
  hull_state *h = state;
  *stopped = 0;
  kept_set ks;
  ms_err e = ms__fn_kept_cells(x, &ks);
  int64_t m = ks.n, *ids = ks.ids, *which = ks.which;
  double *en = ks.en;
  ms_cell *cells = ks.cells;
  int row = 1 + h->item;
  ms_funnel_stage_stats *hs = ms__fn_stats(x, h->item);
  double t0 = MPI_Wtime();
  const ms_stage *st = &x->camp->stage[h->item];
  ms_composition *comps = calloc((size_t)m + 1, sizeof *comps);
  double *eh = malloc(((size_t)m + 1) * sizeof *eh);
  char (*dec)[MS_DECOMP_LEN] = calloc((size_t)m + 1, sizeof *dec);
  if (!comps || !eh || !dec) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  for (int64_t k = 0; k < m && !e; ++k) e = ms_composition_from_cell(&cells[k], &comps[k]);
  e = ms_err_agree(x->comm, e);
  /* the references need every rank's compositions */
  char *allb = NULL;
  size_t tot = 0;
  if (!e) e = ms__comm_allgather_bytes(x->comm, comps, (size_t)m * sizeof(ms_composition), &allb, &tot);
  if (!e) {
    ms_composition *allc = (ms_composition *)allb;
    e = ms__fn_hull_references(x, allc, (int64_t)(tot / sizeof(ms_composition)), &h->refs, &h->nrefs, &h->nends);
    if (!e) e = hull_systems(h, allc, (int64_t)(tot / sizeof(ms_composition)));
  }
  free(allb);
  if (!e) {
    h->ref_stable = calloc((size_t)h->nrefs + 1, 1);
    e = h->ref_stable ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  if (!e) e = ms__hull_stage(x->comm, h->refs, h->nrefs, h->nends, m, ids, comps, en, eh, dec, &h->stable_ids,
                             &h->nstable, h->ref_stable, h->refs_elements);
  e = ms_err_agree(x->comm, e);
  if (!e) e = ms_err_agree(x->comm, hull_phase_rows(x, h, m, ids, comps, en));
  long long lm = m, gin = 0;
  MPI_Allreduce(&lm, &gin, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
  hs->in = gin;
  for (int64_t k = 0; k < m && !e; ++k) {
    relax_out *o = &x->rout[which[k]];
    o->e_above_hull = eh[k];
    memcpy(o->decomposition, dec[k], MS_DECOMP_LEN);
    if (!ms__keep_hull_passes(&st->keep, eh[k])) {
      o->kept = 0;
      o->reject_stage = row;
      ms__fn_set_reason(o->reason, "above the hull by %.3g eV/atom, more than the keep rule's %g", eh[k],
               st->keep.max_e_above_hull);
      ms__fn_count_status(hs, MS_STATUS_REJECTED);
    } else {
      o->stage_reached = row;
      hs->out++;
    }
  }
  free(comps);
  free(eh);
  free(dec);
  hs->cpu_s = MPI_Wtime() - t0;
  hs->wall_s = hs->cpu_s;
  long long o = hs->out, go = 0;
  MPI_Allreduce(&o, &go, 1, MPI_LONG_LONG, MPI_SUM, x->comm);
  ms__fn_reduce_stats(x->comm, hs, 0);
  hs->out = go;
  ms__fn_kept_free(&ks);
  return e;
}

static ms_err hl_write(void *state, ms_run *x, ms_h5 f) {
  hull_state *h = state;
  ms_err e = MS_SUCCESS;
  /* hull: the end-member references and the stable candidates (rows from rank 0) */
  {
    int nr = x->rank == 0 ? h->nrefs : 0;
    char *rf = calloc((size_t)h->nrefs + 1, MS_OUTW_HULL_REFERENCE_FORMULA);
    char *rp = calloc((size_t)h->nrefs + 1, MS_OUTW_HULL_REFERENCE_PROTOTYPE);
    double *re = calloc((size_t)h->nrefs + 1, sizeof *re);
    MS__LOCAL(rf && rp && re);
    for (int k = 0; k < h->nrefs && !e; ++k) {
      ms__fn_put_str(rf + MS_OUTW_HULL_REFERENCE_FORMULA * k, MS_OUTW_HULL_REFERENCE_FORMULA, h->refs[k].formula);
      ms__fn_put_str(rp + MS_OUTW_HULL_REFERENCE_PROTOTYPE * k, MS_OUTW_HULL_REFERENCE_PROTOTYPE, h->refs[k].prototype);
      re[k] = h->refs[k].energy;
    }
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(HULL_REFERENCE_FORMULA), nr, MS_OUTW_HULL_REFERENCE_FORMULA, rf));
    MS__W(ms_h5_write_strings(f, MS_OUT_PATH(HULL_REFERENCE_PROTOTYPE), nr, MS_OUTW_HULL_REFERENCE_PROTOTYPE, rp));
    MS__W(ms_h5_write_double(f, MS_OUT_PATH(HULL_REFERENCE_ENERGY), nr, 1, re, 0));
    MS__W(ms_h5_write_int64(f, MS_OUT_PATH(HULL_STABLE_CANDIDATE_ID), x->rank == 0 ? h->nstable : 0, 1, h->stable_ids));
    {
      int32_t *isend = calloc((size_t)h->nrefs + 1, sizeof *isend), *onh = calloc((size_t)h->nrefs + 1, sizeof *onh);
      int64_t ns = x->rank == 0 ? h->nhsys : 0, nr2 = x->rank == 0 ? h->nhrows : 0;
      char *sn = calloc((size_t)h->nhsys + 1, MS_OUTW_HULL_SYSTEMS_NAME);
      char *rs = calloc((size_t)h->nhrows + 1, MS_OUTW_HULL_PHASES_SYSTEM);
      char *rfo = calloc((size_t)h->nhrows + 1, MS_OUTW_HULL_PHASES_FORMULA);
      char *rsrc = calloc((size_t)h->nhrows + 1, MS_OUTW_HULL_PHASES_SOURCE);
      int64_t *sc = calloc((size_t)h->nhsys + 1, sizeof *sc), *ss = calloc((size_t)h->nhsys + 1, sizeof *ss);
      int64_t *rid = calloc((size_t)h->nhrows + 1, sizeof *rid);
      double *ren = calloc((size_t)h->nhrows + 1, sizeof *ren);
      MS__LOCAL(isend && onh && sn && rs && rfo && rsrc && sc && ss && rid && ren);
      for (int k = 0; k < h->nrefs && !e; ++k) {
        isend[k] = k < h->nends;
        onh[k] = h->ref_stable ? h->ref_stable[k] : 0;
      }
      for (int64_t k = 0; k < h->nhsys && !e; ++k) {
        ms__fn_put_str(sn + MS_OUTW_HULL_SYSTEMS_NAME * k, MS_OUTW_HULL_SYSTEMS_NAME, h->hsys[k].name);
        sc[k] = h->hsys[k].entries;
        ss[k] = h->hsys[k].stable;
      }
      for (int64_t k = 0; k < h->nhrows && !e; ++k) {
        ms__fn_put_str(rs + MS_OUTW_HULL_PHASES_SYSTEM * k, MS_OUTW_HULL_PHASES_SYSTEM, h->hrows[k].system);
        ms__fn_put_str(rfo + MS_OUTW_HULL_PHASES_FORMULA * k, MS_OUTW_HULL_PHASES_FORMULA, h->hrows[k].formula);
        ms__fn_put_str(rsrc + MS_OUTW_HULL_PHASES_SOURCE * k, MS_OUTW_HULL_PHASES_SOURCE, h->hrows[k].source);
        rid[k] = h->hrows[k].id;
        ren[k] = h->hrows[k].energy;
      }
      MS__W(ms_h5_write_int32(f, MS_OUT_PATH(HULL_REFERENCE_IS_END_MEMBER), nr, 1, isend));
      MS__W(ms_h5_write_int32(f, MS_OUT_PATH(HULL_REFERENCE_ON_HULL), nr, 1, onh));
      MS__W(ms_h5_write_strings(f, MS_OUT_PATH(HULL_SYSTEMS_NAME), ns, MS_OUTW_HULL_SYSTEMS_NAME, sn));
      MS__W(ms_h5_write_int64(f, MS_OUT_PATH(HULL_SYSTEMS_ENTRIES), ns, 1, sc));
      MS__W(ms_h5_write_int64(f, MS_OUT_PATH(HULL_SYSTEMS_STABLE), ns, 1, ss));
      MS__W(ms_h5_write_strings(f, MS_OUT_PATH(HULL_PHASES_SYSTEM), nr2, MS_OUTW_HULL_PHASES_SYSTEM, rs));
      MS__W(ms_h5_write_strings(f, MS_OUT_PATH(HULL_PHASES_FORMULA), nr2, MS_OUTW_HULL_PHASES_FORMULA, rfo));
      MS__W(ms_h5_write_strings(f, MS_OUT_PATH(HULL_PHASES_SOURCE), nr2, MS_OUTW_HULL_PHASES_SOURCE, rsrc));
      MS__W(ms_h5_write_int64(f, MS_OUT_PATH(HULL_PHASES_CANDIDATE_ID), nr2, 1, rid));
      MS__W(ms_h5_write_double(f, MS_OUT_PATH(HULL_PHASES_ENERGY), nr2, 1, ren, 0));
      MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(HULL_PHASES_ATTR_DESCRIPTION), MS_OUT_NAME(HULL_PHASES_ATTR_DESCRIPTION),
                       "for every chemical system of the hull entries (/hull/systems), the phases on the hull "
                       "whose elements are in it: reference phases (candidate_id -1) and candidates"));
      free(isend);
      free(onh);
      free(sn);
      free(rs);
      free(rfo);
      free(rsrc);
      free(sc);
      free(ss);
      free(rid);
      free(ren);
    }
    MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(HULL_ATTR_DESCRIPTION), MS_OUT_NAME(HULL_ATTR_DESCRIPTION),
                     "components are the binary compounds of each cation with the anion, relaxed with the "
                     "campaign's model in the library prototypes of their stoichiometry (lowest kept)"));
    free(rf);
    free(rp);
    free(re);
  }
  return e;
}

static const ms_stage_ops hull_ops = {
    .create = hl_create,
    .destroy = hl_destroy,
    .check = hl_check,
    .run = hl_run,
    .write = hl_write,
    .model = hl_model,
    .describe = hl_describe,
};

/* ---- the record -------------------------------------------------------------------------------- */

static const ms_opt_spec references_keys[] = {
    {.key = "auto", .type = MS_OPT_BOOL, UNBOUNDED, .def = 1, .default_text = "true",
     .help = "build and relax the reference phases (elements and binaries, or binary end members)"},
    {.key = "binaries", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "true",
     .help = "hull over the elements: true, false, or a list of two-label prototypes"},
    {.key = "structures", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "none",
     .help = "structure files relaxed with the relax stage's model and added as competing phases"},
    {.key = "entries", .type = MS_OPT_STRING, UNBOUNDED, .default_text = "none",
     .help = "CSV formula,energy_per_atom_eV[,name] of competing phases computed with the same model"},
    {0},
};

static const ms_opt_spec hull_options[] = {
    {.key = "references", .type = MS_OPT_MAP, UNBOUNDED, .default_text = "auto",
     .help = "the reference phases (docs/stability.md): auto or {auto, binaries, structures, entries}",
     .example = "auto", .sub = references_keys},
    {.key = "keep", .type = MS_OPT_KEEP, UNBOUNDED, .default_text = "keep all",
     .help = "{max_e_above_hull_eV_per_atom: X}: survivors within X of the hull", .sub = ms_keep_spec,
     .example = "{max_e_above_hull_eV_per_atom: 0.05}"},
    {0},
};

static const char *const after_hull[] = {"prefilter", "single_point", "surrogate", "relax", "dedup", NULL};

const ms_stage_info ms__stage_hull = {
    .name = "hull",
    .summary = "energy above the convex hull of the relaxed survivors and the reference phases",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_HULL,
    .after = after_hull,
    .needs = ms__stage_needs_relax,
    .input = "the relaxed-structure store (distinct survivors after dedup) and the reference phases",
    .output = "e_above_hull per survivor, /hull",
    .options = hull_options,
    .ops = &hull_ops,
};

