/* Campaign YAML: shape, common keys, defaults and positioned errors (see campaign.h).
 *
 * What is checked here is what every campaign shares; generator and stage options belong to
 * their owners, who read them from the kept nodes. Whatever nobody read is reported at the end
 * by ms_campaign_check_unused(), so a misspelt option never silently falls back to a default. */
#include "matscreen/campaign.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/data.h"
#include "matscreen/log.h"
#include "matscreen/stage.h"

static const char *const top_keys[] = {"campaign", "potential", "search", "funnel",
                                       "shortlist", "lab_queue", "lab_feedback", NULL};
static const char *const keep_rejected_words[] = {"all", "counts", NULL};
/* The `campaign:` section's keys, declared like a stage's options (options.h): the reader
 * checks types, ranges and choices with positioned errors; `name` is also checked below. */
const ms_opt_spec ms_campaign_spec[] = {
    {.key = "name", .type = MS_OPT_STRING, .lo = NAN, .hi = NAN, .default_text = "required",
     .help = "the campaign's name: letters, digits, '-', '_' and '.' (it names files)", .example = "perovskites"},
    {.key = "seed", .type = MS_OPT_INTEGER, .lo = 0, .hi = NAN, .default_text = "required",
     .help = "seed of every random choice (results must be reproducible)", .example = "20261129"},
    {.key = "output", .type = MS_OPT_STRING, .lo = NAN, .hi = NAN, .default_text = "NAME.h5",
     .help = "the HDF5 output, relative to the campaign file's directory", .example = "run.h5"},
    {.key = "keep_rejected", .type = MS_OPT_CHOICE, .lo = NAN, .hi = NAN, .choices = keep_rejected_words,
     .def = 0, .default_text = "all",
     .help = "all: a /candidates row for every candidate; counts: rows only for those that passed the "
             "first stage, counts for the rest",
     .example = "counts"},
    {0},
};
/* Stage names, their order and their options come from the stage list (stage.h,
 * src/driver/stages.def): nothing here names a stage except where a stage-specific rule of the
 * campaign's shape is checked (the keep rule of hull and surrogate, the hull's model). */

const char *ms_stage_name(ms_stage_kind k) {
  const ms_stage_info *s = ms_stage_of_kind(k);
  return s ? s->name : NULL;
}

/* "prefilter, single_point, ..." in run order */
static void funnel_names_text(char *buf, size_t len) {
  const char *names[MS_STAGE_COUNT_ + 40];
  int n = ms_stage_funnel_names(names, (int)(sizeof names / sizeof names[0]));
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < n && used < len; ++k) {
    int w = snprintf(buf + used, len - used, "%s%s", k ? ", " : "", names[k]);
    if (w > 0) used += (size_t)w;
  }
}

void ms_campaign_free(ms_campaign **cp) {
  if (!cp || !*cp) return;
  ms_campaign *c = *cp;
  ms_ydoc_free(&c->doc);
  free(c->text);
  free(c->file);
  free(c);
  *cp = NULL;
}

/* A required mapping at @p key of @p parent (or NULL when absent and optional). */
static ms_err get_map(ms_ynode *parent, const char *key, const char *path, int required,
                      ms_ynode **out) {
  ms_ynode *n = ms_ynode_get(parent, key);
  *out = NULL;
  if (!n || n->type == MS_YNULL) {
    if (required) return ms_ynode_error(parent, path, "missing required key '%s'", key);
    return MS_SUCCESS;
  }
  MS_CALL(ms_ynode_expect(n, MS_YMAP, path));
  *out = n;
  return MS_SUCCESS;
}

/* A negative relax pressure is allowed (a hydrostatic tension: the enthalpy E + P V with P < 0
 * is lowest for expanded cells), but it is more often a sign slip than intended, so it is said
 * once. The relax stage reads and range-checks the value itself. */
