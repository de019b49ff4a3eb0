/**
 * @file app.h
 * @brief The matscreen commands as a function, for programs that add stages, generators or
 *        model families of their own and then run the usual commands.
 *
 * Conventions
 * -----------
 * - ms_app_main() is the whole `matscreen` program: it initialises and finalises MPI, reads the
 *   global options and the subcommand from @p argv and returns the exit code (0, 1 for bad input
 *   or a failure, 2 for usage, 75 for a clean stop; docs/reliability.md). Call it once, from
 *   main(), after the registrations (ms_stage_register, ms_generator_register, ...), which are
 *   made on every rank before MPI starts.
 * - Link with the library matscreen-app (pkg-config matscreen-app), which requires matscreen.
 *   tests/stage/stage_max_sites.c is a complete example (docs/stages.md, "How to add a stage").
 */
#ifndef MATSCREEN_APP_H
#define MATSCREEN_APP_H

/** Run the matscreen commands on @p argc / @p argv; returns the process's exit code. */
int ms_app_main(int argc, char **argv);

#endif
