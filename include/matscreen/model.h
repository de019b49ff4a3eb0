/**
 * @file model.h
 * @brief Energy models: one interface for every model family (an ops table per family, a
 *        registry of families) giving the energy, forces and stress of a periodic cell, with
 *        per-structure statuses.
 *
 * Conventions (see cell.h for units and lattice layout)
 * -----------
 * - Results: energy in eV; forces in eV/Å (caller-owned natoms x 3 array); W_ab = dE/d eps_ab
 *   in eV; stress in GPa, Voigt order xx yy zz yz xz xy, with the sign convention of ASE
 *   (stress = (1/V) dE/d strain: tensile positive, a compressed crystal has negative stress).
 * - Statuses are data, not errors: a structure with overlapping atoms, a pair inside a
 *   catastrophe guard, a degenerate cell or a non-finite result gets a status (status.h) and a
 *   one-line reason; ms_model_compute() still returns MS_SUCCESS. Errors are reserved for
 *   misuse and for species the model does not cover (MS_ERR_INPUT naming the species and the
 *   model), which callers running a campaign turn into MS_STATUS_UNSUPPORTED; a campaign
 *   checks its species against every stage's model before any work (ms_model_covers()).
 * - Families (style.md B5, the pattern of generator.h). A model family is one constant
 *   ms_model_family record (name, summary, citations, option table, built-in names, how it
 *   recognises a name or file, ops) in its own source file src/models/model_NAME.c, listed by
 *   one line MS_MODEL_FAMILY(NAME) in src/models/models.def; more can be registered with
 *   ms_model_family_register() before use (tests, plug-ins). A *model* is one member of a
 *   family: a built-in name ("bush1994") or a file (a rigid-ion potential set in YAML).
 * - Resolution: each family says how sure it is that a name is its own (ms_model_claim):
 *   SURE for its built-in names and for files it recognises by extension or content, MAYBE
 *   for any other path it might read. The surest claim wins; ties go to the family listed
 *   first. An unclaimed name is MS_ERR_UNKNOWN_TYPE listing the known models with a
 *   did-you-mean. Nothing outside the registry switches on a model or family name.
 * - Specs: what a user writes is an ms_model_spec, the model's name or path plus options as
 *   text key/value pairs (a campaign's `potential: {name: bush1994, method: pme}`, or
 *   `--method pme` / `--model-option KEY=VALUE` on the command line). The generic layer does
 *   not interpret options: it checks their keys against the family's option table (unknown
 *   keys are errors with a did-you-mean) and hands them to the family, whose messages are
 *   positioned at the YAML node or name the command-line option (ms_model_option_error()).
 * - Objects: an ms_model is a workspace on shared, read-only model data (parameters or
 *   weights). ms_model_create_spec() loads the data and makes a first workspace;
 *   ms_model_clone() makes another workspace on the same data (one per thread). The data are
 *   reference-counted and freed with the last workspace. A workspace reuses its buffers
 *   (neighbour lists, Ewald k-vectors, FFTW plans), so evaluating many structures allocates
 *   nothing in the steady state.
 * - One object, not two: the shared data have no handle of their own. Callers that need a
 *   second workspace (another thread, another stage) clone a model; the funnel gives stages
 *   whose specs mean the same settings one object. ms_model_create(NAME, NULL, &m) is the
 *   constructor for a name without options, ms_model_create_spec() for a spec.
 * - Evaluation: ms_model_compute() resets the result, zeroes the forces, sets the volume and
 *   turns a degenerate cell into status bad_cell before it calls the family; the family ends
 *   with ms_model_result_finish() (stress from W, non-finite results as status nan). This is
 *   the order the rigid-ion model always had, so its results are bit for bit those of before.
 * - Threads: ms_model_compute() on distinct workspaces may run concurrently; the queries
 *   (ms_model_name(), ms_model_covers(), ...) only read the shared data. Create, clone and
 *   destroy on one thread. Not collective; no MPI inside.
 * - The split of the energy in ms_model_result (e_coulomb, e_short, has_coulomb, ewald,
 *   charge_total) is the rigid-ion family's; families without such a split report
 *   e_coulomb = e_short = charge_total = NaN, has_coulomb = 0 and a zeroed ewald record.
 * - The rigid-ion family's own entry points (typed settings ms_model_options, a model on an
 *   already loaded potential, the table of term types) are in model_rigid_ion.h, included
 *   below so that C callers of those historical ms_model_* names need no change.
 */
