/* Seccomp profiles without the kernel: YAML -> pseudo filter code (exact),
 * every kind of invalid profile with its file:line message, and what the
 * default profile's program answers for the calls it must deny (run through
 * the same BPF interpreter the supervisor uses). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp/bpf.h"
#include "seccomp/filter.h"
#include "seccomp/profile.h"

static char *pfc_of(const char *yaml)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	int rc = sbx_seccomp_profile_parse(yaml, strlen(yaml), "t.yaml", &p, &err);
	cr_assert_eq(rc, 0, "parse: %s", err ? err->msg : "");
	int fd = memfd_create("pfc", 0);
	cr_assert_geq(fd, 0);
	rc = sbx_seccomp_write_pfc(&p, fd, &err);
	cr_assert_eq(rc, 0, "pfc: %s", err ? err->msg : "");
	off_t size = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)size + 1);
	cr_assert_eq(pread(fd, text, (size_t)size, 0), size);
	close(fd);
	sbx_seccomp_profile_free(&p);
	return text;
}

/* The part between libseccomp's start and end markers. */
static const char *body(const char *pfc)
{
	const char *b = strstr(pfc, "# pseudo filter code start\n#\n");
	cr_assert_not_null(b);
	return b + strlen("# pseudo filter code start\n#\n");
}

Test(seccomp_profile, pfc_unconditional_rules)
{
	char *pfc = pfc_of("default_action: errno EPERM\n"
			   "syscalls:\n"
			   "  - names: [read, write, sendmsg]\n"
			   "    action: allow\n"
			   "  - names: getpid\n"
			   "    action: errno EACCES\n");
	cr_assert(strstr(pfc, "# DEFAULT = errno EPERM\n"), "%s", pfc);
	cr_assert(strstr(pfc, "# bad architecture: kill_process\n"), "%s", pfc);
	cr_assert_str_eq(body(pfc), "# filter for arch x86_64 (3221225534)\n"
				    "if ($arch == 3221225534)\n"
				    "  # filter for syscall \"sendmsg\" (46) [priority: 65535]\n"
				    "  if ($syscall == 46)\n"
				    "    action ALLOW;\n"
				    "  # filter for syscall \"getpid\" (39) [priority: 65535]\n"
				    "  if ($syscall == 39)\n"
				    "    action ERRNO(13);\n"
				    "  # filter for syscall \"write\" (1) [priority: 65535]\n"
				    "  if ($syscall == 1)\n"
				    "    action ALLOW;\n"
				    "  # filter for syscall \"read\" (0) [priority: 65535]\n"
				    "  if ($syscall == 0)\n"
				    "    action ALLOW;\n"
				    "  # default action\n"
				    "  action DEFAULT;\n"
				    "# invalid architecture action\n"
				    "action KILL_PROCESS;\n"
				    "#\n"
				    "# pseudo filter code end\n"
				    "#\n");
	free(pfc);
}

Test(seccomp_profile, pfc_conditions_and_value_lists)
{
	char *pfc = pfc_of("default_action: errno EPERM\n"
			   "report_denials: false\n"
			   "syscalls:\n"
			   "  - names: [socket]\n"
			   "    action: allow\n"
			   "    args:\n"
			   "      - { index: 0, op: eq, value: [AF_UNIX, AF_INET] }\n"
			   "  - names: [clone]\n"
			   "    action: allow\n"
			   "    args:\n"
			   "      - { index: 0, op: masked_eq, mask: \"CLONE_NEWUSER|CLONE_NEWNS\", value: 0 }\n");
	cr_assert(strstr(pfc, "# errno results are returned by the kernel (not counted)\n"), "%s", pfc);
	cr_assert_str_eq(body(pfc), "# filter for arch x86_64 (3221225534)\n"
				    "if ($arch == 3221225534)\n"
				    "  # filter for syscall \"clone\" (56) [priority: 65533]\n"
				    "  if ($syscall == 56)\n"
				    "    if ($a0.hi32 & 0x00000000 == 0)\n"
				    "      if ($a0.lo32 & 0x10020000 == 0)\n"
				    "        action ALLOW;\n"
				    "  # filter for syscall \"socket\" (41) [priority: 65532]\n"
				    "  if ($syscall == 41)\n"
				    "    if ($a0.hi32 == 0)\n"
				    "      if ($a0.lo32 == 2)\n"
				    "        action ALLOW;\n"
				    "      if ($a0.lo32 == 1)\n"
				    "        action ALLOW;\n"
				    "  # default action\n"
				    "  action DEFAULT;\n"
				    "# invalid architecture action\n"
				    "action KILL_PROCESS;\n"
				    "#\n"
				    "# pseudo filter code end\n"
				    "#\n");
	free(pfc);
}

