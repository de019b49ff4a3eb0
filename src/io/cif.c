/* CIF structures: from data blocks (cif_syntax.c) to P1 cells, and back.
 *
 * Reading, per data block:
 *  - cell from _cell_length_{a,b,c} and _cell_angle_{alpha,beta,gamma} through
 *    ms_lattice_from_parameters (a along x, b in the xy plane);
 *  - symmetry operations from _space_group_symop_operation_xyz (CIF core 2.x name) or
 *    _symmetry_equiv_pos_as_xyz (older name); none listed means P1, unless a space group other
 *    than P1 is named, which is an error because guessing its setting would be wrong;
 *  - sites from the _atom_site loop: element from _atom_site_type_symbol ("Ti4+", "Sr") or,
 *    without it, from _atom_site_label ("Sr1" -> Sr); oxidation state from the
 *    _atom_type_symbol / _atom_type_oxidation_number loop, else from a charge in the type
 *    symbol; _atom_site_occupancy below 1 - 1e-4 is rejected (disorder is not modelled);
 *  - expansion: every operation is applied to every site, images are wrapped into [0, 1), and
 *    an image closer than MERGE_TOL_A (periodic Cartesian distance) to a site already kept is
 *    the same site. Two different species on one position are an error (mixed occupancy).
 *    The first image is kept, as pymatgen's CifParser does, so outputs agree site by site.
 * Blocks with neither a cell nor atom sites (publication data) are skipped; a file without
 * any structure is an error.
 *
 * Writing: one P1 data block per cell, with _atom_type oxidation numbers when the species
 * have them, type symbols such as "Ti4+", and 12 decimals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cif_syntax.h"
#include "io_text.h"
#include "matscreen/io.h"
#include "symop.h"

/* Images of one site closer than this (Å) are merged. Symmetry-equivalent positions written
 * with 4 decimals (0.3333 for 1/3) differ by ~1e-3 Å in a 10 Å cell, while real interatomic
 * distances are above 0.5 Å, so 0.01 Å separates the two cases with room on both sides.
 * (pymatgen uses 1e-4 in fractional units; on 3-30 Å cells that is 3e-4 to 3e-3 Å.) */
#define MERGE_TOL_A 1e-2
/* More operations than any space group has in a conventional setting (192 for F m -3 m)
 * leaves room for unusual settings while bounding work on garbage. */
#define MAX_OPS 1536
/* Occupancies down to 1 - OCC_TOL count as full; refined occupancies slightly above 1 (up to
 * 1 + OCC_HIGH) are common in experimental files and count as full too. */
#define OCC_TOL 1e-4
#define OCC_HIGH 0.05

typedef struct {
  const char *name;
  ms_cell_list *out;
  int nstructures;
} cif_ctx;

/* Name of the block for messages, e.g. "data block 'SrTiO3'". */
static const char *block_desc(const ms_cif_block *b, char *buf, size_t len) {
  char shown[MS_IO_SHOW_LEN];
  ms_io_tok t = {b->name, b->name_len};
  snprintf(buf, len, "data block '%s'", ms__io_show(t, shown, sizeof shown));
  return buf;
}

/* A numeric single item (or a loop with one row) that must be present and known. */
static ms_err need_number(const cif_ctx *cx, const ms_cif_block *b, const char *tag, double *v,
                          int *line) {
  const ms_cif_item *it = NULL;
  char desc[96];
  MS_CALL(ms__cif_find(b, cx->name, tag, &it));
  if (!it) MS_IO_FAIL(cx->name, b->line, "%s has no %s", block_desc(b, desc, sizeof desc), tag);
  if (it->nrows != 1)
    MS_IO_FAIL(cx->name, it->line, "%s must have exactly one value, got %zu", tag, it->nrows);
  const ms_cif_value *val = ms__cif_at(b, it, 0);
  char shown[MS_IO_SHOW_LEN];
  ms_io_tok t = {val->s, val->n};
  int rc = ms__cif_number(val, v);
  if (rc == 1) MS_IO_FAIL(cx->name, val->line, "%s is unknown ('%.1s')", tag, val->s);
  if (rc == -2)
    MS_IO_FAIL(cx->name, val->line, "%s is not a finite number: '%s'", tag,
               ms__io_show(t, shown, sizeof shown));
  if (rc != 0)
    MS_IO_FAIL(cx->name, val->line, "%s expects a number, got '%s'", tag,
               ms__io_show(t, shown, sizeof shown));
  *line = val->line;
  return MS_SUCCESS;
}

