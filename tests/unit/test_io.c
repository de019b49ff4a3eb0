/* Tests for structure files (CIF, POSCAR, extxyz).
 *
 * - Files in tests/data/structures/ are compared with what pymatgen or ASE read from the same
 *   files (X.expected, written by make_structures.py next to them): site count, lattice
 *   parameters, every site matched by species and periodic distance.
 * - In-memory inputs exercise the CIF grammar (quotes, text fields, CRLF, su, '?', several
 *   blocks), the symmetry-operation notations, oxidation states and the error messages, which
 *   must name "NAME:LINE".
 * - Round trips CIF -> POSCAR -> extxyz -> CIF keep the structure to 1e-8 Å.
 * Runs from the project root (meson sets the working directory). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/symop.h"
#include "matscreen/cell.h"
#include "matscreen/data.h"
#include "matscreen/io.h"
#include "matscreen/species.h"
#include "ms_test.h"

#define DATA "tests/data/structures/"

/* Periodic Cartesian distance between fractional positions a and b in cell c (images of the
 * 27 neighbouring cells are enough for the nearly-coinciding points compared here). */
static double pdist(const ms_cell *c, const double a[3], const double b[3]) {
  double best = INFINITY;
  for (int i = -1; i <= 1; ++i)
    for (int j = -1; j <= 1; ++j)
      for (int k = -1; k <= 1; ++k) {
        double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
        d[0] -= nearbyint(d[0]) + i;
        d[1] -= nearbyint(d[1]) + j;
        d[2] -= nearbyint(d[2]) + k;
        double r[3];
        ms_cell_frac_to_cart(c, d, r);
        double n = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        if (n < best) best = n;
      }
  return best;
}

static const char *sp_text(const ms_cell *c, int i, char *buf) {
  return ms_species_format(&c->species[c->kind[i]], buf, 32);
}

/* Every site of a has a partner in b with the same species within tol Å (using a's lattice
 * for distances; a and b must share the metric and basis). Returns the number unmatched. */
static int unmatched_sites(const ms_cell *a, const ms_cell *b, double tol) {
  if (a->natoms != b->natoms) return a->natoms > b->natoms ? a->natoms : b->natoms;
  char *used = calloc((size_t)b->natoms + 1, 1);
  int bad = 0;
  for (int i = 0; i < a->natoms; ++i) {
    char sa[32], sb[32];
    int found = -1;
    for (int j = 0; j < b->natoms && found < 0; ++j)
      if (!used[j] && strcmp(sp_text(a, i, sa), sp_text(b, j, sb)) == 0 &&
          pdist(a, a->frac[i], b->frac[j]) < tol)
        found = j;
    if (found < 0) {
      fprintf(stderr, "  site %d (%s %.8f %.8f %.8f) has no partner\n", i, sp_text(a, i, sa),
              a->frac[i][0], a->frac[i][1], a->frac[i][2]);
      ++bad;
    } else {
      used[found] = 1;
    }
  }
  free(used);
  return bad;
}

static void check_same_structure(const ms_cell *a, const ms_cell *b, double tol) {
  double pa[3], aa[3], pb[3], ab[3];
  ms_cell_parameters(a, pa, aa);
  ms_cell_parameters(b, pb, ab);
  for (int k = 0; k < 3; ++k) {
    MS_TEST_NEAR(pa[k], pb[k], tol);
    MS_TEST_NEAR(aa[k], ab[k], 1e-7);
  }
  MS_TEST_EQ_INT(a->natoms, b->natoms);
  MS_TEST_EQ_INT(unmatched_sites(a, b, tol), 0);
}

/* Read X.expected (format in make_structures.py) into cells with the reference lattice
 * rebuilt from its parameters (only the metric matters for the comparison). */
static int read_expected(const char *path, ms_cell_list *ref) {
  FILE *fp = fopen(path, "r");
  if (!fp) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  char line[512];
  ms_cell *c = NULL;
  double abc[3] = {0}, ang[3] = {0};
  while (fgets(line, sizeof line, fp)) {
    char sp[32];
    double f[3];
    int n = 0;
    if (line[0] == '#') continue;
    if (strncmp(line, "frame", 5) == 0) {
      ms_cell_list_push(ref, &c);
    } else if (c && sscanf(line, "natoms %d", &n) == 1) {
      ms_cell_reserve(c, n);
    } else if (c && sscanf(line, "abc %lf %lf %lf", &abc[0], &abc[1], &abc[2]) == 3) {
    } else if (c && sscanf(line, "angles %lf %lf %lf", &ang[0], &ang[1], &ang[2]) == 3) {
      double L[3][3];
      if (ms_lattice_from_parameters(abc, ang, L) != MS_SUCCESS) return -1;
      ms_cell_set_lattice(c, L);
    } else if (c && sscanf(line, "site %31s %lf %lf %lf", sp, &f[0], &f[1], &f[2]) == 4) {
      ms_species s;
      if (ms_species_parse(sp, &s) != MS_SUCCESS || ms_cell_add_atom(c, &s, f) != MS_SUCCESS) {
        fprintf(stderr, "%s: bad site line %s", path, line);
        fclose(fp);
        return -1;
      }
    }
  }
  fclose(fp);
  return 0;
}

