/* cgroup v2: where the run's cgroup goes, and its life.
 *
 * The kernel's rules this file works within (Documentation/admin-guide/
 * cgroup-v2.rst):
 * - A controller is usable in a cgroup only when its parent lists it in
 *   cgroup.subtree_control, which in turn needs it in the parent's
 *   cgroup.controllers: every level from the root down must enable it.
 * - No internal processes: a non-root cgroup cannot both hold processes and
 *   enable domain controllers for its children.  The root cgroup is exempt.
 * - Delegation: an unprivileged user may create cgroups in, and move
 *   processes between, cgroups it owns (the directory and its cgroup.procs,
 *   cgroup.subtree_control and cgroup.threads chowned to it).  Moving a
 *   process, and CLONE_INTO_CGROUP, also needs write access to cgroup.procs
 *   of the common ancestor of the source and destination cgroups. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgfs.h"
#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"

/* Parent directory of a path ("/a/b" -> "/a"). */
static char *dir_up(const char *p)
{
	char *r = sbx_xstrdup(p);
	char *slash = strrchr(r, '/');
	if (slash == r)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return r;
}

static int find_v2(const struct sbx_cg_facts *f, const struct sbx_cg_mount **m, const char **rel)
{
	const struct sbx_cg_self *line = NULL;
	for (size_t i = 0; i < f->n_self; i++)
		if (f->self[i].hier_id == 0 && f->self[i].controllers[0] == '\0')
			line = &f->self[i];
	if (line == NULL)
		return -1;
	for (size_t i = 0; i < f->n_mounts; i++) {
		if (!f->mounts[i].v2)
			continue;
		const char *r = sbx_cg_rel_path(&f->mounts[i], line->path);
		if (r != NULL) {
			*m = &f->mounts[i];
			*rel = r;
			return 0;
		}
	}
	return -1;
}

/* The caller may only use cgroups it owns: the directory and the files the
 * kernel's delegation rules name. */
static int check_owned(const struct sbx_cgroup_host *h, const char *dir, struct sbx_error **err)
{
	if (h->euid == 0)
		return 0;
	static const char *const files[] = {"", "cgroup.procs", "cgroup.subtree_control"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *p = sbx_cg_join(dir, files[i]);
		struct stat st;
		if (stat(p, &st) < 0)
			return sbx_error_set(err, errno, "stat %s", p);
		if (st.st_uid != h->euid)
			return sbx_error_set(
			    err, 0, "cgroup %s is not delegated to you: %s is owned by uid %u, not uid %u",
			    dir, p, (unsigned)st.st_uid, (unsigned)h->euid);
	}
	return 0;
}

static int read_mask(const char *dir, const char *file, unsigned *mask, char **text, struct sbx_error **err)
{
	char *t = NULL;
	int r = sbx_cg_read(dir, file, &t);
	if (r < 0)
		return sbx_error_set(err, -r, "reading %s/%s", dir, file);
	*mask = sbx_cg_ctrl_mask(t);
	if (text) {
		t[strcspn(t, "\n")] = '\0';
		*text = t;
	} else {
		free(t);
	}
	return 0;
}

/* Can the children of `dir` get the needed controllers?  Already enabled:
 * yes.  Otherwise they must be available in dir, and dir must hold no
 * processes unless it is the root cgroup — or only the supervisor, which
 * then moves into a leaf first (recorded in p->self_leaf_in). */
static int check_enable(const struct sbx_cgroup_host *h, const char *dir, unsigned needed,
			struct sbx_cgroup_plan *p, struct sbx_error **err)
{
	unsigned sub, avail;
	cleanup_free char *avail_text = NULL;
	if (read_mask(dir, "cgroup.subtree_control", &sub, NULL, err) < 0)
		return -1;
	if ((sub & needed) == needed)
		return 0;
	if (read_mask(dir, "cgroup.controllers", &avail, &avail_text, err) < 0)
		return -1;
	unsigned missing = needed & ~avail;
	if (missing) {
		char m[64];
		sbx_cg_format_ctrls(missing, "", ", ", m, sizeof(m));
		return sbx_error_set(
		    err, 0,
		    "controller(s) %s not available in cgroup %s (its cgroup.controllers lists: %s); "
		    "every ancestor must enable them in cgroup.subtree_control",
		    m, dir, avail_text[0] ? avail_text : "nothing");
	}
	/* Only the root cgroup lacks cgroup.type. */
	cleanup_free char *type = sbx_cg_join(dir, "cgroup.type");
	if (!sbx_cg_exists(type))
		return 0;
	pid_t *pids = NULL;
	size_t n = 0;
	int r = sbx_cg_procs(dir, &pids, &n);
	if (r < 0)
		return sbx_error_set(err, -r, "reading %s/cgroup.procs", dir);
	size_t others = n;
	for (size_t i = 0; i < n; i++)
		if (pids[i] == h->pid)
			others--;
	bool only_self = n == 1 && others == 0;
	free(pids);
	if (n == 0)
		return 0;
	if (only_self && p->self_leaf_in == NULL) {
		p->self_leaf_in = sbx_xstrdup(dir);
		return 0;
	}
	char m[64];
	sbx_cg_format_ctrls(needed & ~sub, "", ", ", m, sizeof(m));
	return sbx_error_set(
	    err, 0,
	    "cgroup %s holds %zu other process(es), so the kernel will not enable %s for its children "
	    "(no-internal-processes rule); start sbx alone in a cgroup of its own "
	    "(e.g. systemd-run --user --scope -p Delegate=yes -- sbx run ...) or pass --cgroup-parent "
	    "naming a cgroup without processes",
	    dir, others, m);
}