static ms_err read_lattice(const cif_ctx *cx, const ms_cif_block *b, double L[3][3]) {
  static const char *tags[6] = {"_cell_length_a", "_cell_length_b", "_cell_length_c",
                                "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"};
  double p[6];
  int line[6];
  for (int k = 0; k < 6; ++k) MS_CALL(need_number(cx, b, tags[k], &p[k], &line[k]));
  for (int k = 0; k < 3; ++k)
    if (!(p[k] > 0.0 && p[k] < 1e6))
      MS_IO_FAIL(cx->name, line[k], "%s must be a positive length in Å, got %g", tags[k], p[k]);
  for (int k = 3; k < 6; ++k)
    if (!(p[k] > 0.0 && p[k] < 180.0))
      MS_IO_FAIL(cx->name, line[k], "%s must lie strictly between 0 and 180 degrees, got %g",
                 tags[k], p[k]);
  if (ms_lattice_from_parameters(p, p + 3, L) != MS_SUCCESS)
    MS_IO_WRAP(cx->name, line[3], "cell parameters");
  return MS_SUCCESS;
}

/* True if the block names a space group other than P1 (so missing operations matter). */
static int names_non_p1(const ms_cif_block *b, const char *name) {
  static const char *hm[] = {"_symmetry_space_group_name_h-m", "_space_group_name_h-m_alt"};
  static const char *num[] = {"_symmetry_int_tables_number", "_space_group_it_number"};
  const ms_cif_item *it = NULL;
  for (int k = 0; k < 2; ++k) {
    if (ms__cif_find(b, name, hm[k], &it) != MS_SUCCESS) ms_err_clear();
    if (it && it->nrows == 1 && !ms__cif_is_null(ms__cif_at(b, it, 0))) {
      const ms_cif_value *v = ms__cif_at(b, it, 0);
      size_t letters = 0, ones = 0, other = 0;
      for (size_t i = 0; i < v->n; ++i) {
        char ch = v->s[i];
        if (ch == 'P' || ch == 'p') ++letters;
        else if (ch == '1') ++ones;
        else if (ch != ' ' && ch != '_') ++other;
      }
      if (!(letters == 1 && ones == 1 && other == 0)) return 1;
    }
    it = NULL;
    if (ms__cif_find(b, name, num[k], &it) != MS_SUCCESS) ms_err_clear();
    if (it && it->nrows == 1) {
      double g = 0;
      if (ms__cif_number(ms__cif_at(b, it, 0), &g) == 0 && g != 1.0) return 1;
    }
    it = NULL;
  }
  return 0;
}

static ms_err read_symops(const cif_ctx *cx, const ms_cif_block *b, ms_symop **ops, int *nops) {
  const ms_cif_item *it = NULL;
  MS_CALL(ms__cif_find(b, cx->name, "_space_group_symop_operation_xyz", &it));
  if (!it) MS_CALL(ms__cif_find(b, cx->name, "_symmetry_equiv_pos_as_xyz", &it));
  *nops = 0;
  if (!it || it->nrows == 0) {
    if (names_non_p1(b, cx->name)) {
      char desc[96];
      MS_IO_FAIL(cx->name, b->line,
                 "%s names a space group but lists no symmetry operations "
                 "(_space_group_symop_operation_xyz); add them or expand the structure to P1",
                 block_desc(b, desc, sizeof desc));
    }
    MS_CALL(MS_CALLOC(1, ops));
    (*ops)[0].rot[0][0] = (*ops)[0].rot[1][1] = (*ops)[0].rot[2][2] = 1;
    *nops = 1;
    return MS_SUCCESS;
  }
  if (it->nrows > MAX_OPS)
    MS_IO_FAIL(cx->name, it->line, "%zu symmetry operations listed; at most %d are supported",
               it->nrows, MAX_OPS);
  MS_CALL(MS_CALLOC(it->nrows, ops));
  for (size_t r = 0; r < it->nrows; ++r) {
    const ms_cif_value *v = ms__cif_at(b, it, r);
    char why[160], shown[MS_IO_SHOW_LEN];
    if (ms__symop_parse(v->s, v->n, &(*ops)[r], why, sizeof why) != 0) {
      ms_io_tok t = {v->s, v->n};
      free(*ops);
      *ops = NULL;
      MS_IO_FAIL(cx->name, v->line, "symmetry operation '%s': %s",
                 ms__io_show(t, shown, sizeof shown), why);
    }
  }
  *nops = (int)it->nrows;
  return MS_SUCCESS;
}

