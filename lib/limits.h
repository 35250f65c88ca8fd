/* A run's size and count limits: set by the config (runtime/), written to
 * the cgroup (cgroups/), so both share this one definition. */
#ifndef SBX_LIMITS_H
#define SBX_LIMITS_H

#include <stdint.h>

/* A size or count that was not set (so an inherited value is kept). */
#define SBX_UNSET UINT64_MAX

/* Size and count limits. 0 means "not set" unless noted. */
struct sbx_limits {
	uint64_t memory;      /* bytes (memory.max) */
	uint64_t memory_swap; /* bytes (memory.swap.max); SBX_UNSET = not set */
	uint64_t memory_high; /* bytes (memory.high) */
	uint64_t pids;        /* pids.max */
	double cpus;          /* CPUs worth of time (cpu.max quota/period) */
	double timeout;       /* wall clock seconds; 0 = none */
	uint64_t output;      /* bytes per output stream */
	uint64_t tmp;         /* size of /tmp and /dev/shm */
};

#endif
