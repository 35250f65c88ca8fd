#include "spec.h"

#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/size.h"
#include "lib/strv.h"

const char *const sbx_oci_hook_names[SBX_HOOK_KINDS] = {
    [SBX_HOOK_PRESTART] = "prestart",
    [SBX_HOOK_CREATE_RUNTIME] = "createRuntime",
    [SBX_HOOK_CREATE_CONTAINER] = "createContainer",
    [SBX_HOOK_START_CONTAINER] = "startContainer",
    [SBX_HOOK_POSTSTART] = "poststart",
    [SBX_HOOK_POSTSTOP] = "poststop",
};

/* config.json is at most this big: runc has no limit, but a bundle is
 * written by a client, and nothing legitimate comes near it. */
#define SPEC_MAX_BYTES (4u << 20)

struct ctx {
	const char *bundle;
	struct sbx_config *c;
	struct sbx_oci_spec *s;
	struct sbx_error **err;
};

static int field_error(struct sbx_error **err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int field_error(struct sbx_error **err, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sbx_error_set(err, 0, "config.json: %s: %s", path, msg);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		abort();
	return d;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (p == NULL)
		abort();
	return p;
}

/* The keys of `obj` must all be in `known` (NULL-terminated). */
static int check_keys(struct ctx *x, const json_t *obj, const char *path, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok)
			return field_error(x->err, path, "unknown or unsupported field \"%s\"", key);
	}
	return 0;
}

static const json_t *get(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) ? v : NULL;
}

static int want(struct ctx *x, const json_t *v, json_type type, const char *path)
{
	static const char *const names[] = {
	    [JSON_OBJECT] = "an object",   [JSON_ARRAY] = "an array", [JSON_STRING] = "a string",
	    [JSON_INTEGER] = "an integer", [JSON_REAL] = "a number",  [JSON_TRUE] = "a boolean",
	    [JSON_FALSE] = "a boolean",	   [JSON_NULL] = "null"};
	bool ok = json_typeof(v) == type || (type == JSON_TRUE && json_is_boolean(v));
	if (!ok)
		return field_error(x->err, path, "must be %s", names[type]);
	return 0;
}

/* A string field; NULL when absent. */
static int get_string(struct ctx *x, const json_t *obj, const char *key, const char *path, const char **out)
{
	*out = NULL;
	const json_t *v = get(obj, key);
	if (v == NULL)
		return 0;
	char p[256];
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	if (want(x, v, JSON_STRING, p) < 0)
		return -1;
	if (strlen(json_string_value(v)) != json_string_length(v))
		return field_error(x->err, p, "contains a NUL byte");
	*out = json_string_value(v);
	return 0;
}

static int get_bool(struct ctx *x, const json_t *obj, const char *key, const char *path, bool *out, bool def)
{
	*out = def;
	const json_t *v = get(obj, key);
	if (v == NULL)
		return 0;
	char p[256];
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (want(x, v, JSON_TRUE, p) < 0)
		return -1;
	*out = json_is_true(v);
	return 0;
}

/* An integer in [min, max]; *set false when absent. */
static int get_int(struct ctx *x, const json_t *obj, const char *key, const char *path, long long min,
		   long long max, long long *out, bool *set)
{
	*set = false;
	const json_t *v = get(obj, key);
	if (v == NULL)
		return 0;
	char p[256];
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (want(x, v, JSON_INTEGER, p) < 0)
		return -1;
	long long n = json_integer_value(v);
	if (n < min || n > max)
		return field_error(x->err, p, "%lld is out of range %lld..%lld", n, min, max);
	*out = n;
	*set = true;
	return 0;
}

/* A NULL-terminated copy of an array of strings. */
static int get_strv(struct ctx *x, const json_t *v, const char *path, char ***out, size_t *n_out)
{
	*out = NULL;
	if (n_out)
		*n_out = 0;
	if (v == NULL)
		return 0;
	if (want(x, v, JSON_ARRAY, path) < 0)
		return -1;
	size_t n = json_array_size(v);
	char **a = xcalloc(n + 1, sizeof(*a));
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
			for (size_t j = 0; j < i; j++)
				free(a[j]);
			free(a);
			return field_error(x->err, path, "element %zu must be a string without NUL bytes", i);
		}
		a[i] = xstrdup(json_string_value(e));
	}
	*out = a;
	if (n_out)
		*n_out = n;
	return 0;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void warn(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct ctx *x, const char *fmt, ...)
{
	char *m = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	struct sbx_oci_spec *s = x->s;
	s->warnings = reallocarray(s->warnings, s->n_warnings + 1, sizeof(*s->warnings));
	if (s->warnings == NULL)
		abort();
	s->warnings[s->n_warnings++] = m;
}

/* ---- root ---------------------------------------------------------------- */

static int parse_root(struct ctx *x, const json_t *root)
{
	if (root == NULL)
		return field_error(x->err, "root", "is required");
	if (want(x, root, JSON_OBJECT, "root") < 0 ||
	    check_keys(x, root, "root", (const char *const[]){"path", "readonly", NULL}) < 0)
		return -1;
	const char *path;
	bool ro;
	if (get_string(x, root, "path", "root", &path) < 0 ||
	    get_bool(x, root, "readonly", "root", &ro, false) < 0)
		return -1;
	if (path == NULL || *path == '\0')
		return field_error(x->err, "root.path", "is required");
	cleanup_free char *full = NULL;
	if (path[0] == '/')
		full = xstrdup(path);
	else if (asprintf(&full, "%s/%s", x->bundle, path) < 0)
		abort();
	sbx_config_set_string(&x->c->rootfs, full);
	/* A writable root is the bundle's rootfs itself, as with runc: the
	 * client (podman, containerd) made it the container's own layer. */
	x->c->writable_rootfs = !ro;
	return 0;
}

