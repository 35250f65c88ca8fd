#ifndef SBX_IDMAP_H
#define SBX_IDMAP_H

#include <sys/types.h>

#include "config.h"
#include "lib/error.h"

/* Write the child's uid_map/gid_map from the supervisor.
 * As root: container 0..size-1 -> host base..base+size-1 (never host root).
 * Rootless: container 0 -> the caller (setgroups denied, as the kernel
 * requires before an unprivileged gid_map write). */
int sbx_idmap_write(pid_t child, const struct sbx_config *c, struct sbx_error **err);

#endif
