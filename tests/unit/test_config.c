/* Config: sizes, bind/tmpfs/env/user specs, the YAML file and its errors,
 * flags over the file.  No privileges needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cli.h"
#include "runtime/config.h"
#include "runtime/config_yaml.h"
#include "lib/size.h"

static uint64_t size_ok(const char *s)
{
	uint64_t v = 0;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_parse_size(s, &v, &err), 0, "'%s' rejected: %s", s, err ? err->msg : "");
	return v;
}

static char *size_err(const char *s)
{
	uint64_t v = 0;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_parse_size(s, &v, &err), 0, "'%s' accepted as %llu", s, (unsigned long long)v);
	char *m = strdup(err->msg);
	sbx_error_free(&err);
	return m;
}

Test(size, units_are_powers_of_1024)
{
	cr_expect_eq(size_ok("0"), 0);
	cr_expect_eq(size_ok("1048576"), 1048576);
	cr_expect_eq(size_ok("64k"), 65536);
	cr_expect_eq(size_ok("512M"), 512ull << 20);
	cr_expect_eq(size_ok("1G"), 1ull << 30);
	cr_expect_eq(size_ok("2GiB"), 2ull << 30);
	cr_expect_eq(size_ok("1mb"), 1ull << 20);
	cr_expect_eq(size_ok("3T"), 3ull << 40);
	cr_expect_eq(size_ok("100B"), 100);
}

Test(size, rejects_junk_signs_fractions_and_overflow)
{
	const char *bad[] = { "", "M", "-1", "+5", "1.5G", "12Q", "1G ", " 1G", "1GG", "99999999999999999999",
			      "17179869184G" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *m = size_err(bad[i]);
		cr_expect(strstr(m, "invalid size") != NULL, "%s", m);
		free(m);
	}
	char *m = size_err("12Q");
	cr_expect(strstr(m, "'12Q'") && strstr(m, "suffix"), "message names value and problem: %s", m);
	free(m);
}

Test(size, numbers)
{
	double d;
	struct sbx_error *err = NULL;
	cr_expect_eq(sbx_parse_double("0.25", &d, 0, &err), 0);
	cr_expect_float_eq(d, 0.25, 1e-12);
	cr_expect_lt(sbx_parse_double("0", &d, 0, &err), 0);
	cr_expect(strstr(err->msg, "greater than zero") != NULL, "%s", err->msg);
	sbx_error_free(&err);
	cr_expect_lt(sbx_parse_double("-1", &d, 0, &err), 0);
	sbx_error_free(&err);
	cr_expect_lt(sbx_parse_double("inf", &d, 0, &err), 0);
	sbx_error_free(&err);
	cr_expect_lt(sbx_parse_double("1e999", &d, 0, &err), 0);
	sbx_error_free(&err);
}

Test(spec, bind_specs)
{
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_assert_eq(sbx_config_add_bind_spec(&c, "data:/data", &err), 0);
	cr_assert_eq(sbx_config_add_bind_spec(&c, "/tmp:/out//x/:rw", &err), 0);
	cr_assert_eq(sbx_config_add_bind_spec(&c, "/a:/b:ro", &err), 0);
	cr_expect_str_eq(c.binds[0].source, "data");
	cr_expect_str_eq(c.binds[0].target, "/data");
	cr_expect(!c.binds[0].rw, "read-only by default");
	cr_expect_str_eq(c.binds[1].target, "/out/x", "target normalised");
	cr_expect(c.binds[1].rw);
	cr_expect(!c.binds[2].rw);
	const char *bad[][2] = { { "nocolon", "expected SRC:DST" }, { "/a:rel", "not an absolute path" },
				 { "/a:/b:rx", "neither ro nor rw" }, { "/a:/x/../etc", "'..'" },
				 { ":/x", "expected SRC:DST" }, { "/a:/", "replace the rootfs" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_expect_lt(sbx_config_add_bind_spec(&c, bad[i][0], &err), 0, "%s accepted", bad[i][0]);
		cr_expect(err && strstr(err->msg, bad[i][1]), "%s: %s", bad[i][0], err ? err->msg : "");
		sbx_error_free(&err);
	}
	cr_expect_eq(c.n_binds, 3);
	sbx_config_free(&c);
}

Test(spec, tmpfs_out_user_network)
{
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_assert_eq(sbx_config_add_tmpfs_spec(&c, "/scratch:16M", &err), 0);
	cr_expect_eq(c.tmpfs[0].size, 16ull << 20);
	cr_expect_lt(sbx_config_add_tmpfs_spec(&c, "/s:0", &err), 0);
	sbx_error_free(&err);
	cr_assert_eq(sbx_config_set_out_spec(&c, "results:8M", &err), 0);
	cr_expect_str_eq(c.out_dir, "results");
	cr_expect_eq(c.out_size, 8ull << 20);
	cr_assert_eq(sbx_config_set_user(&c, "1000", &err), 0);
	cr_expect_eq(c.uid, 1000);
	cr_expect_eq(c.gid, 1000);
	cr_assert_eq(sbx_config_set_user(&c, "1000:100", &err), 0);
	cr_expect_eq(c.gid, 100);
	cr_expect_lt(sbx_config_set_user(&c, "alice", &err), 0);
	cr_expect(strstr(err->msg, "numeric") != NULL, "%s", err->msg);
	sbx_error_free(&err);
	cr_expect_lt(sbx_config_set_network(&c, "bridge", &err), 0);
	cr_expect(strstr(err->msg, "bridge") != NULL);
	sbx_error_free(&err);
	sbx_config_free(&c);
}

Test(spec, env_replaces_and_validates)
{
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_assert_eq(sbx_config_add_env_spec(&c, "A=1", &err), 0);
	cr_assert_eq(sbx_config_add_env_spec(&c, "B=x=y", &err), 0);
	cr_assert_eq(sbx_config_add_env_spec(&c, "A=2", &err), 0);
	cr_assert_eq(sbx_config_add_env_spec(&c, "EMPTY=", &err), 0);
	cr_expect_eq(c.n_env, 3);
	cr_expect_str_eq(c.env[0], "A=2");
	cr_expect_str_eq(c.env[1], "B=x=y");
	cr_expect_str_eq(sbx_config_getenv(&c, "EMPTY"), "");
	cr_expect_null(c.env[3]);
	cr_expect_lt(sbx_config_add_env_spec(&c, "=v", &err), 0);
	sbx_error_free(&err);
	cr_expect_lt(sbx_config_add_env_spec(&c, "NOVALUE", &err), 0);
	sbx_error_free(&err);
	sbx_config_free(&c);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/sbx-unit-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(yaml, full_config_sets_every_key)
{
	char *p = write_tmp("rootfs: /srv/rootfs\n"
			    "network: none\n"
			    "limits: { memory: 512M, memory_swap: 0, pids: 128, cpus: 0.5,\n"
			    "          timeout: 60, output: 2M, tmp: 32M }\n"
			    "mounts:\n"
			    "  - { source: data, target: /data }\n"
			    "  - { source: /tmp, target: /scratch, rw: true }\n"
			    "tmpfs: [ \"/cache:8M\" ]\n"
			    "out: { dir: results, size: 16M }\n"
			    "env: { PYTHONHASHSEED: \"0\", LANG: C.UTF-8 }\n"
			    "seccomp: unconfined\n"
			    "hostname: box\n"
			    "workdir: /tmp\n"
			    "user: \"1000:1000\"\n"
			    "command: [ python3, -c, pass ]\n"
			    "idmap: { host_base: 200000, size: 1000 }\n"
			    "tmpfs_exec: true\n"
			    "userns_limits: { max_inotify_instances: 3, max_user_namespaces: unset }\n");
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_assert_eq(sbx_config_load_yaml(&c, p, &err), 0, "%s", err ? err->msg : "");
	cr_expect_str_eq(c.rootfs, "/srv/rootfs");
	cr_expect_eq(c.network, SBX_NET_NONE);
	cr_expect_eq(c.limits.memory, 512ull << 20);
	cr_expect_eq(c.limits.memory_swap, 0);
	cr_expect_eq(c.limits.pids, 128);
	cr_expect_float_eq(c.limits.cpus, 0.5, 1e-9);
	cr_expect_float_eq(c.limits.timeout, 60, 1e-9);
	cr_expect_eq(c.limits.output, 2ull << 20);
	cr_expect_eq(c.limits.tmp, 32ull << 20);
	cr_assert_eq(c.n_binds, 2);
	cr_expect_str_eq(c.binds[1].target, "/scratch");
	cr_expect(c.binds[1].rw);
	cr_expect(!c.binds[0].rw);
	cr_expect_eq(c.tmpfs[0].size, 8ull << 20);
	cr_expect_str_eq(c.out_dir, "results");
	cr_expect_eq(c.out_size, 16ull << 20);
	cr_expect_str_eq(sbx_config_getenv(&c, "LANG"), "C.UTF-8");
	cr_expect_str_eq(c.seccomp, "unconfined");
	cr_expect_str_eq(c.hostname, "box");
	cr_expect_eq(c.uid, 1000);
	cr_expect_str_eq(c.argv[2], "pass");
	cr_expect_eq(c.idmap_host_base, 200000);
	cr_expect_eq(c.idmap_size, 1000);
	cr_expect(c.tmpfs_exec);
	cr_expect_eq(c.userns_limits[SBX_UL_INOTIFY_INSTANCES], 3);
	cr_expect_eq(c.userns_limits[SBX_UL_USER_NAMESPACES], SBX_UNSET);
	cr_expect_eq(c.userns_limits[SBX_UL_INOTIFY_WATCHES], 8192, "defaults stay for keys not given");
	sbx_config_free(&c);
	unlink(p);
	free(p);
}

Test(yaml, safe_defaults_for_exec_and_userns_limits)
{
	struct sbx_config c;
	sbx_config_init(&c);
	cr_expect(!c.tmpfs_exec, "tmpfs are noexec unless asked");
	for (int i = 0; i < SBX_USERNS_LIMITS; i++)
		if (i != SBX_UL_INOTIFY_INSTANCES && i != SBX_UL_INOTIFY_WATCHES)
			cr_expect_eq(c.userns_limits[i], 0, "%s defaults to 0", sbx_userns_limit_names[i]);
	sbx_config_free(&c);
}

static void expect_yaml_error(const char *text, const char *needle, unsigned line)
{
	char *p = write_tmp(text);
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_expect_lt(sbx_config_load_yaml(&c, p, &err), 0, "accepted: %s", text);
	if (err) {
		char loc[300];
		snprintf(loc, sizeof(loc), "%s:%u", p, line);
		cr_expect(strstr(err->msg, loc) != NULL, "no file:line %s in: %s", loc, err->msg);
		cr_expect(strstr(err->msg, needle) != NULL, "'%s' not in: %s", needle, err->msg);
	}
	sbx_error_free(&err);
	sbx_config_free(&c);
	unlink(p);
	free(p);
}

Test(yaml, errors_name_file_line_and_key)
{
	expect_yaml_error("rootfs: x\nmemroy: 1G\n", "unknown key \"memroy\"", 2);
	expect_yaml_error("limits:\n  memory: lots\n", "limits.memory", 2);
	expect_yaml_error("limits:\n  pids: 0\n", "limits.pids", 2);
	expect_yaml_error("limits:\n  timeout: -5\n", "limits.timeout", 2);
	expect_yaml_error("limits:\n  swap: 1G\n", "unknown key \"swap\" in limits", 2);
	expect_yaml_error("network: wifi\n", "wifi", 1);
	expect_yaml_error("mounts:\n  - { source: a }\n", "source and target", 2);
	expect_yaml_error("mounts:\n  - { source: a, target: rel }\n", "absolute", 2);
	expect_yaml_error("mounts:\n  - { source: a, target: /b, mode: rw }\n", "unknown key \"mode\"", 2);
	expect_yaml_error("env: [ A=1 ]\n", "expected a mapping", 1);
	expect_yaml_error("out: { size: 0 }\n", "out.size", 1);
	expect_yaml_error("allow_no_cgroup: maybe\n", "true or false", 1);
	expect_yaml_error("rootfs: [unclosed\n", "", 2);
	expect_yaml_error("userns_limits:\n  max_spoons: 1\n", "userns_limits.max_spoons", 2);
	expect_yaml_error("userns_limits:\n  max_inotify_watches: many\n", "userns_limits.max_inotify_watches", 2);
	expect_yaml_error("tmpfs_exec: sometimes\n", "true or false", 1);
}

/* The rules the config shares with seccomp profiles (lib/yaml_walk.c). */
Test(yaml, shared_walker_rules)
{
	/* A key given twice was silently "last wins"; now named at its second place. */
	expect_yaml_error("limits:\n  memory: 1G\n  pids: 9\n  memory: 2G\n", "duplicate key \"memory\"", 4);
	expect_yaml_error("rootfs: a\nrootfs: b\n", "duplicate key \"rootfs\"", 2);
	/* A NUL byte used to cut the value short ("/srv" instead of the path given). */
	expect_yaml_error("rootfs: \"/srv\\0/evil\"\n", "rootfs contains a NUL byte", 1);
	expect_yaml_error("env: { A: \"x\\0y\" }\n", "env.A contains a NUL byte", 1);
	/* The unknown-key message lists what is known. */
	expect_yaml_error("out: { dri: x }\n", "unknown key \"dri\" in out (dir, size)", 1);
	expect_yaml_error("command: echo\n", "command: expected a list", 1);
}

