/* Helpers for integration tests: run the real sbx binary on the test rootfs
 * and look at what it printed, its exit status and its JSON report. */
#ifndef SBX_TEST_HARNESS_H
#define SBX_TEST_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define PROBE "/usr/local/bin/sbx-probe"
#define NOBODY 65534

struct sbx_out {
	int status;  /* exit code of sbx, or 128+N if it died of signal N */
	pid_t pid;   /* sbx's pid (names its cgroups: sbx-PID-...) */
	char *out;   /* everything sbx wrote to stdout */
	char *err;   /* ... and stderr */
	json_t *report; /* parsed --report, when the run asked for one (see h_run_report) */
};

/* build/sbx (or $SBX_BUILD/sbx, or $SBX_TEST_BINARY) and build/rootfs, as
 * absolute paths. */
const char *h_sbx(void);
const char *h_rootfs(void);
const char *h_build(void);

/* Run sbx with the given arguments (NULL-terminated, without "sbx"), as
 * `uid` (0 = as we are; NOBODY = an unprivileged user), killing it after
 * `timeout_s` seconds.  Returns 0, or -1 if it could not be started. */
int h_run(struct sbx_out *o, uid_t uid, int timeout_s, const char *const *args);
/* When > 0, sbx is started with RLIMIT_NOFILE set to this. */
extern int h_nofile_limit;
/* Same, with "--report FILE" added first and the report parsed into o->report. */
int h_run_report(struct sbx_out *o, uid_t uid, int timeout_s, const char *const *args);
void h_free(struct sbx_out *o);

/* Skip the current test (with the reason printed) when the host cannot
 * run it. */
void h_need_fixture(void);
void h_need_root(void);
void h_need_userns_as(uid_t uid);

/* A fresh temporary directory (world-accessible, so NOBODY can use it),
 * removed with h_rmtree. */
char *h_tmpdir(void);
void h_rmtree(const char *path);

/* Count processes on the host whose command line contains `needle`. */
int h_count_procs(const char *needle);
/* Count directories named sbx-* under /sys/fs/cgroup created by `pid`
 * (0 = any). */
int h_count_cgroups(pid_t pid);
/* Whether the cgroup sbx run would get here has a pids.peak counter (Linux
 * 6.1+), found by making such a cgroup with the library and removing it.
 * When not, `why` says so; a test then skips the check instead of passing
 * on a report that can only say 0. */
bool h_pids_peak_known(char *why, size_t len);

/* Report accessors (abort the test when the key is missing). */
const char *h_rs(json_t *report, const char *key);
long long h_ri(json_t *report, const char *key);
bool h_rb(json_t *report, const char *key);
double h_rd(json_t *report, const char *key); /* a number, -1 when not one */

#endif
