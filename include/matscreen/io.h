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
 * - CIF: symmetry operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz)
 *   are expanded to P1 and coinciding sites merged; oxidation states come from
 *   _atom_type_oxidation_number or from type symbols like "Ti4+"; partial occupancy is rejected.
 * - POSCAR: VASP 5 (species line required), Direct or Cartesian, scale factor (negative =
 *   target volume), optional "Selective dynamics". Species labels may carry oxidation states
 *   ("Ti4+") as matscreen writes them.
 * - extxyz: Lattice="..." and Properties=species:S:1:pos:R:3[:charge:R:1 or oxidation...].
 * - Writers produce text a reader here, pymatgen and ASE accept, with oxidation states, and
 *   enough digits (%.10f or better) for 1e-8 Å round trips.
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

/** Read a structure file of format @p fmt (AUTO: guess) into @p out. */
ms_err ms_structure_read(const char *path, ms_format fmt, ms_cell_list *out);

ms_err ms_cif_write(FILE *fp, const ms_cell *c);
ms_err ms_poscar_write(FILE *fp, const ms_cell *c);
ms_err ms_extxyz_write(FILE *fp, const ms_cell *c);
/** Write cells to @p path; CIF and POSCAR take exactly one cell unless @p n == 1... CIF allows
 *  several data blocks, POSCAR only one (MS_ERR_ARG otherwise), extxyz any number of frames. */
ms_err ms_structure_write(const char *path, ms_format fmt, const ms_cell *cells, int n);

#endif
