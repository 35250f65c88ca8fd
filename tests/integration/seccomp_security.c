/* The seccomp layer through `sbx run`: each family the default profile must
 * close is tried from inside the sandbox (Python's ctypes makes the raw
 * calls) and must fail with EPERM/ENOSYS and appear in seccomp_denials;
 * real workloads (pandas, threads, multiprocessing, subprocess) still run;
 * `--seccomp unconfined` lets the same calls reach the kernel. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"

static void setup(void)
{
	h_need_fixture();
}

TestSuite(seccomp_security, .init = setup, .timeout = 180);

/* Prelude of every snippet: call(nr, *args) makes a raw syscall and prints
 * "NAME=OK" or "NAME=EPERM" (the errno's name). */
#define PY_PRELUDE                                                                                                \
	"import ctypes, errno, os, sys\n"                                                                         \
	"libc = ctypes.CDLL(None, use_errno=True)\n"                                                              \
	"libc.syscall.restype = ctypes.c_long\n"                                                                  \
	"def call(name, nr, *args):\n"                                                                            \
	"    ctypes.set_errno(0)\n"                                                                               \
	"    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])\n"                            \
	"    e = ctypes.get_errno()\n"                                                                            \
	"    print('%s=%s' % (name, 'OK' if r >= 0 else errno.errorcode.get(e, str(e))))\n"                       \
	"    sys.stdout.flush()\n"

/* Run python3 -c PRELUDE+code under `profile`; the report is parsed. */
static void run_py(struct sbx_out *o, const char *profile, const char *code)
{
	size_t n = strlen(PY_PRELUDE) + strlen(code) + 1;
	char *full = malloc(n);
	snprintf(full, n, "%s%s", PY_PRELUDE, code);
	const char *const a[] = { "--rootfs", h_rootfs(), "--seccomp", profile, "--timeout", "120",
				  "--",	      "/usr/bin/python3", "-c", full, NULL };
	cr_assert_eq(h_run_report(o, 0, 150, a), 0);
	free(full);
}

/* count of `name` in the report's seccomp_denials (0 if absent) */
static long long denials(json_t *report, const char *name)
{
	json_t *arr = json_object_get(report, "seccomp_denials");
	cr_assert(json_is_array(arr), "report has no seccomp_denials array");
	size_t i;
	json_t *d;
	json_array_foreach(arr, i, d)
	{
		if (!strcmp(json_string_value(json_object_get(d, "syscall")), name))
			return json_integer_value(json_object_get(d, "count"));
	}
	return 0;
}

static size_t n_denials(json_t *report)
{
	return json_array_size(json_object_get(report, "seccomp_denials"));
}

/* For each name: stdout has "name=<want>" and the report counts >= 1. */
static void expect_denied(struct sbx_out *o, const char *want, const char *const *names)
{
	cr_assert_eq(o->status, 0, "stderr: %s\nstdout: %s", o->err, o->out);
	for (const char *const *n = names; *n; n++) {
		char line[128];
		snprintf(line, sizeof(line), "%s=%s\n", *n, want);
		cr_expect(strstr(o->out, line) != NULL, "expected %s in:\n%s", line, o->out);
		cr_expect_geq(denials(o->report, *n), 1, "%s is not in seccomp_denials", *n);
	}
}

