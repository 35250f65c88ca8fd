/* rootfs-builder pieces that need no privileges: entry-name normalisation,
 * platform strings, sha256, the path set, the image-config file. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs-builder/digest.h"
#include "rootfs-builder/image.h"
#include "lib/image_config.h"
#include "rootfs-builder/import.h"
#include "rootfs-builder/layer.h"
#include "rootfs-builder/pathset.h"

static void norm_ok(const char *in, const char *want)
{
	char out[256];
	const char *why = NULL;
	cr_assert_eq(rfs_normalize_path(in, out, sizeof(out), &why), 0, "%s: %s", in, why);
	cr_assert_str_eq(out, want, "%s", in);
}

static void norm_bad(const char *in, const char *why_want)
{
	char out[256];
	const char *why = NULL;
	cr_assert_lt(rfs_normalize_path(in, out, sizeof(out), &why), 0, "%s accepted", in);
	cr_assert_str_eq(why, why_want);
}

Test(rootfs_path, normalises_harmless_spellings)
{
	norm_ok("etc/passwd", "etc/passwd");
	norm_ok("./etc/passwd", "etc/passwd");
	norm_ok("././etc//./passwd/", "etc/passwd");
	norm_ok("./", "");
	norm_ok(".", "");
	norm_ok("a/.../b", "a/.../b");
	norm_ok("..a/b..", "..a/b..");
}

Test(rootfs_path, rejects_escapes)
{
	norm_bad("/etc/passwd", "absolute path");
	norm_bad("//etc", "absolute path");
	norm_bad("..", "'..' in path");
	norm_bad("../x", "'..' in path");
	norm_bad("a/../../x", "'..' in path");
	norm_bad("a/..", "'..' in path");
	norm_bad("./a/b/../c", "'..' in path");
}

Test(rootfs_path, rejects_too_long)
{
	char in[600], out[256];
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	const char *why;
	cr_assert_lt(rfs_normalize_path(in, out, sizeof(out), &why), 0);
	cr_assert_str_eq(why, "path too long");
}

Test(rootfs_platform, parses)
{
	struct rfs_platform p;
	struct sbx_error *err = NULL;
	cr_assert_eq(rfs_platform_parse("linux/amd64", &p, &err), 0);
	cr_assert_str_eq(p.os, "linux");
	cr_assert_str_eq(p.arch, "amd64");
	cr_assert_str_eq(p.variant, "");
	cr_assert_eq(rfs_platform_parse("linux/arm64/v8", &p, &err), 0);
	cr_assert_str_eq(p.variant, "v8");
	const char *bad[] = {"linux", "/amd64", "linux/", "linux/arm64/", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_lt(rfs_platform_parse(bad[i], &p, &err), 0, "'%s' accepted", bad[i]);
		cr_assert(strstr(err->msg, "OS/ARCH"));
		sbx_error_free(&err);
	}
}

Test(rootfs_digest, known_vectors)
{
	struct rfs_hash h;
	char d[RFS_DIGEST_LEN];
	rfs_hash_init(&h);
	rfs_hash_final(&h, d);
	cr_assert_str_eq(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	rfs_hash_init(&h);
	rfs_hash_update(&h, "a", 1);
	rfs_hash_update(&h, "bc", 2);
	rfs_hash_final(&h, d);
	cr_assert_str_eq(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(h.bytes, 3);
}

Test(rootfs_digest, validates)
{
	cr_assert(
	    rfs_digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	cr_assert_not(
	    rfs_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	cr_assert_not(rfs_digest_valid("sha256:../../../../etc/passwd"));
	cr_assert_not(
	    rfs_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	cr_assert_not(rfs_digest_valid("sha256:ba78"));
	cr_assert_not(rfs_digest_valid(NULL));
}

Test(rootfs_pathset, add_and_find)
{
	struct rfs_pathset s = {0};
	char p[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(p, sizeof(p), "dir/%d", i);
		rfs_pathset_add(&s, p);
	}
	rfs_pathset_add(&s, "dir/7");
	cr_assert_eq(s.n, 5000);
	cr_assert(rfs_pathset_has(&s, "dir/4999"));
	cr_assert_not(rfs_pathset_has(&s, "dir/5000"));
	cr_assert_not(rfs_pathset_has(&s, "dir"));
	rfs_pathset_clear(&s);
	cr_assert_not(rfs_pathset_has(&s, "dir/1"));
}

Test(rootfs_image_config, path_beside_rootfs)
{
	char *p = sbx_image_config_path("build/rootfs/");
	cr_assert_str_eq(p, "build/rootfs.image-config.json");
	free(p);
	p = sbx_image_config_path("/srv/img");
	cr_assert_str_eq(p, "/srv/img.image-config.json");
	free(p);
}

static char dir[64];
static void mkroot(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sbx-rootfs-unit.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}
static void rmroot(void)
{
	rfs_remove_path(dir);
}

static void put(const char *rel, const char *content)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(content, f);
	fclose(f);
}

Test(rootfs_image_config, from_oci_resolve_write_load, .init = mkroot, .fini = rmroot)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/etc", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nstrategy:x:1000:1001::/home/strategy:/bin/sh\n");
	put("etc/group", "root:x:0:\nstrategy:x:1001:\nstaff:x:50:\n");
	json_error_t je;
	json_t *doc = json_loads("{\"config\":{\"Env\":[\"PATH=/usr/bin\",\"A=b c\"],\"Cmd\":[\"python3\"],"
				 "\"WorkingDir\":\"/work\",\"User\":\"strategy\",\"Labels\":{\"k\":\"v\"}}}",
				 0, &je);
	cr_assert_not_null(doc);
	struct sbx_image_config c;
	sbx_image_config_init(&c);
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_image_config_from_oci(&c, doc, &err), 0);
	json_decref(doc);
	int rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(sbx_image_config_resolve_user(&c, rootfd, &err), 0, "%s", err ? err->msg : "");
	cr_assert_eq(c.uid, 1000);
	cr_assert_eq(c.gid, 1001);
	free(c.user);
	c.user = strdup("strategy:staff");
	cr_assert_eq(sbx_image_config_resolve_user(&c, rootfd, &err), 0);
	cr_assert_eq(c.gid, 50);
	free(c.user);
	c.user = strdup("ghost");
	cr_assert_lt(sbx_image_config_resolve_user(&c, rootfd, &err), 0);
	cr_assert(strstr(err->msg, "'ghost' is not in the rootfs' /etc/passwd"), "%s", err->msg);
	sbx_error_free(&err);
	free(c.user);
	c.user = strdup("strategy");
	cr_assert_eq(sbx_image_config_resolve_user(&c, rootfd, &err), 0);
	close(rootfd);

	snprintf(p, sizeof(p), "%s/img.image-config.json", dir);
	cr_assert_eq(sbx_image_config_write(&c, p, &err), 0);
	sbx_image_config_free(&c);
	struct sbx_image_config d;
	cr_assert_eq(sbx_image_config_load(&d, p, &err), 0, "%s", err ? err->msg : "");
	cr_assert_str_eq(d.env[1], "A=b c");
	cr_assert_null(d.env[2]);
	cr_assert_null(d.entrypoint);
	cr_assert_str_eq(d.cmd[0], "python3");
	cr_assert_str_eq(d.workdir, "/work");
	cr_assert_str_eq(d.user, "strategy");
	cr_assert_eq(d.uid, 1000);
	cr_assert_eq(d.gid, 1001);
	cr_assert_str_eq(json_string_value(json_object_get(d.labels, "k")), "v");
	sbx_image_config_free(&d);
}

Test(rootfs_image_config, passwd_symlink_out_is_not_followed, .init = mkroot, .fini = rmroot)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/etc", dir);
	cr_assert_eq(symlink("/etc", p), 0);
	struct sbx_image_config c;
	sbx_image_config_init(&c);
	c.user = strdup("root");
	int rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_image_config_resolve_user(&c, rootfd, &err), 0, "read the host's /etc/passwd");
	sbx_error_free(&err);
	close(rootfd);
	sbx_image_config_free(&c);
}

Test(rootfs_image_config, load_rejects_other_files, .init = mkroot, .fini = rmroot)
{
	put("x.json", "{\"env\":[]}");
	char p[256];
	snprintf(p, sizeof(p), "%s/x.json", dir);
	struct sbx_image_config c;
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_image_config_load(&c, p, &err), 0);
	cr_assert(strstr(err->msg, "not an sbx image config"), "%s", err->msg);
	sbx_error_free(&err);
}