static void test_reference_files(void) {
  static const char *files[] = {
      "srtio3_sym_oxi.cif", "spinel_sym_oxi.cif", "corundum_sym.cif", "rutile_p1_oxi.cif",
      "triclinic_ase.cif",  "rutile_vesta.cif",   "corundum_direct.vasp",
      "spinel_cartesian.vasp", "srtio3_negscale.vasp", "frames_ase.extxyz",
  };
  for (size_t f = 0; f < sizeof files / sizeof files[0]; ++f) {
    char path[256], epath[300];
    snprintf(path, sizeof path, DATA "%s", files[f]);
    snprintf(epath, sizeof epath, "%s.expected", path);
    ms_cell_list got, ref;
    ms_cell_list_init(&got);
    ms_cell_list_init(&ref);
    fprintf(stderr, "reference: %s\n", files[f]);
    MS_TEST_OK(ms_structure_read(path, MS_FORMAT_AUTO, &got));
    MS_TEST_EQ_INT(read_expected(epath, &ref), 0);
    MS_TEST_EQ_INT(got.n, ref.n);
    for (int k = 0; k < got.n && k < ref.n; ++k) {
      /* The reference lattice is in the standard orientation: compare parameters, then
       * sites in fractional coordinates with the reference metric (1e-5 Å). */
      check_same_structure(&ref.cells[k], &got.cells[k], 1e-5);
    }
    ms_cell_list_free(&got);
    ms_cell_list_free(&ref);
  }
}

/* Parse CIF text; returns the error code. */
static ms_err cif(const char *text, ms_cell_list *l) {
  return ms_cif_parse(text, strlen(text), "mem.cif", l);
}

