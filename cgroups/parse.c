#include "cgroups/parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

const char *const sbx_cg_ctrl_names[SBX_CG_NCTRL] = {"memory", "pids", "cpu", "cpuacct", "freezer"};

void sbx_cg_self_free(struct sbx_cg_self *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].controllers);
		free(v[i].path);
	}
	free(v);
}

int sbx_cg_parse_self(const char *text, struct sbx_cg_self **out, size_t *n, struct sbx_error **err)
{
	struct sbx_cg_self *v = NULL;
	size_t count = 0;
	unsigned lineno = 0;
	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		lineno++;
		if (eol > line) {
			/* The path may itself contain ':', so split at the first two only. */
			const char *c1 = memchr(line, ':', eol - line);
			const char *c2 = c1 ? memchr(c1 + 1, ':', eol - c1 - 1) : NULL;
			char *end = NULL;
			unsigned long id = strtoul(line, &end, 10);
			if (c2 == NULL || end != c1 || c1 == line || c2[1] != '/') {
				sbx_cg_self_free(v, count);
				return sbx_error_set(err, 0, "malformed line %u of /proc/self/cgroup: '%.*s'",
						     lineno, (int)(eol - line), line);
			}
			v = sbx_xreallocarray(v, count + 1, sizeof(*v));
			v[count].hier_id = id;
			v[count].controllers = sbx_xstrndup(c1 + 1, c2 - c1 - 1);
			v[count].path = sbx_xstrndup(c2 + 1, eol - c2 - 1);
			count++;
		}
		line = *eol ? eol + 1 : eol;
	}
	*out = v;
	*n = count;
	return 0;
}

void sbx_cg_mounts_free(struct sbx_cg_mount *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].mount_point);
		free(v[i].root);
		free(v[i].options);
	}
	free(v);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t len)
{
	char *r = sbx_xstrndup(s, len);
	char *w = r;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
		    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*w++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
			continue;
		}
		*w++ = s[i];
	}
	*w = '\0';
	return r;
}

/* Splits a line into space-separated fields (at most `max`). */
static size_t split_fields(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
	size_t n = 0;
	size_t i = 0;
	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && line[i] != ' ')
			i++;
		f[n] = line + start;
		flen[n] = i - start;
		n++;
	}
	return n;
}

int sbx_cg_parse_mountinfo(const char *text, struct sbx_cg_mount **out, size_t *n, struct sbx_error **err)
{
	struct sbx_cg_mount *v = NULL;
	size_t count = 0;
	unsigned lineno = 0;
	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		lineno++;
		const char *f[64];
		size_t fl[64];
		size_t nf = split_fields(line, eol - line, f, fl, 64);
		/* id parent maj:min root mount-point options [optional...] - fstype source super-options */
		size_t sep = 0;
		for (size_t i = 6; i < nf; i++)
			if (fl[i] == 1 && f[i][0] == '-') {
				sep = i;
				break;
			}
		if (nf > 0 && (sep == 0 || sep + 2 >= nf)) {
			sbx_cg_mounts_free(v, count);
			return sbx_error_set(err, 0, "malformed line %u of mountinfo", lineno);
		}
		if (nf > 0) {
			const char *fs = f[sep + 1];
			size_t fsl = fl[sep + 1];
			bool v1 = fsl == 6 && memcmp(fs, "cgroup", 6) == 0;
			bool v2 = fsl == 7 && memcmp(fs, "cgroup2", 7) == 0;
			if (v1 || v2) {
				v = sbx_xreallocarray(v, count + 1, sizeof(*v));
				v[count].root = unescape(f[3], fl[3]);
				v[count].mount_point = unescape(f[4], fl[4]);
				v[count].v2 = v2;
				v[count].options =
				    sep + 3 < nf ? sbx_xstrndup(f[sep + 3], fl[sep + 3]) : sbx_xstrndup("", 0);
				count++;
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	*out = v;
	*n = count;
	return 0;
}

const char *sbx_cg_rel_path(const struct sbx_cg_mount *m, const char *self_path)
{
	/* "/.." prefixes mark a cgroup outside the reader's cgroup namespace. */
	if (strncmp(self_path, "/..", 3) == 0)
		return NULL;
	if (strcmp(m->root, "/") == 0)
		return self_path;
	size_t rl = strlen(m->root);
	if (strncmp(self_path, m->root, rl) != 0 || (self_path[rl] != '/' && self_path[rl] != '\0'))
		return NULL;
	return self_path[rl] ? self_path + rl : "/";
}

bool sbx_cg_list_has(const char *list, const char *word, const char *seps)
{
	size_t wl = strlen(word);
	const char *p = list;
	while (p && *p) {
		size_t skip = strspn(p, seps);
		p += skip;
		size_t len = strcspn(p, seps);
		if (len == wl && memcmp(p, word, wl) == 0)
			return true;
		p += len;
	}
	return false;
}

int sbx_cg_keyed_get(const char *text, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		if ((size_t)(eol - line) > kl && memcmp(line, key, kl) == 0 && line[kl] == ' ') {
			const char *num = line + kl + 1;
			if (!isdigit((unsigned char)*num))
				return -1;
			char *end = NULL;
			errno = 0;
			unsigned long long val = strtoull(num, &end, 10);
			if (errno != 0 || (end != eol && !isspace((unsigned char)*end)))
				return -1;
			*out = val;
			return 0;
		}
		line = *eol ? eol + 1 : eol;
	}
	return -1;
}

int sbx_cg_parse_u64(const char *text, uint64_t *out)
{
	if (strncmp(text, "max", 3) == 0 && (text[3] == '\0' || text[3] == '\n')) {
		*out = UINT64_MAX;
		return 0;
	}
	if (!isdigit((unsigned char)text[0]))
		return -1;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '\n'))
		return -1;
	*out = v;
	return 0;
}

