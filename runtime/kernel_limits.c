#include "kernel_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int write_value(int dirfd, const char *path, uint64_t v)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	ssize_t w = write(fd, buf, (size_t)n);
	int e = errno;
	close(fd);
	errno = e;
	return w == n ? 0 : -1;
}

int sbx_userns_limits_open(struct sbx_error **err)
{
	int fd = open("/proc/sys/user", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "opening /proc/sys/user");
	return fd;
}

int sbx_userns_limits_apply(int dirfd, const struct sbx_config *c, struct sbx_error **err)
{
	for (int i = 0; i < SBX_USERNS_LIMITS; i++) {
		if (c->userns_limits[i] == SBX_UNSET)
			continue;
		const char *name = sbx_userns_limit_names[i];
		if (write_value(dirfd, name, c->userns_limits[i]) < 0 && errno != ENOENT)
			return sbx_error_set(err, errno, "setting /proc/sys/user/%s to %llu", name,
					     (unsigned long long)c->userns_limits[i]);
	}
	return 0;
}

int sbx_memfd_noexec_apply(struct sbx_error **err)
{
	static const char path[] = "/proc/sys/vm/memfd_noexec";
	if (write_value(AT_FDCWD, path, 2) == 0)
		return 1;
	if (errno == ENOENT || errno == EACCES || errno == EPERM)
		return 0;
	return sbx_error_set(err, errno, "setting %s to 2", path);
}

uint64_t sbx_rlimit_fsize(const struct sbx_config *c)
{
	uint64_t max = c->limits.tmp;
	if (c->out_dir != NULL && c->out_size > max)
		max = c->out_size;
	for (size_t i = 0; i < c->n_tmpfs; i++)
		if (c->tmpfs[i].size > max)
			max = c->tmpfs[i].size;
	return max;
}

static int set_limit(int resource, const char *name, uint64_t v, struct sbx_error **err)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) < 0)
		return sbx_error_set(err, errno, "getrlimit %s", name);
	/* Never above what the caller already had: only lowering needs no
	 * privilege, and a caller's tighter limit stays. */
	rlim_t want = (rlim_t)v;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = want;
	if (setrlimit(resource, &rl) < 0)
		return sbx_error_set(err, errno, "setrlimit %s %llu", name, (unsigned long long)want);
	return 0;
}

int sbx_rlimits_apply(const struct sbx_config *c, struct sbx_error **err)
{
	if (c->limits.pids && set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", c->limits.pids, err) < 0)
		return -1;
	if (c->limits.memory && set_limit(RLIMIT_DATA, "RLIMIT_DATA", c->limits.memory, err) < 0)
		return -1;
	/* A writable rootfs (image builds) is disk the step owns, not a tmpfs. */
	if (c->writable_rootfs)
		return 0;
	return set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", sbx_rlimit_fsize(c), err);
}
