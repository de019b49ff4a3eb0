/**
 * @file relax.h
 * @brief Relaxation of positions and cell with PETSc TAO: a reusable relaxer object that turns
 *        an energy model (model.h) into a TAO objective/gradient, with per-structure statuses.
 *
 * Conventions (see cell.h for units and lattice layout)
 * -----------
 * - Units: Å, eV, eV/Å, GPa. The objective is the enthalpy H = E + P V (P the external
 *   pressure, converted with 1 eV/Å^3 = 160.2176634 GPa); with P = 0 it is the energy.
 * - Variables (docs/models.md, "Relaxation"): positions u_i = f_i L0 (Cartesian positions in the
 *   START cell L0, Å) and a cell deformation relative to L0, both multiplied by one scalar c so
 *   that a unit step costs about the same energy in every direction. The cell degrees of
 *   freedom are
 *     fixed  none (L = L0);
 *     iso    one volume scale, L = (1 + e) L0;
 *     aniso  the three lattice-vector lengths, L = diag(1 + e_k) L0 (rows scaled, angles kept);
 *     full   a symmetric strain, L = L0 (I + eps), six components (no rigid rotations),
 *   scaled by a length s = V0^(1/3) (measured to need the fewest evaluations, docs/models.md).
 *   Only orthonormal (Frobenius) combinations are used, so a symmetry operation of the start
 *   acts orthogonally on the variables and the quasi-Newton iterates keep the symmetry
 *   (the default L-BFGS uses a scalar initial Hessian for that reason).
 * - Convergence: max |F_i| <= fmax (eV/Å, the norm of each atom's force) AND the residual
 *   stress of the relaxed cell degrees of freedom <= smax (GPa; full: every component of
 *   sigma + P I; iso: |tr(sigma)/3 + P|; aniso: each (L sigma L^-1)_kk + P), OR, when etol > 0,
 *   an accepted step that changes H by at most etol eV per atom.
 * - Statuses are data (status.h): converged, max_steps (iteration or evaluation limit),
 *   line_search_failed, exploded (volume outside [vmin, vmax] x V0, a lattice length beyond
 *   lmax x its start, a perpendicular width below min_width Å, or a start with more than
 *   max_volume_per_atom Å^3 per atom), collapsed (a pair inside a catastrophe guard, reported by
 *   the model, or H per atom below min_energy_per_atom), nan (non-finite input or result),
 *   overlap and bad_cell (from the model). A trial point with such a status is given a huge
 *   objective so that the line search backs off; the relaxation stops with that status when
 *   the line search cannot find an acceptable point or when five successive line searches
 *   run into such points. The number of iterations and of model evaluations is bounded: a
 *   relaxation always ends.
 * - PETSc: TAO is created on PETSC_COMM_SELF; PETSc is initialised lazily (ms_petsc_init) with
 *   PETSC_COMM_WORLD = MPI_COMM_SELF, so every rank relaxes its own structures independently.
 *   The TAO type and its settings come from the PETSc options database under the prefix
 *   "relax_" (e.g. -relax_tao_type bncg, -relax_tao_ls_monitor); default TAOLMVM with a scalar
 *   initial Hessian and 20 stored updates. PETSc 3.18 reads the L-BFGS matrix options of
 *   TAOLMVM without the prefix: -tao_lmvm_mat_lmvm_hist_size 30. Options given through
 *   ms_relax_options.petsc_options go into PETSc's global options database and stay there.
 * - Ownership: the relaxer borrows the model (it must outlive the relaxer) and owns the TAO,
 *   its vectors and all buffers. Buffers grow only; the TAO and vectors are re-created only
 *   when the number of variables changes, so relaxing many structures of one size allocates
 *   nothing per structure. One relaxer per thread. Not collective.
 */
#ifndef MATSCREEN_RELAX_H
#define MATSCREEN_RELAX_H

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/model.h"
#include "matscreen/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which cell degrees of freedom relax. */
typedef enum {
  MS_RELAX_FIXED = 0, /**< positions only */
  MS_RELAX_ISO = 1,   /**< positions + volume (shape kept) */
  MS_RELAX_ANISO = 2, /**< positions + the three lattice lengths (angles kept) */
  MS_RELAX_FULL = 3   /**< positions + all six strain components */
} ms_relax_cell;

/** "fixed", "iso", "aniso", "full". */
const char *ms_relax_cell_name(ms_relax_cell mode);
/** Parse a mode name; MS_ERR_USAGE listing the valid names otherwise. */
ms_err ms_relax_cell_from_name(const char *name, ms_relax_cell *mode);

