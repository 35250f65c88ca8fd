#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "exec.h"
#include "hooks.h"
#include "lib/cleanup.h"
#include "runtime/config.h"
#include "runtime/idmap.h"
#include "runtime/escape.h"
#include "runtime/fault.h"
#include "runtime/result.h"
#include "runtime/sandbox.h"
#include "seccomp/seccomp.h"
#include "spec.h"
#include "state.h"
#include "sysctl.h"

/* How long `start` waits for pid 1 at the gate and `delete` for a killed
 * supervisor to finish its teardown. */
#define START_WAIT_MS 10000
#define DELETE_WAIT_MS 30000

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Wait until the process behind `pidfd` has exited (it need not be our
 * child: a pidfd polls readable when its process ends). */
static bool wait_exit(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static char *now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64], *out;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
		abort();
	return out;
}

/* Write `text` to `path` whole, through a temporary and a rename: clients
 * read the pid file as soon as create returns. */
static int write_file_atomic(const char *path, const char *text, struct sbx_error **err)
{
	cleanup_free char *tmp = NULL;
	if (asprintf(&tmp, "%s.sbx-tmp", path) < 0)
		abort();
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_error_set(err, errno, "writing %s", path);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sbx_error_set(err, e, "writing %s", path);
	}
	return 0;
}

/* ---- create -------------------------------------------------------------- */

struct supervisor {
	const struct sbx_oci_global *g;
	const char *id;
	struct sbx_config *c;
	struct sbx_oci_spec *spec;
	struct sbx_oci_state st;
	int dirfd;		    /* ROOT/ID */
	int ready;		    /* write end of the pipe `create` waits on; -1 once used */
	const char *console_socket; /* absolute, or NULL */
	bool console_sent;
	char *console_error;
	const struct sbx_seccomp *filter; /* the container's, for createContainer hooks */
	int home[SBX_OCI_HOME_NS];	  /* the runtime's net, ipc, uts namespaces, for host hooks */
};

static const struct {
	const char *name;
	int flag;
} home_ns[SBX_OCI_HOME_NS] = {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}};

/* The supervisor's pid is the container's to clients (the pid file,
 * `state`), and they take its namespaces for the container's: Kubernetes
 * puts a pod's containers into /proc/PID/ns/{ipc,uts} of its pause
 * container's PID, podman --ipc/--uts container:X likewise.  So once pid 1
 * is built the supervisor enters pid 1's network, ipc and uts namespaces
 * (host root may; rootless it may not, and stays where it is).  Nothing of
 * the supervisor's depends on them; host hooks go back to `home`. */
static int adopt_namespaces(pid_t pid1, struct sbx_error **err)
{
	for (int i = 0; i < SBX_OCI_HOME_NS; i++) {
		char theirs[64];
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", pid1, home_ns[i].name);
		cleanup_close int fd = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, home_ns[i].flag) < 0)
			return sbx_error_set(err, errno, "entering the container's %s namespace (%s)",
					     home_ns[i].name, theirs);
	}
	return 0;
}

/* process.terminal: the pty's master, from pid 1 through the supervisor,
 * goes to the client's --console-socket (SCM_RIGHTS), as runc sends it.
 * sbx keeps no copy: the client alone holds the terminal. */
static void on_console(void *arg, int master)
{
	struct supervisor *sv = arg;
	struct sbx_error *err = NULL;
	int s = sbx_oci_console_connect(sv->console_socket, &err);
	if (s >= 0 && sbx_oci_console_send(s, master, &err) == 0)
		sv->console_sent = true;
	if (s >= 0)
		close(s);
	close(master);
	if (err) {
		free(sv->console_error);
		sv->console_error = strdup(err->msg);
		sbx_error_free(&err);
	}
}

/* Tell `create` how setup ended: one byte 'K', or the error text.  False
 * when `create` is gone (killed while waiting): nobody will ever start or
 * know of this container, so the caller ends it. */
static bool report_ready(struct supervisor *sv, const char *error)
{
	if (sv->ready < 0)
		return false;
	ssize_t n = error == NULL ? write(sv->ready, "K", 1) : write(sv->ready, error, strlen(error));
	close(sv->ready);
	sv->ready = -1;
	return n > 0;
}

/* Called by the supervisor when pid 1 waits at the gate: record the pids,
 * apply what needs the sandbox's namespaces, run the create-time hooks. */
