#include "lib/readfile.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/alloc.h"

int sbx_read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = sbx_xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = sbx_xreallocarray(buf, cap, 1);
		}
		/* One byte beyond max tells "exactly max" from "too much". */
		size_t want = cap - n - 1;
		if (want > max + 1 - n)
			want = max + 1 - n;
		ssize_t r = read(fd, buf + n, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