/* Columns of the _atom_site loop this reader uses. */
typedef struct {
  const ms_cif_item *label, *type, *x[3], *occ;
  size_t nrows;
} site_cols;

/* Items that belong to one table must be in one loop (or all be single items). */
static ms_err same_table(const cif_ctx *cx, const ms_cif_item *a, const ms_cif_item *b) {
  if (!a || !b) return MS_SUCCESS;
  if (a->loop != b->loop || a->nrows != b->nrows) {
    char ta[MS_IO_SHOW_LEN], tb[MS_IO_SHOW_LEN];
    ms_io_tok x = {a->tag, a->tag_len}, y = {b->tag, b->tag_len};
    MS_IO_FAIL(cx->name, b->line, "%s and %s must be columns of the same loop",
               ms__io_show(x, ta, sizeof ta), ms__io_show(y, tb, sizeof tb));
  }
  return MS_SUCCESS;
}

static ms_err read_site_cols(const cif_ctx *cx, const ms_cif_block *b, site_cols *sc) {
  static const char *xyz[3] = {"_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"};
  char desc[96];
  memset(sc, 0, sizeof *sc);
  MS_CALL(ms__cif_find(b, cx->name, "_atom_site_label", &sc->label));
  MS_CALL(ms__cif_find(b, cx->name, "_atom_site_type_symbol", &sc->type));
  MS_CALL(ms__cif_find(b, cx->name, "_atom_site_occupancy", &sc->occ));
  for (int k = 0; k < 3; ++k) MS_CALL(ms__cif_find(b, cx->name, xyz[k], &sc->x[k]));
  const ms_cif_item *any = sc->label ? sc->label : sc->type;
  if (!any) MS_IO_FAIL(cx->name, b->line, "%s has no _atom_site_label or _atom_site_type_symbol",
                       block_desc(b, desc, sizeof desc));
  for (int k = 0; k < 3; ++k) {
    if (!sc->x[k]) {
      const ms_cif_item *cart = NULL;
      MS_CALL(ms__cif_find(b, cx->name, "_atom_site_cartn_x", &cart));
      MS_IO_FAIL(cx->name, any->line, "%s has no %s%s", block_desc(b, desc, sizeof desc), xyz[k],
                 cart ? " (Cartesian _atom_site_Cartn_x columns are not supported)" : "");
    }
  }
  MS_CALL(same_table(cx, any, sc->label));
  MS_CALL(same_table(cx, any, sc->type));
  MS_CALL(same_table(cx, any, sc->occ));
  for (int k = 0; k < 3; ++k) MS_CALL(same_table(cx, any, sc->x[k]));
  sc->nrows = any->nrows;
  if (sc->nrows == 0) MS_IO_FAIL(cx->name, any->line, "the _atom_site loop has no rows");
  if (sc->nrows > MS_IO_MAX_ATOMS)
    MS_IO_FAIL(cx->name, any->line, "%zu atom sites; at most %d are supported", sc->nrows,
               MS_IO_MAX_ATOMS);
  return MS_SUCCESS;
}

/* Oxidation number of type symbol @p key from the _atom_type loop. 1 found, 0 not. */
static int type_oxidation(const ms_cif_block *b, const ms_cif_item *sym, const ms_cif_item *ox,
                          const char *key, size_t nkey, double *value) {
  if (!sym || !ox) return 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t r = 0; r < sym->nrows; ++r) {
      const ms_cif_value *s = ms__cif_at(b, sym, r);
      if (s->n != nkey) continue;
      int eq = pass == 0 ? memcmp(s->s, key, nkey) == 0 : 1;
      for (size_t i = 0; pass == 1 && i < nkey; ++i)
        if ((s->s[i] | 32) != (key[i] | 32)) eq = 0;
      if (!eq) continue;
      double v = 0;
      if (ms__cif_number(ms__cif_at(b, ox, r), &v) != 0) return 0;
      *value = v;
      return 1;
    }
  }
  return 0;
}

