/* The dedup and hull stages of the funnel.
 *
 * Dedup groups the relaxed survivors with the structure matcher (match.h), distributed by
 * composition key over the ranks; then every group's representative is chosen again among the
 * members of about the lowest energy: the smallest cell, the highest symmetry, the member built
 * from the prototype the structure matches (ms__dedup_representatives).
 *
 * Hull: ionic-model energies cannot be referred to the elements (there is no metallic Sr or O2
 * molecule in a rigid-ion model), so the components are the binary compounds of each cation
 * with the anion (SrO, TiO2, Al2O3, ...), computed with the same model. Born-Haber terms are
 * then linear in the composition and cancel in hull distances as long as every element keeps
 * one oxidation state (docs/stability.md), which the hull checks. Every rank computes the same
 * hull from all entries (the hull of 10^6 entries fits in memory), so the result does not
 * depend on the number of ranks. */
#include "stability.h"

#include "comm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/io.h"
#include "matscreen/prototype.h"
#include "matscreen/symmetry.h"

ms_err ms__dedup(MPI_Comm comm, const ms_match_options *o, int64_t n, const int64_t *ids,
                 const ms_cell *cells, const double *energy, int64_t *dup_id, long long *ngroups) {
  long *dup = malloc(((size_t)n + 1) * sizeof *dup);
  ms_err e = ms_err_agree(comm, dup ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  ms_match_group_stats st;
  if (!e) e = ms_match_group_mpi(comm, cells, (size_t)n, energy, o, dup, &st);
  /* global index -> candidate id: the concatenation of the ranks' ids in rank order */
  char *allb = NULL;
  size_t total = 0;
  if (!e) e = ms__comm_allgather_bytes(comm, ids, (size_t)n * sizeof *ids, &allb, &total);
  const int64_t *all = (const int64_t *)allb;
  for (int64_t k = 0; k < n && !e; ++k) dup_id[k] = dup[k] < 0 ? -1 : all[dup[k]];
  if (!e) *ngroups = (long long)st.ngroups;
  free(allb);
  free(dup);
  return e;
}

/* ---- representatives of duplicate groups --------------------------------------------------- */

ms_err ms__dedup_types(const ms_match_options *o, int64_t n, const ms_cell *cells, const int64_t *dup_id,
                       ms_dedup_info *info) {
  int np = 0;
  ms_prototype **lib = NULL;
  ms_err e = ms_prototype_library_load(&lib, &np);
  for (int64_t k = 0; k < n && !e; ++k) {
    info[k].type[0] = '\0';
    if (dup_id[k] >= 0) continue;
    int best = -1;
    double rms = 0;
    /* the relaxation's space group is at spglib's default tolerance; at another, it is computed */
    int sg = o->symprec == MS_SYMPREC_DEFAULT && o->sg_angle_tol == MS_ANGLE_TOL_DEFAULT ? info[k].spacegroup : 0;
    e = ms_prototype_identify(&cells[k], sg, lib, np, o, &best, &rms);
    if (!e && best >= 0) snprintf(info[k].type, sizeof info[k].type, "%s", ms_prototype_name(lib[best]));
  }
  ms_prototype_library_free(&lib, np);
  return e;
}

typedef struct {
  int64_t id, key; /* key: id of the group's first survivor (the lowest-energy member) */
  double e;
  ms_dedup_info info;
} dmember;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_member(const void *a, const void *b) {
  const dmember *x = a, *y = b;
  if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
  return (x->id > y->id) - (x->id < y->id);
}

/* 1 if @p a is the better representative of a group whose lowest energy is @p emin and whose
 * structure matches the library prototype @p type. */
static int better(const dmember *a, const dmember *b, double emin, double etol, const char *type) {
  int ia = a->e <= emin + etol, ib = b->e <= emin + etol;
  if (ia != ib) return ia;
  if (a->info.natoms != b->info.natoms) return a->info.natoms < b->info.natoms;
  int pa = ms_point_group_order(a->info.spacegroup), pb = ms_point_group_order(b->info.spacegroup);
  if (pa != pb) return pa > pb;
  int ma = type[0] && strcmp(a->info.prototype, type) == 0, mb = type[0] && strcmp(b->info.prototype, type) == 0;
  if (ma != mb) return ma;
  if (a->e != b->e) return a->e < b->e;
  return a->id < b->id;
}

ms_err ms__dedup_representatives(MPI_Comm comm, double etol, int64_t n, const int64_t *ids, const double *energy,
                                 ms_dedup_info *info, int64_t *dup_id, long long *nchanged) {
  *nchanged = 0;
  /* 1. the groups that have duplicates (keys), known to every rank */
  int64_t nd = 0;
  for (int64_t k = 0; k < n; ++k) nd += dup_id[k] >= 0;
  int64_t *keys = malloc(((size_t)nd + 1) * sizeof *keys);
  ms_err e = ms_err_agree(comm, keys ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (e) {
    free(keys);
    return e;
  }
  nd = 0;
  for (int64_t k = 0; k < n; ++k)
    if (dup_id[k] >= 0) keys[nd++] = dup_id[k];
  char *allk = NULL;
  size_t tk = 0;
  e = ms__comm_allgather_bytes(comm, keys, (size_t)nd * sizeof *keys, &allk, &tk);
  free(keys);
  if (e) return e;
  int64_t nkeys = (int64_t)(tk / sizeof(int64_t));
  int64_t *kk = (int64_t *)allk;
  qsort(kk, (size_t)nkeys, sizeof *kk, cmp_i64);
  int64_t u = 0;
  for (int64_t q = 0; q < nkeys; ++q)
    if (u == 0 || kk[q] != kk[u - 1]) kk[u++] = kk[q];
  nkeys = u;
  /* 2. every member of those groups, known to every rank */
  dmember *mine = calloc((size_t)n + 1, sizeof *mine);
  e = ms_err_agree(comm, mine ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  int64_t nm = 0;
  for (int64_t k = 0; k < n && !e; ++k) {
    int64_t key = dup_id[k] >= 0 ? dup_id[k] : ids[k];
    if (dup_id[k] < 0 && !bsearch(&key, kk, (size_t)nkeys, sizeof *kk, cmp_i64)) continue;
    mine[nm++] = (dmember){ids[k], key, energy[k], info[k]};
  }
  char *allm = NULL;
  size_t tm = 0;
  if (!e) e = ms__comm_allgather_bytes(comm, mine, (size_t)nm * sizeof *mine, &allm, &tm);
  free(mine);
  if (e) {
    free(allk);
    return e;
  }
  int64_t nall = (int64_t)(tm / sizeof(dmember));
  dmember *m = (dmember *)allm;
  qsort(m, (size_t)nall, sizeof *m, cmp_member);
  /* 3. the representative of each group (rep[q] for keys kk[q]), the same on every rank */
  int64_t *rep = malloc(((size_t)nkeys + 1) * sizeof *rep);
  const dmember **first = calloc((size_t)nkeys + 1, sizeof *first);
  e = ms_err_agree(comm, rep && first ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  for (int64_t a = 0, q = 0; !e && a < nall; ++q) {
    int64_t b = a;
    while (b < nall && m[b].key == m[a].key) ++b;
    double emin = INFINITY;
    const dmember *head = &m[a];
    for (int64_t i = a; i < b; ++i) {
      if (m[i].e < emin) emin = m[i].e;
      if (m[i].id == m[i].key) head = &m[i];
    }
    const dmember *best = &m[a];
    for (int64_t i = a + 1; i < b; ++i)
      if (better(&m[i], best, emin, etol, head->info.type)) best = &m[i];
    rep[q] = best->id;
    first[q] = head;
    if (best->id != m[a].key) ++*nchanged;
    a = b;
  }
  /* 4. this rank's entries follow their group's representative */
  for (int64_t k = 0; k < n && !e; ++k) {
    int64_t key = dup_id[k] >= 0 ? dup_id[k] : ids[k];
    const int64_t *at = bsearch(&key, kk, (size_t)nkeys, sizeof *kk, cmp_i64);
    if (!at) continue;
    int64_t q = at - kk;
    if (rep[q] == ids[k]) {
      dup_id[k] = -1;
      memcpy(info[k].type, first[q]->info.type, sizeof info[k].type);
    } else {
      dup_id[k] = rep[q];
    }
  }
  free(rep);
  free(first);
  free(allm);
  free(allk);
  return e;
}

/* Prototypes for a binary AaXx by stoichiometry (reduced a:x). */
static const char *const *binary_prototypes(int a, int x) {
  static const char *const ax[] = {"rocksalt", "cscl", "zincblende", "wurtzite", NULL};
  static const char *const ax2[] = {"rutile", "anatase", "fluorite", "cdi2", NULL};
  static const char *const a2x[] = {"antifluorite", NULL};
  static const char *const a2x3[] = {"corundum", NULL};
  if (a == 1 && x == 1) return ax;
  if (a == 1 && x == 2) return ax2;
  if (a == 2 && x == 1) return a2x;
  if (a == 2 && x == 3) return a2x3;
  return NULL;
}

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

const char *const *ms__hull_end_member_prototypes(const ms_species *cat, const ms_species *an, int *a, int *x) {
  int qc = (int)lround(cat->ox), qa = (int)lround(-an->ox);
  if (qc <= 0 || qa <= 0) return NULL;
  *a = qa / gcd(qc, qa);
  *x = qc / gcd(qc, qa);
  return binary_prototypes(*a, *x);
}

static ms_err reference_of(ms_relax relax, const ms_species *cat, const ms_species *an,
                           ms_hull_ref *ref) {
  int qc = (int)lround(cat->ox), qa = (int)lround(-an->ox);
  MS_CHECK(qc > 0 && qa > 0, MS_ERR_INPUT, "hull references need integer oxidation states");
  int a = qa / gcd(qc, qa), x = qc / gcd(qc, qa);
  const char *const *protos = binary_prototypes(a, x);
  char cs[16], as[16];
  ms_species_format(cat, cs, sizeof cs);
  ms_species_format(an, as, sizeof as);
  MS_CHECK(protos, MS_ERR_INPUT,
           "hull references: no library prototype for the binary of %s and %s (A%dX%d)", cs, as, a, x);
  ref->energy = INFINITY;
  ms_cell cell;
  ms_cell_init(&cell);
  ms_err e = MS_SUCCESS;
  for (int k = 0; protos[k] && !e; ++k) {
    ms_prototype *p = NULL;
    e = ms_prototype_load(protos[k], &p);
    if (e) break;
    ms_species ions[2];
    ions[ms_prototype_label_index(p, "A")] = *cat;
    ions[ms_prototype_label_index(p, "X")] = *an;
    ms_proto_build_options bo;
    ms_proto_build_options_default(&bo);
    e = ms_prototype_build(p, ions, &bo, &cell);
    ms_prototype_free(&p);
    if (e) break;
    ms_relax_result rr;
    memset(&rr, 0, sizeof rr);
    e = ms_relax_run(relax, &cell, &rr);
    if (e) break;
    double epa = rr.energy / cell.natoms;
    if (rr.status == MS_STATUS_CONVERGED && epa < ref->energy) {
      ref->energy = epa;
      snprintf(ref->prototype, sizeof ref->prototype, "%s", protos[k]);
      e = ms_composition_from_cell(&cell, &ref->comp);
      if (!e) e = ms_cell_formula(&cell, 1, ref->formula, sizeof ref->formula);
    }
  }
  ms_cell_free(&cell);
  MS_CALL(e);
  MS_CHECK(isfinite(ref->energy), MS_ERR_INPUT,
           "hull references: no relaxation of the binary of %s and %s converged", cs, as);
  return MS_SUCCESS;
}

ms_err ms__hull_references_auto(MPI_Comm comm, ms_relax relax, const ms_composition *comps,
                                int64_t n, ms_hull_ref **refs, int *nrefs) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  /* distinct cations and anions of all entries (every rank sees every composition) */
  ms_species cat[MS_HULL_MAX_COMPONENTS], an[4];
  int ncat = 0, nan_ = 0;
  ms_err e = MS_SUCCESS;
  for (int64_t k = 0; k < n && !e; ++k)
    for (int s = 0; s < comps[k].n; ++s) {
      const ms_species *sp = &comps[k].sp[s];
      if (!sp->has_ox) {
        e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "hull: species without an oxidation state");
        break;
      }
      ms_species *set = sp->ox > 0 ? cat : an;
      int *cnt = sp->ox > 0 ? &ncat : &nan_;
      int lim = sp->ox > 0 ? MS_HULL_MAX_COMPONENTS : 4;
      int found = 0;
      for (int q = 0; q < *cnt; ++q) found |= ms_species_equal(&set[q], sp);
      if (!found) {
        if (*cnt >= lim) {
          e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "hull: too many distinct ions");
          break;
        }
        set[(*cnt)++] = *sp;
      }
    }
  if (!e && nan_ != 1)
    e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                    "hull references 'auto' need exactly one anion among the survivors, found %d", nan_);
  e = ms_err_agree(comm, e);
  if (e) return e;
  /* sort cations by atomic number then charge, so every rank lists them alike */
  for (int a = 1; a < ncat; ++a)
    for (int b = a; b > 0 && (cat[b].Z < cat[b - 1].Z || (cat[b].Z == cat[b - 1].Z && cat[b].ox < cat[b - 1].ox)); --b) {
      ms_species t = cat[b];
      cat[b] = cat[b - 1];
      cat[b - 1] = t;
    }
  ms_hull_ref *r = calloc((size_t)ncat + 1, sizeof *r);
  MS_CHECK(r, MS_ERR_MEM, "out of memory");
  if (rank == 0)
    for (int k = 0; k < ncat && !e; ++k) e = reference_of(relax, &cat[k], &an[0], &r[k]);
  e = ms_err_agree(comm, e);
  if (e) {
    free(r);
    return e;
  }
  MPI_Bcast(r, (int)(ncat * sizeof *r), MPI_BYTE, 0, comm);
  *refs = r;
  *nrefs = ncat;
  return MS_SUCCESS;
}

