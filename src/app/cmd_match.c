/* `matscreen match A B`: structure comparison with pymatgen StructureMatcher semantics, and
 * `matscreen match --group FILES...`: grouping of duplicates.
 *
 * Pairs: A and B may hold several structures (multi-frame extxyz, CIF with several blocks).
 * With equal counts, frame k of A is compared with frame k of B; when one side has a single
 * structure it is compared with every structure of the other. Pairs are dealt round-robin to
 * the ranks and rank 0 prints the results in order (one JSON object per line with --json).
 *
 * Grouping: every rank reads the files, takes a contiguous block of the structures and calls
 * ms_match_group_mpi; rank 0 prints duplicate_of for every structure. */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/io.h"
#include "matscreen/log.h"
#include "matscreen/match.h"
#include "matscreen/symmetry.h"

const char ms_usage_match[] =
    "usage: matscreen match A B [options]\n"
    "       matscreen match --group STRUCTURES... [--energies FILE] [options]\n"
    "\n"
    "Compare crystal structures the way pymatgen's StructureMatcher does (defaults ltol 0.2,\n"
    "stol 0.3, angle_tol 5, primitive cells, volumes scaled to each other): both structures are\n"
    "reduced to primitive Niggli cells, lattice mappings within the length and angle tolerances\n"
    "are enumerated, and sites are assigned on the average lattice. Prints whether they match,\n"
    "the RMS and largest site displacement of the best mapping in units of (V/N)^(1/3), and the\n"
    "space groups. A and B may hold several structures: equal counts are compared frame by\n"
    "frame, a single structure against every structure of the other file.\n"
    "\n"
    "With --group, the structures of all files are grouped into sets of duplicates: the\n"
    "lowest-energy member of each group survives (energies from --energies, else file order)\n"
    "and every other member records the index of its survivor (duplicate_of). Under mpirun the\n"
    "work is distributed by composition and space group; the result does not depend on the\n"
    "number of ranks.\n"
    "\n"
    "options:\n"
    "  --ltol X            fractional length tolerance (default 0.2)\n"
    "  --stol X            site tolerance in units of (V/N)^(1/3) (default 0.3)\n"
    "  --angle-tol X       angle tolerance in degrees (default 5)\n"
    "  --elements          compare elements only, ignoring oxidation states\n"
    "  --any-spacegroup    allow structures with different space groups to match (pymatgen's\n"
    "                      behaviour; by default they never match)\n"
    "  --symprec X         space-group tolerance in Å (default 0.01)\n"
    "  --no-primitive      do not reduce to primitive cells\n"
    "  --no-scale          do not scale the volumes to each other\n"
    "  --fingerprint-tol X grouping only: compare two structures exactly only if their\n"
    "                      fingerprints (sorted distances to the 1st-4th neighbours over\n"
    "                      (V/N)^(1/3)) differ by at most X everywhere (default 0.1; 0\n"
    "                      compares all pairs of the same composition and site count)\n"
    "  --energies FILE     grouping only: one energy per structure and line\n"
    "  --format FMT        input format (cif, poscar, extxyz) instead of guessing\n"
    "  --json              JSON output: per pair a, b (file, frame, formula, nsites,\n"
    "                      spacegroup), match, reason, rms, max_dist, nmappings, time_s; for\n"
    "                      --group one object with n_structures, n_groups, duplicate_of\n"
    "                      (-1 for survivors), stats, read_s and time_s\n"
    "\n"
    "Details and the differences from pymatgen: docs/stability.md.\n"
    "\n"
    "examples:\n"
    "  matscreen match a.cif b.cif\n"
    "  mpirun -n 4 matscreen match --group relaxed.extxyz --energies energies.txt --json\n";

typedef struct {
  const char *file;
  int frame;
  const ms_cell *cell;
} ref;

