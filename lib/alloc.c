#include "lib/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sbx_oom(const char *what)
{
	/* No stdio buffering: the heap is what just failed. */
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "sbx: out of memory (%s)\n", what);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	abort();
}

void *sbx_xmalloc(size_t size)
{
	return sbx_check_alloc(malloc(size ? size : 1), "malloc");
}

void *sbx_xcalloc(size_t n, size_t size)
{
	return sbx_check_alloc(calloc(n ? n : 1, size ? size : 1), "calloc");
}

void *sbx_xreallocarray(void *p, size_t n, size_t size)
{
	return sbx_check_alloc(reallocarray(p, n ? n : 1, size ? size : 1), "reallocarray");
}

char *sbx_xstrdup(const char *s)
{
	return sbx_check_alloc(strdup(s), "strdup");
}

char *sbx_xstrndup(const char *s, size_t n)
{
	return sbx_check_alloc(strndup(s, n), "strndup");
}

char *sbx_xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		sbx_oom("vasprintf");
	return s;
}

char *sbx_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = sbx_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
