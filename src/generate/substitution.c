/* Generators prototype_substitution and partial_substitution.
 *
 * prototype_substitution: every assignment of one ion per site label, for every listed
 * prototype. Candidates that are not charge neutral are never counted, and assignments that a
 * symmetry of the structure type maps onto each other (labels listed together under
 * `equivalent_labels` in the prototype file, e.g. B and Bp of the double perovskite) are
 * counted once. Ids are decoded without building anything:
 *   - each group of equivalent labels is one "digit" whose values are the canonical tuples of
 *     ions (the tuple that is lexicographically smallest, by (Z, oxidation state), among its
 *     permutations that the label lists allow); a label in no group is a group of one;
 *   - a table need[j][q] counts the ways to fill digits j.. with total charge q (dynamic
 *     programming over the digits), so the number of neutral candidates is need[0][0] and the
 *     i-th one is found digit by digit (mixed radix skipping non-neutral branches).
 * Cost per id: sum of the digits' sizes; memory: digits x charge range.
 * With plain elements (no oxidation states) there is no charge: every assignment is a
 * candidate unless the item's stoichiometry rules (compositions, max_elements, distinct)
 * exclude it; stoich.c counts and decodes those the same way, digit by digit.
 *
 * partial_substitution (SAPS-like ordered substitution): one prototype with one ion per label,
 * in the primitive or conventional cell, optionally a supercell; k of the n sites of a label
 * (optionally of one Wyckoff site) are replaced by another ion, one candidate per
 * symmetry-distinct arrangement (ordering.h), for each listed k whose result is neutral. A
 * list of substitutions on disjoint site sets is applied at once (coupled, e.g. charge-
 * compensating): every neutral combination of their counts, one ordering per combination.
 * With plain elements every combination of counts is a candidate set (no charges). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_impl.h"
#include "matscreen/ordering.h"
#include "matscreen/prototype.h"
#include "stoich.h"

#define MAX_IONS 64
#define MAX_LABELS 16
#define MAX_PROTOS 64

/* ---- shared parsing ---------------------------------------------------------------------- */

typedef struct {
  int nlabels;
  char name[MAX_LABELS][16];
  int nions[MAX_LABELS];
  ms_species ion[MAX_LABELS][MAX_IONS];
  int used[MAX_LABELS];
  ms_ynode *node[MAX_LABELS];
  int plain;           /* the species are plain elements (no oxidation states) */
  char first[224];     /* the first species and where it is, for the mixing error */
} label_ions;

/* Record the kind of the item's first species, or refuse a species of the other kind. */
static ms_err check_kind(label_ions *li, const ms_ynode *node, const char *path,
                         const ms_species *sp, int first) {
  if (first) {
    char name[32];
    li->plain = !sp->has_ox;
    snprintf(li->first, sizeof li->first, "'%s' (%s)", ms_species_format(sp, name, sizeof name),
             path);
    return MS_SUCCESS;
  }
  if ((!sp->has_ox) != li->plain) return ms__mixed_species_error(node, path, sp, li->first);
  return MS_SUCCESS;
}

static ms_err parse_sites(ms_ynode *item, const char *path, int single, label_ions *li) {
  memset(li, 0, sizeof *li);
  char sub[160];
  snprintf(sub, sizeof sub, "%s.sites", path);
  ms_ynode *s = ms_ynode_get(item, "sites");
  if (!s)
    return ms_ynode_error(item, path,
                          "missing required key 'sites' (label -> %s, e.g. "
                          "{A: %s, X: %s})",
                          single ? "ion" : "list of ions", single ? "Sr2+" : "[Sr2+, Ba2+]",
                          single ? "O2-" : "[O2-]");
  MS_CALL(ms_ynode_expect(s, MS_YMAP, sub));
  if (s->n > MAX_LABELS) return ms_ynode_error(s, sub, "at most %d labels", MAX_LABELS);
  for (int k = 0; k < s->n; ++k) {
    s->used[k] = 1;
    char lp[192];
    snprintf(lp, sizeof lp, "%s.%s", sub, s->keys[k]->value);
    if (strlen(s->keys[k]->value) >= sizeof li->name[0])
      return ms_ynode_error(s->keys[k], lp, "label too long");
    snprintf(li->name[k], sizeof li->name[k], "%s", s->keys[k]->value);
    li->node[k] = s->items[k];
    ms_ynode *v = s->items[k];
    if (v->type == MS_YSCALAR) {
      MS_CALL(ms__y_species(v, lp, &li->ion[k][0]));
      MS_CALL(check_kind(li, v, lp, &li->ion[k][0], k == 0));
      li->nions[k] = 1;
    } else {
      if (single)
        return ms_ynode_error(v, lp, "must be one ion or element (e.g. 'Ti4+' or 'Ni')");
      MS_CALL(ms_ynode_expect(v, MS_YSEQ, lp));
      if (v->n < 1 || v->n > MAX_IONS)
        return ms_ynode_error(v, lp, "give 1..%d ions or elements", MAX_IONS);
      for (int j = 0; j < v->n; ++j) {
        char ip[224];
        snprintf(ip, sizeof ip, "%s[%d]", lp, j);
        MS_CALL(ms__y_species(v->items[j], ip, &li->ion[k][j]));
        MS_CALL(check_kind(li, v->items[j], ip, &li->ion[k][j], k == 0 && j == 0));
        for (int q = 0; q < j; ++q)
          if (ms_species_equal(&li->ion[k][q], &li->ion[k][j]))
            return ms_ynode_error(v->items[j], ip, "%s listed twice",
                                  li->plain ? "element" : "ion");
      }
      li->nions[k] = v->n;
    }
  }
  li->nlabels = s->n;
  return MS_SUCCESS;
}

static int find_label(const label_ions *li, const char *name) {
  for (int k = 0; k < li->nlabels; ++k)
    if (strcmp(li->name[k], name) == 0) return k;
  return -1;
}

static ms_err parse_cell_options(ms_ynode *item, const char *path, ms_proto_build_options *o) {
  ms_proto_build_options_default(o);
  o->primitive = 1;
  char sub[160];
  ms_ynode *n = ms_ynode_get(item, "cell");
  if (n) {
    snprintf(sub, sizeof sub, "%s.cell", path);
    const char *t;
    MS_CALL(ms_ynode_string(n, sub, &t));
    if (strcmp(t, "primitive") == 0)
      o->primitive = 1;
    else if (strcmp(t, "conventional") == 0)
      o->primitive = 0;
    else
      return ms_ynode_error(n, sub, "must be 'primitive' or 'conventional', got '%s'", t);
  }
  n = ms_ynode_get(item, "lattice");
  if (n) {
    snprintf(sub, sizeof sub, "%s.lattice", path);
    const char *t;
    MS_CALL(ms_ynode_string(n, sub, &t));
    if (strcmp(t, "radii") == 0)
      o->lattice = MS_PROTO_LATTICE_RADII;
    else if (strcmp(t, "reference") == 0)
      o->lattice = MS_PROTO_LATTICE_REFERENCE;
    else
      return ms_ynode_error(n, sub, "must be 'radii' or 'reference', got '%s'", t);
  }
  return MS_SUCCESS;
}