static void test_symop_notations(void) {
  static const struct {
    const char *text;
    int rot[3][3];
    double t[3];
  } ok[] = {
      {"x,y,z", {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {0, 0, 0}},
      {"+x,y,z+1/2", {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {0, 0, 0.5}},
      {"-x+y, -x, z", {{-1, 1, 0}, {-1, 0, 0}, {0, 0, 1}}, {0, 0, 0}},
      {"1/2+X, Y , -Z+0.75", {{1, 0, 0}, {0, 1, 0}, {0, 0, -1}}, {0.5, 0, 0.75}},
      {"y+1/4,x-3/4,-z", {{0, 1, 0}, {1, 0, 0}, {0, 0, -1}}, {0.25, -0.75, 0}},
      {"x-y,x,z+5/6", {{1, -1, 0}, {1, 0, 0}, {0, 0, 1}}, {0, 0, 5.0 / 6.0}},
      {"-1*x, 1*y, z", {{-1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {0, 0, 0}},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; ++i) {
    ms_symop op;
    char why[128] = "";
    int rc = ms__symop_parse(ok[i].text, strlen(ok[i].text), &op, why, sizeof why);
    MS_TEST_EQ_INT(rc, 0);
    if (rc) fprintf(stderr, "  '%s': %s\n", ok[i].text, why);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) MS_TEST_EQ_INT(op.rot[r][c], ok[i].rot[r][c]);
      MS_TEST_NEAR(op.trans[r], ok[i].t[r], 1e-15);
    }
  }
  static const char *bad[] = {"x,y", "x,y,z,x", "2x,y,z", "x/2,y,z", "x,y,", "x,,z",
                              "x,y,w", "x y,y,z", "x,x,z", "1/0+x,y,z", "+,y,z", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    ms_symop op;
    char why[128] = "";
    MS_TEST_EQ_INT(ms__symop_parse(bad[i], strlen(bad[i]), &op, why, sizeof why), -1);
    MS_TEST_TRUE(why[0] != '\0');
  }
}

/* Wurtzite ZnO (P6_3mc) with 4-decimal special positions and mixed operation notations:
 * the 12 operations on 2 sites must merge to 4 atoms. */
static const char *wurtzite =
    "# wurtzite, written by hand\n"
    "data_ZnO\n"
    "_cell_length_a 3.2495(5)\n_cell_length_b 3.2495(5)\n_cell_length_c 5.2069(10)\n"
    "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 120\n"
    "_symmetry_space_group_name_H-M 'P 63 m c'\n"
    "loop_\n_symmetry_equiv_pos_site_id\n_symmetry_equiv_pos_as_xyz\n"
    "1 x,y,z\n2 -y,x-y,z\n3 '-x+y,-x,z'\n4 \"-x,-y,z+1/2\"\n5 'y,-x+y,z+0.5'\n"
    "6 'x-y,x,1/2+z'\n7 '-y,-x,z'\n8 '-x+y,y,z'\n9 'x,x-y,z'\n10 '-X,-X+Y,Z+1/2'\n"
    "11 'y,x,z+1/2'\n12 'x-y,-y,z+1/2'\n"
    "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
    "_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n"
    "Zn1 Zn2+ 0.3333 0.6667 0.0 1.0\n"
    "O1 O2- 0.3333 0.6667 0.3819(4) ?\n";

static void test_cif_symmetry(void) {
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(cif(wurtzite, &l));
  MS_TEST_EQ_INT(l.n, 1);
  if (l.n == 1) {
    ms_cell *c = &l.cells[0];
    MS_TEST_EQ_INT(c->natoms, 4);
    MS_TEST_EQ_INT(c->nkinds, 2);
    double abc[3], ang[3];
    ms_cell_parameters(c, abc, ang);
    MS_TEST_NEAR(abc[0], 3.2495, 1e-12);
    MS_TEST_NEAR(abc[2], 5.2069, 1e-12);
    MS_TEST_NEAR(ang[2], 120.0, 1e-10);
    MS_TEST_EQ_STR(c->label, "ZnO");
    double q = 0;
    int known = 0;
    q = ms_cell_net_charge(c, &known);
    MS_TEST_EQ_INT(known, 1);
    MS_TEST_NEAR(q, 0.0, 1e-12);
    /* The second Zn is the 6_3 image (2/3, 1/3, 1/2). */
    double want[3] = {2.0 / 3.0, 1.0 / 3.0, 0.5};
    double best = INFINITY;
    for (int i = 0; i < c->natoms; ++i)
      if (c->species[c->kind[i]].Z == 30) best = fmin(best, pdist(c, c->frac[i], want));
    MS_TEST_TRUE(best < 1e-3);
  }
  ms_cell_list_free(&l);

  /* Same with the newer tag name and DDLm dotted names. */
  const char *ddlm =
      "data_x\n_cell.length_a 4\n_cell.length_b 4\n_cell.length_c 4\n"
      "_cell.angle_alpha 90\n_cell.angle_beta 90\n_cell.angle_gamma 90\n"
      "loop_\n_space_group_symop.operation_xyz\n'x,y,z'\n'-x,-y,-z'\n'x+1/2,y+1/2,z+1/2'\n"
      "'-x+1/2,-y+1/2,-z+1/2'\n"
      "loop_\n_atom_site.label\n_atom_site.fract_x\n_atom_site.fract_y\n_atom_site.fract_z\n"
      "Cs1 0 0 0\nCl1 0.25 0.25 0.25\n";
  ms_cell_list_init(&l);
  MS_TEST_OK(cif(ddlm, &l));
  if (l.n == 1) {
    MS_TEST_EQ_INT(l.cells[0].natoms, 4); /* Cs at 0 and 1/2, Cl at 1/4 and 3/4: 16 images merge to 4 */
    MS_TEST_EQ_INT(l.cells[0].species[0].Z, 55);
    MS_TEST_EQ_INT(l.cells[0].species[0].has_ox, 0);
  }
  ms_cell_list_free(&l);
}

static void test_cif_grammar(void) {
  /* Two structure blocks, a block without a structure, comments, a text field holding
   * block-like words, CRLF line ends, '?' and '.' values, su, labels without type symbols,
   * oxidation numbers from an _atom_type loop keyed by element. */
  const char *text =
      "data_global_info\r\n_journal_name_full 'J. Something'\r\n"
      "data_first   # comment after a header\r\n"
      "_publ_section_title\r\n;\r\ndata_fake loop_ _cell_length_a 99\r\n;\r\n"
      "_cell_length_a 5.0(1)\r\n_cell_length_b 5.0\r\n_cell_length_c 5.0\r\n"
      "_cell_angle_alpha 90.\r\n_cell_angle_beta 90\r\n_cell_angle_gamma 90\r\n"
      "_cell_volume ?\r\n_symmetry_space_group_name_H-M 'P 1'\r\n"
      "loop_\r\n_atom_site_label\r\n_atom_site_fract_x\r\n_atom_site_fract_y\r\n"
      "_atom_site_fract_z\r\n_atom_site_occupancy\r\n_atom_site_U_iso_or_equiv\r\n"
      "Na1 0 0 0 1.000(3) .\r\nCl1 0.5 0.5 0.5 . 0.01\r\n"
      "loop_\r\n_atom_type_symbol\r\n_atom_type_oxidation_number\r\nNa 1\r\nCl -1\r\n"
      "\r\n"
      "data_second\n_cell_length_a 3\n_cell_length_b 4\n_cell_length_c 5\n"
      "_cell_angle_alpha 80\n_cell_angle_beta 85\n_cell_angle_gamma 95\n"
      "loop_\n_atom_site_type_symbol\n_atom_site_label\n_atom_site_fract_x\n"
      "_atom_site_fract_y\n_atom_site_fract_z\n"
      "Fe2.5+ 'Fe a' -0.25 1.25 0.5\nO2- O'1 0.1 0.2 0.3\nLi+ Li1 0 0 0\n";
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(cif(text, &l));
  MS_TEST_EQ_INT(l.n, 2);
  if (l.n == 2) {
    ms_cell *a = &l.cells[0], *b = &l.cells[1];
    MS_TEST_EQ_STR(a->label, "first");
    MS_TEST_EQ_INT(a->natoms, 2);
    char s0[32], s1[32];
    MS_TEST_EQ_STR(sp_text(a, 0, s0), "Na+");
    MS_TEST_EQ_STR(sp_text(a, 1, s1), "Cl-");
    double abc[3], ang[3];
    ms_cell_parameters(b, abc, ang);
    MS_TEST_NEAR(abc[1], 4.0, 1e-12);
    MS_TEST_NEAR(ang[0], 80.0, 1e-10);
    MS_TEST_NEAR(ang[2], 95.0, 1e-10);
    MS_TEST_EQ_INT(b->natoms, 3);
    MS_TEST_EQ_STR(sp_text(b, 0, s0), "Fe2.5+");
    MS_TEST_EQ_STR(sp_text(b, 2, s1), "Li+");
    /* Images are wrapped into [0, 1) (as pymatgen does). */
    MS_TEST_NEAR(b->frac[0][0], 0.75, 1e-15);
    MS_TEST_NEAR(b->frac[0][1], 0.25, 1e-15);
  }
  ms_cell_list_free(&l);
}

/* Messages must read "mem.cif:LINE: ..." with the right line. */
static void test_cif_errors(void) {
  const char *head = "data_t\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
                     "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n";
  static const struct {
    const char *body, *want;
  } cases[] = {
      {"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "_atom_site_occupancy\nSr1 0 0 0 0.5\n",
       "mem.cif:14: site 'Sr1' has occupancy 0.5: partially occupied"},
      {"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Xq1 0 0 0\n",
       "mem.cif:13: unknown element in _atom_site_label 'Xq1'"},
      {"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 nan 0\n",
       "mem.cif:13: fractional coordinate y is not a finite number: 'nan'"},
      {"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 0 0\nO1 0.5 0.5\n",
       "mem.cif:8: loop has 7 values for 4 tags"},
      {"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 0 0\nO1 0.001 0 0\n",
       "mem.cif:14: sites 'Sr1' (line 13) and 'O1' of different species share the position"},
      {"loop_\n_symmetry_equiv_pos_as_xyz\n'x,y,z'\n'x,y'\n"
       "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 0 0\n",
       "mem.cif:11: symmetry operation 'x,y': expected three comma-separated components"},
      {"_symmetry_space_group_name_H-M 'F m -3 m'\n"
       "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 0 0\n",
       "mem.cif:1: data block 't' names a space group but lists no symmetry operations"},
      {"_symmetry_space_group_name_H-M ?\n_symmetry_Int_Tables_number 225\n"
       "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 0 0\n",
       "mem.cif:1: data block 't' names a space group but lists no symmetry operations"},
      {"_atom_site_label 'Sr1\n", "mem.cif:8: quoted string is not closed"},
      {"_publ_section_title\n;\nnever closed\n", "mem.cif:9: text field opened with ';'"},
      {"_cell_volume\n", "mem.cif:8: tag '_cell_volume' has no value"},
      {"_cell_length_a 5\n", "mem.cif:8: _cell_length_a appears twice"},
      {"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
       "Sr1 0 0 0\n"
       "loop_\n_atom_type_symbol\n_atom_type_oxidation_number\nSr 2\nSr 2\n_x 1\n"
       "_atom_site_occupancy 1\n",
       NULL /* occupancy in another table: checked below */},
      {"stray\n", "mem.cif:8: unexpected value 'stray'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char text[2048];
    snprintf(text, sizeof text, "%s%s", head, cases[i].body);
    ms_cell_list l;
    ms_cell_list_init(&l);
    if (cases[i].want) {
      MS_TEST_ERR(cif(text, &l), MS_ERR_INPUT, cases[i].want);
    } else {
      MS_TEST_ERR(cif(text, &l), MS_ERR_INPUT, "must be columns of the same loop");
    }
    MS_TEST_EQ_INT(l.n, 0);
    ms_cell_list_free(&l);
  }
  /* Missing cell, empty file, garbage, a file with no structure. */
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_ERR(cif("data_x\n_cell_length_a 4\nloop_\n_atom_site_label\n_atom_site_fract_x\n"
                  "_atom_site_fract_y\n_atom_site_fract_z\nO1 0 0 0\n",
                  &l),
              MS_ERR_INPUT, "mem.cif:1: data block 'x' has no _cell_length_b");
  MS_TEST_ERR(cif("", &l), MS_ERR_INPUT, "mem.cif: file is empty");
  MS_TEST_ERR(ms_cif_parse("ab\0cd", 5, "mem.cif", &l), MS_ERR_INPUT, "mem.cif:1: binary data");
  MS_TEST_ERR(cif("hello world\n", &l), MS_ERR_INPUT, "mem.cif:1: expected a data block header");
  MS_TEST_ERR(cif("data_a\n_title x\n", &l), MS_ERR_INPUT, "mem.cif: no structure found");
  /* The first block is kept when the second is bad. */
  char two[2048];
  snprintf(two, sizeof two,
           "%sloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n"
           "_atom_site_fract_z\nO1 0 0 0\ndata_bad\n_cell_length_a -1\n",
           head);
  MS_TEST_ERR(cif(two, &l), MS_ERR_INPUT, "mem.cif:14: data block 'bad' has no _cell_length_b");
  MS_TEST_EQ_INT(l.n, 1);
  ms_cell_list_free(&l);
}

static void test_poscar(void) {
  const char *direct =
      "NaCl rocksalt\n 1.0\n 0 2.82 2.82\n 2.82 0 2.82\n 2.82 2.82 0\n Na+ Cl-\n 1 1\n"
      "direct\n 0 0 0 Na+\n 0.5 0.5 0.5 Cl-\n";
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_poscar_parse(direct, strlen(direct), "POSCAR", &l));
  if (l.n == 1) {
    MS_TEST_EQ_STR(l.cells[0].label, "NaCl rocksalt");
    MS_TEST_NEAR(ms_cell_volume(&l.cells[0]), 2 * 2.82 * 2.82 * 2.82, 1e-12);
    char s[32];
    MS_TEST_EQ_STR(sp_text(&l.cells[0], 1, s), "Cl-");
  }
  ms_cell_list_free(&l);
  /* A UTF-8 byte-order mark and CRLF line ends (a file saved by a Windows editor). */
  const char *bom = "\xEF\xBB\xBFMgO\r\n-74.088\r\n 0 1 1\r\n 1 0 1\r\n 1 1 0\r\n Mg O\r\n"
                    " 1 1\r\nCartesian\r\n 0 0 0\r\n 1 1 1\r\n";
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_poscar_parse(bom, strlen(bom), "POSCAR", &l));
  if (l.n == 1) {
    MS_TEST_EQ_STR(l.cells[0].label, "MgO");
    /* Volume scaled to 74.088 Å^3 from 2: factor (37.044)^(1/3) = 3.3327...; the O atom at
     * Cartesian (1,1,1) scales with the lattice, so it stays at fractional (1/2,1/2,1/2). */
    MS_TEST_NEAR(ms_cell_volume(&l.cells[0]), 74.088, 1e-9);
    for (int k = 0; k < 3; ++k) MS_TEST_NEAR(l.cells[0].frac[1][k], 0.5, 1e-12);
  }
  ms_cell_list_free(&l);
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n",
       "POSCAR:6: expected species names (VASP 5 format)"},
      {"t\n1\n4 0 0\n0 0 4\n0 4 0\nNa Cl\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n",
       "POSCAR:3: lattice vectors are left-handed"},
      {"t\n1\n4 0 0\n4 0 0\n0 0 4\nNa Cl\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n",
       "POSCAR:3: lattice vectors span zero volume"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa Cl\n1 1\nDirect\n0 0 0\n", "POSCAR:10: file ends after 1 of 2"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa Cl\n1\nDirect\n0 0 0\n", "POSCAR:7: 1 atom counts for 2 species"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa Cl\n1 1 1\nDirect\n0 0 0\n", "POSCAR:7: more atom counts"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa Xx\n1 1\nDirect\n0 0 0\n", "POSCAR:6: unknown species name 'Xx'"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa\n1\nReciprocal\n0 0 0\n", "POSCAR:8: expected 'Direct' or 'Cartesian'"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa\n1\nD\n0 NaN 0\n", "POSCAR:9: atom position: 'NaN' is not a finite"},
      {"t\n1\n4 0 0\n0 4 x\n", "POSCAR:4: lattice vector b: expected a number, got 'x'"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa\n10000000\nD\n0 0 0\n", "POSCAR:10: file ends after 1 of 10000000"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa\n10000001\nD\n0 0 0\n", "POSCAR:7: atom count 1 is 10000001"},
      {"t\n1\n4 0 0\n0 4 0\n0 0 4\nNa O\n9999999 9999999\nD\n", "POSCAR:7: 19999998 atoms in total"},
      {"t\n0\n4 0 0\n", "POSCAR:2: scaling factor is zero"},
      {"t\n", "POSCAR:2: file ends before the scaling factor"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    ms_cell_list_init(&l);
    MS_TEST_ERR(ms_poscar_parse(bad[i].text, strlen(bad[i].text), "POSCAR", &l), MS_ERR_INPUT,
                bad[i].want);
    MS_TEST_EQ_INT(l.n, 0);
    ms_cell_list_free(&l);
  }
}