typedef struct {
  int64_t id;
  double e;
  ms_composition comp;
} hentry;

static int cmp_hentry(const void *a, const void *b) {
  int64_t x = ((const hentry *)a)->id, y = ((const hentry *)b)->id;
  return (x > y) - (x < y);
}

ms_err ms__hull_stage(MPI_Comm comm, const ms_hull_ref *refs, int nrefs, int nends, int64_t n,
                      const int64_t *ids, const ms_composition *comps, const double *energy,
                      double *e_above, char (*decomp)[MS_DECOMP_LEN], int64_t **stable_ids,
                      int64_t *nstable, unsigned char *ref_stable, int mixed_ox) {
  hentry *loc = calloc((size_t)n + 1, sizeof *loc);
  ms_err e = ms_err_agree(comm, loc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  if (e) {
    free(loc);
    return e;
  }
  for (int64_t k = 0; k < n; ++k) loc[k] = (hentry){ids[k], energy[k], comps[k]};
  char *allb = NULL;
  size_t total = 0;
  e = ms__comm_allgather_bytes(comm, loc, (size_t)n * sizeof *loc, &allb, &total);
  free(loc);
  if (e) return e;
  hentry *all = (hentry *)allb;
  int64_t nall = (int64_t)(total / sizeof(hentry));
  /* entries in id order so the hull (and its tie-breaking) is the same for any rank count */
  qsort(all, (size_t)nall, sizeof *all, cmp_hentry);
  ms_hull h = NULL;
  e = ms_hull_create(&h);
  ms_composition members[MS_HULL_MAX_COMPONENTS];
  for (int k = 0; k < nends; ++k) members[k] = refs[k].comp;
  if (!e) e = ms_hull_set_end_members(h, nends, members);
  if (!e) ms_hull_allow_mixed_oxidation(h, mixed_ox);
  for (int k = 0; k < nrefs && !e; ++k) e = ms_hull_add(h, &refs[k].comp, refs[k].energy, NULL);
  for (int64_t k = 0; k < nall && !e; ++k) e = ms_hull_add(h, &all[k].comp, all[k].e, NULL);
  if (!e) e = ms_hull_compute(h);
  if (!e) {
    for (int64_t k = 0; k < n; ++k) {
      /* local entry k is global entry nrefs + (its position in id order) */
      int64_t lo = 0, hi = nall - 1;
      while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (all[mid].id < ids[k]) lo = mid + 1; else hi = mid;
      }
      e_above[k] = ms_hull_e_above(h, (size_t)(nrefs + lo));
      /* "0.5 SrO + 0.5 TiO2" (atom fractions; candidates as id:N formula); "" on the hull */
      decomp[k][0] = '\0';
      ms_hull_result hr;
      if (!e && ms_hull_result_get(h, (size_t)(nrefs + lo), &hr) == MS_SUCCESS && !hr.stable) {
        size_t used = 0;
        for (int q = 0; q < hr.ndecomp && used < MS_DECOMP_LEN; ++q) {
          char name[64];
          size_t di = hr.decomp[q];
          if (di < (size_t)nrefs)
            snprintf(name, sizeof name, "%s", refs[di].formula);
          else {
            char fo[48];
            if (ms_composition_formula(&all[di - (size_t)nrefs].comp, fo, sizeof fo)) {
              ms_err_clear();
              snprintf(fo, sizeof fo, "?");
            }
            snprintf(name, sizeof name, "id:%lld %s", (long long)all[di - (size_t)nrefs].id, fo);
          }
          int w = snprintf(decomp[k] + used, MS_DECOMP_LEN - used, "%s%.4g %s", q ? " + " : "",
                           hr.fraction[q], name);
          if (w < 0) break;
          used += (size_t)w;
        }
      } else {
        ms_err_clear();
      }
    }
    size_t ns = 0;
    const size_t *st = ms_hull_stable(h, &ns);
    int64_t *out = malloc((ns + 1) * sizeof *out);
    int64_t m = 0;
    memset(ref_stable, 0, (size_t)nrefs);
    for (size_t q = 0; q < ns && out; ++q) {
      if (st[q] >= (size_t)nrefs) out[m++] = all[st[q] - (size_t)nrefs].id;
      else ref_stable[st[q]] = 1;
    }
    *stable_ids = out;
    *nstable = m;
  }
  ms_hull_destroy(&h);
  free(all);
  return e;
}

