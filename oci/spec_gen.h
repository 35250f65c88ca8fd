/* `sbx features` and `sbx spec`: what sbx accepts, told to clients. */
#ifndef SBX_OCI_SPEC_GEN_H
#define SBX_OCI_SPEC_GEN_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/error.h"

/* The runtime-spec "features" document (features.md of runtime-spec 1.1). */
void sbx_oci_features_print(FILE *f);
/* BUNDLE/config.json: a spec sbx runs as is (runc's template, minus what
 * sbx refuses); refuses to overwrite one. */
int sbx_oci_spec_write(const char *bundle, bool rootless, struct sbx_error **err);

#endif
