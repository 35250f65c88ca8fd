/* Profile -> BPF through libseccomp.
 *
 * libseccomp cannot say "syscalls numbered above N", which the profile's
 * newer_action needs, so the filter is generated with a marker default
 * action (TRACE with a data value no rule can use) and every marker return
 * is then replaced by a jump to a short block appended at the end that
 * reloads arch and number and picks default_action or newer_action. */
#include "filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/alloc.h"
#include "compact.h"

#define MARKER SCMP_ACT_TRACE(0x5b5)
#define MARKER_TEXT "TRACE(1461)"

static const char *arch_name(uint32_t arch)
{
	switch (arch) {
	case SCMP_ARCH_X86_64: return "x86_64";
	case SCMP_ARCH_X86: return "x86";
	case SCMP_ARCH_AARCH64: return "aarch64";
	case SCMP_ARCH_ARM: return "arm";
	case SCMP_ARCH_PPC64LE: return "ppc64le";
	case SCMP_ARCH_S390X: return "s390x";
	case SCMP_ARCH_RISCV64: return "riscv64";
	}
	return "?";
}

static void scmp_cond(const struct sbx_seccomp_cond *c, struct scmp_arg_cmp *out)
{
	static const enum scmp_compare map[] = {
		[SBX_OP_EQ] = SCMP_CMP_EQ, [SBX_OP_NE] = SCMP_CMP_NE, [SBX_OP_LT] = SCMP_CMP_LT,
		[SBX_OP_LE] = SCMP_CMP_LE, [SBX_OP_GT] = SCMP_CMP_GT, [SBX_OP_GE] = SCMP_CMP_GE,
		[SBX_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
	};
	out->arg = c->index;
	out->op = map[c->op];
	if (c->op == SBX_OP_MASKED_EQ) {
		out->datum_a = c->mask;
		out->datum_b = c->value;
	} else {
		out->datum_a = c->value;
		out->datum_b = 0;
	}
}

static void ctx_release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}
#define cleanup_scmp __attribute__((cleanup(ctx_release)))

/* for_bpf: mark quiet errno rules (see SBX_SECCOMP_QUIET in profile.h);
 * the pseudo filter code shows plain errnos instead. */
static int make_ctx(const struct sbx_seccomp_profile *p, bool for_bpf, scmp_filter_ctx *out,
		    struct sbx_error **err)
{
	cleanup_scmp scmp_filter_ctx ctx = seccomp_init(MARKER);
	if (!ctx)
		return sbx_error_set(err, 0, "%s: libseccomp: seccomp_init failed", p->file);
	int rc;
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, p->bad_arch_action)) < 0)
		return sbx_error_set(err, -rc, "%s: libseccomp: bad_arch_action", p->file);
	/* A binary tree of syscall numbers: fewer instructions per call than a
	 * linear list, and a faster load (docs/seccomp.md). */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		return sbx_error_set(err, -rc, "%s: libseccomp: SCMP_FLTATR_CTL_OPTIMIZE", p->file);
	for (size_t i = 1; i < p->n_arches; i++)
		if ((rc = seccomp_arch_add(ctx, p->arches[i])) < 0 && rc != -EEXIST)
			return sbx_error_set(err, -rc, "%s: libseccomp: adding architecture %s", p->file,
					     arch_name(p->arches[i]));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct sbx_seccomp_rule *r = &p->rules[i];
		struct scmp_arg_cmp cmps[SBX_SECCOMP_MAX_ARGS];
		for (size_t c = 0; c < r->n_conds; c++)
			scmp_cond(&r->conds[c], &cmps[c]);
		int nr = seccomp_syscall_resolve_name(r->syscall);
		uint32_t action = r->action;
		if (r->quiet && for_bpf)
			action = SCMP_ACT_TRACE(SBX_SECCOMP_QUIET | (r->action & 0xfff));
		rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_conds, cmps);
		if (rc < 0)
			return sbx_error_set(err, -rc, "%s:%d: libseccomp rejected the rule for \"%s\"", p->file,
					     r->line, r->syscall);
	}
	*out = steal_ptr(ctx);
	return 0;
}

/* Everything libseccomp wrote into a memfd, as a malloc'ed buffer. */
static int export_to_buffer(scmp_filter_ctx ctx, bool pfc, char **buf, size_t *len, struct sbx_error **err)
{
	cleanup_close int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "memfd_create");
	int rc = pfc ? seccomp_export_pfc(ctx, fd) : seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return sbx_error_set(err, -rc, "libseccomp: exporting the filter");
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return sbx_error_set(err, errno, "lseek memfd");
	cleanup_free char *b = sbx_xmalloc((size_t)size + 1);
	if (pread(fd, b, (size_t)size, 0) != size)
		return sbx_error_set(err, errno, "reading back the exported filter");
	b[size] = '\0';
	*buf = steal_ptr(b);
	*len = (size_t)size;
	return 0;
}

static struct sock_filter stmt(uint16_t code, uint32_t k)
{
	return (struct sock_filter)BPF_STMT(code, k);
}

