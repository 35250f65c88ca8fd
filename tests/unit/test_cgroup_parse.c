/* Parsers and formatters of cgroup files: pure, no filesystem. */
#include <criterion/criterion.h>
#include <string.h>

#include "cgroups/cgroup.h"
#include "cgroups/parse.h"
#include "lib/size.h"
#include "runtime/cgroup_request.h"

Test(cgroup_parse, self_hybrid)
{
	const char *text =
	    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/338ec7\n2:cpu,cpuacct:/a:b\n0::/\n";
	struct sbx_cg_self *v = NULL;
	size_t n = 0;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_cg_parse_self(text, &v, &n, &err), 0);
	cr_assert_eq(n, 5);
	cr_expect_eq(v[0].hier_id, 9);
	cr_expect_str_eq(v[0].controllers, "name=systemd");
	cr_expect_str_eq(v[2].controllers, "memory");
	cr_expect_str_eq(v[2].path, "/process_api/338ec7");
	/* A ':' in the path is part of the path. */
	cr_expect_str_eq(v[3].controllers, "cpu,cpuacct");
	cr_expect_str_eq(v[3].path, "/a:b");
	cr_expect_eq(v[4].hier_id, 0);
	cr_expect_str_eq(v[4].controllers, "");
	cr_expect_str_eq(v[4].path, "/");
	sbx_cg_self_free(v, n);
}

Test(cgroup_parse, self_pure_v2_without_trailing_newline)
{
	struct sbx_cg_self *v = NULL;
	size_t n = 0;
	cr_assert_eq(sbx_cg_parse_self("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
				       &v, &n, NULL),
		     0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(v[0].path, "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope");
	sbx_cg_self_free(v, n);
}

Test(cgroup_parse, self_malformed)
{
	struct sbx_cg_self *v = NULL;
	size_t n = 0;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cg_parse_self("0::/\nmemory/foo\n", &v, &n, &err), 0);
	cr_expect(strstr(err->msg, "line 2") != NULL, "%s", err->msg);
	sbx_error_free(&err);
	cr_assert_lt(sbx_cg_parse_self("x:memory:/\n", &v, &n, &err), 0);
	sbx_error_free(&err);
	cr_assert_lt(sbx_cg_parse_self("3:memory:relative\n", &v, &n, &err), 0);
	sbx_error_free(&err);
}

