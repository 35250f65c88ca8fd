#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_request.h"
#include "fault.h"
#include "idmap.h"
#include "lib/alloc.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "outcopy.h"
#include "seccomp/seccomp.h"
#include "steps.h"
#include "sync.h"

static uint64_t us_since(uint64_t t0) { return (sbx_now_ns() - t0) / 1000; }

void sbx_sandbox_init(struct sbx_sandbox *sb, const struct sbx_config *c, struct sbx_result *r)
{
	*sb = (struct sbx_sandbox){
		.c = c, .r = r, .sock = { -1, -1 }, .out = { -1, -1 }, .errp = { -1, -1 },
		.out_dst = STDOUT_FILENO, .err_dst = STDERR_FILENO,
		.s = { .pid = -1, .pidfd = -1, .sock = -1, .listener = -1, .out_dirfd = -1, .cancel_fd = -1 },
		.start_gate = -1,
	};
	sbx_relay_init(&sb->s.out, -1, -1, false, 0);
	sbx_relay_init(&sb->s.err, -1, -1, false, 0);
}

static int open_output(const char *flag, const char *path, int *fd, bool *own, struct sbx_error **err)
{
	if (path == NULL)
		return 0;
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*fd < 0)
		return sbx_error_set(err, errno, "%s %s", flag, path);
	*own = true;
	return 0;
}

static void record_cgroup(struct sbx_sandbox *sb)
{
	struct sbx_result *r = sb->r;
	r->cgroup_version = sbx_cgroup_version(sb->cg);
	r->limits_enforced = sbx_cgroup_limits_enforced(sb->cg);
	r->limits_rlimit = r->cgroup_version == 0;
	if (*sbx_cgroup_path(sb->cg))
		r->cgroup_path = sbx_xstrdup(sbx_cgroup_path(sb->cg));
	if (sbx_cgroup_warning(sb->cg))
		sbx_result_warn(r, "%s", sbx_cgroup_warning(sb->cg));
}

int sbx_sandbox_prepare(struct sbx_sandbox *sb)
{
	const struct sbx_config *c = sb->c;
	struct sbx_result *r = sb->r;
	struct sbx_error **err = &sb->err;
	/* Checks that need no resources come first: a bad --out or output
	 * file fails here, with nothing created. */
	if (c->out_dir && sbx_out_check(c->out_dir, err) < 0)
		return -1;
	if (open_output("--stdout", c->stdout_file, &sb->out_dst, &sb->own_out, err) < 0 ||
	    open_output("--stderr", c->stderr_file, &sb->err_dst, &sb->own_err, err) < 0)
		return -1;

	/* The filter is compiled before clone: the child only loads it. */
	uint64_t t = sbx_now_ns();
	if (SBX_FAULT("seccomp_compile", err) < 0 || sbx_seccomp_compile(c->seccomp, &sb->filter, err) < 0)
		return sbx_error_wrap(err, "seccomp profile %s", c->seccomp);
	r->phases_us[SBX_P_SECCOMP_COMPILE] = us_since(t);

	/* A v2 cgroup and its limits exist before the child does (it is born
	 * in it); a v1 one is only planned here and made in launch. */
	t = sbx_now_ns();
	struct sbx_cgroup_request req = sbx_config_cgroup_request(c);
	if (SBX_FAULT("cgroup", err) < 0 || sbx_cgroup_start(&req, &sb->cg, &sb->cgroup_deferred, err) < 0)
		return -1;
	if (!sb->cgroup_deferred) {
		SBX_FAULT_DIE("cgroup");
		record_cgroup(sb);
	}
	sb->cgroup_us = us_since(t);

	if (SBX_FAULT("channels", err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->sock) < 0 || pipe2(sb->out, O_CLOEXEC) < 0 ||
	    pipe2(sb->errp, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "creating the sandbox's channels");
	return 0;
}

static pid_t clone_sandbox(const struct sbx_config *c, int cgroup_fd, int *pidfd)
{
	uint64_t flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_PIDFD;
	if (c->network != SBX_NET_HOST)
		flags |= CLONE_NEWNET;
	if (!c->shared_ipc)
		flags |= CLONE_NEWIPC;
	if (!c->shared_uts)
		flags |= CLONE_NEWUTS;
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

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		p[i] = -1;
	}
}