static ms_err load_prototype(const ms_ynode *node, const char *path, ms_prototype **p) {
  const char *name;
  MS_CALL(ms_ynode_string(node, path, &name));
  if (ms_prototype_load(name, p) != MS_SUCCESS) {
    char msg[1200];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_err_clear();
    return ms_ynode_error(node, path, "%s", msg);
  }
  return MS_SUCCESS;
}

/* ---- prototype_substitution -------------------------------------------------------------- */

typedef struct {
  int nlab;
  int lab[4]; /* prototype label indices */
  int cfg[4]; /* index into the label_ions table per label */
  int ntuple;
  int (*tuple)[4]; /* ion index per label */
  long *charge;    /* per tuple, e per conventional cell */
  int (*z)[4];     /* plain elements: atomic number per label, per tuple */
} digit;

typedef struct {
  ms_prototype *proto;
  int ndig;
  digit dig[MS_PROTO_MAX_LABELS];
  long qmin, qmax; /* a range holding every partial charge sum */
  int64_t *need;   /* (ndig + 1) x (qmax - qmin + 1) */
  int64_t count;
  int64_t all;     /* assignments before the charge or stoichiometry rules */
  ms__stoich_digit sdig[MS_PROTO_MAX_LABELS];
  ms__stoich *stoich; /* plain elements: the rules' counts */
} proto_space;

typedef struct {
  label_ions li;
  ms__stoich_rules rules; /* plain elements */
  ms_proto_build_options bopt;
  int nproto;
  proto_space ps[MAX_PROTOS];
  int64_t offset[MAX_PROTOS + 1];
} subst_data;

static void subst_destroy(void *d) {
  subst_data *s = d;
  if (!s) return;
  for (int p = 0; p < s->nproto; ++p) {
    proto_space *ps = &s->ps[p];
    for (int j = 0; j < ps->ndig; ++j) {
      free(ps->dig[j].tuple);
      free(ps->dig[j].charge);
      free(ps->dig[j].z);
    }
    free(ps->need);
    ms__stoich_free(&ps->stoich);
    ms_prototype_free(&ps->proto);
  }
  free(s);
}

static int ion_cmp(const ms_species *a, const ms_species *b) {
  if (a->Z != b->Z) return a->Z < b->Z ? -1 : 1;
  if (a->ox != b->ox) return a->ox < b->ox ? -1 : 1;
  return 0;
}

/* Canonical tuples of one digit (see the file comment). */
static ms_err make_digit(const label_ions *li, digit *d) {
  int total = 1;
  for (int a = 0; a < d->nlab; ++a) total *= li->nions[d->cfg[a]];
  MS_CHECK(!li->plain || total <= MS__STOICH_MAX_TUPLES, MS_ERR_INPUT,
           "%d element combinations for %d equivalent labels: at most %d", total, d->nlab,
           MS__STOICH_MAX_TUPLES);
  MS_CALL(MS_CALLOC((size_t)total, &d->tuple));
  MS_CALL(MS_CALLOC((size_t)total, &d->charge));
  for (int t = 0; t < total; ++t) {
    int idx[4], r = t;
    for (int a = d->nlab - 1; a >= 0; --a) {
      idx[a] = r % li->nions[d->cfg[a]];
      r /= li->nions[d->cfg[a]];
    }
    const ms_species *sp[4];
    for (int a = 0; a < d->nlab; ++a) sp[a] = &li->ion[d->cfg[a]][idx[a]];
    /* Every permutation of the group's labels (heap's algorithm would do; m <= 4 so all 24
     * orderings are listed by brute force over index maps). */
    int canonical = 1, m = d->nlab;
    int pidx[4];
    for (int code = 0; code < 256 && canonical; ++code) {
      int used = 0, ok = 1;
      for (int a = 0; a < m; ++a) {
        pidx[a] = (code >> (2 * a)) & 3;
        if (pidx[a] >= m || (used >> pidx[a]) & 1) ok = 0;
        used |= 1 << (pidx[a] & 3);
      }
      if (!ok) continue;
      /* Permuted assignment: label a gets the ion of label pidx[a]; allowed if that ion is in
       * label a's list. */
      int allowed = 1;
      for (int a = 0; a < m && allowed; ++a) {
        int found = 0;
        for (int j = 0; j < li->nions[d->cfg[a]] && !found; ++j)
          found = ms_species_equal(&li->ion[d->cfg[a]][j], sp[pidx[a]]);
        allowed = found;
      }
      if (!allowed) continue;
      for (int a = 0; a < m; ++a) {
        int c = ion_cmp(sp[pidx[a]], sp[a]);
        if (c < 0) {
          canonical = 0;
          break;
        }
        if (c > 0) break;
      }
    }
    if (!canonical) continue;
    /* The charge is filled in by the caller, which knows the label counts. */
    memcpy(d->tuple[d->ntuple++], idx, sizeof idx);
  }
  return MS_SUCCESS;
}

/* Plain elements: the stoichiometry rules' count over the digits (stoich.c). */
static ms_err build_space_plain(subst_data *s, proto_space *ps, const ms_ynode *pnode,
                                const char *ppath) {
  ms_prototype *p = ps->proto;
  int natoms = 0;
  for (int l = 0; l < ms_prototype_nlabels(p); ++l) natoms += ms_prototype_label_count(p, l);
  for (int j = 0; j < ps->ndig; ++j) {
    digit *d = &ps->dig[j];
    MS_CALL(make_digit(&s->li, d));
    MS_CALL(MS_CALLOC((size_t)(d->ntuple ? d->ntuple : 1), &d->z));
    for (int t = 0; t < d->ntuple; ++t)
      for (int a = 0; a < d->nlab; ++a) d->z[t][a] = s->li.ion[d->cfg[a]][d->tuple[t][a]].Z;
    ms__stoich_digit *sd = &ps->sdig[j];
    sd->nlab = d->nlab;
    for (int a = 0; a < d->nlab; ++a) sd->count[a] = ms_prototype_label_count(p, d->lab[a]);
    sd->ntuple = d->ntuple;
    sd->z = (const int(*)[4])d->z;
  }
  if (ms__stoich_create(&s->rules, ps->ndig, ps->sdig, natoms, &ps->stoich, &ps->count)) {
    char msg[600];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_err_clear();
    return ms_ynode_error(pnode, ppath, "%s: %s", ms_prototype_name(p), msg);
  }
  return MS_SUCCESS;
}

