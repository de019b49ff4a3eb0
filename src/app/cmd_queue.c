/* `matscreen queue`: the lab queue (labq.h) from the command line.
 *
 * Queue operations are small and touch one SQLite file, so rank 0 does all of them; under
 * mpirun the other ranks parse the same arguments, take part in the error agreement and return
 * the same exit code. `claim` exits with 3 when nothing is left to claim, so that a worker's
 * shell loop can stop on it without parsing anything. */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/labq.h"

const char ms_usage_queue[] =
    "usage: matscreen queue SUBCOMMAND --db QUEUE.db [options]\n"
    "\n"
    "The lab queue: one SQLite file of synthesis tickets, one per shortlisted candidate, that\n"
    "robots and people claim, work on and report back; several processes may use it at once.\n"
    "\n"
    "subcommands:\n"
    "  push OUT.h5 [--round N] [--json]    one ticket per row of OUT.h5's /shortlist (creates\n"
    "                                      QUEUE.db, mode 0600); a candidate already in the queue\n"
    "                                      is not added again\n"
    "  list [--status S[,S...]] [--campaign C] [--json]\n"
    "                                      tickets as a table, or one JSON array\n"
    "  claim --worker W [--lease SECONDS] [--max-claims N] [--json]\n"
    "                                      take the next ticket (lowest priority number, then\n"
    "                                      lowest id) and print it as one JSON object; exit 3\n"
    "                                      and print nothing when no ticket is queued\n"
    "  report ID --outcome success|partial|failure [--phase-fraction X] [--notes TEXT]\n"
    "         [--worker W]                 the lab's result for a claimed ticket: success and\n"
    "                                      partial -> done, failure -> failed\n"
    "  requeue --expired [--max-claims N] [--json]\n"
    "                                      claimed tickets whose lease ran out go back to the\n"
    "                                      queue (expired after N claims)\n"
    "  export --format nimo|alabos|csv|json -o PATH [--status S[,S...]] [--campaign C]\n"
    "                                      nimo: directory with candidates.csv, proposals.csv,\n"
    "                                      tickets.csv; alabos: JSON experiments (queued tickets\n"
    "                                      unless --status); csv/json: every ticket, every column\n"
    "         [--heating-temperature C] [--heating-time MIN]\n"
    "                                      alabos: the Heating task of every experiment\n"
    "                                      (default 1000 C for 720 min)\n"
    "  stats [--campaign C] [--json]       per round: pushed, claimed, done, failed, outcomes and\n"
    "                                      the hit rate (success / reported)\n"
    "\n"
    "options:\n"
    "  --db QUEUE.db       the queue database (required)\n"
    "  --lease SECONDS     how long a claim holds its ticket (default 86400, one day)\n"
    "  --max-claims N      a ticket whose lease runs out after N claims is set aside as\n"
    "                      'expired' instead of queued again (default 3)\n"
    "\n"
    "Statuses: queued, claimed, done, failed, expired. A claim first returns lapsed leases to the\n"
    "queue, so `requeue --expired` is only needed to see them back in `list` and `stats`.\n"
    "Exit codes: 0 success, 1 bad input or usage (unknown ticket, ticket not claimed), 2 runtime\n"
    "failure, 3 nothing left to claim. Formats and examples: docs/labqueue.md.\n"
    "\n"
    "example (a worker loop):\n"
    "  while t=$(matscreen queue claim --db q.db --worker robot1); do\n"
    "    id=$(echo \"$t\" | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])')\n"
    "    ...; matscreen queue report \"$id\" --db q.db --outcome success --phase-fraction 0.9\n"
    "  done\n";

/* Options and which subcommand takes which. */
enum {
  O_JSON = 1 << 0,
  O_ROUND = 1 << 1,
  O_STATUS = 1 << 2,
  O_CAMPAIGN = 1 << 3,
  O_WORKER = 1 << 4,
  O_LEASE = 1 << 5,
  O_MAXCLAIMS = 1 << 6,
  O_OUTCOME = 1 << 7,
  O_PHASE = 1 << 8,
  O_NOTES = 1 << 9,
  O_EXPIRED = 1 << 10,
  O_FORMAT = 1 << 11,
  O_OUTPUT = 1 << 12,
  O_HEAT_T = 1 << 13,
  O_HEAT_TIME = 1 << 14,
};

