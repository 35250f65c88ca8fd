#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cgroups/cgroup.h"
#include "lib/clock.h"
#include "fault.h"
#include "init.h"
#include "kernel_limits.h"
#include "mounts.h"
#include "net.h"
#include "sync.h"
#include "workload.h"

int sbx_contain_filesystem(const struct sbx_config *c, const struct sbx_mount_sources *src, struct sbx_error **err)
{
	if (SBX_FAULT("mounts", err) < 0 || sbx_mounts_setup(c, src, err) < 0)
		return sbx_error_wrap(err, "setting up the filesystem");
	return 0;
}

int sbx_contain_hostname(const struct sbx_config *c, struct sbx_error **err)
{
	const char *h = c->hostname ? c->hostname : "sbx";
	if (SBX_FAULT("hostname", err) < 0)
		return -1;
	if (sethostname(h, strlen(h)) < 0)
		return sbx_error_set(err, errno, "sethostname %s", h);
	return 0;
}

int sbx_contain_network(const struct sbx_config *c, struct sbx_error **err)
{
	if (c->network != SBX_NET_LOOPBACK)
		return 0;
	if (SBX_FAULT("net", err) < 0 || sbx_net_loopback_up(err) < 0)
		return sbx_error_wrap(err, "setting up the loopback network");
	return 0;
}

static __attribute__((noreturn)) void fail(int sock, struct sbx_error *err)
{
	sbx_msg_fail(sock, SBX_MSG_SETUP_ERROR, err, 125);
}

