/**
 * @file labq.h
 * @brief The lab queue: synthesis tickets for the shortlisted candidates, in one SQLite file
 *        that robots, people and the next screening round share.
 *
 * Conventions
 * -----------
 * - Units: energies in eV/atom; times (created, claimed_at, reported_at, lease_expires) are Unix
 *   time in seconds (UTC, fractional); lease lengths in seconds. phase_fraction is the fraction
 *   (0..1) of the target phase in the product as the lab measured it. Precursor fractions are
 *   atom fractions, as the hull's decompositions give them (docs/output.md).
 * - The database is one file. ms_labq_open() with MS_LABQ_CREATE makes it with mode 0600 (owner
 *   read/write only: tickets say what a lab will make next), in WAL journal mode, with a busy
 *   timeout of MS_LABQ_BUSY_TIMEOUT_MS so that several processes can use it at once. The schema
 *   version is PRAGMA user_version (MS_LABQ_SCHEMA_VERSION); a file of a newer version is refused.
 * - Every mutation is one transaction (BEGIN IMMEDIATE), so two claimers never get the same
 *   ticket and a process killed at any moment leaves the file consistent: SQLite rolls back what
 *   it had not committed. A ticket whose claimer died stays claimed until its lease runs out, and
 *   then goes back to the queue (ms_labq_requeue_expired(), and every claim does the same first).
 *   The ticket states and the columns each state requires are CHECK constraints of the table, so
 *   no writer, ours or a hand-written one, can leave a ticket in an impossible state.
 * - A ticket is queued -> claimed -> done (outcome success or partial) or failed (outcome
 *   failure). A claimed ticket whose lease runs out goes back to queued, or to expired once it has
 *   been claimed max_claims times (a sample that keeps killing its workers should reach a person,
 *   not loop forever).
 * - Tickets are unique per (campaign, candidate_id): pushing the same shortlist twice adds
 *   nothing the second time.
 * - Ownership: strings in an ms_labq_ticket (and the other result structs) belong to it and are
 *   released by the matching free function; arrays returned through pointers are the caller's.
 *   Missing numbers are NaN, missing strings NULL.
 * - Errors: MS_ERR_FILE when the file cannot be created or opened, MS_ERR_INPUT for a file that
 *   is not a queue, an unknown ticket or a ticket in the wrong state (the message says which and
 *   why), MS_ERR_ARG for bad arguments, MS_ERR_SQLITE for database failures (with SQLite's
 *   message and the file name), MS_ERR_HDF5 when the run output cannot be read.
 * - Not collective: nothing here uses MPI; the `queue` commands call it from rank 0 only.
 */
#ifndef MATSCREEN_LABQ_H
#define MATSCREEN_LABQ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

#define MS_LABQ_SCHEMA_VERSION 1
#define MS_LABQ_BUSY_TIMEOUT_MS 30000
/** Claims after which a ticket whose lease runs out is set aside as expired (default). */
#define MS_LABQ_MAX_CLAIMS 3
/** Default lease of a claim, in seconds (one working day). */
#define MS_LABQ_DEFAULT_LEASE_S 86400.0

typedef struct ms_labq_s *ms_labq;

typedef enum {
  MS_LABQ_QUEUED = 0,
  MS_LABQ_CLAIMED,
  MS_LABQ_DONE,
  MS_LABQ_FAILED,
  MS_LABQ_EXPIRED,
  MS_LABQ_STATUS_COUNT_
} ms_labq_status;

typedef enum {
  MS_LABQ_OUTCOME_NONE = 0,
  MS_LABQ_SUCCESS,
  MS_LABQ_PARTIAL,
  MS_LABQ_FAILURE
} ms_labq_outcome;

/** "queued", "claimed", ...; NULL out of range. */
const char *ms_labq_status_name(ms_labq_status s);
/** MS_ERR_INPUT (listing the valid names) for an unknown name. */
ms_err ms_labq_status_parse(const char *name, ms_labq_status *out);
/** "success", "partial", "failure"; NULL for MS_LABQ_OUTCOME_NONE. */
const char *ms_labq_outcome_name(ms_labq_outcome o);
ms_err ms_labq_outcome_parse(const char *name, ms_labq_outcome *out);

