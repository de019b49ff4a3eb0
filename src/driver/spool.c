/* The checkpoint log (see spool.h): append-only per-rank files of self-checking frames. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "matscreen/log.h"
#include "matscreen/paths.h"

#define FRAME_MAGIC 0x3130545043534d4dULL /* "MMSCPT01" little-endian */
#define SYNC_INTERVAL_S 5.0

typedef struct {
  uint64_t magic;
  int32_t kind;
  uint32_t nitems;
  int64_t block;
  uint64_t len;
  uint64_t sum;  /* FNV-1a of the payload */
  uint64_t hsum; /* FNV-1a of the 40 bytes above */
} frame_header;

struct ms_spool_s {
  MPI_Comm comm;
  int rank, size, gen;
  char *dir;
  int fd;
  double last_sync;
  int dirty;
  long long fault_frames; /* testing hook: frames this rank may append before ENOSPC (-1: off) */
  ms_spool_entry *idx;    /* committed frames, sorted by (kind, block) after an exchange */
  int64_t nidx, capidx;
  ms_spool_entry *fresh;  /* frames appended by this rank since the last exchange */
  int64_t nfresh, capfresh;
};

static uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
  const unsigned char *b = p;
  for (size_t k = 0; k < n; ++k) {
    h ^= b[k];
    h *= 0x100000001b3ULL;
  }
  return h;
}
#define FNV_SEED 0xcbf29ce484222325ULL

static ms_err push_entry(ms_spool_entry **v, int64_t *n, int64_t *cap, const ms_spool_entry *e) {
  if (*n == *cap) {
    int64_t c = *cap ? 2 * *cap : 256;
    ms_spool_entry *q = realloc(*v, (size_t)c * sizeof *q);
    MS_CHECK(q, MS_ERR_MEM, "out of memory (checkpoint index)");
    *v = q;
    *cap = c;
  }
  (*v)[(*n)++] = *e;
  return MS_SUCCESS;
}

