/* The supervisor's side of one sandbox, in five calls over one struct:
 *
 *   prepare    checks that need nothing created, output files, the seccomp
 *              filter compiled, the cgroup with its limits (v2; v1: only
 *              where it goes), the channels
 *   launch     clone3 into every namespace (and the v2 cgroup), id maps,
 *              go; v1: the cgroup made and handed to pid 1
 *   supervise  output, timeout, signals, seccomp notifications, until the
 *              sandbox is gone
 *   collect    what the run used and how it ended, into the result
 *   teardown   the one release path, whatever happened before: channels,
 *              cgroup, /out copy-out, filter, the caller's signal mask
 *
 * sbx_run (run.c) calls them in this order; another front end may hold the
 * struct between launch and supervise.  prepare and launch return -1 with
 * sb->err set; collect then reports a setup error (exit 125).  Nothing here
 * prints: warnings go into the result. */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroups/cgroup.h"
#include "config.h"
#include "result.h"
#include "supervise.h"

struct sbx_sandbox {
	const struct sbx_config *c;
	struct sbx_result *r;
	struct sbx_error *err; /* why prepare or launch failed */
	struct sbx_seccomp *filter;
	struct sbx_cgroup *cg;
	bool cgroup_deferred; /* v1: made in launch, while pid 1 builds the sandbox */
	int sock[2], out[2], errp[2];
	int out_dst, err_dst; /* where the workload's output goes */
	bool own_out, own_err;
	sigset_t caller_mask; /* restored at teardown */
	bool mask_saved;
	bool launched;       /* pid 1 exists (s.pid, s.pidfd) */
	int start_gate;      /* OCI create: O_PATH fd of the start FIFO, -1 = none (contain.h) */
	struct sbx_supervision s;
	uint64_t start_ns, end_ns, cgroup_us;
};

void sbx_sandbox_init(struct sbx_sandbox *sb, const struct sbx_config *c, struct sbx_result *r);
int sbx_sandbox_prepare(struct sbx_sandbox *sb);
int sbx_sandbox_launch(struct sbx_sandbox *sb);
/* launch's first act, for front ends with a launch of their own (a pool
 * job): block the forwarded signals, remembering the caller's mask. */
void sbx_sandbox_block_signals(struct sbx_sandbox *sb);
/* Hand the channels to the supervision of pid 1 (`pid`, 0 when it is not
 * our child, and its pidfd): what launch does once pid 1 exists. */
void sbx_sandbox_watch(struct sbx_sandbox *sb, pid_t pid, int pidfd);
/* v1: create the cgroup that prepare only planned, and record it in the
 * result; no-op when prepare made it.  launch calls it after the go; a
 * front end that starts pid 1 another way calls it before (pool jobs). */
int sbx_sandbox_finish_cgroup(struct sbx_sandbox *sb);
void sbx_sandbox_supervise(struct sbx_sandbox *sb);
void sbx_sandbox_collect(struct sbx_sandbox *sb);
void sbx_sandbox_teardown(struct sbx_sandbox *sb);

#endif
