/* linux.seccomp of config.json → the text of an sbx seccomp profile, so the
 * spec's rules go through the same parser, checks and libseccomp compiler as
 * every other profile (seccomp/profile.c).  Nothing from the spec reaches the
 * YAML unvalidated: names are checked against libseccomp and emitted only
 * when they are plain identifiers, numbers are printed by us. */
#include "spec.h"

#include <ctype.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *buf;
	size_t len;
	FILE *f;
};

static int bad(struct sbx_error **err, const char *path, const char *fmt, const char *v)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, v);
	return sbx_error_set(err, 0, "config.json: linux.seccomp%s: %s", path, msg);
}

/* SCMP_ACT_* and the errno it returns → sbx's action text. */
static int action_text(const char *act, const json_t *errno_ret, unsigned def_errno, char *buf, size_t size,
		       const char *path, struct sbx_error **err)
{
	if (act == NULL)
		return bad(err, path, "%saction is required", "");
	unsigned e = def_errno;
	if (errno_ret && !json_is_null(errno_ret)) {
		if (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 ||
		    json_integer_value(errno_ret) > 4095)
			return bad(err, path, "%serrnoRet must be an errno number (0..4095)", "");
		e = (unsigned)json_integer_value(errno_ret);
	}
	static const struct {
		const char *oci, *sbx;
	} map[] = {
	    {"SCMP_ACT_ALLOW", "allow"},
	    {"SCMP_ACT_LOG", "log"},
	    {"SCMP_ACT_KILL", "kill_thread"},
	    {"SCMP_ACT_KILL_THREAD", "kill_thread"},
	    {"SCMP_ACT_KILL_PROCESS", "kill_process"},
	    {"SCMP_ACT_TRAP", "trap"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(map[i].oci, act) == 0) {
			snprintf(buf, size, "%s", map[i].sbx);
			return 0;
		}
	if (strcmp(act, "SCMP_ACT_ERRNO") == 0) {
		snprintf(buf, size, "errno %u", e);
		return 0;
	}
	return bad(err, path, "action \"%s\" is not supported by sbx", act);
}

static const char *op_text(const char *op)
{
	static const struct {
		const char *oci, *sbx;
	} ops[] = {{"SCMP_CMP_NE", "ne"},
		   {"SCMP_CMP_LT", "lt"},
		   {"SCMP_CMP_LE", "le"},
		   {"SCMP_CMP_EQ", "eq"},
		   {"SCMP_CMP_GE", "ge"},
		   {"SCMP_CMP_GT", "gt"},
		   {"SCMP_CMP_MASKED_EQ", "masked_eq"}};
	for (size_t i = 0; op && i < sizeof(ops) / sizeof(*ops); i++)
		if (strcmp(ops[i].oci, op) == 0)
			return ops[i].sbx;
	return NULL;
}

static bool plain_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int known_keys(const json_t *o, const char *const *keys, const char *path, struct sbx_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		bool ok = false;
		for (const char *const *p = keys; *p && !ok; p++)
			ok = strcmp(*p, k) == 0;
		if (!ok) {
			char msg[160];
			snprintf(msg, sizeof(msg), "%s: unknown or unsupported field", path);
			return bad(err, msg, "%s", k);
		}
	}
	return 0;
}

static uint64_t uint_of(const json_t *v, bool *ok)
{
	*ok = v == NULL || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0);
	if (v == NULL || !json_is_integer(v))
		return 0;
	return (uint64_t)json_integer_value(v);
}

