/* Parser for symmetry operations in the "x,y,z" notation of CIF (International Tables for
 * Crystallography, Vol. A, and the CIF core dictionary's _space_group_symop_operation_xyz).
 *
 * Files in the wild write the same operation many ways: "-x+y,-x,z+1/2", "1/2+X, Y, Z",
 * "x,y,z+0.5", "-y+x, x, -z". The parser accepts any order of terms, fractions or decimals,
 * upper or lower case, and blanks, but insists on what makes an operation a crystal symmetry:
 * integer rotation coefficients and a rotation with determinant +1 or -1. */
#include "symop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* Unsigned decimal number at s[*i]: digits with an optional '.' part. */
static int read_number(const char *s, size_t n, size_t *i, double *v) {
  char buf[32];
  size_t k = 0;
  int digits = 0;
  while (*i < n && ((s[*i] >= '0' && s[*i] <= '9') || s[*i] == '.')) {
    if (s[*i] != '.') ++digits;
    if (k + 1 >= sizeof buf) return -1;
    buf[k++] = s[(*i)++];
  }
  if (!digits) return -1;
  buf[k] = '\0';
  char *end = NULL;
  *v = strtod(buf, &end);
  if (end != buf + k || !isfinite(*v)) return -1;
  return 0;
}

static void skip_space(const char *s, size_t n, size_t *i) {
  while (*i < n && is_space(s[*i])) ++*i;
}

static int fail(char *why, size_t whylen, const char *msg) {
  snprintf(why, whylen, "%s", msg);
  return -1;
}

/* One component (between commas) into row @p r of the rotation and t[r]. */
static int parse_component(const char *s, size_t n, int r, ms_symop *op, char *why,
                           size_t whylen) {
  double rot[3] = {0, 0, 0};
  double t = 0.0;
  size_t i = 0;
  int terms = 0;
  skip_space(s, n, &i);
  while (i < n) {
    double sign = 1.0;
    if (s[i] == '+' || s[i] == '-') {
      sign = s[i] == '-' ? -1.0 : 1.0;
      ++i;
      skip_space(s, n, &i);
    } else if (terms > 0) {
      return fail(why, whylen, "expected '+' or '-' between terms");
    }
    if (i >= n) return fail(why, whylen, "a sign is not followed by a term");
    double num = 1.0;
    int have_num = 0;
    if ((s[i] >= '0' && s[i] <= '9') || s[i] == '.') {
      if (read_number(s, n, &i, &num)) return fail(why, whylen, "malformed number");
      have_num = 1;
      skip_space(s, n, &i);
      if (i < n && s[i] == '/') {
        ++i;
        skip_space(s, n, &i);
        double den = 0.0;
        if (read_number(s, n, &i, &den) || den == 0.0)
          return fail(why, whylen, "malformed fraction");
        num /= den;
        skip_space(s, n, &i);
      }
      if (i < n && s[i] == '*') {
        ++i;
        skip_space(s, n, &i);
        if (i >= n) return fail(why, whylen, "'*' is not followed by x, y or z");
      }
    }
    int var = -1;
    if (i < n) {
      char ch = s[i];
      if (ch == 'x' || ch == 'X') var = 0;
      else if (ch == 'y' || ch == 'Y') var = 1;
      else if (ch == 'z' || ch == 'Z') var = 2;
    }
    if (var >= 0) {
      rot[var] += sign * num;
      ++i;
      skip_space(s, n, &i);
      /* "x/2" is not a lattice symmetry; say so rather than misread it. */
      if (i < n && (s[i] == '/' || s[i] == '*'))
        return fail(why, whylen, "a coordinate may only be multiplied by an integer");
    } else if (have_num) {
      t += sign * num;
    } else {
      return fail(why, whylen, "expected x, y, z or a number");
    }
    ++terms;
    skip_space(s, n, &i);
  }
  if (!terms) return fail(why, whylen, "empty component");
  for (int k = 0; k < 3; ++k) {
    double ri = nearbyint(rot[k]);
    if (fabs(rot[k] - ri) > 1e-9 || fabs(ri) > 3.0)
      return fail(why, whylen, "rotation coefficients must be small integers");
    op->rot[r][k] = (int)ri;
  }
  if (!(fabs(t) < 1e3)) return fail(why, whylen, "translation is not a small number");
  op->trans[r] = t;
  return 0;
}

int ms__symop_parse(const char *s, size_t n, ms_symop *op, char *why, size_t whylen) {
  memset(op, 0, sizeof *op);
  size_t start = 0;
  int r = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i == n || s[i] == ',') {
      if (r >= 3) return fail(why, whylen, "more than three components");
      if (parse_component(s + start, i - start, r, op, why, whylen)) return -1;
      ++r;
      start = i + 1;
    }
  }
  if (r != 3) return fail(why, whylen, "expected three comma-separated components");
  int(*m)[3] = op->rot;
  long det = (long)m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
             (long)m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
             (long)m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  if (det != 1 && det != -1) {
    snprintf(why, whylen, "not a symmetry operation (rotation determinant %ld, expected +1 or -1)",
             det);
    return -1;
  }
  return 0;
}

void ms__symop_apply(const ms_symop *op, const double f[3], double out[3]) {
  for (int r = 0; r < 3; ++r)
    out[r] = op->rot[r][0] * f[0] + op->rot[r][1] * f[1] + op->rot[r][2] * f[2] + op->trans[r];
}
