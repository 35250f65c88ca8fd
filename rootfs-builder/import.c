#include "rootfs-builder/import.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rootfs-builder/blob.h"
#include "rootfs-builder/image.h"
#include "lib/alloc.h"
#include "lib/image_config.h"
#include "lib/safefs.h"
#include "lib/cleanup.h"
#include "lib/idmap_defaults.h"
#include "lib/clock.h"

void rfs_import_opts_init(struct rfs_import_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ids = geteuid() == 0 ? RFS_IDS_SHIFT : RFS_IDS_CALLER;
	o->id_base = SBX_DEFAULT_IDMAP_BASE;
	o->id_size = SBX_DEFAULT_IDMAP_SIZE;
	o->max_size = RFS_DEFAULT_MAX_SIZE;
}

static char *strip_slashes(const char *p)
{
	char *s = sbx_xstrdup(p);
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int rfs_make_tmp_sibling(const char *out, char **tmp, struct sbx_error **err)
{
	cleanup_free char *o = strip_slashes(out);
	*tmp = sbx_xasprintf("%s.tmp-XXXXXX", o);
	if (mkdtemp(*tmp) == NULL) {
		int e = errno;
		free(*tmp);
		*tmp = NULL;
		return sbx_error_set(err, e, "creating a temporary directory beside %s", o);
	}
	return 0;
}

int rfs_remove_path(const char *path)
{
	cleanup_free char *a = sbx_xstrdup(path), *b = sbx_xstrdup(path);
	cleanup_close int dfd = open(dirname(a), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	return rfs_remove_at(dfd, basename(b));
}

int rfs_commit_dir(const char *tmp, const char *out, int force, struct sbx_error **err)
{
	struct stat st;
	if (lstat(out, &st) == 0) {
		if (!force)
			return sbx_error_set(err, 0, "%s exists (use --force to replace it)", out);
		if (!S_ISDIR(st.st_mode))
			return sbx_error_set(err, 0, "%s exists and is not a directory", out);
		/* Swap atomically so that DIR is always either the old tree or
		 * the new one, then remove the old one from its temporary name. */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) < 0)
			return sbx_error_set(err, errno, "replacing %s", out);
		if (rfs_remove_path(tmp) < 0)
			return sbx_error_set(err, errno, "removing the old tree, now at %s", tmp);
		return 0;
	}
	if (rename(tmp, out) < 0)
		return sbx_error_set(err, errno, "renaming %s to %s", tmp, out);
	return 0;
}

static int import_into(const struct rfs_import_opts *o, int rootfd, struct sbx_image_config *ic,
		       struct sbx_error **err)
{
	struct rfs_platform plat;
	if (rfs_platform_parse(o->platform ? o->platform : "linux/amd64", &plat, err) < 0)
		return -1;
	struct rfs_source src;
	if (rfs_source_open_limited(&src, o->source, o->max_size ? o->max_size : RFS_DEFAULT_MAX_SIZE, err) <
	    0) {
		rfs_source_close(&src);
		return -1;
	}
	struct rfs_extract x;
	rfs_extract_init(&x, rootfd);
	x.ids = o->ids;
	x.id_base = o->id_base;
	x.id_size = o->id_size;
	x.max_size = o->max_size ? o->max_size : RFS_DEFAULT_MAX_SIZE;
	x.warn = o->progress;
	struct rfs_image img = {0};
	int ret = -1;
	ic->source = sbx_xstrdup(o->source);
	ic->format = sbx_xstrdup(rfs_format_name(src.format));
	if (o->progress)
		fprintf(o->progress, "sbx-rootfs: %s: %s\n", o->source, rfs_format_name(src.format));

