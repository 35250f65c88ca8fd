#include "rootfs-builder/dockerfile.h"
#include "lib/strv.h"
#include "lib/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum df_kind kind;
} keywords[] = {
    {"FROM", DF_FROM},
    {"RUN", DF_RUN},
    {"COPY", DF_COPY},
    {"ADD", DF_ADD},
    {"ENV", DF_ENV},
    {"ARG", DF_ARG},
    {"WORKDIR", DF_WORKDIR},
    {"USER", DF_USER},
    {"LABEL", DF_LABEL},
    {"CMD", DF_CMD},
    {"ENTRYPOINT", DF_ENTRYPOINT},
};

const char *df_kind_name(enum df_kind k)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords); i++)
		if (keywords[i].kind == k)
			return keywords[i].name;
	return "?";
}

/* One word: quotes removed, backslash escapes kept literal except \<quote>,
 * \\ and \<space>.  *p is advanced past it. */
static char *next_word(const char **pp, int *unterminated)
{
	const char *p = *pp;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	size_t cap = strlen(p) + 1, n = 0;
	char *w = sbx_xmalloc(cap);
	char q = 0;
	for (; *p; p++) {
		if (q) {
			if (*p == q) {
				q = 0;
				continue;
			}
			if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$')) {
				w[n++] = *++p;
				continue;
			}
			w[n++] = *p;
			continue;
		}
		if (isspace((unsigned char)*p))
			break;
		if (*p == '"' || *p == '\'') {
			q = *p;
			continue;
		}
		if (*p == '\\' && p[1] != '\0') {
			w[n++] = *++p;
			continue;
		}
		w[n++] = *p;
	}
	w[n] = '\0';
	*unterminated = q != 0;
	*pp = p;
	return w;
}

int df_words(const char *s, char ***out, size_t *n, struct sbx_error **err)
{
	char **v = NULL;
	size_t k = 0;
	const char *p = s;
	for (;;) {
		int unterminated = 0;
		char *w = next_word(&p, &unterminated);
		if (w == NULL)
			break;
		if (unterminated) {
			free(w);
			sbx_strv_free(v);
			return sbx_error_set(err, 0, "unterminated quote");
		}
		sbx_strv_push(&v, &k, w);
	}
	if (v == NULL)
		v = sbx_xcalloc(1, sizeof(*v));
	*out = v;
	if (n)
		*n = k;
	return 0;
}

int df_split_pairs(const char *rest, int allow_bare, char ***out, struct sbx_error **err)
{
	const char *p = rest;
	while (isspace((unsigned char)*p))
		p++;
	const char *sp = p;
	while (*sp && !isspace((unsigned char)*sp) && *sp != '=')
		sp++;
	char **v = NULL;
	size_t n = 0;
	if (*sp != '=') {
		/* The old one-pair form: KEY VALUE... (the value is the rest). */
		if (!allow_bare)
			return sbx_error_set(err, 0, "expected KEY=VALUE");
		if (sp == p)
			return sbx_error_set(err, 0, "expected KEY VALUE or KEY=VALUE");
		const char *val = sp;
		while (isspace((unsigned char)*val))
			val++;
		if (*val == '\0')
			return sbx_error_set(err, 0, "%.*s has no value", (int)(sp - p), p);
		sbx_strv_push(&v, &n, sbx_xasprintf("%.*s=%s", (int)(sp - p), p, val));
		*out = v;
		return 0;
	}
	if (df_words(rest, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(v[i], '=');
		if (eq == NULL || eq == v[i]) {
			sbx_error_set(err, 0, "'%s': expected KEY=VALUE", v[i]);
			sbx_strv_free(v);
			return -1;
		}
	}
	*out = v;
	return 0;
}

static void append(char **buf, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n + len + 1 > *cap) {
		*cap = (*cap + len + 1) * 2;
		*buf = sbx_xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *n, s, len);
	*n += len;
	(*buf)[*n] = '\0';
}

