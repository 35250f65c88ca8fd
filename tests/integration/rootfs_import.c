/* sbx-rootfs import against real images and hostile archives.
 *
 * Real images: tests/fixtures/rootfs/make-images.sh builds an OCI layout
 * with umoci (whiteout and opaque-directory layers) and converts it with
 * skopeo; every format must import to the tree `umoci unpack` made.
 * Hostile archives are written here with libarchive's writer; each must be
 * refused with its message, leave no DIR and no temporary sibling, and write
 * nothing into the canary directory beside DIR. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "rootfs-builder/digest.h"
#include "lib/image_config.h"
#include "rootfs-builder/import.h"
#include "runtime/config.h"

#define NOBODY 65534

static char tmp[256];
static char out[300], canary[300];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/sbx-rootfs-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(canary, sizeof(canary), "%s/canary", tmp);
	cr_assert_eq(mkdir(canary, 0755), 0);
}

static void teardown(void)
{
	if (tmp[0])
		rfs_remove_path(tmp);
	tmp[0] = '\0';
}

TestSuite(rootfs_import, .init = setup, .fini = teardown, .timeout = 120);

/* A skipped test does not reach .fini: remove the temporary tree first. */
#define skip_test(...)                                                                                       \
	do {                                                                                                 \
		teardown();                                                                                  \
		cr_skip_test(__VA_ARGS__);                                                                   \
	} while (0)

static const char *build_dir(void)
{
	const char *b = getenv("SBX_BUILD");
	return b && *b ? b : "build";
}

/* The fixture images, built on first use (and by `make rootfs-fixtures`). */
static const char *fixtures(void)
{
	static char dir[600];
	char abs[512];
	if (geteuid() != 0)
		skip_test("the fixture images are made with umoci unpack, which needs root to keep owners");
	snprintf(dir, sizeof(dir), "%s/fixtures/rootfs", build_dir());
	if (realpath(build_dir(), abs) == NULL)
		skip_test("no build directory %s", build_dir());
	snprintf(dir, sizeof(dir), "%s/fixtures/rootfs", abs);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "tests/fixtures/rootfs/make-images.sh '%s' >/dev/null", dir);
	int st = system(cmd);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		skip_test("umoci, skopeo or python3 missing (make deps)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "make-images.sh failed (%d)", st);
	return dir;
}

static int do_import(const char *source, uint64_t max_size, char **msg, char **log)
{
	struct rfs_import_opts o;
	rfs_import_opts_init(&o);
	o.source = source;
	o.out = out;
	if (max_size)
		o.max_size = max_size;
	size_t len;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);
	o.progress = f;
	struct sbx_error *err = NULL;
	int r = rfs_import(&o, &err);
	fclose(f);
	if (log)
		*log = buf;
	else
		free(buf);
	if (msg)
		*msg = err ? strdup(err->msg) : NULL;
	sbx_error_free(&err);
	return r;
}

/* ---- tree comparison --------------------------------------------------- */

static const char *cmp_root_exp, *cmp_root_got;
static int cmp_count;
static uint32_t cmp_shift;

static char *slurp(const char *p, size_t *n)
{
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f, "open %s", p);
	char *b = NULL;
	size_t cap = 0;
	FILE *m = open_memstream(&b, &cap);
	char buf[65536];
	size_t k;
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, k, m);
	fclose(f);
	fclose(m);
	*n = cap;
	return b;
}

static int cmp_one(const char *path, const struct stat *se, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(cmp_root_exp);
	char got[4096];
	snprintf(got, sizeof(got), "%s%s", cmp_root_got, rel);
	struct stat sg;
	cr_assert_eq(lstat(got, &sg), 0, "%s missing from the imported tree", rel);
	cr_assert_eq(se->st_mode & S_IFMT, sg.st_mode & S_IFMT, "%s: type differs", rel);
	/* As umoci made it, but no set-id bit on a file (harden.h). */
	mode_t want = se->st_mode & (S_ISREG(se->st_mode) ? 01777 : 07777);
	if (rel[0] != '\0')
		cr_assert_eq(want, sg.st_mode & 07777, "%s: mode %o, expected %o", rel, sg.st_mode & 07777,
			     want);
	if (geteuid() == 0 && rel[0] != '\0') {
		cr_assert_eq(sg.st_uid, se->st_uid + cmp_shift, "%s: uid %u, expected %u", rel, sg.st_uid,
			     se->st_uid + cmp_shift);
		cr_assert_eq(sg.st_gid, se->st_gid + cmp_shift, "%s: gid", rel);
	}
	if (S_ISLNK(se->st_mode)) {
		char a[4096] = "", b[4096] = "";
		cr_assert_gt(readlink(path, a, sizeof(a) - 1), 0);
		cr_assert_gt(readlink(got, b, sizeof(b) - 1), 0);
		cr_assert_str_eq(a, b, "%s: link target", rel);
	} else if (S_ISREG(se->st_mode)) {
		cr_assert_eq(se->st_size, sg.st_size, "%s: size", rel);
		size_t na, nb;
		char *a = slurp(path, &na), *b = slurp(got, &nb);
		cr_assert(na == nb && memcmp(a, b, na) == 0, "%s: content differs", rel);
		free(a);
		free(b);
	}
	cmp_count++;
	return 0;
}

static int count_one(const char *path, const struct stat *s, int flag, struct FTW *ftw)
{
	cmp_count++;
	return 0;
}

static void compare_trees(const char *expected, const char *got, uint32_t shift)
{
	cmp_root_exp = expected;
	cmp_root_got = got;
	cmp_shift = shift;
	cmp_count = 0;
	cr_assert_eq(nftw(expected, cmp_one, 32, FTW_PHYS), 0);
	int n = cmp_count;
	cmp_count = 0;
	cr_assert_eq(nftw(got, count_one, 32, FTW_PHYS), 0);
	cr_assert_eq(cmp_count, n, "imported tree has %d entries, expected %d", cmp_count, n);
	cr_assert_gt(n, 20);
}

