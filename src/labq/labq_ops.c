/* Lab queue: the operations that change tickets (push, claim, report, requeue).
 *
 * Each is one write transaction (ms__labq_write_tx), so it either happens completely or not at
 * all, whoever else is using the file and whenever the process dies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "labq_impl.h"

static ms_err bind_text(ms_labq q, sqlite3_stmt *st, int k, const char *s) {
  int rc = s ? sqlite3_bind_text(st, k, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, k);
  MS_LABQ_SQL(q, rc, "binding a value");
  return MS_SUCCESS;
}

/* NaN is "not known": store NULL, which reads back as NaN (labq.c col_real). */
static ms_err bind_real(ms_labq q, sqlite3_stmt *st, int k, double v) {
  int rc = isfinite(v) ? sqlite3_bind_double(st, k, v) : sqlite3_bind_null(st, k);
  MS_LABQ_SQL(q, rc, "binding a value");
  return MS_SUCCESS;
}

static ms_err bind_int(ms_labq q, sqlite3_stmt *st, int k, int64_t v) {
  MS_LABQ_SQL(q, sqlite3_bind_int64(st, k, v), "binding a value");
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* push */

typedef struct {
  const ms_labq_ticket *t;
  size_t n, n_new;
} push_ctx;

static ms_err push_one(ms_labq q, sqlite3_stmt *st, const ms_labq_ticket *t, double now, size_t *n_new) {
  MS_CALL(bind_text(q, st, 1, t->campaign));
  MS_CALL(bind_int(q, st, 2, t->round));
  MS_CALL(bind_int(q, st, 3, t->candidate_id));
  MS_CALL(bind_text(q, st, 4, t->formula));
  MS_CALL(bind_text(q, st, 5, t->prototype ? t->prototype : ""));
  MS_CALL(bind_int(q, st, 6, t->spacegroup));
  MS_CALL(bind_text(q, st, 7, t->novelty && *t->novelty ? t->novelty : "unchecked"));
  MS_CALL(bind_text(q, st, 8, t->known_match ? t->known_match : ""));
  MS_CALL(bind_text(q, st, 9, t->cif));
  MS_CALL(bind_real(q, st, 10, t->e_above_hull_eV_per_atom));
  MS_CALL(bind_real(q, st, 11, t->uncertainty_eV_per_atom));
  MS_CALL(bind_int(q, st, 12, t->priority));
  MS_CALL(bind_real(q, st, 13, t->score));
  MS_CALL(bind_text(q, st, 14, t->precursors ? t->precursors : "[]"));
  MS_CALL(bind_text(q, st, 15, t->xrd));
  MS_CALL(bind_real(q, st, 16, now));
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) {
    char what[96];
    snprintf(what, sizeof what, "adding the ticket of candidate %lld", (long long)t->candidate_id);
    return ms__labq_sql_err(q, rc, what, __FILE__, __LINE__, __func__);
  }
  *n_new += (size_t)sqlite3_changes(q->db);
  sqlite3_reset(st);
  return MS_SUCCESS;
}

static ms_err push_body(ms_labq q, void *vctx) {
  push_ctx *c = vctx;
  sqlite3_stmt *st = NULL;
  /* ON CONFLICT names the one constraint a repeated push may hit; INSERT OR IGNORE would also
   * swallow CHECK failures, i.e. silently drop malformed tickets. */
  MS_CALL(ms__labq_prepare(
      q,
      "INSERT INTO tickets (campaign, round, candidate_id, formula, prototype, spacegroup, novelty, "
      "known_match, cif, e_above_hull_eV_per_atom, uncertainty_eV_per_atom, priority, score, "
      "precursors, xrd, status, claims, created) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'queued', 0, ?16) "
      "ON CONFLICT (campaign, candidate_id) DO NOTHING",
      &st));
  double now = ms__labq_now();
  ms_err e = MS_SUCCESS;
  for (size_t k = 0; k < c->n && !e; ++k) e = push_one(q, st, &c->t[k], now, &c->n_new);
  sqlite3_finalize(st);
  return e;
}

