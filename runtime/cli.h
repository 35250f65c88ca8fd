#ifndef SBX_CLI_H
#define SBX_CLI_H

#include "config.h"
#include "lib/error.h"

extern const char sbx_run_usage[];

/* Parse `sbx run` arguments (argv[0] = "run") into `c`: the --config file
 * first, then every flag over it (flags win).  Returns 1 when --help was
 * asked, 0 on success, < 0 on bad input. */
int sbx_cli_parse_run(int argc, char **argv, struct sbx_config *c, struct sbx_error **err);

#endif
