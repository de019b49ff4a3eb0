/* A read-only YAML tree built from libyaml's event stream, with source positions.
 *
 * Why a tree: configuration validation wants random access (look up a key, report unknown
 * ones, point at the line of a bad value), which an event stream does not give. Why our own:
 * libyaml's document API drops nothing we need but offers no positions-aware accessors, no
 * "unused key" tracking and no bound on alias expansion.
 *
 * Aliases share the anchored node (no copies). Each node records how many nodes are reachable
 * from it counting every alias use ("expanded"); a document whose expanded size exceeds
 * MS_YAML_MAX_EXPANDED is rejected, which stops "billion laughs" alias bombs before anything
 * walks the tree. */
#include "matscreen/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "matscreen/data.h"

typedef struct {
  char *name;
  ms_ynode *node;
} anchor_entry;

struct ms_ydoc {
  char *file;
  ms_ynode *root;
  ms_ynode **all; /* every node allocated, for freeing (aliases make the tree a DAG) */
  size_t nall, capall;
  anchor_entry *anchors;
  size_t nanchors, capanchors;
};

static ms_ynode null_node = {MS_YNULL, 0, 0, "", NULL, 0, 0, NULL, NULL, NULL, 1};

const char *ms_ynode_type_name(ms_ytype t) {
  switch (t) {
    case MS_YSCALAR: return "scalar";
    case MS_YSEQ: return "sequence";
    case MS_YMAP: return "mapping";
    default: return "null";
  }
}

static ms_err new_node(ms_ydoc *d, ms_ytype t, yaml_mark_t mark, ms_ynode **out) {
  if (d->nall == d->capall) {
    size_t cap = d->capall ? 2 * d->capall : 64;
    MS_CALL(MS_REALLOC(cap, &d->all));
    d->capall = cap;
  }
  ms_ynode *n = NULL;
  MS_CALL(MS_CALLOC(1, &n));
  d->all[d->nall++] = n;
  n->type = t;
  n->line = (int)mark.line + 1;
  n->col = (int)mark.column + 1;
  n->file = d->file;
  n->expanded = 1;
  *out = n;
  return MS_SUCCESS;
}

static void free_node_contents(ms_ynode *n) {
  free(n->value);
  free(n->items);
  free(n->keys);
  free(n->used);
}

void ms_ydoc_free(ms_ydoc **doc) {
  if (!doc || !*doc) return;
  ms_ydoc *d = *doc;
  for (size_t k = 0; k < d->nall; ++k) {
    free_node_contents(d->all[k]);
    free(d->all[k]);
  }
  free(d->all);
  for (size_t k = 0; k < d->nanchors; ++k) free(d->anchors[k].name);
  free(d->anchors);
  free(d->file);
  free(d);
  *doc = NULL;
}

ms_ynode *ms_ydoc_root(ms_ydoc *doc) { return doc && doc->root ? doc->root : &null_node; }

static ms_err add_anchor(ms_ydoc *d, const char *name, ms_ynode *node) {
  if (!name) return MS_SUCCESS;
  if (d->nanchors == d->capanchors) {
    size_t cap = d->capanchors ? 2 * d->capanchors : 8;
    MS_CALL(MS_REALLOC(cap, &d->anchors));
    d->capanchors = cap;
  }
  char *copy = strdup(name);
  MS_CHECK(copy, MS_ERR_MEM, "out of memory");
  d->anchors[d->nanchors].name = copy;
  d->anchors[d->nanchors].node = node;
  d->nanchors++;
  return MS_SUCCESS;
}

static ms_ynode *find_anchor(ms_ydoc *d, const char *name) {
  /* The latest definition wins, as YAML allows redefining an anchor. */
  for (size_t k = d->nanchors; k-- > 0;)
    if (strcmp(d->anchors[k].name, name) == 0) return d->anchors[k].node;
  return NULL;
}

/* Frame of a collection under construction. */
typedef struct {
  ms_ynode *node;
  int expecting_value; /* map: the next node is a value for the last key */
  int cap;
} frame;

