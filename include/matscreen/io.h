/**
 * @file io.h
 * @brief Structure files: CIF, POSCAR/CONTCAR (VASP 5) and extended XYZ.
 *
 * Conventions
 * -----------
 * - Readers parse a whole in-memory buffer (files are read fully first), so the same code is
 *   driven by the CLI, the tests and the libFuzzer targets. @p name is the file name used in
 *   messages: every error reads "NAME:LINE: what is wrong" and returns MS_ERR_INPUT.
 * - Readers append one ms_cell per structure (data block / frame) to an ms_cell_list; on error
 *   the list keeps the structures read before the bad one.
 * - Every reader checks the result with ms_cell_validate(); sizes are bounded (10^7 sites per
 *   structure) and every count is checked before use, so any byte sequence gives either
 *   structures or MS_ERR_INPUT, never a crash or an absurd allocation (fuzzed: tests/fuzz/).
 * - CIF: symmetry operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz)
 *   are expanded to P1 and images wrapped into [0, 1); images closer than 0.01 Å (periodic
 *   Cartesian distance) are one site (the first kept, as pymatgen does); two different species
 *   on one position are an error. Oxidation states come from _atom_type_oxidation_number or
 *   from type symbols like "Ti4+"; the element from _atom_site_type_symbol, else from
 *   _atom_site_label ("Sr1" -> Sr). _atom_site_occupancy below 1 - 1e-4 (or above 1.05) is
 *   rejected. A block naming a space group other than P1 without listing its operations is an
 *   error. Blocks without cell and sites are skipped; each other block gives one cell.
 *   Numbers may carry standard uncertainties ("3.905(2)"); '?' and '.' are null values.
 * - POSCAR: VASP 5 (species line required), Direct or Cartesian, scale factor (negative =
 *   target volume), optional "Selective dynamics". Species names may carry oxidation states
 *   ("Ti4+"); a position line ending in a species of its group's element with an oxidation
 *   state ("0 0 0 Ti4+", as matscreen writes them) gives that atom its oxidation state.
 * - extxyz: Lattice="..." and Properties=species:S:1:pos:R:3[:charge:R:1 or oxidation...].
 *   The oxidation state is read from a column named oxi_states, oxidation_state(s),
 *   initial_charges, charge or charges (first found in that order), or from the species.
 *   Left-handed lattices are kept as given (as ASE does); a POSCAR's are rejected (as VASP does).
 * - Writers produce text a reader here, VASP, pymatgen and ASE accept, with enough digits
 *   (%.10f or better) for 1e-8 Å round trips. CIF: one P1 block per cell, type symbols "Ti4+"
 *   plus an _atom_type_oxidation_number loop. POSCAR: plain element symbols on the species line
 *   (VASP and ASE accept nothing else there; a symbol appears twice for two oxidation states
 *   of one element) and the species with its oxidation state after each position ("Ti4+"),
 *   which other programs ignore and the reader here takes back. extxyz: bare symbols and an
 *   "oxi_states:R:1" column, the array name pymatgen's AseAtomsAdaptor maps to Species. CIF and POSCAR writers
 *   turn a left-handed cell into the same structure on the right-handed lattice -L (with
 *   fractional coordinates -f), because CIF parameters and VASP cannot hold a left-handed one.
 * - Not collective.
 */
#ifndef MATSCREEN_IO_H
#define MATSCREEN_IO_H

#include <stddef.h>
#include <stdio.h>

#include "matscreen/cell.h"
#include "matscreen/error.h"

typedef enum {
  MS_FORMAT_AUTO = 0,
  MS_FORMAT_CIF,
  MS_FORMAT_POSCAR,
  MS_FORMAT_EXTXYZ,
} ms_format;

/** "cif", "poscar", "extxyz" (also "vasp", "contcar", "xyz"); MS_ERR_INPUT if unknown. */
ms_err ms_format_from_name(const char *name, ms_format *fmt);
const char *ms_format_name(ms_format fmt);
/** Guess from the file name (extension, POSCAR/CONTCAR basenames) and, if that fails, from
 *  the content. MS_ERR_INPUT if neither tells. */
ms_err ms_format_guess(const char *path, const char *text, size_t len, ms_format *fmt);

ms_err ms_cif_parse(const char *text, size_t len, const char *name, ms_cell_list *out);
ms_err ms_poscar_parse(const char *text, size_t len, const char *name, ms_cell_list *out);
ms_err ms_extxyz_parse(const char *text, size_t len, const char *name, ms_cell_list *out);

/** Read a structure file of format @p fmt (AUTO: guess) into @p out. MS_ERR_FILE if it cannot
 *  be read, MS_ERR_INPUT for bad content; messages use @p path as NAME. */
ms_err ms_structure_read(const char *path, ms_format fmt, ms_cell_list *out);

ms_err ms_cif_write(FILE *fp, const ms_cell *c);
ms_err ms_poscar_write(FILE *fp, const ms_cell *c);
ms_err ms_extxyz_write(FILE *fp, const ms_cell *c);
/** Write @p n cells to @p path in format @p fmt (AUTO: from the name; MS_ERR_ARG if it does not
 *  tell). CIF writes one data block per cell and extxyz one frame per cell; POSCAR holds exactly
 *  one cell (MS_ERR_ARG otherwise, and nothing is written). The text goes to a temporary file
 *  in the same directory that is renamed to @p path, so a failed write leaves no partial file;
 *  missing parent directories of @p path are created first (paths.h); MS_ERR_FILE on I/O
 *  errors. */
ms_err ms_structure_write(const char *path, ms_format fmt, const ms_cell *cells, int n);

#endif