static int emit_args(FILE *f, const json_t *args, const char *path, struct sbx_error **err)
{
	if (args == NULL || json_is_null(args) || json_array_size(args) == 0)
		return 0;
	if (!json_is_array(args))
		return bad(err, path, "%sargs must be an array", "");
	fputs("    args:\n", f);
	for (size_t i = 0; i < json_array_size(args); i++) {
		const json_t *a = json_array_get(args, i);
		char p[96];
		snprintf(p, sizeof(p), "%s.args[%zu]", path, i);
		if (!json_is_object(a) ||
		    known_keys(a, (const char *const[]){"index", "value", "valueTwo", "op", NULL}, p, err) <
			0)
			return json_is_object(a) ? -1 : bad(err, p, "%smust be an object", "");
		bool ok1, ok2, ok3;
		uint64_t index = uint_of(json_object_get(a, "index"), &ok1);
		uint64_t value = uint_of(json_object_get(a, "value"), &ok2);
		uint64_t two = uint_of(json_object_get(a, "valueTwo"), &ok3);
		const json_t *opj = json_object_get(a, "op");
		const char *op = op_text(json_is_string(opj) ? json_string_value(opj) : NULL);
		if (!ok1 || !ok2 || !ok3 || index > 5 || !json_is_integer(json_object_get(a, "index")))
			return bad(err, p, "%sindex (0..5), value and valueTwo must be unsigned integers",
				   "");
		if (op == NULL)
			return bad(err, p, "unknown op \"%s\"",
				   json_is_string(opj) ? json_string_value(opj) : "");
		/* The spec's masked_eq keeps the mask in value and the value in
		 * valueTwo. */
		if (strcmp(op, "masked_eq") == 0)
			fprintf(f, "      - { index: %llu, op: masked_eq, mask: %llu, value: %llu }\n",
				(unsigned long long)index, (unsigned long long)value,
				(unsigned long long)two);
		else
			fprintf(f, "      - { index: %llu, op: %s, value: %llu }\n",
				(unsigned long long)index, op, (unsigned long long)value);
	}
	return 0;
}

