#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "lib/cleanup.h"
#include "runtime/caps.h"
#include "runtime/config.h"
#include "runtime/idmap.h"
#include "runtime/init.h"
#include "seccomp/seccomp.h"
#include "spec.h"
#include "state.h"

/* The namespaces to enter, in this order: those a host-root caller may join
 * from its own user namespace first (a network namespace podman made is
 * owned by the host's user namespace: it could not be entered from the
 * sandbox's), mount last but one (it changes our root), user last (after
 * it, host-owned namespaces are out of reach). */
static const struct {
	const char *name;
	int flag;
} ns_order[] = {
    {"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},   {"cgroup", CLONE_NEWCGROUP},
    {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},  {"user", CLONE_NEWUSER},
};
#define N_NS (sizeof(ns_order) / sizeof(*ns_order))

static int read_text(const char *path, char *buf, size_t size)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The process to run: the bundle's process, changed by the flags, or an
 * OCI process object given whole (--process), read by the same parser as
 * config.json. */
static int load_process(const struct sbx_oci_state *st, const struct sbx_oci_exec_opts *o,
			struct sbx_config *c, struct sbx_oci_spec *s, struct sbx_error **err)
{
	if (o->process) {
		struct stat sb;
		cleanup_close int fd = open(o->process, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sb) < 0)
			return sbx_error_set(err, errno, "--process %s", o->process);
		if (sb.st_size > (1 << 20))
			return sbx_error_set(err, 0, "--process %s is larger than 1 MiB", o->process);
		size_t len = (size_t)sb.st_size;
		cleanup_free char *text = malloc(len + 64);
		if (text == NULL)
			abort();
		int head = sprintf(text, "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/\"},\"process\":");
		if (head < 0 || read(fd, text + head, len) != (ssize_t)len)
			return sbx_error_set(err, errno, "reading --process %s", o->process);
		text[(size_t)head + len] = '}';
		if (sbx_oci_spec_parse(text, (size_t)head + len + 1, st->bundle, c, s, err) < 0)
			return sbx_error_wrap(err, "--process %s", o->process);
		return 0;
	}
	if (sbx_oci_spec_load(st->bundle, c, s, err) < 0)
		return sbx_error_wrap(err, "reading the container's process from its bundle");
	if (o->argv && o->argv[0]) {
		for (size_t i = 0; c->argv && c->argv[i]; i++)
			free(c->argv[i]);
		free(c->argv);
		size_t n = 0;
		while (o->argv[n])
			n++;
		c->argv = calloc(n + 1, sizeof(char *));
		if (c->argv == NULL)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((c->argv[i] = strdup(o->argv[i])) == NULL)
				abort();
	} else {
		return sbx_error_set(err, 0,
				     "no command given (sbx exec ID COMMAND [ARG...] or --process FILE)");
	}
	if (o->cwd) {
		if (o->cwd[0] != '/')
			return sbx_error_set(err, 0, "--cwd %s is not an absolute path", o->cwd);
		sbx_config_set_string(&c->workdir, o->cwd);
	}
	for (size_t i = 0; i < o->n_env; i++)
		if (sbx_config_add_env_spec(c, o->env[i], err) < 0)
			return sbx_error_wrap(err, "--env");
	if (o->user && sbx_config_set_user(c, o->user, err) < 0)
		return sbx_error_wrap(err, "--user");
	return 0;
}

/* The container's cgroups: pid 1's, read from the host, in every hierarchy
 * where they differ from the helper's own (a container without a cgroup of
 * its own has pid 1 where its supervisor is; there is nothing to join).
 * They are whatever cgroupsPath named, not only sbx's own sbx-PID-* names:
 * a process exec'd into a podman container (/libpod_parent/libpod-ID) is
 * bound by the container's limits as its pid 1 is.  pid 1 cannot choose its
 * cgroup (the host's cgroupfs is not writable from the sandbox), so the path
 * is the runtime's.  The helper writes "0" (itself) to each cgroup.procs
 * before it forks the process. */
