/* The /out copy-out, against a hostile workload: what lands on the host
 * (sizes, blocks, number of files), how long the copy may take, and what
 * the report and sbx's stderr say about names that are not UTF-8.
 *
 * Safety net for the size tests: sbx runs with a soft RLIMIT_FSIZE of
 * 64 MiB, so a copy that writes holes out (the bug these tests catch) kills
 * sbx with SIGXFSZ instead of filling the disk.  The workload raises its own
 * soft limit back to the (unlimited) hard one with `ulimit -f unlimited`. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness.h"

static void setup(void)
{
	h_need_fixture();
	struct rlimit rl = { 64ull << 20, RLIM_INFINITY };
	setrlimit(RLIMIT_FSIZE, &rl);
}
/* The run's directory, removed even when an assertion ends the test. */
static char *run_dir;
static void teardown(void)
{
	if (run_dir != NULL)
		h_rmtree(run_dir);
	free(run_dir);
	run_dir = NULL;
}
TestSuite(outcopy, .init = setup, .fini = teardown, .timeout = 180);

#define MiB (1024ll * 1024)

/* One run with /out of `size` copied into DIR/o, the report kept at
 * DIR/report.json (its size is part of what is tested). */
struct run {
	char *dir;
	char out[PATH_MAX], report[PATH_MAX];
	struct sbx_out o;
	json_t *rep, *outj;
};

static void run_out(struct run *r, uid_t uid, const char *size, const char *script, const char *timeout)
{
	memset(r, 0, sizeof(*r));
	r->dir = run_dir = h_tmpdir();
	snprintf(r->out, sizeof(r->out), "%s/o", r->dir);
	snprintf(r->report, sizeof(r->report), "%s/report.json", r->dir);
	char spec[PATH_MAX + 32];
	snprintf(spec, sizeof(spec), "%s:%s", r->out, size);
	const char *a[16];
	size_t n = 0;
	const char *const base[] = { "--report", r->report, "--rootfs",  h_rootfs(),
				     "--out",    spec,      "--timeout", timeout };
	for (size_t i = 0; i < sizeof(base) / sizeof(*base); i++)
		a[n++] = base[i];
	/* Rootless on a host without a delegated cgroup: no limits, which
	 * changes nothing for the copy-out. */
	if (uid != 0)
		a[n++] = "--allow-no-cgroup";
	const char *const cmd[] = { "--", "/bin/sh", "-c", script, NULL };
	for (size_t i = 0; i < sizeof(cmd) / sizeof(*cmd); i++)
		a[n++] = cmd[i];
	cr_assert_eq(h_run(&r->o, uid, 120, a), 0);
	json_error_t je;
	r->rep = json_load_file(r->report, 0, &je);
	cr_assert(r->rep != NULL, "no report (exit %d): %s; stderr: %s", r->o.status, je.text, r->o.err);
	r->outj = json_object_get(r->rep, "out");
	cr_assert(json_is_object(r->outj), "report lacks 'out'");
}

static void run_free(struct run *r)
{
	h_free(&r->o);
	json_decref(r->rep);
	teardown();
}

static long long out_int(struct run *r, const char *key)
{
	json_t *v = json_object_get(r->outj, key);
	cr_assert(json_is_integer(v), "out.%s missing or not an integer", key);
	return (long long)json_integer_value(v);
}

/* Is `want` one of the report's out.skipped entries? */
static bool skipped_has(struct run *r, const char *want)
{
	json_t *sk = json_object_get(r->outj, "skipped"), *v;
	size_t i;
	json_array_foreach(sk, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return true;
	}
	return false;
}

/* What the copy left on the host, below a directory. */
static long long tree_size, tree_bytes_on_disk, tree_files;
static int tree_visit(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_F) {
		tree_files++;
		tree_size += st->st_size;
		tree_bytes_on_disk += (long long)st->st_blocks * 512;
	}
	return 0;
}
static void tree_measure(const char *dir)
{
	tree_size = tree_bytes_on_disk = tree_files = 0;
	nftw(dir, tree_visit, 16, FTW_PHYS);
}

