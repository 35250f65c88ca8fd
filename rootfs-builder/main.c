/* sbx-rootfs: container images to rootfs directories without dockerd.
 *   sbx-rootfs import SOURCE --out DIR
 *   sbx-rootfs build -f Dockerfile.sandbox --out DIR
 * The work is done in the library (import.c, build.c); this file only
 * parses the command line. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rootfs-builder/build.h"
#include "rootfs-builder/import.h"
#include "lib/size.h"

static void usage(FILE *f)
{
	fputs("usage: sbx-rootfs import SOURCE --out DIR [OPTIONS]\n"
	      "       sbx-rootfs build [-f Dockerfile.sandbox] --out DIR [OPTIONS] [CONTEXT]\n"
	      "\n"
	      "import: SOURCE is an OCI image layout directory, an oci-archive, a docker-archive\n"
	      "        (docker save) or a flat filesystem tar (docker export).\n"
	      "  --out DIR            the rootfs to create (must not exist unless --force)\n"
	      "  --platform OS/ARCH   manifest to pick from an index (default linux/amd64)\n"
	      "  --ref NAME           image to pick by name when the source holds several\n"
	      "  --max-size SIZE      refuse images whose content, or whose data once decompressed,\n"
	      "                       exceeds SIZE (default 8G)\n"
	      "  --ids shift|keep|caller\n"
	      "                       file owners: image id U -> host id BASE+U (default as root),\n"
	      "                       the image's ids verbatim, or the caller (default rootless)\n"
	      "  --idmap-base N       BASE for --ids shift (default 1000000000, as sbx run)\n"
	      "  --force              replace DIR if it exists\n"
	      "  -q, --quiet          no progress output\n"
	      "  Set-id bits, file capabilities not bound to the sandbox's root and extended\n"
	      "  attributes other than user.* never reach DIR (docs/rootfs.md).\n"
	      "\n"
	      "build: a Dockerfile subset (docs/rootfs.md); CONTEXT defaults to the Dockerfile's directory.\n"
	      "  -f FILE              the Dockerfile (default Dockerfile.sandbox)\n"
	      "  --base NAME=ARCHIVE  use a local image archive for FROM NAME (repeatable)\n"
	      "  --build-arg K=V      set an ARG (repeatable)\n"
	      "  --sbx PATH           the sbx program for RUN steps (default: the sbx beside sbx-rootfs)\n"
	      "  --mirror URL         Debian mirror for FROM debian:SUITE\n"
	      "  --network loopback|none|host\n"
	      "                       RUN steps' network (default loopback: none of the host's);\n"
	      "                       host gives them the host's network, loopback services and\n"
	      "                       abstract sockets: only for trusted base images (apt-get)\n"
	      "  --out, --max-size, --ids, --idmap-base, --force, --quiet as for import\n",
	      f);
}

enum {
	OPT_OUT = 256,
	OPT_PLATFORM,
	OPT_REF,
	OPT_MAX,
	OPT_IDS,
	OPT_BASE_ID,
	OPT_FORCE,
	OPT_BASE,
	OPT_ARG,
	OPT_SBX,
	OPT_MIRROR,
	OPT_NETWORK
};

static const struct option opts[] = {
    {"out", required_argument, NULL, OPT_OUT},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"ref", required_argument, NULL, OPT_REF},
    {"max-size", required_argument, NULL, OPT_MAX},
    {"ids", required_argument, NULL, OPT_IDS},
    {"idmap-base", required_argument, NULL, OPT_BASE_ID},
    {"force", no_argument, NULL, OPT_FORCE},
    {"quiet", no_argument, NULL, 'q'},
    {"file", required_argument, NULL, 'f'},
    {"base", required_argument, NULL, OPT_BASE},
    {"build-arg", required_argument, NULL, OPT_ARG},
    {"sbx", required_argument, NULL, OPT_SBX},
    {"mirror", required_argument, NULL, OPT_MIRROR},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Stop cleanly: the work in progress notices the flag and takes its error
 * path, which removes the temporary trees (a child such as sbx run or
 * mmdebstrap gets the terminal's signal too and exits). */
static void on_signal(int sig)
{
	rfs_interrupted = 1;
}

static int fail(struct sbx_error *err)
{
	fprintf(stderr, "sbx-rootfs: %s\n", err->msg);
	sbx_error_free(&err);
	return 1;
}

