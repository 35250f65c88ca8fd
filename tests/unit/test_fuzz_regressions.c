/* Regressions found by the fuzzers (tests/fuzz/, docs/security.md), one test
 * per finding, with the input that showed it.  The raw inputs are also kept
 * in tests/fuzz/NAME/crashes/ and replayed by the fuzz suite. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/image_config.h"
#include "lib/safefs.h"

/* ---- image_config: the image user resolved from the image's passwd/group ---- */

static char root[64];

static void mkroot(void)
{
	snprintf(root, sizeof(root), "/tmp/fuzzreg-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	char p[128];
	snprintf(p, sizeof(p), "%s/etc", root);
	cr_assert_eq(mkdir(p, 0755), 0);
}

static void rmroot(void) { rfs_remove_at(AT_FDCWD, root); }

static void put(const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/etc/%s", root, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static int resolve(const char *user, int64_t *uid, int64_t *gid)
{
	struct sbx_image_config c;
	sbx_image_config_init(&c);
	c.user = strdup(user);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sbx_error *err = NULL;
	int r = sbx_image_config_resolve_user(&c, fd, &err);
	*uid = c.uid;
	*gid = c.gid;
	sbx_error_free(&err);
	close(fd);
	sbx_image_config_free(&c);
	return r;
}

/* tests/fuzz/image_config/crashes/passwd-empty-password-field: an empty
 * password field is a field (passwd(5)); images made with
 * `echo "user::1001:2000::/home/user:/bin/sh" >> /etc/passwd` have one.
 * Collapsing it shifted the fields: the user ran as 2000:0. */
Test(fuzz_regressions, passwd_empty_password_field, .init = mkroot, .fini = rmroot)
{
	put("passwd", "root:x:0:0:root:/root:/bin/sh\nstrategy::1001:2000::/home/strategy:/bin/sh\n");
	put("group", "root:x:0:\n");
	int64_t uid, gid;
	cr_assert_eq(resolve("strategy", &uid, &gid), 0);
	cr_expect_eq(uid, 1001);
	cr_expect_eq(gid, 2000);
}

/* tests/fuzz/image_config/crashes/group-empty-password-field: the same in
 * /etc/group ("staff::50:") made the group unknown. */
Test(fuzz_regressions, group_empty_password_field, .init = mkroot, .fini = rmroot)
{
	put("passwd", "root:x:0:0:root:/root:/bin/sh\n");
	put("group", "root:x:0:\nstaff::50:\n");
	int64_t uid, gid;
	cr_assert_eq(resolve("1001:staff", &uid, &gid), 0);
	cr_expect_eq(uid, 1001);
	cr_expect_eq(gid, 50);
}