ms_err ms__hull_energy_at(const ms_hull_ref *refs, int nrefs, int nends, int64_t n,
                          const ms_composition *comps, const double *energy, int64_t nq,
                          const ms_composition *qcomp, double *e_hull, int mixed_ox) {
  /* The queries enter as entries far above every phase, so they are never hull vertices and
   * change nothing; their energy above the hull then gives the hull's energy under them. */
  double top = -HUGE_VAL;
  for (int k = 0; k < nrefs; ++k) top = fmax(top, refs[k].energy);
  for (int64_t k = 0; k < n; ++k)
    if (isfinite(energy[k])) top = fmax(top, energy[k]);
  top = (isfinite(top) ? top : 0.0) + 100.0;
  ms_hull h = NULL;
  ms_err e = ms_hull_create(&h);
  ms_composition members[MS_HULL_MAX_COMPONENTS];
  for (int k = 0; k < nends && k < MS_HULL_MAX_COMPONENTS; ++k) members[k] = refs[k].comp;
  if (!e) e = ms_hull_set_end_members(h, nends, members);
  if (!e) ms_hull_allow_mixed_oxidation(h, mixed_ox);
  for (int k = 0; k < nrefs && !e; ++k) e = ms_hull_add(h, &refs[k].comp, refs[k].energy, NULL);
  size_t first = (size_t)nrefs;
  for (int64_t k = 0; k < n && !e; ++k)
    if (isfinite(energy[k])) {
      e = ms_hull_add(h, &comps[k], energy[k], NULL);
      first++;
    }
  for (int64_t q = 0; q < nq && !e; ++q) e = ms_hull_add(h, &qcomp[q], top, NULL);
  if (!e) e = ms_hull_compute(h);
  for (int64_t q = 0; q < nq && !e; ++q) e_hull[q] = top - ms_hull_e_above(h, first + (size_t)q);
  ms_hull_destroy(&h);
  return e;
}

