/* `sbx exec`: another process in a running container.
 *
 * A helper forked by `sbx exec` joins the sandbox's cgroups, then its user
 * namespace (which owns the others and gives the capabilities to enter
 * them), mount, uts, ipc, network, cgroup and pid namespaces — the same
 * ones pid 1 has — and forks the process, which is pid N of the sandbox's
 * pid namespace.  That process is confined as the workload is: a new
 * session, the configured ids, supplementary groups dropped, every
 * capability gone (bounding set included, securebits locked),
 * no_new_privs, every inherited descriptor but stdio closed, and the
 * container's seccomp filter loaded last.  The helper waits for it and exits
 * with its status (128+N for signal N); with --detach it is what --pid-file
 * names and `sbx exec` returns at once. */
#ifndef SBX_OCI_EXEC_H
#define SBX_OCI_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "lifecycle.h"

struct sbx_oci_exec_opts {
	const char *process; /* --process FILE: an OCI "process" object */
	const char *cwd;
	const char *user; /* UID[:GID] */
	char **env;	  /* KEY=VALUE added to the container's */
	size_t n_env;
	char **argv; /* the command, if no --process */
	const char *pid_file;
	bool detach;
};

/* Returns the process's exit status, 0 when detached, or -1 with *err. */
int sbx_oci_exec(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_exec_opts *o,
		 struct sbx_error **err);

#endif