static int cmp_entry(const void *a, const void *b) {
  const ms_spool_entry *x = a, *y = b;
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  if (x->block != y->block) return x->block < y->block ? -1 : 1;
  if (x->gen != y->gen) return x->gen < y->gen ? -1 : 1;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Sort and drop repeated (kind, block) entries: the first committed copy wins (a block is only
 * handed out again when no copy was indexed, so repeats are not expected; this keeps readers
 * safe if one ever appears). */
static void sort_index(ms_spool s) {
  if (s->nidx == 0) return;
  qsort(s->idx, (size_t)s->nidx, sizeof *s->idx, cmp_entry);
  int64_t u = 0;
  for (int64_t k = 0; k < s->nidx; ++k)
    if (u == 0 || s->idx[u - 1].kind != s->idx[k].kind || s->idx[u - 1].block != s->idx[k].block)
      s->idx[u++] = s->idx[k];
  s->nidx = u;
}

static void log_path(const ms_spool s, int gen, int rank, char *buf, size_t n) {
  snprintf(buf, n, "%s/g%04d-r%06d.log", s->dir, gen, rank);
}

static int header_ok(const frame_header *h) {
  return h->magic == FRAME_MAGIC && h->hsum == fnv1a(h, offsetof(frame_header, hsum), FNV_SEED) &&
         (h->kind == MS_SPOOL_A || h->kind == MS_SPOOL_B) && h->len < ((uint64_t)1 << 40);
}

/* What scanning the logs found besides the good frames. */
typedef struct {
  int64_t frames;        /* committed frames indexed */
  int64_t torn;          /* logs ending in an incomplete frame (a write cut short: normal after a kill) */
  int64_t damaged;       /* damaged regions inside logs (bytes changed after they were written) */
  int64_t damaged_bytes;
  char first[4300];      /* where the first damaged region is, for the message */
} scan_stats;

/* 1 if a complete, intact frame starts at @p off of @p fd (file size @p size); fills @p h and
 * reads the payload into *buf (grown as needed). */
static int frame_at(int fd, int64_t off, int64_t size, frame_header *h, char **buf, size_t *cap) {
  if (off + (int64_t)sizeof *h > size || pread(fd, h, sizeof *h, off) != (ssize_t)sizeof *h || !header_ok(h))
    return 0;
  if (off + (int64_t)sizeof *h + (int64_t)h->len > size) return 0;
  if (h->len > *cap) {
    char *q = realloc(*buf, h->len);
    if (!q) return 0;
    *buf = q;
    *cap = h->len;
  }
  return (h->len == 0 || pread(fd, *buf, h->len, off + (int64_t)sizeof *h) == (ssize_t)h->len) &&
         fnv1a(*buf, h->len, FNV_SEED) == h->sum;
}

/* Offset of the next intact frame after @p from (the magic, then a full check), or -1. */
static int64_t next_frame(int fd, int64_t from, int64_t size, char **buf, size_t *cap) {
  enum { WIN = 1 << 16 };
  unsigned char win[WIN + 8];
  const uint64_t magic = FRAME_MAGIC;
  for (int64_t at = from; at + 8 <= size; at += WIN) {
    ssize_t r = pread(fd, win, WIN + 8, at);
    if (r < 8) return -1;
    for (ssize_t k = 0; k + 8 <= r; ++k) {
      if (memcmp(win + k, &magic, 8) != 0) continue;
      frame_header h;
      if (frame_at(fd, at + k, size, &h, buf, cap)) return at + k;
    }
  }
  return -1;
}

/* Index the committed frames of one log file. A damaged or incomplete frame does not end the
 * scan: the frames after it are intact and kept (their blocks are not recomputed); only the
 * blocks of the damaged bytes are. A damaged region reaching the end of the file that starts
 * with an incomplete frame is a torn tail (a write cut short), not damage. */
static ms_err scan_file(ms_spool s, const char *path, int gen, int rank, scan_stats *st) {
  int fd = open(path, O_RDONLY);
  MS_CHECK(fd >= 0, MS_ERR_FILE, "%s: cannot read the checkpoint log: %s", path, strerror(errno));
  struct stat fs;
  int64_t size = fstat(fd, &fs) == 0 ? (int64_t)fs.st_size : 0;
  int64_t off = 0;
  char *buf = NULL;
  size_t cap = 0;
  ms_err e = MS_SUCCESS;
  while (off < size && !e) {
    frame_header h;
    if (frame_at(fd, off, size, &h, &buf, &cap)) {
      ms_spool_entry en = {h.kind, gen, rank, h.nitems, h.block, off, h.len};
      e = push_entry(&s->idx, &s->nidx, &s->capidx, &en);
      if (e) break;
      st->frames++;
      off += (int64_t)sizeof h + (int64_t)h.len;
      continue;
    }
    int64_t next = next_frame(fd, off + 1, size, &buf, &cap);
    /* A frame whose header is intact but runs past the end was being written when the run
     * stopped; so was a header cut short. */
    frame_header th;
    int torn = next < 0 && (size - off < (int64_t)sizeof th ||
                            (pread(fd, &th, sizeof th, off) == (ssize_t)sizeof th && header_ok(&th) &&
                             off + (int64_t)sizeof th + (int64_t)th.len > size));
    if (torn) {
      st->torn++;
    } else {
      if (!st->damaged) snprintf(st->first, sizeof st->first, "%s at byte %lld", path, (long long)off);
      st->damaged++;
      st->damaged_bytes += (next < 0 ? size : next) - off;
    }
    if (next < 0) break;
    off = next;
  }
  free(buf);
  close(fd);
  return e;
}

/* The header file ends with a line "header_fnv1a X" (X: FNV-1a of the text before it), so a
 * damaged header is told apart from one of another campaign. Headers written before that line
 * existed are compared as they are. */
#define HEADER_SUM_KEY "header_fnv1a "

/* Rank 0: read the header file, check its own checksum, and compare it with @p fp line by line. */
static ms_err check_header(const char *dir, const char *fp) {
  char path[4200];
  snprintf(path, sizeof path, "%s/header", dir);
  FILE *f = fopen(path, "r");
  MS_CHECK(f, MS_ERR_INPUT,
           "%s: the checkpoint has no readable header (%s); it is not a matscreen checkpoint or it "
           "was damaged. Remove the directory and start again without --resume",
           dir, strerror(errno));
  char have[4096];
  size_t n = fread(have, 1, sizeof have - 1, f);
  fclose(f);
  have[n] = 0;
  char *sum = strstr(have, HEADER_SUM_KEY);
  if (sum && (sum == have || sum[-1] == '\n')) {
    unsigned long long stored = 0;
    int used = 0;
    /* the checksum line must be the last line: text after it is damage too */
    int ok = sscanf(sum + strlen(HEADER_SUM_KEY), "%llx%n", &stored, &used) == 1 &&
             strcmp(sum + strlen(HEADER_SUM_KEY) + used, "\n") == 0 &&
             stored == (unsigned long long)fnv1a(have, (size_t)(sum - have), FNV_SEED);
    MS_CHECK(ok, MS_ERR_INPUT,
             "%s: the checkpoint's header file is damaged (its checksum does not match; a byte changed "
             "on disk), so it cannot be told whether the checkpoint belongs to this campaign. Remove the "
             "directory and start again without --resume",
             path);
    *sum = '\0';
  }
  if (strcmp(have, fp) == 0) return MS_SUCCESS;
  /* name the first line that differs */
  const char *a = have, *b = fp;
  while (*a && *b) {
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
    if (la != lb || memcmp(a, b, la) != 0) {
      const char *why = "";
      if (strncmp(b, "campaign_hash", 13) == 0)
        why = " (the campaign file was edited since the interrupted run, or it is another campaign)";
      else if (strncmp(b, "program", 7) == 0)
        why = " (written by another version of matscreen)";
      else if (strncmp(b, "matscreen checkpoint", 20) == 0)
        why = " (a checkpoint of an older matscreen, whose records this version cannot read: finish the run "
              "with that version, or start again)";
      MS_FAIL(MS_ERR_INPUT,
              "%s: the checkpoint does not belong to this run: it has '%.*s' where this run has "
              "'%.*s'%s. Resume with the same campaign file and program, or remove the directory "
              "to start again",
              dir, (int)la, a, (int)lb, b, why);
    }
    if (!ea || !eb) break;
    a = ea + 1;
    b = eb + 1;
  }
  MS_FAIL(MS_ERR_INPUT, "%s: the checkpoint header does not match this run; remove the directory to start again", dir);
}

static ms_err write_header(const char *dir, const char *fp) {
  char path[4200], tmp[4210];
  snprintf(path, sizeof path, "%s/header", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  MS_CHECK(fd >= 0, MS_ERR_IO, "%s: cannot write the checkpoint header: %s", tmp, strerror(errno));
  size_t n = strlen(fp);
  char sumline[64];
  int ns = snprintf(sumline, sizeof sumline, HEADER_SUM_KEY "%016llx\n", (unsigned long long)fnv1a(fp, n, FNV_SEED));
  ssize_t w = write(fd, fp, n);
  ssize_t w2 = w == (ssize_t)n ? write(fd, sumline, (size_t)ns) : -1;
  int ok = w == (ssize_t)n && w2 == ns && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp, path) != 0) {
    if (ok) err = errno;
    unlink(tmp);
    MS_FAIL(MS_ERR_IO, "%s: cannot write the checkpoint header: %s", path, strerror(err));
  }
  int dfd = open(dir, O_RDONLY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return MS_SUCCESS;
}

/* Rank 0's part of opening: create or check the directory, find the generation, index. */
static ms_err open_root(ms_spool s, const char *output, const char *fp, int resume) {
  struct stat st;
  int exists = stat(s->dir, &st) == 0;
  if (!resume) {
    MS_CHECK(!exists, MS_ERR_INPUT,
             "%s exists: an interrupted run of this campaign left its checkpoint there. Add "
             "--resume to continue it, or remove the directory to start again",
             s->dir);
    MS_CALL(ms_make_parent_dirs(output));
    if (mkdir(s->dir, 0755) != 0)
      MS_FAIL(MS_ERR_IO, "%s: cannot create the checkpoint directory next to the output %s: %s",
              s->dir, output, strerror(errno));
    MS_CALL(write_header(s->dir, fp));
    s->gen = 0;
    return MS_SUCCESS;
  }
  if (!exists) {
    if (stat(output, &st) == 0)
      MS_FAIL(MS_ERR_INPUT, "nothing to resume: %s is complete (no checkpoint %s); run without --resume to compute it again",
              output, s->dir);
    MS_FAIL(MS_ERR_INPUT, "nothing to resume: no checkpoint %s (run without --resume to start)", s->dir);
  }
  MS_CHECK(S_ISDIR(st.st_mode), MS_ERR_INPUT, "%s is not a checkpoint directory", s->dir);
  MS_CALL(check_header(s->dir, fp));
  DIR *d = opendir(s->dir);
  MS_CHECK(d, MS_ERR_FILE, "%s: cannot list the checkpoint: %s", s->dir, strerror(errno));
  int maxgen = -1;
  struct dirent *de;
  int64_t files = 0;
  scan_stats st0;
  memset(&st0, 0, sizeof st0);
  ms_err e = MS_SUCCESS;
  while (!e && (de = readdir(d))) {
    int g = -1, r = -1;
    char tail[8] = "";
    if (sscanf(de->d_name, "g%4d-r%6d.%7s", &g, &r, tail) != 3 || strcmp(tail, "log") != 0) continue;
    if (g > maxgen) maxgen = g;
    char path[4200];
    log_path(s, g, r, path, sizeof path);
    e = scan_file(s, path, g, r, &st0);
    files++;
  }
  closedir(d);
  MS_CALL(e);
  s->gen = maxgen + 1;
  ms_log_info("resuming from %s: %lld committed blocks in %lld log files are kept%s", s->dir,
              (long long)st0.frames, (long long)files,
              st0.torn ? "; the blocks whose frames were cut short when the run stopped are recomputed" : "");
  if (st0.damaged)
    ms_log_warn("%s: %lld damaged region%s (%lld bytes) inside the checkpoint logs, the first in %s: the data "
                "there changed after it was written (a storage fault). The blocks stored there are "
                "recomputed; the %lld intact blocks, also those after the damage, are kept",
                s->dir, (long long)st0.damaged, st0.damaged == 1 ? "" : "s", (long long)st0.damaged_bytes,
                st0.first, (long long)st0.frames);
  return MS_SUCCESS;
}

ms_err ms__spool_open(MPI_Comm comm, const char *output, const char *fingerprint, int resume,
                      ms_spool *out) {
  *out = NULL;
  ms_spool s = calloc(1, sizeof *s);
  MS_CHECK(s, MS_ERR_MEM, "out of memory");
  s->comm = comm;
  s->fd = -1;
  s->fault_frames = -1;
  MPI_Comm_rank(comm, &s->rank);
  MPI_Comm_size(comm, &s->size);
  size_t n = strlen(output);
  s->dir = malloc(n + 6);
  if (!s->dir) {
    free(s);
    MS_FAIL(MS_ERR_MEM, "out of memory");
  }
  snprintf(s->dir, n + 6, "%s.ckpt", output);
  /* Testing hook for storage faults (documented in docs/reliability.md). */
  const char *fault = getenv("MATSCREEN_FAULT_CHECKPOINT_FRAMES");
  if (fault && *fault) s->fault_frames = atoll(fault);
  ms_err e = s->rank == 0 ? open_root(s, output, fingerprint, resume) : MS_SUCCESS;
  e = ms_err_agree(comm, e);
  if (!e) {
    /* share the generation and the index */
    long long hdr[2] = {s->gen, s->nidx};
    MPI_Bcast(hdr, 2, MPI_LONG_LONG, 0, comm);
    s->gen = (int)hdr[0];
    if (s->rank != 0) {
      s->nidx = s->capidx = hdr[1];
      s->idx = malloc(((size_t)hdr[1] + 1) * sizeof *s->idx);
      if (!s->idx) e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    e = ms_err_agree(comm, e);
    if (!e) {
      /* in pieces below 2 GiB */
      char *p = (char *)s->idx;
      size_t left = (size_t)hdr[1] * sizeof *s->idx;
      while (left > 0) {
        int part = left > (1u << 30) ? (1 << 30) : (int)left;
        MPI_Bcast(p, part, MPI_BYTE, 0, comm);
        p += part;
        left -= (size_t)part;
      }
      sort_index(s);
    }
  }
  if (!e) {
    char path[4200];
    log_path(s, s->gen, s->rank, path, sizeof path);
    s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
    if (s->fd < 0)
      e = ms__err_set(MS_ERR_IO, __FILE__, __LINE__, __func__, "%s: cannot create the checkpoint log: %s",
                      path, strerror(errno));
    s->last_sync = MPI_Wtime();
    e = ms_err_agree(comm, e);
  }
  if (e) {
    ms__spool_close(&s);
    return e;
  }
  *out = s;
  return MS_SUCCESS;
}

const char *ms__spool_dir(ms_spool s) { return s->dir; }
int ms__spool_generation(ms_spool s) { return s->gen; }

ms_err ms__spool_append(ms_spool s, int kind, int64_t block, uint32_t nitems, const void *payload,
                        size_t len) {
  frame_header h;
  memset(&h, 0, sizeof h);
  h.magic = FRAME_MAGIC;
  h.kind = kind;
  h.nitems = nitems;
  h.block = block;
  h.len = len;
  h.sum = fnv1a(payload, len, FNV_SEED);
  h.hsum = fnv1a(&h, offsetof(frame_header, hsum), FNV_SEED);
  char path[4200];
  log_path(s, s->gen, s->rank, path, sizeof path);
  if (s->fault_frames == 0)
    MS_FAIL(MS_ERR_IO, "%s: writing the checkpoint failed: %s (injected by MATSCREEN_FAULT_CHECKPOINT_FRAMES; committed results are kept, then --resume)",
            path, strerror(ENOSPC));
  if (s->fault_frames > 0) s->fault_frames--;
  off_t off = lseek(s->fd, 0, SEEK_END);
  MS_CHECK(off >= 0, MS_ERR_FILE, "%s: %s", path, strerror(errno));
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)payload, len}};
  size_t want = sizeof h + len, done = 0;
  while (done < want) {
    ssize_t w;
    if (done < sizeof h) {
      struct iovec v[2] = {{(char *)&h + done, sizeof h - done}, iov[1]};
      w = writev(s->fd, v, 2);
    } else {
      w = write(s->fd, (const char *)payload + (done - sizeof h), want - done);
    }
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = w < 0 ? errno : ENOSPC;
      /* Cut the torn frame off so the log stays a clean sequence for this run's own readers;
       * readers would skip it anyway. */
      if (ftruncate(s->fd, off) != 0) { /* nothing more to do: the frame's checksum fails */
      }
      MS_FAIL(MS_ERR_IO, "%s: writing the checkpoint failed: %s (committed results are kept; free "
              "space or fix the directory, then --resume)", path, strerror(err));
    }
    done += (size_t)w;
  }
  ms_spool_entry en = {kind, s->gen, s->rank, nitems, block, (int64_t)off, len};
  MS_CALL(push_entry(&s->fresh, &s->nfresh, &s->capfresh, &en));
  s->dirty = 1;
  double now = MPI_Wtime();
  if (now - s->last_sync > SYNC_INTERVAL_S) MS_CALL(ms__spool_sync(s));
  return MS_SUCCESS;
}