/* Item 3: a sparse file is charged its apparent size.  Rootless on a host
 * without a cgroup, RLIMIT_FSIZE (the largest tmpfs, 64M here) already
 * refuses the 2G and 8E files, so that variant uses sparse files between
 * the /out cap and that limit: the copy must still leave them out. */
static void sparse(uid_t uid, const char *huge, const char *exa, long long cut_bytes)
{
	struct run r;
	char script[1024];
	snprintf(script, sizeof(script),
		 "ulimit -f unlimited 2>/dev/null; truncate -s %s /out/huge; truncate -s %s /out/exa;"
		 "truncate -s 8M /out/sparse;"
		 "printf DATA | dd of=/out/sparse bs=1 seek=4194304 conv=notrunc 2>/dev/null;"
		 "head -c 1048576 /dev/urandom > /out/real; ls -ls /out",
		 huge, exa);
	run_out(&r, uid, "16M", script, "30");
	cr_expect_eq(r.o.status, 0, "exit %d; stderr: %s", r.o.status, r.o.err);
	tree_measure(r.out);
	cr_expect_leq(tree_size, 16 * MiB, "host files add up to %lld bytes for a 16M /out", tree_size);
	cr_expect_leq(tree_bytes_on_disk, 16 * MiB, "host files take %lld bytes on disk", tree_bytes_on_disk);
	cr_expect_eq(tree_files, 2, "files on the host: %lld (sparse and real)", tree_files);
	char p[PATH_MAX + 16];
	struct stat st;
	snprintf(p, sizeof(p), "%s/huge", r.out);
	cr_expect_neq(lstat(p, &st), 0, "the 2G sparse file reached the host");
	snprintf(p, sizeof(p), "%s/sparse", r.out);
	cr_expect_eq(lstat(p, &st), 0, "the 8M sparse file was not copied");
	cr_expect_eq(st.st_size, 8 * MiB);
	cr_expect_lt((long long)st.st_blocks * 512, 1 * MiB, "holes written out: %lld bytes on disk",
		     (long long)st.st_blocks * 512);
	char buf[5] = "";
	int fd = open(p, O_RDONLY);
	cr_expect(fd >= 0 && pread(fd, buf, 4, 4194304) == 4 && memcmp(buf, "DATA", 4) == 0, "data not kept");
	if (fd >= 0)
		close(fd);
	cr_expect_eq(out_int(&r, "files"), 2);
	cr_expect_eq(out_int(&r, "bytes"), 9 * MiB);
	cr_expect_eq(out_int(&r, "limit_bytes"), 16 * MiB);
	cr_expect_eq(out_int(&r, "cut_files"), 2);
	/* As root, 2G + (8 EiB - 1) saturates at the largest JSON integer sbx writes. */
	cr_expect_eq(out_int(&r, "cut_bytes"), cut_bytes);
	cr_expect_eq(out_int(&r, "skipped_count"), 2);
	cr_expect(skipped_has(&r, "huge") && skipped_has(&r, "exa"), "huge and exa not listed as skipped");
	cr_expect(json_is_false(json_object_get(r.outj, "deadline_hit")));
	run_free(&r);
}

Test(outcopy, sparse_files_are_charged_their_apparent_size)
{
	sparse(0, "2G", "9223372036854775807", 9223372036854775807ll);
}
Test(outcopy, sparse_files_are_charged_their_apparent_size_rootless)
{
	h_need_userns_as(NOBODY);
	sparse(NOBODY, "32M", "48M", 80 * MiB);
}

/* Item 3: every name of a hard-linked file is charged in full. */
static void hardlinks(uid_t uid)
{
	struct run r;
	run_out(&r, uid, "16M",
		"head -c 4194304 /dev/urandom > /out/f; for i in $(seq 2 21); do ln /out/f /out/f$i; done;"
		"stat -c %h /out/f",
		"30");
	cr_expect_eq(r.o.status, 0, "exit %d; stderr: %s", r.o.status, r.o.err);
	cr_expect_str_eq(r.o.out, "21\n");
	tree_measure(r.out);
	cr_expect_leq(tree_size, 16 * MiB, "21 links of 4M gave %lld bytes on the host", tree_size);
	cr_expect_leq(tree_bytes_on_disk, 16 * MiB + 64 * 1024, "%lld bytes on disk", tree_bytes_on_disk);
	cr_expect_eq(tree_files, 4, "%lld files on the host", tree_files);
	cr_expect_eq(out_int(&r, "files"), 4);
	cr_expect_eq(out_int(&r, "bytes"), 16 * MiB);
	cr_expect_eq(out_int(&r, "cut_files"), 17);
	cr_expect_eq(out_int(&r, "cut_bytes"), 17 * 4 * MiB);
	cr_expect_eq(out_int(&r, "skipped_count"), 17);
	run_free(&r);
}

