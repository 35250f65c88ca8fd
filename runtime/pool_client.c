/* `sbx run --pool PATH [OPTIONS] -- python3 SCRIPT [ARG...]`: the caller's
 * side of a pool job.  The options, the stdio descriptors and the working
 * directory go to the pool, whose job supervisor streams the output straight
 * into our stdout and stderr; we forward SIGINT/SIGTERM/SIGHUP to it, write
 * the report where --report says and exit with the job's status, as
 * `sbx run` would. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "pool.h"
#include "result.h"

bool sbx_pool_requested(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--pool") == 0 || strncmp(argv[i], "--pool=", 7) == 0)
			return true;
	return false;
}

static int recv_reply(int sock, struct sbx_pool_reply_msg *m, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	*fd = -1;
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return (int)n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n == sizeof(*m) ? 1 : -1;
}

/* The report's warnings (a job without a cgroup...), escaped: they can
 * carry names from the sandbox. */
static void print_warnings(const char *json)
{
	json_t *r = json_loads(json, 0, NULL), *w;
	size_t i;
	json_array_foreach(json_object_get(r, "warnings"), i, w)
	{
		if (!json_is_string(w))
			continue;
		char *msg = sbx_escape(json_string_value(w));
		fprintf(stderr, "sbx: warning: %s\n", msg);
		free(msg);
	}
	json_decref(r);
}

/* The warnings, the error and the report as `sbx run` prints them (main.c:
 * finish). */
static int finish(int code, const char *error, const char *json, const char *report)
{
	print_warnings(json);
	if (error && *error) {
		char *msg = sbx_escape(error);
		fprintf(stderr, "sbx: %s\n", msg);
		free(msg);
	}
	if (report == NULL)
		return code;
	if (strcmp(report, "-") == 0) {
		fprintf(stderr, "%s\n", json);
		return code;
	}
	/* As sbx_report_write: beside the target, then renamed, so a reader
	 * never sees half a report. */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", report, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	size_t len = strlen(json);
	if (fd < 0 || write(fd, json, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || close(fd) < 0 ||
	    rename(tmp, report) < 0) {
		fprintf(stderr, "sbx: writing report %s: %s\n", report, strerror(errno));
		unlink(tmp);
		return code == 0 ? 125 : code;
	}
	return code;
}

static int fail(const char *report, const char *fmt_, const char *a, int e)
{
	char msg[1024];
	snprintf(msg, sizeof(msg), fmt_, a, strerror(e));
	struct sbx_result r;
	sbx_result_init(&r);
	r.error = msg;
	r.pool = true;
	char *json = sbx_report_json(&r);
	r.error = NULL;
	int code = finish(125, msg, json, report);
	free(json);
	return code;
}

int sbx_pool_client_main(int argc, char **argv)
{
	/* Our own copy of the options: --pool out, the rest for the pool. */
	const char *path = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	if (rest == NULL)
		abort();
	int nr = 0;
	rest[nr++] = argv[0];
	bool cmd = false;
	for (int i = 1; i < argc; i++) {
		if (!cmd && strcmp(argv[i], "--pool") == 0 && i + 1 < argc) {
			path = argv[++i];
			continue;
		}
		if (!cmd && strncmp(argv[i], "--pool=", 7) == 0) {
			path = argv[i] + 7;
			continue;
		}
		cmd |= strcmp(argv[i], "--") == 0;
		rest[nr++] = argv[i];
	}
	/* Parsed here too, for --report (written by us, as the caller) and
	 * to refuse bad options before the pool is asked. */
	struct sbx_config c;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	int p = sbx_cli_parse_run(nr, rest, &c, &err);
	if (p == 1) {
		fputs(sbx_run_usage, stdout);
		return 0;
	}
	if (p < 0 || path == NULL) {
		fprintf(stderr, "sbx: %s\n", p < 0 ? err->msg : "--pool needs a socket path");
		return 125;
	}
	if (c.report && strcmp(c.report, "-") != 0 && sbx_report_check(c.report, &err) < 0) {
		fprintf(stderr, "sbx: %s\n", err->msg);
		return 125;
	}
	char *report = c.report;

	size_t len = sizeof(SBX_POOL_MAGIC);
	for (int i = 1; i < nr; i++)
		len += strlen(rest[i]) + 1;
	char *req = malloc(len);
	if (req == NULL)
		abort();
	memcpy(req, SBX_POOL_MAGIC, sizeof(SBX_POOL_MAGIC));
	size_t off = sizeof(SBX_POOL_MAGIC);
	for (int i = 1; i < nr; i++) {
		size_t l = strlen(rest[i]) + 1;
		memcpy(req + off, rest[i], l);
		off += l;
	}
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return fail(report, "--pool %s: %s", path, ENAMETOOLONG);
	strcpy(a.sun_path, path);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail(report, "--pool %s: connecting to the pool: %s", path, errno);
	/* Our stdio and working directory go to whoever listens there: only
	 * to a pool of our own user (or root's), never to a socket another
	 * user put in a shared directory. */
	struct ucred peer;
	socklen_t pl = sizeof(peer);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &peer, &pl) < 0)
		return fail(report, "--pool %s: %s", path, errno);
	if (peer.uid != geteuid() && peer.uid != 0) {
		fprintf(stderr,
			"sbx: --pool %s: the pool there runs as uid %u, not as us; not handing it the job\n",
			path, (unsigned)peer.uid);
		return 125;
	}
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return fail(report, "%s%s", "opening the working directory: ", errno);
	int fds[4] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, cwd};
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {.iov_base = req, .iov_len = len};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		return fail(report, "--pool %s: sending the job: %s", path, errno);
	close(cwd);

	/* Signals go to the job supervisor, which passes the first on to the
	 * job and kills it at the second, as sbx run does. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	int sup = -1;
	for (;;) {
		struct pollfd pf[2] = {{.fd = s, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			return fail(report, "%s%s", "poll: ", errno);
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (sup >= 0)
					syscall(SYS_pidfd_send_signal, sup, si.ssi_signo, NULL, 0);
		}
		if (!pf[0].revents)
			continue;
		struct sbx_pool_reply_msg m;
		int fd;
		int r = recv_reply(s, &m, &fd);
		if (r <= 0)
			return fail(report, "--pool %s: %s", path, r == 0 ? EPIPE : errno);
		if (m.type == SBX_POOL_ACCEPTED) {
			sup = fd;
			continue;
		}
		if (m.type != SBX_POOL_RESULT || fd < 0)
			return fail(report, "--pool %s: %s", path, EPROTO);
		off_t size = lseek(fd, 0, SEEK_END);
		char *text = malloc((size_t)size + 1);
		if (text == NULL || size < 0 || pread(fd, text, (size_t)size, 0) != size)
			return fail(report, "--pool %s: reading the result: %s", path, errno);
		text[size] = '\0';
		const char *json = text + strlen(text) + 1;
		if (json > text + size)
			json = "{}";
		return finish(m.exit_code, text, json, report);
	}
}
