#include "rootfs-builder/build_copy.h"
#include "lib/alloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs-builder/blob.h"
#include "lib/safefs.h"
#include "lib/cleanup.h"

static int is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* A tar of the sources, written as the layer that COPY adds. */
struct packer {
	struct archive *w;
	const struct rfs_copy *c;
};

static int write_entry(struct packer *p, struct archive_entry *e, const char *disk_path, const char *name,
		       struct sbx_error **err)
{
	archive_entry_set_pathname(e, name);
	archive_entry_set_uid(e, p->c->uid);
	archive_entry_set_gid(e, p->c->gid);
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	archive_entry_set_hardlink(e, NULL);
	if (p->c->chmod >= 0 && archive_entry_filetype(e) != AE_IFLNK)
		archive_entry_set_perm(e, (mode_t)p->c->chmod);
	if (archive_write_header(p->w, e) != ARCHIVE_OK)
		return sbx_error_set(err, 0, "packing %s: %s", disk_path, archive_error_string(p->w));
	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) == 0)
		return 0;
	cleanup_close int fd = open(disk_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "%s", disk_path);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(p->w, buf, (size_t)n) != n)
			return sbx_error_set(err, 0, "packing %s: %s", disk_path, archive_error_string(p->w));
	if (n < 0)
		return sbx_error_set(err, errno, "reading %s", disk_path);
	return 0;
}

/* Pack disk_path (file, symlink or directory tree) as `name`; a directory's
 * contents go below name, as COPY does. */
static int pack_tree(struct packer *p, const char *disk_path, const char *name, struct sbx_error **err)
{
	struct archive *d = archive_read_disk_new();
	archive_read_disk_set_symlink_physical(d);
	archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(d, disk_path) != ARCHIVE_OK) {
		sbx_error_set(err, 0, "%s: %s", disk_path, archive_error_string(d));
		archive_read_free(d);
		return -1;
	}
	size_t plen = strlen(disk_path);
	int ret = 0, r;
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		r = archive_read_next_header2(d, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = sbx_error_set(err, 0, "%s: %s", disk_path, archive_error_string(d));
			archive_entry_free(e);
			break;
		}
		archive_read_disk_descend(d);
		const char *src = archive_entry_sourcepath(e);
		char dst[2 * PATH_MAX];
		const char *rel = src + plen;
		snprintf(dst, sizeof(dst), "%s%s", name, rel);
		ret = write_entry(p, e, src, dst, err);
		archive_entry_free(e);
		if (ret < 0)
			break;
	}
	archive_read_free(d);
	return ret;
}

static int is_archive(const char *path)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	struct archive_entry *e;
	int ok = archive_read_open_filename(a, path, 65536) == ARCHIVE_OK &&
		 archive_read_next_header(a, &e) == ARCHIVE_OK;
	archive_read_free(a);
	return ok;
}

static int apply_tar(struct rfs_extract *x, const char *tar, const char *label, struct sbx_error **err)
{
	struct rfs_stream *st = NULL;
	if (rfs_stream_open_path(tar, &st, err) < 0)
		return -1;
	struct rfs_layer_desc d = {.label = label, .size = -1};
	int r = rfs_apply_layer(x, st, &d, err);
	rfs_stream_close(st);
	return r;
}

