/* `sbx [GLOBAL] create|start|state|kill|delete|run|features|spec ...`: runc's
 * command line (Go flag conventions: -flag and --flag, "=value" or a
 * separate word), so that containerd's shim and podman's conmon can call
 * sbx where they call runc. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "lifecycle.h"
#include "lib/cleanup.h"
#include "runtime/idmap.h"
#include "runtime/version.h"
#include "spec_gen.h"

static const char usage[] =
    "Usage: sbx [GLOBAL OPTIONS] COMMAND [OPTIONS] ID   (OCI runtime mode, runc's command line)\n"
    "\n"
    "Commands:\n"
    "  create --bundle DIR [--pid-file FILE] [--console-socket SOCK] ID\n"
    "                                             build the container, stop before its process runs\n"
    "  start ID                                   let the created container's process run\n"
    "  state ID                                   print its state (JSON)\n"
    "  kill [--all] ID [SIGNAL]                   signal its process (default SIGTERM)\n"
    "  delete [--force] ID                        remove a stopped (or, forced, a running) container\n"
    "  run --bundle DIR [--pid-file FILE] [--keep] ID   create, start, wait, delete\n"
    "  features                                   what this runtime supports (JSON)\n"
    "  spec [--rootless] [--bundle DIR]           write a config.json sbx accepts\n"
    "  exec [--process FILE] [--cwd DIR] [--env K=V] [--user UID[:GID]] [--detach] [--pid-file F]\n"
    "       [--tty --console-socket SOCK] ID [CMD...]\n"
    "                                             another process in a running container\n"
    "\n"
    "Global options:\n"
    "  --root DIR            state directory (default /run/sbx; rootless $XDG_RUNTIME_DIR/sbx)\n"
    "  --log FILE            where errors and warnings go (default stderr)\n"
    "  --log-format text|json\n"
    "  --debug               warnings on stderr too when there is no --log\n"
    "  --systemd-cgroup      refused: sbx manages cgroupfs itself\n"
    "\n"
    "See docs/oci.md and sbx(1).\n";

struct args {
	int argc;
	char **argv;
	int i;
};

/* "--name", "-name", "--name=v", "-name=v": true when argv[i] is that flag;
 * *value gets "=v" or, when `takes` and there is none, the next word. */
static int flag(struct args *a, const char *name, bool takes, const char **value, struct sbx_error **err)
{
	const char *s = a->argv[a->i];
	if (s[0] != '-')
		return 0;
	s += s[1] == '-' ? 2 : 1;
	size_t n = strlen(name);
	if (strncmp(s, name, n) != 0 || (s[n] != '\0' && s[n] != '='))
		return 0;
	if (!takes) {
		if (s[n] == '=') {
			if (strcmp(s + n + 1, "true") != 0 && strcmp(s + n + 1, "false") != 0)
				return sbx_error_set(err, 0, "--%s takes no value", name);
			if (value)
				*value = s + n + 1;
		}
		return 1;
	}
	if (s[n] == '=') {
		*value = s + n + 1;
		return 1;
	}
	if (a->i + 1 >= a->argc)
		return sbx_error_set(err, 0, "--%s needs a value", name);
	*value = a->argv[++a->i];
	return 1;
}

static bool is_true(const char *v)
{
	return v == NULL || strcmp(v, "true") == 0;
}

static int fail(const struct sbx_oci_global *g, struct sbx_error *err)
{
	sbx_oci_log(g, "error", err->msg);
	sbx_error_free(&err);
	return 1;
}

static int one_id(const struct sbx_oci_global *g, struct args *a, const char *cmd, const char **id)
{
	if (a->i >= a->argc) {
		fprintf(stderr, "sbx %s: a container id is required\n", cmd);
		return -1;
	}
	*id = a->argv[a->i++];
	return 0;
}

