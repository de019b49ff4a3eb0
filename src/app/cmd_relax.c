/* `matscreen relax STRUCTURE... --potential NAME|FILE`: relax positions (and cell) with TAO.
 *
 * Like `energy`: every structure of every file is relaxed in one process, dealt round-robin
 * to the ranks (structure k on rank k mod size; every rank reads the files itself), and rank 0
 * prints the results in input order. Each rank owns one model and one relaxer, reused for all
 * its structures. `time_s` is the wall time of the relaxation alone.
 *
 * A relaxation that does not converge (step limit, failed line search, explosion, collapse,
 * NaN) is a status in the output, not an error: the exit code stays 0. A species the model does
 * not cover is an input error (exit 1) after the results of the structures before it.
 *
 * `-o OUT` writes the returned structures (every status; the start structure when it could
 * not be relaxed) to one file, in input order; the other ranks send theirs to rank 0. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "batch.h"
#include "core/json.h"
#include "ordered.h"
#include "matscreen/io.h"
#include "matscreen/log.h"
#include "matscreen/model.h"
#include "matscreen/relax.h"
#include "model_args.h"

const char ms_usage_relax[] =
    "usage: matscreen relax STRUCTURE [STRUCTURE...] --potential NAME|FILE [options]\n"
    "\n"
    "Relax the positions (and the cell) of each structure with an energy model ('matscreen info\n"
    "models'), using a PETSc TAO minimiser (default: limited-memory BFGS). The objective is the\n"
    "energy, or the enthalpy E + P V with --pressure. A multi-frame extxyz or several files are\n"
    "relaxed one structure after another; under mpirun the structures are shared among the ranks.\n"
    "\n"
    "options:\n"
    "  --potential NAME|FILE  the model: a built-in name ('matscreen info models') or a file\n"
    "  --model-option KEY=VALUE  an option of the model's family (repeatable; 'info models')\n"
    "  --cell MODE            fixed (positions only), iso (volume), aniso (three lattice\n"
    "                         lengths), full (all six strain components; default)\n"
    "  --fmax X               converged when every atom's force is below X eV/Å (default 0.01)\n"
    "  --smax X               ... and the residual stress is below X GPa (default 0.05)\n"
    "  --etol X               also converged when a step changes the energy by less than\n"
    "                         X eV/atom (default: not used)\n"
    "  --pressure P           external pressure in GPa (default 0)\n"
    "  --max-steps N          iteration limit (default 1000); status max_steps beyond it\n"
    "  --symmetrize           symmetrise forces and stress with the start's space group (spglib)\n"
    "  --symprec X            symmetry tolerance in Å (default 1e-5)\n"
    "  --accuracy X           rigid-ion: relative accuracy of the electrostatics (default: the\n"
    "                         potential's)\n"
    "  --method auto|direct|pme  rigid-ion: electrostatics method\n"
    "  --no-coulomb           rigid-ion: short-range terms only\n"
    "  --semantics consistent|matgl  M3GNet: the three-body sums as published (default), or\n"
    "                         matgl's indexing to reproduce its numbers exactly\n"
    "  --format FMT           input format (cif, poscar, extxyz) instead of guessing\n"
    "  --guess-oxidation-states  give structures without oxidation states guessed ones when the\n"
    "                         model needs charges (rigid-ion; like pymatgen's guess, docs/models.md)\n"
    "  --fail-fast            stop at the first structure that cannot be relaxed at all (default:\n"
    "                         go on, give it status error or unsupported, exit 1 at the end)\n"
    "  -o OUT                 write the relaxed structures (format from the extension; a\n"
    "                         multi-frame extxyz or a multi-block CIF for several)\n"
    "  --json                 one JSON object per structure and line: status, converged,\n"
    "                         iterations, energy_evaluations, initial_energy_eV, energy_eV,\n"
    "                         energy_per_atom_eV, enthalpy_eV, forces_eV_per_A, stress_GPa,\n"
    "                         fmax_eV_per_A, smax_GPa, lattice_A, species, frac_positions,\n"
    "                         positions_A, volume_A3, time_s\n"
    "  --petsc-options STR    PETSc options, e.g. \"-relax_tao_type bncg\"; options starting with\n"
    "                         -relax_ may also be given directly (-relax_tao_type bncg): the\n"
    "                         next argument is taken as the value unless it starts with '-' or\n"
    "                         is an existing file (e.g. -relax_tao_monitor, -relax_tao_view).\n"
    "                         The L-BFGS memory only through --petsc-options:\n"
    "                         \"-tao_lmvm_mat_lmvm_hist_size 30\" (default 20)\n"
    "\n"
    "Structures that cannot be relaxed at all (unreadable or empty file, a species the model does\n"
    "not cover, oxidation states that cannot be guessed) get status error or unsupported, and the\n"
    "others go on; the exit code is then 1 (0 when every structure was relaxed, whatever its\n"
    "status). With -o only the relaxed structures are written.\n"
    "Statuses: converged, max_steps, line_search_failed, exploded (volume, a length or a width\n"
    "beyond its bound), collapsed (a pair inside a catastrophe guard), nan, overlap, bad_cell.\n"
    "\n"
    "examples:\n"
    "  matscreen relax SrTiO3.cif --potential bush1994 -o SrTiO3_relaxed.cif\n"
    "  mpirun -n 4 matscreen relax candidates.extxyz --potential bush1994 --cell full \\\n"
    "      --fmax 0.001 --json -o relaxed.extxyz > relaxed.jsonl\n"
    "  matscreen relax POSCAR --potential m3gnet-mp-2021.2.8 -o CONTCAR\n";

typedef struct {
  const char *file;
  int frame;
  const char *guessed; /* oxidation states guessed for it, or "" */
} item;

