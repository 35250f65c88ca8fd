#include "init.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where the kernel put this process's argument and environment strings:
 * one contiguous block, argv first.  glibc passes (argc, argv, envp) to the
 * executable's constructors; recorded here because by the time pid 1 wipes
 * them, `environ` may have been rebuilt elsewhere by setenv. */
static char *args_start, *args_end;

__attribute__((constructor)) static void record_args(int argc, char **argv, char **envp)
{
	if (argc < 1 || argv == NULL || argv[0] == NULL)
		return;
	char *last = argv[argc - 1];
	for (char **e = envp; e && *e; e++)
		last = *e;
	args_start = argv[0];
	args_end = last + strlen(last) + 1;
	/* Trust the block only if every string lies inside it, in order. */
	for (int i = 0; i < argc; i++)
		if (argv[i] < args_start || argv[i] >= args_end)
			args_start = args_end = NULL;
}

int sbx_close_all_except(const int *keep, size_t n_keep, struct sbx_error **err)
{
	int sorted[16];
	if (n_keep > sizeof(sorted) / sizeof(*sorted))
		return sbx_error_set(err, EINVAL, "keeping %zu descriptors", n_keep);
	size_t n = 0;
	for (size_t i = 0; i < n_keep; i++) {
		if (keep[i] < 0)
			continue;
		size_t j = n++;
		for (; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
	}
	unsigned from = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)sorted[i] > from && close_range(from, (unsigned)sorted[i] - 1, 0) < 0)
			return sbx_error_set(err, errno, "closing descriptors %u-%d", from, sorted[i] - 1);
		from = (unsigned)sorted[i] + 1;
	}
	if (close_range(from, ~0U, 0) < 0)
		return sbx_error_set(err, errno, "closing descriptors from %u", from);
	return 0;
}

int sbx_init_scrub(struct sbx_error **err)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "making pid 1 non-dumpable");
	/* /proc/1/cmdline is readable by anyone in the pid namespace whatever
	 * the dumpable flag: it would show the caller's --out, --report, bind
	 * sources and --env values.  The kernel reads the block we wipe. */
	if (args_start != NULL) {
		memset(args_start, 0, (size_t)(args_end - args_start));
		static const char title[] = "sbx-init";
		if ((size_t)(args_end - args_start) > sizeof(title))
			memcpy(args_start, title, sizeof(title));
	}
	clearenv();
	if (prctl(PR_SET_NAME, "sbx-init", 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "naming pid 1");
	return 0;
}

#if defined(__x86_64__)
#define INIT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define INIT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "pid 1's seccomp filter: add this architecture's AUDIT_ARCH"
#endif

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int sbx_init_confine(int sock, struct sbx_error **err)
{
	if (sbx_close_all_except(&sock, 1, err) < 0)
		return sbx_error_wrap(err, "closing pid 1's descriptors");
	/* Exactly the calls of sbx_init_reap, sbx_msg_send and _exit (and the
	 * kernel's restart of an interrupted wait).  The x32 ABI shares the
	 * x86_64 audit arch: its numbers carry a high bit and are refused. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, INIT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW(__NR_rt_sigtimedwait),
		ALLOW(__NR_wait4),
		ALLOW(__NR_kill),
		ALLOW(__NR_sendmsg),
		ALLOW(__NR_exit_group),
		ALLOW(__NR_exit),
		ALLOW(__NR_restart_syscall),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(*f), .filter = f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return sbx_error_set(err, errno, "loading pid 1's seccomp filter");
	return 0;
}

int sbx_init_reap(pid_t workload)
{
	sigset_t all;
	sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* Signals reach pid 1 from the supervisor (forwarding the
			 * caller's SIGINT/SIGTERM) or from the workload itself. */
			kill(workload, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t p = waitpid(-1, &status, WNOHANG);
			if (p <= 0)
				break;
			if (p == workload)
				return status;
		}
	}
}
