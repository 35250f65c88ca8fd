/* Descriptors received over the pool's unix sockets (SCM_RIGHTS), one
 * packet at a time; runtime/sync.c: sbx_send_with_fds sends them. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "pool.h"

ssize_t sbx_pool_recv_fds(int sock, void *buf, size_t len, int *fds, size_t *n)
{
	size_t max = *n < SBX_POOL_MAX_FDS ? *n : SBX_POOL_MAX_FDS;
	union {
		char b[CMSG_SPACE(sizeof(int) * SBX_POOL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.b,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * max)};
	*n = 0;
	ssize_t r;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + *n, CMSG_DATA(c), k * sizeof(int));
			*n += k;
		}
	return r;
}
