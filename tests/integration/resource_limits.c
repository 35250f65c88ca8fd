/* Resource limits of `sbx run`, end to end: the kernel enforces what the
 * flags ask, the report says what was used, and no cgroup outlives a run.
 * On a hybrid host (v1 controllers) this exercises the v1 fallback as root;
 * `make check-vm` runs the same suite on a pure cgroup v2 kernel, where the
 * rootless delegation tests run too. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

#define PY "/usr/bin/python3"

static void need_root_fixture(void)
{
	h_need_fixture();
	h_need_root();
}

TestSuite(resource_limits, .init = need_root_fixture, .timeout = 120);

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static json_t *cg_report(struct sbx_out *o)
{
	cr_assert_not_null(o->report, "no report; stderr: %s", o->err);
	json_t *cg = json_object_get(o->report, "cgroup");
	cr_assert(json_is_object(cg), "report has no cgroup object");
	return cg;
}

static const char *cg_path(struct sbx_out *o)
{
	json_t *p = json_object_get(cg_report(o), "path");
	return json_is_string(p) ? json_string_value(p) : NULL;
}

/* A pure cgroup v2 host: controllers at the top of /sys/fs/cgroup. */
static bool pure_v2(void)
{
	FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "r");
	if (f == NULL)
		return false;
	char buf[256] = "";
	bool ok = fgets(buf, sizeof(buf), f) && strstr(buf, "memory") && strstr(buf, "pids");
	fclose(f);
	return ok;
}

/* Run sbx with a report as root; the run's cgroup must be gone afterwards,
 * whatever the outcome. */
static void run(struct sbx_out *o, int timeout_s, const char *const *args)
{
	size_t n = 0;
	while (args[n])
		n++;
	const char **a = calloc(n + 3, sizeof(char *));
	a[0] = "--rootfs";
	a[1] = h_rootfs();
	memcpy(a + 2, args, n * sizeof(char *));
	cr_assert_eq(h_run_report(o, 0, timeout_s, a), 0);
	free(a);
	const char *p = o->report ? cg_path(o) : NULL;
	if (p)
		cr_expect_not(exists(p), "cgroup %s left behind", p);
}

/* ---- background runs, for looking at a live cgroup ---- */

static pid_t start_sbx(const char *const *args)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		size_t n = 0;
		while (args[n])
			n++;
		char **argv = calloc(n + 5, sizeof(char *));
		argv[0] = (char *)h_sbx();
		argv[1] = "run";
		argv[2] = "--rootfs";
		argv[3] = (char *)h_rootfs();
		for (size_t i = 0; i < n; i++)
			argv[i + 4] = (char *)args[i];
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static char found[PATH_MAX];
static char want_prefix[64];
static const char *want_file;
static int find_visit(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	if (flag != FTW_D || strncmp(p + f->base, want_prefix, strlen(want_prefix)) != 0 ||
	    strcmp(p + strlen(p) - 4, "-sup") == 0)
		return 0;
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/%s", p, want_file);
	if (!exists(file))
		return 0;
	snprintf(found, sizeof(found), "%s", p);
	return 1;
}

static bool has_procs(const char *dir)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	FILE *f = fopen(p, "r");
	if (f == NULL)
		return false;
	int c = fgetc(f);
	fclose(f);
	return c != EOF;
}

/* The run cgroup of sbx `pid` that has `file` (which selects the v1
 * hierarchy), once the workload is in it (so every limit is written: sbx
 * writes them before the child exists); NULL after 20 s. */
