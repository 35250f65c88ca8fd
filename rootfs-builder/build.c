#include "rootfs-builder/build.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rootfs-builder/build_copy.h"
#include "rootfs-builder/dockerfile.h"
#include "lib/alloc.h"
#include "rootfs-builder/harden.h"
#include "lib/image_config.h"
#include "rootfs-builder/import.h"
#include "lib/safefs.h"
#include "lib/cleanup.h"
#include "lib/idmap_defaults.h"
#include "lib/readfile.h"
#include "lib/strv.h"
#include "lib/clock.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DOCKERFILE_MAX (1 << 20)
#define DEFAULT_MIRROR "http://deb.debian.org/debian"

void rfs_build_opts_init(struct rfs_build_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->file = "Dockerfile.sandbox";
	o->ids = geteuid() == 0 ? RFS_IDS_SHIFT : RFS_IDS_CALLER;
	o->id_base = SBX_DEFAULT_IDMAP_BASE;
}

void rfs_build_opts_free(struct rfs_build_opts *o)
{
	for (size_t i = 0; i < o->n_bases; i++) {
		free(o->bases[i].name);
		free(o->bases[i].archive);
	}
	free(o->bases);
	for (size_t i = 0; i < o->n_args; i++)
		free(o->args[i]);
	free(o->args);
	o->bases = NULL;
	o->args = NULL;
	o->n_bases = o->n_args = 0;
}

int rfs_build_add_base(struct rfs_build_opts *o, const char *spec, struct sbx_error **err)
{
	const char *eq = strchr(spec, '=');
	if (eq == NULL || eq == spec || eq[1] == '\0')
		return sbx_error_set(err, 0, "--base '%s': expected NAME=ARCHIVE", spec);
	struct rfs_build_base *b = o->bases = sbx_xreallocarray(o->bases, o->n_bases + 1, sizeof(*b));
	b[o->n_bases].name = sbx_xstrndup(spec, (size_t)(eq - spec));
	b[o->n_bases].archive = sbx_xstrdup(eq + 1);
	o->n_bases++;
	return 0;
}

int rfs_build_add_arg(struct rfs_build_opts *o, const char *spec, struct sbx_error **err)
{
	if (strchr(spec, '=') == NULL || spec[0] == '=')
		return sbx_error_set(err, 0, "--build-arg '%s': expected KEY=VALUE", spec);
	char **a = o->args = sbx_xreallocarray(o->args, o->n_args + 1, sizeof(*a));
	a[o->n_args++] = sbx_xstrdup(spec);
	return 0;
}

/* ---- KEY=VALUE lists ----------------------------------------------------- */

struct kv {
	char **v; /* NULL-terminated KEY=VALUE */
	size_t n;
};

static const char *kv_get(const struct kv *l, const char *key)
{
	return sbx_kv_get(l->v, key);
}

static void kv_set(struct kv *l, const char *key, const char *value)
{
	sbx_kv_set(&l->v, &l->n, key, strlen(key), value);
}

static void kv_free(struct kv *l)
{
	sbx_strv_free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- stages -------------------------------------------------------------- */

struct stage {
	char *name; /* AS name, or NULL */
	char *dir;  /* its rootfs (a temporary sibling of --out) */
	struct kv env, args;
	char *workdir, *user;
	char **cmd, **entrypoint;
	json_t *labels;
};

struct build {
	const struct rfs_build_opts *o;
	char *context;
	struct kv global_args; /* ARGs before the first FROM */
	struct stage *stages;
	size_t n_stages;
	char *tmpdir; /* scratch space beside --out */
	char sbx[PATH_MAX];
	uint64_t used, unpacked, stored; /* COPY/ADD layers so far, against --max-size */
};

static void stage_free(struct stage *s)
{
	if (s->dir)
		rfs_remove_path(s->dir);
	free(s->dir);
	free(s->name);
	kv_free(&s->env);
	kv_free(&s->args);
	free(s->workdir);
	free(s->user);
	sbx_strv_free(s->cmd);
	sbx_strv_free(s->entrypoint);
	if (s->labels)
		json_decref(s->labels);
	memset(s, 0, sizeof(*s));
}

static const char *build_arg(const struct build *b, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < b->o->n_args; i++)
		if (strncmp(b->o->args[i], key, kl) == 0 && b->o->args[i][kl] == '=')
			return b->o->args[i] + kl + 1;
	return NULL;
}

