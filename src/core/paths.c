/* Creating the parent directories of outputs (paths.h). */
#include "matscreen/paths.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_LIMIT 4096

ms_err ms_make_dirs(const char *dir) {
  MS_CHECK(dir, MS_ERR_ARG, "NULL directory name");
  size_t n = strlen(dir);
  MS_CHECK(n > 0 && n < PATH_LIMIT, MS_ERR_ARG, "bad directory name '%s' (empty or too long)", dir);
  char buf[PATH_LIMIT];
  memcpy(buf, dir, n + 1);
  for (size_t i = 1; i <= n; ++i) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i - 1] == '/') continue; /* "a//b" */
    char save = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      MS_FAIL(MS_ERR_FILE, "%s: cannot create directory: %s", buf, strerror(errno));
    buf[i] = save;
  }
  struct stat st;
  MS_CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), MS_ERR_FILE, "%s: exists and is not a directory", dir);
  return MS_SUCCESS;
}

ms_err ms_make_parent_dirs(const char *path) {
  MS_CHECK(path, MS_ERR_ARG, "NULL path");
  size_t n = strlen(path);
  MS_CHECK(n > 0 && n < PATH_LIMIT, MS_ERR_ARG, "bad file name '%s' (empty or too long)", path);
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return MS_SUCCESS; /* "out.h5" or "/out.h5" */
  char buf[PATH_LIMIT];
  size_t len = (size_t)(slash - path);
  memcpy(buf, path, len);
  buf[len] = '\0';
  return ms_make_dirs(buf);
}
