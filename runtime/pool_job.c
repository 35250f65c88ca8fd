/* One warm-pool job, supervised as `sbx run` supervises a sandbox: this
 * process is forked by the pool server for one client and does what
 * runtime/run.c does — config, seccomp compiled, cgroup created, bind
 * sources opened, supervision, report, teardown — except that the sandbox
 * is not cloned: the zygote forks it (runtime/pool/zygote.py) and its pid 1
 * hands back its pidfd.  Paths in the job's options are the client's: this
 * process works in the client's directory. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "cgroup_request.h"
#include "escape.h"
#include "init.h"
#include "outcopy.h"
#include "pool.h"
#include "result.h"
#include "run.h"
#include "seccomp/seccomp.h"
#include "supervise.h"
#include "sync.h"

#define MAX_FDS 250
/* How long a zygote may take to start a job before the job fails. */
#define START_TIMEOUT_MS 30000

static uint64_t us_since(uint64_t t0) { return (sbx_now_ns() - t0) / 1000; }

static int send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

/* Variables a Python interpreter reads while it starts (or its preloaded
 * modules read at import): a forked job has the zygote's values, so a job
 * asking for others would not behave as the same command run cold. */
static bool startup_var(const char *kv)
{
	static const char *const prefixes[] = { "PYTHON", "LANG=", "LC_", "OPENBLAS_", "OMP_", "MKL_", "GOTO", "NUMEXPR_" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool env_has(char *const *env, const char *kv)
{
	for (size_t i = 0; env && env[i]; i++)
		if (strcmp(env[i], kv) == 0)
			return true;
	return false;
}

/* What the pool can serve: `python3 SCRIPT [ARG...]` as the zygotes' own
 * interpreter would run it, in the pool's rootfs. */
static int can_serve(const struct sbx_pool *p, const struct sbx_zygote *z, const struct sbx_config *c,
		     struct sbx_error **err)
{
	const char *why = "the pool serves only `python3 SCRIPT [ARG...]`";
	if (c->argv == NULL || c->argv[0] == NULL)
		return sbx_error_set(err, EINVAL, "no command: %s", why);
	if (strcmp(c->argv[0], "python3") != 0 && strcmp(c->argv[0], z->python) != 0)
		return sbx_error_set(err, EINVAL, "command '%s': %s (or %s)", c->argv[0], why, z->python);
	if (c->argv[1] == NULL || c->argv[1][0] == '-')
		return sbx_error_set(err, EINVAL, "'%s %s': %s; interpreter options need a fresh interpreter",
				     c->argv[0], c->argv[1] ? c->argv[1] : "", why);
	if (strcmp(c->rootfs, p->base.rootfs) != 0)
		return sbx_error_set(err, EINVAL, "--rootfs %s: the pool's zygotes run in %s", c->rootfs,
				     p->base.rootfs);
	if (c->network == SBX_NET_HOST)
		return sbx_error_set(err, EINVAL, "--network host: pool jobs always get their own network namespace");
	if (c->writable_rootfs || c->build_caps)
		return sbx_error_set(err, EINVAL, "--writable-rootfs and --build-caps are not for pool jobs");
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (startup_var(c->env[i]) && !env_has(p->base.env, c->env[i]))
			return sbx_error_set(err, EINVAL, "--env %s: the pool's interpreters started without it (a "
							  "start-up variable must equal the pool's)", c->env[i]);
	for (size_t i = 0; p->base.env && p->base.env[i]; i++)
		if (startup_var(p->base.env[i]) && !env_has(c->env, p->base.env[i]))
			return sbx_error_set(err, EINVAL, "the pool's interpreters started with %s, which this job "
							  "does not set", p->base.env[i]);
	return 0;
}

/* A bind source as a detached mount, made here on the host side with the
 * client's path: the zygote's job attaches it (move_mount) without ever
 * looking the host path up. */
static int bind_source(const struct sbx_bind *b, struct sbx_error **err)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, b->source,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (fd < 0)
		return sbx_error_set(err, errno, "bind %s:%s: open_tree", b->source, b->target);
	struct mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->rw ? 0 : MOUNT_ATTR_RDONLY) };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return sbx_error_set(err, e, "bind %s:%s: mount_setattr", b->source, b->target);
	}
	return fd;
}