#ifndef MATSCREEN_MODEL_H
#define MATSCREEN_MODEL_H

#include <stddef.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/ewald.h"
#include "matscreen/status.h"
#include "matscreen/yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 eV/Å^3 in GPa. */
#define MS_EV_PER_A3_IN_GPA 160.2176634

/** What to compute (bit flags; the energy is always computed). */
enum { MS_MODEL_FORCES = 1u << 0, MS_MODEL_STRESS = 1u << 1, MS_MODEL_ALL = 3u };

/** Result of one evaluation. */
typedef struct {
  double energy;          /**< eV */
  double e_coulomb;       /**< eV, the electrostatic part (rigid-ion; NaN for other families) */
  double e_short;         /**< eV, the short-range part (rigid-ion; NaN for other families) */
  double (*forces)[3];    /**< caller-owned natoms x 3, eV/Å (NULL unless MS_MODEL_FORCES) */
  double W[3][3];         /**< dE/d eps_ab, eV (with MS_MODEL_STRESS) */
  double stress_GPa[6];   /**< Voigt xx yy zz yz xz xy (with MS_MODEL_STRESS) */
  double volume;          /**< Å^3 */
  ms_status status;       /**< MS_STATUS_OK, OVERLAP, COLLAPSED, BAD_CELL or NAN */
  char detail[192];       /**< reason for a status other than OK ("" when OK) */
  int has_coulomb;        /**< electrostatics was evaluated (some charge is non-zero) */
  ms_ewald_info ewald;    /**< parameters used for the electrostatics */
  double charge_total;    /**< net charge of the cell, e (NaN for families without charges) */
} ms_model_result;

typedef struct ms_model_s *ms_model;

/* ---- specs: a model's name and its options, as the user wrote them ------------------------ */

/** At most this many options per spec. */
#define MS_MODEL_MAX_OPTIONS 8

/** One option of a spec. Strings are borrowed (YAML document or argv). */
typedef struct {
  const char *key;       /**< "method" */
  const char *value;     /**< "pme", the text as written */
  const ms_ynode *node;  /**< YAML value node it came from (positions messages), or NULL */
  char where[96];        /**< its name in messages: "funnel[2].potential.method", "--method" */
} ms_model_option;

/** A model as the user names it. Start from ms_model_spec_init() or ms_model_spec_from_yaml(). */
typedef struct {
  const char *name;      /**< built-in name or file path (borrowed) */
  const ms_ynode *node;  /**< YAML node of the name, or NULL */
  char where[96];        /**< its name in messages: "potential", "funnel[2].potential", "--potential" */
  int nopt;
  ms_model_option opt[MS_MODEL_MAX_OPTIONS];
} ms_model_spec;

/** Spec with @p name (borrowed) and no options; @p where names it in messages (NULL: "model"). */
void ms_model_spec_init(ms_model_spec *s, const char *name, const char *where);
/** Add option KEY=VALUE (borrowed) named @p where in messages (a command-line option). */
ms_err ms_model_spec_add(ms_model_spec *s, const char *key, const char *value, const char *where);
/**
 * Spec from YAML: a scalar NAME, or a mapping {name: NAME, KEY: VALUE, ...} whose other keys
 * are options (scalars); @p path names the node in messages ("potential"). Marks the keys
 * read. Checks the shape only; ms_model_spec_check() validates the name and the options.
 */