static ms_err build_space(subst_data *s, proto_space *ps, const ms_ynode *pnode,
                          const char *ppath) {
  ms_prototype *p = ps->proto;
  int nl = ms_prototype_nlabels(p);
  int cfg_of[MS_PROTO_MAX_LABELS];
  for (int l = 0; l < nl; ++l) {
    cfg_of[l] = find_label(&s->li, ms_prototype_label(p, l));
    if (cfg_of[l] < 0)
      return ms_ynode_error(pnode, ppath,
                            "prototype '%s' (%s) has site label '%s' but sites gives no ions "
                            "for it",
                            ms_prototype_name(p), ms_prototype_formula(p),
                            ms_prototype_label(p, l));
    s->li.used[cfg_of[l]] = 1;
  }
  int in_group[MS_PROTO_MAX_LABELS] = {0};
  ps->ndig = 0;
  for (int g = 0; g < ms_prototype_nequiv(p); ++g) {
    const int *labs;
    int m = ms_prototype_equiv(p, g, &labs);
    digit *d = &ps->dig[ps->ndig++];
    d->nlab = m;
    for (int a = 0; a < m; ++a) {
      d->lab[a] = labs[a];
      d->cfg[a] = cfg_of[labs[a]];
      in_group[labs[a]] = 1;
    }
  }
  for (int l = 0; l < nl; ++l) {
    if (in_group[l]) continue;
    digit *d = &ps->dig[ps->ndig++];
    d->nlab = 1;
    d->lab[0] = l;
    d->cfg[0] = cfg_of[l];
  }
  /* Order the digits by label so ids read like "first label most significant". */
  for (int a = 1; a < ps->ndig; ++a) {
    digit t = ps->dig[a];
    int b = a - 1;
    while (b >= 0 && ps->dig[b].lab[0] > t.lab[0]) {
      ps->dig[b + 1] = ps->dig[b];
      --b;
    }
    ps->dig[b + 1] = t;
  }
  ps->all = 1;
  for (int j = 0; j < ps->ndig; ++j)
    for (int a = 0; a < ps->dig[j].nlab; ++a) {
      int64_t m = s->li.nions[ps->dig[j].cfg[a]];
      ps->all = ps->all > INT64_MAX / m ? INT64_MAX : ps->all * m;
    }
  if (s->li.plain) return build_space_plain(s, ps, pnode, ppath);
  ps->qmin = ps->qmax = 0;
  for (int j = 0; j < ps->ndig; ++j) {
    digit *d = &ps->dig[j];
    MS_CALL(make_digit(&s->li, d));
    long lo = 0, hi = 0;
    for (int t = 0; t < d->ntuple; ++t) {
      long q = 0;
      for (int a = 0; a < d->nlab; ++a)
        q += (long)ms_prototype_label_count(p, d->lab[a]) *
             (long)s->li.ion[d->cfg[a]][d->tuple[t][a]].ox;
      d->charge[t] = q;
      if (t == 0 || q < lo) lo = q;
      if (t == 0 || q > hi) hi = q;
    }
    /* Every partial sum over a suffix of the digits lies in [sum min(lo, 0), sum max(hi, 0)]. */
    ps->qmin += lo < 0 ? lo : 0;
    ps->qmax += hi > 0 ? hi : 0;
  }
  /* need[j][q]: ways for digits j..ndig-1 to sum to charge q (q in qmin..qmax). */
  long range = ps->qmax - ps->qmin + 1;
  MS_CHECK(range < 100000, MS_ERR_INPUT, "prototype %s: charge range too large",
           ms_prototype_name(p));
  MS_CALL(MS_CALLOC((size_t)(ps->ndig + 1) * (size_t)range, &ps->need));
  int64_t *need = ps->need;
  if (0 >= ps->qmin && 0 <= ps->qmax) need[(size_t)ps->ndig * range + (0 - ps->qmin)] = 1;
  for (int j = ps->ndig - 1; j >= 0; --j) {
    const digit *d = &ps->dig[j];
    for (long q = ps->qmin; q <= ps->qmax; ++q) {
      int64_t sum = 0;
      for (int t = 0; t < d->ntuple; ++t) {
        long r = q - d->charge[t];
        if (r < ps->qmin || r > ps->qmax) continue;
        int64_t v = need[(size_t)(j + 1) * range + (r - ps->qmin)];
        MS_CHECK(sum <= INT64_MAX - v, MS_ERR_INPUT, "prototype %s: more than 2^63 candidates",
                 ms_prototype_name(p));
        sum += v;
      }
      need[(size_t)j * range + (q - ps->qmin)] = sum;
    }
  }
  ps->count = (0 >= ps->qmin && 0 <= ps->qmax) ? need[0 - ps->qmin] : 0;
  return MS_SUCCESS;
}

static const char *const subst_keys[] = {"generator",    "prototypes", "sites",    "cell",
                                         "lattice",      "compositions", "max_elements",
                                         "distinct",     NULL};

/* The stoichiometry rules of an item of plain elements; with ions they are refused (ions are
 * filtered by charge neutrality). */
