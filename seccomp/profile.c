/* YAML -> struct sbx_seccomp_profile, with the walker the config uses too
 * (lib/yaml_walk.h): every error names the file and the line of the
 * offending node; unknown and duplicate keys are errors. */
#include "profile.h"

#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "names.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "lib/yaml_walk.h"

/* Expanded rules.  A kernel filter holds at most 4096 instructions, so more
 * rules than that cannot fit anyway (and would only be a YAML alias bomb). */
#define MAX_RULES 4096
#define MAX_PROFILE_BYTES (1 << 20)

struct parse {
	struct sbx_yaml *y;
	struct sbx_seccomp_profile *p;
	struct sbx_error **err;
};

/* The walker's calls, bound to this parse. */
__attribute__((format(printf, 3, 4))) static int fail(struct parse *ps, const yaml_node_t *n,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = sbx_xvasprintf(fmt, ap);
	va_end(ap);
	return sbx_yaml_fail(ps->y, n, ps->err, "%s", msg);
}

static yaml_node_t *node(struct parse *ps, int id)
{
	return sbx_yaml_node(ps->y, id);
}

static const char *scalar(struct parse *ps, yaml_node_t *n, const char *what)
{
	return sbx_yaml_scalar(ps->y, n, what, ps->err);
}

int sbx_seccomp_parse_action(const char *s, uint32_t *action)
{
	static const struct {
		const char *name;
		uint32_t action;
	} simple[] = {
		{ "allow", SCMP_ACT_ALLOW },
		{ "log", SCMP_ACT_LOG },
		{ "kill_process", SCMP_ACT_KILL_PROCESS },
		{ "kill_thread", SCMP_ACT_KILL_THREAD },
		{ "trap", SCMP_ACT_TRAP },
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (!strcmp(s, simple[i].name)) {
			*action = simple[i].action;
			return 0;
		}
	}
	if (strncmp(s, "errno", 5) == 0 && s[5] == ' ') {
		const char *e = s + 6;
		while (*e == ' ')
			e++;
		int n;
		if (sbx_seccomp_errno_parse(e, &n) < 0)
			return -1;
		*action = SCMP_ACT_ERRNO((uint32_t)n);
		return 0;
	}
	return -1;
}

void sbx_seccomp_format_action(uint32_t action, char *buf, size_t size)
{
	switch (action & 0xffff0000u) {
	case SCMP_ACT_ALLOW:
		snprintf(buf, size, "allow");
		return;
	case SCMP_ACT_LOG:
		snprintf(buf, size, "log");
		return;
	case SCMP_ACT_KILL_PROCESS:
		snprintf(buf, size, "kill_process");
		return;
	case SCMP_ACT_KILL_THREAD:
		snprintf(buf, size, "kill_thread");
		return;
	case SCMP_ACT_TRAP:
		snprintf(buf, size, "trap");
		return;
	case SCMP_ACT_ERRNO(0): {
		const char *n = strerrorname_np((int)(action & 0xffff));
		if (n)
			snprintf(buf, size, "errno %s", n);
		else
			snprintf(buf, size, "errno %u", action & 0xffff);
		return;
	}
	}
	snprintf(buf, size, "0x%08x", action);
}

static int parse_action(struct parse *ps, yaml_node_t *n, const char *key, uint32_t *out)
{
	const char *s = scalar(ps, n, key);
	if (!s)
		return -1;
	if (sbx_seccomp_parse_action(s, out) < 0)
		return fail(ps, n,
			    "%s: invalid action \"%s\" (allow, log, errno NAME|NUMBER, kill_process, "
			    "kill_thread, trap)",
			    key, s);
	return 0;
}

static int check_syscall(struct parse *ps, yaml_node_t *n, const char *name)
{
	if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
		return fail(ps, n, "unknown syscall \"%s\"", name);
	return 0;
}

