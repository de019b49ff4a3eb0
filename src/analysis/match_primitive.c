/* The primitive cell search of structure matching, with the algorithm of pymatgen's
 * get_primitive_structure (pymatgen.core.structure; the method of its Structure class): try
 * the supercell matrices of each determinant in pymatgen's order and keep the first smaller
 * cell whose translations map every site onto a site of its species within the tolerance
 * (0.25 Å by default), then recurse on the result, so that noisy supercells are reduced in
 * the same cases as pymatgen. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/match_impl.h"

/* Supercell matrices of pymatgen's get_primitive_structure: for det = a e g, the upper
 * triangular Hermite forms [[a, b, c], [0, e, f], [0, 0, g]] with 0 <= b, c < a and
 * 0 <= f < e, in the order a (divisors of det, ascending), e (divisors of det / a), b, c, f.
 * Writes the one with index @p k into M; returns 0 when k is past the last. */
static int hnf_matrix(int det, int k, int M[3][3]) {
  for (int a = 1; a <= det; ++a) {
    if (det % a) continue;
    for (int e = 1; e <= det / a; ++e) {
      if ((det / a) % e) continue;
      int g = det / a / e, n = a * a * e;
      if (k >= n) {
        k -= n;
        continue;
      }
      int b = k / (a * e), c = (k / e) % a, f = k % e;
      int m[3][3] = {{a, b, c}, {0, e, f}, {0, 0, g}};
      memcpy(M, m, sizeof m);
      return 1;
    }
  }
  return 0;
}

/* Try the supercell matrix M (det = size) on c: the images of each species' sites in the
 * candidate primitive cell (coordinates f M) must fall into cliques of exactly @p size sites
 * that are close in the new cell (box tol / |a'_k|) and apart in the old one (some axis beyond
 * the doubled tolerance sft2); each clique becomes one site at the running average of the
 * minimum-image offsets. Species are taken in the order of their labels and sites in input
 * order, as pymatgen builds its result. *ok = 0 when M does not work. */
