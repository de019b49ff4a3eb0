/* The shortlist (shortlist.h, docs/shortlist.md): the `shortlist:` section of a campaign,
 * acquisition scores, the similarity behind the diversity penalty, and the greedy batch.
 *
 * Options that only one acquisition kind uses are errors under another kind, so that a user
 * who switches kinds is told the old knob no longer does anything. The selection works on the
 * entries sorted by id and never looks at their input order, which is what makes it the same
 * on every rank. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/hull.h"
#include "matscreen/options.h"
#include "matscreen/rng.h"
#include "matscreen/shortlist.h"
#include "matscreen/species.h"

/* ---- options and the YAML section ----------------------------------------------------- */

/* The section's keys, declared once: the parser below reads the scalars with the generic option
 * reader, and `matscreen info stages shortlist`, did-you-mean and `check` use the same table
 * (the shortlist stage's record, src/driver/shortlist_stage.c). */
const ms_opt_spec ms_shortlist_spec[] = {
    {.key = "size", .type = MS_OPT_INTEGER, .lo = 1, .hi = NAN, .def = 24, .default_text = "24",
     .help = "how many candidates the lab gets", .example = "4"},
    {.key = "acquisition", .type = MS_OPT_MAP, .lo = NAN, .hi = NAN, .default_text = "{kind: ucb, kappa: 1.0, diversity: 0.3}",
     .help = "the score: {kind: greedy|ucb|ei|thompson, kappa, xi, target, diversity}",
     .example = "{kind: greedy}"},
    {.key = "max_per_system", .type = MS_OPT_INTEGER, .lo = 0, .hi = NAN, .default_text = "0",
     .note = " (0: no limit)", .help = "at most this many per chemical system (0: no limit)", .example = "2"},
    {.key = "allowed_elements", .type = MS_OPT_MAP, .lo = NAN, .hi = NAN, .default_text = "any",
     .help = "only candidates made of these elements", .example = "[Sr, Ti, O]"},
    {.key = "exclude_tried", .type = MS_OPT_BOOL, .lo = NAN, .hi = NAN, .def = 1, .default_text = "true",
     .help = "with lab_feedback: never propose a candidate that has a ticket", .example = "false"},
    {.key = "novelty", .type = MS_OPT_MAP, .lo = NAN, .hi = NAN, .default_text = "none",
     .help = "{known: PATH, strict: {ltol, stol, angle_tol}, loose: {...}}: novelty against known structures"},
    {0},
};

static const char *const shortlist_keys[] = {"size", "acquisition", "max_per_system",
                                             "allowed_elements", "exclude_tried", "novelty", NULL};
static const char *const acquisition_keys[] = {"kind", "kappa", "xi", "target", "diversity", NULL};
static const char *const kind_names[] = {"greedy", "ucb", "ei", "thompson", NULL};
static const char *const novelty_keys[] = {"known", "strict", "loose", NULL};
static const char *const tolerance_keys[] = {"ltol", "stol", "angle_tol", NULL};

const char *ms_acquisition_name(ms_acquisition kind) {
  return (unsigned)kind <= MS_ACQ_THOMPSON ? kind_names[kind] : NULL;
}

void ms_shortlist_options_default(ms_shortlist_options *o) {
  memset(o, 0, sizeof *o);
  o->size = 24;
  o->kind = MS_ACQ_UCB;
  o->kappa = 1.0;
  o->xi = 0.0;
  o->ei_target = 0.05;
  o->diversity = 0.3;
  o->max_per_system = 0;
  o->exclude_tried = 1;
  /* pymatgen's StructureMatcher defaults: "the same crystal" as Materials Project uses it */
  o->strict_ltol = 0.2;
  o->strict_stol = 0.3;
  o->strict_angle_tol = 5.0;
  /* Looser by about half: tilts, off-centring and strains of a few per cent still match. */
  o->loose_ltol = 0.3;
  o->loose_stol = 0.5;
  o->loose_angle_tol = 10.0;
}

void ms_shortlist_options_free(ms_shortlist_options *o) {
  if (!o) return;
  for (int i = 0; i < o->nallowed; ++i) free(o->allowed_elements[i]);
  free(o->allowed_elements);
  free((char *)o->novelty_set);
  ms_shortlist_options_default(o);
}