static void note_tension(ms_ynode *stage, const char *path) {
  ms_ynode *p = ms_ynode_get(stage, "pressure");
  double v = 0;
  if (!p || ms_ynode_double(p, path, &v) != MS_SUCCESS) {
    ms_err_clear();
    return;
  }
  if (v < 0)
    ms_log_warn("%s:%d:%d: %s.pressure is %g GPa, a tension: allowed (cells expand under it); "
                "compression is a positive pressure",
                p->file, p->line, p->col, path, v);
}

static int name_ok(const char *s) {
  if (!*s) return 0;
  for (; *s; ++s)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '-' || *s == '_' || *s == '.'))
      return 0;
  return 1;
}

static ms_err parse_keep(ms_ynode *keep, const char *path, ms_stage *st) {
  ms_keep_rule *k = &st->keep;
  k->top_k = 0;
  k->top_fraction = 0;
  k->max_energy_per_atom = NAN;
  k->max_above_best = NAN;
  k->max_e_above_hull = NAN;
  if (!keep) return MS_SUCCESS;
  MS_CALL(ms_ynode_expect(keep, MS_YMAP, path));
  MS_CHECK(keep->n > 0, MS_ERR_INPUT, "%s:%d:%d: %s: empty keep rule (give top_k, top_fraction, ...)",
           keep->file, keep->line, keep->col, path);
  st->has_keep = 1;
  int hull = st->kind == MS_STAGE_HULL;
  ms_ynode *h = ms_ynode_get(keep, "max_e_above_hull_eV_per_atom");
  if (h && !hull && st->kind != MS_STAGE_SURROGATE) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s.max_e_above_hull_eV_per_atom", path);
    return ms_ynode_error(h, sub,
                          "only the hull stage (and the surrogate stage, for its predictions) "
                          "compares with the hull");
  }
  ms_opt_value v[8];
  MS_CALL(ms_opts_read(keep, path, ms_keep_spec, v));
  const ms_opt_value *o;
  if ((o = ms_opts_get(ms_keep_spec, v, "top_k"))->set) k->top_k = o->i;
  if ((o = ms_opts_get(ms_keep_spec, v, "top_fraction"))->set) k->top_fraction = o->num;
  if ((o = ms_opts_get(ms_keep_spec, v, "max_energy_per_atom_eV"))->set) k->max_energy_per_atom = o->num;
  if ((o = ms_opts_get(ms_keep_spec, v, "max_energy_above_best_eV_per_atom"))->set) k->max_above_best = o->num;
  if ((o = ms_opts_get(ms_keep_spec, v, "max_e_above_hull_eV_per_atom"))->set) k->max_e_above_hull = o->num;
  /* hull stages only keep by distance to the hull */
  if (hull && isnan(k->max_e_above_hull) &&
      (k->top_k || k->top_fraction > 0 || !isnan(k->max_energy_per_atom) || !isnan(k->max_above_best)))
    return ms_ynode_error(keep, path, "the hull stage keeps by max_e_above_hull_eV_per_atom only");
  const char *keys[16];
  ms_opts_keys(ms_keep_spec, keys, 16);
  MS_CALL(ms_ynode_check_unused(keep, path, keys));
  return MS_SUCCESS;
}

/* A model spec of the campaign: the name resolves and the options are valid. Every error of a
 * campaign is MS_ERR_INPUT, an unknown model name too. */
static ms_err check_model(const ms_model_spec *s) {
  ms_err e = ms_model_spec_check(s);
  return e == MS_ERR_UNKNOWN_TYPE ? MS_ERR_INPUT : e;
}

/* funnel[k].potential: the stages that evaluate energies may name their own model. */
static ms_err parse_stage_model(ms_campaign *c, ms_stage *st, const char *path) {
  st->model = c->model;
  st->has_model = 0;
  ms_ynode *pn = ms_ynode_get(st->node, "potential");
  if (!pn) return MS_SUCCESS;
  char sub[96];
  snprintf(sub, sizeof sub, "%s.potential", path);
  if (st->kind == MS_STAGE_HULL)
    return ms_ynode_error(pn, sub, "the hull compares the relax stage's energies, so its reference phases are "
                                   "relaxed with the relax stage's model: give potential: on the relax stage");
  if (!ms_stage_has_option(st->info, "potential"))
    return ms_ynode_error(pn, sub, "the %s stage evaluates no energies (potential: goes on single_point, "
                                   "surrogate or relax)", st->name);
  if (pn->type == MS_YNULL) return ms_ynode_error(pn, sub, "must be a model name or file, or a mapping {name: NAME, ...}");
  MS_CALL(ms_model_spec_from_yaml(pn, sub, &st->model));
  MS_CALL(check_model(&st->model));
  st->has_model = 1;
  return MS_SUCCESS;
}