Test(yaml, booleans_read_as_in_profiles)
{
	char *p = write_tmp("allow_no_cgroup: on\nno_image_config: yes\nbuild_caps: off\n");
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	c.build_caps = true;
	cr_assert_eq(sbx_config_load_yaml(&c, p, &err), 0, "%s", err ? err->msg : "");
	cr_expect(c.allow_no_cgroup && c.no_image_config && !c.build_caps);
	sbx_config_free(&c);
	unlink(p);
	free(p);
}

Test(yaml, oversized_config_is_refused)
{
	char *big = malloc((2u << 20) + 1);
	memset(big, '#', 2u << 20);
	big[2u << 20] = '\0';
	char *p = write_tmp(big);
	free(big);
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_expect_lt(sbx_config_load_yaml(&c, p, &err), 0);
	cr_expect(err && strstr(err->msg, "larger than 1048576 bytes"), "%s", err ? err->msg : "");
	sbx_error_free(&err);
	sbx_config_free(&c);
	unlink(p);
	free(p);
}

Test(yaml, missing_file_names_it)
{
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_expect_lt(sbx_config_load_yaml(&c, "/no/such/sbx.yaml", &err), 0);
	cr_expect(strstr(err->msg, "/no/such/sbx.yaml") && strstr(err->msg, "No such file"), "%s", err->msg);
	sbx_error_free(&err);
	sbx_config_free(&c);
}

