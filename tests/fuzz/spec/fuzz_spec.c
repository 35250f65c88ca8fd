/* The small parsers of user-typed values: sizes, numbers, --bind, --tmpfs,
 * --env, --user, --out, --network (runtime/size.h, runtime/config.h setters,
 * shared by the CLI and the YAML config) and the rootfs builder's
 * --platform, --base and --build-arg.  The first byte picks the parser, the
 * rest is the value. */
#include <assert.h>

#include "rootfs-builder/build.h"
#include "rootfs-builder/digest.h"
#include "rootfs-builder/image.h"
#include "runtime/config.h"
#include "lib/size.h"
#include "tests/fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = fuzz_cstr(data + 1, size - 1);
	struct sbx_error *err = NULL;
	struct sbx_config c;
	sbx_config_init(&c);
	uint64_t u = 0;
	double d = 0;
	int r = 0;
	switch (data[0] % 14) {
	case 0:
		r = sbx_parse_size(s, &u, &err);
		break;
	case 1:
		r = sbx_parse_double(s, &d, data[0] & 0x80, &err);
		if (r == 0)
			assert(d >= 0 && d == d);
		break;
	case 2:
		r = sbx_parse_uint(s, data[0] & 0x80 ? UINT32_MAX : UINT64_MAX, &u, &err);
		break;
	case 3:
		r = sbx_config_add_bind_spec(&c, s, &err);
		if (r == 0)
			assert(c.n_binds == 1 && c.binds[0].target[0] == '/');
		break;
	case 4:
		r = sbx_config_add_tmpfs_spec(&c, s, &err);
		if (r == 0)
			assert(c.n_tmpfs == 1);
		break;
	case 5:
		r = sbx_config_add_env_spec(&c, s, &err);
		if (r == 0)
			assert(c.n_env == 1 && strchr(c.env[0], '=') != NULL);
		break;
	case 6:
		r = sbx_config_set_user(&c, s, &err);
		break;
	case 7:
		r = sbx_config_set_out_spec(&c, s, &err);
		break;
	case 8:
		r = sbx_config_set_network(&c, s, &err);
		break;
	case 9: {
		struct rfs_platform p;
		r = rfs_platform_parse(s, &p, &err);
		if (r == 0)
			assert(p.os[sizeof(p.os) - 1] == '\0' && p.arch[0] != '\0');
		break;
	}
	case 10: {
		struct rfs_build_opts o;
		rfs_build_opts_init(&o);
		r = rfs_build_add_base(&o, s, &err);
		rfs_build_opts_free(&o);
		break;
	}
	case 11: {
		struct rfs_build_opts o;
		rfs_build_opts_init(&o);
		r = rfs_build_add_arg(&o, s, &err);
		rfs_build_opts_free(&o);
		break;
	}
	case 12:
		if (rfs_digest_valid(s))
			assert(strlen(rfs_digest_hex(s)) == 64);
		break;
	case 13: {
		/* key and value split at the first '=', like --env */
		char *eq = strchr(s, '=');
		if (eq) {
			*eq = '\0';
			r = sbx_config_set_env(&c, s, eq + 1, &err);
		}
		break;
	}
	}
	if (r < 0)
		assert(err != NULL && err->msg != NULL);
	sbx_error_free(&err);
	sbx_config_free(&c);
	free(s);
	return 0;
}