/* ---- process ------------------------------------------------------------- */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(struct ctx *x, const json_t *v)
{
	if (v == NULL)
		return 0;
	if (want(x, v, JSON_ARRAY, "process.rlimits") < 0)
		return -1;
	size_t n = json_array_size(v);
	x->s->rlimits = xcalloc(n, sizeof(*x->s->rlimits));
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "process.rlimits[%zu]", i);
		const json_t *e = json_array_get(v, i);
		if (want(x, e, JSON_OBJECT, p) < 0 ||
		    check_keys(x, e, p, (const char *const[]){"type", "soft", "hard", NULL}) < 0)
			return -1;
		const char *type;
		long long soft, hard;
		bool has_soft, has_hard;
		if (get_string(x, e, "type", p, &type) < 0 ||
		    get_int(x, e, "soft", p, 0, LLONG_MAX, &soft, &has_soft) < 0 ||
		    get_int(x, e, "hard", p, 0, LLONG_MAX, &hard, &has_hard) < 0)
			return -1;
		if (type == NULL || !has_soft || !has_hard)
			return field_error(x->err, p, "type, soft and hard are required");
		size_t k;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(*rlimit_names); k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				break;
		if (k == sizeof(rlimit_names) / sizeof(*rlimit_names))
			return field_error(x->err, p, "unknown rlimit type \"%s\"", type);
		if (soft > hard)
			return field_error(x->err, p, "soft %lld is above hard %lld", soft, hard);
		for (size_t j = 0; j < i; j++)
			if (x->s->rlimits[j].resource == rlimit_names[k].resource)
				return field_error(x->err, p, "%s given twice", type);
		x->s->rlimits[i] =
		    (struct sbx_oci_rlimit){rlimit_names[k].resource, (uint64_t)soft, (uint64_t)hard};
		x->s->n_rlimits = i + 1;
	}
	return 0;
}

/* Capability sets: the names are checked; the workload gets none of them
 * (sbx drops every capability before execve, docs/oci.md). */
static int parse_caps(struct ctx *x, const json_t *v)
{
	if (v == NULL)
		return 0;
	static const char *const sets[] = {"bounding",	"effective", "inheritable",
					   "permitted", "ambient",   NULL};
	if (want(x, v, JSON_OBJECT, "process.capabilities") < 0 ||
	    check_keys(x, v, "process.capabilities", sets) < 0)
		return -1;
	for (const char *const *set = sets; *set; set++) {
		char p[64];
		snprintf(p, sizeof(p), "process.capabilities.%s", *set);
		char **names = NULL;
		if (get_strv(x, get(v, *set), p, &names, NULL) < 0)
			return -1;
		for (size_t i = 0; names && names[i]; i++) {
			cap_value_t cv;
			char lower[64];
			size_t j;
			for (j = 0; names[i][j] && j < sizeof(lower) - 1; j++)
				lower[j] = (char)(names[i][j] >= 'A' && names[i][j] <= 'Z' ? names[i][j] + 32
											   : names[i][j]);
			lower[j] = '\0';
			if (strncmp(names[i], "CAP_", 4) != 0 || cap_from_name(lower, &cv) < 0) {
				int r = field_error(x->err, p, "unknown capability \"%s\"", names[i]);
				free_strv(names);
				return r;
			}
		}
		free_strv(names);
	}
	return 0;
}

/* No security module of this kind on the host: the field is a no-op, with
 * a warning.  Where the module exists sbx cannot apply the label: refused. */
static int lsm_field(struct ctx *x, const char *path, const char *value, const char *lsm, const char *probe)
{
	if (value == NULL || *value == '\0')
		return 0;
	if (access(probe, F_OK) == 0)
		return field_error(x->err, path, "%s is active on this host and sbx does not apply %s labels",
				   lsm, lsm);
	warn(x, "%s: ignored: %s is not active on this host", path, lsm);
	return 0;
}

static int parse_user(struct ctx *x, const json_t *u)
{
	if (u == NULL)
		return 0;
	if (want(x, u, JSON_OBJECT, "process.user") < 0 ||
	    check_keys(x, u, "process.user",
		       (const char *const[]){"uid", "gid", "umask", "additionalGids", "username", NULL}) < 0)
		return -1;
	long long uid = 0, gid = 0, umask_ = 0;
	bool has_uid, has_gid, has_umask;
	if (get_int(x, u, "uid", "process.user", 0, UINT32_MAX - 1, &uid, &has_uid) < 0 ||
	    get_int(x, u, "gid", "process.user", 0, UINT32_MAX - 1, &gid, &has_gid) < 0 ||
	    get_int(x, u, "umask", "process.user", 0, 0777, &umask_, &has_umask) < 0)
		return -1;
	const json_t *groups = get(u, "additionalGids");
	if (groups != NULL) {
		if (want(x, groups, JSON_ARRAY, "process.user.additionalGids") < 0)
			return -1;
		/* sbx drops supplementary groups; the user's own gid is no extra. */
		for (size_t i = 0; i < json_array_size(groups); i++) {
			const json_t *g = json_array_get(groups, i);
			if (!json_is_integer(g) || json_integer_value(g) != gid)
				return field_error(x->err, "process.user.additionalGids",
						   "supplementary groups are not supported by sbx");
		}
	}
	const char *username;
	if (get_string(x, u, "username", "process.user", &username) < 0)
		return -1;
	if (username && *username)
		return field_error(x->err, "process.user.username", "is for Windows containers");
	x->c->uid = (uid_t)uid;
	x->c->gid = (gid_t)gid;
	x->c->user_set = true;
	if (has_umask) {
		x->s->umask_set = true;
		x->s->umask = (mode_t)umask_;
	}
	return 0;
}

