/* The JSON report (schema in docs/report.md), written with jansson so that
 * any text the workload influenced (error messages, syscall names) is
 * escaped correctly. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "lib/strv.h"
#include "result.h"
#include "version.h"

/* A skipped path longer than this (escaped) is shortened: 64 entries of
 * nested 255-byte names would otherwise make a report of megabytes. */
#define SBX_REPORT_PATH_MAX 512

void sbx_result_init(struct sbx_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = SBX_STATUS_SETUP_ERROR;
	r->exit_code = 125;
}

void sbx_result_free(struct sbx_result *r)
{
	for (size_t i = 0; i < r->n_denials; i++)
		free(r->denials[i].syscall);
	free(r->denials);
	for (size_t i = 0; i < r->n_out_skipped; i++)
		free(r->out_skipped[i]);
	free(r->out_skipped);
	free(r->cgroup_path);
	free(r->error);
	sbx_strv_free(r->warnings);
	memset(r, 0, sizeof(*r));
}

void sbx_result_warn(struct sbx_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *w = NULL;
	if (vasprintf(&w, fmt, ap) < 0)
		w = NULL;
	va_end(ap);
	sbx_check_alloc(w, "a warning");
	sbx_strv_push(&r->warnings, &r->n_warnings, w);
}

const char *sbx_status_name(enum sbx_status s)
{
	switch (s) {
	case SBX_STATUS_EXITED: return "exited";
	case SBX_STATUS_SIGNALED: return "signaled";
	case SBX_STATUS_TIMEOUT: return "timeout";
	case SBX_STATUS_OOM: return "oom";
	case SBX_STATUS_SETUP_ERROR: return "setup_error";
	}
	return "unknown";
}

const char *sbx_phase_name(enum sbx_phase p)
{
	static const char *const names[SBX_P_COUNT] = {
		[SBX_P_CONFIG] = "config", [SBX_P_SECCOMP_COMPILE] = "seccomp_compile",
		[SBX_P_CGROUP] = "cgroup", [SBX_P_CLONE] = "clone",
		[SBX_P_IDMAP] = "idmap",   [SBX_P_MOUNTS] = "mounts",
		[SBX_P_NET] = "net",       [SBX_P_EXEC] = "exec",
		[SBX_P_TEARDOWN] = "teardown",
	};
	return p < SBX_P_COUNT ? names[p] : "unknown";
}

/* Every string that did not come from sbx itself goes through sbx_escape
 * (runtime/escape.h): jansson refuses text that is not UTF-8
 * (json_string returns NULL and the key would silently be missing), and
 * the report is read by people too. */
static json_t *text(const char *s, size_t max)
{
	cleanup_free char *e = sbx_escape_max(s, max);
	json_t *j = json_string(e);
	if (j == NULL)
		abort(); /* sbx_escape's output is always UTF-8 */
	return j;
}

static json_t *str_or_null(const char *s) { return s ? text(s, (size_t)-1) : json_null(); }

