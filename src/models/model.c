/* The energy-model interface (model.h): model specs, the registry of model families, and model
 * objects (a workspace on reference-counted shared data) dispatching to a family's ops.
 *
 * The registry is a constant table of the built-in family records (models.def) plus a short
 * list filled by ms_model_family_register() at start-up, as for generators. A name is resolved
 * by asking every family how sure it is that the name is one of its models; the surest wins
 * and ties go to the family listed first, so "dir/model.h5" goes to a family that recognises
 * HDF5 files even though any family could try to read a path.
 *
 * What is common to every family's compute stays here, in the order the rigid-ion model has
 * always done it: reset the result (keeping the forces pointer), zero the forces, the volume,
 * and the degenerate-cell check; ms_model_result_finish() is the common end the family calls. */
#include "matscreen/model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "model_impl.h"

/* ---- registry ------------------------------------------------------------------------------ */

#define MS_MODEL_FAMILY(name) &ms__model_family_##name,
static const ms_model_family *const builtin[] = {
#include "models.def"
};
#undef MS_MODEL_FAMILY
enum { NBUILTIN = sizeof builtin / sizeof builtin[0], MAX_EXTRA = 16, MAX_NAMES = 256 };

static const ms_model_family *extra[MAX_EXTRA];
static int nextra;

const ms_model_family *const *ms_model_family_list(int *count) {
  static _Thread_local const ms_model_family *list[NBUILTIN + MAX_EXTRA + 1];
  int n = 0;
  for (int k = 0; k < NBUILTIN; ++k) list[n++] = builtin[k];
  for (int k = 0; k < nextra; ++k) list[n++] = extra[k];
  list[n] = NULL;
  if (count) *count = n;
  return list;
}

const ms_model_family *ms_model_family_find(const char *name) {
  int n = 0;
  const ms_model_family *const *all = ms_model_family_list(&n);
  for (int k = 0; k < n; ++k)
    if (strcmp(all[k]->name, name) == 0) return all[k];
  return NULL;
}

/* The family (other than @p skip) that has @p name among its built-in models, or NULL. */
static const ms_model_family *builtin_owner(const char *name, const ms_model_family *skip) {
  int n = 0;
  const ms_model_family *const *all = ms_model_family_list(&n);
  for (int k = 0; k < n; ++k) {
    if (all[k] == skip) continue;
    int m = 0;
    const char *const *names = all[k]->builtin_names(&m);
    for (int q = 0; q < m; ++q)
      if (strcmp(names[q], name) == 0) return all[k];
  }
  return NULL;
}

ms_err ms_model_family_register(const ms_model_family *f) {
  const ms_model_ops *o = f ? f->ops : NULL;
  MS_CHECK(f && f->name && f->summary && f->builtin_names && f->claims && o && o->check &&
               o->settings && o->load && o->unload && o->ws_create && o->ws_free && o->compute &&
               o->covers,
           MS_ERR_ARG, "ms_model_family_register: incomplete model family record");
  MS_CHECK(!ms_model_family_find(f->name), MS_ERR_INPUT, "a model family named '%s' already exists",
           f->name);
  MS_CHECK(nextra < MAX_EXTRA, MS_ERR_INPUT, "at most %d registered model families", MAX_EXTRA);
  for (const ms_model_option_info *p = f->options; p && p->key; ++p)
    MS_CHECK(p->values && p->default_value && p->help, MS_ERR_ARG,
             "model family '%s': option '%s' lacks values, default or help", f->name, p->key);
  int m = 0;
  const char *const *names = f->builtin_names(&m);
  /* Copy: the listing of another family may reuse the same thread-local storage. */
  char mine[64][64];
  int nm = m < 64 ? m : 64;
  for (int q = 0; q < nm; ++q) snprintf(mine[q], sizeof mine[q], "%s", names[q]);
  for (int q = 0; q < nm; ++q) {
    const ms_model_family *other = builtin_owner(mine[q], f);
    MS_CHECK(!other, MS_ERR_INPUT, "model family '%s': built-in model '%s' already belongs to family '%s'",
             f->name, mine[q], other ? other->name : "");
  }
  extra[nextra++] = f;
  return MS_SUCCESS;
}

