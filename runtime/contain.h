#ifndef SBX_CONTAIN_H
#define SBX_CONTAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "mounts.h"

struct sbx_seccomp;

/* The sandbox's pid 1, from clone3 to exit: waits for the supervisor's go,
 * builds the sandbox (each step below is its own call, so a warm pool can
 * reuse them), forks the workload as pid 2 and reaps until it exits. */
struct sbx_contain_fds {
	int sock;               /* sync socket */
	int out, err;           /* write ends of the output pipes */
	const int *cgroup;      /* v1: the run's "tasks" files, to join (see cgroups/cgroup.h) */
	size_t n_cgroup;
	bool rlimit_fallback;   /* no cgroup: bound pids, memory and file size by rlimits */
	int start_gate;         /* O_PATH fd of a FIFO, or -1: see sbx_contain_wait_start */
};
__attribute__((noreturn)) void sbx_contain_main(const struct sbx_config *c, const struct sbx_seccomp *filter,
						const struct sbx_contain_fds *fds);

/* Steps, in the order sbx_contain_main applies them. */
int sbx_contain_filesystem(const struct sbx_config *c, const struct sbx_mount_sources *src, struct sbx_error **err);
int sbx_contain_hostname(const struct sbx_config *c, struct sbx_error **err);
int sbx_contain_network(const struct sbx_config *c, struct sbx_error **err);
/* OCI create/start: with the sandbox built and before the workload exists,
 * tell the supervisor (SBX_MSG_READY) and block opening the FIFO `gate`
 * for writing until "sbx start" opens it for reading. */
int sbx_contain_wait_start(int sock, int gate, struct sbx_error **err);

#endif
