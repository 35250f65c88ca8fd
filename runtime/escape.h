/* Text that came from the sandbox (file names in /out, messages that carry
 * them) made safe for the JSON report and for the caller's terminal.
 *
 * The rule (docs/report.md): every byte that is not part of a printable
 * UTF-8 character is written as the four characters \xHH (upper-case hex),
 * and so is the backslash itself.  Not printable: invalid, overlong or
 * surrogate sequences, C0 controls, DEL and the C1 controls U+0080-U+009F.
 * Every other character stands for itself.  Decoding is therefore
 * unambiguous: replace each \xHH by the byte HH. */
#ifndef SBX_ESCAPE_H
#define SBX_ESCAPE_H

#include <stddef.h>

/* A malloc'd escaped copy of `s` (never NULL: aborts when out of memory). */
char *sbx_escape(const char *s);
/* The same, cut to at most `max` bytes (max >= 3) of escaped text: a longer
 * result keeps whole characters and escapes only and ends with "...". */
char *sbx_escape_max(const char *s, size_t max);

#endif
