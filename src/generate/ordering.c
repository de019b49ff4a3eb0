/* Symmetry-distinct orderings of k substituted sites among the n sites of a set.
 *
 * The parent's operations come from spglib (spg_get_symmetry on the parent with one type per
 * species, so a supercell's pure translations are included). Each operation that maps the set
 * onto itself gives a permutation; duplicates are dropped (several operations can act alike on
 * the set). Subsets are bit masks with position i of the set at bit 63 - i, so that comparing
 * masks as integers is the reverse of comparing the subsets' sorted lists lexicographically:
 * a subset is its class representative when no permutation gives a larger mask. Subsets are
 * visited in lexicographic order, so the kept representatives are sorted too and arrangement
 * i is found by indexing.
 *
 * Cost: C(n, k) x |G| x k bit operations; the caller bounds C(n, k). Burnside's count needs
 * only the cycle types of the permutations. */
#include "matscreen/ordering.h"

#include <math.h>
#include <spglib.h>
#include <stdlib.h>
#include <string.h>

struct ms_ordering {
  int n, k;
  int ngroups;
  int kg[MS_ORDERING_MAX_GROUPS];      /* sites chosen in each group */
  int group[MS_ORDERING_MAX_SITES];    /* group of each position of the set */
  int sites[MS_ORDERING_MAX_SITES];
  int nperm;
  unsigned char (*perm)[MS_ORDERING_MAX_SITES];
  int parent_ops;
  int64_t count, burnside;
  uint64_t *masks;
};

void ms_ordering_options_default(ms_ordering_options *o) {
  o->symprec = 1e-3;
  o->max_enumeration = 1000000;
}

void ms_ordering_free(ms_ordering **op) {
  if (!op || !*op) return;
  free((*op)->perm);
  free((*op)->masks);
  free(*op);
  *op = NULL;
}

int64_t ms_ordering_count(const ms_ordering *o) { return o->count; }
int64_t ms_ordering_count_burnside(const ms_ordering *o) { return o->burnside; }
int ms_ordering_group_order(const ms_ordering *o) { return o->nperm; }
int ms_ordering_parent_ops(const ms_ordering *o) { return o->parent_ops; }

/* Permutations of the set induced by the parent's operations (deduplicated). */
static ms_err set_permutations(const ms_cell *c, const int *sites, int n, double symprec,
                               unsigned char (**perm)[MS_ORDERING_MAX_SITES], int *nperm,
                               int *nops_out) {
  MS_CHECK(n >= 1 && n <= MS_ORDERING_MAX_SITES, MS_ERR_INPUT,
           "ordering: the site set must have 1..%d sites, got %d", MS_ORDERING_MAX_SITES, n);
  for (int a = 0; a < n; ++a) {
    MS_CHECK(sites[a] >= 0 && sites[a] < c->natoms, MS_ERR_INPUT,
             "ordering: site %d out of range (cell has %d)", sites[a], c->natoms);
    for (int b = 0; b < a; ++b)
      MS_CHECK(sites[a] != sites[b], MS_ERR_INPUT, "ordering: site %d listed twice", sites[a]);
  }
  int na = c->natoms;
  int max_ops = 48 * na + 48;
  double lat[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) lat[i][j] = c->lattice[j][i]; /* spglib: column vectors */
  int(*rot)[3][3] = malloc((size_t)max_ops * sizeof *rot);
  double(*tr)[3] = malloc((size_t)max_ops * sizeof *tr);
  unsigned char(*pm)[MS_ORDERING_MAX_SITES] = malloc((size_t)max_ops * sizeof *pm);
  if (!rot || !tr || !pm) {
    free(rot);
    free(tr);
    free(pm);
    MS_FAIL(MS_ERR_MEM, "ordering: out of memory for %d operations", max_ops);
  }
  int nops = spg_get_symmetry(rot, tr, max_ops, lat, c->frac, c->kind, na, symprec);
  if (nops <= 0) {
    free(rot);
    free(tr);
    free(pm);
    MS_FAIL(MS_ERR_NUMERIC, "ordering: spglib found no symmetry operations for the parent (%s)",
            spg_get_error_message(spg_get_error_code()));
  }
  /* Tolerance in fractional units from symprec and the shortest lattice vector's length. */
  double amin = INFINITY;
  for (int i = 0; i < 3; ++i)
    amin =
        fmin(amin, sqrt(c->lattice[i][0] * c->lattice[i][0] + c->lattice[i][1] * c->lattice[i][1] +
                        c->lattice[i][2] * c->lattice[i][2]));
  double ftol = fmax(2 * symprec / amin, 1e-6);
  int np = 0;
  for (int g = 0; g < nops; ++g) {
    unsigned char p[MS_ORDERING_MAX_SITES];
    int ok = 1;
    for (int a = 0; a < n && ok; ++a) {
      const double *f = c->frac[sites[a]];
      double y[3];
      for (int i = 0; i < 3; ++i)
        y[i] = rot[g][i][0] * f[0] + rot[g][i][1] * f[1] + rot[g][i][2] * f[2] + tr[g][i];
      int found = -1;
      for (int b = 0; b < n && found < 0; ++b) {
        const double *h = c->frac[sites[b]];
        int same = 1;
        for (int i = 0; i < 3 && same; ++i) {
          double d = y[i] - h[i];
          d -= floor(d + 0.5);
          same = fabs(d) < ftol;
        }
        if (same) found = b;
      }
      if (found < 0)
        ok = 0;
      else
        p[a] = (unsigned char)found;
    }
    if (!ok) continue; /* the operation moves the set elsewhere */
    int dup = 0;
    for (int q = 0; q < np && !dup; ++q) dup = memcmp(pm[q], p, (size_t)n) == 0;
    if (!dup) memcpy(pm[np++], p, sizeof p);
  }
  free(rot);
  free(tr);
  *perm = pm;
  *nperm = np;
  if (nops_out) *nops_out = nops;
  return MS_SUCCESS;
}

