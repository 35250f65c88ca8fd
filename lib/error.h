/* Error chains: every fallible function takes `struct sbx_error **err`, fills
 * it on failure and returns a negative value.  Callers add what they were
 * doing with sbx_error_wrap(), so the user reads the whole chain:
 *   "setting up /out: mount tmpfs size=64M: Permission denied"            */
#ifndef SBX_ERROR_H
#define SBX_ERROR_H

#include <stdarg.h>

struct sbx_error {
	int errno_;   /* errno of the innermost failure, 0 if none */
	char *msg;    /* full chain, outermost context first */
};

/* Set *err from a failed call; appends strerror(errno_) when errno_ != 0.
 * Always returns -1 so callers can `return sbx_error_set(...)`. */
int sbx_error_set(struct sbx_error **err, int errno_, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the message of *err with context ("ctx: old"). Returns -1. */
int sbx_error_wrap(struct sbx_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sbx_error_free(struct sbx_error **err);
/* Move *src into *dst (dst must be empty); used to hand errors across layers. */
void sbx_error_move(struct sbx_error **dst, struct sbx_error **src);

static inline void sbx_error_cleanup(struct sbx_error **err) { sbx_error_free(err); }
#define cleanup_error __attribute__((cleanup(sbx_error_cleanup)))

#endif
