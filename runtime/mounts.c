/* The sandbox's mounts, built with the new mount API (fsopen/fsmount,
 * open_tree, move_mount, mount_setattr): every target is resolved inside the
 * rootfs with openat2(RESOLVE_IN_ROOT), so a symlink planted in an image
 * ("/tmp -> /etc") can never make us mount over a host path, and mounts are
 * attached to file descriptors rather than re-resolved path strings. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "devices.h"

#define TMP_MODE "1777"

static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Create the missing components of `path` (inside rootfd), the last one as a
 * directory or an empty file.  Only called when the root is writable (the
 * tmpfs-backed overlay), never on the host's rootfs directory. */
static int create_in_root(int rootfd, const char *path, bool dir, struct sbx_error **err)
{
	cleanup_free char *copy = sbx_xstrdup(path);
	char *p = copy;
	while (*p == '/')
		p++;
	for (char *slash = p;; slash++) {
		slash = strchr(slash, '/');
		bool last = slash == NULL;
		if (!last)
			*slash = '\0';
		cleanup_close int fd = openat2_in_root(rootfd, p, O_PATH);
		if (fd < 0 && errno == ENOENT) {
			char *name = strrchr(p, '/');
			cleanup_close int parent = -1;
			if (name == NULL) {
				parent = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
				name = p;
			} else {
				*name = '\0';
				parent = openat2_in_root(rootfd, p, O_PATH | O_DIRECTORY);
				*name++ = '/';
			}
			if (parent < 0)
				return sbx_error_set(err, errno, "creating mount point %s", path);
			int r;
			if (!last || dir)
				r = mkdirat(parent, name, 0755);
			else {
				r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
				if (r >= 0)
					close(r);
			}
			if (r < 0 && errno != EEXIST)
				return sbx_error_set(err, errno, "creating mount point %s", path);
		} else if (fd < 0) {
			return sbx_error_set(err, errno, "creating mount point %s", path);
		}
		if (last)
			break;
		*slash = '/';
	}
	return 0;
}

/* An O_PATH fd of `path` inside the root; creates it when allowed. */
static int open_target(int rootfd, const char *path, bool dir, bool create, struct sbx_error **err)
{
	int fd = openat2_in_root(rootfd, path, O_PATH);
	if (fd < 0 && errno == ENOENT && create) {
		if (create_in_root(rootfd, path, dir, err) < 0)
			return -1;
		fd = openat2_in_root(rootfd, path, O_PATH);
	}
	if (fd < 0)
		return sbx_error_set(err, errno, "mount point %s in the rootfs", path);
	return fd;
}

static int attach(int mntfd, int targetfd, const char *what, struct sbx_error **err)
{
	if (move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "attaching %s", what);
	return 0;
}

