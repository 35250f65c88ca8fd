#include "lib/yaml_walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/cleanup.h"
#include "lib/readfile.h"

int sbx_yaml_parse(struct sbx_yaml *y, const char *file, const char *text, size_t len, struct sbx_error **err)
{
	memset(y, 0, sizeof(*y));
	y->file = file;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		sbx_oom("yaml_parser_initialize");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int r = 0;
	if (yaml_parser_load(&parser, &y->doc))
		y->loaded = true;
	else
		r = sbx_error_set(err, 0, "%s:%zu:%zu: YAML: %s", file, parser.problem_mark.line + 1,
				  parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error");
	yaml_parser_delete(&parser);
	return r;
}

int sbx_yaml_load(struct sbx_yaml *y, const char *path, size_t max_bytes, struct sbx_error **err)
{
	memset(y, 0, sizeof(*y));
	y->file = path;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "stat %s", path);
	if (!S_ISREG(st.st_mode))
		return sbx_error_set(err, 0, "%s: not a regular file", path);
	cleanup_free char *buf = NULL;
	size_t got = 0;
	/* The size can change between fstat and read: bounded by the read too. */
	int r = (uint64_t)st.st_size > max_bytes ? -EFBIG : sbx_read_fd(fd, max_bytes, &buf, &got);
	if (r == -EFBIG)
		return sbx_error_set(err, 0, "%s: larger than %zu bytes", path, max_bytes);
	if (r < 0)
		return sbx_error_set(err, -r, "read %s", path);
	return sbx_yaml_parse(y, path, buf, got, err);
}

void sbx_yaml_free(struct sbx_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *sbx_yaml_root(struct sbx_yaml *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *sbx_yaml_node(struct sbx_yaml *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

int sbx_yaml_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

int sbx_yaml_fail(const struct sbx_yaml *y, const yaml_node_t *n, struct sbx_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = sbx_xvasprintf(fmt, ap);
	va_end(ap);
	if (n)
		return sbx_error_set(err, 0, "%s:%d: %s", y->file, sbx_yaml_line(n), msg);
	return sbx_error_set(err, 0, "%s: %s", y->file, msg);
}

int sbx_yaml_wrap(const struct sbx_yaml *y, const yaml_node_t *n, const char *key, struct sbx_error **err)
{
	return sbx_error_wrap(err, "%s:%d: %s", y->file, sbx_yaml_line(n), key);
}

/* Every walk step counts; aliases make a small document reach the same
 * nodes many times. */
static int visit(struct sbx_yaml *y, const yaml_node_t *n, struct sbx_error **err)
{
	if (++y->visits > SBX_YAML_MAX_VISITS)
		return sbx_yaml_fail(y, n, err, "more than %u nodes to read (aliases expanding?)",
				     SBX_YAML_MAX_VISITS);
	return 0;
}

const char *sbx_yaml_scalar(struct sbx_yaml *y, const yaml_node_t *n, const char *what, struct sbx_error **err)
{
	if (n->type != YAML_SCALAR_NODE) {
		sbx_yaml_fail(y, n, err, "%s must be a single value", what);
		return NULL;
	}
	const char *s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length) {
		sbx_yaml_fail(y, n, err, "%s contains a NUL byte", what);
		return NULL;
	}
	return s;
}

int sbx_yaml_bool(struct sbx_yaml *y, const yaml_node_t *n, const char *what, bool *out, struct sbx_error **err)
{
	const char *s = sbx_yaml_scalar(y, n, what, err);
	if (!s)
		return -1;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
		*out = false;
		return 0;
	}
	return sbx_yaml_fail(y, n, err, "%s: \"%s\" is not true or false", what, s);
}

struct key_ref {
	const char *s;
	size_t len, idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);
	if (c == 0 && x->len != y->len)
		c = x->len < y->len ? -1 : 1;
	if (c == 0)
		c = x->idx < y->idx ? -1 : x->idx > y->idx;
	return c;
}

/* A key given twice is an error, named at its second place.  Sorted, not
 * compared pairwise: a mapping may have many keys (env). */
static int check_duplicates(struct sbx_yaml *y, yaml_node_t *map, struct sbx_error **err)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;
	size_t n = (size_t)(map->data.mapping.pairs.top - start), m = 0;
	if (n < 2)
		return 0;
	cleanup_free struct key_ref *keys = sbx_xcalloc(n, sizeof(*keys));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *k = sbx_yaml_node(y, start[i].key);
		if (k && k->type == YAML_SCALAR_NODE)
			keys[m++] = (struct key_ref){(const char *)k->data.scalar.value, k->data.scalar.length, i};
	}
	qsort(keys, m, sizeof(*keys), key_cmp);
	size_t first_dup = n;
	for (size_t i = 1; i < m; i++)
		if (keys[i].len == keys[i - 1].len && !memcmp(keys[i].s, keys[i - 1].s, keys[i].len) &&
		    keys[i].idx < first_dup)
			first_dup = keys[i].idx;
	if (first_dup == n)
		return 0;
	yaml_node_t *k = sbx_yaml_node(y, start[first_dup].key);
	return sbx_yaml_fail(y, k, err, "duplicate key \"%s\"", (const char *)k->data.scalar.value);
}

int sbx_yaml_each_pair(struct sbx_yaml *y, yaml_node_t *map, const char *where, const char *known,
		       sbx_yaml_pair_fn fn, void *ctx, struct sbx_error **err)
{
	if (map->type != YAML_MAPPING_NODE)
		return sbx_yaml_fail(y, map, err, "%s%sexpected a mapping", where, *where ? ": " : "");
	if (check_duplicates(y, map, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sbx_yaml_node(y, p->key), *v = sbx_yaml_node(y, p->value);
		if (visit(y, k, err) < 0)
			return -1;
		const char *key = sbx_yaml_scalar(y, k, "a key", err);
		if (!key)
			return -1;
		int r = fn(ctx, key, k, v, err);
		if (r < 0)
			return -1;
		if (r == SBX_YAML_UNKNOWN)
			return sbx_yaml_fail(y, k, err, "unknown key \"%s\"%s%s (%s)", key, *where ? " in " : "",
					     where, known);
	}
	return 0;
}

int sbx_yaml_each_item(struct sbx_yaml *y, yaml_node_t *seq, const char *where, sbx_yaml_item_fn fn, void *ctx,
		       struct sbx_error **err)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return sbx_yaml_fail(y, seq, err, "%s: expected a list", where);
	size_t i = 0;
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *n = sbx_yaml_node(y, *it);
		if (visit(y, n, err) < 0 || fn(ctx, i, n, err) < 0)
			return -1;
	}
	return 0;
}

size_t sbx_yaml_count(const yaml_node_t *seq)
{
	return seq->type == YAML_SEQUENCE_NODE
		       ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start)
		       : 0;
}