static int create_opts(struct args *a, struct sbx_oci_create_opts *o, bool *keep, struct sbx_error **err)
{
	for (; a->i < a->argc && a->argv[a->i][0] == '-'; a->i++) {
		const char *v = NULL;
		int r;
		if ((r = flag(a, "bundle", true, &o->bundle, err)) ||
		    (r = flag(a, "b", true, &o->bundle, err)) ||
		    (r = flag(a, "pid-file", true, &o->pid_file, err)) ||
		    (r = flag(a, "console-socket", true, &o->console_socket, err))) {
			if (r < 0)
				return -1;
		} else if ((r = flag(a, "no-pivot", false, &v, err))) {
			if (r < 0)
				return -1;
			o->no_pivot = is_true(v);
		} else if ((r = flag(a, "no-new-keyring", false, &v, err))) {
			if (r < 0)
				return -1;
			o->no_new_keyring = is_true(v);
		} else if ((r = flag(a, "preserve-fds", true, &v, err))) {
			if (r < 0)
				return -1;
			if (strcmp(v, "0") != 0)
				return sbx_error_set(
				    err, 0, "--preserve-fds %s: passing descriptors is not supported by sbx",
				    v);
		} else if (keep && (r = flag(a, "keep", false, &v, err))) {
			if (r < 0)
				return -1;
			*keep = is_true(v);
		} else if (keep &&
			   ((r = flag(a, "detach", false, &v, err)) || (r = flag(a, "d", false, &v, err)))) {
			return r < 0 ? -1
				     : sbx_error_set(
					   err, 0,
					   "run --detach is not supported by sbx (use create and start)");
		} else {
			return sbx_error_set(err, 0, "unknown option %s", a->argv[a->i]);
		}
	}
	return 0;
}

/* runc exec [OPTIONS] ID [COMMAND [ARG...]] */
static int cmd_exec(const struct sbx_oci_global *g, struct args *a)
{
	struct sbx_error *err = NULL;
	struct sbx_oci_exec_opts o = {0};
	cleanup_free char **env = calloc((size_t)a->argc, sizeof(char *));
	if (env == NULL)
		abort();
	o.env = env;
	for (; a->i < a->argc && a->argv[a->i][0] == '-'; a->i++) {
		const char *v = NULL;
		int r;
		if ((r = flag(a, "process", true, &o.process, &err)) ||
		    (r = flag(a, "p", true, &o.process, &err)) || (r = flag(a, "cwd", true, &o.cwd, &err)) ||
		    (r = flag(a, "user", true, &o.user, &err)) || (r = flag(a, "u", true, &o.user, &err)) ||
		    (r = flag(a, "pid-file", true, &o.pid_file, &err)) ||
		    (r = flag(a, "console-socket", true, &o.console_socket, &err))) {
			if (r < 0)
				return fail(g, err);
		} else if ((r = flag(a, "env", true, &v, &err)) || (r = flag(a, "e", true, &v, &err))) {
			if (r < 0)
				return fail(g, err);
			env[o.n_env++] = (char *)v;
		} else if ((r = flag(a, "detach", false, &v, &err)) || (r = flag(a, "d", false, &v, &err))) {
			if (r < 0)
				return fail(g, err);
			o.detach = is_true(v);
		} else if ((r = flag(a, "no-new-privs", false, &v, &err))) {
			if (r < 0) /* always set by sbx */
				return fail(g, err);
		} else if ((r = flag(a, "tty", false, &v, &err)) || (r = flag(a, "t", false, &v, &err))) {
			if (r < 0)
				return fail(g, err);
			o.tty = is_true(v);
		} else if ((r = flag(a, "preserve-fds", true, &v, &err))) {
			if (r < 0)
				return fail(g, err);
			if (strcmp(v, "0") != 0) {
				sbx_error_set(
				    &err, 0,
				    "exec --preserve-fds %s: passing descriptors is not supported by sbx", v);
				return fail(g, err);
			}
		} else {
			/* --cap, --additional-gids, --process-label,
			 * --apparmor, --cgroup: what sbx cannot do, refused by name. */
			sbx_error_set(&err, 0, "exec: option %s is not supported by sbx", a->argv[a->i]);
			return fail(g, err);
		}
	}
	const char *id;
	if (one_id(g, a, "exec", &id) < 0)
		return 1;
	o.argv = a->argv + a->i;
	int code = sbx_oci_exec(g, id, &o, &err);
	return code < 0 ? fail(g, err) : code;
}

