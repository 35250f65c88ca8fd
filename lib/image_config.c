#include "lib/image_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/safefs.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "lib/strv.h"

char *sbx_image_config_path(const char *rootfs)
{
	size_t n = strlen(rootfs);
	while (n > 1 && rootfs[n - 1] == '/')
		n--;
	return sbx_xasprintf("%.*s%s", (int)n, rootfs, SBX_IMAGE_CONFIG_SUFFIX);
}

void sbx_image_config_init(struct sbx_image_config *c)
{
	memset(c, 0, sizeof(*c));
	c->uid = c->gid = -1;
}

void sbx_image_config_free(struct sbx_image_config *c)
{
	sbx_strv_free(c->env);
	sbx_strv_free(c->entrypoint);
	sbx_strv_free(c->cmd);
	free(c->workdir);
	free(c->user);
	if (c->labels)
		json_decref(c->labels);
	free(c->source);
	free(c->format);
	free(c->manifest);
	free(c->config_digest);
	free(c->platform);
	sbx_image_config_init(c);
}

/* JSON array of strings -> NULL-terminated vector; null/absent -> NULL. */
static int strv_from_json(json_t *a, char ***out, const char *what, struct sbx_error **err)
{
	*out = NULL;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return sbx_error_set(err, 0, "%s: not an array of strings", what);
	char **v = sbx_xcalloc(json_array_size(a) + 1, sizeof(*v));
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s)
	{
		if (!json_is_string(s)) {
			sbx_strv_free(v);
			return sbx_error_set(err, 0, "%s: not an array of strings", what);
		}
		v[i] = sbx_xstrdup(json_string_value(s));
	}
	*out = v;
	return 0;
}