char *df_expand(const char *s, const char *(*lookup)(const char *name, void *data), void *data)
{
	char *out = NULL;
	size_t n = 0, cap = 0;
	append(&out, &n, &cap, "", 0);
	for (const char *p = s; *p;) {
		if (p[0] == '\\' && p[1] == '$') {
			append(&out, &n, &cap, "$", 1);
			p += 2;
			continue;
		}
		if (*p != '$') {
			append(&out, &n, &cap, p, 1);
			p++;
			continue;
		}
		const char *name = p + 1, *end;
		char op = 0;
		const char *word = NULL;
		size_t wlen = 0, nlen;
		if (*name == '{') {
			name++;
			end = name;
			while (*end && (isalnum((unsigned char)*end) || *end == '_'))
				end++;
			nlen = (size_t)(end - name);
			if (end[0] == ':' && (end[1] == '-' || end[1] == '+')) {
				op = end[1];
				word = end + 2;
				const char *close = strchr(word, '}');
				if (close == NULL)
					goto literal;
				wlen = (size_t)(close - word);
				end = close;
			}
			if (*end != '}' || nlen == 0)
				goto literal;
			p = end + 1;
		} else {
			end = name;
			if (!isalpha((unsigned char)*name) && *name != '_')
				goto literal;
			while (*end && (isalnum((unsigned char)*end) || *end == '_'))
				end++;
			nlen = (size_t)(end - name);
			if (nlen == 0)
				goto literal;
			p = end;
		}
		{
			char key[256];
			snprintf(key, sizeof(key), "%.*s", (int)nlen, name);
			const char *v = lookup(key, data);
			int set = v && *v;
			if (op == '-' && !set)
				append(&out, &n, &cap, word, wlen);
			else if (op == '+')
				append(&out, &n, &cap, set ? word : "", set ? wlen : 0);
			else if (v)
				append(&out, &n, &cap, v, strlen(v));
		}
		continue;
	literal:
		append(&out, &n, &cap, p, 1);
		p++;
	}
	return out;
}

static void instr_free(struct df_instr *in)
{
	free(in->text);
	free(in->rest);
	sbx_strv_free(in->args);
	free(in->from);
	free(in->chown);
	free(in->chmod);
	free(in->platform);
}

void df_free(struct df_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		instr_free(&f->instrs[i]);
	free(f->instrs);
	f->instrs = NULL;
	f->n = 0;
}

/* Leading --name=value flags of COPY/ADD/FROM/RUN. */
static int parse_flags(struct df_instr *in, const char **rest, struct sbx_error **err)
{
	const char *p = *rest;
	while (p[0] == '-' && p[1] == '-') {
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		size_t nl = (size_t)((eq ? eq : e) - p - 2);
		char *val = eq ? sbx_xstrndup(eq + 1, (size_t)(e - eq - 1)) : NULL;
		char **slot = NULL;
		if (in->kind == DF_COPY && nl == 4 && strncmp(p + 2, "from", 4) == 0)
			slot = &in->from;
		else if ((in->kind == DF_COPY || in->kind == DF_ADD) && nl == 5 &&
			 strncmp(p + 2, "chown", 5) == 0)
			slot = &in->chown;
		else if ((in->kind == DF_COPY || in->kind == DF_ADD) && nl == 5 &&
			 strncmp(p + 2, "chmod", 5) == 0)
			slot = &in->chmod;
		else if (in->kind == DF_FROM && nl == 8 && strncmp(p + 2, "platform", 8) == 0)
			slot = &in->platform;
		if (slot == NULL || val == NULL || *val == '\0') {
			free(val);
			return sbx_error_set(err, 0, "%s: unsupported flag %.*s", df_kind_name(in->kind),
					     (int)(e - p), p);
		}
		free(*slot);
		*slot = val;
		p = e;
		while (isspace((unsigned char)*p))
			p++;
	}
	*rest = p;
	return 0;
}

static int parse_json_array(const char *s, char ***out, size_t *n)
{
	json_error_t je;
	json_t *a = json_loads(s, JSON_DECODE_ANY, &je);
	if (!json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	char **v = sbx_xcalloc(json_array_size(a) + 1, sizeof(*v));
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e)) {
			sbx_strv_free(v);
			json_decref(a);
			return -1;
		}
		v[i] = sbx_xstrdup(json_string_value(e));
	}
	*n = json_array_size(a);
	json_decref(a);
	*out = v;
	return 0;
}

