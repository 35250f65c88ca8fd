#include "fault.h"

#ifdef SBX_FAULT_INJECTION
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sbx_fault_hit(const char *point)
{
	const char *want = getenv("SBX_FAULT");
	if (want == NULL || strcmp(want, point) != 0)
		return 0;
	if (strncmp(point, "die:", 4) == 0)
		kill(getpid(), SIGKILL);
	return 1;
}
#else
/* Keeps the translation unit non-empty in production builds. */
typedef int sbx_fault_unused;
#endif
