/* Reference phases for a hull whose components are the elements (hull_refs.h).
 *
 * Why these structures: the hull can only judge a candidate against competitors that exist,
 * so the references cover what decides real hulls at little cost: each element in the
 * library's elemental structures (close-packed metals, diamond, the A7 and A8 chains and
 * layers, graphite; the molecular dimers only for the element they were written for, because
 * a molecule in a box is the standard state of H, N, O and the halogens and never a
 * competitor for a metal), and each binary in every library prototype that fits it. For a
 * cation and an anion (ions) that means the ionic prototypes whose label counts balance the
 * charges (Sr2+ with O2-: rock salt, CsCl, zinc blende, wurtzite, NiAs, WC, L1_0); for plain
 * elements every two-label prototype in both assignments, because an intermetallic's
 * composition is not fixed by charges. */
#include "hull_refs.h"

#include "comm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/log.h"
#include "matscreen/match.h"
#include "matscreen/prototype.h"


/* A prototype is molecular when every site has at most one neighbour (a dimer in a box). */
static int molecular(const ms_prototype *p) {
  for (int s = 0; s < ms_prototype_nsites(p); ++s) {
    ms_prototype_site si;
    if (ms_prototype_site_info(p, s, &si)) {
      ms_err_clear();
      return 0;
    }
    if (si.cn > 1) return 0;
  }
  return 1;
}

static int labels_equivalent(const ms_prototype *p) {
  for (int g = 0; g < ms_prototype_nequiv(p); ++g) {
    const int *lab = NULL;
    int n = ms_prototype_equiv(p, g, &lab), has0 = 0, has1 = 0;
    for (int k = 0; k < n; ++k) {
      has0 |= lab[k] == 0;
      has1 |= lab[k] == 1;
    }
    if (has0 && has1) return 1;
  }
  return 0;
}

int ms__refs_cmp_species(const ms_species *a, const ms_species *b) {
  if (a->Z != b->Z) return (a->Z > b->Z) - (a->Z < b->Z);
  if (a->has_ox != b->has_ox) return a->has_ox - b->has_ox;
  return (a->ox > b->ox) - (a->ox < b->ox);
}

static int cmp_job(const void *pa, const void *pb) {
  const ms_ref_job *a = pa, *b = pb;
  if (a->nsp != b->nsp) return a->nsp - b->nsp;
  for (int k = 0; k < a->nsp; ++k) {
    int c = ms__refs_cmp_species(&a->sp[k], &b->sp[k]);
    if (c) return c;
  }
  int c = strcmp(a->proto, b->proto);
  return c ? c : a->swap - b->swap;
}

typedef struct {
  ms_ref_job *v;
  int n, cap;
} joblist;

static ms_err push(joblist *l, const ms_ref_job *j) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    ms_ref_job *q = realloc(l->v, (size_t)cap * sizeof *q);
    MS_CHECK(q, MS_ERR_MEM, "out of memory");
    l->v = q;
    l->cap = cap;
  }
  l->v[l->n++] = *j;
  return MS_SUCCESS;
}

static int allowed(const ms_refs_options *o, const char *name) {
  if (o->nonly <= 0) return 1;
  for (int k = 0; k < o->nonly; ++k)
    if (strcmp(o->only[k], name) == 0) return 1;
  return 0;
}

/* The binaries of species a and b (a before b by Z) in prototype p (two labels). */
static ms_err binary_jobs(const ms_prototype *p, const ms_species *a, const ms_species *b, joblist *l) {
  ms_ref_job j;
  memset(&j, 0, sizeof j);
  j.nsp = 2;
  j.sp[0] = *a;
  j.sp[1] = *b;
  snprintf(j.proto, sizeof j.proto, "%s", ms_prototype_name(p));
  if (!a->has_ox && !b->has_ox) {
    MS_CALL(push(l, &j));
    if (!labels_equivalent(p)) {
      j.swap = 1;
      MS_CALL(push(l, &j));
    }
    return MS_SUCCESS;
  }
  if (!a->has_ox || !b->has_ox || (a->ox > 0) == (b->ox > 0) || ms_prototype_reference_plain(p))
    return MS_SUCCESS;
  /* a cation and an anion: the prototype's cation label takes the cation, and the label counts
   * must balance the charges */
  const ms_species *r0 = ms_prototype_reference_ion(p, 0), *r1 = ms_prototype_reference_ion(p, 1);
  if (!r0 || !r1 || (r0->ox > 0) == (r1->ox > 0)) return MS_SUCCESS;
  int cat_label = r0->ox > 0 ? 0 : 1;
  const ms_species *cat = a->ox > 0 ? a : b, *an = a->ox > 0 ? b : a;
  int nc = ms_prototype_label_count(p, cat_label), na = ms_prototype_label_count(p, 1 - cat_label);
  int qc = (int)lround(cat->ox), qa = (int)lround(-an->ox);
  if (nc * qc != na * qa) return MS_SUCCESS;
  /* sp[0] sits on label 0 unless swap */
  j.swap = (cat == a) != (cat_label == 0);
  return push(l, &j);
}

