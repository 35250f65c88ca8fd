#include "rootfs-builder/digest.h"

#include <stdio.h>
#include <string.h>

void rfs_hash_init(struct rfs_hash *h)
{
	sha256_init(&h->ctx);
	h->bytes = 0;
}

void rfs_hash_update(struct rfs_hash *h, const void *buf, size_t len)
{
	sha256_update(&h->ctx, len, buf);
	h->bytes += len;
}

void rfs_hash_final(struct rfs_hash *h, char out[RFS_DIGEST_LEN])
{
	unsigned char d[SHA256_DIGEST_SIZE];
	sha256_digest(&h->ctx, sizeof(d), d);
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

int rfs_digest_valid(const char *digest)
{
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
		return 0;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

const char *rfs_digest_hex(const char *digest)
{
	return digest + 7;
}
