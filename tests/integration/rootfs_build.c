/* sbx-rootfs build: what COPY and RUN steps may leave on the host, and the
 * RUN steps' network.  The base image is a flat tar of busybox (static), so
 * each build takes a second; RUN steps run in the real sbx run as root.
 * Issue 12, items 1 and the build's network default. */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "rootfs-builder/import.h"
#include "runtime/config.h"

static char tmp[256], out[300], abs_build[512];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/sbx-rootfs-build-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(out, sizeof(out), "%s/out", tmp);
	const char *b = getenv("SBX_BUILD");
	cr_assert_not_null(realpath(b && *b ? b : "build", abs_build), "no build directory");
}

static void teardown(void)
{
	if (tmp[0])
		rfs_remove_path(tmp);
	tmp[0] = '\0';
}

TestSuite(rootfs_build, .init = setup, .fini = teardown, .timeout = 120);

#define skip_test(...)                                                                                       \
	do {                                                                                                 \
		teardown();                                                                                  \
		cr_skip_test(__VA_ARGS__);                                                                   \
	} while (0)

static int sh_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh_status(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	cr_assert_gt(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	int st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define sh(...) cr_assert_eq(sh_status(__VA_ARGS__), 0, "command failed")

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f, "open %s", p);
	char *b = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&b, &n);
	char buf[65536];
	size_t k;
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, k, m);
	fclose(f);
	fclose(m);
	return b;
}

/* Root, busybox and setcap, or skip: RUN needs the shifted range. */
static void need_build_host(void)
{
	if (geteuid() != 0)
		skip_test("RUN steps with the image's ids need root");
	if (sh_status("command -v busybox >/dev/null && command -v setcap >/dev/null") != 0)
		skip_test("busybox or setcap missing (tools/install-deps)");
}

/* ctx/: Dockerfile, a set-uid busybox, a file with cap_setuid+ep (the
 * static probe), a plain file; base.tar: busybox as /bin/busybox and
 * /bin/sh. */
static void make_context(const char *dockerfile)
{
	sh("set -e; cd '%s'; mkdir -p ctx base/bin base/proc base/dev base/tmp; bb=\"$(command -v "
	   "busybox)\"; cp \"$bb\" base/bin/busybox; "
	   "ln -s busybox base/bin/sh; tar -C base -cf base.tar .; "
	   "cp \"$bb\" ctx/suid; chmod 4755 ctx/suid; echo plain >ctx/plain; "
	   "cp '%s/sbx-probe' ctx/probe; setcap cap_setuid+ep ctx/probe",
	   tmp, abs_build);
	char p[400];
	snprintf(p, sizeof(p), "%s/ctx/Dockerfile", tmp);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(dockerfile, f);
	fclose(f);
}

/* sbx-rootfs build of ctx/Dockerfile into out; returns its exit status,
 * the output in *log. */
static int build(const char *extra, char **log)
{
	int st = sh_status("cd '%s' && '%s/sbx-rootfs' build %s -f ctx/Dockerfile --base base=base.tar "
			   "--out '%s' ctx >build.log 2>&1",
			   tmp, abs_build, extra, out);
	char p[400];
	snprintf(p, sizeof(p), "%s/build.log", tmp);
	*log = slurp(p);
	return st;
}

static struct stat stat_in_out(const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", out, rel);
	cr_assert_eq(lstat(p, &st), 0, "%s: %s", p, strerror(errno));
	return st;
}

/* COPY and RUN may not leave a set-id file or a host-effective capability:
 * COPY goes through the extractor's rules, RUN's tree is scanned after the
 * step (a step runs as the image's root and may chmod u+s anything). */
