/* The public cgroup API: choose v2, the v1 fallback or none; name the run's
 * cgroup; dispatch to v2.c / v1.c. */
#include "cgroups/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgfs.h"
#include "cgroups/internal.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "lib/clock.h"

static const char delegate_howto[] =
    "To give sbx a cgroup: run it in a systemd unit with Delegate=yes "
    "(systemd-run --user --scope -p Delegate=yes -- sbx run ...), or, as root, enable the controllers "
    "on every level down to a cgroup (echo '+memory +pids +cpu' > .../cgroup.subtree_control), chown that "
    "cgroup's directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads to the user, and "
    "start "
    "sbx from inside it; or pass --allow-no-cgroup to run without limits";

unsigned sbx_cgroup_needed(const struct sbx_limits *l)
{
	unsigned m = SBX_CG_BIT(SBX_CG_MEMORY) | SBX_CG_BIT(SBX_CG_PIDS);
	if (l->cpus > 0)
		m |= SBX_CG_BIT(SBX_CG_CPU);
	return m;
}

static int read_text(const char *path, char **out, struct sbx_error **err)
{
	cleanup_free char *dir = sbx_xstrdup(path);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	int r = sbx_cg_read(dir, slash + 1, out);
	if (r < 0)
		return sbx_error_set(err, -r, "reading %s", path);
	return 0;
}

int sbx_cgroup_host_read(struct sbx_cgroup_host *h, struct sbx_error **err)
{
	memset(h, 0, sizeof(*h));
	char *self = NULL, *mi = NULL;
	if (read_text("/proc/self/cgroup", &self, err) < 0)
		return -1;
	if (read_text("/proc/self/mountinfo", &mi, err) < 0) {
		free(self);
		return -1;
	}
	h->root = "";
	h->self_cgroup = self;
	h->mountinfo = mi;
	h->euid = geteuid();
	h->pid = getpid();
	return 0;
}

void sbx_cgroup_host_free(struct sbx_cgroup_host *h)
{
	free((char *)h->self_cgroup);
	free((char *)h->mountinfo);
	memset(h, 0, sizeof(*h));
}

void sbx_cgroup_plan_free(struct sbx_cgroup_plan *p)
{
	free(p->parent);
	free(p->chain_top);
	free(p->self_leaf_in);
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		free(p->v1_parent[c]);
		free(p->v1_base[c]);
	}
	free(p->name);
	memset(p, 0, sizeof(*p));
}

static bool has_v1(const struct sbx_cg_facts *f)
{
	for (size_t i = 0; i < f->n_mounts; i++)
		if (!f->mounts[i].v2 && sbx_cg_ctrl_mask(f->mounts[i].options) != 0)
			return true;
	return false;
}

static int plan(const struct sbx_cgroup_host *h, const char *cgroup_parent, const char *nested, unsigned needed,
		struct sbx_cgroup_plan *p, struct sbx_error **err)
{
	struct sbx_cg_facts f = {.h = h};
	int ret = -1;
	cleanup_error struct sbx_error *e2 = NULL;
	cleanup_error struct sbx_error *e1 = NULL;
	if (sbx_cg_parse_self(h->self_cgroup, &f.self, &f.n_self, err) < 0)
		return -1;
	if (sbx_cg_parse_mountinfo(h->mountinfo, &f.mounts, &f.n_mounts, err) < 0)
		goto out;
	if (sbx_cg2_plan(&f, cgroup_parent, needed, p, &e2) == 0) {
		ret = 0;
		goto out;
	}
	if (!has_v1(&f)) {
		sbx_error_move(err, &e2);
		goto out;
	}
	/* Hybrid or legacy host: v2 has not got the controllers; fall back. */
	if (sbx_cg1_plan(&f, nested ? NULL : cgroup_parent, nested, needed, p, &e1) == 0) {
		ret = 0;
		goto out;
	}
	/* Both messages already end with their strerror. */
	sbx_error_set(err, 0, "cgroup v2: %s; %s", e2->msg, e1->msg);
	if (err)
		(*err)->errno_ = e1->errno_ ? e1->errno_ : e2->errno_;
out:
	sbx_cg_self_free(f.self, f.n_self);
	sbx_cg_mounts_free(f.mounts, f.n_mounts);
	return ret;
}

int sbx_cgroup_plan(const struct sbx_cgroup_host *h, const char *cgroup_parent, unsigned needed,
		    struct sbx_cgroup_plan *p, struct sbx_error **err)
{
	return plan(h, cgroup_parent, NULL, needed, p, err);
}

