/* `sbx pool`: start the zygotes, accept clients on a unix socket, fork one
 * job supervisor per client (runtime/pool_job.c) with a ready zygote, replace
 * zygotes that end, and on SIGTERM/SIGINT drain: stop accepting, let running
 * jobs finish, close the zygotes' control sockets (they exit, their keepers
 * remove their cgroups), unlink the socket. */
#include <errno.h>
#include <getopt.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "pool.h"
#include "lib/size.h"

const char sbx_pool_usage[] =
    "Usage: sbx pool --socket PATH --rootfs DIR [--size N] [--preload MODULE[,MODULE...]]\n"
    "                [--preload-path DIR] [--mount-point DST]... [--recycle N]\n"
    "                [sbx run OPTIONS as every job's defaults]\n"
    "\n"
    "Serve `sbx run --pool PATH -- python3 SCRIPT [ARG...]` from N sandboxed Python\n"
    "interpreters that have imported MODULEs: each job is forked into a sandbox of\n"
    "its own (namespaces, cgroup, fresh /tmp, /dev/shm and /out, its binds, no\n"
    "capabilities, its seccomp filter).  Runs until SIGTERM or SIGINT, then drains.\n"
    "\n"
    "  --socket PATH       unix socket to serve on (mode 0600)\n"
    "  --size N            zygotes (default 2, at most 64)\n"
    "  --preload MODULES   comma-separated modules every zygote imports\n"
    "  --preload-path DIR  a directory inside the sandbox (e.g. a --bind target) that\n"
    "                      is on sys.path while the zygote preloads, and only then\n"
    "  --mount-point DST   a bind or tmpfs target jobs may use that the rootfs lacks\n"
    "                      (repeatable)\n"
    "  --recycle N         replace each zygote after N jobs (default 0: never); bounds\n"
    "                      how many jobs share one address-space layout\n"
    "Every other option is an `sbx run` option (see sbx run --help): the default\n"
    "of every job, which the job's own options extend or override.\n"
    "\n"
    "Each job gets a cgroup of its own, where sbx run would make it.  Rootless on\n"
    "cgroup v2: started alone in a delegated cgroup (systemd-run --user --scope\n"
    "-p Delegate=yes -- sbx pool ...), the pool moves into a leaf sbx-PID-pool\n"
    "there and puts the zygotes' and jobs' cgroups beside it; or start it in a\n"
    "leaf of a delegated subtree and pass --cgroup-parent SUBTREE.  With\n"
    "--allow-no-cgroup: sbx run's rlimits, set in each job and never above the\n"
    "pool's own.  --network host is not served.\n";

enum { O_SOCKET = 1000, O_SIZE, O_PRELOAD, O_PRELOAD_PATH, O_MOUNTPOINT, O_RECYCLE };

static int listen_on(const char *path, struct sbx_error **err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return sbx_error_set(err, ENAMETOOLONG, "--socket %s", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_error_set(err, errno, "--socket %s: socket", path);
	/* A socket left by a pool that was killed is replaced; a live one is not. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			close(fd);
			return sbx_error_set(err, EEXIST, "--socket %s: exists and is not a socket", path);
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			return sbx_error_set(err, EADDRINUSE, "--socket %s: a pool already serves it", path);
		}
		close(fd);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return sbx_error_set(err, errno, "--socket %s: socket", path);
	}
	mode_t old = umask(077); /* only our own user may hand us jobs */
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return sbx_error_set(err, e, "--socket %s: bind/listen", path);
	}
	return fd;
}

