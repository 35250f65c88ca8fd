/* The YAML config, read with the walker seccomp profiles use too
 * (lib/yaml_walk.h: errors name file and line; unknown and duplicate keys
 * are errors).  Every key goes through the same setters as the command-line
 * flags, so both accept the same values. */
#include "config_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/size.h"
#include "lib/strv.h"
#include "lib/yaml_walk.h"

/* A config is a page of text; more is a mistake (or an attack). */
#define MAX_CONFIG_BYTES (1 << 20)

struct ctx {
	struct sbx_yaml *y;
	struct sbx_config *c;
};

/* A setter refused the value: "FILE:LINE: KEY: <why>". */
static int bad(struct ctx *x, yaml_node_t *n, const char *key, struct sbx_error **err)
{
	return sbx_yaml_wrap(x->y, n, key, err);
}

static int get_size(struct ctx *x, yaml_node_t *n, const char *key, uint64_t *out, struct sbx_error **err)
{
	const char *s = sbx_yaml_scalar(x->y, n, key, err);
	if (s == NULL)
		return -1;
	if (sbx_parse_size(s, out, err) < 0)
		return bad(x, n, key, err);
	return 0;
}

static int get_bool(struct ctx *x, yaml_node_t *n, const char *key, bool *out, struct sbx_error **err)
{
	return sbx_yaml_bool(x->y, n, key, out, err);
}

static int get_string(struct ctx *x, yaml_node_t *n, const char *key, char **out, struct sbx_error **err)
{
	const char *s = sbx_yaml_scalar(x->y, n, key, err);
	return s ? sbx_config_set_string(out, s) : -1;
}

static int limits_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct ctx *x = ctx;
	struct sbx_limits *l = &x->c->limits;
	char key[64];
	snprintf(key, sizeof(key), "limits.%s", k);
	if (strcmp(k, "memory") == 0)
		return get_size(x, v, key, &l->memory, err);
	if (strcmp(k, "memory_swap") == 0)
		return get_size(x, v, key, &l->memory_swap, err);
	if (strcmp(k, "memory_high") == 0)
		return get_size(x, v, key, &l->memory_high, err);
	if (strcmp(k, "output") == 0)
		return get_size(x, v, key, &l->output, err);
	if (strcmp(k, "tmp") == 0)
		return get_size(x, v, key, &l->tmp, err);
	if (strcmp(k, "pids") == 0) {
		const char *s = sbx_yaml_scalar(x->y, v, key, err);
		if (s == NULL)
			return -1;
		if (sbx_parse_uint(s, 4194304, &l->pids, err) < 0 || l->pids == 0) {
			if (*err == NULL)
				sbx_error_set(err, 0, "must be at least 1");
			return bad(x, v, key, err);
		}
		return 0;
	}
	if (strcmp(k, "cpus") == 0 || strcmp(k, "timeout") == 0) {
		const char *s = sbx_yaml_scalar(x->y, v, key, err);
		if (s == NULL)
			return -1;
		double *d = k[0] == 'c' ? &l->cpus : &l->timeout;
		if (sbx_parse_double(s, d, 0, err) < 0)
			return bad(x, v, key, err);
		return 0;
	}
	return SBX_YAML_UNKNOWN;
}

struct mount {
	struct ctx *x;
	char *source, *target;
	bool rw;
};

static int mount_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct mount *m = ctx;
	if (strcmp(k, "source") == 0)
		return get_string(m->x, v, "mounts[].source", &m->source, err);
	if (strcmp(k, "target") == 0)
		return get_string(m->x, v, "mounts[].target", &m->target, err);
	if (strcmp(k, "rw") == 0)
		return get_bool(m->x, v, "mounts[].rw", &m->rw, err);
	return SBX_YAML_UNKNOWN;
}

