/* One zygote: an ordinary sbx sandbox (sbx_run, every namespace, its own
 * cgroup, read-only rootfs) whose workload is runtime/pool/zygote.py with
 * the capabilities of its user namespace kept, so that it can give each job
 * namespaces and mounts of its own.  A keeper process runs sbx_run for it,
 * so the zygote's cgroup is removed by the keeper even when the server is
 * killed: the zygote sees end-of-file on its control socket and exits. */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "lib/clock.h"
#include "result.h"
#include "sandbox.h"

/* runtime/pool/zygote.py, NUL-terminated (runtime/module.mk makes this
 * object depend on it). */
__asm__(".section .rodata\n"
	".global sbx_zygote_py\n"
	"sbx_zygote_py:\n"
	".incbin \"runtime/pool/zygote.py\"\n"
	".byte 0\n"
	".previous\n");
extern const char sbx_zygote_py[];

static int parse_args(char **args, size_t n, struct sbx_config *c, struct sbx_error **err)
{
	char **argv = calloc(n + 2, sizeof(char *));
	if (argv == NULL)
		abort();
	argv[0] = "run";
	for (size_t i = 0; i < n; i++)
		argv[1 + i] = args[i];
	int r = sbx_cli_parse_run((int)n + 1, argv, c, err);
	free(argv);
	if (r == 1)
		return sbx_error_set(err, EINVAL, "--help is not a job option");
	return r;
}

/* Relative paths of the pool's defaults are the pool's, not the client's. */
static void absolutize(char **path, const char *cwd)
{
	if (*path == NULL || (*path)[0] == '/' || strcmp(*path, "-") == 0)
		return;
	char *a = malloc(strlen(cwd) + strlen(*path) + 2);
	if (a == NULL)
		abort();
	sprintf(a, "%s/%s", cwd, *path);
	free(*path);
	*path = a;
}

int sbx_pool_parse(const struct sbx_pool *p, char **extra, size_t n_extra, int client_cwd,
		   struct sbx_config *c, struct sbx_error **err)
{
	if (parse_args(p->defaults, p->n_defaults, c, err) < 0)
		return sbx_error_wrap(err, "the pool's defaults");
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return sbx_error_set(err, errno, "getcwd");
	absolutize(&c->rootfs, cwd);
	absolutize(&c->out_dir, cwd);
	absolutize(&c->image_config, cwd);
	absolutize(&c->stdout_file, cwd);
	absolutize(&c->stderr_file, cwd);
	if (c->seccomp && strcmp(c->seccomp, "default") != 0 && strcmp(c->seccomp, "unconfined") != 0)
		absolutize(&c->seccomp, cwd);
	for (size_t i = 0; i < c->n_binds; i++)
		absolutize(&c->binds[i].source, cwd);
	if (client_cwd >= 0 && fchdir(client_cwd) < 0)
		return sbx_error_set(err, errno, "entering the client's working directory");
	if (n_extra > 0 && parse_args(extra, n_extra, c, err) < 0)
		return -1;
	return sbx_config_apply_image(c, err);
}

