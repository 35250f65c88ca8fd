/* The OCI lifecycle's only state: one directory per container under --root
 * (/run/sbx, or $XDG_RUNTIME_DIR/sbx rootless), removed by `delete`.
 *
 *   ROOT/.lock          flock: every command that reads or changes a state
 *                       holds it (shared for `state`, exclusive otherwise)
 *   ROOT/ID/state.json  bundle, creation time, the supervisor's and pid 1's
 *                       host pids with their start times (pid reuse check)
 *   ROOT/ID/exec.fifo   exists while the container is "created": pid 1 waits
 *                       to open it for writing; `start` opens it for reading
 *   ROOT/ID/exit        the workload's exit status, written by the supervisor
 *   ROOT/ID/seccomp.yaml  linux.seccomp converted (oci/seccomp.c)
 *
 * Status: "creating" until the supervisor recorded pid 1; "stopped" once
 * the supervisor is gone or wrote `exit`; "created" while exec.fifo exists;
 * else "running". */
#ifndef SBX_OCI_STATE_H
#define SBX_OCI_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

struct sbx_oci_state {
	char *id;
	char *bundle;
	char *created;	    /* RFC 3339, UTC */
	char *annotations;  /* JSON object text */
	pid_t pid;	    /* the supervisor: the container's pid for clients */
	uint64_t pid_start; /* its start time (clock ticks since boot, /proc/PID/stat) */
	pid_t init_pid;	    /* the sandbox's pid 1 on the host */
	uint64_t init_start;
};

enum sbx_oci_status { SBX_OCI_CREATING, SBX_OCI_CREATED, SBX_OCI_RUNNING, SBX_OCI_STOPPED };
extern const char *const sbx_oci_status_names[];

/* Container ids: letters, digits, '_', '+', '-', '.'; not starting with
 * '.'; at most 1024 bytes — a path component that cannot escape ROOT. */
int sbx_oci_check_id(const char *id, struct sbx_error **err);

/* Open (creating it 0700 if needed) the root directory and take its lock.
 * Returns the lock fd, to close when done; *rootfd gets the directory. */
int sbx_oci_lock(const char *root, bool exclusive, int *rootfd, struct sbx_error **err);

int sbx_oci_state_write(int dirfd, const struct sbx_oci_state *s, struct sbx_error **err);
/* ENOENT in (*err)->errno_ when the container does not exist. */
int sbx_oci_state_read(int rootfd, const char *id, struct sbx_oci_state *s, struct sbx_error **err);
void sbx_oci_state_free(struct sbx_oci_state *s);
enum sbx_oci_status sbx_oci_status(int rootfd, const struct sbx_oci_state *s);

/* Start time of a live process, 0 when it does not exist. */
uint64_t sbx_oci_proc_start(pid_t pid);
/* A pidfd of `pid` if it is still the process that started at `start`. */
int sbx_oci_pidfd(pid_t pid, uint64_t start);

/* Remove ROOT/ID and everything in it (only plain files are expected). */
int sbx_oci_state_remove(int rootfd, const char *id, struct sbx_error **err);

#endif
