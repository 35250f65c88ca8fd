/* The core runtime, asserted from inside the sandbox with sbx-probe. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

#define RUN(o, uid, ...)                                                                                          \
	do {                                                                                                      \
		const char *const a_[] = { "--rootfs", h_rootfs(), __VA_ARGS__, NULL };                           \
		cr_assert_eq(h_run(o, uid, 60, a_), 0);                                                           \
	} while (0)

static void setup(void) { h_need_fixture(); }

TestSuite(lifecycle, .init = setup, .timeout = 120);

Test(lifecycle, exit_code_is_the_workloads)
{
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "exit", "7");
	cr_expect_eq(o.status, 7, "stderr: %s", o.err);
	h_free(&o);
	RUN(&o, 0, "--", PROBE, "exit", "0");
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	h_free(&o);
}

Test(lifecycle, death_by_signal_is_128_plus_n)
{
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "kill", "15", NULL };
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 143, "stderr: %s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "signaled");
	cr_expect_eq(h_ri(o.report, "signal"), 15);
	h_free(&o);
}

Test(lifecycle, missing_and_unexecutable_commands_are_127_and_126)
{
	struct sbx_out o;
	RUN(&o, 0, "--", "/no/such/program");
	cr_expect_eq(o.status, 127);
	cr_expect(strstr(o.err, "/no/such/program") != NULL, "error names the command: %s", o.err);
	h_free(&o);
	RUN(&o, 0, "--", "no-such-program-in-path");
	cr_expect_eq(o.status, 127);
	h_free(&o);
	RUN(&o, 0, "--", "/etc/hostname");
	cr_expect_eq(o.status, 126, "stderr: %s", o.err);
	h_free(&o);
}

Test(lifecycle, workload_is_pid_2_and_host_pids_are_invisible)
{
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "pid");
	cr_expect_str_eq(o.out, "2\n");
	h_free(&o);
	RUN(&o, 0, "--", PROBE, "pids");
	cr_expect_str_eq(o.out, "1\n2\n", "only pid 1 and the workload are visible, got: %s", o.out);
	h_free(&o);
}

Test(lifecycle, every_namespace_differs_from_the_hosts)
{
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "ns");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	static const char *const ns[] = { "user", "pid", "net", "mnt", "uts", "ipc", "cgroup" };
	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		char path[64], want[64];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		cr_assert_eq(stat(path, &st), 0);
		snprintf(want, sizeof(want), "%s %lu\n", ns[i], (unsigned long)st.st_ino);
		char *line = strstr(o.out, ns[i]);
		cr_assert(line != NULL, "probe printed no %s namespace: %s", ns[i], o.out);
		cr_expect(strncmp(line, want, strlen(want)) != 0, "%s namespace is the host's (%s)", ns[i], want);
	}
	h_free(&o);
}

Test(lifecycle, only_loopback_exists_and_is_up)
{
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "ifaces");
	cr_expect_str_eq(o.out, "lo UP\n");
	h_free(&o);
	RUN(&o, 0, "--network", "none", "--", PROBE, "ifaces");
	cr_expect_str_eq(o.out, "lo DOWN\n");
	h_free(&o);
}

Test(lifecycle, root_is_read_only_and_tmp_is_writable)
{
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "write", "/etc/sbx-test");
	cr_expect_str_eq(o.out, "EROFS\n");
	h_free(&o);
	RUN(&o, 0, "--", PROBE, "write", "/tmp/sbx-test");
	cr_expect_str_eq(o.out, "ok\n");
	h_free(&o);
	RUN(&o, 0, "--", PROBE, "write", "/dev/sbx-test");
	cr_expect_str_eq(o.out, "EROFS\n", "/dev is read-only too");
	h_free(&o);
}

Test(lifecycle, tmp_size_comes_from_the_config)
{
	char *dir = h_tmpdir();
	char cfg[512];
	snprintf(cfg, sizeof(cfg), "%s/sbx.yaml", dir);
	FILE *f = fopen(cfg, "w");
	fprintf(f, "limits:\n  tmp: 1M\n");
	fclose(f);
	struct sbx_out o;
	RUN(&o, 0, "--config", cfg, "--", PROBE, "fill", "/tmp/big");
	cr_expect_str_eq(o.out, "1048576 ENOSPC\n", "stderr: %s", o.err);
	h_free(&o);
	RUN(&o, 0, "--config", cfg, "--tmpfs", "/scratch:64K", "--", PROBE, "fill", "/scratch/big");
	cr_expect_str_eq(o.out, "65536 ENOSPC\n", "stderr: %s", o.err);
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}

Test(lifecycle, environment_is_exactly_what_was_set)
{
	setenv("SBX_TEST_SECRET", "leaked", 1);
	struct sbx_out o;
	RUN(&o, 0, "--env", "A=1", "--env", "B=two words", "--", PROBE, "env");
	cr_expect_str_eq(o.out, "A=1\nB=two words\n");
	cr_expect(strstr(o.out, "leaked") == NULL);
	h_free(&o);
	unsetenv("SBX_TEST_SECRET");
}

Test(lifecycle, only_stdio_descriptors_are_open)
{
	/* A descriptor without O_CLOEXEC in sbx's own process must not leak. */
	int fd = open("/etc/hostname", O_RDONLY);
	cr_assert(fd > 2);
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "fds");
	cr_expect_str_eq(o.out, "0\n1\n2\n");
	h_free(&o);
	close(fd);
}