static int mount_item(void *ctx, size_t i, yaml_node_t *item, struct sbx_error **err)
{
	struct ctx *x = ctx;
	struct mount m = {.x = x};
	int r = sbx_yaml_each_pair(x->y, item, "mounts", "source, target, rw", mount_key, &m, err);
	if (r == 0 && (m.source == NULL || m.target == NULL)) {
		sbx_error_set(err, 0, "a mount needs both source and target");
		r = bad(x, item, "mounts[]", err);
	}
	if (r == 0 && sbx_config_add_bind(x->c, m.source, m.target, m.rw, err) < 0)
		r = bad(x, item, "mounts[]", err);
	free(m.source);
	free(m.target);
	return r;
}

/* tmpfs: a list of "DST[:SIZE]" strings */
static int tmpfs_item(void *ctx, size_t i, yaml_node_t *item, struct sbx_error **err)
{
	struct ctx *x = ctx;
	const char *s = sbx_yaml_scalar(x->y, item, "tmpfs[]", err);
	if (s == NULL)
		return -1;
	if (sbx_config_add_tmpfs_spec(x->c, s, err) < 0)
		return bad(x, item, "tmpfs[]", err);
	return 0;
}

struct command {
	struct ctx *x;
	char **argv;
};

static int command_item(void *ctx, size_t i, yaml_node_t *item, struct sbx_error **err)
{
	struct command *cmd = ctx;
	const char *s = sbx_yaml_scalar(cmd->x->y, item, "command[]", err);
	if (s == NULL)
		return -1;
	cmd->argv[i] = sbx_xstrdup(s);
	return 0;
}

static int out_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct ctx *x = ctx;
	if (strcmp(k, "dir") == 0)
		return get_string(x, v, "out.dir", &x->c->out_dir, err);
	if (strcmp(k, "size") == 0) {
		if (get_size(x, v, "out.size", &x->c->out_size, err) < 0)
			return -1;
		if (x->c->out_size == 0) {
			sbx_error_set(err, 0, "must be greater than zero");
			return bad(x, v, "out.size", err);
		}
		return 0;
	}
	return SBX_YAML_UNKNOWN;
}

static int env_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct ctx *x = ctx;
	char key[300];
	snprintf(key, sizeof(key), "env.%s", k);
	const char *s = sbx_yaml_scalar(x->y, v, key, err);
	if (s == NULL)
		return -1;
	if (sbx_config_set_env(x->c, k, s, err) < 0)
		return bad(x, v, key, err);
	return 0;
}

static int idmap_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct ctx *x = ctx;
	uint64_t n;
	if (strcmp(k, "host_base") != 0 && strcmp(k, "size") != 0)
		return SBX_YAML_UNKNOWN;
	char key[64];
	snprintf(key, sizeof(key), "idmap.%s", k);
	const char *s = sbx_yaml_scalar(x->y, v, key, err);
	if (s == NULL)
		return -1;
	if (sbx_parse_uint(s, UINT32_MAX - 1, &n, err) < 0)
		return bad(x, v, key, err);
	if (k[0] == 'h')
		x->c->idmap_host_base = (uint32_t)n;
	else
		x->c->idmap_size = (uint32_t)n;
	return 0;
}

static int userns_limit_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct ctx *x = ctx;
	char key[300];
	snprintf(key, sizeof(key), "userns_limits.%s", k);
	const char *s = sbx_yaml_scalar(x->y, v, key, err);
	if (s == NULL)
		return -1;
	if (sbx_config_set_userns_limit(x->c, k, s, err) < 0)
		return bad(x, v, key, err);
	return 0;
}