static ms_err try_supercell(const ms_cell *c, const int *korder, const int M[3][3], int size, double tol,
                            const double sft2[3], ms_cell *out, int *ok) {
  int N = c->natoms;
  *ok = 0;
  double Md[3][3], Minv[3][3], L[3][3];
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) Md[i][k] = M[i][k];
  ms_mat3_inv(Md, Minv);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) L[i][k] = Minv[i][0] * c->lattice[0][k] + Minv[i][1] * c->lattice[1][k] + Minv[i][2] * c->lattice[2][k];
  double ftol[3];
  for (int k = 0; k < 3; ++k) ftol[k] = tol / ms__match_norm3(L[k]);
  double (*nf)[3] = NULL;
  int *added = NULL, *members = NULL;
  unsigned char *grp = NULL;
  ms_err e = MS_CALLOC((size_t)N, &nf);
  if (!e) e = MS_CALLOC((size_t)N, &added);
  if (!e) e = MS_CALLOC((size_t)N, &members);
  if (!e) e = MS_CALLOC((size_t)N * (size_t)N, &grp);
  ms_cell tmp;
  ms_cell_init(&tmp);
  int valid = !e;
  if (valid) {
    for (int i = 0; i < N; ++i)
      for (int k = 0; k < 3; ++k) nf[i][k] = c->frac[i][0] * Md[0][k] + c->frac[i][1] * Md[1][k] + c->frac[i][2] * Md[2][k];
    ms_cell_set_lattice(&tmp, (const double (*)[3])L);
    snprintf(tmp.label, sizeof tmp.label, "%s", c->label);
  }
  /* grp[i][j]: same species, close in the new cell, and not neighbours in the old one. */
  for (int i = 0; i < N && valid; ++i)
    for (int j = 0; j < N; ++j) {
      unsigned char v = 0;
      if (c->kind[i] == c->kind[j]) {
        if (i == j) {
          v = 1;
        } else {
          double dn[3], dold[3];
          int close = 1, apart = 0;
          for (int k = 0; k < 3; ++k) {
            dn[k] = fabs(nf[j][k] - nf[i][k]);
            dn[k] = fabs(dn[k] - nearbyint(dn[k]));
            if (!(dn[k] < ftol[k])) close = 0;
            dold[k] = c->frac[j][k] - c->frac[i][k];
            dold[k] = fabs(dold[k] - nearbyint(dold[k]));
            if (dold[k] > sft2[k]) apart = 1;
          }
          v = (unsigned char)(close && apart);
        }
      }
      grp[(size_t)i * (size_t)N + (size_t)j] = v;
    }
  /* Every site in exactly `size` groups' rows, and every group a clique. */
  for (int j = 0; j < N && valid; ++j) {
    int cnt = 0;
    for (int i = 0; i < N; ++i) cnt += grp[(size_t)i * (size_t)N + (size_t)j];
    if (cnt != size) valid = 0;
  }
  for (int i = 0; i < N && valid; ++i) {
    int nm = 0;
    for (int j = 0; j < N; ++j)
      if (grp[(size_t)i * (size_t)N + (size_t)j]) members[nm++] = j;
    for (int x = 0; x < nm && valid; ++x)
      for (int y = 0; y < nm && valid; ++y)
        if (!grp[(size_t)members[x] * (size_t)N + (size_t)members[y]]) valid = 0;
  }
  for (int q = 0; q < c->nkinds && valid && !e; ++q) {
    int kind = korder[q];
    for (int i = 0; i < N && !e; ++i) {
      if (c->kind[i] != kind || added[i]) continue;
      int nm = 0;
      for (int j = 0; j < N; ++j)
        if (grp[(size_t)i * (size_t)N + (size_t)j]) {
          members[nm++] = j;
          added[j] = 1;
        }
      double w[3];
      for (int k = 0; k < 3; ++k) w[k] = nf[members[0]][k] - floor(nf[members[0]][k]);
      for (int m = 1; m < nm; ++m)
        for (int k = 0; k < 3; ++k) {
          double x = nf[members[m]][k] - floor(nf[members[m]][k]) - w[k];
          w[k] += (x - nearbyint(x)) / (m + 1);
        }
      e = ms_cell_add_atom(&tmp, &c->species[kind], w);
    }
  }
  if (!e && valid && tmp.natoms * size == N) {
    ms_cell_wrap(&tmp);
    e = ms_cell_copy(out, &tmp);
    if (!e) *ok = 1;
  }
  ms_cell_free(&tmp);
  free(nf);
  free(added);
  free(members);
  free(grp);
  return e;
}

static int kind_label_cmp(const ms_cell *c, int a, int b) {
  char ta[16], tb[16];
  ms_species_format(&c->species[a], ta, sizeof ta);
  ms_species_format(&c->species[b], tb, sizeof tb);
  int r = strcmp(ta, tb);
  return r ? r : a - b;
}

/* The primitive cell of @p c into @p out, following the algorithm of
 * pymatgen's Structure.get_primitive_structure (tolerance @p tol in Å; the supercell
 * matrices are tried from the smallest determinant up, and the first that works is applied
 * and the search repeated on the Niggli-reduced result), so that noisy supercells are
 * reduced, or not, in the same cases:
 * - candidate translations: differences of the sites of the rarest species (labels in
 *   alphabetical order break ties) from its first site, kept if every site of every species
 *   moves onto a site of its species within twice the box tolerance tol / |a_k|;
 * - a supercell matrix M (Hermite form, det dividing the gcd of the species counts) is tried
 *   if every row of M^-1 is one of those translations within the box tolerance;
 * - try_supercell then checks and merges the images.
 * A copy of c is returned when nothing works. (The recursion searches the new cell in the
 * basis M^-1 L, unreduced, as pymatgen does, since the box tolerances depend on the basis.) */