/* Longest common directory prefix of two absolute paths. */
static char *common_dir(const char *a, const char *b)
{
	size_t i = 0, last = 0;
	while (a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			last = i;
		i++;
	}
	if ((a[i] == '\0' && (b[i] == '/' || b[i] == '\0')) || (b[i] == '\0' && a[i] == '/'))
		last = i;
	char *r = sbx_xstrndup(a, last ? last : 1);
	return r;
}

int sbx_cg2_plan(const struct sbx_cg_facts *f, const char *cgroup_parent, unsigned needed,
		 struct sbx_cgroup_plan *p, struct sbx_error **err)
{
	const struct sbx_cgroup_host *h = f->h;
	const struct sbx_cg_mount *m = NULL;
	const char *rel = NULL;
	if (find_v2(f, &m, &rel) < 0)
		return sbx_error_set(err, 0, "cgroup v2 is not mounted, or your cgroup is not visible in it");
	cleanup_free char *mount_dir = NULL;
	mount_dir = sbx_xasprintf("%s%s", h->root, m->mount_point);
	cleanup_free char *caller = sbx_cg_join(mount_dir, rel);

	/* Controllers bound to v1 hierarchies (hybrid hosts) are missing at the
	 * top already: say so plainly rather than blame delegation. */
	unsigned top_avail;
	cleanup_free char *top_text = NULL;
	if (read_mask(mount_dir, "cgroup.controllers", &top_avail, &top_text, err) < 0)
		return -1;
	if (needed & ~top_avail) {
		char miss[64];
		sbx_cg_format_ctrls(needed & ~top_avail, "", ", ", miss, sizeof(miss));
		return sbx_error_set(
		    err, 0,
		    "the cgroup2 hierarchy at %s has no %s controller (its cgroup.controllers lists: %s)",
		    mount_dir, miss, top_text[0] ? top_text : "nothing");
	}
	memset(p, 0, sizeof(*p));
	p->version = 2;
	if (cgroup_parent) {
		/* A cgroup path ("/sbx/jobs") or the same as a directory of the mount. */
		size_t ml = strlen(mount_dir);
		if (strncmp(cgroup_parent, mount_dir, ml) == 0 &&
		    (cgroup_parent[ml] == '/' || cgroup_parent[ml] == '\0'))
			p->parent = sbx_xstrdup(cgroup_parent);
		else
			p->parent = sbx_cg_join(mount_dir, cgroup_parent);
		if (strstr(p->parent, "/../") || strcmp(p->parent + strlen(p->parent) - 3, "/..") == 0) {
			sbx_error_set(err, 0, "--cgroup-parent %s must not contain '..'", cgroup_parent);
			goto fail;
		}
		p->chain_top = sbx_xstrdup(p->parent);
		while (!sbx_cg_exists(p->chain_top) && strlen(p->chain_top) > ml) {
			char *up = dir_up(p->chain_top);
			free(p->chain_top);
			p->chain_top = up;
		}
		if (check_owned(h, p->chain_top, err) < 0 ||
		    check_enable(h, p->chain_top, needed, p, err) < 0)
			goto fail;
		/* CLONE_INTO_CGROUP needs write access to the common ancestor of
		 * where the supervisor is and where the child goes. */
		if (h->euid != 0) {
			cleanup_free char *sup =
			    p->self_leaf_in ? sbx_cg_join(p->self_leaf_in, "leaf") : sbx_xstrdup(caller);
			cleanup_free char *common = common_dir(sup, p->parent);
			if (check_owned(h, common, err) < 0) {
				sbx_error_wrap(
				    err,
				    "sbx (in cgroup %s) must be started from inside the delegated subtree "
				    "containing %s",
				    caller, p->parent);
				goto fail;
			}
		}
	} else if (h->euid == 0) {
		/* As root: a dedicated "sbx" subtree at the top of the hierarchy. */
		p->parent = sbx_cg_join(mount_dir, "sbx");
		p->chain_top = sbx_xstrdup(mount_dir);
		if (check_enable(h, mount_dir, needed, p, err) < 0)
			goto fail;
		if (sbx_cg_exists(p->parent) && check_enable(h, p->parent, needed, p, err) < 0)
			goto fail;
	} else {
		/* Rootless: the caller's own cgroup, which must be delegated. */
		p->parent = sbx_xstrdup(caller);
		p->chain_top = sbx_xstrdup(caller);
		if (check_owned(h, caller, err) < 0 || check_enable(h, caller, needed, p, err) < 0)
			goto fail;
	}
	return 0;
fail:
	sbx_cgroup_plan_free(p);
	return -1;
}

