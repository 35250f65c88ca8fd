#include "relay.h"

#include <errno.h>
#include <unistd.h>

void sbx_relay_init(struct sbx_relay *r, int src, int dst, bool own_dst, uint64_t limit)
{
	*r = (struct sbx_relay){ .src = src, .dst = dst, .own_dst = own_dst, .limit = limit };
}

static void deliver(struct sbx_relay *r, const char *buf, size_t n)
{
	while (n > 0 && !r->dst_broken) {
		ssize_t w = write(r->dst, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->dst_broken = true;
			return;
		}
		buf += w;
		n -= (size_t)w;
		r->delivered += (uint64_t)w;
	}
}

int sbx_relay_pump(struct sbx_relay *r)
{
	char buf[65536];
	if (r->src < 0)
		return 1;
	/* One read per call: the caller polls again, so a flooding stream
	 * cannot starve the timer, signals or the other stream. */
	ssize_t n = read(r->src, buf, sizeof(buf));
	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 0 : (sbx_relay_close(r), 1);
	if (n == 0) {
		close(r->src);
		r->src = -1;
		return 1;
	}
	uint64_t room = r->total < r->limit ? r->limit - r->total : 0;
	size_t keep = (uint64_t)n < room ? (size_t)n : (size_t)room;
	r->total += (uint64_t)n;
	if (keep < (size_t)n)
		r->truncated = true;
	deliver(r, buf, keep);
	return 0;
}

void sbx_relay_close(struct sbx_relay *r)
{
	if (r->src >= 0)
		close(r->src);
	r->src = -1;
	if (r->own_dst && r->dst >= 0)
		close(r->dst);
	r->dst = -1;
}
