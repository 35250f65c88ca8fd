#include "run.h"

#include "sandbox.h"

int sbx_run(const struct sbx_config *c, struct sbx_result *r)
{
	struct sbx_sandbox sb;
	sbx_sandbox_init(&sb, c, r);
	if (sbx_sandbox_prepare(&sb) == 0 && sbx_sandbox_launch(&sb) == 0)
		sbx_sandbox_supervise(&sb);
	sbx_sandbox_collect(&sb);
	sbx_sandbox_teardown(&sb);
	return r->exit_code;
}
