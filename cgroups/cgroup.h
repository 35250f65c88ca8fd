/* The sandbox's cgroup: find where it may go, create it with the run's
 * limits, start the child in it, read what the run used, kill, remove.
 *
 * cgroup v2 is the primary target.  Hybrid hosts (v1 controllers mounted,
 * v2 without controllers) get a v1 fallback when sbx runs as root, created
 * only beneath the caller's own cgroup in each hierarchy.  See
 * docs/cgroups.md for the rules and for how to delegate a subtree. */
#ifndef SBX_CGROUP_H
#define SBX_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroups/parse.h"
#include "lib/error.h"

struct sbx_cgroup;

struct sbx_cgroup_stats {
	uint64_t memory_peak_bytes, pids_peak; /* 0 if unknown */
	/* Whether this kernel has the counters (memory.peak: Linux 5.19 on v2;
	 * pids.peak: 6.1): tests check the values only where they exist. */
	bool memory_peak_known, pids_peak_known;
	double cpu_user_ms, cpu_system_ms;
	bool oom_killed; /* oom_kill count > 0 */
};

/* What a run asks of cgroups/: its limits and where to put its cgroup. */
struct sbx_cgroup_request {
	struct sbx_limits limits; /* memory*, pids and cpus are written */
	const char *parent;   /* --cgroup-parent; NULL = the default place */
	/* OCI linux.cgroupsPath ("/libpod_parent/libpod-ID"): the cgroup
	 * itself, in place of parent and sbx's name; see sbx_cgroup_plan_path. */
	const char *path;
	bool allow_no_cgroup; /* no usable cgroup: warn and run without limits */
};

/* Supervisor, before clone: choose the parent, remove stale sbx cgroups
 * (creator pid dead), create one cgroup "sbx-<pid>-<random>" and write the
 * limits of req->limits.  Without a usable cgroup: with req->allow_no_cgroup
 * a version-0 object (limits_enforced false) whose sbx_cgroup_warning says
 * why, else an error naming the missing controller(s) and how to delegate
 * them.  Nothing here prints. */
int sbx_cgroup_create(const struct sbx_cgroup_request *req, struct sbx_cgroup **out,
		      struct sbx_error **err);
/* sbx_cgroup_create in two halves, so that the supervisor can create a v1
 * cgroup while the sandbox builds itself: a v1 child joins its cgroup by
 * itself (sbx_cgroup_self_attach), so the cgroup need not exist at clone;
 * a v2 one is born in it (CLONE_INTO_CGROUP), so it must.  start reads the
 * host and plans; for v1 it sets *deferred and leaves the creation to
 * finish; otherwise it does everything sbx_cgroup_create does.  finish
 * creates a deferred cgroup (no-op for any other) and, when that fails,
 * falls back or fails exactly as sbx_cgroup_create would. */
int sbx_cgroup_start(const struct sbx_cgroup_request *req, struct sbx_cgroup **out, bool *deferred,
		     struct sbx_error **err);
int sbx_cgroup_finish(struct sbx_cgroup *cg, struct sbx_error **err);
int sbx_cgroup_version(const struct sbx_cgroup *cg); /* 2, 1, or 0 = none */
/* Filesystem path of the run's cgroup (v1: the memory hierarchy's), "" if none. */
const char *sbx_cgroup_path(const struct sbx_cgroup *cg);
bool sbx_cgroup_limits_enforced(const struct sbx_cgroup *cg);
/* Why there is no cgroup (version 0 under allow_no_cgroup); NULL otherwise. */
const char *sbx_cgroup_warning(const struct sbx_cgroup *cg);
/* v2: O_DIRECTORY fd of the run's cgroup for clone3 CLONE_INTO_CGROUP; -1 otherwise. */
int sbx_cgroup_clone_fd(const struct sbx_cgroup *cg);
/* v1 (no CLONE_INTO_CGROUP): move the just-cloned, still waiting child into
 * the run's cgroups.  No-op for v2 and none. */
int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid, struct sbx_error **err);
/* v1, faster than sbx_cgroup_attach: the supervisor opens the run's
 * "tasks" file in each hierarchy (up to max; returns how many, 0 for v2 and
 * none) and the child writes "0" to each with sbx_cgroup_self_attach before
 * anything else.  A task moving itself needs no RCU synchronisation in the
 * kernel (moving another process takes the threadgroup lock, which waits
 * for one: 0.3 ms per hierarchy on a quiet host, tens of ms under load);
 * the write is allowed by the credentials the file was opened with. */