/* If pid 1 reported a setup error that is still queued, it replaces `err`. */
static void sandbox_said(struct sbx_supervision *s, struct sbx_error **err)
{
	struct pollfd p = { .fd = s->sock, .events = POLLIN };
	struct sbx_msg m;
	if (poll(&p, 1, 0) == 1 && sbx_msg_recv(s->sock, &m, NULL) == 1 && m.type == SBX_MSG_SETUP_ERROR) {
		sbx_error_free(err);
		sbx_error_set(err, 0, "%s", m.text);
		(*err)->errno_ = m.err;
	}
}

/* After a failure with pid 1 alive: it must not outlive the error. */
static void abort_launch(struct sbx_sandbox *sb)
{
	sbx_supervise_kill(&sb->s);
	if (sb->s.pid > 0) /* 0: a warm-pool job, not our child */
		waitpid(sb->s.pid, &sb->s.pid1_status, 0);
	sb->launched = false;
}

/* A send to pid 1 failed because pid 1 failed a step first and exited
 * (its end is closed): its error is queued in the socket, and supervise
 * reports it, rather than the broken pipe. */
static bool failed_first(int sock, int e)
{
	struct pollfd pf = { .fd = sock, .events = POLLIN };
	return (e == EPIPE || e == ECONNRESET) && poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN);
}

/* v1: made after the go, while pid 1 builds the sandbox (the two run side
 * by side), and handed to pid 1, which joins it before the workload exists
 * (runtime/steps.c).  A v1 child joins by itself in any case: clone3 cannot
 * start it in a v1 cgroup. */
int sbx_sandbox_finish_cgroup(struct sbx_sandbox *sb)
{
	if (!sb->cgroup_deferred)
		return 0;
	uint64_t t = sbx_now_ns();
	if (sbx_cgroup_finish(sb->cg, &sb->err) < 0)
		return -1;
	sb->cgroup_deferred = false;
	SBX_FAULT_DIE("cgroup");
	record_cgroup(sb);
	sb->cgroup_us += us_since(t);
	return 0;
}

static int make_cgroup(struct sbx_sandbox *sb)
{
	struct sbx_error **err = &sb->err;
	if (sbx_sandbox_finish_cgroup(sb) < 0)
		return -1;
	uint64_t t = sbx_now_ns();
	int fds[SBX_CGROUP_MAX_HIERARCHIES];
	int n = sbx_cgroup_self_attach_fds(sb->cg, fds, SBX_CGROUP_MAX_HIERARCHIES, err);
	if (n < 0)
		return -1;
	struct sbx_msg m = { .type = SBX_MSG_CGROUP, .status = sb->r->limits_rlimit ? 1 : 0 };
	int sent = sbx_msg_send_fds(sb->s.sock, &m, fds, (size_t)n);
	int e = errno;
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (sent < 0 && !failed_first(sb->s.sock, e))
		return sbx_error_set(err, e, "handing the cgroup to the sandbox");
	sb->cgroup_us += us_since(t);
	return 0;
}

/* SIGINT/SIGTERM/SIGHUP reach the supervisor through a signalfd, to be
 * forwarded; blocked from before the clone so none is lost (the child
 * inherits the mask, and pid 1 blocks everything anyway).  The caller's
 * mask comes back at teardown. */
void sbx_sandbox_block_signals(struct sbx_sandbox *sb)
{
	sigset_t fwd;
	sigemptyset(&fwd);
	sigaddset(&fwd, SIGINT);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	sigprocmask(SIG_BLOCK, &fwd, &sb->caller_mask);
	sb->mask_saved = true;
}

void sbx_sandbox_watch(struct sbx_sandbox *sb, pid_t pid, int pidfd)
{
	const struct sbx_config *c = sb->c;
	struct sbx_supervision *s = &sb->s;
	s->pid = pid;
	s->pidfd = pidfd;
	s->sock = sb->sock[0];
	sb->sock[0] = -1;
	s->timeout = c->limits.timeout;
	s->cgroup = sb->cg;
	s->filter = sb->filter;
	s->expect_out = c->out_dir != NULL;
	sbx_relay_init(&s->out, sb->out[0], sb->out_dst, sb->own_out, c->limits.output);
	sbx_relay_init(&s->err, sb->errp[0], sb->err_dst, sb->own_err, c->limits.output);
	sb->out[0] = sb->errp[0] = -1;
	sb->own_out = sb->own_err = false; /* the relays own them now */
}