static int parse_process(struct ctx *x, const json_t *p)
{
	if (p == NULL)
		return field_error(x->err, "process", "is required");
	static const char *const known[] = {"terminal",
					    "consoleSize",
					    "cwd",
					    "env",
					    "args",
					    "rlimits",
					    "capabilities",
					    "noNewPrivileges",
					    "apparmorProfile",
					    "oomScoreAdj",
					    "selinuxLabel",
					    "user",
					    NULL};
	if (want(x, p, JSON_OBJECT, "process") < 0 || check_keys(x, p, "process", known) < 0)
		return -1;
	bool terminal, nnp;
	if (get_bool(x, p, "terminal", "process", &terminal, false) < 0 ||
	    get_bool(x, p, "noNewPrivileges", "process", &nnp, false) < 0)
		return -1;
	/* A pty of the sandbox's devpts; its master goes to --console-socket. */
	x->c->terminal = terminal;
	const json_t *cs = get(p, "consoleSize");
	if (cs &&
	    (want(x, cs, JSON_OBJECT, "process.consoleSize") < 0 ||
	     check_keys(x, cs, "process.consoleSize", (const char *const[]){"height", "width", NULL}) < 0))
		return -1;
	const char *cwd;
	if (get_string(x, p, "cwd", "process", &cwd) < 0)
		return -1;
	if (cwd == NULL || cwd[0] != '/')
		return field_error(x->err, "process.cwd", "must be an absolute path");
	sbx_config_set_string(&x->c->workdir, cwd);

	size_t n_args;
	char **args;
	if (get_strv(x, get(p, "args"), "process.args", &args, &n_args) < 0)
		return -1;
	if (n_args == 0 || args[0][0] == '\0') {
		free_strv(args);
		return field_error(x->err, "process.args", "must name the command");
	}
	x->c->argv = args;

	char **env;
	if (get_strv(x, get(p, "env"), "process.env", &env, NULL) < 0)
		return -1;
	for (size_t i = 0; env && env[i]; i++) {
		if (sbx_config_add_env_spec(x->c, env[i], x->err) < 0) {
			free_strv(env);
			char path[64];
			snprintf(path, sizeof(path), "process.env[%zu]", i);
			return sbx_error_wrap(x->err, "config.json: %s", path);
		}
	}
	free_strv(env);
	if (x->c->env == NULL) /* an empty environment, not sbx run's default */
		x->c->env = xcalloc(1, sizeof(char *));

	long long oom;
	if (get_int(x, p, "oomScoreAdj", "process", -1000, 1000, &oom, &x->s->oom_score_adj_set) < 0)
		return -1;
	x->s->oom_score_adj = (int)oom;
	const char *aa, *se;
	if (get_string(x, p, "apparmorProfile", "process", &aa) < 0 ||
	    lsm_field(x, "process.apparmorProfile", aa, "AppArmor", "/sys/kernel/security/apparmor") < 0 ||
	    get_string(x, p, "selinuxLabel", "process", &se) < 0 ||
	    lsm_field(x, "process.selinuxLabel", se, "SELinux", "/sys/fs/selinux/enforce") < 0)
		return -1;
	return parse_user(x, get(p, "user")) < 0 || parse_rlimits(x, get(p, "rlimits")) < 0 ||
		       parse_caps(x, get(p, "capabilities")) < 0
		   ? -1
		   : 0;
}

/* ---- mounts -------------------------------------------------------------- */

static bool has_opt(char **opts, const char *o)
{
	for (size_t i = 0; opts && opts[i]; i++)
		if (strcmp(opts[i], o) == 0)
			return true;
	return false;
}

/* Options that change nothing sbx would do, or that sbx does anyway. */
static bool harmless_opt(const char *o)
{
	static const char *const ok[] = {"nosuid",     "nodev", "noexec",   "rprivate",	   "private",
					 "rslave",     "slave", "relatime", "strictatime", "noatime",
					 "nodiratime", "ro",	"rw",	    "newinstance", "ptmxmode=0666",
					 "mode=0620",  "gid=5", "mode=755", "mode=0755",   "mode=1777",
					 "mode=01777", "rbind", "bind",	    NULL};
	for (const char *const *k = ok; *k; k++)
		if (strcmp(*k, o) == 0)
			return true;
	return strncmp(o, "size=", 5) == 0;
}

static int tmpfs_size(struct ctx *x, char **opts, const char *path, uint64_t *size)
{
	*size = 0;
	for (size_t i = 0; opts && opts[i]; i++) {
		if (strncmp(opts[i], "size=", 5) != 0)
			continue;
		const char *v = opts[i] + 5;
		char buf[64];
		size_t n = strlen(v);
		/* mount(8) spells kibibytes "k"; sbx's sizes say "K". */
		if (n > 0 && n < sizeof(buf) && (v[n - 1] == 'k' || v[n - 1] == 'm' || v[n - 1] == 'g')) {
			memcpy(buf, v, n + 1);
			buf[n - 1] = (char)(buf[n - 1] - 32);
			v = buf;
		}
		struct sbx_error *e = NULL;
		if (sbx_parse_size(v, size, &e) < 0 || *size == 0) {
			sbx_error_free(&e);
			return field_error(x->err, path, "invalid tmpfs size \"%s\"", opts[i]);
		}
	}
	return 0;
}

/* Filesystems sbx mounts itself at these places, whatever the spec says:
 * its own /proc (with its masks), /dev (a few devices, a private devpts,
 * /dev/shm).  sysfs, mqueue and cgroup it mounts when the spec lists them
 * (runtime/mounts.c: sysfs read-only, or an empty /sys without a network
 * namespace of its own; cgroup as cgroup2 of its cgroup namespace). */
static int provided_mount(struct ctx *x, const char *dest, const char *type, char **opts, const char *path,
			  bool *handled)
{
	static const struct {
		const char *dest, *type;
		unsigned kmount; /* SBX_KMOUNT_*, 0: always mounted */
	} table[] = {
	    {"/proc", "proc", 0},
	    {"/dev", "tmpfs", 0},
	    {"/dev/pts", "devpts", 0},
	    {"/dev/shm", "tmpfs", 0},
	    {"/dev/shm", "bind", 0},
	    {"/dev/mqueue", "mqueue", SBX_KMOUNT_MQUEUE},
	    {"/sys", "sysfs", SBX_KMOUNT_SYSFS},
	    {"/sys/fs/cgroup", "cgroup", SBX_KMOUNT_CGROUP},
	    {"/sys/fs/cgroup", "cgroup2", SBX_KMOUNT_CGROUP},
	};
	*handled = false;
	const char *want_type = NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		if (strcmp(table[i].dest, dest) != 0)
			continue;
		want_type = table[i].type;
		if (strcmp(table[i].type, type) != 0)
			continue;
		*handled = true;
		/* mqueue shows the queues of the mounter's ipc namespace and
		 * needs a capability over it: a joined one is not the
		 * sandbox's.  /dev/mqueue stays sbx's empty directory. */
		if (table[i].kmount == SBX_KMOUNT_MQUEUE && x->c->shared_ipc) {
			warn(x, "%s: /dev/mqueue not mounted: the ipc namespace is joined, not the container's own",
			     path);
			return 0;
		}
		x->c->kernel_mounts |= table[i].kmount;
		if (strcmp(dest, "/dev/shm") == 0) {
			uint64_t size;
			if (tmpfs_size(x, opts, path, &size) < 0)
				return -1;
			if (size)
				x->c->limits.tmp = size;
		}
		return 0;
	}
	if (want_type)
		return field_error(x->err, path, "%s must be of type %s (sbx mounts it itself)", dest,
				   want_type);
	if (strcmp(type, "proc") == 0 || strcmp(type, "devpts") == 0 || strcmp(type, "sysfs") == 0 ||
	    strcmp(type, "mqueue") == 0 || strncmp(type, "cgroup", 6) == 0)
		return field_error(x->err, path, "%s mounted at %s is not supported by sbx", type, dest);
	return 0;
}

