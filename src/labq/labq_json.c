/* Lab queue: tickets as JSON objects (claim, list --json, export --format json).
 *
 * One writer for every place a ticket leaves as JSON, so the keys cannot drift between the
 * commands and the exports. Numbers are written with the fewest digits that read back as the
 * same double; unknown numbers (NaN) are null, since JSON has no NaN. The precursors and xrd
 * columns hold JSON already (the table checks it with json_valid) and are embedded as they are. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "labq_impl.h"

static void key(FILE *fp, const char *k, int first) {
  if (!first) fputs(", ", fp);
  ms_json_fput_str(fp, k);
  fputs(": ", fp);
}

ms_err ms_labq_ticket_json(FILE *fp, const ms_labq_ticket *t) {
  MS_CHECK(fp && t, MS_ERR_ARG, "ms_labq_ticket_json: NULL argument");
  fputc('{', fp);
  key(fp, "id", 1);
  fprintf(fp, "%lld", (long long)t->id);
  key(fp, "campaign", 0);
  ms_json_fput_str(fp, t->campaign);
  key(fp, "round", 0);
  fprintf(fp, "%lld", (long long)t->round);
  key(fp, "candidate_id", 0);
  fprintf(fp, "%lld", (long long)t->candidate_id);
  key(fp, "formula", 0);
  ms_json_fput_str(fp, t->formula);
  key(fp, "prototype", 0);
  ms_json_fput_str(fp, t->prototype);
  key(fp, "spacegroup", 0);
  fprintf(fp, "%d", t->spacegroup);
  key(fp, "novelty", 0);
  ms_json_fput_str(fp, t->novelty);
  key(fp, "known_match", 0);
  ms_json_fput_str(fp, t->known_match);
  key(fp, "priority", 0);
  fprintf(fp, "%d", t->priority);
  key(fp, "score", 0);
  ms_json_fput_num(fp, t->score);
  key(fp, "e_above_hull_eV_per_atom", 0);
  ms_json_fput_num(fp, t->e_above_hull_eV_per_atom);
  key(fp, "uncertainty_eV_per_atom", 0);
  ms_json_fput_num(fp, t->uncertainty_eV_per_atom);
  key(fp, "precursors", 0);
  fputs(t->precursors ? t->precursors : "[]", fp);
  key(fp, "xrd", 0);
  fputs(t->xrd ? t->xrd : "null", fp);
  key(fp, "status", 0);
  ms_json_fput_str(fp, ms_labq_status_name(t->status));
  key(fp, "worker", 0);
  ms_json_fput_str(fp, t->worker);
  key(fp, "claims", 0);
  fprintf(fp, "%d", t->claims);
  key(fp, "lease_expires", 0);
  ms_json_fput_num(fp, t->lease_expires);
  key(fp, "created", 0);
  ms_json_fput_num(fp, t->created);
  key(fp, "claimed_at", 0);
  ms_json_fput_num(fp, t->claimed_at);
  key(fp, "reported_at", 0);
  ms_json_fput_num(fp, t->reported_at);
  key(fp, "outcome", 0);
  ms_json_fput_str(fp, ms_labq_outcome_name(t->outcome));
  key(fp, "phase_fraction", 0);
  ms_json_fput_num(fp, t->phase_fraction);
  key(fp, "notes", 0);
  ms_json_fput_str(fp, t->notes);
  key(fp, "cif", 0);
  ms_json_fput_str(fp, t->cif);
  fputc('}', fp);
  MS_CHECK(!ferror(fp), MS_ERR_FILE, "writing ticket %lld as JSON failed", (long long)t->id);
  return MS_SUCCESS;
}
