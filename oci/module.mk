# oci/: the OCI runtime mode (sbx create/start/state/kill/delete/run/
# features/spec): config.json read into the run's configuration, the
# container state under --root, the lifecycle.  Part of the sbx library.
LIB_SRCS += $(wildcard oci/*.c)

# tests/suites.d/oci runs the production image (Dockerfile.sandbox) through
# podman too: built once, like the test rootfs, and kept under build/
# (shared by sanitizer builds).
build/sandbox-rootfs/.sbx-fixture: Dockerfile.sandbox | $(BUILD)/sbx-rootfs $(BUILD)/sbx
	$(BUILD)/sbx-rootfs build --quiet --network host -f Dockerfile.sandbox --out build/sandbox-rootfs --force .
	touch $@ build/sandbox-rootfs/.sbx-built # tools/demo's marker: one build serves both
.PHONY: oci-fixtures
oci-fixtures: build/sandbox-rootfs/.sbx-fixture
CHECKS += oci-fixtures
