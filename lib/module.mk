# lib/: what every part uses and nothing else (errors, cleanup, sizes,
# clocks, allocation, the image-config format, ...).  It includes no other
# folder; tools/check-layering keeps it so.  Its objects go into libsbx and,
# alone, into libsbx-base.a for programs that must not link the rest
# (seccomp-gen, whose output is part of libsbx).
BASE_SRCS := $(wildcard lib/*.c)
BASE_LIB := $(BUILD)/libsbx-base.a
LIB_SRCS += $(BASE_SRCS)

$(BASE_LIB): $(BASE_SRCS:%.c=$(BUILD)/obj/%.o)
	@rm -f $@
	$(AR) rcs $@ $^
