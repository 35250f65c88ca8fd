/* Where a rootless pool's cgroups go on cgroup v2 when it is given no
 * --cgroup-parent.  `sbx run`'s default is then the caller's own cgroup,
 * whose children get controllers only while it holds no process (the
 * kernel's no-internal-processes rule): `sbx run` alone there moves into a
 * leaf first (cgroups/v2.c).  A pool is many processes (server, keepers,
 * job supervisors), each of which would plan on its own, so the server does
 * it once for all: started alone in a delegated cgroup X (as `systemd-run
 * --user --scope -p Delegate=yes -- sbx pool ...` starts it), it moves into
 * the leaf X/sbx-<pid>-pool, where every process it forks is born, and X
 * becomes the --cgroup-parent of every zygote and job.  At the end it
 * restores X's controllers and moves back, and removes the leaf.  Killed,
 * it leaves the empty leaf, named as sbx names its cgroups, so the next sbx
 * that uses X removes it (its creator is dead). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

#define CG_ROOT "/sys/fs/cgroup"

static int write_text(const char *dir, const char *file, const char *text)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static char *read_text(const char *dir, const char *file)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	char *t = calloc(1, 4096);
	if (t == NULL)
		abort();
	size_t n = fread(t, 1, 4095, f);
	fclose(f);
	t[n] = '\0';
	return t;
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* Our cgroup on a pure v2 host ("0::/X" the only line), "" when not. */
static void own_cgroup(char *path, size_t size)
{
	path[0] = '\0';
	char *self = read_text("/proc/self", "cgroup");
	char *probe = read_text(CG_ROOT, "cgroup.controllers");
	if (self && probe && strncmp(self, "0::/", 4) == 0 && strchr(self, '\n') == strrchr(self, '\n') &&
	    strlen(self) - 4 < size) {
		snprintf(path, size, "%s", self + 3);
		path[strcspn(path, "\n")] = '\0';
	}
	free(self);
	free(probe);
}

/* X holds only us, and we may move processes there (it is delegated). */
static bool alone_in(const char *dir)
{
	char *procs = read_text(dir, "cgroup.procs");
	char me[24];
	snprintf(me, sizeof(me), "%d\n", (int)getpid());
	bool alone = procs && strcmp(procs, me) == 0;
	free(procs);
	char path[4200];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	return alone && access(path, W_OK) == 0;
}

int sbx_pool_cgroup_setup(struct sbx_pool *p, struct sbx_error **err)
{
	char x[2048];
	if (geteuid() == 0 || p->base.cgroup_parent != NULL)
		return 0;
	own_cgroup(x, sizeof(x));
	snprintf(p->cg_dir, sizeof(p->cg_dir), "%s%s", CG_ROOT, x);
	if (strcmp(x, "/") == 0 || x[0] == '\0' || !alone_in(p->cg_dir))
		return 0; /* as sbx run: its error says what to do */
	snprintf(p->cg_leaf, sizeof(p->cg_leaf), "%s/sbx-%d-pool", p->cg_dir, (int)getpid());
	p->cg_subtree_before = read_text(p->cg_dir, "cgroup.subtree_control");
	char me[24];
	snprintf(me, sizeof(me), "%d", (int)getpid());
	if (p->cg_subtree_before == NULL || mkdir(p->cg_leaf, 0755) < 0 ||
	    write_text(p->cg_leaf, "cgroup.procs", me) < 0) {
		int e = errno;
		rmdir(p->cg_leaf);
		p->cg_leaf[0] = '\0';
		return sbx_error_set(err, e, "moving the pool into a leaf of its cgroup %s", p->cg_dir);
	}
	p->defaults[p->n_defaults++] = "--cgroup-parent";
	p->defaults[p->n_defaults++] = strdup(x);
	return 0;
}

void sbx_pool_cgroup_restore(struct sbx_pool *p)
{
	if (p->cg_leaf[0] == '\0')
		return;
	/* Controllers our zygotes and jobs enabled in X (none were: X held
	 * us), off again, so that we may move back. */
	char *now = read_text(p->cg_dir, "cgroup.subtree_control");
	char off[256] = "";
	for (char *save = NULL, *c = now ? strtok_r(now, " \n", &save) : NULL; c;
	     c = strtok_r(NULL, " \n", &save)) {
		size_t l = strlen(off);
		if (!has_word(p->cg_subtree_before, c))
			snprintf(off + l, sizeof(off) - l, "%s-%s", l ? " " : "", c);
	}
	free(now);
	char me[24];
	snprintf(me, sizeof(me), "%d", (int)getpid());
	if ((off[0] == '\0' || write_text(p->cg_dir, "cgroup.subtree_control", off) == 0) &&
	    write_text(p->cg_dir, "cgroup.procs", me) == 0)
		rmdir(p->cg_leaf);
}
