/* Every step of a sandbox, from the inside, in order.  Each step is a
 * function of its own (pid 1's in contain.c, the workload's in workload.c);
 * the order and its reasons live here.  A failed step is reported to the
 * supervisor with its name and error chain (exit 125); the fault-injection
 * build can fail any step by name (SBX_FAULT=NAME, runtime/fault.h). */
#include "steps.h"

#include <signal.h>
#include <unistd.h>

#include "fault.h"
#include "init.h"
#include "sync.h"

struct pid1_step {
	const char *name;
	int (*run)(struct sbx_inner *in, struct sbx_error **err);
};

static const struct pid1_step pid1_steps[] = {
	{ "output", sbx_step_redirect_output },
	/* Until the supervisor has written our id maps we are nobody. */
	{ "go", sbx_step_wait_for_go },
	/* pid 1 is a copy of the supervisor: drop every fd the caller passed. */
	{ "fds", sbx_step_close_inherited },
	/* Host paths (rootfs, bind sources) while we still have the caller's
	 * host uid, so a caller-only directory works. */
	{ "sources", sbx_step_open_sources },
	/* Needs host root's euid, which a root-started pid 1 has until the
	 * next step. */
	{ "memfd_noexec", sbx_step_memfd_noexec },
	/* Cloned by host root we still carry host uid 0, which the map lacks
	 * (files we create would fail with EOVERFLOW). */
	{ "root", sbx_step_become_root },
	/* After the uid change, which clears the death signal. */
	{ "deathsig", sbx_step_die_with_supervisor },
	/* After the uid change, which resets the dumpable flag; long before
	 * the workload exists. */
	{ "scrub", sbx_step_scrub },
	{ "mounts", sbx_step_filesystem },
	{ "hostname", sbx_step_hostname },
	{ "net", sbx_step_network },
	/* After the mounts (detached trees count as mount namespaces), with
	 * CAP_SYS_RESOURCE still ours. */
	{ "userns_limits", sbx_step_userns_limits },
	/* Into the v1 cgroup (on v2 clone3 already put us there) before the
	 * workload exists and before the rlimits, which replace the cgroup when
	 * there is none.  Not first: the supervisor makes a v1 cgroup while the
	 * steps above run, side by side; until here pid 1 runs only sbx's own
	 * bounded setup, charged to the supervisor's cgroup. */
	{ "cgroup_join", sbx_step_join_cgroup },
	/* Before the fork, so the workload inherits them. */
	{ "rlimits", sbx_step_rlimits },
	/* OCI terminal: after the mounts (the sandbox's devpts), before ready
	 * (the client has its console when create returns). */
	{ "console", sbx_step_console },
	{ "ready", sbx_step_report_ready },
	/* Needs CAP_SETPCAP; inherited by the workload at fork. */
	{ "bounding", sbx_step_drop_bounding },
	/* OCI create: the supervisor knows the sandbox is built (ready);
	 * `start` lets the workload exist. */
	{ "start_gate", sbx_step_start_gate },
	{ "fork", sbx_step_fork_workload },
	{ "confine", sbx_step_confine },
};

struct workload_step {
	const char *name;
	int (*run)(struct sbx_workload *w, struct sbx_error **err);
};

static const struct workload_step workload_steps[] = {
	{ "signals", sbx_wstep_signals },
	{ "setsid", sbx_wstep_setsid },
	{ "groups", sbx_wstep_groups },
	/* uid and gid need CAP_SETUID/SETGID: before the capabilities go. */
	{ "user", sbx_wstep_user },
	{ "caps", sbx_wstep_caps },
	{ "workdir", sbx_wstep_workdir },
	{ "close_fds", sbx_wstep_close_fds },
	{ "no_new_privs", sbx_wstep_no_new_privs },
	/* Last: everything above needs calls the filter denies.  It also
	 * reports the workload's phase, on the message that hands over the
	 * filter's listener. */
	{ "seccomp_load", sbx_wstep_seccomp },
};

#define N(a) (sizeof(a) / sizeof(*(a)))

void sbx_contain_main(const struct sbx_config *c, const struct sbx_seccomp *filter, const struct sbx_contain_fds *fds)
{
	struct sbx_inner in;
	sbx_inner_init(&in, c, filter, fds);
	for (size_t i = 0; i < N(pid1_steps); i++) {
		struct sbx_error *err = NULL;
		SBX_FAULT_HANG(pid1_steps[i].name);
		if (SBX_FAULT(pid1_steps[i].name, &err) < 0 || pid1_steps[i].run(&in, &err) < 0) {
			if (in.workload > 0)
				kill(in.workload, SIGKILL);
			sbx_msg_fail(in.sock, SBX_MSG_SETUP_ERROR, err, 125);
		}
	}
	struct sbx_msg done = { .type = SBX_MSG_EXIT, .status = sbx_init_reap(in.workload) };
	sbx_msg_send(in.sock, &done, -1);
	/* Our exit kills every process left in the pid namespace. */
	_exit(0);
}

void sbx_workload_main(struct sbx_workload *w)
{
	for (size_t i = 0; i < N(workload_steps); i++) {
		struct sbx_error *err = NULL;
		if (SBX_FAULT(workload_steps[i].name, &err) < 0 || workload_steps[i].run(w, &err) < 0)
			sbx_msg_fail(w->sock, SBX_MSG_SETUP_ERROR, err, 125);
	}
	sbx_wstep_exec(w);
}