static int parse_arches(struct parse *ps, yaml_node_t *n)
{
	struct sbx_seccomp_profile *p = ps->p;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(ps, n, "architectures must be a list");
	uint32_t native = seccomp_arch_native();
	p->n_arches = 0;
	p->arches[p->n_arches++] = native;
	bool has_native = false;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *a = node(ps, *it);
		const char *s = scalar(ps, a, "architecture");
		if (!s)
			return -1;
		uint32_t arch = seccomp_arch_resolve_name(s);
		if (arch == 0)
			return fail(ps, a, "unknown architecture \"%s\"", s);
		/* x32 shares x86_64's audit arch and is told apart by a bit in the
		 * syscall number; we always close it (libseccomp sends x32 numbers
		 * of an x86_64-only filter to the bad-arch action). */
		if (arch == SCMP_ARCH_X32)
			return fail(ps, a, "architecture \"x32\" is not supported (it is always denied)");
		if (arch == native) {
			has_native = true;
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < p->n_arches; i++)
			dup |= p->arches[i] == arch;
		if (dup)
			continue;
		if (p->n_arches == SBX_SECCOMP_MAX_ARCHES)
			return fail(ps, a, "too many architectures");
		p->arches[p->n_arches++] = arch;
	}
	if (!has_native)
		return fail(ps, n, "architectures must include the native one");
	return 0;
}

static const struct {
	const char *name;
	enum sbx_seccomp_op op;
} ops[] = {
	{ "eq", SBX_OP_EQ }, { "ne", SBX_OP_NE }, { "lt", SBX_OP_LT },	     { "le", SBX_OP_LE },
	{ "gt", SBX_OP_GT }, { "ge", SBX_OP_GE }, { "masked_eq", SBX_OP_MASKED_EQ },
};

static int parse_value(struct parse *ps, yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *s = scalar(ps, n, key);
	if (!s)
		return -1;
	const char *bad = s;
	if (sbx_seccomp_value_parse(s, out, &bad) < 0)
		return fail(ps, n, "%s: invalid value \"%s\" (a number or a known constant such as AF_INET)",
			    key, bad);
	return 0;
}

/* One condition being read. */
struct cond {
	struct parse *ps;
	struct sbx_seccomp_cond *c;
	uint64_t *values;
	size_t *n_values, max_values;
	bool has_index, has_op, has_mask;
	yaml_node_t *value_node;
};

static int cond_key(void *ctx, const char *key, yaml_node_t *k, yaml_node_t *v, struct sbx_error **err)
{
	struct cond *cd = ctx;
	struct parse *ps = cd->ps;
	struct sbx_seccomp_cond *c = cd->c;
	uint64_t *values = cd->values;
	size_t *n_values = cd->n_values, max_values = cd->max_values;
	if (!strcmp(key, "index")) {
		const char *s = scalar(ps, v, "index");
		if (!s)
			return -1;
		if (strlen(s) != 1 || s[0] < '0' || s[0] > '5')
			return fail(ps, v, "index: \"%s\" is not an argument number 0..5", s);
		c->index = (unsigned)(s[0] - '0');
		cd->has_index = true;
	} else if (!strcmp(key, "op")) {
		const char *s = scalar(ps, v, "op");
		if (!s)
			return -1;
		size_t i;
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (!strcmp(s, ops[i].name))
				break;
		if (i == sizeof(ops) / sizeof(ops[0]))
			return fail(ps, v, "op: unknown operator \"%s\" (eq, ne, lt, le, gt, ge, masked_eq)",
				    s);
		c->op = ops[i].op;
		cd->has_op = true;
	} else if (!strcmp(key, "value")) {
		cd->value_node = v;
		if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				if (*n_values == max_values)
					return fail(ps, v, "value: too many values");
				if (parse_value(ps, node(ps, *it), "value", &values[(*n_values)++]) < 0)
					return -1;
			}
			if (*n_values == 0)
				return fail(ps, v, "value: empty list");
		} else {
			if (parse_value(ps, v, "value", &values[0]) < 0)
				return -1;
			*n_values = 1;
		}
	} else if (!strcmp(key, "mask")) {
		if (parse_value(ps, v, "mask", &c->mask) < 0)
			return -1;
		cd->has_mask = true;
	} else {
		return SBX_YAML_UNKNOWN;
	}
	return 0;
}

/* One condition.  Its `value` may be a list; *values/n_values receive it and
 * cond->value is left for the caller to fill from each. */