typedef struct {
  const char *name;
  unsigned allowed;
  int npos; /* positional arguments */
  const char *pos_name;
} subcommand;

static const subcommand subcommands[] = {
    {"push", O_ROUND | O_JSON, 1, "OUT.h5"},
    {"list", O_STATUS | O_CAMPAIGN | O_JSON, 0, NULL},
    {"claim", O_WORKER | O_LEASE | O_MAXCLAIMS | O_JSON, 0, NULL}, /* always JSON; --json accepted */
    {"report", O_OUTCOME | O_PHASE | O_NOTES | O_WORKER, 1, "ID"},
    {"requeue", O_EXPIRED | O_MAXCLAIMS | O_JSON, 0, NULL},
    {"export", O_FORMAT | O_OUTPUT | O_STATUS | O_CAMPAIGN | O_HEAT_T | O_HEAT_TIME, 0, NULL},
    {"stats", O_CAMPAIGN | O_JSON, 0, NULL},
};

typedef struct {
  const subcommand *sub;
  const char *db, *pos, *campaign, *worker, *notes, *output;
  unsigned given;
  int json;
  long long round;
  unsigned status_mask;
  double lease_s, phase_fraction;
  int max_claims;
  ms_labq_outcome outcome;
  ms_labq_export_format format;
  ms_labq_export_options xo;
  long long id;
} args;

static int parse_ll(const char *opt, const char *text, long long min, long long *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end || errno || v < min)
    return ms_app_usage_error("queue", "%s expects an integer >= %lld, got '%s'", opt, min, text);
  *out = v;
  return 0;
}

static int parse_status_list(const char *text, unsigned *mask) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", text);
  *mask = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    ms_labq_status s;
    if (ms_labq_status_parse(tok, &s)) {
      ms_err_clear();
      return ms_app_usage_error("queue", "--status: unknown status '%s' (queued, claimed, done, failed, expired)", tok);
    }
    *mask |= 1u << s;
  }
  if (!*mask) return ms_app_usage_error("queue", "--status needs at least one status");
  return 0;
}

