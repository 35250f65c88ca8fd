/* OCI config.json → the run's configuration: what podman really sends, each
 * supported field, and each refused one named in the error.  The converted
 * seccomp profile is compiled by the real libseccomp path.  No privileges. */
#include <criterion/criterion.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/strv.h"
#include "oci/lifecycle.h"
#include "oci/spec.h"
#include "oci/state.h"
#include "runtime/config.h"
#include "seccomp/seccomp.h"

struct parsed {
	struct sbx_config c;
	struct sbx_oci_spec s;
};

static int parse(const char *json, struct parsed *p, char **msg)
{
	struct sbx_error *err = NULL;
	sbx_config_init(&p->c);
	memset(&p->s, 0, sizeof(p->s));
	int r = sbx_oci_spec_parse(json, strlen(json), "/bundle", &p->c, &p->s, &err);
	if (msg)
		*msg = err ? strdup(err->msg) : NULL;
	sbx_error_free(&err);
	return r;
}

static void release(struct parsed *p)
{
	sbx_config_free(&p->c);
	sbx_oci_spec_free(&p->s);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* A minimal valid spec with `extra` spliced into the top level and
 * `proc_extra` into process. */
static char *spec_with(const char *extra, const char *proc_extra)
{
	char *s = NULL;
	if (asprintf(&s,
		     "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
		     "\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"exit 3\"],\"cwd\":\"/\","
		     "\"env\":[\"PATH=/bin\",\"A=b=c\"]%s%s}%s%s}",
		     *proc_extra ? "," : "", proc_extra, *extra ? "," : "", extra) < 0)
		abort();
	return s;
}

static void expect_refused(const char *extra, const char *proc_extra, const char *field)
{
	char *json = spec_with(extra, proc_extra);
	struct parsed p;
	char *msg = NULL;
	cr_expect_lt(parse(json, &p, &msg), 0, "accepted: %s", json);
	cr_expect(msg && strstr(msg, field), "error \"%s\" does not name %s", msg ? msg : "(none)", field);
	free(msg);
	free(json);
	release(&p);
}

Test(oci_spec, minimal_spec)
{
	char *json = spec_with("", "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_str_eq(p.c.rootfs, "/bundle/rootfs");
	cr_expect_not(p.c.writable_rootfs);
	cr_expect_str_eq(p.c.argv[0], "/bin/sh");
	cr_expect_str_eq(p.c.argv[2], "exit 3");
	cr_expect_null(p.c.argv[3]);
	cr_expect_eq(p.c.n_env, 2);
	cr_expect_str_eq(sbx_config_getenv(&p.c, "A"), "b=c");
	cr_expect_str_eq(p.c.workdir, "/");
	/* No linux section: no namespaces asked, so the host network; no
	 * seccomp asked: none. */
	cr_expect_eq(p.c.network, SBX_NET_HOST);
	cr_expect_str_eq(p.c.seccomp, "unconfined");
	cr_expect_str_eq(p.s.annotations, "{}");
	free(json);
	release(&p);
}

Test(oci_spec, podman_4_3_config)
{
	char *json = slurp("tests/fixtures/oci/podman-4.3.json");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_str_eq(p.c.rootfs, "/bundle/rootfs");
	cr_expect(p.c.writable_rootfs, "root.readonly absent means a writable root");
	cr_expect_eq(p.c.network, SBX_NET_LOOPBACK);
	cr_expect_str_eq(p.c.hostname, "c0ffee");
	cr_expect_eq(p.c.limits.pids, 2048);
	cr_expect(p.c.user_set);
	cr_expect_eq(p.c.uid, 0);
	cr_expect(p.s.umask_set);
	cr_expect_eq(p.s.umask, 022);
	cr_assert_eq(p.s.n_rlimits, 2);
	cr_expect_eq(p.s.rlimits[0].resource, RLIMIT_NOFILE);
	cr_expect_eq(p.s.rlimits[0].soft, 20000);
	cr_expect_eq(p.s.rlimits[1].resource, RLIMIT_NPROC);
	cr_assert_eq(p.s.n_sysctls, 1);
	cr_expect_str_eq(p.s.sysctls[0].key, "net.ipv4.ping_group_range");
	cr_expect_str_eq(p.s.sysctls[0].value, "0 0");
	/* /etc/hosts, /run/.containerenv, /etc/hostname; /dev/shm is sbx's. */
	cr_assert_eq(p.c.n_binds, 3);
	cr_expect_str_eq(p.c.binds[0].target, "/etc/hosts");
	cr_expect_str_eq(p.c.binds[0].source, "/bundle/userdata/hosts");
	cr_expect(p.c.binds[0].rw);
	cr_expect_eq(p.c.n_tmpfs, 0);
	cr_expect(strstr(p.s.annotations, "\"io.container.manager\":\"libpod\""));
	/* sysfs, mqueue, cgroup: mounted by sbx (runtime/mounts.c), with the
	 * spec's masked paths under /sys; nothing to warn about. */
	cr_expect_eq(p.c.kernel_mounts, SBX_KMOUNT_SYSFS | SBX_KMOUNT_MQUEUE | SBX_KMOUNT_CGROUP);
	cr_assert_eq(sbx_strv_len(p.c.sys_masked), 3);
	cr_expect_str_eq(p.c.sys_masked[0], "/sys/firmware");
	cr_expect_str_eq(p.c.sys_masked[2], "/sys/dev/block");
	cr_expect_eq(p.s.n_warnings, 0);
	cr_assert_not_null(p.s.seccomp_yaml);
	free(json);
	release(&p);
}

/* The converted profile goes through sbx's own profile compiler. */
Test(oci_spec, podman_seccomp_compiles)
{
	char *json = slurp("tests/fixtures/oci/podman-4.3.json");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	char path[] = "/tmp/sbx-test-oci-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p.s.seccomp_yaml, strlen(p.s.seccomp_yaml)),
		     (ssize_t)strlen(p.s.seccomp_yaml));
	close(fd);
	struct sbx_seccomp *f = NULL;
	struct sbx_error *err = NULL;
	int r = sbx_seccomp_compile(path, &f, &err);
	unlink(path);
	cr_assert_eq(r, 0, "%s", err ? err->msg : "");
	cr_expect_not(sbx_seccomp_reports_denials(f));
	cr_expect_gt(sbx_seccomp_instructions(f), 50);
	sbx_seccomp_free(f);
	/* podman's defaultAction is errno with defaultErrnoRet ENOSYS (38). */
	cr_expect(strstr(p.s.seccomp_yaml, "default_action: errno 38"), "%s", p.s.seccomp_yaml);
	free(json);
	release(&p);
}

Test(oci_spec, seccomp_rules_translated)
{
	char *json = spec_with(
	    "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_"
	    "64\","
	    "\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"read\",\"no_such_call\"],\"action\":\"SCMP_ACT_"
	    "ALLOW\"},"
	    "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,"
	    "\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,"
	    "\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}",
	    "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	const char *y = p.s.seccomp_yaml;
	cr_expect(strstr(y, "default_action: errno 1\n"), "%s", y);
	cr_expect(strstr(y, "architectures: [x86_64]\n"), "%s", y);
	cr_expect(strstr(y, "names: [read]\n    action: allow"), "%s", y);
	cr_expect_null(strstr(y, "no_such_call"));
	cr_expect(strstr(y, "{ index: 0, op: eq, value: 8 }"), "%s", y);
	cr_expect(strstr(y, "action: errno 38\n    args:\n      - { index: 0, op: masked_eq, mask: "
			    "2114060288, value: 0 }"),
		  "%s", y);
	free(json);
	release(&p);
}

Test(oci_spec, supported_fields_map)
{
	char *json = spec_with(
	    "\"hostname\":\"box\",\"mounts\":[{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/"
	    "d\","
	    "\"options\":[\"rbind\",\"ro\",\"nosuid\"]},{\"destination\":\"/"
	    "run\",\"type\":\"tmpfs\",\"source\":"
	    "\"tmpfs\",\"options\":[\"nosuid\",\"size=65536k\"]},{\"destination\":\"/"
	    "tmp\",\"type\":\"tmpfs\","
	    "\"options\":[\"size=2m\"]}],"
	    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"mount\"}],"
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}],"
	    "\"resources\":{\"memory\":{\"limit\":268435456,\"swap\":536870912},\"pids\":{\"limit\":64},"
	    "\"cpu\":{\"quota\":50000,\"period\":100000,\"shares\":1024},\"devices\":[{\"allow\":false,"
	    "\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]}"
	    ","
	    "\"cgroupsPath\":\"/k8s/pod1/c1\",\"rootfsPropagation\":\"rslave\","
	    "\"maskedPaths\":[\"/proc/kcore\",\"/sys/firmware\"],\"readonlyPaths\":[\"/proc/sys\"],"
	    "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"1000000\"}},"
	    "\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":5}]},"
	    "\"annotations\":{\"b\":\"2\",\"a\":\"1\"}",
	    "\"user\":{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000]},\"noNewPrivileges\":false,"
	    "\"oomScoreAdj\":500,\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}],"
	    "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[],\"ambient\":[\"CAP_CHOWN\"]}");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_str_eq(p.c.hostname, "box");
	cr_expect_eq(p.c.network, SBX_NET_LOOPBACK);
	cr_expect_str_eq(p.c.cgroup_path, "/k8s/pod1/c1");
	cr_expect_null(p.c.cgroup_parent);
	cr_expect_eq(p.c.idmap_host_base, 200000);
	cr_expect_eq(p.c.idmap_size, 65536);
	cr_expect_eq(p.c.limits.memory, 256u << 20);
	cr_expect_eq(p.c.limits.memory_swap, 256u << 20, "spec swap is memory+swap");
	cr_expect_eq(p.c.limits.pids, 64);
	cr_expect_float_eq(p.c.limits.cpus, 0.5, 1e-9);
	cr_expect_eq(p.c.limits.tmp, 2u << 20);
	cr_assert_eq(p.c.n_binds, 1);
	cr_expect_str_eq(p.c.binds[0].source, "/srv/d");
	cr_expect_not(p.c.binds[0].rw);
	cr_assert_eq(p.c.n_tmpfs, 1);
	cr_expect_str_eq(p.c.tmpfs[0].target, "/run");
	cr_expect_eq(p.c.tmpfs[0].size, 64u << 20);
	cr_expect_eq(p.c.uid, 1000);
	cr_expect(p.s.oom_score_adj_set);
	cr_expect_eq(p.s.oom_score_adj, 500);
	cr_expect_eq(p.s.n_sysctls, 2);
	cr_assert_eq(p.s.n_hooks[SBX_HOOK_POSTSTOP], 1);
	cr_expect_str_eq(p.s.hooks[SBX_HOOK_POSTSTOP][0].path, "/bin/true");
	cr_expect_eq(p.s.hooks[SBX_HOOK_POSTSTOP][0].timeout, 5);
	cr_expect_str_eq(p.s.annotations, "{\"a\":\"1\",\"b\":\"2\"}");
	cr_expect_eq(p.s.n_warnings, 0);
	free(json);
	release(&p);
}