Test(cli, flags_override_the_config_file)
{
	char *p = write_tmp("rootfs: /from/config\nlimits: { memory: 1G, pids: 10 }\nenv: { A: config }\n"
			    "command: [ /bin/false ]\n");
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	char *argv[] = { "run", "--memory", "256M", "--config", p, "--env", "A=flag", "--", "/bin/echo", "-n", "hi",
			 NULL };
	cr_assert_eq(sbx_cli_parse_run(11, argv, &c, &err), 0, "%s", err ? err->msg : "");
	cr_expect_str_eq(c.rootfs, "/from/config");
	cr_expect_eq(c.limits.memory, 256ull << 20, "flag wins over the file");
	cr_expect_eq(c.limits.pids, 10, "file value kept where no flag");
	cr_expect_str_eq(sbx_config_getenv(&c, "A"), "flag");
	cr_expect_str_eq(c.argv[0], "/bin/echo");
	cr_expect_str_eq(c.argv[1], "-n", "the command's own flags are not ours");
	sbx_config_free(&c);
	unlink(p);
	free(p);
}

Test(cli, bad_flags_are_named)
{
	struct {
		char *argv[6];
		int argc;
		const char *needle;
	} cases[] = {
		{ { "run", "--frob", "x", NULL }, 3, "--frob" },
		{ { "run", "--memory", NULL }, 2, "--memory" },
		{ { "run", "--pids", "0", NULL }, 3, "--pids" },
		{ { "run", "--cpus", "-1", NULL }, 3, "--cpus" },
		{ { "run", "--output-limit", "0", NULL }, 3, "--output-limit" },
		{ { "run", "--out", "dir:huge", NULL }, 3, "--out" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct sbx_config c;
		struct sbx_error *err = NULL;
		sbx_config_init(&c);
		cr_expect_lt(sbx_cli_parse_run(cases[i].argc, cases[i].argv, &c, &err), 0, "case %zu accepted", i);
		cr_expect(err && strstr(err->msg, cases[i].needle), "case %zu: %s", i, err ? err->msg : "");
		sbx_error_free(&err);
		sbx_config_free(&c);
	}
}

Test(validate, requires_rootfs_and_command)
{
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	cr_expect_lt(sbx_config_validate(&c, &err), 0);
	cr_expect(strstr(err->msg, "rootfs") != NULL, "%s", err->msg);
	sbx_error_free(&err);
	sbx_config_set_string(&c.rootfs, "/");
	cr_expect_lt(sbx_config_validate(&c, &err), 0);
	cr_expect(strstr(err->msg, "no command") != NULL, "%s", err->msg);
	sbx_error_free(&err);
	sbx_config_free(&c);
}

Test(validate, memory_below_the_minimum_is_refused)
{
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	sbx_config_set_string(&c.rootfs, "/");
	char *argv[] = { "run", "--memory", "1M", "--", "/bin/true", NULL };
	cr_assert_eq(sbx_cli_parse_run(5, argv, &c, &err), 0);
	cr_expect_lt(sbx_config_validate(&c, &err), 0);
	cr_expect(err && strstr(err->msg, "minimum of 4M"), "%s", err ? err->msg : "");
	sbx_error_free(&err);
	sbx_config_free(&c);
}
