/* String lists: NULL-terminated arrays of malloc'd strings (argv, env,
 * Entrypoint, Cmd).  NULL is the empty list everywhere. */
#ifndef SBX_STRV_H
#define SBX_STRV_H

#include <stddef.h>

size_t sbx_strv_len(char *const *v);
/* Append s (taken over) to *v, which holds *n entries (n may be NULL: the
 * length is counted). */
void sbx_strv_push(char ***v, size_t *n, char *s);
/* A deep copy; NULL for NULL. */
char **sbx_strv_dup(char *const *v);
void sbx_strv_free(char **v);

/* KEY=VALUE lists (environments, build args). */
/* The entry of v whose key is `key` (compared up to the first '='), or NULL. */
char **sbx_kv_find(char **v, const char *key, size_t key_len);
/* The value of `key` in v, or NULL. */
const char *sbx_kv_get(char *const *v, const char *key);
/* Set key=value in *v (n as for sbx_strv_push): replaced in place when the
 * key is there, appended otherwise. */
void sbx_kv_set(char ***v, size_t *n, const char *key, size_t key_len, const char *value);

#endif
