/* lib/: string lists, KEY=VALUE lists and the allocation policy. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/strv.h"

Test(lib, strv_push_dup_free)
{
	char **v = NULL;
	size_t n = 0;
	cr_expect_eq(sbx_strv_len(v), 0);
	cr_expect_null(sbx_strv_dup(v));
	sbx_strv_push(&v, &n, sbx_xstrdup("a"));
	sbx_strv_push(&v, NULL, sbx_xstrdup("b")); /* length counted */
	n = sbx_strv_len(v);
	sbx_strv_push(&v, &n, sbx_xstrdup("c"));
	cr_assert_eq(n, 3);
	cr_expect_str_eq(v[0], "a");
	cr_expect_str_eq(v[2], "c");
	cr_expect_null(v[3]);
	char **d = sbx_strv_dup(v);
	cr_assert_eq(sbx_strv_len(d), 3);
	cr_expect_neq(d[1], v[1], "a deep copy");
	cr_expect_str_eq(d[1], "b");
	sbx_strv_free(d);
	sbx_strv_free(v);
	sbx_strv_free(NULL);
}

Test(lib, kv_set_replaces_and_compares_whole_keys)
{
	char **v = NULL;
	size_t n = 0;
	sbx_kv_set(&v, &n, "PATH", 4, "/bin");
	sbx_kv_set(&v, &n, "PATHX", 5, "x");
	sbx_kv_set(&v, &n, "PATH=ignored", 4, "/usr/bin"); /* key_len bounds the key */
	cr_assert_eq(n, 2);
	cr_expect_str_eq(v[0], "PATH=/usr/bin");
	cr_expect_str_eq(sbx_kv_get(v, "PATH"), "/usr/bin");
	cr_expect_str_eq(sbx_kv_get(v, "PATHX"), "x");
	cr_expect_null(sbx_kv_get(v, "PAT"), "a prefix of a key is not the key");
	cr_expect_null(sbx_kv_get(NULL, "PATH"));
	sbx_kv_set(&v, &n, "EMPTY", 5, "");
	cr_expect_str_eq(sbx_kv_get(v, "EMPTY"), "");
	sbx_strv_free(v);
}

Test(lib, xasprintf_formats)
{
	char *s = sbx_xasprintf("%s-%d", "sbx", 42);
	cr_expect_str_eq(s, "sbx-42");
	free(s);
}

/* The policy: a failed allocation stops the process with a message that says
 * so (not a bare abort, not a NULL that travels on). */
Test(lib, failed_allocation_aborts_with_a_message)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		signal(SIGABRT, SIG_DFL);
		/* More than any address space: malloc fails without touching memory. */
		sbx_xmalloc(SIZE_MAX / 2);
		_exit(0);
	}
	close(p[1]);
	char buf[256] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %#x", st);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_expect_str_eq(buf, "sbx: out of memory (malloc)\n");
}

#include "lib/utf8.h"

Test(lib, utf8_sanitize_replaces_only_invalid_bytes)
{
	cr_expect(sbx_utf8_valid("plain, caf\xc3\xa9, \xf0\x9f\x98\x80"));
	static const char *const bad[] = {"\xff", "\xc3", "\xc0\xaf" /* overlong '/' */,
					  "\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* > U+10FFFF */};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_expect_not(sbx_utf8_valid(bad[i]), "case %zu", i);
	char *s = sbx_utf8_sanitize("a\xff" "b\xc3\xa9" "c\xc3");
	cr_expect_str_eq(s, "a\xef\xbf\xbd" "b\xc3\xa9" "c\xef\xbf\xbd");
	free(s);
	s = sbx_utf8_sanitize("\xc0\xaf");
	cr_expect_str_eq(s, "\xef\xbf\xbd\xef\xbf\xbd", "an overlong form is two bad bytes");
	free(s);
}

#include <errno.h>

#include "lib/readfile.h"

static int read_pipe(const char *text, size_t max, char **out, size_t *len)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	int r = sbx_read_fd(p[0], max, out, len);
	close(p[0]);
	return r;
}

Test(lib, read_fd_is_bounded)
{
	char *s = NULL;
	size_t n = 0;
	cr_assert_eq(read_pipe("abcdef", 6, &s, &n), 0, "exactly max bytes are read");
	cr_expect_eq(n, 6);
	cr_expect_str_eq(s, "abcdef");
	free(s);
	s = NULL;
	cr_expect_eq(read_pipe("abcdefg", 6, &s, &n), -EFBIG, "one byte more is refused");
	cr_expect_null(s);
	cr_expect_eq(read_pipe("", 6, &s, NULL), 0);
	cr_expect_str_eq(s, "");
	free(s);
	cr_expect_eq(sbx_read_fd(-1, 6, &s, NULL), -EBADF);
}