/* Enable the needed controllers on every level from top down to parent,
 * creating missing levels. */
static int enable_chain(const struct sbx_cgroup_plan *p, unsigned needed, struct sbx_cgroup *cg,
			struct sbx_error **err)
{
	if (sbx_cg_mkdirs(p->chain_top, p->parent, err) < 0)
		return -1;
	cleanup_free char *level = sbx_xstrdup(p->chain_top);
	for (;;) {
		unsigned sub;
		if (read_mask(level, "cgroup.subtree_control", &sub, NULL, err) < 0)
			return -1;
		unsigned add = needed & ~sub;
		if (add) {
			char v[64];
			sbx_cg_format_ctrls(add, "+", " ", v, sizeof(v));
			if (sbx_cg_write_err(level, "cgroup.subtree_control", v, err) < 0)
				return sbx_error_wrap(err, "enabling controllers");
			if (cg->leaf_parent && strcmp(level, cg->leaf_parent) == 0)
				cg->leaf_enabled |= add;
		}
		if (strcmp(level, p->parent) == 0)
			return 0;
		/* Next level down: one more component of parent. */
		size_t ll = strlen(level);
		const char *next = strchr(p->parent + ll + 1, '/');
		size_t nl = next ? (size_t)(next - p->parent) : strlen(p->parent);
		free(level);
		level = sbx_xstrndup(p->parent, nl);
	}
}

/* The supervisor is alone in a cgroup that must enable controllers: move it
 * into a leaf beneath, as the no-internal-processes rule requires. */
static int move_self_to_leaf(const struct sbx_cgroup_host *h, const char *in, struct sbx_cgroup *cg,
			     struct sbx_error **err)
{
	char name[32];
	snprintf(name, sizeof(name), "sbx-%d-sup", (int)h->pid);
	cg->leaf = sbx_cg_join(in, name);
	if (mkdir(cg->leaf, 0755) < 0 && errno != EEXIST) {
		sbx_error_set(err, errno, "mkdir %s", cg->leaf);
		free(cg->leaf);
		cg->leaf = NULL;
		return -1;
	}
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	if (sbx_cg_write_err(cg->leaf, "cgroup.procs", pid, err) < 0) {
		rmdir(cg->leaf);
		free(cg->leaf);
		cg->leaf = NULL;
		return sbx_error_wrap(err, "moving sbx into a leaf cgroup");
	}
	cg->leaf_parent = sbx_xstrdup(in);
	return 0;
}

int sbx_cg2_create(const struct sbx_cgroup_host *h, const struct sbx_cgroup_plan *p,
		   const struct sbx_limits *l, const char *name, struct sbx_cgroup *cg,
		   struct sbx_error **err)
{
	cg->version = 2;
	cg->fd = -1;
	unsigned needed = sbx_cgroup_needed(l);
	if (p->self_leaf_in && move_self_to_leaf(h, p->self_leaf_in, cg, err) < 0)
		return -1;
	if (enable_chain(p, needed, cg, err) < 0)
		return -1;
	sbx_cgroup_remove_stale(p->parent, 2);
	cg->dir = sbx_cg_join(p->parent, name);
	if (mkdir(cg->dir, 0755) < 0) {
		sbx_error_set(err, errno, "mkdir %s", cg->dir);
		free(cg->dir);
		cg->dir = NULL;
		return -1;
	}
	cg->path = sbx_xstrdup(cg->dir);
	struct sbx_cg_write w[SBX_CG_MAX_WRITES];
	size_t n = sbx_cg2_limit_writes(l, w);
	for (size_t i = 0; i < n; i++) {
		int r = sbx_cg_write(cg->dir, w[i].file, w[i].value);
		/* memory.swap.max exists only with swap accounting (CONFIG_SWAP). */
		if (r == -ENOENT && strcmp(w[i].file, "memory.swap.max") == 0)
			continue;
		if (r < 0)
			return sbx_error_set(err, -r, "writing '%s' to %s/%s", w[i].value, cg->dir,
					     w[i].file);
	}
	cg->fd = open(cg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0)
		return sbx_error_set(err, errno, "open %s", cg->dir);
	cg->limits_enforced = true;
	return 0;
}

