/* Symmetry operations written as in CIF files ("-x+y, -x, z+1/2"): parsing and applying.
 * Internal to src/io (not installed). */
#ifndef MS_IO_SYMOP_H
#define MS_IO_SYMOP_H

#include <stddef.h>

/* f' = R f + t on fractional coordinates; R has integer entries and det ±1. */
typedef struct {
  int rot[3][3];
  double trans[3];
} ms_symop;

/* Parse an operation from the slice [s, s+n). Accepted: three comma-separated components,
 * each a sum of terms "±[k][*]x|y|z" and "±p[/q]" or "±0.5" in any order (x, y, z in either
 * case; blanks anywhere). Returns 0, or -1 with a reason in @p why. */
int ms__symop_parse(const char *s, size_t n, ms_symop *op, char *why, size_t whylen);

/* Apply @p op to @p f. */
void ms__symop_apply(const ms_symop *op, const double f[3], double out[3]);

#endif
