# tests/soak/: `make soak` (not part of `make check`): thousands of sandboxes
# in a row and in parallel, then leak checks (docs/security.md, "Soak").
#   make soak                              10000 + 2 x 5000 runs
#   make soak SOAK_RUNS=2000 SOAK_LOOP_RUNS=1000
# Results: build/soak/summary.md and build/soak/runs.csv.
SOAK_RUNS ?= 10000
SOAK_LOOPS ?= 2
SOAK_LOOP_RUNS ?= 5000
SOAK_ASAN_RUNS ?= 40

# The fd-leak shim is preloaded into the supervisor; not a library of sbx.
build/soak/fdcheck.so: tests/soak/fdcheck.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -shared -fPIC -o $@ $<

.PHONY: soak
soak: programs fixtures build/soak/fdcheck.so
	$(MAKE) asan
	tests/soak/soak.py --runs $(SOAK_RUNS) --loops $(SOAK_LOOPS) --loop-runs $(SOAK_LOOP_RUNS) \
		--asan-runs $(SOAK_ASAN_RUNS) --sbx $(BUILD)/sbx --asan-sbx build-asan/sbx --out build/soak
