#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cgroups/cgroup.h"
#include "fault.h"
#include "init.h"
#include "kernel_limits.h"
#include "lib/clock.h"
#include "mounts.h"
#include "net.h"
#include "steps.h"

void sbx_inner_init(struct sbx_inner *in, const struct sbx_config *c, const struct sbx_seccomp *filter,
		    const struct sbx_contain_fds *fds)
{
	*in = (struct sbx_inner){ .c = c, .filter = filter, .fds = fds, .sock = fds->sock, .userns_dir = -1,
				  .ready = { .type = SBX_MSG_READY }, .rlimit_fallback = fds->rlimit_fallback,
				  .console = -1 };
}

/* v1: the supervisor made the cgroup while we built the sandbox, and sends
 * its "tasks" files, opened with its credentials; a task that moves itself
 * needs no RCU wait in the kernel (cgroups/cgroup.h).  v2 and no cgroup:
 * nothing follows (clone3 already put us in a v2 cgroup). */
int sbx_step_join_cgroup(struct sbx_inner *in, struct sbx_error **err)
{
	if (!in->fds->cgroup_follows)
		return 0;
	struct sbx_msg m;
	int fds[SBX_MSG_MAX_FDS];
	size_t n = 0;
	int r = sbx_msg_recv_fds(in->sock, &m, fds, SBX_MSG_MAX_FDS, &n);
	if (r == 0)
		_exit(125); /* the supervisor is gone: nobody to tell */
	if (r < 0)
		return sbx_error_set(err, errno, "waiting for the sandbox's cgroup");
	if (m.type != SBX_MSG_CGROUP)
		r = sbx_error_set(err, EPROTO, "waiting for the sandbox's cgroup: got message %u", m.type);
	else if (m.status == 1)
		in->rlimit_fallback = true;
	else if (n == 0) /* joining nothing would leave the workload unlimited */
		r = sbx_error_set(err, EPROTO, "the sandbox's cgroup arrived without its descriptors");
	else
		r = sbx_cgroup_self_attach(fds, n, err);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return r < 0 ? -1 : 0;
}

int sbx_step_redirect_output(struct sbx_inner *in, struct sbx_error **err)
{
	if (dup2(in->fds->out, STDOUT_FILENO) < 0 || dup2(in->fds->err, STDERR_FILENO) < 0)
		return sbx_error_set(err, errno, "redirecting output");
	close(in->fds->out);
	close(in->fds->err);
	return 0;
}

int sbx_step_wait_for_go(struct sbx_inner *in, struct sbx_error **err)
{
	struct sbx_msg go;
	int r = sbx_msg_recv(in->sock, &go, NULL);
	if (r == 0)
		_exit(125); /* the supervisor is gone: nobody to tell */
	if (r < 0)
		return sbx_error_set(err, errno, "waiting for the supervisor's go");
	if (go.type != SBX_MSG_GO)
		return sbx_error_set(err, EPROTO, "waiting for the supervisor's go: got message %u", go.type);
	return 0;
}

int sbx_step_close_inherited(struct sbx_inner *in, struct sbx_error **err)
{
	return sbx_close_all_except((const int[]){ 0, 1, 2, in->sock, in->fds->start_gate }, 5, err);
}

int sbx_step_open_sources(struct sbx_inner *in, struct sbx_error **err)
{
	if (sbx_mounts_open_sources(in->c, &in->src, err) < 0)
		return sbx_error_wrap(err, "setting up the filesystem");
	in->src_open = true;
	/* Opened now as well, for the same reason, and written after the
	 * mounts (see kernel_limits.h). */
	in->userns_dir = sbx_userns_limits_open(err);
	return in->userns_dir < 0 ? -1 : 0;
}

int sbx_step_memfd_noexec(struct sbx_inner *in, struct sbx_error **err)
{
	if (sbx_memfd_noexec_apply(err) < 0)
		return sbx_error_wrap(err, "setting the sandbox's kernel limits");
	return 0;
}

int sbx_step_become_root(struct sbx_inner *in, struct sbx_error **err)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return sbx_error_set(err, errno, "becoming root of the user namespace");
	return 0;
}

int sbx_step_die_with_supervisor(struct sbx_inner *in, struct sbx_error **err)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return sbx_error_set(err, errno, "PR_SET_PDEATHSIG");
	/* The supervisor may have died before the death signal was armed:
	 * then its end of the socket is closed already. */
	struct pollfd pf = { .fd = in->sock, .events = 0 };
	if (poll(&pf, 1, 0) != 0 && (pf.revents & (POLLHUP | POLLERR)))
		_exit(125);
	return 0;
}

int sbx_step_scrub(struct sbx_inner *in, struct sbx_error **err) { return sbx_init_scrub(err); }

int sbx_step_filesystem(struct sbx_inner *in, struct sbx_error **err)
{
	uint64_t t0 = sbx_now_ns();
	int r = sbx_mounts_setup(in->c, &in->src, in->fds->cgroup2_own, err);
	sbx_mounts_close_sources(&in->src);
	in->src_open = false;
	in->ready.phase_us[SBX_PHASE_MOUNTS] = (sbx_now_ns() - t0) / 1000;
	return r < 0 ? sbx_error_wrap(err, "setting up the filesystem") : 0;
}

