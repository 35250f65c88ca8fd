#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "lib/size.h"
#include "lib/alloc.h"

const char sbx_run_usage[] =
	"Usage: sbx run [OPTIONS] [--] COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND in a new sandbox: its own user, pid, network, mount, uts, ipc\n"
	"and cgroup namespaces, inside the root filesystem DIR, with every\n"
	"capability dropped and no_new_privs set.\n"
	"\n"
	"Filesystem:\n"
	"  --rootfs DIR            root filesystem, mounted read-only (required unless\n"
	"                          the config names one)\n"
	"  --bind SRC:DST[:ro|rw]  bind mount, read-only unless :rw (repeatable)\n"
	"  --tmpfs DST[:SIZE]      extra tmpfs (default size: limits.tmp) (repeatable)\n"
	"  --out DIR[:SIZE]        writable /out inside (tmpfs, default 64M); its files\n"
	"                          and directories are copied into DIR after the run,\n"
	"                          at most SIZE bytes in all, within 5 s + 1 s per 32M\n"
	"  --tmpfs-exec            allow running files from /tmp, /out, /dev/shm and\n"
	"                          --tmpfs mounts (default: mounted noexec)\n"
	"  --writable-rootfs       bind the rootfs read-write (for image builds)\n"
	"  --image-config FILE     image defaults (env, command, workdir, user); default:\n"
	"                          DIR.image-config.json beside the rootfs, if present\n"
	"  --no-image-config       ignore the image's defaults\n"
	"  --build-caps            keep Docker's default capabilities inside the user\n"
	"                          namespace (image build steps; never untrusted code)\n"
	"Process:\n"
	"  --workdir DIR           working directory inside (default /)\n"
	"  --env KEY=VALUE         environment variable (repeatable); nothing else is\n"
	"                          inherited\n"
	"  --user UID[:GID]        numeric user inside (default: the image's, else 0:0)\n"
	"  --hostname NAME         hostname inside (default sbx)\n"
	"  --network MODE          none | loopback (default) | host\n"
	"Limits:\n"
	"  --memory SIZE           memory limit (default 1G)\n"
	"  --memory-swap SIZE      swap limit (default 0: no swap)\n"
	"  --memory-high SIZE      memory.high: throttle before the limit (default unset)\n"
	"  --pids N                process limit (default 256)\n"
	"  --cpus FLOAT            CPU time limit in CPUs (default 1.0)\n"
	"  --timeout SECONDS       wall-clock limit; the whole sandbox is killed (124)\n"
	"  --output-limit SIZE     per output stream (default 1M); the rest is dropped\n"
	"  --cgroup-parent PATH    where to create the sandbox's cgroup\n"
	"  --allow-no-cgroup       when no cgroup can be had, run with rlimits only\n"
	"                          (RLIMIT_NPROC, RLIMIT_DATA, RLIMIT_FSIZE; warns)\n"
	"  --userns-limit NAME=N   a /proc/sys/user counter of the sandbox's user\n"
	"                          namespace, e.g. max_inotify_instances=8 (default:\n"
	"                          no nested namespaces, 8 inotify instances, 8192\n"
	"                          watches, no fanotify; N=unset keeps the kernel's)\n"
	"Security:\n"
	"  --seccomp PROFILE       default | unconfined | FILE (default: default)\n"
	"Warm pool:\n"
	"  --pool PATH             fork the job from the `sbx pool` serving PATH instead of\n"
	"                          starting a sandbox (COMMAND: python3 SCRIPT [ARG...]);\n"
	"                          the same output, exit status and report (see sbx pool --help)\n"
	"Output:\n"
	"  --stdout FILE           write the workload's stdout to FILE\n"
	"  --stderr FILE           write the workload's stderr to FILE\n"
	"  --report FILE           JSON report of the run; \"-\" writes it to stderr\n"
	"  --config FILE           YAML config (docs/configuration.md); flags override it\n"
	"  -h, --help              this help\n"
	"\n"
	"SIZE is a number with an optional K, M, G or T suffix (powers of 1024).\n"
	"Exit status: the workload's; 128+N if it died of signal N; 124 timeout;\n"
	"125 the sandbox could not be set up; 126 command not executable;\n"
	"127 command not found; 137 with status \"oom\" when memory ran out.\n";

enum {
	O_ROOTFS = 256, O_CONFIG, O_BIND, O_TMPFS, O_OUT, O_WORKDIR, O_ENV, O_USER, O_HOSTNAME, O_NETWORK,
	O_MEMORY, O_MEMSWAP, O_MEMHIGH, O_PIDS, O_CPUS, O_TIMEOUT, O_OUTPUT, O_SECCOMP, O_REPORT, O_CGPARENT,
	O_NOCGROUP, O_STDOUT, O_STDERR, O_WRITABLE, O_IMAGECFG, O_NOIMAGECFG, O_BUILDCAPS, O_TMPFSEXEC, O_USERNSLIM,
};

