/* Structure prototypes: reading inputs/prototypes/NAME.yaml, expanding the Wyckoff sites with
 * the setting's operations, guessing the lattice from Shannon radii, building cells.
 *
 * A prototype file gives a space-group setting (spglib Hall number), the lattice of a
 * reference compound, and Wyckoff sites with labels, positions written with free parameters
 * ("[x, x, 0]", x = 0.3048), coordination numbers and Wyckoff symbols. Loading expands every
 * site with spg_get_symmetry_from_database's operations (images closer than 1e-4 in
 * fractional units are one point) and checks what can be checked: the orbit size equals the
 * Wyckoff multiplicity, moving the free parameters keeps the orbit size (the written form
 * really is the special position), the lattice is invariant under the setting's rotations,
 * atoms of different sites are at least 0.5 Å apart, and the reference compound (ions) is
 * neutral; a reference compound may instead be given as plain elements (intermetallics,
 * elements), one kind or the other for all its labels.
 *
 * Lattice guess for ions: every cation site's first shell of anions in the reference geometry
 * (the CN nearest anion neighbours) gives bonds of length d; the target length is
 * t = r(cation, its CN) + r(anion, its CN), Shannon ionic radii with the nearest-CN rule of
 * ms_shannon_lookup. The isotropic scale minimising sum w (s d - t)^2 (w = the cation site's
 * multiplicity) is s = sum w d t / sum w d^2. Shapes and free parameters stay those of the
 * reference compound: differences in axial ratios between compounds are left to the
 * relaxation.
 *
 * Lattice guess for plain elements (no oxidation states, so no ionic radii): the cell volume is
 * the sum of the atoms' volumes in their elemental solids (Zen's law), V = sum_atoms v(el),
 * corrected by the reference compound's own deviation from that sum when the reference
 * compound is itself given as plain elements: V = V_ref * sum v(el) / sum v(el_ref). So a
 * prototype built for its own reference compound keeps its measured lattice (a dimer in its
 * box stays a dimer in that box), and an intermetallic inherits the contraction of its
 * reference intermetallic. A reference compound of ions says nothing about neutral atoms, so
 * there the plain sum is used.
 *
 * Everything that does not depend on the ions (orbits, primitive sites, neighbour shells) is
 * computed once at load time, so building a cell costs a few radius look-ups and copies. */
#include "matscreen/prototype.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/wyckoff.h"
#include "matscreen/yaml.h"

#define MAX_PARAMS 3
#define NSHELL 48

typedef struct {
  double c0;
  double coef[MAX_PARAMS];
} affine_expr;

typedef struct {
  int label;
  char wyckoff[8];
  int multiplicity;
  int cn;
  int nparams;
  char pname[MAX_PARAMS][8];
  double pval[MAX_PARAMS];
  affine_expr coord[3];
  char position[96];
  char params_text[96];
  double frac[3];
  int first_atom; /* index of the representative in the conventional atom list */
  /* neighbour shell of the representative: site index and distance (Å, reference lattice) */
  int nshell;
  int shell_site[NSHELL];
  double shell_d[NSHELL];
} proto_site;

struct ms_prototype {
  char *name, *description, *reference, *compound, *source;
  char formula[64];
  ms_spacegroup sg;
  double lattice[3][3];
  int nlabels;
  char label[MS_PROTO_MAX_LABELS][8];
  int label_count[MS_PROTO_MAX_LABELS];
  ms_species ref_ion[MS_PROTO_MAX_LABELS];
  int ref_plain; /* the reference compound is given as plain elements */
  int nsites;
  proto_site site[MS_PROTO_MAX_SITES];
  int nequiv;
  int equiv_n[MS_PROTO_MAX_LABELS];
  int equiv[MS_PROTO_MAX_LABELS][MS_PROTO_MAX_LABELS];
  /* conventional cell */
  int nconv;
  double (*conv)[3];
  int *conv_site;
  /* primitive cell */
  double prim_lattice_factor[3][3]; /* = sg.to_primitive */
  int nprim;
  double (*prim)[3];
  int *prim_site;
};

/* ------------------------------------------------------------------------------------------ */

static ms_err dupstr(const char *s, char **out) {
  *out = strdup(s ? s : "");
  MS_CHECK(*out, MS_ERR_MEM, "out of memory copying a string");
  return MS_SUCCESS;
}

void ms_prototype_free(ms_prototype **pp) {
  if (!pp || !*pp) return;
  ms_prototype *p = *pp;
  free(p->name);
  free(p->description);
  free(p->reference);
  free(p->compound);
  free(p->source);
  free(p->conv);
  free(p->conv_site);
  free(p->prim);
  free(p->prim_site);
  free(p);
  *pp = NULL;
}

const char *ms_prototype_name(const ms_prototype *p) { return p->name; }
const char *ms_prototype_description(const ms_prototype *p) { return p->description; }
const char *ms_prototype_reference(const ms_prototype *p) { return p->reference; }
const char *ms_prototype_compound(const ms_prototype *p) { return p->compound; }
const char *ms_prototype_formula(const ms_prototype *p) { return p->formula; }
int ms_prototype_spacegroup(const ms_prototype *p, int *hall) {
  if (hall) *hall = p->sg.hall;
  return p->sg.number;
}
void ms_prototype_reference_lattice(const ms_prototype *p, double L[3][3]) {
  memcpy(L, p->lattice, sizeof p->lattice);
}
int ms_prototype_nlabels(const ms_prototype *p) { return p->nlabels; }
const char *ms_prototype_label(const ms_prototype *p, int k) {
  return k >= 0 && k < p->nlabels ? p->label[k] : NULL;
}
int ms_prototype_label_index(const ms_prototype *p, const char *name) {
  for (int k = 0; k < p->nlabels; ++k)
    if (strcmp(p->label[k], name) == 0) return k;
  return -1;
}
int ms_prototype_label_count(const ms_prototype *p, int k) {
  return k >= 0 && k < p->nlabels ? p->label_count[k] : 0;
}
const ms_species *ms_prototype_reference_ion(const ms_prototype *p, int k) {
  return k >= 0 && k < p->nlabels ? &p->ref_ion[k] : NULL;
}
int ms_prototype_reference_plain(const ms_prototype *p) { return p->ref_plain; }
int ms_prototype_nequiv(const ms_prototype *p) { return p->nequiv; }
int ms_prototype_equiv(const ms_prototype *p, int k, const int **labels) {
  if (k < 0 || k >= p->nequiv) {
    *labels = NULL;
    return 0;
  }
  *labels = p->equiv[k];
  return p->equiv_n[k];
}
int ms_prototype_nsites(const ms_prototype *p) { return p->nsites; }
int ms_prototype_natoms(const ms_prototype *p, int primitive) {
  return primitive ? p->nprim : p->nconv;
}
int ms_prototype_site_of_atom(const ms_prototype *p, int primitive, int atom) {
  if (atom < 0 || atom >= (primitive ? p->nprim : p->nconv)) return -1;
  return primitive ? p->prim_site[atom] : p->conv_site[atom];
}

