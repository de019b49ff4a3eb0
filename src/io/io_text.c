/* Text scanning shared by the CIF, POSCAR and extxyz readers: line cursor, tokens, strict
 * number parsing, species symbols and "NAME:LINE: what" error messages.
 *
 * Kept in one place because all three readers face the same hostile input (fuzzers, binary
 * files renamed .cif, truncated downloads): every routine here works on bounded slices and
 * never reads past the buffer or relies on a terminating NUL. */
#include "io_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

void ms__io_cursor_init(ms_io_cursor *c, const char *text, size_t len) {
  c->p = text;
  c->end = text + len;
  c->line = 0;
}

int ms__io_next_line(ms_io_cursor *c, ms_io_tok *line) {
  if (c->p >= c->end) return 0;
  const char *s = c->p;
  const char *nl = memchr(s, '\n', (size_t)(c->end - s));
  const char *e = nl ? nl : c->end;
  c->p = nl ? nl + 1 : c->end;
  if (c->line < 2147483647) c->line++;
  if (e > s && e[-1] == '\r') --e;
  line->s = s;
  line->n = (size_t)(e - s);
  return 1;
}

int ms__io_blank(ms_io_tok line) {
  for (size_t i = 0; i < line.n; ++i)
    if (!is_blank(line.s[i])) return 0;
  return 1;
}

int ms__io_split(ms_io_tok line, ms_io_tok *toks, int max) {
  int count = 0;
  size_t i = 0;
  while (i < line.n) {
    while (i < line.n && is_blank(line.s[i])) ++i;
    if (i >= line.n) break;
    size_t start = i;
    while (i < line.n && !is_blank(line.s[i])) ++i;
    if (count < max) {
      toks[count].s = line.s + start;
      toks[count].n = i - start;
    }
    if (count < 1000000) ++count;
  }
  return count;
}

int ms__io_tok_eq(ms_io_tok t, const char *word) {
  size_t n = strlen(word);
  if (t.n != n) return 0;
  for (size_t i = 0; i < n; ++i)
    if (tolower((unsigned char)t.s[i]) != tolower((unsigned char)word[i])) return 0;
  return 1;
}

int ms__io_parse_double(ms_io_tok t, double *out) {
  char buf[64];
  if (t.n == 0 || t.n >= sizeof buf) return -1;
  int digits = 0;
  for (size_t i = 0; i < t.n; ++i) {
    char ch = t.s[i];
    if (ch >= '0' && ch <= '9') {
      ++digits;
    } else if (!(ch == '+' || ch == '-' || ch == '.' || ch == 'e' || ch == 'E')) {
      /* Spelled-out non-finite values get their own answer so the message can say so. */
      char low[5] = {0};
      size_t k = 0, j = (t.s[0] == '+' || t.s[0] == '-') ? 1 : 0;
      for (; j < t.n && k < 4; ++j, ++k) low[k] = (char)tolower((unsigned char)t.s[j]);
      if (strncmp(low, "nan", 3) == 0 || strncmp(low, "inf", 3) == 0) return -2;
      return -1;
    }
  }
  if (!digits) return -1;
  memcpy(buf, t.s, t.n);
  buf[t.n] = '\0';
  char *end = NULL;
  errno = 0;
  double v = strtod(buf, &end);
  if (end != buf + t.n) return -1;
  if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0)) return -2;
  /* Underflow to a denormal or zero is harmless for coordinates. */
  *out = v;
  return 0;
}

int ms__io_parse_long(ms_io_tok t, long long lo, long long hi, long long *out) {
  if (t.n == 0 || t.n > 20) return -1;
  size_t i = 0;
  int neg = 0;
  if (t.s[0] == '+' || t.s[0] == '-') {
    neg = t.s[0] == '-';
    i = 1;
  }
  if (i >= t.n) return -1;
  long long v = 0;
  int big = 0;
  for (; i < t.n; ++i) {
    char ch = t.s[i];
    if (ch < '0' || ch > '9') return -1;
    if (v > 100000000000000000LL) big = 1; /* stop growing well before overflow */
    else v = 10 * v + (ch - '0');
  }
  if (neg) v = -v;
  if (big || v < lo || v > hi) return -2;
  *out = v;
  return 0;
}

const char *ms__io_show(ms_io_tok t, char *buf, size_t len) {
  if (len == 0) return buf;
  size_t max = len - 1 < 40 ? len - 1 : 40, k = 0;
  int cut = t.n > max;
  if (cut && max > 3) max -= 3;
  for (size_t i = 0; i < t.n && k < max; ++i) {
    unsigned char ch = (unsigned char)t.s[i];
    buf[k++] = (ch >= 32 && ch < 127) ? (char)ch : '?';
  }
  if (cut)
    for (int d = 0; d < 3 && k + 1 < len; ++d) buf[k++] = '.';
  buf[k] = '\0';
  return buf;
}

ms_err ms__io_fail(const char *file, int line, const char *func, const char *name, int inline_,
                   const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (inline_ > 0)
    return ms__err_set(MS_ERR_INPUT, file, line, func, "%s:%d: %s", name, inline_, msg);
  return ms__err_set(MS_ERR_INPUT, file, line, func, "%s: %s", name, msg);
}

ms_err ms__io_wrap(const char *file, int line, const char *func, const char *name, int inline_,
                   const char *what) {
  char msg[512];
  /* Copy first: ms__err_set overwrites the record the old message lives in. */
  snprintf(msg, sizeof msg, "%s", ms_err_message());
  if (what && what[0])
    return ms__io_fail(file, line, func, name, inline_, "%s: %s", what, msg);
  return ms__io_fail(file, line, func, name, inline_, "%s", msg);
}

