#include "harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"

static char *abs_path(const char *p)
{
	char *r = realpath(p, NULL);
	return r ? r : strdup(p);
}

const char *h_build(void)
{
	static char *b;
	if (!b) {
		const char *e = getenv("SBX_BUILD");
		b = abs_path(e && *e ? e : "build");
	}
	return b;
}

const char *h_sbx(void)
{
	static char *s;
	const char *alt = getenv("SBX_TEST_BINARY");
	if (alt && *alt)
		return alt;
	if (!s && asprintf(&s, "%s/sbx", h_build()) < 0)
		abort();
	return s;
}

const char *h_rootfs(void)
{
	static char *r;
	if (!r)
		r = abs_path("build/rootfs");
	return r;
}

void h_need_fixture(void)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s%s", h_rootfs(), PROBE);
	if (access(p, X_OK) != 0)
		cr_assert_fail("test rootfs missing (%s): run 'make fixtures'", p);
	if (access(h_sbx(), X_OK) != 0)
		cr_assert_fail("%s missing: run 'make'", h_sbx());
}

void h_need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (running as uid %u)", (unsigned)geteuid());
}

void h_need_userns_as(uid_t uid)
{
	if (uid != 0 && geteuid() != 0)
		cr_skip_test("needs root to switch to uid %u", (unsigned)uid);
	FILE *f = fopen("/proc/sys/user/max_user_namespaces", "r");
	int n = 0;
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	if (n == 0)
		cr_skip_test("user namespaces are disabled (user.max_user_namespaces = 0)");
	f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "r");
	if (f) {
		int v = 1;
		if (fscanf(f, "%d", &v) == 1 && v == 0 && uid != 0) {
			fclose(f);
			cr_skip_test("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)");
		}
		fclose(f);
	}
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

int h_nofile_limit;

int h_run(struct sbx_out *o, uid_t uid, int timeout_s, const char *const *args)
{
	memset(o, 0, sizeof(*o));
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		return -1;
	size_t n = 0;
	while (args[n])
		n++;
	char **argv = calloc(n + 3, sizeof(char *));
	argv[0] = (char *)h_sbx();
	argv[1] = "run";
	for (size_t i = 0; i < n; i++)
		argv[i + 2] = (char *)args[i];
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		setpgid(0, 0);
		if (h_nofile_limit > 0) {
			struct rlimit rl = { (rlim_t)h_nofile_limit, (rlim_t)h_nofile_limit };
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (uid != 0) {
			if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
				_exit(99);
		}
		execv(argv[0], argv);
		_exit(98);
	}
	free(argv);
	close(po[1]);
	close(pe[1]);
	size_t lo = 0, le = 0;
	o->out = strdup("");
	o->err = strdup("");
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct pollfd p[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
	bool killed = false;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int r = poll(p, 2, 200);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!killed && now.tv_sec - start.tv_sec >= timeout_s) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (r <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char buf[65536];
			ssize_t k = read(p[i].fd, buf, sizeof(buf));
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else if (i == 0) {
				append(&o->out, &lo, buf, (size_t)k);
			} else {
				append(&o->err, &le, buf, (size_t)k);
			}
		}
	}
	int st;
	o->pid = pid;
	waitpid(pid, &st, 0);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (killed)
		cr_log_warn("sbx run timed out after %d s and was killed", timeout_s);
	return 0;
}

int h_run_report(struct sbx_out *o, uid_t uid, int timeout_s, const char *const *args)
{
	char *dir = h_tmpdir();
	char report[PATH_MAX];
	snprintf(report, sizeof(report), "%s/report.json", dir);
	size_t n = 0;
	while (args[n])
		n++;
	const char **a = calloc(n + 3, sizeof(char *));
	a[0] = "--report";
	a[1] = report;
	memcpy(a + 2, args, n * sizeof(char *));
	int r = h_run(o, uid, timeout_s, a);
	free(a);
	json_error_t je;
	o->report = json_load_file(report, 0, &je);
	h_rmtree(dir);
	free(dir);
	return r;
}

void h_free(struct sbx_out *o)
{
	free(o->out);
	free(o->err);
	if (o->report)
		json_decref(o->report);
	memset(o, 0, sizeof(*o));
}

char *h_tmpdir(void)
{
	char *t = strdup("/tmp/sbx-test-XXXXXX");
	if (mkdtemp(t) == NULL)
		cr_assert_fail("mkdtemp: %s", strerror(errno));
	chmod(t, 0777);
	return t;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void h_rmtree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

int h_count_procs(const char *needle)
{
	DIR *d = opendir("/proc");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char p[300], buf[4096];
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		for (ssize_t i = 0; i < k; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[k] = '\0';
		if (strstr(buf, needle))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int cg_count;
static pid_t cg_pid;
static int cg_visit(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	if (flag != FTW_D)
		return 0;
	const char *base = p + f->base;
	if (strncmp(base, "sbx-", 4) == 0) {
		if (cg_pid == 0 || atoi(base + 4) == cg_pid)
			cg_count++;
	}
	return 0;
}

bool h_pids_peak_known(char *why, size_t len)
{
	/* sbx run's defaults; only the counter's presence matters. */
	struct sbx_cgroup_request req = {.limits = {.memory = 1ull << 30, .memory_swap = 0, .pids = 256}};
	struct sbx_cgroup *cg = NULL;
	struct sbx_error *err = NULL;
	if (sbx_cgroup_create(&req, &cg, &err) < 0) {
		snprintf(why, len, "no cgroup to look for pids.peak in: %s", err->msg);
		sbx_error_free(&err);
		return false;
	}
	struct sbx_cgroup_stats st = {0};
	bool known = sbx_cgroup_stats(cg, &st, NULL) == 0 && st.pids_peak_known;
	int version = sbx_cgroup_version(cg);
	sbx_cgroup_destroy(cg, NULL);
	snprintf(why, len, "the cgroup v%d pids controller here has no pids.peak (Linux 6.1+): the report's "
		 "pids_peak is 0 whatever ran", version);
	return known;
}

int h_count_cgroups(pid_t pid)
{
	cg_count = 0;
	cg_pid = pid;
	nftw("/sys/fs/cgroup", cg_visit, 32, FTW_PHYS | FTW_MOUNT * 0);
	return cg_count;
}

static json_t *key(json_t *r, const char *k)
{
	cr_assert(r != NULL, "no report was written");
	json_t *v = json_object_get(r, k);
	cr_assert(v != NULL, "report has no key '%s'", k);
	return v;
}

const char *h_rs(json_t *r, const char *k)
{
	json_t *v = key(r, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long h_ri(json_t *r, const char *k)
{
	json_t *v = key(r, k);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

bool h_rb(json_t *r, const char *k) { return json_is_true(key(r, k)); }

double h_rd(json_t *r, const char *k)
{
	json_t *v = key(r, k);
	return json_is_number(v) ? json_number_value(v) : -1;
}