static ms_err parse_rules(ms_ynode *item, const char *path, label_ions *li, ms__stoich_rules *r) {
  memset(r, 0, sizeof *r);
  static const char *const keys[] = {"compositions", "max_elements", "distinct", NULL};
  char sub[192];
  for (int k = 0; keys[k]; ++k) {
    ms_ynode *n = ms_ynode_get(item, keys[k]);
    if (!n) continue;
    snprintf(sub, sizeof sub, "%s.%s", path, keys[k]);
    if (!li->plain)
      return ms_ynode_error(n, sub,
                            "applies to plain elements (e.g. 'Ni'); these sites are ions, which "
                            "are filtered by charge neutrality instead");
  }
  ms_ynode *n = ms_ynode_get(item, "distinct");
  if (n) {
    snprintf(sub, sizeof sub, "%s.distinct", path);
    MS_CALL(ms_ynode_bool(n, sub, &r->distinct));
  }
  long long me = 0;
  MS_CALL(ms_ynode_key_int(item, "max_elements", path, 1, 32, &me, NULL));
  r->max_elements = (int)me;
  n = ms_ynode_get(item, "compositions");
  if (!n) return MS_SUCCESS;
  snprintf(sub, sizeof sub, "%s.compositions", path);
  int nc = n->type == MS_YSEQ ? n->n : 1;
  if (nc < 1 || nc > MS__STOICH_MAX_COMPOSITIONS)
    return ms_ynode_error(n, sub, "give 1..%d compositions", MS__STOICH_MAX_COMPOSITIONS);
  for (int k = 0; k < nc; ++k) {
    ms_ynode *f = n->type == MS_YSEQ ? n->items[k] : n;
    char fp[224], why[256];
    snprintf(fp, sizeof fp, "%s[%d]", sub, k);
    const char *t;
    MS_CALL(ms_ynode_string(f, fp, &t));
    ms__stoich_formula *c = &r->composition[k];
    if (ms__stoich_parse_formula(t, c, why, sizeof why)) return ms_ynode_error(f, fp, "%s", why);
    /* every element of an allowed composition must be offered on some label */
    for (int e = 0; e < c->n; ++e) {
      int offered = 0;
      for (int l = 0; l < li->nlabels && !offered; ++l)
        for (int j = 0; j < li->nions[l] && !offered; ++j) offered = li->ion[l][j].Z == c->z[e];
      if (!offered)
        return ms_ynode_error(f, fp, "'%s' contains %s, which no label of sites offers", t,
                              ms_element_by_z(c->z[e])->symbol);
    }
    for (int q = 0; q < k; ++q) {
      const ms__stoich_formula *o = &r->composition[q];
      if (o->n == c->n && !memcmp(o->z, c->z, sizeof o->z) && !memcmp(o->count, c->count, sizeof o->count))
        return ms_ynode_error(f, fp, "'%s' is the composition of '%s' listed before", t, o->text);
    }
  }
  r->ncompositions = nc;
  return MS_SUCCESS;
}

static ms_err subst_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                           void **out) {
  (void)ctx;
  subst_data *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  ms_err e = MS_SUCCESS;
  char sub[160];
  snprintf(sub, sizeof sub, "%s.prototypes", path);
  ms_ynode *pl = ms_ynode_get(item, "prototypes");
  if (!pl)
    e = ms_ynode_error(item, path,
                       "missing required key 'prototypes' (a list of names, "
                       "see 'matscreen info prototypes')");
  if (!e) e = parse_sites(item, path, 0, &s->li);
  if (!e) e = parse_rules(item, path, &s->li, &s->rules);
  if (!e) e = parse_cell_options(item, path, &s->bopt);
  if (!e && pl->type == MS_YSCALAR) {
    s->nproto = 1;
    e = load_prototype(pl, sub, &s->ps[0].proto);
    if (!e) e = build_space(s, &s->ps[0], pl, sub);
  } else if (!e) {
    e = ms_ynode_expect(pl, MS_YSEQ, sub);
    if (!e && (pl->n < 1 || pl->n > MAX_PROTOS))
      e = ms_ynode_error(pl, sub, "give 1..%d prototypes", MAX_PROTOS);
    for (int k = 0; !e && k < pl->n; ++k) {
      char pp[192];
      snprintf(pp, sizeof pp, "%s[%d]", sub, k);
      e = load_prototype(pl->items[k], pp, &s->ps[k].proto);
      if (!e) s->nproto = k + 1;
      for (int j = 0; !e && j < k; ++j)
        if (strcmp(ms_prototype_name(s->ps[j].proto), ms_prototype_name(s->ps[k].proto)) == 0)
          e = ms_ynode_error(pl->items[k], pp, "prototype listed twice");
      if (!e) e = build_space(s, &s->ps[k], pl->items[k], pp);
    }
  }
  for (int k = 0; !e && k < s->li.nlabels; ++k)
    if (!s->li.used[k])
      e = ms_ynode_error(s->li.node[k], "sites", "no listed prototype has a site labelled '%s'",
                         s->li.name[k]);
  if (!e) e = ms_ynode_check_unused(item, path, subst_keys);
  for (int p = 0; !e && p < s->nproto; ++p) {
    if (s->offset[p] > INT64_MAX - s->ps[p].count)
      e = ms_ynode_error(item, path, "more than 2^63 candidates");
    else
      s->offset[p + 1] = s->offset[p] + s->ps[p].count;
  }
  if (e) {
    subst_destroy(s);
    return e;
  }
  *out = s;
  return MS_SUCCESS;
}

static int64_t subst_count(const void *d) {
  const subst_data *s = d;
  return s->offset[s->nproto];
}

/* Ion per prototype label of candidate @p i of prototype space @p ps. */
static void decode(const subst_data *s, const proto_space *ps, int64_t i, ms_species *ions) {
  if (ps->stoich) {
    int choice[MS_PROTO_MAX_LABELS];
    ms__stoich_decode(ps->stoich, i, choice);
    for (int j = 0; j < ps->ndig; ++j) {
      const digit *d = &ps->dig[j];
      for (int a = 0; a < d->nlab; ++a) ions[d->lab[a]] = s->li.ion[d->cfg[a]][d->tuple[choice[j]][a]];
    }
    return;
  }
  long range = ps->qmax - ps->qmin + 1, acc = 0;
  for (int j = 0; j < ps->ndig; ++j) {
    const digit *d = &ps->dig[j];
    for (int t = 0; t < d->ntuple; ++t) {
      long r = -acc - d->charge[t];
      int64_t n =
          (r < ps->qmin || r > ps->qmax) ? 0 : ps->need[(size_t)(j + 1) * range + (r - ps->qmin)];
      if (i < n) {
        for (int a = 0; a < d->nlab; ++a) ions[d->lab[a]] = s->li.ion[d->cfg[a]][d->tuple[t][a]];
        acc += d->charge[t];
        break;
      }
      i -= n;
    }
  }
}

static ms_err subst_build(const void *d, int64_t i, ms_cell *out, ms_candidate_info *info) {
  const subst_data *s = d;
  int p = 0;
  while (p + 1 < s->nproto && s->offset[p + 1] <= i) ++p;
  const proto_space *ps = &s->ps[p];
  ms_species ions[MS_PROTO_MAX_LABELS];
  decode(s, ps, i - s->offset[p], ions);
  MS_CALL(ms_prototype_build(ps->proto, ions, &s->bopt, out));
  snprintf(info->prototype, sizeof info->prototype, "%s", ms_prototype_name(ps->proto));
  info->spacegroup = ms_prototype_spacegroup(ps->proto, &info->hall);
  /* Formula units: gcd of the label counts in the built cell. */
  int g = 0;
  int nl = ms_prototype_nlabels(ps->proto);
  for (int l = 0; l < nl; ++l) {
    int a = ms_prototype_label_count(ps->proto, l), b = g;
    while (b) {
      int t = a % b;
      a = b;
      b = t;
    }
    g = a;
  }
  int natoms_fu = 0;
  for (int l = 0; l < nl; ++l) natoms_fu += ms_prototype_label_count(ps->proto, l) / (g ? g : 1);
  info->formula_units = natoms_fu ? out->natoms / natoms_fu : 0;
  return MS_SUCCESS;
}