int sbx_oci_seccomp_to_yaml(const json_t *sc, char **yaml, struct sbx_error **err)
{
	*yaml = NULL;
	if (!json_is_object(sc))
		return bad(err, "", "%smust be an object", "");
	static const char *const keys[] = {"defaultAction", "defaultErrnoRet",	"architectures", "flags",
					   "listenerPath",  "listenerMetadata", "syscalls",	 NULL};
	if (known_keys(sc, keys, "", err) < 0)
		return -1;
	const json_t *lp = json_object_get(sc, "listenerPath");
	if (lp && !json_is_null(lp) && !(json_is_string(lp) && json_string_length(lp) == 0))
		return bad(err, ".listenerPath", "%sa seccomp agent is not supported by sbx", "");
	bool spec_allow = false;
	const json_t *flags = json_object_get(sc, "flags");
	for (size_t i = 0; flags && i < json_array_size(flags); i++) {
		const char *fl = json_string_value(json_array_get(flags, i));
		if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			spec_allow = true;
		else if (!(fl && strcmp(fl, "SECCOMP_FILTER_FLAG_LOG") == 0))
			return bad(err, ".flags", "flag \"%s\" is not supported by sbx",
				   fl ? fl : "(not a string)");
	}
	unsigned def_errno = 1; /* EPERM, as runc */
	const json_t *der = json_object_get(sc, "defaultErrnoRet");
	if (der && !json_is_null(der)) {
		if (!json_is_integer(der) || json_integer_value(der) < 0 || json_integer_value(der) > 4095)
			return bad(err, ".defaultErrnoRet", "%smust be an errno number (0..4095)", "");
		def_errno = (unsigned)json_integer_value(der);
	}
	char act[64];
	const json_t *da = json_object_get(sc, "defaultAction");
	if (action_text(json_string_value(da), der, def_errno, act, sizeof(act), ".defaultAction", err) < 0)
		return -1;

	struct out o = {0};
	o.f = open_memstream(&o.buf, &o.len);
	if (o.f == NULL)
		abort();
	fprintf(o.f, "# converted by sbx from config.json linux.seccomp\ndefault_action: %s\n", act);
	fprintf(o.f, "report_denials: false\nspec_allow: %s\n", spec_allow ? "true" : "false");
	int r = -1;
	json_t *uncond = NULL;
	const json_t *arches = json_object_get(sc, "architectures");
	if (arches && json_array_size(arches) > 0) {
		fputs("architectures: [", o.f);
		bool first = true;
		bool native = false;
		for (size_t i = 0; i < json_array_size(arches); i++) {
			const char *a = json_string_value(json_array_get(arches, i));
			if (a == NULL || strncmp(a, "SCMP_ARCH_", 10) != 0) {
				bad(err, ".architectures", "unknown architecture \"%s\"",
				    a ? a : "(not a string)");
				goto out;
			}
			char lower[32];
			size_t j;
			for (j = 0; a[10 + j] && j < sizeof(lower) - 1; j++)
				lower[j] = (char)tolower((unsigned char)a[10 + j]);
			lower[j] = '\0';
			/* x32 is always denied by sbx, whatever the spec says. */
			if (strcmp(lower, "x32") == 0)
				continue;
			uint32_t token = seccomp_arch_resolve_name(lower);
			if (token == 0 || !plain_name(lower)) {
				bad(err, ".architectures", "unknown architecture \"%s\"", a);
				goto out;
			}
			native |= token == seccomp_arch_native();
			fprintf(o.f, "%s%s", first ? "" : ", ", lower);
			first = false;
		}
		fputs("]\n", o.f);
		if (!native) {
			bad(err, ".architectures", "%sdoes not include this host's architecture", "");
			goto out;
		}
	}
	const json_t *calls = json_object_get(sc, "syscalls");
	if (calls && !json_is_null(calls) && !json_is_array(calls)) {
		bad(err, ".syscalls", "%smust be an array", "");
		goto out;
	}
	if (json_array_size(calls) > 0)
		fputs("syscalls:\n", o.f);
	/* libseccomp lets an unconditional rule override every conditional
	 * rule of the same call, and keeps the first of two unconditional
	 * ones (runc's filters get exactly that).  sbx's profile parser
	 * refuses such profiles, so the overridden rules are left out here,
	 * where the spec's meaning is known. */
	uncond = json_object();
	for (size_t i = 0; i < json_array_size(calls); i++) {
		const json_t *e = json_array_get(calls, i);
		const json_t *args = json_object_get(e, "args");
		if (args && json_array_size(args) > 0)
			continue;
		const json_t *names = json_object_get(e, "names");
		for (size_t j = 0; j < json_array_size(names); j++) {
			const char *n = json_string_value(json_array_get(names, j));
			if (n && json_object_get(uncond, n) == NULL)
				json_object_set_new(uncond, n, json_integer((json_int_t)i));
		}
	}
	for (size_t i = 0; i < json_array_size(calls); i++) {
		const json_t *e = json_array_get(calls, i);
		char p[64];
		snprintf(p, sizeof(p), ".syscalls[%zu]", i);
		if (!json_is_object(e)) {
			bad(err, p, "%smust be an object", "");
			goto out;
		}
		if (known_keys(e,
			       (const char *const[]){"names", "action", "errnoRet", "args", "comment",
						     "includes", "excludes", NULL},
			       p, err) < 0)
			goto out;
		const json_t *inc = json_object_get(e, "includes"), *exc = json_object_get(e, "excludes");
		if ((inc && json_object_size(inc) > 0) || (exc && json_object_size(exc) > 0)) {
			bad(err, p, "%sincludes/excludes belong to a profile, not to a resolved spec", "");
			goto out;
		}
		char a[64];
		if (action_text(json_string_value(json_object_get(e, "action")),
				json_object_get(e, "errnoRet"), def_errno, a, sizeof(a), p, err) < 0)
			goto out;
		const json_t *names = json_object_get(e, "names");
		if (!json_is_array(names)) {
			bad(err, p, "%snames must be an array", "");
			goto out;
		}
		/* Names this libseccomp does not know are skipped, as runc does:
		 * profiles list calls of newer kernels. */
		size_t kept = 0;
		for (size_t j = 0; j < json_array_size(names); j++) {
			const char *n = json_string_value(json_array_get(names, j));
			if (n == NULL) {
				bad(err, p, "%snames must be strings", "");
				goto out;
			}
			if (!plain_name(n) || seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR)
				continue;
			const json_t *args = json_object_get(e, "args");
			const json_t *first = json_object_get(uncond, n);
			if (first &&
			    (json_array_size(args) > 0 || json_integer_value(first) != (json_int_t)i))
				continue;
			fprintf(o.f, "%s%s", kept ? ", " : "  - names: [", n);
			kept++;
		}
		if (kept == 0)
			continue;
		fprintf(o.f, "]\n    action: %s\n", a);
		if (emit_args(o.f, json_object_get(e, "args"), p, err) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(uncond);
	fclose(o.f);
	if (r == 0)
		*yaml = o.buf;
	else
		free(o.buf);
	return r;
}
