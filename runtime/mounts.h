#ifndef SBX_MOUNTS_H
#define SBX_MOUNTS_H

#include "config.h"
#include "error.h"

/* Build the sandbox's filesystem view and make it the root.  Runs in the
 * child, inside its new user and mount namespaces, with host paths still
 * visible.  On return the process is chrooted (pivot_root) into the
 * read-only rootfs with /proc, /dev, /tmp and the configured mounts. */
int sbx_mounts_setup(const struct sbx_config *c, struct sbx_error **err);

#endif