/* Species of row @p r: element from the type symbol or label, oxidation state from the
 * _atom_type loop or the type symbol. */
static ms_err site_species(const cif_ctx *cx, const ms_cif_block *b, const site_cols *sc,
                           const ms_cif_item *tsym, const ms_cif_item *tox, size_t r,
                           ms_species *sp) {
  const ms_cif_item *src = sc->type ? sc->type : sc->label;
  const ms_cif_value *v = ms__cif_at(b, src, r);
  if (sc->type && ms__cif_is_null(v) && sc->label) {
    src = sc->label;
    v = ms__cif_at(b, src, r);
  }
  ms_io_tok t = {v->s, v->n};
  char shown[MS_IO_SHOW_LEN];
  int rc = ms__io_species_from_symbol(t, src == sc->type, sp);
  const char *col = src == sc->type ? "_atom_site_type_symbol" : "_atom_site_label";
  if (rc == -1)
    MS_IO_FAIL(cx->name, v->line, "unknown element in %s '%s'", col,
               ms__io_show(t, shown, sizeof shown));
  if (rc == -2)
    MS_IO_FAIL(cx->name, v->line, "malformed charge in %s '%s' (expected e.g. Ti4+ or O2-)", col,
               ms__io_show(t, shown, sizeof shown));
  double ox = 0;
  const char *sym = ms__io_element_symbol(sp);
  if (type_oxidation(b, tsym, tox, v->s, v->n, &ox) ||
      type_oxidation(b, tsym, tox, sym, strlen(sym), &ox)) {
    if (ms__io_oxidation(&ox) != 0)
      MS_IO_FAIL(cx->name, v->line,
                 "oxidation number %g of '%s' is out of range (0, or 0.01 to 12 in size)", ox,
                 ms__io_show(t, shown, sizeof shown));
    sp->has_ox = 1;
    sp->ox = ox;
  }
  return MS_SUCCESS;
}

/* Uniform bins over the fractional cube for finding already-kept sites near a new image. */
typedef struct {
  int nb[3];
  int *head, *next, *row;
  int cap;
} site_grid;

static void grid_free(site_grid *g) {
  free(g->head);
  free(g->next);
  free(g->row);
}

static int grid_bin(const site_grid *g, const double f[3], int k) {
  int i = (int)(f[k] * g->nb[k]);
  return i < 0 ? 0 : (i >= g->nb[k] ? g->nb[k] - 1 : i);
}

static double wrap01(double x) {
  double y = x - floor(x);
  return y >= 1.0 ? 0.0 : y;
}