static void on_ready(void *arg, pid_t pid1)
{
	struct supervisor *sv = arg;
	struct sbx_error *err = NULL;
	if (sv->c->terminal && !sv->console_sent) {
		report_ready(sv, sv->console_error ? sv->console_error
						   : "process.terminal: the sandbox sent no terminal");
		kill(pid1, SIGKILL);
		return;
	}
	sv->st.pid = getpid();
	sv->st.pid_start = sbx_oci_proc_start(sv->st.pid);
	sv->st.init_pid = pid1;
	sv->st.init_start = sbx_oci_proc_start(pid1);
	if (sbx_oci_sysctl_apply(pid1, sv->spec, &err) < 0 ||
	    sbx_oci_hooks_run(sv->spec, SBX_HOOK_PRESTART, &sv->st, "created", pid1, sv->home, &err) < 0 ||
	    sbx_oci_hooks_run(sv->spec, SBX_HOOK_CREATE_RUNTIME, &sv->st, "created", pid1, sv->home, &err) < 0 ||
	    sbx_oci_hooks_run_inside(sv->spec, SBX_HOOK_CREATE_CONTAINER, sv->c, sv->filter, &sv->st, &err) < 0 ||
	    (!sv->c->rootless && adopt_namespaces(pid1, &err) < 0) ||
	    sbx_oci_state_write(sv->dirfd, &sv->st, &err) < 0) {
		report_ready(sv, err->msg);
		sbx_error_free(&err);
		/* pid 1 dies, the supervisor then tears down as for any run. */
		kill(pid1, SIGKILL);
		return;
	}
	/* SIGPIPE is ignored: a dead `create` makes the write fail. */
	if (!report_ready(sv, NULL))
		kill(pid1, SIGKILL);
}

/* What the spec asks of the process that every sandbox process inherits:
 * rlimits, umask, oom_score_adj.  Set on the supervisor before the clone. */
static int apply_inherited(const struct sbx_oci_spec *s, struct sbx_error **err)
{
	for (size_t i = 0; i < s->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0)
			return sbx_error_set(err, errno, "process.rlimits[%zu]: setrlimit %llu:%llu", i,
					     (unsigned long long)rl.rlim_cur,
					     (unsigned long long)rl.rlim_max);
	}
	if (s->umask_set)
		umask(s->umask);
	if (s->oom_score_adj_set) {
		cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d", s->oom_score_adj);
		if (fd < 0 || write(fd, buf, (size_t)n) != n)
			return sbx_error_set(err, errno, "process.oomScoreAdj: writing %d", s->oom_score_adj);
	}
	return 0;
}

/* One namespace given by path: the supervisor enters it, and the sandbox,
 * cloned without its CLONE_NEW* flag (network "host" to the runtime,
 * shared_ipc, shared_uts), shares it.  Host root may enter any of them;
 * the sandbox's root has no capability over them (its user namespace does
 * not own them).  setns checks the kind. */
static int join_ns(const char *path, int flag, const char *what, struct sbx_error **err)
{
	if (path == NULL)
		return 0;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "linux.namespaces: %s namespace %s", what, path);
	if (setns(fd, flag) < 0)
		return sbx_error_set(err, errno, "linux.namespaces: joining %s namespace %s", what, path);
	return 0;
}

/* A joined uts namespace keeps its hostname (the sandbox cannot set it):
 * the spec may only ask for the one it has (a pod's containers repeat the
 * pod's). */
static int join_namespaces(const struct sbx_oci_spec *s, const struct sbx_config *c, struct sbx_error **err)
{
	if (join_ns(s->netns_path, CLONE_NEWNET, "network", err) < 0 ||
	    join_ns(s->ipcns_path, CLONE_NEWIPC, "ipc", err) < 0 ||
	    join_ns(s->utsns_path, CLONE_NEWUTS, "uts", err) < 0)
		return -1;
	struct utsname u;
	if (s->utsns_path && c->hostname && (uname(&u) < 0 || strcmp(u.nodename, c->hostname) != 0))
		return sbx_error_set(err, 0,
				     "hostname: %s cannot be set in the joined uts namespace %s (its hostname is %s)",
				     c->hostname, s->utsns_path, u.nodename);
	return 0;
}

