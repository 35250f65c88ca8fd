#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "lib/cleanup.h"
#include "runtime/config.h"

static char *state_json(const struct sbx_oci_state *st, const char *status, pid_t pid)
{
	json_error_t je;
	json_t *ann = json_loads(st->annotations ? st->annotations : "{}", 0, &je);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "ociVersion", "1.1.0", "id", st->id, "status", status,
		      "pid", (json_int_t)pid, "bundle", st->bundle, "annotations", ann ? ann : json_object());
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		abort();
	return text;
}

/* Give the hook the state on stdin (`in`, the pipe's write end, closed
 * here), then wait for it (`pid`) within its timeout.  At the timeout,
 * `victim` (a pidfd), or else `pid`, is killed. */
static int feed_and_wait(pid_t pid, int in, const struct sbx_oci_hook *h, const char *where, const char *state,
			 int victim, struct sbx_error **err)
{
	/* The state is small; a hook that does not read it gets EPIPE, which
	 * is its business (SIGPIPE is ignored by sbx). */
	size_t len = strlen(state);
	(void)!write(in, state, len);
	close(in);
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int n;
		do
			n = poll(&p, 1, h->timeout > 0 ? h->timeout * 1000 : -1);
		while (n < 0 && errno == EINTR);
		close(pfd);
		if (n == 0) {
			if (victim < 0 || syscall(SYS_pidfd_send_signal, victim, SIGKILL, NULL, 0) < 0)
				kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return sbx_error_set(err, ETIMEDOUT, "%s (%s): timed out after %d s", where, h->path,
					     h->timeout);
		}
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sbx_error_set(err, errno, "%s (%s): waiting", where, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return sbx_error_set(err, 0, "%s (%s): killed by signal %d", where, h->path,
				     WTERMSIG(status));
	return sbx_error_set(err, 0, "%s (%s): exited with status %d", where, h->path, WEXITSTATUS(status));
}

static char *const *hook_argv(const struct sbx_oci_hook *h, char **dflt)
{
	dflt[0] = h->path;
	dflt[1] = NULL;
	return h->args && h->args[0] ? h->args : dflt;
}

static int run_one(const struct sbx_oci_hook *h, const char *where, const char *state, const int *home,
		   struct sbx_error **err)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "%s: pipe", where);
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return sbx_error_set(err, errno, "%s: fork", where);
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		/* Back in the runtime's namespaces (the supervisor joined the
		 * container's or given ones): these hooks run on the host. */
		for (int i = 0; home && i < SBX_OCI_HOME_NS; i++)
			if (home[i] >= 0 && setns(home[i], 0) < 0)
				_exit(126);
		char *dflt[2];
		char *const noenv[] = {NULL};
		execve(h->path, hook_argv(h, dflt), h->env ? h->env : noenv);
		_exit(127);
	}
	close(in[0]);
	return feed_and_wait(pid, in[1], h, where, state, -1, err);
}

/* A hook inside the container: createContainer's file is opened here, in
 * the runtime's mount namespace (runtime-spec: its path resolves there),
 * and run by that descriptor; startContainer's path resolves in the
 * container.  Either way the process is exec's (exec.h): the container's
 * namespaces and cgroups, process.user's ids, no capability,
 * no_new_privs, the container's seccomp filter. */
static int run_inside(const struct sbx_oci_hook *h, const char *where, const char *state, bool host_path,
		      struct sbx_oci_proc *p, const struct sbx_oci_state *st, struct sbx_error **err)
{
	/* O_PATH: a reference, not a read by host root.  The exec (and a
	 * script's interpreter, reopening /dev/fd/N) are checked against the
	 * hook process's own ids in the container. */
	cleanup_close int fd = -1;
	if (host_path && (fd = open(h->path, O_PATH | O_CLOEXEC)) < 0)
		return sbx_error_set(err, errno, "%s: opening %s", where, h->path);
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "%s: pipe", where);
	char *dflt[2];
	p->argv = hook_argv(h, dflt);
	p->env = h->env;
	p->path = h->path;
	p->exec_fd = fd;
	p->stdin_fd = in[0];
	pid_t pid = sbx_oci_enter(st->init_pid, st->init_start, p, false, err);
	close(in[0]);
	if (pid < 0) {
		close(in[1]);
		return sbx_error_wrap(err, "%s (%s)", where, h->path);
	}
	/* At the timeout the container's pid 1 is killed, not the helper: the
	 * hook dies with the pid namespace and the helper reaps it.  Killing
	 * the helper would orphan the hook to a reaper outside the namespace
	 * (its parent is outside), and pid 1 could not finish exiting until
	 * that one reaps it.  A failed hook ends the container anyway. */
	cleanup_close int init = sbx_oci_pidfd(st->init_pid, st->init_start);
	return feed_and_wait(pid, in[1], h, where, state, init, err);
}

int sbx_oci_hooks_run_inside(const struct sbx_oci_spec *s, enum sbx_oci_hook_kind kind, const struct sbx_config *c,
			     const struct sbx_seccomp *filter, const struct sbx_oci_state *st,
			     struct sbx_error **err)
{
	if (s->n_hooks[kind] == 0)
		return 0;
	/* runtime-spec: in hooks run in the container's namespaces, pid is
	 * the container process's pid as the container sees it; create has
	 * not finished while createContainer runs (runc says so too). */
	cleanup_free char *state =
	    state_json(st, kind == SBX_HOOK_CREATE_CONTAINER ? "creating" : "created", 1);
	struct sbx_oci_proc p = {.c = c, .s = s, .filter = filter, .cwd = "/", .console_sock = -1};
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		char where[64];
		snprintf(where, sizeof(where), "hooks.%s[%zu]", sbx_oci_hook_names[kind], i);
		if (run_inside(&s->hooks[kind][i], where, state, kind == SBX_HOOK_CREATE_CONTAINER, &p, st,
			       err) < 0)
			return -1;
	}
	return 0;
}

int sbx_oci_hooks_run(const struct sbx_oci_spec *s, enum sbx_oci_hook_kind kind,
		      const struct sbx_oci_state *st, const char *status, pid_t pid, const int *home,
		      struct sbx_error **err)
{
	if (s->n_hooks[kind] == 0)
		return 0;
	cleanup_free char *state = state_json(st, status, pid);
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		char where[64];
		snprintf(where, sizeof(where), "hooks.%s[%zu]", sbx_oci_hook_names[kind], i);
		if (run_one(&s->hooks[kind][i], where, state, home, err) < 0)
			return -1;
	}
	return 0;
}

int sbx_oci_hooks_run_bundle(const char *bundle, enum sbx_oci_hook_kind kind, const struct sbx_oci_state *st,
			     const char *status, pid_t pid, struct sbx_error **err)
{
	struct sbx_config c;
	struct sbx_oci_spec s = {0};
	sbx_config_init(&c);
	int r = sbx_oci_spec_load(bundle, &c, &s, err);
	if (r == 0)
		r = sbx_oci_hooks_run(&s, kind, st, status, pid, NULL, err);
	sbx_oci_spec_free(&s);
	sbx_config_free(&c);
	return r;
}