static int parse_cond(struct parse *ps, yaml_node_t *n, struct sbx_seccomp_cond *c, uint64_t *values,
		      size_t *n_values, size_t max_values)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(ps, n, "a condition must be a mapping {index, op, value[, mask]}");
	*n_values = 0;
	memset(c, 0, sizeof(*c));
	struct cond cd = {.ps = ps, .c = c, .values = values, .n_values = n_values, .max_values = max_values};
	if (sbx_yaml_each_pair(ps->y, n, "condition", "index, op, value, mask", cond_key, &cd, ps->err) < 0)
		return -1;
	bool has_index = cd.has_index, has_op = cd.has_op, has_mask = cd.has_mask;
	yaml_node_t *value_node = cd.value_node;
	if (!has_index)
		return fail(ps, n, "condition without index");
	if (!has_op)
		return fail(ps, n, "condition without op");
	if (!value_node)
		return fail(ps, n, "condition without value");
	if (c->op == SBX_OP_MASKED_EQ && !has_mask)
		return fail(ps, n, "op masked_eq needs a mask");
	if (c->op != SBX_OP_MASKED_EQ && has_mask)
		return fail(ps, n, "mask is only valid with op masked_eq");
	return 0;
}

static int add_rule(struct parse *ps, yaml_node_t *at, const struct sbx_seccomp_rule *r)
{
	struct sbx_seccomp_profile *p = ps->p;
	if (p->n_rules == MAX_RULES)
		return fail(ps, at, "more than %d rules", MAX_RULES);
	struct sbx_seccomp_rule *nr = sbx_xreallocarray(p->rules, p->n_rules + 1, sizeof(*nr));
	p->rules = nr;
	nr[p->n_rules] = *r;
	nr[p->n_rules].syscall = sbx_xstrdup(r->syscall);
	p->n_rules++;
	return 0;
}

#define MAX_VALUES 256

/* One syscalls entry being read. */
struct entry {
	struct parse *ps;
	yaml_node_t *names, *args, *quiet_node;
	struct sbx_seccomp_rule r;
	bool has_action;
};

static int entry_key(void *ctx, const char *key, yaml_node_t *k, yaml_node_t *v, struct sbx_error **err)
{
	struct entry *e = ctx;
	if (!strcmp(key, "names") || !strcmp(key, "name")) {
		e->names = v;
	} else if (!strcmp(key, "action")) {
		if (parse_action(e->ps, v, "action", &e->r.action) < 0)
			return -1;
		e->has_action = true;
	} else if (!strcmp(key, "args")) {
		e->args = v;
	} else if (!strcmp(key, "report")) {
		bool report;
		if (sbx_yaml_bool(e->ps->y, v, key, &report, err) < 0)
			return -1;
		e->r.quiet = !report;
		e->quiet_node = v;
	} else if (strcmp(key, "comment") != 0) {
		return SBX_YAML_UNKNOWN;
	}
	return 0;
}

static int parse_entry(struct parse *ps, yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(ps, n, "a syscalls entry must be a mapping {names, action[, args]}");
	struct entry e = {.ps = ps, .r = {.line = sbx_yaml_line(n)}};
	if (sbx_yaml_each_pair(ps->y, n, "syscalls entry", "names, action, args, report, comment", entry_key, &e,
			       ps->err) < 0)
		return -1;
	yaml_node_t *names = e.names, *args = e.args, *quiet_node = e.quiet_node;
	struct sbx_seccomp_rule r = e.r;
	bool has_action = e.has_action;
	if (!names)
		return fail(ps, n, "syscalls entry without names");
	if (!has_action)
		return fail(ps, n, "syscalls entry without action");
	if (r.quiet && (r.action & 0xffff0000u) != SCMP_ACT_ERRNO(0))
		return fail(ps, quiet_node, "report: false is only valid with an errno action");

	/* Conditions; at most one of them may list several values, which
	 * makes one rule per value (rules of one syscall and action are ORed). */
	uint64_t values[MAX_VALUES];
	size_t n_values = 1;
	int list_cond = -1;
	if (args) {
		if (args->type != YAML_SEQUENCE_NODE)
			return fail(ps, args, "args must be a list of conditions");
		for (yaml_node_item_t *it = args->data.sequence.items.start; it < args->data.sequence.items.top;
		     it++) {
			yaml_node_t *cn = node(ps, *it);
			if (r.n_conds == SBX_SECCOMP_MAX_ARGS)
				return fail(ps, cn, "more than %d conditions", SBX_SECCOMP_MAX_ARGS);
			struct sbx_seccomp_cond *c = &r.conds[r.n_conds];
			uint64_t v[MAX_VALUES];
			size_t nv = 0;
			if (parse_cond(ps, cn, c, v, &nv, MAX_VALUES) < 0)
				return -1;
			/* libseccomp compares each argument at most once per rule. */
			for (size_t j = 0; j < r.n_conds; j++)
				if (r.conds[j].index == c->index)
					return fail(ps, cn,
						    "argument %u is compared twice in one rule; write two entries",
						    c->index);
			if (nv > 1) {
				if (list_cond >= 0)
					return fail(ps, cn, "only one condition of an entry may list several values");
				list_cond = (int)r.n_conds;
				memcpy(values, v, nv * sizeof(v[0]));
				n_values = nv;
			} else {
				c->value = v[0];
			}
			r.n_conds++;
		}
	}

	/* names: one scalar or a list of them */
	yaml_node_t *single[1] = { names };
	yaml_node_t **name_nodes = single;
	size_t n_names = 1;
	cleanup_free yaml_node_t **list = NULL;
	if (names->type == YAML_SEQUENCE_NODE) {
		n_names = (size_t)(names->data.sequence.items.top - names->data.sequence.items.start);
		if (n_names == 0)
			return fail(ps, names, "names: empty list");
		list = sbx_xcalloc(n_names, sizeof(*list));
		for (size_t i = 0; i < n_names; i++)
			list[i] = node(ps, names->data.sequence.items.start[i]);
		name_nodes = list;
	}
	for (size_t i = 0; i < n_names; i++) {
		yaml_node_t *nn = name_nodes[i];
		const char *name = scalar(ps, nn, "syscall name");
		if (!name || check_syscall(ps, nn, name) < 0)
			return -1;
		r.syscall = (char *)name;
		r.line = sbx_yaml_line(nn);
		for (size_t v = 0; v < n_values; v++) {
			if (list_cond >= 0)
				r.conds[list_cond].value = values[v];
			if (add_rule(ps, nn, &r) < 0)
				return -1;
		}
	}
	return 0;
}

