/* Concurrency and crash tests of the lab queue, through its C API (labq.h).
 *
 * usage: queue_stress [DIR]     (default: a new directory under $TMPDIR or /tmp, removed after)
 *
 * 1. Eight processes claim from 1,000 tickets until nothing is left: every ticket is claimed
 *    exactly once, each process receives its tickets in claim order (priority, then id), and the
 *    database file and its WAL files are owner-only (0600).
 * 2. Four processes claim and report in a loop while the parent kills one of them with SIGKILL
 *    at a random moment, 40 times (most of a worker's time is spent inside the claim and report
 *    transactions, so most kills land in one), then kills the last four wherever they are, and
 *    two more processes die right after a claim has committed. Afterwards PRAGMA integrity_check says ok, every
 *    ticket is in a consistent state, the tickets the killed workers held are exactly those
 *    `requeue` returns once their leases have run out, and finishing the queue leaves every
 *    ticket reported once: nothing is lost. The feedback API (tried ids, outcomes, stats) then
 *    sees all of them, and every exporter writes the finished queue.
 *
 * Exit 0 when every check passes, 1 otherwise (each failure is printed). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "matscreen/labq.h"
#include "ms_test.h"

#define N_CLAIM 1000
#define N_CLAIMERS 8
#define N_KILL_TICKETS 600
#define N_KILL_ALL (N_KILL_TICKETS + 2) /* with the two claimed by the claimers that die */
#define N_WORKERS 4
#define N_KILLS 40
#define KILL_LEASE_S 2.0

static char dir[512];

