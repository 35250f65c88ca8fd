/* The JSON report (docs/report.md): every documented key with its type,
 * hostile text escaped, and what writing it leaves on the host. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "runtime/result.h"

static json_t *parse(const struct sbx_result *r)
{
	char *s = sbx_report_json(r);
	json_error_t e;
	json_t *o = json_loads(s, 0, &e);
	cr_assert_not_null(o, "report is not JSON (%s): %s", e.text, s);
	free(s);
	return o;
}

static void expect_type(json_t *o, const char *key, json_type t)
{
	json_t *v = json_object_get(o, key);
	cr_expect_not_null(v, "key %s missing", key);
	if (v)
		cr_expect_eq(json_typeof(v), t, "key %s has type %d, want %d", key, json_typeof(v), t);
}

Test(report, every_documented_key_with_its_type)
{
	struct sbx_result r;
	sbx_result_init(&r);
	r.status = SBX_STATUS_EXITED;
	r.exit_code = 3;
	r.wall_ms = 12.5;
	r.memory_peak_bytes = 1ull << 33; /* beyond 32 bits */
	r.pids_peak = 7;
	r.stdout_bytes = 10;
	r.stdout_truncated = true;
	r.denials = sbx_xcalloc(1, sizeof(*r.denials));
	r.denials[0] = (struct sbx_denial){.syscall = sbx_xstrdup("mount"), .count = 2};
	r.n_denials = 1;
	for (int p = 0; p < SBX_P_COUNT; p++)
		r.phases_us[p] = 100 + (uint64_t)p;
	r.cgroup_version = 1;
	r.cgroup_path = sbx_xstrdup("/sys/fs/cgroup/memory/sbx-1-0");
	r.limits_enforced = true;
	r.out_files = 2;
	r.out_bytes = 5;
	r.out_skipped = sbx_xcalloc(1, sizeof(char *));
	r.out_skipped[0] = sbx_xstrdup("link");
	r.n_out_skipped = 1;
	json_t *o = parse(&r);

	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "exited");
	cr_expect_eq(json_integer_value(json_object_get(o, "exit_code")), 3);
	cr_expect(json_is_null(json_object_get(o, "signal")));
	cr_expect_eq(json_integer_value(json_object_get(o, "memory_peak_bytes")), 1ll << 33);
	expect_type(o, "wall_ms", JSON_REAL);
	expect_type(o, "cpu_user_ms", JSON_REAL);
	expect_type(o, "cpu_system_ms", JSON_REAL);
	expect_type(o, "pids_peak", JSON_INTEGER);
	expect_type(o, "oom_killed", JSON_FALSE);
	expect_type(o, "timed_out", JSON_FALSE);
	expect_type(o, "stdout_bytes", JSON_INTEGER);
	expect_type(o, "stderr_bytes", JSON_INTEGER);
	expect_type(o, "stdout_truncated", JSON_TRUE);
	expect_type(o, "stderr_truncated", JSON_FALSE);
	expect_type(o, "error", JSON_NULL);
	expect_type(o, "sbx_version", JSON_STRING);

	json_t *den = json_object_get(o, "seccomp_denials");
	cr_assert(json_is_array(den) && json_array_size(den) == 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(den, 0), "syscall")), "mount");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(den, 0), "count")), 2);

	/* The phases the contract names, each an integer (µs). */
	json_t *ph = json_object_get(o, "phases_us");
	static const char *const phases[] = {"config", "seccomp_compile", "cgroup", "clone", "idmap",
					     "mounts", "exec", "teardown"};
	for (size_t i = 0; i < sizeof(phases) / sizeof(*phases); i++)
		expect_type(ph, phases[i], JSON_INTEGER);
	cr_expect_eq(json_object_size(ph), SBX_P_COUNT);

	json_t *cg = json_object_get(o, "cgroup");
	cr_expect_eq(json_integer_value(json_object_get(cg, "version")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(cg, "path")), "/sys/fs/cgroup/memory/sbx-1-0");
	expect_type(cg, "limits_enforced", JSON_TRUE);

	json_t *out = json_object_get(o, "out");
	cr_expect_eq(json_integer_value(json_object_get(out, "files")), 2);
	cr_expect_eq(json_integer_value(json_object_get(out, "bytes")), 5);
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(out, "skipped"), 0)), "link");
	json_decref(o);
	sbx_result_free(&r);
}

Test(report, exit_code_is_null_when_nothing_exited)
{
	struct sbx_result r;
	sbx_result_init(&r);
	json_t *o = parse(&r); /* a fresh result is a setup error: 125 */
	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "setup_error");
	cr_expect_eq(json_integer_value(json_object_get(o, "exit_code")), 125);
	json_decref(o);
	r.status = SBX_STATUS_SIGNALED;
	r.signal = 9;
	r.exit_code = 137;
	o = parse(&r);
	cr_expect(json_is_null(json_object_get(o, "exit_code")));
	cr_expect_eq(json_integer_value(json_object_get(o, "signal")), 9);
	json_decref(o);
	r.status = SBX_STATUS_TIMEOUT;
	r.timed_out = true;
	o = parse(&r);
	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "timeout");
	cr_expect(json_is_null(json_object_get(o, "exit_code")));
	expect_type(o, "timed_out", JSON_TRUE);
	json_decref(o);
	sbx_result_free(&r);
}

