/* floor: the least a sandbox start like sbx's costs on this machine.
 *
 *   floor ROOTFS BPF_FILE -- ARGV...
 *
 * The same kernel work as `sbx run` with every layer but the cgroup, and
 * nothing else: clone3 into new user, pid, net, mount, uts, ipc and cgroup
 * namespaces; id maps (as root 0-65535 onto 1000000000+, rootless the
 * caller only); a go over a pipe; pid 1 binds ROOTFS, mounts a fresh /proc,
 * a tmpfs /dev with null, zero, full, random, urandom and tty bound in, a
 * tmpfs /tmp and /dev/shm, pivot_root, detaches the old root, remounts /
 * read-only, sets the hostname, brings lo up (one rtnetlink request); the
 * workload gets setsid, an empty bounding set and capability sets,
 * no_new_privs and the seccomp program in BPF_FILE (`sbx seccomp export
 * default --bpf`), loaded last, then execve.  No error context, no report,
 * no supervision, no cgroup, no listener: the prototype that docs/
 * benchmarks.md compares sbx with (bench/levers.py --floor).  Not part of
 * sbx; built by bench/levers.py into its work directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIE(what) (perror(what), _exit(125))

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		DIE(path);
	close(fd);
}

static void lo_up(void)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = { .nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_NEWLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK },
		  .ifi = { .ifi_index = 1, .ifi_flags = IFF_UP, .ifi_change = IFF_UP } };
	char ans[512];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || send(fd, &req, sizeof(req), 0) < 0 || recv(fd, ans, sizeof(ans), 0) < 0)
		DIE("lo up");
	close(fd);
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		DIE(dst);
}

static void filesystem(const char *rootfs)
{
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty" };
	char p[4096];
	mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	mnt(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
	if (chdir(rootfs) < 0)
		DIE(rootfs);
	mnt("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mnt("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755");
	for (size_t i = 0; i < sizeof(devs) / sizeof(*devs); i++) {
		snprintf(p, sizeof(p), "dev/%s", devs[i]);
		close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
		snprintf(p, sizeof(p), "/dev/%s", devs[i]);
		char t[64];
		snprintf(t, sizeof(t), "dev/%s", devs[i]);
		mnt(p, t, NULL, MS_BIND, NULL);
	}
	mkdir("dev/shm", 01777);
	mnt("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m");
	mnt("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m");
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
		DIE("pivot_root");
	mnt(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

static void workload(struct sock_fprog *filter, char **argv)
{
	setsid();
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		DIE("caps");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, filter) < 0)
		DIE("seccomp");
	execve(argv[0], argv, (char *[]){ "PATH=/usr/bin:/bin", NULL });
	DIE(argv[0]);
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: floor ROOTFS BPF_FILE -- ARGV...\n");
		return 2;
	}
	static struct sock_filter prog[4096];
	int bpf = open(argv[2], O_RDONLY | O_CLOEXEC);
	ssize_t len = bpf < 0 ? -1 : read(bpf, prog, sizeof(prog));
	if (len <= 0)
		DIE(argv[2]);
	struct sock_fprog filter = { .len = (unsigned short)(len / sizeof(*prog)), .filter = prog };
	uid_t uid = getuid();
	gid_t gid = getgid();
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		DIE("pipe");
	struct clone_args ca = { .flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS |
					  CLONE_NEWIPC | CLONE_NEWCGROUP,
				 .exit_signal = SIGCHLD };
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0)
		DIE("clone3");
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(125);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			DIE("setresuid");
		filesystem(argv[1]);
		if (sethostname("sbx", 3) < 0)
			DIE("sethostname");
		lo_up();
		pid_t w = fork();
		if (w == 0)
			workload(&filter, argv + 4);
		int st;
		if (w < 0 || waitpid(w, &st, 0) < 0)
			DIE("workload");
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	snprintf(map, sizeof(map), uid == 0 ? "0 1000000000 65536" : "0 %u 1", (unsigned)uid);
	put(path, map);
	if (uid != 0) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
		put(path, "deny");
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	snprintf(map, sizeof(map), uid == 0 ? "0 1000000000 65536" : "0 %u 1", (unsigned)gid);
	put(path, map);
	if (write(go[1], "g", 1) != 1)
		DIE("go");
	int st;
	if (waitpid(pid, &st, 0) < 0)
		DIE("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 125;
}
