#ifndef SBX_RUN_H
#define SBX_RUN_H

#include "config.h"
#include "result.h"

/* One whole run, in the order of DESIGN.md: compile the filter, create the
 * cgroup, clone the sandbox, map ids, let it go, supervise, tear down.
 * Always fills `r` (status, exit code, error), whatever happened; returns
 * sbx's exit status. */
int sbx_run(const struct sbx_config *c, struct sbx_result *r);

/* The seam the OCI front end needs to split create from start: pid 1 stops,
 * the sandbox built, before it forks the workload; `ready` runs in the
 * supervisor when it has got there; the workload starts once the FIFO
 * behind `start_gate` is opened for reading (see oci/lifecycle.c). */
struct sbx_run_hooks {
	int start_gate; /* O_PATH fd of a FIFO pid 1 can open for writing */
	void (*ready)(void *arg, pid_t pid1);
	void *arg;
};
int sbx_run_hooked(const struct sbx_config *c, const struct sbx_run_hooks *h, struct sbx_result *r);

#endif