/** One ticket: a row of the table. For ms_labq_push() only the fields up to xrd are read. */
typedef struct {
  int64_t id;                      /**< ticket id (assigned by the database) */
  char *campaign;                  /**< campaign name (root attribute of the run output) */
  int64_t round;                   /**< screening round that proposed it */
  int64_t candidate_id;            /**< id of the candidate in the run output */
  char *formula;                   /**< reduced formula, "SrTiO3" */
  char *prototype;                 /**< prototype name ("" for random search) */
  int spacegroup;                  /**< space group of the relaxed structure */
  char *novelty;                   /**< "new", "known", "ordered_variant", "unchecked" */
  char *known_match;               /**< the known compound it matched ("" if none) */
  char *cif;                       /**< relaxed structure as CIF text; NULL if the run had none */
  double e_above_hull_eV_per_atom; /**< predicted energy above the hull */
  double uncertainty_eV_per_atom;  /**< its uncertainty (NaN without an uncertainty model) */
  int priority;                    /**< 1 = try first */
  double score;                    /**< acquisition score, higher = better */
  char *precursors;                /**< JSON list of {formula, fraction, mol_per_mol_target} */
  char *xrd;                       /**< JSON list of predicted peaks; NULL until computed */
  ms_labq_status status;
  char *worker;                    /**< who holds (or reported) it; NULL when queued */
  int claims;                      /**< how many times it has been claimed */
  double lease_expires;            /**< end of the current lease (claimed only) */
  double created, claimed_at, reported_at;
  ms_labq_outcome outcome;
  double phase_fraction;           /**< reported fraction of the target phase (0..1) */
  char *notes;                     /**< free text from the report */
} ms_labq_ticket;

/** Free the strings of a ticket and zero it. NULL-safe. */
void ms_labq_ticket_clear(ms_labq_ticket *t);
/** Clear @p n tickets and free the array; sets *t = NULL. */
void ms_labq_tickets_free(ms_labq_ticket **t, size_t n);

#define MS_LABQ_CREATE 1 /**< ms_labq_open: create the file (mode 0600) if it does not exist */

/** Open (and with MS_LABQ_CREATE create) a queue database. Without MS_LABQ_CREATE a missing
 *  file is MS_ERR_FILE naming it. */
ms_err ms_labq_open(const char *path, int flags, ms_labq *out);
/** Close; NULL-safe; sets *q = NULL. */
void ms_labq_close(ms_labq *q);
/** The file name given to ms_labq_open. */
const char *ms_labq_path(ms_labq q);

/**
 * Insert @p n tickets in one transaction (status queued). A ticket whose (campaign,
 * candidate_id) is already in the queue, in any state, is left as it is; *n_new counts the
 * inserted ones. All-or-nothing: on error nothing is inserted.
 */
ms_err ms_labq_push(ms_labq q, const ms_labq_ticket *t, size_t n, size_t *n_new);

/**
 * Claim the next ticket for @p worker, atomically: in one BEGIN IMMEDIATE transaction, first
 * return the tickets whose lease has run out to the queue (as ms_labq_requeue_expired() with
 * @p max_claims), then take the queued ticket with the lowest priority number (then the lowest
 * id) and give it to @p worker for @p lease_s seconds. *found = 0 (and @p out untouched) when
 * nothing is queued. @p out must be cleared with ms_labq_ticket_clear().
 */
ms_err ms_labq_claim(ms_labq q, const char *worker, double lease_s, int max_claims,
                     ms_labq_ticket *out, int *found);

/**
 * Record the lab's result for claimed ticket @p id: success or partial -> done, failure ->
 * failed. @p phase_fraction in [0, 1] or NaN (not measured); @p notes and @p worker may be NULL.
 * With @p worker, the ticket must be held by that worker. A ticket whose lease ran out but that
 * nobody else has taken yet can still be reported. MS_ERR_INPUT for an unknown ticket or one
 * that is not claimed (the message gives its state).
 */
ms_err ms_labq_report(ms_labq q, int64_t id, ms_labq_outcome outcome, double phase_fraction,
                      const char *notes, const char *worker);

/**
 * Claimed tickets whose lease has run out go back to the queue (*n_requeued), or become
 * expired when they have been claimed @p max_claims times already (*n_expired). One transaction.
 */
ms_err ms_labq_requeue_expired(ms_labq q, int max_claims, size_t *n_requeued, size_t *n_expired);

/** Filter for listing and exporting: a NULL campaign or status_mask 0 means all. */
typedef struct {
  const char *campaign;
  unsigned status_mask; /**< bit (1u << status) per status to keep */
} ms_labq_filter;

/** Tickets matching @p f in id order (*out NULL when none). */
ms_err ms_labq_list(ms_labq q, const ms_labq_filter *f, ms_labq_ticket **out, size_t *n);

/** Counts of one (campaign, round). */
typedef struct {
  char *campaign;
  int64_t round;
  int64_t pushed;      /**< tickets */
  int64_t queued;      /**< waiting now */
  int64_t in_progress; /**< claimed now */
  int64_t claimed;     /**< claimed at least once */
  int64_t done, failed, expired;
  int64_t success, partial, failure;
  double hit_rate;     /**< success / (success + partial + failure); NaN before any report */
} ms_labq_round_stats;

/** Per (campaign, round) counts, ordered by campaign and round. */
ms_err ms_labq_stats(ms_labq q, const char *campaign, ms_labq_round_stats **out, size_t *n);
void ms_labq_stats_free(ms_labq_round_stats **s, size_t n);

/**
 * For the next round: the candidate ids of @p campaign that already have a ticket, in any state
 * (tried, being tried or waiting: proposing any of them again would duplicate a ticket), sorted
 * ascending. *ids is NULL when there are none.
 */
