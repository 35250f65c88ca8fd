/* OCI hooks: programs the client names in config.json, run by sbx on the
 * host with the container's state (runtime-spec "State") on stdin.
 *
 *   prestart, createRuntime   by the supervisor, once pid 1 waits at the
 *                             start gate (namespaces exist, workload not)
 *   poststart                 by `start`, after pid 1 was let go
 *   poststop                  by the supervisor, after the sandbox ended
 *
 * createContainer and startContainer run inside the container's mount
 * namespace in runc; sbx refuses a spec that has them (sbx_oci_hooks_check). */
#ifndef SBX_OCI_HOOKS_H
#define SBX_OCI_HOOKS_H

#include <sys/types.h>

#include "lib/error.h"
#include "spec.h"
#include "state.h"

int sbx_oci_hooks_check(const struct sbx_oci_spec *s, struct sbx_error **err);
/* Run the hooks of `kind` in order; the first that fails (non-zero status,
 * a signal, its timeout) stops them with an error naming it. */
int sbx_oci_hooks_run(const struct sbx_oci_spec *s, enum sbx_oci_hook_kind kind,
		      const struct sbx_oci_state *st, const char *status, pid_t pid, struct sbx_error **err);
/* The same, with the hooks read again from BUNDLE/config.json. */
int sbx_oci_hooks_run_bundle(const char *bundle, enum sbx_oci_hook_kind kind, const struct sbx_oci_state *st,
			     const char *status, pid_t pid, struct sbx_error **err);

#endif
