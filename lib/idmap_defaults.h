/* The id mapping every part agrees on (docs/configuration.md, "Identity
 * mapping"): as root, container ids 0..SIZE-1 map onto host ids BASE.., and
 * the rootfs builder writes an image's files with the same shift, so that
 * ownership reads the same inside every sandbox. */
#ifndef SBX_IDMAP_DEFAULTS_H
#define SBX_IDMAP_DEFAULTS_H

#define SBX_DEFAULT_IDMAP_BASE 1000000000u /* 1e9: far above any login or subuid range */
#define SBX_DEFAULT_IDMAP_SIZE 65536u

#endif
