/* JSON text building for --json outputs; see json.h. */
#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ms_jb_init(ms_jbuf *b) { memset(b, 0, sizeof *b); }
void ms_jb_free(ms_jbuf *b) {
  free(b->s);
  ms_jb_init(b);
}
void ms_jb_clear(ms_jbuf *b) {
  b->n = 0;
  if (b->s) b->s[0] = '\0';
}

static int reserve(ms_jbuf *b, size_t extra) {
  if (b->oom) return 0;
  if (b->n + extra + 1 <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + extra + 1) cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) {
    b->oom = 1;
    return 0;
  }
  b->s = s;
  b->cap = cap;
  return 1;
}

void ms_jb_raw(ms_jbuf *b, const char *text) {
  size_t l = strlen(text);
  if (!reserve(b, l)) return;
  memcpy(b->s + b->n, text, l + 1);
  b->n += l;
}

void ms_jb_printf(ms_jbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0 || !reserve(b, (size_t)need)) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, (size_t)need + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)need;
}

const char *ms_json_char(unsigned char c, char buf[8]) {
  if (c == '"' || c == '\\') snprintf(buf, 8, "\\%c", c);
  else if (c == '\n') snprintf(buf, 8, "\\n");
  else if (c == '\t') snprintf(buf, 8, "\\t");
  else if (c == '\r') snprintf(buf, 8, "\\r");
  else if (c < 0x20) snprintf(buf, 8, "\\u%04x", c);
  else {
    buf[0] = (char)c;
    buf[1] = 0;
  }
  return buf;
}

void ms_jb_str(ms_jbuf *b, const char *s) {
  char e[8];
  ms_jb_raw(b, "\"");
  for (; s && *s; ++s) ms_jb_raw(b, ms_json_char((unsigned char)*s, e));
  ms_jb_raw(b, "\"");
}

void ms_json_fput_str(FILE *fp, const char *s) {
  if (!s) {
    fputs("null", fp);
    return;
  }
  char e[8];
  fputc('"', fp);
  for (; *s; ++s) fputs(ms_json_char((unsigned char)*s, e), fp);
  fputc('"', fp);
}

const char *ms_num_text(double v, char *buf, size_t len) {
  for (int prec = 6; prec <= 17; ++prec) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

void ms_jb_num(ms_jbuf *b, double v) {
  if (!isfinite(v)) {
    ms_jb_raw(b, "null");
    return;
  }
  char buf[40];
  ms_jb_raw(b, ms_num_text(v, buf, sizeof buf));
}

void ms_json_fput_num(FILE *fp, double v) {
  char buf[40];
  fputs(isfinite(v) ? ms_num_text(v, buf, sizeof buf) : "null", fp);
}

void ms_jb_key(ms_jbuf *b, const char *key, int first) {
  if (!first) ms_jb_raw(b, ", ");
  ms_jb_str(b, key);
  ms_jb_raw(b, ": ");
}

void ms_jb_nums(ms_jbuf *b, const double *v, int n) {
  ms_jb_raw(b, "[");
  for (int k = 0; k < n; ++k) {
    if (k) ms_jb_raw(b, ", ");
    ms_jb_num(b, v[k]);
  }
  ms_jb_raw(b, "]");
}

void ms_jb_rows3(ms_jbuf *b, const double (*v)[3], int n) {
  ms_jb_raw(b, "[");
  for (int k = 0; k < n; ++k) {
    if (k) ms_jb_raw(b, ", ");
    ms_jb_nums(b, v[k], 3);
  }
  ms_jb_raw(b, "]");
}
