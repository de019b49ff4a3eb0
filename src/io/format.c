/* Structure-file formats: names, guessing a format from a file name or its content, and
 * reading or writing a file in any supported format.
 *
 * The guess from a name is by extension (.cif; .vasp/.poscar/.contcar; .xyz/.extxyz) and by
 * VASP's fixed file names (POSCAR, CONTCAR, also with a suffix: POSCAR.relaxed, CONTCAR_3).
 * The guess from content looks for what each format must have at its start: a CIF data block
 * header or tag, a count line followed by a comment with Lattice=, or a POSCAR's scale line
 * followed by three lines of three numbers. Writers go to a temporary file that is renamed
 * into place, so an interrupted run never leaves a truncated structure behind. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_text.h"
#include "matscreen/data.h"
#include "matscreen/io.h"
#include "matscreen/paths.h"

static int eq_ci(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}

static int starts_ci(const char *s, const char *prefix) {
  for (; *prefix; ++s, ++prefix)
    if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix)) return 0;
  return 1;
}

ms_err ms_format_from_name(const char *name, ms_format *fmt) {
  MS_CHECK(name && fmt, MS_ERR_ARG, "NULL argument");
  if (eq_ci(name, "cif")) *fmt = MS_FORMAT_CIF;
  else if (eq_ci(name, "poscar") || eq_ci(name, "vasp") || eq_ci(name, "contcar"))
    *fmt = MS_FORMAT_POSCAR;
  else if (eq_ci(name, "extxyz") || eq_ci(name, "xyz")) *fmt = MS_FORMAT_EXTXYZ;
  else if (eq_ci(name, "auto")) *fmt = MS_FORMAT_AUTO;
  else
    MS_FAIL(MS_ERR_INPUT, "unknown structure format '%s' (expected cif, poscar or extxyz)", name);
  return MS_SUCCESS;
}

const char *ms_format_name(ms_format fmt) {
  switch (fmt) {
    case MS_FORMAT_CIF: return "cif";
    case MS_FORMAT_POSCAR: return "poscar";
    case MS_FORMAT_EXTXYZ: return "extxyz";
    default: return "auto";
  }
}

/* Format from the file name alone; MS_FORMAT_AUTO when it does not tell. */
static ms_format format_from_path(const char *path) {
  if (!path) return MS_FORMAT_AUTO;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (dot && dot != base) {
    const char *ext = dot + 1;
    if (eq_ci(ext, "cif")) return MS_FORMAT_CIF;
    if (eq_ci(ext, "vasp") || eq_ci(ext, "poscar") || eq_ci(ext, "contcar"))
      return MS_FORMAT_POSCAR;
    if (eq_ci(ext, "xyz") || eq_ci(ext, "extxyz")) return MS_FORMAT_EXTXYZ;
  }
  if (starts_ci(base, "POSCAR") || starts_ci(base, "CONTCAR")) return MS_FORMAT_POSCAR;
  return MS_FORMAT_AUTO;
}

/* Format from the first lines of the content; MS_FORMAT_AUTO when it does not tell. */
static ms_format format_from_text(const char *text, size_t len) {
  if (!text) return MS_FORMAT_AUTO;
  ms_io_cursor cur;
  ms__io_cursor_init(&cur, text, len);
  ms_io_tok lines[6], t[4];
  int n = 0;
  ms_io_tok line;
  /* CIF: the first non-comment token is data_ or a tag. */
  while (ms__io_next_line(&cur, &line)) {
    if (ms__io_blank(line)) continue;
    if (ms__io_split(line, t, 1) >= 1) {
      if (t[0].s[0] == '#') continue;
      if (t[0].n >= 5 && ms__io_tok_eq((ms_io_tok){t[0].s, 5}, "data_")) return MS_FORMAT_CIF;
      if (t[0].s[0] == '_') return MS_FORMAT_CIF;
    }
    break;
  }
  ms__io_cursor_init(&cur, text, len);
  while (n < 6 && ms__io_next_line(&cur, &line)) lines[n++] = line;
  if (n >= 2) {
    long long natoms = 0;
    if (ms__io_split(lines[0], t, 2) == 1 && ms__io_parse_long(t[0], 1, 1LL << 40, &natoms) == 0) {
      for (size_t i = 0; i + 8 <= lines[1].n; ++i)
        if (ms__io_tok_eq((ms_io_tok){lines[1].s + i, 8}, "lattice=")) return MS_FORMAT_EXTXYZ;
    }
  }
  if (n >= 5) {
    double v;
    int ok = ms__io_split(lines[1], t, 4) >= 1 && ms__io_parse_double(t[0], &v) == 0;
    for (int i = 2; i < 5 && ok; ++i) {
      ok = ms__io_split(lines[i], t, 4) >= 3;
      for (int k = 0; k < 3 && ok; ++k) ok = ms__io_parse_double(t[k], &v) == 0;
    }
    if (ok) return MS_FORMAT_POSCAR;
  }
  return MS_FORMAT_AUTO;
}