/* A network namespace made by the client is joined (by the supervisor):
 * to the runtime that is the "host" network of the supervisor. */
Test(oci_spec, network_namespace_joined_by_path)
{
	char *json = spec_with("\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":"
			       "\"/run/netns/cni-1\"}],\"sysctl\":{\"net.ipv4.ping_group_range\":\"0 0\"}}",
			       "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_eq(p.c.network, SBX_NET_HOST);
	cr_expect_str_eq(p.s.netns_path, "/run/netns/cni-1");
	cr_expect_eq(p.s.n_sysctls, 1);
	free(json);
	release(&p);
}

/* A pod's ipc and uts namespaces, joined by path: no new ones at the
 * clone; the joined ipc namespace's queues and sysctls are not the
 * sandbox's. */
Test(oci_spec, ipc_and_uts_namespaces_joined_by_path)
{
	char *json = spec_with("\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\",\"path\":"
			       "\"/proc/7/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/7/ns/uts\"}]},"
			       "\"mounts\":[{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\"}]",
			       "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect(p.c.shared_ipc && p.c.shared_uts);
	cr_expect_str_eq(p.s.ipcns_path, "/proc/7/ns/ipc");
	cr_expect_str_eq(p.s.utsns_path, "/proc/7/ns/uts");
	cr_expect_eq(p.c.kernel_mounts, 0);
	cr_assert_eq(p.s.n_warnings, 1);
	cr_expect(strstr(p.s.warnings[0], "/dev/mqueue not mounted") != NULL, "%s", p.s.warnings[0]);
	free(json);
	release(&p);
	json = spec_with("\"linux\":{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":\"uts\"}]}", "");
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect(!p.c.shared_ipc && !p.c.shared_uts);
	free(json);
	release(&p);
	expect_refused("\"linux\":{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/7/ns/ipc\"}],"
		       "\"sysctl\":{\"kernel.msgmax\":\"9000\"}}",
		       "", "linux.sysctl.kernel.msgmax");
}

/* linux.devices: the host's node of that number, found at the same path or
 * by its number in /dev; sbx's own are not bound twice; the owner a bound
 * node keeps is said when the spec asked another. */
Test(oci_spec, devices_are_host_nodes)
{
	char *json = spec_with("\"linux\":{\"devices\":[{\"path\":\"/dev/null\",\"type\":\"c\",\"major\":1,"
			       "\"minor\":3},{\"path\":\"/dev/a/z0\",\"type\":\"u\",\"major\":1,\"minor\":5,"
			       "\"uid\":4242}]}",
			       "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_assert_eq(p.c.n_devices, 1);
	cr_expect_str_eq(p.c.devices[0].path, "a/z0");
	cr_expect_str_eq(p.c.devices[0].host, "/dev/zero");
	cr_expect_eq(p.c.devices[0].rdev, makedev(1, 5));
	cr_assert_eq(p.s.n_warnings, 1);
	cr_expect(strstr(p.s.warnings[0], "keeps its host owner") != NULL, "%s", p.s.warnings[0]);
	free(json);
	release(&p);
	expect_refused("\"linux\":{\"devices\":[{\"path\":\"/dev/zero\",\"type\":\"b\",\"major\":1,\"minor\":5}]}",
		       "", "the host has no device node b 1:5");
	expect_refused("\"linux\":{\"devices\":[{\"path\":\"/dev/zero\",\"type\":\"c\",\"major\":1,\"minor\":5,"
		       "\"fileMode\":384}]}",
		       "", "linux.devices[0].fileMode");
	expect_refused("\"linux\":{\"devices\":[{\"path\":\"/dev/shm/x\",\"type\":\"c\",\"major\":1,\"minor\":5}]}",
		       "", "linux.devices[0].path");
	expect_refused("\"linux\":{\"devices\":[{\"path\":\"/etc/zero\",\"type\":\"c\",\"major\":1,\"minor\":5}]}",
		       "", "must be a path below /dev");
	expect_refused("\"linux\":{\"devices\":[{\"path\":\"/dev/zero\",\"type\":\"c\",\"major\":1,\"minor\":5,"
		       "\"bogus\":1}]}",
		       "", "unknown field \"bogus\"");
}

/* Each kernel filesystem only at its place and of its type; no spec, no
 * mount (sbx run's sandboxes stay as they were). */
Test(oci_spec, kernel_filesystems)
{
	char *json = spec_with("\"mounts\":[{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\","
			       "\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
			       "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup2\",\"source\":\"cgroup\"}]",
			       "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_eq(p.c.kernel_mounts, SBX_KMOUNT_MQUEUE | SBX_KMOUNT_CGROUP);
	cr_expect_null(p.c.sys_masked);
	free(json);
	release(&p);
	json = spec_with("", "");
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_eq(p.c.kernel_mounts, 0);
	free(json);
	release(&p);
	expect_refused("\"mounts\":[{\"destination\":\"/sys/kernel\",\"type\":\"sysfs\"}]", "", "mounts[0]");
	expect_refused("\"mounts\":[{\"destination\":\"/sys\",\"type\":\"cgroup2\"}]", "", "mounts[0]");
	expect_refused("\"mounts\":[{\"destination\":\"/sys\",\"type\":\"sysfs\",\"options\":[\"x-bad\"]}]",
		       "", "mounts[0].options");
	expect_refused("\"linux\":{\"maskedPaths\":[\"/sys/../etc\"]}", "", "linux.maskedPaths[0]");
}

/* podman's and containerd's forms; systemd's is refused with the reason. */
Test(oci_spec, cgroups_path)
{
	char *json = spec_with("\"linux\":{\"cgroupsPath\":\"/default/c1\"}", "");
	struct parsed p;
	char *msg;
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_str_eq(p.c.cgroup_path, "/default/c1");
	free(json);
	release(&p);
	json = spec_with("", "");
	cr_assert_eq(parse(json, &p, &msg), 0, "%s", msg);
	cr_expect_null(p.c.cgroup_path);
	free(json);
	release(&p);
	expect_refused("\"linux\":{\"cgroupsPath\":\"machine.slice:libpod:c1\"}", "", "linux.cgroupsPath");
	expect_refused("\"linux\":{\"cgroupsPath\":\"machine.slice:libpod:c1\"}", "", "cgroupfs");
	expect_refused("\"linux\":{\"cgroupsPath\":\"default/c1\"}", "", "linux.cgroupsPath");
	expect_refused("\"linux\":{\"cgroupsPath\":\"/a/../../c1\"}", "", "linux.cgroupsPath");
	expect_refused("\"linux\":{\"cgroupsPath\":\"/a//c1\"}", "", "linux.cgroupsPath");
	expect_refused("\"linux\":{\"cgroupsPath\":\"/a/c1/\"}", "", "linux.cgroupsPath");
}

Test(oci_spec, refused_fields_are_named)
{
	expect_refused("\"solaris\":{}", "", "\"solaris\"");
	expect_refused("", "\"selinuxLabelz\":\"x\"", "\"selinuxLabelz\"");
	expect_refused("", "\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[10]}",
		       "process.user.additionalGids");
	expect_refused("", "\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]",
		       "process.rlimits[0]");
	expect_refused("", "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]",
		       "process.rlimits[0]");
	expect_refused("", "\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}", "process.capabilities.bounding");
	expect_refused("", "\"oomScoreAdj\":5000", "process.oomScoreAdj");
	expect_refused("\"domainname\":\"example.org\"", "", "domainname");
	expect_refused("\"linux\":{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}]}", "",
		       "linux.namespaces[0]");
	expect_refused("\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]}", "",
		       "sbx maps the container's ids itself");
	expect_refused("\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"net\"}]}", "",
		       "linux.namespaces[0]");
	expect_refused("\"linux\":{\"namespaces\":[{\"type\":\"time\"}]}", "", "linux.namespaces[0]");
	expect_refused("\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":65536}],"
		       "\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":65536}]}",
		       "", "linux.uidMappings[0]");
	expect_refused("\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}",
		       "", "linux.gidMappings");
	expect_refused(
	    "\"linux\":{\"devices\":[{\"path\":\"/dev/nope\",\"type\":\"c\",\"major\":250,\"minor\":250}]}",
	    "", "linux.devices[0]");
	expect_refused("\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"x\",\"major\":8,"
		       "\"minor\":0,\"access\":\"rwm\"}]}}",
		       "", "linux.resources.devices[0]");
	expect_refused("\"linux\":{\"resources\":{\"blockIO\":{\"weight\":10}}}", "",
		       "linux.resources.blockIO");
	expect_refused("\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"0-1\"}}}", "",
		       "linux.resources.cpu.cpus");
	expect_refused("\"linux\":{\"resources\":{\"memory\":{\"limit\":1024}}}", "",
		       "linux.resources.memory.limit");
	expect_refused("\"linux\":{\"maskedPaths\":[\"/etc/shadow\"]}", "", "linux.maskedPaths[0]");
	expect_refused("\"linux\":{\"sysctl\":{\"kernel.core_pattern\":\"|/evil\"}}", "",
		       "linux.sysctl.kernel.core_pattern");
	expect_refused("\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}", "",
		       "linux.sysctl.net.ipv4.ip_forward");
	expect_refused("\"linux\":{\"rootfsPropagation\":\"shared\"}", "", "linux.rootfsPropagation");
	expect_refused("\"linux\":{\"intelRdt\":{}}", "", "\"intelRdt\"");
	expect_refused("\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}", "",
		       "linux.seccomp.defaultAction");
	expect_refused(
	    "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/s\"}}", "",
	    "linux.seccomp.listenerPath");
	expect_refused(
	    "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
	    "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":9,\"value\":0,\"op\":"
	    "\"SCMP_CMP_EQ\"}]}]}}",
	    "", "linux.seccomp.syscalls[0].args[0]");
	expect_refused("\"mounts\":[{\"destination\":\"/x\",\"type\":\"overlay\",\"source\":\"o\"}]", "",
		       "mounts[0]");
	expect_refused("\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/s\",\"options\":"
		       "[\"bind\",\"noexec\"]}]",
		       "", "mounts[0].options");
	expect_refused("\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/s\",\"options\":"
		       "[\"rshared\"]}]",
		       "", "mounts[0].options");
	expect_refused("\"mounts\":[{\"destination\":\"/x\",\"type\":\"proc\",\"source\":\"proc\"}]", "",
		       "mounts[0]");
	expect_refused("\"mounts\":[{\"destination\":\"/proc\",\"type\":\"tmpfs\"}]", "", "mounts[0]");
	expect_refused("\"mounts\":[{\"destination\":\"/x/../etc\",\"type\":\"tmpfs\"}]", "", "mounts[0]");
	expect_refused("\"hooks\":{\"prestart\":[{\"path\":\"relative\"}]}", "", "hooks.prestart[0]");
	expect_refused("\"hooks\":{\"onBoot\":[]}", "", "\"onBoot\"");
	expect_refused("\"annotations\":{\"a\":1}", "", "annotations");
}