ms_err ms__refs_check_binary(const char *name) {
  int np = 0, known = 0;
  const char *const *names = ms_prototype_builtin_names(&np);
  for (int q = 0; q < np && !known; ++q) known = strcmp(names[q], name) == 0;
  ms_prototype *p = NULL;
  int ok = known && ms_prototype_load(name, &p) == MS_SUCCESS && ms_prototype_nlabels(p) == 2;
  ms_prototype_free(&p);
  if (ok) return MS_SUCCESS;
  ms_err_clear();
  MS_FAIL(MS_ERR_INPUT,
          "'%s' is not a two-label prototype of the library ('matscreen info prototypes' lists them: "
          "formula AX, AB2, A3B, ...)", name);
}

ms_err ms__refs_jobs(const ms_refs_options *o, int nsets, const ms_species *sp, const int *off,
                     ms_ref_job **jobs, int *njobs) {
  *jobs = NULL;
  *njobs = 0;
  int np = 0;
  ms_prototype **lib = NULL;
  ms_err e = ms_prototype_library_load(&lib, &np);
  for (int k = 0; k < o->nonly && !e; ++k) e = ms__refs_check_binary(o->only[k]);
  joblist l = {0};
  for (int s = 0; s < nsets && !e; ++s) {
    const ms_species *set = sp + off[s];
    int n = off[s + 1] - off[s];
    /* elements */
    for (int i = 0; i < n && !e; ++i) {
      ms_ref_job j;
      memset(&j, 0, sizeof j);
      j.nsp = 1;
      j.sp[0] = (ms_species){set[i].Z, 0, 0};
      for (int q = 0; q < np && !e; ++q) {
        if (ms_prototype_nlabels(lib[q]) != 1) continue;
        j.molecule = molecular(lib[q]);
        if (j.molecule && ms_prototype_reference_ion(lib[q], 0)->Z != set[i].Z) continue;
        snprintf(j.proto, sizeof j.proto, "%s", ms_prototype_name(lib[q]));
        e = push(&l, &j);
      }
    }
    /* binaries of every pair of distinct elements */
    for (int a = 0; a < n && o->binaries && !e; ++a)
      for (int b = 0; b < n && !e; ++b) {
        if (set[a].Z >= set[b].Z) continue;
        for (int q = 0; q < np && !e; ++q)
          if (ms_prototype_nlabels(lib[q]) == 2 && allowed(o, ms_prototype_name(lib[q])))
            e = binary_jobs(lib[q], &set[a], &set[b], &l);
      }
  }
  ms_prototype_library_free(&lib, np);
  if (e) {
    free(l.v);
    return e;
  }
  if (l.n > 1) qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_job);
  int u = 0;
  for (int k = 0; k < l.n; ++k)
    if (u == 0 || cmp_job(&l.v[u - 1], &l.v[k]) != 0) l.v[u++] = l.v[k];
  *jobs = l.v;
  *njobs = u;
  return MS_SUCCESS;
}

const char *ms__refs_job_name(const ms_ref_job *j, char *buf, size_t len) {
  char a[24], b[24];
  ms_species_format(&j->sp[0], a, sizeof a);
  if (j->nsp == 1) {
    snprintf(buf, len, "%s in %s", a, j->proto);
    return buf;
  }
  ms_species_format(&j->sp[1], b, sizeof b);
  snprintf(buf, len, "%s-%s in %s%s", a, b, j->proto, j->swap ? " (swapped)" : "");
  return buf;
}

/* ---- building ---------------------------------------------------------------------------- */

typedef struct {
  double epa;          /* relaxed energy per atom, NaN if the job failed or did not converge */
  ms_composition comp;
  char formula[32];
  char why[64];        /* status or error when epa is NaN */
  char type[32];       /* the library prototype the relaxed structure matches ("" if none) */
} job_result;

