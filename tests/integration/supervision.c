/* The supervisor: timeouts, signals, output caps, /out, the report, and
 * runs side by side. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

static void setup(void) { h_need_fixture(); }
TestSuite(supervision, .init = setup, .timeout = 120);

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *const report_keys[] = { "status", "exit_code", "signal", "wall_ms", "cpu_user_ms",
					   "cpu_system_ms", "memory_peak_bytes", "pids_peak", "oom_killed",
					   "timed_out", "stdout_bytes", "stderr_bytes", "stdout_truncated",
					   "stderr_truncated", "seccomp_denials", "phases_us", "cgroup", "error",
					   "sbx_version" };

static void expect_full_report(json_t *r)
{
	cr_assert(r != NULL, "no report");
	for (size_t i = 0; i < sizeof(report_keys) / sizeof(*report_keys); i++)
		cr_expect(json_object_get(r, report_keys[i]) != NULL, "report lacks '%s'", report_keys[i]);
	static const char *const phases[] = { "config", "seccomp_compile", "cgroup", "clone", "idmap",
					      "mounts", "exec", "teardown" };
	json_t *p = json_object_get(r, "phases_us");
	for (size_t i = 0; i < sizeof(phases) / sizeof(*phases); i++)
		cr_expect(json_is_integer(json_object_get(p, phases[i])), "phases_us lacks '%s'", phases[i]);
	json_t *cg = json_object_get(r, "cgroup");
	cr_expect(json_object_get(cg, "version") && json_object_get(cg, "limits_enforced"));
}

Test(supervision, timeout_kills_sleep_and_daemons_within_a_second)
{
	const char *const a[] = { "--rootfs", h_rootfs(), "--timeout", "1", "--", "/bin/sh", "-c",
				  PROBE " daemon 300; exec " PROBE " sleep 300", NULL };
	struct sbx_out o;
	double t0 = now_s();
	cr_assert_eq(h_run_report(&o, 0, 30, a), 0);
	double took = now_s() - t0;
	cr_expect_eq(o.status, 124, "stderr: %s", o.err);
	cr_expect_lt(took, 2.0, "took %.2f s for a 1 s timeout", took);
	expect_full_report(o.report);
	cr_expect_str_eq(h_rs(o.report, "status"), "timeout");
	cr_expect(h_rb(o.report, "timed_out"));
	h_free(&o);
	cr_expect_eq(h_count_procs("sbx-probe daemon 300"), 0);
	cr_expect_eq(h_count_procs("sbx-probe sleep 300"), 0, "a process of the timed-out sandbox survived");
}

static pid_t start_sbx(const char *const *args, int out_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out_fd, 1);
		size_t n = 0;
		while (args[n])
			n++;
		char **argv = calloc(n + 3, sizeof(char *));
		argv[0] = "sbx";
		argv[1] = "run";
		memcpy(argv + 2, args, n * sizeof(char *));
		execv(h_sbx(), argv);
		_exit(99);
	}
	return pid;
}

Test(supervision, sigterm_is_forwarded_and_a_second_one_kills)
{
	char *dir = h_tmpdir();
	char ready[600];
	snprintf(ready, sizeof(ready), "%s:/mnt:rw", dir);
	/* The workload says when its trap is in place, through the bind. */
	const char *const a[] = { "--rootfs", h_rootfs(), "--bind", ready, "--", "/bin/sh", "-c",
				  "trap 'exit 42' TERM; touch /mnt/ready; while :; do sleep 0.05; done", NULL };
	char flag[700];
	snprintf(flag, sizeof(flag), "%s/ready", dir);
	int devnull = open("/dev/null", O_WRONLY);
	pid_t pid = start_sbx(a, devnull);
	for (int i = 0; i < 200 && access(flag, F_OK) != 0; i++)
		usleep(20000);
	cr_assert_eq(access(flag, F_OK), 0, "workload never got ready");
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %d", st);
	unlink(flag);

	const char *const b[] = { "--rootfs", h_rootfs(), "--bind", ready, "--", "/bin/sh", "-c",
				  "trap '' TERM INT; touch /mnt/ready; while :; do sleep 0.05; done", NULL };
	pid = start_sbx(b, devnull);
	for (int i = 0; i < 200 && access(flag, F_OK) != 0; i++)
		usleep(20000);
	cr_assert_eq(access(flag, F_OK), 0, "workload never got ready");
	kill(pid, SIGTERM);
	usleep(200000);
	cr_expect_eq(waitpid(pid, &st, WNOHANG), 0, "one ignored SIGTERM must not end the run");
	kill(pid, SIGINT);
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 137, "second signal kills: status %d", st);
	close(devnull);
	h_rmtree(dir);
	free(dir);
}