/* libseccomp keeps only the unconditional rule when a syscall also has
 * conditional ones: reject that instead of silently dropping rules. */
static int check_overrides(struct parse *ps)
{
	struct sbx_seccomp_profile *p = ps->p;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct sbx_seccomp_rule *u = &p->rules[i];
		if (u->n_conds != 0)
			continue;
		for (size_t j = 0; j < p->n_rules; j++) {
			const struct sbx_seccomp_rule *o = &p->rules[j];
			if (j == i || strcmp(o->syscall, u->syscall) != 0)
				continue;
			if (o->n_conds == 0 && o->action == u->action)
				continue;
			return sbx_error_set(ps->err, 0,
					     "%s:%d: rule for \"%s\" conflicts with the unconditional rule at "
					     "line %d (an unconditional rule overrides every other rule of the "
					     "syscall)",
					     ps->y->file, o->line, o->syscall, u->line);
		}
	}
	return 0;
}

static bool allows_unconditionally(const struct sbx_seccomp_profile *p, const char *name)
{
	if (p->default_action == SCMP_ACT_ALLOW || p->default_action == SCMP_ACT_LOG)
		return true;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct sbx_seccomp_rule *r = &p->rules[i];
		if (r->n_conds == 0 && !strcmp(r->syscall, name) &&
		    (r->action == SCMP_ACT_ALLOW || r->action == SCMP_ACT_LOG))
			return true;
	}
	return false;
}

/* The top level being read. */
struct root {
	struct parse *ps;
	yaml_node_t *syscalls, *newer, *newest;
	bool has_default;
};

static int root_key(void *ctx, const char *key, yaml_node_t *k, yaml_node_t *v, struct sbx_error **err)
{
	struct root *rt = ctx;
	struct parse *ps = rt->ps;
	struct sbx_seccomp_profile *p = ps->p;
	int rc = 0;
	if (!strcmp(key, "default_action")) {
		rc = parse_action(ps, v, key, &p->default_action);
		rt->has_default = true;
	} else if (!strcmp(key, "newer_action")) {
		rc = parse_action(ps, v, key, &p->newer_action);
		rt->newer = v;
	} else if (!strcmp(key, "newest_syscall")) {
		const char *s = scalar(ps, v, key);
		if (!s || check_syscall(ps, v, s) < 0)
			return -1;
		free(p->newest_syscall);
		p->newest_syscall = sbx_xstrdup(s);
		p->newest_line = sbx_yaml_line(v);
		rt->newest = v;
	} else if (!strcmp(key, "bad_arch_action")) {
		rc = parse_action(ps, v, key, &p->bad_arch_action);
	} else if (!strcmp(key, "architectures")) {
		rc = parse_arches(ps, v);
	} else if (!strcmp(key, "spec_allow")) {
		rc = sbx_yaml_bool(ps->y, v, key, &p->spec_allow, ps->err);
	} else if (!strcmp(key, "report_denials")) {
		rc = sbx_yaml_bool(ps->y, v, key, &p->report_denials, ps->err);
	} else if (!strcmp(key, "syscalls")) {
		rt->syscalls = v;
	} else if (!strcmp(key, "description") || !strcmp(key, "comment") || !strcmp(key, "version")) {
		rc = scalar(ps, v, key) ? 0 : -1;
	} else {
		return SBX_YAML_UNKNOWN;
	}
	return rc < 0 ? -1 : 0;
}