static ms_err parse(ms_campaign *c) {
  ms_ynode *root = ms_ydoc_root(c->doc);
  if (root->type == MS_YNULL)
    MS_FAIL(MS_ERR_INPUT, "%s: the campaign file is empty", c->file);
  MS_CALL(ms_ynode_expect(root, MS_YMAP, "the campaign file"));
  /* Unknown top-level keys first: a misspelt section name would otherwise be reported as
   * the correct one missing, with no hint at the typo. */
  for (int k = 0; k < root->n; ++k) {
    const char *key = root->keys[k]->value ? root->keys[k]->value : "";
    int known = 0;
    for (int q = 0; top_keys[q]; ++q) known |= strcmp(key, top_keys[q]) == 0;
    if (known) continue;
    const char *hint = ms_suggest(key, top_keys);
    if (hint) return ms_ynode_error(root->keys[k], key, "unknown key (did you mean '%s'?)", hint);
    return ms_ynode_error(root->keys[k], key,
                          "unknown key (sections: campaign, potential, search, funnel, shortlist, lab_queue, lab_feedback)");
  }

  /* campaign: */
  ms_ynode *camp = NULL, *n;
  MS_CALL(get_map(root, "campaign", "campaign", 1, &camp));
  ms_opt_value cv[4];
  MS_CALL(ms_opts_read(camp, "campaign", ms_campaign_spec, cv));
  if (!cv[0].set) MS_CALL(ms_ynode_string(camp, "campaign.name", &c->name)); /* "must be a string" at the section */
  c->name = cv[0].s;
  if (!name_ok(c->name))
    return ms_ynode_error(ms_ynode_get(camp, "name"), "campaign.name",
                          "use letters, digits, '-', '_' and '.' only (it names files), got '%s'", c->name);
  if (!cv[1].set) return ms_ynode_error(camp, "campaign", "missing required key 'seed' (results must be reproducible)");
  c->seed = (uint64_t)cv[1].i;
  c->output = cv[2].set ? cv[2].s : NULL;
  if (!c->output) {
    snprintf(c->output_default, sizeof c->output_default, "%s.h5", c->name);
    c->output = c->output_default;
  }
  c->keep_rejected_rows = cv[3].choice == 0;
  const char *campaign_keys[8];
  ms_opts_keys(ms_campaign_spec, campaign_keys, 8);
  MS_CALL(ms_ynode_check_unused(camp, "campaign", campaign_keys));

  /* potential: NAME or {name: NAME, OPTION: VALUE, ...}; the options belong to the model's
   * family, which checks them (model.h) */
  ms_ynode *pot = ms_ynode_get(root, "potential");
  if (!pot || pot->type == MS_YNULL) return ms_ynode_error(root, "", "missing required key 'potential'");
  MS_CALL(ms_model_spec_from_yaml(pot, "potential", &c->model));
  MS_CALL(check_model(&c->model));
  c->potential = c->model.name;

  /* search: a non-empty list of generators */
  ms_ynode *search = ms_ynode_get(root, "search");
  if (!search || search->type == MS_YNULL)
    return ms_ynode_error(root, "", "missing required key 'search' (the generators of candidates)");
  MS_CALL(ms_ynode_expect(search, MS_YSEQ, "search"));
  if (search->n == 0) return ms_ynode_error(search, "search", "empty search space: give at least one generator");
  MS_CHECK(search->n <= MS_MAX_SEARCH, MS_ERR_INPUT, "%s:%d:%d: search: at most %d generators",
           search->file, search->line, search->col, MS_MAX_SEARCH);
  for (int k = 0; k < search->n; ++k) {
    char path[64];
    snprintf(path, sizeof path, "search[%d]", k);
    ms_ynode *it = search->items[k];
    MS_CALL(ms_ynode_expect(it, MS_YMAP, path));
    ms_ynode *g = ms_ynode_get(it, "generator");
    if (!g) return ms_ynode_error(it, path, "missing required key 'generator'");
    char gp[80];
    snprintf(gp, sizeof gp, "%s.generator", path);
    MS_CALL(ms_ynode_string(g, gp, &c->search[k].generator));
    c->search[k].node = it;
  }
  c->nsearch = search->n;

  /* funnel: stages in order, each known and at most once */
  ms_ynode *funnel = ms_ynode_get(root, "funnel");
  if (!funnel || funnel->type == MS_YNULL)
    return ms_ynode_error(root, "", "missing required key 'funnel' (the stages to run)");
  MS_CALL(ms_ynode_expect(funnel, MS_YSEQ, "funnel"));
  if (funnel->n == 0) return ms_ynode_error(funnel, "funnel", "no stages given");
  MS_CHECK(funnel->n <= MS_MAX_STAGES, MS_ERR_INPUT, "%s:%d:%d: funnel: at most %d stages",
           funnel->file, funnel->line, funnel->col, MS_MAX_STAGES);
  const ms_stage_info *given[MS_MAX_STAGES];
  char order[160];
  funnel_names_text(order, sizeof order);
  for (int k = 0; k < funnel->n; ++k) {
    char path[64];
    snprintf(path, sizeof path, "funnel[%d]", k);
    ms_ynode *it = funnel->items[k];
    MS_CALL(ms_ynode_expect(it, MS_YMAP, path));
    ms_ynode *sn = ms_ynode_get(it, "stage");
    if (!sn) return ms_ynode_error(it, path, "missing required key 'stage'");
    char sp[80];
    snprintf(sp, sizeof sp, "%s.stage", path);
    const char *name;
    MS_CALL(ms_ynode_string(sn, sp, &name));
    const ms_stage_info *info = ms_stage_find(name);
    if (info && info->section)
      return ms_ynode_error(sn, sp, "the %s is not a funnel item: configure it with the top-level '%s:' section",
                            name, info->section);
    if (!info) {
      const char *names[MS_STAGE_COUNT_ + 40];
      ms_stage_funnel_names(names, (int)(sizeof names / sizeof names[0]));
      const char *hint = ms_suggest(name, names);
      if (hint) return ms_ynode_error(sn, sp, "unknown stage '%s' (did you mean '%s'?)", name, hint);
      return ms_ynode_error(sn, sp, "unknown stage '%s' (stages: %s)", name, order);
    }
    for (int q = 0; q < k; ++q)
      if (given[q] == info) return ms_ynode_error(sn, sp, "stage '%s' appears twice", name);
    /* The stages given so far are in order, so the latest one that must follow this stage is
     * the one to name. */
    for (int q = k - 1; q >= 0; --q)
      if (ms_stage_comes_after(given[q], name))
        return ms_ynode_error(sn, sp, "stage '%s' must come before '%s' (order: %s)", name, given[q]->name, order);
    given[k] = info;
    int kind = (int)info->kind;
    ms_stage *st = &c->stage[k];
    st->kind = (ms_stage_kind)kind;
    st->info = info;
    st->name = info->name;
    st->node = it;
    char kp[80];
    snprintf(kp, sizeof kp, "%s.keep", path);
    ms_ynode *keep = ms_ynode_get(it, "keep");
    if (keep && !ms_stage_has_option(info, "keep"))
      return ms_ynode_error(keep, kp, "the %s stage has no keep rule (it keeps what passes)", name);
    MS_CALL(parse_keep(keep, kp, st));
    MS_CALL(parse_stage_model(c, st, path));
    if (kind == MS_STAGE_RELAX) note_tension(it, path);
  }
  c->nstages = funnel->n;

  /* shortlist: {size, acquisition} (the acquisition options are read by the shortlist stage) */
  MS_CALL(get_map(root, "shortlist", "shortlist", 0, &c->shortlist));
  c->shortlist_size = 0;
  if (c->shortlist && (n = ms_ynode_get(c->shortlist, "size"))) {
    long long v;
    MS_CALL(ms_ynode_int(n, "shortlist.size", &v));
    if (v < 1) return ms_ynode_error(n, "shortlist.size", "must be >= 1, got %lld", v);
    c->shortlist_size = v;
  }
  MS_CALL(get_map(root, "lab_queue", "lab_queue", 0, &c->lab_queue));
  MS_CALL(get_map(root, "lab_feedback", "lab_feedback", 0, &c->lab_feedback));
  MS_CALL(ms_ynode_check_unused(root, "", top_keys));
  return MS_SUCCESS;
}