static void path_in_dir(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", dir, name); }

static void remove_db(const char *db) {
  char p[600];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
}

static int make_queue(const char *db, int n, const char *campaign) {
  remove_db(db);
  ms_labq q = NULL;
  if (ms_labq_open(db, MS_LABQ_CREATE, &q)) {
    fprintf(stderr, "open %s: %s\n", db, ms_err_message());
    return 1;
  }
  ms_labq_ticket *t = calloc((size_t)n, sizeof *t);
  char formula[] = "SrTiO3", empty[] = "";
  for (int k = 0; k < n; ++k) {
    t[k].campaign = (char *)campaign;
    t[k].formula = formula;
    t[k].prototype = empty;
    t[k].candidate_id = k;
    /* scrambled priorities, so claim order differs from insertion order */
    t[k].priority = 1 + (int)(((unsigned)k * 7919u) % 50u);
    t[k].score = -0.001 * k;
    t[k].e_above_hull_eV_per_atom = 0.001 * k;
    t[k].uncertainty_eV_per_atom = NAN;
  }
  size_t n_new = 0, again = 0;
  ms_err e = ms_labq_push(q, t, (size_t)n, &n_new);
  if (!e) e = ms_labq_push(q, t, (size_t)n, &again);
  free(t); /* the strings were borrowed */
  if (e) fprintf(stderr, "push: %s\n", ms_err_message());
  MS_TEST_EQ_INT(n_new, n);
  MS_TEST_EQ_INT(again, 0); /* pushing the same tickets twice adds nothing */
  if (strcmp(campaign, "claim") == 0) {
    /* owner-only files, also the WAL and its index while a connection has them open */
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; ++k) {
      char p[600];
      struct stat sb;
      snprintf(p, sizeof p, "%s%s", db, suffix[k]);
      int ok = stat(p, &sb) == 0;
      MS_TEST_TRUE(ok);
      if (ok && (sb.st_mode & 0777) != 0600) {
        ++ms_test_failures;
        fprintf(stderr, "FAIL: %s has mode %o, expected 600\n", p, (unsigned)(sb.st_mode & 0777));
      }
    }
  }
  ms_labq_close(&q);
  return e != MS_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* 1. concurrent claims */

static void claimer(const char *db, int w, int fd) {
  ms_labq q = NULL;
  if (ms_labq_open(db, 0, &q)) {
    fprintf(stderr, "claimer %d: %s\n", w, ms_err_message());
    _exit(2);
  }
  char worker[32];
  snprintf(worker, sizeof worker, "w%d", w);
  for (;;) {
    ms_labq_ticket t;
    int found = 0;
    if (ms_labq_claim(q, worker, 3600, MS_LABQ_MAX_CLAIMS, &t, &found)) {
      fprintf(stderr, "claimer %d: %s\n", w, ms_err_message());
      _exit(2);
    }
    if (!found) break;
    int64_t rec[2] = {t.id, t.priority};
    if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec) _exit(3);
    ms_labq_ticket_clear(&t);
    /* A moment of "work" between claims: SQLite's busy handler sleeps, so a process that claims
     * back to back would take nearly every ticket and the others would hardly contend. */
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
  ms_labq_close(&q);
  _exit(0);
}

static void test_concurrent_claims(void) {
  char db[600];
  path_in_dir(db, sizeof db, "claim.db");
  if (make_queue(db, N_CLAIM, "claim")) return;
  int fds[N_CLAIMERS][2];
  pid_t pid[N_CLAIMERS];
  fflush(NULL);
  for (int w = 0; w < N_CLAIMERS; ++w) {
    if (pipe(fds[w]) != 0) {
      perror("pipe");
      exit(1);
    }
    pid[w] = fork();
    if (pid[w] == 0) {
      close(fds[w][0]);
      claimer(db, w, fds[w][1]);
    }
    close(fds[w][1]);
  }
  int *seen = calloc(N_CLAIM + 1, sizeof *seen);
  long total = 0;
  for (int w = 0; w < N_CLAIMERS; ++w) {
    int64_t rec[2], last_prio = 0, last_id = 0;
    ssize_t got;
    int in_order = 1, mine = 0;
    /* reading while the claimers run keeps a pipe from ever filling up */
    while ((got = read(fds[w][0], rec, sizeof rec)) == (ssize_t)sizeof rec) {
      if (rec[0] >= 1 && rec[0] <= N_CLAIM) seen[rec[0]]++;
      if (rec[1] < last_prio || (rec[1] == last_prio && rec[0] < last_id)) in_order = 0;
      last_prio = rec[1];
      last_id = rec[0];
      ++total;
      ++mine;
    }
    close(fds[w][0]);
    int status = 0;
    waitpid(pid[w], &status, 0);
    MS_TEST_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    MS_TEST_TRUE(in_order);
    printf("claimer w%d: %d tickets\n", w, mine);
  }
  MS_TEST_EQ_INT(total, N_CLAIM);
  int once = 0;
  for (int k = 1; k <= N_CLAIM; ++k) once += seen[k] == 1;
  MS_TEST_EQ_INT(once, N_CLAIM); /* every ticket exactly once */
  free(seen);

  ms_labq q = NULL;
  if (ms_labq_open(db, 0, &q)) {
    MS_TEST_TRUE(!"reopen claim.db");
    return;
  }
  ms_labq_ticket t;
  int found = 1;
  MS_TEST_EQ_INT(ms_labq_claim(q, "late", 10, 3, &t, &found), MS_SUCCESS);
  MS_TEST_EQ_INT(found, 0);
  ms_labq_round_stats *s = NULL;
  size_t ns = 0;
  MS_TEST_EQ_INT(ms_labq_stats(q, NULL, &s, &ns), MS_SUCCESS);
  MS_TEST_EQ_INT(ns, 1);
  if (ns == 1) {
    MS_TEST_EQ_INT(s[0].pushed, N_CLAIM);
    MS_TEST_EQ_INT(s[0].in_progress, N_CLAIM);
    MS_TEST_EQ_INT(s[0].claimed, N_CLAIM);
    MS_TEST_EQ_INT(s[0].queued, 0);
    MS_TEST_TRUE(isnan(s[0].hit_rate));
  }
  ms_labq_stats_free(&s, ns);
  ms_labq_close(&q);
}

/* ------------------------------------------------------------------------------------------ */
/* 2. workers killed with SIGKILL */

static void worker(const char *db, int w) {
  ms_labq q = NULL;
  if (ms_labq_open(db, 0, &q)) _exit(2);
  char name[32];
  snprintf(name, sizeof name, "k%d", w);
  for (;;) {
    ms_labq_ticket t;
    int found = 0;
    if (ms_labq_claim(q, name, KILL_LEASE_S, 1000, &t, &found)) {
      fprintf(stderr, "worker %d: %s\n", w, ms_err_message());
      _exit(2);
    }
    if (!found) break;
    ms_err e = ms_labq_report(q, t.id, MS_LABQ_SUCCESS, 0.5, "made it", name);
    /* On a loaded machine our lease can lapse and another worker take the ticket before we
     * report: the queue then refuses our report (MS_ERR_INPUT), which is its job. */
    if (e && e != MS_ERR_INPUT) {
      fprintf(stderr, "worker %d: %s\n", w, ms_err_message());
      _exit(2);
    }
    ms_err_clear();
    ms_labq_ticket_clear(&t);
  }
  ms_labq_close(&q);
  _exit(0);
}

static pid_t spawn_worker(const char *db, int w) {
  fflush(NULL);
  pid_t p = fork();
  if (p == 0) worker(db, w);
  return p;
}

static long long query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void test_kills(void) {
  char db[600];
  path_in_dir(db, sizeof db, "kill.db");
  if (make_queue(db, N_KILL_TICKETS, "kill")) return;
  pid_t pid[N_WORKERS];
  int next = 0;
  for (int w = 0; w < N_WORKERS; ++w) pid[w] = spawn_worker(db, next++);
  unsigned seed = 20261129u;
  int kills = 0;
  fflush(stdout);
  for (int k = 0; k < N_KILLS; ++k) {
    struct timespec ts = {0, (long)(2 + rand_r(&seed) % 28) * 1000000L};
    nanosleep(&ts, NULL);
    int w = rand_r(&seed) % N_WORKERS;
    if (kill(pid[w], SIGKILL) == 0) ++kills;
    waitpid(pid[w], NULL, 0);
    pid[w] = spawn_worker(db, next++);
  }
  /* The last ones die too, wherever they are; then two claimers die right after a claim has
   * committed, so that at least two tickets are certainly held by dead workers. */
  for (int w = 0; w < N_WORKERS; ++w) {
    int status = 0;
    if (kill(pid[w], SIGKILL) == 0) ++kills;
    waitpid(pid[w], &status, 0);
    MS_TEST_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  /* Two more tickets, so that the two claimers that die find something to claim: on a fast
   * machine the workers may have finished all the others by now. */
  {
    ms_labq q = NULL;
    char formula[] = "SrTiO3", empty[] = "", camp[] = "kill";
    ms_labq_ticket extra[2];
    memset(extra, 0, sizeof extra);
    for (int k = 0; k < 2; ++k) {
      extra[k].campaign = camp;
      extra[k].formula = formula;
      extra[k].prototype = empty;
      extra[k].candidate_id = N_KILL_TICKETS + k;
      extra[k].priority = 1;
      extra[k].uncertainty_eV_per_atom = NAN;
    }
    size_t n_new = 0;
    MS_TEST_EQ_INT(ms_labq_open(db, 0, &q), MS_SUCCESS);
    MS_TEST_EQ_INT(ms_labq_push(q, extra, 2, &n_new), MS_SUCCESS);
    MS_TEST_EQ_INT(n_new, 2);
    ms_labq_close(&q);
  }
  for (int k = 0; k < 2; ++k) {
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
      ms_labq q = NULL;
      ms_labq_ticket t;
      int found = 0;
      if (ms_labq_open(db, 0, &q) || ms_labq_claim(q, "kdead", KILL_LEASE_S, 1000, &t, &found)) _exit(2);
      kill(getpid(), SIGKILL);
      _exit(3);
    }
    int status = 0;
    waitpid(p, &status, 0);
    MS_TEST_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }

  sqlite3 *raw = NULL;
  if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    MS_TEST_TRUE(!"open kill.db with sqlite3");
    sqlite3_close(raw);
    return;
  }
  sqlite3_busy_timeout(raw, 30000);
  sqlite3_stmt *st = NULL;
  const char *integrity = "?";
  char integrity_buf[64] = "";
  if (sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    snprintf(integrity_buf, sizeof integrity_buf, "%s", (const char *)sqlite3_column_text(st, 0));
    integrity = integrity_buf;
  }
  sqlite3_finalize(st);
  MS_TEST_EQ_STR(integrity, "ok");
  MS_TEST_EQ_INT(query_int(raw, "SELECT count(*) FROM tickets"), N_KILL_ALL);
  /* the only states a claim/report loop can produce, each with the columns it needs */
  MS_TEST_EQ_INT(query_int(raw, "SELECT count(*) FROM tickets WHERE status NOT IN ('queued', 'claimed', 'done')"), 0);
  MS_TEST_EQ_INT(query_int(raw,
                           "SELECT count(*) FROM tickets WHERE status = 'done' AND NOT (outcome = 'success' AND "
                           "phase_fraction = 0.5 AND notes = 'made it' AND reported_at >= claimed_at AND claims >= 1 "
                           "AND worker LIKE 'k%')"),
                 0);
  MS_TEST_EQ_INT(query_int(raw,
                           "SELECT count(*) FROM tickets WHERE status = 'claimed' AND NOT (worker LIKE 'k%' AND "
                           "lease_expires > claimed_at AND claims >= 1 AND outcome IS NULL)"),
                 0);
  MS_TEST_EQ_INT(query_int(raw,
                           "SELECT count(*) FROM tickets WHERE status = 'queued' AND (worker IS NOT NULL OR "
                           "lease_expires IS NOT NULL OR outcome IS NOT NULL)"),
                 0);
  long long stuck = query_int(raw, "SELECT count(*) FROM tickets WHERE status = 'claimed'");
  long long done = query_int(raw, "SELECT count(*) FROM tickets WHERE status = 'done'");
  sqlite3_close(raw);
  printf("kills: %d; tickets done %lld, held by killed workers %lld\n", kills, done, stuck);
  MS_TEST_EQ_INT(kills, N_KILLS + N_WORKERS);
  MS_TEST_TRUE(stuck >= 2);

  /* The killed workers' tickets come back once their leases have run out, and only they. */
  struct timespec lapse = {(time_t)KILL_LEASE_S, 200000000L};
  nanosleep(&lapse, NULL);
  ms_labq q = NULL;
  if (ms_labq_open(db, 0, &q)) {
    MS_TEST_TRUE(!"reopen kill.db");
    return;
  }
  size_t nr = 0, ne = 0;
  MS_TEST_EQ_INT(ms_labq_requeue_expired(q, 1000, &nr, &ne), MS_SUCCESS);
  MS_TEST_EQ_INT(nr, stuck);
  MS_TEST_EQ_INT(ne, 0);
  int finished = 0;
  for (;;) {
    ms_labq_ticket t;
    int found = 0;
    if (ms_labq_claim(q, "kfinal", 60, 1000, &t, &found) || !found) break;
    MS_TEST_EQ_INT(ms_labq_report(q, t.id, MS_LABQ_SUCCESS, 0.5, "made it", "kfinal"), MS_SUCCESS);
    ms_labq_ticket_clear(&t);
    ++finished;
  }
  MS_TEST_EQ_INT(done + finished, N_KILL_ALL);

  int64_t *ids = NULL;
  size_t nids = 0;
  MS_TEST_EQ_INT(ms_labq_tried_ids(q, "kill", &ids, &nids), MS_SUCCESS);
  MS_TEST_EQ_INT(nids, N_KILL_ALL);
  int ascending = 1;
  for (size_t k = 0; k < nids; ++k) ascending &= ids[k] == (int64_t)k;
  MS_TEST_TRUE(ascending);
  free(ids);
  MS_TEST_EQ_INT(ms_labq_tried_ids(q, "no such campaign", &ids, &nids), MS_SUCCESS);
  MS_TEST_EQ_INT(nids, 0);
  MS_TEST_TRUE(ids == NULL);

  ms_labq_result *r = NULL;
  size_t nres = 0;
  MS_TEST_EQ_INT(ms_labq_outcomes(q, "kill", &r, &nres), MS_SUCCESS);
  MS_TEST_EQ_INT(nres, N_KILL_ALL);
  int good = 0;
  for (size_t k = 0; k < nres; ++k)
    good += r[k].candidate_id == (int64_t)k && r[k].outcome == MS_LABQ_SUCCESS && r[k].phase_fraction == 0.5 &&
            r[k].round == 0 && r[k].reported_at > 1e9;
  MS_TEST_EQ_INT(good, N_KILL_ALL);
  free(r);

  ms_labq_round_stats *s = NULL;
  size_t ns = 0;
  MS_TEST_EQ_INT(ms_labq_stats(q, "kill", &s, &ns), MS_SUCCESS);
  MS_TEST_EQ_INT(ns, 1);
  if (ns == 1) {
    MS_TEST_EQ_INT(s[0].done, N_KILL_ALL);
    MS_TEST_EQ_INT(s[0].success, N_KILL_ALL);
    MS_TEST_NEAR(s[0].hit_rate, 1.0, 0);
  }
  ms_labq_stats_free(&s, ns);

  /* every exporter on the finished queue (their content is checked by check_queue.py) */
  const char *names[] = {"kill.csv", "kill.json", "kill_nimo", "kill_alabos.json"};
  const ms_labq_export_format fmts[] = {MS_LABQ_EXPORT_CSV, MS_LABQ_EXPORT_JSON, MS_LABQ_EXPORT_NIMO,
                                        MS_LABQ_EXPORT_ALABOS};
  const size_t want[] = {N_KILL_ALL, N_KILL_ALL, N_KILL_ALL, 0}; /* alabos: queued only */
  for (int k = 0; k < 4; ++k) {
    char path[600];
    size_t nx = 99999;
    path_in_dir(path, sizeof path, names[k]);
    MS_TEST_EQ_INT(ms_labq_export(q, fmts[k], NULL, path, &nx), MS_SUCCESS);
    MS_TEST_EQ_INT(nx, want[k]);
  }
  ms_labq_close(&q);
}

int main(int argc, char **argv) {
  int own_dir = argc < 2;
  if (own_dir) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/queue_stress.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      return 1;
    }
  } else {
    snprintf(dir, sizeof dir, "%s", argv[1]);
  }
  test_concurrent_claims();
  test_kills();
  if (own_dir) {
    char db[600];
    path_in_dir(db, sizeof db, "claim.db");
    remove_db(db);
    path_in_dir(db, sizeof db, "kill.db");
    remove_db(db);
    const char *files[] = {"kill.csv", "kill.json", "kill_alabos.json", "kill_nimo/candidates.csv",
                           "kill_nimo/proposals.csv", "kill_nimo/tickets.csv"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; ++k) {
      path_in_dir(db, sizeof db, files[k]);
      unlink(db);
    }
    path_in_dir(db, sizeof db, "kill_nimo");
    rmdir(db);
    rmdir(dir);
  }
  return MS_TEST_RESULT();
}
