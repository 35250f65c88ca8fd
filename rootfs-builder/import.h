/* `sbx-rootfs import`: any supported image source to a rootfs directory.
 * Extraction goes into a temporary sibling of DIR that is renamed into place
 * only when every layer applied and verified, so a failure leaves nothing. */
#ifndef SBX_ROOTFS_IMPORT_H
#define SBX_ROOTFS_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "rootfs-builder/layer.h"
#include "lib/error.h"

struct rfs_import_opts {
	const char *source;
	const char *out;
	const char *platform; /* NULL = linux/amd64 */
	const char *ref;      /* NULL = the only image */
	uint64_t max_size;    /* 0 = default (RFS_DEFAULT_MAX_SIZE) */
	enum rfs_ids ids;
	uint32_t id_base, id_size;
	int force;	/* replace an existing DIR */
	FILE *progress; /* progress and warnings; NULL = quiet */
};

#define RFS_DEFAULT_MAX_SIZE (8ull << 30)

/* Defaults: shifted ids onto SBX_DEFAULT_IDMAP_BASE as root, the caller's
 * ids otherwise. */
void rfs_import_opts_init(struct rfs_import_opts *o);

int rfs_import(const struct rfs_import_opts *o, struct sbx_error **err);

/* Shared with `build`: a fresh temporary sibling of `out` ("out.tmp-XXXXXX"),
 * and the final swap into place. */
int rfs_make_tmp_sibling(const char *out, char **tmp, struct sbx_error **err);
int rfs_commit_dir(const char *tmp, const char *out, int force, struct sbx_error **err);
/* Remove a directory tree by path (no symlink followed). */
int rfs_remove_path(const char *path);

#endif
