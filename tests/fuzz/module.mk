# tests/fuzz/: libFuzzer harnesses for every parser of user or untrusted
# input (docs/security.md, "Fuzzing").  Included from tests/module.mk.
#
#   make fuzz-build          clang + ASan/UBSan/libFuzzer build into build/fuzz/
#   make fuzz SECONDS=N      run each harness N seconds (default 60)
#   make fuzz FUZZ=spec      only the named harnesses
#
# The library is rebuilt with clang in its own tree (build/fuzz-objs) by a
# recursive make; clang 14 warns where gcc does not, so -Wno-error there.
FUZZ_HARNESSES := $(sort $(patsubst tests/fuzz/%/,%,$(dir $(wildcard tests/fuzz/*/fuzz_*.c))))
FUZZ_OBJS_DIR := build/fuzz-objs
FUZZ_BIN_DIR := build/fuzz
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-error
FUZZ_CC ?= clang
SECONDS ?= 60
FUZZ ?= $(FUZZ_HARNESSES)

.PHONY: fuzz fuzz-build fuzz-harnesses
fuzz-build:
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) BUILD=$(FUZZ_OBJS_DIR) CC=$(FUZZ_CC) OPT=-O1 \
		SAN="$(FUZZ_SAN)" fuzz-harnesses

fuzz-harnesses: $(FUZZ_HARNESSES:%=$(FUZZ_BIN_DIR)/%)

# Only meaningful inside the recursive make above (CC=clang, SAN=fuzzer...).
define FUZZ_LINK
$(FUZZ_BIN_DIR)/$(1): $(BUILD)/obj/tests/fuzz/$(1)/fuzz_$(1).o $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS)
endef
$(foreach h,$(FUZZ_HARNESSES),$(eval $(call FUZZ_LINK,$(h))))

fuzz: fuzz-build
	tests/fuzz/run $(SECONDS) $(FUZZ)

CLEAN_EXTRA += $(FUZZ_OBJS_DIR) $(FUZZ_BIN_DIR)
include tests/soak/module.mk
