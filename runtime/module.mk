# runtime/: the sbx library (everything but main.c) and the sbx program.
LIB_SRCS += $(filter-out runtime/main.c,$(wildcard runtime/*.c))

$(BUILD)/sbx: $(BUILD)/obj/runtime/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

PROGRAMS += $(BUILD)/sbx
LDLIBS += $(shell pkg-config --libs jansson 2>/dev/null)
