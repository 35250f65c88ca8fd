/* Text that goes into JSON (the report) must be UTF-8; paths and names that
 * an image, a config or a workload chose need not be. */
#ifndef SBX_UTF8_H
#define SBX_UTF8_H

#include <stdbool.h>

bool sbx_utf8_valid(const char *s);
/* A malloc'd copy of s in which every byte that does not start a valid
 * UTF-8 sequence (overlong forms, surrogates, beyond U+10FFFF, truncated)
 * becomes U+FFFD. */
char *sbx_utf8_sanitize(const char *s);

#endif
