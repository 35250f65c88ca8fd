#include "net.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

int sbx_net_loopback_up(struct sbx_error **err)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *lo = NULL, *change = NULL;
	int r = -1, e;
	if (sk == NULL)
		return sbx_error_set(err, ENOMEM, "allocating a netlink socket");
	if ((e = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		sbx_error_set(err, 0, "connecting to rtnetlink: %s", nl_geterror(e));
		goto out;
	}
	/* A new network namespace always numbers its loopback 1: naming it
	 * saves asking the kernel for it first. */
	lo = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (lo == NULL || change == NULL) {
		sbx_error_set(err, ENOMEM, "allocating a link change");
		goto out;
	}
	rtnl_link_set_ifindex(lo, 1);
	rtnl_link_set_name(lo, "lo");
	rtnl_link_set_flags(change, IFF_UP);
	if ((e = rtnl_link_change(sk, lo, change, 0)) < 0) {
		sbx_error_set(err, 0, "setting lo up: %s", nl_geterror(e));
		goto out;
	}
	r = 0;
out:
	rtnl_link_put(change);
	rtnl_link_put(lo);
	nl_socket_free(sk);
	return r;
}