static int64_t binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  if (k > n - k) k = n - k;
  unsigned __int128 r = 1;
  for (int i = 1; i <= k; ++i) {
    r = r * (unsigned)(n - k + i) / (unsigned)i;
    if (r > (unsigned __int128)INT64_MAX) return INT64_MAX;
  }
  return (int64_t)r;
}

/* Burnside's count of the classes of arrangements with kg[g] chosen sites in group g: for each
 * permutation, the arrangements it fixes are unions of whole cycles, counted by the
 * coefficient of prod_g x_g^kg[g] in prod over cycles (1 + x_{group}^len). The polynomial is
 * kept truncated at degree kg[g] in each variable (higher terms never reach the coefficient). */
static int64_t burnside(unsigned char (*perm)[MS_ORDERING_MAX_SITES], int np, int n,
                        const int *group, const int *kg, int ngroups) {
  size_t stride[MS_ORDERING_MAX_GROUPS], size = 1;
  for (int g = 0; g < ngroups; ++g) {
    stride[g] = size;
    size *= (size_t)(kg[g] + 1);
  }
  unsigned __int128 *poly = malloc(size * sizeof *poly);
  if (!poly) return -1;
  unsigned __int128 total = 0;
  for (int q = 0; q < np; ++q) {
    memset(poly, 0, size * sizeof *poly);
    poly[0] = 1;
    int seen[MS_ORDERING_MAX_SITES] = {0};
    for (int a = 0; a < n; ++a) {
      if (seen[a]) continue;
      int len = 0;
      for (int b = a; !seen[b]; b = perm[q][b]) {
        seen[b] = 1;
        ++len;
      }
      int g = group[a];
      if (len > kg[g]) continue; /* choosing this cycle overshoots: only "not chosen" counts */
      /* poly += x_g^len poly, highest index first so each term is used once. */
      for (size_t idx = size; idx-- > 0;) {
        int digit = (int)((idx / stride[g]) % (size_t)(kg[g] + 1));
        if (digit >= len) poly[idx] += poly[idx - (size_t)len * stride[g]];
      }
    }
    total += poly[size - 1];
  }
  free(poly);
  return (int64_t)(total / (unsigned)np);
}

ms_err ms_ordering_burnside(const ms_cell *parent, const int *sites, int nsites, int k,
                            double symprec, int64_t *count) {
  MS_CHECK(k >= 0 && k <= nsites, MS_ERR_INPUT, "ordering: k must be in 0..%d, got %d", nsites, k);
  unsigned char(*perm)[MS_ORDERING_MAX_SITES] = NULL;
  int np = 0;
  MS_CALL(set_permutations(parent, sites, nsites, symprec, &perm, &np, NULL));
  int group[MS_ORDERING_MAX_SITES] = {0};
  *count = burnside(perm, np, nsites, group, &k, 1);
  free(perm);
  MS_CHECK(*count >= 0, MS_ERR_MEM, "ordering: out of memory");
  return MS_SUCCESS;
}