static ms_err subst_describe(const void *d, FILE *fp) {
  const subst_data *s = d;
  if (!s->li.plain) {
    fprintf(fp, "prototype_substitution: %lld neutral candidates\n", (long long)subst_count(d));
    for (int p = 0; p < s->nproto; ++p) {
      const proto_space *ps = &s->ps[p];
      fprintf(fp, "  %-22s %-8s %8lld neutral of %lld assignments\n",
              ms_prototype_name(ps->proto), ms_prototype_formula(ps->proto), (long long)ps->count,
              (long long)ps->all);
    }
    return MS_SUCCESS;
  }
  const ms__stoich_rules *r = &s->rules;
  fprintf(fp, "prototype_substitution: %lld candidates of plain elements (", (long long)subst_count(d));
  if (!r->ncompositions && !r->max_elements && !r->distinct) fprintf(fp, "every assignment");
  const char *sep = "";
  if (r->ncompositions) {
    fprintf(fp, "compositions");
    for (int k = 0; k < r->ncompositions; ++k) fprintf(fp, "%s%s", k ? ", " : " ", r->composition[k].text);
    sep = "; ";
  }
  if (r->max_elements) fprintf(fp, "%sat most %d elements", sep, r->max_elements), sep = "; ";
  if (r->distinct) fprintf(fp, "%sno element on two labels", sep);
  fprintf(fp, ")\n");
  for (int p = 0; p < s->nproto; ++p) {
    const proto_space *ps = &s->ps[p];
    fprintf(fp, "  %-22s %-8s %8lld of %lld assignments\n", ms_prototype_name(ps->proto),
            ms_prototype_formula(ps->proto), (long long)ps->count, (long long)ps->all);
  }
  return MS_SUCCESS;
}

static int subst_species(const void *d, ms_species *out, int max) {
  const subst_data *s = d;
  int n = 0;
  for (int l = 0; l < s->li.nlabels; ++l)
    for (int k = 0; k < s->li.nions[l]; ++k) ms__species_collect(out, &n, max, &s->li.ion[l][k]);
  return n;
}

static const ms_generator_ops subst_ops = {subst_create, subst_count,   subst_build, subst_describe,
                                           subst_destroy, subst_species};

static const ms_param_spec subst_params[] = {
    {"prototypes", "list of prototype names (or files)", "",
     "structure types from the library ('matscreen info prototypes')"},
    {"sites", "map label -> list of ions, or of plain elements", "",
     "species to try on each site label, e.g. {A: [Sr2+, Ba2+], B: [Ti4+], X: [O2-]} (ions: "
     "charge-neutral assignments) or {A: [Ni, Co], B: [Al, Ga]} (plain elements: every "
     "assignment, restricted by the rules below); every label of every listed prototype needs a "
     "list; ions and plain elements do not mix in one item"},
    {"compositions", "list of formulas", "any",
     "plain elements only: allowed compositions (reduced formulas, e.g. [NiAl, Ni3Al]); a "
     "candidate's composition must be one of them"},
    {"max_elements", "integer", "any", "plain elements only: at most this many elements per candidate"},
    {"distinct", "true | false", "false",
     "plain elements only: no element on two labels (labels that a symmetry permutes count as "
     "different labels)"},
    {"cell", "primitive | conventional", "primitive", "cell written for each candidate"},
    {"lattice", "radii | reference", "radii",
     "lattice from Shannon radii of the chosen ions (plain elements: from their atomic volumes; "
     "docs/generation.md), or the reference compound's lattice unchanged"},
    {NULL, NULL, NULL, NULL},
};

static const char *const subst_refs[] = {
    "A. Merchant et al., Scaling deep learning for materials discovery, Nature 624, 80 (2023) "
    "(substitution-based candidate generation)",
    "R. D. Shannon, Acta Cryst. A32, 751 (1976) (ionic radii for the lattice guess)",
    NULL,
};

const ms_generator_info ms__generator_prototype_substitution = {
    "prototype_substitution",
    "every charge-neutral assignment of ions (or every assignment of plain elements allowed by "
    "stoichiometry rules) to the site labels of library prototypes",
    subst_params, subst_refs, &subst_ops};

/* ---- partial_substitution ---------------------------------------------------------------- */

/* One substitution: `count` of the sites of a label (optionally one Wyckoff site) become `by`. */
typedef struct {
  int label;
  char label_name[16];
  char wyckoff[8];
  ms_species by;
  double dq; /* charge change per substituted site */
  int nsites;
  int ncounts;
  int counts[MS_ORDERING_MAX_SITES];
} partial_sub;

typedef struct {
  ms_prototype *proto;
  ms_cell parent;
  int super[3][3];
  int nsub;
  partial_sub sub[MS_ORDERING_MAX_GROUPS];
  int ncombo;                               /* neutral combinations of counts */
  int (*k)[MS_ORDERING_MAX_GROUPS];         /* k[c][g]: sites of substitution g in combination c */
  ms_ordering **ord;                        /* one ordering per combination */
  int64_t *offset;                          /* first candidate of each combination, ncombo + 1 */
  int nsites;                               /* the union of the substitutions' sites */
  int sites[MS_ORDERING_MAX_SITES];
  int group[MS_ORDERING_MAX_SITES];         /* which substitution a site belongs to */
  int64_t skipped_charged;
} partial_data;

#define PARTIAL_MAX_COMBOS 4096

static void partial_destroy(void *d) {
  partial_data *s = d;
  if (!s) return;
  for (int j = 0; j < s->ncombo; ++j)
    if (s->ord) ms_ordering_free(&s->ord[j]);
  free(s->ord);
  free(s->k);
  free(s->offset);
  ms_cell_free(&s->parent);
  ms_prototype_free(&s->proto);
  free(s);
}

static const char *const partial_keys[] = {"generator", "prototype",       "sites",
                                           "supercell", "substitute",      "cell",
                                           "lattice",   "max_enumeration", NULL};
static const char *const substitute_keys[] = {"label",  "wyckoff",     "ion",     "element",
                                              "counts", "count_range", NULL};