static char *request_json(const struct sbx_config *c, const struct sbx_seccomp *filter, size_t n_cgroup)
{
	json_t *o = json_object(), *a;
	json_object_set_new(o, "argv", a = json_array());
	for (size_t i = 0; c->argv[i]; i++)
		json_array_append_new(a, json_string(c->argv[i]));
	json_object_set_new(o, "env", a = json_array());
	for (size_t i = 0; c->env && c->env[i]; i++)
		json_array_append_new(a, json_string(c->env[i]));
	json_object_set_new(o, "workdir", json_string(c->workdir ? c->workdir : "/"));
	json_object_set_new(o, "uid", json_integer(c->uid));
	json_object_set_new(o, "gid", json_integer(c->gid));
	json_object_set_new(o, "hostname", json_string(c->hostname ? c->hostname : "sbx"));
	json_object_set_new(o, "network", json_string(c->network == SBX_NET_LOOPBACK ? "loopback" : "none"));
	json_object_set_new(o, "tmp", json_integer((json_int_t)c->limits.tmp));
	json_object_set_new(o, "tmpfs_exec", json_boolean(c->tmpfs_exec));
	json_object_set_new(o, "out_size", json_integer(c->out_dir ? (json_int_t)c->out_size : 0));
	json_object_set_new(o, "n_cgroup", json_integer((json_int_t)n_cgroup));
	json_object_set_new(o, "tmpfs", a = json_array());
	for (size_t i = 0; i < c->n_tmpfs; i++)
		json_array_append_new(a, json_pack("{s:s,s:I}", "target", c->tmpfs[i].target, "size",
						   (json_int_t)(c->tmpfs[i].size ? c->tmpfs[i].size : c->limits.tmp)));
	json_object_set_new(o, "binds", a = json_array());
	for (size_t i = 0; i < c->n_binds; i++)
		json_array_append_new(a, json_pack("{s:s}", "target", c->binds[i].target));
	if (filter) {
		const void *code;
		size_t len;
		unsigned flags;
		sbx_seccomp_program(filter, &code, &len, &flags);
		char *hex = malloc(len * 16 + 1);
		if (hex == NULL)
			abort();
		for (size_t i = 0; i < len * 8; i++)
			sprintf(hex + 2 * i, "%02x", ((const unsigned char *)code)[i]);
		json_object_set_new(o, "seccomp", json_pack("{s:I,s:s}", "flags", (json_int_t)flags, "bpf", hex));
		free(hex);
	} else {
		json_object_set_new(o, "seccomp", json_null());
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Until the job's pid 1 reports (its pidfd) or the start fails. */
static int wait_started(int sock, int conn, int *pidfd, struct sbx_error **err)
{
	uint64_t deadline = sbx_now_ns() + START_TIMEOUT_MS * 1000000ull;
	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = conn, .events = POLLIN } };
		int64_t left = (int64_t)(deadline - sbx_now_ns()) / 1000000;
		int n = poll(p, 2, left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return sbx_error_set(err, ETIMEDOUT, "the zygote did not start the job within %d s",
					     START_TIMEOUT_MS / 1000);
		if (p[1].revents)
			return sbx_error_set(err, ECONNRESET, "the client went away before the job started");
		struct sbx_msg m;
		int fd = -1;
		int r = sbx_msg_recv(sock, &m, &fd);
		if (r <= 0)
			return sbx_error_set(err, r < 0 ? errno : EPIPE, "the zygote ended the job before it started");
		if (m.type == SBX_MSG_POOL_STARTED && fd >= 0) {
			*pidfd = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (m.type == SBX_MSG_SETUP_ERROR) {
			m.text[sizeof(m.text) - 1] = '\0';
			return sbx_error_set(err, 0, "%s", m.text);
		}
	}
}

static int run_job(const struct sbx_zygote *z, const struct sbx_config *c, const int io[3], int conn,
		   struct sbx_result *r)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp *filter = NULL;
	struct sbx_cgroup *cg = NULL;
	int join_fds[SBX_CGROUP_MAX_HIERARCHIES];
	int n_join = 0, n_bind = 0;
	int bind_fds[MAX_FDS];
	int sock[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int out_dst = io[1], err_dst = io[2];
	bool own_out = false, own_err = false;
	int pidfd = -1;
	uint64_t t;

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
	t = sbx_now_ns();
	if (sbx_seccomp_compile(c->seccomp, &filter, &err) < 0) {
		sbx_error_wrap(&err, "seccomp profile %s", c->seccomp);
		goto setup_failed;
	}
	r->phases_us[SBX_P_SECCOMP_COMPILE] = us_since(t);
	t = sbx_now_ns();
	struct sbx_cgroup_request cg_req = sbx_config_cgroup_request(c);
	if (sbx_cgroup_create(&cg_req, &cg, &err) < 0)
		goto setup_failed;
	if (sbx_cgroup_version(cg) == 0) {
		/* The rlimit fallback is set in a fresh sandbox's pid 1; a forked
		 * job would need it in the zygote, which every job inherits. */
		sbx_error_set(&err, ENOTSUP, "pool jobs need a cgroup (the rlimit fallback is for sbx run)");
		goto setup_failed;
	}
	if (sbx_cgroup_version(cg) == 2) {
		sbx_error_set(&err, ENOTSUP, "pool jobs on cgroup v2: not implemented yet (this host: v1 fallback)");
		goto setup_failed;
	}
	n_join = sbx_cgroup_self_attach_fds(cg, join_fds, SBX_CGROUP_MAX_HIERARCHIES, &err);
	if (n_join < 0) {
		n_join = 0;
		goto setup_failed;
	}
	r->cgroup_version = sbx_cgroup_version(cg);
	r->limits_enforced = sbx_cgroup_limits_enforced(cg);
	if (*sbx_cgroup_path(cg))
		r->cgroup_path = strdup(sbx_cgroup_path(cg));
	uint64_t cgroup_us = us_since(t);
	t = sbx_now_ns();
	if (c->n_binds > MAX_FDS - 4 - SBX_CGROUP_MAX_HIERARCHIES) {
		sbx_error_set(&err, E2BIG, "%zu binds: a pool job takes at most %d", c->n_binds,
			      MAX_FDS - 4 - SBX_CGROUP_MAX_HIERARCHIES);
		goto setup_failed;
	}
	for (size_t i = 0; i < c->n_binds; i++) {
		int fd = bind_source(&c->binds[i], &err);
		if (fd < 0)
			goto setup_failed;
		bind_fds[n_bind++] = fd;
	}
	uint64_t binds_us = us_since(t);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		sbx_error_set(&err, errno, "creating the job's channels");
		goto setup_failed;
	}
	sigset_t fwd;
	sigemptyset(&fwd);
	sigaddset(&fwd, SIGINT);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	sigprocmask(SIG_BLOCK, &fwd, NULL);

	/* The request: the zygote forks, the fork takes these descriptors. */
	t = sbx_now_ns();
	uint64_t start = t;
	{
		cleanup_free char *req = request_json(c, filter, (size_t)n_join);
		int fds[MAX_FDS];
		size_t n = 0;
		fds[n++] = sock[1];
		fds[n++] = io[0];
		fds[n++] = out[1];
		fds[n++] = errp[1];
		for (int i = 0; i < n_join; i++)
			fds[n++] = join_fds[i];
		for (int i = 0; i < n_bind; i++)
			fds[n++] = bind_fds[i];
		if (send_fds(z->ctl, req, strlen(req), fds, n) < 0) {
			sbx_error_set(&err, errno, "handing the job to zygote %d", z->index);
			goto setup_failed;
		}
	}
	for (int i = 0; i < n_join; i++)
		close(join_fds[i]);
	for (int i = 0; i < n_bind; i++)
		close(bind_fds[i]);
	n_join = n_bind = 0;
	close(sock[1]);
	close(out[1]);
	close(errp[1]);
	sock[1] = out[1] = errp[1] = -1;
	if (wait_started(sock[0], conn, &pidfd, &err) < 0) {
		/* Whatever the zygote started is in the job's cgroup. */
		sbx_cgroup_kill(cg, NULL);
		goto setup_failed;
	}
	r->pool_acquire_ms = (double)(sbx_now_ns() - t) / 1e6;
	r->phases_us[SBX_P_CLONE] = us_since(t);

	struct sbx_supervision s = {
		.pid = -1, .pidfd = pidfd, .sock = sock[0], .timeout = c->limits.timeout, .cgroup = cg,
		.filter = filter, .listener = -1, .out_dirfd = -1, .cancel_fd = conn,
	};
	sbx_relay_init(&s.out, out[0], out_dst, own_out, c->limits.output);
	sbx_relay_init(&s.err, errp[0], err_dst, own_err, c->limits.output);
	if (sbx_supervise(&s, &err) < 0) {
		sbx_supervise_kill(&s);
		free(r->error);
		r->error = strdup(err->msg);
		sbx_error_free(&err);
	}
	uint64_t end = sbx_now_ns();
	r->wall_ms = (double)(end - start) / 1e6;
	r->phases_us[SBX_P_MOUNTS] = binds_us;
	struct sbx_cgroup_stats st;
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
	sbx_run_classify(&s, r);
	sbx_run_collect_denials(filter, r);
	r->stdout_bytes = s.out.total;
	r->stderr_bytes = s.err.total;
	r->stdout_truncated = s.out.truncated;
	r->stderr_truncated = s.err.truncated;
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
	/* As in run.c: copy-out last, once the cgroup (and every job process) is gone. */
	if (s.out_dirfd >= 0) {
		if (sbx_out_copy(s.out_dirfd, c->out_dir, c->out_size, r, &err) < 0) {
			cleanup_free char *msg = sbx_escape(err->msg);
			fprintf(stderr, "sbx: %s\n", msg);
			if (r->error == NULL)
				r->error = strdup(err->msg);
			sbx_error_free(&err);
		}
		close(s.out_dirfd);
	}
	sbx_seccomp_free(filter);
	r->phases_us[SBX_P_TEARDOWN] = us_since(end) - removal_us;
	return r->exit_code;

setup_failed:
	for (int i = 0; i < n_join; i++)
		close(join_fds[i]);
	for (int i = 0; i < n_bind; i++)
		close(bind_fds[i]);
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
	free(r->error);
	r->error = strdup(err && err->msg ? err->msg : "pool job setup failed");
	sbx_error_free(&err);
	return 125;
}