static inline uint64_t bit_of(int i) { return (uint64_t)1 << (63 - i); }

ms_err ms_ordering_create(const ms_cell *parent, const int *sites, int nsites, int k,
                          const ms_ordering_options *opt, ms_ordering **out) {
  *out = NULL;
  MS_CHECK(k >= 0 && k <= nsites, MS_ERR_INPUT, "ordering: k must be in 0..%d, got %d", nsites, k);
  MS_CHECK(nsites >= 1 && nsites <= MS_ORDERING_MAX_SITES, MS_ERR_INPUT,
           "ordering: the site set must have 1..%d sites, got %d", MS_ORDERING_MAX_SITES, nsites);
  int group[MS_ORDERING_MAX_SITES] = {0};
  return ms_ordering_create_groups(parent, sites, group, nsites, &k, 1, opt, out);
}

/* Advance the combination idx[0..k-1] of positions 0..n-1 (indices into a group's position
 * list) to the next in lexicographic order; 0 when it wraps around to the first. */
static int next_combination(int *idx, int k, int n) {
  int i = k - 1;
  while (i >= 0 && idx[i] == n - k + i) --i;
  if (i < 0) {
    for (int j = 0; j < k; ++j) idx[j] = j;
    return 0;
  }
  ++idx[i];
  for (int j = i + 1; j < k; ++j) idx[j] = idx[j - 1] + 1;
  return 1;
}

