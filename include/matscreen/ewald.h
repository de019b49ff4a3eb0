/**
 * @file ewald.h
 * @brief Periodic electrostatics of point charges: direct Ewald summation and smooth
 *        particle-mesh Ewald (SPME), with energy, forces and strain derivative.
 *
 * Conventions (see also cell.h)
 * -----------
 * - Units: charges in e, lengths in Å, energies in eV, forces in eV/Å. The Coulomb constant is
 *   MS_COULOMB_K = 14.399645478 eV·Å (CODATA 2018, the value pymatgen uses; LAMMPS metal units
 *   round it to 14.399645).
 * - Lattice vectors are rows of ms_cell.lattice; sites are read from ms_cell.frac. Any
 *   triclinic cell is accepted, including strongly skewed cells whose perpendicular widths are
 *   smaller than the real-space cutoff. The energy does not depend on the choice of basis.
 * - Charges: one per site (q[i] for site i), chosen by the caller (formal or partial charges).
 *   Passing q = NULL uses the oxidation states of the cell's species (each must have one).
 *   A cell with net charge Q gets the uniform neutralising background, as pymatgen and LAMMPS
 *   do (E_bg = -pi K Q^2 / (2 V alpha^2), "tin-foil" boundary conditions, no dipole term).
 * - Strain derivative: W_ab = dE/d eps_ab in eV for the homogeneous deformation
 *   L -> L (1 + eps) (positions follow the lattice). W is symmetric. The stress with the ASE
 *   sign is sigma = W / V (eV/Å^3; multiply by 160.2176634 for GPa); pressure P = -tr(W)/(3V).
 * - Accuracy: one number delta (ms_ewald_params.accuracy, default 1e-8) sets alpha, cutoffs,
 *   and the PME grid. Energy errors are below delta times E_scale = K sum_i q_i^2 / (2 a_ws)
 *   (a_ws = (3V / 4 pi N)^(1/3), the Wigner-Seitz radius), which is of the order of |E| for
 *   ionic solids; force errors per atom are below delta times F_scale = K <q^2> / a_ws^2
 *   (<q^2> the mean square charge). docs/models.md ("Electrostatics") gives the rules and the
 *   measurements behind them.
 * - Ownership: an ms_ewald workspace owns every buffer it uses; arrays only grow, FFTW plans
 *   are cached per grid shape, so evaluating many structures allocates nothing in the steady
 *   state. Results are written into caller-owned memory (ms_ewald_result.forces).
 * - Failures: bad arguments or bad physics input (zero or non-finite volume, non-finite
 *   positions or charges, missing oxidation states) return an ms_err with a message and never
 *   produce NaN. Two sites closer than params.overlap_dist are not an error: the result gets
 *   status MS_STATUS_OVERLAP (and the pair in rmin_i, rmin_j) so the caller can record the
 *   candidate as "overlap"; energies are then not meaningful.
 * - Not collective; no MPI inside. A workspace must not be used by two threads at once;
 *   separate workspaces are independent (FFTW planning is serialised by the caller's thread
 *   discipline: create and set up workspaces outside threaded regions).
 *
 * Fusing with short-range pair terms (one neighbour pass)
 * -------------------------------------------------------
 *     ms_ewald_setup(ew, cell, q);                 // parameters for this structure
 *     ms_ewald_get_info(ew, &info);                // info.rcut: pairs Ewald needs
 *     // in the pair model's block callback, for each ms_nblock from ms_nlist_foreach_block:
 *     //   e[p] = g[p] = 0; ms_ewald_real_block(ew, blk, e, g); add own terms to e, g;
 *     //   ms_ewald_block_accumulate(blk, e, g, flags, &energy, forces, W);
 *     ms_ewald_kspace(ew, flags, &res);            // reciprocal + self + background
 *     ms_ewald_real_status(ew, &res);              // overlap check of the real-space pass
 * The neighbour pass may use a cutoff larger than info.rcut (pairs beyond it only add
 * accuracy), never a smaller one.
 */
