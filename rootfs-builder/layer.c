#include "rootfs-builder/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "rootfs-builder/pathset.h"
#include "lib/safefs.h"
#include "lib/alloc.h"
#include "lib/cleanup.h"
#include "lib/idmap_defaults.h"

#define BUF_SIZE (256 * 1024)
#define TAR_HEADER 512

struct rfs_dir_fixup {
	char *path;
	mode_t mode;
	struct timespec mtime;
	uint64_t seq;
};

volatile int rfs_interrupted;

void rfs_extract_init(struct rfs_extract *x, int rootfd)
{
	memset(x, 0, sizeof(*x));
	x->rootfd = rootfd;
	x->ids = RFS_IDS_SHIFT;
	x->id_base = SBX_DEFAULT_IDMAP_BASE;
	x->id_size = SBX_DEFAULT_IDMAP_SIZE;
	x->max_size = 4ull << 30;
	x->can_chown = geteuid() == 0;
}

void rfs_extract_free(struct rfs_extract *x)
{
	for (size_t i = 0; i < x->n_dirs; i++)
		free(x->dirs[i].path);
	free(x->dirs);
	x->dirs = NULL;
	x->n_dirs = x->cap_dirs = 0;
}

int rfs_normalize_path(const char *in, char *out, size_t outsz, const char **why)
{
	if (in[0] == '/') {
		*why = "absolute path";
		return -1;
	}
	size_t n = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			*why = "'..' in path";
			return -1;
		}
		if (n + len + 2 > outsz) {
			*why = "path too long";
			return -1;
		}
		if (n)
			out[n++] = '/';
		memcpy(out + n, s, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

/* One layer being read: the blob stream, hashed as stored (digest) and
 * after decompression (diff_id), through two chained libarchive readers. */
struct pipe {
	struct rfs_extract *x;
	const struct rfs_layer_desc *d;
	struct rfs_stream *st;
	struct rfs_hash stored, plain;
	struct archive *raw; /* decompresses: filters + "raw" format */
	char *buf;
	struct sbx_error *err;
};

/* The blob's bytes as stored are bounded too: a blob inside a compressed
 * outer archive is itself decompressed output, and what follows a layer's
 * compressed stream is read to the end for its digest.  Never more than
 * the manifest's size (a larger blob fails its check anyway), never more
 * than --max-size over all layers. */
static int count_stored(struct pipe *p, size_t n)
{
	const struct rfs_layer_desc *d = p->d;
	p->x->stored += n;
	if (d->size >= 0 && p->stored.bytes + n > (unsigned long long)d->size)
		return sbx_error_set(&p->err, 0, "blob is larger than the %lld bytes the manifest says",
				     (long long)d->size);
	if (p->x->stored > p->x->max_size)
		return sbx_error_set(&p->err, EFBIG,
				     "blob data larger than the --max-size limit of %llu bytes",
				     (unsigned long long)p->x->max_size);
	return 0;
}

static la_ssize_t read_stored(struct archive *a, void *data, const void **buf)
{
	struct pipe *p = data;
	ssize_t n = rfs_stream_read(p->st, buf, &p->err);
	if (n < 0 || count_stored(p, (size_t)n) < 0) {
		archive_set_error(a, EIO, "%s", p->err ? p->err->msg : "read error");
		return -1;
	}
	rfs_hash_update(&p->stored, *buf, (size_t)n);
	return n;
}

static la_ssize_t read_plain(struct archive *a, void *data, const void **buf)
{
	struct pipe *p = data;
	la_ssize_t n = archive_read_data(p->raw, p->buf, BUF_SIZE);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", archive_error_string(p->raw));
		return -1;
	}
	/* Every decompressed byte counts, not only the entries' content: a
	 * small tar followed by gigabytes of zeros (after its end-of-archive
	 * blocks, which the drain below reads to hash) costs the same CPU. */
	p->x->unpacked += (uint64_t)n;
	if (p->x->unpacked > p->x->max_size) {
		if (p->err == NULL)
			sbx_error_set(&p->err, EFBIG,
				      "decompressed data larger than the --max-size limit of %llu bytes",
				      (unsigned long long)p->x->max_size);
		archive_set_error(a, EFBIG, "%s", p->err->msg);
		return -1;
	}
	rfs_hash_update(&p->plain, p->buf, (size_t)n);
	*buf = p->buf;
	return n;
}

static void warn(struct rfs_extract *x, const struct rfs_layer_desc *d, const char *path, const char *what)
{
	if (x->warn)
		fprintf(x->warn, "sbx-rootfs: warning: %s: entry '%s': %s\n", d->label, path, what);
}

