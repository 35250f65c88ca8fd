/* What a hostile workload can no longer do (issue 12, items 2, 6, 8, 9, 10):
 * reach pid 1, use up the host user's per-namespace counters, open socket
 * pairs of other families, run code it wrote, or, without a cgroup, fork
 * and allocate without bound.  Asserted from inside with sbx-probe and,
 * where it matters, on the host. */
#include <criterion/criterion.h>
#include <dirent.h>
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

#define SECRET "sbx-test-secret-7f3a9c"

static void setup(void) { h_need_fixture(); }

TestSuite(hardening, .init = setup, .timeout = 180);

/* Runs the probe as `uid`, with host paths and a secret in sbx's command line
 * and environment, optionally with --build-caps and a seccomp profile. */
static void run_probe(struct sbx_out *o, uid_t uid, bool build_caps, const char *seccomp, const char *probe_cmd,
		      const char *probe_arg)
{
	char *dir = h_tmpdir();
	char out[4096], bind[4096];
	snprintf(out, sizeof(out), "%s/out-" SECRET, dir);
	snprintf(bind, sizeof(bind), "%s:/mnt", dir);
	const char *args[32];
	size_t n = 0;
	args[n++] = "--rootfs";
	args[n++] = h_rootfs();
	args[n++] = "--out";
	args[n++] = out;
	args[n++] = "--bind";
	args[n++] = bind;
	args[n++] = "--env";
	args[n++] = "TOKEN=" SECRET;
	args[n++] = "--seccomp";
	args[n++] = seccomp;
	if (uid != 0)
		args[n++] = "--allow-no-cgroup";
	if (build_caps)
		args[n++] = "--build-caps";
	args[n++] = "--";
	args[n++] = PROBE;
	args[n++] = probe_cmd;
	if (probe_arg)
		args[n++] = probe_arg;
	args[n] = NULL;
	setenv("SBX_TEST_SECRET", SECRET, 1);
	cr_assert_eq(h_run(o, uid, 60, args), 0);
	unsetenv("SBX_TEST_SECRET");
	h_rmtree(dir);
	free(dir);
}

static void expect_pid1_out_of_reach(uid_t uid, bool build_caps, const char *seccomp)
{
	struct sbx_out o;
	run_probe(&o, uid, build_caps, seccomp, "pid1", NULL);
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "environ EACCES\n") != NULL, "environ readable: %s", o.out);
	cr_expect(strstr(o.out, "fd EACCES\n") != NULL, "fd listable: %s", o.out);
	cr_expect(strstr(o.out, "mem_read EACCES\n") != NULL, "mem readable: %s", o.out);
	cr_expect(strstr(o.out, "mem_write EACCES\n") != NULL, "mem writable: %s", o.out);
	cr_expect(strstr(o.out, "ptrace EPERM\n") != NULL, "ptrace: %s", o.out);
	cr_expect(strstr(o.out, "vm_read EPERM\n") != NULL, "process_vm_readv: %s", o.out);
	cr_expect(strstr(o.out, "cmdline sbx-init\n") != NULL, "cmdline shows more than sbx-init: %s", o.out);
	cr_expect(strstr(o.out, SECRET) == NULL, "the secret reached the workload: %s", o.out);
	h_free(&o);
}

Test(hardening, pid1_is_out_of_reach_as_root)
{
	expect_pid1_out_of_reach(0, false, "default");
	/* The seccomp filter is not what stops it: the kernel's ptrace rules do. */
	expect_pid1_out_of_reach(0, false, "unconfined");
	expect_pid1_out_of_reach(0, true, "unconfined");
}

Test(hardening, pid1_is_out_of_reach_rootless)
{
	h_need_userns_as(NOBODY);
	expect_pid1_out_of_reach(NOBODY, false, "default");
	expect_pid1_out_of_reach(NOBODY, true, "unconfined");
}

