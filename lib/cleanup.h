/* Cleanup attributes make early returns safe: a variable marked
 * cleanup_free/cleanup_close is released when it goes out of scope. */
#ifndef SBX_CLEANUP_H
#define SBX_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void sbx_freep(void *p) { free(*(void **)p); }
static inline void sbx_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void sbx_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define cleanup_free __attribute__((cleanup(sbx_freep)))
#define cleanup_close __attribute__((cleanup(sbx_closep)))
#define cleanup_fclose __attribute__((cleanup(sbx_fclosep)))

/* Hand ownership out of a cleanup variable. */
static inline int sbx_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

#endif