/* Every built-in model name of every family (copied), NULL-terminated. */
static int all_builtin_names(char (*store)[64], const char **names, int max) {
  int n = 0, nf = 0;
  const ms_model_family *const *fam = ms_model_family_list(&nf);
  for (int k = 0; k < nf; ++k) {
    int m = 0;
    const char *const *list = fam[k]->builtin_names(&m);
    for (int q = 0; q < m && n < max; ++q) {
      snprintf(store[n], 64, "%s", list[q]);
      names[n] = store[n];
      n++;
    }
  }
  names[n] = NULL;
  return n;
}

ms_err ms_model_family_resolve(const char *name, const ms_model_family **out) {
  *out = NULL;
  MS_CHECK(name && name[0], MS_ERR_INPUT, "empty model name");
  int nf = 0;
  const ms_model_family *const *fam = ms_model_family_list(&nf);
  ms_model_claim best = MS_MODEL_CLAIM_NO;
  for (int k = 0; k < nf; ++k) {
    ms_model_claim c = fam[k]->claims(name);
    if (c > best) {
      best = c;
      *out = fam[k];
    }
  }
  if (*out) return MS_SUCCESS;
  static _Thread_local char store[MAX_NAMES][64];
  const char *names[MAX_NAMES + 1];
  int n = all_builtin_names(store, names, MAX_NAMES);
  char list[1024] = "", files[512] = "";
  size_t used = 0, fused = 0;
  for (int k = 0; k < n; ++k) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
    if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
  }
  for (int k = 0; k < nf; ++k) {
    if (!fam[k]->files || !fam[k]->files[0]) continue;
    int w = snprintf(files + fused, sizeof files - fused, "%s%s: %s", fused ? "; " : "", fam[k]->name,
                     fam[k]->files);
    if (w > 0 && (size_t)w < sizeof files - fused) fused += (size_t)w;
  }
  const char *hint = ms_suggest(name, names);
  MS_FAIL(MS_ERR_UNKNOWN_TYPE, "unknown model '%s'%s%s%s; built-in models: %s%s%s", name,
          hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "", list,
          files[0] ? "; or the path of a model file: " : "", files);
}

/* ---- specs ----------------------------------------------------------------------------------- */

void ms_model_spec_init(ms_model_spec *s, const char *name, const char *where) {
  memset(s, 0, sizeof *s);
  s->name = name;
  snprintf(s->where, sizeof s->where, "%s", where ? where : "model");
}

ms_err ms_model_spec_add(ms_model_spec *s, const char *key, const char *value, const char *where) {
  MS_CHECK(s && key && value, MS_ERR_ARG, "ms_model_spec_add: NULL argument");
  for (int k = 0; k < s->nopt; ++k)
    if (strcmp(s->opt[k].key, key) == 0) { /* given again on the command line: the last wins */
      s->opt[k].value = value;
      snprintf(s->opt[k].where, sizeof s->opt[k].where, "%s", where ? where : key);
      return MS_SUCCESS;
    }
  MS_CHECK(s->nopt < MS_MODEL_MAX_OPTIONS, MS_ERR_INPUT, "%s: at most %d model options", s->where,
           MS_MODEL_MAX_OPTIONS);
  ms_model_option *o = &s->opt[s->nopt++];
  o->key = key;
  o->value = value;
  o->node = NULL;
  snprintf(o->where, sizeof o->where, "%s", where ? where : key);
  return MS_SUCCESS;
}

ms_err ms_model_spec_from_yaml(ms_ynode *node, const char *path, ms_model_spec *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->where, sizeof s->where, "%s", path);
  if (node && node->type == MS_YSCALAR) {
    s->name = node->value;
    s->node = node;
    return MS_SUCCESS;
  }
  if (!node || node->type != MS_YMAP)
    return ms_ynode_error(node, path, "must be a model name or file, or a mapping {name: NAME, OPTION: VALUE, ...}");
  ms_ynode *n = ms_ynode_get(node, "name");
  if (!n) return ms_ynode_error(node, path, "missing required key 'name'");
  char sub[128];
  snprintf(sub, sizeof sub, "%s.name", path);
  MS_CALL(ms_ynode_string(n, sub, &s->name));
  s->node = n;
  for (int k = 0; k < node->n; ++k) {
    const char *key = node->keys[k]->value ? node->keys[k]->value : "";
    if (strcmp(key, "name") == 0) continue;
    node->used[k] = 1; /* read here; the family checks the key */
    if (s->nopt == MS_MODEL_MAX_OPTIONS)
      return ms_ynode_error(node->keys[k], path, "at most %d model options", MS_MODEL_MAX_OPTIONS);
    ms_model_option *o = &s->opt[s->nopt];
    snprintf(o->where, sizeof o->where, "%s.%s", path, key);
    o->key = key;
    o->node = node->items[k];
    MS_CALL(ms_ynode_string(node->items[k], o->where, &o->value));
    s->nopt++;
  }
  return MS_SUCCESS;
}

