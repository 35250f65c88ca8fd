#include "config.h"
#include "idmap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/size.h"
#include "lib/alloc.h"
#include "lib/strv.h"

const char *const sbx_userns_limit_names[SBX_USERNS_LIMITS] = {
	[SBX_UL_USER_NAMESPACES] = "max_user_namespaces",     [SBX_UL_PID_NAMESPACES] = "max_pid_namespaces",
	[SBX_UL_NET_NAMESPACES] = "max_net_namespaces",       [SBX_UL_MNT_NAMESPACES] = "max_mnt_namespaces",
	[SBX_UL_IPC_NAMESPACES] = "max_ipc_namespaces",       [SBX_UL_UTS_NAMESPACES] = "max_uts_namespaces",
	[SBX_UL_CGROUP_NAMESPACES] = "max_cgroup_namespaces", [SBX_UL_TIME_NAMESPACES] = "max_time_namespaces",
	[SBX_UL_INOTIFY_INSTANCES] = "max_inotify_instances", [SBX_UL_INOTIFY_WATCHES] = "max_inotify_watches",
	[SBX_UL_FANOTIFY_GROUPS] = "max_fanotify_groups",     [SBX_UL_FANOTIFY_MARKS] = "max_fanotify_marks",
};

/* Defaults (docs/configuration.md): no nested namespaces of any kind (the
 * seccomp profile denies them too; this holds with --seccomp unconfined),
 * no fanotify, and a few inotify instances and watches, so that even many
 * concurrent sandboxes leave the host user's share (128 instances) usable. */
static const uint64_t userns_limit_defaults[SBX_USERNS_LIMITS] = {
	[SBX_UL_INOTIFY_INSTANCES] = 8,
	[SBX_UL_INOTIFY_WATCHES] = 8192,
};

void sbx_config_init(struct sbx_config *c)
{
	memset(c, 0, sizeof(*c));
	c->network = SBX_NET_LOOPBACK;
	c->limits.memory = 1ull << 30;
	c->limits.memory_swap = 0;
	c->limits.pids = 256;
	c->limits.cpus = 1.0;
	c->limits.timeout = 0;
	c->limits.output = 1ull << 20;
	c->limits.tmp = 64ull << 20;
	c->out_size = 64ull << 20;
	c->idmap_host_base = SBX_DEFAULT_IDMAP_BASE;
	c->idmap_size = SBX_DEFAULT_IDMAP_SIZE;
	memcpy(c->userns_limits, userns_limit_defaults, sizeof(c->userns_limits));
}

void sbx_config_free(struct sbx_config *c)
{
	free(c->rootfs);
	sbx_strv_free(c->argv);
	sbx_strv_free(c->env);
	free(c->workdir);
	free(c->hostname);
	for (size_t i = 0; i < c->n_binds; i++) {
		free(c->binds[i].source);
		free(c->binds[i].target);
	}
	free(c->binds);
	for (size_t i = 0; i < c->n_tmpfs; i++)
		free(c->tmpfs[i].target);
	free(c->tmpfs);
	free(c->out_dir);
	free(c->seccomp);
	free(c->report);
	free(c->stdout_file);
	free(c->stderr_file);
	free(c->cgroup_parent);
	free(c->cgroup_path);
	free(c->image_config);
	sbx_strv_free(c->sys_masked);
	for (size_t i = 0; i < c->n_devices; i++) {
		free(c->devices[i].path);
		free(c->devices[i].host);
	}
	free(c->devices);
	memset(c, 0, sizeof(*c));
}

int sbx_config_set_string(char **field, const char *value)
{
	free(*field);
	*field = value ? sbx_xstrdup(value) : NULL;
	return 0;
}

int sbx_config_set_network(struct sbx_config *c, const char *v, struct sbx_error **err)
{
	if (strcmp(v, "loopback") == 0)
		c->network = SBX_NET_LOOPBACK;
	else if (strcmp(v, "none") == 0)
		c->network = SBX_NET_NONE;
	else if (strcmp(v, "host") == 0)
		c->network = SBX_NET_HOST;
	else
		return sbx_error_set(err, 0, "unknown network mode '%s' (use none, loopback or host)", v);
	return 0;
}

