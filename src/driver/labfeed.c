/* The campaign's lab queue and lab feedback (see labfeed.h). */
#include "labfeed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/log.h"
#include "matscreen/output_schema.h"
#include "matscreen/yaml.h"

static ms_err read_database_key(const ms_campaign *c, ms_ynode *map, const char *path, char **out) {
  char p2[64];
  snprintf(p2, sizeof p2, "%s.database", path);
  ms_ynode *d = ms_ynode_get(map, "database");
  if (!d) return ms_ynode_error(map, path, "missing required key 'database' (the SQLite file of the lab queue)");
  const char *v;
  MS_CALL(ms_ynode_string(d, p2, &v));
  *out = ms_campaign_path(c, v);
  MS_CHECK(*out, MS_ERR_MEM, "out of memory");
  return MS_SUCCESS;
}

static ms_err parse(ms_campaign *c, ms_labfeed *lf) {
  if (c->lab_queue) {
    MS_CALL(read_database_key(c, c->lab_queue, "lab_queue", &lf->queue_db));
    ms_ynode *ex = ms_ynode_get(c->lab_queue, "export");
    if (ex) {
      MS_CALL(ms_ynode_expect(ex, MS_YSEQ, "lab_queue.export"));
      for (int k = 0; k < ex->n; ++k) {
        char p2[64];
        snprintf(p2, sizeof p2, "lab_queue.export[%d]", k);
        const char *name;
        MS_CALL(ms_ynode_string(ex->items[k], p2, &name));
        ms_labq_export_format fmt;
        if (ms_labq_export_format_parse(name, &fmt)) {
          ms_err_clear();
          return ms_ynode_error(ex->items[k], p2, "must be nimo, alabos, csv or json, got '%s'", name);
        }
        if (lf->nexports < 4) lf->exports[lf->nexports++] = (int)fmt;
      }
    }
    ms_ynode *h = ms_ynode_get(c->lab_queue, "heating");
    if (h) {
      MS_CALL(ms_ynode_expect(h, MS_YMAP, "lab_queue.heating"));
      double lo[2] = {0, 0}, hi[2] = {4000, 100000};
      const char *names[2] = {"temperature_C", "time_min"};
      double *dst[2] = {&lf->xo.heating_temperature_C, &lf->xo.heating_time_min};
      for (int k = 0; k < 2; ++k) {
        ms_ynode *v = ms_ynode_get(h, names[k]);
        if (!v) continue;
        char p2[64];
        snprintf(p2, sizeof p2, "lab_queue.heating.%s", names[k]);
        MS_CALL(ms_ynode_double(v, p2, dst[k]));
        if (!(*dst[k] > lo[k] && *dst[k] <= hi[k]))
          return ms_ynode_error(v, p2, "must be in (%g, %g] %s, got %g", lo[k], hi[k], k ? "minutes" : "degrees C", *dst[k]);
      }
      static const char *const hkeys[] = {"temperature_C", "time_min", NULL};
      MS_CALL(ms_ynode_check_unused(h, "lab_queue.heating", hkeys));
    }
    static const char *const keys[] = {"database", "export", "heating", NULL};
    MS_CALL(ms_ynode_check_unused(c->lab_queue, "lab_queue", keys));
  }
  if (c->lab_feedback) {
    MS_CALL(read_database_key(c, c->lab_feedback, "lab_feedback", &lf->feedback_db));
    static const char *const keys[] = {"database", NULL};
    MS_CALL(ms_ynode_check_unused(c->lab_feedback, "lab_feedback", keys));
    struct stat st;
    /* The same file as the lab queue: the first round has no feedback yet and creates the file
     * when it pushes its shortlist. Another file that does not exist is a mistake (a typo would
     * silently restart at round 1). */
    int same = lf->queue_db && strcmp(lf->queue_db, lf->feedback_db) == 0;
    if (!same && stat(lf->feedback_db, &st) != 0)
      return ms_ynode_error(ms_ynode_get(c->lab_feedback, "database"), "lab_feedback.database",
                            "no lab queue database '%s' (a lab_queue.database of the same name is created by the "
                            "first round; a separate feedback database must exist)",
                            lf->feedback_db);
  }
  return MS_SUCCESS;
}

