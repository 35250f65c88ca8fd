/* The warm pool (sbx pool, sbx run --pool): every test starts its own pool
 * on a socket in a fresh directory, stops it, and checks that nothing is
 * left.  Two jobs in a row where the second looks for what the first left;
 * kill, timeout and OOM of one job while the pool lives on; SIGKILL of the
 * pool; concurrent clients; what the pool refuses. */
#include <criterion/criterion.h>
#include <linux/close_range.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

static void setup(void)
{
	h_need_fixture();
	h_need_root();
}

/* The pool a failed assertion left running (its process group: server,
 * keepers, job supervisors): killed, so it can hold nothing of the test
 * runner's and leaves nothing behind. */
static pid_t running_pool;
static char *running_dir, *extra_dir;
static void teardown(void)
{
	if (extra_dir) {
		h_rmtree(extra_dir);
		extra_dir = NULL;
	}
	if (running_pool > 0) {
		kill(-running_pool, SIGKILL);
		waitpid(running_pool, NULL, 0);
	}
	if (running_dir) {
		h_rmtree(running_dir);
		running_dir = NULL;
	}
}
TestSuite(pool, .init = setup, .fini = teardown, .timeout = 180);

/* Text of the zygote's source: how its processes are found on the host. */
#define ZYGOTE_MARK "sbx pool zygote"

struct pool {
	pid_t pid;
	char *dir; /* bound at /srv in every job */
	char sock[512];
	pid_t keepers[16];
	size_t n_keepers;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
	chmod(p, 0644);
}

/* The pool as `uid` (0: as we are), started from cgroup directory `from`
 * (NULL: ours), which its process joins as root before dropping to uid. */
static void pool_start_as(struct pool *p, int size, const char *const *extra, uid_t uid, const char *from);

static void pool_start(struct pool *p, int size, const char *const *extra)
{
	pool_start_as(p, size, extra, 0, NULL);
}

static void become(uid_t uid, const char *from)
{
	if (from) {
		char procs[1024], me[16];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", from);
		snprintf(me, sizeof(me), "%d", (int)getpid());
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, me, strlen(me)) < 0)
			_exit(90);
		close(fd);
	}
	if (uid != 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0))
		_exit(91);
}

static void pool_start_as(struct pool *p, int size, const char *const *extra, uid_t uid, const char *from)
{
	memset(p, 0, sizeof(*p));
	p->dir = running_dir = h_tmpdir();
	snprintf(p->sock, sizeof(p->sock), "%s/pool.sock", p->dir);
	char srv[1024], sz[16];
	snprintf(srv, sizeof(srv), "%s:/srv", p->dir);
	snprintf(sz, sizeof(sz), "%d", size);
	const char *argv[64] = {
	    h_sbx(),  "pool", "--socket",      p->sock,	       "--rootfs", h_rootfs(),
	    "--size", sz,     "--preload",     "pandas,numpy", "--env",	   "OPENBLAS_NUM_THREADS=1",
	    "--bind", srv,    "--mount-point", "/extra"};
	size_t n = 16;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	p->pid = fork();
	if (p->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		setpgid(0, 0);
		close_range(3, ~0U, 0); /* nothing of the test runner's */
		become(uid, from);
		execv(argv[0], (char **)argv);
		_exit(98);
	}
	cr_assert(p->pid > 0);
	setpgid(p->pid, p->pid);
	running_pool = p->pid;
	for (int i = 0; i < 100 && access(p->sock, F_OK) < 0; i++)
		usleep(50000);
	cr_assert(access(p->sock, F_OK) == 0, "the pool did not create its socket");
}

/* The pool's children now: its zygotes' keepers (and job supervisors). */
static void pool_note_keepers(struct pool *p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", p->pid, p->pid);
	FILE *f = fopen(path, "r");
	cr_assert(f);
	int pid;
	while (p->n_keepers < 16 && fscanf(f, "%d", &pid) == 1)
		p->keepers[p->n_keepers++] = pid;
	fclose(f);
}

/* Only the keepers, once the supervisors of finished jobs (which answer
 * their client just before they exit) are gone. */
static void pool_note_only_keepers(struct pool *p, size_t n)
{
	for (int i = 0; i < 100; i++) {
		p->n_keepers = 0;
		pool_note_keepers(p);
		if (p->n_keepers == n)
			return;
		usleep(20000);
	}
}