ms_err ms__match_find_primitive(const ms_cell *c, double tol, ms_cell *out, int depth) {
  int N = c->natoms, nk = c->nkinds;
  int count[MS_CELL_MAX_KINDS] = {0}, korder[MS_CELL_MAX_KINDS];
  for (int i = 0; i < N; ++i) count[c->kind[i]]++;
  for (int k = 0; k < nk; ++k) korder[k] = k;
  for (int a = 1; a < nk; ++a)
    for (int b = a; b > 0 && kind_label_cmp(c, korder[b - 1], korder[b]) > 0; --b) {
      int t = korder[b];
      korder[b] = korder[b - 1];
      korder[b - 1] = t;
    }
  long long g = 0;
  int rare = -1;
  for (int q = 0; q < nk; ++q) {
    int k = korder[q];
    if (!count[k]) continue;
    g = ms__match_gcd(g, count[k]);
    if (rare < 0 || count[k] < count[rare]) rare = k;
  }
  if (g <= 1 || depth > 16) return ms_cell_copy(out, c);
  double sft[3], sft2[3];
  for (int k = 0; k < 3; ++k) {
    sft[k] = tol / ms__match_norm3(c->lattice[k]);
    sft2[k] = 2.0 * sft[k];
  }
  int s0 = -1;
  for (int i = 0; i < N && s0 < 0; ++i)
    if (c->kind[i] == rare) s0 = i;
  double (*T)[3] = NULL;
  MS_CALL(MS_CALLOC((size_t)count[rare], &T));
  int nt = 0;
  for (int j = 0; j < N; ++j) {
    if (c->kind[j] != rare) continue;
    double t[3];
    for (int k = 0; k < 3; ++k) t[k] = c->frac[j][k] - c->frac[s0][k];
    int ok = 1;
    for (int i = 0; i < N && ok; ++i) {
      int found = 0;
      for (int m = 0; m < N && !found; ++m) {
        if (c->kind[m] != c->kind[i]) continue;
        double d[3] = {c->frac[m][0] - c->frac[i][0] - t[0], c->frac[m][1] - c->frac[i][1] - t[1],
                       c->frac[m][2] - c->frac[i][2] - t[2]};
        found = ms__match_box_close(d, sft2);
      }
      ok = found;
    }
    if (ok) memcpy(T[nt++], t, sizeof t);
  }
  ms_cell red;
  ms_cell_init(&red);
  int reduced = 0;
  ms_err e = MS_SUCCESS;
  for (int det = 2; det <= g && !reduced && !e; ++det) {
    if (g % det) continue;
    int M[3][3];
    for (int idx = 0; hnf_matrix(det, idx, M) && !reduced && !e; ++idx) {
      double Md[3][3], Minv[3][3];
      for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 3; ++k) Md[i][k] = M[i][k];
      ms_mat3_inv(Md, Minv);
      int rows_ok = 1;
      for (int r = 0; r < 3 && rows_ok; ++r) {
        int found = 0;
        for (int q = 0; q < nt && !found; ++q) {
          double d[3] = {Minv[r][0] - T[q][0], Minv[r][1] - T[q][1], Minv[r][2] - T[q][2]};
          found = ms__match_box_close(d, sft);
        }
        rows_ok = found;
      }
      if (rows_ok) e = try_supercell(c, korder, (const int(*)[3])M, det, tol, sft2, &red, &reduced);
    }
  }
  free(T);
  if (!e && reduced) {
    /* As pymatgen: search the new cell as it is, Niggli-reduce what comes back. */
    e = ms__match_find_primitive(&red, tol, out, depth + 1);
    if (!e) e = ms_cell_niggli_reduce(out, 1e-5, NULL);
  } else if (!e) {
    e = ms_cell_copy(out, c);
  }
  ms_cell_free(&red);
  return e;
}

