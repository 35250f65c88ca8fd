/* Limits the sandbox sets on itself from the inside, without a cgroup:
 * the counters of its own user namespace, vm.memfd_noexec of its pid
 * namespace, and — only when no cgroup could be had — rlimits in place of
 * the cgroup's pids and memory limits. */
#ifndef SBX_KERNEL_LIMITS_H
#define SBX_KERNEL_LIMITS_H

#include "config.h"
#include "lib/error.h"

/* Write each set /proc/sys/user/NAME, through `dirfd`, the host's
 * /proc/sys/user opened by sbx_userns_limits_open before the mounts.  The
 * kernel resolves these files to the writer's user namespace and lets its
 * CAP_SYS_RESOURCE holder set them, so pid 1 calls this before dropping its
 * capabilities — and after the mounts: the new mount API's detached trees
 * count as mount namespaces, so max_mnt_namespaces=0 would stop them.  A
 * counter this kernel does not have (ENOENT) is skipped. */
int sbx_userns_limits_open(struct sbx_error **err);
int sbx_userns_limits_apply(int dirfd, const struct sbx_config *c, struct sbx_error **err);

/* vm.memfd_noexec = 2 in the sandbox's pid namespace: memfd_create without
 * MFD_NOEXEC_SEAL fails, so no memfd can be executed.  The kernel lets only
 * host root (by euid) write it, with CAP_SYS_ADMIN over the pid namespace:
 * pid 1 of a root-started sandbox before it becomes the namespace's root.
 * Returns 1 when set, 0 when this kernel or caller cannot (ENOENT, EACCES:
 * the default seccomp profile then enforces the same rule), -1 on error. */
int sbx_memfd_noexec_apply(struct sbx_error **err);

/* The rlimit fallback for a run without a cgroup: RLIMIT_NPROC from
 * --pids (the kernel counts it per user namespace and uid, so it bounds
 * this sandbox's processes only), RLIMIT_DATA from --memory (per process),
 * RLIMIT_FSIZE from the largest writable tmpfs (no single file can be
 * larger there; this bounds writes through read-write binds too). */
int sbx_rlimits_apply(const struct sbx_config *c, struct sbx_error **err);
uint64_t sbx_rlimit_fsize(const struct sbx_config *c);

#endif
