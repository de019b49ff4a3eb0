/* matscreen: subcommand dispatch (the entry point main() is entry.c, so that a program of one's
 * own can register stages or generators and then hand over to the same commands).
 *
 * ms_app_main() is the only place that initialises and finalises MPI and decides the exit code.
 * Global options (--quiet, --verbose, --version) come before the subcommand. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "matscreen/log.h"
#include "matscreen/relax.h"
#include "matscreen/species.h"
#include "ms_config.h"

static const char usage_help[] =
    "usage: matscreen help [COMMAND]\n"
    "\n"
    "Show the list of commands, or the full help of one command.\n";

static int cmd_help(int argc, char **argv);

static const ms_command commands[] = {
    {"help", cmd_help, "show help for matscreen or one of its commands", usage_help},
    {"run", ms_cmd_run, "run a screening campaign (the MPI funnel) and write its HDF5 output",
     ms_usage_run},
    {"check", ms_cmd_check, "validate a campaign, count its candidates, estimate its cost",
     ms_usage_check},
    {"info", ms_cmd_info, "built-in data: elements, species, models, potentials, prototypes, generators",
     ms_usage_info},
    {"convert", ms_cmd_convert, "convert a structure file between CIF, POSCAR and extxyz",
     ms_usage_convert},
    {"energy", ms_cmd_energy, "energy, forces and stress of structures with an energy model (rigid-ion, M3GNet)",
     ms_usage_energy},
    {"relax", ms_cmd_relax, "relax positions and cell with PETSc TAO (any energy model)",
     ms_usage_relax},
    {"match", ms_cmd_match, "compare two structures (pymatgen StructureMatcher semantics), or group duplicates",
     ms_usage_match},
    {"hull", ms_cmd_hull, "energies above the convex hull, formation energies, decompositions", ms_usage_hull},
    {"generate", ms_cmd_generate, "write candidates of a campaign's search space to structure files",
     ms_usage_generate},
    {"queue", ms_cmd_queue, "the lab queue: push a shortlist, claim and report tickets, export for labs",
     ms_usage_queue},
    {"export", ms_cmd_export, "write structures stored in a run's HDF5 output to CIF, POSCAR or extxyz",
     ms_usage_export},
    {"verify", ms_cmd_verify, "check a run's HDF5 output against the checksums written with it",
     ms_usage_verify},
};

const ms_command *ms_app_commands(int *count) {
  *count = (int)(sizeof commands / sizeof commands[0]);
  return commands;
}

static void print_version(FILE *fp) {
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  fprintf(fp, "matscreen %s (git %s), MPI %d.%d\n", MS_VERSION, MS_GIT_REVISION, major, minor);
}

static void print_overview(FILE *fp) {
  fprintf(fp,
          "usage: matscreen [--quiet|--verbose] COMMAND [ARGS]\n"
          "       mpirun -n N matscreen COMMAND [ARGS]\n"
          "\n"
          "matscreen screens candidate crystals with fast physical surrogate models.\n"
          "Units: Å, eV, eV/Å, GPa, degrees, elementary charges.\n"
          "\n"
          "commands:\n");
  int n = 0;
  const ms_command *cmds = ms_app_commands(&n);
  for (int k = 0; k < n; ++k) fprintf(fp, "  %-10s %s\n", cmds[k].name, cmds[k].summary);
  fprintf(fp,
          "\n"
          "global options:\n"
          "  --quiet      errors only\n"
          "  --verbose    more detail, and tracebacks with errors\n"
          "  --version    print the version and exit\n"
          "\n"
          "Run 'matscreen help COMMAND' for the options of one command.\n"
          "Exit codes: 0 success, 1 bad input or usage, 2 runtime failure, 75 run stopped early\n"
          "(signal or --max-walltime; resumable with --resume).\n");
}

static const ms_command *find_command(const char *name) {
  int n = 0;
  const ms_command *cmds = ms_app_commands(&n);
  for (int k = 0; k < n; ++k)
    if (strcmp(cmds[k].name, name) == 0) return &cmds[k];
  return NULL;
}

static int cmd_help(int argc, char **argv) {
  if (ms_app_rank() != 0) return argc > 2 ? 1 : 0;
  if (argc < 2) {
    print_overview(stdout);
    return 0;
  }
  if (argc > 2) return ms_app_usage_error("help", "takes at most one command name");
  const ms_command *c = find_command(argv[1]);
  if (!c) {
    fprintf(stderr, "matscreen help: unknown command '%s'\n", argv[1]);
    print_overview(stderr);
    return 1;
  }
  fputs(c->usage, stdout);
  return 0;
}

int ms_app_main(int argc, char **argv) {
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "matscreen: error: MPI_Init failed\n");
    return 2;
  }
  /* Errors from MPI come back to us as codes, so they can be agreed on and reported. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  ms_log_init(MPI_COMM_WORLD);
  int rank = ms_app_rank();

  /* --quiet, --verbose and --debug may also follow the subcommand (`matscreen run c.yaml
   * --quiet`, as batch scripts write it): take them out of argv wherever they are, up to a
   * "--" that ends the options. */
  int kept = 1;
  for (int k = 1, ended = 0; k < argc; ++k) {
    if (!ended && strcmp(argv[k], "--") == 0) ended = 1;
    if (!ended && strcmp(argv[k], "--quiet") == 0) {
      ms_log_set_level(MS_LOG_QUIET);
      continue;
    }
    if (!ended && strcmp(argv[k], "--verbose") == 0) {
      ms_log_set_level(MS_LOG_VERBOSE);
      continue;
    }
    if (!ended && strcmp(argv[k], "--debug") == 0) {
      ms_log_set_level(MS_LOG_DEBUG);
      continue;
    }
    argv[kept++] = argv[k];
  }
  argc = kept;
  argv[argc] = NULL;

  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
      ms_log_set_level(MS_LOG_QUIET);
    } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
      ms_log_set_level(MS_LOG_VERBOSE);
    } else if (strcmp(argv[i], "--debug") == 0) {
      ms_log_set_level(MS_LOG_DEBUG);
    } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
      if (rank == 0) print_version(stdout);
      MPI_Finalize();
      return 0;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      if (rank == 0) print_overview(stdout);
      MPI_Finalize();
      return 0;
    } else {
      if (rank == 0) {
        fprintf(stderr, "matscreen: unknown option '%s'\n\n", argv[i]);
        print_overview(stderr);
      }
      MPI_Finalize();
      return 1;
    }
  }
  if (i >= argc) {
    if (rank == 0) print_overview(stderr);
    MPI_Finalize();
    return 1;
  }
  const ms_command *cmd = find_command(argv[i]);
  if (!cmd) {
    if (rank == 0) {
      fprintf(stderr, "matscreen: unknown command '%s'\n\n", argv[i]);
      print_overview(stderr);
    }
    MPI_Finalize();
    return 1;
  }

  int code = 0;
  ms_err e = ms_err_agree(MPI_COMM_WORLD, ms_elements_load());
  if (e != MS_SUCCESS) {
    code = ms_app_report(e);
  } else {
    code = cmd->run(argc - i, argv + i);
  }
  /* Every rank returns the same code by contract; take the maximum anyway so a rank that
   * disagrees (a bug) cannot make the job look successful. */
  int global = code;
  MPI_Allreduce(&code, &global, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  ms_elements_unload();
  /* PETSc is started lazily by the relaxation code (relax.h); it must end before MPI. */
  ms_petsc_finalize();
  MPI_Finalize();
  return global;
}
