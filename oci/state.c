#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

const char *const sbx_oci_status_names[] = {"creating", "created", "running", "stopped"};

int sbx_oci_check_id(const char *id, struct sbx_error **err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || id[0] == '.')
		return sbx_error_set(err, 0, "invalid container id '%.64s'", id);
	for (const char *p = id; *p; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			  ch == '_' || ch == '+' || ch == '-' || ch == '.';
		if (!ok)
			return sbx_error_set(
			    err, 0, "invalid container id '%.64s' (letters, digits, _ + - . only)", id);
	}
	return 0;
}

/* mkdir -p of the root, each new level 0700. */
static int make_root(const char *root, struct sbx_error **err)
{
	cleanup_free char *p = strdup(root);
	if (p == NULL)
		abort();
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "creating the state directory %s", p);
		*s = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

int sbx_oci_lock(const char *root, bool exclusive, int *rootfd, struct sbx_error **err)
{
	if (root[0] != '/')
		return sbx_error_set(err, 0, "--root %s is not an absolute path", root);
	if (make_root(root, err) < 0)
		return -1;
	cleanup_close int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return sbx_error_set(err, errno, "opening the state directory %s", root);
	int lock = openat(dir, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0)
		return sbx_error_set(err, errno, "opening %s/.lock", root);
	int r;
	do
		r = flock(lock, exclusive ? LOCK_EX : LOCK_SH);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(lock);
		return sbx_error_set(err, e, "locking %s/.lock", root);
	}
	*rootfd = sbx_steal_fd(&dir);
	return lock;
}

int sbx_oci_state_write(int dirfd, const struct sbx_oci_state *s, struct sbx_error **err)
{
	json_error_t je;
	json_t *ann = json_loads(s->annotations ? s->annotations : "{}", 0, &je);
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "id", s->id, "bundle", s->bundle,
			      "created", s->created, "annotations", ann ? ann : json_object(), "pid",
			      (json_int_t)s->pid, "pid_start", (json_int_t)s->pid_start, "init_pid",
			      (json_int_t)s->init_pid, "init_start", (json_int_t)s->init_start);
	if (o == NULL)
		return sbx_error_set(err, 0, "formatting the container state");
	cleanup_free char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		abort();
	/* Written whole, then renamed: a reader sees the old or the new state. */
	cleanup_close int fd =
	    openat(dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sbx_error_set(err, errno, "writing the container state");
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return sbx_error_set(err, errno, "writing the container state");
	if (renameat(dirfd, "state.json.tmp", dirfd, "state.json") < 0)
		return sbx_error_set(err, errno, "writing the container state");
	return 0;
}

int sbx_oci_state_read(int rootfd, const char *id, struct sbx_oci_state *s, struct sbx_error **err)
{
	memset(s, 0, sizeof(*s));
	cleanup_close int dir = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		int e = errno;
		return sbx_error_set(err, e == ENOENT ? ENOENT : e, "container %s does not exist", id);
	}
	cleanup_close int fd = openat(dir, "state.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "reading the state of container %s", id);
	char buf[1 << 16];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return sbx_error_set(err, errno, "reading the state of container %s", id);
	json_error_t je;
	json_t *o = json_loadb(buf, (size_t)n, 0, &je);
	const char *bid, *bundle, *created;
	json_t *ann;
	json_int_t pid, pid_start, init_pid, init_start;
	if (o == NULL ||
	    json_unpack(o, "{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "id", &bid, "bundle", &bundle,
			"created", &created, "annotations", &ann, "pid", &pid, "pid_start", &pid_start,
			"init_pid", &init_pid, "init_start", &init_start) < 0) {
		json_decref(o);
		return sbx_error_set(err, 0, "the state of container %s is corrupt", id);
	}
	s->id = strdup(bid);
	s->bundle = strdup(bundle);
	s->created = strdup(created);
	s->annotations = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
	s->pid = (pid_t)pid;
	s->pid_start = (uint64_t)pid_start;
	s->init_pid = (pid_t)init_pid;
	s->init_start = (uint64_t)init_start;
	json_decref(o);
	if (!s->id || !s->bundle || !s->created || !s->annotations)
		abort();
	return 0;
}

void sbx_oci_state_free(struct sbx_oci_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->created);
	free(s->annotations);
	memset(s, 0, sizeof(*s));
}

uint64_t sbx_oci_proc_start(pid_t pid)
{
	if (pid <= 0)
		return 0;
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields start after the
	 * last ')'.  Field 3 is the state, 22 the start time. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X') /* exited, not yet reaped */
		return 0;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return 0;
		p++;
	}
	return strtoull(p, NULL, 10);
}

int sbx_oci_pidfd(pid_t pid, uint64_t start)
{
	if (pid <= 0 || start == 0)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	/* Checked after the pidfd exists: if the start time still matches,
	 * the pidfd refers to that process and no later one. */
	if (sbx_oci_proc_start(pid) != start) {
		close(fd);
		return -1;
	}
	return fd;
}

enum sbx_oci_status sbx_oci_status(int rootfd, const struct sbx_oci_state *s)
{
	if (s->pid == 0 || s->init_pid == 0) {
		/* The creator has not recorded pid 1 yet; a creator that died
		 * before that left a container that never ran. */
		return s->pid != 0 && sbx_oci_proc_start(s->pid) == s->pid_start ? SBX_OCI_CREATING
										 : SBX_OCI_STOPPED;
	}
	if (sbx_oci_proc_start(s->pid) != s->pid_start)
		return SBX_OCI_STOPPED;
	cleanup_close int dir = openat(rootfd, s->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (dir < 0 || fstatat(dir, "exit", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return SBX_OCI_STOPPED;
	if (fstatat(dir, "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return SBX_OCI_CREATED;
	return SBX_OCI_RUNNING;
}

int sbx_oci_state_remove(int rootfd, const char *id, struct sbx_error **err)
{
	int dfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : sbx_error_set(err, errno, "removing the state of %s", id);
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return sbx_error_set(err, errno, "removing the state of %s", id);
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, e->d_name, 0) < 0 && errno != ENOENT)
			r = sbx_error_set(err, errno, "removing %s/%s", id, e->d_name);
	}
	closedir(d);
	if (r == 0 && unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return sbx_error_set(err, errno, "removing the state directory of %s", id);
	return r;
}