struct lookup_ctx {
	struct build *b;
	struct stage *s; /* NULL before the first FROM */
};

static const char *lookup(const char *name, void *data)
{
	struct lookup_ctx *c = data;
	const char *v = NULL;
	if (c->s && (v = kv_get(&c->s->env, name)) != NULL)
		return v;
	if (c->s)
		return kv_get(&c->s->args, name);
	return kv_get(&c->b->global_args, name);
}

static char *expand(struct build *b, struct stage *s, const char *text)
{
	struct lookup_ctx c = {b, s};
	return df_expand(text, lookup, &c);
}

static void extract_init(struct build *b, struct rfs_extract *x, int rootfd)
{
	rfs_extract_init(x, rootfd);
	x->ids = b->o->ids;
	x->id_base = b->o->id_base;
	x->id_size = SBX_DEFAULT_IDMAP_SIZE;
	if (b->o->max_size)
		x->max_size = b->o->max_size;
	x->used = b->used;
	x->unpacked = b->unpacked;
	x->stored = b->stored;
	x->warn = b->o->progress;
}

/* Host owner of the image's root user, or -1 when ownership stays ours. */
static uid_t image_root(struct build *b)
{
	if (geteuid() != 0 || b->o->ids == RFS_IDS_CALLER)
		return (uid_t)-1;
	return b->o->ids == RFS_IDS_SHIFT ? b->o->id_base : 0;
}

static int run_argv(char *const argv[], struct sbx_error **err)
{
	pid_t pid = fork();
	if (pid < 0)
		return sbx_error_set(err, errno, "fork");
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "sbx-rootfs: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return sbx_error_set(err, errno, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		return sbx_error_set(err, 0, "%s killed by signal %d", argv[0], WTERMSIG(st));
	return sbx_error_set(err, 0, "%s exited with status %d", argv[0], WEXITSTATUS(st));
}

/* Import an archive (or a tar made by mmdebstrap) as the stage's rootfs. */
static int import_as_stage(struct build *b, struct stage *s, const char *archive, int keep_config,
			   struct sbx_error **err)
{
	struct rfs_import_opts io;
	rfs_import_opts_init(&io);
	io.source = archive;
	io.out = s->dir;
	io.platform = b->o->platform;
	io.ids = b->o->ids;
	io.id_base = b->o->id_base;
	io.force = 1;
	io.progress = NULL;
	if (b->o->max_size)
		io.max_size = b->o->max_size;
	if (rfs_import(&io, err) < 0)
		return -1;
	cleanup_free char *cfgp = sbx_image_config_path(s->dir);
	if (keep_config) {
		struct sbx_image_config ic;
		if (sbx_image_config_load(&ic, cfgp, err) < 0)
			return -1;
		for (size_t i = 0; ic.env && ic.env[i]; i++) {
			char *eq = strchr(ic.env[i], '=');
			if (eq) {
				*eq = '\0';
				kv_set(&s->env, ic.env[i], eq + 1);
			}
		}
		s->workdir = ic.workdir ? sbx_xstrdup(ic.workdir) : NULL;
		s->user = ic.user ? sbx_xstrdup(ic.user) : NULL;
		s->cmd = sbx_strv_dup(ic.cmd);
		s->entrypoint = sbx_strv_dup(ic.entrypoint);
		s->labels = ic.labels ? json_deep_copy(ic.labels) : NULL;
		sbx_image_config_free(&ic);
	}
	unlink(cfgp);
	return 0;
}

/* FROM debian:SUITE[-slim]: mmdebstrap from Debian's mirror into a tar,
 * imported like any image so ownership is mapped the same way.  "-slim"
 * drops documentation, man pages and translations as Debian's slim images do
 * (and keeps dropping them for packages installed later). */