/* A new detached filesystem instance: fsopen + options + fsmount. */
static int new_fs(const char *type, const char *const *opts, unsigned attrs, struct sbx_error **err)
{
	cleanup_close int fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return sbx_error_set(err, errno, "fsopen %s", type);
	for (size_t i = 0; opts && opts[i]; i += 2) {
		int r = opts[i + 1] ? fsconfig(fs, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0)
				    : fsconfig(fs, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
		if (r < 0)
			return sbx_error_set(err, errno, "%s option %s=%s", type, opts[i],
					     opts[i + 1] ? opts[i + 1] : "");
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return sbx_error_set(err, errno, "creating %s", type);
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		return sbx_error_set(err, errno, "fsmount %s", type);
	return mnt;
}

static int mount_new_fs_at(int rootfd, const char *target, const char *type, const char *const *opts,
			   unsigned attrs, bool create, struct sbx_error **err)
{
	cleanup_close int t = open_target(rootfd, target, true, create, err);
	if (t < 0)
		return -1;
	cleanup_close int m = new_fs(type, opts, attrs, err);
	if (m < 0)
		return sbx_error_wrap(err, "mounting %s on %s", type, target);
	if (attach(m, t, target, err) < 0)
		return sbx_error_wrap(err, "mounting %s on %s", type, target);
	return 0;
}

static int set_attrs(int fd, const char *path, unsigned attrs, bool recursive, struct sbx_error **err)
{
	struct mount_attr a = { .attr_set = attrs };
	unsigned flags = (path[0] == '\0' ? AT_EMPTY_PATH : 0) | (recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(fd, path, flags, &a, sizeof(a)) < 0)
		return sbx_error_set(err, errno, "setting mount attributes");
	return 0;
}

/* A detached copy of a host path (file or directory tree) with attributes. */
static int clone_tree(int dirfd, const char *path, unsigned attrs, bool *is_dir, struct sbx_error **err)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | (path[0] ? 0 : AT_EMPTY_PATH);
	cleanup_close int t = open_tree(dirfd, path, flags);
	if (t < 0)
		return sbx_error_set(err, errno, "open_tree %s", path);
	if (is_dir) {
		struct stat st;
		if (fstat(t, &st) < 0)
			return sbx_error_set(err, errno, "stat %s", path);
		*is_dir = S_ISDIR(st.st_mode);
	}
	if (attrs && set_attrs(t, "", attrs, true, err) < 0)
		return sbx_error_wrap(err, "%s", path);
	return sbx_steal_fd(&t);
}

static bool exists_in_root(int rootfd, const char *path)
{
	int fd = openat2_in_root(rootfd, path, O_PATH);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

int sbx_mounts_open_sources(const struct sbx_config *c, struct sbx_mount_sources *s, struct sbx_error **err)
{
	*s = (struct sbx_mount_sources){ .rootfs = -1, .n = c->n_binds };
	s->binds = sbx_xcalloc(c->n_binds + 1, sizeof(int));
	s->bind_is_dir = sbx_xcalloc(c->n_binds + 1, sizeof(bool));
	for (size_t i = 0; i < c->n_binds; i++)
		s->binds[i] = -1;
	s->rootfs = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfs < 0)
		return sbx_error_set(err, errno, "opening rootfs %s", c->rootfs);
	for (size_t i = 0; i < c->n_binds; i++) {
		struct stat st;
		s->binds[i] = open(c->binds[i].source, O_PATH | O_CLOEXEC);
		if (s->binds[i] < 0 || fstat(s->binds[i], &st) < 0)
			return sbx_error_set(err, errno, "bind source %s", c->binds[i].source);
		s->bind_is_dir[i] = S_ISDIR(st.st_mode);
	}
	return 0;
}

void sbx_mounts_close_sources(struct sbx_mount_sources *s)
{
	if (s->rootfs >= 0)
		close(s->rootfs);
	for (size_t i = 0; s->binds && i < s->n; i++)
		if (s->binds[i] >= 0)
			close(s->binds[i]);
	free(s->binds);
	free(s->bind_is_dir);
	*s = (struct sbx_mount_sources){ .rootfs = -1 };
}

/* Every mount point the run needs, and whether it is a directory. */
struct mount_point {
	const char *path;
	bool dir;
};

static size_t mount_points(const struct sbx_config *c, const struct sbx_mount_sources *s, struct mount_point *mp)
{
	size_t n = 0;
	mp[n++] = (struct mount_point){ "/proc", true };
	mp[n++] = (struct mount_point){ "/dev", true };
	mp[n++] = (struct mount_point){ "/tmp", true };
	for (size_t i = 0; i < c->n_binds; i++)
		mp[n++] = (struct mount_point){ c->binds[i].target, s->bind_is_dir[i] };
	for (size_t i = 0; i < c->n_tmpfs; i++)
		mp[n++] = (struct mount_point){ c->tmpfs[i].target, true };
	if (c->out_dir != NULL)
		mp[n++] = (struct mount_point){ "/out", true };
	if (c->kernel_mounts & SBX_KMOUNT_SYSFS)
		mp[n++] = (struct mount_point){ "/sys", true };
	else if (c->kernel_mounts & SBX_KMOUNT_CGROUP)
		mp[n++] = (struct mount_point){ "/sys/fs/cgroup", true };
	return n;
}

/* Create the missing mount point `path` in the overlay's upper layer
 * (before the overlay exists), following the rootfs for the parts it has:
 * a directory of the rootfs gets an upper twin with its mode, so the
 * overlay merges them.  Creating it through the overlay instead would be
 * refused: the rootfs' directories are owned by ids the sandbox does not
 * map.  A symlink on the way is refused rather than shadowed. */
static int precreate(int lower, int upper, const char *path, bool dir, struct sbx_error **err)
{
	cleanup_free char *copy = sbx_xstrdup(path);
	cleanup_close int lo = fcntl(lower, F_DUPFD_CLOEXEC, 0);
	cleanup_close int up = fcntl(upper, F_DUPFD_CLOEXEC, 0);
	char *save = NULL;
	for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		bool last = save == NULL || *save == '\0';
		struct stat st;
		bool in_lower = lo >= 0 && fstatat(lo, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (in_lower && S_ISLNK(st.st_mode))
			return sbx_error_set(err, 0, "mount point %s: '%s' is a symlink in the rootfs (mount on the path it points to)",
					     path, name);
		if (in_lower && !S_ISDIR(st.st_mode) && !last)
			return sbx_error_set(err, ENOTDIR, "mount point %s", path);
		if (last && !dir) {
			int fd = openat(up, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
			if (fd < 0 && errno != EEXIST)
				return sbx_error_set(err, errno, "creating mount point %s", path);
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (mkdirat(up, name, in_lower ? (st.st_mode & 07777) : 0755) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "creating mount point %s", path);
		int next_up = openat(up, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next_up < 0)
			return sbx_error_set(err, errno, "creating mount point %s", path);
		close(up);
		up = next_up;
		int next_lo = in_lower ? openat(lo, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (lo >= 0)
			close(lo);
		lo = next_lo;
	}
	return 0;
}

/* Put the rootfs (or an overlay of it) on a mount point at its own path and
 * return an O_PATH fd of that new root.  When a mount point is missing from
 * the rootfs, the root becomes an overlay with a tmpfs upper layer holding
 * the mount points: the rootfs directory itself is never written, since
 * other runs may share it and it may be read-only or someone else's. */
static int prepare_root(const struct sbx_config *c, const struct sbx_mount_sources *s, bool *writable,
			struct sbx_error **err)
{
	/* No path below is resolved from "/": by now we are the namespace's
	 * root, whom a private directory above the rootfs may shut out.
	 * Mount fds and /proc/self/fd names reach everything. */
	int lower = s->rootfs;
	cleanup_free struct mount_point *mp = sbx_xcalloc(c->n_binds + c->n_tmpfs + 6, sizeof(*mp));
	size_t n_mp = mount_points(c, s, mp);
	bool missing = false;
	for (size_t i = 0; i < n_mp && !missing; i++)
		missing = !exists_in_root(lower, mp[i].path);
	*writable = c->writable_rootfs;
	if (c->writable_rootfs || !missing) {
		int t = clone_tree(lower, "", 0, NULL, err);
		if (t < 0)
			return sbx_error_wrap(err, "binding rootfs");
		/* Once attached, the tree's fd is the new root's. */
		if (attach(t, lower, c->rootfs, err) < 0) {
			close(t);
			return sbx_error_wrap(err, "binding rootfs");
		}
		return t;
	}
	/* The upper tmpfs is mounted over the rootfs path (nothing else on the
	 * host is ours to mount over); the lower fd still reaches the original
	 * directory underneath. */
	const char *up_opts[] = { "size", "16m", "mode", "0755", NULL };
	cleanup_close int up = new_fs("tmpfs", up_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (up < 0)
		return sbx_error_wrap(err, "overlay upper layer");
	if (mkdirat(up, "upper", 0755) < 0 || mkdirat(up, "work", 0755) < 0 || mkdirat(up, "root", 0755) < 0)
		return sbx_error_set(err, errno, "overlay upper layer");
	cleanup_close int upper = openat(up, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (upper < 0)
		return sbx_error_set(err, errno, "overlay upper layer");
	for (size_t i = 0; i < n_mp; i++)
		if (!exists_in_root(lower, mp[i].path) && precreate(lower, upper, mp[i].path, mp[i].dir, err) < 0)
			return -1;
	if (attach(up, lower, c->rootfs, err) < 0)
		return sbx_error_wrap(err, "overlay upper layer");
	cleanup_free char *lo = sbx_xasprintf("/proc/self/fd/%d", lower);
	cleanup_free char *hi = sbx_xasprintf("/proc/self/fd/%d/upper", up);
	cleanup_free char *wk = sbx_xasprintf("/proc/self/fd/%d/work", up);
	const char *ov_opts[] = { "lowerdir", lo, "upperdir", hi, "workdir", wk, NULL };
	int ov = new_fs("overlay", ov_opts, 0, err);
	if (ov < 0)
		return sbx_error_wrap(err, "overlay of the rootfs for missing mount points");
	cleanup_close int mpfd = openat(up, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mpfd < 0 || attach(ov, mpfd, "overlay", err) < 0) {
		if (mpfd < 0)
			sbx_error_set(err, errno, "overlay mount point");
		close(ov);
		return -1;
	}
	*writable = true;
	return ov;
}

/* Fresh procfs of the new pid namespace; kernel interfaces that leak host
 * information or allow host-wide changes are hidden or made read-only, as
 * container runtimes customarily do. */
static int setup_proc(int rootfd, bool create, struct sbx_error **err)
{
	if (mount_new_fs_at(rootfd, "proc", "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
			    create, err) < 0)
		return -1;
	cleanup_close int proc = open_target(rootfd, "proc", true, false, err);
	if (proc < 0)
		return -1;
	static const char *const masked_files[] = { "kcore", "keys", "timer_list", "sched_debug", "latency_stats" };
	for (size_t i = 0; i < sizeof(masked_files) / sizeof(*masked_files); i++) {
		cleanup_close int t = openat(proc, masked_files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0 && errno == ENOENT)
			continue; /* not in this kernel: nothing to hide */
		if (t < 0)
			return sbx_error_set(err, errno, "masking /proc/%s", masked_files[i]);
		cleanup_close int null = clone_tree(AT_FDCWD, "/dev/null", MOUNT_ATTR_RDONLY, NULL, err);
		if (null < 0 || attach(null, t, masked_files[i], err) < 0)
			return sbx_error_wrap(err, "masking /proc/%s", masked_files[i]);
	}
	static const char *const masked_dirs[] = { "acpi", "scsi" };
	for (size_t i = 0; i < sizeof(masked_dirs) / sizeof(*masked_dirs); i++) {
		cleanup_close int t = openat(proc, masked_dirs[i], O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (t < 0 && errno == ENOENT)
			continue;
		if (t < 0)
			return sbx_error_set(err, errno, "masking /proc/%s", masked_dirs[i]);
		const char *opts[] = { "size", "0", "nr_inodes", "1", NULL };
		cleanup_close int m = new_fs("tmpfs", opts, MOUNT_ATTR_RDONLY, err);
		if (m < 0 || attach(m, t, masked_dirs[i], err) < 0)
			return sbx_error_wrap(err, "masking /proc/%s", masked_dirs[i]);
	}
	static const char *const readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
	for (size_t i = 0; i < sizeof(readonly) / sizeof(*readonly); i++) {
		cleanup_close int t = openat(proc, readonly[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0 && errno == ENOENT)
			continue;
		if (t < 0)
			return sbx_error_set(err, errno, "making /proc/%s read-only", readonly[i]);
		cleanup_close int m = clone_tree(proc, readonly[i], MOUNT_ATTR_RDONLY, NULL, err);
		if (m < 0 || attach(m, t, readonly[i], err) < 0)
			return sbx_error_wrap(err, "making /proc/%s read-only", readonly[i]);
	}
	return 0;
}

/* The places a workload can write are not places it can run from: a
 * strategy that drops a binary (or a script with a #! line) into /tmp, /out
 * or /dev/shm cannot execute it.  --tmpfs-exec restores exec for builds or
 * tools that need it.  (An interpreter can still read a script; noexec stops
 * new native code, which is what escapes the seccomp-audited interpreter.) */
static unsigned tmpfs_noexec(const struct sbx_config *c) { return c->tmpfs_exec ? 0 : MOUNT_ATTR_NOEXEC; }

/* A minimal /dev on a small tmpfs: the harmless character devices bound
 * from the host (a user namespace may not mknod), a private devpts
 * instance, /dev/shm.  The tmpfs is made read-only once populated. */
static int setup_dev(const struct sbx_config *c, int rootfd, bool create, struct sbx_error **err)
{
	static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
	const char *opts[] = { "size", "64k", "nr_inodes", "64", "mode", "0755", NULL };
	cleanup_close int dev = new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
	if (dev < 0)
		return sbx_error_wrap(err, "mounting /dev");
	/* Populate the detached tmpfs before attaching: plain file operations. */
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		int fd = openat(dev, devices[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			return sbx_error_set(err, errno, "creating /dev/%s", devices[i]);
		close(fd);
	}
	static const char *const links[][2] = { { "ptmx", "pts/ptmx" },         { "fd", "/proc/self/fd" },
						{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
						{ "stderr", "/proc/self/fd/2" }, { "core", "/proc/kcore" } };
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			return sbx_error_set(err, errno, "creating /dev/%s", links[i][0]);
	if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0 || mkdirat(dev, "mqueue", 0755) < 0)
		return sbx_error_set(err, errno, "creating /dev directories");
	cleanup_close int target = open_target(rootfd, "dev", true, create, err);
	if (target < 0 || attach(dev, target, "/dev", err) < 0)
		return sbx_error_wrap(err, "mounting /dev");

	/* Each device is bound onto the file just made for it, looked up from
	 * our own tmpfs (nothing of the image on the way); nosuid,noexec for
	 * all of them in one recursive call, before devpts and /dev/shm come
	 * (/dev/shm may be exec under --tmpfs-exec). */
	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		cleanup_free char *host = sbx_xasprintf("/dev/%s", devices[i]);
		cleanup_close int t = openat(dev, devices[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			return sbx_error_set(err, errno, "mount point %s", host);
		cleanup_close int m = clone_tree(AT_FDCWD, host, 0, NULL, err);
		if (m < 0 || attach(m, t, host, err) < 0)
			return sbx_error_wrap(err, "binding %s", host);
	}
	if (sbx_mount_devices(c, dev, err) < 0)
		return sbx_error_wrap(err, "linux.devices");
	if (set_attrs(dev, "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true, err) < 0)
		return sbx_error_wrap(err, "making the devices of /dev nosuid,noexec");
	const char *pts_opts[] = { "newinstance", NULL, "ptmxmode", "0666", "mode", "0620", NULL };
	if (mount_new_fs_at(rootfd, "dev/pts", "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false,
			    err) < 0)
		return -1;
	cleanup_free char *shm_size = sbx_xasprintf("%llu", (unsigned long long)c->limits.tmp);
	const char *shm_opts[] = { "size", shm_size, "mode", TMP_MODE, NULL };
	if (mount_new_fs_at(rootfd, "dev/shm", "tmpfs", shm_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | tmpfs_noexec(c),
			    false, err) < 0)
		return -1;
	cleanup_close int devfd = open_target(rootfd, "dev", true, false, err);
	if (devfd < 0 || set_attrs(devfd, "", MOUNT_ATTR_RDONLY, false, err) < 0)
		return sbx_error_wrap(err, "making /dev read-only");
	return 0;
}

/* The spec's masked paths under /sys: a directory gets an empty read-only
 * tmpfs, anything else /dev/null, as runc does.  The paths come from the
 * client: resolved inside the root, and one absent is nothing to hide. */
static int mask_sys(const struct sbx_config *c, int rootfd, struct sbx_error **err)
{
	for (char *const *p = c->sys_masked; p && *p; p++) {
		cleanup_close int t = openat2_in_root(rootfd, *p, O_PATH);
		if (t < 0 && errno == ENOENT)
			continue;
		struct stat st;
		if (t < 0 || fstat(t, &st) < 0)
			return sbx_error_set(err, errno, "masking %s", *p);
		const char *opts[] = { "size", "0", "nr_inodes", "1", NULL };
		cleanup_close int m = S_ISDIR(st.st_mode) ? new_fs("tmpfs", opts, MOUNT_ATTR_RDONLY, err)
							  : clone_tree(AT_FDCWD, "/dev/null", MOUNT_ATTR_RDONLY, NULL, err);
		if (m < 0 || attach(m, t, *p, err) < 0)
			return sbx_error_wrap(err, "masking %s", *p);
	}
	return 0;
}

/* /sys for an OCI spec that mounts sysfs.  The kernel lets a user namespace
 * mount sysfs only when it owns the network namespace (sysfs shows that
 * namespace's devices): with a namespace of the client's (podman, CNI) or the
 * host's, /sys is an empty read-only tmpfs instead (docs/oci.md), never the
 * host's sysfs.  Either way it is read-only, so the spec's read-only paths
 * under /sys hold. */
static int setup_sys(const struct sbx_config *c, int rootfd, bool create, struct sbx_error **err)
{
	const unsigned ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if (c->network != SBX_NET_HOST) {
		if (mount_new_fs_at(rootfd, "sys", "sysfs", NULL, ro, create, err) < 0)
			return -1;
		return mask_sys(c, rootfd, err);
	}
	const char *opts[] = { "size", "4k", "nr_inodes", "8", "mode", "0755", NULL };
	cleanup_close int m = new_fs("tmpfs", opts, ro & ~MOUNT_ATTR_RDONLY, err);
	if (m < 0)
		return sbx_error_wrap(err, "mounting the empty /sys");
	/* Where a cgroup mount goes, made before the tmpfs turns read-only. */
	if (mkdirat(m, "fs", 0755) < 0 || mkdirat(m, "fs/cgroup", 0755) < 0)
		return sbx_error_set(err, errno, "creating /sys/fs/cgroup in the empty /sys");
	if (set_attrs(m, "", MOUNT_ATTR_RDONLY, false, err) < 0)
		return sbx_error_wrap(err, "making the empty /sys read-only");
	cleanup_close int t = open_target(rootfd, "sys", true, create, err);
	if (t < 0 || attach(m, t, "/sys", err) < 0)
		return sbx_error_wrap(err, "mounting the empty /sys");
	return 0;
}

/* Kernel filesystems only an OCI spec asks for (SBX_KMOUNT_*), each one of
 * a namespace the sandbox owns. */
static int setup_kernel_fs(const struct sbx_config *c, int rootfd, bool create, bool cgroup2_own,
			   struct sbx_error **err)
{
	const unsigned flags = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if ((c->kernel_mounts & SBX_KMOUNT_SYSFS) && setup_sys(c, rootfd, create, err) < 0)
		return -1;
	/* The sandbox's own ipc namespace's queues; /dev/mqueue is sbx's
	 * directory in its /dev (read-only by now: mounting on it needs no
	 * write). */
	if ((c->kernel_mounts & SBX_KMOUNT_MQUEUE) &&
	    mount_new_fs_at(rootfd, "dev/mqueue", "mqueue", NULL, flags, false, err) < 0)
		return -1;
	if (!(c->kernel_mounts & SBX_KMOUNT_CGROUP))
		return 0;
	bool create_cg = create && !(c->kernel_mounts & SBX_KMOUNT_SYSFS);
	/* cgroup2 of the sandbox's cgroup namespace, whose root is the v2
	 * cgroup pid 1 was cloned into: the host's tree above is out of sight.
	 * Read-only: the limits are the supervisor's to set.  Without a v2
	 * cgroup of its own (hybrid hosts, whose cgroup is v1 and joined only
	 * later; no cgroup at all) that root would be the caller's cgroup,
	 * showing the caller's tree (other sandboxes), and a v1 hierarchy the
	 * same: an empty read-only tmpfs instead (docs/oci.md). */
	if (cgroup2_own)
		return mount_new_fs_at(rootfd, "sys/fs/cgroup", "cgroup2", NULL, flags | MOUNT_ATTR_RDONLY, create_cg,
				       err);
	const char *opts[] = { "size", "0", "nr_inodes", "1", "mode", "0555", NULL };
	return mount_new_fs_at(rootfd, "sys/fs/cgroup", "tmpfs", opts, flags | MOUNT_ATTR_RDONLY, create_cg, err);
}

static char *inodes_for(uint64_t size)
{
	uint64_t n = size / 4096;
	return sbx_xasprintf("%llu", (unsigned long long)(n < 1024 ? 1024 : n));
}

static int setup_tmpfs(const struct sbx_config *c, int rootfd, const char *target, uint64_t size, const char *mode,
		       const char *owner_uid, const char *owner_gid, bool create, struct sbx_error **err)
{
	cleanup_free char *sz = sbx_xasprintf("%llu", (unsigned long long)size);
	cleanup_free char *inodes = inodes_for(size);
	const char *opts[] = { "size", sz, "nr_inodes", inodes, "mode", mode, "uid", owner_uid, "gid", owner_gid, NULL };
	return mount_new_fs_at(rootfd, target, "tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | tmpfs_noexec(c),
			       create, err);
}

static int setup_binds(const struct sbx_config *c, const struct sbx_mount_sources *src, int rootfd, bool writable,
		       struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_binds; i++) {
		const struct sbx_bind *b = &c->binds[i];
		unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->rw ? 0 : MOUNT_ATTR_RDONLY);
		bool is_dir = true;
		cleanup_close int m = clone_tree(src->binds[i], "", attrs, &is_dir, err);
		if (m < 0)
			return sbx_error_wrap(err, "bind %s:%s", b->source, b->target);
		cleanup_close int t = open_target(rootfd, b->target, is_dir, writable, err);
		if (t < 0 || attach(m, t, b->target, err) < 0)
			return sbx_error_wrap(err, "bind %s:%s", b->source, b->target);
	}
	return 0;
}

/* pivot_root(".", ".") stacks the old root on top of the new one; detaching
 * it leaves only the new root, with no directory needed for the old. */
static int enter_root(int rootfd, bool writable, struct sbx_error **err)
{
	if (fchdir(rootfd) < 0)
		return sbx_error_set(err, errno, "chdir to the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_error_set(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_error_set(err, errno, "detaching the old root");
	if (chdir("/") < 0)
		return sbx_error_set(err, errno, "chdir /");
	unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY);
	if (set_attrs(AT_FDCWD, "/", attrs, false, err) < 0)
		return sbx_error_wrap(err, "making the root %s", writable ? "nosuid" : "read-only");
	return 0;
}

int sbx_mounts_setup(const struct sbx_config *c, const struct sbx_mount_sources *src, bool cgroup2_own,
		     struct sbx_error **err)
{
	/* Nothing done from here may propagate to the host's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_error_set(err, errno, "making mounts private");
	bool writable_root = false;
	cleanup_close int rootfd = prepare_root(c, src, &writable_root, err);
	if (rootfd < 0)
		return -1;
	bool overlay = writable_root && !c->writable_rootfs;
	if (setup_proc(rootfd, overlay, err) < 0 || setup_dev(c, rootfd, overlay, err) < 0 ||
	    setup_kernel_fs(c, rootfd, overlay, cgroup2_own, err) < 0)
		return -1;
	cleanup_free char *uid = sbx_xasprintf("%u", (unsigned)c->uid);
	cleanup_free char *gid = sbx_xasprintf("%u", (unsigned)c->gid);
	if (setup_tmpfs(c, rootfd, "tmp", c->limits.tmp, TMP_MODE, "0", "0", overlay, err) < 0)
		return sbx_error_wrap(err, "setting up /tmp");
	for (size_t i = 0; i < c->n_tmpfs; i++) {
		uint64_t size = c->tmpfs[i].size ? c->tmpfs[i].size : c->limits.tmp;
		if (setup_tmpfs(c, rootfd, c->tmpfs[i].target, size, TMP_MODE, "0", "0", writable_root, err) < 0)
			return sbx_error_wrap(err, "setting up tmpfs %s", c->tmpfs[i].target);
	}
	if (c->out_dir != NULL && setup_tmpfs(c, rootfd, "out", c->out_size, "0755", uid, gid, writable_root, err) < 0)
		return sbx_error_wrap(err, "setting up /out");
	if (setup_binds(c, src, rootfd, writable_root, err) < 0)
		return -1;
	return enter_root(rootfd, c->writable_rootfs, err);
}
