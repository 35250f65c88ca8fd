/* An OCI bundle's config.json (oci/spec.c, oci/seccomp.c): written by a
 * client, hostile as far as sbx is concerned.  Any text must give either a
 * configuration or an error naming config.json; a converted seccomp profile
 * must be one sbx's own profile parser accepts or refuses with a message
 * (never YAML that means something else); never a crash or a leak. */
#include <assert.h>
#include <string.h>

#include "oci/spec.h"
#include "runtime/config.h"
#include "seccomp/seccomp.h"
#include "tests/fuzz/common.h"

/* libseccomp leaks 192 bytes per compile of a profile with a "superset"
 * syscall rule (docs/security.md, the seccomp_profile harness has the same
 * suppression): not ours to fix, suppressed so that sbx's own leaks still
 * stop the run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libseccomp.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_config c;
	struct sbx_oci_spec s = {0};
	sbx_config_init(&c);
	struct sbx_error *err = NULL;
	int r = sbx_oci_spec_parse((const char *)data, size, "/bundle", &c, &s, &err);
	if (r < 0) {
		assert(err != NULL && strncmp(err->msg, "config.json", 11) == 0);
	} else {
		assert(err == NULL);
		assert(c.rootfs != NULL && c.argv != NULL && c.argv[0] != NULL);
		if (s.seccomp_yaml) {
			char path[64];
			int fd = fuzz_memfd((const uint8_t *)s.seccomp_yaml, strlen(s.seccomp_yaml), path);
			struct sbx_seccomp *f = NULL;
			if (sbx_seccomp_compile(path, &f, &err) < 0)
				assert(err != NULL && err->msg[0] != '\0');
			sbx_seccomp_free(f);
			close(fd);
		}
	}
	sbx_error_free(&err);
	sbx_oci_spec_free(&s);
	sbx_config_free(&c);
	return 0;
}