/* One entry of `substitute` (a map) into u; the sites it covers are found later. */
static ms_err parse_one_substitute(partial_data *s, const ms_species *ions, const char *first,
                                   ms_ynode *st, const char *sub, partial_sub *u, int *want_site) {
  MS_CALL(ms_ynode_expect(st, MS_YMAP, sub));
  ms_ynode *ln = ms_ynode_get(st, "label");
  if (!ln) return ms_ynode_error(st, sub, "missing required key 'label'");
  const char *lab;
  char lp[224];
  snprintf(lp, sizeof lp, "%s.label", sub);
  MS_CALL(ms_ynode_string(ln, lp, &lab));
  u->label = ms_prototype_label_index(s->proto, lab);
  if (u->label < 0)
    return ms_ynode_error(ln, lp, "%s has no label '%s'", ms_prototype_name(s->proto), lab);
  snprintf(u->label_name, sizeof u->label_name, "%s", lab);
  *want_site = -1;
  ms_ynode *wn = ms_ynode_get(st, "wyckoff");
  if (wn) {
    const char *w;
    snprintf(lp, sizeof lp, "%s.wyckoff", sub);
    MS_CALL(ms_ynode_string(wn, lp, &w));
    for (int k = 0; k < ms_prototype_nsites(s->proto); ++k) {
      ms_prototype_site si;
      MS_CALL(ms_prototype_site_info(s->proto, k, &si));
      if (si.label == u->label && strcmp(si.wyckoff, w) == 0) *want_site = k;
    }
    if (*want_site < 0) return ms_ynode_error(wn, lp, "no site '%s' with Wyckoff %s", lab, w);
    snprintf(u->wyckoff, sizeof u->wyckoff, "%s", w);
  }
  /* `ion: Zr4+` for a parent of ions, `element: Co` for a parent of plain elements */
  ms_ynode *in = ms_ynode_get(st, "ion"), *en = ms_ynode_get(st, "element");
  if (in && en) return ms_ynode_error(en, sub, "give either ion or element, not both");
  if (!in && !en)
    return ms_ynode_error(st, sub, "missing required key 'ion' (or 'element' for plain elements)");
  snprintf(lp, sizeof lp, "%s.%s", sub, in ? "ion" : "element");
  MS_CALL(ms__y_species(in ? in : en, lp, &u->by));
  if (u->by.has_ox != ions[u->label].has_ox)
    return ms__mixed_species_error(in ? in : en, lp, &u->by, first);
  if (in && !u->by.has_ox)
    return ms_ynode_error(in, lp, "needs an oxidation state (e.g. 'Ti4+'); write element: for a "
                                  "plain element");
  if (en && u->by.has_ox)
    return ms_ynode_error(en, lp, "is an ion: write ion: for ions with oxidation states");
  if (ms_species_equal(&u->by, &ions[u->label]))
    return ms_ynode_error(in ? in : en, lp, "is already the %s on '%s'", in ? "ion" : "element", lab);
  u->dq = u->by.ox - ions[u->label].ox;
  return MS_SUCCESS;
}

/* counts: N or a list [N1, N2, ...]; count_range: [min, max]; once u->nsites is known. */
static ms_err parse_counts(ms_ynode *st, const char *sub, partial_sub *u) {
  char lp[224];
  snprintf(lp, sizeof lp, "%s.counts", sub);
  ms_ynode *cn = ms_ynode_get(st, "counts");
  ms_ynode *cr = ms_ynode_get(st, "count_range");
  if (!cn == !cr)
    return ms_ynode_error(st, sub,
                          "give either counts (N or [N1, N2, ...]) or count_range "
                          "([min, max])");
  u->ncounts = 0;
  if (cn) {
    int nc = cn->type == MS_YSEQ ? cn->n : 1;
    if (nc < 1 || nc > MS_ORDERING_MAX_SITES)
      return ms_ynode_error(cn, lp, "give 1..%d counts", MS_ORDERING_MAX_SITES);
    for (int j = 0; j < nc; ++j) {
      ms_ynode *v_node = cn->type == MS_YSEQ ? cn->items[j] : cn;
      long long v;
      MS_CALL(ms_ynode_int(v_node, lp, &v));
      if (v < 1 || v > u->nsites)
        return ms_ynode_error(v_node, lp, "must be in 1..%d (sites of '%s'), got %lld",
                              u->nsites, u->label_name, v);
      for (int q = 0; q < u->ncounts; ++q)
        if (u->counts[q] == v) return ms_ynode_error(v_node, lp, "count %lld listed twice", v);
      u->counts[u->ncounts++] = (int)v;
    }
  } else {
    long long kk[2];
    MS_CALL(ms_ynode_key_int_range(st, "count_range", sub, 1, u->nsites, kk, NULL));
    for (long long v = kk[0]; v <= kk[1]; ++v) u->counts[u->ncounts++] = (int)v;
  }
  return ms_ynode_check_unused(st, sub, substitute_keys);
}

/* Entry g of `substitute` (a map, or a list of maps) and its path for messages. */
static ms_ynode *substitute_entry(ms_ynode *st, const char *sub, int g, char *path, size_t len) {
  if (st->type != MS_YSEQ) {
    snprintf(path, len, "%s", sub);
    return st;
  }
  snprintf(path, len, "%s[%d]", sub, g);
  return st->items[g];
}