static void describe(ms_jbuf *b, int json, const ref *r, const ms_match_prep *p) {
  char formula[128] = "?";
  if (ms_cell_formula(r->cell, 1, formula, sizeof formula)) ms_err_clear();
  if (json) {
    ms_jb_raw(b, "{");
    ms_jb_key(b, "file", 1);
    ms_jb_str(b, r->file);
    ms_jb_key(b, "frame", 0);
    ms_jb_printf(b, "%d", r->frame);
    ms_jb_key(b, "label", 0);
    ms_jb_str(b, r->cell->label);
    ms_jb_key(b, "formula", 0);
    ms_jb_str(b, formula);
    ms_jb_key(b, "natoms", 0);
    ms_jb_printf(b, "%d", r->cell->natoms);
    ms_jb_key(b, "nsites", 0);
    ms_jb_printf(b, "%d", p->cell.natoms);
    ms_jb_key(b, "spacegroup", 0);
    ms_jb_printf(b, "%d", p->spacegroup);
    ms_jb_raw(b, "}");
  } else {
    ms_jb_printf(b, "%s", r->file);
    if (r->frame > 0 || r->cell->label[0])
      ms_jb_printf(b, " [frame %d%s%s]", r->frame, r->cell->label[0] ? ": " : "", r->cell->label);
    ms_jb_printf(b, " %s (%d sites, primitive %d, space group %d)", formula, r->cell->natoms, p->cell.natoms,
                 p->spacegroup);
  }
}

static ms_err compare_pair(ms_jbuf *b, int json, const ref *ra, const ref *rb, const ms_match_options *o) {
  double t0 = MPI_Wtime();
  ms_match_prep pa, pb;
  ms_match_prep_init(&pa);
  ms_match_prep_init(&pb);
  ms_match_result r;
  ms_err e = ms_match_prepare(ra->cell, o, &pa);
  if (e) {
    char msg[600];
    snprintf(msg, sizeof msg, "%s", ms_err_message());
    e = ms__err_set(e, __FILE__, __LINE__, __func__, "%s (frame %d): %s", ra->file, ra->frame, msg);
  }
  if (!e) {
    e = ms_match_prepare(rb->cell, o, &pb);
    if (e) {
      char msg[600];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      e = ms__err_set(e, __FILE__, __LINE__, __func__, "%s (frame %d): %s", rb->file, rb->frame, msg);
    }
  }
  if (!e) e = ms_match_prepared(&pa, &pb, o, 1, &r);
  double dt = MPI_Wtime() - t0;
  if (!e) {
    /* Space groups are reported even when the guard is off. */
    if (!o->check_spacegroup) {
      if (ms_spacegroup(&pa.cell, o->symprec, o->sg_angle_tol, &pa.spacegroup, NULL)) ms_err_clear();
      if (ms_spacegroup(&pb.cell, o->symprec, o->sg_angle_tol, &pb.spacegroup, NULL)) ms_err_clear();
    }
    if (json) {
      ms_jb_raw(b, "{");
      ms_jb_key(b, "a", 1);
      describe(b, 1, ra, &pa);
      ms_jb_key(b, "b", 0);
      describe(b, 1, rb, &pb);
      ms_jb_key(b, "match", 0);
      ms_jb_raw(b, r.match ? "true" : "false");
      ms_jb_key(b, "reason", 0);
      ms_jb_str(b, ms_match_reason_name(r.reason));
      ms_jb_key(b, "rms", 0);
      ms_jb_num(b, r.rms);
      ms_jb_key(b, "max_dist", 0);
      ms_jb_num(b, r.max_dist);
      ms_jb_key(b, "nmappings", 0);
      ms_jb_printf(b, "%d", r.nmappings);
      ms_jb_key(b, "ltol", 0);
      ms_jb_num(b, o->ltol);
      ms_jb_key(b, "stol", 0);
      ms_jb_num(b, o->stol);
      ms_jb_key(b, "angle_tol", 0);
      ms_jb_num(b, o->angle_tol);
      ms_jb_key(b, "time_s", 0);
      ms_jb_num(b, dt);
      ms_jb_raw(b, "}\n");
    } else {
      ms_jb_raw(b, "A: ");
      describe(b, 0, ra, &pa);
      ms_jb_raw(b, "\nB: ");
      describe(b, 0, rb, &pb);
      ms_jb_printf(b, "\n  match        %s", r.match ? "yes" : "no");
      if (!r.match) ms_jb_printf(b, " (%s)", ms_match_reason_name(r.reason));
      if (isfinite(r.rms))
        ms_jb_printf(b, "\n  rms          %.6f\n  max          %.6f   (units of (V/N)^(1/3))", r.rms, r.max_dist);
      ms_jb_printf(b, "\n  tolerances   ltol %g, stol %g, angle_tol %g\n", o->ltol, o->stol, o->angle_tol);
    }
  }
  ms_match_prep_free(&pa);
  ms_match_prep_free(&pb);
  return e;
}

