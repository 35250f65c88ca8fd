/* Where the run's cgroup goes and what sbx says when it cannot have one,
 * decided against fake cgroup trees in a temporary directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"

static char tmp[32];
static uid_t owner; /* who owns the fake tree: the "delegated" user */
static const struct sbx_limits limits = {.memory = 1u << 30, .memory_swap = 0, .pids = 256, .cpus = 1.0};
#define ALL (SBX_CG_BIT(SBX_CG_MEMORY) | SBX_CG_BIT(SBX_CG_PIDS) | SBX_CG_BIT(SBX_CG_CPU))

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void setup(void)
{
	strcpy(tmp, "/tmp/sbx-cgtest-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	/* As root, pretend the delegated user is uid 4242; otherwise it is us. */
	owner = geteuid() == 0 ? 4242 : geteuid();
}

static void cg2(const char *rel, const char *controllers, const char *subtree, const char *procs,
		bool is_root);

/* Every test starts with a v2 root offering the usual controllers. */
static void setup_v2(void)
{
	setup();
	cg2("/sys/fs/cgroup", "cpuset cpu io memory pids\n", "cpu memory pids\n", "1\n", true);
}

static void teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(cgroup_plan, .init = setup_v2, .fini = teardown);

static char *P(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, PATH_MAX, "%s%s", tmp, rel);
	return b;
}

static void mkdirs(const char *path)
{
	char b[PATH_MAX];
	snprintf(b, sizeof(b), "%s", path);
	for (char *s = b + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(b, 0755);
		*s = '/';
	}
	mkdir(b, 0755);
}

static void put(const char *dir, const char *file, const char *content)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(content, f);
	fclose(f);
}

/* A fake cgroup v2 directory.  Only non-root cgroups have cgroup.type. */
static void cg2(const char *rel, const char *controllers, const char *subtree, const char *procs,
		bool is_root)
{
	char *d = P(rel);
	mkdirs(d);
	put(d, "cgroup.controllers", controllers);
	put(d, "cgroup.subtree_control", subtree);
	put(d, "cgroup.procs", procs);
	if (!is_root)
		put(d, "cgroup.type", "domain\n");
}

static void chown_cg(const char *rel, uid_t uid)
{
	static const char *const files[] = {"", "/cgroup.procs", "/cgroup.subtree_control"};
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s%s", P(rel), files[i]);
		if (uid != geteuid())
			cr_assert_eq(chown(p, uid, -1), 0, "chown %s: %s", p, strerror(errno));
	}
}

static const char v2_mountinfo[] = "22 1 0:21 / / rw - ext4 /dev/vda1 rw\n"
				   "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

static const char hybrid_mountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_self[] = "9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/process_api/abc\n"
				  "2:cpuacct:/\n1:cpu:/\n0::/\n";

static struct sbx_cgroup_host host(const char *self, const char *mi, uid_t euid)
{
	return (struct sbx_cgroup_host){
	    .root = tmp, .self_cgroup = self, .mountinfo = mi, .euid = euid, .pid = 4000};
}

static const char user_cg[] =
    "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run.scope";
static const char user_self[] = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run.scope\n";

