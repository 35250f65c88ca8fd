#ifndef SBX_OCI_CLI_H
#define SBX_OCI_CLI_H

#include <stdbool.h>

/* True when argv is an OCI-mode command line (see oci/cli.c). */
bool sbx_oci_is_command(int argc, char **argv);
/* Run it; returns the exit status. */
int sbx_oci_main(int argc, char **argv);

#endif
