/* The YAML config, read with libyaml's document API (each node keeps its
 * line for error messages).  Every key goes through the same setters as the
 * command-line flags, so both accept the same values. */
#include "config_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/size.h"

struct ctx {
	const char *file;
	yaml_document_t *doc;
	struct sbx_config *c;
};

static unsigned line_of(yaml_node_t *n) { return (unsigned)n->start_mark.line + 1; }

static int bad(struct ctx *x, yaml_node_t *n, const char *key, struct sbx_error **err)
{
	return sbx_error_wrap(err, "%s:%u: %s", x->file, line_of(n), key);
}

static int need(struct ctx *x, yaml_node_t *n, yaml_node_type_t type, const char *key, struct sbx_error **err)
{
	static const char *const names[] = { "nothing", "a scalar value", "a list", "a mapping" };
	if (n->type == type)
		return 0;
	sbx_error_set(err, 0, "expected %s", names[type]);
	return bad(x, n, key, err);
}

static const char *scalar(yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int get_size(struct ctx *x, yaml_node_t *n, const char *key, uint64_t *out, struct sbx_error **err)
{
	if (need(x, n, YAML_SCALAR_NODE, key, err) < 0)
		return -1;
	if (sbx_parse_size(scalar(n), out, err) < 0)
		return bad(x, n, key, err);
	return 0;
}

static int get_bool(struct ctx *x, yaml_node_t *n, const char *key, bool *out, struct sbx_error **err)
{
	if (need(x, n, YAML_SCALAR_NODE, key, err) < 0)
		return -1;
	const char *v = scalar(n);
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		*out = false;
	else {
		sbx_error_set(err, 0, "'%s' is not true or false", v);
		return bad(x, n, key, err);
	}
	return 0;
}

static int get_string(struct ctx *x, yaml_node_t *n, const char *key, char **out, struct sbx_error **err)
{
	if (need(x, n, YAML_SCALAR_NODE, key, err) < 0)
		return -1;
	return sbx_config_set_string(out, scalar(n));
}

typedef int (*key_fn)(struct ctx *, const char *key, yaml_node_t *val, struct sbx_error **);

/* Walk a mapping, calling fn for each key; fn returns 1 for unknown keys. */
static int each_key(struct ctx *x, yaml_node_t *map, const char *where, key_fn fn, struct sbx_error **err)
{
	if (need(x, map, YAML_MAPPING_NODE, where, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		if (k == NULL || v == NULL || need(x, k, YAML_SCALAR_NODE, where, err) < 0)
			return -1;
		int r = fn(x, scalar(k), v, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			sbx_error_set(err, 0, "unknown key '%s'%s%s", scalar(k), *where ? " in " : "", where);
			return sbx_error_wrap(err, "%s:%u", x->file, line_of(k));
		}
	}
	return 0;
}

static int limits_key(struct ctx *x, const char *k, yaml_node_t *v, struct sbx_error **err)
{
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
		if (need(x, v, YAML_SCALAR_NODE, key, err) < 0)
			return -1;
		if (sbx_parse_uint(scalar(v), 4194304, &l->pids, err) < 0 || l->pids == 0) {
			if (*err == NULL)
				sbx_error_set(err, 0, "must be at least 1");
			return bad(x, v, key, err);
		}
		return 0;
	}
	if (strcmp(k, "cpus") == 0 || strcmp(k, "timeout") == 0) {
		if (need(x, v, YAML_SCALAR_NODE, key, err) < 0)
			return -1;
		double *d = k[0] == 'c' ? &l->cpus : &l->timeout;
		if (sbx_parse_double(scalar(v), d, 0, err) < 0)
			return bad(x, v, key, err);
		return 0;
	}
	return 1;
}

static int mount_item(struct ctx *x, yaml_node_t *item, struct sbx_error **err)
{
	if (need(x, item, YAML_MAPPING_NODE, "mounts[]", err) < 0)
		return -1;
	char *source = NULL, *target = NULL;
	bool rw = false;
	int r = -1;
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		if (need(x, k, YAML_SCALAR_NODE, "mounts[]", err) < 0)
			goto out;
		const char *name = scalar(k);
		if (strcmp(name, "source") == 0) {
			if (get_string(x, v, "mounts[].source", &source, err) < 0)
				goto out;
		} else if (strcmp(name, "target") == 0) {
			if (get_string(x, v, "mounts[].target", &target, err) < 0)
				goto out;
		} else if (strcmp(name, "rw") == 0) {
			if (get_bool(x, v, "mounts[].rw", &rw, err) < 0)
				goto out;
		} else {
			sbx_error_set(err, 0, "unknown key '%s' in mounts (source, target, rw)", name);
			sbx_error_wrap(err, "%s:%u", x->file, line_of(k));
			goto out;
		}
	}
	if (source == NULL || target == NULL) {
		sbx_error_set(err, 0, "a mount needs both source and target");
		bad(x, item, "mounts[]", err);
		goto out;
	}
	if (sbx_config_add_bind(x->c, source, target, rw, err) < 0) {
		bad(x, item, "mounts[]", err);
		goto out;
	}
	r = 0;
out:
	free(source);
	free(target);
	return r;
}

