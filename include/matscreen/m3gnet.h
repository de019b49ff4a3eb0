/**
 * @file m3gnet.h
 * @brief The M3GNet universal interatomic potential (Chen & Ong 2022, as matgl evaluates it):
 *        model files, energy, forces and stress of periodic cells in double precision.
 *
 * Conventions (see cell.h for units and lattice layout)
 * -----------
 * - A model (ms_m3gnet) holds the weights of one checkpoint converted by
 *   scripts/m3gnet_convert.py (format: docs/models.md, "M3GNet model files"). Built-in models
 *   are found by name ("m3gnet-mp-2021.2.8", "m3gnet-matpes-pbe-2025.1": inputs/models/,
 *   embedded in the program); any converted file is found by path (an argument containing
 *   '/' or ending in ".h5"). The model is read-only after loading: share one between threads.
 * - A workspace (ms_m3gnet_ws) holds everything one evaluation needs (bond list, triplets,
 *   the activations the reverse pass uses). Its arrays only grow, so evaluating many
 *   structures allocates nothing in the steady state. One workspace per thread; it borrows its
 *   model, which must outlive it.
 * - Results: energy in eV; forces F = -dE/dr in eV/Å (caller-owned natoms x 3); W[a][b] =
 *   dE/d eps_ab in eV for the symmetric strain r -> r (1 + eps), L -> L (1 + eps) of positions
 *   and lattice rows. The stress in GPa, Voigt order and ASE sign (tensile positive) is W / V
 *   times the unit factor: ms_m3gnet_stress_GPa uses matgl's 160.21766208 GPa per eV/Å^3, as
 *   the published and reference M3GNet stresses do; ms_model_stress_from_W (model.h) uses
 *   CODATA 2018's 160.2176634, 8e-9 relative more, which exceeds 1e-6 GPa above ~120 GPa.
 *   Forces and W come from a hand-written reverse pass through the network (no finite
 *   differences).
 * - Semantics (docs/models.md): MS_M3GNET_CONSISTENT is the model as published, invariant
 *   under permutation, rotation and translation; MS_M3GNET_MATGL reproduces matgl's numbers
 *   exactly, including its three-body indexing, which depends on the bond order pymatgen
 *   produces for the cell's Cartesian frame and atom order.
 * - Species are elements: oxidation states in the cell are ignored. A species the model does
 *   not cover is MS_ERR_INPUT naming it, before any work.
 * - Not collective; no MPI inside: load the model on every rank (the embedded files are the
 *   same everywhere) or on one rank and agree on the error (ms_err_agree). Loading goes
 *   through HDF5, which is not thread-safe here: load models from one thread at a time;
 *   computing with separate workspaces is thread-safe. The BLAS is asked to run on one thread
 *   (MPI ranks are the parallelism).
 */
#ifndef MATSCREEN_M3GNET_H
#define MATSCREEN_M3GNET_H

#include <stddef.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_m3gnet_s *ms_m3gnet;       /**< weights; read-only after load */
typedef struct ms_m3gnet_ws_s *ms_m3gnet_ws; /**< per-thread workspace */

typedef enum {
  MS_M3GNET_CONSISTENT = 0, /**< three-body terms on the bonds they belong to (the paper) */
  MS_M3GNET_MATGL = 1       /**< matgl's indexing and pymatgen's bond order, bit-compatible */
} ms_m3gnet_semantics;

/** The model file format version this code reads (attribute format_version). */
#define MS_M3GNET_FORMAT_VERSION 1

/**
 * Load a model: a built-in name (ms_m3gnet_builtin_names) or the path of a converted file.
 * Every dataset is checked (presence, shape, finite values) and hyper-parameters the code does
 * not implement are refused; errors name the file (or built-in name) and the dataset or
 * attribute. MS_ERR_UNKNOWN_TYPE for an unknown name (the message lists the built-in ones),
 * MS_ERR_FILE for a file that cannot be opened as HDF5, MS_ERR_INPUT for a damaged or
 * unsupported model.
 */
ms_err ms_m3gnet_load(const char *name_or_path, ms_m3gnet *out);
/** Free; NULL-safe, sets *m = NULL. */
void ms_m3gnet_free(ms_m3gnet *m);
/** Names of the built-in models, NULL-terminated (static). */
const char *const *ms_m3gnet_builtin_names(void);

/** Workspace for @p m (which it borrows). */
ms_err ms_m3gnet_ws_create(const ms_m3gnet m, ms_m3gnet_ws *out);
/** Free; NULL-safe, sets *w = NULL. */
void ms_m3gnet_ws_free(ms_m3gnet_ws *w);

