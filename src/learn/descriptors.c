/* Descriptors of a candidate for the learned surrogate (descriptors.h, docs/surrogate.md).
 *
 * Everything is computed from the species table of the cell with counts per kind, so that the
 * values do not depend on the site order or on the supercell: kinds are visited in a canonical
 * order (by Z, then oxidation state) and weighted by their atom fraction. The geometric entries
 * are per atom or per volume and use minimum-image pair distances, so they are invariant under
 * rotation and supercell too.
 *
 * Radii are Shannon ionic radii at CN 6 (nearest tabulated CN), the convention the generators
 * use for minimum separations (docs/generation.md); the tolerance factor uses Bartel's
 * convention of the prefilter (A at CN 12, B and X at CN 6). */
#include "matscreen/descriptors.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/rng.h"

/* The table of names; the order is the layout of the vector. */
enum {
  D_EN = 0,        /* en_{mean,std,min,max} */
  D_RADIUS = 4,    /* radius_A_* */
  D_OX = 8,        /* ox_state_e_* */
  D_Z = 12,        /* Z_* */
  D_MASS = 16,     /* mass_u_* */
  D_NELEM = 20,
  D_APFU,
  D_VPA,
  D_DENSITY,
  D_PACKING,
  D_QDENS,
  D_ESINGLE,
  D_ECOUL,
  D_ESHORT,
  D_ESINGLE_KNOWN,
  D_EPARTS_KNOWN,
  D_TOLERANCE,
  D_PEROVSKITE,
  D_CN_MEAN,
  D_CN_CATION,
  D_DMIN_RATIO,
  D_PROTO,
  D_FORCE_RMS = D_PROTO + MS_DESCRIPTOR_PROTO_DIMS,
  D_FORCE_SQ,
  D_STRESS_DEV,
  D_PRESSURE,
  D_FORCES_KNOWN,
  D_COUNT
};

static const char *const names[D_COUNT] = {
  "en_mean", "en_std", "en_min", "en_max",
  "radius_A_mean", "radius_A_std", "radius_A_min", "radius_A_max",
  "ox_state_e_mean", "ox_state_e_std", "ox_state_e_min", "ox_state_e_max",
  "Z_mean", "Z_std", "Z_min", "Z_max",
  "mass_u_mean", "mass_u_std", "mass_u_min", "mass_u_max",
  "n_elements",
  "atoms_per_formula_unit",
  "volume_per_atom_A3",
  "density_g_per_cm3",
  "packing_fraction",
  "ion_charge_density_e_per_A3",
  "e_single_eV_per_atom",
  "e_coulomb_eV_per_atom",
  "e_short_eV_per_atom",
  "e_single_known",
  "e_parts_known",
  "tolerance_factor",
  "perovskite_like",
  "cn_mean",
  "cn_cation_anion_mean",
  "dmin_over_radius_sum",
  "proto_code_0", "proto_code_1", "proto_code_2", "proto_code_3",
  "proto_code_4", "proto_code_5", "proto_code_6", "proto_code_7",
  "force_rms_eV_per_A",
  "force_sq_eV2_per_A2",
  "stress_deviatoric_GPa",
  "pressure_GPa",
  "forces_known",
};

_Static_assert(MS_DESCRIPTOR_PROTO_DIMS == 8, "the name table lists 8 prototype code entries");

/* Neighbour shells: pairs count as neighbours within CN_FACTOR x (r_i + r_j); the smallest
 * d / (r_i + r_j) is searched up to DMIN_CLIP and clipped there. */
#define CN_FACTOR 1.2
#define PI 3.14159265358979323846
#define DMIN_CLIP 1.5
/* 1 u/Å^3 in g/cm^3 (1.66053906660e-24 g / 1e-24 cm^3). */
#define U_PER_A3_IN_G_PER_CM3 1.66053906660

int ms_descriptor_count(void) { return D_COUNT; }

const char *ms_descriptor_name(int k) { return k >= 0 && k < D_COUNT ? names[k] : NULL; }

int ms_descriptor_index(const char *name) {
  if (!name) return -1;
  for (int k = 0; k < D_COUNT; ++k)
    if (strcmp(names[k], name) == 0) return k;
  return -1;
}