ms_err ms_model_spec_from_yaml(ms_ynode *node, const char *path, ms_model_spec *s);
/** Value of option @p key (the last one given), or NULL. */
const char *ms_model_spec_get(const ms_model_spec *s, const char *key);
/** 1 when @p a and @p b name the same model with the same settings (ms_model_spec_settings:
 *  an option given with its default value equals the option left out). */
int ms_model_spec_equal(const ms_model_spec *a, const ms_model_spec *b);
/**
 * Resolve the name through the registry and validate the options without loading anything
 * (cheap: used while parsing a campaign). Errors: MS_ERR_UNKNOWN_TYPE for a name no family
 * claims, MS_ERR_INPUT for bad options; positioned at the YAML node when there is one.
 */
ms_err ms_model_spec_check(const ms_model_spec *s);

/** The options of a spec with the family's defaults filled in, as text (resolved campaign). */
typedef struct {
  int n;
  char key[MS_MODEL_MAX_OPTIONS][32];
  char value[MS_MODEL_MAX_OPTIONS][64];
  char note[96]; /**< optional remark on a default ("accuracy: the potential's"), or "" */
} ms_model_settings;
/** Settings of a checked spec (ms_model_spec_check() first). */
ms_err ms_model_spec_settings(const ms_model_spec *s, ms_model_settings *out);

/**
 * Record an input error about option @p o (MS_ERR_INPUT): "FILE:LINE:COL: WHERE: message" when
 * it came from YAML, "WHERE: message" otherwise. Returns MS_ERR_INPUT. For family code.
 */
