/* libFuzzer target: the campaign parser (ms_campaign_parse) on arbitrary bytes, followed by
 * the part of `matscreen check` that an accepted campaign reaches without MPI: the search
 * space is created from the `search:` items (every generator validates its options), the
 * candidates are counted and the first and the last one are built and prefiltered with the
 * rules of a prefilter stage, and keys nobody read are reported.
 *
 * Random search is the exception: creating one tabulates the Wyckoff positions of every
 * allowed space group and tests which of them can hold each composition, which takes about
 * ten seconds per item under the sanitizers (a cost of legitimate input, not a hang: see
 * docs/fuzzing.md). Its items are created only when they restrict `spacegroups:` to a few
 * groups with few symmetry operations, and their candidates are built only with the default
 * attempt budget; the seeds in corpus/campaign include such items.
 *
 * Checked besides "no crash, leak, hang or undefined behaviour on any input":
 * - a failure always comes with a message (error.h: every error says what and where);
 * - the resolved YAML of an accepted campaign is itself a valid campaign with the same values
 *   (it is stored in the output as the record of what ran, so it must run again).
 *
 * No MPI_Init: ms_campaign_parse and everything called here are not collective (the
 * collective ms_campaign_load only adds a broadcast of the text), and leaving MPI out keeps
 * Open MPI's start-up allocations away from LeakSanitizer.
 * Build and run with scripts/fuzz.sh campaign SECONDS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/campaign.h"
#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/generator.h"
#include "matscreen/log.h"
#include "matscreen/prefilter.h"
#include "matscreen/species.h"
#include "matscreen/wyckoff.h"

#include "fuzz_base.h"


/* A failure without a message would reach the user as "error: " and nothing else. */
static void require_message(ms_err e, const char *what) {
  if (e != MS_SUCCESS && ms_err_message()[0] == '\0') {
    fprintf(stderr, "%s failed with %s but left no message\n", what, ms_err_name(e));
    abort();
  }
}

static void same_or_abort(int ok, const char *what, const char *resolved) {
  if (ok) return;
  fprintf(stderr, "resolved campaign differs in %s\n--- resolved ---\n%s\n", what, resolved);
  abort();
}

/* Two model specs resolve to the same name and settings. */
static int same_model(const ms_model_spec *a, const ms_model_spec *b) {
  ms_model_settings x, y;
  if (strcmp(a->name, b->name) != 0) return 0;
  if (ms_model_spec_settings(a, &x) || ms_model_spec_settings(b, &y)) return 0;
  if (x.n != y.n) return 0;
  for (int k = 0; k < x.n; ++k)
    if (strcmp(x.key[k], y.key[k]) || strcmp(x.value[k], y.value[k])) return 0;
  return 1;
}

/* The resolved text must parse again and give the same common values. */
static void check_resolved(const ms_campaign *c) {
  char *resolved = ms_campaign_resolved_yaml(c);
  if (!resolved) abort();
  ms_campaign *c2 = NULL;
  if (ms_campaign_parse(resolved, strlen(resolved), "resolved.yaml", &c2) != MS_SUCCESS) {
    fprintf(stderr, "the resolved campaign does not parse: %s\n--- resolved ---\n%s\n",
            ms_err_message(), resolved);
    abort();
  }
  same_or_abort(strcmp(c->name, c2->name) == 0, "name", resolved);
  same_or_abort(c->seed == c2->seed, "seed", resolved);
  same_or_abort(strcmp(c->output, c2->output) == 0, "output", resolved);
  same_or_abort(c->keep_rejected_rows == c2->keep_rejected_rows, "keep_rejected", resolved);
  same_or_abort(strcmp(c->potential, c2->potential) == 0, "potential", resolved);
  same_or_abort(same_model(&c->model, &c2->model), "potential (options)", resolved);
  same_or_abort(c->nsearch == c2->nsearch, "search", resolved);
  for (int k = 0; k < c->nsearch && k < c2->nsearch; ++k)
    same_or_abort(strcmp(c->search[k].generator, c2->search[k].generator) == 0,
                  "search[].generator", resolved);
  same_or_abort(c->nstages == c2->nstages, "funnel", resolved);
  for (int k = 0; k < c->nstages && k < c2->nstages; ++k) {
    const ms_keep_rule *a = &c->stage[k].keep, *b = &c2->stage[k].keep;
    same_or_abort(c->stage[k].kind == c2->stage[k].kind, "funnel[].stage", resolved);
    /* memcmp: NaN means "unset" and must stay NaN */
    same_or_abort(memcmp(a, b, sizeof *a) == 0, "funnel[].keep", resolved);
    same_or_abort(c->stage[k].has_model == c2->stage[k].has_model &&
                      same_model(&c->stage[k].model, &c2->stage[k].model),
                  "funnel[].potential", resolved);
  }
  same_or_abort(c->shortlist_size == c2->shortlist_size, "shortlist.size", resolved);
  same_or_abort(!c->shortlist == !c2->shortlist, "shortlist", resolved);
  same_or_abort(!c->lab_queue == !c2->lab_queue, "lab_queue", resolved);
  same_or_abort(!c->lab_feedback == !c2->lab_feedback, "lab_feedback", resolved);
  ms_campaign_free(&c2);
  free(resolved);
}

