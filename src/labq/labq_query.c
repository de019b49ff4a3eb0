/* Lab queue: read-only queries (listing, per-round statistics, and the feedback the next
 * screening round reads: which candidates were tried and what the lab found). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "labq_impl.h"

/* Prepare @p sql (with an optional campaign bound to ?1). */
static ms_err prepare_campaign(ms_labq q, const char *sql, const char *campaign, sqlite3_stmt **st) {
  MS_CALL(ms__labq_prepare(q, sql, st));
  if (campaign) {
    int rc = sqlite3_bind_text(*st, 1, campaign, -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(*st);
      *st = NULL;
      MS_LABQ_SQL(q, rc, "binding the campaign");
    }
  }
  return MS_SUCCESS;
}

/* Make room for one more element of @p size bytes in a growable array. */
static ms_err grow(void *arr, size_t n, size_t *cap, size_t size) {
  if (n < *cap) return MS_SUCCESS;
  size_t c = *cap ? 2 * *cap : 16;
  void *p = realloc(*(void **)arr, c * size);
  MS_CHECK(p, MS_ERR_MEM, "out of memory (%zu queue rows)", c);
  *(void **)arr = p;
  *cap = c;
  return MS_SUCCESS;
}

ms_err ms_labq_list(ms_labq q, const ms_labq_filter *f, ms_labq_ticket **out, size_t *n) {
  MS_CHECK(q && out && n, MS_ERR_ARG, "ms_labq_list: NULL argument");
  *out = NULL;
  *n = 0;
  char where[256], sql[1024];
  ms__labq_filter_sql(f, where, sizeof where);
  snprintf(sql, sizeof sql, "SELECT " MS__LABQ_TICKET_COLUMNS " FROM tickets%s ORDER BY id", where);
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, sql, &st));
  ms_err e = ms__labq_filter_bind(q, st, f);
  ms_labq_ticket *t = NULL;
  size_t cnt = 0, cap = 0;
  int rc = SQLITE_OK;
  while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    e = grow(&t, cnt, &cap, sizeof *t);
    if (!e) e = ms__labq_row_ticket(st, &t[cnt]);
    if (!e) ++cnt;
  }
  if (!e && rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "listing tickets", __FILE__, __LINE__, __func__);
  sqlite3_finalize(st);
  if (e) {
    ms_labq_tickets_free(&t, cnt);
    return e;
  }
  *out = t;
  *n = cnt;
  return MS_SUCCESS;
}

ms_err ms_labq_stats(ms_labq q, const char *campaign, ms_labq_round_stats **out, size_t *n) {
  MS_CHECK(q && out && n, MS_ERR_ARG, "ms_labq_stats: NULL argument");
  *out = NULL;
  *n = 0;
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT campaign, round, count(*), "
           "sum(status = 'queued'), sum(status = 'claimed'), sum(claims > 0), sum(status = 'done'), "
           "sum(status = 'failed'), sum(status = 'expired'), sum(outcome = 'success'), "
           "sum(outcome = 'partial'), sum(outcome = 'failure') "
           "FROM tickets%s GROUP BY campaign, round ORDER BY campaign, round",
           campaign ? " WHERE campaign = ?1" : "");
  sqlite3_stmt *st = NULL;
  MS_CALL(prepare_campaign(q, sql, campaign, &st));
  ms_labq_round_stats *s = NULL;
  size_t cnt = 0, cap = 0;
  ms_err e = MS_SUCCESS;
  int rc = SQLITE_DONE;
  while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    e = grow(&s, cnt, &cap, sizeof *s);
    if (e) break;
    ms_labq_round_stats *r = &s[cnt];
    memset(r, 0, sizeof *r);
    r->campaign = strdup((const char *)sqlite3_column_text(st, 0));
    if (!r->campaign) {
      e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
      break;
    }
    ++cnt;
    r->round = sqlite3_column_int64(st, 1);
    int64_t *v[] = {&r->pushed, &r->queued,  &r->in_progress, &r->claimed, &r->done,   &r->failed,
                    &r->expired, &r->success, &r->partial,     &r->failure};
    for (int k = 0; k < 10; ++k) *v[k] = sqlite3_column_int64(st, 2 + k); /* sum() of nothing: NULL -> 0 */
    int64_t reported = r->success + r->partial + r->failure;
    r->hit_rate = reported ? (double)r->success / (double)reported : NAN;
  }
  if (!e && rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "counting tickets", __FILE__, __LINE__, __func__);
  sqlite3_finalize(st);
  if (e) {
    ms_labq_stats_free(&s, cnt);
    return e;
  }
  *out = s;
  *n = cnt;
  return MS_SUCCESS;
}

void ms_labq_stats_free(ms_labq_round_stats **s, size_t n) {
  if (!s || !*s) return;
  for (size_t k = 0; k < n; ++k) free((*s)[k].campaign);
  free(*s);
  *s = NULL;
}

ms_err ms_labq_tried_ids(ms_labq q, const char *campaign, int64_t **ids, size_t *n) {
  MS_CHECK(q && campaign && ids && n, MS_ERR_ARG, "ms_labq_tried_ids: NULL argument");
  *ids = NULL;
  *n = 0;
  sqlite3_stmt *st = NULL;
  MS_CALL(prepare_campaign(q, "SELECT candidate_id FROM tickets WHERE campaign = ?1 ORDER BY candidate_id",
                           campaign, &st));
  int64_t *v = NULL;
  size_t cnt = 0, cap = 0;
  ms_err e = MS_SUCCESS;
  int rc = SQLITE_DONE;
  while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    e = grow(&v, cnt, &cap, sizeof *v);
    if (!e) v[cnt++] = sqlite3_column_int64(st, 0);
  }
  if (!e && rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "listing tried candidates", __FILE__, __LINE__, __func__);
  sqlite3_finalize(st);
  if (e) {
    free(v);
    return e;
  }
  *ids = v;
  *n = cnt;
  return MS_SUCCESS;
}

ms_err ms_labq_outcomes(ms_labq q, const char *campaign, ms_labq_result **out, size_t *n) {
  MS_CHECK(q && campaign && out && n, MS_ERR_ARG, "ms_labq_outcomes: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *st = NULL;
  MS_CALL(prepare_campaign(q,
                           "SELECT candidate_id, round, outcome, phase_fraction, reported_at FROM tickets "
                           "WHERE campaign = ?1 AND status IN ('done', 'failed') ORDER BY candidate_id",
                           campaign, &st));
  ms_labq_result *v = NULL;
  size_t cnt = 0, cap = 0;
  ms_err e = MS_SUCCESS;
  int rc = SQLITE_DONE;
  while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    e = grow(&v, cnt, &cap, sizeof *v);
    if (e) break;
    ms_labq_result *r = &v[cnt];
    r->candidate_id = sqlite3_column_int64(st, 0);
    r->round = sqlite3_column_int64(st, 1);
    e = ms_labq_outcome_parse((const char *)sqlite3_column_text(st, 2), &r->outcome);
    r->phase_fraction = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
    r->reported_at = sqlite3_column_double(st, 4);
    if (!e) ++cnt;
  }
  if (!e && rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "reading outcomes", __FILE__, __LINE__, __func__);
  sqlite3_finalize(st);
  if (e) {
    free(v);
    return e;
  }
  *out = v;
  *n = cnt;
  return MS_SUCCESS;
}