static int from_debian(struct build *b, struct stage *s, const char *suite, int slim, struct sbx_error **err)
{
	cleanup_free char *tar = sbx_xasprintf("%s/%s%s.tar", b->tmpdir, suite, slim ? "-slim" : "");
	const char *mirror = b->o->mirror ? b->o->mirror : DEFAULT_MIRROR;
	const char *argv[40];
	size_t n = 0;
	argv[n++] = "mmdebstrap";
	argv[n++] = "--quiet";
	argv[n++] = "--variant=minbase";
	argv[n++] = "--skip=output/dev"; /* the sandbox brings its own /dev */
	if (slim) {
		static const char *excl[] = {
		    "--dpkgopt=path-exclude=/usr/share/doc/*",
		    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
		    "--dpkgopt=path-exclude=/usr/share/man/*",
		    "--dpkgopt=path-exclude=/usr/share/groff/*",
		    "--dpkgopt=path-exclude=/usr/share/info/*",
		    "--dpkgopt=path-exclude=/usr/share/lintian/*",
		    "--dpkgopt=path-exclude=/usr/share/locale/*",
		};
		for (size_t i = 0; i < sizeof(excl) / sizeof(*excl); i++)
			argv[n++] = excl[i];
	}
	argv[n++] = suite;
	argv[n++] = tar;
	argv[n++] = mirror;
	argv[n] = NULL;
	if (run_argv((char *const *)argv, err) < 0)
		return sbx_error_wrap(err, "mmdebstrap %s", suite);
	int r = import_as_stage(b, s, tar, 0, err);
	unlink(tar);
	if (r < 0)
		return -1;
	/* --skip=output/dev drops /dev itself; sbx run mounts over it. */
	cleanup_close int root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || rfs_mkdir_p(root, "dev", image_root(b), image_root(b)) < 0)
		return sbx_error_set(err, errno, "creating /dev in %s", s->dir);
	kv_set(&s->env, "PATH", DEFAULT_PATH + 5);
	s->cmd = sbx_xcalloc(2, sizeof(char *));
	s->cmd[0] = sbx_xstrdup("bash");
	return 0;
}

static int copy_tree(const char *from, const char *to, struct sbx_error **err)
{
	cleanup_free char *src = sbx_xasprintf("%s/.", from);
	char *argv[] = {"cp", "-a", "--reflink=auto", src, (char *)to, NULL};
	return run_argv(argv, err);
}

static int do_from(struct build *b, const struct df_instr *in, struct sbx_error **err)
{
	cleanup_free char *text = expand(b, NULL, in->rest);
	char **w = NULL;
	size_t n;
	if (df_words(text, &w, &n, err) < 0)
		return -1;
	int ret = -1;
	if (!(n == 1 || (n == 3 && strcasecmp(w[1], "AS") == 0))) {
		sbx_error_set(err, 0, "expected FROM IMAGE [AS NAME]");
		goto out;
	}
	if (in->platform) {
		const char *want = b->o->platform ? b->o->platform : "linux/amd64";
		if (strcmp(in->platform, want) != 0) {
			sbx_error_set(err, 0, "--platform=%s: this build is for %s", in->platform, want);
			goto out;
		}
	}
	b->stages = sbx_xreallocarray(b->stages, b->n_stages + 1, sizeof(*b->stages));
	struct stage *s = &b->stages[b->n_stages++];
	memset(s, 0, sizeof(*s));
	s->name = n == 3 ? sbx_xstrdup(w[2]) : NULL;
	/* Stages live inside the scratch directory (0700, the caller's), not
	 * beside --out: while a RUN step runs, its tree may hold anything the
	 * step made (a set-uid shell, before the scan after the step), and no
	 * other host user may reach it.  sbx run opens the rootfs before it
	 * enters the sandbox, so the private parent does not shut it out. */
	s->dir = sbx_xasprintf("%s/stage-%zu", b->tmpdir, b->n_stages - 1);
	if (mkdir(s->dir, 0700) < 0) {
		sbx_error_set(err, errno, "creating a stage directory in %s", b->tmpdir);
		goto out;
	}
	const char *img = w[0];
	uid_t root = image_root(b);
	struct stage *prev = NULL;
	for (size_t i = 0; i + 1 < b->n_stages; i++)
		if (b->stages[i].name && strcasecmp(b->stages[i].name, img) == 0)
			prev = &b->stages[i];
	const struct rfs_build_base *base = NULL;
	for (size_t i = 0; i < b->o->n_bases; i++)
		if (strcmp(b->o->bases[i].name, img) == 0)
			base = &b->o->bases[i];
	if (base) {
		if (import_as_stage(b, s, base->archive, 1, err) < 0)
			goto out;
	} else if (prev) {
		if (copy_tree(prev->dir, s->dir, err) < 0)
			goto out;
		for (size_t i = 0; i < prev->env.n; i++) {
			char *kv = sbx_xstrdup(prev->env.v[i]), *eq = strchr(kv, '=');
			*eq = '\0';
			kv_set(&s->env, kv, eq + 1);
			free(kv);
		}
		s->workdir = prev->workdir ? sbx_xstrdup(prev->workdir) : NULL;
		s->user = prev->user ? sbx_xstrdup(prev->user) : NULL;
		s->cmd = sbx_strv_dup(prev->cmd);
		s->entrypoint = sbx_strv_dup(prev->entrypoint);
		s->labels = prev->labels ? json_deep_copy(prev->labels) : NULL;
	} else if (strcmp(img, "scratch") == 0) {
		if (chmod(s->dir, 0755) < 0 || (root != (uid_t)-1 && chown(s->dir, root, root) < 0)) {
			sbx_error_set(err, errno, "%s", s->dir);
			goto out;
		}
	} else if (strncmp(img, "debian:", 7) == 0 && img[7] != '\0') {
		char suite[64];
		snprintf(suite, sizeof(suite), "%s", img + 7);
		size_t sl = strlen(suite);
		int slim = sl > 5 && strcmp(suite + sl - 5, "-slim") == 0;
		if (slim)
			suite[sl - 5] = '\0';
		for (char *c = suite; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) {
				sbx_error_set(err, 0, "FROM %s: '%s' is not a Debian suite name", img, suite);
				goto out;
			}
		if (from_debian(b, s, suite, slim, err) < 0)
			goto out;
	} else {
		sbx_error_set(
		    err, 0,
		    "FROM %s: not available without a registry; use scratch, debian:SUITE[-slim], an "
		    "earlier stage, or --base %s=ARCHIVE",
		    img, img);
		goto out;
	}
	ret = 0;
out:
	sbx_strv_free(w);
	return ret;
}

