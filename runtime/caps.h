#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include <stdbool.h>

#include "error.h"

/* Empty the bounding and ambient sets and lock the securebits so that
 * neither execve as uid 0 nor a setuid file can give capabilities back.
 * Needs CAP_SETPCAP, so it runs before the uid change. */
int sbx_caps_drop_bounding(struct sbx_error **err);
/* Empty the effective, permitted and inheritable sets, keeping only
 * CAP_KILL when keep_kill (pid 1 must still signal a workload that changed
 * its uid). */
int sbx_caps_clear(bool keep_kill, struct sbx_error **err);

#endif
