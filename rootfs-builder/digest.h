/* SHA-256 for blob verification.  libarchive reads archives but does not
 * hash them, so every byte handed to it passes through one of these. */
#ifndef SBX_ROOTFS_DIGEST_H
#define SBX_ROOTFS_DIGEST_H

#include <stddef.h>

#include <nettle/sha2.h>

#include "lib/error.h"

/* "sha256:" + 64 hex digits + NUL */
#define RFS_DIGEST_LEN (7 + 64 + 1)

struct rfs_hash {
	struct sha256_ctx ctx;
	unsigned long long bytes; /* how many bytes were hashed */
};

void rfs_hash_init(struct rfs_hash *h);
void rfs_hash_update(struct rfs_hash *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" into out (RFS_DIGEST_LEN bytes). */
void rfs_hash_final(struct rfs_hash *h, char out[RFS_DIGEST_LEN]);

/* Accepts only "sha256:" followed by 64 lowercase hex digits: digests name
 * files in blobs/, so anything looser could name a path. */
int rfs_digest_valid(const char *digest);

/* The hex part of a valid digest (points into `digest`). */
const char *rfs_digest_hex(const char *digest);

#endif
