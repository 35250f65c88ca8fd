#include "rootfs-builder/build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/config.h"

void rfs_build_opts_init(struct rfs_build_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->file = "Dockerfile.sandbox";
	o->ids = geteuid() == 0 ? RFS_IDS_SHIFT : RFS_IDS_CALLER;
	o->id_base = SBX_DEFAULT_IDMAP_BASE;
}

void rfs_build_opts_free(struct rfs_build_opts *o)
{
	for (size_t i = 0; i < o->n_bases; i++) {
		free(o->bases[i].name);
		free(o->bases[i].archive);
	}
	free(o->bases);
	for (size_t i = 0; i < o->n_args; i++)
		free(o->args[i]);
	free(o->args);
	o->bases = NULL;
	o->args = NULL;
	o->n_bases = o->n_args = 0;
}

int rfs_build_add_base(struct rfs_build_opts *o, const char *spec, struct sbx_error **err)
{
	const char *eq = strchr(spec, '=');
	if (eq == NULL || eq == spec || eq[1] == '\0')
		return sbx_error_set(err, 0, "--base '%s': expected NAME=ARCHIVE", spec);
	struct rfs_build_base *b = realloc(o->bases, (o->n_bases + 1) * sizeof(*b));
	if (b == NULL)
		return sbx_error_set(err, ENOMEM, "--base");
	o->bases = b;
	b[o->n_bases].name = strndup(spec, (size_t)(eq - spec));
	b[o->n_bases].archive = strdup(eq + 1);
	o->n_bases++;
	return 0;
}

int rfs_build_add_arg(struct rfs_build_opts *o, const char *spec, struct sbx_error **err)
{
	if (strchr(spec, '=') == NULL || spec[0] == '=')
		return sbx_error_set(err, 0, "--build-arg '%s': expected KEY=VALUE", spec);
	char **a = realloc(o->args, (o->n_args + 1) * sizeof(*a));
	if (a == NULL)
		return sbx_error_set(err, ENOMEM, "--build-arg");
	o->args = a;
	a[o->n_args++] = strdup(spec);
	return 0;
}

int rfs_build(const struct rfs_build_opts *o, struct sbx_error **err)
{
	return sbx_error_set(err, ENOSYS, "build %s", o->file);
}
