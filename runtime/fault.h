/* Fault injection, for tests only.  Compiled in only with
 * -DSBX_FAULT_INJECTION (the build/sbx-fault binary); in sbx itself every
 * SBX_FAULT() is the constant 0 and no environment variable is read.
 *
 *   SBX_FAULT=POINT       the step named POINT fails with EIO
 *   SBX_FAULT=die:POINT   the supervisor SIGKILLs itself at POINT
 *   SBX_FAULT=lose:WHAT   a message is lost: lose:go (the supervisor's go),
 *                         lose:out_fd (pid 1's /out descriptor)
 *   SBX_FAULT=hang:POINT  the in-sandbox step POINT never returns
 *   SBX_FAULT=slow:POINT  half a second's pause at POINT (a race's window)
 *   SBX_FAULT_SETUP_DEADLINE_MS=N  the setup deadline (runtime/supervise.h)
 *
 * The points are listed in docs/security.md. */
#ifndef SBX_FAULT_H
#define SBX_FAULT_H

#include <errno.h>
#include <unistd.h>

#include "lib/error.h"

#ifdef SBX_FAULT_INJECTION
int sbx_fault_hit(const char *point);
#define SBX_FAULT(point, err) (sbx_fault_hit(point) ? sbx_error_set(err, EIO, "injected fault at %s", point) : 0)
#define SBX_FAULT_DIE(point) ((void)sbx_fault_hit("die:" point))
#define SBX_FAULT_IF(point) sbx_fault_hit(point)
void sbx_fault_hang(const char *point);
#define SBX_FAULT_HANG(point) sbx_fault_hang(point)
#define SBX_FAULT_SLOW(point) ((void)(sbx_fault_hit("slow:" point) && usleep(500000)))
#else
#define SBX_FAULT(point, err) 0
#define SBX_FAULT_DIE(point) ((void)0)
#define SBX_FAULT_IF(point) 0
#define SBX_FAULT_HANG(point) ((void)0)
#define SBX_FAULT_SLOW(point) ((void)0)
#endif

#endif