/* Expand the asymmetric unit with the operations and merge coinciding images. */
static ms_err expand(const cif_ctx *cx, const ms_cif_block *b, const site_cols *sc,
                     const ms_species *species, double (*frac)[3], const ms_symop *ops, int nops,
                     ms_cell *c) {
  double w[3];
  ms_cell_widths(c, w);
  double wmin = fmin(w[0], fmin(w[1], w[2]));
  if (!(wmin > 2.0 * MERGE_TOL_A))
    MS_IO_FAIL(cx->name, b->line, "the cell is degenerate (thinnest width %g Å)", wmin);
  double ncand = (double)sc->nrows * nops;
  if (ncand > 4.0 * MS_IO_MAX_ATOMS)
    MS_IO_FAIL(cx->name, b->line, "%zu sites x %d operations is too large", sc->nrows, nops);
  int side = (int)cbrt(ncand / 2.0) + 1;
  if (side > 64) side = 64;
  site_grid g = {{1, 1, 1}, NULL, NULL, NULL, 0};
  for (int k = 0; k < 3; ++k) {
    double fit = floor(w[k] / MERGE_TOL_A);
    g.nb[k] = fit < side ? (int)fit : side;
    if (g.nb[k] < 1) g.nb[k] = 1;
  }
  ms_err e = MS_CALLOC((size_t)g.nb[0] * g.nb[1] * g.nb[2], &g.head);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  for (int i = 0; i < g.nb[0] * g.nb[1] * g.nb[2]; ++i) g.head[i] = -1;
  double tol2 = MERGE_TOL_A * MERGE_TOL_A;

  for (size_t r = 0; r < sc->nrows && !e; ++r) {
    int kind = 0;
    e = ms_cell_add_species(c, &species[r], &kind);
    if (e) {
      e = ms__io_wrap(__FILE__, __LINE__, __func__, cx->name, ms__cif_at(b, sc->x[0], r)->line,
                      "");
      break;
    }
    for (int o = 0; o < nops && !e; ++o) {
      double f[3];
      ms__symop_apply(&ops[o], frac[r], f);
      for (int k = 0; k < 3; ++k) f[k] = wrap01(f[k]);
      int bin[3] = {grid_bin(&g, f, 0), grid_bin(&g, f, 1), grid_bin(&g, f, 2)};
      int dup = -1;
      for (int d0 = -1; d0 <= 1 && dup < 0; ++d0) {
        if ((g.nb[0] == 1 && d0) || (g.nb[0] == 2 && d0 == -1)) continue;
        for (int d1 = -1; d1 <= 1 && dup < 0; ++d1) {
          if ((g.nb[1] == 1 && d1) || (g.nb[1] == 2 && d1 == -1)) continue;
          for (int d2 = -1; d2 <= 1 && dup < 0; ++d2) {
            if ((g.nb[2] == 1 && d2) || (g.nb[2] == 2 && d2 == -1)) continue;
            int i0 = (bin[0] + d0 + g.nb[0]) % g.nb[0];
            int i1 = (bin[1] + d1 + g.nb[1]) % g.nb[1];
            int i2 = (bin[2] + d2 + g.nb[2]) % g.nb[2];
            for (int s = g.head[(i0 * g.nb[1] + i1) * g.nb[2] + i2]; s >= 0; s = g.next[s]) {
              double df[3], dr[3] = {0, 0, 0};
              for (int k = 0; k < 3; ++k) {
                df[k] = f[k] - c->frac[s][k];
                df[k] -= nearbyint(df[k]);
              }
              for (int k = 0; k < 3; ++k)
                for (int j = 0; j < 3; ++j) dr[j] += df[k] * c->lattice[k][j];
              if (dr[0] * dr[0] + dr[1] * dr[1] + dr[2] * dr[2] < tol2) {
                dup = s;
                break;
              }
            }
          }
        }
      }
      if (dup >= 0) {
        if (c->kind[dup] == kind) continue;
        const ms_cif_item *lab = sc->label ? sc->label : sc->type;
        const ms_cif_value *a = ms__cif_at(b, lab, (size_t)g.row[dup]);
        const ms_cif_value *v = ms__cif_at(b, lab, r);
        char sa[MS_IO_SHOW_LEN], sb[MS_IO_SHOW_LEN];
        ms_io_tok ta = {a->s, a->n}, tb = {v->s, v->n};
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "sites '%s' (line %d) and '%s' of different species share the position "
                        "(%.4f, %.4f, %.4f) after symmetry expansion; mixed occupancy is not "
                        "supported",
                        ms__io_show(ta, sa, sizeof sa), a->line,
                        ms__io_show(tb, sb, sizeof sb), f[0], f[1], f[2]);
        break;
      }
      if (c->natoms >= MS_IO_MAX_ATOMS) {
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, b->line,
                        "more than %d sites after symmetry expansion", MS_IO_MAX_ATOMS);
        break;
      }
      if (c->natoms >= g.cap) {
        int cap = g.cap ? 2 * g.cap : 64;
        if ((e = MS_REALLOC((size_t)cap, &g.next)) || (e = MS_REALLOC((size_t)cap, &g.row))) break;
        g.cap = cap;
      }
      if ((e = ms_cell_add_site(c, kind, f))) break;
      int s = c->natoms - 1, h = (bin[0] * g.nb[1] + bin[1]) * g.nb[2] + bin[2];
      g.next[s] = g.head[h];
      g.head[h] = s;
      g.row[s] = (int)r;
    }
  }
  grid_free(&g);
  return e;
}

/* Label of row r for messages (the type symbol when there is no label column). */
static const char *row_name(const ms_cif_block *b, const site_cols *sc, size_t r, char *buf,
                            size_t len) {
  const ms_cif_value *v = ms__cif_at(b, sc->label ? sc->label : sc->type, r);
  return ms__io_show((ms_io_tok){v->s, v->n}, buf, len);
}

