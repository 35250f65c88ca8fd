/* The cgroup library against the real kernel, without the rest of sbx:
 * create with limits, put a child in, read its stats, kill, remove.  Runs
 * as root on whatever the host has (v1 fallback on hybrid hosts, v2 in the
 * test VM); skips otherwise.  Every test removes what it created. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"

/* What sbx run asks for by default (docs/configuration.md): 1G, no swap,
 * 256 pids, one CPU.  cgroups/ is tested on its own, without the runtime. */
static struct sbx_cgroup_request default_request(void)
{
	return (struct sbx_cgroup_request){
		.limits = {.memory = 1ull << 30, .memory_swap = 0, .pids = 256, .cpus = 1.0}};
}

static void require_cgroup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (the v1 fallback and the default v2 parent are root-only)");
	struct sbx_cgroup_request c = default_request();
	struct sbx_cgroup *cg = NULL;
	struct sbx_error *err = NULL;
	int r = sbx_cgroup_create(&c, &cg, &err);
	if (r < 0) {
		char why[512];
		snprintf(why, sizeof(why), "no usable cgroup here: %.400s", err->msg);
		sbx_error_free(&err);
		cr_skip_test("%s", why);
	}
	sbx_cgroup_destroy(cg, NULL);
}

static char *slurp(const char *dir, const char *file)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	static char buf[256];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* The child runs fn once it is inside the cgroup: with CLONE_INTO_CGROUP on
 * v2, or after sbx_cgroup_attach on v1 (it waits on a pipe until then). */
static pid_t spawn_in(struct sbx_cgroup *cg, int (*fn)(void *), void *arg)
{
	int go[2];
	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
	pid_t pid;
	if (sbx_cgroup_clone_fd(cg) >= 0) {
		struct clone_args a = {.flags = CLONE_INTO_CGROUP,
				       .exit_signal = SIGCHLD,
				       .cgroup = (uint64_t)sbx_cgroup_clone_fd(cg)};
		pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	} else {
		pid = fork();
	}
	cr_assert_geq(pid, 0, "clone: %s", strerror(errno));
	if (pid == 0) {
		char b;
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(99);
		_exit(fn(arg));
	}
	close(go[0]);
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_attach(cg, pid, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	return pid;
}

static struct sbx_cgroup *create(struct sbx_cgroup_request *c)
{
	struct sbx_cgroup *cg = NULL;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_create(c, &cg, &err), 0, "%s", err ? err->msg : "");
	cr_assert(sbx_cgroup_limits_enforced(cg));
	return cg;
}

static void destroy(struct sbx_cgroup *cg)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", sbx_cgroup_path(cg));
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_destroy(cg, &err), 0, "%s", err ? err->msg : "");
	cr_expect_not(exists(path), "%s left behind", path);
}

Test(cgroup_lib, limits_written_and_removed, .init = require_cgroup)
{
	struct sbx_cgroup_request c = default_request();
	c.limits.memory = 256u << 20;
	c.limits.pids = 32;
	c.limits.cpus = 0.5;
	struct sbx_cgroup *cg = create(&c);
	const char *dir = sbx_cgroup_path(cg);
	char name[64];
	snprintf(name, sizeof(name), "sbx-%d-", (int)getpid());
	cr_expect(strstr(dir, name) != NULL, "%s", dir);
	if (sbx_cgroup_version(cg) == 2) {
		cr_expect_str_eq(slurp(dir, "memory.max"), "268435456");
		cr_expect_str_eq(slurp(dir, "memory.swap.max"), "0");
		cr_expect_str_eq(slurp(dir, "pids.max"), "32");
		cr_expect_str_eq(slurp(dir, "cpu.max"), "50000 100000");
	} else {
		cr_assert_eq(sbx_cgroup_version(cg), 1);
		cr_expect_str_eq(slurp(dir, "memory.limit_in_bytes"), "268435456");
		if (exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))
			cr_expect_str_eq(slurp(dir, "memory.memsw.limit_in_bytes"), "268435456");
	}
	destroy(cg);
}

/* Allocate and write every page (volatile: the compiler must not drop
 * an allocation that is never read). */
static int touch(size_t len)
{
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	return 0;
}

static int touch_and_burn(void *arg)
{
	if (touch(64u << 20) < 0)
		return 2;
	struct timespec t;
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	while (t.tv_sec * 1000 + t.tv_nsec / 1000000 < 300);
	return 0;
}

Test(cgroup_lib, stats_of_a_child, .init = require_cgroup)
{
	struct sbx_cgroup_request c = default_request();
	struct sbx_cgroup *cg = create(&c);
	pid_t pid = spawn_in(cg, touch_and_burn, NULL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	struct sbx_cgroup_stats s;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_stats(cg, &s, &err), 0, "%s", err ? err->msg : "");
	cr_expect_geq(s.memory_peak_bytes, 64u << 20, "peak %lu", (unsigned long)s.memory_peak_bytes);
	cr_expect_lt(s.memory_peak_bytes, 1u << 30);
	cr_expect_geq(s.cpu_user_ms + s.cpu_system_ms, 250.0, "cpu %.1f+%.1f ms", s.cpu_user_ms,
		      s.cpu_system_ms);
	cr_expect_not(s.oom_killed);
	destroy(cg);
}

static int hog(void *arg)
{
	for (int i = 0; i < 64; i++)
		if (touch(16u << 20) < 0)
			return 2;
	return 0;
}

