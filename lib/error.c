#include "lib/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int sbx_error_set(struct sbx_error **err, int errno_, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	sbx_error_free(err);
	struct sbx_error *e = calloc(1, sizeof(*e));
	if (e == NULL)
		abort();
	va_list ap;
	va_start(ap, fmt);
	char *m = vformat(fmt, ap);
	va_end(ap);
	if (m == NULL)
		abort();
	if (errno_ != 0) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", m, strerror(errno_)) < 0)
			abort();
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
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	char *full = NULL;
	if (ctx == NULL || asprintf(&full, "%s: %s", ctx, (*err)->msg) < 0)
		abort();
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