static int map_id(struct rfs_extract *x, int64_t id, uid_t *out)
{
	if (x->ids == RFS_IDS_KEEP) {
		*out = (uid_t)id;
		return 0;
	}
	/* The runtime maps only container ids 0..size-1; a file owned by any
	 * other id would read as the overflow id inside, so it gets nobody. */
	if (id < 0 || id >= x->id_size) {
		x->ids_clamped++;
		id = 65534 < x->id_size ? 65534 : 0;
	}
	*out = x->id_base + (uid_t)id;
	return 0;
}

static int set_owner(struct rfs_extract *x, int dirfd, const char *name, struct archive_entry *e)
{
	if (x->ids == RFS_IDS_CALLER || !x->can_chown)
		return 0;
	uid_t uid;
	gid_t gid;
	map_id(x, archive_entry_uid(e), &uid);
	map_id(x, archive_entry_gid(e), &gid);
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0)
		return -1;
	return 0;
}

static void set_xattrs(struct rfs_extract *x, const struct rfs_layer_desc *d, const char *path, int fd,
		       struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;
	char keep[65536];
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		size_t klen;
		if (!rfs_harden_xattr(&x->harden, name, value, size, keep, sizeof(keep), &klen))
			continue;
		if (fsetxattr(fd, name, keep, klen, 0) < 0) {
			if (strcmp(name, "security.capability") == 0) { /* rootless: EPERM */
				if (x->harden.caps_rewritten)
					x->harden.caps_rewritten--;
				x->harden.caps_dropped++;
			}
			if (x->xattrs_failed++ == 0)
				warn(x, d, path, "extended attributes cannot be set here; skipping them");
		}
	}
}

static void add_dir_fixup(struct rfs_extract *x, const char *path, struct archive_entry *e)
{
	if (x->n_dirs == x->cap_dirs) {
		x->cap_dirs = x->cap_dirs ? 2 * x->cap_dirs : 256;
		x->dirs = sbx_xreallocarray(x->dirs, x->cap_dirs, sizeof(*x->dirs));
	}
	struct rfs_dir_fixup *f = &x->dirs[x->n_dirs];
	f->path = sbx_xstrdup(path);
	f->mode = archive_entry_mode(e) & 07777;
	f->mtime.tv_sec = archive_entry_mtime(e);
	f->mtime.tv_nsec = archive_entry_mtime_nsec(e);
	f->seq = x->seq++;
	x->n_dirs++;
}

/* Remove what is at parent/base unless it is a directory and keep_dir. */
static int clear_target(int parentfd, const char *base, int keep_dir, int *is_dir)
{
	struct stat st;
	*is_dir = 0;
	if (fstatat(parentfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode) && keep_dir) {
		*is_dir = 1;
		return 0;
	}
	return rfs_remove_at(parentfd, base);
}

struct opaque_ctx {
	const struct rfs_pathset *written;
	const char *dir;
	char buf[PATH_MAX];
};

static int keep_written(const char *name, void *data)
{
	struct opaque_ctx *c = data;
	snprintf(c->buf, sizeof(c->buf), "%s%s%s", c->dir, c->dir[0] ? "/" : "", name);
	return rfs_pathset_has(c->written, c->buf);
}