static ms_err append_child(ms_ydoc *d, frame *f, ms_ynode *child) {
  ms_ynode *p = f->node;
  if (p->type == MS_YSEQ) {
    if (p->n == f->cap) {
      int cap = f->cap ? 2 * f->cap : 4;
      MS_CALL(MS_REALLOC((size_t)cap, &p->items));
      f->cap = cap;
    }
    p->items[p->n++] = child;
  } else if (!f->expecting_value) {
    if (child->type != MS_YSCALAR && child->type != MS_YNULL)
      MS_FAIL(MS_ERR_YAML, "%s:%d:%d: mapping keys must be plain scalars", d->file, child->line,
              child->col);
    /* Keys are names in every file we read, and readers use keys[k]->value as a string:
     * an empty or null key ("~:", "&a :") has no text, so it is refused here once. */
    if (child->type == MS_YNULL)
      MS_FAIL(MS_ERR_YAML, "%s:%d:%d: empty or null mapping key", d->file, child->line,
              child->col);
    const char *key = child->value ? child->value : "";
    for (int k = 0; k < p->n; ++k)
      if (strcmp(p->keys[k]->value ? p->keys[k]->value : "", key) == 0)
        MS_FAIL(MS_ERR_YAML, "%s:%d:%d: duplicate key '%s' (first at line %d)", d->file,
                child->line, child->col, key, p->keys[k]->line);
    if (p->n == f->cap) {
      int cap = f->cap ? 2 * f->cap : 4;
      MS_CALL(MS_REALLOC((size_t)cap, &p->items));
      MS_CALL(MS_REALLOC((size_t)cap, &p->keys));
      MS_CALL(MS_REALLOC((size_t)cap, &p->used));
      f->cap = cap;
    }
    p->keys[p->n] = child;
    p->items[p->n] = &null_node;
    p->used[p->n] = 0;
    p->n++;
    f->expecting_value = 1;
    return MS_SUCCESS;
  } else {
    p->items[p->n - 1] = child;
    f->expecting_value = 0;
  }
  p->expanded += child->expanded;
  if (p->expanded > MS_YAML_MAX_EXPANDED)
    MS_FAIL(MS_ERR_YAML,
            "%s:%d:%d: document expands to more than %d nodes through aliases (alias bomb?)",
            d->file, child->line, child->col, MS_YAML_MAX_EXPANDED);
  return MS_SUCCESS;
}

static int is_null_plain(const char *v) {
  return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
         strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

enum { MAX_DEPTH = 256 };

static ms_err build(ms_ydoc *d, yaml_parser_t *parser) {
  frame stack[MAX_DEPTH];
  int depth = 0;
  int done = 0, ndocs = 0;
  ms_err err = MS_SUCCESS;
  while (!done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(parser, &ev)) {
      const char *prob = parser->problem ? parser->problem : "syntax error";
      yaml_mark_t m = parser->problem_mark;
      if (parser->context)
        return ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__, "%s:%d:%d: %s %s",
                           d->file, (int)m.line + 1, (int)m.column + 1, prob, parser->context);
      return ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__, "%s:%d:%d: %s", d->file,
                         (int)m.line + 1, (int)m.column + 1, prob);
    }
    ms_ynode *node = NULL;
    const char *anchor = NULL;
    switch (ev.type) {
      case YAML_STREAM_END_EVENT:
        done = 1;
        break;
      case YAML_DOCUMENT_START_EVENT:
        if (++ndocs > 1)
          err = ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__,
                            "%s:%d:%d: only one YAML document is allowed per file", d->file,
                            (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1);
        break;
      case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev.data.scalar.value;
        int plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (plain && is_null_plain(v)) {
          err = new_node(d, MS_YNULL, ev.start_mark, &node);
        } else {
          err = new_node(d, MS_YSCALAR, ev.start_mark, &node);
          if (!err) {
            node->value = strdup(v);
            node->quoted = !plain;
            if (!node->value) err = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
          }
        }
        anchor = (const char *)ev.data.scalar.anchor;
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        if (depth >= MAX_DEPTH) {
          err = ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__,
                            "%s:%d:%d: nesting deeper than %d levels", d->file,
                            (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1, MAX_DEPTH);
          break;
        }
        err = new_node(d, ev.type == YAML_SEQUENCE_START_EVENT ? MS_YSEQ : MS_YMAP,
                       ev.start_mark, &node);
        if (!err) {
          anchor = ev.type == YAML_SEQUENCE_START_EVENT ? (const char *)ev.data.sequence_start.anchor
                                                        : (const char *)ev.data.mapping_start.anchor;
          err = add_anchor(d, anchor, node);
          anchor = NULL;
        }
        if (!err) {
          stack[depth].node = node;
          stack[depth].expecting_value = 0;
          stack[depth].cap = 0;
          depth++;
          node = NULL; /* attached to its parent when it ends */
        }
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        node = stack[--depth].node;
        break;
      case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev.data.alias.anchor;
        node = find_anchor(d, name);
        if (!node)
          err = ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__,
                            "%s:%d:%d: unknown alias '*%s'", d->file, (int)ev.start_mark.line + 1,
                            (int)ev.start_mark.column + 1, name);
        else if (node->type == MS_YMAP || node->type == MS_YSEQ) {
          /* An alias to a collection that is still open would make a cycle. */
          for (int k = 0; k < depth; ++k)
            if (stack[k].node == node)
              err = ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__,
                                "%s:%d:%d: alias '*%s' refers to an enclosing node (recursive)",
                                d->file, (int)ev.start_mark.line + 1,
                                (int)ev.start_mark.column + 1, name);
        }
        break;
      }
      default:
        break;
    }
    if (!err && anchor) err = add_anchor(d, anchor, node);
    if (!err && node) {
      if (depth == 0) {
        if (!d->root) d->root = node;
      } else {
        err = append_child(d, &stack[depth - 1], node);
      }
    }
    yaml_event_delete(&ev);
    if (err) return err;
  }
  return MS_SUCCESS;
}

