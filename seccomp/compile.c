/* --seccomp default|unconfined|FILE -> a compiled filter. */
#include <stdlib.h>
#include <string.h>

#include "filter.h"

int sbx_seccomp_profile_for_spec(const char *spec, struct sbx_seccomp_profile *p, struct sbx_error **err);

/* The profile behind a spec ("default" is the copy embedded at build time). */
int sbx_seccomp_profile_for_spec(const char *spec, struct sbx_seccomp_profile *p, struct sbx_error **err)
{
	if (!strcmp(spec, "default"))
		return sbx_seccomp_profile_parse(sbx_seccomp_default_yaml, sbx_seccomp_default_yaml_len,
						 "default", p, err);
	return sbx_seccomp_profile_load(spec, p, err);
}

int sbx_seccomp_compile(const char *spec, struct sbx_seccomp **out, struct sbx_error **err)
{
	*out = NULL;
	if (spec == NULL || !strcmp(spec, "default"))
		/* Compiled when sbx was built: no libseccomp work per run. */
		return sbx_seccomp_from_plain(sbx_seccomp_default_plain, sbx_seccomp_default_plain_len,
					      sbx_seccomp_default_spec_allow,
					      sbx_seccomp_default_report_denials, out, err);
	if (!strcmp(spec, "unconfined"))
		return 0;
	struct sbx_seccomp_profile p;
	int rc = sbx_seccomp_profile_load(spec, &p, err);
	if (rc == 0)
		rc = sbx_seccomp_from_profile(&p, out, err);
	sbx_seccomp_profile_free(&p);
	return rc;
}
