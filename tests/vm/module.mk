# tests/vm/: the pure cgroup v2 guest (docs/testing-vm.md).  make check runs
# it through tests/suites.d/vm; these targets run it alone.
# tests/module.mk, which includes this file, is itself read twice.
ifndef SBX_VM_MK
SBX_VM_MK := 1

.PHONY: check-vm check-vm-selftest vm-guest

# Kernel and initramfs, cached in build/vm/ (shared by sanitizer builds).
vm-guest:
	tests/vm/make-guest

check-vm: programs $(BUILD)/tests/integration fixtures vm-guest
	tests/suites.d/vm $(BUILD)

check-vm-selftest: vm-guest
	tests/vm/selftest

CHECKS += vm-guest
endif