/* The species line of a written POSCAR holds element symbols only: VASP picks POTCARs by it
 * and ASE's reader takes each entry as a chemical symbol (it raises KeyError on "La3+"). The
 * oxidation states travel as position labels and come back when the file is read here. Two
 * states of one element ("Fe2+", "Fe3+", magnetite-like) give the symbol twice. */
static void test_poscar_writer(void) {
  ms_cell c = MS_CELL_INIT;
  double L[3][3] = {{4.2, 0, 0}, {0, 4.3, 0}, {0, 0, 4.4}};
  ms_cell_set_lattice(&c, L);
  ms_species fe2 = {26, 1, 2.0}, fe3 = {26, 1, 3.0}, o = {8, 1, -2.0}, la = {57, 1, 3.0};
  ms_cell_add_atom(&c, &fe2, (double[3]){0, 0, 0});
  ms_cell_add_atom(&c, &fe3, (double[3]){0.5, 0.5, 0});
  ms_cell_add_atom(&c, &fe3, (double[3]){0.5, 0, 0.5});
  ms_cell_add_atom(&c, &la, (double[3]){0, 0.5, 0.5});
  for (int k = 0; k < 6; ++k) ms_cell_add_atom(&c, &o, (double[3]){0.25 * (k % 2), 0.1 * k, 0.3});
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  MS_TEST_OK(ms_poscar_write(fp, &c));
  fclose(fp);
  /* line 6: the species line */
  const char *p = buf;
  for (int k = 0; k < 5 && p; ++k) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
  char line6[64] = "";
  if (p) sscanf(p, "%63[^\n]", line6);
  MS_TEST_EQ_STR(line6, " Fe Fe La O");
  MS_TEST_TRUE(strstr(buf, " Fe3+\n") && strstr(buf, " La3+\n") && strstr(buf, " O2-\n"));
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_poscar_parse(buf, len, "POSCAR", &l));
  if (l.n == 1) check_same_structure(&c, &l.cells[0], 1e-10);
  ms_cell_list_free(&l);
  /* A file with plain symbols and no labels (as VASP writes CONTCAR) reads without charges. */
  const char *plain = "t\n1\n4 0 0\n0 4 0\n0 0 4\nLa O\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n";
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_poscar_parse(plain, strlen(plain), "POSCAR", &l));
  char s0[32];
  if (l.n == 1) MS_TEST_EQ_STR(sp_text(&l.cells[0], 0, s0), "La");
  ms_cell_list_free(&l);
  free(buf);
  ms_cell_free(&c);
}