/* A path inside the sandbox: absolute, no "..", no empty name; normalised
 * (duplicate and trailing slashes removed) into a new string. */
static int sandbox_path(const char *p, char **out, struct sbx_error **err)
{
	if (p[0] != '/')
		return sbx_error_set(err, 0, "'%s' is not an absolute path", p);
	char *n = sbx_xstrdup(p);
	char *w = n;
	for (const char *r = p; *r; r++) {
		if (*r == '/' && w > n && w[-1] == '/')
			continue;
		*w++ = *r;
	}
	*w = '\0';
	if (w - n > 1 && w[-1] == '/')
		w[-1] = '\0';
	for (char *s = n; s != NULL; s = strchr(s + 1, '/')) {
		const char *comp = s + 1;
		size_t len = strcspn(comp, "/");
		if ((len == 2 && strncmp(comp, "..", 2) == 0) || (len == 1 && comp[0] == '.')) {
			free(n);
			return sbx_error_set(err, 0, "'%s' must not contain '.' or '..'", p);
		}
	}
	*out = n;
	return 0;
}

int sbx_config_add_bind(struct sbx_config *c, const char *source, const char *target, bool rw,
			struct sbx_error **err)
{
	if (source[0] == '\0')
		return sbx_error_set(err, 0, "empty bind source");
	char *t = NULL;
	if (sandbox_path(target, &t, err) < 0)
		return sbx_error_wrap(err, "bind target");
	if (strcmp(t, "/") == 0) {
		free(t);
		return sbx_error_set(err, 0, "bind target '/' would replace the rootfs (use --rootfs)");
	}
	c->binds = sbx_xreallocarray(c->binds, c->n_binds + 1, sizeof(*c->binds));
	c->binds[c->n_binds++] = (struct sbx_bind){ .source = sbx_xstrdup(source), .target = t, .rw = rw };
	return 0;
}

int sbx_config_add_bind_spec(struct sbx_config *c, const char *spec, struct sbx_error **err)
{
	/* SRC:DST[:ro|rw] */
	char *copy = sbx_xstrdup(spec);
	char *src = copy, *dst = strchr(copy, ':');
	bool rw = false;
	int r = -1;
	if (dst == NULL) {
		sbx_error_set(err, 0, "invalid bind '%s': expected SRC:DST[:ro|rw]", spec);
		goto out;
	}
	*dst++ = '\0';
	char *mode = strchr(dst, ':');
	if (mode != NULL) {
		*mode++ = '\0';
		if (strcmp(mode, "rw") == 0)
			rw = true;
		else if (strcmp(mode, "ro") != 0) {
			sbx_error_set(err, 0, "invalid bind '%s': mode '%s' is neither ro nor rw", spec, mode);
			goto out;
		}
	}
	if (*src == '\0' || *dst == '\0') {
		sbx_error_set(err, 0, "invalid bind '%s': expected SRC:DST[:ro|rw]", spec);
		goto out;
	}
	r = sbx_config_add_bind(c, src, dst, rw, err);
	if (r < 0)
		sbx_error_wrap(err, "invalid bind '%s'", spec);
out:
	free(copy);
	return r;
}

int sbx_config_add_tmpfs_spec(struct sbx_config *c, const char *spec, struct sbx_error **err)
{
	/* DST[:SIZE] */
	char *copy = sbx_xstrdup(spec);
	char *size = strchr(copy, ':');
	uint64_t bytes = 0;
	char *t = NULL;
	int r = -1;
	if (size != NULL) {
		*size++ = '\0';
		if (sbx_parse_size(size, &bytes, err) < 0 || bytes == 0) {
			if (bytes == 0 && *err == NULL)
				sbx_error_set(err, 0, "size must be greater than zero");
			sbx_error_wrap(err, "invalid tmpfs '%s'", spec);
			goto out;
		}
	}
	if (sandbox_path(copy, &t, err) < 0) {
		sbx_error_wrap(err, "invalid tmpfs '%s'", spec);
		goto out;
	}
	if (strcmp(t, "/") == 0) {
		free(t);
		sbx_error_set(err, 0, "invalid tmpfs '%s': cannot replace /", spec);
		goto out;
	}
	c->tmpfs = sbx_xreallocarray(c->tmpfs, c->n_tmpfs + 1, sizeof(*c->tmpfs));
	c->tmpfs[c->n_tmpfs++] = (struct sbx_tmpfs){ .target = t, .size = bytes };
	r = 0;
out:
	free(copy);
	return r;
}

