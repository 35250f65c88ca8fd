/* What the sbx program itself costs the host: it is one static executable
 * that never loads NSS modules (no file of the host's /etc/nsswitch.conf
 * setup is read or mapped by the supervisor), and its resident set stays
 * small (issue 16: < 2 MiB, because sbx measures isolation overhead and
 * must be the lightest thing in the measurement).  Sanitizer builds link
 * dynamically and carry shadow memory: these checks skip there. */
#include <criterion/criterion.h>
#include <elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static void setup(void)
{
	h_need_fixture();
	if (SANITIZED)
		cr_skip_test("sanitizer build: sbx is linked dynamically and carries shadow memory");
}

TestSuite(footprint, .init = setup, .timeout = 60);

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "opening %s", path);
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap)
			cr_assert_not_null(buf = realloc(buf, cap = cap ? 2 * cap : 1 << 20));
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

Test(footprint, sbx_is_static_and_links_no_nss_lookup)
{
	size_t len;
	char *img = slurp(h_sbx(), &len);
	cr_assert_geq(len, sizeof(Elf64_Ehdr));
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	cr_assert(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64);
	cr_assert_leq(eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr), len);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		cr_expect_neq(ph[i].p_type, PT_INTERP, "%s asks for a dynamic loader: it is not static", h_sbx());
		cr_expect_neq(ph[i].p_type, PT_DYNAMIC, "%s has a dynamic section", h_sbx());
	}
	/* A static glibc still dlopen()s NSS modules for these: sbx must call
	 * none of them (its ids are numbers, its network is set up by index). */
	static const char *const nss[] = { "getaddrinfo", "getpwnam", "getpwuid", "getgrnam", "getgrgid",
					   "gethostbyname", "getprotobyname", "getprotobynumber", "getservbyname",
					   "initgroups", NULL };
	cr_assert_leq(eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr), len);
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	int symtabs = 0;
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		symtabs++;
		cr_assert_lt(sh[i].sh_link, eh->e_shnum);
		const Elf64_Shdr *strs = &sh[sh[i].sh_link];
		cr_assert_leq(sh[i].sh_offset + sh[i].sh_size, len);
		cr_assert_leq(strs->sh_offset + strs->sh_size, len);
		const Elf64_Sym *sym = (const Elf64_Sym *)(img + sh[i].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++) {
			if (sym[k].st_name >= strs->sh_size || sym[k].st_shndx == SHN_UNDEF)
				continue;
			const char *name = img + strs->sh_offset + sym[k].st_name;
			for (const char *const *n = nss; *n; n++)
				cr_expect(strcmp(name, *n) != 0, "%s links %s (an NSS lookup)", h_sbx(), name);
		}
	}
	cr_expect_gt(symtabs, 0, "%s has no symbol table to check (stripped?)", h_sbx());
	free(img);
}

static long vm_hwm_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The supervisor's peak resident set, read from /proc while the workload
 * runs (the launcher's memory would be folded into wait4's ru_maxrss). */
Test(footprint, supervisor_peak_resident_set_is_under_2_mib)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl(h_sbx(), "sbx", "run", "--rootfs", h_rootfs(), "--", PROBE, "sleep", "337", (char *)NULL);
		_exit(99);
	}
	cr_assert_gt(pid, 0);
	for (int i = 0; i < 200 && h_count_procs("sbx-probe sleep 337") == 0; i++)
		usleep(20000);
	long kib = vm_hwm_kib(pid);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	cr_assert_gt(kib, 0, "no VmHWM for sbx (pid %d)", (int)pid);
	cr_expect_lt(kib, 2048, "sbx's peak resident set is %ld KiB", kib);
}
