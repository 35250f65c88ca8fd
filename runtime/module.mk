# runtime/: the sbx library (everything but main.c) and the sbx program.
LIB_SRCS += $(filter-out runtime/main.c,$(wildcard runtime/*.c))

$(BUILD)/sbx: $(BUILD)/obj/runtime/main.o $(LIB)
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(if $(STATIC),$(SBX_STATIC_LIBS),$(LDLIBS))

PROGRAMS += $(BUILD)/sbx
LDLIBS += $(shell pkg-config --libs jansson 2>/dev/null)
# What a static sbx links: only the libraries it calls, with their own
# dependencies (pkg-config --static); nothing of them needs NSS.
SBX_STATIC_LIBS := $(shell pkg-config --static --libs $(PKGS) jansson 2>/dev/null) -lm

# build/sbx-fault: the same program with the test-only fault-injection seam
# (runtime/fault.h) compiled in.  Never installed.
FAULT_OBJS = $(patsubst %.c,$(BUILD)/obj-fault/%.o,$(LIB_SRCS) runtime/main.c)
$(BUILD)/obj-fault/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSBX_FAULT_INJECTION -MMD -MP -c $< -o $@
$(BUILD)/sbx-fault: $$(FAULT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
CHECKS += $(BUILD)/sbx-fault

# The zygote's Python source is assembled into the library (.incbin).
$(BUILD)/obj/runtime/pool_zygote.o $(BUILD)/obj-fault/runtime/pool_zygote.o: runtime/pool/zygote.py
