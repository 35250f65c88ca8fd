/* Classic BPF as seccomp uses it: a small interpreter, so that the
 * supervisor can tell which errno the profile gives a notified call by
 * running the very program libseccomp generated (no second implementation
 * of libseccomp's rule semantics to drift from the kernel's answer). */
#ifndef SBX_SECCOMP_BPF_H
#define SBX_SECCOMP_BPF_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

/* Runs prog on d like the kernel would.  A malformed program (out of range
 * jump or load, unknown opcode) returns SECCOMP_RET_KILL_PROCESS. */
uint32_t sbx_bpf_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *d);

#endif
