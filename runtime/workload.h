#ifndef SBX_WORKLOAD_H
#define SBX_WORKLOAD_H

#include "config.h"

struct sbx_seccomp;

/* In the workload process (pid 2), after the sandbox is built: the last
 * steps before the untrusted program runs, in their required order, then
 * execve.  Never returns; failures are reported over `sock`. */
__attribute__((noreturn)) void sbx_workload_exec(const struct sbx_config *c, const struct sbx_seccomp *filter,
						 int sock, uint64_t start_ns);

/* Exit code for a failed execve, per DESIGN.md: 127 not found, 126 other. */
int sbx_exec_failure_code(int errno_);

#endif