Test(outcopy, hard_links_are_charged_per_name) { hardlinks(0); }
Test(outcopy, hard_links_are_charged_per_name_rootless)
{
	h_need_userns_as(NOBODY);
	hardlinks(NOBODY);
}

/* Item 3: the copy has a deadline (5 s for a 1M /out), after a timeout
 * too, and the run keeps its status.  build/sbx-fault's slow:outcopy makes
 * every file take 200 ms, as on a very slow host disk. */
Test(outcopy, copy_stops_at_its_deadline_and_the_run_keeps_its_status)
{
	char bin[PATH_MAX];
	char *copy = strdup(h_sbx());
	snprintf(bin, sizeof(bin), "%s/sbx-fault", dirname(copy));
	free(copy);
	cr_assert_eq(access(bin, X_OK), 0, "%s missing: run 'make %s'", bin, bin);
	setenv("SBX_TEST_BINARY", bin, 1);
	setenv("SBX_FAULT", "slow:outcopy", 1);
	struct run r;
	run_out(&r, 0, "1M", "for i in $(seq 100); do echo $i > /out/f$i; done; echo made; sleep 100", "2");
	unsetenv("SBX_FAULT");
	unsetenv("SBX_TEST_BINARY");
	cr_expect_str_eq(r.o.out, "made\n");
	cr_expect_eq(r.o.status, 124, "exit %d; stderr: %s", r.o.status, r.o.err);
	cr_expect_str_eq(h_rs(r.rep, "status"), "timeout");
	cr_expect(json_is_null(json_object_get(r.rep, "error")), "the deadline is not an error");
	cr_expect(json_is_true(json_object_get(r.outj, "deadline_hit")), "deadline_hit not set");
	long long files = out_int(&r, "files");
	cr_expect_lt(files, 100, "all %lld files copied: no deadline", files);
	cr_expect_gt(files, 0);
	/* The file being copied at the deadline is removed and listed. */
	cr_expect_eq(out_int(&r, "skipped_count"), 1);
	tree_measure(r.out);
	cr_expect_eq(tree_files, files, "%lld files on the host, %lld reported", tree_files, files);
	run_free(&r);
}

/* Item 4: the list of skipped entries is capped, however many and however
 * long the names; the rest are counted. */
static void many_links(uid_t uid)
{
	struct run r;
	/* 10,000 symlinks 200 bytes long, 8 directories of 200 bytes deep:
	 * about 22 MB of paths before the cap. */
	run_out(&r, uid, "64M",
		"exec /usr/bin/python3 -c '\n"
		"import os\n"
		"d = \"/out/\" + \"/\".join([\"d\" * 200] * 8)\n"
		"os.makedirs(d)\n"
		"for i in range(10000):\n"
		"    os.symlink(\"/etc/passwd\", d + \"/%05d\" % i + \"l\" * 195)\n"
		"'",
		"60");
	cr_expect_eq(r.o.status, 0, "exit %d; stderr: %s", r.o.status, r.o.err);
	json_t *sk = json_object_get(r.outj, "skipped");
	cr_expect_eq(json_array_size(sk), 64, "%zu entries listed", json_array_size(sk));
	cr_expect_eq(out_int(&r, "skipped_count"), 10000);
	json_t *v;
	size_t i;
	json_array_foreach(sk, i, v)
	{
		cr_expect_leq(strlen(json_string_value(v)), 512, "entry %zu is %zu bytes", i,
			      strlen(json_string_value(v)));
		cr_expect_eq(strncmp(json_string_value(v), "dddd", 4), 0);
	}
	struct stat st;
	cr_assert_eq(stat(r.report, &st), 0);
	cr_expect_lt(st.st_size, 64 * 1024, "report of %lld bytes", (long long)st.st_size);
	tree_measure(r.out);
	cr_expect_eq(tree_files, 0, "a symlink reached the host");
	run_free(&r);
}