ms_err ms_model_option_error(const ms_model_option *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Option value as a finite number, or as a boolean (true/false, yes/no, on/off); errors as
 *  ms_model_option_error() (from YAML: the messages of yaml.h's converters). */
ms_err ms_model_option_double(const ms_model_option *o, double *out);
ms_err ms_model_option_bool(const ms_model_option *o, int *out);

/* ---- models ---------------------------------------------------------------------------- */

/**
 * Model for @p spec: resolve the family, load its data, make a workspace. Errors:
 * MS_ERR_UNKNOWN_TYPE (no family claims the name), MS_ERR_INPUT or MS_ERR_FILE (bad options,
 * an unreadable or malformed file); positioned at the spec's YAML node when it has one.
 */
ms_err ms_model_create_spec(const ms_model_spec *spec, ms_model *out);
/** Another workspace on the data of @p m (for another thread). */
ms_err ms_model_clone(const ms_model m, ms_model *out);
/** Free a workspace (and the data with the last one); NULL-safe, sets *m = NULL. */
void ms_model_destroy(ms_model *m);

/**
 * Energy (and forces / stress per @p flags) of @p c. @p res->forces must point to natoms x 3
 * doubles when MS_MODEL_FORCES is set. Overwrites everything else in *res.
 * Returns MS_SUCCESS also when res->status is not OK; an uncovered species is MS_ERR_INPUT.
 */
ms_err ms_model_compute(ms_model m, const ms_cell *c, unsigned flags, ms_model_result *res);

/** The model's name ("bush1994"; for a file, the name it declares). */
const char *ms_model_name(const ms_model m);
/** One paragraph describing the model, and its main reference(s) ("" when none). */
const char *ms_model_description(const ms_model m);
const char *ms_model_citation(const ms_model m);
/** Where the data came from ("embedded potentials/bush1994.yaml", a path). */
const char *ms_model_source(const ms_model m);
/** Name of the model's family ("rigid_ion"). */
const char *ms_model_family_name(const ms_model m);
/** 1 when the model takes charges from oxidation states, so species must carry them. */
int ms_model_needs_oxidation_states(const ms_model m);
/** 1 when the model's energies are total energies that can be referred to the elements in
 *  their standard states (a potential fitted to DFT energies: M3GNet), so a hull over the
 *  elements is meaningful; 0 for lattice energies relative to separated ions (rigid-ion), whose
 *  hull needs binary end members (docs/stability.md). */
int ms_model_has_elemental_energies(const ms_model m);
/** Range of its short-range part in Å (long-range electrostatics are summed in full beyond). */
double ms_model_cutoff(const ms_model m);
/**
 * 1 when the model has parameters for species @p sp; otherwise 0 and, when @p reason is not
 * NULL, why ("potential 'bush1994' has no parameters for Zn2+ (covers: Li+, ...)").
 */
int ms_model_covers(const ms_model m, const ms_species *sp, char *reason, size_t len);
/**
 * Closest approach of ions @p a and @p b, in Å, below which the model's energies are not
 * meaningful (the rigid-ion catastrophe guard); 0 when the model has no such limit or does
 * not cover the pair. Generators keep candidates' pairs outside it.
 */
double ms_model_min_distance(const ms_model m, const ms_species *a, const ms_species *b);
/**
 * The species the model lists (0 when it lists none, e.g. `species: any`): entry @p k with its
 * label ("Sr2+", borrowed) and charge (e; NaN for models without charges). Returns the count.
 */
int ms_model_species(const ms_model m, int k, ms_species *sp, const char **label, double *charge);
/** Full human-readable description (parameters, citations) for `matscreen info`. */
ms_err ms_model_describe(const ms_model m, FILE *fp);

/* ---- helpers for results ----------------------------------------------------------------- */

/** Voigt stress in GPa (ASE sign) from W (eV) and the volume (Å^3). */
void ms_model_stress_from_W(const double W[3][3], double volume, double stress_GPa[6]);
/**
 * The common end of a family's compute: the stress from W (with MS_MODEL_STRESS), and status
 * MS_STATUS_NAN when an OK result has a non-finite energy, force or W component.
 */
void ms_model_result_finish(ms_model_result *res, int natoms, unsigned flags);

/* ---- families and the registry ----------------------------------------------------------- */

/** How sure a family is that a name or path is one of its models. */
typedef enum {
  MS_MODEL_CLAIM_NO = 0,    /**< not ours */
  MS_MODEL_CLAIM_MAYBE = 1, /**< a path we might read (no recognisable extension) */
  MS_MODEL_CLAIM_SURE = 2   /**< one of our built-in names, or a file we recognise */
} ms_model_claim;

/** One option of a family, for `matscreen info models`, key checks and the command line. */
typedef struct {
  const char *key;           /**< option key ("method") */
  const char *values;        /**< accepted values in words ("auto, direct or pme") */
  const char *default_value; /**< in words ("auto", "the potential's") */
  const char *help;
  const char *flag;          /**< command-line shorthand ("--method"; NULL: none, only
                                  `--model-option KEY=VALUE`) */
  const char *flag_value;    /**< value the flag stands for ("false" for "--no-coulomb"); NULL:
                                  the flag takes the value as its argument */
} ms_model_option_info;

/** What a family's load() reports about a model. Strings are owned by the model's data. */
typedef struct {
  const char *name;           /**< the model's name */
  const char *description;    /**< one paragraph */
  const char *citation;       /**< main reference(s), one string ("" when none) */
  const char *source;         /**< where it was read from */
  int needs_oxidation_states; /**< see ms_model_needs_oxidation_states() */
  int elemental_energies;     /**< see ms_model_has_elemental_energies() */
  double cutoff;              /**< Å, see ms_model_cutoff() */
} ms_model_about;

/**
 * Operations of a family; data is the family's loaded model (read-only after load, shared by
 * workspaces and threads), ws a workspace. Optional entries may be NULL.
 */
typedef struct {
  /** Validate option values of @p spec without loading (keys are already checked). */
  ms_err (*check)(const ms_model_spec *spec);
  /** Options with defaults filled in (called on checked specs). */
  ms_err (*settings)(const ms_model_spec *spec, ms_model_settings *out);
  /** Load the model of a checked spec. */
  ms_err (*load)(const ms_model_spec *spec, void **data, ms_model_about *about);
  void (*unload)(void *data);
  ms_err (*ws_create)(const void *data, void **ws);
  void (*ws_free)(void *ws);
  /**
   * Evaluate @p c into @p res. Called by ms_model_compute() after it has reset *res (the
   * forces pointer kept, the forces zeroed), set res->volume and checked the cell with
   * ms_cell_validate(). Ends with ms_model_result_finish() unless it gives up early with a
   * status and NaN energies.
   */
  ms_err (*compute)(void *ws, const ms_cell *c, unsigned flags, ms_model_result *res);
  /** See ms_model_covers(). */
  int (*covers)(const void *data, const ms_species *sp, char *reason, size_t len);
  /** Optional: see ms_model_min_distance(). */
  double (*min_distance)(const void *data, const ms_species *a, const ms_species *b);
  /** Optional: see ms_model_species(). */
  int (*species)(const void *data, int k, ms_species *sp, const char **label, double *charge);
  /** Optional: see ms_model_describe() (default: name, description, citation). */
  ms_err (*describe)(const void *data, FILE *fp);
} ms_model_ops;

/** A model family: one constant record (src/models/models.def, or ms_model_family_register). */
typedef struct {
  const char *name;                     /**< "rigid_ion" */
  const char *summary;                  /**< one line */
  const char *files;                    /**< which files it reads, in words ("" when none) */
  const char *const *refs;              /**< NULL-terminated citations of the method */
  const ms_model_option_info *options;  /**< terminated by an entry with key == NULL */
  /** Built-in model names (sorted; the array may be thread-local static). */
  const char *const *(*builtin_names)(int *count);
  /** See ms_model_claim. */
  ms_model_claim (*claims)(const char *name);
  /** Optional: extra text for `matscreen info models FAMILY` (e.g. the terms it sums). */
  ms_err (*describe_family)(FILE *fp);
  const ms_model_ops *ops;
} ms_model_family;

/**
 * Add a family (names of families and of their built-in models must be unique; MS_ERR_INPUT
 * otherwise). Not thread-safe: register at start-up. The record must outlive its use.
 */
ms_err ms_model_family_register(const ms_model_family *f);
/** Family by name, or NULL. */
const ms_model_family *ms_model_family_find(const char *name);
/** All families: built-ins in models.def order, then registered ones; NULL-terminated. */
const ms_model_family *const *ms_model_family_list(int *count);
/**
 * The family that claims @p name (see ms_model_claim). MS_ERR_UNKNOWN_TYPE when none does:
 * "unknown model 'bush1995' (did you mean 'bush1994'?); built-in models: ...".
 */
ms_err ms_model_family_resolve(const char *name, const ms_model_family **out);

/* ---- volume scan (the single-point stage's lattice search; any model) ---- */

/** Volume scan settings (GNoME-style: scale the volume, keep the lowest energy). */
typedef struct {
  double vmin, vmax; /**< volume factors, default 0.8 and 1.2 */
  int points;        /**< number of volumes, evenly spaced in volume, default 9 (1 means
                          vmin only) */
} ms_volume_scan_options;

typedef struct {
  double best_factor; /**< volume factor of the kept point */
  double energy;      /**< its energy, eV */
  int nok;            /**< points whose evaluation had status OK */
  ms_status status;   /**< OK if some point was OK; else the status of the last point */
  char detail[192];   /**< reason when status is not OK */
} ms_volume_scan_result;

void ms_volume_scan_options_default(ms_volume_scan_options *o);
/**
 * Scale @p c isotropically through the volume factors and keep the one of lowest energy
 * among points with status OK; @p c is left at that volume (or unchanged when no point was
 * OK, with res->status saying why). Errors only for misuse or an uncovered species (as
 * ms_model_compute). Not collective.
 */
ms_err ms_volume_scan(ms_model m, ms_cell *c, const ms_volume_scan_options *o,
                      ms_volume_scan_result *res);

#ifdef __cplusplus
}
#endif

#include "matscreen/model_rigid_ion.h"

#endif
