/* The YAML config (runtime/config_yaml.c): any text must give either a
 * config or an error naming the file, line and key; never a crash, a leak
 * or a read past the document. */
#include <assert.h>

#include "runtime/config.h"
#include "runtime/config_yaml.h"
#include "tests/fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_memfd(data, size, path);
	struct sbx_config c;
	sbx_config_init(&c);
	struct sbx_error *err = NULL;
	int r = sbx_config_load_yaml(&c, path, &err);
	/* The contract: a failure always says why. */
	if (r < 0)
		assert(err != NULL && err->msg != NULL && err->msg[0] != '\0');
	else
		assert(err == NULL);
	sbx_error_free(&err);
	sbx_config_free(&c);
	close(fd);
	return 0;
}
