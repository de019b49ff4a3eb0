/* POSCAR / CONTCAR files of VASP 5 and later: reading and writing.
 *
 * Layout (VASP manual, "POSCAR"): comment line; scaling factor (one number, negative = target
 * volume in Å^3; or three numbers scaling the x, y, z Cartesian components); three lattice
 * vectors as rows; species names; counts; optional "Selective dynamics"; "Direct" or
 * "Cartesian" (only the first letter counts; K means Cartesian too); one line per atom.
 * Cartesian positions are scaled like the lattice. Anything after the positions (velocities,
 * predictor-corrector data in CONTCAR) is ignored.
 *
 * The writer puts plain element symbols on the species line (VASP takes it to pick POTCARs and
 * ASE to build Atoms; neither accepts "Ti4+" there), one entry per species of the cell, so two
 * oxidation states of one element give the symbol twice ("Fe Fe O"), which both accept. The
 * oxidation states go after each position as a label ("0.5 0.5 0.5 Ti4+"); VASP, ASE and
 * pymatgen ignore text after the three coordinates. The reader takes the species line, with
 * or without oxidation states, and drops POTCAR suffixes ("Ti_pv", "Ti/abc123" from VASP 6);
 * a position label that is a species of the same element with an oxidation state ("Ti4+"
 * after a position of the Ti group) gives that atom its oxidation state, so files written
 * here read back with their charges. Other labels are ignored. VASP 4 files (no species
 * line) are rejected: the element order cannot be known from the file.
 * Left-handed lattices are rejected as VASP does; the writer always writes a right-handed
 * lattice, negating both lattice and fractional coordinates when needed (same positions). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_text.h"
#include "matscreen/io.h"

#define MAX_SPECIES_TOKENS 64

typedef struct {
  ms_io_cursor cur;
  const char *name;
} reader;

/* Next line, which must exist; @p what names it for the message. */
static ms_err need_line(reader *r, ms_io_tok *line, const char *what) {
  if (!ms__io_next_line(&r->cur, line))
    MS_IO_FAIL(r->name, r->cur.line + 1, "file ends before the %s", what);
  return MS_SUCCESS;
}

/* First three tokens of a line as numbers. */
static ms_err three_numbers(reader *r, ms_io_tok line, double v[3], const char *what) {
  ms_io_tok t[3];
  int n = ms__io_split(line, t, 3);
  if (n < 3) MS_IO_FAIL(r->name, r->cur.line, "%s needs 3 numbers, found %d fields", what, n);
  for (int k = 0; k < 3; ++k) {
    char shown[MS_IO_SHOW_LEN];
    int rc = ms__io_parse_double(t[k], &v[k]);
    if (rc == -2)
      MS_IO_FAIL(r->name, r->cur.line, "%s: '%s' is not a finite number", what,
                 ms__io_show(t[k], shown, sizeof shown));
    if (rc != 0)
      MS_IO_FAIL(r->name, r->cur.line, "%s: expected a number, got '%s'", what,
                 ms__io_show(t[k], shown, sizeof shown));
  }
  return MS_SUCCESS;
}

/* The species of an atom whose position line ends in a label ("x y z Ti4+"): a species of the
 * group's element with an oxidation state overrides the group's species @p group (which has
 * none, or another one); anything else (selective-dynamics flags, "Ti", site names) leaves
 * *kind alone. */
static ms_err position_label_kind(ms_cell *c, ms_io_tok line, const ms_species *group, int *kind) {
  ms_io_tok t[4];
  if (ms__io_split(line, t, 4) < 4) return MS_SUCCESS;
  ms_species sp;
  if (ms__io_species_from_symbol(t[3], 1, &sp) != 0 || !sp.has_ox || sp.Z != group->Z) return MS_SUCCESS;
  if (ms_species_equal(&sp, group)) return MS_SUCCESS;
  return ms_cell_add_species(c, &sp, kind);
}

static int first_char(ms_io_tok line) {
  for (size_t i = 0; i < line.n; ++i)
    if (line.s[i] != ' ' && line.s[i] != '\t') return (unsigned char)line.s[i];
  return 0;
}

