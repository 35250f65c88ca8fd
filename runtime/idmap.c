#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

static int write_file(pid_t pid, const char *name, const char *content, struct sbx_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "open %s", path);
	size_t len = strlen(content);
	if (write(fd, content, len) != (ssize_t)len)
		return sbx_error_set(err, errno, "write '%.*s' to %s", (int)strcspn(content, "\n"), content, path);
	return 0;
}

bool sbx_idmap_rootless(void)
{
	if (geteuid() != 0)
		return true;
	char buf[256];
	cleanup_close int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	unsigned long inside, outside, count;
	/* The initial namespace's map is "0 0 4294967295", one line. */
	return sscanf(buf, "%lu %lu %lu", &inside, &outside, &count) != 3 || inside != 0 || outside != 0 ||
	       count != 4294967295UL;
}

int sbx_idmap_write(pid_t child, const struct sbx_config *c, struct sbx_error **err)
{
	char map[64];
	if (!c->rootless) {
		snprintf(map, sizeof(map), "0 %u %u\n", c->idmap_host_base, c->idmap_size);
		if (write_file(child, "uid_map", map, err) < 0 || write_file(child, "gid_map", map, err) < 0)
			return sbx_error_wrap(err, "writing id maps");
		return 0;
	}
	if (write_file(child, "setgroups", "deny", err) < 0)
		return sbx_error_wrap(err, "writing id maps");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)geteuid());
	if (write_file(child, "uid_map", map, err) < 0)
		return sbx_error_wrap(err, "writing id maps");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)getegid());
	if (write_file(child, "gid_map", map, err) < 0)
		return sbx_error_wrap(err, "writing id maps");
	return 0;
}