static ms_err partial_setup(partial_data *s, ms_ynode *item, const char *path) {
  char sub[192];
  snprintf(sub, sizeof sub, "%s.prototype", path);
  ms_ynode *pn = ms_ynode_get(item, "prototype");
  if (!pn) return ms_ynode_error(item, path, "missing required key 'prototype'");
  MS_CALL(load_prototype(pn, sub, &s->proto));
  label_ions li;
  MS_CALL(parse_sites(item, path, 1, &li));
  ms_proto_build_options bo;
  MS_CALL(parse_cell_options(item, path, &bo));
  int nl = ms_prototype_nlabels(s->proto);
  ms_species ions[MS_PROTO_MAX_LABELS];
  for (int l = 0; l < nl; ++l) {
    int c = find_label(&li, ms_prototype_label(s->proto, l));
    if (c < 0)
      return ms_ynode_error(ms_ynode_get(item, "sites"), "sites", "no ion for label '%s' of %s",
                            ms_prototype_label(s->proto, l), ms_prototype_name(s->proto));
    li.used[c] = 1;
    ions[l] = li.ion[c][0];
  }
  for (int c = 0; c < li.nlabels; ++c)
    if (!li.used[c])
      return ms_ynode_error(li.node[c], "sites", "%s has no site labelled '%s'",
                            ms_prototype_name(s->proto), li.name[c]);
  ms_cell base;
  ms_cell_init(&base);
  ms_err e = ms_prototype_build(s->proto, ions, &bo, &base);
  if (e) {
    ms_cell_free(&base);
    char msg[600];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_err_clear();
    return ms_ynode_error(ms_ynode_get(item, "sites"), "sites", "%s", msg);
  }
  /* Supercell: [n1, n2, n3] or a 3x3 integer matrix (rows). */
  memset(s->super, 0, sizeof s->super);
  for (int k = 0; k < 3; ++k) s->super[k][k] = 1;
  ms_ynode *sc = ms_ynode_get(item, "supercell");
  snprintf(sub, sizeof sub, "%s.supercell", path);
  if (sc) {
    e = ms_ynode_expect(sc, MS_YSEQ, sub);
    if (!e && sc->n != 3) e = ms_ynode_error(sc, sub, "must be [n1, n2, n3] or a 3x3 matrix");
    for (int r = 0; !e && r < 3; ++r) {
      long long v;
      if (sc->items[r]->type == MS_YSCALAR) {
        e = ms_ynode_int(sc->items[r], sub, &v);
        if (!e && (v < 1 || v > 8)) e = ms_ynode_error(sc->items[r], sub, "must be in 1..8");
        if (!e) s->super[r][r] = (int)v;
      } else {
        e = ms_ynode_expect(sc->items[r], MS_YSEQ, sub);
        if (!e && sc->items[r]->n != 3)
          e = ms_ynode_error(sc->items[r], sub, "rows have 3 integers");
        for (int c = 0; !e && c < 3; ++c) {
          e = ms_ynode_int(sc->items[r]->items[c], sub, &v);
          if (!e && (v < -8 || v > 8))
            e = ms_ynode_error(sc->items[r]->items[c], sub, "must be in -8..8");
          if (!e) s->super[r][c] = (int)v;
        }
      }
    }
  }
  ms_cell_init(&s->parent);
  if (!e) e = ms_cell_supercell(&base, (const int(*)[3])s->super, &s->parent);
  int nbase = base.natoms, nimg = nbase ? s->parent.natoms / nbase : 0;
  ms_cell_free(&base);
  if (e) {
    char msg[600];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_err_clear();
    return ms_ynode_error(sc ? sc : item, sub, "%s", msg);
  }
  /* What to substitute: one map, or a list of maps for a coupled (e.g. charge-compensating)
   * substitution on different sites. */
  snprintf(sub, sizeof sub, "%s.substitute", path);
  ms_ynode *st = ms_ynode_get(item, "substitute");
  if (!st)
    return ms_ynode_error(item, path,
                          "missing required key 'substitute' ({label, ion or element, counts} "
                          "or a list of them)");
  int nsub = st->type == MS_YSEQ ? st->n : 1;
  if (nsub < 1 || nsub > MS_ORDERING_MAX_GROUPS)
    return ms_ynode_error(st, sub, "give 1..%d substitutions", MS_ORDERING_MAX_GROUPS);
  int want_site[MS_ORDERING_MAX_GROUPS];
  s->nsub = nsub;
  for (int g = 0; g < nsub; ++g) {
    char gs[208];
    ms_ynode *node = substitute_entry(st, sub, g, gs, sizeof gs);
    partial_sub *u = &s->sub[g];
    MS_CALL(parse_one_substitute(s, ions, li.first, node, gs, u, &want_site[g]));
    for (int h = 0; h < g; ++h)
      if (s->sub[h].label == u->label &&
          (want_site[h] < 0 || want_site[g] < 0 || want_site[h] == want_site[g]))
        return ms_ynode_error(node, gs,
                              "substitutes sites of '%s' that substitution %d already covers "
                              "(give each label, or each Wyckoff site of a label, once)",
                              u->label_name, h + 1);
  }
  /* The sites of each substitution: atoms of its label (and Wyckoff site) in the parent, in
   * atom order (ms_cell_supercell orders atoms by original atom, then image); together the
   * set to order. */
  s->nsites = 0;
  for (int a = 0; a < s->parent.natoms; ++a) {
    int site = ms_prototype_site_of_atom(s->proto, bo.primitive, a / nimg);
    ms_prototype_site si;
    MS_CALL(ms_prototype_site_info(s->proto, site, &si));
    for (int g = 0; g < nsub; ++g) {
      if (si.label != s->sub[g].label || (want_site[g] >= 0 && site != want_site[g])) continue;
      if (s->nsites == MS_ORDERING_MAX_SITES)
        return ms_ynode_error(st, sub, "more than %d sites to order; use a smaller cell",
                              MS_ORDERING_MAX_SITES);
      s->group[s->nsites] = g;
      s->sites[s->nsites++] = a;
      s->sub[g].nsites++;
    }
  }
  for (int g = 0; g < nsub; ++g) {
    char gs[208];
    ms_ynode *node = substitute_entry(st, sub, g, gs, sizeof gs);
    MS_CALL(parse_counts(node, gs, &s->sub[g]));
  }
  ms_ordering_options oo;
  ms_ordering_options_default(&oo);
  long long maxe = oo.max_enumeration;
  MS_CALL(ms_ynode_key_int(item, "max_enumeration", path, 1, (long long)1e10, &maxe, NULL));
  oo.max_enumeration = maxe;
  /* Every combination of counts (the last substitution's count varies fastest) whose total
   * charge change is zero; the others are never counted. */
  int64_t ncomb = 1;
  for (int g = 0; g < nsub; ++g) ncomb *= s->sub[g].ncounts;
  int cap = 16;
  s->k = malloc((size_t)cap * sizeof *s->k);
  s->ord = calloc((size_t)cap, sizeof *s->ord);
  s->offset = calloc((size_t)cap + 1, sizeof *s->offset);
  MS_CHECK(s->k && s->ord && s->offset, MS_ERR_MEM, "out of memory");
  for (int64_t c = 0; c < ncomb; ++c) {
    int kk[MS_ORDERING_MAX_GROUPS];
    int64_t rest = c;
    double dq = 0;
    for (int g = nsub - 1; g >= 0; --g) {
      kk[g] = s->sub[g].counts[rest % s->sub[g].ncounts];
      rest /= s->sub[g].ncounts;
      dq += s->sub[g].dq * kk[g];
    }
    if (fabs(dq) > 1e-9) {
      ++s->skipped_charged; /* not neutral: never counted */
      continue;
    }
    if (s->ncombo == PARTIAL_MAX_COMBOS)
      return ms_ynode_error(st, sub, "more than %d neutral combinations of counts; split the item",
                            PARTIAL_MAX_COMBOS);
    if (s->ncombo == cap) {
      int nc = 2 * cap;
      void *k2 = realloc(s->k, (size_t)nc * sizeof *s->k);
      if (k2) s->k = k2;
      void *o2 = realloc(s->ord, (size_t)nc * sizeof *s->ord);
      if (o2) s->ord = o2;
      void *f2 = realloc(s->offset, ((size_t)nc + 1) * sizeof *s->offset);
      if (f2) s->offset = f2;
      MS_CHECK(k2 && o2 && f2, MS_ERR_MEM, "out of memory");
      cap = nc;
    }
    s->ord[s->ncombo] = NULL;
    e = ms_ordering_create_groups(&s->parent, s->sites, s->group, s->nsites, kk, nsub, &oo,
                                  &s->ord[s->ncombo]);
    if (e) {
      char msg[600];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      ms_err_clear();
      return ms_ynode_error(st, sub, "%s", msg);
    }
    memcpy(s->k[s->ncombo], kk, sizeof kk);
    s->offset[s->ncombo + 1] = s->offset[s->ncombo] + ms_ordering_count(s->ord[s->ncombo]);
    s->ncombo++;
  }
  return ms_ynode_check_unused(item, path, partial_keys);
}