/* One option with a value; returns 0, or the exit code of a usage error. */
static int parse_option(int argc, char **argv, int *i, args *a) {
  const char *o = argv[*i];
  static const struct {
    const char *name, *alias;
    unsigned bit;
  } table[] = {
      {"--round", NULL, O_ROUND},         {"--status", NULL, O_STATUS},   {"--campaign", NULL, O_CAMPAIGN},
      {"--worker", NULL, O_WORKER},       {"--lease", NULL, O_LEASE},     {"--max-claims", NULL, O_MAXCLAIMS},
      {"--outcome", NULL, O_OUTCOME},     {"--phase-fraction", NULL, O_PHASE}, {"--notes", NULL, O_NOTES},
      {"--format", NULL, O_FORMAT},       {"--output", "-o", O_OUTPUT},
      {"--heating-temperature", NULL, O_HEAT_T}, {"--heating-time", NULL, O_HEAT_TIME},
  };
  if (ms_app_opt_is(o, "--db", NULL)) {
    if (!(a->db = ms_app_opt_value(argc, argv, i, "queue"))) return 1;
    return 0;
  }
  for (size_t k = 0; k < sizeof table / sizeof table[0]; ++k) {
    if (!ms_app_opt_is(o, table[k].name, table[k].alias)) continue;
    unsigned bit = table[k].bit;
    if (!(a->sub->allowed & bit))
      return ms_app_usage_error("queue", "%s does not take %s", a->sub->name, table[k].name);
    const char *v = ms_app_opt_value(argc, argv, i, "queue");
    if (!v) return 1;
    a->given |= bit;
    long long ll = 0;
    switch (bit) {
      case O_ROUND:
        if (parse_ll("--round", v, 0, &a->round)) return 1;
        break;
      case O_STATUS:
        if (parse_status_list(v, &a->status_mask)) return 1;
        break;
      case O_CAMPAIGN:
        a->campaign = v;
        break;
      case O_WORKER:
        if (!*v) return ms_app_usage_error("queue", "--worker needs a name");
        a->worker = v;
        break;
      case O_LEASE:
        if (ms_app_parse_double("queue", "--lease", v, &a->lease_s)) return 1;
        if (!(a->lease_s > 0)) return ms_app_usage_error("queue", "--lease must be a positive number of seconds");
        break;
      case O_MAXCLAIMS:
        if (parse_ll("--max-claims", v, 1, &ll)) return 1;
        if (ll > 1000000) return ms_app_usage_error("queue", "--max-claims %lld is absurdly large", ll);
        a->max_claims = (int)ll;
        break;
      case O_OUTCOME:
        if (ms_labq_outcome_parse(v, &a->outcome)) {
          ms_err_clear();
          return ms_app_usage_error("queue", "--outcome must be success, partial or failure, got '%s'", v);
        }
        break;
      case O_PHASE:
        if (ms_app_parse_double("queue", "--phase-fraction", v, &a->phase_fraction)) return 1;
        if (a->phase_fraction < 0 || a->phase_fraction > 1)
          return ms_app_usage_error("queue", "--phase-fraction must be between 0 and 1, got %s", v);
        break;
      case O_NOTES:
        a->notes = v;
        break;
      case O_FORMAT:
        if (ms_labq_export_format_parse(v, &a->format)) {
          ms_err_clear();
          return ms_app_usage_error("queue", "--format must be nimo, alabos, csv or json, got '%s'", v);
        }
        break;
      case O_OUTPUT:
        a->output = v;
        break;
      case O_HEAT_T:
        if (ms_app_parse_double("queue", "--heating-temperature", v, &a->xo.heating_temperature_C)) return 1;
        if (!(a->xo.heating_temperature_C > 0 && a->xo.heating_temperature_C <= 4000))
          return ms_app_usage_error("queue", "--heating-temperature must be in (0, 4000] degrees C, got %s", v);
        break;
      case O_HEAT_TIME:
        if (ms_app_parse_double("queue", "--heating-time", v, &a->xo.heating_time_min)) return 1;
        if (!(a->xo.heating_time_min > 0 && a->xo.heating_time_min <= 100000))
          return ms_app_usage_error("queue", "--heating-time must be in (0, 100000] minutes, got %s", v);
        break;
    }
    return 0;
  }
  return ms_app_usage_error("queue", "unknown option '%s' for %s", o, a->sub->name);
}

