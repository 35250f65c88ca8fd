#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include <stdbool.h>

#include "lib/error.h"

/* Reduce the bounding set and empty the ambient set, and lock the
 * securebits so that neither execve as uid 0 nor a setuid file can give
 * capabilities back.  Needs CAP_SETPCAP, so it runs before the uid change.
 * With `build`, the bounding set keeps the build set (below) and uid 0
 * keeps getting it at execve, as image build steps (apt-get) need. */
int sbx_caps_drop_bounding(bool build, struct sbx_error **err);
/* Set the effective, permitted and inheritable sets to: nothing; only
 * CAP_KILL with keep_kill (pid 1 must still signal a workload that changed
 * its uid); or the build set with `build`. */
int sbx_caps_clear(bool keep_kill, bool build, struct sbx_error **err);

/* The capabilities an image build step keeps with --build-caps: Docker's
 * default set, all of them relative to the sandbox's user namespace. */
extern const int sbx_build_caps[];
extern const int sbx_n_build_caps;

#endif
