/* cgroup v1 fallback for hybrid hosts (v1 controllers mounted, cgroup2
 * without them), as root only.
 *
 * Each controller is its own hierarchy (or shares one, e.g. "cpu,cpuacct"),
 * so the run gets one directory per hierarchy, all with the same name, each
 * created beneath the caller's own cgroup in that hierarchy and always
 * removed.  v1 has no CLONE_INTO_CGROUP: the supervisor moves the child in
 * (sbx_cgroup_attach) while it still waits, before the workload runs.
 * memory, pids and cpu carry the limits; cpuacct (CPU time) and freezer
 * (race-free kill) are joined when mounted. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgfs.h"
#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"

/* Controllers sbx joins when they are mounted, though no limit needs them. */
#define V1_OPTIONAL (SBX_CG_BIT(SBX_CG_CPUACCT) | SBX_CG_BIT(SBX_CG_FREEZER))

/* Whether controller c's directory is the first of its hierarchy (co-mounted
 * controllers share one directory: act on it once). */
static bool first_of_hierarchy(char *const *dirs, int c)
{
	if (dirs[c] == NULL)
		return false;
	for (int i = 0; i < c; i++)
		if (dirs[i] && strcmp(dirs[i], dirs[c]) == 0)
			return false;
	return true;
}

static void tidy_slashes(char *dir)
{
	char *w = dir;
	for (char *r = dir; *r; r++)
		if (!(*r == '/' && w > dir && w[-1] == '/'))
			*w++ = *r;
	*w = '\0';
	if (w - dir > 1 && w[-1] == '/')
		w[-1] = '\0';
}

int sbx_cg1_plan(const struct sbx_cg_facts *f, const char *cgroup_parent, const char *nested, unsigned needed,
		 struct sbx_cgroup_plan *p, struct sbx_error **err)
{
	memset(p, 0, sizeof(*p));
	p->version = 1;
	unsigned missing = 0;
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		const char *name = sbx_cg_ctrl_names[c];
		const struct sbx_cg_mount *m = NULL;
		for (size_t i = 0; i < f->n_mounts && m == NULL; i++)
			if (!f->mounts[i].v2 && sbx_cg_list_has(f->mounts[i].options, name, ","))
				m = &f->mounts[i];
		const struct sbx_cg_self *line = NULL;
		for (size_t i = 0; i < f->n_self && line == NULL; i++)
			if (sbx_cg_list_has(f->self[i].controllers, name, ","))
				line = &f->self[i];
		const char *rel = m && line ? sbx_cg_rel_path(m, line->path) : NULL;
		if (rel == NULL) {
			missing |= SBX_CG_BIT(c);
			continue;
		}
		char *dir = NULL;
		if (nested) {
			/* Beneath the caller's own cgroup, whatever the path
			 * says: the levels below it are made at create. */
			p->v1_base[c] = sbx_xasprintf("%s%s/%s", f->h->root, m->mount_point, rel);
			tidy_slashes(p->v1_base[c]);
			dir = sbx_xasprintf("%s/%s", p->v1_base[c], nested);
			tidy_slashes(dir);
			if (!sbx_cg_exists(p->v1_base[c])) {
				free(dir);
				missing |= SBX_CG_BIT(c);
				continue;
			}
			p->v1_parent[c] = dir;
			continue;
		}
		dir = sbx_xasprintf("%s%s/%s", f->h->root, m->mount_point,
			     cgroup_parent ? cgroup_parent : rel);
		/* Tidy "//" from joining "/" paths. */
		tidy_slashes(dir);
		if (!sbx_cg_exists(dir)) {
			if (cgroup_parent && (needed & SBX_CG_BIT(c))) {
				sbx_error_set(
				    err, 0,
				    "cgroup v1: --cgroup-parent %s does not exist in the %s hierarchy (%s)",
				    cgroup_parent, name, dir);
				free(dir);
				sbx_cgroup_plan_free(p);
				return -1;
			}
			free(dir);
			missing |= SBX_CG_BIT(c);
			continue;
		}
		p->v1_parent[c] = dir;
	}
	missing &= needed & ~V1_OPTIONAL;
	if (missing) {
		char m[64];
		sbx_cg_format_ctrls(missing, "", ", ", m, sizeof(m));
		sbx_cgroup_plan_free(p);
		return sbx_error_set(
		    err, 0, "cgroup v1: controller(s) %s not mounted (or your cgroup is not visible in them)",
		    m);
	}
	if (f->h->euid != 0) {
		sbx_cgroup_plan_free(p);
		return sbx_error_set(err, 0,
				     "the cgroup v1 fallback needs root (v1 has no safe delegation): run sbx "
				     "as root, or boot with "
				     "the unified cgroup v2 hierarchy (systemd.unified_cgroup_hierarchy=1)");
	}
	return 0;
}

