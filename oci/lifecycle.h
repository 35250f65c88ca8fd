/* The OCI operations, with runc's meaning and exit statuses (0, or 1 with
 * the error logged).  Who does what:
 *
 *   `create` forks the supervisor (the same one `sbx run` is) and waits until
 *   the sandbox's pid 1 has built the sandbox and stopped at the start gate
 *   (oci/state.h: exec.fifo), writes the supervisor's pid to --pid-file and
 *   exits.  The supervisor stays, re-parented to the client's subreaper
 *   (containerd's shim, conmon) or to init: it is "the container's pid" for
 *   clients, reaps pid 1, relays output, removes the cgroup at the end, writes
 *   ROOT/ID/exit and exits with the workload's status (128+N for signal N),
 *   which is what the client's waitpid() reads.
 *   `start` opens exec.fifo for reading: pid 1 goes on and forks the workload.
 *   `kill` signals pid 1 (by pidfd, start time checked), which passes the
 *   signal on to the workload; SIGKILL ends the whole sandbox.
 *   `delete` removes a stopped container's state; a created one (or a running
 *   one with --force) is killed first, and delete waits for its supervisor,
 *   so that nothing (processes, cgroup, state) is left when it returns. */
#ifndef SBX_OCI_LIFECYCLE_H
#define SBX_OCI_LIFECYCLE_H

#include <stdbool.h>

#include "lib/error.h"

struct sbx_oci_global {
	const char *root; /* state directory */
	const char *log;  /* NULL = stderr */
	bool log_json;
	bool debug;
};

struct sbx_oci_create_opts {
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	bool no_pivot, no_new_keyring;
};

int sbx_oci_create(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_create_opts *o,
		   struct sbx_error **err);
int sbx_oci_start(const struct sbx_oci_global *g, const char *id, struct sbx_error **err);
/* `run`: create, start, wait; returns the container's exit status and
 * deletes it (unless `keep`). */
int sbx_oci_run(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_create_opts *o,
		bool keep, struct sbx_error **err);
int sbx_oci_state_print(const struct sbx_oci_global *g, const char *id, struct sbx_error **err);
int sbx_oci_kill(const struct sbx_oci_global *g, const char *id, int sig, bool all, struct sbx_error **err);
int sbx_oci_delete(const struct sbx_oci_global *g, const char *id, bool force, struct sbx_error **err);

/* Signal by name ("TERM", "SIGTERM") or number. */
int sbx_oci_parse_signal(const char *s, int *sig, struct sbx_error **err);

/* A line in the --log file (or on stderr), in --log-format. */
void sbx_oci_log(const struct sbx_oci_global *g, const char *level, const char *msg);

#endif