ms_err ms_ordering_create_groups(const ms_cell *parent, const int *sites, const int *group,
                                 int nsites, const int *kg, int ngroups,
                                 const ms_ordering_options *opt, ms_ordering **out) {
  ms_ordering_options def;
  if (!opt) {
    ms_ordering_options_default(&def);
    opt = &def;
  }
  *out = NULL;
  MS_CHECK(ngroups >= 1 && ngroups <= MS_ORDERING_MAX_GROUPS, MS_ERR_INPUT,
           "ordering: 1..%d site groups, got %d", MS_ORDERING_MAX_GROUPS, ngroups);
  MS_CHECK(nsites >= 1 && nsites <= MS_ORDERING_MAX_SITES, MS_ERR_INPUT,
           "ordering: the site set must have 1..%d sites, got %d", MS_ORDERING_MAX_SITES, nsites);
  int ng[MS_ORDERING_MAX_GROUPS] = {0}, pos[MS_ORDERING_MAX_GROUPS][MS_ORDERING_MAX_SITES];
  for (int a = 0; a < nsites; ++a) {
    MS_CHECK(group[a] >= 0 && group[a] < ngroups, MS_ERR_INPUT,
             "ordering: site %d is in group %d, not in 0..%d", a, group[a], ngroups - 1);
    pos[group[a]][ng[group[a]]++] = a;
  }
  int64_t total = 1;
  int ktot = 0;
  for (int g = 0; g < ngroups; ++g) {
    MS_CHECK(kg[g] >= 0 && kg[g] <= ng[g], MS_ERR_INPUT,
             "ordering: k must be in 0..%d for group %d, got %d", ng[g], g, kg[g]);
    int64_t c = binomial(ng[g], kg[g]);
    total = (c > 0 && total > INT64_MAX / c) ? INT64_MAX : total * c;
    ktot += kg[g];
  }
  ms_ordering *o = calloc(1, sizeof *o);
  MS_CHECK(o, MS_ERR_MEM, "out of memory");
  o->n = nsites;
  o->k = ktot;
  o->ngroups = ngroups;
  memcpy(o->kg, kg, (size_t)ngroups * sizeof *kg);
  memcpy(o->group, group, (size_t)nsites * sizeof *group);
  ms_err e =
      set_permutations(parent, sites, nsites, opt->symprec, &o->perm, &o->nperm, &o->parent_ops);
  if (e) {
    ms_ordering_free(&o);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  /* Keep the permutations that map every group onto itself: the groups receive different
   * ions, so an operation exchanging them is not a symmetry of any arrangement. */
  int np = 0;
  for (int q = 0; q < o->nperm; ++q) {
    int keep = 1;
    for (int a = 0; a < nsites && keep; ++a) keep = group[o->perm[q][a]] == group[a];
    if (keep) memmove(o->perm[np++], o->perm[q], sizeof o->perm[q]);
  }
  o->nperm = np;
  memcpy(o->sites, sites, (size_t)nsites * sizeof *sites);
  o->burnside = burnside(o->perm, o->nperm, nsites, group, kg, ngroups);
  if (o->burnside < 0) {
    ms_ordering_free(&o);
    MS_FAIL(MS_ERR_MEM, "ordering: out of memory");
  }
  if (total > opt->max_enumeration) {
    int64_t b = o->burnside;
    ms_ordering_free(&o);
    if (ngroups == 1)
      MS_FAIL(MS_ERR_INPUT,
              "ordering: %d of %d sites gives C(%d,%d) = %lld arrangements (%lld distinct by "
              "symmetry), above the enumeration bound %lld; use a smaller supercell or raise "
              "max_enumeration",
              kg[0], nsites, nsites, kg[0], (long long)total, (long long)b,
              (long long)opt->max_enumeration);
    MS_FAIL(MS_ERR_INPUT,
            "ordering: %d site groups give %lld arrangements (%lld distinct by symmetry), above "
            "the enumeration bound %lld; use a smaller supercell or raise max_enumeration",
            ngroups, (long long)total, (long long)b, (long long)opt->max_enumeration);
  }
  size_t cap = (size_t)(o->burnside > 0 ? o->burnside : 1);
  o->masks = malloc(cap * sizeof *o->masks);
  if (!o->masks) {
    ms_ordering_free(&o);
    MS_FAIL(MS_ERR_MEM, "ordering: out of memory for %zu arrangements", cap);
  }
  /* Odometer over the groups' combinations, group 0 the most significant digit; each group's
   * combinations in lexicographic order. With one group this is the lexicographic order of
   * the k-subsets of the set. */
  int idx[MS_ORDERING_MAX_GROUPS][MS_ORDERING_MAX_SITES];
  for (int g = 0; g < ngroups; ++g)
    for (int i = 0; i < kg[g]; ++i) idx[g][i] = i;
  int64_t count = 0;
  for (;;) {
    uint64_t m = 0;
    int chosen[MS_ORDERING_MAX_SITES], nc = 0;
    for (int g = 0; g < ngroups; ++g)
      for (int i = 0; i < kg[g]; ++i) chosen[nc++] = pos[g][idx[g][i]];
    for (int i = 0; i < nc; ++i) m |= bit_of(chosen[i]);
    int canonical = 1;
    for (int q = 0; q < o->nperm && canonical; ++q) {
      uint64_t pm = 0;
      for (int i = 0; i < nc; ++i) pm |= bit_of(o->perm[q][chosen[i]]);
      canonical = pm <= m;
    }
    if (canonical) {
      if ((size_t)count == cap) {
        /* Only reachable if the Burnside count were wrong. */
        ms_ordering_free(&o);
        MS_FAIL(MS_ERR_INTERNAL, "ordering: more representatives than Burnside's count");
      }
      o->masks[count++] = m;
    }
    int g = ngroups - 1;
    while (g >= 0 && !next_combination(idx[g], kg[g], ng[g])) --g;
    if (g < 0) break;
  }
  o->count = count;
  if (count != o->burnside) {
    int64_t b = o->burnside;
    ms_ordering_free(&o);
    MS_FAIL(MS_ERR_INTERNAL, "ordering: enumerated %lld classes but Burnside gives %lld",
            (long long)count, (long long)b);
  }
  *out = o;
  return MS_SUCCESS;
}

ms_err ms_ordering_get(const ms_ordering *o, int64_t i, int *chosen) {
  return ms_ordering_get_groups(o, i, chosen, NULL);
}

ms_err ms_ordering_get_groups(const ms_ordering *o, int64_t i, int *chosen, int *chosen_group) {
  MS_CHECK(i >= 0 && i < o->count, MS_ERR_ARG, "ordering: arrangement %lld out of range (0..%lld)",
           (long long)i, (long long)o->count - 1);
  uint64_t m = o->masks[i];
  int n = 0;
  for (int a = 0; a < o->n; ++a)
    if (m & bit_of(a)) {
      if (chosen_group) chosen_group[n] = o->group[a];
      chosen[n++] = o->sites[a];
    }
  return MS_SUCCESS;
}
