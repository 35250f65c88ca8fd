#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_request.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/alloc.h"
#include "contain.h"
#include "escape.h"
#include "fault.h"
#include "idmap.h"
#include "outcopy.h"
#include "seccomp/seccomp.h"
#include "supervise.h"
#include "sync.h"
#include "workload.h"

static uint64_t us_since(uint64_t t0) { return (sbx_now_ns() - t0) / 1000; }

static pid_t clone_sandbox(const struct sbx_config *c, int cgroup_fd, int *pidfd)
{
	uint64_t flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP |
			 CLONE_PIDFD;
	if (c->network != SBX_NET_HOST)
		flags |= CLONE_NEWNET;
	struct clone_args args = {
		.flags = flags,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	/* Born inside its cgroup: the child is never outside its limits, and
	 * no write to cgroup.procs (with its RCU wait) is needed. */
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

void sbx_run_collect_denials(const struct sbx_seccomp *filter, struct sbx_result *r)
{
	const char **names;
	const uint64_t *counts;
	size_t n = filter ? sbx_seccomp_denials(filter, &names, &counts) : 0;
	if (n == 0)
		return;
	r->denials = sbx_xcalloc(n, sizeof(*r->denials));
	for (size_t i = 0; i < n; i++)
		r->denials[i] = (struct sbx_denial){ .syscall = sbx_xstrdup(names[i]), .count = counts[i] };
	r->n_denials = n;
}

static void set_error(struct sbx_result *r, struct sbx_error *err, const char *fallback)
{
	free(r->error);
	r->error = sbx_xstrdup(err && err->msg ? err->msg : fallback);
}

/* Turn what the supervisor saw into the report's status and the exit code. */
void sbx_run_classify(const struct sbx_supervision *s, struct sbx_result *r)
{
	if (s->setup_failed) {
		r->status = SBX_STATUS_SETUP_ERROR;
		r->exit_code = 125;
		r->error = s->error ? sbx_xstrdup(s->error) : sbx_xstrdup("sandbox setup failed");
		return;
	}
	if (s->timed_out) {
		r->status = SBX_STATUS_TIMEOUT;
		r->timed_out = true;
		r->exit_code = 124;
		r->signal = SIGKILL;
		return;
	}
	if (s->exec_failed)
		r->error = s->error ? sbx_xstrdup(s->error) : NULL;
	int st = s->got_exit ? s->wait_status : s->pid1_status;
	if (!s->got_exit && !WIFSIGNALED(st)) {
		/* pid 1 ended without reporting: it failed before the go. */
		r->status = SBX_STATUS_SETUP_ERROR;
		r->exit_code = 125;
		r->error = sbx_xstrdup("the sandbox ended during setup without reporting an error");
		return;
	}
	if (WIFEXITED(st)) {
		r->status = SBX_STATUS_EXITED;
		r->exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		r->status = r->oom_killed && WTERMSIG(st) == SIGKILL ? SBX_STATUS_OOM : SBX_STATUS_SIGNALED;
		r->signal = WTERMSIG(st);
		r->exit_code = 128 + r->signal;
	}
}

int sbx_run(const struct sbx_config *c, struct sbx_result *r)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp *filter = NULL;
	struct sbx_cgroup *cg = NULL;
	int cgroup_fd = -1;
	int join_fds[SBX_CGROUP_MAX_HIERARCHIES];
	int n_join = 0;
	int sock[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int out_dst = STDOUT_FILENO, err_dst = STDERR_FILENO;
	bool own_out = false, own_err = false;
	uint64_t t;

	/* Checks that need no resources come first: a bad --out or output
	 * file fails here, with nothing created. */
	if (c->out_dir && sbx_out_check(c->out_dir, &err) < 0)
		goto setup_failed;
	if (c->stdout_file) {
		out_dst = open(c->stdout_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_dst < 0) {
			sbx_error_set(&err, errno, "--stdout %s", c->stdout_file);
			goto setup_failed;
		}
		own_out = true;
	}
	if (c->stderr_file) {
		err_dst = open(c->stderr_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (err_dst < 0) {
			sbx_error_set(&err, errno, "--stderr %s", c->stderr_file);
			goto setup_failed;
		}
		own_err = true;
	}

	/* 2. seccomp compiled before clone: the child only loads it. */
	t = sbx_now_ns();
	if (SBX_FAULT("seccomp_compile", &err) < 0 || sbx_seccomp_compile(c->seccomp, &filter, &err) < 0) {
		sbx_error_wrap(&err, "seccomp profile %s", c->seccomp);
		goto setup_failed;
	}
	r->phases_us[SBX_P_SECCOMP_COMPILE] = us_since(t);

	/* 3. cgroup with its limits, before the child exists. */
	t = sbx_now_ns();
	struct sbx_cgroup_request cg_req = sbx_config_cgroup_request(c);
	if (SBX_FAULT("cgroup", &err) < 0 || sbx_cgroup_create(&cg_req, &cg, &err) < 0)
		goto setup_failed;
	SBX_FAULT_DIE("cgroup");
	cgroup_fd = sbx_cgroup_clone_fd(cg);
	n_join = sbx_cgroup_self_attach_fds(cg, join_fds, SBX_CGROUP_MAX_HIERARCHIES, &err);
	if (n_join < 0) {
		n_join = 0;
		goto setup_failed;
	}
	r->cgroup_version = sbx_cgroup_version(cg);
	r->limits_enforced = sbx_cgroup_limits_enforced(cg);
	r->limits_rlimit = sbx_cgroup_version(cg) == 0;
	if (*sbx_cgroup_path(cg))
		r->cgroup_path = sbx_xstrdup(sbx_cgroup_path(cg));
	uint64_t cgroup_us = us_since(t);

	if (SBX_FAULT("channels", &err) < 0)
		goto setup_failed;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		sbx_error_set(&err, errno, "creating the sandbox's channels");
		goto setup_failed;
	}

	/* The supervisor takes SIGINT/SIGTERM/SIGHUP through a signalfd, to
	 * forward them; blocked from before the clone so none is lost (the
	 * child inherits the mask, and pid 1 blocks everything anyway). */
	sigset_t fwd;
	sigemptyset(&fwd);
	sigaddset(&fwd, SIGINT);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	sigprocmask(SIG_BLOCK, &fwd, NULL);

	/* 4. clone3 into every namespace at once. */
	t = sbx_now_ns();
	uint64_t start = t;
	int pidfd = -1;
	pid_t pid = -1;
	if (SBX_FAULT("clone", &err) < 0)
		goto setup_failed;
	pid = clone_sandbox(c, cgroup_fd, &pidfd);
	if (pid < 0) {
		sbx_error_set(&err, errno, "clone3 into new namespaces");
		goto setup_failed;
	}
	if (pid == 0) {
		close(sock[0]);
		close(out[0]);
		close(errp[0]);
		struct sbx_contain_fds fds = { .sock = sock[1], .out = out[1], .err = errp[1],
					       .cgroup = join_fds, .n_cgroup = (size_t)n_join,
					       .rlimit_fallback = sbx_cgroup_version(cg) == 0 };
		sbx_contain_main(c, filter, &fds);
	}
	for (int i = 0; i < n_join; i++)
		close(join_fds[i]);
	n_join = 0;
	r->phases_us[SBX_P_CLONE] = us_since(t);
	close(sock[1]);
	close(out[1]);
	close(errp[1]);
	sock[1] = out[1] = errp[1] = -1;

	struct sbx_supervision s = {
		.pid = pid, .pidfd = pidfd, .sock = sock[0], .timeout = c->limits.timeout,
		.cgroup = cg, .filter = filter, .listener = -1, .out_dirfd = -1, .cancel_fd = -1,
	};
	sbx_relay_init(&s.out, out[0], out_dst, own_out, c->limits.output);
	sbx_relay_init(&s.err, errp[0], err_dst, own_err, c->limits.output);

	/* 5. id maps (and, on cgroup v1, the cgroup), then the go. */
	t = sbx_now_ns();
	SBX_FAULT_DIE("clone");
	bool idmap_ok = SBX_FAULT("idmap", &err) == 0 && sbx_idmap_write(pid, c, &err) == 0;
	r->phases_us[SBX_P_IDMAP] = us_since(t);
	t = sbx_now_ns();
	if (!idmap_ok) {
		sbx_supervise_kill(&s);
		waitpid(pid, NULL, 0);
		sbx_relay_close(&s.out);
		sbx_relay_close(&s.err);
		close(pidfd);
		close(s.sock);
		sock[0] = out[0] = errp[0] = -1;
		own_out = own_err = false;
		goto setup_failed;
	}
	cgroup_us += us_since(t);
	struct sbx_msg go = { .type = SBX_MSG_GO };
	sbx_msg_send(s.sock, &go, -1);
	SBX_FAULT_DIE("go");

	/* 8. supervise until the sandbox is gone. */
	if (sbx_supervise(&s, &err) < 0) {
		sbx_supervise_kill(&s);
		waitpid(pid, NULL, 0);
		set_error(r, err, "supervision failed");
	}
	uint64_t end = sbx_now_ns();
	r->wall_ms = (double)(end - start) / 1e6;
	r->phases_us[SBX_P_MOUNTS] = s.inner_us[SBX_PHASE_MOUNTS];
	r->phases_us[SBX_P_NET] = s.inner_us[SBX_PHASE_NET];
	r->phases_us[SBX_P_EXEC] = s.inner_us[SBX_PHASE_EXEC_PREP];
	r->cpu_user_ms = (double)s.rusage.ru_utime.tv_sec * 1e3 + (double)s.rusage.ru_utime.tv_usec / 1e3;
	r->cpu_system_ms = (double)s.rusage.ru_stime.tv_sec * 1e3 + (double)s.rusage.ru_stime.tv_usec / 1e3;
	r->memory_peak_bytes = (uint64_t)s.rusage.ru_maxrss * 1024;
	/* The cgroup's numbers cover every process of the sandbox, not only
	 * those pid 1 reaped; read them before the cgroup goes. */
	struct sbx_cgroup_stats st;
	if (sbx_cgroup_version(cg) > 0) {
		if (sbx_cgroup_stats(cg, &st, &err) == 0) {
			r->cpu_user_ms = st.cpu_user_ms;
			r->cpu_system_ms = st.cpu_system_ms;
			r->memory_peak_bytes = st.memory_peak_bytes;
			r->pids_peak = st.pids_peak;
			r->oom_killed = st.oom_killed;
		} else {
			fprintf(stderr, "sbx: warning: %s\n", err->msg);
			sbx_error_free(&err);
		}
	}

	sbx_run_classify(&s, r);
	sbx_run_collect_denials(filter, r);
	r->stdout_bytes = s.out.total;
	r->stderr_bytes = s.err.total;
	r->stdout_truncated = s.out.truncated;
	r->stderr_truncated = s.err.truncated;

	SBX_FAULT_DIE("teardown");
	sbx_relay_close(&s.out);
	sbx_relay_close(&s.err);
	if (s.listener >= 0)
		close(s.listener);
	free(s.error);
	if (s.sock >= 0)
		close(s.sock);
	close(pidfd);
	t = sbx_now_ns();
	if (sbx_cgroup_destroy(cg, &err) < 0) {
		fprintf(stderr, "sbx: warning: %s\n", err->msg);
		sbx_error_free(&err);
	}
	uint64_t removal_us = us_since(t);
	r->phases_us[SBX_P_CGROUP] = cgroup_us + removal_us;
	/* Copy-out last, after the cgroup is gone: every sandbox process has
	 * exited, the /out tmpfs is still reachable through its fd, and a
	 * supervisor killed during a long copy (up to its deadline) leaves no
	 * cgroup behind. */
	if (s.out_dirfd >= 0) {
		if (sbx_out_copy(s.out_dirfd, c->out_dir, c->out_size, r, &err) < 0) {
			cleanup_free char *msg = sbx_escape(err->msg); /* names from /out */
			fprintf(stderr, "sbx: %s\n", msg);
			if (r->error == NULL)
				r->error = sbx_xstrdup(err->msg);
			sbx_error_free(&err);
		}
		close(s.out_dirfd);
	}
	sbx_seccomp_free(filter);
	/* Phases add up: the cgroup's removal is counted under "cgroup" only. */
	r->phases_us[SBX_P_TEARDOWN] = us_since(end) - removal_us;
	return r->exit_code;

setup_failed:
	for (int i = 0; i < n_join; i++)
		close(join_fds[i]);
	for (int i = 0; i < 2; i++) {
		if (sock[i] >= 0)
			close(sock[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (own_out)
		close(out_dst);
	if (own_err)
		close(err_dst);
	sbx_seccomp_free(filter);
	struct sbx_error *cg_err = NULL;
	if (sbx_cgroup_destroy(cg, &cg_err) < 0) {
		fprintf(stderr, "sbx: warning: %s\n", cg_err->msg);
		sbx_error_free(&cg_err);
	}
	r->status = SBX_STATUS_SETUP_ERROR;
	r->exit_code = 125;
	set_error(r, err, "setup failed");
	sbx_error_free(&err);
	return 125;
}
