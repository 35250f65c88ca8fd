/* `sbx run` arguments (runtime/cli.c): the input is argv, NUL-separated.
 * Whatever the flags, the parser gives a config, --help, or an error. */
#include <assert.h>
#include <getopt.h>

#include "runtime/cli.h"
#include "runtime/config.h"
#include "tests/fuzz/common.h"

/* glibc's getopt keeps a pointer into the last argv it saw; a parse that
 * stopped inside an option cluster leaves it pointing at freed memory, and
 * setting optind = 1 (as the CLI does) does not clear it.  One process
 * parses one command line, so reset it here with optind = 0. */
static void reset_getopt(void)
{
	char a0[] = "x";
	char *v[] = { a0, NULL };
	optind = 0;
	opterr = 0;
	while (getopt(1, v, "") != -1)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No '/': --config must not wander to /dev/zero or /dev/stdin (a
	 * config file is the user's own choice, not untrusted input). */
	if (size > 4096 || memchr(data, '/', size) != NULL)
		return 0;
	char *buf = fuzz_cstr(data, size);
	char *argv[66];
	int argc = 0;
	argv[argc++] = (char *)"run";
	for (char *p = buf; argc < 65 && p <= buf + size; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	reset_getopt();
	struct sbx_config c;
	sbx_config_init(&c);
	struct sbx_error *err = NULL;
	int r = sbx_cli_parse_run(argc, argv, &c, &err);
	if (r < 0)
		assert(err != NULL && err->msg != NULL);
	sbx_error_free(&err);
	sbx_config_free(&c);
	free(buf);
	return 0;
}
