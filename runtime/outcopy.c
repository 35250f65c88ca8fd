#include "outcopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/alloc.h"

#define MAX_DEPTH 64

int sbx_out_check(const char *dest, struct sbx_error **err)
{
	struct stat st;
	if (lstat(dest, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return sbx_error_set(err, 0, "--out %s is a symlink (give the real directory)", dest);
		if (!S_ISDIR(st.st_mode))
			return sbx_error_set(err, 0, "--out %s exists and is not a directory", dest);
		if (access(dest, W_OK | X_OK) < 0)
			return sbx_error_set(err, errno, "--out %s", dest);
		return 0;
	}
	if (errno != ENOENT)
		return sbx_error_set(err, errno, "--out %s", dest);
	cleanup_free char *copy = sbx_xstrdup(dest);
	char *slash = strrchr(copy, '/');
	const char *parent = slash == NULL ? "." : (slash == copy ? "/" : (*slash = '\0', copy));
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_error_set(err, errno ? errno : ENOTDIR, "--out %s: parent directory %s", dest, parent);
	return 0;
}

static void skip(struct sbx_result *r, const char *rel)
{
	char **n = sbx_xreallocarray(r->out_skipped, r->n_out_skipped + 1, sizeof(char *));
	r->out_skipped = n;
	r->out_skipped[r->n_out_skipped++] = sbx_xstrdup(rel);
}

static int copy_file(int src, int dstdir, const char *name, const struct stat *st, const char *rel,
		     struct sbx_result *r, struct sbx_error **err)
{
	cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return sbx_error_set(err, errno, "reading /out/%s", rel);
	/* O_NOFOLLOW: a symlink already in the host directory is not followed. */
	cleanup_close int out = openat(dstdir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
				       st->st_mode & 0755);
	if (out < 0) {
		if (errno == ELOOP) {
			skip(r, rel);
			return 0;
		}
		return sbx_error_set(err, errno, "writing %s", rel);
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_error_set(err, errno, "reading /out/%s", rel);
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return sbx_error_set(err, errno, "writing %s", rel);
			off += w;
		}
		r->out_bytes += (uint64_t)n;
	}
	r->out_files++;
	return 0;
}

static int copy_dir(int src, int dst, const char *prefix, int depth, struct sbx_result *r, struct sbx_error **err)
{
	if (depth > MAX_DEPTH)
		return sbx_error_set(err, 0, "/out/%s: directories nested deeper than %d", prefix, MAX_DEPTH);
	int dupfd = fcntl(src, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0)
		return sbx_error_set(err, errno, "reading /out/%s", prefix);
	DIR *d = fdopendir(dupfd);
	if (d == NULL) {
		close(dupfd);
		return sbx_error_set(err, errno, "reading /out/%s", prefix);
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		cleanup_free char *rel = NULL;
		rel = sbx_xasprintf("%s%s%s", prefix, *prefix ? "/" : "", e->d_name);
		struct stat st;
		if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = sbx_error_set(err, errno, "stat /out/%s", rel);
			break;
		}
		if (S_ISREG(st.st_mode)) {
			rc = copy_file(src, dst, e->d_name, &st, rel, r, err);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, e->d_name, 0755) < 0 && errno != EEXIST) {
				rc = sbx_error_set(err, errno, "creating %s", rel);
				break;
			}
			cleanup_close int s2 = openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			cleanup_close int d2 = openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0) {
				if (d2 < 0 && errno == ENOTDIR) {
					skip(r, rel); /* a non-directory of that name is already there */
					continue;
				}
				rc = sbx_error_set(err, errno, "opening %s", rel);
				break;
			}
			rc = copy_dir(s2, d2, rel, depth + 1, r, err);
		} else {
			skip(r, rel);
		}
	}
	closedir(d);
	return rc;
}

int sbx_out_copy(int srcfd, const char *dest, struct sbx_result *r, struct sbx_error **err)
{
	if (mkdir(dest, 0755) < 0 && errno != EEXIST)
		return sbx_error_set(err, errno, "creating %s", dest);
	cleanup_close int dst = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return sbx_error_set(err, errno, "opening %s", dest);
	if (copy_dir(srcfd, dst, "", 0, r, err) < 0)
		return sbx_error_wrap(err, "copying /out to %s", dest);
	return 0;
}
