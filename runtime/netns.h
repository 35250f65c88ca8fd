/* The sandbox's network namespace, made beside pid 1 rather than by clone3.
 *
 * Creating a network namespace is the costliest single step of a start
 * (every per-namespace subsystem registers its sysctls: about 0.4-0.6 ms
 * here).  Made by clone3 it ran in the supervisor before pid 1 existed,
 * in front of everything else.  Instead a helper, forked by the supervisor
 * after the go, enters the sandbox's user namespace, creates the network
 * namespace there (so the sandbox's user namespace owns it, exactly as one
 * made by clone3), brings lo up, hands it to pid 1 over a socket of its
 * own, and exits, while pid 1 builds the filesystem.  pid 1 joins it at its
 * "net" step (runtime/steps.c), before the workload exists.
 *
 * Not used when the sandbox mounts sysfs (an OCI spec): the kernel lets a
 * user namespace mount sysfs only from inside a network namespace it owns,
 * and the mounts come before the "net" step; clone3 makes that one. */
#ifndef SBX_NETNS_H
#define SBX_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "lib/error.h"

/* Whether this sandbox's network namespace is made by the helper. */
bool sbx_netns_beside(const struct sbx_config *c);

/* Supervisor, before the go: the user namespace of pid 1 (`pid`), opened
 * while pid 1 is still dumpable; once it makes itself non-dumpable
 * (its "scrub" step) a supervisor without CAP_SYS_PTRACE (rootless) may no
 * longer open its namespaces.  Returns the fd, or -1 with *err set. */
int sbx_netns_userns(pid_t pid, struct sbx_error **err);

/* Supervisor, after the go: fork the helper, which enters `userns`, sends
 * the namespace (or its error) on `sock` and exits.  Returns its pid, to be
 * reaped with sbx_netns_reap, or -1 with *err set. */
pid_t sbx_netns_spawn(const struct sbx_config *c, int userns, int sock, struct sbx_error **err);
void sbx_netns_reap(pid_t *helper);

/* pid 1: wait for the helper's namespace on `sock` and join it. */
int sbx_netns_join(int sock, struct sbx_error **err);

#endif