Test(cgroup_parse, mountinfo_keeps_cgroup_mounts)
{
	const char *text =
	    "22 1 0:21 / / rw,relatime - ext4 /dev/vda1 rw\n"
	    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct\n"
	    "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	    "41 31 0:38 / /sys/fs/cgroup/unified\\040x rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
	struct sbx_cg_mount *m = NULL;
	size_t n = 0;
	cr_assert_eq(sbx_cg_parse_mountinfo(text, &m, &n, NULL), 0);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(m[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
	cr_expect_not(m[0].v2);
	cr_expect(sbx_cg_list_has(m[0].options, "cpuacct", ","));
	cr_expect(sbx_cg_list_has(m[0].options, "cpu", ","));
	cr_expect_not(sbx_cg_list_has(m[0].options, "memory", ","));
	cr_expect_str_eq(m[1].root, "/docker/abc");
	cr_expect_str_eq(m[2].mount_point, "/sys/fs/cgroup/unified x");
	cr_expect(m[2].v2);
	sbx_cg_mounts_free(m, n);
}

Test(cgroup_parse, mountinfo_malformed)
{
	struct sbx_cg_mount *m = NULL;
	size_t n = 0;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_cg_parse_mountinfo("31 23 0:28 / /sys rw no separator here\n", &m, &n, &err), 0);
	cr_expect(strstr(err->msg, "line 1") != NULL);
	sbx_error_free(&err);
}

Test(cgroup_parse, rel_path)
{
	struct sbx_cg_mount root = {.root = "/"}, sub = {.root = "/docker/abc"};
	cr_expect_str_eq(sbx_cg_rel_path(&root, "/a/b"), "/a/b");
	cr_expect_str_eq(sbx_cg_rel_path(&sub, "/docker/abc/x"), "/x");
	cr_expect_str_eq(sbx_cg_rel_path(&sub, "/docker/abc"), "/");
	cr_expect_null(sbx_cg_rel_path(&sub, "/docker/abcd"));
	cr_expect_null(sbx_cg_rel_path(&root, "/../../other"));
}

Test(cgroup_parse, list_has)
{
	cr_expect(sbx_cg_list_has("cpuset cpu io memory hugetlb pids rdma misc\n", "pids", " \n"));
	cr_expect(sbx_cg_list_has("cpuset cpu io", "cpu", " \n"));
	cr_expect_not(sbx_cg_list_has("cpuset io", "cpu", " \n"));
	cr_expect_not(sbx_cg_list_has("", "cpu", " \n"));
	cr_expect_eq(sbx_cg_ctrl_mask("cpu io memory\n"), SBX_CG_BIT(SBX_CG_CPU) | SBX_CG_BIT(SBX_CG_MEMORY));
	cr_expect_eq(sbx_cg_ctrl_mask("rw,cpu,cpuacct"), SBX_CG_BIT(SBX_CG_CPU) | SBX_CG_BIT(SBX_CG_CPUACCT));
}

Test(cgroup_parse, format_ctrls)
{
	char b[64];
	sbx_cg_format_ctrls(SBX_CG_BIT(SBX_CG_MEMORY) | SBX_CG_BIT(SBX_CG_CPU), "+", " ", b, sizeof(b));
	cr_expect_str_eq(b, "+memory +cpu");
	sbx_cg_format_ctrls(SBX_CG_BIT(SBX_CG_PIDS), "", ", ", b, sizeof(b));
	cr_expect_str_eq(b, "pids");
	sbx_cg_format_ctrls(0, "", ", ", b, sizeof(b));
	cr_expect_str_eq(b, "");
}

Test(cgroup_parse, memory_events)
{
	const char *t = "low 0\nhigh 12\nmax 40\noom 3\noom_kill 2\noom_group_kill 0\n";
	uint64_t v = 99;
	cr_assert_eq(sbx_cg_keyed_get(t, "oom_kill", &v), 0);
	cr_expect_eq(v, 2);
	/* "oom" must not match "oom_kill" or "oom_group_kill". */
	cr_assert_eq(sbx_cg_keyed_get(t, "oom", &v), 0);
	cr_expect_eq(v, 3);
	cr_expect_lt(sbx_cg_keyed_get(t, "oom_k", &v), 0);
	cr_expect_lt(sbx_cg_keyed_get("", "oom_kill", &v), 0);
}

Test(cgroup_parse, cpu_stat_and_v1_files)
{
	const char *v2 = "usage_usec 2000123\nuser_usec 1500000\nsystem_usec 500123\nnr_periods 7\n";
	uint64_t u = 0, s = 0;
	cr_assert_eq(sbx_cg_keyed_get(v2, "user_usec", &u), 0);
	cr_assert_eq(sbx_cg_keyed_get(v2, "system_usec", &s), 0);
	cr_expect_eq(u, 1500000);
	cr_expect_eq(s, 500123);
	const char *oom = "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
	cr_assert_eq(sbx_cg_keyed_get(oom, "oom_kill", &u), 0);
	cr_expect_eq(u, 1);
	cr_expect_lt(sbx_cg_keyed_get("user abc\n", "user", &u), 0);
}

Test(cgroup_parse, u64)
{
	uint64_t v;
	cr_assert_eq(sbx_cg_parse_u64("1073741824\n", &v), 0);
	cr_expect_eq(v, 1073741824ull);
	cr_assert_eq(sbx_cg_parse_u64("max\n", &v), 0);
	cr_expect_eq(v, UINT64_MAX);
	cr_expect_lt(sbx_cg_parse_u64("12x", &v), 0);
	cr_expect_lt(sbx_cg_parse_u64("-1", &v), 0);
	cr_expect_lt(sbx_cg_parse_u64("", &v), 0);
}

Test(cgroup_parse, cpu_max)
{
	char b[48];
	sbx_cg_format_cpu_max(1.0, b, sizeof(b));
	cr_expect_str_eq(b, "100000 100000");
	sbx_cg_format_cpu_max(0.2, b, sizeof(b));
	cr_expect_str_eq(b, "20000 100000");
	sbx_cg_format_cpu_max(2.5, b, sizeof(b));
	cr_expect_str_eq(b, "250000 100000");
	/* Below the kernel's 1 ms minimum quota. */
	sbx_cg_format_cpu_max(0.001, b, sizeof(b));
	cr_expect_str_eq(b, "1000 100000");
	sbx_cg_format_cpu_max(0, b, sizeof(b));
	cr_expect_str_eq(b, "max 100000");
	double c = -1;
	cr_assert_eq(sbx_cg_parse_cpu_max("50000 100000\n", &c), 0);
	cr_expect_float_eq(c, 0.5, 1e-9);
	cr_assert_eq(sbx_cg_parse_cpu_max("max 100000\n", &c), 0);
	cr_expect_float_eq(c, 0.0, 1e-9);
	cr_expect_lt(sbx_cg_parse_cpu_max("50000\n", &c), 0);
	cr_expect_lt(sbx_cg_parse_cpu_max("x 100000\n", &c), 0);
	cr_expect_lt(sbx_cg_parse_cpu_max("1 0\n", &c), 0);
}

Test(cgroup_parse, names)
{
	pid_t p = 0;
	cr_assert(sbx_cg_parse_name("sbx-1234-0a1b2c3d", &p));
	cr_expect_eq(p, 1234);
	cr_assert(sbx_cg_parse_name("sbx-77-sup", &p));
	cr_expect_eq(p, 77);
	cr_expect_not(sbx_cg_parse_name("sbx", &p));
	cr_expect_not(sbx_cg_parse_name("sbx-12", &p));
	cr_expect_not(sbx_cg_parse_name("sbx-12-", &p));
	cr_expect_not(sbx_cg_parse_name("sbx-x-1", &p));
	cr_expect_not(sbx_cg_parse_name("sbx-0-1", &p));
	cr_expect_not(sbx_cg_parse_name("sbx-12-AB", &p));
	cr_expect_not(sbx_cg_parse_name("user.slice", &p));
}

static const char *find(const struct sbx_cg_write *w, size_t n, const char *file)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].file, file) == 0)
			return w[i].value;
	return NULL;
}