/* Give the species of an uncharged composition (a CSV formula) the oxidation states the end
 * members have for their elements. */
static ms_err charge_like(ms_composition *c, const ms_hull_ref *ends, int nends, const char *what) {
  for (int s = 0; s < c->n; ++s) {
    int found = 0;
    for (int k = 0; k < nends && !found; ++k)
      for (int q = 0; q < ends[k].comp.n && !found; ++q)
        if (ends[k].comp.sp[q].Z == c->sp[s].Z) {
          c->sp[s] = ends[k].comp.sp[q];
          found = 1;
        }
    const ms_element *el = ms_element_by_z(c->sp[s].Z);
    MS_CHECK(found, MS_ERR_INPUT,
             "%s: element %s is not among the campaign's ions, so its oxidation state in the model is unknown",
             what, el ? el->symbol : "?");
  }
  return MS_SUCCESS;
}

static ms_err push_ref(ms_hull_ref **refs, int *nrefs, const ms_hull_ref *r) {
  MS_CHECK(*nrefs < 4096, MS_ERR_INPUT, "hull references: more than 4096 user phases");
  ms_hull_ref *q = realloc(*refs, (size_t)(*nrefs + 1) * sizeof *q);
  MS_CHECK(q, MS_ERR_MEM, "out of memory");
  q[(*nrefs)++] = *r;
  *refs = q;
  return MS_SUCCESS;
}