static int top_key(void *ctx, const char *k, yaml_node_t *kn, yaml_node_t *v, struct sbx_error **err)
{
	struct ctx *x = ctx;
	struct sbx_config *c = x->c;
	if (strcmp(k, "rootfs") == 0)
		return get_string(x, v, k, &c->rootfs, err);
	if (strcmp(k, "workdir") == 0)
		return get_string(x, v, k, &c->workdir, err);
	if (strcmp(k, "hostname") == 0)
		return get_string(x, v, k, &c->hostname, err);
	if (strcmp(k, "seccomp") == 0)
		return get_string(x, v, k, &c->seccomp, err);
	if (strcmp(k, "report") == 0)
		return get_string(x, v, k, &c->report, err);
	if (strcmp(k, "stdout") == 0)
		return get_string(x, v, k, &c->stdout_file, err);
	if (strcmp(k, "stderr") == 0)
		return get_string(x, v, k, &c->stderr_file, err);
	if (strcmp(k, "cgroup_parent") == 0)
		return get_string(x, v, k, &c->cgroup_parent, err);
	if (strcmp(k, "allow_no_cgroup") == 0)
		return get_bool(x, v, k, &c->allow_no_cgroup, err);
	if (strcmp(k, "image_config") == 0)
		return get_string(x, v, k, &c->image_config, err);
	if (strcmp(k, "no_image_config") == 0)
		return get_bool(x, v, k, &c->no_image_config, err);
	if (strcmp(k, "build_caps") == 0)
		return get_bool(x, v, k, &c->build_caps, err);
	if (strcmp(k, "writable_rootfs") == 0)
		return get_bool(x, v, k, &c->writable_rootfs, err);
	if (strcmp(k, "tmpfs_exec") == 0)
		return get_bool(x, v, k, &c->tmpfs_exec, err);
	if (strcmp(k, "userns_limits") == 0)
		return sbx_yaml_each_pair(x->y, v, "userns_limits", "max_user_namespaces, ..., max_fanotify_marks",
					  userns_limit_key, x, err);
	if (strcmp(k, "network") == 0 || strcmp(k, "user") == 0) {
		const char *s = sbx_yaml_scalar(x->y, v, k, err);
		if (s == NULL)
			return -1;
		int r = k[0] == 'n' ? sbx_config_set_network(c, s, err) : sbx_config_set_user(c, s, err);
		return r < 0 ? bad(x, v, k, err) : 0;
	}
	if (strcmp(k, "limits") == 0)
		return sbx_yaml_each_pair(x->y, v, "limits",
					  "memory, memory_swap, memory_high, pids, cpus, timeout, output, tmp",
					  limits_key, x, err);
	if (strcmp(k, "out") == 0)
		return sbx_yaml_each_pair(x->y, v, "out", "dir, size", out_key, x, err);
	if (strcmp(k, "env") == 0)
		return sbx_yaml_each_pair(x->y, v, "env", "any NAME", env_key, x, err);
	if (strcmp(k, "idmap") == 0)
		return sbx_yaml_each_pair(x->y, v, "idmap", "host_base, size", idmap_key, x, err);
	if (strcmp(k, "mounts") == 0)
		return sbx_yaml_each_item(x->y, v, "mounts", mount_item, x, err);
	if (strcmp(k, "tmpfs") == 0)
		return sbx_yaml_each_item(x->y, v, "tmpfs", tmpfs_item, x, err);
	if (strcmp(k, "command") == 0) {
		struct command cmd = {.x = x, .argv = sbx_xcalloc(sbx_yaml_count(v) + 1, sizeof(char *))};
		if (sbx_yaml_each_item(x->y, v, "command", command_item, &cmd, err) < 0) {
			sbx_strv_free(cmd.argv);
			return -1;
		}
		sbx_strv_free(c->argv);
		c->argv = cmd.argv;
		return 0;
	}
	return SBX_YAML_UNKNOWN;
}

int sbx_config_load_yaml(struct sbx_config *c, const char *path, struct sbx_error **err)
{
	struct sbx_yaml y;
	if (sbx_yaml_load(&y, path, MAX_CONFIG_BYTES, err) < 0)
		return sbx_error_wrap(err, "config");
	yaml_node_t *root = sbx_yaml_root(&y);
	struct ctx x = {.y = &y, .c = c};
	int r = 0; /* an empty file changes nothing */
	if (root)
		r = sbx_yaml_each_pair(&y, root, "",
				       "rootfs, network, limits, mounts, tmpfs, out, env, workdir, user, hostname, "
				       "seccomp, report, stdout, stderr, cgroup_parent, allow_no_cgroup, idmap, "
				       "image_config, no_image_config, command, build_caps, writable_rootfs, tmpfs_exec, "
				       "userns_limits",
				       top_key, &x, err);
	sbx_yaml_free(&y);
	return r;
}
