/* Image metadata (rootfs-builder/image.c, blob.c, image_config.c): the
 * index, manifests and config of a hostile image, from an OCI layout
 * directory, an oci-archive or a docker-archive.
 *
 * Input: a mode byte (layout, oci-archive, docker-archive), then up to three
 * documents separated by FUZZ_SEP:
 *   OCI:    index.json, the manifest, the config
 *   docker: manifest.json, the config
 * Digests cannot be guessed by a fuzzer, so "@CONFIG@" in the manifest
 * (docker: in manifest.json, as a file name) and "@MANIFEST@" in the index
 * are replaced by the real digest of the document they stand for; both
 * documents are then stored where that digest names them. */
#include <archive.h>
#include <archive_entry.h>
#include <assert.h>

#include "rootfs-builder/blob.h"
#include "rootfs-builder/digest.h"
#include "rootfs-builder/image.h"
#include "lib/image_config.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/tmpdir.h"

struct doc {
	char *name;
	char *data;
	size_t len;
};

static char *replace(const uint8_t *s, size_t n, const char *tok, const char *with, size_t *out_len)
{
	size_t tl = strlen(tok), wl = strlen(with), cap = n + 1, len = 0;
	char *o = malloc(cap);
	for (size_t i = 0; i < n;) {
		if (i + tl <= n && memcmp(s + i, tok, tl) == 0) {
			cap += wl;
			o = realloc(o, cap);
			memcpy(o + len, with, wl);
			len += wl;
			i += tl;
		} else {
			o[len++] = (char)s[i++];
		}
	}
	o[len] = '\0';
	*out_len = len;
	return o;
}

static void digest_of(const char *data, size_t len, char out[RFS_DIGEST_LEN])
{
	struct rfs_hash h;
	rfs_hash_init(&h);
	rfs_hash_update(&h, data, len);
	rfs_hash_final(&h, out);
}

static int write_tar(const struct doc *d, size_t n, char path[64])
{
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, d[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)d[i].len);
		archive_write_header(a, e);
		archive_write_data(a, d[i].data, d[i].len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

static void write_dir(int dirfd, const struct doc *d, size_t n)
{
	rfs_clear_dir(dirfd, fuzz_keep_none, NULL);
	int root = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || rfs_mkdir_p(root, "blobs/sha256", -1, -1) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		fuzz_write_at(root, d[i].name, d[i].data, d[i].len);
	close(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int dirfd = -1;
	if (dirfd < 0)
		dirfd = fuzz_tmp_make();
	if (size < 1 || size > 1 << 20)
		return 0;
	int mode = data[0] % 3;
	const uint8_t *part[3] = { 0 };
	size_t plen[3] = { 0 };
	size_t np = fuzz_split(data + 1, size - 1, part, plen, mode == 2 ? 2 : 3);

	struct doc d[4];
	size_t nd = 0;
	char cdig[RFS_DIGEST_LEN], mdig[RFS_DIGEST_LEN], name[128];
	if (mode == 2) {
		/* docker-archive: config stored as "<hex>.json" */
		const uint8_t *cfg = np > 1 ? part[1] : (const uint8_t *)"";
		size_t cl = np > 1 ? plen[1] : 0;
		digest_of((const char *)cfg, cl, cdig);
		snprintf(name, sizeof(name), "%s.json", rfs_digest_hex(cdig));
		d[nd].name = strdup(name);
		d[nd].data = fuzz_cstr(cfg, cl);
		d[nd++].len = cl;
		d[nd].name = strdup("manifest.json");
		d[nd].data = replace(part[0], plen[0], "@CONFIG@", name, &d[nd].len);
		nd++;
	} else {
		const uint8_t *cfg = np > 2 ? part[2] : (const uint8_t *)"";
		size_t cl = np > 2 ? plen[2] : 0;
		digest_of((const char *)cfg, cl, cdig);
		snprintf(name, sizeof(name), "blobs/sha256/%s", rfs_digest_hex(cdig));
		d[nd].name = strdup(name);
		d[nd].data = fuzz_cstr(cfg, cl);
		d[nd++].len = cl;
		const uint8_t *man = np > 1 ? part[1] : (const uint8_t *)"";
		size_t ml = np > 1 ? plen[1] : 0;
		d[nd].data = replace(man, ml, "@CONFIG@", cdig, &d[nd].len);
		digest_of(d[nd].data, d[nd].len, mdig);
		snprintf(name, sizeof(name), "blobs/sha256/%s", rfs_digest_hex(mdig));
		d[nd++].name = strdup(name);
		d[nd].name = strdup("index.json");
		d[nd].data = replace(part[0], plen[0], "@MANIFEST@", mdig, &d[nd].len);
		nd++;
		d[nd].name = strdup("oci-layout");
		d[nd].data = strdup("{\"imageLayoutVersion\":\"1.0.0\"}");
		d[nd].len = strlen(d[nd].data);
		nd++;
	}

	char path[64];
	int fd = -1;
	if (mode == 0) {
		write_dir(dirfd, d, nd);
		snprintf(path, sizeof(path), "%s", fuzz_tmp);
	} else {
		fd = write_tar(d, nd, path);
	}

	struct sbx_error *err = NULL;
	struct rfs_source src;
	struct rfs_platform plat;
	rfs_platform_parse("linux/amd64", &plat, &err);
	if (rfs_source_open(&src, path, &err) == 0) {
		struct rfs_image img;
		if (rfs_image_load(&src, &plat, NULL, &img, &err) == 0) {
			assert(img.config != NULL);
			for (size_t i = 0; i < img.n_layers; i++)
				assert(img.layers[i].name && rfs_digest_valid(img.layers[i].diff_id));
			struct sbx_image_config ic;
			sbx_image_config_init(&ic);
			if (sbx_image_config_from_oci(&ic, img.config, &err) < 0)
				assert(err != NULL);
			sbx_error_free(&err);
			sbx_image_config_free(&ic);
		} else {
			assert(err != NULL && err->msg != NULL);
		}
		/* Like import.c: the image is freed whether or not it loaded. */
		rfs_image_free(&img);
	}
	rfs_source_close(&src);
	sbx_error_free(&err);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < nd; i++) {
		free(d[i].name);
		free(d[i].data);
	}
	return 0;
}