static ms_err read_all(const char *const *files, int nfiles, ms_format fmt, ms_cell_list *lists) {
  for (int f = 0; f < nfiles; ++f) {
    ms_cell_list_init(&lists[f]);
    MS_CALL(ms_structure_read(files[f], fmt, &lists[f]));
    MS_CHECK(lists[f].n > 0, MS_ERR_INPUT, "%s: no structure", files[f]);
  }
  return MS_SUCCESS;
}

/* Gather per-item texts from all ranks (item k on rank k % size) and print them in order on
 * rank 0, up to the first failed item; returns the agreed error. */
static ms_err print_in_order(ms_jbuf *out, long *lens, long nmine, long total, long fail_index,
                             ms_err fail_code, const char *fail_msg) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long first_fail = total;
  MPI_Allreduce(&fail_index, &first_fail, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
  int mylen = (int)out->n, myn = (int)nmine;
  int *counts = NULL, *displs = NULL, *nitems = NULL, *idispl = NULL;
  char *all = NULL;
  long *all_len = NULL;
  if (rank == 0) {
    counts = calloc((size_t)size, sizeof *counts);
    displs = calloc((size_t)size, sizeof *displs);
    nitems = calloc((size_t)size, sizeof *nitems);
    idispl = calloc((size_t)size, sizeof *idispl);
  }
  MPI_Gather(&mylen, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Gather(&myn, 1, MPI_INT, nitems, 1, MPI_INT, 0, MPI_COMM_WORLD);
  long tc = 0, ti = 0;
  if (rank == 0 && counts && displs && nitems && idispl) {
    for (int r = 0; r < size; ++r) {
      displs[r] = (int)tc;
      idispl[r] = (int)ti;
      tc += counts[r];
      ti += nitems[r];
    }
    all = malloc((size_t)tc + 1);
    all_len = calloc((size_t)ti + 1, sizeof *all_len);
  }
  MPI_Gatherv(out->s ? out->s : "", mylen, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
  MPI_Gatherv(lens, myn, MPI_LONG, all_len, nitems, idispl, MPI_LONG, 0, MPI_COMM_WORLD);
  if (rank == 0 && all && all_len) {
    long *pos = calloc((size_t)size, sizeof *pos);
    int *next = calloc((size_t)size, sizeof *next);
    for (int r = 0; r < size && pos; ++r) pos[r] = displs[r];
    for (long k = 0; k < first_fail && pos && next; ++k) {
      int r = (int)(k % size);
      long len = all_len[idispl[r] + next[r]++];
      fwrite(all + pos[r], 1, (size_t)len, stdout);
      pos[r] += len;
    }
    fflush(stdout);
    free(pos);
    free(next);
  }
  free(counts);
  free(displs);
  free(nitems);
  free(idispl);
  free(all);
  free(all_len);
  ms_err local = MS_SUCCESS;
  if (first_fail < total && fail_index == first_fail) local = ms__err_set(fail_code, __FILE__, __LINE__, __func__, "%s", fail_msg);
  return ms_err_agree(MPI_COMM_WORLD, local);
}

static ms_err run_pairs(const char *fa, const char *fb, ms_format fmt, const ms_match_options *o, int json) {
  const char *files[2] = {fa, fb};
  ms_cell_list lists[2];
  ms_err e = ms_err_agree(MPI_COMM_WORLD, read_all(files, 2, fmt, lists));
  if (e) {
    ms_cell_list_free(&lists[0]);
    ms_cell_list_free(&lists[1]);
    return e;
  }
  int na = lists[0].n, nb = lists[1].n;
  if (!(na == nb || na == 1 || nb == 1)) {
    ms_cell_list_free(&lists[0]);
    ms_cell_list_free(&lists[1]);
    MS_FAIL(MS_ERR_USAGE, "%s has %d structures and %s %d: give equal counts or one structure on one side",
            fa, na, fb, nb);
  }
  long total = na > nb ? na : nb;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  ms_jbuf out;
  ms_jb_init(&out);
  long *lens = calloc((size_t)(total / size + 2), sizeof *lens), nmine = 0, fail_index = total;
  ms_err fail_code = MS_SUCCESS;
  char fail_msg[1024] = "";
  ms_match_options opt = *o;
  for (long k = rank; k < total; k += size) {
    if (!lens) {
      fail_index = k;
      fail_code = MS_ERR_MEM;
      snprintf(fail_msg, sizeof fail_msg, "out of memory");
      break;
    }
    ref ra = {fa, na == 1 ? 0 : (int)k, &lists[0].cells[na == 1 ? 0 : k]};
    ref rb = {fb, nb == 1 ? 0 : (int)k, &lists[1].cells[nb == 1 ? 0 : k]};
    size_t before = out.n;
    ms_err ce = compare_pair(&out, json, &ra, &rb, &opt);
    if (ce) {
      fail_index = k;
      fail_code = ce;
      snprintf(fail_msg, sizeof fail_msg, "%s", ms_err_message());
      out.n = before;
      break;
    }
    lens[nmine++] = (long)(out.n - before);
  }
  if (out.oom && fail_index == total) {
    fail_index = 0;
    fail_code = MS_ERR_MEM;
    snprintf(fail_msg, sizeof fail_msg, "out of memory formatting results");
  }
  e = print_in_order(&out, lens, nmine, total, fail_index, fail_code, fail_msg);
  free(lens);
  ms_jb_free(&out);
  ms_cell_list_free(&lists[0]);
  ms_cell_list_free(&lists[1]);
  return e;
}

static ms_err read_energies(const char *path, double **out, long *n) {
  FILE *fp = fopen(path, "r");
  MS_CHECK(fp, MS_ERR_FILE, "%s: cannot open: %s", path, strerror(errno));
  char line[512];
  long cap = 1024, cnt = 0;
  double *v = malloc((size_t)cap * sizeof *v);
  int lineno = 0;
  ms_err e = v ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  while (!e && fgets(line, sizeof line, fp)) {
    ++lineno;
    char *s = line;
    while (*s == ' ' || *s == '\t') ++s;
    if (*s == '\0' || *s == '\n' || *s == '\r' || *s == '#') continue;
    char *end = NULL;
    double x = strtod(s, &end);
    while (end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) ++end;
    if (end == s || !end || *end != '\0' || isnan(x)) {
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s:%d: not a number: %s", path, lineno, s);
      break;
    }
    if (cnt == cap) {
      double *nv = realloc(v, (size_t)cap * 2 * sizeof *nv);
      if (!nv) {
        e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
        break;
      }
      v = nv;
      cap *= 2;
    }
    v[cnt++] = x;
  }
  fclose(fp);
  if (e) {
    free(v);
    return e;
  }
  *out = v;
  *n = cnt;
  return MS_SUCCESS;
}

static ms_err run_group(const char *const *files, int nfiles, ms_format fmt, const char *energy_file,
                        const ms_match_options *o, int json) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  double t0 = MPI_Wtime();
  ms_cell_list *lists = calloc((size_t)nfiles, sizeof *lists);
  ms_err e = lists ? read_all(files, nfiles, fmt, lists) : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  long total = 0;
  for (int f = 0; f < nfiles && lists; ++f) total += lists[f].n;
  double *energies = NULL;
  long nen = 0;
  if (!e && energy_file) {
    e = read_energies(energy_file, &energies, &nen);
    if (!e && nen != total)
      e = ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s has %ld energies for %ld structures",
                      energy_file, nen, total);
  }
  e = ms_err_agree(MPI_COMM_WORLD, e);
  /* My block of the global list: [lo, hi). */
  long lo = total * rank / size, hi = total * (rank + 1) / size, nloc = hi - lo;
  ms_cell *mine = NULL;
  long *dup = NULL, *all = NULL;
  if (!e) {
    mine = calloc((size_t)nloc + 1, sizeof *mine);
    dup = calloc((size_t)nloc + 1, sizeof *dup);
    if (!mine || !dup) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    long k = 0;
    for (int f = 0; f < nfiles && !e; ++f)
      for (int i = 0; i < lists[f].n; ++i, ++k)
        if (k >= lo && k < hi) mine[k - lo] = lists[f].cells[i]; /* shallow: lists own the arrays */
  }
  e = ms_err_agree(MPI_COMM_WORLD, e);
  double t1 = MPI_Wtime();
  ms_match_group_stats st;
  memset(&st, 0, sizeof st);
  if (!e) e = ms_match_group_mpi(MPI_COMM_WORLD, mine, (size_t)nloc, energies ? energies + lo : NULL, o, dup, &st);
  double t2 = MPI_Wtime();
  if (!e) {
    int *counts = NULL, *displs = NULL;
    if (rank == 0) {
      counts = calloc((size_t)size, sizeof *counts);
      displs = calloc((size_t)size, sizeof *displs);
      all = calloc((size_t)total + 1, sizeof *all);
      for (int r = 0; r < size && counts && displs; ++r) {
        long a = total * r / size, b = total * (r + 1) / size;
        counts[r] = (int)(b - a);
        displs[r] = (int)a;
      }
    }
    int n = (int)nloc;
    MPI_Gatherv(dup, n, MPI_LONG, all, counts, displs, MPI_LONG, 0, MPI_COMM_WORLD);
    if (rank == 0 && all) {
      ms_jbuf b;
      ms_jb_init(&b);
      if (json) {
        ms_jb_raw(&b, "{");
        ms_jb_key(&b, "n_structures", 1);
        ms_jb_printf(&b, "%ld", total);
        ms_jb_key(&b, "n_groups", 0);
        ms_jb_printf(&b, "%zu", st.ngroups);
        ms_jb_key(&b, "duplicate_of", 0);
        ms_jb_raw(&b, "[");
        for (long k = 0; k < total; ++k) ms_jb_printf(&b, k ? ", %ld" : "%ld", all[k]);
        ms_jb_raw(&b, "]");
        ms_jb_key(&b, "stats", 0);
        ms_jb_printf(&b,
                     "{\"n_buckets\": %zu, \"largest_bucket\": %zu, \"n_compared\": %zu, "
                     "\"prepare_s\": %.6f, \"group_s\": %.6f, \"ranks\": %d}",
                     st.nbuckets, st.largest_bucket, st.ncompared, st.prepare_s, st.group_s, size);
        ms_jb_key(&b, "ltol", 0);
        ms_jb_num(&b, o->ltol);
        ms_jb_key(&b, "stol", 0);
        ms_jb_num(&b, o->stol);
        ms_jb_key(&b, "angle_tol", 0);
        ms_jb_num(&b, o->angle_tol);
        ms_jb_key(&b, "read_s", 0);
        ms_jb_num(&b, t1 - t0);
        ms_jb_key(&b, "time_s", 0);
        ms_jb_num(&b, t2 - t1);
        ms_jb_raw(&b, "}\n");
      } else {
        ms_jb_printf(&b, "%ld structures, %zu groups (%zu buckets, largest %zu, %zu exact comparisons)\n",
                     total, st.ngroups, st.nbuckets, st.largest_bucket, st.ncompared);
        ms_jb_printf(&b, "time: reading %.3f s, grouping %.3f s (reduction %.3f s, matching %.3f s) on %d rank%s\n",
                     t1 - t0, t2 - t1, st.prepare_s, st.group_s, size, size == 1 ? "" : "s");
        ms_jb_raw(&b, "structure  duplicate_of\n");
        for (long k = 0; k < total; ++k)
          if (all[k] >= 0) ms_jb_printf(&b, "%9ld  %ld\n", k, all[k]);
          else ms_jb_printf(&b, "%9ld  -\n", k);
      }
      fwrite(b.s, 1, b.n, stdout);
      fflush(stdout);
      ms_jb_free(&b);
    }
    free(counts);
    free(displs);
  }
  free(all);
  free(mine);
  free(dup);
  free(energies);
  for (int f = 0; f < nfiles && lists; ++f) ms_cell_list_free(&lists[f]);
  free(lists);
  return e;
}

