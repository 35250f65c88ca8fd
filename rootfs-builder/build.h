/* `sbx-rootfs build`: build a rootfs from a Dockerfile subset without
 * Docker (docs/rootfs.md, "The Dockerfile subset"). */
#ifndef SBX_ROOTFS_BUILD_H
#define SBX_ROOTFS_BUILD_H

#include <stdint.h>
#include <stdio.h>

#include "rootfs-builder/layer.h"
#include "lib/error.h"

struct rfs_build_base {
	char *name;    /* as written after FROM, e.g. "python:3.11" */
	char *archive; /* a path sbx-rootfs import accepts */
};

struct rfs_build_opts {
	const char *file;    /* default "Dockerfile.sandbox" */
	const char *context; /* default: the Dockerfile's directory */
	const char *out;
	const char *platform;
	const char *sbx;     /* the sbx program for RUN */
	const char *mirror;  /* Debian mirror for FROM debian:SUITE */
	const char *network; /* RUN steps' sbx run --network; NULL = loopback */
	uint64_t max_size;
	enum rfs_ids ids;
	uint32_t id_base;
	int force;
	FILE *progress;
	struct rfs_build_base *bases;
	size_t n_bases;
	char **args; /* --build-arg KEY=VALUE */
	size_t n_args;
};

void rfs_build_opts_init(struct rfs_build_opts *o);
void rfs_build_opts_free(struct rfs_build_opts *o);
int rfs_build_add_base(struct rfs_build_opts *o, const char *spec, struct sbx_error **err);
int rfs_build_add_arg(struct rfs_build_opts *o, const char *spec, struct sbx_error **err);
int rfs_build(const struct rfs_build_opts *o, struct sbx_error **err);

#endif
