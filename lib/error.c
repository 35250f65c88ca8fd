#include "lib/error.h"
#include "lib/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sbx_error_set(struct sbx_error **err, int errno_, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	sbx_error_free(err);
	struct sbx_error *e = sbx_xcalloc(1, sizeof(*e));
	va_list ap;
	va_start(ap, fmt);
	char *m = sbx_xvasprintf(fmt, ap);
	va_end(ap);
	if (errno_ != 0) {
		char *full = NULL;
		full = sbx_xasprintf("%s: %s", m, strerror(errno_));
		free(m);
		m = full;
	}
	e->errno_ = errno_;
	e->msg = m;
	*err = e;
	return -1;
}

int sbx_error_wrap(struct sbx_error **err, const char *fmt, ...)
{
	if (err == NULL || *err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = sbx_xvasprintf(fmt, ap);
	va_end(ap);
	char *full = sbx_xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = full;
	return -1;
}

void sbx_error_free(struct sbx_error **err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

void sbx_error_move(struct sbx_error **dst, struct sbx_error **src)
{
	sbx_error_free(dst);
	*dst = *src;
	*src = NULL;
}