ms_err ms__hull_read_entries(FILE *f, const char *csv, const ms_hull_ref *ends, int nends, ms_hull_ref **refs,
                             int *nrefs) {
  char line[1024];
  int lineno = 0, header = 0;
  ms_err e = MS_SUCCESS;
  while (!e && fgets(line, sizeof line, f)) {
    lineno++;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s:%d: line longer than %d characters", csv,
                      lineno, (int)sizeof line - 2);
      break;
    }
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    char *fields[3] = {line, NULL, NULL};
    int nf = 1;
    for (char *p = line; *p && nf < 3; ++p)
      if (*p == ',') {
        *p = 0;
        fields[nf++] = p + 1;
      }
    if (!header) {
      header = 1;
      if (strcmp(fields[0], "formula") != 0 || nf < 2 || strncmp(fields[1], "energy_per_atom_eV", 18) != 0) {
        e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "%s:%d: the header must be formula,energy_per_atom_eV[,name]", csv, lineno);
      }
      continue;
    }
    char what[1200];
    snprintf(what, sizeof what, "%s:%d", csv, lineno);
    char *end = NULL;
    double en = nf >= 2 ? strtod(fields[1], &end) : NAN;
    if (nf < 2 || end == fields[1] || *end || !isfinite(en)) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: energy_per_atom_eV must be a number, got '%s'",
                      what, nf >= 2 ? fields[1] : "");
      break;
    }
    ms_hull_ref r;
    memset(&r, 0, sizeof r);
    e = ms_composition_parse(fields[0], &r.comp);
    if (e) {
      char msg[600];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: %s", what, msg);
      break;
    }
    e = charge_like(&r.comp, ends, nends, what);
    if (e) break;
    r.energy = en;
    if (ms_composition_formula(&r.comp, r.formula, sizeof r.formula)) ms_err_clear();
    snprintf(r.prototype, sizeof r.prototype, "%s", nf >= 3 && fields[2][0] ? fields[2] : "csv entry");
    e = push_ref(refs, nrefs, &r);
  }
  if (!e && ferror(f)) e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: read error", csv);
  if (!e && !header) e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s: empty file (expected a header formula,energy_per_atom_eV)", csv);
  return e;
}