ms_err ms_campaign_parse(const char *text, size_t len, const char *name, ms_campaign **out) {
  *out = NULL;
  ms_campaign *c = NULL;
  MS_CALL(MS_CALLOC(1, &c));
  c->text = malloc(len + 1);
  c->file = strdup(name);
  if (!c->text || !c->file) {
    ms_campaign_free(&c);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  memcpy(c->text, text, len);
  c->text[len] = '\0';
  ms_err e = ms_ydoc_parse(c->text, len, name, &c->doc);
  if (e == MS_ERR_YAML) e = MS_ERR_INPUT; /* a syntax error is bad input like any other */
  if (!e) e = parse(c);
  if (e) {
    ms_campaign_free(&c);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  *out = c;
  return MS_SUCCESS;
}

ms_err ms_campaign_load(MPI_Comm comm, const char *path, ms_campaign **out) {
  *out = NULL;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  char *text = NULL;
  size_t len = 0;
  ms_err e = rank == 0 ? ms_read_file(path, &text, &len) : MS_SUCCESS;
  MS_CALL(ms_err_agree(comm, e));
  unsigned long long l = len;
  MS_CALL_MPI(MPI_Bcast(&l, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
  if (rank != 0) {
    text = malloc((size_t)l + 1);
    e = text ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  e = ms_err_agree(comm, e);
  if (e) {
    free(text);
    return e;
  }
  /* Broadcast in pieces: MPI counts are ints. */
  for (unsigned long long off = 0; off < l; off += 1u << 30) {
    unsigned long long piece = l - off < (1u << 30) ? l - off : (1u << 30);
    MPI_Bcast(text + off, (int)piece, MPI_CHAR, 0, comm);
  }
  text[l] = '\0';
  e = ms_err_agree(comm, ms_campaign_parse(text, (size_t)l, path, out));
  free(text);
  if (e && *out) ms_campaign_free(out);
  return e;
}

char *ms_campaign_path(const ms_campaign *c, const char *p) {
  size_t np = strlen(p), nd = 0;
  if (p[0] != '/' && c->file && strrchr(c->file, '/')) nd = (size_t)(strrchr(c->file, '/') - c->file) + 1;
  char *out = malloc(nd + np + 1);
  if (!out) return NULL;
  memcpy(out, c->file, nd);
  memcpy(out + nd, p, np + 1);
  return out;
}

/* After ms_ynode_check_unused_all() reported "FILE:L:C: funnel[k].KEY: unknown key": the same
 * with the closest option of that stage, when KEY is a misspelt stage option. A misspelt key
 * was never read, so the generic check cannot suggest among the keys that were. */
static ms_err suggest_stage_key(ms_campaign *c, ms_err e) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", ms_err_message());
  for (int k = 0; k < c->nstages; ++k) {
    const ms_ynode *n = c->stage[k].node;
    for (int q = 0; n && n->type == MS_YMAP && q < n->n; ++q) {
      const ms_ynode *key = n->keys[q];
      if (!key->value) continue;
      char path[160], want[1024];
      snprintf(path, sizeof path, "funnel[%d].%s", k, key->value);
      snprintf(want, sizeof want, "%s:%d:%d: %s: unknown key", key->file, key->line, key->col, path);
      if (strcmp(msg, want) != 0) continue;
      const ms_stage_info *info = c->stage[k].info;
      const char *keys[64];
      keys[0] = "stage";
      ms_opts_keys(info ? info->options : NULL, keys + 1, 63);
      const char *hint = ms_suggest(key->value, keys);
      if (hint && strcmp(hint, key->value) != 0) {
        ms_err_clear();
        return ms_ynode_error(key, path, "unknown key (did you mean '%s'?)", hint);
      }
    }
  }
  return e;
}

ms_err ms_campaign_check_unused(ms_campaign *c) {
  ms_err e = ms_ynode_check_unused_all(ms_ydoc_root(c->doc), "");
  if (e) return suggest_stage_key(c, e);
  return MS_SUCCESS;
}

/* ---- resolved YAML (flow style for nested option nodes) ---------------------------------- */

typedef struct {
  char *s;
  size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *t) {
  size_t l = strlen(t);
  if (b->n + l + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap < b->n + l + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) return;
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->n, t, l + 1);
  b->n += l;
}

/* Whether @p v, written plain inside a flow collection, reads back as the same scalar. Plain
 * text that fails this is written double-quoted, which only changes how it reads when it is a
 * number or a boolean, and those always pass (digits, letters, '.', '+', '-'). */
static int plain_ok(const char *v) {
  size_t len = strlen(v);
  if (len == 0 || v[0] == ' ' || v[len - 1] == ' ') return 0;
  /* These read as null (yaml.c). */
  if (strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
      strcmp(v, "NULL") == 0)
    return 0;
  /* '?' starts a key in a flow collection; "- " a block sequence entry. A leading '-' before
   * anything else is plain text, and must stay plain: "-1.5" is a number. */
  if (v[0] == '?' || (v[0] == '-' && (v[1] == ' ' || v[1] == '\0'))) return 0;
  for (const unsigned char *p = (const unsigned char *)v; *p; ++p)
    if (*p < 0x20 || *p >= 0x7f || strchr(":#{}[],&*!|>'\"%@`\\", *p)) return 0;
  return 1;
}

/* Length of the UTF-8 sequence starting at @p s and its code point; 1 and the byte itself
 * when it is not a well-formed sequence (the text came through libyaml, so it is). */
static int utf8_next(const unsigned char *s, unsigned *cp) {
  int n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
  unsigned c = n == 1 ? s[0] : s[0] & (0x3f >> (n - 1));
  for (int k = 1; k < n; ++k) {
    if ((s[k] & 0xc0) != 0x80) {
      *cp = s[0];
      return 1;
    }
    c = (c << 6) | (s[k] & 0x3f);
  }
  *cp = c;
  return n;
}

/* Double-quoted scalar. Escapes what YAML would not read back verbatim inside double quotes:
 * the quote and backslash, control characters (libyaml refuses them raw), and the Unicode
 * line breaks and non-characters (a raw line break would be folded into a space). */
static void put_quoted(sbuf *b, const char *v) {
  put(b, "\"");
  for (const unsigned char *p = (const unsigned char *)v; *p;) {
    unsigned cp;
    int n = utf8_next(p, &cp);
    char one[16];
    if (cp == '"' || cp == '\\') {
      snprintf(one, sizeof one, "\\%c", (char)cp);
    } else if (cp == '\n') {
      snprintf(one, sizeof one, "\\n");
    } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      snprintf(one, sizeof one, "\\x%02x", cp);
    } else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff) {
      snprintf(one, sizeof one, "\\u%04x", cp);
    } else {
      memcpy(one, p, (size_t)n);
      one[n] = '\0';
    }
    put(b, one);
    p += n;
  }
  put(b, "\"");
}

/* A string value: plain when that reads back the same, else quoted. */
static void put_text(sbuf *b, const char *v) {
  if (plain_ok(v))
    put(b, v);
  else
    put_quoted(b, v);
}

static void put_scalar(sbuf *b, const ms_ynode *n) {
  if (!n || n->type == MS_YNULL) {
    put(b, "null");
    return;
  }
  /* A quoted scalar stays quoted: it is never a number or a boolean. */
  if (!n->quoted && plain_ok(n->value))
    put(b, n->value);
  else
    put_quoted(b, n->value);
}

static void put_flow(sbuf *b, const ms_ynode *n) {
  if (!n || n->type == MS_YNULL || n->type == MS_YSCALAR) {
    put_scalar(b, n);
  } else if (n->type == MS_YSEQ) {
    put(b, "[");
    for (int k = 0; k < n->n; ++k) {
      if (k) put(b, ", ");
      put_flow(b, n->items[k]);
    }
    put(b, "]");
  } else {
    put(b, "{");
    for (int k = 0; k < n->n; ++k) {
      if (k) put(b, ", ");
      put_scalar(b, n->keys[k]);
      put(b, ": ");
      put_flow(b, n->items[k]);
    }
    put(b, "}");
  }
}

/* A model with its options, defaults filled in by its family: {name: NAME, KEY: VALUE, ...};
 * the family's remark on a default goes to @p note (a comment only the caller can place). */
static void put_model(sbuf *b, const ms_model_spec *m, char *note, size_t nlen) {
  ms_model_settings st;
  note[0] = '\0';
  put(b, "{name: ");
  put_text(b, m->name);
  if (ms_model_spec_settings(m, &st) == MS_SUCCESS) {
    for (int k = 0; k < st.n; ++k) {
      put(b, ", ");
      put_text(b, st.key[k]);
      put(b, ": ");
      put_text(b, st.value[k]);
    }
    snprintf(note, nlen, "%s", st.note);
  } else {
    ms_err_clear(); /* checked when the campaign was parsed */
  }
  put(b, "}");
}

/* A stage as given, with its own model (if any) resolved like the campaign's. */
static void put_stage(sbuf *b, const ms_stage *st) {
  if (!st->has_model) {
    put_flow(b, st->node);
    return;
  }
  const ms_ynode *n = st->node;
  char note[96];
  put(b, "{");
  for (int k = 0; k < n->n; ++k) {
    if (k) put(b, ", ");
    put_scalar(b, n->keys[k]);
    put(b, ": ");
    if (n->keys[k]->value && strcmp(n->keys[k]->value, "potential") == 0)
      put_model(b, &st->model, note, sizeof note);
    else
      put_flow(b, n->items[k]);
  }
  put(b, "}");
}

char *ms_campaign_resolved_yaml(const ms_campaign *c) {
  sbuf b = {0};
  char line[64];
  put(&b, "# resolved by matscreen: defaults filled in\n");
  /* Values are written with put_text/put_quoted: the text must parse back to this campaign
   * (it is stored in the output as the record of what ran). */
  put(&b, "campaign: {name: ");
  put_text(&b, c->name);
  snprintf(line, sizeof line, ", seed: %llu, output: ", (unsigned long long)c->seed);
  put(&b, line);
  put_quoted(&b, c->output);
  put(&b, c->keep_rejected_rows ? ", keep_rejected: all}\n" : ", keep_rejected: counts}\n");
  put(&b, "potential: ");
  char note[96];
  put_model(&b, &c->model, note, sizeof note);
  if (note[0]) {
    put(&b, "  # ");
    put(&b, note);
  }
  put(&b, "\n");
  put(&b, "search:\n");
  for (int k = 0; k < c->nsearch; ++k) {
    put(&b, "  - ");
    put_flow(&b, c->search[k].node);
    put(&b, "\n");
  }
  put(&b, "funnel:\n");
  for (int k = 0; k < c->nstages; ++k) {
    put(&b, "  - ");
    put_stage(&b, &c->stage[k]);
    put(&b, "\n");
  }
  if (c->shortlist) {
    put(&b, "shortlist: ");
    put_flow(&b, c->shortlist);
    put(&b, "\n");
  }
  if (c->lab_feedback) {
    put(&b, "lab_feedback: ");
    put_flow(&b, c->lab_feedback);
    put(&b, "\n");
  }
  if (c->lab_queue) {
    put(&b, "lab_queue: ");
    put_flow(&b, c->lab_queue);
    put(&b, "\n");
  }
  return b.s;
}
