/* A shorter program with the same answers as libseccomp's.
 *
 * libseccomp finds a syscall by a binary tree with one JEQ per syscall in
 * its leaves: the default profile is 455 instructions, of which about 290
 * only pick one of three answers for a number.  The kernel pays for the
 * length at every load (the JIT's passes, and the per-syscall cache of
 * constant answers, which runs the program once per syscall number): about
 * 180 µs for that filter here, on the path of every sandbox's start.
 *
 * sbx_bpf_compact keeps every instruction that looks at the arguments as
 * it is, and replaces the search by a binary tree over the intervals of
 * numbers that get the same answer (or reach the same argument checks):
 * about 80 intervals for the default profile.  How the answer depends on
 * the number is worked out by running the program: it compares the number
 * only with constants, so between two consecutive constants (each k and
 * k+1) every number takes the same path.  The result is checked against
 * the original at every such boundary before it is used. */
#ifndef SBX_SECCOMP_COMPACT_H
#define SBX_SECCOMP_COMPACT_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* Returns 1 with the shorter program in *out (malloc'ed) and its length in
 * *n_out; 0 when the program is left as it is (*out NULL): more than one
 * architecture, an operation on the number other than a comparison with a
 * constant, or nothing to gain. */
int sbx_bpf_compact(const struct sock_filter *in, size_t n, uint32_t native_arch, struct sock_filter **out,
		    size_t *n_out);

#endif