static int valid_env_key(const char *k, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (k[i] == '=' || k[i] == '\0')
			return 0;
	return 1;
}

int sbx_config_set_env(struct sbx_config *c, const char *key, const char *value, struct sbx_error **err)
{
	size_t klen = strlen(key);
	if (!valid_env_key(key, klen))
		return sbx_error_set(err, 0, "invalid environment variable name '%s'", key);
	sbx_kv_set(&c->env, &c->n_env, key, klen, value);
	return 0;
}

int sbx_config_add_env_spec(struct sbx_config *c, const char *spec, struct sbx_error **err)
{
	const char *eq = strchr(spec, '=');
	if (eq == NULL || eq == spec)
		return sbx_error_set(err, 0, "invalid environment '%s': expected KEY=VALUE", spec);
	char *key = sbx_xstrndup(spec, (size_t)(eq - spec));
	int r = sbx_config_set_env(c, key, eq + 1, err);
	free(key);
	return r;
}

int sbx_config_set_userns_limit(struct sbx_config *c, const char *name, const char *value, struct sbx_error **err)
{
	for (int i = 0; i < SBX_USERNS_LIMITS; i++) {
		if (strcmp(name, sbx_userns_limit_names[i]) != 0)
			continue;
		uint64_t n;
		if (strcmp(value, "unset") == 0) {
			c->userns_limits[i] = SBX_UNSET;
			return 0;
		}
		if (sbx_parse_uint(value, INT32_MAX, &n, err) < 0)
			return sbx_error_wrap(err, "%s", name);
		c->userns_limits[i] = n;
		return 0;
	}
	return sbx_error_set(err, 0, "unknown user-namespace limit '%s' (one of max_user_namespaces, ..., "
				     "max_inotify_instances, max_inotify_watches, max_fanotify_groups, "
				     "max_fanotify_marks; see docs/configuration.md)", name);
}

int sbx_config_add_userns_limit_spec(struct sbx_config *c, const char *spec, struct sbx_error **err)
{
	const char *eq = strchr(spec, '=');
	if (eq == NULL || eq == spec)
		return sbx_error_set(err, 0, "invalid user-namespace limit '%s': expected NAME=N", spec);
	char *name = sbx_xstrdup(spec);
	name[eq - spec] = '\0';
	int r = sbx_config_set_userns_limit(c, name, eq + 1, err);
	free(name);
	return r;
}

const char *sbx_config_getenv(const struct sbx_config *c, const char *key)
{
	return sbx_kv_get(c->env, key);
}

int sbx_config_set_user(struct sbx_config *c, const char *spec, struct sbx_error **err)
{
	char *copy = sbx_xstrdup(spec);
	char *g = strchr(copy, ':');
	uint64_t uid, gid;
	int r = -1;
	if (g != NULL)
		*g++ = '\0';
	if (sbx_parse_uint(copy, UINT32_MAX - 1, &uid, err) < 0 ||
	    (g != NULL && sbx_parse_uint(g, UINT32_MAX - 1, &gid, err) < 0)) {
		sbx_error_wrap(err, "invalid user '%s' (expected numeric UID[:GID])", spec);
		goto out;
	}
	c->uid = (uid_t)uid;
	c->gid = g != NULL ? (gid_t)gid : (gid_t)uid;
	c->user_set = true;
	r = 0;
out:
	free(copy);
	return r;
}

int sbx_config_set_out_spec(struct sbx_config *c, const char *spec, struct sbx_error **err)
{
	/* DIR[:SIZE]; the size is after the last ':' only if it parses as one. */
	char *copy = sbx_xstrdup(spec);
	char *colon = strrchr(copy, ':');
	if (colon != NULL) {
		uint64_t bytes;
		*colon = '\0';
		if (sbx_parse_size(colon + 1, &bytes, err) < 0 || bytes == 0) {
			if (*err == NULL)
				sbx_error_set(err, 0, "size must be greater than zero");
			free(copy);
			return sbx_error_wrap(err, "invalid --out '%s'", spec);
		}
		c->out_size = bytes;
	}
	if (copy[0] == '\0') {
		free(copy);
		return sbx_error_set(err, 0, "invalid --out '%s': empty directory", spec);
	}
	free(c->out_dir);
	c->out_dir = copy;
	return 0;
}

