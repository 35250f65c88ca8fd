/* Image defaults: what `sbx-rootfs import/build` recorded about the image
 * (its ENV, ENTRYPOINT/CMD, WORKDIR, USER) fills what the run's flags and
 * config left unset.  Explicit settings always win. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lib/image_config.h"
#include "lib/alloc.h"
#include "lib/strv.h"

int sbx_config_apply_image(struct sbx_config *c, struct sbx_error **err)
{
	if (c->no_image_config || c->rootfs == NULL)
		return 0;
	char *path = c->image_config ? sbx_xstrdup(c->image_config)
				     : sbx_image_config_path(c->rootfs);
	if (c->image_config == NULL && access(path, F_OK) != 0) {
		free(path);
		return 0; /* no image config beside this rootfs: nothing to apply */
	}
	struct sbx_image_config ic;
	sbx_image_config_init(&ic);
	int r = -1;
	if (sbx_image_config_load(&ic, path, err) < 0) {
		sbx_error_wrap(err, "image config %s", path);
		goto out;
	}
	for (char **e = ic.env; e && *e; e++) {
		char *eq = strchr(*e, '=');
		if (eq == NULL)
			continue;
		char *key = sbx_xstrndup(*e, (size_t)(eq - *e));
		int ok = sbx_config_getenv(c, key) != NULL || sbx_config_set_env(c, key, eq + 1, err) == 0;
		free(key);
		if (!ok) {
			sbx_error_wrap(err, "image config %s", path);
			goto out;
		}
	}
	if (c->argv == NULL && (ic.entrypoint || ic.cmd)) {
		size_t ne = sbx_strv_len(ic.entrypoint), nc = sbx_strv_len(ic.cmd);
		c->argv = sbx_xcalloc(ne + nc + 1, sizeof(char *));
		for (size_t i = 0; i < ne; i++)
			c->argv[i] = sbx_xstrdup(ic.entrypoint[i]);
		for (size_t i = 0; i < nc; i++)
			c->argv[ne + i] = sbx_xstrdup(ic.cmd[i]);
	}
	if (c->workdir == NULL && ic.workdir)
		c->workdir = sbx_xstrdup(ic.workdir);
	if (!c->user_set && ic.user) {
		if (ic.uid < 0 || ic.gid < 0) {
			sbx_error_set(err, 0, "image config %s: user '%s' was not resolved to numeric ids; give --user", path,
				      ic.user);
			goto out;
		}
		c->uid = (uid_t)ic.uid;
		c->gid = (gid_t)ic.gid;
	}
	r = 0;
out:
	sbx_image_config_free(&ic);
	free(path);
	return r;
}