int sbx_sandbox_launch(struct sbx_sandbox *sb)
{
	const struct sbx_config *c = sb->c;
	struct sbx_result *r = sb->r;
	struct sbx_error **err = &sb->err;

	sbx_sandbox_block_signals(sb);

	uint64_t t = sb->start_ns = sbx_now_ns();
	if (SBX_FAULT("clone", err) < 0)
		return -1;
	int pidfd = -1;
	pid_t pid = clone_sandbox(c, sbx_cgroup_clone_fd(sb->cg), &pidfd);
	if (pid < 0)
		return sbx_error_set(err, errno, "clone3 into new namespaces");
	if (pid == 0) {
		close(sb->sock[0]);
		close(sb->out[0]);
		close(sb->errp[0]);
		struct sbx_contain_fds fds = { .sock = sb->sock[1], .out = sb->out[1], .err = sb->errp[1],
					       .cgroup_follows = sb->cgroup_deferred,
					       .cgroup2_own = sbx_cgroup_clone_fd(sb->cg) >= 0,
					       .rlimit_fallback = r->limits_rlimit, .start_gate = sb->start_gate };
		sbx_contain_main(c, sb->filter, &fds);
	}
	sb->launched = true;
	r->phases_us[SBX_P_CLONE] = us_since(t);
	close(sb->sock[1]);
	close(sb->out[1]);
	close(sb->errp[1]);
	sb->sock[1] = sb->out[1] = sb->errp[1] = -1;

	sbx_sandbox_watch(sb, pid, pidfd);
	struct sbx_supervision *s = &sb->s;

	t = sbx_now_ns();
	SBX_FAULT_DIE("clone");
	if (SBX_FAULT("idmap", err) < 0 || sbx_idmap_write(pid, c, err) < 0) {
		sandbox_said(s, err);
		abort_launch(sb);
		return -1;
	}
	r->phases_us[SBX_P_IDMAP] = us_since(t);

	/* The go is checked: a sandbox that never gets it would wait for ever. */
	struct sbx_msg go = { .type = SBX_MSG_GO };
	int sent = SBX_FAULT_IF("lose:go") ? (errno = EPIPE, -1) : sbx_msg_send(s->sock, &go, -1);
	if (sent < 0 && !failed_first(s->sock, errno)) {
		sbx_error_set(err, errno, "sending the go to the sandbox");
		/* A pid 1 that failed before the go (its end closed: EPIPE) said
		 * why first; its message names the real cause. */
		sandbox_said(s, err);
		abort_launch(sb);
		return -1;
	}
	s->setup_deadline = sbx_now_ns() + sbx_setup_deadline_ns();
	SBX_FAULT_DIE("go");
	if (sb->cgroup_deferred && make_cgroup(sb) < 0) {
		abort_launch(sb);
		return -1;
	}
	return 0;
}

void sbx_sandbox_supervise(struct sbx_sandbox *sb)
{
	struct sbx_error *err = NULL;
	if (sbx_supervise(&sb->s, &err) < 0) {
		sbx_supervise_kill(&sb->s);
		if (sb->s.pid > 0) /* 0: a warm-pool job, not our child */
			waitpid(sb->s.pid, &sb->s.pid1_status, 0);
		free(sb->r->error);
		sb->r->error = sbx_xstrdup(err->msg);
		sbx_error_free(&err);
	}
	sb->launched = false; /* pid 1 is reaped */
	sb->end_ns = sbx_now_ns();
}

