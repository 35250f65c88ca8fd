/* The image-config file beside a rootfs (rootfs-builder/image_config.c),
 * which `sbx run` reads, and the image's user resolved against the
 * rootfs' /etc/passwd and /etc/group, which a hostile image writes.
 * Input: the JSON document, passwd and group, separated by FUZZ_SEP.  The
 * document is tried both as an sbx image-config file and as an OCI image
 * config ({"config": {...}}). */
#include <assert.h>
#include <jansson.h>
#include <sys/stat.h>

#include "rootfs-builder/image_config.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/tmpdir.h"

static void resolve(struct sbx_image_config *c, int rootfd)
{
	struct sbx_error *err = NULL;
	if (sbx_image_config_resolve_user(c, rootfd, &err) == 0)
		assert(c->uid >= 0 && c->uid <= 0xffffffffll && c->gid >= 0 && c->gid <= 0xffffffffll);
	else
		assert(err != NULL && err->msg != NULL);
	sbx_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int rootfd = -1;
	if (rootfd < 0) {
		int t = fuzz_tmp_make();
		int w = openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w < 0 || mkdirat(w, "etc", 0755) < 0)
			abort();
		rootfd = w;
		close(t);
	}
	const uint8_t *part[3];
	size_t plen[3];
	size_t np = fuzz_split(data, size, part, plen, 3);
	fuzz_write_at(rootfd, "etc/passwd", np > 1 ? part[1] : data, np > 1 ? plen[1] : 0);
	fuzz_write_at(rootfd, "etc/group", np > 2 ? part[2] : data, np > 2 ? plen[2] : 0);

	char path[64];
	int fd = fuzz_memfd(part[0], plen[0], path);
	struct sbx_error *err = NULL;
	struct sbx_image_config c;
	if (sbx_image_config_load(&c, path, &err) == 0) {
		resolve(&c, rootfd);
		sbx_image_config_free(&c);
	} else {
		assert(err != NULL && err->msg != NULL);
	}
	sbx_error_free(&err);
	close(fd);

	json_t *j = json_loadb((const char *)part[0], plen[0], 0, NULL);
	if (j) {
		sbx_image_config_init(&c);
		if (sbx_image_config_from_oci(&c, j, &err) == 0)
			resolve(&c, rootfd);
		sbx_error_free(&err);
		sbx_image_config_free(&c);
		json_decref(j);
	}
	return 0;
}