/* "name", "uid", "name:group", "uid:gid" -> numeric ids, using the stage's
 * /etc/passwd and /etc/group. */
static int resolve_user(struct stage *s, const char *user, int64_t *uid, int64_t *gid, struct sbx_error **err)
{
	struct sbx_image_config ic;
	sbx_image_config_init(&ic);
	ic.user = user ? sbx_xstrdup(user) : NULL;
	cleanup_close int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r =
	    fd < 0 ? sbx_error_set(err, errno, "%s", s->dir) : sbx_image_config_resolve_user(&ic, fd, err);
	*uid = ic.uid;
	*gid = ic.gid;
	sbx_image_config_free(&ic);
	return r;
}

static char *workdir_of(struct stage *s)
{
	return s->workdir ? s->workdir : "/";
}

/* Bring the host's resolver configuration in for RUN (the network is the
 * host's); removed again after the step when the image had none. */
static int resolv_in(struct stage *s, int *created)
{
	*created = 0;
	cleanup_close int root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	struct stat st;
	int fd = rfs_openat_beneath(root, "etc/resolv.conf", O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0) {
		int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
		close(fd);
		if (ok)
			return 0;
		const char *base;
		int pfd = rfs_open_parent(root, "etc/resolv.conf", 0, -1, -1, &base);
		if (pfd >= 0) {
			unlinkat(pfd, base, 0);
			close(pfd);
		}
	}
	FILE *in = fopen("/etc/resolv.conf", "r");
	if (in == NULL)
		return 0;
	int out = rfs_openat_beneath(root, "etc/resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
	if (out < 0) {
		fclose(in);
		return 0;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (write(out, buf, n) < 0)
			break;
	fclose(in);
	close(out);
	*created = 1;
	return 0;
}

static void resolv_out(struct stage *s)
{
	cleanup_close int root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *base;
	int pfd = root < 0 ? -1 : rfs_open_parent(root, "etc/resolv.conf", 0, -1, -1, &base);
	if (pfd >= 0) {
		unlinkat(pfd, base, 0);
		close(pfd);
	}
}

static const char *build_network(const struct build *b)
{
	return b->o->network ? b->o->network : "loopback";
}

/* The step ran as the image's root with capabilities over the stage: it
 * may have left set-id files or capabilities that the extraction would
 * not have let through.  The same rules, over the whole tree (harden.h). */
static int harden_stage(struct build *b, struct stage *s, struct sbx_error **err)
{
	struct rfs_harden h;
	rfs_harden_init(&h, b->o->ids == RFS_IDS_SHIFT, b->o->id_base, b->o->ids == RFS_IDS_CALLER);
	cleanup_close int root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return sbx_error_set(err, errno, "%s", s->dir);
	if (rfs_harden_tree(&h, root, err) < 0)
		return sbx_error_wrap(err, "after the step");
	rfs_harden_report(&h, b->o->progress);
	return 0;
}

static int find_sbx(struct build *b, struct sbx_error **err);

static int do_run(struct build *b, struct stage *s, const struct df_instr *in, struct sbx_error **err)
{
	if (b->sbx[0] == '\0' && find_sbx(b, err) < 0)
		return -1;
	int64_t uid, gid;
	if (resolve_user(s, s->user, &uid, &gid, err) < 0)
		return -1;
	char ids[64], cpus[32];
	snprintf(ids, sizeof(ids), "%lld:%lld", (long long)uid, (long long)gid);
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(cpus, sizeof(cpus), "%ld", nproc > 0 ? nproc : 1);
	size_t cap = 40 + 2 * (s->env.n + s->args.n) + in->n_args;
	cleanup_free const char **argv = sbx_xcalloc(cap, sizeof(*argv));
	struct kv env = {0};
	size_t n = 0;
	argv[n++] = b->sbx;
	argv[n++] = "run";
	argv[n++] = "--rootfs";
	argv[n++] = s->dir;
	argv[n++] = "--writable-rootfs";
	argv[n++] = "--no-image-config"; /* the step's settings are all given here */
	/* apt and dpkg need root's capabilities over the namespace (chown,
	 * setuid to _apt); RUN lines are the user's, not a strategy's. */
	argv[n++] = "--build-caps";
	/* The build's network: loopback by default (own namespace, nothing
	 * of the host's); host only when asked, since it hands the step the
	 * host's loopback services and abstract unix sockets. */
	argv[n++] = "--network";
	argv[n++] = build_network(b);
	argv[n++] = "--memory";
	argv[n++] = "4G";
	argv[n++] = "--pids";
	argv[n++] = "4096";
	argv[n++] = "--cpus";
	argv[n++] = cpus;
	argv[n++] = "--output-limit";
	argv[n++] = "1G";
	argv[n++] = "--tmpfs";
	argv[n++] = "/tmp:1G";
	/* Package scripts run what they unpack into /tmp (debconf's config
	 * scripts from apt-extracttemplates), as under Docker. */
	argv[n++] = "--tmpfs-exec";
	argv[n++] = "--allow-no-cgroup";
	argv[n++] = "--workdir";
	argv[n++] = workdir_of(s);
	argv[n++] = "--user";
	argv[n++] = ids;
	/* RUN sees the stage's ARGs as environment variables, the ENVs win. */
	for (size_t i = 0; i < s->args.n; i++) {
		char *kv = sbx_xstrdup(s->args.v[i]), *eq = strchr(kv, '=');
		*eq = '\0';
		kv_set(&env, kv, eq + 1);
		free(kv);
	}
	for (size_t i = 0; i < s->env.n; i++) {
		char *kv = sbx_xstrdup(s->env.v[i]), *eq = strchr(kv, '=');
		*eq = '\0';
		kv_set(&env, kv, eq + 1);
		free(kv);
	}
	if (kv_get(&env, "PATH") == NULL)
		kv_set(&env, "PATH", DEFAULT_PATH + 5);
	for (size_t i = 0; i < env.n; i++) {
		argv[n++] = "--env";
		argv[n++] = env.v[i];
	}
	argv[n++] = "--";
	if (in->json) {
		for (size_t i = 0; i < in->n_args; i++)
			argv[n++] = in->args[i];
	} else {
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = in->rest;
	}
	argv[n] = NULL;
	int created = 0;
	if (strcmp(build_network(b), "host") == 0)
		resolv_in(s, &created);
	fflush(NULL);
	int r = run_argv((char *const *)argv, err);
	if (created)
		resolv_out(s);
	kv_free(&env);
	if (r < 0)
		return sbx_error_wrap(err, "in sbx run --writable-rootfs");
	return harden_stage(b, s, err);
}

static int do_copy(struct build *b, struct stage *s, const struct df_instr *in, struct sbx_error **err)
{
	if (in->n_args < 2)
		return sbx_error_set(err, 0, "%s needs a source and a destination", df_kind_name(in->kind));
	char **words = sbx_xcalloc(in->n_args + 1, sizeof(*words));
	for (size_t i = 0; i < in->n_args; i++)
		words[i] = expand(b, s, in->args[i]);
	int ret = -1;
	int root = -1;
	struct rfs_copy c = {.srcs = words,
			     .n_srcs = in->n_args - 1,
			     .chmod = -1,
			     .add = in->kind == DF_ADD,
			     .tmpdir = b->tmpdir};
	char dest[PATH_MAX];
	const char *d = words[in->n_args - 1];
	const char *wd = workdir_of(s);
	size_t dl = strlen(d);
	if (d[0] == '/')
		snprintf(dest, sizeof(dest), "%s", d);
	else
		snprintf(dest, sizeof(dest), "%s%s%s", wd, wd[strlen(wd) - 1] == '/' ? "" : "/", d);
	/* Keep the trailing slash, which says "into this directory". */
	if (dl && d[dl - 1] == '/' && dest[strlen(dest) - 1] != '/')
		strncat(dest, "/", sizeof(dest) - strlen(dest) - 1);
	c.dest = dest;
	for (size_t i = 0; i + 1 < in->n_args; i++)
		if (in->kind == DF_ADD && (strstr(words[i], "://") || strncmp(words[i], "git@", 4) == 0)) {
			sbx_error_set(err, 0, "ADD %s: remote sources are not supported; download it first",
				      words[i]);
			goto out;
		}
	if (in->from) {
		struct stage *src = NULL;
		for (size_t i = 0; i + 1 < b->n_stages; i++) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			if ((b->stages[i].name && strcasecmp(b->stages[i].name, in->from) == 0) ||
			    strcmp(idx, in->from) == 0)
				src = &b->stages[i];
		}
		if (src == NULL) {
			sbx_error_set(err, 0, "COPY --from=%s: no earlier stage of that name", in->from);
			goto out;
		}
		c.src_root = src->dir;
	} else {
		c.src_root = b->context;
	}
	int64_t uid = 0, gid = 0;
	if (in->chown) {
		cleanup_free char *who = expand(b, s, in->chown);
		if (resolve_user(s, who, &uid, &gid, err) < 0)
			goto out;
	}
	c.uid = (uid_t)uid;
	c.gid = (gid_t)gid;
	if (in->chmod) {
		char *end;
		long m = strtol(in->chmod, &end, 8);
		if (*end || m < 0 || m > 07777) {
			sbx_error_set(err, 0, "--chmod=%s: expected an octal mode", in->chmod);
			goto out;
		}
		c.chmod = (int)m;
	}
	root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		sbx_error_set(err, errno, "%s", s->dir);
		goto out;
	}
	struct rfs_extract x;
	extract_init(b, &x, root);
	int r = rfs_copy_into(&x, &c, err);
	if (r == 0)
		r = rfs_extract_finish(&x, err);
	/* rfs_extract_finish resets the root's mode; the image root's is 0755. */
	if (r == 0)
		rfs_harden_report(&x.harden, b->o->progress);
	b->used = x.used;
	b->unpacked = x.unpacked;
	b->stored = x.stored;
	rfs_extract_free(&x);
	if (r == 0)
		ret = 0;
out:
	if (root >= 0)
		close(root);
	sbx_strv_free(words);
	return ret;
}