Test(cgroup_plan, v2_root_default_is_sbx_subtree)
{
	cg2("/sys/fs/cgroup", "cpuset cpu io memory pids\n", "", "1\n2\n", true);
	struct sbx_cgroup_host h = host("0::/init.scope\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0, "%s", err ? err->msg : "");
	cr_expect_eq(p.version, 2);
	cr_expect_str_eq(p.parent, P("/sys/fs/cgroup/sbx"));
	/* The root cgroup may hold processes and still enable controllers. */
	cr_expect_str_eq(p.chain_top, P("/sys/fs/cgroup"));
	cr_expect_null(p.self_leaf_in);
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, v2_root_in_namespace_with_processes_refuses)
{
	/* A container whose cgroup namespace root holds its processes. */
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "", "1\n57\n", false);
	struct sbx_cgroup_host h = host("0::/\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "no-internal-processes") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "2 other process") != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, v2_root_existing_subtree_enabled)
{
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "cpu memory pids\n", "1\n", true);
	cg2("/sys/fs/cgroup/sbx", "cpu memory pids\n", "cpu memory pids\n", "", false);
	struct sbx_cgroup_host h = host("0::/\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, NULL), 0);
	cr_expect_str_eq(p.parent, P("/sys/fs/cgroup/sbx"));
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, v2_rootless_alone_in_delegated_cgroup_moves_to_leaf)
{
	cg2(user_cg, "cpu memory pids\n", "", "4000\n", false);
	chown_cg(user_cg, owner);
	struct sbx_cgroup_host h = host(user_self, v2_mountinfo, owner);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0, "%s", err ? err->msg : "");
	cr_expect_str_eq(p.parent, P(user_cg));
	cr_expect_str_eq(p.self_leaf_in, P(user_cg));
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, v2_rootless_already_enabled_needs_no_move)
{
	cg2(user_cg, "cpu memory pids\n", "cpu memory pids\n", "", false);
	chown_cg(user_cg, owner);
	struct sbx_cgroup_host h = host(user_self, v2_mountinfo, owner);
	struct sbx_cgroup_plan p;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, NULL), 0);
	cr_expect_str_eq(p.parent, P(user_cg));
	cr_expect_null(p.self_leaf_in);
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, v2_rootless_shared_cgroup_refuses)
{
	cg2(user_cg, "cpu memory pids\n", "", "3999\n4000\n", false);
	chown_cg(user_cg, owner);
	struct sbx_cgroup_host h = host(user_self, v2_mountinfo, owner);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "1 other process") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "systemd-run --user --scope -p Delegate=yes") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "memory, pids, cpu") != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, v2_rootless_not_delegated)
{
	cg2(user_cg, "cpu memory pids\n", "", "4000\n", false);
	chown_cg(user_cg, owner);
	struct sbx_cgroup_host h = host(user_self, v2_mountinfo, owner + 1);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	char want[128];
	snprintf(want, sizeof(want), "not delegated to you: %s is owned by uid %u, not uid %u", P(user_cg),
		 (unsigned)owner, (unsigned)owner + 1);
	cr_expect(strstr(err->msg, want) != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, v2_rootless_missing_controllers_named)
{
	/* systemd delegated only cpu (e.g. an old user@.service default). */
	cg2(user_cg, "cpu\n", "", "4000\n", false);
	chown_cg(user_cg, owner);
	struct sbx_cgroup_host h = host(user_self, v2_mountinfo, owner);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "controller(s) memory, pids not available") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "lists: cpu)") != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, v2_cpu_not_needed_without_cpu_limit)
{
	cg2(user_cg, "memory pids\n", "", "4000\n", false);
	chown_cg(user_cg, owner);
	struct sbx_cgroup_host h = host(user_self, v2_mountinfo, owner);
	struct sbx_cgroup_plan p;
	struct sbx_limits l = limits;
	l.cpus = 0;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, sbx_cgroup_needed(&l), &p, NULL), 0);
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, v2_explicit_parent_created_below_nearest_existing)
{
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "cpu memory pids\n", "1\n", true);
	cg2("/sys/fs/cgroup/jobs", "cpu memory pids\n", "", "", false);
	struct sbx_cgroup_host h = host("0::/\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	cr_assert_eq(sbx_cgroup_plan(&h, "/jobs/strategies/batch1", ALL, &p, NULL), 0);
	cr_expect_str_eq(p.parent, P("/sys/fs/cgroup/jobs/strategies/batch1"));
	cr_expect_str_eq(p.chain_top, P("/sys/fs/cgroup/jobs"));
	sbx_cgroup_plan_free(&p);
	/* The same parent given as a directory. */
	cr_assert_eq(sbx_cgroup_plan(&h, P("/sys/fs/cgroup/jobs"), ALL, &p, NULL), 0);
	cr_expect_str_eq(p.parent, P("/sys/fs/cgroup/jobs"));
	sbx_cgroup_plan_free(&p);
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, "/jobs/../etc", ALL, &p, &err), 0);
	sbx_error_free(&err);
}

