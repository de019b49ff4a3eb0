/* The shortlist stage of the funnel (docs/shortlist.md): after the hull, choose what the lab
 * should try next among the hull survivors (ms_shortlist_select, identical on every rank) and
 * write /shortlist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel_impl.h"
#include "stage_spec.h"
#include "matscreen/output_schema.h"
#include "matscreen/shortlist.h"

/* The campaign's shortlist section: options, the novelty path relative to the campaign file,
 * the known-structure set (loaded on every rank: every rank runs the same selection). */
typedef struct {
  int item;
  ms_shortlist_options slopt;
  ms_known_set *known;
  sl_row *sl;             /* the picks (every rank), priority order */
  int64_t nsl;
} sl_state;

static void sl_destroy(void *state) {
  sl_state *s = state;
  if (!s) return;
  ms_shortlist_options_free(&s->slopt);
  ms_known_set_free(&s->known);
  free(s->sl);
  free(s);
}

static ms_err sl_create(ms_run *x, const ms_stage *item, const char *path, void **state) {
  (void)item;
  (void)path;
  ms_campaign *c = x->camp;
  sl_state *s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->item = x->nitems; /* a section stage: after the funnel items */
  *state = s;
  MS_CALL(ms_shortlist_parse(c->shortlist, "shortlist", &s->slopt));
  s->slopt.seed = c->seed;
  if (!x->st[MS_STAGE_HULL].present)
    return ms_ynode_error(c->shortlist, "shortlist",
                          "the shortlist ranks candidates by their energy above the hull: add a hull stage to the funnel");
  if (s->slopt.novelty_set) {
    char *p = ms_campaign_path(c, s->slopt.novelty_set);
    MS_CHECK(p, MS_ERR_MEM, "out of memory");
    free((char *)s->slopt.novelty_set);
    s->slopt.novelty_set = p;
  }
  if (s->slopt.novelty_set) {
    ms_err e = ms_known_set_load(s->slopt.novelty_set, &s->known);
    if (e) {
      char msg[900];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      ms_ynode *nv = ms_ynode_get(c->shortlist, "novelty");
      return ms_ynode_error(nv ? nv : c->shortlist, "shortlist.novelty", "%s", msg);
    }
    s->slopt.known = s->known;
  }
  return MS_SUCCESS;
}

/* Gather the hull survivors (rout[k].kept) with their structures on every rank and choose the
 * shortlist; every rank gets the same picks, rank 0 keeps the rows for the output. */
