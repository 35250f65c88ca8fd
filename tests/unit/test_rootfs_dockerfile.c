/* The Dockerfile subset parser of sbx-rootfs build. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rootfs-builder/dockerfile.h"
#include "lib/strv.h"

static struct df_file parse_ok(const char *text)
{
	struct df_file f;
	struct sbx_error *err = NULL;
	cr_assert_eq(df_parse(text, "Dockerfile", &f, &err), 0, "%s", err ? err->msg : "");
	return f;
}

static void parse_bad(const char *text, const char *want)
{
	struct df_file f;
	struct sbx_error *err = NULL;
	cr_assert_lt(df_parse(text, "Dockerfile", &f, &err), 0, "accepted: %s", text);
	cr_assert(strstr(err->msg, want), "message '%s' lacks '%s'", err->msg, want);
	sbx_error_free(&err);
}

Test(rootfs_dockerfile, instructions_lines_and_forms)
{
	struct df_file f = parse_ok("# syntax comment\n"
				    "ARG SUITE=bookworm\n"
				    "FROM debian:${SUITE}-slim AS base\n"
				    "\n"
				    "run apt-get update && \\\n"
				    "    # a comment inside a continuation\n"
				    "    apt-get install -y python3\n"
				    "COPY --chown=1000:1000 --chmod=0755 strategy/runner /opt/sbx-runner\n"
				    "COPY --from=base [\"/etc/os-release\", \"/x y\"]\n"
				    "ENV A=1 B=\"two words\"\n"
				    "WORKDIR /work\n"
				    "USER strategy\n"
				    "CMD [\"python3\", \"-c\", \"print(1)\"]\n"
				    "ENTRYPOINT /bin/sh\n");
	cr_assert_eq(f.n, 10);
	cr_assert_eq(f.instrs[0].kind, DF_ARG);
	cr_assert_eq(f.instrs[0].line, 2);
	cr_assert_eq(f.instrs[1].kind, DF_FROM);
	cr_assert_eq(f.instrs[1].n_args, 3);
	cr_assert_str_eq(f.instrs[1].args[2], "base");
	cr_assert_eq(f.instrs[2].kind, DF_RUN);
	cr_assert_eq(f.instrs[2].line, 5);
	cr_assert_not(f.instrs[2].json);
	cr_assert_str_eq(f.instrs[2].rest, "apt-get update &&      apt-get install -y python3");
	cr_assert_eq(f.instrs[3].kind, DF_COPY);
	cr_assert_eq(f.instrs[3].line, 8);
	cr_assert_str_eq(f.instrs[3].chown, "1000:1000");
	cr_assert_str_eq(f.instrs[3].chmod, "0755");
	cr_assert_eq(f.instrs[3].n_args, 2);
	cr_assert_str_eq(f.instrs[4].from, "base");
	cr_assert(f.instrs[4].json);
	cr_assert_str_eq(f.instrs[4].args[1], "/x y");
	cr_assert_eq(f.instrs[5].kind, DF_ENV);
	cr_assert_eq(f.instrs[8].kind, DF_CMD);
	cr_assert(f.instrs[8].json);
	cr_assert_eq(f.instrs[8].n_args, 3);
	cr_assert_eq(f.instrs[9].kind, DF_ENTRYPOINT);
	cr_assert_not(f.instrs[9].json);
	df_free(&f);
}

Test(rootfs_dockerfile, unsupported_instruction_names_the_line)
{
	parse_bad("FROM scratch\nEXPOSE 80\n", "Dockerfile:2: unsupported instruction EXPOSE");
	parse_bad("FROM scratch\n\nHEALTHCHECK CMD true\n",
		  "Dockerfile:3: unsupported instruction HEALTHCHECK");
	parse_bad("FROM scratch\nRUN --mount=type=cache,target=/x true\n",
		  "Dockerfile:2: RUN: unsupported flag --mount");
	parse_bad("FROM scratch\nADD --from=x a b\n", "Dockerfile:2: ADD: unsupported flag --from=x");
}

Test(rootfs_dockerfile, structural_errors)
{
	parse_bad("", "no instructions");
	parse_bad("# only a comment\n", "no instructions");
	parse_bad("RUN true\n", "Dockerfile:1: the first instruction must be FROM");
	parse_bad("FROM scratch\nRUN true \\\n", "ends with a line continuation");
	parse_bad("FROM scratch\nWORKDIR\n", "Dockerfile:2: WORKDIR needs arguments");
	parse_bad("FROM scratch\nCOPY \"a b\n", "unterminated quote");
}

Test(rootfs_dockerfile, env_pairs)
{
	char **v = NULL;
	struct sbx_error *err = NULL;
	cr_assert_eq(df_split_pairs("A=1 B=\"two words\" C=x\\ y D=", 1, &v, &err), 0);
	cr_assert_str_eq(v[0], "A=1");
	cr_assert_str_eq(v[1], "B=two words");
	cr_assert_str_eq(v[2], "C=x y");
	cr_assert_str_eq(v[3], "D=");
	cr_assert_null(v[4]);
	sbx_strv_free(v);
	cr_assert_eq(df_split_pairs("PATH /usr/bin:/bin extra", 1, &v, &err), 0);
	cr_assert_str_eq(v[0], "PATH=/usr/bin:/bin extra");
	sbx_strv_free(v);
	cr_assert_lt(df_split_pairs("A 1", 0, &v, &err), 0);
	sbx_error_free(&err);
	cr_assert_lt(df_split_pairs("A=1 =2", 1, &v, &err), 0);
	sbx_error_free(&err);
}

static const char *vars(const char *name, void *data)
{
	if (strcmp(name, "SUITE") == 0)
		return "bookworm";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	return NULL;
}

Test(rootfs_dockerfile, expansion)
{
	const char *cases[][2] = {
	    {"debian:${SUITE}-slim", "debian:bookworm-slim"},
	    {"$SUITE/$NOPE/x", "bookworm//x"},
	    {"${NOPE:-def} ${SUITE:-def}", "def bookworm"},
	    {"${EMPTY:-def}", "def"},
	    {"${SUITE:+yes}${NOPE:+no}", "yes"},
	    {"\\$SUITE costs $5", "$SUITE costs $5"},
	    {"${unclosed", "${unclosed"},
	    {"100$", "100$"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *s = df_expand(cases[i][0], vars, NULL);
		cr_assert_str_eq(s, cases[i][1], "%s", cases[i][0]);
		free(s);
	}
}

Test(rootfs_dockerfile, words)
{
	char **v;
	size_t n;
	struct sbx_error *err = NULL;
	cr_assert_eq(df_words("  a 'b c'  \"d\\\"e\" f\\ g ", &v, &n, &err), 0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(v[1], "b c");
	cr_assert_str_eq(v[2], "d\"e");
	cr_assert_str_eq(v[3], "f g");
	sbx_strv_free(v);
}
