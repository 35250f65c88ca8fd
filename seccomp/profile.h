/* A seccomp profile as read from YAML, before libseccomp sees it.  Every
 * element remembers its line so that errors found later (while compiling)
 * still name the file and line.  The format is documented in docs/seccomp.md. */
#ifndef SBX_SECCOMP_PROFILE_H
#define SBX_SECCOMP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define SBX_SECCOMP_MAX_ARCHES 8
#define SBX_SECCOMP_MAX_ARGS 6

/* While building, an errno rule with `report: false` is given to libseccomp
 * as TRACE(SBX_SECCOMP_QUIET | errno), an action no profile can use, and
 * turned back into that errno returned by the kernel itself (never
 * notified).  libseccomp refuses errno values above 4095, hence TRACE. */
#define SBX_SECCOMP_QUIET 0x4000u

enum sbx_seccomp_op {
	SBX_OP_EQ,
	SBX_OP_NE,
	SBX_OP_LT,
	SBX_OP_LE,
	SBX_OP_GT,
	SBX_OP_GE,
	SBX_OP_MASKED_EQ,
};

struct sbx_seccomp_cond {
	unsigned index; /* argument 0..5 */
	enum sbx_seccomp_op op;
	uint64_t value;
	uint64_t mask; /* masked_eq only */
};

/* One syscall with one action under all of its conditions (ANDed).  A YAML
 * entry naming several syscalls, or a condition with a list of values,
 * becomes several of these. */
struct sbx_seccomp_rule {
	char *syscall;
	int line;
	uint32_t action; /* libseccomp action (SCMP_ACT_*) */
	bool quiet;      /* errno returned by the kernel itself: not reported */
	size_t n_conds;
	struct sbx_seccomp_cond conds[SBX_SECCOMP_MAX_ARGS];
};

struct sbx_seccomp_profile {
	char *file; /* for messages */
	uint32_t default_action;
	/* Syscalls numbered above `newest_syscall` (on each architecture) are
	 * newer than the profile and get newer_action (usually ENOSYS, so that
	 * libc falls back to an older call). */
	bool has_newer;
	uint32_t newer_action;
	char *newest_syscall;
	int newest_line;
	uint32_t bad_arch_action;
	uint32_t arches[SBX_SECCOMP_MAX_ARCHES]; /* SCMP_ARCH_*; native first */
	size_t n_arches;
	bool spec_allow;     /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
	bool report_denials; /* errno actions go through the supervisor */
	struct sbx_seccomp_rule *rules;
	size_t n_rules;
};

/* Parse YAML text (len bytes).  `file` names it in messages. */
int sbx_seccomp_profile_parse(const char *text, size_t len, const char *file,
			      struct sbx_seccomp_profile *p, struct sbx_error **err);
int sbx_seccomp_profile_load(const char *path, struct sbx_seccomp_profile *p, struct sbx_error **err);
void sbx_seccomp_profile_free(struct sbx_seccomp_profile *p);

/* "allow", "errno EPERM", "kill_process", ... -> SCMP_ACT_*; -1 if invalid. */
int sbx_seccomp_parse_action(const char *s, uint32_t *action);
/* Text form of an action, for messages and `export` notes. */
void sbx_seccomp_format_action(uint32_t action, char *buf, size_t size);

#endif
