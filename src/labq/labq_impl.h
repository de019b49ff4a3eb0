/* Internals shared by the lab-queue sources (not installed; see labq.h for the contract). */
#ifndef MS_LABQ_IMPL_H
#define MS_LABQ_IMPL_H

#include <sqlite3.h>
#include <stdio.h>

#include "matscreen/labq.h"

struct ms_labq_s {
  sqlite3 *db;
  char *path;
};

/* Record an SQLite failure: "FILE: WHAT: sqlite message". SQLITE_NOTADB and SQLITE_CORRUPT
 * become MS_ERR_INPUT (the user named the wrong file), everything else MS_ERR_SQLITE. */
ms_err ms__labq_sql_err(ms_labq q, int rc, const char *what, const char *file, int line,
                        const char *func);
#define MS_LABQ_SQL(q, expr, what)                                                  \
  do {                                                                              \
    int lq_rc_ = (expr);                                                            \
    if (lq_rc_ != SQLITE_OK && lq_rc_ != SQLITE_DONE && lq_rc_ != SQLITE_ROW)       \
      return ms__labq_sql_err((q), lq_rc_, (what), __FILE__, __LINE__, __func__);   \
  } while (0)

ms_err ms__labq_exec(ms_labq q, const char *sql);
ms_err ms__labq_prepare(ms_labq q, const char *sql, sqlite3_stmt **st);
/* BEGIN IMMEDIATE (writers) or BEGIN (readers: one snapshot for several statements). */
ms_err ms__labq_begin(ms_labq q, int immediate);
ms_err ms__labq_commit(ms_labq q);
/* Roll back after a failure; keeps the error record of that failure. */
void ms__labq_rollback(ms_labq q);

/* Run @p body in one BEGIN IMMEDIATE transaction: commit if it succeeds, roll back if not.
 * IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a transaction
 * never has to upgrade a read lock, which is where concurrent SQLite writers deadlock. */
ms_err ms__labq_write_tx(ms_labq q, ms_err (*body)(ms_labq q, void *ctx), void *ctx);

/* Unix time now, seconds. */
double ms__labq_now(void);

/* The column list every ticket query selects, in the order ms__labq_row_ticket reads. */
#define MS__LABQ_TICKET_COLUMNS                                                          \
  "id, campaign, round, candidate_id, formula, prototype, spacegroup, novelty, known_match, " \
  "cif, e_above_hull_eV_per_atom, uncertainty_eV_per_atom, priority, score, precursors, xrd, " \
  "status, worker, claims, lease_expires, created, claimed_at, reported_at, outcome, "        \
  "phase_fraction, notes"
ms_err ms__labq_row_ticket(sqlite3_stmt *st, ms_labq_ticket *t);

/* " WHERE ..." for @p f (campaign bound as parameter ?1), or "" when @p f keeps everything. */
void ms__labq_filter_sql(const ms_labq_filter *f, char *buf, size_t len);
/* Bind the filter's parameters to a statement made with ms__labq_filter_sql. */
ms_err ms__labq_filter_bind(ms_labq q, sqlite3_stmt *st, const ms_labq_filter *f);


#endif