static const char *find_run_cgroup(pid_t pid, const char *file)
{
	snprintf(want_prefix, sizeof(want_prefix), "sbx-%d-", (int)pid);
	want_file = file;
	for (int i = 0; i < 2000; i++) {
		if (nftw("/sys/fs/cgroup", find_visit, 32, FTW_PHYS) == 1 && has_procs(found))
			return found;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static char *slurp(const char *dir, const char *file)
{
	static char buf[256];
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return buf;
}

static int wait_sbx(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the tests ---- */

static const char hog[] = "b = []\nwhile True:\n    b.append(b'x' * (8 << 20))\n";

Test(resource_limits, memory_hog_is_oom_killed)
{
	struct sbx_out o;
	run(&o, 60, (const char *const[]){"--memory", "64M", "--", PY, "-c", hog, NULL});
	cr_expect_eq(o.status, 137, "exit %d, stderr: %s", o.status, o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "oom");
	/* Killed by the kernel's SIGKILL: sbx exits 128 + 9. */
	cr_expect_eq(h_ri(o.report, "signal"), 9);
	cr_expect(h_rb(o.report, "oom_killed"));
	/* The kernel held it at the limit: the host never saw more. */
	long long peak = h_ri(o.report, "memory_peak_bytes");
	cr_expect_gt(peak, 32ll << 20, "peak %lld", peak);
	cr_expect_leq(peak, 64ll << 20, "peak %lld above the limit", peak);
	h_free(&o);
}

Test(resource_limits, swap_zero_is_written_and_honoured)
{
	pid_t sbx = start_sbx((const char *const[]){"--memory", "64M", "--", "/bin/sleep", "3", NULL});
	const char *dir;
	if (pure_v2()) {
		dir = find_run_cgroup(sbx, "memory.max");
		cr_assert_not_null(dir, "no run cgroup appeared");
		cr_expect_str_eq(slurp(dir, "memory.max"), "67108864");
		/* Without swap accounting (no CONFIG_SWAP) there is no file and no swap. */
		char swap[PATH_MAX + 32];
		snprintf(swap, sizeof(swap), "%s/memory.swap.max", dir);
		if (exists(swap))
			cr_expect_str_eq(slurp(dir, "memory.swap.max"), "0");
	} else {
		dir = find_run_cgroup(sbx, "memory.limit_in_bytes");
		cr_assert_not_null(dir, "no run cgroup appeared");
		cr_expect_str_eq(slurp(dir, "memory.limit_in_bytes"), "67108864");
		char memsw[PATH_MAX];
		snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes", dir);
		/* memsw = memory + swap: equal means no swap at all. */
		if (exists(memsw))
			cr_expect_str_eq(slurp(dir, "memory.memsw.limit_in_bytes"), "67108864");
		else
			cr_expect_str_eq(slurp(dir, "memory.swappiness"), "0");
	}
	cr_expect_eq(wait_sbx(sbx), 0);
	/* And the hog cannot escape into swap: it is OOM-killed at 64M. */
	struct sbx_out o;
	run(&o, 60,
	    (const char *const[]){"--memory", "64M", "--memory-swap", "0", "--", PY, "-c", hog, NULL});
	cr_expect_str_eq(h_rs(o.report, "status"), "oom", "stderr: %s", o.err);
	h_free(&o);
}

Test(resource_limits, swap_high_cpu_and_pids_limits_are_written)
{
	pid_t sbx =
	    start_sbx((const char *const[]){"--memory", "64M", "--memory-swap", "32M", "--memory-high", "48M",
					    "--cpus", "0.5", "--pids", "50", "--", "/bin/sleep", "3", NULL});
	if (pure_v2()) {
		const char *dir = find_run_cgroup(sbx, "memory.max");
		cr_assert_not_null(dir);
		char d[PATH_MAX];
		snprintf(d, sizeof(d), "%s", dir);
		char swap[PATH_MAX + 32];
		snprintf(swap, sizeof(swap), "%s/memory.swap.max", d);
		if (exists(swap))
			cr_expect_str_eq(slurp(d, "memory.swap.max"), "33554432");
		cr_expect_str_eq(slurp(d, "memory.high"), "50331648");
		cr_expect_str_eq(slurp(d, "cpu.max"), "50000 100000");
		cr_expect_str_eq(slurp(d, "pids.max"), "50");
	} else {
		const char *dir = find_run_cgroup(sbx, "memory.limit_in_bytes");
		cr_assert_not_null(dir);
		char memsw[PATH_MAX];
		snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes", dir);
		if (exists(memsw))
			cr_expect_str_eq(slurp(dir, "memory.memsw.limit_in_bytes"), "100663296");
		/* v1 has no memory.high: the soft limit is the closest. */
		cr_expect_str_eq(slurp(dir, "memory.soft_limit_in_bytes"), "50331648");
		dir = find_run_cgroup(sbx, "cpu.cfs_quota_us");
		cr_assert_not_null(dir);
		cr_expect_str_eq(slurp(dir, "cpu.cfs_quota_us"), "50000");
		cr_expect_str_eq(slurp(dir, "cpu.cfs_period_us"), "100000");
		dir = find_run_cgroup(sbx, "pids.max");
		cr_assert_not_null(dir);
		cr_expect_str_eq(slurp(dir, "pids.max"), "50");
	}
	cr_expect_eq(wait_sbx(sbx), 0);
}

Test(resource_limits, pids_limit_makes_fork_fail_with_eagain)
{
	static const char forker[] = "import os, errno, time\n"
				     "n = 0\n"
				     "try:\n"
				     "    while True:\n"
				     "        if os.fork() == 0:\n"
				     "            time.sleep(60)\n"
				     "            os._exit(0)\n"
				     "        n += 1\n"
				     "except OSError as e:\n"
				     "    print(errno.errorcode[e.errno], n)\n";
	struct sbx_out o;
	char why[256];
	bool peak_known = h_pids_peak_known(why, sizeof(why));
	run(&o, 60, (const char *const[]){"--pids", "16", "--", PY, "-c", forker, NULL});
	cr_expect_eq(o.status, 0, "exit %d, stderr: %s", o.status, o.err);
	cr_expect(strncmp(o.out, "EAGAIN ", 7) == 0, "stdout: %s", o.out);
	int forked = atoi(o.out + 7);
	/* 16 minus python and the sandbox's pid 1. */
	cr_expect(forked > 0 && forked <= 14, "forked %d", forked);
	cr_expect_str_eq(h_rs(o.report, "status"), "exited");
	long long peak = h_ri(o.report, "pids_peak");
	if (peak_known) /* else pids_peak_is_reported skips, saying why */
		cr_expect(peak > 14 && peak <= 16, "pids_peak %lld", peak);
	h_free(&o);
}

Test(resource_limits, fork_bomb_is_contained)
{
	struct sbx_out o;
	char why[256];
	bool peak_known = h_pids_peak_known(why, sizeof(why));
	/* exec: the outer shell needs no fork of its own once the bomb has
	 * taken every pid, so the run ends by its timeout, not by chance. */
	run(&o, 60,
	    (const char *const[]){"--pids", "64", "--timeout", "3", "--", "/bin/sh", "-c",
				  "b() { b | b & }; b; exec sleep 100", NULL});
	cr_expect_eq(o.status, 124, "exit %d, stderr: %s", o.status, o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "timeout");
	long long peak = h_ri(o.report, "pids_peak");
	if (peak_known)
		cr_expect(peak > 1 && peak <= 64, "pids_peak %lld", peak);
	/* The host can still fork. */
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	h_free(&o);
}

/* The report's pids_peak counts the sandbox's processes.  Where the kernel
 * has no pids.peak the report can only say 0: skip, saying so, rather than
 * pass on a number that cannot be wrong. */
Test(resource_limits, pids_peak_is_reported)
{
	char why[256];
	if (!h_pids_peak_known(why, sizeof(why)))
		cr_skip_test("%s", why);
	static const char kids[] = "import os, time\n"
				   "k = []\n"
				   "for _ in range(5):\n"
				   "    p = os.fork()\n"
				   "    if p == 0:\n"
				   "        time.sleep(1)\n"
				   "        os._exit(0)\n"
				   "    k.append(p)\n"
				   "for p in k: os.waitpid(p, 0)\n";
	struct sbx_out o;
	run(&o, 60, (const char *const[]){"--pids", "32", "--", PY, "-c", kids, NULL});
	cr_assert_eq(o.status, 0, "exit %d, stderr: %s", o.status, o.err);
	long long peak = h_ri(o.report, "pids_peak");
	/* python and its 5 children (pid 1 too, on kernels that count it). */
	cr_expect(peak >= 6 && peak <= 32, "pids_peak %lld", peak);
	h_free(&o);
}

Test(resource_limits, cpus_limit_gives_its_share)
{
	/* Measured from inside: CPU time of a busy loop over its wall time. */
	static const char burn[] = "import time\n"
				   "w, c = time.monotonic(), time.process_time()\n"
				   "while time.monotonic() - w < 3: pass\n"
				   "print((time.process_time() - c) / (time.monotonic() - w))\n";
	struct sbx_out o;
	run(&o, 60, (const char *const[]){"--cpus", "0.2", "--", PY, "-c", burn, NULL});
	cr_assert_eq(o.status, 0, "exit %d, stderr: %s", o.status, o.err);
	double share = atof(o.out);
	cr_expect(share >= 0.15 && share <= 0.25, "CPU share %.3f, want 0.20 +- 25%%", share);
	h_free(&o);
}

Test(resource_limits, peak_memory_and_cpu_stats_are_plausible)
{
	static const char work[] = "import os, time\n"
				   "b = b'x' * (100 << 20)\n"
				   "kids = [os.fork() for _ in range(3)]\n"
				   "if 0 in kids:\n"
				   "    time.sleep(0.5)\n"
				   "    os._exit(0)\n"
				   "c = time.process_time()\n"
				   "while time.process_time() - c < 0.3: pass\n"
				   "for k in kids: os.waitpid(k, 0)\n";
	struct sbx_out o;
	char why[256];
	bool peak_known = h_pids_peak_known(why, sizeof(why));
	run(&o, 60, (const char *const[]){"--", PY, "-c", work, NULL});
	cr_assert_eq(o.status, 0, "exit %d, stderr: %s", o.status, o.err);
	long long peak = h_ri(o.report, "memory_peak_bytes");
	cr_expect_geq(peak, 100ll << 20, "memory_peak_bytes %lld", peak);
	cr_expect_lt(peak, 1ll << 30, "memory_peak_bytes %lld", peak);
	double user = json_number_value(json_object_get(o.report, "cpu_user_ms"));
	double sys = json_number_value(json_object_get(o.report, "cpu_system_ms"));
	double wall = json_number_value(json_object_get(o.report, "wall_ms"));
	cr_expect_geq(user + sys, 250.0, "cpu %.1f + %.1f ms", user, sys);
	cr_expect_gt(user, 0.0);
	cr_expect_leq(user + sys, wall * 1.05 + 50, "cpu %.1f ms beyond one CPU over %.1f ms", user + sys,
		      wall);
	long long pids = h_ri(o.report, "pids_peak");
	if (peak_known)
		cr_expect(pids >= 4, "pids_peak %lld (python, 3 children)", pids);
	cr_expect_not(h_rb(o.report, "oom_killed"));
	h_free(&o);
}

Test(resource_limits, timeout_kills_a_daemonized_child)
{
	struct sbx_out o;
	run(&o, 60,
	    (const char *const[]){"--timeout", "2", "--", "/bin/sh", "-c", PROBE " daemon 4271; sleep 100",
				  NULL});
	cr_expect_eq(o.status, 124, "exit %d, stderr: %s", o.status, o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "timeout");
	cr_expect(h_rb(o.report, "timed_out"));
	cr_expect_eq(h_count_procs(PROBE " daemon 4271"), 0, "the daemonized child survived");
	h_free(&o);
}

Test(resource_limits, no_cgroup_left_after_any_outcome)
{
	static const char *const cmds[][4] = {
	    {"/bin/true", NULL},
	    {"/bin/sh", "-c", "exit 3", NULL},
	    {"/bin/sh", "-c", "kill -SEGV $$", NULL},
	    {"/does/not/exist", NULL},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[8] = {"--timeout", "20", "--"};
		for (size_t j = 0; cmds[i][j]; j++)
			args[3 + j] = cmds[i][j];
		struct sbx_out o;
		run(&o, 60, args); /* asserts the report's cgroup is gone */
		cr_expect_not_null(o.report, "%s: no report", cmds[i][0]);
		h_free(&o);
	}
	/* oom and timeout are covered by their own tests through run(). */
}

Test(resource_limits, supervisor_sigkill_leaves_nothing_after_next_run)
{
	pid_t sbx = start_sbx((const char *const[]){"--", "/bin/sleep", "100", NULL});
	const char *dir = find_run_cgroup(sbx, "cgroup.procs");
	cr_assert_not_null(dir, "no run cgroup appeared");
	/* The workload is inside: kill the supervisor. */
	kill(sbx, SIGKILL);
	wait_sbx(sbx);
	/* The next run removes the dead supervisor's cgroups, with whatever
	 * was left in them. */
	struct sbx_out o;
	run(&o, 60, (const char *const[]){"--", "/bin/true", NULL});
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect_eq(h_count_cgroups(sbx), 0, "cgroups of the killed sbx %d left", (int)sbx);
	h_free(&o);
}

Test(resource_limits, report_names_the_cgroup_and_its_version)
{
	struct sbx_out o;
	run(&o, 60, (const char *const[]){"--", "/bin/true", NULL});
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	json_t *cg = cg_report(&o);
	long long v = json_integer_value(json_object_get(cg, "version"));
	cr_expect_eq(v, pure_v2() ? 2 : 1);
	cr_expect(json_is_true(json_object_get(cg, "limits_enforced")));
	const char *p = cg_path(&o);
	cr_assert_not_null(p);
	cr_expect(strncmp(p, "/sys/fs/cgroup/", 15) == 0, "%s", p);
	cr_expect(strstr(p, "/sbx-") != NULL, "%s", p);
	json_t *ph = json_object_get(o.report, "phases_us");
	cr_expect_gt(json_integer_value(json_object_get(ph, "cgroup")), 0);
	h_free(&o);
}

/* Host safety on v1: every hierarchy's run cgroup is beneath our own. */
Test(resource_limits, v1_cgroups_are_beneath_the_callers_own)
{
	if (pure_v2())
		cr_skip_test("cgroup v2 host: no v1 fallback to check");
	pid_t sbx = start_sbx((const char *const[]){"--", "/bin/sleep", "2", NULL});
	FILE *f = fopen("/proc/self/cgroup", "r");
	cr_assert_not_null(f);
	char line[1024];
	int checked = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrl = c1 + 1, *own = c2 + 1;
		const char *probe = !strcmp(ctrl, "memory") ? "memory.limit_in_bytes"
				    : !strcmp(ctrl, "pids") ? "pids.max"
				    : !strcmp(ctrl, "cpu")  ? "cpu.cfs_quota_us"
							    : NULL;
		if (probe == NULL)
			continue;
		const char *dir = find_run_cgroup(sbx, probe);
		cr_assert_not_null(dir, "no %s cgroup", ctrl);
		char want[PATH_MAX];
		snprintf(want, sizeof(want), "/sys/fs/cgroup/%s%s%ssbx-", ctrl, own,
			 strcmp(own, "/") ? "/" : "");
		cr_expect(strncmp(dir, want, strlen(want)) == 0, "%s is not directly beneath %s", dir, want);
		checked++;
	}
	fclose(f);
	cr_expect_eq(checked, 3);
	cr_expect_eq(wait_sbx(sbx), 0);
}

/* ---- rootless ---- */

Test(resource_limits, rootless_without_delegation_refuses)
{
	h_need_userns_as(NOBODY);
	struct sbx_out o;
	cr_assert_eq(
	    h_run(&o, NOBODY, 60, (const char *const[]){"--rootfs", h_rootfs(), "--", "/bin/true", NULL}), 0);
	cr_expect_eq(o.status, 125, "exit %d, stderr: %s", o.status, o.err);
	cr_expect(strstr(o.err, "cannot limit the sandbox's resources") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "Delegate=yes") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "--allow-no-cgroup") != NULL, "%s", o.err);
	/* And the reason, specific to the host. */
	cr_expect(strstr(o.err, "not delegated to you") || strstr(o.err, "controller"), "%s", o.err);
	h_free(&o);
}