Test(oci_spec, malformed_json_and_versions)
{
	struct parsed p;
	char *msg;
	cr_expect_lt(parse("{\"ociVersion\":\"1.0.2\",\"ociVersion\":\"1.0.2\"}", &p, &msg), 0);
	cr_expect(msg && strstr(msg, "duplicate"), "%s", msg);
	free(msg);
	release(&p);
	cr_expect_lt(parse("{\"ociVersion\":\"0.9\"}", &p, &msg), 0);
	cr_expect(msg && strstr(msg, "ociVersion"), "%s", msg);
	free(msg);
	release(&p);
	cr_expect_lt(parse("[1,2]", &p, &msg), 0);
	free(msg);
	release(&p);
	cr_expect_lt(parse("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}", &p, &msg), 0);
	cr_expect(msg && strstr(msg, "process"), "%s", msg);
	free(msg);
	release(&p);
	/* A NUL inside a string would cut a path short: refused. */
	const char nul[] = "{\"ociVersion\":\"1.0.0\",\"hostname\":\"a\\u0000b\"}";
	cr_expect_lt(parse(nul, &p, &msg), 0);
	cr_expect(msg && strstr(msg, "NUL"), "%s", msg);
	free(msg);
	release(&p);
}

/* Container ids become a path component under --root: nothing that could
 * leave it. */
