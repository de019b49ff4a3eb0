/* The generic reader of declarative option specs (options.h).
 *
 * One place builds the range messages, so every option of every stage says the same thing in
 * the same words: "must be in [lo, hi] UNIT, got V" with brackets that show whether a bound is
 * included, "must be >= lo" for one-sided ranges, "must be a, b or c, got 'x'" for choices. */
#include "matscreen/options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int ms_opts_count(const ms_opt_spec *spec) {
  int n = 0;
  while (spec && spec[n].key) ++n;
  return n;
}

const ms_opt_spec *ms_opts_find(const ms_opt_spec *spec, const char *key) {
  for (const ms_opt_spec *o = spec; o && o->key; ++o)
    if (strcmp(o->key, key) == 0) return o;
  return NULL;
}

const ms_opt_value *ms_opts_get(const ms_opt_spec *spec, const ms_opt_value *vals, const char *key) {
  for (int k = 0; spec && spec[k].key; ++k)
    if (strcmp(spec[k].key, key) == 0) return &vals[k];
  return NULL;
}

int ms_opts_keys(const ms_opt_spec *spec, const char **keys, int max) {
  int n = 0;
  for (const ms_opt_spec *o = spec; o && o->key && n < max - 1; ++o) keys[n++] = o->key;
  if (max > 0) keys[n] = NULL;
  return n;
}

/* "a, b or c" */
static void join_choices(const char *const *c, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  int n = 0;
  while (c && c[n]) ++n;
  for (int k = 0; k < n && used < len; ++k) {
    const char *sep = k == 0 ? "" : k == n - 1 ? " or " : ", ";
    int w = snprintf(buf + used, len - used, "%s%s", sep, c[k]);
    if (w > 0) used += (size_t)w;
  }
}

/* " eV/atom" or "" */
static const char *unit_suffix(const ms_opt_spec *o, char *buf, size_t len) {
  if (o->unit && *o->unit)
    snprintf(buf, len, " %s", o->unit);
  else
    buf[0] = '\0';
  return buf;
}

/* The range in words, as used in messages and in `matscreen info stages`: "in [0, 1] eV/atom",
 * "in 1..200", ">= 0 eV/atom"; "" when unbounded. */
static void range_text(const ms_opt_spec *o, char *buf, size_t len) {
  char u[32];
  unit_suffix(o, u, sizeof u);
  int has_lo = !isnan(o->lo), has_hi = !isnan(o->hi);
  if (o->type == MS_OPT_INTEGER) {
    if (has_lo && has_hi)
      snprintf(buf, len, "in %lld..%lld%s", (long long)o->lo, (long long)o->hi, u);
    else if (has_lo)
      snprintf(buf, len, ">= %lld%s", (long long)o->lo, u);
    else if (has_hi)
      snprintf(buf, len, "<= %lld%s", (long long)o->hi, u);
    else
      snprintf(buf, len, "%s", u[0] ? u + 1 : "");
    return;
  }
  if (has_lo && has_hi)
    snprintf(buf, len, "in %c%g, %g%c%s", o->lo_open ? '(' : '[', o->lo, o->hi, o->hi_open ? ')' : ']', u);
  else if (has_lo)
    snprintf(buf, len, "%s %g%s", o->lo_open ? ">" : ">=", o->lo, u);
  else if (has_hi)
    snprintf(buf, len, "%s %g%s", o->hi_open ? "<" : "<=", o->hi, u);
  else
    snprintf(buf, len, "%s", u[0] ? u + 1 : "");
}

static int in_range(const ms_opt_spec *o, double v) {
  if (!isnan(o->lo) && (o->lo_open ? !(v > o->lo) : !(v >= o->lo))) return 0;
  if (!isnan(o->hi) && (o->hi_open ? !(v < o->hi) : !(v <= o->hi))) return 0;
  return 1;
}

void ms_opts_describe_type(const ms_opt_spec *o, char *buf, size_t len) {
  char r[96];
  switch (o->type) {
  case MS_OPT_NUMBER:
    range_text(o, r, sizeof r);
    snprintf(buf, len, "number%s%s", r[0] ? " " : "", r);
    break;
  case MS_OPT_INTEGER:
    range_text(o, r, sizeof r);
    snprintf(buf, len, "integer%s%s", r[0] ? " " : "", r);
    break;
  case MS_OPT_BOOL: snprintf(buf, len, "bool"); break;
  case MS_OPT_STRING: snprintf(buf, len, "string"); break;
  case MS_OPT_CHOICE: {
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; o->choices && o->choices[k] && used < len; ++k) {
      int w = snprintf(buf + used, len - used, "%s%s", k ? "|" : "", o->choices[k]);
      if (w > 0) used += (size_t)w;
    }
    break;
  }
  case MS_OPT_MAP: snprintf(buf, len, "mapping"); break;
  case MS_OPT_KEEP: snprintf(buf, len, "keep rule"); break;
  case MS_OPT_MODEL: snprintf(buf, len, "model"); break;
  }
}