static void check_real_import(const char *name, uint32_t shift)
{
	const char *fx = fixtures();
	char src[700], exp[700];
	snprintf(src, sizeof(src), "%s/%s", fx, name);
	snprintf(exp, sizeof(exp), "%s/expected", fx);
	char *msg = NULL;
	cr_assert_eq(do_import(src, 0, &msg, NULL), 0, "import %s: %s", name, msg);
	compare_trees(exp, out, shift);
	/* The hard link survived as one inode; the whiteout and the opaque
	 * directory removed what the lower layers had. */
	struct stat a, b;
	char p[400];
	snprintf(p, sizeof(p), "%s/etc/hello", out);
	cr_assert_eq(lstat(p, &a), 0);
	snprintf(p, sizeof(p), "%s/etc/hello-hard", out);
	cr_assert_eq(lstat(p, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino, "hard link lost");
	snprintf(p, sizeof(p), "%s/todelete", out);
	cr_assert_eq(access(p, F_OK), -1, "whiteout not applied");
	snprintf(p, sizeof(p), "%s/olddir/a", out);
	cr_assert_eq(access(p, F_OK), -1, "opaque directory not applied");
	snprintf(p, sizeof(p), "%s/olddir/c", out);
	cr_assert_eq(access(p, F_OK), 0);
	free(msg);
}

Test(rootfs_import, oci_layout)
{
	check_real_import("oci", geteuid() == 0 ? SBX_DEFAULT_IDMAP_BASE : 0);
}
Test(rootfs_import, oci_archive)
{
	check_real_import("oci.tar", geteuid() == 0 ? SBX_DEFAULT_IDMAP_BASE : 0);
}
Test(rootfs_import, docker_archive)
{
	check_real_import("docker.tar", geteuid() == 0 ? SBX_DEFAULT_IDMAP_BASE : 0);
}
Test(rootfs_import, flat_tar)
{
	check_real_import("flat.tar", geteuid() == 0 ? SBX_DEFAULT_IDMAP_BASE : 0);
}

Test(rootfs_import, image_config_written)
{
	const char *fx = fixtures();
	char src[700];
	snprintf(src, sizeof(src), "%s/oci.tar", fx);
	char *msg = NULL;
	cr_assert_eq(do_import(src, 0, &msg, NULL), 0, "%s", msg);
	char *path = sbx_image_config_path(out);
	struct sbx_image_config c;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_image_config_load(&c, path, &err), 0, "%s", err ? err->msg : "");
	cr_assert_str_eq(c.env[0], "PYTHONHASHSEED=0");
	cr_assert_str_eq(c.env[1], "LANG=C.UTF-8");
	cr_assert_null(c.env[2]);
	cr_assert_str_eq(c.entrypoint[0], "/bin/tool");
	cr_assert_str_eq(c.cmd[1], "arg2");
	cr_assert_str_eq(c.workdir, "/home/user");
	cr_assert_str_eq(c.user, "1000:1000");
	cr_assert_eq(c.uid, 1000);
	cr_assert_eq(c.gid, 1000);
	cr_assert_str_eq(json_string_value(json_object_get(c.labels, "org.example")), "yes");
	cr_assert_str_eq(c.format, "oci-archive");
	sbx_image_config_free(&c);
	free(path);
	free(msg);
}

Test(rootfs_import, existing_out_refused_then_forced)
{
	const char *fx = fixtures();
	char src[700];
	snprintf(src, sizeof(src), "%s/oci", fx);
	cr_assert_eq(mkdir(out, 0755), 0);
	char *msg = NULL;
	cr_assert_lt(do_import(src, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "exists"), "%s", msg);
	free(msg);
	struct rfs_import_opts o;
	rfs_import_opts_init(&o);
	o.source = src;
	o.out = out;
	o.force = 1;
	struct sbx_error *err = NULL;
	cr_assert_eq(rfs_import(&o, &err), 0, "%s", err ? err->msg : "");
	char p[400];
	snprintf(p, sizeof(p), "%s/olddir/c", out);
	cr_assert_eq(access(p, F_OK), 0);
}

/* ---- hostile archives --------------------------------------------------- */

struct ent {
	const char *name;
	mode_t type;	  /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR; 0 = hard link */
	const char *data; /* file content, or link target */
	size_t size;	  /* for big files: content is repeated 'x' */
};

static void write_tar(const char *path, const struct ent *e, size_t n, int gzip)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *x = archive_entry_new();
		archive_entry_set_pathname(x, e[i].name);
		archive_entry_set_mtime(x, 1700000000, 0);
		if (e[i].type == 0) {
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_set_perm(x, 0644);
			archive_entry_set_hardlink(x, e[i].data);
			archive_entry_set_size(x, 0);
			archive_write_header(a, x);
		} else if (e[i].type == AE_IFLNK) {
			archive_entry_set_filetype(x, AE_IFLNK);
			archive_entry_set_perm(x, 0777);
			archive_entry_set_symlink(x, e[i].data);
			archive_write_header(a, x);
		} else if (e[i].type == AE_IFDIR) {
			archive_entry_set_filetype(x, AE_IFDIR);
			archive_entry_set_perm(x, 0755);
			archive_write_header(a, x);
		} else if (e[i].type == AE_IFCHR) {
			archive_entry_set_filetype(x, AE_IFCHR);
			archive_entry_set_perm(x, 0666);
			archive_entry_set_rdev(x, makedev(8, 0));
			archive_write_header(a, x);
		} else {
			size_t sz = e[i].size ? e[i].size : strlen(e[i].data);
			archive_entry_set_filetype(x, AE_IFREG);
			archive_entry_set_perm(x, 0644);
			archive_entry_set_size(x, (la_int64_t)sz);
			archive_write_header(a, x);
			if (e[i].size) {
				char *b = malloc(sz);
				memset(b, 'x', sz);
				archive_write_data(a, b, sz);
				free(b);
			} else {
				archive_write_data(a, e[i].data, sz);
			}
		}
		archive_entry_free(x);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static void file_digest(const char *path, char out_[RFS_DIGEST_LEN], long *size)
{
	size_t n;
	char *b = slurp(path, &n);
	struct rfs_hash h;
	rfs_hash_init(&h);
	rfs_hash_update(&h, b, n);
	rfs_hash_final(&h, out_);
	*size = (long)n;
	free(b);
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(s, f);
	fclose(f);
}

/* An OCI layout whose layers are the given tar files (gzip or not: the
 * diff_id is computed on the uncompressed tar, so pass uncompressed ones
 * unless gz[i], in which case plain[i] is the uncompressed twin). */