static __attribute__((noreturn)) void supervisor_main(struct supervisor *sv, int gate)
{
	struct sbx_error *err = NULL;
	/* The caller's SIGPIPE must not kill the one who reports. */
	signal(SIGPIPE, SIG_IGN);
	/* Every path is absolute by now; do not pin the caller's directory. */
	if (chdir("/") < 0) {
		sbx_error_set(&err, errno, "chdir /");
		report_ready(sv, err->msg);
		_exit(1);
	}
	for (int i = 0; i < SBX_OCI_HOME_NS; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", home_ns[i].name);
		sv->home[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (join_namespaces(sv->spec, sv->c, &err) < 0 || apply_inherited(sv->spec, &err) < 0) {
		report_ready(sv, err->msg);
		_exit(1);
	}
	struct sbx_result r;
	sbx_result_init(&r);
	/* sbx run's five calls (runtime/sandbox.h), with the start gate and
	 * the ready callback set in between. */
	struct sbx_sandbox sb;
	sbx_sandbox_init(&sb, sv->c, &r);
	sb.start_gate = gate;
	sb.s.on_ready = on_ready;
	sb.s.on_console = on_console;
	sb.s.on_ready_arg = sv;
	if (sbx_sandbox_prepare(&sb) == 0) {
		sv->filter = sb.filter;
		if (sbx_sandbox_launch(&sb) == 0)
			sbx_sandbox_supervise(&sb);
	}
	sbx_sandbox_collect(&sb);
	sbx_sandbox_teardown(&sb);
	close(gate);
	if (sv->ready >= 0) { /* never got to the gate */
		report_ready(sv, r.error ? r.error : "the sandbox ended during setup");
		sbx_result_free(&r);
		_exit(1);
	}
	if (r.error) {
		cleanup_free char *m = sbx_escape(r.error);
		fprintf(stderr, "sbx: %s\n", m);
	}
	char code[16];
	snprintf(code, sizeof(code), "%d\n", r.exit_code);
	cleanup_close int fd =
	    openat(sv->dirfd, "exit", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		(void)!write(fd, code, strlen(code));
	struct sbx_error *herr = NULL;
	sv->st.pid = 0;
	if (sbx_oci_hooks_run(sv->spec, SBX_HOOK_POSTSTOP, &sv->st, "stopped", 0, sv->home, &herr) < 0) {
		fprintf(stderr, "sbx: warning: %s\n", herr->msg);
		sbx_error_free(&herr);
	}
	int status = r.exit_code;
	sbx_result_free(&r);
	_exit(status);
}

/* root.readonly false binds the bundle's rootfs read-write when its files
 * belong to the container (ids shifted as sbx maps them, as sbx-rootfs
 * makes images).  containerd's and podman's image stores hold files of host
 * ids (root's), which the sandbox does not map: its root could write none
 * of them and could not create mount points.  Such a rootfs is mounted
 * read-only, under sbx's overlay of mount points, with a warning. */
static int shared_rootfs(struct sbx_config *c, const struct sbx_oci_global *g)
{
	struct stat st;
	if (stat(c->rootfs, &st) < 0)
		return -1;
	uid_t owner = c->rootless ? getuid() : c->idmap_host_base;
	if (st.st_uid == owner)
		return 0;
	c->writable_rootfs = false;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "root.readonly false: %s belongs to host uid %u, not to the container's root (host uid %u): "
		 "mounted "
		 "read-only",
		 c->rootfs, (unsigned)st.st_uid, (unsigned)owner);
	sbx_oci_log(g, "warning", msg);
	return 0;
}

/* Parse, check and register; fork the supervisor; wait for pid 1 at the
 * gate.  *supervisor gets its pid. */
static int create(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_create_opts *o,
		  pid_t *supervisor, struct sbx_error **err)
{
	if (sbx_oci_check_id(id, err) < 0)
		return -1;
	cleanup_free char *console = NULL;
	if (o->console_socket && (console = realpath(o->console_socket, NULL)) == NULL)
		return sbx_error_set(err, errno, "--console-socket %s", o->console_socket);
	cleanup_free char *bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (bundle == NULL)
		return sbx_error_set(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	struct sbx_config c;
	struct sbx_oci_spec spec = {0};
	sbx_config_init(&c);
	int rc = -1;
	int rootfd = -1, lock = -1, dirfd = -1, gate = -1, pipefd[2] = {-1, -1};
	bool registered = false;
	struct supervisor sv = {.g = g, .id = id, .c = &c, .spec = &spec, .ready = -1};
	if (sbx_oci_spec_load(bundle, &c, &spec, err) < 0 || sbx_config_validate(&c, err) < 0)
		goto out;
	/* runc's rule: a terminal needs the socket to send it to, and the
	 * socket is for a terminal only. */
	if (c.terminal != (console != NULL)) {
		sbx_error_set(err, 0,
			      c.terminal ? "process.terminal is true: --console-socket is required"
					 : "--console-socket is only for process.terminal true");
		goto out;
	}
	sv.console_socket = console;
	for (size_t i = 0; i < spec.n_warnings; i++)
		sbx_oci_log(g, "warning", spec.warnings[i]);
	if (c.writable_rootfs && shared_rootfs(&c, g) < 0) {
		sbx_error_set(err, errno, "root.path %s", c.rootfs);
		goto out;
	}
	/* Rootless with no delegated cgroup: as runc, a spec that asks for no
	 * limit runs without a cgroup (sbx's rlimit fallback still bounds it);
	 * one that asks for limits fails, saying how to delegate. */
	if (c.rootless && !spec.limits_set)
		c.allow_no_cgroup = true;
	/* Rootless, only the container's own namespaces' sysctls can be
	 * written (from inside its user namespace). */
	if (c.rootless && spec.n_sysctls > 0 && spec.netns_path != NULL) {
		sbx_error_set(err, 0, "linux.sysctl: not supported rootless with a network namespace joined by path");
		goto out;
	}

	lock = sbx_oci_lock(g->root, true, &rootfd, err);
	if (lock < 0)
		goto out;
	if (mkdirat(rootfd, id, 0700) < 0) {
		sbx_error_set(err, errno,
			      errno == EEXIST ? "container %s already exists" : "creating the state of %s",
			      id);
		goto out;
	}
	registered = true;
	dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		sbx_error_set(err, errno, "opening the state of %s", id);
		goto out;
	}
	sv.dirfd = dirfd;
	sv.st = (struct sbx_oci_state){.id = (char *)id,
				       .bundle = bundle,
				       .created = now_rfc3339(),
				       .annotations = spec.annotations,
				       .pid = getpid(),
				       .pid_start = sbx_oci_proc_start(getpid())};
	/* "creating" while this process lives; the supervisor rewrites it. */
	if (sbx_oci_state_write(dirfd, &sv.st, err) < 0)
		goto out_created;
	/* Owned by the container's root, whose pid 1 opens it for writing. */
	if (mkfifoat(dirfd, "exec.fifo", 0600) < 0 ||
	    fchownat(dirfd, "exec.fifo", c.rootless ? getuid() : c.idmap_host_base,
		     c.rootless ? getgid() : c.idmap_host_base, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dirfd, "exec.fifo", 0600, 0) < 0) {
		sbx_error_set(err, errno, "creating %s/exec.fifo", id);
		goto out_created;
	}
	gate = openat(dirfd, "exec.fifo", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (gate < 0) {
		sbx_error_set(err, errno, "opening %s/exec.fifo", id);
		goto out_created;
	}
	if (spec.seccomp_yaml) {
		cleanup_free char *path = NULL;
		if (asprintf(&path, "%s/%s/seccomp.yaml", g->root, id) < 0)
			abort();
		cleanup_close int fd =
		    openat(dirfd, "seccomp.yaml", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		size_t len = strlen(spec.seccomp_yaml);
		if (fd < 0 || write(fd, spec.seccomp_yaml, len) != (ssize_t)len) {
			sbx_error_set(err, errno, "writing %s", path);
			goto out_created;
		}
		sbx_config_set_string(&c.seccomp, path);
	}
	close(lock);
	lock = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		sbx_error_set(err, errno, "creating a pipe");
		goto out_created;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		sbx_error_set(err, errno, "forking the supervisor");
		goto out_created;
	}
	if (pid == 0) {
		close(pipefd[0]);
		close(rootfd);
		sv.ready = pipefd[1];
		supervisor_main(&sv, gate);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	char msg[1024];
	size_t got = 0;
	for (;;) {
		ssize_t n = read(pipefd[0], msg + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == sizeof(msg) - 1)
			break;
	}
	msg[got] = '\0';
	if (got == 1 && msg[0] == 'K') {
		*supervisor = pid;
		rc = 0;
		goto out_created;
	}
	/* Setup failed: the supervisor has torn down (cgroup included). */
	waitpid(pid, NULL, 0);
	sbx_error_set(err, 0, "%s", got ? msg : "the supervisor ended before the sandbox was ready");
out_created:
	if (rc < 0 && registered) {
		struct sbx_error *e2 = NULL;
		if (sbx_oci_state_remove(rootfd, id, &e2) < 0)
			sbx_error_free(&e2);
	}
out:
	free(sv.st.created);
	free(sv.console_error);
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	if (gate >= 0)
		close(gate);
	if (dirfd >= 0)
		close(dirfd);
	if (lock >= 0)
		close(lock);
	if (rootfd >= 0)
		close(rootfd);
	sbx_oci_spec_free(&spec);
	sbx_config_free(&c);
	return rc;
}

int sbx_oci_create(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_create_opts *o,
		   struct sbx_error **err)
{
	pid_t pid;
	if (create(g, id, o, &pid, err) < 0)
		return -1;
	if (o->pid_file) {
		char text[32];
		snprintf(text, sizeof(text), "%d", pid);
		if (write_file_atomic(o->pid_file, text, err) < 0) {
			struct sbx_error *e2 = NULL;
			if (sbx_oci_delete(g, id, true, &e2) < 0)
				sbx_error_free(&e2);
			return -1;
		}
	}
	return 0;
}

/* ---- start, state, kill, delete ------------------------------------------ */

struct locked {
	int lock, rootfd;
	struct sbx_oci_state st;
	enum sbx_oci_status status;
};

static int open_container(const struct sbx_oci_global *g, const char *id, bool exclusive, struct locked *l,
			  struct sbx_error **err)
{
	*l = (struct locked){.lock = -1, .rootfd = -1};
	if (sbx_oci_check_id(id, err) < 0)
		return -1;
	/* A missing root means no container: do not create it to say so. */
	struct stat sb;
	if (stat(g->root, &sb) < 0 && errno == ENOENT)
		return sbx_error_set(err, ENOENT, "container %s does not exist", id);
	l->lock = sbx_oci_lock(g->root, exclusive, &l->rootfd, err);
	if (l->lock < 0)
		return -1;
	if (sbx_oci_state_read(l->rootfd, id, &l->st, err) < 0) {
		close(l->lock);
		close(l->rootfd);
		l->lock = l->rootfd = -1;
		return -1;
	}
	l->status = sbx_oci_status(l->rootfd, &l->st);
	return 0;
}

static void close_container(struct locked *l)
{
	sbx_oci_state_free(&l->st);
	if (l->lock >= 0)
		close(l->lock);
	if (l->rootfd >= 0)
		close(l->rootfd);
}

/* hooks.startContainer, read again from the bundle: in the container, as
 * its process (ids, filter), while pid 1 still waits at the gate. */
static int start_container_hooks(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_state *st,
				 struct sbx_error **err)
{
	struct sbx_config c;
	struct sbx_oci_spec s = {0};
	struct sbx_seccomp *filter = NULL;
	sbx_config_init(&c);
	int r = sbx_oci_spec_load(st->bundle, &c, &s, err);
	c.rootless = sbx_idmap_rootless();
	if (r == 0 && s.n_hooks[SBX_HOOK_START_CONTAINER] > 0)
		r = sbx_oci_container_filter(g->root, id, &filter, err);
	if (r == 0)
		r = sbx_oci_hooks_run_inside(&s, SBX_HOOK_START_CONTAINER, &c, filter, st, err);
	sbx_seccomp_free(filter);
	sbx_oci_spec_free(&s);
	sbx_config_free(&c);
	return r;
}

int sbx_oci_start(const struct sbx_oci_global *g, const char *id, struct sbx_error **err)
{
	struct locked l;
	if (open_container(g, id, true, &l, err) < 0)
		return -1;
	int rc = -1;
	cleanup_close int dir = -1, fifo = -1, sup = -1;
	if (l.status != SBX_OCI_CREATED) {
		sbx_error_set(err, 0, "cannot start a container that is %s", sbx_oci_status_names[l.status]);
		goto out;
	}
	if (start_container_hooks(g, id, &l.st, err) < 0) {
		/* runtime-spec: a failed startContainer hook stops the
		 * container; its pid 1, still at the gate, takes all with it. */
		cleanup_close int init = sbx_oci_pidfd(l.st.init_pid, l.st.init_start);
		if (init >= 0)
			pidfd_signal(init, SIGKILL);
		goto out;
	}
	/* The supervisor's pidfd before the FIFO: our open lets pid 1 go on,
	 * and a process that exits at once takes the supervisor with it
	 * before a pidfd taken after the open could name it. */
	sup = sbx_oci_pidfd(l.st.pid, l.st.pid_start);
	if (sup < 0) {
		sbx_error_set(err, errno, "container %s: its supervisor (pid %d) is gone", id, (int)l.st.pid);
		goto out;
	}
	dir = openat(l.rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	fifo = dir < 0 ? -1 : openat(dir, "exec.fifo", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fifo < 0) {
		sbx_error_set(err, errno, "opening the start FIFO of %s", id);
		goto out;
	}
	SBX_FAULT_SLOW("start_fifo_opened");
	/* pid 1 writes one byte once our open let its own open through;
	 * give up if the supervisor dies meanwhile. */
	struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = sup, .events = POLLIN}};
	int n;
	do
		n = poll(p, 2, START_WAIT_MS);
	while (n < 0 && errno == EINTR);
	char b;
	if (n <= 0 || !(p[0].revents & POLLIN) || read(fifo, &b, 1) != 1) {
		sbx_error_set(err, n < 0 ? errno : 0,
			      "container %s did not start (its pid 1 is gone or stuck)", id);
		goto out;
	}
	if (unlinkat(dir, "exec.fifo", 0) < 0) {
		sbx_error_set(err, errno, "removing %s/exec.fifo", id);
		goto out;
	}
	rc = 0;
	/* poststart runs once the workload is on its way; a failure is
	 * logged, the container keeps running (runtime-spec). */
	struct sbx_error *herr = NULL;
	if (sbx_oci_hooks_run_bundle(l.st.bundle, SBX_HOOK_POSTSTART, &l.st, "running", l.st.init_pid,
				     &herr) < 0) {
		sbx_oci_log(g, "warning", herr->msg);
		sbx_error_free(&herr);
	}
out:
	close_container(&l);
	return rc;
}

int sbx_oci_state_print(const struct sbx_oci_global *g, const char *id, struct sbx_error **err)
{
	struct locked l;
	if (open_container(g, id, false, &l, err) < 0)
		return -1;
	cleanup_free char *rootfs = NULL;
	if (asprintf(&rootfs, "%s/rootfs", l.st.bundle) < 0)
		abort();
	json_error_t je;
	json_t *ann = json_loads(l.st.annotations, 0, &je);
	bool live = l.status == SBX_OCI_CREATED || l.status == SBX_OCI_RUNNING;
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "ociVersion", "1.1.0", "id",
			      id, "pid", (json_int_t)(live ? l.st.pid : 0), "status",
			      sbx_oci_status_names[l.status], "bundle", l.st.bundle, "rootfs", rootfs,
			      "created", l.st.created, "owner", "", "annotations", ann ? ann : json_object());
	cleanup_free char *text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	close_container(&l);
	if (text == NULL)
		abort();
	printf("%s\n", text);
	return 0;
}

int sbx_oci_kill(const struct sbx_oci_global *g, const char *id, int sig, bool all, struct sbx_error **err)
{
	struct locked l;
	if (open_container(g, id, false, &l, err) < 0)
		return -1;
	int rc = -1;
	cleanup_close int init = -1;
	if (l.status != SBX_OCI_CREATED && l.status != SBX_OCI_RUNNING) {
		sbx_error_set(err, 0, "container %s is not running (%s)", id, sbx_oci_status_names[l.status]);
		goto out;
	}
	init = sbx_oci_pidfd(l.st.init_pid, l.st.init_start);
	if (init < 0) {
		sbx_error_set(err, ESRCH, "container %s: its pid 1 is gone", id);
		goto out;
	}
	/* Before start, pid 1 waits at the gate with no handler: as the
	 * namespace's init it would ignore every signal but SIGKILL.  Nothing
	 * runs yet, so any signal ends the container.  --all with SIGKILL is
	 * the same as without: pid 1's death ends every process inside. */
	if (l.status == SBX_OCI_CREATED && sig != 0)
		sig = SIGKILL;
	(void)all;
	if (pidfd_signal(init, sig) < 0) {
		sbx_error_set(err, errno, "signalling container %s", id);
		goto out;
	}
	rc = 0;
out:
	close_container(&l);
	return rc;
}

int sbx_oci_delete(const struct sbx_oci_global *g, const char *id, bool force, struct sbx_error **err)
{
	struct locked l;
	if (open_container(g, id, true, &l, err) < 0) {
		/* runc: deleting what does not exist is fine with --force. */
		if (force && *err && (*err)->errno_ == ENOENT) {
			sbx_error_free(err);
			return 0;
		}
		return -1;
	}
	int rc = -1;
	cleanup_close int sup = -1;
	if (l.status == SBX_OCI_RUNNING && !force) {
		sbx_error_set(err, 0, "cannot delete container %s that is running (use --force)", id);
		goto out;
	}
	if (l.status == SBX_OCI_CREATING && !force) {
		sbx_error_set(err, 0, "cannot delete container %s that is being created (use --force)", id);
		goto out;
	}
	sup = sbx_oci_pidfd(l.st.pid, l.st.pid_start);
	if (sup >= 0) {
		cleanup_close int init = sbx_oci_pidfd(l.st.init_pid, l.st.init_start);
		if (init >= 0)
			pidfd_signal(init, SIGKILL);
		else if (l.status == SBX_OCI_CREATING)
			pidfd_signal(sup, SIGKILL);
		/* The supervisor removes the cgroup and exits: wait for it, so
		 * nothing is left once delete returns. */
		if (!wait_exit(sup, DELETE_WAIT_MS)) {
			sbx_error_set(err, ETIMEDOUT, "container %s: its supervisor (pid %d) did not exit",
				      id, l.st.pid);
			goto out;
		}
	}
	if (sbx_oci_state_remove(l.rootfd, id, err) < 0)
		goto out;
	rc = 0;
out:
	close_container(&l);
	return rc;
}

int sbx_oci_run(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_create_opts *o,
		bool keep, struct sbx_error **err)
{
	pid_t pid;
	if (create(g, id, o, &pid, err) < 0)
		return -1;
	if (o->pid_file) {
		char text[32];
		snprintf(text, sizeof(text), "%d", pid);
		if (write_file_atomic(o->pid_file, text, err) < 0)
			goto fail;
	}
	if (sbx_oci_start(g, id, err) < 0)
		goto fail;
	/* The supervisor is our child here: its status is the container's. */
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (!keep) {
		struct sbx_error *e2 = NULL;
		if (sbx_oci_delete(g, id, true, &e2) < 0) {
			sbx_oci_log(g, "warning", e2->msg);
			sbx_error_free(&e2);
		}
	}
	return code;
fail:;
	struct sbx_error *e2 = NULL;
	if (sbx_oci_delete(g, id, true, &e2) < 0)
		sbx_error_free(&e2);
	waitpid(pid, NULL, 0);
	return -1;
}

/* ---- signals and the log ------------------------------------------------- */

int sbx_oci_parse_signal(const char *s, int *sig, struct sbx_error **err)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && *end == '\0') {
		if (n < 0 || n >= NSIG)
			return sbx_error_set(err, 0, "invalid signal %s", s);
		*sig = (int)n;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && strcasecmp(abbrev, name) == 0) {
			*sig = i;
			return 0;
		}
	}
	return sbx_error_set(err, 0, "unknown signal %s", s);
}

