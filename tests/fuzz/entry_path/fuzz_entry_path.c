/* Archive entry names (rootfs-builder/layer.c: rfs_normalize_path): every
 * name an image may carry is either refused or reduced to a relative path
 * with no "." or ".." component, no empty component and no leading or
 * trailing slash, which normalising again leaves unchanged.  The
 * confinement of what such a path resolves to is the layer harness's job. */
#include <assert.h>

#include "rootfs-builder/layer.h"
#include "tests/fuzz/common.h"

static void check_clean(const char *p)
{
	assert(p[0] != '/');
	size_t n = strlen(p);
	assert(n == 0 || p[n - 1] != '/');
	const char *s = p;
	while (*s) {
		const char *e = strchrnul(s, '/');
		size_t len = (size_t)(e - s);
		assert(len > 0);
		assert(!(len == 1 && s[0] == '.'));
		assert(!(len == 2 && s[0] == '.' && s[1] == '.'));
		s = *e ? e + 1 : e;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte sets the output size, to reach the length checks. */
	size_t outsz = 1 + data[0] % 64;
	if (data[0] & 0x80)
		outsz = 4096;
	char *in = fuzz_cstr(data + 1, size - 1);
	char *out = malloc(outsz);
	const char *why = NULL;
	if (rfs_normalize_path(in, out, outsz, &why) == 0) {
		assert(strlen(out) < outsz);
		check_clean(out);
		char *again = malloc(outsz);
		assert(rfs_normalize_path(out, again, outsz, &why) == 0);
		assert(strcmp(out, again) == 0);
		free(again);
	} else {
		assert(why != NULL);
	}
	free(out);
	free(in);
	return 0;
}
