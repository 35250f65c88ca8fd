/* The image config file: the defaults an image asks for (Env, Entrypoint,
 * Cmd, WorkingDir, User, Labels), written beside the rootfs as
 * "<DIR>.image-config.json" by `sbx-rootfs import` and `build`, read by
 * `sbx run`.  Format: docs/rootfs.md, "The image-config file". */
#ifndef SBX_ROOTFS_IMAGE_CONFIG_H
#define SBX_ROOTFS_IMAGE_CONFIG_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

#define SBX_IMAGE_CONFIG_SUFFIX ".image-config.json"
#define SBX_IMAGE_CONFIG_VERSION 1

struct sbx_image_config {
	char **env;	   /* NULL-terminated KEY=VALUE, or NULL */
	char **entrypoint; /* NULL-terminated, or NULL = none */
	char **cmd;	   /* NULL-terminated, or NULL = none */
	char *workdir;	   /* NULL = "/" */
	char *user;	   /* as the image says it ("strategy", "1000:1000"), or NULL */
	int64_t uid, gid;  /* user resolved against the rootfs' /etc/passwd; -1 = unknown */
	json_t *labels;	   /* object, or NULL */
	/* Where it came from (informational). */
	char *source, *format, *manifest, *config_digest, *platform;
};

/* "<rootfs>.image-config.json", trailing slashes of rootfs ignored.
 * Returns a malloc'd string (allocation failure aborts: lib/alloc.h). */
char *sbx_image_config_path(const char *rootfs);

void sbx_image_config_init(struct sbx_image_config *c);
void sbx_image_config_free(struct sbx_image_config *c);

/* Fill from an OCI/Docker image config document ("config": {...}). */
int sbx_image_config_from_oci(struct sbx_image_config *c, json_t *doc, struct sbx_error **err);

/* Resolve c->user to numeric ids with the passwd and group files of the
 * rootfs (read beneath rootfd).  A name that is not found is an error. */
int sbx_image_config_resolve_user(struct sbx_image_config *c, int rootfd, struct sbx_error **err);

/* Write atomically (temporary file + rename) / read back. */
int sbx_image_config_write(const struct sbx_image_config *c, const char *path, struct sbx_error **err);
int sbx_image_config_load(struct sbx_image_config *c, const char *path, struct sbx_error **err);

#endif
