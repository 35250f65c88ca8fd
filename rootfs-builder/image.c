#include "rootfs-builder/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rootfs-builder/digest.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"

#define MAX_JSON (16u << 20)
#define MAX_DEPTH 4

int rfs_platform_parse(const char *s, struct rfs_platform *p, struct sbx_error **err)
{
	memset(p, 0, sizeof(*p));
	const char *a = strchr(s, '/');
	if (a == NULL || a == s || a[1] == '\0')
		return sbx_error_set(err, 0, "platform '%s': expected OS/ARCH[/VARIANT]", s);
	const char *v = strchr(a + 1, '/');
	size_t ol = (size_t)(a - s), al = v ? (size_t)(v - a - 1) : strlen(a + 1), vl = v ? strlen(v + 1) : 0;
	if (ol >= sizeof(p->os) || al == 0 || al >= sizeof(p->arch) || vl >= sizeof(p->variant) || (v && !vl))
		return sbx_error_set(err, 0, "platform '%s': expected OS/ARCH[/VARIANT]", s);
	memcpy(p->os, s, ol);
	memcpy(p->arch, a + 1, al);
	if (v)
		memcpy(p->variant, v + 1, vl);
	return 0;
}

static char *xstrdup(const char *s)
{
	return s ? sbx_xstrdup(s) : NULL;
}

static json_t *load_json(struct rfs_source *s, const char *name, const char *digest, struct sbx_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	if (rfs_source_read(s, name, digest, MAX_JSON, &buf, &len, err) < 0)
		return NULL;
	json_error_t je;
	json_t *j = json_loadb(buf, len, 0, &je);
	if (j == NULL)
		sbx_error_set(err, 0, "%s: invalid JSON at line %d: %s", name, je.line, je.text);
	return j;
}

static int blob_name(const char *digest, char *out, size_t n, struct sbx_error **err)
{
	if (!rfs_digest_valid(digest))
		return sbx_error_set(err, 0, "unsupported or malformed digest '%s' (only sha256 is accepted)",
				     digest ? digest : "(none)");
	snprintf(out, n, "blobs/sha256/%s", rfs_digest_hex(digest));
	return 0;
}

static json_t *load_blob(struct rfs_source *s, const char *digest, struct sbx_error **err)
{
	char name[128];
	if (blob_name(digest, name, sizeof(name), err) < 0)
		return NULL;
	return load_json(s, name, digest, err);
}

static int is_index_type(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static int platform_matches(json_t *desc, const struct rfs_platform *p)
{
	json_t *pl = json_object_get(desc, "platform");
	if (!json_is_object(pl))
		return 1; /* no platform given: cannot exclude it */
	const char *os = json_string_value(json_object_get(pl, "os"));
	const char *arch = json_string_value(json_object_get(pl, "architecture"));
	const char *var = json_string_value(json_object_get(pl, "variant"));
	if ((os && strcmp(os, p->os)) || (arch && strcmp(arch, p->arch)))
		return 0;
	return !(p->variant[0] && var && strcmp(var, p->variant));
}

/* Collect, depth first, the image manifests an index leads to. */
static int collect(struct rfs_source *s, json_t *index, const struct rfs_platform *p, const char *ref,
		   int depth, json_t *out, struct sbx_error **err)
{
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms))
		return sbx_error_set(err, 0, "index has no \"manifests\" array");
	size_t i;
	json_t *d;
	json_array_foreach(ms, i, d)
	{
		if (ref && depth == 0) {
			json_t *ann = json_object_get(d, "annotations");
			const char *name =
			    json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
			if (name == NULL || strcmp(name, ref) != 0)
				continue;
		}
		if (!platform_matches(d, p))
			continue;
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		if (is_index_type(mt)) {
			if (depth >= MAX_DEPTH)
				return sbx_error_set(err, 0, "indexes nested deeper than %d", MAX_DEPTH);
			json_t *sub = load_blob(s, json_string_value(json_object_get(d, "digest")), err);
			if (sub == NULL)
				return -1;
			int r = collect(s, sub, p, NULL, depth + 1, out, err);
			json_decref(sub);
			if (r < 0)
				return -1;
			continue;
		}
		json_array_append(out, d);
	}
	return 0;
}

