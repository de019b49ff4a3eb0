/* Shared part of the libFuzzer targets for the structure readers.
 *
 * Besides "no crash, no leak, no undefined behaviour" on any input, the targets check one
 * property: whatever a reader accepts can be written as POSCAR and extxyz and read back by
 * matscreen (a structure it cannot write back is a bug). CIF output is written too, but not
 * required to re-parse: its reader merges sites closer than 0.01 Å, which a POSCAR may hold. */
#ifndef MS_FUZZ_COMMON_H
#define MS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "matscreen/error.h"
#include "matscreen/io.h"
#include "matscreen/species.h"

#include "fuzz_base.h"


typedef ms_err (*fuzz_parse_fn)(const char *, size_t, const char *, ms_cell_list *);
typedef ms_err (*fuzz_write_fn)(FILE *, const ms_cell *);

/* Write @p c with @p wr into memory and, if @p rd is given, require that it parses. */
static void fuzz_write_read(const ms_cell *c, fuzz_write_fn wr, fuzz_parse_fn rd) {
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&buf, &len);
  if (!fp) return;
  ms_err e = wr(fp, c);
  fclose(fp);
  if (e == MS_SUCCESS && rd) {
    ms_cell_list back;
    ms_cell_list_init(&back);
    if (rd(buf, len, "rewritten", &back) != MS_SUCCESS || back.n != 1 ||
        back.cells[0].natoms != c->natoms) {
      fprintf(stderr, "re-reading a written structure failed: %s\n--- text ---\n%.*s\n",
              ms_err_message(), (int)(len < 4000 ? len : 4000), buf);
      abort();
    }
    ms_cell_list_free(&back);
  }
  free(buf);
  ms_err_clear();
}

static int fuzz_one(const uint8_t *data, size_t size, fuzz_parse_fn parse, const char *name) {
  ms_cell_list l;
  ms_cell_list_init(&l);
  if (parse((const char *)data, size, name, &l) == MS_SUCCESS) {
    for (int k = 0; k < l.n; ++k) {
      fuzz_write_read(&l.cells[k], ms_poscar_write, ms_poscar_parse);
      fuzz_write_read(&l.cells[k], ms_extxyz_write, ms_extxyz_parse);
      fuzz_write_read(&l.cells[k], ms_cif_write, NULL);
    }
  }
  ms_cell_list_free(&l);
  ms_err_clear();
  return 0;
}

#endif