static int parse_args(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  a->round = -1;
  a->lease_s = MS_LABQ_DEFAULT_LEASE_S;
  a->max_claims = MS_LABQ_MAX_CLAIMS;
  a->phase_fraction = NAN;
  ms_labq_export_options_default(&a->xo);
  if (argc < 2)
    return ms_app_usage_error("queue", "which subcommand? push, list, claim, report, requeue, export, stats");
  for (size_t k = 0; k < sizeof subcommands / sizeof subcommands[0]; ++k)
    if (strcmp(argv[1], subcommands[k].name) == 0) a->sub = &subcommands[k];
  if (!a->sub)
    return ms_app_usage_error("queue", "unknown subcommand '%s' (push, list, claim, report, requeue, export, stats)",
                              argv[1]);
  int npos = 0;
  for (int i = 2; i < argc; ++i) {
    const char *o = argv[i];
    if (strcmp(o, "--json") == 0 || strcmp(o, "--expired") == 0) {
      unsigned bit = o[2] == 'j' ? O_JSON : O_EXPIRED;
      if (!(a->sub->allowed & bit)) return ms_app_usage_error("queue", "%s does not take %s", a->sub->name, o);
      a->given |= bit;
      a->json |= bit == O_JSON;
    } else if (o[0] == '-' && o[1] != '\0' && !(o[1] >= '0' && o[1] <= '9')) {
      int rc = parse_option(argc, argv, &i, a);
      if (rc) return rc;
    } else if (npos < a->sub->npos) {
      a->pos = o;
      ++npos;
    } else {
      return ms_app_usage_error("queue", "%s: unexpected argument '%s'", a->sub->name, o);
    }
  }
  if (!a->db) return ms_app_usage_error("queue", "%s needs --db QUEUE.db", a->sub->name);
  if (npos < a->sub->npos) return ms_app_usage_error("queue", "%s needs %s", a->sub->name, a->sub->pos_name);
  const char *s = a->sub->name;
  if (strcmp(s, "report") == 0) {
    if (parse_ll("ticket ID", a->pos, 1, &a->id)) return 1;
    if (!(a->given & O_OUTCOME)) return ms_app_usage_error("queue", "report needs --outcome success|partial|failure");
  }
  if (strcmp(s, "claim") == 0 && !a->worker) return ms_app_usage_error("queue", "claim needs --worker NAME");
  if (strcmp(s, "requeue") == 0 && !(a->given & O_EXPIRED))
    return ms_app_usage_error("queue", "requeue needs --expired (it returns tickets whose lease ran out)");
  if (strcmp(s, "export") == 0 && (!(a->given & O_FORMAT) || !a->output))
    return ms_app_usage_error("queue", "export needs --format nimo|alabos|csv|json and -o PATH");
  return 0;
}

/* ------------------------------------------------------------------------------------------ */

static ms_err do_push(ms_labq q, const args *a) {
  ms_labq_ticket *t = NULL;
  size_t n = 0, n_new = 0;
  MS_CALL(ms_labq_read_shortlist(a->pos, a->round, &t, &n));
  ms_err e = ms_labq_push(q, t, n, &n_new);
  if (!e) {
    /* an empty shortlist has no campaign or round to tell */
    const char *campaign = n ? t[0].campaign : NULL;
    long long round = n ? (long long)t[0].round : -1;
    if (a->json) {
      ms_jbuf b;
      ms_jb_init(&b);
      ms_jb_raw(&b, "{");
      ms_jb_key(&b, "database", 1);
      ms_jb_str(&b, a->db);
      ms_jb_key(&b, "file", 0);
      ms_jb_str(&b, a->pos);
      ms_jb_key(&b, "campaign", 0);
      if (campaign) ms_jb_str(&b, campaign); else ms_jb_raw(&b, "null");
      ms_jb_key(&b, "round", 0);
      if (campaign) ms_jb_printf(&b, "%lld", round); else ms_jb_raw(&b, "null");
      ms_jb_key(&b, "rows", 0);
      ms_jb_printf(&b, "%zu", n);
      ms_jb_key(&b, "new", 0);
      ms_jb_printf(&b, "%zu", n_new);
      ms_jb_key(&b, "already_present", 0);
      ms_jb_printf(&b, "%zu", n - n_new);
      ms_jb_raw(&b, "}\n");
      if (b.oom) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
      else fputs(b.s, stdout);
      ms_jb_free(&b);
    } else if (!n) {
      printf("%s: the shortlist of %s is empty; nothing to add\n", a->db, a->pos);
    } else {
      printf("%s: %zu shortlist rows of %s (campaign %s, round %lld): %zu new tickets, %zu already in the queue\n",
             a->db, n, a->pos, campaign, round, n_new, n - n_new);
    }
  }
  ms_labq_tickets_free(&t, n);
  return e;
}

