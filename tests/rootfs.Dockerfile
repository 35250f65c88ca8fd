# The test rootfs (build/rootfs), built by sbx's own image builder:
#   sbx-rootfs build -f tests/rootfs.Dockerfile --out build/rootfs .
# Debian bookworm with python3, pandas and numpy.  tests/module.mk then
# installs sbx-probe, the static helper the integration tests run inside
# sandboxes, and drops the image-config file: tests set exactly what each
# run gets.
FROM debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-numpy python3-pandas \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
