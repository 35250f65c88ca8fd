/* Symbolic names a profile may use instead of numbers: errno names for
 * actions, and the constants that argument conditions compare with
 * (address families, clone flags, ioctl requests, personalities). */
#ifndef SBX_SECCOMP_NAMES_H
#define SBX_SECCOMP_NAMES_H

#include <stdint.h>

/* "EPERM" or a number 0..4095 -> errno.  Returns -1 if neither. */
int sbx_seccomp_errno_parse(const char *s, int *out);
/* "CLONE_NEWNS|CLONE_NEWUSER", "0x5412", "21522", "AF_INET" -> value.
 * Returns -1 and leaves *bad pointing at the unknown part otherwise. */
int sbx_seccomp_value_parse(const char *s, uint64_t *out, const char **bad);

#endif