int sbx_cgroup_plan_path(const struct sbx_cgroup_host *h, const char *path, unsigned needed,
			 struct sbx_cgroup_plan *p, struct sbx_error **err)
{
	/* Checked here too, not only by the OCI parser: the path becomes
	 * directory names. */
	const char *last = strrchr(path, '/');
	if (path[0] != '/' || last[1] == '\0' || strstr(path, "//") || strstr(path, "/./") ||
	    strstr(path, "/../") || strcmp(last, "/.") == 0 || strcmp(last, "/..") == 0)
		return sbx_error_set(err, EINVAL, "cgroupsPath %s: an absolute path of names is needed", path);
	cleanup_free char *parent = last == path ? sbx_xstrdup("/") : sbx_xstrndup(path, (size_t)(last - path));
	if (plan(h, parent, parent, needed, p, err) < 0)
		return sbx_error_wrap(err, "cgroupsPath %s", path);
	p->name = sbx_xstrdup(last + 1);
	return 0;
}

static void random_name(pid_t pid, char *buf, size_t len)
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		uint64_t ns = sbx_now_ns();
		r = (uint32_t)(ns ^ (ns >> 32) ^ (uint64_t)pid);
	}
	snprintf(buf, len, "sbx-%d-%08x", (int)pid, r);
}

static struct sbx_cgroup *cg_new(void)
{
	struct sbx_cgroup *cg = sbx_xcalloc(1, sizeof(*cg));
	cg->fd = -1;
	return cg;
}

static void cg_free(struct sbx_cgroup *cg)
{
	free(cg->path);
	free(cg->warning);
	free(cg->dir);
	free(cg->leaf);
	free(cg->leaf_parent);
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		free(cg->v1_dir[c]);
		free(cg->v1_made[c]);
	}
	free(cg);
}

static void pending_free(struct sbx_cg_pending *pd)
{
	if (pd == NULL)
		return;
	sbx_cgroup_plan_free(&pd->plan);
	sbx_cgroup_host_free(&pd->host);
	free(pd);
}

/* Destroy with a host (v2 needs the pid to undo a leaf move). */
static int destroy(struct sbx_cgroup *cg, const struct sbx_cgroup_host *h, struct sbx_error **err)
{
	if (cg == NULL)
		return 0;
	int r = 0;
	if (cg->pending) {
		pending_free(cg->pending);
		cg->pending = NULL;
	} else if (cg->version == 2)
		r = sbx_cg2_destroy(cg, h, err);
	else if (cg->version == 1)
		r = sbx_cg1_destroy(cg, err);
	cg_free(cg);
	return r;
}

int sbx_cgroup_create_from_plan(const struct sbx_cgroup_host *h, const struct sbx_cgroup_plan *p,
				const struct sbx_limits *l, struct sbx_cgroup **out, struct sbx_error **err)
{
	char name[256];
	if (p->name)
		snprintf(name, sizeof(name), "%s", p->name);
	else
		random_name(h->pid, name, sizeof(name));
	struct sbx_cgroup *cg = cg_new();
	int r =
	    p->version == 2 ? sbx_cg2_create(h, p, l, name, cg, err) : sbx_cg1_create(p, l, name, cg, err);
	if (r < 0) {
		destroy(cg, h, NULL);
		return sbx_error_wrap(err, "creating the sandbox's cgroup");
	}
	*out = cg;
	return 0;
}


/* No usable cgroup (`e` says why): with allow_no_cgroup, turn `cg` into
 * the version-0 object that warns; otherwise the error, with how to
 * delegate when there was no usable place or the kernel refused one (not
 * when, say, a limit value was refused). */
static int no_cgroup(struct sbx_cgroup *cg, bool allow_no_cgroup, bool planned, struct sbx_error *e,
		     struct sbx_error **err)
{
	if (allow_no_cgroup) {
		cg->version = 0;
		free(cg->path);
		cg->path = sbx_xstrdup("");
		cg->warning = sbx_xasprintf("running WITHOUT a cgroup (--allow-no-cgroup): no CPU limit; processes, "
					    "memory and file size bounded by rlimits only (RLIMIT_NPROC, RLIMIT_DATA "
					    "per process, RLIMIT_FSIZE): %s",
					    e->msg);
		return 0;
	}
	bool denied = !planned || e->errno_ == EACCES || e->errno_ == EPERM;
	sbx_error_set(err, 0, "cannot limit the sandbox's resources: %s. %s", e->msg,
		      denied ? delegate_howto : "Pass --allow-no-cgroup to run without limits");
	if (err)
		(*err)->errno_ = e->errno_;
	return -1;
}

