#include "init.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

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
