/* The sandbox's pid 1 after setup: a hardened reaper.
 *
 * pid 1 is a copy of the supervisor (clone3 without exec), so without care it
 * carries the caller's command line, environment and inherited descriptors,
 * and it keeps more privilege than the workload.  A workload that could read
 * or write its memory would escape the seccomp filter that only the workload
 * has.  These calls, in this order, leave it nothing worth attacking. */
#ifndef SBX_INIT_H
#define SBX_INIT_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/error.h"

/* Before the workload is forked (it must never see pid 1 otherwise): not
 * dumpable, so no process in the sandbox may ptrace it or open its mem,
 * environ or fd entries (that needs CAP_SYS_PTRACE over the host's user
 * namespace, where its memory was created); argv and environment strings
 * wiped, so /proc/1/cmdline and /proc/1/environ reveal nothing of the host.
 * Not before the supervisor has written the id maps: /proc/PID/uid_map of
 * a non-dumpable process is host root's, which a rootless supervisor is not. */
int sbx_init_scrub(struct sbx_error **err);

/* After the fork, once pid 1 holds only CAP_KILL and no_new_privs: closes
 * every descriptor but `sock` and loads pid 1's own seccomp filter, which
 * allows only what the reaper does (wait, kill, signals, one message, exit)
 * and kills pid 1 — and with it the sandbox — for anything else. */
int sbx_init_confine(int sock, struct sbx_error **err);

/* pid 1's loop: with every signal blocked, forward the forwardable ones to
 * `workload`, reap every child (orphans are re-parented to pid 1), and
 * return the workload's wait status once it has exited. */
int sbx_init_reap(pid_t workload);

/* Close every descriptor but those in `keep` (any order). */
int sbx_close_all_except(const int *keep, size_t n_keep, struct sbx_error **err);

#endif
