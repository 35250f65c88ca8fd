/* Fault injection: every setup step made to fail (build/sbx-fault, see
 * runtime/fault.h), the supervisor killed at each phase, and hostile
 * host conditions.  Each must give a clear error naming the step, exit
 * 125, a setup_error report, and leave nothing behind. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

static void setup(void)
{
	h_need_fixture();
	static char bin[4096];
	snprintf(bin, sizeof(bin), "%s/sbx-fault", h_build());
	if (access(bin, X_OK) != 0)
		cr_assert_fail("%s missing: run 'make %s'", bin, bin);
	setenv("SBX_TEST_BINARY", bin, 1);
}

TestSuite(faults, .init = setup, .timeout = 180);

/* Steps in the supervisor, pid 1 and the workload, in run order. */
static const char *const points[] = {
	/* the supervisor */
	"seccomp_compile", "cgroup", "channels", "clone", "idmap",
	/* pid 1 (runtime/steps.c) */
	"output", "go", "fds", "sources", "memfd_noexec", "root", "deathsig", "scrub", "mounts",
	"hostname", "net", "userns_limits", "cgroup_join", "rlimits", "ready", "bounding", "fork", "confine",
	/* the workload */
	"signals", "setsid", "groups", "user", "caps", "workdir", "close_fds", "no_new_privs", "seccomp_load"
};

Test(faults, every_setup_step_fails_cleanly)
{
	for (size_t i = 0; i < sizeof(points) / sizeof(*points); i++) {
		setenv("SBX_FAULT", points[i], 1);
		const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "sleep", "271", NULL };
		struct sbx_out o;
		cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
		char want[128];
		snprintf(want, sizeof(want), "injected fault at %s", points[i]);
		cr_expect_eq(o.status, 125, "%s: status %d (%s)", points[i], o.status, o.err);
		cr_expect(strstr(o.err, want) != NULL, "%s: stderr does not name the step: %s", points[i], o.err);
		cr_expect(strchr(o.err, '\n') == o.err + strlen(o.err) - 1, "%s: one line: %s", points[i], o.err);
		cr_assert(o.report != NULL, "%s: no report", points[i]);
		cr_expect_str_eq(h_rs(o.report, "status"), "setup_error", "%s", points[i]);
		cr_expect_eq(h_ri(o.report, "exit_code"), 125, "%s", points[i]);
		cr_expect(strstr(h_rs(o.report, "error"), want) != NULL, "%s: report error: %s", points[i],
			  h_rs(o.report, "error"));
		cr_expect_eq(h_count_procs("sbx-probe sleep 271"), 0, "%s: the workload ran or was left", points[i]);
		cr_expect_eq(h_count_cgroups(o.pid), 0, "%s: a cgroup was left behind", points[i]);
		h_free(&o);
	}
	unsetenv("SBX_FAULT");
}

Test(faults, supervisor_killed_at_any_phase_leaves_nothing)
{
	static const char *const die[] = { "die:cgroup", "die:clone", "die:go", "die:teardown" };
	pid_t killed[4];
	for (size_t i = 0; i < sizeof(die) / sizeof(*die); i++) {
		setenv("SBX_FAULT", die[i], 1);
		/* At teardown the workload has exited already. */
		bool done = strcmp(die[i], "die:teardown") == 0;
		const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, done ? "exit" : "sleep", done ? "0" : "272",
					  NULL };
		struct sbx_out o;
		cr_assert_eq(h_run(&o, 0, 60, a), 0);
		cr_expect_eq(o.status, 128 + SIGKILL, "%s: status %d", die[i], o.status);
		killed[i] = o.pid;
		h_free(&o);
		int left = 1;
		for (int k = 0; k < 100 && (left = h_count_procs("sbx-probe sleep 272")) > 0; k++)
			usleep(20000);
		cr_expect_eq(left, 0, "%s: the workload outlived its supervisor", die[i]);
	}
	/* A normal run removes what the killed supervisors left. */
	unsetenv("SBX_FAULT");
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "exit", "0", NULL };
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "%s", o.err);
	h_free(&o);
	for (size_t i = 0; i < sizeof(die) / sizeof(*die); i++)
		cr_expect_eq(h_count_cgroups(killed[i]), 0, "%s: its stale cgroup remains", die[i]);
}

Test(faults, too_few_file_descriptors_is_a_setup_error)
{
	h_nofile_limit = 5;
	const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "exit", "0", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "Too many open files") != NULL, "errno named: %s", o.err);
	cr_expect_eq(h_count_cgroups(o.pid), 0);
	h_free(&o);
}

/* Host conditions are made in a private mount namespace of this test
 * process (Criterion runs each test in its own process). */
static void private_mounts(void)
{
	h_need_root();
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
}

