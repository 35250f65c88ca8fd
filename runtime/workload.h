/* The workload (pid 2), from pid 1's fork to execve: the last steps before
 * the untrusted program runs, one function per step, in the order
 * runtime/steps.c gives. */
#ifndef SBX_WORKLOAD_H
#define SBX_WORKLOAD_H

#include <stdint.h>

#include "config.h"
#include "lib/error.h"

struct sbx_seccomp;

struct sbx_workload {
	const struct sbx_config *c;
	const struct sbx_seccomp *filter;
	int sock;          /* to report a failed step or execve */
	uint64_t start_ns; /* when pid 1 forked it */
	int console;       /* the pty's slave (OCI terminal), -1 = none */
};

int sbx_wstep_signals(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_setsid(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_groups(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_user(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_caps(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_workdir(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_close_fds(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_no_new_privs(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_report_phase(struct sbx_workload *w, struct sbx_error **err);
int sbx_wstep_seccomp(struct sbx_workload *w, struct sbx_error **err);
/* execve along the configured PATH; reports the failure and exits 126/127. */
__attribute__((noreturn)) void sbx_wstep_exec(struct sbx_workload *w);

/* Exit code for a failed execve, per DESIGN.md: 127 not found, 126 other. */
int sbx_exec_failure_code(int errno_);

#endif