int sbx_cgroup_start(const struct sbx_cgroup_request *req, struct sbx_cgroup **out, bool *deferred,
		     struct sbx_error **err)
{
	struct sbx_cg_pending *pd = sbx_xcalloc(1, sizeof(*pd));
	cleanup_error struct sbx_error *e = NULL;
	bool planned = false;
	*deferred = false;
	int r = sbx_cgroup_host_read(&pd->host, &e);
	if (r == 0) {
		r = req->path ? sbx_cgroup_plan_path(&pd->host, req->path, sbx_cgroup_needed(&req->limits), &pd->plan, &e)
			      : sbx_cgroup_plan(&pd->host, req->parent, sbx_cgroup_needed(&req->limits), &pd->plan, &e);
		planned = r == 0;
	}
	if (r == 0 && pd->plan.version == 1) {
		struct sbx_cgroup *cg = cg_new();
		cg->version = 1;
		pd->limits = req->limits;
		pd->allow_no_cgroup = req->allow_no_cgroup;
		cg->pending = pd;
		*out = cg;
		*deferred = true;
		return 0;
	}
	if (r == 0)
		r = sbx_cgroup_create_from_plan(&pd->host, &pd->plan, &req->limits, out, &e);
	pending_free(pd);
	if (r == 0)
		return 0;
	struct sbx_cgroup *cg = cg_new();
	if (no_cgroup(cg, req->allow_no_cgroup, planned, e, err) < 0) {
		cg_free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

int sbx_cgroup_finish(struct sbx_cgroup *cg, struct sbx_error **err)
{
	if (cg == NULL || cg->pending == NULL)
		return 0;
	struct sbx_cg_pending *pd = cg->pending;
	cg->pending = NULL;
	struct sbx_cgroup *made = NULL;
	cleanup_error struct sbx_error *e = NULL;
	int r = sbx_cgroup_create_from_plan(&pd->host, &pd->plan, &pd->limits, &made, &e);
	bool allow = pd->allow_no_cgroup;
	pending_free(pd);
	if (r == 0) {
		*cg = *made;
		free(made);
		return 0;
	}
	cg->version = 0; /* nothing was made: nothing to remove */
	return no_cgroup(cg, allow, true, e, err);
}

int sbx_cgroup_create(const struct sbx_cgroup_request *req, struct sbx_cgroup **out,
		      struct sbx_error **err)
{
	bool deferred;
	if (sbx_cgroup_start(req, out, &deferred, err) < 0)
		return -1;
	if (sbx_cgroup_finish(*out, err) < 0) {
		sbx_cgroup_destroy(*out, NULL);
		*out = NULL;
		return -1;
	}
	return 0;
}

int sbx_cgroup_version(const struct sbx_cgroup *cg)
{
	return cg ? cg->version : 0;
}
const char *sbx_cgroup_path(const struct sbx_cgroup *cg)
{
	return cg && cg->path ? cg->path : "";
}
const char *sbx_cgroup_warning(const struct sbx_cgroup *cg) { return cg ? cg->warning : NULL; }

bool sbx_cgroup_limits_enforced(const struct sbx_cgroup *cg)
{
	return cg && cg->limits_enforced;
}
int sbx_cgroup_clone_fd(const struct sbx_cgroup *cg)
{
	return cg && cg->version == 2 ? cg->fd : -1;
}

int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid, struct sbx_error **err)
{
	if (cg == NULL || cg->version != 1 || cg->pending)
		return 0;
	return sbx_cg1_attach(cg, pid, err);
}

int sbx_cgroup_self_attach_fds(struct sbx_cgroup *cg, int *fds, size_t max, struct sbx_error **err)
{
	if (cg == NULL || cg->version != 1 || cg->pending)
		return 0;
	return sbx_cg1_self_attach_fds(cg, fds, max, err);
}

int sbx_cgroup_self_attach(const int *fds, size_t n, struct sbx_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (write(fds[i], "0", 1) != 1)
			return sbx_error_set(err, errno, "joining the sandbox's cgroup (hierarchy %zu of %zu)", i + 1, n);
	return 0;
}

int sbx_cgroup_kill(struct sbx_cgroup *cg, struct sbx_error **err)
{
	if (cg == NULL || cg->version == 0 || cg->pending)
		return 0;
	return cg->version == 2 ? sbx_cg2_kill(cg, err) : sbx_cg1_kill(cg, err);
}

int sbx_cgroup_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *st, struct sbx_error **err)
{
	memset(st, 0, sizeof(*st));
	if (cg == NULL || cg->version == 0 || cg->pending)
		return 0;
	return cg->version == 2 ? sbx_cg2_stats(cg, st, err) : sbx_cg1_stats(cg, st, err);
}

int sbx_cgroup_destroy(struct sbx_cgroup *cg, struct sbx_error **err)
{
	struct sbx_cgroup_host h = {.root = "", .euid = geteuid(), .pid = getpid()};
	return destroy(cg, &h, err);
}

int sbx_cgroup_remove_stale(const char *dir, int version)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int removed = 0;
	pid_t self = getpid();
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		pid_t creator;
		if (e->d_type != DT_DIR || !sbx_cg_parse_name(e->d_name, &creator))
			continue;
		/* Only a dead creator's cgroup is stale; a live one is another run
		 * (or the leaf of a live supervisor). */
		if (creator == self || kill(creator, 0) == 0 || errno != ESRCH)
			continue;
		cleanup_free char *path = sbx_cg_join(dir, e->d_name);
		/* The creator was SIGKILLed: its workload may still run. */
		if (version == 2)
			(void)sbx_cg_write(path, "cgroup.kill", "1");
		if (sbx_cg_kill_until_empty(path, 1000) == 0 && sbx_cg_rmdir(path, 1000) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