static void test_extxyz(void) {
  const char *two =
      "2\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:tags:I:1:charge:R:1 "
      "energy=-1.5 pbc=\"T T T\" flag label=\"first frame\"\n"
      "Na 0 0 0 7 1.0\nCl 2 2 2 8 -1\n"
      "\n"
      "1\nproperties=pos:R:3:species:S:1 lattice=\"3 0 0 1 3 0 0 0 3\"\n1.5 1.5 1.5 Mg\n";
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_extxyz_parse(two, strlen(two), "f.xyz", &l));
  MS_TEST_EQ_INT(l.n, 2);
  if (l.n == 2) {
    char s[32];
    MS_TEST_EQ_STR(l.cells[0].label, "first frame");
    MS_TEST_EQ_STR(sp_text(&l.cells[0], 1, s), "Cl-");
    MS_TEST_NEAR(l.cells[0].frac[1][2], 0.5, 1e-15);
    MS_TEST_EQ_STR(sp_text(&l.cells[1], 0, s), "Mg");
    /* r = f L with b = (1, 3, 0): f = (0.5 - 1/6 ... ) solve: x = 3 f0 + f1, y = 3 f1. */
    MS_TEST_NEAR(l.cells[1].frac[0][1], 0.5, 1e-15);
    MS_TEST_NEAR(l.cells[1].frac[0][0], (1.5 - 0.5) / 3.0, 1e-15);
  }
  ms_cell_list_free(&l);
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"1\nProperties=species:S:1:pos:R:3\nNa 0 0 0\n", "f.xyz:2: no Lattice="},
      {"1\nLattice=\"4 0 0 0 4 0 0 0\"\nNa 0 0 0\n", "f.xyz:2: Lattice needs 9 numbers, found 8"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R\nNa 0 0 0\n",
       "f.xyz:2: Properties='species:S:1:pos:R' is not a list"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:2\nNa 0 0\n",
       "f.xyz:2: Properties: pos must be pos:R:3"},
      {"2\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 0 0\n", "f.xyz:4: file ends after 1 of 2 atoms"},
      {"3\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 0 0\nCl 2 2 2\n1\nLattice=\"4 0 0 0 4 0 0 0 4\"\n",
       "f.xyz:5: atom 3 has 1 fields but Properties declares 4"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\nNa 0 0 0\n", "f.xyz:2: unterminated quote"},
      {"x\n", "f.xyz:1: expected the number of atoms of a frame, got 'x'"},
      {"99999999999\n", "f.xyz:1: number of atoms 99999999999 is out of range"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 inf 0\n", "f.xyz:3: position 'inf' is not a finite"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa1 0 0 0\n", "f.xyz:3: unknown species 'Na1'"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 0\"\nNa 0 0 0\n", "f.xyz:2: Lattice spans zero volume"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:charge:R:1\n"
       "Na 0 0 0 0.00002\n",
       "f.xyz:3: oxidation state '0.00002' is not 0 or a number from 0.01 to 12"},
      {"1\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa0.00002+ 0 0 0\n", "f.xyz:3: unknown species"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    ms_cell_list_init(&l);
    MS_TEST_ERR(ms_extxyz_parse(bad[i].text, strlen(bad[i].text), "f.xyz", &l), MS_ERR_INPUT,
                bad[i].want);
    ms_cell_list_free(&l);
  }
}