/* The library, loaded once per build (ms_prototype_identify compares with all of it). */
typedef struct {
  ms_prototype **p;
  int n;
} proto_lib;

static void run_job(ms_relax relax, const proto_lib *lib, const ms_ref_job *j, job_result *r) {
  memset(r, 0, sizeof *r);
  r->epa = NAN;
  const ms_prototype *p = NULL;
  for (int q = 0; q < lib->n && !p; ++q)
    if (strcmp(ms_prototype_name(lib->p[q]), j->proto) == 0) p = lib->p[q];
  ms_cell cell;
  ms_cell_init(&cell);
  ms_err e = p ? MS_SUCCESS : ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "no prototype %s", j->proto);
  if (!e) {
    ms_species ions[2];
    if (j->nsp == 1) {
      ions[0] = j->sp[0];
    } else {
      ions[j->swap ? 1 : 0] = j->sp[0];
      ions[j->swap ? 0 : 1] = j->sp[1];
    }
    ms_proto_build_options bo;
    ms_proto_build_options_default(&bo);
    bo.primitive = 1; /* the fewest atoms: references are many and the energy per atom is the same */
    e = ms_prototype_build(p, ions, &bo, &cell);
  }
  ms_relax_result rr;
  memset(&rr, 0, sizeof rr);
  if (!e) e = ms_relax_run(relax, &cell, &rr);
  if (e) {
    snprintf(r->why, sizeof r->why, "%.63s", ms_err_message());
    ms_err_clear();
  } else if (rr.status != MS_STATUS_CONVERGED) {
    snprintf(r->why, sizeof r->why, "%s", ms_status_name(rr.status));
  } else if (ms_composition_from_cell(&cell, &r->comp) || ms_cell_formula(&cell, 1, r->formula, sizeof r->formula)) {
    snprintf(r->why, sizeof r->why, "%.63s", ms_err_message());
    ms_err_clear();
  } else {
    r->epa = rr.energy / cell.natoms;
    /* what it relaxed into (L1_0 NiAl goes to B2 along the Bain path): the reference is labelled
     * with that, as the dedup stage labels candidates */
    ms_match_options mo;
    ms_match_options_default(&mo);
    int best = -1;
    double rms = 0;
    if (ms_prototype_identify(&cell, 0, lib->p, lib->n, &mo, &best, &rms)) ms_err_clear();
    else if (best >= 0) snprintf(r->type, sizeof r->type, "%s", ms_prototype_name(lib->p[best]));
  }
  ms_cell_free(&cell);
}

/* The element's standard-state structure as a library prototype name ("" if the library has
 * none): the table's structure when a one-label prototype has that name, the dimer for a
 * diatomic element. */
static void standard_structure(const ms_ref_job *jobs, int a, int b, char *out, size_t len) {
  out[0] = '\0';
  const ms_element *el = ms_element_by_z(jobs[a].sp[0].Z);
  if (!el || !el->structure[0]) return;
  for (int k = a; k < b; ++k) {
    if (strcmp(jobs[k].proto, el->structure) == 0 || (jobs[k].molecule && strcmp(el->structure, "diatom") == 0)) {
      snprintf(out, len, "%s", jobs[k].proto);
      return;
    }
  }
}

