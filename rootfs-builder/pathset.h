/* A set of paths (open addressing, FNV-1a): which paths the current layer
 * wrote, so an opaque directory hides only what lower layers put there. */
#ifndef SBX_ROOTFS_PATHSET_H
#define SBX_ROOTFS_PATHSET_H

#include <stddef.h>

struct rfs_pathset {
	char **slots;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

/* Adds a copy of path (once). */
void rfs_pathset_add(struct rfs_pathset *s, const char *path);
int rfs_pathset_has(const struct rfs_pathset *s, const char *path);
void rfs_pathset_clear(struct rfs_pathset *s);

#endif