void ms_descriptor_prototype_code(const char *name, double code[MS_DESCRIPTOR_PROTO_DIMS]) {
  if (!name || !name[0]) {
    for (int k = 0; k < MS_DESCRIPTOR_PROTO_DIMS; ++k) code[k] = 0.0;
    return;
  }
  /* FNV-1a (64 bit) of the name keys a Philox stream whose first word gives the signs: a
   * fixed, platform-independent code that needs no table of known prototypes. */
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char *p = (const unsigned char *)name; *p; ++p) {
    h ^= *p;
    h *= 0x100000001b3ull;
  }
  ms_rng r;
  ms_rng_init(&r, h, 0);
  uint32_t bits = ms_rng_u32(&r);
  for (int k = 0; k < MS_DESCRIPTOR_PROTO_DIMS; ++k) code[k] = (bits >> k) & 1u ? 1.0 : -1.0;
}

/* ---- per-kind element data ------------------------------------------------------------- */

/* The element properties whose statistics are descriptors, in the order of the vector. */
enum { P_EN, P_RADIUS, P_OX, P_Z, P_MASS, P_COUNT };
_Static_assert(D_RADIUS == D_EN + 4 * P_RADIUS && D_OX == D_EN + 4 * P_OX &&
                   D_Z == D_EN + 4 * P_Z && D_MASS == D_EN + 4 * P_MASS &&
                   D_NELEM == D_EN + 4 * P_COUNT,
               "four statistics per property, in the order of the properties");

typedef struct {
  int kind;             /* index in the cell's species table */
  int count;            /* sites of this kind */
  int Z;
  double ox;            /* oxidation state, 0 without one */
  double prop[P_COUNT]; /* en, radius (Å), ox, Z, mass (u), missing data filled */
} kind_data;

static int kind_cmp(const void *a, const void *b) {
  const kind_data *x = a, *y = b;
  if (x->Z != y->Z) return x->Z < y->Z ? -1 : 1;
  if (x->ox != y->ox) return x->ox < y->ox ? -1 : 1;
  return 0;
}

/* Shannon ionic radius of @p sp at coordination @p cn, or -1 when there is none. */
static double ion_radius(const ms_species *sp, int cn) {
  if (!sp->has_ox || sp->ox != nearbyint(sp->ox)) return -1;
  ms_shannon_radius r;
  if (ms_shannon_lookup(sp->Z, (int)sp->ox, cn, MS_SPIN_NONE, &r, NULL) != MS_SUCCESS) {
    ms_err_clear();
    return -1;
  }
  return r.ionic;
}

static void fill_kind(const ms_species *sp, kind_data *k) {
  const ms_element *el = ms_element_by_z(sp->Z);
  double r = ion_radius(sp, 6);
  k->Z = sp->Z;
  k->ox = sp->has_ox ? sp->ox : 0.0;
  k->prop[P_EN] =
      el && isfinite(el->electronegativity) ? el->electronegativity : MS_DESCRIPTOR_FILL_EN;
  k->prop[P_RADIUS] = r > 0 ? r : MS_DESCRIPTOR_FILL_RADIUS;
  k->prop[P_OX] = k->ox;
  k->prop[P_Z] = sp->Z;
  k->prop[P_MASS] = el ? el->mass : 0.0;
}

/* Mean, population standard deviation, min and max of one property over the kinds, weighted
 * by atom fraction. */
static void stats(const kind_data *kd, int nk, int natoms, int prop, double out[4]) {
  double mean = 0, lo = INFINITY, hi = -INFINITY;
  for (int k = 0; k < nk; ++k) {
    double x = kd[k].prop[prop];
    mean += (double)kd[k].count / natoms * x;
    lo = fmin(lo, x);
    hi = fmax(hi, x);
  }
  double var = 0;
  for (int k = 0; k < nk; ++k) {
    double x = kd[k].prop[prop] - mean;
    var += (double)kd[k].count / natoms * x * x;
  }
  out[0] = mean;
  out[1] = sqrt(var);
  out[2] = lo;
  out[3] = hi;
}