static int parse_mount(struct ctx *x, const json_t *m, size_t i)
{
	char path[64];
	snprintf(path, sizeof(path), "mounts[%zu]", i);
	if (want(x, m, JSON_OBJECT, path) < 0 ||
	    check_keys(x, m, path, (const char *const[]){"destination", "type", "source", "options", NULL}) <
		0)
		return -1;
	const char *dest, *type, *source;
	if (get_string(x, m, "destination", path, &dest) < 0 || get_string(x, m, "type", path, &type) < 0 ||
	    get_string(x, m, "source", path, &source) < 0)
		return -1;
	if (dest == NULL || dest[0] != '/')
		return field_error(x->err, path, "destination must be an absolute path");
	if (strchr(dest, ':'))
		return field_error(x->err, path, "destination %s: ':' is not supported in mount points",
				   dest);
	char opath[80];
	snprintf(opath, sizeof(opath), "%s.options", path);
	char **o = NULL;
	if (get_strv(x, get(m, "options"), opath, &o, NULL) < 0)
		return -1;
	bool bind = has_opt(o, "bind") || has_opt(o, "rbind");
	if (type == NULL || strcmp(type, "none") == 0)
		type = bind ? "bind" : "";
	int r = -1;
	for (size_t k = 0; o && o[k]; k++) {
		if (!harmless_opt(o[k])) {
			field_error(x->err, opath, "option \"%s\" is not supported by sbx", o[k]);
			goto out;
		}
	}
	bool handled;
	if (provided_mount(x, dest, type, o, path, &handled) < 0)
		goto out;
	if (handled) {
		r = 0;
		goto out;
	}
	if (strcmp(type, "bind") == 0) {
		if (source == NULL || *source == '\0') {
			field_error(x->err, path, "a bind mount needs a source");
			goto out;
		}
		/* sbx binds are always nosuid and nodev; noexec it cannot add. */
		if (has_opt(o, "noexec")) {
			field_error(x->err, opath, "noexec on a bind mount is not supported by sbx");
			goto out;
		}
		cleanup_free char *src = NULL;
		if (source[0] == '/')
			src = xstrdup(source);
		else if (asprintf(&src, "%s/%s", x->bundle, source) < 0)
			abort();
		if (sbx_config_add_bind(x->c, src, dest, !has_opt(o, "ro"), x->err) < 0) {
			sbx_error_wrap(x->err, "config.json: %s", path);
			goto out;
		}
		r = 0;
	} else if (strcmp(type, "tmpfs") == 0) {
		uint64_t size;
		if (tmpfs_size(x, o, path, &size) < 0)
			goto out;
		if (has_opt(o, "ro")) {
			field_error(x->err, opath, "a read-only tmpfs is not supported by sbx");
			goto out;
		}
		if (strcmp(dest, "/tmp") == 0) { /* sbx's own /tmp: only its size */
			if (size)
				x->c->limits.tmp = size;
			r = 0;
			goto out;
		}
		char spec[4200];
		if (snprintf(spec, sizeof(spec), "%s:%llu", dest,
			     (unsigned long long)(size ? size : x->c->limits.tmp)) >= (int)sizeof(spec)) {
			field_error(x->err, path, "destination is too long");
			goto out;
		}
		if (sbx_config_add_tmpfs_spec(x->c, spec, x->err) < 0) {
			sbx_error_wrap(x->err, "config.json: %s", path);
			goto out;
		}
		r = 0;
	} else {
		field_error(x->err, path,
			    "mount type \"%s\" is not supported by sbx (bind, tmpfs, and proc, devpts, "
			    "sysfs, mqueue, cgroup at their usual places)",
			    type);
	}
out:
	free_strv(o);
	return r;
}

static int parse_mounts(struct ctx *x, const json_t *v)
{
	if (v == NULL)
		return 0;
	if (want(x, v, JSON_ARRAY, "mounts") < 0)
		return -1;
	for (size_t i = 0; i < json_array_size(v); i++)
		if (parse_mount(x, json_array_get(v, i), i) < 0)
			return -1;
	return 0;
}

/* ---- linux --------------------------------------------------------------- */

/* Namespaces a path may name, and where the path is kept: each one is
 * joined by the supervisor before the clone (oci/lifecycle.c), and the
 * sandbox, cloned without that CLONE_NEW* flag, shares it.  This is how
 * podman and CNI give a network, and how Kubernetes puts a pod's
 * containers into its pause container's ipc, uts and network namespaces. */
static char **joinable(struct sbx_oci_spec *s, const char *type)
{
	if (strcmp(type, "network") == 0)
		return &s->netns_path;
	if (strcmp(type, "ipc") == 0)
		return &s->ipcns_path;
	if (strcmp(type, "uts") == 0)
		return &s->utsns_path;
	return NULL;
}

/* Why the others cannot be joined by path. */
static const char *not_joinable(const char *type)
{
	if (strcmp(type, "pid") == 0)
		return "sbx's pid 1 is the container's init, whose exit ends every process in it "
		       "(shareProcessNamespace needs another init)";
	if (strcmp(type, "user") == 0)
		return "sbx maps the container's ids itself, into a user namespace of its own";
	if (strcmp(type, "mount") == 0)
		return "sbx builds the container's root in a mount namespace of its own";
	return "the container's cgroup namespace is rooted at its own cgroup";
}

