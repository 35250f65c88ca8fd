/* The client's --console-socket: where a terminal's master goes (runc's
 * protocol: one message, the master as SCM_RIGHTS).  sbx keeps no copy. */
#ifndef SBX_OCI_CONSOLE_H
#define SBX_OCI_CONSOLE_H

#include "lib/error.h"

/* Connect to the socket at `path` (absolute); returns the socket. */
int sbx_oci_console_connect(const char *path, struct sbx_error **err);
/* Send `master` over the connected `sock`. */
int sbx_oci_console_send(int sock, int master, struct sbx_error **err);

#endif