static ms_err parse(reader *r, ms_cell *c) {
  ms_io_tok line, t[MAX_SPECIES_TOKENS];
  char shown[MS_IO_SHOW_LEN];
  MS_CALL(need_line(r, &line, "comment line"));
  ms__io_set_label(c, line);

  /* Scaling factor(s). */
  MS_CALL(need_line(r, &line, "scaling factor (line 2)"));
  int nt = ms__io_split(line, t, 3), nnum = 0;
  double scale[3] = {1, 1, 1};
  for (int k = 0; k < nt && k < 3; ++k) {
    int rc = ms__io_parse_double(t[k], &scale[k]);
    if (rc == -2)
      MS_IO_FAIL(r->name, r->cur.line, "scaling factor '%s' is not finite",
                 ms__io_show(t[k], shown, sizeof shown));
    if (rc != 0) break;
    ++nnum;
  }
  if (nnum == 0)
    MS_IO_FAIL(r->name, r->cur.line, "expected the scaling factor, got '%s'",
               nt ? ms__io_show(t[0], shown, sizeof shown) : "");
  int per_axis = nnum == 3;
  int scale_line = r->cur.line;
  if (per_axis) {
    for (int k = 0; k < 3; ++k)
      if (!(scale[k] > 0.0))
        MS_IO_FAIL(r->name, scale_line, "three scaling factors must all be positive, got %g",
                   scale[k]);
  } else {
    if (scale[0] == 0.0) MS_IO_FAIL(r->name, scale_line, "scaling factor is zero");
    scale[1] = scale[2] = scale[0];
  }

  double L[3][3];
  for (int i = 0; i < 3; ++i) {
    MS_CALL(need_line(r, &line, "three lattice vectors (lines 3-5)"));
    static const char *what[3] = {"lattice vector a", "lattice vector b", "lattice vector c"};
    MS_CALL(three_numbers(r, line, L[i], what[i]));
  }
  int lattice_line = r->cur.line - 2;
  double V0 = L[0][0] * (L[1][1] * L[2][2] - L[1][2] * L[2][1]) -
              L[0][1] * (L[1][0] * L[2][2] - L[1][2] * L[2][0]) +
              L[0][2] * (L[1][0] * L[2][1] - L[1][1] * L[2][0]);
  if (!per_axis && scale[0] < 0.0) {
    /* Negative: the wanted volume in Å^3; the lattice is scaled isotropically to it. */
    if (!(fabs(V0) > 1e-12))
      MS_IO_FAIL(r->name, lattice_line,
                 "lattice vectors span zero volume, so the target volume %g cannot be reached",
                 -scale[0]);
    double f = cbrt(-scale[0] / fabs(V0));
    scale[0] = scale[1] = scale[2] = f;
  }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L[i][j] *= scale[j];
  MS_CALL(ms__io_check_lattice(r->name, lattice_line, 1, L));
  double det = L[0][0] * (L[1][1] * L[2][2] - L[1][2] * L[2][1]) -
               L[0][1] * (L[1][0] * L[2][2] - L[1][2] * L[2][0]) +
               L[0][2] * (L[1][0] * L[2][1] - L[1][1] * L[2][0]);
  if (!(fabs(det) > 1e-3))
    MS_IO_FAIL(r->name, lattice_line,
               "lattice vectors span zero volume (%g Å^3): the cell is degenerate", fabs(det));
  if (det < 0.0)
    MS_IO_FAIL(r->name, lattice_line,
               "lattice vectors are left-handed (a . (b x c) = %g Å^3 < 0); VASP rejects this: "
               "swap two lattice vectors (and the matching coordinate columns)",
               det);
  ms_cell_set_lattice(c, L);

  /* Species names (VASP 5). */
  MS_CALL(need_line(r, &line, "species names (line 6)"));
  int nsp = ms__io_split(line, t, MAX_SPECIES_TOKENS);
  if (nsp == 0) MS_IO_FAIL(r->name, r->cur.line, "expected species names, got an empty line");
  long long dummy = 0;
  if (ms__io_parse_long(t[0], -1000000000LL, 1000000000LL, &dummy) != -1)
    MS_IO_FAIL(r->name, r->cur.line,
               "expected species names (VASP 5 format) but found counts; add a line with the "
               "element symbols after the lattice vectors");
  if (nsp > MAX_SPECIES_TOKENS)
    MS_IO_FAIL(r->name, r->cur.line, "%d species names; at most %d are supported", nsp,
               MAX_SPECIES_TOKENS);
  int species_line = r->cur.line;
  ms_species sp[MAX_SPECIES_TOKENS];
  for (int k = 0; k < nsp; ++k) {
    ms_io_tok s = t[k];
    /* POTCAR names: "Ti_pv", "Sr_sv/7d6c..." (VASP 6 appends the POTCAR hash). */
    for (size_t i = 0; i < s.n; ++i)
      if (s.s[i] == '_' || s.s[i] == '/') {
        s.n = i;
        break;
      }
    int rc = ms__io_species_from_symbol(s, 1, &sp[k]);
    /* A species name is a symbol with an optional charge, nothing else ("Sr1" is a typo). */
    int ok = rc == 0;
    if (ok) {
      size_t sym = strlen(ms__io_element_symbol(&sp[k]));
      if (s.n > sym && !sp[k].has_ox) ok = 0;
    }
    if (!ok)
      MS_IO_FAIL(r->name, species_line, "unknown species name '%s' (expected e.g. Ti or Ti4+)",
                 ms__io_show(t[k], shown, sizeof shown));
  }

  /* Counts. */
  MS_CALL(need_line(r, &line, "atom counts (line 7)"));
  ms_io_tok ct[MAX_SPECIES_TOKENS + 1];
  int nct = ms__io_split(line, ct, MAX_SPECIES_TOKENS + 1);
  int counts[MAX_SPECIES_TOKENS];
  long long total = 0;
  for (int k = 0; k < nct && k <= nsp && k <= MAX_SPECIES_TOKENS; ++k) {
    long long v = 0;
    int rc = ms__io_parse_long(ct[k], 0, MS_IO_MAX_ATOMS, &v);
    if (k == nsp) {
      if (rc != -1)
        MS_IO_FAIL(r->name, r->cur.line, "more atom counts than the %d species names on line %d",
                   nsp, species_line);
      break; /* a trailing comment */
    }
    if (rc == -1)
      MS_IO_FAIL(r->name, r->cur.line, "atom count %d: expected a whole number, got '%s'", k + 1,
                 ms__io_show(ct[k], shown, sizeof shown));
    if (rc == -2 || v < 1)
      MS_IO_FAIL(r->name, r->cur.line, "atom count %d is %s (expected 1 to %d)", k + 1,
                 ms__io_show(ct[k], shown, sizeof shown), MS_IO_MAX_ATOMS);
    counts[k] = (int)v;
    total += v;
  }
  if (nct < nsp)
    MS_IO_FAIL(r->name, r->cur.line, "%d atom counts for %d species names on line %d", nct, nsp,
               species_line);
  if (total > MS_IO_MAX_ATOMS)
    MS_IO_FAIL(r->name, r->cur.line, "%lld atoms in total; at most %d are supported", total,
               MS_IO_MAX_ATOMS);

  /* Selective dynamics and coordinate mode. */
  MS_CALL(need_line(r, &line, "'Direct' or 'Cartesian' line"));
  int ch = first_char(line);
  if (ch == 'S' || ch == 's') {
    MS_CALL(need_line(r, &line, "'Direct' or 'Cartesian' line"));
    ch = first_char(line);
  }
  int cartesian = 0;
  if (ch == 'C' || ch == 'c' || ch == 'K' || ch == 'k') {
    cartesian = 1;
  } else if (ch != 'D' && ch != 'd') {
    ms_io_tok w[1];
    int nw = ms__io_split(line, w, 1);
    MS_IO_FAIL(r->name, r->cur.line, "expected 'Direct' or 'Cartesian', got '%s'",
               nw ? ms__io_show(w[0], shown, sizeof shown) : "");
  }

  /* Positions, species by species in the order of the counts. */
  int kinds[MAX_SPECIES_TOKENS];
  for (int k = 0; k < nsp; ++k)
    if (ms_cell_add_species(c, &sp[k], &kinds[k]) != MS_SUCCESS)
      MS_IO_WRAP(r->name, species_line, "");
  long long done = 0;
  for (int k = 0; k < nsp; ++k) {
    for (int a = 0; a < counts[k]; ++a) {
      if (!ms__io_next_line(&r->cur, &line))
        MS_IO_FAIL(r->name, r->cur.line + 1,
                   "file ends after %lld of %lld atom positions (counts on line 7)", done, total);
      double x[3], f[3];
      MS_CALL(three_numbers(r, line, x, "atom position"));
      int kind = kinds[k];
      if (position_label_kind(c, line, &sp[k], &kind) != MS_SUCCESS) MS_IO_WRAP(r->name, r->cur.line, "");
      if (cartesian) {
        for (int j = 0; j < 3; ++j) x[j] *= scale[j];
        ms_cell_cart_to_frac(c, x, f);
      } else {
        memcpy(f, x, sizeof f);
      }
      if (!(fabs(f[0]) < 1e6 && fabs(f[1]) < 1e6 && fabs(f[2]) < 1e6))
        MS_IO_FAIL(r->name, r->cur.line, "atom position lies absurdly far outside the cell");
      if (ms_cell_add_site(c, kind, f) != MS_SUCCESS) MS_IO_WRAP(r->name, r->cur.line, "");
      ++done;
    }
  }
  if (ms_cell_validate(c) != MS_SUCCESS) MS_IO_WRAP(r->name, lattice_line, "");
  return MS_SUCCESS;
}