static int write_data(struct rfs_extract *x, struct archive *a, int fd, struct archive_entry *e,
		      struct sbx_error **err)
{
	const void *buf;
	size_t size;
	la_int64_t off, end = 0;
	int r;
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (off + (la_int64_t)size > end)
			end = off + (la_int64_t)size;
		x->used += size;
		if (x->used > x->max_size)
			return sbx_error_set(err, EFBIG,
					     "image larger than the --max-size limit of %llu bytes",
					     (unsigned long long)x->max_size);
		const char *p = buf;
		while (size > 0) {
			ssize_t w = pwrite(fd, p, size, off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return sbx_error_set(err, errno, "write");
			}
			p += w;
			off += w;
			size -= (size_t)w;
		}
	}
	if (r != ARCHIVE_EOF)
		return sbx_error_set(err, 0, "reading its data: %s", archive_error_string(a));
	/* Sparse files end in a hole that no block covers. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
	    ftruncate(fd, archive_entry_size(e)) < 0)
		return sbx_error_set(err, errno, "ftruncate");
	return 0;
}

static int resolve_error(struct sbx_error **err, const char *what)
{
	int e = errno;
	if (e == EXDEV || e == ELOOP)
		return sbx_error_set(err, 0, "%s resolves outside the rootfs (through a symlink)", what);
	if (e == ENOTDIR)
		return sbx_error_set(err, 0, "%s: a parent is not a directory", what);
	return sbx_error_set(err, e, "%s", what);
}

/* A whiteout (OCI image spec, "Whiteouts"): remove from lower layers. */
static int apply_whiteout(struct rfs_extract *x, const char *path, const char *slash, const char *name,
			  struct rfs_pathset *written, struct sbx_error **err)
{
	const char *base;
	cleanup_close int pfd = rfs_open_parent(x->rootfd, path, 0, -1, -1, &base);
	if (pfd < 0)
		return errno == ENOENT ? 0 : resolve_error(err, "whiteout's directory");
	if (strcmp(name, ".wh..wh..opq") == 0) {
		struct opaque_ctx c = {.written = written};
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
		c.dir = dir;
		if (rfs_clear_dir(pfd, keep_written, &c) < 0)
			return sbx_error_set(err, errno, "emptying opaque directory");
		return 0;
	}
	if (strncmp(name, ".wh..wh.", 8) == 0)
		return 0; /* aufs bookkeeping, nothing to apply */
	/* ".wh.." and ".wh..." would name the directory itself or its
	 * parent, which for a top-level entry is outside the rootfs. */
	if (name[4] == '\0' || strcmp(name + 4, ".") == 0 || strcmp(name + 4, "..") == 0)
		return sbx_error_set(err, 0, "whiteout of '%s'", name + 4);
	/* A whiteout hides lower layers only, never its own layer's entry. */
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, name + 4);
	if (rfs_pathset_has(written, target))
		return 0;
	if (rfs_remove_at(pfd, name + 4) < 0)
		return sbx_error_set(err, errno, "removing whited-out %s", name + 4);
	return 0;
}

/* A hard link to an earlier entry, resolved beneath the rootfs. */
static int apply_hardlink(struct rfs_extract *x, int pfd, const char *base, const char *link,
			  struct sbx_error **err)
{
	char target[PATH_MAX];
	const char *why;
	if (rfs_normalize_path(link, target, sizeof(target), &why) < 0)
		return sbx_error_set(err, 0, "hard link to '%s': %s", link, why);
	const char *tbase;
	cleanup_close int tfd = rfs_open_parent(x->rootfd, target, 0, -1, -1, &tbase);
	if (tfd < 0)
		return resolve_error(err, "hard link target");
	struct stat st;
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sbx_error_set(err, errno, "hard link target '%s'", target);
	if (S_ISDIR(st.st_mode))
		return sbx_error_set(err, 0, "hard link to directory '%s'", target);
	if (linkat(tfd, tbase, pfd, base, 0) < 0)
		return sbx_error_set(err, errno, "hard link to '%s'", target);
	return 0;
}

/* One file, directory, symlink or FIFO at pfd/base (its place cleared). */
static int apply_node(struct rfs_extract *x, const struct rfs_layer_desc *d, struct archive *a,
		      struct archive_entry *e, const char *path, int pfd, const char *base, int is_dir,
		      struct sbx_error **err)
{
	mode_t mode = archive_entry_mode(e) & 07777;
	struct timespec ts[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
				 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR: {
		/* Created writable by us; the image's mode comes at the end. */
		if (!is_dir && mkdirat(pfd, base, 0700) < 0)
			return sbx_error_set(err, errno, "mkdir");
		cleanup_close int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sbx_error_set(err, errno, "open directory");
		if (fchmod(fd, 0700) < 0 || set_owner(x, fd, "", e) < 0)
			return sbx_error_set(err, errno, "chown/chmod");
		set_xattrs(x, d, path, fd, e);
		add_dir_fixup(x, path, e);
		return 0;
	}
	case AE_IFREG: {
		cleanup_close int fd =
		    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return sbx_error_set(err, errno, "create");
		if (write_data(x, a, fd, e, err) < 0)
			return -1;
		/* chown before chmod: chown clears the set-id bits.  Then the
		 * set-id bits go anyway (harden.h). */
		mode = rfs_harden_mode(&x->harden, AE_IFREG, mode);
		if (set_owner(x, fd, "", e) < 0 || fchmod(fd, mode) < 0)
			return sbx_error_set(err, errno, "chown/chmod");
		set_xattrs(x, d, path, fd, e);
		futimens(fd, ts);
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		/* The target is stored as is: it is only ever resolved inside the
		 * sandbox, or here by openat2 beneath the rootfs. */
		if (target == NULL || symlinkat(target, pfd, base) < 0)
			return sbx_error_set(err, target ? errno : EINVAL, "symlink");
		if (set_owner(x, pfd, base, e) < 0)
			return sbx_error_set(err, errno, "chown");
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFIFO:
		/* chmod after chown as for files; the umask applied at mkfifoat. */
		if (mkfifoat(pfd, base, mode) < 0 || set_owner(x, pfd, base, e) < 0 ||
		    fchmodat(pfd, base, mode, 0) < 0)
			return sbx_error_set(err, errno, "mkfifo");
		return 0;
	case AE_IFCHR:
	case AE_IFBLK:
		/* The sandbox brings its own minimal /dev; a device node in the
		 * image could only widen access (a 0666 disk node stays openable
		 * inside a user namespace), so none is ever created. */
		/* Named for the first few; the import ends with the count. */
		if (x->devices_skipped++ < 3)
			warn(x, d, path, "device node skipped");
		return 0;
	default:
		warn(x, d, path, "unsupported file type skipped");
		return 0;
	}
}

static int apply_entry(struct rfs_extract *x, const struct rfs_layer_desc *d, struct archive *a,
		       struct archive_entry *e, const char *path, struct rfs_pathset *written,
		       struct sbx_error **err)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;

