# seccomp/: YAML profiles compiled with libseccomp (see docs/seccomp.md).
#
# The default profile is compiled when sbx is built: seccomp-gen turns
# seccomp/profiles/default.yaml into a C file holding the YAML text (for
# `sbx seccomp export default`) and its BPF program, so a run with
# `--seccomp default` does no libseccomp work.
SECCOMP_CORE := seccomp/names.c seccomp/profile.c seccomp/bpf.c seccomp/build.c seccomp/compact.c seccomp/filter.c
SECCOMP_GEN_C := $(BUILD)/gen/seccomp/default.c

LIB_SRCS += $(SECCOMP_CORE) seccomp/compile.c seccomp/load.c seccomp/notify.c seccomp/cli.c \
	$(SECCOMP_GEN_C)

# The generator links only the core and lib/ (not libsbx.a, which contains
# its output).
$(BUILD)/seccomp-gen: $(BUILD)/obj/seccomp/gen-default.o $(SECCOMP_CORE:%.c=$(BUILD)/obj/%.o) \
		$(BASE_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SECCOMP_GEN_C): seccomp/profiles/default.yaml $(BUILD)/seccomp-gen
	@mkdir -p $(dir $@)
	$(BUILD)/seccomp-gen $< $@.tmp
	mv $@.tmp $@