/* Write with @p fn into memory, then parse with @p parse. */
typedef ms_err (*write_fn)(FILE *, const ms_cell *);
typedef ms_err (*parse_fn)(const char *, size_t, const char *, ms_cell_list *);
static int through(write_fn wr, parse_fn rd, const ms_cell *in, ms_cell *out) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  if (!fp) return -1;
  ms_err e = wr(fp, in);
  fclose(fp);
  ms_cell_list l;
  ms_cell_list_init(&l);
  if (!e) e = rd(buf, len, "roundtrip", &l);
  if (e) fprintf(stderr, "round trip failed: %s\n%s\n", ms_err_message(), buf);
  free(buf);
  int rc = (e || l.n != 1) ? -1 : 0;
  if (!rc) {
    ms_cell_free(out);
    *out = l.cells[0];
    ms_cell_init(&l.cells[0]);
  }
  ms_cell_list_free(&l);
  return rc;
}

static void test_round_trips(void) {
  static const char *files[] = {"spinel_sym_oxi.cif", "triclinic_ase.cif", "rutile_vesta.cif",
                                "frames_ase.extxyz"};
  for (size_t f = 0; f < sizeof files / sizeof files[0]; ++f) {
    char path[256];
    snprintf(path, sizeof path, DATA "%s", files[f]);
    ms_cell_list l;
    ms_cell_list_init(&l);
    MS_TEST_OK(ms_structure_read(path, MS_FORMAT_AUTO, &l));
    if (l.n < 1) continue;
    ms_cell *orig = &l.cells[l.n - 1];
    ms_cell a = MS_CELL_INIT, b = MS_CELL_INIT, c = MS_CELL_INIT, d = MS_CELL_INIT;
    MS_TEST_EQ_INT(through(ms_cif_write, ms_cif_parse, orig, &a), 0);
    MS_TEST_EQ_INT(through(ms_poscar_write, ms_poscar_parse, &a, &b), 0);
    MS_TEST_EQ_INT(through(ms_extxyz_write, ms_extxyz_parse, &b, &c), 0);
    MS_TEST_EQ_INT(through(ms_cif_write, ms_cif_parse, &c, &d), 0);
    fprintf(stderr, "round trip: %s\n", files[f]);
    check_same_structure(orig, &d, 1e-8);
    /* POSCAR and extxyz keep the lattice itself, not only its metric. */
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) MS_TEST_NEAR(b.lattice[i][j], c.lattice[i][j], 1e-10);
    ms_cell_free(&a);
    ms_cell_free(&b);
    ms_cell_free(&c);
    ms_cell_free(&d);
    ms_cell_list_free(&l);
  }

  /* A left-handed cell: writers flip to -L, -f so the Cartesian structure stays the same and
   * does not become its mirror image. Minimum-image vectors from site 0 to sites 1-3 are
   * compared through their lengths, dot products and triple product (the sign of which
   * flips under a mirror, while a rotation of the whole cell, as CIF makes, keeps it). */
  ms_cell lh = MS_CELL_INIT, out = MS_CELL_INIT;
  double L[3][3] = {{4.1, 0.2, 0}, {0, 0, 3.7}, {0.3, 4.4, 0.1}};
  ms_cell_set_lattice(&lh, L);
  MS_TEST_TRUE(ms_cell_det(&lh) < 0);
  ms_species na = {11, 1, 1.0}, cl = {17, 1, -1.0}, o = {8, 0, 0.0};
  ms_cell_add_atom(&lh, &na, (double[3]){0.1, 0.2, 0.3});
  ms_cell_add_atom(&lh, &cl, (double[3]){0.6, 0.5, 0.7});
  ms_cell_add_atom(&lh, &o, (double[3]){0.9, 0.05, 0.45});
  ms_cell_add_atom(&lh, &o, (double[3]){0.35, 0.8, 0.1});
  write_fn w[3] = {ms_cif_write, ms_poscar_write, ms_extxyz_write};
  parse_fn p[3] = {ms_cif_parse, ms_poscar_parse, ms_extxyz_parse};
  double v0[3][3];
  for (int i = 1; i < 4; ++i) ms_cell_distance(&lh, 0, i, v0[i - 1]);
  for (int k = 0; k < 3; ++k) {
    MS_TEST_EQ_INT(through(w[k], p[k], &lh, &out), 0);
    MS_TEST_EQ_INT(out.natoms, 4);
    if (out.natoms != 4) continue;
    /* POSCAR groups sites by species: Na, Cl, O, O keeps the order here. */
    double v1[3][3];
    for (int i = 1; i < 4; ++i) ms_cell_distance(&out, 0, i, v1[i - 1]);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        double d0 = v0[i][0] * v0[j][0] + v0[i][1] * v0[j][1] + v0[i][2] * v0[j][2];
        double d1 = v1[i][0] * v1[j][0] + v1[i][1] * v1[j][1] + v1[i][2] * v1[j][2];
        MS_TEST_NEAR(d0, d1, 1e-7);
      }
    double t0 = v0[0][0] * (v0[1][1] * v0[2][2] - v0[1][2] * v0[2][1]) -
                v0[0][1] * (v0[1][0] * v0[2][2] - v0[1][2] * v0[2][0]) +
                v0[0][2] * (v0[1][0] * v0[2][1] - v0[1][1] * v0[2][0]);
    double t1 = v1[0][0] * (v1[1][1] * v1[2][2] - v1[1][2] * v1[2][1]) -
                v1[0][1] * (v1[1][0] * v1[2][2] - v1[1][2] * v1[2][0]) +
                v1[0][2] * (v1[1][0] * v1[2][1] - v1[1][1] * v1[2][0]);
    MS_TEST_NEAR(t1, t0, 1e-7);
    MS_TEST_TRUE(fabs(t0) > 0.01); /* the three vectors are not coplanar */
    char s0[32], s1[32];
    MS_TEST_EQ_STR(sp_text(&out, 1, s0), "Cl-");
    MS_TEST_EQ_STR(sp_text(&out, 3, s1), "O");
    MS_TEST_TRUE(ms_cell_det(&out) > 0 || k == 2); /* extxyz keeps the lattice as given */
  }
  ms_cell_free(&out);
  ms_cell_free(&lh);
}