static __attribute__((noreturn)) void keeper(const struct sbx_pool *p, int ctl)
{
	/* Own process group: a terminal's Ctrl-C reaches the server, which
	 * drains; the zygotes stop when it says so. */
	setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The zygote's control socket becomes its fd 0.  Nothing else of the
	 * server's stays open: another zygote's control socket held here
	 * would hide the server's death from that zygote. */
	if (dup2(ctl, 0) < 0 || close_range(3, ~0U, 0) < 0) {
		perror("sbx pool: zygote keeper");
		_exit(125);
	}
	char **extra = calloc(16 + 2 * p->n_mount_points + 64, sizeof(char *));
	if (extra == NULL)
		abort();
	size_t n = 0;
	extra[n++] = "--seccomp";
	extra[n++] = "unconfined"; /* a filter would be inherited by every job */
	extra[n++] = "--user";
	extra[n++] = "0:0";
	extra[n++] = "--tmpfs";
	extra[n++] = "/out:4096"; /* mount point for the jobs' /out */
	for (size_t i = 0; i < p->n_mount_points; i++) {
		char *t = malloc(strlen(p->mount_points[i]) + 8);
		sprintf(t, "%s:4096", p->mount_points[i]);
		extra[n++] = "--tmpfs";
		extra[n++] = t;
	}
	extra[n++] = "--";
	extra[n++] = "python3";
	extra[n++] = "-c";
	extra[n++] = (char *)sbx_zygote_py;
	char recycle[32];
	snprintf(recycle, sizeof(recycle), "sbx-recycle=%u", p->recycle);
	extra[n++] = recycle;
	char *path = NULL;
	if (p->preload_path != NULL && asprintf(&path, "sbx-path=%s", p->preload_path) > 0)
		extra[n++] = path;
	char *mods = p->preload ? strdup(p->preload) : NULL;
	for (char *save = NULL, *m = mods ? strtok_r(mods, ",", &save) : NULL;
	     m && n < 16 + 2 * p->n_mount_points + 63; m = strtok_r(NULL, ",", &save))
		extra[n++] = m;
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	if (sbx_pool_parse(p, extra, n, -1, &c, &err) < 0 || sbx_config_validate(&c, &err) < 0) {
		fprintf(stderr, "sbx pool: zygote %d: %s\n", 0, err->msg);
		_exit(125);
	}
	/* The zygote lives as long as the pool; its output goes to the pool's
	 * stderr; /out and reports are the jobs'. */
	c.keep_caps = true;
	/* The zygote makes each job's user (zygote.py: own_userns), mount,
	 * pid, net, ipc, uts and cgroup namespaces in its user namespace: its
	 * namespace counters cannot be 0.  Every counter of a nested user
	 * namespace is charged to each ancestor too, so the zygote's are left
	 * at the kernel's: with sbx's 8 inotify instances there, all jobs of a
	 * zygote would share 8.  Each job's own user namespace gets the job's
	 * counters (sbx's defaults: no namespace of any kind, 8 inotify
	 * instances), as a cold run's does; jobs' seccomp filters refuse
	 * namespace flags too. */
	for (int i = 0; i < SBX_USERNS_LIMITS; i++)
		c.userns_limits[i] = SBX_UNSET;
	c.limits.timeout = 0;
	free(c.report), c.report = NULL;
	free(c.stdout_file), c.stdout_file = NULL;
	free(c.stderr_file), c.stderr_file = NULL;
	free(c.out_dir), c.out_dir = NULL;
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(125);
	struct sbx_result r;
	sbx_result_init(&r);
	/* sbx_run's steps, with one more between launch and supervise: the
	 * keeper lets go of the control socket the zygote inherited, so that
	 * the zygote's death closes it at once and the server stops sending
	 * it jobs before the keeper has even reaped it. */
	struct sbx_sandbox sb;
	sbx_sandbox_init(&sb, &c, &r);
	if (sbx_sandbox_prepare(&sb) == 0 && sbx_sandbox_launch(&sb) == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0 && null != STDIN_FILENO) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		sbx_sandbox_supervise(&sb);
	}
	sbx_sandbox_collect(&sb);
	sbx_sandbox_teardown(&sb);
	if (r.error)
		fprintf(stderr, "sbx pool: zygote: %s\n", r.error);
	_exit(r.exit_code);
}

int sbx_zygote_start(const struct sbx_pool *p, struct sbx_zygote *z, struct sbx_error **err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_error_set(err, errno, "zygote %d: socketpair", z->index);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return sbx_error_set(err, e, "zygote %d: fork", z->index);
	}
	if (pid == 0)
		keeper(p, sp[1]);
	close(sp[1]);
	z->keeper = pid;
	z->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	z->ctl = sp[0];
	z->ready = false;
	z->jobs = 0;
	z->started_ns = sbx_now_ns();
	if (z->pidfd < 0)
		return sbx_error_set(err, errno, "zygote %d: pidfd_open", z->index);
	return 0;
}

int sbx_zygote_read_ready(struct sbx_zygote *z, struct sbx_error **err)
{
	char buf[1024];
	ssize_t n = recv(z->ctl, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return sbx_error_set(err, n < 0 ? errno : EPIPE, "zygote %d ended before it was ready",
				     z->index);
	buf[n] = '\0';
	/* {"ready": true, "python": "/usr/bin/python3", ...}: only the path
	 * is needed, to check a job's command against the interpreter. */
	const char *k = strstr(buf, "\"python\": \"");
	if (strstr(buf, "\"ready\": true") == NULL || k == NULL)
		return sbx_error_set(err, EPROTO, "zygote %d: unexpected hello", z->index);
	k += strlen("\"python\": \"");
	const char *e = strchr(k, '"');
	if (e == NULL || (size_t)(e - k) >= sizeof(z->python))
		return sbx_error_set(err, EPROTO, "zygote %d: unexpected hello", z->index);
	memcpy(z->python, k, (size_t)(e - k));
	z->python[e - k] = '\0';
	z->ready = true;
	return 0;
}
