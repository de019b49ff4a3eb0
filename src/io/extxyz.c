/* Extended XYZ files (as written by ASE, QUIP/libAtoms, OVITO): reading and writing.
 *
 * A frame is: the number of atoms; a comment line of key=value pairs, of which this code uses
 *   Lattice="ax ay az bx by bz cx cy cz"  (rows a, b, c in Å; required: structures are periodic)
 *   Properties=name:type:ncols:...         (default species:S:1:pos:R:3)
 *   label="..."                            (optional, becomes the cell label)
 * and one line per atom whose fields follow Properties. Columns other than species and pos are
 * skipped by their declared widths. Values may be quoted ("..."), or bracketed ({...}, [...]).
 *
 * Oxidation states: the writer puts them in a column "oxi_states:R:1", which is the per-atom
 * array name pymatgen's AseAtomsAdaptor uses for Species oxidation states, so
 * ase.io.read -> AseAtomsAdaptor.get_structure gets Species back, and species stay plain
 * element symbols that every extxyz reader accepts. The reader takes the oxidation state from
 * the first column named oxi_states, oxidation_state(s), initial_charges, charge or charges
 * (in that order of preference), or from a charge in the species field ("Ti4+"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_text.h"
#include "matscreen/io.h"

#define MAX_PROPERTIES 256
#define MAX_COLUMNS 4096

typedef struct {
  ms_io_tok lattice, properties, label;
  int has_lattice, has_properties, has_label;
} comment_info;

static int is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v'; }

/* Value starting at s[*i]: quoted, bracketed or bare. */
static int read_value(const char *s, size_t n, size_t *i, ms_io_tok *v) {
  char open = s[*i], close = 0;
  if (open == '"' || open == '\'') close = open;
  else if (open == '{') close = '}';
  else if (open == '[') close = ']';
  if (close) {
    size_t j = *i + 1;
    while (j < n && s[j] != close) {
      if (s[j] == '\\' && close == '"' && j + 1 < n) ++j;
      ++j;
    }
    if (j >= n) return -1;
    v->s = s + *i + 1;
    v->n = j - *i - 1;
    *i = j + 1;
    return 0;
  }
  size_t j = *i;
  while (j < n && !is_blank(s[j])) ++j;
  v->s = s + *i;
  v->n = j - *i;
  *i = j;
  return 0;
}

static ms_err parse_comment(ms_io_tok line, const char *name, int lineno, comment_info *ci) {
  memset(ci, 0, sizeof *ci);
  const char *s = line.s;
  size_t n = line.n, i = 0;
  while (i < n) {
    while (i < n && is_blank(s[i])) ++i;
    if (i >= n) break;
    ms_io_tok key;
    if (s[i] == '"' || s[i] == '\'') {
      if (read_value(s, n, &i, &key))
        MS_IO_FAIL(name, lineno, "unterminated quote in the comment line");
    } else {
      size_t j = i;
      while (j < n && !is_blank(s[j]) && s[j] != '=') ++j;
      key.s = s + i;
      key.n = j - i;
      i = j;
    }
    size_t j = i;
    while (j < n && is_blank(s[j])) ++j;
    if (j < n && s[j] == '=') {
      i = j + 1;
      while (i < n && is_blank(s[i])) ++i;
      ms_io_tok val = {s + i, 0};
      if (i < n && read_value(s, n, &i, &val))
        MS_IO_FAIL(name, lineno, "unterminated quote or bracket in the comment line");
      if (ms__io_tok_eq(key, "lattice")) {
        ci->lattice = val;
        ci->has_lattice = 1;
      } else if (ms__io_tok_eq(key, "properties")) {
        ci->properties = val;
        ci->has_properties = 1;
      } else if (ms__io_tok_eq(key, "label")) {
        ci->label = val;
        ci->has_label = 1;
      }
    }
    /* A key without '=' is a boolean flag; nothing here needs one. */
  }
  return MS_SUCCESS;
}

typedef struct {
  int total;      /* columns per atom line */
  int species;    /* column of species */
  int pos;        /* first of the 3 position columns */
  int ox;         /* column of the oxidation state, -1 if none */
  int ox_integer; /* the oxidation column is declared I */
} columns;

