/* The supervisor's side of user notification: answer each denied call with
 * the errno the profile gives it, and count it by name.
 *
 * Why this cannot hang (docs/seccomp.md has the long form):
 * - we only call NOTIF_RECV after poll() said a notification is queued, so
 *   it does not block; if the task died in between, RECV fails with ENOENT;
 * - NOTIF_SEND never blocks; ENOENT means the task is gone or was
 *   interrupted, and the call will be notified again if it restarts;
 * - if sbx dies, the listener closes and the kernel fails every pending and
 *   future notified call with ENOSYS; a workload killed by the timeout
 *   leaves its wait at once (the wait is killable). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/clock.h"

#include "bpf.h"
#include "filter.h"

/* Answer at most this many per call, so that a workload flooding denied
 * calls cannot keep the supervisor from its timer and output pipes. */
#define MAX_PER_CALL 256
/* A workload must not make the supervisor, which runs outside the
 * sandbox's cgroup, spend its memory or CPU for it:
 * - at most MAX_DISTINCT syscalls are listed by name; the rest are counted
 *   together as "other" (a flood of distinct numbers would otherwise grow
 *   the list, and the report, without bound);
 * - at most MAX_PER_WINDOW answers per WINDOW_NS; past that the supervisor
 *   stops reading the listener until the window ends.  A denied call waits
 *   for its answer, so this slows the flooding workload, not sbx. */
#define MAX_DISTINCT 64
#define WINDOW_NS 100000000ull
#define MAX_PER_WINDOW 1000

uint64_t sbx_seccomp_resume_ns(const struct sbx_seccomp *f)
{
	if (f == NULL || f->window_answers < MAX_PER_WINDOW)
		return 0;
	return f->window_start_ns + WINDOW_NS;
}

static void count(struct sbx_seccomp *f, uint32_t arch, int nr)
{
	for (size_t i = 0; i < f->n_denials; i++) {
		if (f->keys[i].arch == arch && f->keys[i].nr == nr) {
			f->counts[i]++;
			return;
		}
	}
	if (f->n_denials == MAX_DISTINCT) {
		/* The last slot becomes "other" and takes every newcomer. */
		size_t last = f->n_denials - 1;
		if (f->keys[last].nr != -1) {
			free(f->names[last]);
			f->names[last] = sbx_xstrdup("other");
			f->keys[last] = (struct sbx_seccomp_denial){ .arch = 0, .nr = -1 };
		}
		f->counts[last]++;
		return;
	}
	size_t n = f->n_denials + 1;
	f->keys = sbx_xreallocarray(f->keys, n, sizeof(*f->keys));
	f->names = sbx_xreallocarray(f->names, n, sizeof(*f->names));
	f->counts = sbx_xreallocarray(f->counts, n, sizeof(*f->counts));
	char name[96];
	sbx_seccomp_name(arch, nr, name, sizeof(name));
	f->keys[n - 1] = (struct sbx_seccomp_denial){ .arch = arch, .nr = nr };
	f->names[n - 1] = sbx_xstrdup(name);
	f->counts[n - 1] = 1;
	f->n_denials = n;
}

int sbx_seccomp_handle(struct sbx_seccomp *f, int listener_fd, struct sbx_error **err)
{
	int answered = 0;
	uint64_t now = sbx_now_ns();
	if (now - f->window_start_ns >= WINDOW_NS) {
		f->window_start_ns = now;
		f->window_answers = 0;
	}
	for (int i = 0; i < MAX_PER_CALL && f->window_answers < MAX_PER_WINDOW; i++) {
		struct pollfd p = { .fd = listener_fd, .events = POLLIN };
		int r = poll(&p, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_error_set(err, errno, "poll on the seccomp listener");
		if (r == 0 || !(p.revents & POLLIN))
			break; /* nothing queued, or POLLHUP: every filtered task exited */
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req)); /* the kernel insists on a zeroed buffer */
		if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == ENOENT || errno == EINTR)
				continue;
			return sbx_error_set(err, errno, "receiving a seccomp notification");
		}
		uint32_t ret = sbx_bpf_run(f->plain, f->len, &req.data);
		struct seccomp_notif_resp resp = { .id = req.id };
		if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
			uint32_t e = ret & SECCOMP_RET_DATA;
			resp.error = -(int32_t)(e > 4095 ? 4095 : e);
		} else {
			/* Cannot happen: the kernel program notifies exactly
			 * where the plain one returns an errno. */
			resp.error = -EPERM;
		}
		if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
			if (errno == ENOENT)
				continue;
			return sbx_error_set(err, errno, "answering a seccomp notification");
		}
		count(f, req.data.arch, req.data.nr);
		answered++;
		f->window_answers++;
	}
	return answered;
}
