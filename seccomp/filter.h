/* Inside of struct sbx_seccomp and the steps that make one.  Internal to
 * seccomp/ (and its tests). */
#ifndef SBX_SECCOMP_FILTER_H
#define SBX_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "seccomp.h"

struct sbx_seccomp_denial {
	uint32_t arch; /* AUDIT_ARCH_* as seen in seccomp_data */
	int nr;
};

struct sbx_seccomp {
	/* What the profile means: every denial is a SECCOMP_RET_ERRNO.  The
	 * supervisor runs it on each notification to find the errno. */
	struct sock_filter *plain;
	/* What the kernel runs: `plain` with ERRNO returns turned into
	 * USER_NOTIF when denials are reported, else the same. */
	struct sock_filter *kernel;
	size_t len;
	bool notify;
	bool spec_allow;
	/* Denials, by (arch, nr); names/counts are what sbx_seccomp_denials()
	 * hands out. */
	struct sbx_seccomp_denial *keys;
	char **names;
	uint64_t *counts;
	size_t n_denials;
	/* Rate limit (notify.c): answers given in the current window, and
	 * when that window started (CLOCK_MONOTONIC ns). */
	uint64_t window_start_ns;
	unsigned window_answers;
};

/* Profile -> the plain program (malloc'ed, into prog and len) through libseccomp.
 * The profile's file and lines appear in errors. */
int sbx_seccomp_build_plain(const struct sbx_seccomp_profile *p, struct sock_filter **prog, size_t *len,
			    struct sbx_error **err);
/* The same as libseccomp makes it, before sbx_bpf_compact (compact.h):
 * build_plain's first half, and what its tests compare it with. */
int sbx_seccomp_build_libseccomp(const struct sbx_seccomp_profile *p, struct sock_filter **prog, size_t *len,
				 struct sbx_error **err);
/* libseccomp's pseudo filter code for the profile, with notes, written to fd. */
int sbx_seccomp_write_pfc(const struct sbx_seccomp_profile *p, int fd, struct sbx_error **err);
/* Wrap a plain program (copied) into a loadable filter. */
int sbx_seccomp_from_plain(const struct sock_filter *plain, size_t len, bool spec_allow, bool report_denials,
			   struct sbx_seccomp **out, struct sbx_error **err);
/* Compile a profile already parsed. */
int sbx_seccomp_from_profile(const struct sbx_seccomp_profile *p, struct sbx_seccomp **out,
			     struct sbx_error **err);
/* Name a denied call the way the report shows it. */
void sbx_seccomp_name(uint32_t arch, int nr, char *buf, size_t size);

/* The built-in default profile (generated at build time from
 * seccomp/profiles/default.yaml, see seccomp/module.mk). */
extern const char sbx_seccomp_default_yaml[];
extern const size_t sbx_seccomp_default_yaml_len;
extern const struct sock_filter sbx_seccomp_default_plain[];
extern const size_t sbx_seccomp_default_plain_len;
extern const bool sbx_seccomp_default_spec_allow;
extern const bool sbx_seccomp_default_report_denials;

#endif