ms_err ms_poscar_parse(const char *text, size_t len, const char *name, ms_cell_list *out) {
  MS_CHECK(text || len == 0, MS_ERR_ARG, "NULL text");
  if (!name) name = "(poscar)";
  ms__io_skip_bom(&text, &len);
  MS_CALL(ms__io_check_text(text, len, name, "a POSCAR file"));
  reader r;
  ms__io_cursor_init(&r.cur, text, len);
  r.name = name;
  ms_cell c;
  ms_cell_init(&c);
  ms_err e = parse(&r, &c);
  ms_cell *slot = NULL;
  if (!e) e = ms_cell_list_push(out, &slot);
  if (e) {
    ms_cell_free(&c);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *slot = c;
  return MS_SUCCESS;
}

ms_err ms_poscar_write(FILE *fp, const ms_cell *c) {
  MS_CHECK(fp && c, MS_ERR_ARG, "NULL argument");
  double L[3][3], flip = 1.0;
  ms__io_right_handed(c, L, &flip);
  char title[MS_CELL_LABEL_MAX];
  size_t k = 0;
  for (size_t i = 0; c->label[i] && k + 1 < sizeof title; ++i)
    title[k++] = (c->label[i] == '\n' || c->label[i] == '\r') ? ' ' : c->label[i];
  title[k] = '\0';
  if (k == 0 && ms_cell_formula(c, 0, title, sizeof title) != MS_SUCCESS) {
    ms_err_clear();
    snprintf(title, sizeof title, "structure");
  }
  fprintf(fp, "%s\n1.0\n", title);
  for (int i = 0; i < 3; ++i) fprintf(fp, "  %22.14f %22.14f %22.14f\n", L[i][0], L[i][1], L[i][2]);
  int count[MS_CELL_MAX_KINDS] = {0};
  for (int i = 0; i < c->natoms; ++i)
    if (c->kind[i] >= 0 && c->kind[i] < MS_CELL_MAX_KINDS) count[c->kind[i]]++;
  char sp[32];
  for (int s = 0; s < c->nkinds && s < MS_CELL_MAX_KINDS; ++s)
    if (count[s]) fprintf(fp, " %s", ms__io_element_symbol(&c->species[s]));
  fprintf(fp, "\n");
  for (int s = 0; s < c->nkinds && s < MS_CELL_MAX_KINDS; ++s)
    if (count[s]) fprintf(fp, " %d", count[s]);
  fprintf(fp, "\nDirect\n");
  for (int s = 0; s < c->nkinds && s < MS_CELL_MAX_KINDS; ++s)
    for (int i = 0; i < c->natoms; ++i)
      if (c->kind[i] == s)
        fprintf(fp, "  %18.14f %18.14f %18.14f %s\n", flip * c->frac[i][0], flip * c->frac[i][1],
                flip * c->frac[i][2], ms__io_species_text(&c->species[s], sp, sizeof sp));
  if (ferror(fp)) MS_FAIL(MS_ERR_FILE, "writing POSCAR failed");
  return MS_SUCCESS;
}