#ifndef MATSCREEN_EWALD_H
#define MATSCREEN_EWALD_H

#include "matscreen/cell.h"
#include "matscreen/error.h"
#include "matscreen/neighbor.h"
#include "matscreen/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Coulomb constant e^2 / (4 pi eps0) in eV·Å (CODATA 2018). */
#define MS_COULOMB_K 14.399645478

/** Which reciprocal-space method to use. */
typedef enum {
  MS_EWALD_AUTO = 0,   /**< the cheaper of the two by a measured cost model (docs/models.md) */
  MS_EWALD_DIRECT = 1, /**< structure-factor sum over k vectors */
  MS_EWALD_PME = 2     /**< smooth particle-mesh Ewald (Essmann et al. 1995) */
} ms_ewald_method;

/** What to compute (bit flags); the energy is always computed. */
enum {
  MS_EWALD_ENERGY = 0,
  MS_EWALD_FORCES = 1u << 0,
  MS_EWALD_STRESS = 1u << 1, /**< the strain derivative W */
  MS_EWALD_ALL = MS_EWALD_FORCES | MS_EWALD_STRESS
};

/** Settings; start from ms_ewald_params_default(). Zero means "choose automatically". */
typedef struct {
  ms_ewald_method method; /**< default MS_EWALD_AUTO */
  double accuracy;        /**< relative accuracy delta, 1e-15 <= delta <= 1e-2; default 1e-8 */
  double rcut;            /**< real-space cutoff (Å); 0: chosen with alpha by cost balance */
  double alpha;           /**< splitting parameter (Å^-1); 0: from rcut and accuracy */
  double kcut;            /**< direct: reciprocal cutoff |k| (Å^-1, k includes 2 pi); 0: auto */
  int pme_order;          /**< B-spline order 3..12 (even and odd); 0: by accuracy */
  int pme_grid[3];        /**< PME grid points per lattice vector; 0: by accuracy */
  double overlap_dist;    /**< pairs closer than this (Å) give MS_STATUS_OVERLAP; default 0.1 */
  unsigned fftw_flags;    /**< FFTW planner rigour; default FFTW_ESTIMATE */
} ms_ewald_params;

/** Parameters in force for the structure given to the last ms_ewald_setup(). */
typedef struct {
  ms_ewald_method method; /**< resolved: MS_EWALD_DIRECT or MS_EWALD_PME */
  double alpha;           /**< Å^-1 */
  double rcut;            /**< Å; the neighbour pass must include all pairs up to this */
  double kcut;            /**< Å^-1 (direct) */
  int kmax[3];            /**< direct: bound on |m_d| of k = 2 pi m·B, from kcut |a_d| / 2 pi */
  long nk;                /**< direct: k vectors in the half space */
  int pme_order;
  int pme_grid[3];
  int natoms;
  double volume;          /**< Å^3 */
  double qsum;            /**< net charge (e) */
  double q2sum;           /**< sum of q_i^2 (e^2) */
  double accuracy;        /**< the relative accuracy delta the parameters were chosen for */
} ms_ewald_info;

/** Energy, forces and strain derivative; parts are kept for tests and reports. */
typedef struct {
  double energy;       /**< eV: e_real + e_recip + e_self + e_background */
  double e_real, e_recip, e_self, e_background;
  double (*forces)[3]; /**< caller-owned natoms x 3 (eV/Å); needed with MS_EWALD_FORCES */
  double W[3][3];      /**< dE/d eps_ab (eV); filled with MS_EWALD_STRESS */
  ms_status status;    /**< MS_STATUS_OK or MS_STATUS_OVERLAP */
  double rmin;         /**< shortest pair distance in the real-space pass (Å) */
  int rmin_i, rmin_j;  /**< its sites (-1 if no pair) */
} ms_ewald_result;

typedef struct ms_ewald_s *ms_ewald;

/** Defaults: AUTO, accuracy 1e-8, everything else automatic, overlap 0.1 Å, FFTW_ESTIMATE. */
void ms_ewald_params_default(ms_ewald_params *p);

