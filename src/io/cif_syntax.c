/* CIF 1.1 syntax (tokens, single items, loops, data blocks) without any crystallography.
 *
 * Follows the CIF 1.1 grammar of the IUCr (https://www.iucr.org/resources/cif/spec/version1.1):
 * '#' starts a comment at the beginning of a token; 'single' and "double" quoted strings end at
 * a matching quote followed by white space (so 'O'Brien' is one value); a text field runs from
 * a ';' in the first column to the next line starting with ';'; reserved words data_, loop_,
 * save_, global_ and stop_ are case-insensitive. CR, LF and CRLF line ends are all accepted.
 * Separated from cif.c so that the structure logic never sees raw bytes. */
#include "cif_syntax.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "io_text.h"

enum { T_EOF, T_VALUE, T_TAG, T_LOOP, T_DATA, T_SAVE, T_GLOBAL, T_STOP };

typedef struct {
  const char *text, *p, *end, *name;
  int line;
} lexer;

typedef struct {
  int type;
  ms_cif_value v;
} token;

static int is_ws(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

static void bump_line(lexer *lx) {
  if (lx->line < 2147483647) lx->line++;
}

static int starts_with_ci(const char *s, size_t n, const char *word) {
  size_t k = strlen(word);
  if (n < k) return 0;
  for (size_t i = 0; i < k; ++i)
    if (tolower((unsigned char)s[i]) != word[i]) return 0;
  return 1;
}

/* Next token; MS_ERR_INPUT for an unterminated quote or text field. */
static ms_err next_token(lexer *lx, token *t) {
  for (;;) {
    while (lx->p < lx->end && is_ws(*lx->p)) {
      if (*lx->p == '\n') bump_line(lx);
      ++lx->p;
    }
    if (lx->p < lx->end && *lx->p == '#') {
      while (lx->p < lx->end && *lx->p != '\n') ++lx->p;
      continue;
    }
    break;
  }
  memset(t, 0, sizeof *t);
  t->v.line = lx->line;
  if (lx->p >= lx->end) {
    t->type = T_EOF;
    return MS_SUCCESS;
  }
  const char *s = lx->p;
  int bol = s == lx->text || s[-1] == '\n' || s[-1] == '\r';
  if (*s == ';' && bol) {
    /* Text field: everything up to a line that begins with ';'. */
    int start_line = lx->line;
    const char *q = s + 1;
    for (;;) {
      const char *nl = memchr(q, '\n', (size_t)(lx->end - q));
      if (!nl) MS_IO_FAIL(lx->name, start_line, "text field opened with ';' is never closed");
      bump_line(lx);
      if (nl + 1 < lx->end && nl[1] == ';') {
        t->type = T_VALUE;
        t->v.s = s + 1;
        t->v.n = (size_t)(nl - (s + 1));
        t->v.kind = MS_CIF_TEXT;
        t->v.line = start_line;
        lx->p = nl + 2;
        return MS_SUCCESS;
      }
      q = nl + 1;
    }
  }
  if (*s == '\'' || *s == '"') {
    char qc = *s;
    const char *q = s + 1;
    while (q < lx->end && *q != '\n') {
      if (*q == qc && (q + 1 >= lx->end || is_ws(q[1]))) {
        t->type = T_VALUE;
        t->v.s = s + 1;
        t->v.n = (size_t)(q - (s + 1));
        t->v.kind = MS_CIF_QUOTED;
        lx->p = q + 1;
        return MS_SUCCESS;
      }
      ++q;
    }
    MS_IO_FAIL(lx->name, lx->line, "quoted string is not closed on its line (missing %c)", qc);
  }
  const char *q = s;
  while (q < lx->end && !is_ws(*q)) ++q;
  lx->p = q;
  size_t n = (size_t)(q - s);
  t->v.s = s;
  t->v.n = n;
  t->v.kind = MS_CIF_BARE;
  if (*s == '_') {
    t->type = T_TAG;
  } else if (starts_with_ci(s, n, "data_")) {
    t->type = T_DATA;
    t->v.s = s + 5;
    t->v.n = n - 5;
  } else if (n == 5 && starts_with_ci(s, n, "loop_")) {
    t->type = T_LOOP;
  } else if (starts_with_ci(s, n, "save_")) {
    t->type = T_SAVE;
  } else if (n == 7 && starts_with_ci(s, n, "global_")) {
    t->type = T_GLOBAL;
  } else if (n == 5 && starts_with_ci(s, n, "stop_")) {
    t->type = T_STOP;
  } else {
    t->type = T_VALUE;
  }
  return MS_SUCCESS;
}

static ms_err push_value(ms_cif_block *b, const ms_cif_value *v) {
  if (b->nvalues == b->cap_values) {
    size_t cap = b->cap_values ? 2 * b->cap_values : 64;
    MS_CALL(MS_REALLOC(cap, &b->values));
    b->cap_values = cap;
  }
  b->values[b->nvalues++] = *v;
  return MS_SUCCESS;
}

static ms_err push_item(ms_cif_block *b, const ms_cif_value *tag, int loop, size_t first,
                        size_t stride) {
  if (b->nitems == b->cap_items) {
    size_t cap = b->cap_items ? 2 * b->cap_items : 32;
    MS_CALL(MS_REALLOC(cap, &b->items));
    b->cap_items = cap;
  }
  ms_cif_item *it = &b->items[b->nitems++];
  it->tag = tag->s;
  it->tag_len = tag->n;
  it->line = tag->line;
  it->loop = loop;
  it->first = first;
  it->stride = stride;
  it->nrows = 0;
  return MS_SUCCESS;
}

static const char *type_word(int type) {
  switch (type) {
    case T_EOF: return "end of file";
    case T_TAG: return "a tag";
    case T_LOOP: return "loop_";
    case T_DATA: return "data_";
    case T_SAVE: return "save_";
    case T_GLOBAL: return "global_";
    case T_STOP: return "stop_";
    default: return "a value";
  }
}

/* Parse the contents of the buffer, calling fn for each finished data block. */
static ms_err read_all(lexer *lx, ms_cif_block *b, ms_cif_block_fn fn, void *ctx) {
  int in_block = 0, skip_block = 0, nloops = 0;
  token t, pending;
  int have_pending = 0;
  for (;;) {
    if (have_pending) {
      t = pending;
      have_pending = 0;
    } else {
      MS_CALL(next_token(lx, &t));
    }
    if (t.type == T_EOF || t.type == T_DATA || t.type == T_GLOBAL) {
      if (in_block && !skip_block) MS_CALL(fn(b, ctx));
      if (t.type == T_EOF) return MS_SUCCESS;
      in_block = 1;
      skip_block = t.type == T_GLOBAL;
      nloops = 0;
      b->nitems = b->nvalues = 0;
      b->name = t.v.s;
      b->name_len = t.type == T_DATA ? t.v.n : 0;
      b->line = t.v.line;
      continue;
    }
    if (t.type == T_SAVE || t.type == T_STOP) continue; /* frames only occur in dictionaries */
    char shown[MS_IO_SHOW_LEN];
    ms_io_tok tk = {t.v.s, t.v.n};
    if (!in_block)
      MS_IO_FAIL(lx->name, t.v.line, "expected a data block header 'data_NAME', got '%s'",
                 ms__io_show(tk, shown, sizeof shown));
    if (t.type == T_TAG) {
      token v;
      MS_CALL(next_token(lx, &v));
      if (v.type != T_VALUE)
        MS_IO_FAIL(lx->name, t.v.line, "tag '%s' has no value (found %s)",
                   ms__io_show(tk, shown, sizeof shown), type_word(v.type));
      MS_CALL(push_item(b, &t.v, -1, b->nvalues, 1));
      b->items[b->nitems - 1].nrows = 1;
      MS_CALL(push_value(b, &v.v));
      continue;
    }
    if (t.type == T_LOOP) {
      size_t first_item = b->nitems, first_value = b->nvalues;
      int loop_line = t.v.line;
      token u;
      for (;;) {
        MS_CALL(next_token(lx, &u));
        if (u.type != T_TAG) break;
        MS_CALL(push_item(b, &u.v, nloops, 0, 0));
      }
      size_t ncols = b->nitems - first_item;
      if (ncols == 0) MS_IO_FAIL(lx->name, loop_line, "loop_ is not followed by any tag");
      while (u.type == T_VALUE) {
        MS_CALL(push_value(b, &u.v));
        MS_CALL(next_token(lx, &u));
      }
      pending = u;
      have_pending = 1;
      size_t nv = b->nvalues - first_value;
      if (nv % ncols != 0)
        MS_IO_FAIL(lx->name, loop_line,
                   "loop has %zu values for %zu tags, not a whole number of rows "
                   "(a missing or extra value, or an unquoted value with blanks?)",
                   nv, ncols);
      for (size_t k = 0; k < ncols; ++k) {
        ms_cif_item *it = &b->items[first_item + k];
        it->first = first_value + k;
        it->stride = ncols;
        it->nrows = nv / ncols;
      }
      ++nloops;
      continue;
    }
    MS_IO_FAIL(lx->name, t.v.line, "unexpected value '%s' (expected a tag, loop_ or data_)",
               ms__io_show(tk, shown, sizeof shown));
  }
}

ms_err ms__cif_read_blocks(const char *text, size_t len, const char *name, ms_cif_block_fn fn,
                           void *ctx) {
  lexer lx = {text, text, text + len, name, 1};
  ms_cif_block b;
  memset(&b, 0, sizeof b);
  ms_err e = read_all(&lx, &b, fn, ctx);
  free(b.items);
  free(b.values);
  return e;
}

static int tag_eq(const char *a, size_t na, const char *b) {
  size_t nb = strlen(b);
  if (na != nb) return 0;
  for (size_t i = 0; i < na; ++i) {
    char x = (char)tolower((unsigned char)a[i]), y = b[i];
    if (x == '.') x = '_';
    if (x != y) return 0;
  }
  return 1;
}

ms_err ms__cif_find(const ms_cif_block *b, const char *name, const char *tag,
                    const ms_cif_item **item) {
  *item = NULL;
  for (size_t k = 0; k < b->nitems; ++k) {
    if (!tag_eq(b->items[k].tag, b->items[k].tag_len, tag)) continue;
    if (*item)
      MS_IO_FAIL(name, b->items[k].line, "%s appears twice in the data block (first at line %d)",
                 tag, (*item)->line);
    *item = &b->items[k];
  }
  return MS_SUCCESS;
}

const ms_cif_value *ms__cif_at(const ms_cif_block *b, const ms_cif_item *it, size_t row) {
  return &b->values[it->first + row * it->stride];
}

int ms__cif_is_null(const ms_cif_value *v) {
  return v->kind == MS_CIF_BARE && v->n == 1 && (v->s[0] == '?' || v->s[0] == '.');
}

int ms__cif_number(const ms_cif_value *v, double *out) {
  if (ms__cif_is_null(v)) return 1;
  ms_io_tok t = {v->s, v->n};
  /* Standard uncertainty in parentheses at the end: "3.905(2)", "0.25(12)". */
  if (t.n >= 3 && t.s[t.n - 1] == ')') {
    size_t k = t.n - 2;
    while (k > 0 && t.s[k] >= '0' && t.s[k] <= '9') --k;
    if (t.s[k] == '(' && k < t.n - 2) t.n = k;
  }
  return ms__io_parse_double(t, out);
}