static int do_workdir(struct build *b, struct stage *s, const struct df_instr *in, struct sbx_error **err)
{
	cleanup_free char *w = expand(b, s, in->rest);
	char path[PATH_MAX];
	const char *wd = workdir_of(s);
	if (w[0] == '/')
		snprintf(path, sizeof(path), "%s", w);
	else
		snprintf(path, sizeof(path), "%s%s%s", wd, wd[strlen(wd) - 1] == '/' ? "" : "/", w);
	char rel[PATH_MAX];
	const char *why;
	if (rfs_normalize_path(path + 1, rel, sizeof(rel), &why) < 0)
		return sbx_error_set(err, 0, "WORKDIR %s: %s", w, why);
	cleanup_close int root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || rfs_mkdir_p(root, rel, image_root(b), image_root(b)) < 0)
		return sbx_error_set(err, errno, "WORKDIR %s", path);
	free(s->workdir);
	s->workdir = sbx_xasprintf("/%s", rel);
	return 0;
}

static int do_arg(struct build *b, struct stage *s, const struct df_instr *in, struct sbx_error **err)
{
	if (in->n_args != 1)
		return sbx_error_set(err, 0, "ARG takes one NAME[=DEFAULT]");
	cleanup_free char *word = sbx_xstrdup(in->args[0]);
	char *eq = strchr(word, '=');
	if (eq)
		*eq++ = '\0';
	const char *v = build_arg(b, word);
	cleanup_free char *def = eq ? expand(b, s, eq) : NULL;
	if (v == NULL)
		v = def;
	if (v == NULL && s)
		v = kv_get(&b->global_args, word); /* re-declared global ARG */
	if (v == NULL)
		v = "";
	kv_set(s ? &s->args : &b->global_args, word, v);
	return 0;
}