int ms_cmd_match(int argc, char **argv) {
  ms_match_options o;
  ms_match_options_default(&o);
  int json = 0, group = 0;
  const char *energy_file = NULL;
  ms_format fmt = MS_FORMAT_AUTO;
  const char **files = calloc((size_t)argc + 1, sizeof *files);
  int nfiles = 0;
  if (!files) return ms_app_report(ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  struct {
    const char *name;
    double *dst;
    double lo, hi;
  } dopts[] = {{"--ltol", &o.ltol, 0, 10},
               {"--stol", &o.stol, 0, 10},
               {"--angle-tol", &o.angle_tol, 0, 90},
               {"--symprec", &o.symprec, 0, 5},
               {"--fingerprint-tol", &o.fingerprint_tol, -1, 100}};
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    int handled = 0;
    for (size_t d = 0; d < sizeof dopts / sizeof dopts[0]; ++d) {
      if (!ms_app_opt_is(a, dopts[d].name, NULL)) continue;
      const char *v = ms_app_opt_value(argc, argv, &i, "match");
      if (!v || ms_app_parse_double("match", dopts[d].name, v, dopts[d].dst)) goto usage;
      if (!(*dopts[d].dst > dopts[d].lo && *dopts[d].dst < dopts[d].hi)) {
        ms_app_usage_error("match", "%s must be in (%g, %g), got %s", dopts[d].name, dopts[d].lo, dopts[d].hi, v);
        goto usage;
      }
      handled = 1;
      break;
    }
    if (handled) continue;
    if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--group") == 0) {
      group = 1;
    } else if (strcmp(a, "--elements") == 0) {
      o.compare_elements = 1;
    } else if (strcmp(a, "--any-spacegroup") == 0) {
      o.check_spacegroup = 0;
    } else if (strcmp(a, "--no-primitive") == 0) {
      o.primitive_cell = 0;
    } else if (strcmp(a, "--no-scale") == 0) {
      o.scale = 0;
    } else if (ms_app_opt_is(a, "--energies", NULL)) {
      if (!(energy_file = ms_app_opt_value(argc, argv, &i, "match"))) goto usage;
    } else if (ms_app_opt_is(a, "--format", NULL)) {
      const char *v = ms_app_opt_value(argc, argv, &i, "match");
      if (!v) goto usage;
      if (ms_format_from_name(v, &fmt)) {
        ms_app_usage_error("match", "%s", ms_err_message());
        ms_err_clear();
        goto usage;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      ms_app_usage_error("match", "unknown option '%s'", a);
      goto usage;
    } else {
      files[nfiles++] = a;
    }
  }
  if (energy_file && !group) {
    ms_app_usage_error("match", "--energies needs --group");
    goto usage;
  }
  ms_err e;
  if (group) {
    if (nfiles < 1) {
      ms_app_usage_error("match", "--group needs at least one structure file");
      goto usage;
    }
    e = run_group(files, nfiles, fmt, energy_file, &o, json);
  } else {
    if (nfiles != 2) {
      ms_app_usage_error("match", "needs two structure files A and B (got %d)", nfiles);
      goto usage;
    }
    e = run_pairs(files[0], files[1], fmt, &o, json);
  }
  free(files);
  return ms_app_report(e);
usage:
  free(files);
  return 1;
}