static struct sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	return (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

int sbx_seccomp_build_libseccomp(const struct sbx_seccomp_profile *p, struct sock_filter **prog, size_t *len,
				 struct sbx_error **err)
{
	cleanup_scmp scmp_filter_ctx ctx = NULL;
	if (make_ctx(p, true, &ctx, err) < 0)
		return -1;
	cleanup_free char *raw = NULL;
	size_t bytes;
	if (export_to_buffer(ctx, false, &raw, &bytes, err) < 0)
		return sbx_error_wrap(err, "%s", p->file);
	size_t n = bytes / sizeof(struct sock_filter);
	size_t n_arch = p->n_arches;
	size_t extra = p->has_newer ? 2 + n_arch + 4 * n_arch : 0;
	if (n + extra > BPF_MAXINSNS)
		return sbx_error_set(err, 0, "%s: the filter has %zu instructions, more than the kernel's %d",
				     p->file, n + extra, BPF_MAXINSNS);
	cleanup_free struct sock_filter *f = sbx_xcalloc(n + extra, sizeof(*f));
	memcpy(f, raw, n * sizeof(*f));

	size_t dispatch = n;
	for (size_t i = 0; i < n; i++) {
		if (f[i].code != (BPF_RET | BPF_K) || f[i].k != MARKER)
			continue;
		if (p->has_newer)
			f[i] = stmt(BPF_JMP | BPF_JA, (uint32_t)(dispatch - i - 1));
		else
			f[i].k = p->default_action;
	}
	if (p->has_newer) {
		/* ld arch; one jeq per arch to its block; ret default;
		 * per arch: ld nr; jgt newest -> newer; ret default; ret newer */
		size_t at = dispatch;
		f[at++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
		for (size_t a = 0; a < n_arch; a++) {
			size_t block = dispatch + 1 + n_arch + 1 + 4 * a;
			f[at] = jump(BPF_JMP | BPF_JEQ | BPF_K, p->arches[a], (uint8_t)(block - at - 1), 0);
			at++;
		}
		f[at++] = stmt(BPF_RET | BPF_K, p->default_action);
		for (size_t a = 0; a < n_arch; a++) {
			int newest = seccomp_syscall_resolve_name_arch(p->arches[a], p->newest_syscall);
			if (newest < 0)
				return sbx_error_set(err, 0, "%s:%d: newest_syscall \"%s\" does not exist on %s",
						     p->file, p->newest_line, p->newest_syscall,
						     arch_name(p->arches[a]));
			f[at++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
			f[at++] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)newest, 1, 0);
			f[at++] = stmt(BPF_RET | BPF_K, p->default_action);
			f[at++] = stmt(BPF_RET | BPF_K, p->newer_action);
		}
	}
	*len = n + extra;
	*prog = steal_ptr(f);
	return 0;
}

int sbx_seccomp_build_plain(const struct sbx_seccomp_profile *p, struct sock_filter **prog, size_t *len,
			    struct sbx_error **err)
{
	if (sbx_seccomp_build_libseccomp(p, prog, len, err) < 0)
		return -1;
	/* One architecture (the default profile's case): the shorter program
	 * with the same answers, cheaper for the kernel to load (compact.h). */
	struct sock_filter *shorter;
	size_t n_shorter;
	if (p->n_arches == 1 && sbx_bpf_compact(*prog, *len, p->arches[0], &shorter, &n_shorter) == 1) {
		free(*prog);
		*prog = shorter;
		*len = n_shorter;
	}
	return 0;
}

int sbx_seccomp_write_pfc(const struct sbx_seccomp_profile *p, int fd, struct sbx_error **err)
{
	cleanup_scmp scmp_filter_ctx ctx = NULL;
	if (make_ctx(p, false, &ctx, err) < 0)
		return -1;
	cleanup_free char *text = NULL;
	size_t len;
	if (export_to_buffer(ctx, true, &text, &len, err) < 0)
		return sbx_error_wrap(err, "%s", p->file);
	cleanup_fclose FILE *out = fdopen(dup(fd), "w");
	if (!out)
		return sbx_error_set(err, errno, "fdopen");
	char def[64], newer[64], bad[64];
	sbx_seccomp_format_action(p->default_action, def, sizeof(def));
	sbx_seccomp_format_action(p->newer_action, newer, sizeof(newer));
	sbx_seccomp_format_action(p->bad_arch_action, bad, sizeof(bad));
	fprintf(out, "# sbx seccomp profile %s\n", p->file);
	if (p->has_newer)
		fprintf(out, "# DEFAULT = %s for syscalls up to %s, %s for newer ones\n", def, p->newest_syscall,
			newer);
	else
		fprintf(out, "# DEFAULT = %s\n", def);
	fprintf(out, "# bad architecture: %s\n", bad);
	bool quiet = false;
	for (size_t i = 0; i < p->n_rules; i++)
		quiet |= p->rules[i].quiet;
	fprintf(out, "# errno results are %s\n",
		p->report_denials ? (quiet ? "delivered as USER_NOTIF and answered (and counted) by sbx, "
					     "except those of rules with report: false"
					   : "delivered as USER_NOTIF and answered (and counted) by sbx")
				  : "returned by the kernel (not counted)");
	fprintf(out, "# SECCOMP_FILTER_FLAG_SPEC_ALLOW: %s\n", p->spec_allow ? "yes" : "no");
	/* libseccomp names our marker TRACE(1461); show what it stands for. */
	for (char *s = text; *s;) {
		char *m = strstr(s, MARKER_TEXT);
		if (!m) {
			fputs(s, out);
			break;
		}
		fwrite(s, 1, (size_t)(m - s), out);
		fputs("DEFAULT", out);
		s = m + strlen(MARKER_TEXT);
	}
	if (fflush(out) != 0 || ferror(out))
		return sbx_error_set(err, errno, "writing the pseudo filter code");
	return 0;
}
