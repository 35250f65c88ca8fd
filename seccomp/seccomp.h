/* Seccomp for sbx: YAML profiles compiled with libseccomp before clone, loaded
 * by the workload right before execve, denials answered and counted by the
 * supervisor through user notification.  See docs/seccomp.md.
 *
 * Life of a filter in one run:
 *   supervisor: sbx_seccomp_compile()                  (before clone)
 *   workload:   PR_SET_NO_NEW_PRIVS, sbx_seccomp_load(), hand the listener fd
 *               to the supervisor (sendmsg SCM_RIGHTS), close it, execve
 *   supervisor: sbx_seccomp_handle() whenever the listener is readable,
 *               sbx_seccomp_denials() for the report, sbx_seccomp_free()
 *
 * Between sbx_seccomp_load() and the moment the supervisor holds the
 * listener, the workload makes one call: the sendmsg that hands the listener
 * over.  A denial there would wait for an answer that cannot come, so a
 * profile that reports denials must allow sendmsg unconditionally; parsing
 * refuses one that does not (seccomp/profile.c).  The calls after it (close,
 * execve) are answered by the supervisor like any other. */
#ifndef SBX_SECCOMP_H
#define SBX_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct sbx_seccomp; /* a compiled filter plus what the supervisor needs to answer denials */

/* spec: "default" (the built-in profile, compiled when sbx was built),
 * "unconfined" (*out = NULL, returns 0) or the path of a YAML profile.
 * Errors name the file, line and offending value. */
int sbx_seccomp_compile(const char *spec, struct sbx_seccomp **out, struct sbx_error **err);

/* In the workload, after PR_SET_NO_NEW_PRIVS, last before execve.  Makes one
 * seccomp(2) call, or two on kernels before 5.19 (the first is refused for
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, the second goes without it), and
 * allocates nothing unless it fails.  *listener_fd gets
 * the user-notification listener when the filter reports denials, else -1. */
int sbx_seccomp_load(const struct sbx_seccomp *f, int *listener_fd, struct sbx_error **err);

/* Supervisor: call when listener_fd is readable.  Answers every pending
 * notification with the errno the profile gives and counts it; never waits
 * for a notification that is not already queued.  A notification whose task
 * died meanwhile is skipped (ENOENT is normal).  Returns the number of
 * denials answered, < 0 on a real error.  Once poll() reports POLLHUP
 * without POLLIN on the listener, every filtered task has exited: stop
 * polling it (it would report POLLHUP at once, forever). */
int sbx_seccomp_handle(struct sbx_seccomp *f, int listener_fd, struct sbx_error **err);

/* When sbx_seccomp_handle() has answered its quota for now: the
 * CLOCK_MONOTONIC time (ns) before which the supervisor should not read the
 * listener again; 0 when it may read it now. */
uint64_t sbx_seccomp_resume_ns(const struct sbx_seccomp *f);

/* Denials counted so far: n entries, names[i] denied counts[i] times.  Names
 * are syscall names ("mount"), prefixed with the ABI for non-native calls
 * ("x86:getpid", "x32:getpid"); unknown numbers read "syscall_463".  The
 * arrays stay valid until the next sbx_seccomp_handle() or free. */
size_t sbx_seccomp_denials(const struct sbx_seccomp *f, const char ***names, const uint64_t **counts);

/* Length in BPF instructions of the program the kernel runs. */
size_t sbx_seccomp_instructions(const struct sbx_seccomp *f);

/* True when denials go through user notification (a listener will exist). */
int sbx_seccomp_reports_denials(const struct sbx_seccomp *f);

void sbx_seccomp_free(struct sbx_seccomp *f);
/* The program and the seccomp(2) flags sbx_seccomp_load() would use, for a
 * loader that is not this library (the warm pool's zygote, which loads it
 * in the forked job).  *code has *len 8-byte instructions. */
void sbx_seccomp_program(const struct sbx_seccomp *f, const void **code, size_t *len, unsigned *flags);

/* `sbx seccomp check FILE` and `sbx seccomp export FILE|default --pfc|--bpf`.
 * argv starts at "check"/"export"; prints its own errors; returns the exit
 * status (0 ok, 1 invalid profile or failure, 2 usage). */
int sbx_seccomp_cli(int argc, char **argv);

#endif
