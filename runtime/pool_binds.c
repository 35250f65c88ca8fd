/* A pool job's bind sources, made on the host side with the client's
 * paths: each one a detached mount (open_tree + mount_setattr) that the
 * job attaches in its own mount namespace (zygote.py: job_mounts, with
 * move_mount), so the host path is never looked up from inside a sandbox.
 *
 * open_tree(OPEN_TREE_CLONE) needs CAP_SYS_ADMIN over the mount namespace
 * the path is in.  A root pool has it; a rootless one does not, so a child
 * makes a user and mount namespace of its own and clones the sources
 * there (as `sbx run`'s pid 1 does for a rootless run).  That child has no
 * id map: it reaches files only as the caller does (capabilities over
 * files need their owner mapped), and a tree cloned from a mount the host
 * made read-only, nosuid or nodev keeps it (the kernel locks those flags). */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool.h"
#include "sync.h"

static int bind_source(const struct sbx_bind *b, struct sbx_error **err)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, b->source,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (fd < 0)
		return sbx_error_set(err, errno, "bind %s:%s: open_tree", b->source, b->target);
	struct mount_attr a = {.attr_set =
				   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->rw ? 0 : MOUNT_ATTR_RDONLY)};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return sbx_error_set(err, e, "bind %s:%s: mount_setattr", b->source, b->target);
	}
	return fd;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static int bind_sources_here(const struct sbx_config *c, int *fds, struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_binds; i++) {
		fds[i] = bind_source(&c->binds[i], err);
		if (fds[i] < 0) {
			close_fds(fds, i);
			return -1;
		}
	}
	return 0;
}

/* The child: the trees, or the reason, back over `sock`. */
static __attribute__((noreturn)) void clone_in_own_namespace(const struct sbx_config *c, int sock)
{
	int fds[SBX_POOL_MAX_BINDS];
	struct sbx_error *err = NULL;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		sbx_error_set(&err, errno, "binds: a user and mount namespace to clone them in");
	else
		bind_sources_here(c, fds, &err);
	if (err) {
		send(sock, err->msg, strlen(err->msg), MSG_NOSIGNAL);
		_exit(1);
	}
	char ok = 0;
	_exit(sbx_send_with_fds(sock, &ok, 1, fds, c->n_binds) < 0 ? 1 : 0);
}

static int bind_sources_unprivileged(const struct sbx_config *c, int *fds, struct sbx_error **err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_error_set(err, errno, "binds: socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		clone_in_own_namespace(c, sp[1]);
	}
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return sbx_error_set(err, errno, "binds: fork");
	}
	char text[1024];
	size_t n = c->n_binds;
	ssize_t r = sbx_pool_recv_fds(sp[0], text, sizeof(text) - 1, fds, &n);
	close(sp[0]);
	waitpid(pid, NULL, 0);
	if (r == 1 && n == c->n_binds)
		return 0;
	close_fds(fds, n);
	if (r <= 1)
		return sbx_error_set(err, r < 0 ? errno : EPROTO, "binds: the helper that clones them ended");
	text[r] = '\0';
	return sbx_error_set(err, 0, "%s", text);
}

int sbx_pool_bind_sources(const struct sbx_config *c, int *fds, struct sbx_error **err)
{
	if (c->n_binds > SBX_POOL_MAX_BINDS)
		return sbx_error_set(err, E2BIG, "%zu binds: a pool job takes at most %d", c->n_binds,
				     SBX_POOL_MAX_BINDS);
	if (c->n_binds == 0)
		return 0;
	/* EPERM: no CAP_SYS_ADMIN over our mount namespace (rootless). */
	struct sbx_error *e = NULL;
	if (bind_sources_here(c, fds, &e) == 0)
		return 0;
	if (e->errno_ != EPERM) {
		*err = e;
		return -1;
	}
	sbx_error_free(&e);
	return bind_sources_unprivileged(c, fds, err);
}
