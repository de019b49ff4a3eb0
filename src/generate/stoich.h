/* Stoichiometry rules for candidates of plain elements (internal; stoich.c explains the
 * counting). Used by prototype_substitution when its sites are plain elements. */
#ifndef MS_STOICH_H
#define MS_STOICH_H

#include <stddef.h>
#include <stdint.h>

#include "gen_impl.h"

#define MS__STOICH_MAX_FORMULA 8   /* elements of one allowed composition */
#define MS__STOICH_MAX_COMPOSITIONS 64
#define MS__STOICH_MAX_STATES (1 << 20)
#define MS__STOICH_MAX_TUPLES 4096 /* tuples of one digit */

/* An allowed composition, reduced (counts divided by their gcd), elements by Z. */
typedef struct {
  int n;
  int z[MS__STOICH_MAX_FORMULA];
  int count[MS__STOICH_MAX_FORMULA];
  char text[32]; /* as written */
} ms__stoich_formula;

typedef struct {
  int max_elements; /* 0: any number */
  int distinct;     /* 1: no element on two labels */
  int ncompositions;
  ms__stoich_formula composition[MS__STOICH_MAX_COMPOSITIONS];
} ms__stoich_rules;

/* One digit: its labels' atom counts per conventional cell and the elements (Z) of each of its
 * tuples. Arrays are the caller's and must outlive the ms__stoich object. */
typedef struct {
  int nlab;
  int count[4];
  int ntuple;
  const int (*z)[4];
} ms__stoich_digit;

typedef struct ms__stoich ms__stoich;

/* Count the assignments of the digits (natoms atoms per conventional cell) that satisfy
 * @p rules; *out can then decode them. MS_ERR_INPUT when the memo would exceed
 * MS__STOICH_MAX_STATES. */
ms_err ms__stoich_create(const ms__stoich_rules *rules, int ndig, const ms__stoich_digit *dig,
                         int natoms, ms__stoich **out, int64_t *count);
/* The tuple index per digit of assignment @p i (0 <= i < count), in lexicographic order of the
 * digits' tuple indices. Pure; thread-safe on one object. */
void ms__stoich_decode(const ms__stoich *s, int64_t i, int *choice);
/* Memo entries (for `generate --count`). */
size_t ms__stoich_states(const ms__stoich *s);
void ms__stoich_free(ms__stoich **s);
/* Parse a formula ("Ni3Al") into a reduced composition; -1 with *why on error. */
int ms__stoich_parse_formula(const char *text, ms__stoich_formula *f, char *why, size_t len);

#endif