	if (src.format == RFS_FMT_FLAT_TAR) {
		struct rfs_stream *st = NULL;
		struct rfs_layer_desc d = {.label = "flat archive", .size = -1};
		if (rfs_stream_open_path(o->source, &st, err) < 0)
			goto out;
		int r = rfs_apply_layer(&x, st, &d, err);
		rfs_stream_close(st);
		if (r < 0)
			goto out;
	} else {
		if (rfs_image_load(&src, &plat, o->ref, &img, err) < 0)
			goto out;
		for (size_t i = 0; i < img.n_layers; i++) {
			struct rfs_image_layer *l = &img.layers[i];
			char label[256];
			snprintf(label, sizeof(label), "layer %zu/%zu (%s)", i + 1, img.n_layers,
				 l->digest ? l->digest : l->name);
			if (o->progress) {
				fprintf(o->progress, "sbx-rootfs: %s", label);
				if (l->size >= 0)
					fprintf(o->progress, ", %.1f MiB", l->size / 1048576.0);
				fputc('\n', o->progress);
			}
			struct rfs_layer_desc d = {
			    .label = label, .digest = l->digest, .size = l->size, .diff_id = l->diff_id};
			struct rfs_stream *st = NULL;
			if (rfs_stream_open(&src, l->name, &st, err) < 0) {
				sbx_error_wrap(err, "%s", label);
				goto out;
			}
			int r = rfs_apply_layer(&x, st, &d, err);
			rfs_stream_close(st);
			if (r < 0)
				goto out;
		}
		if (sbx_image_config_from_oci(ic, img.config, err) < 0)
			goto out;
		ic->manifest = img.manifest_digest ? sbx_xstrdup(img.manifest_digest) : NULL;
		ic->config_digest = img.config_digest ? sbx_xstrdup(img.config_digest) : NULL;
		char p[128];
		snprintf(p, sizeof(p), "%s/%s%s%s", plat.os, plat.arch, plat.variant[0] ? "/" : "",
			 plat.variant);
		ic->platform = sbx_xstrdup(p);
	}
	if (rfs_extract_finish(&x, err) < 0)
		goto out;
	if (o->ids == RFS_IDS_SHIFT && geteuid() == 0 && fchown(rootfd, o->id_base, o->id_base) < 0) {
		sbx_error_set(err, errno, "chown of the rootfs' root");
		goto out;
	}
	rfs_harden_report(&x.harden, o->progress);
	if (x.devices_skipped && o->progress)
		fprintf(o->progress, "sbx-rootfs: warning: %lu device node(s) skipped\n", x.devices_skipped);
	if (x.ids_clamped && o->progress)
		fprintf(o->progress,
			"sbx-rootfs: warning: %lu id(s) outside 0-%u were given to nobody (65534)\n",
			x.ids_clamped, o->id_size - 1);
	struct sbx_error *uerr = NULL;
	if (sbx_image_config_resolve_user(ic, rootfd, &uerr) < 0) {
		if (o->progress)
			fprintf(o->progress, "sbx-rootfs: warning: %s\n", uerr->msg);
		sbx_error_free(&uerr);
	}
	ret = 0;
out:
	rfs_image_free(&img);
	rfs_extract_free(&x);
	rfs_source_close(&src);
	return ret;
}

int rfs_import(const struct rfs_import_opts *o, struct sbx_error **err)
{
	double t0 = sbx_now_s();
	cleanup_free char *out = strip_slashes(o->out);
	struct stat st;
	if (!o->force && lstat(out, &st) == 0)
		return sbx_error_set(err, 0, "%s exists (use --force to replace it)", out);
	cleanup_free char *tmp = NULL;
	if (rfs_make_tmp_sibling(out, &tmp, err) < 0)
		return -1;
	cleanup_free char *tmp_cfg = sbx_image_config_path(tmp);
	cleanup_free char *cfg = sbx_image_config_path(out);
	struct sbx_image_config ic;
	sbx_image_config_init(&ic);
	int ret = -1;
	int rootfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		sbx_error_set(err, errno, "%s", tmp);
		goto out;
	}
	int r = import_into(o, rootfd, &ic, err);
	close(rootfd);
	if (r < 0)
		goto out;
	if (sbx_image_config_write(&ic, tmp_cfg, err) < 0 || rfs_commit_dir(tmp, out, o->force, err) < 0)
		goto out;
	if (rename(tmp_cfg, cfg) < 0) {
		sbx_error_set(err, errno, "renaming %s to %s", tmp_cfg, cfg);
		goto out;
	}
	if (o->progress)
		fprintf(o->progress, "sbx-rootfs: imported %s into %s in %.2f s (image config: %s)\n",
			o->source, out, sbx_now_s() - t0, cfg);
	ret = 0;
out:
	if (ret < 0) {
		rfs_remove_path(tmp);
		unlink(tmp_cfg);
		sbx_error_wrap(err, "importing %s", o->source);
	}
	sbx_image_config_free(&ic);
	return ret;
}
