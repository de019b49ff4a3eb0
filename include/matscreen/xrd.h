/**
 * @file xrd.h
 * @brief Predicted powder X-ray diffraction peaks (kinematic theory), as the lab needs them to
 *        identify what it made.
 *
 * Conventions (in addition to those of cell.h)
 * -----------
 * - Units: 2θ in degrees, d spacings and wavelengths in Å; intensities are relative, the
 *   strongest peak = 100.
 * - The model is that of pymatgen's XRDCalculator (version 2022.11.7), so that patterns can be
 *   compared with the Materials Project's: every reciprocal lattice point g = h a* + k b* + l c*
 *   (crystallographic, no 2π; |g| = 1/d) with 2 sin(θ_min)/λ <= |g| <= 2 sin(θ_max)/λ is a
 *   reflection at the Bragg angle sin θ = λ|g|/2. Its intensity is |F|² times the
 *   Lorentz-polarisation factor (1 + cos² 2θ) / (sin² θ cos θ), with the structure factor
 *   F = sum_j f_j(s) exp(2πi h·x_j) over the sites and the atomic scattering factor
 *   f(s) = Z - 41.78214 s² sum_i a_i exp(-b_i s²), s = sin θ / λ = |g| / 2, from the 4-Gaussian
 *   coefficients pymatgen uses (src/analysis/xrd_scattering.h names the source; H to Cf).
 *   No Debye-Waller (temperature) factor, no absorption, no preferred orientation; the cell is
 *   fully ordered (matscreen cells have no partial occupancies).
 * - Oxidation states are ignored: a "Ti4+" site scatters as neutral Ti (Z = 22 electrons and
 *   Ti's coefficients), which is what pymatgen does for its Species.
 * - Symmetry-equivalent reflections are not folded by symmetry: all lattice points are summed,
 *   and reflections whose 2θ lie within merge_tol_deg of the first reflection of a peak (in
 *   order of increasing |g|) are merged into that peak, summing their intensities. A peak's
 *   2θ and d are those of its first reflection. So the result does not depend on the choice
 *   of cell (primitive, conventional, supercell, rotated, translated) except for the Miller
 *   indices, which are in the basis of the given cell, always with three indices (pymatgen
 *   prints four, h k -(h+k) l, for hexagonal cells; the first two and the last are these).
 * - A peak keeps one representative (hkl): the lexicographically largest of the merged ones,
 *   e.g. (2 0 0) rather than (0 0 -2). It is the representative pymatgen lists for one of the
 *   families of the peak. multiplicity counts all merged reflections, including systematically
 *   absent ones that fall at the same 2θ (as pymatgen's family multiplicities do).
 * - Peaks whose relative intensity is not above min_intensity are dropped (pymatgen: 1e-3,
 *   which removes systematic absences that cancel only to rounding), then the rest are scaled
 *   so that the strongest is 100. A cell with no reflection in the range gives zero peaks.
 * - Cost: (number of reflections) x (number of sites), both proportional to the volume.
 * - Errors: MS_ERR_ARG for NULL pointers or invalid options (message names the option),
 *   MS_ERR_INPUT for an invalid cell or an element without coefficients (Z > 98), MS_ERR_MEM.
 *   On error *peaks is NULL and *npeaks 0.
 * - Ownership: *peaks and *json are malloc'ed and belong to the caller (free()).
 * - Not collective; thread-safe (no global state is written).
 */
#ifndef MATSCREEN_XRD_H
#define MATSCREEN_XRD_H

#include <stddef.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

/** Cu K-alpha, the weighted K-alpha1/K-alpha2 average (pymatgen's "CuKa"), Å. */
#define MS_XRD_CU_KALPHA 1.54184

typedef struct {
  double two_theta_deg;   /**< peak position, degrees */
  double d_A;             /**< interplanar spacing, Å */
  double intensity;       /**< relative intensity, strongest peak = 100 */
  int hkl[3];             /**< one representative Miller index (in the given cell's basis) */
  int multiplicity;       /**< number of (hkl) merged into this peak */
} ms_xrd_peak;

typedef struct {
  double wavelength_A;        /**< default MS_XRD_CU_KALPHA = 1.54184 Å */
  double two_theta_min_deg;   /**< default 0; 0 <= min < max */
  double two_theta_max_deg;   /**< default 90; max < 180 (the Lorentz factor diverges at 180) */
  double merge_tol_deg;       /**< reflections closer than this in 2θ are one peak;
                                   default 1e-5, pymatgen's TWO_THETA_TOL */
  double min_intensity;       /**< keep peaks above this relative intensity (of 100);
                                   default 1e-3, pymatgen's SCALED_INTENSITY_TOL */
} ms_xrd_options;

/** Fill @p o with the defaults above (pymatgen's XRDCalculator("CuKa").get_pattern()). */
void ms_xrd_options_default(ms_xrd_options *o);

/**
 * Powder pattern of @p cell: peaks sorted by increasing 2θ in a malloc'ed array (NULL when
 * there are none). @p o may be NULL for the defaults. Not collective.
 */
ms_err ms_xrd_pattern(const ms_cell *cell, const ms_xrd_options *o, ms_xrd_peak **peaks,
                      size_t *npeaks);

/**
 * The peaks as JSON text, malloc'ed:
 * [{"two_theta_deg":..,"d_A":..,"intensity":..,"hkl":[h,k,l],"multiplicity":m},...]
 * ("[]" for n = 0). Numbers carry 10 significant digits. Not collective.
 */
ms_err ms_xrd_json(const ms_xrd_peak *p, size_t n, char **json);

#endif
