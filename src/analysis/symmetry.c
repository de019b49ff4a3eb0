/* Symmetry through spglib 2.0: space group, operations, site orbits and standardised cells.
 *
 * spglib works with column lattices (lattice[i][j] = component i of vector j) and integer site
 * types; matscreen keeps row lattices and a per-cell species table, so every call transposes
 * the lattice and passes the site's kind as its type. Because a kind is a species with its
 * oxidation state, Fe2+ and Fe3+ are different types for spglib, as they must be for charge
 * ordering to lower the symmetry. */
#include "matscreen/symmetry.h"

#include <math.h>
#include <spglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ms_symmetry_init(ms_symmetry *s) { memset(s, 0, sizeof *s); }

void ms_symmetry_free(ms_symmetry *s) {
  if (!s) return;
  free(s->rotations);
  free(s->translations);
  free(s->equivalent_atoms);
  free(s->wyckoffs);
  memset(s, 0, sizeof *s);
}

static void to_columns(const double rows[3][3], double col[3][3]) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) col[i][j] = rows[j][i];
}

static const char *cell_name(const ms_cell *c) { return c->label[0] ? c->label : "structure"; }

static ms_err check_args(const ms_cell *c, double symprec) {
  MS_CHECK(c, MS_ERR_ARG, "cell is NULL");
  MS_CHECK(symprec > 0 && symprec < 5, MS_ERR_ARG,
           "symmetry tolerance symprec must be in (0, 5) Å, got %g", symprec);
  MS_CALL(ms_cell_validate(c));
  return MS_SUCCESS;
}

/* The cell as spglib wants it; positions wrapped to [0, 1) (spglib accepts any, but wrapping
 * keeps the standardised output independent of the image a site was given in). */
static ms_err spg_input(const ms_cell *c, double lat[3][3], double (**pos)[3], int **types) {
  to_columns(c->lattice, lat);
  *pos = NULL;
  *types = NULL;
  MS_CALL(MS_CALLOC((size_t)c->natoms, pos));
  ms_err e = MS_CALLOC((size_t)c->natoms, types);
  if (e) {
    free(*pos);
    *pos = NULL;
    MS_CALL(e);
  }
  for (int i = 0; i < c->natoms; ++i) {
    for (int k = 0; k < 3; ++k) (*pos)[i][k] = c->frac[i][k] - floor(c->frac[i][k]);
    (*types)[i] = c->kind[i];
  }
  return MS_SUCCESS;
}

static ms_err spg_failure(const ms_cell *c, const char *what, double symprec) {
  SpglibError code = spg_get_error_code();
  MS_FAIL(MS_ERR_NUMERIC, "%s: spglib %s failed at symprec %g Å: %s", cell_name(c), what, symprec,
          spg_get_error_message(code));
}

ms_err ms_symmetry_get(const ms_cell *c, double symprec, double angle_tol, ms_symmetry *out) {
  MS_CHECK(out, MS_ERR_ARG, "output is NULL");
  ms_symmetry_free(out);
  MS_CALL(check_args(c, symprec));
  double lat[3][3];
  double (*pos)[3];
  int *types;
  MS_CALL(spg_input(c, lat, &pos, &types));
  SpglibDataset *ds = spgat_get_dataset(lat, pos, types, c->natoms, symprec,
                                        angle_tol);
  free(pos);
  free(types);
  if (!ds) MS_CALL(spg_failure(c, "symmetry search", symprec));
  ms_err e = MS_SUCCESS;
  out->number = ds->spacegroup_number;
  snprintf(out->international, sizeof out->international, "%s", ds->international_symbol);
  snprintf(out->hall_symbol, sizeof out->hall_symbol, "%s", ds->hall_symbol);
  out->hall_number = ds->hall_number;
  snprintf(out->pointgroup, sizeof out->pointgroup, "%s", ds->pointgroup_symbol);
  out->symprec = symprec;
  out->angle_tol = angle_tol;
  out->nops = ds->n_operations;
  out->natoms = c->natoms;
  e = MS_CALLOC((size_t)ds->n_operations, &out->rotations);
  if (!e) e = MS_CALLOC((size_t)ds->n_operations, &out->translations);
  if (!e) e = MS_CALLOC((size_t)c->natoms, &out->equivalent_atoms);
  if (!e) e = MS_CALLOC((size_t)c->natoms + 1, &out->wyckoffs);
  if (!e) {
    int npure = 0;
    for (int k = 0; k < ds->n_operations; ++k) {
      memcpy(out->rotations[k], ds->rotations[k], sizeof out->rotations[k]);
      memcpy(out->translations[k], ds->translations[k], sizeof out->translations[k]);
      const int(*R)[3] = ds->rotations[k];
      if (R[0][0] == 1 && R[1][1] == 1 && R[2][2] == 1 && !R[0][1] && !R[0][2] && !R[1][0] &&
          !R[1][2] && !R[2][0] && !R[2][1])
        ++npure;
    }
    for (int i = 0; i < c->natoms; ++i) {
      out->equivalent_atoms[i] = ds->equivalent_atoms[i];
      int w = ds->wyckoffs[i];
      out->wyckoffs[i] = (char)(w >= 0 && w < 26 ? 'a' + w : '?');
    }
    out->n_primitive = npure > 0 ? c->natoms / npure : c->natoms;
  }
  spg_free_dataset(ds);
  if (e) {
    ms_symmetry_free(out);
    MS_CALL(e);
  }
  return MS_SUCCESS;
}