Test(seccomp_security, mount_family_including_the_new_api)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "call('mount', 165, 0, 0, 0, 0, 0)\n"
	       "call('umount2', 166, 0, 0)\n"
	       "call('pivot_root', 155, 0, 0)\n"
	       "call('open_tree', 428, -100, 0, 0)\n"
	       "call('move_mount', 429, -100, 0, -100, 0, 0)\n"
	       "call('fsopen', 430, 0, 0)\n"
	       "call('fsconfig', 431, -1, 0, 0, 0, 0)\n"
	       "call('fsmount', 432, -1, 0, 0)\n"
	       "call('fspick', 433, -100, 0, 0)\n"
	       "call('mount_setattr', 442, -100, 0, 0, 0, 0)\n");
	static const char *const n[] = { "mount",  "umount2", "pivot_root", "open_tree", "move_mount",
					 "fsopen", "fsconfig", "fsmount",    "fspick",	  "mount_setattr", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, namespaces_cannot_be_created_or_joined)
{
	struct sbx_out o;
	/* CLONE_NEWUSER = 0x10000000, CLONE_NEWNS = 0x20000, CLONE_NEWNET =
	 * 0x40000000; clone's raw flags with SIGCHLD (17). */
	run_py(&o, "default",
	       "call('unshare', 272, 0x10000000)\n"
	       "call('setns', 308, 0, 0)\n"
	       "call('clone', 56, 0x40000000 | 17, 0, 0, 0, 0)\n");
	static const char *const n[] = { "unshare", "setns", "clone", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, clone3_is_enosys_so_libc_falls_back)
{
	struct sbx_out o;
	/* struct clone_args with CLONE_NEWUSER: denied before the kernel reads it */
	run_py(&o, "default",
	       "args = (ctypes.c_uint64 * 11)(0x10000000, 0, 0, 0, 17)\n"
	       "call('clone3', 435, ctypes.addressof(args), 88)\n"
	       "import threading\n"
	       "t = threading.Thread(target=print, args=('thread ran',)); t.start(); t.join()\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "clone3=ENOSYS\n"), "%s", o.out);
	cr_expect(strstr(o.out, "thread ran\n"), "%s", o.out);
	cr_expect_eq(n_denials(o.report), 0, "clone3 is answered quietly (docs/seccomp.md)");
	h_free(&o);
}

Test(seccomp_security, io_uring_userfaultfd_perf_bpf)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "params = ctypes.create_string_buffer(120)\n"
	       "call('io_uring_setup', 425, 1, ctypes.addressof(params))\n"
	       "call('io_uring_enter', 426, 0, 0, 0, 0, 0, 0)\n"
	       "call('io_uring_register', 427, 0, 0, 0, 0)\n"
	       "call('userfaultfd', 323, 0)\n"
	       "attr = ctypes.create_string_buffer(128)\n"
	       "call('perf_event_open', 298, ctypes.addressof(attr), 0, -1, -1, 0)\n"
	       "call('bpf', 321, 0, 0, 0)\n");
	static const char *const n[] = { "io_uring_setup", "io_uring_enter",  "io_uring_register",
					 "userfaultfd",	   "perf_event_open", "bpf", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, keyrings)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "call('keyctl', 250, 0, 0)\n"
	       "call('add_key', 248, 0, 0, 0, 0, 0)\n"
	       "call('request_key', 249, 0, 0, 0, 0)\n");
	static const char *const n[] = { "keyctl", "add_key", "request_key", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, ptrace_and_other_processes_memory)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "pid = os.getppid()\n"
	       "call('ptrace', 101, 16, pid, 0, 0)\n" /* PTRACE_ATTACH */
	       "call('process_vm_readv', 310, pid, 0, 0, 0, 0, 0)\n"
	       "call('process_vm_writev', 311, pid, 0, 0, 0, 0, 0)\n"
	       "call('pidfd_getfd', 438, 0, 0, 0)\n"
	       "call('kcmp', 312, pid, pid, 0, 0, 0)\n");
	static const char *const n[] = { "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
					 "kcmp", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, kernel_modules_kexec_reboot_swap_acct_quota)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "call('init_module', 175, 0, 0, 0)\n"
	       "call('finit_module', 313, -1, 0, 0)\n"
	       "call('delete_module', 176, 0, 0)\n"
	       "call('kexec_load', 246, 0, 0, 0, 0)\n"
	       "call('kexec_file_load', 320, -1, -1, 0, 0, 0)\n"
	       "call('reboot', 169, 0, 0, 0, 0)\n"
	       "call('swapon', 167, 0, 0)\n"
	       "call('swapoff', 168, 0)\n"
	       "call('acct', 163, 0)\n"
	       "call('quotactl', 179, 0, 0, 0, 0)\n");
	static const char *const n[] = { "init_module", "finit_module", "delete_module", "kexec_load",
					 "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl",
					 NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, clocks_and_io_ports)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "tv = ctypes.create_string_buffer(16)\n"
	       "call('settimeofday', 164, ctypes.addressof(tv), 0)\n"
	       "call('clock_settime', 227, 0, ctypes.addressof(tv))\n"
	       "tx = ctypes.create_string_buffer(256)\n"
	       "call('adjtimex', 159, ctypes.addressof(tx))\n"
	       "call('clock_adjtime', 305, 0, ctypes.addressof(tx))\n"
	       "call('iopl', 172, 3)\n"
	       "call('ioperm', 173, 0x80, 1, 1)\n");
	static const char *const n[] = { "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
					 "iopl", "ioperm", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, file_handles)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "h = ctypes.create_string_buffer(136)\n"
	       "m = ctypes.c_int(0)\n"
	       "call('name_to_handle_at', 303, -100, ctypes.addressof(ctypes.create_string_buffer(b'/')), "
	       "ctypes.addressof(h), ctypes.addressof(m), 0)\n"
	       "call('open_by_handle_at', 304, -100, ctypes.addressof(h), 0)\n");
	static const char *const n[] = { "name_to_handle_at", "open_by_handle_at", NULL };
	expect_denied(&o, "EPERM", n);
	h_free(&o);
}