/* Rank 0: tried ids, outcomes and the last round from the databases. */
static ms_err read_root(const ms_campaign *c, ms_labfeed *lf) {
  int64_t last = 0;
  const char *dbs[2] = {lf->feedback_db, lf->queue_db};
  for (int k = 0; k < 2; ++k) {
    struct stat st;
    if (!dbs[k] || stat(dbs[k], &st) != 0) continue;
    ms_labq q = NULL;
    MS_CALL(ms_labq_open(dbs[k], 0, &q));
    ms_labq_round_stats *rs = NULL;
    size_t nrs = 0;
    ms_err e = ms_labq_stats(q, c->name, &rs, &nrs);
    for (size_t r = 0; !e && r < nrs; ++r)
      if (rs[r].round > last) last = rs[r].round;
    ms_labq_stats_free(&rs, nrs);
    if (!e && dbs[k] == lf->feedback_db) {
      size_t n = 0;
      e = ms_labq_tried_ids(q, c->name, &lf->tried, &n);
      lf->ntried = (int64_t)n;
      if (!e) e = ms_labq_outcomes(q, c->name, &lf->results, &n);
      lf->nresults = (int64_t)n;
    }
    ms_labq_close(&q);
    MS_CALL(e);
  }
  lf->round = last + 1;
  return MS_SUCCESS;
}

ms_err ms__labfeed_setup(MPI_Comm comm, ms_campaign *c, ms_labfeed *lf) {
  memset(lf, 0, sizeof *lf);
  lf->round = 1;
  ms_labq_export_options_default(&lf->xo);
  MS_CALL(ms_err_agree(comm, parse(c, lf)));
  if ((c->lab_queue || c->lab_feedback) && !c->shortlist)
    return ms_ynode_error(c->lab_queue ? c->lab_queue : c->lab_feedback, c->lab_queue ? "lab_queue" : "lab_feedback",
                          "the lab queue takes the shortlist: add a shortlist section");
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  ms_err e = rank == 0 ? read_root(c, lf) : MS_SUCCESS;
  MS_CALL(ms_err_agree(comm, e));
  long long hdr[3] = {lf->round, lf->ntried, lf->nresults};
  MPI_Bcast(hdr, 3, MPI_LONG_LONG, 0, comm);
  lf->round = hdr[0];
  if (rank != 0) {
    lf->ntried = hdr[1];
    lf->nresults = hdr[2];
    lf->tried = malloc(((size_t)lf->ntried + 1) * sizeof *lf->tried);
    lf->results = malloc(((size_t)lf->nresults + 1) * sizeof *lf->results);
    e = lf->tried && lf->results ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  }
  MS_CALL(ms_err_agree(comm, e));
  if (lf->ntried) MPI_Bcast(lf->tried, (int)lf->ntried, MPI_INT64_T, 0, comm);
  if (lf->nresults) MPI_Bcast(lf->results, (int)(lf->nresults * (int64_t)sizeof *lf->results), MPI_BYTE, 0, comm);
  if (rank == 0 && lf->feedback_db)
    ms_log_info("lab feedback: round %lld; %lld candidates already have tickets, %lld results reported%s",
                (long long)lf->round, (long long)lf->ntried, (long long)lf->nresults,
                lf->round == 1 && lf->ntried == 0 ? " (first round: the queue is created when the shortlist is pushed)" : "");
  return MS_SUCCESS;
}

