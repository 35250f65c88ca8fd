#ifndef SBX_INIT_H
#define SBX_INIT_H

#include <sys/types.h>

/* pid 1's loop: with every signal blocked, forward the forwardable ones to
 * `workload`, reap every child (orphans are re-parented to pid 1), and
 * return the workload's wait status once it has exited. */
int sbx_init_reap(pid_t workload);

#endif
