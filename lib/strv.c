#include "lib/strv.h"

#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

size_t sbx_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void sbx_strv_push(char ***v, size_t *n, char *s)
{
	size_t len = n ? *n : sbx_strv_len(*v);
	char **t = sbx_xreallocarray(*v, len + 2, sizeof(*t));
	t[len++] = s;
	t[len] = NULL;
	*v = t;
	if (n)
		*n = len;
}

char **sbx_strv_dup(char *const *v)
{
	if (v == NULL)
		return NULL;
	size_t n = sbx_strv_len(v);
	char **r = sbx_xcalloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = sbx_xstrdup(v[i]);
	return r;
}

void sbx_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **sbx_kv_find(char **v, const char *key, size_t key_len)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strncmp(v[i], key, key_len) == 0 && v[i][key_len] == '=')
			return &v[i];
	return NULL;
}

const char *sbx_kv_get(char *const *v, const char *key)
{
	char **e = sbx_kv_find((char **)v, key, strlen(key));
	return e ? *e + strlen(key) + 1 : NULL;
}

void sbx_kv_set(char ***v, size_t *n, const char *key, size_t key_len, const char *value)
{
	char *entry = sbx_xasprintf("%.*s=%s", (int)key_len, key, value);
	char **e = sbx_kv_find(*v, key, key_len);
	if (e) {
		free(*e);
		*e = entry;
		return;
	}
	sbx_strv_push(v, n, entry);
}
