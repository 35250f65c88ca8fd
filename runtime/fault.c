#include "fault.h"

#ifdef SBX_FAULT_INJECTION
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read once at start-up: pid 1 wipes its environment early in setup, and
 * the points after that must still fire. */
static char want[64];

__attribute__((constructor)) static void read_fault(void)
{
	const char *v = getenv("SBX_FAULT");
	if (v != NULL)
		snprintf(want, sizeof(want), "%s", v);
}

int sbx_fault_hit(const char *point)
{
	if (want[0] == '\0' || strcmp(want, point) != 0)
		return 0;
	if (strncmp(point, "die:", 4) == 0)
		kill(getpid(), SIGKILL);
	return 1;
}
void sbx_fault_hang(const char *point)
{
	char hang[80];
	snprintf(hang, sizeof(hang), "hang:%s", point);
	if (sbx_fault_hit(hang))
		for (;;)
			pause();
}
#else
/* Keeps the translation unit non-empty in production builds. */
typedef int sbx_fault_unused;
#endif