static ms_err sl_run(void *state, ms_run *x, int *stopped) {
  sl_state *s = state;
  *stopped = 0;
  const relax_out *rout = x->rout;
  int64_t nrout = x->nrout;
  const bytes *structs = &x->structs;
  ms_funnel_stage_stats *ss = ms__fn_stats(x, s->item);
  double t0 = MPI_Wtime();
  bytes mine = {0};
  size_t p = 0;
  ms_err e = MS_SUCCESS;
  for (int64_t k = 0; k < nrout && !e; ++k) {
    if (rout[k].status != MS_STATUS_CONVERGED) continue;
    const sheader *h = (const sheader *)(structs->b + p);
    size_t len = sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
    if (rout[k].kept) {
      e = ms__fn_bytes_put(&mine, &rout[k], sizeof(relax_out));
      if (!e) e = ms__fn_bytes_put(&mine, structs->b + p, len);
    }
    p += len;
  }
  e = ms_err_agree(x->comm, e);
  char *all = NULL;
  size_t total = 0;
  if (!e) e = ms__comm_allgather_bytes(x->comm, mine.b, mine.n, &all, &total);
  free(mine.b);
  int64_t m = 0;
  for (size_t q = 0; !e && q < total; ++m) {
    const sheader *h = (const sheader *)(all + q + sizeof(relax_out));
    q += sizeof(relax_out) + sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
  }
  ms_shortlist_entry *en = calloc((size_t)m + 1, sizeof *en);
  ms_cell *cells = calloc((size_t)m + 1, sizeof *cells);
  const relax_out **ro = calloc((size_t)m + 1, sizeof *ro);
  if (!e && (!en || !cells || !ro)) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  size_t q = 0;
  for (int64_t k = 0; k < m && !e; ++k) {
    ro[k] = (const relax_out *)(all + q);
    const sheader *h = (const sheader *)(all + q + sizeof(relax_out));
    q += sizeof(relax_out) + sizeof(sheader) + (size_t)h->natoms * sizeof(ssite);
    ms_cell_init(&cells[k]);
    e = ms__fn_unpack_cell(h, &cells[k]);
    en[k] = (ms_shortlist_entry){ro[k]->id, ro[k]->e_above_hull, 0.0, ro[k]->formula, ro[k]->prototype,
                                 &cells[k], ro[k]->spacegroup};
  }
  ms_shortlist_pick *picks = NULL;
  size_t np = 0;
  const int64_t *excl = s->slopt.exclude_tried ? x->lab.tried : NULL;
  size_t nexcl = s->slopt.exclude_tried ? (size_t)x->lab.ntried : 0;
  if (!e) e = ms_shortlist_select(&s->slopt, en, (size_t)m, excl, nexcl, &picks, &np);
  e = ms_err_agree(x->comm, e);
  if (!e) {
    s->sl = calloc(np + 1, sizeof *s->sl);
    e = ms_err_agree(x->comm, s->sl ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  }
  for (size_t k = 0; k < np && !e; ++k) {
    const relax_out *o = NULL;
    for (int64_t j = 0; j < m; ++j)
      if (ro[j]->id == picks[k].id) o = ro[j];
    s->sl[k].pick = picks[k];
    if (o) s->sl[k].o = *o;
  }
  if (!e) s->nsl = (int64_t)np;
  for (int64_t k = 0; k < m; ++k) ms_cell_free(&cells[k]);
  free(cells);
  free(en);
  free(ro);
  free(all);
  free(picks);
  ss->in = m;
  ss->out = s->nsl;
  ss->cpu_s = ss->wall_s = MPI_Wtime() - t0;
  return e;
}

/* /shortlist: one row per pick in priority order (rows from rank 0). */
static ms_err sl_write(void *state, ms_run *x, ms_h5 f) {
  sl_state *s = state;
  int64_t n = x->rank == 0 ? s->nsl : 0;
  int64_t *id = calloc((size_t)s->nsl + 1, sizeof *id);
  int32_t *prio = calloc((size_t)s->nsl + 1, sizeof *prio), *sg = calloc((size_t)s->nsl + 1, sizeof *sg);
  double *score = calloc((size_t)s->nsl + 1, sizeof *score), *eh = calloc((size_t)s->nsl + 1, sizeof *eh);
  double *sig = calloc((size_t)s->nsl + 1, sizeof *sig);
  char *fo = calloc((size_t)s->nsl + 1, MS_OUTW_SL_FORMULA), *pr = calloc((size_t)s->nsl + 1, MS_OUTW_SL_PROTOTYPE);
  char *dec = calloc((size_t)s->nsl + 1, MS_OUTW_SL_DECOMPOSITION), *nov = calloc((size_t)s->nsl + 1, MS_OUTW_SL_NOVELTY);
  char *km = calloc((size_t)s->nsl + 1, MS_OUTW_SL_KNOWN_MATCH);
  ms_err e = MS_SUCCESS;
  if (!id || !prio || !sg || !score || !eh || !sig || !fo || !pr || !dec || !nov || !km)
    e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(x->comm, e);
  for (int64_t k = 0; k < s->nsl && !e; ++k) {
    const sl_row *r = &s->sl[k];
    id[k] = r->pick.id;
    prio[k] = r->pick.priority;
    score[k] = r->pick.score;
    eh[k] = r->o.e_above_hull;
    sig[k] = 0.0;
    sg[k] = r->o.spacegroup;
    ms__fn_put_str(fo + MS_OUTW_SL_FORMULA * k, MS_OUTW_SL_FORMULA, r->o.formula);
    ms__fn_put_str(pr + MS_OUTW_SL_PROTOTYPE * k, MS_OUTW_SL_PROTOTYPE, r->o.prototype);
    ms__fn_put_str(dec + MS_OUTW_SL_DECOMPOSITION * k, MS_OUTW_SL_DECOMPOSITION, r->o.decomposition);
    ms__fn_put_str(nov + MS_OUTW_SL_NOVELTY * k, MS_OUTW_SL_NOVELTY, r->pick.novelty);
    ms__fn_put_str(km + MS_OUTW_SL_KNOWN_MATCH * k, MS_OUTW_SL_KNOWN_MATCH, r->pick.known_match);
  }
  MS__W(ms_h5_write_int64(f, MS_OUT_PATH(SL_CANDIDATE_ID), n, 1, id));
  MS__W(ms_h5_write_int32(f, MS_OUT_PATH(SL_PRIORITY), n, 1, prio));
  MS__W(ms_h5_write_double(f, MS_OUT_PATH(SL_SCORE), n, 1, score, 0));
  MS__W(ms_h5_write_double(f, MS_OUT_PATH(SL_E_ABOVE_HULL), n, 1, eh, 0));
  MS__W(ms_h5_write_double(f, MS_OUT_PATH(SL_UNCERTAINTY), n, 1, sig, 0));
  MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SL_FORMULA), n, MS_OUTW_SL_FORMULA, fo));
  MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SL_PROTOTYPE), n, MS_OUTW_SL_PROTOTYPE, pr));
  MS__W(ms_h5_write_int32(f, MS_OUT_PATH(SL_SPACEGROUP), n, 1, sg));
  MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SL_DECOMPOSITION), n, MS_OUTW_SL_DECOMPOSITION, dec));
  MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SL_NOVELTY), n, MS_OUTW_SL_NOVELTY, nov));
  MS__W(ms_h5_write_strings(f, MS_OUT_PATH(SL_KNOWN_MATCH), n, MS_OUTW_SL_KNOWN_MATCH, km));
  MS__W(ms_h5_attr_int(f, MS_OUT_GROUP(SL_ATTR_ROUND), MS_OUT_NAME(SL_ATTR_ROUND), x->round));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(SL_ATTR_ACQUISITION), MS_OUT_NAME(SL_ATTR_ACQUISITION), ms_acquisition_name(s->slopt.kind)));
  MS__W(ms_h5_attr_str(f, MS_OUT_GROUP(SL_ATTR_DESCRIPTION), MS_OUT_NAME(SL_ATTR_DESCRIPTION),
                   "candidates for the lab in priority order (1 = first); score: acquisition score "
                   "(higher is better, docs/shortlist.md); uncertainty 0 until a surrogate provides one"));
  free(id);
  free(prio);
  free(sg);
  free(score);
  free(eh);
  free(sig);
  free(fo);
  free(pr);
  free(dec);
  free(nov);
  free(km);
  return e;
}

static const ms_stage_ops shortlist_ops = {
    .create = sl_create,
    .destroy = sl_destroy,
    .run = sl_run,
    .write = sl_write,
};

/* ---- the record (configured by the top-level `shortlist:` section; docs/shortlist.md) -------- */


static const char *const needs_hull[] = {"hull", NULL};
static const char *const after_all[] = {"prefilter", "single_point", "surrogate", "relax", "dedup", NULL};

const ms_stage_info ms__stage_shortlist = {
    .name = "shortlist",
    .summary = "choose what the lab should try next among the hull's survivors",
    .shape = MS_STAGE_SHAPE_COLLECTIVE,
    .kind = MS_STAGE_COUNT_,
    .after = after_all,
    .needs = needs_hull,
    .section = "shortlist",
    .input = "the hull's survivors with their structures (and the lab queue's tried candidates)",
    .output = "/shortlist; the lab queue's tickets",
    .options = ms_shortlist_spec,
    .ops = &shortlist_ops,
};