Test(cgroup_plan, v2_rootless_explicit_parent_outside_own_subtree)
{
	/* A chowned subtree, but sbx was started elsewhere: CLONE_INTO_CGROUP
	 * would need write access to the common ancestor (the root). */
	if (geteuid() != 0) {
		teardown(); /* a skipped test does not reach .fini */
		cr_skip_test("needs root to give the fake tree's root another owner");
	}
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "cpu memory pids\n", "1\n", true);
	cg2("/sys/fs/cgroup/deleg", "cpu memory pids\n", "cpu memory pids\n", "", false);
	chown_cg("/sys/fs/cgroup/deleg", owner);
	cg2("/sys/fs/cgroup/session.scope", "cpu memory pids\n", "", "4000\n", false);
	struct sbx_cgroup_host h = host("0::/session.scope\n", v2_mountinfo, owner);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, "/deleg", ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "must be started from inside the delegated subtree") != NULL, "%s",
		  err->msg);
	sbx_error_free(&err);
	/* Started inside it, it works. */
	cg2("/sys/fs/cgroup/deleg/shell", "cpu memory pids\n", "", "4000\n", false);
	chown_cg("/sys/fs/cgroup/deleg/shell", owner);
	h.self_cgroup = "0::/deleg/shell\n";
	cr_assert_eq(sbx_cgroup_plan(&h, "/deleg", ALL, &p, &err), 0, "%s", err ? err->msg : "");
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, hybrid_root_falls_back_to_v1_beneath_own_cgroups)
{
	cg2("/sys/fs/cgroup/unified", "", "", "1\n", true);
	for (const char *const *d =
		 (const char *const[]){"/sys/fs/cgroup/memory/process_api/abc", "/sys/fs/cgroup/pids",
				       "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
				       "/sys/fs/cgroup/freezer", NULL};
	     *d; d++)
		mkdirs(P(*d));
	struct sbx_cgroup_host h = host(hybrid_self, hybrid_mountinfo, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0, "%s", err ? err->msg : "");
	cr_expect_eq(p.version, 1);
	cr_expect_str_eq(p.v1_parent[SBX_CG_MEMORY], P("/sys/fs/cgroup/memory/process_api/abc"));
	cr_expect_str_eq(p.v1_parent[SBX_CG_PIDS], P("/sys/fs/cgroup/pids"));
	cr_expect_str_eq(p.v1_parent[SBX_CG_CPU], P("/sys/fs/cgroup/cpu"));
	cr_expect_str_eq(p.v1_parent[SBX_CG_CPUACCT], P("/sys/fs/cgroup/cpuacct"));
	cr_expect_str_eq(p.v1_parent[SBX_CG_FREEZER], P("/sys/fs/cgroup/freezer"));
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, v1_comounted_cpu_cpuacct_share_a_directory)
{
	const char mi[] = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
			  "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
			  "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
	const char self[] = "3:pids:/user.slice\n2:memory:/user.slice\n1:cpu,cpuacct:/user.slice\n";
	mkdirs(P("/sys/fs/cgroup/cpu,cpuacct/user.slice"));
	mkdirs(P("/sys/fs/cgroup/memory/user.slice"));
	mkdirs(P("/sys/fs/cgroup/pids/user.slice"));
	struct sbx_cgroup_host h = host(self, mi, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0, "%s", err ? err->msg : "");
	cr_expect_eq(p.version, 1);
	cr_expect_str_eq(p.v1_parent[SBX_CG_CPU], P("/sys/fs/cgroup/cpu,cpuacct/user.slice"));
	cr_expect_str_eq(p.v1_parent[SBX_CG_CPUACCT], P("/sys/fs/cgroup/cpu,cpuacct/user.slice"));
	/* Optional freezer not mounted: fine. */
	cr_expect_null(p.v1_parent[SBX_CG_FREEZER]);
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, hybrid_rootless_refuses_with_both_reasons)
{
	cg2("/sys/fs/cgroup/unified", "", "", "1\n", true);
	chown_cg("/sys/fs/cgroup/unified", owner);
	mkdirs(P("/sys/fs/cgroup/memory/process_api/abc"));
	mkdirs(P("/sys/fs/cgroup/pids"));
	mkdirs(P("/sys/fs/cgroup/cpu"));
	struct sbx_cgroup_host h = host(hybrid_self, hybrid_mountinfo, owner);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "cgroup v2: the cgroup2 hierarchy at ") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "/sys/fs/cgroup/unified has no memory, pids, cpu controller") != NULL,
		  "%s", err->msg);
	cr_expect(strstr(err->msg, "lists: nothing") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "the cgroup v1 fallback needs root") != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, v1_missing_controller_named)
{
	cg2("/sys/fs/cgroup/unified", "", "", "1\n", true);
	const char mi[] = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
			  "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
			  "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	mkdirs(P("/sys/fs/cgroup/memory"));
	mkdirs(P("/sys/fs/cgroup/cpu"));
	struct sbx_cgroup_host h = host("4:memory:/\n1:cpu:/\n0::/\n", mi, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "cgroup v1: controller(s) pids not mounted") != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, no_cgroup_filesystem)
{
	struct sbx_cgroup_host h = host("", "22 1 0:21 / / rw - ext4 /dev/vda1 rw\n", 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_plan(&h, NULL, ALL, &p, &err), 0);
	cr_expect(strstr(err->msg, "cgroup v2 is not mounted") != NULL, "%s", err->msg);
	sbx_error_free(&err);
}