Test(seccomp_profile, pfc_newer_action_and_bad_arch)
{
	char *pfc = pfc_of("default_action: kill_process\n"
			   "newest_syscall: futex_requeue\n"
			   "newer_action: errno ENOSYS\n"
			   "bad_arch_action: errno ENOSYS\n"
			   "report_denials: no\n"
			   "syscalls:\n"
			   "  - names: [ioctl]\n"
			   "    action: errno ENOTTY\n"
			   "    args:\n"
			   "      - { index: 1, op: eq, value: TIOCSTI }\n");
	cr_assert(strstr(pfc, "# DEFAULT = kill_process for syscalls up to futex_requeue, errno ENOSYS for newer "
			      "ones\n"),
		  "%s", pfc);
	cr_assert_str_eq(body(pfc), "# filter for arch x86_64 (3221225534)\n"
				    "if ($arch == 3221225534)\n"
				    "  # filter for syscall \"ioctl\" (16) [priority: 65533]\n"
				    "  if ($syscall == 16)\n"
				    "    if ($a1.hi32 == 0)\n"
				    "      if ($a1.lo32 == 21522)\n"
				    "        action ERRNO(25);\n"
				    "  # default action\n"
				    "  action DEFAULT;\n"
				    "# invalid architecture action\n"
				    "action ERRNO(38);\n"
				    "#\n"
				    "# pseudo filter code end\n"
				    "#\n");
	free(pfc);
}

/* ---- invalid profiles: each names file:line and the value ---- */

static void expect_error(const char *yaml, const char *message)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	int rc = sbx_seccomp_profile_parse(yaml, strlen(yaml), "bad.yaml", &p, &err);
	struct sbx_seccomp *f = NULL;
	if (rc == 0) /* some errors only show when libseccomp builds the filter */
		rc = sbx_seccomp_from_profile(&p, &f, &err);
	sbx_seccomp_free(f);
	sbx_seccomp_profile_free(&p);
	cr_assert_lt(rc, 0, "accepted:\n%s", yaml);
	cr_assert_str_eq(err->msg, message);
	sbx_error_free(&err);
}

#define HEAD "default_action: errno EPERM\nsyscalls:\n  - names: [sendmsg]\n    action: allow\n"

Test(seccomp_profile, error_unknown_syscall)
{
	expect_error(HEAD "  - names: [read, frobnicate]\n    action: allow\n",
		     "bad.yaml:5: unknown syscall \"frobnicate\"");
}

Test(seccomp_profile, error_bad_action)
{
	expect_error(HEAD "  - names: [read]\n    action: permit\n",
		     "bad.yaml:6: action: invalid action \"permit\" (allow, log, errno NAME|NUMBER, "
		     "kill_process, kill_thread, trap)");
}

Test(seccomp_profile, error_bad_errno)
{
	expect_error("default_action: errno EWHATEVER\n",
		     "bad.yaml:1: default_action: invalid action \"errno EWHATEVER\" (allow, log, errno "
		     "NAME|NUMBER, kill_process, kill_thread, trap)");
	expect_error("default_action: errno 5000\n",
		     "bad.yaml:1: default_action: invalid action \"errno 5000\" (allow, log, errno "
		     "NAME|NUMBER, kill_process, kill_thread, trap)");
}

Test(seccomp_profile, error_unknown_operator)
{
	expect_error(HEAD "  - names: [socket]\n    action: allow\n    args:\n"
			  "      - { index: 0, op: like, value: 1 }\n",
		     "bad.yaml:8: op: unknown operator \"like\" (eq, ne, lt, le, gt, ge, masked_eq)");
}

Test(seccomp_profile, error_bad_index)
{
	expect_error(HEAD "  - names: [socket]\n    action: allow\n    args:\n"
			  "      - { index: 6, op: eq, value: 1 }\n",
		     "bad.yaml:8: index: \"6\" is not an argument number 0..5");
}