/* ADD of a local archive: unpack it into dest, confined to dest. */
static int add_archive(struct rfs_extract *x, const char *path, const char *dest, const struct rfs_copy *c,
		       struct sbx_error **err)
{
	uid_t owner = x->can_chown && x->ids == RFS_IDS_SHIFT ? x->id_base : (uid_t)-1;
	if (dest[0] && rfs_mkdir_p(x->rootfd, dest, owner, owner) < 0)
		return sbx_error_set(err, errno, "creating /%s", dest);
	int fd = rfs_openat_beneath(x->rootfd, dest, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return sbx_error_set(err, errno, "/%s", dest);
	struct rfs_extract sub = *x;
	sub.rootfd = fd;
	sub.dirs = NULL;
	sub.n_dirs = sub.cap_dirs = 0;
	int r = apply_tar(&sub, path, path, err);
	if (r == 0) {
		/* Keep the destination's own mode: only the entries' fixups. */
		struct stat st;
		fstat(fd, &st);
		r = rfs_extract_finish(&sub, err);
		fchmod(fd, st.st_mode & 07777);
	}
	x->used = sub.used;
	x->unpacked = sub.unpacked;
	x->stored = sub.stored;
	x->harden = sub.harden;
	x->harden_ready = sub.harden_ready;
	x->entries = sub.entries;
	rfs_extract_free(&sub);
	close(fd);
	return r;
}

int rfs_copy_into(struct rfs_extract *x, const struct rfs_copy *c, struct sbx_error **err)
{
	char dest[PATH_MAX];
	const char *why;
	if (rfs_normalize_path(c->dest + (c->dest[0] == '/'), dest, sizeof(dest), &why) < 0)
		return sbx_error_set(err, 0, "destination %s: %s", c->dest, why);
	size_t dl = strlen(c->dest);
	int dest_dir = c->n_srcs > 1 || (dl && c->dest[dl - 1] == '/') || dest[0] == '\0';
	if (!dest_dir) {
		struct stat st;
		int fd = rfs_openat_beneath(x->rootfd, dest, O_PATH, 0);
		if (fd >= 0) {
			dest_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
			close(fd);
		}
	}

	cleanup_close int srcfd = open(c->src_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (srcfd < 0)
		return sbx_error_set(err, errno, "%s", c->src_root);
	cleanup_free char *tar = sbx_xasprintf("%s/copy-XXXXXX", c->tmpdir);
	int tfd = mkstemp(tar);
	if (tfd < 0)
		return sbx_error_set(err, errno, "creating %s", tar);
	struct packer p = {.w = archive_write_new(), .c = c};
	archive_write_set_format_pax_restricted(p.w);
	int ret = -1;
	if (archive_write_open_fd(p.w, tfd) != ARCHIVE_OK) {
		sbx_error_set(err, 0, "%s: %s", tar, archive_error_string(p.w));
		goto out;
	}
	int packed = 0;
	for (size_t i = 0; i < c->n_srcs; i++) {
		char rel[PATH_MAX];
		const char *s = c->srcs[i];
		while (*s == '/')
			s++;
		if (rfs_normalize_path(s, rel, sizeof(rel), &why) < 0) {
			sbx_error_set(err, 0, "source %s: %s (sources must stay inside %s)", c->srcs[i], why,
				      c->src_root);
			goto out;
		}
		char pattern[PATH_MAX + 64];
		snprintf(pattern, sizeof(pattern), "%s/%s", c->src_root, rel);
		glob_t g = {0};
		int gr = is_glob(rel) ? glob(pattern, GLOB_NOSORT, NULL, &g) : -1;
		size_t n = gr == 0 ? g.gl_pathc : (gr == -1 ? 1 : 0);
		if (n == 0) {
			globfree(&g);
			sbx_error_set(err, 0, "source %s: no such file in %s", c->srcs[i], c->src_root);
			goto out;
		}
		for (size_t k = 0; k < n; k++) {
			const char *path = gr == 0 ? g.gl_pathv[k] : pattern;
			const char *prel = path + strlen(c->src_root) + 1;
			/* The source must resolve inside its root: a symlink in the
			 * context must not copy a host file into the image. */
			int fd = rfs_openat_beneath(srcfd, prel, O_PATH | O_NOFOLLOW, 0);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) < 0) {
				int e = errno;
				if (fd >= 0)
					close(fd);
				globfree(&g);
				sbx_error_set(err, e == EXDEV ? 0 : e, "source %s%s", c->srcs[i],
					      e == EXDEV ? " resolves outside the build context" : "");
				goto out;
			}
			close(fd);
			const char *bn = strrchr(prel, '/');
			bn = bn ? bn + 1 : prel;
			char name[2 * PATH_MAX];
			if (c->add && S_ISREG(st.st_mode) && is_archive(path)) {
				if (add_archive(x, path, dest, c, err) < 0) {
					globfree(&g);
					goto out;
				}
				continue;
			}
			if (S_ISDIR(st.st_mode))
				snprintf(name, sizeof(name), "%s", dest[0] ? dest : ".");
			else if (dest_dir)
				snprintf(name, sizeof(name), "%s%s%s", dest, dest[0] ? "/" : "", bn);
			else
				snprintf(name, sizeof(name), "%s", dest);
			/* A directory source's own entry names the destination: its
			 * mode comes from the source, its owner from --chown. */
			if (pack_tree(&p, path, name, err) < 0) {
				globfree(&g);
				goto out;
			}
			packed++;
		}
		globfree(&g);
	}
	if (archive_write_close(p.w) != ARCHIVE_OK) {
		sbx_error_set(err, 0, "%s: %s", tar, archive_error_string(p.w));
		goto out;
	}
	ret = packed ? apply_tar(x, tar, "COPY", err) : 0;
out:
	archive_write_free(p.w);
	close(tfd);
	unlink(tar);
	return ret;
}
