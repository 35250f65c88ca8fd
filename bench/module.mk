# bench/: `make bench` measures what isolation costs, layer by layer, next to
# bubblewrap, crun and runc, and rewrites docs/benchmarks.md; `make bench
# QUICK=1` is a one-minute check that only prints.  Needs root.  Never part
# of `make check`: nothing here fails for being slow.
BENCH_PY ?= /usr/bin/python3

bench: $(BUILD)/sbx build/rootfs/.sbx-fixture
	$(BENCH_PY) bench/run.py --sbx $(BUILD)/sbx --rootfs build/rootfs --work $(BUILD)/bench \
		$(if $(QUICK),--quick)
	$(BENCH_PY) bench/pool.py --sbx $(BUILD)/sbx --rootfs build/rootfs --work $(BUILD)/bench-pool \
		$(if $(QUICK),--quick)