Test(seccomp_profile, error_unknown_constant)
{
	expect_error(HEAD "  - names: [socket]\n    action: allow\n    args:\n"
			  "      - { index: 0, op: eq, value: \"AF_INET|AF_MARS\" }\n",
		     "bad.yaml:8: value: invalid value \"AF_MARS\" (a number or a known constant such as "
		     "AF_INET)");
}

Test(seccomp_profile, error_mask_mismatch)
{
	expect_error(HEAD "  - names: [clone]\n    action: allow\n    args:\n"
			  "      - { index: 0, op: masked_eq, value: 0 }\n",
		     "bad.yaml:8: op masked_eq needs a mask");
	expect_error(HEAD "  - names: [clone]\n    action: allow\n    args:\n"
			  "      - { index: 0, op: eq, value: 0, mask: 1 }\n",
		     "bad.yaml:8: mask is only valid with op masked_eq");
}

Test(seccomp_profile, error_argument_twice)
{
	expect_error(HEAD "  - names: [ioctl]\n    action: allow\n    args:\n"
			  "      - { index: 1, op: ne, value: TIOCSTI }\n"
			  "      - { index: 1, op: ne, value: TIOCLINUX }\n",
		     "bad.yaml:9: argument 1 is compared twice in one rule; write two entries");
}

Test(seccomp_profile, error_unconditional_overrides)
{
	expect_error(HEAD "  - names: [ioctl]\n    action: errno EPERM\n    args:\n"
			  "      - { index: 1, op: eq, value: TIOCSTI }\n"
			  "  - names: [ioctl]\n    action: allow\n",
		     "bad.yaml:5: rule for \"ioctl\" conflicts with the unconditional rule at line 9 (an "
		     "unconditional rule overrides every other rule of the syscall)");
}

Test(seccomp_profile, error_unknown_keys)
{
	expect_error("default_action: allow\nsyscals: []\n",
		     "bad.yaml:2: unknown key \"syscals\" (default_action, newer_action, newest_syscall, "
		     "bad_arch_action, architectures, spec_allow, report_denials, syscalls)");
	expect_error(HEAD "  - names: [read]\n    action: allow\n    when: always\n",
		     "bad.yaml:7: unknown key \"when\" in syscalls entry (names, action, args, report, "
		     "comment)");
	expect_error(HEAD "  - names: [socket]\n    action: allow\n    args:\n"
			  "      - { index: 0, op: eq, value: 1, arg: 2 }\n",
		     "bad.yaml:8: unknown key \"arg\" in condition (index, op, value, mask)");
}

Test(seccomp_profile, error_duplicate_key_in_an_entry)
{
	/* Was "last wins": the second action silently replaced the first. */
	expect_error(HEAD "  - names: [read]\n    action: allow\n    action: errno EPERM\n",
		     "bad.yaml:7: duplicate key \"action\"");
}

Test(seccomp_profile, error_structure)
{
	expect_error("syscalls: []\n", "bad.yaml:1: default_action is required");
	expect_error("default_action: allow\ndefault_action: log\n", "bad.yaml:2: duplicate key \"default_action\"");
	expect_error(HEAD "  - action: allow\n", "bad.yaml:5: syscalls entry without names");
	expect_error(HEAD "  - names: [read]\n", "bad.yaml:5: syscalls entry without action");
	expect_error(HEAD "  - names: []\n    action: allow\n", "bad.yaml:5: names: empty list");
	expect_error("default_action: allow\nnewest_syscall: futex_requeue\n",
		     "bad.yaml:2: newer_action and newest_syscall go together");
	expect_error(HEAD "  - names: [read]\n    action: allow\n    report: false\n",
		     "bad.yaml:7: report: false is only valid with an errno action");
	expect_error("- just\n- a list\n", "bad.yaml:1: a profile must be a mapping");
}

Test(seccomp_profile, error_yaml_syntax)
{
	expect_error("default_action: allow\nsyscalls: [read\n",
		     "bad.yaml:3:1: YAML: did not find expected ',' or ']'");
}