Test(cgroup_lib, memory_hog_is_oom_killed, .init = require_cgroup)
{
	struct sbx_cgroup_request c = default_request();
	c.limits.memory = 64u << 20;
	struct sbx_cgroup *cg = create(&c);
	pid_t pid = spawn_in(cg, hog, NULL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	struct sbx_cgroup_stats s;
	cr_assert_eq(sbx_cgroup_stats(cg, &s, NULL), 0);
	cr_expect(s.oom_killed);
	cr_expect_leq(s.memory_peak_bytes, 64u << 20);
	destroy(cg);
}

static int forker(void *arg)
{
	int ok = 0;
	for (int i = 0; i < 64; i++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0)
			return errno == EAGAIN ? ok : 100;
		ok++;
	}
	return 101;
}

Test(cgroup_lib, pids_limit_makes_fork_fail, .init = require_cgroup)
{
	struct sbx_cgroup_request c = default_request();
	c.limits.pids = 8;
	struct sbx_cgroup *cg = create(&c);
	pid_t pid = spawn_in(cg, forker, NULL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	/* The forker itself is one of the 8. */
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
	struct sbx_cgroup_stats s;
	cr_assert_eq(sbx_cgroup_stats(cg, &s, NULL), 0);
	if (s.pids_peak_known) /* pids.peak: Linux 6.1+ */
		cr_expect_eq(s.pids_peak, 8);
	/* Its children (paused, reparented) are still in the cgroup: destroy kills them. */
	destroy(cg);
}

/* Three grandchildren in their own sessions, reparented away from the
 * child: each holds the pipe's write end and says it is there. */
static int daemonize(void *arg)
{
	int *pipefd = arg;
	close(pipefd[0]);
	for (int i = 0; i < 3; i++)
		if (fork() == 0) {
			setsid();
			if (fork() == 0) {
				if (write(pipefd[1], "x", 1) != 1)
					_exit(1);
				for (;;)
					pause();
			}
			_exit(0);
		}
	close(pipefd[1]);
	for (;;)
		pause();
}

Test(cgroup_lib, kill_reaches_daemonized_children, .init = require_cgroup)
{
	struct sbx_cgroup_request c = default_request();
	struct sbx_cgroup *cg = create(&c);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = spawn_in(cg, daemonize, p);
	close(p[1]);
	char buf[3];
	size_t got = 0;
	while (got < 3) {
		ssize_t n = read(p[0], buf, 3 - got);
		cr_assert_gt(n, 0, "grandchildren did not start");
		got += n;
	}
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_kill(cg, &err), 0, "%s", err ? err->msg : "");
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* EOF once every grandchild is dead. */
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "daemonized grandchildren survived the kill");
	cr_expect_eq(read(p[0], buf, 1), 0);
	close(p[0]);
	destroy(cg);
}

Test(cgroup_lib, stale_cgroup_of_killed_supervisor_is_removed, .init = require_cgroup)
{
	/* A "supervisor" creates a cgroup with a child inside, then is SIGKILLed. */
	int path_pipe[2];
	cr_assert_eq(pipe(path_pipe), 0);
	pid_t sup = fork();
	cr_assert_geq(sup, 0);
	if (sup == 0) {
		struct sbx_cgroup_request c = default_request();
		struct sbx_cgroup *cg = NULL;
		if (sbx_cgroup_create(&c, &cg, NULL) < 0)
			_exit(1);
		pid_t child = fork();
		if (child == 0) {
			for (;;)
				pause();
		}
		if (sbx_cgroup_attach(cg, child, NULL) < 0)
			_exit(2);
		const char *path = sbx_cgroup_path(cg);
		if (write(path_pipe[1], path, strlen(path)) < 0)
			_exit(3);
		for (;;)
			pause();
	}
	close(path_pipe[1]);
	char path[4096] = "";
	ssize_t n = read(path_pipe[0], path, sizeof(path) - 1);
	close(path_pipe[0]);
	cr_assert_gt(n, 0);
	path[n] = '\0';
	/* v1: a child forked before attach stays in our cgroup; only the one
	 * attached (or cloned into v2) is in the run's cgroup. */
	kill(sup, SIGKILL);
	waitpid(sup, NULL, 0);
	cr_assert(exists(path), "%s", path);
	/* The next run removes it, killing what was left inside. */
	struct sbx_cgroup_request c = default_request();
	struct sbx_cgroup *cg = create(&c);
	cr_expect_not(exists(path), "stale %s not removed", path);
	destroy(cg);
}

Test(cgroup_lib, allow_no_cgroup_gives_an_unlimited_object)
{
	struct sbx_cgroup_request c = default_request();
	/* A parent that cannot exist (v2 refuses "..", v1 finds no such directory). */
	c.parent = "/sbx-test-missing/../sbx-test-missing";
	struct sbx_cgroup *cg = NULL;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_create(&c, &cg, &err), 0);
	cr_expect(strstr(err->msg, "cannot limit the sandbox's resources") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "--allow-no-cgroup") != NULL, "%s", err->msg);
	sbx_error_free(&err);
	c.allow_no_cgroup = true;
	cr_assert_eq(sbx_cgroup_create(&c, &cg, &err), 0);
	cr_expect_eq(sbx_cgroup_version(cg), 0);
	cr_expect_not(sbx_cgroup_limits_enforced(cg));
	cr_expect_str_eq(sbx_cgroup_path(cg), "");
	cr_expect_eq(sbx_cgroup_clone_fd(cg), -1);
	cr_expect_eq(sbx_cgroup_attach(cg, getpid(), NULL), 0);
	struct sbx_cgroup_stats s = {.memory_peak_bytes = 1};
	cr_expect_eq(sbx_cgroup_stats(cg, &s, NULL), 0);
	cr_expect_eq(s.memory_peak_bytes, 0);
	cr_expect_eq(sbx_cgroup_kill(cg, NULL), 0);
	cr_expect_eq(sbx_cgroup_destroy(cg, NULL), 0);
	cr_expect_eq(sbx_cgroup_destroy(NULL, NULL), 0);
}