static int parse_namespaces(struct ctx *x, const json_t *v)
{
	bool net = false;
	if (v != NULL) {
		if (want(x, v, JSON_ARRAY, "linux.namespaces") < 0)
			return -1;
		static const char *const types[] = {"pid", "network", "mount",	"ipc",
						    "uts", "user",    "cgroup", NULL};
		for (size_t i = 0; i < json_array_size(v); i++) {
			char p[64];
			snprintf(p, sizeof(p), "linux.namespaces[%zu]", i);
			const json_t *e = json_array_get(v, i);
			if (want(x, e, JSON_OBJECT, p) < 0 ||
			    check_keys(x, e, p, (const char *const[]){"type", "path", NULL}) < 0)
				return -1;
			const char *type, *nspath;
			if (get_string(x, e, "type", p, &type) < 0 ||
			    get_string(x, e, "path", p, &nspath) < 0)
				return -1;
			if (type == NULL)
				return field_error(x->err, p, "type is required");
			bool known = false;
			for (const char *const *t = types; *t && !known; t++)
				known = strcmp(*t, type) == 0;
			if (!known)
				return field_error(x->err, p, "namespace type \"%s\" is not supported by sbx",
						   type);
			char **keep = joinable(x->s, type);
			if (nspath && *nspath && keep == NULL)
				return field_error(x->err, p,
						   "path: joining an existing %s namespace is not supported by sbx: %s",
						   type, not_joinable(type));
			if (nspath && *nspath) {
				if (nspath[0] != '/')
					return field_error(x->err, p, "path must be absolute");
				free(*keep);
				*keep = xstrdup(nspath);
			}
			if (strcmp(type, "network") == 0)
				net = true;
		}
	}
	/* Without a network namespace the container shares the host's; every
	 * other namespace sbx creates whether asked or not, unless joined. */
	x->c->network = net && x->s->netns_path == NULL ? SBX_NET_LOOPBACK : SBX_NET_HOST;
	x->c->shared_ipc = x->s->ipcns_path != NULL;
	x->c->shared_uts = x->s->utsns_path != NULL;
	return 0;
}

static int parse_idmap(struct ctx *x, const json_t *v, const char *path, long long *host, long long *size,
		       bool *set)
{
	*set = false;
	if (v == NULL)
		return 0;
	if (want(x, v, JSON_ARRAY, path) < 0)
		return -1;
	if (json_array_size(v) == 0)
		return 0;
	if (json_array_size(v) != 1)
		return field_error(x->err, path,
				   "sbx maps one contiguous range (one entry with containerID 0)");
	const json_t *e = json_array_get(v, 0);
	char p[64];
	snprintf(p, sizeof(p), "%s[0]", path);
	long long cid;
	bool a, b, c;
	if (want(x, e, JSON_OBJECT, p) < 0 ||
	    check_keys(x, e, p, (const char *const[]){"containerID", "hostID", "size", NULL}) < 0 ||
	    get_int(x, e, "containerID", p, 0, UINT32_MAX, &cid, &a) < 0 ||
	    get_int(x, e, "hostID", p, 0, UINT32_MAX, host, &b) < 0 ||
	    get_int(x, e, "size", p, 1, UINT32_MAX, size, &c) < 0)
		return -1;
	if (!a || !b || !c)
		return field_error(x->err, p, "containerID, hostID and size are required");
	if (cid != 0)
		return field_error(x->err, p, "containerID must be 0");
	if (*host == 0)
		return field_error(x->err, p, "hostID 0 would map host root into the container");
	*set = true;
	return 0;
}

static int parse_idmaps(struct ctx *x, const json_t *lx)
{
	long long uh = 0, us = 0, gh = 0, gs = 0;
	bool u, g;
	if (parse_idmap(x, get(lx, "uidMappings"), "linux.uidMappings", &uh, &us, &u) < 0 ||
	    parse_idmap(x, get(lx, "gidMappings"), "linux.gidMappings", &gh, &gs, &g) < 0)
		return -1;
	if (u != g || (u && (uh != gh || us != gs)))
		return field_error(x->err, "linux.gidMappings",
				   "must map the same range as linux.uidMappings in sbx");
	if (u) {
		x->c->idmap_host_base = (uint32_t)uh;
		x->c->idmap_size = (uint32_t)us;
	}
	return 0;
}