int ms_point_group_order(int number) {
  /* the last space group of each crystal class, in number order, and the class's order */
  static const struct {
    int last, order;
  } classes[] = {{1, 1},     {2, 2},     {5, 2},     {9, 2},     {15, 4},    {24, 4},    {46, 4},
                 {74, 8},    {80, 4},    {82, 4},    {88, 8},    {98, 8},    {110, 8},   {122, 8},
                 {142, 16},  {146, 3},   {148, 6},   {155, 6},   {161, 6},   {167, 12},  {173, 6},
                 {174, 6},   {176, 12},  {182, 12},  {186, 12},  {190, 12},  {194, 24},  {199, 12},
                 {206, 24},  {214, 24},  {220, 24},  {230, 48}};
  if (number < 1 || number > 230) return 0;
  for (size_t k = 0; k < sizeof classes / sizeof classes[0]; ++k)
    if (number <= classes[k].last) return classes[k].order;
  return 0;
}

ms_err ms_spacegroup(const ms_cell *c, double symprec, double angle_tol, int *number, char *symbol) {
  MS_CALL(check_args(c, symprec));
  double lat[3][3];
  double (*pos)[3];
  int *types;
  MS_CALL(spg_input(c, lat, &pos, &types));
  char sym[11] = "";
  int n = spgat_get_international(sym, lat, pos, types, c->natoms, symprec,
                                  angle_tol);
  free(pos);
  free(types);
  if (n <= 0) MS_CALL(spg_failure(c, "space-group search", symprec));
  if (number) *number = n;
  if (symbol) snprintf(symbol, 16, "%s", sym);
  return MS_SUCCESS;
}

ms_err ms_cell_standardize(const ms_cell *c, ms_std_kind kind, int idealize, double symprec,
                           double angle_tol, ms_cell *out) {
  MS_CHECK(out && out != c, MS_ERR_ARG, "output cell must be a different, initialised cell");
  MS_CALL(check_args(c, symprec));
  /* A conventional cell holds at most 4 primitive cells of the input's lattice points
   * (face centring), which spglib documents as the buffer size it needs. */
  size_t cap = (size_t)c->natoms * 4;
  double lat[3][3];
  to_columns(c->lattice, lat);
  double (*pos)[3] = NULL;
  int *types = NULL;
  MS_CALL(MS_CALLOC(cap, &pos));
  ms_err e = MS_CALLOC(cap, &types);
  if (e) {
    free(pos);
    MS_CALL(e);
  }
  for (int i = 0; i < c->natoms; ++i) {
    for (int k = 0; k < 3; ++k) pos[i][k] = c->frac[i][k] - floor(c->frac[i][k]);
    types[i] = c->kind[i];
  }
  int n = spgat_standardize_cell(lat, pos, types, c->natoms, kind == MS_STD_PRIMITIVE,
                                 idealize ? 0 : 1, symprec, angle_tol);
  if (n <= 0 || (size_t)n > cap) {
    free(pos);
    free(types);
    MS_CALL(spg_failure(c, "standardisation", symprec));
  }
  ms_cell_free(out);
  double rows[3][3];
  to_columns(lat, rows); /* transposing twice is the identity */
  ms_cell_set_lattice(out, rows);
  snprintf(out->label, sizeof out->label, "%s", c->label);
  e = ms_cell_reserve(out, n);
  for (int i = 0; i < n && !e; ++i) {
    MS_ASSERT(types[i] >= 0 && types[i] < c->nkinds);
    e = ms_cell_add_atom(out, &c->species[types[i]], pos[i]);
  }
  free(pos);
  free(types);
  MS_CALL(e);
  return MS_SUCCESS;
}