/** Default of ms_m3gnet_ws_set_memory_limit, MiB. */
#define MS_M3GNET_DEFAULT_MEMORY_LIMIT_MIB 1024
/**
 * Memory budget of the workspace in bytes (default 1 GiB). The reverse pass needs the
 * activations of every block, about 8 (D + U) doubles per bond and block (24 KiB per bond for
 * the MP model, 36 KiB for MatPES; a bond is ~28 per atom in a dense crystal). When keeping
 * them all would exceed the budget, only one block's are kept and the reverse pass recomputes
 * the others from their inputs: same results bit for bit, a third more flops (30-50% more
 * time) and about 60% less memory. Results never depend on the limit.
 */
void ms_m3gnet_ws_set_memory_limit(ms_m3gnet_ws w, size_t bytes);

/**
 * Energy (eV), and forces (eV/Å, natoms x 3) and W = dE/d eps (eV) when the pointers are not
 * NULL, of cell @p c. Cells of any shape: thinner than the cutoff, one atom, atoms without a
 * neighbour. Errors: MS_ERR_INPUT for a species the model does not cover, an invalid cell
 * (ms_cell_validate), two distinct atoms at the same place, or a cell so thin that the bond
 * search would need more than ~1e7 periodic images; MS_ERR_MEM; MS_ERR_NUMERIC when the
 * result is not finite.
 */
ms_err ms_m3gnet_compute(ms_m3gnet_ws w, const ms_cell *c, ms_m3gnet_semantics s,
                         double *energy, double (*forces)[3], double W[3][3]);

/** 1 eV/Å^3 in GPa as matgl converts its stresses (CODATA 2014). */
#define MS_M3GNET_EV_PER_A3_IN_GPA 160.21766208

/** Voigt stress (xx yy zz yz xz xy, GPa, ASE sign) from W (eV) and the volume (Å^3) with
 *  matgl's unit factor, so that it compares with matgl's and the reference values exactly. */
void ms_m3gnet_stress_GPa(const double W[3][3], double volume, double stress[6]);

/** 1 if the model covers element @p Z, else 0. */
int ms_m3gnet_covers(const ms_m3gnet m, int Z);
/** MS_SUCCESS if every species of @p c is covered, else MS_ERR_INPUT naming the first one
 *  that is not (element symbol and Z) and the model. */
ms_err ms_m3gnet_check_species(const ms_m3gnet m, const ms_cell *c);

/* Accessors: borrowed strings that live as long as the model. */
const char *ms_m3gnet_name(const ms_m3gnet m);        /**< "m3gnet-mp-2021.2.8" */
const char *ms_m3gnet_description(const ms_m3gnet m); /**< one line */
const char *ms_m3gnet_citation(const ms_m3gnet m);
const char *ms_m3gnet_licence(const ms_m3gnet m);     /**< SPDX name, "BSD-3-Clause" */
const char *ms_m3gnet_source(const ms_m3gnet m);      /**< checkpoint the file came from */
const char *ms_m3gnet_origin(const ms_m3gnet m);      /**< "built-in NAME" or the file path */
double ms_m3gnet_cutoff(const ms_m3gnet m);           /**< bond cutoff, Å */
double ms_m3gnet_threebody_cutoff(const ms_m3gnet m); /**< Å */
int ms_m3gnet_n_elements(const ms_m3gnet m);
/** Atomic number of the model's k-th element type (0 <= k < n_elements). */
int ms_m3gnet_element_z(const ms_m3gnet m, int k);
int ms_m3gnet_format_version(const ms_m3gnet m);
/** 1 for the smooth radial basis (MatPES checkpoints), 0 for the plain Bessel basis. */
int ms_m3gnet_use_smooth(const ms_m3gnet m);

/** What the last ms_m3gnet_compute on a workspace did (for benchmarks and logs). */
typedef struct {
  int natoms;
  long long n_edges;      /**< directed bonds within the cutoff */
  long long n_triplets;   /**< ordered pairs of bonds <= threebody cutoff sharing an atom */
  double dense_flops;     /**< floating-point operations in the dense layers (GEMMs) */
  double dense_seconds;   /**< wall time spent in those GEMMs */
  double total_seconds;   /**< wall time of the whole call */
  size_t workspace_bytes; /**< memory the workspace holds now */
  int recomputed_blocks;  /**< blocks the reverse pass recomputed (memory limit reached) */
  double min_bond_A;      /**< shortest bond (Å); +inf when there is none */
} ms_m3gnet_stats;
void ms_m3gnet_ws_stats(const ms_m3gnet_ws w, ms_m3gnet_stats *out);

/** The BLAS kernel in use ("Cooperlake", "Haswell", ...; "unknown" without OpenBLAS). */
const char *ms_m3gnet_blas_kernel(void);

#ifdef __cplusplus
}
#endif
#endif
