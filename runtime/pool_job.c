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
#include "init.h"
#include "kernel_limits.h"
#include "pool.h"
#include "result.h"
#include "sandbox.h"
#include "seccomp/seccomp.h"
#include "supervise.h"
#include "sync.h"

/* How long a zygote may take to start a job before the job fails. */
#define START_TIMEOUT_MS 30000

static uint64_t us_since(uint64_t t0)
{
	return (sbx_now_ns() - t0) / 1000;
}

/* Variables a Python interpreter reads while it starts (or its preloaded
 * modules read at import): a forked job has the zygote's values, so a job
 * asking for others would not behave as the same command run cold. */
static bool startup_var(const char *kv)
{
	static const char *const prefixes[] = {"PYTHON", "LANG=", "LC_",  "OPENBLAS_",
					       "OMP_",	 "MKL_",  "GOTO", "NUMEXPR_"};
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
		return sbx_error_set(err, EINVAL,
				     "--network host: pool jobs always get their own network namespace");
	if (c->writable_rootfs || c->build_caps)
		return sbx_error_set(err, EINVAL, "--writable-rootfs and --build-caps are not for pool jobs");
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (startup_var(c->env[i]) && !env_has(p->base.env, c->env[i]))
			return sbx_error_set(err, EINVAL,
					     "--env %s: the pool's interpreters started without it (a "
					     "start-up variable must equal the pool's)",
					     c->env[i]);
	for (size_t i = 0; p->base.env && p->base.env[i]; i++)
		if (startup_var(p->base.env[i]) && !env_has(c->env, p->base.env[i]))
			return sbx_error_set(err, EINVAL,
					     "the pool's interpreters started with %s, which this job "
					     "does not set",
					     p->base.env[i]);
	return 0;
}

/* The counters of the job's own user namespace (zygote.py: own_userns),
 * as sbx run's pid 1 sets them in its own. */
static json_t *userns_limits_json(const struct sbx_config *c)
{
	json_t *o = json_object();
	for (int i = 0; i < SBX_USERNS_LIMITS; i++)
		if (c->userns_limits[i] != SBX_UNSET)
			json_object_set_new(o, sbx_userns_limit_names[i],
					    json_integer((json_int_t)c->userns_limits[i]));
	return o;
}

/* Without a cgroup: runtime/kernel_limits.c's fallback, by resource name,
 * which the job's workload sets on itself (null: the cgroup limits). */
static json_t *rlimits_json(const struct sbx_config *c, bool fallback)
{
	if (!fallback)
		return json_null();
	json_t *o = json_object();
	if (c->limits.pids)
		json_object_set_new(o, "RLIMIT_NPROC", json_integer((json_int_t)c->limits.pids));
	if (c->limits.memory)
		json_object_set_new(o, "RLIMIT_DATA", json_integer((json_int_t)c->limits.memory));
	json_object_set_new(o, "RLIMIT_FSIZE", json_integer((json_int_t)sbx_rlimit_fsize(c)));
	return o;
}

