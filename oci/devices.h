/* linux.devices: each device the spec names must be a node the host has
 * (type, major, minor); sbx binds the host's node into its /dev
 * (runtime/devices.c), since a user namespace cannot mknod. */
#ifndef SBX_OCI_DEVICES_H
#define SBX_OCI_DEVICES_H

#include <jansson.h>

#include "lib/error.h"
#include "runtime/config.h"
#include "spec.h"

/* Check `v` (the linux.devices array, or NULL) and add each device to
 * c->devices; a field sbx cannot honour is refused, named; the owner a
 * bound node keeps is logged (s->warnings) when the spec asked another. */
int sbx_oci_devices_parse(const json_t *v, struct sbx_config *c, struct sbx_oci_spec *s, struct sbx_error **err);

#endif