static int parse_resources(struct ctx *x, const json_t *r)
{
	if (r == NULL)
		return 0;
	static const char *const known[] = {"devices",	      "memory",	 "cpu",	 "pids",    "blockIO",
					    "hugepageLimits", "network", "rdma", "unified", NULL};
	if (want(x, r, JSON_OBJECT, "linux.resources") < 0 || check_keys(x, r, "linux.resources", known) < 0)
		return -1;
	/* Fields that would need controllers sbx does not manage: refused
	 * unless empty. */
	static const char *const refused[] = {"blockIO", "hugepageLimits", "network",
					      "rdma",	 "unified",	   NULL};
	for (const char *const *k = refused; *k; k++) {
		const json_t *v = get(r, *k);
		if (v && !((json_is_object(v) && json_object_size(v) == 0) ||
			   (json_is_array(v) && json_array_size(v) == 0))) {
			char p[64];
			snprintf(p, sizeof(p), "linux.resources.%s", *k);
			return field_error(x->err, p, "is not supported by sbx");
		}
	}
	/* devices: sbx's /dev holds null, zero, full, random, urandom, tty
	 * and a private devpts, nothing else, and a user namespace cannot
	 * mknod: an allow rule grants nothing more, a deny rule is met (the
	 * rules are checked, and have no other effect). */
	const json_t *dev = get(r, "devices");
	if (dev) {
		if (want(x, dev, JSON_ARRAY, "linux.resources.devices") < 0)
			return -1;
		for (size_t i = 0; i < json_array_size(dev); i++) {
			char p[64];
			snprintf(p, sizeof(p), "linux.resources.devices[%zu]", i);
			const json_t *e = json_array_get(dev, i);
			bool allow;
			long long major = -1, minor = -1;
			bool hm, hn;
			const char *type, *access;
			if (want(x, e, JSON_OBJECT, p) < 0 ||
			    check_keys(x, e, p,
				       (const char *const[]){"allow", "type", "major", "minor", "access",
							     NULL}) < 0 ||
			    get_bool(x, e, "allow", p, &allow, false) < 0 ||
			    get_string(x, e, "type", p, &type) < 0 ||
			    get_string(x, e, "access", p, &access) < 0 ||
			    get_int(x, e, "major", p, -1, UINT32_MAX, &major, &hm) < 0 ||
			    get_int(x, e, "minor", p, -1, UINT32_MAX, &minor, &hn) < 0)
				return -1;
			if (type && strcmp(type, "a") != 0 && strcmp(type, "c") != 0 &&
			    strcmp(type, "b") != 0)
				return field_error(x->err, p, "type \"%s\" is not a, b or c", type);
			if (access && strspn(access, "rwm") != strlen(access))
				return field_error(x->err, p, "access \"%s\" is not made of r, w and m",
						   access);
			(void)allow;
		}
	}
	const json_t *mem = get(r, "memory");
	if (mem) {
		static const char *const mk[] = {"limit",
						 "reservation",
						 "swap",
						 "kernel",
						 "kernelTCP",
						 "swappiness",
						 "disableOOMKiller",
						 "useHierarchy",
						 "checkBeforeUpdate",
						 NULL};
		if (want(x, mem, JSON_OBJECT, "linux.resources.memory") < 0 ||
		    check_keys(x, mem, "linux.resources.memory", mk) < 0)
			return -1;
		long long limit = 0, swap = 0;
		bool hl, hs;
		if (get_int(x, mem, "limit", "linux.resources.memory", -1, LLONG_MAX, &limit, &hl) < 0 ||
		    get_int(x, mem, "swap", "linux.resources.memory", -1, LLONG_MAX, &swap, &hs) < 0)
			return -1;
		if (hl && limit > 0) {
			if ((uint64_t)limit < SBX_MIN_MEMORY)
				return field_error(x->err, "linux.resources.memory.limit",
						   "%lld is below sbx's minimum of 4M", limit);
			x->c->limits.memory = (uint64_t)limit;
			x->s->limits_set = true;
		}
		/* The spec's swap is memory plus swap (memory.memsw), sbx's is
		 * the swap alone; -1 is unlimited. */
		if (hs) {
			if (swap == -1)
				x->c->limits.memory_swap = SBX_UNSET;
			else if (swap < (long long)x->c->limits.memory)
				return field_error(x->err, "linux.resources.memory.swap",
						   "%lld is below the memory limit %llu", swap,
						   (unsigned long long)x->c->limits.memory);
			else
				x->c->limits.memory_swap = (uint64_t)swap - x->c->limits.memory;
		}
		static const char *const unsupported[] = {"reservation", "kernel", "kernelTCP", "swappiness",
							  NULL};
		for (const char *const *k = unsupported; *k; k++)
			if (get(mem, *k)) {
				char p[64];
				snprintf(p, sizeof(p), "linux.resources.memory.%s", *k);
				return field_error(x->err, p, "is not supported by sbx");
			}
		bool b;
		if (get_bool(x, mem, "disableOOMKiller", "linux.resources.memory", &b, false) < 0)
			return -1;
		if (b)
			return field_error(x->err, "linux.resources.memory.disableOOMKiller",
					   "is not supported by sbx");
	}
	const json_t *pids = get(r, "pids");
	if (pids) {
		long long limit = 0;
		bool h;
		if (want(x, pids, JSON_OBJECT, "linux.resources.pids") < 0 ||
		    check_keys(x, pids, "linux.resources.pids", (const char *const[]){"limit", NULL}) < 0 ||
		    get_int(x, pids, "limit", "linux.resources.pids", LLONG_MIN, LLONG_MAX, &limit, &h) < 0)
			return -1;
		if (h && limit > 0) {
			x->c->limits.pids = (uint64_t)limit;
			x->s->limits_set = true;
		}
	}
	const json_t *cpu = get(r, "cpu");
	if (cpu) {
		static const char *const ck[] = {
		    "shares",	      "quota", "burst", "period", "realtimeRuntime",
		    "realtimePeriod", "cpus",  "mems",	"idle",	  NULL};
		if (want(x, cpu, JSON_OBJECT, "linux.resources.cpu") < 0 ||
		    check_keys(x, cpu, "linux.resources.cpu", ck) < 0)
			return -1;
		long long quota = 0, period = 100000, shares;
		bool hq, hp, hs;
		if (get_int(x, cpu, "quota", "linux.resources.cpu", -1, LLONG_MAX, &quota, &hq) < 0 ||
		    get_int(x, cpu, "period", "linux.resources.cpu", 0, 1000000, &period, &hp) < 0 ||
		    get_int(x, cpu, "shares", "linux.resources.cpu", 0, 262144, &shares, &hs) < 0)
			return -1;
		if (!hp || period == 0)
			period = 100000;
		if (hq && quota > 0) {
			x->c->limits.cpus = (double)quota / (double)period;
			x->s->limits_set = true;
		}
		static const char *const unsupported[] = {
		    "burst", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle", NULL};
		for (const char *const *k = unsupported; *k; k++) {
			const json_t *v = get(cpu, *k);
			if (v && !(json_is_string(v) && json_string_length(v) == 0) &&
			    !(json_is_integer(v) && json_integer_value(v) == 0)) {
				char p[64];
				snprintf(p, sizeof(p), "linux.resources.cpu.%s", *k);
				return field_error(x->err, p, "is not supported by sbx");
			}
		}
	}
	return 0;
}

/* Paths sbx masks or makes read-only itself, or that do not exist in its
 * sandbox (a /proc entry this kernel lacks).  Under /sys, which is always
 * read-only, the spec's masked paths are kept for runtime/mounts.c. */
static bool path_covered(const char *p, bool masked)
{
	static const char *const masked_proc[] = {
	    "/proc/kcore",	   "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
	    "/proc/latency_stats", "/proc/acpi", "/proc/scsi",	     NULL};
	static const char *const ro_proc[] = {
	    "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", NULL};
	if (strcmp(p, "/sys") == 0 || strncmp(p, "/sys/", 5) == 0)
		return true;
	for (const char *const *k = masked_proc; *k; k++)
		if (strcmp(*k, p) == 0)
			return true;
	for (const char *const *k = ro_proc; !masked && *k; k++)
		if (strcmp(*k, p) == 0)
			return true;
	/* The host's procfs shows what this kernel offers a fresh one. */
	if (strncmp(p, "/proc/", 6) == 0 && strstr(p, "/..") == NULL && strchr(p + 6, '/') == NULL) {
		struct stat st;
		return lstat(p, &st) < 0 && errno == ENOENT;
	}
	return false;
}

static int parse_paths(struct ctx *x, const json_t *v, const char *path, bool masked)
{
	char **paths = NULL;
	if (get_strv(x, v, path, &paths, NULL) < 0)
		return -1;
	for (size_t i = 0; paths && paths[i]; i++) {
		bool sys = strcmp(paths[i], "/sys") == 0 || strncmp(paths[i], "/sys/", 5) == 0;
		if (sys && strstr(paths[i], "/..")) {
			char p[64];
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			field_error(x->err, p, "%s: '..' is not supported by sbx", paths[i]);
			free_strv(paths);
			return -1;
		}
		if (masked && sys)
			sbx_strv_push(&x->c->sys_masked, NULL, xstrdup(paths[i]));
		if (!path_covered(paths[i], masked)) {
			char p[64];
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			field_error(x->err, p, "%s: sbx does not %s this path", paths[i],
				    masked ? "mask" : "make read-only");
			free_strv(paths);
			return -1;
		}
	}
	free_strv(paths);
	return 0;
}

/* linux.cgroupsPath: where the container's cgroup goes (cgroups/cgroup.h,
 * sbx_cgroup_plan_path).  podman's "/libpod_parent/libpod-ID", containerd's
 * "/NAMESPACE/ID", the CRI's "/kubepods/.../ID"; the systemd form
 * ("slice:prefix:name") asks for the systemd cgroup manager. */
static int parse_cgroups_path(struct ctx *x, const char *p)
{
	if (strchr(p, ':'))
		return field_error(x->err, "linux.cgroupsPath",
				   "\"%s\" is systemd's form: sbx creates and removes its cgroups itself "
				   "(cgroupfs), beneath its caller's cgroup (use the client's cgroupfs manager)",
				   p);
	if (p[0] != '/' || strlen(p) > 1024)
		return field_error(x->err, "linux.cgroupsPath", "\"%s\" must be an absolute path", p);
	for (const char *c = p; *c == '/';) {
		const char *e = strchrnul(c + 1, '/');
		size_t n = (size_t)(e - c - 1);
		if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
			return field_error(x->err, "linux.cgroupsPath",
					   "\"%s\": empty, \".\" and \"..\" components are not supported", p);
		c = e;
	}
	free(x->c->cgroup_path);
	x->c->cgroup_path = xstrdup(p);
	return 0;
}

/* Only sysctls of namespaces the container owns, as runc allows; a joined
 * ipc namespace's are its owner's (a pod's pause container) to set. */
static bool sysctl_namespaced(const char *k, bool own_net, bool own_ipc)
{
	if (!own_ipc)
		return own_net && strncmp(k, "net.", 4) == 0;
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	     "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	     "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
	for (const char *const *i = ipc; *i; i++)
		if (strcmp(*i, k) == 0)
			return true;
	if (strncmp(k, "fs.mqueue.", 10) == 0)
		return true;
	return own_net && strncmp(k, "net.", 4) == 0;
}

static int parse_sysctl(struct ctx *x, const json_t *v)
{
	if (v == NULL)
		return 0;
	if (want(x, v, JSON_OBJECT, "linux.sysctl") < 0)
		return -1;
	x->s->sysctls = xcalloc(json_object_size(v), sizeof(*x->s->sysctls));
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)v, key, val)
	{
		char p[160];
		snprintf(p, sizeof(p), "linux.sysctl.%.100s", key);
		if (want(x, val, JSON_STRING, p) < 0)
			return -1;
		bool ok = strlen(key) < 128 && strstr(key, "..") == NULL && strchr(key, '/') == NULL &&
			  key[0] != '.';
		if (!ok || !sysctl_namespaced(key, x->c->network != SBX_NET_HOST || x->s->netns_path != NULL,
					     x->s->ipcns_path == NULL))
			return field_error(x->err, p, "not a sysctl of the container's own namespaces");
		const char *s = json_string_value(val);
		if (strlen(s) != json_string_length(val) || strchr(s, '\n'))
			return field_error(x->err, p, "invalid value");
		x->s->sysctls[x->s->n_sysctls++] = (struct sbx_oci_sysctl){xstrdup(key), xstrdup(s)};
	}
	return 0;
}

