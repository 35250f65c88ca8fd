#include "rootfs-builder/harden.h"

#include <errno.h>
#include <ftw.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CAP_XATTR "security.capability"

void rfs_harden_init(struct rfs_harden *h, int shift, uid_t id_base, int caller_ids)
{
	memset(h, 0, sizeof(*h));
	if (geteuid() != 0)
		h->cap_rootid = geteuid(); /* rootless: the sandbox's root is the caller */
	else if (shift && !caller_ids)
		h->cap_rootid = id_base; /* container root, as sbx run maps it */
	else
		h->cap_rootid = (uid_t)-1; /* the image's root is host root: no capability */
}

mode_t rfs_harden_mode(struct rfs_harden *h, mode_t type, mode_t mode)
{
	/* Whatever the owner: a set-id file owned by host root or a host
	 * user is theirs to exploit, and one owned by the shifted range gives
	 * any host user the uid that owns every image's files and the root
	 * processes of every sandbox.  Inside sbx it would do nothing
	 * (no_new_privs), so nothing is lost there. */
	if (S_ISREG(type) && (mode & (S_ISUID | S_ISGID))) {
		h->setid_cleared++;
		mode &= ~(mode_t)(S_ISUID | S_ISGID);
	}
	return mode;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* A capability rewritten as VFS_CAP_REVISION_3 bound to cap_rootid: the
 * kernel grants it only to a process whose user namespace (or an ancestor
 * of it) has cap_rootid as its root, i.e. inside the sandbox, never to a
 * host process, whose namespace's root is uid 0. */
static int harden_cap(struct rfs_harden *h, const unsigned char *v, size_t len, unsigned char *out,
		      size_t outsz, size_t *outlen)
{
	if (h->cap_rootid == (uid_t)-1 || h->cap_rootid == 0 || outsz < XATTR_CAPS_SZ_3 || len < 4)
		goto drop;
	uint32_t magic = le32(v), rev = magic & VFS_CAP_REVISION_MASK;
	uint32_t perm[2] = {0, 0}, inh[2] = {0, 0};
	if (rev == VFS_CAP_REVISION_1 && len == XATTR_CAPS_SZ_1) {
		perm[0] = le32(v + 4);
		inh[0] = le32(v + 8);
	} else if ((rev == VFS_CAP_REVISION_2 && len == XATTR_CAPS_SZ_2) ||
		   (rev == VFS_CAP_REVISION_3 && len == XATTR_CAPS_SZ_3)) {
		if (rev == VFS_CAP_REVISION_3) {
			uint32_t rootid = le32(v + 20);
			if (rootid == h->cap_rootid) { /* already bound to the sandbox's root */
				memcpy(out, v, len);
				*outlen = len;
				return 1;
			}
			/* Bound to some other user's namespace: not ours to move. */
			if (rootid != 0)
				goto drop;
		}
		perm[0] = le32(v + 4);
		inh[0] = le32(v + 8);
		perm[1] = le32(v + 12);
		inh[1] = le32(v + 16);
	} else {
		goto drop;
	}
	put_le32(out, VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE));
	put_le32(out + 4, perm[0]);
	put_le32(out + 8, inh[0]);
	put_le32(out + 12, perm[1]);
	put_le32(out + 16, inh[1]);
	put_le32(out + 20, (uint32_t)h->cap_rootid);
	*outlen = XATTR_CAPS_SZ_3;
	h->caps_rewritten++;
	return 1;
drop:
	h->caps_dropped++;
	return 0;
}

int rfs_harden_xattr(struct rfs_harden *h, const char *name, const void *value, size_t len, void *out,
		     size_t outsz, size_t *outlen)
{
	/* user.* means nothing to the kernel.  Everything else does:
	 * security.* (capabilities, SELinux labels, IMA/EVM), trusted.*
	 * (overlayfs whiteouts and redirects), system.* (ACLs naming host
	 * users). */
	if (strncmp(name, "user.", 5) == 0) {
		if (len > outsz)
			return 0;
		memcpy(out, value, len);
		*outlen = len;
		return 1;
	}
	if (strcmp(name, CAP_XATTR) == 0)
		return harden_cap(h, value, len, out, outsz, outlen);
	h->xattrs_dropped++;
	return 0;
}