static void format_result(ms_jbuf *b, int json, const item *it, const ms_cell *c,
                          const ms_relax_result *r, const char *potential,
                          const ms_relax_options *o) {
  char formula[128] = "?";
  if (ms_cell_formula(c, 0, formula, sizeof formula)) ms_err_clear();
  int n = c->natoms;
  int conv = r->status == MS_STATUS_CONVERGED;
  if (json) {
    ms_jb_raw(b, "{");
    ms_jb_key(b, "file", 1);
    ms_jb_str(b, it->file);
    ms_jb_key(b, "frame", 0);
    ms_jb_printf(b, "%d", it->frame);
    ms_jb_key(b, "label", 0);
    ms_jb_str(b, c->label);
    ms_jb_key(b, "formula", 0);
    ms_jb_str(b, formula);
    ms_jb_key(b, "natoms", 0);
    ms_jb_printf(b, "%d", n);
    ms_jb_key(b, "potential", 0);
    ms_jb_str(b, potential);
    ms_jb_key(b, "cell", 0);
    ms_jb_str(b, ms_relax_cell_name(o->cell));
    ms_jb_key(b, "pressure_GPa", 0);
    ms_jb_num(b, o->pressure);
    ms_jb_key(b, "status", 0);
    ms_jb_str(b, ms_status_name(r->status));
    if (it->guessed && it->guessed[0]) {
      ms_jb_key(b, "oxidation_states_guessed", 0);
      ms_jb_str(b, it->guessed);
    }
    ms_jb_key(b, "converged", 0);
    ms_jb_raw(b, conv ? "true" : "false");
    ms_jb_key(b, "detail", 0);
    ms_jb_str(b, r->detail);
    ms_jb_key(b, "iterations", 0);
    ms_jb_printf(b, "%d", r->iterations);
    ms_jb_key(b, "energy_evaluations", 0);
    ms_jb_printf(b, "%d", r->evaluations);
    ms_jb_key(b, "initial_energy_eV", 0);
    ms_jb_num(b, r->energy_initial);
    ms_jb_key(b, "energy_eV", 0);
    ms_jb_num(b, r->energy);
    ms_jb_key(b, "energy_per_atom_eV", 0);
    ms_jb_num(b, r->energy / n);
    ms_jb_key(b, "enthalpy_eV", 0);
    ms_jb_num(b, r->enthalpy);
    ms_jb_key(b, "fmax_eV_per_A", 0);
    ms_jb_num(b, r->fmax);
    ms_jb_key(b, "smax_GPa", 0);
    ms_jb_num(b, r->smax);
    ms_jb_key(b, "forces_eV_per_A", 0);
    ms_jb_rows3(b, (const double (*)[3])r->forces, n);
    ms_jb_key(b, "stress_GPa", 0);
    ms_jb_nums(b, r->stress_GPa, 6);
    ms_jb_key(b, "lattice_A", 0);
    ms_jb_rows3(b, (const double (*)[3])c->lattice, 3);
    ms_jb_key(b, "volume_A3", 0);
    ms_jb_num(b, ms_cell_volume(c));
    ms_jb_key(b, "initial_volume_A3", 0);
    ms_jb_num(b, r->volume_initial);
    ms_jb_key(b, "species", 0);
    ms_jb_raw(b, "[");
    for (int i = 0; i < n; ++i) {
      char sp[32];
      ms_species_format(&c->species[c->kind[i]], sp, sizeof sp);
      if (i) ms_jb_raw(b, ", ");
      ms_jb_str(b, sp);
    }
    ms_jb_raw(b, "]");
    ms_jb_key(b, "frac_positions", 0);
    ms_jb_rows3(b, (const double (*)[3])c->frac, n);
    ms_jb_key(b, "positions_A", 0);
    ms_jb_raw(b, "[");
    for (int i = 0; i < n; ++i) {
      double p[3];
      ms_cell_site_cart(c, i, p);
      if (i) ms_jb_raw(b, ", ");
      ms_jb_nums(b, p, 3);
    }
    ms_jb_raw(b, "]");
    ms_jb_key(b, "symmetry_operations", 0);
    ms_jb_printf(b, "%d", r->nsym);
    ms_jb_key(b, "tao_reason", 0);
    ms_jb_str(b, r->tao_reason_name);
    ms_jb_key(b, "time_s", 0);
    ms_jb_num(b, r->time_s);
    ms_jb_raw(b, "}\n");
    return;
  }
  double abc[3], ang[3];
  ms_cell_parameters(c, abc, ang);
  ms_jb_printf(b, "%s", it->file);
  if (it->frame > 0 || c->label[0]) ms_jb_printf(b, " [frame %d%s%s]", it->frame, c->label[0] ? ": " : "", c->label);
  ms_jb_printf(b, "\n  formula           %s (%d atoms), potential %s, cell %s", formula, n, potential,
               ms_relax_cell_name(o->cell));
  if (o->pressure != 0) ms_jb_printf(b, ", pressure %g GPa", o->pressure);
  ms_jb_printf(b, "\n  status            %s%s%s\n", ms_status_name(r->status), r->detail[0] ? ": " : "", r->detail);
  ms_jb_printf(b, "  steps             %d iterations, %d energy evaluations, %.3f ms\n", r->iterations,
               r->evaluations, r->time_s * 1e3);
  ms_jb_printf(b, "  energy            %.10f eV -> %.10f eV  (%.10f eV/atom)\n", r->energy_initial,
               r->energy, r->energy / n);
  if (o->pressure != 0) ms_jb_printf(b, "  enthalpy          %.10f eV\n", r->enthalpy);
  ms_jb_printf(b, "  residuals         max |force| %.3g eV/Å, stress %.3g GPa\n", r->fmax, r->smax);
  ms_jb_printf(b, "  stress (GPa)      xx %.6f  yy %.6f  zz %.6f  yz %.6f  xz %.6f  xy %.6f\n",
               r->stress_GPa[0], r->stress_GPa[1], r->stress_GPa[2], r->stress_GPa[3],
               r->stress_GPa[4], r->stress_GPa[5]);
  ms_jb_printf(b, "  cell              a %.6f  b %.6f  c %.6f Å  alpha %.4f  beta %.4f  gamma %.4f  V %.4f Å^3\n",
               abc[0], abc[1], abc[2], ang[0], ang[1], ang[2], ms_cell_volume(c));
}