Test(seccomp_profile, error_architectures)
{
	expect_error("default_action: allow\narchitectures: [x86_64, vax]\n",
		     "bad.yaml:2: unknown architecture \"vax\"");
	expect_error("default_action: allow\narchitectures: [x86]\n",
		     "bad.yaml:2: architectures must include the native one");
	expect_error("default_action: allow\narchitectures: [x86_64, x32]\n",
		     "bad.yaml:2: architecture \"x32\" is not supported (it is always denied)");
}

Test(seccomp_profile, error_sendmsg_needed_for_reporting)
{
	expect_error("default_action: errno EPERM\nsyscalls:\n  - names: [read]\n    action: allow\n",
		     "bad.yaml: a profile with report_denials must allow sendmsg unconditionally (the "
		     "workload hands the notification listener to sbx with it)");
}

Test(seccomp_profile, compile_names_the_file)
{
	char dir[] = "/tmp/sbx-seccomp-test-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs("default_action: allow\nsyscalls:\n  - names: [nosuchcall]\n    action: allow\n", f);
	fclose(f);
	struct sbx_seccomp *s = NULL;
	struct sbx_error *err = NULL;
	int rc = sbx_seccomp_compile(path, &s, &err);
	unlink(path);
	rmdir(dir);
	cr_assert_lt(rc, 0);
	char want[160];
	snprintf(want, sizeof(want), "%s:3: unknown syscall \"nosuchcall\"", path);
	cr_assert_str_eq(err->msg, want);
	sbx_error_free(&err);
	rc = sbx_seccomp_compile("/nonexistent/profile.yaml", &s, &err);
	cr_assert_lt(rc, 0);
	cr_assert_str_eq(err->msg, "open /nonexistent/profile.yaml: No such file or directory");
	sbx_error_free(&err);
}

Test(seccomp_profile, unconfined_is_null)
{
	struct sbx_seccomp *s = (struct sbx_seccomp *)1;
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_seccomp_compile("unconfined", &s, &err), 0);
	cr_assert_null(s);
	cr_assert_eq(sbx_seccomp_instructions(NULL), 0);
	int fd = 123;
	cr_assert_eq(sbx_seccomp_load(NULL, &fd, &err), 0);
	cr_assert_eq(fd, -1);
}

/* ---- the default profile, judged by its own program ---- */

/* The program built into sbx is the one default.yaml compiles to today. */
Test(seccomp_default, embedded_program_matches_yaml)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	cr_assert_eq(sbx_seccomp_profile_parse(sbx_seccomp_default_yaml, sbx_seccomp_default_yaml_len, "default",
					       &p, &err),
		     0);
	struct sock_filter *prog = NULL;
	size_t len = 0;
	cr_assert_eq(sbx_seccomp_build_plain(&p, &prog, &len, &err), 0);
	cr_assert_eq(len, sbx_seccomp_default_plain_len);
	cr_assert_eq(memcmp(prog, sbx_seccomp_default_plain, len * sizeof(*prog)), 0);
	free(prog);
	sbx_seccomp_profile_free(&p);
}

static struct sbx_seccomp *def;

static void load_default(void)
{
	struct sbx_error *err = NULL;
	cr_assert_eq(sbx_seccomp_compile("default", &def, &err), 0);
	cr_assert(sbx_seccomp_reports_denials(def));
}

static void free_default(void)
{
	sbx_seccomp_free(def);
}

static uint32_t answer(uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
	struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0, a1 } };
	uint32_t plain = sbx_bpf_run(def->plain, def->len, &d);
	uint32_t kernel = sbx_bpf_run(def->kernel, def->len, &d);
	/* Whatever the profile denies with an errno goes to the supervisor,
	 * except the quiet clone3 answer. */
	if ((plain & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO && !(arch == AUDIT_ARCH_X86_64 && nr == SYS_clone3))
		cr_assert_eq(kernel, SECCOMP_RET_USER_NOTIF, "nr %d: kernel program returns 0x%x", nr, kernel);
	else
		cr_assert_eq(kernel, plain, "nr %d", nr);
	return plain;
}

#define X64 AUDIT_ARCH_X86_64
#define ALLOW SECCOMP_RET_ALLOW
#define EPERM_ (SECCOMP_RET_ERRNO | EPERM)
#define ENOSYS_ (SECCOMP_RET_ERRNO | ENOSYS)

