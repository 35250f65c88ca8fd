#include "outcopy.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "fault.h"

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

/* One copy-out: what is left of the size cap and of the time. */
struct copy {
	struct sbx_result *r;
	uint64_t left;     /* bytes of the cap not yet charged */
	uint64_t deadline; /* sbx_now_ns() at which the copy stops */
};

/* Returned (> 0) up the walk when the deadline is reached. */
#define STOP 1

static void skip(struct copy *cp, const char *rel)
{
	struct sbx_result *r = cp->r;
	r->out_skipped_count++;
	/* Listed by name up to a fixed count, like seccomp_denials: a workload
	 * that fills /out with links must not grow the supervisor or the
	 * report with them. */
	if (r->n_out_skipped >= SBX_OUT_SKIPPED_MAX)
		return;
	if (r->out_skipped == NULL)
		r->out_skipped = sbx_xcalloc(SBX_OUT_SKIPPED_MAX, sizeof(char *));
	r->out_skipped[r->n_out_skipped++] = sbx_xstrdup(rel);
}

static bool late(struct copy *cp)
{
	if (sbx_now_ns() < cp->deadline)
		return false;
	cp->r->out_deadline_hit = true;
	return true;
}

/* Copy bytes [from, to) of `in` to the same offsets of `out`. */
static int copy_range(struct copy *cp, int in, int out, off_t from, off_t to, const char *rel,
		      struct sbx_error **err)
{
	char buf[65536];
	while (from < to) {
		if (late(cp))
			return STOP;
		size_t want = (size_t)(to - from) < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		ssize_t n = pread(in, buf, want, from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_error_set(err, errno, "reading /out/%s", rel);
		if (n == 0)
			break; /* shorter than it said: the rest stays a hole */
		for (ssize_t off = 0; off < n;) {
			ssize_t w = pwrite(out, buf + off, (size_t)(n - off), from + off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return sbx_error_set(err, errno, "writing %s", rel);
			off += w;
		}
		from += n;
	}
	return 0;
}

/* Copy the data of `in` (size bytes) to `out`, keeping holes: only the
 * ranges SEEK_DATA finds are written, then the size is set.  Without
 * SEEK_DATA support the whole file is data. */
static int copy_data(struct copy *cp, int in, int out, off_t size, const char *rel, struct sbx_error **err)
{
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only a hole is left */
		if (data < 0 && errno != EINVAL)
			return sbx_error_set(err, errno, "reading /out/%s", rel);
		off_t hole = data < 0 ? size : lseek(in, data, SEEK_HOLE);
		if (data < 0)
			data = pos;
		if (hole < 0)
			return sbx_error_set(err, errno, "reading /out/%s", rel);
		if (data >= size)
			break;
		if (hole > size)
			hole = size;
		int rc = copy_range(cp, in, out, data, hole, rel, err);
		if (rc != 0)
			return rc;
		pos = hole;
	}
	if (ftruncate(out, size) < 0)
		return sbx_error_set(err, errno, "writing %s", rel);
	return 0;
}

static int copy_file(struct copy *cp, int src, int dstdir, const char *name, const char *rel,
		     struct sbx_error **err)
{
	struct sbx_result *r = cp->r;
#ifdef SBX_FAULT_INJECTION
	/* Test seam: a host disk this slow makes the deadline reachable. */
	if (sbx_fault_hit("slow:outcopy"))
		usleep(200000);
#endif
	/* O_NONBLOCK: should the entry have become a FIFO since it was
	 * listed, opening it must not hang the supervisor. */
	cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return sbx_error_set(err, errno, "reading /out/%s", rel);
	/* The size charged is the one of the inode actually opened. */
	struct stat st;
	if (fstat(in, &st) < 0)
		return sbx_error_set(err, errno, "stat /out/%s", rel);
	if (!S_ISREG(st.st_mode)) {
		skip(cp, rel);
		return 0;
	}
	/* Apparent size, not data: a sparse file must not become a huge
	 * file on the host (tools that copy it later fill the holes), and a
	 * file of 8 EiB must not be tried at all. */
	uint64_t size = (uint64_t)st.st_size;
	if (size > cp->left) {
		r->out_cut_files++;
		/* Saturates: the report's integers are signed 64-bit. */
		r->out_cut_bytes = size > (uint64_t)INT64_MAX - r->out_cut_bytes ? (uint64_t)INT64_MAX
										 : r->out_cut_bytes + size;
		skip(cp, rel);
		return 0;
	}
	/* O_NOFOLLOW: a symlink already in the host directory is not followed. */
	cleanup_close int out = openat(dstdir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
				       st.st_mode & 0755);
	if (out < 0) {
		if (errno == ELOOP) {
			skip(cp, rel);
			return 0;
		}
		return sbx_error_set(err, errno, "writing %s", rel);
	}
	cp->left -= size;
	int rc = copy_data(cp, in, out, st.st_size, rel, err);
	if (rc == STOP) {
		/* Cut at the deadline: no half file is left behind. */
		unlinkat(dstdir, name, 0);
		skip(cp, rel);
		return STOP;
	}
	if (rc < 0)
		return rc;
	r->out_bytes += size;
	r->out_files++;
	return 0;
}

static int copy_dir(struct copy *cp, int src, int dst, const char *prefix, int depth, struct sbx_error **err)
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
		if (late(cp)) {
			rc = STOP;
			break;
		}
		struct stat st;
		if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = sbx_error_set(err, errno, "stat /out/%s", rel);
			break;
		}
		if (S_ISREG(st.st_mode)) {
			rc = copy_file(cp, src, dst, e->d_name, rel, err);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, e->d_name, 0755) < 0 && errno != EEXIST) {
				rc = sbx_error_set(err, errno, "creating %s", rel);
				break;
			}
			cleanup_close int s2 = openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			cleanup_close int d2 = openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0) {
				if (d2 < 0 && errno == ENOTDIR) {
					skip(cp, rel); /* a non-directory of that name is already there */
					continue;
				}
				rc = sbx_error_set(err, errno, "opening %s", rel);
				break;
			}
			rc = copy_dir(cp, s2, d2, rel, depth + 1, err);
		} else {
			skip(cp, rel);
		}
	}
	closedir(d);
	return rc;
}

uint64_t sbx_out_deadline_ns(uint64_t max_bytes)
{
	return 5000000000ull + max_bytes / (32ull << 20) * 1000000000ull;
}

int sbx_out_copy(int srcfd, const char *dest, uint64_t max_bytes, struct sbx_result *r,
		 struct sbx_error **err)
{
	uint64_t deadline = sbx_now_ns() + sbx_out_deadline_ns(max_bytes);
	struct copy cp = { .r = r, .left = max_bytes, .deadline = deadline };
	r->out_limit_bytes = max_bytes;
	if (mkdir(dest, 0755) < 0 && errno != EEXIST)
		return sbx_error_set(err, errno, "creating %s", dest);
	cleanup_close int dst = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return sbx_error_set(err, errno, "opening %s", dest);
	/* The deadline is not an error: what was copied stays, the run keeps
	 * its status, and the report says the copy was cut. */
	if (copy_dir(&cp, srcfd, dst, "", 0, err) < 0)
		return sbx_error_wrap(err, "copying /out to %s", dest);
	return 0;
}
