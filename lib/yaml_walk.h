/* One YAML walker for every file sbx reads (the run config, seccomp
 * profiles), so that both follow the same rules:
 *   - every error names the file and the line: "FILE:LINE: ...";
 *   - a key that is not a plain scalar, a key given twice and an unknown key
 *     are errors (the unknown-key message lists the known ones);
 *   - a scalar holding a NUL byte is an error, never silently cut short;
 *   - aliases cannot make a walk expensive: the number of nodes visited is
 *     bounded (a "billion laughs" document is refused, not expanded).
 * It reads libyaml's document tree, where each node keeps its line. */
#ifndef SBX_YAML_WALK_H
#define SBX_YAML_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "lib/error.h"

/* Visits per document; far beyond any real config or profile. */
#define SBX_YAML_MAX_VISITS (1u << 20)

struct sbx_yaml {
	const char *file; /* names the document in messages */
	yaml_document_t doc;
	bool loaded;
	size_t visits;
};

/* Parse `len` bytes of text.  A syntax error reads
 * "FILE:LINE:COLUMN: YAML: <what libyaml says>". */
int sbx_yaml_parse(struct sbx_yaml *y, const char *file, const char *text, size_t len, struct sbx_error **err);
/* Read the regular file `path` (at most max_bytes) and parse it; y->file
 * points at path, which must outlive y. */
int sbx_yaml_load(struct sbx_yaml *y, const char *path, size_t max_bytes, struct sbx_error **err);
void sbx_yaml_free(struct sbx_yaml *y);

/* NULL for an empty document. */
yaml_node_t *sbx_yaml_root(struct sbx_yaml *y);
yaml_node_t *sbx_yaml_node(struct sbx_yaml *y, int id);
int sbx_yaml_line(const yaml_node_t *n);

/* Set *err to "FILE:LINE: <message>" ("FILE: <message>" when n is NULL).
 * Returns -1. */
int sbx_yaml_fail(const struct sbx_yaml *y, const yaml_node_t *n, struct sbx_error **err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix the error in *err (a value's problem, from a setter) with
 * "FILE:LINE: KEY: ".  Returns -1. */
int sbx_yaml_wrap(const struct sbx_yaml *y, const yaml_node_t *n, const char *key, struct sbx_error **err);

/* The text of a scalar node, or NULL with "WHAT must be a single value" or
 * "WHAT contains a NUL byte". */
const char *sbx_yaml_scalar(struct sbx_yaml *y, const yaml_node_t *n, const char *what, struct sbx_error **err);
/* true/yes/on or false/no/off; anything else: "WHAT: "x" is not true or false". */
int sbx_yaml_bool(struct sbx_yaml *y, const yaml_node_t *n, const char *what, bool *out, struct sbx_error **err);

/* Called for each key of a mapping.  Returns 0, -1 with *err set, or
 * SBX_YAML_UNKNOWN for a key it does not know. */
#define SBX_YAML_UNKNOWN 1
typedef int (*sbx_yaml_pair_fn)(void *ctx, const char *key, yaml_node_t *k, yaml_node_t *v, struct sbx_error **err);
/* Walk a mapping.  `where` names it ("limits", "syscalls entry"; "" for the
 * top level): a node that is no mapping reads "WHERE: expected a mapping";
 * an unknown key "unknown key "K" in WHERE (KNOWN)". */
int sbx_yaml_each_pair(struct sbx_yaml *y, yaml_node_t *map, const char *where, const char *known,
		       sbx_yaml_pair_fn fn, void *ctx, struct sbx_error **err);

typedef int (*sbx_yaml_item_fn)(void *ctx, size_t i, yaml_node_t *item, struct sbx_error **err);
/* Walk a sequence; a node that is no sequence reads "WHERE: expected a list". */
int sbx_yaml_each_item(struct sbx_yaml *y, yaml_node_t *seq, const char *where, sbx_yaml_item_fn fn, void *ctx,
		       struct sbx_error **err);
size_t sbx_yaml_count(const yaml_node_t *seq);

#endif