int sbx_step_hostname(struct sbx_inner *in, struct sbx_error **err)
{
	/* A joined uts namespace (OCI) is not ours to name. */
	if (in->c->shared_uts)
		return 0;
	uint64_t t0 = sbx_now_ns();
	const char *h = in->c->hostname ? in->c->hostname : "sbx";
	if (sethostname(h, strlen(h)) < 0)
		return sbx_error_set(err, errno, "sethostname %s", h);
	in->ready.phase_us[SBX_PHASE_NET] += (sbx_now_ns() - t0) / 1000;
	return 0;
}

int sbx_step_network(struct sbx_inner *in, struct sbx_error **err)
{
	if (in->c->network != SBX_NET_LOOPBACK)
		return 0;
	uint64_t t0 = sbx_now_ns();
	if (sbx_net_loopback_up(err) < 0)
		return sbx_error_wrap(err, "setting up the loopback network");
	in->ready.phase_us[SBX_PHASE_NET] += (sbx_now_ns() - t0) / 1000;
	return 0;
}

int sbx_step_userns_limits(struct sbx_inner *in, struct sbx_error **err)
{
	int r = sbx_userns_limits_apply(in->userns_dir, in->c, err);
	close(in->userns_dir);
	in->userns_dir = -1;
	return r < 0 ? sbx_error_wrap(err, "setting the sandbox's user-namespace limits") : 0;
}

int sbx_step_rlimits(struct sbx_inner *in, struct sbx_error **err)
{
	if (!in->rlimit_fallback)
		return 0;
	if (sbx_rlimits_apply(in->c, err) < 0)
		return sbx_error_wrap(err, "setting rlimits in place of the cgroup");
	return 0;
}

/* /out goes to the supervisor with the phases: after the run the mount
 * namespace is gone, and this fd keeps the tmpfs readable for the copy.
 * The supervisor fails the run if /out was asked for and no fd arrived. */
int sbx_step_report_ready(struct sbx_inner *in, struct sbx_error **err)
{
	int out_dir = -1;
	if (in->c->out_dir != NULL && (out_dir = open("/out", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return sbx_error_set(err, errno, "opening /out");
	if (out_dir >= 0 && SBX_FAULT_IF("lose:out_fd")) {
		close(out_dir);
		out_dir = -1;
	}
	int r = sbx_msg_send(in->sock, &in->ready, out_dir);
	int e = errno;
	if (out_dir >= 0)
		close(out_dir);
	if (r < 0)
		return sbx_error_set(err, e, "handing the phases and /out to the supervisor");
	return 0;
}

int sbx_step_drop_bounding(struct sbx_inner *in, struct sbx_error **err)
{
	/* A warm-pool zygote keeps its user namespace's capabilities to make
	 * each job's namespaces; its jobs drop them (runtime/pool/zygote.py). */
	if (in->c->keep_caps)
		return 0;
	return sbx_caps_drop_bounding(in->c->build_caps, err);
}

int sbx_step_fork_workload(struct sbx_inner *in, struct sbx_error **err)
{
	/* pid 1 takes every signal through sigwaitinfo; blocked before the
	 * fork so that none is lost (the workload unblocks its own). */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	in->fork_ns = sbx_now_ns();
	pid_t child = fork();
	if (child < 0)
		return sbx_error_set(err, errno, "forking the workload");
	if (child == 0) {
		struct sbx_workload w = { .c = in->c, .filter = in->filter, .sock = in->sock,
					  .start_ns = in->fork_ns, .console = in->console };
		sbx_workload_main(&w);
	}
	in->workload = child;
	return 0;
}

/* pid 1 keeps only CAP_KILL (to signal a workload running as another uid),
 * then no_new_privs (the kernel's condition for an unprivileged filter) and
 * its own seccomp filter: should anything ever run in pid 1 but the reaper,
 * it can wait, signal and exit, and nothing more. */
int sbx_step_confine(struct sbx_inner *in, struct sbx_error **err)
{
	if (sbx_caps_clear(true, false, err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "PR_SET_NO_NEW_PRIVS");
	return sbx_init_confine(in->sock, err);
}

int sbx_step_start_gate(struct sbx_inner *in, struct sbx_error **err)
{
	int gate = in->fds->start_gate;
	if (gate < 0)
		return 0;
	/* The FIFO is reopened through its O_PATH fd: its host path is not
	 * reachable from the new root.  open() blocks until a reader comes. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", gate);
	int fd;
	do
		fd = open(path, O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return sbx_error_set(err, errno, "waiting for start at the start FIFO");
	ssize_t n = write(fd, "0", 1);
	int e = errno;
	close(fd);
	close(gate);
	if (n != 1)
		return sbx_error_set(err, e, "writing to the start FIFO");
	return 0;
}

int sbx_step_console(struct sbx_inner *in, struct sbx_error **err)
{
	if (!in->c->terminal)
		return 0;
	/* The sandbox's /dev/ptmx (its private devpts, mounted by now): the
	 * pty belongs to the sandbox, never to the host. */
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return sbx_error_set(err, errno, "opening /dev/ptmx");
	/* TIOCGPTPEER opens the slave from the master, not by a path name
	 * someone could swap. */
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (in->console = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		int e = errno;
		close(master);
		return sbx_error_set(err, e, "opening the pty's slave");
	}
	struct sbx_msg m = { .type = SBX_MSG_CONSOLE };
	int r = sbx_msg_send(in->sock, &m, master);
	int e = errno;
	close(master);
	if (r < 0)
		return sbx_error_set(err, e, "handing the pty to the supervisor");
	return 0;
}