ms_err ms_prototype_site_info(const ms_prototype *p, int k, ms_prototype_site *out) {
  MS_CHECK(k >= 0 && k < p->nsites, MS_ERR_ARG, "site index %d out of range (0..%d)", k,
           p->nsites - 1);
  const proto_site *s = &p->site[k];
  out->label = s->label;
  out->wyckoff = s->wyckoff;
  out->multiplicity = s->multiplicity;
  out->cn = s->cn;
  memcpy(out->frac, s->frac, sizeof out->frac);
  out->position = s->position;
  out->params = s->params_text;
  return MS_SUCCESS;
}

void ms_proto_build_options_default(ms_proto_build_options *o) {
  o->lattice = MS_PROTO_LATTICE_RADII;
  o->primitive = 0;
  o->volume_scale = 1.0;
}

/* ------------------------------------------------------------------------------------------ */
/* Coordinate expressions: "x", "-x", "x+1/2", "1/2-x", "2x", "0.25", "-x+y".                  */

static int param_index(proto_site *s, const char *name) {
  for (int k = 0; k < s->nparams; ++k)
    if (strcmp(s->pname[k], name) == 0) return k;
  return -1;
}

/* Parse one coordinate; on failure *why says what was wrong. */
static int parse_expr(const char *text, proto_site *s, affine_expr *e, char *why, size_t wl) {
  memset(e, 0, sizeof *e);
  const char *c = text;
  int nterms = 0;
  while (isspace((unsigned char)*c)) ++c;
  if (!*c) {
    snprintf(why, wl, "empty coordinate");
    return 0;
  }
  while (*c) {
    double sign = 1;
    if (*c == '+' || *c == '-') {
      sign = *c == '-' ? -1 : 1;
      ++c;
      while (isspace((unsigned char)*c)) ++c;
    } else if (nterms > 0) {
      snprintf(why, wl, "expected '+' or '-' at '%s'", c);
      return 0;
    }
    double num = 1;
    int have_num = 0;
    if (isdigit((unsigned char)*c) || *c == '.') {
      char *end;
      num = strtod(c, &end);
      if (end == c) {
        snprintf(why, wl, "bad number at '%s'", c);
        return 0;
      }
      c = end;
      have_num = 1;
      while (isspace((unsigned char)*c)) ++c;
      if (*c == '/') {
        ++c;
        while (isspace((unsigned char)*c)) ++c;
        char *end2;
        double den = strtod(c, &end2);
        if (end2 == c || den == 0) {
          snprintf(why, wl, "bad fraction in '%s'", text);
          return 0;
        }
        num /= den;
        c = end2;
        while (isspace((unsigned char)*c)) ++c;
      }
      if (*c == '*') {
        ++c;
        while (isspace((unsigned char)*c)) ++c;
      }
    }
    if (isalpha((unsigned char)*c)) {
      char name[8];
      size_t n = 0;
      while ((isalnum((unsigned char)*c) || *c == '_') && n + 1 < sizeof name) name[n++] = *c++;
      name[n] = '\0';
      if (isalnum((unsigned char)*c)) {
        snprintf(why, wl, "parameter name too long in '%s'", text);
        return 0;
      }
      int k = param_index(s, name);
      if (k < 0) {
        snprintf(why, wl, "'%s' is not a parameter of this site (give it under params)", name);
        return 0;
      }
      e->coef[k] += sign * num;
    } else if (have_num) {
      e->c0 += sign * num;
    } else {
      snprintf(why, wl, "expected a number or a parameter at '%s'", c);
      return 0;
    }
    ++nterms;
    while (isspace((unsigned char)*c)) ++c;
  }
  return 1;
}

