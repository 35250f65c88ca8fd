/* An image's metadata: which manifest (picked from the index by platform
 * and reference name), its layers in order and its config, read from an OCI
 * layout (directory or oci-archive) or a docker-archive.  Every manifest and
 * config read is checked against the digest that names it. */
#ifndef SBX_ROOTFS_IMAGE_H
#define SBX_ROOTFS_IMAGE_H

#include <jansson.h>
#include <stdint.h>

#include "rootfs-builder/blob.h"
#include "lib/error.h"

struct rfs_image_layer {
	char *name;    /* file inside the source */
	char *digest;  /* of the blob as stored; NULL when unknown (docker-archive) */
	int64_t size;  /* -1 when unknown */
	char *diff_id; /* from the config's rootfs.diff_ids */
};

struct rfs_image {
	char *manifest_digest; /* NULL for docker-archive */
	char *config_digest;
	json_t *config; /* the image config document */
	struct rfs_image_layer *layers;
	size_t n_layers;
};

struct rfs_platform {
	char os[32], arch[32], variant[32];
};

/* "linux/amd64" or "linux/arm64/v8". */
int rfs_platform_parse(const char *s, struct rfs_platform *p, struct sbx_error **err);

/* ref: an image name to pick (OCI "org.opencontainers.image.ref.name"
 * annotation, or a docker-archive RepoTag); NULL = the only one. */
int rfs_image_load(struct rfs_source *s, const struct rfs_platform *plat, const char *ref,
		   struct rfs_image *img, struct sbx_error **err);
void rfs_image_free(struct rfs_image *img);

#endif
