/* The part of a run's config that cgroups/ needs.  cgroups/ sits below the
 * runtime and never sees struct sbx_config; sbx run hands it this. */
#ifndef SBX_CGROUP_REQUEST_H
#define SBX_CGROUP_REQUEST_H

#include "cgroups/cgroup.h"
#include "runtime/config.h"

static inline struct sbx_cgroup_request sbx_config_cgroup_request(const struct sbx_config *c)
{
	return (struct sbx_cgroup_request){
		.limits = c->limits,
		.parent = c->cgroup_parent,
		.path = c->cgroup_path,
		.allow_no_cgroup = c->allow_no_cgroup,
	};
}

#endif