#define SBX_CGROUP_MAX_HIERARCHIES 8
int sbx_cgroup_self_attach_fds(struct sbx_cgroup *cg, int *fds, size_t max, struct sbx_error **err);
int sbx_cgroup_self_attach(const int *fds, size_t n, struct sbx_error **err);
/* Kill every process in the cgroup (v2 cgroup.kill; v1 freeze + SIGKILL). */
int sbx_cgroup_kill(struct sbx_cgroup *cg, struct sbx_error **err);
int sbx_cgroup_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *st, struct sbx_error **err);
/* Kill what is left, wait (bounded) until empty, rmdir, free.  Safe on NULL. */
int sbx_cgroup_destroy(struct sbx_cgroup *cg, struct sbx_error **err);

/* ---- Below: the same work with the host's facts passed in, so unit tests
 * can run it against a fake cgroup tree in a temporary directory. ---- */

/* What sbx knows about the host's cgroups.  Production fills it from
 * /proc/self and the real filesystem (root ""); tests from text and a
 * temporary directory. */
struct sbx_cgroup_host {
	const char *root;	 /* prefix of every mount point: "" = the real filesystem */
	const char *self_cgroup; /* text of /proc/self/cgroup */
	const char *mountinfo;	 /* text of /proc/self/mountinfo */
	uid_t euid;		 /* 0: root rules; else rootless (delegation) rules */
	pid_t pid;		 /* the supervisor */
};
/* Reads the real /proc/self files; free with sbx_cgroup_host_free. */
int sbx_cgroup_host_read(struct sbx_cgroup_host *h, struct sbx_error **err);
void sbx_cgroup_host_free(struct sbx_cgroup_host *h);

/* Controllers a run needs: memory and pids always (limits and stats), cpu
 * when a CPU limit is set.  Bits are 1 << enum sbx_cg_ctrl. */
unsigned sbx_cgroup_needed(const struct sbx_limits *l);

/* Where the run's cgroup will go, decided without changing anything. */
struct sbx_cgroup_plan {
	int version; /* 2 or 1 */
	/* v2: controllers are enabled (and missing directories created) on
	 * every level from chain_top down to parent. */
	char *parent;	    /* directory of the parent cgroup */
	char *chain_top;    /* existing directory, parent or one of its ancestors */
	char *self_leaf_in; /* non-NULL: the supervisor is alone in this cgroup,
			     * which needs controllers enabled; it first moves into
			     * a leaf beneath it (no-internal-processes rule) */
	/* v1: parent directory per controller, NULL where not mounted (only
	 * cpuacct and freezer may be missing). */
	char *v1_parent[SBX_CG_NCTRL];
	/* v1 with a cgroupsPath: the caller's own cgroup per controller, from
	 * which the missing levels down to v1_parent are made (and removed
	 * after).  NULL otherwise. */
	char *v1_base[SBX_CG_NCTRL];
	char *name; /* the cgroup's name; NULL = sbx-<pid>-<random> */
};
void sbx_cgroup_plan_free(struct sbx_cgroup_plan *p);
/* Decide v2 / v1 and the parent.  `cgroup_parent` is req->parent
 * (NULL = default).  On failure the error says what is missing and how to
 * delegate it. */
int sbx_cgroup_plan(const struct sbx_cgroup_host *h, const char *cgroup_parent, unsigned needed,
		    struct sbx_cgroup_plan *p, struct sbx_error **err);
/* The same for an OCI cgroupsPath: absolute, its last component the
 * cgroup's name.  v2: the rest is the parent, as --cgroup-parent.  v1: the
 * whole path goes beneath the caller's own cgroup in each hierarchy (never
 * elsewhere: v1 has no delegation), its missing levels made at create and
 * removed, when empty, at destroy. */
int sbx_cgroup_plan_path(const struct sbx_cgroup_host *h, const char *path, unsigned needed,
			 struct sbx_cgroup_plan *p, struct sbx_error **err);
/* Carry out a plan: create the run's cgroup and write the limits. */
int sbx_cgroup_create_from_plan(const struct sbx_cgroup_host *h, const struct sbx_cgroup_plan *p,
				const struct sbx_limits *l, struct sbx_cgroup **out, struct sbx_error **err);
/* Remove sbx cgroups in `dir` whose creator pid is dead (killing what is
 * left in them).  Returns how many were removed. */
int sbx_cgroup_remove_stale(const char *dir, int version);

#endif
