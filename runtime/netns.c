#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "init.h"
#include "net.h"
#include "sync.h"

bool sbx_netns_beside(const struct sbx_config *c)
{
	return c->network != SBX_NET_HOST && !(c->kernel_mounts & SBX_KMOUNT_SYSFS);
}

static int make_netns(const struct sbx_config *c, int userns, int sock, int *ns, struct sbx_error **err)
{
	if (SBX_FAULT("netns", err) < 0)
		return -1;
	/* Only the helper's own descriptors: it must hold nothing of the
	 * supervisor's once it is in the sandbox's user namespace. */
	if (sbx_close_all_except((const int[]){ 0, 1, 2, userns, sock }, 5, err) < 0)
		return -1;
	/* The supervisor owns the sandbox's user namespace (as root, or as
	 * its creator rootless), so it may enter it; a network namespace made
	 * there belongs to the sandbox's root. */
	if (setns(userns, CLONE_NEWUSER) < 0)
		return sbx_error_set(err, errno, "entering the sandbox's user namespace");
	if (unshare(CLONE_NEWNET) < 0)
		return sbx_error_set(err, errno, "unshare(CLONE_NEWNET)");
	if (c->network == SBX_NET_LOOPBACK && sbx_net_loopback_up(err) < 0)
		return sbx_error_wrap(err, "setting up the loopback network");
	*ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*ns < 0)
		return sbx_error_set(err, errno, "opening the new network namespace");
	return 0;
}

static __attribute__((noreturn)) void helper_main(const struct sbx_config *c, int userns, int sock)
{
	struct sbx_error *err = NULL;
	/* A supervisor killed meanwhile takes the helper with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int ns = -1;
	if (make_netns(c, userns, sock, &ns, &err) < 0)
		sbx_msg_fail(sock, SBX_MSG_SETUP_ERROR, err, 125);
	struct sbx_msg m = { .type = SBX_MSG_NETNS };
	_exit(sbx_msg_send(sock, &m, ns) < 0 ? 125 : 0);
}

int sbx_netns_userns(pid_t pid, struct sbx_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "opening %s", path);
	return fd;
}

pid_t sbx_netns_spawn(const struct sbx_config *c, int userns, int sock, struct sbx_error **err)
{
	pid_t pid = fork();
	if (pid < 0)
		return sbx_error_set(err, errno, "forking the network namespace's helper");
	if (pid == 0)
		helper_main(c, userns, sock);
	return pid;
}

void sbx_netns_reap(pid_t *helper)
{
	if (*helper <= 0)
		return;
	/* Done long ago in a run that got this far; killed when pid 1 failed
	 * first and nobody reads what it makes. */
	kill(*helper, SIGKILL);
	while (waitpid(*helper, NULL, 0) < 0 && errno == EINTR)
		;
	*helper = -1;
}

int sbx_netns_join(int sock, struct sbx_error **err)
{
	struct sbx_msg m;
	int ns = -1;
	int r = sbx_msg_recv(sock, &m, &ns);
	if (r < 0)
		return sbx_error_set(err, errno, "waiting for the network namespace");
	if (r == 0)
		return sbx_error_set(err, EPROTO, "the network namespace's helper ended without a word");
	if (m.type == SBX_MSG_SETUP_ERROR) {
		sbx_error_set(err, 0, "%s", m.text);
		(*err)->errno_ = m.err;
		return -1;
	}
	if (m.type != SBX_MSG_NETNS || ns < 0) {
		if (ns >= 0)
			close(ns);
		return sbx_error_set(err, EPROTO, "waiting for the network namespace: got message %u", m.type);
	}
	r = setns(ns, CLONE_NEWNET);
	int e = errno;
	close(ns);
	return r < 0 ? sbx_error_set(err, e, "joining the network namespace") : 0;
}