/** Settings; start from ms_relax_options_default(). */
typedef struct {
  ms_relax_cell cell;         /**< default MS_RELAX_FULL */
  double fmax;                /**< eV/Å, default 0.01 */
  double smax;                /**< GPa, default 0.05 */
  double etol;                /**< eV/atom change of H per step; 0 (default): not used */
  double pressure;            /**< external pressure, GPa (default 0) */
  int max_steps;              /**< TAO iterations, default 1000 */
  int max_evals;              /**< model evaluations; 0 (default): 10 max_steps + 100 */
  int symmetrize;             /**< 1: symmetrise forces and stress with spglib (default 0) */
  double symprec;             /**< spglib tolerance (Å), default 1e-5 */
  double vmin, vmax;          /**< allowed volume / start volume, default 0.2 and 5 */
  double lmax;                /**< allowed lattice length / its start, default 5 */
  double min_width;           /**< smallest perpendicular cell width (Å), default 0.5 */
  double max_volume_per_atom; /**< Å^3; a start above it is exploded at once; default 500 */
  double min_energy_per_atom; /**< eV; H/N below it counts as collapsed; default -500 */
  double cell_scale;          /**< cell variable length s (Å); 0 (default): V0^(1/3) */
  double stiffness;           /**< c^2, eV/Å^2: sets the first step; default 20 */
  const char *petsc_options;  /**< inserted into the PETSc options database at create, e.g.
                                   "-relax_tao_type bncg"; NULL: none */
} ms_relax_options;

void ms_relax_options_default(ms_relax_options *o);

/** Outcome of one relaxation. */
typedef struct {
  ms_status status;          /**< see the conventions above */
  char detail[256];          /**< reason for a status other than converged ("" otherwise) */
  int iterations;            /**< TAO iterations */
  int evaluations;           /**< model evaluations (energy + forces + stress) */
  double time_s;             /**< wall time of ms_relax_run */
  double energy_initial;     /**< eV, of the start structure */
  double energy;             /**< eV, of the returned structure */
  double enthalpy;           /**< eV, E + P V of the returned structure */
  double volume_initial;     /**< Å^3 */
  double volume;             /**< Å^3 */
  double fmax;               /**< max |F_i| of the returned structure, eV/Å */
  double smax;               /**< residual stress measure (see conventions), GPa */
  double (*forces)[3];       /**< caller-owned natoms x 3 (eV/Å), or NULL: not returned */
  double stress_GPa[6];      /**< of the returned structure, Voigt, ASE sign */
  int nsym;                  /**< symmetry operations used (1 without symmetrize) */
  int tao_reason;            /**< TaoConvergedReason as an int (0 when TAO did not run) */
  const char *tao_reason_name; /**< its PETSc name ("" when TAO did not run) */
} ms_relax_result;

typedef struct ms_relax_s *ms_relax;

/**
 * Relaxer for @p model (borrowed) with settings @p opt (NULL: defaults). Initialises PETSc if
 * needed, inserts opt->petsc_options, creates the TAO (type from the options database).
 * Errors: MS_ERR_ARG for invalid settings (message names the field), MS_ERR_PETSC.
 * Not collective.
 */
ms_err ms_relax_create(ms_model model, const ms_relax_options *opt, ms_relax *out);
/** Free; NULL-safe, sets *r = NULL. */
void ms_relax_destroy(ms_relax *r);
/** Replace the settings (validated as in ms_relax_create; petsc_options is ignored here). */
ms_err ms_relax_set_options(ms_relax r, const ms_relax_options *opt);
/** Current settings. */
void ms_relax_get_options(const ms_relax r, ms_relax_options *opt);
/** Name of the TAO type in use ("lmvm", "bncg", ...). */
const char *ms_relax_tao_type(const ms_relax r);

/**
 * Relax @p cell in place. On return it holds the last accepted structure (for any status;
 * unchanged when the start itself is pathological) with fractional coordinates wrapped into
 * [0, 1). res->forces, when not NULL, must hold cell->natoms x 3 doubles.
 * Returns MS_SUCCESS whatever the status; errors are misuse, species the potential does not
 * cover (MS_ERR_INPUT from the model) and PETSc failures (MS_ERR_PETSC).
 */
ms_err ms_relax_run(ms_relax r, ms_cell *cell, ms_relax_result *res);

/**
 * Initialise PETSc (once; later calls do nothing) with PETSC_COMM_WORLD = MPI_COMM_SELF, so
 * that any rank may call it at any time: it is NOT collective. MPI must be initialised.
 * PETSc's signal handler is disabled and its errors return codes (no printing).
 */
ms_err ms_petsc_init(void);
/** Finalise PETSc if ms_petsc_init initialised it; call before MPI_Finalize. Not collective. */
void ms_petsc_finalize(void);

#ifdef __cplusplus
}
#endif
#endif /* MATSCREEN_RELAX_H */