static int parse_instr(struct df_instr *in, const char *text, struct sbx_error **err)
{
	const char *p = text;
	const char *kw = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	size_t kl = (size_t)(p - kw);
	int found = 0;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords); i++)
		if (strlen(keywords[i].name) == kl && strncasecmp(kw, keywords[i].name, kl) == 0) {
			in->kind = keywords[i].kind;
			found = 1;
		}
	if (!found)
		return sbx_error_set(err, 0,
				     "unsupported instruction %.*s (supported: FROM RUN COPY ADD ENV ARG "
				     "WORKDIR USER LABEL CMD ENTRYPOINT)",
				     (int)kl, kw);
	while (isspace((unsigned char)*p))
		p++;
	if (in->kind == DF_COPY || in->kind == DF_ADD || in->kind == DF_FROM || in->kind == DF_RUN)
		if (parse_flags(in, &p, err) < 0)
			return -1;
	in->rest = sbx_xstrdup(p);
	size_t end = strlen(in->rest);
	while (end && isspace((unsigned char)in->rest[end - 1]))
		in->rest[--end] = '\0';
	if (in->rest[0] == '\0')
		return sbx_error_set(err, 0, "%s needs arguments", df_kind_name(in->kind));
	int execable = in->kind == DF_RUN || in->kind == DF_CMD || in->kind == DF_ENTRYPOINT ||
		       in->kind == DF_COPY || in->kind == DF_ADD;
	if (execable && in->rest[0] == '[' && parse_json_array(in->rest, &in->args, &in->n_args) == 0) {
		in->json = 1;
		if (in->n_args == 0 && in->kind == DF_RUN)
			return sbx_error_set(err, 0, "RUN with an empty command");
		return 0;
	}
	return df_words(in->rest, &in->args, &in->n_args, err);
}

int df_parse(const char *text, const char *name, struct df_file *f, struct sbx_error **err)
{
	memset(f, 0, sizeof(*f));
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int line = 0, start = 0;
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		line++;
		const char *l = p;
		p = eol ? eol + 1 : p + len;
		while (len && (l[len - 1] == '\r' || isspace((unsigned char)l[len - 1])))
			len--;
		size_t lead = 0;
		while (lead < len && isspace((unsigned char)l[lead]))
			lead++;
		/* Comments and blank lines, also inside a continued instruction. */
		if (lead == len || l[lead] == '#')
			continue;
		if (n == 0)
			start = line;
		int cont = l[len - 1] == '\\';
		if (cont)
			len--;
		append(&buf, &n, &cap, l + (n ? 0 : lead), len - (n ? 0 : lead));
		if (cont) {
			append(&buf, &n, &cap, " ", 1);
			continue;
		}
		f->instrs = sbx_xreallocarray(f->instrs, f->n + 1, sizeof(*f->instrs));
		struct df_instr *in = &f->instrs[f->n++];
		memset(in, 0, sizeof(*in));
		in->line = start;
		in->text = sbx_xstrdup(buf);
		if (parse_instr(in, buf, err) < 0) {
			free(buf);
			sbx_error_wrap(err, "%s:%d", name, start);
			df_free(f);
			return -1;
		}
		n = 0;
		buf[0] = '\0';
	}
	if (n) {
		free(buf);
		df_free(f);
		return sbx_error_set(err, 0, "%s:%d: the last instruction ends with a line continuation",
				     name, start);
	}
	free(buf);
	if (f->n == 0)
		return sbx_error_set(err, 0, "%s: no instructions", name);
	size_t i = 0;
	while (i < f->n && f->instrs[i].kind == DF_ARG)
		i++;
	if (i == f->n || f->instrs[i].kind != DF_FROM) {
		int l = i < f->n ? f->instrs[i].line : 0;
		df_free(f);
		return sbx_error_set(err, 0, "%s:%d: the first instruction must be FROM (after global ARGs)",
				     name, l);
	}
	return 0;
}