/* mkdir -p of parent beneath base (which exists); *made = the highest level
 * made, NULL when all were there. */
static int make_levels(const char *base, const char *parent, char **made, struct sbx_error **err)
{
	*made = NULL;
	size_t bl = strlen(base);
	cleanup_free char *path = sbx_xstrdup(parent);
	for (char *slash = path + bl; slash && *slash;) {
		slash = strchr(slash + 1, '/');
		if (slash)
			*slash = '\0';
		if (mkdir(path, 0755) == 0) {
			if (*made == NULL)
				*made = sbx_xstrdup(path);
		} else if (errno != EEXIST) {
			return sbx_error_set(err, errno, "mkdir %s", path);
		}
		if (slash)
			*slash = '/';
	}
	return 0;
}

/* Remove the levels create made above dir, from dir's parent up to made,
 * while they are empty (another container may be using one). */
static void remove_levels(const char *dir, const char *made)
{
	if (made == NULL)
		return;
	cleanup_free char *path = sbx_xstrdup(dir);
	size_t ml = strlen(made);
	for (char *slash = strrchr(path, '/'); slash && (size_t)(slash - path) >= ml; slash = strrchr(path, '/')) {
		*slash = '\0';
		if (rmdir(path) < 0)
			return;
	}
}

int sbx_cg1_create(const struct sbx_cgroup_plan *p, const struct sbx_limits *l, const char *name,
		   struct sbx_cgroup *cg, struct sbx_error **err)
{
	cg->version = 1;
	cg->fd = -1;
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		if (p->v1_parent[c] == NULL)
			continue;
		cg->v1_dir[c] = sbx_cg_join(p->v1_parent[c], name);
		if (!first_of_hierarchy(p->v1_parent, c))
			continue;
		if (p->v1_base[c] == NULL)
			sbx_cgroup_remove_stale(p->v1_parent[c], 1);
		int made_r = 0;
		/* A level made here may be removed by another container's
		 * teardown before our mkdir below: make them again then. */
		for (int tries = 0; tries < 3; tries++) {
			if (p->v1_base[c]) {
				char *made = NULL;
				if (make_levels(p->v1_base[c], p->v1_parent[c], &made, err) < 0) {
					free(cg->v1_dir[c]);
					cg->v1_dir[c] = NULL;
					return -1;
				}
				if (made && cg->v1_made[c] == NULL)
					cg->v1_made[c] = made;
				else
					free(made);
			}
			made_r = mkdir(cg->v1_dir[c], 0755);
			if (made_r == 0 || errno != ENOENT || p->v1_base[c] == NULL)
				break;
		}
		if (made_r < 0) {
			sbx_error_set(err, errno, "mkdir %s", cg->v1_dir[c]);
			remove_levels(cg->v1_dir[c], cg->v1_made[c]);
			/* Not ours: keep destroy from removing it. */
			free(cg->v1_dir[c]);
			cg->v1_dir[c] = NULL;
			return -1;
		}
	}
	cg->path = sbx_xstrdup(cg->v1_dir[SBX_CG_MEMORY]);
	cleanup_free char *memsw = sbx_cg_join(cg->v1_dir[SBX_CG_MEMORY], "memory.memsw.limit_in_bytes");
	struct sbx_cg_write w[SBX_CG_MAX_WRITES];
	size_t n = sbx_cg1_limit_writes(l, sbx_cg_exists(memsw), w);
	for (size_t i = 0; i < n; i++)
		if (sbx_cg_write_err(cg->v1_dir[w[i].ctrl], w[i].file, w[i].value, err) < 0)
			return -1;
	cg->limits_enforced = true;
	return 0;
}

int sbx_cg1_attach(struct sbx_cgroup *cg, pid_t pid, struct sbx_error **err)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int c = 0; c < SBX_CG_NCTRL; c++)
		if (first_of_hierarchy(cg->v1_dir, c) &&
		    sbx_cg_write_err(cg->v1_dir[c], "cgroup.procs", v, err) < 0)
			return sbx_error_wrap(err, "moving pid %d into the sandbox's cgroup", (int)pid);
	return 0;
}

int sbx_cg1_self_attach_fds(struct sbx_cgroup *cg, int *fds, size_t max, struct sbx_error **err)
{
	size_t n = 0;
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		if (!first_of_hierarchy(cg->v1_dir, c))
			continue;
		cleanup_free char *tasks = sbx_cg_join(cg->v1_dir[c], "tasks");
		int fd = n < max ? open(tasks, O_WRONLY | O_CLOEXEC) : (errno = E2BIG, -1);
		if (fd < 0) {
			int e = errno;
			while (n > 0)
				close(fds[--n]);
			return sbx_error_set(err, e, "open %s", tasks);
		}
		fds[n++] = fd;
	}
	return (int)n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* Freeze, so that nothing forks between listing and signalling; SIGKILL is
 * delivered once the cgroup thaws. */
