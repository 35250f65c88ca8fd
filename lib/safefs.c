#include "lib/safefs.h"
#include "lib/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int rfs_openat_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	if (path[0] == '\0')
		path = ".";
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

int rfs_open_parent(int rootfd, const char *path, int create, uid_t uid, gid_t gid, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		return rfs_openat_beneath(rootfd, ".", O_PATH | O_DIRECTORY, 0);
	size_t plen = (size_t)(slash - path);
	char *parent = strndup(path, plen);
	if (parent == NULL)
		return -1;
	int fd = rfs_openat_beneath(rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0 || errno != ENOENT || !create) {
		free(parent);
		return fd;
	}
	/* Create the missing prefix one component at a time, each resolved
	 * again from the root so that no component escapes either. */
	for (char *p = parent;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		int e = 0;
		if (mkdirat(rootfd, parent, 0755) == 0) {
			if (uid != (uid_t)-1 && fchownat(rootfd, parent, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
				e = errno;
		} else if (errno != EEXIST) {
			e = errno;
		}
		/* mkdirat resolved `parent` without our restrictions; it can only
		 * have created the last component, inside a directory that the
		 * previous iteration checked with openat2. Check this one too. */
		int chk = e ? -1 : rfs_openat_beneath(rootfd, parent, O_PATH | O_DIRECTORY, 0);
		if (chk < 0) {
			e = e ? e : errno;
			free(parent);
			errno = e;
			return -1;
		}
		close(chk);
		*p = saved;
		if (saved == '\0')
			break;
	}
	fd = rfs_openat_beneath(rootfd, parent, O_PATH | O_DIRECTORY, 0);
	int e = errno;
	free(parent);
	errno = e;
	return fd;
}

int rfs_mkdir_p(int rootfd, const char *path, uid_t uid, gid_t gid)
{
	if (path[0] == '\0')
		return 0;
	/* A dummy last component makes rfs_open_parent create all of path. */
	char *p = sbx_xasprintf("%s/.", path);
	const char *base;
	int fd = rfs_open_parent(rootfd, p, 1, uid, gid, &base);
	int e = errno;
	free(p);
	if (fd < 0) {
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static int keep_none(const char *name, void *data)
{
	return 0;
}

int rfs_clear_dir(int dirfd, int (*keep)(const char *name, void *data), void *data)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	struct dirent *de;
	int ret = 0;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (keep(de->d_name, data))
			continue;
		if (rfs_remove_at(fd, de->d_name) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && errno != 0)
		ret = -1;
	int e = errno;
	closedir(d);
	errno = e;
	return ret;
}

int rfs_remove_at(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A directory extracted with mode 0555 (or less) cannot be emptied by
	 * its non-root owner until it is writable again. */
	fchmod(fd, 0700);
	int r = rfs_clear_dir(fd, keep_none, NULL);
	int e = errno;
	close(fd);
	if (r < 0) {
		errno = e;
		return -1;
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return 0;
}
