#!/usr/bin/python3
"""Write an OCI bundle (config.json) with the isolation `sbx run` gives as root.

Used by bench/run.py to give crun and runc the same sandbox as sbx:

  namespaces   user (ids 0-65535 -> host 1000000000-1000065535, like sbx as
               root), pid, network (new, loopback only), mount, uts, ipc, cgroup
  root         the rootfs, read-only
  mounts       fresh /proc (the same masked and read-only paths as sbx),
               /dev tmpfs with the runtime's default device nodes and
               a private devpts, /dev/shm and /tmp tmpfs of 64M, the binds
               read-only; no /sys (sbx mounts none)
  process      uid 0 inside, no capabilities in any set, no_new_privs,
               environment PATH only, hostname sbx
  seccomp      sbx's default profile, translated rule by rule from what it
               compiles to (`sbx seccomp export default --pfc`), so the peer
               loads the same allow-list and argument checks; denials fail
               with EPERM (sbx additionally answers and counts them)
  limits       memory 1G, no swap, 256 pids, 1 CPU (sbx's defaults), unless
               --no-cgroup

Standard library only.  Usage:
  oci_bundle.py --dir BUNDLE --rootfs DIR --sbx build/sbx [--bind SRC:DST]...
                [--no-cgroup] [--cgroup-path REL] -- ARGV...
"""
import argparse
import json
import os
import re
import subprocess
import sys

IDMAP_BASE = 1000000000
IDMAP_SIZE = 65536
MIB = 1024 * 1024


def seccomp_from_pfc(pfc):
    """Translate libseccomp's pseudo filter code into OCI seccomp rules.

    The PFC is a tree: range tests on $syscall, then per syscall either a
    bare action or nested argument tests, one condition per indentation
    level.  Each `action` line is one rule: the syscall plus every argument
    condition above it.  The halves of a 64-bit argument are tested
    separately (hi32, lo32) and are joined back into one comparison.
    """
    rules = []
    cur = None            # (name, indent of its `if ($syscall == N)`)
    conds = []            # stack of (indent, arg, half, mask, value)
    pending = None
    for line in pfc.splitlines():
        indent = len(line) - len(line.lstrip())
        s = line.strip()
        m = re.match(r'# filter for syscall "(\w+)"', s)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r'if \(\$syscall == \d+\)', s)
        if m and pending:
            cur, conds, pending = (pending, indent), [], None
            continue
        if cur is None:
            continue
        if indent <= cur[1]:
            cur = None
            continue
        conds = [c for c in conds if c[0] < indent]
        m = re.match(r'if \(\$a(\d)\.(hi32|lo32)(?: & (0x[0-9a-f]+))? == (\d+)\)', s)
        if m:
            mask = int(m.group(3), 16) if m.group(3) else 0xffffffff
            conds.append((indent, int(m.group(1)), m.group(2), mask, int(m.group(4))))
            continue
        m = re.match(r'action (ALLOW|ERRNO\((\d+)\));', s)
        if m:
            rules.append(_rule(cur[0], conds, m.group(2)))
            continue
        raise ValueError("unexpected line in the PFC: %r" % s)
    return rules


def _rule(name, conds, errno):
    args = {}
    for _, idx, half, mask, value in conds:
        a = args.setdefault(idx, [0, 0])
        shift = 32 if half == "hi32" else 0
        a[0] |= mask << shift
        a[1] |= value << shift
    rule = {"names": [name]}
    if errno is None:
        rule["action"] = "SCMP_ACT_ALLOW"
    else:
        rule["action"] = "SCMP_ACT_ERRNO"
        rule["errnoRet"] = int(errno)
    if args:
        rule["args"] = []
        for idx, (mask, value) in sorted(args.items()):
            if mask == 0xffffffffffffffff:
                rule["args"].append({"index": idx, "value": value, "op": "SCMP_CMP_EQ"})
            else:
                # OCI: value is the mask, valueTwo the datum (libseccomp's order).
                rule["args"].append({"index": idx, "value": mask, "valueTwo": value,
                                     "op": "SCMP_CMP_MASKED_EQ"})
    return rule


def merge_plain(rules):
    """One rule listing every syscall allowed without conditions."""
    plain = sorted(r["names"][0] for r in rules
                   if r["action"] == "SCMP_ACT_ALLOW" and "args" not in r)
    rest = [r for r in rules if r["action"] != "SCMP_ACT_ALLOW" or "args" in r]
    return [{"names": plain, "action": "SCMP_ACT_ALLOW"}] + rest


def config(args, rules):
    tmpfs_opts = ["nosuid", "nodev", "mode=1777", "size=%dk" % (64 * 1024)]
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=64k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": tmpfs_opts},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": tmpfs_opts},
    ]
    for b in args.bind:
        src, dst = b.split(":", 1)
        mounts.append({"destination": dst, "type": "bind", "source": os.path.abspath(src),
                       "options": ["rbind", "ro", "nosuid", "nodev"]})
    idmap = [{"containerID": 0, "hostID": IDMAP_BASE, "size": IDMAP_SIZE}]
    linux = {
        "namespaces": [{"type": t} for t in
                       ("user", "pid", "network", "mount", "uts", "ipc", "cgroup")],
        "uidMappings": idmap,
        "gidMappings": idmap,
        "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                        "/proc/latency_stats", "/proc/acpi", "/proc/scsi"],
        "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
                          "/proc/fs"],
        "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                    "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules},
    }
    if not args.no_cgroup:
        linux["cgroupsPath"] = args.cgroup_path
        linux["resources"] = {
            "memory": {"limit": 1024 * MIB, "swap": 1024 * MIB},  # swap = memory+swap
            "pids": {"limit": 256},
            "cpu": {"quota": 100000, "period": 100000},
        }
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args.argv,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {k: [] for k in
                             ("bounding", "effective", "inheritable", "permitted", "ambient")},
            "noNewPrivileges": True,
        },
        "root": {"path": os.path.abspath(args.rootfs), "readonly": True},
        "hostname": "sbx",
        "mounts": mounts,
        "linux": linux,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--rootfs", required=True)
    p.add_argument("--sbx", required=True, help="sbx binary (for its default profile)")
    p.add_argument("--bind", action="append", default=[])
    p.add_argument("--no-cgroup", action="store_true")
    p.add_argument("--cgroup-path", default="sbx-bench")
    p.add_argument("argv", nargs="+")
    args = p.parse_args()
    pfc = subprocess.run([args.sbx, "seccomp", "export", "default", "--pfc"], check=True,
                         capture_output=True, text=True).stdout
    rules = merge_plain(seccomp_from_pfc(pfc))
    os.makedirs(args.dir, exist_ok=True)
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump(config(args, rules), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
