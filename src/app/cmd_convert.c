/* `matscreen convert IN OUT`: convert a structure file between CIF, POSCAR and extended XYZ.
 *
 * Rank 0 reads and writes (the files are small and one writer avoids clobbering); the other
 * ranks only take part in the agreement on the result, so that under mpirun every rank exits
 * with the same code and the message is printed once. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "matscreen/io.h"
#include "matscreen/log.h"

const char ms_usage_convert[] =
    "usage: matscreen convert IN OUT [--format FMT] [--from FMT]\n"
    "\n"
    "Convert the structure(s) in IN to OUT.\n"
    "\n"
    "options:\n"
    "  -f, --format FMT  format of OUT: cif, poscar (also vasp, contcar) or extxyz (also xyz).\n"
    "                    Default: from the name of OUT (.cif; .vasp, .poscar, POSCAR*,\n"
    "                    CONTCAR*; .xyz, .extxyz).\n"
    "  --from FMT        format of IN. Default: from the name of IN, else from its content.\n"
    "  -h, --help        show this help.\n"
    "\n"
    "formats:\n"
    "  cif     read: every data block with a cell and atom sites; symmetry operations\n"
    "          (_space_group_symop_operation_xyz or _symmetry_equiv_pos_as_xyz) are\n"
    "          expanded to P1; oxidation states from _atom_type_oxidation_number or from\n"
    "          type symbols such as Ti4+; partially occupied sites are rejected.\n"
    "          write: one P1 data block per structure, with oxidation states.\n"
    "  poscar  VASP 5 POSCAR/CONTCAR (species line required); Direct or Cartesian;\n"
    "          a negative scale factor is the cell volume. Holds ONE structure.\n"
    "          write: plain element symbols on the species line (as VASP and ASE\n"
    "          want them); the oxidation states follow each position as a label\n"
    "          (0.5 0.5 0.5 Ti4+), which matscreen reads back and others ignore.\n"
    "  extxyz  extended XYZ with Lattice= and Properties=; any number of frames.\n"
    "          Oxidation states go to an oxi_states column (ASE array name used by\n"
    "          pymatgen's AseAtomsAdaptor).\n"
    "\n"
    "Units: Å. Lattice vectors are rows; positions are kept to 1e-10 Å or better.\n"
    "A multi-frame input can be written to CIF or extxyz, not to POSCAR.\n"
    "\n"
    "examples:\n"
    "  matscreen convert SrTiO3.cif POSCAR\n"
    "  matscreen convert relaxed.xyz all.cif\n"
    "  matscreen convert CONTCAR out.dat --format extxyz\n"
    "  matscreen convert structure.txt x.cif --from poscar\n"
    "\n"
    "Exit codes: 0 success, 1 bad input or usage (the message names file and line),\n"
    "2 runtime failure.\n";

static ms_err read_and_write(const char *in, ms_format from, const char *out, ms_format to,
                             ms_cell_list *cells) {
  MS_CALL(ms_structure_read(in, from, cells));
  MS_CHECK(to != MS_FORMAT_POSCAR || cells->n == 1, MS_ERR_INPUT,
           "%s holds %d structures, but a POSCAR file (%s) holds one; write extxyz or CIF "
           "instead, or split the input",
           in, cells->n, out);
  MS_CALL(ms_structure_write(out, to, cells->cells, cells->n));
  ms_log_info("wrote %d structure%s to %s (%s)", cells->n, cells->n == 1 ? "" : "s", out,
              ms_format_name(to));
  return MS_SUCCESS;
}

/* Read IN and write OUT (rank 0 only). */
static ms_err convert(const char *in, ms_format from, const char *out, ms_format to) {
  ms_cell_list cells;
  ms_cell_list_init(&cells);
  ms_err e = read_and_write(in, from, out, to, &cells);
  ms_cell_list_free(&cells);
  return e;
}

int ms_cmd_convert(int argc, char **argv) {
  const char *pos[2] = {NULL, NULL};
  const char *to_name = NULL, *from_name = NULL;
  int npos = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (ms_app_opt_is(a, "-h", "--help")) {
      if (ms_app_rank() == 0) fputs(ms_usage_convert, stdout);
      return 0;
    } else if (ms_app_opt_is(a, "-f", "--format")) {
      if (!(to_name = ms_app_opt_value(argc, argv, &i, "convert"))) return 1;
    } else if (ms_app_opt_is(a, "--from", NULL)) {
      if (!(from_name = ms_app_opt_value(argc, argv, &i, "convert"))) return 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      return ms_app_usage_error("convert", "unknown option '%s'", a);
    } else if (npos < 2) {
      pos[npos++] = a;
    } else {
      return ms_app_usage_error("convert", "too many arguments ('%s'); expected IN OUT", a);
    }
  }
  if (npos < 2) return ms_app_usage_error("convert", "expected IN and OUT files");

  /* Formats from options are checked on every rank: the same arguments give the same answer,
   * so no agreement is needed before reporting. */
  ms_format from = MS_FORMAT_AUTO, to = MS_FORMAT_AUTO;
  if (from_name && ms_format_from_name(from_name, &from) != MS_SUCCESS)
    return ms_app_usage_error("convert", "--from: %s", ms_err_message());
  if (to_name && ms_format_from_name(to_name, &to) != MS_SUCCESS)
    return ms_app_usage_error("convert", "--format: %s", ms_err_message());
  if (to == MS_FORMAT_AUTO && ms_format_guess(pos[1], NULL, 0, &to) != MS_SUCCESS) {
    ms_err_clear();
    return ms_app_usage_error("convert",
                              "cannot tell the output format from '%s'; name it .cif, .vasp "
                              "(or POSCAR), .xyz, or give --format",
                              pos[1]);
  }

  ms_err e = MS_SUCCESS;
  if (ms_app_rank() == 0) e = convert(pos[0], from, pos[1], to);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  return ms_app_report(e);
}
