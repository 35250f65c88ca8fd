/* spawn: the benchmark's launcher for throughput loops and peak RSS.
 *
 *   spawn rss  [--uid N] [--log FILE] RUNS -- ARGV...
 *       one ru_maxrss (KiB) per successful run, one per line
 *   spawn loop [--uid N] [--log FILE] LOOPS RUNS -- ARGV...
 *       "SECONDS FAILED": LOOPS loops at once, each running ARGV RUNS times
 *       back to back
 *
 * Runs' stdout goes to /dev/null, their stderr to /dev/null or appended to
 * FILE, where each failed run also gets a line "spawn: exit N" (or
 * "spawn: signal N"), so that failures can be told apart afterwards.
 *
 * Why C and static: wait4's ru_maxrss counts the launcher's own memory too
 * (exec records the high-water mark of the address space it replaces, and a
 * fork copies the parent's), so a Python launcher would add its ~15 MiB to
 * every runtime; a static binary adds a few hundred KiB.  It is also the
 * cheapest way to start processes back to back, so runs per second measure
 * the runtime rather than the harness.
 *
 * --uid switches to that uid and gid (no supplementary groups) in the child
 * before exec: the rootless runs without a setpriv process in between.
 * In ARGV, the word "{loop}" inside an argument is replaced by the loop's
 * index, so that concurrent crun and runc loops use containers of their own.
 * Built by bench/run.py into its work directory; not part of sbx.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long uid = -1;
static const char *log_path;

static char **with_loop(char **argv, int loop)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		exit(2);
	for (size_t i = 0; i < n; i++) {
		const char *p = strstr(argv[i], "{loop}");
		if (!p) {
			out[i] = argv[i];
			continue;
		}
		if (asprintf(&out[i], "%.*s%d%s", (int)(p - argv[i]), argv[i], loop, p + 6) < 0)
			exit(2);
	}
	return out;
}

/* One run: 0 when it exited 0; *maxrss_kib gets wait4's ru_maxrss. */
static int run_once(char **argv, long *maxrss_kib)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		int err = log_path ? open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : null;
		if (null < 0 || err < 0 || dup2(null, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		/* Groups before gid before uid: each later step drops the right to
		 * do the earlier ones. */
		if (uid >= 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
				 setresuid(uid, uid, uid) < 0))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	if (maxrss_kib)
		*maxrss_kib = ru.ru_maxrss;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (log_path) {
		FILE *f = fopen(log_path, "ae");
		if (f) {
			fprintf(f, "spawn: %s %d\n", WIFEXITED(status) ? "exit" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			fclose(f);
		}
	}
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: spawn rss [--uid N] [--log FILE] RUNS -- ARGV...\n"
			"       spawn loop [--uid N] [--log FILE] LOOPS RUNS -- ARGV...\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	int i = 2;
	for (;;) {
		if (i + 1 < argc && strcmp(argv[i], "--uid") == 0)
			uid = atol(argv[i + 1]);
		else if (i + 1 < argc && strcmp(argv[i], "--log") == 0)
			log_path = argv[i + 1];
		else
			break;
		i += 2;
	}
	int loops = 1;
	if (strcmp(mode, "loop") == 0) {
		if (i >= argc)
			return usage();
		loops = atoi(argv[i++]);
	} else if (strcmp(mode, "rss") != 0) {
		return usage();
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0)
		return usage();
	int runs = atoi(argv[i]);
	char **cmd = argv + i + 2;
	if (runs < 1 || loops < 1)
		return usage();

	if (strcmp(mode, "rss") == 0) {
		char **a = with_loop(cmd, 0);
		for (int r = 0; r < runs; r++) {
			long kib = 0;
			if (run_once(a, &kib) == 0)
				printf("%ld\n", kib);
		}
		return 0;
	}

	struct timespec t0, t1;
	int pipefd[2];
	/* Close-on-exec: only the loop processes may hold the write end, so the
	 * read below ends when the last loop has reported. */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int l = 0; l < loops; l++) {
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			char **a = with_loop(cmd, l);
			int failed = 0;
			for (int r = 0; r < runs; r++)
				failed += run_once(a, NULL) < 0;
			if (write(pipefd[1], &failed, sizeof(failed)) != sizeof(failed))
				_exit(2);
			_exit(0);
		}
	}
	close(pipefd[1]);
	int failed = 0, f;
	while (read(pipefd[0], &f, sizeof(f)) == sizeof(f))
		failed += f;
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.6f %d\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, failed);
	return 0;
}