static int parse_linux(struct ctx *x, const json_t *l)
{
	if (l == NULL) {
		x->c->network = SBX_NET_HOST; /* no namespaces asked for */
		sbx_config_set_string(&x->c->seccomp, "unconfined");
		return 0;
	}
	static const char *const known[] = {"namespaces",  "uidMappings", "gidMappings",       "devices",
					    "cgroupsPath", "resources",	  "rootfsPropagation", "seccomp",
					    "sysctl",	   "maskedPaths", "readonlyPaths",     "mountLabel",
					    NULL};
	if (want(x, l, JSON_OBJECT, "linux") < 0 || check_keys(x, l, "linux", known) < 0)
		return -1;
	if (parse_namespaces(x, get(l, "namespaces")) < 0 || parse_idmaps(x, l) < 0 ||
	    parse_resources(x, get(l, "resources")) < 0 || parse_sysctl(x, get(l, "sysctl")) < 0 ||
	    parse_paths(x, get(l, "maskedPaths"), "linux.maskedPaths", true) < 0 ||
	    parse_paths(x, get(l, "readonlyPaths"), "linux.readonlyPaths", false) < 0)
		return -1;
	if (sbx_oci_devices_parse(get(l, "devices"), x->c, x->s, x->err) < 0)
		return -1;
	const char *cgpath, *prop, *label;
	if (get_string(x, l, "cgroupsPath", "linux", &cgpath) < 0 ||
	    get_string(x, l, "rootfsPropagation", "linux", &prop) < 0 ||
	    get_string(x, l, "mountLabel", "linux", &label) < 0 ||
	    lsm_field(x, "linux.mountLabel", label, "SELinux", "/sys/fs/selinux/enforce") < 0)
		return -1;
	if (cgpath && *cgpath && parse_cgroups_path(x, cgpath) < 0)
		return -1;
	/* sbx's mounts are private: nothing propagates either way. */
	if (prop && *prop && strcmp(prop, "private") != 0 && strcmp(prop, "rprivate") != 0 &&
	    strcmp(prop, "slave") != 0 && strcmp(prop, "rslave") != 0)
		return field_error(x->err, "linux.rootfsPropagation", "\"%s\" is not supported by sbx", prop);
	const json_t *sc = get(l, "seccomp");
	if (sc && sbx_oci_seccomp_to_yaml(sc, &x->s->seccomp_yaml, x->err) < 0)
		return -1;
	if (sc == NULL)
		sbx_config_set_string(&x->c->seccomp, "unconfined");
	return 0;
}

