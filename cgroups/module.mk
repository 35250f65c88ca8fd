# cgroups/: the sandbox's cgroup (v2, v1 fallback), part of libsbx.
LIB_SRCS += $(wildcard cgroups/*.c)