const char *ms_model_spec_get(const ms_model_spec *s, const char *key) {
  for (int k = s->nopt - 1; k >= 0; --k)
    if (strcmp(s->opt[k].key, key) == 0) return s->opt[k].value;
  return NULL;
}

int ms_model_spec_equal(const ms_model_spec *a, const ms_model_spec *b) {
  if (strcmp(a->name, b->name) != 0) return 0;
  /* Compare what the options mean: `method: auto` given or left to its default is the same. */
  ms_model_settings x, y;
  if (ms_model_spec_settings(a, &x) != MS_SUCCESS || ms_model_spec_settings(b, &y) != MS_SUCCESS) {
    ms_err_clear();
    if (a->nopt != b->nopt) return 0;
    for (int k = 0; k < a->nopt; ++k)
      if (strcmp(a->opt[k].key, b->opt[k].key) != 0 || strcmp(a->opt[k].value, b->opt[k].value) != 0) return 0;
    return 1;
  }
  if (x.n != y.n) return 0;
  for (int k = 0; k < x.n; ++k)
    if (strcmp(x.key[k], y.key[k]) != 0 || strcmp(x.value[k], y.value[k]) != 0) return 0;
  return 1;
}

ms_err ms_model_option_error(const ms_model_option *o, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (o->node) return ms_ynode_error(o->node, o->where, "%s", msg);
  MS_FAIL(MS_ERR_INPUT, "%s: %s", o->where, msg);
}

ms_err ms_model_option_double(const ms_model_option *o, double *out) {
  if (o->node) return ms_ynode_double(o->node, o->where, out);
  char *end = NULL;
  errno = 0;
  double v = strtod(o->value, &end);
  if (end == o->value || *end != '\0' || errno == ERANGE || !isfinite(v))
    return ms_model_option_error(o, "must be a finite number, got '%s'", o->value);
  *out = v;
  return MS_SUCCESS;
}

ms_err ms_model_option_bool(const ms_model_option *o, int *out) {
  if (o->node) return ms_ynode_bool(o->node, o->where, out);
  static const char *const yes[] = {"true", "yes", "on", "1", NULL}, *const no[] = {"false", "no", "off", "0", NULL};
  for (int k = 0; yes[k]; ++k)
    if (strcmp(o->value, yes[k]) == 0) return *out = 1, MS_SUCCESS;
  for (int k = 0; no[k]; ++k)
    if (strcmp(o->value, no[k]) == 0) return *out = 0, MS_SUCCESS;
  return ms_model_option_error(o, "must be true or false, got '%s'", o->value);
}

/* The family of a spec, with a positioned message when the name is unknown. */
static ms_err spec_family(const ms_model_spec *s, const ms_model_family **f) {
  ms_err e = ms_model_family_resolve(s->name, f);
  if (!e) return MS_SUCCESS;
  char msg[1400];
  snprintf(msg, sizeof msg, "%s", ms_err_message());
  if (s->node) ms_ynode_error(s->node, s->where, "%s", msg);
  else ms__err_set(e, __FILE__, __LINE__, __func__, "%s: %s", s->where, msg);
  return e;
}

ms_err ms_model_spec_check(const ms_model_spec *s) {
  const ms_model_family *f = NULL;
  MS_CALL(spec_family(s, &f));
  /* Keys are checked here for every family, against its option table. */
  const char *keys[MS_MODEL_MAX_OPTIONS * 4 + 1];
  int nk = 0;
  char list[256] = "";
  size_t used = 0;
  for (const ms_model_option_info *p = f->options; p && p->key && nk < MS_MODEL_MAX_OPTIONS * 4; ++p) {
    keys[nk++] = p->key;
    int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", p->key);
    if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
  }
  keys[nk] = NULL;
  for (int k = 0; k < s->nopt; ++k) {
    const ms_model_option *o = &s->opt[k];
    int known = 0;
    for (int q = 0; q < nk; ++q) known |= strcmp(keys[q], o->key) == 0;
    if (known) continue;
    const char *hint = ms_suggest(o->key, keys);
    return ms_model_option_error(o, "unknown option of %s models%s%s%s; options: %s", f->name,
                                 hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "",
                                 nk ? list : "none");
  }
  MS_CALL(f->ops->check(s));
  return MS_SUCCESS;
}

