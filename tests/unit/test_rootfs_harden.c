/* rootfs-builder/harden.c: which modes and extended attributes of an image
 * may reach the host, byte for byte (no privileges needed). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "rootfs-builder/harden.h"

/* cap_setuid (bit 7) permitted, effective flag set. */
static const unsigned char cap_v2[20] = {0x01, 0, 0, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const unsigned char cap_v1[12] = {0x01, 0, 0, 0x01, 0x80, 0, 0, 0, 0, 0, 0, 0};

static struct rfs_harden bound_to(uid_t rootid)
{
	struct rfs_harden h;
	memset(&h, 0, sizeof(h));
	h.cap_rootid = rootid;
	return h;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void assert_v3(const unsigned char *out, size_t len, uint32_t rootid)
{
	cr_assert_eq(len, 24);
	cr_assert_eq(le32(out), 0x03000001u, "magic %08x", le32(out));
	cr_assert_eq(le32(out + 4), 0x80u, "permitted lost");
	cr_assert_eq(le32(out + 20), rootid);
}

Test(rootfs_harden, v2_capability_is_bound_to_the_sandbox_root)
{
	struct rfs_harden h = bound_to(1000000000);
	unsigned char out[64];
	size_t len = 0;
	cr_assert_eq(
	    rfs_harden_xattr(&h, "security.capability", cap_v2, sizeof(cap_v2), out, sizeof(out), &len), 1);
	assert_v3(out, len, 1000000000);
	cr_assert_eq(h.caps_rewritten, 1);
	cr_assert_eq(
	    rfs_harden_xattr(&h, "security.capability", cap_v1, sizeof(cap_v1), out, sizeof(out), &len), 1);
	assert_v3(out, len, 1000000000);
}

Test(rootfs_harden, v3_capability_with_image_root_is_rebound_and_others_dropped)
{
	struct rfs_harden h = bound_to(1000000000);
	unsigned char v3[24] = {0x01, 0, 0, 0x03, 0x80};
	unsigned char out[64];
	size_t len = 0;
	cr_assert_eq(rfs_harden_xattr(&h, "security.capability", v3, sizeof(v3), out, sizeof(out), &len), 1);
	assert_v3(out, len, 1000000000);
	/* Already bound to the sandbox's root (as the kernel writes a RUN
	 * step's setcap): kept as is. */
	v3[20] = 0x00, v3[21] = 0xca, v3[22] = 0x9a, v3[23] = 0x3b; /* 1000000000 */
	cr_assert_eq(rfs_harden_xattr(&h, "security.capability", v3, sizeof(v3), out, sizeof(out), &len), 1);
	cr_assert(len == 24 && memcmp(out, v3, 24) == 0);
	/* Bound to some other namespace's root: dropped. */
	v3[20] = 5, v3[21] = v3[22] = v3[23] = 0;
	cr_assert_eq(rfs_harden_xattr(&h, "security.capability", v3, sizeof(v3), out, sizeof(out), &len), 0);
	cr_assert_eq(h.caps_dropped, 1);
}

Test(rootfs_harden, no_capability_when_the_sandbox_root_is_host_root)
{
	unsigned char out[64];
	size_t len;
	struct rfs_harden none = bound_to((uid_t)-1), root = bound_to(0);
	cr_assert_eq(rfs_harden_xattr(&none, "security.capability", cap_v2, 20, out, sizeof(out), &len), 0);
	cr_assert_eq(rfs_harden_xattr(&root, "security.capability", cap_v2, 20, out, sizeof(out), &len), 0);
	cr_assert_eq(none.caps_dropped + root.caps_dropped, 2);
}

Test(rootfs_harden, malformed_capabilities_are_dropped)
{
	struct rfs_harden h = bound_to(1000000000);
	unsigned char out[64];
	size_t len;
	unsigned char bad_rev[20] = {0, 0, 0, 0x07, 0x80};
	cr_assert_eq(rfs_harden_xattr(&h, "security.capability", bad_rev, 20, out, sizeof(out), &len), 0);
	cr_assert_eq(rfs_harden_xattr(&h, "security.capability", cap_v2, 19, out, sizeof(out), &len), 0);
	cr_assert_eq(rfs_harden_xattr(&h, "security.capability", cap_v2, 0, out, sizeof(out), &len), 0);
	cr_assert_eq(h.caps_dropped, 3);
}

Test(rootfs_harden, only_user_attributes_are_kept)
{
	struct rfs_harden h = bound_to(1000000000);
	unsigned char out[64];
	size_t len = 0;
	cr_assert_eq(rfs_harden_xattr(&h, "user.mime_type", "text/plain", 10, out, sizeof(out), &len), 1);
	cr_assert(len == 10 && memcmp(out, "text/plain", 10) == 0);
	const char *dropped[] = {
	    "trusted.overlay.opaque", "trusted.overlay.redirect", "security.selinux", "security.ima",
	    "security.evm",	      "system.posix_acl_access",  "weird.name"};
	for (size_t i = 0; i < sizeof(dropped) / sizeof(*dropped); i++)
		cr_assert_eq(rfs_harden_xattr(&h, dropped[i], "y", 1, out, sizeof(out), &len), 0, "%s kept",
			     dropped[i]);
	cr_assert_eq(h.xattrs_dropped, 7);
}

Test(rootfs_harden, setid_bits_of_files_are_cleared_not_of_directories)
{
	struct rfs_harden h = bound_to(1000000000);
	cr_assert_eq(rfs_harden_mode(&h, S_IFREG, 04755), 0755);
	cr_assert_eq(rfs_harden_mode(&h, S_IFREG, 02755), 0755);
	cr_assert_eq(rfs_harden_mode(&h, S_IFREG, 06711), 0711);
	cr_assert_eq(rfs_harden_mode(&h, S_IFREG, 01755), 01755);
	cr_assert_eq(rfs_harden_mode(&h, S_IFDIR, 02775), 02775);
	cr_assert_eq(rfs_harden_mode(&h, S_IFDIR, 01777), 01777);
	cr_assert_eq(h.setid_cleared, 3);
}
