# rootfs-builder/: sbx-rootfs, container images to rootfs directories
# without dockerd.  The library part goes into libsbx (tests call it).
LIB_SRCS += $(filter-out rootfs-builder/main.c,$(wildcard rootfs-builder/*.c))
override CFLAGS += $(shell pkg-config --cflags libarchive jansson nettle 2>/dev/null)
LDLIBS += $(shell pkg-config --libs libarchive jansson nettle 2>/dev/null)

$(BUILD)/sbx-rootfs: $(BUILD)/obj/rootfs-builder/main.o $(BUILD)/libsbx.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

PROGRAMS += $(BUILD)/sbx-rootfs