Test(rootfs_build, copy_and_run_leave_no_privilege_on_the_host)
{
	need_build_host();
	make_context("FROM base\n"
		     "COPY suid /suid-copied\n"
		     "COPY --chmod=6755 plain /chmod-copied\n"
		     "COPY probe /probe\n"
		     "RUN busybox cp /bin/busybox /rootsh && busybox chmod 4755 /rootsh && busybox chmod "
		     "2755 /bin/busybox\n");
	char *log = NULL;
	cr_assert_eq(build("", &log), 0, "build failed:\n%s", log);
	const char *files[] = {"rootsh", "bin/busybox", "suid-copied", "chmod-copied"};
	for (size_t i = 0; i < 4; i++) {
		struct stat st = stat_in_out(files[i]);
		cr_assert_eq(st.st_mode & 06000, 0, "/%s: mode %o on the host", files[i], st.st_mode & 07777);
		cr_assert_eq(st.st_uid, SBX_DEFAULT_IDMAP_BASE, "/%s: owner %u", files[i], st.st_uid);
	}
	cr_assert(strstr(log, "set-uid/set-gid bit(s) cleared"), "%s", log);
	/* COPY'd capability: bound to the sandbox's root, as the import does. */
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "getcap -n '%s/probe' | grep -q 'cap_setuid=ep \\[rootid=%u\\]'", out,
		 SBX_DEFAULT_IDMAP_BASE);
	cr_assert_eq(system(cmd), 0, "COPY kept a host-effective capability (or none)");
	free(log);
}

/* Interfaces a RUN step sees, from /proc/net/dev, written into the image. */
static char *run_step_interfaces(const char *extra)
{
	make_context("FROM base\nRUN busybox cat /proc/net/dev > /netdev\n");
	char *log = NULL;
	cr_assert_eq(build(extra, &log), 0, "build failed:\n%s", log);
	free(log);
	char p[400];
	snprintf(p, sizeof(p), "%s/netdev", out);
	return slurp(p);
}

static int host_has_other_interface(void)
{
	char *d = slurp("/proc/net/dev");
	int other = 0;
	for (char *l = strchr(d, '\n'); l && (l = strchr(l + 1, '\n')) && l[1];)
		other |= strncmp(l + 1 + strspn(l + 1, " "), "lo:", 3) != 0;
	free(d);
	return other;
}

/* Only lo by default: the step is in its own network namespace, without the
 * host's interfaces, loopback services or abstract unix sockets. */
Test(rootfs_build, run_steps_do_not_get_the_host_network_by_default)
{
	need_build_host();
	if (!host_has_other_interface())
		skip_test("the host has no interface but lo: nothing to tell apart");
	char *d = run_step_interfaces("");
	int n = 0;
	for (char *l = strchr(d, '\n'); l && (l = strchr(l + 1, '\n')) && l[1]; n++)
		cr_assert_eq(strncmp(l + 1 + strspn(l + 1, " "), "lo:", 3), 0, "a RUN step saw:\n%s", d);
	cr_assert_eq(n, 1, "expected lo only:\n%s", d);
	free(d);
}

/* --network host: the explicit way to give steps the host's network. */
Test(rootfs_build, run_steps_get_the_host_network_when_asked)
{
	need_build_host();
	if (!host_has_other_interface())
		skip_test("the host has no interface but lo: nothing to tell apart");
	char *d = run_step_interfaces("--network host");
	int other = 0;
	for (char *l = strchr(d, '\n'); l && (l = strchr(l + 1, '\n')) && l[1];)
		other |= strncmp(l + 1 + strspn(l + 1, " "), "lo:", 3) != 0;
	cr_assert(other, "--network host, yet only lo:\n%s", d);
	free(d);
}

Test(rootfs_build, network_option_is_checked)
{
	char *log = NULL;
	make_context("FROM base\n");
	cr_assert_eq(build("--network bridge", &log), 2, "%s", log);
	cr_assert(strstr(log, "--network: expected loopback, none or host, not 'bridge'"), "%s", log);
	free(log);
}

/* Whether uid 65534 can reach path (stat through every directory above). */
static int nobody_can_stat(const char *path)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct stat st;
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		_exit(stat(path, &st) == 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) < 2);
	return WEXITSTATUS(st) == 0;
}

/* While a RUN step runs, the stage may hold what the step made (a set-uid
 * shell, before the scan after the step): no other host user may reach it,
 * even where --out's directory is open to all. */