static char *request_json(const struct sbx_pool *p, const struct sbx_config *c,
			  const struct sbx_seccomp *filter, size_t n_cgroup, bool rlimits)
{
	json_t *o = json_object(), *a;
	json_object_set_new(o, "argv", a = json_array());
	for (size_t i = 0; c->argv[i]; i++)
		json_array_append_new(a, json_string(c->argv[i]));
	json_object_set_new(o, "env", a = json_array());
	for (size_t i = 0; c->env && c->env[i]; i++)
		json_array_append_new(a, json_string(c->env[i]));
	/* The message numbers of sync.h, so that the zygote never carries a copy. */
	json_object_set_new(o, "msg",
			    json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "setup_error", SBX_MSG_SETUP_ERROR, "exit",
				      SBX_MSG_EXIT, "taken", SBX_MSG_PHASES, "seccomp_fd", SBX_MSG_SECCOMP_FD,
				      "ready", SBX_MSG_READY, "pool_started", SBX_MSG_POOL_STARTED));
	json_object_set_new(o, "msg_size", json_integer((json_int_t)sizeof(struct sbx_msg)));
	json_object_set_new(o, "workdir", json_string(c->workdir ? c->workdir : "/"));
	json_object_set_new(o, "uid", json_integer(c->uid));
	json_object_set_new(o, "gid", json_integer(c->gid));
	json_object_set_new(o, "hostname", json_string(c->hostname ? c->hostname : "sbx"));
	json_object_set_new(o, "network", json_string(c->network == SBX_NET_LOOPBACK ? "loopback" : "none"));
	json_object_set_new(o, "tmp", json_integer((json_int_t)c->limits.tmp));
	json_object_set_new(o, "tmpfs_exec", json_boolean(c->tmpfs_exec));
	json_object_set_new(o, "out_size", json_integer(c->out_dir ? (json_int_t)c->out_size : 0));
	json_object_set_new(o, "n_cgroup", json_integer((json_int_t)n_cgroup));
	json_object_set_new(o, "userns_limits", userns_limits_json(c));
	json_object_set_new(o, "rlimits", rlimits_json(c, rlimits));
	json_object_set_new(o, "tmpfs", a = json_array());
	for (size_t i = 0; i < c->n_tmpfs; i++)
		json_array_append_new(
		    a, json_pack("{s:s,s:I}", "target", c->tmpfs[i].target, "size",
				 (json_int_t)(c->tmpfs[i].size ? c->tmpfs[i].size : c->limits.tmp)));
	/* The zygote's stub mount points (pool_zygote.c): the job takes them
	 * away before it mounts its own, so they are no channel between jobs. */
	json_object_set_new(o, "stubs", a = json_array());
	json_array_append_new(a, json_string("/out"));
	for (size_t i = 0; i < p->n_mount_points; i++)
		json_array_append_new(a, json_string(p->mount_points[i]));
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
		json_object_set_new(o, "seccomp",
				    json_pack("{s:I,s:s}", "flags", (json_int_t)flags, "bpf", hex));
		free(hex);
	} else {
		json_object_set_new(o, "seccomp", json_null());
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

#define ZYGOTE_GONE 1

/* Until the job's pid 1 reports (its pidfd) or the start fails.  Returns
 * ZYGOTE_GONE when the zygote died before anything of the job reported:
 * the request may be handed to another zygote. */
static int wait_started(int sock, int conn, int ctl, int *pidfd, struct sbx_error **err)
{
	uint64_t deadline = sbx_now_ns() + START_TIMEOUT_MS * 1000000ull;
	bool taken = false; /* the zygote's child has the request (any message) */
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = sock, .events = POLLIN}, {.fd = conn, .events = POLLIN}, {.fd = ctl, .events = 0}};
		int64_t left = (int64_t)(deadline - sbx_now_ns()) / 1000000;
		int n = poll(p, 3, left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return sbx_error_set(err, ETIMEDOUT, "the zygote did not start the job within %d s",
					     START_TIMEOUT_MS / 1000);
		if (p[1].revents)
			return sbx_error_set(err, ECONNRESET, "the client went away before the job started");
		if (!p[0].revents && p[2].revents) {
			if (!taken)
				return ZYGOTE_GONE;
			p[2].fd = -1; /* ended after forking the job (--recycle): fine */
			ctl = -1;
			continue;
		}
		struct sbx_msg m;
		int fd = -1;
		int r = sbx_msg_recv(sock, &m, &fd);
		if (r == 0 && p[2].revents && !taken)
			return ZYGOTE_GONE;
		taken = true;
		if (r <= 0)
			return sbx_error_set(err, r < 0 ? errno : EPIPE,
					     "the zygote ended the job before it started");
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

/* What the job's first process writes "0" to, to move itself into its
 * cgroup(s) before the request's untrusted parts run: v1, the "tasks" file
 * of each hierarchy; v2, the job cgroup's cgroup.procs.  On v2 the job
 * cannot name that cgroup (it is in the zygote's cgroup namespace, and the
 * job's cgroup is a sibling of the zygote's, outside it), but since Linux
 * 5.16 the kernel checks a write to cgroup.procs against the credentials
 * *and the cgroup namespace of the opener* (the CVE-2021-4197 fix): opened
 * here, on the host, the move is allowed exactly as if we made it, and the
 * job never needs to see the host's hierarchy.  Moving itself, the job
 * needs no pid of ours, so no pid can be stale.  Without a cgroup (--allow-
 * no-cgroup): none; the job sets the rlimit fallback on itself. */
static int join_fds_open(struct sbx_cgroup *cg, int *fds, struct sbx_error **err)
{
	if (sbx_cgroup_version(cg) == 1)
		return sbx_cgroup_self_attach_fds(cg, fds, SBX_CGROUP_MAX_HIERARCHIES, err);
	if (sbx_cgroup_version(cg) != 2)
		return 0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/cgroup.procs", sbx_cgroup_path(cg));
	fds[0] = open(path, O_WRONLY | O_CLOEXEC);
	if (fds[0] < 0)
		return sbx_error_set(err, errno, "opening %s for the job to join its cgroup", path);
	return 1;
}

/* A zygote's control socket, as a job supervisor holds it. */
struct zygote_ctl {
	int index;
	int fd;
};

/* sbx_sandbox_launch's counterpart (runtime/sandbox.h: a front end may
 * replace launch): instead of clone3, the job goes to a zygote, which forks
 * it; its pid 1 hands back its pidfd.  Fills sb->s as launch does. */
static int pool_launch(const struct sbx_pool *p, struct sbx_sandbox *sb, const struct zygote_ctl *ctl,
		       size_t n_ctl, const int io[3], int conn)
{
	const struct sbx_config *c = sb->c;
	struct sbx_error **err = &sb->err;
	/* The job's pid 1 joins its cgroup first thing, from the request:
	 * the cgroup prepare only planned must exist before. */
	if (sbx_sandbox_finish_cgroup(sb) < 0)
		return -1;
	uint64_t t = sbx_now_ns();
	int bind_fds[SBX_POOL_MAX_BINDS];
	size_t n_bind = c->n_binds;
	if (sbx_pool_bind_sources(c, bind_fds, err) < 0)
		return -1;
	sb->r->phases_us[SBX_P_MOUNTS] = us_since(t);
	int join_fds[SBX_CGROUP_MAX_HIERARCHIES];
	int n_join = join_fds_open(sb->cg, join_fds, err);
	if (n_join < 0) {
		for (size_t j = 0; j < n_bind; j++)
			close(bind_fds[j]);
		return -1;
	}

	sbx_sandbox_block_signals(sb);

	t = sb->start_ns = sbx_now_ns();
	cleanup_free char *req = request_json(p, c, sb->filter, (size_t)n_join, sb->r->limits_rlimit);
	int pidfd = -1, r = ZYGOTE_GONE;
	/* Our zygote first, then the others that were ready: a zygote that
	 * dies with the request unread (its exit closes its socket only after
	 * it has unmapped its memory, so a send may still succeed) loses no
	 * job.  Each attempt has channels of its own, so that a half-started
	 * job of a dead zygote finds its supervisor gone and ends. */
	for (size_t a = 0; a < n_ctl && r == ZYGOTE_GONE; a++) {
		if (a > 0 && (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->sock) < 0 ||
			      pipe2(sb->out, O_CLOEXEC) < 0 || pipe2(sb->errp, O_CLOEXEC) < 0)) {
			r = sbx_error_set(err, errno, "creating the job's channels");
			break;
		}
		int fds[SBX_POOL_MAX_FDS];
		size_t n = 0;
		fds[n++] = sb->sock[1];
		fds[n++] = io[0];
		fds[n++] = sb->out[1];
		fds[n++] = sb->errp[1];
		for (int i = 0; i < n_join; i++)
			fds[n++] = join_fds[i];
		for (size_t i = 0; i < n_bind; i++)
			fds[n++] = bind_fds[i];
		int sent = sbx_send_with_fds(ctl[a].fd, req, strlen(req), fds, n);
		int e = errno;
		close(sb->sock[1]);
		close(sb->out[1]);
		close(sb->errp[1]);
		sb->sock[1] = sb->out[1] = sb->errp[1] = -1;
		if (sent == 0) {
			r = wait_started(sb->sock[0], conn, ctl[a].fd, &pidfd, err);
			if (r == 0)
				sb->r->pool_zygote = ctl[a].index;
		} else if (e != EPIPE && e != ECONNREFUSED && e != ENOTCONN && e != ECONNRESET) {
			r = sbx_error_set(err, e, "handing the job to zygote %d", ctl[a].index);
		}
		if (r != 0) {
			close(sb->sock[0]);
			close(sb->out[0]);
			close(sb->errp[0]);
			sb->sock[0] = sb->out[0] = sb->errp[0] = -1;
		}
	}
	for (size_t i = 0; i < n_bind; i++)
		close(bind_fds[i]);
	for (int i = 0; i < n_join; i++)
		close(join_fds[i]);
	if (r == ZYGOTE_GONE)
		r = sbx_error_set(err, EPIPE,
				  "every zygote ended before it took the job; the pool is replacing them");
	/* A failure here may leave a half-made job: it is in the job's
	 * cgroup, which teardown kills and removes. */
	if (r < 0)
		return -1;
	sb->r->pool_acquire_ms = (double)(sbx_now_ns() - t) / 1e6;
	sb->r->phases_us[SBX_P_CLONE] = us_since(t);
	sb->launched = true;
	sbx_sandbox_watch(sb, 0 /* not our child: the zygote's */, pidfd);
	struct sbx_supervision *s = &sb->s;
	s->cancel_fd = conn;
	s->setup_deadline = sbx_now_ns() + sbx_setup_deadline_ns();
	return 0;
}

