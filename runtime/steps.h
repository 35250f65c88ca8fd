/* The in-sandbox steps in their order (runtime/steps.c): pid 1 builds the
 * sandbox, forks the workload, and reaps; the workload finishes its own
 * confinement and execs.  Both never return. */
#ifndef SBX_STEPS_H
#define SBX_STEPS_H

#include "contain.h"
#include "workload.h"

__attribute__((noreturn)) void sbx_contain_main(const struct sbx_config *c, const struct sbx_seccomp *filter,
						const struct sbx_contain_fds *fds);
__attribute__((noreturn)) void sbx_workload_main(struct sbx_workload *w);

#endif
