/* lib/yaml_walk: the walker the config and seccomp profiles share. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/yaml_walk.h"

static int descend(void *ctx, size_t i, yaml_node_t *n, struct sbx_error **err)
{
	struct sbx_yaml *y = ctx;
	(void)i;
	if (n->type == YAML_SEQUENCE_NODE)
		return sbx_yaml_each_item(y, n, "list", descend, y, err);
	return 0;
}

/* Ten levels of ten aliases each: 10^10 visits if expanded.  The walk stops
 * at its bound with an error naming the file and line. */
Test(yaml_walk, alias_bomb_is_refused)
{
	static const char bomb[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
				   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
				   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
				   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
				   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
				   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
				   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
				   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
				   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
				   "j: [*i, *i, *i, *i, *i, *i, *i, *i, *i, *i]\n";
	struct sbx_yaml y;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_yaml_parse(&y, "bomb.yaml", bomb, strlen(bomb), &err), 0);
	yaml_node_t *root = sbx_yaml_root(&y);
	yaml_node_t *j = sbx_yaml_node(&y, root->data.mapping.pairs.start[9].value);
	cr_expect_lt(sbx_yaml_each_item(&y, j, "j", descend, &y, &err), 0);
	cr_expect(err && strstr(err->msg, "bomb.yaml:") && strstr(err->msg, "more than 1048576 nodes"), "%s",
		  err ? err->msg : "");
	sbx_error_free(&err);
	sbx_yaml_free(&y);
}

static int count_keys(void *ctx, const char *key, yaml_node_t *k, yaml_node_t *v, struct sbx_error **err)
{
	(*(int *)ctx)++;
	return strcmp(key, "bad") == 0 ? SBX_YAML_UNKNOWN : 0;
}

Test(yaml_walk, keys_must_be_plain_and_known)
{
	static const char *const docs[][2] = {
		{"? [a, b]\n: 1\n", "t.yaml:1: a key must be a single value"},
		{"a: 1\nbad: 2\n", "t.yaml:2: unknown key \"bad\" in m (a, b)"},
		{"a: 1\nb: 2\na: 3\n", "t.yaml:3: duplicate key \"a\""},
		{"- 1\n", "t.yaml:1: m: expected a mapping"},
		{"a: [1\n", "t.yaml:2:1: YAML: did not find expected ',' or ']'"},
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		struct sbx_yaml y;
		struct sbx_error *err = NULL;
		int n = 0;
		int r = sbx_yaml_parse(&y, "t.yaml", docs[i][0], strlen(docs[i][0]), &err);
		if (r == 0)
			r = sbx_yaml_each_pair(&y, sbx_yaml_root(&y), "m", "a, b", count_keys, &n, &err);
		cr_expect_lt(r, 0, "case %zu accepted", i);
		cr_expect(err && strcmp(err->msg, docs[i][1]) == 0, "case %zu: %s", i, err ? err->msg : "");
		sbx_error_free(&err);
		sbx_yaml_free(&y);
	}
}
