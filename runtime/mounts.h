#ifndef SBX_MOUNTS_H
#define SBX_MOUNTS_H

#include "config.h"
#include "lib/error.h"

/* The host paths a sandbox mounts (rootfs, bind sources), opened O_PATH by
 * the child in its new mount namespace while it still has the caller's
 * host uid: cloned by root, the child then still passes the permission
 * checks root-owned private directories (a checkout under /root) impose,
 * which it no longer would as the unprivileged uid it becomes. */
struct sbx_mount_sources {
	int rootfs;
	int *binds; /* one per c->binds[i] */
	bool *bind_is_dir;
	size_t n;
};

int sbx_mounts_open_sources(const struct sbx_config *c, struct sbx_mount_sources *s, struct sbx_error **err);
void sbx_mounts_close_sources(struct sbx_mount_sources *s);

/* Build the sandbox's filesystem view and make it the root.  Runs in the
 * child, inside its new user and mount namespaces.  On return the process
 * is in the read-only rootfs (pivot_root) with /proc, /dev, /tmp and the
 * configured mounts (with an OCI spec's sysfs, mqueue and cgroup). */
/* cgroup2_own: pid 1 was cloned into the sandbox's own v2 cgroup, which is
 * then its cgroup namespace's root (for an OCI cgroup mount). */
int sbx_mounts_setup(const struct sbx_config *c, const struct sbx_mount_sources *s, bool cgroup2_own,
		     struct sbx_error **err);

#endif
