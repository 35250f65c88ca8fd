/* One allocation policy for all of sbx: an allocation that fails aborts
 * with a message on stderr.  sbx's allocations are small and bounded (an
 * image or a workload cannot make the supervisor allocate without limit),
 * so running out means the host is out of memory; a clean error path for
 * every strdup would be code that never runs, and a NULL that slips through
 * would be worse than stopping. */
#ifndef SBX_ALLOC_H
#define SBX_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Print "sbx: out of memory (WHAT)" and abort. */
__attribute__((noreturn)) void sbx_oom(const char *what);

/* Return p, or abort with sbx_oom(what) when it is NULL. */
static inline void *sbx_check_alloc(void *p, const char *what)
{
	if (p == NULL)
		sbx_oom(what);
	return p;
}

void *sbx_xmalloc(size_t size);
void *sbx_xcalloc(size_t n, size_t size);
/* reallocarray: n * size overflowing aborts as well. */
void *sbx_xreallocarray(void *p, size_t n, size_t size);
char *sbx_xstrdup(const char *s);
char *sbx_xstrndup(const char *s, size_t n);
char *sbx_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sbx_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