ms_err ms_labq_push(ms_labq q, const ms_labq_ticket *t, size_t n, size_t *n_new) {
  MS_CHECK(q && (t || n == 0) && n_new, MS_ERR_ARG, "ms_labq_push: NULL argument");
  *n_new = 0;
  for (size_t k = 0; k < n; ++k) {
    MS_CHECK(t[k].campaign && *t[k].campaign, MS_ERR_ARG, "ticket %zu: no campaign name", k);
    MS_CHECK(t[k].formula && *t[k].formula, MS_ERR_ARG, "ticket %zu (candidate %lld): no formula", k,
             (long long)t[k].candidate_id);
    MS_CHECK(t[k].priority >= 1, MS_ERR_ARG, "ticket %zu (candidate %lld): priority %d, must be >= 1", k,
             (long long)t[k].candidate_id, t[k].priority);
  }
  push_ctx c = {t, n, 0};
  MS_CALL(ms__labq_write_tx(q, push_body, &c));
  *n_new = c.n_new;
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* lease expiry (requeue, and the first step of every claim) */

static ms_err update_count(ms_labq q, const char *sql, double now, int max_claims, size_t *count) {
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, sql, &st));
  ms_err e = bind_real(q, st, 1, now);
  if (!e) e = bind_int(q, st, 2, max_claims);
  if (!e) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "returning lapsed leases", __FILE__, __LINE__, __func__);
  }
  if (!e && count) *count = (size_t)sqlite3_changes(q->db);
  sqlite3_finalize(st);
  return e;
}

static ms_err expire_leases(ms_labq q, double now, int max_claims, size_t *n_requeued, size_t *n_expired) {
  MS_CALL(update_count(q,
                       "UPDATE tickets SET status = 'expired', worker = NULL, lease_expires = NULL "
                       "WHERE status = 'claimed' AND lease_expires <= ?1 AND claims >= ?2",
                       now, max_claims, n_expired));
  MS_CALL(update_count(q,
                       "UPDATE tickets SET status = 'queued', worker = NULL, lease_expires = NULL "
                       "WHERE status = 'claimed' AND lease_expires <= ?1 AND claims < ?2",
                       now, max_claims, n_requeued));
  return MS_SUCCESS;
}

typedef struct {
  int max_claims;
  size_t n_requeued, n_expired;
} requeue_ctx;

static ms_err requeue_body(ms_labq q, void *vctx) {
  requeue_ctx *c = vctx;
  return expire_leases(q, ms__labq_now(), c->max_claims, &c->n_requeued, &c->n_expired);
}

ms_err ms_labq_requeue_expired(ms_labq q, int max_claims, size_t *n_requeued, size_t *n_expired) {
  MS_CHECK(q, MS_ERR_ARG, "ms_labq_requeue_expired: NULL queue");
  MS_CHECK(max_claims >= 1, MS_ERR_ARG, "max claims must be >= 1, got %d", max_claims);
  requeue_ctx c = {max_claims, 0, 0};
  MS_CALL(ms__labq_write_tx(q, requeue_body, &c));
  if (n_requeued) *n_requeued = c.n_requeued;
  if (n_expired) *n_expired = c.n_expired;
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* claim */

typedef struct {
  const char *worker;
  double lease_s;
  int max_claims;
  ms_labq_ticket *out;
  int found;
} claim_ctx;

static ms_err select_ticket(ms_labq q, int64_t id, ms_labq_ticket *out) {
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, "SELECT " MS__LABQ_TICKET_COLUMNS " FROM tickets WHERE id = ?1", &st));
  ms_err e = bind_int(q, st, 1, id);
  if (!e) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      e = ms__labq_row_ticket(st, out);
    else
      e = ms__labq_sql_err(q, rc, "reading the claimed ticket", __FILE__, __LINE__, __func__);
  }
  sqlite3_finalize(st);
  return e;
}

static ms_err claim_body(ms_labq q, void *vctx) {
  claim_ctx *c = vctx;
  double now = ms__labq_now();
  MS_CALL(expire_leases(q, now, c->max_claims, NULL, NULL));
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, "SELECT id FROM tickets WHERE status = 'queued' ORDER BY priority, id LIMIT 1",
                           &st));
  int rc = sqlite3_step(st);
  int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  MS_LABQ_SQL(q, rc, "finding the next queued ticket");
  if (id < 0) return MS_SUCCESS; /* commit anyway: the expired leases stay returned */
  MS_CALL(ms__labq_prepare(q,
                           "UPDATE tickets SET status = 'claimed', worker = ?2, lease_expires = ?3, "
                           "claimed_at = ?4, claims = claims + 1 WHERE id = ?1",
                           &st));
  ms_err e = bind_int(q, st, 1, id);
  if (!e) e = bind_text(q, st, 2, c->worker);
  if (!e) e = bind_real(q, st, 3, now + c->lease_s);
  if (!e) e = bind_real(q, st, 4, now);
  if (!e) {
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "claiming a ticket", __FILE__, __LINE__, __func__);
  }
  sqlite3_finalize(st);
  if (!e) e = select_ticket(q, id, c->out);
  if (!e) c->found = 1;
  return e;
}