static void print_table(const ms_labq_ticket *t, size_t n) {
  printf("%6s %5s %8s %-14s %-22s %4s %4s %9s %10s %-8s %-12s %s\n", "id", "round", "cand", "formula", "prototype",
         "sg", "prio", "score", "ehull_eV", "status", "worker", "outcome");
  for (size_t k = 0; k < n; ++k)
    printf("%6lld %5lld %8lld %-14s %-22s %4d %4d %9.4g %10.4g %-8s %-12s %s\n", (long long)t[k].id,
           (long long)t[k].round, (long long)t[k].candidate_id, t[k].formula, t[k].prototype, t[k].spacegroup,
           t[k].priority, t[k].score, t[k].e_above_hull_eV_per_atom, ms_labq_status_name(t[k].status),
           t[k].worker ? t[k].worker : "-", t[k].outcome ? ms_labq_outcome_name(t[k].outcome) : "-");
  printf("%zu ticket%s\n", n, n == 1 ? "" : "s");
}

static ms_err do_list(ms_labq q, const args *a) {
  ms_labq_filter f = {a->campaign, a->status_mask};
  ms_labq_ticket *t = NULL;
  size_t n = 0;
  MS_CALL(ms_labq_list(q, &f, &t, &n));
  ms_err e = MS_SUCCESS;
  if (a->json) {
    fputs("[", stdout);
    for (size_t k = 0; k < n && !e; ++k) {
      fputs(k ? ",\n" : "\n", stdout);
      e = ms_labq_ticket_json(stdout, &t[k]);
    }
    fputs(n ? "\n]\n" : "]\n", stdout);
  } else {
    print_table(t, n);
  }
  ms_labq_tickets_free(&t, n);
  return e;
}

static ms_err do_claim(ms_labq q, const args *a, int *empty) {
  ms_labq_ticket t;
  int found = 0;
  MS_CALL(ms_labq_claim(q, a->worker, a->lease_s, a->max_claims, &t, &found));
  *empty = !found;
  if (!found) return MS_SUCCESS;
  ms_err e = ms_labq_ticket_json(stdout, &t);
  fputc('\n', stdout);
  ms_labq_ticket_clear(&t);
  return e;
}

static ms_err do_report(ms_labq q, const args *a) {
  MS_CALL(ms_labq_report(q, a->id, a->outcome, a->phase_fraction, a->notes, a->worker));
  printf("ticket %lld: %s (%s)\n", a->id, a->outcome == MS_LABQ_FAILURE ? "failed" : "done",
         ms_labq_outcome_name(a->outcome));
  return MS_SUCCESS;
}

static ms_err do_requeue(ms_labq q, const args *a) {
  size_t nr = 0, ne = 0;
  MS_CALL(ms_labq_requeue_expired(q, a->max_claims, &nr, &ne));
  if (a->json) {
    ms_jbuf b;
    ms_jb_init(&b);
    ms_jb_raw(&b, "{");
    ms_jb_key(&b, "database", 1);
    ms_jb_str(&b, a->db);
    ms_jb_printf(&b, ", \"requeued\": %zu, \"expired\": %zu}\n", nr, ne);
    ms_err e = b.oom ? ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory") : MS_SUCCESS;
    if (!e) fputs(b.s, stdout);
    ms_jb_free(&b);
    return e;
  } else {
    printf("%s: %zu ticket%s whose lease ran out went back to the queue, %zu set aside as expired (claimed %d "
           "times)\n", a->db, nr, nr == 1 ? "" : "s", ne, a->max_claims);
  }
  return MS_SUCCESS;
}

static ms_err do_export(ms_labq q, const args *a) {
  static const char *const names[] = {"csv", "json", "nimo", "alabos"};
  ms_labq_filter f = {a->campaign, a->status_mask};
  size_t n = 0;
  MS_CALL(ms_labq_export_with(q, a->format, &f, &a->xo, a->output, &n));
  printf("%s: exported %zu ticket%s to %s (%s)\n", a->db, n, n == 1 ? "" : "s", a->output, names[a->format]);
  return MS_SUCCESS;
}