static int out_key(struct ctx *x, const char *k, yaml_node_t *v, struct sbx_error **err)
{
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
	return 1;
}

static int env_key(struct ctx *x, const char *k, yaml_node_t *v, struct sbx_error **err)
{
	char key[300];
	snprintf(key, sizeof(key), "env.%s", k);
	if (need(x, v, YAML_SCALAR_NODE, key, err) < 0)
		return -1;
	if (sbx_config_set_env(x->c, k, scalar(v), err) < 0)
		return bad(x, v, key, err);
	return 0;
}

static int idmap_key(struct ctx *x, const char *k, yaml_node_t *v, struct sbx_error **err)
{
	uint64_t n;
	if (strcmp(k, "host_base") != 0 && strcmp(k, "size") != 0)
		return 1;
	char key[64];
	snprintf(key, sizeof(key), "idmap.%s", k);
	if (need(x, v, YAML_SCALAR_NODE, key, err) < 0)
		return -1;
	if (sbx_parse_uint(scalar(v), UINT32_MAX - 1, &n, err) < 0)
		return bad(x, v, key, err);
	if (k[0] == 'h')
		x->c->idmap_host_base = (uint32_t)n;
	else
		x->c->idmap_size = (uint32_t)n;
	return 0;
}

static int top_key(struct ctx *x, const char *k, yaml_node_t *v, struct sbx_error **err)
{
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
	if (strcmp(k, "network") == 0 || strcmp(k, "user") == 0) {
		if (need(x, v, YAML_SCALAR_NODE, k, err) < 0)
			return -1;
		int r = k[0] == 'n' ? sbx_config_set_network(c, scalar(v), err) : sbx_config_set_user(c, scalar(v), err);
		return r < 0 ? bad(x, v, k, err) : 0;
	}
	if (strcmp(k, "limits") == 0)
		return each_key(x, v, "limits", limits_key, err);
	if (strcmp(k, "out") == 0)
		return each_key(x, v, "out", out_key, err);
	if (strcmp(k, "env") == 0)
		return each_key(x, v, "env", env_key, err);
	if (strcmp(k, "idmap") == 0)
		return each_key(x, v, "idmap", idmap_key, err);
	if (strcmp(k, "mounts") == 0 || strcmp(k, "tmpfs") == 0 || strcmp(k, "command") == 0) {
		if (need(x, v, YAML_SEQUENCE_NODE, k, err) < 0)
			return -1;
		size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
		if (k[0] == 'c') {
			char **argv = calloc(n + 1, sizeof(char *));
			if (argv == NULL)
				abort();
			for (size_t i = 0; i < n; i++) {
				yaml_node_t *it = yaml_document_get_node(x->doc, v->data.sequence.items.start[i]);
				if (need(x, it, YAML_SCALAR_NODE, "command[]", err) < 0) {
					for (size_t j = 0; j < i; j++)
						free(argv[j]);
					free(argv);
					return -1;
				}
				argv[i] = strdup(scalar(it));
			}
			for (size_t i = 0; c->argv && c->argv[i]; i++)
				free(c->argv[i]);
			free(c->argv);
			c->argv = argv;
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *it = yaml_document_get_node(x->doc, v->data.sequence.items.start[i]);
			if (k[0] == 'm') {
				if (mount_item(x, it, err) < 0)
					return -1;
			} else {
				/* tmpfs: a list of "DST[:SIZE]" strings */
				if (need(x, it, YAML_SCALAR_NODE, "tmpfs[]", err) < 0)
					return -1;
				if (sbx_config_add_tmpfs_spec(c, scalar(it), err) < 0)
					return bad(x, it, "tmpfs[]", err);
			}
		}
		return 0;
	}
	return 1;
}

int sbx_config_load_yaml(struct sbx_config *c, const char *path, struct sbx_error **err)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return sbx_error_set(err, errno, "config %s", path);
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	int r = -1;
	if (!yaml_parser_load(&parser, &doc)) {
		sbx_error_set(err, 0, "%s:%zu:%zu: %s %s", path, parser.problem_mark.line + 1,
			      parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML",
			      parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	struct ctx x = { .file = path, .doc = &doc, .c = c };
	if (root == NULL)
		r = 0; /* an empty file changes nothing */
	else
		r = each_key(&x, root, "", top_key, err);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return r;
}