char *sbx_report_json(const struct sbx_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(sbx_status_name(r->status)));
	bool ran = r->status == SBX_STATUS_EXITED;
	json_object_set_new(o, "exit_code", ran || r->status == SBX_STATUS_SETUP_ERROR ? json_integer(r->exit_code)
										       : json_null());
	json_object_set_new(o, "signal", r->signal ? json_integer(r->signal) : json_null());
	json_object_set_new(o, "wall_ms", json_real(r->wall_ms));
	json_object_set_new(o, "cpu_user_ms", json_real(r->cpu_user_ms));
	json_object_set_new(o, "cpu_system_ms", json_real(r->cpu_system_ms));
	json_object_set_new(o, "memory_peak_bytes", json_integer((json_int_t)r->memory_peak_bytes));
	json_object_set_new(o, "pids_peak", json_integer((json_int_t)r->pids_peak));
	json_object_set_new(o, "oom_killed", json_boolean(r->oom_killed));
	json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)r->stdout_bytes));
	json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)r->stderr_bytes));
	json_object_set_new(o, "stdout_truncated", json_boolean(r->stdout_truncated));
	json_object_set_new(o, "stderr_truncated", json_boolean(r->stderr_truncated));
	json_t *den = json_array();
	for (size_t i = 0; i < r->n_denials; i++) {
		json_t *d = json_object();
		json_object_set_new(d, "syscall", text(r->denials[i].syscall, (size_t)-1));
		json_object_set_new(d, "count", json_integer((json_int_t)r->denials[i].count));
		json_array_append_new(den, d);
	}
	json_object_set_new(o, "seccomp_denials", den);
	json_t *ph = json_object();
	for (int p = 0; p < SBX_P_COUNT; p++)
		json_object_set_new(ph, sbx_phase_name((enum sbx_phase)p), json_integer((json_int_t)r->phases_us[p]));
	json_object_set_new(o, "phases_us", ph);
	json_t *cg = json_object();
	json_object_set_new(cg, "version", json_integer(r->cgroup_version));
	json_object_set_new(cg, "path", str_or_null(r->cgroup_path));
	json_object_set_new(cg, "limits_enforced", r->limits_enforced ? json_true()
						   : r->limits_rlimit  ? json_string("rlimit")
								       : json_false());
	json_object_set_new(o, "cgroup", cg);
	json_t *out = json_object();
	json_object_set_new(out, "files", json_integer((json_int_t)r->out_files));
	json_object_set_new(out, "bytes", json_integer((json_int_t)r->out_bytes));
	json_t *sk = json_array();
	for (size_t i = 0; i < r->n_out_skipped; i++)
		json_array_append_new(sk, text(r->out_skipped[i], SBX_REPORT_PATH_MAX));
	json_object_set_new(out, "skipped", sk);
	json_object_set_new(out, "skipped_count", json_integer((json_int_t)r->out_skipped_count));
	json_object_set_new(out, "limit_bytes", json_integer((json_int_t)r->out_limit_bytes));
	json_object_set_new(out, "cut_files", json_integer((json_int_t)r->out_cut_files));
	json_object_set_new(out, "cut_bytes", json_integer((json_int_t)r->out_cut_bytes));
	json_object_set_new(out, "deadline_hit", json_boolean(r->out_deadline_hit));
	json_object_set_new(o, "out", out);
	json_object_set_new(o, "error", str_or_null(r->error));
	json_t *w = json_array();
	for (size_t i = 0; i < r->n_warnings; i++)
		json_array_append_new(w, text(r->warnings[i], (size_t)-1));
	json_object_set_new(o, "warnings", w);
	if (r->pool) {
		json_t *p = json_object();
		json_object_set_new(p, "wait_ms", json_real(r->pool_wait_ms));
		json_object_set_new(p, "acquire_ms", json_real(r->pool_acquire_ms));
		json_object_set_new(p, "zygote", json_integer(r->pool_zygote));
		json_object_set_new(p, "zygote_jobs", json_integer((json_int_t)r->pool_zygote_jobs));
		json_object_set_new(o, "pool", p);
	}
	json_object_set_new(o, "sbx_version", json_string(SBX_VERSION));
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	sbx_check_alloc(s, "json_dumps");
	return s;
}

int sbx_report_write(const struct sbx_result *r, const char *path, struct sbx_error **err)
{
	cleanup_free char *s = sbx_report_json(r);
	size_t len = strlen(s);
	/* Written beside the target and renamed, so a reader never sees half a
	 * report.  O_NOFOLLOW|O_EXCL on the temporary name. */
	cleanup_free char *tmp = NULL;
	tmp = sbx_xasprintf("%s.tmp.%d", path, (int)getpid());
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_error_set(err, errno, "writing report %s", path);
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		int e = errno;
		unlink(tmp);
		return sbx_error_set(err, e, "writing report %s", path);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sbx_error_set(err, e, "writing report %s", path);
	}
	return 0;
}

int sbx_report_check(const char *path, struct sbx_error **err)
{
	if (strcmp(path, "-") == 0)
		return 0;
	cleanup_free char *tmp = NULL;
	tmp = sbx_xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_error_set(err, errno, "--report %s", path);
	close(fd);
	unlink(tmp);
	return 0;
}