static ms_err parse_properties(const comment_info *ci, const char *name, int lineno,
                               columns *col) {
  static const char *ox_names[] = {"oxi_states", "oxidation_states", "oxidation_state",
                                   "initial_charges", "charge", "charges"};
  int ox_rank = 99;
  col->total = 0;
  col->species = col->pos = col->ox = -1;
  col->ox_integer = 0;
  if (!ci->has_properties) { /* the extxyz default */
    col->total = 4;
    col->species = 0;
    col->pos = 1;
    return MS_SUCCESS;
  }
  ms_io_tok f[3 * MAX_PROPERTIES + 1];
  int nf = 0;
  const char *s = ci->properties.s;
  size_t n = ci->properties.n, start = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i == n || s[i] == ':') {
      if (nf >= 3 * MAX_PROPERTIES)
        MS_IO_FAIL(name, lineno, "Properties declares more than %d columns", MAX_PROPERTIES);
      f[nf].s = s + start;
      f[nf].n = i - start;
      ++nf;
      start = i + 1;
    }
  }
  char shown[MS_IO_SHOW_LEN], shown2[MS_IO_SHOW_LEN];
  if (nf % 3 != 0)
    MS_IO_FAIL(name, lineno, "Properties='%s' is not a list of name:type:count triples",
               ms__io_show(ci->properties, shown, sizeof shown));
  for (int p = 0; p < nf; p += 3) {
    ms_io_tok pname = f[p], ptype = f[p + 1], pcount = f[p + 2];
    long long cnt = 0;
    if (pname.n == 0) MS_IO_FAIL(name, lineno, "Properties has an empty column name");
    char type = ptype.n == 1 ? (char)(ptype.s[0] & ~32) : 0;
    if (type != 'S' && type != 'R' && type != 'I' && type != 'L')
      MS_IO_FAIL(name, lineno, "Properties column '%s' has type '%s' (expected S, R, I or L)",
                 ms__io_show(pname, shown, sizeof shown),
                 ms__io_show(ptype, shown2, sizeof shown2));
    if (ms__io_parse_long(pcount, 1, MAX_COLUMNS, &cnt) != 0)
      MS_IO_FAIL(name, lineno, "Properties column '%s' has a bad width (expected 1 to %d)",
                 ms__io_show(pname, shown, sizeof shown), MAX_COLUMNS);
    if (col->total + cnt > MAX_COLUMNS)
      MS_IO_FAIL(name, lineno, "Properties declares more than %d columns", MAX_COLUMNS);
    if (ms__io_tok_eq(pname, "species")) {
      if (type != 'S' || cnt != 1)
        MS_IO_FAIL(name, lineno, "Properties: species must be species:S:1");
      col->species = col->total;
    } else if (ms__io_tok_eq(pname, "pos")) {
      if (type != 'R' || cnt != 3) MS_IO_FAIL(name, lineno, "Properties: pos must be pos:R:3");
      col->pos = col->total;
    } else if (cnt == 1 && (type == 'R' || type == 'I')) {
      for (int k = 0; k < (int)(sizeof ox_names / sizeof ox_names[0]); ++k)
        if (k < ox_rank && ms__io_tok_eq(pname, ox_names[k])) {
          ox_rank = k;
          col->ox = col->total;
          col->ox_integer = type == 'I';
        }
    }
    col->total += (int)cnt;
  }
  if (col->species < 0)
    MS_IO_FAIL(name, lineno, "Properties has no species:S:1 column");
  if (col->pos < 0) MS_IO_FAIL(name, lineno, "Properties has no pos:R:3 column");
  return MS_SUCCESS;
}

static ms_err parse_lattice(const comment_info *ci, const char *name, int lineno,
                            double L[3][3]) {
  if (!ci->has_lattice)
    MS_IO_FAIL(name, lineno,
               "no Lattice=\"...\" in the comment line (non-periodic structures are not "
               "supported)");
  ms_io_tok t[10];
  int n = ms__io_split(ci->lattice, t, 10);
  if (n != 9) MS_IO_FAIL(name, lineno, "Lattice needs 9 numbers, found %d", n);
  for (int k = 0; k < 9; ++k) {
    char shown[MS_IO_SHOW_LEN];
    int rc = ms__io_parse_double(t[k], &L[k / 3][k % 3]);
    if (rc == -2)
      MS_IO_FAIL(name, lineno, "Lattice value '%s' is not finite",
                 ms__io_show(t[k], shown, sizeof shown));
    if (rc)
      MS_IO_FAIL(name, lineno, "Lattice: expected a number, got '%s'",
                 ms__io_show(t[k], shown, sizeof shown));
  }
  return MS_SUCCESS;
}

