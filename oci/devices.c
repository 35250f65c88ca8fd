#include "devices.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* The entries sbx's own /dev has: a device may not take their place. */
static const char *const reserved[] = {"pts",	"shm",	  "mqueue", "fd",   "ptmx",
				       "stdin", "stdout", "stderr", "core", NULL};
/* sbx's own devices (runtime/mounts.c), bound from the host's already. */
static const char *const builtin[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};

static bool listed(const char *const *list, const char *name, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && strncmp(*list, name, len) == 0)
			return true;
	return false;
}

/* "/dev/NAME[/NAME...]": no empty, "." or ".." component, none of sbx's. */
static const char *check_path(const char *path)
{
	if (strncmp(path, "/dev/", 5) != 0 || strlen(path) > 200)
		return "must be a path below /dev";
	const char *p = path + 5;
	if (listed(reserved, p, strcspn(p, "/")))
		return "is one of sbx's own /dev entries";
	for (const char *c = p; *c; c += strcspn(c, "/"), c += *c == '/') {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return "has an empty, \".\" or \"..\" component";
	}
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "has a control character";
	return NULL;
}

static bool is_node(const char *path, mode_t type, dev_t rdev, struct stat *st)
{
	return stat(path, st) == 0 && (st->st_mode & S_IFMT) == type && st->st_rdev == rdev;
}

/* The host's node of that device: at the same path, else udev's
 * /dev/{char,block}/MAJ:MIN, else any entry directly in /dev. */
static char *host_node(const char *path, mode_t type, dev_t rdev, struct stat *st)
{
	if (is_node(path, type, rdev, st))
		return strdup(path);
	char alt[64];
	snprintf(alt, sizeof(alt), "/dev/%s/%u:%u", type == S_IFCHR ? "char" : "block", major(rdev), minor(rdev));
	char *real = realpath(alt, NULL);
	if (real && is_node(real, type, rdev, st))
		return real;
	free(real);
	DIR *d = opendir("/dev");
	char *found = NULL;
	for (struct dirent *e; d && found == NULL && (e = readdir(d)) != NULL;) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/dev/%s", e->d_name);
		if ((e->d_type == DT_CHR || e->d_type == DT_BLK) && is_node(p, type, rdev, st))
			found = strdup(p);
	}
	if (d)
		closedir(d);
	return found;
}

static int refuse(struct sbx_error **err, size_t i, const char *fmt, const char *what)
{
	return sbx_error_set(err, 0, "config.json: linux.devices[%zu]: %s %s", i, fmt, what ? what : "");
}

static int get_num(const json_t *e, const char *key, long long max, long long *out, bool *set)
{
	const json_t *v = json_object_get(e, key);
	*set = v != NULL;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static void warn(struct sbx_oci_spec *s, char *msg)
{
	s->warnings = reallocarray(s->warnings, s->n_warnings + 1, sizeof(*s->warnings));
	if (s->warnings == NULL || msg == NULL)
		abort();
	s->warnings[s->n_warnings++] = msg;
}

static int parse_one(const json_t *e, size_t i, struct sbx_config *c, struct sbx_oci_spec *s,
		     struct sbx_error **err)
{
	if (!json_is_object(e))
		return refuse(err, i, "must be an object", NULL);
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)e, key, val)
	{
		static const char *const known[] = {"path", "type", "major", "minor", "fileMode", "uid", "gid", NULL};
		if (!listed(known, key, strlen(key)))
			return sbx_error_set(err, 0, "config.json: linux.devices[%zu]: unknown field \"%s\"", i,
					     key);
	}
	const json_t *jp = json_object_get(e, "path"), *jt = json_object_get(e, "type");
	const char *path = json_string_value(jp), *type = json_string_value(jt);
	if (path == NULL || strlen(path) != json_string_length(jp))
		return refuse(err, i, "path: a string is required", NULL);
	const char *why = check_path(path);
	if (why)
		return sbx_error_set(err, 0, "config.json: linux.devices[%zu].path: %s %s", i, path, why);
	if (type == NULL || (strcmp(type, "c") && strcmp(type, "u") && strcmp(type, "b")))
		return refuse(err, i, "type: sbx supports \"c\", \"u\" and \"b\" (no FIFOs), not",
			      type ? type : "(none)");
	long long maj = 0, min = 0, mode = 0, uid = 0, gid = 0;
	bool has_maj, has_min, has_mode, has_uid, has_gid;
	if (get_num(e, "major", INT_MAX, &maj, &has_maj) < 0 || get_num(e, "minor", INT_MAX, &min, &has_min) < 0 ||
	    get_num(e, "fileMode", 0177777, &mode, &has_mode) < 0 ||
	    get_num(e, "uid", UINT32_MAX - 1, &uid, &has_uid) < 0 ||
	    get_num(e, "gid", UINT32_MAX - 1, &gid, &has_gid) < 0)
		return refuse(err, i, "major, minor, fileMode, uid, gid: non-negative integers in range", NULL);
	if (!has_maj || !has_min)
		return refuse(err, i, "major and minor are required", NULL);
	mode_t ftype = type[0] == 'b' ? S_IFBLK : S_IFCHR;
	dev_t rdev = makedev((unsigned)maj, (unsigned)min);
	struct stat st;
	char *host = host_node(path, ftype, rdev, &st);
	if (host == NULL)
		return sbx_error_set(err, 0,
				     "config.json: linux.devices[%zu]: the host has no device node %s %lld:%lld "
				     "(sbx binds the host's node: a user namespace cannot mknod)",
				     i, type, maj, min);
	if (has_mode && (mode & 07777) != (st.st_mode & 07777)) {
		free(host);
		return sbx_error_set(err, 0,
				     "config.json: linux.devices[%zu].fileMode: %04llo, but the host's %s is %04o "
				     "(sbx binds the host's node and cannot change its mode)",
				     i, mode & 07777, path, (unsigned)(st.st_mode & 07777));
	}
	if ((has_uid && (uid_t)uid != st.st_uid) || (has_gid && (gid_t)gid != st.st_gid)) {
		char *m = NULL;
		if (asprintf(&m, "linux.devices[%zu]: %s keeps its host owner %u:%u, not %lld:%lld", i, path,
			     (unsigned)st.st_uid, (unsigned)st.st_gid, uid, gid) < 0)
			m = NULL;
		warn(s, m);
	}
	for (size_t k = 0; k < c->n_devices; k++)
		if (strcmp(c->devices[k].path, path + 5) == 0) {
			free(host);
			return sbx_error_set(err, 0, "config.json: linux.devices[%zu].path: %s given twice", i,
					     path);
		}
	/* sbx's own devices: the host's already, at the same place. */
	if (listed(builtin, path + 5, strlen(path + 5)) && strcmp(host, path) == 0) {
		free(host);
		return 0;
	}
	c->devices = reallocarray(c->devices, c->n_devices + 1, sizeof(*c->devices));
	if (c->devices == NULL || (c->devices[c->n_devices].path = strdup(path + 5)) == NULL)
		abort();
	c->devices[c->n_devices].host = host;
	c->devices[c->n_devices].type = ftype;
	c->devices[c->n_devices].rdev = rdev;
	c->n_devices++;
	return 0;
}

int sbx_oci_devices_parse(const json_t *v, struct sbx_config *c, struct sbx_oci_spec *s, struct sbx_error **err)
{
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return sbx_error_set(err, 0, "config.json: linux.devices: must be an array");
	for (size_t i = 0; i < json_array_size(v); i++)
		if (parse_one(json_array_get(v, i), i, c, s, err) < 0)
			return -1;
	return 0;
}