Test(resource_limits, allow_no_cgroup_runs_with_rlimits_only)
{
	h_need_userns_as(NOBODY);
	struct sbx_out o;
	cr_assert_eq(h_run_report(&o, NOBODY, 60,
				  (const char *const[]){"--rootfs", h_rootfs(), "--allow-no-cgroup", "--",
							"/bin/true", NULL}),
		     0);
	cr_expect_eq(o.status, 0, "exit %d, stderr: %s", o.status, o.err);
	cr_expect(strstr(o.err, "sbx: warning: running WITHOUT a cgroup") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "rlimits only") != NULL, "%s", o.err);
	json_t *cg = cg_report(&o);
	cr_expect_str_eq(json_string_value(json_object_get(cg, "limits_enforced")), "rlimit");
	cr_expect_eq(json_integer_value(json_object_get(cg, "version")), 0);
	h_free(&o);
}

static void write_file(const char *dir, const char *file, const char *v)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, v, strlen(v)), (ssize_t)strlen(v), "%s <- %s: %s", p, v, strerror(errno));
	close(fd);
}

/* Delegate `dir` to NOBODY the way the kernel documents: the controllers
 * enabled above it, the directory and its interface files chowned. */
static void make_delegated(const char *dir)
{
	const char *sub = slurp("/sys/fs/cgroup", "cgroup.subtree_control");
	if (!strstr(sub, "memory") || !strstr(sub, "pids") || !strstr(sub, "cpu"))
		write_file("/sys/fs/cgroup", "cgroup.subtree_control", "+memory +pids +cpu");
	cr_assert_eq(mkdir(dir, 0755), 0, "%s: %s", dir, strerror(errno));
	static const char *const files[] = {"", "/cgroup.procs", "/cgroup.subtree_control",
					    "/cgroup.threads"};
	for (size_t i = 0; i < 4; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s%s", dir, files[i]);
		cr_assert_eq(chown(p, NOBODY, NOBODY), 0, "chown %s: %s", p, strerror(errno));
	}
}

