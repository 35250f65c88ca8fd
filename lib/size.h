#ifndef SBX_SIZE_H
#define SBX_SIZE_H

#include <stdint.h>

#include "lib/error.h"

/* Parse "512M", "1G", "64k", "1048576", "0" (binary units: K=1024).
 * Suffixes K/M/G/T, optionally followed by "i"/"iB"/"B", any case.
 * Rejects empty strings, signs, fractions, overflow and trailing junk. */
int sbx_parse_size(const char *s, uint64_t *out, struct sbx_error **err);
/* Parse a positive (or zero when allow_zero) decimal number like "0.5", "60". */
int sbx_parse_double(const char *s, double *out, int allow_zero, struct sbx_error **err);
/* Parse a non-negative integer that fits in max. */
int sbx_parse_uint(const char *s, uint64_t max, uint64_t *out, struct sbx_error **err);

#endif
