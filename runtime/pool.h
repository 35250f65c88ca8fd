/* The warm pool (issue 14): `sbx pool` keeps N sandboxed Python interpreters
 * ("zygotes") that have imported the preloaded modules, and `sbx run --pool`
 * has one of them fork the job into a sandbox of its own.  See
 * docs/architecture.md ("Warm pool") for the process tree and
 * docs/security.md for what a fork server shares that separate runs do not.
 *
 *   pool_server.c  `sbx pool`: zygotes up, accept clients, drain on SIGTERM
 *   pool_zygote.c  one zygote: an sbx sandbox run by a keeper process
 *   pool_job.c     one job's supervisor, forked by the server per client
 *   pool_binds.c   a job's bind sources as detached mounts (root or rootless)
 *   pool_fds.c     receiving descriptors over the pool's sockets
 *   pool_cgroup.c  rootless on v2: the pool's processes in a leaf of its cgroup
 *   pool_client.c  `sbx run --pool`: hands its stdio and options over
 *   pool/zygote.py the zygote itself (runs inside the sandbox) */
#ifndef SBX_POOL_H
#define SBX_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "lib/error.h"

#define SBX_POOL_MAX_SIZE 64
#define SBX_POOL_MAGIC "SBXPOOL1"
/* Descriptors in one request to a zygote: the job's channel, stdin, two
 * output pipes, its cgroup join fds, its binds (the kernel takes 253). */
#define SBX_POOL_MAX_FDS 250
#define SBX_POOL_MAX_BINDS (SBX_POOL_MAX_FDS - 4 - 8)

/* Client <-> job supervisor, over the pool's SOCK_SEQPACKET socket.
 * Request: SBX_POOL_MAGIC, then the `sbx run` options and command as
 * NUL-terminated strings; SCM_RIGHTS: the client's stdin, stdout, stderr
 * and an O_PATH fd of its working directory.  Replies below. */
enum sbx_pool_reply {
	SBX_POOL_ACCEPTED = 1, /* SCM_RIGHTS: pidfd of the job supervisor (to forward signals to) */
	SBX_POOL_RESULT,       /* exit_code; SCM_RIGHTS: memfd holding "error\0report-json" */
};
struct sbx_pool_reply_msg {
	uint32_t type;
	int32_t exit_code;
};

/* One zygote, as the server sees it. */
struct sbx_zygote {
	int index;
	pid_t keeper;  /* runs sbx_run() for the zygote's sandbox */
	int pidfd;     /* of the keeper */
	int ctl;       /* our end of the zygote's fd 0 */
	bool ready;    /* said "ready" after its preload */
	uint64_t jobs; /* jobs forked so far */
	uint64_t started_ns;
	char python[256]; /* its sys.executable, from the ready line */
};

struct sbx_pool {
	const char *socket_path;
	unsigned size;
	unsigned recycle;    /* jobs after which a zygote is replaced, 0 = never */
	const char *preload; /* "pandas,numpy" or NULL */
	const char *preload_path; /* a directory the preload may import from, or NULL */
	char **defaults;     /* `sbx run` options every job starts from */
	size_t n_defaults;
	char **mount_points; /* targets the zygotes' root must offer */
	size_t n_mount_points;
	struct sbx_config base; /* defaults parsed: what the zygotes run with */
	/* pool_cgroup.c: rootless on v2, the cgroup the pool was started in
	 * and the leaf it moved into ("" = none), X's controllers before. */
	char cg_dir[2100], cg_leaf[2200];
	char *cg_subtree_before;
	struct sbx_zygote zygotes[SBX_POOL_MAX_SIZE];
};

/* `sbx pool ...` (argv[0] = "pool") and `sbx run --pool PATH ...`
 * (argv[0] = "run", --pool among the options): the exit status. */
int sbx_pool_main(int argc, char **argv);
int sbx_pool_client_main(int argc, char **argv);
bool sbx_pool_requested(int argc, char **argv);

/* pool_fds.c: one packet with descriptors (SCM_RIGHTS, at most
 * SBX_POOL_MAX_FDS; runtime/sync.h: sbx_send_with_fds sends them); takes at
 * most *n and says in *n how many came. */
ssize_t sbx_pool_recv_fds(int sock, void *buf, size_t len, int *fds, size_t *n);

/* pool_binds.c: each of c's bind sources as a detached mount (fds[i]),
 * made with the caller's access to the paths, as root or rootless. */
int sbx_pool_bind_sources(const struct sbx_config *c, int *fds, struct sbx_error **err);

/* pool_cgroup.c: rootless on cgroup v2 without --cgroup-parent, a pool
 * started alone in its cgroup moves into a leaf beneath it and makes it
 * every job's and zygote's --cgroup-parent (p->defaults has room for two
 * more); restore undoes it at the end. */
int sbx_pool_cgroup_setup(struct sbx_pool *p, struct sbx_error **err);
void sbx_pool_cgroup_restore(struct sbx_pool *p);

/* pool_zygote.c */
int sbx_zygote_start(const struct sbx_pool *p, struct sbx_zygote *z, struct sbx_error **err);
/* Read the zygote's "ready" line (the ctl fd is readable); < 0 if it died. */
int sbx_zygote_read_ready(struct sbx_zygote *z, struct sbx_error **err);
/* A job's config: the pool's defaults (relative paths taken from the
 * pool's directory), then `extra` (relative to client_cwd when >= 0), then
 * the image's defaults. */
int sbx_pool_parse(const struct sbx_pool *p, char **extra, size_t n_extra, int client_cwd,
		   struct sbx_config *c, struct sbx_error **err);

/* pool_job.c: serve one client on `conn` with zygote `z`; the exit status
 * of the job supervisor process. */
int sbx_pool_job(const struct sbx_pool *p, const struct sbx_zygote *z, int conn, double wait_ms);

#endif