/* ---- hooks, annotations, top level --------------------------------------- */

static int parse_hooks(struct ctx *x, const json_t *h)
{
	if (h == NULL)
		return 0;
	if (want(x, h, JSON_OBJECT, "hooks") < 0 ||
	    check_keys(x, h, "hooks",
		       (const char *const[]){"prestart", "createRuntime", "createContainer", "startContainer",
					     "poststart", "poststop", NULL}) < 0)
		return -1;
	for (int k = 0; k < SBX_HOOK_KINDS; k++) {
		const json_t *list = get(h, sbx_oci_hook_names[k]);
		if (list == NULL)
			continue;
		char lp[64];
		snprintf(lp, sizeof(lp), "hooks.%s", sbx_oci_hook_names[k]);
		if (want(x, list, JSON_ARRAY, lp) < 0)
			return -1;
		size_t n = json_array_size(list);
		x->s->hooks[k] = xcalloc(n, sizeof(struct sbx_oci_hook));
		for (size_t i = 0; i < n; i++) {
			char p[100];
			snprintf(p, sizeof(p), "%s[%zu]", lp, i);
			const json_t *e = json_array_get(list, i);
			if (want(x, e, JSON_OBJECT, p) < 0 ||
			    check_keys(x, e, p,
				       (const char *const[]){"path", "args", "env", "timeout", NULL}) < 0)
				return -1;
			struct sbx_oci_hook *hk = &x->s->hooks[k][i];
			x->s->n_hooks[k] = i + 1;
			const char *path;
			long long timeout = 0;
			bool ht;
			char ap[128], ep[128];
			snprintf(ap, sizeof(ap), "%s.args", p);
			snprintf(ep, sizeof(ep), "%s.env", p);
			if (get_string(x, e, "path", p, &path) < 0 ||
			    get_int(x, e, "timeout", p, 1, 86400, &timeout, &ht) < 0 ||
			    get_strv(x, get(e, "args"), ap, &hk->args, NULL) < 0 ||
			    get_strv(x, get(e, "env"), ep, &hk->env, NULL) < 0)
				return -1;
			if (path == NULL || path[0] != '/')
				return field_error(x->err, p, "path must be absolute");
			hk->path = xstrdup(path);
			hk->timeout = (int)timeout;
		}
	}
	return 0;
}

static int parse_annotations(struct ctx *x, const json_t *a)
{
	if (a == NULL) {
		x->s->annotations = xstrdup("{}");
		return 0;
	}
	if (want(x, a, JSON_OBJECT, "annotations") < 0)
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)a, key, v)
	{
		if (!json_is_string(v))
			return field_error(x->err, "annotations", "value of \"%.100s\" must be a string",
					   key);
	}
	x->s->annotations = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	if (x->s->annotations == NULL)
		abort();
	return 0;
}

int sbx_oci_spec_parse(const char *text, size_t len, const char *bundle, struct sbx_config *c,
		       struct sbx_oci_spec *s, struct sbx_error **err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return sbx_error_set(err, 0, "config.json: line %d column %d: %s", je.line, je.column,
				     je.text);
	struct ctx x = {.bundle = bundle, .c = c, .s = s, .err = err};
	int r = -1;
	static const char *const known[] = {"ociVersion", "process", "root",	    "hostname", "domainname",
					    "mounts",	  "hooks",   "annotations", "linux",	NULL};
	if (want(&x, root, JSON_OBJECT, "(top level)") < 0 || check_keys(&x, root, "(top level)", known) < 0)
		goto out;
	const char *version, *hostname, *domainname;
	if (get_string(&x, root, "ociVersion", "", &version) < 0 ||
	    get_string(&x, root, "hostname", "", &hostname) < 0 ||
	    get_string(&x, root, "domainname", "", &domainname) < 0)
		goto out;
	if (version == NULL || strncmp(version, "1.", 2) != 0) {
		field_error(err, "ociVersion", "\"%s\" is not a runtime-spec 1.x version",
			    version ? version : "");
		goto out;
	}
	s->oci_version = xstrdup(version);
	if (domainname && *domainname) {
		field_error(err, "domainname", "is not supported by sbx");
		goto out;
	}
	if (hostname && *hostname)
		sbx_config_set_string(&c->hostname, hostname);
	/* An OCI container's output is its log: not capped like a strategy's. */
	c->limits.output = UINT64_MAX;
	/* linux first: the network namespace decides which sysctls are allowed. */
	if (parse_linux(&x, get(root, "linux")) < 0 || parse_root(&x, get(root, "root")) < 0 ||
	    parse_process(&x, get(root, "process")) < 0 || parse_mounts(&x, get(root, "mounts")) < 0 ||
	    parse_hooks(&x, get(root, "hooks")) < 0 || parse_annotations(&x, get(root, "annotations")) < 0)
		goto out;
	c->no_image_config = true; /* the spec says everything */
	r = 0;
out:
	json_decref(root);
	return r;
}

int sbx_oci_spec_load(const char *bundle, struct sbx_config *c, struct sbx_oci_spec *s,
		      struct sbx_error **err)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/config.json", bundle) < 0)
		abort();
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "reading %s", path);
	if (!S_ISREG(st.st_mode))
		return sbx_error_set(err, 0, "%s is not a regular file", path);
	if ((uint64_t)st.st_size > SPEC_MAX_BYTES)
		return sbx_error_set(err, 0, "%s is larger than %u bytes", path, SPEC_MAX_BYTES);
	cleanup_free char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		abort();
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_error_set(err, errno, "reading %s", path);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return sbx_oci_spec_parse(buf, got, bundle, c, s, err);
}

void sbx_oci_spec_free(struct sbx_oci_spec *s)
{
	free(s->oci_version);
	free(s->rlimits);
	for (size_t i = 0; i < s->n_sysctls; i++) {
		free(s->sysctls[i].key);
		free(s->sysctls[i].value);
	}
	free(s->sysctls);
	for (int k = 0; k < SBX_HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->n_hooks[k]; i++) {
			free(s->hooks[k][i].path);
			free_strv(s->hooks[k][i].args);
			free_strv(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	free(s->annotations);
	free(s->seccomp_yaml);
	free(s->netns_path);
	free(s->ipcns_path);
	free(s->utsns_path);
	for (size_t i = 0; i < s->n_warnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	memset(s, 0, sizeof(*s));
}
