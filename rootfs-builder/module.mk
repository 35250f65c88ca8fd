# rootfs-builder/: sbx-rootfs, container images to rootfs directories
# without dockerd.  The library part goes into libsbx (tests call it).
LIB_SRCS += $(filter-out rootfs-builder/main.c,$(wildcard rootfs-builder/*.c))
override CFLAGS += $(shell pkg-config --cflags libarchive jansson nettle 2>/dev/null)
LDLIBS += $(shell pkg-config --libs libarchive jansson nettle 2>/dev/null)

$(BUILD)/sbx-rootfs: $(BUILD)/obj/rootfs-builder/main.o $(BUILD)/libsbx.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

PROGRAMS += $(BUILD)/sbx-rootfs

# Test images for tests/integration/rootfs_import.c, made with umoci and
# skopeo (never committed).  umoci unpack keeps owners only as root; as
# another user the import tests skip, and so does this.
.PHONY: rootfs-fixtures
rootfs-fixtures:
	@if [ "$$(id -u)" -eq 0 ]; then tests/fixtures/rootfs/make-images.sh $(BUILD)/fixtures/rootfs; \
	else echo "rootfs-fixtures: not root, skipped"; fi

CHECKS += rootfs-fixtures

# The production sandbox image as a rootfs (RUN steps need build/sbx).
.PHONY: sandbox-rootfs
sandbox-rootfs: $(BUILD)/sbx-rootfs $(BUILD)/sbx
	$(BUILD)/sbx-rootfs build --network host -f Dockerfile.sandbox --out $(BUILD)/sandbox-rootfs --force