static int is_valid_hostname(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 64 || h[0] == '-' || h[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.'))
			return 0;
	return 1;
}

int sbx_config_validate(struct sbx_config *c, struct sbx_error **err)
{
	struct stat st;
	if (c->rootfs == NULL)
		return sbx_error_set(err, 0, "no rootfs given (use --rootfs DIR or 'rootfs:' in the config)");
	if (stat(c->rootfs, &st) < 0)
		return sbx_error_set(err, errno, "rootfs '%s'", c->rootfs);
	if (!S_ISDIR(st.st_mode))
		return sbx_error_set(err, 0, "rootfs '%s' is not a directory", c->rootfs);
	char *abs = realpath(c->rootfs, NULL);
	if (abs == NULL)
		return sbx_error_set(err, errno, "rootfs '%s'", c->rootfs);
	free(c->rootfs);
	c->rootfs = abs;
	if (c->argv == NULL || c->argv[0] == NULL)
		return sbx_error_set(err, 0, "no command given (sbx run [OPTIONS] -- COMMAND [ARG...])");
	if (c->argv[0][0] == '\0')
		return sbx_error_set(err, 0, "empty command name");
	if (c->workdir != NULL && c->workdir[0] != '/')
		return sbx_error_set(err, 0, "workdir '%s' is not an absolute path", c->workdir);
	if (c->hostname != NULL && !is_valid_hostname(c->hostname))
		return sbx_error_set(err, 0, "invalid hostname '%s' (letters, digits, '-' and '.', at most 64)",
				     c->hostname);
	for (size_t i = 0; i < c->n_binds; i++) {
		struct sbx_bind *b = &c->binds[i];
		char *src = realpath(b->source, NULL);
		if (src == NULL)
			return sbx_error_set(err, errno, "bind source '%s'", b->source);
		free(b->source);
		b->source = src;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->binds[j].target, b->target) == 0)
				return sbx_error_set(err, 0, "two binds target '%s'", b->target);
	}
	for (size_t i = 0; i < c->n_tmpfs; i++)
		for (size_t j = 0; j < c->n_binds; j++)
			if (strcmp(c->tmpfs[i].target, c->binds[j].target) == 0)
				return sbx_error_set(err, 0, "'%s' is both a bind and a tmpfs target", c->tmpfs[i].target);
	/* Below a few MiB not even the sandbox's own setup fits: the run would
	 * be OOM-killed before the workload starts, which explains nothing. */
	if (c->limits.memory < SBX_MIN_MEMORY)
		return sbx_error_set(err, 0, "memory limit %llu bytes is below the minimum of 4M",
				     (unsigned long long)c->limits.memory);
	if (c->limits.tmp == 0)
		return sbx_error_set(err, 0, "limits.tmp must be greater than zero");
	if (c->limits.output == 0)
		return sbx_error_set(err, 0, "output limit must be greater than zero");
	if (c->idmap_size == 0 || (uint64_t)c->idmap_host_base + c->idmap_size > UINT32_MAX)
		return sbx_error_set(err, 0, "id map %u+%u does not fit in 32-bit ids", c->idmap_host_base,
				     c->idmap_size);
	c->rootless = sbx_idmap_rootless();
	if (!c->rootless) {
		if (c->idmap_host_base == 0)
			return sbx_error_set(err, 0, "idmap host base 0 would map host root into the sandbox");
		if (c->uid >= c->idmap_size || c->gid >= c->idmap_size)
			return sbx_error_set(err, 0, "user %u:%u is outside the sandbox's id range 0-%u", c->uid,
					     c->gid, c->idmap_size - 1);
	} else if (c->uid != 0 || c->gid != 0) {
		return sbx_error_set(err, 0,
				     "user %u:%u is not mapped: rootless runs map only the caller (as 0:0) into the sandbox",
				     c->uid, c->gid);
	}
	if (c->seccomp == NULL)
		sbx_config_set_string(&c->seccomp, "default");
	return 0;
}
