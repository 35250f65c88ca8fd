/* The image-config file beside a rootfs (rootfs-builder/image_config.c),
 * which `sbx run` reads, and the image's user resolved against the
 * rootfs' /etc/passwd and /etc/group, which a hostile image writes.
 * Input: the JSON document, passwd and group, separated by FUZZ_SEP.  The
 * document is tried both as an sbx image-config file and as an OCI image
 * config ({"config": {...}}). */
#include <assert.h>
#include <jansson.h>
#include <sys/stat.h>

#include "lib/image_config.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/tmpdir.h"

/* The passwd and group text of the current input, for the oracle. */
static const char *cur_passwd, *cur_group;
static size_t cur_passwd_len, cur_group_len;

static int digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int64_t number(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return INT64_MAX;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* A reference reading of passwd(5)/group(5): one entry per line, fields
 * split at every ':' (an empty field is a field: "user::1000:1000::/:/bin/sh"
 * has an empty password), field 3 the id, field 4 passwd's primary group.
 * Returns 1 when found, 0 when not, -1 when the text is outside what the
 * oracle judges (NUL bytes, lines of 1000 bytes or more, a matching line
 * with fewer than 4 fields). */
static int ref_lookup(const char *text, size_t len, const char *name, int64_t *id, int64_t *gid)
{
	if (memchr(text, '\0', len))
		return -1;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p >= 1000)
			return -1;
		const char *f[5] = { 0 };
		size_t fl[5] = { 0 };
		int nf = 0;
		for (const char *q = p; nf < 5;) {
			const char *c = memchr(q, ':', (size_t)(le - q));
			f[nf] = q;
			fl[nf++] = (size_t)((c ? c : le) - q);
			if (!c)
				break;
			q = c + 1;
		}
		int named = fl[0] == strlen(name) && memcmp(f[0], name, fl[0]) == 0;
		/* Fewer than 4 fields is malformed (group(5) ends with the member
		 * list, possibly empty): refusing it is as good as any reading. */
		if (named && nf < 4)
			return -1;
		if (named && digits(f[2], fl[2])) {
			*id = number(f[2], fl[2]);
			if (gid)
				*gid = nf >= 4 && digits(f[3], fl[3]) ? number(f[3], fl[3]) : -1;
			return 1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* What sbx_image_config_resolve_user should give for `user`; -1 when the
 * oracle cannot judge, 0 with ids, 1 for "error". */
static int expected(const char *user, int64_t *uid, int64_t *gid)
{
	if (user == NULL) {
		*uid = *gid = 0;
		return 0;
	}
	char *u = strdup(user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	int64_t pgid = -1;
	int r = 0;
	if (u[0] == '\0' || (g && g[0] == '\0')) {
		r = -1; /* an empty name: nothing sensible to expect */
		goto out;
	}
	if (digits(u, strlen(u)))
		*uid = number(u, strlen(u));
	else if ((r = ref_lookup(cur_passwd, cur_passwd_len, u, uid, &pgid)) <= 0)
		goto out;
	if (g == NULL)
		*gid = pgid >= 0 ? pgid : 0;
	else if (digits(g, strlen(g)))
		*gid = number(g, strlen(g));
	else if ((r = ref_lookup(cur_group, cur_group_len, g, gid, NULL)) <= 0)
		goto out;
	r = *uid > 0xffffffffll || *gid > 0xffffffffll ? 0 : 2;
out:
	free(u);
	return r < 0 ? -1 : r == 2 ? 0 : 1;
}

static void resolve(struct sbx_image_config *c, int rootfd)
{
	int64_t want_uid = -1, want_gid = -1;
	int want = expected(c->user, &want_uid, &want_gid);
	struct sbx_error *err = NULL;
	int r = sbx_image_config_resolve_user(c, rootfd, &err);
	if (r == 0)
		assert(c->uid >= 0 && c->uid <= 0xffffffffll && c->gid >= 0 && c->gid <= 0xffffffffll);
	else
		assert(err != NULL && err->msg != NULL);
	/* The image's user must run with the ids its passwd and group give. */
	if (want == 0) {
		if (r != 0 || c->uid != want_uid || c->gid != want_gid) {
			fprintf(stderr, "user '%s': resolved r=%d %lld:%lld, passwd/group say %lld:%lld\n", c->user, r,
				(long long)c->uid, (long long)c->gid, (long long)want_uid, (long long)want_gid);
			abort();
		}
	} else if (want == 1 && r == 0) {
		fprintf(stderr, "user '%s': resolved to %lld:%lld, but passwd/group do not have it\n", c->user,
			(long long)c->uid, (long long)c->gid);
		abort();
	}
	sbx_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int rootfd = -1;
	if (rootfd < 0) {
		int t = fuzz_tmp_make();
		int w = openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w < 0 || mkdirat(w, "etc", 0755) < 0)
			abort();
		rootfd = w;
		close(t);
	}
	const uint8_t *part[3];
	size_t plen[3];
	size_t np = fuzz_split(data, size, part, plen, 3);
	cur_passwd = np > 1 ? (const char *)part[1] : "";
	cur_passwd_len = np > 1 ? plen[1] : 0;
	cur_group = np > 2 ? (const char *)part[2] : "";
	cur_group_len = np > 2 ? plen[2] : 0;
	fuzz_write_at(rootfd, "etc/passwd", cur_passwd, cur_passwd_len);
	fuzz_write_at(rootfd, "etc/group", cur_group, cur_group_len);

	char path[64];
	int fd = fuzz_memfd(part[0], plen[0], path);
	struct sbx_error *err = NULL;
	struct sbx_image_config c;
	if (sbx_image_config_load(&c, path, &err) == 0) {
		resolve(&c, rootfd);
		sbx_image_config_free(&c);
	} else {
		assert(err != NULL && err->msg != NULL);
	}
	sbx_error_free(&err);
	close(fd);

	json_t *j = json_loadb((const char *)part[0], plen[0], 0, NULL);
	if (j) {
		sbx_image_config_init(&c);
		if (sbx_image_config_from_oci(&c, j, &err) == 0)
			resolve(&c, rootfd);
		sbx_error_free(&err);
		sbx_image_config_free(&c);
		json_decref(j);
	}
	return 0;
}