Test(faults, out_copy_onto_a_full_filesystem_is_reported)
{
	private_mounts();
	char *dir = h_tmpdir();
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
	char spec[600];
	snprintf(spec, sizeof(spec), "%s/r", dir);
	const char *const a[] = { "--rootfs", h_rootfs(), "--out", spec, "--", "/bin/sh", "-c",
				  "head -c 1000000 /dev/zero > /out/big; echo small > /out/a", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "the workload's status is kept: %s", o.err);
	cr_expect(strstr(o.err, "No space left on device") != NULL, "copy-out failure shown: %s", o.err);
	cr_expect(strstr(h_rs(o.report, "error"), "copying /out") != NULL);
	h_free(&o);
	umount2(dir, MNT_DETACH);
	h_rmtree(dir);
	free(dir);
}

Test(faults, rootfs_on_a_read_only_mount_still_runs)
{
	private_mounts();
	char *dir = h_tmpdir();
	cr_assert_eq(mount(h_rootfs(), dir, NULL, MS_BIND | MS_REC, NULL), 0);
	cr_assert_eq(mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
	char bind[700];
	snprintf(bind, sizeof(bind), "%s:/sbx-missing-target", h_build());
	const char *const a[] = { "--rootfs", dir, "--bind", bind, "--", PROBE, "write", "/tmp/x", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "ok\n");
	h_free(&o);
	umount2(dir, MNT_DETACH);
	h_rmtree(dir);
	free(dir);
}

Test(faults, dev_shm_exists_for_multiprocessing_whatever_the_rootfs_has)
{
	const char *const a[] = { "--rootfs", h_rootfs(), "--", "python3", "-c",
				  "import multiprocessing as m\n"
				  "q = m.Queue(); p = m.Process(target=q.put, args=(42,)); p.start(); p.join()\n"
				  "print(q.get(), m.Lock() is not None)",
				  NULL };
	struct sbx_out o;
	cr_assert_eq(h_run(&o, 0, 120, a), 0);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "42 True\n", "stderr: %s", o.err);
	h_free(&o);
}

/* Every message between supervisor and sandbox is checked: a lost go or a
 * lost /out descriptor fails the run with 125 naming what was lost, within
 * seconds, and leaves nothing; results are never dropped without a word. */
static void expect_lost(const char *fault, const char *says, bool with_out, const char *secs)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "sbx-probe sleep %s", secs);
	setenv("SBX_FAULT", fault, 1);
	char *dir = h_tmpdir();
	char out[4096];
	snprintf(out, sizeof(out), "%s/out", dir);
	const char *const a[] = { "--rootfs", h_rootfs(), "--out", out, "--", PROBE, "sleep", secs, NULL };
	const char *const b[] = { "--rootfs", h_rootfs(), "--", PROBE, "sleep", secs, NULL };
	struct sbx_out o;
	time_t t0 = time(NULL);
	cr_assert_eq(h_run_report(&o, 0, 60, with_out ? a : b), 0);
	cr_expect_lt(time(NULL) - t0, 30, "%s: took %lld s", fault, (long long)(time(NULL) - t0));
	cr_expect_eq(o.status, 125, "%s: status %d (%s)", fault, o.status, o.err);
	cr_expect(strstr(o.err, says) != NULL, "%s: stderr does not say '%s': %s", fault, says, o.err);
	cr_assert(o.report != NULL);
	cr_expect_str_eq(h_rs(o.report, "status"), "setup_error");
	cr_expect(strstr(h_rs(o.report, "error"), says) != NULL, "%s: %s", fault, h_rs(o.report, "error"));
	cr_expect_eq(h_count_procs(needle), 0, "%s: the workload ran or was left", fault);
	cr_expect_eq(h_count_cgroups(o.pid), 0, "%s: a cgroup was left behind", fault);
	h_free(&o);
	h_rmtree(dir);
	free(dir);
	unsetenv("SBX_FAULT");
}

Test(faults, a_lost_go_fails_the_run_and_names_it) { expect_lost("lose:go", "sending the go to the sandbox", false, "273"); }

Test(faults, a_lost_out_descriptor_fails_the_run_and_names_it)
{
	expect_lost("lose:out_fd", "handing /out to the supervisor", true, "274");
}

/* A setup step that never returns (no --timeout given) ends at the setup
 * deadline instead of hanging sbx for ever. */
Test(faults, a_hung_setup_ends_at_the_setup_deadline)
{
	setenv("SBX_FAULT_SETUP_DEADLINE_MS", "1500", 1);
	expect_lost("hang:mounts", "setup did not finish within 2 s", false, "275");
	unsetenv("SBX_FAULT_SETUP_DEADLINE_MS");
}