/* One job, in the order of sbx_run (runtime/run.c) with launch replaced. */
static void run_job(const struct sbx_pool *p, const struct zygote_ctl *ctl, size_t n_ctl,
		    const struct sbx_config *c, const int io[3], int conn, struct sbx_result *r)
{
	struct sbx_sandbox sb;
	sbx_sandbox_init(&sb, c, r);
	sb.out_dst = io[1];
	sb.err_dst = io[2];
	if (sbx_sandbox_prepare(&sb) == 0 && pool_launch(p, &sb, ctl, n_ctl, io, conn) == 0)
		sbx_sandbox_supervise(&sb);
	sbx_sandbox_collect(&sb);
	sbx_sandbox_teardown(&sb);
}

static void reply_result(int conn, const struct sbx_result *r)
{
	cleanup_free char *json = sbx_report_json(r);
	const char *e = r->error ? r->error : "";
	int mfd = memfd_create("sbx-pool-result", MFD_CLOEXEC);
	if (mfd < 0 || write(mfd, e, strlen(e) + 1) < 0 || write(mfd, json, strlen(json)) < 0)
		perror("sbx pool: result");
	struct sbx_pool_reply_msg m = {.type = SBX_POOL_RESULT, .exit_code = r->exit_code};
	sbx_send_with_fds(conn, &m, sizeof(m), &mfd, mfd >= 0 ? 1 : 0);
	if (mfd >= 0)
		close(mfd);
}

