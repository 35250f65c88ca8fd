/* Shared between cgroup.c (the public API), v2.c and v1.c; not for
 * callers outside cgroups/. */
#ifndef SBX_CGROUP_INTERNAL_H
#define SBX_CGROUP_INTERNAL_H

#include "cgroups/cgroup.h"
#include "cgroups/parse.h"

struct sbx_cgroup {
	int version; /* 2, 1, 0 */
	bool limits_enforced;
	char *path; /* reported: the run's cgroup directory ("" for none) */
	char *warning; /* version 0 under allow_no_cgroup: why there is none */
	/* v2 */
	char *dir;
	int fd; /* O_DIRECTORY for CLONE_INTO_CGROUP, -1 otherwise */
	/* Set when the supervisor moved itself into a leaf so that controllers
	 * could be enabled in `leaf_parent`; undone on destroy. */
	char *leaf;
	char *leaf_parent;
	unsigned leaf_enabled;
	/* v1: the run's directory per controller; co-mounted controllers
	 * (cpu,cpuacct) hold equal strings. NULL where not joined. */
	char *v1_dir[SBX_CG_NCTRL];
	/* v1 with a cgroupsPath: the highest level create made above v1_dir
	 * (removed at destroy, with what lies between, when empty); NULL where
	 * every level existed. */
	char *v1_made[SBX_CG_NCTRL];
	/* Between sbx_cgroup_start and sbx_cgroup_finish of a deferred (v1)
	 * cgroup: what creating it needs; NULL once created. */
	struct sbx_cg_pending *pending;
};

struct sbx_cg_pending {
	struct sbx_cgroup_host host;
	struct sbx_cgroup_plan plan;
	struct sbx_limits limits;
	bool allow_no_cgroup;
};

/* The facts both versions plan from, parsed once. */
struct sbx_cg_facts {
	const struct sbx_cgroup_host *h;
	struct sbx_cg_self *self;
	size_t n_self;
	struct sbx_cg_mount *mounts;
	size_t n_mounts;
};

int sbx_cg2_plan(const struct sbx_cg_facts *f, const char *cgroup_parent, unsigned needed,
		 struct sbx_cgroup_plan *p, struct sbx_error **err);
int sbx_cg2_create(const struct sbx_cgroup_host *h, const struct sbx_cgroup_plan *p,
		   const struct sbx_limits *l, const char *name, struct sbx_cgroup *cg,
		   struct sbx_error **err);
int sbx_cg2_kill(struct sbx_cgroup *cg, struct sbx_error **err);
int sbx_cg2_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *st, struct sbx_error **err);
int sbx_cg2_destroy(struct sbx_cgroup *cg, const struct sbx_cgroup_host *h, struct sbx_error **err);

/* nested: a path beneath the caller's own cgroup for the parent (OCI
 * cgroupsPath), made at create; NULL = cgroup_parent's rules. */
int sbx_cg1_plan(const struct sbx_cg_facts *f, const char *cgroup_parent, const char *nested, unsigned needed,
		 struct sbx_cgroup_plan *p, struct sbx_error **err);
int sbx_cg1_create(const struct sbx_cgroup_plan *p, const struct sbx_limits *l, const char *name,
		   struct sbx_cgroup *cg, struct sbx_error **err);
int sbx_cg1_attach(struct sbx_cgroup *cg, pid_t pid, struct sbx_error **err);
int sbx_cg1_self_attach_fds(struct sbx_cgroup *cg, int *fds, size_t max, struct sbx_error **err);
int sbx_cg1_kill(struct sbx_cgroup *cg, struct sbx_error **err);
int sbx_cg1_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *st, struct sbx_error **err);
int sbx_cg1_destroy(struct sbx_cgroup *cg, struct sbx_error **err);

/* Bounds, in milliseconds, for waiting on tasks to leave a cgroup. */
#define SBX_CG_EMPTY_WAIT_MS 5000
#define SBX_CG_RMDIR_WAIT_MS 2000

#endif
