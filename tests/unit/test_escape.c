/* Escaping of names and messages for the report and stderr
 * (runtime/escape.c, docs/report.md), and a report that holds them.  No
 * privileges needed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/escape.h"
#include "runtime/result.h"

static void expect_escape(const char *in, const char *want)
{
	char *got = sbx_escape(in);
	cr_expect_str_eq(got, want, "escaping '%s'", want);
	free(got);
}

Test(escape, the_documented_rule)
{
	expect_escape("result.json", "result.json");
	expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88");
	expect_escape("a\xff" "b", "a\\xFFb");
	expect_escape("back\\slash", "back\\x5Cslash");
	expect_escape("\x1b[31m\t\n\x7f", "\\x1B[31m\\x09\\x0A\\x7F");
	expect_escape("\xc2\x9b" "c1", "\\xC2\\x9Bc1");       /* C1 CSI */
	expect_escape("\xc2\xa0", "\xc2\xa0");                 /* U+00A0 is printable */
	expect_escape("\xc0\xaf", "\\xC0\\xAF");               /* overlong '/' */
	expect_escape("\xe0\x80\xaf", "\\xE0\\x80\\xAF");      /* overlong */
	expect_escape("\xed\xa0\x80", "\\xED\\xA0\\x80");      /* surrogate */
	expect_escape("\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"); /* above U+10FFFF */
	expect_escape("\xe2\x82", "\\xE2\\x82");               /* cut short by the end */
	expect_escape("\xe2\x82" "A", "\\xE2\\x82A");
	expect_escape("", "");
}

/* Decoding (each \xHH back to its byte) gives the original bytes, and the
 * escaped text is always valid UTF-8 without control characters. */
Test(escape, decodes_back_to_the_same_bytes)
{
	srand(12);
	for (int round = 0; round < 20000; round++) {
		unsigned char in[24];
		size_t n = (size_t)(rand() % 23);
		for (size_t i = 0; i < n; i++) {
			int c = rand() % 256;
			in[i] = (unsigned char)(c ? c : 'x');
		}
		in[n] = '\0';
		char *e = sbx_escape((const char *)in);
		json_t *j = json_string(e);
		cr_assert(j != NULL, "round %d: escaped text is not UTF-8", round);
		json_decref(j);
		unsigned char dec[24 * 4 + 1];
		size_t d = 0;
		for (const char *p = e; *p;) {
			cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "round %d: control character kept",
				  round);
			if (*p == '\\') {
				cr_assert(p[1] == 'x', "round %d: lone backslash in '%s'", round, e);
				dec[d++] = (unsigned char)strtoul((char[]){ p[2], p[3], 0 }, NULL, 16);
				p += 4;
			} else {
				dec[d++] = (unsigned char)*p++;
			}
		}
		cr_assert_eq(d, n, "round %d: %zu bytes decoded from %zu", round, d, n);
		cr_assert(memcmp(dec, in, n) == 0, "round %d: decoded bytes differ", round);
		free(e);
	}
}

Test(escape, cut_text_keeps_whole_escapes)
{
	char *s = sbx_escape_max("abcdef", 6);
	cr_expect_str_eq(s, "abcdef");
	free(s);
	s = sbx_escape_max("abcdefg", 6);
	cr_expect_str_eq(s, "abc...");
	free(s);
	s = sbx_escape_max("a\xff\xff\xff", 9);
	cr_expect_str_eq(s, "a\\xFF...", "an escape is never split");
	free(s);
	s = sbx_escape_max("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8);
	cr_expect_str_eq(s, "\xc3\xa9\xc3\xa9...", "a character is never split");
	free(s);
}

/* The report keeps every key whatever bytes the strings hold. */
Test(escape, report_keeps_every_key)
{
	struct sbx_result r;
	sbx_result_init(&r);
	r.error = strdup("copying /out to /x: /out/\xff\x1b: directories nested deeper than 64");
	r.out_skipped = calloc(SBX_OUT_SKIPPED_MAX, sizeof(char *));
	r.out_skipped[0] = strdup("a\xff" "b");
	char *longname = malloc(4001);
	memset(longname, 'n', 4000);
	longname[4000] = '\0';
	r.out_skipped[1] = longname;
	r.n_out_skipped = 2;
	r.out_skipped_count = 1000;
	char *s = sbx_report_json(&r);
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	cr_assert(j != NULL, "report is not JSON: %s", je.text);
	cr_expect_str_eq(json_string_value(json_object_get(j, "error")),
			 "copying /out to /x: /out/\\xFF\\x1B: directories nested deeper than 64");
	json_t *out = json_object_get(j, "out");
	json_t *sk = json_object_get(out, "skipped");
	cr_assert_eq(json_array_size(sk), 2);
	cr_expect_str_eq(json_string_value(json_array_get(sk, 0)), "a\\xFFb");
	cr_expect_eq(strlen(json_string_value(json_array_get(sk, 1))), 512);
	cr_expect_eq(json_integer_value(json_object_get(out, "skipped_count")), 1000);
	static const char *const keys[] = { "limit_bytes",  "cut_files", "cut_bytes",
					    "deadline_hit", "files",     "bytes" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		cr_expect(json_object_get(out, keys[i]) != NULL, "out lacks '%s'", keys[i]);
	json_decref(j);
	free(s);
	sbx_result_free(&r);
}
