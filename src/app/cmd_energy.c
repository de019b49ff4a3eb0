/* `matscreen energy STRUCTURE... --potential NAME|FILE`: single-point energy, forces and stress
 * with any model of the registry (model.h); the model and its options come from model_args.h.
 *
 * Every structure of every file (multi-frame extxyz, several files) is evaluated in one
 * process, in input order, so whole data sets can be scored without a start-up per structure.
 * Under mpirun the structures are dealt round-robin to the ranks (structure k on rank
 * k mod size; each rank reads the files itself) and rank 0 prints the results in input order.
 * `time_s` is the wall time of the evaluation alone (file reading excluded).
 *
 * A structure whose species the model does not cover is an input error: the results of
 * the structures before it are printed, then the message, and the exit code is 1. Overlapping
 * atoms, a collapse into a catastrophe guard or a degenerate cell are statuses in the output. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "batch.h"
#include "core/json.h"
#include "ordered.h"
#include "matscreen/io.h"
#include "matscreen/log.h"
#include "matscreen/model.h"
#include "model_args.h"

const char ms_usage_energy[] =
    "usage: matscreen energy STRUCTURE [STRUCTURE...] --potential NAME|FILE [options]\n"
    "\n"
    "Energy, forces and stress of each structure with an energy model ('matscreen info models');\n"
    "a rigid-ion potential set sums periodic electrostatics (direct Ewald or smooth PME) and the\n"
    "set's short-range pair terms; M3GNet (m3gnet-mp-2021.2.8, 89 elements) is a universal\n"
    "graph-network potential that needs no charges.\n"
    "STRUCTURE is CIF, POSCAR/CONTCAR or extended XYZ (format from content or extension); a\n"
    "multi-frame extxyz or several files are evaluated one structure after another.\n"
    "Charges (rigid-ion): the structure's oxidation states when it has them, else the potential's.\n"
    "\n"
    "options:\n"
    "  --potential NAME|FILE  the model: a built-in name ('matscreen info models') or a file\n"
    "  --model-option KEY=VALUE  an option of the model's family (repeatable; 'info models')\n"
    "  --accuracy X           rigid-ion: relative accuracy of the electrostatics (default: the\n"
    "                         potential's, usually 1e-8)\n"
    "  --method auto|direct|pme  rigid-ion: electrostatics method (default auto: by system size)\n"
    "  --no-coulomb           rigid-ion: short-range terms only\n"
    "  --semantics consistent|matgl  M3GNet: the three-body sums as published (default), or\n"
    "                         matgl's indexing to reproduce its numbers exactly\n"
    "  --format FMT           input format (cif, poscar, extxyz) instead of guessing\n"
    "  --guess-oxidation-states  give structures without oxidation states guessed ones when the\n"
    "                         model needs charges (rigid-ion; like pymatgen's guess, docs/models.md)\n"
    "  --fail-fast            stop at the first structure that cannot be evaluated (default: go\n"
    "                         on, give it status error or unsupported, exit 1 at the end)\n"
    "  --json                 one JSON object per structure and line, keys with units:\n"
    "                         energy_eV, energy_per_atom_eV, forces_eV_per_A, stress_GPa (Voigt\n"
    "                         xx yy zz yz xz xy, ASE sign: tensile positive), lattice_A, status,\n"
    "                         coulomb (method and parameters used), time_s\n"
    "\n"
    "Statuses: ok, overlap (atoms on top of each other), collapsed (a pair inside the\n"
    "potential's catastrophe guard), bad_cell (degenerate cell), nan; and, for structures that\n"
    "could not be evaluated, error (unreadable or empty file, oxidation states that cannot be\n"
    "guessed) and unsupported (a species the model does not cover). One bad structure never stops\n"
    "the others; the exit code is then 1 (2 for runtime failures), 0 when every one was evaluated.\n"
    "\n"
    "examples:\n"
    "  matscreen energy SrTiO3.cif --potential bush1994\n"
    "  mpirun -n 4 matscreen energy dataset.extxyz --potential bush1994 --json > energies.jsonl\n"
    "  matscreen energy POSCAR --potential m3gnet-mp-2021.2.8 --json\n";

typedef struct {
  const char *file;
  int frame;
  const ms_cell *cell;
  const char *guessed; /* oxidation states guessed for it, or "" */
} item;