ms_err ms_model_spec_settings(const ms_model_spec *s, ms_model_settings *out) {
  memset(out, 0, sizeof *out);
  const ms_model_family *f = NULL;
  MS_CALL(spec_family(s, &f));
  return f->ops->settings(s, out);
}

/* ---- models ------------------------------------------------------------------------------------ */

/* Loaded model data, shared by its workspaces. */
typedef struct {
  const ms_model_family *family;
  void *data;
  ms_model_about about;
  atomic_int refs;
} shared_data;

struct ms_model_s {
  shared_data *sh;
  void *ws;
};

static void shared_release(shared_data *sh) {
  if (!sh) return;
  if (atomic_fetch_sub(&sh->refs, 1) == 1) {
    sh->family->ops->unload(sh->data);
    free(sh);
  }
}

/* A new workspace on @p sh (one more reference). */
static ms_err workspace(shared_data *sh, ms_model *out) {
  *out = NULL;
  ms_model m = calloc(1, sizeof *m);
  MS_CHECK(m, MS_ERR_MEM, "out of memory");
  ms_err e = sh->family->ops->ws_create(sh->data, &m->ws);
  if (e) {
    free(m);
    return ms__err_push(e, __FILE__, __LINE__, __func__);
  }
  atomic_fetch_add(&sh->refs, 1);
  m->sh = sh;
  *out = m;
  return MS_SUCCESS;
}

