#!/usr/bin/python3
"""Several sbx binaries side by side: what each change of a series bought.

    bench/levers.py [--rounds N --runs N] [--floor] [--chart PNG] NAME=SBX_BINARY ...

Times `sbx run --rootfs build/rootfs -- /bin/true` for every binary, root
and rootless (uid 65534, --allow-no-cgroup: hyperfine itself runs as that
user, so no setpriv is timed), next to bubblewrap
with the same privilege, in the same hyperfine calls with the order rotated
each round (bench/measure.py), and prints one markdown table per privilege:
median, p25-p75, and the ratio to bubblewrap.  With --chart it also draws
the medians (bars p25-p75) with bench/report.py's chart.  Keep a copy of
each binary (make, then cp build/sbx /tmp/sbx-NAME): the binaries are the
levers, in the order given.  --floor adds bench/floor.c (built here): the
same kernel work without the cgroup and without anything of sbx's own,
loading the last binary's default seccomp program; the floor on this
machine.  Needs root; writes only its work directory (removed) and the
chart.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import report  # noqa: E402
import runners as rn  # noqa: E402

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


def commands(binaries, rootfs, rootless, floor=None):
    pre = rn.SETPRIV if rootless else []
    extra = ["--allow-no-cgroup"] if rootless else []
    cmds = {"bubblewrap": pre + ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind",
                                 rootfs, "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs",
                                 "/tmp", "/bin/true"]}
    for name, path in binaries:
        cmds[name] = pre + [path, "run", "--rootfs", rootfs] + extra + ["--", "/bin/true"]
    if floor:
        cmds["floor (bench/floor.c)"] = pre + [floor[0], rootfs, floor[1], "--", "/bin/true"]
    return cmds


def build_floor(work, sbx):
    """bench/floor.c, static, and the seccomp program it loads (sbx's)."""
    exe, bpf = os.path.join(work, "floor"), os.path.join(work, "default.bpf")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor.c")
    subprocess.run(["cc", "-O2", "-static", "-o", exe, src], check=True)
    with open(bpf, "wb") as f:
        subprocess.run([sbx, "seccomp", "export", "default", "--bpf"], stdout=f, check=True)
    os.chmod(work, 0o755)
    os.chmod(bpf, 0o644)
    return exe, bpf


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rootfs", default="build/rootfs")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--chart", help="PNG to draw")
    p.add_argument("--floor", action="store_true", help="add bench/floor.c, the prototype")
    p.add_argument("binaries", nargs="+", metavar="NAME=SBX_BINARY")
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("levers: run as root (sbx's root mode and setpriv need it)")
    binaries = [tuple(b.split("=", 1)) for b in args.binaries]
    for name, path in binaries:
        if not os.access(path, os.X_OK):
            sys.exit("levers: %s: %s is not executable" % (name, path))
    rootfs = os.path.abspath(args.rootfs)
    work = tempfile.mkdtemp(prefix="sbx-levers-")
    os.chmod(work, 0o755)  # the rootless hyperfine writes beneath it
    stats = {}
    try:
        floor = build_floor(work, binaries[-1][1]) if args.floor else None
        for rootless in (False, True):
            kind = "rootless" if rootless else "root"
            times, notes = measure.hyperfine_rounds(
                commands(binaries, rootfs, rootless, floor), args.rounds, args.runs, 2, ENV, work,
                kind, 1800, lambda m: print("levers: " + m, file=sys.stderr, flush=True),
                as_user=(rn.SETPRIV, rn.NOBODY))
            for n in notes:
                print("levers: " + n, file=sys.stderr)
            stats[kind] = {k: measure.quantiles(v) for k, v in times.items() if v}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("load average at the end: %s\n" % " ".join(open("/proc/loadavg").read().split()[:3]))
    names = [n for n, _ in binaries] + (["floor (bench/floor.c)"] if args.floor else []) + ["bubblewrap"]
    for kind in ("root", "rootless"):
        s = stats[kind]
        print("| %s | median, ms | p25–p75 | × bubblewrap |" % kind)
        print("|---|---:|---:|---:|")
        b = s["bubblewrap"][1]
        for n in names:
            if n in s:
                lo, mid, hi = s[n]
                print("| %s | %.2f | %.2f–%.2f | %.2f× |" % (n, mid * 1e3, lo * 1e3, hi * 1e3,
                                                          mid / b))
        print()
    if args.chart:
        rows = [(n, [tuple(x * 1e3 for x in stats[k][n]) if n in stats[k] else None
                     for k in ("root", "rootless")]) for n in names]
        report.write_chart(os.path.abspath(args.chart),
                           "sbx run /bin/true per lever: median, bars p25-p75", "milliseconds",
                           rows, ["root", "rootless"])
        os.remove(os.path.abspath(args.chart) + ".dat")


if __name__ == "__main__":
    main()
