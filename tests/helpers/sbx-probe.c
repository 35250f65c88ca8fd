/* sbx-probe: a small static program placed in the test rootfs.  Tests run
 * it inside a sandbox and assert on what it prints, so every check is made
 * from the inside, with the sandbox's own view of the kernel.
 *
 *   sbx-probe pid | ppid | ids | hostname | env | fds | status | ns | pids
 *   sbx-probe ifaces                 name and UP/DOWN of every interface
 *   sbx-probe write PATH             create PATH: "ok" or the errno name
 *   sbx-probe fill PATH              write until it fails: "BYTES ERRNO"
 *   sbx-probe read PATH              print the file
 *   sbx-probe exit N | kill SIG | sleep SECONDS
 *   sbx-probe daemon SECONDS         double-fork a sleeper in its own
 *                                    session, then exit 0
 *   sbx-probe flood BYTES [err]      write BYTES to stdout (or stderr)
 *   sbx-probe symlink TARGET PATH
 * Attacks (each prints one line per check: what was tried, then "ok" or
 * the errno name, so tests assert on what the kernel answered):
 *   sbx-probe pid1                   read/write pid 1's environ, fd, mem;
 *                                    its cmdline (NULs as spaces)
 *   sbx-probe execcopy DIR           copy this binary into DIR and exec it
 *   sbx-probe memfdexec              exec this binary from a memfd
 *   sbx-probe socketpair FAMILY      socketpair(FAMILY number)
 *   sbx-probe inotify N              create up to N inotify instances
 *   sbx-probe forkbomb N             fork up to N sleeping children
 *   sbx-probe alloc MIB              allocate and touch MIB MiB
 *   sbx-probe unshare                unshare a user namespace
 */
#include <dirent.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int errname(int e)
{
	const char *n = strerrorname_np(e);
	printf("%s\n", n ? n : "unknown");
	return 1;
}

static int list_dir(const char *path, int numeric_only)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return errname(errno);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (numeric_only && (e->d_name[0] < '0' || e->d_name[0] > '9'))
			continue;
		if (strcmp(path, "/proc/self/fd") == 0 && atoi(e->d_name) == dirfd(d))
			continue;
		printf("%s\n", e->d_name);
	}
	closedir(d);
	return 0;
}

static int cat(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return errname(errno);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

static int status_fields(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return errname(errno);
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs", 10) == 0 ||
		    strncmp(line, "Seccomp:", 8) == 0 || strncmp(line, "Uid:", 4) == 0 || strncmp(line, "Gid:", 4) == 0 ||
		    strncmp(line, "Groups:", 7) == 0)
			fputs(line, stdout);
	fclose(f);
	return 0;
}

static int namespaces(void)
{
	static const char *const ns[] = { "user", "pid", "net", "mnt", "uts", "ipc", "cgroup" };
	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		char p[64];
		struct stat st;
		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns[i]);
		if (stat(p, &st) < 0)
			printf("%s error\n", ns[i]);
		else
			printf("%s %lu\n", ns[i], (unsigned long)st.st_ino);
	}
	return 0;
}

static int ifaces(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	if (f == NULL)
		return errname(errno);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (n++ < 2)
			continue;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *name = line;
		while (*name == ' ')
			name++;
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.15s", name);
		int up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
		printf("%s %s\n", name, up ? "UP" : "DOWN");
	}
	fclose(f);
	return 0;
}

static void try(const char *what, int r)
{
	printf("%s ", what);
	if (r < 0)
		errname(errno);
	else
		printf("ok\n");
}

static int copy_self(int dst)
{
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -1;
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(dst, buf, (size_t)n) != n)
			return -1;
	close(src);
	return n < 0 ? -1 : 0;
}

