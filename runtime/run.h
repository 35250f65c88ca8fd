#ifndef SBX_RUN_H
#define SBX_RUN_H

#include "config.h"
#include "result.h"

/* One whole run, in the order of DESIGN.md: compile the filter, create the
 * cgroup, clone the sandbox, map ids, let it go, supervise, tear down.
 * Always fills `r` (status, exit code, error), whatever happened; returns
 * sbx's exit status. */
int sbx_run(const struct sbx_config *c, struct sbx_result *r);

#endif