Test(outcopy, skipped_list_is_capped) { many_links(0); }
Test(outcopy, skipped_list_is_capped_rootless)
{
	h_need_userns_as(NOBODY);
	many_links(NOBODY);
}

static bool has_raw_byte(const char *s, unsigned char lo, unsigned char hi)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= lo && *p <= hi)
			return true;
	return false;
}

/* Item 5: every name appears in the report, escaped as docs/report.md says
 * (bytes that are not printable UTF-8, and the backslash, as \xHH). */
static void names(uid_t uid)
{
	struct run r;
	run_out(&r, uid, "16M",
		"cd /out && ln -s x \"$(printf 'a\\377b')\" && ln -s x \"$(printf '\\033[31mred')\" &&"
		"ln -s x 'back\\slash' && ln -s x \"$(printf 'caf\\303\\251')\" &&"
		"ln -s x \"$(printf '\\302\\233')\" &&"
		"ln -s x \"$(printf '\\355\\240\\200')\" && echo ok",
		"30");
	cr_expect_eq(r.o.status, 0, "exit %d; stderr: %s", r.o.status, r.o.err);
	cr_expect_str_eq(r.o.out, "ok\n");
	cr_expect(skipped_has(&r, "a\\xFFb"), "invalid byte");
	cr_expect(skipped_has(&r, "\\x1B[31mred"), "escape character");
	cr_expect(skipped_has(&r, "back\\x5Cslash"), "backslash");
	cr_expect(skipped_has(&r, "caf\xc3\xa9"), "valid UTF-8 is kept");
	cr_expect(skipped_has(&r, "\\xC2\\x9B"), "C1 control (CSI)");
	cr_expect(skipped_has(&r, "\\xED\\xA0\\x80"), "UTF-16 surrogate");
	cr_expect_eq(json_array_size(json_object_get(r.outj, "skipped")), 6);
	cr_expect_eq(out_int(&r, "skipped_count"), 6);
	run_free(&r);
}

Test(outcopy, names_that_are_not_utf8_are_escaped) { names(0); }
Test(outcopy, names_that_are_not_utf8_are_escaped_rootless)
{
	h_need_userns_as(NOBODY);
	names(NOBODY);
}

/* Item 5: an error naming such a path keeps the "error" key, and sbx's
 * stderr carries no raw byte of it. */
Test(outcopy, deep_non_utf8_path_keeps_the_error_key_and_stderr_clean)
{
	struct run r;
	run_out(&r, 0, "16M",
		"d=/out/\"$(printf '\\033]0;pwned\\007')\";"
		"for i in $(seq 70); do d=\"$d/$(printf '\\377')\"; done;"
		"mkdir -p \"$d\" && echo ok",
		"30");
	cr_expect_eq(r.o.status, 0, "the run keeps its status: exit %d; stderr: %s", r.o.status, r.o.err);
	cr_expect_str_eq(r.o.out, "ok\n");
	json_t *e = json_object_get(r.rep, "error");
	cr_assert(json_is_string(e), "report lacks 'error'");
	const char *msg = json_string_value(e);
	cr_expect(strstr(msg, "\\x1B]0;pwned\\x07/\\xFF/\\xFF/") != NULL, "error: %s", msg);
	cr_expect(strstr(msg, "nested deeper than 64") != NULL, "error: %s", msg);
	cr_expect(strstr(r.o.err, "nested deeper than 64") != NULL, "stderr: %s", r.o.err);
	cr_expect(strstr(r.o.err, "\\xFF/\\xFF") != NULL, "stderr: %s", r.o.err);
	cr_expect(!has_raw_byte(r.o.err, 0x80, 0xFF), "raw non-ASCII bytes on sbx's stderr");
	cr_expect(!has_raw_byte(r.o.err, 0x00, 0x09) && !has_raw_byte(r.o.err, 0x0B, 0x1F),
		  "raw control bytes on sbx's stderr");
	run_free(&r);
}
