/* Pure parsers and formatters for the cgroup files sbx reads and writes.
 * Nothing here touches the filesystem, so unit tests feed them text. */
#ifndef SBX_CGROUP_PARSE_H
#define SBX_CGROUP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/limits.h"

/* One line of /proc/<pid>/cgroup: "hierarchy-ID:controller-list:path".
 * The v2 line is "0::/path" (empty controller list). */
struct sbx_cg_self {
	unsigned hier_id;
	char *controllers; /* "memory", "cpu,cpuacct", "name=systemd", "" for v2 */
	char *path;	   /* absolute within the hierarchy (or cgroup namespace) */
};
int sbx_cg_parse_self(const char *text, struct sbx_cg_self **out, size_t *n, struct sbx_error **err);
void sbx_cg_self_free(struct sbx_cg_self *v, size_t n);

/* A cgroup or cgroup2 mount from /proc/<pid>/mountinfo. */
struct sbx_cg_mount {
	char *mount_point; /* unescaped (\040 -> ' ') */
	char *root;	   /* the part of the hierarchy visible at the mount point */
	bool v2;	   /* fstype cgroup2 */
	char *options;	   /* super options; for v1 they name the controllers */
};
/* Keeps only cgroup/cgroup2 mounts; other lines are skipped. */
int sbx_cg_parse_mountinfo(const char *text, struct sbx_cg_mount **out, size_t *n, struct sbx_error **err);
void sbx_cg_mounts_free(struct sbx_cg_mount *v, size_t n);

/* Path of a cgroup (from /proc/self/cgroup) relative to mount m, or NULL
 * when it is not visible there.  The result points into `self_path`. */
const char *sbx_cg_rel_path(const struct sbx_cg_mount *m, const char *self_path);

/* Whether `word` is one of the items of `list` separated by any of `seps`
 * ("cpu,cpuacct" with ","; "cpu memory pids" with " \n"). */
bool sbx_cg_list_has(const char *list, const char *word, const char *seps);

/* "key value" lines (memory.events, cpu.stat, memory.oom_control,
 * cpuacct.stat, pids.events): 0 and *out set when found, -1 otherwise. */
int sbx_cg_keyed_get(const char *text, const char *key, uint64_t *out);

/* A single number, "max" is UINT64_MAX.  -1 on anything else. */
int sbx_cg_parse_u64(const char *text, uint64_t *out);

/* cpu.max: "QUOTA PERIOD" or "max PERIOD". */
#define SBX_CG_CPU_PERIOD_US 100000u
void sbx_cg_format_cpu_max(double cpus, char *buf, size_t len);
/* Parses cpu.max; *cpus = 0 for "max".  -1 on malformed text. */
int sbx_cg_parse_cpu_max(const char *text, double *cpus);
/* CFS quota in µs for `cpus` CPUs over `period` µs; the kernel refuses
 * quotas below 1 ms, so smaller values are raised to 1000. */
uint64_t sbx_cg_cpu_quota_us(double cpus, uint64_t period_us);

/* Names of run cgroups: "sbx-<creator pid>-<hex>".  A stale cgroup is one
 * whose creator is dead.  Returns false for names sbx did not make. */
bool sbx_cg_parse_name(const char *name, pid_t *creator);

/* One file write that sets a limit, in the order they must happen. */
struct sbx_cg_write {
	int ctrl;	  /* enum sbx_cg_ctrl: which v1 hierarchy; informative on v2 */
	const char *file; /* name inside the run's cgroup */
	char value[48];
};
enum sbx_cg_ctrl { SBX_CG_MEMORY, SBX_CG_PIDS, SBX_CG_CPU, SBX_CG_CPUACCT, SBX_CG_FREEZER, SBX_CG_NCTRL };
extern const char *const sbx_cg_ctrl_names[SBX_CG_NCTRL];
#define SBX_CG_MAX_WRITES 8
#define SBX_CG_BIT(c) (1u << (c))

/* Controller names ("cpu io memory pids", any of " \n,") to a mask of the
 * controllers sbx knows; others are ignored. */
unsigned sbx_cg_ctrl_mask(const char *text);
/* "memory, pids" (sep ", ") or "+memory +pids" (prefix "+", sep " "). */
void sbx_cg_format_ctrls(unsigned mask, const char *prefix, const char *sep, char *buf, size_t len);

/* The writes for the limits.  v2: memory.max, memory.swap.max
 * (swap only), memory.high, pids.max, cpu.max.  v1: limit_in_bytes before
 * memsw.limit_in_bytes (the kernel requires memsw >= limit at all times;
 * memsw counts memory + swap), soft limit for memory_high, pids.max,
 * cfs_period_us before cfs_quota_us.  v1 without memsw and swap 0:
 * memory.swappiness 0 keeps the cgroup's pages out of swap. */
size_t sbx_cg2_limit_writes(const struct sbx_limits *l, struct sbx_cg_write *w);
size_t sbx_cg1_limit_writes(const struct sbx_limits *l, bool have_memsw, struct sbx_cg_write *w);

#endif
