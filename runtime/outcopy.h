#ifndef SBX_OUTCOPY_H
#define SBX_OUTCOPY_H

#include <stdint.h>

#include "lib/error.h"
#include "result.h"

/* Copy the regular files and directories of the sandbox's /out (an open
 * directory fd, the sandbox already gone) into the host directory `dest`.
 * Symlinks, devices, FIFOs and sockets are skipped and listed in the result;
 * nothing is created outside `dest` whatever the names.
 *
 * Bounded, because everything in /out is the workload's (docs/security.md):
 *  - size: the apparent sizes of the files copied add up to at most
 *    `max_bytes` (the /out size).  A file that does not fit in what is left
 *    is not copied (it is skipped and counted as cut); holes are kept, so
 *    the host never stores more than it is charged.  Every name of a
 *    hard-linked file is a copy of its own and is charged in full.
 *  - time: the copy stops at sbx_out_deadline_ns(max_bytes) after it
 *    starts; a file being copied then is removed and listed, the entries not
 *    yet visited are not counted, and out_deadline_hit is set.
 *  - the report: only the first SBX_OUT_SKIPPED_MAX skipped paths are kept. */
int sbx_out_copy(int srcfd, const char *dest, uint64_t max_bytes, struct sbx_result *r,
		 struct sbx_error **err);
/* How long the copy of an /out of `max_bytes` may take: 5 s plus 1 s per
 * 32 MiB (a slow disk still writes that much). */
uint64_t sbx_out_deadline_ns(uint64_t max_bytes);
/* Check (before the run) that `dest` can receive the copy: an existing
 * directory, or a path whose parent exists; never a symlink or a file. */
int sbx_out_check(const char *dest, struct sbx_error **err);

#endif
