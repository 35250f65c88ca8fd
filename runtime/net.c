#include "net.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One RTM_NEWLINK request with an acknowledgement, on a raw rtnetlink
 * socket: one send and one receive.  (libnl sent the same change as two
 * requests and read six replies, and pulled getaddrinfo into a static
 * sbx.)  A new network namespace always numbers its loopback 1, so no
 * lookup by name is needed. */
int sbx_net_loopback_up(struct sbx_error **err)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_NEWLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 1, .ifi_flags = IFF_UP, .ifi_change = IFF_UP },
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return sbx_error_set(err, errno, "opening an rtnetlink socket");
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) != (ssize_t)sizeof(req)) {
		int e = errno;
		close(fd);
		return sbx_error_set(err, e, "setting lo up: sending the request");
	}
	/* The answer is one NLMSG_ERROR: error 0 is the acknowledgement. */
	union {
		struct nlmsghdr nh;
		char buf[512];
	} ans;
	ssize_t n = recv(fd, &ans, sizeof(ans), 0);
	int e = errno;
	close(fd);
	if (n < 0)
		return sbx_error_set(err, e, "setting lo up: reading the answer");
	if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ans.nh.nlmsg_type != NLMSG_ERROR ||
	    ans.nh.nlmsg_seq != 1)
		return sbx_error_set(err, EPROTO, "setting lo up: unexpected answer (type %u, %zd bytes)",
				     ans.nh.nlmsg_type, n);
	const struct nlmsgerr *ne = NLMSG_DATA(&ans.nh);
	if (ne->error != 0)
		return sbx_error_set(err, -ne->error, "setting lo up");
	return 0;
}
