/* Messages between the supervisor and the sandbox (pid 1 and, until its
 * execve, the workload) over one SOCK_SEQPACKET socket pair: packet
 * boundaries are kept, so each message is read whole, and end-of-file tells
 * the supervisor that every sandbox-side holder has exited or exec'd. */
#ifndef SBX_SYNC_H
#define SBX_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

enum sbx_msg_type {
	SBX_MSG_GO = 1,      /* supervisor -> child: id maps written, cgroup joined */
	SBX_MSG_SETUP_ERROR, /* child: a setup step failed; text = error chain */
	SBX_MSG_EXEC_ERROR,  /* workload: execve failed; err = errno */
	SBX_MSG_EXIT,        /* pid 1: the workload's wait status */
	SBX_MSG_PHASES,      /* workload: its phase duration (no listener to hand over) */
	SBX_MSG_SECCOMP_FD,  /* workload: the seccomp listener (SCM_RIGHTS) and its phase */
	SBX_MSG_READY,       /* pid 1: built; phases, and /out (SCM_RIGHTS) when asked for */
	SBX_MSG_CONSOLE,     /* pid 1: the master of the workload's pty (SCM_RIGHTS), OCI terminal */
	SBX_MSG_POOL_STARTED, /* warm-pool job's pid 1, before READY: its own pidfd (SCM_RIGHTS) */
	SBX_MSG_CGROUP,      /* supervisor -> pid 1, after the go when the cgroup is made
			      * while the sandbox builds itself (v1): the cgroup's
			      * "tasks" files to join (SCM_RIGHTS); status 1 = no
			      * cgroup after all (--allow-no-cgroup): use rlimits */
};

enum sbx_inner_phase { SBX_PHASE_MOUNTS, SBX_PHASE_NET, SBX_PHASE_EXEC_PREP, SBX_INNER_PHASES };

struct sbx_msg {
	uint32_t type;
	int32_t err;    /* errno for errors */
	int32_t status; /* wait status for EXIT */
	uint32_t unused;
	uint64_t phase_us[SBX_INNER_PHASES];
	/* EXIT from a warm-pool job's pid 1, which is the zygote's child and
	 * so not ours to wait4: its own and its reaped children's usage, as
	 * wait4 of sbx run's pid 1 gives it (user µs, system µs, max RSS KiB). */
	uint64_t usage[3];
	char text[1024];
};

int sbx_msg_send(int sock, const struct sbx_msg *m, int fd_to_pass);
/* Returns 1 with a message, 0 at end-of-file, -1 with errno.  A descriptor
 * the kernel had to drop (MSG_CTRUNC: no room in our table) leaves
 * *fd_received at -1, as if none had been sent: the caller checks. */
int sbx_msg_recv(int sock, struct sbx_msg *m, int *fd_received);
/* The same with up to SBX_MSG_MAX_FDS descriptors.  recv stores at most
 * `max` in fds (closing any beyond) and their number in *n. */
#define SBX_MSG_MAX_FDS 8
int sbx_msg_send_fds(int sock, const struct sbx_msg *m, const int *fds, size_t n);
/* Any one packet with up to SBX_SCM_MAX_FDS descriptors (the kernel's
 * SCM_MAX_FD), for messages that are not a struct sbx_msg (the warm pool's). */
#define SBX_SCM_MAX_FDS 253
int sbx_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n);
int sbx_msg_recv_fds(int sock, struct sbx_msg *m, int *fds, size_t max, size_t *n);
/* Child side: report a setup error chain and never return. */
__attribute__((noreturn)) void sbx_msg_fail(int sock, int type, struct sbx_error *err, int exit_code);

#endif
