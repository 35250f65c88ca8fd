/* Where an image's files come from: an OCI layout directory, or a tar
 * archive (oci-archive, docker-archive) read in place without unpacking it
 * first.  Names inside the source are untrusted (docker-archive's
 * manifest.json names its layer files), so a directory source resolves them
 * beneath its root only, and a tar source only matches entry names. */
#ifndef SBX_ROOTFS_BLOB_H
#define SBX_ROOTFS_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

enum rfs_format {
	RFS_FMT_OCI_DIR,
	RFS_FMT_OCI_ARCHIVE,
	RFS_FMT_DOCKER_ARCHIVE,
	RFS_FMT_FLAT_TAR,
};

const char *rfs_format_name(enum rfs_format f);

struct rfs_source {
	char *path;
	int dirfd; /* RFS_FMT_OCI_DIR: the layout's root; else -1 */
	enum rfs_format format;
	uint64_t max_unpacked; /* 0 = no limit; see rfs_source_open_limited */
};

/* Open SOURCE and detect its format. */
int rfs_source_open(struct rfs_source *s, const char *path, struct sbx_error **err);
/* The same, for a compressed archive refusing to decompress more than max
 * bytes of it in any one pass over its members (format detection, looking
 * for a member): skipping a member of a compressed tar decompresses it. */
int rfs_source_open_limited(struct rfs_source *s, const char *path, uint64_t max, struct sbx_error **err);
void rfs_source_close(struct rfs_source *s);

/* A byte stream of one file of the source (or of a whole file on disk). */
struct rfs_stream;
int rfs_stream_open(struct rfs_source *s, const char *name, struct rfs_stream **out, struct sbx_error **err);
int rfs_stream_open_path(const char *path, struct rfs_stream **out, struct sbx_error **err);
/* Returns the number of bytes at *buf (valid until the next call), 0 at
 * the end, < 0 on error. */
ssize_t rfs_stream_read(struct rfs_stream *st, const void **buf, struct sbx_error **err);
void rfs_stream_close(struct rfs_stream *st);

/* Read a whole (small) file of the source: index.json, manifests, configs.
 * Fails when it is larger than max.  When digest is not NULL the content
 * must hash to it. */
int rfs_source_read(struct rfs_source *s, const char *name, const char *digest, size_t max, char **buf,
		    size_t *len, struct sbx_error **err);

#endif
