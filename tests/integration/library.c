/* The runtime as a library (what a pool or an OCI front end builds on):
 * sbx_run prints nothing — warnings and errors land in the result — and
 * leaves the caller's signal mask as it found it. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "runtime/config.h"
#include "runtime/result.h"
#include "runtime/run.h"

static void setup(void) { h_need_fixture(); }

TestSuite(library, .init = setup, .timeout = 60);

/* Runs `argv` with sbx_run in this process, with fds 1 and 2 pointed at a
 * file; returns what landed there. */
static char *run_quietly(struct sbx_config *c, struct sbx_result *r)
{
	char path[] = "/tmp/sbx-test-lib-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	int saved1 = dup(1), saved2 = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_config_validate(c, &err), 0, "%s", err ? err->msg : "");
	sbx_run(c, r);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	static char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static void config(struct sbx_config *c, const char *const *argv)
{
	sbx_config_init(c);
	c->rootfs = strdup(h_rootfs());
	size_t n = 0;
	while (argv[n])
		n++;
	c->argv = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		c->argv[i] = strdup(argv[i]);
}

Test(library, run_prints_nothing_and_keeps_the_signal_mask)
{
	sigset_t before, after;
	sigemptyset(&before);
	sigaddset(&before, SIGUSR1);
	sigaddset(&before, SIGTERM);
	sigprocmask(SIG_SETMASK, &before, NULL);
	struct sbx_config c;
	config(&c, (const char *const[]){ PROBE, "exit", "3", NULL });
	struct sbx_result r;
	sbx_result_init(&r);
	char *printed = run_quietly(&c, &r);
	cr_expect_eq(r.exit_code, 3, "error: %s", r.error ? r.error : "");
	cr_expect_str_eq(printed, "", "the library printed: %s", printed);
	sigprocmask(SIG_SETMASK, NULL, &after);
	for (int sig = 1; sig < NSIG; sig++)
		cr_expect_eq(sigismember(&after, sig), sigismember(&before, sig), "signal %d's mask changed", sig);
	sbx_result_free(&r);
	sbx_config_free(&c);
}

Test(library, warnings_go_into_the_result_and_the_report)
{
	struct sbx_config c;
	config(&c, (const char *const[]){ PROBE, "exit", "0", NULL });
	c.allow_no_cgroup = true;
	c.cgroup_parent = strdup("/sbx-test-missing/../sbx-test-missing");
	struct sbx_result r;
	sbx_result_init(&r);
	char *printed = run_quietly(&c, &r);
	cr_expect_eq(r.exit_code, 0, "error: %s", r.error ? r.error : "");
	cr_expect_str_eq(printed, "", "the library printed: %s", printed);
	cr_assert_eq(r.n_warnings, 1);
	cr_expect(strstr(r.warnings[0], "running WITHOUT a cgroup") != NULL, "%s", r.warnings[0]);
	char *json = sbx_report_json(&r);
	json_t *o = json_loads(json, 0, NULL);
	cr_assert_not_null(o);
	json_t *w = json_object_get(o, "warnings");
	cr_assert(json_is_array(w) && json_array_size(w) == 1, "%s", json);
	cr_expect(strstr(json_string_value(json_array_get(w, 0)), "running WITHOUT a cgroup") != NULL);
	json_decref(o);
	free(json);
	sbx_result_free(&r);
	sbx_config_free(&c);
}

Test(library, warnings_key_is_always_there)
{
	struct sbx_result r;
	sbx_result_init(&r);
	char *json = sbx_report_json(&r);
	json_t *o = json_loads(json, 0, NULL);
	cr_expect(json_is_array(json_object_get(o, "warnings")), "%s", json);
	json_decref(o);
	free(json);
	sbx_result_free(&r);
}
