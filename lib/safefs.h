/* Filesystem operations confined to one directory tree.  Image archives are
 * untrusted: an entry may name "../x", or a directory that an earlier entry
 * made a symlink to "/".  Every path is therefore resolved by the kernel with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) against a dirfd of the
 * tree: a resolution that would leave the tree fails with EXDEV instead of
 * being followed, whatever symlinks earlier entries planted. */
#ifndef SBX_ROOTFS_SAFEFS_H
#define SBX_ROOTFS_SAFEFS_H

#include <sys/types.h>

/* openat2 beneath dirfd; returns an fd or -1 with errno (EXDEV: escapes). */
int rfs_openat_beneath(int dirfd, const char *path, int flags, mode_t mode);

/* Open the directory that holds `path` (relative, already normalised, not
 * empty) as an O_PATH fd, creating missing directories (mode 0755, owned by
 * uid:gid, or by the caller when uid is -1) when `create`.  *base points at
 * the last component of path.  Returns -1 with errno on failure. */
int rfs_open_parent(int rootfd, const char *path, int create, uid_t uid, gid_t gid, const char **base);

/* mkdir -p of a relative path beneath rootfd, new directories as above. */
int rfs_mkdir_p(int rootfd, const char *path, uid_t uid, gid_t gid);

/* Remove dirfd/name, recursively when it is a directory; symlinks are
 * removed, never followed.  Missing is not an error. */
int rfs_remove_at(int dirfd, const char *name);

/* Remove everything inside the directory fd refers to (an O_PATH fd is fine)
 * for which keep(name, data) returns 0. */
int rfs_clear_dir(int dirfd, int (*keep)(const char *name, void *data), void *data);

#endif