static pid_t child_of(pid_t parent)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	pid_t p = fgets(buf, sizeof(buf), f) ? (pid_t)atoi(buf) : -1;
	fclose(f);
	return p > 0 ? p : -1;
}

static bool status_has(pid_t pid, const char *line)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	bool found = false;
	while (!found && fgets(buf, sizeof(buf), f))
		found = strcmp(buf, line) == 0;
	fclose(f);
	return found;
}

/* Seen from the host, where nothing hides it: pid 1 of a running sandbox
 * holds one descriptor (its sync socket), an empty environment, CAP_KILL
 * only, no_new_privs and a seccomp filter — although sbx was started with a
 * secret in its environment and an inherited descriptor. */
Test(hardening, pid1_holds_nothing_of_the_caller)
{
	int inherited = open("/dev/null", O_RDONLY); /* not O_CLOEXEC: sbx inherits it */
	cr_assert_geq(inherited, 0);
	pid_t sbx = fork();
	if (sbx == 0) {
		setenv("SBX_TEST_SECRET", SECRET, 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(h_sbx(), "sbx", "run", "--rootfs", h_rootfs(), "--env", "TOKEN=" SECRET, "--", PROBE, "sleep",
		      "30", (char *)NULL);
		_exit(127);
	}
	close(inherited);
	pid_t pid1 = -1;
	for (int i = 0; i < 500; i++) {
		if (pid1 < 0)
			pid1 = child_of(sbx);
		if (pid1 > 0 && status_has(pid1, "Seccomp:\t2\n"))
			break;
		usleep(10000);
	}
	cr_assert_gt(pid1, 0, "no pid 1 under sbx %d", (int)sbx);
	cr_expect(status_has(pid1, "Name:\tsbx-init\n"));
	cr_expect(status_has(pid1, "NoNewPrivs:\t1\n"));
	cr_expect(status_has(pid1, "CapEff:\t0000000000000020\n"), "pid 1 keeps more than CAP_KILL");
	cr_expect(status_has(pid1, "CapPrm:\t0000000000000020\n"), "pid 1 keeps more than CAP_KILL");

	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid1);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	cr_expect_eq(n, 1, "pid 1 holds %d descriptors, not only its sync socket", n);

	static char buf[1 << 16];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid1);
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	ssize_t len = read(fd, buf, sizeof(buf));
	close(fd);
	for (ssize_t i = 0; i < len; i++)
		cr_expect_eq(buf[i], 0, "pid 1's environment is not wiped at byte %zd", i);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid1);
	fd = open(path, O_RDONLY);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_expect(len > 0 && strcmp(buf, "sbx-init") == 0, "cmdline: %s", buf);
	cr_expect(memmem(buf, (size_t)len, SECRET, strlen(SECRET)) == NULL);

	kill(sbx, SIGKILL);
	waitpid(sbx, NULL, 0);
}

Test(hardening, userns_counters_are_bounded_inside)
{
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "inotify", "200", NULL };
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_str_eq(o.out, "8 EMFILE\n", "default: 8 inotify instances, got %s (stderr %s)", o.out, o.err);
	h_free(&o);
	const char *const b[] = { "--rootfs", h_rootfs(), "--userns-limit", "max_inotify_instances=3",
				  "--", PROBE, "inotify", "200", NULL };
	cr_assert_eq(h_run(&o, 0, 60, b), 0);
	cr_expect_str_eq(o.out, "3 EMFILE\n", "got %s (stderr %s)", o.out, o.err);
	h_free(&o);
	/* With the seccomp filter off, a nested user namespace is still refused. */
	const char *const c[] = { "--rootfs", h_rootfs(), "--seccomp", "unconfined", "--", PROBE, "unshare", NULL };
	cr_assert_eq(h_run(&o, 0, 60, c), 0);
	cr_expect_str_eq(o.out, "unshare ENOSPC\n", "got %s (stderr %s)", o.out, o.err);
	h_free(&o);
	const char *const d[] = { "--rootfs", h_rootfs(), "--userns-limit", "max_spoons=1", "--", "/bin/true", NULL };
	cr_assert_eq(h_run(&o, 0, 60, d), 0);
	cr_expect_eq(o.status, 125);
	cr_expect(strstr(o.err, "--userns-limit") && strstr(o.err, "max_spoons"), "stderr: %s", o.err);
	h_free(&o);
}

