# sbx — build, test and install.  Each directory adds its own sources and
# targets in its module.mk; this file holds what they share.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc

PKGS := libseccomp libcap yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# `sbx` is linked statically: dynamic linking cost about 1 ms of every run
# and most of its resident set (docs/benchmarks.md).  The Debian -dev
# packages of tools/install-deps ship the static archives.  Sanitizer
# builds (SAN set: make asan, the fuzzers) need the dynamic runtime.
STATIC ?= $(if $(SAN),,-static)

OPT ?= -O2
SAN ?=
CFLAGS ?= $(OPT) -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fno-strict-aliasing -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(SAN)
override LDFLAGS += $(SAN) -Wl,--as-needed
LDLIBS := $(PKG_LIBS) -lm

# Filled by the module.mk files.
LIB_SRCS :=
PROGRAMS :=
CHECKS :=
CLEAN_EXTRA :=

.PHONY: all check clean install deps asan check-asan fixtures bench
.SECONDEXPANSION:
all: programs

LIB := $(BUILD)/libsbx.a

include $(sort $(wildcard */module.mk))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

programs: $(PROGRAMS)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-fault -name '*.d' 2>/dev/null)

# Everything `make check` runs; tests/run-suites prints one closing line.
check: programs $(CHECKS)
	./tests/run-suites $(BUILD)

# AddressSanitizer + UndefinedBehaviorSanitizer build in its own tree.
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" programs
check-asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" check

install: programs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

# Debian packages for building and testing; installs only what is missing.
deps:
	./tools/install-deps

clean:
	rm -rf $(BUILD) build-asan $(CLEAN_EXTRA)
