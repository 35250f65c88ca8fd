#ifndef SBX_RUN_H
#define SBX_RUN_H

#include "config.h"
#include "result.h"

/* One whole run, in the order of DESIGN.md: compile the filter, create the
 * cgroup, clone the sandbox, map ids, let it go, supervise, tear down.
 * Always fills `r` (status, exit code, error), whatever happened; returns
 * sbx's exit status. */
int sbx_run(const struct sbx_config *c, struct sbx_result *r);

/* Shared with the warm pool's job supervisor (runtime/pool_job.c): the
 * report's status and exit code from what the supervisor saw, and the
 * seccomp denials counted. */
struct sbx_supervision;
struct sbx_seccomp;
void sbx_run_classify(const struct sbx_supervision *s, struct sbx_result *r);
void sbx_run_collect_denials(const struct sbx_seccomp *filter, struct sbx_result *r);

#endif