Test(cgroup_plan, stale_removed_only_when_creator_dead)
{
	pid_t dead = fork();
	cr_assert_geq(dead, 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	char name[64];
	const char *dir = P("/parent");
	mkdirs(dir);
	snprintf(name, sizeof(name), "/parent/sbx-%d-0badcafe", (int)dead);
	mkdirs(P(name));
	snprintf(name, sizeof(name), "/parent/sbx-%d-0badcafe", (int)getpid());
	mkdirs(P(name));
	snprintf(name, sizeof(name), "/parent/sbx-%d-sup", (int)getppid());
	mkdirs(P(name));
	mkdirs(P("/parent/not-sbx-1-2"));
	cr_expect_eq(sbx_cgroup_remove_stale(dir, 1), 1);
	char live[64];
	snprintf(live, sizeof(live), "/parent/sbx-%d-0badcafe", (int)getpid());
	struct stat st;
	cr_expect_eq(stat(P(live), &st), 0, "our own cgroup was removed");
	cr_expect_eq(stat(P("/parent/not-sbx-1-2"), &st), 0);
	snprintf(name, sizeof(name), "/parent/sbx-%d-0badcafe", (int)dead);
	cr_expect_lt(stat(P(name), &st), 0, "stale cgroup of dead pid %d left", (int)dead);
}

static char *read_back(const char *rel)
{
	static char buf[256];
	FILE *f = fopen(P(rel), "r");
	cr_assert_not_null(f, "%s", P(rel));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

Test(cgroup_plan, create_enables_down_the_chain_and_cleans_up_a_failure)
{
	/* The fake tree has no limit files, so the first limit write fails:
	 * by then the controllers were enabled level by level, and the failure
	 * must leave no run cgroup behind. */
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "", "1\n", true);
	struct sbx_cgroup_host h = host("0::/\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	cr_assert_eq(sbx_cgroup_plan(&h, "/jobs/a", ALL, &p, NULL), 0);
	/* Levels the plan creates get their interface files from the kernel;
	 * here the test supplies them. */
	cg2("/sys/fs/cgroup/jobs", "cpu memory pids\n", "", "", false);
	cg2("/sys/fs/cgroup/jobs/a", "cpu memory pids\n", "", "", false);
	struct sbx_cgroup *cg = NULL;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_create_from_plan(&h, &p, &limits, &cg, &err), 0);
	cr_expect(strstr(err->msg, "memory.max") != NULL, "%s", err->msg);
	cr_expect(strstr(err->msg, "creating the sandbox's cgroup") == err->msg, "%s", err->msg);
	cr_expect_str_eq(read_back("/sys/fs/cgroup/cgroup.subtree_control"), "+memory +pids +cpu");
	cr_expect_str_eq(read_back("/sys/fs/cgroup/jobs/cgroup.subtree_control"), "+memory +pids +cpu");
	cr_expect_str_eq(read_back("/sys/fs/cgroup/jobs/a/cgroup.subtree_control"), "+memory +pids +cpu");
	cr_expect_eq(count_entries(P("/sys/fs/cgroup/jobs/a")), 0, "run cgroup left after a failed create");
	sbx_error_free(&err);
	sbx_cgroup_plan_free(&p);
}

Test(cgroup_plan, create_only_adds_missing_controllers)
{
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "memory pids\n", "1\n", true);
	cg2("/sys/fs/cgroup/sbx", "cpu memory pids\n", "cpu\n", "", false);
	struct sbx_cgroup_host h = host("0::/\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	cr_assert_eq(sbx_cgroup_plan(&h, NULL, ALL, &p, NULL), 0);
	struct sbx_cgroup *cg = NULL;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cgroup_create_from_plan(&h, &p, &limits, &cg, &err), 0);
	/* Written without O_TRUNC, as cgroupfs expects: the fake file keeps
	 * its old tail after what sbx wrote. */
	cr_expect(strncmp(read_back("/sys/fs/cgroup/cgroup.subtree_control"), "+cpu", 4) == 0, "%s",
		  read_back("/sys/fs/cgroup/cgroup.subtree_control"));
	cr_expect_str_eq(read_back("/sys/fs/cgroup/sbx/cgroup.subtree_control"), "+memory +pids");
	sbx_error_free(&err);
	sbx_cgroup_plan_free(&p);
}

