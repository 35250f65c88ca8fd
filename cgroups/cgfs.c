#include "cgroups/cgfs.h"
#include "cgroups/parse.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/readfile.h"

char *sbx_cg_join(const char *a, const char *b)
{
	char *r = NULL;
	size_t al = strlen(a);
	while (*b == '/')
		b++;
	r = sbx_xasprintf("%s%s%s", a, (al > 0 && a[al - 1] == '/') || *b == '\0' ? "" : "/", b);
	return r;
}

bool sbx_cg_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int sbx_cg_read(const char *dir, const char *file, char **out)
{
	cleanup_free char *path = sbx_cg_join(dir, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Kernel text; cgroup.procs of a large cgroup is the longest. */
	return sbx_read_fd(fd, 64u << 20, out, NULL);
}

int sbx_cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
	cleanup_free char *t = NULL;
	uint64_t v = 0;
	*out = 0;
	if (dir == NULL || sbx_cg_read(dir, file, &t) < 0 || sbx_cg_parse_u64(t, &v) < 0)
		return -1;
	*out = v == UINT64_MAX ? 0 : v;
	return 0;
}

int sbx_cg_write(const char *dir, const char *file, const char *value)
{
	cleanup_free char *path = sbx_cg_join(dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* cgroup files take one value per write(2); a short write is an error. */
	size_t len = strlen(value);
	ssize_t r;
	do
		r = write(fd, value, len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if ((size_t)r != len)
		return -EIO;
	return 0;
}

int sbx_cg_write_err(const char *dir, const char *file, const char *value, struct sbx_error **err)
{
	int r = sbx_cg_write(dir, file, value);
	if (r < 0)
		return sbx_error_set(err, -r, "writing '%s' to %s/%s", value, dir, file);
	return 0;
}

int sbx_cg_procs(const char *dir, pid_t **pids, size_t *n)
{
	char *text = NULL;
	int r = sbx_cg_read(dir, "cgroup.procs", &text);
	if (r < 0)
		return r;
	size_t count = 0;
	pid_t *v = NULL;
	for (char *p = text; *p;) {
		char *end = NULL;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		/* A pid outside our pid namespace reads as 0: skip it, we cannot signal it. */
		if (pid > 0) {
			v = sbx_xreallocarray(v, count + 1, sizeof(*v));
			v[count++] = (pid_t)pid;
		}
		p = end;
		while (*p == '\n')
			p++;
	}
	free(text);
	*pids = v;
	*n = count;
	return 0;
}

int sbx_cg_kill_listed(const char *dir)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r = sbx_cg_procs(dir, &pids, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
	return (int)n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int sbx_cg_kill_until_empty(const char *dir, int ms)
{
	uint64_t deadline = sbx_now_ms() + (uint64_t)ms;
	long pause = 1;
	for (;;) {
		int n = sbx_cg_kill_listed(dir);
		if (n == 0 || n == -ENOENT)
			return 0;
		if (n < 0)
			return n;
		if (sbx_now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(pause);
		if (pause < 20)
			pause *= 2;
	}
}

int sbx_cg_rmdir(const char *dir, int ms)
{
	uint64_t deadline = sbx_now_ms() + (uint64_t)ms;
	long pause = 1;
	for (;;) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		/* EBUSY: tasks that were just killed are still on their way out. */
		if (errno != EBUSY || sbx_now_ms() >= deadline)
			return -errno;
		sleep_ms(pause);
		if (pause < 20)
			pause *= 2;
	}
}

int sbx_cg_mkdirs(const char *top, const char *path, struct sbx_error **err)
{
	size_t tl = strlen(top);
	if (strncmp(top, path, tl) != 0)
		return sbx_error_set(err, 0, "%s is not beneath %s", path, top);
	cleanup_free char *p = sbx_xstrdup(path);
	char *s = p + tl;
	while (*s) {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		char *e = strchrnul(s, '/');
		char saved = *e;
		*e = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "mkdir %s", p);
		*e = saved;
		s = e;
	}
	return 0;
}

int sbx_cg_count_subdirs(const char *dir, const char *except)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (except && strcmp(e->d_name, except) == 0)
			continue;
		n++;
	}
	closedir(d);
	return n;
}
