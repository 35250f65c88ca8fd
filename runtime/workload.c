#include "workload.h"

#include <errno.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "lib/clock.h"
#include "seccomp/seccomp.h"
#include "sync.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int sbx_exec_failure_code(int e) { return e == ENOENT || e == ENOTDIR ? 127 : 126; }

/* execvpe() searches the supervisor's PATH; the workload's PATH comes from
 * its configured environment (or the usual default when it sets none). */
static int exec_search(const struct sbx_config *c)
{
	const char *cmd = c->argv[0];
	if (strchr(cmd, '/'))
		return execve(cmd, c->argv, c->env ? c->env : (char *[]){ NULL });
	const char *path = sbx_config_getenv(c, "PATH");
	if (path == NULL)
		path = DEFAULT_PATH;
	int saved = ENOENT;
	char buf[4096];
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", cmd);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, c->argv, c->env ? c->env : (char *[]){ NULL });
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		if (*end == '\0')
			break;
		p = end;
	}
	errno = saved;
	return -1;
}

/* Load the filter and hand its notification listener to the supervisor,
 * which answers (and counts) every denial.  A reporting profile must allow
 * sendmsg unconditionally (sbx_seccomp_compile refuses one that does not):
 * it is the only call between the load and the hand-over, and a denied one
 * would wait for a supervisor that does not hold the listener yet.  The
 * phase measured before the load rides on the same message (one round trip
 * to the supervisor, not two, on the way to execve); without a listener it
 * goes alone. */
static int load_seccomp(const struct sbx_seccomp *filter, int sock, struct sbx_msg *m, struct sbx_error **err)
{
	int listener = -1;
	if (filter != NULL && sbx_seccomp_load(filter, &listener, err) < 0)
		return sbx_error_wrap(err, "loading the seccomp filter");
	m->type = listener >= 0 ? SBX_MSG_SECCOMP_FD : SBX_MSG_PHASES;
	int r = sbx_msg_send(sock, m, listener);
	int e = errno;
	if (listener >= 0)
		close(listener);
	if (r < 0)
		return sbx_error_set(err, e, listener >= 0 ? "handing the seccomp listener to the supervisor"
							   : "reporting the workload's phase");
	return 0;
}

int sbx_wstep_signals(struct sbx_workload *w, struct sbx_error **err)
{
	/* pid 1 blocked everything before the fork; the program gets a clean mask. */
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return sbx_error_set(err, errno, "unblocking signals");
	return 0;
}

/* A new session has no controlling terminal: the workload cannot push input
 * into the caller's terminal with TIOCSTI (CVE-2017-5226). */
int sbx_wstep_setsid(struct sbx_workload *w, struct sbx_error **err)
{
	if (setsid() < 0)
		return sbx_error_set(err, errno, "setsid");
	/* With an OCI terminal, the new session's controlling terminal is the
	 * sandbox's own pty (never the caller's), and it is stdio. */
	if (w->console >= 0) {
		if (ioctl(w->console, TIOCSCTTY, 0) < 0)
			return sbx_error_set(err, errno, "making the pty the controlling terminal");
		for (int fd = 0; fd < 3; fd++)
			if (dup2(w->console, fd) < 0)
				return sbx_error_set(err, errno, "the pty as stdio");
		close(w->console);
	}
	return 0;
}

/* Supplementary groups come from the host; drop them while we may (a
 * rootless run has setgroups denied and keeps the caller's). */
int sbx_wstep_groups(struct sbx_workload *w, struct sbx_error **err)
{
	if (!w->c->rootless && setgroups(0, NULL) < 0)
		return sbx_error_set(err, errno, "setgroups");
	return 0;
}

int sbx_wstep_user(struct sbx_workload *w, struct sbx_error **err)
{
	const struct sbx_config *c = w->c;
	if (setresgid(c->gid, c->gid, c->gid) < 0 || setresuid(c->uid, c->uid, c->uid) < 0)
		return sbx_error_set(err, errno, "switching to user %u:%u", c->uid, c->gid);
	return 0;
}

/* After the uid change (which needs CAP_SETUID/SETGID) nothing is kept. */
int sbx_wstep_caps(struct sbx_workload *w, struct sbx_error **err)
{
	if (w->c->keep_caps) /* warm-pool zygote: see sbx_step_drop_bounding */
		return 0;
	return sbx_caps_clear(false, w->c->build_caps && w->c->uid == 0, err);
}

int sbx_wstep_workdir(struct sbx_workload *w, struct sbx_error **err)
{
	const char *dir = w->c->workdir ? w->c->workdir : "/";
	if (chdir(dir) < 0)
		return sbx_error_set(err, errno, "workdir %s", dir);
	return 0;
}

/* Every descriptor but stdio is closed at execve (the sync socket must live
 * until then to report an exec failure). */
int sbx_wstep_close_fds(struct sbx_workload *w, struct sbx_error **err)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "close_range");
	return 0;
}

/* no_new_privs before seccomp: the kernel requires it for an unprivileged
 * filter, and it stops setuid files regaining privilege. */
int sbx_wstep_no_new_privs(struct sbx_workload *w, struct sbx_error **err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

/* seccomp last: everything before it needs syscalls the filter denies. */
int sbx_wstep_seccomp(struct sbx_workload *w, struct sbx_error **err)
{
	struct sbx_msg m = { .type = SBX_MSG_PHASES };
	m.phase_us[SBX_PHASE_EXEC_PREP] = (sbx_now_ns() - w->start_ns) / 1000;
	return load_seccomp(w->filter, w->sock, &m, err);
}

void sbx_wstep_exec(struct sbx_workload *w)
{
	const struct sbx_config *c = w->c;
	exec_search(c);
	int e = errno;
	struct sbx_msg em = { .type = SBX_MSG_EXEC_ERROR, .err = e };
	snprintf(em.text, sizeof(em.text), "%s: %s: %s", c->argv[0],
		 e == ENOENT ? "command not found in the sandbox" : "cannot execute", strerror(e));
	sbx_msg_send(w->sock, &em, -1);
	_exit(sbx_exec_failure_code(e));
}