ms_err ms_ydoc_parse(const char *text, size_t len, const char *name, ms_ydoc **doc) {
  *doc = NULL;
  ms_ydoc *d = NULL;
  MS_CALL(MS_CALLOC(1, &d));
  d->file = strdup(name ? name : "<yaml>");
  if (!d->file) {
    free(d);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  /* libyaml rejects NUL bytes only partially; catch them so binary garbage gets a clear message. */
  const char *nul = memchr(text, '\0', len);
  if (nul) {
    int line = 1;
    for (const char *p = text; p < nul; ++p) line += *p == '\n';
    ms_err e = ms__err_set(MS_ERR_YAML, __FILE__, __LINE__, __func__,
                           "%s:%d: file contains a NUL byte (not a text file?)", d->file, line);
    ms_ydoc_free(&d);
    return e;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    ms_ydoc_free(&d);
    MS_FAIL(MS_ERR_MEM, "cannot initialise the YAML parser");
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  ms_err e = build(d, &parser);
  yaml_parser_delete(&parser);
  if (e) {
    ms_ydoc_free(&d);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *doc = d;
  return MS_SUCCESS;
}

ms_err ms_ydoc_parse_file(const char *path, ms_ydoc **doc) {
  char *text = NULL;
  size_t len = 0;
  MS_CALL(ms_read_file(path, &text, &len));
  ms_err e = ms_ydoc_parse(text, len, path, doc);
  free(text);
  if (e) return ms__err_push(e, __FILE__, __LINE__, __func__);
  return MS_SUCCESS;
}

ms_ynode *ms_ynode_get(ms_ynode *map, const char *key) {
  if (!map || map->type != MS_YMAP) return NULL;
  for (int k = 0; k < map->n; ++k) {
    const char *kv = map->keys[k]->value ? map->keys[k]->value : "";
    if (strcmp(kv, key) == 0) {
      map->used[k] = 1;
      return map->items[k];
    }
  }
  return NULL;
}

ms_err ms_ynode_error(const ms_ynode *node, const char *path, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *file = node && node->file ? node->file : "<yaml>";
  int line = node ? node->line : 0, col = node ? node->col : 0;
  if (path && *path)
    return ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s:%d:%d: %s: %s", file,
                       line, col, path, msg);
  return ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s:%d:%d: %s", file, line, col,
                     msg);
}

static const char *describe(const ms_ynode *n) {
  static _Thread_local char buf[96];
  if (!n || n->type == MS_YNULL) return "nothing (null)";
  if (n->type == MS_YSCALAR) {
    snprintf(buf, sizeof buf, "'%.80s'", n->value);
    return buf;
  }
  return ms_ynode_type_name(n->type);
}

ms_err ms_ynode_expect(const ms_ynode *node, ms_ytype t, const char *path) {
  if (node && node->type == t) return MS_SUCCESS;
  return ms_ynode_error(node, path, "must be a %s, got %s", ms_ynode_type_name(t), describe(node));
}

ms_err ms_ynode_double(const ms_ynode *node, const char *path, double *out) {
  if (!node || node->type != MS_YSCALAR || node->quoted)
    return ms_ynode_error(node, path, "must be a number, got %s", describe(node));
  char *end = NULL;
  errno = 0;
  double v = strtod(node->value, &end);
  if (end == node->value || *end != '\0' || errno == ERANGE || !isfinite(v))
    return ms_ynode_error(node, path, "must be a finite number, got %s", describe(node));
  *out = v;
  return MS_SUCCESS;
}

ms_err ms_ynode_int(const ms_ynode *node, const char *path, long long *out) {
  if (!node || node->type != MS_YSCALAR || node->quoted)
    return ms_ynode_error(node, path, "must be an integer, got %s", describe(node));
  char *end = NULL;
  errno = 0;
  long long v = strtoll(node->value, &end, 10);
  if (end == node->value || *end != '\0' || errno == ERANGE)
    return ms_ynode_error(node, path, "must be an integer, got %s", describe(node));
  *out = v;
  return MS_SUCCESS;
}

ms_err ms_ynode_bool(const ms_ynode *node, const char *path, int *out) {
  static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
  static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};
  if (node && node->type == MS_YSCALAR && !node->quoted) {
    for (int k = 0; yes[k]; ++k)
      if (strcmp(node->value, yes[k]) == 0) {
        *out = 1;
        return MS_SUCCESS;
      }
    for (int k = 0; no[k]; ++k)
      if (strcmp(node->value, no[k]) == 0) {
        *out = 0;
        return MS_SUCCESS;
      }
  }
  return ms_ynode_error(node, path, "must be true or false, got %s", describe(node));
}

