/* The sandbox's pid 1: each step of building the sandbox from the inside,
 * one function per step.  runtime/steps.c calls them in their required
 * order; other front ends (a warm pool, an OCI create/start) may call them
 * alone or in another valid order. */
#ifndef SBX_CONTAIN_H
#define SBX_CONTAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "mounts.h"
#include "sync.h"

struct sbx_seccomp;

/* What the supervisor hands the child at clone. */
struct sbx_contain_fds {
	int sock;               /* sync socket */
	int out, err;           /* write ends of the output pipes */
	bool cgroup_follows;    /* v1: the cgroup's "tasks" files come after the go (SBX_MSG_CGROUP) */
	bool cgroup2_own;       /* cloned into the sandbox's own v2 cgroup: its cgroup namespace's root */
	bool rlimit_fallback;   /* no cgroup: bound pids, memory and file size by rlimits */
	int start_gate;         /* O_PATH fd of a FIFO, or -1: see sbx_step_start_gate */
};

/* What pid 1 carries from one step to the next. */
struct sbx_inner {
	const struct sbx_config *c;
	const struct sbx_seccomp *filter;
	const struct sbx_contain_fds *fds;
	int sock;
	struct sbx_mount_sources src;
	bool src_open;
	int userns_dir;         /* host /proc/sys/user, until the limits are written */
	struct sbx_msg ready;   /* phases measured inside, sent with /out */
	uint64_t fork_ns;
	pid_t workload;         /* > 0 once forked */
	bool rlimit_fallback;   /* from the clone, or from the cgroup message */
	int console;            /* the pty's slave for the workload, -1 = none (sbx_step_console) */
};

void sbx_inner_init(struct sbx_inner *in, const struct sbx_config *c, const struct sbx_seccomp *filter,
		    const struct sbx_contain_fds *fds);

int sbx_step_join_cgroup(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_redirect_output(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_wait_for_go(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_close_inherited(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_open_sources(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_memfd_noexec(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_become_root(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_die_with_supervisor(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_scrub(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_filesystem(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_hostname(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_network(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_userns_limits(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_rlimits(struct sbx_inner *in, struct sbx_error **err);
/* OCI process.terminal: a pty from the sandbox's own devpts; its master goes
 * to the supervisor (SBX_MSG_CONSOLE, for --console-socket), its slave
 * becomes the workload's terminal and stdio.  Nothing without a terminal. */
int sbx_step_console(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_report_ready(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_drop_bounding(struct sbx_inner *in, struct sbx_error **err);
/* OCI create/start: with the sandbox built and before the workload exists,
 * block opening the FIFO fds->start_gate for writing until "sbx start"
 * opens it for reading.  Nothing to do without a gate. */
int sbx_step_start_gate(struct sbx_inner *in, struct sbx_error **err);
/* Forks the workload; the child runs sbx_workload_main and never returns. */
int sbx_step_fork_workload(struct sbx_inner *in, struct sbx_error **err);
int sbx_step_confine(struct sbx_inner *in, struct sbx_error **err);

#endif