/* printf into a key-path buffer; paths longer than the buffer are cut (they only name keys). */
static const char *fmt_path(char *buf, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static const char *fmt_path(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
  return buf;
}

/* "PATH.key" into @p buf. */
static const char *sub(char *buf, size_t len, const char *path, const char *key) {
  return fmt_path(buf, len, "%s.%s", path, key);
}

/* Optional number at @p key of @p map that must satisfy lo <(=) v <(=) hi; @p what describes
 * the range for the message. Returns the node (NULL when absent) through @p found. */
static ms_err get_double(ms_ynode *map, const char *path, const char *key, double lo, int lo_open,
                         double hi, int hi_open, const char *what, double *out, ms_ynode **found) {
  char p[256];
  ms_ynode *n = ms_ynode_get(map, key);
  if (found) *found = n;
  if (!n) return MS_SUCCESS;
  sub(p, sizeof p, path, key);
  double v;
  MS_CALL(ms_ynode_double(n, p, &v));
  if ((lo_open ? !(v > lo) : !(v >= lo)) || (hi_open ? !(v < hi) : !(v <= hi)))
    return ms_ynode_error(n, p, "must be %s, got %g", what, v);
  *out = v;
  return MS_SUCCESS;
}

static ms_err parse_kind(ms_ynode *n, const char *path, ms_acquisition *kind) {
  const char *s;
  MS_CALL(ms_ynode_string(n, path, &s));
  for (int k = 0; kind_names[k]; ++k)
    if (strcmp(s, kind_names[k]) == 0) {
      *kind = (ms_acquisition)k;
      return MS_SUCCESS;
    }
  const char *hint = ms_suggest(s, kind_names);
  if (hint)
    return ms_ynode_error(n, path, "unknown acquisition '%s' (did you mean '%s'?)", s, hint);
  return ms_ynode_error(n, path, "unknown acquisition '%s' (kinds: greedy, ucb, ei, thompson)", s);
}

/* A key present although the chosen kind does not use it. */
static ms_err only_for(ms_ynode *n, const char *path, const char *key, const char *kinds,
                       ms_acquisition kind) {
  char p[256];
  return ms_ynode_error(n, sub(p, sizeof p, path, key), "only used by kind %s (kind here is '%s')",
                        kinds, ms_acquisition_name(kind));
}

static ms_err parse_acquisition(ms_ynode *acq, const char *path, ms_shortlist_options *o) {
  char p[256];
  if (acq->type == MS_YSCALAR) return parse_kind(acq, path, &o->kind); /* acquisition: ei */
  MS_CALL(ms_ynode_expect(acq, MS_YMAP, path));
  ms_ynode *n;
  if ((n = ms_ynode_get(acq, "kind")))
    MS_CALL(parse_kind(n, sub(p, sizeof p, path, "kind"), &o->kind));
  MS_CALL(get_double(acq, path, "kappa", 0, 0, 1e3, 0, "in [0, 1000]", &o->kappa, &n));
  if (n && o->kind != MS_ACQ_UCB) return only_for(n, path, "kappa", "'ucb'", o->kind);
  MS_CALL(get_double(acq, path, "xi", 0, 0, 10, 0, "in [0, 10] eV/atom", &o->xi, &n));
  if (n && o->kind != MS_ACQ_EI) return only_for(n, path, "xi", "'ei'", o->kind);
  MS_CALL(get_double(acq, path, "target", 0, 0, 10, 0, "in [0, 10] eV/atom", &o->ei_target, &n));
  if (n && o->kind != MS_ACQ_EI) return only_for(n, path, "target", "'ei'", o->kind);
  MS_CALL(get_double(acq, path, "diversity", 0, 0, 100, 0, "in [0, 100] eV/atom", &o->diversity,
                     NULL));
  MS_CALL(ms_ynode_check_unused(acq, path, acquisition_keys));
  return MS_SUCCESS;
}

static ms_err parse_allowed(ms_ynode *n, const char *path, ms_shortlist_options *o) {
  char p[256];
  MS_CALL(ms_ynode_expect(n, MS_YSEQ, path));
  if (n->n == 0)
    return ms_ynode_error(n, path, "is empty, which would exclude every candidate "
                                   "(leave the key out to allow any element)");
  MS_CALL(MS_CALLOC((size_t)n->n, &o->allowed_elements));
  for (int i = 0; i < n->n; ++i) {
    fmt_path(p, sizeof p, "%s[%d]", path, i);
    const char *s;
    MS_CALL(ms_ynode_string(n->items[i], p, &s));
    const ms_element *el = ms_element_by_symbol(s);
    if (!el)
      return ms_ynode_error(n->items[i], p, "'%s' is not an element symbol (write e.g. Ti, not Ti4+)",
                            s);
    for (int j = 0; j < o->nallowed; ++j)
      if (strcmp(o->allowed_elements[j], el->symbol) == 0)
        return ms_ynode_error(n->items[i], p, "element %s is listed twice", el->symbol);
    o->allowed_elements[o->nallowed] = strdup(el->symbol);
    MS_CHECK(o->allowed_elements[o->nallowed], MS_ERR_MEM, "out of memory");
    o->nallowed++;
  }
  return MS_SUCCESS;
}

/* strict: or loose: {ltol, stol, angle_tol}; ranges are those ms_match accepts. */
static ms_err parse_tolerances(ms_ynode *map, const char *path, double *ltol, double *stol,
                               double *angle, ms_ynode *nodes[3]) {
  MS_CALL(ms_ynode_expect(map, MS_YMAP, path));
  MS_CALL(get_double(map, path, "ltol", 0, 1, 10, 1, "in (0, 10)", ltol, &nodes[0]));
  MS_CALL(get_double(map, path, "stol", 0, 1, 10, 1, "in (0, 10)", stol, &nodes[1]));
  MS_CALL(get_double(map, path, "angle_tol", 0, 1, 90, 1, "in (0, 90) degrees", angle,
                     &nodes[2]));
  MS_CALL(ms_ynode_check_unused(map, path, tolerance_keys));
  return MS_SUCCESS;
}

static ms_err parse_novelty(ms_ynode *nov, const char *path, ms_shortlist_options *o) {
  char p[256], q[256];
  ms_ynode *known = nov;
  ms_ynode *sn[3] = {NULL, NULL, NULL}, *ln[3] = {NULL, NULL, NULL};
  if (nov->type == MS_YMAP) {
    known = ms_ynode_get(nov, "known");
    if (!known)
      return ms_ynode_error(nov, path,
                            "missing required key 'known' (a folder of CIF files or an extxyz file)");
    ms_ynode *n;
    if ((n = ms_ynode_get(nov, "strict")))
      MS_CALL(parse_tolerances(n, sub(p, sizeof p, path, "strict"), &o->strict_ltol, &o->strict_stol,
                               &o->strict_angle_tol, sn));
    if ((n = ms_ynode_get(nov, "loose")))
      MS_CALL(parse_tolerances(n, sub(p, sizeof p, path, "loose"), &o->loose_ltol, &o->loose_stol,
                               &o->loose_angle_tol, ln));
    MS_CALL(ms_ynode_check_unused(nov, path, novelty_keys));
  }
  const char *s;
  const char *kp = nov->type == MS_YMAP ? sub(q, sizeof q, path, "known") : path;
  MS_CALL(ms_ynode_string(known, kp, &s));
  if (!*s)
    return ms_ynode_error(known, kp, "is empty (give a folder of CIF files or an extxyz file)");
  o->novelty_set = strdup(s);
  MS_CHECK(o->novelty_set, MS_ERR_MEM, "out of memory");
  /* A loose level inside the strict one could never report an ordered variant: a typo. */
  const char *names[3] = {"ltol", "stol", "angle_tol"};
  const double st[3] = {o->strict_ltol, o->strict_stol, o->strict_angle_tol};
  const double lo[3] = {o->loose_ltol, o->loose_stol, o->loose_angle_tol};
  for (int k = 0; k < 3; ++k) {
    if (lo[k] >= st[k]) continue;
    if (ln[k]) {
      fmt_path(p, sizeof p, "%s.loose.%s", path, names[k]);
      return ms_ynode_error(ln[k], p, "must be >= %s.strict.%s (%g), got %g", path, names[k],
                            st[k], lo[k]);
    }
    fmt_path(p, sizeof p, "%s.strict.%s", path, names[k]);
    return ms_ynode_error(sn[k], p,
                          "must be <= the loose tolerance (%g, the default; raise %s.loose.%s too), "
                          "got %g",
                          lo[k], path, names[k], st[k]);
  }
  return MS_SUCCESS;
}

static ms_err parse(ms_ynode *node, const char *path, ms_shortlist_options *o) {
  char p[256];
  if (!node || node->type == MS_YNULL) return MS_SUCCESS;
  MS_CALL(ms_ynode_expect(node, MS_YMAP, path));
  MS_CALL(ms_elements_load());
  ms_ynode *n;
  ms_opt_value v[6];
  MS_CALL(ms_opts_read(node, path, ms_shortlist_spec, v));
  const ms_opt_value *x;
  if ((x = ms_opts_get(ms_shortlist_spec, v, "size"))->set) o->size = x->i;
  if ((x = ms_opts_get(ms_shortlist_spec, v, "max_per_system"))->set) o->max_per_system = x->i;
  if ((x = ms_opts_get(ms_shortlist_spec, v, "exclude_tried"))->set) o->exclude_tried = x->b;
  if ((n = ms_ynode_get(node, "acquisition")))
    MS_CALL(parse_acquisition(n, sub(p, sizeof p, path, "acquisition"), o));
  if ((n = ms_ynode_get(node, "allowed_elements")))
    MS_CALL(parse_allowed(n, sub(p, sizeof p, path, "allowed_elements"), o));
  if ((n = ms_ynode_get(node, "novelty")) && n->type != MS_YNULL)
    MS_CALL(parse_novelty(n, sub(p, sizeof p, path, "novelty"), o));
  MS_CALL(ms_ynode_check_unused(node, path, shortlist_keys));
  return MS_SUCCESS;
}

ms_err ms_shortlist_parse(ms_ynode *node, const char *path, ms_shortlist_options *o) {
  MS_CHECK(o, MS_ERR_ARG, "NULL argument");
  ms_shortlist_options_default(o);
  ms_err e = parse(node, path && *path ? path : "shortlist", o);
  if (e) {
    ms_shortlist_options_free(o);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  return MS_SUCCESS;
}

/* ---- scores --------------------------------------------------------------------------- */

/* Salt of the Thompson streams: the generators draw from (seed, id) themselves, and the
 * shortlist draw must not reuse their numbers. */
#define THOMPSON_SALT 0x73686f72746c7374ULL /* "shortlst" */

static double sanitised_sigma(double sigma) { return isfinite(sigma) && sigma > 0 ? sigma : 0.0; }

/* Expected improvement below t = target - xi for E ~ N(mu, sigma^2) (Jones, Schonlau & Welch
 * 1998, written for minimisation): E[max(0, t - E)] = d Phi(d/sigma) + sigma phi(d/sigma),
 * d = t - mu; max(0, d) when sigma = 0. */
static double expected_improvement(double mu, double sigma, double t) {
  double d = t - mu;
  if (sigma <= 0) return d > 0 ? d : 0.0;
  double z = d / sigma;
  double cdf = 0.5 * erfc(-z / sqrt(2.0));
  double pdf = exp(-0.5 * z * z) / sqrt(2.0 * 3.14159265358979323846);
  double ei = d * cdf + sigma * pdf;
  return ei > 0 ? ei : 0.0; /* rounding in the far tail */
}

/* Scores are negated energies: a candidate on the hull with no uncertainty would score -0.0,
 * which prints as "-0.000000" (C) and "-0" (JSON); adding +0.0 turns -0.0 into +0.0 and leaves
 * every other value as it is. */
static double no_negative_zero(double v) { return v + 0.0; }

double ms_shortlist_score(const ms_shortlist_options *o, int64_t id, double e_above_hull,
                          double sigma) {
  double s = sanitised_sigma(sigma);
  switch (o->kind) {
    case MS_ACQ_GREEDY:
      return no_negative_zero(-e_above_hull);
    case MS_ACQ_UCB:
      return no_negative_zero(-(e_above_hull - o->kappa * s));
    case MS_ACQ_EI:
      return expected_improvement(e_above_hull, s, o->ei_target - o->xi);
    case MS_ACQ_THOMPSON: {
      ms_rng r;
      ms_rng_init(&r, o->seed ^ THOMPSON_SALT, (uint64_t)id);
      return no_negative_zero(-(e_above_hull + s * ms_rng_normal(&r)));
    }
  }
  return NAN;
}

/* ---- similarity ----------------------------------------------------------------------- */

/* Radial fingerprint: g(r) = (1/N) sum_i sum_{j != i, images} K((r - d_ij/l) / w), sampled at
 * r = (k + 1/2) FP_STEP for k < FP_BINS, with l = (V/N)^(1/3). Distances over l make it
 * independent of volume (the structure matcher scales volumes too); counting per atom makes a
 * supercell look like its cell; species are ignored (the composition term carries them).
 * A width of 0.05 l separates the shells of ionic crystals (in cubic SrTiO3: Ti-O 0.85 l,
 * Sr-O and O-O 1.21 l, Sr-Ti 1.48 l, Sr-Sr 1.71 l) while small tilts only blur them. */
#define FP_BINS 40
#define FP_STEP 0.05
#define FP_WIDTH 0.05
/* K is a Gaussian cut at FP_REACH widths and shifted down by its value there, exp(-4^2/2),
 * so that it reaches 0 continuously: a distance that moves by rounding (a rotated copy) moves
 * g by as little, instead of switching a whole tail bin on or off. */
#define FP_REACH 4.0
#define FP_FLOOR 3.3546262790251185e-04

typedef struct {
  double *g;
  double inv_l;
} fp_ctx;

static int fp_pair(int i, int j, const double d[3], double r, void *ctx) {
  (void)i, (void)j, (void)d;
  fp_ctx *f = ctx;
  double x = r * f->inv_l;
  int k0 = (int)floor((x - FP_REACH * FP_WIDTH) / FP_STEP);
  int k1 = (int)ceil((x + FP_REACH * FP_WIDTH) / FP_STEP);
  if (k0 < 0) k0 = 0;
  if (k1 > FP_BINS - 1) k1 = FP_BINS - 1;
  for (int k = k0; k <= k1; ++k) {
    double u = ((k + 0.5) * FP_STEP - x) / FP_WIDTH;
    double v = exp(-0.5 * u * u) - FP_FLOOR;
    /* 2: the callback sees each unordered pair (and each +-n image pair of a site) once */
    if (v > 0) f->g[k] += 2.0 * v;
  }
  return 0;
}

static ms_err fingerprint(const ms_cell *c, double g[FP_BINS]) {
  MS_CALL(ms_cell_validate(c));
  memset(g, 0, sizeof(double) * FP_BINS);
  double l = cbrt(ms_cell_volume(c) / c->natoms);
  fp_ctx f = {g, 1.0 / l};
  ms_cell_foreach_pair(c, (FP_BINS * FP_STEP + FP_REACH * FP_WIDTH) * l, fp_pair, &f);
  for (int k = 0; k < FP_BINS; ++k) g[k] /= c->natoms;
  return MS_SUCCESS;
}

/* Weighted Jaccard (Ruzicka) overlap of two non-negative vectors: sum min / sum max, in [0, 1],
 * 1 only for equal vectors; 0 when both are zero. */
static double ruzicka(const double *a, const double *b, int n) {
  double lo = 0, hi = 0;
  for (int k = 0; k < n; ++k) {
    lo += fmin(a[k], b[k]);
    hi += fmax(a[k], b[k]);
  }
  return hi > 0 ? lo / hi : 0.0;
}

/* Element fractions, sorted by Z. */
typedef struct {
  int n;
  int Z[MS_CELL_MAX_KINDS];
  double x[MS_CELL_MAX_KINDS];
} elfrac;

static void elfrac_add(elfrac *f, int Z, double amount) {
  int k = 0;
  while (k < f->n && f->Z[k] < Z) ++k;
  if (k < f->n && f->Z[k] == Z) {
    f->x[k] += amount;
    return;
  }
  memmove(&f->Z[k + 1], &f->Z[k], sizeof(int) * (size_t)(f->n - k));
  memmove(&f->x[k + 1], &f->x[k], sizeof(double) * (size_t)(f->n - k));
  f->Z[k] = Z;
  f->x[k] = amount;
  f->n++;
}

static ms_err elfrac_of(const ms_shortlist_entry *e, elfrac *f) {
  memset(f, 0, sizeof *f);
  if (e->formula && *e->formula) {
    ms_composition c;
    MS_CALL(ms_composition_parse(e->formula, &c));
    for (int k = 0; k < c.n; ++k) elfrac_add(f, c.sp[k].Z, c.amount[k]);
  } else {
    MS_CHECK(e->cell && e->cell->natoms > 0, MS_ERR_ARG,
             "candidate %lld has neither a formula nor a structure", (long long)e->id);
    for (int i = 0; i < e->cell->natoms; ++i) {
      int kind = e->cell->kind[i];
      MS_CHECK(kind >= 0 && kind < e->cell->nkinds, MS_ERR_ARG, "candidate %lld: site %d has an invalid kind",
               (long long)e->id, i);
      elfrac_add(f, e->cell->species[kind].Z, 1.0);
    }
  }
  double tot = 0;
  for (int k = 0; k < f->n; ++k) tot += f->x[k];
  MS_CHECK(tot > 0, MS_ERR_ARG, "candidate %lld has an empty composition", (long long)e->id);
  for (int k = 0; k < f->n; ++k) f->x[k] /= tot;
  return MS_SUCCESS;
}

/* Ruzicka overlap of two sorted element-fraction lists (absent elements count as 0). */
static double composition_overlap(const elfrac *a, const elfrac *b) {
  double lo = 0, hi = 0;
  int i = 0, j = 0;
  while (i < a->n || j < b->n) {
    if (j == b->n || (i < a->n && a->Z[i] < b->Z[j])) {
      hi += a->x[i++];
    } else if (i == a->n || b->Z[j] < a->Z[i]) {
      hi += b->x[j++];
    } else {
      lo += fmin(a->x[i], b->x[j]);
      hi += fmax(a->x[i], b->x[j]);
      ++i, ++j;
    }
  }
  return hi > 0 ? lo / hi : 0.0;
}

static int same_prototype(const ms_shortlist_entry *a, const ms_shortlist_entry *b) {
  return a->prototype && b->prototype && *a->prototype && strcmp(a->prototype, b->prototype) == 0;
}

static double combine(double comp, double structure) { return comp * (1.0 + structure) / 2.0; }

ms_err ms_shortlist_similarity(const ms_shortlist_entry *a, const ms_shortlist_entry *b,
                               double *sim) {
  MS_CHECK(a && b && sim, MS_ERR_ARG, "NULL argument");
  elfrac fa, fb;
  MS_CALL(elfrac_of(a, &fa));
  MS_CALL(elfrac_of(b, &fb));
  double c = composition_overlap(&fa, &fb), s = 0;
  if (same_prototype(a, b)) {
    s = 1;
  } else if (a->cell && b->cell) {
    double ga[FP_BINS], gb[FP_BINS];
    MS_CALL(fingerprint(a->cell, ga));
    MS_CALL(fingerprint(b->cell, gb));
    s = ruzicka(ga, gb, FP_BINS);
  }
  *sim = combine(c, s);
  return MS_SUCCESS;
}

/* ---- selection ------------------------------------------------------------------------ */

enum { LIVE, PICKED, DROPPED };

typedef struct {
  const ms_shortlist_entry *e;
  double score;
  double maxsim;       /* largest similarity to a pick so far */
  elfrac comp;
  uint64_t sys[2];     /* chemical system: bit Z-1 set for every element */
  double *fp;          /* radial fingerprint, computed when first needed */
  int fp_state;        /* 0: not yet, 1: in fp, -1: no cell */
  int state;
} cand;

static void system_bits(const elfrac *f, uint64_t bits[2]) {
  bits[0] = bits[1] = 0;
  for (int k = 0; k < f->n; ++k) {
    int b = f->Z[k] - 1;
    if (b >= 0 && b < 128) bits[b / 64] |= 1ULL << (b % 64);
  }
}

static ms_err cand_fp(cand *c) {
  if (c->fp_state) return MS_SUCCESS;
  if (!c->e->cell) {
    c->fp_state = -1;
    return MS_SUCCESS;
  }
  MS_CALL(MS_CALLOC(FP_BINS, &c->fp));
  ms_err e = fingerprint(c->e->cell, c->fp);
  if (e) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    MS_FAIL(e, "candidate %lld: %s", (long long)c->e->id, msg);
  }
  c->fp_state = 1;
  return MS_SUCCESS;
}

static ms_err cand_similarity(cand *a, cand *b, double *sim) {
  *sim = 0;
  double c = composition_overlap(&a->comp, &b->comp), s = 0;
  if (c <= 0) return MS_SUCCESS; /* no shared element: nothing to penalise */
  if (same_prototype(a->e, b->e)) {
    s = 1;
  } else {
    MS_CALL(cand_fp(a));
    MS_CALL(cand_fp(b));
    if (a->fp_state > 0 && b->fp_state > 0) s = ruzicka(a->fp, b->fp, FP_BINS);
  }
  *sim = combine(c, s);
  return MS_SUCCESS;
}

static int cmp_entry_id(const void *pa, const void *pb) {
  const ms_shortlist_entry *a = *(const ms_shortlist_entry *const *)pa;
  const ms_shortlist_entry *b = *(const ms_shortlist_entry *const *)pb;
  return a->id < b->id ? -1 : a->id > b->id;
}

static int excluded(const int64_t *ids, size_t n, int64_t id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && ids[lo] == id;
}

/* Everything select allocates, freed in one place. */
typedef struct {
  const ms_shortlist_entry **order;
  cand *c;
  size_t nc;
  ms_known_set *own_known;
  ms_shortlist_pick *picks;
} work;

static void work_free(work *w) {
  for (size_t i = 0; w->c && i < w->nc; ++i) free(w->c[i].fp);
  free(w->c);
  free(w->order);
  ms_known_set_free(&w->own_known);
  free(w->picks);
}

static ms_err check_arguments(const ms_shortlist_options *o, const ms_shortlist_entry *e, size_t n,
                              const int64_t *exclude_ids, size_t nexclude) {
  MS_CHECK(o->size >= 1, MS_ERR_ARG, "shortlist size must be >= 1, got %lld", (long long)o->size);
  MS_CHECK(o->max_per_system >= 0, MS_ERR_ARG, "max_per_system must be >= 0, got %lld",
           (long long)o->max_per_system);
  MS_CHECK(o->diversity >= 0 && isfinite(o->diversity), MS_ERR_ARG, "diversity must be >= 0, got %g",
           o->diversity);
  MS_CHECK((unsigned)o->kind <= MS_ACQ_THOMPSON, MS_ERR_ARG, "unknown acquisition kind %d", (int)o->kind);
  MS_CHECK(isfinite(o->kappa) && isfinite(o->xi) && isfinite(o->ei_target), MS_ERR_ARG,
           "kappa, xi and the EI target must be finite");
  MS_CHECK(n == 0 || e, MS_ERR_ARG, "NULL entries");
  MS_CHECK(nexclude == 0 || exclude_ids, MS_ERR_ARG, "NULL exclude_ids");
  for (size_t i = 1; i < nexclude; ++i)
    MS_CHECK(exclude_ids[i - 1] <= exclude_ids[i], MS_ERR_ARG,
             "exclude_ids must be sorted ascending (%lld before %lld)", (long long)exclude_ids[i - 1],
             (long long)exclude_ids[i]);
  for (size_t i = 0; i < n; ++i)
    MS_CHECK(!(e[i].sigma < 0), MS_ERR_ARG, "candidate %lld has a negative sigma %g", (long long)e[i].id,
             e[i].sigma);
  return MS_SUCCESS;
}

static ms_err allowed_bits(const ms_shortlist_options *o, uint64_t bits[2]) {
  bits[0] = bits[1] = 0;
  for (int i = 0; i < o->nallowed; ++i) {
    const ms_element *el = ms_element_by_symbol(o->allowed_elements[i]);
    MS_CHECK(el, MS_ERR_ARG, "allowed_elements: unknown element '%s'", o->allowed_elements[i]);
    bits[(el->Z - 1) / 64] |= 1ULL << ((el->Z - 1) % 64);
  }
  return MS_SUCCESS;
}

/* Sort by id, drop what may not be picked at all, score the rest. */
static ms_err gather(work *w, const ms_shortlist_options *o, const ms_shortlist_entry *e, size_t n,
                     const int64_t *exclude_ids, size_t nexclude) {
  MS_CALL(MS_CALLOC(n ? n : 1, &w->order));
  MS_CALL(MS_CALLOC(n ? n : 1, &w->c));
  for (size_t i = 0; i < n; ++i) w->order[i] = &e[i];
  qsort(w->order, n, sizeof *w->order, cmp_entry_id);
  for (size_t i = 1; i < n; ++i)
    MS_CHECK(w->order[i - 1]->id != w->order[i]->id, MS_ERR_ARG, "candidate id %lld appears twice",
             (long long)w->order[i]->id);
  uint64_t allow[2];
  MS_CALL(allowed_bits(o, allow));
  for (size_t i = 0; i < n; ++i) {
    const ms_shortlist_entry *x = w->order[i];
    if (!isfinite(x->e_above_hull) || excluded(exclude_ids, nexclude, x->id)) continue;
    cand *c = &w->c[w->nc];
    MS_CALL(elfrac_of(x, &c->comp));
    system_bits(&c->comp, c->sys);
    if (o->nallowed && ((c->sys[0] & ~allow[0]) || (c->sys[1] & ~allow[1]))) continue;
    c->e = x;
    c->score = ms_shortlist_score(o, x->id, x->e_above_hull, x->sigma);
    c->state = LIVE;
    w->nc++;
  }
  return MS_SUCCESS;
}

/* After a pick: raise the penalties of the others and close its chemical system if full. */
static ms_err after_pick(work *w, const ms_shortlist_options *o, size_t best) {
  cand *b = &w->c[best];
  if (o->diversity > 0)
    for (size_t i = 0; i < w->nc; ++i) {
      if (w->c[i].state != LIVE) continue;
      double s;
      MS_CALL(cand_similarity(&w->c[i], b, &s));
      if (s > w->c[i].maxsim) w->c[i].maxsim = s;
    }
  if (o->max_per_system > 0) {
    int64_t count = 0;
    for (size_t i = 0; i < w->nc; ++i)
      if (w->c[i].state == PICKED && w->c[i].sys[0] == b->sys[0] && w->c[i].sys[1] == b->sys[1]) ++count;
    if (count >= o->max_per_system)
      for (size_t i = 0; i < w->nc; ++i)
        if (w->c[i].state == LIVE && w->c[i].sys[0] == b->sys[0] && w->c[i].sys[1] == b->sys[1])
          w->c[i].state = DROPPED;
  }
  return MS_SUCCESS;
}

static ms_err select_batch(work *w, const ms_shortlist_options *o, const ms_known_set *ks,
                           size_t *npicks) {
  size_t cap = (size_t)(o->size < (int64_t)w->nc ? o->size : (int64_t)w->nc);
  MS_CALL(MS_CALLOC(cap ? cap : 1, &w->picks));
  size_t np = 0;
  while (np < cap) {
    size_t best = w->nc;
    double bestv = 0;
    /* In id order with a strict '>': equal penalised scores go to the lower id. */
    for (size_t i = 0; i < w->nc; ++i) {
      if (w->c[i].state != LIVE) continue;
      double v = w->c[i].score - o->diversity * w->c[i].maxsim;
      if (best == w->nc || v > bestv) {
        best = i;
        bestv = v;
      }
    }
    if (best == w->nc) break;
    cand *b = &w->c[best];
    ms_shortlist_pick *p = &w->picks[np];
    memset(p, 0, sizeof *p);
    /* Novelty only for the candidate about to be picked: dropping a known one changes no
     * penalty, so this equals checking everyone first at a fraction of the matching cost. */
    MS_CALL(ms_known_set_check(ks, b->e->cell, o, p->novelty, p->known_match));
    if (strcmp(p->novelty, "known") == 0) {
      b->state = DROPPED;
      continue;
    }
    p->id = b->e->id;
    p->priority = (int)np + 1;
    p->score = b->score;
    p->penalised_score = bestv;
    b->state = PICKED;
    ++np;
    MS_CALL(after_pick(w, o, best));
  }
  *npicks = np;
  return MS_SUCCESS;
}

ms_err ms_shortlist_select(const ms_shortlist_options *o, const ms_shortlist_entry *e, size_t n,
                           const int64_t *exclude_ids, size_t nexclude,
                           ms_shortlist_pick **picks, size_t *npicks) {
  MS_CHECK(o && picks && npicks, MS_ERR_ARG, "NULL argument");
  *picks = NULL;
  *npicks = 0;
  MS_CALL(check_arguments(o, e, n, exclude_ids, nexclude));
  MS_CALL(ms_elements_load());
  work w;
  memset(&w, 0, sizeof w);
  ms_err err = gather(&w, o, e, n, exclude_ids, nexclude);
  const ms_known_set *ks = o->known;
  if (!err && !ks && o->novelty_set && w.nc > 0) {
    err = ms_known_set_load(o->novelty_set, &w.own_known);
    ks = w.own_known;
  }
  size_t np = 0;
  if (!err) err = select_batch(&w, o, ks, &np);
  if (err) {
    work_free(&w);
    return ms__err_push(err, __FILE__, __LINE__, __func__);
  }
  if (np > 0) {
    *picks = w.picks;
    *npicks = np;
    w.picks = NULL;
  }
  work_free(&w);
  return MS_SUCCESS;
}