/* Run sbx as NOBODY from cgroup `from`, which our own forked child joins
 * (as root) before it drops privileges.  Returns sbx's exit status and the
 * parsed report (NULL if none). */
static int run_nobody_from(const char *from, json_t **report, const char *const *args)
{
	char *tmp = h_tmpdir();
	char rpath[PATH_MAX];
	snprintf(rpath, sizeof(rpath), "%s/report.json", tmp);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char me[16];
		snprintf(me, sizeof(me), "%d", (int)getpid());
		char procs[PATH_MAX + 16];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", from);
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, me, strlen(me)) < 0)
			_exit(90);
		close(fd);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(91);
		size_t n = 0;
		while (args[n])
			n++;
		char **argv = calloc(n + 7, sizeof(char *));
		argv[0] = (char *)h_sbx();
		argv[1] = "run";
		argv[2] = "--rootfs";
		argv[3] = (char *)h_rootfs();
		argv[4] = "--report";
		argv[5] = rpath;
		for (size_t i = 0; i < n; i++)
			argv[6 + i] = (char *)args[i];
		execv(argv[0], argv);
		_exit(92);
	}
	int rc = wait_sbx(pid);
	json_error_t je;
	*report = json_load_file(rpath, 0, &je);
	h_rmtree(tmp);
	free(tmp);
	return rc;
}

