/* Lab queue: the connection, the schema, and the helpers every queue operation uses.
 *
 * The schema (version 1) is one table of tickets. Its CHECK constraints are the ticket state
 * machine of labq.h: a claimed ticket has a worker, a lease and a claim time; a reported one
 * (done or failed) has an outcome and a report time that agree with its status; queued and
 * expired ones hold no lease. Putting these rules in the table rather than only in our code
 * means a half-finished writer (killed, or a lab's own script) cannot leave a row the claim and
 * report logic would misread: SQLite refuses the write instead. */
#include "labq_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "matscreen/log.h"
#include "matscreen/paths.h"

static const char *const status_names[MS_LABQ_STATUS_COUNT_] = {"queued", "claimed", "done", "failed",
                                                                "expired"};
static const char *const outcome_names[] = {NULL, "success", "partial", "failure"};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS tickets (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  campaign TEXT NOT NULL,\n"
    "  round INTEGER NOT NULL,\n"
    "  candidate_id INTEGER NOT NULL,\n"
    "  formula TEXT NOT NULL,\n"
    "  prototype TEXT NOT NULL DEFAULT '',\n"
    "  spacegroup INTEGER NOT NULL DEFAULT 0,\n"
    "  novelty TEXT NOT NULL DEFAULT 'unchecked',\n"
    "  known_match TEXT NOT NULL DEFAULT '',\n"
    "  cif TEXT,\n"
    "  e_above_hull_eV_per_atom REAL,\n"
    "  uncertainty_eV_per_atom REAL,\n"
    "  priority INTEGER NOT NULL CHECK (priority >= 1),\n"
    "  score REAL,\n"
    "  precursors TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(precursors)),\n"
    "  xrd TEXT CHECK (xrd IS NULL OR json_valid(xrd)),\n"
    "  status TEXT NOT NULL DEFAULT 'queued'\n"
    "    CHECK (status IN ('queued', 'claimed', 'done', 'failed', 'expired')),\n"
    "  worker TEXT,\n"
    "  claims INTEGER NOT NULL DEFAULT 0 CHECK (claims >= 0),\n"
    "  lease_expires REAL,\n"
    "  created REAL NOT NULL,\n"
    "  claimed_at REAL,\n"
    "  reported_at REAL,\n"
    "  outcome TEXT CHECK (outcome IN ('success', 'partial', 'failure')),\n"
    "  phase_fraction REAL CHECK (phase_fraction >= 0 AND phase_fraction <= 1),\n"
    "  notes TEXT,\n"
    "  UNIQUE (campaign, candidate_id),\n"
    "  CHECK (status <> 'claimed' OR (worker IS NOT NULL AND lease_expires IS NOT NULL\n"
    "                                 AND claimed_at IS NOT NULL AND claims >= 1)),\n"
    "  CHECK ((status IN ('done', 'failed')) = (outcome IS NOT NULL AND reported_at IS NOT NULL)),\n"
    "  CHECK (status <> 'done' OR outcome IN ('success', 'partial')),\n"
    "  CHECK (status <> 'failed' OR outcome = 'failure'),\n"
    "  CHECK (status NOT IN ('queued', 'expired') OR (lease_expires IS NULL AND worker IS NULL))\n"
    ");\n"
    /* claim scans queued tickets in (priority, id) order; requeue scans claimed ones */
    "CREATE INDEX IF NOT EXISTS tickets_by_queue ON tickets (status, priority, id);\n";

const char *ms_labq_status_name(ms_labq_status s) {
  return (int)s >= 0 && s < MS_LABQ_STATUS_COUNT_ ? status_names[s] : NULL;
}

ms_err ms_labq_status_parse(const char *name, ms_labq_status *out) {
  for (int k = 0; k < MS_LABQ_STATUS_COUNT_; ++k)
    if (name && strcmp(name, status_names[k]) == 0) {
      *out = (ms_labq_status)k;
      return MS_SUCCESS;
    }
  MS_FAIL(MS_ERR_INPUT, "unknown ticket status '%s' (queued, claimed, done, failed, expired)",
          name ? name : "");
}

const char *ms_labq_outcome_name(ms_labq_outcome o) {
  return o >= MS_LABQ_SUCCESS && o <= MS_LABQ_FAILURE ? outcome_names[o] : NULL;
}

ms_err ms_labq_outcome_parse(const char *name, ms_labq_outcome *out) {
  for (int k = MS_LABQ_SUCCESS; k <= MS_LABQ_FAILURE; ++k)
    if (name && strcmp(name, outcome_names[k]) == 0) {
      *out = (ms_labq_outcome)k;
      return MS_SUCCESS;
    }
  MS_FAIL(MS_ERR_INPUT, "unknown outcome '%s' (success, partial, failure)", name ? name : "");
}

void ms_labq_ticket_clear(ms_labq_ticket *t) {
  if (!t) return;
  char **strs[] = {&t->campaign, &t->formula,    &t->prototype, &t->novelty, &t->known_match,
                   &t->cif,      &t->precursors, &t->xrd,       &t->worker,  &t->notes};
  for (size_t k = 0; k < sizeof strs / sizeof strs[0]; ++k) free(*strs[k]);
  memset(t, 0, sizeof *t);
}

void ms_labq_tickets_free(ms_labq_ticket **t, size_t n) {
  if (!t || !*t) return;
  for (size_t k = 0; k < n; ++k) ms_labq_ticket_clear(&(*t)[k]);
  free(*t);
  *t = NULL;
}

double ms__labq_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ms_err ms__labq_sql_err(ms_labq q, int rc, const char *what, const char *file, int line,
                        const char *func) {
  const char *msg = q && q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  ms_err code = primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT ? MS_ERR_INPUT
                : primary == SQLITE_CANTOPEN || primary == SQLITE_PERM || primary == SQLITE_READONLY
                    ? MS_ERR_FILE
                    : MS_ERR_SQLITE;
  return ms__err_set(code, file, line, func, "%s: %s: %s", q && q->path ? q->path : "queue", what, msg);
}

ms_err ms__labq_exec(ms_labq q, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
  sqlite3_free(msg); /* sqlite3_errmsg still holds the text */
  MS_LABQ_SQL(q, rc, sql);
  return MS_SUCCESS;
}

ms_err ms__labq_prepare(ms_labq q, const char *sql, sqlite3_stmt **st) {
  *st = NULL;
  MS_LABQ_SQL(q, sqlite3_prepare_v2(q->db, sql, -1, st, NULL), "preparing a query");
  return MS_SUCCESS;
}

ms_err ms__labq_begin(ms_labq q, int immediate) {
  return ms__labq_exec(q, immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

ms_err ms__labq_commit(ms_labq q) { return ms__labq_exec(q, "COMMIT"); }

ms_err ms__labq_write_tx(ms_labq q, ms_err (*body)(ms_labq q, void *ctx), void *ctx) {
  MS_CALL(ms__labq_begin(q, 1));
  ms_err e = body(q, ctx);
  if (!e) e = ms__labq_commit(q);
  if (e) ms__labq_rollback(q);
  return e;
}

void ms__labq_rollback(ms_labq q) {
  /* The failure being handled is the error to report; a rollback of a transaction SQLite has
   * already rolled back by itself must not replace it. */
  if (q && q->db && !sqlite3_get_autocommit(q->db)) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

static ms_err pragma_int(ms_labq q, const char *sql, int *out) {
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, sql, &st));
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  MS_LABQ_SQL(q, rc, sql);
  return MS_SUCCESS;
}

/* WAL lets readers work while one process writes, which is what several lab workers polling
 * one queue need. It needs shared memory, which some network filesystems lack: then SQLite
 * keeps its rollback journal, which is still transactional, only less concurrent. */
static ms_err set_wal(ms_labq q) {
  sqlite3_stmt *st = NULL;
  MS_CALL(ms__labq_prepare(q, "PRAGMA journal_mode=WAL", &st));
  int rc = sqlite3_step(st);
  const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  int wal = mode && strcmp(mode, "wal") == 0;
  sqlite3_finalize(st);
  MS_LABQ_SQL(q, rc, "setting WAL journal mode");
  if (!wal) ms_log_warn("%s: WAL journal mode is not available here; using a rollback journal", q->path);
  return MS_SUCCESS;
}

static ms_err setup_schema(ms_labq q, int create) {
  int version = 0, tables = 0;
  MS_CALL(pragma_int(q, "PRAGMA user_version", &version));
  MS_CHECK(version <= MS_LABQ_SCHEMA_VERSION, MS_ERR_INPUT,
           "%s: queue schema version %d is newer than this matscreen understands (%d); use a newer "
           "matscreen", q->path, version, MS_LABQ_SCHEMA_VERSION);
  if (version == MS_LABQ_SCHEMA_VERSION) return MS_SUCCESS;
  MS_CALL(pragma_int(q, "SELECT count(*) FROM sqlite_master", &tables));
  MS_CHECK(tables == 0, MS_ERR_INPUT, "%s: an SQLite database, but not a matscreen queue", q->path);
  MS_CHECK(create, MS_ERR_INPUT, "%s: empty file, not a matscreen queue (push a shortlist to create one)",
           q->path);
  MS_CALL(set_wal(q));
  /* Two processes may create the same new queue at once: the schema statements are idempotent
   * and run in one write transaction, so the second one finds everything in place. */
  MS_CALL(ms__labq_begin(q, 1));
  ms_err e = ms__labq_exec(q, schema_sql);
  if (!e) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", MS_LABQ_SCHEMA_VERSION);
    e = ms__labq_exec(q, sql);
  }
  if (!e) e = ms__labq_commit(q);
  if (e) ms__labq_rollback(q);
  return e;
}

ms_err ms_labq_open(const char *path, int flags, ms_labq *out) {
  MS_CHECK(path && *path && out, MS_ERR_ARG, "ms_labq_open: no database path");
  *out = NULL;
  int create = (flags & MS_LABQ_CREATE) != 0;
  if (create) {
    /* Made here rather than by SQLite so that it is owner-only from its first byte; SQLite gives
     * its -wal and -shm files the mode of the database file. */
    MS_CALL(ms_make_parent_dirs(path));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    MS_CHECK(fd >= 0, MS_ERR_FILE, "%s: cannot create the queue database: %s", path, strerror(errno));
    close(fd);
  } else {
    struct stat sb;
    MS_CHECK(stat(path, &sb) == 0, MS_ERR_FILE, "%s: cannot open the queue database: %s", path,
             strerror(errno));
  }
  ms_labq q = calloc(1, sizeof *q);
  MS_CHECK(q, MS_ERR_MEM, "out of memory");
  q->path = strdup(path);
  if (!q->path) {
    free(q);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  ms_err e = MS_SUCCESS;
  int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE, NULL);
  if (rc != SQLITE_OK) e = ms__labq_sql_err(q, rc, "cannot open", __FILE__, __LINE__, __func__);
  if (!e) sqlite3_busy_timeout(q->db, MS_LABQ_BUSY_TIMEOUT_MS);
  if (!e) e = setup_schema(q, create);
  if (e) {
    ms_labq_close(&q);
    return e;
  }
  *out = q;
  return MS_SUCCESS;
}

void ms_labq_close(ms_labq *qp) {
  if (!qp || !*qp) return;
  ms_labq q = *qp;
  *qp = NULL;
  sqlite3_close_v2(q->db);
  free(q->path);
  free(q);
}

const char *ms_labq_path(ms_labq q) { return q ? q->path : NULL; }

static ms_err col_text(sqlite3_stmt *st, int k, char **out) {
  *out = NULL;
  const unsigned char *s = sqlite3_column_text(st, k);
  if (!s) return MS_SUCCESS;
  *out = strdup((const char *)s);
  MS_CHECK(*out, MS_ERR_MEM, "out of memory");
  return MS_SUCCESS;
}

static double col_real(sqlite3_stmt *st, int k) {
  return sqlite3_column_type(st, k) == SQLITE_NULL ? NAN : sqlite3_column_double(st, k);
}

ms_err ms__labq_row_ticket(sqlite3_stmt *st, ms_labq_ticket *t) {
  memset(t, 0, sizeof *t);
  t->id = sqlite3_column_int64(st, 0);
  ms_err e = col_text(st, 1, &t->campaign);
  t->round = sqlite3_column_int64(st, 2);
  t->candidate_id = sqlite3_column_int64(st, 3);
  if (!e) e = col_text(st, 4, &t->formula);
  if (!e) e = col_text(st, 5, &t->prototype);
  t->spacegroup = sqlite3_column_int(st, 6);
  if (!e) e = col_text(st, 7, &t->novelty);
  if (!e) e = col_text(st, 8, &t->known_match);
  if (!e) e = col_text(st, 9, &t->cif);
  t->e_above_hull_eV_per_atom = col_real(st, 10);
  t->uncertainty_eV_per_atom = col_real(st, 11);
  t->priority = sqlite3_column_int(st, 12);
  t->score = col_real(st, 13);
  if (!e) e = col_text(st, 14, &t->precursors);
  if (!e) e = col_text(st, 15, &t->xrd);
  const char *status = (const char *)sqlite3_column_text(st, 16);
  if (!e) e = ms_labq_status_parse(status, &t->status);
  if (!e) e = col_text(st, 17, &t->worker);
  t->claims = sqlite3_column_int(st, 18);
  t->lease_expires = col_real(st, 19);
  t->created = col_real(st, 20);
  t->claimed_at = col_real(st, 21);
  t->reported_at = col_real(st, 22);
  const char *outcome = (const char *)sqlite3_column_text(st, 23);
  t->outcome = MS_LABQ_OUTCOME_NONE;
  if (!e && outcome) e = ms_labq_outcome_parse(outcome, &t->outcome);
  t->phase_fraction = col_real(st, 24);
  if (!e) e = col_text(st, 25, &t->notes);
  if (e) ms_labq_ticket_clear(t);
  return e;
}

void ms__labq_filter_sql(const ms_labq_filter *f, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  if (!f) return;
  int any = 0;
  if (f->campaign) {
    used += (size_t)snprintf(buf + used, len - used, " WHERE campaign = ?1");
    any = 1;
  }
  unsigned all = (1u << MS_LABQ_STATUS_COUNT_) - 1;
  if ((f->status_mask & all) && (f->status_mask & all) != all && used < len) {
    /* status names are our own constants, so they can be spelled into the query */
    used += (size_t)snprintf(buf + used, len - used, "%s status IN (", any ? " AND" : " WHERE");
    int first = 1;
    for (int k = 0; k < MS_LABQ_STATUS_COUNT_ && used < len; ++k)
      if (f->status_mask & (1u << k)) {
        used += (size_t)snprintf(buf + used, len - used, "%s'%s'", first ? "" : ", ", status_names[k]);
        first = 0;
      }
    if (used < len) snprintf(buf + used, len - used, ")");
  }
}

ms_err ms__labq_filter_bind(ms_labq q, sqlite3_stmt *st, const ms_labq_filter *f) {
  if (f && f->campaign)
    MS_LABQ_SQL(q, sqlite3_bind_text(st, 1, f->campaign, -1, SQLITE_TRANSIENT), "binding the campaign");
  return MS_SUCCESS;
}
