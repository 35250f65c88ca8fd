#include "caps.h"

#include <errno.h>
#include <linux/securebits.h>
#include <stddef.h>
#include <sys/capability.h>
#include <sys/prctl.h>

const int sbx_build_caps[] = { CAP_CHOWN,  CAP_DAC_OVERRIDE,     CAP_FOWNER,     CAP_FSETID, CAP_KILL,
			       CAP_SETGID, CAP_SETUID,           CAP_SETPCAP,    CAP_NET_BIND_SERVICE,
			       CAP_SYS_CHROOT, CAP_MKNOD,        CAP_AUDIT_WRITE, CAP_SETFCAP };
const int sbx_n_build_caps = sizeof(sbx_build_caps) / sizeof(*sbx_build_caps);

static bool in_build_set(cap_value_t v)
{
	for (int i = 0; i < sbx_n_build_caps; i++)
		if (sbx_build_caps[i] == v)
			return true;
	return false;
}

int sbx_caps_drop_bounding(bool build, struct sbx_error **err)
{
	/* One PR_CAPBSET_DROP per capability, up to the first the kernel does
	 * not know (EINVAL): libcap's loop asked the kernel twice per
	 * capability, and its ambient reset once more for each. */
	for (cap_value_t v = 0;; v++) {
		if (build && in_build_set(v))
			continue;
		if (prctl(PR_CAPBSET_DROP, v, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && v > 0)
			break;
		return sbx_error_set(err, errno, "dropping capability %d from the bounding set", v);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "clearing the ambient capability set");
	/* NOROOT: uid 0 gains nothing at execve; NO_SETUID_FIXUP: a uid change
	 * neither keeps nor re-grants; all locked so the workload cannot undo.
	 * A build step leaves root its (bounded) capabilities. */
	unsigned bits = SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (!build)
		bits |= SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
			SECBIT_KEEP_CAPS_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return sbx_error_set(err, errno, "setting securebits");
	return 0;
}

int sbx_caps_clear(bool keep_kill, bool build, struct sbx_error **err)
{
	cap_t c = cap_init();
	if (c == NULL)
		return sbx_error_set(err, errno, "cap_init");
	cap_value_t kill = CAP_KILL;
	int r = 0;
	if (build) {
		cap_value_t v[sizeof(sbx_build_caps) / sizeof(*sbx_build_caps)];
		for (int i = 0; i < sbx_n_build_caps; i++)
			v[i] = sbx_build_caps[i];
		for (cap_flag_t f = CAP_EFFECTIVE; f <= CAP_INHERITABLE && r == 0; f++)
			r = cap_set_flag(c, f, sbx_n_build_caps, v, CAP_SET);
	} else if (keep_kill) {
		r = cap_set_flag(c, CAP_EFFECTIVE, 1, &kill, CAP_SET);
		if (r == 0)
			r = cap_set_flag(c, CAP_PERMITTED, 1, &kill, CAP_SET);
	}
	if (r < 0) {
		int e = errno;
		cap_free(c);
		return sbx_error_set(err, e, "cap_set_flag");
	}
	r = cap_set_proc(c);
	int e = errno;
	cap_free(c);
	if (r < 0)
		return sbx_error_set(err, e, "setting capability sets");
	return 0;
}
