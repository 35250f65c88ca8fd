/* LD_PRELOAD shim for the soak's fd-leak check: when the process exits
 * through exit() (sbx's supervisor returns from main), append one line to
 * $SBX_FDCHECK_OUT: "PID N fd:target ..." listing every descriptor still
 * open.  The soak starts sbx with only 0, 1 and 2 open, so anything else
 * was opened by sbx and never closed.  Processes that leave through
 * _exit() or execve() (the sandbox's side) write nothing. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((destructor)) static void sbx_fdcheck(void)
{
	const char *out = getenv("SBX_FDCHECK_OUT");
	if (out == NULL)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	char line[8192];
	size_t n = 0, count = 0;
	char list[7000] = "";
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		char path[300], target[PATH_MAX] = "?";
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t l = readlink(path, target, sizeof(target) - 1);
		if (l >= 0)
			target[l] = '\0';
		count++;
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, " %s:%s", e->d_name, target);
		if (n >= sizeof(list))
			n = sizeof(list) - 1;
	}
	closedir(d);
	int len = snprintf(line, sizeof(line), "%d %zu%s\n", getpid(), count, list);
	int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, (size_t)len) < 0) {
		}
		close(fd);
	}
}