Test(resource_limits, rootless_with_delegated_subtree_enforces_limits)
{
	if (!pure_v2())
		cr_skip_test("needs a cgroup v2 hierarchy with controllers (make check-vm runs this)");
	h_need_userns_as(NOBODY);
	/* sbx starts alone in its delegated cgroup (as under systemd-run
	 * --scope -p Delegate=yes): it must move itself into a leaf. */
	char deleg[PATH_MAX];
	snprintf(deleg, sizeof(deleg), "/sys/fs/cgroup/sbxtest-deleg-%d", (int)getpid());
	make_delegated(deleg);
	json_t *r = NULL;
	int rc =
	    run_nobody_from(deleg, &r, (const char *const[]){"--memory", "48M", "--", PY, "-c", hog, NULL});
	/* sbx put itself back and removed its leaf and the run's cgroup. */
	int left = rmdir(deleg) == 0 ? 0 : errno;
	cr_assert_not_null(r, "no report (sbx exit %d)", rc);
	cr_expect_eq(rc, 137, "sbx exit %d", rc);
	cr_expect_str_eq(h_rs(r, "status"), "oom");
	json_t *cg = json_object_get(r, "cgroup");
	cr_expect_eq(json_integer_value(json_object_get(cg, "version")), 2);
	cr_expect(json_is_true(json_object_get(cg, "limits_enforced")));
	const char *p = json_string_value(json_object_get(cg, "path"));
	cr_expect(p && strncmp(p, deleg, strlen(deleg)) == 0, "run cgroup %s not in %s", p ? p : "(null)",
		  deleg);
	cr_expect_eq(left, 0, "delegated cgroup not empty after the run: %s", strerror(left));
	json_decref(r);
}