static ms_err do_stats(ms_labq q, const args *a) {
  ms_labq_round_stats *s = NULL;
  size_t n = 0;
  MS_CALL(ms_labq_stats(q, a->campaign, &s, &n));
  ms_jbuf b;
  ms_jb_init(&b);
  if (a->json) {
    ms_jb_raw(&b, "{");
    ms_jb_key(&b, "database", 1);
    ms_jb_str(&b, a->db);
    ms_jb_key(&b, "rounds", 0);
    ms_jb_raw(&b, "[");
    for (size_t k = 0; k < n; ++k) {
      const ms_labq_round_stats *r = &s[k];
      ms_jb_raw(&b, k ? ",\n {" : "\n {");
      ms_jb_key(&b, "campaign", 1);
      ms_jb_str(&b, r->campaign);
      const char *names[] = {"round",   "pushed", "queued", "in_progress", "claimed", "done",
                             "failed",  "expired", "success", "partial",   "failure", "reported"};
      int64_t vals[] = {r->round,   r->pushed,  r->queued,  r->in_progress, r->claimed,
                        r->done,    r->failed,  r->expired, r->success,     r->partial,
                        r->failure, r->success + r->partial + r->failure};
      for (int j = 0; j < 12; ++j) {
        ms_jb_key(&b, names[j], 0);
        ms_jb_printf(&b, "%lld", (long long)vals[j]);
      }
      ms_jb_key(&b, "hit_rate", 0);
      ms_jb_num(&b, r->hit_rate);
      ms_jb_raw(&b, "}");
    }
    ms_jb_raw(&b, n ? "\n]}\n" : "]}\n");
  } else {
    ms_jb_printf(&b, "%-20s %5s %6s %6s %7s %11s %5s %6s %7s %7s %7s %7s %8s\n", "campaign", "round", "pushed",
                 "queued", "claimed", "in_progress", "done", "failed", "expired", "success", "partial", "failure",
                 "hit_rate");
    for (size_t k = 0; k < n; ++k) {
      const ms_labq_round_stats *r = &s[k];
      ms_jb_printf(&b, "%-20s %5lld %6lld %6lld %7lld %11lld %5lld %6lld %7lld %7lld %7lld %7lld ", r->campaign,
                   (long long)r->round, (long long)r->pushed, (long long)r->queued, (long long)r->claimed,
                   (long long)r->in_progress, (long long)r->done, (long long)r->failed, (long long)r->expired,
                   (long long)r->success, (long long)r->partial, (long long)r->failure);
      if (isfinite(r->hit_rate))
        ms_jb_printf(&b, "%8.3f\n", r->hit_rate);
      else
        ms_jb_printf(&b, "%8s\n", "-");
    }
  }
  ms_err e = b.oom ? ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory") : MS_SUCCESS;
  if (!e && b.s) fputs(b.s, stdout);
  ms_jb_free(&b);
  ms_labq_stats_free(&s, n);
  return e;
}

static ms_err run_queue(const args *a, int *empty) {
  ms_labq q = NULL;
  int create = strcmp(a->sub->name, "push") == 0;
  MS_CALL(ms_labq_open(a->db, create ? MS_LABQ_CREATE : 0, &q));
  const char *s = a->sub->name;
  ms_err e = create                          ? do_push(q, a)
             : strcmp(s, "list") == 0        ? do_list(q, a)
             : strcmp(s, "claim") == 0       ? do_claim(q, a, empty)
             : strcmp(s, "report") == 0      ? do_report(q, a)
             : strcmp(s, "requeue") == 0     ? do_requeue(q, a)
             : strcmp(s, "export") == 0      ? do_export(q, a)
                                             : do_stats(q, a);
  ms_labq_close(&q);
  fflush(stdout);
  return e;
}

int ms_cmd_queue(int argc, char **argv) {
  args a;
  int rc = parse_args(argc, argv, &a);
  if (rc) return rc;
  ms_err e = MS_SUCCESS;
  int empty = 0;
  if (ms_app_rank() == 0) e = run_queue(&a, &empty);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  if (e) return ms_app_report(e);
  MPI_Bcast(&empty, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return empty ? 3 : 0;
}
