/* A user namespace cannot mknod, and a node made in the sandbox's own tmpfs
 * would not open (the kernel refuses devices on filesystems mounted in a
 * user namespace).  So, as rootless runc and crun do, a device the config
 * names is the host's node bound onto an empty file: it opens with the
 * host node's mode and owner, which the sandbox's unprivileged ids can use
 * only as far as "other" (or the caller, rootless) may. */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"

/* The directories above `path` in our own fresh tmpfs (nothing of the
 * image is on the way); returns the last one's fd and its name in *leaf. */
static int parent_dir(int dev, const char *path, const char **leaf, struct sbx_error **err)
{
	int dir = dup(dev);
	const char *p = path;
	for (const char *slash; dir >= 0 && (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		char name[256];
		size_t n = (size_t)(slash - p);
		if (n == 0 || n >= sizeof(name)) {
			close(dir);
			return sbx_error_set(err, EINVAL, "/dev/%s: bad path", path);
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(dir);
			return sbx_error_set(err, e, "creating /dev/%s", path);
		}
		int next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		dir = next;
	}
	if (dir < 0)
		return sbx_error_set(err, errno, "creating /dev/%s", path);
	*leaf = p;
	return dir;
}

static int bind_device(const struct sbx_device *d, int dev, struct sbx_error **err)
{
	const char *leaf = NULL;
	cleanup_close int dir = parent_dir(dev, d->path, &leaf, err);
	if (dir < 0)
		return -1;
	cleanup_close int f = openat(dir, leaf, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (f < 0)
		return sbx_error_set(err, errno, "creating /dev/%s", d->path);
	cleanup_close int target = openat(dir, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int m = open_tree(AT_FDCWD, d->host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	struct stat st;
	if (target < 0 || m < 0 || fstat(m, &st) < 0)
		return sbx_error_set(err, errno, "binding %s to /dev/%s", d->host, d->path);
	/* The config was checked against the host's node by path; check again
	 * what this path names now. */
	if ((st.st_mode & S_IFMT) != d->type || st.st_rdev != d->rdev)
		return sbx_error_set(err, 0, "%s is no longer the device %u:%u", d->host, major(d->rdev),
				     minor(d->rdev));
	if (move_mount(m, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "binding %s to /dev/%s", d->host, d->path);
	return 0;
}

int sbx_mount_devices(const struct sbx_config *c, int dev, struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (bind_device(&c->devices[i], dev, err) < 0)
			return -1;
	return 0;
}