uint64_t sbx_cg_cpu_quota_us(double cpus, uint64_t period_us)
{
	double q = round(cpus * (double)period_us);
	if (q < 1000)
		q = 1000;
	return (uint64_t)q;
}

void sbx_cg_format_cpu_max(double cpus, char *buf, size_t len)
{
	if (cpus <= 0)
		snprintf(buf, len, "max %u", SBX_CG_CPU_PERIOD_US);
	else
		snprintf(buf, len, "%" PRIu64 " %u", sbx_cg_cpu_quota_us(cpus, SBX_CG_CPU_PERIOD_US),
			 SBX_CG_CPU_PERIOD_US);
}

int sbx_cg_parse_cpu_max(const char *text, double *cpus)
{
	char quota[32];
	unsigned long long period = 0;
	if (sscanf(text, "%31s %llu", quota, &period) != 2 || period == 0)
		return -1;
	if (strcmp(quota, "max") == 0) {
		*cpus = 0;
		return 0;
	}
	uint64_t q;
	if (sbx_cg_parse_u64(quota, &q) < 0 || q == UINT64_MAX)
		return -1;
	*cpus = (double)q / (double)period;
	return 0;
}

bool sbx_cg_parse_name(const char *name, pid_t *creator)
{
	if (strncmp(name, "sbx-", 4) != 0 || !isdigit((unsigned char)name[4]))
		return false;
	char *end = NULL;
	errno = 0;
	long pid = strtol(name + 4, &end, 10);
	if (errno != 0 || pid <= 0 || pid > 0x3fffffff || *end != '-' || end[1] == '\0')
		return false;
	for (const char *p = end + 1; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'a' && *p <= 'z'))
			return false;
	*creator = (pid_t)pid;
	return true;
}

static void add(struct sbx_cg_write *w, size_t *n, int ctrl, const char *file, const char *fmt, uint64_t v)
{
	w[*n].ctrl = ctrl;
	w[*n].file = file;
	snprintf(w[*n].value, sizeof(w[*n].value), fmt, v);
	(*n)++;
}

size_t sbx_cg2_limit_writes(const struct sbx_limits *l, struct sbx_cg_write *w)
{
	size_t n = 0;
	if (l->memory)
		add(w, &n, SBX_CG_MEMORY, "memory.max", "%" PRIu64, l->memory);
	if (l->memory_swap != SBX_UNSET)
		add(w, &n, SBX_CG_MEMORY, "memory.swap.max", "%" PRIu64, l->memory_swap);
	if (l->memory_high)
		add(w, &n, SBX_CG_MEMORY, "memory.high", "%" PRIu64, l->memory_high);
	if (l->pids)
		add(w, &n, SBX_CG_PIDS, "pids.max", "%" PRIu64, l->pids);
	if (l->cpus > 0) {
		w[n].ctrl = SBX_CG_CPU;
		w[n].file = "cpu.max";
		sbx_cg_format_cpu_max(l->cpus, w[n].value, sizeof(w[n].value));
		n++;
	}
	return n;
}

size_t sbx_cg1_limit_writes(const struct sbx_limits *l, bool have_memsw, struct sbx_cg_write *w)
{
	size_t n = 0;
	if (l->memory) {
		add(w, &n, SBX_CG_MEMORY, "memory.limit_in_bytes", "%" PRIu64, l->memory);
		if (l->memory_swap != SBX_UNSET && have_memsw) {
			uint64_t sum = l->memory + l->memory_swap;
			if (sum < l->memory) /* overflow: no swap limit */
				sum = UINT64_MAX;
			/* "-1" is v1's "no limit". */
			if (sum == UINT64_MAX)
				add(w, &n, SBX_CG_MEMORY, "memory.memsw.limit_in_bytes", "-1", 0);
			else
				add(w, &n, SBX_CG_MEMORY, "memory.memsw.limit_in_bytes", "%" PRIu64, sum);
		}
	}
	if (l->memory_swap == 0 && (!have_memsw || !l->memory))
		add(w, &n, SBX_CG_MEMORY, "memory.swappiness", "%" PRIu64, 0);
	if (l->memory_high)
		add(w, &n, SBX_CG_MEMORY, "memory.soft_limit_in_bytes", "%" PRIu64, l->memory_high);
	if (l->pids)
		add(w, &n, SBX_CG_PIDS, "pids.max", "%" PRIu64, l->pids);
	if (l->cpus > 0) {
		add(w, &n, SBX_CG_CPU, "cpu.cfs_period_us", "%" PRIu64, SBX_CG_CPU_PERIOD_US);
		add(w, &n, SBX_CG_CPU, "cpu.cfs_quota_us", "%" PRIu64,
		    sbx_cg_cpu_quota_us(l->cpus, SBX_CG_CPU_PERIOD_US));
	}
	return n;
}

unsigned sbx_cg_ctrl_mask(const char *text)
{
	unsigned m = 0;
	for (int c = 0; c < SBX_CG_NCTRL; c++)
		if (sbx_cg_list_has(text, sbx_cg_ctrl_names[c], " \n,"))
			m |= SBX_CG_BIT(c);
	return m;
}

void sbx_cg_format_ctrls(unsigned mask, const char *prefix, const char *sep, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int c = 0; c < SBX_CG_NCTRL; c++) {
		if (!(mask & SBX_CG_BIT(c)))
			continue;
		int w =
		    snprintf(buf + used, len - used, "%s%s%s", used ? sep : "", prefix, sbx_cg_ctrl_names[c]);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += w;
	}
}