int sbx_cg2_kill(struct sbx_cgroup *cg, struct sbx_error **err)
{
	int r = sbx_cg_write(cg->dir, "cgroup.kill", "1");
	if (r == 0)
		return 0;
	/* cgroup.kill is new in Linux 5.14; before, signal what is listed. */
	if (r != -ENOENT)
		return sbx_error_set(err, -r, "writing 1 to %s/cgroup.kill", cg->dir);
	r = sbx_cg_kill_until_empty(cg->dir, SBX_CG_EMPTY_WAIT_MS);
	if (r < 0)
		return sbx_error_set(err, -r, "killing the processes of %s", cg->dir);
	return 0;
}

static uint64_t read_keyed(const char *dir, const char *file, const char *key)
{
	cleanup_free char *t = NULL;
	uint64_t v = 0;
	if (sbx_cg_read(dir, file, &t) == 0)
		sbx_cg_keyed_get(t, key, &v);
	return v;
}

int sbx_cg2_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *st, struct sbx_error **err)
{
	cleanup_free char *cpu = NULL;
	int r = sbx_cg_read(cg->dir, "cpu.stat", &cpu);
	if (r < 0)
		return sbx_error_set(err, -r, "reading %s/cpu.stat", cg->dir);
	uint64_t user = 0, sys = 0;
	sbx_cg_keyed_get(cpu, "user_usec", &user);
	sbx_cg_keyed_get(cpu, "system_usec", &sys);
	st->cpu_user_ms = (double)user / 1000.0;
	st->cpu_system_ms = (double)sys / 1000.0;
	/* memory.peak: Linux 5.19; pids.peak: Linux 6.1.  0 when absent. */
	st->memory_peak_known = sbx_cg_read_u64(cg->dir, "memory.peak", &st->memory_peak_bytes) == 0;
	st->pids_peak_known = sbx_cg_read_u64(cg->dir, "pids.peak", &st->pids_peak) == 0;
	st->oom_killed = read_keyed(cg->dir, "memory.events", "oom_kill") > 0;
	return 0;
}

/* Put back what move_self_to_leaf changed, when no other cgroup shares the
 * parent: disable what we enabled, move back, remove the leaf. */
static void undo_leaf(struct sbx_cgroup *cg, const struct sbx_cgroup_host *h)
{
	/* Another cgroup beside the leaf (a concurrent run) still needs the
	 * controllers: leave things as they are; a later run removes the leaf. */
	if (sbx_cg_count_subdirs(cg->leaf_parent, strrchr(cg->leaf, '/') + 1) != 0)
		return;
	if (cg->leaf_enabled) {
		char v[64];
		sbx_cg_format_ctrls(cg->leaf_enabled, "-", " ", v, sizeof(v));
		if (sbx_cg_write(cg->leaf_parent, "cgroup.subtree_control", v) < 0)
			return;
	}
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	if (sbx_cg_write(cg->leaf_parent, "cgroup.procs", pid) == 0)
		rmdir(cg->leaf);
}

int sbx_cg2_destroy(struct sbx_cgroup *cg, const struct sbx_cgroup_host *h, struct sbx_error **err)
{
	int ret = 0;
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (cg->dir) {
		pid_t *pids = NULL;
		size_t n = 0;
		if (sbx_cg_procs(cg->dir, &pids, &n) == 0 && n > 0)
			sbx_cg2_kill(cg, NULL);
		free(pids);
		int r = sbx_cg_kill_until_empty(cg->dir, SBX_CG_EMPTY_WAIT_MS);
		if (r == 0)
			r = sbx_cg_rmdir(cg->dir, SBX_CG_RMDIR_WAIT_MS);
		if (r < 0)
			ret = sbx_error_set(err, -r, "removing cgroup %s", cg->dir);
	}
	if (cg->leaf && h)
		undo_leaf(cg, h);
	return ret;
}