static const struct option opts[] = {
	{ "rootfs", required_argument, 0, O_ROOTFS },
	{ "config", required_argument, 0, O_CONFIG },
	{ "bind", required_argument, 0, O_BIND },
	{ "tmpfs", required_argument, 0, O_TMPFS },
	{ "out", required_argument, 0, O_OUT },
	{ "workdir", required_argument, 0, O_WORKDIR },
	{ "env", required_argument, 0, O_ENV },
	{ "user", required_argument, 0, O_USER },
	{ "hostname", required_argument, 0, O_HOSTNAME },
	{ "network", required_argument, 0, O_NETWORK },
	{ "memory", required_argument, 0, O_MEMORY },
	{ "memory-swap", required_argument, 0, O_MEMSWAP },
	{ "memory-high", required_argument, 0, O_MEMHIGH },
	{ "pids", required_argument, 0, O_PIDS },
	{ "cpus", required_argument, 0, O_CPUS },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "output-limit", required_argument, 0, O_OUTPUT },
	{ "seccomp", required_argument, 0, O_SECCOMP },
	{ "report", required_argument, 0, O_REPORT },
	{ "cgroup-parent", required_argument, 0, O_CGPARENT },
	{ "allow-no-cgroup", no_argument, 0, O_NOCGROUP },
	{ "stdout", required_argument, 0, O_STDOUT },
	{ "stderr", required_argument, 0, O_STDERR },
	{ "writable-rootfs", no_argument, 0, O_WRITABLE },
	{ "image-config", required_argument, 0, O_IMAGECFG },
	{ "no-image-config", no_argument, 0, O_NOIMAGECFG },
	{ "build-caps", no_argument, 0, O_BUILDCAPS },
	{ "tmpfs-exec", no_argument, 0, O_TMPFSEXEC },
	{ "userns-limit", required_argument, 0, O_USERNSLIM },
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 },
};

static int flag_size(const char *flag, const char *v, uint64_t *out, bool nonzero, struct sbx_error **err)
{
	if (sbx_parse_size(v, out, err) < 0)
		return sbx_error_wrap(err, "--%s", flag);
	if (nonzero && *out == 0)
		return sbx_error_set(err, 0, "--%s: '%s' must be greater than zero", flag, v);
	return 0;
}

static int apply(struct sbx_config *c, int opt, const char *name, const char *v, struct sbx_error **err)
{
	double d;
	uint64_t n;
	int r = 0;
	switch (opt) {
	case O_ROOTFS: return sbx_config_set_string(&c->rootfs, v);
	case O_BIND: r = sbx_config_add_bind_spec(c, v, err); break;
	case O_TMPFS: r = sbx_config_add_tmpfs_spec(c, v, err); break;
	case O_OUT: r = sbx_config_set_out_spec(c, v, err); break;
	case O_WORKDIR: return sbx_config_set_string(&c->workdir, v);
	case O_ENV: r = sbx_config_add_env_spec(c, v, err); break;
	case O_USER: r = sbx_config_set_user(c, v, err); break;
	case O_HOSTNAME: return sbx_config_set_string(&c->hostname, v);
	case O_NETWORK: r = sbx_config_set_network(c, v, err); break;
	case O_MEMORY: return flag_size(name, v, &c->limits.memory, true, err);
	case O_MEMSWAP: return flag_size(name, v, &c->limits.memory_swap, false, err);
	case O_MEMHIGH: return flag_size(name, v, &c->limits.memory_high, true, err);
	case O_OUTPUT: return flag_size(name, v, &c->limits.output, true, err);
	case O_PIDS:
		if (sbx_parse_uint(v, 4194304, &n, err) < 0 || n == 0) {
			if (*err == NULL)
				sbx_error_set(err, 0, "'%s' must be at least 1", v);
			return sbx_error_wrap(err, "--pids");
		}
		c->limits.pids = n;
		return 0;
	case O_CPUS:
	case O_TIMEOUT:
		if (sbx_parse_double(v, &d, 0, err) < 0)
			return sbx_error_wrap(err, "--%s", name);
		*(opt == O_CPUS ? &c->limits.cpus : &c->limits.timeout) = d;
		return 0;
	case O_SECCOMP: return sbx_config_set_string(&c->seccomp, v);
	case O_REPORT: return sbx_config_set_string(&c->report, v);
	case O_CGPARENT: return sbx_config_set_string(&c->cgroup_parent, v);
	case O_NOCGROUP: c->allow_no_cgroup = true; return 0;
	case O_STDOUT: return sbx_config_set_string(&c->stdout_file, v);
	case O_STDERR: return sbx_config_set_string(&c->stderr_file, v);
	case O_WRITABLE: c->writable_rootfs = true; return 0;
	case O_IMAGECFG: return sbx_config_set_string(&c->image_config, v);
	case O_NOIMAGECFG: c->no_image_config = true; return 0;
	case O_BUILDCAPS: c->build_caps = true; return 0;
	case O_TMPFSEXEC: c->tmpfs_exec = true; return 0;
	case O_USERNSLIM: r = sbx_config_add_userns_limit_spec(c, v, err); break;
	default: return 0;
	}
	if (r < 0)
		return sbx_error_wrap(err, "--%s", name);
	return 0;
}

int sbx_cli_parse_run(int argc, char **argv, struct sbx_config *c, struct sbx_error **err)
{
	/* "+": stop at the first non-option, so the command's own flags are
	 * never taken for ours. */
	const char *config = NULL;
	int opt, idx;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, &idx)) != -1) {
		if (opt == 'h')
			return 1;
		if (opt == '?')
			return sbx_error_set(err, 0, "unknown option '%s' (see sbx run --help)", argv[optind - 1]);
		if (opt == ':')
			return sbx_error_set(err, 0, "option '%s' needs a value", argv[optind - 1]);
		if (opt == O_CONFIG)
			config = optarg;
	}
	int cmd = optind;
	if (config && sbx_config_load_yaml(c, config, err) < 0)
		return -1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, &idx)) != -1) {
		if (apply(c, opt, opts[idx].name, optarg, err) < 0)
			return -1;
	}
	if (cmd < argc) {
		for (size_t i = 0; c->argv && c->argv[i]; i++)
			free(c->argv[i]);
		free(c->argv);
		c->argv = sbx_xcalloc((size_t)(argc - cmd + 1), sizeof(char *));
		for (int i = cmd; i < argc; i++)
			c->argv[i - cmd] = sbx_xstrdup(argv[i]);
	}
	return 0;
}