/* An option of the other command is an error, not silently ignored. */
static int wrong_verb(const char *verb, const char *flag)
{
	fprintf(stderr, "sbx-rootfs %s: %s is an option of '%s' only (see sbx-rootfs --help)\n", verb, flag,
		strcmp(verb, "import") == 0 ? "build" : "import");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	int is_import = strcmp(verb, "import") == 0, is_build = strcmp(verb, "build") == 0;
	if (!is_import && !is_build) {
		fprintf(stderr, "sbx-rootfs: unknown command '%s'\n", verb);
		usage(stderr);
		return 2;
	}
	struct rfs_import_opts io;
	rfs_import_opts_init(&io);
	struct rfs_build_opts bo;
	rfs_build_opts_init(&bo);
	struct sbx_error *err = NULL;
	int quiet = 0, c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT:
			io.out = bo.out = optarg;
			break;
		case OPT_PLATFORM:
			io.platform = bo.platform = optarg;
			break;
		case OPT_REF:
			if (is_build)
				return wrong_verb(verb, "--ref");
			io.ref = optarg;
			break;
		case OPT_MAX:
			if (sbx_parse_size(optarg, &io.max_size, &err) < 0) {
				sbx_error_wrap(&err, "--max-size");
				return fail(err);
			}
			bo.max_size = io.max_size;
			break;
		case OPT_IDS:
			if (strcmp(optarg, "shift") == 0)
				io.ids = RFS_IDS_SHIFT;
			else if (strcmp(optarg, "keep") == 0)
				io.ids = RFS_IDS_KEEP;
			else if (strcmp(optarg, "caller") == 0)
				io.ids = RFS_IDS_CALLER;
			else {
				fprintf(stderr,
					"sbx-rootfs: --ids: expected shift, keep or caller, not '%s'\n",
					optarg);
				return 2;
			}
			bo.ids = io.ids;
			break;
		case OPT_BASE_ID: {
			uint64_t v;
			if (sbx_parse_uint(optarg, 0xffffffffull - 65536, &v, &err) < 0) {
				sbx_error_wrap(&err, "--idmap-base");
				return fail(err);
			}
			io.id_base = bo.id_base = (uint32_t)v;
			break;
		}
		case OPT_FORCE:
			io.force = bo.force = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'f':
			if (is_import)
				return wrong_verb(verb, "-f/--file");
			bo.file = optarg;
			break;
		case OPT_BASE:
			if (is_import)
				return wrong_verb(verb, "--base");
			if (rfs_build_add_base(&bo, optarg, &err) < 0)
				return fail(err);
			break;
		case OPT_ARG:
			if (is_import)
				return wrong_verb(verb, "--build-arg");
			if (rfs_build_add_arg(&bo, optarg, &err) < 0)
				return fail(err);
			break;
		case OPT_SBX:
			if (is_import)
				return wrong_verb(verb, "--sbx");
			bo.sbx = optarg;
			break;
		case OPT_MIRROR:
			if (is_import)
				return wrong_verb(verb, "--mirror");
			bo.mirror = optarg;
			break;
		case OPT_NETWORK:
			if (is_import)
				return wrong_verb(verb, "--network");
			if (strcmp(optarg, "loopback") != 0 && strcmp(optarg, "none") != 0 &&
			    strcmp(optarg, "host") != 0) {
				fprintf(stderr,
					"sbx-rootfs: --network: expected loopback, none or host, not '%s'\n",
					optarg);
				return 2;
			}
			bo.network = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (io.out == NULL) {
		fprintf(stderr, "sbx-rootfs %s: --out DIR is required\n", verb);
		return 2;
	}
	io.progress = bo.progress = quiet ? NULL : stderr;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int r;
	if (is_import) {
		if (optind != argc - 1) {
			fprintf(stderr, "sbx-rootfs import: expected exactly one SOURCE\n");
			return 2;
		}
		io.source = argv[optind];
		r = rfs_import(&io, &err);
	} else {
		if (optind < argc - 1) {
			fprintf(stderr, "sbx-rootfs build: at most one CONTEXT directory\n");
			return 2;
		}
		bo.context = optind < argc ? argv[optind] : NULL;
		r = rfs_build(&bo, &err);
		rfs_build_opts_free(&bo);
	}
	if (r < 0)
		return fail(err);
	return 0;
}