/* Append a PETSc option (and its value) to a growing option string. */
static int add_petsc_option(char **s, size_t *len, const char *text) {
  size_t need = strlen(text) + 2;
  char *t = realloc(*s, *len + need + 1);
  if (!t) return 1;
  *s = t;
  if (*len) t[(*len)++] = ' ';
  memcpy(t + *len, text, need - 2);
  *len += need - 2;
  t[*len] = '\0';
  return 0;
}

/* A token that can be the value of a preceding -relax_ option: not an option itself (except a
 * negative number) and not an existing file, so that a flag without a value
 * (-relax_tao_monitor) does not swallow the structure file after it. */
static int is_value(const char *a) {
  if (a[0] != '-') return access(a, F_OK) != 0;
  char *end = NULL;
  strtod(a, &end);
  return end != a && *end == '\0';
}

/* Rank 0's view of the results: the input lists (every rank read every file) receive the
 * relaxed geometries, and -o writes them once all are in. */
typedef struct {
  ms_batch *batch;
  const char *outpath;
  ms_cell *cells; /* shallow copies of the relaxed cells in input order, for writing */
  long ncells;
} out_ctx;

static void take_item(long k, const char *text, size_t len, const double *aux, long naux,
                      void *ctx) {
  out_ctx *oc = ctx;
  fwrite(text, 1, len, stdout);
  if (!oc->outpath || naux <= 0 || !oc->cells) return;
  ms_cell *c = oc->batch->items[k].cell;
  memcpy(c->lattice, aux, sizeof c->lattice);
  memcpy(c->frac, aux + 9, sizeof(double[3]) * (size_t)c->natoms);
  oc->cells[oc->ncells++] = *c;
}

