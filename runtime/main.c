/* sbx: the command-line front end.  Everything it does is in the library;
 * this file reads arguments, runs, reports and picks the exit status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/cli.h"
#include "runtime/cli.h"
#include "lib/clock.h"
#include "runtime/escape.h"
#include "runtime/pool.h"
#include "runtime/result.h"
#include "runtime/run.h"
#include "runtime/version.h"
#include "seccomp/seccomp.h"
#include "lib/alloc.h"

static const char usage[] = "Usage: sbx COMMAND [OPTIONS]\n"
			    "\n"
			    "Commands:\n"
			    "  run [OPTIONS] [--] COMMAND [ARG...]   run COMMAND in a new sandbox\n"
			    "  run --pool PATH [OPTIONS] -- python3 SCRIPT [ARG...]\n"
			    "                                       the same, forked from a warm pool\n"
			    "  pool --socket PATH --rootfs DIR ...  serve a warm pool of Python interpreters\n"
			    "  seccomp check FILE                   validate a seccomp profile\n"
			    "  seccomp export FILE|default --pfc|--bpf  print what a profile compiles to\n"
			    "  version                              print the version\n"
			    "  create|start|state|kill|delete|run --bundle|features|spec\n"
			    "                                       OCI runtime mode, runc's command line (sbx --help-oci)\n"
			    "\n"
			    "See 'sbx run --help' and sbx(1).\n";

/* What the library collected, shown: warnings, the error, the report. */
static int finish(struct sbx_result *r, const char *report)
{
	/* Warnings and errors can carry names from the sandbox: never raw
	 * bytes to the caller's terminal. */
	for (size_t i = 0; i < r->n_warnings; i++) {
		char *msg = sbx_escape(r->warnings[i]);
		fprintf(stderr, "sbx: warning: %s\n", msg);
		free(msg);
	}
	if (r->error) {
		char *msg = sbx_escape(r->error);
		fprintf(stderr, "sbx: %s\n", msg);
		free(msg);
	}
	if (report && strcmp(report, "-") == 0) {
		char *json = sbx_report_json(r);
		fprintf(stderr, "%s\n", json);
		free(json);
	} else if (report) {
		struct sbx_error *err = NULL;
		if (sbx_report_write(r, report, &err) < 0) {
			fprintf(stderr, "sbx: %s\n", err->msg);
			sbx_error_free(&err);
			if (r->exit_code == 0)
				r->exit_code = 125;
		}
	}
	int code = r->exit_code;
	sbx_result_free(r);
	return code;
}

static int cmd_run(int argc, char **argv)
{
	uint64_t t0 = sbx_now_ns();
	struct sbx_config c;
	struct sbx_result r;
	struct sbx_error *err = NULL;
	sbx_config_init(&c);
	sbx_result_init(&r);
	int p = sbx_cli_parse_run(argc, argv, &c, &err);
	if (p == 1) {
		fputs(sbx_run_usage, stdout);
		sbx_config_free(&c);
		return 0;
	}
	if (p < 0 || sbx_config_apply_image(&c, &err) < 0 || sbx_config_validate(&c, &err) < 0) {
		r.error = sbx_xstrdup(err->msg);
		sbx_error_free(&err);
		int code = finish(&r, c.report);
		sbx_config_free(&c);
		return code;
	}
	/* An unwritable report path is found now, before anything runs. */
	if (c.report && sbx_report_check(c.report, &err) < 0) {
		r.error = sbx_xstrdup(err->msg);
		sbx_error_free(&err);
		int code = finish(&r, NULL);
		sbx_config_free(&c);
		return code;
	}
	r.phases_us[SBX_P_CONFIG] = (sbx_now_ns() - t0) / 1000;
	/* The supervisor must outlive a broken stdout pipe to report. */
	signal(SIGPIPE, SIG_IGN);
	sbx_run(&c, &r);
	int code = finish(&r, c.report);
	sbx_config_free(&c);
	return code;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 125;
	}
	const char *cmd = argv[1];
	if (sbx_oci_is_command(argc, argv))
		return sbx_oci_main(argc, argv);
	if (strcmp(cmd, "run") == 0)
		return sbx_pool_requested(argc - 1, argv + 1) ? sbx_pool_client_main(argc - 1, argv + 1)
							       : cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "pool") == 0) {
		signal(SIGPIPE, SIG_IGN);
		return sbx_pool_main(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "seccomp") == 0) {
		if (argc < 3) {
			fputs("Usage: sbx seccomp check FILE | sbx seccomp export FILE|default --pfc|--bpf\n", stderr);
			return 2;
		}
		return sbx_seccomp_cli(argc - 2, argv + 2);
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sbx %s\n", SBX_VERSION);
		return 0;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "sbx: unknown command '%s'\n%s", cmd, usage);
	return 125;
}