int sbx_oci_main(int argc, char **argv)
{
	struct args a = {argc, argv, 1};
	struct sbx_error *err = NULL;
	cleanup_free char *default_root = NULL;
	struct sbx_oci_global g = {0};
	const char *fmt = "text";
	for (; a.i < argc && argv[a.i][0] == '-'; a.i++) {
		const char *v = NULL;
		int r;
		if ((r = flag(&a, "root", true, &g.root, &err)) ||
		    (r = flag(&a, "log", true, &g.log, &err)) ||
		    (r = flag(&a, "log-format", true, &fmt, &err)) ||
		    (r = flag(&a, "rootless", true, &v, &err)) || (r = flag(&a, "criu", true, &v, &err))) {
			if (r < 0)
				return fail(&g, err);
		} else if ((r = flag(&a, "debug", false, &v, &err))) {
			if (r < 0)
				return fail(&g, err);
			g.debug = is_true(v);
		} else if ((r = flag(&a, "systemd-cgroup", false, &v, &err))) {
			if (r < 0)
				return fail(&g, err);
			if (is_true(v)) {
				sbx_error_set(
				    &err, 0,
				    "--systemd-cgroup is not supported: sbx creates and removes its "
				    "cgroups itself (cgroupfs), beneath its caller's cgroup");
				return fail(&g, err);
			}
		} else if (strcmp(argv[a.i], "--help") == 0 || strcmp(argv[a.i], "-h") == 0 ||
			   strcmp(argv[a.i], "--help-oci") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[a.i], "--version") == 0 || strcmp(argv[a.i], "-v") == 0) {
			printf("sbx version %s\nspec: 1.1.0\n", SBX_VERSION);
			return 0;
		} else {
			sbx_error_set(&err, 0, "unknown global option %s", argv[a.i]);
			return fail(&g, err);
		}
	}
	if (strcmp(fmt, "json") == 0)
		g.log_json = true;
	else if (strcmp(fmt, "text") != 0) {
		sbx_error_set(&err, 0, "--log-format %s: use text or json", fmt);
		return fail(&g, err);
	}
	if (g.root == NULL) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (!sbx_idmap_rootless() || xdg == NULL || *xdg == '\0')
			default_root = strdup("/run/sbx");
		else if (asprintf(&default_root, "%s/sbx", xdg) < 0)
			default_root = NULL;
		if (default_root == NULL)
			abort();
		g.root = default_root;
	}
	if (a.i >= argc) {
		fputs(usage, stderr);
		return 1;
	}
	const char *cmd = argv[a.i++];
	const char *id = NULL;
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0) {
		bool is_run = cmd[0] == 'r';
		struct sbx_oci_create_opts o = {0};
		bool keep = false;
		if (create_opts(&a, &o, is_run ? &keep : NULL, &err) < 0)
			return fail(&g, err);
		if (one_id(&g, &a, cmd, &id) < 0)
			return 1;
		if (is_run) {
			int code = sbx_oci_run(&g, id, &o, keep, &err);
			return code < 0 ? fail(&g, err) : code;
		}
		return sbx_oci_create(&g, id, &o, &err) < 0 ? fail(&g, err) : 0;
	}
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "state") == 0) {
		if (one_id(&g, &a, cmd, &id) < 0)
			return 1;
		int r = cmd[3] == 'r' ? sbx_oci_start(&g, id, &err) : sbx_oci_state_print(&g, id, &err);
		return r < 0 ? fail(&g, err) : 0;
	}
	if (strcmp(cmd, "kill") == 0) {
		bool all = false;
		for (; a.i < argc && argv[a.i][0] == '-'; a.i++) {
			const char *v = NULL;
			int r = flag(&a, "all", false, &v, &err);
			if (r == 0)
				r = flag(&a, "a", false, &v, &err);
			if (r <= 0) {
				if (r == 0)
					sbx_error_set(&err, 0, "unknown option %s", argv[a.i]);
				return fail(&g, err);
			}
			all = is_true(v);
		}
		if (one_id(&g, &a, cmd, &id) < 0)
			return 1;
		int sig = 15;
		if (a.i < argc && sbx_oci_parse_signal(argv[a.i++], &sig, &err) < 0)
			return fail(&g, err);
		return sbx_oci_kill(&g, id, sig, all, &err) < 0 ? fail(&g, err) : 0;
	}
	if (strcmp(cmd, "delete") == 0) {
		bool force = false;
		for (; a.i < argc && argv[a.i][0] == '-'; a.i++) {
			const char *v = NULL;
			int r = flag(&a, "force", false, &v, &err);
			if (r == 0)
				r = flag(&a, "f", false, &v, &err);
			if (r <= 0) {
				if (r == 0)
					sbx_error_set(&err, 0, "unknown option %s", argv[a.i]);
				return fail(&g, err);
			}
			force = is_true(v);
		}
		if (one_id(&g, &a, cmd, &id) < 0)
			return 1;
		return sbx_oci_delete(&g, id, force, &err) < 0 ? fail(&g, err) : 0;
	}
	if (strcmp(cmd, "features") == 0) {
		sbx_oci_features_print(stdout);
		return 0;
	}
	if (strcmp(cmd, "spec") == 0) {
		bool rootless = false;
		const char *bundle = ".";
		for (; a.i < argc && argv[a.i][0] == '-'; a.i++) {
			const char *v = NULL;
			int r = flag(&a, "rootless", false, &v, &err);
			if (r > 0) {
				rootless = is_true(v);
				continue;
			}
			if (r == 0 &&
			    ((r = flag(&a, "bundle", true, &bundle, &err)) ||
			     (r = flag(&a, "b", true, &bundle, &err))) &&
			    r > 0)
				continue;
			if (r == 0)
				sbx_error_set(&err, 0, "unknown option %s", argv[a.i]);
			return fail(&g, err);
		}
		return sbx_oci_spec_write(bundle, rootless, &err) < 0 ? fail(&g, err) : 0;
	}
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(&g, &a);
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 || strcmp(cmd, "update") == 0 ||
	    strcmp(cmd, "checkpoint") == 0 || strcmp(cmd, "restore") == 0 || strcmp(cmd, "ps") == 0 ||
	    strcmp(cmd, "events") == 0 || strcmp(cmd, "list") == 0) {
		sbx_error_set(&err, 0, "'%s' is not supported by sbx", cmd);
		return fail(&g, err);
	}
	sbx_error_set(&err, 0, "unknown command '%s'", cmd);
	return fail(&g, err);
}

