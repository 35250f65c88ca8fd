/* The run's configuration: one plain struct, filled by the CLI and the YAML
 * loader today and by other front ends (an OCI bundle's config.json, a warm
 * pool) later.  Nothing in it refers to how it was filled. */
#ifndef SBX_CONFIG_H
#define SBX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/idmap_defaults.h"
#include "lib/limits.h"
#include "lib/size.h"

enum sbx_network {
	SBX_NET_LOOPBACK = 0, /* own net namespace, lo up (default) */
	SBX_NET_NONE,         /* own net namespace, lo down */
	SBX_NET_HOST,         /* share the host's network namespace */
};

struct sbx_bind {
	char *source; /* host path */
	char *target; /* absolute path inside the sandbox */
	bool rw;
};

struct sbx_tmpfs {
	char *target;
	uint64_t size; /* bytes; 0 = limits.tmp */
};

/* Per-user-namespace counters (/proc/sys/user/NAME) set in the sandbox's
 * own user namespace before the workload starts.  The kernel charges them
 * up the chain of namespaces to the host user too, so without a small limit
 * inside, one sandbox could use up the caller's (or host root's) share. */
enum sbx_userns_limit {
	SBX_UL_USER_NAMESPACES, SBX_UL_PID_NAMESPACES, SBX_UL_NET_NAMESPACES, SBX_UL_MNT_NAMESPACES,
	SBX_UL_IPC_NAMESPACES, SBX_UL_UTS_NAMESPACES, SBX_UL_CGROUP_NAMESPACES, SBX_UL_TIME_NAMESPACES,
	SBX_UL_INOTIFY_INSTANCES, SBX_UL_INOTIFY_WATCHES, SBX_UL_FANOTIFY_GROUPS, SBX_UL_FANOTIFY_MARKS,
	SBX_USERNS_LIMITS
};
/* The kernel's file names ("max_user_namespaces", ...), by enum value. */
extern const char *const sbx_userns_limit_names[SBX_USERNS_LIMITS];
#define SBX_MIN_MEMORY (4ull << 20)

enum {
	SBX_KMOUNT_SYSFS = 1 << 0,  /* /sys, read-only */
	SBX_KMOUNT_MQUEUE = 1 << 1, /* /dev/mqueue */
	SBX_KMOUNT_CGROUP = 1 << 2, /* /sys/fs/cgroup, cgroup2 read-only */
};

/* A host device node bound into the sandbox's /dev (OCI linux.devices;
 * runtime/devices.c). */
struct sbx_device {
	char *path;  /* below /dev, relative: "fuse", "net/tun" */
	char *host;  /* the host's node, absolute */
	mode_t type; /* S_IFCHR or S_IFBLK */
	dev_t rdev;
};

struct sbx_config {
	char *rootfs;
	bool writable_rootfs; /* bind the rootfs read-write (image builds only) */
	bool build_caps;      /* keep Docker's default capabilities (image builds only) */
	bool keep_caps;       /* warm-pool zygote only (runtime/pool_zygote.c): the workload keeps every
	                         capability of its user namespace; no flag or YAML key sets it */
	char **argv;   /* NULL-terminated command */
	char **env;    /* NULL-terminated KEY=VALUE list, exactly the workload's env */
	size_t n_env;
	char *workdir; /* NULL = "/" */
	uid_t uid;     /* inside the sandbox */
	gid_t gid;
	bool user_set; /* --user or user: given (else the image's USER applies) */
	char *image_config; /* image-config file; NULL = "<rootfs>.image-config.json" if present */
	bool no_image_config;
	char *hostname;
	enum sbx_network network;
	struct sbx_limits limits;
	struct sbx_bind *binds;
	size_t n_binds;
	struct sbx_tmpfs *tmpfs;
	size_t n_tmpfs;
	char *out_dir;     /* host directory for /out, NULL = no /out */
	uint64_t out_size; /* size of the /out tmpfs */
	bool terminal;     /* OCI process.terminal: the workload gets a pty of the sandbox's devpts (contain.h) */
	bool tmpfs_exec;   /* allow exec from /tmp, /out, /dev/shm and extra tmpfs (default noexec) */
	/* OCI config.json only (oci/spec.c; no flag or YAML key): kernel
	 * filesystems the spec mounts (SBX_KMOUNT_*, runtime/mounts.c), and the
	 * spec's masked paths under /sys, hidden once sysfs is there. */
	unsigned kernel_mounts;
	char **sys_masked;
	/* An ipc or uts namespace the supervisor joined (a pod's): the clone
	 * makes none, and the hostname is left as it is. */
	bool shared_ipc, shared_uts;
	struct sbx_device *devices;
	size_t n_devices;
	uint64_t userns_limits[SBX_USERNS_LIMITS]; /* SBX_UNSET = leave the kernel's value */
	char *seccomp;     /* "default", "unconfined" or a profile path */
	char *report;      /* NULL = none, "-" = stderr */
	char *stdout_file; /* NULL = caller's stdout */
	char *stderr_file;
	char *cgroup_parent;
	char *cgroup_path; /* OCI linux.cgroupsPath only: the cgroup itself (cgroups/cgroup.h) */
	bool allow_no_cgroup;
	/* As root, container ids 0..idmap_size-1 map onto host ids
	 * idmap_host_base..; never host root (see docs/configuration.md). */
	uint32_t idmap_host_base;
	uint32_t idmap_size;
	/* Derived by sbx_config_validate from the caller: not running as root,
	 * so only the caller is mapped and setgroups is denied. */
	bool rootless;
};

void sbx_config_init(struct sbx_config *c);
void sbx_config_free(struct sbx_config *c);

/* Setters shared by the CLI and the YAML loader, so both accept exactly the
 * same values with the same messages.  `value` is the user's text. */
int sbx_config_set_network(struct sbx_config *c, const char *value, struct sbx_error **err);
int sbx_config_add_bind_spec(struct sbx_config *c, const char *spec, struct sbx_error **err);
int sbx_config_add_bind(struct sbx_config *c, const char *source, const char *target, bool rw,
			struct sbx_error **err);
int sbx_config_add_tmpfs_spec(struct sbx_config *c, const char *spec, struct sbx_error **err);
int sbx_config_set_env(struct sbx_config *c, const char *key, const char *value, struct sbx_error **err);
int sbx_config_add_env_spec(struct sbx_config *c, const char *spec, struct sbx_error **err);
int sbx_config_set_user(struct sbx_config *c, const char *spec, struct sbx_error **err);
int sbx_config_set_out_spec(struct sbx_config *c, const char *spec, struct sbx_error **err);
int sbx_config_set_userns_limit(struct sbx_config *c, const char *name, const char *value, struct sbx_error **err);
int sbx_config_add_userns_limit_spec(struct sbx_config *c, const char *spec, struct sbx_error **err);
int sbx_config_set_string(char **field, const char *value);
const char *sbx_config_getenv(const struct sbx_config *c, const char *key);

/* Final checks once every source has been applied: required fields, paths
 * that must exist, conflicting options.  Creates nothing. */
int sbx_config_validate(struct sbx_config *c, struct sbx_error **err);

/* Fill what flags and the YAML config left unset (command, environment
 * keys, workdir, user) from the rootfs' image-config file (docs/rootfs.md),
 * when there is one.  Runs before sbx_config_validate. */
int sbx_config_apply_image(struct sbx_config *c, struct sbx_error **err);

#endif