static int join_cgroups(pid_t pid1, struct sbx_error **err)
{
	char path[64], buf[8192], own[8192];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid1);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return sbx_error_set(err, errno, "reading %s", path);
	if (read_text("/proc/self/cgroup", own, sizeof(own)) < 0)
		return sbx_error_set(err, errno, "reading /proc/self/cgroup");
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* "ID:CONTROLLERS:PATH", the same line among ours: already there */
		size_t len = strlen(line);
		for (const char *o = own; (o = strstr(o, line)) != NULL; o++)
			if ((o == own || o[-1] == '\n') && (o[len] == '\n' || o[len] == '\0'))
				goto next;
		char *ctrls = strchr(line, ':');
		char *cg = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (cg == NULL)
			continue;
		*cg++ = '\0';
		ctrls++;
		if (cg[0] != '/' || strstr(cg, "/..") != NULL)
			continue;
		if (strncmp(ctrls, "name=", 5) == 0)
			ctrls += 5;
		const char *mounts[3];
		size_t n = 0;
		if (*ctrls) {
			mounts[n++] = ctrls;
		} else {
			mounts[n++] = "unified";
			mounts[n++] = "";
		}
		for (size_t i = 0; i < n; i++) {
			char procs[4096];
			snprintf(procs, sizeof(procs), "/sys/fs/cgroup/%s%s/cgroup.procs", mounts[i], cg);
			cleanup_close int fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (write(fd, "0", 1) != 1)
				return sbx_error_set(err, errno, "joining the container's cgroup %s", procs);
			break;
		}
next:;
	}
	return 0;
}

