/* An OCI bundle's config.json (runtime-spec 1.x) read into the run's
 * configuration (runtime/config.h) plus what only the OCI front end acts on:
 * rlimits, oom_score_adj, umask, sysctls, hooks, annotations, the converted
 * seccomp profile.
 *
 * Strict: every field is known.  A field sbx does not support is an error
 * that names it ("linux.namespaces[2].path: ..."); a field sbx enforces at
 * least as strictly as asked (capabilities, noNewPrivileges, masked paths
 * it already masks) is accepted; docs/oci.md has the whole table. */
#ifndef SBX_OCI_SPEC_H
#define SBX_OCI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/config.h"
#include "lib/error.h"

struct sbx_oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct sbx_oci_sysctl {
	char *key; /* "net.ipv4.ping_group_range" */
	char *value;
};

enum sbx_oci_hook_kind {
	SBX_HOOK_PRESTART,
	SBX_HOOK_CREATE_RUNTIME,
	SBX_HOOK_CREATE_CONTAINER,
	SBX_HOOK_START_CONTAINER,
	SBX_HOOK_POSTSTART,
	SBX_HOOK_POSTSTOP,
	SBX_HOOK_KINDS
};
extern const char *const sbx_oci_hook_names[SBX_HOOK_KINDS];

struct sbx_oci_hook {
	char *path;
	char **args; /* NULL-terminated; NULL = { path } */
	char **env;  /* NULL-terminated; NULL = empty */
	int timeout; /* seconds, 0 = none */
};

struct sbx_oci_spec {
	char *oci_version;
	struct sbx_oci_rlimit *rlimits;
	size_t n_rlimits;
	bool oom_score_adj_set;
	int oom_score_adj;
	bool umask_set;
	mode_t umask;
	struct sbx_oci_sysctl *sysctls;
	size_t n_sysctls;
	struct sbx_oci_hook *hooks[SBX_HOOK_KINDS];
	size_t n_hooks[SBX_HOOK_KINDS];
	char *annotations;  /* the annotations object as compact JSON, "{}" if none */
	char *seccomp_yaml; /* linux.seccomp as an sbx profile; NULL = none given */
	char *netns_path;   /* a network namespace to join (podman, CNI); NULL = a new one */
	char *ipcns_path;   /* an ipc namespace to join (a pod's); NULL = a new one */
	char *utsns_path;   /* a uts namespace to join (a pod's); NULL = a new one */
	bool limits_set;    /* linux.resources gave a memory, pids or cpu limit */
	char **warnings;    /* fields accepted as no-ops on this host (apparmor, selinux, ...) */
	size_t n_warnings;
};

/* Parse `text` (config.json of the bundle directory `bundle`) into `c`
 * (initialised by sbx_config_init, rootfs resolved against the bundle) and
 * `s` (zeroed by the caller).  Errors start with "config.json: FIELD". */
int sbx_oci_spec_parse(const char *text, size_t len, const char *bundle, struct sbx_config *c,
		       struct sbx_oci_spec *s, struct sbx_error **err);
/* Read BUNDLE/config.json and parse it. */
int sbx_oci_spec_load(const char *bundle, struct sbx_config *c, struct sbx_oci_spec *s,
		      struct sbx_error **err);
void sbx_oci_spec_free(struct sbx_oci_spec *s);

/* linux.seccomp (a JSON object) as the text of an sbx seccomp profile
 * (docs/seccomp.md), compiled by the same libseccomp path as any profile.
 * Syscall names libseccomp does not know are left out, as runc does. */
struct json_t;
int sbx_oci_seccomp_to_yaml(const struct json_t *seccomp, char **yaml, struct sbx_error **err);

#endif