/* One frame starting at the line after @p count_line. */
static ms_err parse_frame(ms_io_cursor *cur, const char *name, long long natoms, int count_line,
                          ms_cell *c, ms_io_tok **fields, int *fields_cap) {
  ms_io_tok line;
  char shown[MS_IO_SHOW_LEN];
  if (!ms__io_next_line(cur, &line))
    MS_IO_FAIL(name, count_line + 1, "file ends before the comment line of the frame");
  int cline = cur->line;
  comment_info ci;
  MS_CALL(parse_comment(line, name, cline, &ci));
  double L[3][3];
  MS_CALL(parse_lattice(&ci, name, cline, L));
  MS_CALL(ms__io_check_lattice(name, cline, 0, L));
  columns col;
  MS_CALL(parse_properties(&ci, name, cline, &col));
  ms_cell_set_lattice(c, L);
  if (ci.has_label) ms__io_set_label(c, ci.label);
  if (!(fabs(ms_cell_det(c)) > 1e-3))
    MS_IO_FAIL(name, cline, "Lattice spans zero volume (%g Å^3): the cell is degenerate",
               fabs(ms_cell_det(c)));
  if (*fields_cap < col.total + 1) {
    MS_CALL(MS_REALLOC((size_t)col.total + 1, fields));
    *fields_cap = col.total + 1;
  }
  ms_io_tok *t = *fields;
  for (long long a = 0; a < natoms; ++a) {
    if (!ms__io_next_line(cur, &line))
      MS_IO_FAIL(name, cur->line + 1,
                 "file ends after %lld of %lld atoms (count on line %d)", a, natoms, count_line);
    int nt = ms__io_split(line, t, col.total + 1);
    if (nt != col.total)
      MS_IO_FAIL(name, cur->line,
                 "atom %lld has %d fields but Properties declares %d (fewer or more atom lines "
                 "than the count %lld on line %d?)",
                 a + 1, nt, col.total, natoms, count_line);
    ms_species sp;
    ms_io_tok st = t[col.species];
    int rc = ms__io_species_from_symbol(st, 1, &sp);
    if (rc == 0 && st.n > strlen(ms__io_element_symbol(&sp)) && !sp.has_ox) rc = -1;
    if (rc)
      MS_IO_FAIL(name, cur->line, "unknown species '%s' (expected e.g. Ti or Ti4+)",
                 ms__io_show(st, shown, sizeof shown));
    if (col.ox >= 0) {
      double ox = 0;
      long long oi = 0;
      int orc = col.ox_integer ? ms__io_parse_long(t[col.ox], -12, 12, &oi)
                               : ms__io_parse_double(t[col.ox], &ox);
      if (col.ox_integer) ox = (double)oi;
      if (orc || ms__io_oxidation(&ox) != 0)
        MS_IO_FAIL(name, cur->line,
                   "oxidation state '%s' is not 0 or a number from 0.01 to 12 in size",
                   ms__io_show(t[col.ox], shown, sizeof shown));
      sp.has_ox = 1;
      sp.ox = ox;
    }
    double r[3], f[3];
    for (int k = 0; k < 3; ++k) {
      int prc = ms__io_parse_double(t[col.pos + k], &r[k]);
      if (prc == -2)
        MS_IO_FAIL(name, cur->line, "position '%s' is not a finite number",
                   ms__io_show(t[col.pos + k], shown, sizeof shown));
      if (prc)
        MS_IO_FAIL(name, cur->line, "position: expected a number, got '%s'",
                   ms__io_show(t[col.pos + k], shown, sizeof shown));
    }
    ms_cell_cart_to_frac(c, r, f);
    if (!(fabs(f[0]) < 1e6 && fabs(f[1]) < 1e6 && fabs(f[2]) < 1e6))
      MS_IO_FAIL(name, cur->line, "atom lies absurdly far outside the cell");
    if (ms_cell_add_atom(c, &sp, f) != MS_SUCCESS) MS_IO_WRAP(name, cur->line, "");
  }
  if (ms_cell_validate(c) != MS_SUCCESS) MS_IO_WRAP(name, cline, "");
  return MS_SUCCESS;
}