ms_err ms__model_wrap(const ms_model_family *f, void *data, const ms_model_about *about, ms_model *out) {
  *out = NULL;
  shared_data *sh = calloc(1, sizeof *sh);
  if (!sh) {
    f->ops->unload(data);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  sh->family = f;
  sh->data = data;
  sh->about = *about;
  atomic_init(&sh->refs, 1); /* held by this call until the first workspace exists */
  ms_err e = workspace(sh, out);
  shared_release(sh);
  return e;
}

ms_err ms_model_create_spec(const ms_model_spec *spec, ms_model *out) {
  *out = NULL;
  MS_CHECK(spec && spec->name, MS_ERR_ARG, "ms_model_create_spec: no model given");
  MS_CALL(ms_model_spec_check(spec));
  const ms_model_family *f = NULL;
  MS_CALL(spec_family(spec, &f));
  void *data = NULL;
  ms_model_about about;
  memset(&about, 0, sizeof about);
  ms_err e = f->ops->load(spec, &data, &about);
  if ((e == MS_ERR_INPUT || e == MS_ERR_FILE) && spec->node) {
    /* Point at the spec as well as at the model's own problem. */
    char msg[1400];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    ms_ynode_error(spec->node, spec->where, "%s", msg);
    return e;
  }
  MS_CALL(e);
  /* A family fills these with strings its data own; a spec's strings may not outlive the call. */
  if (!about.name) about.name = f->name;
  if (!about.description) about.description = "";
  if (!about.citation) about.citation = "";
  if (!about.source) about.source = "";
  return ms__model_wrap(f, data, &about, out);
}

ms_err ms_model_clone(const ms_model m, ms_model *out) {
  *out = NULL;
  MS_CHECK(m, MS_ERR_ARG, "ms_model_clone: no model given");
  return workspace(m->sh, out);
}

void ms_model_destroy(ms_model *mp) {
  if (!mp || !*mp) return;
  ms_model m = *mp;
  m->sh->family->ops->ws_free(m->ws);
  shared_release(m->sh);
  free(m);
  *mp = NULL;
}

const ms_model_family *ms__model_family(const ms_model m) { return m->sh->family; }
const void *ms__model_data(const ms_model m) { return m->sh->data; }

const char *ms_model_name(const ms_model m) { return m->sh->about.name; }
const char *ms_model_description(const ms_model m) { return m->sh->about.description; }
const char *ms_model_citation(const ms_model m) { return m->sh->about.citation; }
const char *ms_model_source(const ms_model m) { return m->sh->about.source; }
const char *ms_model_family_name(const ms_model m) { return m->sh->family->name; }
int ms_model_needs_oxidation_states(const ms_model m) { return m->sh->about.needs_oxidation_states; }
int ms_model_has_elemental_energies(const ms_model m) { return m->sh->about.elemental_energies; }
double ms_model_cutoff(const ms_model m) { return m->sh->about.cutoff; }

int ms_model_covers(const ms_model m, const ms_species *sp, char *reason, size_t len) {
  char tmp[8];
  return m->sh->family->ops->covers(m->sh->data, sp, reason ? reason : tmp, reason ? len : sizeof tmp);
}

double ms_model_min_distance(const ms_model m, const ms_species *a, const ms_species *b) {
  const ms_model_ops *o = m->sh->family->ops;
  return o->min_distance ? o->min_distance(m->sh->data, a, b) : 0.0;
}

int ms_model_species(const ms_model m, int k, ms_species *sp, const char **label, double *charge) {
  const ms_model_ops *o = m->sh->family->ops;
  return o->species ? o->species(m->sh->data, k, sp, label, charge) : 0;
}

ms_err ms_model_describe(const ms_model m, FILE *fp) {
  const ms_model_ops *o = m->sh->family->ops;
  if (o->describe) return o->describe(m->sh->data, fp);
  const ms_model_about *a = &m->sh->about;
  fprintf(fp, "%s (%s model, from %s)\n\n%s\n", a->name, m->sh->family->name, a->source, a->description);
  if (a->citation[0]) fprintf(fp, "\nReference: %s\n", a->citation);
  return MS_SUCCESS;
}

/* ---- evaluation -------------------------------------------------------------------------------- */

void ms_model_stress_from_W(const double W[3][3], double volume, double s[6]) {
  double f = MS_EV_PER_A3_IN_GPA / volume;
  s[0] = W[0][0] * f;
  s[1] = W[1][1] * f;
  s[2] = W[2][2] * f;
  s[3] = 0.5 * (W[1][2] + W[2][1]) * f;
  s[4] = 0.5 * (W[0][2] + W[2][0]) * f;
  s[5] = 0.5 * (W[0][1] + W[1][0]) * f;
}

void ms_model_result_finish(ms_model_result *res, int natoms, unsigned flags) {
  if (flags & MS_MODEL_STRESS) ms_model_stress_from_W(res->W, res->volume, res->stress_GPa);
  /* Last line of defence: nothing non-finite leaves a compute as an "ok" result. */
  int finite = isfinite(res->energy);
  if (res->forces)
    for (int i = 0; i < natoms && finite; ++i)
      finite = isfinite(res->forces[i][0]) && isfinite(res->forces[i][1]) && isfinite(res->forces[i][2]);
  for (int a = 0; a < 3 && finite; ++a)
    for (int b = 0; b < 3; ++b) finite = finite && isfinite(res->W[a][b]);
  if (!finite && res->status == MS_STATUS_OK) {
    res->status = MS_STATUS_NAN;
    snprintf(res->detail, sizeof res->detail, "%s", "energy, forces or stress not finite");
  }
}

ms_err ms_model_compute(ms_model m, const ms_cell *c, unsigned flags, ms_model_result *res) {
  double (*forces)[3] = res->forces;
  memset(res, 0, sizeof *res);
  res->forces = (flags & MS_MODEL_FORCES) ? forces : NULL;
  MS_CHECK(!(flags & MS_MODEL_FORCES) || forces, MS_ERR_ARG, "forces requested without an array");
  res->volume = ms_cell_volume(c);
  if (res->forces) memset(res->forces, 0, sizeof(double[3]) * (size_t)c->natoms);

  /* A degenerate cell or non-finite coordinates are a property of this structure. */
  if (ms_cell_validate(c) != MS_SUCCESS) {
    res->status = MS_STATUS_BAD_CELL;
    snprintf(res->detail, sizeof res->detail, "%s", ms_err_message());
    ms_err_clear();
    res->energy = res->e_coulomb = res->e_short = NAN;
    return MS_SUCCESS;
  }
  return m->sh->family->ops->compute(m->ws, c, flags, res);
}
