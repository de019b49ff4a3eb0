/* CIF 1.1 syntax: data blocks made of tagged items and loops (internal to src/io).
 *
 * The reader hands each complete data block to a callback, so structures are built one block
 * at a time and memory does not grow with the number of blocks. Values are slices of the input
 * buffer with their line numbers, for error messages that point at the place. */
#ifndef MS_IO_CIF_SYNTAX_H
#define MS_IO_CIF_SYNTAX_H

#include <stddef.h>

#include "matscreen/error.h"

enum { MS_CIF_BARE = 0, MS_CIF_QUOTED = 1, MS_CIF_TEXT = 2 };

typedef struct {
  const char *s;
  size_t n;
  int line;
  int kind; /* MS_CIF_BARE, MS_CIF_QUOTED or MS_CIF_TEXT */
} ms_cif_value;

typedef struct {
  const char *tag; /* including the leading '_' */
  size_t tag_len;
  int line;
  int loop;        /* -1 for a single item, else the number of the loop in the block */
  size_t first;    /* index of this item's row-0 value in the block's value array */
  size_t stride;   /* number of columns of the loop (1 for a single item) */
  size_t nrows;
} ms_cif_item;

typedef struct {
  const char *name; /* after "data_" */
  size_t name_len;
  int line;
  ms_cif_item *items;
  size_t nitems, cap_items;
  ms_cif_value *values;
  size_t nvalues, cap_values;
} ms_cif_block;

typedef ms_err (*ms_cif_block_fn)(const ms_cif_block *b, void *ctx);

/* Read every data block of the buffer and call @p fn on each (global_ blocks are skipped).
 * Syntax errors return MS_ERR_INPUT "NAME:LINE: ...". */
ms_err ms__cif_read_blocks(const char *text, size_t len, const char *name, ms_cif_block_fn fn,
                           void *ctx);

/* Item with tag @p tag (case-insensitive; '.' matches '_', so DDLm names such as
 * "_atom_site.fract_x" work), or NULL. A tag present twice is an error. */
ms_err ms__cif_find(const ms_cif_block *b, const char *name, const char *tag,
                    const ms_cif_item **item);
const ms_cif_value *ms__cif_at(const ms_cif_block *b, const ms_cif_item *it, size_t row);
/* 1 for the CIF null values '?' (unknown) and '.' (inapplicable), unquoted. */
int ms__cif_is_null(const ms_cif_value *v);
/* Numeric value with an optional standard uncertainty "3.905(2)" (dropped).
 * 0 ok, 1 null ('?' or '.'), -1 not a number, -2 not finite. */
int ms__cif_number(const ms_cif_value *v, double *out);

#endif
