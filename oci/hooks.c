#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "runtime/config.h"

int sbx_oci_hooks_check(const struct sbx_oci_spec *s, struct sbx_error **err)
{
	for (int k = SBX_HOOK_CREATE_CONTAINER; k <= SBX_HOOK_START_CONTAINER; k++)
		if (s->n_hooks[k] > 0)
			return sbx_error_set(
			    err, 0,
			    "config.json: hooks.%s: hooks run inside the container are not supported by sbx",
			    sbx_oci_hook_names[k]);
	return 0;
}

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

static int run_one(const struct sbx_oci_hook *h, const char *where, const char *state, struct sbx_error **err)
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
		char *const dflt[] = {h->path, NULL};
		char *const noenv[] = {NULL};
		execve(h->path, h->args && h->args[0] ? h->args : dflt, h->env ? h->env : noenv);
		_exit(127);
	}
	close(in[0]);
	/* The state is small; a hook that does not read it gets EPIPE, which
	 * is its business (SIGPIPE is ignored by sbx). */
	size_t len = strlen(state);
	(void)!write(in[1], state, len);
	close(in[1]);
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int n;
		do
			n = poll(&p, 1, h->timeout > 0 ? h->timeout * 1000 : -1);
		while (n < 0 && errno == EINTR);
		close(pfd);
		if (n == 0) {
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

int sbx_oci_hooks_run(const struct sbx_oci_spec *s, enum sbx_oci_hook_kind kind,
		      const struct sbx_oci_state *st, const char *status, pid_t pid, struct sbx_error **err)
{
	if (s->n_hooks[kind] == 0)
		return 0;
	cleanup_free char *state = state_json(st, status, pid);
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		char where[64];
		snprintf(where, sizeof(where), "hooks.%s[%zu]", sbx_oci_hook_names[kind], i);
		if (run_one(&s->hooks[kind][i], where, state, err) < 0)
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
		r = sbx_oci_hooks_run(&s, kind, st, status, pid, err);
	sbx_oci_spec_free(&s);
	sbx_config_free(&c);
	return r;
}