	x->used += TAR_HEADER;
	if (x->used > x->max_size)
		return sbx_error_set(err, EFBIG, "image larger than the --max-size limit of %llu bytes",
				     (unsigned long long)x->max_size);
	/* Per-entry bookkeeping (the layer's path set, directory fixups) is
	 * memory: millions of empty entries compress to almost nothing. */
	if (++x->entries > RFS_MAX_ENTRIES)
		return sbx_error_set(err, EFBIG, "more than %u entries in the image", RFS_MAX_ENTRIES);
	if (strncmp(name, ".wh.", 4) == 0)
		return apply_whiteout(x, path, slash, name, written, err);

	rfs_pathset_add(written, path);

	/* Directories the archive implies but does not list belong to the
	 * image's root, like the ones it lists without an owner. */
	uid_t implied = (uid_t)-1;
	if (x->can_chown && x->ids != RFS_IDS_CALLER)
		implied = x->ids == RFS_IDS_SHIFT ? x->id_base : 0;
	const char *base;
	cleanup_close int pfd = rfs_open_parent(x->rootfd, path, 1, implied, implied, &base);
	if (pfd < 0)
		return resolve_error(err, "path");

	const char *link = archive_entry_hardlink(e);
	int is_dir = 0;
	if (clear_target(pfd, base, !link && archive_entry_filetype(e) == AE_IFDIR, &is_dir) < 0)
		return sbx_error_set(err, errno, "replacing what an earlier entry put there");
	if (link)
		return apply_hardlink(x, pfd, base, link, err);
	return apply_node(x, d, a, e, path, pfd, base, is_dir, err);
}

int rfs_apply_layer(struct rfs_extract *x, struct rfs_stream *st, const struct rfs_layer_desc *d,
		    struct sbx_error **err)
{
	struct pipe p = {.x = x, .d = d, .st = st};
	if (!x->harden_ready) {
		rfs_harden_init(&x->harden, x->ids == RFS_IDS_SHIFT && x->can_chown, x->id_base,
				x->ids == RFS_IDS_CALLER);
		x->harden_ready = 1;
	}
	struct archive *tar = NULL;
	struct rfs_pathset written = {0};
	int ret = -1;
	char path[PATH_MAX] = "";
	rfs_hash_init(&p.stored);
	rfs_hash_init(&p.plain);
	p.buf = sbx_xmalloc(BUF_SIZE);
	p.raw = archive_read_new();
	tar = archive_read_new();
	if (p.raw == NULL || tar == NULL) {
		sbx_error_set(err, ENOMEM, "allocating archive readers");
		goto out;
	}
	archive_read_support_filter_gzip(p.raw);
	archive_read_support_filter_zstd(p.raw);
	archive_read_support_filter_xz(p.raw);
	archive_read_support_filter_bzip2(p.raw);
	archive_read_support_format_raw(p.raw);
	archive_read_support_format_tar(tar);

