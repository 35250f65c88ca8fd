#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"

static int open_ns(pid_t pid, const char *name, struct sbx_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "opening %s", path);
	return fd;
}

/* Write the net.* sysctls (`net`) or the others; the first failure is
 * reported on `report`. */
static int write_all(const struct sbx_oci_spec *s, bool net, int report)
{
	for (size_t i = 0; i < s->n_sysctls; i++) {
		if ((strncmp(s->sysctls[i].key, "net.", 4) == 0) != net)
			continue;
		char path[160];
		snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctls[i].key);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		size_t len = strlen(s->sysctls[i].value);
		if (fd < 0 || write(fd, s->sysctls[i].value, len) != (ssize_t)len) {
			dprintf(report, "linux.sysctl.%s: writing %s: %s", s->sysctls[i].key, path,
				strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* In the child: enter the namespaces and write each value. */
static __attribute__((noreturn)) void writer(int user, int net, int ipc, const struct sbx_oci_spec *s,
					     int report)
{
	/* The sandbox's user namespace owns its net and ipc namespaces, and
	 * entering it first gives the capabilities to enter them (rootless
	 * too) and that the sysctl files check.  A joined network namespace
	 * belongs to the host's user namespace: its sysctls are written as
	 * host root, before. */
	bool joined = s->netns_path != NULL;
	if (joined && setns(net, CLONE_NEWNET) < 0) {
		dprintf(report, "entering network namespace %s: %s", s->netns_path, strerror(errno));
		_exit(1);
	}
	if (joined && write_all(s, true, report) < 0)
		_exit(1);
	/* A joined ipc namespace (a pod's) is not the sandbox's user
	 * namespace's: its sysctls were refused (oci/spec.c). */
	if (setns(user, CLONE_NEWUSER) < 0 || (!joined && setns(net, CLONE_NEWNET) < 0) ||
	    (s->ipcns_path == NULL && setns(ipc, CLONE_NEWIPC) < 0)) {
		dprintf(report, "entering the sandbox's namespaces: %s", strerror(errno));
		_exit(1);
	}
	if ((!joined && write_all(s, true, report) < 0) || write_all(s, false, report) < 0)
		_exit(1);
	_exit(0);
}

int sbx_oci_sysctl_apply(pid_t pid1, const struct sbx_oci_spec *s, struct sbx_error **err)
{
	if (s->n_sysctls == 0)
		return 0;
	cleanup_close int user = open_ns(pid1, "user", err);
	if (user < 0)
		return -1;
	cleanup_close int net = open_ns(pid1, "net", err);
	if (net < 0)
		return -1;
	cleanup_close int ipc = open_ns(pid1, "ipc", err);
	if (ipc < 0)
		return -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "linux.sysctl: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return sbx_error_set(err, errno, "linux.sysctl: fork");
	}
	if (pid == 0) {
		close(p[0]);
		writer(user, net, ipc, s, p[1]);
	}
	close(p[1]);
	char msg[512];
	ssize_t n = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	return sbx_error_set(err, 0, "%s", n > 0 ? msg : "linux.sysctl: the writer failed");
}