ms_err ms_extxyz_parse(const char *text, size_t len, const char *name, ms_cell_list *out) {
  MS_CHECK(text || len == 0, MS_ERR_ARG, "NULL text");
  if (!name) name = "(extxyz)";
  ms__io_skip_bom(&text, &len);
  MS_CALL(ms__io_check_text(text, len, name, "an extended XYZ file"));
  ms_io_cursor cur;
  ms__io_cursor_init(&cur, text, len);
  ms_io_tok line, t[2], *fields = NULL;
  int fields_cap = 0;
  ms_err e = MS_SUCCESS;
  for (;;) {
    int have = 0;
    while ((have = ms__io_next_line(&cur, &line)) && ms__io_blank(line)) {}
    if (!have) break;
    char shown[MS_IO_SHOW_LEN];
    int nt = ms__io_split(line, t, 2);
    long long natoms = 0;
    int rc = ms__io_parse_long(t[0], 1, MS_IO_MAX_ATOMS, &natoms);
    if (nt != 1 || rc != 0) {
      if (rc == -2)
        e = ms__io_fail(__FILE__, __LINE__, __func__, name, cur.line,
                        "number of atoms %s is out of range (1 to %d)",
                        ms__io_show(t[0], shown, sizeof shown), MS_IO_MAX_ATOMS);
      else
        e = ms__io_fail(__FILE__, __LINE__, __func__, name, cur.line,
                        "expected the number of atoms of a frame, got '%s'",
                        ms__io_show(line, shown, sizeof shown));
      break;
    }
    ms_cell c;
    ms_cell_init(&c);
    e = parse_frame(&cur, name, natoms, cur.line, &c, &fields, &fields_cap);
    ms_cell *slot = NULL;
    if (!e) e = ms_cell_list_push(out, &slot);
    if (e) {
      ms_cell_free(&c);
      break;
    }
    *slot = c;
  }
  free(fields);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

ms_err ms_extxyz_write(FILE *fp, const ms_cell *c) {
  MS_CHECK(fp && c, MS_ERR_ARG, "NULL argument");
  int with_ox = 0, without_ox = 0;
  for (int i = 0; i < c->natoms; ++i) {
    if (c->species[c->kind[i]].has_ox) with_ox = 1;
    else without_ox = 1;
  }
  int ox_column = with_ox && !without_ox;
  fprintf(fp, "%d\n", c->natoms);
  fprintf(fp, "Lattice=\"%.14f %.14f %.14f %.14f %.14f %.14f %.14f %.14f %.14f\"",
          c->lattice[0][0], c->lattice[0][1], c->lattice[0][2], c->lattice[1][0],
          c->lattice[1][1], c->lattice[1][2], c->lattice[2][0], c->lattice[2][1],
          c->lattice[2][2]);
  fprintf(fp, " Properties=species:S:1:pos:R:3%s pbc=\"T T T\"", ox_column ? ":oxi_states:R:1" : "");
  if (c->label[0]) {
    fputs(" label=\"", fp);
    for (size_t i = 0; c->label[i]; ++i) {
      char ch = c->label[i];
      fputc((ch == '"' || ch == '\\' || ch == '\n' || ch == '\r') ? '_' : ch, fp);
    }
    fputc('"', fp);
  }
  fputc('\n', fp);
  char sp[32];
  for (int i = 0; i < c->natoms; ++i) {
    const ms_species *s = &c->species[c->kind[i]];
    double r[3];
    ms_cell_site_cart(c, i, r);
    /* Without a column for everyone, a charge rides on the species name ("Ti4+"). */
    const char *text = ox_column || !s->has_ox ? ms__io_element_symbol(s)
                                                : ms__io_species_text(s, sp, sizeof sp);
    fprintf(fp, "%-3s %20.14f %20.14f %20.14f", text, r[0], r[1], r[2]);
    if (ox_column) fprintf(fp, " %12.8f", s->ox);
    fputc('\n', fp);
  }
  if (ferror(fp)) MS_FAIL(MS_ERR_FILE, "writing extxyz failed");
  return MS_SUCCESS;
}