static void make_oci(const char *dir, const char **layers, const char **plain, size_t n)
{
	char p[1000], blobs[700];
	snprintf(blobs, sizeof(blobs), "%s/blobs/sha256", dir);
	char cmd[2200];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", blobs);
	cr_assert_eq(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/oci-layout", dir);
	write_file(p, "{\"imageLayoutVersion\":\"1.0.0\"}");
	char *ls = NULL, *ids = NULL;
	size_t lsn, idsn;
	FILE *fl = open_memstream(&ls, &lsn), *fi = open_memstream(&ids, &idsn);
	for (size_t i = 0; i < n; i++) {
		char d[RFS_DIGEST_LEN], pd[RFS_DIGEST_LEN];
		long sz, psz;
		file_digest(layers[i], d, &sz);
		file_digest(plain[i] ? plain[i] : layers[i], pd, &psz);
		snprintf(p, sizeof(p), "%s/%s", blobs, rfs_digest_hex(d));
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", layers[i], p);
		cr_assert_eq(system(cmd), 0);
		fprintf(fl,
			"%s{\"mediaType\":\"application/"
			"vnd.oci.image.layer.v1.tar%s\",\"digest\":\"%s\",\"size\":%ld}",
			i ? "," : "", plain[i] ? "+gzip" : "", d, sz);
		fprintf(fi, "%s\"%s\"", i ? "," : "", pd);
	}
	fclose(fl);
	fclose(fi);
	char *cfg = NULL;
	cr_assert_gt(asprintf(&cfg,
			      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
			      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
			      ids),
		     0);
	struct rfs_hash h;
	char cd[RFS_DIGEST_LEN], md[RFS_DIGEST_LEN];
	rfs_hash_init(&h);
	rfs_hash_update(&h, cfg, strlen(cfg));
	rfs_hash_final(&h, cd);
	snprintf(p, sizeof(p), "%s/%s", blobs, rfs_digest_hex(cd));
	write_file(p, cfg);
	char *man = NULL;
	cr_assert_gt(
	    asprintf(
		&man,
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
		"\"size\":%zu},\"layers\":[%s]}",
		cd, strlen(cfg), ls),
	    0);
	rfs_hash_init(&h);
	rfs_hash_update(&h, man, strlen(man));
	rfs_hash_final(&h, md);
	snprintf(p, sizeof(p), "%s/%s", blobs, rfs_digest_hex(md));
	write_file(p, man);
	char *idx = NULL;
	cr_assert_gt(
	    asprintf(&idx,
		     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		     "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
		     md, strlen(man)),
	    0);
	snprintf(p, sizeof(p), "%s/index.json", dir);
	write_file(p, idx);
	free(ls);
	free(ids);
	free(cfg);
	free(man);
	free(idx);
}

/* Nothing may be left: no DIR, no temporary sibling, nothing in the canary. */
static void assert_nothing_left(void)
{
	cr_assert_eq(access(out, F_OK), -1, "%s was left behind", out);
	DIR *d = opendir(tmp);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		cr_assert(strncmp(de->d_name, "out.", 4) != 0, "temporary %s left behind", de->d_name);
	closedir(d);
	d = opendir(canary);
	int n = 0;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	cr_assert_eq(n, 0, "something was written into the canary directory");
}

static void refuse_flat(const struct ent *e, size_t n, const char *expect)
{
	char tar[400];
	snprintf(tar, sizeof(tar), "%s/evil.tar", tmp);
	write_tar(tar, e, n, 0);
	char *msg = NULL;
	cr_assert_lt(do_import(tar, 0, &msg, NULL), 0, "hostile archive was accepted");
	cr_assert_not_null(strstr(msg, expect), "message '%s' lacks '%s'", msg, expect);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_import, refuses_dotdot)
{
	struct ent e[] = {{"ok", AE_IFREG, "fine\n", 0}, {"../canary/escaped", AE_IFREG, "pwned\n", 0}};
	refuse_flat(e, 2, "entry '../canary/escaped': '..' in path");
}

Test(rootfs_import, refuses_dotdot_in_the_middle)
{
	struct ent e[] = {{"a/../../canary/escaped", AE_IFREG, "pwned\n", 0}};
	refuse_flat(e, 1, "'..' in path");
}

Test(rootfs_import, refuses_absolute_path)
{
	char name[400];
	snprintf(name, sizeof(name), "%s/abs", canary);
	struct ent e[] = {{name, AE_IFREG, "pwned\n", 0}};
	refuse_flat(e, 1, "absolute path");
}

Test(rootfs_import, refuses_write_through_symlink_to_root)
{
	char through[500];
	snprintf(through, sizeof(through), "evil%s/pwned", canary);
	struct ent e[] = {{"evil", AE_IFLNK, "/", 0}, {through, AE_IFREG, "pwned\n", 0}};
	refuse_flat(e, 2, "resolves outside the rootfs");
}

Test(rootfs_import, refuses_write_through_relative_escaping_symlink)
{
	struct ent e[] = {{"up", AE_IFLNK, "../canary", 0}, {"up/pwned", AE_IFREG, "pwned\n", 0}};
	refuse_flat(e, 2, "resolves outside the rootfs");
}

/* The symlink comes in one layer, the write through it in the next. */
Test(rootfs_import, refuses_symlink_planted_by_earlier_layer)
{
	char l1[400], l2[400], dir[400], through[500];
	snprintf(l1, sizeof(l1), "%s/l1.tar", tmp);
	snprintf(l2, sizeof(l2), "%s/l2.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	snprintf(through, sizeof(through), "evil%s/pwned", canary);
	struct ent e1[] = {{"etc", AE_IFDIR, NULL, 0}, {"evil", AE_IFLNK, "/", 0}};
	struct ent e2[] = {{through, AE_IFREG, "pwned\n", 0}};
	write_tar(l1, e1, 2, 0);
	write_tar(l2, e2, 1, 0);
	const char *layers[] = {l1, l2}, *plain[] = {NULL, NULL};
	make_oci(dir, layers, plain, 2);
	char *msg = NULL;
	cr_assert_lt(do_import(dir, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "layer 2/2") && strstr(msg, "resolves outside the rootfs"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

/* ".wh..." whites out "..": at the top level, the directory holding DIR. */
Test(rootfs_import, refuses_whiteout_of_dotdot)
{
	char keep[400];
	snprintf(keep, sizeof(keep), "%s/keep", canary);
	write_file(keep, "must survive\n");
	char tar[400];
	snprintf(tar, sizeof(tar), "%s/wh.tar", tmp);
	struct ent e[] = {{"a", AE_IFREG, "a\n", 0}, {".wh...", AE_IFREG, "", 0}};
	write_tar(tar, e, 2, 0);
	char *msg = NULL;
	cr_assert_lt(do_import(tar, 0, &msg, NULL), 0, "accepted");
	cr_assert(strstr(msg, "entry '.wh...': whiteout of '..'"), "%s", msg);
	free(msg);
	cr_assert_eq(access(keep, F_OK), 0, "the canary beside DIR was deleted");
	cr_assert_eq(access(tar, F_OK), 0, "the archive beside DIR was deleted");
	unlink(keep);
	assert_nothing_left();
	struct ent f[] = {
	    {"d", AE_IFDIR, NULL, 0}, {"d/x", AE_IFREG, "x\n", 0}, {"d/.wh..", AE_IFREG, "", 0}};
	write_tar(tar, f, 3, 0);
	cr_assert_lt(do_import(tar, 0, &msg, NULL), 0, "accepted");
	cr_assert(strstr(msg, "whiteout of '.'"), "%s", msg);
	free(msg);
}

Test(rootfs_import, refuses_hardlink_to_host_file)
{
	struct ent e[] = {{"passwd", 0, "/etc/passwd", 0}};
	refuse_flat(e, 1, "hard link to '/etc/passwd': absolute path");
}

Test(rootfs_import, refuses_hardlink_out_via_dotdot)
{
	struct ent e[] = {{"passwd", 0, "../../../../../../etc/passwd", 0}};
	refuse_flat(e, 1, "'..' in path");
}

Test(rootfs_import, refuses_hardlink_through_symlink)
{
	struct ent e[] = {{"hostetc", AE_IFLNK, "/etc", 0}, {"passwd", 0, "hostetc/passwd", 0}};
	refuse_flat(e, 2, "hard link target resolves outside the rootfs");
}

Test(rootfs_import, skips_device_nodes_with_a_warning)
{
	char tar[400];
	snprintf(tar, sizeof(tar), "%s/dev.tar", tmp);
	struct ent e[] = {
	    {"dev", AE_IFDIR, NULL, 0}, {"dev/sda", AE_IFCHR, NULL, 0}, {"ok", AE_IFREG, "1\n", 0}};
	write_tar(tar, e, 3, 0);
	char *msg = NULL, *log = NULL;
	cr_assert_eq(do_import(tar, 0, &msg, &log), 0, "%s", msg);
	cr_assert(strstr(log, "entry 'dev/sda': device node skipped"), "%s", log);
	char p[400];
	snprintf(p, sizeof(p), "%s/dev/sda", out);
	cr_assert_eq(access(p, F_OK), -1, "device node created");
	snprintf(p, sizeof(p), "%s/ok", out);
	cr_assert_eq(access(p, F_OK), 0);
	free(log);
}

Test(rootfs_import, refuses_corrupted_blob)
{
	char l1[400], dir[400], blob[800];
	snprintf(l1, sizeof(l1), "%s/l1.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	struct ent e[] = {{"file", AE_IFREG, "original content\n", 0}};
	write_tar(l1, e, 1, 0);
	const char *layers[] = {l1}, *plain[] = {NULL};
	make_oci(dir, layers, plain, 1);
	char d[RFS_DIGEST_LEN];
	long sz;
	file_digest(l1, d, &sz);
	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", dir, rfs_digest_hex(d));
	/* Flip one byte of the content: the tar still parses, the hash not. */
	size_t n;
	char *b = slurp(blob, &n);
	char *hit = memmem(b, n, "original", 8);
	cr_assert_not_null(hit);
	*hit = 'O';
	FILE *f = fopen(blob, "wb");
	fwrite(b, 1, n, f);
	fclose(f);
	free(b);
	char *msg = NULL;
	cr_assert_lt(do_import(dir, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "layer 1/1") && strstr(msg, "digest mismatch"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_import, refuses_corrupted_manifest)
{
	char l1[400], dir[400];
	snprintf(l1, sizeof(l1), "%s/l1.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	struct ent e[] = {{"file", AE_IFREG, "x\n", 0}};
	write_tar(l1, e, 1, 0);
	const char *layers[] = {l1}, *plain[] = {NULL};
	make_oci(dir, layers, plain, 1);
	/* Rewrite index.json to point at the config blob as if it were the
	 * manifest, with the digest of something else. */
	char p[500];
	snprintf(p, sizeof(p), "%s/index.json", dir);
	size_t n;
	char *idx = slurp(p, &n);
	char *dg = strstr(idx, "sha256:");
	cr_assert_not_null(dg);
	dg[7] = dg[7] == 'a' ? 'b' : 'a';
	write_file(p, idx);
	free(idx);
	char *msg = NULL;
	cr_assert_lt(do_import(dir, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "No such file") || strstr(msg, "digest mismatch"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_import, refuses_truncated_flat_archive)
{
	char tar[400];
	snprintf(tar, sizeof(tar), "%s/t.tar", tmp);
	struct ent e[] = {{"a", AE_IFREG, "aaa\n", 0}, {"big", AE_IFREG, NULL, 200000}};
	write_tar(tar, e, 2, 0);
	cr_assert_eq(truncate(tar, 100000), 0);
	char *msg = NULL;
	cr_assert_lt(do_import(tar, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "entry 'big'") && strstr(msg, "runcated"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_import, refuses_truncated_gzip_layer)
{
	char gz[400], plain[400], dir[400];
	snprintf(gz, sizeof(gz), "%s/l.tar.gz", tmp);
	snprintf(plain, sizeof(plain), "%s/l.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	struct ent e[] = {{"a", AE_IFREG, "aaa\n", 0}, {"big", AE_IFREG, NULL, 300000}};
	write_tar(gz, e, 2, 1);
	write_tar(plain, e, 2, 0);
	const char *layers[] = {gz}, *plains[] = {plain};
	make_oci(dir, layers, plains, 1);
	/* Truncate the blob in place; the manifest still names the whole. */
	char d[RFS_DIGEST_LEN], blob[800];
	long sz;
	file_digest(gz, d, &sz);
	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", dir, rfs_digest_hex(d));
	cr_assert_eq(truncate(blob, sz / 2), 0);
	char *msg = NULL;
	cr_assert_lt(do_import(dir, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "layer 1/1"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_import, refuses_content_over_max_size)
{
	char tar[400];
	snprintf(tar, sizeof(tar), "%s/big.tar", tmp);
	struct ent e[] = {{"big", AE_IFREG, NULL, 3 << 20}};
	write_tar(tar, e, 1, 0);
	char *msg = NULL;
	cr_assert_lt(do_import(tar, 1 << 20, &msg, NULL), 0);
	cr_assert(strstr(msg, "entry 'big'") && strstr(msg, "--max-size"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_import, gzip_layers_verified_and_applied)
{
	char gz[400], plain[400], dir[400];
	snprintf(gz, sizeof(gz), "%s/l.tar.gz", tmp);
	snprintf(plain, sizeof(plain), "%s/l.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	struct ent e[] = {{"d", AE_IFDIR, NULL, 0}, {"d/f", AE_IFREG, "gz\n", 0}, {"d/l", AE_IFLNK, "f", 0}};
	write_tar(gz, e, 3, 1);
	write_tar(plain, e, 3, 0);
	const char *layers[] = {gz}, *plains[] = {plain};
	make_oci(dir, layers, plains, 1);
	char *msg = NULL;
	cr_assert_eq(do_import(dir, 0, &msg, NULL), 0, "%s", msg);
	char p[400];
	snprintf(p, sizeof(p), "%s/d/l", out);
	size_t n;
	char *c = slurp(p, &n);
	cr_assert(n == 3 && memcmp(c, "gz\n", 3) == 0);
	free(c);
}

Test(rootfs_import, refuses_wrong_diff_id)
{
	char gz[400], plain[400], other[400], dir[400];
	snprintf(gz, sizeof(gz), "%s/l.tar.gz", tmp);
	snprintf(plain, sizeof(plain), "%s/l.tar", tmp);
	snprintf(other, sizeof(other), "%s/o.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	struct ent e[] = {{"f", AE_IFREG, "one\n", 0}};
	struct ent o[] = {{"f", AE_IFREG, "two\n", 0}};
	write_tar(gz, e, 1, 1);
	write_tar(other, o, 1, 0);
	const char *layers[] = {gz}, *plains[] = {other};
	make_oci(dir, layers, plains, 1);
	char *msg = NULL;
	cr_assert_lt(do_import(dir, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "diff_id mismatch"), "%s", msg);
	free(msg);
	assert_nothing_left();
}

/* ---- sbx-rootfs build -f Dockerfile.sandbox ------------------------------ */

/* The production image, built for real (mmdebstrap from Debian's mirror,
 * RUN apt-get in sbx run --writable-rootfs), then used by sbx run: pandas
 * imports as the image's unprivileged user, taken from the image config. */
Test(rootfs_build_run, dockerfile_sandbox_runs_pandas_as_image_user, .init = setup, .fini = teardown,
     .timeout = 1200)
{
	if (geteuid() != 0)
		skip_test("FROM debian:* (mmdebstrap) and the shifted ownership need root");
	if (system("command -v mmdebstrap >/dev/null") != 0)
		skip_test("mmdebstrap not installed (make deps)");
	char abs[512], dir[700], cmd[3000];
	cr_assert_not_null(realpath(build_dir(), abs), "no build directory");
	snprintf(dir, sizeof(dir), "%s/fixtures/sandbox-rootfs", abs);
	/* Built once per build tree (`rm -rf` it to rebuild); a lock keeps
	 * concurrent test runs from building it twice at once. */
	char lockp[800];
	snprintf(lockp, sizeof(lockp), "%s.lock", dir);
	int lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(lock, 0);
	cr_assert_eq(flock(lock, LOCK_EX), 0);
	if (access(dir, F_OK) != 0) {
		snprintf(cmd, sizeof(cmd),
			 "%s/sbx-rootfs build --network host -f Dockerfile.sandbox --out '%s' --force "
			 ">'%s.log' 2>&1",
			 abs, dir, dir);
		int st = system(cmd);
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			char logp[800];
			snprintf(logp, sizeof(logp), "%s.log", dir);
			size_t n;
			char *text = slurp(logp, &n);
			const char *tail = n > 1500 ? text + n - 1500 : text;
			cr_assert(0, "sbx-rootfs build -f Dockerfile.sandbox failed (%s), ending with:\n%s",
				  logp, tail);
		}
	}
	char *cfgp = sbx_image_config_path(dir);
	struct sbx_image_config c;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_image_config_load(&c, cfgp, &err), 0, "%s", err ? err->msg : "");
	cr_assert_str_eq(c.user, "strategy");
	cr_assert_eq(c.uid, 1000);
	sbx_image_config_free(&c);
	free(cfgp);
	char outp[400];
	snprintf(outp, sizeof(outp), "%s/pandas.out", tmp);
	snprintf(cmd, sizeof(cmd),
		 "%s/sbx run --rootfs '%s' --allow-no-cgroup -- python3 -c "
		 "'import os, pandas, numpy; print(os.getuid(), os.getgid(), pandas.__version__)' >'%s' 2>&1",
		 abs, dir, outp);
	int st = system(cmd);
	size_t n;
	char *o = slurp(outp, &n);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sbx run failed: %s", o);
	cr_assert(strncmp(o, "1000 1000 ", 10) == 0, "not the image user: %s", o);
	free(o);
	/* Root-owned system files read as root inside: owned by the shifted
	 * range's base on the host. */
	struct stat sb;
	snprintf(cmd, sizeof(cmd), "%s/usr/bin/python3.11", dir);
	cr_assert_eq(stat(cmd, &sb), 0);
	cr_assert_eq(sb.st_uid, SBX_DEFAULT_IDMAP_BASE);
}

/* ---- compression and index selection ------------------------------------ */

static void write_zstd_tar(const char *path, const char *name, const char *data)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	cr_assert_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK, "libarchive without zstd");
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	struct archive_entry *x = archive_entry_new();
	archive_entry_set_pathname(x, name);
	archive_entry_set_mtime(x, 1700000000, 0); /* as write_tar: same uncompressed bytes */
	archive_entry_set_filetype(x, AE_IFREG);
	archive_entry_set_perm(x, 0644);
	archive_entry_set_size(x, (la_int64_t)strlen(data));
	archive_write_header(a, x);
	archive_write_data(a, data, strlen(data));
	archive_entry_free(x);
	archive_write_close(a);
	archive_write_free(a);
}

Test(rootfs_import, zstd_layers)
{
	char zs[400], plain[400], dir[400];
	snprintf(zs, sizeof(zs), "%s/l.tar.zst", tmp);
	snprintf(plain, sizeof(plain), "%s/l.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	write_zstd_tar(zs, "z", "zstd\n");
	struct ent e[] = {{"z", AE_IFREG, "zstd\n", 0}};
	write_tar(plain, e, 1, 0);
	const char *layers[] = {zs}, *plains[] = {plain};
	make_oci(dir, layers, plains, 1);
	char *msg = NULL;
	cr_assert_eq(do_import(dir, 0, &msg, NULL), 0, "%s", msg);
	char p[400];
	snprintf(p, sizeof(p), "%s/z", out);
	size_t n;
	char *c = slurp(p, &n);
	cr_assert(n == 5 && memcmp(c, "zstd\n", 5) == 0);
	free(c);
}

/* index.json with the one manifest listed for two platforms (and, in the
 * last case, twice without any). */
static void rewrite_index(const char *dir, const char *entries_fmt)
{
	char p[500];
	snprintf(p, sizeof(p), "%s/index.json", dir);
	size_t n;
	char *idx = slurp(p, &n);
	char *d = strstr(idx, "sha256:");
	char dig[RFS_DIGEST_LEN];
	memcpy(dig, d, RFS_DIGEST_LEN - 1);
	dig[RFS_DIGEST_LEN - 1] = '\0';
	char *sz = strstr(idx, "\"size\":");
	long size = strtol(sz + 7, NULL, 10);
	free(idx);
	char *body = NULL;
	cr_assert_gt(asprintf(&body, entries_fmt, dig, size, dig, size), 0);
	char *doc = NULL;
	cr_assert_gt(asprintf(&doc, "{\"schemaVersion\":2,\"manifests\":[%s]}", body), 0);
	write_file(p, doc);
	free(body);
	free(doc);
}

static void make_simple_layout(char *dir, size_t dsz)
{
	char l1[400];
	snprintf(l1, sizeof(l1), "%s/l1.tar", tmp);
	snprintf(dir, dsz, "%s/layout", tmp);
	struct ent e[] = {{"f", AE_IFREG, "x\n", 0}};
	write_tar(l1, e, 1, 0);
	const char *layers[] = {l1}, *plain[] = {NULL};
	make_oci(dir, layers, plain, 1);
}

#define M "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%ld"

Test(rootfs_import, platform_picked_from_index)
{
	char dir[400];
	make_simple_layout(dir, sizeof(dir));
	rewrite_index(dir, "{" M ",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
			   "{" M ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}");
	char *msg = NULL;
	cr_assert_eq(do_import(dir, 0, &msg, NULL), 0, "%s", msg);

	/* Asking for arm64 finds the arm64 entry, whose config says amd64. */
	rfs_remove_path(out);
	char p[450];
	snprintf(p, sizeof(p), "%s.image-config.json", out);
	unlink(p);
	struct rfs_import_opts o;
	rfs_import_opts_init(&o);
	o.source = dir;
	o.out = out;
	o.platform = "linux/arm64";
	struct sbx_error *err = NULL;
	cr_assert_lt(rfs_import(&o, &err), 0);
	cr_assert(strstr(err->msg, "the image is for linux/amd64, not linux/arm64"), "%s", err->msg);
	sbx_error_free(&err);
	o.platform = "linux/s390x";
	cr_assert_lt(rfs_import(&o, &err), 0);
	cr_assert(strstr(err->msg, "no image for linux/s390x"), "%s", err->msg);
	sbx_error_free(&err);
	assert_nothing_left();
}

Test(rootfs_import, ambiguous_index_needs_ref)
{
	char dir[400];
	make_simple_layout(dir, sizeof(dir));
	rewrite_index(dir, "{" M ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"one\"}},"
			   "{" M ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"two\"}}");
	char *msg = NULL;
	cr_assert_lt(do_import(dir, 0, &msg, NULL), 0);
	cr_assert(strstr(msg, "choose one with --ref NAME"), "%s", msg);
	free(msg);
	struct rfs_import_opts o;
	rfs_import_opts_init(&o);
	o.source = dir;
	o.out = out;
	o.ref = "two";
	struct sbx_error *err = NULL;
	cr_assert_eq(rfs_import(&o, &err), 0, "%s", err ? err->msg : "");
}

Test(rootfs_import, xattrs_kept)
{
	char tar[400];
	snprintf(tar, sizeof(tar), "%s/x.tar", tmp);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	cr_assert_eq(archive_write_open_filename(a, tar), ARCHIVE_OK);
	struct archive_entry *x = archive_entry_new();
	archive_entry_set_pathname(x, "f");
	archive_entry_set_filetype(x, AE_IFREG);
	archive_entry_set_perm(x, 0644);
	archive_entry_set_size(x, 2);
	archive_entry_xattr_add_entry(x, "user.sbx", "v1", 2);
	archive_write_header(a, x);
	archive_write_data(a, "f\n", 2);
	archive_entry_free(x);
	archive_write_close(a);
	archive_write_free(a);
	char p[400];
	snprintf(p, sizeof(p), "%s/probe", tmp);
	write_file(p, "");
	if (setxattr(p, "user.sbx", "v", 1, 0) < 0)
		skip_test("no user xattrs on %s", tmp);
	char *msg = NULL;
	cr_assert_eq(do_import(tar, 0, &msg, NULL), 0, "%s", msg);
	snprintf(p, sizeof(p), "%s/f", out);
	char v[8] = "";
	cr_assert_eq(getxattr(p, "user.sbx", v, sizeof(v)), 2);
	cr_assert_str_eq(v, "v1");
}

/* ---- decompression bombs (issue 12, item 7) ------------------------------ */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	cr_assert_gt(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed (%d): %s", st, cmd);
	free(cmd);
}

static void need_tool(const char *tool)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", tool);
	if (system(cmd) != 0)
		skip_test("%s not installed (tools/install-deps)", tool);
}

/* A real zstd stream: a one-file tar, then 256 MiB of zeros after its
 * end-of-archive blocks (piped, never on disk; 8 KiB compressed). */
static void make_flat_bomb(const char *dir, char *zst, size_t n)
{
	need_tool("zstd");
	snprintf(zst, n, "%s/bomb.tar.zst", dir);
	sh("mkdir -p '%s/src' && echo hi >'%s/src/f' && "
	   "(tar -C '%s/src' -cf - f && head -c 256M /dev/zero) | zstd -q -1 -o '%s'",
	   dir, dir, dir, zst);
}

Test(rootfs_import, max_size_counts_bytes_after_the_tar)
{
	char zst[400];
	make_flat_bomb(tmp, zst, sizeof(zst));
	char *msg = NULL;
	cr_assert_lt(do_import(zst, 1 << 20, &msg, NULL), 0, "a 256 MiB decompression bomb was accepted");
	cr_assert(strstr(msg, "flat archive") && strstr(msg, "decompressed data larger than the --max-size "
							     "limit of 1048576 bytes"),
		  "%s", msg);
	cr_assert(strstr(msg, zst), "the message does not name the file: %s", msg);
	free(msg);
	assert_nothing_left();
}

/* The same, through the command as an unprivileged user (rootless import). */
Test(rootfs_import, max_size_counts_bytes_after_the_tar_rootless)
{
	if (geteuid() != 0)
		skip_test("needs root to become uid 65534");
	char zst[400], o[400], cmd[2000];
	make_flat_bomb(tmp, zst, sizeof(zst));
	cr_assert_eq(chmod(tmp, 0777), 0);
	snprintf(o, sizeof(o), "%s/rl", tmp);
	char abs[512];
	cr_assert_not_null(realpath(build_dir(), abs));
	snprintf(cmd, sizeof(cmd),
		 "setpriv --reuid=65534 --regid=65534 --clear-groups %s/sbx-rootfs import --max-size 1M "
		 "--out '%s' '%s' >'%s.log' 2>&1",
		 abs, o, zst, o);
	int st = system(cmd);
	char logp[450];
	snprintf(logp, sizeof(logp), "%s.log", o);
	size_t n;
	char *log = slurp(logp, &n);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit %d: %s", st, log);
	cr_assert(strstr(log, "--max-size limit of 1048576 bytes"), "%s", log);
	cr_assert_eq(access(o, F_OK), -1);
	free(log);
}

/* Skipping a member of a compressed outer archive (format detection, the
 * search for a blob) decompresses it: a 256 MiB member of zeros beside
 * manifest.json must stop at the limit as well. */
Test(rootfs_import, max_size_counts_skipped_members_of_a_compressed_archive)
{
	need_tool("zstd");
	char zst[400];
	snprintf(zst, sizeof(zst), "%s/outer.tar.zst", tmp);
	sh("/usr/bin/python3 -c '"
	   "import sys, tarfile, io\n"
	   "class Z(io.RawIOBase):\n"
	   "    def readable(self): return True\n"
	   "    def readinto(self, b):\n"
	   "        b[:] = bytes(len(b)); return len(b)\n"
	   "t = tarfile.open(fileobj=sys.stdout.buffer, mode=\"w|\")\n"
	   "i = tarfile.TarInfo(\"junk\"); i.size = 256 << 20\n"
	   "t.addfile(i, io.BufferedReader(Z()))\n"
	   "m = b\"[]\"; i = tarfile.TarInfo(\"manifest.json\"); i.size = len(m)\n"
	   "t.addfile(i, io.BytesIO(m)); t.close()\n"
	   "' | zstd -q -1 -o '%s'",
	   zst);
	char *msg = NULL;
	cr_assert_lt(do_import(zst, 1 << 20, &msg, NULL), 0);
	cr_assert(strstr(msg, "decompressed data larger than the --max-size limit of 1048576 bytes"), "%s",
		  msg);
	free(msg);
	assert_nothing_left();
}

/* ---- what an image may leave on the host (issue 12, item 1) -------------- */

/* Output of `path status` (sbx-probe: /proc/self/status) run as uid:gid,
 * on the host (userns_root == 0) or in a new user namespace whose root is
 * host uid userns_root (container ids 0-65535 -> userns_root+...), as sbx
 * run maps them. */
static char *run_probe_status(const char *path, uid_t uid, uid_t userns_root)
{
	int out_pipe[2], go[2], ready[2];
	cr_assert_eq(pipe(out_pipe), 0);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(out_pipe[0]);
		close(go[1]);
		close(ready[0]);
		if (userns_root && unshare(CLONE_NEWUSER) < 0)
			_exit(90);
		if (write(ready[1], "u", 1) != 1) /* the maps are written for the new namespace */
			_exit(90);
		char c;
		if (read(go[0], &c, 1) != 1) /* the parent wrote our id maps */
			_exit(91);
		dup2(out_pipe[1], 1);
		/* In the namespace setgroups is denied (unprivileged maps). */
		if ((!userns_root && setgroups(0, NULL) < 0) || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(92);
		execl(path, path, "status", (char *)NULL);
		_exit(93);
	}
	close(out_pipe[1]);
	close(go[0]);
	close(ready[1]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	if (userns_root) {
		char p[64], m[64];
		snprintf(m, sizeof(m), "0 %u 65536\n", (unsigned)userns_root);
		snprintf(p, sizeof(p), "/proc/%d/uid_map", pid);
		write_file(p, m);
		snprintf(p, sizeof(p), "/proc/%d/setgroups", pid);
		write_file(p, "deny\n");
		snprintf(p, sizeof(p), "/proc/%d/gid_map", pid);
		write_file(p, m);
	}
	cr_assert_eq(write(go[1], "x", 1), 1);
	close(go[1]);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char b[4096];
	ssize_t k;
	while ((k = read(out_pipe[0], b, sizeof(b))) > 0)
		fwrite(b, 1, (size_t)k, m);
	fclose(m);
	close(out_pipe[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "probe as %u (userns root %u): status %d", uid,
		  userns_root, st);
	return buf;
}

static unsigned long long cap_prm(const char *status)
{
	const char *p = strstr(status, "CapPrm:");
	cr_assert_not_null(p, "%s", status);
	return strtoull(p + 7, NULL, 16);
}

/* Made as the issue describes: the static probe with `setcap cap_setuid+ep`
 * and two busybox copies with modes 4755 and 2755, packed by GNU tar with
 * every xattr; plus trusted.* and security.* attributes an image could
 * carry (an overlayfs opaque marker, an IMA hash). */
static void make_privileged_tar(char *tar, size_t n)
{
	need_tool("setcap");
	need_tool("busybox");
	char abs[512], src[400], p[500];
	cr_assert_not_null(realpath(build_dir(), abs));
	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(tar, n, "%s/priv.tar", tmp);
	sh("mkdir -p '%s/bin' && cp '%s/sbx-probe' '%s/bin/probe' && setcap cap_setuid+ep '%s/bin/probe' && "
	   "cp \"$(command -v busybox)\" '%s/bin/suid' && chmod 4755 '%s/bin/suid' && "
	   "cp \"$(command -v busybox)\" '%s/bin/sgid' && chmod 2755 '%s/bin/sgid' && echo x >'%s/marked'",
	   src, abs, src, src, src, src, src, src, src);
	snprintf(p, sizeof(p), "%s/marked", src);
	cr_assert_eq(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0, "trusted xattr: %s",
		     strerror(errno));
	cr_assert_eq(setxattr(p, "security.ima", "\x03\x02", 2, 0), 0, "security xattr: %s", strerror(errno));
	cr_assert_eq(setxattr(p, "user.kept", "1", 1, 0), 0);
	sh("tar --xattrs --xattrs-include='*' -C '%s' -cf '%s' .", src, tar);
	/* The archive does carry them (else the test would prove nothing). */
	sh("tar --xattrs --xattrs-include='*' -tvvf '%s' 2>/dev/null | grep -q 'security.capability' || "
	   "tar --xattrs -tvvf '%s' >/dev/null",
	   tar, tar);
}

static mode_t mode_of(const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", out, rel);
	cr_assert_eq(lstat(p, &st), 0, "%s", p);
	return st.st_mode & 07777;
}

static ssize_t xattr_of(const char *rel, const char *name, void *v, size_t n)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", out, rel);
	return lgetxattr(p, name, v, n);
}

Test(rootfs_import, image_privilege_does_not_reach_the_host)
{
	if (geteuid() != 0)
		skip_test("needs root (setcap, shifted ids)");
	char tar[400];
	make_privileged_tar(tar, sizeof(tar));
	char *msg = NULL, *log = NULL;
	cr_assert_eq(do_import(tar, 0, &msg, &log), 0, "%s", msg);
	/* Set-id bits: gone. */
	cr_assert_eq(mode_of("bin/suid"), 0755, "mode %o", mode_of("bin/suid"));
	cr_assert_eq(mode_of("bin/sgid"), 0755, "mode %o", mode_of("bin/sgid"));
	/* The capability: a v3 one whose root is the sandbox's root. */
	unsigned char v[64];
	ssize_t n = xattr_of("bin/probe", "security.capability", v, sizeof(v));
	cr_assert_eq(n, 24, "security.capability: %zd bytes (%s)", n, n < 0 ? strerror(errno) : "");
	cr_assert_eq(v[3], 3, "not a VFS_CAP_REVISION_3 capability");
	uint32_t rootid =
	    (uint32_t)v[20] | (uint32_t)v[21] << 8 | (uint32_t)v[22] << 16 | (uint32_t)v[23] << 24;
	cr_assert_eq(rootid, SBX_DEFAULT_IDMAP_BASE);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "getcap -n '%s/bin/probe' | grep -q 'cap_setuid=ep \\[rootid=%u\\]'", out,
		 SBX_DEFAULT_IDMAP_BASE);
	cr_assert_eq(system(cmd), 0, "getcap does not show the namespaced capability");
	/* security.* and trusted.* attributes: gone; user.*: kept. */
	cr_assert_lt(xattr_of("marked", "trusted.overlay.opaque", v, sizeof(v)), 0);
	cr_assert_lt(xattr_of("marked", "security.ima", v, sizeof(v)), 0);
	cr_assert_eq(xattr_of("marked", "user.kept", v, sizeof(v)), 1);
	cr_assert(strstr(log, "2 set-uid/set-gid bit(s) cleared") && strstr(log, "2 security/trusted/system"),
		  "%s", log);
	/* Run on the host by an unprivileged user: no capability.  The same
	 * file in a user namespace whose root is the shifted base (as sbx run
	 * maps it), run by container uid 1000: CAP_SETUID, so the capability
	 * is kept for the sandbox and nowhere else. */
	cr_assert_eq(chmod(tmp, 0755), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/bin/probe", out);
	char *host = run_probe_status(p, NOBODY, 0);
	cr_assert_eq(cap_prm(host), 0, "a host user gained capabilities: %s", host);
	char *ns = run_probe_status(p, 1000, SBX_DEFAULT_IDMAP_BASE);
	cr_assert_eq(cap_prm(ns), 1ull << 7, "in the sandbox's namespace: %s", ns);
	free(host);
	free(ns);
	free(log);
}

/* --ids keep and --ids caller as root: the image's root is host root, so
 * no capability can be bound to a namespace; none is kept. */
static void import_with_ids(enum rfs_ids ids)
{
	if (geteuid() != 0)
		skip_test("needs root (setcap, chown to image ids)");
	char tar[400];
	make_privileged_tar(tar, sizeof(tar));
	struct rfs_import_opts o;
	rfs_import_opts_init(&o);
	o.source = tar;
	o.out = out;
	o.ids = ids;
	struct sbx_error *err = NULL;
	cr_assert_eq(rfs_import(&o, &err), 0, "%s", err ? err->msg : "");
	struct stat st;
	char p[600];
	snprintf(p, sizeof(p), "%s/bin/suid", out);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert_eq(st.st_uid, 0, "the file is not host root's, the test proves nothing");
	cr_assert_eq(st.st_mode & 07777, 0755, "a set-uid-root file on the host: %o", st.st_mode & 07777);
	cr_assert_eq(mode_of("bin/sgid"), 0755);
	unsigned char v[64];
	cr_assert_lt(xattr_of("bin/probe", "security.capability", v, sizeof(v)), 0,
		     "a host-effective capability was kept");
	cr_assert_lt(xattr_of("marked", "trusted.overlay.opaque", v, sizeof(v)), 0);
}

Test(rootfs_import, ids_keep_keeps_no_privilege)
{
	import_with_ids(RFS_IDS_KEEP);
}

Test(rootfs_import, ids_caller_as_root_keeps_no_privilege)
{
	import_with_ids(RFS_IDS_CALLER);
}

/* Rootless: everything is the caller's; a set-id bit would hand the
 * caller's uid to whoever runs the file. */
Test(rootfs_import, rootless_import_keeps_no_setid)
{
	if (geteuid() != 0)
		skip_test("needs root to make the archive and become uid 65534");
	char tar[400], o[400], abs[512];
	make_privileged_tar(tar, sizeof(tar));
	cr_assert_eq(chmod(tmp, 0777), 0);
	cr_assert_eq(chmod(tar, 0644), 0);
	snprintf(o, sizeof(o), "%s/rl", tmp);
	cr_assert_not_null(realpath(build_dir(), abs));
	sh("setpriv --reuid=65534 --regid=65534 --clear-groups %s/sbx-rootfs import --out '%s' '%s' "
	   ">'%s.log' 2>&1",
	   abs, o, tar, o);
	struct stat st;
	char p[600];
	snprintf(p, sizeof(p), "%s/bin/suid", o);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert_eq(st.st_uid, NOBODY);
	cr_assert_eq(st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
	snprintf(p, sizeof(p), "%s/bin/sgid", o);
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
	snprintf(p, sizeof(p), "%s/bin/probe", o);
	unsigned char v[64];
	cr_assert_lt(lgetxattr(p, "security.capability", v, sizeof(v)), 0);
}

/* A layer blob whose compressed stream is followed by 256 MiB of zeros,
 * inside a zstd-compressed oci-archive (so the zeros cost only CPU, not
 * disk): the blob is read to its end for the digest, and must stop at the
 * size the manifest gives instead of decompressing it all. */
Test(rootfs_import, blob_read_stops_at_the_manifest_size)
{
	need_tool("zstd");
	char gz[400], plain[400], dir[400], zst[400];
	snprintf(gz, sizeof(gz), "%s/l.tar.gz", tmp);
	snprintf(plain, sizeof(plain), "%s/l.tar", tmp);
	snprintf(dir, sizeof(dir), "%s/layout", tmp);
	snprintf(zst, sizeof(zst), "%s/padded.oci.tar.zst", tmp);
	struct ent e[] = {{"f", AE_IFREG, "layer\n", 0}};
	write_tar(gz, e, 1, 1);
	write_tar(plain, e, 1, 0);
	const char *layers[] = {gz}, *plains[] = {plain};
	make_oci(dir, layers, plains, 1);
	char d[RFS_DIGEST_LEN];
	long sz;
	file_digest(gz, d, &sz);
	sh("cd '%s' && /usr/bin/python3 -c '"
	   "import io, os, sys, tarfile\n"
	   "class Pad(io.RawIOBase):\n"
	   "    def __init__(self, f): self.f = open(f, \"rb\")\n"
	   "    def readable(self): return True\n"
	   "    def readinto(self, b):\n"
	   "        n = self.f.readinto(b)\n"
	   "        if n: return n\n"
	   "        b[:] = bytes(len(b)); return len(b)\n"
	   "t = tarfile.open(fileobj=sys.stdout.buffer, mode=\"w|\")\n"
	   "for root, dirs, files in os.walk(\".\"):\n"
	   "    for n in sorted(files):\n"
	   "        p = os.path.join(root, n); i = t.gettarinfo(p, p[2:])\n"
	   "        if n == \"%s\":\n"
	   "            i.size += 256 << 20; t.addfile(i, io.BufferedReader(Pad(p)))\n"
	   "        else:\n"
	   "            t.addfile(i, open(p, \"rb\"))\n"
	   "t.close()\n"
	   "' | zstd -q -1 -o '%s'",
	   dir, rfs_digest_hex(d), zst);
	char *msg = NULL;
	cr_assert_lt(do_import(zst, 0, &msg, NULL), 0);
	char want[100];
	snprintf(want, sizeof(want), "blob is larger than the %ld bytes the manifest says", sz);
	cr_assert(strstr(msg, "layer 1/1") && strstr(msg, want), "%s", msg);
	free(msg);
	assert_nothing_left();
}
