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

# Test rootfs: built by sbx's own image builder from tests/rootfs.Dockerfile
# (Debian bookworm from Debian's mirror with python3, pandas and numpy; files
# owned by the shifted id range, as every image sbx-rootfs makes), cached
# under build/ (shared by sanitizer builds).  Needs root: the FROM and RUN
# steps need ids a rootless builder has only with subordinate ranges.  The
# image-config file is dropped so that tests control each run's defaults.
# --network host: its RUN steps run apt-get against the mirror (a trusted
# base image; the default, loopback, gives steps none of the host's network).
ROOTFS := build/rootfs
build/rootfs/.sbx-fixture: tests/rootfs.Dockerfile | $(BUILD)/sbx $(BUILD)/sbx-rootfs
	$(BUILD)/sbx-rootfs build --quiet --network host -f tests/rootfs.Dockerfile --out build/rootfs --force .
	rm -f build/rootfs.image-config.json
	touch $@
build/rootfs/usr/local/bin/sbx-probe: $(BUILD)/sbx-probe build/rootfs/.sbx-fixture
	install -m 0755 $< $@

fixtures: build/rootfs/.sbx-fixture build/rootfs/usr/local/bin/sbx-probe

CHECKS += $(BUILD)/tests/unit $(BUILD)/tests/integration fixtures
include tests/vm/module.mk
include tests/fuzz/module.mk