ms_err ms_format_guess(const char *path, const char *text, size_t len, ms_format *fmt) {
  MS_CHECK(fmt, MS_ERR_ARG, "NULL argument");
  *fmt = format_from_path(path);
  if (*fmt == MS_FORMAT_AUTO) *fmt = format_from_text(text, len);
  if (*fmt == MS_FORMAT_AUTO)
    MS_FAIL(MS_ERR_INPUT,
            "%s: cannot tell the structure format from the name or the content (expected CIF, "
            "POSCAR or extended XYZ; name it .cif, .vasp or .xyz, or give the format)",
            path ? path : "(input)");
  return MS_SUCCESS;
}

ms_err ms_structure_read(const char *path, ms_format fmt, ms_cell_list *out) {
  MS_CHECK(path && out, MS_ERR_ARG, "NULL argument");
  char *text = NULL;
  size_t len = 0;
  MS_CALL(ms_read_file(path, &text, &len));
  ms_err e = MS_SUCCESS;
  if (fmt == MS_FORMAT_AUTO) e = ms_format_guess(path, text, len, &fmt);
  if (!e) {
    switch (fmt) {
      case MS_FORMAT_CIF: e = ms_cif_parse(text, len, path, out); break;
      case MS_FORMAT_POSCAR: e = ms_poscar_parse(text, len, path, out); break;
      case MS_FORMAT_EXTXYZ: e = ms_extxyz_parse(text, len, path, out); break;
      default: e = ms__err_set(MS_ERR_ARG, __FILE__, __LINE__, __func__, "bad format %d", fmt);
    }
  }
  free(text);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

ms_err ms_structure_write(const char *path, ms_format fmt, const ms_cell *cells, int n) {
  MS_CHECK(path && (cells || n == 0), MS_ERR_ARG, "NULL argument");
  if (fmt == MS_FORMAT_AUTO) fmt = format_from_path(path);
  MS_CHECK(fmt != MS_FORMAT_AUTO, MS_ERR_ARG,
           "%s: cannot tell the output format from the name (use .cif, .vasp, POSCAR, .xyz or "
           ".extxyz, or give the format)",
           path);
  MS_CHECK(n >= 1, MS_ERR_ARG, "%s: no structure to write", path);
  MS_CHECK(fmt != MS_FORMAT_POSCAR || n == 1, MS_ERR_ARG,
           "%s: a POSCAR file holds one structure, but there are %d; write extxyz or CIF, "
           "which hold several",
           path, n);
  MS_CALL(ms_make_parent_dirs(path));
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  MS_CHECK(tmp, MS_ERR_MEM, "out of memory");
  snprintf(tmp, plen + 32, "%s.tmp%ld", path, (long)getpid());
  FILE *fp = fopen(tmp, "w");
  if (!fp) {
    int err = errno;
    free(tmp);
    MS_FAIL(MS_ERR_FILE, "%s: cannot open for writing: %s", path, strerror(err));
  }
  ms_err e = MS_SUCCESS;
  for (int i = 0; i < n && !e; ++i) {
    if (fmt == MS_FORMAT_CIF) {
      if (i) fputc('\n', fp);
      e = ms_cif_write(fp, &cells[i]);
    } else if (fmt == MS_FORMAT_POSCAR) {
      e = ms_poscar_write(fp, &cells[i]);
    } else {
      e = ms_extxyz_write(fp, &cells[i]);
    }
  }
  int werr = ferror(fp) ? errno : 0;
  if (fclose(fp) != 0 && !werr) werr = errno ? errno : EIO;
  if (!e && werr)
    e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: write failed: %s", path,
                    strerror(werr));
  if (!e && rename(tmp, path) != 0)
    e = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__, "%s: cannot rename %s into place: %s",
                    path, tmp, strerror(errno));
  if (e) remove(tmp);
  free(tmp);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}
