#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "lib/cleanup.h"
#include "seccomp/seccomp.h"
#include "lib/clock.h"
#include "sync.h"
#include "lib/alloc.h"

uint64_t sbx_setup_deadline_ns(void)
{
	uint64_t ns = (uint64_t)SBX_SETUP_DEADLINE_S * 1000000000ull;
#ifdef SBX_FAULT_INJECTION
	/* Test seam: a hung setup is found in seconds, not a minute. */
	const char *ms = getenv("SBX_FAULT_SETUP_DEADLINE_MS");
	if (ms != NULL && atoi(ms) > 0)
		ns = (uint64_t)atoi(ms) * 1000000ull;
#endif
	return ns;
}

/* How long output may keep arriving after pid 1 is gone. */
#define DRAIN_NS (2ull * 1000000000ull)

static int pidfd_send(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

void sbx_supervise_kill(struct sbx_supervision *s)
{
	/* pid 1 dying takes every process of its pid namespace with it; the
	 * cgroup kill also reaches anything that is mid-fork. */
	pidfd_send(s->pidfd, SIGKILL);
	struct sbx_error *err = NULL;
	if (s->cgroup && sbx_cgroup_version(s->cgroup) > 0 && sbx_cgroup_kill(s->cgroup, &err) < 0)
		sbx_error_free(&err);
}

/* Answer denied syscalls; a broken listener only stops the counting (the
 * workload's pending calls then fail with ENOSYS, they never hang). */
static int sbx_supervise_seccomp(struct sbx_supervision *s)
{
	struct sbx_error *err = NULL;
	if (s->filter == NULL || sbx_seccomp_handle(s->filter, s->listener, &err) < 0) {
		if (err && s->warning == NULL)
			s->warning = sbx_xasprintf("seccomp notifications: %s", err->msg);
		sbx_error_free(&err);
		return -1;
	}
	return 0;
}

static void setup_failure(struct sbx_supervision *s, const char *what)
{
	if (!s->setup_failed) {
		s->setup_failed = true;
		free(s->error);
		s->error = sbx_xstrdup(what);
	}
	sbx_supervise_kill(s);
}

static void handle_msg(struct sbx_supervision *s)
{
	struct sbx_msg m;
	int fd = -1;
	int r = sbx_msg_recv(s->sock, &m, &fd);
	/* pid 1 exited with a message of ours unread (it failed a step while
	 * the cgroup was on its way): the kernel reports that reset once,
	 * before the messages pid 1 sent, which are still queued. */
	if (r < 0 && errno == ECONNRESET)
		return;
	if (r <= 0) {
		close(s->sock);
		s->sock = -1;
		return;
	}
	switch (m.type) {
	case SBX_MSG_SETUP_ERROR:
		if (!s->setup_failed) {
			s->setup_failed = true;
			free(s->error);
			s->error = sbx_xstrdup(m.text);
		}
		break;
	case SBX_MSG_EXEC_ERROR:
		s->exec_failed = true;
		s->exec_errno = m.err;
		free(s->error);
		s->error = sbx_xstrdup(m.text);
		break;
	case SBX_MSG_EXIT:
		s->got_exit = true;
		s->wait_status = m.status;
		if (s->pid == 0) { /* a pool job's pid 1 (not our child): its usage */
			s->rusage.ru_utime.tv_sec = (time_t)(m.usage[0] / 1000000);
			s->rusage.ru_utime.tv_usec = (suseconds_t)(m.usage[0] % 1000000);
			s->rusage.ru_stime.tv_sec = (time_t)(m.usage[1] / 1000000);
			s->rusage.ru_stime.tv_usec = (suseconds_t)(m.usage[1] % 1000000);
			s->rusage.ru_maxrss = (long)m.usage[2];
		}
		break;
	case SBX_MSG_PHASES:
	case SBX_MSG_READY:
		for (int i = 0; i < SBX_INNER_PHASES; i++)
			if (m.phase_us[i])
				s->inner_us[i] = m.phase_us[i];
		if (m.type == SBX_MSG_PHASES)
			break;
		s->ready = true;
		if (fd >= 0 && s->out_dirfd < 0) {
			s->out_dirfd = fd;
			fd = -1;
		} else if (s->expect_out && s->out_dirfd < 0) {
			/* Results would be lost without a word: fail the run. */
			setup_failure(s, "handing /out to the supervisor: the sandbox's ready message carried no "
					 "descriptor");
		}
		if (s->on_ready && !s->setup_failed)
			s->on_ready(s->on_ready_arg, s->pid);
		break;
	case SBX_MSG_CONSOLE:
		if (fd >= 0 && s->on_console) {
			s->on_console(s->on_ready_arg, fd);
			fd = -1;
		}
		break;
	case SBX_MSG_SECCOMP_FD:
		for (int i = 0; i < SBX_INNER_PHASES; i++)
			if (m.phase_us[i])
				s->inner_us[i] = m.phase_us[i];
		if (fd >= 0 && s->listener < 0) {
			s->listener = fd;
			fd = -1;
		}
		break;
	default:
		break;
	}
	if (fd >= 0)
		close(fd);
}

int sbx_supervise(struct sbx_supervision *s, struct sbx_error **err)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	cleanup_close int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return sbx_error_set(err, errno, "signalfd");
	cleanup_close int tfd = -1;
	if (s->timeout > 0) {
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tfd < 0)
			return sbx_error_set(err, errno, "timerfd_create");
		struct itimerspec its = { 0 };
		its.it_value.tv_sec = (time_t)s->timeout;
		its.it_value.tv_nsec = (long)((s->timeout - (double)(time_t)s->timeout) * 1e9);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
		if (timerfd_settime(tfd, 0, &its, NULL) < 0)
			return sbx_error_set(err, errno, "timerfd_settime");
	}
	int signals_seen = 0;
	bool pid1_done = false;
	uint64_t drain_deadline = 0;

	for (;;) {
		bool pipes_open = s->out.src >= 0 || s->err.src >= 0;
		if (pid1_done && (!pipes_open || sbx_now_ns() > drain_deadline))
			break;
		enum { P_PIDFD, P_SOCK, P_OUT, P_ERR, P_TIMER, P_SIG, P_LISTENER, P_CANCEL, P_N };
		struct pollfd p[P_N] = {
			[P_PIDFD] = { .fd = pid1_done ? -1 : s->pidfd, .events = POLLIN },
			[P_SOCK] = { .fd = s->sock, .events = POLLIN },
			[P_OUT] = { .fd = s->out.src, .events = POLLIN },
			[P_ERR] = { .fd = s->err.src, .events = POLLIN },
			[P_TIMER] = { .fd = pid1_done ? -1 : tfd, .events = POLLIN },
			[P_SIG] = { .fd = pid1_done ? -1 : sfd, .events = POLLIN },
			[P_LISTENER] = { .fd = s->listener, .events = POLLIN },
			[P_CANCEL] = { .fd = pid1_done ? -1 : s->cancel_fd, .events = POLLIN },
		};
		int wait_ms = -1;
		if (!s->ready && !pid1_done && s->setup_deadline) {
			uint64_t now = sbx_now_ns();
			if (now >= s->setup_deadline) {
				char what[96];
				snprintf(what, sizeof(what), "the sandbox's setup did not finish within %.0f s",
					 (double)sbx_setup_deadline_ns() / 1e9);
				setup_failure(s, what);
				s->setup_deadline = 0;
			} else {
				wait_ms = (int)((s->setup_deadline - now) / 1000000) + 1;
			}
		}
		if (pid1_done) {
			uint64_t now = sbx_now_ns();
			wait_ms = now >= drain_deadline ? 0 : (int)((drain_deadline - now) / 1000000) + 1;
		}
		/* A workload flooding denied calls has used its answers for now:
		 * leave its calls waiting until the rate limit lets them through. */
		uint64_t resume = s->listener >= 0 ? sbx_seccomp_resume_ns(s->filter) : 0;
		if (resume) {
			uint64_t now = sbx_now_ns();
			if (now < resume) {
				p[P_LISTENER].fd = -1;
				int ms = (int)((resume - now) / 1000000) + 1;
				if (wait_ms < 0 || ms < wait_ms)
					wait_ms = ms;
			}
		}
		int n = poll(p, P_N, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_error_set(err, errno, "poll");
		/* Once the filtered tasks are gone the listener reports POLLHUP
		 * for ever: close it then, or poll would spin. */
		if (p[P_LISTENER].revents &&
		    (sbx_supervise_seccomp(s) < 0 || !(p[P_LISTENER].revents & POLLIN))) {
			close(s->listener);
			s->listener = -1;
		}
		if (p[P_SOCK].revents)
			handle_msg(s);
		if (p[P_OUT].revents)
			sbx_relay_pump(&s->out);
		if (p[P_ERR].revents)
			sbx_relay_pump(&s->err);
		if (p[P_TIMER].revents) {
			s->timed_out = true;
			sbx_supervise_kill(s);
		}
		if (p[P_SIG].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				/* The first signal is passed on, so the workload can
				 * finish cleanly; a second one ends the sandbox. */
				if (signals_seen++ == 0)
					pidfd_send(s->pidfd, (int)si.ssi_signo);
				else
					sbx_supervise_kill(s);
			}
		}
		if (p[P_CANCEL].revents) {
			sbx_supervise_kill(s);
			s->cancel_fd = -1;
		}
		if (p[P_PIDFD].revents) {
			pid1_done = true;
			drain_deadline = sbx_now_ns() + DRAIN_NS;
		}
	}
	/* Messages pid 1 sent just before exiting are still queued. */
	while (s->sock >= 0) {
		struct pollfd p = { .fd = s->sock, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0)
			break;
		handle_msg(s);
	}
	if (s->pid == 0) {
		s->pid1_status = SIGKILL; /* not our child: ended without its report = killed */
		return 0;
	}
	if (wait4(s->pid, &s->pid1_status, 0, &s->rusage) < 0)
		return sbx_error_set(err, errno, "waiting for the sandbox");
	return 0;
}
