#include "sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sbx_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(SBX_SCM_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > SBX_SCM_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	return 0;
}

int sbx_msg_send_fds(int sock, const struct sbx_msg *m, const int *fds, size_t n)
{
	if (n > SBX_MSG_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	return sbx_send_with_fds(sock, m, sizeof(*m), fds, n);
}

int sbx_msg_send(int sock, const struct sbx_msg *m, int fd_to_pass)
{
	return sbx_msg_send_fds(sock, m, &fd_to_pass, fd_to_pass >= 0 ? 1 : 0);
}

int sbx_msg_recv_fds(int sock, struct sbx_msg *m, int *fds, size_t max, size_t *n_fds)
{
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	union {
		char buf[CMSG_SPACE(SBX_MSG_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	*n_fds = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n_fds < max)
				fds[(*n_fds)++] = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n != sizeof(*m)) {
		for (size_t i = 0; i < *n_fds; i++)
			close(fds[i]);
		*n_fds = 0;
		errno = EPROTO;
		return -1;
	}
	m->text[sizeof(m->text) - 1] = '\0';
	return 1;
}

int sbx_msg_recv(int sock, struct sbx_msg *m, int *fd_received)
{
	int fd = -1;
	size_t n = 0;
	int r = sbx_msg_recv_fds(sock, m, &fd, fd_received ? 1 : 0, &n);
	if (fd_received)
		*fd_received = n ? fd : -1;
	return r;
}

void sbx_msg_fail(int sock, int type, struct sbx_error *err, int exit_code)
{
	struct sbx_msg m = { .type = (uint32_t)type, .err = err ? err->errno_ : 0 };
	snprintf(m.text, sizeof(m.text), "%s", err && err->msg ? err->msg : "unknown error");
	sbx_msg_send(sock, &m, -1);
	_exit(exit_code);
}