/* An OCI cgroupsPath on a hybrid host: beneath the caller's own cgroup in
 * each v1 hierarchy, never at the hierarchy's top; the levels create makes
 * are gone after a failed create (the fake tree has no limit files), while
 * a level that was there stays. */
Test(cgroup_plan, oci_path_v1_beneath_own_cgroups_levels_made_and_removed)
{
	cg2("/sys/fs/cgroup/unified", "", "", "1\n", true);
	for (const char *const *d =
		 (const char *const[]){"/sys/fs/cgroup/memory/process_api/abc", "/sys/fs/cgroup/pids",
				       "/sys/fs/cgroup/cpu/libpod_parent", "/sys/fs/cgroup/cpuacct",
				       "/sys/fs/cgroup/freezer", NULL};
	     *d; d++)
		mkdirs(P(*d));
	struct sbx_cgroup_host h = host(hybrid_self, hybrid_mountinfo, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_plan_path(&h, "/libpod_parent/libpod-c1", ALL, &p, &err), 0, "%s",
		     err ? err->msg : "");
	cr_expect_eq(p.version, 1);
	cr_expect_str_eq(p.name, "libpod-c1");
	cr_expect_str_eq(p.v1_parent[SBX_CG_MEMORY], P("/sys/fs/cgroup/memory/process_api/abc/libpod_parent"));
	cr_expect_str_eq(p.v1_base[SBX_CG_MEMORY], P("/sys/fs/cgroup/memory/process_api/abc"));
	cr_expect_str_eq(p.v1_parent[SBX_CG_PIDS], P("/sys/fs/cgroup/pids/libpod_parent"));
	struct sbx_cgroup *cg = NULL;
	cr_assert_lt(sbx_cgroup_create_from_plan(&h, &p, &limits, &cg, &err), 0);
	sbx_error_free(&err);
	cr_expect_eq(count_entries(P("/sys/fs/cgroup/memory/process_api/abc")), 0, "levels left in memory");
	cr_expect_eq(count_entries(P("/sys/fs/cgroup/pids")), 0, "levels left in pids");
	cr_expect_eq(count_entries(P("/sys/fs/cgroup/cpu/libpod_parent")), 0, "run cgroup left in cpu");
	cr_expect_eq(count_entries(P("/sys/fs/cgroup/cpu")), 1, "a level that was there is removed");
	sbx_cgroup_plan_free(&p);
	/* The top of the hierarchy is never reached: ".." and the like. */
	for (const char *const *bad = (const char *const[]){"/a/../../x", "/a//b", "rel/x", "/a/.", "/", NULL};
	     *bad; bad++) {
		cr_expect_lt(sbx_cgroup_plan_path(&h, *bad, ALL, &p, &err), 0, "%s accepted", *bad);
		cr_expect(err && strstr(err->msg, "cgroupsPath"), "%s", err ? err->msg : "(none)");
		sbx_error_free(&err);
	}
}

Test(cgroup_plan, oci_path_v2_parent_and_name)
{
	cg2("/sys/fs/cgroup", "cpu memory pids\n", "", "1\n", true);
	struct sbx_cgroup_host h = host("0::/\n", v2_mountinfo, 0);
	struct sbx_cgroup_plan p;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cgroup_plan_path(&h, "/default/c2", ALL, &p, &err), 0, "%s", err ? err->msg : "");
	cr_expect_eq(p.version, 2);
	cr_expect_str_eq(p.parent, P("/sys/fs/cgroup/default"));
	cr_expect_str_eq(p.name, "c2");
	sbx_cgroup_plan_free(&p);
}