static int set_layers_from_config(struct rfs_image *img, struct sbx_error **err)
{
	json_t *ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != img->n_layers)
		return sbx_error_set(err, 0, "image config lists %zu diff_ids for %zu layers",
				     json_is_array(ids) ? json_array_size(ids) : 0, img->n_layers);
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		if (!rfs_digest_valid(id))
			return sbx_error_set(err, 0, "image config: diff_id %zu is not a sha256 digest",
					     i + 1);
		img->layers[i].diff_id = sbx_xstrdup(id);
	}
	return 0;
}

static int check_config_platform(struct rfs_image *img, const struct rfs_platform *p, struct sbx_error **err)
{
	const char *os = json_string_value(json_object_get(img->config, "os"));
	const char *arch = json_string_value(json_object_get(img->config, "architecture"));
	if ((os && strcmp(os, p->os)) || (arch && strcmp(arch, p->arch)))
		return sbx_error_set(err, 0, "the image is for %s/%s, not %s/%s (see --platform)",
				     os ? os : "?", arch ? arch : "?", p->os, p->arch);
	return 0;
}

static int load_oci(struct rfs_source *s, const struct rfs_platform *p, const char *ref,
		    struct rfs_image *img, struct sbx_error **err)
{
	json_t *index = load_json(s, "index.json", NULL, err);
	if (index == NULL)
		return -1;
	json_t *found = json_array();
	int r = collect(s, index, p, ref, 0, found, err);
	json_decref(index);
	if (r < 0)
		goto fail;
	if (json_array_size(found) != 1) {
		if (json_array_size(found) == 0)
			sbx_error_set(err, 0, "no image for %s/%s%s%s in index.json", p->os, p->arch,
				      ref ? " named " : "", ref ? ref : "");
		else
			sbx_error_set(err, 0,
				      "index.json has %zu images for %s/%s; choose one with --ref NAME",
				      json_array_size(found), p->os, p->arch);
		goto fail;
	}
	json_t *desc = json_array_get(found, 0);
	const char *mdig = json_string_value(json_object_get(desc, "digest"));
	json_t *m = load_blob(s, mdig, err);
	if (m == NULL)
		goto fail;
	img->manifest_digest = xstrdup(mdig);
	const char *cdig = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	img->config = load_blob(s, cdig, err);
	if (img->config == NULL) {
		sbx_error_wrap(err, "image config");
		json_decref(m);
		goto fail;
	}
	img->config_digest = xstrdup(cdig);
	json_t *ls = json_object_get(m, "layers");
	size_t n = json_is_array(ls) ? json_array_size(ls) : 0;
	img->layers = sbx_xcalloc(n ? n : 1, sizeof(*img->layers));
	img->n_layers = n;
	for (size_t i = 0; i < n; i++) {
		json_t *l = json_array_get(ls, i);
		const char *dig = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		char name[128];
		if (mt && strstr(mt, "tar") == NULL) {
			sbx_error_set(err, 0, "layer %zu: unsupported media type %s", i + 1, mt);
			json_decref(m);
			goto fail;
		}
		if (blob_name(dig, name, sizeof(name), err) < 0) {
			sbx_error_wrap(err, "layer %zu", i + 1);
			json_decref(m);
			goto fail;
		}
		json_t *sz = json_object_get(l, "size");
		img->layers[i].name = sbx_xstrdup(name);
		img->layers[i].digest = sbx_xstrdup(dig);
		img->layers[i].size = json_is_integer(sz) ? json_integer_value(sz) : -1;
	}
	json_decref(m);
	json_decref(found);
	if (set_layers_from_config(img, err) < 0 || check_config_platform(img, p, err) < 0)
		return -1;
	return 0;
fail:
	json_decref(found);
	return -1;
}