static int do_pairs(struct build *b, struct stage *s, const struct df_instr *in, struct sbx_error **err)
{
	char **pairs = NULL;
	if (df_split_pairs(in->rest, in->kind == DF_ENV, &pairs, err) < 0)
		return -1;
	for (size_t i = 0; pairs[i]; i++) {
		char *eq = strchr(pairs[i], '=');
		*eq = '\0';
		char *v = expand(b, s, eq + 1);
		if (in->kind == DF_ENV) {
			kv_set(&s->env, pairs[i], v);
		} else {
			if (s->labels == NULL)
				s->labels = json_object();
			json_object_set_new(s->labels, pairs[i], json_string(v));
		}
		free(v);
	}
	sbx_strv_free(pairs);
	return 0;
}

static char **command_of(const struct df_instr *in)
{
	if (in->json)
		return sbx_strv_dup(in->args);
	char **v = sbx_xcalloc(4, sizeof(*v));
	v[0] = sbx_xstrdup("/bin/sh");
	v[1] = sbx_xstrdup("-c");
	v[2] = sbx_xstrdup(in->rest);
	return v;
}

static int step(struct build *b, const struct df_instr *in, struct sbx_error **err)
{
	if (in->kind == DF_FROM)
		return do_from(b, in, err);
	if (in->kind == DF_ARG && b->n_stages == 0)
		return do_arg(b, NULL, in, err);
	struct stage *s = &b->stages[b->n_stages - 1];
	switch (in->kind) {
	case DF_RUN:
		return do_run(b, s, in, err);
	case DF_COPY:
	case DF_ADD:
		return do_copy(b, s, in, err);
	case DF_ENV:
	case DF_LABEL:
		return do_pairs(b, s, in, err);
	case DF_ARG:
		return do_arg(b, s, in, err);
	case DF_WORKDIR:
		return do_workdir(b, s, in, err);
	case DF_USER: {
		free(s->user);
		s->user = expand(b, s, in->rest);
		return 0;
	}
	case DF_CMD:
		sbx_strv_free(s->cmd);
		s->cmd = command_of(in);
		return 0;
	case DF_ENTRYPOINT:
		/* As Docker: a new ENTRYPOINT drops the CMD inherited so far. */
		sbx_strv_free(s->entrypoint);
		s->entrypoint = command_of(in);
		sbx_strv_free(s->cmd);
		s->cmd = NULL;
		return 0;
	default:
		return sbx_error_set(err, 0, "unhandled instruction");
	}
}