static int kill_frozen(const char *fdir)
{
	/* The usual case at teardown: pid 1 has exited and its pid namespace
	 * with it; freezing an empty cgroup would only cost time. */
	cleanup_free char *procs = NULL;
	if (sbx_cg_read(fdir, "cgroup.procs", &procs) == 0 && procs[strspn(procs, " \n")] == '\0')
		return 0;
	if (sbx_cg_write(fdir, "freezer.state", "FROZEN") < 0)
		return -1;
	for (int i = 0; i < 200; i++) {
		cleanup_free char *state = NULL;
		if (sbx_cg_read(fdir, "freezer.state", &state) < 0 || strncmp(state, "FROZEN", 6) == 0)
			break;
		sleep_ms(5);
	}
	sbx_cg_kill_listed(fdir);
	sbx_cg_write(fdir, "freezer.state", "THAWED");
	return 0;
}

int sbx_cg1_kill(struct sbx_cgroup *cg, struct sbx_error **err)
{
	if (cg->v1_dir[SBX_CG_FREEZER] && kill_frozen(cg->v1_dir[SBX_CG_FREEZER]) == 0)
		return 0;
	/* Without a freezer: one pass over the pids cgroup.  The workload's
	 * pid 1 is among them, and its death takes its whole pid namespace
	 * down; destroy repeats until the cgroup is empty. */
	int r = sbx_cg_kill_listed(cg->v1_dir[SBX_CG_PIDS]);
	if (r < 0)
		return sbx_error_set(err, -r, "killing the processes of %s", cg->v1_dir[SBX_CG_PIDS]);
	return 0;
}

static uint64_t read_u64(const char *dir, const char *file)
{
	uint64_t v = 0;
	return sbx_cg_read_u64(dir, file, &v) == 0 ? v : 0;
}

int sbx_cg1_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *st, struct sbx_error **err)
{
	const char *mem = cg->v1_dir[SBX_CG_MEMORY];
	cleanup_free char *oom = NULL;
	int r = sbx_cg_read(mem, "memory.oom_control", &oom);
	if (r < 0)
		return sbx_error_set(err, -r, "reading %s/memory.oom_control", mem);
	uint64_t kills = 0;
	sbx_cg_keyed_get(oom, "oom_kill", &kills);
	st->oom_killed = kills > 0;
	st->memory_peak_known = sbx_cg_read_u64(mem, "memory.max_usage_in_bytes", &st->memory_peak_bytes) == 0;
	st->pids_peak_known = sbx_cg_read_u64(cg->v1_dir[SBX_CG_PIDS], "pids.peak", &st->pids_peak) == 0;
	/* cpuacct.usage_{user,sys} are in ns. */
	const char *acct = cg->v1_dir[SBX_CG_CPUACCT];
	st->cpu_user_ms = (double)read_u64(acct, "cpuacct.usage_user") / 1e6;
	st->cpu_system_ms = (double)read_u64(acct, "cpuacct.usage_sys") / 1e6;
	return 0;
}

int sbx_cg1_destroy(struct sbx_cgroup *cg, struct sbx_error **err)
{
	int ret = 0;
	bool killed = false;
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		if (!first_of_hierarchy(cg->v1_dir, c))
			continue;
		const char *dir = cg->v1_dir[c];
		/* The usual case: pid 1's exit ended every process of the
		 * sandbox, and the directory goes at once; EBUSY says there
		 * are tasks left, and only then are they listed and killed. */
		if (rmdir(dir) == 0 || errno == ENOENT) {
			remove_levels(dir, cg->v1_made[c]);
			continue;
		}
		if (!killed && cg->v1_dir[SBX_CG_FREEZER] && sbx_cg_exists(cg->v1_dir[SBX_CG_FREEZER])) {
			kill_frozen(cg->v1_dir[SBX_CG_FREEZER]);
			killed = true;
		}
		int r = sbx_cg_kill_until_empty(dir, SBX_CG_EMPTY_WAIT_MS);
		if (r == 0)
			r = sbx_cg_rmdir(dir, SBX_CG_RMDIR_WAIT_MS);
		if (r < 0 && ret == 0)
			ret = sbx_error_set(err, -r, "removing cgroup %s", dir);
		if (r == 0)
			remove_levels(dir, cg->v1_made[c]);
	}
	return ret;
}
