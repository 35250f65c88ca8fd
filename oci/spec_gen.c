#include "spec_gen.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

void sbx_oci_features_print(FILE *f)
{
	json_t *o = json_pack(
	    "{s:s, s:s, s:[s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s], "
	    "s:{s:[s,s,s,s,s,s], s:[], s:{s:b, s:b, s:b}, "
	    "s:{s:b, s:[s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s,s]}, s:{s:b}, s:{s:b}}, "
	    "s:{s:s}}",
	    "ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", "prestart", "createRuntime",
	    "poststart", "poststop", "mountOptions", "bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec",
	    "private", "rprivate", "slave", "rslave", "relatime", "strictatime", "noatime", "nodiratime",
	    "newinstance", "size", "mode", "gid", "linux", "namespaces", "pid", "network", "mount", "ipc",
	    "uts", "user", "capabilities", "cgroup", "v1", true, "v2", true, "systemd", false, "seccomp",
	    "enabled", true, "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
	    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "operators", "SCMP_CMP_NE",
	    "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
	    "archs", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64", "apparmor", "enabled", false,
	    "selinux", "enabled", false, "annotations", "org.opencontainers.runtime", "sbx");
	char *t = o ? json_dumps(o, JSON_INDENT(4)) : NULL;
	if (t == NULL)
		abort();
	fprintf(f, "%s\n", t);
	free(t);
	json_decref(o);
}

static const char spec_template[] =
    "{\n"
    "  \"ociVersion\": \"1.1.0\",\n"
    "  \"process\": {\n"
    "    \"terminal\": false,\n"
    "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
    "    \"args\": [ \"sh\" ],\n"
    "    \"env\": [ \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\" "
    "],\n"
    "    \"cwd\": \"/\",\n"
    "    \"noNewPrivileges\": true\n"
    "  },\n"
    "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
    "  \"hostname\": \"sbx\",\n"
    "  \"mounts\": [\n"
    "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
    "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
    "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
    "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
    "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\" ] },\n"
    "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
    "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] }\n"
    "  ],\n"
    "  \"linux\": {\n"
    "    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },\n"
    "                    { \"type\": \"uts\" }, { \"type\": \"mount\" }%s ],\n"
    "    \"maskedPaths\": [ \"/proc/acpi\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
    "                     \"/proc/timer_list\", \"/proc/sched_debug\", \"/proc/scsi\", \"/sys/firmware\" ],\n"
    "    \"readonlyPaths\": [ \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", "
    "\"/proc/sysrq-trigger\" ]\n"
    "  }\n"
    "}\n";

int sbx_oci_spec_write(const char *bundle, bool rootless, struct sbx_error **err)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/config.json", bundle) < 0)
		abort();
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_error_set(err, errno, errno == EEXIST ? "%s exists already" : "writing %s", path);
	cleanup_free char *text = NULL;
	if (asprintf(&text, spec_template, rootless ? ", { \"type\": \"user\" }" : "") < 0)
		abort();
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return sbx_error_set(err, errno, "writing %s", path);
	return 0;
}