static ms_err read_csv_refs(const char *csv, const ms_hull_ref *ends, int nends, ms_hull_ref **refs, int *nrefs) {
  FILE *f = fopen(csv, "r");
  MS_CHECK(f, MS_ERR_FILE, "%s: cannot read the hull reference entries: %s", csv, strerror(errno));
  ms_err e = ms__hull_read_entries(f, csv, ends, nends, refs, nrefs);
  fclose(f);
  return e;
}

static ms_err relax_structure_refs(ms_relax relax, const char *path, ms_hull_ref **refs, int *nrefs) {
  ms_cell_list list;
  ms_cell_list_init(&list);
  ms_err e = ms_structure_read(path, MS_FORMAT_AUTO, &list);
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  for (int k = 0; !e && k < list.n; ++k) {
    ms_cell *c = &list.cells[k];
    ms_relax_result rr;
    memset(&rr, 0, sizeof rr);
    e = ms_relax_run(relax, c, &rr);
    if (e) break;
    if (rr.status != MS_STATUS_CONVERGED) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "%s: hull reference structure %d did not relax with the campaign's model (%s)", path, k + 1,
                      ms_status_name(rr.status));
      break;
    }
    ms_hull_ref r;
    memset(&r, 0, sizeof r);
    r.energy = rr.energy / c->natoms;
    e = ms_composition_from_cell(c, &r.comp);
    if (!e) e = ms_cell_formula(c, 1, r.formula, sizeof r.formula);
    snprintf(r.prototype, sizeof r.prototype, "%s", base);
    if (!e) e = push_ref(refs, nrefs, &r);
  }
  ms_cell_list_free(&list);
  return e;
}

ms_err ms__hull_references_user(MPI_Comm comm, ms_relax relax, const char *const *paths, int npaths,
                                const char *csv, const ms_hull_ref *ends, int nends,
                                ms_hull_ref **refs, int *nrefs) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int n0 = *nrefs;
  ms_err e = MS_SUCCESS;
  if (rank == 0) {
    for (int k = 0; k < npaths && !e; ++k) e = relax_structure_refs(relax, paths[k], refs, nrefs);
    if (!e && csv) e = read_csv_refs(csv, ends, nends, refs, nrefs);
  }
  MS_CALL(ms_err_agree(comm, e));
  int n = *nrefs;
  MPI_Bcast(&n, 1, MPI_INT, 0, comm);
  if (rank != 0) {
    ms_hull_ref *q = realloc(*refs, (size_t)(n + 1) * sizeof *q);
    e = q ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    if (q) *refs = q;
  }
  MS_CALL(ms_err_agree(comm, e));
  MPI_Bcast(*refs + n0, (int)((size_t)(n - n0) * sizeof **refs), MPI_BYTE, 0, comm);
  *nrefs = n;
  return MS_SUCCESS;
}