Test(seccomp_security, ioctl_tiocsti_and_tioclinux)
{
	struct sbx_out o;
	/* On a pipe the kernel would answer ENOTTY: EPERM can only come from
	 * the filter.  TCGETS (isatty) is allowed and gets the kernel's ENOTTY. */
	run_py(&o, "default",
	       "r, w = os.pipe()\n"
	       "c = ctypes.c_char(b'x')\n"
	       "call('ioctl', 16, w, 0x5412, ctypes.addressof(c))\n"  /* TIOCSTI */
	       "call('ioctl', 16, w, 0x541C, ctypes.addressof(c))\n"  /* TIOCLINUX */
	       "call('ioctl_hi', 16, w, (1 << 32) | 0x5412, ctypes.addressof(c))\n"
	       "call('tcgets', 16, w, 0x5401, ctypes.addressof(ctypes.create_string_buffer(64)))\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "ioctl=EPERM\nioctl=EPERM\nioctl_hi=EPERM\n"), "%s", o.out);
	cr_expect(strstr(o.out, "tcgets=ENOTTY\n"), "%s", o.out);
	cr_expect_eq(denials(o.report, "ioctl"), 3);
	h_free(&o);
}

Test(seccomp_security, personality_only_the_usual_values)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "call('query', 135, 0xffffffff)\n"
	       "call('linux', 135, 0)\n"
	       "call('addr_no_randomize', 135, 0x0040000)\n"
	       "call('read_implies_exec', 135, 0x0400000)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "query=OK\nlinux=OK\naddr_no_randomize=EPERM\nread_implies_exec=EPERM\n"), "%s",
		  o.out);
	cr_expect_eq(denials(o.report, "personality"), 2);
	h_free(&o);
}

Test(seccomp_security, socket_families)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "call('inet', 41, 2, 1, 0)\n"
	       "call('unix', 41, 1, 1, 0)\n"
	       "call('packet', 41, 17, 3, 0)\n"
	       "call('alg', 41, 38, 5, 0)\n"
	       "call('vsock', 41, 40, 1, 0)\n"
	       "call('netlink_audit', 41, 16, 3, 9)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "inet=OK\nunix=OK\npacket=EPERM\nalg=EPERM\nvsock=EPERM\nnetlink_audit=EPERM\n"),
		  "%s", o.out);
	cr_expect_eq(denials(o.report, "socket"), 4);
	h_free(&o);
}

Test(seccomp_security, newer_syscalls_are_enosys)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "call('mseal', 462, 0, 0, 0)\n"
	       "call('nr1000', 1000)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "mseal=ENOSYS\nnr1000=ENOSYS\n"), "%s", o.out);
	cr_expect_eq(denials(o.report, "syscall_462"), 1);
	cr_expect_eq(denials(o.report, "syscall_1000"), 1);
	h_free(&o);
}

/* Machine code run from an executable page: getpid through int 0x80 (the
 * i386 entry) and through syscall with the x32 bit. */
#define PY_FOREIGN_ABI                                                                                            \
	"import mmap\n"                                                                                           \
	"def run(code):\n"                                                                                        \
	"    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"                   \
	"    m.write(code)\n"                                                                                     \
	"    f = ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(m)))\n"               \
	"    return f()\n"                                                                                        \
	"# mov eax, 20 (i386 getpid); int 0x80; movsxd rax, eax; ret\n"                                           \
	"i386 = run(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0x48, 0x63, 0xc0, 0xc3]))\n"                           \
	"# mov eax, 0x40000027 (x32 getpid); syscall; ret\n"                                                      \
	"x32 = run(bytes([0xb8, 0x27, 0, 0, 0x40, 0x0f, 0x05, 0xc3]))\n"                                          \
	"print('i386', 'ENOSYS' if i386 == -38 else ('OK' if i386 > 0 else i386))\n"                              \
	"print('x32', 'ENOSYS' if x32 == -38 else ('OK' if x32 > 0 else x32))\n"

