/* Descriptors over the pool's unix sockets (SCM_RIGHTS), one packet each. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "pool.h"

int sbx_pool_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	union {
		char b[CMSG_SPACE(sizeof(int) * SBX_POOL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n > SBX_POOL_MAX_FDS) {
		errno = E2BIG;
		return -1;
	}
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

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
