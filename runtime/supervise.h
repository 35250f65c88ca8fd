#ifndef SBX_SUPERVISE_H
#define SBX_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "relay.h"
#include "result.h"
#include "sync.h"

struct sbx_seccomp;
struct sbx_cgroup;

/* Everything the supervisor watches while the sandbox runs. */
struct sbx_supervision {
	pid_t pid;  /* the sandbox's pid 1, as seen from the host; 0: not our child (a warm-pool
	             job), known by its pidfd only and not reaped here */
	int pidfd;
	int sock;   /* sync socket; -1 after end-of-file */
	struct sbx_relay out, err;
	double timeout; /* seconds, 0 = none */
	struct sbx_cgroup *cgroup;
	struct sbx_seccomp *filter;
	bool expect_out;         /* /out was asked for: pid 1 must hand it over */
	uint64_t setup_deadline; /* sbx_now_ns() by which pid 1 must be ready; 0 = none */
	/* OCI create: called once pid 1 reported the sandbox built (it then
	 * waits at the start gate, sbx_step_start_gate). */
	void (*on_ready)(void *arg, pid_t pid1);
	/* OCI terminal: the pty's master; the callback keeps or closes it. */
	void (*on_console)(void *arg, int master);
	void *on_ready_arg;
	int cancel_fd;  /* -1, or an fd whose hang-up or data kills the sandbox (pool client gone) */
	/* filled while running */
	bool ready;      /* pid 1 reported the sandbox built */
	char *warning;   /* something that did not stop the run (for the result) */
	int listener;    /* seccomp notification fd, -1 if none */
	int out_dirfd;   /* the sandbox's /out, -1 if none */
	bool got_exit;   /* pid 1 reported the workload's status */
	int wait_status; /* ... this one */
	bool setup_failed, exec_failed;
	bool timed_out;
	int exec_errno;
	char *error;
	uint64_t inner_us[SBX_INNER_PHASES]; /* mounts, net, exec_prep (sync.h) */
	int pid1_status;      /* wait status of pid 1 */
	struct rusage rusage;
};

/* How long pid 1 may take from the go to "ready" (mounts, network): a
 * backstop against a setup that hangs, when no --timeout would end it. */
#define SBX_SETUP_DEADLINE_S 60

/* SBX_SETUP_DEADLINE_S in nanoseconds (shorter in the fault-injection
 * build when its tests ask). */
uint64_t sbx_setup_deadline_ns(void);

/* Wait for the sandbox to end: relay output, enforce the timeout, forward
 * SIGINT/SIGTERM/SIGHUP (a second one kills), answer seccomp notifications,
 * collect pid 1's messages; then reap pid 1 and drain what is left. */
int sbx_supervise(struct sbx_supervision *s, struct sbx_error **err);
/* Kill the whole sandbox now. */
void sbx_supervise_kill(struct sbx_supervision *s);

#endif