Test(lifecycle, no_capabilities_and_no_new_privs)
{
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "status");
	cr_expect(strstr(o.out, "CapEff:\t0000000000000000") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "CapPrm:\t0000000000000000") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "CapBnd:\t0000000000000000") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "CapAmb:\t0000000000000000") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "NoNewPrivs:\t1") != NULL, "%s", o.out);
	h_free(&o);
}

Test(lifecycle, hostname_user_and_workdir_are_set)
{
	struct sbx_out o;
	RUN(&o, 0, "--hostname", "strategy-7", "--", PROBE, "hostname");
	cr_expect_str_eq(o.out, "strategy-7\n");
	h_free(&o);
	RUN(&o, 0, "--user", "1000:1001", "--", PROBE, "ids");
	cr_expect_str_eq(o.out, "1000 1001\n", "stderr: %s", o.err);
	h_free(&o);
	RUN(&o, 0, "--workdir", "/tmp", "--", "/bin/pwd");
	cr_expect_str_eq(o.out, "/tmp\n", "stderr: %s", o.err);
	h_free(&o);
}

Test(lifecycle, binds_are_read_only_unless_rw)
{
	char *dir = h_tmpdir();
	char ro[600], rw[600];
	snprintf(ro, sizeof(ro), "%s:/mnt", dir);
	snprintf(rw, sizeof(rw), "%s:/mnt:rw", dir);
	struct sbx_out o;
	RUN(&o, 0, "--bind", ro, "--", PROBE, "write", "/mnt/f");
	cr_expect_str_eq(o.out, "EROFS\n");
	h_free(&o);
	RUN(&o, 0, "--bind", rw, "--", PROBE, "write", "/mnt/f");
	cr_expect_str_eq(o.out, "ok\n", "stderr: %s", o.err);
	h_free(&o);
	char f[700];
	snprintf(f, sizeof(f), "%s/f", dir);
	cr_expect_eq(access(f, F_OK), 0, "the rw bind wrote to the host directory");
	h_rmtree(dir);
	free(dir);
}

Test(lifecycle, missing_mount_targets_work_without_touching_the_rootfs)
{
	char *dir = h_tmpdir();
	char p[600];
	char spec[600];
	snprintf(spec, sizeof(spec), "%s:/sbx-new/deep/data", dir);
	struct sbx_out o;
	RUN(&o, 0, "--bind", spec, "--tmpfs", "/sbx-scratch", "--", PROBE, "write", "/sbx-scratch/x");
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect_str_eq(o.out, "ok\n");
	h_free(&o);
	/* Beneath a directory of the image (owned by ids the sandbox does not
	 * map), and a file onto a missing file. */
	snprintf(spec, sizeof(spec), "%s:/opt/sbx-nested/dir", dir);
	RUN(&o, 0, "--bind", spec, "--", PROBE, "pid");
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	h_free(&o);
	snprintf(p, sizeof(p), "%s/opt/sbx-nested", h_rootfs());
	cr_expect_neq(access(p, F_OK), 0, "mount point was created in the host's rootfs");
	snprintf(p, sizeof(p), "%s/sbx-new", h_rootfs());
	cr_expect_neq(access(p, F_OK), 0, "mount point was created in the host's rootfs");
	snprintf(p, sizeof(p), "%s/sbx-scratch", h_rootfs());
	cr_expect_neq(access(p, F_OK), 0, "mount point was created in the host's rootfs");
	h_rmtree(dir);
	free(dir);
}