Test(seccomp_security, i386_and_x32_abis_are_closed)
{
	struct sbx_out o;
	run_py(&o, "default", PY_FOREIGN_ABI);
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "i386 ENOSYS\nx32 ENOSYS\n"), "%s", o.out);
	cr_expect_eq(denials(o.report, "x86:getpid"), 1);
	cr_expect_eq(denials(o.report, "x32:getpid"), 1);
	h_free(&o);
}

Test(seccomp_security, denials_are_counted_exactly)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "for i in range(25): call('mount', 165, 0, 0, 0, 0, 0)\n"
	       "for i in range(7): call('bpf', 321, 0, 0, 0)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect_eq(denials(o.report, "mount"), 25);
	cr_expect_eq(denials(o.report, "bpf"), 7);
	cr_expect_eq(n_denials(o.report), 2);
	h_free(&o);
}

Test(seccomp_security, pandas_dataframe)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "import numpy as np, pandas as pd\n"
	       "df = pd.DataFrame({'k': np.arange(1000) % 7, 'v': np.linspace(0, 1, 1000)})\n"
	       "g = df.groupby('k')['v'].mean()\n"
	       "m = np.random.default_rng(1).random((200, 200))\n"
	       "print('groups', len(g), 'rolling', round(df['v'].rolling(10).mean().iloc[-1], 4),\n"
	       "      'matmul', (m @ m).shape)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "groups 7 rolling 0.9955 matmul (200, 200)\n"), "%s", o.out);
	cr_expect_eq(n_denials(o.report), 0, "an ordinary pandas run is denied nothing");
	h_free(&o);
}

Test(seccomp_security, eight_threads)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "import threading\n"
	       "out = [0] * 8\n"
	       "def work(i): out[i] = sum(range(i * 1000))\n"
	       "ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
	       "[t.start() for t in ts]; [t.join() for t in ts]\n"
	       "print('threads', len([x for x in out if x or True]), out[7])\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "threads 8 24496500\n"), "%s", o.out);
	cr_expect_eq(n_denials(o.report), 0);
	h_free(&o);
}

Test(seccomp_security, multiprocessing_pool)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "import multiprocessing as mp\n"
	       "def sq(x): return x * x\n"
	       "if __name__ == '__main__':\n"
	       "    with mp.Pool(4) as p: print('pool', sum(p.map(sq, range(100))))\n"
	       "    lock = mp.Lock(); lock.acquire(); lock.release()\n"
	       "    v = mp.Value('i', 41); v.value += 1; print('shared', v.value)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "pool 328350\nshared 42\n"), "%s", o.out);
	cr_expect_eq(n_denials(o.report), 0);
	h_free(&o);
}

Test(seccomp_security, subprocess_of_bin_true)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "import subprocess\n"
	       "print('true', subprocess.run(['/bin/true']).returncode)\n"
	       "print('echo', subprocess.run(['/bin/echo', 'hi'], capture_output=True).stdout)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "true 0\necho b'hi\\n'\n"), "%s", o.out);
	cr_expect_eq(n_denials(o.report), 0);
	h_free(&o);
}

Test(seccomp_security, unconfined_lets_the_same_calls_through)
{
	struct sbx_out o;
	run_py(&o, "unconfined",
	       "call('addr_no_randomize', 135, 0x0040000)\n"
	       "r, w = os.pipe()\n"
	       "call('tiocsti', 16, w, 0x5412, ctypes.addressof(ctypes.c_char(b'x')))\n"
	       "call('socket_alg', 41, 38, 5, 0)\n"
	       "call('mseal', 462, 0, 0, 0)\n"
	       "call('unshare_user', 272, 0x10000000)\n" PY_FOREIGN_ABI);
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	/* the kernel's own answers: success, or an errno that is not the filter's */
	cr_expect(strstr(o.out, "addr_no_randomize=OK\n"), "%s", o.out);
	cr_expect(strstr(o.out, "tiocsti=ENOTTY\n"), "%s", o.out);
	cr_expect(!strstr(o.out, "socket_alg=EPERM\n"), "%s", o.out);
	cr_expect(!strstr(o.out, "mseal=ENOSYS\n"), "%s", o.out);
	cr_expect(strstr(o.out, "i386 OK\n"), "%s", o.out);
	/* unshare(CLONE_NEWUSER) may still fail where the host restricts
	 * unprivileged user namespaces; it is enough that no filter counted it. */
	cr_expect_eq(n_denials(o.report), 0);
	h_free(&o);
}