ms_err ms_ynode_string(const ms_ynode *node, const char *path, const char **out) {
  if (!node || node->type != MS_YSCALAR)
    return ms_ynode_error(node, path, "must be a string, got %s", describe(node));
  *out = node->value;
  return MS_SUCCESS;
}

ms_err ms_ynode_doubles(const ms_ynode *node, const char *path, double *out, int n) {
  if (!node || node->type != MS_YSEQ || node->n != n)
    return ms_ynode_error(node, path, "must be a list of %d numbers, got %s%s", n,
                          node && node->type == MS_YSEQ ? "a list of " : "",
                          node && node->type == MS_YSEQ ? (node->n < n ? "fewer" : "more")
                                                        : describe(node));
  char sub[256];
  for (int k = 0; k < n; ++k) {
    snprintf(sub, sizeof sub, "%s[%d]", path ? path : "", k);
    MS_CALL(ms_ynode_double(node->items[k], sub, &out[k]));
  }
  return MS_SUCCESS;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return (size_t)-1;
  size_t prev[65], cur[65];
  for (size_t j = 0; j <= lb; ++j) prev[j] = j;
  for (size_t i = 1; i <= la; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(size_t) * (lb + 1));
  }
  return prev[lb];
}

const char *ms_suggest(const char *word, const char *const *candidates) {
  if (!word || !candidates) return NULL;
  size_t limit = strlen(word) / 3;
  if (limit < 2) limit = 2;
  const char *best = NULL;
  size_t bestd = limit + 1;
  for (int k = 0; candidates[k]; ++k) {
    size_t dd = edit_distance(word, candidates[k]);
    if (dd < bestd) {
      bestd = dd;
      best = candidates[k];
    }
  }
  return best;
}

