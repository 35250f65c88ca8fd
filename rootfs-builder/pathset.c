#include "rootfs-builder/pathset.h"
#include "lib/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static char **find(char **slots, size_t cap, const char *path)
{
	for (size_t i = hash(path) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (slots[i] == NULL || strcmp(slots[i], path) == 0)
			return &slots[i];
}

static void grow(struct rfs_pathset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	char **slots = sbx_xcalloc(cap, sizeof(*slots));
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			*find(slots, cap, s->slots[i]) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
}

void rfs_pathset_add(struct rfs_pathset *s, const char *path)
{
	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	char **slot = find(s->slots, s->cap, path);
	if (*slot)
		return;
	*slot = sbx_xstrdup(path);
	s->n++;
}

int rfs_pathset_has(const struct rfs_pathset *s, const char *path)
{
	return s->cap && *find(s->slots, s->cap, path) != NULL;
}

void rfs_pathset_clear(struct rfs_pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
