/* Apply one layer (a tar stream, gzip/zstd/uncompressed) onto a rootfs
 * directory: whiteouts, opaque directories, hard links, symlinks, modes,
 * ownership, xattrs, with every path confined to the rootfs (safefs.h) and
 * every byte hashed so the blob can be checked against its digest. */
#ifndef SBX_ROOTFS_LAYER_H
#define SBX_ROOTFS_LAYER_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "rootfs-builder/blob.h"
#include "rootfs-builder/digest.h"
#include "rootfs-builder/harden.h"
#include "lib/error.h"

/* Whose files are they on the host. */
enum rfs_ids {
	RFS_IDS_SHIFT,	/* image id U -> host id base+U: what sbx run maps as root */
	RFS_IDS_KEEP,	/* image ids verbatim */
	RFS_IDS_CALLER, /* everything owned by the caller (rootless) */
};

struct rfs_dir_fixup;

/* Entries over all layers; real images have tens of thousands. */
#define RFS_MAX_ENTRIES 2000000u

/* State shared by the layers of one import. */
struct rfs_extract {
	int rootfd;
	enum rfs_ids ids;
	uint32_t id_base, id_size;
	uint64_t max_size; /* limit for both counts below */
	uint64_t used;	   /* content + 512 bytes per entry, over all layers */
	uint64_t unpacked; /* decompressed bytes read, over all layers */
	uint64_t stored;   /* blob bytes as stored, over all layers */
	uint64_t entries;
	int can_chown; /* running as root */
	FILE *warn;    /* warnings go here; NULL = silent */
	unsigned long devices_skipped, xattrs_failed, ids_clamped;
	struct rfs_harden harden; /* set-id bits, capabilities, xattrs (harden.h) */
	int harden_ready;	  /* harden set up from ids/id_base at the first layer */
	struct rfs_dir_fixup *dirs;
	size_t n_dirs, cap_dirs;
	uint64_t seq;
};

/* What the manifest says about a layer; any field may be NULL/-1. */
struct rfs_layer_desc {
	const char *label;   /* "layer 2/3 sha256:..." for messages */
	const char *digest;  /* of the blob as stored */
	int64_t size;	     /* of the blob as stored, -1 unknown */
	const char *diff_id; /* of the uncompressed tar */
};

/* Set from a signal handler (SIGINT/SIGTERM): the layer being applied
 * stops at its next entry with an error, so the normal error path removes
 * the temporary tree. */
extern volatile int rfs_interrupted;

void rfs_extract_init(struct rfs_extract *x, int rootfd);
int rfs_apply_layer(struct rfs_extract *x, struct rfs_stream *st, const struct rfs_layer_desc *d,
		    struct sbx_error **err);
/* Directory modes and times last, deepest first: entries written into a
 * directory change its mtime, and a read-only directory would stop the
 * non-root extraction of what goes inside it. */
int rfs_extract_finish(struct rfs_extract *x, struct sbx_error **err);
void rfs_extract_free(struct rfs_extract *x);

/* Normalise an entry name: strip "./" and repeated slashes.  Absolute
 * paths and ".." components are rejected (returns -1 and sets *why). */
int rfs_normalize_path(const char *in, char *out, size_t outsz, const char **why);

#endif
