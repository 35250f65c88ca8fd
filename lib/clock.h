#ifndef SBX_CLOCK_H
#define SBX_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic nanoseconds; comparable between the supervisor and the
 * sandbox (no time namespace is used). */
static inline uint64_t sbx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t sbx_now_ms(void)
{
	return sbx_now_ns() / 1000000ull;
}

/* Seconds, for progress messages. */
static inline double sbx_now_s(void)
{
	return (double)sbx_now_ns() / 1e9;
}

#endif
