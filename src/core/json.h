/* A tiny JSON writer (internal to matscreen: the --json output of subcommands, the lab
 * queue's tickets and exports): into a growable string buffer (ms_jb_*) or straight to a FILE
 * (ms_json_fput_*), with the same escapes and numbers. Numbers are written with the shortest
 * "%.*g" text that reads back as the same double, so results survive a text round trip bit for
 * bit; non-finite numbers become null (JSON has no NaN). The writer tracks nothing about
 * nesting: callers emit well-formed sequences. */
#ifndef MS_CORE_JSON_H
#define MS_CORE_JSON_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  char *s;
  size_t n, cap;
  int oom; /* an allocation failed: the text is truncated; report MS_ERR_MEM */
} ms_jbuf;

void ms_jb_init(ms_jbuf *b);
void ms_jb_free(ms_jbuf *b);
void ms_jb_clear(ms_jbuf *b);
void ms_jb_raw(ms_jbuf *b, const char *text);
void ms_jb_printf(ms_jbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "text" with JSON escapes. */
void ms_jb_str(ms_jbuf *b, const char *text);
/* Shortest round-tripping number, or null when not finite. */
void ms_jb_num(ms_jbuf *b, double v);
/* "key": (with a leading comma unless @p first) */
void ms_jb_key(ms_jbuf *b, const char *key, int first);
/* [v0, v1, ...] */
void ms_jb_nums(ms_jbuf *b, const double *v, int n);
/* [[...], ...] of n rows of 3 */
void ms_jb_rows3(ms_jbuf *b, const double (*v)[3], int n);

/* Shortest "%.*g" text of @p v that reads back as the same double. */
const char *ms_num_text(double v, char *buf, size_t len);

/* The JSON text of one byte of a string: itself, or its escape ("\n", "\u0001", ...). */
const char *ms_json_char(unsigned char c, char buf[8]);
/* "text" with JSON escapes to @p fp; null for NULL. */
void ms_json_fput_str(FILE *fp, const char *text);
/* Shortest round-tripping number to @p fp, or null when not finite. */
void ms_json_fput_num(FILE *fp, double v);

#endif
