#ifndef SBX_IDMAP_H
#define SBX_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "lib/error.h"

/* Write the child's uid_map/gid_map from the supervisor.
 * As root: container 0..size-1 -> host base..base+size-1 (never host root).
 * Rootless: container 0 -> the caller (setgroups denied, as the kernel
 * requires before an unprivileged gid_map write). */
int sbx_idmap_write(pid_t child, const struct sbx_config *c, struct sbx_error **err);

/* Rootless: not root, or root only of a user namespace that maps less
 * than every host id (podman rootless runs its OCI runtime as uid 0 of a
 * namespace mapping one id): either way only the caller can be mapped. */
bool sbx_idmap_rootless(void);

#endif