Test(seccomp_security, profile_file_with_own_errno)
{
	char *dir = h_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("default_action: allow\n"
	      "syscalls:\n"
	      "  - names: [getppid]\n"
	      "    action: errno EXDEV\n",
	      f);
	fclose(f);
	struct sbx_out o;
	run_py(&o, path, "call('getppid', 110)\ncall('getpid', 39)\n");
	cr_expect_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "getppid=EXDEV\ngetpid=OK\n"), "%s", o.out);
	cr_expect_eq(denials(o.report, "getppid"), 1);
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}

Test(seccomp_security, invalid_profile_is_a_setup_error_naming_the_line)
{
	char *dir = h_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("default_action: allow\nsyscalls:\n  - names: [getppid, frobnicate]\n    action: allow\n", f);
	fclose(f);
	struct sbx_out o;
	const char *const a[] = { "--rootfs", h_rootfs(), "--seccomp", path, "--", PROBE, "exit", "0", NULL };
	cr_assert_eq(h_run_report(&o, 0, 60, a), 0);
	cr_expect_eq(o.status, 125);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: unknown syscall \"frobnicate\"", path);
	cr_expect(strstr(o.err, want) != NULL, "stderr: %s", o.err);
	cr_expect_str_eq(h_rs(o.report, "status"), "setup_error");
	h_free(&o);
	h_rmtree(dir);
	free(dir);
}

Test(seccomp_security, rootless_run_reports_denials_too)
{
	h_need_userns_as(NOBODY);
	struct sbx_out o;
	char *code = malloc(4096);
	snprintf(code, 4096, "%s%s", PY_PRELUDE,
		 "call('mount', 165, 0, 0, 0, 0, 0)\n"
		 "call('unshare', 272, 0x10000000)\n"
		 "import threading\n"
		 "t = threading.Thread(target=print, args=('thread ran',)); t.start(); t.join()\n");
	const char *const a[] = { "--rootfs", h_rootfs(), "--allow-no-cgroup", "--", "/usr/bin/python3", "-c", code,
				  NULL };
	cr_assert_eq(h_run_report(&o, NOBODY, 120, a), 0);
	free(code);
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "mount=EPERM\nunshare=EPERM\nthread ran\n"), "%s", o.out);
	cr_expect_eq(denials(o.report, "mount"), 1);
	cr_expect_eq(denials(o.report, "unshare"), 1);
	h_free(&o);
}

/* A flood of distinct denied numbers must not grow the report (or the
 * supervisor's memory) without bound: 64 entries at most, the rest counted
 * as "other", and every call still answered. */
Test(seccomp_security, distinct_denials_are_capped_and_all_counted)
{
	struct sbx_out o;
	run_py(&o, "default",
	       "bad = 0\n"
	       "for nr in range(600, 900):\n"
	       "    if libc.syscall(ctypes.c_long(nr)) >= 0: bad += 1\n"
	       "print('allowed', bad)\n");
	cr_assert_eq(o.status, 0, "stderr: %s", o.err);
	cr_expect(strstr(o.out, "allowed 0\n") != NULL, "%s", o.out);
	cr_expect_eq(n_denials(o.report), 64, "entries: %zu", n_denials(o.report));
	json_t *arr = json_object_get(o.report, "seccomp_denials");
	long long total = 0;
	size_t i;
	json_t *d;
	json_array_foreach(arr, i, d)
	{
		const char *name = json_string_value(json_object_get(d, "syscall"));
		if (strncmp(name, "syscall_", 8) == 0 || strcmp(name, "other") == 0)
			total += json_integer_value(json_object_get(d, "count"));
	}
	cr_expect_eq(total, 300, "every denied call counted once: %lld", total);
	cr_expect_eq(denials(o.report, "other"), 300 - 63);
	h_free(&o);
}