/* Prefilter of the campaign's prefilter stage, if it has one with rules. */
static ms_prefilter *make_prefilter(const ms_campaign *c) {
  for (int k = 0; k < c->nstages; ++k) {
    if (c->stage[k].kind != MS_STAGE_PREFILTER) continue;
    ms_ynode *rules = ms_ynode_get(c->stage[k].node, "rules");
    if (!rules) return NULL;
    ms_prefilter *pf = NULL;
    ms_err e = ms_prefilter_create(rules, "funnel[].rules", &pf);
    require_message(e, "ms_prefilter_create");
    return e == MS_SUCCESS ? pf : NULL;
  }
  return NULL;
}

static void build_candidate(ms_search s, int64_t id, const ms_prefilter *pf) {
  ms_cell cell;
  ms_cell_init(&cell);
  ms_candidate_info info;
  memset(&info, 0, sizeof info);
  ms_err e = ms_search_build(s, id, &cell, &info);
  require_message(e, "ms_search_build");
  if (e == MS_SUCCESS && info.status == MS_STATUS_OK && pf) {
    ms_prefilter_result res;
    require_message(ms_prefilter_check(pf, &cell, &res), "ms_prefilter_check");
  }
  ms_cell_free(&cell);
  ms_err_clear();
}

enum { MAX_RS_GROUPS = 4, MAX_RS_OPS = 96 };

/* Whether random_search item @p it is cheap enough to create (see the file comment): a few
 * listed space groups with few operations between them (the cost grows with the operations:
 * about 0.2 s for Pm-3m, 48 of them, and 0.8 s for Fm-3m, 192, under the sanitizers). A list
 * with an invalid entry is refused by the generator before any group is set up, so it is
 * cheap too. Only keys the generator reads anyway are looked up, so the "unused key" report
 * is unchanged. */
static int rs_cheap_to_create(ms_ynode *it) {
  ms_ynode *sl = ms_ynode_get(it, "spacegroups");
  if (!sl || sl->type == MS_YMAP) return 0;
  int n = sl->type == MS_YSEQ ? sl->n : 1, ops = 0;
  if (n > MAX_RS_GROUPS) return 0;
  for (int k = 0; k < n; ++k) {
    long long g = 0;
    ms_spacegroup sg;
    if (ms_ynode_int(sl->type == MS_YSEQ ? sl->items[k] : sl, "", &g) != MS_SUCCESS || g < 1 ||
        g > 230 || ms_spacegroup_load(ms_spacegroup_default_hall((int)g), &sg) != MS_SUCCESS) {
      ms_err_clear();
      return 1;
    }
    ops += sg.nops;
  }
  return ops <= MAX_RS_OPS;
}

static int rs_cheap_to_build(ms_ynode *it) { return ms_ynode_get(it, "max_attempts") == NULL; }

static int is_random_search(const ms_campaign *c, int k) {
  return strcmp(c->search[k].generator, "random_search") == 0;
}

static void explore(ms_campaign *c) {
  for (int k = 0; k < c->nsearch; ++k)
    if (is_random_search(c, k) && !rs_cheap_to_create(c->search[k].node)) return;
  ms_search s = NULL;
  ms_ynode *search = ms_ynode_get(ms_ydoc_root(c->doc), "search");
  ms_err e = ms_search_create(search, c->seed, NULL, &s);
  require_message(e, "ms_search_create");
  if (e != MS_SUCCESS) return;
  ms_prefilter *pf = make_prefilter(c);
  /* The first and the last candidate of every item. */
  for (int k = 0; k < ms_search_nitems(s); ++k) {
    if (is_random_search(c, k) && !rs_cheap_to_build(c->search[k].node)) continue;
    int64_t first = ms_search_offset(s, k), n = ms_search_offset(s, k + 1) - first;
    if (n > 0) build_candidate(s, first, pf);
    if (n > 1) build_candidate(s, first + n - 1, pf);
  }
  /* What `generate --count` prints, into memory. */
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  if (fp) {
    for (int k = 0; k < ms_search_nitems(s); ++k)
      require_message(ms_generator_describe(ms_search_generator(s, k), fp),
                      "ms_generator_describe");
    fclose(fp);
  }
  free(buf);
  require_message(ms_campaign_check_unused(c), "ms_campaign_check_unused");
  ms_prefilter_free(&pf);
  ms_search_destroy(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ms_campaign *c = NULL;
  ms_err e = ms_campaign_parse((const char *)data, size, "fuzz.yaml", &c);
  require_message(e, "ms_campaign_parse");
  if (e == MS_SUCCESS) {
    check_resolved(c);
    explore(c);
  } else if (c) {
    fprintf(stderr, "ms_campaign_parse failed but returned a campaign\n");
    abort();
  }
  ms_campaign_free(&c);
  ms_err_clear();
  return 0;
}