static void test_formats(void) {
  ms_format f;
  MS_TEST_OK(ms_format_from_name("CIF", &f));
  MS_TEST_EQ_INT(f, MS_FORMAT_CIF);
  MS_TEST_OK(ms_format_from_name("vasp", &f));
  MS_TEST_EQ_INT(f, MS_FORMAT_POSCAR);
  MS_TEST_OK(ms_format_from_name("xyz", &f));
  MS_TEST_EQ_INT(f, MS_FORMAT_EXTXYZ);
  MS_TEST_ERR(ms_format_from_name("pdb", &f), MS_ERR_INPUT, "unknown structure format 'pdb'");
  MS_TEST_EQ_STR(ms_format_name(MS_FORMAT_POSCAR), "poscar");
  static const struct {
    const char *path, *text;
    ms_format want;
  } g[] = {
      {"a/b/x.cif", "", MS_FORMAT_CIF},
      {"dir.v2/POSCAR", "", MS_FORMAT_POSCAR},
      {"CONTCAR_3", "", MS_FORMAT_POSCAR},
      {"x.VASP", "", MS_FORMAT_POSCAR},
      {"frames.extxyz", "", MS_FORMAT_EXTXYZ},
      {"noext", "# c\n\ndata_x\n", MS_FORMAT_CIF},
      {"noext", "_cell_length_a 4\n", MS_FORMAT_CIF},
      {"noext", "2\nLattice=\"1 0 0 0 1 0 0 0 1\"\n", MS_FORMAT_EXTXYZ},
      {"noext", "t\n1.0\n1 0 0\n0 1 0\n0 0 1\nNa\n1\nD\n0 0 0\n", MS_FORMAT_POSCAR},
  };
  for (size_t i = 0; i < sizeof g / sizeof g[0]; ++i) {
    MS_TEST_OK(ms_format_guess(g[i].path, g[i].text, strlen(g[i].text), &f));
    MS_TEST_EQ_INT(f, g[i].want);
  }
  MS_TEST_ERR(ms_format_guess("x.dat", "hello\n", 6, &f), MS_ERR_INPUT, "x.dat: cannot tell");

  /* Writing several cells: POSCAR refuses, extxyz and CIF keep them all. */
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_structure_read(DATA "frames_ase.extxyz", MS_FORMAT_AUTO, &l));
  MS_TEST_ERR(ms_structure_write("build-never-written.vasp", MS_FORMAT_AUTO, l.cells, l.n),
              MS_ERR_ARG, "a POSCAR file holds one structure, but there are 4");
  FILE *probe = fopen("build-never-written.vasp", "r");
  MS_TEST_TRUE(probe == NULL);
  if (probe) fclose(probe);
  char tmpl[] = "/tmp/ms_test_io_XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0) {
    close(fd);
    char path[64];
    snprintf(path, sizeof path, "%s.cif", tmpl);
    MS_TEST_OK(ms_structure_write(path, MS_FORMAT_AUTO, l.cells, l.n));
    ms_cell_list back;
    ms_cell_list_init(&back);
    MS_TEST_OK(ms_structure_read(path, MS_FORMAT_AUTO, &back));
    MS_TEST_EQ_INT(back.n, l.n);
    for (int k = 0; k < back.n && k < l.n; ++k) check_same_structure(&l.cells[k], &back.cells[k], 1e-8);
    ms_cell_list_free(&back);
    remove(path);
    remove(tmpl);
  }
  ms_cell_list_free(&l);
}

