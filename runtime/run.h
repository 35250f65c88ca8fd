#ifndef SBX_RUN_H
#define SBX_RUN_H

#include "config.h"
#include "result.h"

/* One whole run, in the order of DESIGN.md (runtime/sandbox.h: prepare,
 * launch, supervise, collect, teardown).  Always fills `r` (status, exit
 * code, error, warnings), whatever happened; returns sbx's exit status.
 * Prints nothing, and leaves the caller's signal mask as it found it. */
int sbx_run(const struct sbx_config *c, struct sbx_result *r);

#endif
