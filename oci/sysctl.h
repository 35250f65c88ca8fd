/* linux.sysctl: written from the host into the sandbox's own namespaces
 * (user first, then net and ipc, entered by a short-lived child of the
 * supervisor), so values are read as the container reads them — group ids
 * in net.ipv4.ping_group_range are the container's.  Only sysctls of
 * namespaces the container owns get here (oci/spec.c checks). */
#ifndef SBX_OCI_SYSCTL_H
#define SBX_OCI_SYSCTL_H

#include <sys/types.h>

#include "lib/error.h"
#include "spec.h"

int sbx_oci_sysctl_apply(pid_t pid1, const struct sbx_oci_spec *s, struct sbx_error **err);

#endif