/* The sbx that runs RUN steps: --sbx, else the one installed beside
 * sbx-rootfs (build/, or the install prefix).  Never one found on PATH: a
 * build must not run its steps through whatever program of that name comes
 * first there. */
static int find_sbx(struct build *b, struct sbx_error **err)
{
	if (b->o->sbx) {
		snprintf(b->sbx, sizeof(b->sbx), "%s", b->o->sbx);
		return 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return sbx_error_set(err, errno, "finding sbx-rootfs's own path (/proc/self/exe)");
	self[n] = '\0';
	snprintf(b->sbx, sizeof(b->sbx), "%s/sbx", dirname(self));
	if (access(b->sbx, X_OK) < 0)
		return sbx_error_set(err, errno, "no sbx beside sbx-rootfs (%s) to run RUN steps; pass --sbx PATH",
				     b->sbx);
	return 0;
}

static int finish(struct build *b, struct sbx_error **err)
{
	struct stage *s = &b->stages[b->n_stages - 1];
	struct sbx_image_config ic;
	sbx_image_config_init(&ic);
	ic.env = sbx_strv_dup(s->env.v);
	ic.cmd = sbx_strv_dup(s->cmd);
	ic.entrypoint = sbx_strv_dup(s->entrypoint);
	ic.workdir = s->workdir ? sbx_xstrdup(s->workdir) : NULL;
	ic.user = s->user ? sbx_xstrdup(s->user) : NULL;
	ic.labels = s->labels ? json_incref(s->labels) : NULL;
	ic.source = sbx_xstrdup(b->o->file);
	ic.format = sbx_xstrdup("sbx-rootfs build");
	ic.platform = sbx_xstrdup(b->o->platform ? b->o->platform : "linux/amd64");
	int ret = -1;
	cleanup_free char *tmp_cfg = sbx_image_config_path(s->dir);
	cleanup_free char *cfg = sbx_image_config_path(b->o->out);
	cleanup_close int root = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		sbx_error_set(err, errno, "%s", s->dir);
		goto out;
	}
	if (sbx_image_config_resolve_user(&ic, root, err) < 0)
		goto out;
	if (sbx_image_config_write(&ic, tmp_cfg, err) < 0)
		goto out;
	if (rfs_commit_dir(s->dir, b->o->out, b->o->force, err) < 0) {
		unlink(tmp_cfg);
		goto out;
	}
	free(s->dir);
	s->dir = NULL;
	if (rename(tmp_cfg, cfg) < 0) {
		sbx_error_set(err, errno, "renaming %s", tmp_cfg);
		goto out;
	}
	ret = 0;
out:
	sbx_image_config_free(&ic);
	return ret;
}

