/* The checkpoint log of a campaign run (internal to src/driver; see spool.c).
 *
 * Results are committed as self-checking frames appended to per-rank log files in the
 * directory OUTPUT.ckpt/ (one file per rank and run "generation": the first run is generation
 * 0, every --resume adds one). A frame is a header (magic, kind, block number, item count,
 * payload length, checksums of header and payload) followed by its payload; it is committed
 * once it is completely in the file, and a reader accepts exactly the frames whose checksums
 * hold. Nothing is ever rewritten, so a process killed at any moment leaves every frame it
 * finished intact and at most one torn frame at the end of its own file, which readers skip.
 * Frames are fdatasync'ed at most every few seconds (and at the end of each phase): a killed
 * process loses nothing it wrote, a crashed node loses at most those seconds of work.
 *
 * Work is cut into blocks whose boundaries depend only on the campaign (never on the number of
 * ranks), so a resumed run on any number of ranks recomputes exactly the blocks without a
 * committed frame. The directory's "header" file holds a fingerprint of the campaign and the
 * program; --resume refuses a checkpoint whose fingerprint differs, naming what changed.
 *
 * Collectivity: open, exchange and finish are collective; append, sync, find and read are not.
 */
#ifndef MS_DRIVER_SPOOL_H
#define MS_DRIVER_SPOOL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"

enum { MS_SPOOL_A = 1, /* generate + prefilter + single point: records of one id block */
       MS_SPOOL_B = 2  /* relaxation: outcomes and structures of one survivor block */ };

typedef struct {
  int32_t kind, gen, rank;
  uint32_t nitems;
  int64_t block;
  int64_t offset; /* of the frame header in file (gen, rank) */
  uint64_t len;   /* payload bytes */
} ms_spool_entry;

typedef struct ms_spool_s *ms_spool;

/**
 * Collective. Open the checkpoint of @p output with the given fingerprint text (lines
 * "key value"). Fresh run (@p resume 0): refuses an existing checkpoint (the message says to
 * add --resume or remove it), creates the directory and writes the header. Resume: refuses a
 * missing or mismatched checkpoint, indexes every committed frame. Each rank then opens its own
 * new log file. Errors are agreed on.
 */
ms_err ms__spool_open(MPI_Comm comm, const char *output, const char *fingerprint, int resume,
                      ms_spool *out);
/** Directory of the checkpoint ("OUT.h5.ckpt"). */
const char *ms__spool_dir(ms_spool s);
/** Generation of this run (0 for a fresh run). */
int ms__spool_generation(ms_spool s);
/** Not collective. Append one frame (one write of header + payload). */
ms_err ms__spool_append(ms_spool s, int kind, int64_t block, uint32_t nitems, const void *payload,
                        size_t len);
/** Not collective. fdatasync this rank's log. */
ms_err ms__spool_sync(ms_spool s);
/** Collective: make every rank's newly appended frames known to every rank's index. */
ms_err ms__spool_exchange(ms_spool s);
/** Not collective. Committed frame of (kind, block) known to the index, or NULL. */
const ms_spool_entry *ms__spool_find(ms_spool s, int kind, int64_t block);
/** Not collective. Read and verify a frame's payload (malloc'ed into *payload). */
ms_err ms__spool_read(ms_spool s, const ms_spool_entry *e, void **payload);
/** Collective. Close the logs; with @p remove, rank 0 deletes the checkpoint directory. */
ms_err ms__spool_finish(ms_spool *s, int remove);
/** Not collective. Close without removing anything (after an agreed failure). NULL-safe. */
void ms__spool_close(ms_spool *s);

#endif