static ms_err partial_create(ms_ynode *item, const char *path, const ms_generator_context *ctx,
                             void **out) {
  (void)ctx;
  partial_data *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  ms_cell_init(&s->parent);
  ms_err e = partial_setup(s, item, path);
  if (e) {
    partial_destroy(s);
    return e;
  }
  *out = s;
  return MS_SUCCESS;
}

static int64_t partial_count(const void *d) {
  const partial_data *s = d;
  return s->ncombo ? s->offset[s->ncombo] : 0;
}

static ms_err partial_build(const void *d, int64_t i, ms_cell *out, ms_candidate_info *info) {
  const partial_data *s = d;
  int j = 0;
  while (j + 1 < s->ncombo && s->offset[j + 1] <= i) ++j;
  int chosen[MS_ORDERING_MAX_SITES], chosen_group[MS_ORDERING_MAX_SITES];
  MS_CALL(ms_ordering_get_groups(s->ord[j], i - s->offset[j], chosen, chosen_group));
  MS_CALL(ms_cell_copy(out, &s->parent));
  int kind[MS_ORDERING_MAX_GROUPS], ktot = 0;
  for (int g = 0; g < s->nsub; ++g) {
    MS_CALL(ms_cell_add_species(out, &s->sub[g].by, &kind[g]));
    ktot += s->k[j][g];
  }
  for (int a = 0; a < ktot; ++a) out->kind[chosen[a]] = kind[chosen_group[a]];
  char ion[24];
  size_t l = strlen(out->label);
  for (int g = 0; g < s->nsub; ++g) {
    snprintf(out->label + l, sizeof out->label - l, "%c%dx%s->%s", g ? ',' : ':', s->k[j][g],
             s->sub[g].label_name, ms_species_format(&s->sub[g].by, ion, sizeof ion));
    l = strlen(out->label);
  }
  snprintf(out->label + l, sizeof out->label - l, "#%lld", (long long)(i - s->offset[j]));
  snprintf(info->prototype, sizeof info->prototype, "%s", ms_prototype_name(s->proto));
  info->spacegroup = 0; /* an ordering lowers the prototype's symmetry */
  info->hall = 0;
  return MS_SUCCESS;
}

static ms_err partial_describe(const void *d, FILE *fp) {
  const partial_data *s = d;
  char ion[24];
  fprintf(fp, "partial_substitution: %s, ", ms_prototype_name(s->proto));
  for (int g = 0; g < s->nsub; ++g)
    fprintf(fp, "%s%d sites of %s%s%s -> %s", g ? " with " : "", s->sub[g].nsites,
            s->sub[g].label_name, s->sub[g].wyckoff[0] ? " " : "", s->sub[g].wyckoff,
            ms_species_format(&s->sub[g].by, ion, sizeof ion));
  fprintf(fp, " in a %d-atom cell: %lld candidates\n", s->parent.natoms,
          (long long)partial_count(d));
  for (int j = 0; j < s->ncombo; ++j) {
    fprintf(fp, "  k = ");
    int w = 0;
    for (int g = 0; g < s->nsub; ++g) w += fprintf(fp, "%s%d", g ? "," : "", s->k[j][g]);
    fprintf(fp, "%*s %8lld symmetry-distinct arrangements (%d permutations)\n", w < 3 ? 3 - w : 0,
            "", (long long)ms_ordering_count(s->ord[j]), ms_ordering_group_order(s->ord[j]));
  }
  if (s->skipped_charged)
    fprintf(fp, "  %lld count%s skipped: not charge neutral\n", (long long)s->skipped_charged,
            s->skipped_charged == 1 ? "" : "s");
  return MS_SUCCESS;
}

static int partial_species(const void *d, ms_species *out, int max) {
  const partial_data *s = d;
  int n = 0;
  for (int k = 0; k < s->parent.nkinds; ++k) ms__species_collect(out, &n, max, &s->parent.species[k]);
  for (int g = 0; g < s->nsub; ++g) ms__species_collect(out, &n, max, &s->sub[g].by);
  return n;
}

static const ms_generator_ops partial_ops = {partial_create,   partial_count,   partial_build,
                                             partial_describe, partial_destroy, partial_species};

static const ms_param_spec partial_params[] = {
    {"prototype", "prototype name or file", "", "the parent structure type"},
    {"sites", "map label -> ion, or -> plain element", "",
     "the parent's ion on each label, e.g. {A: Sr2+, B: Ti4+, X: O2-}, or its element "
     "({A: Ni, B: Al}: plain elements, no neutrality filter)"},
    {"supercell", "[n1, n2, n3] or 3x3 integers", "[1, 1, 1]", "supercell of the parent cell"},
    {"substitute", "{label, ion | element, counts | count_range, wyckoff} or a list of them", "",
     "replace k of the label's sites (optionally only those of Wyckoff site 'wyckoff') by ion "
     "(or, for a parent of plain elements, by element), for k in counts (N or a list) or "
     "count_range ([min, max]); a list substitutes on several labels at once (coupled, e.g. "
     "charge-compensating), over every combination of their counts; with ions, combinations "
     "whose result is not neutral are skipped"},
    {"cell", "primitive | conventional", "primitive", "parent cell before the supercell"},
    {"lattice", "radii | reference", "radii",
     "lattice of the parent (as for prototype_substitution)"},
    {"max_enumeration", "integer", "1000000", "largest C(n, k) enumerated per count"},
    {NULL, NULL, NULL, NULL},
};

static const char *const partial_refs[] = {
    "A. Merchant et al., Nature 624, 80 (2023) (symmetry-aware partial substitutions, SAPS)",
    "R. Grau-Crespo, S. Hamad, C. R. A. Catlow and N. H. de Leeuw, J. Phys.: Condens. Matter 19, "
    "256201 (2007) (symmetry-adapted configurational ensembles)",
    NULL,
};

const ms_generator_info ms__generator_partial_substitution = {
    "partial_substitution",
    "symmetry-distinct orderings of k substituted sites of one label (or of several labels at "
    "once) in a (super)cell",
    partial_params, partial_refs, &partial_ops};