int sbx_pool_job(const struct sbx_pool *p, const struct sbx_zygote *z, int conn, double wait_ms)
{
	uint64_t t0 = sbx_now_ns();
	setpgid(0, 0);
	signal(SIGPIPE, SIG_IGN);
	struct sbx_error *err = NULL;
	/* Only the client and the ready zygotes (ours first): another
	 * client's connection kept here would outlive its owner. */
	struct zygote_ctl ctl[8];
	size_t n_ctl = 0;
	int keep[5 + 8] = {0, 1, 2, conn, z->ctl};
	ctl[n_ctl++] = (struct zygote_ctl){z->index, z->ctl};
	for (unsigned i = 0; i < p->size && n_ctl < 8; i++)
		if (&p->zygotes[i] != z && p->zygotes[i].ready && p->zygotes[i].ctl >= 0) {
			ctl[n_ctl] = (struct zygote_ctl){p->zygotes[i].index, p->zygotes[i].ctl};
			keep[4 + n_ctl++] = p->zygotes[i].ctl;
		}
	if (sbx_close_all_except(keep, 4 + n_ctl, &err) < 0) {
		fprintf(stderr, "sbx pool: %s\n", err->msg);
		return 125;
	}
	/* The socket is mode 0600; still, only our own user hands us jobs. */
	struct ucred peer;
	socklen_t pl = sizeof(peer);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &pl) < 0 || peer.uid != geteuid()) {
		fprintf(stderr, "sbx pool: refusing a client of another user\n");
		return 125;
	}
	static char buf[1 << 17];
	int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
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
	struct sbx_pool_reply_msg acc = {.type = SBX_POOL_ACCEPTED};
	sbx_send_with_fds(conn, &acc, sizeof(acc), &self, self >= 0 ? 1 : 0);

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
		run_job(p, ctl, n_ctl, &c, fds, conn, &r);
	}
	reply_result(conn, &r);
	sbx_result_free(&r);
	sbx_config_free(&c);
	return 0;
}