ms_err ms__io_check_text(const char *text, size_t len, const char *name, const char *what) {
  const char *nul = len ? memchr(text, '\0', len) : NULL;
  if (nul) {
    int line = 1;
    for (const char *q = text; q < nul; ++q)
      if (*q == '\n' && line < 2147483647) ++line;
    MS_IO_FAIL(name, line, "binary data (NUL byte) in a text file; is this really %s?", what);
  }
  for (size_t i = 0; i < len; ++i)
    if (!is_blank(text[i]) && text[i] != '\n') return MS_SUCCESS;
  MS_IO_FAIL(name, 0, "file is empty (expected %s)", what);
}

void ms__io_skip_bom(const char **text, size_t *len) {
  if (*text && *len >= 3 && memcmp(*text, "\xEF\xBB\xBF", 3) == 0) {
    *text += 3;
    *len -= 3;
  }
}

void ms__io_set_label(ms_cell *c, ms_io_tok t) {
  while (t.n && is_blank(t.s[0])) ++t.s, --t.n;
  while (t.n && is_blank(t.s[t.n - 1])) --t.n;
  size_t k = 0;
  for (size_t i = 0; i < t.n && k + 1 < sizeof c->label; ++i) {
    unsigned char ch = (unsigned char)t.s[i];
    c->label[k++] = (ch < 32 || ch == 127) ? ' ' : (char)ch;
  }
  c->label[k] = '\0';
}

ms_err ms__io_check_lattice(const char *name, int line, int rows_per_line, const double L[3][3]) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (!(fabs(L[i][j]) <= MS_IO_MAX_LENGTH))
        MS_IO_FAIL(name, line + i * rows_per_line,
                   "lattice vector %c has a component of %g Å (the limit is %g Å)",
                   "abc"[i], L[i][j], MS_IO_MAX_LENGTH);
  return MS_SUCCESS;
}

int ms__io_oxidation(double *ox) {
  double v = *ox;
  if (!isfinite(v) || fabs(v) > 12.0) return -1;
  if (fabs(v) < 1e-6) v = 0.0;
  else if (fabs(v) < 0.01) return -1;
  *ox = v;
  return 0;
}

/* Charge suffix: "2+", "2-", "+", "-", "+2", "-2", "2.5+". Sets *ox; 0 ok, -1 no match. */
static int parse_charge(const char *s, size_t n, double *ox) {
  if (n == 0) return -1;
  char num[24];
  double sign = 0.0;
  size_t a = 0, b = n;
  if (s[0] == '+' || s[0] == '-') {
    sign = s[0] == '-' ? -1.0 : 1.0;
    a = 1;
  } else if (s[n - 1] == '+' || s[n - 1] == '-') {
    sign = s[n - 1] == '-' ? -1.0 : 1.0;
    b = n - 1;
  } else {
    return -1;
  }
  if (b - a >= sizeof num) return -1;
  if (a == b) {
    *ox = sign;
    return 0;
  }
  int dots = 0;
  for (size_t i = a; i < b; ++i) {
    if (s[i] == '.') {
      if (++dots > 1 || i == a || i + 1 == b) return -1;
    } else if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
  }
  memcpy(num, s + a, b - a);
  num[b - a] = '\0';
  double v = sign * strtod(num, NULL);
  if (ms__io_oxidation(&v) != 0) return -1;
  *ox = v;
  return 0;
}

int ms__io_species_from_symbol(ms_io_tok t, int allow_charge, ms_species *sp) {
  char sym[3] = {0};
  const ms_element *el = NULL;
  size_t used = 0;
  if (t.n >= 2 && isalpha((unsigned char)t.s[0]) && isalpha((unsigned char)t.s[1])) {
    sym[0] = t.s[0];
    sym[1] = t.s[1];
    el = ms_element_by_symbol(sym);
    used = 2;
  }
  if (!el && t.n >= 1 && isalpha((unsigned char)t.s[0])) {
    sym[0] = t.s[0];
    sym[1] = '\0';
    el = ms_element_by_symbol(sym);
    used = 1;
  }
  if (!el) return -1;
  /* A further letter right after the symbol ("Xy", "Ca" read as "C" + "a" is fine) is a
   * label suffix; a letter glued to a one-letter symbol that is not itself a symbol is
   * accepted too (labels such as "Oa", "Ow1"). */
  sp->Z = el->Z;
  sp->has_ox = 0;
  sp->ox = 0.0;
  const char *rest = t.s + used;
  size_t nrest = t.n - used;
  if (nrest == 0) return 0;
  double ox = 0.0;
  if (parse_charge(rest, nrest, &ox) == 0) {
    if (allow_charge) {
      sp->has_ox = 1;
      sp->ox = ox;
    }
    return 0;
  }
  /* Something that tries to be a charge but is malformed ("Ti4++", "Ti+-") is an error; any
   * other suffix ("1", "a", "_pv") is a label and ignored. */
  int signs = 0;
  for (size_t i = 0; i < nrest; ++i) signs += rest[i] == '+' || rest[i] == '-';
  return (allow_charge && signs) ? -2 : 0;
}

const char *ms__io_species_text(const ms_species *sp, char *buf, size_t len) {
  return ms_species_format(sp, buf, len);
}

const char *ms__io_element_symbol(const ms_species *sp) {
  const ms_element *el = ms_element_by_z(sp->Z);
  return el ? el->symbol : "X";
}

void ms__io_right_handed(const ms_cell *c, double lattice[3][3], double *flip) {
  double s = ms_cell_det(c) < 0.0 ? -1.0 : 1.0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) lattice[i][j] = s * c->lattice[i][j];
  *flip = s;
}