Test(seccomp_default, denies_the_risky_families, .init = load_default, .fini = free_default)
{
	static const int denied[] = {
		SYS_mount, SYS_umount2, SYS_pivot_root, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
		SYS_move_mount, SYS_open_tree, SYS_mount_setattr, SYS_setns, SYS_io_uring_setup,
		SYS_io_uring_enter, SYS_io_uring_register, SYS_userfaultfd, SYS_perf_event_open, SYS_bpf,
		SYS_keyctl, SYS_add_key, SYS_request_key, SYS_ptrace, SYS_process_vm_readv,
		SYS_process_vm_writev, SYS_kexec_load, SYS_kexec_file_load, SYS_init_module,
		SYS_finit_module, SYS_delete_module, SYS_swapon, SYS_swapoff, SYS_reboot, SYS_acct,
		SYS_quotactl, SYS_quotactl_fd, SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime,
		SYS_adjtimex, SYS_iopl, SYS_ioperm, SYS_open_by_handle_at, SYS_name_to_handle_at,
		SYS_modify_ldt, SYS_chroot, SYS_syslog, SYS_sethostname, SYS_setdomainname, SYS_vhangup,
		SYS_lookup_dcookie, SYS_uselib, SYS_ustat, SYS_sysfs, SYS__sysctl, SYS_fanotify_init,
		SYS_pidfd_getfd, SYS_kcmp, SYS_process_madvise, SYS_mbind, SYS_set_mempolicy,
		SYS_get_mempolicy, SYS_migrate_pages, SYS_move_pages, SYS_memfd_secret,
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		cr_expect_eq(answer(X64, denied[i], 0, 0), EPERM_, "syscall %d is not denied with EPERM", denied[i]);
}

Test(seccomp_default, allows_what_python_needs, .init = load_default, .fini = free_default)
{
	static const int allowed[] = {
		SYS_read, SYS_write, SYS_openat, SYS_close, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk,
		SYS_futex, SYS_rt_sigaction, SYS_newfstatat, SYS_statx, SYS_getdents64, SYS_execve,
		SYS_wait4, SYS_exit_group, SYS_sched_getaffinity, SYS_getrandom, SYS_rseq, SYS_sendmsg,
		SYS_recvmsg, SYS_pipe2, SYS_epoll_wait, SYS_prlimit64, SYS_set_robust_list, SYS_madvise,
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		cr_expect_eq(answer(X64, allowed[i], 0, 0), ALLOW, "syscall %d is not allowed", allowed[i]);
}

Test(seccomp_default, argument_rules, .init = load_default, .fini = free_default)
{
	/* clone: threads and fork yes, namespaces no */
	uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	cr_expect_eq(answer(X64, SYS_clone, thread, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_clone, SIGCHLD, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_clone, SIGCHLD | CLONE_NEWUSER, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_clone, SIGCHLD | CLONE_NEWNET, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_unshare, CLONE_FILES, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_unshare, 0x80 /* CLONE_NEWTIME */, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_clone3, 0, 0), ENOSYS_);
	/* socket by family */
	cr_expect_eq(answer(X64, SYS_socket, AF_INET, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_socket, AF_UNIX, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_socket, AF_PACKET, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_socket, AF_ALG, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_socket, AF_VSOCK, 0), EPERM_);
	/* the kernel reads the family as an int: garbage above bit 31 must not
	 * turn AF_INET into an allowed-looking value or the reverse */
	cr_expect_eq(answer(X64, SYS_socket, (1ull << 32) | AF_PACKET, 0), EPERM_);
	/* socketpair: Unix only */
	cr_expect_eq(answer(X64, SYS_socketpair, AF_UNIX, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_socketpair, AF_PACKET, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_socketpair, AF_NETLINK, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_socketpair, AF_VSOCK, 0), EPERM_);
	/* memfd_create: only sealed against exec (MFD_NOEXEC_SEAL 8, MFD_EXEC 16) */
	cr_expect_eq(answer(X64, SYS_memfd_create, 0, 8), ALLOW);
	cr_expect_eq(answer(X64, SYS_memfd_create, 0, 8 | 1 /* MFD_CLOEXEC */), ALLOW);
	cr_expect_eq(answer(X64, SYS_memfd_create, 0, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_memfd_create, 0, 16), EPERM_);
	cr_expect_eq(answer(X64, SYS_memfd_create, 0, 8 | 16), EPERM_);
	/* ioctl by request */
	cr_expect_eq(answer(X64, SYS_ioctl, 1, TCGETS), ALLOW);
	cr_expect_eq(answer(X64, SYS_ioctl, 1, FIONREAD), ALLOW);
	cr_expect_eq(answer(X64, SYS_ioctl, 0, TIOCSTI), EPERM_);
	cr_expect_eq(answer(X64, SYS_ioctl, 0, TIOCLINUX), EPERM_);
	cr_expect_eq(answer(X64, SYS_ioctl, 0, (1ull << 32) | TIOCSTI), EPERM_);
	/* personality by value */
	cr_expect_eq(answer(X64, SYS_personality, 0, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_personality, 0xffffffff, 0), ALLOW);
	cr_expect_eq(answer(X64, SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */, 0), EPERM_);
	cr_expect_eq(answer(X64, SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */, 0), EPERM_);
}

Test(seccomp_default, newer_and_foreign_calls, .init = load_default, .fini = free_default)
{
	cr_expect_eq(answer(X64, 456 /* futex_requeue, the newest known */, 0, 0), ALLOW);
	cr_expect_eq(answer(X64, 457, 0, 0), ENOSYS_);
	cr_expect_eq(answer(X64, 462 /* mseal */, 0, 0), ENOSYS_);
	cr_expect_eq(answer(X64, 1000, 0, 0), ENOSYS_);
	/* i386 through int 0x80, and x32 */
	cr_expect_eq(answer(AUDIT_ARCH_I386, 20 /* getpid */, 0, 0), ENOSYS_);
	cr_expect_eq(answer(AUDIT_ARCH_I386, 21 /* mount */, 0, 0), ENOSYS_);
	cr_expect_eq(answer(X64, 0x40000000 | SYS_getpid, 0, 0), ENOSYS_);
	cr_expect_eq(answer(X64, 0x40000000 | SYS_read, 0, 0), ENOSYS_);
}

Test(seccomp_default, names_in_the_report)
{
	char buf[64];
	sbx_seccomp_name(AUDIT_ARCH_X86_64, SYS_mount, buf, sizeof(buf));
	cr_assert_str_eq(buf, "mount");
	sbx_seccomp_name(AUDIT_ARCH_I386, 20, buf, sizeof(buf));
	cr_assert_str_eq(buf, "x86:getpid");
	sbx_seccomp_name(AUDIT_ARCH_X86_64, 0x40000000 | SYS_getpid, buf, sizeof(buf));
	cr_assert_str_eq(buf, "x32:getpid");
	sbx_seccomp_name(AUDIT_ARCH_X86_64, 999, buf, sizeof(buf));
	cr_assert_str_eq(buf, "syscall_999");
}

/* ---- the CLI ---- */

Test(seccomp_cli, check_and_usage, .init = cr_redirect_stdout)
{
	char *argv_ok[] = { "check", "default", NULL };
	cr_assert_eq(sbx_seccomp_cli(2, argv_ok), 0);
	char *argv_usage[] = { "export", "default", NULL };
	cr_assert_eq(sbx_seccomp_cli(2, argv_usage), 2);
	char *argv_missing[] = { "check", "/nonexistent.yaml", NULL };
	cr_assert_eq(sbx_seccomp_cli(2, argv_missing), 1);
	fflush(stdout);
	char out[256] = "";
	size_t n = fread(out, 1, sizeof(out) - 1, cr_get_redirected_stdout());
	out[n] = '\0';
	char want[64];
	snprintf(want, sizeof(want), "%zu BPF instructions, denials reported)\n", sbx_seccomp_default_plain_len);
	cr_assert(strncmp(out, "default: ok (", 13) == 0, "%s", out);
	cr_assert(strstr(out, want), "%s", out);
}

/* ---- the shorter program (seccomp/compact.h) gives libseccomp's answers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* An argument worth trying: one of the program's constants (or next to
 * it), in the low or high half, or anything. */
static uint64_t some_arg(const struct sock_filter *f, size_t n)
{
	uint64_t k = f[rng() % n].k + (uint64_t)(int)(rng() % 3) - 1;
	switch (rng() % 4) {
	case 0: return k;
	case 1: return k << 32;
	case 2: return rng() % 2 ? 0 : ~0ull;
	default: return rng();
	}
}

static void expect_same_answers(const char *yaml, size_t max_len)
{
	struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	cr_assert_eq(sbx_seccomp_profile_parse(yaml, strlen(yaml), "t.yaml", &p, &err), 0, "%s",
		     err ? err->msg : "");
	struct sock_filter *orig = NULL, *mine = NULL;
	size_t n_orig = 0, n_mine = 0;
	cr_assert_eq(sbx_seccomp_build_libseccomp(&p, &orig, &n_orig, &err), 0);
	cr_assert_eq(sbx_seccomp_build_plain(&p, &mine, &n_mine, &err), 0);
	cr_expect_leq(n_mine, max_len, "%zu instructions (libseccomp: %zu)", n_mine, n_orig);
	static const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0 };
	for (int i = 0; i < 400000; i++) {
		uint32_t nr = (uint32_t)(rng() % 4 == 0 ? rng() : rng() % 1100);
		if (rng() % 8 == 0)
			nr |= 0x40000000u; /* x32 */
		struct seccomp_data d = { .nr = (int)nr, .arch = arches[rng() % 8 < 5 ? 0 : rng() % 4],
					  .instruction_pointer = rng() };
		for (int a = 0; a < 6; a++)
			d.args[a] = some_arg(orig, n_orig);
		uint32_t want = sbx_bpf_run(orig, n_orig, &d), got = sbx_bpf_run(mine, n_mine, &d);
		if (want != got)
			cr_assert_fail("arch 0x%x nr %u args 0x%llx 0x%llx 0x%llx: libseccomp 0x%x, compact 0x%x", d.arch,
				       nr, (unsigned long long)d.args[0], (unsigned long long)d.args[1],
				       (unsigned long long)d.args[2], want, got);
	}
	free(orig);
	free(mine);
	sbx_seccomp_profile_free(&p);
}

Test(seccomp_compact, default_profile_same_answers_in_about_half_the_length)
{
	/* libseccomp: 455 instructions */
	expect_same_answers(sbx_seccomp_default_yaml, 260);
}

Test(seccomp_compact, conditions_quiet_rules_and_newer_calls)
{
	expect_same_answers("default_action: errno EPERM\n"
			    "newest_syscall: openat2\nnewer_action: errno ENOSYS\n"
			    "architectures: [x86_64]\nbad_arch_action: kill_process\n"
			    "syscalls:\n"
			    "  - {action: allow, names: [read, write, close, exit_group, sendmsg, getpid, getppid, gettid]}\n"
			    "  - {action: allow, names: [mmap, munmap, mprotect, brk, rt_sigreturn, futex]}\n"
			    "  - action: allow\n    names: [socket]\n"
			    "    args: [{index: 0, op: eq, value: [1, 2, 10]}]\n"
			    "  - action: allow\n    names: [personality]\n"
			    "    args: [{index: 0, op: le, value: 8}]\n"
			    "  - action: allow\n    names: [clone]\n"
			    "    args: [{index: 0, op: masked_eq, mask: 0x7e020080, value: 0}]\n"
			    "  - {action: errno EACCES, report: false, names: [kill]}\n"
			    "  - {action: errno ENOSYS, names: [clone3]}\n",
			    100000);
}

/* More than one architecture: left as libseccomp made it. */
Test(seccomp_compact, several_architectures_left_alone)
{
	const char *yaml = "default_action: errno EPERM\narchitectures: [x86_64, x86]\n"
			   "syscalls:\n  - {action: allow, names: [read, write, close, exit_group, sendmsg]}\n";
	struct sbx_error *err = NULL;
	struct sbx_seccomp_profile p;
	cr_assert_eq(sbx_seccomp_profile_parse(yaml, strlen(yaml), "t.yaml", &p, &err), 0);
	struct sock_filter *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	cr_assert_eq(sbx_seccomp_build_libseccomp(&p, &a, &na, &err), 0);
	cr_assert_eq(sbx_seccomp_build_plain(&p, &b, &nb, &err), 0);
	cr_expect_eq(na, nb);
	cr_expect_eq(memcmp(a, b, na * sizeof(*a)), 0);
	free(a);
	free(b);
	sbx_seccomp_profile_free(&p);
}