Test(hardening, userns_counters_rootless)
{
	h_need_userns_as(NOBODY);
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--allow-no-cgroup", "--", PROBE, "inotify", "200", NULL };
	cr_assert_eq(h_run(&o, NOBODY, 60, a), 0);
	cr_expect_str_eq(o.out, "8 EMFILE\n", "got %s (stderr %s)", o.out, o.err);
	h_free(&o);
}

Test(hardening, socketpair_only_of_unix_sockets)
{
	static const char *const families[] = { "17" /* AF_PACKET */, "16" /* AF_NETLINK */, "40" /* AF_VSOCK */ };
	for (size_t i = 0; i < 3; i++) {
		struct sbx_out o;
		const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "socketpair", families[i], NULL };
		cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
		cr_expect_str_eq(o.out, "socketpair EPERM\n", "family %s: %s", families[i], o.out);
		json_t *den = json_object_get(o.report, "seccomp_denials");
		bool counted = false;
		for (size_t j = 0; j < json_array_size(den); j++) {
			json_t *e = json_array_get(den, j);
			counted |= strcmp(json_string_value(json_object_get(e, "syscall")), "socketpair") == 0 &&
				   json_integer_value(json_object_get(e, "count")) == 1;
		}
		cr_expect(counted, "socketpair not counted in seccomp_denials");
		h_free(&o);
	}
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--", PROBE, "socketpair", "1", NULL };
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_str_eq(o.out, "socketpair ok\n");
	h_free(&o);
}

static void expect_noexec(uid_t uid)
{
	char *dir = h_tmpdir();
	char out[4096];
	snprintf(out, sizeof(out), "%s/out", dir);
	static const char *const places[] = { "/tmp", "/out", "/dev/shm", "/scratch" };
	for (size_t i = 0; i < 4; i++) {
		for (int allow = 0; allow < 2; allow++) {
			struct sbx_out o;
			const char *const a[] = { "--rootfs", h_rootfs(), "--out", out, "--tmpfs", "/scratch",
						  allow ? "--tmpfs-exec" : "--allow-no-cgroup", "--allow-no-cgroup",
						  "--", PROBE, "execcopy", places[i], NULL };
			cr_assert_eq(h_run(&o, uid, 60, a), 0);
			if (allow)
				cr_expect(o.status == 0 && o.out[0] == '\0', "--tmpfs-exec: %s: %s %s", places[i],
					  o.out, o.err);
			else
				cr_expect_str_eq(o.out, "EACCES\n", "%s is executable: %s", places[i], o.err);
			h_free(&o);
		}
	}
	h_rmtree(dir);
	free(dir);
	struct sbx_out o;
	const char *const m[] = { "--rootfs", h_rootfs(), "--allow-no-cgroup", "--", PROBE, "memfdexec", NULL };
	cr_assert_eq(h_run(&o, uid, 60, m), 0);
	cr_expect_str_eq(o.out, "memfd_create EPERM\n", "an executable memfd: %s", o.out);
	h_free(&o);
}

Test(hardening, writable_places_are_noexec) { expect_noexec(0); }

Test(hardening, writable_places_are_noexec_rootless)
{
	h_need_userns_as(NOBODY);
	expect_noexec(NOBODY);
}

/* Without the seccomp rule, the sandbox's vm.memfd_noexec (root-started
 * sandboxes: see kernel_limits.h) still seals every memfd against exec. */
