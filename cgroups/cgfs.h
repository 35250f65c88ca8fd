/* Small file operations on cgroup directories, shared by v1 and v2. */
#ifndef SBX_CGROUP_CGFS_H
#define SBX_CGROUP_CGFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

/* Whole content of dir/file (NUL-terminated).  -errno on failure. */
int sbx_cg_read(const char *dir, const char *file, char **out);
/* A counter file holding one number: 0 and *out set when dir/file exists and
 * reads as a number ("max" reads as 0), -1 when it does not (an older
 * kernel, a controller not joined: dir NULL). */
int sbx_cg_read_u64(const char *dir, const char *file, uint64_t *out);
/* Write value to dir/file in one write(2), as cgroup files expect.  The file
 * must exist (never created).  -errno on failure. */
int sbx_cg_write(const char *dir, const char *file, const char *value);
/* The same with an error chain naming the file. */
int sbx_cg_write_err(const char *dir, const char *file, const char *value, struct sbx_error **err);

/* Pids listed in dir/cgroup.procs; *n = 0 when empty.  -errno on failure. */
int sbx_cg_procs(const char *dir, pid_t **pids, size_t *n);
/* SIGKILL every pid listed in dir/cgroup.procs; returns how many were
 * listed (0 = empty) or -errno. */
int sbx_cg_kill_listed(const char *dir);
/* Kill repeatedly until dir/cgroup.procs is empty, at most `ms`
 * milliseconds.  0 when empty, -ETIMEDOUT otherwise. */
int sbx_cg_kill_until_empty(const char *dir, int ms);
/* rmdir, retrying EBUSY (exiting tasks still charged) for up to `ms`. */
int sbx_cg_rmdir(const char *dir, int ms);

/* Subdirectories of dir other than `except` (NULL: none excepted); -errno. */
int sbx_cg_count_subdirs(const char *dir, const char *except);

bool sbx_cg_exists(const char *path);
char *sbx_cg_join(const char *a, const char *b); /* "a/b", aborts on ENOMEM */
/* mkdir -p below an existing `top` (which must be a prefix of path). */
int sbx_cg_mkdirs(const char *top, const char *path, struct sbx_error **err);

#endif