static int gcd(int a, int b) {
  while (b) {
    int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* ---- tolerance factor ------------------------------------------------------------------ */

/* Goldschmidt t of a perovskite-like composition: one anion species X and cations that split
 * by radius into an A half (the larger ions, CN 12) and a B half (CN 6) with equal site counts
 * and 3 X per A. Mixed sites (A2BB'O6, AA'B2O6) use the count-weighted mean radius of each
 * half, the usual generalisation for double perovskites. For ABX3 this is exactly
 * ms_tolerance_factor() with the roles of ms_abx3_roles(). Returns 0 when not perovskite-like. */
static int tolerance(const ms_cell *c, const kind_data *kd, int nk, double *t) {
  int an = -1, ncat = 0, cat[MS_CELL_MAX_KINDS], ncation_sites = 0;
  double r12[MS_CELL_MAX_KINDS];
  for (int k = 0; k < nk; ++k) {
    const ms_species *sp = &c->species[kd[k].kind];
    if (!sp->has_ox || sp->ox == 0) return 0;
    if (sp->ox < 0) {
      if (an >= 0) return 0;
      an = k;
    } else {
      r12[ncat] = ion_radius(sp, 12);
      if (r12[ncat] <= 0) return 0;
      cat[ncat++] = k;
      ncation_sites += kd[k].count;
    }
  }
  if (an < 0 || ncat < 2 || ncation_sites % 2 || 2 * kd[an].count != 3 * ncation_sites) return 0;
  /* Sort the cations by CN-12 radius, larger first (insertion sort; ties by the canonical
   * kind order, which is already the order of cat[]). */
  for (int i = 1; i < ncat; ++i)
    for (int j = i; j > 0 && r12[j] > r12[j - 1]; --j) {
      double tr = r12[j];
      r12[j] = r12[j - 1];
      r12[j - 1] = tr;
      int tc = cat[j];
      cat[j] = cat[j - 1];
      cat[j - 1] = tc;
    }
  int half = ncation_sites / 2, seen = 0;
  double rA = 0, rB = 0;
  for (int i = 0; i < ncat; ++i) {
    int n = kd[cat[i]].count;
    if (seen < half && seen + n > half) return 0; /* one species on both sites */
    if (seen < half) {
      rA += n * r12[i];
    } else {
      double r6 = ion_radius(&c->species[kd[cat[i]].kind], 6);
      if (r6 <= 0) return 0;
      rB += n * r6;
    }
    seen += n;
  }
  double rX = ion_radius(&c->species[kd[an].kind], 6);
  if (rX <= 0) return 0;
  rA /= half;
  rB /= half;
  *t = (rA + rX) / (sqrt(2.0) * (rB + rX));
  return 1;
}

/* ---- coordination ---------------------------------------------------------------------- */

typedef struct {
  const ms_cell *c;
  const double *radius_of_kind; /* by cell kind index */
  int *cn;                      /* neighbours per site */
  int *cn_anion;                /* anion neighbours per site */
  double dmin_ratio;
} coord_ctx;

static int is_anion(const ms_cell *c, int i) {
  const ms_species *sp = &c->species[c->kind[i]];
  return sp->has_ox && sp->ox < 0;
}

static int count_pair(int i, int j, const double d[3], double r, void *vctx) {
  (void)d;
  coord_ctx *x = vctx;
  double rs = x->radius_of_kind[x->c->kind[i]] + x->radius_of_kind[x->c->kind[j]];
  double ratio = r / rs;
  if (ratio < x->dmin_ratio) x->dmin_ratio = ratio;
  if (ratio > CN_FACTOR) return 0;
  /* An atom and its own image: the pass lists only one of n and -n, so it counts twice. */
  int w = i == j ? 2 : 1;
  x->cn[i] += w;
  if (i != j) x->cn[j] += w;
  if (is_anion(x->c, j)) x->cn_anion[i] += w;
  if (i != j && is_anion(x->c, i)) x->cn_anion[j] += w;
  return 0;
}

static ms_err coordination(const ms_cell *c, const kind_data *kd, int nk, double out[3]) {
  double radius_of_kind[MS_CELL_MAX_KINDS] = {0}, rmax = 0;
  for (int k = 0; k < nk; ++k) {
    radius_of_kind[kd[k].kind] = kd[k].prop[P_RADIUS];
    rmax = fmax(rmax, kd[k].prop[P_RADIUS]);
  }
  int *cn = NULL, *cna = NULL;
  MS_CALL(MS_CALLOC((size_t)c->natoms, &cn));
  ms_err e = MS_CALLOC((size_t)c->natoms, &cna);
  if (e) {
    free(cn);
    return e;
  }
  coord_ctx x = {c, radius_of_kind, cn, cna, DMIN_CLIP};
  ms_cell_foreach_pair(c, DMIN_CLIP * 2 * rmax, count_pair, &x);
  long long sum = 0, sum_cat = 0;
  int ncat = 0;
  for (int i = 0; i < c->natoms; ++i) {
    sum += cn[i];
    const ms_species *sp = &c->species[c->kind[i]];
    if (sp->has_ox && sp->ox > 0) {
      sum_cat += cna[i];
      ++ncat;
    }
  }
  out[0] = (double)sum / c->natoms;
  out[1] = ncat ? (double)sum_cat / ncat : 0.0;
  out[2] = x.dmin_ratio;
  free(cn);
  free(cna);
  return MS_SUCCESS;
}

/* ---- the vector ------------------------------------------------------------------------- */

ms_err ms_descriptors(const ms_cell *c, const ms_descriptor_input *in, double *out) {
  MS_CHECK(c && out, MS_ERR_ARG, "ms_descriptors: NULL cell or output");
  MS_CHECK(c->natoms > 0, MS_ERR_INPUT, "descriptors of an empty cell");
  MS_CALL(ms_cell_validate(c));
  kind_data kd[MS_CELL_MAX_KINDS];
  int nk = 0;
  for (int k = 0; k < c->nkinds; ++k) {
    int count = 0;
    for (int i = 0; i < c->natoms; ++i) count += c->kind[i] == k;
    if (!count) continue;
    kd[nk].kind = k;
    kd[nk].count = count;
    fill_kind(&c->species[k], &kd[nk]);
    ++nk;
  }
  qsort(kd, (size_t)nk, sizeof kd[0], kind_cmp);
  const int N = c->natoms;
  for (int p = 0; p < P_COUNT; ++p) stats(kd, nk, N, p, out + D_EN + 4 * p);

  /* Elements, not species: Fe2+ and Fe3+ in one cell are one element. */
  int nelem = 0;
  for (int k = 0; k < nk; ++k) nelem += k == 0 || kd[k].Z != kd[k - 1].Z;
  out[D_NELEM] = nelem;
  int g = 0;
  for (int k = 0; k < nk; ++k) g = gcd(kd[k].count, g);
  out[D_APFU] = (double)N / g;

  double V = ms_cell_volume(c), mass = 0, vion = 0, qabs = 0;
  for (int k = 0; k < nk; ++k) {
    double r = kd[k].prop[P_RADIUS];
    mass += kd[k].count * kd[k].prop[P_MASS];
    vion += kd[k].count * (4.0 / 3.0) * PI * r * r * r;
    qabs += kd[k].count * fabs(kd[k].ox);
  }
  out[D_VPA] = V / N;
  out[D_DENSITY] = mass / V * U_PER_A3_IN_G_PER_CM3;
  out[D_PACKING] = vion / V;
  out[D_QDENS] = qabs / V;

  double es = in ? in->e_single : NAN, ec = in ? in->e_coulomb : NAN, er = in ? in->e_short : NAN;
  out[D_ESINGLE] = isfinite(es) ? es : 0.0;
  out[D_ECOUL] = isfinite(ec) ? ec : 0.0;
  out[D_ESHORT] = isfinite(er) ? er : 0.0;
  out[D_ESINGLE_KNOWN] = isfinite(es) ? 1.0 : 0.0;
  out[D_EPARTS_KNOWN] = isfinite(ec) && isfinite(er) ? 1.0 : 0.0;

  double t = MS_DESCRIPTOR_FILL_TOLERANCE;
  int perov = tolerance(c, kd, nk, &t);
  out[D_TOLERANCE] = perov ? t : MS_DESCRIPTOR_FILL_TOLERANCE;
  out[D_PEROVSKITE] = perov;

  MS_CALL(coordination(c, kd, nk, out + D_CN_MEAN));
  ms_descriptor_prototype_code(in ? in->prototype : NULL, out + D_PROTO);

  /* How far the single-point structure is from a minimum: to second order the relaxation
   * lowers the energy by about F^T H^-1 F / 2, so the squared forces (and the stress, for the
   * cell) carry what the starting geometry says about the relaxation energy. */
  int hf = in && in->has_forces && isfinite(in->force_sq);
  for (int k = 0; hf && k < 6; ++k) hf = isfinite(in->stress_GPa[k]) != 0;
  out[D_FORCE_RMS] = hf ? sqrt(fmax(in->force_sq, 0.0)) : 0.0;
  out[D_FORCE_SQ] = hf ? fmax(in->force_sq, 0.0) : 0.0;
  if (hf) {
    const double *st = in->stress_GPa;
    double p = -(st[0] + st[1] + st[2]) / 3;
    double d0 = st[0] + p, d1 = st[1] + p, d2 = st[2] + p;
    out[D_STRESS_DEV] = sqrt(1.5 * (d0 * d0 + d1 * d1 + d2 * d2 + 2 * (st[3] * st[3] + st[4] * st[4] + st[5] * st[5])));
    out[D_PRESSURE] = p;
  } else {
    out[D_STRESS_DEV] = out[D_PRESSURE] = 0.0;
  }
  out[D_FORCES_KNOWN] = hf ? 1.0 : 0.0;
  for (int k = 0; k < D_COUNT; ++k)
    MS_CHECK(isfinite(out[k]), MS_ERR_INTERNAL, "descriptor %s is not finite", names[k]);
  return MS_SUCCESS;
}