void ms_symmetry_cart_rotation(const ms_symmetry *s, const ms_cell *c, int k, double W[3][3]) {
  /* r = L^T f, so r' = L^T R f = L^T R L^-T r. */
  const double (*L)[3] = c->lattice;
  double det = ms_cell_det(c);
  double Linv[3][3]; /* inverse of L (rows) */
  Linv[0][0] = (L[1][1] * L[2][2] - L[1][2] * L[2][1]) / det;
  Linv[0][1] = (L[0][2] * L[2][1] - L[0][1] * L[2][2]) / det;
  Linv[0][2] = (L[0][1] * L[1][2] - L[0][2] * L[1][1]) / det;
  Linv[1][0] = (L[1][2] * L[2][0] - L[1][0] * L[2][2]) / det;
  Linv[1][1] = (L[0][0] * L[2][2] - L[0][2] * L[2][0]) / det;
  Linv[1][2] = (L[0][2] * L[1][0] - L[0][0] * L[1][2]) / det;
  Linv[2][0] = (L[1][0] * L[2][1] - L[1][1] * L[2][0]) / det;
  Linv[2][1] = (L[0][1] * L[2][0] - L[0][0] * L[2][1]) / det;
  Linv[2][2] = (L[0][0] * L[1][1] - L[0][1] * L[1][0]) / det;
  double RLt[3][3]; /* R L^-T, with (L^-T)[a][b] = Linv[b][a] */
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double acc = 0;
      for (int m = 0; m < 3; ++m) acc += s->rotations[k][i][m] * Linv[j][m];
      RLt[i][j] = acc;
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double acc = 0;
      for (int m = 0; m < 3; ++m) acc += L[m][i] * RLt[m][j];
      W[i][j] = acc;
    }
}

ms_err ms_symmetry_site_map(const ms_symmetry *s, const ms_cell *c, double tol, int *map) {
  MS_CHECK(s && c && map, MS_ERR_ARG, "NULL argument");
  MS_CHECK(s->natoms == c->natoms, MS_ERR_ARG,
           "symmetry was computed for %d sites, the cell has %d", s->natoms, c->natoms);
  int n = c->natoms;
  for (int k = 0; k < s->nops; ++k) {
    const int(*R)[3] = s->rotations[k];
    for (int i = 0; i < n; ++i) {
      double f[3];
      for (int a = 0; a < 3; ++a)
        f[a] = R[a][0] * c->frac[i][0] + R[a][1] * c->frac[i][1] + R[a][2] * c->frac[i][2] +
               s->translations[k][a];
      int best = -1;
      double bestd = INFINITY;
      for (int j = 0; j < n; ++j) {
        if (!ms_species_equal(&c->species[c->kind[i]], &c->species[c->kind[j]])) continue;
        double d[3], r[3];
        for (int a = 0; a < 3; ++a) {
          d[a] = c->frac[j][a] - f[a];
          d[a] -= nearbyint(d[a]);
        }
        /* Rounding the fractional difference gives the nearest image for all but very skewed
         * cells; the tolerance is small against interatomic distances, so a site within tol
         * is found either way. */
        ms_cell_frac_to_cart(c, d, r);
        double dd = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        if (dd < bestd) {
          bestd = dd;
          best = j;
        }
      }
      MS_CHECK(best >= 0 && bestd <= tol, MS_ERR_NUMERIC,
               "%s: symmetry operation %d maps site %d to no site within %g Å (nearest %g Å)",
               cell_name(c), k, i, tol, bestd);
      map[(size_t)k * (size_t)n + (size_t)i] = best;
    }
  }
  return MS_SUCCESS;
}

ms_err ms_symmetry_symmetrize_vectors(const ms_symmetry *s, const ms_cell *c, const int *map,
                                      double (*v)[3]) {
  MS_CHECK(s && c && map && v, MS_ERR_ARG, "NULL argument");
  MS_CHECK(s->nops > 0, MS_ERR_ARG, "no symmetry operations");
  int n = c->natoms;
  double (*acc)[3] = NULL;
  MS_CALL(MS_CALLOC((size_t)n, &acc));
  for (int k = 0; k < s->nops; ++k) {
    double W[3][3];
    ms_symmetry_cart_rotation(s, c, k, W);
    for (int i = 0; i < n; ++i) {
      int j = map[(size_t)k * (size_t)n + (size_t)i];
      for (int a = 0; a < 3; ++a) acc[j][a] += W[a][0] * v[i][0] + W[a][1] * v[i][1] + W[a][2] * v[i][2];
    }
  }
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) v[i][a] = acc[i][a] / s->nops;
  free(acc);
  return MS_SUCCESS;
}