static int attack(int argc, char **argv)
{
	const char *c = argv[1], *a = argc > 2 ? argv[2] : "";
	if (!strcmp(c, "pid1")) {
		int fd;
		try("environ", fd = open("/proc/1/environ", O_RDONLY));
		char buf[4096];
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf));
			printf("environ_bytes %zd\n", n);
		}
		DIR *d = opendir("/proc/1/fd");
		try("fd", d ? 0 : -1);
		try("mem_read", open("/proc/1/mem", O_RDONLY));
		try("mem_write", open("/proc/1/mem", O_RDWR));
		try("ptrace", (int)syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0));
		struct iovec local = { buf, 8 }, remote = { (void *)0x400000, 8 };
		try("vm_read", (int)syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
		fd = open("/proc/1/cmdline", O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		while (n > 0 && buf[n - 1] == ' ')
			n--;
		printf("cmdline %.*s\n", (int)(n > 0 ? n : 0), buf);
		return 0;
	}
	if (!strcmp(c, "execcopy")) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/probe-copy", a);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
		if (fd < 0 || copy_self(fd) < 0)
			return errname(errno);
		close(fd);
		execl(path, path, "exit", "0", (char *)NULL);
		return errname(errno);
	}
	if (!strcmp(c, "memfdexec")) {
		int fd = (int)syscall(SYS_memfd_create, "x", 0);
		if (fd < 0) {
			printf("memfd_create ");
			return errname(errno);
		}
		if (copy_self(fd) < 0)
			return errname(errno);
		char *args[] = { "sbx-probe", "exit", "0", NULL };
		fexecve(fd, args, environ);
		printf("fexecve ");
		return errname(errno);
	}
	if (!strcmp(c, "socketpair")) {
		int sv[2];
		try("socketpair", socketpair(atoi(a), SOCK_DGRAM, 0, sv));
		return 0;
	}
	if (!strcmp(c, "inotify")) {
		int n = 0, max = atoi(a);
		while (n < max && inotify_init1(IN_CLOEXEC) >= 0)
			n++;
		printf("%d ", n);
		return n < max ? errname(errno) : (printf("ok\n"), 0);
	}
	if (!strcmp(c, "forkbomb")) {
		int n = 0, max = atoi(a);
		pid_t pg = getpid();
		for (; n < max; n++) {
			pid_t p = fork();
			if (p < 0)
				break;
			if (p == 0) {
				pause();
				_exit(0);
			}
		}
		int e = errno;
		printf("%d ", n);
		signal(SIGTERM, SIG_IGN);
		kill(-pg, SIGTERM);
		while (wait(NULL) > 0)
			;
		return n < max ? errname(e) : (printf("ok\n"), 0);
	}
	if (!strcmp(c, "alloc")) {
		size_t mib = (size_t)atol(a);
		char *p = malloc(mib << 20);
		if (p == NULL)
			return errname(errno);
		memset(p, 1, mib << 20);
		return printf("ok\n"), 0;
	}
	if (!strcmp(c, "unshare")) {
		try("unshare", unshare(CLONE_NEWUSER));
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: sbx-probe COMMAND [ARG]\n");
		return 2;
	}
	const char *c = argv[1], *a = argc > 2 ? argv[2] : "";
	if (!strcmp(c, "pid"))
		return printf("%d\n", (int)getpid()), 0;
	if (!strcmp(c, "ppid"))
		return printf("%d\n", (int)getppid()), 0;
	if (!strcmp(c, "ids"))
		return printf("%u %u\n", (unsigned)getuid(), (unsigned)getgid()), 0;
	if (!strcmp(c, "hostname")) {
		char h[256] = "";
		gethostname(h, sizeof(h));
		return printf("%s\n", h), 0;
	}
	if (!strcmp(c, "env")) {
		for (char **e = environ; *e; e++)
			printf("%s\n", *e);
		return 0;
	}
	if (!strcmp(c, "fds"))
		return list_dir("/proc/self/fd", 0);
	if (!strcmp(c, "pids"))
		return list_dir("/proc", 1);
	if (!strcmp(c, "status"))
		return status_fields();
	if (!strcmp(c, "ns"))
		return namespaces();
	if (!strcmp(c, "ifaces"))
		return ifaces();
	if (!strcmp(c, "read"))
		return cat(a);
	if (!strcmp(c, "write")) {
		int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return errname(errno);
		if (write(fd, "x\n", 2) != 2)
			return errname(errno);
		close(fd);
		return printf("ok\n"), 0;
	}
	if (!strcmp(c, "fill")) {
		int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return errname(errno);
		static char buf[1 << 16];
		memset(buf, 'x', sizeof(buf));
		unsigned long long total = 0;
		for (;;) {
			ssize_t n = write(fd, buf, sizeof(buf));
			if (n <= 0) {
				printf("%llu ", total);
				return errname(n < 0 ? errno : ENOSPC);
			}
			total += (unsigned long long)n;
		}
	}
	if (!strcmp(c, "symlink")) {
		if (argc < 4 || symlink(argv[2], argv[3]) < 0)
			return errname(errno);
		return printf("ok\n"), 0;
	}
	if (!strcmp(c, "exit"))
		return atoi(a);
	if (!strcmp(c, "kill")) {
		kill(getpid(), atoi(a));
		pause();
		return 0;
	}
	if (!strcmp(c, "sleep")) {
		sleep((unsigned)atoi(a));
		return 0;
	}
	if (!strcmp(c, "daemon")) {
		pid_t p = fork();
		if (p == 0) {
			setsid();
			if (fork() == 0) {
				setpgid(0, 0);
				sleep((unsigned)atoi(a));
				_exit(0);
			}
			_exit(0);
		}
		return 0;
	}
	if (!strcmp(c, "flood")) {
		unsigned long long left = strtoull(a, NULL, 10);
		int fd = argc > 3 && !strcmp(argv[3], "err") ? 2 : 1;
		static char buf[1 << 16];
		memset(buf, 'y', sizeof(buf));
		while (left > 0) {
			size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
			ssize_t w = write(fd, buf, n);
			if (w <= 0)
				return 1;
			left -= (unsigned long long)w;
		}
		return 0;
	}
	int r = attack(argc, argv);
	if (r >= 0)
		return r;
	fprintf(stderr, "sbx-probe: unknown command %s\n", c);
	return 2;
}
