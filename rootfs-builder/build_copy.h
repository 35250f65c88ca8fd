/* COPY and ADD of `sbx-rootfs build`: the sources are packed into a
 * temporary tar with the names, owners and modes they get in the image, and
 * that tar is applied like an image layer (layer.c), so the build gets the
 * same confinement and id mapping as an import. */
#ifndef SBX_ROOTFS_BUILD_COPY_H
#define SBX_ROOTFS_BUILD_COPY_H

#include <stdint.h>
#include <sys/types.h>

#include "rootfs-builder/layer.h"
#include "lib/error.h"

struct rfs_copy {
	const char *src_root; /* context directory, or an earlier stage's rootfs */
	char **srcs;	      /* relative to src_root (leading '/' allowed), globs allowed */
	size_t n_srcs;
	const char *dest; /* absolute path in the image */
	uid_t uid;	  /* owner inside the image */
	gid_t gid;
	int chmod;	    /* -1 = keep the sources' modes */
	int add;	    /* ADD: local tar archives are extracted */
	const char *tmpdir; /* where the temporary tar goes */
};

int rfs_copy_into(struct rfs_extract *x, const struct rfs_copy *c, struct sbx_error **err);

#endif