static double eval_expr(const affine_expr *e, const double *pv, int np) {
  double v = e->c0;
  for (int k = 0; k < np; ++k) v += e->coef[k] * pv[k];
  return v;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */

static const char *const top_keys[] = {"name",       "description",       "reference",
                                       "spacegroup", "lattice",           "reference_compound",
                                       "sites",      "equivalent_labels", NULL};
static const char *const site_keys[] = {"label", "wyckoff", "position", "params", "cn", NULL};

static ms_err get_string(ms_ynode *map, const char *key, const char *path, int required,
                         const char **out) {
  ms_ynode *n = ms_ynode_get(map, key);
  *out = NULL;
  if (!n) {
    if (required) return ms_ynode_error(map, path, "missing required key '%s'", key);
    return MS_SUCCESS;
  }
  char sub[160];
  snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
  MS_CALL(ms_ynode_string(n, sub, out));
  if (!**out) return ms_ynode_error(n, sub, "must not be empty");
  return MS_SUCCESS;
}

static ms_err get_number(ms_ynode *map, const char *key, const char *path, int required,
                         double *out) {
  ms_ynode *n = ms_ynode_get(map, key);
  if (!n) {
    if (required) return ms_ynode_error(map, path, "missing required key '%s'", key);
    return MS_SUCCESS;
  }
  char sub[160];
  snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
  return ms_ynode_double(n, sub, out);
}

static int label_of(ms_prototype *p, const char *name) {
  for (int k = 0; k < p->nlabels; ++k)
    if (strcmp(p->label[k], name) == 0) return k;
  return -1;
}

static ms_err parse_spacegroup(ms_prototype *p, ms_ynode *root) {
  ms_ynode *sg = ms_ynode_get(root, "spacegroup");
  if (!sg) return ms_ynode_error(root, "", "missing required key 'spacegroup' ({number, hall})");
  MS_CALL(ms_ynode_expect(sg, MS_YMAP, "spacegroup"));
  static const char *const keys[] = {"number", "hall", "symbol", NULL};
  long long number = 0, hall = 0;
  ms_ynode *n = ms_ynode_get(sg, "number");
  if (!n) return ms_ynode_error(sg, "spacegroup", "missing required key 'number'");
  MS_CALL(ms_ynode_int(n, "spacegroup.number", &number));
  if (number < 1 || number > 230)
    return ms_ynode_error(n, "spacegroup.number", "must be in 1..230, got %lld", number);
  ms_ynode *h = ms_ynode_get(sg, "hall");
  if (h) {
    MS_CALL(ms_ynode_int(h, "spacegroup.hall", &hall));
    if (hall < 1 || hall > 530)
      return ms_ynode_error(h, "spacegroup.hall",
                            "must be in 1..530 (spglib's Hall numbers), "
                            "got %lld",
                            hall);
  } else {
    hall = ms_spacegroup_default_hall((int)number);
  }
  ms_ynode *sym = ms_ynode_get(sg, "symbol");
  MS_CALL(ms_ynode_check_unused(sg, "spacegroup", keys));
  MS_CALL(ms_spacegroup_load((int)hall, &p->sg));
  if (p->sg.number != number)
    return ms_ynode_error(h ? h : sg, "spacegroup.hall",
                          "Hall number %lld is a setting of space group %d (%s), not %lld", hall,
                          p->sg.number, p->sg.symbol, number);
  /* The symbol is for readers; it must agree with the setting (spaces ignored). */
  if (sym) {
    const char *t;
    MS_CALL(ms_ynode_string(sym, "spacegroup.symbol", &t));
    char packed[64];
    size_t w = 0;
    for (; *t && w + 1 < sizeof packed; ++t)
      if (*t != ' ') packed[w++] = *t;
    packed[w] = '\0';
    if (strcmp(packed, p->sg.symbol) != 0)
      return ms_ynode_error(sym, "spacegroup.symbol",
                            "'%s' is not the symbol of Hall setting %d (spglib: %s)", packed,
                            p->sg.hall, p->sg.symbol);
  }
  return MS_SUCCESS;
}

static ms_err parse_lattice(ms_prototype *p, ms_ynode *root) {
  ms_ynode *l = ms_ynode_get(root, "lattice");
  if (!l) return ms_ynode_error(root, "", "missing required key 'lattice' ({a_A: ...})");
  MS_CALL(ms_ynode_expect(l, MS_YMAP, "lattice"));
  static const char *const keys[] = {"a_A",      "b_A",       "c_A", "alpha_deg",
                                     "beta_deg", "gamma_deg", NULL};
  const char *sys = ms_crystal_system(p->sg.number);
  int hex = strcmp(sys, "hexagonal") == 0 ||
            (strcmp(sys, "trigonal") == 0 && strcmp(p->sg.choice, "R") != 0);
  double abc[3] = {0, 0, 0}, ang[3] = {90, 90, hex ? 120 : 90};
  MS_CALL(get_number(l, "a_A", "lattice", 1, &abc[0]));
  abc[1] = abc[2] = abc[0];
  MS_CALL(get_number(l, "b_A", "lattice", 0, &abc[1]));
  MS_CALL(get_number(l, "c_A", "lattice", 0, &abc[2]));
  MS_CALL(get_number(l, "alpha_deg", "lattice", 0, &ang[0]));
  MS_CALL(get_number(l, "beta_deg", "lattice", 0, &ang[1]));
  MS_CALL(get_number(l, "gamma_deg", "lattice", 0, &ang[2]));
  MS_CALL(ms_ynode_check_unused(l, "lattice", keys));
  for (int k = 0; k < 3; ++k)
    if (!(abc[k] > 0.5 && abc[k] < 1000))
      return ms_ynode_error(l, "lattice", "lengths must be in (0.5, 1000) Å, got %g", abc[k]);
  if (ms_lattice_from_parameters(abc, ang, p->lattice) != MS_SUCCESS) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    return ms_ynode_error(l, "lattice", "%s", msg);
  }
  /* The metric must be invariant under every rotation of the setting. */
  double G[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      G[i][j] = p->lattice[i][0] * p->lattice[j][0] + p->lattice[i][1] * p->lattice[j][1] +
                p->lattice[i][2] * p->lattice[j][2];
  for (int k = 0; k < p->sg.nops; ++k) {
    const int(*R)[3] = p->sg.rot[k];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        double s = 0;
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) s += R[a][i] * G[a][b] * R[b][j];
        if (fabs(s - G[i][j]) > 1e-6 * (G[0][0] + G[1][1] + G[2][2]))
          return ms_ynode_error(l, "lattice",
                                "parameters a=%g b=%g c=%g alpha=%g beta=%g gamma=%g do not have "
                                "the symmetry of %s (Hall %d, %s)",
                                abc[0], abc[1], abc[2], ang[0], ang[1], ang[2], p->sg.symbol,
                                p->sg.hall, sys);
      }
  }
  return MS_SUCCESS;
}