static ms_err build_cell(const cif_ctx *cx, const ms_cif_block *b, ms_cell *c) {
  double L[3][3];
  MS_CALL(read_lattice(cx, b, L));
  ms_cell_set_lattice(c, L);
  ms__io_set_label(c, (ms_io_tok){b->name, b->name_len});

  site_cols sc;
  MS_CALL(read_site_cols(cx, b, &sc));
  const ms_cif_item *tsym = NULL, *tox = NULL;
  MS_CALL(ms__cif_find(b, cx->name, "_atom_type_symbol", &tsym));
  MS_CALL(ms__cif_find(b, cx->name, "_atom_type_oxidation_number", &tox));
  MS_CALL(same_table(cx, tsym, tox));

  ms_symop *ops = NULL;
  int nops = 0;
  MS_CALL(read_symops(cx, b, &ops, &nops));
  ms_species *species = NULL;
  double(*frac)[3] = NULL;
  ms_err e = MS_CALLOC(sc.nrows, &species);
  if (!e) e = MS_CALLOC(sc.nrows, &frac);
  for (size_t r = 0; r < sc.nrows && !e; ++r) {
    if ((e = site_species(cx, b, &sc, tsym, tox, r, &species[r]))) break;
    for (int k = 0; k < 3 && !e; ++k) {
      const ms_cif_value *v = ms__cif_at(b, sc.x[k], r);
      int rc = ms__cif_number(v, &frac[r][k]);
      char shown[MS_IO_SHOW_LEN];
      ms_io_tok t = {v->s, v->n};
      if (rc == 1)
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "fractional coordinate %c is unknown ('%.1s')", "xyz"[k], v->s);
      else if (rc == -2)
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "fractional coordinate %c is not a finite number: '%s'", "xyz"[k],
                        ms__io_show(t, shown, sizeof shown));
      else if (rc != 0 || !(fabs(frac[r][k]) < 1e6))
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "fractional coordinate %c expects a number, got '%s'", "xyz"[k],
                        ms__io_show(t, shown, sizeof shown));
    }
    if (!e && sc.occ) {
      const ms_cif_value *v = ms__cif_at(b, sc.occ, r);
      double occ = 1.0;
      int rc = ms__cif_number(v, &occ);
      char shown[MS_IO_SHOW_LEN];
      ms_io_tok t = {v->s, v->n};
      if (rc < 0)
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "_atom_site_occupancy expects a number, got '%s'",
                        ms__io_show(t, shown, sizeof shown));
      else if (rc == 0 && occ < 1.0 - OCC_TOL)
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "site '%s' has occupancy %g: partially occupied (disordered) sites "
                        "are not supported; order the structure first",
                        row_name(b, &sc, r, shown, sizeof shown), occ);
      else if (rc == 0 && occ > 1.0 + OCC_HIGH)
        e = ms__io_fail(__FILE__, __LINE__, __func__, cx->name, v->line,
                        "site '%s' has occupancy %g, above 1",
                        row_name(b, &sc, r, shown, sizeof shown), occ);
    }
  }
  if (!e) e = expand(cx, b, &sc, species, frac, ops, nops, c);
  free(ops);
  free(species);
  free(frac);
  if (e) return e;
  if (ms_cell_validate(c) != MS_SUCCESS) {
    char desc[96];
    MS_IO_WRAP(cx->name, b->line, block_desc(b, desc, sizeof desc));
  }
  return MS_SUCCESS;
}