void sbx_contain_main(const struct sbx_config *c, const struct sbx_seccomp *filter, const struct sbx_contain_fds *fds)
{
	struct sbx_error *err = NULL;
	int sock = fds->sock, out_fd = fds->out, err_fd = fds->err;
	/* Into the cgroup first, before anything is charged or forked. */
	if (sbx_cgroup_self_attach(fds->cgroup, fds->n_cgroup, &err) < 0)
		fail(sock, err);
	for (size_t i = 0; i < fds->n_cgroup; i++)
		close(fds->cgroup[i]);
	/* The workload's output goes to the supervisor's capped pipes. */
	if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) {
		sbx_error_set(&err, errno, "redirecting output");
		fail(sock, err);
	}
	close(out_fd);
	close(err_fd);

	/* Until the supervisor has written our id maps we are nobody: wait. */
	struct sbx_msg go;
	if (sbx_msg_recv(sock, &go, NULL) != 1 || go.type != SBX_MSG_GO)
		_exit(125);
	/* Nothing of the caller's stays open in pid 1 (it is a copy of the
	 * supervisor, with every descriptor the caller passed sbx): only the
	 * workload's stdio and the sync socket. */
	if (sbx_close_all_except((const int[]){ 0, 1, 2, sock }, 4, &err) < 0)
		fail(sock, err);
	/* Host paths are opened now, with the caller's host uid still ours. */
	struct sbx_mount_sources src;
	if (sbx_mounts_open_sources(c, &src, &err) < 0) {
		sbx_error_wrap(&err, "setting up the filesystem");
		fail(sock, err);
	}
	/* vm.memfd_noexec needs host root's euid, which a root-started pid 1
	 * has until the next step; the user namespace's counters are written
	 * after the mounts, through the host's /proc opened now. */
	if (SBX_FAULT("memfd_noexec", &err) < 0 || sbx_memfd_noexec_apply(&err) < 0) {
		sbx_error_wrap(&err, "setting the sandbox's kernel limits");
		fail(sock, err);
	}
	int userns_dir = sbx_userns_limits_open(&err);
	if (userns_dir < 0)
		fail(sock, err);
	/* Become the namespace's root.  Cloned by host root, we still carry
	 * host uid 0, which the map does not contain (files we create would
	 * fail with EOVERFLOW); rootless, this changes nothing. */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		sbx_error_set(&err, errno, "becoming root of the user namespace");
		fail(sock, err);
	}
	/* Die with the supervisor.  Set after the uid change, which clears
	 * it; if the supervisor died before this, its end of the socket is
	 * closed and we stop here. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		sbx_error_set(&err, errno, "PR_SET_PDEATHSIG");
		fail(sock, err);
	}
	struct pollfd pf = { .fd = sock, .events = 0 };
	if (poll(&pf, 1, 0) != 0 && (pf.revents & (POLLHUP | POLLERR)))
		_exit(125);
	/* Not dumpable, argv and environment wiped — after the uid change,
	 * which resets the dumpable flag, and long before the workload exists. */
	if (SBX_FAULT("scrub", &err) < 0 || sbx_init_scrub(&err) < 0)
		fail(sock, err);

	struct sbx_msg phases = { .type = SBX_MSG_PHASES };
	uint64_t t0 = sbx_now_ns();
	if (sbx_contain_filesystem(c, &src, &err) < 0)
		fail(sock, err);
	sbx_mounts_close_sources(&src);
	uint64_t t1 = sbx_now_ns();
	if (sbx_contain_hostname(c, &err) < 0 || sbx_contain_network(c, &err) < 0)
		fail(sock, err);
	uint64_t t2 = sbx_now_ns();
	phases.phase_us[SBX_PHASE_MOUNTS] = (t1 - t0) / 1000;
	phases.phase_us[SBX_PHASE_NET] = (t2 - t1) / 1000;
	/* /out is handed to the supervisor now: after the run the sandbox's
	 * mount namespace is gone, and this fd keeps the tmpfs readable for
	 * the copy-out. */
	int out_dir = -1;
	if (c->out_dir != NULL && (out_dir = open("/out", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		sbx_error_set(&err, errno, "opening /out");
		fail(sock, err);
	}
	sbx_msg_send(sock, &phases, out_dir);
	if (out_dir >= 0)
		close(out_dir);

	/* The user namespace's counters: the mounts are made (see
	 * kernel_limits.h), the workload does not exist yet. */
	if (SBX_FAULT("userns_limits", &err) < 0 || sbx_userns_limits_apply(userns_dir, c, &err) < 0) {
		sbx_error_wrap(&err, "setting the sandbox's user-namespace limits");
		fail(sock, err);
	}
	close(userns_dir);
	/* Without a cgroup, rlimits bound what they can; set in pid 1 so the
	 * workload inherits them (RLIMIT_NPROC counts pid 1 too, as pids.max
	 * would). */
	if (fds->rlimit_fallback && (SBX_FAULT("rlimits", &err) < 0 || sbx_rlimits_apply(c, &err) < 0)) {
		sbx_error_wrap(&err, "setting rlimits in place of the cgroup");
		fail(sock, err);
	}
	/* Bounding set and securebits go before the fork, so the workload
	 * inherits them; CAP_SETPCAP is still ours here. */
	if (!c->keep_caps && (SBX_FAULT("bounding", &err) < 0 || sbx_caps_drop_bounding(c->build_caps, &err) < 0))
		fail(sock, err);

	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	uint64_t fork_ns = sbx_now_ns();
	pid_t child = fork();
	if (child < 0) {
		sbx_error_set(&err, errno, "forking the workload");
		fail(sock, err);
	}
	if (child == 0)
		sbx_workload_exec(c, filter, sock, fork_ns);

	/* pid 1 keeps only CAP_KILL (to signal a workload running as another
	 * uid), then no_new_privs (the kernel's condition for an unprivileged
	 * filter) and its own seccomp filter: should anything ever run in pid
	 * 1 but the reaper, it can wait, signal and exit, and nothing more. */
	if (sbx_caps_clear(true, false, &err) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    sbx_init_confine(sock, &err) < 0) {
		if (err == NULL)
			sbx_error_set(&err, errno, "PR_SET_NO_NEW_PRIVS");
		kill(child, SIGKILL);
		fail(sock, err);
	}
	int status = sbx_init_reap(child);
	struct sbx_msg done = { .type = SBX_MSG_EXIT, .status = status };
	sbx_msg_send(sock, &done, -1);
	/* Our exit kills every process left in the pid namespace. */
	_exit(0);
}