static ms_err parse_site(ms_prototype *p, ms_ynode *node, int idx) {
  char path[64];
  snprintf(path, sizeof path, "sites[%d]", idx);
  MS_CALL(ms_ynode_expect(node, MS_YMAP, path));
  proto_site *s = &p->site[idx];
  memset(s, 0, sizeof *s);
  const char *label, *wy;
  MS_CALL(get_string(node, "label", path, 1, &label));
  if (strlen(label) >= sizeof p->label[0] || !isalpha((unsigned char)label[0]))
    return ms_ynode_error(ms_ynode_get(node, "label"), path,
                          "label '%s' must start with a letter and have at most %zu characters",
                          label, sizeof p->label[0] - 1);
  for (const char *c = label; *c; ++c)
    if (!isalnum((unsigned char)*c) && *c != '_')
      return ms_ynode_error(ms_ynode_get(node, "label"), path,
                            "label '%s' may contain only letters, digits and '_'", label);
  int li = label_of(p, label);
  if (li < 0) {
    if (p->nlabels == MS_PROTO_MAX_LABELS)
      return ms_ynode_error(node, path, "at most %d distinct labels", MS_PROTO_MAX_LABELS);
    li = p->nlabels++;
    snprintf(p->label[li], sizeof p->label[li], "%s", label);
  }
  s->label = li;
  MS_CALL(get_string(node, "wyckoff", path, 1, &wy));
  char *end;
  long mult = strtol(wy, &end, 10);
  if (mult < 1 || mult > 1000 || !isalpha((unsigned char)*end) || end[1] != '\0')
    return ms_ynode_error(ms_ynode_get(node, "wyckoff"), path,
                          "Wyckoff symbol '%s' must be a multiplicity and a letter, e.g. '4f'", wy);
  s->multiplicity = (int)mult;
  snprintf(s->wyckoff, sizeof s->wyckoff, "%s", wy);
  double cn = 0;
  MS_CALL(get_number(node, "cn", path, 1, &cn));
  if (cn < 1 || cn > 24 || cn != floor(cn))
    return ms_ynode_error(ms_ynode_get(node, "cn"), path,
                          "cn (coordination number) must be an integer in 1..24, got %g", cn);
  s->cn = (int)cn;
  ms_ynode *pm = ms_ynode_get(node, "params");
  size_t used = 0;
  if (pm) {
    char sub[96];
    snprintf(sub, sizeof sub, "%s.params", path);
    MS_CALL(ms_ynode_expect(pm, MS_YMAP, sub));
    if (pm->n > MAX_PARAMS)
      return ms_ynode_error(pm, sub, "at most %d free parameters", MAX_PARAMS);
    for (int k = 0; k < pm->n; ++k) {
      pm->used[k] = 1;
      const char *nm = pm->keys[k]->value;
      if (!isalpha((unsigned char)nm[0]) || strlen(nm) >= sizeof s->pname[0])
        return ms_ynode_error(pm->keys[k], sub, "bad parameter name '%s'", nm);
      snprintf(s->pname[k], sizeof s->pname[k], "%s", nm);
      char sp[128];
      snprintf(sp, sizeof sp, "%s.%s", sub, nm);
      MS_CALL(ms_ynode_double(pm->items[k], sp, &s->pval[k]));
      int w = snprintf(s->params_text + used, sizeof s->params_text - used, "%s%s=%g",
                       k ? ", " : "", nm, s->pval[k]);
      if (w > 0 && (size_t)w < sizeof s->params_text - used) used += (size_t)w;
    }
    s->nparams = pm->n;
  }
  ms_ynode *pos = ms_ynode_get(node, "position");
  if (!pos) return ms_ynode_error(node, path, "missing required key 'position' ([x, y, z])");
  char sub[96];
  snprintf(sub, sizeof sub, "%s.position", path);
  MS_CALL(ms_ynode_expect(pos, MS_YSEQ, sub));
  if (pos->n != 3) return ms_ynode_error(pos, sub, "must have 3 coordinates, got %d", pos->n);
  int uses[MAX_PARAMS] = {0};
  size_t pu = 0;
  pu += (size_t)snprintf(s->position, sizeof s->position, "[");
  for (int q = 0; q < 3; ++q) {
    const char *t;
    char sq[112], why[160];
    snprintf(sq, sizeof sq, "%s[%d]", sub, q);
    MS_CALL(ms_ynode_string(pos->items[q], sq, &t));
    if (!parse_expr(t, s, &s->coord[q], why, sizeof why))
      return ms_ynode_error(pos->items[q], sq, "%s", why);
    for (int k = 0; k < s->nparams; ++k) uses[k] |= s->coord[q].coef[k] != 0;
    if (pu < sizeof s->position)
      pu += (size_t)snprintf(s->position + pu, sizeof s->position - pu, "%s%s", q ? ", " : "", t);
  }
  if (pu < sizeof s->position) snprintf(s->position + pu, sizeof s->position - pu, "]");
  for (int k = 0; k < s->nparams; ++k)
    if (!uses[k])
      return ms_ynode_error(pm, sub, "parameter '%s' is not used in the position", s->pname[k]);
  for (int q = 0; q < 3; ++q) s->frac[q] = eval_expr(&s->coord[q], s->pval, s->nparams);
  MS_CALL(ms_ynode_check_unused(node, path, site_keys));

  /* Orbit size = multiplicity, and it must not change when the parameters move (otherwise
   * the written form is not the special position it claims to be). */
  double orb[MS_SG_MAX_OPS][3];
  int n = 0;
  MS_CALL(ms_spacegroup_orbit(&p->sg, s->frac, 1e-4, orb, MS_SG_MAX_OPS, &n));
  if (n != s->multiplicity)
    return ms_ynode_error(
        node, path, "position %s (%s) has %d images in %s (Hall %d) but Wyckoff %s has %d",
        s->position, s->params_text, n, p->sg.symbol, p->sg.hall, s->wyckoff, s->multiplicity);
  if (s->nparams) {
    double pv[MAX_PARAMS], x[3];
    for (int k = 0; k < s->nparams; ++k) pv[k] = s->pval[k] + 0.0173 * (k + 1);
    for (int q = 0; q < 3; ++q) x[q] = eval_expr(&s->coord[q], pv, s->nparams);
    MS_CALL(ms_spacegroup_orbit(&p->sg, x, 1e-4, orb, MS_SG_MAX_OPS, &n));
    if (n != s->multiplicity)
      return ms_ynode_error(node, path,
                            "position %s is not a Wyckoff position of %s (Hall %d): moving its "
                            "parameters gives %d images instead of %d",
                            s->position, p->sg.symbol, p->sg.hall, n, s->multiplicity);
  }
  return MS_SUCCESS;
}

static ms_err parse_sites(ms_prototype *p, ms_ynode *root) {
  ms_ynode *s = ms_ynode_get(root, "sites");
  if (!s) return ms_ynode_error(root, "", "missing required key 'sites'");
  MS_CALL(ms_ynode_expect(s, MS_YSEQ, "sites"));
  if (s->n < 1 || s->n > MS_PROTO_MAX_SITES)
    return ms_ynode_error(s, "sites", "give 1..%d sites, got %d", MS_PROTO_MAX_SITES, s->n);
  for (int k = 0; k < s->n; ++k) MS_CALL(parse_site(p, s->items[k], k));
  p->nsites = s->n;
  return MS_SUCCESS;
}