Test(supervision, flood_is_capped_flagged_and_fast)
{
	const char *const a[] = { "--rootfs", h_rootfs(), "--output-limit", "1M", "--timeout", "20", "--",
				  PROBE, "flood", "104857600", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect_eq(strlen(o.out), 1048576, "delivered %zu bytes", strlen(o.out));
	cr_expect(h_rb(o.report, "stdout_truncated"));
	cr_expect_eq(h_ri(o.report, "stdout_bytes"), 104857600);
	cr_expect(!h_rb(o.report, "stderr_truncated"));
	h_free(&o);
	const char *const b[] = { "--rootfs", h_rootfs(), "--output-limit", "64K", "--", PROBE, "flood", "1000000",
				  "err", NULL };
	cr_assert_eq(h_run_report(&o, 0, 60, b), 0);
	cr_expect(strstr(o.err, "yyyy") != NULL);
	cr_expect(h_rb(o.report, "stderr_truncated"));
	cr_expect_eq(h_ri(o.report, "stderr_bytes"), 1000000);
	h_free(&o);
}

Test(supervision, out_is_copied_and_links_are_not_followed)
{
	char *host = h_tmpdir();
	char *dest = h_tmpdir();
	char secret[700], spec[700];
	snprintf(secret, sizeof(secret), "%s/secret", host);
	FILE *f = fopen(secret, "w");
	fputs("host secret\n", f);
	fclose(f);
	snprintf(spec, sizeof(spec), "%s/results", dest);
	char script[1600];
	snprintf(script, sizeof(script),
		 "echo metrics > /out/result.json; mkdir -p /out/sub/deeper; echo 1 > /out/sub/deeper/x;"
		 "ln -s %s /out/link; ln -s /etc /out/etclink; mkfifo /out/fifo", secret);
	const char *const a[] = { "--rootfs", h_rootfs(), "--out", spec, "--", "/bin/sh", "-c", script, NULL };
	struct sbx_out o;
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	char p[900], buf[64] = "";
	snprintf(p, sizeof(p), "%s/result.json", spec);
	f = fopen(p, "r");
	cr_assert(f != NULL, "result.json not copied");
	cr_expect(fgets(buf, sizeof(buf), f) && strcmp(buf, "metrics\n") == 0);
	fclose(f);
	snprintf(p, sizeof(p), "%s/sub/deeper/x", spec);
	cr_expect_eq(access(p, F_OK), 0, "nested file copied");
	struct stat st;
	snprintf(p, sizeof(p), "%s/link", spec);
	cr_expect_neq(lstat(p, &st), 0, "symlink must not be copied or followed");
	snprintf(p, sizeof(p), "%s/fifo", spec);
	cr_expect_neq(lstat(p, &st), 0, "fifo must not be copied");
	json_t *out = json_object_get(o.report, "out");
	cr_expect_eq(json_array_size(json_object_get(out, "skipped")), 3, "link, etclink, fifo listed as skipped");
	h_free(&o);
	h_rmtree(host);
	h_rmtree(dest);
	free(host);
	free(dest);
}

Test(supervision, out_size_limit_is_enospc_inside_and_survives_a_timeout)
{
	char *dest = h_tmpdir();
	char spec[700];
	snprintf(spec, sizeof(spec), "%s/r:256K", dest);
	const char *const a[] = { "--rootfs", h_rootfs(), "--out", spec, "--timeout", "1", "--", "/bin/sh", "-c",
				  PROBE " fill /out/big; echo partial > /out/p; sleep 100", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 124);
	cr_expect(strstr(o.out, "ENOSPC") != NULL, "stdout: %s", o.out);
	char p[800];
	snprintf(p, sizeof(p), "%s/r/p", dest);
	cr_expect_eq(access(p, F_OK), 0, "partial results survive the timeout");
	h_free(&o);
	h_rmtree(dest);
	free(dest);
}

Test(supervision, report_for_exit_signal_and_setup_error)
{
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "exit", "3", NULL };
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	expect_full_report(o.report);
	cr_expect_str_eq(h_rs(o.report, "status"), "exited");
	cr_expect_eq(h_ri(o.report, "exit_code"), 3);
	cr_expect(json_is_null(json_object_get(o.report, "error")));
	cr_expect_gt(h_ri(json_object_get(o.report, "phases_us"), "mounts"), 0);
	h_free(&o);

	const char *const b[] = { "--rootfs", h_rootfs(), "--", PROBE, "kill", "9", NULL };
	cr_assert_eq(h_run_report(&o, 0, 60, b), 0);
	expect_full_report(o.report);
	cr_expect_str_eq(h_rs(o.report, "status"), "signaled");
	cr_expect_eq(h_ri(o.report, "signal"), 9);
	cr_expect_eq(o.status, 137);
	h_free(&o);

	const char *const c[] = { "--rootfs", "/no/such/rootfs", "--", "true", NULL };
	cr_assert_eq(h_run_report(&o, 0, 60, c), 0);
	expect_full_report(o.report);
	cr_expect_str_eq(h_rs(o.report, "status"), "setup_error");
	cr_expect_eq(h_ri(o.report, "exit_code"), 125);
	cr_expect(strstr(h_rs(o.report, "error"), "/no/such/rootfs") != NULL);
	h_free(&o);
}