static int syscalls_item(void *ctx, size_t i, yaml_node_t *n, struct sbx_error **err)
{
	return parse_entry(ctx, n);
}

static int parse_root(struct parse *ps, yaml_node_t *root)
{
	struct sbx_seccomp_profile *p = ps->p;
	if (root->type != YAML_MAPPING_NODE)
		return fail(ps, root, "a profile must be a mapping");
	struct root rt = {.ps = ps};
	if (sbx_yaml_each_pair(ps->y, root, "",
			       "default_action, newer_action, newest_syscall, bad_arch_action, architectures, "
			       "spec_allow, report_denials, syscalls",
			       root_key, &rt, ps->err) < 0)
		return -1;
	yaml_node_t *syscalls = rt.syscalls, *newer = rt.newer, *newest = rt.newest;
	if (!rt.has_default)
		return fail(ps, root, "default_action is required");
	if ((newer != NULL) != (newest != NULL))
		return fail(ps, newer ? newer : newest, "newer_action and newest_syscall go together");
	p->has_newer = newer != NULL;
	if (syscalls) {
		if (syscalls->type != YAML_SEQUENCE_NODE)
			return fail(ps, syscalls, "syscalls must be a list");
		if (sbx_yaml_each_item(ps->y, syscalls, "syscalls", syscalls_item, ps, ps->err) < 0)
			return -1;
	}
	if (check_overrides(ps) < 0)
		return -1;
	/* See seccomp.h: the workload sends the listener to the supervisor
	 * after loading the filter; a denied sendmsg there could never be
	 * answered. */
	if (p->report_denials && !allows_unconditionally(p, "sendmsg"))
		return fail(ps, NULL,
			    "a profile with report_denials must allow sendmsg unconditionally (the "
			    "workload hands the notification listener to sbx with it)");
	return 0;
}

static void init_defaults(struct sbx_seccomp_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->bad_arch_action = SCMP_ACT_KILL_PROCESS;
	p->arches[0] = seccomp_arch_native();
	p->n_arches = 1;
	p->spec_allow = true;
	p->report_denials = true;
}

static int parse_doc(struct sbx_yaml *y, struct sbx_seccomp_profile *p, struct sbx_error **err)
{
	p->file = sbx_xstrdup(y->file);
	struct parse ps = {.y = y, .p = p, .err = err};
	yaml_node_t *root = sbx_yaml_root(y);
	int rc = root ? parse_root(&ps, root) : fail(&ps, NULL, "empty profile");
	sbx_yaml_free(y);
	return rc;
}

int sbx_seccomp_profile_parse(const char *text, size_t len, const char *file,
			      struct sbx_seccomp_profile *p, struct sbx_error **err)
{
	init_defaults(p);
	struct sbx_yaml y;
	if (sbx_yaml_parse(&y, file, text, len, err) < 0) {
		p->file = sbx_xstrdup(file);
		return -1;
	}
	return parse_doc(&y, p, err);
}

int sbx_seccomp_profile_load(const char *path, struct sbx_seccomp_profile *p, struct sbx_error **err)
{
	init_defaults(p);
	struct sbx_yaml y;
	if (sbx_yaml_load(&y, path, MAX_PROFILE_BYTES, err) < 0)
		return -1;
	return parse_doc(&y, p, err);
}

void sbx_seccomp_profile_free(struct sbx_seccomp_profile *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		free(p->rules[i].syscall);
	free(p->rules);
	free(p->file);
	free(p->newest_syscall);
	memset(p, 0, sizeof(*p));
}
