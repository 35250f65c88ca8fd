#include "lib/size.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sbx_parse_uint(const char *s, uint64_t max, uint64_t *out, struct sbx_error **err)
{
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return sbx_error_set(err, 0, "'%s' is not a non-negative integer", s ? s : "");
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE || v > max)
		return sbx_error_set(err, 0, "'%s' is out of range (at most %llu)", s,
				     (unsigned long long)max);
	if (*end != '\0')
		return sbx_error_set(err, 0, "'%s' is not a non-negative integer", s);
	*out = v;
	return 0;
}

int sbx_parse_size(const char *s, uint64_t *out, struct sbx_error **err)
{
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return sbx_error_set(err, 0, "invalid size '%s': expected a number with an optional K, M, G or T suffix",
				     s ? s : "");
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return sbx_error_set(err, 0, "invalid size '%s': too large", s);
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'B': shift = 0; end++; break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default:
		return sbx_error_set(err, 0, "invalid size '%s': unknown suffix '%s' (use K, M, G or T)", s, end);
	}
	if (shift > 0) {
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end != '\0')
		return sbx_error_set(err, 0, "invalid size '%s': unexpected '%s' after the number", s, end);
	if (shift > 0 && v > (UINT64_MAX >> shift))
		return sbx_error_set(err, 0, "invalid size '%s': too large", s);
	*out = (uint64_t)v << shift;
	return 0;
}

int sbx_parse_double(const char *s, double *out, int allow_zero, struct sbx_error **err)
{
	if (s == NULL || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return sbx_error_set(err, 0, "'%s' is not a %s number", s ? s : "",
				     allow_zero ? "non-negative" : "positive");
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (errno == ERANGE || *end != '\0' || !isfinite(v))
		return sbx_error_set(err, 0, "'%s' is not a valid number", s);
	if (v < 0 || (!allow_zero && v == 0))
		return sbx_error_set(err, 0, "'%s' must be %s", s, allow_zero ? "zero or more" : "greater than zero");
	*out = v;
	return 0;
}