/* ---- the tree after a RUN step ------------------------------------------ */

static struct rfs_harden *walk_h;
static struct sbx_error **walk_err;

static int fix_xattrs(const char *path)
{
	char names[65536];
	ssize_t n = llistxattr(path, names, sizeof(names));
	if (n < 0)
		return errno == ENOTSUP ? 0
					: sbx_error_set(walk_err, errno, "listing attributes of %s", path);
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		if (strncmp(name, "user.", 5) == 0)
			continue;
		unsigned char v[256], keep[XATTR_CAPS_SZ_3];
		size_t klen = 0;
		ssize_t len = lgetxattr(path, name, v, sizeof(v));
		int k = len >= 0 && rfs_harden_xattr(walk_h, name, v, (size_t)len, keep, sizeof(keep), &klen);
		if (len < 0 && errno != ERANGE)
			return sbx_error_set(walk_err, errno, "reading %s of %s", name, path);
		if (k && (size_t)len == klen && memcmp(v, keep, klen) == 0)
			continue;
		if (len < 0)
			walk_h->xattrs_dropped++; /* over 256 bytes: no capability, drop */
		if (k ? lsetxattr(path, name, keep, klen, XATTR_REPLACE) < 0 : lremovexattr(path, name) < 0)
			return sbx_error_set(walk_err, errno, "%s %s of %s", k ? "rewriting" : "removing",
					     name, path);
	}
	return 0;
}

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_NS || flag == FTW_DNR)
		return sbx_error_set(walk_err, EACCES, "cannot read %s", path);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		walk_h->devices_removed++;
		if (unlink(path) < 0)
			return sbx_error_set(walk_err, errno, "removing device node %s", path);
		return 0;
	}
	if (S_ISREG(st->st_mode)) {
		mode_t m = rfs_harden_mode(walk_h, st->st_mode, st->st_mode & 07777);
		if (m != (st->st_mode & 07777) && chmod(path, m) < 0)
			return sbx_error_set(walk_err, errno, "clearing set-id bits of %s", path);
	}
	return fix_xattrs(path);
}

int rfs_harden_tree(struct rfs_harden *h, int rootfd, struct sbx_error **err)
{
	char root[64];
	snprintf(root, sizeof(root), "/proc/self/fd/%d", rootfd);
	char real[4096];
	ssize_t n = readlink(root, real, sizeof(real) - 1);
	if (n < 0)
		return sbx_error_set(err, errno, "%s", root);
	real[n] = '\0';
	walk_h = h;
	walk_err = err;
	/* By now no process of the step is left (its pid namespace died with
	 * its init), so the tree holds still; FTW_PHYS: no symlink followed,
	 * FTW_MOUNT: nothing mounted over the tree is touched. */
	int r = nftw(real, walk_one, 16, FTW_PHYS | FTW_MOUNT);
	walk_h = NULL;
	walk_err = NULL;
	if (r < 0)
		return err && *err ? -1 : sbx_error_set(err, errno, "walking %s", real);
	return r ? -1 : 0;
}

void rfs_harden_report(const struct rfs_harden *h, FILE *f)
{
	if (f == NULL)
		return;
	if (h->setid_cleared)
		fprintf(
		    f,
		    "sbx-rootfs: %lu set-uid/set-gid bit(s) cleared (they would be privilege on the host)\n",
		    h->setid_cleared);
	if (h->caps_rewritten)
		fprintf(
		    f,
		    "sbx-rootfs: %lu file capability(ies) bound to the sandbox's root (uid %u): they work "
		    "in the sandbox's user namespace only\n",
		    h->caps_rewritten, (unsigned)h->cap_rootid);
	if (h->caps_dropped)
		fprintf(f,
			"sbx-rootfs: warning: %lu file capability(ies) dropped (no user namespace to bind "
			"them to)\n",
			h->caps_dropped);
	if (h->xattrs_dropped)
		fprintf(f, "sbx-rootfs: warning: %lu security/trusted/system extended attribute(s) dropped\n",
			h->xattrs_dropped);
	if (h->devices_removed)
		fprintf(f, "sbx-rootfs: warning: %lu device node(s) removed\n", h->devices_removed);
}
