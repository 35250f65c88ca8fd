#include "rootfs-builder/blob.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs-builder/digest.h"
#include "lib/safefs.h"
#include "lib/alloc.h"
#include "lib/cleanup.h"

#define STREAM_BUF (256 * 1024)

const char *rfs_format_name(enum rfs_format f)
{
	switch (f) {
	case RFS_FMT_OCI_DIR:
		return "OCI layout";
	case RFS_FMT_OCI_ARCHIVE:
		return "oci-archive";
	case RFS_FMT_DOCKER_ARCHIVE:
		return "docker-archive";
	case RFS_FMT_FLAT_TAR:
		return "flat filesystem tar";
	}
	return "?";
}

/* Entry names in archives may start with "./" or repeat slashes. */
static const char *skip_dot_slash(const char *n)
{
	while (n[0] == '.' && n[1] == '/')
		for (n += 2; *n == '/'; n++)
			;
	return n;
}

static struct archive *outer_open(const char *path, struct sbx_error **err)
{
	struct archive *a = archive_read_new();
	if (a == NULL)
		return sbx_error_set(err, ENOMEM, "archive_read_new"), NULL;
	/* Not filter_all: some of its filters run external programs on the
	 * (untrusted) input. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, STREAM_BUF) != ARCHIVE_OK) {
		sbx_error_set(err, 0, "%s: not a tar archive (%s)", path, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Move past the current member of a compressed outer archive reading its
 * data in blocks, so that no more than max decompressed bytes (filter 0 is
 * the decompressed end of the filter chain) are ever produced: letting
 * archive_read_next_header skip it would decompress all of it at once.
 * An uncompressed archive is left to seek. */
static int skip_member(struct archive *a, uint64_t max, const char *path, struct sbx_error **err)
{
	if (max == 0 || archive_filter_count(a) < 2)
		return 0;
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	do {
		if ((uint64_t)archive_filter_bytes(a, 0) > max)
			return sbx_error_set(
			    err, EFBIG,
			    "%s: decompressed data larger than the --max-size limit of %llu bytes", path,
			    (unsigned long long)max);
		r = archive_read_data_block(a, &buf, &size, &off);
	} while (r == ARCHIVE_OK || r == ARCHIVE_WARN);
	return 0; /* a damaged member is reported by the next header read */
}

int rfs_source_open(struct rfs_source *s, const char *path, struct sbx_error **err)
{
	return rfs_source_open_limited(s, path, 0, err);
}

int rfs_source_open_limited(struct rfs_source *s, const char *path, uint64_t max, struct sbx_error **err)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	s->max_unpacked = max;
	struct stat st;
	if (stat(path, &st) < 0)
		return sbx_error_set(err, errno, "%s", path);
	s->path = sbx_xstrdup(path);
	if (S_ISDIR(st.st_mode)) {
		s->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			return sbx_error_set(err, errno, "%s", path);
		if (faccessat(s->dirfd, "index.json", R_OK, 0) < 0)
			return sbx_error_set(
			    err, 0, "%s: a directory but not an OCI image layout (no index.json)", path);
		s->format = RFS_FMT_OCI_DIR;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return sbx_error_set(err, 0, "%s: not a directory or a regular file", path);

	/* Which tar is it?  oci-archive: oci-layout + index.json at the top;
	 * docker-archive: manifest.json (newer `docker save` writes both, and
	 * the OCI index is the better described one); otherwise a filesystem. */
	struct archive *a = outer_open(path, err);
	if (a == NULL)
		return -1;
	int has_layout = 0, has_index = 0, has_manifest = 0, n = 0, r;
	struct archive_entry *e;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = skip_dot_slash(archive_entry_pathname(e));
		has_layout |= strcmp(name, "oci-layout") == 0;
		has_index |= strcmp(name, "index.json") == 0;
		has_manifest |= strcmp(name, "manifest.json") == 0;
		n++;
		if (skip_member(a, max, path, err) < 0) {
			archive_read_free(a);
			return -1;
		}
	}
	/* The end-of-archive blocks may be followed by anything; nothing after
	 * them is read here (the layer reader drains and counts its own). */
	/* A damaged tar that starts like a filesystem is reported by the
	 * extraction, which names the entry; one that never parsed is not a tar. */
	if (r != ARCHIVE_EOF && n == 0) {
		sbx_error_set(err, 0, "%s: not a readable tar archive: %s", path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	archive_read_free(a);
	if (has_layout && has_index)
		s->format = RFS_FMT_OCI_ARCHIVE;
	else if (has_manifest)
		s->format = RFS_FMT_DOCKER_ARCHIVE;
	else
		s->format = RFS_FMT_FLAT_TAR;
	return 0;
}

void rfs_source_close(struct rfs_source *s)
{
	free(s->path);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->path = NULL;
	s->dirfd = -1;
}

struct rfs_stream {
	int fd;		   /* file stream, or -1 */
	struct archive *a; /* tar member stream, or NULL */
	int64_t next_off;  /* tar member: offset expected next */
	char *buf;
};

static int stream_new(struct rfs_stream **out, struct sbx_error **err)
{
	struct rfs_stream *st = sbx_xcalloc(1, sizeof(*st));
	st->buf = sbx_xmalloc(STREAM_BUF);
	st->fd = -1;
	*out = st;
	return 0;
}

int rfs_stream_open_path(const char *path, struct rfs_stream **out, struct sbx_error **err)
{
	if (stream_new(out, err) < 0)
		return -1;
	(*out)->fd = open(path, O_RDONLY | O_CLOEXEC);
	if ((*out)->fd < 0) {
		int e = errno;
		rfs_stream_close(*out);
		*out = NULL;
		return sbx_error_set(err, e, "%s", path);
	}
	return 0;
}

int rfs_stream_open(struct rfs_source *s, const char *name, struct rfs_stream **out, struct sbx_error **err)
{
	name = skip_dot_slash(name);
	if (s->format == RFS_FMT_OCI_DIR) {
		if (stream_new(out, err) < 0)
			return -1;
		(*out)->fd = rfs_openat_beneath(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
		if ((*out)->fd < 0) {
			int e = errno;
			rfs_stream_close(*out);
			*out = NULL;
			return sbx_error_set(err, e, "%s/%s", s->path, name);
		}
		return 0;
	}
	struct archive *a = outer_open(s->path, err);
	if (a == NULL)
		return -1;
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (strcmp(skip_dot_slash(archive_entry_pathname(e)), name) != 0) {
			if (skip_member(a, s->max_unpacked, s->path, err) < 0) {
				archive_read_free(a);
				return -1;
			}
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			archive_read_free(a);
			return sbx_error_set(err, 0, "%s: %s is not a regular file", s->path, name);
		}
		if (stream_new(out, err) < 0) {
			archive_read_free(a);
			return -1;
		}
		(*out)->a = a;
		return 0;
	}
	if (r != ARCHIVE_EOF)
		sbx_error_set(err, 0, "%s: looking for %s: %s", s->path, name, archive_error_string(a));
	else
		sbx_error_set(err, ENOENT, "%s: %s", s->path, name);
	archive_read_free(a);
	return -1;
}

ssize_t rfs_stream_read(struct rfs_stream *st, const void **buf, struct sbx_error **err)
{
	if (st->a == NULL) {
		ssize_t n;
		do
			n = read(st->fd, st->buf, STREAM_BUF);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return sbx_error_set(err, errno, "read");
		*buf = st->buf;
		return n;
	}
	size_t size;
	la_int64_t off;
	int r = archive_read_data_block(st->a, buf, &size, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return sbx_error_set(err, 0, "reading archive member: %s", archive_error_string(st->a));
	/* A blob stored sparse in the outer tar would need its holes filled;
	 * no image tool writes them, so refuse rather than mis-hash. */
	if (off != st->next_off)
		return sbx_error_set(err, 0, "archive member is sparse");
	st->next_off += size;
	return (ssize_t)size;
}

void rfs_stream_close(struct rfs_stream *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	if (st->a)
		archive_read_free(st->a);
	free(st->buf);
	free(st);
}

int rfs_source_read(struct rfs_source *s, const char *name, const char *digest, size_t max, char **buf,
		    size_t *len, struct sbx_error **err)
{
	struct rfs_stream *st = NULL;
	if (rfs_stream_open(s, name, &st, err) < 0)
		return -1;
	struct rfs_hash h;
	rfs_hash_init(&h);
	size_t cap = 4096, n = 0;
	char *out = sbx_xmalloc(cap + 1);
	for (;;) {
		const void *p;
		ssize_t r = rfs_stream_read(st, &p, err);
		if (r < 0)
			goto fail_wrap;
		if (r == 0)
			break;
		if (n + (size_t)r > max) {
			sbx_error_set(err, 0, "larger than %zu bytes", max);
			goto fail_wrap;
		}
		while (n + (size_t)r > cap)
			cap *= 2;
		out = sbx_xreallocarray(out, cap + 1, 1);
		memcpy(out + n, p, (size_t)r);
		rfs_hash_update(&h, p, (size_t)r);
		n += (size_t)r;
	}
	rfs_stream_close(st);
	if (digest) {
		char got[RFS_DIGEST_LEN];
		rfs_hash_final(&h, got);
		if (strcmp(got, digest) != 0) {
			free(out);
			return sbx_error_set(err, 0, "%s: digest mismatch: expected %s, content hashes to %s",
					     name, digest, got);
		}
	}
	out[n] = '\0';
	*buf = out;
	*len = n;
	return 0;
fail_wrap:
	rfs_stream_close(st);
	free(out);
	return sbx_error_wrap(err, "reading %s", name);
}