Test(supervision, bad_out_report_and_timeout_values_fail_before_running)
{
	char *dir = h_tmpdir();
	char file[700], link[700], report[700];
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(report, sizeof(report), "%s/no/such/dir/report.json", dir);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	symlink(dir, link);
	struct {
		const char *args[8];
		const char *needle;
	} cases[] = {
		{ { "--out", file, "--", PROBE, "write", "/tmp/x" }, "not a directory" },
		{ { "--out", link, "--", PROBE, "write", "/tmp/x" }, "symlink" },
		{ { "--report", report, "--", PROBE, "write", "/tmp/x" }, "report" },
		{ { "--timeout", "-1", "--", PROBE, "write", "/tmp/x" }, "--timeout" },
		{ { "--out", "x:0", "--", PROBE, "write", "/tmp/x" }, "--out" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *a[12] = { "--rootfs", h_rootfs() };
		memcpy(a + 2, cases[i].args, sizeof(cases[i].args));
		struct sbx_out o;
		cr_assert_eq(h_run(&o, 0, 30, a), 0);
		cr_expect_eq(o.status, 125, "case %zu: %d %s", i, o.status, o.err);
		cr_expect(strstr(o.err, cases[i].needle) != NULL, "case %zu: %s", i, o.err);
		cr_expect(strstr(o.out, "ok") == NULL, "case %zu: the workload ran", i);
		h_free(&o);
	}
	h_rmtree(dir);
	free(dir);
}

Test(supervision, eight_concurrent_runs_have_separate_results)
{
	char *dir = h_tmpdir();
	pid_t pids[8];
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char report[700], code[8], out[700];
			snprintf(report, sizeof(report), "%s/r%d.json", dir, i);
			snprintf(out, sizeof(out), "%s/o%d", dir, i);
			snprintf(code, sizeof(code), "%d", i + 10);
			int devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 1);
			dup2(devnull, 2);
			char script[200];
			snprintf(script, sizeof(script), "echo %d > /out/n; exit %s", i, code);
			execl(h_sbx(), "sbx", "run", "--rootfs", h_rootfs(), "--report", report, "--out", out, "--",
			      "/bin/sh", "-c", script, (char *)NULL);
			_exit(99);
		}
	}
	for (int i = 0; i < 8; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == i + 10, "run %d: status %d", i, st);
		char p[700];
		snprintf(p, sizeof(p), "%s/r%d.json", dir, i);
		json_error_t je;
		json_t *r = json_load_file(p, 0, &je);
		cr_assert(r != NULL, "run %d: report %s: %s", i, p, je.text);
		cr_expect_eq(h_ri(r, "exit_code"), i + 10);
		json_decref(r);
		snprintf(p, sizeof(p), "%s/o%d/n", dir, i);
		FILE *f = fopen(p, "r");
		int n = -1;
		cr_assert(f != NULL, "run %d: /out not copied", i);
		cr_expect(fscanf(f, "%d", &n) == 1 && n == i);
		fclose(f);
	}
	h_rmtree(dir);
	free(dir);
}

Test(supervision, stdout_and_stderr_to_files)
{
	char *dir = h_tmpdir();
	char so[700], se[700];
	snprintf(so, sizeof(so), "%s/out.txt", dir);
	snprintf(se, sizeof(se), "%s/err.txt", dir);
	const char *const a[] = { "--rootfs", h_rootfs(), "--stdout", so, "--stderr", se, "--", "/bin/sh", "-c",
				  "echo to-out; echo to-err >&2", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0);
	cr_expect_str_eq(o.out, "");
	char buf[64] = "";
	FILE *f = fopen(so, "r");
	cr_assert(f);
	cr_expect(fgets(buf, sizeof(buf), f) && strcmp(buf, "to-out\n") == 0);
	fclose(f);
	f = fopen(se, "r");
	cr_assert(f);
	cr_expect(fgets(buf, sizeof(buf), f) && strcmp(buf, "to-err\n") == 0);
	fclose(f);
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}