static void format_result(ms_jbuf *b, int json, const item *it, const ms_cell *c,
                          const ms_model_result *r, const char *potential, double seconds) {
  char formula[128] = "?";
  if (ms_cell_formula(c, 0, formula, sizeof formula)) ms_err_clear();
  int n = c->natoms;
  int ok = r->status == MS_STATUS_OK;
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
    ms_jb_key(b, "status", 0);
    ms_jb_str(b, ms_status_name(r->status));
    if (it->guessed && it->guessed[0]) {
      ms_jb_key(b, "oxidation_states_guessed", 0);
      ms_jb_str(b, it->guessed);
    }
    if (!ok) {
      ms_jb_key(b, "detail", 0);
      ms_jb_str(b, r->detail);
    }
    ms_jb_key(b, "energy_eV", 0);
    ms_jb_num(b, r->energy);
    ms_jb_key(b, "energy_per_atom_eV", 0);
    ms_jb_num(b, n ? r->energy / n : NAN);
    ms_jb_key(b, "energy_coulomb_eV", 0);
    ms_jb_num(b, r->e_coulomb);
    ms_jb_key(b, "energy_short_range_eV", 0);
    ms_jb_num(b, r->e_short);
    ms_jb_key(b, "forces_eV_per_A", 0);
    ms_jb_rows3(b, (const double (*)[3])r->forces, n);
    ms_jb_key(b, "stress_GPa", 0);
    ms_jb_nums(b, r->stress_GPa, 6);
    ms_jb_key(b, "lattice_A", 0);
    ms_jb_rows3(b, (const double (*)[3])c->lattice, 3);
    ms_jb_key(b, "volume_A3", 0);
    ms_jb_num(b, r->volume);
    ms_jb_key(b, "charge_e", 0);
    ms_jb_num(b, r->charge_total);
    ms_jb_key(b, "coulomb", 0);
    if (r->has_coulomb) {
      ms_jb_raw(b, "{");
      ms_jb_key(b, "method", 1);
      ms_jb_str(b, ms_ewald_method_name(r->ewald.method));
      ms_jb_key(b, "accuracy", 0);
      ms_jb_num(b, r->ewald.accuracy);
      ms_jb_key(b, "alpha_per_A", 0);
      ms_jb_num(b, r->ewald.alpha);
      ms_jb_key(b, "rcut_A", 0);
      ms_jb_num(b, r->ewald.rcut);
      if (r->ewald.method == MS_EWALD_PME) {
        ms_jb_key(b, "pme_order", 0);
        ms_jb_printf(b, "%d", r->ewald.pme_order);
        ms_jb_key(b, "pme_grid", 0);
        ms_jb_printf(b, "[%d, %d, %d]", r->ewald.pme_grid[0], r->ewald.pme_grid[1], r->ewald.pme_grid[2]);
      } else {
        ms_jb_key(b, "kcut_per_A", 0);
        ms_jb_num(b, r->ewald.kcut);
        ms_jb_key(b, "kmax", 0);
        ms_jb_printf(b, "[%d, %d, %d]", r->ewald.kmax[0], r->ewald.kmax[1], r->ewald.kmax[2]);
      }
      ms_jb_raw(b, "}");
    } else {
      ms_jb_raw(b, "null");
    }
    ms_jb_key(b, "time_s", 0);
    ms_jb_num(b, seconds);
    ms_jb_raw(b, "}\n");
    return;
  }
  double fmax = 0;
  for (int i = 0; i < n; ++i) {
    double f = sqrt(r->forces[i][0] * r->forces[i][0] + r->forces[i][1] * r->forces[i][1] +
                    r->forces[i][2] * r->forces[i][2]);
    if (f > fmax) fmax = f;
  }
  ms_jb_printf(b, "%s", it->file);
  if (it->frame > 0 || c->label[0]) ms_jb_printf(b, " [frame %d%s%s]", it->frame, c->label[0] ? ": " : "", c->label);
  ms_jb_printf(b, "\n  formula           %s (%d atoms), potential %s\n", formula, n, potential);
  if (it->guessed && it->guessed[0]) ms_jb_printf(b, "  oxidation states  %s (guessed)\n", it->guessed);
  ms_jb_printf(b, "  status            %s%s%s\n", ms_status_name(r->status), ok ? "" : ": ", r->detail);
  ms_jb_printf(b, "  energy            %.10f eV  (%.10f eV/atom)\n", r->energy, n ? r->energy / n : NAN);
  if (!isnan(r->e_coulomb)) /* the split of a rigid-ion model's energy */
    ms_jb_printf(b, "    electrostatic   %.10f eV\n    short-range     %.10f eV\n", r->e_coulomb, r->e_short);
  ms_jb_printf(b, "  stress (GPa)      xx %.6f  yy %.6f  zz %.6f  yz %.6f  xz %.6f  xy %.6f\n",
               r->stress_GPa[0], r->stress_GPa[1], r->stress_GPa[2], r->stress_GPa[3],
               r->stress_GPa[4], r->stress_GPa[5]);
  ms_jb_printf(b, "  max |force|       %.6g eV/Å\n", fmax);
  if (r->has_coulomb) {
    if (r->ewald.method == MS_EWALD_PME)
      ms_jb_printf(b, "  electrostatics    smooth PME, accuracy %g, alpha %.6f /Å, rcut %.4f Å, grid %dx%dx%d, order %d\n",
                   r->ewald.accuracy, r->ewald.alpha, r->ewald.rcut, r->ewald.pme_grid[0], r->ewald.pme_grid[1],
                   r->ewald.pme_grid[2], r->ewald.pme_order);
    else
      ms_jb_printf(b, "  electrostatics    direct Ewald, accuracy %g, alpha %.6f /Å, rcut %.4f Å, kcut %.4f /Å\n",
                   r->ewald.accuracy, r->ewald.alpha, r->ewald.rcut, r->ewald.kcut);
  }
  ms_jb_printf(b, "  time              %.3f ms\n", seconds * 1e3);
}