static ms_err read_one(ms_ynode *n, const char *sub, const ms_opt_spec *o, ms_opt_value *v) {
  char r[96];
  switch (o->type) {
  case MS_OPT_NUMBER:
    MS_CALL(ms_ynode_double(n, sub, &v->num));
    if (!in_range(o, v->num)) {
      range_text(o, r, sizeof r);
      return ms_ynode_error(n, sub, "must be %s%s, got %g", r, o->note ? o->note : "", v->num);
    }
    return MS_SUCCESS;
  case MS_OPT_INTEGER:
    MS_CALL(ms_ynode_int(n, sub, &v->i));
    if (!in_range(o, (double)v->i)) {
      range_text(o, r, sizeof r);
      return ms_ynode_error(n, sub, "must be %s%s, got %lld", r, o->note ? o->note : "", v->i);
    }
    v->num = (double)v->i;
    return MS_SUCCESS;
  case MS_OPT_BOOL: return ms_ynode_bool(n, sub, &v->b);
  case MS_OPT_STRING: return ms_ynode_string(n, sub, &v->s);
  case MS_OPT_CHOICE: {
    MS_CALL(ms_ynode_string(n, sub, &v->s));
    for (int k = 0; o->choices && o->choices[k]; ++k)
      if (strcmp(o->choices[k], v->s) == 0) {
        v->choice = k;
        return MS_SUCCESS;
      }
    char words[256];
    join_choices(o->choices, words, sizeof words);
    const char *hint = ms_suggest(v->s, o->choices);
    return ms_ynode_error(n, sub, "must be %s, got '%s'%s%s%s", words, v->s, hint ? " (did you mean '" : "",
                          hint ? hint : "", hint ? "'?)" : "");
  }
  default: return MS_SUCCESS; /* declared only: parsed by its owner */
  }
}

ms_err ms_opts_read(ms_ynode *map, const char *path, const ms_opt_spec *spec, ms_opt_value *out) {
  if (map && map->type != MS_YNULL) MS_CALL(ms_ynode_expect(map, MS_YMAP, path));
  int k = 0;
  for (const ms_opt_spec *o = spec; o && o->key; ++o, ++k) {
    ms_opt_value *v = &out[k];
    memset(v, 0, sizeof *v);
    v->num = o->def;
    v->i = (long long)o->def;
    v->b = o->def != 0;
    v->choice = o->type == MS_OPT_CHOICE ? (int)o->def : 0;
    if (o->type == MS_OPT_CHOICE && o->choices) v->s = o->choices[v->choice];
    if (o->type == MS_OPT_MAP || o->type == MS_OPT_KEEP || o->type == MS_OPT_MODEL) continue;
    ms_ynode *n = map && map->type == MS_YMAP ? ms_ynode_get(map, o->key) : NULL;
    if (!n) continue;
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", o->key);
    MS_CALL(read_one(n, sub, o, v));
    v->set = 1;
    v->node = n;
  }
  return MS_SUCCESS;
}

void ms_opts_print(const ms_opt_spec *spec, ms_ynode *item, const char *path, FILE *fp) {
  for (const ms_opt_spec *o = spec; o && o->key; ++o) {
    ms_ynode *v = item && item->type == MS_YMAP ? ms_ynode_get(item, o->key) : NULL;
    const char *unit = o->unit ? o->unit : "";
    char key[128];
    snprintf(key, sizeof key, "%s.%s", path, o->key);
    if (v && v->type == MS_YSCALAR)
      fprintf(fp, "  %-40s %s%s%s\n", key, v->value, unit[0] ? " " : "", unit);
    else if (v)
      fprintf(fp, "  %-40s (given, %s)\n", key, v->type == MS_YSEQ ? "a list" : "a mapping");
    else
      fprintf(fp, "  %-40s %s%s%s (default)\n", key, o->default_text ? o->default_text : "none",
              unit[0] && o->default_text && o->default_text[0] >= '0' && o->default_text[0] <= '9' ? " " : "",
              unit[0] && o->default_text && o->default_text[0] >= '0' && o->default_text[0] <= '9' ? unit : "");
  }
}