static ms_err parse_compound(ms_prototype *p, ms_ynode *root) {
  ms_ynode *c = ms_ynode_get(root, "reference_compound");
  if (!c)
    return ms_ynode_error(root, "",
                          "missing required key 'reference_compound' "
                          "({formula, ions: {LABEL: ION}, source})");
  MS_CALL(ms_ynode_expect(c, MS_YMAP, "reference_compound"));
  static const char *const keys[] = {"formula", "ions", "source", NULL};
  const char *formula, *source;
  MS_CALL(get_string(c, "formula", "reference_compound", 1, &formula));
  MS_CALL(get_string(c, "source", "reference_compound", 1, &source));
  MS_CALL(dupstr(formula, &p->compound));
  MS_CALL(dupstr(source, &p->source));
  ms_ynode *ions = ms_ynode_get(c, "ions");
  if (!ions) return ms_ynode_error(c, "reference_compound", "missing required key 'ions'");
  MS_CALL(ms_ynode_expect(ions, MS_YMAP, "reference_compound.ions"));
  int have[MS_PROTO_MAX_LABELS] = {0};
  int first_kind = -1; /* 1: ions, 0: plain elements, as the first entry says */
  for (int k = 0; k < ions->n; ++k) {
    ions->used[k] = 1;
    char sub[96];
    snprintf(sub, sizeof sub, "reference_compound.ions.%s", ions->keys[k]->value);
    int li = label_of(p, ions->keys[k]->value);
    if (li < 0) return ms_ynode_error(ions->keys[k], sub, "no site has this label");
    const char *t;
    MS_CALL(ms_ynode_string(ions->items[k], sub, &t));
    if (ms_species_parse(t, &p->ref_ion[li]) != MS_SUCCESS) {
      char msg[256];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      ms_err_clear();
      return ms_ynode_error(ions->items[k], sub,
                            "'%s' is neither an ion ('Ti4+') nor an element ('Ni')%s%s", t,
                            msg[0] ? ": " : "", msg);
    }
    if (first_kind < 0) first_kind = p->ref_ion[li].has_ox;
    if (p->ref_ion[li].has_ox != first_kind)
      return ms_ynode_error(ions->items[k], sub,
                            "'%s' is %s but the first label has %s: give ions with oxidation "
                            "states for every label, or plain elements for every label",
                            t, first_kind ? "a plain element" : "an ion",
                            first_kind ? "an ion" : "a plain element");
    have[li] = 1;
  }
  p->ref_plain = first_kind == 0;
  for (int k = 0; k < p->nlabels; ++k)
    if (!have[k])
      return ms_ynode_error(ions, "reference_compound.ions", "no ion for label '%s'", p->label[k]);
  MS_CALL(ms_ynode_check_unused(c, "reference_compound", keys));
  double q = 0;
  for (int s = 0; s < p->nsites; ++s)
    q += p->site[s].multiplicity * p->ref_ion[p->site[s].label].ox;
  if (!p->ref_plain && fabs(q) > 1e-9)
    return ms_ynode_error(ions, "reference_compound.ions",
                          "the reference compound is not neutral (%g e per conventional cell)", q);
  return MS_SUCCESS;
}