ms_err ms__labfeed_write(ms_labfeed *lf, ms_h5 f, int rank) {
  if (!lf->feedback_db) return MS_SUCCESS;
  int64_t n = rank == 0 ? lf->nresults : 0;
  int64_t *id = calloc((size_t)lf->nresults + 1, sizeof *id), *rd = calloc((size_t)lf->nresults + 1, sizeof *rd);
  double *pf = calloc((size_t)lf->nresults + 1, sizeof *pf);
  char *oc = calloc((size_t)lf->nresults + 1, MS_OUTW_LAB_OUTCOME);
  ms_err e = id && rd && pf && oc ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  for (int64_t k = 0; k < lf->nresults && !e; ++k) {
    id[k] = lf->results[k].candidate_id;
    rd[k] = lf->results[k].round;
    pf[k] = lf->results[k].phase_fraction;
    const char *o = ms_labq_outcome_name(lf->results[k].outcome);
    snprintf(oc + MS_OUTW_LAB_OUTCOME * k, MS_OUTW_LAB_OUTCOME, "%s", o ? o : "");
  }
  if (!e) e = ms_h5_write_int64(f, MS_OUT_PATH(LAB_CANDIDATE_ID), n, 1, id);
  if (!e) e = ms_h5_write_int64(f, MS_OUT_PATH(LAB_ROUND), n, 1, rd);
  if (!e) e = ms_h5_write_strings(f, MS_OUT_PATH(LAB_OUTCOME), n, MS_OUTW_LAB_OUTCOME, oc);
  if (!e) e = ms_h5_write_double(f, MS_OUT_PATH(LAB_PHASE_FRACTION), n, 1, pf, 0);
  if (!e) e = ms_h5_attr_str(f, MS_OUT_GROUP(LAB_ATTR_DATABASE), MS_OUT_NAME(LAB_ATTR_DATABASE), lf->feedback_db);
  if (!e) e = ms_h5_attr_int(f, MS_OUT_GROUP(LAB_ATTR_ROUND), MS_OUT_NAME(LAB_ATTR_ROUND), lf->round);
  if (!e) e = ms_h5_attr_int(f, MS_OUT_GROUP(LAB_ATTR_TRIED_CANDIDATES), MS_OUT_NAME(LAB_ATTR_TRIED_CANDIDATES), lf->ntried);
  if (!e)
    e = ms_h5_attr_str(f, MS_OUT_GROUP(LAB_ATTR_DESCRIPTION), MS_OUT_NAME(LAB_ATTR_DESCRIPTION),
                       "results the lab reported for this campaign's earlier rounds (lab_feedback); "
                       "candidates with a ticket in any state are not proposed again");
  free(id);
  free(rd);
  free(pf);
  free(oc);
  return e;
}

static const char *export_suffix(int fmt) {
  switch (fmt) {
    case MS_LABQ_EXPORT_NIMO: return ".nimo";
    case MS_LABQ_EXPORT_ALABOS: return ".alabos.json";
    case MS_LABQ_EXPORT_CSV: return ".tickets.csv";
    default: return ".tickets.json";
  }
}

static ms_err push_root(ms_labfeed *lf, const char *output) {
  ms_labq_ticket *t = NULL;
  size_t n = 0, n_new = 0;
  MS_CALL(ms_labq_read_shortlist(output, lf->round, &t, &n));
  ms_labq q = NULL;
  ms_err e = ms_labq_open(lf->queue_db, MS_LABQ_CREATE, &q);
  if (!e) e = ms_labq_push(q, t, n, &n_new);
  if (!e)
    ms_log_info("lab queue %s: pushed the shortlist of round %lld (%zu tickets, %zu new)", lf->queue_db,
                (long long)lf->round, n, n_new);
  const char *camp = n ? t[0].campaign : NULL;
  for (int k = 0; k < lf->nexports && !e; ++k) {
    size_t len = strlen(output);
    char *path = malloc(len + 16);
    if (!path) {
      e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
      break;
    }
    size_t base = len > 3 && strcmp(output + len - 3, ".h5") == 0 ? len - 3 : len;
    snprintf(path, len + 16, "%.*s%s", (int)base, output, export_suffix(lf->exports[k]));
    ms_labq_filter flt = {camp, 0};
    size_t nx = 0;
    e = ms_labq_export_with(q, (ms_labq_export_format)lf->exports[k], &flt, &lf->xo, path, &nx);
    if (!e) ms_log_info("lab queue export: %s (%zu tickets)", path, nx);
    free(path);
  }
  ms_labq_close(&q);
  ms_labq_tickets_free(&t, n);
  return e;
}

ms_err ms__labfeed_push(MPI_Comm comm, ms_labfeed *lf, const char *output) {
  if (!lf->queue_db) return MS_SUCCESS;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return ms_err_agree(comm, rank == 0 ? push_root(lf, output) : MS_SUCCESS);
}

void ms__labfeed_free(ms_labfeed *lf) {
  free(lf->queue_db);
  free(lf->feedback_db);
  free(lf->tried);
  free(lf->results);
  memset(lf, 0, sizeof *lf);
}