	struct archive_entry *e;
	if (archive_read_open(p.raw, &p, NULL, read_stored, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(p.raw, &e) != ARCHIVE_OK) {
		if (p.err)
			sbx_error_move(err, &p.err);
		else
			sbx_error_set(err, 0, "reading: %s", archive_error_string(p.raw));
		goto out;
	}
	if (archive_read_open(tar, &p, NULL, read_plain, NULL) != ARCHIVE_OK) {
		sbx_error_set(err, 0, "not a tar archive: %s", archive_error_string(tar));
		goto out;
	}
	int r, n = 0;
	while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		n++;
		if (rfs_interrupted) {
			sbx_error_set(err, 0, "interrupted by a signal");
			goto out;
		}
		const char *why;
		const char *raw_name = archive_entry_pathname(e);
		if (raw_name == NULL) {
			sbx_error_set(err, 0, "entry %d: no name", n);
			goto out;
		}
		if (rfs_normalize_path(raw_name, path, sizeof(path), &why) < 0) {
			sbx_error_set(err, 0, "entry '%s': %s", raw_name, why);
			goto out;
		}
		if (path[0] == '\0')
			continue; /* the root itself: its mode stays 0755 */
		if (apply_entry(x, d, tar, e, path, &written, err) < 0) {
			sbx_error_wrap(err, "entry '%s'", raw_name);
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		if (p.err)
			sbx_error_move(err, &p.err);
		else
			sbx_error_set(err, 0, "after entry '%s': %s", path, archive_error_string(tar));
		goto out;
	}
	/* Hash to the very end: tar's end blocks may be followed by padding,
	 * and the compressor's stream by trailing bytes. */
	for (;;) {
		const void *b;
		la_ssize_t k = read_plain(tar, &p, &b);
		if (k < 0) {
			if (p.err)
				sbx_error_move(err, &p.err);
			else
				sbx_error_set(err, 0, "reading to the end: %s", archive_error_string(tar));
			goto out;
		}
		if (k == 0)
			break;
	}
	for (;;) {
		const void *b;
		ssize_t k = rfs_stream_read(st, &b, err);
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		if (count_stored(&p, (size_t)k) < 0) {
			sbx_error_move(err, &p.err);
			goto out;
		}
		rfs_hash_update(&p.stored, b, (size_t)k);
	}
	char got[RFS_DIGEST_LEN];
	if (d->size >= 0 && p.stored.bytes != (unsigned long long)d->size) {
		sbx_error_set(err, 0, "blob is %llu bytes, the manifest says %lld", p.stored.bytes,
			      (long long)d->size);
		goto out;
	}
	rfs_hash_final(&p.stored, got);
	if (d->digest && strcmp(got, d->digest) != 0) {
		sbx_error_set(err, 0, "digest mismatch: the manifest says %s, the blob hashes to %s",
			      d->digest, got);
		goto out;
	}
	rfs_hash_final(&p.plain, got);
	if (d->diff_id && strcmp(got, d->diff_id) != 0) {
		sbx_error_set(
		    err, 0, "diff_id mismatch: the image config says %s, the uncompressed layer hashes to %s",
		    d->diff_id, got);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0 && p.err && err && *err == NULL)
		sbx_error_move(err, &p.err);
	sbx_error_free(&p.err);
	if (ret < 0)
		sbx_error_wrap(err, "%s", d->label);
	if (tar)
		archive_read_free(tar);
	if (p.raw)
		archive_read_free(p.raw);
	free(p.buf);
	rfs_pathset_clear(&written);
	return ret;
}

static int cmp_fixup(const void *a, const void *b)
{
	const struct rfs_dir_fixup *x = a, *y = b;
	int c = strcmp(y->path, x->path); /* descending: children first */
	if (c)
		return c;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0; /* latest layer first */
}

int rfs_extract_finish(struct rfs_extract *x, struct sbx_error **err)
{
	qsort(x->dirs, x->n_dirs, sizeof(*x->dirs), cmp_fixup);
	for (size_t i = 0; i < x->n_dirs; i++) {
		struct rfs_dir_fixup *f = &x->dirs[i];
		if (i > 0 && strcmp(f->path, x->dirs[i - 1].path) == 0)
			continue;
		int fd = rfs_openat_beneath(x->rootfd, f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
		if (fd < 0)
			continue; /* removed or replaced by a later layer */
		struct timespec ts[2] = {f->mtime, f->mtime};
		int r = fchmod(fd, f->mode);
		int e = errno;
		futimens(fd, ts);
		close(fd);
		if (r < 0)
			return sbx_error_set(err, e, "chmod %s", f->path);
	}
	if (fchmod(x->rootfd, 0755) < 0 && errno != EBADF)
		return sbx_error_set(err, errno, "chmod rootfs");
	return 0;
}