static ms_err check_unused_rec(const ms_ynode *node, const char *path, const char *const *allowed,
                               int recursive, int top) {
  char sub[512];
  if (node->type == MS_YMAP) {
    for (int k = 0; k < node->n; ++k) {
      const char *key = node->keys[k]->value ? node->keys[k]->value : "";
      snprintf(sub, sizeof sub, "%s%s%s", path && *path ? path : "", path && *path ? "." : "", key);
      if (!node->used[k]) {
        const char *hint = top ? ms_suggest(key, allowed) : NULL;
        if (!hint) {
          /* Suggest among this mapping's keys that were read (the valid ones). */
          const char *seen[64];
          int ns = 0;
          for (int q = 0; q < node->n && ns < 63; ++q)
            if (node->used[q] && node->keys[q]->value) seen[ns++] = node->keys[q]->value;
          seen[ns] = NULL;
          hint = ms_suggest(key, seen);
        }
        if (hint)
          return ms_ynode_error(node->keys[k], sub, "unknown key (did you mean '%s'?)", hint);
        return ms_ynode_error(node->keys[k], sub, "unknown key");
      }
      if (recursive) MS_CALL(check_unused_rec(node->items[k], sub, NULL, 1, 0));
    }
  } else if (node->type == MS_YSEQ && recursive) {
    for (int k = 0; k < node->n; ++k) {
      snprintf(sub, sizeof sub, "%s[%d]", path ? path : "", k);
      MS_CALL(check_unused_rec(node->items[k], sub, NULL, 1, 0));
    }
  }
  return MS_SUCCESS;
}

ms_err ms_ynode_check_unused(const ms_ynode *map, const char *path, const char *const *allowed) {
  if (!map || map->type != MS_YMAP) return MS_SUCCESS;
  MS_CALL(check_unused_rec(map, path, allowed, 0, 1));
  return MS_SUCCESS;
}

ms_err ms_ynode_check_unused_all(const ms_ynode *node, const char *path) {
  if (!node) return MS_SUCCESS;
  MS_CALL(check_unused_rec(node, path, NULL, 1, 0));
  return MS_SUCCESS;
}

/* ---- keys of a mapping with range checks --------------------------------------------- */

static void key_path(char *buf, size_t len, const char *path, const char *key) {
  snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
}

ms_err ms_ynode_key_int(ms_ynode *map, const char *key, const char *path, long long lo,
                        long long hi, long long *out, int *found) {
  ms_ynode *n = ms_ynode_get(map, key);
  if (found) *found = n != NULL;
  if (!n) return MS_SUCCESS;
  char sub[192];
  key_path(sub, sizeof sub, path, key);
  MS_CALL(ms_ynode_int(n, sub, out));
  if (*out < lo || *out > hi)
    return ms_ynode_error(n, sub, "must be in %lld..%lld, got %lld", lo, hi, *out);
  return MS_SUCCESS;
}

ms_err ms_ynode_key_double(ms_ynode *map, const char *key, const char *path, double lo,
                           double hi, double *out, int *found) {
  ms_ynode *n = ms_ynode_get(map, key);
  if (found) *found = n != NULL;
  if (!n) return MS_SUCCESS;
  char sub[192];
  key_path(sub, sizeof sub, path, key);
  MS_CALL(ms_ynode_double(n, sub, out));
  if (!(*out >= lo && *out <= hi))
    return ms_ynode_error(n, sub, "must be in [%g, %g], got %g", lo, hi, *out);
  return MS_SUCCESS;
}

ms_err ms_ynode_key_int_range(ms_ynode *map, const char *key, const char *path, long long lo,
                              long long hi, long long out[2], int *found) {
  ms_ynode *n = ms_ynode_get(map, key);
  if (found) *found = n != NULL;
  if (!n) return MS_SUCCESS;
  char sub[192];
  key_path(sub, sizeof sub, path, key);
  if (n->type == MS_YSCALAR) {
    MS_CALL(ms_ynode_int(n, sub, &out[0]));
    out[1] = out[0];
  } else {
    MS_CALL(ms_ynode_expect(n, MS_YSEQ, sub));
    if (n->n != 2)
      return ms_ynode_error(n, sub, "must be a number or [min, max], got %d items", n->n);
    MS_CALL(ms_ynode_int(n->items[0], sub, &out[0]));
    MS_CALL(ms_ynode_int(n->items[1], sub, &out[1]));
  }
  if (out[0] < lo || out[1] > hi || out[0] > out[1])
    return ms_ynode_error(n, sub, "must be within %lld..%lld with min <= max, got [%lld, %lld]", lo,
                          hi, out[0], out[1]);
  return MS_SUCCESS;
}
