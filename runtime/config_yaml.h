#ifndef SBX_CONFIG_YAML_H
#define SBX_CONFIG_YAML_H

#include "config.h"
#include "lib/error.h"

/* Apply a YAML config file (docs/configuration.md) onto `c`.  Unknown keys,
 * wrong types and bad values are errors naming the file, line and key. */
int sbx_config_load_yaml(struct sbx_config *c, const char *path, struct sbx_error **err);

#endif
