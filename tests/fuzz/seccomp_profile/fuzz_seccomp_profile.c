/* Seccomp profiles (seccomp/profile.c, build.c, bpf.c): YAML text to a
 * profile, the profile through libseccomp to the BPF program sbx would load
 * (nothing is loaded), and that program run by sbx's own interpreter on a
 * few syscalls.  The input's first byte says whether to compile: libseccomp
 * is slow, and most of the parser's paths never get that far. */
#include <assert.h>
#include <linux/audit.h>

#include "seccomp/bpf.h"
#include "seccomp/filter.h"
#include "seccomp/profile.h"
#include "tests/fuzz/common.h"

/* libseccomp 2.5.4 (Debian 12) leaks tree nodes in seccomp_rule_add_array
 * when a rule on a syscall is a superset of earlier rules on it (corpus:
 * libseccomp-superset-leak; reproduced with libseccomp alone, sbx releases
 * the context).  Not ours to fix: suppress it, so that sbx's own leaks
 * still stop the fuzzer. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libseccomp.so\n"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int compile = data[0] & 1;
	struct sbx_seccomp_profile p;
	memset(&p, 0, sizeof(p));
	struct sbx_error *err = NULL;
	int r = sbx_seccomp_profile_parse((const char *)data + 1, size - 1, "fuzz.yaml", &p, &err);
	if (r < 0) {
		assert(err != NULL && err->msg != NULL);
		sbx_error_free(&err);
		sbx_seccomp_profile_free(&p);
		return 0;
	}
	if (compile) {
		struct sbx_seccomp *f = NULL;
		if (sbx_seccomp_from_profile(&p, &f, &err) == 0) {
			static const int nrs[] = { 0, 1, 39, 59, 165, 231, 435, 1000 };
			for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
				struct seccomp_data d = { .nr = nrs[i], .arch = AUDIT_ARCH_X86_64 };
				d.args[0] = size;
				(void)sbx_bpf_run(f->plain, f->len, &d);
				(void)sbx_bpf_run(f->kernel, f->len, &d);
			}
			sbx_seccomp_free(f);
		} else {
			assert(err != NULL && err->msg != NULL);
		}
		sbx_error_free(&err);
	}
	sbx_seccomp_profile_free(&p);
	return 0;
}
