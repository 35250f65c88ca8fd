/* sbx-rootfs build without RUN (no sandbox needed): FROM scratch and --base,
 * COPY/ADD, ENV/ARG/WORKDIR/USER/LABEL/CMD/ENTRYPOINT into the image config,
 * errors naming the line, nothing left behind on failure.  Files stay owned
 * by the caller (--ids caller), so no privileges are needed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs-builder/build.h"
#include "lib/image_config.h"
#include "rootfs-builder/import.h"

static char tmp[64], ctx[128], out[128];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/sbx-rootfs-build.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(ctx, sizeof(ctx), "%s/ctx", tmp);
	snprintf(out, sizeof(out), "%s/out", tmp);
	cr_assert_eq(mkdir(ctx, 0755), 0);
}

static void teardown(void)
{
	rfs_remove_path(tmp);
}

TestSuite(rootfs_build, .init = setup, .fini = teardown);

static void put(const char *rel, const char *content, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", ctx, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	cr_assert_eq(system(cmd), 0);
	*slash = '/';
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(content, f);
	fclose(f);
	chmod(p, mode);
}

static int build(const char *dockerfile, char **msg, const char *base)
{
	put("Dockerfile", dockerfile, 0644);
	struct rfs_build_opts o;
	rfs_build_opts_init(&o);
	char file[256];
	snprintf(file, sizeof(file), "%s/Dockerfile", ctx);
	o.file = file;
	o.out = out;
	o.ids = RFS_IDS_CALLER;
	o.progress = NULL;
	struct sbx_error *err = NULL;
	if (base)
		cr_assert_eq(rfs_build_add_base(&o, base, &err), 0);
	cr_assert_eq(rfs_build_add_arg(&o, "FROMCLI=cli", &err), 0);
	int r = rfs_build(&o, &err);
	rfs_build_opts_free(&o);
	*msg = err ? strdup(err->msg) : NULL;
	sbx_error_free(&err);
	return r;
}

static char *slurp_out(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", out, rel);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f, "%s missing", rel);
	char *b = calloc(1, 4096);
	fread(b, 1, 4095, f);
	fclose(f);
	return b;
}

static mode_t mode_of(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", out, rel);
	cr_assert_eq(lstat(p, &st), 0, "%s missing", rel);
	return st.st_mode;
}

static void assert_nothing_left(void)
{
	cr_assert_eq(access(out, F_OK), -1, "out left behind");
	DIR *d = opendir(tmp);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		cr_assert(strncmp(de->d_name, "out", 3) != 0, "%s left behind", de->d_name);
	closedir(d);
}

Test(rootfs_build, copy_env_workdir_user_into_image_config)
{
	put("app/main.py", "print('hi')\n", 0644);
	put("app/tool.sh", "#!/bin/sh\n", 0755);
	put("data/a.csv", "a\n", 0644);
	put("data/b.csv", "b\n", 0644);
	put("data/c.txt", "c\n", 0644);
	char *msg = NULL;
	int r = build("ARG SUITE=x\n"
		      "FROM scratch AS files\n"
		      "COPY app /opt/app\n"
		      "FROM scratch\n"
		      "ARG FROMCLI\n"
		      "ARG WITHDEFAULT=dflt\n"
		      "COPY --from=files /opt/app/main.py /srv/\n"
		      "COPY data/*.csv /csv/\n"
		      "COPY --chmod=0600 data/c.txt /secret.txt\n"
		      "ENV PATH=/usr/bin MODE=\"fast mode\"\n"
		      "ENV DERIVED=${MODE}-${FROMCLI}-${WITHDEFAULT}\n"
		      "WORKDIR /work\n"
		      "WORKDIR sub\n"
		      "COPY app/tool.sh rel.sh\n"
		      "LABEL org.example.k=v\n"
		      "USER 1000:1000\n"
		      "CMD [\"python3\", \"main.py\"]\n",
		      &msg, NULL);
	cr_assert_eq(r, 0, "%s", msg);
	char *s = slurp_out("srv/main.py");
	cr_assert_str_eq(s, "print('hi')\n");
	free(s);
	cr_assert_eq(mode_of("csv/a.csv") & 0777, 0644);
	cr_assert_eq(access("x", F_OK), -1);
	char p[256];
	snprintf(p, sizeof(p), "%s/csv/c.txt", out);
	cr_assert_eq(access(p, F_OK), -1, "glob matched c.txt");
	cr_assert_eq(mode_of("secret.txt") & 0777, 0600);
	cr_assert_eq(mode_of("work/sub/rel.sh") & 0777, 0755);
	cr_assert(S_ISDIR(mode_of("work/sub")));

	char *cfgp = sbx_image_config_path(out);
	struct sbx_image_config c;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_image_config_load(&c, cfgp, &err), 0);
	cr_assert_str_eq(c.env[0], "PATH=/usr/bin");
	cr_assert_str_eq(c.env[1], "MODE=fast mode");
	cr_assert_str_eq(c.env[2], "DERIVED=fast mode-cli-dflt");
	cr_assert_null(c.env[3]);
	cr_assert_str_eq(c.workdir, "/work/sub");
	cr_assert_str_eq(c.user, "1000:1000");
	cr_assert_eq(c.uid, 1000);
	cr_assert_str_eq(c.cmd[1], "main.py");
	cr_assert_null(c.entrypoint);
	cr_assert_str_eq(json_string_value(json_object_get(c.labels, "org.example.k")), "v");
	sbx_image_config_free(&c);
	free(cfgp);
}

Test(rootfs_build, entrypoint_shell_form_clears_cmd)
{
	char *msg = NULL;
	cr_assert_eq(build("FROM scratch\nCMD [\"a\"]\nENTRYPOINT exec /bin/app --flag\n", &msg, NULL), 0,
		     "%s", msg);
	char *cfgp = sbx_image_config_path(out);
	struct sbx_image_config c;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_image_config_load(&c, cfgp, &err), 0);
	cr_assert_null(c.cmd);
	cr_assert_str_eq(c.entrypoint[0], "/bin/sh");
	cr_assert_str_eq(c.entrypoint[2], "exec /bin/app --flag");
	sbx_image_config_free(&c);
	free(cfgp);
}

Test(rootfs_build, add_unpacks_local_archives)
{
	put("src/x/y.txt", "y\n", 0644);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "tar -C %s/src -czf %s/bundle.tar.gz x", ctx, ctx);
	cr_assert_eq(system(cmd), 0);
	char *msg = NULL;
	cr_assert_eq(build("FROM scratch\nADD bundle.tar.gz /opt/\nADD src/x/y.txt /plain.txt\n", &msg, NULL),
		     0, "%s", msg);
	char *s = slurp_out("opt/x/y.txt");
	cr_assert_str_eq(s, "y\n");
	free(s);
	s = slurp_out("plain.txt");
	cr_assert_str_eq(s, "y\n");
	free(s);
}

Test(rootfs_build, base_archive_starts_the_stage)
{
	put("rootfs/etc/os-release", "ID=test\n", 0644);
	char tar[256], spec[300], cmd[600];
	snprintf(tar, sizeof(tar), "%s/base.tar", tmp);
	snprintf(cmd, sizeof(cmd), "tar -C %s/rootfs -cf %s .", ctx, tar);
	cr_assert_eq(system(cmd), 0);
	snprintf(spec, sizeof(spec), "example/base:1=%s", tar);
	char *msg = NULL;
	cr_assert_eq(build("FROM example/base:1\nCOPY Dockerfile /Dockerfile.copy\n", &msg, spec), 0, "%s",
		     msg);
	char *s = slurp_out("etc/os-release");
	cr_assert_str_eq(s, "ID=test\n");
	free(s);
	cr_assert(S_ISREG(mode_of("Dockerfile.copy")));
}

static void build_fails(const char *dockerfile, const char *want)
{
	char *msg = NULL;
	cr_assert_lt(build(dockerfile, &msg, NULL), 0, "built: %s", dockerfile);
	cr_assert(strstr(msg, want), "message '%s' lacks '%s'", msg, want);
	free(msg);
	assert_nothing_left();
}

Test(rootfs_build, unsupported_instruction_names_the_line)
{
	build_fails("FROM scratch\n\nEXPOSE 8080\n", "Dockerfile:3: unsupported instruction EXPOSE");
}

Test(rootfs_build, unknown_base_image)
{
	build_fails("FROM python:3.11\n",
		    "Dockerfile:1: FROM: FROM python:3.11: not available without a registry");
}

Test(rootfs_build, missing_source_names_the_line)
{
	build_fails("FROM scratch\nCOPY Dockerfile /a\nCOPY nope /b\n",
		    "Dockerfile:3: COPY: source nope: No such file");
}

Test(rootfs_build, sources_stay_in_the_context)
{
	build_fails("FROM scratch\nCOPY ../../etc/passwd /p\n", "'..' in path");
	char p[256];
	snprintf(p, sizeof(p), "%s/hostetc", ctx);
	cr_assert_eq(symlink("/etc", p), 0);
	build_fails("FROM scratch\nCOPY hostetc/passwd /p\n", "resolves outside the build context");
}

Test(rootfs_build, add_urls_refused)
{
	build_fails("FROM scratch\nADD https://example.com/x.tar /x\n", "remote sources are not supported");
}

Test(rootfs_build, copy_from_unknown_stage)
{
	build_fails("FROM scratch\nCOPY --from=nope /a /b\n", "COPY --from=nope: no earlier stage");
}

/* The Dockerfile is read bounded: a huge one is refused, named. */
Test(rootfs_build, oversized_dockerfile_is_refused)
{
	size_t n = (1u << 20) + 64;
	char *big = malloc(n + 1);
	memcpy(big, "FROM scratch\n", 13);
	memset(big + 13, '#', n - 13);
	big[n] = '\0';
	build_fails(big, "larger than 1048576 bytes");
	free(big);
}
