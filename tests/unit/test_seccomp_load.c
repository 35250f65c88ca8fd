/* Seccomp filters in the real kernel, without privileges: a forked child
 * sets no_new_privs and loads a filter; the test process plays the
 * supervisor (receives the listener, answers and counts denials). */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp/filter.h"
#include "seccomp/profile.h"

static struct sbx_seccomp *compile_yaml(const char *yaml)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	struct sbx_seccomp *f = NULL;
	int rc = sbx_seccomp_profile_parse(yaml, strlen(yaml), "t.yaml", &p, &err);
	if (rc == 0)
		rc = sbx_seccomp_from_profile(&p, &f, &err);
	cr_assert_eq(rc, 0, "%s", err ? err->msg : "");
	sbx_seccomp_profile_free(&p);
	return f;
}

static void send_fd(int sock, int fd)
{
	char byte = 0, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	if (sendmsg(sock, &m, 0) != 1)
		_exit(90);
}

static int recv_fd(int sock)
{
	char byte, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* Fork a child that loads f and runs body; *listener gets the listener in
 * the parent (-1 when the filter does not report). */
static pid_t spawn(const struct sbx_seccomp *f, int (*body)(void), int *listener)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		struct sbx_error *err = NULL;
		int fd;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_seccomp_load(f, &fd, &err) < 0)
			_exit(91);
		if (fd >= 0) {
			send_fd(sv[1], fd);
			close(fd);
		}
		close(sv[1]);
		_exit(body());
	}
	close(sv[1]);
	*listener = sbx_seccomp_reports_denials(f) ? recv_fd(sv[0]) : -1;
	close(sv[0]);
	return pid;
}

/* Supervise until the child exits; returns its exit status. */
static int supervise(struct sbx_seccomp *f, pid_t pid, int listener)
{
	for (;;) {
		int status;
		pid_t w = waitpid(pid, &status, WNOHANG);
		cr_assert_geq(w, 0);
		if (w == pid) {
			if (listener >= 0) {
				struct sbx_error *err = NULL;
				cr_assert_geq(sbx_seccomp_handle(f, listener, &err), 0);
				close(listener);
			}
			cr_assert(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
			return WEXITSTATUS(status);
		}
		if (listener >= 0) {
			struct pollfd p = { .fd = listener, .events = POLLIN };
			poll(&p, 1, 20);
			struct sbx_error *err = NULL;
			cr_assert_geq(sbx_seccomp_handle(f, listener, &err), 0, "%s", err ? err->msg : "");
		} else {
			usleep(1000);
		}
	}
}

static uint64_t denials_of(const struct sbx_seccomp *f, const char *name)
{
	const char **names;
	const uint64_t *counts;
	size_t n = sbx_seccomp_denials(f, &names, &counts);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return counts[i];
	return 0;
}

/* 0 when the call failed with exactly `e`. */
static int fails_with(long r, int e)
{
	return r == -1 && errno == e ? 0 : 1;
}

static int getppid_exdev_three_times(void)
{
	for (int i = 0; i < 3; i++)
		if (fails_with(syscall(SYS_getppid), EXDEV))
			return 1;
	return syscall(SYS_getpid) > 0 ? 0 : 2;
}

Test(seccomp_load, errno_from_the_kernel, .timeout = 20)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "report_denials: false\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	cr_assert_not(sbx_seccomp_reports_denials(f));
	int listener;
	pid_t pid = spawn(f, getppid_exdev_three_times, &listener);
	cr_assert_eq(listener, -1);
	cr_assert_eq(supervise(f, pid, listener), 0);
	sbx_seccomp_free(f);
}

Test(seccomp_load, errno_answered_and_counted_by_the_supervisor, .timeout = 20)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	cr_assert(sbx_seccomp_reports_denials(f));
	int listener;
	pid_t pid = spawn(f, getppid_exdev_three_times, &listener);
	cr_assert_geq(listener, 0);
	cr_assert_eq(supervise(f, pid, listener), 0);
	const char **names;
	const uint64_t *counts;
	cr_assert_eq(sbx_seccomp_denials(f, &names, &counts), 1);
	cr_assert_str_eq(names[0], "getppid");
	cr_assert_eq(counts[0], 3);
	sbx_seccomp_free(f);
}

static int default_profile_body(void)
{
	if (fails_with(syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL), EPERM))
		return 10;
	if (fails_with(syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */), EPERM))
		return 11;
	if (fails_with(syscall(SYS_io_uring_setup, 1, NULL), EPERM))
		return 12;
	if (fails_with(syscall(462 /* mseal: newer than the profile */, 0, 0, 0), ENOSYS))
		return 13;
	if (fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS))
		return 14;
	/* getpid through the i386 entry point */
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	if (r != -ENOSYS)
		return 15;
	return syscall(SYS_getpid) > 0 ? 0 : 16;
}