/* -o: the relaxed structures (those that could not be relaxed at all are left out). */
static ms_err write_relaxed(long first_fail, void *ctx) {
  out_ctx *oc = ctx;
  if (!oc->outpath || first_fail < oc->batch->n) return MS_SUCCESS;
  MS_CHECK(oc->cells, MS_ERR_MEM, "out of memory");
  if (oc->ncells == 0) return MS_SUCCESS;
  MS_CALL(ms_structure_write(oc->outpath, MS_FORMAT_AUTO, oc->cells, (int)oc->ncells));
  return MS_SUCCESS;
}

int ms_cmd_relax(int argc, char **argv) {
  const char *outpath = NULL;
  int json = 0, fail_fast = 0, guess = 0;
  ms_app_model_args margs;
  ms_app_model_args_init(&margs);
  ms_format fmt = MS_FORMAT_AUTO;
  ms_relax_options ro;
  ms_relax_options_default(&ro);
  char *petsc = NULL;
  size_t petsc_len = 0;
  const char **files = calloc((size_t)argc, sizeof *files);
  int nfiles = 0;
  if (!files) return ms_app_report(ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = NULL;
    double d = 0;
    int took = ms_app_model_arg(&margs, argc, argv, &i, "relax");
    if (took < 0) goto usage;
    if (took) continue;
    if (ms_app_opt_is(a, "--cell", NULL)) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "relax"))) goto usage;
      if (ms_relax_cell_from_name(v, &ro.cell)) {
        ms_app_usage_error("relax", "--cell: %s", ms_err_message());
        ms_err_clear();
        goto usage;
      }
    } else if (ms_app_opt_is(a, "--fmax", NULL) || ms_app_opt_is(a, "--smax", NULL) ||
               ms_app_opt_is(a, "--etol", NULL) || ms_app_opt_is(a, "--pressure", NULL) ||
               ms_app_opt_is(a, "--symprec", NULL) || ms_app_opt_is(a, "--max-steps", NULL)) {
      char name[32];
      snprintf(name, sizeof name, "%.*s", (int)strcspn(a, "="), a);
      if (!(v = ms_app_opt_value(argc, argv, &i, "relax"))) goto usage;
      if (ms_app_parse_double("relax", name, v, &d)) goto usage;
      int bad = 0;
      if (!strcmp(name, "--fmax")) bad = !(d > 0), ro.fmax = d;
      if (!strcmp(name, "--smax")) bad = !(d > 0), ro.smax = d;
      if (!strcmp(name, "--etol")) bad = !(d >= 0), ro.etol = d;
      if (!strcmp(name, "--pressure")) bad = !(fabs(d) <= 1e4), ro.pressure = d;
      if (!strcmp(name, "--symprec")) bad = !(d > 0 && d < 1), ro.symprec = d;
      if (!strcmp(name, "--max-steps")) bad = !(d >= 0 && d <= 1e8 && d == floor(d)), ro.max_steps = (int)d;
      if (bad) {
        ms_app_usage_error("relax", "%s: value %s is out of range (fmax, smax > 0; etol >= 0; "
                           "|pressure| <= 1e4 GPa; 0 < symprec < 1; max-steps a whole number >= 0)",
                           name, v);
        goto usage;
      }
    } else if (ms_app_opt_is(a, "--format", NULL)) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "relax"))) goto usage;
      if (ms_format_from_name(v, &fmt)) {
        ms_app_usage_error("relax", "%s", ms_err_message());
        ms_err_clear();
        goto usage;
      }
    } else if (ms_app_opt_is(a, "-o", "--output")) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "relax"))) goto usage;
      outpath = v;
    } else if (ms_app_opt_is(a, "--petsc-options", NULL)) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "relax"))) goto usage;
      if (add_petsc_option(&petsc, &petsc_len, v)) goto oom;
    } else if (strncmp(a, "-relax_", 7) == 0) {
      if (add_petsc_option(&petsc, &petsc_len, a)) goto oom;
      if (i + 1 < argc && is_value(argv[i + 1]))
        if (add_petsc_option(&petsc, &petsc_len, argv[++i])) goto oom;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--fail-fast") == 0) {
      fail_fast = 1;
    } else if (strcmp(a, "--guess-oxidation-states") == 0) {
      guess = 1;
    } else if (strcmp(a, "--symmetrize") == 0) {
      ro.symmetrize = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      ms_app_usage_error("relax", "unknown option '%s'", a);
      goto usage;
    } else {
      files[nfiles++] = a;
    }
  }
  if (nfiles == 0) {
    ms_app_usage_error("relax", "no structure file given");
    goto usage;
  }
  const ms_model_spec *spec = NULL;
  ms_err e = ms_app_model_spec(&margs, "relax", &spec);
  if (e == MS_ERR_USAGE) goto usage;
  ro.petsc_options = petsc;

  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  ms_model model = NULL;
  ms_relax relax = NULL;
  if (!e) e = ms_model_create_spec(spec, &model);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  /* A bad PETSc option (e.g. an unknown TAO type) fails here, identically on every rank. */
  if (!e) {
    ms_err ce = ms_relax_create(model, &ro, &relax);
    if (ce == MS_ERR_PETSC && petsc) {
      char msg[768];
      snprintf(msg, sizeof msg, "%s", ms_err_message());
      ce = ms__err_set(MS_ERR_USAGE, __FILE__, __LINE__, __func__,
                       "relax: PETSc options '%s' were not accepted: %s", petsc, msg);
    }
    e = ms_err_agree(MPI_COMM_WORLD, ce);
  }
  if (e) {
    ms_model_destroy(&model);
    free(files);
    free(petsc);
    return ms_app_report(e);
  }
  const char *pot_name = ms_model_name(model);
  if (rank == 0 && !json)
    ms_log_verbose("relax: TAO type %s, cell %s, fmax %g eV/Å, smax %g GPa\n", ms_relax_tao_type(relax),
                   ms_relax_cell_name(ro.cell), ro.fmax, ro.smax);

  /* Every rank reads every file (the same everywhere); an unreadable file is a failed item. */
  ms_batch batch;
  e = ms_err_agree(MPI_COMM_WORLD, ms_batch_read(&batch, files, nfiles, fmt));
  if (!e && guess) ms_batch_guess_oxidation_states(&batch, model);
  long total = e ? 0 : batch.n, failed_here = 0;

  /* Relax my share (item k on rank k mod size); rank 0 prints in input order and, with -o,
   * writes the relaxed structures (the other ranks send their geometries along). A structure
   * that cannot be relaxed at all gets a status and the batch goes on (or stops with
   * --fail-fast). */
  ms_ordered ord;
  ms_ordered_init(&ord, total);
  if (!e) {
    double (*forces)[3] = NULL, *geo = NULL;
    int fcap = 0;
    for (long k = 0; k < total && ord.fail_index == total; ++k) {
      if (k % size != rank) continue;
      ms_batch_item *it = &batch.items[k];
      ms_cell *c = it->cell;
      ms_relax_result r;
      if (!it->failed) {
        if (c->natoms > fcap) {
          free(forces);
          free(geo);
          fcap = c->natoms;
          forces = calloc((size_t)fcap, sizeof *forces);
          geo = malloc(sizeof(double) * (9 + 3 * (size_t)fcap));
        }
        if (!forces || !geo) {
          ms_ordered_fail(&ord, k, MS_ERR_MEM, "out of memory");
          break;
        }
        r.forces = forces;
        ms_err ce = ms_relax_run(relax, c, &r);
        if (ce == MS_ERR_MEM || ce == MS_ERR_PETSC) {
          ms_ordered_fail(&ord, k, ce, NULL);
          break;
        }
        if (ce) {
          char msg[1024];
          snprintf(msg, sizeof msg, "%s: %s", it->file, ms_err_message());
          ms__err_set(ce, __FILE__, __LINE__, __func__, "%s", msg);
          ms_batch_fail(it, ce);
        }
      }
      if (it->failed) {
        failed_here++;
        if (fail_fast) {
          ms_ordered_fail(&ord, k, MS_ERR_INPUT, it->msg);
          break;
        }
      }
      size_t before = ord.text.n;
      long ngeo = 0;
      if (it->failed) {
        ms_batch_format_failure(&ord.text, json, it, pot_name);
      } else {
        item itm = {it->file, it->frame, it->guessed};
        format_result(&ord.text, json, &itm, c, &r, pot_name, &ro);
        if (outpath) {
          memcpy(geo, c->lattice, sizeof c->lattice);
          memcpy(geo + 9, c->frac, sizeof(double[3]) * (size_t)c->natoms);
          ngeo = 9 + 3 * (long)c->natoms;
        }
      }
      if (ms_ordered_commit(&ord, k, before, geo, ngeo)) break;
    }
    free(forces);
    free(geo);
    out_ctx oc = {&batch, outpath, NULL, 0};
    if (outpath) oc.cells = calloc((size_t)total + 1, sizeof *oc.cells);
    e = ms_ordered_finish(&ord, MPI_COMM_WORLD, take_item, write_relaxed, &oc);
    free(oc.cells);
    if (!e) e = ms_batch_outcome(MPI_COMM_WORLD, &batch, failed_here);
  }
  ms_ordered_free(&ord);
  ms_batch_free(&batch);
  ms_relax_destroy(&relax);
  ms_model_destroy(&model);
  free(files);
  free(petsc);
  return ms_app_report(e);

oom:
  free(files);
  free(petsc);
  return ms_app_report(ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
usage:
  free(files);
  free(petsc);
  return 1;
}