/* docker-archive: manifest.json = [{"Config": "x.json", "RepoTags": [...],
 * "Layers": ["a/layer.tar", ...]}].  No blob digests are listed; the layer
 * contents are checked against the config's diff_ids instead, and the
 * config against its file name when that is a digest. */
static int load_docker(struct rfs_source *s, const struct rfs_platform *p, const char *ref,
		       struct rfs_image *img, struct sbx_error **err)
{
	json_t *man = load_json(s, "manifest.json", NULL, err);
	if (man == NULL)
		return -1;
	json_t *pick = NULL;
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(man, i, e)
	{
		if (ref) {
			int hit = 0;
			size_t j;
			json_t *t;
			json_array_foreach(json_object_get(e, "RepoTags"), j, t) hit |=
			    json_is_string(t) && strcmp(json_string_value(t), ref) == 0;
			if (!hit)
				continue;
		}
		pick = e;
		n++;
	}
	if (n != 1) {
		json_decref(man);
		if (n)
			return sbx_error_set(err, 0,
					     "manifest.json lists %zu images; choose one with --ref NAME", n);
		return sbx_error_set(err, 0, "manifest.json lists no image%s", ref ? " with that name" : "");
	}
	const char *cname = json_string_value(json_object_get(pick, "Config"));
	if (cname == NULL) {
		json_decref(man);
		return sbx_error_set(err, 0, "manifest.json: no Config");
	}
	/* "<hex>.json" (docker save <= 24, skopeo) or "blobs/sha256/<hex>". */
	char dig[RFS_DIGEST_LEN + 8];
	const char *b = strrchr(cname, '/');
	b = b ? b + 1 : cname;
	snprintf(dig, sizeof(dig), "sha256:%.64s", b);
	int named = strlen(b) >= 64 && rfs_digest_valid(dig);
	img->config = load_json(s, cname, named ? dig : NULL, err);
	if (img->config == NULL) {
		json_decref(man);
		return sbx_error_wrap(err, "image config");
	}
	img->config_digest = named ? sbx_xstrdup(dig) : NULL;
	json_t *ls = json_object_get(pick, "Layers");
	n = json_is_array(ls) ? json_array_size(ls) : 0;
	img->layers = sbx_xcalloc(n ? n : 1, sizeof(*img->layers));
	img->n_layers = n;
	for (i = 0; i < n; i++) {
		const char *ln = json_string_value(json_array_get(ls, i));
		if (ln == NULL) {
			json_decref(man);
			return sbx_error_set(err, 0, "manifest.json: layer %zu is not a string", i + 1);
		}
		img->layers[i].name = sbx_xstrdup(ln);
		img->layers[i].size = -1;
	}
	json_decref(man);
	if (set_layers_from_config(img, err) < 0 || check_config_platform(img, p, err) < 0)
		return -1;
	return 0;
}

int rfs_image_load(struct rfs_source *s, const struct rfs_platform *plat, const char *ref,
		   struct rfs_image *img, struct sbx_error **err)
{
	memset(img, 0, sizeof(*img));
	int r;
	if (s->format == RFS_FMT_DOCKER_ARCHIVE)
		r = load_docker(s, plat, ref, img, err);
	else
		r = load_oci(s, plat, ref, img, err);
	if (r < 0)
		return sbx_error_wrap(err, "%s %s", rfs_format_name(s->format), s->path);
	return 0;
}

void rfs_image_free(struct rfs_image *img)
{
	for (size_t i = 0; i < img->n_layers; i++) {
		free(img->layers[i].name);
		free(img->layers[i].digest);
		free(img->layers[i].diff_id);
	}
	free(img->layers);
	free(img->manifest_digest);
	free(img->config_digest);
	if (img->config)
		json_decref(img->config);
	memset(img, 0, sizeof(*img));
}