/* Turn what the supervisor saw into the report's status and the exit code. */
static void classify(const struct sbx_supervision *s, struct sbx_result *r)
{
	if (s->setup_failed) {
		r->status = SBX_STATUS_SETUP_ERROR;
		r->exit_code = 125;
		r->error = sbx_xstrdup(s->error ? s->error : "sandbox setup failed");
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
		/* pid 1 ended without reporting: before it was ready, setup
		 * failed without a word; after, the workload's status was lost. */
		r->status = SBX_STATUS_SETUP_ERROR;
		r->exit_code = 125;
		r->error = sbx_xstrdup(s->ready ? "the sandbox's pid 1 ended without reporting the workload's exit status"
						: "the sandbox ended during setup without reporting an error");
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

static void collect_denials(const struct sbx_seccomp *filter, struct sbx_result *r)
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

void sbx_sandbox_collect(struct sbx_sandbox *sb)
{
	struct sbx_result *r = sb->r;
	const struct sbx_supervision *s = &sb->s;
	if (sb->err != NULL || sb->s.pid < 0) {
		/* Nothing ran: prepare or launch failed. */
		r->status = SBX_STATUS_SETUP_ERROR;
		r->exit_code = 125;
		free(r->error);
		r->error = sbx_xstrdup(sb->err ? sb->err->msg : "setup failed");
		return;
	}
	r->wall_ms = (double)(sb->end_ns - sb->start_ns) / 1e6;
	r->phases_us[SBX_P_MOUNTS] = s->inner_us[SBX_PHASE_MOUNTS];
	r->phases_us[SBX_P_NET] = s->inner_us[SBX_PHASE_NET];
	r->phases_us[SBX_P_EXEC] = s->inner_us[SBX_PHASE_EXEC_PREP];
	r->cpu_user_ms = (double)s->rusage.ru_utime.tv_sec * 1e3 + (double)s->rusage.ru_utime.tv_usec / 1e3;
	r->cpu_system_ms = (double)s->rusage.ru_stime.tv_sec * 1e3 + (double)s->rusage.ru_stime.tv_usec / 1e3;
	r->memory_peak_bytes = (uint64_t)s->rusage.ru_maxrss * 1024;
	/* The cgroup's numbers cover every process of the sandbox, not only
	 * those pid 1 reaped; read them before the cgroup goes. */
	struct sbx_cgroup_stats st;
	struct sbx_error *err = NULL;
	if (sbx_cgroup_version(sb->cg) > 0) {
		if (sbx_cgroup_stats(sb->cg, &st, &err) == 0) {
			r->cpu_user_ms = st.cpu_user_ms;
			r->cpu_system_ms = st.cpu_system_ms;
			r->memory_peak_bytes = st.memory_peak_bytes;
			r->pids_peak = st.pids_peak;
			r->oom_killed = st.oom_killed;
		} else {
			sbx_result_warn(r, "%s", err->msg);
			sbx_error_free(&err);
		}
	}
	classify(s, r);
	collect_denials(sb->filter, r);
	if (s->warning)
		sbx_result_warn(r, "%s", s->warning);
	r->stdout_bytes = s->out.total;
	r->stderr_bytes = s->err.total;
	r->stdout_truncated = s->out.truncated;
	r->stderr_truncated = s->err.truncated;
}

void sbx_sandbox_teardown(struct sbx_sandbox *sb)
{
	struct sbx_result *r = sb->r;
	struct sbx_supervision *s = &sb->s;
	struct sbx_error *err = NULL;
	uint64_t t0 = sbx_now_ns();
	SBX_FAULT_DIE("teardown");
	if (sb->launched)
		abort_launch(sb); /* only when a front end stopped before supervise */
	close_pair(sb->sock);
	close_pair(sb->out);
	close_pair(sb->errp);
	if (sb->own_out)
		close(sb->out_dst);
	if (sb->own_err)
		close(sb->err_dst);
	sbx_relay_close(&s->out);
	sbx_relay_close(&s->err);
	if (s->listener >= 0)
		close(s->listener);
	if (s->sock >= 0)
		close(s->sock);
	if (s->pidfd >= 0)
		close(s->pidfd);
	free(s->error);
	free(s->warning);

	uint64_t t = sbx_now_ns();
	if (sbx_cgroup_destroy(sb->cg, &err) < 0) {
		sbx_result_warn(r, "%s", err->msg);
		sbx_error_free(&err);
	}
	uint64_t removal_us = us_since(t);
	r->phases_us[SBX_P_CGROUP] = sb->cgroup_us + removal_us;
	/* Copy-out last, after the cgroup is gone: every sandbox process has
	 * exited, the /out tmpfs is still reachable through its fd, and a
	 * supervisor killed during a long copy (up to its deadline) leaves no
	 * cgroup behind. */
	if (s->out_dirfd >= 0) {
		if (sbx_out_copy(s->out_dirfd, sb->c->out_dir, sb->c->out_size, r, &err) < 0) {
			if (r->error == NULL)
				r->error = sbx_xstrdup(err->msg);
			else
				sbx_result_warn(r, "%s", err->msg);
			sbx_error_free(&err);
		}
		close(s->out_dirfd);
	}
	sbx_seccomp_free(sb->filter);
	sbx_error_free(&sb->err);
	if (sb->mask_saved)
		sigprocmask(SIG_SETMASK, &sb->caller_mask, NULL);
	/* Phases add up: the cgroup's removal is counted under "cgroup" only. */
	if (sb->end_ns)
		r->phases_us[SBX_P_TEARDOWN] = us_since(sb->end_ns) - removal_us;
	else
		r->phases_us[SBX_P_TEARDOWN] = us_since(t0) - removal_us;
}