Test(lifecycle, rootless_run_as_an_unprivileged_user)
{
	h_need_userns_as(NOBODY);
	struct sbx_out o;
	RUN(&o, NOBODY, "--allow-no-cgroup", "--", PROBE, "status");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "Uid:\t0\t0\t0\t0") != NULL, "caller is root inside: %s", o.out);
	cr_expect(strstr(o.out, "CapEff:\t0000000000000000") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "NoNewPrivs:\t1") != NULL, "%s", o.out);
	h_free(&o);
	RUN(&o, NOBODY, "--allow-no-cgroup", "--", PROBE, "ifaces");
	cr_expect_str_eq(o.out, "lo UP\n", "stderr: %s", o.err);
	h_free(&o);
}

Test(lifecycle, as_root_the_sandbox_root_is_not_host_root)
{
	h_need_root();
	char *dir = h_tmpdir();
	char spec[600], f[700];
	snprintf(spec, sizeof(spec), "%s:/mnt:rw", dir);
	struct sbx_out o;
	RUN(&o, 0, "--bind", spec, "--", PROBE, "write", "/mnt/owned");
	cr_assert_str_eq(o.out, "ok\n", "stderr: %s", o.err);
	snprintf(f, sizeof(f), "%s/owned", dir);
	struct stat st;
	cr_assert_eq(stat(f, &st), 0);
	cr_expect_eq(st.st_uid, 1000000000u, "file made by sandbox root is owned by host uid %u", st.st_uid);
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}

Test(lifecycle, supervisor_sigkill_leaves_no_process)
{
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(h_sbx(), "sbx", "run", "--rootfs", h_rootfs(), "--", PROBE, "sleep", "313", (char *)NULL);
		_exit(99);
	}
	/* Wait until the workload runs. */
	for (int i = 0; i < 100 && h_count_procs("sbx-probe sleep 313") == 0; i++)
		usleep(50000);
	cr_assert_gt(h_count_procs("sbx-probe sleep 313"), 0, "workload never started");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	int left = 1;
	for (int i = 0; i < 100 && (left = h_count_procs("sbx-probe sleep 313")) > 0; i++)
		usleep(20000);
	cr_expect_eq(left, 0, "the workload outlived its supervisor");
	/* The next run removes the cgroup the killed supervisor left. */
	struct sbx_out o;
	RUN(&o, 0, "--", PROBE, "exit", "0");
	h_free(&o);
	cr_expect_eq(h_count_cgroups(pid), 0, "a stale cgroup of the killed run remains");
}