Test(resource_limits, rootless_cgroup_parent_in_a_chowned_subtree)
{
	if (!pure_v2())
		cr_skip_test("needs a cgroup v2 hierarchy with controllers (make check-vm runs this)");
	h_need_userns_as(NOBODY);
	/* docs/cgroups.md's recipe by hand: a chowned subtree, the user's shell
	 * in a child of it, --cgroup-parent naming the subtree. */
	char deleg[PATH_MAX], shell[PATH_MAX + 8], parent[64];
	snprintf(parent, sizeof(parent), "/sbxtest-chown-%d", (int)getpid());
	snprintf(deleg, sizeof(deleg), "/sys/fs/cgroup%s", parent);
	snprintf(shell, sizeof(shell), "%s/shell", deleg);
	make_delegated(deleg);
	cr_assert_eq(mkdir(shell, 0755), 0);
	static const char *const files[] = {"", "/cgroup.procs", "/cgroup.subtree_control",
					    "/cgroup.threads"};
	for (size_t i = 0; i < 4; i++) {
		char p[PATH_MAX + 48];
		snprintf(p, sizeof(p), "%s%s", shell, files[i]);
		cr_assert_eq(chown(p, NOBODY, NOBODY), 0, "chown %s: %s", p, strerror(errno));
	}
	static const char forker[] = "import os, errno, time\n"
				     "try:\n"
				     "    while True:\n"
				     "        if os.fork() == 0:\n"
				     "            time.sleep(30)\n"
				     "            os._exit(0)\n"
				     "except OSError as e:\n"
				     "    raise SystemExit(0 if e.errno == errno.EAGAIN else 1)\n";
	json_t *r = NULL;
	int rc = run_nobody_from(
	    shell, &r,
	    (const char *const[]){"--cgroup-parent", parent, "--pids", "8", "--", PY, "-c", forker, NULL});
	int left_shell = rmdir(shell) == 0 ? 0 : errno;
	int left = rmdir(deleg) == 0 ? 0 : errno;
	cr_assert_not_null(r, "no report (sbx exit %d)", rc);
	cr_expect_eq(rc, 0, "sbx exit %d (fork did not fail with EAGAIN?)", rc);
	json_t *cg = json_object_get(r, "cgroup");
	cr_expect(json_is_true(json_object_get(cg, "limits_enforced")));
	const char *p = json_string_value(json_object_get(cg, "path"));
	cr_expect(p && strncmp(p, deleg, strlen(deleg)) == 0, "run cgroup %s not in %s", p ? p : "(null)",
		  deleg);
	cr_expect_eq(left_shell, 0, "%s", strerror(left_shell));
	cr_expect_eq(left, 0, "subtree not empty after the run: %s", strerror(left));
	json_decref(r);
}
