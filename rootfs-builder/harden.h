/* What of an image may land on the host.  The rootfs is a directory on the
 * host: anything in it that carries privilege outside a sandbox (a set-id
 * binary, a file capability, a security.* or trusted.* attribute) would be
 * privilege for any host user who can reach the file.  Inside sbx these
 * carry nothing (every workload runs with no_new_privs), so they are cut
 * down at extraction, for import, COPY and ADD alike, and again over the
 * whole tree after each RUN step of a build (docs/security.md, "Images on
 * the host"). */
#ifndef SBX_ROOTFS_HARDEN_H
#define SBX_ROOTFS_HARDEN_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/error.h"

struct rfs_harden {
	/* The host uid that is root in the sandbox's user namespace, which a
	 * file capability is bound to (VFS_CAP_REVISION_3 rootid); -1 when
	 * there is none but host root, and file capabilities are dropped. */
	uid_t cap_rootid;
	unsigned long setid_cleared, caps_rewritten, caps_dropped, xattrs_dropped, devices_removed;
};

/* cap_rootid for an extraction with these ids, as the caller it runs as. */
void rfs_harden_init(struct rfs_harden *h, int shift, uid_t id_base, int caller_ids);

/* A regular file's mode as it may be on the host: no set-uid, no set-gid. */
mode_t rfs_harden_mode(struct rfs_harden *h, mode_t type, mode_t mode);

/* Decide about one extended attribute from an image.  Returns 1 to keep it
 * as out, outlen (which may be a rewrite into out[0..outsz)), 0 to drop it. */
int rfs_harden_xattr(struct rfs_harden *h, const char *name, const void *value, size_t len, void *out,
		     size_t outsz, size_t *outlen);

/* Apply the same rules to every file below rootfd (after a RUN step wrote
 * into the tree): clear set-id bits of regular files, rewrite or remove
 * file capabilities, remove other non-user attributes and device nodes.
 * Symlinks are never followed. */
int rfs_harden_tree(struct rfs_harden *h, int rootfd, struct sbx_error **err);

/* One line per kind of change, for the progress output. */
void rfs_harden_report(const struct rfs_harden *h, FILE *f);

#endif