static void reply_result(int conn, const struct sbx_result *r)
{
	cleanup_free char *json = sbx_report_json(r);
	const char *e = r->error ? r->error : "";
	int mfd = memfd_create("sbx-pool-result", MFD_CLOEXEC);
	if (mfd < 0 || write(mfd, e, strlen(e) + 1) < 0 || write(mfd, json, strlen(json)) < 0)
		perror("sbx pool: result");
	struct sbx_pool_reply_msg m = { .type = SBX_POOL_RESULT, .exit_code = r->exit_code };
	send_fds(conn, &m, sizeof(m), &mfd, mfd >= 0 ? 1 : 0);
	if (mfd >= 0)
		close(mfd);
}

int sbx_pool_job(const struct sbx_pool *p, const struct sbx_zygote *z, int conn, double wait_ms)
{
	uint64_t t0 = sbx_now_ns();
	setpgid(0, 0);
	signal(SIGPIPE, SIG_IGN);
	struct sbx_error *err = NULL;
	/* Only the client and our zygote: another zygote's control socket or
	 * another client's connection kept here would outlive their owners. */
	if (sbx_close_all_except((const int[]){ 0, 1, 2, conn, z->ctl }, 5, &err) < 0) {
		fprintf(stderr, "sbx pool: %s\n", err->msg);
		return 125;
	}
	static char buf[1 << 17];
	int fds[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	size_t nfd = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
		}
	if (n < (ssize_t)sizeof(SBX_POOL_MAGIC) || memcmp(buf, SBX_POOL_MAGIC, sizeof(SBX_POOL_MAGIC)) != 0 ||
	    nfd != 4 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		fprintf(stderr, "sbx pool: a client sent a malformed request\n");
		return 125;
	}
	buf[n] = '\0';
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	struct sbx_pool_reply_msg acc = { .type = SBX_POOL_ACCEPTED };
	send_fds(conn, &acc, sizeof(acc), &self, self >= 0 ? 1 : 0);

	/* The options: NUL-separated strings after the magic. */
	char *args[4096];
	size_t na = 0;
	for (char *s = buf + sizeof(SBX_POOL_MAGIC); s < buf + n && na < 4095; s += strlen(s) + 1)
		args[na++] = s;
	struct sbx_result r;
	sbx_result_init(&r);
	r.pool = true;
	r.pool_wait_ms = wait_ms;
	r.pool_zygote = z->index;
	r.pool_zygote_jobs = z->jobs;
	struct sbx_config c;
	sbx_config_init(&c);
	if (sbx_pool_parse(p, args, na, fds[3], &c, &err) == 0 && sbx_config_validate(&c, &err) == 0)
		can_serve(p, z, &c, &err);
	if (err) {
		r.error = strdup(err->msg);
		sbx_error_free(&err);
	} else {
		r.phases_us[SBX_P_CONFIG] = (sbx_now_ns() - t0) / 1000;
		run_job(z, &c, fds, conn, &r);
	}
	reply_result(conn, &r);
	sbx_result_free(&r);
	sbx_config_free(&c);
	return 0;
}
