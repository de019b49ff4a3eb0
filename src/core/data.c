/* Data files: the embedded copies of inputs/ (generated at build time by embed_data.py) and the
 * MATSCREEN_DATA_DIR override, plus a whole-file reader used by every parser. */
#include "matscreen/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  const unsigned char *data;
  size_t len;
} ms__embedded_file;
extern const ms__embedded_file ms__embedded_files[];
extern const int ms__embedded_count;

/* Files larger than this are refused: every matscreen input is text and far smaller, and a
 * bound keeps a wrong path (a device, a huge binary) from exhausting memory. */
#define MS_MAX_FILE_BYTES ((size_t)1 << 31)

ms_err ms_read_file(const char *path, char **text, size_t *len) {
  *text = NULL;
  if (len) *len = 0;
  FILE *fp = fopen(path, "rb");
  MS_CHECK(fp, MS_ERR_FILE, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    fclose(fp);
    MS_FAIL(MS_ERR_MEM, "%s: out of memory", path);
  }
  for (;;) {
    if (n == cap) {
      if (cap >= MS_MAX_FILE_BYTES) {
        free(buf);
        fclose(fp);
        MS_FAIL(MS_ERR_FILE, "%s: file larger than %zu bytes", path, MS_MAX_FILE_BYTES);
      }
      char *nb = realloc(buf, 2 * cap + 1);
      if (!nb) {
        free(buf);
        fclose(fp);
        MS_FAIL(MS_ERR_MEM, "%s: out of memory", path);
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) break;
  }
  int failed = ferror(fp);
  int saved = errno;
  fclose(fp);
  if (failed) {
    free(buf);
    MS_FAIL(MS_ERR_FILE, "%s: read error: %s", path, strerror(saved));
  }
  buf[n] = '\0';
  *text = buf;
  if (len) *len = n;
  return MS_SUCCESS;
}

ms_err ms_data_read(const char *name, char **text, size_t *len, const char **origin) {
  static _Thread_local char where[4096];
  const char *dir = getenv("MATSCREEN_DATA_DIR");
  if (dir && *dir) {
    snprintf(where, sizeof where, "%s/%s", dir, name);
    FILE *probe = fopen(where, "rb");
    if (probe) {
      fclose(probe);
      if (origin) *origin = where;
      return ms_read_file(where, text, len);
    }
  }
  for (int k = 0; k < ms__embedded_count; ++k) {
    if (strcmp(ms__embedded_files[k].name, name) == 0) {
      size_t n = ms__embedded_files[k].len;
      char *buf = malloc(n + 1);
      MS_CHECK(buf, MS_ERR_MEM, "out of memory reading embedded %s", name);
      memcpy(buf, ms__embedded_files[k].data, n);
      buf[n] = '\0';
      *text = buf;
      if (len) *len = n;
      if (origin) *origin = "embedded";
      return MS_SUCCESS;
    }
  }
  MS_FAIL(MS_ERR_FILE, "no data file '%s' (embedded%s%s)", name,
          dir && *dir ? " or under MATSCREEN_DATA_DIR=" : "", dir && *dir ? dir : "");
}

const char *const *ms_data_list(const char *dir, int *count) {
  /* The embedded table is sorted by name, so the listing is too. Build it once per directory
   * name into a small static cache (this is only used for `info` listings). */
  enum { MAX_LIST = 256 };
  static _Thread_local const char *list[MAX_LIST + 1];
  size_t dl = strlen(dir);
  int n = 0;
  for (int k = 0; k < ms__embedded_count && n < MAX_LIST; ++k) {
    const char *nm = ms__embedded_files[k].name;
    if (strncmp(nm, dir, dl) == 0 && nm[dl] == '/') list[n++] = nm;
  }
  list[n] = NULL;
  if (count) *count = n;
  return list;
}

int ms_data_names(const char *dir, char (*names)[64], int max, const char **list) {
  int n = 0, nd = 0;
  const char *const *files = ms_data_list(dir, &nd);
  size_t dl = strlen(dir) + 1;
  for (int k = 0; k < nd && n < max; ++k) {
    const char *base = files[k] + dl;
    size_t l = strlen(base);
    if (l < 6 || l - 5 >= 64 || strcmp(base + l - 5, ".yaml") != 0) continue;
    memcpy(names[n], base, l - 5);
    names[n][l - 5] = '\0';
    list[n] = names[n];
    ++n;
  }
  list[n] = NULL;
  return n;
}

int ms_data_is_path(const char *s) {
  const size_t l = strlen(s);
  if (strchr(s, '/')) return 1;
  if (l > 5 && strcmp(s + l - 5, ".yaml") == 0) return 1;
  if (l > 4 && strcmp(s + l - 4, ".yml") == 0) return 1;
  return 0;
}