static int wait_exit(pid_t pid, int timeout_s)
{
	for (int i = 0; i < timeout_s * 20; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* /proc/PID/FILE into buf (NUL-terminated); its length, or -1. */
static ssize_t read_proc(const char *pid, const char *file, char *buf, size_t size)
{
	char path[300];
	snprintf(path, sizeof(path), "/proc/%s/%s", pid, file);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t len = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Whether process `pid` is a zygote (by its command line). */
static bool is_zygote(const char *pid)
{
	char buf[4096];
	ssize_t len = read_proc(pid, "cmdline", buf, sizeof(buf));
	return len > 11 && memcmp(buf, "python3\0-c\0", 11) == 0 && strstr(buf + 11, ZYGOTE_MARK) != NULL;
}

/* Processes in the cgroups of this pool's keepers (the zygotes' sandboxes;
 * tests run side by side, so never count other pools'); with `zygotes`,
 * only the zygotes themselves, their pids into `pids`. */
static int pool_sandbox_procs(struct pool *p, bool zygotes, int *pids, int max)
{
	int n = 0;
	DIR *d = opendir("/proc");
	cr_assert(d);
	for (struct dirent *e; (e = readdir(d));) {
		int pid = atoi(e->d_name);
		char buf[4096];
		if (pid <= 0 || read_proc(e->d_name, "cgroup", buf, sizeof(buf)) < 0)
			continue;
		bool ours = false;
		for (size_t i = 0; i < p->n_keepers && !ours; i++) {
			char tag[32];
			snprintf(tag, sizeof(tag), "/sbx-%d-", p->keepers[i]);
			ours = strstr(buf, tag) != NULL;
		}
		if (!ours || (zygotes && !is_zygote(e->d_name)))
			continue;
		if (pids && n < max)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

/* Nothing of the pool is left: no process, no cgroup of a keeper. */
static void expect_nothing_left(struct pool *p)
{
	int procs = 0, zyg = 0;
	for (int i = 0; i < 100; i++) {
		procs = h_count_procs(p->sock);
		zyg = pool_sandbox_procs(p, false, NULL, 0);
		if (procs == 0 && zyg == 0)
			break;
		usleep(100000);
	}
	cr_expect_eq(procs, 0, "%d processes of the pool left", procs);
	cr_expect_eq(zyg, 0, "%d processes of the zygotes' sandboxes left", zyg);
	for (size_t i = 0; i < p->n_keepers; i++)
		cr_expect_eq(h_count_cgroups(p->keepers[i]), 0, "keeper %d left a cgroup", p->keepers[i]);
}

static void pool_stop(struct pool *p)
{
	kill(p->pid, SIGTERM);
	int st = wait_exit(p->pid, 30);
	running_pool = 0;
	cr_expect(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "pool ended with status %#x", st);
	cr_expect(access(p->sock, F_OK) < 0, "the socket is left behind");
	expect_nothing_left(p);
	h_rmtree(p->dir);
	free(p->dir);
	running_dir = NULL;
}

static void job_as(struct sbx_out *o, uid_t uid, struct pool *p, const char *script, const char *const *opts);

/* One job: `sbx run --pool SOCK [opts] -- python3 /srv/SCRIPT`. */
static void job(struct sbx_out *o, struct pool *p, const char *script, const char *const *opts)
{
	job_as(o, 0, p, script, opts);
}

/* The same as `uid`. */
static void job_as(struct sbx_out *o, uid_t uid, struct pool *p, const char *script, const char *const *opts)
{
	const char *a[64] = {"--pool", p->sock};
	size_t n = 2;
	for (size_t i = 0; opts && opts[i]; i++)
		a[n++] = opts[i];
	char path[256];
	snprintf(path, sizeof(path), "/srv/%s", script);
	a[n++] = "--";
	a[n++] = "python3";
	a[n++] = strdup(path);
	a[n] = NULL;
	cr_assert_eq(h_run_report(o, uid, 120, a), 0);
}

static json_t *pool_obj(struct sbx_out *o)
{
	json_t *p = json_object_get(o->report, "pool");
	cr_assert(json_is_object(p), "report without a pool object: %s", o->err);
	return p;
}

static const char leave_py[] = "import os, signal, sys, json, pandas\n"
			       "open('/tmp/left', 'w').write('x')\n"
			       "open('/dev/shm/left', 'w').write('x')\n"
			       "open('/out/left', 'w').write('x')\n"
			       "json.LEFT = 1\n"
			       "pandas.LEFT = 1\n"
			       "sys.LEFT = 1\n"
			       "signal.signal(signal.SIGUSR1, lambda *a: None)\n"
			       "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
			       "os.environ['LEFT'] = '1'\n"
			       "if os.fork() == 0:\n"
			       "    os.setsid()\n"
			       "    if os.fork() == 0:\n"
			       "        os.execv('/usr/local/bin/sbx-probe', ['sbx-probe', 'sleep', '300'])\n"
			       "    os._exit(0)\n"
			       "print('left')\n";

static const char look_py[] =
    "import os, signal, sys, json, pandas\n"
    "found = []\n"
    "for p in ('/tmp/left', '/dev/shm/left', '/out/left'):\n"
    "    if os.path.exists(p): found.append(p)\n"
    "for m in (json, pandas, sys):\n"
    "    if hasattr(m, 'LEFT'): found.append(m.__name__ + '.LEFT')\n"
    "if signal.getsignal(signal.SIGUSR1) != signal.SIG_DFL: found.append('SIGUSR1 handler')\n"
    "if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL: found.append('SIGTERM disposition')\n"
    "for k in ('LEFT', 'SECRET'):\n"
    "    if k in os.environ: found.append('env ' + k)\n"
    "pids = [d for d in os.listdir('/proc') if d.isdigit()]\n"
    "for d in pids:\n"
    "    try:\n"
    "        cmd = open('/proc/%s/cmdline' % d, 'rb').read()\n"
    "    except OSError:\n"
    "        continue\n"
    "    if int(d) not in (1, os.getpid()): found.append('process %s %r' % (d, cmd[:40]))\n"
    "print('found:', ' '.join(found) or 'nothing')\n";

Test(pool, second_job_finds_nothing_the_first_left)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "leave.py", leave_py);
	write_file(p.dir, "look.py", look_py);
	char out1[1024], out2[1024];
	snprintf(out1, sizeof(out1), "%s/out1", p.dir);
	snprintf(out2, sizeof(out2), "%s/out2", p.dir);
	mkdir(out1, 0777);
	mkdir(out2, 0777);
	struct sbx_out o;
	job(&o, &p, "leave.py", (const char *const[]){"--out", out1, "--env", "SECRET=1", NULL});
	cr_assert_eq(o.status, 0, "first job: %s", o.err);
	cr_expect_str_eq(o.out, "left\n");
	long long z1 = json_integer_value(json_object_get(pool_obj(&o), "zygote_jobs"));
	h_free(&o);
	/* The first job's daemon died with it, on the host too. */
	cr_expect_eq(h_count_procs("sbx-probe sleep 300"), 0);
	job(&o, &p, "look.py", (const char *const[]){"--out", out2, NULL});
	cr_assert_eq(o.status, 0, "second job: %s", o.err);
	cr_expect_str_eq(o.out, "found: nothing\n");
	/* Same zygote, one job later: the second job was forked from the
	 * state the first one started from. */
	cr_expect_eq(json_integer_value(json_object_get(pool_obj(&o), "zygote_jobs")), z1 + 1);
	h_free(&o);
	char left[1100];
	snprintf(left, sizeof(left), "%s/left", out1);
	cr_expect(access(left, F_OK) == 0, "the first job's /out was not copied");
	snprintf(left, sizeof(left), "%s/left", out2);
	cr_expect(access(left, F_OK) < 0, "the second job's /out holds the first job's file");
	pool_note_keepers(&p);
	pool_stop(&p);
}

static const char isolation_py[] =
    "import os, socket\n"
    "st = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
    "pids = sorted(int(d) for d in os.listdir('/proc') if d.isdigit())\n"
    "print('pid', os.getpid(), 'pids', pids)\n"
    "print('caps', st['CapEff'].strip(), st['CapPrm'].strip(), st['CapBnd'].strip(), st['CapAmb'].strip())\n"
    "print('nnp', st['NoNewPrivs'].strip(), 'seccomp', st['Seccomp'].strip())\n"
    "p1 = dict(l.split(':\\t', 1) for l in open('/proc/1/status').read().splitlines() if ':\\t' in l)\n"
    "print('pid1', p1['CapEff'].strip(), p1['CapPrm'].strip())\n"
    "print('uid', os.getuid(), os.getgid(), os.getgroups())\n"
    "print('host', socket.gethostname(), 'net', sorted(n for i, n in socket.if_nameindex()))\n"
    "print('env', sorted(os.environ))\n"
    "print('cwd', os.getcwd())\n"
    "print('ns', os.readlink('/proc/self/ns/mnt'), os.readlink('/proc/self/ns/net'), "
    "os.readlink('/proc/self/ns/pid'))\n"
    "try:\n"
    "    os.kill(1, 9); print('kill pid 1: allowed')\n"
    "except OSError as e:\n"
    "    print('kill pid 1:', e.errno)\n";

static char *line(const char *out, const char *key)
{
	const char *l = strstr(out, key);
	cr_assert(l, "no '%s' in: %s", key, out);
	const char *e = strchr(l, '\n');
	return strndup(l, (size_t)(e - l));
}

Test(pool, job_has_its_own_namespaces_no_capabilities_and_its_filter)
{
	struct pool p;
	pool_start(&p, 2, NULL);
	write_file(p.dir, "iso.py", isolation_py);
	struct sbx_out o1, o2;
	job(&o1, &p, "iso.py",
	    (const char *const[]){"--user", "65534:65534", "--env", "A=1", "--workdir", "/tmp", NULL});
	cr_assert_eq(o1.status, 0, "%s", o1.err);
	cr_expect_str_eq(line(o1.out, "pid "), "pid 2 pids [1, 2]");
	cr_expect_str_eq(line(o1.out, "caps "),
			 "caps 0000000000000000 0000000000000000 0000000000000000 0000000000000000");
	cr_expect_str_eq(line(o1.out, "nnp "), "nnp 1 seccomp 2");
	cr_expect_str_eq(line(o1.out, "pid1 "), "pid1 0000000000000020 0000000000000020"); /* CAP_KILL only */
	cr_expect_str_eq(line(o1.out, "uid "), "uid 65534 65534 []");
	cr_expect_str_eq(line(o1.out, "env "), "env ['A', 'OPENBLAS_NUM_THREADS']");
	cr_expect_str_eq(line(o1.out, "cwd "), "cwd /tmp");
	cr_expect_str_eq(line(o1.out, "host "), "host sbx net ['lo']");
	cr_expect_str_eq(line(o1.out, "kill pid 1:"), "kill pid 1: 1"); /* EPERM: pid 1 is not nobody's */
	job(&o2, &p, "iso.py", (const char *const[]){"--seccomp", "unconfined", NULL});
	cr_assert_eq(o2.status, 0, "%s", o2.err);
	cr_expect_str_eq(line(o2.out, "nnp "), "nnp 1 seccomp 0");
	cr_expect_str_eq(line(o2.out, "uid "), "uid 0 0 []");
	cr_expect_str_eq(line(o2.out, "caps "),
			 "caps 0000000000000000 0000000000000000 0000000000000000 0000000000000000");
	/* Two jobs, two sets of namespaces. */
	cr_expect_str_neq(line(o1.out, "ns "), line(o2.out, "ns "));
	h_free(&o1);
	h_free(&o2);
	pool_note_keepers(&p);
	pool_stop(&p);
}

static const char sleep_py[] =
    "import time, sys\nprint('start', flush=True)\ntime.sleep(float(sys.argv[1]))\nprint('end')\n";
static const char hog_py[] = "x = []\nwhile True:\n    x.append(bytearray(16 << 20))\n";
/* 300 ms of CPU in a child of the job that the job leaves running when
 * it ends (an orphan, killed with the job), 100 MiB touched. */
static const char burn_py[] = "import os, time\n"
			      "r, w = os.pipe()\n"
			      "if os.fork() == 0:\n"
			      "    t = time.process_time()\n"
			      "    while time.process_time() - t < 0.3:\n"
			      "        pass\n"
			      "    os.write(w, b'1')\n"
			      "    time.sleep(60)\n"
			      "os.read(r, 1)\n"
			      "b = bytearray(100 << 20)\n"
			      "for i in range(0, len(b), 4096):\n"
			      "    b[i] = 1\n";
static const char kill_py[] = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n";
static const char ok_py[] = "import pandas\nprint(pandas.DataFrame({'a': [1, 2]}).a.sum())\n";

static void expect_zygote_lives(struct pool *p, long long *jobs)
{
	struct sbx_out o;
	job(&o, p, "ok.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "3\n");
	long long n = json_integer_value(json_object_get(pool_obj(&o), "zygote_jobs"));
	/* The job that was ended, then this one: same zygote, two jobs on. */
	cr_expect_eq(n, *jobs + 2, "zygote replaced: %lld jobs before, then %lld", *jobs, n);
	*jobs = n;
	const char *cg = json_string_value(json_object_get(json_object_get(o.report, "cgroup"), "path"));
	cr_expect(cg && access(cg, F_OK) < 0, "the job's cgroup %s is left", cg);
	h_free(&o);
}

/* The scripts of the tests that end jobs: sleep, hog, kill, ok. */
static void write_ending_scripts(struct pool *p)
{
	write_file(p->dir, "sleep.py", sleep_py);
	write_file(p->dir, "hog.py", hog_py);
	write_file(p->dir, "kill.py", kill_py);
	write_file(p->dir, "ok.py", ok_py);
}

Test(pool, timeout_oom_and_kill_end_the_job_only)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_ending_scripts(&p);
	struct sbx_out o;
	job(&o, &p, "ok.py", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	long long jobs = json_integer_value(json_object_get(pool_obj(&o), "zygote_jobs"));
	h_free(&o);

	const char *a[] = {"--pool", p.sock, "--timeout", "1", "--", "python3", "/srv/sleep.py", "60", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 124, "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "timeout");
	cr_expect_str_eq(o.out, "start\n");
	h_free(&o);
	expect_zygote_lives(&p, &jobs);

	job(&o, &p, "hog.py", (const char *const[]){"--memory", "100M", NULL});
	cr_expect_eq(o.status, 137, "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "oom");
	h_free(&o);
	expect_zygote_lives(&p, &jobs);

	job(&o, &p, "kill.py", NULL);
	cr_expect_eq(o.status, 137, "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "signaled");
	h_free(&o);
	expect_zygote_lives(&p, &jobs);
	pool_note_keepers(&p);
	pool_stop(&p);
}

Test(pool, sigkill_of_the_pool_leaves_no_process_and_no_cgroup)
{
	struct pool p;
	pool_start(&p, 2, NULL);
	write_file(p.dir, "ok.py", ok_py);
	struct sbx_out o;
	job(&o, &p, "ok.py", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	h_free(&o);
	pool_note_only_keepers(&p, 2);
	cr_assert_eq(p.n_keepers, 2);
	for (size_t i = 0; i < p.n_keepers; i++)
		cr_assert_gt(h_count_cgroups(p.keepers[i]), 0, "no zygote cgroup to watch");
	kill(p.pid, SIGKILL);
	waitpid(p.pid, NULL, 0);
	running_pool = 0;
	expect_nothing_left(&p);
	h_rmtree(p.dir);
	free(p.dir);
	running_dir = NULL;
}

Test(pool, sigterm_drains_running_jobs)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "sleep.py", sleep_py);
	write_file(p.dir, "ok.py", ok_py);
	struct sbx_out o;
	job(&o, &p, "ok.py", NULL); /* the zygote is up */
	h_free(&o);
	pool_note_keepers(&p);
	pid_t c = fork();
	if (c == 0) {
		const char *a[] = {"--pool", p.sock, "--", "python3", "/srv/sleep.py", "2", NULL};
		struct sbx_out co;
		h_run(&co, 0, 60, a);
		_exit(co.status == 0 && strcmp(co.out, "start\nend\n") == 0 ? 0 : 1);
	}
	usleep(700000);
	kill(p.pid, SIGTERM);
	int st;
	waitpid(c, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the running job did not finish");
	pool_stop(&p);
}

Test(pool, concurrent_clients)
{
	struct pool p;
	pool_start(&p, 2, NULL);
	write_file(p.dir, "id.py",
		   "import sys, pandas\nprint('job', sys.argv[1], pandas.Series([1, 2]).sum())\n");
	enum { N = 8 };
	pid_t kids[N];
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char id[8], want[32];
			snprintf(id, sizeof(id), "%d", i);
			snprintf(want, sizeof(want), "job %d 3\n", i);
			const char *a[] = {"--pool", p.sock, "--", "python3", "/srv/id.py", id, NULL};
			struct sbx_out co;
			h_run(&co, 0, 120, a);
			_exit(co.status == 0 && strcmp(co.out, want) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client %d failed", i);
	}
	pool_note_keepers(&p);
	pool_stop(&p);
}

Test(pool, refuses_what_it_cannot_serve)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "ok.py", ok_py);
	struct sbx_out o;
	const char *sh[] = {"--pool", p.sock, "--", "/bin/sh", "-c", "true", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, sh), 0);
	cr_expect_eq(o.status, 125);
	cr_expect(strstr(o.err, "serves only `python3 SCRIPT"), "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "setup_error");
	h_free(&o);
	const char *opt[] = {"--pool", p.sock, "--", "python3", "-c", "print(1)", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, opt), 0);
	cr_expect_eq(o.status, 125);
	h_free(&o);
	const char *env[] = {"--pool", p.sock,	  "--env",	"PYTHONHASHSEED=1",
			     "--",     "python3", "/srv/ok.py", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, env), 0);
	cr_expect_eq(o.status, 125);
	cr_expect(strstr(o.err, "PYTHONHASHSEED=1"), "%s", o.err);
	h_free(&o);
	const char *none[] = {"--pool", "/nonexistent/pool.sock", "--", "python3", "/srv/ok.py", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, none), 0);
	cr_expect_eq(o.status, 125);
	cr_expect(strstr(o.err, "/nonexistent/pool.sock"), "%s", o.err);
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
}

Test(pool, per_job_binds_and_output_cap)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	char *extra = h_tmpdir();
	write_file(extra, "data.txt", "per-job\n");
	write_file(
	    p.dir, "cat.py",
	    "import os, sys\nprint(open('/extra/data.txt').read(), end='')\nsys.stdout.write('y' * 5000)\n"
	    "try:\n    open('/extra/w', 'w')\nexcept OSError as e:\n    print('\\nro', e.errno)\n");
	char bind[1024];
	snprintf(bind, sizeof(bind), "%s:/extra", extra);
	struct sbx_out o;
	job(&o, &p, "cat.py", (const char *const[]){"--bind", bind, "--output-limit", "100", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strncmp(o.out, "per-job\nyyy", 11) == 0, "%s", o.out);
	cr_expect_eq(strlen(o.out), 100);
	cr_expect(h_rb(o.report, "stdout_truncated"));
	h_free(&o);
	/* The zygote's mount points (/out, --mount-point) are no channel
	 * between jobs that do not mount over them. */
	write_file(p.dir, "drop.py",
		   "for d in ('/extra', '/out'):\n"
		   "    try:\n        open(d + '/dropped', 'w').write('x')\n    except OSError as e:\n"
		   "        print(d, e.errno)\n");
	job(&o, &p, "drop.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	h_free(&o);
	/* Without the bind, /extra is the empty mount point. */
	write_file(p.dir, "ls.py", "import os\nprint(os.listdir('/extra'), os.listdir('/out'))\n");
	job(&o, &p, "ls.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "[] []\n");
	h_free(&o);
	h_rmtree(extra);
	free(extra);
	pool_note_keepers(&p);
	pool_stop(&p);
}

/* What the zygote read for a job would be in the memory of every later job
 * (a fork copies it): the request is read by the forked child only.  The
 * second job scans its own memory for the first job's environment value,
 * given to it XORed so that it never holds the value itself. */
static const char scan_py[] =
    "import random, sys, numpy\n"
    "key = bytes.fromhex(open('/srv/key').read())\n"
    "prefix = b'SBXLEAK='\n"
    "hits = 0\n"
    "mem = open('/proc/self/mem', 'rb', buffering=0)\n"
    "for l in open('/proc/self/maps'):\n"
    "    f = l.split()\n"
    "    if f[1][0] != 'r' or (len(f) > 5 and f[5].startswith('[v')):\n"
    "        continue\n"
    "    a, b = (int(x, 16) for x in f[0].split('-'))\n"
    "    try:\n"
    "        mem.seek(a); region = mem.read(b - a)\n"
    "    except OSError:\n"
    "        continue\n"
    "    i = region.find(prefix)\n"
    "    while i >= 0:\n"
    "        if bytes(c ^ 0x55 for c in region[i + 8:i + 8 + len(key)]) == key: hits += 1\n"
    "        i = region.find(prefix, i + 1)\n"
    "print('hits', hits)\n"
    "print('numpy.random', numpy.random.random())\n";

Test(pool, later_jobs_hold_no_request_data_and_draw_other_random_numbers)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "scan.py", scan_py);
	write_file(p.dir, "ok.py", ok_py);
	char secret[32], env[64], key[80];
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(secret, sizeof(secret), "%08x%04x", rand(), rand() & 0xffff);
	snprintf(env, sizeof(env), "SBXLEAK=%s", secret);
	for (size_t i = 0; secret[i]; i++)
		sprintf(key + 2 * i, "%02x", (unsigned char)secret[i] ^ 0x55);
	write_file(p.dir, "key", key);
	struct sbx_out o;
	for (int i = 0; i < 2; i++) {
		job(&o, &p, "ok.py", (const char *const[]){"--env", env, NULL});
		cr_assert_eq(o.status, 0, "%s", o.err);
		h_free(&o);
	}
	job(&o, &p, "scan.py", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(line(o.out, "hits "), "hits 0");
	char *r1 = line(o.out, "numpy.random ");
	h_free(&o);
	job(&o, &p, "scan.py", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect_str_neq(line(o.out, "numpy.random "), r1,
			  "two jobs drew the same numbers from numpy.random");
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
}

/* A zygote that dies is replaced, and no job is lost to it: jobs sent
 * right after the death go to the other zygote, then the replacement
 * serves (its job count starts again at 0). */
Test(pool, a_dead_zygote_is_replaced_and_loses_no_job)
{
	struct pool p;
	pool_start(&p, 2, NULL);
	write_file(p.dir, "ok.py", ok_py);
	struct sbx_out o;
	/* Until each zygote has served a job: from then on, only a new one
	 * reports zygote_jobs 0. */
	bool served[2] = {false, false};
	for (int i = 0; i < 50 && !(served[0] && served[1]); i++) {
		job(&o, &p, "ok.py", NULL);
		cr_assert_eq(o.status, 0, "%s", o.err);
		long long z = json_integer_value(json_object_get(pool_obj(&o), "zygote"));
		cr_assert(z == 0 || z == 1);
		served[z] = true;
		h_free(&o);
	}
	cr_assert(served[0] && served[1], "one zygote never served");
	pool_note_keepers(&p);
	int zpids[4];
	int n = pool_sandbox_procs(&p, true, zpids, 4);
	cr_assert_eq(n, 2, "%d zygotes", n);
	kill(zpids[1], SIGKILL);
	bool replaced = false;
	for (int i = 0; i < 40 && !replaced; i++) {
		job(&o, &p, "ok.py", NULL);
		cr_expect_eq(o.status, 0, "job %d after the zygote's death: %s", i, o.err);
		cr_expect_str_eq(o.out, "3\n");
		replaced = json_integer_value(json_object_get(pool_obj(&o), "zygote_jobs")) == 0;
		h_free(&o);
		if (!replaced)
			usleep(100000);
	}
	cr_expect(replaced, "no job came from a new zygote");
	pool_note_keepers(&p); /* the replacement's keeper too */
	pool_stop(&p);
}

/* The client is the job's supervisor's only reason to run: killed, its job
 * ends and the job's cgroup goes; SIGTERM to a client reaches the job. */
Test(pool, killed_client_ends_its_job_and_sigterm_reaches_it)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "sleep.py", sleep_py);
	write_file(p.dir, "term.py",
		   "import os, signal, sys, time\n"
		   "signal.signal(signal.SIGTERM, lambda *a: (os.write(1, b'got TERM\\n'), os._exit(7)))\n"
		   "print('start', flush=True)\ntime.sleep(60)\n");
	for (int round = 0; round < 2; round++) {
		int po[2];
		cr_assert(pipe(po) == 0);
		pid_t c = fork();
		if (c == 0) {
			dup2(po[1], 1);
			close(po[0]);
			setpgid(0, 0);
			execl(h_sbx(), "sbx", "run", "--pool", p.sock, "--", "python3",
			      round == 0 ? "/srv/sleep.py" : "/srv/term.py", "60", (char *)NULL);
			_exit(98);
		}
		close(po[1]);
		char buf[256] = {0};
		ssize_t k = read(po[0], buf, sizeof(buf) - 1); /* "start": the job runs */
		cr_assert(k > 0 && strncmp(buf, "start", 5) == 0, "got '%s'", buf);
		if (round == 0) {
			kill(c, SIGKILL);
			waitpid(c, NULL, 0);
			int left = 1;
			for (int i = 0; i < 100 && (left = h_count_procs("/srv/sleep.py")) > 0; i++)
				usleep(100000);
			cr_expect_eq(left, 0, "the job outlived its client");
		} else {
			kill(c, SIGTERM);
			int st;
			waitpid(c, &st, 0);
			size_t got = (size_t)k;
			while (got < sizeof(buf) - 1 &&
			       (k = read(po[0], buf + got, sizeof(buf) - 1 - got)) > 0)
				got += (size_t)k;
			cr_expect(strstr(buf, "got TERM") != NULL, "output: %s", buf);
			cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
		}
		close(po[0]);
	}
	pool_note_keepers(&p);
	pool_stop(&p);
}

/* --pids and --cpus are the job's own: its cgroup's limits. */
Test(pool, pids_and_cpus_limit_the_job)
{
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "forks.py",
		   "import os, time\nkids = []\n"
		   "for i in range(64):\n"
		   "    try:\n        pid = os.fork()\n    except OSError as e:\n        print('forks', i, "
		   "e.errno); break\n"
		   "    if pid == 0:\n        time.sleep(5); os._exit(0)\n"
		   "    kids.append(pid)\nelse:\n    print('forks', 64, 0)\n");
	write_file(p.dir, "burn.py",
		   "import os, time\nt = time.monotonic()\nwhile time.monotonic() - t < 1.5:\n    pass\n"
		   "c = os.times()\nprint('cpu %.2f' % (c.user + c.system))\n");
	struct sbx_out o;
	job(&o, &p, "forks.py", (const char *const[]){"--pids", "10", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	int forks = -1, e = -1;
	cr_assert_eq(sscanf(o.out, "forks %d %d", &forks, &e), 2, "%s", o.out);
	cr_expect(forks < 10 && e == 11, "%d forks under --pids 10, errno %d", forks, e); /* EAGAIN */
	h_free(&o);
	job(&o, &p, "burn.py", (const char *const[]){"--cpus", "0.2", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	double cpu = -1;
	cr_assert_eq(sscanf(o.out, "cpu %lf", &cpu), 1, "%s", o.out);
	cr_expect(cpu < 0.75, "%.2f s of CPU in 1.5 s under --cpus 0.2", cpu);
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
}

/* The address-space layout a job sees is its zygote's (docs/security.md):
 * the same in every job of one zygote; --recycle N bounds how many jobs
 * share it, and loses no job while zygotes are replaced. */
Test(pool, recycle_bounds_the_jobs_sharing_a_layout)
{
	static const char layout_py[] = "import sys, json\nprint(hex(id(json)))\n";
	struct pool p;
	pool_start(&p, 1, NULL);
	write_file(p.dir, "layout.py", layout_py);
	struct sbx_out o;
	char *first = NULL;
	for (int i = 0; i < 3; i++) {
		job(&o, &p, "layout.py", NULL);
		cr_assert_eq(o.status, 0, "%s", o.err);
		if (first == NULL)
			first = strdup(o.out);
		else
			cr_expect_str_eq(o.out, first, "one zygote, two layouts?");
		h_free(&o);
	}
	pool_note_keepers(&p);
	pool_stop(&p);

	pool_start(&p, 2, (const char *const[]){"--recycle", "1", NULL});
	write_file(p.dir, "layout.py", layout_py);
	char *seen[4];
	for (int i = 0; i < 4; i++) {
		job(&o, &p, "layout.py", NULL);
		cr_assert_eq(o.status, 0, "job %d: %s", i, o.err);
		cr_expect_eq(json_integer_value(json_object_get(pool_obj(&o), "zygote_jobs")), 0);
		seen[i] = strdup(o.out);
		for (int j = 0; j < i; j++)
			cr_expect_str_neq(seen[i], seen[j], "jobs %d and %d shared a layout", j, i);
		h_free(&o);
		pool_note_keepers(&p);
	}
	pool_stop(&p);
}

/* A zygote that ends (--recycle) while a job it forked still runs: the job
 * runs to its end; the zygote's sandbox waits for it. */
Test(pool, recycled_zygote_lets_its_running_job_finish)
{
	struct pool p;
	pool_start(&p, 1, (const char *const[]){"--recycle", "1", NULL});
	write_file(p.dir, "sleep.py", sleep_py);
	struct sbx_out o;
	const char *a[] = {"--pool", p.sock, "--", "python3", "/srv/sleep.py", "1.5", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "start\nend\n");
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
}

/* A client hands its stdio and working directory only to a pool of its own
 * user (or root's): a socket another user put at the path gets nothing. */
Test(pool, client_gives_nothing_to_another_users_socket)
{
	char *dir = h_tmpdir();
	running_dir = dir;
	char sock[512];
	snprintf(sock, sizeof(sock), "%s/fake.sock", dir);
	int res[2];
	cr_assert(pipe(res) == 0);
	pid_t fake = fork();
	if (fake == 0) {
		/* nobody's "pool": reports how many descriptors it was sent */
		if (setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(99);
		int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		if (strlen(sock) >= sizeof(a.sun_path))
			_exit(95);
		memcpy(a.sun_path, sock, strlen(sock) + 1);
		if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(sock, 0777) < 0 ||
		    listen(l, 1) < 0)
			_exit(98);
		if (write(res[1], "L", 1) != 1)
			_exit(97);
		int c = accept(l, NULL, NULL);
		char buf[4096];
		union {
			char b[CMSG_SPACE(8 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {
		    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
		ssize_t n = recvmsg(c, &mh, 0);
		char got = n > 0 && mh.msg_controllen > 0 ? 'F' : 'N';
		if (write(res[1], &got, 1) != 1)
			_exit(96);
		_exit(0);
	}
	close(res[1]);
	char ch = 0;
	cr_assert_eq(read(res[0], &ch, 1), 1);
	cr_assert_eq(ch, 'L');
	const char *a[] = {"--pool", sock, "--", "python3", "/srv/x.py", NULL};
	struct sbx_out o;
	cr_assert_eq(h_run(&o, 0, 30, a), 0);
	cr_expect_eq(o.status, 125, "%s", o.err);
	cr_expect(strstr(o.err, "runs as uid 65534"), "%s", o.err);
	h_free(&o);
	kill(fake, SIGTERM); /* still in accept: nothing was sent */
	ch = 0;
	ssize_t k = read(res[0], &ch, 1);
	cr_expect(k == 0 || ch == 'N', "the other user's socket was sent descriptors");
	waitpid(fake, NULL, 0);
	close(res[0]);
	h_rmtree(dir);
	running_dir = NULL;
}

/* ---- cgroup v2 and rootless pools ---- */

static bool pure_v2_host(void)
{
	char buf[256] = "";
	FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "r");
	if (f == NULL)
		return false;
	bool ok = fgets(buf, sizeof(buf), f) && strstr(buf, "memory") && strstr(buf, "pids");
	fclose(f);
	return ok;
}

/* The client of a long job, in the background: its exit says whether the
 * job ran to its end ("start", "end"). */
static pid_t background_sleep(struct pool *p, uid_t uid, const char *seconds)
{
	pid_t c = fork();
	cr_assert_geq(c, 0);
	if (c == 0) {
		const char *a[] = {"--pool", p->sock, "--", "python3", "/srv/sleep.py", seconds, NULL};
		struct sbx_out co;
		h_run(&co, uid, 120, a);
		_exit(co.status == 0 && strcmp(co.out, "start\nend\n") == 0 ? 0 : 1);
	}
	return c;
}

static const char cgroup_py[] = "print('cgroup', open('/proc/self/cgroup').read().split())\n";

/* While another job runs, one job is OOM-killed in its own cgroup, one
 * kills itself and one times out: the other runs to its end, the zygote
 * lives on, the next job is fine.  The job sees only its own cgroup (its
 * cgroup namespace is rooted there). */
Test(pool, oom_kill_and_timeout_while_the_pool_is_busy_end_that_job_only)
{
	struct pool p;
	pool_start(&p, 2, NULL);
	write_ending_scripts(&p);
	write_file(p.dir, "cg.py", cgroup_py);
	struct sbx_out o;
	job(&o, &p, "ok.py", NULL); /* the zygotes are up */
	h_free(&o);
	pid_t busy = background_sleep(&p, 0, "12");
	usleep(300000);
	job(&o, &p, "kill.py", NULL);
	cr_expect_eq(o.status, 137, "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "signaled");
	h_free(&o);
	const char *a[] = {"--pool", p.sock, "--timeout", "1", "--", "python3", "/srv/sleep.py", "30", NULL};
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 124, "%s", o.err);
	h_free(&o);
	job(&o, &p, "hog.py", (const char *const[]){"--memory", "80M", NULL});
	cr_expect_eq(o.status, 137, "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "oom");
	json_t *cg = json_object_get(o.report, "cgroup");
	cr_expect_eq(json_integer_value(json_object_get(cg, "version")), pure_v2_host() ? 2 : 1);
	const char *path = json_string_value(json_object_get(cg, "path"));
	cr_expect(path && access(path, F_OK) < 0, "the job's cgroup %s is left", path ? path : "(null)");
	h_free(&o);
	int st;
	waitpid(busy, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the job running beside the OOM did not finish");
	job(&o, &p, "cg.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	/* v2: "0::/"; v1: every hierarchy at its root ("N:ctrl:/"). */
	cr_expect(strstr(o.out, "cgroup [") && !strstr(o.out, ":/sbx") && strstr(o.out, ":/'"),
		  "the job sees a cgroup path beyond its own: %s", o.out);
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
}

static const char limits_py[] =
    "import os, resource, sys, time\n"
    "R = resource\n"
    "print('nproc', *R.getrlimit(R.RLIMIT_NPROC), 'data', *R.getrlimit(R.RLIMIT_DATA),\n"
    "      'fsize', *R.getrlimit(R.RLIMIT_FSIZE))\n"
    "print('userns', open('/proc/sys/user/max_user_namespaces').read().strip())\n"
    "import ctypes\n"
    "ino = [ctypes.CDLL(None).inotify_init1(0) for i in range(12)]\n"
    "print('inotify', sum(1 for i in ino if i >= 0))\n"
    "n, err = 0, 0\n"
    "for i in range(int(sys.argv[1])):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError as e:\n"
    "        err = e.errno\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(float(sys.argv[2]))\n"
    "        os._exit(0)\n"
    "    n += 1\n"
    "if len(sys.argv) > 3:\n"
    "    open(sys.argv[3], 'w').close()\n"
    "print('forks', n, err, flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n";

/* `sbx run --pool ... -- python3 /srv/limits.py FORKS HOLD [FLAG]` as uid. */
static void limits_job(struct sbx_out *o, uid_t uid, struct pool *p, const char *forks, const char *hold,
		       const char *flag, const char *const *opts)
{
	const char *a[32] = {"--pool", p->sock};
	size_t n = 2;
	for (size_t i = 0; opts && opts[i]; i++)
		a[n++] = opts[i];
	const char *tail[] = {"--", "python3", "/srv/limits.py", forks, hold, flag, NULL};
	for (size_t i = 0; tail[i]; i++)
		a[n++] = tail[i];
	a[n] = NULL;
	cr_assert_eq(h_run_report(o, uid, 120, a), 0);
}

/* Zygotes of a rootless pool run as the caller: none may be left. */
static int nobodys_zygotes(void)
{
	int n = 0;
	DIR *d = opendir("/proc");
	cr_assert(d);
	for (struct dirent *e; (e = readdir(d));) {
		char path[300];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%s", e->d_name);
		if (atoi(e->d_name) > 0 && stat(path, &st) == 0 && st.st_uid == NOBODY && is_zygote(e->d_name))
			n++;
	}
	closedir(d);
	return n;
}

/* A rootless pool where no cgroup can be had (this hybrid host, or a v2
 * host without delegation): each job gets `sbx run`'s rlimit fallback, set
 * in the job itself.  RLIMIT_NPROC counts per user namespace: each job has
 * its own, so a job beside another that holds many processes still gets
 * its whole --pids, and a job's limits never reach the zygote (the next
 * job has the pool's). */
Test(pool, rootless_pool_without_cgroup_gives_each_job_its_rlimits)
{
	h_need_userns_as(NOBODY);
	struct pool p;
	pool_start_as(&p, 1, (const char *const[]){"--allow-no-cgroup", "--pids", "64", NULL}, NOBODY, NULL);
	write_file(p.dir, "limits.py", limits_py);
	write_file(p.dir, "sleep.py", sleep_py);
	char rw[1100], flag[1200], bind[1200];
	snprintf(rw, sizeof(rw), "%s/rw", p.dir);
	snprintf(flag, sizeof(flag), "%s/held", rw);
	snprintf(bind, sizeof(bind), "%s:/extra:rw", rw);
	cr_assert_eq(mkdir(rw, 0777), 0);
	chmod(rw, 0777);
	struct sbx_out o;
	limits_job(&o, NOBODY, &p, "40", "0", NULL, (const char *const[]){"--pids", "8", "--memory", "300M", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "nproc 8 8 data 314572800 314572800 fsize "), "%s", o.out);
	cr_expect(strstr(o.out, "userns 0\n"), "the job may make user namespaces: %s", o.out);
	int forks = -1, e = -1;
	cr_assert(sscanf(strstr(o.out, "forks"), "forks %d %d", &forks, &e) == 2, "%s", o.out);
	cr_expect(forks >= 5 && forks < 8 && e == EAGAIN, "%d forks under --pids 8 (errno %d)", forks, e);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(o.report, "cgroup"), "limits_enforced")),
			 "rlimit");
	cr_expect(strstr(o.err, "sbx: warning: running WITHOUT a cgroup"), "%s", o.err);
	h_free(&o);

	/* Without a cgroup to read, the report still has the job's CPU time
	 * and peak memory (what its pid 1 reaped, as wait4 gives sbx run). */
	write_file(p.dir, "burn.py", burn_py);
	job_as(&o, NOBODY, &p, "burn.py", NULL);
	cr_assert_eq(o.status, 0, "%s", o.err);
	double cpu = h_rd(o.report, "cpu_user_ms") + h_rd(o.report, "cpu_system_ms");
	cr_expect(cpu >= 250, "the report's CPU of a job whose orphan burnt 300 ms: %.1f ms", cpu);
	long long peak = h_ri(o.report, "memory_peak_bytes");
	cr_expect(peak >= 100ll << 20, "the report's peak memory of a job that held 100 MiB: %lld", peak);
	h_free(&o);

	/* One job holds 20 processes; the other, beside it, still forks up
	 * to its own --pids. */
	pid_t holder = fork();
	if (holder == 0) {
		struct sbx_out ho;
		char fl[] = "/extra/held";
		limits_job(&ho, NOBODY, &p, "20", "6", fl, (const char *const[]){"--bind", bind, NULL});
		_exit(ho.status == 0 && strstr(ho.out, "forks 20 0") ? 0 : 1);
	}
	for (int i = 0; i < 600 && access(flag, F_OK) < 0; i++)
		usleep(50000);
	cr_assert(access(flag, F_OK) == 0, "the holding job did not start");
	limits_job(&o, NOBODY, &p, "40", "0", NULL, (const char *const[]){"--pids", "8", NULL});
	cr_expect_eq(o.status, 0, "%s", o.err);
	forks = e = -1;
	cr_assert(strstr(o.out, "forks") && sscanf(strstr(o.out, "forks"), "forks %d %d", &forks, &e) == 2,
		  "%s", o.out);
	cr_expect(forks >= 5 && forks < 8, "%d forks under --pids 8 beside a job of 21 processes", forks);
	cr_expect(strstr(o.out, "inotify 8\n"), "inotify instances beside a job that holds 8: %s", o.out);
	h_free(&o);
	int st;
	waitpid(holder, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the holding job failed");

	/* The pool's own limits again, and a timeout ends only its job. */
	limits_job(&o, NOBODY, &p, "1", "0", NULL, NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "nproc 64 64 "), "a job's --pids reached the next job: %s", o.out);
	h_free(&o);
	const char *a[] = {"--pool", p.sock, "--timeout", "1", "--", "python3", "/srv/sleep.py", "30", NULL};
	cr_assert_eq(h_run_report(&o, NOBODY, 60, a), 0);
	cr_expect_eq(o.status, 124, "%s", o.err);
	h_free(&o);
	limits_job(&o, NOBODY, &p, "1", "0", NULL, NULL);
	cr_expect_eq(o.status, 0, "after the timeout: %s", o.err);
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
	cr_expect_eq(nobodys_zygotes(), 0, "zygotes left");
}

/* A cgroup delegated to NOBODY as the kernel documents it: the directory
 * and its cgroup.procs, cgroup.subtree_control and cgroup.threads. */
static void make_delegated(const char *dir)
{
	cr_assert_eq(mkdir(dir, 0755), 0, "%s: %s", dir, strerror(errno));
	static const char *const files[] = {"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"};
	for (size_t i = 0; i < 4; i++) {
		char f[300];
		snprintf(f, sizeof(f), "%s%s", dir, files[i]);
		cr_assert_eq(chown(f, NOBODY, NOBODY), 0, "chown %s: %s", f, strerror(errno));
	}
}

/* A rootless job over its --memory is OOM-killed in its own v2 cgroup,
 * beneath `deleg`. */
static void expect_oom_in(struct pool *p, const char *deleg)
{
	struct sbx_out o;
	job_as(&o, NOBODY, p, "hog.py", (const char *const[]){"--memory", "80M", NULL});
	cr_expect_eq(o.status, 137, "%s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "oom");
	json_t *cg = json_object_get(o.report, "cgroup");
	cr_expect_eq(json_integer_value(json_object_get(cg, "version")), 2);
	const char *path = json_string_value(json_object_get(cg, "path"));
	cr_expect(path && strncmp(path, deleg, strlen(deleg)) == 0, "job cgroup %s not in %s",
		  path ? path : "(null)", deleg);
	h_free(&o);
}

/* A rootless pool in a delegated cgroup v2 subtree (as docs/cgroups.md
 * describes: the caller's shell in a leaf, --cgroup-parent the subtree):
 * zygotes and jobs get cgroups there, each job its own limits; nothing is
 * left in the subtree afterwards, even after a SIGKILL of the pool. */
Test(pool, rootless_pool_in_a_delegated_v2_subtree)
{
	if (!pure_v2_host())
		cr_skip_test("needs a cgroup v2 hierarchy with controllers (make check-vm runs this)");
	h_need_userns_as(NOBODY);
	char parent[64], deleg[128], shell[160];
	snprintf(parent, sizeof(parent), "/sbxtest-pool-%d", (int)getpid());
	snprintf(deleg, sizeof(deleg), "/sys/fs/cgroup%s", parent);
	snprintf(shell, sizeof(shell), "%s/shell", deleg);
	make_delegated(deleg);
	make_delegated(shell);
	struct pool p;
	pool_start_as(&p, 1, (const char *const[]){"--cgroup-parent", parent, NULL}, NOBODY, shell);
	write_file(p.dir, "hog.py", hog_py);
	write_file(p.dir, "ok.py", ok_py);
	write_file(p.dir, "cg.py", cgroup_py);
	write_file(p.dir, "limits.py", limits_py);
	expect_oom_in(&p, deleg);
	struct sbx_out o;
	limits_job(&o, NOBODY, &p, "40", "0", NULL, (const char *const[]){"--pids", "8", NULL});
	cr_expect_eq(o.status, 0, "%s", o.err);
	int forks = -1, e = -1;
	cr_expect(strstr(o.out, "forks") && sscanf(strstr(o.out, "forks"), "forks %d %d", &forks, &e) == 2 &&
		      forks < 8 && e == EAGAIN,
		  "--pids 8: %s", o.out);
	cr_expect(json_is_true(json_object_get(json_object_get(o.report, "cgroup"), "limits_enforced")));
	h_free(&o);
	job_as(&o, NOBODY, &p, "cg.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.out, "cgroup ['0::/']"), "%s", o.out);
	h_free(&o);
	pool_note_keepers(&p);
	kill(p.pid, SIGKILL);
	waitpid(p.pid, NULL, 0);
	running_pool = 0;
	expect_nothing_left(&p);
	/* Only the shell's leaf is left in the subtree, and it is empty. */
	int left_shell = -1, left = -1;
	for (int i = 0; i < 50 && (left_shell != 0 || left != 0); i++) {
		left_shell = rmdir(shell) == 0 || errno == ENOENT ? 0 : errno;
		left = rmdir(deleg) == 0 ? 0 : errno;
		if (left)
			usleep(100000);
	}
	cr_expect_eq(left_shell, 0, "%s", strerror(left_shell));
	cr_expect_eq(left, 0, "the delegated subtree is not empty after the pool: %s", strerror(left));
	h_rmtree(p.dir);
	free(p.dir);
	running_dir = NULL;
}

/* Alone in a delegated cgroup (as `systemd-run --user --scope -p
 * Delegate=yes` starts it) and without --cgroup-parent: the pool moves into
 * a leaf there, and its zygotes' and jobs' cgroups go beside the leaf; after
 * SIGTERM the cgroup is as it was (empty, its controllers as before). */
Test(pool, rootless_pool_alone_in_a_delegated_v2_cgroup)
{
	if (!pure_v2_host())
		cr_skip_test("needs a cgroup v2 hierarchy with controllers (make check-vm runs this)");
	h_need_userns_as(NOBODY);
	char deleg[128];
	snprintf(deleg, sizeof(deleg), "/sys/fs/cgroup/sbxtest-alone-%d", (int)getpid());
	make_delegated(deleg);
	char before[256] = "", after[256] = "", path[300];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", deleg);
	FILE *f = fopen(path, "r");
	cr_assert(f);
	if (fgets(before, sizeof(before), f) == NULL)
		before[0] = '\0';
	fclose(f);
	struct pool p;
	pool_start_as(&p, 1, NULL, NOBODY, deleg);
	write_file(p.dir, "hog.py", hog_py);
	write_file(p.dir, "ok.py", ok_py);
	expect_oom_in(&p, deleg);
	struct sbx_out o;
	job_as(&o, NOBODY, &p, "ok.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	h_free(&o);
	pool_note_only_keepers(&p, 1);
	pool_stop(&p);
	f = fopen(path, "r");
	cr_assert(f);
	if (fgets(after, sizeof(after), f) == NULL)
		after[0] = '\0';
	fclose(f);
	cr_expect_str_eq(after, before, "the delegated cgroup's controllers changed");
	cr_expect_eq(rmdir(deleg), 0, "the delegated cgroup is not as it was: %s", strerror(errno));
}

/* --preload-path: a zygote imports a module from a directory of its sandbox
 * (here a bind of the pool's); the job has the module, and a sys.path of a
 * fresh interpreter, without that directory. */
Test(pool, preload_path_is_on_sys_path_only_while_preloading)
{
	extra_dir = h_tmpdir();
	write_file(extra_dir, "sbx_preload_probe.py", "import os\nZYGOTE = os.getpid()\n");
	char bind[1024];
	snprintf(bind, sizeof(bind), "%s:/mnt", extra_dir);
	struct pool p;
	pool_start(&p, 1,
		   (const char *const[]){"--bind", bind, "--preload", "pandas,numpy,sbx_preload_probe",
					 "--preload-path", "/mnt", NULL});
	write_file(p.dir, "probe.py",
		   "import sys\nm = sys.modules.get('sbx_preload_probe')\n"
		   "print(m and m.__file__, '/mnt' in sys.path, '/mnt' in sys.path_importer_cache)\n");
	struct sbx_out o;
	job(&o, &p, "probe.py", NULL);
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "/mnt/sbx_preload_probe.py False False\n");
	h_free(&o);
	pool_note_keepers(&p);
	pool_stop(&p);
}
