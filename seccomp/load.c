/* The workload's side: one seccomp(2) call with the program compiled before
 * clone.  Runs after PR_SET_NO_NEW_PRIVS (the kernel refuses an unprivileged
 * filter without it) and last before execve, so that sbx's own setup is not
 * subject to the profile. */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filter.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

int sbx_seccomp_load(const struct sbx_seccomp *f, int *listener_fd, struct sbx_error **err)
{
	*listener_fd = -1;
	if (!f)
		return 0;
	struct sock_fprog prog = { .len = (unsigned short)f->len, .filter = f->kernel };
	unsigned long flags = 0;
	/* SPEC_ALLOW: without it the kernel turns on the speculative store
	 * bypass mitigation for the task, which slows ordinary code (numpy)
	 * measurably; see docs/seccomp.md for when to turn it off. */
	if (f->spec_allow)
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	/* WAIT_KILLABLE_RECV (5.19+): once sbx has received a notification,
	 * only a fatal signal interrupts the wait, so a call is not restarted
	 * and counted twice because a signal arrived meanwhile. */
	if (f->notify)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	}
	if (r < 0) {
		int e = errno;
		if (e == EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
			return sbx_error_set(err, e, "loading the seccomp filter: no_new_privs is not set");
		return sbx_error_set(err, e, "loading the seccomp filter (%zu instructions)", f->len);
	}
	if (f->notify)
		*listener_fd = (int)r;
	return 0;
}

void sbx_seccomp_program(const struct sbx_seccomp *f, const void **code, size_t *len, unsigned *flags)
{
	*code = f->kernel;
	*len = f->len;
	/* The same flags as sbx_seccomp_load, for the same reasons. */
	*flags = (f->spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0) |
		 (f->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0);
}