static ms_err parse_equiv(ms_prototype *p, ms_ynode *root) {
  ms_ynode *e = ms_ynode_get(root, "equivalent_labels");
  if (!e) return MS_SUCCESS;
  MS_CALL(ms_ynode_expect(e, MS_YSEQ, "equivalent_labels"));
  int seen[MS_PROTO_MAX_LABELS] = {0};
  for (int g = 0; g < e->n; ++g) {
    char sub[64];
    snprintf(sub, sizeof sub, "equivalent_labels[%d]", g);
    ms_ynode *grp = e->items[g];
    MS_CALL(ms_ynode_expect(grp, MS_YSEQ, sub));
    if (grp->n < 2 || grp->n > 4)
      return ms_ynode_error(grp, sub, "a group has 2..4 labels, got %d", grp->n);
    for (int k = 0; k < grp->n; ++k) {
      const char *t;
      MS_CALL(ms_ynode_string(grp->items[k], sub, &t));
      int li = label_of(p, t);
      if (li < 0) return ms_ynode_error(grp->items[k], sub, "unknown label '%s'", t);
      if (seen[li]) return ms_ynode_error(grp->items[k], sub, "label '%s' is in two groups", t);
      seen[li] = 1;
      p->equiv[p->nequiv][k] = li;
      if (p->label_count[li] != p->label_count[p->equiv[p->nequiv][0]])
        return ms_ynode_error(grp->items[k], sub,
                              "labels of a group must have equal counts ('%s' has %d, '%s' %d)", t,
                              p->label_count[li], p->label[p->equiv[p->nequiv][0]],
                              p->label_count[p->equiv[p->nequiv][0]]);
    }
    p->equiv_n[p->nequiv++] = grp->n;
  }
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Geometry computed once                                                                     */

static double frac_dist2(const double L[3][3], const double a[3], const double b[3],
                         const double n[3]) {
  double d[3], r[3];
  for (int q = 0; q < 3; ++q) d[q] = b[q] + n[q] - a[q];
  for (int j = 0; j < 3; ++j) r[j] = d[0] * L[0][j] + d[1] * L[1][j] + d[2] * L[2][j];
  return r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
}

static ms_err expand(ms_prototype *p, ms_ynode *root) {
  int total = 0;
  for (int s = 0; s < p->nsites; ++s) total += p->site[s].multiplicity;
  MS_CALL(MS_CALLOC((size_t)total, &p->conv));
  MS_CALL(MS_CALLOC((size_t)total, &p->conv_site));
  MS_CALL(MS_CALLOC((size_t)total, &p->prim));
  MS_CALL(MS_CALLOC((size_t)total, &p->prim_site));
  for (int s = 0; s < p->nsites; ++s) {
    int n = 0;
    double orb[MS_SG_MAX_OPS][3];
    MS_CALL(ms_spacegroup_orbit(&p->sg, p->site[s].frac, 1e-4, orb, MS_SG_MAX_OPS, &n));
    p->site[s].first_atom = p->nconv;
    for (int k = 0; k < n; ++k) {
      memcpy(p->conv[p->nconv], orb[k], sizeof orb[k]);
      p->conv_site[p->nconv++] = s;
    }
    p->label_count[p->site[s].label] += n;
  }
  /* Atoms of different sites must not coincide. */
  ms_cell tmp;
  ms_cell_init(&tmp);
  ms_cell_set_lattice(&tmp, p->lattice);
  ms_species dummy = {1, 0, 0};
  ms_err e = MS_SUCCESS;
  for (int i = 0; i < p->nconv && !e; ++i) e = ms_cell_add_atom(&tmp, &dummy, p->conv[i]);
  int ia = 0, ja = 0;
  double dmin = e ? 0 : ms_cell_min_distance(&tmp, &ia, &ja);
  if (!e && dmin < 0.5)
    e = ms_ynode_error(ms_ynode_get(root, "sites"), "sites",
                       "atoms of sites %d and %d are only %.3f Å apart in the reference lattice",
                       p->conv_site[ia], p->conv_site[ja], dmin);
  /* Neighbour shells of each site's representative (reference lattice). */
  /* ms_cell_image_bounds assumes fractional differences within [-1/2, 1/2]; these are
   * within (-1, 1), so one more image each way (a c axis beyond 16 Å lost neighbours). */
  int nmax[3];
  ms_cell_image_bounds(&tmp, 8.0, nmax);
  for (int q = 0; q < 3; ++q) nmax[q] += 1;
  ms_cell_free(&tmp);
  if (e) return e;
  for (int s = 0; s < p->nsites && !e; ++s) {
    proto_site *st = &p->site[s];
    const double *x = p->conv[st->first_atom];
    st->nshell = 0;
    for (int j = 0; j < p->nconv; ++j)
      for (int a = -nmax[0]; a <= nmax[0]; ++a)
        for (int b = -nmax[1]; b <= nmax[1]; ++b)
          for (int c = -nmax[2]; c <= nmax[2]; ++c) {
            double n[3] = {a, b, c};
            double d2 = frac_dist2(p->lattice, x, p->conv[j], n);
            if (d2 < 1e-8 || d2 > 64.0) continue;
            double d = sqrt(d2);
            /* Insert into the sorted shell (keep the NSHELL nearest). */
            int pos = st->nshell;
            if (pos == NSHELL) {
              if (d >= st->shell_d[NSHELL - 1]) continue;
              pos = NSHELL - 1;
            } else {
              st->nshell++;
            }
            while (pos > 0 && st->shell_d[pos - 1] > d) {
              st->shell_d[pos] = st->shell_d[pos - 1];
              st->shell_site[pos] = st->shell_site[pos - 1];
              --pos;
            }
            st->shell_d[pos] = d;
            st->shell_site[pos] = p->conv_site[j];
          }
  }
  /* Primitive cell: f_p = f_c P^-1, one atom per class modulo the centring. */
  const double(*P)[3] = p->sg.to_primitive;
  double d = P[0][0] * (P[1][1] * P[2][2] - P[1][2] * P[2][1]) -
             P[0][1] * (P[1][0] * P[2][2] - P[1][2] * P[2][0]) +
             P[0][2] * (P[1][0] * P[2][1] - P[1][1] * P[2][0]);
  double Pi[3][3] = {
      {(P[1][1] * P[2][2] - P[1][2] * P[2][1]) / d, (P[0][2] * P[2][1] - P[0][1] * P[2][2]) / d,
       (P[0][1] * P[1][2] - P[0][2] * P[1][1]) / d},
      {(P[1][2] * P[2][0] - P[1][0] * P[2][2]) / d, (P[0][0] * P[2][2] - P[0][2] * P[2][0]) / d,
       (P[0][2] * P[1][0] - P[0][0] * P[1][2]) / d},
      {(P[1][0] * P[2][1] - P[1][1] * P[2][0]) / d, (P[0][1] * P[2][0] - P[0][0] * P[2][1]) / d,
       (P[0][0] * P[1][1] - P[0][1] * P[1][0]) / d}};
  for (int i = 0; i < p->nconv; ++i) {
    double f[3];
    for (int q = 0; q < 3; ++q) {
      f[q] = p->conv[i][0] * Pi[0][q] + p->conv[i][1] * Pi[1][q] + p->conv[i][2] * Pi[2][q];
      f[q] -= floor(f[q]);
      if (f[q] > 1 - 1e-10) f[q] = 0;
    }
    int dup = 0;
    for (int k = 0; k < p->nprim && !dup; ++k) {
      double s2 = 0;
      for (int q = 0; q < 3; ++q) {
        double dd = f[q] - p->prim[k][q];
        dd -= floor(dd + 0.5);
        s2 += dd * dd;
      }
      dup = s2 < 1e-12;
    }
    if (dup) continue;
    memcpy(p->prim[p->nprim], f, sizeof f);
    p->prim_site[p->nprim++] = p->conv_site[i];
  }
  MS_CHECK(p->nprim * p->sg.ncentring == p->nconv, MS_ERR_INTERNAL,
           "prototype %s: %d atoms in the primitive cell, %d in the conventional one", p->name,
           p->nprim, p->nconv);
  return MS_SUCCESS;
}

static long gcdl(long a, long b) {
  while (b) {
    long t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static void make_formula(ms_prototype *p) {
  long g = 0;
  for (int k = 0; k < p->nlabels; ++k) g = gcdl(g, p->label_count[k]);
  if (g <= 0) g = 1;
  size_t used = 0;
  p->formula[0] = '\0';
  for (int k = 0; k < p->nlabels && used + 1 < sizeof p->formula; ++k) {
    long n = p->label_count[k] / g;
    int w = n == 1 ? snprintf(p->formula + used, sizeof p->formula - used, "%s", p->label[k])
                   : snprintf(p->formula + used, sizeof p->formula - used, "%s%ld", p->label[k], n);
    if (w > 0) used += (size_t)w;
  }
}

static ms_err parse_all(ms_prototype *p, ms_ynode *root) {
  MS_CALL(ms_ynode_expect(root, MS_YMAP, ""));
  const char *name, *desc, *ref;
  MS_CALL(get_string(root, "name", "", 1, &name));
  for (const char *c = name; *c; ++c)
    if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
      return ms_ynode_error(ms_ynode_get(root, "name"), "name",
                            "'%s' may contain only letters, digits, '_' and '-'", name);
  MS_CALL(dupstr(name, &p->name));
  MS_CALL(get_string(root, "description", "", 1, &desc));
  MS_CALL(dupstr(desc, &p->description));
  MS_CALL(get_string(root, "reference", "", 1, &ref));
  MS_CALL(dupstr(ref, &p->reference));
  MS_CALL(parse_spacegroup(p, root));
  MS_CALL(parse_lattice(p, root));
  MS_CALL(parse_sites(p, root));
  MS_CALL(expand(p, root));
  MS_CALL(parse_compound(p, root));
  MS_CALL(parse_equiv(p, root));
  MS_CALL(ms_ynode_check_unused(root, "", top_keys));
  make_formula(p);
  return MS_SUCCESS;
}

ms_err ms_prototype_parse(const char *text, size_t len, const char *source, ms_prototype **out) {
  MS_CHECK(text && out, MS_ERR_ARG, "ms_prototype_parse: NULL argument");
  *out = NULL;
  ms_ydoc *doc = NULL;
  MS_CALL(ms_ydoc_parse(text, len, source ? source : "prototype", &doc));
  ms_prototype *p = calloc(1, sizeof *p);
  if (!p) {
    ms_ydoc_free(&doc);
    MS_FAIL(MS_ERR_MEM, "out of memory loading a prototype");
  }
  ms_err e = parse_all(p, ms_ydoc_root(doc));
  ms_ydoc_free(&doc);
  if (e) {
    ms_prototype_free(&p);
    return e;
  }
  *out = p;
  return MS_SUCCESS;
}

const char *const *ms_prototype_builtin_names(int *count) {
  enum { MAXN = 128 };
  static _Thread_local char names[MAXN][64];
  static _Thread_local const char *list[MAXN + 1];
  int n = ms_data_names("prototypes", names, MAXN, list);
  if (count) *count = n;
  return list;
}

ms_err ms_prototype_load(const char *arg, ms_prototype **out) {
  MS_CHECK(arg && out, MS_ERR_ARG, "ms_prototype_load: NULL argument");
  MS_CHECK(arg[0] != '\0', MS_ERR_INPUT, "empty prototype name");
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  char source[320];
  if (ms_data_is_path(arg)) {
    MS_CALL(ms_read_file(arg, &text, &len));
    snprintf(source, sizeof source, "%s", arg);
  } else {
    char file[256];
    snprintf(file, sizeof file, "prototypes/%s.yaml", arg);
    const char *origin = NULL;
    if (ms_data_read(file, &text, &len, &origin) != MS_SUCCESS) {
      ms_err_clear();
      int n = 0;
      const char *const *names = ms_prototype_builtin_names(&n);
      char list[1024] = "";
      size_t used = 0;
      for (int k = 0; k < n && used + 1 < sizeof list; ++k) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
        if (w > 0) used += (size_t)w;
      }
      const char *hint = ms_suggest(arg, names);
      if (hint)
        MS_FAIL(MS_ERR_INPUT, "unknown prototype '%s' (did you mean '%s'?); library: %s", arg, hint,
                list);
      MS_FAIL(MS_ERR_INPUT,
              "unknown prototype '%s'; library: %s; or give the path of a "
              "prototype file",
              arg, list);
    }
    snprintf(source, sizeof source, "%s", strcmp(origin, "embedded") == 0 ? file : origin);
  }
  ms_err e = ms_prototype_parse(text, len, source, out);
  free(text);
  if (e) return e;
  if (!ms_data_is_path(arg) && strcmp((*out)->name, arg) != 0) {
    char nm[64];
    snprintf(nm, sizeof nm, "%s", (*out)->name);
    ms_prototype_free(out);
    MS_FAIL(MS_ERR_INPUT, "%s: name '%s' does not match the file name", source, nm);
  }
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Lattice guess and building                                                                 */

static ms_err ion_radius(const ms_species *sp, int cn, double *r) {
  char name[32];
  MS_CHECK(sp->has_ox, MS_ERR_INPUT,
           "%s has no oxidation state: the lattice guess needs ions (e.g. 'Ti4+')",
           ms_species_format(sp, name, sizeof name));
  MS_CHECK(sp->ox == nearbyint(sp->ox), MS_ERR_INPUT,
           "%s: Shannon radii exist only for integer oxidation states",
           ms_species_format(sp, name, sizeof name));
  ms_shannon_radius rr;
  MS_CALL(ms_shannon_lookup(sp->Z, (int)sp->ox, cn, MS_SPIN_NONE, &rr, NULL));
  *r = rr.ionic;
  return MS_SUCCESS;
}

/* Atomic volume of the elemental solid of @p sp's element (Å^3). */
static ms_err element_volume(const ms_species *sp, double *v) {
  const ms_element *el = ms_element_by_z(sp->Z);
  char name[32];
  MS_CHECK(el && el->atomic_volume > 0, MS_ERR_INPUT,
           "%s: the element table has no atomic volume for it, so the lattice of plain elements "
           "cannot be guessed (use lattice: reference)",
           ms_species_format(sp, name, sizeof name));
  *v = el->atomic_volume;
  return MS_SUCCESS;
}

/* Zen's-law scale for plain elements (see the file comment). */
static ms_err element_scale(const ms_prototype *p, const ms_species *els, double *scale) {
  double vsum = 0, vref = 0;
  for (int s = 0; s < p->nsites; ++s) {
    double v = 0;
    MS_CALL(element_volume(&els[p->site[s].label], &v));
    vsum += p->site[s].multiplicity * v;
    if (p->ref_plain) {
      MS_CALL(element_volume(&p->ref_ion[p->site[s].label], &v));
      vref += p->site[s].multiplicity * v;
    }
  }
  if (!p->ref_plain) vref = fabs(ms_mat3_det(p->lattice));
  *scale = cbrt(vsum / vref);
  return MS_SUCCESS;
}

ms_err ms_prototype_lattice_scale(const ms_prototype *p, const ms_species *ions, double *scale) {
  int nplain = 0;
  for (int l = 0; l < p->nlabels; ++l) nplain += !ions[l].has_ox;
  if (nplain == p->nlabels) return element_scale(p, ions, scale);
  if (nplain > 0) {
    char a[32] = "", b[32] = "";
    for (int l = 0; l < p->nlabels; ++l)
      ms_species_format(&ions[l], ions[l].has_ox ? a : b, sizeof a);
    MS_FAIL(MS_ERR_INPUT,
            "prototype %s: %s has no oxidation state but %s has one; give ions for every label "
            "or plain elements for every label",
            p->name, b, a);
  }
  double radius[MS_PROTO_MAX_SITES];
  for (int s = 0; s < p->nsites; ++s)
    MS_CALL(ion_radius(&ions[p->site[s].label], p->site[s].cn, &radius[s]));
  double sdt = 0, sdd = 0;
  for (int s = 0; s < p->nsites; ++s) {
    const proto_site *st = &p->site[s];
    if (ions[st->label].ox <= 0) continue;
    int found = 0;
    for (int k = 0; k < st->nshell && found < st->cn; ++k) {
      int o = st->shell_site[k];
      if (ions[p->site[o].label].ox >= 0) continue;
      double d = st->shell_d[k], t = radius[s] + radius[o];
      sdt += st->multiplicity * d * t;
      sdd += st->multiplicity * d * d;
      ++found;
    }
  }
  MS_CHECK(sdd > 0, MS_ERR_INPUT,
           "prototype %s: no cation-anion bonds for these ions, so the lattice cannot be guessed "
           "from radii (give cations and anions)",
           p->name);
  *scale = sdt / sdd;
  return MS_SUCCESS;
}

ms_err ms_prototype_build(const ms_prototype *p, const ms_species *ions,
                          const ms_proto_build_options *opt, ms_cell *out) {
  ms_proto_build_options def;
  if (!opt) {
    ms_proto_build_options_default(&def);
    opt = &def;
  }
  MS_CHECK(opt->volume_scale > 0 && isfinite(opt->volume_scale), MS_ERR_ARG,
           "volume scale must be positive, got %g", opt->volume_scale);
  double s = 1.0;
  if (opt->lattice == MS_PROTO_LATTICE_RADII) MS_CALL(ms_prototype_lattice_scale(p, ions, &s));
  s *= cbrt(opt->volume_scale);
  double L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] = s * p->lattice[i][j];
  const double(*frac)[3] = p->conv;
  const int *site = p->conv_site;
  int n = p->nconv;
  if (opt->primitive) {
    double Lp[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        Lp[i][j] = p->sg.to_primitive[i][0] * L[0][j] + p->sg.to_primitive[i][1] * L[1][j] +
                   p->sg.to_primitive[i][2] * L[2][j];
    memcpy(L, Lp, sizeof L);
    frac = p->prim;
    site = p->prim_site;
    n = p->nprim;
  }
  ms_cell_free(out);
  ms_cell_set_lattice(out, L);
  MS_CALL(ms_cell_reserve(out, n));
  int kind_of_label[MS_PROTO_MAX_LABELS];
  for (int k = 0; k < p->nlabels; ++k)
    MS_CALL(ms_cell_add_species(out, &ions[k], &kind_of_label[k]));
  for (int i = 0; i < n; ++i)
    MS_CALL(ms_cell_add_site(out, kind_of_label[p->site[site[i]].label], frac[i]));
  size_t used = (size_t)snprintf(out->label, sizeof out->label, "%s:", p->name);
  for (int k = 0; k < p->nlabels && used < sizeof out->label; ++k) {
    char ion[24];
    int w = snprintf(out->label + used, sizeof out->label - used, "%s%s=%s", k ? "," : "",
                     p->label[k], ms_species_format(&ions[k], ion, sizeof ion));
    if (w > 0) used += (size_t)w;
  }
  return MS_SUCCESS;
}

ms_err ms_prototype_describe(const ms_prototype *p, FILE *fp) {
  double abc[3], ang[3];
  ms_cell tmp;
  ms_cell_init(&tmp);
  ms_cell_set_lattice(&tmp, p->lattice);
  ms_cell_parameters(&tmp, abc, ang);
  fprintf(fp, "%s: %s\n", p->name, p->description);
  fprintf(fp, "  formula        %s (per conventional cell:", p->formula);
  for (int k = 0; k < p->nlabels; ++k) fprintf(fp, " %s%d", p->label[k], p->label_count[k]);
  fprintf(fp, ")\n");
  fprintf(fp, "  space group    %s (%d), Hall setting %d%s%s%s\n", p->sg.symbol, p->sg.number,
          p->sg.hall, p->sg.choice[0] ? " (choice " : "", p->sg.choice, p->sg.choice[0] ? ")" : "");
  fprintf(fp,
          "  lattice        a=%.4f b=%.4f c=%.4f Å, alpha=%.2f beta=%.2f gamma=%.2f deg "
          "(%s)\n",
          abc[0], abc[1], abc[2], ang[0], ang[1], ang[2], p->compound);
  fprintf(fp, "  compound       %s:", p->compound);
  for (int k = 0; k < p->nlabels; ++k) {
    char ion[24];
    fprintf(fp, " %s=%s", p->label[k], ms_species_format(&p->ref_ion[k], ion, sizeof ion));
  }
  fprintf(fp, "\n  data source    %s\n", p->source);
  fprintf(fp, "  reference      %s\n", p->reference);
  fprintf(fp, "  sites (label, Wyckoff, position, parameters, CN):\n");
  for (int s = 0; s < p->nsites; ++s) {
    const proto_site *st = &p->site[s];
    fprintf(fp, "    %-4s %-5s %-26s %-18s CN %d\n", p->label[st->label], st->wyckoff, st->position,
            st->params_text[0] ? st->params_text : "-", st->cn);
  }
  for (int g = 0; g < p->nequiv; ++g) {
    fprintf(fp, "  equivalent     ");
    for (int k = 0; k < p->equiv_n[g]; ++k)
      fprintf(fp, "%s%s", k ? ", " : "", p->label[p->equiv[g][k]]);
    fprintf(fp, " (permuted by a symmetry of the structure type: counted once)\n");
  }
  ms_cell_free(&tmp);
  return MS_SUCCESS;
}

ms_err ms_prototype_library_load(ms_prototype ***lib, int *n) {
  int np = 0;
  const char *const *names = ms_prototype_builtin_names(&np);
  ms_prototype **l = calloc((size_t)np + 1, sizeof *l);
  MS_CHECK(l, MS_ERR_MEM, "out of memory");
  ms_err e = MS_SUCCESS;
  for (int q = 0; q < np && !e; ++q) e = ms_prototype_load(names[q], &l[q]);
  if (e) {
    ms_prototype_library_free(&l, np);
    return e;
  }
  *lib = l;
  *n = np;
  return MS_SUCCESS;
}

void ms_prototype_library_free(ms_prototype ***lib, int n) {
  if (!lib || !*lib) return;
  for (int q = 0; q < n; ++q) ms_prototype_free(&(*lib)[q]);
  free(*lib);
  *lib = NULL;
}
