/* Host device nodes in the sandbox's /dev (OCI linux.devices). */
#ifndef SBX_DEVICES_H
#define SBX_DEVICES_H

#include "config.h"
#include "lib/error.h"

/* Bind each of c->devices, the host's node, onto a file made for it in the
 * sandbox's /dev tmpfs `dev` (writable still; attached), after checking
 * that the node bound is the device the config names. */
int sbx_mount_devices(const struct sbx_config *c, int dev, struct sbx_error **err);

#endif
