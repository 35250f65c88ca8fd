/* struct sbx_seccomp: a plain program, the kernel's copy of it, and the
 * denial counts the supervisor keeps. */
#include "filter.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/alloc.h"

#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

int sbx_seccomp_from_plain(const struct sock_filter *plain, size_t len, bool spec_allow, bool report_denials,
			   struct sbx_seccomp **out, struct sbx_error **err)
{
	struct sbx_seccomp *f = sbx_xcalloc(1, sizeof(*f));
	f->plain = sbx_xreallocarray(NULL, len, sizeof(*plain));
	f->kernel = sbx_xreallocarray(NULL, len, sizeof(*plain));
	memcpy(f->plain, plain, len * sizeof(*plain));
	memcpy(f->kernel, plain, len * sizeof(*plain));
	f->len = len;
	f->spec_allow = spec_allow;
	/* The kernel parks a USER_NOTIF call until the listener answers; the
	 * supervisor then answers with the errno `plain` gives.  The data bits
	 * of a USER_NOTIF return are ignored by the kernel, hence the plain
	 * copy to recover them. */
	for (size_t i = 0; i < len; i++) {
		struct sock_filter *in = &f->kernel[i];
		if (in->code == (BPF_RET | BPF_A) && report_denials) {
			sbx_seccomp_free(f);
			return sbx_error_set(err, 0, "seccomp filter returns a computed action; cannot report denials");
		}
		if (in->code != (BPF_RET | BPF_K))
			continue;
		uint32_t action = in->k & SECCOMP_RET_ACTION_FULL, data = in->k & SECCOMP_RET_DATA;
		if (action == SECCOMP_RET_TRACE && (data & 0xf000) == SBX_SECCOMP_QUIET) {
			in->k = SECCOMP_RET_ERRNO | (data & 0xfff);
			f->plain[i].k = in->k;
		} else if (action == SECCOMP_RET_ERRNO && report_denials) {
			in->k = SECCOMP_RET_USER_NOTIF;
			f->notify = true;
		}
	}
	*out = f;
	return 0;
}

int sbx_seccomp_from_profile(const struct sbx_seccomp_profile *p, struct sbx_seccomp **out,
			     struct sbx_error **err)
{
	cleanup_free struct sock_filter *plain = NULL;
	size_t len;
	if (sbx_seccomp_build_plain(p, &plain, &len, err) < 0)
		return -1;
	return sbx_seccomp_from_plain(plain, len, p->spec_allow, p->report_denials, out, err);
}

size_t sbx_seccomp_instructions(const struct sbx_seccomp *f)
{
	return f ? f->len : 0;
}

int sbx_seccomp_reports_denials(const struct sbx_seccomp *f)
{
	return f && f->notify;
}

size_t sbx_seccomp_denials(const struct sbx_seccomp *f, const char ***names, const uint64_t **counts)
{
	if (!f) {
		*names = NULL;
		*counts = NULL;
		return 0;
	}
	*names = (const char **)f->names;
	*counts = f->counts;
	return f->n_denials;
}

void sbx_seccomp_name(uint32_t arch, int nr, char *buf, size_t size)
{
	uint32_t native = seccomp_arch_native();
	const char *prefix = "";
	uint32_t scmp_arch = arch;
	if (arch == SCMP_ARCH_X86_64 && (nr & 0x40000000)) {
		prefix = "x32:";
		scmp_arch = SCMP_ARCH_X32;
	} else if (arch != native) {
		switch (arch) {
		case SCMP_ARCH_X86: prefix = "x86:"; break;
		case SCMP_ARCH_ARM: prefix = "arm:"; break;
		default: prefix = "foreign:"; break;
		}
	}
	/* libseccomp returns a malloc'ed name. */
	char *name = seccomp_syscall_resolve_num_arch(scmp_arch, nr);
	if (name)
		snprintf(buf, size, "%s%s", prefix, name);
	else
		snprintf(buf, size, "%ssyscall_%d", prefix, nr);
	free(name);
}

void sbx_seccomp_free(struct sbx_seccomp *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_denials; i++)
		free(f->names[i]);
	free(f->names);
	free(f->counts);
	free(f->keys);
	free(f->plain);
	free(f->kernel);
	free(f);
}
