#include "names.h"

#include <errno.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>

/* memfd_create(2) flags newer than Debian 12's headers. */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct constant {
	const char *name;
	uint64_t value;
};

#define C(x) { #x, (uint64_t)(x) }
/* Only what profiles plausibly compare with; numbers work for the rest. */
static const struct constant constants[] = {
	/* socket(2) families and netlink protocols */
	C(AF_UNSPEC), C(AF_UNIX), C(AF_LOCAL), C(AF_INET), C(AF_INET6), C(AF_NETLINK),
	C(AF_PACKET), C(AF_KEY), C(AF_ALG), C(AF_VSOCK), C(AF_BLUETOOTH), C(AF_CAN),
	C(AF_TIPC), C(AF_XDP), C(AF_RDS), C(AF_X25), C(AF_AX25), C(AF_APPLETALK),
	C(AF_IPX), C(AF_DECnet), C(AF_LLC), C(AF_IUCV), C(AF_RXRPC), C(AF_ISDN),
	C(AF_PHONET), C(AF_IEEE802154), C(AF_CAIF), C(AF_NFC), C(AF_KCM), C(AF_QIPCRTR),
	C(AF_SMC), C(AF_MCTP),
	C(NETLINK_ROUTE), C(NETLINK_AUDIT), C(NETLINK_KOBJECT_UEVENT), C(NETLINK_SOCK_DIAG),
	C(NETLINK_NETFILTER), C(NETLINK_XFRM), C(NETLINK_GENERIC),
	C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_RAW), C(SOCK_SEQPACKET), C(SOCK_NONBLOCK),
	C(SOCK_CLOEXEC),
	/* memfd_create(2) flags */
	C(MFD_CLOEXEC), C(MFD_ALLOW_SEALING), C(MFD_HUGETLB), C(MFD_NOEXEC_SEAL), C(MFD_EXEC),
	/* clone/unshare/setns flags */
	C(CLONE_NEWNS), C(CLONE_NEWCGROUP), C(CLONE_NEWUTS), C(CLONE_NEWIPC), C(CLONE_NEWUSER),
	C(CLONE_NEWPID), C(CLONE_NEWNET), C(CLONE_NEWTIME), C(CLONE_VM), C(CLONE_FS),
	C(CLONE_FILES), C(CLONE_SIGHAND), C(CLONE_THREAD), C(CLONE_SYSVSEM), C(CLONE_VFORK),
	C(CLONE_PARENT), C(CLONE_PTRACE), C(CLONE_UNTRACED), C(CLONE_SETTLS),
	/* terminal and generic ioctls */
	C(TCGETS), C(TCSETS), C(TCSETSW), C(TCSETSF), C(TCGETA), C(TCSETA), C(TCSETAW),
	C(TCSETAF), C(TCSBRK), C(TCXONC), C(TCFLSH), C(TIOCEXCL), C(TIOCNXCL), C(TIOCSCTTY),
	C(TIOCGPGRP), C(TIOCSPGRP), C(TIOCOUTQ), C(TIOCSTI), C(TIOCGWINSZ), C(TIOCSWINSZ),
	C(TIOCMGET), C(TIOCGSID), C(TIOCLINUX), C(TIOCCONS), C(TIOCNOTTY), C(TIOCSETD),
	C(TIOCGETD), C(TIOCGPTN), C(TIOCSPTLCK), C(TIOCGPTPEER), C(TIOCSIG), C(TIOCVHANGUP),
	C(FIONREAD), C(FIONBIO), C(FIOCLEX), C(FIONCLEX), C(FIOASYNC), C(FIOQSIZE),
	C(FIGETBSZ), C(FIBMAP), C(FICLONE), C(FICLONERANGE), C(FIDEDUPERANGE),
	C(FS_IOC_GETFLAGS), C(FS_IOC_SETFLAGS), C(FS_IOC_GETVERSION), C(FS_IOC_FSGETXATTR),
	C(SIOCGIFNAME), C(SIOCGIFCONF), C(SIOCGIFFLAGS), C(SIOCGIFADDR), C(SIOCGIFINDEX),
	C(SIOCGIFMTU), C(SIOCGIFHWADDR), C(SIOCGIFNETMASK), C(SIOCGIFBRDADDR),
	C(SIOCGIFDSTADDR), C(SIOCGIFTXQLEN), C(SIOCATMARK), C(SIOCGSTAMP), C(SIOCGSTAMPNS),
	/* personality(2) */
	C(PER_LINUX), C(PER_LINUX32), C(PER_LINUX_32BIT), C(UNAME26), C(ADDR_NO_RANDOMIZE),
	C(READ_IMPLIES_EXEC), C(ADDR_LIMIT_32BIT), C(ADDR_LIMIT_3GB), C(MMAP_PAGE_ZERO),
	C(SHORT_INODE), C(WHOLE_SECONDS), C(STICKY_TIMEOUTS), C(FDPIC_FUNCPTRS),
	{ "PER_QUERY", 0xffffffffu },
};
#undef C

int sbx_seccomp_errno_parse(const char *s, int *out)
{
	char *end;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		unsigned long v = strtoul(s, &end, 0);
		/* The kernel caps SECCOMP_RET_ERRNO data at MAX_ERRNO. */
		if (errno || *end || v > 4095)
			return -1;
		*out = (int)v;
		return 0;
	}
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && strcmp(n, s) == 0) {
			*out = e;
			return 0;
		}
	}
	return -1;
}

static int one_value(const char *s, size_t len, uint64_t *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] >= '0' && buf[0] <= '9') {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(buf, &end, 0);
		if (errno || *end)
			return -1;
		*out = v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
		if (strcmp(constants[i].name, buf) == 0) {
			*out = constants[i].value;
			return 0;
		}
	}
	return -1;
}

int sbx_seccomp_value_parse(const char *s, uint64_t *out, const char **bad)
{
	uint64_t v = 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, "| ");
		uint64_t one;
		if (one_value(p, len, &one) < 0) {
			*bad = p;
			return -1;
		}
		v |= one;
		p += len;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != '|') {
			*bad = p;
			return -1;
		}
		p++;
	}
	*out = v;
	return 0;
}
