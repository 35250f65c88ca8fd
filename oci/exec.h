/* `sbx exec`: another process in a running container.
 *
 * A helper forked by `sbx exec` joins the sandbox's cgroups, then its user
 * namespace (which owns the others and gives the capabilities to enter
 * them), mount, uts, ipc, network, cgroup and pid namespaces — the same
 * ones pid 1 has — and forks the process, which is pid N of the sandbox's
 * pid namespace.  That process is confined as the workload is: a new
 * session, the configured ids, supplementary groups dropped, every
 * capability gone (bounding set included, securebits locked),
 * no_new_privs, every inherited descriptor but stdio closed, and the
 * container's seccomp filter loaded last.  The helper waits for it and exits
 * with its status (128+N for signal N); with --detach it is what --pid-file
 * names and `sbx exec` returns at once. */
#ifndef SBX_OCI_EXEC_H
#define SBX_OCI_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lifecycle.h"
#include "runtime/config.h"
#include "spec.h"

struct sbx_seccomp;

struct sbx_oci_exec_opts {
	const char *process; /* --process FILE: an OCI "process" object */
	const char *cwd;
	const char *user; /* UID[:GID] */
	char **env;	  /* KEY=VALUE added to the container's */
	size_t n_env;
	char **argv; /* the command, if no --process */
	const char *pid_file;
	bool detach;
	bool tty;		    /* --tty: a terminal, as process.terminal in --process */
	const char *console_socket; /* where its master goes (runc's rule: with a terminal only) */
};

/* One process to start inside a running container (exec, and the hooks
 * that run in the container: hooks.c). */
struct sbx_oci_proc {
	const struct sbx_config *c;	  /* uid, gid, rootless */
	const struct sbx_oci_spec *s;	  /* rlimits, umask */
	const struct sbx_seccomp *filter; /* loaded last; NULL = none */
	char *const *argv;
	char *const *env; /* exactly the environment; NULL = empty */
	const char *cwd;
	const char *path; /* execve'd as is (no PATH search); NULL: argv[0] along env's PATH */
	int exec_fd;	  /* >= 0: this file, opened outside, is run (execveat), not a path */
	int stdin_fd;	  /* >= 0: the process's stdin; else the caller's */
	int console_sock; /* >= 0: a pty of the container's devpts is the process's terminal and
			     stdio, its master sent over this connected socket; else none */
};

/* Fork the helper that joins pid 1's cgroups and namespaces (pid 1 checked
 * by its start time) and forks `p` inside, confined as above; the helper
 * exits with the process's status (125: it could not be started).  Without
 * `detached` the helper dies with its parent.  Returns the helper's pid. */
pid_t sbx_oci_enter(pid_t init_pid, uint64_t init_start, const struct sbx_oci_proc *p, bool detached,
		    struct sbx_error **err);

/* The container's own seccomp filter (ROOT/ID/seccomp.yaml, the converted
 * linux.seccomp); *filter NULL when the spec gave none. */
int sbx_oci_container_filter(const char *root, const char *id, struct sbx_seccomp **filter,
			     struct sbx_error **err);

/* Returns the process's exit status, 0 when detached, or -1 with *err. */
int sbx_oci_exec(const struct sbx_oci_global *g, const char *id, const struct sbx_oci_exec_opts *o,
		 struct sbx_error **err);

#endif