bool sbx_oci_is_command(int argc, char **argv)
{
	if (argc < 2)
		return false;
	const char *s = argv[1];
	if (strcmp(s, "--help-oci") == 0)
		return true;
	static const char *const cmds[] = {"create",  "start", "state",	 "kill",   "delete", "features",
					   "spec",    "exec",  "pause",	 "resume", "update", "checkpoint",
					   "restore", "ps",    "events", "list",   NULL};
	for (const char *const *c = cmds; *c; c++)
		if (strcmp(*c, s) == 0)
			return true;
	/* Global options come first only in OCI mode. */
	static const char *const globals[] = {"root",		"log",	    "log-format", "debug",
					      "systemd-cgroup", "rootless", "criu",	  NULL};
	if (s[0] == '-') {
		const char *f = s + (s[1] == '-' ? 2 : 1);
		for (const char *const *gl = globals; *gl; gl++) {
			size_t n = strlen(*gl);
			if (strncmp(f, *gl, n) == 0 && (f[n] == '\0' || f[n] == '='))
				return true;
		}
	}
	/* `run` is sbx's own, unless it names a bundle: `sbx run --bundle DIR ID`. */
	if (strcmp(s, "run") == 0)
		for (int i = 2; i < argc && argv[i][0] == '-'; i++)
			if (!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b") ||
			    !strncmp(argv[i], "--bundle=", 9) || !strncmp(argv[i], "-bundle", 7) ||
			    !strncmp(argv[i], "-b=", 3))
				return true;
	return false;
}
