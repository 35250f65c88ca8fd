/* Applying an image layer (rootfs-builder/layer.c, safefs.c): a hostile
 * tar (any compression libarchive detects) extracted into a scratch rootfs.
 * Besides memory errors, the harness checks confinement: a sibling
 * directory of the rootfs must be left exactly as it was, whatever the
 * entries' names, symlinks, hard links and whiteouts try. */
#include <assert.h>
#include <dirent.h>
#include <sys/stat.h>

#include "rootfs-builder/blob.h"
#include "rootfs-builder/layer.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/tmpdir.h"

static int base = -1, rootfd = -1, outside = -1;

static size_t count_entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void setup(void)
{
	int t = fuzz_tmp_make();
	base = openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(t);
	if (base < 0 || mkdirat(base, "root", 0755) < 0 || mkdirat(base, "outside", 0755) < 0)
		abort();
	rootfd = openat(base, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	outside = openat(base, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fuzz_write_at(outside, "keep", "keep\n", 5);
	/* A symlink out of the rootfs that entries may try to write through. */
	if (rootfd < 0 || outside < 0 || symlinkat("../outside", rootfd, "escape") < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base < 0)
		setup();
	char path[64];
	int fd = fuzz_memfd(data, size, path);
	struct rfs_extract x;
	rfs_extract_init(&x, rootfd);
	x.max_size = 16u << 20;
	struct rfs_stream *st = NULL;
	struct sbx_error *err = NULL;
	if (rfs_stream_open_path(path, &st, &err) < 0)
		abort();
	struct rfs_layer_desc d = { .label = "fuzz layer", .digest = NULL, .size = -1, .diff_id = NULL };
	int r = rfs_apply_layer(&x, st, &d, &err);
	if (r == 0)
		r = rfs_extract_finish(&x, &err);
	if (r < 0)
		assert(err != NULL && err->msg != NULL);
	sbx_error_free(&err);
	rfs_stream_close(st);
	rfs_extract_free(&x);
	close(fd);

	/* Nothing beside the rootfs changed. */
	struct stat sb;
	assert(count_entries(base) == 2);
	assert(count_entries(outside) == 1);
	assert(fstatat(outside, "keep", &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 5);
	assert((sb.st_mode & 07777) == 0644 && sb.st_uid == getuid() && sb.st_nlink == 1);
	assert(fstat(outside, &sb) == 0 && (sb.st_mode & 07777) == 0755 && sb.st_uid == getuid());
	assert(fstat(base, &sb) == 0 && (sb.st_mode & 07777) == 0700 && sb.st_uid == getuid());

	if (rfs_clear_dir(rootfd, fuzz_keep_none, NULL) < 0)
		abort();
	if (symlinkat("../outside", rootfd, "escape") < 0)
		abort();
	return 0;
}