/** New workspace with parameters @p p (NULL: defaults). Not collective. */
ms_err ms_ewald_create(const ms_ewald_params *p, ms_ewald *out);
/** Free a workspace and its FFTW plans; NULL-safe, sets *ew = NULL. */
void ms_ewald_destroy(ms_ewald *ew);
/** Replace the parameters (validated; MS_ERR_ARG with a message naming the field). */
ms_err ms_ewald_set_params(ms_ewald ew, const ms_ewald_params *p);
/** Current parameters. */
void ms_ewald_get_params(const ms_ewald ew, ms_ewald_params *p);

/**
 * Prepare @p ew for structure @p c with per-site charges @p q (e; NULL: oxidation states).
 * Chooses alpha, cutoffs, k vectors or the PME grid (and its plans) for this cell, and copies
 * what the later calls need, so @p c and @p q may change afterwards. Cheap when consecutive
 * structures share the cell shape. Errors: MS_ERR_ARG (NULL), MS_ERR_INPUT (degenerate cell,
 * non-finite data, missing oxidation state), MS_ERR_FFTW, MS_ERR_MEM.
 */
ms_err ms_ewald_setup(ms_ewald ew, const ms_cell *c, const double *q);
/** Parameters chosen by the last setup (MS_ERR_STATE before any setup). */
ms_err ms_ewald_get_info(const ms_ewald ew, ms_ewald_info *info);

/**
 * Everything in one call: setup, real-space pass (own neighbour list), reciprocal space,
 * self and background terms. Overwrites *res (forces are zeroed first when requested).
 * @p flags: MS_EWALD_FORCES and/or MS_EWALD_STRESS.
 */
ms_err ms_ewald_compute(ms_ewald ew, const ms_cell *c, const double *q, unsigned flags,
                        ms_ewald_result *res);

/**
 * Real-space kernel on one block of pairs (after ms_ewald_setup on the same cell): for each
 * pair p adds e[p] += K q_i q_j erfc(alpha r)/r (eV) and g[p] += (1/r) d e/dr (eV/Å^2).
 * Pairs beyond info.rcut are included exactly (they only add accuracy). Also records the
 * shortest pair for the overlap check (ms_ewald_real_status). Returns the block's energy (eV).
 */
double ms_ewald_real_block(ms_ewald ew, const ms_nblock *blk, double *e, double *g);
/**
 * Begin a real-space pass: forget the shortest pair recorded by earlier passes. Called by
 * ms_ewald_setup, so only needed when one setup is followed by several passes.
 */
void ms_ewald_real_reset(ms_ewald ew);
/** Set res->status, rmin, rmin_i, rmin_j from the real-space pass since the last reset. */
void ms_ewald_real_status(const ms_ewald ew, ms_ewald_result *res);

/**
 * Turn per-pair energies @p e and radial derivatives @p g (as filled by ms_ewald_real_block
 * plus any short-range terms) into sums: *energy += sum e; with MS_EWALD_FORCES,
 * f[i] += g d, f[j] -= g d (d = r_j + n·L - r_i, so F_i = -dE/dr_i); with MS_EWALD_STRESS,
 * W_ab += g d_a d_b. Any of energy, f, W may be NULL.
 */
void ms_ewald_block_accumulate(const ms_nblock *blk, const double *e, const double *g,
                               unsigned flags, double *energy, double (*f)[3], double W[3][3]);

/**
 * Reciprocal-space (direct or PME, as chosen by setup), self and background terms, ADDED to
 * res->e_recip, e_self, e_background, energy, forces (with MS_EWALD_FORCES) and W (with
 * MS_EWALD_STRESS). Call after ms_ewald_setup.
 */
ms_err ms_ewald_kspace(ms_ewald ew, unsigned flags, ms_ewald_result *res);

/** Name of a method ("auto", "direct", "pme"). */
const char *ms_ewald_method_name(ms_ewald_method m);

#ifdef __cplusplus
}
#endif
#endif /* MATSCREEN_EWALD_H */