/* Large inputs are generated here rather than stored: a 60000-site P1 CIF (merging must stay
 * fast) and a 1 MB line of garbage. */
static void test_large_inputs(void) {
  const int n = 60000;
  size_t cap = 400 + (size_t)n * 64;
  char *text = malloc(cap);
  size_t len = (size_t)snprintf(text, cap,
                                "data_big\n_cell_length_a 150\n_cell_length_b 150\n"
                                "_cell_length_c 150\n_cell_angle_alpha 90\n_cell_angle_beta 90\n"
                                "_cell_angle_gamma 90\nloop_\n_atom_site_label\n"
                                "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n");
  for (int i = 0; i < n; ++i) {
    int x = i % 40, y = (i / 40) % 40, z = i / 1600;
    len += (size_t)snprintf(text + len, cap - len, "%s%d %.6f %.6f %.6f\n", i % 2 ? "O" : "Mg", i,
                            x / 40.0, y / 40.0, z / 40.0);
  }
  ms_cell_list l;
  ms_cell_list_init(&l);
  MS_TEST_OK(ms_cif_parse(text, len, "big.cif", &l));
  if (l.n == 1) MS_TEST_EQ_INT(l.cells[0].natoms, n);
  ms_cell_list_free(&l);
  free(text);

  size_t glen = 1 << 20;
  char *g = malloc(glen);
  for (size_t i = 0; i < glen; ++i) g[i] = (char)(33 + (i * 7919) % 90);
  ms_cell_list_init(&l);
  MS_TEST_ERR(ms_cif_parse(g, glen, "long.cif", &l), MS_ERR_INPUT, "long.cif:1:");
  MS_TEST_ERR(ms_poscar_parse(g, glen, "long.vasp", &l), MS_ERR_INPUT, "long.vasp:2:");
  MS_TEST_ERR(ms_extxyz_parse(g, glen, "long.xyz", &l), MS_ERR_INPUT, "long.xyz:1:");
  ms_cell_list_free(&l);
  free(g);
}

int main(void) {
  if (ms_elements_load() != MS_SUCCESS) {
    fprintf(stderr, "element table: %s\n", ms_err_message());
    return 1;
  }
  test_symop_notations();
  test_cif_symmetry();
  test_cif_grammar();
  test_cif_errors();
  test_poscar();
  test_poscar_writer();
  test_extxyz();
  test_formats();
  test_reference_files();
  test_round_trips();
  test_large_inputs();
  ms_elements_unload();
  return MS_TEST_RESULT();
}