int rfs_build(const struct rfs_build_opts *o, struct sbx_error **err)
{
	double t0 = sbx_now_s();
	struct build b = {.o = o};
	struct df_file f = {0};
	cleanup_free char *text = NULL;
	int ret = -1;
	if (o->out == NULL)
		return sbx_error_set(err, 0, "--out is required");
	struct stat st;
	if (!o->force && lstat(o->out, &st) == 0)
		return sbx_error_set(err, 0, "%s exists (use --force to replace it)", o->out);
	/* A Dockerfile is text of a few kilobytes: read it bounded, and a read
	 * error is an error, not a shorter file. */
	cleanup_close int in = open(o->file, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return sbx_error_set(err, errno, "%s", o->file);
	int rr = sbx_read_fd(in, DOCKERFILE_MAX, &text, NULL);
	if (rr == -EFBIG)
		return sbx_error_set(err, 0, "%s: larger than %d bytes", o->file, DOCKERFILE_MAX);
	if (rr < 0)
		return sbx_error_set(err, -rr, "reading %s", o->file);
	if (df_parse(text, o->file, &f, err) < 0)
		return -1;
	if (o->context) {
		b.context = sbx_xstrdup(o->context);
	} else {
		cleanup_free char *d = sbx_xstrdup(o->file);
		b.context = sbx_xstrdup(dirname(d));
	}
	if (rfs_make_tmp_sibling(o->out, &b.tmpdir, err) < 0)
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		const struct df_instr *in = &f.instrs[i];
		if (o->progress) {
			fprintf(o->progress, "Step %zu/%zu : %s\n", i + 1, f.n, in->text);
			fflush(o->progress);
		}
		double ts = sbx_now_s();
		if (rfs_interrupted) {
			sbx_error_set(err, 0, "interrupted by a signal");
			goto out;
		}
		if (step(&b, in, err) < 0) {
			sbx_error_wrap(err, "%s:%d: %s", o->file, in->line, df_kind_name(in->kind));
			goto out;
		}
		if (o->progress && sbx_now_s() - ts > 1.0)
			fprintf(o->progress, " ---> %.1f s\n", sbx_now_s() - ts);
	}
	if (finish(&b, err) < 0)
		goto out;
	if (o->progress)
		fprintf(o->progress, "Successfully built %s in %.1f s\n", o->out, sbx_now_s() - t0);
	ret = 0;
out:
	if (ret < 0)
		sbx_error_wrap(err, "building %s", o->file);
	for (size_t i = 0; i < b.n_stages; i++)
		stage_free(&b.stages[i]);
	free(b.stages);
	if (b.tmpdir)
		rfs_remove_path(b.tmpdir);
	free(b.tmpdir);
	free(b.context);
	kv_free(&b.global_args);
	df_free(&f);
	return ret;
}
