/* What one run produced: filled by the supervisor, written as the JSON
 * report (docs/report.md) and turned into sbx's exit status. */
#ifndef SBX_RESULT_H
#define SBX_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

enum sbx_status {
	SBX_STATUS_EXITED,
	SBX_STATUS_SIGNALED,
	SBX_STATUS_TIMEOUT,
	SBX_STATUS_OOM,
	SBX_STATUS_SETUP_ERROR,
};

enum sbx_phase {
	SBX_P_CONFIG,
	SBX_P_SECCOMP_COMPILE,
	SBX_P_CGROUP,
	SBX_P_CLONE,
	SBX_P_IDMAP,
	SBX_P_MOUNTS,
	SBX_P_NET,
	SBX_P_EXEC,
	SBX_P_TEARDOWN,
	SBX_P_COUNT,
};

struct sbx_denial {
	char *syscall;
	uint64_t count;
};

struct sbx_result {
	enum sbx_status status;
	int exit_code;   /* sbx's own exit status */
	int signal;      /* 0 = none */
	double wall_ms;  /* from clone to the sandbox's end */
	double cpu_user_ms, cpu_system_ms;
	uint64_t memory_peak_bytes, pids_peak;
	bool oom_killed, timed_out;
	uint64_t stdout_bytes, stderr_bytes; /* what the workload wrote */
	bool stdout_truncated, stderr_truncated;
	struct sbx_denial *denials;
	size_t n_denials;
	uint64_t phases_us[SBX_P_COUNT];
	int cgroup_version; /* 0 = none */
	char *cgroup_path;
	bool limits_enforced; /* by the cgroup */
	bool limits_rlimit;   /* no cgroup: by rlimits only (report: "rlimit") */
	char *error; /* setup error chain, or an exec failure */
	char **warnings; /* what did not stop the run; NULL-terminated (sbx_result_warn) */
	size_t n_warnings;
	/* /out copy-out (runtime/outcopy.c) */
	uint64_t out_files, out_bytes; /* bytes: apparent sizes, charged against the cap */
	uint64_t out_limit_bytes;      /* the cap: the /out size */
	char **out_skipped;            /* raw paths not copied, the first SBX_OUT_SKIPPED_MAX */
	size_t n_out_skipped;
	uint64_t out_skipped_count;    /* every path not copied, listed or not */
	uint64_t out_cut_files, out_cut_bytes; /* files left out by the cap, and their sizes */
	bool out_deadline_hit;         /* the copy stopped at its deadline */
	/* Warm pool (runtime/pool_job.c); the report's "pool" object when `pool` */
	bool pool;
	double pool_wait_ms;    /* the request waiting for a ready zygote */
	double pool_acquire_ms; /* request sent to a zygote -> the job's pid 1 running */
	int pool_zygote;        /* which zygote forked the job */
	uint64_t pool_zygote_jobs; /* jobs that zygote had forked before this one */
};

/* Paths listed by name in the report's out.skipped; the rest are counted. */
#define SBX_OUT_SKIPPED_MAX 64

void sbx_result_init(struct sbx_result *r);
void sbx_result_free(struct sbx_result *r);
const char *sbx_status_name(enum sbx_status s);
/* Add a warning: the library never prints; front ends show r->warnings. */
void sbx_result_warn(struct sbx_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sbx_phase_name(enum sbx_phase p);

/* Write the report as one JSON object to the file `path` (the caller
 * handles "-": sbx_report_json gives the text). */
int sbx_report_write(const struct sbx_result *r, const char *path, struct sbx_error **err);
/* Check that a report can be written at `path` (creates and removes a
 * temporary file beside it). */
int sbx_report_check(const char *path, struct sbx_error **err);
/* The report as a malloc'd JSON string. */
char *sbx_report_json(const struct sbx_result *r);

#endif
