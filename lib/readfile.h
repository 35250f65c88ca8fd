/* Reading a whole file into memory, bounded. */
#ifndef SBX_READFILE_H
#define SBX_READFILE_H

#include <stddef.h>

/* Read fd to its end into a malloc'd, NUL-terminated buffer (*len bytes,
 * len may be NULL).  Returns 0, -EFBIG when there are more than `max`
 * bytes (nothing is returned then), or -errno of a failed read. */
int sbx_read_fd(int fd, size_t max, char **out, size_t *len);

#endif
