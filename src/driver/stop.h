/* Clean stops of a campaign run (internal to src/driver; see stop.c).
 *
 * Batch systems warn a job before they kill it: Slurm sends SIGTERM (and, with
 * --signal=USR1@T, SIGUSR1 T seconds before the limit), PBS sends SIGTERM. The handlers here
 * only set a flag; the funnel checks it between blocks of work, commits what it finished and
 * returns MS_ERR_INTERRUPTED (exit code 75, "temporary failure, retry") so that a job script
 * can resubmit with --resume. --max-walltime does the same from inside: a block is not started
 * when the time left would not cover it. Not collective; the funnel makes the ranks agree. */
#ifndef MS_DRIVER_STOP_H
#define MS_DRIVER_STOP_H

/** Install the SIGTERM/SIGUSR1 handlers and start the wall clock. @p max_walltime_s <= 0: no limit. */
void ms__stop_install(double max_walltime_s);
/** Put the previous handlers back. */
void ms__stop_restore(void);
/**
 * 0 while work may go on; otherwise a reason code (MS_STOP_*). @p block_s is
 * the longest time a block has taken so far: with a wall-time limit, a new block is not started
 * unless about twice that (plus a reserve for writing the output) is left.
 */
int ms__stop_requested(double block_s);
/** Reason codes; ranks agree on the largest one seen by any rank (a rank may stop only because
 *  another one cancelled the hand-out of work, without seeing a signal itself). */
enum { MS_STOP_NONE = 0, MS_STOP_SIGTERM = 1, MS_STOP_WALLTIME = 2, MS_STOP_SIGUSR1 = 3 };
/** Why the run stopped, for the message ("SIGTERM", "the --max-walltime limit"). */
const char *ms__stop_reason(int code);
/** Seconds since ms__stop_install(). */
double ms__stop_elapsed(void);
/**
 * Test hook: when MATSCREEN_FAULT_SIGNAL is "STAGE" or "STAGE:SIGNAME" (SIGTERM by default,
 * or SIGUSR1) and @p stage equals STAGE, the last rank sends itself that signal, as a batch
 * system would while that stage runs (it is called as the stage starts). Stages: dedup, hull,
 * shortlist, output. No effect otherwise.
 */
void ms__stop_test_hook(const char *stage, int rank, int size);

#endif