ms_err ms__refs_build(MPI_Comm comm, ms_relax relax, const ms_ref_job *jobs, int njobs, ms_hull_ref **refs,
                      int *nrefs, int *nends) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *refs = NULL;
  *nrefs = *nends = 0;
  double t0 = MPI_Wtime();
  /* job k on rank k % size; every job is a deterministic relaxation, so the results do not
   * depend on the rank count */
  int mine = 0;
  for (int k = rank; k < njobs; k += size) mine++;
  job_result *loc = calloc((size_t)mine + 1, sizeof *loc), *all = calloc((size_t)njobs + 1, sizeof *all);
  ms_err e = ms_err_agree(comm, loc && all ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (e) {
    free(loc);
    free(all);
    return e;
  }
  proto_lib lib = {NULL, 0};
  e = ms_err_agree(comm, ms_prototype_library_load(&lib.p, &lib.n));
  double tlast = t0;
  for (int k = rank, q = 0; k < njobs && !e; k += size, ++q) {
    run_job(relax, &lib, &jobs[k], &loc[q]);
    double now = MPI_Wtime();
    if (rank == 0 && now - tlast > 30) {
      ms_log_info("hull references: %d of %d relaxed on rank 0 (%.0f s)", q + 1, mine, now - t0);
      tlast = now;
    }
  }
  ms_prototype_library_free(&lib.p, lib.n);
  if (e) {
    free(loc);
    free(all);
    return e;
  }
  /* gather in job order: rank r holds jobs r, r + size, ... */
  char *tmpb = NULL;
  size_t tot = 0;
  e = ms__comm_allgather_bytes(comm, loc, (size_t)mine * sizeof *loc, &tmpb, &tot);
  free(loc);
  if (!e) {
    const job_result *tmp = (const job_result *)tmpb;
    for (int r = 0, p = 0; r < size; ++r)
      for (int k = r; k < njobs; k += size) all[k] = tmp[p++];
  }
  free(tmpb);
  if (e) {
    free(all);
    return e;
  }
  int nfail = 0;
  for (int k = 0; k < njobs; ++k) {
    nfail += isnan(all[k].epa);
    if (isnan(all[k].epa) && rank == 0) {
      char nm[96];
      ms_log_verbose("hull references: %s left out (%s)", ms__refs_job_name(&jobs[k], nm, sizeof nm), all[k].why);
    }
  }
  /* the same selection on every rank from the same results */
  ms_hull_ref *r = calloc((size_t)njobs + 1, sizeof *r);
  e = r ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  int n = 0;
  /* elements: jobs with nsp 1 come first, grouped by element */
  for (int a = 0; a < njobs && !e && jobs[a].nsp == 1;) {
    int b = a;
    while (b < njobs && jobs[b].nsp == 1 && jobs[b].sp[0].Z == jobs[a].sp[0].Z) ++b;
    int best = -1;
    for (int k = a; k < b; ++k)
      if (!isnan(all[k].epa) && (best < 0 || all[k].epa < all[best].epa)) best = k;
    const ms_element *el = ms_element_by_z(jobs[a].sp[0].Z);
    const char *sym = el ? el->symbol : "?";
    if (best < 0) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "hull references: no structure of the element %s converged (tried %d library structures; "
                      "'--verbose' lists why each failed); give it as a user reference (hull.references.structures)",
                      sym, b - a);
      break;
    }
    char std[32];
    standard_structure(jobs, a, b, std, sizeof std);
    for (int k = a; k < b && std[0]; ++k)
      if (strcmp(jobs[k].proto, std) == 0 && !isnan(all[k].epa) && k != best &&
          all[k].epa - all[best].epa > MS_REFS_ARTEFACT_GAP) {
        if (rank == 0)
          ms_log_warn("hull references: %s in %s relaxed to %.3f eV/atom, %.3f eV/atom below its standard-state "
                      "structure %s; a gap that large is an artefact of the model, not physics (docs/stability.md), "
                      "so %s is the reference",
                      sym, jobs[best].proto, all[best].epa, all[k].epa - all[best].epa, std, std);
        best = k;
        break;
      }
    ms_hull_ref *h = &r[n++];
    h->energy = all[best].epa;
    h->comp = all[best].comp;
    snprintf(h->formula, sizeof h->formula, "%s", all[best].formula);
    snprintf(h->prototype, sizeof h->prototype, "%s", all[best].type[0] ? all[best].type : jobs[best].proto);
    a = b;
  }
  int ne = n;
  /* binaries: the lowest converged structure of every composition */
  for (int k = 0; k < njobs && !e; ++k) {
    if (jobs[k].nsp != 2 || isnan(all[k].epa)) continue;
    int q = ne;
    while (q < n && strcmp(r[q].formula, all[k].formula) != 0) ++q; /* reduced element formulas */
    if (q < n && !(all[k].epa < r[q].energy)) continue;
    if (q == n) n++;
    r[q].energy = all[k].epa;
    r[q].comp = all[k].comp;
    snprintf(r[q].formula, sizeof r[q].formula, "%s", all[k].formula);
    snprintf(r[q].prototype, sizeof r[q].prototype, "%s", all[k].type[0] ? all[k].type : jobs[k].proto);
  }
  free(all);
  e = ms_err_agree(comm, e);
  if (e) {
    free(r);
    return e;
  }
  if (rank == 0)
    ms_log_info("hull references: %d relaxations (%d left out: failed or not converged) on %d rank%s in %.1f s: "
                "%d elements, %d binary compositions",
                njobs, nfail, size, size == 1 ? "" : "s", MPI_Wtime() - t0, ne, n - ne);
  *refs = r;
  *nrefs = n;
  *nends = ne;
  return MS_SUCCESS;
}
