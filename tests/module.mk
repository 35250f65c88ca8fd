# tests/: Criterion suites.  unit/ needs no privileges; integration/ runs
# real sandboxes (skipping, with the reason, what this host cannot do).
CRITERION_LIBS := $(shell pkg-config --libs criterion 2>/dev/null)

UNIT_SRCS := $(wildcard tests/unit/*.c)
INTEG_SRCS := $(wildcard tests/integration/*.c) tests/integration/harness/harness.c
INTEG_SRCS := $(sort $(INTEG_SRCS))

$(BUILD)/tests/unit: $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CRITERION_LIBS)

$(BUILD)/tests/integration: $(INTEG_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CRITERION_LIBS)

# The probe runs inside sandboxes and reports what it sees; static, so it
# works in any rootfs.
$(BUILD)/sbx-probe: tests/helpers/sbx-probe.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -static -o $@ $<

# Test rootfs: Debian bookworm minbase with python3, pandas and numpy, made
# with mmdebstrap from Debian's mirror and cached under build/ (it does not
# depend on $(BUILD), so sanitizer builds share it).  The probe is copied in.
ROOTFS := build/rootfs
MIRROR ?= http://deb.debian.org/debian
build/rootfs/.sbx-fixture:
	rm -rf build/rootfs.tmp
	@mkdir -p build
	mmdebstrap --quiet --variant=minbase --include=python3,python3-pandas,python3-numpy \
		bookworm build/rootfs.tmp $(MIRROR)
	rm -rf build/rootfs
	mv build/rootfs.tmp build/rootfs
	touch $@
build/rootfs/usr/local/bin/sbx-probe: $(BUILD)/sbx-probe build/rootfs/.sbx-fixture
	install -m 0755 $< $@

fixtures: build/rootfs/.sbx-fixture build/rootfs/usr/local/bin/sbx-probe

CHECKS += $(BUILD)/tests/unit $(BUILD)/tests/integration fixtures
include tests/vm/module.mk
include tests/fuzz/module.mk
