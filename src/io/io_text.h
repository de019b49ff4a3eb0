/* Internal helpers shared by the structure-file readers (not installed, not public API).
 *
 * The readers work on a (pointer, length) buffer that may hold anything, including NUL
 * bytes, so nothing here relies on NUL termination: lines and tokens are slices, and a
 * slice is copied into a small bounded buffer before it is handed to strtod or to the
 * species parser. Every error goes through MS_IO_FAIL so the message reads
 * "NAME:LINE: what" and the code is MS_ERR_INPUT. */
#ifndef MS_IO_TEXT_H
#define MS_IO_TEXT_H

#include <stddef.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

/* Largest number of sites one structure may have. It keeps a hostile count from turning
 * into an absurd allocation; real inputs are far below it. */
#define MS_IO_MAX_ATOMS 10000000

/* A slice of the input buffer. */
typedef struct {
  const char *s;
  size_t n;
} ms_io_tok;

/* A line cursor: lines end at '\n'; a '\r' before it (CRLF files) is dropped. */
typedef struct {
  const char *p, *end;
  int line; /* number of the line most recently returned (1-based); 0 before the first */
} ms_io_cursor;

void ms__io_cursor_init(ms_io_cursor *c, const char *text, size_t len);
/* Next line without its line end; 0 at the end of the buffer. */
int ms__io_next_line(ms_io_cursor *c, ms_io_tok *line);
/* 1 if the line has only blanks (spaces, tabs, '\r', '\f', '\v'). */
int ms__io_blank(ms_io_tok line);
/* Split on blanks into at most @p max tokens; returns the number of tokens in the line
 * (which may exceed @p max: only the first @p max are stored). */
int ms__io_split(ms_io_tok line, ms_io_tok *toks, int max);
/* Case-insensitive comparison of a slice with a NUL-terminated word. */
int ms__io_tok_eq(ms_io_tok t, const char *word);

/* Strict number parsing of a whole slice: digits, sign, '.', exponent only (no hex, no
 * "nan"/"inf"). Return 0 on success, -1 if the slice is not a number, -2 if it is a
 * number that is not finite (overflow, or "nan"/"inf" spelled out). */
int ms__io_parse_double(ms_io_tok t, double *out);
/* Decimal integer in [lo, hi]; -1 not an integer, -2 out of range. */
int ms__io_parse_long(ms_io_tok t, long long lo, long long hi, long long *out);

/* Printable copy of a slice for messages: at most 40 characters, control and non-ASCII
 * bytes shown as '?', "..." when cut. Returns @p buf. */
const char *ms__io_show(ms_io_tok t, char *buf, size_t len);
#define MS_IO_SHOW_LEN 48

/* Record MS_ERR_INPUT with "NAME:LINE: message" (just "NAME: message" when line <= 0). */
ms_err ms__io_fail(const char *file, int line, const char *func, const char *name, int inline_,
                   const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 6, 7)))
#endif
  ;
#define MS_IO_FAIL(name, line, ...) \
  return ms__io_fail(__FILE__, __LINE__, __func__, (name), (line), __VA_ARGS__)

/* Turn the current error (e.g. from ms_cell_validate or ms_species_parse, which do not know
 * the file) into "NAME:LINE: <what>: <message>" and return MS_ERR_INPUT. */
ms_err ms__io_wrap(const char *file, int line, const char *func, const char *name, int inline_,
                   const char *what);
#define MS_IO_WRAP(name, line, what) \
  return ms__io_wrap(__FILE__, __LINE__, __func__, (name), (line), (what))

/* Fail with "NAME: binary data (NUL byte) at line L" if the buffer holds a NUL byte, and
 * with "NAME: file is empty" if it holds only blanks. The readers call it first so garbage
 * gets one clear message instead of a parse error deep inside. */
ms_err ms__io_check_text(const char *text, size_t len, const char *name, const char *what);

/* Step over a UTF-8 byte-order mark at the start of the buffer (Windows editors write one). */
void ms__io_skip_bom(const char **text, size_t *len);

/* Copy a slice into the cell label, replacing control bytes and trimming blanks. */
void ms__io_set_label(ms_cell *c, ms_io_tok t);

/* Element (and optional oxidation state) from a symbol such as "Ti4+", "O2-", "Ti+4",
 * "Sr" or a CIF label such as "Sr1" / "O2a": the leading letters name the element (two
 * letters when they form a symbol, else one); a trailing charge is kept only when
 * @p allow_charge is set. Returns 0 on success, -1 unknown element, -2 malformed charge. */
int ms__io_species_from_symbol(ms_io_tok t, int allow_charge, ms_species *sp);

/* Largest lattice-vector component accepted (Å). Beyond it nothing is a crystal, and bounding
 * it keeps every number the writers print short enough to be read back. */
#define MS_IO_MAX_LENGTH 1e6
/* MS_ERR_INPUT "NAME:LINE: lattice vector b has a component of X Å ..." if a component of
 * @p L is beyond MS_IO_MAX_LENGTH; vector i is on line @p line + i * @p rows_per_line
 * (1 for POSCAR, where each vector has its line; 0 for a one-line Lattice="..."). */
ms_err ms__io_check_lattice(const char *name, int line, int rows_per_line, const double L[3][3]);

/* Check an oxidation state read from a file: finite, |ox| <= 12, and either (nearly) zero,
 * which becomes exactly 0, or at least 0.01 in size, so that it prints as a plain decimal
 * ("Fe2.5+", never "Fe1e-05+") and reads back. 0 ok (with *ox normalised), -1 rejected. */
int ms__io_oxidation(double *ox);

/* Species for writing: "Ti4+" with oxidation state, "Ti" without. */
const char *ms__io_species_text(const ms_species *sp, char *buf, size_t len);
/* Element symbol of a species ("Ti"). */
const char *ms__io_element_symbol(const ms_species *sp);

/* If the lattice is left-handed, the equivalent right-handed description -L with
 * fractional coordinates -f (same Cartesian positions); writers use it so that formats that
 * cannot hold a left-handed cell (CIF parameters, VASP) keep the structure, not its mirror
 * image. @p flip receives -1 or +1, the factor to apply to fractional coordinates. */
void ms__io_right_handed(const ms_cell *c, double lattice[3][3], double *flip);

#endif