Test(seccomp_load, default_profile_denies_and_reports, .timeout = 20)
{
	struct sbx_seccomp *f = NULL;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_seccomp_compile("default", &f, &err), 0);
	int listener;
	pid_t pid = spawn(f, default_profile_body, &listener);
	cr_assert_geq(listener, 0);
	cr_assert_eq(supervise(f, pid, listener), 0);
	cr_expect_eq(denials_of(f, "mount"), 1);
	cr_expect_eq(denials_of(f, "unshare"), 1);
	cr_expect_eq(denials_of(f, "io_uring_setup"), 1);
	cr_expect_eq(denials_of(f, "syscall_462"), 1);
	cr_expect_eq(denials_of(f, "x86:getpid"), 1);
	cr_expect_eq(denials_of(f, "clone3"), 0, "clone3 is answered by the kernel, not counted");
	sbx_seccomp_free(f);
}

static int getppid_once_enosys(void)
{
	/* The parent answers nothing and closes its listener; until then the
	 * call waits, afterwards it fails with ENOSYS. */
	for (int i = 0; i < 200; i++) {
		long r = syscall(SYS_getppid);
		if (r == -1 && errno == ENOSYS)
			return 0;
		usleep(5000);
	}
	return 1;
}

/* If the supervisor goes away, the listener closes and denied calls fail
 * with ENOSYS instead of waiting forever. */
Test(seccomp_load, no_supervisor_means_enosys_not_a_hang, .timeout = 20)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	int listener;
	pid_t pid = spawn(f, getppid_once_enosys, &listener);
	cr_assert_geq(listener, 0);
	close(listener);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sbx_seccomp_free(f);
}

static int block_in_denied_call(void)
{
	syscall(SYS_getppid);
	return 0;
}

/* A notification whose task died before the answer is not an error, and
 * handling it does not block. */
Test(seccomp_load, dead_task_is_skipped, .timeout = 20)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	int listener;
	pid_t pid = spawn(f, block_in_denied_call, &listener);
	cr_assert_geq(listener, 0);
	struct pollfd p = { .fd = listener, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 10000), 1, "the child's call was never notified");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_seccomp_handle(f, listener, &err), 0);
	const char **names;
	const uint64_t *counts;
	cr_assert_eq(sbx_seccomp_denials(f, &names, &counts), 0);
	close(listener);
	sbx_seccomp_free(f);
}

static int many_denials(void)
{
	for (int i = 0; i < 2000; i++)
		if (fails_with(syscall(SYS_getppid), EXDEV))
			return 1;
	return 0;
}

Test(seccomp_load, every_denial_is_counted, .timeout = 60)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	int listener;
	pid_t pid = spawn(f, many_denials, &listener);
	cr_assert_eq(supervise(f, pid, listener), 0);
	cr_assert_eq(denials_of(f, "getppid"), 2000);
	sbx_seccomp_free(f);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int denied_call_through_signals(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	/* Signals arrive while the call waits for the supervisor. */
	struct itimerval it = { .it_interval = { 0, 20000 }, .it_value = { 0, 20000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	int rc = fails_with(syscall(SYS_getppid), EXDEV);
	struct itimerval off = { 0 };
	setitimer(ITIMER_REAL, &off, NULL);
	return rc;
}

/* An ordinary signal during the wait restarts the call at worst; it is
 * answered once and counted once. */
Test(seccomp_load, signals_during_the_wait_do_not_double_count, .timeout = 20)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	int listener;
	pid_t pid = spawn(f, denied_call_through_signals, &listener);
	cr_assert_geq(listener, 0);
	struct pollfd p = { .fd = listener, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 10000), 1);
	usleep(200000); /* let several SIGALRMs hit the waiting call */
	cr_assert_eq(supervise(f, pid, listener), 0);
	cr_assert_eq(denials_of(f, "getppid"), 1);
	sbx_seccomp_free(f);
}

static void *thread_denials(void *arg)
{
	(void)arg;
	for (int i = 0; i < 250; i++)
		if (fails_with(syscall(SYS_getppid), EXDEV))
			return (void *)1;
	return NULL;
}

static int eight_threads_denied(void)
{
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		if (pthread_create(&t[i], NULL, thread_denials, NULL) != 0)
			return 2;
	int bad = 0;
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	return bad;
}

Test(seccomp_load, denials_from_many_threads_are_all_counted, .timeout = 60)
{
	struct sbx_seccomp *f = compile_yaml("default_action: allow\n"
					     "syscalls:\n"
					     "  - names: [getppid]\n"
					     "    action: errno EXDEV\n");
	int listener;
	pid_t pid = spawn(f, eight_threads_denied, &listener);
	cr_assert_eq(supervise(f, pid, listener), 0);
	cr_assert_eq(denials_of(f, "getppid"), 8 * 250);
	sbx_seccomp_free(f);
}