static __attribute__((noreturn)) void die(const char *what, struct sbx_error *err)
{
	fprintf(stderr, "sbx: in the container: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
	_exit(125);
}

/* The process, pid N in the sandbox: confined as the workload is
 * (runtime/workload.c, same order), then exec. */
static __attribute__((noreturn)) void process_main(const struct sbx_oci_proc *p, int tty)
{
	const struct sbx_config *c = p->c;
	const struct sbx_oci_spec *s = p->s;
	struct sbx_error *err = NULL;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		die("setsid", NULL);
	/* The terminal: controlling terminal of the new session, and stdio. */
	if (tty >= 0 && (ioctl(tty, TIOCSCTTY, 0) < 0 || dup2(tty, 0) < 0 || dup2(tty, 1) < 0 ||
			 dup2(tty, 2) < 0 || (tty > 2 && close(tty) < 0)))
		die("the terminal", NULL);
	/* Bounding set and locked securebits while CAP_SETPCAP is ours. */
	if (sbx_caps_drop_bounding(false, &err) < 0)
		die("dropping capabilities", err);
	if (!c->rootless && setgroups(0, NULL) < 0)
		die("setgroups", NULL);
	if (setresgid(c->gid, c->gid, c->gid) < 0 || setresuid(c->uid, c->uid, c->uid) < 0)
		die("switching user", NULL);
	if (sbx_caps_clear(false, false, &err) < 0)
		die("clearing capabilities", err);
	for (size_t i = 0; i < s->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0)
			die("process.rlimits", NULL);
	}
	if (s->umask_set)
		umask(s->umask);
	if (chdir(p->cwd) < 0) {
		fprintf(stderr, "sbx: in the container: cwd %s: %s\n", p->cwd, strerror(errno));
		_exit(125);
	}
	if (p->stdin_fd >= 0 && dup2(p->stdin_fd, STDIN_FILENO) < 0)
		die("stdin", NULL);
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die("close_range", NULL);
	/* A script run by its descriptor is read by its interpreter through
	 * /dev/fd/N: that one descriptor stays open across the exec. */
	if (p->exec_fd >= 0 && fcntl(p->exec_fd, F_SETFD, 0) < 0)
		die("exec descriptor", NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("PR_SET_NO_NEW_PRIVS", NULL);
	int listener = -1;
	if (p->filter && sbx_seccomp_load(p->filter, &listener, &err) < 0)
		die("loading the seccomp filter", err);
	if (listener >= 0)
		close(listener);
	char *const *env = p->env ? p->env : (char *const[]){NULL};
	const char *what = p->path ? p->path : p->argv[0];
	if (p->exec_fd >= 0) {
		execveat(p->exec_fd, "", p->argv, env, AT_EMPTY_PATH);
	} else if (p->path) {
		execve(p->path, p->argv, env);
	} else {
		/* execvp searches the PATH of the environment we give it. */
		extern char **environ;
		environ = (char **)env;
		execvp(p->argv[0], p->argv);
	}
	int e = errno;
	fprintf(stderr, "sbx: in the container: %s: %s\n", what, strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* exec --tty, in the container's namespaces: a pty of its own devpts (as
 * for its process, runtime/contain.c), the master sent to the client and
 * not kept, the slave returned for the process. */
static int open_terminal(int sock, struct sbx_error **err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return sbx_error_set(err, errno, "opening the container's /dev/ptmx");
	int unlock = 0, slave;
	/* TIOCGPTPEER: the slave from the master, not by a name. */
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return sbx_error_set(err, errno, "opening the pty's slave");
	int r = sbx_oci_console_send(sock, master, err);
	close(sock);
	if (r < 0) {
		close(slave);
		return -1;
	}
	return slave;
}

/* The helper: into the sandbox's cgroups and namespaces, then fork the
 * process into its pid namespace, wait, exit with its status. */
static __attribute__((noreturn)) void helper_main(const struct sbx_oci_proc *p, const int *nsfd, pid_t pid1,
						  bool detached)
{
	struct sbx_error *err = NULL;
	if (!detached)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Its memory is the container's configuration only, but nobody in
	 * the sandbox needs to read it. */
	prctl(PR_SET_DUMPABLE, 0);
	/* A copy of its caller (a supervisor, `sbx start`) that never execs:
	 * keep no descriptor of the caller's open, a pipe's write end above
	 * all (a hook reading its stdin to the end would wait for ever). */
	int keep[N_NS + 6] = {0, 1, 2, p->exec_fd, p->stdin_fd, p->console_sock};
	for (size_t i = 0; i < N_NS; i++)
		keep[6 + i] = nsfd[i];
	if (sbx_close_all_except(keep, N_NS + 6, &err) < 0)
		die("closing descriptors", err);
	if (join_cgroups(pid1, &err) < 0)
		die("joining the container's cgroups", err);
	for (size_t i = 0; i < N_NS; i++)
		if (nsfd[i] >= 0 && setns(nsfd[i], ns_order[i].flag) < 0) {
			fprintf(stderr, "sbx: in the container: entering the container's %s namespace: %s\n",
				ns_order[i].name, strerror(errno));
			_exit(125);
		}
	for (size_t i = 0; i < N_NS; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	int tty = -1;
	if (p->console_sock >= 0 && (tty = open_terminal(p->console_sock, &err)) < 0)
		die("the terminal", err);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", NULL);
	if (pid == 0)
		process_main(p, tty);
	if (tty >= 0)
		close(tty);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

pid_t sbx_oci_enter(pid_t init_pid, uint64_t init_start, const struct sbx_oci_proc *p, bool detached,
		    struct sbx_error **err)
{
	int nsfd[N_NS];
	pid_t helper = -1;
	for (size_t i = 0; i < N_NS; i++)
		nsfd[i] = -1;
	/* Namespace fds of pid 1, opened while its start time still matches;
	 * those we share already (the host's network, say) are not entered. */
	cleanup_close int pidfd = sbx_oci_pidfd(init_pid, init_start);
	if (pidfd < 0) {
		sbx_error_set(err, ESRCH, "the container's pid 1 (%d) is gone", init_pid);
		goto out;
	}
	for (size_t i = 0; i < N_NS; i++) {
		char theirs[64], ours[64];
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", init_pid, ns_order[i].name);
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", ns_order[i].name);
		struct stat a, b;
		nsfd[i] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (nsfd[i] < 0 || fstat(nsfd[i], &a) < 0) {
			sbx_error_set(err, errno, "opening %s", theirs);
			goto out;
		}
		if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			close(nsfd[i]);
			nsfd[i] = -1;
		}
	}
	if (sbx_oci_proc_start(init_pid) != init_start) {
		sbx_error_set(err, ESRCH, "the container's pid 1 (%d) is gone", init_pid);
		goto out;
	}
	fflush(NULL);
	helper = fork();
	if (helper < 0)
		sbx_error_set(err, errno, "fork");
	else if (helper == 0)
		helper_main(p, nsfd, init_pid, detached);
out:
	for (size_t i = 0; i < N_NS; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	return helper;
}

int sbx_oci_container_filter(const char *root, const char *id, struct sbx_seccomp **filter,
			     struct sbx_error **err)
{
	*filter = NULL;
	char yaml[4096];
	snprintf(yaml, sizeof(yaml), "%s/%s/seccomp.yaml", root, id);
	if (access(yaml, F_OK) == 0 && sbx_seccomp_compile(yaml, filter, err) < 0)
		return -1;
	return 0;
}

int sbx_oci_exec(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_exec_opts *o,
		 struct sbx_error **err)
{
	if (sbx_oci_check_id(id, err) < 0)
		return -1;
	int rootfd = -1;
	int lock = sbx_oci_lock(g->root, false, &rootfd, err);
	if (lock < 0)
		return -1;
	struct sbx_oci_state st;
	int rc = -1;
	struct sbx_config c;
	struct sbx_oci_spec s = {0};
	struct sbx_seccomp *filter = NULL;
	cleanup_close int console = -1;
	sbx_config_init(&c);
	if (sbx_oci_state_read(rootfd, id, &st, err) < 0) {
		close(lock);
		close(rootfd);
		sbx_config_free(&c);
		return -1;
	}
	enum sbx_oci_status status = sbx_oci_status(rootfd, &st);
	if (status != SBX_OCI_RUNNING) {
		sbx_error_set(err, 0, "cannot exec in a container that is %s", sbx_oci_status_names[status]);
		goto out;
	}
	if (load_process(&st, o, &c, &s, err) < 0)
		goto out;
	c.rootless = sbx_idmap_rootless();
	if (!c.rootless && (c.uid >= c.idmap_size || c.gid >= c.idmap_size)) {
		sbx_error_set(err, 0, "user %u:%u is outside the container's id range", c.uid, c.gid);
		goto out;
	}
	/* The container's own filter: the converted profile kept in its state. */
	if (sbx_oci_container_filter(g->root, id, &filter, err) < 0)
		goto out;
	close(lock);
	lock = -1;
	/* runc's rule: a terminal needs the socket, the socket a terminal. */
	bool terminal = o->tty || (o->process && c.terminal);
	if (terminal != (o->console_socket != NULL)) {
		sbx_error_set(err, 0, terminal ? "a terminal needs --console-socket" : "--console-socket is only for a terminal");
		goto out;
	}
	if (terminal && (console = sbx_oci_console_connect(o->console_socket, err)) < 0)
		goto out;
	const struct sbx_oci_proc p = {.c = &c, .s = &s, .filter = filter, .argv = c.argv, .env = c.env,
				       .cwd = c.workdir ? c.workdir : "/", .exec_fd = -1, .stdin_fd = -1,
				       .console_sock = console};
	pid_t helper = sbx_oci_enter(st.init_pid, st.init_start, &p, o->detach, err);
	if (helper < 0) {
		sbx_error_wrap(err, "container %s", id);
		goto out;
	}
	if (o->pid_file) {
		char text[32];
		snprintf(text, sizeof(text), "%d", helper);
		cleanup_free char *tmp = NULL;
		if (asprintf(&tmp, "%s.sbx-tmp", o->pid_file) < 0)
			abort();
		cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
		    rename(tmp, o->pid_file) < 0) {
			sbx_error_set(err, errno, "writing %s", o->pid_file);
			kill(helper, SIGKILL);
			waitpid(helper, NULL, 0);
			goto out;
		}
	}
	if (o->detach) {
		rc = 0;
		goto out;
	}
	int wst;
	while (waitpid(helper, &wst, 0) < 0)
		if (errno != EINTR) {
			sbx_error_set(err, errno, "waiting for the exec'd process");
			goto out;
		}
	rc = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
out:
	sbx_seccomp_free(filter);
	sbx_oci_spec_free(&s);
	sbx_config_free(&c);
	sbx_oci_state_free(&st);
	if (lock >= 0)
		close(lock);
	close(rootfd);
	return rc;
}
