# oci/: the OCI runtime mode (sbx create/start/state/kill/delete/run/
# features/spec): config.json read into the run's configuration, the
# container state under --root, the lifecycle.  Part of the sbx library.
LIB_SRCS += $(wildcard oci/*.c)