static ms_err on_block(const ms_cif_block *b, void *ctx) {
  cif_ctx *cx = ctx;
  const ms_cif_item *a = NULL, *x = NULL, *l = NULL;
  MS_CALL(ms__cif_find(b, cx->name, "_cell_length_a", &a));
  MS_CALL(ms__cif_find(b, cx->name, "_atom_site_fract_x", &x));
  MS_CALL(ms__cif_find(b, cx->name, "_atom_site_label", &l));
  if (!a && !x && !l) return MS_SUCCESS; /* no structure in this block (e.g. publication data) */
  ms_cell c;
  ms_cell_init(&c);
  ms_err e = build_cell(cx, b, &c);
  ms_cell *slot = NULL;
  if (!e) e = ms_cell_list_push(cx->out, &slot);
  if (e) {
    ms_cell_free(&c);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *slot = c; /* the list takes over the arrays */
  cx->nstructures++;
  return MS_SUCCESS;
}

ms_err ms_cif_parse(const char *text, size_t len, const char *name, ms_cell_list *out) {
  MS_CHECK(text || len == 0, MS_ERR_ARG, "NULL text");
  if (!name) name = "(cif)";
  ms__io_skip_bom(&text, &len);
  MS_CALL(ms__io_check_text(text, len, name, "a CIF file"));
  cif_ctx cx = {name, out, 0};
  MS_CALL(ms__cif_read_blocks(text, len, name, on_block, &cx));
  if (cx.nstructures == 0)
    MS_IO_FAIL(name, 0, "no structure found (a data block with _cell_length_a and an "
                        "_atom_site loop)");
  return MS_SUCCESS;
}

/* Block name: the label without blanks (CIF block names end at white space). */
static void block_name(const ms_cell *c, char *buf, size_t len) {
  size_t k = 0;
  for (size_t i = 0; c->label[i] && k + 1 < len; ++i) {
    unsigned char ch = (unsigned char)c->label[i];
    buf[k++] = (ch <= 32 || ch >= 127 || ch == '#' || ch == '\'' || ch == '"') ? '_' : (char)ch;
  }
  buf[k] = '\0';
  if (k == 0 && ms_cell_formula(c, 1, buf, len) != MS_SUCCESS) {
    ms_err_clear();
    snprintf(buf, len, "structure");
  }
}

ms_err ms_cif_write(FILE *fp, const ms_cell *c) {
  MS_CHECK(fp && c, MS_ERR_ARG, "NULL argument");
  double L[3][3], flip = 1.0;
  ms__io_right_handed(c, L, &flip);
  (void)L; /* -L has the parameters of L; only the coordinates change sign */
  double abc[3], ang[3];
  ms_cell_parameters(c, abc, ang);
  char name[MS_CELL_LABEL_MAX + 8], formula[256];
  block_name(c, name, sizeof name);
  fprintf(fp, "# written by matscreen (P1; fractional coordinates)\n");
  fprintf(fp, "data_%s\n", name);
  if (ms_cell_formula(c, 1, formula, sizeof formula) == MS_SUCCESS)
    fprintf(fp, "_chemical_formula_structural   %s\n", formula);
  else
    ms_err_clear();
  fprintf(fp, "_symmetry_space_group_name_H-M   'P 1'\n");
  fprintf(fp, "_symmetry_Int_Tables_number   1\n");
  fprintf(fp, "_cell_length_a   %.12f\n_cell_length_b   %.12f\n_cell_length_c   %.12f\n", abc[0],
          abc[1], abc[2]);
  fprintf(fp, "_cell_angle_alpha   %.12f\n_cell_angle_beta   %.12f\n_cell_angle_gamma   %.12f\n",
          ang[0], ang[1], ang[2]);
  fprintf(fp, "_cell_volume   %.10f\n", ms_cell_volume(c));
  fprintf(fp, "loop_\n _symmetry_equiv_pos_site_id\n _symmetry_equiv_pos_as_xyz\n  1  'x, y, z'\n");
  int any_ox = 0;
  for (int k = 0; k < c->nkinds; ++k) any_ox |= c->species[k].has_ox;
  char sp[32];
  if (any_ox) {
    fprintf(fp, "loop_\n _atom_type_symbol\n _atom_type_oxidation_number\n");
    for (int k = 0; k < c->nkinds; ++k)
      if (c->species[k].has_ox)
        fprintf(fp, "  %-6s %.10g\n", ms__io_species_text(&c->species[k], sp, sizeof sp),
                c->species[k].ox);
  }
  fprintf(fp, "loop_\n _atom_site_type_symbol\n _atom_site_label\n"
              " _atom_site_symmetry_multiplicity\n _atom_site_fract_x\n _atom_site_fract_y\n"
              " _atom_site_fract_z\n _atom_site_occupancy\n");
  int count[MS_MAX_Z + 1] = {0};
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *s = &c->species[c->kind[i]];
    int z = s->Z >= 0 && s->Z <= MS_MAX_Z ? s->Z : 0;
    fprintf(fp, "  %-6s %s%d  1  %.12f %.12f %.12f  1\n", ms__io_species_text(s, sp, sizeof sp),
            ms__io_element_symbol(s), ++count[z], flip * c->frac[i][0], flip * c->frac[i][1],
            flip * c->frac[i][2]);
  }
  if (ferror(fp)) MS_FAIL(MS_ERR_FILE, "writing CIF failed");
  return MS_SUCCESS;
}