static json_t *strv_to_json(char **v)
{
	if (v == NULL)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int str_from_json(json_t *j, char **out)
{
	const char *s = json_string_value(j);
	*out = (s && *s) ? sbx_xstrdup(s) : NULL;
	return 0;
}

int sbx_image_config_from_oci(struct sbx_image_config *c, json_t *doc, struct sbx_error **err)
{
	json_t *cfg = json_object_get(doc, "config");
	if (cfg == NULL || json_is_null(cfg))
		return 0;
	if (!json_is_object(cfg))
		return sbx_error_set(err, 0, "image config: \"config\" is not an object");
	if (strv_from_json(json_object_get(cfg, "Env"), &c->env, "Env", err) < 0 ||
	    strv_from_json(json_object_get(cfg, "Entrypoint"), &c->entrypoint, "Entrypoint", err) < 0 ||
	    strv_from_json(json_object_get(cfg, "Cmd"), &c->cmd, "Cmd", err) < 0)
		return sbx_error_wrap(err, "image config");
	str_from_json(json_object_get(cfg, "WorkingDir"), &c->workdir);
	str_from_json(json_object_get(cfg, "User"), &c->user);
	json_t *l = json_object_get(cfg, "Labels");
	if (json_is_object(l))
		c->labels = json_deep_copy(l);
	return 0;
}

static int is_number(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Look NAME up in an /etc/passwd- or /etc/group-style file; returns the id
 * (third field) and, for passwd, the primary group (fourth). */
static int lookup(int rootfd, const char *file, const char *name, int64_t *id, int64_t *gid)
{
	int fd = rfs_openat_beneath(rootfd, file, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	/* getline: a long line (a group with many members) is one entry, never
	 * split into two that could each look like one. */
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (getline(&line, &cap, f) >= 0) {
		/* strsep, not strtok: an empty field (no password, "user::1001:")
		 * is still a field (passwd(5), group(5)). */
		line[strcspn(line, "\n")] = '\0';
		char *rest = line;
		char *n = strsep(&rest, ":");
		strsep(&rest, ":");
		char *a = strsep(&rest, ":");
		char *b = strsep(&rest, ":");
		if (n && a && strcmp(n, name) == 0 && is_number(a)) {
			*id = strtoll(a, NULL, 10);
			if (gid)
				*gid = (b && is_number(b)) ? strtoll(b, NULL, 10) : -1;
			found = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return found;
}

int sbx_image_config_resolve_user(struct sbx_image_config *c, int rootfd, struct sbx_error **err)
{
	c->uid = c->gid = -1;
	if (c->user == NULL) {
		c->uid = c->gid = 0;
		return 0;
	}
	cleanup_free char *u = sbx_xstrdup(c->user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	int64_t pgid = -1;
	if (is_number(u))
		c->uid = strtoll(u, NULL, 10);
	else if (lookup(rootfd, "etc/passwd", u, &c->uid, &pgid) < 0)
		return sbx_error_set(err, 0, "image user '%s' is not in the rootfs' /etc/passwd", u);
	if (g == NULL) {
		/* A numeric user without a group runs with gid 0 in Docker, or
		 * with its passwd group when it has an entry. */
		c->gid = pgid >= 0 ? pgid : 0;
	} else if (is_number(g))
		c->gid = strtoll(g, NULL, 10);
	else if (lookup(rootfd, "etc/group", g, &c->gid, NULL) < 0)
		return sbx_error_set(err, 0, "image group '%s' is not in the rootfs' /etc/group", g);
	if (c->uid > 0xffffffffll || c->gid > 0xffffffffll)
		return sbx_error_set(err, 0, "image user '%s': id out of range", c->user);
	return 0;
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

int sbx_image_config_write(const struct sbx_image_config *c, const char *path, struct sbx_error **err)
{
	json_t *j = json_pack("{s:i}", "sbx_image_config", SBX_IMAGE_CONFIG_VERSION);
	json_object_set_new(j, "env", c->env ? strv_to_json(c->env) : json_array());
	json_object_set_new(j, "entrypoint", strv_to_json(c->entrypoint));
	json_object_set_new(j, "cmd", strv_to_json(c->cmd));
	json_object_set_new(j, "workdir", opt_str(c->workdir));
	json_object_set_new(j, "user", opt_str(c->user));
	json_object_set_new(j, "uid", c->uid >= 0 ? json_integer(c->uid) : json_null());
	json_object_set_new(j, "gid", c->gid >= 0 ? json_integer(c->gid) : json_null());
	json_object_set_new(j, "labels", c->labels ? json_deep_copy(c->labels) : json_object());
	json_object_set_new(j, "source", opt_str(c->source));
	json_object_set_new(j, "format", opt_str(c->format));
	json_object_set_new(j, "manifest", opt_str(c->manifest));
	json_object_set_new(j, "config_digest", opt_str(c->config_digest));
	json_object_set_new(j, "platform", opt_str(c->platform));
	cleanup_free char *tmp = sbx_xasprintf("%s.tmp", path);
	int r = json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (r < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sbx_error_set(err, e, "writing %s", path);
	}
	return 0;
}

int sbx_image_config_load(struct sbx_image_config *c, const char *path, struct sbx_error **err)
{
	sbx_image_config_init(c);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (j == NULL)
		return sbx_error_set(err, 0, "%s:%d: %s", path, je.line, je.text);
	json_t *v = json_object_get(j, "sbx_image_config");
	if (!json_is_integer(v) || json_integer_value(v) != SBX_IMAGE_CONFIG_VERSION) {
		json_decref(j);
		return sbx_error_set(err, 0, "%s: not an sbx image config of version %d", path,
				     SBX_IMAGE_CONFIG_VERSION);
	}
	int r = 0;
	if (strv_from_json(json_object_get(j, "env"), &c->env, "env", err) < 0 ||
	    strv_from_json(json_object_get(j, "entrypoint"), &c->entrypoint, "entrypoint", err) < 0 ||
	    strv_from_json(json_object_get(j, "cmd"), &c->cmd, "cmd", err) < 0)
		r = sbx_error_wrap(err, "%s", path);
	str_from_json(json_object_get(j, "workdir"), &c->workdir);
	str_from_json(json_object_get(j, "user"), &c->user);
	json_t *u = json_object_get(j, "uid"), *g = json_object_get(j, "gid");
	c->uid = json_is_integer(u) ? json_integer_value(u) : -1;
	c->gid = json_is_integer(g) ? json_integer_value(g) : -1;
	json_t *l = json_object_get(j, "labels");
	if (json_is_object(l))
		c->labels = json_incref(l);
	str_from_json(json_object_get(j, "source"), &c->source);
	str_from_json(json_object_get(j, "format"), &c->format);
	str_from_json(json_object_get(j, "manifest"), &c->manifest);
	str_from_json(json_object_get(j, "config_digest"), &c->config_digest);
	str_from_json(json_object_get(j, "platform"), &c->platform);
	json_decref(j);
	if (r < 0)
		sbx_image_config_free(c);
	return r;
}