ms_err ms_labq_tried_ids(ms_labq q, const char *campaign, int64_t **ids, size_t *n);

/** A lab result, for labelling training data and for the run output. */
typedef struct {
  int64_t candidate_id;
  int64_t round;
  ms_labq_outcome outcome;
  double phase_fraction; /**< NaN when not measured */
  double reported_at;
} ms_labq_result;

/** The reported results of @p campaign (done and failed tickets), sorted by candidate id. */
ms_err ms_labq_outcomes(ms_labq q, const char *campaign, ms_labq_result **out, size_t *n);

/** Write one ticket as one JSON object (no newline) with the keys of docs/labqueue.md. */
ms_err ms_labq_ticket_json(FILE *fp, const ms_labq_ticket *t);

typedef enum {
  MS_LABQ_EXPORT_CSV = 0, /**< every ticket, every column */
  MS_LABQ_EXPORT_JSON,    /**< a JSON array of ticket objects */
  MS_LABQ_EXPORT_NIMO,    /**< directory: candidates.csv, proposals.csv, tickets.csv */
  MS_LABQ_EXPORT_ALABOS   /**< one JSON document of AlabOS-style experiments */
} ms_labq_export_format;

ms_err ms_labq_export_format_parse(const char *name, ms_labq_export_format *out);

/** Default heating program of the AlabOS export: 1000 degrees C for 720 minutes (12 h). */
#define MS_LABQ_HEATING_TEMPERATURE_C 1000.0
#define MS_LABQ_HEATING_TIME_MIN 720.0

/** What an export writes besides the tickets. */
typedef struct {
  double heating_temperature_C; /**< the Heating task of every AlabOS experiment (degrees C) */
  double heating_time_min;      /**< and its duration (minutes) */
} ms_labq_export_options;

/** The defaults: MS_LABQ_HEATING_TEMPERATURE_C, MS_LABQ_HEATING_TIME_MIN. */
void ms_labq_export_options_default(ms_labq_export_options *o);

/**
 * Export the tickets matching @p f (NULL: all; for alabos the default is the queued ones) to
 * @p path (a directory for nimo, a file otherwise, written to a temporary name and renamed;
 * missing directories are created). One read transaction, so the files are a consistent
 * snapshot. Formats: docs/labqueue.md. *n_exported counts the tickets written (for nimo: the
 * candidates). @p o may be NULL (the defaults); MS_ERR_ARG for a heating temperature outside
 * (0, 4000] degrees C or a time outside (0, 100000] minutes.
 */
ms_err ms_labq_export_with(ms_labq q, ms_labq_export_format fmt, const ms_labq_filter *f,
                           const ms_labq_export_options *o, const char *path, size_t *n_exported);
/** ms_labq_export_with() with the default options. */
ms_err ms_labq_export(ms_labq q, ms_labq_export_format fmt, const ms_labq_filter *f,
                      const char *path, size_t *n_exported);

/**
 * Read /shortlist (and /structures for the CIF text) of a `matscreen run` output into tickets,
 * one per row, in row order. @p round_override >= 0 replaces the "round" attribute. Uses the
 * HDF5 library serially (call it on one rank). The element table must be loaded (species.h).
 * MS_ERR_INPUT (naming the file and dataset) when the file has no shortlist or a malformed one.
 */
ms_err ms_labq_read_shortlist(const char *h5path, int64_t round_override, ms_labq_ticket **out,
                              size_t *n);

/**
 * Precursors JSON from a hull decomposition ("0.4 SrO + 0.6 TiO2"; "id:N FORMULA" names another
 * candidate, "" means on the hull and gives "[]") for target @p formula: a list of
 * {"formula", "fraction" (atom fraction), "mol_per_mol_target"} and "candidate_id" for
 * candidates. *json is malloc'ed. MS_ERR_INPUT for text that is not a decomposition.
 */
ms_err ms_labq_precursors_json(const char *decomposition, const char *formula, char **json);

/**
 * The end-member precursors of the structure @p c (ions with oxidation states, one anion): the
 * binary compound of every cation with the anion (Sr2+ and O2- give SrO, La3+ and O2- La2O3),
 * in the moles that make one formula unit of the reduced formula of @p c, as the same list
 * as ms_labq_precursors_json() (fractions and moles exact, cations by atomic number). These
 * are the end members of the run's hull, so a compound on the hull gets them too.
 * MS_ERR_INPUT (with the reason) when an ion has no oxidation state, there is not exactly one
 * anion, or the charges do not balance. *json is malloc'ed.
 */
ms_err ms_labq_binary_precursors_json(const ms_cell *c, char **json);

/**
 * The elemental precursors of the structure @p c of plain elements (an intermetallic, made by
 * melting or sintering the elements): every element in the moles that make one formula unit
 * of the reduced formula of @p c, as the same list as ms_labq_precursors_json() (elements by
 * atomic number). MS_ERR_INPUT when a species has an oxidation state. *json is malloc'ed.
 */
ms_err ms_labq_element_precursors_json(const ms_cell *c, char **json);

#endif