ms_err ms__spool_sync(ms_spool s) {
  s->last_sync = MPI_Wtime();
  if (!s->dirty || s->fd < 0) return MS_SUCCESS;
  s->dirty = 0;
  if (fdatasync(s->fd) != 0 && errno != EINVAL && errno != EROFS) {
    char path[4200];
    log_path(s, s->gen, s->rank, path, sizeof path);
    MS_FAIL(MS_ERR_IO, "%s: flushing the checkpoint to disk failed: %s", path, strerror(errno));
  }
  return MS_SUCCESS;
}

ms_err ms__spool_exchange(ms_spool s) {
  ms_err e = ms_err_agree(s->comm, ms__spool_sync(s));
  if (e) return e;
  int mine = (int)(s->nfresh * (int64_t)sizeof(ms_spool_entry));
  int *counts = calloc((size_t)s->size, sizeof *counts), *displs = calloc((size_t)s->size, sizeof *displs);
  e = counts && displs ? MS_SUCCESS : ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  e = ms_err_agree(s->comm, e);
  if (e) {
    free(counts);
    free(displs);
    return e;
  }
  MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, s->comm);
  int64_t total = 0;
  for (int r = 0; r < s->size; ++r) {
    displs[r] = (int)total;
    total += counts[r];
  }
  int64_t add = total / (int64_t)sizeof(ms_spool_entry);
  if (s->nidx + add > s->capidx) {
    ms_spool_entry *q = realloc(s->idx, (size_t)(s->nidx + add + 1) * sizeof *q);
    if (q) {
      s->idx = q;
      s->capidx = s->nidx + add + 1;
    } else {
      e = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory (checkpoint index)");
    }
  }
  e = ms_err_agree(s->comm, e);
  if (!e) {
    MPI_Allgatherv(s->fresh, mine, MPI_BYTE, (char *)(s->idx + s->nidx), counts, displs, MPI_BYTE, s->comm);
    s->nidx += add;
    s->nfresh = 0;
    sort_index(s);
  }
  free(counts);
  free(displs);
  return e;
}