/* Error chains carry text a workload or an image chose (paths, names):
 * quotes, newlines and control bytes must come out escaped, never break the
 * object or add keys. */
Test(report, hostile_text_is_escaped)
{
	struct sbx_result r;
	sbx_result_init(&r);
	const char *evil = "x\", \"status\": \"exited\"}\n\x01\t\\";
	r.error = sbx_xstrdup(evil);
	r.denials = sbx_xcalloc(1, sizeof(*r.denials));
	r.denials[0] = (struct sbx_denial){.syscall = sbx_xstrdup("a\"b"), .count = 1};
	r.n_denials = 1;
	char *s = sbx_report_json(&r);
	cr_expect_null(strchr(s, '\n'), "one line: %s", s);
	json_t *o = json_loads(s, 0, NULL);
	cr_assert_not_null(o, "%s", s);
	/* Control bytes and the backslash as \xHH (docs/report.md), quotes as
	 * JSON escapes: the decoded string is the escaped text. */
	cr_expect_str_eq(json_string_value(json_object_get(o, "error")),
			 "x\", \"status\": \"exited\"}\\x0A\\x01\\x09\\x5C");
	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "setup_error");
	free(s);
	json_decref(o);
	sbx_result_free(&r);
}

static char *tmpdir(void)
{
	char *d = sbx_xstrdup("/tmp/sbx-test-report-XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	return d;
}

static void rm_dir(char *d, const char *const *names)
{
	for (; *names; names++) {
		char *p = sbx_xasprintf("%s/%s", d, *names);
		unlink(p);
		free(p);
	}
	cr_expect_eq(rmdir(d), 0, "%s not empty: something was left behind", d);
	free(d);
}

/* On the host: one regular 0644 file ending in a newline, no temporary file
 * left, and a symlink planted at the report's path is replaced, not
 * followed. */
Test(report, write_replaces_a_symlink_and_leaves_nothing_else)
{
	char *d = tmpdir();
	char *victim = sbx_xasprintf("%s/victim", d), *path = sbx_xasprintf("%s/report.json", d);
	FILE *f = fopen(victim, "w");
	cr_assert_not_null(f);
	fputs("keep", f);
	fclose(f);
	cr_assert_eq(symlink(victim, path), 0);
	struct sbx_result r;
	sbx_result_init(&r);
	umask(022);
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_report_write(&r, path, &err), 0, "%s", err ? err->msg : "");
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect(S_ISREG(st.st_mode), "the report is not a regular file");
	cr_expect_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
	char buf[4096] = "";
	f = fopen(path, "r");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	cr_expect(n > 0 && buf[n - 1] == '\n' && buf[0] == '{');
	f = fopen(victim, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_expect_str_eq(buf, "keep", "the symlink's target was written");
	sbx_result_free(&r);
	rm_dir(d, (const char *const[]){"victim", "report.json", NULL});
	free(victim);
	free(path);
}

Test(report, unwritable_place_is_an_error_naming_it)
{
	struct sbx_result r;
	sbx_result_init(&r);
	struct sbx_error *err = NULL;
	cr_assert_lt(sbx_report_write(&r, "/nonexistent-sbx-dir/report.json", &err), 0);
	cr_expect_str_eq(err->msg, "writing report /nonexistent-sbx-dir/report.json: No such file or directory");
	cr_expect_eq(err->errno_, ENOENT);
	sbx_error_free(&err);
	cr_expect_lt(sbx_report_check("/nonexistent-sbx-dir/report.json", &err), 0);
	cr_expect(err && strstr(err->msg, "--report /nonexistent-sbx-dir/report.json") != NULL);
	sbx_error_free(&err);
	sbx_result_free(&r);
}

/* A path from an image or a bind mount need not be UTF-8; JSON strings must
 * be.  The report keeps the key (the bytes replaced), never drops it. */
Test(report, text_that_is_not_utf8_keeps_its_key)
{
	struct sbx_result r;
	sbx_result_init(&r);
	r.error = sbx_xstrdup("bind /data/\xff\xfe: No such file or directory");
	r.denials = sbx_xcalloc(1, sizeof(*r.denials));
	r.denials[0] = (struct sbx_denial){.syscall = sbx_xstrdup("x\xc3"), .count = 1};
	r.n_denials = 1;
	json_t *o = parse(&r);
	const char *e = json_string_value(json_object_get(o, "error"));
	cr_assert_not_null(e, "error key dropped");
	cr_expect(strncmp(e, "bind /data/", 11) == 0 && strstr(e, ": No such file or directory"), "%s", e);
	json_t *d = json_array_get(json_object_get(o, "seccomp_denials"), 0);
	cr_expect_not_null(json_string_value(json_object_get(d, "syscall")), "syscall key dropped");
	json_decref(o);
	sbx_result_free(&r);
}
