#include "escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (RFC 3629, table 3-7 of
 * Unicode), or 0 when the byte at p does not start one. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* Printable: a control character could move the caller's cursor or start
 * an escape sequence when the text reaches a terminal (C1 U+009B is CSI). */
static bool printable(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0] >= 0x20 && p[0] != 0x7F && p[0] != '\\';
	return !(n == 2 && p[0] == 0xC2 && p[1] < 0xA0);
}

char *sbx_escape_max(const char *s, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	/* At most four output bytes per input byte. */
	char *out = malloc(len * 4 + 1);
	if (out == NULL)
		abort();
	size_t o = 0, keep = 0; /* keep: where "..." goes if the text is cut */
	bool cut = false;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(p + i);
		bool raw = n > 0 && printable(p + i, n);
		size_t need = raw ? n : 4;
		if (o + need > max) {
			cut = true;
			break;
		}
		if (o + need <= max - 3)
			keep = o + need;
		if (raw) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
			i++;
		}
	}
	if (cut) {
		memcpy(out + keep, "...", 3);
		o = keep + 3;
	}
	out[o] = '\0';
	return out;
}

char *sbx_escape(const char *s) { return sbx_escape_max(s, (size_t)-1); }