const ms_spool_entry *ms__spool_find(ms_spool s, int kind, int64_t block) {
  int64_t lo = 0, hi = s->nidx;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    const ms_spool_entry *m = &s->idx[mid];
    if (m->kind < kind || (m->kind == kind && m->block < block)) lo = mid + 1;
    else hi = mid;
  }
  if (lo < s->nidx && s->idx[lo].kind == kind && s->idx[lo].block == block) return &s->idx[lo];
  return NULL;
}

ms_err ms__spool_read(ms_spool s, const ms_spool_entry *e, void **payload) {
  *payload = NULL;
  char path[4200];
  log_path(s, e->gen, e->rank, path, sizeof path);
  int fd = open(path, O_RDONLY);
  MS_CHECK(fd >= 0, MS_ERR_FILE, "%s: cannot read the checkpoint log: %s", path, strerror(errno));
  frame_header h;
  char *buf = malloc(e->len + 1);
  ms_err err = MS_SUCCESS;
  if (!buf) {
    err = ms__err_set(MS_ERR_MEM, __FILE__, __LINE__, __func__, "out of memory");
  } else if (pread(fd, &h, sizeof h, e->offset) != (ssize_t)sizeof h || !header_ok(&h) ||
             h.len != e->len || h.block != e->block ||
             (e->len && pread(fd, buf, e->len, e->offset + (int64_t)sizeof h) != (ssize_t)e->len) ||
             fnv1a(buf, e->len, FNV_SEED) != h.sum) {
    err = ms__err_set(MS_ERR_FILE, __FILE__, __LINE__, __func__,
                      "%s: the checkpoint frame at byte %lld changed or is damaged since it was "
                      "written (a storage fault). Run again with --resume: the blocks stored there are "
                      "recomputed and everything else is kept",
                      path, (long long)e->offset);
  }
  close(fd);
  if (err) {
    free(buf);
    return err;
  }
  *payload = buf;
  return MS_SUCCESS;
}

static int remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    unlink(path);
  }
  closedir(d);
  return rmdir(dir);
}

ms_err ms__spool_finish(ms_spool *sp, int remove) {
  ms_spool s = *sp;
  MPI_Comm comm = s->comm;
  int rank = s->rank;
  char *dir = strdup(s->dir);
  ms__spool_close(sp);
  MPI_Barrier(comm); /* every log is closed before the directory goes */
  ms_err e = MS_SUCCESS;
  if (remove && rank == 0 && dir && remove_dir(dir) != 0)
    ms_log_warn("could not remove the checkpoint %s (%s); remove it by hand", dir, strerror(errno));
  free(dir);
  return e;
}

void ms__spool_close(ms_spool *sp) {
  if (!sp || !*sp) return;
  ms_spool s = *sp;
  if (s->fd >= 0) close(s->fd);
  free(s->dir);
  free(s->idx);
  free(s->fresh);
  free(s);
  *sp = NULL;
}