Test(oci_state, container_ids)
{
	static const char *const ok[] = {"a", "c0ffee", "my.container_1+x-y", "A.b"};
	static const char *const bad[] = {"", ".", "..", ".hidden", "a/b", "../etc", "a b", "a\nb", "é"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct sbx_error *err = NULL;
		cr_expect_eq(sbx_oci_check_id(ok[i], &err), 0, "'%s' refused", ok[i]);
		sbx_error_free(&err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct sbx_error *err = NULL;
		cr_expect_lt(sbx_oci_check_id(bad[i], &err), 0, "'%s' accepted", bad[i]);
		sbx_error_free(&err);
	}
	char long_id[1100];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	struct sbx_error *err = NULL;
	cr_expect_lt(sbx_oci_check_id(long_id, &err), 0);
	sbx_error_free(&err);
}

Test(oci_state, signals_by_name_and_number)
{
	struct {
		const char *s;
		int sig;
	} ok[] = {{"TERM", SIGTERM}, {"SIGKILL", SIGKILL}, {"sigusr1", SIGUSR1}, {"9", 9}, {"0", 0}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		int sig = -1;
		struct sbx_error *err = NULL;
		cr_expect_eq(sbx_oci_parse_signal(ok[i].s, &sig, &err), 0, "%s", ok[i].s);
		cr_expect_eq(sig, ok[i].sig, "%s", ok[i].s);
		sbx_error_free(&err);
	}
	static const char *const bad[] = {"NOPE", "-1", "65", "", "SIG"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int sig = -1;
		struct sbx_error *err = NULL;
		cr_expect_lt(sbx_oci_parse_signal(bad[i], &sig, &err), 0, "'%s' accepted", bad[i]);
		sbx_error_free(&err);
	}
}