ms_err ms_labq_claim(ms_labq q, const char *worker, double lease_s, int max_claims,
                     ms_labq_ticket *out, int *found) {
  MS_CHECK(q && out && found, MS_ERR_ARG, "ms_labq_claim: NULL argument");
  MS_CHECK(worker && *worker, MS_ERR_ARG, "a claim needs a worker name");
  MS_CHECK(isfinite(lease_s) && lease_s > 0, MS_ERR_ARG, "lease must be a positive number of seconds, got %g",
           lease_s);
  MS_CHECK(max_claims >= 1, MS_ERR_ARG, "max claims must be >= 1, got %d", max_claims);
  *found = 0;
  ms_labq_ticket t;
  memset(&t, 0, sizeof t);
  claim_ctx c = {worker, lease_s, max_claims, &t, 0};
  ms_err e = ms__labq_write_tx(q, claim_body, &c);
  if (e) {
    ms_labq_ticket_clear(&t);
    return e;
  }
  if (c.found) {
    *out = t;
    *found = 1;
  }
  return MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* report */

typedef struct {
  int64_t id;
  ms_labq_outcome outcome;
  double phase_fraction;
  const char *notes, *worker;
} report_ctx;

/* Why a ticket in state @p status cannot be reported, for the error message. */
static const char *not_claimed_hint(const char *status) {
  if (strcmp(status, "queued") == 0)
    return "claim it first (a claimed ticket whose lease ran out goes back to the queue)";
  if (strcmp(status, "done") == 0 || strcmp(status, "failed") == 0) return "it has been reported already";
  if (strcmp(status, "expired") == 0)
    return "its lease ran out too many times; it waits for a person to look at it";
  return "only a claimed ticket can be reported";
}

static ms_err report_body(ms_labq q, void *vctx) {
  report_ctx *c = vctx;
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, "SELECT status, worker FROM tickets WHERE id = ?1", &st));
  ms_err e = bind_int(q, st, 1, c->id);
  int rc = e ? SQLITE_OK : sqlite3_step(st);
  char status[16] = "", holder[256] = "";
  if (rc == SQLITE_ROW) {
    snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(st, 0));
    const unsigned char *w = sqlite3_column_text(st, 1);
    snprintf(holder, sizeof holder, "%s", w ? (const char *)w : "");
  }
  sqlite3_finalize(st);
  MS_CALL(e);
  MS_LABQ_SQL(q, rc, "reading the ticket");
  MS_CHECK(rc == SQLITE_ROW, MS_ERR_INPUT, "%s: there is no ticket %lld", q->path, (long long)c->id);
  MS_CHECK(strcmp(status, "claimed") == 0, MS_ERR_INPUT, "%s: ticket %lld is %s, not claimed: %s", q->path,
           (long long)c->id, status, not_claimed_hint(status));
  MS_CHECK(!c->worker || strcmp(c->worker, holder) == 0, MS_ERR_INPUT,
           "%s: ticket %lld is claimed by '%s', not by '%s'", q->path, (long long)c->id, holder, c->worker);
  MS_CALL(ms__labq_prepare(q,
                           "UPDATE tickets SET status = ?2, outcome = ?3, phase_fraction = ?4, notes = ?5, "
                           "reported_at = ?6, lease_expires = NULL WHERE id = ?1",
                           &st));
  e = bind_int(q, st, 1, c->id);
  if (!e) e = bind_text(q, st, 2, c->outcome == MS_LABQ_FAILURE ? "failed" : "done");
  if (!e) e = bind_text(q, st, 3, ms_labq_outcome_name(c->outcome));
  if (!e) e = bind_real(q, st, 4, c->phase_fraction);
  if (!e) e = bind_text(q, st, 5, c->notes);
  if (!e) e = bind_real(q, st, 6, ms__labq_now());
  if (!e) {
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) e = ms__labq_sql_err(q, rc, "recording the report", __FILE__, __LINE__, __func__);
  }
  sqlite3_finalize(st);
  return e;
}

ms_err ms_labq_report(ms_labq q, int64_t id, ms_labq_outcome outcome, double phase_fraction,
                      const char *notes, const char *worker) {
  MS_CHECK(q, MS_ERR_ARG, "ms_labq_report: NULL queue");
  MS_CHECK(ms_labq_outcome_name(outcome), MS_ERR_ARG, "a report needs an outcome (success, partial, failure)");
  MS_CHECK(isnan(phase_fraction) || (phase_fraction >= 0 && phase_fraction <= 1), MS_ERR_ARG,
           "phase fraction must be between 0 and 1, got %g", phase_fraction);
  report_ctx c = {id, outcome, phase_fraction, notes, worker};
  return ms__labq_write_tx(q, report_body, &c);
}
