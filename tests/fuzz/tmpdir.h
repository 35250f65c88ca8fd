/* A scratch directory for harnesses whose parser needs a real directory
 * (an OCI layout, a rootfs), in $TMPDIR (tests/fuzz/run gives each harness
 * its own and removes it afterwards: a crash skips atexit) or /tmp.  Named
 * fuzz-sbx-* (not sbx-*, which the soak counts as a runtime leak) and
 * removed at exit. */
#ifndef SBX_FUZZ_TMPDIR_H
#define SBX_FUZZ_TMPDIR_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/safefs.h"

static char fuzz_tmp[256];

static void fuzz_tmp_remove(void)
{
	if (fuzz_tmp[0])
		rfs_remove_at(AT_FDCWD, fuzz_tmp);
}

/* Returns an O_PATH fd of the scratch directory; aborts when it cannot. */
static inline int fuzz_tmp_make(void)
{
	const char *t = getenv("TMPDIR");
	if (t == NULL || t[0] != '/' || strlen(t) > sizeof(fuzz_tmp) - 32)
		t = "/tmp";
	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/fuzz-sbx-XXXXXX", t);
	if (mkdtemp(fuzz_tmp) == NULL)
		abort();
	atexit(fuzz_tmp_remove);
	int fd = open(fuzz_tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

static inline int fuzz_keep_none(const char *name, void *data)
{
	(void)name;
	(void)data;
	return 0;
}

/* Write size bytes to dirfd/name (relative, parent exists). */
static inline void fuzz_write_at(int dirfd, const char *name, const void *data, size_t size)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		abort();
	const char *p = data;
	while (size) {
		ssize_t w = write(fd, p, size);
		if (w <= 0)
			abort();
		p += w;
		size -= (size_t)w;
	}
	close(fd);
}

#endif
