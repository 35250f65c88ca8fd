#ifndef SBX_OUTCOPY_H
#define SBX_OUTCOPY_H

#include "lib/error.h"
#include "result.h"

/* Copy the regular files and directories of the sandbox's /out (an open
 * directory fd, the sandbox already gone) into the host directory `dest`.
 * Symlinks, devices, FIFOs and sockets are skipped and listed in the result;
 * nothing is created outside `dest` whatever the names. */
int sbx_out_copy(int srcfd, const char *dest, struct sbx_result *r, struct sbx_error **err);
/* Check (before the run) that `dest` can receive the copy: an existing
 * directory, or a path whose parent exists; never a symlink or a file. */
int sbx_out_check(const char *dest, struct sbx_error **err);

#endif