static size_t index_of(const struct sbx_cg_write *w, size_t n, const char *file)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].file, file) == 0)
			return i;
	return n;
}

Test(cgroup_parse, v2_limit_writes_defaults)
{
	struct sbx_config c;
	sbx_config_init(&c);
	/* The config's defaults, as sbx run hands them to cgroups/. */
	struct sbx_cgroup_request req = sbx_config_cgroup_request(&c);
	struct sbx_cg_write w[SBX_CG_MAX_WRITES];
	size_t n = sbx_cg2_limit_writes(&req.limits, w);
	cr_expect_str_eq(find(w, n, "memory.max"), "1073741824");
	cr_expect_str_eq(find(w, n, "memory.swap.max"), "0");
	cr_expect_null(find(w, n, "memory.high"));
	cr_expect_str_eq(find(w, n, "pids.max"), "256");
	cr_expect_str_eq(find(w, n, "cpu.max"), "100000 100000");
	sbx_config_free(&c);
}

Test(cgroup_parse, v2_limit_writes_from_sizes)
{
	struct sbx_limits l = {.memory_swap = SBX_UNSET};
	cr_assert_eq(sbx_parse_size("512M", &l.memory, NULL), 0);
	cr_assert_eq(sbx_parse_size("384M", &l.memory_high, NULL), 0);
	l.cpus = 0.2;
	struct sbx_cg_write w[SBX_CG_MAX_WRITES];
	size_t n = sbx_cg2_limit_writes(&l, w);
	cr_expect_str_eq(find(w, n, "memory.max"), "536870912");
	cr_expect_str_eq(find(w, n, "memory.high"), "402653184");
	/* Swap not set: memory.swap.max keeps its inherited value. */
	cr_expect_null(find(w, n, "memory.swap.max"));
	cr_expect_null(find(w, n, "pids.max"));
	cr_expect_str_eq(find(w, n, "cpu.max"), "20000 100000");
	cr_expect_eq(sbx_cgroup_needed(&l),
		     SBX_CG_BIT(SBX_CG_MEMORY) | SBX_CG_BIT(SBX_CG_PIDS) | SBX_CG_BIT(SBX_CG_CPU));
	l.cpus = 0;
	cr_expect_eq(sbx_cgroup_needed(&l), SBX_CG_BIT(SBX_CG_MEMORY) | SBX_CG_BIT(SBX_CG_PIDS));
}

Test(cgroup_parse, v1_limit_writes)
{
	struct sbx_limits l = {.memory = 1u << 30, .memory_swap = 0, .pids = 64, .cpus = 0.5};
	struct sbx_cg_write w[SBX_CG_MAX_WRITES];
	size_t n = sbx_cg1_limit_writes(&l, true, w);
	cr_expect_str_eq(find(w, n, "memory.limit_in_bytes"), "1073741824");
	/* memsw is memory + swap: swap 0 means memsw == memory. */
	cr_expect_str_eq(find(w, n, "memory.memsw.limit_in_bytes"), "1073741824");
	cr_expect_lt(index_of(w, n, "memory.limit_in_bytes"), index_of(w, n, "memory.memsw.limit_in_bytes"));
	cr_expect_null(find(w, n, "memory.swappiness"));
	cr_expect_str_eq(find(w, n, "pids.max"), "64");
	cr_expect_str_eq(find(w, n, "cpu.cfs_quota_us"), "50000");
	cr_expect_str_eq(find(w, n, "cpu.cfs_period_us"), "100000");
	cr_expect_lt(index_of(w, n, "cpu.cfs_period_us"), index_of(w, n, "cpu.cfs_quota_us"));
	cr_expect_eq(w[index_of(w, n, "pids.max")].ctrl, SBX_CG_PIDS);

	l.memory_swap = 256u << 20;
	n = sbx_cg1_limit_writes(&l, true, w);
	cr_expect_str_eq(find(w, n, "memory.memsw.limit_in_bytes"), "1342177280");

	/* No swap accounting: keep the cgroup out of swap another way. */
	l.memory_swap = 0;
	n = sbx_cg1_limit_writes(&l, false, w);
	cr_expect_null(find(w, n, "memory.memsw.limit_in_bytes"));
	cr_expect_str_eq(find(w, n, "memory.swappiness"), "0");
}