Test(hardening, memfd_noexec_without_seccomp)
{
	h_need_root();
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--seccomp", "unconfined", "--", PROBE, "memfdexec", NULL };
	cr_assert_eq(h_run(&o, 0, 60, a), 0);
	cr_expect_str_eq(o.out, "fexecve EACCES\n", "got %s %s", o.out, o.err);
	h_free(&o);
	const char *const b[] = { "--rootfs", h_rootfs(), "--", PROBE, "read", "/proc/sys/vm/memfd_noexec", NULL };
	cr_assert_eq(h_run(&o, 0, 60, b), 0);
	cr_expect_str_eq(o.out, "2\n");
	h_free(&o);
}

/* Without a cgroup (rootless here, or root with --allow-no-cgroup and no
 * usable parent), rlimits bound processes, memory and file size. */
static void expect_rlimits(uid_t uid)
{
	const char *no_parent = "/sbx-test-missing/../sbx-test-missing";
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--allow-no-cgroup", "--cgroup-parent", no_parent,
				  "--pids", "32", "--", PROBE, "forkbomb", "600", NULL };
	cr_assert_eq(h_run_report(&o, uid, 60, a), 0);
	int forked = atoi(o.out);
	cr_expect(forked > 0 && forked < 32 && strstr(o.out, " EAGAIN\n"), "fork bomb: %s (%s)", o.out, o.err);
	json_t *cg = json_object_get(o.report, "cgroup");
	cr_expect_str_eq(json_string_value(json_object_get(cg, "limits_enforced")), "rlimit");
	h_free(&o);
	const char *const b[] = { "--rootfs", h_rootfs(), "--allow-no-cgroup", "--cgroup-parent", no_parent,
				  "--memory", "256M", "--", PROBE, "alloc", "2048", NULL };
	cr_assert_eq(h_run(&o, uid, 60, b), 0);
	cr_expect_str_eq(o.out, "ENOMEM\n", "2 GiB under --memory 256M: %s %s", o.out, o.err);
	h_free(&o);
	const char *const c[] = { "--rootfs", h_rootfs(), "--allow-no-cgroup", "--cgroup-parent", no_parent,
				  "--memory", "256M", "--", PROBE, "alloc", "64", NULL };
	cr_assert_eq(h_run(&o, uid, 60, c), 0);
	cr_expect_str_eq(o.out, "ok\n", "64 MiB under --memory 256M: %s %s", o.out, o.err);
	h_free(&o);

	/* RLIMIT_FSIZE: a file on a read-write bind stops at the largest tmpfs
	 * size (here the 2M /out), on the host. */
	char *dir = h_tmpdir();
	char bind[4096], out[4096], file[4096];
	snprintf(bind, sizeof(bind), "%s:/w:rw", dir);
	snprintf(out, sizeof(out), "%s/out:2M", dir);
	snprintf(file, sizeof(file), "%s/big", dir);
	char yaml[4096];
	snprintf(yaml, sizeof(yaml), "%s/c.yaml", dir);
	FILE *f = fopen(yaml, "w");
	fputs("limits: { tmp: 1M }\n", f);
	fclose(f);
	chmod(yaml, 0644);
	const char *const d[] = { "--config", yaml, "--rootfs", h_rootfs(), "--allow-no-cgroup", "--cgroup-parent",
				  no_parent, "--bind", bind, "--out", out, "--", PROBE, "fill", "/w/big", NULL };
	cr_assert_eq(h_run(&o, uid, 60, d), 0);
	struct stat st;
	cr_assert_eq(stat(file, &st), 0);
	cr_expect_eq(st.st_size, 2 << 20, "a %lld-byte file on the host", (long long)st.st_size);
	cr_expect_eq(o.status, 128 + SIGXFSZ, "status %d: %s", o.status, o.err);
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}

Test(hardening, rlimits_without_a_cgroup_as_root) { expect_rlimits(0); }

Test(hardening, rlimits_without_a_cgroup_rootless)
{
	h_need_userns_as(NOBODY);
	expect_rlimits(NOBODY);
}
