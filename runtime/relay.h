#ifndef SBX_RELAY_H
#define SBX_RELAY_H

#include <stdbool.h>
#include <stdint.h>

/* One output stream of the workload: read from a pipe, streamed to the
 * destination up to `limit` bytes; the rest is read (so the workload never
 * blocks on a full pipe) and dropped, but counted. */
struct sbx_relay {
	int src;      /* read end of the pipe, -1 once at end-of-file */
	int dst;      /* caller's stdout/stderr or a file */
	bool own_dst; /* dst was opened by us (--stdout FILE) */
	uint64_t limit, total, delivered;
	bool truncated;
	bool dst_broken; /* destination gone (EPIPE): keep counting, stop writing */
};

void sbx_relay_init(struct sbx_relay *r, int src, int dst, bool own_dst, uint64_t limit);
/* Move what is available now; returns 0 while the pipe is open, 1 at EOF. */
int sbx_relay_pump(struct sbx_relay *r);
void sbx_relay_close(struct sbx_relay *r);

#endif