Test(rootfs_build, stage_is_not_reachable_by_other_users_while_run_runs)
{
	need_build_host();
	make_context("FROM base\nRUN busybox cp /bin/busybox /rootsh && busybox chmod 4755 /rootsh && "
		     "busybox sleep 4\n");
	cr_assert_eq(chmod(tmp, 0755), 0);
	char cmd[1500];
	snprintf(
	    cmd, sizeof(cmd),
	    "cd '%s' && exec '%s/sbx-rootfs' build -q -f ctx/Dockerfile --base base=base.tar --out '%s' ctx",
	    tmp, abs_build, out);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	char pat[400], pat2[400];
	snprintf(pat, sizeof(pat), "%s/out.tmp-*/rootsh", tmp);
	snprintf(pat2, sizeof(pat2), "%s/out.tmp-*/*/rootsh", tmp);
	char found[600] = "";
	for (int i = 0; i < 200 && !found[0]; i++) {
		glob_t g = {0};
		if (glob(pat, 0, NULL, &g) == 0 || glob(pat2, GLOB_APPEND, NULL, &g) == 0)
			snprintf(found, sizeof(found), "%s", g.gl_pathv[0]);
		globfree(&g);
		if (!found[0])
			usleep(50 * 1000);
	}
	int st;
	cr_assert_neq(found[0], 0, "the RUN step's file never appeared");
	struct stat sb;
	cr_assert_eq(stat(found, &sb), 0);
	int reachable = nobody_can_stat(found);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "build failed (%d)", st);
	cr_assert(!reachable, "uid 65534 reached %s (mode %o) during the RUN step", found,
		  sb.st_mode & 07777);
	/* And afterwards the output has no set-id file. */
	cr_assert_eq(stat_in_out("rootsh").st_mode & 06000, 0);
}

/* Rootless (uid 65534): everything is the caller's; a set-id bit left by
 * COPY or by a RUN step (as the namespace's root, i.e. the caller) would
 * hand the caller's uid to whoever runs the file. */
Test(rootfs_build, rootless_copy_and_run_leave_no_setid)
{
	need_build_host();
	make_context("FROM base\n"
		     "COPY suid /suid-copied\n"
		     "RUN busybox cp /bin/busybox /rootsh && busybox chmod 4755 /rootsh\n");
	sh("chmod -R a+rX '%s' && chmod 0777 '%s'", tmp, tmp);
	int st =
	    sh_status("cd '%s' && setpriv --reuid=65534 --regid=65534 --clear-groups '%s/sbx-rootfs' build "
		      "-f ctx/Dockerfile --base base=base.tar --out '%s' ctx >build.log 2>&1",
		      tmp, abs_build, out);
	char p[400];
	snprintf(p, sizeof(p), "%s/build.log", tmp);
	char *log = slurp(p);
	if (st != 0 && strstr(log, "user namespace"))
		skip_test("no unprivileged user namespaces here: %s", log);
	cr_assert_eq(st, 0, "rootless build failed:\n%s", log);
	const char *files[] = {"rootsh", "suid-copied"};
	for (size_t i = 0; i < 2; i++) {
		struct stat sb = stat_in_out(files[i]);
		cr_assert_eq(sb.st_uid, 65534, "/%s: owner %u", files[i], sb.st_uid);
		cr_assert_eq(sb.st_mode & 06000, 0, "/%s: mode %o on the host", files[i], sb.st_mode & 07777);
	}
	free(log);
}

/* An option of the other command is refused, naming it, not ignored. */
Test(rootfs_build, options_of_the_other_command_are_refused)
{
	static const char *const cases[][2] = {
		{ "import --network host x.tar --out /nonexistent/o", "--network is an option of 'build' only" },
		{ "import --mirror http://x x.tar --out /nonexistent/o", "--mirror is an option of 'build' only" },
		{ "import -f Dockerfile x.tar --out /nonexistent/o", "-f/--file is an option of 'build' only" },
		{ "build --ref latest --out /nonexistent/o", "--ref is an option of 'import' only" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "%s/sbx-rootfs %s 2>&1", abs_build, cases[i][0]);
		FILE *p = popen(cmd, "r");
		cr_assert_not_null(p);
		char out[1024] = "";
		size_t n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		int st = pclose(p);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d", cases[i][0], st);
		cr_expect(strstr(out, cases[i][1]) != NULL, "%s: %s", cases[i][0], out);
	}
}