static int parse(int argc, char **argv, struct sbx_pool *p, struct sbx_error **err)
{
	static const struct option opts[] = {
	    {"socket", required_argument, 0, O_SOCKET},
	    {"size", required_argument, 0, O_SIZE},
	    {"preload", required_argument, 0, O_PRELOAD},
	    {"preload-path", required_argument, 0, O_PRELOAD_PATH},
	    {"mount-point", required_argument, 0, O_MOUNTPOINT},
	    {"recycle", required_argument, 0, O_RECYCLE},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	p->size = 2;
	p->defaults = calloc((size_t)argc + 3, sizeof(char *)); /* + pool_cgroup.c's */
	p->mount_points = calloc((size_t)argc + 1, sizeof(char *));
	if (p->defaults == NULL || p->mount_points == NULL)
		abort();
	/* Our options are taken out; everything else is kept, in order, as
	 * the jobs' default `sbx run` options (validated below). */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct option *o = NULL;
		for (const struct option *q = opts; q->name; q++) {
			size_t l = strlen(q->name);
			if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, q->name, l) == 0 &&
			    (a[2 + l] == '\0' || a[2 + l] == '='))
				o = q;
		}
		if (o == NULL) {
			if (strcmp(a, "--") == 0 || a[0] != '-')
				return sbx_error_set(
				    err, EINVAL, "sbx pool takes no command ('%s'): jobs bring their own", a);
			p->defaults[p->n_defaults++] = argv[i];
			/* A run option's value follows it, unless it is one of the
			 * flags without a value (runtime/cli.c) or given with '='. */
			static const char *const flags[] = {"--allow-no-cgroup", "--writable-rootfs",
							    "--no-image-config", "--build-caps",
							    "--tmpfs-exec"};
			bool flag = strchr(a, '=') != NULL;
			for (size_t f = 0; f < sizeof(flags) / sizeof(*flags); f++)
				flag |= strcmp(a, flags[f]) == 0;
			if (!flag && i + 1 < argc)
				p->defaults[p->n_defaults++] = argv[++i];
			continue;
		}
		if (o->val == 'h')
			return 1;
		const char *v = strchr(a, '=') ? strchr(a, '=') + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (v == NULL)
			return sbx_error_set(err, EINVAL, "option '--%s' needs a value", o->name);
		uint64_t n;
		switch (o->val) {
		case O_SOCKET:
			p->socket_path = v;
			break;
		case O_PRELOAD:
			p->preload = v;
			break;
		case O_PRELOAD_PATH:
			if (v[0] != '/')
				return sbx_error_set(err, EINVAL, "--preload-path %s: not an absolute path",
						     v);
			p->preload_path = v;
			break;
		case O_MOUNTPOINT:
			if (v[0] != '/')
				return sbx_error_set(err, EINVAL, "--mount-point %s: not an absolute path",
						     v);
			p->mount_points[p->n_mount_points++] = (char *)v;
			break;
		case O_RECYCLE:
			if (sbx_parse_uint(v, UINT32_MAX, &n, err) < 0)
				return sbx_error_wrap(err, "--recycle");
			p->recycle = (unsigned)n;
			break;
		case O_SIZE:
			if (sbx_parse_uint(v, SBX_POOL_MAX_SIZE, &n, err) < 0 || n == 0) {
				if (*err == NULL)
					sbx_error_set(err, EINVAL, "'%s' must be at least 1", v);
				return sbx_error_wrap(err, "--size");
			}
			p->size = (unsigned)n;
			break;
		}
	}
	if (p->socket_path == NULL)
		return sbx_error_set(err, EINVAL, "--socket PATH is required");
	for (const char *m = p->preload; m && *m; m++)
		if (!(*m == ',' || *m == '.' || *m == '_' || (*m >= '0' && *m <= '9') ||
		      (*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z')))
			return sbx_error_set(err, EINVAL, "--preload %s: not a list of module names",
					     p->preload);
	/* Validated as a job would be (paths resolved, rootfs real): what
	 * every job's config is compared against. */
	sbx_config_init(&p->base);
	char *cmd[] = {"--", "python3"};
	if (sbx_pool_parse(p, cmd, 2, -1, &p->base, err) < 0 || sbx_config_validate(&p->base, err) < 0)
		return sbx_error_wrap(err, "the jobs' default options");
	return 0;
}

struct pending {
	int conn;
	uint64_t since;
};

static int pick(struct sbx_pool *p, unsigned *rr)
{
	for (unsigned i = 0; i < p->size; i++) {
		unsigned k = (*rr + i) % p->size;
		struct pollfd hup = {.fd = p->zygotes[k].ctl, .events = 0};
		if (p->zygotes[k].ready && poll(&hup, 1, 0) == 1) {
			p->zygotes[k].ready = false; /* died since the last poll */
			close(p->zygotes[k].ctl);
			p->zygotes[k].ctl = -1;
		}
		if (p->zygotes[k].ready) {
			*rr = k + 1;
			return (int)k;
		}
	}
	return -1;
}

static void dispatch(struct sbx_pool *p, int listen_fd, int sfd, struct pending *q, int k)
{
	struct sbx_zygote *z = &p->zygotes[k];
	double wait_ms = (double)(sbx_now_ns() - q->since) / 1e6;
	pid_t pid = fork();
	if (pid == 0) {
		close(listen_fd);
		close(sfd);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit(sbx_pool_job(p, z, q->conn, wait_ms));
	}
	if (pid < 0)
		perror("sbx pool: forking a job supervisor");
	else
		z->jobs++;
	close(q->conn);
}

int sbx_pool_main(int argc, char **argv)
{
	static struct sbx_pool p;
	struct sbx_error *err = NULL;
	int r = parse(argc, argv, &p, &err);
	if (r == 1) {
		fputs(sbx_pool_usage, stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "sbx pool: %s\n", err->msg);
		return 125;
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	int lfd = listen_on(p.socket_path, &err);
	if (sfd < 0 || lfd < 0) {
		fprintf(stderr, "sbx pool: %s\n", err ? err->msg : strerror(errno));
		return 125;
	}
	if (sbx_pool_cgroup_setup(&p, &err) < 0) {
		fprintf(stderr, "sbx pool: %s\n", err->msg);
		unlink(p.socket_path);
		return 125;
	}
	for (unsigned i = 0; i < p.size; i++) {
		p.zygotes[i].index = (int)i;
		p.zygotes[i].ctl = p.zygotes[i].pidfd = -1;
		if (sbx_zygote_start(&p, &p.zygotes[i], &err) < 0) {
			fprintf(stderr, "sbx pool: %s\n", err->msg);
			sbx_error_free(&err);
		}
	}
	struct pending queue[256];
	size_t nq = 0;
	unsigned rr = 0, jobs_running = 0, failures = 0;
	bool draining = false;
	int status = 0;
	for (;;) {
		if (draining && jobs_running == 0 && nq == 0) {
			bool any = false;
			for (unsigned i = 0; i < p.size; i++) {
				if (p.zygotes[i].ctl >= 0) {
					/* End-of-file on its fd 0: the zygote returns from
					 * serve() and its keeper tears its sandbox down. */
					close(p.zygotes[i].ctl);
					p.zygotes[i].ctl = -1;
					p.zygotes[i].ready = false;
				}
				any |= p.zygotes[i].keeper > 0;
			}
			if (!any)
				break;
		}
		struct pollfd pf[2 + 2 * SBX_POOL_MAX_SIZE];
		size_t n = 0;
		pf[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = draining || nq == sizeof(queue) / sizeof(*queue) ? -1 : lfd,
					  .events = POLLIN};
		for (unsigned i = 0; i < p.size; i++) {
			struct sbx_zygote *z = &p.zygotes[i];
			/* A ready zygote is watched for hang-up only (its death). */
			pf[n++] = (struct pollfd){.fd = z->ctl, .events = z->ready ? 0 : POLLIN};
			pf[n++] = (struct pollfd){.fd = z->keeper > 0 ? z->pidfd : -1, .events = POLLIN};
		}
		if (poll(pf, n, -1) < 0 && errno != EINTR) {
			perror("sbx pool: poll");
			status = 125;
			break;
		}
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					continue;
				if (!draining) {
					draining = true;
					close(lfd);
					unlink(p.socket_path);
				}
			}
			/* Job supervisors and keepers: reap every child that ended. */
			for (;;) {
				int st;
				pid_t c = waitpid(-1, &st, WNOHANG);
				if (c <= 0)
					break;
				bool is_keeper = false;
				for (unsigned i = 0; i < p.size; i++)
					if (p.zygotes[i].keeper == c) {
						struct sbx_zygote *z = &p.zygotes[i];
						is_keeper = true;
						if (!z->ready && !draining && ++failures > 3 * p.size) {
							fprintf(stderr, "sbx pool: zygotes keep failing "
									"before they are ready; "
									"stopping\n");
							draining = true;
							status = 125;
							close(lfd);
							unlink(p.socket_path);
						}
						close(z->pidfd);
						if (z->ctl >= 0)
							close(z->ctl);
						z->pidfd = z->ctl = -1;
						z->keeper = 0;
						z->ready = false;
						/* A zygote that ended (or was killed) is replaced. */
						if (!draining && sbx_zygote_start(&p, z, &err) < 0) {
							fprintf(stderr, "sbx pool: %s\n", err->msg);
							sbx_error_free(&err);
						}
					}
				if (!is_keeper && jobs_running > 0)
					jobs_running--;
			}
		}
		for (unsigned i = 0; i < p.size; i++) {
			struct sbx_zygote *z = &p.zygotes[i];
			if (z->ready && (pf[2 + 2 * i].revents & (POLLHUP | POLLERR))) {
				/* Dead: no more jobs for it; its keeper's exit replaces it. */
				z->ready = false;
				close(z->ctl);
				z->ctl = -1;
				continue;
			}
			if (pf[2 + 2 * i].revents && !z->ready && z->ctl >= 0 &&
			    sbx_zygote_read_ready(z, &err) < 0) {
				fprintf(stderr, "sbx pool: %s\n", err->msg);
				sbx_error_free(&err);
				close(z->ctl);
				z->ctl = -1;
			}
		}
		if (!draining && pf[1].revents) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				queue[nq++] = (struct pending){c, sbx_now_ns()};
		}
		while (nq > 0) {
			int k = pick(&p, &rr);
			if (k < 0)
				break;
			dispatch(&p, lfd, sfd, &queue[0], k);
			jobs_running++;
			memmove(queue, queue + 1, (--nq) * sizeof(*queue));
		}
		if (draining && nq > 0) {
			/* Queued clients got no zygote before the drain: they get EOF. */
			for (size_t i = 0; i < nq; i++)
				close(queue[i].conn);
			nq = 0;
		}
	}
	sbx_pool_cgroup_restore(&p);
	return status;
}