Test(lifecycle, bad_input_is_one_line_naming_the_thing)
{
	struct {
		const char *args[8];
		const char *needle;
	} cases[] = {
		{ { "--rootfs", "/no/such/rootfs", "--", "true" }, "/no/such/rootfs" },
		{ { "--rootfs", "/etc/hostname", "--", "true" }, "not a directory" },
		{ { "--rootfs", "ROOT", "--memory", "12Q", "--", "true" }, "--memory" },
		{ { "--rootfs", "ROOT", "--bind", "/no/such/src:/x", "--", "true" }, "/no/such/src" },
		{ { "--rootfs", "ROOT", "--frobnicate", "--", "true" }, "--frobnicate" },
		{ { "--rootfs", "ROOT", "--network", "wifi", "--", "true" }, "wifi" },
		{ { "--rootfs", "ROOT", "--timeout", "0", "--", "true" }, "--timeout" },
		{ { "--rootfs", "ROOT", "--bind", "/tmp:relative", "--", "true" }, "relative" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		for (int j = 0; cases[i].args[j]; j++)
			if (strcmp(cases[i].args[j], "ROOT") == 0)
				cases[i].args[j] = h_rootfs();
		struct sbx_out o;
		cr_assert_eq(h_run(&o, 0, 30, cases[i].args), 0);
		cr_expect_eq(o.status, 125, "case %zu: status %d", i, o.status);
		cr_expect(strstr(o.err, cases[i].needle) != NULL, "case %zu: '%s' not in: %s", i, cases[i].needle, o.err);
		char *nl = strchr(o.err, '\n');
		cr_expect(nl != NULL && nl[1] == '\0', "case %zu: one line expected: %s", i, o.err);
		h_free(&o);
	}
}

Test(lifecycle, image_config_fills_what_was_not_given)
{
	char *dir = h_tmpdir();
	char ic[600];
	snprintf(ic, sizeof(ic), "%s/image-config.json", dir);
	FILE *f = fopen(ic, "w");
	fputs("{\"sbx_image_config\":1,\"env\":[\"PATH=/usr/bin:/bin\",\"X=image\"],\"entrypoint\":null,"
	      "\"cmd\":[\"/usr/local/bin/sbx-probe\",\"env\"],\"workdir\":\"/tmp\",\"user\":\"nobody\","
	      "\"uid\":65534,\"gid\":65534,\"labels\":{}}",
	      f);
	fclose(f);
	struct sbx_out o;
	/* No command given: the image's; its env, with --env winning. */
	const char *const a[] = { "--rootfs", h_rootfs(), "--image-config", ic, "--env", "X=flag", NULL };
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_str_eq(o.out, "X=flag\nPATH=/usr/bin:/bin\n", "stderr: %s", o.err);
	h_free(&o);
	RUN(&o, 0, "--image-config", ic, "--", PROBE, "ids");
	cr_expect_str_eq(o.out, "65534 65534\n", "the image's user");
	h_free(&o);
	RUN(&o, 0, "--image-config", ic, "--user", "0", "--", PROBE, "ids");
	cr_expect_str_eq(o.out, "0 0\n", "--user wins");
	h_free(&o);
	RUN(&o, 0, "--image-config", ic, "--no-image-config", "--", PROBE, "env");
	cr_expect_str_eq(o.out, "", "--no-image-config ignores it");
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}

Test(lifecycle, rootfs_and_binds_beneath_a_root_only_directory)
{
	/* A checkout under /root: the sandbox's uid could not traverse it; sbx
	 * opens the host paths before it becomes that uid. */
	h_need_root();
	char *priv = h_tmpdir();
	chmod(priv, 0700);
	char root[700], data[700], cmd[4096];
	snprintf(root, sizeof(root), "%s/rootfs", priv);
	snprintf(data, sizeof(data), "%s/data", priv);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/usr/local/bin %s && cp %s%s %s/usr/local/bin/ && echo hello > %s/f",
		 root, data, h_rootfs(), PROBE, root, data);
	cr_assert_eq(system(cmd), 0);
	char spec[800];
	snprintf(spec, sizeof(spec), "%s:/data", data);
	const char *const a[] = { "--rootfs", root, "--bind", spec, "--", PROBE, "read", "/data/f", NULL };
	struct sbx_out o;
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect_str_eq(o.out, "hello\n");
	h_free(&o);
	h_rmtree(priv);
	free(priv);
}

Test(lifecycle, build_caps_keep_only_dockers_default_set)
{
	struct sbx_out o;
	RUN(&o, 0, "--build-caps", "--", PROBE, "status");
	/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
	 * NET_BIND_SERVICE SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP */
	cr_expect(strstr(o.out, "CapEff:\t00000000a80405fb") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "CapBnd:\t00000000a80405fb") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "CapAmb:\t0000000000000000") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "NoNewPrivs:\t1") != NULL, "%s", o.out);
	h_free(&o);
	RUN(&o, 0, "--build-caps", "--user", "1000", "--", PROBE, "status");
	cr_expect(strstr(o.out, "CapEff:\t0000000000000000") != NULL, "a non-root user gets none: %s", o.out);
	h_free(&o);
}