void sbx_oci_log(const struct sbx_oci_global *g, const char *level, const char *msg)
{
	/* Without a log file, warnings would land in the container's output
	 * (clients pass their stdio through): on stderr only with --debug. */
	if (g->log == NULL && !g->debug && strcmp(level, "error") != 0)
		return;
	cleanup_free char *now = now_rfc3339();
	FILE *f = stderr;
	FILE *opened = NULL;
	if (g->log) {
		int fd = open(g->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			opened = f = fdopen(fd, "a");
		if (opened == NULL) {
			if (fd >= 0)
				close(fd);
			f = stderr;
		}
	}
	if (g->log_json && opened) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (t)
			fprintf(f, "%s\n", t);
		free(t);
		json_decref(o);
	} else if (opened) {
		fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", now, level, msg);
	} else {
		/* Messages can carry names from a bundle: escaped on a terminal. */
		cleanup_free char *m = sbx_escape(msg);
		fprintf(f, "sbx: %s%s%s\n", strcmp(level, "error") ? level : "",
			strcmp(level, "error") ? ": " : "", m);
	}
	if (opened)
		fclose(opened);
	/* runc also prints errors on stderr when they go to a log: clients
	 * (podman) show the runtime's stderr. */
	if (opened && strcmp(level, "error") == 0) {
		cleanup_free char *m = sbx_escape(msg);
		fprintf(stderr, "sbx: %s\n", m);
	}
}
