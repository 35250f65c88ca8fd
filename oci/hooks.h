/* OCI hooks: programs the client names in config.json, run by sbx with
 * the container's state (runtime-spec "State") on stdin.
 *
 *   prestart, createRuntime   on the host, by the supervisor, once pid 1
 *                             waits at the start gate (namespaces exist,
 *                             workload not)
 *   createContainer           then, in the container (below), the file
 *                             opened on the host
 *   startContainer            by `start`, in the container, before pid 1
 *                             is let go; the path is the container's
 *   poststart                 on the host, by `start`, after pid 1 was let go
 *   poststop                  on the host, by the supervisor, after the
 *                             sandbox ended
 *
 * "In the container" is a process of `sbx exec` (exec.h): the container's
 * namespaces and cgroups, confined as the workload is (process.user's ids,
 * no capability, no_new_privs, the container's seccomp filter). */
#ifndef SBX_OCI_HOOKS_H
#define SBX_OCI_HOOKS_H

#include <sys/types.h>

#include "lib/error.h"
#include "runtime/config.h"
#include "spec.h"
#include "state.h"

struct sbx_seccomp;

/* The runtime's own network, ipc and uts namespaces, as descriptors, for
 * the hooks of a supervisor that has left them. */
#define SBX_OCI_HOME_NS 3

/* Run the hooks of `kind` on the host in order, in the namespaces `home`
 * (SBX_OCI_HOME_NS descriptors, -1 or NULL: the caller's); the first that
 * fails (non-zero status, a signal, its timeout) stops them with an error
 * naming it. */
int sbx_oci_hooks_run(const struct sbx_oci_spec *s, enum sbx_oci_hook_kind kind,
		      const struct sbx_oci_state *st, const char *status, pid_t pid, const int *home,
		      struct sbx_error **err);
/* createContainer or startContainer: in the container of pid st->init_pid
 * (checked by st->init_start), as process.user of `c`, under `filter`
 * (NULL: none); the state's pid is 1, the container's own view. */
int sbx_oci_hooks_run_inside(const struct sbx_oci_spec *s, enum sbx_oci_hook_kind kind, const struct sbx_config *c,
			     const struct sbx_seccomp *filter, const struct sbx_oci_state *st,
			     struct sbx_error **err);
/* The same, with the hooks read again from BUNDLE/config.json. */
int sbx_oci_hooks_run_bundle(const char *bundle, enum sbx_oci_hook_kind kind, const struct sbx_oci_state *st,
			     const char *status, pid_t pid, struct sbx_error **err);

#endif
