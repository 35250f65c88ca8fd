#include "caps.h"

#include <errno.h>
#include <stddef.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int sbx_caps_drop_bounding(struct sbx_error **err)
{
	for (cap_value_t v = 0; v <= CAP_LAST_CAP || CAP_IS_SUPPORTED(v); v++) {
		if (!CAP_IS_SUPPORTED(v))
			break;
		if (cap_drop_bound(v) < 0)
			return sbx_error_set(err, errno, "dropping capability %d from the bounding set", v);
	}
	if (cap_reset_ambient() < 0)
		return sbx_error_set(err, errno, "clearing the ambient capability set");
	/* NOROOT: uid 0 gains nothing at execve; NO_SETUID_FIXUP: a uid change
	 * neither keeps nor re-grants; all locked so the workload cannot undo. */
	unsigned bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "setting securebits");
	return 0;
}

int sbx_caps_clear(bool keep_kill, struct sbx_error **err)
{
	cap_t c = cap_init();
	if (c == NULL)
		return sbx_error_set(err, errno, "cap_init");
	if (keep_kill) {
		cap_value_t kill = CAP_KILL;
		if (cap_set_flag(c, CAP_EFFECTIVE, 1, &kill, CAP_SET) < 0 ||
		    cap_set_flag(c, CAP_PERMITTED, 1, &kill, CAP_SET) < 0) {
			cap_free(c);
			return sbx_error_set(err, errno, "cap_set_flag CAP_KILL");
		}
	}
	int r = cap_set_proc(c);
	int e = errno;
	cap_free(c);
	if (r < 0)
		return sbx_error_set(err, e, "clearing capability sets");
	return 0;
}