static void print_item(long k, const char *text, size_t len, const double *aux, long naux,
                       void *ctx) {
  (void)k;
  (void)aux;
  (void)naux;
  (void)ctx;
  fwrite(text, 1, len, stdout);
}

int ms_cmd_energy(int argc, char **argv) {
  int json = 0, fail_fast = 0, guess = 0;
  ms_app_model_args margs;
  ms_app_model_args_init(&margs);
  ms_format fmt = MS_FORMAT_AUTO;
  const char **files = calloc((size_t)argc, sizeof *files);
  int nfiles = 0;
  if (!files) return ms_app_report(ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory"));
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = NULL;
    int took = ms_app_model_arg(&margs, argc, argv, &i, "energy");
    if (took < 0) goto usage;
    if (took) continue;
    if (ms_app_opt_is(a, "--format", NULL)) {
      if (!(v = ms_app_opt_value(argc, argv, &i, "energy"))) goto usage;
      if (ms_format_from_name(v, &fmt)) {
        ms_app_usage_error("energy", "%s", ms_err_message());
        ms_err_clear();
        goto usage;
      }
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--fail-fast") == 0) {
      fail_fast = 1;
    } else if (strcmp(a, "--guess-oxidation-states") == 0) {
      guess = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      ms_app_usage_error("energy", "unknown option '%s'", a);
      goto usage;
    } else {
      files[nfiles++] = a;
    }
  }
  if (nfiles == 0) {
    ms_app_usage_error("energy", "no structure file given");
    goto usage;
  }
  const ms_model_spec *spec = NULL;
  ms_err e = ms_app_model_spec(&margs, "energy", &spec);
  if (e == MS_ERR_USAGE) goto usage;

  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  ms_model model = NULL;
  if (!e) e = ms_model_create_spec(spec, &model);
  e = ms_err_agree(MPI_COMM_WORLD, e);
  if (e) {
    ms_model_destroy(&model);
    free(files);
    return ms_app_report(e);
  }
  const char *pot_name = ms_model_name(model);

  /* Every rank reads every file (the same everywhere); an unreadable file is a failed item. */
  ms_batch batch;
  e = ms_err_agree(MPI_COMM_WORLD, ms_batch_read(&batch, files, nfiles, fmt));
  if (!e && guess) ms_batch_guess_oxidation_states(&batch, model);
  long total = e ? 0 : batch.n, failed_here = 0;

  /* Evaluate my share (item k on rank k mod size); rank 0 prints in input order. A structure
   * that fails gets a status and the batch goes on (or stops there with --fail-fast). */
  ms_ordered ord;
  ms_ordered_init(&ord, total);
  if (!e) {
    double (*forces)[3] = NULL;
    int fcap = 0;
    for (long k = 0; k < total && ord.fail_index == total; ++k) {
      if (k % size != rank) continue;
      ms_batch_item *it = &batch.items[k];
      const ms_cell *c = it->cell;
      ms_model_result r;
      double dt = 0;
      if (!it->failed) {
        if (c->natoms > fcap) {
          free(forces);
          fcap = c->natoms;
          forces = calloc((size_t)fcap, sizeof *forces);
        }
        if (!forces) {
          ms_ordered_fail(&ord, k, MS_ERR_MEM, "out of memory");
          break;
        }
        r.forces = forces;
        double t0 = MPI_Wtime();
        ms_err ce = ms_model_compute(model, c, MS_MODEL_ALL, &r);
        dt = MPI_Wtime() - t0;
        if (ce == MS_ERR_MEM) {
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
      if (it->failed) {
        ms_batch_format_failure(&ord.text, json, it, pot_name);
      } else {
        item itm = {it->file, it->frame, c, it->guessed};
        format_result(&ord.text, json, &itm, c, &r, pot_name, dt);
      }
      if (ms_ordered_commit(&ord, k, before, NULL, 0)) break;
    }
    free(forces);
    e = ms_ordered_finish(&ord, MPI_COMM_WORLD, print_item, NULL, NULL);
    if (!e) e = ms_batch_outcome(MPI_COMM_WORLD, &batch, failed_here);
  }
  ms_ordered_free(&ord);
  ms_batch_free(&batch);
  ms_model_destroy(&model);
  free(files);
  return ms_app_report(e);

usage:
  free(files);
  return 1;
}
